"""Every exception secitem raises on purpose, in one module.

:class:`SecitemError` is the base of all of them, so ``except
secitem.SecitemError`` catches whatever secitem reports and nothing else.
Each keeps the builtin it behaves like as a second base (``ValueError``,
``TypeError``, ``LookupError``), so code written against those still works:

* :class:`KeychainError` and its subclasses: a keychain call failed with an
  OSStatus (one class per status that callers tell apart);
* :class:`InvalidQueryError` / :class:`QueryTypeError`: an item description,
  query or argument is invalid; nothing was sent;
* :class:`KeychainTimeoutError`: a call did not finish before its deadline
  (``timeout=``); there is no OSStatus, since Apple's call had not returned;
* :class:`LoginError` (:class:`LoginCancelled`, :class:`LoginFailed`),
  :class:`AmbiguousAccountError` and :class:`PasswordNotTextError`: the
  outcomes of :class:`secitem.CredentialStore`.

Every failed keychain call raises :class:`KeychainError` or one of its
subclasses.  The exception carries

* ``status`` - the OSStatus returned by the Security framework,
* ``message`` - Apple's English message for that status (from
  ``SecCopyErrorMessageString`` once the library is loaded, otherwise from
  the table built into ``secitem``),
* ``hint`` - how to fix the common causes, or ``None``.

``str(error)`` is Apple's message followed by the status, for example
``"The specified item could not be found in the keychain. (OSStatus -25300)"``.
No error ever contains a secret: messages name keys and types, never values.

This module is pure Python; importing it loads nothing native.
"""

from __future__ import annotations

import sys

# Avoid importing typing at run time: ``import secitem`` stays cheap.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import ClassVar, Final

    from secitem.store import PromptReason

__all__ = [
    "AmbiguousAccountError",
    "AuthFailedError",
    "DataNotFetchedError",
    "DuplicateItemError",
    "InteractionNotAllowedError",
    "InvalidQueryError",
    "ItemNotFoundError",
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
    "QueryTypeError",
    "SecitemError",
    "UserCanceledError",
    "check",
    "error_for_status",
    "error_message",
]

errSecNotAvailable: Final = -25291

_HINT_MISSING_ENTITLEMENT: Final = (
    "The data-protection keychain needs a keychain-access-groups (or "
    "application-identifier) entitlement, which an unsigned interpreter such as "
    "a stock python does not have. Drop kSecUseDataProtectionKeychain (and "
    "kSecAttrSynchronizable / kSecAttrAccessControl, which also select that "
    "keychain) to use the file-based login keychain, or run from an app signed "
    "with the keychain-access-groups entitlement."
)
_HINT_INTERACTION_NOT_ALLOWED: Final = (
    "The keychain needed to show UI or the item is locked: the device (or the "
    "login keychain) may be locked, or the process runs where no UI can appear "
    "(an SSH session, a daemon, kSecUseAuthenticationUIFail). Unlock it (for "
    "the login keychain: `security unlock-keychain`), run from a logged-in GUI "
    "session, or store the item with a less strict kSecAttrAccessible such as "
    "kSecAttrAccessibleAfterFirstUnlock."
)
_HINT_AUTH_FAILED: Final = (
    "Authentication failed: the password, passcode or biometry presented at the "
    "prompt was not accepted (or the keychain is locked with another password)."
)
_HINT_USER_CANCELED: Final = (
    "The user dismissed the authentication prompt; treat it as a cancellation "
    "and ask again only if the user chooses to."
)
_HINT_PARAM: Final = (
    "The dictionary was rejected: check for a missing kSecClass, kSecReturn* or "
    "kSecMatch* keys in SecItemUpdate/SecItemDelete, values of the wrong type "
    "(kSecValueData must be bytes, kSecReturn* values must be bool), or "
    "kSecReturnData with kSecMatchLimitAll on the macOS file-based keychain."
)
_HINT_NOT_FOUND: Final = (
    "Nothing matched the query. On macOS, not found may mean the item is in the "
    "other keychain: file-based (login) items are invisible to queries with "
    "kSecUseDataProtectionKeychain=True, and data-protection items to queries "
    "without it. Synchronizable items also need kSecAttrSynchronizable "
    "(or kSecAttrSynchronizableAny), and kSecAttrAccessGroup narrows the search."
)
_HINT_DUPLICATE: Final = (
    "An item with the same primary key exists already (for generic passwords: "
    "account and service; for internet passwords: account, server, protocol, "
    "port, path, security domain and authentication type). Label, comment and "
    "accessibility are not part of the key. Update the existing item instead."
)
_HINT_UNAVAILABLE: Final = (
    "secitem needs Apple's Security and CoreFoundation frameworks (macOS or iOS). "
    "Elsewhere, point SECITEM_LIBRARY at a library with the same C ABI, such as "
    "the emulator built by `python -m secitem.testing.emulator`."
)

