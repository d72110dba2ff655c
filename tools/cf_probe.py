"""Make the same CoreFoundation calls on the emulator and on Apple's CF; count the differences.

Apple's CoreFoundation built for Linux (``../shared/reference/apple-cf``, see its
README) is the C code macOS runs for strings, numbers, data, dates, arrays,
dictionaries and errors.  This script makes a few thousand calls with the same
arguments on both libraries and compares the results::

    python tools/cf_probe.py                  # summary by area
    python tools/cf_probe.py -v               # ... and every differing call
    python tools/cf_probe.py --emulator PATH --apple PATH

Calls whose answer the README says macOS gives differently from this Linux
build (Objective-C bridging: CFBoolean == CFNumber, descriptions printed by
NSObject, tagged small integers; hash values; the default eight-bit
encoding) are not made here or are normalised, and are listed in
docs/emulator.md as intentional differences.  No call traps on either library
(no NULL where Apple's CF traps, no range out of bounds).

The exit status is 0 whatever the count (it is a measurement); ``--max N``
makes it 1 when more than N calls differ.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import struct
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import applecf  # noqa: E402
import simlib  # noqa: E402

UTF8 = 0x08000100
ASCII = 0x0600
LATIN1 = 0x0201
WINLATIN1 = 0x0500
MACROMAN = 0
NEXTSTEP = 0x0B01
UTF16 = 0x0100
UTF16BE = 0x10000100
UTF16LE = 0x14000100
UTF32 = 0x0C000100
UTF32BE = 0x18000100
UTF32LE = 0x1C000100
NONLOSSY = 0x0BFF

ENCODINGS = {
    "UTF8": UTF8,
    "ASCII": ASCII,
    "Latin1": LATIN1,
    "WinLatin1": WINLATIN1,
    "MacRoman": MACROMAN,
    "NextStep": NEXTSTEP,
    "UTF16": UTF16,
    "UTF16BE": UTF16BE,
    "UTF16LE": UTF16LE,
    "UTF32": UTF32,
    "UTF32BE": UTF32BE,
    "UTF32LE": UTF32LE,
    "NonLossyASCII": NONLOSSY,
}
EIGHT_BIT = ("ASCII", "Latin1", "WinLatin1", "MacRoman", "NextStep", "UTF8", "NonLossyASCII")

TEXTS = [
    "",
    "a",
    "hello, world",
    "caf\u00e9",
    "\u00ff\u00e9\u00e8",
    "\u20ac100",
    "\u0152\u2019\u2026\u00a0",
    "\u65e5\u672c\u8a9e",
    "\U0001f600",
    "a\U0001f600b\U00010348",
    "nul\x00in",
    "\ufeffab",
    "a\ufeffb",
    "\ufeff",
    "\ufffe\uffff",
    '\x7f\\"\n\t',
    "\u00e9" * 7,
    "\U0010ffff",
    "\ud800",  # lone surrogates (created from UTF-16)
    "a\udc00b",
]

Case = tuple[str, str, Callable[[Any, Any], Any]]


# ---------------------------------------------------------------------------
# helpers (never trap: NULL results are reported, not released)


def units(ffi: Any, lib: Any, ref: Any, release: bool = True) -> Any:
    """A CFString's UTF-16 units as a Python str (surrogates kept); None for NULL."""
    if ref == ffi.NULL:
        return None
    n = lib.CFStringGetLength(ref)
    buf = ffi.new("UInt8[]", max(2 * n, 1))
    used = ffi.new("CFIndex *")
    rng = ffi.new("CFRange *", (0, n))[0]
    lib.CFStringGetBytes(ref, rng, UTF16LE, 0, False, buf, 2 * n, used)
    text = bytes(ffi.buffer(buf, used[0])).decode("utf-16-le", "surrogatepass")
    if release:
        lib.CFRelease(ref)
    return text


def make(ffi: Any, lib: Any, text: str) -> Any:
    """+1 CFString with exactly these UTF-16 units (built from UTF-16LE bytes)."""
    raw = text.encode("utf-16-le", "surrogatepass")
    ref = lib.CFStringCreateWithBytes(ffi.NULL, raw, len(raw), UTF16LE, False)
    got = units(ffi, lib, ref, release=False)
    if got != text:
        if ref != ffi.NULL:
            lib.CFRelease(ref)
        raise ValueError(f"cannot build {text!r}")
    return ref


