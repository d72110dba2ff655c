"""The emulator's CoreFoundation core, driven through its C ABI (facts section 1).

Section numbers in the docstrings refer to shared/reference/secitem-facts.md.
The autouse fixture of conftest.py checks after every test that no CF object
was leaked; the property tests also check it after every example.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import signal
import struct
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import applecf
import simlib
from simlib import cf_string, cf_value, describe, from_cf, live_objects, to_cf

from .test_store import child

UTF8 = 0x08000100
ASCII = 0x0600
LATIN1 = 0x0201
MACROMAN = 0
UTF16 = 0x0100
UTF16BE = 0x10000100
UTF16LE = 0x14000100
UTF32 = 0x0C000100
UTF32BE = 0x18000100
UTF32LE = 0x1C000100
NONLOSSY_ASCII = 0x0BFF
WINLATIN1 = 0x0500
NEXTSTEP = 0x0B01
NOT_FOUND = -1
HOST_UTF16 = "utf-16-le" if sys.byteorder == "little" else "utf-16-be"
HOST_UTF32 = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"


class CF:
    """One CoreFoundation under test: unpacks as ``ffi, lib``; ``name`` says which."""

    def __init__(self, name: str, ffi: Any, lib: Any) -> None:
        self.name, self.ffi, self.lib = name, ffi, lib

    def __iter__(self) -> Iterator[Any]:
        return iter((self.ffi, self.lib))

    @property
    def is_emulator(self) -> bool:
        return self.name == "emulator"

    def emulator_only(self, reason: str) -> None:
        """Skip this parametrisation unless it is the emulator, printing why."""
        if not self.is_emulator:
            pytest.skip(f"emulator only: {reason}")

    def live(self) -> int:
        """The emulator's live-object count (Apple's CF has no such counter)."""
        self.emulator_only("Apple's CF has no live-object counter")
        return live_objects(self.lib)


@pytest.fixture(params=["emulator", "apple-cf"])
def cf(request: pytest.FixtureRequest) -> CF:
    """The emulator's CF, then Apple's own CF (tests/applecf.py), for the same assertions."""
    if request.param == "emulator":
        sim = request.getfixturevalue("sim")
        return CF("emulator", sim.ffi, sim.lib)
    loaded = applecf.load()
    if isinstance(loaded, str):
        if applecf.required():
            pytest.fail(loaded + " (SECITEM_REQUIRE_APPLE_CF is set)")
        pytest.skip(loaded)
    return CF("apple-cf", *loaded)


# ---------------------------------------------------------------------------
# helpers


@contextlib.contextmanager
def owned(lib: Any, ref: Any) -> Iterator[Any]:
    """Release a +1 result when the block ends; a NULL result fails the test at once.

    (Apple's CF traps on CFRelease(NULL), so a NULL must never reach it.)
    """
    if not ref:
        raise AssertionError("the call returned NULL")
    try:
        yield ref
    finally:
        lib.CFRelease(ref)


def units(ffi: Any, lib: Any, ref: Any) -> str:
    """A CFString's UTF-16 units as a str (unpaired surrogates kept), via UTF-16LE."""
    n = lib.CFStringGetLength(ref)
    buf = ffi.new("UInt8[]", max(2 * n, 1))
    used = ffi.new("CFIndex *")
    rng = ffi.new("CFRange *", (0, n))[0]
    assert lib.CFStringGetBytes(ref, rng, UTF16LE, 0, False, buf, 2 * n, used) == n
    return bytes(ffi.buffer(buf, used[0])).decode("utf-16-le", "surrogatepass")


def error_text(text: str) -> str:
    """Apple's Linux build has no CoreFoundation bundle and prints its format's
    literal "\\U2019" where macOS reads "\u2019" from the bundle."""
    return text.replace("\\U2019", "\u2019")


def new_string_bytes(ffi: Any, lib: Any, raw: bytes, encoding: int, external: bool = False) -> Any:
    return lib.CFStringCreateWithBytes(ffi.NULL, raw, len(raw), encoding, external)


def get_bytes(
    ffi: Any,
    lib: Any,
    ref: Any,
    encoding: int,
    *,
    loc: int = 0,
    length: int | None = None,
    loss: int = 0,
    external: bool = False,
    bufsize: int | None = 64,
) -> tuple[int, int, bytes | None]:
    """CFStringGetBytes -> (converted UTF-16 units, usedBufLen, bytes or None)."""
    if length is None:
        length = lib.CFStringGetLength(ref) - loc
    rng = ffi.new("CFRange *", (loc, length))[0]
    used = ffi.new("CFIndex *", -7)
    if bufsize is None:
        n = lib.CFStringGetBytes(ref, rng, encoding, loss, external, ffi.NULL, 0, used)
        return n, used[0], None
    buf = ffi.new("UInt8[]", max(bufsize, 1))
    n = lib.CFStringGetBytes(ref, rng, encoding, loss, external, buf, bufsize, used)
    return n, used[0], bytes(ffi.buffer(buf, used[0]))


def number(ffi: Any, lib: Any, type_: int, ctype: str, value: Any) -> Any:
    return lib.CFNumberCreate(ffi.NULL, type_, ffi.new(f"{ctype} *", value))


def get_value(ffi: Any, lib: Any, ref: Any, type_: int, ctype: str) -> tuple[bool, Any]:
    out = ffi.new(f"{ctype} *")
    ok = lib.CFNumberGetValue(ref, type_, out)
    return bool(ok), out[0]


def retain_count(lib: Any, ref: Any) -> int:
    return int(lib.CFGetRetainCount(ref))


# ---------------------------------------------------------------------------
# globals and type IDs


def test_globals_values(cf: CF) -> None:
    """1.3 allocators, error-domain strings and time-interval constants have Apple's values."""
    ffi, lib = cf
    assert lib.kCFAllocatorDefault == ffi.NULL
    for name in ("kCFAllocatorSystemDefault", "kCFAllocatorMalloc", "kCFAllocatorNull"):
        assert getattr(lib, name) != ffi.NULL
    assert from_cf(ffi, lib, lib.kCFErrorDomainOSStatus) == "NSOSStatusErrorDomain"
    assert from_cf(ffi, lib, lib.kCFErrorDomainPOSIX) == "NSPOSIXErrorDomain"
    assert from_cf(ffi, lib, lib.kCFErrorDescriptionKey) == "NSDescription"
    assert lib.kCFAbsoluteTimeIntervalSince1970 == 978307200.0
    assert lib.kCFAbsoluteTimeIntervalSince1904 == 3061152000.0
    assert from_cf(ffi, lib, lib.kCFNull) is None
    assert from_cf(ffi, lib, lib.kCFBooleanTrue) is True
    assert from_cf(ffi, lib, lib.kCFBooleanFalse) is False


def test_callback_structs_are_version_0_and_complete(cf: CF) -> None:
    """1.2 the kCFType callback structs are version 0 with every callback set."""
    ffi, lib = cf
    for name in (
        "kCFTypeDictionaryKeyCallBacks",
        "kCFCopyStringDictionaryKeyCallBacks",
        "kCFTypeDictionaryValueCallBacks",
        "kCFTypeArrayCallBacks",
    ):
        cb = ffi.addressof(lib, name)
        assert cb.version == 0
        assert cb.retain != ffi.NULL and cb.release != ffi.NULL
        assert cb.copyDescription != ffi.NULL and cb.equal != ffi.NULL
    assert lib.kCFTypeDictionaryKeyCallBacks.hash != ffi.NULL
    assert ffi.sizeof("CFDictionaryKeyCallBacks") == 48
    assert ffi.sizeof("CFArrayCallBacks") == 40


def test_type_ids_distinct_and_reported(cf: CF) -> None:
    """1.4 every CF type has its own type ID and CFGetTypeID reports it."""
    ffi, lib = cf
    samples = {
        "CFString": "x",
        "CFData": b"x",
        "CFNumber": 1,
        "CFBoolean": True,
        "CFDate": simlib.REFERENCE_DATE,
        "CFArray": [],
        "CFDictionary": {},
        "CFNull": None,
    }
    ids = set()
    for name, value in samples.items():
        with cf_value(ffi, lib, value) as ref:
            assert simlib.type_name(ffi, lib, ref) == name
            ids.add(lib.CFGetTypeID(ref))
    ids.add(lib.CFErrorGetTypeID())
    assert len(ids) == 9
    assert lib.CFBooleanGetTypeID() != lib.CFNumberGetTypeID()


# ---------------------------------------------------------------------------
# CFString

STRINGS = [
    "",
    "a",
    "hello, world",
    "caf\u00e9",
    "\u20ac100",
    "\U0001f600",
    "a\U0001f600b\U00010348",
    "nul\x00inside\x00",
    "\x00",
    "\uffff\ue000\u0800\u07ff\u0080\x7f",
    "\U0010ffff",
]


@pytest.mark.parametrize("text", STRINGS)
def test_string_round_trip(cf: CF, text: str) -> None:
    """1.4 CFStringCreateWithBytes (UTF-16 and UTF-8) then CFStringGetBytes gives the text back."""
    ffi, lib = cf
    with owned(lib, cf_string(ffi, lib, text)) as ref:
        assert from_cf(ffi, lib, ref) == text
        assert lib.CFStringGetLength(ref) == len(text.encode("utf-16-le")) // 2
    with owned(lib, new_string_bytes(ffi, lib, text.encode(), UTF8)) as ref:
        assert from_cf(ffi, lib, ref) == text


def test_string_length_counts_utf16_units(cf: CF) -> None:
    """1.4 CFStringGetLength counts UTF-16 units: a non-BMP character is 2, NUL is 1."""
    ffi, lib = cf
    for text, units in [("", 0), ("abc", 3), ("\u00e9", 1), ("\U0001f600", 2), ("a\x00b", 3)]:
        with owned(lib, cf_string(ffi, lib, text)) as ref:
            assert lib.CFStringGetLength(ref) == units


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff",
        b"\xc0\x80",  # overlong NUL
        b"\xe0\x80\xaf",  # overlong '/'
        b"\xed\xa0\x80",  # UTF-16 surrogate
        b"\xf4\x90\x80\x80",  # above U+10FFFF
        b"abc\xe2\x82",  # truncated
        b"\x80",  # lone continuation
    ],
)
def test_string_invalid_utf8_is_null(cf: CF, raw: bytes) -> None:
    """1.4 CFStringCreateWithBytes returns NULL for bytes that are not valid UTF-8."""
    ffi, lib = cf
    assert new_string_bytes(ffi, lib, raw, UTF8) == ffi.NULL


