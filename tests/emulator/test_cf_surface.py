"""The CoreFoundation calls keychain clients make beyond secitem's own (issue #17).

Every test runs on the emulator and on Apple's own CoreFoundation built for
Linux (the ``cf`` fixture of test_cf.py, tests/applecf.py), with the same
assertions; docs/emulator.md ("Exported CoreFoundation functions") names the
test that checks each function.  The autouse leak check of conftest.py
covers the emulator runs.
"""

from __future__ import annotations

from typing import Any

import pytest

from . import test_cf
from .test_cf import CF, owned

cf = test_cf.cf  # the fixture: emulator, then Apple's CF

UTF8 = 0x08000100
UTF16 = 0x0100
NOT_FOUND = -1


def text(ffi: Any, lib: Any, ref: Any) -> str:
    n = lib.CFStringGetLength(ref)
    size = lib.CFStringGetMaximumSizeForEncoding(n, UTF8) + 1
    buf = ffi.new("char[]", size)
    assert lib.CFStringGetCString(ref, buf, size, UTF8)
    return ffi.string(buf).decode()


def const(lib: Any, raw: bytes) -> Any:
    return lib.__CFStringMakeConstantString(raw)


def fmt(cf: CF, format_: bytes, *args: Any) -> str:
    ffi, lib = cf
    with owned(
        lib, lib.CFStringCreateWithFormat(ffi.NULL, ffi.NULL, const(lib, format_), *args)
    ) as s:
        return text(ffi, lib, s)


# ---------------------------------------------------------------------------
# CFSTR, type IDs, descriptions


def test_constant_strings_are_interned_and_immortal(cf: CF) -> None:
    ffi, lib = cf
    a = const(lib, b"kSecAttrService-like")
    assert a == const(lib, b"kSecAttrService-like")
    assert text(ffi, lib, a) == "kSecAttrService-like"
    lib.CFRelease(a)
    lib.CFRelease(a)  # immortal: releasing a CFSTR is harmless
    assert text(ffi, lib, a) == "kSecAttrService-like"
    assert ffi.string(lib.CFStringGetCStringPtr(a, UTF8)) == b"kSecAttrService-like"


def test_constant_string_non_ascii_reads_as_macroman(cf: CF) -> None:
    ffi, lib = cf
    assert text(ffi, lib, const(lib, b"caf\xe9")) == "caf\u00c8"
    assert text(ffi, lib, const(lib, "été".encode())) == "\u221a\u00a9t\u221a\u00a9"


@pytest.mark.parametrize(
    "family",
    [
        "String",
        "Data",
        "Number",
        "Boolean",
        "Date",
        "Array",
        "Dictionary",
        "Error",
        "Null",
        "Set",
        "UUID",
    ],
)
def test_copy_type_id_description(cf: CF, family: str) -> None:
    ffi, lib = cf
    with owned(lib, lib.CFCopyTypeIDDescription(getattr(lib, f"CF{family}GetTypeID")())) as d:
        assert text(ffi, lib, d) == f"CF{family}"


def test_type_ids_are_distinct(cf: CF) -> None:
    _, lib = cf
    names = ["String", "Data", "Number", "Boolean", "Date", "Array", "Dictionary", "Error", "Null"]
    ids = [getattr(lib, f"CF{n}GetTypeID")() for n in [*names, "Set", "UUID"]]
    assert len(set(ids)) == len(ids)


# ---------------------------------------------------------------------------
# CFStringCreateWithFormat


