"""CoreFoundation -> Python: the readers of returned values.

=====================  ==========================================
CoreFoundation         Python
=====================  ==========================================
CFString               ``str`` (every code point, lone surrogates kept)
CFData                 ``bytes``
CFBoolean              ``bool``
CFNumber               ``int`` (64-bit) or ``float``
CFDate                 UTC-aware ``datetime`` (an opaque object if out of range)
CFArray                ``list``
CFDictionary           ``dict`` (keys that are the library's constants: those constants)
kCFNull                ``None``
anything else          a :class:`~secitem._cfobjects.CFObject` subclass (own reference)
=====================  ==========================================

Every reader takes the runtime (:mod:`secitem._runtime`, which builds its
table of readers from :func:`converters`) and a reference the caller keeps
owning.  Results are rounded to the nearest microsecond for dates.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from secitem._cfobjects import CFObject, close_all
from secitem._ffi import (
    ffi,
    kCFNumberFloat64Type,
    kCFNumberSInt64Type,
    kCFStringEncodingUTF8,
    kCFStringEncodingUTF16LE,
)
from secitem._plain import PLAIN_TYPES
from secitem.constants import key_for

# typing is only needed by type checkers: keep it off the import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final, TypeVar

    from secitem._runtime import Runtime

    T = TypeVar("T")

__all__ = [
    "PLAIN_TYPES",
    "converters",
    "data_out",
    "dictionary_out",
    "from_cf",
    "read_and_release",
    "string_out",
]

_EPOCH: Final = datetime(2001, 1, 1, tzinfo=UTC)
_EXACT_LIMIT: Final = float(2**52)  # |microseconds| below which a double's ulp is <= 0.5
_REFS: Final[Any] = ffi.typeof("CFTypeRef[]")


def converters(cf: Any) -> dict[int, Any]:
    """CFTypeID -> reader, for the CoreFoundation library ``cf`` (built once at load)."""
    return {
        int(cf.CFStringGetTypeID()): string_out,
        int(cf.CFDataGetTypeID()): data_out,
        int(cf.CFBooleanGetTypeID()): _boolean_out,
        int(cf.CFNumberGetTypeID()): _number_out,
        int(cf.CFDateGetTypeID()): _date_out,
        int(cf.CFArrayGetTypeID()): _array_out,
        int(cf.CFDictionaryGetTypeID()): dictionary_out,
        int(cf.CFNullGetTypeID()): _null_out,
    }


def from_cf(rt: Runtime, ref: Any) -> object:
    type_id = rt.CFGetTypeID(ref)
    converter = rt.converters.get(type_id)
    if converter is not None:
        return converter(rt, ref)
    return _opaque_out(rt, ref, type_id)


def read_and_release(rt: Runtime, ref: Any, read: Callable[[Runtime, Any], T]) -> T:
    """``read(rt, ref)`` for a reference the caller owns (+1, not NULL), which is
    released here, also when reading fails (e.g. ``string_out``, ``from_cf``)."""
    try:
        return read(rt, ref)
    finally:
        rt.CFRelease(ref)


def _opaque_out(rt: Runtime, ref: Any, type_id: int) -> CFObject:
    cls = rt.opaque.get(type_id, CFObject)
    return cls._adopt(rt.CFRetain(ref), rt)


#: The longest string (in UTF-16 units) read through the per-thread buffer.
_SHORT_STRING: Final = 341
_SCRATCH_BYTES: Final = 3 * _SHORT_STRING  # UTF-8 needs at most 3 bytes per UTF-16 unit

#: CFRange(0, n) for every short length, built once (read-only, shared by threads).
_RANGES: Final[Any] = ffi.new("CFRange[]", [(0, n) for n in range(_SHORT_STRING + 1)])


class _Scratch(threading.local):
    """Per-thread buffers reused by the string and number readers.

    Nothing that runs between filling a buffer and reading it back can call
    into Python code that converts values, so one set per thread is enough.
    """

    def __init__(self) -> None:
        buffer = ffi.new("UInt8[]", _SCRATCH_BYTES)
        #: (buffer, used length, the buffer as char *)
        self.strings: tuple[Any, Any, Any] = (
            buffer,
            ffi.new("CFIndex *"),
            ffi.cast("char *", buffer),
        )
        self.int64: Any = ffi.new("int64_t *")
        self.double: Any = ffi.new("double *")


_scratch: Final = _Scratch()


def string_out(rt: Runtime, ref: Any) -> str:
    length = rt.CFStringGetLength(ref)
    if length <= _SHORT_STRING:
        if length == 0:
            return ""
        buffer, used, chars = _scratch.strings
        if (
            rt.CFStringGetBytes(
                ref, _RANGES[length], kCFStringEncodingUTF8, 0, 0, buffer, 3 * length, used
            )
            == length
        ):
            return ffi.unpack(chars, used[0]).decode("utf-8")  # type: ignore[no-any-return]
    return _longstring_out(rt, ref, length)


def _longstring_out(rt: Runtime, ref: Any, length: int) -> str:
    cf = rt.cf
    whole = ffi.new("CFRange *", (0, length))  # keep the owner alive during the calls
    used = ffi.new("CFIndex *")
    capacity = length * 3  # UTF-8 needs at most 3 bytes per UTF-16 unit
    buffer = ffi.new("UInt8[]", capacity)
    done = cf.CFStringGetBytes(ref, whole[0], kCFStringEncodingUTF8, 0, 0, buffer, capacity, used)
    if done == length:
        return bytes(ffi.buffer(buffer, used[0])).decode("utf-8")
    # Not expressible in UTF-8 (a lone UTF-16 surrogate): take the UTF-16 units.
    capacity = length * 2
    buffer = ffi.new("UInt8[]", capacity)
    cf.CFStringGetBytes(ref, whole[0], kCFStringEncodingUTF16LE, 0, 0, buffer, capacity, used)
    return bytes(ffi.buffer(buffer, used[0])).decode("utf-16-le", "surrogatepass")


def data_out(rt: Runtime, ref: Any) -> bytes:
    length = rt.CFDataGetLength(ref)
    if length == 0:
        return b""
    return ffi.buffer(rt.CFDataGetBytePtr(ref), length)[:]  # type: ignore[no-any-return]


def _boolean_out(rt: Runtime, ref: Any) -> bool:
    # kCFBooleanTrue / kCFBooleanFalse are singletons: compare pointers first.
    if ref == rt.true:
        return True
    if ref == rt.false:
        return False
    return bool(rt.cf.CFBooleanGetValue(ref))


def _number_out(rt: Runtime, ref: Any) -> int | float:
    cf = rt.cf
    scratch = _scratch
    if not cf.CFNumberIsFloatType(ref):
        integer = scratch.int64
        if cf.CFNumberGetValue(ref, kCFNumberSInt64Type, integer):
            return int(integer[0])
    real = scratch.double
    cf.CFNumberGetValue(ref, kCFNumberFloat64Type, real)
    return float(real[0])


def _date_out(rt: Runtime, ref: Any) -> datetime | CFObject:
    """A CFDate as an aware UTC ``datetime``, exact to the microsecond.

    A date Python cannot represent (before year 1, after 9999, NaN or an
    infinity: a CFDate can hold any double) comes back as an opaque
    :class:`CFObject`, so one odd item never makes a whole search fail.
    """
    try:
        return _exact_date(float(rt.cf.CFDateGetAbsoluteTime(ref)))
    except (OverflowError, ValueError):
        return _opaque_out(rt, ref, int(rt.CFGetTypeID(ref)))


def _exact_date(seconds: float) -> datetime:
    scaled = seconds * 1e6
    if -_EXACT_LIMIT < scaled < _EXACT_LIMIT:
        # Below 2**52 the product is within 0.25 of the exact one, so a value
        # that is not near a half rounds as the exact product would.
        micros = round(scaled)
        if -0.25 < scaled - micros < 0.25:
            return _EPOCH + timedelta(0, 0, micros)
    numerator, denominator = seconds.as_integer_ratio()  # ValueError for inf/nan
    micros, rest = divmod(numerator * 1_000_000, denominator)
    if 2 * rest > denominator or (2 * rest == denominator and micros % 2):
        micros += 1  # round half to even, exactly
    return _EPOCH + timedelta(0, 0, micros)


def _array_out(rt: Runtime, ref: Any) -> list[object]:
    cf = rt.cf
    get = cf.CFArrayGetValueAtIndex
    to_python = from_cf
    result: list[object] = []
    try:
        for index in range(cf.CFArrayGetCount(ref)):
            result.append(to_python(rt, get(ref, index)))
    except BaseException:
        close_all(result)  # opaque objects already wrapped: release them now
        raise
    return result


def dictionary_out(rt: Runtime, ref: Any) -> dict[object, object]:
    cf = rt.cf
    count = cf.CFDictionaryGetCount(ref)
    refs = ffi.new(_REFS, 2 * count)  # keys, then values
    cf.CFDictionaryGetKeysAndValues(ref, refs, refs + count)
    pairs = ffi.unpack(refs, 2 * count)
    known_keys = rt.key_constants
    type_of = rt.CFGetTypeID
    converters = rt.converters
    result: dict[object, object] = {}
    try:
        for index in range(count):
            key_ref = pairs[index]
            key: object = known_keys.get(key_ref)  # the library's own constant: not read
            if key is None:
                key = from_cf(rt, key_ref)
                key = key_for(key) if type(key) is str else _hashable(key)
            value_ref = pairs[count + index]
            type_id = type_of(value_ref)
            converter = converters.get(type_id)
            result[key] = (
                converter(rt, value_ref)
                if converter is not None
                else _opaque_out(rt, value_ref, type_id)
            )
    except BaseException:
        close_all(result)  # opaque objects already wrapped: release them now
        raise
    return result


def _null_out(rt: Runtime, ref: Any) -> None:
    return None


def _hashable(value: object) -> object:
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, dict):
        return tuple((key, _hashable(item)) for key, item in value.items())
    return value