def test_string_create_eight_bit(cf: CF) -> None:
    """1.4 ASCII reads bytes above 127 as Latin-1 (Apple's rule); other tables per encoding."""
    ffi, lib = cf
    for raw, enc, text in [
        (b"ok\x80\xff", ASCII, "ok\x80\xff"),
        (b"ok\x00!", ASCII, "ok\x00!"),
        (b"caf\xe9 \xff", LATIN1, "caf\u00e9 \u00ff"),
        (b"caf\x8e \xdb\xf0", MACROMAN, "caf\u00e9 \u20ac\uf8ff"),
        (b"\x80\x92\x9f", WINLATIN1, "\u20ac\u2019\u0178"),
        (b"\x80\xfd", NEXTSTEP, "\u00a0\u00ff"),
    ]:
        with owned(lib, new_string_bytes(ffi, lib, raw, enc)) as ref:
            assert units(ffi, lib, ref) == text, (raw, enc)
    for raw, enc in [(b"\x81", WINLATIN1), (b"\x8d", WINLATIN1), (b"\xfe", NEXTSTEP)]:
        assert new_string_bytes(ffi, lib, raw, enc) == ffi.NULL, (raw, enc)


def test_string_create_nonlossy_ascii(cf: CF) -> None:
    """NonLossyASCII input: \\uXXXX, \\ooo and \\\\ escapes; any other escape is NULL."""
    ffi, lib = cf
    for raw, text in [
        (b"a\\u00e9b", "a\u00e9b"),
        (b"\\351\\101", "\u00e9A"),
        (b"\\\\", "\\"),
        (b"\\ud83d\\ude00", "\U0001f600"),
        (b"\\ud800", "\ud800"),
        (b"plain", "plain"),
    ]:
        with owned(lib, new_string_bytes(ffi, lib, raw, NONLOSSY_ASCII)) as ref:
            assert units(ffi, lib, ref) == text, raw
    for raw in (b"\\", b"\\u00", b"\\x41", b"\x80"):
        assert new_string_bytes(ffi, lib, raw, NONLOSSY_ASCII) == ffi.NULL, raw


def test_string_create_utf16_forms(cf: CF) -> None:
    """1.4 UTF-16 input: host order as written unless external (BOM, else BE); BE/LE explicit."""
    ffi, lib = cf
    text = "a\u00e9\U0001f600"
    cases = [
        (text.encode("utf-16-be"), UTF16BE, False, text),
        (text.encode("utf-16-le"), UTF16LE, False, text),
        (b"\xff\xfe" + text.encode("utf-16-le"), UTF16, True, text),
        (b"\xfe\xff" + text.encode("utf-16-be"), UTF16, True, text),
        (text.encode(HOST_UTF16), UTF16, False, text),  # host order
        (text.encode("utf-16-be"), UTF16, True, text),  # no BOM, external: big-endian
        # not external: taken as written, so a leading U+FEFF is a character
        ("\ufeff".encode(HOST_UTF16) + text.encode(HOST_UTF16), UTF16, False, "\ufeff" + text),
        ("\ufeff".encode(HOST_UTF16), UTF16, False, "\ufeff"),
        (b"\xfe\xff\x00a", UTF16BE, False, "\ufeffa"),  # BE/LE keep U+FEFF
        (b"\xff\xfea\x00", UTF16LE, True, "\ufeffa"),
        # unpaired surrogates are kept; a final odd byte is ignored
        (b"\xd8\x3d\x00a", UTF16BE, False, "\ud83da"),
        (b"\x00\xdc", UTF16LE, False, "\udc00"),
        (b"\x00a\x00", UTF16BE, False, "a"),
    ]
    for raw, enc, external, want in cases:
        with owned(lib, new_string_bytes(ffi, lib, raw, enc, external)) as ref:
            assert units(ffi, lib, ref) == want, (raw, enc, external)
    assert new_string_bytes(ffi, lib, b"a", UTF16BE) == ffi.NULL


def test_string_create_utf32_forms(cf: CF) -> None:
    """1.4 UTF-32 input: a BOM picks the order (external or not), no BOM is big-endian."""
    ffi, lib = cf
    text = "z\U0001f600"
    for raw, enc, external in [
        (text.encode("utf-32-be"), UTF32BE, False),
        (text.encode("utf-32-le"), UTF32LE, False),
        (text.encode("utf-32"), UTF32, False),  # Python writes a BOM
        (text.encode("utf-32"), UTF32, True),
        (b"\x00\x00\xfe\xff" + text.encode("utf-32-be"), UTF32, False),
        (text.encode("utf-32-be"), UTF32, False),  # no BOM: big-endian, even not external
        (text.encode("utf-32-be") + b"\x00", UTF32BE, False),  # trailing bytes ignored
    ]:
        with owned(lib, new_string_bytes(ffi, lib, raw, enc, external)) as ref:
            assert units(ffi, lib, ref) == text, (raw, enc, external)
    assert new_string_bytes(ffi, lib, struct.pack(">I", 0x110000), UTF32BE) == ffi.NULL
    assert new_string_bytes(ffi, lib, struct.pack(">I", 0xD800), UTF32BE) == ffi.NULL
    assert new_string_bytes(ffi, lib, b"\x00\x00\x00", UTF32BE) == ffi.NULL
    assert new_string_bytes(ffi, lib, text.encode("utf-32-le"), UTF32, False) == ffi.NULL


def test_string_create_with_cstring(cf: CF) -> None:
    """1.4 CFStringCreateWithCString reads up to the NUL in the given encoding."""
    ffi, lib = cf
    with owned(lib, lib.CFStringCreateWithCString(ffi.NULL, "h\u00e9".encode(), UTF8)) as ref:
        assert from_cf(ffi, lib, ref) == "h\u00e9"
    assert lib.CFStringCreateWithCString(ffi.NULL, b"\xff", UTF8) == ffi.NULL


