"""A small cffi declaration of the emulator's C ABI, for the tests.

The emulator tests drive the C library directly through this declaration,
independently of ``secitem``'s own binding, so that a bug in the binding
cannot hide a bug in the emulator (and the other way round).  The
declaration is derived from ``secsim.h`` (the emulator's public header) plus
the generated constant table.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import re
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import cffi

from secitem._tables import CONSTANTS
from secitem.testing.emulator import sources


def _cdef_text() -> str:
    header = (sources() / "secsim.h").read_text()
    # secsim.h includes secsim_cf.h (the rest of the CF surface, issue #17).
    header = header.replace('#include "secsim_cf.h"', (sources() / "secsim_cf.h").read_text())
    header = re.sub(r"/\*.*?\*/", "", header, flags=re.S)
    lines = []
    for line in header.splitlines():
        if line.lstrip().startswith("#"):
            continue
        lines.append(line.replace("SECSIM_EXPORT ", ""))
    text = "\n".join(lines)
    # cffi wants plain integers in enums: evaluate the shift expressions.
    text = re.sub(r"(\d+)UL << (\d+)", lambda m: str(int(m.group(1)) << int(m.group(2))), text)
    # In in-line ABI mode cffi treats an `extern const` global of a pointer or
    # struct type as a compile-time constant it cannot read from a dlopen()ed
    # library (NotImplementedError on access).  Declared without `const` they
    # are ordinary global variables: `lib.kSecClass` reads the pointer and
    # `ffi.addressof(lib, "kCFTypeArrayCallBacks")` gives the struct's address.
    text = re.sub(r"\bextern const\b", "extern", text)
    text += "\n" + "\n".join(f"extern CFStringRef {name};" for name, _, _ in CONSTANTS)
    return text


@cache
def load(path: str) -> tuple[Any, Any]:
    """Return (ffi, lib) for the emulator library at ``path`` (cached)."""
    ffi = cffi.FFI()
    ffi.cdef(_cdef_text())
    lib = ffi.dlopen(path)
    return ffi, lib


# ---------------------------------------------------------------------------
# Python <-> CoreFoundation helpers for tests.
#
# They use only Apple's public CoreFoundation API, so the same helpers work
# against the emulator and against the real framework on macOS.
#
# Ownership: ``to_cf`` returns a +1 reference that the caller must release
# exactly once (``lib.CFRelease(ref)``, or use ``cf_value`` as a context
# manager).  ``from_cf`` only reads: it never retains or releases ``ref``.
# ---------------------------------------------------------------------------


#: CFAbsoluteTime 0: 2001-01-01 00:00:00 UTC (facts 1.1).
REFERENCE_DATE = _dt.datetime(2001, 1, 1, tzinfo=_dt.UTC)

kCFStringEncodingUTF8 = 0x08000100
kCFStringEncodingUTF16 = 0x0100
_HOST_UTF16 = "utf-16-le" if sys.byteorder == "little" else "utf-16-be"
kCFNumberSInt64Type = 4
kCFNumberFloat64Type = 6
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def live_objects(lib: Any) -> int:
    """Number of CF objects currently alive in the emulator."""
    return int(lib.secsim_live_objects())


def type_name(ffi: Any, lib: Any, ref: Any) -> str:
    """Name of a CF object's type: "CFString", "CFDictionary", ... or "other"."""
    tid = lib.CFGetTypeID(ref)
    for name in (
        "String",
        "Data",
        "Number",
        "Boolean",
        "Date",
        "Array",
        "Dictionary",
        "Null",
        "Error",
    ):
        if tid == getattr(lib, f"CF{name}GetTypeID")():
            return f"CF{name}"
    return "other"


def cf_string(ffi: Any, lib: Any, text: str) -> Any:
    """A +1 CFString holding ``text`` (embedded NULs, non-BMP characters and U+FEFF kept).

    Built from UTF-16 in host order, not an external representation: Apple's
    CF keeps every unit of that form, while from UTF-8 it drops a leading
    U+FEFF.  A lone surrogate raises UnicodeEncodeError.
    """
    raw = text.encode(_HOST_UTF16)
    ref = lib.CFStringCreateWithBytes(ffi.NULL, raw, len(raw), kCFStringEncodingUTF16, False)
    if ref == ffi.NULL:
        raise ValueError(f"CFStringCreateWithBytes refused {text!r}")
    return ref


