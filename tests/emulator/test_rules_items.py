"""Uniqueness (facts §5.4), SecItemUpdate (§5.5), SecItemDelete (§5.6),
kSecAttrSynchronizable (§5.7), automatic attributes (§5.8), string
matching (§5.9) and value types (§5.10)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from .test_rules_helpers import (
    APP_GROUP,
    DUPLICATE,
    INVALID_ITEM_REF,
    KC,
    MISSING_ENTITLEMENT,
    NO_SUCH_ATTR,
    NOT_FOUND,
    OK,
    PARAM,
    dp,
    genp,
    inet,
)

# 5.4 uniqueness ------------------------------------------------------------------


def test_4_4_genp_primary_key_account_service(dpkc: KC, profile: str) -> None:
    """5.4 #4.4: DP genp uniqueness = acct + svce (+ agrp, sync ...)."""
    dpkc.add_ok(dp(genp(acct="a", svce="s"), profile))
    assert dpkc.add(dp(genp(acct="a", svce="s"), profile))[0] == DUPLICATE
    dpkc.add_ok(dp(genp(acct="a", svce="t"), profile))
    dpkc.add_ok(dp(genp(acct="b", svce="s"), profile))


def test_4_5_label_and_accessibility_not_in_key(dpkc: KC, profile: str) -> None:
    """5.4 #4.5: items differing only in label, accessibility, comment, generic collide."""
    dpkc.add_ok(dp(genp(acct="a", svce="s", labl="one"), profile))
    for extra in ({"labl": "two"}, {"pdmn": "ck"}, {"icmt": "c"}, {"gena": b"g"}, {"desc": "d"}):
        assert dpkc.add(dp(genp(acct="a", svce="s", **extra), profile))[0] == DUPLICATE, extra


def test_4_6_missing_primary_keys_default_and_collide(dpkc: KC, profile: str) -> None:
    """5.4 #4.6: two genp adds without account and service collide (defaults "")."""
    dpkc.add_ok(dp(genp(v_Data=b"1"), profile))
    assert dpkc.add(dp(genp(v_Data=b"2"), profile))[0] == DUPLICATE
    # and an explicit empty account is the same item
    assert dpkc.add(dp(genp(acct="", svce=""), profile))[0] == DUPLICATE
    _st, attrs = dpkc.copy(dp(genp(r_Attributes=True), profile))
    assert attrs["acct"] == "" and attrs["svce"] == ""


def test_4_6_defaults_for_other_classes(dpkc: KC, profile: str) -> None:
    """5.4 #4.6: inet/keys/cert defaults ("" / empty data / 0 / date 0)."""
    dpkc.add_ok(dp(inet(), profile))
    st, a = dpkc.copy(dp(inet(r_Attributes=True), profile))
    assert (a["srvr"], a["sdmn"], a["path"], a["atyp"], a["ptcl"], a["port"]) == (
        "",
        "",
        "",
        "",
        0,
        0,
    )
    dpkc.add_ok(dp({"class": "keys"}, profile))
    st, k = dpkc.copy(dp({"class": "keys", "r_Attributes": True}, profile))
    assert st == OK
    assert k["klbl"] == b"" and k["atag"] == "" and k["bsiz"] == 0 and k["kcls"] == 0
    assert k["sdat"] == dt.datetime(2001, 1, 1, tzinfo=dt.UTC)
    dpkc.add_ok(dp({"class": "cert"}, profile))
    _st, c = dpkc.copy(dp({"class": "cert", "r_Attributes": True}, profile))
    assert c["issr"] == b"" and c["slnr"] == b"" and c["ctyp"] == 0
    assert dpkc.add(dp({"class": "cert"}, profile))[0] == DUPLICATE