# ---------------------------------------------------------------------------
# U+FEFF (issue 16, section 1): Apple's CF drops one leading BOM from UTF-8
# input, whatever isExternalRepresentation says; UTF-16 input that is not an
# external representation keeps every unit.

BOM_TEXTS = ["\ufeffab", "\ufeff", "a\ufeffb", "\ufeff\ufeffa", "ab\ufeff", "\ufeff\U0001f600"]


@pytest.mark.parametrize("text", BOM_TEXTS)
@pytest.mark.parametrize("external", [False, True])
def test_utf8_input_drops_one_leading_bom(cf: CF, text: str, external: bool) -> None:
    """Issue 16: CFStringCreateWithBytes(UTF-8) drops exactly one leading U+FEFF, never another."""
    ffi, lib = cf
    want = text[1:] if text.startswith("\ufeff") else text
    with owned(lib, new_string_bytes(ffi, lib, text.encode(), UTF8, external)) as ref:
        assert units(ffi, lib, ref) == want
        assert lib.CFStringGetLength(ref) == len(want.encode("utf-16-le")) // 2


@pytest.mark.parametrize("text", BOM_TEXTS)
def test_cstring_input_drops_one_leading_bom(cf: CF, text: str) -> None:
    """Issue 16: CFStringCreateWithCString(UTF-8) drops a leading U+FEFF too."""
    ffi, lib = cf
    want = text[1:] if text.startswith("\ufeff") else text
    with owned(lib, lib.CFStringCreateWithCString(ffi.NULL, text.encode(), UTF8)) as ref:
        assert units(ffi, lib, ref) == want


CODE_POINT_TEXTS = [*BOM_TEXTS, "\ufffe", "\uffff", "\ufdd0x", "\U0010ffff", "\ud800", "a\udc00"]


@pytest.mark.parametrize("text", CODE_POINT_TEXTS)
@pytest.mark.parametrize("encoding", [UTF16, UTF16LE, UTF16BE])
def test_utf16_input_keeps_every_unit(cf: CF, text: str, encoding: int) -> None:
    """Issue 16: UTF-16 input that is not an external representation keeps U+FEFF and every unit.

    The binding creates strings this way (host order, kCFStringEncodingUTF16),
    so every code point of a Python str survives, BOM and noncharacters included.
    """
    ffi, lib = cf
    codec = {UTF16: HOST_UTF16, UTF16LE: "utf-16-le", UTF16BE: "utf-16-be"}[encoding]
    raw = text.encode(codec, "surrogatepass")
    with owned(lib, new_string_bytes(ffi, lib, raw, encoding, False)) as ref:
        assert units(ffi, lib, ref) == text
        assert lib.CFStringGetLength(ref) == len(raw) // 2
        # and back out in the same form, byte for byte
        assert get_bytes(ffi, lib, ref, encoding, bufsize=len(raw) + 4)[2] == raw


def test_utf16_external_bom_is_dropped_once(cf: CF) -> None:
    """Issue 16: as an external representation, one leading BOM picks the order and is dropped."""
    ffi, lib = cf
    for raw, want in [
        (b"\xff\xfe" + "\ufeffa".encode("utf-16-le"), "\ufeffa"),
        (b"\xfe\xff" + "\ufeffa".encode("utf-16-be"), "\ufeffa"),
        (b"\xff\xfe", ""),
    ]:
        with owned(lib, new_string_bytes(ffi, lib, raw, UTF16, True)) as ref:
            assert units(ffi, lib, ref) == want, raw


def test_get_bytes_measures_with_null_buffer(cf: CF) -> None:
    """1.4 CFStringGetBytes measures with a NULL buffer: all units, usedBufLen = byte count."""
    ffi, lib = cf
    text = "a\u00e9\U0001f600"
    with owned(lib, cf_string(ffi, lib, text)) as ref:
        assert get_bytes(ffi, lib, ref, UTF8, bufsize=None)[:2] == (4, 7)
        assert get_bytes(ffi, lib, ref, UTF16BE, bufsize=None)[:2] == (4, 8)
        assert get_bytes(ffi, lib, ref, UTF32LE, bufsize=None)[:2] == (4, 12)
        # measuring to ASCII stops at the first unencodable character
        assert get_bytes(ffi, lib, ref, ASCII, bufsize=None)[:2] == (1, 1)


def test_get_bytes_stops_at_whole_characters(cf: CF) -> None:
    """1.4 CFStringGetBytes converts only whole characters that fit in maxBufLen."""
    ffi, lib = cf
    with owned(lib, cf_string(ffi, lib, "a\U0001f600b")) as ref:
        assert get_bytes(ffi, lib, ref, UTF8, bufsize=4) == (1, 1, b"a")
        assert get_bytes(ffi, lib, ref, UTF8, bufsize=5) == (3, 5, "a\U0001f600".encode())
        assert get_bytes(ffi, lib, ref, UTF32LE, bufsize=7) == (1, 4, b"a\x00\x00\x00")
        # UTF-16 output goes unit by unit: the buffer's end may split a pair
        assert get_bytes(ffi, lib, ref, UTF16LE, bufsize=5) == (2, 4, b"a\x00=\xd8")
        assert get_bytes(ffi, lib, ref, UTF16LE, bufsize=6)[:2] == (3, 6)


def test_get_bytes_zero_length_buffer(cf: CF) -> None:
    """A buffer with maxBufLen 0 gets nothing; Apple's UTF-8 converter then measures instead."""
    ffi, lib = cf
    with owned(lib, cf_string(ffi, lib, "a\U0001f600b")) as ref:
        rng = ffi.new("CFRange *", (0, 4))[0]
        for enc, want in [(UTF8, (4, 6)), (ASCII, (0, 0)), (UTF16LE, (0, 0)), (UTF32BE, (0, 0))]:
            buf = ffi.new("UInt8[]", b"\xaa" * 8)
            used = ffi.new("CFIndex *", -7)
            n = lib.CFStringGetBytes(ref, rng, enc, 0, False, buf, 0, used)
            assert (n, used[0]) == want, enc
            assert bytes(buf)[:8] == b"\xaa" * 8, "nothing may be written"


def test_get_bytes_range_and_no_nul(cf: CF) -> None:
    """1.4 CFStringGetBytes honours a UTF-16 range and does not NUL-terminate."""
    ffi, lib = cf
    with owned(lib, cf_string(ffi, lib, "ab\U0001f600cd")) as ref:
        assert get_bytes(ffi, lib, ref, UTF8, loc=2, length=2) == (2, 4, "\U0001f600".encode())
        assert get_bytes(ffi, lib, ref, UTF8, loc=4, length=2) == (2, 2, b"cd")
        assert get_bytes(ffi, lib, ref, UTF8, loc=5, length=0) == (0, 0, b"")
        # a range that splits the surrogate pair: the lone half is unencodable,
        # and UTF-8 stops there even with a lossByte
        assert get_bytes(ffi, lib, ref, UTF8, loc=3, length=2) == (0, 0, b"")
        assert get_bytes(ffi, lib, ref, UTF8, loc=3, length=2, loss=ord("?")) == (0, 0, b"")
        assert get_bytes(ffi, lib, ref, LATIN1, loc=3, length=2, loss=ord("?")) == (2, 2, b"?c")
        got = get_bytes(ffi, lib, ref, UTF32BE, loc=3, length=2, loss=ord("?"))
        assert got == (2, 8, b"\x00\x00\x00?\x00\x00\x00c")
        assert get_bytes(ffi, lib, ref, UTF16BE, loc=3, length=1) == (1, 2, b"\xde\x00")


def test_get_bytes_loss_byte(cf: CF) -> None:
    """1.4 lossByte 0 stops at an unencodable unit; a lossByte replaces each UTF-16 unit."""
    ffi, lib = cf
    with owned(lib, cf_string(ffi, lib, "a\u00e9\U0001f600z")) as ref:
        assert get_bytes(ffi, lib, ref, ASCII) == (1, 1, b"a")
        assert get_bytes(ffi, lib, ref, ASCII, loss=ord("?")) == (5, 5, b"a???z")
        assert get_bytes(ffi, lib, ref, LATIN1, loss=ord("?")) == (5, 5, b"a\xe9??z")
        assert get_bytes(ffi, lib, ref, WINLATIN1, loss=ord("?")) == (5, 5, b"a\xe9??z")
        # MacRoman converts by character (one lossByte for the pair)
        assert get_bytes(ffi, lib, ref, MACROMAN, loss=ord("?")) == (5, 4, b"a\x8e?z")
        assert get_bytes(ffi, lib, ref, ASCII, loss=ord("?"), bufsize=None)[:2] == (5, 5)


