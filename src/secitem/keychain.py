"""``Keychain``: add, get, find, update, delete and upsert typed items.

:class:`Keychain` sends the dictionaries built by :mod:`secitem.items`
through :mod:`secitem.security` and hides the traps that make the raw
SecItem API behave differently per keychain (facts section 7):

* On macOS the file-based keychain updates and deletes only the *first*
  match unless the query says ``kSecMatchLimitAll``; ``Keychain`` sends it
  there, so ``update`` and ``delete`` affect every matching item in both
  keychains.  It never sends match keys on iOS, where they are errSecParam
  in ``SecItemUpdate`` / ``SecItemDelete``.
* The file-based keychain refuses ``kSecReturnData`` with
  ``kSecMatchLimitAll`` (errSecParam); ``find(..., data=True)`` fetches the
  attributes and persistent references of every match first, then each
  secret by its persistent reference.
* No return or match key ever reaches ``SecItemUpdate``'s attributes, and
  update attributes are checked against the item class before the call
  (Apple answers errSecNoSuchAttr only after the fact).
* ``upsert`` adds, and on ``DuplicateItemError`` updates the stored item in
  place, matched by its identity attributes only, adding again if another
  writer deleted it in between: race-safe, never delete-then-add.
* The macOS file-based keychain silently ignores ``access_group`` and
  ``accessible`` (and ``access_control`` in queries and updates); where a
  call can reach it they are refused with an
  :class:`~secitem.items.InvalidQueryError` naming the field.
* Every return key is a real boolean (Apple's data-protection keychain
  rejects ``1``), and the added item's reference that the file-based
  keychain hands back is never leaked (``add`` asks for a persistent
  reference and returns it).

Which keychain: on iOS there is only the data-protection keychain.  On
macOS, ``Keychain()`` follows Apple's default routing (new items go to the
file-based keychain; queries search both and ignore the data-protection
keychain when the process has no entitlement, as for an unsigned Python).
``Keychain(data_protection=True)`` sends ``kSecUseDataProtectionKeychain``
on every call; that needs a signed process with a keychain access group
(otherwise :class:`~secitem.errors.MissingEntitlementError`).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal, ParamSpec, TypeVar, overload

from secitem import _access_list, _check, _deadline
from secitem import constants as C
from secitem import security as _security
from secitem._cfobjects import KeychainItemRef
from secitem._cfobjects import close_all as _close_all
from secitem.errors import DuplicateItemError, ItemNotFoundError
from secitem.items import (
    DESCRIPTIONS,
    AccessPolicy,
    GenericPassword,
    InternetPassword,
    InvalidQueryError,
    Item,
    ItemDescription,
    PersistentRef,
    QueryTypeError,
    changes_for,
    description_class,
    item_from_result,
)

__all__ = ["Keychain", "Platform", "current_platform"]

Platform = Literal["macos", "ios"]

_T = TypeVar("_T", bound=ItemDescription)

#: How many add/update rounds ``upsert`` makes before it gives up.  A round
#: is lost only when another writer deleted the item between this add (which
#: found it) and this update (which did not), and then the next add finds it
#: again: another writer completed a delete *and* an add inside this call's
#: window.  Losing this many rounds in a row means a writer deletes and
#: re-adds the item in a tight loop; no finite number of retries is then
#: guaranteed to win, so ``upsert`` stops with an error saying so.
_UPSERT_ROUNDS: Final = 1000

#: Attributes the macOS file-based keychain ignores (facts 5.8 #8.6, 5.10): on
#: an add they are dropped, in a query they match every item, in an update
#: they change nothing; the call still succeeds.  Field name for each.
_FILE_KEYCHAIN_IGNORES: Final = (
    (C.kSecAttrAccessGroup, "access_group"),
    (C.kSecAttrAccessible, "accessible"),
    (C.kSecAttrAccessControl, "access_control"),
)

#: The first four bytes of a data-protection persistent reference (facts 5.3).
_DP_REF_PREFIXES: Final = frozenset({b"genp", b"inet", b"cert", b"keys"})


def current_platform() -> Platform:
    """The keychain platform of this process: ``"macos"`` or ``"ios"``.

    ``sys.platform`` decides on Apple systems (``"darwin"`` is macOS,
    ``"ios"`` is iOS, as Python 3.13+ reports it).  Elsewhere the library
    runs against the emulator, and its ``SECSIM_PROFILE`` environment
    variable decides (default ``"macos"``, as for the emulator).
    """
    if sys.platform == "ios":
        return "ios"
    if sys.platform == "darwin":
        return "macos"
    return "ios" if os.environ.get("SECSIM_PROFILE", "macos").strip() == "ios" else "macos"


_P = ParamSpec("_P")
_R = TypeVar("_R")

_HINT_NOT_FOUND_TYPED: Final = (
    "Check the fields that identify the item (their spelling and case). On macOS, "
    "Keychain() searches both keychains, but Keychain(data_protection=True) only the "
    "data-protection keychain, where items of the login keychain are invisible. A "
    "CredentialStore sees only the items it wrote (its ownership mark); items written "
    "by other code can be taken over with CredentialStore.adopt()."
)


def _names_the_query(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Make an ItemNotFoundError of ``method`` say what was searched for.

    The first argument after ``self`` is the query; its ``repr`` never holds
    a secret (descriptions have none, ``Item`` and ``PersistentRef`` hide
    theirs).
    """

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except ItemNotFoundError as exc:
            if getattr(exc, "query", None) is not None or len(args) < 2:
                raise
            query = args[1]
            error = ItemNotFoundError(
                message=f"{exc.message.rstrip('.')}: nothing matched {query!r}",
                hint=_HINT_NOT_FOUND_TYPED,
            )
            error.query = query  # type: ignore[attr-defined]
            raise error from None

    return wrapper