def test_4_4_inet_primary_key(dpkc: KC, profile: str) -> None:
    """5.4 #4.4: inet uniqueness includes server, protocol, port, path, auth type, domain."""
    base = {
        "acct": "u",
        "srvr": "h",
        "ptcl": "htps",
        "port": 443,
        "path": "/",
        "atyp": "form",
        "sdmn": "d",
    }
    dpkc.add_ok(dp(inet(**base), profile))
    assert dpkc.add(dp(inet(**base, labl="x"), profile))[0] == DUPLICATE
    for key, other in (
        ("srvr", "h2"),
        ("ptcl", "http"),
        ("port", 80),
        ("path", "/x"),
        ("atyp", "dflt"),
        ("sdmn", "e"),
        ("acct", "v"),
    ):
        dpkc.add_ok(dp(inet(**{**base, key: other}), profile))


def test_4_4_keys_primary_key(dpkc: KC, profile: str) -> None:
    """5.4 #4.4: keys uniqueness = kcls, klbl, atag, crtr, type, bsiz, esiz, sdat, edat."""
    dpkc.add_ok(dp({"class": "keys", "atag": b"t", "type": "42", "bsiz": 2048}, profile))
    assert (
        dpkc.add(
            dp({"class": "keys", "atag": b"t", "type": "42", "bsiz": 2048, "labl": "x"}, profile)
        )[0]
        == DUPLICATE
    )
    dpkc.add_ok(dp({"class": "keys", "atag": b"t", "type": "42", "bsiz": 4096}, profile))
    dpkc.add_ok(dp({"class": "keys", "atag": b"t", "type": "73", "bsiz": 2048}, profile))


def test_4_7_sync_and_group_part_of_key(dpkc: KC, profile: str) -> None:
    """5.4 #4.7: a synchronizable and a non-synchronizable item coexist; so do two groups."""
    dpkc.add_ok(dp(genp(acct="a", svce="s"), profile))
    dpkc.add_ok(dp(genp(acct="a", svce="s", sync=True), profile))
    dpkc.lib.secsim_set_access_groups(f"{APP_GROUP},second".encode())
    dpkc.add_ok(dp(genp(acct="a", svce="s", agrp="second"), profile))
    assert dpkc.count(dp(genp(sync="syna"), profile)) == 3


def test_4_8_fb_uniqueness(kc: KC) -> None:
    """5.4 #4.8: FB unique index: genp acct+svce; label does not count; missing = empty."""
    kc.add_ok(genp(acct="a", svce="s", labl="1"))
    assert kc.add(genp(acct="a", svce="s", labl="2"))[0] == DUPLICATE
    kc.add_ok(genp(acct="a", svce="t"))
    kc.add_ok(genp())
    assert kc.add(genp(acct=""))[0] == DUPLICATE


def test_4_8_fb_inet_uniqueness(kc: KC) -> None:
    """5.4 #4.8: FB inet unique index (acct, sdmn, srvr, ptcl, atyp, port, path)."""
    kc.add_ok(inet(acct="u", srvr="h", ptcl="htps"))
    assert kc.add(inet(acct="u", srvr="h", ptcl="htps", labl="x"))[0] == DUPLICATE
    kc.add_ok(inet(acct="u", srvr="h", ptcl="http"))


def test_4_9_string_and_data_equivalent(dpkc: KC, profile: str) -> None:
    """5.4 #4.9: S-flag attributes compare by bytes: CFString "a" == CFData b"a"."""
    dpkc.add_ok(dp(genp(acct="a", svce="s"), profile))
    assert dpkc.add(dp(genp(acct=b"a", svce="s"), profile))[0] == DUPLICATE
    st, attrs = dpkc.copy(dp(genp(acct=b"a", r_Attributes=True), profile))
    assert st == OK and attrs["acct"] == "a"  # kept as given on add (5.10 Blob)


def test_4_10_ios_add_with_match_key_stores_nothing(kc: KC) -> None:
    """5.4 #4.10 (UNCONFIRMED at runtime): iOS add with a kSecMatch* key reports
    success and stores nothing."""
    kc.lib.secsim_set_profile(b"ios")
    assert kc.add(genp(acct="a", m_Limit="m_LimitOne"))[0] == OK
    assert kc.count(genp()) == 0


