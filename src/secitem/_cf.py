"""Python <-> CoreFoundation values, with strict ownership.

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
libraries (:mod:`secitem._ffi`), caches the CF type IDs, and checks that every
public kSec* constant the library exports has the expected characters.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from secitem import _ffi
from secitem._ffi import ffi
from secitem.constants import PUBLIC_CONSTANTS, SecConstant, key_for
from secitem.errors import KeychainUnavailableError

# typing is only needed by type checkers: keep it off the import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, Final, Self

__all__ = [
    "AccessControl",
    "CFObject",
    "Certificate",
    "Identity",
    "Key",
    "KeychainItemRef",
    "converted",
    "copy_error_message",
    "loaded_runtime",
    "runtime",
    "to_python",
    "validate",
]

kCFStringEncodingUTF8: Final = 0x08000100
kCFStringEncodingUTF16LE: Final = 0x14000100
kCFNumberSInt64Type: Final = 4
kCFNumberFloat64Type: Final = 6

_INT64_MIN: Final = -(1 << 63)
_INT64_MAX: Final = (1 << 63) - 1
_EPOCH: Final = datetime(2001, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE: Final = datetime(2001, 1, 1)
_ONE_US: Final = timedelta(microseconds=1)
_EXACT_LIMIT: Final = float(2**52)  # |microseconds| below which a double's ulp is <= 0.5
_NULL: Final[Any] = ffi.NULL
_REFS: Final[Any] = ffi.typeof("CFTypeRef[]")


# --------------------------------------------------------------------------
# Opaque objects


class CFObject:
    """An opaque CoreFoundation object that owns one reference.

    Returned for CF types without a Python equivalent (access controls, keys,
    certificates, identities, keychain item references, anything unknown).
    Pass it back in as a dictionary value (for example as kSecValueRef or
    kSecAttrAccessControl).  Call :meth:`close` (or use ``with``) to release
    the reference now; closing twice is harmless, and an object that is never
    closed is released when it is garbage-collected.  Objects cannot be
    created directly.
    """

    __slots__ = ("__weakref__", "_hash", "_ref")

    #: Apple's name of the CF type this class stands for.
    cf_type_name: ClassVar[str] = "CFType"

    _ref: Any
    _hash: int | None

    def __init__(self) -> None:
        raise TypeError(
            f"{type(self).__name__} objects come from the keychain; they cannot be created directly"
        )

    @classmethod
    def _adopt(cls, ref: Any) -> Self:
        """Wrap ``ref``, taking over one reference that the caller owns (+1)."""
        obj = object.__new__(cls)
        obj._hash = None  # CFHash on first use (most objects are never hashed)
        obj._ref = ffi.gc(ref, runtime().release)
        return obj

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has released the reference."""
        return self._ref is None

    @property
    def type_id(self) -> int:
        """The object's CFTypeID (a run-time value; compare with the *GetTypeID functions)."""
        with _CLOSE_LOCK:  # not while another thread closes it
            return int(runtime().CFGetTypeID(self._live_ref()))

    def _live_ref(self) -> Any:
        ref = self._ref
        if ref is None:
            raise ValueError(f"{type(self).__name__} is closed")
        return ref

    def _retained_ref(self) -> Any:
        """A new +1 reference to the object (for passing it into a call)."""
        with _CLOSE_LOCK:
            return runtime().CFRetain(self._live_ref())

    def close(self) -> None:
        """Release the reference now (idempotent; detaches the GC safety net)."""
        with _CLOSE_LOCK:
            ref, self._ref = self._ref, None
            if ref is not None:
                ffi.release(ref)  # calls CFRelease once; the GC will not call it again

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        ref = self._ref
        if ref is None:
            return f"<secitem.{type(self).__name__} {self.cf_type_name} (closed)>"
        address = int(ffi.cast("uintptr_t", ref))
        return f"<secitem.{type(self).__name__} {self.cf_type_name} at {address:#x}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CFObject):
            return NotImplemented
        if self is other:
            return True
        with _CLOSE_LOCK:
            if self._ref is None or other._ref is None:
                return False
            return bool(runtime().CFEqual(self._ref, other._ref))

    def __hash__(self) -> int:
        value = self._hash
        if value is None:
            with _CLOSE_LOCK:
                value = self._hash
                if value is None:
                    ref = self._ref
                    # A closed object equals only itself: any stable value will do.
                    value = int(runtime().CFHash(ref)) if ref is not None else id(self) >> 4
                    self._hash = value
        return value

    def __copy__(self) -> Self:
        return type(self)._adopt(self._retained_ref())

    def __deepcopy__(self, memo: object) -> Self:
        return self.__copy__()

    def __reduce__(self) -> Any:
        raise TypeError(f"{type(self).__name__} objects cannot be pickled")