class Keychain:
    """Typed access to the keychain.

    ``Keychain(data_protection=None, platform=None)``:

    * ``platform`` -- ``"macos"`` or ``"ios"``; default
      :func:`current_platform`.  Tests against the emulator pass it to
      match the emulator profile.
    * ``data_protection`` -- macOS only.  ``None``/``False``: Apple's default
      routing (file-based keychain for new items; both keychains for
      queries).  ``True``: only the data-protection keychain
      (``kSecUseDataProtectionKeychain``), which needs a signed process with
      a keychain access group.  On iOS it is always the data-protection
      keychain (``False`` is an error there).
    * ``timeout`` -- seconds each operation (``add``, ``get``, ``secret``,
      ``find``, ``update``, ``delete``, ``upsert``: the method as a whole)
      may take; ``None`` (default) waits as long as the system does.  A
      late operation raises :class:`~secitem.errors.KeychainTimeoutError`;
      the native call runs on a small bounded pool of worker threads, may
      still finish later (its result is then released, and nothing further
      of the operation is done), so a timed-out write may or may not have
      happened (``error.started`` says whether anything was sent).

    A ``Keychain`` holds no native state: it is cheap, immutable and safe to
    share between threads.

    Queries are item descriptions (``GenericPassword(service="s")``), a
    :class:`~secitem.items.PersistentRef`, or an :class:`~secitem.items.Item`
    returned earlier (it addresses exactly that item by its persistent
    reference).
    """

    __slots__ = ("_data_protection", "_platform", "_timeout")

    def __init__(
        self,
        *,
        data_protection: bool | None = None,
        platform: Platform | None = None,
        timeout: float | None = None,
    ) -> None:
        if platform is None:
            platform = current_platform()
        if platform not in ("macos", "ios"):
            raise InvalidQueryError(
                "Keychain(platform=...)", f"{platform!r} is not 'macos' or 'ios'"
            )
        if data_protection is not None and not isinstance(data_protection, bool):
            raise QueryTypeError(
                "Keychain(data_protection=...)",
                f"expected bool or None, got {type(data_protection).__name__}",
            )
        if platform == "ios":
            if data_protection is False:
                raise InvalidQueryError(
                    "Keychain(data_protection=...)",
                    "iOS has only the data-protection keychain; leave data_protection unset",
                )
            data_protection = True
        self._platform: Platform = platform
        self._data_protection = bool(data_protection)
        self._timeout = _deadline.check_timeout(timeout, "Keychain(timeout=...)")

    @property
    def platform(self) -> Platform:
        """``"macos"`` or ``"ios"``."""
        return self._platform

    @property
    def data_protection(self) -> bool:
        """True when only the data-protection keychain is used."""
        return self._data_protection

    @property
    def timeout(self) -> float | None:
        """Seconds each operation may take, or ``None`` (no deadline)."""
        return self._timeout

    def __repr__(self) -> str:
        timeout = "" if self._timeout is None else f", timeout={self._timeout!r}"
        return (
            f"Keychain(platform={self._platform!r}, data_protection={self._data_protection}"
            f"{timeout})"
        )

    # -- add ------------------------------------------------------------------

    @_deadline.bounded("Keychain")
    def add(
        self,
        item: ItemDescription,
        data: bytes | str | None = None,
        *,
        trusted_applications: Sequence[str] | None = None,
        any_application: bool = False,
    ) -> PersistentRef | None:
        """Add a new item; return its persistent reference.

        ``data`` is the secret (``str`` is stored as UTF-8).  Raises
        :class:`~secitem.errors.DuplicateItemError` when an item with the
        same identity exists (see :meth:`upsert`).  Only generic and
        internet passwords can be added here.

        macOS file-based keychain only: ``trusted_applications`` (program
        paths) may read the secret without the access dialog, instead of the
        creating program; ``any_application=True`` lets any program read it
        without that dialog (see docs/real-macs.md for the partition list and
        the cost).  Refused on the data-protection keychain and iOS.
        """
        access = _access_list.options(trusted_applications, any_application, "add")
        attrs = self._add_attributes(item, data)
        _access_list.refuse_data_protection(access, attrs, self._data_protection, "add")
        attrs[C.kSecReturnPersistentRef] = True
        with _AccessControls(attrs), _access_list.attached(attrs, access):
            result = _security.SecItemAdd(attrs)
        if isinstance(result, (bytes, bytearray)):
            return PersistentRef(bytes(result), item.item_class)
        _close_all(result)
        return None

    # -- get / find -------------------------------------------------------------

    @overload
    def get(self, query: _T, *, data: bool = True) -> Item[_T]: ...
    @overload
    def get(self, query: Item[_T], *, data: bool = True) -> Item[_T]: ...
    @overload
    def get(self, query: PersistentRef, *, data: bool = True) -> Item[Any]: ...

    @_deadline.bounded("Keychain")
    @_names_the_query
    def get(
        self, query: ItemDescription | Item[Any] | PersistentRef, *, data: bool = True
    ) -> Item[Any]:
        """The first item matching ``query``, with its secret.

        Raises :class:`~secitem.errors.ItemNotFoundError` when nothing
        matches (it never returns ``None``: "not found" cannot be confused
        with a locked keychain, which raises
        :class:`~secitem.errors.InteractionNotAllowedError`).  ``data=False``
        reads only the attributes (no secret, so no unlock is needed).
        """
        cls, q = self._query(query)
        q[C.kSecReturnAttributes] = True
        q[C.kSecReturnPersistentRef] = True
        if data:
            q[C.kSecReturnData] = True
        q[C.kSecMatchLimit] = C.kSecMatchLimitOne
        result = _security.SecItemCopyMatching(q)
        try:
            if isinstance(result, list):  # pragma: no cover - defensive
                result = result[0] if result else None
            if not isinstance(result, Mapping):
                raise ItemNotFoundError()
            # An item stored without data has no v_Data in Apple's answer: when
            # the secret was asked for, that is an empty secret, not "not fetched".
            return item_from_result(
                description_class(result, cls), result, data=b"" if data else None
            )
        finally:
            _close_all(result)

    @_deadline.bounded("Keychain")
    @_names_the_query
    def secret(self, query: ItemDescription | Item[Any] | PersistentRef) -> bytes:
        """The secret of the first item matching ``query``, and nothing else.

        One SecItemCopyMatching asking only for the data (no attributes, no
        reference), the cheapest way to read a password whose item you can
        name.  Raises :class:`~secitem.errors.ItemNotFoundError` when nothing
        matches.
        """
        return self._read_secret(self._secret_query(query))

    def _secret_query(
        self, query: ItemDescription | Item[Any] | PersistentRef
    ) -> dict[str, object]:
        """The dictionary :meth:`secret` sends for ``query`` (callers may add match keys)."""
        _cls, q = self._query(query)
        q[C.kSecReturnData] = True
        q[C.kSecMatchLimit] = C.kSecMatchLimitOne
        return q

    def _read_secret(self, q: dict[str, object]) -> bytes:
        """SecItemCopyMatching of a :meth:`_secret_query` dictionary: the data."""
        result = _security.SecItemCopyMatching(q)
        if type(result) is bytes:
            return result
        _close_all(result)
        raise ItemNotFoundError()  # pragma: no cover - Apple returns CFData here

    def secret_reader(
        self, query: GenericPassword | InternetPassword, *, field: str = "account"
    ) -> Callable[[str | None], bytes]:
        """Prepare once, read many: ``read(account)`` is :meth:`secret` of ``query`` with it.

        ``query`` is checked and its dictionary built now; each ``read(account)``
        copies it, sets ``kSecAttrAccount`` (``None``: the query as it is) and
        makes the one SecItemCopyMatching :meth:`secret` makes -- the same
        dictionary, without building and validating a description per call.
        For code that reads the passwords of several accounts of one service or
        server (``CredentialStore.get(account)`` uses it).  ``account`` is
        checked on each call (errors name ``field``); each call runs within the
        keychain's ``timeout`` and raises
        :class:`~secitem.errors.ItemNotFoundError` when nothing matches.

        A subclass that overrides :meth:`secret` gets a reader that calls its
        ``secret()`` with the description (``query`` with that account), so the
        override still sees every read.
        """
        if not isinstance(query, GenericPassword | InternetPassword):
            raise QueryTypeError(
                "secret_reader(query)",
                f"expected GenericPassword or InternetPassword, got {type(query).__name__}",
            )
        if type(self).secret is not Keychain.secret:
            secret = self.secret

            def read_through(account: str | None = None) -> bytes:
                if account is None:
                    return secret(query)
                name = _check.text(account, field, expected="str or None")
                return secret(dataclasses.replace(query, account=name))

            return read_through
        _cls, prepared = self._query(query)
        prepared[C.kSecReturnData] = True
        prepared[C.kSecMatchLimit] = C.kSecMatchLimitOne
        read_secret, timeout = self._read_secret, self._timeout

        def read(account: str | None = None) -> bytes:
            q = prepared.copy()
            if account is not None:
                q[C.kSecAttrAccount] = _check.text(account, field, expected="str or None")
            if timeout is None:
                return read_secret(q)
            return _deadline.call(timeout, "Keychain.secret", _deadline.release, read_secret, q)

        return read

    @overload
    def find(
        self, query: _T, *, data: bool = False, limit: int | None = None
    ) -> list[Item[_T]]: ...
    @overload
    def find(
        self, query: Item[_T], *, data: bool = False, limit: int | None = None
    ) -> list[Item[_T]]: ...
    @overload
    def find(
        self, query: PersistentRef, *, data: bool = False, limit: int | None = None
    ) -> list[Item[Any]]: ...

    @_deadline.bounded("Keychain")
    def find(
        self,
        query: ItemDescription | Item[Any] | PersistentRef,
        *,
        data: bool = False,
        limit: int | None = None,
    ) -> list[Item[Any]]:
        """Every item matching ``query`` (at most ``limit``); ``[]`` if none.

        Only attributes and persistent references are read unless
        ``data=True``.  On macOS, where the file-based keychain refuses to
        return several secrets at once, the secrets are then read one item
        at a time by persistent reference; an item deleted meanwhile is
        left out.
        """
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int):
                raise QueryTypeError("find(limit=...)", f"expected int, got {type(limit).__name__}")
            limit = int.__int__(limit)  # a plain copy: a subclass's comparisons may lie
            if limit < 1:
                raise InvalidQueryError("find(limit=...)", f"{limit} must be at least 1")
            if limit > 2**63 - 1:  # kSecMatchLimit is a 64-bit CFNumber
                raise InvalidQueryError(
                    "find(limit=...)", "must be at most 2**63 - 1; pass limit=None for every item"
                )
        cls, q = self._query(query)
        q[C.kSecReturnAttributes] = True
        q[C.kSecReturnPersistentRef] = True
        one_call = data and self._data_protection
        if one_call:
            q[C.kSecReturnData] = True
        q[C.kSecMatchLimit] = (
            C.kSecMatchLimitAll if limit is None else (C.kSecMatchLimitOne if limit == 1 else limit)
        )
        try:
            result = _security.SecItemCopyMatching(q)
        except ItemNotFoundError:
            return []
        try:
            rows = result if isinstance(result, list) else [result]
            empty = b"" if one_call else None  # asked for data: none stored is b""
            items = [
                item_from_result(description_class(row, cls), row, data=empty)
                for row in rows
                if isinstance(row, Mapping)
            ]
        finally:
            _close_all(result)
        if limit is not None:
            items = items[:limit]
        if data and not one_call:
            items = [full for full in map(self._with_data, items) if full is not None]
        return items

    def _with_data(self, item: Item[_T]) -> Item[_T] | None:
        """``item`` with its secret read by persistent reference (None if gone)."""
        if item.persistent_ref is None:  # pragma: no cover - every row has one
            return item
        q = self._base()
        q.update(item.persistent_ref.to_query())
        q[C.kSecReturnData] = True
        try:
            secret = _security.SecItemCopyMatching(q)
        except ItemNotFoundError:
            return None
        if not isinstance(secret, (bytes, bytearray)):
            _close_all(secret)
            return item
        return Item(
            attributes=item.attributes,
            persistent_ref=item.persistent_ref,
            creation_date=item.creation_date,
            modification_date=item.modification_date,
            data=bytes(secret),
            raw=item.raw,
        )

    # -- update -------------------------------------------------------------

    @_deadline.bounded("Keychain")
    @_names_the_query
    def update(
        self,
        query: ItemDescription | Item[Any] | PersistentRef,
        *,
        data: bytes | str | None = None,
        changes: ItemDescription | Mapping[str, object] | None = None,
        **attributes: object,
    ) -> None:
        """Change every item matching ``query``.

        The new values come as keyword arguments named like the item's
        fields (``label="new"``), or as ``changes``: a description of the
        same class whose set fields are the new values, or a mapping of
        field names to values (``changes={"label": "new"}``, handy when the
        names are computed).  ``data`` replaces the secret.  Unknown or
        read-only names are rejected before any native call.

        Raises :class:`~secitem.errors.ItemNotFoundError` if nothing
        matches, :class:`~secitem.errors.DuplicateItemError` if a change of
        identity collides with another item (then nothing changes on the
        data-protection keychain).
        """
        cls, q = self._query(query)
        target = cls if cls is not ItemDescription else GenericPassword
        if isinstance(changes, Mapping):
            if attributes:
                raise InvalidQueryError(
                    "update(changes=...)",
                    "pass the new values either as changes=... or as keywords, not both",
                )
            attributes, changes = dict(changes), None
        if changes is not None:
            if not isinstance(changes, ItemDescription):
                raise QueryTypeError(
                    "update(changes=...)",
                    f"expected an item description or a mapping, got {type(changes).__name__}",
                )
            if type(changes) is not cls and cls is not ItemDescription:
                raise InvalidQueryError(
                    "update(changes=...)",
                    f"is a {type(changes).__name__} but the query is a {cls.__name__}",
                )
            if attributes:
                raise InvalidQueryError(
                    "update(changes=...)",
                    "pass the new values either as changes=... or as keywords, not both",
                )
            new = changes.to_changes()
        else:
            new = changes_for(target, attributes).to_changes() if attributes else {}
        if data is not None:
            new[C.kSecValueData] = _check.secret(data, "update(data=...)")
        if not new:
            raise InvalidQueryError("update", "nothing to change: pass data=... or new attributes")
        if self._may_reach_file_keychain(q):
            for key, name in _FILE_KEYCHAIN_IGNORES:
                if key in new:
                    raise InvalidQueryError(f"update({name}=...)", _ignored_message(name, "update"))
        self._update(q, new)

    def _update(self, query: dict[str, object], attrs: dict[str, object]) -> None:
        self._limit_all(query)
        with _AccessControls(attrs):
            _security.SecItemUpdate(query, attrs)

    # -- delete -------------------------------------------------------------

    @_deadline.bounded("Keychain")
    @_names_the_query
    def delete(
        self, query: ItemDescription | Item[Any] | PersistentRef, *, missing_ok: bool = False
    ) -> bool:
        """Delete every item matching ``query`` (in both keychains on macOS).

        Returns True when something was deleted.  When nothing matches it
        raises :class:`~secitem.errors.ItemNotFoundError`, or returns False
        with ``missing_ok=True``.
        """
        _, q = self._query(query)
        self._limit_all(q)
        try:
            _security.SecItemDelete(q)
        except ItemNotFoundError:
            if missing_ok:
                return False
            raise
        return True

    # -- upsert -------------------------------------------------------------

    @_deadline.bounded("Keychain")
    def upsert(
        self,
        item: ItemDescription,
        data: bytes | str | None = None,
        *,
        trusted_applications: Sequence[str] | None = None,
        any_application: bool = False,
        select: Callable[[list[Mapping[str, object]]], list[Mapping[str, object]]] | None = None,
    ) -> bool:
        """Add ``item``, or update the stored one with the same identity.

        Returns True if the item was added, False if an existing item was
        updated in place.  Race-safe: it adds first and updates only on
        :class:`~secitem.errors.DuplicateItemError` (never delete-then-add,
        so there is no moment without the item, and the item keeps its
        persistent reference and creation date).  When another writer
        deletes the item between that add and that update, it adds again,
        and so on until one of the two succeeds: concurrent upserts and
        deletes never make it fail, and never leave two items.  The stored
        item is found by its identity attributes only (for a generic
        password: service, account, access group, synchronizable; a missing
        one counts as Apple's default ``""``), so a changed label, comment or
        accessibility does not miss it.

        With ``access_group`` unset, the stored item is the one in your
        default access group; if same-identity items exist in several of
        your groups the choice is ambiguous and
        :class:`~secitem.items.InvalidQueryError` asks for ``access_group``.

        ``trusted_applications`` / ``any_application`` (see :meth:`add`) apply
        when the item is added; an update never replaces the stored item's
        access list (it is updated in place).

        ``select`` decides which stored items an update may touch, for code
        that shares an identity with other writers (``CredentialStore`` uses
        it to update only the items it marked as its own).  It is called only
        when the add found a duplicate, with the attributes of the stored
        items that have ``item``'s identity (dictionaries keyed by Apple's
        attribute names, e.g. :data:`secitem.constants.kSecAttrCreator`, as
        :func:`secitem.security.SecItemCopyMatching` returns them; never the
        secret), and returns the ones to update; it may raise to refuse the
        update (the keychain is then unchanged; its exception propagates as
        it is).  Default: all of them.  With ``select`` it is called even when
        the update would change nothing, so it can still refuse.  The rows are
        valid during the call only: CoreFoundation objects in them (an access
        control) are closed when it returns.  With a ``timeout``, ``select``
        runs on the keychain's worker thread, inside the deadline: a
        deadline that passes while it runs raises
        :class:`~secitem.errors.KeychainTimeoutError` in the caller, and
        nothing is written after it.
        """
        access = _access_list.options(trusted_applications, any_application, "upsert")
        if select is not None and not callable(select):
            raise QueryTypeError(
                "upsert(select=...)", f"expected a callable or None, got {type(select).__name__}"
            )
        attrs = self._add_attributes(item, data)  # validates before any call
        _access_list.refuse_data_protection(access, attrs, self._data_protection, "upsert")
        changes = item.non_identity_changes()
        if data is not None:
            changes[C.kSecValueData] = _check.secret(data, "upsert(data=...)")
        # An access control sends the add to the data-protection keychain
        # only (facts 5.1 #1.2): look for the stored item there only, or a
        # file-based twin would be "updated" with an access control it ignores.
        dp_only = self._platform == "macos" and C.kSecAttrAccessControl in attrs
        for _ in range(_UPSERT_ROUNDS):
            try:
                with _AccessControls(attrs), _access_list.attached(attrs, access):
                    _close_all(_security.SecItemAdd(attrs))
                return True
            except DuplicateItemError:
                pass
            if not changes and select is None:
                return False  # the stored item already is what was asked for
            # None: deleted in between (add again).  Only the keychain's own
            # "not found" means that: an exception of ``select`` propagates.
            refs = self._same_identity(item, select=select, dp_only=dp_only)
            if refs is None:
                continue
            try:
                for ref in refs:
                    query = self._base()
                    if dp_only:
                        query[C.kSecUseDataProtectionKeychain] = True
                    query.update(ref.to_query())
                    if changes:
                        self._update(query, dict(changes))
                return False
            except ItemNotFoundError:
                continue  # deleted in between: add again
        raise DuplicateItemError(
            hint=f"upsert lost {_UPSERT_ROUNDS} add/update rounds in a row: each time, "
            "another writer deleted the item after this add found it and re-added it "
            "before the next add; stop the process that deletes and re-adds it in a loop"
        )

    def _same_identity(
        self,
        item: ItemDescription,
        *,
        select: Callable[[list[Mapping[str, object]]], list[Mapping[str, object]]] | None = None,
        dp_only: bool = False,
    ) -> list[PersistentRef] | None:
        """Persistent references of the stored items with ``item``'s identity
        (``None`` when there is none any more: deleted since the add collided).

        Searched by the identity attributes that are set, then filtered here
        so that a missing attribute matches both an absent value and Apple's
        default (the file-based keychain leaves it absent; the
        data-protection keychain stores ``""`` / 0).  ``select`` narrows the
        rows further (or raises); ``dp_only`` searches the macOS
        data-protection keychain only.
        """
        probe = self._base()
        if dp_only:
            probe[C.kSecUseDataProtectionKeychain] = True
        probe.update(item.identity_query(fill_defaults=False))
        probe[C.kSecReturnAttributes] = True
        probe[C.kSecReturnPersistentRef] = True
        probe[C.kSecMatchLimit] = C.kSecMatchLimitAll
        try:
            found = _security.SecItemCopyMatching(probe)
        except ItemNotFoundError:
            return None  # vanished
        try:
            rows = [
                row
                for row in (found if isinstance(found, list) else [found])
                if isinstance(row, Mapping) and item.has_identity_of(row)
            ]
            if select is not None and rows:
                rows = _selected(select, rows)
        finally:
            _close_all(found)
        groups = {
            str(row[C.kSecAttrAccessGroup])
            for row in rows
            if isinstance(row.get(C.kSecAttrAccessGroup), str)
        }
        if len(groups) > 1:
            raise InvalidQueryError(
                f"{type(item).__name__}.access_group",
                f"items with this identity exist in several access groups "
                f"({', '.join(sorted(groups))}); set access_group to choose the one to update",
            )
        refs = [
            PersistentRef(bytes(ref), item.item_class)
            for row in rows
            if isinstance(ref := row.get(C.kSecValuePersistentRef), bytes | bytearray)
        ]
        return refs or None

    # -- partition lists (macOS file-based keychain) ---------------------------

    @_deadline.bounded("Keychain")
    @_names_the_query
    def partition_list(self, query: ItemDescription | Item[Any] | PersistentRef) -> list[str]:
        """The partition IDs of the first file-based item matching ``query``.

        Since macOS 10.12 a program outside this list is asked before it
        reads the secret, whatever the access list says (docs/real-macs.md).
        No secret is read and nothing asks.
        """
        found = self._file_items(query, "partition_list", limit=C.kSecMatchLimitOne)
        try:
            if not found:
                raise ItemNotFoundError()
            return _access_list.read_partition_list(found[0][0])
        finally:
            for ref, row in found:
                ref.close()
                _close_all(row)

    @_deadline.bounded("Keychain")
    @_names_the_query
    def set_partition_list(
        self,
        query: ItemDescription | Item[Any] | PersistentRef,
        partitions: Sequence[str],
        *,
        keychain_password: bytes | str,
    ) -> list[Item[Any]]:
        """Replace the partition list of every file-based item matching ``query``.

        As ``security set-generic-password-partition-list -S`` does: each
        item's partition list becomes ``partitions`` (``"apple-tool:"``,
        ``"apple:"``, ``"unsigned:"``, ``"teamid:TEAM"``, ``"cdhash:HEX"``),
        authorized by the keychain's password instead of a dialog (a wrong
        one raises :class:`~secitem.errors.AuthFailedError`).  Returns the
        changed items (attributes only).  Security cost: every program whose
        partition ID is listed then reads the secret without being asked, as
        far as the access list lets it -- ``unsigned:`` is *every* unsigned
        program of the user.  A later rewrite of the secret resets the list
        to the writer's own ID.  macOS file-based keychain only.
        """
        parts = _access_list.partition_ids(partitions, "set_partition_list")
        password = _check.secret(keychain_password, "set_partition_list(keychain_password=...)")
        found = self._file_items(query, "set_partition_list", limit=C.kSecMatchLimitAll)
        try:
            if not found:
                raise ItemNotFoundError()
            changed: list[Item[Any]] = []
            for ref, row in found:
                _access_list.write_partition_list(ref, parts, password)
                changed.append(item_from_result(description_class(row, GenericPassword), row))
            return changed
        finally:
            for ref, row in found:
                ref.close()
                _close_all(row)

    def _file_items(
        self, query: ItemDescription | Item[Any] | PersistentRef, where: str, *, limit: object
    ) -> list[tuple[KeychainItemRef, dict[str, object]]]:
        """(item reference, attributes) of the matching file-based items; the caller
        closes each reference.  Refused where there are no partition lists."""
        if self._platform != "macos" or self._data_protection:
            raise InvalidQueryError(
                f"Keychain.{where}",
                "partition lists exist only in the macOS file-based keychain; this Keychain "
                "uses the data-protection keychain, where access groups decide who reads",
            )
        _cls, q = self._query(query)
        q[C.kSecReturnRef] = True
        q[C.kSecReturnAttributes] = True
        q[C.kSecMatchLimit] = limit
        result = _security.SecItemCopyMatching(q)
        rows = result if isinstance(result, list) else [result]
        out: list[tuple[KeychainItemRef, dict[str, object]]] = []
        for row in rows:
            ref = row.pop(C.kSecValueRef, None) if isinstance(row, dict) else None
            if isinstance(ref, KeychainItemRef) and isinstance(row, dict):
                out.append((ref, row))  # a data-protection item has none: no access list
            else:
                _close_all(ref)
                _close_all(row)
        return out

    # -- query plumbing -------------------------------------------------------

    def _base(self) -> dict[str, object]:
        """Keys every call carries: the data-protection flag on macOS."""
        if self._platform == "macos" and self._data_protection:
            return {C.kSecUseDataProtectionKeychain: True}
        return {}

    def _limit_all(self, query: dict[str, object]) -> None:
        """Make a file-based update/delete reach every match (facts 5.2 #2.5).

        Only where the file-based keychain can be involved: on iOS a match
        key in SecItemUpdate/SecItemDelete is errSecParam, and the macOS
        data-protection path strips it anyway.
        """
        if self._platform == "macos" and not self._data_protection:
            query[C.kSecMatchLimit] = C.kSecMatchLimitAll

    def _may_reach_file_keychain(self, d: Mapping[str, object]) -> bool:
        """Whether Apple's routing can send a call with dictionary ``d`` to the
        macOS file-based keychain (facts 5.1 #1.2: a true
        ``kSecAttrSynchronizable``, an access control, a token id, the token
        access group or a data-protection persistent reference rule it out)."""
        if self._platform != "macos" or self._data_protection:
            return False
        if d.get(C.kSecAttrSynchronizable) is True:
            return False
        if C.kSecAttrAccessControl in d or C.kSecAttrTokenID in d:
            return False
        if d.get(C.kSecAttrAccessGroup) == "com.apple.token":
            return False
        ref = d.get(C.kSecValuePersistentRef)
        dp_ref = isinstance(ref, bytes) and len(ref) in (12, 20) and ref[:4] in _DP_REF_PREFIXES
        return not dp_ref

    def check_attributes(
        self,
        item: ItemDescription,
        *,
        add: bool = False,
        name: Callable[[str], str] | None = None,
    ) -> None:
        """Refuse, before any native call, attributes this keychain would silently ignore.

        On macOS without ``data_protection``, an add or query can go to the
        file-based keychain, which ignores ``access_group``, ``accessible``
        and ``access_control`` without an error.  :meth:`add`, :meth:`upsert`
        and every query check their item this way; call it to check an item
        you will use later (``CredentialStore`` checks its templates once).
        ``add=True`` checks ``item`` as an item to add, else as a query.
        Raises :class:`~secitem.items.InvalidQueryError` naming the field:
        ``name(field)`` when ``name`` is given (e.g. to name your own
        argument), else ``Class.field``.
        """
        if isinstance(item, type) and issubclass(item, ItemDescription):
            raise QueryTypeError(
                "check_attributes(item)",
                f"got the class {item.__name__} itself; pass an instance, "
                f"e.g. {item.__name__}(service=...)",
            )
        if not isinstance(item, ItemDescription) or type(item) is ItemDescription:
            raise QueryTypeError(
                "check_attributes(item)",
                f"expected an item description, got {type(item).__name__}",
            )
        if not isinstance(add, bool):
            raise QueryTypeError(
                "check_attributes(add=...)", f"expected bool, got {type(add).__name__}"
            )
        if name is not None and not callable(name):
            raise QueryTypeError(
                "check_attributes(name=...)",
                f"expected a function of the field name, e.g. lambda field: "
                f"f'MyVault({{field}})', got {type(name).__name__}",
            )
        sent = item.to_attributes() if add else item.to_query()
        self._refuse_file_keychain_ignores(item, sent, "add" if add else "query", name)

    def _refuse_file_keychain_ignores(
        self,
        item: ItemDescription,
        sent: Mapping[str, object],
        call: str,
        name: Callable[[str], str] | None = None,
    ) -> None:
        """:meth:`check_attributes` of the dictionary ``sent`` already built from
        ``item`` (the add or query dictionary, before any return or match key)."""
        if not self._may_reach_file_keychain(sent):
            return
        for key, field in _FILE_KEYCHAIN_IGNORES:
            if key not in sent:
                continue
            if key == C.kSecAttrAccessible and getattr(item, "access_control", None) is not None:
                field = "access_control"  # a query matches a policy by its protection
            where = (name or _check.attribute(type(item).__name__))(field)
            if type(where) is not str:
                raise QueryTypeError(
                    "check_attributes(name=...)",
                    f"name(field) must return the field's name as a str, "
                    f"got {type(where).__name__}",
                )
            raise InvalidQueryError(where, _ignored_message(field, call))

    def _query(
        self, query: ItemDescription | Item[Any] | PersistentRef
    ) -> tuple[type[ItemDescription], dict[str, object]]:
        q = self._base()
        if isinstance(query, Item):
            if query.persistent_ref is not None:
                q.update(query.persistent_ref.to_query())
            else:
                q.update(query.attributes.to_query())
            return type(query.attributes), q
        if isinstance(query, PersistentRef):
            q.update(query.to_query())
            cls = DESCRIPTIONS.get(query.item_class) if query.item_class else None
            return (cls or ItemDescription), q
        if isinstance(query, ItemDescription):
            if type(query) is ItemDescription:
                raise QueryTypeError("query", "use one of the five item classes")
            q.update(query.to_query())
            self._refuse_file_keychain_ignores(query, q, "query")
            return type(query), q
        if isinstance(query, type) and issubclass(query, ItemDescription):
            raise QueryTypeError(
                "query",
                f"got the class {query.__name__} itself; pass an instance that says what "
                f"to look for, e.g. {query.__name__}(service=...), or {query.__name__}() "
                "for every item of the class",
            )
        raise QueryTypeError(
            "query",
            f"expected an item description, Item or PersistentRef, got {type(query).__name__}",
        )

    def _add_attributes(self, item: ItemDescription, data: bytes | str | None) -> dict[str, object]:
        if not isinstance(item, ItemDescription) or type(item) is ItemDescription:
            raise QueryTypeError(
                "item", f"expected GenericPassword or InternetPassword, got {type(item).__name__}"
            )
        attrs = self._base()
        attrs.update(item.to_attributes())
        self._refuse_file_keychain_ignores(item, attrs, "add")
        if data is not None:
            attrs[C.kSecValueData] = _check.secret(data, "data")
        return attrs


