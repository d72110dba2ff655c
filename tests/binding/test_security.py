"""secitem.security beyond the conformance suite: results, access controls,
injected failures and the exported names."""

from __future__ import annotations

from typing import Any

import pytest
from binding_helpers import unique

import secitem.security as security
from secitem import (
    DuplicateItemError,
    InteractionNotAllowedError,
    ItemNotFoundError,
    KeychainError,
    ParamError,
)
from secitem._tables import CONSTANTS
from secitem.constants import SecConstant
from secitem.security import (
    AccessControl,
    SecAccessControlCreateWithFlags,
    SecItemAdd,
    SecItemCopyMatching,
    SecItemDelete,
    SecItemUpdate,
    kSecAccessControlAnd,
    kSecAccessControlBiometryAny,
    kSecAccessControlOr,
    kSecAccessControlUserPresence,
    kSecAttrAccessibleWhenUnlocked,
    kSecAttrAccount,
    kSecAttrService,
    kSecClass,
    kSecClassGenericPassword,
    kSecReturnData,
    kSecReturnPersistentRef,
    kSecValueData,
)


def item(service: str, **extra: Any) -> dict[object, object]:
    return {
        kSecClass: kSecClassGenericPassword,
        kSecAttrService: service,
        kSecAttrAccount: "alice",
        **extra,
    }


def test_every_public_constant_is_exported() -> None:
    """Each public kSec* name of the facts sheet is importable from secitem.security."""
    public = [(name, value) for name, value, is_public in CONSTANTS if is_public]
    assert len(public) == 163
    for name, value in public:
        constant = getattr(security, name)
        assert isinstance(constant, SecConstant)
        assert constant == value and constant.name == name and repr(constant) == name
        assert name in security.__all__
    assert not hasattr(security, "kSecAttrMultiUser")  # not public


def test_access_control_flags_are_ints() -> None:
    """The kSecAccessControl* flags are Apple's bit values (facts section 4)."""
    assert security.kSecAccessControlUserPresence == 1
    assert security.kSecAccessControlBiometryAny == security.kSecAccessControlTouchIDAny == 2
    assert security.kSecAccessControlBiometryCurrentSet == 8
    assert security.kSecAccessControlDevicePasscode == 16
    assert security.kSecAccessControlCompanion == security.kSecAccessControlWatch == 32
    assert security.kSecAccessControlOr == 1 << 14
    assert security.kSecAccessControlAnd == 1 << 15
    assert security.kSecAccessControlPrivateKeyUsage == 1 << 30
    assert security.kSecAccessControlApplicationPassword == 1 << 31


def test_aliases_are_equal() -> None:
    """Constants that share characters are equal, as they are for CFEqual."""
    assert security.kSecAttrType == security.kSecAttrKeyType
    assert security.kSecUseDataProtectionKeychain == "nleg"
    assert {security.kSecAttrType: 1}[security.kSecAttrKeyType] == 1


def test_add_releases_the_unrequested_item_ref(sim: Any) -> None:
    """On the macOS file-based keychain SecItemAdd hands back an item ref even
    without a return key; the binding releases it and returns None."""
    sim.lib.secsim_set_profile(b"macos")
    before = sim.lib.secsim_live_objects()
    assert SecItemAdd(item(unique(), **{kSecValueData: b"pw"})) is None
    assert SecItemAdd(item(unique(), **{kSecValueData: b"pw", kSecReturnData: False})) is None
    assert sim.lib.secsim_live_objects() == before


@pytest.mark.parametrize("profile_name", ["macos", "ios"])
def test_add_returns_what_was_asked(sim: Any, profile_name: str) -> None:
    """kSecReturnData on SecItemAdd returns the secret; kSecReturnPersistentRef bytes."""
    sim.lib.secsim_set_profile(profile_name.encode())
    assert SecItemAdd(item(unique(), **{kSecValueData: b"pw", kSecReturnData: True})) == b"pw"
    ref = SecItemAdd(item(unique(), **{kSecValueData: b"pw", kSecReturnPersistentRef: True}))
    assert isinstance(ref, bytes) and ref


@pytest.mark.parametrize(
    ("function", "status", "error"),
    [
        ("SecItemAdd", -25299, DuplicateItemError),
        ("SecItemCopyMatching", -25308, InteractionNotAllowedError),
        ("SecItemUpdate", -25300, ItemNotFoundError),
        ("SecItemDelete", -25291, KeychainError),
    ],
)
def test_injected_failures_raise(
    sim: Any, function: str, status: int, error: type[KeychainError]
) -> None:
    """Whatever status a call returns becomes the matching exception."""
    service = unique()
    SecItemAdd(item(service, **{kSecValueData: b"pw"}))
    sim.lib.secsim_fail_next(function.encode(), status)
    calls = {
        "SecItemAdd": lambda: SecItemAdd(item(unique(), **{kSecValueData: b"x"})),
        "SecItemCopyMatching": lambda: SecItemCopyMatching(item(service, **{kSecReturnData: True})),
        "SecItemUpdate": lambda: SecItemUpdate(item(service), {kSecValueData: b"y"}),
        "SecItemDelete": lambda: SecItemDelete(item(service)),
    }
    with pytest.raises(error) as info:
        calls[function]()
    assert info.value.status == status
    calls[function]()  # the next call succeeds again


