"""Issue #11 item 3: a corrupt SECSIM_STORE file must make the calls return
errSecIO (-36), never abort the process.

A deterministic, bounded mutation fuzz of the store loader: one child process
makes a valid store with the emulator (every class, both keychains, every
value type), then loads a few thousand mutants of it (bit flips, truncation,
huge lengths and counts, invalid UTF-8 keys and strings, wrong type tags,
rowids at the limits, duplicates) and drives the four SecItem functions on
each, walking every result object (CFHash, CFEqual, CFCopyDescription).  An
abort shows up as the child dying, with the case it was on.

The coverage-guided fuzz of the same loader (libFuzzer, on the sanitizer
build) is tests/fuzz/, run by .ci/run; see docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from .test_rules_helpers import APP_GROUP, IO_ERROR
from .test_store import TESTS_DIR

CASES = 1000
SEED = 20240611

# What a call may answer on a file that loaded (or on the valid seed).
ANSWERS = {
    "copy": {0, -25300},
    "add": {0, -25299},
    "update": {0, -25300, -25299},
    "delete": {0, -25300},
}
CLASSES = ["genp", "inet", "cert", "keys", "idnt"]


def child_main(cases: int, seed: int) -> None:
    """Runs in the child process (SECITEM_LIBRARY and SECSIM_STORE set)."""
    import simlib

    from .test_store_format import mutate, with_gen

    ffi, lib = simlib.load(os.environ["SECITEM_LIBRARY"])
    store = Path(os.environ["SECSIM_STORE"])

    def cf(v: Any) -> Any:
        return simlib.to_cf(ffi, lib, v)

    def walk(ref: Any, depth: int = 0) -> None:
        """Touch every object of a result the way a caller would."""
        lib.CFHash(ref)
        assert lib.CFEqual(ref, ref)
        desc = lib.CFCopyDescription(ref)
        if desc != ffi.NULL:
            lib.CFRelease(desc)
        tid = lib.CFGetTypeID(ref)
        if tid == lib.CFArrayGetTypeID():
            for i in range(lib.CFArrayGetCount(ref)):
                walk(lib.CFArrayGetValueAtIndex(ref, i), depth + 1)
        elif tid == lib.CFDictionaryGetTypeID():
            n = lib.CFDictionaryGetCount(ref)
            keys = ffi.new("const void *[]", max(n, 1))
            values = ffi.new("const void *[]", max(n, 1))
            lib.CFDictionaryGetKeysAndValues(ref, keys, values)
            for i in range(n):
                walk(keys[i], depth + 1)
                walk(values[i], depth + 1)
        elif tid == lib.CFStringGetTypeID():
            # read it as a caller would; how much converts is CF's business
            # (an unpaired surrogate, which a stored string may hold, has no
            # UTF-8)
            n = lib.CFStringGetLength(ref)
            size = lib.CFStringGetMaximumSizeForEncoding(n, simlib.kCFStringEncodingUTF8)
            buf = ffi.new("UInt8[]", max(size, 1))
            rng = ffi.new("CFRange *", (0, n))[0]
            lib.CFStringGetBytes(
                ref, rng, simlib.kCFStringEncodingUTF8, ord("?"), False, buf, size, ffi.NULL
            )
        elif tid == lib.CFDataGetTypeID():
            bytes(ffi.buffer(lib.CFDataGetBytePtr(ref), lib.CFDataGetLength(ref)))
        elif tid == lib.CFDateGetTypeID():
            lib.CFDateGetAbsoluteTime(ref)

    def call(fn: Any, *dicts: dict[str, Any], result: bool = False) -> int:
        refs = [cf(d) for d in dicts]
        try:
            if not result:
                return int(fn(*refs))
            out = ffi.new("CFTypeRef *")
            st = int(fn(*refs, out))
            if out[0] != ffi.NULL:
                walk(out[0])
                lib.CFRelease(out[0])
            return st
        finally:
            for r in refs:
                lib.CFRelease(r)

    def exercise(i: int) -> dict[str, int]:
        sts = {}
        for c in CLASSES:
            sts[f"copy {c}"] = call(
                lib.SecItemCopyMatching,
                {
                    "class": c,
                    "m_Limit": 1000,
                    "r_Attributes": True,
                    "r_Data": True,
                    "r_PersistentRef": True,
                    "r_Ref": True,
                },
                result=True,
            )
        sts["copy refs"] = call(
            lib.SecItemCopyMatching, {"class": "genp", "m_Limit": 1000}, result=True
        )
        sts["add"] = call(
            lib.SecItemAdd, {"class": "genp", "acct": f"new{i}", "v_Data": b"n"}, result=True
        )
        sts["add dp"] = call(
            lib.SecItemAdd,
            {"class": "inet", "nleg": True, "acct": "dpi", "srvr": "h2", "port": 1},
            result=True,
        )
        sts["update"] = call(
            lib.SecItemUpdate, {"class": "genp", "m_Limit": "m_LimitAll"}, {"labl": f"u{i}"}
        )
        sts["update dp"] = call(lib.SecItemUpdate, {"class": "keys", "nleg": True}, {"atag": b"u"})
        sts["delete"] = call(lib.SecItemDelete, {"class": "inet", "m_Limit": "m_LimitAll"})
        return sts

    seed_items, ac = simlib.store_seed_items(ffi, lib)
    for d in seed_items:
        assert call(lib.SecItemAdd, d, result=True) == 0, d
    lib.CFRelease(ac)
    seed_raw = store.read_bytes()

    def check(i: int, sts: dict[str, int]) -> str:
        first = sts["copy genp"]
        if first == IO_ERROR:
            bad = {k: v for k, v in sts.items() if v != IO_ERROR}
            assert not bad, f"case {i}: rejected file, yet {bad}"
            return "rejected"
        for k, v in sts.items():
            assert v in ANSWERS[k.split()[0]], f"case {i}: {k} -> {v} on a file that loaded"
        return "loaded"

    live = lib.secsim_live_objects()
    assert check(-1, exercise(-1)) == "loaded"
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    for i in range(cases):
        mutant = with_gen(mutate(rng, seed_raw), 10_000_000 + i)  # a new generation: reloaded
        store.write_bytes(mutant)
        print(i, flush=True)
        outcomes[check(i, exercise(i))] += 1
        assert lib.secsim_live_objects() == live, f"case {i}: CF objects leaked"
    print(json.dumps(outcomes), flush=True)


def test_store_loader_survives_mutated_files(tmp_path: Path) -> None:
    """Issue #11 item 3: no mutated store file aborts the process; each one is
    either rejected (every call -36) or loaded (every call answers as on a good
    file), and no CF object leaks.  Before the fix an attribute key that is
    not UTF-8 aborted with "CFHash() called with NULL"."""
    # On tmpfs when there is one: the loaded cases write the file, and fsync
    # on a disk would make this test slow without testing anything more.
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    workdir = Path(tempfile.mkdtemp(dir=shm)) if shm else tmp_path
    env = dict(os.environ)
    env["SECSIM_STORE"] = str(workdir / "kc.bin")
    env["SECSIM_ACCESS_GROUPS"] = APP_GROUP
    env["SECSIM_PROFILE"] = "macos"
    code = f"from emulator.test_store_fuzz import child_main; child_main({CASES}, {SEED})"
    r = subprocess.run(
        [sys.executable, "-c", code],
        cwd=TESTS_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if workdir != tmp_path:
        for f in workdir.iterdir():
            f.unlink()
        workdir.rmdir()
    lines = r.stdout.strip().splitlines()
    last = lines[-1] if lines else "none"
    assert r.returncode == 0, f"child died (rc {r.returncode}) at case {last}:\n{r.stderr[-3000:]}"
    outcomes = json.loads(last)
    # Both kinds happened, so the fuzz tested both paths.
    assert outcomes["rejected"] > CASES // 4, outcomes
    assert outcomes["loaded"] > CASES // 20, outcomes