def _selected(
    select: Callable[[list[Mapping[str, object]]], list[Mapping[str, object]]],
    rows: list[Mapping[str, object]],
) -> list[Mapping[str, object]]:
    """The rows ``select`` picks for :meth:`Keychain.upsert` to update.

    ``select`` sees copies without ``"sha1"`` (a digest over the secret, see
    secitem.items) and must return some of the very dictionaries it was given
    (checked by identity, so a forged row cannot point the update at another
    item); none of them is a refusal.
    """
    shown = [{k: v for k, v in row.items() if k != "sha1"} for row in rows]
    chosen = select(list(shown))
    if not isinstance(chosen, list):
        raise QueryTypeError(
            "upsert(select=...)", f"must return a list of rows, got {type(chosen).__name__}"
        )
    picked: dict[int, Mapping[str, object]] = {}
    for row in chosen:
        index = next((i for i, given in enumerate(shown) if given is row), None)
        if index is None:
            raise QueryTypeError(
                "upsert(select=...)", "must return rows from the list it was given, not new ones"
            )
        picked[index] = rows[index]
    if not picked:
        raise DuplicateItemError(
            hint=f"upsert(select=...) chose none of the {len(rows)} stored item(s) with this "
            "identity, so none was updated; the keychain is unchanged"
        )
    return list(picked.values())


