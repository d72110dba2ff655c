"""The legacy macOS password calls (SecKeychain.h, SecKeychainItem.h) under Apple's names.

Re-exported by :mod:`secitem.security`; see ``docs/binding.md``.  Apple
deprecated them in macOS 10.10 and never shipped them on iOS; they exist here
because published code still calls them, and because they read and write the
same file-based keychain as ``SecItem*`` on macOS: an item added one way is
found the other way.

The wrappers take Python values: names are ``str`` (UTF-8) or ``bytes`` (sent
as they are; Apple's names are byte strings with a length, not C strings),
``None`` for "not given"; passwords are bytes-like.  The lengths are taken from
the encoded bytes, never from ``len()`` of the argument.  A password comes back
as ``bytes`` (the framework's buffer is freed with
``SecKeychainItemFreeContent`` before the call returns) and an item as a
:class:`~secitem._cfobjects.KeychainItemRef` (close it, or use ``with``).  A failure
raises the typed :class:`secitem.KeychainError` for its OSStatus.  Where the
Security library lacks the functions (iOS), every call raises
:class:`secitem.KeychainError` with errSecUnimplemented (-4).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from secitem import _runtime
from secitem._cfobjects import KeychainItemRef
from secitem._ffi import ffi
from secitem.errors import check, error_for_status

# typing is only needed by type checkers: keep it off the import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

__all__ = [
    "SecKeychainAddGenericPassword",
    "SecKeychainAddInternetPassword",
    "SecKeychainFindGenericPassword",
    "SecKeychainFindInternetPassword",
    "SecKeychainItemDelete",
    "SecKeychainItemFreeContent",
    "SecKeychainItemModifyAttributesAndData",
]

_NULL: Final[Any] = ffi.NULL
_UINT32_MAX: Final = 0xFFFFFFFF


def _code(chars: str) -> int:
    """A FourCharCode: the big-endian packing of four Mac OS Roman characters."""
    return int.from_bytes(chars.encode("mac_roman"), "big")


def _auth_code(chars: str) -> int:
    """A SecAuthenticationType: AUTH_TYPE_FIX_ swaps the bytes on little-endian
    Macs, so the value's bytes *in memory* spell the code (seckey-facts 6.2)."""
    return int.from_bytes(chars.encode("mac_roman"), sys.byteorder)


# SecProtocolType (SecKeychain.h): plain big-endian four-char codes.
_PROTOCOLS: Final = (
    ("FTP", "ftp "), ("FTPAccount", "ftpa"), ("HTTP", "http"), ("IRC", "irc "),
    ("NNTP", "nntp"), ("POP3", "pop3"), ("SMTP", "smtp"), ("SOCKS", "sox "),
    ("IMAP", "imap"), ("LDAP", "ldap"), ("AppleTalk", "atlk"), ("AFP", "afp "),
    ("Telnet", "teln"), ("SSH", "ssh "), ("FTPS", "ftps"), ("HTTPS", "htps"),
    ("HTTPProxy", "htpx"), ("HTTPSProxy", "htsx"), ("FTPProxy", "ftpx"),
    ("CIFS", "cifs"), ("SMB", "smb "), ("RTSP", "rtsp"), ("RTSPProxy", "rtsx"),
    ("DAAP", "daap"), ("EPPC", "eppc"), ("IPP", "ipp "), ("NNTPS", "ntps"),
    ("LDAPS", "ldps"), ("TelnetS", "tels"), ("IMAPS", "imps"), ("IRCS", "ircs"),
    ("POP3S", "pops"), ("CVSpserver", "cvsp"), ("SVN", "svn "),
)  # fmt: skip
# SecAuthenticationType (SecKeychain.h): byte-swapped on little-endian Macs.
_AUTH_TYPES: Final = (
    ("NTLM", "ntlm"), ("MSN", "msna"), ("DPA", "dpaa"), ("RPA", "rpaa"),
    ("HTTPBasic", "http"), ("HTTPDigest", "httd"), ("HTMLForm", "form"),
    ("Default", "dflt"),
)  # fmt: skip

