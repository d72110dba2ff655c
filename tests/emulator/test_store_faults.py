"""SECSIM_STORE under faults (issue #11 items 3, 4, 5): corrupt files, failed
writes, writers killed mid-write, file permissions.

Each test's docstring names the defect it pins.  The store format helpers are
in test_store_format.py; the mutation fuzz of the loader is test_store_fuzz.py.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import stat
import struct
from pathlib import Path
from typing import Any

import pytest

from . import test_rules_helpers as _helpers
from .test_rules_helpers import IO_ERROR, KC, NOT_FOUND, OK, genp
from .test_store import child, run
from .test_store_format import ACCC, STR, build, parse

ALL_CALLS = """
print(copy({"class": "genp", "m_Limit": "m_LimitAll", "r_Attributes": True})[0],
      add({"class": "genp", "acct": "new"}),
      update({"class": "genp"}, {"labl": "x"}),
      delete({"class": "genp"}))
"""


def _temps(store: Path) -> list[str]:
    return sorted(p.name for p in store.parent.iterdir() if ".tmp" in p.name)


def _seed(store: Path, **extra: str) -> None:
    run(
        """
        assert add({"class": "genp", "acct": "a", "svce": "s", "v_Data": b"pw", "labl": "L"}) == 0
        ac = lib.SecAccessControlCreateWithFlags(ffi.NULL, cf("ck"), 2, ffi.NULL)
        assert add({"class": "genp", "acct": "dp", "nleg": True, "accc": ac, "v_Data": b"x"}) == 0
        lib.CFRelease(ac)
    """,
        store,
        SECSIM_ACCESS_GROUPS=_helpers.APP_GROUP,
        **extra,
    )


# ---------------------------------------------------------------------------
# item 3: corrupt files are errSecIO, never an abort


def test_attribute_key_not_utf8_is_io_error(tmp_path: Path) -> None:
    """Issue #11 item 3: a store file whose attribute key bytes are not valid
    UTF-8 aborted the process ("CFHash() called with NULL") when a result was
    built; every call must return errSecIO (-36) instead."""
    store = tmp_path / "kc.bin"
    _seed(store)
    s = parse(store.read_bytes())
    acct = next(a for a in s.items[0].attrs if a.key == b"acct")
    acct.key = b"\xff\xfect"
    store.write_bytes(build(s))
    assert run(ALL_CALLS, store) == "-36 -36 -36 -36"


@pytest.mark.parametrize(
    "protection",
    [b"\xff\xfe", b"zz", b""],
    ids=["not-utf8", "unknown", "empty"],
)
def test_access_control_with_bad_protection_is_io_error(tmp_path: Path, protection: bytes) -> None:
    """Issue #11 item 3, same class: a stored access control whose protection
    is not UTF-8 made a SecAccessControl around a NULL string (abort on CFHash
    of the result); one that is no protection constant cannot have been
    written by SecItemAdd.  Both are corruption: errSecIO (-36)."""
    store = tmp_path / "kc.bin"
    _seed(store)
    s = parse(store.read_bytes())
    accc = next(a for it in s.items for a in it.attrs if a.tag == ACCC)
    accc.blob = protection
    store.write_bytes(build(s))
    code = """
        q = cf({"class": "genp", "nleg": True, "r_Attributes": True})
        out = ffi.new("CFTypeRef *")
        st = lib.SecItemCopyMatching(q, out)
        if out[0] != ffi.NULL:
            for v in simlib.from_cf(ffi, lib, out[0]).values():
                if isinstance(v, ffi.CData):  # the SecAccessControl
                    lib.CFHash(v)
            lib.CFRelease(out[0])
        lib.CFRelease(q)
        print(st)
    """
    assert run(code, store, SECSIM_ACCESS_GROUPS=_helpers.APP_GROUP) == "-36"


def test_string_value_not_utf8_is_io_error(tmp_path: Path) -> None:
    """Issue #11 item 3, same class: a string value that is not in the form
    the emulator stores strings in (UTF-8, an unpaired surrogate as its 3
    bytes) cannot have been written (strings come from CFStrings); it is
    corruption (-36), not data handed back in another type."""
    store = tmp_path / "kc.bin"
    _seed(store)
    s = parse(store.read_bytes())
    labl = next(a for a in s.items[0].attrs if a.key == b"labl")
    assert labl.tag == STR
    labl.blob = b"L\xff\xfe"  # never in UTF-8
    store.write_bytes(build(s))
    assert run(ALL_CALLS, store) == "-36 -36 -36 -36"


def test_rowid_counter_at_its_limit_is_io_error(tmp_path: Path) -> None:
    """Issue #11 item 3, same class: a rowid counter of INT64_MAX was loaded
    and the next add overflowed it (signed overflow: undefined behaviour, an
    abort under UBSan, a negative rowid otherwise).  So were rowids outside
    the counter.  Both are corruption (-36)."""
    store = tmp_path / "kc.bin"
    _seed(store)
    raw = store.read_bytes()
    s = parse(raw)
    s.next_rowid = 2**63 - 1
    store.write_bytes(build(s))
    assert run(ALL_CALLS, store) == "-36 -36 -36 -36"
    s = parse(raw)
    s.items[0].rowid = s.next_rowid  # not yet handed out
    store.write_bytes(build(s))
    assert run(ALL_CALLS, store) == "-36 -36 -36 -36"


def test_duplicate_attribute_and_huge_counts_are_io_errors(tmp_path: Path) -> None:
    """Issue #11 item 3, same class: an attribute twice in one item, or item
    and attribute counts far beyond the file, are corruption (-36); a count
    must never make the loader allocate or loop by the count."""
    store = tmp_path / "kc.bin"
    _seed(store)
    raw = store.read_bytes()
    s = parse(raw)
    s.items[0].attrs.append(s.items[0].attrs[0])
    store.write_bytes(build(s))
    assert run(ALL_CALLS, store) == "-36 -36 -36 -36"
    store.write_bytes(build(parse(raw), count=0xFFFFFFFF))
    assert run(ALL_CALLS, store) == "-36 -36 -36 -36"
    # the first item's attribute count (after impl, class, rowid, data)
    off = 32 + 1 + 1 + 8 + 4 + len(parse(raw).items[0].data)
    store.write_bytes(raw[:off] + struct.pack("<I", 0xFFFFFFFF) + raw[off + 4 :])
    assert run(ALL_CALLS, store) == "-36 -36 -36 -36"


@pytest.mark.parametrize("case", ["protection-not-a-constant", "access-control-disagrees"])
def test_data_protection_item_without_its_access_invariants_is_io_error(
    tmp_path: Path, case: str
) -> None:
    """Issue #11 item 3, same class (found by the libFuzzer run): a
    data-protection item whose protection (pdmn) is no constant, or whose
    access control names another protection, was loaded; every update of it
    then failed with -50.  Items are written with those invariants, so a
    file without them is corruption (-36)."""
    store = tmp_path / "kc.bin"
    _seed(store)
    s = parse(store.read_bytes())
    dp = next(it for it in s.items if any(a.tag == ACCC for a in it.attrs))
    pdmn = next(a for a in dp.attrs if a.key == b"pdmn")
    pdmn.blob = b"\0\0" if case == "protection-not-a-constant" else b"ak"
    store.write_bytes(build(s))
    code = 'print(update({"class": "genp", "nleg": True}, {"labl": "x"}))'
    assert run(code, store, SECSIM_ACCESS_GROUPS=_helpers.APP_GROUP) == "-36"


def test_store_path_that_is_a_fifo_is_io_error(tmp_path: Path) -> None:
    """Issue #11 item 3, same class (unchecked read): a store path naming a
    FIFO blocked the call forever in open(); anything but a regular file is
    errSecIO (-36) at once."""
    store = tmp_path / "kc.bin"
    os.mkfifo(store)
    r = child(ALL_CALLS, store, timeout=60)  # a regression blocks in open()
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "-36 -36 -36 -36"


# ---------------------------------------------------------------------------
# item 4: a failed write is an error and changes nothing

FSIZE_CHILD = """
import json, random, resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, resource.RLIM_INFINITY))
rng = random.Random(11)
model = {}  # account -> secret, for every acknowledged change
counts = {"ok": 0, "io": 0}
def secret_of(acct):
    st, v = copy({"class": "genp", "acct": acct, "r_Data": True})
    return v if st == 0 else st
