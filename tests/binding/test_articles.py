"""Apple's five keychain articles, dictionary for dictionary.

"Adding a password to the keychain", "Searching for keychain items",
"Updating and deleting keychain items", "Sharing access to keychain items
among a collection of apps" and "Restricting keychain item accessibility"
(developer.apple.com/documentation/security/keychain_services/keychain_items).
The first three also run on a real Mac (marked ``macos``); the last two need
the emulator's controls (entitlements, the user at the prompt, the lock).
"""

from __future__ import annotations

from typing import Any

import pytest
from binding_helpers import Cleanup, close_all, unique

from secitem import (
    AuthFailedError,
    InteractionNotAllowedError,
    ItemNotFoundError,
    MissingEntitlementError,
    UserCanceledError,
)
from secitem.security import (
    AccessControl,
    SecAccessControlCreateWithFlags,
    SecItemAdd,
    SecItemCopyMatching,
    SecItemDelete,
    SecItemUpdate,
    kSecAccessControlUserPresence,
    kSecAttrAccessControl,
    kSecAttrAccessGroup,
    kSecAttrAccessible,
    kSecAttrAccessibleAfterFirstUnlock,
    kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly,
    kSecAttrAccessibleWhenUnlocked,
    kSecAttrAccount,
    kSecAttrServer,
    kSecClass,
    kSecClassInternetPassword,
    kSecMatchLimit,
    kSecMatchLimitOne,
    kSecReturnAttributes,
    kSecReturnData,
    kSecUseDataProtectionKeychain,
    kSecValueData,
)

SHARED_GROUP = "ABCDE12345.com.example.SharedItems"
APP_GROUP = "ABCDE12345.com.example.app"


def search_query(server: str) -> dict[object, object]:
    # "Searching for keychain items": one item, its attributes and its data.
    return {
        kSecClass: kSecClassInternetPassword,
        kSecAttrServer: server,
        kSecMatchLimit: kSecMatchLimitOne,
        kSecReturnAttributes: True,
        kSecReturnData: True,
    }


def credentials(server: str, extra: dict[object, object] | None = None) -> tuple[str, str]:
    existing_item = SecItemCopyMatching({**search_query(server), **(extra or {})})
    assert isinstance(existing_item, dict)
    password_data = existing_item[kSecValueData]
    assert isinstance(password_data, bytes)
    account = existing_item[kSecAttrAccount]
    assert isinstance(account, str)
    close_all(existing_item)
    return account, password_data.decode("utf-8")


@pytest.mark.macos
def test_add_search_update_delete(profile: str, cleanup: Cleanup) -> None:
    """The first three articles in sequence: add, search, update, delete."""
    server = cleanup.server()
    # "Adding a password to the keychain"
    query = {
        kSecClass: kSecClassInternetPassword,
        kSecAttrAccount: "appleseed",
        kSecAttrServer: server,
        kSecValueData: b"hunter2",
    }
    assert SecItemAdd(query) is None

    # "Searching for keychain items"
    assert credentials(server) == ("appleseed", "hunter2")

    # "Updating and deleting keychain items": update...
    query = {kSecClass: kSecClassInternetPassword, kSecAttrServer: server}
    attributes = {kSecAttrAccount: "jappleseed", kSecValueData: b"correct horse"}
    SecItemUpdate(query, attributes)
    assert credentials(server) == ("jappleseed", "correct horse")

    # ... and delete.
    SecItemDelete(query)
    with pytest.raises(ItemNotFoundError):
        SecItemCopyMatching(search_query(server))


@pytest.mark.parametrize("profile_name", ["ios", "macos"])
def test_share_through_an_access_group(sim: Any, profile_name: str) -> None:
    """ "Sharing access to keychain items among a collection of apps": an item
    stored in a shared group is visible to every app holding that group."""
    sim.lib.secsim_set_profile(profile_name.encode())
    sim.lib.secsim_set_access_groups(f"{APP_GROUP},{SHARED_GROUP}".encode())
    server = f"{unique('shared')}.example.com"
    extra = {kSecUseDataProtectionKeychain: True} if profile_name == "macos" else {}
    SecItemAdd(
        {
            kSecClass: kSecClassInternetPassword,
            kSecAttrAccount: "appleseed",
            kSecAttrServer: server,
            kSecAttrAccessGroup: SHARED_GROUP,
            kSecValueData: b"hunter2",
            **extra,
        }
    )
    result = SecItemCopyMatching({**search_query(server), **extra})
    assert isinstance(result, dict)
    assert result[kSecAttrAccessGroup] == SHARED_GROUP
    assert result[kSecValueData] == b"hunter2"
    close_all(result)

    # Another app of the same team that also holds the shared group sees it ...
    sim.lib.secsim_set_access_groups(f"ABCDE12345.com.example.other,{SHARED_GROUP}".encode())
    other = SecItemCopyMatching({**search_query(server), **extra})
    assert isinstance(other, dict) and other[kSecValueData] == b"hunter2"
    close_all(other)

    # ... an app without it does not ...
    sim.lib.secsim_set_access_groups(b"ABCDE12345.com.example.other")
    with pytest.raises(ItemNotFoundError):
        SecItemCopyMatching({**search_query(server), **extra})

    # ... and naming a group one does not hold is a missing entitlement (facts 5.12 #12.5).
    with pytest.raises(MissingEntitlementError) as info:
        SecItemCopyMatching({**search_query(server), kSecAttrAccessGroup: SHARED_GROUP, **extra})
    assert info.value.hint is not None and "entitlement" in info.value.hint


