"""The Python examples of the README and docs/binding.md run as written (on the emulator)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = ("README.md", "docs/binding.md")


def _python_blocks(name: str) -> list[str]:
    text = (ROOT / name).read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, re.S)


EXAMPLES = [(name, i) for name in FILES for i in range(len(_python_blocks(name)))]


def test_readme_has_the_credential_store_example() -> None:
    """The README shows the CredentialStore example."""
    assert any("CredentialStore" in block for block in _python_blocks("README.md"))


@pytest.mark.parametrize(("name", "index"), EXAMPLES)
def test_example_runs(name: str, index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each example runs; input() and getpass() answer as a user would."""
    answers = iter(["alice"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "wonderland")
    code = compile(_python_blocks(name)[index], f"{name} example {index}", "exec")
    exec(code, {})
