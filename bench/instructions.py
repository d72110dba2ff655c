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


class _Fixture:
    """What every case but keyring's starts from: emulator profile ``ios`` with
    the 10 find items and account 0's item, a CFString "hello", the runtime
    and its string scratch buffers."""

    def __init__(self) -> None:
        from secitem import _from_cf, _runtime
        from secitem._ffi import ffi

        self.layers = run.Layers("ios")
        self.rt = _runtime.runtime()
        run._populate_find(self.layers, 10)
        self.layers.sec_add_noreturn(0)
        self.text = self.rt.cf.CFStringCreateWithBytes(ffi.NULL, b"hello", 5, 0x08000100, 0)
        self.buffer, self.used, _chars = _from_cf._scratch.strings
        self.whole = _from_cf._RANGES[5]


# One function per case: prepare it on the fixture, return one iteration of it
# (the names it calls bound as closure variables, as a user's code would hold them).


def _one_line_function(f: _Fixture) -> Callable[[], object]:
    def one_line(value: object = f.text) -> object:
        return value

    return one_line


def _cf_get_type_id(f: _Fixture) -> Callable[[], object]:
    get_type_id, text = f.rt.CFGetTypeID, f.text
    return lambda: get_type_id(text)


def _cf_string_get_length(f: _Fixture) -> Callable[[], object]:
    get_length, text = f.rt.cf.CFStringGetLength, f.text
    return lambda: get_length(text)


def _cf_string_get_bytes(f: _Fixture) -> Callable[[], object]:
    get_bytes, text, whole, buffer, used = (
        f.rt.cf.CFStringGetBytes,
        f.text,
        f.whole,
        f.buffer,
        f.used,
    )
    return lambda: get_bytes(text, whole, 0x08000100, 0, 0, buffer, 15, used)


def _read_attribute_dictionary(f: _Fixture) -> Callable[[], object]:
    from secitem import _cfobjects, _convert, _from_cf
    from secitem._ffi import ffi

    layers, rt = f.layers, f.rt
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


def _security_get(f: _Fixture) -> Callable[[], object]:
    layers = f.layers
    return lambda: layers.sec_get(0)


def _security_get_data(f: _Fixture) -> Callable[[], object]:
    layers = f.layers
    return lambda: layers.sec_get_data(0)


def _security_find(f: _Fixture) -> Callable[[], object]:
    layers = f.layers
    return lambda: layers.sec_find(0)


def _security_update(f: _Fixture) -> Callable[[], object]:
    layers = f.layers
    return lambda: layers.sec_update(0)


def _store_get(f: _Fixture) -> Callable[[], object]:
    layers = f.layers
    layers.sec_delete(0)
    layers.st_save(0)  # the store reads only items it marked as its own
    return lambda: layers.st_get(0)


def _security_add_delete(f: _Fixture) -> Callable[[], object]:
    layers = f.layers
    layers.sec_delete(0)

    def add_delete() -> None:
        layers.sec_add(0)
        layers.sec_delete(0)

    return add_delete


#: case (of CASES, keyring's apart) -> its set-up
_SETUPS: dict[str, Callable[[_Fixture], Callable[[], object]]] = {
    "python: call of a one-line function": _one_line_function,
    "cffi ABI call: CFGetTypeID": _cf_get_type_id,
    "cffi ABI call: CFStringGetLength": _cf_string_get_length,
    "cffi ABI call: CFStringGetBytes": _cf_string_get_bytes,
    "read a 12-entry attribute dictionary": _read_attribute_dictionary,
    "security: get with data": _security_get,
    "security: get secret only": _security_get_data,
    "security: find all metadata (10 items)": _security_find,
    "security: update": _security_update,
    "security: add + delete": _security_add_delete,
    "CredentialStore.get(account)": _store_get,
}


def _setup(case: str) -> Callable[[], object]:
    """Prepare ``case`` and return one iteration of it."""
    if case in KEYRING_CASES:
        return _keyring_case(*KEYRING_CASES[case])
    if case not in _SETUPS:
        raise SystemExit(f"unknown case {case!r}")
    return _SETUPS[case](_Fixture())


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


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="iterations per case")
    parser.add_argument("--json", default=str(BENCH / "instructions.json"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _measure_case(case: str, what: str, c_op: str | None, exe: Path, n: int) -> dict[str, Any]:
    """One case's instructions per iteration, and its C twin's if it has one."""
    python = _per_iteration(
        lambda k: [sys.executable, __file__, "--child", case, "--n", str(k)],
        n,
    )
    row: dict[str, Any] = {"case": case, "python": round(python), "what": what}
    if c_op is not None:
        c = _per_iteration(lambda k: _driver_one(exe, c_op, k), n)
        row.update(c=round(c), overhead=round(python - c))
    return row


def _print_row(row: dict[str, Any]) -> None:
    c_text = f"{row['c']:>11,}" if "c" in row else f"{'':>11}"
    over_text = f"{row['overhead']:>11,}" if "overhead" in row else f"{'':>11}"
    print(f"{row['case']:<40} {row['python']:>11,} {c_text} {over_text}  {row['what']}", flush=True)


def _at_best_speed(rows: list[dict[str, Any]]) -> float:
    """This machine's instructions per us at its best (a trivial cffi call's
    instructions over its best time); adds each overhead in us to ``rows``."""
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
    return speed


def _keyring_ratios(rows: list[dict[str, Any]]) -> dict[str, float]:
    """keyring ctypes' instructions over secitem.security's, per keyring operation."""
    by_case = {row["case"]: row["python"] for row in rows}
    ratios = {}
    for case, (layer, _series) in KEYRING_CASES.items():
        if layer == "keyring":
            operation = case.split(": ", 1)[1]
            ours = by_case[f"security, keyring's calls: {operation}"]
            ratios[operation] = by_case[case] / ours
            print(f"  keyring ctypes / security, {operation}: {ratios[operation]:.2f}x")
    return ratios


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.child:
        _iterate(args.child, args.n)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    _lib, exe = run.use_emulator("ios")
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    os.environ["PYTHONHASHSEED"] = "0"  # the same dict layouts in both runs of a case
    print(
        f"{'case':<40} {'Python':>11} {'C':>11} {'Python - C':>11}  what"
        "   (instructions per iteration)"
    )
    rows: list[dict[str, Any]] = []
    for case, (what, c_op) in CASES.items():
        rows.append(_measure_case(case, what, c_op, exe, args.n))
        _print_row(rows[-1])
    speed = _at_best_speed(rows)
    keyring_ratios = _keyring_ratios(rows)
    report = {
        "instructions_per_us_at_best": speed,
        "keyring_over_security": keyring_ratios,
        "command": "python bench/instructions.py" + (f" --n {args.n}" if args.n != 1000 else ""),
        "source": str(run.SRC),
        "python": sys.version.split()[0],
        "n": args.n,
        "rows": rows,
    }
    run.write_report(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
