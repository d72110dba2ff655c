"""Python -> CoreFoundation values, with strict ownership; the one dictionary path.

Conversions (both ways unless noted):

=====================================  =========================================
Python                                 CoreFoundation
=====================================  =========================================
``str`` (incl. embedded NUL, non-BMP)  CFString (UTF-8 through CreateWithBytes)
``SecConstant``                        the library's own exported CFString
``bytes``; ``bytearray``,              CFData (``bytes`` out)
``memoryview`` (in only)
``bool``                               CFBoolean (tested before ``int``)
``int`` in the signed 64-bit range     CFNumber ``kCFNumberSInt64Type``
``float`` (inf and nan included)       CFNumber ``kCFNumberFloat64Type``
aware ``datetime``                     CFDate (out: UTC-aware ``datetime``)
``list`` / ``tuple`` (in)              CFArray (out: ``list``)
``dict`` / any ``Mapping`` (in)        CFDictionary with the kCFType callbacks
:class:`CFObject`                      the object it wraps (SecAccessControl,
                                       SecKey, SecCertificate, SecIdentity,
                                       SecKeychainItem, any other CF type)
``None`` (out only)                    kCFNull
=====================================  =========================================

Dates: CFDate holds a double (seconds since 2001-01-01 UTC).  Aware datetimes
round-trip exactly, to the microsecond, for years 1730 to 2270 (|t| < 2**33 s,
where a double still resolves half a microsecond); further out, precision is
that of a double.  Results are rounded to the nearest microsecond.

Floats: NaN and the infinities are passed as they are (CFNumber can hold them);
NaN comes back as NaN.

Anything else is refused before any native call: ``TypeError`` naming the key
path (``"kSecAttrLabel: cannot convert set to a CoreFoundation value"``);
``OverflowError`` for an ``int`` outside 64 bits, ``ValueError`` for a naive
datetime, a string with lone surrogates, a recursive container or a closed
:class:`CFObject`.  Messages name keys and types, never values.

Ownership: every Create/Copy result is released exactly once, in a ``finally``
(or by :meth:`CFObject.close`); garbage collection is only a safety net for
:class:`CFObject` wrappers that are never closed.  The first use loads the
runtime (:mod:`secitem._runtime`); the way back is :mod:`secitem._from_cf`.

Dictionaries: a *plain* dictionary is a ``dict`` (exact type) keyed by
:class:`SecConstant` whose values are constants, ``str``, ``bool``, ``bytes``,
``float`` or 64-bit ``int`` (exact types).  :func:`_plain` is its only
definition: :func:`validate` skips the full walk for it, :func:`dictionary`
(every SecItem call) and :meth:`Builder.build` build it in one pass; anything
else is validated (naming the key) and built by the general rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from secitem import _runtime
from secitem._cfobjects import CFObject
from secitem._ffi import (
    ffi,
    kCFNumberFloat64Type,
    kCFNumberSInt64Type,
    kCFStringEncodingUTF8,
    kCFStringEncodingUTF16LE,
)
from secitem._from_cf import from_cf
from secitem.constants import SecConstant

# typing is only needed by type checkers: keep it off the import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final, Self

    from secitem._runtime import Runtime

__all__ = [
    "Arguments",
    "Builder",
    "convert",
    "converted",
    "dictionary",
    "flat",
    "is_plain",
    "new_string",
    "require_mapping",
    "to_python",
    "validate",
]

_INT64_MIN: Final = -(1 << 63)
_INT64_MAX: Final = (1 << 63) - 1
_EPOCH_NAIVE: Final = datetime(2001, 1, 1)
_ONE_US: Final = timedelta(microseconds=1)
_NULL: Final[Any] = ffi.NULL
_CREATE_FAILED: Final = "CoreFoundation could not create an object"


# --------------------------------------------------------------------------
# Plain dictionaries: one definition, checked and built in one pass


class _DryRun:
    """A stand-in runtime that creates nothing: :func:`_plain` run against it is
    the pure-Python check (no library needed), with the very same rules."""

    __slots__ = ()

    constant_ids: Final[dict[int, Any]] = {}
    constants: Final[dict[str, Any]] = {}
    true = false = key_callbacks = value_callbacks = 1

    @property
    def cf(self) -> _DryRun:
        return self

    @staticmethod
    def _made(*args: object) -> int:
        return 1  # any non-NULL value

    CFStringCreateWithBytes = CFDataCreate = CFNumberCreate = CFDictionaryCreate = _made

    @staticmethod
    def CFRelease(ref: object) -> None:
        pass


_DRY_RUN: Final[Any] = _DryRun()


def _plain(value: dict[Any, Any], rt: Runtime) -> Any:
    """A new (+1) CFDictionary if ``value`` is a plain dictionary (see the module
    docstring), else ``None``: the only definition of one.

    On anything else it releases what it made and returns ``None`` (the
    caller then takes the general path, which names a bad key).  Against
    :data:`_DRY_RUN` it creates nothing and is the pure-Python check
    (:func:`is_plain`): a non-``None`` result means plain.  Keys and values
    go to CFDictionaryCreate as Python lists (cffi makes the C arrays).
    """
    cf = rt.cf
    by_id, by_name = rt.constant_ids, rt.constants  # the library's constants
    made: list[Any] = []  # created here; the dictionary retains them
    keys: list[Any] = []
    values: list[Any] = []
    ref: Any = None
    try:
        for key, item in value.items():
            if type(key) is not SecConstant:
                return None
            # A constant: the library's own pointer, else a new string with its characters.
            keys.append(by_id.get(id(key)) or by_name.get(key.name) or _own_string(cf, key, made))
            kind = type(item)
            if kind is SecConstant:  # shared, as for keys: not owned here
                values.append(
                    by_id.get(id(item)) or by_name.get(item.name) or _own_string(cf, item, made)
                )
                continue
            if kind is str:
                ref = new_string(cf, item)
            elif kind is bool:  # the two shared booleans
                values.append(rt.true if item else rt.false)
                continue
            elif kind is bytes:
                ref = cf.CFDataCreate(_NULL, item, len(item))
            elif kind is int and _INT64_MIN <= item <= _INT64_MAX:
                ref = cf.CFNumberCreate(_NULL, kCFNumberSInt64Type, ffi.new("int64_t *", item))
            elif kind is float:
                ref = cf.CFNumberCreate(_NULL, kCFNumberFloat64Type, ffi.new("double *", item))
            else:
                return None
            # A new object: checked and owned here, in one place.
            if ref == _NULL:
                raise MemoryError(_CREATE_FAILED)
            made.append(ref)
            values.append(ref)
        ref = cf.CFDictionaryCreate(
            _NULL, keys, values, len(keys), rt.key_callbacks, rt.value_callbacks
        )
    except UnicodeEncodeError:  # a lone surrogate: the general path names the key
        return None
    finally:
        if made:
            release = rt.CFRelease
            for made_ref in made:
                release(made_ref)
    if ref == _NULL:
        raise MemoryError(_CREATE_FAILED)
    return ref


def _own_string(cf: Any, text: str, made: list[Any]) -> Any:
    """A new CFString for ``text``, appended to ``made`` (a constant the library lacks)."""
    ref = new_string(cf, text)
    if ref == _NULL:
        raise MemoryError(_CREATE_FAILED)
    made.append(ref)
    return ref


def is_plain(value: object) -> bool:
    """True if ``value`` is a plain dictionary (pure Python; see :func:`_plain`)."""
    return type(value) is dict and _plain(value, _DRY_RUN) is not None


def validate(value: object, path: str = "") -> None:
    """Check that ``value`` converts, in pure Python (no native call, no library needed).

    Raises ``TypeError`` naming the key path for an unsupported type,
    ``OverflowError`` for an int outside 64 bits and ``ValueError`` for a naive
    datetime, a lone surrogate, a recursive container or a closed CFObject.
    """
    if type(value) is dict and _plain(value, _DRY_RUN) is not None:
        return  # the common case: checked without building key paths
    _validate(value, path, set())


def require_mapping(value: object, name: str) -> Mapping[object, object]:
    """``value`` if it is a mapping, else ``TypeError`` naming the argument."""
    if type(value) is dict or isinstance(value, Mapping):
        return value
    raise TypeError(f"{name}: expected a mapping (dict), got {type(value).__name__}")


def dictionary(value: object, name: str) -> tuple[Runtime, Any, Any]:
    """``value`` as a new CFDictionary: (runtime, reference, release); the path of
    every SecItem call.  Call ``release(reference)`` once, when done.

    A plain dictionary is built in one pass, and ``release`` is CFRelease
    itself; anything else must be a mapping, is validated (naming a bad key;
    on the first call, before the library is loaded) and built by a
    :class:`Builder`, whose :meth:`Builder.release_all` releases everything it made.
    """
    rt = _runtime.current
    if rt is not None and type(value) is dict:
        ref = _plain(value, rt)
        if ref is not None:
            return rt, ref, rt.CFRelease
    return _general_dictionary(value, name, rt)


def _general_dictionary(value: object, name: str, rt: Runtime | None) -> tuple[Runtime, Any, Any]:
    mapping = require_mapping(value, name)
    _validate(mapping, "", set())  # before anything is loaded, if nothing is yet
    if rt is None:
        rt = _runtime.runtime()
        if type(mapping) is dict:
            ref = _plain(mapping, rt)
            if ref is not None:
                return rt, ref, rt.CFRelease
    owner = Builder(rt)
    try:
        return rt, owner.build_mapping(mapping), owner.release_all
    except BaseException:
        owner.release()
        raise


def flat(value: object) -> tuple[Runtime, Any] | None:
    """The runtime and a new (+1) CFDictionary if the library is loaded and
    ``value`` is plain (see :func:`_plain`), else ``None`` (for tests and
    benchmarks: :func:`dictionary` is the path the calls take).
    """
    rt = _runtime.loaded_runtime()
    if rt is None or type(value) is not dict:
        return None
    ref = _plain(value, rt)
    return None if ref is None else (rt, ref)


# --------------------------------------------------------------------------
# Validation (the general path)


def _key_name(key: object) -> str:
    if isinstance(key, SecConstant):
        return key.name
    if isinstance(key, str) and key:
        return key
    return repr(key)


def _join(path: str, key: object) -> str:
    name = _key_name(key)
    return f"{path}.{name}" if path else name


def _refuse(path: str, value: object) -> TypeError:
    return TypeError(
        f"{path or 'value'}: cannot convert {type(value).__name__} to a CoreFoundation value"
    )


#: How deep containers may nest (SecItem dictionaries are one or two levels
#: deep).  Deeper values, and containers that change shape between the check
#: and the build, are a ValueError instead of Python's RecursionError.
MAX_DEPTH: Final = 64


def _validate(value: object, path: str, active: set[int]) -> None:
    if isinstance(value, str):
        if not isinstance(value, SecConstant):
            try:
                str.encode(value, "utf-8")  # unbound: a subclass cannot answer for itself
                valid = True
            except UnicodeEncodeError:
                valid = False  # raised below: no __context__ holding the text (a secret?)
            if not valid:
                raise ValueError(
                    f"{path or 'value'}: string contains a lone surrogate (not valid Unicode)"
                )
    elif isinstance(value, (bool, float, bytes, bytearray, memoryview)):
        pass
    elif isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise OverflowError(f"{path or 'value'}: integer does not fit in 64 bits (CFNumber)")
    elif isinstance(value, datetime):
        if value.utcoffset() is None:
            raise ValueError(
                f"{path or 'value'}: naive datetime; give it a tzinfo (e.g. timezone.utc)"
            )
    elif isinstance(value, CFObject):
        if value.closed:
            raise ValueError(f"{path or 'value'}: {type(value).__name__} is closed")
    elif isinstance(value, Mapping):
        _enter(value, path, active)
        for key, item in list(value.items()):
            sub = _join(path, key)
            if isinstance(key, (list, dict, Mapping)):
                raise _refuse(sub, key)
            _validate(key, sub, active)
            _validate(item, sub, active)
        active.discard(id(value))
    elif isinstance(value, (list, tuple)):
        _enter(value, path, active)
        for index, item in enumerate(value):
            _validate(item, f"{path or 'value'}[{index}]", active)
        active.discard(id(value))
    else:
        raise _refuse(path, value)


def _enter(container: object, path: str, active: set[int]) -> None:
    if id(container) in active:
        raise ValueError(f"{path or 'value'}: recursive container")
    if len(active) >= MAX_DEPTH:
        raise ValueError(f"{path or 'value'}: containers nested more than {MAX_DEPTH} deep")
    active.add(id(container))


# --------------------------------------------------------------------------
# Building


def new_string(cf: Any, text: str) -> Any:
    """A new (+1) CFString holding every code point of ``text``.

    ASCII text goes in as UTF-8.  Anything else goes in as UTF-16LE, because
    Apple's CoreFoundation drops a leading U+FEFF from UTF-8 input (a name
    starting with it would be stored without it) but keeps UTF-16 with an
    explicit byte order exactly as written.  ``str.encode`` is called
    unbound, so a ``str`` subclass cannot substitute other bytes or a lying
    length.  Raises ``UnicodeEncodeError`` for a lone surrogate.
    """
    if str.isascii(text):
        data = str.encode(text, "ascii")
        return cf.CFStringCreateWithBytes(_NULL, data, len(data), kCFStringEncodingUTF8, 0)
    data = str.encode(text, "utf-16-le")
    return cf.CFStringCreateWithBytes(_NULL, data, len(data), kCFStringEncodingUTF16LE, 0)


class Builder:
    """Creates CF objects for one validated value; owns what it creates."""

    __slots__ = ("depth", "owned", "rt")

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.owned: list[Any] = []
        #: Containers being built around the current value: a container that
        #: turned recursive after validate() ends here, not in RecursionError.
        self.depth = 0

    def _deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ValueError(
                f"value: containers nested more than {MAX_DEPTH} deep (did a container "
                "change while it was converted?)"
            )

    def release_all(self, ref: object = None) -> None:
        """:meth:`release`, in the shape of ``CFRelease(ref)`` (see :func:`dictionary`)."""
        self.release()

    def release(self) -> None:
        owned, self.owned = self.owned, []
        release = self.rt.CFRelease
        for ref in reversed(owned):
            release(ref)

    def _own(self, ref: Any) -> Any:
        if ref == _NULL:
            raise MemoryError(_CREATE_FAILED)
        self.owned.append(ref)
        return ref

    def _release_from(self, start: int) -> None:
        # The container just created retains these: drop our own references.
        owned = self.owned
        extra = owned[start:]
        del owned[start:]
        release = self.rt.CFRelease
        for ref in reversed(extra):
            release(ref)

    def build(self, value: object) -> Any:
        """A CF reference for ``value`` (validated), owned by this builder."""
        if type(value) is dict:
            ref = _plain(value, self.rt)  # the one definition of a plain dictionary
            if ref is not None:
                return self._own(ref)
            return self.build_mapping(value)
        return self._build_any(value)

    def _build_any(self, value: object) -> Any:
        rt = self.rt
        cf = rt.cf
        if isinstance(value, str):
            if isinstance(value, SecConstant):
                ref = rt.constants.get(value.name)
                if ref is not None:
                    return ref  # the library's own immortal pointer
            return self._own(new_string(cf, value))
        if isinstance(value, bool):
            return rt.true if value else rt.false
        if isinstance(value, int):
            return self._own(
                cf.CFNumberCreate(_NULL, kCFNumberSInt64Type, ffi.new("int64_t *", value))
            )
        if isinstance(value, float):
            return self._own(
                cf.CFNumberCreate(_NULL, kCFNumberFloat64Type, ffi.new("double *", value))
            )
        if isinstance(value, (bytes, bytearray, memoryview)):
            # A copy through the buffer protocol: the length is the buffer's
            # own, never ``len()`` of a subclass (which may lie).
            data = memoryview(value).tobytes()
            return self._own(cf.CFDataCreate(_NULL, data, len(data)))
        if isinstance(value, datetime):
            offset = value.utcoffset()
            if offset is None:  # a subclass that changed its mind after validate()
                raise ValueError("value: naive datetime; give it a tzinfo (e.g. timezone.utc)")
            micros = (value.replace(tzinfo=None) - offset - _EPOCH_NAIVE) // _ONE_US
            return self._own(cf.CFDateCreate(_NULL, micros / 1_000_000))
        if isinstance(value, CFObject):
            return self._own(value._retained_ref())
        if isinstance(value, Mapping):
            return self.build_mapping(value)
        if isinstance(value, (list, tuple)):
            # The count is what iteration yielded, never ``len()`` of a
            # subclass (a longer one would hand CFArrayCreate NULL slots).
            start = len(self.owned)
            self._deeper()
            values = [self.build(item) for item in value]
            self.depth -= 1
            ref = cf.CFArrayCreate(_NULL, values, len(values), rt.array_callbacks)
            self._release_from(start)
            return self._own(ref)
        raise _refuse("value", value)  # unreachable after validate()

    def build_mapping(self, value: Mapping[object, object]) -> Any:
        rt = self.rt
        items = list(value.items())
        count = len(items)
        # One array: keys in the first half, values in the second.
        refs = ffi.new("CFTypeRef[]", 2 * count)
        start = len(self.owned)
        build = self.build
        index = count
        self._deeper()
        for key, item in items:
            refs[index - count] = build(key)
            refs[index] = build(item)
            index += 1
        self.depth -= 1
        ref = rt.cf.CFDictionaryCreate(
            _NULL, refs, refs + count, count, rt.key_callbacks, rt.value_callbacks
        )
        if len(self.owned) > start:
            self._release_from(start)
        return self._own(ref)


class _Converted:
    """The context manager returned by :func:`converted`."""

    __slots__ = ("_builder", "_value")

    def __init__(self, value: object, path: str) -> None:
        validate(value, path)
        self._value = value
        self._builder: Builder | None = None

    def __enter__(self) -> Any:
        builder = self._builder = Builder(_runtime.runtime())
        try:
            return builder.build(self._value)
        except BaseException:
            builder.release()
            raise

    def __exit__(self, *exc_info: object) -> None:
        if self._builder is not None:
            self._builder.release()


def converted(value: object, path: str = "") -> _Converted:
    """A context manager giving ``value`` as a CF reference, valid inside the block.

    ``value`` is validated at once (see :func:`validate`), so a bad value
    raises before the library is even loaded.  Everything created is released
    when the block exits, also when it raises.
    """
    return _Converted(value, path)


def convert(value: object, path: str = "") -> tuple[Any, Builder]:
    """``value`` as a CF reference, and the builder that owns what was created.

    The function form of :func:`converted`: ``value`` is validated first
    (before the library is loaded); the caller must call ``builder.release()``
    (in a ``finally``) once the reference is no longer needed.
    """
    validate(value, path)
    builder = Builder(_runtime.runtime())
    try:
        return builder.build(value), builder
    except BaseException:
        builder.release()
        raise


class Arguments:
    """The CF references of one call's arguments, all released when the block exits.

    ``with Arguments() as args:`` loads the runtime (``args.rt``); inside,
    :meth:`obj` takes a reference to a :class:`CFObject` argument and
    :meth:`cf` converts any other value (as :func:`converted` does).
    """

    __slots__ = ("_converted", "_owned", "rt")

    def __init__(self) -> None:
        self.rt: Runtime = _runtime.runtime()
        self._owned: list[Any] = []
        self._converted: list[_Converted] = []

    def obj(self, value: object, cls: type[CFObject], name: str) -> Any:
        """A +1 reference to ``value``, which must be a ``cls`` (``TypeError`` naming ``name``)."""
        if not isinstance(value, cls):
            raise TypeError(f"{name}: expected a {cls.__name__}, got {type(value).__name__}")
        ref = value._retained_ref()
        self._owned.append(ref)
        return ref

    def cf(self, value: object, name: str) -> Any:
        """``value`` converted (validated first, the error naming ``name``)."""
        context = converted(value, name)
        ref = context.__enter__()
        self._converted.append(context)
        return ref

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for context in reversed(self._converted):
            context.__exit__(None, None, None)
        for ref in self._owned:
            self.rt.CFRelease(ref)


def to_python(ref: Any) -> object:
    """Convert a CF reference that the caller keeps owning (nothing is released).

    Opaque objects come back as :class:`CFObject` subclasses holding their own
    new reference.
    """
    return from_cf(_runtime.runtime(), ref)