#: How to fix the common causes of a status, by OSStatus.
HINTS: Final[dict[int, str]] = {
    -34018: _HINT_MISSING_ENTITLEMENT,
    -25308: _HINT_INTERACTION_NOT_ALLOWED,
    -25293: _HINT_AUTH_FAILED,
    -128: _HINT_USER_CANCELED,
    -50: _HINT_PARAM,
    -25300: _HINT_NOT_FOUND,
    -25299: _HINT_DUPLICATE,
}

_builtin_messages: dict[int, str] | None = None


def _builtin_message(status: int) -> str:
    global _builtin_messages
    table = _builtin_messages
    if table is None:
        from secitem._tables import ERRORS

        table = {code: text for _name, code, text in ERRORS if text}
        _builtin_messages = table
    return table.get(status, "")


def error_message(status: int) -> str:
    """Apple's message for ``status``.

    Asks ``SecCopyErrorMessageString`` when the Security library is already
    loaded (never loads it), else uses the table of Apple's messages built
    into ``secitem``.  Unknown statuses give ``"OSStatus <status>"`` as Apple's
    own function does.
    """
    cached = _library_messages.get(status)
    if cached is not None:
        return cached
    if "secitem._runtime" in sys.modules:
        from secitem import _runtime

        text = _runtime.copy_error_message(status)
        if text:
            # Apple's messages are fixed for the life of the process: ask once.
            _library_messages[status] = text
            return text
    return _builtin_message(status) or f"OSStatus {status}"


#: Messages the loaded library gave, by status (filled by error_message).
_library_messages: dict[int, str] = {}


class SecitemError(Exception):
    """The base of every exception secitem raises on purpose.

    Never raised itself; catch it to handle anything secitem reports.  No
    instance ever holds a secret in its message, ``args`` or ``repr``.
    """


class KeychainError(SecitemError):
    """A keychain call failed with an OSStatus.

    ``KeychainError(status, message=None, hint=None)``: a missing message is
    looked up (Apple's text for the status), a missing hint comes from the
    built-in table of fix-it hints.  Subclasses fix the status, so
    ``ItemNotFoundError()`` works without arguments.
    """

    #: The OSStatus a subclass stands for (0 on the base class: any status).
    STATUS: ClassVar[int] = 0

    status: int
    message: str
    hint: str | None

    def __init__(
        self, status: int | None = None, message: str | None = None, hint: str | None = None
    ) -> None:
        if status is None:
            if not type(self).STATUS:
                raise TypeError(f"{type(self).__name__} needs an OSStatus")
            status = type(self).STATUS
        if message is None:
            message = error_message(status)
        if hint is None:
            hint = HINTS.get(status)
        super().__init__(status, message, hint)
        self.status = status
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        plain = f"OSStatus {self.status}"
        if not self.message or self.message == plain:
            return plain
        return f"{self.message} ({plain})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, message={self.message!r})"

    def __reduce__(self) -> tuple[type[KeychainError], tuple[int, str, str | None]]:
        return (type(self), (self.status, self.message, self.hint))


