"""The throwaway macOS keychain: the exact ``security`` commands, and the undo
that runs whatever happens.  On Linux, with a fake runner in place of the
``security`` tool (and a fake ``security`` on PATH for the real runner)."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

import pytest

from secitem import KeychainUnavailableError
from secitem.testing.temporary_keychain import run_security, temporary_keychain

LOGIN = "/Users/me/Library/Keychains/login.keychain-db"
OTHER = "/Users/me/Library/Keychains/work keychain.keychain-db"


class FakeSecurity:
    """Records each command; answers the two reads; fails every command that
    starts with one of the ``fail`` prefixes."""

    def __init__(self, *fail: Sequence[str]) -> None:
        self.calls: list[list[str]] = []
        self.fail = [list(prefix) for prefix in fail]

    def __call__(self, args: Sequence[str]) -> str:
        args = list(args)
        self.calls.append(args)
        if any(args[: len(prefix)] == prefix for prefix in self.fail):
            raise KeychainUnavailableError(f"`security {args[0]}` failed (exit 1)")
        if args == ["list-keychains", "-d", "user"]:
            return f'    "{LOGIN}"\n    "{OTHER}"\n'
        if args == ["default-keychain", "-d", "user"]:
            return f'    "{LOGIN}"\n'
        return ""


def _expected(path: str, password: str) -> list[list[str]]:
    return [
        ["list-keychains", "-d", "user"],
        ["default-keychain", "-d", "user"],
        ["create-keychain", "-p", password, path],
        ["set-keychain-settings", path],
        ["unlock-keychain", "-p", password, path],
        ["list-keychains", "-d", "user", "-s", path],
        ["default-keychain", "-d", "user", "-s", path],
        ["list-keychains", "-d", "user", "-s", LOGIN, OTHER],
        ["default-keychain", "-d", "user", "-s", LOGIN],
        ["delete-keychain", path],
    ]


def test_the_commands_in_order(tmp_path: Path) -> None:
    fake = FakeSecurity()
    with temporary_keychain(tmp_path, runner=fake) as keychain:
        assert len(fake.calls) == 7  # the body runs after the setup, before the undo
    path = str(keychain.path)
    assert keychain.path.parent == tmp_path
    assert keychain.path.name.startswith("secitem-") and path.endswith(".keychain-db")
    assert len(keychain.password) >= 24
    assert fake.calls == _expected(path, keychain.password)
    assert keychain.password not in repr(keychain)


def test_each_keychain_is_new(tmp_path: Path) -> None:
    with (
        temporary_keychain(tmp_path, runner=FakeSecurity()) as one,
        temporary_keychain(tmp_path, runner=FakeSecurity()) as two,
    ):
        assert one.path != two.path and one.password != two.password


def test_the_undo_runs_when_the_test_body_fails(tmp_path: Path) -> None:
    fake = FakeSecurity()
    with pytest.raises(ZeroDivisionError), temporary_keychain(tmp_path, runner=fake) as keychain:
        _ = 1 / 0
    assert fake.calls == _expected(str(keychain.path), keychain.password)


def test_a_failed_setup_step_undoes_only_what_was_done(tmp_path: Path) -> None:
    fake = FakeSecurity(["unlock-keychain"])
    with (
        pytest.raises(KeychainUnavailableError, match="unlock-keychain"),
        temporary_keychain(tmp_path, runner=fake),
    ):
        raise AssertionError("the body must not run")
    path = fake.calls[2][-1]
    assert [c[0] for c in fake.calls] == [
        "list-keychains",
        "default-keychain",
        "create-keychain",
        "set-keychain-settings",
        "unlock-keychain",
        "delete-keychain",
    ]
    assert fake.calls[-1] == ["delete-keychain", path]


def test_a_failed_create_deletes_nothing(tmp_path: Path) -> None:
    fake = FakeSecurity(["create-keychain"])
    with (
        pytest.raises(KeychainUnavailableError, match="create-keychain"),
        temporary_keychain(tmp_path, runner=fake),
    ):
        raise AssertionError("the body must not run")
    assert [c[0] for c in fake.calls] == ["list-keychains", "default-keychain", "create-keychain"]


def test_a_failed_read_changes_nothing(tmp_path: Path) -> None:
    fake = FakeSecurity(["default-keychain", "-d", "user"])
    with pytest.raises(KeychainUnavailableError), temporary_keychain(tmp_path, runner=fake):
        raise AssertionError("the body must not run")
    assert fake.calls == [["list-keychains", "-d", "user"], ["default-keychain", "-d", "user"]]


def test_every_undo_step_runs_even_if_one_fails(tmp_path: Path) -> None:
    fake = FakeSecurity(["list-keychains", "-d", "user", "-s", LOGIN])
    made = []
    with (
        pytest.raises(KeychainUnavailableError, match="could not undo") as caught,
        temporary_keychain(tmp_path, runner=fake) as keychain,
    ):
        made.append(keychain)
    assert fake.calls == _expected(str(made[0].path), made[0].password)
    assert made[0].password not in str(caught.value)


def _fake_tool(directory: Path, script: str) -> None:
    tool = directory / "security"
    tool.write_text("#!/bin/sh\n" + script)
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)


def test_the_real_runner_masks_passwords_and_reports_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_tool(
        tmp_path, 'echo "security: SecKeychainCreate $4: A keychain already exists" >&2\nexit 48\n'
    )
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(KeychainUnavailableError) as caught:
        run_security(["create-keychain", "-p", "hunter2-secret", "/tmp/k.keychain-db"])
    message = str(caught.value)
    assert "hunter2-secret" not in message
    assert "`security create-keychain -p *** /tmp/k.keychain-db` failed (exit 48)" in message
    assert "A keychain already exists" in message


def test_the_real_runner_returns_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_tool(tmp_path, 'echo "    \\"$1 $2 $3\\""\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert run_security(["list-keychains", "-d", "user"]) == '    "list-keychains -d user"\n'


def test_the_real_runner_gives_up_on_a_command_that_hangs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_tool(tmp_path, "exec sleep 600\n")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(KeychainUnavailableError, match=r"did not finish within 0\.2 s"):
        run_security(["unlock-keychain", "-p", "hunter2", "/tmp/k"], timeout=0.2)


def test_a_missing_tool_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(KeychainUnavailableError, match="`security` tool was not found"):
        run_security(["list-keychains"])
