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
import datetime as _dt
import enum
import getpass
import json
import os
import platform as _platform
import sys
import uuid
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO, TypeVar

from secitem.errors import (
    AuthFailedError,
    DuplicateItemError,
    InteractionNotAllowedError,
    ItemNotFoundError,
    KeychainError,
    KeychainUnavailableError,
    SecitemError,
)
from secitem.items import (
    Accessible,
    AuthenticationType,
    GenericPassword,
    InternetPassword,
    InvalidQueryError,
    Item,
    ItemDescription,
    Protocol,
    Synchronizable,
    fourcc,
)
from secitem.keychain import Keychain, current_platform
from secitem.store import (
    AmbiguousAccountError,
    Credential,
    CredentialStore,
    LoginError,
    PasswordNotTextError,
    PromptReason,
)

__all__ = ["main"]

PROG = "secitem"

#: Exit status of a usage error (bad flags or values), as argparse uses.
EXIT_USAGE = 2

_E = TypeVar("_E", bound=enum.Enum)


class UsageError(SecitemError):
    """Bad command-line input: reported in one line, exit status 2."""


# --------------------------------------------------------------------------
# Argument parsing
# --------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
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


def _unexpected(extras: Sequence[str], command: str) -> str:
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
_COMMANDS = (
    frozenset(
        f"{verb}-{noun}-password"
        for verb in ("add", "find", "delete")
        for noun in ("generic", "internet")
    )
    | frozenset(f"set-{noun}-password-partition-list" for noun in ("generic", "internet"))
    | {"list", "doctor", "demo"}
)


def _refuse_value_of_a_switch(words: Sequence[str]) -> None:
    """A switch given a value is an error naming the switch, never the value.

    ``-U=VALUE``, and ``-wVALUE`` (how Apple's ``security`` takes a password:
    ``-wPASSWORD``).  argparse would otherwise read the characters after the
    switch as more clustered options, so ``-ws3cret`` became ``-w -s 3cret``
    and stored most of the password as the item's service.  Only a cluster
    made of switches alone (``-UA``) stays a cluster.
    """
    command = next((w for w in words if not w.startswith("-")), "")
    if command not in _COMMANDS:  # an unknown word may be a password: never shown
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


def _enum_arg(cls: type[_E], flag: str) -> Callable[[str], _E]:
    """An argparse ``type=``: a member name (any case) or its four-character code."""

    def parse(text: str) -> _E:
        for member in cls:
            if text.lower() == member.name.lower() or text == str(member.value).rstrip():
                return member
        names = ", ".join(m.name.lower() for m in cls)
        raise argparse.ArgumentTypeError(f"not a {flag} value; use one of {names}")

    parse.__name__ = cls.__name__
    return parse


def _text(text: str) -> str:
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


