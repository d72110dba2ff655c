"""Shared pieces of the keyring backend tests.

The emulator profiles and settings the backend is tested under, and
:func:`keychain_items`, which lists every generic password left in the
keychain through secitem's own ``Keychain`` API (not through the backend),
so that "nothing is left behind" is checked independently of the code
under test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from secitem.items import GenericPassword, Item, Synchronizable
from secitem.keychain import Keychain, Platform


@dataclass(frozen=True)
class Setup:
    """An emulator profile and the backend settings used with it."""

    id: str
    platform: Platform
    access_groups: bytes | None = None  # the process's entitlements (macos: unsigned if None)
    settings: dict[str, Any] = field(default_factory=dict)


SETUPS = [
    Setup("macos-login", "macos"),
    Setup(
        "macos-data-protection",
        "macos",
        access_groups=b"g1,g2",
        settings={"data_protection": True, "accessible": "after_first_unlock"},
    ),
    Setup("ios", "ios"),
    Setup(
        "ios-group-sync",
        "ios",
        access_groups=b"g1,g2",
        settings={"access_group": "g2", "synchronizable": True},
    ),
]


def apply(setup: Setup, sim: Any) -> None:
    """Put the emulator in ``setup``'s profile."""
    sim.lib.secsim_set_profile(setup.platform.encode())
    if setup.access_groups is not None:
        sim.lib.secsim_set_access_groups(setup.access_groups)


def keychain_items(platform: Platform) -> list[Item[GenericPassword]]:
    """Every generic password visible to this process, synchronizable or not."""
    return Keychain(platform=platform).find(GenericPassword(synchronizable=Synchronizable.ANY))
