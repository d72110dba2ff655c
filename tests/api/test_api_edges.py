"""Rough edges a new user hit (issue #14): what an error says, what a type checker knows."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from secitem import (
    DataNotFetchedError,
    GenericPassword,
    InternetPassword,
    ItemNotFoundError,
    Keychain,
    QueryTypeError,
    SecitemError,
)


def test_the_class_instead_of_an_instance_is_explained(profile: str) -> None:
    """kc.get(GenericPassword) said only "got type"."""
    with pytest.raises(QueryTypeError) as info:
        Keychain().get(GenericPassword)  # type: ignore[call-overload]
    message = str(info.value)
    assert "the class GenericPassword itself" in message
    assert "GenericPassword(service=...)" in message


@pytest.mark.parametrize("call", ["get", "secret", "update", "delete"])
def test_not_found_says_what_was_searched_for(profile: str, call: str) -> None:
    """ItemNotFoundError names the query, and its hint speaks the typed layer's terms."""
    kc = Keychain()
    query = InternetPassword(server="nowhere.example.com", account="zed")
    with pytest.raises(ItemNotFoundError) as info:
        if call == "update":
            kc.update(query, label="x")
        else:
            getattr(kc, call)(query)
    error = info.value
    assert "InternetPassword(server='nowhere.example.com', account='zed')" in str(error)
    assert error.status == -25300 and error.query == query  # type: ignore[attr-defined]
    assert error.hint is not None and "kSec" not in error.hint
    assert "data_protection=True" in error.hint


def test_delete_missing_ok_still_returns_false(profile: str) -> None:
    assert Keychain().delete(GenericPassword(service="none"), missing_ok=True) is False


def test_item_secret_is_bytes_or_a_named_error(profile: str) -> None:
    """Item.secret: bytes when fetched; DataNotFetchedError (a LookupError) when not."""
    kc = Keychain()
    kc.add(GenericPassword(service="s", account="a"), b"pw")
    assert kc.get(GenericPassword(service="s")).secret == b"pw"
    bare = kc.get(GenericPassword(service="s"), data=False)
    with pytest.raises(DataNotFetchedError) as info:
        _ = bare.secret
    assert isinstance(info.value, LookupError) and isinstance(info.value, SecitemError)
    assert "data=True" in str(info.value)


def _mypy(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "example.py"
    source.write_text(textwrap.dedent(code))
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )


def test_a_type_checker_knows_the_secret_and_catches_a_misspelt_change(tmp_path: Path) -> None:
    """Strict code needs no assert for the secret, and update(changes=...) is checked."""
    ok = _mypy(
        tmp_path,
        """
        from secitem import GenericPassword, Keychain

        def read(kc: Keychain) -> bytes:
            return kc.get(GenericPassword(service="s")).secret

        def rename(kc: Keychain) -> None:
            kc.update(GenericPassword(service="s"), changes=GenericPassword(label="new"))
        """,
    )
    assert ok.returncode == 0, ok.stdout
    typo = _mypy(
        tmp_path,
        """
        from secitem import GenericPassword, Keychain

        def rename(kc: Keychain) -> None:
            kc.update(GenericPassword(service="s"), changes=GenericPassword(lable="new"))
        """,
    )
    assert typo.returncode == 1
    assert 'Unexpected keyword argument "lable"' in typo.stdout


def test_an_item_stored_without_data_reads_as_an_empty_secret(sim: object) -> None:
    """Apple's data-protection keychain leaves kSecValueData out of the answer for an
    item with no data (SecItemDb.c handle_result); get() and find(data=True) asked for
    the secret, so it is b"" and item.secret works, never DataNotFetchedError."""
    sim.lib.secsim_set_profile(b"ios")  # type: ignore[attr-defined]
    kc = Keychain(platform="ios")
    kc.add(GenericPassword(service="nodata", account="a"))
    assert kc.get(GenericPassword(service="nodata")).secret == b""
    [found] = kc.find(GenericPassword(service="nodata"), data=True)
    assert found.secret == b""
    assert kc.get(GenericPassword(service="nodata"), data=False).data is None
