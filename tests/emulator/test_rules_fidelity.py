"""Behaviours settled by Apple's own sources and regression tests (facts, "Apple's
own SecItem regression tests"; issue #12 section 1), one test per rule:

* ``accc`` is never a match term (SecDbQuery.c query_add_attribute_with_desc);
* no ``v_Data`` for an item without data (SecItemDb.c handle_result, si-80-empty-data);
* ``sha1`` with return-attributes + return-data (handle_result; SecDbKeychainItemCopySHA1);
* tombstones through ``tomb`` / ``u_Tomb`` (SecItemDb.c s3dl_should_make_tombstone,
  the tomb = 0 query setup; SecDbItem.c SecDbItemCopyTombstone / SecDbItemInsert);
* 12.3: macOS reads by a process without groups see com.apple.token (-25300), writes -34018
  (server_entitlement_helpers.c; KeychainEntitlementsTest.m).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
from decimal import Decimal
from typing import Any

import pytest

from .test_rules_helpers import (
    APP_GROUP,
    DUPLICATE,
    KC,
    MISSING_ENTITLEMENT,
    NOT_FOUND,
    OK,
    PARAM,
    dp,
    genp,
    inet,
)

ALL = "m_LimitAll"


def one(kc: KC, query: dict[str, Any]) -> dict[str, Any]:
    st, res = kc.copy(query)
    assert st == OK, st
    assert isinstance(res, dict), res
    return res


# ---------------------------------------------------------------------------
# accc is never a match term


def test_fidelity_accc_returned_dictionary_fed_back_as_query(dpkc: KC, profile: str) -> None:
    """SecDbQuery.c query_add_attribute_with_desc: the attribute dictionary
    CopyMatching returned (it carries accc) finds the same item again."""
    dpkc.add_ok(dp(genp(acct="a", svce="s", labl="L", v_Data=b"pw"), profile))
    dpkc.add_ok(dp(genp(acct="b", svce="s", v_Data=b"other"), profile))
    attrs = one(dpkc, dp(genp(acct="a", r_Attributes=True), profile))
    assert attrs["accc"] == ("opaque", "SecAccessControl")
    raw_st, raw = dpkc.copy_raw(dp(genp(acct="a", r_Attributes=True), profile))
    assert raw_st == OK and raw is not None
    # feed the CF dictionary itself back (accc as the SecAccessControl object)
    query = dpkc.lib.CFDictionaryCreateMutableCopy(dpkc.ffi.NULL, 0, raw.ptr)
    try:
        for key, value in dp(genp(r_Data=True, m_Limit=ALL), profile).items():
            k, v = dpkc.cf(key), dpkc.cf(value)
            dpkc.lib.CFDictionarySetValue(query, k, v)
            dpkc.lib.CFRelease(k)
            dpkc.lib.CFRelease(v)
        out = dpkc.ffi.new("CFTypeRef *")
        st = dpkc.lib.SecItemCopyMatching(query, out)
        assert st == OK
        assert dpkc.py(out[0]) == [b"pw"]
    finally:
        dpkc.lib.CFRelease(query)


def test_fidelity_accc_other_flags_still_matches(dpkc: KC, profile: str) -> None:
    """accc is never compared: an access control unlike the item's still matches,
    in CopyMatching, Update and Delete."""
    ac = dpkc.access_control("ak", 1)  # user presence
    plain = dpkc.access_control("dk", 0)
    dpkc.add_ok(dp(genp(acct="a", accc=ac.ptr, v_Data=b"x"), profile))
    st, res = dpkc.copy(dp(genp(acct="a", accc=plain.ptr, r_Attributes=True), profile))
    assert st == OK and res["acct"] == "a"
    assert dpkc.update(dp(genp(acct="a", accc=plain.ptr), profile), {"labl": "new"}) == OK
    assert one(dpkc, dp(genp(acct="a", r_Attributes=True), profile))["labl"] == "new"
    assert dpkc.delete(dp(genp(acct="a", accc=plain.ptr), profile)) == OK
    assert dpkc.count(dp(genp(), profile)) == 0


def test_fidelity_accc_in_add_is_still_stored(dpkc: KC, profile: str) -> None:
    """Not a match term, but an add still stores it (and derives pdmn from it)."""
    ac = dpkc.access_control("aku", 0)
    dpkc.add_ok(dp(genp(acct="a", accc=ac.ptr), profile))
    assert one(dpkc, dp(genp(acct="a", r_Attributes=True), profile))["pdmn"] == "aku"


# ---------------------------------------------------------------------------
# no v_Data for an item without data


def test_fidelity_no_v_data_in_dictionaries_for_item_without_data(dpkc: KC, profile: str) -> None:
    """si-80-empty-data: attributes + data, limit all: one dictionary, no v_Data,
    the attributes present."""
    dpkc.add_ok(dp(genp(acct="empty-data-account-test", svce="empty-data-svce-test"), profile))
    st, res = dpkc.copy(
        dp(genp(svce="empty-data-svce-test", m_Limit=ALL, r_Data=True, r_Attributes=True), profile)
    )
    assert st == OK and isinstance(res, list) and len(res) == 1
    row = res[0]
    assert "v_Data" not in row
    assert row["svce"] == "empty-data-svce-test"
    assert row["acct"] == "empty-data-account-test"


def test_fidelity_no_v_data_with_persistent_ref(dpkc: KC, profile: str) -> None:
    """handle_result's other dictionary branch (data + persistent ref) also
    leaves v_Data out."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    row = one(dpkc, dp(genp(acct="a", r_Data=True, r_PersistentRef=True), profile))
    assert set(row) == {"v_PersistentRef"}


