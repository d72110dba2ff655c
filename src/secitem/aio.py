"""``secitem.aio``: the keychain from asyncio, off the event loop.

Keychain calls block (Apple says so; a prompt or a stuck securityd can make
one take seconds or never return).  :class:`AsyncKeychain` and
:class:`AsyncCredentialStore` have the methods of :class:`secitem.Keychain`
and :class:`secitem.CredentialStore` as coroutines, with the same arguments,
results and errors, ``timeout=`` included::

    store = AsyncCredentialStore(service="com.example.app", timeout=5)
    credential = await store.login(ask_user, check_with_server)

* Each operation runs on secitem's bounded pool of worker threads (at most
  :data:`secitem._deadline.MAX_WORKERS`, shared with the blocking API), never
  on the event loop.
* ``timeout`` (seconds) bounds each operation; a late one raises
  :class:`~secitem.errors.KeychainTimeoutError`.
* Cancelling the awaiting task raises ``CancelledError`` at once.  A native
  call already running cannot be interrupted: it finishes on its worker, its
  result is released, and nothing further of the operation is done (a
  cancelled write may or may not have happened, as with a timeout).
* :class:`AsyncCredentialStore` keeps its ordering guarantees under
  concurrent tasks: one ``login`` at a time per store (a second one waits,
  then finds the credential the first stored, and does not prompt), and
  writes (``save``, ``delete``, ``adopt``, and ``login``'s write) run one at a
  time in the order they were called.  ``login`` accepts plain or ``async``
  callables for ``prompt`` and ``authenticate``; a plain one runs on the
  event loop (wrap a blocking one in :func:`asyncio.to_thread`).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar, overload

from secitem import _deadline
from secitem.errors import LoginCancelled as LoginCancelled  # importable here before
from secitem.errors import LoginFailed as LoginFailed
from secitem.items import (
    AccessControlFlags,
    Accessible,
    AccessPolicy,
    AuthenticationType,
    InvalidQueryError,
    Item,
    ItemDescription,
    PersistentRef,
    Protocol,
    QueryTypeError,
)
from secitem.keychain import Keychain, Platform
from secitem.store import (
    DEFAULT_CREATOR,
    Credential,
    CredentialStore,
    PromptReason,
    _check_login,
    _login_flow,
    _next_step,
)

__all__ = ["AsyncCredentialStore", "AsyncKeychain"]

_T = TypeVar("_T", bound=ItemDescription)
_R = TypeVar("_R")

#: ``prompt`` for :meth:`AsyncCredentialStore.login`: plain or async.
Prompt = Callable[[PromptReason], Credential | Awaitable[Credential | None] | None]
#: ``authenticate`` for :meth:`AsyncCredentialStore.login`: plain or async.
Authenticate = Callable[[Credential], bool | Awaitable[bool]]


async def _run(
    timeout: float | None,
    operation: str,
    fn: Callable[..., _R],
    *args: Any,
    **kwargs: Any,
) -> _R:
    """Run ``fn(*args, **kwargs)`` on a worker and await it, within ``timeout``.

    The outcome goes to exactly one owner: this coroutine, or, if it was
    cancelled or timed out first, the worker (which releases it).
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(task: _deadline._Task) -> None:  # on the loop
        if future.done():  # cancelled meanwhile: nobody will take it
            task.discard()
            return
        try:
            future.set_result(task.take())
        except BaseException as exc:
            future.set_exception(exc)

    def notify(task: _deadline._Task) -> bool:  # on the worker
        try:
            loop.call_soon_threadsafe(settle, task)
        except RuntimeError:  # the loop is closed: the worker releases it
            return False
        return True

    task = _deadline._Task(operation, timeout, _deadline.release, fn, args, kwargs)
    task.notify = notify

    def expire() -> None:  # on the loop, at the deadline
        if not future.done() and task.abandon():
            future.set_exception(task.timeout_error())

    timer = None if timeout is None else loop.call_later(timeout, expire)
    _deadline._pool.submit(task)
    try:
        result: _R = await future
        return result
    except BaseException:
        task.abandon()  # cancelled: the late outcome is the worker's to release
        raise
    finally:
        if timer is not None:
            timer.cancel()


