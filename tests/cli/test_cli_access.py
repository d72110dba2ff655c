"""``add-* -A / -T``, ``set-*-password-partition-list`` and ``doctor`` (issue #18).

Each command runs as ``python -m secitem`` in a subprocess sharing one keychain
file; the running program is ``SECSIM_APP_PATH`` and its signature
``SECSIM_CODE_SIGNING`` (docs/emulator.md, "Access lists and partition
lists").  A reader runs with ``SECSIM_SESSION_UI=0``: where the access dialog
would appear it gets errSecInteractionNotAllowed (exit 36), so "read without
asking" and "asked" are told apart.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from secitem import cli

CANARY = "canary-s3cret"
KC_PASSWORD = "kc-pass"
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def apps(tmp_path: Path) -> dict[str, str]:
    out = {}
    for name in ("python3.12", "python3.13", "other"):
        path = tmp_path / name
        path.write_bytes(b"#!")
        out[name] = str(path)
    return out


@pytest.fixture
def run(tmp_path: Path, sim: Any) -> Run:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SECSIM_", "SSH_"))}
    base["SECSIM_STORE"] = str(tmp_path / "keychain.db")
    base["SECSIM_KEYCHAIN_PASSWORD"] = KC_PASSWORD

    def call(*args: str, stdin: str = "", app: str | None = None, **env: str) -> Any:
        extra = {"SECSIM_APP_PATH": app} if app else {}
        return subprocess.run(
            [sys.executable, "-m", "secitem", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**base, **extra, **env},
            timeout=120,
        )

    return call


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("secitem: ")
    return lines[0]


def reads(run: Run, app: str, *, signing: str = "unsigned", noun: str = "generic") -> int:
    """Exit status of a no-UI read of the secret by ``app`` (0 read, 36 a dialog was needed)."""
    proc = run(
        f"find-{noun}-password",
        "-s",
        "svc",
        "-w",
        app=app,
        SECSIM_SESSION_UI="0",
        SECSIM_CODE_SIGNING=signing,
    )
    if proc.returncode == 0:
        assert proc.stdout == "pw\n"
    else:
        assert proc.stdout == ""
    return proc.returncode


def add(run: Run, *flags: str, noun: str = "generic", **options: Any) -> Any:
    """``add-NOUN-password -s svc -a a FLAGS``: the item ``reads`` reads."""
    return run(f"add-{noun}-password", "-s", "svc", "-a", "a", *flags, **options)


def test_default_access_trusts_the_creator_only(run: Run, apps: dict[str, str]) -> None:
    assert add(run, stdin="pw", app=apps["python3.12"]).returncode == 0
    assert reads(run, apps["python3.12"]) == 0
    assert reads(run, apps["python3.13"]) == 36  # an upgraded interpreter is asked


@pytest.mark.parametrize("noun", ["generic", "internet"])
def test_dash_A_lets_any_application_read(run: Run, apps: dict[str, str], noun: str) -> None:
    added = add(run, "-A", noun=noun, stdin="pw", app=apps["python3.12"])
    assert (added.returncode, added.stdout, added.stderr) == (0, "", "")
    assert reads(run, apps["python3.13"], noun=noun) == 0
    assert reads(run, apps["other"], noun=noun) == 0
    # The partition list still stands: an ad-hoc build is another partition.
    assert reads(run, apps["other"], signing="adhoc", noun=noun) == 36


def test_dash_T_trusts_exactly_the_named_programs(run: Run, apps: dict[str, str]) -> None:
    added = add(
        run, "-T", apps["python3.12"], "-T", apps["python3.13"], stdin="pw", app=apps["other"]
    )
    assert added.returncode == 0, added.stderr
    assert reads(run, apps["python3.12"]) == 0
    assert reads(run, apps["python3.13"]) == 0
    assert reads(run, apps["other"]) == 36  # -T replaces the creator's default trust


def test_dash_T_empty_trusts_nobody_and_dash_A_wins(run: Run, apps: dict[str, str]) -> None:
    assert add(run, "-T", "", stdin="pw", app=apps["other"]).returncode == 0
    assert reads(run, apps["other"]) == 36
    assert run("delete-generic-password", "-s", "svc").returncode == 0
    both = add(run, "-T", apps["python3.12"], "-A", stdin="pw", app=apps["other"])
    assert both.returncode == 0, both.stderr
    assert reads(run, apps["python3.13"]) == 0


def test_update_keeps_the_access_list(run: Run, apps: dict[str, str]) -> None:
    add(run, "-T", apps["python3.12"], stdin="old", app=apps["python3.12"])
    upd = add(run, "-U", "-A", stdin="pw", app=apps["python3.12"])
    assert upd.returncode == 0, upd.stderr
    assert reads(run, apps["python3.12"]) == 0
    assert reads(run, apps["python3.13"]) == 36  # -U never opened it to every program


@pytest.mark.parametrize("flags", [("-A",), ("-T", "/bin/sh"), ("-A", "-T", "/bin/sh")])
def test_access_flags_refuse_data_protection(run: Run, flags: tuple[str, ...]) -> None:
    proc = add(run, *flags, "--data-protection", stdin=CANARY, SECSIM_ACCESS_GROUPS="T.app")
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert "--data-protection" in line and flags[0] in line and "file-based" in line
    assert CANARY not in proc.stdout + proc.stderr
    assert json.loads(run("list", "--json", SECSIM_ACCESS_GROUPS="T.app").stdout) == []


def test_dash_T_names_a_missing_program(run: Run) -> None:
    proc = add(run, "-T", "/no/such/python", stdin=CANARY)
    assert proc.returncode == 2
    assert "-T: no program at '/no/such/python'" in one_line_error(proc)
    assert CANARY not in proc.stderr


def test_help_says_dash_A_is_insecure(run: Run) -> None:
    out = run("add-generic-password", "--help").stdout
    assert "INSECURE" in out and "-T PATH" in out


# -- set-*-password-partition-list ---------------------------------------------------


@pytest.mark.parametrize("noun", ["generic", "internet"])
def test_partition_list_lets_another_partition_read(
    run: Run, apps: dict[str, str], noun: str
) -> None:
    adhoc = {"SECSIM_CODE_SIGNING": "adhoc"}
    added = add(run, "-A", noun=noun, stdin="pw", app=apps["python3.12"], **adhoc)
    assert added.returncode == 0, added.stderr
    assert reads(run, apps["python3.13"], noun=noun) == 36  # unsigned: not in the list

    wrong = run(
        f"set-{noun}-password-partition-list", "-s", "svc", "-S", "unsigned:", stdin="wrong\n"
    )
    assert wrong.returncode == 51
    assert "keychain password was not accepted" in one_line_error(wrong)
    assert "wrong" not in wrong.stderr.replace("wrong.", "")
    assert reads(run, apps["python3.13"], noun=noun) == 36  # nothing changed

    ok = run(
        f"set-{noun}-password-partition-list",
        "-s",
        "svc",
        "-S",
        "unsigned:,teamid:ABCDE12345",
        stdin=KC_PASSWORD + "\n",
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.count("attributes:\n") == 1  # each changed item, as security prints it
    assert KC_PASSWORD not in ok.stdout + ok.stderr
    assert reads(run, apps["python3.13"], noun=noun) == 0
    assert reads(run, apps["other"], signing="ABCDE12345", noun=noun) == 0
    assert (
        reads(run, apps["other"], signing="adhoc", noun=noun) == 36
    )  # the creator's build: replaced


def test_partition_list_usage_errors(run: Run) -> None:
    add(run, stdin="pw")
    for args, named in (
        (("-k", CANARY), "-k: the keychain password is never taken from the command line"),
        (("-S", "unsigned"), "-S: a partition ID is KIND:VALUE"),
        (("-S", "unsigned:,"), "-S: a partition ID is KIND:VALUE"),
        (("--data-protection",), "--data-protection: partition lists exist only"),
        ((), "required: -S"),
    ):
        extra = ("-S", "unsigned:") if args and args[0] not in ("-S",) else ()
        proc = run("set-generic-password-partition-list", "-s", "svc", *extra, *args, stdin=CANARY)
        assert proc.returncode == 2, (args, proc.stderr)
        assert named in one_line_error(proc)
        assert CANARY not in proc.stdout + proc.stderr
    missing = run(
        "set-generic-password-partition-list", "-s", "nothing", "-S", "unsigned:", stdin=KC_PASSWORD
    )
    assert missing.returncode == 44


def test_keychain_password_from_a_hidden_prompt(sim: Any, terminal: Any, capsys: Any) -> None:
    sim.secsim_set_keychain_password(KC_PASSWORD.encode())
    from secitem import GenericPassword, Keychain

    Keychain().add(GenericPassword(service="svc", account="a"), b"pw")
    terminal.answer(KC_PASSWORD)
    assert cli.main(["set-generic-password-partition-list", "-s", "svc", "-S", "apple-tool:"]) == 0
    assert terminal.prompts == ["password to unlock the keychain: "]  # asked once, hidden
    assert Keychain().partition_list(GenericPassword(service="svc")) == ["apple-tool:"]
    assert KC_PASSWORD not in capsys.readouterr().out


# -- doctor ----------------------------------------------------------------------------

DOCTOR_KEYS = {
    "secitem", "python", "executable", "os", "library", "platform", "emulator",
    "interpreter", "session", "file_based_keychain", "data_protection_keychain", "problems",
}  # fmt: skip


@pytest.mark.parametrize(
    ("signing", "kind", "partition", "problem"),
    [
        ("unsigned", "unsigned", "unsigned:", "unsigned-interpreter"),
        ("adhoc", "adhoc", "cdhash:", "adhoc-interpreter"),
        ("apple-tool", "apple-tool", "apple-tool:", None),
        ("apple", "apple", "apple:", None),
        ("TEAM123456", "team", "teamid:TEAM123456", None),
    ],
)
def test_doctor_reports_the_signature(
    run: Run, signing: str, kind: str, partition: str, problem: str | None
) -> None:
    env = {"SECSIM_CODE_SIGNING": signing}
    if kind == "team":
        env["SECSIM_ACCESS_GROUPS"] = "TEAM123456.com.example"
    proc = run("doctor", "--json", **env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert set(report) == DOCTOR_KEYS
    sig = report["interpreter"]
    assert sig["signature"] == kind
    assert sig["partition_id"].startswith(partition)
    ids = [p["id"] for p in report["problems"]]
    for other in ("unsigned-interpreter", "adhoc-interpreter"):
        assert (other in ids) == (other == problem), ids
    assert all(p["fix"] for p in report["problems"])
    if kind == "team":
        assert sig["team_id"] == "TEAM123456"
        assert sig["keychain_access_groups"] == ["TEAM123456.com.example"]
        assert report["data_protection_keychain"]["usable"] is True
        assert "no-data-protection" not in ids
    else:
        assert "no-data-protection" in ids
    text = run("doctor", **env)
    assert text.returncode == 0, text.stderr
    line = next(x for x in text.stdout.splitlines() if x.startswith("interpreter: "))
    assert f"partition ID {partition}" in line
    if problem:
        assert f"problem ({problem}):" in text.stdout
        assert "docs/real-macs.md" in text.stdout
    else:
        assert "(unsigned-interpreter)" not in text.stdout
        assert "(adhoc-interpreter)" not in text.stdout


def test_doctor_sees_a_session_without_ui(run: Run) -> None:
    ok = json.loads(run("doctor", "--json").stdout)
    assert ok["session"]["can_show_ui"] is True
    assert "no-ui" not in [p["id"] for p in ok["problems"]]
    for env in ({"SECSIM_SESSION_UI": "0"}, {"SSH_CONNECTION": "10.0.0.1 5 10.0.0.2 22"}):
        report = json.loads(run("doctor", "--json", **env).stdout)
        problem = next(p for p in report["problems"] if p["id"] == "no-ui")
        assert "security unlock-keychain" in problem["fix"]
        text = run("doctor", **env).stdout
        assert "problem (no-ui):" in text
    report = json.loads(run("doctor", "--json", SECSIM_SESSION_UI="0").stdout)
    assert report["session"] == {**report["session"], "can_show_ui": False, "remote": True}
    assert "no dialog can appear" in run("doctor", SECSIM_SESSION_UI="0").stdout


def test_doctor_sees_a_locked_keychain(sim: Any, capsys: Any) -> None:
    sim.secsim_fail_next(b"SecItemCopyMatching", -25308)  # the file-based search: locked
    assert cli.main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["file_based_keychain"]["locked"] is True
    assert "keychain-locked" in [p["id"] for p in report["problems"]]
    sim.secsim_set_access_groups(b"TEAM.app")
    sim.secsim_set_locked(1)  # the device: the data-protection test item cannot be written
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "data-protection keychain: not usable" in out and "problem (keychain-locked):" in out
    sim.secsim_set_locked(0)
    assert cli.main(["doctor"]) == 0
    assert "keychain-locked" not in capsys.readouterr().out


@pytest.mark.skipif(sys.platform == "darwin", reason="Apple's frameworks are there")
def test_doctor_json_without_a_library(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SECITEM_LIBRARY"}
    proc = subprocess.run(
        [sys.executable, "-m", "secitem", "doctor", "--json"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["library"]["loaded"] is False
    assert [p["id"] for p in report["problems"]] == ["no-library"]
