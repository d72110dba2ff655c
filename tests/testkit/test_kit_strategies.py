"""Every value the strategies produce is accepted by the typed layer and stored
unchanged on the keychain it targets; the hard cases do come up."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from secitem import (
    Credential,
    CredentialStore,
    GenericPassword,
    InternetPassword,
    Keychain,
)
from secitem.testing import strategies as kst
from secitem.testing.controls import EmulatorControls

MANY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HOST = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*")


def _expected_data(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def _check_round_trip(item: GenericPassword | InternetPassword, secret: str | bytes) -> None:
    keychain = Keychain()
    keychain.add(item, secret)
    found = keychain.get(item)
    assert found.data == _expected_data(secret)
    for name, value in item.fields().items():
        assert getattr(found.attributes, name) == value, name
    assert keychain.delete(item) == 1


@pytest.mark.parametrize("profile", ["macos", "ios"])
@pytest.mark.parametrize("strategy", ["generic_passwords", "internet_passwords"])
def test_passwords_are_stored_unchanged(
    secitem_emulator: EmulatorControls, strategy: str, profile: Any
) -> None:
    """Every item of ``kst.generic_passwords`` / ``kst.internet_passwords`` for the
    profile, with any secret, round-trips on a fresh keychain."""
    secitem_emulator.profile = profile
    items = getattr(kst, strategy)(platform=profile)

    @MANY
    @given(item=items, secret=kst.secrets())
    def check(item: GenericPassword | InternetPassword, secret: str | bytes) -> None:
        secitem_emulator.reset()
        _check_round_trip(item, secret)

    check()


@MANY
@given(service=kst.services(), server=kst.servers(), port=kst.ports(), credential=kst.credentials())
def test_credential_stores_keep_credentials(
    secitem_emulator: EmulatorControls,
    service: str,
    server: str,
    port: int,
    credential: Credential,
) -> None:
    secitem_emulator.reset()
    for store in (CredentialStore(service=service), CredentialStore(server=server, port=port)):
        store.save(credential)
        assert store.get(credential.account) == credential
        assert store.accounts() == [credential.account]
        assert store.delete(credential.account) is True


@settings(max_examples=200, deadline=None)
@given(name=kst.names(), account=kst.accounts(), service=kst.services(), server=kst.servers())
def test_names_follow_the_rules(name: str, account: str, service: str, server: str) -> None:
    for text in (name, account, service):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogate
    assert account and service.strip()
    assert HOST.fullmatch(server) and len(server) <= 253


@pytest.mark.parametrize(
    ("strategy", "condition"),
    [
        (kst.names(), lambda s: s.startswith("\ufeff")),
        (kst.names(), lambda s: any(ord(c) > 0xFFFF for c in s)),
        (kst.names(), lambda s: "\u0301" in s or "\u0308" in s),
        (kst.names(), lambda s: len(s) >= 256),
        (kst.accounts(), lambda s: s.startswith("\ufeff")),
        (kst.text_secrets(), lambda s: "\x00" in s),
        (kst.text_secrets(), lambda s: any(ord(c) > 0xFFFF for c in s)),
        (kst.binary_secrets(), lambda b: b"\x00" in b[1:-1]),
        (kst.binary_secrets(), lambda b: len(b) >= 1024),
        (kst.binary_secrets(), lambda b: b == b""),
        (kst.ports(), lambda p: p == 65535),
        (kst.servers(), lambda s: "-" in s and "." in s),
        (kst.secrets(), lambda s: isinstance(s, bytes)),
        (kst.secrets(), lambda s: isinstance(s, str)),
    ],
)
def test_the_hard_cases_come_up(strategy: st.SearchStrategy[Any], condition: Any) -> None:
    find(strategy, condition, settings=settings(max_examples=2000, deadline=None))


def test_an_unknown_platform_is_refused() -> None:
    with pytest.raises(ValueError, match="platform"):
        kst.generic_passwords(platform="android")  # type: ignore[arg-type]