class ItemNotFoundError(KeychainError):
    """errSecItemNotFound (-25300): no item matched the query."""

    STATUS = -25300


class DuplicateItemError(KeychainError):
    """errSecDuplicateItem (-25299): an item with the same primary key exists."""

    STATUS = -25299


class AuthFailedError(KeychainError):
    """errSecAuthFailed (-25293): the user failed to authenticate."""

    STATUS = -25293


class InteractionNotAllowedError(KeychainError):
    """errSecInteractionNotAllowed (-25308): locked device, or UI needed but not possible."""

    STATUS = -25308


class UserCanceledError(KeychainError):
    """errSecUserCanceled (-128): the user canceled the authentication prompt."""

    STATUS = -128


class MissingEntitlementError(KeychainError):
    """errSecMissingEntitlement (-34018): no keychain access group (unsigned process)."""

    STATUS = -34018


class ParamError(KeychainError):
    """errSecParam (-50): the Security framework rejected a parameter."""

    STATUS = -50


class NoSuchAttributeError(KeychainError):
    """errSecNoSuchAttr (-25303): a 4-character key that is not an attribute of the class."""

    STATUS = -25303


class NoSuchClassError(KeychainError):
    """errSecNoSuchClass (-25306): an unknown kSecClass value."""

    STATUS = -25306


class KeychainUnavailableError(KeychainError, RuntimeError):
    """No usable Security library could be loaded.

    ``paths`` lists every library path that was tried; the message names
    them with the reason each one failed.  Its ``status`` is
    errSecNotAvailable (-25291).
    """

    STATUS = errSecNotAvailable

    paths: tuple[str, ...]

    def __init__(self, message: str, paths: Iterable[str] = ()) -> None:
        super().__init__(errSecNotAvailable, message, _HINT_UNAVAILABLE)
        self.paths = tuple(paths)
        self.args = (message,)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[KeychainError], tuple[str, tuple[str, ...]]]:  # type: ignore[override]
        return (type(self), (self.message, self.paths))


_BY_STATUS: Final[dict[int, type[KeychainError]]] = {
    cls.STATUS: cls
    for cls in (
        ItemNotFoundError,
        DuplicateItemError,
        AuthFailedError,
        InteractionNotAllowedError,
        UserCanceledError,
        MissingEntitlementError,
        ParamError,
        NoSuchAttributeError,
        NoSuchClassError,
    )
}


def error_for_status(status: int) -> KeychainError:
    """The exception (not raised) for a non-zero OSStatus: the subclass if one exists."""
    return _BY_STATUS.get(status, KeychainError)(status)


def check(status: int) -> None:
    """Raise the matching :class:`KeychainError` unless ``status`` is errSecSuccess (0)."""
    if status:
        raise error_for_status(status)


# --------------------------------------------------------------------------
# Deadlines
# --------------------------------------------------------------------------

_HINT_TIMEOUT: Final = (
    "The Security framework did not answer in time. Common causes: securityd is "
    "stuck (often right after a macOS or Homebrew upgrade; a restart of the Mac, "
    "or `sudo killall securityd`, which launchd restarts, clears it), or cold and slow "
    "(try a longer timeout); a keychain prompt is waiting where nobody sees it "
    "(behind other windows, on another Space, or in an SSH session where it cannot "
    "appear; pass kSecUseAuthenticationUIFail or run in the GUI session); the login "
    "keychain is locked and waits for its password (`security unlock-keychain`). "
    "When started is True a write may or may not have happened: read the item "
    "back before you retry it."
)