def number(ffi: Any, lib: Any, type_: int, ctype: str, value: Any) -> Any:
    return lib.CFNumberCreate(ffi.NULL, type_, ffi.new(f"{ctype} *", value))


def error_text(s: Any) -> Any:
    # The Linux build has no CoreFoundation bundle, so it prints the format's
    # literal "\U2019" where macOS reads U+2019 from the bundle.
    return s.replace("\\U2019", "\u2019") if isinstance(s, str) else s


NUMBER_CTYPES = {
    1: "int8_t",
    2: "int16_t",
    3: "int32_t",
    4: "int64_t",
    5: "float",
    6: "double",
    7: "signed char",
    8: "short",
    9: "int",
    10: "long",
    11: "long long",
    12: "float",
    13: "double",
    14: "long",
    15: "long",
    16: "double",
}
INT_RANGES = {
    "int8_t": 8,
    "signed char": 8,
    "int16_t": 16,
    "short": 16,
    "int32_t": 32,
    "int": 32,
    "int64_t": 64,
    "long": 64,
    "long long": 64,
}
INT_VALUES = [0, 1, -1, 7, 12, 13, -2, 100, 127, -128, 255, 300, -129, 32767, -32768, 65536]
INT_VALUES += [2**31 - 1, -(2**31), 2**31, 2**53 + 1, 2**63 - 1, -(2**63)]
FLOAT_VALUES = [0.0, -0.0, 0.5, 1.0, -1.5, 7.0, 0.1, 1e300, -1e300, 3.4e38, 1e-45, 2.0**63]
FLOAT_VALUES += [2.0**53 + 2, math.nan, math.inf, -math.inf, 127.9, -128.5]


def small_cached(value: Any) -> bool:
    """Apple's Linux build caches the integers -1..12 as SInt32 objects (README)."""
    return isinstance(value, int) and -1 <= value <= 12


def read_value(ffi: Any, lib: Any, ref: Any, type_: int, source: Any) -> Any:
    ctype = NUMBER_CTYPES[type_]
    out = ffi.new(f"{ctype} *")
    ok = bool(lib.CFNumberGetValue(ref, type_, out))
    v = out[0]
    if isinstance(v, float) and math.isnan(v):
        v = "nan"
    if isinstance(source, float) and ctype in INT_RANGES:
        # Apple converts with a C cast: a NaN or a float outside the range
        # of int32 (int64 for 64-bit targets) is undefined behaviour, whose
        # value differs between x86-64 (this build) and arm64 (Macs).
        limit = 2.0**63 if INT_RANGES[ctype] == 64 else 2.0**31
        if not (-limit <= source < limit):
            v = "undefined"
    return ok, v


# ---------------------------------------------------------------------------
# the cases


def _create(raw: bytes, enc: int, ext: bool) -> Callable[[Any, Any], Any]:
    def run(ffi: Any, lib: Any) -> Any:
        return units(ffi, lib, lib.CFStringCreateWithBytes(ffi.NULL, raw, len(raw), enc, ext))

    return run


def _create_cstring(raw: bytes, enc: int) -> Callable[[Any, Any], Any]:
    def run(ffi: Any, lib: Any) -> Any:
        return units(ffi, lib, lib.CFStringCreateWithCString(ffi.NULL, raw, enc))

    return run


def _creation_samples() -> list[bytes]:
    """The byte strings given to CFStringCreateWithBytes, each once."""
    samples: list[bytes] = [
        b"",
        b"abc",
        b"\xef\xbb\xbfab",
        b"\xef\xbb\xbf",
        b"a\xef\xbb\xbfb",
        b"\xef\xbb\xbf\xef\xbb\xbf",
        b"\xff\xfea\x00",
        b"\xfe\xff\x00a",
        b"a\x00",
        b"\x00a",
        b"\xff\xfe",
        b"\xfe\xff",
        b"a\x00b",
        b"a",
        b"\x3d\xd8\x00\xde",
        b"\xd8\x3d\xde\x00",
        b"\x3d\xd8a\x00",
        b"\x00\xdc",
        b"\xff\xfe\x00\x00a\x00\x00\x00",
        b"\x00\x00\xfe\xffa\x00\x00\x00",
        b"\x00\x00\xfe\xff\x00\x00\x00a",
        b"a\x00\x00\x00",
        b"\x00\x00\x00a",
        b"\x00\xd8\x00\x00",
        b"\x00\x00\x11\x00",
        b"\x00\x00\x00a\x00",
        b"\\u00e9\\U0001F600x",
        b"\\303\\251",
        b"\\",
        b"\xc0\x80",
        b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80",
        b"\x80",
    ]
    for text in TEXTS:
        for codec in ("utf-8", "utf-16-le", "utf-16-be", "utf-16", "utf-32-be", "utf-32-le"):
            with contextlib.suppress(UnicodeEncodeError):
                samples.append(text.encode(codec))
    return list(dict.fromkeys(samples))


