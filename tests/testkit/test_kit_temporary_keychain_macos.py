"""The throwaway keychain fixture on a real Mac (run by the macOS CI job).

On Linux, and whenever this run uses the emulator, the fixture skips with its
reason; tests/testkit/test_kit_temporary_keychain.py checks the commands it
runs with a fake ``security``.  Here it is the real thing: the item a test
saves goes into the throwaway keychain and nowhere else, and after the test
the user's search list and default keychain are what they were.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any

import pytest

from secitem import Credential, CredentialStore

pytestmark = pytest.mark.skipif(
    sys.platform != "darwin", reason="needs macOS's security tool and keychain"
)


def _security(*args: str) -> str:
    return subprocess.run(
        ["security", *args], capture_output=True, text=True, timeout=30, check=True
    ).stdout


def _state() -> tuple[str, str]:
    return _security("list-keychains", "-d", "user"), _security("default-keychain", "-d", "user")


@pytest.mark.macos
def test_items_go_to_the_throwaway_keychain(secitem_temporary_keychain: Any) -> None:
    """The default keychain is the throwaway one while the test runs."""
    name = secitem_temporary_keychain.path.name  # /var and /private/var name one file
    assert name in _security("default-keychain", "-d", "user")
    service = f"secitem-kit-{uuid.uuid4().hex[:12]}"
    store = CredentialStore(service=service)
    store.save(Credential("alice", "s3cret"))
    try:
        found = _security("find-generic-password", "-s", service)  # attributes only
        keychain_line = next(line for line in found.splitlines() if line.startswith("keychain:"))
        assert name in keychain_line
        assert store.get("alice") == Credential("alice", "s3cret")
    finally:
        assert store.delete() is True


@pytest.mark.macos
def test_the_keychains_are_restored_afterwards() -> None:
    """Run after the test above in the same session: nothing of the throwaway
    keychain is left in the user's search list or as the default."""
    search_list, default = _state()
    assert "secitem-keychain" not in search_list
    assert "secitem-keychain" not in default
