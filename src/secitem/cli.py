"""The ``secitem`` command line (``python -m secitem``).

Item commands follow the flags of Apple's ``security`` tool where they
apply (``-a`` account, ``-s`` service or server, ``-l`` label, ``-D`` kind,
``-j`` comment, ``-c``/``-C`` creator/type codes, ``-G`` generic attribute,
``-U`` update if present, ``-g`` password on stderr, ``-w`` password only;
internet passwords add ``-r`` protocol, ``-P`` port, ``-p`` path, ``-d``
security domain, ``-t`` authentication type), and ``find-*`` prints the
attribute block of ``security find-*-password`` (see :func:`apple_buffer`).
A password is never taken from the command line: ``add-*`` reads it from a
hidden prompt when standard input is a terminal, else from standard input
(one trailing newline removed).

Exit status: 0 on success; for a keychain error the low byte of its
OSStatus, as ``security`` does (44 for "item not found", -25300); 2 for a
usage error; 1 otherwise.  Expected failures print one line on standard
error, never a traceback.

On a machine without Apple's frameworks the commands load the library
named by ``SECITEM_LIBRARY`` (for example the emulator) and fail otherwise;
only ``demo`` builds and uses the emulator by itself, and says so first.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from secitem import _cli_demo, _cli_doctor, _cli_items, _cli_list
from secitem._cli_args import Parser, keychain_options, refuse_value_of_a_switch, unexpected
from secitem._cli_common import (
    EXIT_USAGE,
    PROG,
    USE_EMULATOR,
    UsageError,
    escape_unprintable,
    no_library_here,
    version,
)
from secitem._cli_output import KEYCHAIN_VERSION as KEYCHAIN_VERSION
from secitem._cli_output import apple_buffer as apple_buffer
from secitem.errors import (
    DuplicateItemError,
    ItemNotFoundError,
    KeychainError,
    KeychainUnavailableError,
)
from secitem.items import InvalidQueryError
from secitem.store import AmbiguousAccountError, LoginError, PasswordNotTextError

__all__ = ["main"]

#: Every command's name: the only word a message about a switch may name.
_COMMANDS = (
    frozenset(
        f"{verb}-{noun}-password"
        for verb in ("add", "find", "delete")
        for noun in ("generic", "internet")
    )
    | frozenset(f"set-{noun}-password-partition-list" for noun in ("generic", "internet"))
    | {"list", "doctor", "demo"}
)


def _build_parser() -> argparse.ArgumentParser:
    """The whole parser: each command's module adds its own subparsers."""
    parser = Parser(
        prog=PROG,
        description="Apple Keychain Services from the command line (secitem).",
        epilog="Exit status 44 means the item was not found, as with Apple's security tool.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"{PROG} {version()}",
        help="print the version of secitem and exit",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True
    keychain = keychain_options()
    _cli_items.add_parsers(commands, keychain)
    _cli_list.add_parser(commands, keychain)
    _cli_doctor.add_parser(commands)
    _cli_demo.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _build_parser()
    try:
        words = list(sys.argv[1:] if argv is None else argv)
        refuse_value_of_a_switch(words, _COMMANDS)
        args, extras = parser.parse_known_args(words)
        if extras:
            raise UsageError(unexpected(extras, getattr(args, "command", None) or ""))
    except UsageError as exc:
        _error(f"{exc} (see {PROG} --help)")
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeychainError as exc:
        _error(f"{args.command}: {_describe_error(exc, args)}")
        return _exit_status(exc)
    except (UsageError, InvalidQueryError) as exc:
        _error(f"{args.command}: {exc}")
        return EXIT_USAGE
    except (AmbiguousAccountError, PasswordNotTextError, LoginError) as exc:
        _error(f"{args.command}: {exc}")
        return 1
    except KeyboardInterrupt:
        _error(f"{args.command}: interrupted")
        return 130


def _error(line: str) -> None:
    print(f"{PROG}: {escape_unprintable(' '.join(line.split()))}", file=sys.stderr)


def _describe_error(exc: KeychainError, args: argparse.Namespace) -> str:
    text = str(exc)
    if isinstance(exc, KeychainUnavailableError) and no_library_here():
        return (
            "no Apple Security framework on this system; to use the secitem emulator, "
            f"{USE_EMULATOR} (or try `secitem demo`)"
        )
    if isinstance(exc, ItemNotFoundError | KeychainUnavailableError):
        return text  # short, like security's own line; `secitem doctor` explains more
    if isinstance(exc, DuplicateItemError) and args.command.startswith("add-"):
        return f"{text}. Pass -U to update the existing item."
    return f"{text}. Hint: {exc.hint}" if exc.hint else text


def _exit_status(exc: KeychainError) -> int:
    """The low byte of the OSStatus, as ``security`` exits (never 0)."""
    return (exc.status & 0xFF) or 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
