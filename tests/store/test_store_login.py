"""CredentialStore.login: every branch of the flow, with faults injected in the emulator."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from secitem import security as S
from secitem.errors import (
    AuthFailedError,
    InteractionNotAllowedError,
    KeychainError,
    UserCanceledError,
)
from secitem.items import AccessControlFlags, Accessible, QueryTypeError
from secitem.keychain import Keychain
from secitem.store import (
    AmbiguousAccountError,
    Credential,
    CredentialStore,
    LoginCancelled,
    LoginError,
    LoginFailed,
    PromptReason,
)

SVC = "org.example.login"
errSecWrPerm = -61


class User:
    """A scripted user: answers prompts from a list, records the reasons."""

    def __init__(self, *answers: Credential | None) -> None:
        self.answers = list(answers)
        self.reasons: list[PromptReason] = []

    def __call__(self, reason: PromptReason) -> Credential | None:
        self.reasons.append(reason)
        return self.answers.pop(0)


class Server:
    """Accepts the credentials in ``valid``; records what it was asked."""

    def __init__(self, *valid: Credential, during: Callable[[], None] | None = None) -> None:
        self.valid = set(valid)
        self.seen: list[Credential] = []
        self.during = during

    def __call__(self, credential: Credential) -> bool:
        self.seen.append(credential)
        if self.during is not None:
            self.during()
        return credential in self.valid


@pytest.fixture
def store(kc: Keychain) -> CredentialStore:
    return CredentialStore(server="api.example.com", keychain=kc)


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the SecItem write calls made (the calls still happen)."""
    calls: list[str] = []
    for name in ("SecItemAdd", "SecItemUpdate", "SecItemDelete"):
        real = getattr(S, name)

        def spy(*args: Any, _real: Any = real, _name: str = name) -> Any:
            calls.append(_name)
            return _real(*args)

        monkeypatch.setattr(S, name, spy)
    return calls


ALICE = Credential("alice", "old-password")
ALICE_NEW = Credential("alice", "new-password")


def test_stored_and_accepted_asks_nobody(store: CredentialStore, writes: list[str]) -> None:
    store.save(ALICE)
    writes.clear()
    user = User()
    server = Server(ALICE)
    assert store.login(user, server) == ALICE
    assert user.reasons == []
    assert server.seen == [ALICE]
    assert writes == []


def test_nothing_stored_prompts_then_adds(store: CredentialStore) -> None:
    user = User(ALICE)
    server = Server(ALICE, during=lambda: seen_during.append(store.get()))
    seen_during: list[Credential | None] = []
    assert store.login(user, server) == ALICE
    assert user.reasons == [PromptReason.MISSING]
    assert seen_during == [None]  # stored only after the server accepted it
    assert store.get() == ALICE


def test_prompted_credential_rejected_then_retry(store: CredentialStore) -> None:
    typo = Credential("alice", "oops")
    user = User(typo, ALICE)
    assert store.login(user, Server(ALICE)) == ALICE
    assert user.reasons == [PromptReason.MISSING, PromptReason.RETRY]
    assert store.get() == ALICE


def test_stored_rejected_prompts_and_updates_in_place(
    store: CredentialStore, kc: Keychain, writes: list[str]
) -> None:
    store.save(ALICE)
    [before] = kc.find(store.query)
    writes.clear()
    stored_during: list[Credential | None] = []
    server = Server(ALICE_NEW, during=lambda: stored_during.append(store.get()))
    user = User(ALICE_NEW)
    assert store.login(user, server) == ALICE_NEW
    assert user.reasons == [PromptReason.REJECTED]
    assert server.seen == [ALICE, ALICE_NEW]
    # the old credential stayed while the new one was being checked
    assert stored_during == [ALICE, ALICE]
    [after] = kc.find(store.query)
    assert after.persistent_ref == before.persistent_ref  # same item, updated in place
    assert store.get() == ALICE_NEW
    assert "SecItemDelete" not in writes and "SecItemAdd" not in writes


def test_rejected_then_retry_then_update(store: CredentialStore) -> None:
    store.save(ALICE)
    user = User(Credential("alice", "typo"), ALICE_NEW)
    assert store.login(user, Server(ALICE_NEW)) == ALICE_NEW
    assert user.reasons == [PromptReason.REJECTED, PromptReason.RETRY]
    assert store.get() == ALICE_NEW


