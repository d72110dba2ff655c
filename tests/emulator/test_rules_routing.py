"""Routing between the file-based (FB) and data-protection (DP) keychains on
the macos profile (facts §5.1), class errors (§5.11) and entitlements (§5.12)."""

from __future__ import annotations

from typing import Any

import pytest

from .test_rules_helpers import (
    APP_GROUP,
    DUPLICATE,
    KC,
    MISSING_ENTITLEMENT,
    NO_SUCH_CLASS,
    NOT_FOUND,
    OK,
    PARAM,
    dp,
    genp,
)


@pytest.fixture
def mac(kc: KC) -> KC:
    """macos profile, process entitled for APP_GROUP (so DP answers too)."""
    kc.lib.secsim_set_profile(b"macos")
    kc.lib.secsim_set_access_groups(APP_GROUP.encode())
    return kc


def where(kc: KC, **attrs: Any) -> set[str]:
    """Which keychain(s) hold an item with these attributes: {"fb", "dp"}."""
    out = set()
    st, _ = kc.copy(genp(nleg=False, **attrs))
    if st == OK:
        out.add("fb")
    st, _ = kc.copy(genp(nleg=True, **attrs))
    if st == OK:
        out.add("dp")
    return out


# 1.1 / 1.4 ------------------------------------------------------------------


def test_1_1_default_is_file_based(mac: KC) -> None:
    """5.1 #1.1/#1.4: a plain macOS add goes to the file-based keychain."""
    mac.add_ok(genp(acct="a", v_Data=b"x"))
    assert where(mac, acct="a") == {"fb"}


def test_1_1_data_protection_flag_targets_dp(mac: KC) -> None:
    """5.1 #1.1: kSecUseDataProtectionKeychain true targets DP."""
    mac.add_ok(genp(acct="a", nleg=True))
    assert where(mac, acct="a") == {"dp"}


def test_1_2_synchronizable_targets_dp(mac: KC) -> None:
    """5.1 #1.2: kSecAttrSynchronizable truthy -> DP only."""
    mac.add_ok(genp(acct="a", sync=True))
    st, _ = mac.copy(genp(acct="a", sync=True, nleg=True))
    assert st == OK
    st, _ = mac.copy(genp(acct="a", nleg=False))
    assert st == NOT_FOUND


def test_1_2_flag_decides_alone(mac: KC) -> None:
    """5.1 #1.2: an explicit false DP flag decides alone (FB) even with sync true."""
    mac.add_ok(genp(acct="a", sync=True, nleg=False))
    assert where(mac, acct="a") == {"fb"}


def test_1_2_nolegacy_alias(mac: KC) -> None:
    """5.1 #1.2: kSecAttrNoLegacy (same string "nleg") is the same flag."""
    mac.add_ok({mac.lib.kSecClass: "genp", "acct": "a", mac.lib.kSecAttrNoLegacy: True})
    assert where(mac, acct="a") == {"dp"}


def test_1_2_access_control_targets_dp(mac: KC) -> None:
    """5.1 #1.2: kSecAttrAccessControl present -> DP only."""
    ac = mac.access_control("ak", 0)
    mac.add_ok(genp(acct="a", accc=ac.ptr))
    assert where(mac, acct="a") == {"dp"}


def test_1_2_token_id_targets_dp(mac: KC) -> None:
    """5.1 #1.2: kSecAttrTokenID present -> DP only."""
    mac.add_ok(genp(acct="a", tkid="com.example.token"))
    st, _ = mac.copy(genp(acct="a", tkid="com.example.token"))
    assert st == OK
    assert where(mac, acct="a") == {"dp"}


def test_1_2_token_access_group_targets_dp(mac: KC) -> None:
    """5.1 #1.2: kSecAttrAccessGroup == "com.apple.token" -> DP only (and the
    group is read-only there: add -> -34018)."""
    st, _ = mac.add(genp(acct="a", agrp="com.apple.token"))
    assert st == MISSING_ENTITLEMENT
    assert where(mac, acct="a") == set()


def test_1_2_macos_only_key_targets_fb(mac: KC) -> None:
    """5.1 #1.2: a macOS-only key (kSecMatchSearchList, kSecUseKeychain ...) -> FB only."""
    mac.add_ok(genp(acct="fb", v_Data=b"1"))
    mac.add_ok(genp(acct="dp", v_Data=b"2", nleg=True))
    st, res = mac.copy(genp(m_Limit="m_LimitAll", r_Attributes=True, m_SearchList=[]))
    assert st == OK
    assert [r["acct"] for r in res] == ["fb"]


def test_1_2_access_control_plus_macos_only_key_is_param(mac: KC) -> None:
    """5.1 #1.2: both keychains excluded (accc + kSecAttrAccess) -> errSecParam."""
    ac = mac.access_control("ak", 0)
    st, _ = mac.add(genp(acct="a", accc=ac.ptr, acls="x"))
    assert st == PARAM


def test_1_2_no_class_goes_to_fb(mac: KC) -> None:
    """5.1 #1.2 / 5.11 #11.1: no class/ref/persistent ref -> FB only -> errSecParam."""
    st, _ = mac.copy({"acct": "a"})
    assert st == PARAM
    st, _ = mac.copy({"acct": "a", "nleg": True})
    assert st == PARAM


