"""Every code point of a name survives the trip into the keychain and back (issue #16).

Apple's CoreFoundation drops a leading U+FEFF from UTF-8 input
(``CFStringCreateWithBytes(..., kCFStringEncodingUTF8, false)``), so a binding
that created every string from UTF-8 stored an account beginning with U+FEFF
without it, and it could never be found under its real name.  The binding
now creates non-ASCII strings from UTF-16LE, which Apple's CF keeps as
written; the emulator drops the BOM from UTF-8 input exactly as Apple's CF
does, so these tests fail against a binding that sends UTF-8.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

import applecf
from secitem import _convert, _from_cf
from secitem._ffi_gen import ffi
from secitem.security import (
    SecItemAdd,
    SecItemCopyMatching,
    SecItemDelete,
    kSecAttrAccount,
    kSecAttrService,
    kSecClass,
    kSecClassGenericPassword,
    kSecMatchLimit,
    kSecMatchLimitAll,
    kSecReturnAttributes,
    kSecValueData,
)

NAMES = [
    "\ufeffab",  # BOM at the start: what Apple's CF dropped from UTF-8
    "\ufeff",  # BOM alone
    "\ufeff\ufeffx",  # two of them
    "a\ufeffb",  # BOM in the middle (kept by every path)
    "ab\ufeff",  # at the end
    "\ufffe",  # noncharacters
    "\uffff-x",
    "\ufdd0\ufdef",
    "\U0010ffff",
    "\U0001f600 emoji",
    "plain ascii",
]


@pytest.mark.parametrize("name", NAMES, ids=[n.encode("unicode_escape").decode() for n in NAMES])
def test_name_round_trips_exactly(profile: str, name: str) -> None:
    """Added under ``name`` as service and account, found under it, returned as it."""
    item = {
        kSecClass: kSecClassGenericPassword,
        kSecAttrService: name,
        kSecAttrAccount: name,
        kSecValueData: b"s",
    }
    SecItemAdd(item)
    try:
        found = SecItemCopyMatching(
            {
                kSecClass: kSecClassGenericPassword,
                kSecAttrService: name,
                kSecAttrAccount: name,
                kSecReturnAttributes: True,
                kSecMatchLimit: kSecMatchLimitAll,
            }
        )
        assert isinstance(found, list) and len(found) == 1
        assert found[0][kSecAttrService] == name
        assert found[0][kSecAttrAccount] == name
    finally:
        SecItemDelete({kSecClass: kSecClassGenericPassword, kSecAttrService: name})


def test_bom_and_bare_names_are_different_items(profile: str) -> None:
    """'\\ufeffab' and 'ab' are two accounts, not one stored twice."""
    for account in ("\ufeffab", "ab"):
        SecItemAdd(
            {
                kSecClass: kSecClassGenericPassword,
                kSecAttrService: "bom-svc",
                kSecAttrAccount: account,
                kSecValueData: account.encode(),
            }
        )
    found = SecItemCopyMatching(
        {
            kSecClass: kSecClassGenericPassword,
            kSecAttrService: "bom-svc",
            kSecReturnAttributes: True,
            kSecMatchLimit: kSecMatchLimitAll,
        }
    )
    assert isinstance(found, list)
    assert sorted(a[kSecAttrAccount] for a in found) == ["ab", "\ufeffab"]


@pytest.fixture(scope="module")
def apple_cf() -> Any:
    """Apple's CoreFoundation, opened with the binding's own cdef."""
    reason = applecf.load()
    if isinstance(reason, str):
        if applecf.required():
            pytest.fail(reason)
        pytest.skip(reason)
    return ffi.dlopen(str(applecf.path()))


@pytest.mark.parametrize("name", NAMES, ids=[n.encode("unicode_escape").decode() for n in NAMES])
def test_binding_strings_keep_every_code_point_on_apples_cf(apple_cf: Any, name: str) -> None:
    """The binding's string writer and reader, run on Apple's own CF, round-trip ``name``."""
    ref = _convert.new_string(apple_cf, name)
    assert ref != ffi.NULL
    try:
        assert apple_cf.CFStringGetLength(ref) == len(name.encode("utf-16-le")) // 2
        reader = SimpleNamespace(
            cf=apple_cf,
            CFStringGetLength=apple_cf.CFStringGetLength,
            CFStringGetBytes=apple_cf.CFStringGetBytes,
        )
        assert _from_cf.string_out(reader, ref) == name  # type: ignore[arg-type]
    finally:
        apple_cf.CFRelease(ref)


def test_apples_cf_drops_a_leading_bom_from_utf8(apple_cf: Any) -> None:
    """The behaviour the binding works around, pinned on Apple's CF itself."""
    data = "\ufeffab".encode()
    ref = apple_cf.CFStringCreateWithBytes(ffi.NULL, data, len(data), 0x08000100, False)
    try:
        assert apple_cf.CFStringGetLength(ref) == 2
    finally:
        apple_cf.CFRelease(ref)
