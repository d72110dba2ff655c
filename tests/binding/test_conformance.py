"""Conformance of the four SecItem functions, in both emulator profiles.

Marked ``macos``: on a Mac without SECITEM_LIBRARY these run against the real
Security framework (an unsigned Python, so the file-based login keychain,
like the emulator's ``macos`` profile).  Every item has a unique service or
server name and is deleted afterwards.  Assertions hold for both keychain
implementations unless the test says which one it checks.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from binding_helpers import Cleanup

from secitem import DuplicateItemError, ItemNotFoundError, KeychainError, ParamError
from secitem.constants import SecConstant, by_name
from secitem.security import (
    KeychainItemRef,
    SecItemAdd,
    SecItemCopyMatching,
    SecItemDelete,
    SecItemUpdate,
    kSecAttrAccount,
    kSecAttrCreationDate,
    kSecAttrLabel,
    kSecAttrModificationDate,
    kSecAttrPath,
    kSecAttrPort,
    kSecAttrProtocol,
    kSecAttrProtocolHTTPS,
    kSecAttrServer,
    kSecAttrService,
    kSecClass,
    kSecClassGenericPassword,
    kSecClassInternetPassword,
    kSecMatchLimit,
    kSecMatchLimitOne,
    kSecReturnAttributes,
    kSecReturnData,
    kSecValueData,
)

pytestmark = pytest.mark.macos


def genp(service: str, account: str = "alice", **extra: object) -> dict[object, object]:
    """A generic-password dictionary; keyword names are Apple's constant names."""
    return {
        kSecClass: kSecClassGenericPassword,
        kSecAttrService: service,
        kSecAttrAccount: account,
        **{by_name(name): value for name, value in extra.items()},
    }


def test_add_then_read_the_secret(profile: str, cleanup: Cleanup) -> None:
    """SecItemAdd stores bytes that SecItemCopyMatching(kSecReturnData) returns."""
    service = cleanup.service()
    secret = b"s3cr\x00t \xff"
    assert SecItemAdd(genp(service, kSecValueData=secret)) is None
    assert SecItemCopyMatching(genp(service, kSecReturnData=True)) == secret


def test_add_can_return_attributes(profile: str, cleanup: Cleanup) -> None:
    """With kSecReturnAttributes, SecItemAdd returns the new item's attributes."""
    service = cleanup.service()
    result = SecItemAdd(
        genp(service, kSecValueData=b"pw", kSecAttrLabel="Label", kSecReturnAttributes=True)
    )
    assert isinstance(result, dict)
    assert result[kSecAttrService] == service
    assert result[kSecAttrAccount] == "alice"
    assert result[kSecAttrLabel] == "Label"
    assert kSecValueData not in result


def test_attributes_are_keyed_by_constants(profile: str, cleanup: Cleanup) -> None:
    """Returned dictionaries use the SecConstant objects as keys; dates are aware."""
    service = cleanup.service()
    SecItemAdd(genp(service, "Zoë 😀", kSecValueData=b"pw"))
    result = SecItemCopyMatching(genp(service, "Zoë 😀", kSecReturnAttributes=True))
    assert isinstance(result, dict)
    account_key = next(key for key in result if key == "acct")
    assert isinstance(account_key, SecConstant) and account_key.name == "kSecAttrAccount"
    assert result[kSecAttrAccount] == "Zoë 😀"
    for date_key in (kSecAttrCreationDate, kSecAttrModificationDate):
        stamp = result[date_key]
        assert isinstance(stamp, datetime) and stamp.utcoffset() is not None


def test_attributes_and_data_together(profile: str, cleanup: Cleanup) -> None:
    """Two return keys give one dictionary with the data under kSecValueData."""
    service = cleanup.service()
    SecItemAdd(genp(service, kSecValueData=b"pw"))
    result = SecItemCopyMatching(
        genp(
            service,
            kSecReturnAttributes=True,
            kSecReturnData=True,
            kSecMatchLimit=kSecMatchLimitOne,
        )
    )
    assert isinstance(result, dict)
    assert result[kSecValueData] == b"pw"
    assert result[kSecAttrAccount] == "alice"


def test_match_limit_returns_a_list(profile: str, cleanup: Cleanup) -> None:
    """A numeric match limit above one returns a list, one entry per item."""
    service = cleanup.service()
    for account in ("a", "b", "c"):
        SecItemAdd(genp(service, account, kSecValueData=account.encode()))
    query = {
        kSecClass: kSecClassGenericPassword,
        kSecAttrService: service,
        kSecReturnAttributes: True,
        kSecMatchLimit: 10,
    }
    result = SecItemCopyMatching(query)
    assert isinstance(result, list)
    assert sorted(item[kSecAttrAccount] for item in result) == ["a", "b", "c"]


def test_missing_item(profile: str, cleanup: Cleanup) -> None:
    """Searching, updating or deleting what is not there raises ItemNotFoundError."""
    service = cleanup.service()
    with pytest.raises(ItemNotFoundError) as info:
        SecItemCopyMatching(genp(service, kSecReturnData=True))
    assert info.value.status == -25300
    assert info.value.hint is not None and "other keychain" in info.value.hint
    with pytest.raises(ItemNotFoundError):
        SecItemUpdate(genp(service), {kSecValueData: b"x"})
    with pytest.raises(ItemNotFoundError):
        SecItemDelete(genp(service))


