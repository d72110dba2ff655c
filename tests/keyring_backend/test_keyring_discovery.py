"""keyring finds SecitemKeyring: entry point, PYTHON_KEYRING_BACKEND, keyringrc.cfg, CLI.

The entry point is declared in pyproject.toml
(``[project.entry-points."keyring.backends"] secitem = "secitem.keyring_backend"``).
``test_discovered_through_an_entry_point`` checks keyring's discovery with
an entry point built here, so it runs even before the package is
reinstalled; the tests that need the installed metadata skip until
``pip install -e .`` has run with that declaration.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("keyring")

import keyring.backend
import keyring.core
from keyring.compat.py312 import metadata

from secitem.keyring_backend import SecitemKeyring

BACKEND = "secitem.keyring_backend.SecitemKeyring"
ENTRY_POINT = metadata.EntryPoint(
    name="secitem", value="secitem.keyring_backend", group="keyring.backends"
)


def installed_entry_point() -> bool:
    return any(
        ep.value == ENTRY_POINT.value for ep in metadata.entry_points(group="keyring.backends")
    )


needs_installed_entry_point = pytest.mark.skipif(
    not installed_entry_point(),
    reason="the keyring.backends entry point is not installed "
    "(add it to pyproject.toml and run pip install -e .)",
)


@pytest.fixture
def fresh_discovery() -> Iterator[None]:
    """keyring caches get_all_keyring(); start and end with an empty cache."""
    with suppress(KeyError):  # reset() raises KeyError when nothing is cached
        keyring.backend.get_all_keyring.reset()
    yield
    with suppress(KeyError):
        keyring.backend.get_all_keyring.reset()


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    return tmp_path / "python_keyring" / "keyringrc.cfg"


def test_discovered_through_an_entry_point(
    monkeypatch: pytest.MonkeyPatch, fresh_discovery: None
) -> None:
    loaded: list[str] = []

    def entry_points(*, group: str) -> Any:
        assert group == "keyring.backends"
        loaded.append(group)
        return metadata.EntryPoints([ENTRY_POINT])

    monkeypatch.setattr(keyring.backend, "metadata", SimpleNamespace(entry_points=entry_points))
    backends = keyring.backend.get_all_keyring()
    assert loaded == ["keyring.backends"]
    ours = [b for b in backends if isinstance(b, SecitemKeyring)]
    assert len(ours) == 1
    assert str(ours[0]) == f"{BACKEND} (priority: 0.5)"


@needs_installed_entry_point
def test_installed_entry_point(fresh_discovery: None) -> None:
    assert any(isinstance(b, SecitemKeyring) for b in keyring.backend.get_all_keyring())


def test_python_keyring_backend_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", BACKEND)
    assert isinstance(keyring.core.load_env(), SecitemKeyring)


def test_keyringrc_default_keyring(no_user_config: Path) -> None:
    no_user_config.parent.mkdir(parents=True)
    no_user_config.write_text(f"[backend]\ndefault-keyring = {BACKEND}\n", encoding="utf-8")
    assert isinstance(keyring.core.load_config(), SecitemKeyring)


def run_keyring(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    return subprocess.run(
        [sys.executable, "-m", "keyring", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


@needs_installed_entry_point
def test_cli_lists_the_backend(sim: Any) -> None:
    out = run_keyring("--list-backends", env=dict(os.environ))
    assert f"{BACKEND} (priority: 0.5)" in out


def test_cli_round_trip_between_processes(sim: Any, tmp_path: Path) -> None:
    """keyring's CLI, in separate processes sharing the emulator's file store."""
    env = dict(
        os.environ,
        PYTHON_KEYRING_BACKEND=BACKEND,
        SECSIM_STORE=str(tmp_path / "store"),
    )
    run_keyring("set", "org.example.cli", "alice", env=env, stdin="s3cret\n")
    assert run_keyring("get", "org.example.cli", "alice", env=env) == "s3cret\n"
    out = run_keyring("--mode", "creds", "--output", "json", "get", "org.example.cli", env=env)
    assert '"username": "alice"' in out
    assert '"password": "s3cret"' in out
    run_keyring("del", "org.example.cli", "alice", env=env)
    result = subprocess.run(
        [sys.executable, "-m", "keyring", "get", "org.example.cli", "alice"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == ""