def test_restrict_accessibility(sim: Any) -> None:
    """ "Restricting keychain item accessibility": kSecAttrAccessible is stored,
    and a WhenUnlocked item cannot be read while the device is locked."""
    sim.lib.secsim_set_profile(b"ios")
    locked_server = f"{unique('locked')}.example.com"
    SecItemAdd(
        {
            kSecClass: kSecClassInternetPassword,
            kSecAttrAccount: "appleseed",
            kSecAttrServer: locked_server,
            kSecValueData: b"hunter2",
            kSecAttrAccessible: kSecAttrAccessibleWhenUnlocked,
        }
    )
    background_server = f"{unique('background')}.example.com"
    SecItemAdd(
        {
            kSecClass: kSecClassInternetPassword,
            kSecAttrAccount: "appleseed",
            kSecAttrServer: background_server,
            kSecValueData: b"token",
            kSecAttrAccessible: kSecAttrAccessibleAfterFirstUnlock,
        }
    )
    result = SecItemCopyMatching(search_query(locked_server))
    assert isinstance(result, dict)
    assert result[kSecAttrAccessible] == kSecAttrAccessibleWhenUnlocked
    close_all(result)

    sim.lib.secsim_set_locked(1)
    with pytest.raises(InteractionNotAllowedError) as info:
        SecItemCopyMatching(search_query(locked_server))
    assert info.value.status == -25308
    assert info.value.hint is not None and "locked" in info.value.hint
    # An item readable after first unlock stays readable while locked.
    assert credentials(background_server) == ("appleseed", "token")
    sim.lib.secsim_set_locked(0)
    assert credentials(locked_server) == ("appleseed", "hunter2")


@pytest.mark.parametrize(
    ("response", "outcome"),
    [(0, None), (1, UserCanceledError), (2, AuthFailedError)],
    ids=["approve", "cancel", "fail"],
)
@pytest.mark.parametrize("profile_name", ["ios", "macos"])
def test_access_control_asks_the_user(
    sim: Any, profile_name: str, response: int, outcome: type[Exception] | None
) -> None:
    """ "Restricting keychain item accessibility" with an access control that asks
    for user presence: approve returns the data, cancel and fail raise."""
    sim.lib.secsim_set_profile(profile_name.encode())
    # On macOS: an app signed with a keychain-access-groups entitlement, asking for
    # the data-protection keychain (without the flag, a cancel on that side would
    # be masked by the file-based side's not-found, facts 5.1 #1.5).
    extra: dict[object, object] = {}
    if profile_name == "macos":
        sim.lib.secsim_set_access_groups(APP_GROUP.encode())
        extra = {kSecUseDataProtectionKeychain: True}
    server = f"{unique('presence')}.example.com"
    access = SecAccessControlCreateWithFlags(
        kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly, kSecAccessControlUserPresence
    )
    assert isinstance(access, AccessControl)
    with access:
        SecItemAdd(
            {
                kSecClass: kSecClassInternetPassword,
                kSecAttrAccount: "appleseed",
                kSecAttrServer: server,
                kSecAttrAccessControl: access,
                kSecValueData: b"hunter2",
                **extra,
            }
        )
    sim.lib.secsim_set_user_response(response)
    if outcome is None:
        assert credentials(server, extra) == ("appleseed", "hunter2")
    else:
        with pytest.raises(outcome) as info:
            SecItemCopyMatching({**search_query(server), **extra})
        assert "hunter2" not in str(info.value)


def test_access_control_needs_an_entitlement_on_macos(sim: Any) -> None:
    """An unsigned macOS interpreter cannot use an access control: the
    data-protection keychain answers -34018, with the fix in the hint."""
    sim.lib.secsim_set_profile(b"macos")
    access = SecAccessControlCreateWithFlags(
        kSecAttrAccessibleWhenUnlocked, kSecAccessControlUserPresence
    )
    with access, pytest.raises(MissingEntitlementError) as info:
        SecItemAdd(
            {
                kSecClass: kSecClassInternetPassword,
                kSecAttrAccount: "appleseed",
                kSecAttrServer: f"{unique('acl')}.example.com",
                kSecAttrAccessControl: access,
                kSecValueData: b"hunter2",
            }
        )
    assert info.value.status == -34018
    assert info.value.hint is not None
    assert "kSecUseDataProtectionKeychain" in info.value.hint
    assert "keychain-access-groups" in info.value.hint
