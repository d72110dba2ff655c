"""The one-line calls for scripts (issue #14): keyring's semantics, CredentialStore's items."""

from __future__ import annotations

import subprocess
import sys

import pytest

import secitem
from secitem import (
    Credential,
    CredentialStore,
    GenericPassword,
    Keychain,
    PasswordNotTextError,
    QueryTypeError,
)


def test_set_get_delete_round_trip(profile: str) -> None:
    """set stores, get reads, delete forgets; a missing password is None, not an error."""
    assert secitem.get_password("script-svc", "alice") is None
    secitem.set_password("script-svc", "alice", "s3cret")
    assert secitem.get_password("script-svc", "alice") == "s3cret"
    secitem.set_password("script-svc", "alice", "n3w")  # replaces, never duplicates
    assert secitem.get_password("script-svc", "alice") == "n3w"
    assert len(Keychain().find(GenericPassword(service="script-svc"))) == 1
    assert secitem.delete_password("script-svc", "alice") is True
    assert secitem.delete_password("script-svc", "alice") is False
    assert secitem.get_password("script-svc", "alice") is None


def test_a_script_and_an_app_share_the_same_items(profile: str) -> None:
    """What set_password writes, CredentialStore(service=...) reads, and back."""
    store = CredentialStore(service="shared-svc")
    secitem.set_password("shared-svc", "bob", "from-script")
    assert store.get("bob") == Credential("bob", "from-script")
    store.save(Credential("carol", "from-app"))
    assert secitem.get_password("shared-svc", "carol") == "from-app"


def test_items_other_code_wrote_are_left_alone(profile: str) -> None:
    """Ownership: an unmarked item of the same service is neither read nor deleted."""
    Keychain().add(GenericPassword(service="other-svc", account="dave"), b"theirs")
    assert secitem.get_password("other-svc", "dave") is None
    assert secitem.delete_password("other-svc", "dave") is False
    assert Keychain().get(GenericPassword(service="other-svc", account="dave")).secret == b"theirs"


def test_account_is_required_and_checked(profile: str) -> None:
    """None would mean every account: refused by name, as are wrong types."""
    with pytest.raises(QueryTypeError, match=r"get_password\(account=\.\.\.\)"):
        secitem.get_password("svc", None)  # type: ignore[arg-type]
    with pytest.raises(QueryTypeError, match="delete_password"):
        secitem.delete_password("svc", None)  # type: ignore[arg-type]
    with pytest.raises(QueryTypeError, match="account"):
        secitem.set_password("svc", 42, "pw")  # type: ignore[arg-type]
    with pytest.raises(QueryTypeError, match="password"):
        secitem.set_password("svc", "a", b"bytes")  # type: ignore[arg-type]


def test_binary_secret_is_a_named_error_without_the_bytes(profile: str) -> None:
    """A store-owned item holding binary data: PasswordNotTextError, no secret in it."""
    store = CredentialStore(service="bin-svc")
    store.save(Credential("erin", "text"))
    item = Keychain().get(GenericPassword(service="bin-svc", account="erin"))
    Keychain().update(item, data=b"\xffcanary")
    with pytest.raises(PasswordNotTextError) as info:
        secitem.get_password("bin-svc", "erin")
    assert "canary" not in str(info.value) and "erin" in str(info.value)


def test_version_and_help_name_the_store_first() -> None:
    """secitem.__version__ is the package's version; help(secitem) starts with CredentialStore."""
    from importlib.metadata import version

    assert secitem.__version__ == version("secitem")
    doc = secitem.__doc__ or ""
    first = doc.find("CredentialStore")
    assert 0 <= first < doc.find(":class:`Keychain`")
    assert first < doc.find("secitem.security")


def test_star_import_does_not_shadow_typing_protocol() -> None:
    """`from secitem import *` after `from typing import Protocol` keeps typing's."""
    code = (
        "from typing import Protocol\n"
        "from secitem import *\n"
        "import typing, secitem\n"
        "assert Protocol is typing.Protocol\n"
        "assert InternetProtocol.HTTPS.value == 'htps'\n"
        "assert secitem.Protocol is InternetProtocol  # the old name still imports\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.stdout.strip() == "ok", out.stderr