def _port(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError("not a port number (0..65535)") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("out of range: a port is 0..65535")
    return value


def _fourcc(text: str) -> int:
    """An argparse ``type=`` for creator and type codes: exactly four characters."""
    try:
        return fourcc(text)
    except InvalidQueryError:
        raise argparse.ArgumentTypeError(
            "not a four-character code (exactly four characters, e.g. aapl; "
            "pad a short one with spaces: 'ftp ')"
        ) from None


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Apple Keychain Services from the command line (secitem).",
        epilog="Exit status 44 means the item was not found, as with Apple's security tool.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"{PROG} {_version()}",
        help="print the version of secitem and exit",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    keychain = _Parser(add_help=False)
    keychain.add_argument(
        "--data-protection",
        action="store_true",
        help="macOS: use only the data-protection keychain (needs a signed, entitled process)",
    )
    keychain.add_argument(
        "--access-group", metavar="GROUP", type=_text, help="keychain access group"
    )

    def item_command(name: str, help_text: str, internet: bool) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[keychain], help=help_text, description=help_text)
        sub.add_argument("-a", dest="account", metavar="ACCOUNT", type=_text, help="account name")
        if internet:
            sub.add_argument(
                "-s", dest="server", metavar="SERVER", type=_text, help="server (host name)"
            )
            sub.add_argument(
                "-r",
                dest="protocol",
                metavar="PROTOCOL",
                type=_enum_arg(Protocol, "protocol"),
                help="protocol: a name (https, ssh, ...) or Apple's code (htps, ssh, ...)",
            )
            sub.add_argument("-P", dest="port", metavar="PORT", type=_port, help="port number")
            sub.add_argument(
                "-p", dest="path", metavar="PATH", type=_text, help="path (e.g. /login)"
            )
            sub.add_argument(
                "-d", dest="security_domain", metavar="DOMAIN", type=_text, help="security domain"
            )
            sub.add_argument(
                "-t",
                dest="authentication_type",
                metavar="AUTHTYPE",
                type=_enum_arg(AuthenticationType, "authentication type"),
                help="authentication type: a name (html_form, http_basic, ...) or code (form, ...)",
            )
        else:
            sub.add_argument(
                "-s", dest="service", metavar="SERVICE", type=_text, help="service name"
            )
        sub.add_argument("-l", dest="label", metavar="LABEL", type=_text, help="label")
        sub.add_argument(
            "-D", dest="kind", metavar="KIND", type=_text, help="kind (the description attribute)"
        )
        sub.add_argument("-j", dest="comment", metavar="COMMENT", type=_text, help="comment")
        sub.add_argument(
            "-c",
            dest="creator",
            metavar="CREATOR",
            type=_fourcc,
            help="creator (a four-character code)",
        )
        sub.add_argument(
            "-C",
            dest="type_code",
            metavar="TYPE",
            type=_fourcc,
            help="type (a four-character code)",
        )
        if not internet:
            sub.add_argument(
                "-G",
                dest="generic",
                metavar="VALUE",
                type=_text,
                help="generic attribute (its UTF-8 bytes)",
            )
        sub.set_defaults(internet=internet, generic=None)
        return sub

    for internet, noun in ((False, "generic"), (True, "internet")):
        add = item_command(
            f"add-{noun}-password",
            f"add {'an' if internet else 'a'} {noun} password; the password is read from a "
            "hidden prompt or stdin",
            internet,
        )
        add.add_argument(
            "-U", dest="update", action="store_true", help="update the item if it exists"
        )
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
            type=_text,
            help="an application that may read the password without a dialog (repeatable; "
            "as security -T, this replaces the default of trusting the creating program; "
            '-T "" trusts no application). File-based keychain only',
        )
        add.set_defaults(handler=_cmd_add)

        find = item_command(
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

        delete = item_command(
            f"delete-{noun}-password", f"delete the first matching {noun} password", internet
        )
        delete.set_defaults(handler=_cmd_delete)

        part = item_command(
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
            type=_text,
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
        "-s", dest="name", metavar="NAME", type=_text, help="only this service or server"
    )
    lst.add_argument("-a", dest="account", metavar="ACCOUNT", type=_text, help="only this account")
    lst.add_argument("--json", action="store_true", help="print a JSON array")
    lst.set_defaults(handler=_cmd_list)

    doctor = commands.add_parser(
        "doctor",
        help="show which library is loaded and which keychains work here, and why not",
        description="Report the loaded Security library, the platform and profile, the "
        "interpreter's code signature, the session (can a dialog appear?), whether each "
        "keychain is usable, and what will bite here, each with its fix.",
    )
    doctor.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (stable keys, documented in docs/cli.md)",
    )
    doctor.set_defaults(handler=_cmd_doctor)

    demo = commands.add_parser(
        "demo",
        help="walk through the credential flow against a simulated server",
        description="Sign in, sign in again silently, recover from a password changed "
        "elsewhere, log out: CredentialStore.login against a simulated server.  Without "
        "Apple's frameworks it runs on the secitem emulator (built if needed).",
    )
    demo.add_argument(
        "--auto", action="store_true", help="play the user's part too (no input needed)"
    )
    demo.set_defaults(handler=_cmd_demo)
    return parser


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _build_parser()
    try:
        words = list(sys.argv[1:] if argv is None else argv)
        _refuse_value_of_a_switch(words)
        args, extras = parser.parse_known_args(words)
        if extras:
            raise UsageError(_unexpected(extras, getattr(args, "command", None) or ""))
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
    print(f"{PROG}: {_escape_unprintable(' '.join(line.split()))}", file=sys.stderr)


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


def _keychain(args: argparse.Namespace) -> Keychain:
    return Keychain(data_protection=True if args.data_protection else None)


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
    keychain = _keychain(args)  # validated before the password is asked for
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
    keychain = _keychain(args)
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
    name = _keychain_name(keychain)
    for item in changed:
        _print_item(item, sys.stdout, name)
    return 0


