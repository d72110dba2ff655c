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

from secitem._cfobjects import ACL, Access, Code, KeychainItemRef, TrustedApplication
from secitem._convert import Arguments
from secitem._ffi import ffi
from secitem._from_cf import from_cf, read_and_release
from secitem._runtime import optional_function
from secitem.constants import SecConstant
from secitem.errors import KeychainError, check

# typing is only needed by type checkers: keep it off the import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final, TypeVar

    T = TypeVar("T")

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


#: The message where the library lacks a function (see _runtime.optional_function).
_MISSING: Final = (
    "{name} is not in the loaded Security library ({paths}); "
    "access lists and code signatures exist on macOS only"
)


def _adopt(rt: Any, ref: Any, name: str) -> Any:
    """The Python value of a +1 reference (released here)."""
    if ref == _NULL:
        raise KeychainError(errSecParam, f"{name} returned NULL")
    return read_and_release(rt, ref, from_cf)


class _Call(Arguments):
    """One call: the runtime, the function (errSecUnimplemented where the library
    lacks it) and the references of its arguments, released when the block exits."""

    __slots__ = ("fn", "name")

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.fn: Any = optional_function(self.rt, name, _MISSING)

    def copy(self, out_type: str, kind: type[T], *arguments: Any) -> T:
        """``fn(*arguments, &out)``, checked: the Python value of ``out`` (+1, released)."""
        out = ffi.new(out_type)
        check(self.fn(*arguments, out))
        result = _adopt(self.rt, ffi.cast("CFTypeRef", out[0]), self.name)
        assert isinstance(result, kind)
        return result


def _applications(value: Sequence[TrustedApplication], name: str) -> list[TrustedApplication]:
    """``value`` as a list, each item checked to be a :class:`TrustedApplication`."""
    apps = list(value)
    for i, app in enumerate(apps):
        if not isinstance(app, TrustedApplication):
            raise TypeError(f"{name}[{i}]: expected a TrustedApplication, got {type(app).__name__}")
    return apps


# --------------------------------------------------------------------------
# SecTrustedApplication


def SecTrustedApplicationCreateFromPath(path: str | None) -> TrustedApplication:
    """A trusted application for the program at ``path`` (``None``: this program)."""
    if path is not None and not isinstance(path, str):
        raise TypeError(f"path: expected a str or None, got {type(path).__name__}")
    if path is not None and ("\0" in path or not path):
        raise ValueError("path: an application path must be non-empty and contain no NUL")
    with _Call("SecTrustedApplicationCreateFromPath") as call:
        arg = ffi.NULL if path is None else path.encode("utf-8", "surrogateescape")
        return call.copy("SecTrustedApplicationRef *", TrustedApplication, arg)


def SecTrustedApplicationCopyData(app: TrustedApplication) -> bytes:
    """The data Apple keeps for a trusted application."""
    with _Call("SecTrustedApplicationCopyData") as call:
        ref = call.obj(app, TrustedApplication, "app")
        return call.copy("CFDataRef *", bytes, ffi.cast("SecTrustedApplicationRef", ref))


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
        trusted_list = _applications(trusted_list, "trusted_list")
    with _Call("SecAccessCreate") as call:
        desc = call.cf(descriptor, "descriptor")
        apps = ffi.NULL if trusted_list is None else call.cf(trusted_list, "trusted_list")
        return call.copy("SecAccessRef *", Access, desc, apps)


def SecAccessCopyMatchingACLList(access: Access, authorization: str) -> list[ACL]:
    """The entries of ``access`` that grant ``authorization`` (a kSecACLAuthorization*)."""
    if not isinstance(authorization, str):
        raise TypeError(f"authorization: expected a str, got {type(authorization).__name__}")
    with _Call("SecAccessCopyMatchingACLList") as call:
        ref = call.obj(access, Access, "access")
        array = call.fn(ffi.cast("SecAccessRef", ref), call.cf(authorization, "authorization"))
        if array == _NULL:
            return []  # no entry grants it (Access.cpp copySecACLs)
        acls = _adopt(call.rt, ffi.cast("CFTypeRef", array), call.name)
    assert isinstance(acls, list)
    return acls


