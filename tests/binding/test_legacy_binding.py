"""The legacy password calls under Apple's names in ``secitem.security``
(seckey-facts §6, issue #12 section 4): Python values in, bytes and
``KeychainItemRef`` objects out, typed errors, the same keychain as SecItem,
errSecUnimplemented where the library lacks them.  The autouse fixture checks
that no CF object outlives a test (every item reference is closed)."""

from __future__ import annotations

from typing import Any

import pytest

import secitem
from secitem import security as sec
from secitem.security import (
    KeychainItemRef,
    SecItemAdd,
    SecItemCopyMatching,
    SecKeychainAddGenericPassword,
    SecKeychainAddInternetPassword,
    SecKeychainFindGenericPassword,
    SecKeychainFindInternetPassword,
    SecKeychainItemDelete,
    SecKeychainItemFreeContent,
    SecKeychainItemModifyAttributesAndData,
    kSecAttrAccount,
    kSecAttrService,
    kSecClass,
    kSecClassGenericPassword,
    kSecReturnData,
)


@pytest.fixture(autouse=True)
def _macos(sim: Any) -> None:
    sim.lib.secsim_set_profile(b"macos")


def test_6_3_round_trip_both_ways() -> None:
    """An item added by the legacy call is found by SecItemCopyMatching, and the reverse."""
    with SecKeychainAddGenericPassword(None, "svc", "alice", b"pw") as item:
        assert isinstance(item, KeychainItemRef)
    query = {kSecClass: kSecClassGenericPassword, kSecAttrService: "svc", kSecAttrAccount: "alice"}
    assert SecItemCopyMatching({**query, kSecReturnData: True}) == b"pw"
    SecItemAdd(
        {
            kSecClass: kSecClassGenericPassword,
            kSecAttrService: "svc",
            kSecAttrAccount: "bob",
            "v_Data": b"x",
        }
    )
    password, found = SecKeychainFindGenericPassword(None, "svc", "bob")
    assert password == b"x" and found is not None
    found.close()


def test_6_1_null_out_parameters() -> None:
    SecKeychainAddGenericPassword(None, b"svc", b"a", b"pw").close()
    assert SecKeychainFindGenericPassword(None, "svc", "a", item=False) == (b"pw", None)
    password, item = SecKeychainFindGenericPassword(None, "svc", "a", password=False)
    assert password is None and item is not None
    item.close()
    assert SecKeychainFindGenericPassword(None, "svc", None, password=False, item=False) == (
        None,
        None,
    )


def test_6_1_typed_errors() -> None:
    SecKeychainAddGenericPassword(None, "svc", "a", b"pw").close()
    with pytest.raises(secitem.DuplicateItemError):
        SecKeychainAddGenericPassword(None, "svc", "a", b"other")
    with pytest.raises(secitem.ItemNotFoundError):
        SecKeychainFindGenericPassword(None, "svc", "nobody")