def _read_keychain_password() -> bytes:
    """The keychain's password: a hidden prompt on a terminal, else standard input.

    An empty password is allowed (a keychain may have one); one trailing
    newline is removed from standard input.
    """
    if sys.stdin is not None and sys.stdin.isatty():
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
    keychain = _keychain(args)
    # As security does: the secret is read first (where a prompt may appear); if
    # that fails, nothing has been printed.
    item = keychain.get(_description(args), data=args.password_only or args.show_password)
    if args.password_only:
        print(_secret_text(item.data or b""))
        return 0
    if args.json:
        print(_escape_unprintable(json.dumps(_row(item), indent=2, ensure_ascii=False), keep="\n"))
    else:
        _print_item(item, sys.stdout, _keychain_name(keychain))
    if args.show_password:
        sys.stdout.flush()  # the attributes first, also when both go to one pipe
        print(f"password: {apple_buffer(item.data or b'')}", file=sys.stderr)
    return 0


def _cmd_delete(args: argparse.Namespace) -> int:
    keychain = _keychain(args)
    found = keychain.find(_description(args), limit=1)
    if not found:
        raise ItemNotFoundError()
    keychain.delete(found[0])
    _print_item(found[0], sys.stdout, _keychain_name(keychain))
    print("password has been deleted.")
    return 0


def _read_secret(what: str) -> bytes:
    """The new password: a hidden prompt on a terminal, else all of stdin."""
    if sys.stdin is not None and sys.stdin.isatty():
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


def _secret_text(data: bytes) -> str:
    """The password as ``security -w`` prints it.

    The bytes themselves when every one is printable ASCII (0x20..0x7E, as C's
    ``isprint``); otherwise the whole password as lowercase hex, two digits a
    byte, so a password with a newline, a tab or any non-ASCII character
    (UTF-8 included) comes out as hex, exactly as Apple's tool prints it.
    """
    if all(0x20 <= byte <= 0x7E for byte in data):
        return data.decode("ascii")
    return data.hex()


def _name(item: ItemDescription) -> str:
    fields = item.fields()
    where = fields.get("server") or fields.get("service") or "?"
    account = fields.get("account")
    return f"{account}@{where}" if account else str(where)


# -- the attribute block of `security find-*-password` ------------------------------
#
# Facts from Apple's SecurityTool sources (SecurityTool/macOS/keychain_utilities.c:
# print_keychain_item_attributes, print_buffer, print_uint32) and the schema the
# file-based keychain stores (Schema.m4): every attribute of the class is printed,
# in ascending attribute ID (label = 7 and alias = 8 first, then the four-character
# codes in order), with its stored format; an attribute the item does not have
# prints as <NULL>.

#: (attribute ID printed, format, key of the SecItem attribute dictionary)
_GENP_SCHEMA: tuple[tuple[int | str, str, str], ...] = (
    (7, "blob", "labl"),
    (8, "blob", "alis"),
    ("acct", "blob", "acct"),
    ("cdat", "timedate", "cdat"),
    ("crtr", "uint32", "crtr"),
    ("cusi", "sint32", "cusi"),
    ("desc", "blob", "desc"),
    ("gena", "blob", "gena"),
    ("icmt", "blob", "icmt"),
    ("invi", "sint32", "invi"),
    ("mdat", "timedate", "mdat"),
    ("nega", "sint32", "nega"),
    ("prot", "blob", "prot"),
    ("scrp", "sint32", "scrp"),
    ("svce", "blob", "svce"),
    ("type", "uint32", "type"),
)
_INET_SCHEMA: tuple[tuple[int | str, str, str], ...] = (
    (7, "blob", "labl"),
    (8, "blob", "alis"),
    ("acct", "blob", "acct"),
    ("atyp", "blob", "atyp"),
    ("cdat", "timedate", "cdat"),
    ("crtr", "uint32", "crtr"),
    ("cusi", "sint32", "cusi"),
    ("desc", "blob", "desc"),
    ("icmt", "blob", "icmt"),
    ("invi", "sint32", "invi"),
    ("mdat", "timedate", "mdat"),
    ("nega", "sint32", "nega"),
    ("path", "blob", "path"),
    ("port", "uint32", "port"),
    ("prot", "blob", "prot"),
    ("ptcl", "uint32", "ptcl"),
    ("scrp", "sint32", "scrp"),
    ("sdmn", "blob", "sdmn"),
    ("srvr", "blob", "srvr"),
    ("type", "uint32", "type"),
)

#: The ``version:`` line: the key blob version of a ``.keychain-db`` keychain
#: (512, macOS 10.12 and later).  secitem cannot ask the keychain for it.
KEYCHAIN_VERSION = 512