for i in range(200):
    r = rng.random()
    if r < 0.7 or not model:
        acct, data = f"acct{i}", bytes(rng.randrange(256) for _ in range(120))
        st = add({"class": "genp", "acct": acct, "svce": "svc", "v_Data": data})
        if st == 0:
            model[acct] = data
    elif r < 0.9:
        acct = rng.choice(sorted(model))
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(50, 400)))
        st = update({"class": "genp", "acct": acct}, {"v_Data": data})
        if st == 0:
            model[acct] = data
    else:
        acct = rng.choice(sorted(model))
        st = delete({"class": "genp", "acct": acct})
        if st == 0:
            del model[acct]
    assert st in (0, -36), (i, st)
    counts["ok" if st == 0 else "io"] += 1
    # this process's keychain is what was acknowledged, nothing more
    assert secret_of(acct) == model.get(acct, -25300), (i, acct)
print(json.dumps({"counts": counts, "model": {k: v.hex() for k, v in model.items()}}))
"""

READ_ALL = """
import json
st, items = copy({"class": "genp", "m_Limit": 1000, "r_Attributes": True, "r_Data": True})
print(json.dumps({d["acct"]: d["v_Data"].hex() for d in (items if st == 0 else [])}))
"""


def test_saves_past_the_file_size_limit_fail_and_leave_nothing(tmp_path: Path) -> None:
    """Issue #11 item 4: when writing the store failed (here RLIMIT_FSIZE at
    16 KB, so EFBIG after a short write), SecItemAdd/Update/Delete still
    returned success and the change was lost.  Of 200 saves, each one that
    returned 0 is found by a fresh process, each one that failed returned -36
    and left nothing behind: no change in this process, none on disk, no
    temporary file."""
    store = tmp_path / "kc.bin"
    out = json.loads(run(FSIZE_CHILD, store, PYTHONDONTWRITEBYTECODE="1"))
    assert out["counts"]["ok"] > 20 and out["counts"]["io"] > 20, out["counts"]
    assert json.loads(run(READ_ALL, store)) == out["model"]
    assert _temps(store) == []


STEPS = ["open", "write", "fsync", "close", "rename"]


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("op", ["add", "update", "delete"])
def test_write_failure_at_each_step_changes_nothing(
    kc: KC, tmp_path: Path, monkeypatch: Any, step: str, op: str
) -> None:
    """Issue #11 item 4: a store write failing at any step (open, a short
    write, fsync, close, rename) makes the call that changed something return
    errSecIO (-36); the file keeps its bytes, the in-memory keychain is as
    before the call, no result object is handed back, no temporary is left,
    and the next call (no fault) works."""
    store = tmp_path / "kc.bin"
    monkeypatch.setenv("SECSIM_STORE", str(store))
    kc.lib.secsim_reset()
    kc.add_ok(genp(acct="keep", v_Data=b"old"))
    before = store.read_bytes()

    def do() -> tuple[int, Any]:
        if op == "add":
            return kc.add_raw(genp(acct="new", v_Data=b"n"))
        if op == "update":
            return kc.update(genp(acct="keep"), {"v_Data": b"changed"}), None
        return kc.delete(genp(acct="keep")), None

    kc.lib.secsim_fail_store_write(step.encode())
    assert do() == (IO_ERROR, None)
    assert store.read_bytes() == before
    assert _temps(store) == []
    assert kc.copy(genp(acct="keep", r_Data=True)) == (OK, b"old")
    assert kc.copy(genp(acct="new"))[0] == NOT_FOUND
    st, _ = do()
    assert st == OK
    assert store.read_bytes() != before


def test_failed_write_does_not_consume_rowids(kc: KC, tmp_path: Path, monkeypatch: Any) -> None:
    """Issue #11 item 4: memory is rolled back whole, the rowid counter too:
    the add after a failed add gets the rowid the failed one would have had
    (as if the failed call never happened)."""
    store = tmp_path / "kc.bin"
    monkeypatch.setenv("SECSIM_STORE", str(store))
    kc.lib.secsim_reset()

    def next_rowid() -> int:
        return int(parse(store.read_bytes()).next_rowid)

    kc.add_ok(genp(acct="a"))
    counter = next_rowid()
    kc.lib.secsim_fail_store_write(b"rename")
    assert kc.add(genp(acct="b"), want_result=False)[0] == IO_ERROR
    kc.add_ok(genp(acct="c"))
    assert next_rowid() == counter + 1


# ---------------------------------------------------------------------------
# item 5: stale temporaries and permissions

KILLED_CHILD = """
import resource, signal
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
# SIGXFSZ with its default action (Python ignores it): the writer is killed
# in the middle of writing its temporary file, as by a kill -9 at the worst
# moment.
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
resource.setrlimit(resource.RLIMIT_FSIZE, (8192, resource.RLIM_INFINITY))
i = 0
while True:
    assert add({"class": "genp", "acct": f"k{i}", "v_Data": b"DELETED-SECRET-%d" % i * 40}) == 0
    i += 1
