"""Default match limits (facts §5.2) and result shapes (§5.3, §5.4 #4.1/#4.2)
for the data-protection (DP) and file-based (FB) keychains."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from .test_rules_helpers import (
    APP_GROUP,
    KC,
    NO_RESULT,
    NOT_FOUND,
    OK,
    PARAM,
    UNIMPLEMENTED,
    dp,
    genp,
    inet,
)

RETURN_KEYS = ["r_Data", "r_Attributes", "r_Ref", "r_PersistentRef"]


def fill(kc: KC, profile: str, n: int = 3, fb: bool = False, cls: str = "genp") -> None:
    for i in range(n):
        d = {"class": cls, "acct": f"a{i}", "v_Data": f"s{i}".encode()}
        kc.add_ok(d if fb else dp(d, profile))


# 5.2 default limits ------------------------------------------------------------


def test_2_1_copy_returns_first_match_by_default(dpkc: KC, profile: str) -> None:
    """5.2 #2.1/#2.2: CopyMatching returns one match by default."""
    fill(dpkc, profile)
    st, data = dpkc.copy(dp(genp(r_Data=True), profile))
    assert (st, data) == (OK, b"s0")


def test_2_3_dp_delete_removes_all(dpkc: KC, profile: str) -> None:
    """5.2 #2.3 / 5.6 #6.1: DP delete removes every match."""
    fill(dpkc, profile)
    assert dpkc.delete(dp(genp(), profile)) == OK
    assert dpkc.count(dp(genp(), profile)) == 0


def test_2_4_ios_delete_rejects_match_keys(kc: KC) -> None:
    """5.2 #2.4 / 5.6 #6.3: iOS-path delete with any kSecMatch* key -> errSecParam."""
    kc.lib.secsim_set_profile(b"ios")
    kc.add_ok(genp(acct="a"))
    assert kc.delete(genp(m_Limit="m_LimitAll")) == PARAM
    assert kc.delete(genp(m_CaseInsensitive=True)) == PARAM
    assert kc.count(genp()) == 1


def test_2_5_fb_delete_first_match_only(kc: KC) -> None:
    """5.2 #2.5 / 5.6 #6.1: FB delete removes only the first match by default."""
    fill(kc, "macos", fb=True)
    assert kc.delete(genp()) == OK
    assert kc.count(genp()) == 2
    assert kc.delete(genp(m_Limit="m_LimitAll")) == OK
    assert kc.count(genp()) == 0


def test_2_5_fb_delete_numeric_limit(kc: KC) -> None:
    """5.2 #2.5: FB delete honours a numeric limit."""
    fill(kc, "macos", n=4, fb=True)
    assert kc.delete(genp(m_Limit=2)) == OK
    assert kc.count(genp()) == 2


def test_2_5_fb_update_first_match_only(kc: KC) -> None:
    """5.2 #2.5 / 5.5 #5.7: FB update changes only the first match by default."""
    fill(kc, "macos", fb=True)
    assert kc.update(genp(), {"labl": "L"}) == OK
    st, res = kc.copy(genp(m_Limit="m_LimitAll", r_Attributes=True))
    assert st == OK
    assert [r.get("labl") for r in res] == ["L", None, None]
    assert kc.update(genp(m_Limit="m_LimitAll"), {"labl": "M"}) == OK
    _st, res = kc.copy(genp(m_Limit="m_LimitAll", r_Attributes=True))
    assert [r.get("labl") for r in res] == ["M", "M", "M"]


def test_2_2_dp_update_all_matches(dpkc: KC, profile: str) -> None:
    """5.2 #2.2: DP update changes every match."""
    fill(dpkc, profile)
    assert dpkc.update(dp(genp(), profile), {"labl": "L"}) == OK
    _st, res = dpkc.copy(dp(genp(m_Limit="m_LimitAll", r_Attributes=True), profile))
    assert [r["labl"] for r in res] == ["L", "L", "L"]