def test_fidelity_return_data_alone_is_empty_data(dpkc: KC, profile: str) -> None:
    """handle_result: return-data alone yields an empty CFData."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    st, res = dpkc.copy(dp(genp(acct="a", r_Data=True), profile))
    assert st == OK and res == b""


def test_fidelity_item_with_data_keeps_v_data(dpkc: KC, profile: str) -> None:
    dpkc.add_ok(dp(genp(acct="a", v_Data=b"pw"), profile))
    row = one(dpkc, dp(genp(acct="a", r_Data=True, r_Attributes=True), profile))
    assert row["v_Data"] == b"pw"


def test_fidelity_file_based_keeps_v_data(kc: KC) -> None:
    """The macOS shim (SecItem.cpp) builds v_Data from SecKeychainItemCopyContent
    for every item: the file-based keychain keeps an empty v_Data."""
    kc.add_ok(genp(acct="a"))
    row = one(kc, genp(acct="a", r_Data=True, r_Attributes=True))
    assert row["v_Data"] == b""


# ---------------------------------------------------------------------------
# sha1: SHA-1 of the DER property list of the hashed attributes


_CF_EPOCH = 978307200  # kCFAbsoluteTimeIntervalSince1970


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(body)) + body


def _der_int(v: int) -> bytes:
    n = max(1, (v.bit_length() + 8) // 8)  # minimal two's complement
    return _tlv(0x02, v.to_bytes(n, "big", signed=True))


def _der_date(at: float) -> bytes:
    fl = math.floor(at)
    t = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC) + _dt.timedelta(seconds=fl + _CF_EPOCH)
    body = t.strftime("%Y%m%d%H%M%S")
    if at != 0:
        _sign, digits, exp = Decimal(repr(abs(at))).as_tuple()
        text = "".join(map(str, digits)).rstrip("0") or "0"
        dotoff = len(digits) + int(exp)
        frac = ("0" * -dotoff + text) if dotoff < 0 else text[dotoff:]
        if frac and at < 0:
            frac = "".join(str(9 - int(c)) for c in frac[:-1]) + str(10 - int(frac[-1]))
        if frac:
            body += "." + frac
    return _tlv(0x18, (body + "Z").encode())


def _der_value(kind: str, v: Any) -> bytes:
    if kind == "str":
        return _tlv(0x0C, v.encode())
    if kind == "data":
        return _tlv(0x04, v)
    if kind == "int":
        return _der_int(v)
    if kind == "bool":
        return _tlv(0x01, b"\xff" if v else b"\x00")
    assert kind == "date"
    return _der_date(v)


def expected_sha1(values: dict[str, tuple[str, Any]]) -> bytes:
    """SecDbKeychainItemCopySHA1 in Python: SHA-1 of the DER dictionary of the
    H-flag attributes (all but musr/accc/sha1; sysb default 0; v_Data if any)."""
    hashed = {
        k: v for k, v in values.items() if k not in ("musr", "accc", "sha1", "v_PersistentRef")
    }
    hashed.setdefault("sysb", ("int", 0))
    pairs = sorted(_tlv(0x30, _tlv(0x0C, k.encode()) + _der_value(*kv)) for k, kv in hashed.items())
    return hashlib.sha1(_tlv(0x31, b"".join(pairs))).digest()


def raw_row(kc: KC, query: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """The one dictionary CopyMatching returns, with dates as exact doubles."""
    st, ref = kc.copy_raw(query)
    assert st == OK and ref is not None
    lib, ffi = kc.lib, kc.ffi
    n = lib.CFDictionaryGetCount(ref.ptr)
    keys = ffi.new("const void *[]", n)
    vals = ffi.new("const void *[]", n)
    lib.CFDictionaryGetKeysAndValues(ref.ptr, keys, vals)
    out: dict[str, tuple[str, Any]] = {}
    for k, v in zip(keys, vals, strict=True):
        name = kc.py(lib.CFRetain(k))
        tid = lib.CFGetTypeID(v)
        if tid == lib.CFDateGetTypeID():
            out[name] = ("date", lib.CFDateGetAbsoluteTime(v))
            continue
        value = kc.py(lib.CFRetain(v))
        if isinstance(value, bool):
            out[name] = ("bool", value)
        elif isinstance(value, int):
            out[name] = ("int", value)
        elif isinstance(value, str):
            out[name] = ("str", value)
        elif isinstance(value, bytes):
            out[name] = ("data", value)
        else:
            out[name] = ("other", value)
    return out


@pytest.mark.parametrize("size", [0, 1, 3, 20, 55, 56, 63, 64, 65, 119, 120, 200, 1000])
def test_fidelity_sha1_is_the_item_digest(dpkc: KC, profile: str, size: int) -> None:
    """handle_result + SecDbKeychainItemCopySHA1: with attributes and data the
    dictionary holds sha1 = SHA-1(DER(hashed attributes + v_Data)); sizes around
    the 64-byte block and its padding boundary exercise the C SHA-1."""
    secret = bytes(range(256)) * 4
    dpkc.add_ok(
        dp(
            genp(
                acct="a", svce="s", labl="L", gena=b"\x00g", crtr=1633775724, v_Data=secret[:size]
            ),
            profile,
        )
    )
    row = raw_row(dpkc, dp(genp(acct="a", r_Data=True, r_Attributes=True), profile))
    kind, sha1 = row["sha1"]
    assert kind == "data" and len(sha1) == 20
    assert sha1 == expected_sha1(row)
    assert sha1 != hashlib.sha1(secret[:size]).digest()  # not a hash of the secret alone


def test_fidelity_sha1_for_internet_password(dpkc: KC, profile: str) -> None:
    dpkc.add_ok(
        dp(
            inet(acct="a", srvr="example.com", ptcl="htps", port=443, path="/x", v_Data=b"pw"),
            profile,
        )
    )
    row = raw_row(dpkc, dp(inet(acct="a", r_Data=True, r_Attributes=True), profile))
    assert row["sha1"][1] == expected_sha1(row)


def test_fidelity_sha1_only_with_attributes_and_data(dpkc: KC, profile: str) -> None:
    """Attributes alone: no sha1 ("without data our sha1 could be invalid")."""
    dpkc.add_ok(dp(genp(acct="a", v_Data=b"pw"), profile))
    assert "sha1" not in one(dpkc, dp(genp(acct="a", r_Attributes=True), profile))
    row = one(
        dpkc, dp(genp(acct="a", r_Attributes=True, r_Data=True, r_PersistentRef=True), profile)
    )
    assert len(row["sha1"]) == 20
    assert "sha1" not in one(dpkc, dp(genp(acct="a", r_Data=True, r_PersistentRef=True), profile))


def test_fidelity_sha1_follows_the_hashed_attributes(dpkc: KC, profile: str) -> None:
    """A label change (a hashed attribute) changes sha1; the same secret in two
    items gives two digests."""
    dpkc.add_ok(dp(genp(acct="a", v_Data=b"pw"), profile))
    dpkc.add_ok(dp(genp(acct="b", v_Data=b"pw"), profile))
    q = dp(genp(acct="a", r_Data=True, r_Attributes=True), profile)
    before = one(dpkc, q)["sha1"]
    other = one(dpkc, dp(genp(acct="b", r_Data=True, r_Attributes=True), profile))["sha1"]
    assert before != other
    assert dpkc.update(dp(genp(acct="a"), profile), {"labl": "L2"}) == OK
    assert one(dpkc, q)["sha1"] != before


def test_fidelity_sha1_as_a_query_term(dpkc: KC, profile: str) -> None:
    """The sha1 column can be searched (a kSecDbSHA1Attr query term)."""
    dpkc.add_ok(dp(genp(acct="a", v_Data=b"pw"), profile))
    dpkc.add_ok(dp(genp(acct="b", v_Data=b"pw"), profile))
    digest = one(dpkc, dp(genp(acct="a", r_Data=True, r_Attributes=True), profile))["sha1"]
    st, res = dpkc.copy(dp(genp(sha1=digest, m_Limit=ALL, r_Attributes=True), profile))
    assert st == OK and [r["acct"] for r in res] == ["a"]
    st, _ = dpkc.copy(dp(genp(sha1=b"\x00" * 20), profile))
    assert st == NOT_FOUND


def test_fidelity_sha1_not_on_file_based(kc: KC) -> None:
    kc.add_ok(genp(acct="a", v_Data=b"pw"))
    assert "sha1" not in one(kc, genp(acct="a", r_Data=True, r_Attributes=True))


# ---------------------------------------------------------------------------
# tombstones


def tombstones(kc: KC, profile: str, **attrs: Any) -> list[dict[str, Any]]:
    st, res = kc.copy(dp(genp(tomb=True, m_Limit=ALL, r_Attributes=True, **attrs), profile))
    if st == NOT_FOUND:
        return []
    assert st == OK, st
    return list(res)


def test_fidelity_tomb_add_stores_a_tombstone(dpkc: KC, profile: str) -> None:
    """s3dl_query_add: an add with tomb = true is stored as a tombstone; a query
    without tomb does not see it (tomb = 0 is added), one naming tomb does."""
    dpkc.add_ok(dp(genp(acct="a", tomb=True, v_Data=b"x"), profile))
    st, _ = dpkc.copy(dp(genp(acct="a"), profile))
    assert st == NOT_FOUND
    assert [t["acct"] for t in tombstones(dpkc, profile)] == ["a"]
    assert tombstones(dpkc, profile)[0]["tomb"] == 1


def test_fidelity_tomb_false_query_sees_live_items_only(dpkc: KC, profile: str) -> None:
    dpkc.add_ok(dp(genp(acct="a"), profile))
    dpkc.add_ok(dp(genp(acct="b", tomb=True), profile))
    assert dpkc.count(dp(genp(tomb=False), profile)) == 1
    assert dpkc.count(dp(genp(), profile)) == 1


def test_fidelity_tomb_add_replaces_a_tombstone(dpkc: KC, profile: str) -> None:
    """SecDbItemInsert: a colliding tombstone is replaced, not a duplicate."""
    dpkc.add_ok(dp(genp(acct="a", tomb=True), profile))
    dpkc.add_ok(dp(genp(acct="a", v_Data=b"live"), profile))
    st, res = dpkc.copy(dp(genp(acct="a", r_Data=True), profile))
    assert st == OK and res == b"live"
    assert tombstones(dpkc, profile) == []
    st, _ = dpkc.add(dp(genp(acct="a", tomb=True), profile))
    assert st == DUPLICATE  # a live item is never replaced


def test_fidelity_tomb_delete_of_synchronizable_item_leaves_tombstone(
    dpkc: KC, profile: str
) -> None:
    """s3dl_should_make_tombstone: deleting a synchronizable item leaves a tombstone
    (SecDbItemCopyTombstone: primary key, tomb, pdmn, cdat, authenticated
    attributes, a younger mdat; no label, no data)."""
    dpkc.add_ok(dp(genp(acct="a", svce="s", sync=True, labl="L", v_Data=b"x"), profile))
    before = one(dpkc, dp(genp(acct="a", sync=True, r_Attributes=True), profile))
    assert dpkc.delete(dp(genp(acct="a", sync=True), profile)) == OK
    st, _ = dpkc.copy(dp(genp(acct="a", sync=True), profile))
    assert st == NOT_FOUND
    (t,) = tombstones(dpkc, profile, sync=True)
    assert t["tomb"] == 1 and t["acct"] == "a" and t["svce"] == "s" and t["sync"] == 1
    assert (
        t["agrp"] == before["agrp"] and t["pdmn"] == before["pdmn"] and t["cdat"] == before["cdat"]
    )
    assert t["mdat"] > before["mdat"]
    assert "labl" not in t
    st, res = dpkc.copy(dp(genp(acct="a", sync=True, tomb=True, r_Data=True), profile))
    assert st == OK and res == b""


def test_fidelity_tomb_delete_of_local_item_leaves_nothing(dpkc: KC, profile: str) -> None:
    dpkc.add_ok(dp(genp(acct="a"), profile))
    assert dpkc.delete(dp(genp(acct="a"), profile)) == OK
    assert tombstones(dpkc, profile) == []


@pytest.mark.parametrize("value", [True, 1, "1"])
def test_fidelity_tomb_use_tombstones_key_forces_tombstone(
    dpkc: KC, profile: str, value: Any
) -> None:
    """q_use_tomb (CFBoolean, CFNumber or CFString): a tombstone even for a local item."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    assert dpkc.delete(dp(genp(acct="a", u_Tomb=value), profile)) == OK
    assert [t["acct"] for t in tombstones(dpkc, profile)] == ["a"]


