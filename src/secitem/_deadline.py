"""Deadlines for keychain calls: a small pool of worker threads.

A keychain call can hang: securityd stuck after an upgrade, a prompt nobody
can see, a locked keychain waiting for a password.  ``Keychain(timeout=...)``,
``CredentialStore(timeout=...)`` and :mod:`secitem.aio` run each operation
(the whole method: validation, conversion and the native calls) as a
:class:`_Task` on one of at most :data:`MAX_WORKERS` daemon threads, and the
caller waits for it until its deadline.  What this module guarantees:

* **Bounded threads.**  The pool never has more than :data:`MAX_WORKERS`
  threads, whatever happens to the native calls.  A call that finds every
  worker busy waits in a queue up to its own deadline; a queued task whose
  caller gave up is dropped without running.
* **No native call after the deadline.**  Every SecItem call goes through
  the process-wide call lock (:class:`CallLock`, ``secitem.security._call_lock``).
  In a worker, taking it respects the task's deadline and gives up as soon
  as the caller has given up; once the caller has given up, the task makes
  no further native call.  So a timed-out operation is never continued or
  retried behind the caller's back (a late ``DuplicateItemError`` from a
  stuck add is not followed by an update).
* **Exactly one owner for every result.**  A task's outcome goes to its
  caller, or, if the caller gave up first, is released by the worker (the
  ``cleanup`` function, which closes any CoreFoundation object in it).
* **The caller knows whether anything was sent.**  The
  :class:`~secitem.errors.KeychainTimeoutError` says whether a native call of
  the operation had started (``started``): if not, the keychain was not
  touched and a retry is safe.

A call stuck *inside* the Security framework holds the call lock, so every
other SecItem call of the process waits behind it (as it does without
deadlines); with a deadline, they give up at theirs.  Without a deadline
(``timeout=None``) nothing here is used: the call runs on the caller's
thread, as it always did.
"""

from __future__ import annotations

import collections
import functools
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from typing import Any, Final, ParamSpec, TypeVar, cast

from secitem.errors import InvalidQueryError, KeychainTimeoutError, QueryTypeError

__all__ = [
    "MAX_WORKERS",
    "CallLock",
    "bounded",
    "call",
    "check_timeout",
    "in_task",
    "release",
    "submit",
    "threads",
    "wait_idle",
]

_log: Final = logging.getLogger("secitem.deadline")

_P = ParamSpec("_P")
_R = TypeVar("_R")

#: Worker threads at most.  The SecItem calls are serialized by the
#: process-wide call lock, so more workers would only wait for it: one runs
#: a native call, the others convert values or wait for the lock (each up to
#: its own deadline), and a worker stuck in a hung native call leaves the
#: others free.
MAX_WORKERS: Final = 4

#: How often a worker waiting for the call lock checks whether its caller
#: gave up (a cancelled asyncio task has no deadline to wait for).
_POLL: Final = 0.05

#: Queue length above which abandoned tasks are purged on submit.
_PURGE_AT: Final = 256

_local: Final = threading.local()


