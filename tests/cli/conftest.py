"""Fixtures the command-line tests share."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from secitem import _cli_items


@pytest.fixture
def run(tmp_path: Path, sim: Any) -> Callable[..., subprocess.CompletedProcess[Any]]:
    """Run the command line against a keychain file shared by every call of the test."""
    base = dict(os.environ)
    base["SECSIM_STORE"] = str(tmp_path / "keychain.db")
    base.pop("SECSIM_PROFILE", None)
    base.pop("SECSIM_ACCESS_GROUPS", None)

    def call(*args: str, stdin: str | bytes = "", env: dict[str, str] | None = None) -> Any:
        return subprocess.run(
            [sys.executable, "-m", "secitem", *args],
            input=stdin,
            capture_output=True,
            text=isinstance(stdin, str),
            env={**base, **(env or {})},
            timeout=120,
        )

    return call


class _Tty(io.StringIO):
    """Standard input that is a terminal, so the commands ask at a hidden prompt."""

    def isatty(self) -> bool:
        return True


class HiddenPrompts:
    """``getpass`` on that terminal: the answers given, in turn; every prompt is recorded."""

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self._answers: Iterator[str] = iter(())

    def answer(self, *answers: str) -> None:
        """The answers to the next prompts, one each."""
        self._answers = iter(answers)

    def getpass(self, prompt: str = "") -> str:
        self.prompts.append(prompt)
        return next(self._answers)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> HiddenPrompts:
    """Standard input is a terminal; the hidden prompts answer what ``answer`` was given."""
    prompts = HiddenPrompts()
    monkeypatch.setattr(sys, "stdin", _Tty())
    monkeypatch.setattr(_cli_items.getpass, "getpass", prompts.getpass)
    return prompts
