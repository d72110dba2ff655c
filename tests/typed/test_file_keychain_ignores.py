"""Attributes the macOS file-based keychain ignores are refused, not dropped (issue #11 item 14).

On the file-based keychain ``kSecAttrAccessGroup`` and ``kSecAttrAccessible``
are not stored (facts 5.8 #8.6), in a query they match every item, and an
``attributesToUpdate`` entry for them (or for ``kSecAttrAccessControl``)
changes nothing; Apple's call succeeds all the same.  ``Keychain()`` on
macOS sends new items there, so the typed layer refuses these fields with an
error naming the field and the fix; on the data-protection keychain (iOS,
``Keychain(data_protection=True)``) they work.
"""

from __future__ import annotations

from typing import Any

import pytest

from secitem import security as S
from secitem.items import (
    AccessControlFlags,
    Accessible,
    AccessPolicy,
    Certificate,
    GenericPassword,
    InternetPassword,
    InvalidQueryError,
    Synchronizable,
)
from secitem.keychain import Keychain
from secitem.store import CredentialStore

SVC = "org.example.fb"
GROUP = "T.shared"


def _fb() -> Keychain:
    return Keychain(platform="macos")


@pytest.mark.usefixtures("no_native")
@pytest.mark.parametrize("cls", [GenericPassword, InternetPassword])
def test_add_with_access_group_is_refused(cls: Any) -> None:
    """issue #11 item 14: Keychain().add(GenericPassword(..., access_group="T.shared"), "x")
    succeeded on macOS and the item had no group; now it is refused before any call."""
    with pytest.raises(InvalidQueryError) as info:
        _fb().add(cls(account="a", access_group=GROUP), "x")
    assert info.value.field == f"{cls.__name__}.access_group"
    assert "Keychain(data_protection=True)" in str(info.value)
    assert "file-based" in str(info.value)


@pytest.mark.usefixtures("no_native")
def test_add_with_accessible_is_refused() -> None:
    """issue #11 item 14 (audit): kSecAttrAccessible is dropped by the file-based keychain too."""
    with pytest.raises(InvalidQueryError) as info:
        _fb().add(GenericPassword(service=SVC, accessible=Accessible.AFTER_FIRST_UNLOCK), "x")
    assert info.value.field == "GenericPassword.accessible"
    with pytest.raises(InvalidQueryError, match=r"GenericPassword\.accessible"):
        _fb().upsert(GenericPassword(service=SVC, accessible=Accessible.AFTER_FIRST_UNLOCK), "x")


@pytest.mark.usefixtures("no_native")
@pytest.mark.parametrize(
    ("query", "field"),
    [
        (GenericPassword(service=SVC, access_group=GROUP), "GenericPassword.access_group"),
        (InternetPassword(server=SVC, accessible=Accessible.ALWAYS), "InternetPassword.accessible"),
        (
            GenericPassword(
                service=SVC, access_control=AccessPolicy(AccessControlFlags.USER_PRESENCE)
            ),
            "GenericPassword.access_control",
        ),
        (
            GenericPassword(service=SVC, access_group=GROUP, synchronizable=Synchronizable.ANY),
            "GenericPassword.access_group",
        ),
        (Certificate(access_group=GROUP), "Certificate.access_group"),
    ],
)
def test_queries_that_would_match_everything_are_refused(query: Any, field: str) -> None:
    """issue #11 item 14 (audit): in a query the file-based keychain ignores these
    fields, so find/get/delete would reach items of any group or accessibility."""
    kc = _fb()
    for call in (kc.find, kc.get, kc.delete, kc.secret):
        with pytest.raises(InvalidQueryError) as info:
            call(query)
        assert info.value.field == field
    with pytest.raises(InvalidQueryError):
        kc.update(query, label="x")


@pytest.mark.usefixtures("no_native")
@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"access_group": GROUP}, "access_group"),
        ({"accessible": Accessible.ALWAYS}, "accessible"),
        ({"access_control": AccessPolicy(AccessControlFlags.USER_PRESENCE)}, "access_control"),
    ],
)
def test_updates_that_would_change_nothing_are_refused(changes: dict[str, Any], name: str) -> None:
    """issue #11 item 14 (audit): SecItemUpdate of these on a file-based item succeeds
    and leaves the item as it was."""
    with pytest.raises(InvalidQueryError) as info:
        _fb().update(GenericPassword(service=SVC), changes=changes)
    assert info.value.field == f"update({name}=...)"
    assert "Keychain(data_protection=True)" in str(info.value)


def test_what_the_emulator_shows_without_the_check(sim: Any) -> None:
    """The defect itself, through the raw layer: the group is silently dropped."""
    S.SecItemAdd(
        {
            S.kSecClass: S.kSecClassGenericPassword,
            S.kSecAttrService: SVC,
            S.kSecAttrAccessGroup: GROUP,
            S.kSecValueData: b"x",
        }
    )
    item = _fb().get(GenericPassword(service=SVC))
    assert item.attributes.access_group is None


