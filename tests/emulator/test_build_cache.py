"""The emulator's build cache is keyed by every file the build reads.

sec_private.h includes the generated include/Security/SecBaseErrors.h, so a change
to a public header must give another cache folder (a stale library otherwise)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from secitem.testing import emulator


def _copy(tmp_path: Path, name: str, source: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(source, target)
    return target


def test_a_public_header_change_gives_another_cache_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csrc = _copy(tmp_path, "csrc", emulator.sources())
    include = _copy(tmp_path, "include", emulator.include())
    monkeypatch.setattr(emulator, "sources", lambda: csrc)
    monkeypatch.setattr(emulator, "include", lambda: include)
    before = emulator._build_key("cc", ["-O2"])
    assert emulator._build_key("cc", ["-O2"]) == before  # stable
    header = include / "Security" / "SecBaseErrors.h"
    header.write_text(header.read_text(encoding="utf-8") + "\n/* changed */\n", encoding="utf-8")
    assert emulator._build_key("cc", ["-O2"]) != before


def test_a_source_or_flag_change_gives_another_cache_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csrc = _copy(tmp_path, "csrc", emulator.sources())
    monkeypatch.setattr(emulator, "sources", lambda: csrc)
    before = emulator._build_key("cc", ["-O2"])
    assert emulator._build_key("cc", ["-O0"]) != before
    (csrc / "sec_index.c").write_text("/* changed */\n", encoding="utf-8")
    assert emulator._build_key("cc", ["-O2"]) != before