def test_rejected_and_user_switches_account(store: CredentialStore, kc: Keychain) -> None:
    store.save(ALICE)
    [before] = kc.find(store.query)
    bob = Credential("bob", "bobs-password")
    assert store.login(User(bob), Server(bob)) == bob
    assert store.accounts() == ["bob"]
    [after] = kc.find(store.query)
    assert after.persistent_ref == before.persistent_ref  # renamed in place
    assert store.get() == bob


def test_rejected_and_new_account_already_stored(store: CredentialStore) -> None:
    store.save(ALICE)
    bob = Credential("bob", "bobs-new-password")
    store.save(Credential("bob", "bobs-old-password"))
    assert store.login(User(bob), Server(bob), account="alice") == bob
    assert store.accounts() == ["bob"]
    assert store.get() == bob


def test_failed_clean_up_after_the_new_credential_was_stored(
    store: CredentialStore, sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """issue #11 item 8: when deleting the rejected item fails after the accepted
    credential was written, login raised (an exception, yet the keychain had changed).
    Now the login finishes: it returns the accepted credential, which is stored, and
    logs the failed clean-up at WARNING without any password."""
    store.save(ALICE)
    bob = Credential("bob", "bobs-new-password")
    store.save(Credential("bob", "bobs-old-password"))
    sim.lib.secsim_fail_next(b"SecItemDelete", errSecWrPerm)
    with caplog.at_level(logging.DEBUG, logger="secitem"):
        assert store.login(User(bob), Server(bob), account="alice") == bob
    assert store.get("bob") == bob  # the accepted credential is stored
    assert store.accounts() == ["alice", "bob"]  # the rejected one could not be dropped
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.name == "secitem.store" and "could not be deleted" in warning.getMessage()
    for record in caplog.records:
        text = record.getMessage()
        for secret in ("old-password", "bobs-new-password", "bobs-old-password"):
            assert secret not in text
    assert store.delete("alice") is True  # what the warning says to do works


def test_account_argument_selects_the_stored_credential(store: CredentialStore) -> None:
    store.save(ALICE)
    store.save(Credential("bob", "b"))
    with pytest.raises(AmbiguousAccountError):
        store.login(User(), Server())
    assert store.login(User(), Server(ALICE), account="alice") == ALICE
    user = User(Credential("carol", "c"))
    assert store.login(user, Server(Credential("carol", "c")), account="carol").account == "carol"
    assert user.reasons == [PromptReason.MISSING]
    assert store.accounts() == ["alice", "bob", "carol"]


@pytest.mark.parametrize("stored", [False, True])
def test_user_gives_up(store: CredentialStore, writes: list[str], stored: bool) -> None:
    if stored:
        store.save(ALICE)
    writes.clear()
    with pytest.raises(LoginCancelled) as info:
        store.login(User(None), Server())
    reason = PromptReason.REJECTED if stored else PromptReason.MISSING
    assert info.value.reason is reason
    assert info.value.attempts == 0
    assert writes == []
    assert store.get() == (ALICE if stored else None)  # unchanged


def test_user_gives_up_after_a_retry(store: CredentialStore) -> None:
    with pytest.raises(LoginCancelled) as info:
        store.login(User(Credential("alice", "typo"), None), Server(ALICE))
    assert info.value.reason is PromptReason.RETRY
    assert info.value.attempts == 1
    assert store.get() is None


@pytest.mark.parametrize("stored", [False, True])
def test_max_attempts(store: CredentialStore, writes: list[str], stored: bool) -> None:
    if stored:
        store.save(ALICE)
    writes.clear()
    wrong = [Credential("alice", f"wrong-{i}") for i in range(5)]
    user = User(*wrong)
    with pytest.raises(LoginFailed) as info:
        store.login(user, Server(ALICE_NEW), max_attempts=2)
    assert isinstance(info.value, LoginError)
    assert info.value.attempts == 2
    assert len(user.reasons) == 2
    assert user.reasons[-1] is PromptReason.RETRY
    assert writes == []
    assert store.get() == (ALICE if stored else None)


@pytest.mark.parametrize("stored", [False, True])
def test_authenticate_exception_propagates_and_changes_nothing(
    store: CredentialStore, writes: list[str], stored: bool
) -> None:
    if stored:
        store.save(ALICE)
    writes.clear()

    def network_down(credential: Credential) -> bool:
        raise ConnectionError("network unreachable")

    with pytest.raises(ConnectionError):
        store.login(User(ALICE_NEW), network_down)
    assert writes == []
    assert store.get() == (ALICE if stored else None)


def test_authenticate_fails_while_checking_the_new_credential(store: CredentialStore) -> None:
    store.save(ALICE)
    calls = []

    def flaky(credential: Credential) -> bool:
        calls.append(credential)
        if len(calls) == 2:
            raise TimeoutError("server timed out")
        return False

    with pytest.raises(TimeoutError):
        store.login(User(ALICE_NEW), flaky)
    assert store.get() == ALICE


def test_a_failed_update_leaves_the_old_credential(store: CredentialStore, sim: Any) -> None:
    store.save(ALICE)
    sim.lib.secsim_fail_next(b"SecItemUpdate", errSecWrPerm)
    with pytest.raises(KeychainError) as info:
        store.login(User(ALICE_NEW), Server(ALICE_NEW))
    assert info.value.status == errSecWrPerm
    assert store.get() == ALICE


def test_a_failed_add_stores_nothing(store: CredentialStore, sim: Any) -> None:
    sim.lib.secsim_fail_next(b"SecItemAdd", errSecWrPerm)
    with pytest.raises(KeychainError) as info:
        store.login(User(ALICE), Server(ALICE))
    assert info.value.status == errSecWrPerm
    assert store.get() is None


def test_item_deleted_by_someone_else_during_login(store: CredentialStore) -> None:
    store.save(ALICE)
    server = Server(ALICE_NEW, during=lambda: store.delete() if len(server.seen) == 2 else None)
    assert store.login(User(ALICE_NEW), server) == ALICE_NEW
    assert store.get() == ALICE_NEW


def test_locked_device(sim: Any) -> None:
    sim.lib.secsim_set_profile(b"ios")
    store = CredentialStore(
        service=SVC, accessible=Accessible.WHEN_UNLOCKED, keychain=Keychain(platform="ios")
    )
    store.save(ALICE)
    sim.lib.secsim_set_locked(1)
    user = User()
    with pytest.raises(InteractionNotAllowedError) as info:
        store.login(user, Server(ALICE))
    assert user.reasons == []  # never mistaken for "nothing stored"
    assert info.value.status == -25308
    assert info.value.hint is not None and "Unlock" in info.value.hint
    sim.lib.secsim_set_locked(0)
    assert store.login(user, Server(ALICE)) == ALICE


@pytest.mark.parametrize(("response", "error"), [(1, UserCanceledError), (2, AuthFailedError)])
def test_user_presence_refused(sim: Any, response: int, error: type[KeychainError]) -> None:
    sim.lib.secsim_set_profile(b"ios")
    store = CredentialStore(
        service=SVC,
        access_control=AccessControlFlags.USER_PRESENCE,
        keychain=Keychain(platform="ios"),
    )
    store.save(ALICE)
    assert store.accounts() == ["alice"]  # metadata needs no user presence
    sim.lib.secsim_set_user_response(response)
    user = User(ALICE_NEW)
    with pytest.raises(error):
        store.login(user, Server(ALICE))
    assert user.reasons == []
    sim.lib.secsim_set_user_response(0)
    assert store.login(user, Server(ALICE)) == ALICE


def test_user_presence_item_without_entitlement(sim: Any) -> None:
    """macOS, unsigned interpreter: access control needs the data-protection keychain."""
    sim.lib.secsim_set_profile(b"macos")
    store = CredentialStore(
        service=SVC,
        access_control=AccessControlFlags.USER_PRESENCE,
        keychain=Keychain(platform="macos"),
    )
    with pytest.raises(KeychainError) as info:
        store.login(User(ALICE), Server(ALICE))
    assert info.value.status == -34018
    assert info.value.hint is not None and "entitlement" in info.value.hint


def test_callbacks_must_keep_their_contract(store: CredentialStore) -> None:
    with pytest.raises(QueryTypeError, match="Credential or None"):
        store.login(lambda reason: ("alice", "pw"), Server())  # type: ignore[arg-type,return-value]
    with pytest.raises(QueryTypeError, match="True or False"):
        store.login(User(ALICE), lambda c: "yes")  # type: ignore[arg-type,return-value]
    assert store.get() is None


def test_logout_forgets_all_it_can_when_one_delete_fails(store: CredentialStore, sim: Any) -> None:
    """issue #11 item 8, same class in delete(): the first failing deletion stopped the
    logout, leaving the other accounts stored.  Now every item is tried and the first
    error is raised at the end."""
    store.save(ALICE)
    store.save(Credential("bob", "b"))
    sim.lib.secsim_fail_next(b"SecItemDelete", errSecWrPerm)
    with pytest.raises(KeychainError) as info:
        store.delete()
    assert info.value.status == errSecWrPerm
    assert len(store.accounts()) == 1  # the other one is gone
    assert store.delete() is True
    assert store.accounts() == []
