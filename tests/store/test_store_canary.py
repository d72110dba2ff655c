"""Canary: a unique password is planted, then searched for in every output.

It must never appear in a repr or str (credentials, stores, items), an
error message, a log record, or the output of a command other than
``find-*-password -w`` (which exists to print it, and is the control).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from secitem.errors import KeychainError
from secitem.items import GenericPassword, InternetPassword
from secitem.keychain import Keychain
from secitem.store import (
    Credential,
    CredentialStore,
    LoginError,
    PromptReason,
)


@pytest.fixture
def canary() -> str:
    return f"CANARY-{uuid.uuid4().hex}"


def _texts(*objects: object) -> list[str]:
    out: list[str] = []
    for obj in objects:
        out += [repr(obj), str(obj), f"{obj}"]
        if isinstance(obj, BaseException):
            out += [
                repr(obj.args),
                str(getattr(obj, "hint", "")),
                str(obj.__notes__ if hasattr(obj, "__notes__") else ""),
            ]
    return out


def test_library_outputs(
    canary: str, profile: str, sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    kc = Keychain(platform=profile)  # type: ignore[arg-type]
    store = CredentialStore(server="api.example.com", keychain=kc, label="canary test")
    seen: list[object] = [store, kc]

    cred = Credential("alice", canary)
    seen.append(cred)
    store.save(cred)
    got = store.get("alice")
    assert got is not None and got.password == canary  # the control: it is stored
    seen += [got, kc.find(store.query), kc.get(InternetPassword(server="api.example.com"))]
    seen += [store.accounts()]

    # login: stored rejected, the user types the canary again (rejected), then gives up
    answers: list[Credential | None] = [Credential("alice", canary + "-typed"), None]

    def prompt(reason: PromptReason) -> Credential | None:
        return answers.pop(0)

    with pytest.raises(LoginError) as cancelled:
        store.login(prompt, lambda c: False)
    seen.append(cancelled.value)

    with pytest.raises(LoginError) as failed:
        store.login(lambda r: Credential("alice", canary), lambda c: False, max_attempts=2)
    seen.append(failed.value)

    # keychain errors around the secret: duplicate add, failed update, locked device
    with pytest.raises(KeychainError) as duplicate:
        kc.add(GenericPassword(service="svc", account="a"), canary)
        kc.add(GenericPassword(service="svc", account="a"), canary)
    seen.append(duplicate.value)
    sim.lib.secsim_fail_next(b"SecItemUpdate", -61)
    with pytest.raises(KeychainError) as update_failed:
        store.login(lambda r: Credential("alice", canary + "x"), lambda c: c.password.endswith("x"))
    seen.append(update_failed.value)

    # accepted path: the canary's successor is stored, logged about, returned
    new = store.login(
        lambda r: Credential("alice", canary + "y"), lambda c: c.password.endswith("y")
    )
    seen.append(new)
    assert store.delete() is True

    log_text = [r.getMessage() for r in caplog.records] + [caplog.text]
    assert any("login" in t for t in log_text)  # the store does log
    for text in _texts(*seen) + log_text:
        assert canary not in text, text


def test_command_line_outputs(canary: str, tmp_path: Path, sim: Any) -> None:
    env = dict(os.environ)
    env["SECSIM_STORE"] = str(tmp_path / "keychain.db")

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "secitem", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    outputs: list[subprocess.CompletedProcess[str]] = [
        run("add-generic-password", "-s", "svc", "-a", "alice", "-l", "L", stdin=canary),
        run("add-generic-password", "-s", "svc", "-a", "alice", stdin=canary),  # duplicate
        run("add-generic-password", "-s", "svc", "-a", "alice", "-U", stdin=canary + "\n"),
        run(
            "add-internet-password",
            *("-s", "example.com", "-a", "bob", "-r", "https", "-P", "443"),
            stdin=canary,
        ),
        run("find-generic-password", "-s", "svc"),
        run("find-generic-password", "-s", "svc", "-a", "alice"),
        run("find-internet-password", "-s", "example.com"),
        run("list"),
        run("list", "--json"),
        run("doctor"),
        # a password typed on the command line is refused without being echoed
        run("add-generic-password", "-s", "svc", "-a", "x", "-w", canary),
        run("add-generic-password", "-s", "svc", "-a", "x", "-p", canary),
        run("find-generic-password", "-s", "svc", f"-w{canary}"),
        run("find-generic-password", "-s", "svc", canary),
        run("add-generic-password", "-s", "svc", "-a", "alice", "--data-protection", stdin=canary),
    ]
    control = run("find-generic-password", "-s", "svc", "-w")
    assert control.stdout == canary + "\n"  # the one command that prints it
    assert run("find-internet-password", "-s", "example.com", "-w").stdout == canary + "\n"
    outputs += [
        run("delete-generic-password", "-s", "svc", "-a", "alice"),
        run("delete-internet-password", "-s", "example.com"),
        run("find-generic-password", "-s", "svc"),
    ]
    assert outputs[-1].returncode == 44
    for proc in outputs:
        assert canary not in proc.stdout, proc.args
        assert canary not in proc.stderr, proc.args
        assert "Traceback" not in proc.stderr, proc.stderr
