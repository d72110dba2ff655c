"""Access lists, partition lists and code signatures under Apple's names (macOS).

Re-exported by :mod:`secitem.security`; see ``docs/real-macs.md`` and
``docs/binding.md``.  These are the calls Apple's ``security`` tool makes for
``add-generic-password -A`` / ``-T`` and ``set-generic-password-partition-list``
(SecurityTool ``keychain_add.c``, ``access_utils.c``, ``keychain_find.c``),
and the ones that report the running program's code signature
(``SecCodeCopySelf`` / ``SecCodeCopySigningInformation``) and its security
session (``SessionGetInfo``).

They exist on macOS only (the file-based keychain).  Each is looked up on
first call, so a Security library without them still loads; calling one that
is missing raises :class:`secitem.KeychainError` with errSecUnimplemented (-4).

Objects come back as :class:`~secitem._cfobjects.Access`, :class:`~secitem._cfobjects.ACL`,
:class:`~secitem._cfobjects.TrustedApplication` and :class:`~secitem._cfobjects.Code`
(close them, or use ``with``).
"""

from __future__ import annotations

import plistlib
from collections.abc import Sequence

from secitem._cfobjects import ACL, Access, CFObject, Code, KeychainItemRef, TrustedApplication
from secitem._convert import converted
from secitem._ffi import ffi
from secitem._from_cf import from_cf, read_and_release
from secitem._runtime import optional_function, runtime
from secitem.constants import SecConstant
from secitem.errors import KeychainError, check

# typing is only needed by type checkers: keep it off the import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

__all__ = [
    "ACL",
    "Access",
    "Code",
    "SecACLCopyAuthorizations",
    "SecACLCopyContents",
    "SecACLSetContents",
    "SecAccessCopyMatchingACLList",
    "SecAccessCreate",
    "SecCodeCheckValidity",
    "SecCodeCopySelf",
    "SecCodeCopySigningInformation",
    "SecKeychainItemCopyAccess",
    "SecKeychainItemSetAccessWithPassword",
    "SecTrustedApplicationCopyData",
    "SecTrustedApplicationCreateFromPath",
    "SessionGetInfo",
    "TrustedApplication",
    "callerSecuritySession",
    "errSecCSUnsigned",
    "kSecCSDefaultFlags",
    "kSecCSSigningInformation",
    "kSecCodeSignatureAdhoc",
    "kSecCodeSignatureLinkerSigned",
    "kSecCodeSignatureRuntime",
    "partition_list_from_description",
    "partition_list_to_description",
    "sessionHasGraphicAccess",
    "sessionHasTTY",
    "sessionIsRemote",
]

_NULL: Final[Any] = ffi.NULL
errSecParam: Final = -50
errSecCSUnsigned: Final = -67062

# kSecACLAuthorization* (SecAccess.h; facts 1.3): CFString values.
_AUTHORIZATIONS: Final = (
    "Any",
    "Login",
    "GenKey",
    "Delete",
    "ExportWrapped",
    "ExportClear",
    "ImportWrapped",
    "ImportClear",
    "Sign",
    "Encrypt",
    "Decrypt",
    "MAC",
    "Derive",
    "KeychainCreate",
    "KeychainDelete",
    "KeychainItemRead",
    "KeychainItemInsert",
    "KeychainItemModify",
    "KeychainItemDelete",
    "ChangeACL",
    "ChangeOwner",
    "PartitionID",
    "Integrity",
)
for _name in _AUTHORIZATIONS:
    globals()[f"kSecACLAuthorization{_name}"] = SecConstant(
        f"kSecACLAuthorization{_name}", f"ACLAuthorization{_name}"
    )
    __all__.append(f"kSecACLAuthorization{_name}")
del _name
kSecACLAuthorizationDecrypt: Final[SecConstant] = globals()["kSecACLAuthorizationDecrypt"]
kSecACLAuthorizationPartitionID: Final[SecConstant] = globals()["kSecACLAuthorizationPartitionID"]

# kSecCodeInfo* dictionary keys (SecCode.h; facts 1.5).
_CODE_INFO: Final = (
    ("MainExecutable", "main-executable"),
    ("Identifier", "identifier"),
    ("Flags", "flags"),
    ("Format", "format"),
    ("Source", "source"),
    ("Unique", "unique"),
    ("DigestAlgorithm", "digest-algorithm"),
    ("PlatformIdentifier", "platform-identifier"),
    ("TeamIdentifier", "teamid"),
    ("EntitlementsDict", "entitlements-dict"),
    ("Certificates", "certificates"),
)
for _name, _value in _CODE_INFO:
    globals()[f"kSecCodeInfo{_name}"] = SecConstant(f"kSecCodeInfo{_name}", _value)
    __all__.append(f"kSecCodeInfo{_name}")
