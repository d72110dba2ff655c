"""Query building and validation of the typed layer, without any native library."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secitem import constants as C
from secitem.items import (
    DESCRIPTIONS,
    PRF,
    AccessControlFlags,
    Accessible,
    AccessPolicy,
    AuthenticationType,
    Certificate,
    GenericPassword,
    Identity,
    InternetPassword,
    InvalidQueryError,
    Item,
    ItemClass,
    ItemDescription,
    Key,
    KeyClass,
    KeyType,
    PersistentRef,
    Protocol,
    QueryTypeError,
    Synchronizable,
    changes_for,
    fourcc,
    item_from_result,
)

PUBLIC = {
    name: getattr(C, name) for name in dir(C) if name.startswith("kSec") and not name.endswith("_")
}


def _values(prefix: str, exclude: tuple[str, ...] = ()) -> set[str]:
    return {
        str(v)
        for n, v in PUBLIC.items()
        if n.startswith(prefix)
        and isinstance(v, str)
        and n != prefix
        and not any(n.endswith(e) for e in exclude)
    }


# -- enums ----------------------------------------------------------------------


def test_enums_cover_every_apple_value() -> None:
    """Each enum has exactly the values of its kSec* constants."""
    assert {m.value for m in Accessible} == _values("kSecAttrAccessible", ("Private",))
    assert {m.value for m in Protocol} == _values("kSecAttrProtocol")
    assert {m.value for m in AuthenticationType} == _values("kSecAttrAuthenticationType")
    assert {m.value for m in KeyClass} == _values("kSecAttrKeyClass")
    assert {m.value for m in KeyType} == _values("kSecAttrKeyType")
    assert {m.value for m in PRF} == _values("kSecAttrPRF")
    assert {m.value for m in ItemClass} == _values("kSecClass") - {"apls"}
    assert Synchronizable.ANY.value == C.kSecAttrSynchronizableAny


def test_access_control_flags_match_apple() -> None:
    """AccessControlFlags values are SecAccessControlCreateFlags'."""
    expected = {
        "USER_PRESENCE": 1,
        "BIOMETRY_ANY": 2,
        "BIOMETRY_CURRENT_SET": 8,
        "DEVICE_PASSCODE": 16,
        "COMPANION": 32,
        "OR": 1 << 14,
        "AND": 1 << 15,
        "PRIVATE_KEY_USAGE": 1 << 30,
        "APPLICATION_PASSWORD": 1 << 31,
    }
    for name, value in expected.items():
        assert AccessControlFlags[name] == value
    assert AccessControlFlags["TOUCH_ID_ANY"] is AccessControlFlags.BIOMETRY_ANY
    assert AccessControlFlags["WATCH"] is AccessControlFlags.COMPANION


def test_enum_values_need_no_native_library() -> None:
    """Importing the typed layer and building a query loads nothing native."""
    code = (
        "import sys, secitem.items as i\n"
        "q = i.InternetPassword(server='e.com', protocol=i.Protocol.HTTPS).to_query()\n"
        "assert q['ptcl'] == 'htps'\n"
        "loaded = [m for m in sys.modules if m in ('secitem._ffi', 'secitem._runtime', 'cffi')]\n"
        "assert not loaded, loaded\n"
    )
    env = dict(os.environ, SECITEM_LIBRARY="/nonexistent/lib.so")
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_this_device_only() -> None:
    thisdev = {a for a in Accessible if a.this_device_only}
    assert thisdev == {
        Accessible.WHEN_PASSCODE_SET_THIS_DEVICE_ONLY,
        Accessible.WHEN_UNLOCKED_THIS_DEVICE_ONLY,
        Accessible.AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY,
        Accessible.ALWAYS_THIS_DEVICE_ONLY,
    }


# -- dictionaries -------------------------------------------------------------------