@pytest.mark.parametrize(
    "limit,expected", [("m_LimitOne", 1), (1, 1), (2, 2), ("m_LimitAll", 3), (10, 3)]
)
def test_2_6_dp_limit_forms(dpkc: KC, profile: str, limit: Any, expected: int) -> None:
    """5.2 #2.6: DP accepts CFNumber or kSecMatchLimitOne/All."""
    fill(dpkc, profile)
    st, res = dpkc.copy(dp(genp(m_Limit=limit, r_Data=True), profile))
    assert st == OK
    if limit in ("m_LimitOne", 1):
        assert res == b"s0"
    else:
        assert len(res) == expected


def test_2_6_dp_bad_limit(kc: KC) -> None:
    """5.2 #2.6: DP: any other kSecMatchLimit value -> errSecParam."""
    kc.lib.secsim_set_profile(b"ios")
    kc.add_ok(genp(acct="a"))
    st, _ = kc.copy(genp(m_Limit="lots", r_Data=True))
    assert st == PARAM


def test_2_6_fb_limit_forms(kc: KC) -> None:
    """5.2 #2.6: FB: a string other than kSecMatchLimitAll means one; negative -> -50."""
    fill(kc, "macos", fb=True)
    st, res = kc.copy(genp(m_Limit="whatever", r_Attributes=True))
    assert st == OK and isinstance(res, dict)
    st, _ = kc.copy(genp(m_Limit=-1, r_Attributes=True))
    assert st == PARAM
    st, res = kc.copy(genp(m_Limit=2, r_Attributes=True))
    assert st == OK and len(res) == 2


# 5.3 result shapes: DP -------------------------------------------------------------


def test_3_dp_no_return_keys_limit_one(dpkc: KC, profile: str) -> None:
    """5.3 DP: no return keys, limit 1 -> success and no object."""
    fill(dpkc, profile, n=1)
    st, res = dpkc.copy(dp(genp(), profile))
    assert (st, res) == (OK, NO_RESULT)


def test_3_dp_no_return_keys_limit_all_empty_array(dpkc: KC, profile: str) -> None:
    """5.3 DP: no return keys, limit > 1 -> an empty CFArray."""
    fill(dpkc, profile)
    st, res = dpkc.copy(dp(genp(m_Limit="m_LimitAll"), profile))
    assert (st, res) == (OK, [])


def test_3_dp_data_only(dpkc: KC, profile: str) -> None:
    """5.3 DP: r_Data only -> CFData; empty CFData when the item has no secret."""
    dpkc.add_ok(dp(genp(acct="a", v_Data=b"secret"), profile))
    dpkc.add_ok(dp(genp(acct="b"), profile))
    assert dpkc.copy(dp(genp(acct="a", r_Data=True), profile)) == (OK, b"secret")
    assert dpkc.copy(dp(genp(acct="b", r_Data=True), profile)) == (OK, b"")


def test_3_dp_attributes_only_no_class(dpkc: KC, profile: str) -> None:
    """5.3 DP: r_Attributes -> dictionary without `class` and without v_Data."""
    dpkc.add_ok(dp(genp(acct="a", svce="s", labl="L", v_Data=b"x"), profile))
    st, attrs = dpkc.copy(dp(genp(acct="a", r_Attributes=True), profile))
    assert st == OK
    assert "class" not in attrs and "v_Data" not in attrs
    assert attrs["acct"] == "a" and attrs["svce"] == "s" and attrs["labl"] == "L"
    assert attrs["agrp"] == APP_GROUP and attrs["pdmn"] == "ak" and attrs["sync"] == 0
    assert attrs["accc"] == ("opaque", "SecAccessControl")  # 5.8 #8.5
    assert isinstance(attrs["cdat"], dt.datetime)
    assert "UUID" not in attrs and "persistref" not in attrs


