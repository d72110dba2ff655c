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
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from secitem import _cli_demo, _cli_doctor
from secitem._cli_args import (
    Commands,
    Parser,
    enum_arg,
    fourcc_arg,
    keychain_options,
    open_keychain,
    port_arg,
    refuse_value_of_a_switch,
    text_arg,
    unexpected,
)
from secitem._cli_common import (
    EXIT_USAGE,
    PROG,
    UsageError,
    cell,
    escape_unprintable,
    print_json,
    stdin_is_terminal,
    version,
)
from secitem._cli_output import KEYCHAIN_VERSION as KEYCHAIN_VERSION
from secitem._cli_output import apple_buffer as apple_buffer
from secitem._cli_output import json_row, keychain_name, print_item, secret_text
from secitem.errors import (
    AuthFailedError,
    DuplicateItemError,
    ItemNotFoundError,
    KeychainError,
    KeychainUnavailableError,
)
from secitem.items import (
    AuthenticationType,
    GenericPassword,
    InternetPassword,
    InvalidQueryError,
    ItemDescription,
    Protocol,
)
from secitem.store import (
    AmbiguousAccountError,
    LoginError,
    PasswordNotTextError,
)

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
    """The whole parser: one small builder per command (or pair of commands)."""
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
    for internet, noun in ((False, "generic"), (True, "internet")):
        _add_parser_add(commands, keychain, noun, internet)
        _add_parser_find(commands, keychain, noun, internet)
        _add_parser_delete(commands, keychain, noun, internet)
        _add_parser_partition_list(commands, keychain, noun, internet)
    _add_parser_list(commands, keychain)
    _cli_doctor.add_parser(commands)
    _cli_demo.add_parser(commands)
    return parser


def _item_command(
    commands: Commands,
    keychain: argparse.ArgumentParser,
    name: str,
    help_text: str,
    internet: bool,
) -> argparse.ArgumentParser:
    """A subparser with the attribute flags of ``security``'s item commands."""
    sub: argparse.ArgumentParser = commands.add_parser(
        name, parents=[keychain], help=help_text, description=help_text
    )
    sub.add_argument("-a", dest="account", metavar="ACCOUNT", type=text_arg, help="account name")
    if internet:
        _internet_options(sub)
    else:
        sub.add_argument(
            "-s", dest="service", metavar="SERVICE", type=text_arg, help="service name"
        )
    sub.add_argument("-l", dest="label", metavar="LABEL", type=text_arg, help="label")
    sub.add_argument(
        "-D", dest="kind", metavar="KIND", type=text_arg, help="kind (the description attribute)"
    )
    sub.add_argument("-j", dest="comment", metavar="COMMENT", type=text_arg, help="comment")
    sub.add_argument(
        "-c",
        dest="creator",
        metavar="CREATOR",
        type=fourcc_arg,
        help="creator (a four-character code)",
    )
    sub.add_argument(
        "-C",
        dest="type_code",
        metavar="TYPE",
        type=fourcc_arg,
        help="type (a four-character code)",
    )
    if not internet:
        sub.add_argument(
            "-G",
            dest="generic",
            metavar="VALUE",
            type=text_arg,
            help="generic attribute (its UTF-8 bytes)",
        )
    sub.set_defaults(internet=internet, generic=None)
    return sub


def _internet_options(sub: argparse.ArgumentParser) -> None:
    """The flags only internet passwords have: server, protocol, port, path, domain, auth."""
    sub.add_argument(
        "-s", dest="server", metavar="SERVER", type=text_arg, help="server (host name)"
    )
    sub.add_argument(
        "-r",
        dest="protocol",
        metavar="PROTOCOL",
        type=enum_arg(Protocol, "protocol"),
        help="protocol: a name (https, ssh, ...) or Apple's code (htps, ssh, ...)",
    )
    sub.add_argument("-P", dest="port", metavar="PORT", type=port_arg, help="port number")
    sub.add_argument("-p", dest="path", metavar="PATH", type=text_arg, help="path (e.g. /login)")
    sub.add_argument(
        "-d", dest="security_domain", metavar="DOMAIN", type=text_arg, help="security domain"
    )
    sub.add_argument(
        "-t",
        dest="authentication_type",
        metavar="AUTHTYPE",
        type=enum_arg(AuthenticationType, "authentication type"),
        help="authentication type: a name (html_form, http_basic, ...) or code (form, ...)",
    )