def test_generic_password_dictionaries() -> None:
    item = GenericPassword(
        service="svc",
        account="alice",
        label="Example",
        generic=b"\x00\x01",
        creator=fourcc("aapl"),
        accessible=Accessible.AFTER_FIRST_UNLOCK,
        synchronizable=True,
    )
    assert item.to_attributes() == {
        C.kSecClass: C.kSecClassGenericPassword,
        C.kSecAttrService: "svc",
        C.kSecAttrAccount: "alice",
        C.kSecAttrLabel: "Example",
        C.kSecAttrGeneric: b"\x00\x01",
        C.kSecAttrCreator: 0x6161706C,
        C.kSecAttrAccessible: C.kSecAttrAccessibleAfterFirstUnlock,
        C.kSecAttrSynchronizable: True,
    }
    # the identity leaves label, generic, creator and accessibility out
    assert item.identity_query() == {
        C.kSecClass: C.kSecClassGenericPassword,
        C.kSecAttrService: "svc",
        C.kSecAttrAccount: "alice",
        C.kSecAttrSynchronizable: True,
    }
    assert item.non_identity_changes() == {
        C.kSecAttrLabel: "Example",
        C.kSecAttrGeneric: b"\x00\x01",
        C.kSecAttrCreator: 0x6161706C,
        C.kSecAttrAccessible: C.kSecAttrAccessibleAfterFirstUnlock,
    }


def test_keys_are_sec_constants() -> None:
    """Every key of a built dictionary is the library's SecConstant."""
    q = InternetPassword(server="e.com", port=443).to_query()
    assert all(type(k) is type(C.kSecClass) for k in q)
    assert repr(list(q)) == "[kSecClass, kSecAttrServer, kSecAttrPort]"


def test_identity_fills_apple_defaults() -> None:
    """Missing identity attributes are matched as SecItemAdd stores them ("" and 0)."""
    assert InternetPassword(server="e.com").identity_query() == {
        C.kSecClass: C.kSecClassInternetPassword,
        C.kSecAttrServer: "e.com",
        C.kSecAttrAccount: "",
        C.kSecAttrSecurityDomain: "",
        C.kSecAttrProtocol: 0,
        C.kSecAttrAuthenticationType: "",
        C.kSecAttrPort: 0,
        C.kSecAttrPath: "",
    }
    assert GenericPassword(access_group="g1").identity_query() == {
        C.kSecClass: C.kSecClassGenericPassword,
        C.kSecAttrService: "",
        C.kSecAttrAccount: "",
        C.kSecAttrAccessGroup: "g1",
    }


def test_query_uses_only_what_is_set() -> None:
    assert GenericPassword(service="s").to_query() == {
        C.kSecClass: C.kSecClassGenericPassword,
        C.kSecAttrService: "s",
    }
    assert GenericPassword(synchronizable=Synchronizable.ANY).to_query() == {
        C.kSecClass: C.kSecClassGenericPassword,
        C.kSecAttrSynchronizable: C.kSecAttrSynchronizableAny,
    }


def test_access_control_in_attributes_and_query() -> None:
    policy = AccessPolicy(
        AccessControlFlags.BIOMETRY_ANY, Accessible.WHEN_PASSCODE_SET_THIS_DEVICE_ONLY
    )
    item = GenericPassword(service="s", access_control=policy)
    assert item.to_attributes()[C.kSecAttrAccessControl] is policy
    assert C.kSecAttrAccessible not in item.to_attributes()
    # access controls cannot be compared: a query matches on the protection
    assert item.to_query() == {
        C.kSecClass: C.kSecClassGenericPassword,
        C.kSecAttrService: "s",
        C.kSecAttrAccessible: "akpu",
    }


def test_persistent_ref_query_is_only_the_ref() -> None:
    ref = PersistentRef(b"genp" + bytes(8))
    assert ref.to_query() == {C.kSecValuePersistentRef: b"genp" + bytes(8)}
    assert ref.item_class is ItemClass.GENERIC_PASSWORD
    assert "genp" not in repr(PersistentRef(b"\x01\x02\x03\x04secret-ish"))
    assert repr(ref) == "PersistentRef(<generic_password, 12 bytes>)"
    assert bytes(ref) == b"genp" + bytes(8)


