"""The CoreFoundation object wrappers: :class:`CFObject` and one subclass per Security type.

An object owns one reference: it is released by :meth:`CFObject.close` (or
``with``), else by the garbage collector.  These classes sit below the loaded
runtime in the import graph (:mod:`secitem._runtime` maps type IDs to them);
the runtime binds itself here when it loads (:func:`bind`), and an object can
only exist once a native call has made it, so the methods always find it.
Re-exported by :mod:`secitem.security` (``CFObject``, ``AccessControl``,
``SecKey``, ``SecCertificate``, ``SecIdentity``, ``KeychainItemRef``).  ``Key``,
``Certificate`` and ``Identity`` are deprecated aliases of the three ``Sec*``
classes (they clashed with the typed :class:`secitem.Key` and friends); they
will be removed in the next release.
"""

from __future__ import annotations

import threading

from secitem._ffi import ffi
from secitem._plain import PLAIN_TYPES

# typing is only needed by type checkers: keep it off the import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, Final, Self

__all__ = [
    "ACL",
    "OPAQUE_TYPES",
    "PLAIN_TYPES",
    "Access",
    "AccessControl",
    "CFObject",
    "Certificate",
    "Code",
    "Identity",
    "Key",
    "KeychainItemRef",
    "SecCertificate",
    "SecIdentity",
    "SecKey",
    "TrustedApplication",
    "bind",
    "close_all",
]


class _Bound:
    """The loaded runtime, as :func:`bind` left it."""

    __slots__ = ("rt",)

    def __init__(self) -> None:
        self.rt: Any = None


_bound: Final = _Bound()


def bind(rt: Any) -> None:
    """Called once by :func:`secitem._runtime.runtime` with the loaded runtime."""
    _bound.rt = rt


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
    def _adopt(cls, ref: Any, rt: Any = None) -> Self:
        """Wrap ``ref``, taking over one reference that the caller owns (+1).

        ``rt`` is the runtime whose library made ``ref`` (default: the loaded one).
        """
        obj = object.__new__(cls)
        obj._hash = None  # CFHash on first use (most objects are never hashed)
        obj._ref = ffi.gc(ref, (rt or _bound.rt).release)
        return obj

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has released the reference."""
        return self._ref is None

    @property
    def type_id(self) -> int:
        """The object's CFTypeID (a run-time value; compare with the *GetTypeID functions)."""
        with _CLOSE_LOCK:  # not while another thread closes it
            return int(_bound.rt.CFGetTypeID(self._live_ref()))

    def _live_ref(self) -> Any:
        ref = self._ref
        if ref is None:
            raise ValueError(f"{type(self).__name__} is closed")
        return ref

    def _retained_ref(self) -> Any:
        """A new +1 reference to the object (for passing it into a call)."""
        with _CLOSE_LOCK:
            return _bound.rt.CFRetain(self._live_ref())

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
            return bool(_bound.rt.CFEqual(self._ref, other._ref))

    def __hash__(self) -> int:
        value = self._hash
        if value is None:
            with _CLOSE_LOCK:
                value = self._hash
                if value is None:
                    ref = self._ref
                    # A closed object equals only itself: any stable value will do.
                    value = int(_bound.rt.CFHash(ref)) if ref is not None else id(self) >> 4
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


class SecKey(CFObject):
    """A SecKeyRef (kSecReturnRef on kSecClassKey items)."""

    __slots__ = ()
    cf_type_name = "SecKey"


class SecCertificate(CFObject):
    """A SecCertificateRef (kSecReturnRef on kSecClassCertificate items)."""

    __slots__ = ()
    cf_type_name = "SecCertificate"


class SecIdentity(CFObject):
    """A SecIdentityRef (kSecReturnRef on kSecClassIdentity items)."""

    __slots__ = ()
    cf_type_name = "SecIdentity"


#: Deprecated aliases (one release): the names clashed with the typed
#: :class:`secitem.Key`, :class:`secitem.Certificate` and :class:`secitem.Identity`.
Key = SecKey
Certificate = SecCertificate
Identity = SecIdentity


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

#: The *GetTypeID function of each Security type and the class that wraps it.
OPAQUE_TYPES: Final[tuple[tuple[str, type[CFObject]], ...]] = (
    ("SecAccessControlGetTypeID", AccessControl),
    ("SecKeyGetTypeID", SecKey),
    ("SecCertificateGetTypeID", SecCertificate),
    ("SecIdentityGetTypeID", SecIdentity),
    ("SecKeychainItemGetTypeID", KeychainItemRef),  # macOS only
    ("SecAccessGetTypeID", Access),  # macOS only, as the three below
    ("SecACLGetTypeID", ACL),
    ("SecTrustedApplicationGetTypeID", TrustedApplication),
    ("SecCodeGetTypeID", Code),
)


def close_all(value: object) -> None:
    """Close every :class:`CFObject` inside a (partly) converted result.

    Values of the :data:`~secitem._plain.PLAIN_TYPES` hold no CF object: skipped.
    """
    if type(value) in PLAIN_TYPES:
        return
    if isinstance(value, CFObject):
        value.close()
    elif isinstance(value, list | tuple):
        for item in value:
            close_all(item)
    elif isinstance(value, dict):
        for item in value.values():
            close_all(item)
