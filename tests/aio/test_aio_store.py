"""secitem.aio.AsyncCredentialStore: the store as coroutines; login with async
callbacks; its ordering under concurrent tasks (issue #18)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from secitem import (
    AsyncCredentialStore,
    Credential,
    CredentialStore,
    GenericPassword,
    Keychain,
    KeychainTimeoutError,
    PromptReason,
    _deadline,
)
from secitem.items import InvalidQueryError, QueryTypeError
from secitem.store import LoginCancelled, LoginFailed

ALICE = Credential("alice", "wonderland")


def _store(profile: str, **options: Any) -> AsyncCredentialStore:
    kc = Keychain(platform="ios" if profile == "ios" else "macos")
    return AsyncCredentialStore(service="svc", keychain=kc, **options)


def test_every_method_as_a_coroutine(profile: str) -> None:
    store = _store(profile, timeout=10)

    async def main() -> None:
        assert await store.get() is None
        await store.save(ALICE)
        assert await store.get("alice") == ALICE
        assert await store.get() == ALICE
        assert await store.accounts() == ["alice"]
        assert await store.adopt() == []
        assert await store.delete("alice") is True
        assert await store.delete() is False

    asyncio.run(main())


def test_construction() -> None:
    store = AsyncCredentialStore(server="api.example.com", timeout=2)
    assert store.timeout == 2.0 and store.store.server == "api.example.com"
    assert repr(store).startswith("AsyncCredentialStore(server='api.example.com'")
    sync = CredentialStore(service="svc")
    assert AsyncCredentialStore(store=sync).store is sync
    with pytest.raises(InvalidQueryError, match=r"^AsyncCredentialStore\(store=\.\.\.\)"):
        AsyncCredentialStore(store=sync, service="svc")
    with pytest.raises(QueryTypeError, match=r"^AsyncCredentialStore\(store=\.\.\.\)"):
        AsyncCredentialStore(store="svc")  # type: ignore[arg-type]
    with pytest.raises(InvalidQueryError, match=r"^CredentialStore\(timeout=\.\.\.\)"):
        AsyncCredentialStore(service="svc", timeout=0)
    with pytest.raises(InvalidQueryError, match=r"CredentialStore\(server=\.\.\. \| service"):
        AsyncCredentialStore()


@pytest.mark.parametrize("kind", ["async", "plain", "mixed"])
def test_login_with_plain_or_async_callbacks(profile: str, kind: str) -> None:
    store = _store(profile)
    asked: list[PromptReason] = []
    checked: list[str] = []

    def prompt_plain(reason: PromptReason) -> Credential | None:
        asked.append(reason)
        return Credential("alice", "wrong" if reason is PromptReason.MISSING else "wonderland")

    async def prompt_async(reason: PromptReason) -> Credential | None:
        await asyncio.sleep(0)
        return prompt_plain(reason)

    def authenticate_plain(credential: Credential) -> bool:
        checked.append(credential.password)
        return credential.password == "wonderland"

    async def authenticate_async(credential: Credential) -> bool:
        await asyncio.sleep(0)
        return authenticate_plain(credential)

    prompt: Any = prompt_plain if kind == "plain" else prompt_async
    authenticate: Any = authenticate_async if kind == "async" else authenticate_plain

    async def main() -> None:
        assert await store.login(prompt, authenticate) == ALICE
        assert asked == [PromptReason.MISSING, PromptReason.RETRY]
        assert checked == ["wrong", "wonderland"]
        assert await store.get("alice") == ALICE
        # Stored and accepted: no prompt, no write.
        assert await store.login(prompt, authenticate) == ALICE
        assert len(asked) == 2
        # Stored but rejected: prompted, then updated in place.
        await store.save(Credential("alice", "old"))
        assert await store.login(prompt, authenticate) == ALICE
        assert asked[2:] == [PromptReason.REJECTED]
        assert await store.accounts() == ["alice"]

    asyncio.run(main())


def test_login_outcomes_and_errors(profile: str) -> None:
    store = _store(profile)

    async def never(reason: PromptReason) -> Credential | None:
        return None

    async def always(reason: PromptReason) -> Credential | None:
        return ALICE

    async def reject(credential: Credential) -> bool:
        return False

    async def down(credential: Credential) -> bool:
        raise ConnectionError("network down")

    async def not_a_bool(credential: Credential) -> bool:
        return "yes"  # type: ignore[return-value]

    async def main() -> None:
        with pytest.raises(LoginCancelled) as cancelled:
            await store.login(never, reject)
        assert cancelled.value.reason is PromptReason.MISSING
        with pytest.raises(LoginFailed) as failed:
            await store.login(always, reject, max_attempts=2)
        assert failed.value.attempts == 2
        with pytest.raises(ConnectionError):
            await store.login(always, down)
        with pytest.raises(QueryTypeError, match=r"login\(authenticate\)"):
            await store.login(always, not_a_bool)
        with pytest.raises(QueryTypeError, match=r"login\(prompt\)"):
            await store.login("prompt", reject)  # type: ignore[arg-type]
        with pytest.raises(InvalidQueryError, match=r"login\(max_attempts=\.\.\.\)"):
            await store.login(always, reject, max_attempts=0)
        assert await store.accounts() == []  # nothing was written

    asyncio.run(main())


def test_one_login_at_a_time_per_store(profile: str) -> None:
    """Two tasks log in at once with nothing stored: the second waits for the
    first, then finds its credential and does not ask the user again."""
    store = _store(profile)
    asked: list[PromptReason] = []
    release = asyncio.Event

    async def main() -> None:
        typed = release()

        async def prompt(reason: PromptReason) -> Credential:
            asked.append(reason)
            await typed.wait()  # the user is typing
            return ALICE

        async def authenticate(credential: Credential) -> bool:
            return credential == ALICE

        first = asyncio.create_task(store.login(prompt, authenticate))
        second = asyncio.create_task(store.login(prompt, authenticate))
        while not asked:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # time for the second to prompt, were it not waiting
        assert asked == [PromptReason.MISSING]
        typed.set()
        assert await first == ALICE
        assert await second == ALICE
        assert asked == [PromptReason.MISSING]

    asyncio.run(main())


class _RecordingStore(CredentialStore):
    """Records when each save starts and ends on its worker thread."""

    log: list[tuple[str, str]]
    guard: threading.Lock

    def save(self, credential: Credential) -> None:
        with self.guard:
            self.log.append(("start", credential.password))
        time.sleep(0.02)  # widen the window another save could overlap
        super().save(credential)
        with self.guard:
            self.log.append(("end", credential.password))


def test_saves_run_one_at_a_time_in_call_order(profile: str) -> None:
    kc = Keychain(platform="ios" if profile == "ios" else "macos")
    sync = _RecordingStore(service="svc", keychain=kc)
    sync.log, sync.guard = [], threading.Lock()
    store = AsyncCredentialStore(store=sync)
    passwords = [f"pw{i}" for i in range(12)]

    async def main() -> None:
        await asyncio.gather(*(store.save(Credential("alice", p)) for p in passwords))

    asyncio.run(main())
    assert sync.log == [(event, p) for p in passwords for event in ("start", "end")]
    assert CredentialStore(service="svc", keychain=kc).get("alice") == Credential("alice", "pw11")


def test_a_timed_out_login_write_is_not_retried(profile: str, hang: Callable[..., None]) -> None:
    store = _store(profile, timeout=0.2)

    async def prompt(reason: PromptReason) -> Credential:
        return ALICE

    async def authenticate(credential: Credential) -> bool:
        return True

    async def main() -> None:
        hang("SecItemAdd")
        with pytest.raises(KeychainTimeoutError) as info:
            await store.login(prompt, authenticate)
        assert info.value.operation == "AsyncCredentialStore.login"
        assert info.value.started is True
        assert not _deadline.wait_idle(0)

    asyncio.run(main())
    hang("SecItemAdd", 0)
    assert _deadline.wait_idle(30)
    found = Keychain(platform=store.store.keychain.platform).find(GenericPassword(service="svc"))
    assert [i.attributes.account for i in found] == ["alice"]  # added once, late


def test_cancelling_a_login_while_the_user_types_changes_nothing(profile: str) -> None:
    store = _store(profile)

    async def main() -> None:
        typing = asyncio.Event()

        async def prompt(reason: PromptReason) -> Credential:
            typing.set()
            await asyncio.sleep(3600)
            return ALICE

        login = asyncio.create_task(store.login(prompt, lambda c: True))
        await typing.wait()
        login.cancel()
        with pytest.raises(asyncio.CancelledError):
            await login
        assert await store.accounts() == []

        async def quick(reason: PromptReason) -> Credential:
            return ALICE

        # The login lock was released: the next login goes ahead.
        assert await store.login(quick, lambda c: True) == ALICE

    asyncio.run(main())
