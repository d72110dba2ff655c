"""``secitem list``: generic and internet passwords, their attributes only (no secret is read).

A table of class, service or server, account and label, every cell made safe
for the terminal, or with ``--json`` the rows of :func:`secitem._cli_output.json_row`.
"""

from __future__ import annotations

import argparse
from typing import Any

from secitem._cli_args import Commands, open_keychain, text_arg
from secitem._cli_common import cell, print_json
from secitem._cli_output import json_row
from secitem.items import GenericPassword, InternetPassword, ItemDescription

__all__ = ["add_parser", "run"]


def add_parser(commands: Commands, keychain: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``list`` subparser to ``commands``, with the options of ``keychain`` (a parent)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "list",
        parents=[keychain],
        help="list generic and internet passwords (never their secrets)",
        description="List generic and internet passwords: attributes only, no secret is read.",
    )
    parser.add_argument(
        "--class",
        dest="item_class",
        choices=("all", "generic", "internet"),
        default="all",
        help="which class of password to list (default: all)",
    )
    parser.add_argument(
        "-s", dest="name", metavar="NAME", type=text_arg, help="only this service or server"
    )
    parser.add_argument(
        "-a", dest="account", metavar="ACCOUNT", type=text_arg, help="only this account"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """List the matching passwords: a table, or a JSON array with ``--json``."""
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
    elif rows:
        _print_table(rows)
    return 0


def _print_table(rows: list[dict[str, object]]) -> None:
    """A header and a line a row; the first three columns padded, the label last."""
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