del _name, _value

# SecCSFlags and SecCodeSignatureFlags (CSCommon.h; facts 1.5).
kSecCSDefaultFlags: Final = 0
kSecCSSigningInformation: Final = 1 << 1
kSecCodeSignatureAdhoc: Final = 0x0002
kSecCodeSignatureRuntime: Final = 0x10000
kSecCodeSignatureLinkerSigned: Final = 0x20000

# AuthSession.h
callerSecuritySession: Final = 0xFFFFFFFF
sessionHasGraphicAccess: Final = 0x0010
sessionHasTTY: Final = 0x0020
sessionIsRemote: Final = 0x1000


_MISSING: Final = (
    "{name} is not in the loaded Security library ({paths}); "
    "access lists and code signatures exist on macOS only"
)


def _function(rt: Any, name: str) -> Any:
    """The native function, or errSecUnimplemented where the library lacks it."""
    return optional_function(rt, name, _MISSING)


def _object(value: object, cls: type[CFObject], name: str) -> Any:
    """A +1 reference to a CFObject argument (the caller releases it)."""
    if not isinstance(value, cls):
        raise TypeError(f"{name}: expected a {cls.__name__}, got {type(value).__name__}")
    return value._retained_ref()


def _adopt(rt: Any, ref: Any, name: str) -> Any:
    """The Python value of a +1 reference (released here)."""
    if ref == _NULL:
        raise KeychainError(errSecParam, f"{name} returned NULL")
    return read_and_release(rt, ref, from_cf)


# --------------------------------------------------------------------------
# SecTrustedApplication


def SecTrustedApplicationCreateFromPath(path: str | None) -> TrustedApplication:
    """A trusted application for the program at ``path`` (``None``: this program)."""
    if path is not None and not isinstance(path, str):
        raise TypeError(f"path: expected a str or None, got {type(path).__name__}")
    if path is not None and ("\0" in path or not path):
        raise ValueError("path: an application path must be non-empty and contain no NUL")
    rt = runtime()
    fn = _function(rt, "SecTrustedApplicationCreateFromPath")
    out = ffi.new("SecTrustedApplicationRef *")
    arg = ffi.NULL if path is None else path.encode("utf-8", "surrogateescape")
    check(fn(arg, out))
    app = _adopt(rt, ffi.cast("CFTypeRef", out[0]), "SecTrustedApplicationCreateFromPath")
    assert isinstance(app, TrustedApplication)
    return app


def SecTrustedApplicationCopyData(app: TrustedApplication) -> bytes:
    """The data Apple keeps for a trusted application."""
    rt = runtime()
    fn = _function(rt, "SecTrustedApplicationCopyData")
    ref = _object(app, TrustedApplication, "app")
    try:
        out = ffi.new("CFDataRef *")
        check(fn(ffi.cast("SecTrustedApplicationRef", ref), out))
    finally:
        rt.CFRelease(ref)
    data = _adopt(rt, ffi.cast("CFTypeRef", out[0]), "SecTrustedApplicationCopyData")
    assert isinstance(data, bytes)
    return data


# --------------------------------------------------------------------------
# SecAccess and SecACL


def SecAccessCreate(descriptor: str, trusted_list: Sequence[TrustedApplication] | None) -> Access:
    """A standard access: ``trusted_list`` may read without asking.

    ``None`` trusts the calling program only; an empty list trusts nobody
    (every read asks).  ``descriptor`` is the text of the access dialog.
    """
    if not isinstance(descriptor, str):
        raise TypeError(f"descriptor: expected a str, got {type(descriptor).__name__}")
    if trusted_list is not None:
        trusted_list = list(trusted_list)
        for i, app in enumerate(trusted_list):
            if not isinstance(app, TrustedApplication):
                raise TypeError(
                    f"trusted_list[{i}]: expected a TrustedApplication, got {type(app).__name__}"
                )
    rt = runtime()
    fn = _function(rt, "SecAccessCreate")
    out = ffi.new("SecAccessRef *")
    with converted(descriptor, "descriptor") as desc:
        if trusted_list is None:
            check(fn(desc, ffi.NULL, out))
        else:
            with converted(trusted_list, "trusted_list") as array:
                check(fn(desc, array, out))
    access = _adopt(rt, ffi.cast("CFTypeRef", out[0]), "SecAccessCreate")
    assert isinstance(access, Access)
    return access


