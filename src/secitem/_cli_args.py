"""Reading the ``secitem`` command line safely: the parser class, the checks
that keep a password typed on the command line out of every message, the
argparse ``type=`` converters, and the keychain options the item commands share.

Nothing here runs a command; :mod:`secitem.cli` and its ``_cli_*`` command
modules build their parsers from these pieces.
"""

from __future__ import annotations

import argparse
import enum
from collections.abc import Callable, Collection, Sequence
from typing import Any, NoReturn, TypeVar

from secitem._cli_common import PROG, UsageError
from secitem.items import InvalidQueryError, fourcc
from secitem.keychain import Keychain

__all__ = [
    "Commands",
    "Parser",
    "enum_arg",
    "fourcc_arg",
    "keychain_options",
    "open_keychain",
    "port_arg",
    "refuse_value_of_a_switch",
    "text_arg",
    "unexpected",
]

_E = TypeVar("_E", bound=enum.Enum)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of exiting, and never echoes extra words.

    argparse's own message for unexpected words repeats them; someone who
    typed a password on the command line (``-w s3cret``, as ``security``
    allows) must not see it printed back, so those messages lose their
    values.
    """

    def error(self, message: str) -> NoReturn:
        head, sep, rest = message.partition(": invalid choice: ")
        if sep:  # argparse quotes the word: it may be a password typed in the wrong place
            choices = rest.rpartition(" (choose from ")[2].rstrip(")")
            message = f"{head}: unknown command (choose from {choices}); the word is not shown"
        elif "explicit argument" in message:
            message = message.partition(": ignored explicit argument")[0] + ": takes no value"
        command = self.prog.removeprefix(PROG).strip()
        raise UsageError(f"{command}: {message}" if command else message)


def unexpected(extras: Sequence[str], command: str) -> str:
    """The message for words no option takes, naming options but never other words.

    An unknown option is named (``-x``; for ``-xVALUE`` or ``--name=VALUE``
    only the option part), so the message is accurate; any other word is
    only counted, since it may be a password typed on the command line.
    """
    options: list[str] = []
    words = 0
    for word in extras:
        if word.startswith("--") and len(word) > 2:
            options.append(word.partition("=")[0])
        elif word.startswith("-") and len(word) > 1 and not word[1].isdigit():
            options.append(word[:2])
        else:
            words += 1
    parts = []
    if options:
        parts.append(f"unknown option{'s' if len(options) > 1 else ''} {', '.join(options)}")
    if words:
        parts.append(
            f"{words} unexpected word{'s' if words > 1 else ''} (not shown, in case "
            f"{'one is' if words > 1 else 'it is'} a password: a password is never taken "
            "from the command line; add-* commands read it from a hidden prompt or stdin)"
        )
    message = "; ".join(parts)
    return f"{command}: {message}" if command else message


#: Options that take no value.
_SWITCHES = frozenset("UgwhA")


def refuse_value_of_a_switch(words: Sequence[str], commands: Collection[str]) -> None:
    """A switch given a value is an error naming the switch, never the value.

    ``-U=VALUE``, and ``-wVALUE`` (how Apple's ``security`` takes a password:
    ``-wPASSWORD``).  argparse would otherwise read the characters after the
    switch as more clustered options, so ``-ws3cret`` became ``-w -s 3cret``
    and stored most of the password as the item's service.  Only a cluster
    made of switches alone (``-UA``) stays a cluster.
    """
    command = next((w for w in words if not w.startswith("-")), "")
    if command not in commands:  # an unknown word may be a password: never shown
        command = ""
    for word in words:
        if word == "--":
            return
        if (
            len(word) > 2
            and word[0] == "-"
            and word[1] in _SWITCHES
            and (word[2] == "=" or not set(word[2:]) <= _SWITCHES)
        ):
            where = f"{command}: " if command else ""
            hint = (
                " (the password is never taken from the command line: it is read from a "
                "hidden prompt or from standard input)"
                if word[1] == "w"
                else ""
            )
            raise UsageError(f"{where}argument -{word[1]}: takes no value{hint}")


def enum_arg(cls: type[_E], flag: str) -> Callable[[str], _E]:
    """An argparse ``type=``: a member name (any case) or its four-character code."""

    def parse(text: str) -> _E:
        for member in cls:
            if text.lower() == member.name.lower() or text == str(member.value).rstrip():
                return member
        names = ", ".join(m.name.lower() for m in cls)
        raise argparse.ArgumentTypeError(f"not a {flag} value; use one of {names}")

    parse.__name__ = cls.__name__
    return parse


def text_arg(text: str) -> str:
    """An argparse ``type=`` for names: refuses bytes that are not valid in this locale.

    Undecodable command-line bytes arrive as lone surrogates, which cannot be
    stored as UTF-8; without this check they fail deep in the conversion.
    """
    from secitem import _check  # the one text check; argparse wants its own error type

    try:
        return _check.text(text, "argument", nul_ok=True)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(
        "is not valid text in this locale's encoding (undecodable bytes)"
    ) from None


def port_arg(text: str) -> int:
    """An argparse ``type=`` for port numbers: decimal, 0..65535."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError("not a port number (0..65535)") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("out of range: a port is 0..65535")
    return value


def fourcc_arg(text: str) -> int:
    """An argparse ``type=`` for creator and type codes: exactly four characters."""
    try:
        return fourcc(text)
    except InvalidQueryError:
        raise argparse.ArgumentTypeError(
            "not a four-character code (exactly four characters, e.g. aapl; "
            "pad a short one with spaces: 'ftp ')"
        ) from None


Commands = Any  # argparse's subparsers action (its class is private to argparse)


def keychain_options() -> argparse.ArgumentParser:
    """The options every item command and ``list`` share (a parent parser)."""
    keychain = Parser(add_help=False)
    keychain.add_argument(
        "--data-protection",
        action="store_true",
        help="macOS: use only the data-protection keychain (needs a signed, entitled process)",
    )
    keychain.add_argument(
        "--access-group", metavar="GROUP", type=text_arg, help="keychain access group"
    )
    return keychain


def open_keychain(args: argparse.Namespace) -> Keychain:
    """The keychain the shared options (:func:`keychain_options`) name."""
    return Keychain(data_protection=True if args.data_protection else None)
