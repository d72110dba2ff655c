"""secitem: Apple Keychain Services (SecItem) for Python.

Importing ``secitem`` loads nothing native: the Security library is opened on
the first keychain call.  The Apple-named API is :mod:`secitem.security`.
"""

from secitem.errors import (
    AuthFailedError,
    DuplicateItemError,
    InteractionNotAllowedError,
    ItemNotFoundError,
    KeychainError,
    KeychainUnavailableError,
    MissingEntitlementError,
    NoSuchAttributeError,
    NoSuchClassError,
    ParamError,
    UserCanceledError,
)

__all__ = [
    "AuthFailedError",
    "DuplicateItemError",
    "InteractionNotAllowedError",
    "ItemNotFoundError",
    "KeychainError",
    "KeychainUnavailableError",
    "MissingEntitlementError",
    "NoSuchAttributeError",
    "NoSuchClassError",
    "ParamError",
    "UserCanceledError",
]