class AccessControl(CFObject):
    """A SecAccessControlRef: the value of kSecAttrAccessControl."""

    __slots__ = ()
    cf_type_name = "SecAccessControl"


class Key(CFObject):
    """A SecKeyRef (kSecReturnRef on kSecClassKey items)."""

    __slots__ = ()
    cf_type_name = "SecKey"


class Certificate(CFObject):
    """A SecCertificateRef (kSecReturnRef on kSecClassCertificate items)."""

    __slots__ = ()
    cf_type_name = "SecCertificate"


class Identity(CFObject):
    """A SecIdentityRef (kSecReturnRef on kSecClassIdentity items)."""

    __slots__ = ()
    cf_type_name = "SecIdentity"


class KeychainItemRef(CFObject):
    """A SecKeychainItemRef: an item of the macOS file-based keychain."""

    __slots__ = ()
    cf_type_name = "SecKeychainItem"


class Access(CFObject):
    """A SecAccessRef: the access list of a file-based keychain item (macOS)."""

    __slots__ = ()
    cf_type_name = "SecAccess"


class ACL(CFObject):
    """A SecACLRef: one entry of a :class:`Access` (macOS)."""

    __slots__ = ()
    cf_type_name = "SecACL"


class TrustedApplication(CFObject):
    """A SecTrustedApplicationRef: an application named in an access list (macOS)."""

    __slots__ = ()
    cf_type_name = "SecTrustedApplication"


class Code(CFObject):
    """A SecCodeRef: running code, e.g. this process (SecCodeCopySelf; macOS)."""

    __slots__ = ()
    cf_type_name = "SecCode"


_CLOSE_LOCK: Final = threading.Lock()

_REQUIRED_SECURITY_FUNCTIONS: Final = (
    "SecItemAdd",
    "SecItemCopyMatching",
    "SecItemUpdate",
    "SecItemDelete",
    "SecAccessControlCreateWithFlags",
)

_OPAQUE_TYPES: Final[tuple[tuple[str, type[CFObject]], ...]] = (
    ("SecAccessControlGetTypeID", AccessControl),
    ("SecKeyGetTypeID", Key),
    ("SecCertificateGetTypeID", Certificate),
    ("SecIdentityGetTypeID", Identity),
    ("SecKeychainItemGetTypeID", KeychainItemRef),  # macOS only
    ("SecAccessGetTypeID", Access),  # macOS only, as the three below
    ("SecACLGetTypeID", ACL),
    ("SecTrustedApplicationGetTypeID", TrustedApplication),
    ("SecCodeGetTypeID", Code),
)


# --------------------------------------------------------------------------
# The loaded runtime


