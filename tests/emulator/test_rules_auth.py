"""User interaction and device lock (facts §5.13), the combination table
(§5.14), and the emulator controls (secsim_*)."""

from __future__ import annotations

from typing import Any

import pytest

from .test_rules_helpers import (
    APP_GROUP,
    AUTH_FAILED,
    INTERACTION_NOT_ALLOWED,
    KC,
    MISSING_ENTITLEMENT,
    NO_SUCH_ATTR,
    NOT_FOUND,
    OK,
    PARAM,
    USER_CANCELED,
    dp,
    genp,
)
from .test_store import child

BIOMETRY_ANY = 2


def protected(
    kc: KC, profile: str, acct: str = "a", flags: int = BIOMETRY_ANY, pdmn: str = "ak"
) -> None:
    ac = kc.access_control(pdmn, flags)
    kc.add_ok(dp(genp(acct=acct, accc=ac.ptr, v_Data=b"secret"), profile))


# 5.13 #13.1 authentication UI -----------------------------------------------------


def test_13_1_user_approves(dpkc: KC, profile: str) -> None:
    """5.13 #13.1: default Allow; the simulated user approves (response 0)."""
    protected(dpkc, profile)
    assert dpkc.copy(dp(genp(acct="a", r_Data=True), profile)) == (OK, b"secret")


@pytest.mark.parametrize("response,status", [(1, USER_CANCELED), (2, AUTH_FAILED)])
def test_13_1_user_cancels_or_fails(dpkc: KC, profile: str, response: int, status: int) -> None:
    """5.13: response 1 -> errSecUserCanceled (-128), 2 -> errSecAuthFailed (-25293)."""
    protected(dpkc, profile)
    dpkc.lib.secsim_set_user_response(response)
    assert dpkc.copy(dp(genp(acct="a", r_Data=True), profile))[0] == status
    # reading attributes only does not need the user
    assert dpkc.copy(dp(genp(acct="a", r_Attributes=True), profile))[0] == OK


def test_13_1_fail_means_no_ui(dpkc: KC, profile: str) -> None:
    """5.13 #13.1: kSecUseAuthenticationUIFail -> errSecInteractionNotAllowed."""
    protected(dpkc, profile)
    st, _ = dpkc.copy(dp(genp(acct="a", r_Data=True, u_AuthUI="u_AuthUIF"), profile))
    assert st == INTERACTION_NOT_ALLOWED
    st, _ = dpkc.copy(dp(genp(acct="a", r_Data=True, u_NoAuthUI=True), profile))
    assert st == INTERACTION_NOT_ALLOWED


def test_13_1_skip_skips_protected_items(dpkc: KC, profile: str) -> None:
    """5.13 #13.1: Skip silently skips items needing UI (CopyMatching only)."""
    protected(dpkc, profile, acct="p")
    dpkc.add_ok(dp(genp(acct="q", v_Data=b"plain"), profile))
    st, res = dpkc.copy(dp(genp(r_Data=True, m_Limit="m_LimitAll", u_AuthUI="u_AuthUIS"), profile))
    assert (st, res) == (OK, [b"plain"])
    st, _ = dpkc.copy(dp(genp(acct="p", r_Data=True, u_AuthUI="u_AuthUIS"), profile))
    assert st == NOT_FOUND


def test_13_1_bad_auth_ui_value(dpkc: KC, profile: str) -> None:
    """5.13 #13.1: a kSecUseAuthenticationUI value that is not Allow/Fail/Skip -> errSecParam."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    assert dpkc.copy(dp(genp(acct="a", u_AuthUI="sometimes"), profile))[0] == PARAM


def test_13_1_update_secret_of_protected_item_asks_user(dpkc: KC, profile: str) -> None:
    """5.13 (emulator reading): writing the secret of a protected item asks the user."""
    protected(dpkc, profile)
    dpkc.lib.secsim_set_user_response(1)
    assert dpkc.update(dp(genp(acct="a"), profile), {"v_Data": b"new"}) == USER_CANCELED
    assert dpkc.update(dp(genp(acct="a"), profile), {"labl": "attrs only"}) == OK
    dpkc.lib.secsim_set_user_response(0)
    assert dpkc.update(dp(genp(acct="a"), profile), {"v_Data": b"new"}) == OK
    assert dpkc.delete(dp(genp(acct="a"), profile)) == OK  # delete needs no authentication


def test_13_2_auth_context_with_credential_reference(dpkc: KC, profile: str) -> None:
    """5.13 #13.2: kSecUseAuthenticationContext + kSecUseCredentialReference -> errSecParam."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    st, _ = dpkc.copy(dp(genp(acct="a", u_AuthCtx=b"ctx", u_CredRef=b"cred"), profile))
    assert st == PARAM
    st, _ = dpkc.copy(dp(genp(acct="a", u_AuthCtx=b"ctx", u_OpPrompt="why"), profile))
    assert st == OK


