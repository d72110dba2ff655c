"""Uniqueness at scale: the emulator's primary-key index.

SecItemAdd / SecItemUpdate find duplicates through a hash index of the
keychain (sec_index.c: skindex and sec_item_key_hash).  These tests fill
the keychain with thousands of items and check that the index gives exactly
the answers of the engines' comparisons (facts 5.4 #4.3-#4.9, 5.5 #5.5):
every duplicate is still detected, including through equivalent spellings
(string/data, int/float, defaults), updates stay all-or-nothing, and the
index follows update, delete, reset and reload from SECSIM_STORE.  Behaviour
only: no timing assertions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .test_rules_helpers import APP_GROUP, DUPLICATE, KC, OK, dp, genp, inet
from .test_store import run

N = 5000


@pytest.fixture(params=[("macos", "fb"), ("macos", "dp"), ("ios", "dp")], ids=lambda p: "-".join(p))
def target(request: pytest.FixtureRequest, kc: KC) -> tuple[str, str]:
    """(profile, engine) -- fb: the file-based keychain (macos default
    routing); dp: the data-protection keychain (ios, or macos with nleg and
    an app group)."""
    profile, engine = request.param
    kc.lib.secsim_set_profile(profile.encode())
    if engine == "dp" and profile == "macos":
        kc.lib.secsim_set_access_groups(APP_GROUP.encode())
    return profile, engine


def aim(d: dict[str, Any], engine: str, profile: str) -> dict[str, Any]:
    return dp(d, profile) if engine == "dp" else dict(d)


def add(kc: KC, d: dict[str, Any]) -> int:
    st, _ = kc.add(d, want_result=False)
    return st


def test_every_item_still_a_duplicate_after_many_adds(kc: KC, target: tuple[str, str]) -> None:
    """5,000 adds, then adding any of them again is errSecDuplicateItem
    (4.3 / 4.8), also with the key spelled as data instead of a string."""
    profile, engine = target
    for i in range(N):
        assert add(kc, aim(genp(svce="s", acct=f"a{i}", v_Data=b"x"), engine, profile)) == OK
    for i in range(N):
        assert (
            add(kc, aim(genp(svce="s", acct=f"a{i}", v_Data=b"y"), engine, profile)) == DUPLICATE
        ), i
    # S-flag string/data equivalence (DP 4.9) / FB strings given as data
    for i in range(0, N, 37):
        d = aim(genp(svce=b"s", acct=f"a{i}".encode()), engine, profile)
        assert add(kc, d) == DUPLICATE, i
    # near misses are new items
    assert add(kc, aim(genp(svce="s", acct=f"a{N}"), engine, profile)) == OK
    assert add(kc, aim(genp(svce="s2", acct="a0"), engine, profile)) == OK
    assert add(kc, aim(genp(svce="s", acct="A0"), engine, profile)) == OK
    assert kc.count(aim(genp(svce="s"), engine, profile)) == N + 2


def test_equivalent_numbers_and_defaults_among_many(kc: KC, target: tuple[str, str]) -> None:
    """Internet passwords: a port given as a float or a decimal string is the
    same key as the integer (DP numbers compare as numbers, FB converts); a
    missing port is the default 0 (DP 4.6 / FB 4.8)."""
    profile, engine = target
    n = 2000
    for i in range(1, n + 1):
        d = inet(srvr=f"h{i}", acct="u", ptcl="htps", port=i)
        assert add(kc, aim(d, engine, profile)) == OK
    assert add(kc, aim(inet(srvr="h0", acct="u", ptcl="htps"), engine, profile)) == OK  # port 0
    for i in range(1, n + 1, 41):
        assert (
            add(kc, aim(inet(srvr=f"h{i}", acct="u", ptcl="htps", port=float(i)), engine, profile))
            == DUPLICATE
        )
        assert (
            add(kc, aim(inet(srvr=f"h{i}", acct="u", ptcl="htps", port=str(i)), engine, profile))
            == DUPLICATE
        )
    assert (
        add(kc, aim(inet(srvr="h0", acct="u", ptcl="htps", port=0), engine, profile)) == DUPLICATE
    )
    assert add(kc, aim(inet(srvr="h1", acct="u", ptcl="htps", port=2), engine, profile)) == OK


def test_dp_update_collision_all_or_nothing_at_scale(dpkc: KC, profile: str) -> None:
    """5.5: an update of thousands of items fails as a whole if one would
    collide, with an item outside the batch or within it; a non-colliding
    one changes them all, and the index follows the replaced items."""
    kc, n = dpkc, 3000
    for i in range(n):
        assert add(kc, dp(genp(svce="s", acct=f"a{i}", labl="old"), profile)) == OK
    assert add(kc, dp(genp(svce="t", acct=f"a{n - 1}"), profile)) == OK
    all_s = dp(genp(svce="s"), profile)
    assert kc.update(all_s, {"svce": "t"}) == DUPLICATE  # the last one meets t/a{n-1}
    assert kc.update(all_s, {"acct": "same"}) == DUPLICATE  # they meet each other
    assert kc.count(dp(genp(svce="s", labl="old"), profile)) == n
    assert kc.count(dp(genp(svce="t"), profile)) == 1
    assert kc.count(dp(genp(acct="same"), profile)) == 0
    # each updated item has its own old key: not a collision
    assert kc.update(all_s, {"labl": "new", "v_Data": b"z"}) == OK
    assert kc.count(dp(genp(svce="s", labl="new"), profile)) == n
    for i in range(0, n, 17):
        assert add(kc, dp(genp(svce="s", acct=f"a{i}"), profile)) == DUPLICATE, i
    # a key moved by an update is free again; the new one is taken
    assert kc.update(dp(genp(svce="s", acct="a7"), profile), {"acct": "moved"}) == OK
    assert add(kc, dp(genp(svce="s", acct="a7"), profile)) == OK
    assert add(kc, dp(genp(svce="s", acct="moved"), profile)) == DUPLICATE
    # deleted keys are free again, the others are not
    for i in range(0, n, 10):
        assert kc.delete(dp(genp(svce="s", acct=f"a{i}"), profile)) == OK
    for i in range(0, n, 10):
        assert add(kc, dp(genp(svce="s", acct=f"a{i}"), profile)) == OK, i
    for i in range(1, n, 10):
        assert add(kc, dp(genp(svce="s", acct=f"a{i}"), profile)) == DUPLICATE, i


def test_fb_update_stops_at_first_collision_at_scale(kc: KC, sim: Any) -> None:
    """FB (macos): items are updated one by one and the first collision stops
    the loop; the items updated before it stay updated."""
    sim.lib.secsim_set_profile(b"macos")
    n = 2000
    for i in range(n):
        assert add(kc, genp(svce="s", acct=f"a{i}")) == OK
    assert kc.update(genp(svce="s", m_Limit="m_LimitAll"), {"acct": "same"}) == DUPLICATE
    assert kc.count(genp(acct="same")) == 1
    assert kc.count(genp(svce="s")) == n
    assert add(kc, genp(svce="s", acct="same")) == DUPLICATE
    missing = [i for i in range(n) if add(kc, genp(svce="s", acct=f"a{i}")) == OK]
    assert len(missing) == 1  # only the renamed item's old key became free


def test_reset_empties_the_index(kc: KC, profile: str) -> None:
    for i in range(500):
        assert add(kc, genp(svce="s", acct=f"a{i}")) == OK
    kc.lib.secsim_reset()
    kc.lib.secsim_set_profile(profile.encode())
    for i in range(500):
        assert add(kc, genp(svce="s", acct=f"a{i}")) == OK


@pytest.mark.parametrize("profile_name", ["macos", "ios"])
def test_index_rebuilt_from_the_store_file(tmp_path: Path, profile_name: str) -> None:
    """SECSIM_STORE: a process that loads a keychain written by another one
    finds every duplicate; changes made by a third process are seen too."""
    store = tmp_path / "kc.bin"
    extra = {"SECSIM_PROFILE": profile_name}
    out = run(
        """
        print(sum(add({"class": "genp", "svce": "s", "acct": f"a{i}"}) for i in range(2000)))
        """,
        store,
        **extra,
    )
    assert out == "0"
    out = run(
        """
        sts = {add({"class": "genp", "svce": "s", "acct": f"a{i}"}) for i in range(2000)}
        print(sorted(sts))
        print(delete({"class": "genp", "svce": "s", "acct": "a5"}))
        """,
        store,
        **extra,
    )
    assert out.splitlines() == [f"[{DUPLICATE}]", "0"]
    out = run(
        """
        print(add({"class": "genp", "svce": "s", "acct": "a5"}),
              add({"class": "genp", "svce": "s", "acct": "a6"}))
        """,
        store,
        **extra,
    )
    assert out == f"0 {DUPLICATE}"