def string_creation() -> Iterator[Case]:
    for name in EIGHT_BIT:
        for b in range(0x80, 0x100):
            raw = bytes([0x41, b])
            yield "create 8-bit", f"{name} {raw!r}", _create(raw, ENCODINGS[name], False)
    for raw in _creation_samples():
        for name, enc in ENCODINGS.items():
            for ext in (False, True):
                yield "create", f"{name} ext={ext} {raw!r}", _create(raw, enc, ext)
    for raw in (b"", b"abc", b"\xef\xbb\xbfab", b"\xef\xbb\xbf", b"a\xc3\xa9", b"\x8e\xff"):
        for name, enc in ENCODINGS.items():
            if name.startswith(("UTF16", "UTF32")):
                continue
            yield "create cstring", f"{name} {raw!r}", _create_cstring(raw, enc)


def _get_bytes(
    text: str, enc: int, loss: int, ext: bool, bufsize: int | None, loc: int, length: int
) -> Callable[[Any, Any], Any]:
    def run(ffi: Any, lib: Any) -> Any:
        ref = make(ffi, lib, text)
        try:
            rng = ffi.new("CFRange *", (loc, length))[0]
            used = ffi.new("CFIndex *", -7)
            if bufsize is None:
                n = lib.CFStringGetBytes(ref, rng, enc, loss, ext, ffi.NULL, 0, used)
                return n, used[0]
            buf = ffi.new("UInt8[]", b"\xaa" * (bufsize + 8))
            n = lib.CFStringGetBytes(ref, rng, enc, loss, ext, buf, bufsize, used)
            # the whole buffer: what was written, and nothing past maxBufLen
            return n, used[0], bytes(ffi.buffer(buf, bufsize + 8)).rstrip(b"\xaa")
        finally:
            lib.CFRelease(ref)

    return run


def _get_cstring(text: str, enc: int, size: int) -> Callable[[Any, Any], Any]:
    def run(ffi: Any, lib: Any) -> Any:
        ref = make(ffi, lib, text)
        try:
            buf = ffi.new("char[]", size + 8)
            for i in range(size + 8):
                buf[i] = b"\xaa"
            ok = bool(lib.CFStringGetCString(ref, buf, size, enc))
            return ok, bytes(ffi.buffer(buf, size))
        finally:
            lib.CFRelease(ref)

    return run


def _get_cstring_ptr(text: str, enc: int) -> Callable[[Any, Any], Any]:
    def run(ffi: Any, lib: Any) -> Any:
        ref = make(ffi, lib, text)
        try:
            p = lib.CFStringGetCStringPtr(ref, enc)
            return None if p == ffi.NULL else ffi.string(p)
        finally:
            lib.CFRelease(ref)

    return run


def _max_size(length: int, enc: int) -> Callable[[Any, Any], Any]:
    return lambda ffi, lib: lib.CFStringGetMaximumSizeForEncoding(length, enc)


def _length_of(text: str) -> Callable[[Any, Any], Any]:
    def run(ffi: Any, lib: Any) -> Any:
        raw = text.encode("utf-8", "surrogatepass")
        ref = lib.CFStringCreateWithBytes(ffi.NULL, raw, len(raw), UTF8, False)
        if ref == ffi.NULL:
            return None
        n = lib.CFStringGetLength(ref)
        lib.CFRelease(ref)
        return n

    return run