@pytest.mark.parametrize(
    "extra,status",
    [
        ({"v_PersistentRef": b"genp\0\0\0\0\0\0\0\1"}, PARAM),
        ({"u_ItemList": []}, PARAM),
        ({"v_Data": "text"}, PARAM),
        ({"agrp": "not.mine"}, MISSING_ENTITLEMENT),
    ],
)
def test_4_11_dp_add_rejections(dpkc: KC, profile: str, extra: dict[str, Any], status: int) -> None:
    """5.4 #4.11: DP add rejects persistent refs, item lists, non-CFData secrets,
    foreign access groups."""
    if profile == "macos" and "u_ItemList" in extra:
        pytest.skip("u_ItemList forces the file-based keychain on macOS")
    st, _ = dpkc.add(dp(genp(acct="a", **extra), profile))
    assert st == status


def test_4_11_access_control_conflicts(dpkc: KC, profile: str) -> None:
    """5.4 #4.11: accc with constraints + sync -> -50; pdmn conflicting with accc -> -50."""
    ac = dpkc.access_control("ak", 1)
    assert dpkc.add(dp(genp(acct="a", accc=ac.ptr, sync=True), profile))[0] == PARAM
    assert dpkc.add(dp(genp(acct="a", accc=ac.ptr, pdmn="ck"), profile))[0] == PARAM
    dpkc.add_ok(dp(genp(acct="a", accc=ac.ptr, pdmn="ak"), profile))
    plain = dpkc.access_control("ck", 0)
    dpkc.add_ok(dp(genp(acct="b", accc=plain.ptr, sync=True), profile))  # no constraints: fine
    _st, attrs = dpkc.copy(dp(genp(acct="b", sync=True, r_Attributes=True), profile))
    assert attrs["pdmn"] == "ck"


def test_4_11_accc_wrong_type(dpkc: KC, profile: str) -> None:
    """§4: a kSecAttrAccessControl value that is not a SecAccessControl -> errSecParam."""
    assert dpkc.add(dp(genp(acct="a", accc="ak"), profile))[0] == PARAM


def test_4_12_fb_accepts_string_secret(kc: KC) -> None:
    """5.4 #4.12 / field evidence: FB accepts kSecValueData as CFString (UTF-8)."""
    kc.add_ok(genp(acct="a", svce="s", v_Data="pässword"))
    assert kc.copy(genp(acct="a", r_Data=True)) == (OK, "pässword".encode())


def test_field_evidence_keyring_style_read(kc: KC) -> None:
    """Field evidence (keyring): r_Data as CFNumber 1 is truthy on FB; CFData comes back."""
    kc.add_ok(genp(acct="user", svce="svc", v_Data="pw"))
    st, res = kc.copy(genp(acct="user", svce="svc", r_Data=1, m_Limit="m_LimitOne"))
    assert (st, res) == (OK, b"pw")


def test_add_by_value_ref_copies_item(kc: KC) -> None:
    """Add with kSecValueRef copies the referenced item; a deleted item ->
    errSecInvalidItemRef."""
    _st, ref = kc.add_raw(genp(acct="a", v_Data=b"x"))
    assert kc.add({"v_Ref": ref.ptr})[0] == DUPLICATE
    assert kc.delete(genp(acct="a")) == OK
    assert kc.add({"v_Ref": ref.ptr})[0] == INVALID_ITEM_REF


# 5.5 update ------------------------------------------------------------------------


def test_5_2_dp_update_non_attribute_keys(dpkc: KC, profile: str) -> None:
    """5.5 #5.2: DP attributesToUpdate with class / m_* / r_* / foreign 4-char key -> -25303."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    q = dp(genp(acct="a"), profile)
    for bad in (
        {"class": "genp"},
        {"m_Limit": "m_LimitAll"},
        {"r_Data": True},
        {"srvr": "x"},
        {"zzzz": 1},
    ):
        assert dpkc.update(q, bad) == NO_SUCH_ATTR, bad
    assert dpkc.update(q, {"ggrp": "x"}) == PARAM
    assert dpkc.update(q, {"musr": b"ignored", "labl": "ok"}) == OK


def test_5_2_dp_update_data_must_be_cfdata(dpkc: KC, profile: str) -> None:
    """5.5 #5.2 / 5.10: DP v_Data in attributesToUpdate must be CFData."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    assert dpkc.update(dp(genp(acct="a"), profile), {"v_Data": "s"}) == PARAM
    assert dpkc.update(dp(genp(acct="a"), profile), {"v_Data": b"s"}) == OK
    assert dpkc.copy(dp(genp(acct="a", r_Data=True), profile)) == (OK, b"s")