"""


def test_temporary_of_a_killed_writer_is_removed_by_the_next_write(tmp_path: Path) -> None:
    """Issue #11 item 5: a writer killed mid-write left STORE.tmp.<pid>, a
    copy of the keychain with its secrets, that nobody removed (so a deleted
    secret stayed on disk).  The next write removes it; the store stays
    loadable and owner-only."""
    store = tmp_path / "kc.bin"
    r = child(KILLED_CHILD, store, PYTHONDONTWRITEBYTECODE="1")
    assert r.returncode == -signal.SIGXFSZ, r.stderr
    temps = _temps(store)
    assert len(temps) == 1 and temps[0].startswith("kc.bin.tmp."), temps
    stale = store.parent / temps[0]
    assert b"DELETED-SECRET-0" in stale.read_bytes()
    assert stat.S_IMODE(stale.stat().st_mode) == 0o600
    # the secret is deleted; a read alone does not write, the delete does
    assert run('print(copy({"class": "genp", "acct": "k0"})[0])', store) == "0"
    assert _temps(store) == temps
    assert run('print(delete({"class": "genp", "acct": "k0"}))', store) == "0"
    assert _temps(store) == []
    assert b"DELETED-SECRET-0" not in store.read_bytes()
    assert stat.S_IMODE(store.stat().st_mode) == 0o600


def test_stale_temporaries_are_told_by_lock(tmp_path: Path) -> None:
    """Issue #11 item 5: a temporary is removed only when no process holds
    its lock (decided by lock, not by age or pid), and only names of the
    form <store>.tmp.<digits> are touched."""
    store = tmp_path / "kc.bin"
    run('assert add({"class": "genp", "acct": "a"}) == 0', store)
    held = tmp_path / "kc.bin.tmp.999999999"
    stale = tmp_path / "kc.bin.tmp.1"
    others = [
        tmp_path / n for n in ("kc.bin.tmp.12x", "kc.bin.tmp.", "other.bin.tmp.5", "kc.bin.tmpx")
    ]
    for p in [held, stale, *others]:
        p.write_bytes(b"copy of a keychain")
    fd = os.open(held, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a live writer's temporary
        run('assert add({"class": "genp", "acct": "b"}) == 0', store)
        assert held.exists() and not stale.exists()
        assert all(p.exists() for p in others)
    finally:
        os.close(fd)  # the writer is gone
    run('assert add({"class": "genp", "acct": "c"}) == 0', store)
    assert not held.exists()
    assert all(p.exists() for p in others)


def test_store_is_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    """Issue #11 item 5: the store and its temporaries are owner-only (0600)
    under a permissive umask, also when a file of the temporary's name was
    already there (a stale one of an earlier process with the same pid, whose
    mode open(O_TRUNC) kept: the store came out 0666), and a symlink planted
    under that name is never written through."""
    store = tmp_path / "kc.bin"
    victim = tmp_path / "victim"
    victim.write_bytes(b"not yours")
    code = f"""
        os.umask(0)
        tmp = os.environ["SECSIM_STORE"] + ".tmp." + str(os.getpid())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT, 0o666)
        os.write(fd, b"stale"); os.close(fd)
        assert add({{"class": "genp", "acct": "a", "v_Data": b"s"}}) == 0
        os.symlink({str(victim)!r}, tmp)
        assert add({{"class": "genp", "acct": "b", "v_Data": b"s"}}) == 0
    """
    run(code, store)
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert stat.S_ISREG(store.lstat().st_mode)
    assert stat.S_IMODE((tmp_path / "kc.bin.lock").stat().st_mode) == 0o600
    assert victim.read_bytes() == b"not yours"
    assert _temps(store) == []


# ---------------------------------------------------------------------------
# same class elsewhere: lock sharing after fork, allocation failures

FORK_CHILD = """
import fcntl, time
assert add({"class": "genp", "acct": "parent"}) == 0  # the emulator opened its lock file
lock = os.path.realpath(os.environ["SECSIM_STORE"] + ".lock")
def points_to_lock(fd):
    try:
        return os.readlink(f"/proc/self/fd/{fd}") == lock
    except OSError:
        return False
