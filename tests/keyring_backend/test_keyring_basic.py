"""keyring's own reusable backend tests, run against SecitemKeyring on the emulator.

``keyring.testing.backend.BackendBasicTests`` is the suite keyring runs
against its own backends.  It runs here under each emulator setup of
``keyring_helpers.SETUPS`` (the macOS login keychain of an unsigned Python,
the macOS data-protection keychain of a signed one, iOS, iOS with an access
group and iCloud Keychain).  After each test a finalizer deletes what the
test stored (the suite's ``test_set_after_set_blank`` stores an item it does
not clean up) and then asserts, through secitem's ``Keychain`` API, that the
keychain holds no item at all.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("keyring")

from keyring.testing.backend import BackendBasicTests
from keyring_helpers import SETUPS, Setup, apply, keychain_items

from secitem.keyring_backend import SecitemKeyring


@pytest.fixture(params=SETUPS, ids=[s.id for s in SETUPS])
def setup(request: pytest.FixtureRequest, sim: Any) -> Setup:
    s: Setup = request.param
    apply(s, sim)
    return s


class TestSecitemKeyring(BackendBasicTests):
    setup_: Setup
    stored: set[tuple[str, str]]

    # keyring's fixture of the same name, made to depend on the emulator setup
    # (so the profile is in place before init_keyring) and to record every
    # item the backend stores, including those the suite does not track.
    @pytest.fixture(autouse=True)
    def _init_properties(self, request: pytest.FixtureRequest, setup: Setup) -> None:
        self.setup_ = setup
        self.stored = set()
        self.keyring = self.init_keyring()
        self.credentials_created = set()
        request.addfinalizer(self._check_nothing_left)
        request.addfinalizer(self.cleanup)

    def init_keyring(self) -> SecitemKeyring:
        backend = SecitemKeyring(platform=self.setup_.platform, **self.setup_.settings)
        set_password = backend.set_password

        def recording_set_password(service: str, username: str, password: str) -> None:
            set_password(service, username, password)
            self.stored.add((service, username))

        backend.set_password = recording_set_password  # type: ignore[method-assign]
        return backend

    def _check_nothing_left(self) -> None:
        for service, username in self.stored - self.credentials_created:
            if self.keyring.get_password(service, username) is not None:
                self.keyring.delete_password(service, username)
        left = keychain_items(self.setup_.platform)
        assert left == [], f"items left in the keychain: {left}"