# 5.13 #13.4 device lock -----------------------------------------------------------


@pytest.mark.parametrize(
    "pdmn,blocked",
    [
        ("ak", True),
        ("aku", True),
        ("akpu", True),
        ("ck", False),
        ("cku", False),
        ("dk", False),
        ("dku", False),
    ],
)
def test_13_4_locked_device_reading_secret(
    dpkc: KC, profile: str, pdmn: str, blocked: bool
) -> None:
    """5.13 #13.4: locked device: reading the secret of ak/aku/akpu items ->
    errSecInteractionNotAllowed; attributes stay readable; other classes unaffected."""
    dpkc.add_ok(dp(genp(acct="a", pdmn=pdmn, v_Data=b"s"), profile))
    dpkc.lib.secsim_set_locked(1)
    st, _ = dpkc.copy(dp(genp(acct="a", r_Data=True), profile))
    assert st == (INTERACTION_NOT_ALLOWED if blocked else OK)
    assert dpkc.copy(dp(genp(acct="a", r_Attributes=True), profile))[0] == OK
    assert dpkc.update(dp(genp(acct="a"), profile), {"labl": "x"}) == OK
    st = dpkc.update(dp(genp(acct="a"), profile), {"v_Data": b"t"})
    assert st == (INTERACTION_NOT_ALLOWED if blocked else OK)
    dpkc.lib.secsim_set_locked(0)
    assert dpkc.copy(dp(genp(acct="a", r_Data=True), profile))[0] == OK


def test_13_4_locked_device_add(dpkc: KC, profile: str) -> None:
    """5.13 #13.4 (emulator reading): adding an ak item while locked -> -25308; ck works."""
    dpkc.lib.secsim_set_locked(1)
    assert dpkc.add(dp(genp(acct="a"), profile))[0] == INTERACTION_NOT_ALLOWED
    dpkc.add_ok(dp(genp(acct="b", pdmn="ck"), profile))
    assert dpkc.delete(dp(genp(acct="b"), profile)) == OK


def test_13_4_lock_does_not_affect_file_based(kc: KC) -> None:
    """5.13 #13.4 (emulator reading): the device lock concerns DP items only."""
    kc.add_ok(genp(acct="a", v_Data=b"s"))
    kc.lib.secsim_set_locked(1)
    assert kc.copy(genp(acct="a", r_Data=True)) == (OK, b"s")


def test_13_5_deleted_items_invisible(dpkc: KC, profile: str) -> None:
    """5.13 #13.5 / 5.6 #6.4: deleted (tombstoned) synchronizable items are never seen."""
    dpkc.add_ok(dp(genp(acct="a", sync=True), profile))
    assert dpkc.delete(dp(genp(acct="a", sync=True), profile)) == OK
    assert dpkc.copy(dp(genp(acct="a", sync="syna"), profile))[0] == NOT_FOUND
    dpkc.add_ok(dp(genp(acct="a", sync=True), profile))  # no collision with the tombstone


# 5.14 combination table (rows not covered elsewhere) ----------------------------