def _get_bytes_cases() -> Iterator[Case]:
    for text in TEXTS:
        n = len(text.encode("utf-16-le", "surrogatepass")) // 2
        for name, enc in ENCODINGS.items():
            for loss in (0, 0x3F):
                for ext in (False, True):
                    for bufsize in (None, 0, 1, 3, 5, 64):
                        if name == "MacRoman" and bufsize not in (None, 64):
                            # The Linux build's MacRoman encoder loops forever
                            # (or stops early) when the buffer is short; on
                            # macOS MacRoman is the eight-bit default and takes
                            # another path.  Not compared.
                            continue
                        label = f"{name} {text!r} loss={loss} ext={ext} buf={bufsize}"
                        yield "GetBytes", label, _get_bytes(text, enc, loss, ext, bufsize, 0, n)
        if n >= 2:
            for name in ("UTF8", "UTF16LE", "Latin1", "UTF32BE"):
                for loc, length in ((1, n - 1), (0, n - 1), (n - 1, 1)):
                    for loss in (0, 0x3F):
                        label = f"{name} {text!r} range=({loc},{length}) loss={loss}"
                        yield (
                            "GetBytes range",
                            label,
                            _get_bytes(text, ENCODINGS[name], loss, False, 64, loc, length),
                        )


def string_output() -> Iterator[Case]:
    yield from _get_bytes_cases()
    for text in TEXTS:
        for name, enc in ENCODINGS.items():
            for size in (1, 2, 4, 8, 40):
                if name == "MacRoman" and size != 40:
                    continue  # the Linux build's MacRoman loop (see GetBytes)
                yield "GetCString", f"{name} {text!r} size={size}", _get_cstring(text, enc, size)
            if name in ("UTF8", "ASCII", "UTF16", "UTF16LE"):
                # Latin-1/MacRoman pointers depend on the default eight-bit
                # encoding (ASCII here, MacRoman on macOS): not compared.
                yield "GetCStringPtr", f"{name} {text!r}", _get_cstring_ptr(text, enc)
    for name, enc in ENCODINGS.items():
        for length in (0, 1, 10, 2**40):
            yield "MaximumSize", f"{name} {length}", _max_size(length, enc)
    for text in TEXTS:
        yield "GetLength", repr(text), _length_of(text)


def numbers() -> Iterator[Case]:
    def probe(type_: int, value: Any) -> Callable[[Any, Any], Any]:
        def run(ffi: Any, lib: Any) -> Any:
            ref = number(ffi, lib, type_, NUMBER_CTYPES[type_], value)
            try:
                out: list[Any] = [bool(lib.CFNumberIsFloatType(ref))]
                if not small_cached(value):
                    out += [lib.CFNumberGetType(ref), lib.CFNumberGetByteSize(ref)]
                out += [read_value(ffi, lib, ref, t, value) for t in range(1, 17)]
                return out
            finally:
                lib.CFRelease(ref)

        return run

    for type_, ctype in NUMBER_CTYPES.items():
        if ctype in INT_RANGES:
            bits = INT_RANGES[ctype]
            for v in INT_VALUES:
                if -(2 ** (bits - 1)) <= v < 2 ** (bits - 1):
                    yield "CFNumber", f"type {type_} value {v}", probe(type_, v)
        else:
            for f in FLOAT_VALUES:
                if ctype == "float":
                    if math.isfinite(f) and abs(f) > 3.5e38:
                        continue
                    f = struct.unpack("f", struct.pack("f", f))[0]
                yield "CFNumber", f"type {type_} value {f!r}", probe(type_, f)

    pool = [(4, v) for v in (0, 1, -1, 2**53 + 1, 2**63 - 1, 100)]
    pool += [(6, v) for v in (0.0, -0.0, 1.0, 2.0**53, 100.0, 0.5, math.nan, math.inf)]
    pool += [(5, v) for v in (0.0, -0.0, 1.0, 0.5, math.nan, math.inf, 100.0)]
    pool += [(1, 1), (1, 100), (3, 0), (3, -1)]

    def equal(a: tuple[int, Any], b: tuple[int, Any]) -> Callable[[Any, Any], Any]:
        def run(ffi: Any, lib: Any) -> Any:
            x = number(ffi, lib, a[0], NUMBER_CTYPES[a[0]], a[1])
            y = number(ffi, lib, b[0], NUMBER_CTYPES[b[0]], b[1])
            try:
                eq = bool(lib.CFEqual(x, y))
                return eq, (lib.CFHash(x) == lib.CFHash(y)) if eq else None
            finally:
                lib.CFRelease(x)
                lib.CFRelease(y)

        return run

    for a in pool:
        for b in pool:
            yield "CFNumber equal", f"{a} {b}", equal(a, b)