def to_cf(ffi: Any, lib: Any, value: Any) -> Any:
    """Build a +1 CF object from a Python value; the caller releases it once.

    ``str`` -> CFString, ``bytes``/``bytearray``/``memoryview`` -> CFData,
    ``bool`` -> kCFBooleanTrue/False, ``int`` -> CFNumber (SInt64; outside
    int64 raises OverflowError), ``float`` -> CFNumber (Float64), ``None`` ->
    kCFNull, ``datetime`` -> CFDate (a naive datetime is taken as UTC),
    ``list``/``tuple`` -> CFArray and ``Mapping`` -> CFDictionary (both with the
    kCFType callbacks, converted recursively, keys included).  A cffi pointer
    (e.g. ``lib.kSecClass``, or any CF object) is passed through retained, so
    constants can be used as keys: ``{lib.kSecClass: lib.kSecClassGenericPassword}``.
    Anything else raises TypeError.  Nothing leaks when conversion fails.
    """
    if isinstance(value, ffi.CData):
        if value == ffi.NULL:
            raise ValueError("to_cf: NULL pointer")
        return lib.CFRetain(value)
    if isinstance(value, str):
        return cf_string(ffi, lib, value)
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return lib.CFDataCreate(ffi.NULL, ffi.from_buffer("UInt8[]", raw), len(raw))
    if isinstance(value, bool):
        return lib.CFRetain(lib.kCFBooleanTrue if value else lib.kCFBooleanFalse)
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise OverflowError(f"to_cf: {value} does not fit in a 64-bit CFNumber")
        return lib.CFNumberCreate(ffi.NULL, kCFNumberSInt64Type, ffi.new("int64_t *", value))
    if isinstance(value, float):
        return lib.CFNumberCreate(ffi.NULL, kCFNumberFloat64Type, ffi.new("double *", value))
    if value is None:
        return lib.CFRetain(lib.kCFNull)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        return lib.CFDateCreate(ffi.NULL, (value - REFERENCE_DATE).total_seconds())
    if isinstance(value, list | tuple):
        items = _convert_all(ffi, lib, list(value))
        try:
            arr = ffi.new("const void *[]", items) if items else ffi.NULL
            return lib.CFArrayCreate(
                ffi.NULL, arr, len(items), ffi.addressof(lib, "kCFTypeArrayCallBacks")
            )
        finally:
            _release_all(lib, items)
    if isinstance(value, Mapping):
        keys = _convert_all(ffi, lib, list(value.keys()))
        try:
            values = _convert_all(ffi, lib, list(value.values()))
        except BaseException:
            _release_all(lib, keys)
            raise
        try:
            n = len(keys)
            karr = ffi.new("const void *[]", keys) if n else ffi.NULL
            varr = ffi.new("const void *[]", values) if n else ffi.NULL
            return lib.CFDictionaryCreate(
                ffi.NULL,
                karr,
                varr,
                n,
                ffi.addressof(lib, "kCFTypeDictionaryKeyCallBacks"),
                ffi.addressof(lib, "kCFTypeDictionaryValueCallBacks"),
            )
        finally:
            _release_all(lib, keys)
            _release_all(lib, values)
    raise TypeError(f"to_cf: cannot convert {type(value).__name__} to a CF type")


def _convert_all(ffi: Any, lib: Any, values: list[Any]) -> list[Any]:
    out: list[Any] = []
    try:
        for v in values:
            out.append(to_cf(ffi, lib, v))
    except BaseException:
        _release_all(lib, out)
        raise
    return out


def _release_all(lib: Any, refs: list[Any]) -> None:
    for ref in refs:
        lib.CFRelease(ref)


def string_from_cf(ffi: Any, lib: Any, ref: Any) -> str:
    """The text of a CFString, read through CFStringGetBytes (UTF-8)."""
    length = lib.CFStringGetLength(ref)
    if length == 0:
        return ""
    size = lib.CFStringGetMaximumSizeForEncoding(length, kCFStringEncodingUTF8)
    buf = ffi.new("UInt8[]", size)
    used = ffi.new("CFIndex *")
    rng = ffi.new("CFRange *", (0, length))[0]
    done = lib.CFStringGetBytes(ref, rng, kCFStringEncodingUTF8, 0, False, buf, size, used)
    if done != length:
        raise ValueError(f"CFStringGetBytes converted {done} of {length} UTF-16 units")
    return bytes(ffi.buffer(buf, used[0])).decode("utf-8")


