"""tools/macos_preflight.py, the macOS CI job's first step, run against the emulator.

On Linux the script skips ``sw_vers``/``security`` and makes its keychain
round trip through whatever library secitem loads: here the emulator, whose
path the root conftest put in ``SECITEM_LIBRARY`` (inherited by the
subprocesses below).  A fake ``security`` command stands in for the one
that locates the item on macOS.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from secitem import ItemNotFoundError
from secitem.security import (
    SecItemCopyMatching,
    kSecClass,
    kSecClassGenericPassword,
    kSecMatchLimit,
    kSecMatchLimitAll,
    kSecReturnAttributes,
)

SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "macos_preflight.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("macos_preflight", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _no_generic_passwords_left() -> bool:
    try:
        SecItemCopyMatching(
            {
                kSecClass: kSecClassGenericPassword,
                kSecMatchLimit: kSecMatchLimitAll,
                kSecReturnAttributes: True,
            }
        )
    except ItemNotFoundError:
        return True
    return False


def _fake_security(tmp_path: Path, keychain: str) -> None:
    """A `security` on PATH that places every generic password in ``keychain``."""
    fake = tmp_path / "bin" / "security"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = find-generic-password ]; then\n'
        f"  echo 'keychain: \"{keychain}\"'\n"
        "  echo 'class: \"genp\"'\n"
        "  exit 0\n"
        "fi\n"
        "exit 1\n"
    )
    fake.chmod(0o755)


def test_usable_keychain_passes() -> None:
    """Run as the workflow runs it: exit 0 and a closing 'keychain usable' line."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--timeout", "30"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "sw_vers and security skipped" in done.stdout
    assert f"SECITEM_LIBRARY={os.environ['SECITEM_LIBRARY']}" in done.stdout
    assert done.stdout.rstrip().endswith("keychain usable: add, read back, delete and check gone")
    assert "keychain unusable" not in done.stderr


def test_a_failing_add_is_reported(sim: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """SecItemAdd refused: exit 2, 'keychain unusable: SecItemAdd failed', status and hint."""
    sim.lib.secsim_fail_next(b"SecItemAdd", -25308)  # errSecInteractionNotAllowed
    assert _load().main(["--timeout", "30"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("keychain unusable: SecItemAdd failed: ")
    assert "OSStatus -25308" in err and "Hint: " in err
    assert _no_generic_passwords_left()


def test_a_failing_delete_is_reported_and_the_item_removed(
    sim: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """SecItemDelete refused once: exit 2 naming SecItemDelete; the retry removes the item."""
    sim.lib.secsim_fail_next(b"SecItemDelete", -61)  # errSecWrPerm
    assert _load().main(["--timeout", "30"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("keychain unusable: SecItemDelete failed: ")
    assert "OSStatus -61" in err
    assert _no_generic_passwords_left()


def test_the_item_is_in_the_expected_keychain(
    sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--expect-keychain: `security` places the item there, so the preflight passes."""
    keychain = str(tmp_path / "secitem-ci.keychain-db")
    _fake_security(tmp_path, keychain)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert _load().main(["--timeout", "30", "--expect-keychain", keychain]) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"check gone in {keychain}")
    assert _no_generic_passwords_left()


def test_an_item_in_another_keychain_fails(
    sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--expect-keychain: an item stored elsewhere (the login keychain) fails the preflight."""
    _fake_security(tmp_path, "/Users/runner/Library/Keychains/login.keychain-db")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    expected = str(tmp_path / "secitem-ci.keychain-db")
    assert _load().main(["--timeout", "30", "--expect-keychain", expected]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        "keychain unusable: the item was stored in "
        "'/Users/runner/Library/Keychains/login.keychain-db', "
        f"not in {expected!r} (is the expected keychain the default one?)"
    )
    assert _no_generic_passwords_left()


def test_a_hung_call_ends_the_process() -> None:
    """A keychain call that never returns: stacks dumped, exit 3 within the timeout."""
    code = (
        "import sys, time\n"
        f"sys.path.insert(0, {str(SCRIPT.parent)!r})\n"
        "import macos_preflight as m\n"
        "m.SecItemAdd = lambda attributes: time.sleep(120)\n"
        "sys.exit(m.main(['--timeout', '1']))\n"
    )
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert time.monotonic() - start < 30
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("keychain unusable: SecItemAdd did not return within 1 s")
    assert any("macos_preflight.py" in line and "in run" in line for line in lines)