@pytest.mark.parametrize(
    ("format_", "args", "expected"),
    [
        (b"%d", [("int", 42)], "42"),
        (b"%i|%d", [("int", -7), ("int", 2147483647)], "-7|2147483647"),
        (
            b"%05d|%-4d|%+d|% d",
            [("int", -42), ("int", 7), ("int", 5), ("int", 5)],
            "-0042|7   |+5| 5",
        ),
        (
            b"%u|%x|%X|%o|%#x",
            [("unsigned", 7), ("int", 255), ("int", 0xABC), ("int", 8), ("int", 255)],
            "7|ff|ABC|10|0xff",
        ),
        (
            b"%ld|%lu",
            [("long", -(2**40)), ("unsigned long", 2**64 - 1)],
            "-1099511627776|18446744073709551615",
        ),
        (b"%lld|%qd", [("long long", -(2**62)), ("long long", 3)], f"{-(2**62)}|3"),
        (b"%zu|%zd", [("size_t", 99), ("ssize_t", -3)], "99|-3"),
        (b"%hhd|%hd|%hu", [("int", 300), ("int", 70000), ("int", -1)], "44|4464|65535"),
        (
            b"%f|%.2f|%5.1f",
            [("double", 3.5), ("double", 2.345), ("double", 9.87)],
            "3.500000|2.35|  9.9",
        ),
        (
            b"%e|%g|%G",
            [("double", 12345.678), ("double", 0.0001), ("double", 1e20)],
            "1.234568e+04|0.0001|1E+20",
        ),
        (b"%c%c", [("int", 65), ("int", 0x7A)], "Az"),
        (b"%C", [("int", 0x263A)], "\u263a"),
        (b"100%%", [], "100%"),
        (
            b"%*d|%.*f|%-*d|",
            [("int", 5), ("int", 3), ("int", 2), ("double", 3.14159), ("int", -4), ("int", 1)],
            "    3|3.14|1   |",
        ),
        (b"%2$d-%1$d-%2$d", [("int", 1), ("int", 2)], "2-1-2"),
        (b"%p", [("void *", 0x1234)], "0x1234"),
    ],
)
def test_format_numbers(cf: CF, format_: bytes, args: list[tuple[str, Any]], expected: str) -> None:
    ffi, _ = cf
    assert fmt(cf, format_, *(ffi.cast(t, v) for t, v in args)) == expected


def test_format_strings_and_objects(cf: CF) -> None:
    ffi, lib = cf
    obj = const(lib, b"an object")
    assert fmt(cf, b"[%@]", obj) == "[an object]"
    assert fmt(cf, b"[%@]", ffi.NULL) == "[(null)]"
    assert fmt(cf, b"[%s]", ffi.new("char[]", b"hi")) == "[hi]"
    assert fmt(
        cf, b"[%10s|%-4s|%.1s]", *(ffi.new("char[]", b) for b in (b"pad", b"ab", b"xyz"))
    ) == ("[       pad|ab  |x]")
    assert fmt(cf, b"[%s]", ffi.new("char[]", "été".encode())) == "[été]"
    assert fmt(cf, b"[%S]", ffi.new("UniChar[]", [0x48, 0xE9, 0x263A, 0])) == "[Hé\u263a]"
    with owned(lib, lib.CFStringCreateWithCharacters(ffi.NULL, [0xD83D, 0xDE00], 2)) as emoji:
        assert fmt(cf, b"<%@>", emoji) == "<\U0001f600>"
    # a non-ASCII format keeps its characters
    f = lib.CFStringCreateWithCString(ffi.NULL, "é %d ☺".encode(), UTF8)
    with (
        owned(lib, f),
        owned(lib, lib.CFStringCreateWithFormat(ffi.NULL, ffi.NULL, f, ffi.cast("int", 3))) as s,
    ):
        assert text(ffi, lib, s) == "é 3 ☺"


def test_format_s_not_utf8_inserts_nothing(cf: CF) -> None:
    ffi, _ = cf
    assert fmt(cf, b"[%s]", ffi.new("char[]", b"caf\xe9")) == "[]"


def test_append_format_and_mutable_strings(cf: CF) -> None:
    ffi, lib = cf
    with owned(lib, lib.CFStringCreateMutable(ffi.NULL, 0)) as m:
        assert lib.CFStringGetLength(m) == 0
        lib.CFStringAppend(m, const(lib, b"user="))
        lib.CFStringAppendFormat(
            m, ffi.NULL, const(lib, b"%s#%d"), ffi.new("char[]", b"ana"), ffi.cast("int", 7)
        )
        lib.CFStringAppendCString(m, "/é".encode(), UTF8)
        lib.CFStringAppendCharacters(m, ffi.new("UniChar[]", [0x263A]), 1)
        lib.CFStringAppend(m, m)  # itself
        assert text(ffi, lib, m) == "user=ana#7/é☺user=ana#7/é☺"
        assert lib.CFStringGetLength(m) == 26
        with owned(lib, lib.CFStringCreateCopy(ffi.NULL, m)) as c:
            assert lib.CFEqual(c, m)
            lib.CFStringAppend(m, const(lib, b"!"))
            assert not lib.CFEqual(c, m)
        with owned(lib, lib.CFStringCreateMutableCopy(ffi.NULL, 0, const(lib, b"ab"))) as m2:
            lib.CFStringAppend(m2, const(lib, b"c"))
            assert text(ffi, lib, m2) == "abc"


# ---------------------------------------------------------------------------
# Other CFString calls