def equality() -> Iterator[Case]:
    def pair(x: Any, y: Any) -> Callable[[Any, Any], Any]:
        def run(ffi: Any, lib: Any) -> Any:
            with simlib.cf_value(ffi, lib, x) as a, simlib.cf_value(ffi, lib, y) as b:
                eq = bool(lib.CFEqual(a, b))
                return eq, (lib.CFHash(a) == lib.CFHash(b)) if eq else None

        return run

    import datetime as dt

    when = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    values: list[Any] = ["abc", "ab", "", b"abc", b"", 1, 1.0, 2.5, None, when]
    values += [[1, "a"], ["a", 1], [], {"k": 1}, {"k": 1.0}, {"k": 2}, {}, [[1]], [{"k": [1]}]]
    for x in values:
        for y in values:
            yield "CFEqual", f"{x!r} {y!r}", pair(x, y)


def _dict_set_existing(ffi: Any, lib: Any) -> Any:
    kcb = ffi.addressof(lib, "kCFTypeDictionaryKeyCallBacks")
    vcb = ffi.addressof(lib, "kCFTypeDictionaryValueCallBacks")
    d = lib.CFDictionaryCreateMutable(ffi.NULL, 0, kcb, vcb)
    k1, k2 = make(ffi, lib, "key"), make(ffi, lib, "key")
    v1, v2 = make(ffi, lib, "v1"), make(ffi, lib, "v2")
    lib.CFDictionarySetValue(d, k1, v1)
    lib.CFDictionarySetValue(d, k2, v2)
    keys = ffi.new("const void *[]", 1)
    lib.CFDictionaryGetKeysAndValues(d, keys, ffi.NULL)
    out = [
        "new key stored" if keys[0] == k2 else "old key stored",
        [lib.CFGetRetainCount(r) for r in (k1, k2, v1, v2)],
    ]
    lib.CFRelease(d)
    out.append([lib.CFGetRetainCount(r) for r in (k1, k2, v1, v2)])
    for r in (k1, k2, v1, v2):
        lib.CFRelease(r)
    return out


def _dict_create_duplicate(ffi: Any, lib: Any) -> Any:
    refs = [make(ffi, lib, t) for t in ("k", "first", "k", "second")]
    keys = ffi.new("const void *[]", [refs[0], refs[2]])
    values = ffi.new("const void *[]", [refs[1], refs[3]])
    kcb = ffi.addressof(lib, "kCFTypeDictionaryKeyCallBacks")
    vcb = ffi.addressof(lib, "kCFTypeDictionaryValueCallBacks")
    d = lib.CFDictionaryCreate(ffi.NULL, keys, values, 2, kcb, vcb)
    out = [simlib.from_cf(ffi, lib, d), [lib.CFGetRetainCount(r) for r in refs]]
    lib.CFRelease(d)
    out.append([lib.CFGetRetainCount(r) for r in refs])
    for r in refs:
        lib.CFRelease(r)
    return out


def _dict_remove(ffi: Any, lib: Any) -> Any:
    kcb = ffi.addressof(lib, "kCFTypeDictionaryKeyCallBacks")
    vcb = ffi.addressof(lib, "kCFTypeDictionaryValueCallBacks")
    d = lib.CFDictionaryCreateMutable(ffi.NULL, 0, kcb, vcb)
    k, k2, v = make(ffi, lib, "key"), make(ffi, lib, "key"), make(ffi, lib, "v")
    lib.CFDictionarySetValue(d, k, v)
    out = [
        lib.CFDictionaryContainsKey(d, k2),
        lib.CFDictionaryGetValueIfPresent(d, k2, ffi.NULL),
    ]
    lib.CFDictionaryRemoveValue(d, k2)
    out += [lib.CFDictionaryGetCount(d), [lib.CFGetRetainCount(r) for r in (k, k2, v)]]
    lib.CFDictionaryRemoveValue(d, k2)
    lib.CFRelease(d)
    for r in (k, k2, v):
        lib.CFRelease(r)
    return out


