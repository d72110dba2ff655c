"""The command line, run as ``python -m secitem`` in subprocesses sharing one keychain file."""

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

Run = Callable[..., subprocess.CompletedProcess[str]]


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("secitem: ")
    return lines[0]


def test_generic_password_lifecycle(run: Run) -> None:
    add = run("add-generic-password", "-s", "svc", "-a", "alice", "-l", "Label", stdin="pw-1\n")
    assert (add.returncode, add.stdout, add.stderr) == (0, "", "")

    found = run("find-generic-password", "-s", "svc", "-w")
    assert (found.returncode, found.stdout) == (0, "pw-1\n")

    attrs = run("find-generic-password", "-s", "svc", "-a", "alice")
    assert attrs.returncode == 0
    assert 'class: "genp"' in attrs.stdout
    assert '"acct"<blob>="alice"' in attrs.stdout
    assert '"svce"<blob>="svc"' in attrs.stdout
    assert '    0x00000007 <blob>="Label"\n' in attrs.stdout  # the label, as security prints it
    assert "pw-1" not in attrs.stdout + attrs.stderr

    gone = run("delete-generic-password", "-s", "svc", "-a", "alice")
    assert gone.returncode == 0 and "deleted" in gone.stdout
    assert run("find-generic-password", "-s", "svc").returncode == 44


def test_not_found_exits_44_with_one_line(run: Run) -> None:
    for args in (
        ("find-generic-password", "-s", "nothing"),
        ("find-generic-password", "-s", "nothing", "-w"),
        ("delete-generic-password", "-s", "nothing"),
        ("find-internet-password", "-s", "nothing.example"),
        ("delete-internet-password", "-s", "nothing.example"),
    ):
        proc = run(*args)
        assert proc.returncode == 44, args
        assert "could not be found" in one_line_error(proc)


def test_add_twice_needs_U(run: Run) -> None:
    assert run("add-generic-password", "-s", "svc", "-a", "a", stdin="one").returncode == 0
    dup = run("add-generic-password", "-s", "svc", "-a", "a", stdin="two")
    assert dup.returncode == (-25299 & 0xFF)
    assert "-U" in one_line_error(dup)
    assert run("find-generic-password", "-s", "svc", "-w").stdout == "one\n"

    upd = run("add-generic-password", "-s", "svc", "-a", "a", "-U", stdin="two")
    assert upd.returncode == 0, upd.stderr
    assert run("find-generic-password", "-s", "svc", "-w").stdout == "two\n"
    # -U adds when nothing is there yet
    assert run("add-generic-password", "-s", "new", "-a", "a", "-U", stdin="x").returncode == 0


def test_secret_read_from_stdin_exactly(run: Run) -> None:
    secret = "  spaces, tabs\tand ünïcode  "
    assert (
        run("add-generic-password", "-s", "svc", "-a", "a", stdin=secret + "\r\n").returncode == 0
    )
    # -w as security prints it: not all printable ASCII (a tab, UTF-8), so lowercase hex
    assert run("find-generic-password", "-s", "svc", "-w").stdout == (secret.encode().hex() + "\n")
    ascii_secret = ' a "b" \\c '
    assert run("add-generic-password", "-s", "ascii", "-a", "a", stdin=ascii_secret).returncode == 0
    assert run("find-generic-password", "-s", "ascii", "-w").stdout == ' a "b" \\c \n'  # raw
    # only one trailing newline is removed
    assert run("add-generic-password", "-s", "two", "-a", "a", stdin="x\n\n").returncode == 0
    assert run("find-generic-password", "-s", "two", "-w").stdout == "780a\n"  # hex: newline
    empty = run("add-generic-password", "-s", "svc3", "-a", "a", stdin="")
    assert empty.returncode == 2
    assert "no password" in one_line_error(empty)


def test_binary_password_prints_as_hex(run: Run) -> None:
    add = run("add-generic-password", "-s", "bin", "-a", "a", stdin=b"\x00\x01\xff")
    assert add.returncode == 0, add.stderr
    assert run("find-generic-password", "-s", "bin", "-w").stdout == "0001ff\n"