class AsyncKeychain:
    """:class:`secitem.Keychain` for asyncio: the same methods, as coroutines.

    ``AsyncKeychain(data_protection=None, platform=None, timeout=None)``
    takes the arguments of :class:`~secitem.Keychain`, or
    ``AsyncKeychain(keychain=...)`` wraps an existing one (its ``timeout``
    applies).  Safe to share between tasks and event loops.
    """

    __slots__ = ("_keychain",)

    def __init__(
        self,
        *,
        data_protection: bool | None = None,
        platform: Platform | None = None,
        timeout: float | None = None,
        keychain: Keychain | None = None,
    ) -> None:
        if keychain is not None:
            if not isinstance(keychain, Keychain):
                raise QueryTypeError(
                    "AsyncKeychain(keychain=...)",
                    f"expected a secitem.Keychain, got {type(keychain).__name__}",
                )
            if data_protection is not None or platform is not None or timeout is not None:
                raise InvalidQueryError(
                    "AsyncKeychain(keychain=...)",
                    "pass either keychain=... or data_protection/platform/timeout, not both",
                )
            self._keychain = keychain
        else:
            try:
                self._keychain = Keychain(
                    data_protection=data_protection, platform=platform, timeout=timeout
                )
            except InvalidQueryError as exc:
                raise type(exc)("Async" + exc.field, str(exc).split(": ", 1)[-1]) from None

    @property
    def keychain(self) -> Keychain:
        """The blocking :class:`~secitem.Keychain` behind it (same settings)."""
        return self._keychain

    @property
    def platform(self) -> Platform:
        """``"macos"`` or ``"ios"``."""
        return self._keychain.platform

    @property
    def data_protection(self) -> bool:
        """True when only the data-protection keychain is used."""
        return self._keychain.data_protection

    @property
    def timeout(self) -> float | None:
        """Seconds each operation may take, or ``None``."""
        return self._keychain.timeout

    def __repr__(self) -> str:
        return f"Async{self._keychain!r}"

    async def _call(self, name: str, fn: Callable[..., _R], *args: Any, **kwargs: Any) -> _R:
        return await _run(self._keychain.timeout, f"AsyncKeychain.{name}", fn, *args, **kwargs)

    async def add(
        self,
        item: ItemDescription,
        data: bytes | str | None = None,
        *,
        trusted_applications: Sequence[str] | None = None,
        any_application: bool = False,
    ) -> PersistentRef | None:
        """:meth:`secitem.Keychain.add`."""
        return await self._call(
            "add",
            self._keychain.add,
            item,
            data,
            trusted_applications=trusted_applications,
            any_application=any_application,
        )

    @overload
    async def get(self, query: _T, *, data: bool = True) -> Item[_T]: ...
    @overload
    async def get(self, query: Item[_T], *, data: bool = True) -> Item[_T]: ...
    @overload
    async def get(self, query: PersistentRef, *, data: bool = True) -> Item[Any]: ...

    async def get(
        self, query: ItemDescription | Item[Any] | PersistentRef, *, data: bool = True
    ) -> Item[Any]:
        """:meth:`secitem.Keychain.get`."""
        return await self._call("get", self._keychain.get, query, data=data)

    async def secret(self, query: ItemDescription | Item[Any] | PersistentRef) -> bytes:
        """:meth:`secitem.Keychain.secret`."""
        return await self._call("secret", self._keychain.secret, query)

    @overload
    async def find(
        self, query: _T, *, data: bool = False, limit: int | None = None
    ) -> list[Item[_T]]: ...
    @overload
    async def find(
        self, query: Item[_T], *, data: bool = False, limit: int | None = None
    ) -> list[Item[_T]]: ...
    @overload
    async def find(
        self, query: PersistentRef, *, data: bool = False, limit: int | None = None
    ) -> list[Item[Any]]: ...

    async def find(
        self,
        query: ItemDescription | Item[Any] | PersistentRef,
        *,
        data: bool = False,
        limit: int | None = None,
    ) -> list[Item[Any]]:
        """:meth:`secitem.Keychain.find`."""
        return await self._call("find", self._keychain.find, query, data=data, limit=limit)

    async def update(
        self,
        query: ItemDescription | Item[Any] | PersistentRef,
        *,
        data: bytes | str | None = None,
        changes: ItemDescription | Mapping[str, object] | None = None,
        **attributes: object,
    ) -> None:
        """:meth:`secitem.Keychain.update`."""
        await self._call(
            "update", self._keychain.update, query, data=data, changes=changes, **attributes
        )

    async def delete(
        self, query: ItemDescription | Item[Any] | PersistentRef, *, missing_ok: bool = False
    ) -> bool:
        """:meth:`secitem.Keychain.delete`."""
        return await self._call("delete", self._keychain.delete, query, missing_ok=missing_ok)

    async def upsert(
        self,
        item: ItemDescription,
        data: bytes | str | None = None,
        *,
        trusted_applications: Sequence[str] | None = None,
        any_application: bool = False,
        select: Callable[[list[Mapping[str, object]]], list[Mapping[str, object]]] | None = None,
    ) -> bool:
        """:meth:`secitem.Keychain.upsert` (``select`` runs on the worker thread)."""
        if inspect.iscoroutinefunction(select):
            raise QueryTypeError(
                "AsyncKeychain.upsert(select=...)",
                "must be a plain function, not async: it runs on the worker thread, "
                "between the keychain calls, where nothing awaits it",
            )
        return await self._call(
            "upsert",
            self._keychain.upsert,
            item,
            data,
            trusted_applications=trusted_applications,
            any_application=any_application,
            select=select,
        )


