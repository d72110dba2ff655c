"""Security objects: kSec* constants (facts §2), SecCopyErrorMessageString
(§3), SecAccessControl (§1.5, §4) and the item-reference classes."""

from __future__ import annotations

import errno
import os
from typing import Any

import pytest

import simlib
from secitem._tables import CONSTANTS

from .test_rules_helpers import KC, OK, PARAM

ERRORS_DEF = os.path.join(
    os.path.dirname(__file__), "..", "..", "src", "secitem", "testing", "csrc", "errors.def"
)


def _message(sim: Any, status: int) -> str:
    ref = sim.lib.SecCopyErrorMessageString(status, sim.ffi.NULL)
    assert ref != sim.ffi.NULL
    try:
        return simlib.string_from_cf(sim.ffi, sim.lib, ref)
    finally:
        sim.lib.CFRelease(ref)


# §2 constants -------------------------------------------------------------


def test_every_constant_has_its_value(sim: Any) -> None:
    """§2: every kSec* constant is an exported CFString with the exact value."""
    for name, value, _public in CONSTANTS:
        ref = getattr(sim.lib, name)
        assert simlib.type_name(sim.ffi, sim.lib, ref) == "CFString", name
        assert simlib.string_from_cf(sim.ffi, sim.lib, ref) == value, name


def test_value_collisions_are_distinct_but_equal(sim: Any) -> None:
    """§2 value collisions: distinct pointers, CFEqual (e.g. kSecAttrType/kSecAttrKeyType)."""
    pairs = [
        ("kSecAttrType", "kSecAttrKeyType"),
        ("kSecAttrCreator", "kSecAttrKeyCreator"),
        ("kSecAttrKeyTypeEC", "kSecAttrKeyTypeECSECPrimeRandom"),
        ("kSecAttrKeyTypeEC", "kSecAttrKeyTypeECDSA"),
        ("kSecAttrProtocolHTTP", "kSecAttrAuthenticationTypeHTTPBasic"),
        ("kSecUseDataProtectionKeychain", "kSecAttrNoLegacy"),
        ("kSecAttrPersistantReference", "kSecAttrPersistentReference"),
        ("kSecAttrAccessibleAlways", "kSecAttrAccessibleAlwaysPrivate"),
        ("kSecAttrAccessibleAlwaysThisDeviceOnly", "kSecAttrAccessibleAlwaysThisDeviceOnlyPrivate"),
        ("kSecAttrTokenOID", "kSecAttrSecureEnclaveKeyBlob"),
    ]
    for a, b in pairs:
        pa, pb = getattr(sim.lib, a), getattr(sim.lib, b)
        assert pa != pb, (a, b)
        assert sim.lib.CFEqual(pa, pb), (a, b)


def test_constants_are_immortal(sim: Any) -> None:
    """§2: constants are not counted as live objects and survive retain/release."""
    before = sim.lib.secsim_live_objects()
    sim.lib.CFRelease(sim.lib.CFRetain(sim.lib.kSecClass))
    sim.lib.CFRelease(sim.lib.kSecClass)  # an over-release of an immortal constant is harmless
    assert sim.lib.secsim_live_objects() == before
    assert simlib.string_from_cf(sim.ffi, sim.lib, sim.lib.kSecClass) == "class"


def test_constant_and_same_text_are_equivalent_keys(kc: KC) -> None:
    """§2: a key built from the same characters is equivalent to the exported constant."""
    lib = kc.lib
    kc.add_ok(
        {
            lib.kSecClass: lib.kSecClassGenericPassword,
            lib.kSecAttrAccount: "a",
            lib.kSecValueData: b"1",
        }
    )
    st, data = kc.copy({"class": "genp", "acct": "a", "r_Data": True})
    assert (st, data) == (OK, b"1")


# §3 SecCopyErrorMessageString ---------------------------------------------


def _errors_def() -> list[tuple[int, str, str]]:
    out = []
    with open(ERRORS_DEF) as f:
        for line in f:
            if line.startswith("SECSIM_ERROR("):
                inner = line[len("SECSIM_ERROR(") :].rstrip().rstrip(")")
                status, rest = inner.split(",", 1)
                name, msg = rest.split(",", 1)
                out.append((int(status), name.strip().strip('"'), msg.strip()[1:-1]))
    return out


def test_error_messages_from_table(sim: Any) -> None:
    """§3: every code with a header comment returns that exact message."""
    seen = set()
    for status, _name, msg in _errors_def():
        if msg and status not in seen:
            seen.add(status)
            assert _message(sim, status) == msg.replace('\\"', '"'), status


def test_error_message_examples(sim: Any) -> None:
    """§3: messages of the codes a SecItem binding meets."""
    assert _message(sim, 0) == "No error."
    assert _message(sim, -50) == "One or more parameters passed to a function were not valid."
    assert _message(sim, -25300) == "The specified item could not be found in the keychain."
    assert _message(sim, -25299) == "The specified item already exists in the keychain."
    assert _message(sim, -34018) == "A required entitlement isn't present."
    assert _message(sim, -25308) == "User interaction is not allowed."


def test_error_message_empty_comment_falls_back(sim: Any) -> None:
    """§3: a code whose header has no comment is not in the table -> "OSStatus <n>"."""
    assert _message(sim, -2070) == "OSStatus -2070"
    assert _message(sim, -4960) == "OSStatus -4960"


def test_error_message_unknown_code(sim: Any) -> None:
    """§3: an unknown code -> "OSStatus <n>"."""
    assert _message(sim, -99999) == "OSStatus -99999"
    assert _message(sim, 12345) == "OSStatus 12345"


