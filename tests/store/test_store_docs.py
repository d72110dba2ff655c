"""The Python examples of the docs run as written against the emulator."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _blocks(page: str) -> list[tuple[str, str]]:
    text = (DOCS / page).read_text()
    return [
        (f"{page}-{n}", m.group(1))
        for n, m in enumerate(re.finditer(r"```python\n(.*?)```", text, re.S))
    ]


EXAMPLES = _blocks("getting-started.md") + _blocks("credential-store.md")


@pytest.mark.parametrize("code", [c for _, c in EXAMPLES], ids=[n for n, _ in EXAMPLES])
def test_example_runs(sim: Any, code: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(code, "docs", "exec"), {})
    out = capsys.readouterr().out
    assert "password=<hidden>" in out or "Credential(" not in out


def test_testing_page_suite_passes(tmp_path: Path, sim: Any) -> None:
    """testing.md's conftest.py and test files form a suite that passes."""
    for _, code in _blocks("testing.md"):
        first = code.splitlines()[0]
        match = re.fullmatch(r"# (\S+\.py)", first)
        assert match, f"every example of testing.md names its file: {first!r}"
        (tmp_path / match.group(1)).write_text(code)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECSIM_")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "5 passed" in proc.stdout
