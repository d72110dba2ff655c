"""Every code example of README.md and docs/*.md runs as written, against the emulator.

Each ``python`` block runs in a fresh namespace on an empty keychain under the
default profile (``macos``, an unsigned interpreter: no keychain access group),
as a user who pastes it into ``python`` on a Mac would run it.  ``input()`` and
``getpass()`` answer as a user would.  A block whose section states a premise
the default cannot give (a signed app with entitlements) gets exactly that
premise from ``PREMISES``, and says why.  docs/typed.md's examples also run
under the ``ios`` profile, since they are written for both platforms.

Blocks that are not Python (shell sessions, output) are listed in ``NOT_RUN``
by language, each with the reason; they are reported as skips, so the reasons
are printed by ``pytest -ra``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
GROUPS = b"TEAMID.com.example.app,TEAMID.com.example.shared"

#: Sections whose examples need what an unsigned interpreter does not have.
#: (page, heading text) -> (access groups the process is entitled to, why)
PREMISES: dict[tuple[str, str], tuple[bytes, str]] = {
    ("docs/typed.md", "4. Sharing access to keychain items among a collection of apps"): (
        GROUPS,
        "the section's premise: an app entitled to TEAMID.com.example.app (its default "
        "group) and TEAMID.com.example.shared",
    ),
    ("docs/typed.md", "5. Restricting keychain item accessibility"): (
        GROUPS,
        "accessibility and access control live in the data-protection keychain, "
        "which needs a signed, entitled app",
    ),
}

#: Fenced blocks that are not run, by language, and why.
NOT_RUN: dict[str, str] = {
    "console": "a shell session: commands such as pip install, security (macOS only), "
    "exports; the secitem commands in docs/cli.md are run by tests/cli",
    "bash": "a shell script for macOS or CI, shown for reading",
    "sh": "a shell script for macOS or CI, shown for reading",
    "text": "program output or a layout, not code",
    "": "program output or a layout, not code",
    "yaml": "configuration (workflow or mkdocs), checked by the tests that load it",
    "toml": "configuration, shown for reading",
    "c": "C shown for reading; the C program of docs/testing.md is compiled and run by "
    "tests/emulator/test_native_headers.py",
    "go": "a cgo example; tests/emulator/test_native_headers.py builds it where Go is installed",
    "ini": "configuration, shown for reading",
}

_FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)


def _blocks() -> Iterator[tuple[str, str, str, str, int]]:
    """(page, heading, language, code, line) of every fenced block."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        name = page.relative_to(ROOT).as_posix()
        heading, end = "", 0
        for match in _FENCE.finditer(text):
            prose = text[end : match.start()]  # a "# comment" inside a block is no heading
            heading = ([heading, *re.findall(r"^#{1,6} (.+)$", prose, re.M)])[-1]
            end = match.end()
            line = text[: match.start()].count("\n") + 1
            yield name, heading, match.group(1), match.group(2), line


BLOCKS = list(_blocks())
PYTHON = [b for b in BLOCKS if b[2] == "python"]
OTHER = [b for b in BLOCKS if b[2] != "python"]


def _id(block: tuple[str, str, str, str, int]) -> str:
    return f"{block[0]}:{block[4]}"


def test_every_article_is_shown_twice() -> None:
    titles = [heading for page, heading, *_ in PYTHON if page == "docs/typed.md"]
    for article in (
        "Adding a password to the keychain",
        "Searching for keychain items",
        "Updating and deleting keychain items",
        "Sharing access to keychain items among a collection of apps",
        "Restricting keychain item accessibility",
    ):
        assert sum(article in t for t in titles) == 2, article


def test_every_page_is_read() -> None:
    """The collection finds the blocks (a broken pattern would run nothing)."""
    assert len(PYTHON) >= 20
    assert {p for p, *_ in PYTHON} >= {"README.md", "docs/typed.md", "docs/credential-store.md"}


def test_premises_name_real_sections() -> None:
    sections = {(page, heading) for page, heading, *_ in PYTHON}
    assert set(PREMISES) <= sections


def _run(code: str, where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["alice"] * 10)
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "wonderland")
    saved = dict(os.environ)  # an example may set SECSIM_* itself: never leak it
    try:
        exec(compile(code, where, "exec"), {"__name__": "__docs__"})
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.mark.parametrize("block", PYTHON, ids=[_id(b) for b in PYTHON])
def test_example_runs_under_the_default_profile(
    sim: Any, monkeypatch: pytest.MonkeyPatch, block: tuple[str, str, str, str, int]
) -> None:
    page, heading, _, code, line = block
    monkeypatch.delenv("SECSIM_PROFILE", raising=False)
    monkeypatch.delenv("SECSIM_ACCESS_GROUPS", raising=False)
    sim.lib.secsim_set_profile(b"macos")
    groups, _why = PREMISES.get((page, heading), (b"", ""))
    sim.lib.secsim_set_access_groups(groups)
    _run(code, f"{page}:{line}", monkeypatch)


TYPED = [b for b in PYTHON if b[0] == "docs/typed.md"]


@pytest.mark.parametrize("block", TYPED, ids=[_id(b) for b in TYPED])
def test_typed_example_runs_on_ios(
    sim: Any, monkeypatch: pytest.MonkeyPatch, block: tuple[str, str, str, str, int]
) -> None:
    monkeypatch.setenv("SECSIM_PROFILE", "ios")  # Keychain() picks the ios platform
    sim.lib.secsim_set_profile(b"ios")
    sim.lib.secsim_set_access_groups(GROUPS)
    _run(block[3], f"{block[0]}:{block[4]}", monkeypatch)


@pytest.mark.parametrize("block", OTHER, ids=[_id(b) for b in OTHER])
def test_block_that_is_not_run(block: tuple[str, str, str, str, int]) -> None:
    """Every other block has a language with a stated reason; the reason is printed."""
    language = block[2]
    assert language in NOT_RUN, f"{_id(block)}: a ```{language} block with no reason to skip it"
    pytest.skip(f"```{language or '(plain)'} block not run: {NOT_RUN[language]}")


DOCS_SITE = "https://secitem.readthedocs.io/"


def test_readme_links_are_absolute_and_reach_pages() -> None:
    """The README is also the package index page, where a relative link is broken."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links
    for link in links:
        assert re.match(r"https?://", link), f"README link {link!r} is relative"
        if link.startswith(DOCS_SITE):
            page = link.removeprefix(DOCS_SITE).partition("#")[0].strip("/") or "index"
            assert (ROOT / "docs" / f"{page}.md").exists(), f"{link}: no docs/{page}.md"


def test_project_urls() -> None:
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert set(meta["urls"]) >= {"Homepage", "Documentation", "Issues", "Source"}
    assert meta["urls"]["Documentation"].rstrip("/") + "/" == DOCS_SITE