def _add_parser_add(
    commands: Commands, keychain: argparse.ArgumentParser, noun: str, internet: bool
) -> None:
    add = _item_command(
        commands,
        keychain,
        f"add-{noun}-password",
        f"add {'an' if internet else 'a'} {noun} password; the password is read from a "
        "hidden prompt or stdin",
        internet,
    )
    add.add_argument("-U", dest="update", action="store_true", help="update the item if it exists")
    add.add_argument(
        "-w",
        dest="prompt_flag",
        action="store_true",
        help="accepted for compatibility: the password is always prompted for or read "
        "from stdin, never taken from the command line",
    )
    add.add_argument(
        "-A",
        dest="any_application",
        action="store_true",
        help="INSECURE: any application may read the password without a dialog (the "
        "access list's allow-all form, as security -A); any program running as you can "
        "then read it. File-based keychain only; macOS 10.12+ still asks programs "
        "outside the item's partition list",
    )
    add.add_argument(
        "-T",
        dest="trusted_applications",
        metavar="PATH",
        action="append",
        type=text_arg,
        help="an application that may read the password without a dialog (repeatable; "
        "as security -T, this replaces the default of trusting the creating program; "
        '-T "" trusts no application). File-based keychain only',
    )
    add.set_defaults(handler=_cmd_add)


def _add_parser_find(
    commands: Commands, keychain: argparse.ArgumentParser, noun: str, internet: bool
) -> None:
    find = _item_command(
        commands,
        keychain,
        f"find-{noun}-password",
        f"find the first matching {noun} password and print its attributes",
        internet,
    )
    find.add_argument(
        "-g",
        dest="show_password",
        action="store_true",
        help='also print the password on stderr, as security does (password: "...")',
    )
    find.add_argument(
        "-w", dest="password_only", action="store_true", help="print only the password"
    )
    find.add_argument(
        "--json",
        action="store_true",
        help="print the attributes as one JSON object (never the password)",
    )
    find.set_defaults(handler=_cmd_find)


def _add_parser_delete(
    commands: Commands, keychain: argparse.ArgumentParser, noun: str, internet: bool
) -> None:
    delete = _item_command(
        commands,
        keychain,
        f"delete-{noun}-password",
        f"delete the first matching {noun} password",
        internet,
    )
    delete.set_defaults(handler=_cmd_delete)


def _add_parser_partition_list(
    commands: Commands, keychain: argparse.ArgumentParser, noun: str, internet: bool
) -> None:
    part = _item_command(
        commands,
        keychain,
        f"set-{noun}-password-partition-list",
        f"replace the partition list of every matching {noun} password (macOS "
        "file-based keychain), as security does; the keychain password is read from a "
        "hidden prompt or stdin. Every program whose partition ID is listed then reads "
        "the password without a dialog (unsigned: = every unsigned program you run)",
        internet,
    )
    part.add_argument(
        "-S",
        dest="partitions",
        metavar="LIST",
        required=True,
        type=text_arg,
        help="comma-separated partition IDs, e.g. apple-tool:,teamid:ABCDE12345 "
        "(unsigned:, apple:, cdhash:HEX)",
    )
    part.add_argument(
        "-k",
        dest="keychain_password_given",
        metavar="PASSWORD",
        nargs="?",
        const="",
        help="not accepted: the keychain password is never taken from the command line",
    )
    part.set_defaults(handler=_cmd_set_partition_list)


def _add_parser_list(commands: Commands, keychain: argparse.ArgumentParser) -> None:
    lst = commands.add_parser(
        "list",
        parents=[keychain],
        help="list generic and internet passwords (never their secrets)",
        description="List generic and internet passwords: attributes only, no secret is read.",
    )
    lst.add_argument(
        "--class",
        dest="item_class",
        choices=("all", "generic", "internet"),
        default="all",
        help="which class of password to list (default: all)",
    )
    lst.add_argument(
        "-s", dest="name", metavar="NAME", type=text_arg, help="only this service or server"
    )
    lst.add_argument(
        "-a", dest="account", metavar="ACCOUNT", type=text_arg, help="only this account"
    )
    lst.add_argument("--json", action="store_true", help="print a JSON array")
    lst.set_defaults(handler=_cmd_list)


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


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
    if (
        isinstance(exc, KeychainUnavailableError)
        and sys.platform not in ("darwin", "ios")
        and not os.environ.get("SECITEM_LIBRARY")
    ):
        return (
            "no Apple Security framework on this system; to use the secitem emulator, "
            "export SECITEM_LIBRARY=$(python -m secitem.testing.emulator | tail -n 1) "
            "(or try `secitem demo`)"
        )
    if isinstance(exc, ItemNotFoundError | KeychainUnavailableError):
        return text  # short, like security's own line; `secitem doctor` explains more
    if isinstance(exc, DuplicateItemError) and args.command.startswith("add-"):
        return f"{text}. Pass -U to update the existing item."
    return f"{text}. Hint: {exc.hint}" if exc.hint else text


