"""The emulator's secsim_set_delay: a securityd that hangs (issue #18).

Called through cffi directly (not through secitem), so the Python call lock
plays no part: what is checked is the emulator's own model.  Waits are
bounded by joins whose limit (4 s) is below the 5 s hang, so a test can only
pass if the call really was woken, and only a grossly overloaded machine
could make one fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import simlib
from secitem.items import InvalidQueryError
from secitem.testing.controls import EmulatorControls

pytestmark = pytest.mark.emulator_only

errSecItemNotFound = -25300


@pytest.fixture
def lib(sim: Any) -> Iterator[Any]:
    try:
        yield sim
    finally:
        for name in ("SecItemAdd", "SecItemCopyMatching", "SecItemUpdate", "SecItemDelete"):
            sim.lib.secsim_set_delay(name.encode(), 0)


def _copy_in_thread(sim: Any, results: list[int]) -> threading.Thread:
    """SecItemCopyMatching of a generic password (none exists) on a new thread."""

    def run() -> None:
        with simlib.cf_value(
            sim.ffi, sim.lib, {sim.lib.kSecClass: sim.lib.kSecClassGenericPassword}
        ) as query:
            out = sim.ffi.new("CFTypeRef *")
            results.append(sim.lib.SecItemCopyMatching(query, out))

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_clearing_a_delay_wakes_the_call_sleeping_in_it(lib: Any) -> None:
    lib.secsim_set_delay(b"SecItemCopyMatching", 5000)
    results: list[int] = []
    thread = _copy_in_thread(lib, results)
    thread.join(0.3)
    assert thread.is_alive() and results == []  # asleep in the delay
    lib.secsim_set_delay(b"SecItemCopyMatching", 0)
    thread.join(4)
    assert not thread.is_alive()
    assert results == [errSecItemNotFound]  # then it ran as usual


def test_reset_clears_every_delay(lib: Any) -> None:
    lib.secsim_set_delay(b"SecItemCopyMatching", 5000)
    results: list[int] = []
    thread = _copy_in_thread(lib, results)
    thread.join(0.3)
    assert thread.is_alive()
    lib.secsim_reset()
    thread.join(4)
    assert not thread.is_alive() and results == [errSecItemNotFound]
    again = _copy_in_thread(lib, results)  # no delay any more
    again.join(4)
    assert not again.is_alive() and results == [errSecItemNotFound] * 2


def test_a_delay_applies_to_its_function_only(lib: Any) -> None:
    lib.secsim_set_delay(b"SecItemAdd", 5000)
    results: list[int] = []
    thread = _copy_in_thread(lib, results)  # no add is sleeping: not delayed
    thread.join(4)
    assert not thread.is_alive() and results == [errSecItemNotFound]


def test_other_calls_wait_behind_a_sleeping_one(lib: Any) -> None:
    """securityd serializes its clients: while a delayed call sleeps, a call of
    another (undelayed) function waits for it; the controls do not."""
    lib.secsim_set_delay(b"SecItemCopyMatching", 5000)
    results: list[int] = []
    sleeper = _copy_in_thread(lib, results)
    sleeper.join(0.2)
    assert sleeper.is_alive()
    deleted: list[int] = []

    def delete() -> None:
        with simlib.cf_value(
            lib.ffi, lib.lib, {lib.lib.kSecClass: lib.lib.kSecClassGenericPassword}
        ) as query:
            deleted.append(lib.lib.SecItemDelete(query))

    waiter = threading.Thread(target=delete)
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive() and deleted == []  # queued behind the sleeping call
    assert lib.secsim_live_objects() >= 0  # controls answer meanwhile
    lib.secsim_set_delay(b"SecItemCopyMatching", 0)
    sleeper.join(4)
    waiter.join(4)
    assert results == [errSecItemNotFound] and deleted == [errSecItemNotFound]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("lib.secsim_set_delay(ffi.NULL, 10)", "secsim_set_delay: function name is NULL"),
        (
            "lib.secsim_set_delay(b'SecItemFrob', 10)",
            'secsim_set_delay: unknown function "SecItemFrob"',
        ),
        ("lib.secsim_set_delay(b'SecItemAdd', -1)", "secsim_set_delay: -1 ms is negative"),
    ],
)
def test_a_bad_argument_aborts_with_a_message(call: str, message: str) -> None:
    """As secsim_fail_next: a mistyped name must not silently delay nothing."""
    script = (
        "import cffi, os\n"
        "ffi = cffi.FFI()\n"
        "ffi.cdef('void secsim_set_delay(const char *function, int milliseconds);')\n"
        "lib = ffi.dlopen(os.environ['SECITEM_LIBRARY'])\n"
        f"{call}\n"
        "print('not aborted')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
    )
    assert done.returncode != 0
    assert "not aborted" not in done.stdout
    assert message in done.stderr


def test_the_controls_delay_method_drives_it(sim: Any) -> None:
    controls = EmulatorControls(sim.path, environ={})
    controls.delay("SecItemCopyMatching", 5)
    results: list[int] = []
    thread = _copy_in_thread(sim, results)
    thread.join(0.3)
    assert thread.is_alive()
    controls.reset()  # clears the delays it set (and wakes the sleeper)
    thread.join(4)
    assert not thread.is_alive() and results == [errSecItemNotFound]
    with pytest.raises(InvalidQueryError, match="delay"):
        controls.delay("SecItemFrob", 1)


def test_release_closes_every_cf_object_of_a_late_result(secitem_emulator: object) -> None:
    """One walker (issue #13 item 4): _deadline.release is _cfobjects.close_all, which
    reaches CF objects inside lists, tuples and dictionary values."""
    from secitem import _deadline
    from secitem.security import SecAccessControlCreateWithFlags

    made = [SecAccessControlCreateWithFlags("ak", 0) for _ in range(3)]
    _deadline.release({"a": [made[0], ("x", made[1])], "b": (made[2], b"secret", 1, None)})
    assert [obj.closed for obj in made] == [True, True, True]