def test_enum_fields_accept_values_and_names() -> None:
    loose: dict[str, Any] = {"protocol": "htps"}
    assert InternetPassword(**loose).protocol is Protocol.HTTPS
    loose = {"protocol": "https"}  # the member name works too
    assert InternetPassword(**loose).protocol is Protocol.HTTPS
    loose = {"key_type": "73"}
    assert Key(**loose).key_type is KeyType.EC
    assert GenericPassword(synchronizable=False).synchronizable is Synchronizable.NO


def test_fourcc() -> None:
    assert fourcc("aapl") == 0x6161706C
    with pytest.raises(InvalidQueryError):
        fourcc("toolong")
    loose: dict[str, Any] = {"type_code": "note"}
    assert GenericPassword(**loose).type_code == fourcc("note")


# -- validation -------------------------------------------------------------------


_BAD: list[tuple[type[ItemDescription], dict[str, Any], type[Exception], str]] = [
    (GenericPassword, {"service": b"s"}, QueryTypeError, "service"),
    (GenericPassword, {"account": 1}, QueryTypeError, "account"),
    (GenericPassword, {"generic": "text"}, QueryTypeError, "generic"),
    (GenericPassword, {"is_invisible": 1}, QueryTypeError, "is_invisible"),
    (GenericPassword, {"creator": -1}, InvalidQueryError, "creator"),
    (GenericPassword, {"creator": 2**32}, InvalidQueryError, "creator"),
    (GenericPassword, {"type_code": "toolong"}, InvalidQueryError, "type_code"),
    (InternetPassword, {"port": 65536}, InvalidQueryError, "port"),
    (InternetPassword, {"port": -1}, InvalidQueryError, "port"),
    (InternetPassword, {"port": True}, QueryTypeError, "port"),
    (InternetPassword, {"protocol": "gopher"}, InvalidQueryError, "protocol"),
    (GenericPassword, {"accessible": 3}, QueryTypeError, "accessible"),
    (GenericPassword, {"access_control": 2}, QueryTypeError, "access_control"),
    (GenericPassword, {"synchronizable": "sometimes"}, InvalidQueryError, "synchronizable"),
    (GenericPassword, {"service": "a\x00b"}, InvalidQueryError, "service"),
    (Key, {"key_size_in_bits": -5}, InvalidQueryError, "key_size_in_bits"),
    (Certificate, {"issuer": "cn"}, QueryTypeError, "issuer"),
]


@pytest.mark.parametrize(("cls", "kwargs", "error", "name"), _BAD)
def test_validation_names_the_field(
    cls: type[ItemDescription], kwargs: dict[str, Any], error: type[Exception], name: str
) -> None:
    field = f"{cls.__name__}.{name}"
    with pytest.raises(error) as info:
        cls(**kwargs)
    assert isinstance(info.value, InvalidQueryError)
    assert info.value.field == field
    assert str(info.value).startswith(field)