def test_get_bytes_encodings_and_bom(cf: CF) -> None:
    """1.4 UTF-16/32 output bytes; isExternalRepresentation adds a BOM to the unmarked forms."""
    ffi, lib = cf
    text = "h\u00e9\U0001f600"
    with owned(lib, cf_string(ffi, lib, text)) as ref:
        for enc, codec in [
            (UTF16BE, "utf-16-be"),
            (UTF16LE, "utf-16-le"),
            (UTF16, HOST_UTF16),
            (UTF32BE, "utf-32-be"),
            (UTF32LE, "utf-32-le"),
            (UTF32, HOST_UTF32),
        ]:
            raw = text.encode(codec)
            assert get_bytes(ffi, lib, ref, enc) == (4, len(raw), raw)
        bom16 = "\ufeff".encode(HOST_UTF16)
        bom32 = "\ufeff".encode(HOST_UTF32)
        raw16 = bom16 + text.encode(HOST_UTF16)
        raw32 = bom32 + text.encode(HOST_UTF32)
        assert get_bytes(ffi, lib, ref, UTF16, external=True) == (4, len(raw16), raw16)
        assert get_bytes(ffi, lib, ref, UTF32, external=True) == (4, len(raw32), raw32)
        assert get_bytes(ffi, lib, ref, UTF16BE, external=True)[2] == text.encode("utf-16-be")
        assert get_bytes(ffi, lib, ref, UTF8, external=True)[2] == text.encode()
        escaped = b"h\\351\\ud83d\\ude00"
        assert get_bytes(ffi, lib, ref, NONLOSSY_ASCII) == (4, len(escaped), escaped)
        # round trip through the external representation
        with owned(lib, new_string_bytes(ffi, lib, raw16, UTF16, True)) as back:
            assert lib.CFEqual(ref, back)


def test_maximum_size_for_encoding(cf: CF) -> None:
    """1.4 CFStringGetMaximumSizeForEncoding: UTF-8 x3, UTF-16 x2, UTF-32 x4, kCFNotFound."""
    _, lib = cf
    assert lib.CFStringGetMaximumSizeForEncoding(10, UTF8) == 30
    assert lib.CFStringGetMaximumSizeForEncoding(10, UTF16) == 20
    assert lib.CFStringGetMaximumSizeForEncoding(10, UTF16LE) == 20
    assert lib.CFStringGetMaximumSizeForEncoding(10, UTF32BE) == 40
    assert lib.CFStringGetMaximumSizeForEncoding(10, ASCII) == 10
    assert lib.CFStringGetMaximumSizeForEncoding(10, NONLOSSY_ASCII) == 60
    assert lib.CFStringGetMaximumSizeForEncoding(0, UTF8) == 0
    assert lib.CFStringGetMaximumSizeForEncoding(2**62, UTF8) == NOT_FOUND


def test_get_cstring(cf: CF) -> None:
    """1.4 CFStringGetCString NUL-terminates and fails if the buffer is too small or lossy."""
    ffi, lib = cf
    text = "h\u00e9llo"
    raw = text.encode()
    with owned(lib, cf_string(ffi, lib, text)) as ref:
        buf = ffi.new("char[]", 32)
        assert lib.CFStringGetCString(ref, buf, len(raw) + 1, UTF8)
        assert ffi.string(buf) == raw
        assert not lib.CFStringGetCString(ref, buf, len(raw), UTF8)
        assert not lib.CFStringGetCString(ref, buf, 32, ASCII)
        assert lib.CFStringGetCString(ref, buf, 32, LATIN1)
        assert ffi.string(buf) == text.encode("latin-1")
    with owned(lib, cf_string(ffi, lib, "")) as ref:
        buf = ffi.new("char[]", 1)
        assert lib.CFStringGetCString(ref, buf, 1, UTF8)
        assert buf[0] == b"\x00"


def test_get_cstring_ptr(cf: CF) -> None:
    """CFStringGetCStringPtr: only ASCII made from eight-bit bytes (or empty) has a pointer."""
    ffi, lib = cf
    with owned(lib, lib.CFStringCreateWithCString(ffi.NULL, b"plain", UTF8)) as ref:
        assert ffi.string(lib.CFStringGetCStringPtr(ref, UTF8)) == b"plain"
        assert ffi.string(lib.CFStringGetCStringPtr(ref, ASCII)) == b"plain"
        assert lib.CFStringGetCStringPtr(ref, UTF16) == ffi.NULL
    with owned(lib, lib.CFStringCreateWithCString(ffi.NULL, "caf\u00e9".encode(), UTF8)) as ref:
        assert lib.CFStringGetCStringPtr(ref, UTF8) == ffi.NULL
    with owned(lib, new_string_bytes(ffi, lib, b"plain", UTF8)) as ref:  # ASCII bytes: as is
        assert ffi.string(lib.CFStringGetCStringPtr(ref, LATIN1)) == b"plain"
    with owned(lib, new_string_bytes(ffi, lib, "caf\u00e9".encode(), UTF8)) as ref:
        assert lib.CFStringGetCStringPtr(ref, UTF8) == ffi.NULL
    raw = "plain".encode("utf-16-le")  # made from UTF-16: no 8-bit buffer
    with owned(lib, new_string_bytes(ffi, lib, raw, UTF16LE)) as ref:
        assert lib.CFStringGetCStringPtr(ref, UTF8) == ffi.NULL
    with owned(lib, new_string_bytes(ffi, lib, b"", UTF8)) as ref:
        assert ffi.string(lib.CFStringGetCStringPtr(ref, UTF8)) == b""


# ---------------------------------------------------------------------------
# CFData, CFDate


def test_data_copies_bytes(cf: CF) -> None:
    """1.4 CFDataCreate copies its bytes; length and contents read back, empty data works."""
    ffi, lib = cf
    src = ffi.new("UInt8[]", b"\x00\x01\xff")
    with owned(lib, lib.CFDataCreate(ffi.NULL, src, 3)) as ref:
        src[0] = 9
        assert lib.CFDataGetLength(ref) == 3
        assert bytes(ffi.buffer(lib.CFDataGetBytePtr(ref), 3)) == b"\x00\x01\xff"
    with owned(lib, lib.CFDataCreate(ffi.NULL, ffi.NULL, 0)) as ref:
        assert lib.CFDataGetLength(ref) == 0
        assert from_cf(ffi, lib, ref) == b""


def test_date_absolute_time(cf: CF) -> None:
    """1.1 CFDate keeps its CFAbsoluteTime; CFAbsoluteTimeGetCurrent is Unix time - 978307200."""
    ffi, lib = cf
    with owned(lib, lib.CFDateCreate(ffi.NULL, -1.5)) as ref:
        assert lib.CFDateGetAbsoluteTime(ref) == -1.5
    now = dt.datetime.now(dt.UTC).timestamp() - 978307200.0
    assert abs(lib.CFAbsoluteTimeGetCurrent() - now) < 5
    when = dt.datetime(2024, 2, 29, 12, 30, 15, 250000, tzinfo=dt.UTC)
    with cf_value(ffi, lib, when) as ref:
        assert from_cf(ffi, lib, ref) == when


# ---------------------------------------------------------------------------
# CFNumber

# (type, ctype used to create it, storage type that CFNumberGetType reports, byte size)
NUMBER_TYPES = [
    (1, "int8_t", 1, 1),
    (2, "int16_t", 2, 2),
    (3, "int32_t", 3, 4),
    (4, "int64_t", 4, 8),
    (5, "float", 5, 4),
    (6, "double", 6, 8),
    (7, "signed char", 1, 1),
    (8, "short", 2, 2),
    (9, "int", 3, 4),
    (10, "long", 4, 8),
    (11, "long long", 4, 8),
    (12, "float", 5, 4),
    (13, "double", 6, 8),
    (14, "long", 4, 8),
    (15, "long", 4, 8),
    (16, "double", 6, 8),
]