def test_3_dp_persistent_ref_format(dpkc: KC, profile: str) -> None:
    """5.3 DP: persistent ref = 4 class bytes + 8-byte big-endian rowid."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    dpkc.add_ok(dp(inet(acct="b"), profile))
    st, r1 = dpkc.copy(dp(genp(r_PersistentRef=True), profile))
    st2, r2 = dpkc.copy(dp(inet(r_PersistentRef=True), profile))
    assert st == st2 == OK
    assert len(r1) == 12 and r1[:4] == b"genp" and r2[:4] == b"inet"
    assert int.from_bytes(r2[4:], "big") > int.from_bytes(r1[4:], "big") > 0
    # and it finds the item again
    assert dpkc.copy(dp({"v_PersistentRef": r2, "r_Attributes": True}, profile))[1]["acct"] == "b"


def test_3_dp_ref_on_password_is_null(dpkc: KC, profile: str) -> None:
    """5.3 DP: r_Ref alone on a password class -> success with no object."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    assert dpkc.copy(dp(genp(r_Ref=True), profile)) == (OK, NO_RESULT)
    assert dpkc.copy(dp(genp(r_Ref=True, m_Limit="m_LimitAll"), profile)) == (OK, [])


def test_3_dp_ref_on_key_and_certificate(dpkc: KC, profile: str) -> None:
    """5.3 DP: r_Ref -> SecKeyRef / SecCertificateRef for keys / certificates."""
    dpkc.add_ok(dp({"class": "keys", "atag": b"t", "v_Data": b"k"}, profile))
    dpkc.add_ok(dp({"class": "cert", "slnr": b"1", "v_Data": b"c"}, profile))
    assert dpkc.copy(dp({"class": "keys", "r_Ref": True}, profile)) == (OK, ("opaque", "SecKey"))
    assert dpkc.copy(dp({"class": "cert", "r_Ref": True}, profile)) == (
        OK,
        ("opaque", "SecCertificate"),
    )


def test_3_dp_several_keys_dictionary(dpkc: KC, profile: str) -> None:
    """5.3 DP: >= 2 return keys -> dictionary with v_Data / v_PersistentRef
    (+ attributes); `class` present only when r_Ref is requested."""
    dpkc.add_ok(dp(genp(acct="a", v_Data=b"x"), profile))
    st, d = dpkc.copy(dp(genp(r_Data=True, r_PersistentRef=True), profile))
    assert st == OK and set(d) == {"v_Data", "v_PersistentRef"} and d["v_Data"] == b"x"
    st, d = dpkc.copy(dp(genp(r_Data=True, r_Attributes=True), profile))
    assert d["acct"] == "a" and d["v_Data"] == b"x" and "class" not in d
    st, d = dpkc.copy(dp(genp(r_Data=True, r_Ref=True), profile))
    assert d["class"] == "genp" and "v_Ref" not in d and d["v_Data"] == b"x"
    dpkc.add_ok(dp({"class": "keys", "atag": b"t"}, profile))
    st, d = dpkc.copy(dp({"class": "keys", "r_Ref": True, "r_Attributes": True}, profile))
    assert d["class"] == "keys" and d["v_Ref"] == ("opaque", "SecKey")


def test_3_dp_numeric_limit_always_array(dpkc: KC, profile: str) -> None:
    """5.3 DP: a numeric limit N > 1 gives an array even for one match."""
    dpkc.add_ok(dp(genp(acct="a", v_Data=b"x"), profile))
    assert dpkc.copy(dp(genp(r_Data=True, m_Limit=5), profile)) == (OK, [b"x"])


def test_3_dp_not_found(dpkc: KC, profile: str) -> None:
    """5.3 DP: no match -> errSecItemNotFound."""
    assert dpkc.copy(dp(genp(acct="zz", r_Data=True), profile)) == (NOT_FOUND, NO_RESULT)


def test_3_result_null_is_not_an_error(dpkc: KC, profile: str) -> None:
    """5.3 / 5.4 #4.1: a NULL result pointer with return keys is fine."""
    fill(dpkc, profile, n=1)
    q = dpkc.cf(dp(genp(r_Data=True), profile))
    try:
        assert dpkc.lib.SecItemCopyMatching(q, dpkc.ffi.NULL) == OK
    finally:
        dpkc.lib.CFRelease(q)
    st, _ = dpkc.add(dp(genp(acct="n", r_Data=True), profile), want_result=False)
    assert st == OK


