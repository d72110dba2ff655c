"""The Apple-named layer: SecItem functions and every public kSec* constant.

.. warning:: Hazmat.  These are Apple's functions with Apple's dictionaries:
   nothing is checked beyond the conversion of Python values, and the rules of
   the Security framework apply (for instance, on macOS the file-based and the
   data-protection keychains are different stores).  Prefer the typed layer
   (``secitem.Keychain``) unless you need the raw API.

Dictionaries are ``Mapping`` objects keyed by the constants below (or plain
strings with the same characters).  Values convert as documented in
:mod:`secitem._convert`: ``str``, ``bytes``, ``bool``, ``int``, ``float``, aware
``datetime``, ``list``/``tuple``, ``dict`` and the opaque objects this module
returns (:class:`AccessControl`, :class:`SecKey`, :class:`SecCertificate`,
:class:`SecIdentity` and friends; ``Key``, ``Certificate`` and ``Identity`` are
deprecated aliases of those three, kept for one release).  A value of any other type is a
``TypeError`` naming its key, raised before any native call.  Failures raise
:class:`secitem.KeychainError` or a subclass carrying the OSStatus; a status
is never returned.

Dictionaries that come back are keyed by the same constants, so
``result[kSecAttrAccount]`` works; keys without a public constant (``"musr"``,
``"sha1"`` ...) stay plain ``str``.

The first call loads the Security library (see :mod:`secitem._ffi`).  The four
SecItem calls are serialized by one process-wide lock, as Apple advises for
macOS; values are converted outside the lock.
"""

from __future__ import annotations

from collections.abc import Mapping

from secitem import _deadline, _legacy, _secaccess, _seckey, constants
from secitem._cfobjects import (
    AccessControl,
    Certificate,  # deprecated alias of SecCertificate (one release)
    CFObject,
    Identity,  # deprecated alias of SecIdentity (one release)
    Key,  # deprecated alias of SecKey (one release)
    KeychainItemRef,
    SecCertificate,
    SecIdentity,
    SecKey,
)
from secitem._convert import converted, dictionary, require_mapping
from secitem._ffi import ffi
from secitem._from_cf import from_cf
from secitem._legacy import *  # noqa: F403  (SecKeychain*Password, SecKeychainItem*: macOS only)
from secitem._runtime import runtime
from secitem._secaccess import *  # noqa: F403  (SecAccess*, SecACL*, SecTrustedApplication*, SecCode*)
from secitem._seckey import *  # noqa: F403  (SecKey*, SecCertificate*, SecIdentity*, SecPKCS12Import)
from secitem.constants import *  # noqa: F403  (every public kSec* name)
from secitem.errors import check, error_for_status

# typing is only needed by type checkers: keep it off the import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

__all__ = [
    "AccessControl",
    "CFObject",
    "Certificate",
    "Identity",
    "Key",
    "KeychainItemRef",
    "SecAccessControlCreateWithFlags",
    "SecCertificate",
    "SecIdentity",
    "SecItemAdd",
    "SecItemCopyMatching",
    "SecItemDelete",
    "SecItemUpdate",
    "SecKey",
]
__all__ += constants.__all__
__all__ += _seckey.__all__
__all__ += _legacy.__all__
__all__ += _secaccess.__all__

_NULL: Final[Any] = ffi.NULL
errSecParam: Final = -50

# Deadline-aware (Keychain(timeout=...), secitem.aio): see secitem._deadline.
_call_lock: Final = _deadline.CallLock()
_RESULT_TYPE: Final = ffi.typeof("CFTypeRef *")


def _asks_for_result(attributes: Mapping[object, object]) -> bool:
    # Four lookups, not a scan: a plain-string key ("r_Data") is found too.
    get = attributes.get
    return bool(
        get(constants.kSecReturnData)
        or get(constants.kSecReturnAttributes)
        or get(constants.kSecReturnPersistentRef)
        or get(constants.kSecReturnRef)
    )


def _finish(rt: Any, status: int, result: Any, wanted: bool) -> object | None:
    """Check ``status`` and convert ``result`` (+1) if wanted; always release it."""
    if result == _NULL:
        check(status)
        return None
    try:
        check(status)
        if not wanted:
            return None
        return from_cf(rt, result)
    finally:
        rt.CFRelease(result)


