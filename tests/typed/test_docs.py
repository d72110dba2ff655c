"""Every Python example of docs/typed.md runs as written against the emulator."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "typed.md"
GROUPS = b"TEAMID.com.example.app,TEAMID.com.example.shared"


def _blocks() -> list[tuple[str, str]]:
    text = DOC.read_text()
    out = []
    for n, match in enumerate(re.finditer(r"```python\n(.*?)```", text, re.S)):
        heading = re.findall(r"^### (.+)$", text[: match.start()], re.M)
        out.append((f"{n}-{heading[-1] if heading else 'intro'}", match.group(1)))
    return out


BLOCKS = _blocks()


def test_every_article_is_shown_twice() -> None:
    titles = [t.split("-", 1)[1] for t, _ in BLOCKS]
    for article in (
        "Adding a password to the keychain",
        "Searching for keychain items",
        "Updating and deleting keychain items",
        "Sharing access to keychain items among a collection of apps",
        "Restricting keychain item accessibility",
    ):
        assert sum(article in t for t in titles) == 2, article


@pytest.mark.parametrize("code", [c for _, c in BLOCKS], ids=[t for t, _ in BLOCKS])
def test_example_runs(sim: Any, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    monkeypatch.setenv("SECSIM_PROFILE", "ios")  # Keychain() picks the ios platform
    sim.lib.secsim_set_profile(b"ios")
    sim.lib.secsim_set_access_groups(GROUPS)
    exec(compile(code, str(DOC), "exec"), {})
