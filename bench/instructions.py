"""Instructions per call, counted by valgrind (callgrind): numbers that noise cannot move.

Run from the repository root (needs ``valgrind``; not part of the tests)::

    python bench/instructions.py                # every case; writes bench/instructions.json
    python bench/instructions.py --n 2000       # more iterations per case
    SECITEM_BENCH_SRC=/other/src python bench/instructions.py   # another source tree

Timing on a shared VM moves by up to 2x between runs; user-space instruction
counts do not (they move by well under 1%).  Each case runs twice under
callgrind in a fresh interpreter, with ``n`` iterations and with none; the
difference divided by ``n`` is the cost of one iteration, setup excluded.
The cases: the cost of one cffi ABI-mode call (a trivial one, and
``CFStringGetBytes`` with its by-value ``CFRange``), reading one
attribute dictionary, and the ``secitem.security`` operations of
``bench/run.py`` next to the same operation made by the C driver
(``bench/cdriver.c one OP N``), emulator profile ``ios``.  "Python - C" is
the overhead of ``secitem.security`` in instructions; it is turned into
microseconds at this machine's best speed (a trivial cffi call's
instructions over its best-of-15 time).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402  (also puts SECITEM_BENCH_SRC / src on sys.path)

#: case -> (what one iteration does, the C driver's twin operation or None)
CASES: dict[str, tuple[str, str | None]] = {
    "python: call of a one-line function": ("a Python-level call, for scale", None),
    "cffi ABI call: CFGetTypeID": ("the cheapest native call: one pointer argument", None),
    "cffi ABI call: CFStringGetLength": ("one pointer argument, returns CFIndex", None),
    "cffi ABI call: CFStringGetBytes": ("8 arguments, one a CFRange struct by value", None),
    "read a 12-entry attribute dictionary": ("_from_cf conversion of a get-with-data result", None),
    "security: get with data": ("attributes + data + persistent ref, one item", "get"),
    "security: get secret only": ("data only, one item", "get_data"),
    "security: find all metadata (10 items)": ("10 attribute dicts + refs", "find"),
    "security: update": ("SecItemUpdate of the data", "update"),
    "security: add + delete": ("SecItemAdd (persistent ref back), SecItemDelete", "add_delete"),
    "CredentialStore.get(account)": ("the store's secret-only read", "store_get_data"),
}

#: keyring's ctypes backend and secitem.security making keyring's calls
#: (``bench/keyring_ctypes.py``; emulator profile ``macos``): case -> (layer, series
#: of ``run.KEYRING_PLAN`` per iteration).  "set new + delete" is one of each.
KEYRING_CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    f"{label}: {operation}": (layer, series)
    for layer, label in (("keyring", "keyring ctypes"), ("security", "security, keyring's calls"))
    for operation, series in (
        ("get password", ("get",)),
        ("set (existing account)", ("set_existing",)),
        ("set (new account) + delete", ("set_new", "delete")),
    )
}
CASES.update({case: ("profile macos", None) for case in KEYRING_CASES})


def _setup(case: str) -> Callable[[], object]:
    """Prepare ``case`` and return one iteration of it."""
    if case in KEYRING_CASES:
        return _keyring_case(*KEYRING_CASES[case])
    from secitem import _cfobjects, _convert, _from_cf, _runtime
    from secitem._ffi import ffi

    layers = run.Layers("ios")
    rt = _runtime.runtime()
    run._populate_find(layers, 10)
    layers.sec_add_noreturn(0)
    text = rt.cf.CFStringCreateWithBytes(ffi.NULL, b"hello", 5, 0x08000100, 0)
    buffer, used, _chars = _from_cf._scratch.strings
    whole = _from_cf._RANGES[5]
    if case == "python: call of a one-line function":

        def one_line(value: object = text) -> object:
            return value

        return one_line
    if case == "cffi ABI call: CFGetTypeID":
        get_type_id = rt.CFGetTypeID
        return lambda: get_type_id(text)
    if case == "cffi ABI call: CFStringGetLength":
        get_length = rt.cf.CFStringGetLength
        return lambda: get_length(text)
    if case == "cffi ABI call: CFStringGetBytes":
        get_bytes = rt.cf.CFStringGetBytes
        return lambda: get_bytes(text, whole, 0x08000100, 0, 0, buffer, 15, used)
    if case == "read a 12-entry attribute dictionary":
        query = dict(layers._identity(0))
        query.update(
            {
                layers.S.kSecReturnAttributes: True,
                layers.S.kSecReturnData: True,
                layers.S.kSecReturnPersistentRef: True,
            }
        )
        ref, owner = _convert.convert(query)
        out = ffi.new("CFTypeRef *")
        rt.sec.SecItemCopyMatching(ref, out)
        owner.release()
        result = out[0]  # kept until the process ends
        return lambda: _cfobjects.close_all(_from_cf.dictionary_out(rt, result))
    if case == "security: get with data":
        return lambda: layers.sec_get(0)
    if case == "security: get secret only":
        return lambda: layers.sec_get_data(0)
    if case == "security: find all metadata (10 items)":
        return lambda: layers.sec_find(0)
    if case == "security: update":
        return lambda: layers.sec_update(0)
    if case == "CredentialStore.get(account)":
        layers.sec_delete(0)
        layers.st_save(0)  # the store reads only items it marked as its own
        return lambda: layers.st_get(0)
    if case == "security: add + delete":
        layers.sec_delete(0)

        def add_delete() -> None:
            layers.sec_add(0)
            layers.sec_delete(0)

        return add_delete
    raise SystemExit(f"unknown case {case!r}")


def _keyring_case(layer_name: str, series: tuple[str, ...]) -> Callable[[], object]:
    """One of keyring's operations through keyring's module or secitem.security."""
    os.environ["SECSIM_PROFILE"] = "macos"  # before the library loads (keyring's values)
    from keyring_ctypes import KeyringCtypes, SecitemSameCalls, load_api

    from secitem import security

    sx = SecitemSameCalls(security, run.SERVICE)
    layer: Any = sx
    if layer_name == "keyring":
        layer = KeyringCtypes(load_api(Path(os.environ["SECITEM_LIBRARY"])), run.SERVICE)
    plan = {s: call for s, _operation, call, _c, _timed in run.KEYRING_PLAN}
    if series[0] != "set_new":
        sx.set(run.account(0), run.PASSWORD)  # the item the operation works on
    calls = [plan[s] for s in series]

    def one() -> None:
        for call in calls:
            call(layer, 0)

    return one


def _iterate(case: str, n: int) -> None:
    """The child process: set the case up, then run it ``n`` times."""
    one = _setup(case)
    for _ in range(n):
        one()


def _callgrind(command: list[str]) -> int:
    """Total user-space instructions of ``command`` under callgrind."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *command],
            check=True,
            capture_output=True,
            env=os.environ,
        )
        for line in out.read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError(f"no instruction total for {command}")


