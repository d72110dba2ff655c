"""Persistence: SECSIM_STORE shares one keychain between processes (flock +
atomic rename), rowids unique across processes, crash safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from .test_rules_helpers import APP_GROUP, KC, OK, genp

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PRELUDE = """
import os, sys
sys.path.insert(0, ".")
import simlib
ffi, lib = simlib.load(os.environ["SECITEM_LIBRARY"])
def cf(v): return simlib.to_cf(ffi, lib, v)
def add(d):
    r = cf(d); st = lib.SecItemAdd(r, ffi.NULL); lib.CFRelease(r); return st
def copy(d):
    r = cf(d); out = ffi.new("CFTypeRef *"); st = lib.SecItemCopyMatching(r, out); lib.CFRelease(r)
    if out[0] == ffi.NULL: return st, None
    v = simlib.from_cf(ffi, lib, out[0]); lib.CFRelease(out[0]); return st, v
def update(q, a):
    q = cf(q); a = cf(a); st = lib.SecItemUpdate(q, a)
    lib.CFRelease(q); lib.CFRelease(a); return st
def delete(d):
    r = cf(d); st = lib.SecItemDelete(r); lib.CFRelease(r); return st
"""


def _env(store: Path | None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    if store is not None:
        env["SECSIM_STORE"] = str(store)
    env.update(extra)
    return env


def child(
    code: str, store: Path | None = None, *, timeout: float = 120, **extra: str
) -> subprocess.CompletedProcess[str]:
    """``PRELUDE`` + ``code`` (dedented) in a new Python started in tests/, with
    SECSIM_STORE=``store`` (when given) and ``extra`` added to the environment."""
    return subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        cwd=TESTS_DIR,
        env=_env(store, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run(code: str, store: Path, **extra: str) -> str:
    """``child`` that must succeed; its output, stripped."""
    r = child(code, store, **extra)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def spawn(code: str, store: Path, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        cwd=TESTS_DIR,
        env=_env(store, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("profile", ["macos", "ios"])
def test_persistence_across_processes(tmp_path: Path, profile: str) -> None:
    """SECSIM_STORE: an item added by one process is read by the next one."""
    store = tmp_path / "kc.bin"
    extra = {"SECSIM_PROFILE": profile}
    assert (
        run(
            'print(add({"class": "genp", "acct": "a", "svce": "s", "v_Data": b"pw", "labl": "L"}))',
            store,
            **extra,
        )
        == "0"
    )
    assert store.exists()
    out = run(
        """
        st, v = copy({"class": "genp", "acct": "a", "r_Data": True, "r_Attributes": True})
        print(st, v["v_Data"].decode(), v["labl"], v["svce"])
    """,
        store,
        **extra,
    )
    assert out == "0 pw L s"
    # an update in a third process is seen by a fourth
    assert (
        run('print(update({"class": "genp", "acct": "a"}, {"v_Data": b"new"}))', store, **extra)
        == "0"
    )
    out = run(
        'print(copy({"class": "genp", "acct": "a", "r_Data": True})[1].decode())', store, **extra
    )
    assert out == "new"


def test_store_keeps_both_keychains_and_all_value_types(tmp_path: Path) -> None:
    """Persistence keeps FB and DP items and every value type (dates, numbers, access control)."""
    store = tmp_path / "kc.bin"
    extra = {"SECSIM_ACCESS_GROUPS": APP_GROUP}
    run(
        """
        ac = lib.SecAccessControlCreateWithFlags(ffi.NULL, cf("ck"), 2, ffi.NULL)
        print(add({"class": "genp", "acct": "dp", "nleg": True, "accc": ac, "gena": b"\\x00\\x01",
                   "crtr": 7, "invi": True}))
        lib.CFRelease(ac)
        print(add({"class": "inet", "acct": "fb", "srvr": "h", "ptcl": "htps", "port": 8443}))
    """,
        store,
        **extra,
    )
    out = run(
        """
        q = cf({"class": "genp", "acct": "dp", "nleg": True, "r_Attributes": True})
        out = ffi.new("CFTypeRef *")
        st = lib.SecItemCopyMatching(q, out)
        d = simlib.from_cf(ffi, lib, out[0])
        ac = d["accc"]
        expected = lib.SecAccessControlCreateWithFlags(ffi.NULL, cf("ck"), 2, ffi.NULL)
        print(st, d["gena"].hex(), d["crtr"], d["invi"], d["pdmn"], d["cdat"].year > 2000,
              lib.CFGetTypeID(ac) == lib.SecAccessControlGetTypeID()
              and bool(lib.CFEqual(ac, expected)))
        lib.CFRelease(expected); lib.CFRelease(out[0]); lib.CFRelease(q)
        st, d = copy({"class": "inet", "r_Attributes": True})
        print(st, d["srvr"], d["ptcl"], d["port"], d["class"])
    """,
        store,
        **extra,
    )
    assert out.splitlines() == ["0 0001 7 1 ck True True", "0 h htps 8443 inet"]


def test_in_process_store_sees_other_processes(kc: KC, tmp_path: Path, monkeypatch: Any) -> None:
    """SECSIM_STORE read by secsim_reset: this process and a child share the keychain,
    and every call reloads what another process wrote."""
    store = tmp_path / "kc.bin"
    monkeypatch.setenv("SECSIM_STORE", str(store))
    kc.lib.secsim_reset()
    kc.add_ok(genp(acct="parent", v_Data=b"p"))
    out = run(
        """
        print(copy({"class": "genp", "acct": "parent", "r_Data": True})[1].decode())
        print(add({"class": "genp", "acct": "child", "v_Data": b"c"}))
    """,
        store,
    )
    assert out.splitlines() == ["p", "0"]
    assert kc.copy(genp(acct="child", r_Data=True)) == (OK, b"c")
    assert kc.delete(genp(acct="child")) == OK
    assert run('print(copy({"class": "genp", "acct": "child"})[0])', store) == "-25300"


def test_reset_empties_the_store(kc: KC, tmp_path: Path, monkeypatch: Any) -> None:
    """secsim_reset with SECSIM_STORE empties the shared keychain."""
    store = tmp_path / "kc.bin"
    run('add({"class": "genp", "acct": "a"})', store)
    monkeypatch.setenv("SECSIM_STORE", str(store))
    kc.lib.secsim_reset()
    assert kc.count(genp()) == 0
    assert run('print(copy({"class": "genp"})[0])', store) == "-25300"


def test_rowids_unique_across_processes(tmp_path: Path) -> None:
    """Rowids (and so persistent refs) stay unique across processes."""
    store = tmp_path / "kc.bin"
    extra = {"SECSIM_PROFILE": "ios"}
    code = """
        import sys
        tag = sys.argv[-1] if len(sys.argv) > 1 else ""
        for i in range(5):
            assert add({"class": "genp", "acct": f"{os.getpid()}-{i}"}) == 0
    """
    run(code, store, **extra)
    run(code, store, **extra)
    out = run(
        """
        st, refs = copy({"class": "genp", "r_PersistentRef": True, "m_Limit": "m_LimitAll"})
        print(len(refs), len(set(refs)))
    """,
        store,
        **extra,
    )
    assert out == "10 10"


def test_concurrent_writers_end_consistent(tmp_path: Path) -> None:
    """Several processes adding, updating and deleting at once: no lost write,
    no duplicate rowid, a loadable file at the end."""
    store = tmp_path / "kc.bin"
    extra = {"SECSIM_PROFILE": "ios"}
    run('assert add({"class": "genp", "acct": "shared", "v_Data": b"0"}) == 0', store, **extra)
    worker = """
        me = os.getpid()
        for i in range(40):
            assert add({"class": "genp", "acct": f"w{me}-{i}", "v_Data": b"x"}) == 0
            assert update({"class": "genp", "acct": "shared"}, {"labl": f"{me}-{i}"}) == 0
            if i % 4 == 0:
                assert delete({"class": "genp", "acct": f"w{me}-{i}"}) == 0
        print("done")
    """
    procs = [spawn(worker, store, **extra) for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        assert out.strip() == "done"
    out = run(
        """
        st, items = copy({"class": "genp", "r_Attributes": True, "r_PersistentRef": True,
                          "m_Limit": "m_LimitAll"})
        refs = [d["v_PersistentRef"] for d in items]
        print(len(items), len(set(refs)))
    """,
        store,
        **extra,
    )
    assert out == f"{3 * 30 + 1} {3 * 30 + 1}"


def test_killed_writer_loses_nothing_committed(tmp_path: Path) -> None:
    """A process killed while writing leaves the previous complete file behind."""
    store = tmp_path / "kc.bin"
    extra = {"SECSIM_PROFILE": "ios"}
    p = spawn(
        """
        i = 0
        while True:
            assert add({"class": "genp", "acct": f"k{i}", "v_Data": b"y" * 2000}) == 0
            print(i, flush=True)
            i += 1
    """,
        store,
        **extra,
    )
    assert p.stdout is not None
    committed = -1
    deadline = time.time() + 30
    while committed < 20 and time.time() < deadline:
        line = p.stdout.readline()
        if line:
            committed = int(line)
    p.send_signal(signal.SIGKILL)
    p.wait()
    p.stdout.close()
    p.stderr.close()
    out = run(
        'print(copy({"class": "genp", "m_Limit": "m_LimitAll", "r_Attributes": True})[0])',
        store,
        **extra,
    )
    assert out == "0"
    n = int(
        run(
            'print(len(copy({"class": "genp", "m_Limit": "m_LimitAll", "r_Attributes": True})[1]))',
            store,
            **extra,
        )
    )
    assert n >= committed + 1  # every acknowledged add is there (maybe one more)


def test_corrupt_store_reports_io_error(tmp_path: Path) -> None:
    """A store file that is not ours -> errSecIO (-36), not a crash."""
    store = tmp_path / "kc.bin"
    store.write_bytes(b"this is not a keychain")
    assert run('print(add({"class": "genp", "acct": "a"}))', store) == "-36"