def test_14_update_class_in_attributes_dp_vs_fb(dpkc: KC, profile: str) -> None:
    """5.14: kSecClass in attributesToUpdate: DP -25303 (also via the shim); FB ignores it."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    assert dpkc.update(dp(genp(acct="a"), profile), {"class": "genp"}) == NO_SUCH_ATTR
    if profile == "macos":
        dpkc.add_ok(genp(acct="f"))
        assert dpkc.update(genp(acct="f", nleg=False), {"class": "genp", "labl": "x"}) == OK


def test_14_add_string_secret_dp_rejected(dpkc: KC, profile: str) -> None:
    """5.14: Add with kSecValueData as CFString: DP errSecParam, FB accepted."""
    assert dpkc.add(dp(genp(acct="a", v_Data="text"), profile))[0] == PARAM
    if profile == "macos":
        dpkc.add_ok(genp(acct="a", v_Data="text"))


def test_14_skip_only_in_copy(dpkc: KC, profile: str) -> None:
    """5.14: any call except CopyMatching with kSecUseAuthenticationUISkip -> errSecParam."""
    dpkc.add_ok(dp(genp(acct="a"), profile))
    assert dpkc.copy(dp(genp(acct="a", u_AuthUI="u_AuthUIS"), profile))[0] == OK
    assert dpkc.delete(dp(genp(acct="a", u_AuthUI="u_AuthUIS"), profile)) == PARAM


def test_14_use_item_list_dp(kc: KC) -> None:
    """5.14: kSecUseItemList on DP -> errSecParam."""
    kc.lib.secsim_set_profile(b"ios")
    kc.add_ok(genp(acct="a"))
    assert kc.copy(genp(u_ItemList=[]))[0] == PARAM


def test_14_accc_sync_update(dpkc: KC, profile: str) -> None:
    """5.14: accc with constraints + kSecAttrSynchronizable true on Update -> errSecParam."""
    protected(dpkc, profile)
    assert dpkc.update(dp(genp(acct="a"), profile), {"sync": True}) == PARAM


@pytest.mark.parametrize("sync", [True, 1])
def test_14_accc_sync_is_a_client_check(kc: KC, profile: str, sync: Any) -> None:
    """5.14 / 4.11: accc with constraints + sync true in the same dictionary is
    rejected by the DP client (Client SecItemAuthDoQuery), so before securityd's
    entitlement check: -50 even for a process without access groups."""
    kc.lib.secsim_set_access_groups(b"")
    ac = kc.access_control("ak", BIOMETRY_ANY)
    assert kc.add(dp(genp(acct="a", accc=ac.ptr, sync=sync), profile))[0] == PARAM
    attrs = {"accc": ac.ptr, "sync": sync}
    assert kc.update(dp(genp(acct="a"), profile), attrs) == PARAM
    # without constraints the same process meets the entitlement check
    plain = kc.access_control("ak", 0)
    st, _ = kc.add(dp(genp(acct="a", accc=plain.ptr, sync=sync), profile))
    assert st == MISSING_ENTITLEMENT


# controls -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn", ["SecItemAdd", "SecItemCopyMatching", "SecItemUpdate", "SecItemDelete"]
)
def test_fail_next(kc: KC, profile: str, fn: str) -> None:
    """secsim_fail_next: the next call of that function returns the status, doing nothing;
    the call after that works normally."""
    kc.lib.secsim_set_access_groups(APP_GROUP.encode())
    kc.add_ok(genp(acct="a", v_Data=b"x"))
    kc.lib.secsim_fail_next(fn.encode(), -25291)
    calls = {
        "SecItemAdd": lambda: kc.add(genp(acct="b"))[0],
        "SecItemCopyMatching": lambda: kc.copy(genp(acct="a", r_Data=True))[0],
        "SecItemUpdate": lambda: kc.update(genp(acct="a"), {"labl": "x"}),
        "SecItemDelete": lambda: kc.delete(genp(acct="a")),
    }
    # another function is not affected
    other = "SecItemCopyMatching" if fn != "SecItemCopyMatching" else "SecItemUpdate"
    assert calls[other]() == OK
    assert calls[fn]() == -25291
    assert kc.count(genp()) == 1  # nothing happened
    assert calls[fn]() == OK


def test_fail_next_leaves_result_alone(kc: KC) -> None:
    """secsim_fail_next: the injected failure writes nothing to *result."""
    kc.lib.secsim_fail_next(b"SecItemCopyMatching", -25308)
    sentinel = kc.lib.kSecClass
    out = kc.ffi.new("CFTypeRef *", sentinel)
    q = kc.cf(genp(r_Data=True))
    try:
        assert kc.lib.SecItemCopyMatching(q, out) == -25308
    finally:
        kc.lib.CFRelease(q)
    assert out[0] == sentinel


def test_reset_restores_defaults(kc: KC) -> None:
    """secsim_reset: empty keychain, macos profile, no groups, unlocked, approving user."""
    kc.lib.secsim_set_profile(b"ios")
    kc.add_ok(genp(acct="a"))
    kc.lib.secsim_set_locked(1)
    kc.lib.secsim_set_user_response(2)
    kc.lib.secsim_fail_next(b"SecItemAdd", -1)
    kc.lib.secsim_reset()
    kc.add_ok(genp(acct="a"))  # no pending fault, macos FB
    assert kc.add(genp(acct="b", nleg=True))[0] == MISSING_ENTITLEMENT  # no groups again
    kc.lib.secsim_set_access_groups(APP_GROUP.encode())
    protected(kc, "macos", acct="p")
    assert kc.copy(genp(acct="p", nleg=True, r_Data=True)) == (OK, b"secret")


def test_set_profile_resets_groups(kc: KC) -> None:
    """secsim_set_profile: groups go back to the profile's default."""
    kc.lib.secsim_set_access_groups(b"x.y")
    kc.lib.secsim_set_profile(b"macos")
    assert kc.add(genp(acct="a", nleg=True))[0] == MISSING_ENTITLEMENT
    kc.lib.secsim_set_profile(b"ios")
    kc.add_ok(genp(acct="a"))


