"""Fixtures of the secitem.aio tests: the emulator's hang, cleared before the leak check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from secitem import _deadline

HANG_MS = 5000
FUNCTIONS = (b"SecItemAdd", b"SecItemCopyMatching", b"SecItemUpdate", b"SecItemDelete")


@pytest.fixture
def hang(sim: Any) -> Iterator[Callable[..., None]]:
    """``hang("SecItemAdd")``: that function hangs 5 s (``hang(name, 0)`` ends it).

    At the end every delay is cleared and every late call has finished, so the
    leak check counts the objects once the hangs are over.
    """

    def set_hang(function: str, ms: int = HANG_MS) -> None:
        sim.lib.secsim_set_delay(function.encode(), ms)

    try:
        yield set_hang
    finally:
        for name in FUNCTIONS:
            sim.lib.secsim_set_delay(name, 0)
        assert _deadline.wait_idle(30), "a late keychain call did not finish"


@pytest.fixture(autouse=True)
def _late_calls_finished() -> Iterator[None]:
    yield
    assert _deadline.wait_idle(30), "a late keychain call did not finish"
