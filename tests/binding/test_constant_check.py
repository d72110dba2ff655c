"""The load-time constant self-check reports every mismatch, not just the first.

The check runs when the Security library is first loaded: each public kSec*
constant the library exports must hold the characters secitem expects.  Here
the loaded library is wrapped so that two constants resolve to other exported
constants, as a library with a different ABI would present them.  Marked
``macos``: on a Mac the same wrapping is applied to the real framework.
"""

from __future__ import annotations

from typing import Any

import pytest

from secitem import KeychainUnavailableError, _ffi, _runtime

pytestmark = pytest.mark.macos


class _Renamed:
    """A library whose symbols ``aliases`` resolve to other symbols."""

    def __init__(self, lib: Any, aliases: dict[str, str]) -> None:
        self._lib = lib
        self._aliases = aliases

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lib, self._aliases.get(name, name))


def _runtime_with(aliases: dict[str, str]) -> _runtime.Runtime:
    _runtime.runtime()  # the real load first: the libraries are open and pass the check
    libs = _runtime.load()
    return _runtime.Runtime(_ffi.Libraries(libs.cf, _Renamed(libs.sec, aliases), libs.paths))


def test_the_wrapper_alone_passes() -> None:
    """Without aliases the wrapped library passes: the failures below are the aliases'."""
    rt = _runtime_with({})
    assert "kSecAttrService" in rt.constants


def test_every_mismatch_is_listed() -> None:
    """Two wrong constants: the error names both, with what was found and expected."""
    with pytest.raises(KeychainUnavailableError) as info:
        _runtime_with({"kSecAttrService": "kSecAttrAccount", "kSecAttrServer": "kSecAttrPath"})
    text = str(info.value)
    assert "does not match Apple's constants (2 mismatched)" in text
    assert "kSecAttrService is 'acct', expected 'svce'" in text
    assert "kSecAttrServer is 'path', expected 'srvr'" in text
    assert info.value.paths == _runtime.load().paths


def test_one_mismatch_is_reported_alone() -> None:
    """A single wrong constant gives a count of one and that constant only."""
    with pytest.raises(KeychainUnavailableError) as info:
        _runtime_with({"kSecAttrLabel": "kSecAttrComment"})
    text = str(info.value)
    assert "(1 mismatched): kSecAttrLabel is 'icmt', expected 'labl'" in text
    assert ";" not in text.split("mismatched):", 1)[1]
