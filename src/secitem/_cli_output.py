"""How the item commands show an item: the attribute block of ``security
find-*-password`` (:func:`print_item`, every value through :func:`apple_buffer`),
the password as ``security -w`` prints it (:func:`secret_text`), and the JSON
form of ``find --json`` and ``list --json`` (:func:`json_row`).

Pure formatting: nothing here calls the keychain.
"""

from __future__ import annotations

import datetime as _dt
import enum
import os
from typing import Any, TextIO

from secitem.items import InternetPassword, Item, Synchronizable
from secitem.keychain import Keychain

__all__ = [
    "KEYCHAIN_VERSION",
    "apple_buffer",
    "json_row",
    "keychain_name",
    "print_item",
    "secret_text",
]


def secret_text(data: bytes) -> str:
    """The password as ``security -w`` prints it.

    The bytes themselves when every one is printable ASCII (0x20..0x7E, as C's
    ``isprint``); otherwise the whole password as lowercase hex, two digits a
    byte, so a password with a newline, a tab or any non-ASCII character
    (UTF-8 included) comes out as hex, exactly as Apple's tool prints it.
    """
    if all(0x20 <= byte <= 0x7E for byte in data):
        return data.decode("ascii")
    return data.hex()


# -- the attribute block of `security find-*-password` ------------------------------
#
# Facts from Apple's SecurityTool sources (SecurityTool/macOS/keychain_utilities.c:
# print_keychain_item_attributes, print_buffer, print_uint32) and the schema the
# file-based keychain stores (Schema.m4): every attribute of the class is printed,
# in ascending attribute ID (label = 7 and alias = 8 first, then the four-character
# codes in order), with its stored format; an attribute the item does not have
# prints as <NULL>.

#: Each attribute's stored format (the same in both classes), by its key in the
#: SecItem attribute dictionary, which is also the code printed, except for
#: label and alias: they print as their attribute IDs, 7 and 8.
_FORMATS = {
    **dict.fromkeys(("labl", "alis", "acct", "atyp", "desc", "gena", "icmt"), "blob"),
    **dict.fromkeys(("path", "prot", "sdmn", "srvr", "svce"), "blob"),
    **dict.fromkeys(("cdat", "mdat"), "timedate"),
    **dict.fromkeys(("crtr", "port", "ptcl", "type"), "uint32"),
    **dict.fromkeys(("cusi", "invi", "nega", "scrp"), "sint32"),
}
_NUMBERED = {"labl": 7, "alis": 8}
#: Each class's attributes, in the order printed (ascending attribute ID).
_ATTRIBUTES = {
    "genp": "labl alis acct cdat crtr cusi desc gena icmt invi mdat nega prot scrp svce type",
    "inet": "labl alis acct atyp cdat crtr cusi desc icmt invi mdat nega path port prot ptcl "
    "scrp sdmn srvr type",
}

#: The ``version:`` line: the key blob version of a ``.keychain-db`` keychain
#: (512, macOS 10.12 and later).  secitem cannot ask the keychain for it.
KEYCHAIN_VERSION = 512


def apple_buffer(data: bytes) -> str:
    """``data`` as Apple's ``print_buffer`` writes it (``security``'s one value encoder).

    A byte is plain when it is printable ASCII other than backslash.  If any
    byte is not plain: ``0x`` and every byte as two uppercase hex digits, then
    one space (two when plain bytes follow).  If any byte is plain: the bytes
    in double quotes, each byte that is not plain as a backslash and three
    octal digits (``"`` is not escaped).  Empty data gives an empty string.
    The result is printable ASCII: no byte of an item reaches the terminal.
    """
    plain = [0x20 <= byte <= 0x7E and byte != 0x5C for byte in data]
    out = ""
    if not all(plain):
        out = "0x" + data.hex().upper() + (" " if any(plain) else "") + " "
    if any(plain):
        text = "".join(
            chr(byte) if ok else f"\\{byte:03o}" for byte, ok in zip(data, plain, strict=True)
        )
        out += f'"{text}"'
    return out


def keychain_name(keychain: Keychain) -> str:
    """What the ``keychain:`` line names.

    ``security`` prints the path of the keychain file the item came from;
    that question belongs to the deprecated SecKeychain API, which secitem
    does not bind.  So the line names where the search ran: the emulator's
    store file (``SECSIM_STORE``), the data-protection keychain, or the
    file-based keychains of the default search list.
    """
    store = os.environ.get("SECSIM_STORE")
    if store and os.environ.get("SECITEM_LIBRARY"):
        return store
    if keychain.data_protection:
        return "<data-protection keychain>"
    return "<default search list>"


def print_item(item: Item[Any], out: TextIO, keychain: str) -> None:
    """Print an item as ``security find-*-password`` prints it (without ``-w``)."""
    code = str(item.item_class.value)
    lines = [
        f"keychain: {apple_buffer(os.fsencode(keychain))}",
        f"version: {KEYCHAIN_VERSION}",
        f"class: {apple_buffer(code.encode('ascii'))}",
        "attributes:",
    ]
    for key in _ATTRIBUTES["inet" if code == "inet" else "genp"].split():
        form = _FORMATS[key]
        name = _uint32(_NUMBERED[key] if key in _NUMBERED else _code_bytes(key))
        value = item.raw.get(key)
        shown = "<NULL>" if value is None else apple_buffer(_value_bytes(value, form, key))
        lines.append(f"    {name}<{form}>={shown}")
    print("\n".join(lines), file=out)


def _uint32(value: int | bytes) -> str:
    """Apple's ``print_uint32``: the four big-endian bytes through ``print_buffer``."""
    if isinstance(value, int):
        value = (value & 0xFFFFFFFF).to_bytes(4, "big")
    return apple_buffer(value)


def _code_bytes(code: str) -> bytes:
    """A four-character code's bytes (Mac OS Roman, as FourCharCodes are)."""
    try:
        return code.encode("mac_roman")
    except UnicodeEncodeError:
        return code.encode("utf-8")


def _value_bytes(value: object, form: str, key: str) -> bytes:
    """The bytes the file-based keychain stores for one attribute value."""
    if form == "timedate" and isinstance(value, _dt.datetime):
        # CSSM time: "YYYYMMDDhhmmssZ" and its terminating NUL, in UTC.
        return value.astimezone(_dt.UTC).strftime("%Y%m%d%H%M%SZ").encode("ascii") + b"\0"
    if isinstance(value, bool | int):
        return (int(value) & 0xFFFFFFFF).to_bytes(4, "big")
    if isinstance(value, str):
        # A four-character code given as text (ptcl 'htps', atyp 'form') is its four bytes.
        if form in ("uint32", "sint32") or key == "atyp":
            code = _code_bytes(value)
            if len(code) == 4:
                return code
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat().encode("ascii")
    return str(value).encode("utf-8", "surrogatepass")


def json_row(item: Item[Any]) -> dict[str, object]:
    """One item as JSON-ready values: attributes and dates, never the secret."""
    kind = "internet" if isinstance(item.attributes, InternetPassword) else "generic"
    row: dict[str, object] = {"class": kind}
    for name, value in item.attributes.fields().items():
        row[name] = _json_value(value)
    if item.creation_date is not None:
        row["created"] = item.creation_date.isoformat()
    if item.modification_date is not None:
        row["modified"] = item.modification_date.isoformat()
    return row


def _json_value(value: object) -> object:
    if isinstance(value, Synchronizable):
        return value.value if isinstance(value.value, bool) else "any"
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
