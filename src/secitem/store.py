"""``CredentialStore``: the whole life of one login, on top of :class:`Keychain`.

A :class:`CredentialStore` keeps the credentials of one server (internet
passwords) or one service (generic passwords) and runs the usual flow of an
app that signs in somewhere::

    store = CredentialStore(server="api.example.com", protocol=Protocol.HTTPS)
    credential = store.login(ask_the_user, check_with_the_server)
    ...
    store.delete()          # log out: forget what is stored

:meth:`CredentialStore.login` does, in order:

1. A stored credential that the server accepts: returned, nobody is asked.
2. Nothing stored: ``prompt(PromptReason.MISSING)``; the answer is checked
   with ``authenticate`` and, once accepted, added to the keychain.
3. A stored credential that the server rejects (the password was changed
   elsewhere): ``prompt(PromptReason.REJECTED)``; the new credential is
   checked and, only once accepted, written over the stored one in place
   (``SecItemUpdate``: the item keeps its creation date and persistent
   reference; options the store was given, such as accessibility, are applied).
4. A prompted credential that the server rejects:
   ``prompt(PromptReason.RETRY)``, up to ``max_attempts`` prompts.

The keychain changes only when a credential was accepted.  When the user
gives up (``prompt`` returns ``None``) :class:`LoginCancelled` is raised;
when ``max_attempts`` prompted credentials were all rejected,
:class:`LoginFailed`.  An exception raised by ``authenticate`` (the network
is down) propagates unchanged, and so does any
:class:`~secitem.errors.KeychainError` (a locked device gives
:class:`~secitem.errors.InteractionNotAllowedError` with its ``hint``).

No password appears in any ``repr``, ``str``, error message or log record
made here.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, ParamSpec, TypeVar

from secitem import _access_list, _check, _deadline
from secitem import constants as C
from secitem.errors import (
    AmbiguousAccountError,
    DuplicateItemError,
    ItemNotFoundError,
    KeychainError,
    LoginCancelled,
    LoginError,
    LoginFailed,
    PasswordNotTextError,
)
from secitem.items import (
    AccessControlFlags,
    Accessible,
    AccessPolicy,
    AuthenticationType,
    GenericPassword,
    InternetPassword,
    InvalidQueryError,
    Item,
    Protocol,
    QueryTypeError,
    Synchronizable,
    fourcc,
)
from secitem.keychain import Keychain

__all__ = [
    "DEFAULT_CREATOR",
    "AmbiguousAccountError",
    "Credential",
    "CredentialStore",
    "LoginCancelled",
    "LoginError",
    "LoginFailed",
    "PasswordNotTextError",
    "PromptReason",
]

_log: Final = logging.getLogger("secitem.store")

_Description = GenericPassword | InternetPassword
_T = TypeVar("_T")
_P = ParamSpec("_P")

#: The mark of the items a :class:`CredentialStore` writes: their
#: ``kSecAttrCreator`` (a FourCharCode), ``"SItm"`` unless the store is given
#: another ``creator``.  A store reads, lists, updates and deletes only items
#: that carry its mark; see :meth:`CredentialStore.adopt` for older items.
DEFAULT_CREATOR: Final = fourcc("SItm")


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credential:
    """An account name and its password.

    Immutable.  ``repr`` and ``str`` show the account only, never the
    password, so a credential can be logged or shown in a traceback.  The
    account may be ``""`` (an item stored without one) but must not contain
    a NUL character; the password may contain any character.  Both must be
    valid Unicode (no lone surrogates, which cannot be stored as UTF-8).
    """

    account: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "account", _check.text(self.account, "Credential.account"))
        object.__setattr__(
            self,
            "password",
            _check.text(
                self.password,
                "Credential.password",
                nul_ok=True,
                type_hint=(
                    "; decode it first, e.g. password.decode()"
                    if isinstance(self.password, bytes | bytearray)
                    else ""
                ),
            ),
        )

    @classmethod
    def _checked(cls, account: str, password: str) -> Credential:
        """A credential of values known to pass :meth:`__post_init__`'s checks (a
        checked plain-``str`` account, a password decoded from UTF-8), without
        checking them again: the hot path of ``CredentialStore.get(account)``."""
        credential = object.__new__(cls)
        object.__setattr__(credential, "account", account)
        object.__setattr__(credential, "password", password)
        return credential

    def __repr__(self) -> str:
        return f"Credential(account={self.account!r}, password=<hidden>)"

    __str__ = __repr__


class PromptReason(enum.Enum):
    """Why :meth:`CredentialStore.login` asks the user for a credential."""

    #: Nothing is stored yet (first sign-in, or after a logout).
    MISSING = "missing"
    #: The stored credential was rejected by the server (changed elsewhere).
    REJECTED = "rejected"
    #: The credential the user just typed was rejected: ask again.
    RETRY = "retry"


# --------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------


class CredentialStore:
    """The stored credentials of one server or one service.

    ``CredentialStore(server=...)`` keeps internet passwords
    (``kSecClassInternetPassword``), optionally narrowed by ``protocol``,
    ``port``, ``path``, ``security_domain`` and ``authentication_type``.
    ``CredentialStore(service=...)`` keeps generic passwords
    (``kSecClassGenericPassword``).  Exactly one of the two is required.

    Options (all keyword-only, all optional):

    * ``access_group`` -- keychain access group (shared between your apps;
      needs the data-protection keychain, so a signed app).
    * ``accessible`` -- :class:`~secitem.items.Accessible`: when the item can
      be read (Apple's default is ``WHEN_UNLOCKED``).
    * ``synchronizable`` -- ``True`` stores and finds the items in iCloud
      Keychain; ``False``/``None`` (default) keeps them on this device.
    * ``access_control`` -- :class:`~secitem.items.AccessControlFlags`
      (for example ``USER_PRESENCE``; the protection is then ``accessible``,
      or ``WHEN_UNLOCKED_THIS_DEVICE_ONLY``) or a full
      :class:`~secitem.items.AccessPolicy`.  Reading the password then asks
      the user (Touch ID, passcode); a refusal raises
      :class:`~secitem.errors.UserCanceledError` or
      :class:`~secitem.errors.AuthFailedError`.
    * ``label`` -- the name shown in Keychain Access.
    * ``data_protection`` -- macOS: ``True`` uses only the data-protection
      keychain (see :class:`~secitem.keychain.Keychain`).
    * ``keychain`` -- a :class:`~secitem.keychain.Keychain` to use (instead
      of ``data_protection``).
    * ``creator`` -- the store's mark of ownership, a FourCharCode stored as
      the items' ``kSecAttrCreator`` (default :data:`DEFAULT_CREATOR`,
      ``"SItm"``).
    * ``timeout`` -- seconds each operation (``get``, ``accounts``,
      ``save``, ``adopt``, ``delete``; in ``login`` each keychain step, never
      the time ``prompt`` and ``authenticate`` take) may take; default: the
      keychain's (``None``: no deadline).  A late operation raises
      :class:`~secitem.errors.KeychainTimeoutError`; a timed-out ``save`` may
      or may not have stored the credential, and is never retried behind
      your back.

    **Ownership.** Every item a store writes carries its mark, and the
    store reads, lists, updates and deletes only items with that mark: a
    password another app saved for the same server or service (a browser,
    ``security add-internet-password``) is never returned, overwritten or
    deleted.  Items your app saved before it used ``CredentialStore`` carry
    no mark; :meth:`adopt` marks them once.

    Every argument is checked here, before any native call; errors
    (:class:`~secitem.items.InvalidQueryError`, a ``ValueError``, or its
    ``TypeError`` subclass) name the argument.  A store holds no native
    state: it is cheap, immutable and can be shared between threads.
    """

    __slots__ = (
        "_access",
        "_add_template",
        "_creator",
        "_identity_template",
        "_keychain",
        "_kind",
        "_name",
        "_query_template",
        "_read_secret",
        "_reader_checks",
        "_timeout",
    )

    def __init__(
        self,
        *,
        server: str | None = None,
        service: str | None = None,
        protocol: Protocol | str | None = None,
        port: int | None = None,
        path: str | None = None,
        security_domain: str | None = None,
        authentication_type: AuthenticationType | str | None = None,
        access_group: str | None = None,
        accessible: Accessible | str | None = None,
        synchronizable: bool | None = None,
        access_control: AccessControlFlags | AccessPolicy | None = None,
        label: str | None = None,
        data_protection: bool | None = None,
        keychain: Keychain | None = None,
        creator: int | str = DEFAULT_CREATOR,
        timeout: float | None = None,
        trusted_applications: Sequence[str] | None = None,
        any_application: bool = False,
    ) -> None:
        arg = _check.argument("CredentialStore")  # errors name the store's arguments
        self._access = _access_list.options(
            trusted_applications, any_application, "CredentialStore"
        )
        internet = {
            "protocol": protocol,
            "port": port,
            "path": path,
            "security_domain": security_domain,
            "authentication_type": authentication_type,
        }
        self._kind, self._name, identity = _identity(
            arg, server, service, internet, access_group, synchronizable
        )
        cls: type[_Description] = InternetPassword if self._kind == "server" else GenericPassword
        checked = _deadline.check_timeout(timeout, arg("timeout"))
        keychain = _keychain(keychain, data_protection, checked)
        # The store's deadline covers each store operation as a whole (the
        # keychain calls it makes share it); default: the keychain's.
        self._timeout = keychain.timeout if checked is None else checked
        policy = _policy(access_control, accessible)
        extra: dict[str, Any] = {"label": label}
        if policy is not None:
            extra["access_control"] = policy
        else:
            extra["accessible"] = accessible
        self._creator = mark = _check_creator(creator)
        # Build (and so validate) the descriptions now: the query matches on
        # identity attributes and the store's mark only, so a changed label
        # or accessibility still finds the stored items; the add template
        # carries everything.  The identity template (no mark) finds the
        # items that collide with the store's, whoever wrote them.
        self._identity_template: _Description = cls._named(arg, **identity)
        self._query_template: _Description = cls._named(arg, **identity, creator=mark)
        self._add_template: _Description = cls._named(arg, **identity, **extra, creator=mark)
        add = self._add_template.to_attributes()
        # Access lists exist in the file-based keychain only (refused now).
        _access_list.refuse_data_protection(
            self._access, add, keychain.data_protection, "CredentialStore"
        )
        # Options the macOS file-based keychain would silently ignore
        # (access_group, accessible) are refused now, naming the option.
        # Keychain's own methods, not a subclass's overrides: the store's
        # checks and its ownership rule must not depend on how a subclass
        # passes arguments on (the same below for upsert and select).
        Keychain.check_attributes(keychain, self._add_template, add=True, name=arg)
        query = self._query_template
        Keychain.check_attributes(keychain, query, name=arg)
        self._keychain = keychain
        # get(account): the secret-only query is prepared once, here.
        self._read_secret = keychain.secret_reader(query, field="get(account=...)")
        # Keychain's own reader checks each account (a subclass's may not).
        self._reader_checks = type(keychain).secret_reader is Keychain.secret_reader

    # -- properties -----------------------------------------------------------

    @property
    def keychain(self) -> Keychain:
        """The :class:`~secitem.keychain.Keychain` this store uses."""
        return self._keychain

    @property
    def server(self) -> str | None:
        """The server of an internet-password store, else ``None``."""
        return self._name if self._kind == "server" else None

    @property
    def service(self) -> str | None:
        """The service of a generic-password store, else ``None``."""
        return self._name if self._kind == "service" else None

    @property
    def query(self) -> GenericPassword | InternetPassword:
        """The item description matching every credential of this store (its mark included)."""
        return self._query_template

    @property
    def timeout(self) -> float | None:
        """Seconds each operation may take (``login``: each keychain step), or ``None``."""
        return self._timeout

    @property
    def creator(self) -> int:
        """The store's mark: the ``kSecAttrCreator`` of every item it writes."""
        return self._creator

    def __repr__(self) -> str:
        return f"CredentialStore({self._kind}={self._name!r}, keychain={self._keychain!r})"

    # -- reading --------------------------------------------------------------

    @_deadline.bounded("CredentialStore")
    def get(self, account: str | None = None) -> Credential | None:
        """The stored credential for ``account``, or ``None`` if none is stored.

        With ``account=None``: the one stored credential, ``None`` if there
        is none, and :class:`AmbiguousAccountError` if several accounts are
        stored.  ``None`` always means "not stored": a locked keychain
        raises :class:`~secitem.errors.InteractionNotAllowedError` instead.
        """
        if account is None:
            item = self._stored_item(None, "get")
            return None if item is None else _credential(item)
        # The account is known: read only the secret (one call, no attributes).
        try:
            data = self._read_secret(account)  # checks the account
        except ItemNotFoundError:
            return None
        # Keychain's reader checked the account (a str without NUL): not again.
        return _credential_from(str.__str__(account), data, checked=self._reader_checks)

    @_deadline.bounded("CredentialStore")
    def accounts(self) -> list[str]:
        """The stored account names, sorted; no secret is read (no unlock needed)."""
        found = self._keychain.find(self._query_template)
        return sorted({item.attributes.account or "" for item in found})

    # -- writing --------------------------------------------------------------

    @_deadline.bounded("CredentialStore")
    def save(self, credential: Credential) -> None:
        """Store ``credential``: add it, or update the stored one of that account.

        Race-safe: it adds first and, on
        :class:`~secitem.errors.DuplicateItemError`, updates the existing
        item in place (never delete-then-add: the item keeps its access
        control and persistent reference, and there is no moment without
        it); when another thread or process deletes the item in between, it
        adds again.  Threads and processes saving and deleting the same
        accounts at once never make it fail, and end with at most one item
        per account.

        When the keychain holds an item with the same identity that this
        store does not own (another app's password for the same server and
        account, or an item saved before the app used ``CredentialStore``),
        the store leaves it alone and raises
        :class:`~secitem.errors.DuplicateItemError`, whose ``hint`` says to
        :meth:`adopt` it if it is your app's own.
        """
        if not isinstance(credential, Credential):
            raise QueryTypeError(
                "save(credential)", f"expected a Credential, got {type(credential).__name__}"
            )
        # Keychain.upsert itself, never an override that might drop select=
        # (and with it the rule that the store overwrites only its own items).
        added = Keychain.upsert(
            self._keychain,
            _with_account(self._add_template, credential.account),
            credential.password,
            trusted_applications=self._access.trusted_applications,
            any_application=self._access.any_application,
            select=self._owned_rows,
        )
        _log.debug("credential %s (%s=%r)", "added" if added else "updated", self._kind, self._name)

    @_deadline.bounded("CredentialStore")
    def adopt(self, account: str | None = None) -> list[str]:
        """Mark unmarked items with this store's key as the store's own; return their accounts.

        For apps that move from hand-written keychain code to
        ``CredentialStore``: their items carry no mark, so the store does
        not see them until they are adopted.  Call it once (it is cheap and
        idempotent).  It adopts every item with the store's key (server or
        service, plus the protocol, port, path ... given) and no
        ``kSecAttrCreator``, or only ``account``'s: another app's password
        for the same key too, so narrow the store or pass ``account`` when
        that matters.  Items marked by someone else (another creator code)
        are left alone.  No secret is read.
        """
        account = _check_account(account, "adopt")
        query = (
            self._identity_template
            if account is None
            else _with_account(self._identity_template, account)
        )
        adopted: set[str] = set()
        for item in self._keychain.find(query):
            if item.attributes.creator not in (None, 0):
                continue  # ours already, or another owner's
            try:
                self._keychain.update(item, creator=self._creator)
            except ItemNotFoundError:  # deleted in between
                continue
            adopted.add(item.attributes.account or "")
        _log.info("adopted %d item(s) (%s=%r)", len(adopted), self._kind, self._name)
        return sorted(adopted)

    @_deadline.bounded("CredentialStore")
    def delete(self, account: str | None = None) -> bool:
        """Forget the credential of ``account``, or every one of this store (logout).

        Returns ``True`` if something was deleted, ``False`` if nothing was
        stored.  Every item of this store (its key and its mark) is deleted by
        its persistent reference, in either macOS keychain; items of other
        apps with the same server or service are left alone.  When one
        deletion fails, the others are still tried (a logout forgets all it
        can) and the first error is raised at the end.
        """
        account = _check_account(account, "delete")
        query = (
            self._query_template
            if account is None
            else _with_account(self._query_template, account)
        )
        deleted = False
        failure: KeychainError | None = None
        for item in self._keychain.find(query):
            try:
                deleted = self._keychain.delete(item, missing_ok=True) or deleted
            except KeychainError as exc:
                failure = failure or exc
        _log.debug("delete (%s=%r): %s", self._kind, self._name, deleted)
        if failure is not None:
            raise failure
        return deleted

    # -- the login flow ----------------------------------------------------------

    def login(
        self,
        prompt: Callable[[PromptReason], Credential | None],
        authenticate: Callable[[Credential], bool],
        *,
        account: str | None = None,
        max_attempts: int = 3,
    ) -> Credential:
        """Sign in: the stored credential if the server accepts it, else ask.

        ``prompt(reason)`` asks the user and returns a :class:`Credential`,
        or ``None`` when the user gives up; ``reason`` is a
        :class:`PromptReason`.  ``authenticate(credential)`` asks the server
        and returns ``True`` when it accepts the credential.  ``account``
        narrows the stored credential to use (needed when several are
        stored).  ``max_attempts`` bounds the number of prompts.

        Returns the accepted credential, which is then stored:

        * stored and accepted: returned as is (no prompt, no write);
        * nothing stored: prompted, checked, then added;
        * stored but rejected: prompted, checked, then written over the
          stored item in place (its account too, if the user typed another
          one).  The stored credential is only replaced once the new one was
          accepted.

        Raises :class:`LoginCancelled` when ``prompt`` returns ``None`` and
        :class:`LoginFailed` after ``max_attempts`` rejected prompts; in
        both cases the keychain is unchanged (a rejected stored credential
        stays; call :meth:`delete` to drop it).  Exceptions from ``prompt``
        or ``authenticate`` propagate and change nothing.
        """
        account = _check_login(prompt, authenticate, account, max_attempts)
        stored = self._step(self._stored_item, account, "login")
        flow = _login_flow(self, stored, max_attempts)
        reply: object = None
        while True:
            step, value = _next_step(flow, reply)
            if step == "done":
                accepted: Credential = value
                return accepted
            if step == "prompt":
                reply = prompt(value)
            elif step == "check":
                reply = _accepted(authenticate, value)
            else:  # "write"
                reply = self._step(self._write_login, stored, value)

    # -- helpers -----------------------------------------------------------------

    def _step(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """One keychain step of :meth:`login`, within the store's timeout."""
        if self._timeout is None:
            return fn(*args, **kwargs)
        return _deadline.call(
            self._timeout, "CredentialStore.login", _deadline.release, fn, *args, **kwargs
        )

    def _stored_item(self, account: str | None, where: str) -> Item[Any] | None:
        """The stored item (with its secret) for ``account``, or ``None``."""
        if account is not None:
            try:
                return self._keychain.get(_with_account(self._query_template, account))
            except ItemNotFoundError:
                return None
        found = self._keychain.find(self._query_template)
        names = sorted({item.attributes.account or "" for item in found})
        if len(names) > 1:
            raise AmbiguousAccountError(f"{where}(account=None)", names)
        if not found:
            return None
        try:
            return self._keychain.get(found[0])
        except ItemNotFoundError:  # deleted by someone else in between
            return None

    def _write_login(self, stored: Item[Any] | None, accepted: Credential) -> None:
        """Store the credential a login accepted: added, or written over ``stored``."""
        if stored is None:
            self.save(accepted)
        else:
            self._replace(stored, accepted)

    def _replace(self, stored: Item[Any], new: Credential) -> None:
        """Write ``new`` over the rejected ``stored`` item, in place."""
        old_account = stored.attributes.account or ""
        changes = None
        if new.account != old_account:
            changes = type(stored.attributes)(account=new.account)
        try:
            self._keychain.update(stored, data=new.password, changes=changes)
            return
        except ItemNotFoundError:
            # Deleted by another process since it was read: store the new one.
            self.save(new)
        except DuplicateItemError:
            # The new account is stored already (as another item): update
            # that one, then drop the rejected one.
            self.save(new)
            # The accepted credential is stored now: the login succeeded.
            # Dropping the rejected item is clean-up; its failure is logged,
            # not raised (raising would report a failed login that changed
            # the keychain, and the caller could do nothing about it).
            try:
                self._keychain.delete(stored, missing_ok=True)
            except KeychainError as exc:
                _log.warning(
                    "login: the new credential is stored, but the rejected one of account "
                    "%r could not be deleted (%s=%r): %s; delete(%r) removes it",
                    stored.attributes.account or "",
                    self._kind,
                    self._name,
                    exc,
                    stored.attributes.account or "",
                )

    def _owned_rows(self, rows: list[Mapping[str, object]]) -> list[Mapping[str, object]]:
        """For save(): the stored items with the credential's identity that are this store's.

        Raises :class:`DuplicateItemError` when only items of someone else
        have that identity: the store does not overwrite them.
        """
        mine = [row for row in rows if row.get(C.kSecAttrCreator) == self._creator]
        if mine:
            return mine
        account = rows[0].get(C.kSecAttrAccount, "")
        raise DuplicateItemError(
            hint=f"the keychain holds an item for {self._kind} {self._name!r}, account "
            f"{account!r} that this store did not write (another app's, or one saved "
            "before the app used CredentialStore); the store leaves it alone. If it is "
            f"your app's own item, call adopt({account!r}) once to take it over; otherwise "
            "give the store a narrower key (protocol=, port=, path=) or use another account"
        )


# --------------------------------------------------------------------------
# Module helpers
# --------------------------------------------------------------------------


#: One step :func:`_login_flow` asks its driver to take, and what the driver sends back:
#: ``("prompt", PromptReason)`` -> the prompt's answer; ``("check", Credential)`` ->
#: whether the server accepts it (bool); ``("write", Credential)`` -> ``None`` once
#: the accepted credential is stored (:func:`_next_step` adds ``("done", Credential)``).
_LoginStep = tuple[str, Any]


def _login_flow(
    store: CredentialStore, stored: Item[Any] | None, max_attempts: int
) -> Generator[_LoginStep, object, Credential]:
    """The decisions of :meth:`CredentialStore.login`, without doing any I/O.

    A generator: it yields the steps (:data:`_LoginStep`) and returns the
    accepted credential, or raises :class:`LoginCancelled`,
    :class:`LoginFailed` or a ``QueryTypeError`` for a bad answer.  The
    blocking ``login`` and ``secitem.aio``'s ``login`` drive this one flow,
    each with its own way of calling the callbacks and the keychain.
    ``stored``: the stored item (with its secret) or ``None``.
    """
    where = f"{store._kind}={store._name!r}"
    if stored is not None:
        current = _credential(stored)
        if (yield ("check", current)) is True:
            _log.debug("login: stored credential accepted (%s)", where)
            return current
        _log.info("login: stored credential rejected (%s)", where)
        reason = PromptReason.REJECTED
    else:
        reason = PromptReason.MISSING
    attempts = 0
    while attempts < max_attempts:
        answer = yield ("prompt", reason)
        if answer is None:
            raise LoginCancelled(
                f"login cancelled: the user gave up ({reason.value}); the keychain is unchanged",
                reason=reason,
                attempts=attempts,
            )
        if not isinstance(answer, Credential):
            raise QueryTypeError(
                "login(prompt)",
                f"prompt must return a Credential or None, got {type(answer).__name__}",
            )
        attempts += 1
        if (yield ("check", answer)) is True:
            yield ("write", answer)
            _log.info("login: new credential accepted and stored (%s)", where)
            return answer
        _log.info("login: prompted credential rejected (attempt %d of %d)", attempts, max_attempts)
        reason = PromptReason.RETRY
    raise LoginFailed(
        f"login failed: {attempts} credential(s) rejected by the server; the keychain is unchanged",
        reason=reason,
        attempts=attempts,
    )


def _next_step(flow: Generator[_LoginStep, object, Credential], reply: object) -> _LoginStep:
    """The flow's next step after ``reply``; ``("done", credential)`` when it returns."""
    try:
        return flow.send(reply)
    except StopIteration as done:
        return ("done", done.value)


def _check_login(
    prompt: object, authenticate: object, account: object, max_attempts: object
) -> str | None:
    """Check :meth:`CredentialStore.login`'s arguments (both logins); the account."""
    if not callable(prompt):
        raise QueryTypeError("login(prompt)", f"expected a callable, got {type(prompt).__name__}")
    if not callable(authenticate):
        raise QueryTypeError(
            "login(authenticate)", f"expected a callable, got {type(authenticate).__name__}"
        )
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int):
        raise QueryTypeError(
            "login(max_attempts=...)", f"expected int, got {type(max_attempts).__name__}"
        )
    if max_attempts < 1:
        raise InvalidQueryError("login(max_attempts=...)", f"{max_attempts} must be at least 1")
    return _check_account(account, "login")