def test_5_3_ios_update_rejects_return_and_match_keys(kc: KC) -> None:
    """5.5 #5.3: iOS-path update query with r_* or m_* keys -> errSecParam."""
    kc.lib.secsim_set_profile(b"ios")
    kc.add_ok(genp(acct="a"))
    assert kc.update(genp(acct="a", r_Ref=True), {"labl": "x"}) == PARAM
    assert kc.update(genp(acct="a", m_Limit="m_LimitAll"), {"labl": "x"}) == PARAM
    assert kc.update(genp(acct="a", agrp="foreign"), {"labl": "x"}) == MISSING_ENTITLEMENT
    assert kc.update(genp(acct="a"), {"agrp": "foreign"}) == MISSING_ENTITLEMENT


def test_5_4_update_sets_mdat(dpkc: KC, profile: str) -> None:
    """5.5 #5.4: update sets mdat = now, overriding a caller-supplied value."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    st, before = dpkc.copy(dp(genp(acct="a", r_Attributes=True), profile))
    assert st == OK
    time.sleep(0.01)
    old = dt.datetime(2010, 1, 1, tzinfo=dt.UTC)
    assert dpkc.update(dp(genp(acct="a"), profile), {"labl": "x", "mdat": old}) == OK
    _st, after = dpkc.copy(dp(genp(acct="a", r_Attributes=True), profile))
    assert after["mdat"] > before["mdat"] and after["cdat"] == before["cdat"]


def test_5_5_update_collision_is_atomic(dpkc: KC, profile: str) -> None:
    """5.5 #5.5: an update making two items collide -> -25299 and nothing changes."""
    dpkc.add_ok(dp(genp(acct="a", svce="1", labl="L1"), profile))
    dpkc.add_ok(dp(genp(acct="b", svce="1", labl="L2"), profile))
    assert dpkc.update(dp(genp(svce="1"), profile), {"acct": "c", "labl": "new"}) == DUPLICATE
    _st, res = dpkc.copy(dp(genp(m_Limit="m_LimitAll", r_Attributes=True), profile))
    assert sorted((r["acct"], r["labl"]) for r in res) == [("a", "L1"), ("b", "L2")]
    # collision with an item outside the matched set
    assert dpkc.update(dp(genp(acct="a"), profile), {"acct": "b"}) == DUPLICATE


def test_5_6_update_not_found(dpkc: KC, profile: str) -> None:
    """5.5 #5.6 / #5.7: nothing matches -> errSecItemNotFound (both keychains)."""
    assert dpkc.update(dp(genp(acct="zz"), profile), {"labl": "x"}) == NOT_FOUND
    if profile == "macos":
        assert dpkc.update(genp(acct="zz"), {"labl": "x"}) == NOT_FOUND


def test_5_7_fb_update_ignores_unknown_keys(kc: KC) -> None:
    """5.14 row (UNCONFIRMED): FB update ignores non-attribute keys in attributesToUpdate."""
    kc.add_ok(genp(acct="a", v_Data=b"1"))
    assert (
        kc.update(genp(acct="a"), {"class": "inet", "srvr": "x", "labl": "L", "v_Data": "2"}) == OK
    )
    _st, d = kc.copy(genp(acct="a", r_Attributes=True, r_Data=True))
    assert d["labl"] == "L" and d["v_Data"] == b"2" and d["class"] == "genp"