def SecACLCopyAuthorizations(acl: ACL) -> list[str]:
    """The kSecACLAuthorization* strings of one entry, by ascending CSSM tag."""
    with _Call("SecACLCopyAuthorizations") as call:
        array = call.fn(ffi.cast("SecACLRef", call.obj(acl, ACL, "acl")))
        result = _adopt(call.rt, ffi.cast("CFTypeRef", array), call.name)
    assert isinstance(result, list)
    return [str(s) for s in result]


def SecACLCopyContents(acl: ACL) -> tuple[list[TrustedApplication] | None, str, int]:
    """(application list, description, prompt selector) of one entry.

    The application list is ``None`` for the allow-all form (any application
    passes without asking).  For the partition-ID entry the description is the
    hex of an XML plist (see :func:`partition_list_from_description`).
    """
    with _Call("SecACLCopyContents") as call:
        ref = call.obj(acl, ACL, "acl")
        apps = ffi.new("CFArrayRef *")
        desc = ffi.new("CFStringRef *")
        selector = ffi.new("SecKeychainPromptSelector *")
        check(call.fn(ffi.cast("SecACLRef", ref), apps, desc, selector))
    app_list = None
    if apps[0] != _NULL:
        app_list = _adopt(call.rt, ffi.cast("CFTypeRef", apps[0]), call.name)
    text = ""
    if desc[0] != _NULL:
        text = str(_adopt(call.rt, ffi.cast("CFTypeRef", desc[0]), call.name))
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
    with _Call("SecACLSetContents") as call:
        ref = ffi.cast("SecACLRef", call.obj(acl, ACL, "acl"))
        desc = call.cf(description, "description")
        apps = ffi.NULL
        if application_list is not None:
            apps = call.cf(_applications(application_list, "application_list"), "application_list")
        check(call.fn(ref, apps, desc, prompt_selector))


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
    with _Call("SecKeychainItemCopyAccess") as call:
        ref = call.obj(item, KeychainItemRef, "item")
        return call.copy("SecAccessRef *", Access, ffi.cast("SecKeychainItemRef", ref))


def SecKeychainItemSetAccessWithPassword(
    item: KeychainItemRef, access: Access, password: bytes
) -> None:
    """Give ``item`` the ``access``, authorized by the keychain's password (no dialog).

    A wrong password raises :class:`secitem.AuthFailedError`.
    """
    if not isinstance(password, (bytes, bytearray)):
        raise TypeError(f"password: expected bytes, got {type(password).__name__}")
    secret = bytes(password)
    with _Call("SecKeychainItemSetAccessWithPassword") as call:
        item_ref = ffi.cast("SecKeychainItemRef", call.obj(item, KeychainItemRef, "item"))
        access_ref = ffi.cast("SecAccessRef", call.obj(access, Access, "access"))
        buffer = ffi.from_buffer(secret)
        check(call.fn(item_ref, access_ref, len(buffer), buffer))


# --------------------------------------------------------------------------
# SecCode and the session


def SecCodeCopySelf(flags: int = kSecCSDefaultFlags) -> Code:
    """This process as code (works for unsigned programs too)."""
    with _Call("SecCodeCopySelf") as call:
        return call.copy("SecCodeRef *", Code, flags)


def SecCodeCopySigningInformation(
    code: Code, flags: int = kSecCSSigningInformation
) -> dict[Any, Any]:
    """The signing dictionary of ``code`` (kSecCodeInfo* keys).

    Unsigned code is no error: its dictionary lacks kSecCodeInfoIdentifier.
    """
    with _Call("SecCodeCopySigningInformation") as call:
        ref = ffi.cast("SecStaticCodeRef", call.obj(code, Code, "code"))
        return call.copy("CFDictionaryRef *", dict, ref, flags)


def SecCodeCheckValidity(code: Code, flags: int = kSecCSDefaultFlags) -> None:
    """Raise unless ``code`` is validly signed (errSecCSUnsigned -67062 if unsigned)."""
    with _Call("SecCodeCheckValidity") as call:
        check(call.fn(ffi.cast("SecCodeRef", call.obj(code, Code, "code")), flags, ffi.NULL))


def SessionGetInfo(session: int = callerSecuritySession) -> tuple[int, int]:
    """(session id, SessionAttributeBits) of a security session (default: the caller's)."""
    with _Call("SessionGetInfo") as call:
        sid = ffi.new("SecuritySessionId *")
        bits = ffi.new("SessionAttributeBits *")
        check(call.fn(session, sid, bits))
    return int(sid[0]), int(bits[0])
