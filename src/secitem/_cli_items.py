"""The item commands, with the flags of Apple's ``security``: ``add-``, ``find-``
and ``delete-*-password`` and ``set-*-password-partition-list``, for generic and
internet passwords.  Each command's own options and its handler, the attribute
flags they share, and reading a password: a hidden prompt on a terminal, else
standard input (one trailing newline removed), never the command line.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from typing import Any

from secitem._cli_args import (
    Commands,
    enum_arg,
    fourcc_arg,
    open_keychain,
    port_arg,
    text_arg,
)
from secitem._cli_common import UsageError, print_json, stdin_is_terminal
from secitem._cli_output import apple_buffer, json_row, keychain_name, print_item, secret_text
from secitem.errors import AuthFailedError, ItemNotFoundError
from secitem.items import (
    AuthenticationType,
    GenericPassword,
    InternetPassword,
    InvalidQueryError,
    ItemDescription,
    Protocol,
)

__all__ = ["add_parsers"]

_Options = Callable[[argparse.ArgumentParser], None]
_Handler = Callable[[argparse.Namespace], int]


def add_parsers(commands: Commands, keychain: argparse.ArgumentParser) -> None:
    """Add the item commands to ``commands`` (an argparse subparsers action).

    For generic, then internet passwords: add, find, delete and
    set-partition-list, each with the shared attribute flags, the options of
    ``keychain`` (a parent parser) and its own.
    """
    for internet, noun in ((False, "generic"), (True, "internet")):
        for name, help_text, options, handler in _commands(noun, internet):
            sub = _item_parser(commands, keychain, name, help_text, internet)
            options(sub)
            sub.set_defaults(handler=handler)


def _commands(noun: str, internet: bool) -> tuple[tuple[str, str, _Options, _Handler], ...]:
    """Each item command for ``noun``: its name, its help, its own options, its handler."""
    return (
        (
            f"add-{noun}-password",
            f"add {'an' if internet else 'a'} {noun} password; the password is read from a "
            "hidden prompt or stdin",
            _add_options,
            _cmd_add,
        ),
        (
            f"find-{noun}-password",
            f"find the first matching {noun} password and print its attributes",
            _find_options,
            _cmd_find,
        ),
        (
            f"delete-{noun}-password",
            f"delete the first matching {noun} password",
            _delete_options,
            _cmd_delete,
        ),
        (
            f"set-{noun}-password-partition-list",
            f"replace the partition list of every matching {noun} password (macOS "
            "file-based keychain), as security does; the keychain password is read from a "
            "hidden prompt or stdin. Every program whose partition ID is listed then reads "
            "the password without a dialog (unsigned: = every unsigned program you run)",
            _partition_list_options,
            _cmd_set_partition_list,
        ),
    )


# -- the attribute flags every item command has ---------------------------------------


#: An attribute flag: (flag, dest, metavar, type=, help).
_Flag = tuple[str, str, str, Callable[[str], Any], str]

_ACCOUNT: _Flag = ("-a", "account", "ACCOUNT", text_arg, "account name")
#: The flags after the service or server, in the order ``--help`` lists them.
_SHARED: tuple[_Flag, ...] = (
    ("-l", "label", "LABEL", text_arg, "label"),
    ("-D", "kind", "KIND", text_arg, "kind (the description attribute)"),
    ("-j", "comment", "COMMENT", text_arg, "comment"),
    ("-c", "creator", "CREATOR", fourcc_arg, "creator (a four-character code)"),
    ("-C", "type_code", "TYPE", fourcc_arg, "type (a four-character code)"),
)
_GENERIC_FLAGS: tuple[_Flag, ...] = (
    _ACCOUNT,
    ("-s", "service", "SERVICE", text_arg, "service name"),
    *_SHARED,
    ("-G", "generic", "VALUE", text_arg, "generic attribute (its UTF-8 bytes)"),
)
#: Internet passwords add server, protocol, port, path, domain and authentication type.
_INTERNET_FLAGS: tuple[_Flag, ...] = (
    _ACCOUNT,
    ("-s", "server", "SERVER", text_arg, "server (host name)"),
    (
        "-r",
        "protocol",
        "PROTOCOL",
        enum_arg(Protocol, "protocol"),
        "protocol: a name (https, ssh, ...) or Apple's code (htps, ssh, ...)",
    ),
    ("-P", "port", "PORT", port_arg, "port number"),
    ("-p", "path", "PATH", text_arg, "path (e.g. /login)"),
    ("-d", "security_domain", "DOMAIN", text_arg, "security domain"),
    (
        "-t",
        "authentication_type",
        "AUTHTYPE",
        enum_arg(AuthenticationType, "authentication type"),
        "authentication type: a name (html_form, http_basic, ...) or code (form, ...)",
    ),
    *_SHARED,
)


def _item_parser(
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
    for flag, dest, metavar, kind, flag_help in _INTERNET_FLAGS if internet else _GENERIC_FLAGS:
        sub.add_argument(flag, dest=dest, metavar=metavar, type=kind, help=flag_help)
    sub.set_defaults(internet=internet, generic=None)
    return sub


def _description(args: argparse.Namespace) -> GenericPassword | InternetPassword:
    """The item the attribute flags describe."""
    common: dict[str, Any] = {
        "account": args.account,
        "label": args.label,
        "description": args.kind,
        "comment": args.comment,
        "creator": args.creator,
        "type_code": args.type_code,
        "access_group": args.access_group,
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


# -- add-*-password ---------------------------------------------------------------------


def _add_options(sub: argparse.ArgumentParser) -> None:
    """-U update, -w (a no-op), -A / -T the access list."""
    sub.add_argument("-U", dest="update", action="store_true", help="update the item if it exists")
    sub.add_argument(
        "-w",
        dest="prompt_flag",
        action="store_true",
        help="accepted for compatibility: the password is always prompted for or read "
        "from stdin, never taken from the command line",
    )
    sub.add_argument(
        "-A",
        dest="any_application",
        action="store_true",
        help="INSECURE: any application may read the password without a dialog (the "
        "access list's allow-all form, as security -A); any program running as you can "
        "then read it. File-based keychain only; macOS 10.12+ still asks programs "
        "outside the item's partition list",
    )
    sub.add_argument(
        "-T",
        dest="trusted_applications",
        metavar="PATH",
        action="append",
        type=text_arg,
        help="an application that may read the password without a dialog (repeatable; "
        "as security -T, this replaces the default of trusting the creating program; "
        '-T "" trusts no application). File-based keychain only',
    )


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


def _read_secret(what: str) -> bytes:
    """The new password: a hidden prompt on a terminal (asked twice), else all of stdin."""
    if stdin_is_terminal():
        first = _hidden(f"{what}: ", "no password entered")
        if _hidden("retype password: ", "no password entered") != first:
            raise UsageError("the two passwords differ; nothing was stored")
        secret = first.encode("utf-8")
    else:
        secret = _stdin_bytes()
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


# -- find-*-password --------------------------------------------------------------------


def _find_options(sub: argparse.ArgumentParser) -> None:
    """-g password on stderr too, -w password only, --json attributes as JSON."""
    sub.add_argument(
        "-g",
        dest="show_password",
        action="store_true",
        help='also print the password on stderr, as security does (password: "...")',
    )
    sub.add_argument(
        "-w", dest="password_only", action="store_true", help="print only the password"
    )
    sub.add_argument(
        "--json",
        action="store_true",
        help="print the attributes as one JSON object (never the password)",
    )


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


# -- delete-*-password ------------------------------------------------------------------


def _delete_options(sub: argparse.ArgumentParser) -> None:
    """delete-*-password has only the attribute flags."""


def _cmd_delete(args: argparse.Namespace) -> int:
    keychain = open_keychain(args)
    found = keychain.find(_description(args), limit=1)
    if not found:
        raise ItemNotFoundError()
    keychain.delete(found[0])
    print_item(found[0], sys.stdout, keychain_name(keychain))
    print("password has been deleted.")
    return 0


# -- set-*-password-partition-list ------------------------------------------------------


def _partition_list_options(sub: argparse.ArgumentParser) -> None:
    """-S the new list; -k only to refuse a keychain password on the command line."""
    sub.add_argument(
        "-S",
        dest="partitions",
        metavar="LIST",
        required=True,
        type=text_arg,
        help="comma-separated partition IDs, e.g. apple-tool:,teamid:ABCDE12345 "
        "(unsigned:, apple:, cdhash:HEX)",
    )
    sub.add_argument(
        "-k",
        dest="keychain_password_given",
        metavar="PASSWORD",
        nargs="?",
        const="",
        help="not accepted: the keychain password is never taken from the command line",
    )


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
        prompt = "password to unlock the keychain: "
        return _hidden(prompt, "no keychain password entered").encode("utf-8")
    return _stdin_bytes()


# -- passwords: a hidden prompt, or standard input --------------------------------------


def _hidden(prompt: str, missing: str) -> str:
    """One answer at a hidden prompt; end of input there is a usage error, ``missing``."""
    try:
        return getpass.getpass(prompt)
    except EOFError:
        raise UsageError(missing) from None


def _stdin_bytes() -> bytes:
    """All of standard input, with one trailing newline (LF or CRLF) removed."""
    data = sys.stdin.buffer.read() if sys.stdin is not None else b""
    if data.endswith(b"\r\n"):
        return data[:-2]
    if data.endswith(b"\n"):
        return data[:-1]
    return data