def _dict_many(ffi: Any, lib: Any) -> Any:
    with simlib.cf_value(ffi, lib, {f"k{i}": i for i in range(200)}) as d:
        got = simlib.from_cf(ffi, lib, d)
        return sorted(got.items())


def _dict_copy(ffi: Any, lib: Any) -> Any:
    with simlib.cf_value(ffi, lib, {"a": 1, "b": [2]}) as src:
        cp = lib.CFDictionaryCreateMutableCopy(ffi.NULL, 0, src)
        with simlib.cf_value(ffi, lib, "c") as k, simlib.cf_value(ffi, lib, 3) as v:
            lib.CFDictionarySetValue(cp, k, v)
        out = [lib.CFDictionaryGetCount(src), sorted(simlib.from_cf(ffi, lib, cp))]
        lib.CFRelease(cp)
        return out


def _array_retain(ffi: Any, lib: Any) -> Any:
    cb = ffi.addressof(lib, "kCFTypeArrayCallBacks")
    v = make(ffi, lib, "v")
    arr = lib.CFArrayCreate(ffi.NULL, ffi.new("const void *[]", [v, v]), 2, cb)
    m = lib.CFArrayCreateMutable(ffi.NULL, 0, cb)
    lib.CFArrayAppendValue(m, v)
    out = [lib.CFGetRetainCount(v), lib.CFArrayGetCount(arr), lib.CFArrayGetCount(m)]
    out.append(bool(lib.CFEqual(arr, m)))
    lib.CFArrayAppendValue(m, v)
    out.append(bool(lib.CFEqual(arr, m)))
    lib.CFRelease(arr)
    lib.CFRelease(m)
    out.append(lib.CFGetRetainCount(v))
    lib.CFRelease(v)
    return out


def _retain_counts(ffi: Any, lib: Any) -> Any:
    s = make(ffi, lib, "x")
    out = [lib.CFGetRetainCount(s)]
    lib.CFRetain(s)
    out.append(lib.CFGetRetainCount(s))
    lib.CFRelease(s)
    out.append(lib.CFGetRetainCount(s))
    lib.CFRelease(s)
    return out


def containers() -> Iterator[Case]:
    yield "CFDictionary", "SetValue on an existing key", _dict_set_existing
    yield "CFDictionary", "Create with a duplicate key", _dict_create_duplicate
    yield "CFDictionary", "RemoveValue with an equal key", _dict_remove
    yield "CFDictionary", "200 keys", _dict_many
    yield "CFDictionary", "mutable copy", _dict_copy
    yield "CFArray", "retain and equality", _array_retain
    yield "retain", "string retain counts", _retain_counts


def _describe_error(
    domain: str, code: int, info: dict[str, Any] | None
) -> Callable[[Any, Any], Any]:
    def run(ffi: Any, lib: Any) -> Any:
        with simlib.cf_value(ffi, lib, domain) as dom:
            if info is None:
                err = lib.CFErrorCreate(ffi.NULL, dom, code, ffi.NULL)
            else:
                with simlib.cf_value(ffi, lib, info) as ui:
                    err = lib.CFErrorCreate(ffi.NULL, dom, code, ui)
        try:
            with simlib.owned(lib, lib.CFErrorCopyDescription(err)) as d:
                text = error_text(simlib.from_cf(ffi, lib, d))
            with simlib.owned(lib, lib.CFErrorCopyUserInfo(err)) as ui2:
                user_info = simlib.from_cf(ffi, lib, ui2)
            return [
                text,
                sorted(user_info.items()),
                lib.CFErrorGetCode(err),
                simlib.from_cf(ffi, lib, lib.CFErrorGetDomain(err)),
            ]
        finally:
            lib.CFRelease(err)

    return run


