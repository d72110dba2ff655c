"""The secitem_emulator fixture's controls do what the emulator does, and refuse bad values.

These run in the project's own suite, next to its conftest.py: the plugin's
fixture is only active where it is requested, and the two leak checks (the
project's autouse one and the fixture's) agree.
"""

from __future__ import annotations

import os

import pytest

from secitem import (
    AuthFailedError,
    GenericPassword,
    InteractionNotAllowedError,
    InvalidQueryError,
    Keychain,
    KeychainError,
    KeychainUnavailableError,
    MissingEntitlementError,
    UserCanceledError,
)
from secitem.items import AccessControlFlags, Accessible, AccessPolicy
from secitem.testing.controls import IOS_DEFAULT_ACCESS_GROUP, EmulatorControls, UserResponse

ITEM = GenericPassword(service="com.example.kit", account="alice")


def test_each_test_starts_with_an_empty_keychain_and_the_default_state(
    secitem_emulator: EmulatorControls,
) -> None:
    assert os.path.samefile(secitem_emulator.path, os.environ["SECITEM_LIBRARY"])
    assert secitem_emulator.profile == "macos"
    assert secitem_emulator.access_groups == ()
    assert secitem_emulator.locked is False
    assert secitem_emulator.user_response is UserResponse.APPROVE
    assert Keychain().find(GenericPassword()) == []


def test_profile_switches_the_emulator_and_secitem(secitem_emulator: EmulatorControls) -> None:
    secitem_emulator.profile = "ios"
    assert os.environ["SECSIM_PROFILE"] == "ios"
    assert Keychain().platform == "ios"
    assert secitem_emulator.access_groups == (IOS_DEFAULT_ACCESS_GROUP,)
    # The emulator's own default group is the one the controls report: an
    # item added without a group gets it.
    Keychain().add(ITEM, b"s")
    assert Keychain().get(ITEM).attributes.access_group == IOS_DEFAULT_ACCESS_GROUP


def test_access_groups_are_the_entitlements(secitem_emulator: EmulatorControls) -> None:
    secitem_emulator.profile = "ios"
    secitem_emulator.access_groups = ("TEAM.one", "TEAM.two")
    assert secitem_emulator.access_groups == ("TEAM.one", "TEAM.two")
    keychain = Keychain()
    keychain.add(GenericPassword(service="s", account="a", access_group="TEAM.two"), b"s")
    with pytest.raises(MissingEntitlementError):
        keychain.add(GenericPassword(service="s", account="a", access_group="OTHER.app"), b"s")
    secitem_emulator.access_groups = ()
    with pytest.raises(MissingEntitlementError):
        keychain.add(GenericPassword(service="s2", account="a"), b"s")


def test_reset_keeps_the_profile_and_groups_it_empties_the_rest(
    secitem_emulator: EmulatorControls,
) -> None:
    secitem_emulator.profile = "ios"
    secitem_emulator.access_groups = ("TEAM.one",)
    Keychain().add(ITEM, b"s")
    secitem_emulator.locked = True
    secitem_emulator.reset()
    assert (secitem_emulator.profile, secitem_emulator.access_groups) == ("ios", ("TEAM.one",))
    assert secitem_emulator.locked is False
    assert Keychain().find(GenericPassword()) == []
    Keychain().add(ITEM, b"s")
    assert Keychain().secret(ITEM) == b"s"  # unlocked, and TEAM.one is still the group


@pytest.mark.secitem_profile("ios")
def test_locked_device(secitem_emulator: EmulatorControls) -> None:
    keychain = Keychain()
    keychain.add(
        GenericPassword(service="s", account="a", accessible=Accessible.WHEN_UNLOCKED), b"x"
    )
    secitem_emulator.locked = True
    assert secitem_emulator.locked is True
    with pytest.raises(InteractionNotAllowedError):
        keychain.secret(GenericPassword(service="s", account="a"))
    secitem_emulator.locked = False
    assert keychain.secret(GenericPassword(service="s", account="a")) == b"x"


@pytest.mark.secitem_profile("ios")
@pytest.mark.parametrize(
    ("response", "error"),
    [(UserResponse.CANCEL, UserCanceledError), (UserResponse.FAIL, AuthFailedError)],
)
def test_user_response(
    secitem_emulator: EmulatorControls, response: UserResponse, error: type[KeychainError]
) -> None:
    keychain = Keychain()
    guarded = GenericPassword(
        service="s", account="a", access_control=AccessPolicy(AccessControlFlags.USER_PRESENCE)
    )
    keychain.add(guarded, b"x")
    query = GenericPassword(service="s", account="a")
    secitem_emulator.user_response = response
    assert secitem_emulator.user_response is response
    with pytest.raises(error):
        keychain.secret(query)
    secitem_emulator.user_response = UserResponse.APPROVE
    assert keychain.secret(query) == b"x"


