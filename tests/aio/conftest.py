"""Fixtures of the secitem.aio tests (``hang`` is the shared one of tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from secitem import _deadline


@pytest.fixture(autouse=True)
def _late_calls_finished() -> Iterator[None]:
    yield
    assert _deadline.wait_idle(30), "a late keychain call did not finish"
