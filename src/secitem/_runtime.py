"""The loaded runtime: the libraries, opened once, with everything cached at load.

One lock and one double-checked load (:func:`runtime`; :func:`load` for the
libraries alone): the first use opens the libraries (:func:`secitem._ffi.open_libraries`),
binds the CoreFoundation functions the converters call, caches the CF type
IDs (readers from :mod:`secitem._from_cf`, wrapper classes from
:mod:`secitem._cfobjects`), and checks that every public kSec* constant the
library exports has the expected characters.  Nothing here is loaded at
``import secitem``.
"""

from __future__ import annotations

import threading

from secitem._cfobjects import OPAQUE_TYPES, CFObject, bind
from secitem._ffi import Libraries, ffi, kCFStringEncodingUTF8, open_libraries
from secitem._from_cf import converters, read_and_release, string_out
from secitem.constants import PUBLIC_CONSTANTS, SecConstant, key_for
from secitem.errors import KeychainError, KeychainUnavailableError

# typing is only needed by type checkers: keep it off the import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

__all__ = [
    "Runtime",
    "copy_error_message",
    "current",
    "errSecUnimplemented",
    "load",
    "loaded",
    "loaded_runtime",
    "optional_function",
    "runtime",
]

_NULL: Final[Any] = ffi.NULL
errSecUnimplemented: Final = -4

_REQUIRED_SECURITY_FUNCTIONS: Final = (
    "SecItemAdd",
    "SecItemCopyMatching",
    "SecItemUpdate",
    "SecItemDelete",
    "SecAccessControlCreateWithFlags",
)


class Runtime:
    """The loaded libraries with everything cached at load."""

    def __init__(self, libs: Libraries) -> None:
        #: The opened libraries (``cf`` and ``sec``, and the paths).
        self.libraries = libs
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
        for function, cls in OPAQUE_TYPES:
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
    def core_foundation_only(cls, cf: Any, path: str) -> Runtime:
        """A runtime for value conversion alone, on a CoreFoundation library with no
        Security half (no constants, no opaque Security types).

        For tests that run the binding's conversions on Apple's own CF
        (``../shared/reference/apple-cf``); the SecItem calls never use it.
        """
        rt = object.__new__(cls)
        rt.libraries = Libraries(cf, None, (path,))
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
            self.converters: dict[int, Any] = converters(cf)
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
                actual = string_out(self, ref)
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


_lock: Final = threading.Lock()
_libraries: Libraries | None = None
#: The loaded runtime, or ``None`` before the first load (read it, never assign it;
#: :func:`loaded_runtime` returns the same).
current: Runtime | None = None


def load() -> Libraries:
    """Open the libraries on first use (thread-safe) and return them.

    Raises :class:`~secitem.errors.KeychainUnavailableError` naming every
    path tried.  A failure is not cached: a later call tries again.
    """
    libs = _libraries
    if libs is not None:
        return libs
    with _lock:
        return _open_once()


def runtime() -> Runtime:
    """Load the libraries on first use (thread-safe) and return the runtime.

    Raises :class:`~secitem.errors.KeychainUnavailableError` if no library can
    be loaded or the loaded one fails the constant self-check.  A failure is
    not cached: a later call tries again.
    """
    global current
    rt = current
    if rt is not None:
        return rt
    with _lock:
        if current is None:
            rt = Runtime(_open_once())
            bind(rt)
            current = rt
        return current


def _open_once() -> Libraries:
    """The libraries, opened now if they are not yet (call under ``_lock``)."""
    global _libraries
    if _libraries is None:
        _libraries = open_libraries()
    return _libraries


def loaded() -> Libraries | None:
    """The libraries if they are open already, else ``None`` (never loads)."""
    return _libraries


def loaded_runtime() -> Runtime | None:
    """The runtime if it is loaded already, else ``None`` (never loads)."""
    return current


def optional_function(rt: Runtime, name: str, missing: str) -> Any:
    """The Security function ``name``, for the calls a Security library may lack
    (the macOS-only ones: looked up on each call, so the library loads without them).

    Where it is missing: :class:`~secitem.errors.KeychainError` with
    errSecUnimplemented (-4) and the message ``missing``, formatted with
    ``name`` and ``paths`` (the library paths, joined by " and ").
    """
    try:
        return getattr(rt.sec, name)
    except (AttributeError, ffi.error):
        message = missing.format(name=name, paths=" and ".join(rt.paths))
        raise KeychainError(errSecUnimplemented, message) from None


def copy_error_message(status: int) -> str | None:
    """``SecCopyErrorMessageString(status)`` if the library is loaded, else ``None``."""
    rt = current
    if rt is None or not -(1 << 31) <= status < (1 << 31):
        return None
    try:
        ref = rt.sec.SecCopyErrorMessageString(status, _NULL)
    except ffi.error:  # iOS before 11.3
        return None
    if ref == _NULL:
        return None
    return read_and_release(rt, ref, string_out)
