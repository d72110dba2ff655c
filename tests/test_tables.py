"""The generated constant and error tables match the facts sheet they came from."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT.parent / "shared" / "reference" / "secitem-facts.md"


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_tables", ROOT / "tools" / "gen_tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_tables_agree_with_each_other() -> None:
    """constants.def and errors.def (the emulator's) are what _tables.py (the binding's)
    renders to: the two halves can never disagree, even in a checkout without the facts."""
    spec = importlib.util.spec_from_file_location("regen", ROOT / "tools" / "regen.py")
    assert spec is not None and spec.loader is not None
    regen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(regen)
    assert regen.stale_tables(None, write=False) == []


def test_generated_tables_are_current() -> None:
    """constants.def, errors.def and _tables.py are what gen_tables.py makes of the facts."""
    if not FACTS.exists():
        reason = f"facts sheet not found at {FACTS} (it lives in the shared/ folder)"
        if os.environ.get("CI", "") == "true":
            pytest.fail(reason + "; CI must compare the tables with it")
        pytest.skip(reason + "; the tables were still checked against each other")
    gen = _generator()
    consts, errors = gen.parse(FACTS.read_text(encoding="utf-8"))
    for rel, text in gen.render(consts, errors).items():
        assert (ROOT / rel).read_text(encoding="utf-8") == text, (
            f"{rel} is stale: run tools/gen_tables.py"
        )


def test_table_sizes_match_apple_headers() -> None:
    """163 public constants (SecItem.h declares 163) and unique error codes."""
    from secitem._tables import CONSTANTS, ERRORS

    assert sum(1 for _, _, public in CONSTANTS if public) == 163
    statuses = [status for _, status, _ in ERRORS]
    assert len(statuses) == len(set(statuses))
    names = {name: value for name, value, _ in CONSTANTS}
    assert names["kSecClass"] == "class"
    assert names["kSecAttrProtocolFTP"] == "ftp "  # trailing space kept
    assert names["kSecUseDataProtectionKeychain"] == names["kSecAttrNoLegacy"] == "nleg"
