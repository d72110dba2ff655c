"""Keychain.secret: the secret alone, in one call."""

from __future__ import annotations

import pytest

from secitem.errors import ItemNotFoundError
from secitem.items import GenericPassword, InternetPassword
from secitem.keychain import Keychain


def test_secret_reads_only_the_data(kc: Keychain) -> None:
    """secret() returns the bytes of the matching item, by description or reference."""
    ref = kc.add(GenericPassword(service="svc", account="alice"), "s3cret")
    kc.add(GenericPassword(service="svc", account="bob"), b"other")
    assert kc.secret(GenericPassword(service="svc", account="alice")) == b"s3cret"
    assert kc.secret(GenericPassword(service="svc", account="bob")) == b"other"
    assert ref is not None
    assert kc.secret(ref) == b"s3cret"


def test_secret_not_found(kc: Keychain) -> None:
    """Nothing matching is ItemNotFoundError, as get() does."""
    kc.add(InternetPassword(server="example.com", account="alice"), "pw")
    with pytest.raises(ItemNotFoundError):
        kc.secret(InternetPassword(server="example.com", account="mallory"))
