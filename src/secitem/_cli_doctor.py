"""``secitem doctor``: which library is loaded, which keychains work here, and why not.

The report (:func:`build_report`) has stable keys, documented in docs/cli.md; the
native calls (SecCodeCopySelf, SessionGetInfo, the probes) are made only when
the command runs.
"""

from __future__ import annotations

import argparse
import os
import platform as _platform
import sys
import uuid
from typing import Any, NamedTuple

from secitem._cli_common import (
    LIBRARY_NAMES,
    USE_EMULATOR,
    cell,
    library_kind,
    no_library_here,
    print_json,
    stdin_is_terminal,
    version,
)
from secitem.errors import InteractionNotAllowedError, KeychainError, KeychainUnavailableError
from secitem.items import Accessible, GenericPassword
from secitem.keychain import Keychain, current_platform

__all__ = ["add_parser", "build_report", "run"]


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``doctor`` subparser to ``commands`` (an argparse subparsers action)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "doctor",
        help="show which library is loaded and which keychains work here, and why not",
        description="Report the loaded Security library, the platform and profile, the "
        "interpreter's code signature, the session (can a dialog appear?), whether each "
        "keychain is usable, and what will bite here, each with its fix.",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (stable keys, documented in docs/cli.md)",
    )
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    report = build_report()
    if args.json:
        print_json(report)
    else:
        _print_doctor(report)
    return 0 if report["library"]["loaded"] else 1


#: The problems doctor can report, by their stable ``id`` (docs/cli.md).
_PROBLEMS: dict[str, tuple[str, str]] = {
    "no-library": (
        "no Security library could be loaded",
        f"on macOS this should not happen (report it); elsewhere run `secitem demo`, or "
        f"{USE_EMULATOR}",
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


def build_report() -> dict[str, Any]:
    """Everything doctor knows, as JSON-ready values with stable keys (docs/cli.md)."""
    from secitem import _runtime

    report: dict[str, Any] = {
        "secitem": version(),
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
    try:
        libraries = _runtime.load()
    except KeychainUnavailableError as exc:
        report["library"]["error"] = str(exc)
        report["problems"].append(_problem("no-library"))
        return report
    kind = library_kind()
    report["library"] = {
        "loaded": True,
        "paths": list(libraries.paths),
        "kind": kind,
        "error": None,
    }
    plat = current_platform()
    report["platform"] = plat
    if kind == "emulator":
        report["emulator"] = _emulator_facts()
    report["session"].update(_session_ui())
    report["interpreter"] = _signature()
    if plat == "macos":
        report["file_based_keychain"] = _probe_file_based()
    report["data_protection_keychain"] = _probe_data_protection(plat)
    report["problems"].extend(_problems_found(report))
    return report


def _emulator_facts() -> dict[str, Any]:
    """The emulator's settings from its environment: profile, access groups, store file."""
    groups = [g for g in os.environ.get("SECSIM_ACCESS_GROUPS", "").split(",") if g]
    return {
        "profile": os.environ.get("SECSIM_PROFILE", "macos"),
        "access_groups": groups,
        "store": os.environ.get("SECSIM_STORE") or None,
    }


def _problems_found(report: dict[str, Any]) -> list[dict[str, str]]:
    """The problems the facts of a loaded library show, in the order docs/cli.md lists them."""
    problems: list[dict[str, str]] = []
    macos = report["platform"] == "macos"
    signature = report["interpreter"]["signature"]
    if macos and signature == "unsigned":
        problems.append(_problem("unsigned-interpreter"))
    elif macos and signature == "adhoc":
        problems.append(_problem("adhoc-interpreter"))
    if macos and not report["data_protection_keychain"]["usable"]:
        problems.append(_problem("no-data-protection"))
    session = report["session"]
    if session["can_show_ui"] is False or session["ssh"]:
        problems.append(_problem("no-ui"))
    probes = (report["file_based_keychain"], report["data_protection_keychain"])
    if any(probe and probe["locked"] for probe in probes):
        problems.append(_problem("keychain-locked"))
    return problems


def _print_doctor(report: dict[str, Any]) -> None:
    """The text form: the lines doctor always printed, then the signature and the problems."""
    print(f"secitem {report['secitem']}, Python {report['python']} on {report['os']}")
    library = report["library"]
    if not library["loaded"]:
        print(f"library: none loaded. {library['error']}")
        if no_library_here():
            print(
                "fix: this is not macOS or iOS; to try secitem here run `secitem demo`, or "
                f"{USE_EMULATOR}"
            )
        return
    paths = ", ".join(library["paths"])
    if library["kind"] == "apple":
        print(f"library: {paths} (Apple's frameworks)")
    else:
        print(f"library: {paths} ({LIBRARY_NAMES[library['kind']]}, from SECITEM_LIBRARY)")
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
    print(f"interpreter: {cell(_describe_signature(report['interpreter']))}")
    print(f"session: {_describe_session(report['session'])}")
    if report["file_based_keychain"] is not None:
        print(f"file-based keychain: {cell(report['file_based_keychain']['detail'])}")
    print(f"data-protection keychain: {cell(report['data_protection_keychain']['detail'])}")
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
    facts = _signing_facts(info)
    out["path"] = facts.path
    out["keychain_access_groups"] = facts.access_groups
    out.update(_signer(facts))
    return out


class _SigningFacts(NamedTuple):
    """What doctor reads from the signing information, as plain values."""

    path: str | None
    identifier: object
    flags: int
    team: object
    cdhash: str
    access_groups: list[str]
    platform_binary: bool


def _signing_facts(info: dict[Any, Any]) -> _SigningFacts:
    """The values doctor uses, read from ``info``; every CF object in it is then closed."""
    try:
        main = info.get("main-executable")
        path = str(main) if main is not None else None
        identifier = info.get("identifier")
        flags = info.get("flags")
        flags = int(flags) & 0xFFFFFFFF if isinstance(flags, int) else 0
        team = info.get("teamid")
        unique = info.get("unique")
        entitlements = info.get("entitlements-dict")
        platform_binary = info.get("platform-identifier") is not None
    finally:
        _close_values(info)
    groups: list[str] = []
    if isinstance(entitlements, dict):
        listed = entitlements.get("keychain-access-groups")
        if isinstance(listed, list):
            groups = [str(g) for g in listed]
    cdhash = f"cdhash:{unique.hex()}" if isinstance(unique, bytes) else "cdhash:"
    return _SigningFacts(path, identifier, flags, team, cdhash, groups, platform_binary)


def _signer(facts: _SigningFacts) -> dict[str, Any]:
    """Who signed the interpreter: ``signature``, ``partition_id`` and what else is known."""
    from secitem import _secaccess as S

    identifier = facts.identifier
    if not isinstance(identifier, str):
        return {"signature": "unsigned", "partition_id": "unsigned:"}
    out: dict[str, Any] = {
        "identifier": identifier,
        "hardened_runtime": bool(facts.flags & S.kSecCodeSignatureRuntime),
    }
    team = facts.team if isinstance(facts.team, str) and facts.team else None
    if team:
        out["team_id"] = team
    if facts.flags & S.kSecCodeSignatureAdhoc:
        out.update(signature="adhoc", partition_id=facts.cdhash)
    elif facts.platform_binary:
        tool = identifier == "com.apple.security"
        out.update(
            signature="apple-tool" if tool else "apple",
            partition_id="apple-tool:" if tool else "apple:",
        )
    elif team:
        out.update(signature="team", partition_id=f"teamid:{team}")
    else:
        out.update(signature="signed", partition_id=facts.cdhash)
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
        "terminal": stdin_is_terminal(),
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
