"""``bench/run.py --only keyring`` runs, and both layers send the same SecItem calls.

A smoke test of the benchmark script, not a performance test: no time is
asserted.  The script runs in a subprocess, because keyring's module
releases none of the CoreFoundation objects it makes and this process's
leak check would count them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_keyring_comparison_runs_and_both_layers_make_the_same_calls(tmp_path: Path) -> None:
    out = tmp_path / "keyring.json"
    script = ROOT / "bench" / "run.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--quick", "--only", "keyring", "--json", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(out.read_text())["keyring"]
    # Traced at the library: the same functions with the same keys as each
    # other and as the C driver (run.py compares them; any difference is listed).
    assert result["call_problems"] == []
    identity = {"acct", "class", "svce"}
    expected = {
        "get password": [("SecItemCopyMatching", identity | {"m_Limit", "r_Data"})],
        "set (new account)": [("SecItemDelete", identity), ("SecItemAdd", identity | {"v_Data"})],
        "set (existing account)": [
            ("SecItemDelete", identity),
            ("SecItemAdd", identity | {"v_Data"}),
        ],
        "delete": [("SecItemDelete", identity)],
    }
    assert set(result["sent"]) == set(expected)
    for operation, calls in expected.items():
        for layer in ("keyring", "security"):
            sent = [(name, set(keys)) for name, keys in result["sent"][operation][layer]]
            assert sent == calls, (operation, layer)
    # secitem's values: a CFBoolean return key and the password as CFData.
    get_keys = result["sent"]["get password"]["security"][0][1]
    assert get_keys["r_Data"] == "CFBoolean"
    add_keys = result["sent"]["set (new account)"]["security"][1][1]
    assert add_keys["v_Data"] == "CFData"
    assert result["objects_left_per_cycle"]["security"] == 0
    operations = ["set (new account)", "get password", "set (existing account)", "delete"]
    assert [row["operation"] for row in result["rows"]] == operations
