"""``find-*-password`` prints what Apple's ``security`` tool prints (issue #14).

The expected blocks are built from the facts in
``shared/reference/macos-access-and-cli-facts.md`` §4-§5, which were read from
Apple's SecurityTool sources (``keychain_utilities.c``: ``print_keychain_item_attributes``,
``print_buffer``, ``print_uint32``) and checked against real outputs quoted there
(WebKit's fixture, wifi-password, Stack Overflow).  They are written out here by
hand, not produced by the code under test.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from secitem import _cli_output, cli
from secitem.items import GenericPassword, InternetPassword, item_from_result

ROOT = Path(__file__).resolve().parents[2]
Run = Callable[..., subprocess.CompletedProcess[str]]

# -- §5.1: an item made by `security add-generic-password -a alice -s example.com`,
#    created 2025-01-02 03:04:05 UTC; `security find-generic-password -s example.com -g`
GENP_EXPECTED = """\
keychain: "/Users/alice/Library/Keychains/login.keychain-db"
version: 512
class: "genp"
attributes:
    0x00000007 <blob>="example.com"
    0x00000008 <blob>=<NULL>
    "acct"<blob>="alice"
    "cdat"<timedate>=0x32303235303130323033303430355A00  "20250102030405Z\\000"
    "crtr"<uint32>=<NULL>
    "cusi"<sint32>=<NULL>
    "desc"<blob>=<NULL>
    "gena"<blob>=<NULL>
    "icmt"<blob>=<NULL>
    "invi"<sint32>=<NULL>
    "mdat"<timedate>=0x32303235303130323033303430355A00  "20250102030405Z\\000"
    "nega"<sint32>=<NULL>
    "prot"<blob>=<NULL>
    "scrp"<sint32>=<NULL>
    "svce"<blob>="example.com"
    "type"<uint32>=<NULL>
"""

# -- §5.2: WebKit's real fixture (with the `version:` line of macOS 10.12+); the port
#    line ends with print_buffer's trailing space.
INET_EXPECTED = """\
keychain: "/Users/test/Library/Keychains/login.keychain"
version: 512
class: "inet"
attributes:
    0x00000007 <blob>="bugs.webkit.org (test@webkit.org)"
    0x00000008 <blob>=<NULL>
    "acct"<blob>="test@webkit.org"
    "atyp"<blob>="form"
    "cdat"<timedate>=0x32303039303832353233353231365A00  "20090825235216Z\\000"
    "crtr"<uint32>=<NULL>
    "cusi"<sint32>=<NULL>
    "desc"<blob>="Web form password"
    "icmt"<blob>="default"
    "invi"<sint32>=<NULL>
    "mdat"<timedate>=0x32303039303930393137323635315A00  "20090909172651Z\\000"
    "nega"<sint32>=<NULL>
    "path"<blob>=<NULL>
    "port"<uint32>=0x00000000 \n\
    "prot"<blob>=<NULL>
    "ptcl"<uint32>="htps"
    "scrp"<sint32>=<NULL>
    "sdmn"<blob>=<NULL>
    "srvr"<blob>="bugs.webkit.org"
    "type"<uint32>=<NULL>
