"""Fixtures of the emulator tests: ``kc`` and ``dpkc``, built on test_rules_helpers.KC."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .test_rules_helpers import APP_GROUP, KC


@pytest.fixture
def kc(sim: Any) -> Iterator[KC]:
    """A KC front end; every object it kept is released at the end."""
    k = KC(sim)
    yield k
    k.close()


@pytest.fixture
def dpkc(kc: KC, profile: str) -> KC:
    """KC whose process holds the app group in both profiles, so the
    data-protection keychain is usable (macos: a signed app)."""
    if profile == "macos":
        kc.lib.secsim_set_access_groups(APP_GROUP.encode())
    return kc