@pytest.mark.parametrize(("type_", "ctype", "storage", "size"), NUMBER_TYPES)
def test_number_storage_type(cf: CF, type_: int, ctype: str, storage: int, size: int) -> None:
    """1.1 CFNumberGetType reports the LP64 storage type of the facts table, with its byte size."""
    ffi, lib = cf
    # 100, not a small integer: Apple's Linux build caches -1..12 as SInt32
    # objects (macOS keeps the type in its tagged pointers).
    with owned(lib, number(ffi, lib, type_, ctype, 100)) as ref:
        assert lib.CFNumberGetType(ref) == storage
        assert lib.CFNumberGetByteSize(ref) == size
        assert bool(lib.CFNumberIsFloatType(ref)) == (storage in (5, 6))
        assert get_value(ffi, lib, ref, type_, ctype) == (True, 100)


def test_number_int64_extremes(cf: CF) -> None:
    """1.4 SInt64 extremes round-trip; conversion to double is exact only when representable."""
    ffi, lib = cf
    for v in (2**63 - 1, -(2**63), 0, -1):
        with owned(lib, number(ffi, lib, 4, "int64_t", v)) as ref:
            assert get_value(ffi, lib, ref, 4, "int64_t") == (True, v)
            assert from_cf(ffi, lib, ref) == v
    with owned(lib, number(ffi, lib, 4, "int64_t", 2**63 - 1)) as ref:
        assert get_value(ffi, lib, ref, 6, "double") == (False, 2.0**63)
        assert get_value(ffi, lib, ref, 3, "int32_t")[0] is False
    with owned(lib, number(ffi, lib, 4, "int64_t", -(2**63))) as ref:
        assert get_value(ffi, lib, ref, 6, "double") == (True, -(2.0**63))
    with owned(lib, number(ffi, lib, 4, "int64_t", 2**53 + 1)) as ref:
        assert get_value(ffi, lib, ref, 6, "double")[0] is False


def test_number_lossy_get_value_returns_false(cf: CF) -> None:
    """1.4 CFNumberGetValue returns false when lossy or out of range, still writing a value."""
    ffi, lib = cf
    with owned(lib, number(ffi, lib, 6, "double", 1.5)) as ref:
        assert get_value(ffi, lib, ref, 9, "int") == (False, 1)
        assert get_value(ffi, lib, ref, 5, "float") == (True, 1.5)
    with owned(lib, number(ffi, lib, 6, "double", 0.1)) as ref:
        ok, f = get_value(ffi, lib, ref, 5, "float")
        assert not ok and abs(f - 0.1) < 1e-7
    with owned(lib, number(ffi, lib, 6, "double", 1e300)) as ref:
        assert get_value(ffi, lib, ref, 5, "float") == (False, math.inf)
        # out of range: the C cast's value is undefined (x86-64 and arm64 differ)
        assert get_value(ffi, lib, ref, 4, "int64_t")[0] is False
    with owned(lib, number(ffi, lib, 6, "double", -3.0)) as ref:
        assert get_value(ffi, lib, ref, 1, "int8_t") == (True, -3)
    with owned(lib, number(ffi, lib, 9, "int", 300)) as ref:
        assert get_value(ffi, lib, ref, 1, "int8_t") == (False, 44)  # C cast: low bits
        assert get_value(ffi, lib, ref, 2, "int16_t") == (True, 300)
    # Apple's accommodation of unsigned values: no bits above the low 8 -> true
    with owned(lib, number(ffi, lib, 4, "int64_t", 255)) as ref:
        assert get_value(ffi, lib, ref, 1, "int8_t") == (True, -1)
    with owned(lib, number(ffi, lib, 4, "int64_t", 65535)) as ref:
        assert get_value(ffi, lib, ref, 2, "int16_t") == (True, -1)
        assert get_value(ffi, lib, ref, 1, "int8_t") == (False, -1)
    with owned(lib, number(ffi, lib, 6, "double", math.nan)) as ref:
        assert get_value(ffi, lib, ref, 9, "int")[0] is False
        ok, d = get_value(ffi, lib, ref, 6, "double")
        assert ok and math.isnan(d)


def test_number_float32_nan_and_infinity_are_float64(cf: CF) -> None:
    """A Float32 NaN or infinity is Apple's Float64 constant; other Float32 values stay Float32."""
    ffi, lib = cf
    for value in (math.nan, math.inf, -math.inf):
        with owned(lib, number(ffi, lib, 5, "float", value)) as ref:
            assert lib.CFNumberGetType(ref) == 6
            assert lib.CFNumberGetByteSize(ref) == 8
    with owned(lib, number(ffi, lib, 5, "float", -0.0)) as ref:
        assert lib.CFNumberGetType(ref) == 5


def test_number_float32_keeps_float_value(cf: CF) -> None:
    """1.1 a Float32 number holds the float's value and reads back exactly as float and double."""
    ffi, lib = cf
    with owned(lib, number(ffi, lib, 5, "float", 0.1)) as ref:
        ok, f = get_value(ffi, lib, ref, 5, "float")
        assert ok
        assert get_value(ffi, lib, ref, 6, "double") == (True, f)


# ---------------------------------------------------------------------------
# CFEqual / CFHash


def equal_and_same_hash(lib: Any, a: Any, b: Any) -> bool:
    eq = bool(lib.CFEqual(a, b))
    assert eq == bool(lib.CFEqual(b, a)), "CFEqual is not symmetric"
    if eq:
        assert lib.CFHash(a) == lib.CFHash(b), "equal objects with different hashes"
    return eq


def test_equal_strings_by_content(cf: CF) -> None:
    """1.4 a new CFString equals the exported constant with the same text, with the same hash."""
    ffi, lib = cf
    with owned(lib, cf_string(ffi, lib, "NSOSStatusErrorDomain")) as s:
        assert s != lib.kCFErrorDomainOSStatus
        assert equal_and_same_hash(lib, s, lib.kCFErrorDomainOSStatus)
        assert not lib.CFEqual(s, lib.kCFErrorDomainPOSIX)
    with (
        owned(lib, cf_string(ffi, lib, "a\x00b")) as s1,
        owned(lib, cf_string(ffi, lib, "a")) as s2,
    ):
        assert not lib.CFEqual(s1, s2)


def test_boolean_equals_number_per_field_evidence(cf: CF) -> None:
    """Field evidence: CFEqual(kCFBooleanTrue, CFNumber 1) is true (NSNumber), false vs 0."""
    cf.emulator_only(
        "macOS bridges CFBoolean and CFNumber to NSNumber; Apple's Linux build does not"
    )
    ffi, lib = cf
    t, f = lib.kCFBooleanTrue, lib.kCFBooleanFalse
    with (
        owned(lib, number(ffi, lib, 9, "int", 1)) as one,
        owned(lib, number(ffi, lib, 9, "int", 0)) as zero,
        owned(lib, number(ffi, lib, 6, "double", 1.0)) as one_f,
        owned(lib, number(ffi, lib, 9, "int", 2)) as two,
    ):
        assert equal_and_same_hash(lib, t, one)
        assert equal_and_same_hash(lib, t, one_f)
        assert equal_and_same_hash(lib, f, zero)
        assert not equal_and_same_hash(lib, t, zero)
        assert not equal_and_same_hash(lib, f, one)
        assert not equal_and_same_hash(lib, t, two)
    assert not lib.CFEqual(t, f)
    with cf_value(ffi, lib, "1") as s:
        assert not lib.CFEqual(t, s)


def test_numbers_equal_across_int_and_float(cf: CF) -> None:
    """1.4 CFNumbers compare by value: 1 == 1.0 (same hash), 2**53+1 != 2.0**53."""
    ffi, lib = cf
    with (
        owned(lib, number(ffi, lib, 1, "int8_t", 1)) as a,
        owned(lib, number(ffi, lib, 6, "double", 1.0)) as b,
        owned(lib, number(ffi, lib, 5, "float", 1.0)) as c,
    ):
        assert equal_and_same_hash(lib, a, b)
        assert equal_and_same_hash(lib, b, c)
    with (
        owned(lib, number(ffi, lib, 4, "int64_t", 2**53 + 1)) as a,
        owned(lib, number(ffi, lib, 6, "double", 2.0**53)) as b,
    ):
        assert not lib.CFEqual(a, b)
    # CFNumberCompare looks at the sign first: -0.0 is neither 0.0 nor 0
    with (
        owned(lib, number(ffi, lib, 6, "double", -0.0)) as a,
        owned(lib, number(ffi, lib, 4, "int64_t", 0)) as b,
        owned(lib, number(ffi, lib, 6, "double", 0.0)) as c,
        owned(lib, number(ffi, lib, 5, "float", -0.0)) as d,
    ):
        assert not equal_and_same_hash(lib, a, b)
        assert not equal_and_same_hash(lib, a, c)
        assert equal_and_same_hash(lib, a, d)
        assert equal_and_same_hash(lib, b, c)
    with (
        owned(lib, number(ffi, lib, 6, "double", math.nan)) as a,
        owned(lib, number(ffi, lib, 5, "float", math.nan)) as b,
    ):
        assert equal_and_same_hash(lib, a, b)