def _errors_equal(ffi: Any, lib: Any) -> Any:
    out = []
    for a, b in (
        ((1, None), (1, {})),
        ((1, {"x": "y"}), (1, {"x": "y"})),
        ((1, None), (2, None)),
    ):
        errs = []
        for code, info in (a, b):
            if info is None:
                errs.append(lib.CFErrorCreate(ffi.NULL, lib.kCFErrorDomainPOSIX, code, ffi.NULL))
            else:
                with simlib.cf_value(ffi, lib, info) as ui:
                    errs.append(lib.CFErrorCreate(ffi.NULL, lib.kCFErrorDomainPOSIX, code, ui))
        out.append(bool(lib.CFEqual(errs[0], errs[1])))
        for e in errs:
            lib.CFRelease(e)
    return out


def errors() -> Iterator[Case]:
    infos: list[dict[str, Any] | None] = [
        None,
        {},
        {"NSDescription": "bad thing"},
        {"NSLocalizedDescription": "Localized."},
        {"NSLocalizedFailureReason": "The reason."},
        {"NSLocalizedFailure": "It failed."},
        {"NSLocalizedFailure": "It failed.", "NSLocalizedFailureReason": "The reason."},
        {"NSDescription": "bad", "NSLocalizedFailureReason": "The reason."},
        {"NSDescription": 5},
        {"other": "x"},
    ]
    for domain in ("NSOSStatusErrorDomain", "NSPOSIXErrorDomain", "com.example"):
        for code in (0, 1, 2, 13, -25300, 99999):
            for info in infos:
                yield "CFError", f"{domain} {code} {info!r}", _describe_error(domain, code, info)
    yield "CFError", "equality", _errors_equal


def scalars() -> Iterator[Case]:
    def date(t: float) -> Callable[[Any, Any], Any]:
        def run(ffi: Any, lib: Any) -> Any:
            a = lib.CFDateCreate(ffi.NULL, t)
            b = lib.CFDateCreate(ffi.NULL, t)
            out = [lib.CFDateGetAbsoluteTime(a), bool(lib.CFEqual(a, b))]
            lib.CFRelease(a)
            lib.CFRelease(b)
            return [("nan" if isinstance(x, float) and math.isnan(x) else x) for x in out]

        return run

    for t in (0.0, -1.5, 1e9, -0.0, math.inf):
        yield "CFDate", repr(t), date(t)

    def data(raw: bytes) -> Callable[[Any, Any], Any]:
        def run(ffi: Any, lib: Any) -> Any:
            with simlib.cf_value(ffi, lib, raw) as d:
                return lib.CFDataGetLength(d), simlib.from_cf(ffi, lib, d)

        return run

    for raw in (b"", b"\x00", b"abc" * 100):
        yield "CFData", repr(raw[:8]), data(raw)


def all_cases() -> list[Case]:
    cases: list[Case] = []
    for gen in (string_creation, string_output, numbers, equality, containers, errors, scalars):
        cases.extend(gen())
    return cases


def run_all(ffi: Any, lib: Any, cases: list[Case]) -> list[Any]:
    out = []
    for _, _, fn in cases:
        try:
            out.append(fn(ffi, lib))
        except Exception as exc:  # a probe helper refused: part of the result
            out.append(f"{type(exc).__name__}: {exc}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emulator", help="emulator library (default: build it)")
    parser.add_argument("--apple", help="Apple's CF library (default: tests/applecf.py's path)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every difference")
    parser.add_argument("--max", type=int, default=None, help="exit 1 above this many")
    args = parser.parse_args(argv)
    if args.emulator:
        emu_path = args.emulator
    else:
        from secitem.testing.emulator import build

        emu_path = str(build())
    apple_path = args.apple or str(applecf.path())
    cases = all_cases()
    emu = run_all(*simlib.load(emu_path), cases)
    apple = run_all(*simlib.load(apple_path), cases)
    total: Counter[str] = Counter()
    differ: Counter[str] = Counter()
    for (area, label, _), a, b in zip(cases, emu, apple, strict=True):
        total[area] += 1
        if a != b:
            differ[area] += 1
            if args.verbose:
                print(f"[{area}] {label}\n    emulator: {a!r}\n    apple-cf: {b!r}")
    width = max(len(a) for a in total)
    for area in total:
        print(f"{area:<{width}}  {differ[area]:>5} of {total[area]:>5} differ")
    n, d = sum(total.values()), sum(differ.values())
    print(f"{'total':<{width}}  {d:>5} of {n:>5} calls differ")
    return 1 if args.max is not None and d > args.max else 0


if __name__ == "__main__":
    sys.exit(main())
