"""Fixtures the command-line tests share."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator

import pytest

from secitem import _cli_items


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