def test_equal_data_dates_and_cross_types(cf: CF) -> None:
    """1.4 data by bytes, dates by time; a string never equals data with the same bytes."""
    ffi, lib = cf
    when = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    for a, b, same in [
        (b"abc", b"abc", True),
        (b"abc", b"abd", False),
        (when, when, True),
        (when, when + dt.timedelta(microseconds=1), False),
        ("abc", b"abc", False),
        (None, None, True),
        (1, "1", False),
    ]:
        with cf_value(ffi, lib, a) as x, cf_value(ffi, lib, b) as y:
            assert equal_and_same_hash(lib, x, y) == same, (a, b)


def test_equal_nested_containers(cf: CF) -> None:
    """1.4 arrays and dictionaries compare deeply, independent of insertion order."""
    ffi, lib = cf
    a = {"k": [1, "two", {"x": b"\x00"}], "n": None, "t": True}
    b = {"t": True, "n": None, "k": [1, "two", {"x": b"\x00"}]}
    c = {"t": True, "n": None, "k": [1, "two", {"x": b"\x01"}]}
    with cf_value(ffi, lib, a) as x, cf_value(ffi, lib, b) as y, cf_value(ffi, lib, c) as z:
        assert equal_and_same_hash(lib, x, y)
        assert not equal_and_same_hash(lib, x, z)
    with cf_value(ffi, lib, [1, 2]) as x, cf_value(ffi, lib, [2, 1]) as y:
        assert not lib.CFEqual(x, y)


# ---------------------------------------------------------------------------
# CFDictionary


def test_dict_lookup_with_equal_key_other_pointer(cf: CF) -> None:
    """1.2 a kCFType dictionary finds a value with a different-pointer, CFEqual key."""
    ffi, lib = cf
    with cf_value(ffi, lib, {"acct": "alice", "svce": "web", 7: "seven"}) as d:
        with owned(lib, cf_string(ffi, lib, "acct")) as key:
            assert from_cf(ffi, lib, lib.CFDictionaryGetValue(d, key)) == "alice"
            assert lib.CFDictionaryContainsKey(d, key)
            out = ffi.new("const void **")
            assert lib.CFDictionaryGetValueIfPresent(d, key, out)
            assert from_cf(ffi, lib, out[0]) == "alice"
        with owned(lib, number(ffi, lib, 6, "double", 7.0)) as key:
            assert from_cf(ffi, lib, lib.CFDictionaryGetValue(d, key)) == "seven"
        with owned(lib, cf_string(ffi, lib, "nope")) as key:
            assert lib.CFDictionaryGetValue(d, key) == ffi.NULL
            assert not lib.CFDictionaryContainsKey(d, key)
            assert not lib.CFDictionaryGetValueIfPresent(d, key, ffi.NULL)


def test_dict_null_callbacks_use_pointer_identity(cf: CF) -> None:
    """1.2 NULL callbacks: keys match by pointer only and nothing is retained."""
    ffi, lib = cf
    with (
        owned(lib, cf_string(ffi, lib, "k")) as k,
        owned(lib, cf_string(ffi, lib, "k")) as k2,
        owned(lib, cf_string(ffi, lib, "v")) as v,
    ):
        keys = ffi.new("const void *[]", [k])
        values = ffi.new("const void *[]", [v])
        d = lib.CFDictionaryCreate(ffi.NULL, keys, values, 1, ffi.NULL, ffi.NULL)
        with owned(lib, d):
            assert retain_count(lib, k) == 1 and retain_count(lib, v) == 1
            assert lib.CFDictionaryGetValue(d, k) == v
            assert lib.CFDictionaryGetValue(d, k2) == ffi.NULL
        assert retain_count(lib, k) == 1 and retain_count(lib, v) == 1


def test_dict_create_first_duplicate_wins(cf: CF) -> None:
    """1.4 CFDictionaryCreate with a repeated key keeps one pair (the first) and leaks nothing."""
    ffi, lib = cf
    refs = [to_cf(ffi, lib, x) for x in ("k", "first", "k", "second")]
    try:
        keys = ffi.new("const void *[]", [refs[0], refs[2]])
        values = ffi.new("const void *[]", [refs[1], refs[3]])
        kcb = ffi.addressof(lib, "kCFTypeDictionaryKeyCallBacks")
        vcb = ffi.addressof(lib, "kCFTypeDictionaryValueCallBacks")
        with owned(lib, lib.CFDictionaryCreate(ffi.NULL, keys, values, 2, kcb, vcb)) as d:
            assert from_cf(ffi, lib, d) == {"k": "first"}
    finally:
        for r in refs:
            lib.CFRelease(r)


def test_mutable_dict_set_remove_and_retain(cf: CF) -> None:
    """1.4 SetValue retains and replaces (releasing the old value); RemoveValue releases both."""
    ffi, lib = cf
    kcb = ffi.addressof(lib, "kCFTypeDictionaryKeyCallBacks")
    vcb = ffi.addressof(lib, "kCFTypeDictionaryValueCallBacks")
    with (
        owned(lib, lib.CFDictionaryCreateMutable(ffi.NULL, 0, kcb, vcb)) as d,
        owned(lib, cf_string(ffi, lib, "key")) as k,
        owned(lib, cf_string(ffi, lib, "v1")) as v1,
        owned(lib, cf_string(ffi, lib, "v2")) as v2,
        owned(lib, cf_string(ffi, lib, "key")) as k2,
    ):
        lib.CFDictionarySetValue(d, k, v1)
        assert retain_count(lib, k) == 2 and retain_count(lib, v1) == 2
        lib.CFDictionarySetValue(d, k2, v2)
        assert retain_count(lib, v1) == 1 and retain_count(lib, v2) == 2
        # Apple's CF stores the new key and releases the old one
        assert retain_count(lib, k2) == 2 and retain_count(lib, k) == 1
        stored = ffi.new("const void *[]", 1)
        lib.CFDictionaryGetKeysAndValues(d, stored, ffi.NULL)
        assert stored[0] == k2
        assert lib.CFDictionaryGetCount(d) == 1
        lib.CFDictionaryRemoveValue(d, k)
        assert retain_count(lib, v2) == 1 and retain_count(lib, k2) == 1
        assert lib.CFDictionaryGetCount(d) == 0
        lib.CFDictionaryRemoveValue(d, k2)  # absent: no-op


