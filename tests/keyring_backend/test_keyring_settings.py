"""SecitemKeyring's settings, viability, and how keychain errors reach keyring users."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("keyring")

from keyring import errors as kerrors
from keyring_helpers import keychain_items

from secitem.errors import KeychainError
from secitem.items import Accessible
from secitem.keyring_backend import (
    PRIORITY_APPLE,
    PRIORITY_LIBRARY,
    DeleteLockedError,
    KeyringSettings,
    SecitemKeyring,
    SetLockedError,
)

SVC = "org.example.keyring-settings"
SECRET = "correct horse battery staple"
ENV_NAMES = [
    "SECITEM_KEYRING_DATA_PROTECTION",
    "SECITEM_KEYRING_ACCESS_GROUP",
    "SECITEM_KEYRING_ACCESSIBLE",
    "SECITEM_KEYRING_SYNCHRONIZABLE",
    "KEYRING_PROPERTY_DATA_PROTECTION",
    "KEYRING_PROPERTY_ACCESS_GROUP",
    "KEYRING_PROPERTY_ACCESSIBLE",
    "KEYRING_PROPERTY_SYNCHRONIZABLE",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting from the caller's environment; keyring's config dir in tmp_path."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    return tmp_path / "python_keyring" / "keyringrc.cfg"


def write_config(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# -- settings ------------------------------------------------------------------


def test_defaults_are_apples() -> None:
    assert SecitemKeyring(platform="ios").settings == KeyringSettings()


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECITEM_KEYRING_DATA_PROTECTION", "yes")
    monkeypatch.setenv("SECITEM_KEYRING_ACCESS_GROUP", " TEAMID.com.example ")
    monkeypatch.setenv("SECITEM_KEYRING_ACCESSIBLE", "kSecAttrAccessibleAfterFirstUnlock")
    monkeypatch.setenv("SECITEM_KEYRING_SYNCHRONIZABLE", "On")
    assert SecitemKeyring(platform="macos").settings == KeyringSettings(
        data_protection=True,
        access_group="TEAMID.com.example",
        accessible=Accessible.AFTER_FIRST_UNLOCK,
        synchronizable=True,
    )


def test_config_file_section(clean_environment: Path) -> None:
    write_config(
        clean_environment,
        "[backend]\ndefault-keyring = secitem.keyring_backend.SecitemKeyring\n"
        "[secitem]\ndata-protection = true\naccess_group = g1\n"
        "accessible = when-unlocked-this-device-only\n",
    )
    assert SecitemKeyring(platform="macos").settings == KeyringSettings(
        data_protection=True,
        access_group="g1",
        accessible=Accessible.WHEN_UNLOCKED_THIS_DEVICE_ONLY,
    )


def test_precedence_property_then_environment_then_file(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    write_config(clean_environment, "[secitem]\naccess-group = from-file\naccessible = always\n")
    monkeypatch.setenv("SECITEM_KEYRING_ACCESS_GROUP", "from-env")
    monkeypatch.setenv("SECITEM_KEYRING_ACCESSIBLE", "when_unlocked")
    monkeypatch.setenv("KEYRING_PROPERTY_ACCESSIBLE", "after_first_unlock")
    backend = SecitemKeyring(platform="ios")
    assert backend.settings.access_group == "from-env"
    assert backend.settings.accessible is Accessible.AFTER_FIRST_UNLOCK
    assert SecitemKeyring(platform="ios", access_group="from-arg").settings.access_group == (
        "from-arg"
    )
    other = backend.with_properties(access_group="from-properties")
    assert isinstance(other, SecitemKeyring)
    assert other.settings.access_group == "from-properties"
    assert backend.settings.access_group == "from-env"  # the original is unchanged


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SECITEM_KEYRING_ACCESSIBLE", "sometimes", "when_unlocked, after_first_unlock"),
        ("SECITEM_KEYRING_DATA_PROTECTION", "maybe", "use true or false"),
        ("SECITEM_KEYRING_SYNCHRONIZABLE", "2", "use true or false"),
        ("SECITEM_KEYRING_ACCESS_GROUP", "g1,g2", "use one access group"),
    ],
)
def test_bad_environment_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    backend = SecitemKeyring(platform="ios")  # construction never fails on a bad setting
    with pytest.raises(kerrors.InitError) as info:
        backend.get_password(SVC, "alice")
    assert variable in str(info.value)
    assert repr(value) in str(info.value)
    assert expected in str(info.value)


def test_bad_constructor_argument_fails_at_once() -> None:
    with pytest.raises(kerrors.InitError, match=r"property accessible .*'nope'"):
        SecitemKeyring(platform="ios", accessible="nope")
    with pytest.raises(kerrors.InitError, match=r"platform"):
        SecitemKeyring(platform="windows")  # type: ignore[arg-type]


def test_bad_config_file(clean_environment: Path) -> None:
    write_config(clean_environment, "[secitem]\naccesible = always\n")
    with pytest.raises(kerrors.InitError, match=r"keyringrc.cfg \[secitem\].*'accesible'"):
        _ = SecitemKeyring(platform="ios").settings
    write_config(clean_environment, "[secitem]\nsynchronizable = sure\n")
    with pytest.raises(kerrors.InitError, match=r"keyringrc.cfg \[secitem\] synchronizable"):
        _ = SecitemKeyring(platform="ios").settings


@pytest.mark.parametrize(
    ("platform", "settings", "message"),
    [
        ("macos", {"access_group": "g1"}, "login (file-based) keychain have no access groups"),
        ("macos", {"accessible": "when_unlocked"}, "have no accessibility"),
        ("ios", {"data_protection": False}, "iOS has only the data-protection keychain"),
        (
            "ios",
            {"synchronizable": True, "accessible": "when_unlocked_this_device_only"},
            "cannot be combined with synchronizable",
        ),
    ],
)
def test_conflicting_settings(platform: str, settings: dict[str, Any], message: str) -> None:
    with pytest.raises(kerrors.InitError, match=re.escape(message)):
        SecitemKeyring(platform=platform, **settings)  # type: ignore[arg-type]


# -- viability -----------------------------------------------------------------


def test_viable_with_secitem_library() -> None:
    if not os.environ.get("SECITEM_LIBRARY"):
        pytest.skip("runs against the emulator")
    assert SecitemKeyring.viable
    assert SecitemKeyring.priority == PRIORITY_LIBRARY


def test_priority_with_apples_framework(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above keyring's macOS backend, below keyring's chainer.

    Simulated: the library this process already loaded stands in for
    Apple's frameworks (secitem keeps the libraries it opened).
    """
    from secitem import _runtime

    _runtime.load()
    monkeypatch.delenv("SECITEM_LIBRARY", raising=False)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert SecitemKeyring.priority == PRIORITY_APPLE
    assert 5 < SecitemKeyring.priority < 10  # keyring's macOS backend: 5; its chainer: 10