def test_type_errors_are_type_and_value_errors() -> None:
    with pytest.raises(TypeError):
        GenericPassword(service=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        GenericPassword(service=1)  # type: ignore[arg-type]


def test_accessible_conflicts_with_access_control() -> None:
    with pytest.raises(InvalidQueryError, match="access_control") as info:
        GenericPassword(
            accessible=Accessible.WHEN_UNLOCKED,
            access_control=AccessPolicy(AccessControlFlags.USER_PRESENCE),
        )
    assert info.value.field == "GenericPassword.accessible"
    assert "protection=Accessible.WHEN_UNLOCKED" in str(info.value)


def test_access_control_not_synchronizable() -> None:
    with pytest.raises(InvalidQueryError) as info:
        InternetPassword(
            access_control=AccessPolicy(AccessControlFlags.DEVICE_PASSCODE), synchronizable=True
        )
    assert info.value.field == "InternetPassword.synchronizable"


@pytest.mark.parametrize("accessible", [a for a in Accessible if a.this_device_only])
def test_this_device_only_not_synchronizable(accessible: Accessible) -> None:
    with pytest.raises(InvalidQueryError, match="THIS_DEVICE_ONLY"):
        GenericPassword(accessible=accessible, synchronizable=Synchronizable.YES)
    # fine in a query that matches both kinds, and without synchronization
    GenericPassword(accessible=accessible, synchronizable=Synchronizable.ANY)
    GenericPassword(accessible=accessible, synchronizable=False)


def test_any_is_for_queries_only() -> None:
    item = GenericPassword(service="s", synchronizable=Synchronizable.ANY)
    with pytest.raises(InvalidQueryError, match="only makes sense in queries"):
        item.to_attributes()


@pytest.mark.parametrize(
    "flags",
    [
        AccessControlFlags.OR | AccessControlFlags.AND,
        AccessControlFlags.BIOMETRY_ANY | AccessControlFlags.BIOMETRY_CURRENT_SET,
        AccessControlFlags.USER_PRESENCE | AccessControlFlags.DEVICE_PASSCODE,
    ],
)
def test_access_policy_rejects_apple_refused_combinations(flags: AccessControlFlags) -> None:
    with pytest.raises(InvalidQueryError) as info:
        AccessPolicy(flags)
    assert info.value.field == "AccessPolicy.flags"


def test_access_policy_accepts_valid_combinations() -> None:
    AccessPolicy(AccessControlFlags.USER_PRESENCE | AccessControlFlags.PRIVATE_KEY_USAGE)
    AccessPolicy(
        AccessControlFlags.BIOMETRY_ANY | AccessControlFlags.OR | AccessControlFlags.DEVICE_PASSCODE
    )
    p = AccessPolicy(AccessControlFlags(0), protection="ak")  # type: ignore[arg-type]
    assert p.protection is Accessible.WHEN_UNLOCKED


def test_search_only_classes_cannot_be_added() -> None:
    for cls in (Certificate, Key, Identity):
        with pytest.raises(InvalidQueryError, match=r"secitem\.security"):
            cls().to_attributes()


def test_update_changes_reject_unknown_and_read_only_names() -> None:
    with pytest.raises(InvalidQueryError, match="did you mean 'label'") as info:
        changes_for(GenericPassword, {"lable": "x"})
    assert info.value.field == "update(lable=...)"
    with pytest.raises(InvalidQueryError, match="read-only"):
        changes_for(GenericPassword, {"modification_date": datetime.now(UTC)})
    with pytest.raises(InvalidQueryError, match="has no attribute 'server'"):
        changes_for(GenericPassword, {"server": "e.com"})
    with pytest.raises(InvalidQueryError, match=r"data=\.\.\."):
        changes_for(GenericPassword, {"data": b"x"})
    changes = changes_for(GenericPassword, {"label": "x"}).to_changes()
    assert changes == {C.kSecAttrLabel: "x"}
    assert C.kSecClass not in changes


# -- results --------------------------------------------------------------------------


def test_item_from_data_protection_result() -> None:
    """DP returns numbers for numeric strings and no class key."""
    when = datetime(2024, 1, 2, tzinfo=UTC)
    result = {
        C.kSecAttrServer: "e.com",
        C.kSecAttrAccount: "bob",
        C.kSecAttrProtocol: "htps",
        C.kSecAttrAuthenticationType: "",
        C.kSecAttrPort: 443,
        C.kSecAttrPath: "",
        C.kSecAttrSecurityDomain: "",
        C.kSecAttrAccessible: "ak",
        C.kSecAttrAccessGroup: "g1",
        C.kSecAttrSynchronizable: 0,
        C.kSecAttrIsInvisible: 1,
        C.kSecAttrCreationDate: when,
        C.kSecAttrModificationDate: when,
        "musr": b"",
        C.kSecValueData: b"hunter2",
        C.kSecValuePersistentRef: b"inet" + bytes(8),
    }
    item = item_from_result(InternetPassword, result)
    a = item.attributes
    assert isinstance(a, InternetPassword)
    assert (a.server, a.account, a.protocol, a.port) == ("e.com", "bob", Protocol.HTTPS, 443)
    assert a.authentication_type is None  # "" = not set
    assert a.accessible is Accessible.WHEN_UNLOCKED
    assert a.synchronizable is Synchronizable.NO
    assert a.is_invisible is True
    assert item.creation_date == when
    assert item.data == b"hunter2"
    assert item.text == "hunter2"
    assert item.persistent_ref == PersistentRef(b"inet" + bytes(8), ItemClass.INTERNET_PASSWORD)
    assert "musr" in item.raw and C.kSecValueData not in item.raw


def test_item_from_key_result_numbers() -> None:
    item = item_from_result(
        Key, {C.kSecAttrKeyClass: 1, C.kSecAttrKeyType: 73, C.kSecAttrKeySizeInBits: 256}
    )
    assert item.attributes.key_class is KeyClass.PRIVATE
    assert item.attributes.key_type is KeyType.EC
    assert item.attributes.key_size_in_bits == 256


def test_item_repr_never_shows_the_secret() -> None:
    item = item_from_result(
        GenericPassword,
        {C.kSecAttrService: "s", C.kSecAttrAccount: "a", C.kSecValueData: b"TOPSECRET"},
    )
    assert "TOPSECRET" not in repr(item)
    assert "TOPSECRET" not in str(item)
    assert "data=<hidden>" in repr(item)
    assert repr(item).startswith("Item[GenericPassword](service='s', account='a'")


def test_item_is_frozen() -> None:
    item: Item[GenericPassword] = Item(attributes=GenericPassword(service="s"))
    with pytest.raises(AttributeError):
        item.data = b"x"  # type: ignore[misc]


def test_description_repr_shows_only_set_fields() -> None:
    assert repr(GenericPassword(service="s")) == "GenericPassword(service='s')"


# -- properties ---------------------------------------------------------------------

_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=12
)
_generic = st.builds(
    GenericPassword,
    service=st.none() | _text,
    account=st.none() | _text,
    label=st.none() | _text,
    generic=st.none() | st.binary(max_size=8),
    creator=st.none() | st.integers(0, 2**32 - 1),
    is_negative=st.none() | st.booleans(),
    accessible=st.none() | st.sampled_from(Accessible),
    access_group=st.none() | _text,
)
_internet = st.builds(
    InternetPassword,
    server=st.none() | _text,
    account=st.none() | _text,
    protocol=st.none() | st.sampled_from(Protocol),
    authentication_type=st.none() | st.sampled_from(AuthenticationType),
    port=st.none() | st.integers(0, 65535),
    path=st.none() | _text,
    security_domain=st.none() | _text,
)


@settings(max_examples=200)
@given(st.one_of(_generic, _internet))
def test_round_trip_through_attributes(item: GenericPassword | InternetPassword) -> None:
    """A description survives description -> attribute dictionary -> description."""
    attrs = item.to_attributes()
    back = type(item).from_attributes(attrs)
    assert back == item
    assert set(item.identity_query()) <= set(attrs) | set(item.identity_query())
    assert not set(item.non_identity_changes()) & set(item.identity_query())


@given(st.one_of(_generic, _internet))
def test_query_is_attributes_without_policies(item: GenericPassword | InternetPassword) -> None:
    assert item.to_query() == item.to_attributes()


def test_descriptions_table() -> None:
    assert {cls.item_class for cls in DESCRIPTIONS.values()} == set(ItemClass)
    for cls in DESCRIPTIONS.values():
        for name in cls.field_names():
            assert name.isidentifier()