def SecItemAdd(attributes: Mapping[Any, object]) -> object | None:
    """Add an item; return the ``result`` Apple produces if a kSecReturn* key asks for it.

    Without a (true) kSecReturn* key the result is ``None``; whatever the
    library hands back anyway (the macOS file-based keychain returns the new
    item's reference) is released.  Raises :class:`secitem.DuplicateItemError`
    if an item with the same primary key exists.
    """
    query = attributes if type(attributes) is dict else require_mapping(attributes, "attributes")
    wanted = _asks_for_result(query)
    rt, ref, release = dictionary(query, "attributes")
    out = ffi.new(_RESULT_TYPE)  # NULL: Apple may leave it untouched
    try:
        with _call_lock:
            status = rt.sec.SecItemAdd(ref, out)
    finally:
        release(ref)
    return _finish(rt, status, out[0], wanted)


def SecItemCopyMatching(query: Mapping[Any, object]) -> object:
    """Search; return ``result`` shaped as Apple shapes it.

    ``bytes`` (kSecReturnData), a ``dict`` (attributes, or several return
    keys), a :class:`CFObject` (kSecReturnRef), a ``list`` of those with a match
    limit above one, or ``None`` when the library produces no object (no
    kSecReturn* key on the data-protection keychain).  Raises
    :class:`secitem.ItemNotFoundError` when nothing matches.
    """
    rt, ref, release = dictionary(query, "query")
    out = ffi.new(_RESULT_TYPE)  # NULL: Apple may leave it untouched
    try:
        with _call_lock:
            status = rt.sec.SecItemCopyMatching(ref, out)
    finally:
        release(ref)
    return _finish(rt, status, out[0], True)


def SecItemUpdate(query: Mapping[Any, object], attributes_to_update: Mapping[Any, object]) -> None:
    """Change the items matching ``query`` to have ``attributes_to_update``.

    Raises :class:`secitem.ItemNotFoundError` when nothing matches and
    :class:`secitem.DuplicateItemError` when the change would collide.
    """
    if type(query) is not dict:  # (a dict needs no call to say so)
        require_mapping(query, "query")
    # The changes first (``dictionary`` checks they are a mapping): a bad one
    # is named before the query is built.
    rt, changes_ref, release_changes = dictionary(attributes_to_update, "attributes_to_update")
    try:
        _, query_ref, release_query = dictionary(query, "query")
        try:
            with _call_lock:
                status = rt.sec.SecItemUpdate(query_ref, changes_ref)
        finally:
            release_query(query_ref)
    finally:
        release_changes(changes_ref)
    check(status)


def SecItemDelete(query: Mapping[Any, object]) -> None:
    """Delete the items matching ``query`` (on the macOS file-based keychain: the
    first one unless kSecMatchLimit says otherwise).

    Raises :class:`secitem.ItemNotFoundError` when nothing matches.
    """
    rt, ref, release = dictionary(query, "query")
    try:
        with _call_lock:
            status = rt.sec.SecItemDelete(ref)
    finally:
        release(ref)
    check(status)


def SecAccessControlCreateWithFlags(protection: object, flags: int) -> AccessControl:
    """Create an access control for kSecAttrAccessControl.

    ``protection`` is a kSecAttrAccessible* value (for example
    ``kSecAttrAccessibleWhenUnlockedThisDeviceOnly``); ``flags`` combines
    ``kSecAccessControl*`` flags with ``|`` (0 = no constraint).  A rejected
    combination raises the :class:`secitem.KeychainError` subclass for the
    CFError's code (usually :class:`secitem.ParamError`).  Close the returned
    object when done with it (or let the garbage collector release it).
    """
    if isinstance(flags, bool) or not isinstance(flags, int):
        raise TypeError(f"flags: expected an int, got {type(flags).__name__}")
    if not 0 <= flags < (1 << 64):
        raise ValueError("flags: SecAccessControlCreateFlags is an unsigned 64-bit value")
    with converted(protection, "protection") as protection_ref:
        error = ffi.new("CFErrorRef *")  # NULL: an existing value would be consumed
        rt = runtime()
        ref = rt.sec.SecAccessControlCreateWithFlags(_NULL, protection_ref, flags, error)
    failure = error[0]
    status = errSecParam
    if failure != _NULL:
        try:
            status = int(rt.cf.CFErrorGetCode(failure))
        finally:
            rt.CFRelease(failure)
    if ref == _NULL:
        raise error_for_status(status or errSecParam)
    return AccessControl._adopt(ref)