class _Runtime:
    """The loaded libraries with everything cached at load."""

    def __init__(self, libs: _ffi.Libraries) -> None:
        sec = libs.sec
        self.sec: Any = sec
        self._bind_core_foundation(libs.cf, libs.paths)
        try:
            for name in _REQUIRED_SECURITY_FUNCTIONS:
                getattr(sec, name)
        except ffi.error as exc:
            raise KeychainUnavailableError(
                f"{' and '.join(libs.paths)} lacks a required symbol: {exc}", paths=libs.paths
            ) from None
        self.opaque: dict[int, type[CFObject]] = {}
        for function, cls in _OPAQUE_TYPES:
            try:
                self.opaque[int(getattr(sec, function)())] = cls
            except ffi.error:
                continue  # e.g. SecKeychainItemGetTypeID on iOS
        #: id(SecConstant) -> exported pointer, for the constants in PUBLIC_CONSTANTS
        #: (kept alive in ``_constant_objects``, so an id cannot be reused).
        self.constant_ids: dict[int, Any] = {}
        #: exported pointer -> the key a returned dictionary uses for it
        #: (``key_for`` of its characters): returned keys that are the library's
        #: own constants are recognised without reading their characters.
        self.key_constants: dict[Any, str] = {}
        self._constant_objects: list[SecConstant] = []
        self.constants: dict[str, Any] = self._check_constants()

    @classmethod
    def core_foundation_only(cls, cf: Any, path: str) -> _Runtime:
        """A runtime for value conversion alone, on a CoreFoundation library with no
        Security half (no constants, no opaque Security types).

        For tests that run the binding's conversions on Apple's own CF
        (``../shared/reference/apple-cf``); the SecItem calls never use it.
        """
        rt = object.__new__(cls)
        rt.sec = None
        rt._bind_core_foundation(cf, (path,))
        rt.opaque = {}
        rt.constant_ids = {}
        rt.key_constants = {}
        rt._constant_objects = []
        rt.constants = {}
        return rt

    def _bind_core_foundation(self, cf: Any, paths: tuple[str, ...]) -> None:
        """Cache the CoreFoundation functions and constants the converters use."""
        self.cf: Any = cf
        self.paths = paths
        try:
            self.CFRelease: Any = cf.CFRelease
            self.release: Any = _releaser(cf)
            self.CFRetain: Any = cf.CFRetain
            self.CFGetTypeID: Any = cf.CFGetTypeID
            self.CFEqual: Any = cf.CFEqual
            self.CFHash: Any = cf.CFHash
            self.true: Any = cf.kCFBooleanTrue
            self.false: Any = cf.kCFBooleanFalse
            self.key_callbacks: Any = ffi.addressof(cf, "kCFTypeDictionaryKeyCallBacks")
            self.value_callbacks: Any = ffi.addressof(cf, "kCFTypeDictionaryValueCallBacks")
            self.array_callbacks: Any = ffi.addressof(cf, "kCFTypeArrayCallBacks")
            self.string_id = int(cf.CFStringGetTypeID())
            # Bound once: the readers below run per returned value.
            self.CFStringGetLength: Any = cf.CFStringGetLength
            self.CFStringGetBytes: Any = cf.CFStringGetBytes
            self.CFDataGetLength: Any = cf.CFDataGetLength
            self.CFDataGetBytePtr: Any = cf.CFDataGetBytePtr
            self.converters: dict[int, Any] = {
                self.string_id: _string_out,
                int(cf.CFDataGetTypeID()): _data_out,
                int(cf.CFBooleanGetTypeID()): _boolean_out,
                int(cf.CFNumberGetTypeID()): _number_out,
                int(cf.CFDateGetTypeID()): _date_out,
                int(cf.CFArrayGetTypeID()): _array_out,
                int(cf.CFDictionaryGetTypeID()): _dictionary_out,
                int(cf.CFNullGetTypeID()): _null_out,
            }
        except ffi.error as exc:
            raise KeychainUnavailableError(
                f"{' and '.join(paths)} lacks a required symbol: {exc}", paths=paths
            ) from None

    def _check_constants(self) -> dict[str, Any]:
        """name -> exported pointer; refuses a library whose constants differ."""
        found: dict[str, Any] = {}
        wrong: list[str] = []
        keep = self._constant_objects
        # One scratch buffer for all the (short) constants keeps the check cheap.
        capacity = 256
        buffer = ffi.new("UInt8[]", capacity)
        used = ffi.new("CFIndex *")
        whole = ffi.new("CFRange *")
        get_length, get_bytes = self.cf.CFStringGetLength, self.cf.CFStringGetBytes
        for constant in PUBLIC_CONSTANTS:
            try:
                ref = getattr(self.sec, constant.name)
            except ffi.error:
                continue  # not exported on this platform (macOS-only keys on iOS)
            if ref == _NULL or int(self.CFGetTypeID(ref)) != self.string_id:
                wrong.append(f"{constant.name} is not a CFString")
                continue
            length = whole.length = get_length(ref)
            if (
                length * 3 <= capacity
                and get_bytes(ref, whole[0], kCFStringEncodingUTF8, 0, 0, buffer, capacity, used)
                == length
            ):
                actual = ffi.unpack(ffi.cast("char *", buffer), used[0]).decode("utf-8")
            else:
                actual = _string_out(self, ref)
            if actual != constant:
                wrong.append(f"{constant.name} is {actual!r}, expected {str(constant)!r}")
                continue
            found[constant.name] = ref
            keep.append(constant)
            self.constant_ids[id(constant)] = ref
            self.key_constants[ref] = key_for(actual)
        if wrong:
            # Every mismatch at once: one CI run shows the whole picture.
            raise KeychainUnavailableError(
                f"{' and '.join(self.paths)} does not match Apple's constants "
                f"({len(wrong)} mismatched): " + "; ".join(wrong),
                paths=self.paths,
            )
        return found


