"""secitem: Apple Keychain Services (SecItem) for Python.

Start with :class:`CredentialStore`: it runs an app's whole sign-in flow
(ask once, sign in silently after that, ask again when the password was
changed elsewhere, forget on logout)::

    store = CredentialStore(server="api.example.com")
    credential = store.login(ask_user, check_with_server)

For scripts, three one-line calls on the same items as
``CredentialStore(service=...)``: :func:`get_password`,
:func:`set_password` and :func:`delete_password`.

Below that, from the top:

* :class:`Keychain` with typed items (:class:`GenericPassword`,
  :class:`InternetPassword`, :class:`Certificate`, :class:`Key`,
  :class:`Identity`) and typed results (:class:`Item`);
* :mod:`secitem.security`: Apple's SecItem functions and kSec* constants,
  with Python values;
* :mod:`secitem.testing`: the Security framework emulator for tests on Linux.

Every exception secitem raises on purpose is a :class:`SecitemError`.
Importing ``secitem`` loads nothing native: the Security library is opened
on the first keychain call.
"""

from secitem._version import __version__
from secitem.errors import (
    AmbiguousAccountError,
    AuthFailedError,
    DataNotFetchedError,
    DuplicateItemError,
    InteractionNotAllowedError,
    InvalidQueryError,
    ItemNotFoundError,
    KeychainError,
    KeychainTimeoutError,
    KeychainUnavailableError,
    LoginCancelled,
    LoginError,
    LoginFailed,
    MissingEntitlementError,
    NoSuchAttributeError,
    NoSuchClassError,
    ParamError,
    PasswordNotTextError,
    QueryTypeError,
    SecitemError,
    UserCanceledError,
)

# The typed layer (dataclasses, enums) is imported on first use of one of its
# names, so that ``import secitem`` stays cheap (PEP 562).
_LAZY: dict[str, str] = {
    "PRF": "secitem.items",
    "AccessControlFlags": "secitem.items",
    "Accessible": "secitem.items",
    "AccessPolicy": "secitem.items",
    "AuthenticationType": "secitem.items",
    "Certificate": "secitem.items",
    "GenericPassword": "secitem.items",
    "Identity": "secitem.items",
    "InternetPassword": "secitem.items",
    "Item": "secitem.items",
    "ItemClass": "secitem.items",
    "Key": "secitem.items",
    "KeyClass": "secitem.items",
    "KeyType": "secitem.items",
    "InternetProtocol": "secitem.items",
    "PersistentRef": "secitem.items",
    "Protocol": "secitem.items",
    "Synchronizable": "secitem.items",
    "fourcc": "secitem.items",
    "Credential": "secitem.store",
    "CredentialStore": "secitem.store",
    "PromptReason": "secitem.store",
    "Keychain": "secitem.keychain",
    "AsyncCredentialStore": "secitem.aio",
    "AsyncKeychain": "secitem.aio",
    "current_platform": "secitem.keychain",
    "delete_password": "secitem.shortcuts",
    "get_password": "secitem.shortcuts",
    "set_password": "secitem.shortcuts",
}

TYPE_CHECKING = False
if TYPE_CHECKING:
    from secitem.aio import AsyncCredentialStore, AsyncKeychain
    from secitem.items import (
        PRF,
        AccessControlFlags,
        Accessible,
        AccessPolicy,
        AuthenticationType,
        Certificate,
        GenericPassword,
        Identity,
        InternetPassword,
        InternetProtocol,
        Item,
        ItemClass,
        Key,
        KeyClass,
        KeyType,
        PersistentRef,
        Synchronizable,
        fourcc,
    )
    from secitem.keychain import Keychain, current_platform
    from secitem.shortcuts import delete_password, get_password, set_password
    from secitem.store import Credential, CredentialStore, PromptReason


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'secitem' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "PRF",
    "AccessControlFlags",
    "AccessPolicy",
    "Accessible",
    "AmbiguousAccountError",
    "AsyncCredentialStore",
    "AsyncKeychain",
    "AuthFailedError",
    "AuthenticationType",
    "Certificate",
    "Credential",
    "CredentialStore",
    "DataNotFetchedError",
    "DuplicateItemError",
    "GenericPassword",
    "Identity",
    "InteractionNotAllowedError",
    "InternetPassword",
    "InternetProtocol",
    "InvalidQueryError",
    "Item",
    "ItemClass",
    "ItemNotFoundError",
    "Key",
    "KeyClass",
    "KeyType",
    "Keychain",
    "KeychainError",
    "KeychainTimeoutError",
    "KeychainUnavailableError",
    "LoginCancelled",
    "LoginError",
    "LoginFailed",
    "MissingEntitlementError",
    "NoSuchAttributeError",
    "NoSuchClassError",
    "ParamError",
    "PasswordNotTextError",
    "PersistentRef",
    "PromptReason",
    "QueryTypeError",
    "SecitemError",
    "Synchronizable",
    "UserCanceledError",
    "__version__",
    "current_platform",
    "delete_password",
    "fourcc",
    "get_password",
    "set_password",
]