#: ``kSecProtocolType<Name>`` -> value, ``kSecProtocolTypeAny`` = 0.
PROTOCOL_TYPES: Final[dict[str, int]] = {
    "kSecProtocolTypeAny": 0,
    **{f"kSecProtocolType{name}": _code(chars) for name, chars in _PROTOCOLS},
}
#: ``kSecAuthenticationType<Name>`` -> value, ``kSecAuthenticationTypeAny`` = 0.
AUTHENTICATION_TYPES: Final[dict[str, int]] = {
    "kSecAuthenticationTypeAny": 0,
    **{f"kSecAuthenticationType{name}": _auth_code(chars) for name, chars in _AUTH_TYPES},
}
globals().update(PROTOCOL_TYPES)
globals().update(AUTHENTICATION_TYPES)
__all__ += [*PROTOCOL_TYPES, *AUTHENTICATION_TYPES]


# --------------------------------------------------------------------------
# Helpers


#: The message where the library lacks a function (see _runtime.optional_function).
_MISSING: Final = (
    "{name} is not available in this Security library (the SecKeychain "
    "password calls exist on macOS only): use SecItemAdd / SecItemCopyMatching"
)


def _function(rt: Any, name: str) -> Any:
    """The native function, or errSecUnimplemented where the library lacks it (iOS)."""
    return _runtime.optional_function(rt, name, _MISSING)


def _buffer(value: object, what: str, *, text: bool = True) -> tuple[int, Any]:
    """(length, char buffer or NULL): ``None`` as NULL, bytes-like as is, and
    (for a name, ``text``) ``str`` as UTF-8."""
    if value is None:
        return 0, _NULL
    if text and isinstance(value, str):
        raw = str.encode(value, "utf-8")  # a subclass cannot substitute its bytes
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raw = memoryview(value).tobytes()
    else:
        expected = "str, bytes or None" if text else "bytes"
        raise TypeError(f"{what}: expected {expected}, got {type(value).__name__}")
    if len(raw) > _UINT32_MAX:
        raise ValueError(f"{what}: longer than a UInt32 length allows")
    # A buffer of exactly those bytes (cffi adds a NUL, which is not counted).
    return len(raw), ffi.new("char[]", raw)


def _password(value: object) -> tuple[int, Any]:
    return _buffer(value, "password", text=False)


def _uint(value: object, bits: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what}: expected an int, got {type(value).__name__}")
    number = int.__int__(value)
    if not 0 <= number < (1 << bits):
        raise ValueError(f"{what}: {number} is not a {bits}-bit unsigned value")
    return number


def _no_keychain(value: object, what: str) -> None:
    # There is no SecKeychainRef in this binding: only the default keychain
    # (NULL) or default search list can be named.
    if value is not None:
        raise TypeError(f"{what}: only None (the default keychain / search list) is supported")


def _item(value: object) -> KeychainItemRef:
    if not isinstance(value, KeychainItemRef):
        raise TypeError(f"item: expected a KeychainItemRef, got {type(value).__name__}")
    return value


def _call_lock() -> Any:
    from secitem import security

    return security._call_lock


def _add(name: str, arguments: tuple[Any, ...]) -> KeychainItemRef:
    """``name(NULL, *arguments, &item)`` (an Add call): the new item, adopted."""
    rt = _runtime.runtime()
    function = _function(rt, name)
    ref = ffi.new("SecKeychainItemRef *")
    with _call_lock():
        status = function(_NULL, *arguments, ref)
    if ref[0] != _NULL:
        item = KeychainItemRef._adopt(ref[0])
        if status != 0:
            item.close()
    check(status)
    if ref[0] == _NULL:  # pragma: no cover - the framework always returns the item
        raise error_for_status(-50)
    return item


def _find(
    name: str, arguments: tuple[Any, ...], password: bool, item: bool
) -> tuple[bytes | None, KeychainItemRef | None]:
    """``name(NULL, *arguments, &length, &data, &item)`` (a Find call), with NULL
    for the out-parameters not asked for: the password copied out (the
    framework's buffer freed), the item adopted (+1)."""
    rt = _runtime.runtime()
    function = _function(rt, name)
    length = ffi.new("UInt32 *") if password else _NULL
    data = ffi.new("void **") if password else _NULL
    ref = ffi.new("SecKeychainItemRef *") if item else _NULL
    with _call_lock():
        status = function(_NULL, *arguments, length, data, ref)
    secret: bytes | None = None
    found: KeychainItemRef | None = None
    try:
        if data != _NULL and data[0] != _NULL:
            try:
                if status == 0:
                    secret = bytes(ffi.buffer(data[0], length[0]))
            finally:
                rt.sec.SecKeychainItemFreeContent(_NULL, data[0])
        if ref != _NULL and ref[0] != _NULL:
            found = KeychainItemRef._adopt(ref[0])
        check(status)
    except BaseException:
        if found is not None:
            found.close()
        raise
    return secret, found


