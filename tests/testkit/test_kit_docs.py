"""docs/testing.md is true: its files form a project whose tests pass with the
plugin alone (no conftest.py, SECITEM_LIBRARY unset), and its no-pytest
script runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"


def _files() -> dict[str, str]:
    files = {}
    for match in re.finditer(r"```python\n(.*?)```", DOC.read_text(), re.S):
        code = match.group(1)
        name = re.fullmatch(r"# (\S+\.py)", code.splitlines()[0])
        assert name, f"every example of testing.md names its file: {code.splitlines()[0]!r}"
        files[name.group(1)] = code
    return files


def _env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECSIM_", "PYTEST_")) and k != "SECITEM_LIBRARY"
    }
    env["HOME"] = str(tmp_path / "home")
    env.setdefault(
        "SECITEM_EMULATOR_CACHE",
        str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "secitem/emulator"),
    )
    return env


def _python(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Python with ``args`` in ``project`` as a reader would run it; it must succeed."""
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=project,
        env=_env(project),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_the_examples_form_a_passing_project(tmp_path: Path) -> None:
    files = _files()
    assert "conftest.py" not in files
    for name, code in files.items():
        (tmp_path / name).write_text(code)
    proc = _python(tmp_path, "-m", "pytest", "-p", "no:cacheprovider", "-rs", "--strict-markers")
    tests = sum(len(re.findall(r"^def test_", c, re.M)) for n, c in files.items())
    # test_on_a_mac.py is skipped: off macOS, and on a Mac because the other
    # tests' secitem_emulator has set SECITEM_LIBRARY (the page says so).
    assert f"= {tests - 1} passed, 1 skipped in" in proc.stdout, proc.stdout
    if sys.platform != "darwin":
        assert "secitem_temporary_keychain needs macOS" in proc.stdout


def test_the_script_without_pytest_runs(tmp_path: Path) -> None:
    (tmp_path / "check_keychain.py").write_text(_files()["check_keychain.py"])
    proc = _python(tmp_path, "check_keychain.py")
    assert proc.stdout.splitlines() == [
        "locked device: InteractionNotAllowedError",
        "live CoreFoundation objects: 0",
    ]