def test_ios_profile_has_no_file_based_keychain(kc: KC) -> None:
    """Profiles: ios is DP only (kSecUseDataProtectionKeychain false is ignored there)."""
    kc.lib.secsim_set_profile(b"ios")
    kc.add_ok(genp(acct="a", nleg=False))
    _st, a = kc.copy(genp(acct="a", r_Attributes=True))
    assert "agrp" in a and "class" not in a


def test_environment_configuration() -> None:
    """SECSIM_PROFILE / SECSIM_ACCESS_GROUPS are read at load and by secsim_reset."""
    code = """
    out = ffi.new("CFTypeRef *")
    q = cf({"class": "genp", "acct": "a", "r_Attributes": True})
    print(lib.SecItemAdd(q, ffi.NULL), lib.SecItemCopyMatching(q, out))
    print(simlib.from_cf(ffi, lib, out[0])["agrp"])
    """
    r = child(code, SECSIM_PROFILE="ios", SECSIM_ACCESS_GROUPS="T1.g1, T1.g2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0", "0", "T1.g1"]


def test_non_dictionary_argument_aborts() -> None:
    """Misuse: a dictionary argument that is not a CFDictionary aborts with a message."""
    r = child(
        """
    s = cf("not a dict")
    lib.SecItemAdd(ffi.cast("CFDictionaryRef", s), ffi.NULL)
    print("survived")
    """
    )
    assert r.returncode != 0 and "survived" not in r.stdout
    assert "secsim" in r.stderr


def test_unknown_fail_next_function_aborts() -> None:
    """secsim_fail_next with an unknown function name aborts (a test bug, not a status)."""
    r = child(
        """
    lib.secsim_fail_next(b"SecItemFrobnicate", -50)
    print("survived")
    """
    )
    assert r.returncode != 0 and "SecItemFrobnicate" in r.stderr


def test_threads_are_serialized(dpkc: KC, profile: str, run_threads: Any) -> None:
    """§6 T7: the four functions are safe to call from several threads at once."""

    def worker(t: int) -> None:
        for i in range(40):
            acct = f"t{t}-{i}"
            st, _ = dpkc.add(dp(genp(acct=acct, v_Data=acct.encode()), profile))
            assert st == OK
            st, data = dpkc.copy(dp(genp(acct=acct, r_Data=True), profile))
            assert (st, data) == (OK, acct.encode())
            assert dpkc.update(dp(genp(acct=acct), profile), {"labl": "x"}) == OK
            if i % 2:
                assert dpkc.delete(dp(genp(acct=acct), profile)) == OK

    errors = run_threads(worker, 4)
    assert not errors, errors
    assert dpkc.count(dp(genp(), profile)) == 4 * 20