def _item_call(name: str, target: KeychainItemRef, *arguments: Any) -> None:
    """``name(item, *arguments)``, checked, on a +1 reference held for the call
    (a concurrent close cannot free it)."""
    rt = _runtime.runtime()
    function = _function(rt, name)
    ref = target._retained_ref()
    try:
        with _call_lock():
            status = function(ffi.cast("SecKeychainItemRef", ref), *arguments)
    finally:
        rt.CFRelease(ref)
    check(status)


# --------------------------------------------------------------------------
# The calls


def SecKeychainAddGenericPassword(
    keychain: None, service: str | bytes | None, account: str | bytes | None, password: bytes | None
) -> KeychainItemRef:
    """Add a generic password to the default keychain; return its item (close it).

    ``service`` and ``account`` may be ``None`` (not set).  The label is set to
    the service and the creator to ``'aapl'``, as Apple's implementation does.
    Raises :class:`secitem.DuplicateItemError` if the account/service pair exists.
    """
    _no_keychain(keychain, "keychain")
    names = (*_buffer(service, "service"), *_buffer(account, "account"))
    return _add("SecKeychainAddGenericPassword", (*names, *_password(password)))


def SecKeychainFindGenericPassword(
    keychain_or_array: None,
    service: str | bytes | None,
    account: str | bytes | None,
    *,
    password: bool = True,
    item: bool = True,
) -> tuple[bytes | None, KeychainItemRef | None]:
    """The first generic password of the default search list matching the names.

    Returns ``(password, item)``.  ``password=False`` or ``item=False`` pass
    NULL for that out-parameter (the secret is then not read) and give
    ``None`` in its place.  Raises :class:`secitem.ItemNotFoundError`.
    """
    _no_keychain(keychain_or_array, "keychain_or_array")
    names = (*_buffer(service, "service"), *_buffer(account, "account"))
    return _find("SecKeychainFindGenericPassword", names, password, item)


def _internet_names(
    server: object, security_domain: object, account: object, path: object
) -> tuple[Any, ...]:
    """The four (length, buffer) pairs of an internet password's names, flattened."""
    return (
        *_buffer(server, "server"),
        *_buffer(security_domain, "security_domain"),
        *_buffer(account, "account"),
        *_buffer(path, "path"),
    )


def _internet_numbers(
    port: object, protocol: object, authentication_type: object
) -> tuple[int, ...]:
    """Port (UInt16), protocol and authentication type (UInt32), checked."""
    return (
        _uint(port, 16, "port"),
        _uint(protocol, 32, "protocol"),
        _uint(authentication_type, 32, "authentication_type"),
    )


def SecKeychainAddInternetPassword(
    keychain: None,
    server: str | bytes | None,
    security_domain: str | bytes | None,
    account: str | bytes | None,
    path: str | bytes | None,
    port: int,
    protocol: int,
    authentication_type: int,
    password: bytes | None,
) -> KeychainItemRef:
    """Add an internet password to the default keychain; return its item (close it).

    ``protocol`` is a ``kSecProtocolType*`` value and ``authentication_type`` a
    ``kSecAuthenticationType*`` value (both defined here; 0 = none).  Port,
    protocol and authentication type are always stored; the label is the server.
    """
    _no_keychain(keychain, "keychain")
    names = _internet_names(server, security_domain, account, path)
    numbers = _internet_numbers(port, protocol, authentication_type)
    return _add("SecKeychainAddInternetPassword", (*names, *numbers, *_password(password)))