def SecAccessCopyMatchingACLList(access: Access, authorization: str) -> list[ACL]:
    """The entries of ``access`` that grant ``authorization`` (a kSecACLAuthorization*)."""
    if not isinstance(authorization, str):
        raise TypeError(f"authorization: expected a str, got {type(authorization).__name__}")
    rt = runtime()
    fn = _function(rt, "SecAccessCopyMatchingACLList")
    ref = _object(access, Access, "access")
    try:
        with converted(authorization, "authorization") as tag:
            array = fn(ffi.cast("SecAccessRef", ref), tag)
    finally:
        rt.CFRelease(ref)
    if array == _NULL:
        return []  # no entry grants it (Access.cpp copySecACLs)
    acls = _adopt(rt, ffi.cast("CFTypeRef", array), "SecAccessCopyMatchingACLList")
    assert isinstance(acls, list)
    return acls


def SecACLCopyAuthorizations(acl: ACL) -> list[str]:
    """The kSecACLAuthorization* strings of one entry, by ascending CSSM tag."""
    rt = runtime()
    fn = _function(rt, "SecACLCopyAuthorizations")
    ref = _object(acl, ACL, "acl")
    try:
        array = fn(ffi.cast("SecACLRef", ref))
    finally:
        rt.CFRelease(ref)
    result = _adopt(rt, ffi.cast("CFTypeRef", array), "SecACLCopyAuthorizations")
    assert isinstance(result, list)
    return [str(s) for s in result]


def SecACLCopyContents(acl: ACL) -> tuple[list[TrustedApplication] | None, str, int]:
    """(application list, description, prompt selector) of one entry.

    The application list is ``None`` for the allow-all form (any application
    passes without asking).  For the partition-ID entry the description is the
    hex of an XML plist (see :func:`partition_list_from_description`).
    """
    rt = runtime()
    fn = _function(rt, "SecACLCopyContents")
    ref = _object(acl, ACL, "acl")
    apps = ffi.new("CFArrayRef *")
    desc = ffi.new("CFStringRef *")
    selector = ffi.new("SecKeychainPromptSelector *")
    try:
        check(fn(ffi.cast("SecACLRef", ref), apps, desc, selector))
    finally:
        rt.CFRelease(ref)
    app_list = None
    if apps[0] != _NULL:
        app_list = _adopt(rt, ffi.cast("CFTypeRef", apps[0]), "SecACLCopyContents")
    text = ""
    if desc[0] != _NULL:
        text = str(_adopt(rt, ffi.cast("CFTypeRef", desc[0]), "SecACLCopyContents"))
    return app_list, text, int(selector[0])


def SecACLSetContents(
    acl: ACL,
    application_list: Sequence[TrustedApplication] | None,
    description: str,
    prompt_selector: int = 0,
) -> None:
    """Replace one entry's contents (in the :class:`Access` it came from).

    ``application_list=None`` is the allow-all form.  Takes effect on an item
    only through :func:`SecKeychainItemSetAccessWithPassword`.
    """
    if not isinstance(description, str):
        raise TypeError(f"description: expected a str, got {type(description).__name__}")
    if not isinstance(prompt_selector, int) or not 0 <= prompt_selector <= 0xFFFF:
        raise ValueError("prompt_selector: expected an int in 0..0xFFFF (a uint16)")
    rt = runtime()
    fn = _function(rt, "SecACLSetContents")
    ref = _object(acl, ACL, "acl")
    try:
        with converted(description, "description") as desc:
            if application_list is None:
                check(fn(ffi.cast("SecACLRef", ref), ffi.NULL, desc, prompt_selector))
            else:
                apps = list(application_list)
                for i, app in enumerate(apps):
                    if not isinstance(app, TrustedApplication):
                        raise TypeError(
                            f"application_list[{i}]: expected a TrustedApplication, "
                            f"got {type(app).__name__}"
                        )
                with converted(apps, "application_list") as array:
                    check(fn(ffi.cast("SecACLRef", ref), array, desc, prompt_selector))
    finally:
        rt.CFRelease(ref)


def partition_list_from_description(description: str) -> list[str]:
    """The partition IDs in a partition-ID entry's description (hex of an XML plist)."""
    try:
        payload = plistlib.loads(bytes.fromhex(description))
    except (ValueError, plistlib.InvalidFileException) as exc:
        raise ValueError(f"description: not a partition list ({exc})") from None
    parts = payload.get("Partitions") if isinstance(payload, dict) else None
    if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
        raise ValueError("description: not a partition list (no Partitions array of strings)")
    return list(parts)