def test_duplicate(profile: str, cleanup: Cleanup) -> None:
    """A second add with the same account and service raises DuplicateItemError."""
    service = cleanup.service()
    SecItemAdd(genp(service, kSecValueData=b"one"))
    with pytest.raises(DuplicateItemError):
        SecItemAdd(genp(service, kSecValueData=b"two", kSecAttrLabel="another label"))
    assert SecItemCopyMatching(genp(service, kSecReturnData=True)) == b"one"


def test_update(profile: str, cleanup: Cleanup) -> None:
    """SecItemUpdate changes the secret and the attributes of the match."""
    service = cleanup.service()
    SecItemAdd(genp(service, kSecValueData=b"old"))
    assert SecItemUpdate(genp(service), {kSecValueData: b"new", kSecAttrLabel: "L2"}) is None
    assert SecItemCopyMatching(genp(service, kSecReturnData=True)) == b"new"
    attributes = SecItemCopyMatching(genp(service, kSecReturnAttributes=True))
    assert isinstance(attributes, dict) and attributes[kSecAttrLabel] == "L2"


def test_update_into_a_duplicate(profile: str, cleanup: Cleanup) -> None:
    """Renaming an item onto another one's key raises DuplicateItemError."""
    service = cleanup.service()
    SecItemAdd(genp(service, "a", kSecValueData=b"1"))
    SecItemAdd(genp(service, "b", kSecValueData=b"2"))
    with pytest.raises(DuplicateItemError):
        SecItemUpdate(genp(service, "a"), {kSecAttrAccount: "b"})


def test_delete(profile: str, cleanup: Cleanup) -> None:
    """SecItemDelete removes the item; it is gone afterwards."""
    service = cleanup.service()
    SecItemAdd(genp(service, kSecValueData=b"pw"))
    assert SecItemDelete(genp(service)) is None
    with pytest.raises(ItemNotFoundError):
        SecItemCopyMatching(genp(service, kSecReturnData=True))


def test_internet_password(profile: str, cleanup: Cleanup) -> None:
    """Internet passwords keep server, protocol, port and path."""
    server = cleanup.server()
    SecItemAdd(
        {
            kSecClass: kSecClassInternetPassword,
            kSecAttrServer: server,
            kSecAttrAccount: "bob",
            kSecAttrProtocol: kSecAttrProtocolHTTPS,
            kSecAttrPort: 8443,
            kSecAttrPath: "/login",
            kSecValueData: b"pw",
        }
    )
    result = SecItemCopyMatching(
        {
            kSecClass: kSecClassInternetPassword,
            kSecAttrServer: server,
            kSecAttrPort: 8443,
            kSecReturnAttributes: True,
            kSecReturnData: True,
        }
    )
    assert isinstance(result, dict)
    assert result[kSecValueData] == b"pw"
    assert result[kSecAttrAccount] == "bob"
    assert result[kSecAttrPort] == 8443
    assert result[kSecAttrPath] == "/login"
    assert result[kSecAttrProtocol] == kSecAttrProtocolHTTPS


def test_plain_string_keys_work_too(profile: str, cleanup: Cleanup) -> None:
    """Plain str keys with the constants' characters are equivalent to the constants."""
    service = cleanup.service()
    SecItemAdd({"class": "genp", "svce": service, "acct": "carol", "v_Data": b"pw"})
    assert SecItemCopyMatching(genp(service, "carol", kSecReturnData=True)) == b"pw"


def test_no_return_key(profile: str, cleanup: Cleanup) -> None:
    """Without a return key the file-based keychain returns the item reference
    (facts 5.3); the data-protection keychain produces no object."""
    service = cleanup.service()
    SecItemAdd(genp(service, kSecValueData=b"pw"))
    result = SecItemCopyMatching(genp(service))
    if profile == "macos":
        assert isinstance(result, KeychainItemRef)
        result.close()
    else:
        assert result is None


def test_return_ref(profile: str, cleanup: Cleanup) -> None:
    """kSecReturnRef on a password: an item reference (file-based) or none (data protection)."""
    service = cleanup.service()
    SecItemAdd(genp(service, kSecValueData=b"pw"))
    result = SecItemCopyMatching(genp(service, kSecReturnRef=True))
    if profile == "macos":
        assert isinstance(result, KeychainItemRef)
        assert "SecKeychainItem" in repr(result)
        result.close()
        assert result.closed
    else:
        assert result is None


def test_missing_class_is_a_param_error(profile: str) -> None:
    """A dictionary without kSecClass is refused with errSecParam (facts 5.11)."""
    with pytest.raises(ParamError) as info:
        SecItemCopyMatching({kSecAttrService: "nothing", kSecReturnData: True})
    assert info.value.status == -50
    assert isinstance(info.value, KeychainError)


def test_mapping_arguments_are_required(profile: str) -> None:
    """The dictionaries must be mappings: anything else is a TypeError naming the argument."""
    with pytest.raises(TypeError, match=r"^attributes: expected a mapping"):
        SecItemAdd([(kSecClass, kSecClassGenericPassword)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^attributes_to_update: expected a mapping"):
        SecItemUpdate({kSecClass: kSecClassGenericPassword}, None)  # type: ignore[arg-type]