def _exit_status(exc: KeychainError) -> int:
    """The low byte of the OSStatus, as ``security`` exits (never 0)."""
    return (exc.status & 0xFF) or 1


# --------------------------------------------------------------------------
# Item commands
# --------------------------------------------------------------------------


def _description(args: argparse.Namespace, **extra: Any) -> GenericPassword | InternetPassword:
    common: dict[str, Any] = {
        "account": args.account,
        "label": args.label,
        "description": args.kind,
        "comment": args.comment,
        "creator": args.creator,
        "type_code": args.type_code,
        "access_group": args.access_group,
        **extra,
    }
    if args.internet:
        return InternetPassword(
            server=args.server,
            protocol=args.protocol,
            port=args.port,
            path=args.path,
            security_domain=args.security_domain,
            authentication_type=args.authentication_type,
            **common,
        )
    generic = args.generic.encode("utf-8") if args.generic is not None else None
    return GenericPassword(service=args.service, generic=generic, **common)


def _cmd_add(args: argparse.Namespace) -> int:
    if not (args.server if args.internet else args.service):
        raise UsageError(f"-s {'SERVER' if args.internet else 'SERVICE'} is required")
    access = _access_options(args)
    item = _description(args)
    keychain = open_keychain(args)  # validated before the password is asked for
    secret = _read_secret(f"password for {_name(item)}")
    if args.update:
        keychain.upsert(item, secret, **access)
    else:
        keychain.add(item, secret, **access)
    return 0


def _access_options(args: argparse.Namespace) -> dict[str, Any]:
    """``-A`` / ``-T``: the typed layer's ``any_application`` / ``trusted_applications``.

    As ``security``: ``-T ""`` counts as an access list that trusts nobody,
    and ``-A`` wins over ``-T``.  Checked before the password is asked for.
    """
    flags = [
        flag
        for flag, given in (
            ("-A", args.any_application),
            ("-T", args.trusted_applications is not None),
        )
        if given
    ]
    if not flags:
        return {}
    if args.data_protection:
        raise UsageError(
            f"{' and '.join(flags)} set an access list, which exists only in the macOS "
            "file-based keychain; --data-protection items are shared by access group "
            "instead (--access-group): drop one of them"
        )
    options: dict[str, Any] = {"any_application": bool(args.any_application)}
    if args.trusted_applications is not None:
        paths = [path for path in args.trusted_applications if path]
        for path in paths:
            if not os.path.exists(path):
                raise UsageError(
                    f"-T: no program at {path!r}; give the path of an existing program "
                    '(e.g. -T "$(command -v python3)")'
                )
        options["trusted_applications"] = paths
    return options


def _cmd_set_partition_list(args: argparse.Namespace) -> int:
    if args.keychain_password_given is not None:
        raise UsageError(
            "-k: the keychain password is never taken from the command line (other users "
            "can see it with ps, and shells keep history); type it at the hidden prompt or "
            "pipe it on standard input"
        )
    if args.data_protection:
        raise UsageError(
            "--data-protection: partition lists exist only in the macOS file-based "
            "keychain; drop --data-protection"
        )
    partitions = args.partitions.split(",")
    query = _description(args)
    keychain = open_keychain(args)
    from secitem import _access_list

    try:  # checked before the password is asked for
        _access_list.partition_ids(partitions, "set_partition_list")
    except InvalidQueryError as exc:
        raise UsageError(f"-S: {str(exc).partition(': ')[2]}") from None
    password = _read_keychain_password()
    try:
        changed = keychain.set_partition_list(query, partitions, keychain_password=password)
    except AuthFailedError:
        raise AuthFailedError(
            hint="the keychain password was not accepted (for the login keychain it is "
            "your login password, unless you changed it); no partition list was changed"
        ) from None
    name = keychain_name(keychain)
    for item in changed:
        print_item(item, sys.stdout, name)
    return 0