def test_internet_password_flags_and_list_json(run: Run) -> None:
    add = run(
        "add-internet-password",
        *("-s", "example.com", "-a", "bob", "-r", "https", "-P", "8443"),
        *("-p", "/login", "-t", "form", "-d", "realm", "-l", "Example", "-j", "note"),
        stdin="web-pw",
    )
    assert add.returncode == 0, add.stderr
    run("add-generic-password", "-s", "svc", "-a", "alice", stdin="gen-pw")

    # the protocol by Apple's code or by name, the port must match
    assert run("find-internet-password", "-s", "example.com", "-r", "htps", "-w").stdout == (
        "web-pw\n"
    )
    assert (
        run("find-internet-password", "-s", "example.com", "-r", "HTTPS", "-P", "8443").returncode
        == 0
    )
    assert run("find-internet-password", "-s", "example.com", "-P", "443").returncode == 44
    assert run("find-internet-password", "-s", "example.com", "-r", "ftp").returncode == 44

    listed = run("list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert {r["class"] for r in rows} == {"generic", "internet"}
    [web] = [r for r in rows if r["class"] == "internet"]
    assert web["server"] == "example.com" and web["account"] == "bob"
    assert web["protocol"] == "https" and web["port"] == 8443 and web["path"] == "/login"
    assert web["authentication_type"] == "html_form" and web["security_domain"] == "realm"
    assert web["label"] == "Example" and web["comment"] == "note"
    assert "created" in web and "modified" in web
    assert "web-pw" not in listed.stdout and "gen-pw" not in listed.stdout

    only = json.loads(run("list", "--json", "--class", "generic").stdout)
    assert [r["service"] for r in only] == ["svc"]
    assert json.loads(run("list", "--json", "-s", "example.com").stdout)[0]["account"] == "bob"
    assert json.loads(run("list", "--json", "-s", "nowhere").stdout) == []

    table = run("list")
    assert table.returncode == 0
    assert "example.com" in table.stdout and "alice" in table.stdout
    assert "web-pw" not in table.stdout

    assert run("delete-internet-password", "-s", "example.com", "-a", "bob").returncode == 0
    assert [r["class"] for r in json.loads(run("list", "--json").stdout)] == ["generic"]


@pytest.mark.parametrize(
    ("args", "stdin", "expect"),
    [
        (("add-internet-password", "-s", "x", "-P", "70000"), "pw", "out of range"),
        (("add-internet-password", "-s", "x", "-P", "https"), "pw", "not a port"),
        (("add-internet-password", "-s", "x", "-r", "gopher"), "pw", "protocol"),
        (("add-generic-password", "-a", "alice"), "pw", "-s SERVICE is required"),
        (("find-generic-password", "--bogus"), "", "unknown option --bogus"),
        (("no-such-command",), "", "unknown command"),
        (("find-generic-password", "-s", "a\x01b"), "", None),
    ],
)
def test_bad_input_is_one_line(
    run: Run, args: tuple[str, ...], stdin: str, expect: str | None
) -> None:
    proc = run(*args, stdin=stdin)
    if expect is None:  # a valid if odd name: just not found
        assert proc.returncode == 44
        return
    assert proc.returncode == 2
    assert expect in one_line_error(proc)


def test_keychain_errors_carry_the_hint(run: Run) -> None:
    proc = run("add-generic-password", "-s", "svc", "-a", "a", "--data-protection", stdin="pw")
    assert proc.returncode == (-34018 & 0xFF)
    line = one_line_error(proc)
    assert "-34018" in line and "entitlement" in line
    ok = run(
        "add-generic-password",
        "-s",
        "svc",
        "-a",
        "a",
        "--data-protection",
        stdin="pw",
        env={"SECSIM_ACCESS_GROUPS": "TEAM.app"},
    )
    assert ok.returncode == 0, ok.stderr


@pytest.mark.skipif(sys.platform == "darwin", reason="Apple's frameworks are there")
def test_no_library_without_being_told(run: Run) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SECITEM_LIBRARY"}

    def without_library(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "secitem", command],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )

    proc = without_library("list")
    assert proc.returncode != 0
    assert "SECITEM_LIBRARY" in one_line_error(proc)
    doctor = without_library("doctor")
    assert doctor.returncode == 1
    assert "secitem demo" in doctor.stdout