def test_not_viable_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECITEM_LIBRARY")
    monkeypatch.setattr(sys, "platform", "linux")
    assert not SecitemKeyring.viable
    with pytest.raises(RuntimeError, match="not viable"):
        _ = SecitemKeyring.priority


def test_not_viable_when_the_library_does_not_load(tmp_path: Path) -> None:
    """Fresh interpreter: SECITEM_LIBRARY names a file that is no library."""
    bogus = tmp_path / "libnot.so"
    bogus.write_text("not a library")
    code = (
        "from secitem.keyring_backend import SecitemKeyring as K\n"
        "try:\n    K.priority\nexcept RuntimeError as e:\n    print('ERR', e)\n"
    )
    env = dict(os.environ, SECITEM_LIBRARY=str(bogus))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("ERR not viable")
    assert str(bogus) in out


def test_importing_secitem_does_not_import_keyring() -> None:
    code = (
        "import sys, secitem, secitem.keychain, secitem.items, secitem.security\n"
        "print('keyring' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


# -- errors --------------------------------------------------------------------


def assert_mapped(info: pytest.ExceptionInfo[BaseException], status: int) -> None:
    cause = info.value.__cause__
    assert isinstance(cause, KeychainError)
    assert cause.status == status
    assert f"OSStatus {status}" in str(info.value)
    if cause.hint:
        assert cause.hint in str(info.value)
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)