def test_1_2_persistent_ref_routes_by_format(mac: KC) -> None:
    """5.1 #1.2: a DP-format persistent ref -> DP; another format -> FB."""
    mac.add_ok(genp(acct="fb", v_Data=b"F"))
    mac.add_ok(genp(acct="dp", v_Data=b"D", nleg=True))
    st, fb_ref = mac.copy(genp(acct="fb", r_PersistentRef=True))
    assert st == OK
    st, dp_ref = mac.copy(genp(acct="dp", r_PersistentRef=True))
    assert st == OK
    assert len(dp_ref) == 12 and dp_ref[:4] == b"genp"
    assert fb_ref != dp_ref
    # a persistent ref alone (no class) finds its item in the right keychain
    st, data = mac.copy({"v_PersistentRef": dp_ref, "r_Data": True})
    assert (st, data) == (OK, b"D")
    st, data = mac.copy({"v_PersistentRef": fb_ref, "r_Data": True})
    assert (st, data) == (OK, b"F")


# 1.3 truthiness --------------------------------------------------------------


@pytest.mark.parametrize(
    "value,dp_expected",
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (7, True),
        ("1", True),
        ("0", False),
        ("yes", False),
        ("syna", False),
        (b"\x01", False),
    ],
)
def test_1_3_truthiness(mac: KC, value: Any, dp_expected: bool) -> None:
    """5.1 #1.3: CFBoolean; CFNumber != 0; decimal CFString != 0; "syna" is false."""
    mac.add_ok(genp(acct="a", nleg=value))
    assert where(mac, acct="a") == ({"dp"} if dp_expected else {"fb"})


def test_1_3_synchronizable_any_is_false_for_routing(mac: KC) -> None:
    """5.1 #1.3: kSecAttrSynchronizableAny does not force DP: both are searched."""
    mac.add_ok(genp(acct="fb", v_Data=b"1"))
    mac.add_ok(genp(acct="dp", v_Data=b"2", sync=True))
    st, res = mac.copy(genp(sync="syna", m_Limit="m_LimitAll", r_Attributes=True))
    assert st == OK
    assert sorted(r["acct"] for r in res) == ["dp", "fb"]


# 1.5 merge -------------------------------------------------------------------


def test_1_5_arrays_concatenated_dp_first(mac: KC) -> None:
    """5.1 #1.5: both succeed with arrays -> concatenated, DP items first."""
    mac.add_ok(genp(acct="fb1"))
    mac.add_ok(genp(acct="dp1", nleg=True))
    mac.add_ok(genp(acct="fb2"))
    st, res = mac.copy(genp(m_Limit="m_LimitAll", r_Attributes=True))
    assert st == OK
    assert [r["acct"] for r in res] == ["dp1", "fb1", "fb2"]


def test_1_5_single_result_dp_wins(mac: KC) -> None:
    """5.1 #1.5: both succeed with single results -> the DP result wins."""
    mac.add_ok(genp(acct="a", v_Data=b"file"))
    mac.add_ok(genp(acct="a", v_Data=b"dp", nleg=True))
    st, data = mac.copy(genp(acct="a", r_Data=True))
    assert (st, data) == (OK, b"dp")


def test_1_5_fb_fails_dp_succeeds(mac: KC) -> None:
    """5.1 #1.5: FB failed, DP succeeded -> DP result with errSecSuccess."""
    mac.add_ok(genp(acct="a", v_Data=b"dp", nleg=True))
    st, data = mac.copy(genp(acct="a", r_Data=True))
    assert (st, data) == (OK, b"dp")


def test_1_5_dp_missing_entitlement_is_discarded(kc: KC) -> None:
    """5.1 #1.5 / 5.12 #12.4: unentitled process, no flag: DP's -34018 is ignored."""
    kc.add_ok(genp(acct="a", v_Data=b"x"))
    st, data = kc.copy(genp(acct="a", r_Data=True))
    assert (st, data) == (OK, b"x")
    assert kc.update(genp(acct="a"), {"v_Data": b"y"}) == OK
    assert kc.delete(genp(acct="a")) == OK
    assert kc.delete(genp(acct="a")) == NOT_FOUND


def test_1_5_dp_other_failure_gives_fb_answer(mac: KC) -> None:
    """5.1 #1.5: DP failed with another status -> the FB status and result."""
    mac.add_ok(genp(acct="a", v_Data=b"x"))
    # a CFNumber return flag is a DP errSecParam but truthy for FB (field evidence)
    st, data = mac.copy(genp(acct="a", r_Data=1))
    assert (st, data) == (OK, b"x")


# 1.7 stripping -----------------------------------------------------------------


def test_1_7_delete_match_keys_stripped_for_dp(
    mac: KC,
) -> None:
    """5.1 #1.7: macOS strips kSecMatch*/kSecReturn* before DP delete (iOS would say -50)."""
    mac.add_ok(genp(acct="a", nleg=True))
    mac.add_ok(genp(acct="b", nleg=True))
    assert mac.delete(genp(nleg=True, m_Limit="m_LimitOne", r_Data=True)) == OK
    assert mac.count(genp(nleg=True)) == 0  # DP deletes all matches (the limit was stripped)