def test_5_7_fb_update_collision(kc: KC) -> None:
    """5.5 #5.7 / 5.4 #4.8: FB update that collides -> errSecDuplicateItem."""
    kc.add_ok(genp(acct="a"))
    kc.add_ok(genp(acct="b"))
    assert kc.update(genp(acct="a"), {"acct": "b"}) == DUPLICATE


# 5.6 delete -------------------------------------------------------------------------


def test_6_2_delete_not_found(dpkc: KC, profile: str) -> None:
    """5.6 #6.2: delete with no match -> errSecItemNotFound."""
    assert dpkc.delete(dp(genp(acct="zz"), profile)) == NOT_FOUND
    assert dpkc.delete(genp(acct="zz")) == NOT_FOUND


def test_6_3_ios_delete_persistent_ref_with_attributes(kc: KC) -> None:
    """5.6 #6.3: iOS delete with a row-id persistent ref plus other attributes -> errSecParam."""
    kc.lib.secsim_set_profile(b"ios")
    kc.add_ok(genp(acct="a"))
    _st, pref = kc.copy(genp(r_PersistentRef=True))
    assert kc.delete({"v_PersistentRef": pref, "acct": "a"}) == PARAM
    assert kc.delete({"v_PersistentRef": pref}) == OK


def test_6_5_delete_with_skip(dpkc: KC, profile: str) -> None:
    """5.6 #6.5 / 5.13 #13.1: Delete with kSecUseAuthenticationUISkip -> errSecParam."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    assert dpkc.delete(dp(genp(acct="a", u_AuthUI="u_AuthUIS"), profile)) == PARAM
    assert dpkc.update(dp(genp(acct="a", u_AuthUI="u_AuthUIS"), profile), {"labl": "x"}) == PARAM
    assert dpkc.add(dp(genp(acct="b", u_AuthUI="u_AuthUIS"), profile))[0] == PARAM


# 5.7 synchronizable --------------------------------------------------------------------


def test_7_1_sync_items_hidden_without_sync_key(dpkc: KC, profile: str) -> None:
    """5.7 #7.1/#7.2: queries without sync see only non-synchronizable items;
    kSecAttrSynchronizableAny sees both."""
    dpkc.add_ok(dp(genp(acct="local"), profile))
    dpkc.add_ok(dp(genp(acct="cloud", sync=True), profile))
    st, res = dpkc.copy(dp(genp(m_Limit="m_LimitAll", r_Attributes=True), profile))
    assert st == OK
    assert [r["acct"] for r in res] == ["local"]
    _st, res = dpkc.copy(dp(genp(sync=True, m_Limit="m_LimitAll", r_Attributes=True), profile))
    assert [r["acct"] for r in res] == ["cloud"] and res[0]["sync"] == 1
    assert dpkc.count(dp(genp(sync="syna"), profile)) == 2
    assert dpkc.delete(dp(genp(sync="syna"), profile)) == OK
    assert dpkc.count(dp(genp(sync="syna"), profile)) == 0


def test_7_1_update_and_delete_respect_sync(dpkc: KC, profile: str) -> None:
    """5.7 #7.1: update/delete without sync leave synchronizable items alone."""
    dpkc.add_ok(dp(genp(acct="cloud", sync=True), profile))
    assert dpkc.delete(dp(genp(acct="cloud"), profile)) == NOT_FOUND
    assert dpkc.update(dp(genp(acct="cloud"), profile), {"labl": "x"}) == NOT_FOUND


def test_7_2_synchronizable_any_dropped_on_add(dpkc: KC, profile: str) -> None:
    """5.7 #7.2: "syna" marks the query sync-aware and drops the term; on an add
    the item then gets the default sync = 0 (5.8 #8.4)."""
    dpkc.add_ok(dp(genp(acct="a", sync="syna"), profile))
    st, attrs = dpkc.copy(dp(genp(acct="a", r_Attributes=True), profile))
    assert st == OK and attrs["sync"] == 0


