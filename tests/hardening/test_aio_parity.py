"""docs/async.md: "AsyncKeychain has add ... upsert; AsyncCredentialStore has ...
They take the same arguments (the constructors too, timeout= included) and raise
the same errors as their blocking counterparts."  Since the access-list commit,
CredentialStore(trusted_applications=, any_application=) and Keychain.add/upsert(
trusted_applications=, any_application=) exist; the async twins reject them with
a bare TypeError (not a SecitemError)."""

import asyncio

from secitem import GenericPassword
from secitem.aio import AsyncCredentialStore, AsyncKeychain


def test_async_store_takes_the_access_list_arguments(secitem_emulator):
    AsyncCredentialStore(service="s", any_application=True)
    AsyncCredentialStore(service="s", trusted_applications=["/usr/bin/true"])


def test_async_keychain_add_takes_the_access_list_arguments(secitem_emulator):
    asyncio.run(
        AsyncKeychain().add(GenericPassword(service="s", account="a"), b"x", any_application=True)
    )


def test_async_keychain_upsert_takes_the_access_list_arguments(secitem_emulator):
    asyncio.run(
        AsyncKeychain().upsert(
            GenericPassword(service="s", account="a"), b"x", any_application=True
        )
    )


def test_async_twins_take_every_argument_of_the_blocking_classes() -> None:
    """The async classes cannot drift again: every parameter of CredentialStore()
    and of each Keychain method exists, with the same kind, on its async twin."""
    import inspect

    from secitem import CredentialStore, Keychain

    pairs = [(CredentialStore.__init__, AsyncCredentialStore.__init__)]
    for name in ("add", "get", "secret", "find", "update", "delete", "upsert"):
        pairs.append((getattr(Keychain, name), getattr(AsyncKeychain, name)))
    pairs.append((Keychain.__init__, AsyncKeychain.__init__))
    for blocking, twin in pairs:
        mine = inspect.signature(twin).parameters
        for name, param in inspect.signature(blocking).parameters.items():
            assert name in mine, f"{twin.__qualname__} lacks {name}"
            assert mine[name].kind == param.kind, f"{twin.__qualname__}.{name}"


def test_async_store_wraps_a_store_with_the_default_creator_spelled_out(
    secitem_emulator: object,
) -> None:
    """creator="SItm" (the default, as text) is not 'another argument' next to store=."""
    from secitem import CredentialStore

    AsyncCredentialStore(store=CredentialStore(service="s"), creator=None)