def _releaser(cf: Any) -> Any:
    """CFRelease for garbage-collection destructors.

    The closure keeps the library object alive: cffi unmaps a library when its
    lib object is collected (even while functions taken from it are alive), and
    at interpreter exit a wrapper may be collected after the module globals
    that held the library.
    """
    release = cf.CFRelease

    def _release(ref: Any, _library: Any = cf) -> None:
        release(ref)

    return _release


_runtime_lock: Final = threading.Lock()
_runtime: _Runtime | None = None


def runtime() -> _Runtime:
    """Load the libraries on first use (thread-safe) and return the runtime.

    Raises :class:`~secitem.errors.KeychainUnavailableError` if no library can
    be loaded or the loaded one fails the constant self-check.
    """
    global _runtime
    rt = _runtime
    if rt is not None:
        return rt
    with _runtime_lock:
        if _runtime is None:
            _runtime = _Runtime(_ffi.load())
        return _runtime


def loaded_runtime() -> _Runtime | None:
    """The runtime if it is loaded already, else ``None`` (never loads)."""
    return _runtime


def copy_error_message(status: int) -> str | None:
    """``SecCopyErrorMessageString(status)`` if the library is loaded, else ``None``."""
    rt = _runtime
    if rt is None or not -(1 << 31) <= status < (1 << 31):
        return None
    try:
        ref = rt.sec.SecCopyErrorMessageString(status, _NULL)
    except ffi.error:  # iOS before 11.3
        return None
    if ref == _NULL:
        return None
    try:
        return _string_out(rt, ref)
    finally:
        rt.CFRelease(ref)


# --------------------------------------------------------------------------
# Python -> CF


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


def validate(value: object, path: str = "") -> None:
    """Check that ``value`` converts, in pure Python (no native call, no library needed).

    Raises ``TypeError`` naming the key path for an unsupported type,
    ``OverflowError`` for an int outside 64 bits and ``ValueError`` for a naive
    datetime, a lone surrogate, a recursive container or a closed CFObject.
    """
    if type(value) is dict and _plain_dict(value):
        return  # the common case: checked without building key paths
    _validate(value, path, set())


def _plain_dict(value: dict[object, object]) -> bool:
    """True if ``value`` is a flat dict of values that need no further check.

    Keys are constants or ASCII strings; values are constants, ASCII strings,
    ``bool``, ``bytes``, ``float`` or 64-bit ``int`` (exact types only).  Anything
    else (nested containers, dates, objects, non-ASCII text) returns False and
    gets the full check, which also names the offending key.
    """
    for key, item in value.items():
        kind = type(key)
        if kind is not SecConstant and not (kind is str and key.isascii()):  # type: ignore[attr-defined]
            return False
        kind = type(item)
        if kind is SecConstant or kind is bool or kind is bytes or kind is float:
            continue
        if kind is str:
            if item.isascii():  # type: ignore[attr-defined]
                continue
            return False
        if kind is int and _INT64_MIN <= item <= _INT64_MAX:  # type: ignore[operator]
            continue
        return False
    return True


def _validate(value: object, path: str, active: set[int]) -> None:
    if isinstance(value, str):
        if not isinstance(value, SecConstant):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(
                    f"{path or 'value'}: string contains a lone surrogate (not valid Unicode)"
                ) from None
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
    active.add(id(container))


