"""The legacy macOS password calls of the emulator (seckey-facts §6, issue #12
section 4), driven through its C ABI: argument conventions (byte counts and
non-NUL-terminated names, NULL out-parameters), the same file-based keychain
as SecItem in both directions (also across processes through SECSIM_STORE),
and errSecUnimplemented on the ios profile."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from .test_rules_helpers import (
    APP_GROUP,
    DUPLICATE,
    INVALID_ITEM_REF,
    KC,
    NO_SUCH_ATTR,
    NOT_FOUND,
    OK,
    PARAM,
    UNIMPLEMENTED,
    genp,
    inet,
)

AAPL = 0x6161706C
HTPS = 0x68747073  # kSecProtocolTypeHTTPS: 'htps', big-endian packing
FTP = 0x66747020  # 'ftp '
DFLT = 0x746C6664  # kSecAuthenticationTypeDefault on little-endian Macs (bytes "dflt")
FORM = 0x6D726F66  # kSecAuthenticationTypeHTMLForm ('form' swapped)
TAG_LABL = 0x6C61626C  # kSecLabelItemAttr 'labl'
TAG_ACCT = 0x61636374  # kSecAccountItemAttr 'acct'
TAG_PORT = 0x706F7274  # kSecPortItemAttr 'port'
TAG_BOGUS = 0x7A7A7A7A  # 'zzzz'


class Legacy:
    """The seven calls with Python arguments; buffers are kept alive."""

    def __init__(self, kc: KC) -> None:
        self.kc = kc
        self.ffi = kc.ffi
        self.lib = kc.lib

    def _name(self, value: bytes | None, length: int | None = None) -> tuple[int, Any]:
        if value is None:
            return (length or 0), self.ffi.NULL
        # A buffer with trailing garbage: only `length` bytes may be used.
        buf = self.ffi.new("char[]", value + b"GARBAGE")
        return (len(value) if length is None else length), buf

    def add_generic(
        self,
        service: bytes | None,
        account: bytes | None,
        password: bytes | None,
        *,
        want_ref: bool = False,
        password_length: int | None = None,
    ) -> tuple[int, Any]:
        sl, s = self._name(service)
        al, a = self._name(account)
        pl = len(password or b"") if password_length is None else password_length
        p = self.ffi.NULL if password is None else self.ffi.new("char[]", password + b"!")
        ref = self.ffi.new("SecKeychainItemRef *") if want_ref else self.ffi.NULL
        st = self.lib.SecKeychainAddGenericPassword(self.ffi.NULL, sl, s, al, a, pl, p, ref)
        return st, (self.kc.keep(ref[0]) if want_ref and ref[0] != self.ffi.NULL else None)

    def find_generic(
        self,
        service: bytes | None,
        account: bytes | None,
        *,
        want_password: bool = True,
        want_length: bool = True,
        want_ref: bool = False,
    ) -> tuple[int, Any, Any]:
        sl, s = self._name(service)
        al, a = self._name(account)
        return self._find(
            lambda n, d, r: self.lib.SecKeychainFindGenericPassword(
                self.ffi.NULL, sl, s, al, a, n, d, r
            ),
            want_password,
            want_length,
            want_ref,
        )

    def _find(
        self, call: Any, want_password: bool, want_length: bool, want_ref: bool
    ) -> tuple[int, Any, Any]:
        ffi = self.ffi
        n = ffi.new("UInt32 *", 0xDEAD) if want_length else ffi.NULL
        d = ffi.new("void **") if want_password else ffi.NULL
        r = ffi.new("SecKeychainItemRef *") if want_ref else ffi.NULL
        st = call(n, d, r)
        password: Any = None
        if want_password and d[0] != ffi.NULL:
            length = n[0] if want_length else None
            password = bytes(ffi.buffer(d[0], length)) if length is not None else "<unsized>"
            assert self.lib.SecKeychainItemFreeContent(ffi.NULL, d[0]) == (
                OK if st == OK else UNIMPLEMENTED
            )
        elif want_length and st == OK:
            password = ("length", n[0])
        ref = self.kc.keep(r[0]) if want_ref and r[0] != ffi.NULL else None
        return st, password, ref

    def add_internet(
        self,
        server: bytes | None,
        account: bytes | None,
        password: bytes,
        *,
        domain: bytes | None = None,
        path: bytes | None = None,
        port: int = 0,
        protocol: int = 0,
        auth: int = 0,
        want_ref: bool = False,
    ) -> tuple[int, Any]:
        sl, s = self._name(server)
        dl, d = self._name(domain)
        al, a = self._name(account)
        pl, p = self._name(path)
        ref = self.ffi.new("SecKeychainItemRef *") if want_ref else self.ffi.NULL
        st = self.lib.SecKeychainAddInternetPassword(
            self.ffi.NULL,
            sl,
            s,
            dl,
            d,
            al,
            a,
            pl,
            p,
            port,
            protocol,
            auth,
            len(password),
            password,
            ref,
        )
        return st, (self.kc.keep(ref[0]) if want_ref and ref[0] != self.ffi.NULL else None)

    def find_internet(
        self,
        server: bytes | None,
        account: bytes | None,
        *,
        domain: bytes | None = None,
        path: bytes | None = None,
        port: int = 0,
        protocol: int = 0,
        auth: int = 0,
        want_ref: bool = False,
    ) -> tuple[int, Any, Any]:
        sl, s = self._name(server)
        dl, d = self._name(domain)
        al, a = self._name(account)
        if path is None:
            pl, p = 0, self.ffi.NULL
        else:  # matched as a C string (NUL-terminated, as Apple reads it)
            pl, p = len(path), self.ffi.new("char[]", path)
        return self._find(
            lambda n, dd, r: self.lib.SecKeychainFindInternetPassword(
                self.ffi.NULL, sl, s, dl, d, al, a, pl, p, port, protocol, auth, n, dd, r
            ),
            True,
            True,
            want_ref,
        )

    def modify(
        self, ref: Any, data: bytes | None, attrs: list[tuple[int, bytes]] | None = None
    ) -> int:
        ffi = self.ffi
        keep = []
        lst = ffi.NULL
        if attrs is not None:
            arr = ffi.new("SecKeychainAttribute[]", max(1, len(attrs)))
            for i, (tag, value) in enumerate(attrs):
                buf = ffi.new("char[]", value or b"\0")
                keep.append(buf)
                arr[i].tag = tag
                arr[i].length = len(value)
                arr[i].data = buf
            lst = ffi.new("SecKeychainAttributeList *", {"count": len(attrs), "attr": arr})
            keep.append(arr)
        d = ffi.NULL if data is None else ffi.new("char[]", data + b"!")
        return int(self.lib.SecKeychainItemModifyAttributesAndData(ref, lst, len(data or b""), d))

    def delete(self, ref: Any) -> int:
        return int(self.lib.SecKeychainItemDelete(ref))


@pytest.fixture
def leg(kc: KC) -> Legacy:
    kc.lib.secsim_set_profile(b"macos")
    return Legacy(kc)


def fb_attrs(kc: KC, query: dict[str, Any]) -> dict[str, Any]:
    st, res = kc.copy({**query, "r_Attributes": True, "r_Data": True})
    assert st == OK, st
    assert isinstance(res, dict)
    return res


# ---------------------------------------------------------------------------
# 6.1 argument conventions, 6.3 the same keychain as SecItem


def test_6_3_legacy_generic_add_found_by_secitem(leg: Legacy, kc: KC) -> None:
    """6.1/6.3: exactly `length` bytes of each name are used; labl = service,
    crtr = 'aapl'; SecItemCopyMatching finds it (file-based, class genp)."""
    st, _ = leg.add_generic(b"svc", b"alice", b"s3cret")
    assert st == OK
    row = fb_attrs(kc, genp(svce="svc", acct="alice"))
    assert row["v_Data"] == b"s3cret"
    assert row["class"] == "genp" and row["labl"] == "svc" and row["crtr"] == AAPL
    assert "cdat" in row and "mdat" in row
    # not in the data-protection keychain
    st, _ = kc.copy(genp(svce="svc", acct="alice", nleg=True))
    assert st != OK


def test_6_3_secitem_add_found_by_legacy(leg: Legacy, kc: KC) -> None:
    kc.add_ok(genp(svce="svc", acct="bob", v_Data=b"pw\x00bin"))
    st, password, _ = leg.find_generic(b"svc", b"bob")
    assert st == OK and password == b"pw\x00bin"


def test_6_1_find_first_match_and_wildcards(leg: Legacy) -> None:
    """A name with a NULL pointer or a zero length is not matched; the first
    item of the keychain wins."""
    assert leg.add_generic(b"svc", b"a", b"1")[0] == OK
    assert leg.add_generic(b"svc", b"b", b"2")[0] == OK
    assert leg.find_generic(b"svc", None)[:2] == (OK, b"1")
    assert leg.find_generic(None, b"b")[:2] == (OK, b"2")
    sl, s = leg._name(b"svc", 0)
    al, a = leg._name(b"b")
    st, password, _ = leg._find(
        lambda n, d, r: leg.lib.SecKeychainFindGenericPassword(leg.ffi.NULL, sl, s, al, a, n, d, r),
        True,
        True,
        False,
    )
    assert (st, password) == (OK, b"2")


def test_6_1_out_parameters_may_be_null(leg: Legacy) -> None:
    assert leg.add_generic(b"svc", b"a", b"pw")[0] == OK
    assert leg.find_generic(b"svc", b"a", want_password=False, want_length=False)[0] == OK
    st, password, _ = leg.find_generic(b"svc", b"a", want_password=False)
    assert (st, password) == (OK, ("length", 2))
    st, _, ref = leg.find_generic(
        b"svc", b"a", want_password=False, want_length=False, want_ref=True
    )
    assert st == OK and ref.type_name == "SecKeychainItem"


def test_6_1_not_found(leg: Legacy) -> None:
    st, password, ref = leg.find_generic(b"svc", b"nobody", want_ref=True)
    assert (st, password, ref) == (NOT_FOUND, None, None)


def test_6_1_password_length_without_data_is_param(leg: Legacy) -> None:
    st, _ = leg.add_generic(b"svc", b"a", None, password_length=4)
    assert st == PARAM


def test_6_1_no_password(leg: Legacy, kc: KC) -> None:
    """A zero length with NULL data is allowed: an item without data."""
    st, _ = leg.add_generic(b"svc", b"a", None, password_length=0)
    assert st == OK
    assert leg.find_generic(b"svc", b"a")[:2] == (OK, b"")
    assert fb_attrs(kc, genp(acct="a"))["v_Data"] == b""


def test_6_1_duplicate_both_ways(leg: Legacy, kc: KC) -> None:
    """The file-based unique index (account + service) covers both APIs."""
    assert leg.add_generic(b"svc", b"a", b"1")[0] == OK
    assert leg.add_generic(b"svc", b"a", b"2")[0] == DUPLICATE
    st, _ = kc.add(genp(svce="svc", acct="a", v_Data=b"3"))
    assert st == DUPLICATE
    kc.add_ok(genp(svce="svc", acct="b", v_Data=b"3"))
    assert leg.add_generic(b"svc", b"b", b"4")[0] == DUPLICATE


def test_6_1_item_ref_is_a_keychain_item(leg: Legacy, kc: KC) -> None:
    """*itemRef is a +1 SecKeychainItemRef, equal to SecItem's r_Ref and usable
    as kSecValueRef."""
    st, ref = leg.add_generic(b"svc", b"a", b"pw", want_ref=True)
    assert st == OK and ref.type_name == "SecKeychainItem"
    st, other = kc.copy_raw(genp(acct="a", r_Ref=True))
    assert st == OK and other is not None
    assert kc.lib.CFEqual(ref.ptr, other.ptr)
    assert kc.copy(genp(v_Ref=ref.ptr, r_Data=True)) == (OK, b"pw")


def test_6_1_non_utf8_name(leg: Legacy, kc: KC) -> None:
    """Names are bytes; SecItem reads one that is not UTF-8 as kCFNull."""
    assert leg.add_generic(b"svc", b"\xff\xfeacct", b"pw")[0] == OK
    assert leg.find_generic(b"svc", b"\xff\xfeacct")[:2] == (OK, b"pw")
    row = fb_attrs(kc, genp(svce="svc"))
    assert row["acct"] is None and row["v_Data"] == b"pw"


# internet passwords ----------------------------------------------------------


def test_6_3_legacy_internet_add_found_by_secitem(leg: Legacy, kc: KC) -> None:
    """6.1/6.2/6.3: srvr/sdmn/acct/path, port always stored, ptcl from the
    big-endian code, atyp from the byte-swapped one; labl = server."""
    st, _ = leg.add_internet(
        b"example.com",
        b"alice",
        b"pw",
        domain=b"realm",
        path=b"/x",
        port=443,
        protocol=HTPS,
        auth=DFLT,
    )
    assert st == OK
    row = fb_attrs(kc, inet(srvr="example.com"))
    assert row["class"] == "inet" and row["v_Data"] == b"pw"
    assert (row["srvr"], row["acct"], row["sdmn"], row["path"]) == (
        "example.com",
        "alice",
        "realm",
        "/x",
    )
    assert (row["port"], row["ptcl"], row["atyp"], row["labl"]) == (
        443,
        "htps",
        "dflt",
        "example.com",
    )
    assert row["crtr"] == AAPL
    # SecItem finds it by the kSecAttr* string values
    assert kc.copy(inet(srvr="example.com", ptcl="htps", atyp="dflt", port=443, r_Data=True)) == (
        OK,
        b"pw",
    )


def test_6_1_internet_zero_codes_and_empty_names(leg: Legacy, kc: KC) -> None:
    """Port 0 is stored; protocol/auth type 0 have no SecItem value; empty
    domain/path are not stored."""
    assert leg.add_internet(b"h", b"a", b"pw", domain=b"", path=b"")[0] == OK
    row = fb_attrs(kc, inet(srvr="h"))
    assert row["port"] == 0
    assert not {"ptcl", "atyp", "sdmn", "path"} & set(row)


def test_6_3_secitem_internet_found_by_legacy(leg: Legacy, kc: KC) -> None:
    kc.add_ok(inet(srvr="h", acct="a", ptcl="ftp ", atyp="form", port=21, path="/p", v_Data=b"pw"))
    assert leg.find_internet(b"h", b"a", protocol=FTP, auth=FORM, port=21, path=b"/p")[:2] == (
        OK,
        b"pw",
    )


def test_6_1_internet_find_wildcards(leg: Legacy) -> None:
    """port 0, kSecProtocolTypeAny (0) and kSecAuthenticationTypeAny (0) match
    anything; other values must be equal."""
    assert leg.add_internet(b"h", b"a", b"pw", port=443, protocol=HTPS, auth=DFLT)[0] == OK
    assert leg.find_internet(b"h", None)[:2] == (OK, b"pw")
    assert leg.find_internet(b"h", b"a", port=443, protocol=HTPS, auth=DFLT)[:2] == (OK, b"pw")
    assert leg.find_internet(b"h", b"a", port=80)[0] == NOT_FOUND
    assert leg.find_internet(b"h", b"a", protocol=FTP)[0] == NOT_FOUND
    assert leg.find_internet(b"h", b"a", auth=FORM)[0] == NOT_FOUND
    # kSecAuthenticationTypeDefault is a real value: it matches only 'dflt' items
    assert leg.add_internet(b"h2", b"a", b"pw", auth=FORM)[0] == OK
    assert leg.find_internet(b"h2", b"a", auth=DFLT)[0] == NOT_FOUND


def test_6_1_internet_path_is_a_c_string(leg: Legacy) -> None:
    assert leg.add_internet(b"h", b"a", b"pw", path=b"/a/b")[0] == OK
    assert leg.find_internet(b"h", b"a", path=b"/a/b")[:2] == (OK, b"pw")
    assert leg.find_internet(b"h", b"a", path=b"/a")[0] == NOT_FOUND


def test_6_1_internet_duplicate(leg: Legacy, kc: KC) -> None:
    assert leg.add_internet(b"h", b"a", b"pw", port=443, protocol=HTPS)[0] == OK
    assert leg.add_internet(b"h", b"a", b"pw2", port=443, protocol=HTPS)[0] == DUPLICATE
    assert leg.add_internet(b"h", b"a", b"pw2", port=8443, protocol=HTPS)[0] == OK
    st, _ = kc.add(inet(srvr="h", acct="a", port=443, ptcl="htps", v_Data=b"x"))
    assert st == DUPLICATE


# modify / delete / free ----------------------------------------------------------


def test_6_1_modify_password(leg: Legacy, kc: KC) -> None:
    """ModifyAttributesAndData(item, NULL, len, data) replaces the password and
    updates mdat; SecItem sees it."""
    st, ref = leg.add_generic(b"svc", b"a", b"old", want_ref=True)
    assert st == OK
    before = fb_attrs(kc, genp(acct="a"))
    assert leg.modify(ref.ptr, b"new password") == OK
    after = fb_attrs(kc, genp(acct="a"))
    assert after["v_Data"] == b"new password" and after["mdat"] >= before["mdat"]
    assert after["cdat"] == before["cdat"]
    assert leg.find_generic(b"svc", b"a")[:2] == (OK, b"new password")


def test_6_1_modify_null_data_keeps_password(leg: Legacy, kc: KC) -> None:
    st, ref = leg.add_generic(b"svc", b"a", b"pw", want_ref=True)
    assert st == OK
    assert leg.modify(ref.ptr, None) == OK
    assert leg.modify(ref.ptr, None, [(TAG_LABL, b"My label")]) == OK
    row = fb_attrs(kc, genp(acct="a"))
    assert row["v_Data"] == b"pw" and row["labl"] == "My label"


def test_6_1_modify_attributes(leg: Legacy, kc: KC) -> None:
    """Attribute values are raw bytes (strings without NUL, numbers as 4-byte
    host-order UInt32); an unknown tag is errSecNoSuchAttr; a collision -25299."""
    st, ref = leg.add_internet(b"h", b"a", b"pw", port=1, want_ref=True)
    assert st == OK
    assert (
        leg.modify(ref.ptr, b"pw2", [(TAG_PORT, struct.pack("=I", 8080)), (TAG_ACCT, b"bob")]) == OK
    )
    row = fb_attrs(kc, inet(srvr="h"))
    assert (row["port"], row["acct"], row["v_Data"]) == (8080, "bob", b"pw2")
    assert leg.modify(ref.ptr, None, [(TAG_BOGUS, b"x")]) == NO_SUCH_ATTR
    assert leg.modify(ref.ptr, None, [(TAG_PORT, b"12")]) == PARAM
    assert leg.add_internet(b"h", b"carol", b"pw", port=8080)[0] == OK
    assert leg.modify(ref.ptr, None, [(TAG_ACCT, b"carol")]) == DUPLICATE
    assert fb_attrs(kc, inet(srvr="h", acct="bob"))["v_Data"] == b"pw2"  # unchanged


def test_6_3_modify_item_from_secitem(leg: Legacy, kc: KC) -> None:
    """A SecKeychainItemRef from SecItemCopyMatching (r_Ref) works too."""
    kc.add_ok(genp(svce="svc", acct="a", v_Data=b"pw"))
    st, ref = kc.copy_raw(genp(acct="a", r_Ref=True))
    assert st == OK and ref is not None
    assert leg.modify(ref.ptr, b"changed") == OK
    assert kc.copy(genp(acct="a", r_Data=True)) == (OK, b"changed")


def test_6_1_delete(leg: Legacy, kc: KC) -> None:
    """SecKeychainItemDelete removes the item (SecItem no longer finds it) and
    does not release the reference; a second delete is -25304."""
    st, ref = leg.add_generic(b"svc", b"a", b"pw", want_ref=True)
    assert st == OK
    assert leg.delete(ref.ptr) == OK
    assert kc.copy(genp(acct="a"))[0] == NOT_FOUND
    assert leg.delete(ref.ptr) == INVALID_ITEM_REF
    assert leg.modify(ref.ptr, b"x") == INVALID_ITEM_REF


def test_6_1_delete_and_modify_bad_refs(leg: Legacy, kc: KC) -> None:
    """NULL, or a reference that is not a file-keychain item: -25304."""
    assert leg.delete(leg.ffi.NULL) == INVALID_ITEM_REF
    assert leg.modify(leg.ffi.NULL, b"x") == INVALID_ITEM_REF
    kc.lib.secsim_set_access_groups(APP_GROUP.encode())
    kc.add_ok(genp(acct="dp", nleg=True, v_Data=b"x"))
    st, dpref = kc.copy_raw(genp(acct="dp", nleg=True, r_PersistentRef=True))
    assert st == OK and dpref is not None
    item = leg.ffi.cast("SecKeychainItemRef", dpref.ptr)
    assert leg.delete(item) == INVALID_ITEM_REF  # a CFData, not an item
    ac = kc.access_control("ak", 0)
    assert leg.delete(leg.ffi.cast("SecKeychainItemRef", ac.ptr)) == INVALID_ITEM_REF


def test_6_3_secitem_delete_removes_legacy_item(leg: Legacy, kc: KC) -> None:
    assert leg.add_generic(b"svc", b"a", b"pw")[0] == OK
    assert kc.delete(genp(svce="svc", acct="a")) == OK
    assert leg.find_generic(b"svc", b"a")[0] == NOT_FOUND


def test_6_1_free_content_null_arguments(leg: Legacy) -> None:
    assert leg.lib.SecKeychainItemFreeContent(leg.ffi.NULL, leg.ffi.NULL) == OK


# the ios profile, persistence, threads --------------------------------------------


def test_6_ios_profile_unimplemented(kc: KC) -> None:
    """API_UNAVAILABLE(ios): every call returns errSecUnimplemented and writes
    no out-parameter."""
    kc.lib.secsim_set_profile(b"ios")
    leg = Legacy(kc)
    assert leg.add_generic(b"svc", b"a", b"pw", want_ref=True) == (UNIMPLEMENTED, None)
    assert leg.find_generic(b"svc", b"a", want_ref=True) == (UNIMPLEMENTED, None, None)
    assert leg.add_internet(b"h", b"a", b"pw")[0] == UNIMPLEMENTED
    assert leg.find_internet(b"h", b"a")[0] == UNIMPLEMENTED
    kc.add_ok(genp(acct="a", v_Data=b"x"))
    assert leg.delete(leg.ffi.NULL) == UNIMPLEMENTED
    assert leg.modify(leg.ffi.NULL, b"x") == UNIMPLEMENTED
    assert leg.lib.SecKeychainItemFreeContent(leg.ffi.NULL, leg.ffi.NULL) == UNIMPLEMENTED
    assert kc.count(genp()) == 1


def test_6_3_persistence_both_directions(tmp_path: Path) -> None:
    """SECSIM_STORE: an item added by the legacy call in one process is read by
    SecItem in the next, and the reverse."""
    from .test_store import run

    store = tmp_path / "kc.bin"
    legacy_add = """
    st = lib.SecKeychainAddGenericPassword(ffi.NULL, 3, b"svc", 1, b"a", 2, b"pw", ffi.NULL)
    print(st, add({"class": "genp", "svce": "svc", "acct": "b", "v_Data": b"secitem"}))
    """
    assert run(legacy_add, store) == "0 0"
    out = run(
        """
        n = ffi.new("UInt32 *"); d = ffi.new("void **")
        st = lib.SecKeychainFindGenericPassword(ffi.NULL, 3, b"svc", 1, b"b", n, d, ffi.NULL)
        pw = bytes(ffi.buffer(d[0], n[0])); lib.SecKeychainItemFreeContent(ffi.NULL, d[0])
        print(st, pw.decode(), copy({"class": "genp", "acct": "a", "r_Data": True})[1].decode())
        """,
        store,
    )
    assert out == "0 secitem pw"


def test_6_thread_safety(leg: Legacy, kc: KC, run_threads: Any) -> None:
    """The legacy calls hold the emulator's lock: concurrent adds, finds and
    SecItem calls from several threads stay consistent."""

    def worker(n: int) -> None:
        for i in range(40):
            acct = f"t{n}-{i}".encode()
            st, ref = leg.add_generic(b"svc", acct, acct, want_ref=True)
            assert st == OK
            st, password, _ = leg.find_generic(b"svc", acct)
            assert (st, password) == (OK, acct)
            if i % 2:
                assert leg.modify(ref.ptr, acct + b"!") == OK
            if i % 3 == 0:
                assert leg.delete(ref.ptr) == OK

    errors = run_threads(worker, 4)
    assert not errors, errors
    expected = sum(1 for _n in range(4) for i in range(40) if i % 3)
    assert kc.count(genp(svce="svc")) == expected