def apple_buffer(data: bytes) -> str:
    """``data`` as Apple's ``print_buffer`` writes it (``security``'s one value encoder).

    A byte is plain when it is printable ASCII other than backslash.  If any
    byte is not plain: ``0x`` and every byte as two uppercase hex digits, then
    one space (two when plain bytes follow).  If any byte is plain: the bytes
    in double quotes, each byte that is not plain as a backslash and three
    octal digits (``"`` is not escaped).  Empty data gives an empty string.
    The result is printable ASCII: no byte of an item reaches the terminal.
    """
    plain = [0x20 <= byte <= 0x7E and byte != 0x5C for byte in data]
    out = ""
    if not all(plain):
        out = "0x" + data.hex().upper() + (" " if any(plain) else "") + " "
    if any(plain):
        text = "".join(
            chr(byte) if ok else f"\\{byte:03o}" for byte, ok in zip(data, plain, strict=True)
        )
        out += f'"{text}"'
    return out


def _keychain_name(keychain: Keychain) -> str:
    """What the ``keychain:`` line names.

    ``security`` prints the path of the keychain file the item came from;
    that question belongs to the deprecated SecKeychain API, which secitem
    does not bind.  So the line names where the search ran: the emulator's
    store file (``SECSIM_STORE``), the data-protection keychain, or the
    file-based keychains of the default search list.
    """
    store = os.environ.get("SECSIM_STORE")
    if store and os.environ.get("SECITEM_LIBRARY"):
        return store
    if keychain.data_protection:
        return "<data-protection keychain>"
    return "<default search list>"


def _print_item(item: Item[Any], out: TextIO, keychain: str) -> None:
    """Print an item as ``security find-*-password`` prints it (without ``-w``)."""
    code = str(item.item_class.value)
    schema = _INET_SCHEMA if code == "inet" else _GENP_SCHEMA
    lines = [
        f"keychain: {apple_buffer(os.fsencode(keychain))}",
        f"version: {KEYCHAIN_VERSION}",
        f"class: {apple_buffer(code.encode('ascii'))}",
        "attributes:",
    ]
    for attribute, form, key in schema:
        name = _uint32(attribute if isinstance(attribute, int) else _code_bytes(attribute))
        value = item.raw.get(key)
        shown = "<NULL>" if value is None else apple_buffer(_value_bytes(value, form, key))
        lines.append(f"    {name}<{form}>={shown}")
    print("\n".join(lines), file=out)


def _uint32(value: int | bytes) -> str:
    """Apple's ``print_uint32``: the four big-endian bytes through ``print_buffer``."""
    if isinstance(value, int):
        value = (value & 0xFFFFFFFF).to_bytes(4, "big")
    return apple_buffer(value)


def _code_bytes(code: str) -> bytes:
    """A four-character code's bytes (Mac OS Roman, as FourCharCodes are)."""
    try:
        return code.encode("mac_roman")
    except UnicodeEncodeError:
        return code.encode("utf-8")


def _value_bytes(value: object, form: str, key: str) -> bytes:
    """The bytes the file-based keychain stores for one attribute value."""
    if form == "timedate" and isinstance(value, _dt.datetime):
        # CSSM time: "YYYYMMDDhhmmssZ" and its terminating NUL, in UTC.
        return value.astimezone(_dt.UTC).strftime("%Y%m%d%H%M%SZ").encode("ascii") + b"\0"
    if isinstance(value, bool | int):
        return (int(value) & 0xFFFFFFFF).to_bytes(4, "big")
    if isinstance(value, str):
        # A four-character code given as text (ptcl 'htps', atyp 'form') is its four bytes.
        if form in ("uint32", "sint32") or key == "atyp":
            code = _code_bytes(value)
            if len(code) == 4:
                return code
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat().encode("ascii")
    return str(value).encode("utf-8", "surrogatepass")