def partition_list_to_description(partitions: Sequence[str]) -> str:
    """The description of a partition-ID entry holding ``partitions``.

    As ``security set-generic-password-partition-list`` builds it
    (CFPropertyListCreateXMLData, then lowercase hex).
    """
    parts = [p for p in partitions]
    for i, p in enumerate(parts):
        if not isinstance(p, str) or not p:
            raise ValueError(f"partitions[{i}]: expected a non-empty str such as 'apple-tool:'")
    return plistlib.dumps({"Partitions": parts}, fmt=plistlib.FMT_XML).hex()


# --------------------------------------------------------------------------
# items


def SecKeychainItemCopyAccess(item: KeychainItemRef) -> Access:
    """The access of a file-based keychain item (kSecReturnRef gives ``item``)."""
    rt = runtime()
    fn = _function(rt, "SecKeychainItemCopyAccess")
    ref = _object(item, KeychainItemRef, "item")
    out = ffi.new("SecAccessRef *")
    try:
        check(fn(ffi.cast("SecKeychainItemRef", ref), out))
    finally:
        rt.CFRelease(ref)
    access = _adopt(rt, ffi.cast("CFTypeRef", out[0]), "SecKeychainItemCopyAccess")
    assert isinstance(access, Access)
    return access


def SecKeychainItemSetAccessWithPassword(
    item: KeychainItemRef, access: Access, password: bytes
) -> None:
    """Give ``item`` the ``access``, authorized by the keychain's password (no dialog).

    A wrong password raises :class:`secitem.AuthFailedError`.
    """
    if not isinstance(password, (bytes, bytearray)):
        raise TypeError(f"password: expected bytes, got {type(password).__name__}")
    secret = bytes(password)
    rt = runtime()
    fn = _function(rt, "SecKeychainItemSetAccessWithPassword")
    item_ref = _object(item, KeychainItemRef, "item")
    try:
        access_ref = _object(access, Access, "access")
        try:
            buffer = ffi.from_buffer(secret)
            check(
                fn(
                    ffi.cast("SecKeychainItemRef", item_ref),
                    ffi.cast("SecAccessRef", access_ref),
                    len(buffer),
                    buffer,
                )
            )
        finally:
            rt.CFRelease(access_ref)
    finally:
        rt.CFRelease(item_ref)


# --------------------------------------------------------------------------
# SecCode and the session


def SecCodeCopySelf(flags: int = kSecCSDefaultFlags) -> Code:
    """This process as code (works for unsigned programs too)."""
    rt = runtime()
    fn = _function(rt, "SecCodeCopySelf")
    out = ffi.new("SecCodeRef *")
    check(fn(flags, out))
    code = _adopt(rt, ffi.cast("CFTypeRef", out[0]), "SecCodeCopySelf")
    assert isinstance(code, Code)
    return code


def SecCodeCopySigningInformation(
    code: Code, flags: int = kSecCSSigningInformation
) -> dict[Any, Any]:
    """The signing dictionary of ``code`` (kSecCodeInfo* keys).

    Unsigned code is no error: its dictionary lacks kSecCodeInfoIdentifier.
    """
    rt = runtime()
    fn = _function(rt, "SecCodeCopySigningInformation")
    ref = _object(code, Code, "code")
    out = ffi.new("CFDictionaryRef *")
    try:
        check(fn(ffi.cast("SecStaticCodeRef", ref), flags, out))
    finally:
        rt.CFRelease(ref)
    info = _adopt(rt, ffi.cast("CFTypeRef", out[0]), "SecCodeCopySigningInformation")
    assert isinstance(info, dict)
    return info


def SecCodeCheckValidity(code: Code, flags: int = kSecCSDefaultFlags) -> None:
    """Raise unless ``code`` is validly signed (errSecCSUnsigned -67062 if unsigned)."""
    rt = runtime()
    fn = _function(rt, "SecCodeCheckValidity")
    ref = _object(code, Code, "code")
    try:
        check(fn(ffi.cast("SecCodeRef", ref), flags, ffi.NULL))
    finally:
        rt.CFRelease(ref)


def SessionGetInfo(session: int = callerSecuritySession) -> tuple[int, int]:
    """(session id, SessionAttributeBits) of a security session (default: the caller's)."""
    rt = runtime()
    fn = _function(rt, "SessionGetInfo")
    sid = ffi.new("SecuritySessionId *")
    bits = ffi.new("SessionAttributeBits *")
    check(fn(session, sid, bits))
    return int(sid[0]), int(bits[0])