def test_7_2_synchronizable_any_dropped_on_update(dpkc: KC, profile: str) -> None:
    """5.7 #7.2: "syna" in attributesToUpdate is dropped, the item stays local."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    assert dpkc.update(dp(genp(acct="a"), profile), {"sync": "syna", "labl": "L"}) == OK
    st, attrs = dpkc.copy(dp(genp(acct="a", r_Attributes=True), profile))
    assert st == OK and attrs["sync"] == 0 and attrs["labl"] == "L"


# 5.8 automatic attributes -----------------------------------------------------------


def test_8_1_dates_overwritten_on_add(dpkc: KC, profile: str) -> None:
    """5.8 #8.1: cdat/mdat are set to now, overwriting caller-supplied values."""
    old = dt.datetime(2005, 5, 5, tzinfo=dt.UTC)
    t0 = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    dpkc.add_ok(dp(genp(acct="a", cdat=old, mdat=old), profile))
    _st, a = dpkc.copy(dp(genp(acct="a", r_Attributes=True), profile))
    assert a["cdat"] > t0 and a["mdat"] > t0 and a["cdat"] == a["mdat"]


def test_8_1_fb_dates(kc: KC) -> None:
    """5.8 #8.1 (applied to FB as well): FB items get cdat/mdat = now."""
    kc.add_ok(genp(acct="a"))
    _st, a = kc.copy(genp(r_Attributes=True))
    assert isinstance(a["cdat"], dt.datetime) and a["cdat"] == a["mdat"]


def test_8_2_default_protection(dpkc: KC, profile: str) -> None:
    """5.8 #8.2: pdmn defaults to ak (passwords, keys) and dk (certificates)."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    dpkc.add_ok(dp({"class": "cert"}, profile))
    dpkc.add_ok(dp({"class": "keys"}, profile))
    assert dpkc.copy(dp(genp(r_Attributes=True), profile))[1]["pdmn"] == "ak"
    assert dpkc.copy(dp({"class": "cert", "r_Attributes": True}, profile))[1]["pdmn"] == "dk"
    assert dpkc.copy(dp({"class": "keys", "r_Attributes": True}, profile))[1]["pdmn"] == "ak"


def test_8_2_invalid_protection(dpkc: KC, profile: str) -> None:
    """5.8 #8.2: a kSecAttrAccessible value that is not a protection -> errSecParam."""
    assert dpkc.add(dp(genp(acct="a", pdmn="never"), profile))[0] == PARAM


def test_8_3_first_access_group(dpkc: KC, profile: str) -> None:
    """5.8 #8.3: agrp defaults to the first of the caller's groups."""
    dpkc.lib.secsim_set_access_groups(b"first.group,second.group")
    dpkc.add_ok(dp(genp(acct="a"), profile))
    assert dpkc.copy(dp(genp(r_Attributes=True), profile))[1]["agrp"] == "first.group"


def test_8_4_sync_tomb_musr(dpkc: KC, profile: str) -> None:
    """5.8 #8.4: sync = 0, tomb = 0, musr = empty data."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    a = dpkc.copy(dp(genp(r_Attributes=True), profile))[1]
    assert (a["sync"], a["tomb"], a["musr"]) == (0, 0, b"")


def test_8_5_accc_synthesized(dpkc: KC, profile: str) -> None:
    """5.8 #8.5: accc is returned as a SecAccessControl built from the protection."""
    dpkc.add_ok(dp(genp(acct="a", pdmn="cku"), profile))
    _st, res = dpkc.copy(dp(genp(r_Attributes=True), profile), keep_refs=True)
    ac = res["accc"]
    lib = dpkc.lib
    assert lib.CFGetTypeID(ac) == lib.SecAccessControlGetTypeID()
    expected = dpkc.access_control("cku", 0)
    assert lib.CFEqual(ac, expected.ptr)


def test_8_6_fb_ignores_accessible_and_group(kc: KC) -> None:
    """5.8 #8.6: FB items do not carry kSecAttrAccessible / kSecAttrAccessGroup."""
    kc.add_ok(genp(acct="a", pdmn="ck", agrp="whatever"))
    a = kc.copy(genp(r_Attributes=True))[1]
    assert "pdmn" not in a and "agrp" not in a


