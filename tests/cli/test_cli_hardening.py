"""The command line never echoes a word that may be a password, never lets item text
drive the terminal, and names the library that failed (issue #11, items 7, 11, 12)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from secitem import GenericPassword, Keychain

CANARY = "canary-s3cret"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secitem", *args],
        capture_output=True,
        text=True,
        input="",
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("-w", CANARY), "unknown command"),  # issue #11 item 7: argparse's invalid choice
        ((CANARY,), "unknown command"),
        (("find-generic-password", "-s", "x", "-w", CANARY), "1 unexpected word"),
        (("add-generic-password", "-s", "x", "-w", CANARY), "1 unexpected word"),
        (("add-generic-password", "-s", "x", f"--password={CANARY}"), "--password"),
        (("add-generic-password", "-s", "x", f"-W{CANARY}"), "-W"),
        (("add-generic-password", "-s", "x", f"-U={CANARY}"), "-U: takes no value"),
        ((CANARY, f"-g={CANARY}"), "-g: takes no value"),  # the unknown command is not named
        (("add-internet-password", "-s", "x", "-P", CANARY), "not a port number"),
        (("add-internet-password", "-s", "x", "-r", CANARY), "not a protocol value"),
    ],
)
def test_a_misplaced_password_is_never_echoed(sim: Any, args: tuple[str, ...], named: str) -> None:
    """Issue #11 item 7: `secitem -w SECRET` echoed SECRET in argparse's message."""
    proc = _run(*args)
    assert proc.returncode == 2
    assert CANARY not in proc.stderr and CANARY not in proc.stdout
    assert named in proc.stderr


def test_unknown_option_is_named_accurately(sim: Any) -> None:
    """An unknown flag is named; the message no longer claims it was a password."""
    proc = _run("list", "--colour")
    assert proc.returncode == 2
    assert "unknown option --colour" in proc.stderr
    assert "unexpected word" not in proc.stderr


def test_list_escapes_control_characters(tmp_path: Path, sim: Any) -> None:
    """Issue #11 item 11: an account holding escape sequences and a newline cleared
    the screen and forged a row of `secitem list`."""
    store = tmp_path / "kc.db"
    env = {"SECSIM_STORE": str(store)}
    hostile = "evil\x1b[2J\x1b[H\nforged   row\u202e\x9b31m"
    code = (
        "from secitem import Keychain, GenericPassword\n"
        f"Keychain().add(GenericPassword(service='svc', account={hostile!r}, "
        f"label={hostile!r}), b'pw')\n"
    )
    added = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    table = _run("list", env=env)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert len(lines) == 2  # the header and one row: no forged row
    for ch in ("\x1b", "\x9b", "\u202e"):
        assert ch not in table.stdout
    assert "\\u001b[2J" in lines[1] and "\\u000a" in lines[1]
    raw = _run("list", "--json", env=env)
    assert "\x1b" not in raw.stdout and "\x9b" not in raw.stdout and "\u202e" not in raw.stdout
    rows = json.loads(raw.stdout)
    assert rows[0]["account"] == hostile  # the JSON still carries the exact text
    found = _run("find-generic-password", "-s", "svc", env=env)
    assert found.returncode == 0, found.stderr
    for ch in ("\x1b", "\x9b", "\u202e"):
        assert ch not in found.stdout


def test_backslashes_in_a_cell_cannot_forge_an_escape(tmp_path: Path, sim: Any) -> None:
    """A literal backslash-u in a name is doubled, so it reads differently from an escape."""
    Keychain().add(GenericPassword(service="svc", account="a\\u001b"), b"pw")
    from io import StringIO

    from secitem import cli

    out = StringIO()
    saved = sys.stdout
    sys.stdout = out
    try:
        assert cli.main(["list"]) == 0
    finally:
        sys.stdout = saved
    assert "a\\\\u001b" in out.getvalue()


@pytest.mark.skipif(sys.platform == "darwin", reason="names a missing library on Linux")
def test_a_library_that_fails_to_load_is_named(sim: Any) -> None:
    """Issue #11 item 12: `SECITEM_LIBRARY=/missing/lib.so secitem list` said
    "export SECITEM_LIBRARY=..." instead of naming the path that failed and why."""
    proc = _run("list", env={"SECITEM_LIBRARY": "/missing/lib.so"})
    assert proc.returncode != 0
    line = proc.stderr.strip()
    assert "/missing/lib.so" in line
    assert "cannot open shared object file" in line or "No such file" in line
    assert "export SECITEM_LIBRARY" not in line