@pytest.mark.parametrize("value", [False, 0, "0", "no"])
def test_fidelity_tomb_use_tombstones_false_never(dpkc: KC, profile: str, value: Any) -> None:
    dpkc.add_ok(dp(genp(acct="a", sync=True), profile))
    assert dpkc.delete(dp(genp(acct="a", sync=True, u_Tomb=value), profile)) == OK
    assert tombstones(dpkc, profile, sync=True) == []


def test_fidelity_tomb_use_tombstones_bad_type(dpkc: KC, profile: str) -> None:
    """query_add_use: neither CFBoolean, CFNumber nor CFString -> errSecParam."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    assert dpkc.delete(dp(genp(acct="a", u_Tomb=b"1"), profile)) == PARAM


def test_fidelity_tomb_delete_naming_tomb_removes_tombstone(dpkc: KC, profile: str) -> None:
    """A delete naming tomb reaches tombstones; a tombstone is not tombstoned again."""
    dpkc.add_ok(dp(genp(acct="a", sync=True, tomb=True), profile))
    assert dpkc.delete(dp(genp(acct="a", sync=True, tomb=True), profile)) == OK
    assert tombstones(dpkc, profile, sync=True) == []


def test_fidelity_tomb_update_ignores_tombstones(dpkc: KC, profile: str) -> None:
    """s3dl_query_update adds tomb = 0 too: a tombstone is not updated."""
    dpkc.add_ok(dp(genp(acct="a", tomb=True), profile))
    assert dpkc.update(dp(genp(acct="a"), profile), {"labl": "x"}) == NOT_FOUND


def test_fidelity_tomb_update_collision_replaces_tombstone(dpkc: KC, profile: str) -> None:
    """SecDbItemUpdate: a primary-key change onto a tombstone replaces it."""
    dpkc.add_ok(dp(genp(acct="b", tomb=True), profile))
    dpkc.add_ok(dp(genp(acct="a", v_Data=b"x"), profile))
    assert dpkc.update(dp(genp(acct="a"), profile), {"acct": "b"}) == OK
    st, res = dpkc.copy(dp(genp(acct="b", r_Data=True), profile))
    assert st == OK and res == b"x"
    assert tombstones(dpkc, profile) == []


def test_fidelity_tomb_update_of_synchronizable_key_leaves_tombstone(
    dpkc: KC, profile: str
) -> None:
    """SecDbItemUpdate: a synchronizable item whose primary key changes leaves a
    tombstone for the old key; a change that keeps the key leaves none."""
    dpkc.add_ok(dp(genp(acct="a", sync=True), profile))
    assert dpkc.update(dp(genp(acct="a", sync=True), profile), {"labl": "x"}) == OK
    assert tombstones(dpkc, profile, sync=True) == []
    assert dpkc.update(dp(genp(acct="a", sync=True), profile), {"acct": "b"}) == OK
    assert [t["acct"] for t in tombstones(dpkc, profile, sync=True)] == ["a"]
    assert dpkc.count(dp(genp(sync=True), profile)) == 1


def test_fidelity_tomb_persists(tmp_path: Any) -> None:
    """Tombstones are items like any other in the SECSIM_STORE file: one process
    leaves one (delete of a synchronizable item), the next one sees it."""
    from .test_store import run

    store = tmp_path / "kc.bin"
    extra = {"SECSIM_PROFILE": "ios"}
    assert (
        run(
            """
        print(add({"class": "genp", "acct": "a", "sync": True}),
              delete({"class": "genp", "acct": "a", "sync": True}))
        """,
            store,
            **extra,
        )
        == "0 0"
    )
    out = run(
        """
        q = {"class": "genp", "acct": "a", "sync": True}
        st, v = copy({**q, "tomb": True, "r_Attributes": True})
        print(st, v["tomb"], copy(q)[0])
        """,
        store,
        **extra,
    )
    assert out == f"0 1 {NOT_FOUND}"


# ---------------------------------------------------------------------------
# 12.3: the implicit com.apple.token group of macOS


@pytest.mark.parametrize("op", ["add", "update", "delete"])
def test_12_3_macos_unsigned_writes_missing_entitlement(kc: KC, op: str) -> None:
    """KeychainEntitlementsTest testNoEntitlements: writes are declined (-34018)."""
    q = genp(acct="a", nleg=True)
    assert kc.status(op, q) == MISSING_ENTITLEMENT


def test_12_3_macos_unsigned_read_not_found(kc: KC) -> None:
    """testNoEntitlements (macOS, tokens on): CopyMatching runs with the implicit
    com.apple.token group and finds nothing: -25300."""
    st, _ = kc.copy(genp(acct="a", nleg=True))
    assert st == NOT_FOUND
    st, _ = kc.copy(genp(agrp="com.apple.token", nleg=True))
    assert st == NOT_FOUND


def test_12_3_macos_token_group_readable_with_groups(kc: KC) -> None:
    """testDisallowTokenGroupWrite: an explicit com.apple.token is fine for reading
    (-25300: nothing there), never for writing (-34018)."""
    kc.lib.secsim_set_access_groups(APP_GROUP.encode())
    st, _ = kc.copy(genp(agrp="com.apple.token", nleg=True))
    assert st == NOT_FOUND
    st, _ = kc.add(genp(agrp="com.apple.token", nleg=True))
    assert st == MISSING_ENTITLEMENT


def test_12_3_ios_without_groups_read_missing_entitlement(kc: KC) -> None:
    """On non-macOS targets the token group must be entitled: -34018."""
    kc.lib.secsim_set_profile(b"ios")
    kc.lib.secsim_set_access_groups(b"")
    st, _ = kc.copy(genp(acct="a"))
    assert st == MISSING_ENTITLEMENT
    st, _ = kc.copy(genp(agrp="com.apple.token"))
    assert st == MISSING_ENTITLEMENT


# ---------------------------------------------------------------------------
# the typed layer with the corrected results


def test_fidelity_typed_item_hides_sha1(sim: Any) -> None:
    """Item.raw (and so repr, the CLI and --json, which read the typed item) never
    holds sha1: it is derived from the secret. The hazmat layer returns it as Apple does."""
    from secitem import security
    from secitem.items import GenericPassword
    from secitem.keychain import Keychain

    sim.lib.secsim_set_profile(b"ios")
    kc = Keychain(platform="ios")
    kc.add(GenericPassword(service="svc", account="acct"), b"1234")
    item = kc.get(GenericPassword(service="svc", account="acct"))
    assert item.data == b"1234"
    assert "sha1" not in item.raw
    assert "sha1" not in repr(item)
    raw = security.SecItemCopyMatching(
        {"class": "genp", "acct": "acct", "r_Attributes": True, "r_Data": True}
    )
    assert isinstance(raw, dict) and len(raw["sha1"]) == 20


def test_fidelity_typed_item_without_data(sim: Any) -> None:
    """An item stored without data has no v_Data in the raw answer (as on Apple);
    the typed layer, which asked for the secret, reads that as b"" (the secret is
    empty), and an empty secret is b"" too."""
    from secitem import security
    from secitem.items import GenericPassword
    from secitem.keychain import Keychain

    sim.lib.secsim_set_profile(b"ios")
    security.SecItemAdd({"class": "genp", "svce": "svc", "acct": "none"})
    raw = security.SecItemCopyMatching(
        {"class": "genp", "svce": "svc", "acct": "none", "r_Attributes": True, "r_Data": True}
    )
    assert isinstance(raw, dict) and security.kSecValueData not in raw
    kc = Keychain(platform="ios")
    assert kc.get(GenericPassword(service="svc", account="none")).data == b""
    assert kc.get(GenericPassword(service="svc", account="none"), data=False).data is None
    assert kc.secret(GenericPassword(service="svc", account="none")) == b""
    kc.add(GenericPassword(service="svc", account="empty"), b"")
    assert kc.get(GenericPassword(service="svc", account="empty")).data == b""