def test_doctor(run: Run) -> None:
    plain = run("doctor")
    assert plain.returncode == 0, plain.stderr
    assert "secitem emulator" in plain.stdout
    assert "platform: macos" in plain.stdout
    assert "file-based keychain: usable" in plain.stdout
    assert "data-protection keychain: not usable" in plain.stdout
    assert "entitlement" in plain.stdout

    signed = run("doctor", env={"SECSIM_ACCESS_GROUPS": "TEAM.app"})
    assert "data-protection keychain: usable" in signed.stdout

    ios = run("doctor", env={"SECSIM_PROFILE": "ios"})
    assert "platform: ios" in ios.stdout
    assert "file-based" not in ios.stdout
    assert "data-protection keychain: usable" in ios.stdout
    # the doctor leaves nothing behind
    assert json.loads(run("list", "--json").stdout) == []


def test_demo_auto(run: Run) -> None:
    proc = run("demo", "--auto")
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert "emulator" in first
    out = proc.stdout
    assert "prompt reason: MISSING" in out
    assert "without asking anybody" in out
    assert "prompt reason: REJECTED" in out and "prompt reason: RETRY" in out
    assert "delete() -> True" in out
    assert proc.stderr == ""


def test_demo_reads_the_user_from_stdin(run: Run) -> None:
    answers = "alice\nwonderland\nalice\nlooking-glass\n"
    proc = run("demo", stdin=answers)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("[app]") == 2
    assert "wonderland\n" not in proc.stdout.split("demo values")[1]  # typed passwords not echoed

    gave_up = run("demo", stdin="")
    assert gave_up.returncode == 1
    assert "cancelled" in gave_up.stdout


@pytest.mark.skipif(sys.platform == "darwin", reason="builds the emulator only off Apple systems")
def test_demo_builds_the_emulator_itself(tmp_path: Path, sim: Any) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SECITEM_LIBRARY"}
    proc = subprocess.run(
        [sys.executable, "-m", "secitem", "demo", "--auto"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "emulator" in proc.stdout.splitlines()[0]


def test_help(run: Run) -> None:
    proc = run("--help")
    assert proc.returncode == 0
    for command in ("add-generic-password", "find-internet-password", "list", "doctor", "demo"):
        assert command in proc.stdout


# -- in-process: the terminal path of add -------------------------------------------


def test_add_prompts_twice_on_a_terminal(sim: Any, terminal: Any, capsys: Any) -> None:
    terminal.answer("tty-secret", "tty-secret")
    assert cli.main(["add-generic-password", "-s", "svc", "-a", "alice"]) == 0
    assert terminal.prompts == ["password for alice@svc: ", "retype password: "]
    assert cli.main(["find-generic-password", "-s", "svc", "-w"]) == 0
    assert capsys.readouterr().out == "tty-secret\n"

    terminal.answer("one", "two")
    assert cli.main(["add-generic-password", "-s", "svc2", "-a", "alice"]) == 2
    err = capsys.readouterr().err
    assert "differ" in err and "one" not in err
    assert cli.main(["find-generic-password", "-s", "svc2"]) == 44


def test_undecodable_arguments_are_a_usage_error(run: Run) -> None:
    """Bytes that are not text in the locale arrive as lone surrogates: one line, status 2."""
    for args in (
        ("find-generic-password", "-s", "svc\udcff"),
        ("list", "-a", "\udcff"),
    ):
        proc = run(*args, env={"LC_ALL": "C.UTF-8", "PYTHONUTF8": "1"})
        assert proc.returncode == 2, proc.stderr
        assert "argument" in one_line_error(proc)