class KeychainTimeoutError(SecitemError, TimeoutError):
    """A keychain operation did not finish before its deadline (``timeout=``).

    ``KeychainTimeoutError(operation, timeout, started=True, hint=None)``.
    Not a :class:`KeychainError`: Apple's call had not returned, so there is
    no OSStatus, and code that handles a status (or retries on one) must not
    treat "no answer yet" as an answer.  Catch it as
    :class:`SecitemError`, as ``TimeoutError``, or by name.

    * ``operation`` -- what timed out, e.g. ``"Keychain.get"``;
    * ``timeout`` -- the deadline in seconds;
    * ``started`` -- whether a native call of the operation had begun.
      ``False``: nothing was sent to the keychain (the call waited for a
      worker or for another call stuck in the framework) and a retry is
      safe.  ``True``: the call may still finish; a write (add, update,
      delete, save, login's write) may or may not have happened, and is
      never retried or continued by secitem.  Read back before retrying;
    * ``hint`` -- the usual causes and fixes.
    """

    operation: str
    timeout: float | None
    started: bool
    hint: str | None

    def __init__(
        self,
        operation: str,
        timeout: float | None,
        started: bool = True,
        hint: str | None = None,
    ) -> None:
        self.operation = operation
        self.timeout = timeout
        self.started = bool(started)
        self.hint = _HINT_TIMEOUT if hint is None else hint
        limit = "its deadline" if timeout is None else f"{timeout:g} s"
        if self.started:
            what = "the keychain call may still finish; a write may or may not have happened"
        else:
            what = "nothing was sent to the keychain"
        super().__init__(f"{operation} did not finish within {limit} ({what})")

    def __reduce__(
        self,
    ) -> tuple[type[KeychainTimeoutError], tuple[str, float | None, bool, str | None]]:
        return (type(self), (self.operation, self.timeout, self.started, self.hint))


# --------------------------------------------------------------------------
# Validation errors (raised before any native call)
# --------------------------------------------------------------------------


class InvalidQueryError(SecitemError, ValueError):
    """A keychain item description, query or argument is invalid; nothing was sent.

    ``field`` names the offending field (``"InternetPassword.port"``) or
    argument.  Raised before any native call.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class QueryTypeError(InvalidQueryError, TypeError):
    """A field or argument has the wrong Python type; nothing was sent.

    Both a ``TypeError`` and an :class:`InvalidQueryError` (``ValueError``).
    """


# --------------------------------------------------------------------------
# CredentialStore outcomes
# --------------------------------------------------------------------------


class LoginError(SecitemError):
    """:meth:`secitem.CredentialStore.login` ended without an accepted credential.

    The keychain was not changed.  ``reason`` is the last
    :class:`secitem.PromptReason` the user was asked with; ``attempts`` counts
    the prompted credentials that were checked with ``authenticate`` (the
    stored one is not counted).
    """

    def __init__(self, message: str, *, reason: PromptReason, attempts: int) -> None:
        super().__init__(message)
        self.reason = reason
        self.attempts = attempts


class LoginCancelled(LoginError):
    """The user gave up: ``prompt`` returned ``None``."""


class LoginFailed(LoginError):
    """``max_attempts`` prompted credentials were all rejected by ``authenticate``."""


class AmbiguousAccountError(SecitemError, LookupError):
    """Several accounts are stored and no ``account=`` says which one is meant.

    ``accounts`` lists them (account names only).
    """

    def __init__(self, where: str, accounts: list[str]) -> None:
        names = ", ".join(repr(a) for a in accounts)
        super().__init__(
            f"{where}: {len(accounts)} accounts are stored ({names}); "
            "pass account=... to choose one"
        )
        self.accounts = accounts


class DataNotFetchedError(SecitemError, LookupError):
    """``Item.secret`` was read on an item fetched without its data.

    Read the item with ``Keychain.get(query)`` (which fetches the secret by
    default) or ``Keychain.find(query, data=True)``.
    """


class PasswordNotTextError(SecitemError, ValueError):
    """The stored secret is not UTF-8 text, so it cannot be used as text.

    Items written by other apps may hold binary data; read those as bytes
    (``Item.data``, :meth:`secitem.Keychain.get`).  The message names the
    account or field, never the data.
    """