def _escape_unprintable(text: str, keep: str = "") -> str:
    """Escape every character that is not printable (controls, C1, bidi, line and
    paragraph separators) as ``\\uXXXX``, except those in ``keep``.

    Used on JSON text, where the escape is valid, and on table cells, so an
    attribute holding escape sequences or newlines cannot clear the screen or
    forge a row.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in keep else _escape_char(ch) for ch in text)


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code > 0xFFFF:  # JSON spells these as a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _cell(value: object) -> str:
    """A table cell: the text with backslashes doubled and unprintables escaped."""
    return _escape_unprintable(str(value).replace("\\", "\\\\"))


# --------------------------------------------------------------------------
# list
# --------------------------------------------------------------------------


def _cmd_list(args: argparse.Namespace) -> int:
    keychain = _keychain(args)
    queries: list[ItemDescription] = []
    common: dict[str, Any] = {"account": args.account, "access_group": args.access_group}
    if args.item_class in ("all", "generic"):
        queries.append(GenericPassword(service=args.name, **common))
    if args.item_class in ("all", "internet"):
        queries.append(InternetPassword(server=args.name, **common))
    rows = [_row(item) for query in queries for item in keychain.find(query)]
    if args.json:
        # Raw newlines in the output are the indentation's: strings have theirs escaped.
        print(_escape_unprintable(json.dumps(rows, indent=2, ensure_ascii=False), keep="\n"))
        return 0
    if rows:
        table = [("CLASS", "SERVICE/SERVER", "ACCOUNT", "LABEL")]
        for row in rows:
            where = row.get("server") if row["class"] == "internet" else row.get("service")
            table.append(
                (
                    _cell(row["class"]),
                    _cell(where or ""),
                    _cell(row.get("account") or ""),
                    _cell(row.get("label") or ""),
                )
            )
        widths = [max(len(r[i]) for r in table) for i in range(3)]
        for r in table:
            print(
                "  ".join(cell.ljust(width) for cell, width in zip(r[:3], widths, strict=True))
                + "  "
                + r[3]
            )
    return 0


def _row(item: Item[Any]) -> dict[str, object]:
    """One item as JSON-ready values: attributes and dates, never the secret."""
    kind = "internet" if isinstance(item.attributes, InternetPassword) else "generic"
    row: dict[str, object] = {"class": kind}
    for name, value in item.attributes.fields().items():
        row[name] = _json_value(value)
    if item.creation_date is not None:
        row["created"] = item.creation_date.isoformat()
    if item.modification_date is not None:
        row["modified"] = item.modification_date.isoformat()
    return row


def _json_value(value: object) -> object:
    if isinstance(value, Synchronizable):
        return value.value if isinstance(value.value, bool) else "any"
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


# --------------------------------------------------------------------------
# doctor
# --------------------------------------------------------------------------


def _cmd_doctor(args: argparse.Namespace) -> int:
    report = _doctor_report()
    if args.json:
        text = json.dumps(report, indent=2, ensure_ascii=False)
        print(_escape_unprintable(text, keep="\n"))
    else:
        _print_doctor(report)
    return 0 if report["library"]["loaded"] else 1


#: The problems doctor can report, by their stable ``id`` (docs/cli.md).
_PROBLEMS: dict[str, tuple[str, str]] = {
    "no-library": (
        "no Security library could be loaded",
        "on macOS this should not happen (report it); elsewhere run `secitem demo`, or "
        "export SECITEM_LIBRARY=$(python -m secitem.testing.emulator | tail -n 1)",
    ),
    "unsigned-interpreter": (
        "this interpreter is unsigned: items it creates trust it by path, so after a Python "
        'upgrade (a new path) every read asks again ("python wants to use your confidential '
        'information"), and its partition ID unsigned: is shared by every unsigned program',
        "use a stable, signed interpreter (python.org's installer is signed by a team), or "
        "create items with trusted_applications=[...] listing each interpreter path "
        "(secitem add-*-password -T PATH); see docs/real-macs.md",
    ),
    "adhoc-interpreter": (
        "this interpreter is ad-hoc signed (uv, python-build-standalone, Homebrew and "
        "self-built Pythons): its partition ID cdhash:... changes with every build, so each "
        "upgrade or new venv is asked again, even for items created with any_application",
        "use a team-signed interpreter (python.org's installer) or ship your code in an app "
        "signed with your team ID; for an existing item, `secitem "
        "set-generic-password-partition-list -S teamid:TEAM` names who may read it without "
        "asking; see docs/real-macs.md",
    ),
    "no-data-protection": (
        "the data-protection keychain (access groups, iCloud Keychain, access_control / Touch "
        "ID) needs an app signed by a team with a keychain-access-groups entitlement; this "
        "interpreter has none",
        "use the file-based keychain (Keychain() and CredentialStore() do by default), or run "
        "your code inside a signed app bundle with that entitlement (py2app, Briefcase)",
    ),
    "no-ui": (
        "no dialog can appear in this session (SSH, or no window server): a read that needs "
        "the access dialog fails with errSecInteractionNotAllowed (-25308) and a locked "
        "keychain cannot be unlocked by a dialog",
        "unlock first (`security unlock-keychain ~/Library/Keychains/login.keychain-db`), "
        "create the items from the program that reads them (or trust it with -T), and pass "
        "timeout= so no call can hang; or run from the logged-in desktop session",
    ),
    "keychain-locked": (
        "the keychain is locked (errSecInteractionNotAllowed, -25308)",
        "unlock it (`security unlock-keychain ~/Library/Keychains/login.keychain-db`, or log "
        "in at the desktop / unlock the device) and run secitem doctor again",
    ),
}


def _problem(ident: str) -> dict[str, str]:
    what, fix = _PROBLEMS[ident]
    return {"id": ident, "what": what, "fix": fix}


def _doctor_report() -> dict[str, Any]:
    """Everything doctor knows, as JSON-ready values with stable keys (docs/cli.md)."""
    from secitem import _runtime

    override = os.environ.get("SECITEM_LIBRARY")
    report: dict[str, Any] = {
        "secitem": _version(),
        "python": _platform.python_version(),
        "executable": sys.executable,
        "os": sys.platform,
        "library": {"loaded": False, "paths": [], "kind": None, "error": None},
        "platform": None,
        "emulator": None,
        "interpreter": None,
        "session": _session_facts(),
        "file_based_keychain": None,
        "data_protection_keychain": None,
        "problems": [],
    }
    problems: list[dict[str, str]] = report["problems"]
    try:
        libraries = _runtime.load()
    except KeychainUnavailableError as exc:
        report["library"]["error"] = str(exc)
        problems.append(_problem("no-library"))
        return report
    kind = "apple"
    if override:
        kind = "emulator" if _is_emulator(override) else "other"
    report["library"] = {
        "loaded": True,
        "paths": list(libraries.paths),
        "kind": kind,
        "error": None,
    }
    plat = current_platform()
    report["platform"] = plat
    if kind == "emulator":
        profile = os.environ.get("SECSIM_PROFILE", "macos")
        groups = [g for g in os.environ.get("SECSIM_ACCESS_GROUPS", "").split(",") if g]
        report["emulator"] = {
            "profile": profile,
            "access_groups": groups,
            "store": os.environ.get("SECSIM_STORE") or None,
        }
    session = report["session"]
    session.update(_session_ui())
    signature = _signature()
    report["interpreter"] = signature
    if plat == "macos":
        if signature["signature"] == "unsigned":
            problems.append(_problem("unsigned-interpreter"))
        elif signature["signature"] == "adhoc":
            problems.append(_problem("adhoc-interpreter"))
        report["file_based_keychain"] = _probe_file_based()
    report["data_protection_keychain"] = _probe_data_protection(plat)
    if plat == "macos" and not report["data_protection_keychain"]["usable"]:
        problems.append(_problem("no-data-protection"))
    if session["can_show_ui"] is False or session["ssh"]:
        problems.append(_problem("no-ui"))
    probes = (report["file_based_keychain"], report["data_protection_keychain"])
    if any(probe and probe["locked"] for probe in probes):
        problems.append(_problem("keychain-locked"))
    return report


def _print_doctor(report: dict[str, Any]) -> None:
    """The text form: the lines doctor always printed, then the signature and the problems."""
    print(f"secitem {report['secitem']}, Python {report['python']} on {report['os']}")
    library = report["library"]
    if not library["loaded"]:
        print(f"library: none loaded. {library['error']}")
        if report["os"] not in ("darwin", "ios") and not os.environ.get("SECITEM_LIBRARY"):
            print(
                "fix: this is not macOS or iOS; to try secitem here run `secitem demo`, or "
                "export SECITEM_LIBRARY=$(python -m secitem.testing.emulator | tail -n 1)"
            )
        return
    paths = ", ".join(library["paths"])
    if library["kind"] == "apple":
        print(f"library: {paths} (Apple's frameworks)")
    else:
        what = (
            "the secitem emulator"
            if library["kind"] == "emulator"
            else "a library with Apple's C ABI"
        )
        print(f"library: {paths} ({what}, from SECITEM_LIBRARY)")
    emulator = report["emulator"]
    if emulator is not None:
        groups = ", ".join(emulator["access_groups"])
        if not groups and emulator["profile"] == "ios":
            groups = "the profile's default app group"
        store = emulator["store"]
        print(
            f"platform: {report['platform']} (emulator profile {emulator['profile']!r}; "
            f"access groups: {groups or 'none, like an unsigned interpreter'}; "
            f"items {'in ' + store if store else 'in memory, for this process only'})"
        )
    else:
        print(f"platform: {report['platform']}")
    print(f"interpreter: {_cell(_describe_signature(report['interpreter']))}")
    print(f"session: {_describe_session(report['session'])}")
    if report["file_based_keychain"] is not None:
        print(f"file-based keychain: {_cell(report['file_based_keychain']['detail'])}")
    print(f"data-protection keychain: {_cell(report['data_protection_keychain']['detail'])}")
    problems = report["problems"]
    if not problems:
        print("what will bite here: nothing found")
    for problem in problems:
        print(f"problem ({problem['id']}): {problem['what']}")
        print(f"  fix: {problem['fix']}")


def _signature() -> dict[str, Any]:
    """The interpreter's code signature (SecCodeCopySelf + SecCodeCopySigningInformation).

    ``signature`` is ``unsigned`` (no ``identifier``), ``adhoc``
    (kSecCodeSignatureAdhoc), ``apple-tool`` / ``apple`` (a platform
    binary), ``team`` (a team identifier), ``signed`` (another signature,
    e.g. a self-signed certificate), or ``unknown`` (the calls failed).
    The partition ID is the one securityd gives such a program (facts 2.4).
    """
    from secitem import _secaccess as S

    out: dict[str, Any] = {
        "signature": "unknown",
        "path": None,
        "identifier": None,
        "team_id": None,
        "partition_id": None,
        "hardened_runtime": False,
        "keychain_access_groups": [],
        "error": None,
    }
    try:  # keys: kSecCodeInfoMainExecutable, ...Identifier, ...Flags, ... (facts 1.5)
        with S.SecCodeCopySelf() as code:
            info = S.SecCodeCopySigningInformation(code, S.kSecCSSigningInformation)
    except KeychainError as exc:
        out["error"] = str(exc)
        return out
    try:
        main = info.get("main-executable")
        out["path"] = str(main) if main is not None else None
        identifier = info.get("identifier")
        flags = info.get("flags")
        flags = int(flags) & 0xFFFFFFFF if isinstance(flags, int) else 0
        team = info.get("teamid")
        unique = info.get("unique")
        entitlements = info.get("entitlements-dict")
        platform_binary = info.get("platform-identifier") is not None
    finally:
        _close_values(info)
    if isinstance(entitlements, dict):
        groups = entitlements.get("keychain-access-groups")
        if isinstance(groups, list):
            out["keychain_access_groups"] = [str(g) for g in groups]
    cdhash = f"cdhash:{unique.hex()}" if isinstance(unique, bytes) else "cdhash:"
    if not isinstance(identifier, str):
        out.update(signature="unsigned", partition_id="unsigned:")
        return out
    out["identifier"] = identifier
    out["hardened_runtime"] = bool(flags & S.kSecCodeSignatureRuntime)
    if isinstance(team, str) and team:
        out["team_id"] = team
    if flags & S.kSecCodeSignatureAdhoc:
        out.update(signature="adhoc", partition_id=cdhash)
    elif platform_binary:
        tool = identifier == "com.apple.security"
        out.update(
            signature="apple-tool" if tool else "apple",
            partition_id="apple-tool:" if tool else "apple:",
        )
    elif out["team_id"]:
        out.update(signature="team", partition_id=f"teamid:{out['team_id']}")
    else:
        out.update(signature="signed", partition_id=cdhash)
    return out


def _close_values(info: dict[Any, Any]) -> None:
    for value in info.values():
        close = getattr(value, "close", None)
        if callable(close):
            close()
        elif isinstance(value, list):
            for item in value:
                if callable(getattr(item, "close", None)):
                    item.close()


def _describe_signature(sig: dict[str, Any]) -> str:
    path = sig["path"] or sys.executable
    kind = sig["signature"]
    if kind == "unknown":
        return f"{path}: signature unknown ({sig['error']})"
    text = {
        "unsigned": "unsigned",
        "adhoc": "ad-hoc signed (no team; a new build is a new program)",
        "apple-tool": "signed by Apple (the security tool)",
        "apple": "signed by Apple",
        "team": f"signed by team {sig['team_id']}",
        "signed": "signed without a team (e.g. a self-signed certificate)",
    }[kind]
    extra = [f"partition ID {sig['partition_id']}"]
    if sig["identifier"]:
        extra.insert(0, f"identifier {sig['identifier']}")
    if sig["keychain_access_groups"]:
        extra.append("keychain-access-groups " + ", ".join(sig["keychain_access_groups"]))
    return f"{path}: {text} ({'; '.join(extra)})"


def _session_facts() -> dict[str, Any]:
    return {
        "terminal": sys.stdin is not None and sys.stdin.isatty(),
        "ssh": bool(os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY")),
        "ci": bool(os.environ.get("CI")),
        "graphic_access": None,
        "remote": None,
        "can_show_ui": None,
    }


def _session_ui() -> dict[str, Any]:
    """What SessionGetInfo says of this security session (None where it cannot be asked)."""
    from secitem import _secaccess as S

    try:
        _sid, bits = S.SessionGetInfo()
    except KeychainError:
        return {}
    graphic = bool(bits & S.sessionHasGraphicAccess)
    return {
        "graphic_access": graphic,
        "remote": bool(bits & S.sessionIsRemote),
        "can_show_ui": graphic,
    }


def _describe_session(session: dict[str, Any]) -> str:
    parts = ["terminal" if session["terminal"] else "no terminal"]
    if session["ssh"]:
        parts.append(
            "SSH session: on macOS the login keychain may be locked here "
            "(`security unlock-keychain` first) and no authentication dialog can appear"
        )
    if session["ci"]:
        parts.append("CI")
    if session["can_show_ui"] is True:
        parts.append("dialogs can appear (SessionGetInfo: graphic access)")
    elif session["can_show_ui"] is False:
        parts.append("no dialog can appear (SessionGetInfo: no graphic access)")
    return "; ".join(parts)


_PROBE_SERVICE = "org.secitem.doctor"


def _probe_file_based() -> dict[str, Any]:
    """A search of the file-based keychain (no secret read, so no dialog)."""
    try:
        Keychain().find(GenericPassword(service=_PROBE_SERVICE, account="probe"), limit=1)
    except KeychainError as exc:
        detail = f"not usable: {exc}. {exc.hint or ''}".strip()
        locked = isinstance(exc, InteractionNotAllowedError)
        return {"usable": False, "locked": locked, "detail": detail}
    return {"usable": True, "locked": False, "detail": "usable (a search ran)"}


def _probe_data_protection(plat: str) -> dict[str, Any]:
    """Add and delete a test item that needs the device unlocked (as most items do)."""
    keychain = Keychain(data_protection=True)
    probe = GenericPassword(
        service=_PROBE_SERVICE,
        account=f"probe-{uuid.uuid4().hex}",
        accessible=Accessible.WHEN_UNLOCKED_THIS_DEVICE_ONLY,
    )
    try:
        keychain.add(probe, b"probe")
    except KeychainError as exc:
        reason = f"not usable: {exc}."
        if exc.hint:
            reason += f" {exc.hint}"
        if plat == "macos" and not isinstance(exc, InteractionNotAllowedError):
            reason += " CredentialStore and Keychain work without it (file-based keychain)."
        locked = isinstance(exc, InteractionNotAllowedError)
        return {"usable": False, "locked": locked, "detail": reason}
    try:
        keychain.delete(probe)
    except KeychainError as exc:
        detail = f"usable, but the test item {probe.account!r} could not be deleted: {exc}"
        return {"usable": True, "locked": False, "detail": detail}
    return {"usable": True, "locked": False, "detail": "usable (a test item was added and deleted)"}


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("secitem")
    except Exception:  # not installed (running from a source tree)
        return "(version unknown)"


def _is_emulator(path: str) -> bool:
    import ctypes

    try:
        return hasattr(ctypes.CDLL(path), "secsim_live_objects")
    except OSError:
        return False


# --------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------

_DEMO_SERVER = "demo.secitem.invalid"
_DEMO_ACCOUNT = "alice"
_DEMO_PASSWORDS = ("wonderland", "looking-glass")


def _cmd_demo(args: argparse.Namespace) -> int:
    say = _Narrator(sys.stdout)
    override = os.environ.get("SECITEM_LIBRARY")
    if override:
        kind = "the secitem emulator" if _is_emulator(override) else "a library with Apple's C ABI"
        say(f"secitem demo: using {kind} named by SECITEM_LIBRARY ({override}).")
    elif sys.platform in ("darwin", "ios"):
        say(
            f"secitem demo: using your keychain (an internet password for {_DEMO_SERVER}, "
            "deleted again at the end)."
        )
    else:
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
        say(
            f"3. The password is changed on another device; the server now wants "
            f"{server.password!r}."
        )
        credential = store.login(user, server.authenticate)
        say("   Signed in; the stored item was updated in place with the new password.")

        say()
        say("4. Log out: the stored credential is deleted.")
        deleted = store.delete()
        left = store.accounts()
        say(
            f"   delete() -> {deleted}; stored accounts now: {', '.join(left) if left else 'none'}."
        )
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
        interactive = sys.stdin is not None and sys.stdin.isatty()
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


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