def test_1_7_update_return_keys_stripped_for_dp(mac: KC) -> None:
    """5.1 #1.7: macOS strips return/match keys before DP update."""
    mac.add_ok(genp(acct="a", nleg=True))
    assert mac.update(genp(acct="a", nleg=True, r_Ref=True, m_Limit=1), {"labl": "L"}) == OK
    _st, attrs = mac.copy(genp(acct="a", nleg=True, r_Attributes=True))
    assert attrs["labl"] == "L"


def test_1_7_add_match_keys_stripped_return_keys_kept(mac: KC) -> None:
    """5.1 #1.7: for Add the shim strips match keys but keeps return keys."""
    st, res = mac.add(genp(acct="a", nleg=True, m_Limit="m_LimitAll", r_Data=True, v_Data=b"s"))
    assert (st, res) == (OK, b"s")
    assert mac.count(genp(nleg=True)) == 1


# 5.11 class errors -----------------------------------------------------------


def test_11_1_missing_class(dpkc: KC, profile: str) -> None:
    """5.11 #11.1: missing kSecClass -> errSecParam in both profiles."""
    st, _ = dpkc.add(dp({"acct": "a"}, profile))
    assert st == PARAM
    st, _ = dpkc.copy({"acct": "a"})
    assert st == PARAM


def test_11_2_unknown_class(dpkc: KC, profile: str) -> None:
    """5.11 #11.2: unknown class string -> DP errSecNoSuchClass, FB errSecParam."""
    st, _ = dpkc.add(dp({"class": "nope", "acct": "a"}, profile))
    assert st == NO_SUCH_CLASS
    if profile == "macos":
        st, _ = dpkc.add({"class": "nope", "acct": "a"})
        assert st == PARAM


# 5.12 entitlements -------------------------------------------------------------


@pytest.mark.parametrize("op", ["add", "copy", "update", "delete"])
def test_12_2_unsigned_macos_dp_flag_missing_entitlement(kc: KC, op: str) -> None:
    """5.12 #12.1/#12.2/#12.3: macos default (no groups) + DP flag -> -34018 for
    every write; a read runs with the implicit com.apple.token group and finds
    nothing (-25300; KeychainEntitlementsTest.m, test_rules_fidelity.py)."""
    q = genp(acct="a", nleg=True)
    assert kc.status(op, q) == (NOT_FOUND if op == "copy" else MISSING_ENTITLEMENT)


def test_12_1_ios_default_group(kc: KC, profile: str) -> None:
    """5.12 / 5.8 #8.3: the ios profile holds one app group; items get it."""
    if profile != "ios":
        kc.lib.secsim_set_profile(b"ios")
    kc.add_ok(genp(acct="a"))
    _st, attrs = kc.copy(genp(acct="a", r_Attributes=True))
    assert attrs["agrp"] == APP_GROUP


def test_12_1_ios_without_groups(kc: KC) -> None:
    """5.12 #12.1: an iOS process without entitlements -> -34018."""
    kc.lib.secsim_set_profile(b"ios")
    kc.lib.secsim_set_access_groups(b"")
    st, _ = kc.add(genp(acct="a"))
    assert st == MISSING_ENTITLEMENT


def test_12_5_explicit_group_not_held(dpkc: KC, profile: str) -> None:
    """5.12 #12.5: an explicit access group the caller does not hold -> -34018."""
    st, _ = dpkc.add(dp(genp(acct="a", agrp="OTHER.group"), profile))
    assert st == MISSING_ENTITLEMENT
    st, _ = dpkc.copy(dp(genp(acct="a", agrp="OTHER.group"), profile))
    assert st == MISSING_ENTITLEMENT
    assert dpkc.delete(dp(genp(agrp="OTHER.group"), profile)) == MISSING_ENTITLEMENT


def test_12_5_groups_isolate_items(dpkc: KC, profile: str) -> None:
    """5.8 #8.3 / 5.12: items of a group the caller no longer holds are invisible."""
    dpkc.lib.secsim_set_access_groups(b"G1,G2")
    dpkc.add_ok(dp(genp(acct="a"), profile))  # default: first group G1
    dpkc.add_ok(dp(genp(acct="a", agrp="G2"), profile))  # same key, other group: no collision
    assert dpkc.count(dp(genp(), profile)) == 2
    dpkc.lib.secsim_set_access_groups(b"G2")
    st, res = dpkc.copy(dp(genp(m_Limit="m_LimitAll", r_Attributes=True), profile))
    assert st == OK and [r["agrp"] for r in res] == ["G2"]


def test_12_explicit_flag_false_uses_fb_without_entitlements(kc: KC) -> None:
    """5.12 #12.4: without the DP flag an unentitled process works (FB)."""
    kc.add_ok(genp(acct="a", v_Data=b"x"))
    st, _res = kc.add(genp(acct="a", v_Data=b"x"))
    assert st == DUPLICATE