def SecKeychainFindInternetPassword(
    keychain_or_array: None,
    server: str | bytes | None,
    security_domain: str | bytes | None,
    account: str | bytes | None,
    path: str | bytes | None,
    port: int = 0,
    protocol: int = 0,
    authentication_type: int = 0,
    *,
    password: bool = True,
    item: bool = True,
) -> tuple[bytes | None, KeychainItemRef | None]:
    """The first internet password matching; ``(password, item)`` as for generic ones.

    ``None`` names, port 0, ``kSecProtocolTypeAny`` and
    ``kSecAuthenticationTypeAny`` match anything.  The path is matched as a C
    string (Apple reads it up to its NUL), so it must not contain NUL.
    """
    _no_keychain(keychain_or_array, "keychain_or_array")
    names = _internet_names(server, security_domain, account, path)
    path_len, path_buf = names[6:]  # the last (length, buffer) pair
    if path_buf != _NULL and b"\0" in ffi.buffer(path_buf, path_len):
        raise ValueError("path: contains NUL, but Apple matches the path as a C string")
    numbers = _internet_numbers(port, protocol, authentication_type)
    return _find("SecKeychainFindInternetPassword", (*names, *numbers), password, item)


def _attribute_tag(key: object) -> int:
    if isinstance(key, str):
        raw = str.encode(key, "mac_roman") if len(key) == 4 else b""
        if len(raw) != 4:
            raise ValueError(f"attributes: {key!r} is not a four-character SecItemAttr code")
        return int.from_bytes(raw, "big")
    return _uint(key, 32, "attributes key")


def SecKeychainItemModifyAttributesAndData(
    item: KeychainItemRef,
    attributes: Mapping[str | int, bytes | int] | None,
    data: bytes | None,
) -> None:
    """Change an item's attributes and/or its password (``None`` = unchanged).

    ``attributes`` maps SecItemAttr codes (``"labl"``, ``"acct"``, or the
    UInt32 value) to raw bytes (strings without NUL) or to an ``int`` for the
    numeric attributes (sent as a 4-byte host-order UInt32, as Apple reads
    them).  Raises :class:`secitem.DuplicateItemError` on a collision.
    """
    target = _item(item)
    rows: list[tuple[int, bytes]] = []
    if attributes is not None:
        if not isinstance(attributes, Mapping):
            raise TypeError(
                f"attributes: expected a mapping or None, got {type(attributes).__name__}"
            )
        for key, value in attributes.items():
            tag = _attribute_tag(key)
            if isinstance(value, int) and not isinstance(value, bool):
                raw = _uint(value, 32, f"attributes[{key!r}]").to_bytes(4, sys.byteorder)
            elif isinstance(value, (bytes, bytearray, memoryview)):
                raw = memoryview(value).tobytes()
            else:
                raise TypeError(
                    f"attributes[{key!r}]: expected bytes or int, got {type(value).__name__}"
                )
            rows.append((tag, raw))
    data_len, data_buf = _password(data)
    keep: list[Any] = []
    attr_list = _NULL
    if attributes is not None:
        array = ffi.new("SecKeychainAttribute[]", max(1, len(rows)))
        for i, (tag, raw) in enumerate(rows):
            buffer = ffi.new("char[]", raw)
            keep.append(buffer)
            array[i].tag = tag
            array[i].length = len(raw)
            array[i].data = buffer
        attr_list = ffi.new("SecKeychainAttributeList *")
        attr_list.count = len(rows)
        attr_list.attr = array
        keep.append(array)
    _item_call("SecKeychainItemModifyAttributesAndData", target, attr_list, data_len, data_buf)


def SecKeychainItemDelete(item: KeychainItemRef) -> None:
    """Delete the item from its keychain (the reference stays yours to close)."""
    _item_call("SecKeychainItemDelete", _item(item))


def SecKeychainItemFreeContent(attr_list: None = None, data: None = None) -> None:
    """Present for name parity: the wrappers above already free every buffer the
    framework hands out (with this function) before they return, so there is
    never anything left to free.  Only ``None`` arguments are accepted."""
    if attr_list is not None or data is not None:
        raise TypeError("SecKeychainItemFreeContent: the wrappers free their buffers; pass nothing")
    rt = _runtime.runtime()
    function = _function(rt, "SecKeychainItemFreeContent")
    check(function(_NULL, _NULL))