def _read_keychain_password() -> bytes:
    """The keychain's password: a hidden prompt on a terminal, else standard input.

    An empty password is allowed (a keychain may have one); one trailing
    newline is removed from standard input.
    """
    if stdin_is_terminal():
        try:
            return getpass.getpass("password to unlock the keychain: ").encode("utf-8")
        except EOFError:
            raise UsageError("no keychain password entered") from None
    data = sys.stdin.buffer.read() if sys.stdin is not None else b""
    if data.endswith(b"\r\n"):
        return data[:-2]
    if data.endswith(b"\n"):
        return data[:-1]
    return data


def _cmd_find(args: argparse.Namespace) -> int:
    if args.password_only and args.json:
        raise UsageError("-w prints only the password and --json only the attributes: use one")
    keychain = open_keychain(args)
    # As security does: the secret is read first (where a prompt may appear); if
    # that fails, nothing has been printed.
    item = keychain.get(_description(args), data=args.password_only or args.show_password)
    if args.password_only:
        print(secret_text(item.data or b""))
        return 0
    if args.json:
        print_json(json_row(item))
    else:
        print_item(item, sys.stdout, keychain_name(keychain))
    if args.show_password:
        sys.stdout.flush()  # the attributes first, also when both go to one pipe
        print(f"password: {apple_buffer(item.data or b'')}", file=sys.stderr)
    return 0


def _cmd_delete(args: argparse.Namespace) -> int:
    keychain = open_keychain(args)
    found = keychain.find(_description(args), limit=1)
    if not found:
        raise ItemNotFoundError()
    keychain.delete(found[0])
    print_item(found[0], sys.stdout, keychain_name(keychain))
    print("password has been deleted.")
    return 0


def _read_secret(what: str) -> bytes:
    """The new password: a hidden prompt on a terminal, else all of stdin."""
    if stdin_is_terminal():
        try:
            first = getpass.getpass(f"{what}: ")
            again = getpass.getpass("retype password: ")
        except EOFError:
            raise UsageError("no password entered") from None
        if first != again:
            raise UsageError("the two passwords differ; nothing was stored")
        secret = first.encode("utf-8")
    else:
        data = sys.stdin.buffer.read() if sys.stdin is not None else b""
        if data.endswith(b"\r\n"):
            data = data[:-2]
        elif data.endswith(b"\n"):
            data = data[:-1]
        secret = data
    if not secret:
        raise UsageError(
            "no password: type it at the prompt, or pipe it on standard input "
            '(e.g. printf %s "$PASSWORD" | secitem add-generic-password -s SERVICE -a ACCOUNT)'
        )
    return secret


def _name(item: ItemDescription) -> str:
    fields = item.fields()
    where = fields.get("server") or fields.get("service") or "?"
    account = fields.get("account")
    return f"{account}@{where}" if account else str(where)


# --------------------------------------------------------------------------
# list
# --------------------------------------------------------------------------


def _cmd_list(args: argparse.Namespace) -> int:
    keychain = open_keychain(args)
    queries: list[ItemDescription] = []
    common: dict[str, Any] = {"account": args.account, "access_group": args.access_group}
    if args.item_class in ("all", "generic"):
        queries.append(GenericPassword(service=args.name, **common))
    if args.item_class in ("all", "internet"):
        queries.append(InternetPassword(server=args.name, **common))
    rows = [json_row(item) for query in queries for item in keychain.find(query)]
    if args.json:
        print_json(rows)
        return 0
    if rows:
        table = [("CLASS", "SERVICE/SERVER", "ACCOUNT", "LABEL")]
        for row in rows:
            where = row.get("server") if row["class"] == "internet" else row.get("service")
            table.append(
                (
                    cell(row["class"]),
                    cell(where or ""),
                    cell(row.get("account") or ""),
                    cell(row.get("label") or ""),
                )
            )
        widths = [max(len(r[i]) for r in table) for i in range(3)]
        for r in table:
            print(
                "  ".join(text.ljust(width) for text, width in zip(r[:3], widths, strict=True))
                + "  "
                + r[3]
            )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
