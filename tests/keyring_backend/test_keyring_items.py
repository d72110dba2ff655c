"""What SecitemKeyring stores, and that set_password updates items in place.

* Items are generic passwords keyed by kSecAttrService / kSecAttrAccount
  with the secret as UTF-8 bytes, so items written the way keyring's own
  macOS backend writes them are found, updated and deleted.
* ``set_password`` on an existing item updates it in place: same persistent
  reference and creation date, and its accessibility, access group and
  label survive, whether the backend's settings chose them or another
  program did.  SecItemDelete is never called.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

pytest.importorskip("keyring")

from keyring_helpers import keychain_items

from secitem import security as S
from secitem.items import Accessible, GenericPassword, Synchronizable
from secitem.keychain import Keychain
from secitem.keyring_backend import SecitemKeyring

SVC = "org.example.keyring-test"


@contextmanager
def no_delete() -> Iterator[None]:
    """Fail the test if anything calls SecItemDelete (set must never delete+add)."""

    def refuse(query: object) -> None:
        raise AssertionError("SecItemDelete called")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(S, "SecItemDelete", refuse)
        yield


def test_items_are_generic_passwords_keyed_by_service_and_account(profile: str) -> None:
    backend = SecitemKeyring(platform=profile)  # type: ignore[arg-type]
    backend.set_password(SVC, "alice", "pässword")
    raw = S.SecItemCopyMatching(
        {
            S.kSecClass: S.kSecClassGenericPassword,
            S.kSecAttrService: SVC,
            S.kSecAttrAccount: "alice",
            S.kSecReturnData: True,
        }
    )
    assert raw == "pässword".encode()
    backend.delete_password(SVC, "alice")
    assert keychain_items(profile) == []  # type: ignore[arg-type]


def test_finds_items_stored_like_keyrings_macos_backend(profile: str) -> None:
    """keyring's macOS backend adds {class, service, account, data}: found and updated."""
    S.SecItemAdd(
        {
            S.kSecClass: S.kSecClassGenericPassword,
            S.kSecAttrService: SVC,
            S.kSecAttrAccount: "bob",
            S.kSecValueData: b"old",
        }
    )
    backend = SecitemKeyring(platform=profile)  # type: ignore[arg-type]
    assert backend.get_password(SVC, "bob") == "old"
    credential = backend.get_credential(SVC, None)
    assert credential is not None
    assert (credential.username, credential.password) == ("bob", "old")
    with no_delete():
        backend.set_password(SVC, "bob", "new")
    [item] = keychain_items(profile)  # type: ignore[arg-type]
    assert Keychain(platform=profile).get(item).data == b"new"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("platform", "settings"),
    [
        ("ios", {"access_group": "g2", "accessible": "after_first_unlock_this_device_only"}),
        ("ios", {"access_group": "g2", "accessible": "after_first_unlock", "synchronizable": True}),
        (
            "macos",
            {
                "data_protection": True,
                "access_group": "g2",
                "accessible": "kSecAttrAccessibleWhenUnlockedThisDeviceOnly",
            },
        ),
    ],
    ids=["ios", "ios-synchronizable", "macos-data-protection"],
)
def test_set_password_keeps_accessibility_and_access_group(
    sim: Any, platform: str, settings: dict[str, Any]
) -> None:
    sim.lib.secsim_set_profile(platform.encode())
    sim.lib.secsim_set_access_groups(b"g1,g2")
    backend = SecitemKeyring(platform=platform, **settings)  # type: ignore[arg-type]
    expected = backend.settings
    assert expected.accessible is not None

    backend.set_password(SVC, "carol", "first")
    [before] = keychain_items(platform)  # type: ignore[arg-type]
    with no_delete():
        backend.set_password(SVC, "carol", "second")
        backend.set_password(SVC, "carol", "third")
    [after] = keychain_items(platform)  # type: ignore[arg-type]

    assert backend.get_password(SVC, "carol") == "third"
    for item in (before, after):
        assert item.attributes.accessible is expected.accessible
        assert item.attributes.access_group == "g2"
        assert item.attributes.synchronizable is Synchronizable(bool(expected.synchronizable))
    assert after.persistent_ref == before.persistent_ref  # the same item, updated in place
    assert after.creation_date == before.creation_date
    backend.delete_password(SVC, "carol")
    assert keychain_items(platform) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("platform", ["ios", "macos"])
def test_set_password_keeps_settings_made_by_another_program(sim: Any, platform: str) -> None:
    """A backend without settings changes only the secret of an existing item."""
    sim.lib.secsim_set_profile(platform.encode())
    sim.lib.secsim_set_access_groups(b"g1,g2")
    keychain = Keychain(platform=platform, data_protection=True)  # type: ignore[arg-type]
    keychain.add(
        GenericPassword(
            service=SVC,
            account="dave",
            access_group="g2",
            accessible=Accessible.WHEN_PASSCODE_SET_THIS_DEVICE_ONLY,
            label="set by hand",
        ),
        b"old",
    )
    [before] = keychain.find(GenericPassword(service=SVC))

    backend = SecitemKeyring(platform=platform, data_protection=True)  # type: ignore[arg-type]
    with no_delete():
        backend.set_password(SVC, "dave", "new")

    [after] = keychain.find(GenericPassword(service=SVC), data=True)
    assert after.data == b"new"
    assert after.persistent_ref == before.persistent_ref
    assert after.attributes.accessible is Accessible.WHEN_PASSCODE_SET_THIS_DEVICE_ONLY
    assert after.attributes.access_group == "g2"
    assert after.attributes.label == "set by hand"
    keychain.delete(after)