def _driver_one(exe: Path, operation: str, n: int) -> list[str]:
    """The C driver's command for ``operation`` ("store_..." : CredentialStore's
    calls, with its creator) made ``n`` times."""
    if operation.startswith("store_"):
        from secitem.store import DEFAULT_CREATOR

        return [str(exe), "one", operation.removeprefix("store_"), str(n), str(DEFAULT_CREATOR)]
    return [str(exe), "one", operation, str(n)]


def _per_iteration(command: Callable[[int], list[str]], n: int) -> float:
    """Instructions of one iteration: (run with n iterations - run with none) / n."""
    return (_callgrind(command(n)) - _callgrind(command(0))) / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="iterations per case")
    parser.add_argument("--json", default=str(BENCH / "instructions.json"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _iterate(args.child, args.n)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    lib = run.build_emulator()
    os.environ["SECITEM_LIBRARY"] = str(lib)
    os.environ["SECSIM_PROFILE"] = "ios"
    os.environ.pop("SECSIM_STORE", None)
    os.environ.pop("SECSIM_ACCESS_GROUPS", None)
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    os.environ["PYTHONHASHSEED"] = "0"  # the same dict layouts in both runs of a case
    exe = run.build_driver(lib)
    rows: list[dict[str, Any]] = []
    print(
        f"{'case':<40} {'Python':>11} {'C':>11} {'Python - C':>11}  what"
        "   (instructions per iteration)"
    )
    for case, (what, c_op) in CASES.items():
        python = _per_iteration(
            lambda k, case=case: [sys.executable, __file__, "--child", case, "--n", str(k)],
            args.n,
        )
        row: dict[str, Any] = {"case": case, "python": round(python), "what": what}
        if c_op is not None:
            c = _per_iteration(lambda k, op=c_op: _driver_one(exe, op, k), args.n)
            row.update(c=round(c), overhead=round(python - c))
        rows.append(row)
        c_text = f"{row['c']:>11,}" if "c" in row else f"{'':>11}"
        over_text = f"{row['overhead']:>11,}" if "overhead" in row else f"{'':>11}"
        print(f"{case:<40} {row['python']:>11,} {c_text} {over_text}  {what}", flush=True)
    per_call = next(r["python"] for r in rows if r["case"] == "cffi ABI call: CFGetTypeID")
    call_us = run.abi_call_us()
    speed = per_call / call_us if call_us > 0 else 0.0
    print(
        f"\none cffi ABI call (CFGetTypeID) = {per_call:,} instructions = {call_us:.3f} us "
        f"at best here: {speed:,.0f} instructions per us"
    )
    for row in rows:
        if "overhead" in row and speed:
            row["overhead_us_at_best_speed"] = row["overhead"] / speed
            print(
                f"  {row['case']:<40} Python - C = {row['overhead_us_at_best_speed']:6.1f} us "
                f"({row['overhead'] / per_call:.0f} trivial cffi calls' worth)"
            )
    by_case = {row["case"]: row["python"] for row in rows}
    keyring_ratios = {}
    for case, (layer, _series) in KEYRING_CASES.items():
        if layer == "keyring":
            operation = case.split(": ", 1)[1]
            ours = by_case[f"security, keyring's calls: {operation}"]
            keyring_ratios[operation] = by_case[case] / ours
            print(f"  keyring ctypes / security, {operation}: {keyring_ratios[operation]:.2f}x")
    report = {
        "instructions_per_us_at_best": speed,
        "keyring_over_security": keyring_ratios,
        "command": "python bench/instructions.py" + (f" --n {args.n}" if args.n != 1000 else ""),
        "source": str(run.SRC),
        "python": sys.version.split()[0],
        "n": args.n,
        "rows": rows,
    }
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