shared = [int(fd) for fd in os.listdir("/proc/self/fd") if points_to_lock(fd)]
assert len(shared) == 1, shared
fcntl.flock(shared[0], fcntl.LOCK_EX)  # this process is now "inside a call"
pid = os.fork()
if pid == 0:
    st = add({"class": "genp", "acct": "child"})
    os._exit(0 if st == 0 else 1)
state = None
for _ in range(100000):  # until the child either finished or waits for the lock
    if os.waitpid(pid, os.WNOHANG)[0] == pid:
        state = "ran while the parent held the lock"
        break
    with open(f"/proc/{pid}/wchan") as f:
        if "lock" in f.read():
            state = "waited for the lock"
            break
    time.sleep(0.002)
fcntl.flock(shared[0], fcntl.LOCK_UN)
if state == "waited for the lock":
    _, status = os.waitpid(pid, 0)
    assert status == 0
print(state)
"""


def test_forked_child_takes_its_own_store_lock(tmp_path: Path) -> None:
    """Issue #11 items 4/5, same class (the store lock): a child forked after
    the emulator opened its lock file shared the open file description, so
    its flock succeeded while the parent was inside a call (two writers at
    once: lost updates) and its unlock released the parent's lock.  The child
    now opens a lock of its own and waits."""
    store = tmp_path / "kc.bin"
    assert run(FORK_CHILD, store) == "waited for the lock"
    out = run('print(len(copy({"class": "genp", "m_Limit": "m_LimitAll"})[1]))', store)
    assert out == "2"


BIG_FILE_CHILD = """
import resource
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, resource.RLIM_INFINITY))
print(copy({"class": "genp"})[0], add({"class": "genp", "acct": "x"}))
"""


@pytest.mark.skipif(
    "asan" in os.environ.get("LD_PRELOAD", ""),
    reason="AddressSanitizer reserves terabytes of address space: RLIMIT_AS cannot be used",
)
def test_store_too_big_for_memory_is_io_error(tmp_path: Path) -> None:
    """Issue #11 item 3, same class (unchecked allocation): a store file
    bigger than the memory the process may use aborted it ("secsim: out of
    memory") while reading; it is errSecIO (-36) like any unreadable store."""
    store = tmp_path / "kc.bin"
    _seed(store)
    with store.open("r+b") as f:
        f.truncate(2 << 30)  # sparse: no disk space used
    assert run(BIG_FILE_CHILD, store) == "-36 -36"
