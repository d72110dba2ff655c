"""A throwaway file-based keychain on macOS, for tests against the real framework.

:func:`temporary_keychain` creates a keychain file with Apple's ``security``
tool, unlocks it, turns its auto-lock off, and makes it the default keychain
and the only one in the user's search list, so that nothing a test adds or
finds touches the login keychain.  On exit, even when the body raised, it
puts the search list and the default keychain back and deletes the file.
The pytest plugin's ``secitem_temporary_keychain`` fixture wraps it.

Every ``security`` command has a time limit: a keychain that waits for a
password dialog nobody can answer fails the test instead of hanging it.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from secitem.errors import KeychainUnavailableError

__all__ = ["DEFAULT_TIMEOUT", "Runner", "TemporaryKeychain", "run_security", "temporary_keychain"]

#: Seconds one ``security`` command may take.
DEFAULT_TIMEOUT: Final = 30.0

#: Runs ``security`` with these arguments and returns its standard output;
#: raises :class:`~secitem.errors.KeychainUnavailableError` if it fails.
Runner = Callable[[Sequence[str]], str]


@dataclass(frozen=True)
class TemporaryKeychain:
    """The throwaway keychain: its file, and its random password (for a test
    that locks it and needs ``security unlock-keychain -p``); ``repr`` hides it."""

    path: Path
    password: str = field(repr=False)


def _shown(args: Sequence[str]) -> str:
    """The command for a message, with the value after ``-p`` masked."""
    out = ["security"]
    hide = False
    for arg in args:
        out.append("***" if hide else arg)
        hide = arg == "-p"
    return " ".join(out)


def run_security(args: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """Run ``security <args>`` with a time limit; return its standard output.

    Raises :class:`~secitem.errors.KeychainUnavailableError` naming the
    command (passwords masked) if it is missing, fails or times out.
    """
    argv = ["security", *args]
    try:
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise KeychainUnavailableError(
            "Apple's `security` tool was not found (it ships with macOS at /usr/bin/security)"
        ) from None
    except subprocess.TimeoutExpired:
        raise KeychainUnavailableError(
            f"`{_shown(args)}` did not finish within {timeout:g} s (a keychain waiting "
            "for a password dialog, or a stuck securityd)"
        ) from None
    if proc.returncode != 0:
        raise KeychainUnavailableError(
            f"`{_shown(args)}` failed (exit {proc.returncode}): {proc.stderr.strip()}"
        )
    return proc.stdout


def _paths(output: str) -> list[str]:
    """Keychain paths from ``security list-keychains`` / ``default-keychain`` output:
    one per line, indented and in double quotes."""
    paths = []
    for line in output.splitlines():
        path = line.strip()
        if len(path) >= 2 and path[0] == path[-1] == '"':
            path = path[1:-1]
        if path:
            paths.append(path)
    return paths


@contextmanager
def temporary_keychain(
    directory: str | Path, *, runner: Runner | None = None
) -> Iterator[TemporaryKeychain]:
    """Create, unlock and select a throwaway keychain in ``directory``; undo it all on exit.

    The commands, in order (``PATH`` is ``directory/secitem-<random>.keychain-db``)::

        security list-keychains -d user          # saved
        security default-keychain -d user        # saved
        security create-keychain -p <random> PATH
        security set-keychain-settings PATH      # no -l/-u/-t: never locks by itself
        security unlock-keychain -p <random> PATH
        security list-keychains -d user -s PATH  # the only keychain searched
        security default-keychain -d user -s PATH
        ...                                      # the body
        security list-keychains -d user -s <saved list>
        security default-keychain -d user -s <saved default>
        security delete-keychain PATH

    The last three run whenever the step they undo was started, even if the
    body or a later setup step raised.  ``runner`` replaces
    :func:`run_security` (tests use it to check the commands).
    """
    run: Runner = runner if runner is not None else run_security
    saved_list = _paths(run(["list-keychains", "-d", "user"]))
    saved_default = _paths(run(["default-keychain", "-d", "user"]))
    path = Path(directory) / f"secitem-{secrets.token_hex(6)}.keychain-db"
    password = secrets.token_urlsafe(24)
    created = listed = defaulted = False
    try:
        try:
            run(["create-keychain", "-p", password, str(path)])
        except KeychainUnavailableError:
            created = path.exists()  # a create that timed out may have made the file
            raise
        created = True
        run(["set-keychain-settings", str(path)])
        run(["unlock-keychain", "-p", password, str(path)])
        listed = True
        run(["list-keychains", "-d", "user", "-s", str(path)])
        defaulted = True
        run(["default-keychain", "-d", "user", "-s", str(path)])
        yield TemporaryKeychain(path, password)
    finally:
        failures: list[str] = []
        steps: list[list[str]] = []
        if listed:
            steps.append(["list-keychains", "-d", "user", "-s", *saved_list])
        if defaulted and saved_default:
            steps.append(["default-keychain", "-d", "user", "-s", saved_default[0]])
        if created:
            steps.append(["delete-keychain", str(path)])
        for step in steps:
            try:
                run(step)
            except KeychainUnavailableError as exc:
                failures.append(str(exc))
        if failures:
            raise KeychainUnavailableError(
                "could not undo the temporary keychain: " + "; ".join(failures), paths=(str(path),)
            )