def test_3_ios_leaves_result_untouched(kc: KC) -> None:
    """5.3 / 5.4 #4.1: iOS client leaves *result untouched when nothing is produced;
    the macOS shim stores NULL first."""
    for profile, expect_null in (("ios", False), ("macos", True)):
        kc.lib.secsim_reset()
        kc.lib.secsim_set_profile(profile.encode())
        kc.lib.secsim_set_access_groups(APP_GROUP.encode())
        sentinel = kc.lib.kSecClass  # an immortal object we can compare against
        out = kc.ffi.new("CFTypeRef *", sentinel)
        d = kc.cf(dp(genp(acct="a"), profile))
        try:
            assert kc.lib.SecItemAdd(d, out) == OK
        finally:
            kc.lib.CFRelease(d)
        assert (out[0] == kc.ffi.NULL) == expect_null


def test_3_match_policy_on_password_unimplemented(kc: KC) -> None:
    """5.3 / §3: DP returns errSecUnimplemented for kSecMatchPolicy on non-certificates."""
    kc.lib.secsim_set_profile(b"ios")
    kc.add_ok(genp(acct="a"))
    st, _ = kc.copy(genp(m_Policy="x", r_Data=True))
    assert st == UNIMPLEMENTED


# 5.3 result shapes: FB -----------------------------------------------------------


def test_3_fb_no_return_keys_item_ref(kc: KC) -> None:
    """5.3 FB: no return keys -> a SecKeychainItemRef (array of refs for limit all)."""
    fill(kc, "macos", n=2, fb=True)
    assert kc.copy(genp()) == (OK, ("opaque", "SecKeychainItem"))
    assert kc.copy(genp(m_Limit="m_LimitAll")) == (OK, [("opaque", "SecKeychainItem")] * 2)


def test_3_fb_single_key_shapes(kc: KC) -> None:
    """5.3 FB: exactly one return key -> that single object; attributes include `class`."""
    kc.add_ok(genp(acct="a", svce="s", labl="L", v_Data=b"x", gena=b"g", invi=True, crtr=1234))
    assert kc.copy(genp(r_Data=True)) == (OK, b"x")
    assert kc.copy(genp(r_Ref=True)) == (OK, ("opaque", "SecKeychainItem"))
    st, pref = kc.copy(genp(r_PersistentRef=True))
    assert st == OK and isinstance(pref, bytes)
    st, attrs = kc.copy(genp(r_Attributes=True))
    assert attrs["class"] == "genp"
    assert attrs["acct"] == "a" and attrs["labl"] == "L" and attrs["gena"] == b"g"
    assert attrs["invi"] is True and attrs["crtr"] == 1234
    assert "agrp" not in attrs and "pdmn" not in attrs and "sync" not in attrs


def test_3_fb_inet_protocol_as_string(kc: KC) -> None:
    """5.3 FB: inet ptcl / atyp come back as the 4-char CFString constants."""
    kc.add_ok(inet(srvr="example.com", ptcl="htps", atyp="form", port=443, acct="u"))
    _st, attrs = kc.copy(inet(r_Attributes=True))
    assert attrs["ptcl"] == "htps" and attrs["atyp"] == "form" and attrs["port"] == 443


def test_3_fb_several_keys_dictionary(kc: KC) -> None:
    """5.3 FB: >= 2 return keys -> dictionary of v_Ref/v_PersistentRef/v_Data (+ attributes)."""
    kc.add_ok(genp(acct="a", v_Data=b"x"))
    st, d = kc.copy(genp(r_Data=True, r_Ref=True, r_Attributes=True))
    assert st == OK
    assert d["v_Data"] == b"x" and d["v_Ref"] == ("opaque", "SecKeychainItem")
    assert d["class"] == "genp" and d["acct"] == "a"
    _st, d = kc.copy(genp(r_Data=True, r_PersistentRef=True, m_Limit=2))
    assert len(d) == 1 and set(d[0]) == {"v_Data", "v_PersistentRef"}


