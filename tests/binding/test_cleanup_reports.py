"""The binding tests' cleanup reports what it could not delete instead of hiding it.

On the macOS CI job the items live in a real keychain: a silent cleanup
failure would leave items behind and make later runs harder to read.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from binding_helpers import Cleanup, CleanupWarning

from secitem import ItemNotFoundError
from secitem.security import (
    SecItemAdd,
    SecItemCopyMatching,
    kSecAttrAccount,
    kSecAttrService,
    kSecClass,
    kSecClassGenericPassword,
    kSecReturnData,
    kSecValueData,
)


def _add(service: str) -> dict[object, object]:
    query: dict[object, object] = {
        kSecClass: kSecClassGenericPassword,
        kSecAttrService: service,
        kSecAttrAccount: "alice",
    }
    SecItemAdd({**query, kSecValueData: b"pw"})
    return query


def test_a_failed_delete_is_reported(sim: Any) -> None:
    """SecItemDelete failing at teardown gives a CleanupWarning naming the service and status."""
    cleanup = Cleanup()
    service = cleanup.service()
    query = _add(service)
    sim.lib.secsim_fail_next(b"SecItemDelete", -61)  # errSecWrPerm
    with pytest.warns(CleanupWarning) as record:
        cleanup.run()
    assert len(record) == 1
    message = str(record[0].message)
    assert message.startswith(f"test cleanup could not delete kSecAttrService={service!r}: ")
    assert "-61" in message
    # The item really is still there; a second run deletes it without a word.
    assert SecItemCopyMatching({**query, kSecReturnData: True}) == b"pw"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cleanup.run()
    with pytest.raises(ItemNotFoundError):
        SecItemCopyMatching({**query, kSecReturnData: True})


@pytest.mark.macos
def test_a_clean_run_is_silent(cleanup: Cleanup) -> None:
    """Deleting what a test added, or nothing at all, warns about nothing."""
    added = Cleanup()
    query = _add(added.service())
    cleanup.add(query)  # should an assertion below fail, the fixture still deletes it
    added.server()  # nothing was added under it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        added.run()
    with pytest.raises(ItemNotFoundError):
        SecItemCopyMatching({**query, kSecReturnData: True})
