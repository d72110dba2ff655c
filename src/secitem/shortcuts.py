"""One-line calls for scripts: get, set and delete a password by service and account.

The semantics are the ones ``keyring`` users know, on the same items as
:class:`~secitem.CredentialStore` with ``service=...``, so a script and an
app that uses a store share their passwords::

    import secitem

    secitem.set_password("example-api", "alice", "s3cret")
    secitem.get_password("example-api", "alice")      # 's3cret'
    secitem.delete_password("example-api", "alice")   # True

Each call is a ``CredentialStore(service=service)`` with its defaults:
generic passwords, the keychain Apple's routing picks (on macOS the
login keychain for an unsigned interpreter), and the store's ownership mark,
so only items written by secitem (or adopted with
:meth:`~secitem.CredentialStore.adopt`) are read, changed or deleted.  For
other options (access group, accessibility, iCloud, a timeout) make the
store yourself.
"""

from __future__ import annotations

from secitem import _check
from secitem.errors import QueryTypeError
from secitem.store import Credential, CredentialStore

__all__ = ["delete_password", "get_password", "set_password"]


def get_password(service: str, account: str) -> str | None:
    """The password stored for ``account`` at ``service``, or ``None`` if there is none.

    Raises :class:`~secitem.PasswordNotTextError` when the stored secret is
    not UTF-8 text, and a :class:`~secitem.KeychainError` when the keychain
    fails (locked, the user cancelled a prompt).
    """
    credential = CredentialStore(service=service).get(_account(account, "get_password"))
    return None if credential is None else credential.password


def set_password(service: str, account: str, password: str) -> None:
    """Store ``password`` for ``account`` at ``service``, replacing the stored one.

    The item is updated in place when it exists (it keeps its creation date
    and access list), added otherwise; race-safe against other writers.
    """
    CredentialStore(service=service).save(Credential(_account(account, "set_password"), password))


def delete_password(service: str, account: str) -> bool:
    """Delete the password of ``account`` at ``service``.

    Returns ``True`` if one was deleted, ``False`` if none was stored (where
    ``keyring.delete_password`` raises ``PasswordDeleteError``).
    """
    return CredentialStore(service=service).delete(_account(account, "delete_password"))


def _account(account: str, call: str) -> str:
    """``account`` is required here (keyring's ``username``): ``None`` would mean every one."""
    if account is None:
        raise QueryTypeError(
            f"{call}(account=...)",
            "expected str, got None; name the account (use CredentialStore for every account)",
        )
    return _check.text(account, f"{call}(account=...)")
