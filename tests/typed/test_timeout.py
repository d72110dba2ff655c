"""Deadlines: Keychain(timeout=...) and CredentialStore(timeout=...) (issue #18).

The emulator's ``secsim_set_delay`` plays a hung securityd.  No assertion
here depends on timing: a call that "returned before the delay ended" is
shown by the worker still being busy with it (``_deadline.wait_idle(0)`` is
False) when the exception arrives; the only time bound (< 4.5 s for a 5 s
hang) cannot be met if the deadline were ignored.
"""

from __future__ import annotations

import math
import pickle
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from secitem import (
    Credential,
    CredentialStore,
    GenericPassword,
    ItemNotFoundError,
    Keychain,
    KeychainError,
    KeychainTimeoutError,
    PromptReason,
    SecitemError,
    _deadline,
)
from secitem import security as S
from secitem.items import InvalidQueryError, QueryTypeError

pytestmark = pytest.mark.emulator_only


def _kc(profile: str, timeout: float | None = 0.2) -> Keychain:
    return Keychain(platform="ios" if profile == "ios" else "macos", timeout=timeout)


# -- validation ---------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False, "1", b"1", [1], 1j])
def test_timeout_of_the_wrong_type_is_refused_by_name(value: object) -> None:
    with pytest.raises(QueryTypeError, match=r"^Keychain\(timeout=\.\.\.\): expected seconds"):
        Keychain(timeout=value)  # type: ignore[arg-type]
    with pytest.raises(QueryTypeError, match=r"^CredentialStore\(timeout=\.\.\.\)"):
        CredentialStore(service="svc", timeout=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, 0.0, -1, -0.5, math.nan, math.inf, -math.inf, 10**400])
def test_timeout_that_is_not_a_positive_duration_is_refused_by_name(value: object) -> None:
    with pytest.raises(InvalidQueryError, match=r"^Keychain\(timeout=\.\.\.\): .*None for no"):
        Keychain(timeout=value)  # type: ignore[arg-type]
    with pytest.raises(InvalidQueryError, match=r"^CredentialStore\(timeout=\.\.\.\)"):
        CredentialStore(service="svc", timeout=value)  # type: ignore[arg-type]
    kc = Keychain()
    with pytest.raises(InvalidQueryError, match=r"^CredentialStore\(timeout=\.\.\.\)"):
        CredentialStore(service="svc", keychain=kc, timeout=value)  # type: ignore[arg-type]


def test_valid_timeouts() -> None:
    assert Keychain().timeout is None
    assert Keychain(timeout=2).timeout == 2.0
    assert Keychain(timeout=0.25).timeout == 0.25
    assert "timeout=0.25" in repr(Keychain(timeout=0.25))
    assert "timeout" not in repr(Keychain())
    # The store's deadline: its own, else its keychain's.
    assert CredentialStore(service="s", timeout=3).timeout == 3.0
    assert CredentialStore(service="s", keychain=Keychain(timeout=1.5)).timeout == 1.5
    assert CredentialStore(service="s", keychain=Keychain(timeout=1.5), timeout=4).timeout == 4.0
    assert CredentialStore(service="s").timeout is None
    assert CredentialStore(service="s", timeout=3).keychain.timeout == 3.0


def test_the_error_is_a_secitem_error_and_a_timeout_error_but_not_a_keychain_error() -> None:
    error = KeychainTimeoutError("Keychain.get", 0.2, started=False)
    assert isinstance(error, SecitemError)
    assert isinstance(error, TimeoutError)
    assert not isinstance(error, KeychainError)  # no OSStatus: Apple had not answered
    assert "Keychain.get did not finish within 0.2 s" in str(error)
    assert "nothing was sent" in str(error)
    assert error.hint is not None
    for cause in ("securityd", "prompt", "locked", "unlock-keychain"):
        assert cause in error.hint
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.operation, copy.timeout, copy.started, str(copy)) == (
        "Keychain.get",
        0.2,
        False,
        str(error),
    )
    assert "may or may not have happened" in str(KeychainTimeoutError("Keychain.add", 1))