"""


def _utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def _printed(item: Any, keychain: str) -> str:
    out = io.StringIO()
    _cli_output.print_item(item, out, keychain)
    return out.getvalue()


def test_generic_password_block_is_apples() -> None:
    """§5.1 byte for byte, from the attribute dictionary SecItemCopyMatching returns."""
    created = _utc(2025, 1, 2, 3, 4, 5)
    result = {
        "class": "genp",
        "labl": "example.com",
        "acct": "alice",
        "svce": "example.com",
        "cdat": created,
        "mdat": created.replace(microsecond=640000),  # CSSM time has whole seconds
    }
    item = item_from_result(GenericPassword, result)
    assert _printed(item, "/Users/alice/Library/Keychains/login.keychain-db") == GENP_EXPECTED


def test_internet_password_block_is_apples() -> None:
    """§5.2 byte for byte, trailing space of the port line included."""
    result = {
        "class": "inet",
        "labl": "bugs.webkit.org (test@webkit.org)",
        "acct": "test@webkit.org",
        "atyp": "form",
        "cdat": _utc(2009, 8, 25, 23, 52, 16),
        "desc": "Web form password",
        "icmt": "default",
        # A date in another zone is printed in UTC, as CSSM stores it.
        "mdat": dt.datetime(2009, 9, 9, 19, 26, 51, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "port": 0,
        "ptcl": "htps",
        "srvr": "bugs.webkit.org",
    }
    item = item_from_result(InternetPassword, result)
    assert _printed(item, "/Users/test/Library/Keychains/login.keychain") == INET_EXPECTED


@pytest.mark.parametrize(
    ("data", "printed"),
    [
        (b"s3cret", '"s3cret"'),
        (b"a\\b", '0x615C62  "a\\134b"'),  # backslash is not plain: hex first, octal inside
        ("päss".encode(), '0x70C3A47373  "p\\303\\244ss"'),
        (b"\x00\x01", "0x0001 "),  # hex only: one trailing space
        (b"", ""),
        (b'say "hi"', '"say "hi""'),  # a double quote is not escaped
        ((80).to_bytes(4, "big"), '0x00000050  "\\000\\000\\000P"'),
        ((443).to_bytes(4, "big"), "0x000001BB "),
        (b"\x1b[2J\n", '0x1B5B324A0A  "\\033[2J\\012"'),  # a terminal never sees ESC
    ],
)
def test_print_buffer(data: bytes, printed: str) -> None:
    """§4.3, rule by rule, with the examples derived there."""
    assert cli.apple_buffer(data) == printed


def test_numbers_codes_and_flags_print_as_stored() -> None:
    """uint32 attributes are four big-endian bytes; booleans are sint32 0/1; gena is data."""
    result = {
        "class": "genp",
        "svce": "s",
        "crtr": 0x6161706C,  # 'aapl'
        "type": 0x6E6F7465,  # 'note' (F-SO shows "type"<uint32>="note")
        "invi": True,
        "nega": False,
        "gena": b"\x00v",
        "icmt": "",  # present but empty: print_buffer prints nothing
    }
    text = _printed(item_from_result(GenericPassword, result), "<k>")
    lines = text.splitlines()
    assert '    "crtr"<uint32>="aapl"' in lines
    assert '    "type"<uint32>="note"' in lines
    assert '    "invi"<sint32>=0x00000001 ' in lines
    assert '    "nega"<sint32>=0x00000000 ' in lines
    assert '    "gena"<blob>=0x0076  "\\000v"' in lines
    assert '    "icmt"<blob>=' in lines
    assert len(lines) == 4 + 16  # every genp attribute of the schema, each once


def test_docs_show_the_tested_block() -> None:
    """docs/cli.md shows exactly the §5.1 block that the test above checks."""
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert GENP_EXPECTED in page
    assert 'password: "s3cret"' in page


# -- end to end: the command, the emulator, a keychain file --------------------------


def _stamp(iso: str) -> str:
    """The timedate value Apple prints for an ISO date (UTC, whole seconds, NUL)."""
    text = dt.datetime.fromisoformat(iso).astimezone(dt.UTC).strftime("%Y%m%d%H%M%SZ")
    stored = (text.encode() + bytes(1)).hex().upper()
    return f'0x{stored}  "{text}' + '\\000"'


def test_find_generic_password_end_to_end(run: Run, tmp_path: Path) -> None:
    """Every flag of add is stored and printed in Apple's layout; -g puts the password
    on stderr as security does, and nothing else there."""
    add = run(
        "add-generic-password",
        *("-s", "example.com", "-a", "alice", "-l", "Example", "-D", "application password"),
        *("-j", "a comment", "-c", "aapl", "-C", "note", "-G", "v\\1"),
        stdin="s3cret",
    )
    assert add.returncode == 0, add.stderr
    found = run("find-generic-password", "-s", "example.com", "-a", "alice", "-g")
    assert found.returncode == 0, found.stderr
    meta = json.loads(run("find-generic-password", "-s", "example.com", "--json").stdout)
    expected = f"""\
keychain: "{tmp_path / "keychain.db"}"
version: 512
class: "genp"
attributes:
    0x00000007 <blob>="Example"
    0x00000008 <blob>=<NULL>
    "acct"<blob>="alice"
    "cdat"<timedate>={_stamp(meta["created"])}
    "crtr"<uint32>="aapl"
    "cusi"<sint32>=<NULL>
    "desc"<blob>="application password"
    "gena"<blob>=0x765C31  "v\\1341"
    "icmt"<blob>="a comment"
    "invi"<sint32>=<NULL>
    "mdat"<timedate>={_stamp(meta["modified"])}
    "nega"<sint32>=<NULL>
    "prot"<blob>=<NULL>
    "scrp"<sint32>=<NULL>
    "svce"<blob>="example.com"
    "type"<uint32>="note"