def _accepted(authenticate: Callable[[Credential], bool], credential: Credential) -> bool:
    result = authenticate(credential)
    if not isinstance(result, bool):
        raise QueryTypeError(
            "login(authenticate)",
            f"authenticate must return True or False, got {type(result).__name__}",
        )
    return result


def _credential(item: Item[Any]) -> Credential:
    return _credential_from(
        item.attributes.account or "", item.data if item.data is not None else b""
    )


def _credential_from(account: str, data: bytes, *, checked: bool = False) -> Credential:
    """The credential of a stored secret; ``checked``: ``account`` already passed
    :func:`secitem._check.text` (the decoded password needs no check: strict UTF-8
    decoding never yields a lone surrogate, and passwords may hold NUL)."""
    if type(data) is not bytes:  # from a Keychain subclass: its methods may lie
        data = memoryview(data).tobytes()
    try:
        password = data.decode("utf-8")
    except UnicodeDecodeError:
        password = None
    if password is not None:
        return Credential._checked(account, password) if checked else Credential(account, password)
    # Outside the handler: the UnicodeDecodeError holds the stored secret
    # (.object) and must not stay reachable as __context__.
    raise PasswordNotTextError(
        f"the password stored for account {account!r} is not UTF-8 text "
        "(another app stored binary data); read it as bytes with Keychain().get(...)"
    )