# -- everything works through the pool ------------------------------------------


def test_every_keychain_method_works_with_a_timeout(profile: str) -> None:
    kc = _kc(profile, timeout=10)
    item = GenericPassword(service="svc", account="alice")
    ref = kc.add(item, "one")
    assert ref is not None
    assert kc.get(item).data == b"one"
    assert kc.secret(ref) == b"one"
    assert [i.attributes.account for i in kc.find(GenericPassword(service="svc"))] == ["alice"]
    kc.update(item, data="two")
    assert kc.upsert(item, "three") is False
    assert kc.secret(item) == b"three"
    assert kc.delete(item) is True
    # Errors come back as they are, from the worker thread.
    with pytest.raises(ItemNotFoundError):
        kc.get(item)
    assert kc.delete(item, missing_ok=True) is False
    with pytest.raises(QueryTypeError, match="query"):
        kc.get("not a query")  # type: ignore[call-overload]
    assert _deadline.threads() <= _deadline.MAX_WORKERS


def test_the_store_works_with_a_timeout(profile: str) -> None:
    store = CredentialStore(service="svc", keychain=_kc(profile, None), timeout=10)
    store.save(Credential("alice", "pw"))
    assert store.get("alice") == Credential("alice", "pw")
    assert store.get() == Credential("alice", "pw")
    assert store.accounts() == ["alice"]
    assert store.adopt() == []
    asked: list[PromptReason] = []

    def prompt(reason: PromptReason) -> Credential:
        asked.append(reason)
        return Credential("alice", "new")

    assert store.login(prompt, lambda c: c.password == "new").password == "new"
    assert asked == [PromptReason.REJECTED]
    assert store.get("alice") == Credential("alice", "new")
    assert store.delete() is True


# -- a hung securityd ---------------------------------------------------------------


def test_a_hung_read_times_out_before_the_hang_ends(
    profile: str, hang: Callable[[str], None]
) -> None:
    kc = _kc(profile)
    item = GenericPassword(service="svc", account="alice")
    kc.add(item, "pw")
    hang("SecItemCopyMatching")
    began = time.monotonic()
    with pytest.raises(KeychainTimeoutError) as info:
        kc.get(item)
    elapsed = time.monotonic() - began
    assert not _deadline.wait_idle(0), "the native call should still be hanging"
    assert elapsed < 4.5  # cannot hold if the 5 s hang were waited for
    error = info.value
    assert error.operation == "Keychain.get"
    assert error.timeout == 0.2
    assert error.started is True
    assert error.hint is not None and "securityd" in error.hint


def test_a_call_waiting_behind_a_hung_one_times_out_and_sends_nothing(
    profile: str, hang: Callable[[str], None]
) -> None:
    """The call lock is held by the hung call: the next one gives up at its own
    deadline while waiting for it, so nothing was sent (started=False)."""
    kc = _kc(profile)
    item = GenericPassword(service="svc", account="alice")
    hang("SecItemCopyMatching")

    def read_without_deadline() -> None:
        with pytest.raises(ItemNotFoundError):
            S.SecItemCopyMatching({S.kSecClass: S.kSecClassGenericPassword})

    stuck = threading.Thread(target=read_without_deadline)
    stuck.start()  # no deadline: it holds the call lock for the whole hang
    try:
        while not S._call_lock.locked():
            time.sleep(0.005)
        with pytest.raises(KeychainTimeoutError) as info:
            kc.add(item, "pw")
        assert info.value.started is False
        assert "nothing was sent" in str(info.value)
    finally:
        hang("SecItemCopyMatching", 0)
        stuck.join()
    assert _deadline.wait_idle(30)
    # The add was never made, and is not made later.
    assert Keychain(platform=kc.platform).find(GenericPassword(service="svc")) == []


