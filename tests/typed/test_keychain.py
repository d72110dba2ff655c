"""Keychain against the emulator: the operations, results, references and errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from secitem import security as S
from secitem.errors import (
    DuplicateItemError,
    InteractionNotAllowedError,
    ItemNotFoundError,
    UserCanceledError,
)
from secitem.items import (
    AccessControlFlags,
    Accessible,
    AccessPolicy,
    AuthenticationType,
    GenericPassword,
    InternetPassword,
    InvalidQueryError,
    Item,
    Key,
    KeyClass,
    KeyType,
    PersistentRef,
    Protocol,
    QueryTypeError,
    fourcc,
)
from secitem.keychain import Keychain, current_platform

SVC = "org.example.api"


def test_generic_password_lifecycle(kc: Keychain) -> None:
    """add -> get -> update -> find -> delete, with typed attributes."""
    item = GenericPassword(service=SVC, account="alice", label="API", comment="token")
    ref = kc.add(item, "s3cret")
    assert isinstance(ref, PersistentRef)

    got = kc.get(GenericPassword(service=SVC, account="alice"))
    assert isinstance(got, Item)
    assert got.data == b"s3cret"
    assert got.text == "s3cret"
    assert got.attributes.account == "alice"
    assert got.attributes.label == "API"
    assert got.attributes.comment == "token"
    assert isinstance(got.creation_date, datetime)
    assert got.persistent_ref == ref
    assert "s3cret" not in repr(got)

    kc.update(GenericPassword(service=SVC, account="alice"), data=b"n3w", label="API v2")
    [found] = kc.find(GenericPassword(service=SVC))
    assert found.data is None  # metadata only unless asked
    assert found.attributes.label == "API v2"
    assert kc.get(found).data == b"n3w"

    assert kc.delete(GenericPassword(service=SVC, account="alice")) is True
    with pytest.raises(ItemNotFoundError):
        kc.get(GenericPassword(service=SVC, account="alice"))
    assert kc.delete(GenericPassword(service=SVC), missing_ok=True) is False
    with pytest.raises(ItemNotFoundError):
        kc.delete(GenericPassword(service=SVC))


def test_internet_password_attributes_round_trip(kc: Keychain) -> None:
    item = InternetPassword(
        server="example.com",
        account="bob",
        protocol=Protocol.HTTPS,
        authentication_type=AuthenticationType.HTML_FORM,
        port=8443,
        path="/login",
        security_domain="realm",
        label="Example",
        creator=fourcc("aapl"),
        is_invisible=True,
    )
    kc.add(item, "pw")
    got = kc.get(InternetPassword(server="example.com"))
    for name, value in item.fields().items():
        assert getattr(got.attributes, name) == value, name
    assert got.data == b"pw"


def test_find_limit_and_data(kc: Keychain) -> None:
    for n in range(4):
        kc.add(GenericPassword(service=SVC, account=f"u{n}"), f"p{n}")
    assert kc.find(GenericPassword(service="nothing")) == []
    everything = kc.find(GenericPassword(service=SVC), data=True)
    assert sorted((i.attributes.account, i.data) for i in everything) == [
        (f"u{n}", f"p{n}".encode()) for n in range(4)
    ]
    assert len(kc.find(GenericPassword(service=SVC), limit=1)) == 1
    two = kc.find(GenericPassword(service=SVC), limit=2, data=True)
    assert len(two) == 2 and all(i.data for i in two)
    with pytest.raises(InvalidQueryError):
        kc.find(GenericPassword(service=SVC), limit=0)
    with pytest.raises(QueryTypeError):
        kc.find(GenericPassword(service=SVC), limit="2")  # type: ignore[call-overload]


def test_persistent_ref_addresses_exactly_one_item(kc: Keychain) -> None:
    ref_a = kc.add(GenericPassword(service=SVC, account="a"), "1")
    kc.add(GenericPassword(service=SVC, account="b"), "2")
    assert ref_a is not None
    restored = PersistentRef(bytes(ref_a))  # e.g. read back from a config file
    assert kc.get(restored).data == b"1"
    kc.update(restored, label="only-a")
    labels = {i.attributes.account: i.attributes.label for i in kc.find(GenericPassword())}
    assert labels == {"a": "only-a", "b": None}
    [by_ref] = kc.find(ref_a)
    assert by_ref.attributes.account == "a"
    assert kc.delete(ref_a)
    assert [i.attributes.account for i in kc.find(GenericPassword())] == ["b"]
    with pytest.raises(ItemNotFoundError):
        kc.get(ref_a)


def test_item_as_query_deletes_that_item(kc: Keychain) -> None:
    kc.add(GenericPassword(service=SVC, account="a"), "1")
    kc.add(GenericPassword(service=SVC, account="b"), "2")
    first = kc.find(GenericPassword(service=SVC))[0]
    kc.delete(first)
    [left] = kc.find(GenericPassword(service=SVC))
    assert left.attributes.account != first.attributes.account


def test_upsert_adds_then_updates(kc: Keychain) -> None:
    item = GenericPassword(service=SVC, account="a")
    assert kc.upsert(item, "1") is True
    assert kc.upsert(item, "2") is False
    assert kc.upsert(GenericPassword(service=SVC, account="a", label="L"), None) is False
    got = kc.get(item)
    assert (got.data, got.attributes.label) == (b"2", "L")
    with pytest.raises(DuplicateItemError):
        kc.add(item, "3")


def test_upsert_survives_a_concurrent_delete(sim: Any, kc: Keychain) -> None:
    """If the item vanishes between the add and the update, upsert adds again."""
    kc.add(GenericPassword(service=SVC, account="a"), "1")
    sim.lib.secsim_fail_next(b"SecItemUpdate", -25300)
    assert kc.upsert(GenericPassword(service=SVC, account="a"), "2") is False
    assert kc.get(GenericPassword(service=SVC, account="a")).data == b"2"


def test_update_with_changes_object(kc: Keychain) -> None:
    kc.add(InternetPassword(server="e.com", account="a"), "1")
    kc.update(InternetPassword(server="e.com"), changes=InternetPassword(path="/x", port=22))
    got = kc.get(InternetPassword(server="e.com"))
    assert (got.attributes.path, got.attributes.port) == ("/x", 22)
    with pytest.raises(InvalidQueryError, match="is a GenericPassword"):
        kc.update(InternetPassword(server="e.com"), changes=GenericPassword(label="x"))
    with pytest.raises(InvalidQueryError, match="nothing to change"):
        kc.update(InternetPassword(server="e.com"))
    kc.update(InternetPassword(server="e.com"), changes={"path": "/m", "label": "by-name"})
    assert kc.get(InternetPassword(server="e.com")).attributes.path == "/m"
    with pytest.raises(InvalidQueryError, match="has no attribute 'service'"):
        kc.update(InternetPassword(server="e.com"), changes={"service": "x"})
    with pytest.raises(InvalidQueryError, match="not both"):
        kc.update(InternetPassword(server="e.com"), changes=InternetPassword(path="/y"), label="z")


def test_update_can_rename_and_collide(kc: Keychain) -> None:
    kc.add(GenericPassword(service=SVC, account="a"), "1")
    kc.add(GenericPassword(service=SVC, account="b"), "2")
    with pytest.raises(DuplicateItemError):
        kc.update(GenericPassword(service=SVC, account="a"), account="b")
    kc.update(GenericPassword(service=SVC, account="a"), account="c")
    assert kc.get(GenericPassword(service=SVC, account="c")).data == b"1"


def test_locked_device(sim: Any) -> None:
    """A locked device: metadata stays readable, the secret raises (never 'not found')."""
    sim.lib.secsim_set_profile(b"ios")
    kc = Keychain(platform="ios")
    kc.add(GenericPassword(service=SVC, account="a", accessible=Accessible.WHEN_UNLOCKED), "1")
    sim.lib.secsim_set_locked(1)
    with pytest.raises(InteractionNotAllowedError):
        kc.get(GenericPassword(service=SVC))
    [meta] = kc.find(GenericPassword(service=SVC))
    assert meta.attributes.account == "a"
    assert kc.get(GenericPassword(service=SVC), data=False).data is None


def test_access_control(sim: Any) -> None:
    """An AccessPolicy becomes a SecAccessControl for the call and is released after it."""
    sim.lib.secsim_set_profile(b"ios")
    kc = Keychain(platform="ios")
    policy = AccessPolicy(
        AccessControlFlags.USER_PRESENCE, Accessible.WHEN_UNLOCKED_THIS_DEVICE_ONLY
    )
    kc.add(GenericPassword(service=SVC, account="a", access_control=policy), "1")
    [meta] = kc.find(GenericPassword(service=SVC))
    assert meta.attributes.accessible is Accessible.WHEN_UNLOCKED_THIS_DEVICE_ONLY
    assert kc.get(GenericPassword(service=SVC)).data == b"1"  # simulated user approves
    sim.lib.secsim_set_user_response(1)
    with pytest.raises(UserCanceledError):
        kc.get(GenericPassword(service=SVC))


def test_keys_can_be_found_and_deleted(sim: Any) -> None:
    """Search-only classes: find, read typed attributes, delete."""
    sim.lib.secsim_set_profile(b"ios")
    S.SecItemAdd(
        {
            S.kSecClass: S.kSecClassKey,
            S.kSecAttrKeyClass: S.kSecAttrKeyClassPrivate,
            S.kSecAttrKeyType: S.kSecAttrKeyTypeECSECPrimeRandom,
            S.kSecAttrKeySizeInBits: 256,
            S.kSecAttrApplicationTag: b"org.example.key",
            S.kSecAttrLabel: "signing key",
        }
    )
    kc = Keychain(platform="ios")
    [key] = kc.find(Key(application_tag=b"org.example.key"))
    assert key.attributes.key_class is KeyClass.PRIVATE
    assert key.attributes.key_type is KeyType.EC
    assert key.attributes.key_size_in_bits == 256
    assert key.attributes.label == "signing key"
    assert key.persistent_ref is not None
    with pytest.raises(InvalidQueryError, match="SecItemAdd"):
        kc.add(Key(application_tag=b"x"))
    assert kc.delete(key)
    assert kc.find(Key()) == []


def test_keychain_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Keychain(platform="ios").data_protection is True
    assert Keychain(platform="macos").data_protection is False
    assert Keychain(platform="macos", data_protection=True).data_protection is True
    with pytest.raises(InvalidQueryError, match="only the data-protection"):
        Keychain(platform="ios", data_protection=False)
    with pytest.raises(InvalidQueryError):
        Keychain(platform="windows")  # type: ignore[arg-type]
    assert repr(Keychain(platform="ios")) == "Keychain(platform='ios', data_protection=True)"
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("SECSIM_PROFILE", "ios")
    assert current_platform() == "ios"
    monkeypatch.delenv("SECSIM_PROFILE")
    assert current_platform() == "macos"
    monkeypatch.setattr("sys.platform", "darwin")
    assert current_platform() == "macos"
    monkeypatch.setattr("sys.platform", "ios")
    assert current_platform() == "ios"


def test_wrong_query_types(kc: Keychain) -> None:
    with pytest.raises(QueryTypeError):
        kc.get({"svce": "x"})  # type: ignore[call-overload]
    with pytest.raises(QueryTypeError):
        kc.add(GenericPassword(service=SVC), 42)  # type: ignore[arg-type]
