"""Fixtures for the binding tests: self-cleaning keychain items, an entitled process.

Tests marked ``macos`` also run against the real Security framework (an
unsigned Python and the file-based login keychain), so every item they add
has a unique service or server name and is deleted afterwards, whatever
happens in the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from binding_helpers import Cleanup


@pytest.fixture
def cleanup() -> Iterator[Cleanup]:
    """Unique names whose items are deleted after the test."""
    c = Cleanup()
    try:
        yield c
    finally:
        c.run()


@pytest.fixture
def entitled(sim: Any, profile: str) -> str:
    """Both profiles, with keychain access groups (a signed app)."""
    sim.lib.secsim_set_access_groups(b"SECSIMTEAM.org.secitem.app")
    return profile
