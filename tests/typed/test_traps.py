"""Each trap of facts section 7: the raw call misbehaves, Keychain does the right thing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from secitem import security as S
from secitem.errors import (
    DuplicateItemError,
    ItemNotFoundError,
    KeychainError,
    MissingEntitlementError,
    ParamError,
)
from secitem.items import (
    Accessible,
    GenericPassword,
    InternetPassword,
    InvalidQueryError,
    Protocol,
    Synchronizable,
)
from secitem.keychain import Keychain

SVC = "org.example.trap"


def _raw_add(account: str, secret: bytes = b"pw", **extra: Any) -> None:
    attrs: dict[str, object] = {
        S.kSecClass: S.kSecClassGenericPassword,
        S.kSecAttrService: SVC,
        S.kSecAttrAccount: account,
        S.kSecValueData: secret,
    }
    attrs.update(extra)
    S.SecItemAdd(attrs)


def _raw_count(**extra: object) -> int:
    query: dict[str, object] = {
        S.kSecClass: S.kSecClassGenericPassword,
        S.kSecAttrService: SVC,
        S.kSecMatchLimit: S.kSecMatchLimitAll,
        S.kSecReturnAttributes: True,
    }
    query.update(extra)
    try:
        found = S.SecItemCopyMatching(query)
    except ItemNotFoundError:
        return 0
    assert isinstance(found, list)
    return len(found)


def _macos(sim: Any, groups: str = "") -> None:
    sim.lib.secsim_set_profile(b"macos")
    sim.lib.secsim_set_access_groups(groups.encode())


def _ios(sim: Any) -> None:
    sim.lib.secsim_set_profile(b"ios")


# 1. file-based update/delete affect only the first match -----------------------------


def test_file_based_delete_first_match_only(sim: Any) -> None:
    """Raw SecItemDelete removes one of two matches on macOS; Keychain.delete removes both."""
    _macos(sim)
    _raw_add("a")
    _raw_add("b")
    S.SecItemDelete({S.kSecClass: S.kSecClassGenericPassword, S.kSecAttrService: SVC})
    assert _raw_count() == 1  # the trap: one survivor

    _raw_add("a")
    assert Keychain(platform="macos").delete(GenericPassword(service=SVC)) is True
    assert _raw_count() == 0


def test_file_based_update_first_match_only(sim: Any) -> None:
    """Raw SecItemUpdate changes one of two matches on macOS; Keychain.update changes both."""
    _macos(sim)
    _raw_add("a")
    _raw_add("b")
    query: dict[str, object] = {S.kSecClass: S.kSecClassGenericPassword, S.kSecAttrService: SVC}
    S.SecItemUpdate(query, {S.kSecAttrLabel: "raw"})
    assert _raw_count(**{S.kSecAttrLabel: "raw"}) == 1  # the trap

    kc = Keychain(platform="macos")
    kc.update(GenericPassword(service=SVC), label="typed")
    assert {i.attributes.label for i in kc.find(GenericPassword(service=SVC))} == {"typed"}
    assert len(kc.find(GenericPassword(service=SVC))) == 2


# 2. macOS routing: add prefers the file-based keychain; DP -34018 is swallowed ------------


def test_unsigned_process_and_the_data_protection_keychain(sim: Any) -> None:
    """An unsigned interpreter cannot use the DP keychain; default routing still works."""
    _macos(sim)  # no access groups: an unsigned Python
    with pytest.raises(MissingEntitlementError):
        _raw_add("a", b"pw", **{S.kSecUseDataProtectionKeychain: True})
    with pytest.raises(MissingEntitlementError) as info:
        Keychain(platform="macos", data_protection=True).add(GenericPassword(service=SVC), "pw")
    assert info.value.hint  # says why and what to do

    kc = Keychain(platform="macos")
    kc.add(GenericPassword(service=SVC, account="a"), "pw")
    assert kc.get(GenericPassword(service=SVC)).data == b"pw"  # DP's -34018 was ignored
    assert kc.delete(GenericPassword(service=SVC))


def test_default_routing_reaches_both_keychains(sim: Any) -> None:
    """With entitlements, Keychain() finds, updates and deletes in both keychains."""
    _macos(sim, "g1")
    dp = Keychain(platform="macos", data_protection=True)
    both = Keychain(platform="macos")
    dp.add(GenericPassword(service=SVC, account="in-dp"), "1")
    both.add(GenericPassword(service=SVC, account="in-file"), "2")
    # each keychain holds one item
    assert [i.attributes.account for i in dp.find(GenericPassword(service=SVC))] == ["in-dp"]
    assert {i.attributes.account for i in both.find(GenericPassword(service=SVC))} == {
        "in-dp",
        "in-file",
    }
    both.update(GenericPassword(service=SVC), data="3")
    assert {i.data for i in both.find(GenericPassword(service=SVC), data=True)} == {b"3"}
    assert both.delete(GenericPassword(service=SVC))
    assert both.find(GenericPassword(service=SVC)) == []


# 3. return data + match limit all on the file-based keychain ---------------------------


def test_file_based_refuses_all_secrets_at_once(sim: Any) -> None:
    """Raw r_Data + kSecMatchLimitAll is errSecParam on macOS; find(data=True) works."""
    _macos(sim)
    _raw_add("a", b"1")
    _raw_add("b", b"2")
    with pytest.raises(ParamError):
        S.SecItemCopyMatching(
            {
                S.kSecClass: S.kSecClassGenericPassword,
                S.kSecAttrService: SVC,
                S.kSecMatchLimit: S.kSecMatchLimitAll,
                S.kSecReturnData: True,
            }
        )
    found = Keychain(platform="macos").find(GenericPassword(service=SVC), data=True)
    assert sorted((i.attributes.account, i.data) for i in found) == [("a", b"1"), ("b", b"2")]


# 4. uniqueness ignores label, accessibility ...; sync and access group are part of it ------


def test_duplicate_despite_different_label(sim: Any, profile: str) -> None:
    """A changed label still collides; upsert updates the item in place."""
    _raw_add("a", b"old", **{S.kSecAttrLabel: "one"})
    with pytest.raises(DuplicateItemError):
        _raw_add("a", b"new", **{S.kSecAttrLabel: "two"})

    kc = Keychain(platform=profile)  # type: ignore[arg-type]
    before = kc.get(GenericPassword(service=SVC, account="a"))
    added = kc.upsert(GenericPassword(service=SVC, account="a", label="two"), "new")
    after = kc.get(GenericPassword(service=SVC, account="a"))
    assert added is False
    assert (after.attributes.label, after.data) == ("two", b"new")
    # in place: same item (persistent reference and creation date kept), not delete+add
    assert after.persistent_ref == before.persistent_ref
    assert after.creation_date == before.creation_date


def test_upsert_update_query_holds_identity_only(sim: Any) -> None:
    """A changed accessibility must not make upsert miss the stored item."""
    _ios(sim)
    kc = Keychain(platform="ios")
    kc.add(GenericPassword(service=SVC, account="a", accessible=Accessible.WHEN_UNLOCKED), "1")
    later = GenericPassword(service=SVC, account="a", accessible=Accessible.AFTER_FIRST_UNLOCK)
    kc.upsert(later, "2")
    [item] = kc.find(GenericPassword(service=SVC), data=True)
    assert (item.attributes.accessible, item.data) == (Accessible.AFTER_FIRST_UNLOCK, b"2")


def test_missing_identity_attributes_collide(sim: Any, profile: str) -> None:
    """Two adds without an account collide (the account defaults to "")."""
    kc = Keychain(platform=profile)  # type: ignore[arg-type]
    kc.add(GenericPassword(service=SVC), "1")
    with pytest.raises(DuplicateItemError):
        kc.add(GenericPassword(service=SVC, label="other"), "2")
    assert kc.upsert(GenericPassword(service=SVC, label="other"), "2") is False
    assert kc.get(GenericPassword(service=SVC)).data == b"2"


def test_sync_and_group_are_part_of_identity(sim: Any) -> None:
    """Synchronizable and non-synchronizable copies coexist, as do copies in two groups."""
    _ios(sim)
    sim.lib.secsim_set_access_groups(b"g1,g2")
    kc = Keychain(platform="ios")
    kc.add(GenericPassword(service=SVC, account="a"), "local")
    kc.add(GenericPassword(service=SVC, account="a", synchronizable=True), "icloud")
    kc.add(GenericPassword(service=SVC, account="a", access_group="g2"), "shared")
    # Apple's default query sees only non-synchronizable items
    assert {i.data for i in kc.find(GenericPassword(service=SVC), data=True)} == {
        b"local",
        b"shared",
    }
    every = kc.find(GenericPassword(service=SVC, synchronizable=Synchronizable.ANY), data=True)
    assert len(every) == 3
    # upsert without a group cannot tell g1's item from g2's: it asks
    with pytest.raises(InvalidQueryError, match="several access groups"):
        kc.upsert(GenericPassword(service=SVC, account="a"), "x")
    kc.upsert(GenericPassword(service=SVC, account="a", access_group="g1"), "x")
    assert kc.get(GenericPassword(service=SVC, access_group="g1")).data == b"x"
    assert kc.get(GenericPassword(service=SVC, access_group="g2")).data == b"shared"


# 5. creation and modification dates are the keychain's --------------------------------


def test_dates_are_read_only(sim: Any) -> None:
    """Raw SecItemAdd silently overwrites a given creation date; the typed layer refuses it."""
    _ios(sim)
    past = datetime(2001, 1, 2, tzinfo=UTC)
    _raw_add("a", b"pw", **{S.kSecAttrCreationDate: past})
    item = Keychain(platform="ios").get(GenericPassword(service=SVC))
    assert item.creation_date is not None and item.creation_date != past
    with pytest.raises(TypeError):
        GenericPassword(service=SVC, creation_date=past)  # type: ignore[call-arg]
    with pytest.raises(InvalidQueryError, match="read-only"):
        Keychain(platform="ios").update(GenericPassword(service=SVC), modification_date=past)


# 6. kSecMatchCaseInsensitive is a no-op ---------------------------------------------------


def test_matching_is_exact(sim: Any, profile: str) -> None:
    """Apple ignores kSecMatchCaseInsensitive; the typed layer offers no such false promise."""
    _raw_add("Alice")
    with pytest.raises(ItemNotFoundError):
        S.SecItemCopyMatching(
            {
                S.kSecClass: S.kSecClassGenericPassword,
                S.kSecAttrAccount: "alice",
                S.kSecMatchCaseInsensitive: True,
            }
        )
    kc = Keychain(platform=profile)  # type: ignore[arg-type]
    assert kc.find(GenericPassword(account="alice")) == []
    assert len(kc.find(GenericPassword(account="Alice"))) == 1
    assert "case_insensitive" not in GenericPassword.field_names()


# 7. keys that are not attributes of the class in an update ------------------------------


def test_update_rejects_non_attributes_before_the_call(sim: Any) -> None:
    """Raw update with kSecClass/an inet key in the attributes is errSecNoSuchAttr (-25303)."""
    _ios(sim)
    _raw_add("a")
    query: dict[str, object] = {S.kSecClass: S.kSecClassGenericPassword, S.kSecAttrService: SVC}
    bads: list[dict[str, object]] = [
        {S.kSecClass: S.kSecClassGenericPassword},
        {S.kSecAttrServer: "e.com"},
    ]
    for bad in bads:
        with pytest.raises(KeychainError) as info:
            S.SecItemUpdate(query, bad)
        assert info.value.status == -25303

    kc = Keychain(platform="ios")
    sim.lib.secsim_fail_next(b"SecItemUpdate", -25300)  # tripwire: any native update fails
    with pytest.raises(InvalidQueryError, match="has no attribute 'server'"):
        kc.update(GenericPassword(service=SVC), server="e.com")
    with pytest.raises(InvalidQueryError, match="did you mean 'label'"):
        kc.update(GenericPassword(service=SVC), lable="x")
    with pytest.raises(ItemNotFoundError):  # the tripwire is still armed: no call was made
        S.SecItemUpdate(query, {S.kSecAttrLabel: "x"})
    kc.update(GenericPassword(service=SVC), label="ok")
    assert kc.get(GenericPassword(service=SVC)).attributes.label == "ok"


# 8. the file-based SecItemAdd hands back an item reference --------------------------------


def test_add_returns_a_persistent_ref_and_leaks_nothing(sim: Any, profile: str) -> None:
    """Keychain.add asks for a persistent reference (no stray item ref to release)."""
    kc = Keychain(platform=profile)  # type: ignore[arg-type]
    ref = kc.add(InternetPassword(server="e.com", account="a", protocol=Protocol.HTTPS), "pw")
    assert ref is not None
    assert kc.get(ref).data == b"pw"
    # the autouse fixture checks that no CoreFoundation object outlived the test


# 9. return keys must be real booleans --------------------------------------------------


def test_return_keys_are_booleans(sim: Any) -> None:
    """The data-protection keychain rejects kSecReturnData = 1; Keychain sends True."""
    _ios(sim)
    _raw_add("a", b"pw")
    with pytest.raises(ParamError):
        S.SecItemCopyMatching(
            {S.kSecClass: S.kSecClassGenericPassword, S.kSecAttrService: SVC, S.kSecReturnData: 1}
        )
    assert Keychain(platform="ios").get(GenericPassword(service=SVC)).data == b"pw"


# iOS: match and return keys in SecItemUpdate / SecItemDelete are errSecParam ----------------


def test_ios_rejects_match_keys_in_update_and_delete(sim: Any) -> None:
    """What fixes macOS (kSecMatchLimitAll) breaks iOS; Keychain sends it only on macOS."""
    _ios(sim)
    _raw_add("a")
    _raw_add("b")
    everything: dict[str, object] = {
        S.kSecClass: S.kSecClassGenericPassword,
        S.kSecAttrService: SVC,
        S.kSecMatchLimit: S.kSecMatchLimitAll,
    }
    with pytest.raises(ParamError):
        S.SecItemDelete(everything)
    with pytest.raises(ParamError):
        S.SecItemUpdate(everything, {S.kSecAttrLabel: "x"})
    with pytest.raises(ParamError):
        with_return: dict[str, object] = {
            S.kSecClass: S.kSecClassGenericPassword,
            S.kSecReturnAttributes: True,
        }
        S.SecItemUpdate(with_return, {S.kSecAttrLabel: "x"})
    kc = Keychain(platform="ios")
    item = kc.get(GenericPassword(service=SVC, account="a"))
    kc.update(item, label="by-ref")  # an Item (fetched with return keys) is a fine query
    kc.update(GenericPassword(service=SVC), data="new")
    assert {i.data for i in kc.find(GenericPassword(service=SVC), data=True)} == {b"new"}
    assert kc.delete(GenericPassword(service=SVC))
    assert kc.find(GenericPassword(service=SVC)) == []
