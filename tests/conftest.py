"""Shared fixtures: the emulator library, its controls, and the leak check.

Unless ``SECITEM_LIBRARY`` is already set (CI's sanitizer run sets it), the
emulator is built once and ``SECITEM_LIBRARY`` points ``secitem`` at it
before any test imports the binding.  On macOS (or iOS, in the simulator
job) without ``SECITEM_LIBRARY`` the tests run against the real Security
framework: only tests marked ``macos`` run there, and the emulator-only
checks are skipped with a reason.

After every test the emulator's keychain is emptied and its count of live
CoreFoundation objects must be back where it was before the test: any
Create/Copy result the code under test did not release fails the test.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import simlib

if TYPE_CHECKING:
    from secitem.keychain import Keychain

REAL_FRAMEWORK = sys.platform in ("darwin", "ios") and not os.environ.get("SECITEM_LIBRARY")

if not REAL_FRAMEWORK and not os.environ.get("SECITEM_LIBRARY"):
    from secitem.testing.emulator import build

    os.environ["SECITEM_LIBRARY"] = str(build())


class Sim:
    """The emulator's C functions (``lib``) and its cffi instance (``ffi``)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.ffi, self.lib = simlib.load(path)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.lib, name)


#: The four SecItem functions (``hang`` can delay them, ``no_native`` refuses them).
SEC_ITEM_FUNCTIONS = ("SecItemAdd", "SecItemCopyMatching", "SecItemUpdate", "SecItemDelete")
#: How long ``hang`` makes a function sleep.
HANG_MS = 5000


def _sim_or_none() -> Sim | None:
    if REAL_FRAMEWORK:
        return None
    return Sim(os.environ["SECITEM_LIBRARY"])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not REAL_FRAMEWORK:
        return
    skip = pytest.mark.skip(
        reason="needs the emulator (its controls or its C ABI); "
        "this run uses the real Security framework"
    )
    for item in items:
        if "macos" not in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def sim() -> Sim:
    """The emulator's controls; the test is skipped on the real framework."""
    s = _sim_or_none()
    if s is None:
        pytest.skip("needs the emulator's control functions")
    return s


@pytest.fixture
def hang(sim: Sim) -> Iterator[Callable[..., None]]:
    """``hang("SecItemAdd")``: that function hangs 5 s (``hang(name, 0)`` ends it).

    At the end every delay is cleared and every late call has finished, so the
    leak check counts the objects once the hangs are over.
    """
    from secitem import _deadline

    def set_hang(function: str, ms: int = HANG_MS) -> None:
        sim.lib.secsim_set_delay(function.encode(), ms)

    try:
        yield set_hang
    finally:
        for name in SEC_ITEM_FUNCTIONS:
            sim.lib.secsim_set_delay(name.encode(), 0)
        assert _deadline.wait_idle(30), "a late keychain call did not finish"


@pytest.fixture
def no_native(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any SecItem function of ``secitem.security`` is called."""
    from secitem import security

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a native call was made before validation")

    for name in SEC_ITEM_FUNCTIONS:
        monkeypatch.setattr(security, name, refuse)


def _run_threads(worker: Callable[[int], object], count: int = 4) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(n: int) -> None:
        try:
            worker(n)
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.fixture
def run_threads() -> Callable[..., list[BaseException]]:
    """``run_threads(worker, count=4)``: ``worker(n)`` on ``count`` threads at once
    (n = 0 .. count-1), all joined; returns what they raised (a worker stops at
    its first exception), for the test to assert on."""
    return _run_threads


@pytest.fixture(autouse=True)
def _no_leaks() -> Iterator[None]:
    """Empty keychain before each test; no CF object may outlive the test."""
    s = _sim_or_none()
    if s is None:
        yield
        return
    s.lib.secsim_reset()
    before = s.lib.secsim_live_objects()
    yield
    s.lib.secsim_reset()  # also wakes calls sleeping in an emulated delay
    deadline = sys.modules.get("secitem._deadline")
    if deadline is not None:
        deadline.wait_idle()  # calls abandoned by a timeout release their results
    after = s.lib.secsim_live_objects()
    assert after == before, f"{after - before} CoreFoundation object(s) leaked by this test"


@pytest.fixture(params=["macos", "ios"])
def profile(request: pytest.FixtureRequest) -> str:
    """Run the test under both emulator profiles (the real OS on a Mac)."""
    s = _sim_or_none()
    name: str = request.param
    if s is None:
        if name != "macos":
            pytest.skip("the ios profile exists only in the emulator")
        return name
    s.lib.secsim_set_profile(name.encode())
    return name


@pytest.fixture
def kc(profile: str) -> Keychain:
    """A ``Keychain`` for the profile under test (both profiles, via ``profile``)."""
    from secitem.keychain import Keychain

    return Keychain(platform=profile)  # type: ignore[arg-type]