# 5.9 case-insensitive ---------------------------------------------------------------


def test_9_2_case_insensitive_is_a_no_op(dpkc: KC, profile: str) -> None:
    """5.9 #9.2: DP ignores kSecMatchCaseInsensitive (matching stays exact)."""
    dpkc.add_ok(dp(genp(acct="Alice"), profile))
    assert dpkc.copy(dp(genp(acct="alice", m_CaseInsensitive=True), profile))[0] == NOT_FOUND
    assert dpkc.copy(dp(genp(acct="Alice", m_CaseInsensitive=True), profile))[0] == OK


def test_9_3_fb_case_sensitive(kc: KC) -> None:
    """5.9 #9.3 (UNCONFIRMED for FB): FB attribute matching is exact."""
    kc.add_ok(genp(acct="Alice"))
    assert kc.copy(genp(acct="alice", m_CaseInsensitive=True))[0] == NOT_FOUND


def test_9_4_value_data_not_a_criterion(dpkc: KC, profile: str) -> None:
    """5.9 #9.4: kSecValueData in a query is not a search criterion."""
    dpkc.add_ok(dp(genp(acct="a", v_Data=b"real"), profile))
    assert dpkc.copy(dp(genp(acct="a", v_Data=b"other"), profile))[0] == OK
    dpkc.add_ok(genp(acct="f", v_Data=b"real"))
    assert dpkc.copy(genp(acct="f", v_Data=b"other"))[0] == OK


# 5.10 value types ------------------------------------------------------------------


def test_10_number_column_accepts_bool_and_decimal_string(dpkc: KC, profile: str) -> None:
    """5.10: Number columns: CFBoolean -> 0/1, decimal CFString -> number,
    other strings kept (ptcl "htps")."""
    dpkc.add_ok(dp(genp(acct="a", invi=True, crtr="42"), profile))
    a = dpkc.copy(dp(genp(r_Attributes=True), profile))[1]
    assert a["invi"] == 1 and a["crtr"] == 42
    assert dpkc.copy(dp(genp(invi=1, crtr=42), profile))[0] == OK
    dpkc.add_ok(dp(inet(srvr="h", ptcl="htps", port="443"), profile))
    a = dpkc.copy(dp(inet(r_Attributes=True), profile))[1]
    assert a["ptcl"] == "htps" and a["port"] == 443


def test_10_blob_kept_as_given(dpkc: KC, profile: str) -> None:
    """5.10: Blob columns keep CFData / CFString / CFNumber as given."""
    dpkc.add_ok(dp(genp(acct=b"\x00\xff", svce=7, labl="L"), profile))
    a = dpkc.copy(dp(genp(r_Attributes=True), profile))[1]
    assert a["acct"] == b"\x00\xff" and a["svce"] == 7 and a["labl"] == "L"


def test_10_data_column_converts(dpkc: KC, profile: str) -> None:
    """5.10: Data columns: CFString -> UTF-8 bytes."""
    dpkc.add_ok(dp({"class": "cert", "subj": "CN=x", "slnr": b"1"}, profile))
    a = dpkc.copy(dp({"class": "cert", "r_Attributes": True}, profile))[1]
    assert a["subj"] == b"CN=x"


@pytest.mark.parametrize(
    "attrs",
    [
        {"cdat": "yesterday"},
        {"acct": True},
        {"invi": b"x"},
        {"agrp": 5},
        {"acct": [1]},
        {"sync": b"\x01"},
        {"accc": 1},
    ],
)
def test_10_unconvertible_value(dpkc: KC, profile: str, attrs: dict[str, Any]) -> None:
    """5.10: a value that cannot be converted -> errSecParam."""
    assert dpkc.add(dp(genp(**attrs), profile))[0] == PARAM