def _flat(rt: _Runtime, value: dict[object, object]) -> Any:
    """A new (+1) CFDictionary for a flat dict of plain values; ``None`` if it is not one.

    The hot path of the SecItem calls: keys are the library's constants,
    values are constants, ``str``, ``bool``, ``bytes`` or 64-bit ``int``
    (exact types).  On anything else (or a string that is not valid
    Unicode) it releases what it made and returns ``None``; the caller
    then validates (naming the key) and builds with :meth:`build`.
    Keys and values go to CFDictionaryCreate as Python lists (cffi makes
    the temporary arrays in C, cheaper than filling a cdata array).
    """
    constant_ids = rt.constant_ids
    cf = rt.cf
    made: list[Any] = []  # created here; the dictionary retains them
    keys: list[Any] = []
    values: list[Any] = []
    ref: Any = None
    try:
        for key, item in value.items():
            if type(key) is not SecConstant:
                return None
            ref = constant_ids.get(id(key))
            if ref is None:
                return None
            keys.append(ref)
            kind = type(item)
            if kind is SecConstant:
                ref = constant_ids.get(id(item))
                if ref is None:
                    return None
            elif kind is str:
                ref = _new_string(cf, item)  # type: ignore[arg-type]
                if ref == _NULL:
                    return None
                made.append(ref)
            elif kind is bool:
                ref = rt.true if item else rt.false
            elif kind is bytes:
                ref = cf.CFDataCreate(_NULL, item, len(item))  # type: ignore[arg-type]
                if ref == _NULL:
                    return None
                made.append(ref)
            elif kind is int and _INT64_MIN <= item <= _INT64_MAX:  # type: ignore[operator]
                ref = cf.CFNumberCreate(_NULL, kCFNumberSInt64Type, ffi.new("int64_t *", item))
                if ref == _NULL:
                    return None
                made.append(ref)
            else:
                return None
            values.append(ref)
        ref = cf.CFDictionaryCreate(
            _NULL, keys, values, len(keys), rt.key_callbacks, rt.value_callbacks
        )
    except UnicodeEncodeError:  # a lone surrogate: the general path names the key
        return None
    finally:
        release = rt.CFRelease
        for made_ref in made:
            release(made_ref)
    if ref == _NULL:
        raise MemoryError("CoreFoundation could not create an object")
    return ref


def flat(value: object) -> tuple[_Runtime, Any] | None:
    """The hot path of :mod:`secitem.security`: the runtime and a new (+1)
    CFDictionary for ``value``.

    ``None`` unless the library is loaded already and ``value`` is a flat
    ``dict`` of plain values (see :func:`_flat`); the caller then takes the
    general path (:func:`convert`), which validates and names a bad key.
    The caller releases the returned reference (``rt.CFRelease``).
    """
    rt = _runtime
    if rt is None or type(value) is not dict:
        return None
    ref = _flat(rt, value)
    return None if ref is None else (rt, ref)


def _new_string(cf: Any, text: str) -> Any:
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


class _Builder:
    """Creates CF objects for one validated value; owns what it creates."""

    __slots__ = ("owned", "rt")

    def __init__(self, rt: _Runtime) -> None:
        self.rt = rt
        self.owned: list[Any] = []

    def release(self) -> None:
        owned, self.owned = self.owned, []
        release = self.rt.CFRelease
        for ref in reversed(owned):
            release(ref)

    def _own(self, ref: Any) -> Any:
        if ref == _NULL:
            raise MemoryError("CoreFoundation could not create an object")
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
        # Exact types first (the common case), then the general rules.
        kind = type(value)
        if kind is SecConstant:
            ref = self.rt.constant_ids.get(id(value))
            if ref is not None:
                return ref  # the library's own immortal pointer
        elif kind is bool:
            return self.rt.true if value else self.rt.false
        elif kind is bytes:
            return self._own(self.rt.cf.CFDataCreate(_NULL, value, len(value)))  # type: ignore[arg-type]
        elif kind is dict:
            return self._build_mapping(value)  # type: ignore[arg-type]
        return self._build_any(value)

    def _build_any(self, value: object) -> Any:
        rt = self.rt
        cf = rt.cf
        if isinstance(value, str):
            if isinstance(value, SecConstant):
                ref = rt.constants.get(value.name)
                if ref is not None:
                    return ref  # the library's own immortal pointer
            return self._own(_new_string(cf, value))
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
            return self._build_mapping(value)
        if isinstance(value, (list, tuple)):
            # The count is what iteration yielded, never ``len()`` of a
            # subclass (a longer one would hand CFArrayCreate NULL slots).
            start = len(self.owned)
            values = [self.build(item) for item in value]
            ref = cf.CFArrayCreate(_NULL, values, len(values), rt.array_callbacks)
            self._release_from(start)
            return self._own(ref)
        raise _refuse("value", value)  # unreachable after validate()

    def _build_mapping(self, value: Mapping[object, object]) -> Any:
        rt = self.rt
        items = list(value.items())
        count = len(items)
        # One array: keys in the first half, values in the second.
        refs = ffi.new("CFTypeRef[]", 2 * count)
        start = len(self.owned)
        build = self.build
        index = count
        for key, item in items:
            refs[index - count] = build(key)
            refs[index] = build(item)
            index += 1
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
        self._builder: _Builder | None = None

    def __enter__(self) -> Any:
        builder = self._builder = _Builder(runtime())
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