def test_external_representation_round_trip(cf: CF) -> None:
    ffi, lib = cf
    with owned(lib, lib.CFStringCreateWithCString(ffi.NULL, "pässwörd ☺".encode(), UTF8)) as s:
        with owned(lib, lib.CFStringCreateExternalRepresentation(ffi.NULL, s, UTF8, 0)) as d:
            raw = bytes(ffi.buffer(lib.CFDataGetBytePtr(d), lib.CFDataGetLength(d)))
            assert raw == "pässwörd ☺".encode()
            with owned(
                lib, lib.CFStringCreateFromExternalRepresentation(ffi.NULL, d, UTF8)
            ) as back:
                assert lib.CFEqual(back, s)
        with owned(lib, lib.CFStringCreateExternalRepresentation(ffi.NULL, s, UTF16, 0)) as d:
            raw = bytes(ffi.buffer(lib.CFDataGetBytePtr(d), lib.CFDataGetLength(d)))
            assert raw[:2] in (b"\xff\xfe", b"\xfe\xff")  # a BOM
            assert (
                raw[2:].decode("utf-16-le" if raw[:2] == b"\xff\xfe" else "utf-16-be")
                == "pässwörd ☺"
            )
        assert lib.CFStringCreateExternalRepresentation(ffi.NULL, s, 0x0600, 0) == ffi.NULL
        with owned(
            lib, lib.CFStringCreateExternalRepresentation(ffi.NULL, s, 0x0600, ord("?"))
        ) as d:
            assert (
                bytes(ffi.buffer(lib.CFDataGetBytePtr(d), lib.CFDataGetLength(d))) == b"p?ssw?rd ?"
            )
    # keytar's path: password data (no BOM) read back as UTF-8
    d = lib.CFDataCreate(ffi.NULL, b"\xef\xbb\xbfhunter2", 10)
    with (
        owned(lib, d),
        owned(lib, lib.CFStringCreateFromExternalRepresentation(ffi.NULL, d, UTF8)) as s,
    ):
        assert text(ffi, lib, s) == "hunter2"


def test_characters(cf: CF) -> None:
    ffi, lib = cf
    with owned(lib, lib.CFStringCreateWithCString(ffi.NULL, "a☺\U0001f600z".encode(), UTF8)) as s:
        assert lib.CFStringGetLength(s) == 5
        assert [lib.CFStringGetCharacterAtIndex(s, i) for i in range(5)] == [
            0x61,
            0x263A,
            0xD83D,
            0xDE00,
            0x7A,
        ]
        buf = ffi.new("UniChar[]", 3)
        lib.CFStringGetCharacters(s, ffi.new("CFRange *", (1, 3))[0], buf)
        assert list(buf) == [0x263A, 0xD83D, 0xDE00]
        with owned(
            lib, lib.CFStringCreateWithSubstring(ffi.NULL, s, ffi.new("CFRange *", (2, 2))[0])
        ) as sub:
            assert text(ffi, lib, sub) == "\U0001f600"
        with owned(
            lib, lib.CFStringCreateWithCharacters(ffi.NULL, [0x61, 0x263A, 0xD83D, 0xDE00, 0x7A], 5)
        ) as t:
            assert lib.CFEqual(s, t)
        assert lib.CFStringHasPrefix(s, const(lib, b"a"))
        assert not lib.CFStringHasPrefix(s, const(lib, b"z"))
        assert lib.CFStringHasSuffix(s, const(lib, b"z"))


@pytest.mark.parametrize(
    ("a", "b", "flags", "expected"),
    [
        (b"abc", b"abd", 0, -1),
        (b"abd", b"abc", 0, 1),
        (b"abc", b"abc", 0, 0),
        (b"ABC", b"abc", 0, -1),
        (b"ABC", b"abc", 1, 0),
        (b"a", b"ab", 0, -1),
        (b"a10", b"a9", 0, -1),
        (b"a10", b"a9", 64, 1),
        (b"a010", b"a10", 64, 0),
        ("é".encode(), b"f", 0, 1),
    ],
)
def test_string_compare(cf: CF, a: bytes, b: bytes, flags: int, expected: int) -> None:
    ffi, lib = cf
    x = lib.CFStringCreateWithCString(ffi.NULL, a, UTF8)
    y = lib.CFStringCreateWithCString(ffi.NULL, b, UTF8)
    with owned(lib, x), owned(lib, y):
        assert lib.CFStringCompare(x, y, flags) == expected