class AsyncCredentialStore:
    """:class:`secitem.CredentialStore` for asyncio: the same methods, as coroutines.

    Takes the arguments of :class:`~secitem.CredentialStore` (``timeout=``
    included), or ``AsyncCredentialStore(store=...)`` wraps an existing
    store.  Tasks sharing one ``AsyncCredentialStore`` get its ordering:
    one :meth:`login` at a time, and writes (:meth:`save`, :meth:`delete`,
    :meth:`adopt`, a login's write) one at a time, first come first served.
    Reads (:meth:`get`, :meth:`accounts`) do not wait for them.  Two
    ``AsyncCredentialStore`` objects for the same service are two stores:
    share one object between the tasks that must be ordered.  The locks are
    asyncio locks: use one ``AsyncCredentialStore`` from one event loop.
    """

    __slots__ = ("_login_lock", "_store", "_write_lock")

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
        creator: int | str | None = None,
        timeout: float | None = None,
        trusted_applications: Sequence[str] | None = None,
        any_application: bool = False,
        store: CredentialStore | None = None,
    ) -> None:
        if store is not None:
            if not isinstance(store, CredentialStore):
                raise QueryTypeError(
                    "AsyncCredentialStore(store=...)",
                    f"expected a secitem.CredentialStore, got {type(store).__name__}",
                )
            given = (server, service, protocol, port, path, security_domain)
            others = (authentication_type, access_group, accessible, synchronizable)
            more = (access_control, label, data_protection, keychain, timeout, creator)
            if any(v is not None for v in given + others + more) or (
                trusted_applications is not None or any_application
            ):
                raise InvalidQueryError(
                    "AsyncCredentialStore(store=...)",
                    "pass either store=... or the CredentialStore arguments, not both",
                )
            self._store = store
        else:
            self._store = CredentialStore(
                server=server,
                service=service,
                protocol=protocol,
                port=port,
                path=path,
                security_domain=security_domain,
                authentication_type=authentication_type,
                access_group=access_group,
                accessible=accessible,
                synchronizable=synchronizable,
                access_control=access_control,
                label=label,
                data_protection=data_protection,
                keychain=keychain,
                creator=DEFAULT_CREATOR if creator is None else creator,
                timeout=timeout,
                trusted_applications=trusted_applications,
                any_application=any_application,
            )
        self._login_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()

    @property
    def store(self) -> CredentialStore:
        """The blocking :class:`~secitem.CredentialStore` behind it."""
        return self._store

    @property
    def timeout(self) -> float | None:
        """Seconds each operation may take (``login``: each keychain step), or ``None``."""
        return self._store.timeout

    def __repr__(self) -> str:
        return f"Async{self._store!r}"

    async def _call(self, name: str, fn: Callable[..., _R], *args: Any) -> _R:
        return await _run(self._store.timeout, f"AsyncCredentialStore.{name}", fn, *args)

    async def get(self, account: str | None = None) -> Credential | None:
        """:meth:`secitem.CredentialStore.get`."""
        return await self._call("get", self._store.get, account)

    async def accounts(self) -> list[str]:
        """:meth:`secitem.CredentialStore.accounts`."""
        return await self._call("accounts", self._store.accounts)

    async def save(self, credential: Credential) -> None:
        """:meth:`secitem.CredentialStore.save`; writes run in call order."""
        async with self._write_lock:
            await self._call("save", self._store.save, credential)

    async def adopt(self, account: str | None = None) -> list[str]:
        """:meth:`secitem.CredentialStore.adopt`; writes run in call order."""
        async with self._write_lock:
            return await self._call("adopt", self._store.adopt, account)

    async def delete(self, account: str | None = None) -> bool:
        """:meth:`secitem.CredentialStore.delete`; writes run in call order."""
        async with self._write_lock:
            return await self._call("delete", self._store.delete, account)

    async def login(
        self,
        prompt: Prompt,
        authenticate: Authenticate,
        *,
        account: str | None = None,
        max_attempts: int = 3,
    ) -> Credential:
        """:meth:`secitem.CredentialStore.login`, with plain or ``async`` callbacks.

        The same flow, results and errors.  One login at a time per store: a
        second concurrent ``login`` waits for the first, then starts from
        what the keychain holds (the credential the first one stored, which
        it checks with ``authenticate`` without prompting).  ``timeout``
        bounds each keychain step, never ``prompt`` or ``authenticate``.
        """
        account = _check_login(prompt, authenticate, account, max_attempts)
        store = self._store
        async with self._login_lock:
            stored = await self._call("login", store._stored_item, account, "login")
            flow = _login_flow(store, stored, max_attempts)
            reply: object = None
            while True:
                step, value = _next_step(flow, reply)
                if step == "done":
                    accepted: Credential = value
                    return accepted
                if step == "prompt":
                    reply = prompt(value)
                    if inspect.isawaitable(reply):
                        reply = await reply
                elif step == "check":
                    reply = await _accepted(authenticate, value)
                else:  # "write": one writer at a time, with save/delete/adopt
                    async with self._write_lock:
                        reply = await self._call("login", store._write_login, stored, value)


async def _accepted(authenticate: Authenticate, credential: Credential) -> bool:
    result = authenticate(credential)
    if inspect.isawaitable(result):
        result = await result
    if not isinstance(result, bool):
        raise QueryTypeError(
            "login(authenticate)",
            f"authenticate must return True or False, got {type(result).__name__}",
        )
    return result
