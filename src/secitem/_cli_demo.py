"""``secitem demo``: the credential flow (``CredentialStore.login``) against a simulated server.

Without Apple's frameworks it builds and uses the secitem emulator, and says so first.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from secitem._cli_common import (
    LIBRARY_NAMES,
    UsageError,
    library_kind,
    no_library_here,
    stdin_is_terminal,
)
from secitem.store import Credential, CredentialStore, LoginError, PromptReason

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``demo`` subparser to ``commands`` (an argparse subparsers action)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "demo",
        help="walk through the credential flow against a simulated server",
        description="Sign in, sign in again silently, recover from a password changed "
        "elsewhere, log out: CredentialStore.login against a simulated server.  Without "
        "Apple's frameworks it runs on the secitem emulator (built if needed).",
    )
    parser.add_argument(
        "--auto", action="store_true", help="play the user's part too (no input needed)"
    )
    parser.set_defaults(handler=run)
    return parser


_DEMO_SERVER = "demo.secitem.invalid"
_DEMO_ACCOUNT = "alice"
_DEMO_PASSWORDS = ("wonderland", "looking-glass")


def run(args: argparse.Namespace) -> int:
    """Walk through the credential flow; 1 if a sign-in did not succeed."""
    say = _Narrator(sys.stdout)
    _use_a_library(say)
    server = _DemoServer()
    store = CredentialStore(server=_DEMO_SERVER, label="secitem demo")
    user: Callable[[PromptReason], Credential | None]
    user = _AutoUser(server, say) if args.auto else _TerminalUser(say)
    store.delete()  # leftovers of an interrupted run

    say()
    say(
        f"The simulated server knows one user: {_DEMO_ACCOUNT!r} with password "
        f"{server.password!r} (demo values)."
    )
    try:
        _walk_through(store, user, server, say)
    except LoginError as exc:
        say(f"   {exc}")
        store.delete()
        return 1
    say()
    say(
        "Done. That flow is CredentialStore.login(prompt, authenticate); "
        "see the CredentialStore guide in docs/."
    )
    return 0


def _use_a_library(say: _Narrator) -> None:
    """Say which keychain the demo uses; without Apple's frameworks, build the emulator."""
    kind = library_kind()
    if kind != "apple":
        override = os.environ["SECITEM_LIBRARY"]
        say(f"secitem demo: using {LIBRARY_NAMES[kind]} named by SECITEM_LIBRARY ({override}).")
        return
    if not no_library_here():
        say(
            f"secitem demo: using your keychain (an internet password for {_DEMO_SERVER}, "
            "deleted again at the end)."
        )
        return
    say(
        "secitem demo: no Apple keychain on this system, so this runs on the secitem "
        "emulator (a C stand-in for the Security framework, built now if needed); "
        "nothing real is touched."
    )
    from secitem.testing.emulator import build

    try:
        path = build()
    except RuntimeError as exc:
        raise UsageError(f"cannot build the emulator: {str(exc).splitlines()[0]}") from None
    os.environ["SECITEM_LIBRARY"] = str(path)
    say(f"  emulator: {path}")


def _walk_through(
    store: CredentialStore,
    user: Callable[[PromptReason], Credential | None],
    server: _DemoServer,
    say: _Narrator,
) -> None:
    """The four steps: first sign-in, silent sign-in, a password changed elsewhere, log out."""
    say()
    say("1. First sign-in: nothing is stored, so the app has to ask.")
    credential = store.login(user, server.authenticate)
    say(f"   Signed in as {credential.account!r}; the credential is now in the keychain.")

    say()
    say("2. The app starts again: the stored credential is found and accepted.")
    before = say.prompts
    credential = store.login(user, server.authenticate)
    asked = say.prompts - before
    say(
        f"   Signed in as {credential.account!r}"
        + (" without asking anybody." if not asked else f" after {asked} prompt(s).")
    )

    say()
    server.password = _DEMO_PASSWORDS[1]
    say(f"3. The password is changed on another device; the server now wants {server.password!r}.")
    credential = store.login(user, server.authenticate)
    say("   Signed in; the stored item was updated in place with the new password.")

    say()
    say("4. Log out: the stored credential is deleted.")
    deleted = store.delete()
    left = store.accounts()
    say(f"   delete() -> {deleted}; stored accounts now: {', '.join(left) if left else 'none'}.")


class _Narrator:
    """Prints the demo's narration; counts prompts shown."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.prompts = 0

    def __call__(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)


class _DemoServer:
    """A server that accepts one account and its current password."""

    def __init__(self) -> None:
        self.password = _DEMO_PASSWORDS[0]

    def authenticate(self, credential: Credential) -> bool:
        ok = credential.account == _DEMO_ACCOUNT and credential.password == self.password
        print(
            f"   [server] {credential.account!r}: {'accepted' if ok else 'rejected'}",
            flush=True,
        )
        return ok


_ASK = {
    PromptReason.MISSING: "Please sign in.",
    PromptReason.REJECTED: "The saved password was rejected; please sign in again.",
    PromptReason.RETRY: "Wrong username or password; try again.",
}


class _TerminalUser:
    """Asks on the terminal (hidden password), or reads lines from stdin when piped."""

    def __init__(self, say: _Narrator) -> None:
        self.say = say

    def __call__(self, reason: PromptReason) -> Credential | None:
        self.say.prompts += 1
        self.say(f"   [app] {_ASK[reason]} (prompt reason: {reason.name}; empty name = give up)")
        interactive = stdin_is_terminal()
        try:
            if interactive:
                account = input("   username: ").strip()
            else:
                account = sys.stdin.readline().strip() if sys.stdin is not None else ""
                self.say(f"   username: {account}")
            if not account:
                return None
            if interactive:
                password = getpass.getpass("   password: ")
            else:
                password = sys.stdin.readline().rstrip("\r\n") if sys.stdin is not None else ""
                self.say("   password: (read from standard input)")
        except EOFError:
            return None
        return Credential(account, password)


class _AutoUser:
    """Plays the user: a typo on the first try after a rejection, then the right password."""

    def __init__(self, server: _DemoServer, say: _Narrator) -> None:
        self.server = server
        self.say = say

    def __call__(self, reason: PromptReason) -> Credential | None:
        self.say.prompts += 1
        self.say(f"   [app] {_ASK[reason]} (prompt reason: {reason.name})")
        if reason is PromptReason.REJECTED:
            password = self.server.password.upper()  # a typo, to show RETRY
        else:
            password = self.server.password
        self.say(f"   [user] types {_DEMO_ACCOUNT!r} and a password")
        return Credential(_DEMO_ACCOUNT, password)