# ---------------------------------------------------------------------------
# CFData, CFNumber, CFDate


def test_mutable_data(cf: CF) -> None:
    ffi, lib = cf
    with owned(lib, lib.CFDataCreateMutable(ffi.NULL, 0)) as d:
        lib.CFDataAppendBytes(d, b"hello", 5)
        lib.CFDataAppendBytes(d, b" world", 6)
        assert bytes(ffi.buffer(lib.CFDataGetBytePtr(d), lib.CFDataGetLength(d))) == b"hello world"
        lib.CFDataReplaceBytes(d, ffi.new("CFRange *", (0, 5))[0], b"HI", 2)
        lib.CFDataDeleteBytes(d, ffi.new("CFRange *", (2, 1))[0])
        lib.CFDataIncreaseLength(d, 2)
        assert bytes(ffi.buffer(lib.CFDataGetBytePtr(d), lib.CFDataGetLength(d))) == b"HIworld\0\0"
        lib.CFDataGetMutableBytePtr(d)[0] = ord("h")
        lib.CFDataSetLength(d, 3)
        buf = ffi.new("UInt8[]", 2)
        lib.CFDataGetBytes(d, ffi.new("CFRange *", (1, 2))[0], buf)
        assert bytes(buf) == b"Iw"
        with owned(lib, lib.CFDataCreateCopy(ffi.NULL, d)) as c:
            assert lib.CFEqual(c, d)
            with owned(lib, lib.CFDataCreateMutableCopy(ffi.NULL, 0, c)) as m:
                lib.CFDataAppendBytes(m, b"!", 1)
                assert lib.CFDataGetLength(m) == 4
                assert lib.CFDataGetLength(c) == 3


def test_data_no_copy(cf: CF) -> None:
    ffi, lib = cf
    raw = ffi.new("UInt8[]", b"abc")
    with owned(lib, lib.CFDataCreateWithBytesNoCopy(ffi.NULL, raw, 3, lib.kCFAllocatorNull)) as d:
        assert lib.CFDataGetBytePtr(d) == raw
        assert lib.CFDataGetLength(d) == 3


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (("SInt64", 1), ("SInt64", 2), -1),
        (("SInt64", 5), ("SInt32", 5), 0),
        (("Float64", 2.5), ("SInt64", 2), 1),
        (("Float64", -0.0), ("Float64", 0.0), -1),
        (("Float64", float("nan")), ("Float64", float("nan")), 0),
        (("Float64", 1.0), ("SInt64", 1), 0),
    ],
)
def test_number_compare(cf: CF, a: tuple[str, Any], b: tuple[str, Any], expected: int) -> None:
    ffi, lib = cf
    types = {"SInt32": (3, "int32_t *"), "SInt64": (4, "int64_t *"), "Float64": (6, "double *")}

    def make(spec: tuple[str, Any]) -> Any:
        t, ctype = types[spec[0]]
        return lib.CFNumberCreate(ffi.NULL, t, ffi.new(ctype, spec[1]))

    with owned(lib, make(a)) as x, owned(lib, make(b)) as y:
        assert lib.CFNumberCompare(x, y, ffi.NULL) == expected
        assert lib.CFNumberCompare(y, x, ffi.NULL) == -expected


def test_dates(cf: CF) -> None:
    ffi, lib = cf
    with (
        owned(lib, lib.CFDateCreate(ffi.NULL, 100.0)) as a,
        owned(lib, lib.CFDateCreate(ffi.NULL, 160.5)) as b,
    ):
        assert lib.CFDateCompare(a, b, ffi.NULL) == -1
        assert lib.CFDateCompare(b, a, ffi.NULL) == 1
        assert lib.CFDateCompare(a, a, ffi.NULL) == 0
        assert lib.CFDateGetTimeIntervalSinceDate(b, a) == 60.5


# ---------------------------------------------------------------------------
# CFArray, CFDictionary, CFSet