def test_fail_next_fails_one_call(secitem_emulator: EmulatorControls) -> None:
    keychain = Keychain()
    secitem_emulator.fail_next("SecItemAdd", -61)
    with pytest.raises(KeychainError) as caught:
        keychain.add(ITEM, b"x")
    assert caught.value.status == -61
    keychain.add(ITEM, b"x")
    assert keychain.secret(ITEM) == b"x"


def test_live_objects_and_the_library_are_the_ones_secitem_uses(
    secitem_emulator: EmulatorControls,
) -> None:
    Keychain().find(GenericPassword())  # secitem has loaded the library
    before = secitem_emulator.live_objects()
    ref = secitem_emulator.library.CFDataCreate(None, b"x", 1)
    assert secitem_emulator.live_objects() == before + 1
    secitem_emulator.library.CFRelease(ref)
    assert secitem_emulator.live_objects() == before


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("profile", "iOS"),
        ("profile", None),
        ("access_groups", "TEAM.a,TEAM.b"),
        ("access_groups", ("TEAM.a,TEAM.b",)),
        ("access_groups", (" TEAM.a",)),
        ("access_groups", ("",)),
        ("access_groups", ("TEAM\x00a",)),
        ("access_groups", ("\ud800",)),
        ("locked", 1),
        ("user_response", 1),
    ],
)
def test_bad_values_are_refused_before_the_emulator_sees_them(
    secitem_emulator: EmulatorControls, attribute: str, value: object
) -> None:
    # The emulator aborts the process on an unknown profile or response:
    # reaching this test's end at all shows it never saw these values.
    before = getattr(secitem_emulator, attribute)
    with pytest.raises(InvalidQueryError, match=attribute):
        setattr(secitem_emulator, attribute, value)
    assert getattr(secitem_emulator, attribute) == before


@pytest.mark.parametrize(
    ("function", "status"),
    [("SecItemFoo", -61), (b"SecItemAdd", -61), ("SecItemAdd", 2**31), ("SecItemAdd", True)],
)
def test_bad_faults_are_refused(
    secitem_emulator: EmulatorControls, function: object, status: object
) -> None:
    with pytest.raises(InvalidQueryError, match="fail_next"):
        secitem_emulator.fail_next(function, status)  # type: ignore[arg-type]
    Keychain().add(ITEM, b"x")  # nothing was armed


def test_delay_on_an_emulator_without_it_says_so(secitem_emulator: EmulatorControls) -> None:
    if hasattr(secitem_emulator.library, "secsim_set_delay"):
        pytest.skip("this emulator has secsim_set_delay (issue #18)")
    with pytest.raises(KeychainUnavailableError, match="has no secsim_set_delay"):
        secitem_emulator.delay("SecItemCopyMatching", 0.5)
    secitem_emulator.reset()  # and reset does not trip over it


def test_delay_on_an_emulator_with_it(secitem_emulator: EmulatorControls) -> None:
    if not hasattr(secitem_emulator.library, "secsim_set_delay"):
        pytest.skip("this emulator has no secsim_set_delay yet (issue #18)")
    secitem_emulator.delay("SecItemAdd", 0.001)
    Keychain().add(ITEM, b"x")
    secitem_emulator.delay("SecItemAdd", 0)
    assert Keychain().secret(ITEM) == b"x"


@pytest.mark.parametrize(
    ("function", "seconds"),
    [("SecItemFoo", 1), ("SecItemAdd", -1), ("SecItemAdd", float("nan")), ("SecItemAdd", "1")],
)
def test_bad_delays_are_refused(
    secitem_emulator: EmulatorControls, function: str, seconds: object
) -> None:
    with pytest.raises(InvalidQueryError, match="delay"):
        secitem_emulator.delay(function, seconds)  # type: ignore[arg-type]


def test_a_library_that_is_not_the_emulator_is_refused() -> None:
    import ctypes.util

    libc = ctypes.util.find_library("c")
    assert libc is not None
    with pytest.raises(KeychainUnavailableError, match="not the secitem emulator"):
        EmulatorControls(libc)
    with pytest.raises(KeychainUnavailableError, match="cannot load"):
        EmulatorControls("/nonexistent/libsecsim.so")


def test_an_invalid_profile_variable_is_refused_before_reset(
    secitem_emulator: EmulatorControls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECSIM_PROFILE", "iOS")
    with pytest.raises(InvalidQueryError, match="SECSIM_PROFILE"):
        secitem_emulator.reset()