def test_3_fb_data_with_limit_all_rejected(kc: KC) -> None:
    """5.3 FB: r_Data + kSecMatchLimitAll on genp/inet -> errSecParam; numeric N is fine."""
    kc.add_ok(genp(acct="a", v_Data=b"x"))
    kc.add_ok(inet(acct="a", v_Data=b"y"))
    assert kc.copy(genp(r_Data=True, m_Limit="m_LimitAll"))[0] == PARAM
    assert kc.copy(inet(r_Data=True, m_Limit="m_LimitAll"))[0] == PARAM
    assert kc.copy(genp(r_Data=True, m_Limit=100)) == (OK, [b"x"])


def test_3_fb_data_limit_all_dp_answers_when_entitled(kc: KC) -> None:
    """5.3 / 5.1 #1.5: in the both-targets case an entitled process gets DP's answer."""
    kc.lib.secsim_set_access_groups(APP_GROUP.encode())
    kc.add_ok(genp(acct="d", v_Data=b"dp", nleg=True))
    kc.add_ok(genp(acct="f", v_Data=b"fb"))
    assert kc.copy(genp(r_Data=True, m_Limit="m_LimitAll")) == (OK, [b"dp"])


# 5.4 #4.1 / #4.2 Add results ----------------------------------------------------------


def test_4_1_dp_add_result_shapes(dpkc: KC, profile: str) -> None:
    """5.4 #4.1: DP add fills result with the limit-1 shape; nothing without return keys."""
    st, res = dpkc.add(dp(genp(acct="a", v_Data=b"x"), profile))
    assert (st, res) == (OK, NO_RESULT)
    st, res = dpkc.add(dp(genp(acct="b", v_Data=b"y", r_Data=True), profile))
    assert (st, res) == (OK, b"y")
    st, res = dpkc.add(dp(genp(acct="c", r_Attributes=True, r_PersistentRef=True), profile))
    assert st == OK and res["acct"] == "c" and len(res["v_PersistentRef"]) == 12


def test_4_2_fb_add_returns_item_ref(kc: KC) -> None:
    """5.4 #4.2: FB add with a result pointer and no return key -> the added item (a
    SecKeychainItemRef that must be released), usable as kSecValueRef."""
    st, ref = kc.add_raw(genp(acct="a", v_Data=b"x"))
    assert st == OK and ref is not None and ref.type_name == "SecKeychainItem"
    kc.add_ok(genp(acct="b", v_Data=b"y"))
    assert kc.copy({"v_Ref": ref.ptr, "r_Data": True}) == (OK, b"x")
    assert kc.delete({"v_Ref": ref.ptr}) == OK
    assert kc.copy({"v_Ref": ref.ptr, "r_Data": True})[0] == NOT_FOUND
    assert kc.count(genp()) == 1


def test_4_2_fb_add_with_return_key(kc: KC) -> None:
    """5.4 #4.2 / 5.3 FB: with a return key the add result is that object."""
    st, res = kc.add(genp(acct="a", v_Data=b"x", r_Attributes=True))
    assert st == OK and res["class"] == "genp" and res["acct"] == "a"


def test_refs_compare_equal(kc: KC) -> None:
    """Item refs to the same item are CFEqual."""
    st, r1 = kc.add_raw(genp(acct="a"))
    assert st == OK
    _st, r2 = kc.copy_raw(genp(acct="a", r_Ref=True))
    assert r1.ptr != r2.ptr and kc.lib.CFEqual(r1.ptr, r2.ptr)


def test_ref_finds_dp_key(dpkc: KC, profile: str) -> None:
    """A SecKeyRef from DP finds and deletes exactly that key."""
    dpkc.add_ok(dp({"class": "keys", "atag": b"1"}, profile))
    dpkc.add_ok(dp({"class": "keys", "atag": b"2"}, profile))
    st, ref = dpkc.copy_raw(dp({"class": "keys", "atag": b"2", "r_Ref": True}, profile))
    assert st == OK
    assert dpkc.copy(dp({"v_Ref": ref.ptr, "r_Attributes": True}, profile))[1]["atag"] == b"2"
    assert dpkc.delete(dp({"v_Ref": ref.ptr}, profile)) == OK
    st, res = dpkc.copy(
        dp({"class": "keys", "r_Attributes": True, "m_Limit": "m_LimitAll"}, profile)
    )
    assert [r["atag"] for r in res] == [b"1"]