def test_access_control_creation(sim: Any) -> None:
    """A valid protection and flags give an AccessControl object."""
    with SecAccessControlCreateWithFlags(
        kSecAttrAccessibleWhenUnlocked, kSecAccessControlUserPresence
    ) as access:
        assert isinstance(access, AccessControl)
        assert access.type_id > 0
    assert access.closed
    plain = SecAccessControlCreateWithFlags("ak", 0)  # a plain string works as well
    plain.close()


@pytest.mark.parametrize(
    ("protection", "flags"),
    [
        ("nonsense", kSecAccessControlUserPresence),
        (kSecAttrAccessibleWhenUnlocked, kSecAccessControlOr | kSecAccessControlAnd),
        (
            kSecAttrAccessibleWhenUnlocked,
            kSecAccessControlUserPresence | kSecAccessControlBiometryAny,
        ),
    ],
    ids=["bad-protection", "or-and", "presence-plus-biometry"],
)
def test_access_control_refusals(sim: Any, protection: str, flags: int) -> None:
    """A refused combination raises ParamError from the CFError (which is released)."""
    before = sim.lib.secsim_live_objects()
    with pytest.raises(ParamError) as info:
        SecAccessControlCreateWithFlags(protection, flags)
    assert info.value.status == -50
    assert sim.lib.secsim_live_objects() == before


def test_access_control_argument_types() -> None:
    """Flags must be an unsigned 64-bit int; protection a convertible value."""
    with pytest.raises(TypeError, match=r"^flags: expected an int"):
        SecAccessControlCreateWithFlags(kSecAttrAccessibleWhenUnlocked, True)
    with pytest.raises(TypeError, match=r"^flags: expected an int"):
        SecAccessControlCreateWithFlags(kSecAttrAccessibleWhenUnlocked, "1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^flags:"):
        SecAccessControlCreateWithFlags(kSecAttrAccessibleWhenUnlocked, -1)
    with pytest.raises(TypeError, match=r"^protection: cannot convert set"):
        SecAccessControlCreateWithFlags({"ak"}, 0)


def test_closed_object_is_refused_before_the_call(sim: Any) -> None:
    """Passing a closed AccessControl is a ValueError naming the key."""
    access = SecAccessControlCreateWithFlags(kSecAttrAccessibleWhenUnlocked, 0)
    access.close()
    with pytest.raises(ValueError, match=r"^kSecAttrAccessControl: AccessControl is closed"):
        SecItemAdd({**item(unique()), security.kSecAttrAccessControl: access})


def test_bad_value_in_update_is_refused_before_the_call(sim: Any) -> None:
    """Both SecItemUpdate dictionaries are checked before anything native happens."""
    before = sim.lib.secsim_live_objects()
    with pytest.raises(TypeError, match=r"^kSecAttrLabel: cannot convert set"):
        SecItemUpdate(item("x"), {security.kSecAttrLabel: {1}})
    with pytest.raises(TypeError, match=r"^kSecAttrAccount: cannot convert object"):
        SecItemUpdate({kSecAttrAccount: object()}, {security.kSecAttrLabel: "x"})
    assert sim.lib.secsim_live_objects() == before


def test_return_key_with_false_value_asks_for_nothing(sim: Any) -> None:
    """kSecReturnData: False does not ask for a result."""
    sim.lib.secsim_set_profile(b"ios")
    assert SecItemAdd(item(unique(), **{kSecValueData: b"pw", kSecReturnData: False})) is None


def test_fast_and_general_paths_agree(sim: Any) -> None:
    """Once the library is loaded, a flat dict keyed by constants is built in one
    pass (``_convert.flat``); anything else takes the general, validating path. Both
    reach the same items, and a value the fast path declines is still refused
    by name."""
    from secitem import _convert

    sim.lib.secsim_set_profile(b"ios")
    svc = unique()
    SecItemAdd(item(svc, **{kSecValueData: b"pw"}))
    fast = _convert.flat(item(svc))
    assert fast is not None  # constants as keys, plain values: the fast path
    fast[0].CFRelease(fast[1])
    general: dict[object, object] = {"class": "genp", "svce": svc, "acct": "alice"}
    assert _convert.flat(general) is None  # plain-string keys: the general path

    assert SecItemCopyMatching({**general, "r_Data": True}) == b"pw"
    SecItemUpdate(general, {kSecValueData: b"pw2"})  # general query, flat changes
    assert SecItemCopyMatching({**item(svc), kSecReturnData: True}) == b"pw2"
    SecItemUpdate(item(svc), {kSecValueData: bytearray(b"pw3")})  # flat query, general changes
    assert SecItemCopyMatching({**item(svc), kSecReturnData: True}) == b"pw3"

    text = "zoë ☃ 𝄞"  # non-ASCII text, a non-BMP character included: fast path
    SecItemAdd({**item(svc), kSecAttrAccount: text, kSecValueData: b"x"})
    found = SecItemCopyMatching(
        {**item(svc), kSecAttrAccount: text, security.kSecReturnAttributes: True}
    )
    assert isinstance(found, dict) and found[kSecAttrAccount] == text

    before = sim.lib.secsim_live_objects()
    with pytest.raises(ValueError, match=r"^kSecAttrAccount: string contains a lone surrogate"):
        SecItemDelete({kSecClass: kSecClassGenericPassword, kSecAttrAccount: "a\ud800"})
    assert sim.lib.secsim_live_objects() == before  # what the fast path made is released
    SecItemDelete(item(svc))
    with pytest.raises(ItemNotFoundError):
        SecItemCopyMatching({**item(svc), kSecReturnData: True})