def test_10_value_data_must_be_cfdata_in_every_dp_call(dpkc: KC, profile: str) -> None:
    """5.10: DP's query_set_data takes CFData only, whatever the call: a CFString
    kSecValueData in a CopyMatching / Update / Delete query -> errSecParam."""
    dpkc.add_ok(dp(genp(acct="a", v_Data=b"x"), profile))
    assert dpkc.copy(dp(genp(acct="a", v_Data="x"), profile))[0] == PARAM
    assert dpkc.update(dp(genp(acct="a", v_Data="x"), profile), {"labl": "L"}) == PARAM
    assert dpkc.delete(dp(genp(acct="a", v_Data="x"), profile)) == PARAM
    # CFData is accepted and is not a search criterion (5.9 #9.4)
    assert dpkc.copy(dp(genp(acct="a", v_Data=b"other"), profile))[0] == OK


def test_10_string_column_data_must_be_utf8(dpkc: KC, profile: str) -> None:
    """5.10: String/Access columns take CFData decoded as UTF-8; bytes that are
    not UTF-8 fail to convert -> errSecParam (before the group check)."""
    assert dpkc.add(dp(genp(acct="a", agrp=b"\xff\xfe"), profile))[0] == PARAM
    dpkc.add_ok(dp(genp(acct="a", agrp=APP_GROUP.encode()), profile))
    st, attrs = dpkc.copy(dp(genp(acct="a", r_Attributes=True), profile))
    assert st == OK and attrs["agrp"] == APP_GROUP


def test_10_return_key_must_be_boolean_on_dp(dpkc: KC, profile: str) -> None:
    """5.10: DP return keys must be CFBoolean (CFNumber 1 -> errSecParam)."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    assert dpkc.copy(dp(genp(r_Data=1), profile))[0] == PARAM
    assert dpkc.copy(dp(genp(r_Data="1"), profile))[0] == PARAM


def test_10_fb_return_key_truthiness(kc: KC) -> None:
    """Field evidence: FB treats a non-zero CFNumber as true, a CFString as not requested."""
    kc.add_ok(genp(acct="a", v_Data=b"x"))
    assert kc.copy(genp(r_Data=1)) == (OK, b"x")
    assert kc.copy(genp(r_Data=0)) == (OK, ("opaque", "SecKeychainItem"))
    assert kc.copy(genp(r_Data="1")) == (OK, ("opaque", "SecKeychainItem"))


# key naming (section 2 note) ------------------------------------------------------


@pytest.mark.parametrize(
    "key,status",
    [
        ("zzzz", NO_SUCH_ATTR),
        ("srvr", NO_SUCH_ATTR),
        ("bogus_key", PARAM),
        ("x", PARAM),
        ("m_Bogus", PARAM),
        ("r_Bogus", PARAM),
        ("u_Bogus", PARAM),
        ("v_Bogus", PARAM),
        ("cfoo", NO_SUCH_ATTR),
        ("clazz", PARAM),
        # "length 4" is CFStringGetLength (UTF-16 units), not UTF-8 bytes
        ("caf\u00e9", NO_SUCH_ATTR),
        ("\u00e9\u00e9", PARAM),
    ],
)
def test_key_naming(dpkc: KC, profile: str, key: str, status: int) -> None:
    """§2 key naming: unknown 4-char key -> -25303 (DP), other malformed keys -> -50."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    q = dp(genp(acct="a", r_Data=True), profile)
    q[key] = True
    assert dpkc.copy(q)[0] == status


def test_key_naming_non_string_key(dpkc: KC, profile: str) -> None:
    """§2 key naming: a CFData key -> -50; a CFNumber key is an (unknown) attribute -> -25303."""
    q = dp(genp(acct="a"), profile)
    q[b"k"] = True
    assert dpkc.add(q)[0] == PARAM
    q = dp(genp(acct="a"), profile)
    q[12] = True
    assert dpkc.add(q)[0] == NO_SUCH_ATTR


def test_callback_keys_ignored(dpkc: KC, profile: str) -> None:
    """§2 key naming: keys starting with 'f' (callbacks) are ignored."""
    assert dpkc.add(dp(genp(acct="a", f_whatever=1), profile))[0] == OK