def test_array_calls(cf: CF) -> None:
    ffi, lib = cf
    cb = ffi.addressof(lib, "kCFTypeArrayCallBacks")
    a_, b_, c_ = (const(lib, x) for x in (b"a", b"b", b"c"))
    with owned(lib, lib.CFArrayCreateMutable(ffi.NULL, 0, cb)) as arr:
        for v in (a_, b_, c_):
            lib.CFArrayAppendValue(arr, v)
        out = ffi.new("void *[]", 3)
        lib.CFArrayGetValues(arr, ffi.new("CFRange *", (0, 3))[0], out)
        assert [text(ffi, lib, v) for v in out] == ["a", "b", "c"]
        full = ffi.new("CFRange *", (0, 3))[0]
        assert lib.CFArrayContainsValue(arr, full, b_)
        assert lib.CFArrayGetFirstIndexOfValue(arr, full, c_) == 2
        assert (
            lib.CFArrayGetFirstIndexOfValue(arr, ffi.new("CFRange *", (0, 2))[0], c_) == NOT_FOUND
        )
        assert lib.CFArrayGetCountOfValue(arr, full, a_) == 1
        lib.CFArrayInsertValueAtIndex(arr, 0, c_)
        lib.CFArraySetValueAtIndex(arr, 1, b_)
        lib.CFArrayRemoveValueAtIndex(arr, 3)
        lib.CFArraySetValueAtIndex(arr, 3, a_)  # at count: appends
        assert [text(ffi, lib, lib.CFArrayGetValueAtIndex(arr, i)) for i in range(4)] == [
            "c",
            "b",
            "b",
            "a",
        ]
        with owned(lib, lib.CFArrayCreateCopy(ffi.NULL, arr)) as copy:
            assert lib.CFEqual(copy, arr)
            with owned(lib, lib.CFArrayCreateMutableCopy(ffi.NULL, 0, copy)) as m:
                lib.CFArrayAppendArray(m, m, ffi.new("CFRange *", (1, 2))[0])
                assert lib.CFArrayGetCount(m) == 6
                lib.CFArrayRemoveAllValues(m)
                assert lib.CFArrayGetCount(m) == 0


def test_dictionary_calls(cf: CF) -> None:
    ffi, lib = cf
    kcb = ffi.addressof(lib, "kCFTypeDictionaryKeyCallBacks")
    vcb = ffi.addressof(lib, "kCFTypeDictionaryValueCallBacks")
    k1, k2, v1, v2 = (const(lib, x) for x in (b"k1", b"k2", b"v1", b"v2"))
    with owned(lib, lib.CFDictionaryCreateMutable(ffi.NULL, 0, kcb, vcb)) as d:
        lib.CFDictionaryAddValue(d, k1, v1)
        lib.CFDictionaryAddValue(d, k1, v2)  # add keeps the existing pair
        assert text(ffi, lib, lib.CFDictionaryGetValue(d, k1)) == "v1"
        lib.CFDictionaryReplaceValue(d, k2, v2)  # replace adds nothing
        assert lib.CFDictionaryGetCount(d) == 1
        lib.CFDictionaryReplaceValue(d, k1, v2)
        assert text(ffi, lib, lib.CFDictionaryGetValue(d, k1)) == "v2"
        lib.CFDictionaryAddValue(d, k2, v1)
        assert lib.CFDictionaryContainsValue(d, v1)
        assert lib.CFDictionaryGetCountOfKey(d, k2) == 1
        with owned(lib, lib.CFDictionaryCreateCopy(ffi.NULL, d)) as c:
            assert lib.CFEqual(c, d)
        lib.CFDictionaryRemoveAllValues(d)
        assert lib.CFDictionaryGetCount(d) == 0
        assert not lib.CFDictionaryContainsKey(d, k1)
        lib.CFDictionaryAddValue(d, k1, v1)
        assert lib.CFDictionaryGetCount(d) == 1


def test_set_calls(cf: CF) -> None:
    ffi, lib = cf
    cb = ffi.addressof(lib, "kCFTypeSetCallBacks")
    with owned(lib, lib.CFStringCreateWithCString(ffi.NULL, b"a", UTF8)) as a2:
        a_, b_ = const(lib, b"a"), const(lib, b"b")
        with owned(lib, lib.CFSetCreateMutable(ffi.NULL, 0, cb)) as s:
            assert lib.CFGetTypeID(s) == lib.CFSetGetTypeID()
            lib.CFSetAddValue(s, a_)
            lib.CFSetAddValue(s, a2)  # equal: not added
            lib.CFSetAddValue(s, b_)
            assert lib.CFSetGetCount(s) == 2
            assert lib.CFSetContainsValue(s, a2)
            assert lib.CFSetGetValue(s, a2) == a_
            lib.CFSetSetValue(s, a2)  # set replaces
            assert lib.CFSetGetValue(s, a_) == a2
            out = ffi.new("void *[]", 2)
            lib.CFSetGetValues(s, out)
            assert sorted(text(ffi, lib, v) for v in out) == ["a", "b"]
            with owned(lib, lib.CFSetCreateCopy(ffi.NULL, s)) as c:
                assert lib.CFEqual(c, s)
            lib.CFSetRemoveValue(s, b_)
            assert lib.CFSetGetCount(s) == 1
            lib.CFSetRemoveAllValues(s)
            assert lib.CFSetGetCount(s) == 0
        vals = ffi.new("void *[]", [a_, b_, a2])
        with owned(lib, lib.CFSetCreate(ffi.NULL, vals, 3, cb)) as s:
            assert lib.CFSetGetCount(s) == 2