def _with_account(template: _Description, account: str) -> _Description:
    return dataclasses.replace(template, account=account)


def _check_creator(creator: object) -> int:
    if isinstance(creator, bool) or not isinstance(creator, int | str):
        raise QueryTypeError(
            "CredentialStore(creator=...)",
            f"expected a four-character code (str or int), got {type(creator).__name__}",
        )
    code: Any = creator  # checked (and converted) by the description
    mark = GenericPassword._named(_check.argument("CredentialStore"), creator=code).creator
    if not mark:
        raise InvalidQueryError(
            "CredentialStore(creator=...)",
            "0 means 'no mark'; use a non-zero four-character code such as 'MyAp'",
        )
    return int(mark)


def _identity(
    arg: _check.Naming,
    server: str | None,
    service: str | None,
    internet: Mapping[str, object],
    access_group: str | None,
    synchronizable: bool | None,
) -> tuple[str, str, dict[str, Any]]:
    """The store's kind (``"server"``/``"service"``), name, and identity fields,
    checked in the order the arguments are documented (errors name them)."""
    if (server is None) == (service is None):
        raise InvalidQueryError(
            "CredentialStore(server=... | service=...)",
            "pass exactly one: server= for internet passwords (a host name), "
            "service= for generic passwords (e.g. 'com.example.app')",
        )
    kind = "server" if service is None else "service"
    name = _check.text(service if server is None else server, arg(kind), empty_ok=False)
    identity: dict[str, Any] = {kind: name, "access_group": access_group}
    for option, value in internet.items():
        if value is not None and service is not None:
            raise InvalidQueryError(
                arg(option),
                "applies to internet passwords only; use server=... instead of service=...",
            )
        if server is not None:
            identity[option] = value
    if synchronizable is not None and not isinstance(synchronizable, bool):
        raise QueryTypeError(
            arg("synchronizable"), f"expected bool or None, got {type(synchronizable).__name__}"
        )
    if synchronizable:
        identity["synchronizable"] = Synchronizable.YES
    return kind, name, identity