def test_data_protection_and_ios_keep_working(sim: Any) -> None:
    """Where the attributes are honoured they are accepted as before."""
    sim.lib.secsim_set_access_groups(b"T.app,T.shared")
    for kc in (Keychain(platform="macos", data_protection=True), None):
        if kc is None:
            sim.lib.secsim_set_profile(b"ios")  # (resets the access groups)
            sim.lib.secsim_set_access_groups(b"T.app,T.shared")
            kc = Keychain(platform="ios")
        item = GenericPassword(
            service=SVC, account="a", access_group=GROUP, accessible=Accessible.AFTER_FIRST_UNLOCK
        )
        kc.add(item, "x")
        found = kc.get(GenericPassword(service=SVC, access_group=GROUP))
        assert found.attributes.access_group == GROUP
        assert found.attributes.accessible is Accessible.AFTER_FIRST_UNLOCK
        kc.update(GenericPassword(service=SVC), accessible=Accessible.WHEN_UNLOCKED)
        assert kc.get(found).attributes.accessible is Accessible.WHEN_UNLOCKED
        kc.delete(GenericPassword(service=SVC))


def test_calls_that_go_to_the_data_protection_keychain_anyway(sim: Any) -> None:
    """On macOS, synchronizable=True and an access control route the call to the
    data-protection keychain (facts 5.1 #1.2): nothing is ignored there."""
    sim.lib.secsim_set_access_groups(b"T.app,T.shared")
    kc = _fb()
    kc.add(GenericPassword(service=SVC, account="s", synchronizable=True, access_group=GROUP), "x")
    [synced] = kc.find(GenericPassword(service=SVC, synchronizable=True, access_group=GROUP))
    assert synced.attributes.access_group == GROUP
    # an Item of the data-protection keychain is addressed by its (DP) persistent ref
    kc.update(synced, accessible=Accessible.AFTER_FIRST_UNLOCK)
    assert kc.get(synced).attributes.accessible is Accessible.AFTER_FIRST_UNLOCK
    policy = AccessPolicy(AccessControlFlags.USER_PRESENCE)
    kc.add(GenericPassword(service=SVC, account="p", access_control=policy), "y")


def test_file_based_items_addressed_by_reference_refuse_these_changes(sim: Any) -> None:
    kc = _fb()
    kc.add(GenericPassword(service=SVC, account="a"), "x")
    [item] = kc.find(GenericPassword(service=SVC))
    with pytest.raises(InvalidQueryError, match=r"update\(accessible=\.\.\.\)"):
        kc.update(item, accessible=Accessible.ALWAYS)
    assert item.persistent_ref is not None
    with pytest.raises(InvalidQueryError, match=r"update\(access_group=\.\.\.\)"):
        kc.update(item.persistent_ref, access_group=GROUP)


@pytest.mark.usefixtures("no_native")
@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"access_group": GROUP}, "access_group"),
        ({"accessible": Accessible.AFTER_FIRST_UNLOCK}, "accessible"),
        (
            {"access_group": GROUP, "access_control": AccessControlFlags.USER_PRESENCE},
            "access_group",
        ),
    ],
)
def test_credential_store_refuses_them_when_created(options: dict[str, Any], name: str) -> None:
    """issue #11 item 14 through CredentialStore: refused at construction, by option name."""
    with pytest.raises(InvalidQueryError) as info:
        CredentialStore(service=SVC, keychain=_fb(), **options)
    assert info.value.field == f"CredentialStore({name}=...)"
    assert "data_protection=True" in str(info.value)
    # accepted where they are honoured
    CredentialStore(
        service=SVC, keychain=Keychain(platform="macos", data_protection=True), **options
    )
    CredentialStore(service=SVC, keychain=Keychain(platform="ios"), **options)
    if "access_control" not in options:
        CredentialStore(service=SVC, keychain=_fb(), synchronizable=True, **options)


def test_upsert_with_access_control_updates_only_the_data_protection_item(sim: Any) -> None:
    """issue #11 item 14, same class in upsert: an access control sends the add to the
    data-protection keychain, but the update step searched both keychains and also
    overwrote a file-based twin (which ignores the access control)."""
    sim.lib.secsim_set_access_groups(b"T.app")
    kc = _fb()
    kc.add(GenericPassword(service=SVC, account="a"), "file-based")
    policy = AccessPolicy(AccessControlFlags.USER_PRESENCE)
    protected = GenericPassword(service=SVC, account="a", access_control=policy)
    assert kc.upsert(protected, "first") is True  # no DP item yet: added there
    assert kc.upsert(protected, "second") is False  # updated in place
    dp = Keychain(platform="macos", data_protection=True)
    assert dp.get(GenericPassword(service=SVC, account="a")).data == b"second"
    file_based = Keychain(platform="macos")
    items = file_based.find(GenericPassword(service=SVC, account="a"), data=True)
    assert sorted(i.data or b"" for i in items) == [b"file-based", b"second"]