# ---------------------------------------------------------------------------
# CFError, CFUUID


def test_error_with_keys_and_values(cf: CF) -> None:
    ffi, lib = cf
    keys = ffi.new("void *[]", [lib.kCFErrorLocalizedDescriptionKey])
    values = ffi.new("void *[]", [const(lib, b"Item not found.")])
    with owned(
        lib,
        lib.CFErrorCreateWithUserInfoKeysAndValues(
            ffi.NULL, lib.kCFErrorDomainOSStatus, -25300, keys, values, 1
        ),
    ) as err:
        assert lib.CFErrorGetCode(err) == -25300
        assert text(ffi, lib, lib.CFErrorGetDomain(err)) == "NSOSStatusErrorDomain"
        with owned(lib, lib.CFErrorCopyDescription(err)) as d:
            assert text(ffi, lib, d) == "Item not found."
    names = {
        "kCFErrorLocalizedDescriptionKey": "NSLocalizedDescription",
        "kCFErrorLocalizedFailureReasonKey": "NSLocalizedFailureReason",
        "kCFErrorLocalizedRecoverySuggestionKey": "NSLocalizedRecoverySuggestion",
        "kCFErrorUnderlyingErrorKey": "NSUnderlyingError",
        "kCFErrorDomainMach": "NSMachErrorDomain",
        "kCFErrorDomainCocoa": "NSCocoaErrorDomain",
    }
    for name, value in names.items():
        assert text(ffi, lib, getattr(lib, name)) == value


UUID_TEXT = "68753A44-4D6F-1226-9C60-0050E4C00067"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (UUID_TEXT, UUID_TEXT),
        (UUID_TEXT.lower(), UUID_TEXT),
        ("{" + UUID_TEXT + "}", UUID_TEXT),
        (" " + UUID_TEXT + "xyz", UUID_TEXT),
        (UUID_TEXT.replace("-", ""), "68753A44-D6F1-269C-0005-E4C000670000"),
        ("garbage", "00BA0000-0000-0000-0000-000000000000"),
        (UUID_TEXT[:-1], "68753A44-4D6F-1226-9C60-0050E4C00000"),
        ("", None),
    ],
)
def test_uuid_from_string(cf: CF, given: str, expected: str | None) -> None:
    ffi, lib = cf
    with owned(lib, lib.CFStringCreateWithCString(ffi.NULL, given.encode(), UTF8)) as s:
        u = lib.CFUUIDCreateFromString(ffi.NULL, s)
        if expected is None:
            assert u == ffi.NULL
            return
        with owned(lib, u), owned(lib, lib.CFUUIDCreateString(ffi.NULL, u)) as t:
            assert text(ffi, lib, t) == expected


def test_uuid_create_bytes_equality(cf: CF) -> None:
    ffi, lib = cf
    with owned(lib, lib.CFUUIDCreate(ffi.NULL)) as u:
        assert lib.CFGetTypeID(u) == lib.CFUUIDGetTypeID()
        with owned(lib, lib.CFUUIDCreateString(ffi.NULL, u)) as t:
            s = text(ffi, lib, t)
        assert len(s) == 36 and s[14] == "4" and s[19] in "89AB" and s == s.upper()
        b = lib.CFUUIDGetUUIDBytes(u)
        with owned(lib, lib.CFUUIDCreateFromUUIDBytes(ffi.NULL, b)) as v:
            assert lib.CFEqual(u, v) and lib.CFHash(u) == lib.CFHash(v)
        raw = bytes(ffi.buffer(ffi.addressof(b), 16))
        with owned(lib, lib.CFUUIDCreateWithBytes(ffi.NULL, *raw)) as w:
            assert lib.CFEqual(u, w)
        with owned(lib, lib.CFCopyDescription(u)) as d:
            desc = text(ffi, lib, d)
        assert desc.startswith("<CFUUID 0x") and desc.endswith("> " + s)