def check_timeout(value: object, where: str) -> float | None:
    """``value`` as a timeout in seconds (``None`` = no deadline), or the error naming ``where``.

    A positive, finite number of seconds (``int`` or ``float``, not
    ``bool``), at most :data:`threading.TIMEOUT_MAX`.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise QueryTypeError(
            where,
            f"expected seconds (a float), or None for no deadline; got {type(value).__name__}",
        )
    if isinstance(value, float):
        seconds = float.__float__(value)  # the plain value: a subclass's arithmetic may lie
    else:
        number = int.__int__(value)
        seconds = float(number) if number <= threading.TIMEOUT_MAX else math.inf
    if math.isnan(seconds) or seconds <= 0:
        raise InvalidQueryError(
            where, f"{seconds!r} is not a positive number of seconds; pass None for no deadline"
        )
    if seconds > threading.TIMEOUT_MAX:
        raise InvalidQueryError(
            where,
            f"{seconds:g} s is longer than this platform can wait "
            f"({threading.TIMEOUT_MAX:.0f} s); pass None for no deadline",
        )
    return seconds


def in_task() -> bool:
    """Whether this thread is a worker running a task (nested calls then run directly)."""
    return getattr(_local, "task", None) is not None


# --------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------


class _Task:
    """One operation: run by a worker, awaited by one caller.

    ``state`` guards the hand-over.  Exactly one of two things happens:
    the worker finishes first (``finished``) and the outcome belongs to the
    caller, or the caller gives up first (``abandoned``) and the worker
    releases the outcome with ``cleanup`` when it comes.
    """

    __slots__ = (
        "__weakref__",
        "abandoned",
        "args",
        "cleanup",
        "deadline",
        "done",
        "error",
        "finished",
        "fn",
        "kwargs",
        "notify",
        "operation",
        "result",
        "started",
        "state",
        "timeout",
    )

    def __init__(
        self,
        operation: str,
        timeout: float | None,
        cleanup: Callable[[Any], object],
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        self.operation = operation
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.cleanup = cleanup
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.state = threading.Lock()
        self.done = threading.Event()
        self.finished = False
        self.abandoned = False
        self.started = False  # a native call of this operation has begun
        self.result: Any = None
        self.error: BaseException | None = None
        #: Called by the worker (outside ``state``) once the outcome belongs
        #: to the caller; returns False if the caller cannot take it (its
        #: event loop is closed), and the worker then releases it.
        self.notify: Callable[[_Task], bool] | None = None

    def abandon(self) -> bool:
        """The caller gives up.  False if the outcome is already the caller's."""
        with self.state:
            if self.finished:
                return False
            self.abandoned = True
            return True

    def timeout_error(self) -> KeychainTimeoutError:
        return KeychainTimeoutError(self.operation, self.timeout, started=self.started)

    def take(self) -> Any:
        """The outcome (the caller's): the result, or raise the error."""
        error = self.error
        if error is not None:
            self.error = None
            try:
                raise error
            finally:
                del error
        result, self.result = self.result, None
        return result

    def discard(self) -> None:
        """Release an outcome nobody will take (never raises)."""
        result, self.result, self.error = self.result, None, None
        if result is None:
            return
        try:
            self.cleanup(result)
        except Exception:  # pragma: no cover - cleanup closes objects; it does not fail
            _log.exception("could not release the late result of %s", self.operation)

    def run(self) -> None:
        """In a worker: run the operation unless the caller gave up, then hand over."""
        if not self.abandoned:
            _local.task = self
            try:
                self.result = self.fn(*self.args, **self.kwargs)
            except BaseException as exc:  # handed to the caller, who re-raises it
                self.error = exc
            finally:
                _local.task = None
        self.fn = self.args = self.kwargs = None  # type: ignore[assignment]
        with self.state:
            late = self.abandoned
            self.finished = True
        if late:
            if self.started:
                _log.debug("%s finished after its caller gave up; result released", self.operation)
            self.discard()
        else:
            notify = self.notify
            if notify is not None and not notify(self):
                self.discard()
        self.done.set()

    def enter_native(self, lock: threading.Lock) -> None:
        """Take ``lock`` for a native call, within the deadline and only if still wanted."""
        if not lock.acquire(blocking=False):
            while True:
                if self.abandoned:
                    raise self.timeout_error()
                wait = _POLL
                if self.deadline is not None:
                    remaining = self.deadline - time.monotonic()
                    if remaining <= 0:
                        raise self.timeout_error()
                    wait = min(wait, remaining)
                if lock.acquire(timeout=wait):
                    break
        with self.state:
            if self.abandoned or (self.deadline is not None and time.monotonic() >= self.deadline):
                lock.release()
                raise self.timeout_error()
            self.started = True


class CallLock:
    """The process-wide SecItem call lock, aware of deadlines.

    Used as ``with _call_lock:`` around each native SecItem call.  On a
    caller's own thread it is a plain lock.  In a worker running a task it
    is taken only within the task's deadline and only while its caller still
    waits; otherwise :class:`~secitem.errors.KeychainTimeoutError` is raised
    and no native call is made.
    """

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> bool:
        task: _Task | None = getattr(_local, "task", None)
        if task is None:
            return self._lock.acquire()
        task.enter_native(self._lock)
        return True

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """As :meth:`threading.Lock.acquire` (no deadline applies)."""
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()


# --------------------------------------------------------------------------
# The pool
# --------------------------------------------------------------------------