def from_cf(ffi: Any, lib: Any, ref: Any) -> Any:
    """Read a CF object back as a Python value (``ref`` is borrowed, not released).

    The inverse of ``to_cf``: CFString -> str, CFData -> bytes, CFBoolean ->
    bool, CFNumber -> int (integer storage) or float (float storage), CFNull ->
    None, CFDate -> aware UTC datetime, CFArray -> list, CFDictionary -> dict.
    Any other object (SecAccessControl, item references, CFError ...) is
    returned as the borrowed cffi pointer itself; CFRetain it to keep it.
    A dictionary key that reads back as a list or dict raises TypeError.
    """
    if ref == ffi.NULL:
        raise ValueError("from_cf: NULL CFTypeRef")
    tid = lib.CFGetTypeID(ref)
    if tid == lib.CFStringGetTypeID():
        return string_from_cf(ffi, lib, ref)
    if tid == lib.CFDataGetTypeID():
        n = lib.CFDataGetLength(ref)
        return bytes(ffi.buffer(lib.CFDataGetBytePtr(ref), n)) if n else b""
    if tid == lib.CFBooleanGetTypeID():
        return bool(lib.CFBooleanGetValue(ref))
    if tid == lib.CFNumberGetTypeID():
        if lib.CFNumberIsFloatType(ref):
            d = ffi.new("double *")
            lib.CFNumberGetValue(ref, kCFNumberFloat64Type, d)
            return float(d[0])
        i = ffi.new("int64_t *")
        lib.CFNumberGetValue(ref, kCFNumberSInt64Type, i)
        return int(i[0])
    if tid == lib.CFNullGetTypeID():
        return None
    if tid == lib.CFDateGetTypeID():
        return REFERENCE_DATE + _dt.timedelta(seconds=lib.CFDateGetAbsoluteTime(ref))
    if tid == lib.CFArrayGetTypeID():
        return [
            from_cf(ffi, lib, lib.CFArrayGetValueAtIndex(ref, i))
            for i in range(lib.CFArrayGetCount(ref))
        ]
    if tid == lib.CFDictionaryGetTypeID():
        n = lib.CFDictionaryGetCount(ref)
        keys = ffi.new("const void *[]", max(n, 1))
        values = ffi.new("const void *[]", max(n, 1))
        lib.CFDictionaryGetKeysAndValues(ref, keys, values)
        out: dict[Any, Any] = {}
        for k, v in zip(keys[0:n], values[0:n], strict=True):
            key = from_cf(ffi, lib, k)
            if isinstance(key, list | dict):
                raise TypeError(f"from_cf: dictionary key of type {type(key).__name__}")
            out[key] = from_cf(ffi, lib, v)
        return out
    return ref


@contextlib.contextmanager
def cf_value(ffi: Any, lib: Any, value: Any) -> Iterator[Any]:
    """``with cf_value(ffi, lib, {...}) as ref:`` -- to_cf, released on exit."""
    ref = to_cf(ffi, lib, value)
    try:
        yield ref
    finally:
        lib.CFRelease(ref)


@contextlib.contextmanager
def owned(lib: Any, ref: Any) -> Iterator[Any]:
    """Release a +1 reference (a Create/Copy result) when the block ends."""
    try:
        yield ref
    finally:
        lib.CFRelease(ref)


def describe(ffi: Any, lib: Any, ref: Any) -> str:
    """CFCopyDescription as a Python str (the description is released)."""
    with owned(lib, lib.CFCopyDescription(ref)) as d:
        return string_from_cf(ffi, lib, d)


def store_seed_items(ffi: Any, lib: Any) -> tuple[list[dict[str, Any]], Any]:
    """The items of a valid store for the store-loader fuzzes, and the access control they use.

    Every class, on both keychains (file-based first, then data-protection
    items with ``nleg``), with every value type: text (non-ASCII too), data,
    integers (a negative one), booleans, a date, a port and an access control.
    The first item alone holds every value type of a file-based password.
    The access control is a +1 reference: release it once the items are added.
    Used by tests/emulator/test_store_fuzz.py and tests/fuzz/make_store_corpus.py.
    """
    with cf_value(ffi, lib, "ck") as protection:
        ac = lib.SecAccessControlCreateWithFlags(ffi.NULL, protection, 2, ffi.NULL)
    items: list[dict[str, Any]] = [
        {
            "class": "genp",
            "acct": "fb",
            "svce": "s",
            "v_Data": b"seed-secret",
            "labl": "L\u00e9",
            "crtr": 7,
            "type": -1,
            "invi": True,
            "nega": False,
            "gena": b"\x00\x01",
            "desc": "d",
            "icmt": "c",
        },
        {
            "class": "inet",
            "acct": "fbi",
            "srvr": "h",
            "ptcl": "htps",
            "port": 8443,
            "atyp": "dflt",
            "path": "/p",
            "v_Data": b"pw",
        },
        {"class": "genp", "acct": "dp", "nleg": True, "accc": ac, "v_Data": b"x", "labl": "\u00e9"},
        {"class": "inet", "acct": "dpi", "nleg": True, "srvr": "h2", "port": 1, "pdmn": "ak"},
        {"class": "cert", "nleg": True, "ctyp": 1, "issr": b"i", "slnr": b"s", "v_Data": b"der"},
        {
            "class": "keys",
            "nleg": True,
            "kcls": 1,
            "atag": b"t",
            "bsiz": 256,
            "v_Data": b"key",
            "sdat": _dt.datetime(2020, 1, 1, tzinfo=_dt.UTC),
        },
    ]
    return items, ac