"""
    assert found.stdout == expected
    assert found.stderr == 'password: "s3cret"\n'
    # without -g the secret is not read and not printed
    plain = run("find-generic-password", "-s", "example.com")
    assert plain.stdout == expected and plain.stderr == ""


def test_find_internet_password_end_to_end(run: Run) -> None:
    add = run(
        "add-internet-password",
        *("-s", "git.example.com", "-a", "bob", "-r", "htps", "-P", "443", "-t", "form"),
        *("-p", "/login", "-d", "realm"),
        stdin="pw",
    )
    assert add.returncode == 0, add.stderr
    found = run("find-internet-password", "-s", "git.example.com")
    lines = found.stdout.splitlines()
    assert lines[:4] == [lines[0], "version: 512", 'class: "inet"', "attributes:"]
    attributes = [line.split("<", 1)[0].strip() for line in lines[4:]]
    assert attributes == [
        *("0x00000007", "0x00000008"),
        *('"acct"', '"atyp"', '"cdat"', '"crtr"', '"cusi"', '"desc"', '"icmt"', '"invi"'),
        *('"mdat"', '"nega"', '"path"', '"port"', '"prot"', '"ptcl"', '"scrp"', '"sdmn"'),
        *('"srvr"', '"type"'),
    ]
    assert '    "port"<uint32>=0x000001BB ' in lines  # trailing space kept
    assert '    "ptcl"<uint32>="htps"' in lines
    assert '    "atyp"<blob>="form"' in lines
    assert '    "path"<blob>="/login"' in lines
    assert '    "sdmn"<blob>="realm"' in lines


def test_password_line_of_g_for_binary_and_backslash(run: Run) -> None:
    run("add-generic-password", "-s", "bin", "-a", "a", stdin=b"\x00\x01\xff")
    run("add-generic-password", "-s", "bs", "-a", "a", stdin=b"a\\b")
    binary = run("find-generic-password", "-s", "bin", "-g", stdin=b"")
    assert binary.returncode == 0
    assert binary.stderr == b"password: 0x0001FF \n"
    backslash = run("find-generic-password", "-s", "bs", "-g", stdin=b"")
    assert backslash.stderr == b'password: 0x615C62  "a\\134b"\n'
    # -w wins over -g, as in security: only the password, on stdout
    both = run("find-generic-password", "-s", "bs", "-g", "-w", stdin=b"")
    assert (both.stdout, both.stderr) == (b"a\\b\n", b"")


def test_match_terms_of_the_new_flags(run: Run) -> None:
    run(
        "add-generic-password",
        *("-s", "svc", "-a", "a", "-D", "kind", "-j", "note", "-c", "crtr", "-C", "type"),
        *("-G", "gen"),
        stdin="pw",
    )
    for flag, good, bad in (
        ("-D", "kind", "other"),
        ("-j", "note", "other"),
        ("-c", "crtr", "xxxx"),
        ("-C", "type", "xxxx"),
        ("-G", "gen", "other"),
        ("-l", "svc", "other"),
    ):
        if flag == "-l":  # no label was given: an -l term finds nothing
            assert run("find-generic-password", "-s", "svc", flag, bad).returncode == 44
            continue
        assert run("find-generic-password", "-s", "svc", flag, good, "-w").stdout == "pw\n"
        assert run("find-generic-password", "-s", "svc", flag, bad).returncode == 44, flag


def test_find_json_is_one_object_without_the_secret(run: Run) -> None:
    run("add-generic-password", "-s", "svc", "-a", "alice", "-j", "c", stdin="json-secret")
    proc = run("find-generic-password", "-s", "svc", "--json")
    assert proc.returncode == 0, proc.stderr
    obj = json.loads(proc.stdout)
    assert obj["class"] == "generic" and obj["service"] == "svc" and obj["comment"] == "c"
    assert "created" in obj and "json-secret" not in proc.stdout
    # -g keeps its meaning: the password goes to stderr, never into the JSON
    shown = run("find-generic-password", "-s", "svc", "--json", "-g")
    assert json.loads(shown.stdout) == obj
    assert shown.stderr == 'password: "json-secret"\n'
    both = run("find-generic-password", "-s", "svc", "--json", "-w")
    assert both.returncode == 2 and "json-secret" not in both.stdout + both.stderr


def test_item_text_cannot_drive_the_terminal(run: Run) -> None:
    """Control characters in a stored attribute come out as Apple's octal escapes."""
    added = run("add-generic-password", "-s", "svc", "-a", "x\x1b[2J\u202e", stdin="pw")
    assert added.returncode == 0, added.stderr
    found = run("find-generic-password", "-s", "svc")
    assert '"acct"<blob>=0x781B5B324AE280AE  "x\\033[2J\\342\\200\\256"' in found.stdout
    assert re.fullmatch(r"[\x20-\x7e\n]*", found.stdout)


def test_bad_four_character_code(run: Run) -> None:
    proc = run("find-generic-password", "-s", "svc", "-c", "abc")
    assert proc.returncode == 2
    assert "four-character code" in proc.stderr and "abc" not in proc.stderr


def test_version_and_grammar(run: Run) -> None:
    proc = run("--version")
    assert (proc.returncode, proc.stdout) == (0, f"secitem {version('secitem')}\n")
    helped = run("--help").stdout
    assert "add an internet password" in helped and "add a generic password" in helped
    assert "add a internet" not in helped


def test_g_line_comes_after_the_attributes_in_one_pipe(tmp_path: Path, sim: Any) -> None:
    """stdout is flushed before the password line, so a merged pipe keeps the order."""
    env = {**os.environ, "SECSIM_STORE": str(tmp_path / "kc.db")}
    env.pop("SECSIM_PROFILE", None)
    env.pop("SECSIM_ACCESS_GROUPS", None)
    cmd = [sys.executable, "-m", "secitem"]
    subprocess.run(
        [*cmd, "add-generic-password", "-s", "svc", "-a", "a"],
        input="pw",
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    merged = subprocess.run(
        [*cmd, "find-generic-password", "-s", "svc", "-g"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        timeout=120,
    )
    lines = merged.stdout.splitlines()
    assert lines[0].startswith("keychain: ")
    assert lines[-1] == 'password: "pw"'