class _Pool:
    """At most :data:`MAX_WORKERS` daemon threads taking tasks from a FIFO queue.

    Threads are started on demand (a task queued while none is idle) and
    stay for the life of the process; daemon threads, so a native call that
    never returns cannot keep the interpreter from exiting.
    """

    def __init__(self) -> None:
        self._init()

    def _init(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._queue: collections.deque[_Task] = collections.deque()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._running = 0

    def submit(self, task: _Task) -> None:
        with self._cond:
            queue = self._queue
            if len(queue) >= _PURGE_AT:
                kept = [t for t in queue if not t.abandoned]
                for t in queue:
                    if t.abandoned:
                        t.run()  # not started: only marks it finished and done
                queue.clear()
                queue.extend(kept)
            queue.append(task)
            if self._idle:
                self._cond.notify()
            if len(queue) > self._idle and len(self._threads) < MAX_WORKERS:
                thread = threading.Thread(
                    target=self._work,
                    name=f"secitem-keychain-{len(self._threads) + 1}",
                    daemon=True,
                )
                self._threads.append(thread)
                thread.start()

    def _work(self) -> None:
        cond = self._cond
        while True:
            with cond:
                while not self._queue:
                    self._idle += 1
                    cond.wait()
                    self._idle -= 1
                task = self._queue.popleft()
                self._running += 1
            try:
                task.run()
            finally:
                with cond:
                    self._running -= 1
                    cond.notify_all()

    def threads(self) -> int:
        with self._cond:
            return len(self._threads)

    def wait_idle(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._running:
                remaining = end - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, _POLL))
            return True


_pool: Final = _Pool()

if hasattr(os, "register_at_fork"):
    # A child process has none of the parent's threads: start afresh.
    os.register_at_fork(after_in_child=_pool._init)


def submit(
    operation: str,
    timeout: float | None,
    cleanup: Callable[[Any], object],
    fn: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> _Task:
    """Queue ``fn(*args, **kwargs)`` as a task (for callers that wait their own way)."""
    task = _Task(operation, timeout, cleanup, fn, args, kwargs)
    _pool.submit(task)
    return task


def call(
    timeout: float,
    operation: str,
    cleanup: Callable[[Any], object],
    fn: Callable[_P, _R],
    *args: _P.args,
    **kwargs: _P.kwargs,
) -> _R:
    """Run ``fn(*args, **kwargs)`` on a worker; wait at most ``timeout`` seconds.

    Returns its result or raises its exception; raises
    :class:`~secitem.errors.KeychainTimeoutError` when the deadline passes
    first (then the late outcome is released with ``cleanup``).  Called from
    a worker (a nested operation), it just runs ``fn`` under the outer
    deadline.
    """
    if in_task():
        return fn(*args, **kwargs)
    task = _Task(operation, timeout, cleanup, fn, args, kwargs)
    _pool.submit(task)
    try:
        task.done.wait(timeout)
    finally:
        # Also on KeyboardInterrupt: the caller is gone, so is the outcome.
        gave_up = task.abandon()
    if gave_up:
        raise task.timeout_error()
    result: _R = task.take()
    return result


_F = TypeVar("_F", bound=Callable[..., Any])


def bounded(owner: str) -> Callable[[_F], _F]:
    """Decorate a method of ``owner`` (``"Keychain"``) to run within ``self.timeout``.

    With ``timeout=None`` the method runs on the caller's thread as before;
    otherwise through :func:`call`, named ``owner.method`` in the
    :class:`~secitem.errors.KeychainTimeoutError`, its late result released
    with :func:`release`.
    """

    def decorate(method: _F) -> _F:
        operation = f"{owner}.{method.__name__}"

        @functools.wraps(method)
        def run(self: Any, /, *args: Any, **kwargs: Any) -> Any:
            timeout: float | None = self.timeout
            if timeout is None:
                return method(self, *args, **kwargs)
            return call(timeout, operation, release, method, self, *args, **kwargs)

        return cast("_F", run)

    return decorate


def release(value: object) -> None:
    """Close every CoreFoundation object in a late result (lists, tuples, dicts walked).

    The one walker is :func:`secitem._cfobjects.close_all`, imported here and
    not at the top: this module stays free of cffi, and a late result holding
    a CF object exists only after a native call has loaded it.
    """
    if isinstance(value, str | bytes | int | float | type(None)):
        return
    from secitem._cfobjects import close_all

    close_all(value)


def threads() -> int:
    """How many worker threads exist (at most :data:`MAX_WORKERS`)."""
    return _pool.threads()


def wait_idle(timeout: float = 30.0) -> bool:
    """Wait until no task is queued or running (for tests: late results released)."""
    return _pool.wait_idle(timeout)