def test_dict_hash_table_many_keys(cf: CF) -> None:
    """1.4 a mutable dictionary stays correct through thousands of inserts and removals."""
    ffi, lib = cf
    kcb = ffi.addressof(lib, "kCFTypeDictionaryKeyCallBacks")
    vcb = ffi.addressof(lib, "kCFTypeDictionaryValueCallBacks")
    n = 3000
    with owned(lib, lib.CFDictionaryCreateMutable(ffi.NULL, 0, kcb, vcb)) as d:
        keys = [to_cf(ffi, lib, f"key-{i}") for i in range(n)]
        try:
            for i, k in enumerate(keys):
                with cf_value(ffi, lib, i) as v:
                    lib.CFDictionarySetValue(d, k, v)
            for k in keys[::2]:
                lib.CFDictionaryRemoveValue(d, k)
            assert lib.CFDictionaryGetCount(d) == n // 2
            for i in range(n):
                with cf_value(ffi, lib, f"key-{i}") as probe:
                    got = lib.CFDictionaryGetValue(d, probe)
                    if i % 2:
                        assert from_cf(ffi, lib, got) == i
                    else:
                        assert got == ffi.NULL
            for i, k in enumerate(keys[::2]):
                with cf_value(ffi, lib, -i) as v:
                    lib.CFDictionarySetValue(d, k, v)
            assert lib.CFDictionaryGetCount(d) == n
        finally:
            for k in keys:
                lib.CFRelease(k)
        # GetKeysAndValues pairs keys with values
        got = from_cf(ffi, lib, d)
        assert len(got) == n
        assert got == {f"key-{i}": i if i % 2 else -(i // 2) for i in range(n)}


def test_dict_keys_in_insertion_order(cf: CF) -> None:
    """CFDictionaryGetKeysAndValues lists keys in insertion order (the emulator's choice)."""
    cf.emulator_only("Apple's CF lists keys in hash order; the order is unspecified")
    ffi, lib = cf
    keys = [f"key-{i}" for i in range(50)]
    with cf_value(ffi, lib, dict.fromkeys(keys, 0)) as d:
        assert list(from_cf(ffi, lib, d)) == keys


def test_dict_mutable_copy(cf: CF) -> None:
    """1.4 CFDictionaryCreateMutableCopy copies pairs (retained) and is independent afterwards."""
    ffi, lib = cf
    with (
        cf_value(ffi, lib, {"a": 1, "b": [2]}) as src,
        owned(lib, lib.CFDictionaryCreateMutableCopy(ffi.NULL, 0, src)) as cp,
    ):
        assert lib.CFEqual(src, cp)
        with cf_value(ffi, lib, "c") as k, cf_value(ffi, lib, 3) as v:
            lib.CFDictionarySetValue(cp, k, v)
        assert lib.CFDictionaryGetCount(src) == 2
        assert from_cf(ffi, lib, cp) == {"a": 1, "b": [2], "c": 3}


def test_copy_string_key_callbacks(cf: CF) -> None:
    """1.2 kCFCopyStringDictionaryKeyCallBacks compare string keys by content."""
    ffi, lib = cf
    kcb = ffi.addressof(lib, "kCFCopyStringDictionaryKeyCallBacks")
    vcb = ffi.addressof(lib, "kCFTypeDictionaryValueCallBacks")
    with owned(lib, lib.CFDictionaryCreateMutable(ffi.NULL, 0, kcb, vcb)) as d:
        with cf_value(ffi, lib, "k") as k, cf_value(ffi, lib, "v") as v:
            lib.CFDictionarySetValue(d, k, v)
        with cf_value(ffi, lib, "k") as probe:
            assert from_cf(ffi, lib, lib.CFDictionaryGetValue(d, probe)) == "v"


# ---------------------------------------------------------------------------
# CFArray and retain counts


def test_retain_release_counts(cf: CF) -> None:
    """1.4 CFRetain/CFRelease move CFGetRetainCount; the live count follows creation and free."""
    ffi, lib = cf
    start = cf.live()
    ref = cf_string(ffi, lib, "x")
    assert cf.live() == start + 1
    assert retain_count(lib, ref) == 1
    assert lib.CFRetain(ref) == ref
    assert retain_count(lib, ref) == 2
    lib.CFRelease(ref)
    assert retain_count(lib, ref) == 1
    lib.CFRelease(ref)
    assert cf.live() == start


def test_retain_counts(cf: CF) -> None:
    """1.4 CFRetain returns its argument; CFGetRetainCount follows retain and release."""
    ffi, lib = cf
    with owned(lib, cf_string(ffi, lib, "not cached")) as ref:
        assert retain_count(lib, ref) == 1
        assert lib.CFRetain(ref) == ref
        assert retain_count(lib, ref) == 2
        lib.CFRelease(ref)
        assert retain_count(lib, ref) == 1


def test_immortal_constants_ignore_retain_release(cf: CF) -> None:
    """1.3 constants (booleans, null, domain strings) ignore retain/release and are not counted."""
    _, lib = cf
    start = cf.live()
    for ref in (lib.kCFBooleanTrue, lib.kCFNull, lib.kCFErrorDomainOSStatus):
        before = retain_count(lib, ref)
        for _ in range(3):
            lib.CFRelease(ref)
        lib.CFRetain(ref)
        assert retain_count(lib, ref) == before
    assert cf.live() == start


def test_array_type_callbacks_retain(cf: CF) -> None:
    """1.2 a kCFTypeArrayCallBacks array retains its values and releases them when freed."""
    ffi, lib = cf
    cb = ffi.addressof(lib, "kCFTypeArrayCallBacks")
    with owned(lib, cf_string(ffi, lib, "v")) as v:
        values = ffi.new("const void *[]", [v, v])
        arr = lib.CFArrayCreate(ffi.NULL, values, 2, cb)
        assert retain_count(lib, v) == 3
        assert lib.CFArrayGetCount(arr) == 2
        assert lib.CFArrayGetValueAtIndex(arr, 1) == v
        lib.CFRelease(arr)
        assert retain_count(lib, v) == 1


def test_array_null_callbacks_do_not_retain(cf: CF) -> None:
    """1.2 an array with NULL callbacks stores pointers without retaining them."""
    ffi, lib = cf
    with owned(lib, cf_string(ffi, lib, "v")) as v:
        values = ffi.new("const void *[]", [v])
        with owned(lib, lib.CFArrayCreate(ffi.NULL, values, 1, ffi.NULL)) as arr:
            assert retain_count(lib, v) == 1
            assert lib.CFArrayGetValueAtIndex(arr, 0) == v
        assert retain_count(lib, v) == 1


def test_mutable_array_append(cf: CF) -> None:
    """1.4 CFArrayCreateMutable + CFArrayAppendValue grow the array and retain values."""
    ffi, lib = cf
    cb = ffi.addressof(lib, "kCFTypeArrayCallBacks")
    with owned(lib, lib.CFArrayCreateMutable(ffi.NULL, 0, cb)) as arr:
        # from 100: Apple's Linux build caches small integers (shared objects)
        for i in range(100, 200):
            with cf_value(ffi, lib, i) as v:
                lib.CFArrayAppendValue(arr, v)
                assert retain_count(lib, v) == 2
        assert from_cf(ffi, lib, arr) == list(range(100, 200))
        with cf_value(ffi, lib, list(range(100, 200))) as same:
            assert lib.CFEqual(arr, same)


# ---------------------------------------------------------------------------
# CFError, descriptions


def test_error_accessors_and_user_info(cf: CF) -> None:
    """1.4 CFError keeps domain and code; CFErrorCopyUserInfo is +1, a copy, empty when none."""
    ffi, lib = cf
    with cf_value(ffi, lib, {"NSDescription": "bad thing"}) as info:
        err = lib.CFErrorCreate(ffi.NULL, lib.kCFErrorDomainOSStatus, -25300, info)
    with owned(lib, err):
        assert lib.CFErrorGetCode(err) == -25300
        assert lib.CFEqual(lib.CFErrorGetDomain(err), lib.kCFErrorDomainOSStatus)
        with owned(lib, lib.CFErrorCopyUserInfo(err)) as ui:
            assert from_cf(ffi, lib, ui) == {"NSDescription": "bad thing"}
        with owned(lib, lib.CFErrorCopyDescription(err)) as d:
            text = error_text(from_cf(ffi, lib, d))
        assert text == (
            "The operation couldn\u2019t be completed. "
            "(NSOSStatusErrorDomain error -25300 - bad thing)"
        )
    with owned(lib, lib.CFErrorCreate(ffi.NULL, lib.kCFErrorDomainPOSIX, 2, ffi.NULL)) as err:
        with owned(lib, lib.CFErrorCopyUserInfo(err)) as ui:
            assert from_cf(ffi, lib, ui) == {}
        with owned(lib, lib.CFErrorCopyDescription(err)) as d:
            text = error_text(from_cf(ffi, lib, d))
        # the POSIX domain describes the code with strerror's text
        assert text == f"The operation couldn\u2019t be completed. {os.strerror(2)}"
    info_value = {"NSLocalizedFailure": "It failed.", "NSLocalizedFailureReason": "Disk full."}
    with cf_value(ffi, lib, info_value) as info:
        err = lib.CFErrorCreate(ffi.NULL, lib.kCFErrorDomainOSStatus, -1, info)
    with owned(lib, err), owned(lib, lib.CFErrorCopyDescription(err)) as d:
        assert from_cf(ffi, lib, d) == "It failed. Disk full."
    with cf_value(ffi, lib, {"NSLocalizedFailureReason": "Disk full."}) as info:
        err = lib.CFErrorCreate(ffi.NULL, lib.kCFErrorDomainOSStatus, -1, info)
    with owned(lib, err), owned(lib, lib.CFErrorCopyDescription(err)) as d:
        assert (
            error_text(from_cf(ffi, lib, d))
            == "The operation couldn\u2019t be completed. Disk full."
        )


def test_error_localized_description_wins(cf: CF) -> None:
    """1.4 CFErrorCopyDescription returns NSLocalizedDescription when the userInfo has one."""
    ffi, lib = cf
    with cf_value(ffi, lib, {"NSLocalizedDescription": "The item was not found."}) as info:
        err = lib.CFErrorCreate(ffi.NULL, lib.kCFErrorDomainOSStatus, -1, info)
    with owned(lib, err), owned(lib, lib.CFErrorCopyDescription(err)) as d:
        assert from_cf(ffi, lib, d) == "The item was not found."


def test_copy_description_every_type(cf: CF) -> None:
    """1.4 CFCopyDescription gives a readable +1 string for every type (NSObject's style)."""
    cf.emulator_only("descriptions are NSObject's on macOS, CF's debug format on the Linux build")
    ffi, lib = cf
    when = dt.datetime(2024, 2, 29, 12, 30, 15, 250000, tzinfo=dt.UTC)
    with cf_value(ffi, lib, when) as ref:
        assert describe(ffi, lib, ref) == "2024-02-29 12:30:15 +0000"
    with cf_value(ffi, lib, {"NSDescription": "bad thing"}) as info:
        err = lib.CFErrorCreate(ffi.NULL, lib.kCFErrorDomainOSStatus, -25300, info)
    with owned(lib, err):
        assert describe(ffi, lib, err).startswith("Error Domain=NSOSStatusErrorDomain Code=-25300")
    value = {"s": 'q"uote', "n": [1, 2.5, True, None], "b": b"\x01\xab"}
    with cf_value(ffi, lib, value) as ref:
        assert describe(ffi, lib, ref) == (
            '{"s" = "q\\"uote"; "n" = (1, 2.5, true, <null>); "b" = <01ab>}'
        )
    with cf_value(ffi, lib, "plain text") as ref:
        assert describe(ffi, lib, ref) == "plain text"
    assert describe(ffi, lib, lib.kCFAllocatorMalloc).startswith("<CFAllocator")


# ---------------------------------------------------------------------------
# threads


def test_concurrent_retain_release(cf: CF, run_threads: Any) -> None:
    """Retain counts and the live count stay exact with several threads at once."""
    ffi, lib = cf
    shared = cf_string(ffi, lib, "shared")
    start = live_objects(lib) if cf.is_emulator else 0

    def work(_n: int) -> None:
        for _ in range(2000):
            lib.CFRetain(shared)
        for i in range(2000):
            lib.CFRelease(shared)
            with cf_value(ffi, lib, {"i": i}):
                pass

    assert run_threads(work, 4) == []
    assert retain_count(lib, shared) == 1
    if cf.is_emulator:  # Apple's CF has no live-object counter
        assert live_objects(lib) == start
    lib.CFRelease(shared)


# ---------------------------------------------------------------------------
# property tests

_leaf = (
    st.text(max_size=12)
    | st.binary(max_size=12)
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.none()
    | st.datetimes(
        min_value=dt.datetime(1950, 1, 1),
        max_value=dt.datetime(2150, 1, 1),
        timezones=st.just(dt.UTC),
    )
)
_values = st.recursive(
    _leaf,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=6) | st.integers(-5, 5), children, max_size=5)
    ),
    max_leaves=25,
)