def _ignored_message(name: str, call: str) -> str:
    effect = {
        "add": "the item would be stored without it",
        "query": "the query would match items whatever their value",
        "update": "the stored items would keep their old value",
    }[call]
    return (
        f"is ignored by the macOS file-based keychain, which Keychain() without "
        f"data_protection uses: {effect}. Use the data-protection keychain: "
        f"Keychain(data_protection=True) (CredentialStore(data_protection=True)), which "
        f"needs a signed app with a keychain access group"
    )


class _AccessControls:
    """Swap :class:`AccessPolicy` values for ``SecAccessControl`` objects.

    Used as ``with _AccessControls(attrs): call(attrs)``: the objects are
    created on entry (after all Python-side validation) and released on
    exit, so nothing outlives the call.
    """

    __slots__ = ("_attrs", "_created", "_policies")

    def __init__(self, attrs: dict[str, object]) -> None:
        self._attrs = attrs
        self._created: list[Any] = []
        self._policies: dict[str, AccessPolicy] = {}

    def __enter__(self) -> None:
        try:
            for key, value in list(self._attrs.items()):
                if isinstance(value, AccessPolicy):
                    obj = _security.SecAccessControlCreateWithFlags(
                        str(value.protection.value), int(value.flags)
                    )
                    self._created.append(obj)
                    self._policies[key] = value
                    self._attrs[key] = obj
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *exc: object) -> None:
        self._attrs.update(self._policies)
        for obj in self._created:
            obj.close()
        self._created.clear()
