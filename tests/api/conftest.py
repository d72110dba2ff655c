"""The API tests run in both emulator profiles, with secitem's platform following the profile."""

from __future__ import annotations

import pytest


@pytest.fixture
def profile(profile: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The root ``profile`` fixture, plus SECSIM_PROFILE so that Keychain() and
    CredentialStore() pick the same platform the emulator plays."""
    monkeypatch.setenv("SECSIM_PROFILE", profile)
    return profile