def _check_account(account: object, where: str) -> str | None:
    if account is None:
        return None
    return _check.text(account, f"{where}(account=...)", expected="str or None")


def _keychain(keychain: object, data_protection: object, timeout: float | None) -> Keychain:
    """The store's keychain: the one given, or ``Keychain(data_protection=...)``."""
    if keychain is None:
        if data_protection is not None and not isinstance(data_protection, bool):
            raise QueryTypeError(
                "CredentialStore(data_protection=...)",
                f"expected bool or None, got {type(data_protection).__name__}",
            )
        return Keychain(data_protection=data_protection, timeout=timeout)
    if not isinstance(keychain, Keychain):
        raise QueryTypeError(
            "CredentialStore(keychain=...)",
            f"expected a secitem.keychain.Keychain, got {type(keychain).__name__}",
        )
    if data_protection is not None:
        raise InvalidQueryError(
            "CredentialStore(data_protection=...)",
            "pass either keychain=... or data_protection=..., not both "
            "(use Keychain(data_protection=...) as the keychain)",
        )
    return keychain


def _policy(
    access_control: AccessControlFlags | AccessPolicy | None, accessible: object
) -> AccessPolicy | None:
    if access_control is None:
        return None
    if isinstance(access_control, AccessPolicy):
        if accessible is not None:
            raise InvalidQueryError(
                "CredentialStore(accessible=...)",
                "conflicts with access_control=AccessPolicy(...), which carries its own "
                "protection; leave accessible unset",
            )
        return access_control
    if isinstance(access_control, bool) or not isinstance(access_control, int):
        raise QueryTypeError(
            "CredentialStore(access_control=...)",
            f"expected AccessControlFlags or AccessPolicy, got {type(access_control).__name__}",
        )
    if access_control < 0:
        # AccessControlFlags(-1) would silently become "every flag".
        raise InvalidQueryError(
            "CredentialStore(access_control=...)",
            f"{int(access_control)} is not a flag set; combine AccessControlFlags members with |",
        )
    protection = Accessible.WHEN_UNLOCKED_THIS_DEVICE_ONLY if accessible is None else accessible
    return AccessPolicy._named(
        access_control,
        protection,
        "CredentialStore(access_control=...)",
        "CredentialStore(accessible=...)",
    )