def test_a_timed_out_add_that_succeeds_later_is_not_repeated(
    profile: str, hang: Callable[[str], None]
) -> None:
    kc = _kc(profile)
    store = CredentialStore(service="svc", keychain=kc)
    hang("SecItemAdd")
    with pytest.raises(KeychainTimeoutError) as info:
        store.save(Credential("alice", "pw"))
    assert info.value.operation == "CredentialStore.save"
    assert info.value.started is True  # the add may or may not happen
    hang("SecItemAdd", 0)  # securityd recovers: the stuck add completes
    assert _deadline.wait_idle(30)
    found = Keychain(platform=kc.platform).find(GenericPassword(service="svc"), data=True)
    assert [(i.attributes.account, i.data) for i in found] == [("alice", b"pw")]


def test_a_timed_out_upsert_is_not_continued_after_its_late_duplicate(
    profile: str, hang: Callable[[str], None]
) -> None:
    """upsert = add, then update on DuplicateItemError.  When the add times out and
    later reports the duplicate, the update must not follow behind the caller's back."""
    kc = _kc(profile)
    item = GenericPassword(service="svc", account="alice")
    kc.add(item, "old")
    hang("SecItemAdd")
    with pytest.raises(KeychainTimeoutError):
        kc.upsert(item, "new")
    hang("SecItemAdd", 0)
    assert _deadline.wait_idle(30)
    assert Keychain(platform=kc.platform).secret(item) == b"old"


def test_login_times_out_on_its_keychain_step_not_on_the_prompt(
    profile: str, hang: Callable[[str], None]
) -> None:
    store = CredentialStore(service="svc", keychain=_kc(profile, None), timeout=0.2)
    prompted: list[PromptReason] = []

    def slow_prompt(reason: PromptReason) -> Credential:
        prompted.append(reason)
        time.sleep(0.5)  # longer than the timeout: the user takes their time
        return Credential("alice", "pw")

    assert store.login(slow_prompt, lambda c: True) == Credential("alice", "pw")
    store.delete()
    hang("SecItemCopyMatching")
    with pytest.raises(KeychainTimeoutError) as info:
        store.login(slow_prompt, lambda c: True)
    assert info.value.operation == "CredentialStore.login"
    assert prompted == [PromptReason.MISSING]  # not asked the second time


def test_a_thousand_timed_out_calls_use_a_bounded_number_of_threads(
    hang: Callable[[str], None], sim: Any
) -> None:
    kc = Keychain(timeout=0.02)
    item = GenericPassword(service="svc", account="alice")
    baseline = threading.active_count()
    before = sim.lib.secsim_live_objects()
    hang("SecItemCopyMatching")
    errors: list[BaseException] = []
    peak = [0]

    def caller() -> None:
        for _ in range(50):
            try:
                kc.get(item)
            except BaseException as exc:
                errors.append(exc)
            peak[0] = max(peak[0], _deadline.threads())

    callers = [threading.Thread(target=caller) for _ in range(20)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert len(errors) == 1000
    assert all(isinstance(e, KeychainTimeoutError) for e in errors)
    # Never more than MAX_WORKERS workers, whatever the number of calls.
    assert peak[0] <= _deadline.MAX_WORKERS
    assert threading.active_count() <= baseline + _deadline.MAX_WORKERS
    hang("SecItemCopyMatching", 0)
    assert _deadline.wait_idle(30)
    assert sim.lib.secsim_live_objects() == before


def test_a_deadline_is_per_operation_and_a_free_worker_serves_the_next_call(
    profile: str, hang: Callable[[str], None]
) -> None:
    """After a timed-out call, calls of other functions still hang behind it (the
    simulated securityd is stuck), then work again once it recovers."""
    kc = _kc(profile)
    item = GenericPassword(service="svc", account="alice")
    kc.add(item, "pw")
    hang("SecItemDelete")
    with pytest.raises(KeychainTimeoutError):
        kc.delete(item)
    with pytest.raises(KeychainTimeoutError) as info:
        kc.get(item)  # waits for the lock the stuck delete holds
    assert info.value.started is False
    hang("SecItemDelete", 0)
    assert _deadline.wait_idle(30)
    with pytest.raises(ItemNotFoundError):
        kc.get(item)  # the late delete happened; this read says so
