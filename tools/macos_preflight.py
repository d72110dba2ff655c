"""Preflight of the macOS CI job: is the keychain usable, within a time limit?

Prints the system (``sw_vers``), the user keychain search list and default
keychain (``security``), then makes one bounded round trip through secitem:
add a generic password, read it back, delete it, and check that it is gone.
With ``--expect-keychain PATH`` it also checks (with ``security
find-generic-password``, which never prints the data) that the item was
stored in that keychain, the throwaway keychain the job created.

Exit status 0: the keychain is usable.  Otherwise the last line on stderr
starts with ``keychain unusable:`` and says which step failed:

* 2: a step failed (the error, its OSStatus and secitem's hint);
* 3: a keychain call did not return within ``--timeout`` seconds (the
  threads' stacks are dumped first); the process ends at once, since a
  thread blocked in a native call cannot be interrupted.

On other systems the ``sw_vers``/``security`` listing is skipped and the
round trip runs against whatever library secitem loads (the emulator, with
``SECITEM_LIBRARY`` set), which is how the test suite checks this script.
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import platform
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Sequence

from secitem import ItemNotFoundError, KeychainError
from secitem.security import (
    SecItemAdd,
    SecItemCopyMatching,
    SecItemDelete,
    kSecAttrAccount,
    kSecAttrService,
    kSecClass,
    kSecClassGenericPassword,
    kSecReturnData,
    kSecValueData,
)

COMMAND_TIMEOUT = 20.0  # seconds for each `sw_vers` / `security` command
EXIT_FAILED = 2
EXIT_TIMEOUT = 3


class Unusable(Exception):
    """A step failed; the message says which and why."""


def _run(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            list(command),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise Unusable(
            f"`{' '.join(command)}` did not finish within {COMMAND_TIMEOUT:g} s"
        ) from None
    except OSError as exc:
        raise Unusable(f"cannot run `{' '.join(command)}`: {exc}") from None


def _show(command: Sequence[str]) -> None:
    """Print a command and its output; a non-zero exit is shown, not fatal."""
    print(f"$ {' '.join(command)}", flush=True)
    done = _run(command)
    for text in (done.stdout, done.stderr):
        if text.strip():
            print(text.rstrip(), flush=True)
    if done.returncode != 0:
        print(f"(exit status {done.returncode})", flush=True)


def show_system(expect_keychain: str | None) -> None:
    """The system and its keychains, as the tests will find them."""
    if sys.platform != "darwin":
        library = os.environ.get("SECITEM_LIBRARY", "(unset)")
        print(f"not macOS ({platform.platform()}): sw_vers and security skipped")
        print(f"SECITEM_LIBRARY={library}", flush=True)
        return
    _show(["sw_vers"])
    _show(["security", "list-keychains", "-d", "user"])
    _show(["security", "default-keychain", "-d", "user"])
    if expect_keychain:
        _show(["security", "show-keychain-info", expect_keychain])


def keychain_of(service: str) -> str:
    """The keychain holding the generic password of ``service`` (per `security`)."""
    done = _run(["security", "find-generic-password", "-s", service])
    match = re.search(r'^keychain: "(.*)"$', done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise Unusable(
            f"`security find-generic-password` could not locate the item it was "
            f"just given (exit status {done.returncode}): {done.stderr.strip()}"
        )
    return match.group(1)


class RoundTrip:
    """Add, read back, (locate,) delete, check gone; remembers the current step."""

    def __init__(self, expect_keychain: str | None) -> None:
        self.expect_keychain = expect_keychain
        self.service = f"secitem-preflight-{uuid.uuid4().hex[:12]}"
        self.step = "starting"
        self.error: str | None = None
        self.finished = False

    def _query(self) -> dict[object, object]:
        return {
            kSecClass: kSecClassGenericPassword,
            kSecAttrService: self.service,
            kSecAttrAccount: "preflight",
        }

    def run(self) -> None:
        """The round trip; failures end up in ``self.error`` (never raises)."""
        added = False
        try:
            token = os.urandom(16)
            self.step = "SecItemAdd"
            SecItemAdd({**self._query(), kSecValueData: token})
            added = True
            self.step = "SecItemCopyMatching"
            if SecItemCopyMatching({**self._query(), kSecReturnData: True}) != token:
                raise Unusable("SecItemCopyMatching returned other data than was added")
            if self.expect_keychain:
                self.step = "security find-generic-password"
                where = keychain_of(self.service)
                if os.path.realpath(where) != os.path.realpath(self.expect_keychain):
                    raise Unusable(
                        f"the item was stored in {where!r}, not in {self.expect_keychain!r} "
                        "(is the expected keychain the default one?)"
                    )
            self.step = "SecItemDelete"
            SecItemDelete(self._query())
            added = False
            self.step = "SecItemCopyMatching after the delete"
            if self._still_there():
                raise Unusable("the item was still found after SecItemDelete")
            self.step = "done"
        except Unusable as exc:
            self.error = str(exc)
        except KeychainError as exc:
            hint = f" Hint: {exc.hint}" if exc.hint else ""
            self.error = f"{self.step} failed: {exc}.{hint}"
        except Exception as exc:
            self.error = f"{self.step} failed: {type(exc).__name__}: {exc}"
        finally:
            if added:
                self._delete_after_failure()
            self.finished = True

    def _still_there(self) -> bool:
        try:
            SecItemCopyMatching({**self._query(), kSecReturnData: True})
        except ItemNotFoundError:
            return False
        return True

    def _delete_after_failure(self) -> None:
        try:
            SecItemDelete(self._query())
        except Exception as exc:
            # Reported, never hidden: the item stays in the keychain.
            print(
                f"preflight: could not delete its item {self.service!r}: {exc}",
                file=sys.stderr,
                flush=True,
            )


def _unusable(message: str) -> None:
    print(f"keychain unusable: {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds the keychain round trip may take (default 60)",
    )
    parser.add_argument(
        "--expect-keychain",
        metavar="PATH",
        help="the keychain file the item must be stored in (checked with `security`)",
    )
    args = parser.parse_args(argv)
    try:
        show_system(args.expect_keychain)
    except Unusable as exc:
        _unusable(str(exc))
        return EXIT_FAILED

    trip = RoundTrip(args.expect_keychain)
    worker = threading.Thread(target=trip.run, name="keychain-round-trip", daemon=True)
    worker.start()
    worker.join(args.timeout)
    if not trip.finished:
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        _unusable(
            f"{trip.step} did not return within {args.timeout:g} s "
            "(a locked keychain waiting for a password, or a hung securityd?)"
        )
        sys.stdout.flush()
        os._exit(EXIT_TIMEOUT)  # the blocked thread cannot be stopped
    if trip.error is not None:
        _unusable(trip.error)
        return EXIT_FAILED
    where = f" in {args.expect_keychain}" if args.expect_keychain else ""
    print(f"keychain usable: add, read back, delete and check gone{where}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