def test_access_group_limits_what_is_seen(sim: Any) -> None:
    sim.lib.secsim_set_profile(b"ios")
    sim.lib.secsim_set_access_groups(b"g1,g2")
    in_g1 = SecitemKeyring(platform="ios", access_group="g1")
    in_g2 = SecitemKeyring(platform="ios", access_group="g2")
    anywhere = SecitemKeyring(platform="ios")
    in_g1.set_password(SVC, "erin", "one")
    assert in_g2.get_password(SVC, "erin") is None
    assert in_g2.get_credential(SVC, None) is None
    assert anywhere.get_password(SVC, "erin") == "one"
    in_g2.set_password(SVC, "erin", "two")  # a second item, in g2
    assert in_g1.get_password(SVC, "erin") == "one"
    assert in_g2.get_password(SVC, "erin") == "two"
    in_g1.delete_password(SVC, "erin")
    assert in_g2.get_password(SVC, "erin") == "two"
    in_g2.delete_password(SVC, "erin")


def test_get_credential_without_username(profile: str) -> None:
    backend = SecitemKeyring(platform=profile)  # type: ignore[arg-type]
    assert backend.get_credential(SVC, None) is None
    backend.set_password(SVC, "frank", "pw-frank")
    backend.set_password(SVC, "grace", "pw-grace")
    credential = backend.get_credential(SVC)
    assert credential is not None
    assert (credential.username, credential.password) in {
        ("frank", "pw-frank"),
        ("grace", "pw-grace"),
    }
    named = backend.get_credential(SVC, "grace")
    assert named is not None
    assert (named.username, named.password) == ("grace", "pw-grace")
    assert backend.get_credential(SVC, "nobody") is None
    assert backend.get_credential("org.example.other", None) is None


def test_empty_password_and_long_unicode_secret(profile: str) -> None:
    backend = SecitemKeyring(platform=profile)  # type: ignore[arg-type]
    secret = "ünïcødé 🔑 " * 500
    backend.set_password(SVC, "henry", secret)
    assert backend.get_password(SVC, "henry") == secret
    backend.set_password(SVC, "henry", "")
    assert backend.get_password(SVC, "henry") == ""
    credential = backend.get_credential(SVC)
    assert credential is not None
    assert credential.password == ""


def test_set_password_reaches_every_item_get_password_could_return(sim: Any) -> None:
    """Without access_group, the same account in two groups: both get the new password."""
    sim.lib.secsim_set_profile(b"ios")
    sim.lib.secsim_set_access_groups(b"g1,g2")
    SecitemKeyring(platform="ios", access_group="g1").set_password(SVC, "ivan", "old-1")
    SecitemKeyring(platform="ios", access_group="g2").set_password(SVC, "ivan", "old-2")
    backend = SecitemKeyring(platform="ios")
    with no_delete():
        backend.set_password(SVC, "ivan", "new")
    assert backend.get_password(SVC, "ivan") == "new"
    items = Keychain(platform="ios").find(GenericPassword(service=SVC), data=True)
    assert sorted((i.attributes.access_group, i.data) for i in items) == [
        ("g1", b"new"),
        ("g2", b"new"),
    ]
    backend.delete_password(SVC, "ivan")  # both
    assert keychain_items("ios") == []


def test_a_missing_service_is_refused_not_a_wildcard(profile: str) -> None:
    """service=None must not become a query without kSecAttrService (every service)."""
    from keyring.errors import KeyringError, PasswordSetError

    backend = SecitemKeyring(platform=profile)  # type: ignore[arg-type]
    backend.set_password("svc-a", "u", "a-pw")
    backend.set_password("svc-b", "u", "b-pw")
    for call in (
        lambda: backend.set_password(None, "u", "x"),  # type: ignore[arg-type]
        lambda: backend.delete_password(None, "u"),  # type: ignore[arg-type]
        lambda: backend.get_password(None, "u"),  # type: ignore[arg-type]
        lambda: backend.get_credential(None),  # type: ignore[arg-type]
    ):
        with pytest.raises(TypeError, match="service"):
            call()
    assert backend.get_password("svc-a", "u") == "a-pw"
    assert backend.get_password("svc-b", "u") == "b-pw"

    with pytest.raises(PasswordSetError, match="not valid Unicode") as info:
        backend.set_password("svc-a", "u", "SECRET\udcff")
    assert "SECRET" not in str(info.value) and "udcff" not in str(info.value)
    assert backend.get_password("svc-a", "u") == "a-pw"
    with pytest.raises(KeyringError, match="service: is not valid Unicode"):
        backend.get_password("svc\udcff", "u")
    backend.delete_password("svc-a", "u")
    backend.delete_password("svc-b", "u")