def convert(value: object, path: str = "") -> tuple[Any, _Builder]:
    """``value`` as a CF reference, and the builder that owns what was created.

    The function form of :func:`converted`, the general path of the SecItem
    calls (after :func:`flat` declined): ``value`` is validated first (before
    the library is loaded); the caller must call ``builder.release()`` (in a
    ``finally``) once the reference is no longer needed.
    """
    validate(value, path)
    builder = _Builder(runtime())
    try:
        return builder.build(value), builder
    except BaseException:
        builder.release()
        raise


# --------------------------------------------------------------------------
# CF -> Python


def to_python(ref: Any) -> object:
    """Convert a CF reference that the caller keeps owning (nothing is released).

    Opaque objects come back as :class:`CFObject` subclasses holding their own
    new reference.
    """
    return _to_python(runtime(), ref)


def _to_python(rt: _Runtime, ref: Any) -> object:
    type_id = rt.CFGetTypeID(ref)
    converter = rt.converters.get(type_id)
    if converter is not None:
        return converter(rt, ref)
    return _opaque_out(rt, ref, type_id)


def _opaque_out(rt: _Runtime, ref: Any, type_id: int) -> CFObject:
    cls = rt.opaque.get(type_id, CFObject)
    return cls._adopt(rt.CFRetain(ref))


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


def _string_out(rt: _Runtime, ref: Any) -> str:
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
    return _long_string_out(rt, ref, length)


def _long_string_out(rt: _Runtime, ref: Any, length: int) -> str:
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


def _data_out(rt: _Runtime, ref: Any) -> bytes:
    length = rt.CFDataGetLength(ref)
    if length == 0:
        return b""
    return ffi.buffer(rt.CFDataGetBytePtr(ref), length)[:]  # type: ignore[no-any-return]


def _boolean_out(rt: _Runtime, ref: Any) -> bool:
    # kCFBooleanTrue / kCFBooleanFalse are singletons: compare pointers first.
    if ref == rt.true:
        return True
    if ref == rt.false:
        return False
    return bool(rt.cf.CFBooleanGetValue(ref))


def _number_out(rt: _Runtime, ref: Any) -> int | float:
    cf = rt.cf
    scratch = _scratch
    if not cf.CFNumberIsFloatType(ref):
        integer = scratch.int64
        if cf.CFNumberGetValue(ref, kCFNumberSInt64Type, integer):
            return int(integer[0])
    real = scratch.double
    cf.CFNumberGetValue(ref, kCFNumberFloat64Type, real)
    return float(real[0])


def _date_out(rt: _Runtime, ref: Any) -> datetime | CFObject:
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


def _array_out(rt: _Runtime, ref: Any) -> list[object]:
    cf = rt.cf
    get = cf.CFArrayGetValueAtIndex
    to_python = _to_python
    result: list[object] = []
    try:
        for index in range(cf.CFArrayGetCount(ref)):
            result.append(to_python(rt, get(ref, index)))
    except BaseException:
        _close_partial(result)  # opaque objects already wrapped: release them now
        raise
    return result


def _close_partial(value: object) -> None:
    """Close every :class:`CFObject` inside a partly converted result."""
    if isinstance(value, CFObject):
        value.close()
    elif isinstance(value, list):
        for item in value:
            _close_partial(item)
    elif isinstance(value, dict):
        for item in value.values():
            _close_partial(item)


def _dictionary_out(rt: _Runtime, ref: Any) -> dict[object, object]:
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
                key = _to_python(rt, key_ref)
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
        _close_partial(result)  # opaque objects already wrapped: release them now
        raise
    return result


def _null_out(rt: _Runtime, ref: Any) -> None:
    return None


def _hashable(value: object) -> object:
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, dict):
        return tuple((key, _hashable(item)) for key, item in value.items())
    return value
