"""Shared helpers for the binding tests (unique names, self-cleaning items, child processes)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
import warnings
from collections.abc import Mapping

from secitem import ItemNotFoundError, ParamError
from secitem.security import (
    CFObject,
    SecItemDelete,
    kSecAttrServer,
    kSecAttrService,
    kSecClass,
    kSecClassGenericPassword,
    kSecClassInternetPassword,
    kSecMatchLimit,
    kSecMatchLimitAll,
)


def unique(prefix: str = "secitem-test") -> str:
    """A name no other test (or earlier run) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class Cleanup:
    """Remembers what a test added and deletes it at teardown."""

    def __init__(self) -> None:
        self.queries: list[Mapping[object, object]] = []

    def service(self) -> str:
        """A fresh generic-password service, deleted at teardown."""
        name = unique("svc")
        self.queries.append(
            {
                kSecClass: kSecClassGenericPassword,
                kSecAttrService: name,
                kSecMatchLimit: kSecMatchLimitAll,
            }
        )
        return name

    def server(self) -> str:
        """A fresh internet-password server, deleted at teardown."""
        name = f"{unique('host')}.example.com"
        self.queries.append(
            {
                kSecClass: kSecClassInternetPassword,
                kSecAttrServer: name,
                kSecMatchLimit: kSecMatchLimitAll,
            }
        )
        return name

    def add(self, query: Mapping[object, object]) -> None:
        """Delete the items matching ``query`` at teardown."""
        self.queries.append(query)

    def run(self) -> None:
        """Delete everything recorded; never raises, but warns about what it could not delete.

        A failed cleanup is reported as a :class:`CleanupWarning` (shown in
        pytest's warnings summary), naming the service or server and the
        error: on a real keychain it means an item was left behind.
        """
        for query in self.queries:
            problem = _delete_all(query)
            if problem is not None:
                warnings.warn(
                    f"test cleanup could not delete {_describe(query)}: {problem}",
                    CleanupWarning,
                    stacklevel=2,
                )


class CleanupWarning(UserWarning):
    """A test's items could not be deleted at teardown."""


def _describe(query: Mapping[object, object]) -> str:
    for key in (kSecAttrService, kSecAttrServer):
        if key in query:
            return f"{key.name}={query[key]!r}"
    return "the items of a query"


def _delete_all(query: Mapping[object, object]) -> str | None:
    """Delete every item matching ``query``; ``None``, or what went wrong."""
    problem = "items were still left after 100 deletions"
    # The file-based keychain deletes one item per call (facts 5.2 #2.5
    # unless a limit is given); loop until nothing is left.
    # The iOS-path data-protection keychain refuses kSecMatch* keys in
    # SecItemDelete (facts 5.2 #2.4): retry without them.
    for attempt in (query, {k: v for k, v in query.items() if k != kSecMatchLimit}):
        try:
            for _ in range(100):
                SecItemDelete(attempt)
        except ItemNotFoundError:
            return None
        except ParamError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
    return problem


def close_all(value: object) -> None:
    """Close every opaque CF object inside a result (lists and dicts included).

    Attribute dictionaries from the data-protection keychain hold a
    SecAccessControl under kSecAttrAccessControl; closing it releases it now
    instead of whenever the garbage collector breaks a reference cycle (for
    example one made by ``pytest.raises`` keeping the test's frame alive).
    """
    if isinstance(value, CFObject):
        value.close()
    elif isinstance(value, dict):
        for item in value.values():
            close_all(item)
    elif isinstance(value, list):
        for item in value:
            close_all(item)


def run_python(
    code: str, *, timeout: float = 120, **env: str | None
) -> subprocess.CompletedProcess[str]:
    """``code`` (dedented) in a new Python, with this environment changed by ``env``
    (a value of None removes the variable); output captured as text, any exit status.

    For what could crash the process or must start from a fresh interpreter.
    """
    environment = dict(os.environ)
    for key, value in env.items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        timeout=timeout,
    )