def _same(a: Any, b: Any) -> bool:
    """Python equality that also tells bool from int (to_cf/from_cf keep the type)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=_values)
def test_random_values_round_trip_without_leaks(cf: CF, value: Any) -> None:
    """Random nested values round-trip through CF, equal an independent build, and all get freed."""
    ffi, lib = cf
    start = live_objects(lib) if cf.is_emulator else 0
    with cf_value(ffi, lib, value) as a, cf_value(ffi, lib, value) as b:
        if cf.is_emulator:  # Apple's CF shares small integers and empty values
            assert a != b or value is None or isinstance(value, bool)
        assert lib.CFEqual(a, b) and lib.CFEqual(b, a)
        assert lib.CFHash(a) == lib.CFHash(b)
        back = from_cf(ffi, lib, a)
        assert isinstance(describe(ffi, lib, a), str)
    assert _same(back, value) or (isinstance(value, dict) and back == value)
    if cf.is_emulator:  # Apple's CF has no live-object counter
        assert live_objects(lib) == start


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text() | st.text().map(lambda t: "\ufeff" + t))
def test_random_strings_lengths_and_bytes(cf: CF, text: str) -> None:
    """1.4 for any text: UTF-16 length, UTF-8 measure, and UTF-16LE bytes match Python's codecs."""
    ffi, lib = cf
    try:
        utf8 = text.encode()
    except UnicodeEncodeError:  # lone surrogates cannot be stored
        return
    utf16 = text.encode("utf-16-le")
    with owned(lib, cf_string(ffi, lib, text)) as ref:
        assert lib.CFStringGetLength(ref) == len(utf16) // 2
        assert get_bytes(ffi, lib, ref, UTF8, bufsize=None)[:2] == (len(utf16) // 2, len(utf8))
        assert get_bytes(ffi, lib, ref, UTF16LE, bufsize=len(utf16))[2] == utf16
        with owned(lib, new_string_bytes(ffi, lib, utf16, UTF16LE)) as again:
            assert lib.CFEqual(ref, again)
    # from UTF-8, one leading U+FEFF is dropped
    kept = text[1:] if text.startswith("\ufeff") else text
    with owned(lib, new_string_bytes(ffi, lib, utf8, UTF8)) as ref:
        assert units(ffi, lib, ref) == kept


# ---------------------------------------------------------------------------
# misuse aborts (each in its own process)

MISUSE = [
    ("lib.CFRelease(ffi.NULL)", "CFRelease() called with NULL"),
    (
        "s = simlib.cf_string(ffi, lib, 'x')\nlib.CFRelease(s)\nlib.CFRelease(s)",
        "CFRelease: object 0x",
    ),
    (
        "s = simlib.cf_string(ffi, lib, 'x')\n"
        "lib.CFDictionaryGetValue(ffi.cast('CFDictionaryRef', s), s)",
        "CFDictionaryGetValue: expected CFDictionary, got CFString",
    ),
    ("lib.CFRetain(ffi.NULL)", "CFRetain() called with NULL"),
    ("lib.CFGetTypeID(ffi.NULL)", "CFGetTypeID() called with NULL"),
    ("lib.CFEqual(ffi.NULL, lib.kCFNull)", "CFEqual() called with NULL first argument"),
    ("lib.CFEqual(lib.kCFNull, ffi.NULL)", "CFEqual() called with NULL second argument"),
    (
        "d = simlib.to_cf(ffi, lib, {})\nlib.CFRelease(d)\nlib.CFDictionaryGetCount(d)",
        "already released and freed",
    ),
    (
        "b = ffi.new('long[8]')\nlib.CFRetain(b)",
        "is not a CF object",
    ),
    (
        "a = simlib.to_cf(ffi, lib, [1])\nlib.CFArrayGetValueAtIndex(a, 1)",
        "index 1 out of bounds",
    ),
    (
        "a = simlib.to_cf(ffi, lib, [1])\nlib.CFArrayAppendValue(a, lib.kCFNull)",
        "the array is immutable",
    ),
]


@pytest.mark.parametrize(("code", "message"), MISUSE, ids=[m for _, m in MISUSE])
def test_misuse_aborts_with_message(sim: Any, code: str, message: str) -> None:
    """Architecture guide: misuse (NULL, double release, wrong type) aborts with a message."""
    proc = child(code)
    assert proc.returncode == -signal.SIGABRT, (proc.returncode, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("secsim: ")]
    assert len(lines) == 1, proc.stderr
    assert message in lines[0], lines[0]