def test_6_1_argument_checks_before_native_calls() -> None:
    with pytest.raises(TypeError, match="keychain"):
        SecKeychainAddGenericPassword(object(), "svc", "a", b"pw")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="account"):
        SecKeychainAddGenericPassword(None, "svc", 5, b"pw")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="password"):
        SecKeychainAddGenericPassword(None, "svc", "a", "text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="port"):
        SecKeychainAddInternetPassword(None, "h", None, "a", None, 70000, 0, 0, b"pw")
    with pytest.raises(TypeError, match="item"):
        SecKeychainItemDelete("not an item")  # type: ignore[arg-type]


def test_6_1_str_subclass_cannot_substitute_bytes() -> None:
    class Sneaky(str):
        def encode(self, *args: object, **kwargs: object) -> bytes:  # type: ignore[override]
            return b"other"

    SecKeychainAddGenericPassword(None, Sneaky("svc"), "a", b"pw").close()
    assert SecKeychainFindGenericPassword(None, "svc", "a", item=False) == (b"pw", None)


def test_6_internet_round_trip() -> None:
    """Protocol and authentication-type constants carry Apple's numeric values;
    SecItem sees "htps"/"dflt"."""
    assert sec.kSecProtocolTypeHTTPS == 0x68747073
    assert sec.kSecAuthenticationTypeDefault == 0x746C6664  # byte-swapped: bytes "dflt"
    item = SecKeychainAddInternetPassword(
        None, "example.com", None, "alice", "/login", 443,
        sec.kSecProtocolTypeHTTPS, sec.kSecAuthenticationTypeDefault, b"pw",
    )  # fmt: skip
    item.close()
    attrs = SecItemCopyMatching({"class": "inet", "srvr": "example.com", "r_Attributes": True})
    assert isinstance(attrs, dict)
    assert (attrs["ptcl"], attrs["atyp"], attrs["port"], attrs["path"]) == (
        "htps",
        "dflt",
        443,
        "/login",
    )
    password, found = SecKeychainFindInternetPassword(
        None, "example.com", None, "alice", "/login", 443, sec.kSecProtocolTypeHTTPS, 0, item=False
    )
    assert (password, found) == (b"pw", None)
    with pytest.raises(secitem.ItemNotFoundError):
        SecKeychainFindInternetPassword(None, "example.com", None, None, None, 80)
    with pytest.raises(ValueError, match="C string"):
        SecKeychainFindInternetPassword(None, "example.com", None, None, "/a\0b")


def test_6_1_modify_and_delete() -> None:
    item = SecKeychainAddGenericPassword(None, "svc", "a", b"old")
    with item:
        SecKeychainItemModifyAttributesAndData(item, None, b"new")
        assert SecKeychainFindGenericPassword(None, "svc", "a", item=False)[0] == b"new"
        SecKeychainItemModifyAttributesAndData(item, {"labl": b"Label", "crtr": 0x41424344}, None)
        attrs = SecItemCopyMatching(
            {"class": "genp", "acct": "a", "r_Attributes": True, "r_Data": True}
        )
        assert isinstance(attrs, dict)
        assert (attrs["labl"], attrs["crtr"], attrs["v_Data"]) == ("Label", 0x41424344, b"new")
        with pytest.raises(secitem.NoSuchAttributeError):
            SecKeychainItemModifyAttributesAndData(item, {"zzzz": b"x"}, None)
        SecKeychainItemDelete(item)
        with pytest.raises(secitem.ItemNotFoundError):
            SecKeychainFindGenericPassword(None, "svc", "a")
        with pytest.raises(secitem.KeychainError) as info:
            SecKeychainItemDelete(item)
        assert info.value.status == -25304


def test_6_3_item_from_secitem_is_usable() -> None:
    SecItemAdd({"class": "genp", "svce": "svc", "acct": "a", "v_Data": b"pw"})
    ref = SecItemCopyMatching({"class": "genp", "acct": "a", "r_Ref": True})
    assert isinstance(ref, KeychainItemRef)
    with ref:
        SecKeychainItemModifyAttributesAndData(ref, None, b"changed")
        SecKeychainItemDelete(ref)
    with pytest.raises(secitem.ItemNotFoundError):
        SecItemCopyMatching({"class": "genp", "acct": "a"})


def test_6_free_content_parity() -> None:
    SecKeychainItemFreeContent()
    with pytest.raises(TypeError):
        SecKeychainItemFreeContent(None, b"x")  # type: ignore[arg-type]


def test_6_ios_unimplemented(sim: Any) -> None:
    """On the ios profile the emulator answers errSecUnimplemented (-4), as a
    library without the symbols does through the wrappers."""
    sim.lib.secsim_set_profile(b"ios")
    with pytest.raises(secitem.KeychainError) as info:
        SecKeychainAddGenericPassword(None, "svc", "a", b"pw")
    assert info.value.status == -4
    with pytest.raises(secitem.KeychainError) as info:
        SecKeychainFindGenericPassword(None, "svc", "a")
    assert info.value.status == -4


def test_6_missing_symbols_are_unimplemented(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Security library without the functions (iOS) still loads, and each call
    raises errSecUnimplemented naming the function."""
    from secitem import _legacy, _runtime

    rt = _runtime.runtime()

    class NoLegacy:
        def __getattr__(self, name: str) -> Any:
            if name.startswith("SecKeychain"):
                raise AttributeError(f"function/symbol {name!r} not found in library")
            return getattr(rt.sec, name)

    class FakeRuntime:
        sec = NoLegacy()

        def __getattr__(self, name: str) -> Any:
            return getattr(rt, name)

    monkeypatch.setattr(_legacy._runtime, "runtime", lambda: FakeRuntime())
    with pytest.raises(secitem.KeychainError, match="SecKeychainFindGenericPassword") as info:
        SecKeychainFindGenericPassword(None, "svc", "a")
    assert info.value.status == -4