def test_locked_keychain(sim: Any, profile: str) -> None:
    backend = SecitemKeyring(platform=profile)  # type: ignore[arg-type]
    sim.lib.secsim_fail_next(b"SecItemUpdate", -25308)
    with pytest.raises(SetLockedError) as info:
        backend.set_password(SVC, "alice", SECRET)
    assert isinstance(info.value, kerrors.KeyringLocked)
    assert isinstance(info.value, kerrors.PasswordSetError)
    assert_mapped(info, -25308)
    assert "security unlock-keychain" in str(info.value)

    backend.set_password(SVC, "alice", SECRET)
    sim.lib.secsim_fail_next(b"SecItemCopyMatching", -25308)
    with pytest.raises(kerrors.KeyringLocked) as locked:
        backend.get_password(SVC, "alice")
    assert_mapped(locked, -25308)

    sim.lib.secsim_fail_next(b"SecItemDelete", -128)
    with pytest.raises(DeleteLockedError) as denied:
        backend.delete_password(SVC, "alice")
    assert isinstance(denied.value, kerrors.PasswordDeleteError)
    assert_mapped(denied, -128)
    backend.delete_password(SVC, "alice")


def test_other_errors(sim: Any, profile: str) -> None:
    backend = SecitemKeyring(platform=profile)  # type: ignore[arg-type]
    sim.lib.secsim_fail_next(b"SecItemAdd", -25293)
    with pytest.raises(kerrors.PasswordSetError) as info:
        backend.set_password(SVC, "bob", SECRET)
    assert not isinstance(info.value, kerrors.KeyringLocked)
    assert_mapped(info, -25293)

    sim.lib.secsim_fail_next(b"SecItemCopyMatching", -25293)
    with pytest.raises(kerrors.KeyringError) as failed:
        backend.get_credential(SVC, None)
    assert_mapped(failed, -25293)
    assert keychain_items(profile) == []  # type: ignore[arg-type]


def test_unsigned_python_and_the_data_protection_keychain() -> None:
    """The macOS profile without access groups is an unsigned interpreter: writes
    give -34018; reads run with the implicit com.apple.token group and find
    nothing (facts 12.3, KeychainEntitlementsTest.m), so get_password is None."""
    backend = SecitemKeyring(platform="macos", data_protection=True)
    with pytest.raises(kerrors.PasswordSetError) as info:
        backend.set_password(SVC, "carol", SECRET)
    assert_mapped(info, -34018)
    assert "entitlement" in str(info.value)
    assert backend.get_password(SVC, "carol") is None


def test_delete_missing_and_non_utf8_secret(profile: str) -> None:
    from secitem.items import GenericPassword
    from secitem.keychain import Keychain

    backend = SecitemKeyring(platform=profile)  # type: ignore[arg-type]
    with pytest.raises(kerrors.PasswordDeleteError, match="no such password"):
        backend.delete_password(SVC, "dave")
    keychain = Keychain(platform=profile)  # type: ignore[arg-type]
    keychain.add(GenericPassword(service=SVC, account="dave"), b"\xff\xfe binary")
    with pytest.raises(kerrors.KeyringError, match="not UTF-8"):
        backend.get_password(SVC, "dave")
    backend.delete_password(SVC, "dave")


def test_none_username_is_the_empty_account(profile: str) -> None:
    backend = SecitemKeyring(platform=profile)  # type: ignore[arg-type]
    with pytest.deprecated_call():
        backend.set_password(SVC, None, SECRET)  # type: ignore[arg-type]
    assert backend.get_password(SVC, "") == SECRET
    backend.delete_password(SVC, None)  # type: ignore[arg-type]
