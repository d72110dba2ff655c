"""secitem.aio.AsyncKeychain: the typed layer as coroutines, off the event loop (issue #18)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from secitem import (
    AsyncKeychain,
    GenericPassword,
    ItemNotFoundError,
    Keychain,
    KeychainTimeoutError,
    _deadline,
)
from secitem.items import InvalidQueryError, QueryTypeError

ITEM = GenericPassword(service="svc", account="alice")


def _akc(profile: str, timeout: float | None = None) -> AsyncKeychain:
    return AsyncKeychain(platform="ios" if profile == "ios" else "macos", timeout=timeout)


def test_every_method_as_a_coroutine(profile: str) -> None:
    kc = _akc(profile)

    async def main() -> None:
        ref = await kc.add(ITEM, "one")
        assert ref is not None
        assert (await kc.get(ITEM)).data == b"one"
        assert (await kc.get(ITEM, data=False)).data is None
        assert await kc.secret(ref) == b"one"
        found = await kc.find(GenericPassword(service="svc"), data=True, limit=5)
        assert [(i.attributes.account, i.data) for i in found] == [("alice", b"one")]
        await kc.update(ITEM, data="two", label="new label")
        assert (await kc.get(ITEM)).attributes.label == "new label"
        assert await kc.upsert(ITEM, "three") is False
        assert await kc.secret(ITEM) == b"three"
        assert await kc.delete(ITEM) is True
        assert await kc.delete(ITEM, missing_ok=True) is False
        assert await kc.find(ITEM) == []

    asyncio.run(main())


def test_the_same_errors(profile: str) -> None:
    kc = _akc(profile, timeout=10)

    async def main() -> None:
        with pytest.raises(ItemNotFoundError):
            await kc.get(ITEM)
        with pytest.raises(QueryTypeError, match="query"):
            await kc.get("svc")  # type: ignore[call-overload]
        with pytest.raises(InvalidQueryError, match=r"find\(limit=\.\.\.\)"):
            await kc.find(ITEM, limit=0)

    asyncio.run(main())


def test_construction() -> None:
    kc = AsyncKeychain(timeout=1.5)
    assert kc.timeout == 1.5 and isinstance(kc.keychain, Keychain)
    assert repr(kc).startswith("AsyncKeychain(") and "timeout=1.5" in repr(kc)
    wrapped = Keychain(platform="ios")
    assert AsyncKeychain(keychain=wrapped).keychain is wrapped
    assert AsyncKeychain(keychain=wrapped).platform == "ios"
    assert AsyncKeychain(keychain=wrapped).data_protection is True
    with pytest.raises(QueryTypeError, match=r"^AsyncKeychain\(timeout=\.\.\.\)"):
        AsyncKeychain(timeout=True)
    with pytest.raises(InvalidQueryError, match=r"^AsyncKeychain\(timeout=\.\.\.\)"):
        AsyncKeychain(timeout=-1)
    with pytest.raises(InvalidQueryError, match=r"^AsyncKeychain\(keychain=\.\.\.\)"):
        AsyncKeychain(keychain=wrapped, timeout=1)
    with pytest.raises(QueryTypeError, match=r"^AsyncKeychain\(keychain=\.\.\.\)"):
        AsyncKeychain(keychain="login")  # type: ignore[arg-type]


def test_the_event_loop_runs_while_a_call_hangs_and_cancelling_returns_at_once(
    profile: str, hang: Callable[..., None]
) -> None:
    kc = _akc(profile)  # no timeout: only cancellation ends the wait
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def main() -> None:
        await kc.add(ITEM, "pw")
        hang("SecItemCopyMatching")
        clock = asyncio.create_task(ticker())
        read = asyncio.create_task(kc.get(ITEM))
        while ticks < 10:  # the loop is free while the read hangs on a worker
            await asyncio.sleep(0.01)
        assert not read.done()
        read.cancel()
        with pytest.raises(asyncio.CancelledError):
            await read
        assert not _deadline.wait_idle(0)  # the native call is still hanging
        clock.cancel()

    asyncio.run(main())
    hang("SecItemCopyMatching", 0)  # the late result is released by the worker
    assert _deadline.wait_idle(30)


def test_a_hung_call_times_out(profile: str, hang: Callable[..., None]) -> None:
    kc = _akc(profile, timeout=0.2)

    async def main() -> None:
        await kc.add(ITEM, "pw")
        hang("SecItemCopyMatching")
        began = time.monotonic()
        with pytest.raises(KeychainTimeoutError) as info:
            await kc.get(ITEM)
        assert time.monotonic() - began < 4.5  # not the 5 s hang
        assert not _deadline.wait_idle(0)
        assert info.value.operation == "AsyncKeychain.get"
        assert info.value.started is True
        # Waiting behind the hung call: nothing is sent, and it says so.
        with pytest.raises(KeychainTimeoutError) as info:
            await kc.delete(ITEM)
        assert info.value.started is False

    asyncio.run(main())
    hang("SecItemCopyMatching", 0)
    assert _deadline.wait_idle(30)
    assert Keychain(platform=kc.platform).secret(ITEM) == b"pw"  # the delete never ran


def test_a_cancelled_add_that_succeeds_later_is_not_repeated(
    profile: str, hang: Callable[..., None]
) -> None:
    kc = _akc(profile)

    async def main() -> None:
        hang("SecItemAdd")
        add = asyncio.create_task(kc.upsert(ITEM, "pw"))
        await asyncio.sleep(0.2)
        add.cancel()
        with pytest.raises(asyncio.CancelledError):
            await add

    asyncio.run(main())
    hang("SecItemAdd", 0)
    assert _deadline.wait_idle(30)
    found = Keychain(platform=kc.platform).find(GenericPassword(service="svc"), data=True)
    assert [(i.attributes.account, i.data) for i in found] == [("alice", b"pw")]


def test_many_cancelled_calls_leave_bounded_threads_and_no_objects(
    hang: Callable[..., None], sim: Any
) -> None:
    import threading

    kc = AsyncKeychain(timeout=0.05)
    baseline = threading.active_count()
    before = sim.lib.secsim_live_objects()

    async def main() -> list[BaseException | object]:
        hang("SecItemCopyMatching")
        calls = [asyncio.create_task(kc.get(ITEM)) for _ in range(300)]
        await asyncio.sleep(0.01)
        for call in calls[::2]:
            call.cancel()
        return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = asyncio.run(main())
    cancelled = [o for o in outcomes if isinstance(o, asyncio.CancelledError)]
    timed_out = [o for o in outcomes if isinstance(o, KeychainTimeoutError)]
    assert len(cancelled) + len(timed_out) == 300 and len(cancelled) >= 1
    assert _deadline.threads() <= _deadline.MAX_WORKERS
    assert threading.active_count() <= baseline + _deadline.MAX_WORKERS
    hang("SecItemCopyMatching", 0)
    assert _deadline.wait_idle(30)
    assert sim.lib.secsim_live_objects() == before
