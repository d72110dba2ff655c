"""Every exception secitem raises on purpose is a ``SecitemError`` (issue #11, item 15).

The README promises one base class to catch; these tests pin that every
exception class secitem defines derives from it, keeps the builtin it
behaves like, lives in ``secitem.errors`` and is still importable from its
old module.
"""

from __future__ import annotations

import inspect

import pytest

import secitem
from secitem import errors


def _secitem_exception_classes() -> list[type[BaseException]]:
    import secitem.cli
    import secitem.items
    import secitem.keychain
    import secitem.keyring_backend
    import secitem.security
    import secitem.store

    found: dict[str, type[BaseException]] = {}
    modules = [
        errors,
        secitem.cli,
        secitem.items,
        secitem.keychain,
        secitem.keyring_backend,
        secitem.security,
        secitem.store,
    ]
    for module in modules:
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__.startswith("secitem"):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return sorted(found.values(), key=lambda c: c.__qualname__)


def test_every_secitem_exception_is_a_secitem_error() -> None:
    """Issue #11 item 15: InvalidQueryError, LoginFailed, ... had no common base."""
    classes = _secitem_exception_classes()
    assert len(classes) >= 20, [c.__name__ for c in classes]
    outside = [c.__qualname__ for c in classes if not issubclass(c, secitem.SecitemError)]
    assert outside == []


@pytest.mark.parametrize(
    ("name", "builtin"),
    [
        ("InvalidQueryError", ValueError),
        ("QueryTypeError", TypeError),
        ("QueryTypeError", ValueError),
        ("AmbiguousAccountError", LookupError),
        ("PasswordNotTextError", ValueError),
        ("KeychainUnavailableError", RuntimeError),
        ("LoginCancelled", secitem.SecitemError),
        ("LoginFailed", secitem.SecitemError),
        ("ItemNotFoundError", secitem.KeychainError),
    ],
)
def test_builtin_mixins_are_kept(name: str, builtin: type[BaseException]) -> None:
    """Code that catches the builtin keeps working after the move."""
    assert issubclass(getattr(secitem, name), builtin)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("secitem.items", "InvalidQueryError"),
        ("secitem.items", "QueryTypeError"),
        ("secitem.store", "AmbiguousAccountError"),
        ("secitem.store", "LoginError"),
        ("secitem.store", "LoginCancelled"),
        ("secitem.store", "LoginFailed"),
        ("secitem.store", "PasswordNotTextError"),
    ],
)
def test_old_import_paths_still_work_and_are_the_same_class(module: str, name: str) -> None:
    """The classes moved into secitem.errors; their old import paths stay."""
    import importlib

    cls = getattr(importlib.import_module(module), name)
    assert cls is getattr(errors, name) is getattr(secitem, name)
    assert cls.__module__ == "secitem.errors"


def test_secitem_error_catches_a_validation_error() -> None:
    """A single ``except SecitemError`` handles a bad argument."""
    with pytest.raises(secitem.SecitemError) as info:
        secitem.GenericPassword(service=42)  # type: ignore[arg-type]
    assert "service" in str(info.value)
