"""Regenerate every generated file in one step, or check that none is stale.

The generated files and where they come from:

* ``src/secitem/_tables.py``, ``src/secitem/testing/csrc/constants.def`` and
  ``errors.def``: the constant and error tables of the facts sheet
  (``tools/gen_tables.py``); the three must also agree with each other;
* the generated block of ``src/secitem/constants.py``: typed attributes for
  the public constants (``tools/gen_constants.py``);
* ``src/secitem/_ffi_gen.py``: cffi's out-of-line module for the C
  declarations in ``src/secitem/_ffi.py`` (``tools/gen_ffi.py``).

Each generator renders text; every file is compared, and rewritten, by the
one ``sync`` of ``tools/_genfile.py`` (which the generators' own command
lines use too).

Run from anywhere::

    python tools/regen.py                 # rewrite whatever is stale
    python tools/regen.py --check         # exit 1 naming each stale file (CI)
    python tools/regen.py --facts PATH    # the facts sheet, if not ../shared/...

Without the facts sheet (a clean checkout with no ``shared/`` beside it) the
tables are still checked against each other, and the line says that the
comparison with the facts sheet was not made.  ``CI=true`` makes a missing
facts sheet an error, so CI never passes without the full check.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def committed_tables() -> tuple[list[tuple[str, str, bool]], list[tuple[str, int, str]]]:
    """The (constants, errors) rows of the committed ``_tables.py``, read without importing it."""
    namespace: dict[str, object] = {}
    source = (ROOT / "src" / "secitem" / "_tables.py").read_text(encoding="utf-8")
    exec(compile(source, "_tables.py", "exec"), namespace)
    constants = namespace["CONSTANTS"]
    errors = namespace["ERRORS"]
    assert isinstance(constants, tuple) and isinstance(errors, tuple)
    return list(constants), list(errors)


def stale_tables(facts: Path | None, write: bool) -> list[str]:
    """The table files that differ from what their source renders (rewritten if ``write``)."""
    gen = _tool("gen_tables")
    if facts is not None:
        consts, errors = gen.parse(facts.read_text(encoding="utf-8"))
        source = f"the facts sheet {facts}"
    else:
        consts, errors = committed_tables()
        source = "src/secitem/_tables.py"
    files = _tool("_genfile")
    return [
        f"{rel} (from {source}; tools/gen_tables.py)"
        for rel, text in gen.render(consts, errors).items()
        if files.sync(ROOT / rel, text, write)
    ]


def main(argv: list[str]) -> int:
    check = "--check" in argv
    facts: Path | None = ROOT.parent / "shared" / "reference" / "secitem-facts.md"
    if "--facts" in argv:
        facts = Path(argv[argv.index("--facts") + 1])
    assert facts is not None
    if not facts.exists():
        if os.environ.get("CI", "") == "true":
            print(f"regen: the facts sheet is missing at {facts} (needed in CI)", file=sys.stderr)
            return 1
        print(f"regen: no facts sheet at {facts}: tables checked against each other only")
        facts = None
    stale = stale_tables(facts, write=not check)
    files = _tool("_genfile")
    for name in ("gen_constants", "gen_ffi"):
        tool = _tool(name)
        if files.sync(tool.TARGET, tool.expected(), write=not check):
            stale.append(f"{name} output (tools/{name}.py)")
    if check and stale:
        print("regen: stale generated files: " + "; ".join(stale), file=sys.stderr)
        print("regen: run python tools/regen.py", file=sys.stderr)
        return 1
    print(
        "regen: "
        + ("all generated files are current" if not stale else "rewrote: " + "; ".join(stale))
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