def test_error_message_errno_range(sim: Any, profile: str) -> None:
    """§3: macOS maps 100000..100255 to "UNIX[strerror]"; the non-macOS variant does not."""
    msg = _message(sim, 100000 + errno.ENOENT)
    if profile == "macos":
        assert msg == f"UNIX[{os.strerror(errno.ENOENT)}]"
        assert _message(sim, 100256) == "OSStatus 100256"
    else:
        assert msg == f"OSStatus {100000 + errno.ENOENT}"


# §1.5 / §4 SecAccessControl ----------------------------------------------------

FLAG = {
    "UserPresence": 1,
    "BiometryAny": 2,
    "BiometryCurrentSet": 8,
    "DevicePasscode": 16,
    "Companion": 32,
    "Or": 1 << 14,
    "And": 1 << 15,
    "PrivateKeyUsage": 1 << 30,
    "ApplicationPassword": 1 << 31,
}


def _create(sim: Any, protection: Any, flags: int, with_error: bool = True) -> tuple[Any, Any]:
    err = sim.ffi.new("CFErrorRef *") if with_error else sim.ffi.NULL
    p = simlib.to_cf(sim.ffi, sim.lib, protection)
    try:
        ac = sim.lib.SecAccessControlCreateWithFlags(sim.ffi.NULL, p, flags, err)
    finally:
        sim.lib.CFRelease(p)
    return ac, (err[0] if with_error else None)


@pytest.mark.parametrize("protection", ["ak", "ck", "dk", "aku", "cku", "dku", "akpu", "f"])
def test_access_control_valid_protections(sim: Any, protection: str) -> None:
    """§1.5: each listed protection string is accepted."""
    ac, err = _create(sim, protection, FLAG["UserPresence"])
    assert ac != sim.ffi.NULL and err == sim.ffi.NULL
    assert sim.lib.CFGetTypeID(ac) == sim.lib.SecAccessControlGetTypeID()
    sim.lib.CFRelease(ac)


def _assert_param_error(sim: Any, ac: Any, err: Any) -> None:
    assert ac == sim.ffi.NULL
    assert err != sim.ffi.NULL
    try:
        assert sim.lib.CFErrorGetCode(err) == PARAM
        dom = simlib.string_from_cf(sim.ffi, sim.lib, sim.lib.CFErrorGetDomain(err))
        assert dom == "NSOSStatusErrorDomain"
    finally:
        sim.lib.CFRelease(err)


@pytest.mark.parametrize("protection", ["bogus", "", "AK", 7])
def test_access_control_invalid_protection(sim: Any, protection: Any) -> None:
    """§1.5: any other protection -> NULL + CFError errSecParam (NSOSStatusErrorDomain)."""
    ac, err = _create(sim, protection, 0)
    _assert_param_error(sim, ac, err)


@pytest.mark.parametrize(
    "flags",
    [
        FLAG["Or"] | FLAG["And"],
        FLAG["BiometryAny"] | FLAG["BiometryCurrentSet"],
        FLAG["UserPresence"] | FLAG["DevicePasscode"],
        FLAG["UserPresence"] | FLAG["BiometryAny"] | FLAG["Or"],
    ],
)
def test_access_control_invalid_flag_combinations(sim: Any, flags: int) -> None:
    """§1.5: Or+And, BiometryAny+CurrentSet, UserPresence with others -> errSecParam."""
    ac, err = _create(sim, "ak", flags)
    _assert_param_error(sim, ac, err)


@pytest.mark.parametrize(
    "flags",
    [
        0,
        FLAG["UserPresence"] | FLAG["ApplicationPassword"],
        FLAG["UserPresence"] | FLAG["PrivateKeyUsage"],
        FLAG["BiometryAny"] | FLAG["DevicePasscode"] | FLAG["Or"],
        FLAG["BiometryCurrentSet"] | FLAG["Companion"] | FLAG["And"],
    ],
)
def test_access_control_valid_flag_combinations(sim: Any, flags: int) -> None:
    """§1.5 / §4: allowed combinations succeed."""
    ac, err = _create(sim, "aku", flags)
    assert ac != sim.ffi.NULL and err == sim.ffi.NULL
    sim.lib.CFRelease(ac)


def test_access_control_error_pointer_may_be_null(sim: Any) -> None:
    """§1.5: the error pointer may be NULL (nothing leaks)."""
    ac, _ = _create(sim, "bogus", 0, with_error=False)
    assert ac == sim.ffi.NULL


def test_access_control_equality(sim: Any) -> None:
    """SecAccessControl: CFEqual by protection and flags."""
    a, _ = _create(sim, "ak", 1)
    b, _ = _create(sim, "ak", 1)
    c, _ = _create(sim, "ak", 2 | 16)
    d, _ = _create(sim, "ck", 1)
    try:
        assert a != b and sim.lib.CFEqual(a, b) and sim.lib.CFHash(a) == sim.lib.CFHash(b)
        assert not sim.lib.CFEqual(a, c)
        assert not sim.lib.CFEqual(a, d)
    finally:
        for x in (a, b, c, d):
            sim.lib.CFRelease(x)


def test_security_type_ids_are_distinct(sim: Any) -> None:
    """The Security classes are registered CF types with their own IDs."""
    lib = sim.lib
    ids = {
        lib.SecAccessControlGetTypeID(),
        lib.SecKeychainItemGetTypeID(),
        lib.SecKeyGetTypeID(),
        lib.SecCertificateGetTypeID(),
        lib.SecIdentityGetTypeID(),
        lib.CFStringGetTypeID(),
        lib.CFDictionaryGetTypeID(),
    }
    assert len(ids) == 7
