"""Access lists and partition lists of the macOS file-based keychain (issue #18).

The emulator's macos profile models both gates (docs/emulator.md, "Access
lists and partition lists"): the running program is SECSIM_APP_PATH (or the
interpreter), its signature SECSIM_CODE_SIGNING; tests switch programs with
``secsim_set_application`` and answer the access dialog with
``secsim_set_user_response``.
"""

from __future__ import annotations

import contextlib
import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secitem import security as S
from secitem.errors import (
    AuthFailedError,
    InteractionNotAllowedError,
    InvalidQueryError,
    UserCanceledError,
)
from secitem.items import GenericPassword
from secitem.keychain import Keychain
from secitem.store import Credential, CredentialStore

SVC = "org.example.access"


@pytest.fixture
def apps(sim: Any, tmp_path: Path) -> dict[str, str]:
    """Three programs that exist (SecTrustedApplicationCreateFromPath checks)."""
    out = {}
    for name in ("python3.12", "python3.13", "other"):
        p = tmp_path / name
        p.write_bytes(b"#!")
        out[name] = str(p)
    return out


def run_as(sim: Any, path: str, signing: str = "unsigned") -> None:
    sim.secsim_set_application(path.encode(), signing.encode())


def read(kc: Keychain, **query: object) -> bytes:
    return kc.secret(GenericPassword(service=SVC, account="alice", **query))


def add(kc: Keychain, **options: Any) -> None:
    kc.add(GenericPassword(service=SVC, account="alice"), b"pw", **options)


def added_by(sim: Any, path: str, signing: str = "unsigned", **options: Any) -> Keychain:
    """Run as ``path`` and add alice's item there; the Keychain that added it."""
    run_as(sim, path, signing)
    kc = Keychain()
    add(kc, **options)
    return kc


@pytest.fixture
def upgraded(sim: Any, apps: dict[str, str]) -> Keychain:
    """alice's item added by python3.12; the program running now is python3.13 (an upgrade)."""
    kc = added_by(sim, apps["python3.12"])
    run_as(sim, apps["python3.13"])
    return kc


def test_creator_reads_without_asking(sim: Any, apps: dict[str, str]) -> None:
    kc = added_by(sim, apps["python3.12"])
    sim.secsim_set_user_response(1)  # a dialog would be cancelled
    assert read(kc) == b"pw"


@pytest.mark.parametrize(
    ("response", "outcome"),
    [(0, b"pw"), (1, UserCanceledError), (2, AuthFailedError)],
    ids=["approved", "cancelled", "denied"],
)
def test_another_interpreter_is_asked(
    sim: Any, upgraded: Keychain, response: int, outcome: Any
) -> None:
    """Created by python3.12, read by python3.13 (an upgrade): the dialog."""
    kc = upgraded
    sim.secsim_set_user_response(response)
    if isinstance(outcome, bytes):
        assert read(kc) == outcome
        # Allow (not Always Allow) lets this one read through only.
        sim.secsim_set_user_response(1)
        with pytest.raises(UserCanceledError):
            read(kc)
    else:
        with pytest.raises(outcome):
            read(kc)


def test_interaction_not_allowed(sim: Any, upgraded: Keychain) -> None:
    kc = upgraded
    q = {
        S.kSecClass: S.kSecClassGenericPassword,
        S.kSecAttrService: SVC,
        S.kSecReturnData: True,
        S.kSecUseAuthenticationUI: S.kSecUseAuthenticationUIFail,
    }
    with pytest.raises(AuthFailedError):  # null credentials: OPERATION_AUTH_DENIED
        S.SecItemCopyMatching(q)
    sim.secsim_set_session_ui(0)  # no window server (SSH): -25308
    with pytest.raises(InteractionNotAllowedError):
        read(kc)


def test_attribute_reads_never_ask(sim: Any, upgraded: Keychain) -> None:
    kc = upgraded
    sim.secsim_set_user_response(1)
    item = kc.get(GenericPassword(service=SVC, account="alice"), data=False)
    assert item.attributes.account == "alice"
    assert kc.accounts(GenericPassword(service=SVC)) if hasattr(kc, "accounts") else True


def test_trusted_applications_with_two_paths(sim: Any, apps: dict[str, str]) -> None:
    kc = added_by(sim, apps["other"], trusted_applications=[apps["python3.12"], apps["python3.13"]])
    sim.secsim_set_user_response(1)
    for name in ("python3.12", "python3.13"):
        run_as(sim, apps[name])
        assert read(kc) == b"pw"
    # -T replaces the creator's default trust (Apple's -T): the creator is asked.
    run_as(sim, apps["other"])
    with pytest.raises(UserCanceledError):
        read(kc)


def test_empty_trusted_list_asks_everyone(sim: Any, apps: dict[str, str]) -> None:
    kc = added_by(sim, apps["python3.12"], trusted_applications=[])
    sim.secsim_set_user_response(2)
    with pytest.raises(AuthFailedError):
        read(kc)


def test_any_application_passes_the_acl_but_not_the_partition(
    sim: Any, apps: dict[str, str]
) -> None:
    kc = added_by(
        sim, apps["python3.12"], "adhoc", any_application=True, trusted_applications=[apps["other"]]
    )
    sim.secsim_set_user_response(1)
    # Another unsigned program: same partition? no -- adhoc vs unsigned differ.
    run_as(sim, apps["python3.13"], "adhoc")  # a new ad-hoc build: a new cdhash
    with pytest.raises(UserCanceledError):
        read(kc)
    # The same build at the same path reads without asking.
    run_as(sim, apps["python3.12"], "adhoc")
    assert read(kc) == b"pw"
    # Two unsigned programs share `unsigned:`, so -A lets the other one through.
    run_as(sim, apps["python3.12"])
    add_other = Keychain()
    add_other.add(GenericPassword(service=SVC, account="bob"), b"pw2", any_application=True)
    run_as(sim, apps["python3.13"])
    assert add_other.secret(GenericPassword(service=SVC, account="bob")) == b"pw2"


def test_update_keeps_the_access_list(sim: Any, apps: dict[str, str]) -> None:
    kc = added_by(
        sim, apps["python3.12"], trusted_applications=[apps["python3.12"], apps["python3.13"]]
    )
    before = kc.get(GenericPassword(service=SVC, account="alice"), data=False)
    assert kc.upsert(GenericPassword(service=SVC, account="alice", label="new"), b"pw2") is False
    after = kc.get(GenericPassword(service=SVC, account="alice"), data=False)
    assert after.persistent_ref == before.persistent_ref  # in place, not deleted and re-added
    sim.secsim_set_user_response(1)
    run_as(sim, apps["python3.13"])
    assert read(kc) == b"pw2"  # still trusted, same partition (unsigned:)
    run_as(sim, apps["other"])
    with pytest.raises(UserCanceledError):
        read(kc)


def test_rewrite_resets_the_partition_list(sim: Any, apps: dict[str, str]) -> None:
    """Item.cpp updateSSGroup: new data -> the writer's partition ID."""
    kc = added_by(sim, apps["python3.12"], "TEAMAAAAAA", any_application=True)
    run_as(sim, apps["python3.13"], "TEAMBBBBBB")
    kc.upsert(GenericPassword(service=SVC, account="alice"), b"new")  # no dialog for writes
    assert partitions(kc) == ["teamid:TEAMBBBBBB"]
    sim.secsim_set_user_response(1)
    run_as(sim, apps["python3.12"], "TEAMAAAAAA")
    with pytest.raises(UserCanceledError):
        read(kc)


@contextlib.contextmanager
def partition_acl() -> Iterator[tuple[Any, Any, Any]]:
    """The item of SVC, its access and the access's partition-ID ACL (all closed after)."""
    ref = S.SecItemCopyMatching(
        {S.kSecClass: S.kSecClassGenericPassword, S.kSecAttrService: SVC, S.kSecReturnRef: True}
    )
    with ref, S.SecKeychainItemCopyAccess(ref) as access:
        acls = S.SecAccessCopyMatchingACLList(access, S.kSecACLAuthorizationPartitionID)
        try:
            yield ref, access, acls[0]
        finally:
            for acl in acls:
                acl.close()


def partitions(kc: Keychain) -> list[str]:
    with partition_acl() as (_ref, _access, acl):
        return S.partition_list_from_description(S.SecACLCopyContents(acl)[1])


def set_partitions(parts: list[str], password: bytes) -> None:
    with partition_acl() as (ref, access, acl):
        S.SecACLSetContents(acl, None, S.partition_list_to_description(parts), 0)
        S.SecKeychainItemSetAccessWithPassword(ref, access, password)


def test_partition_list_changes(sim: Any, apps: dict[str, str]) -> None:
    """set-generic-password-partition-list: the list is replaced, with the
    keychain password (wrong password: AuthFailedError, nothing changes)."""
    sim.secsim_set_keychain_password(b"kc-pass")
    kc = added_by(sim, apps["python3.12"], "adhoc", any_application=True)
    assert partitions(kc)[0].startswith("cdhash:")
    with pytest.raises(AuthFailedError):
        set_partitions(["unsigned:"], b"wrong")
    set_partitions(["apple-tool:", "apple:", "unsigned:"], b"kc-pass")
    assert partitions(kc) == ["apple-tool:", "apple:", "unsigned:"]
    sim.secsim_set_user_response(1)
    run_as(sim, apps["python3.13"])  # unsigned now passes both gates
    assert read(kc) == b"pw"


def test_refused_on_the_data_protection_keychain(sim: Any, apps: dict[str, str]) -> None:
    for kc in (Keychain(data_protection=True), Keychain(platform="ios")):
        with pytest.raises(InvalidQueryError, match="access_group"):
            add(kc, any_application=True)
        with pytest.raises(InvalidQueryError, match="trusted_applications"):
            add(kc, trusted_applications=[apps["other"]])
    with pytest.raises(InvalidQueryError, match="any_application"):
        CredentialStore(service=SVC, data_protection=True, any_application=True)
    with pytest.raises(InvalidQueryError, match=r"trusted_applications\[0\]"):
        add(Keychain(), trusted_applications=[""])
    with pytest.raises(InvalidQueryError, match=r"trusted_applications\[0\].*sys.executable"):
        add(Keychain(), trusted_applications=["/no/such/program"])
    with pytest.raises(TypeError, match="sequence of paths"):
        add(Keychain(), trusted_applications="/usr/bin/python3")


def test_credential_store_options(sim: Any, apps: dict[str, str]) -> None:
    run_as(sim, apps["other"])
    store = CredentialStore(service=SVC, trusted_applications=[apps["python3.13"]])
    store.save(Credential("alice", "pw"))
    run_as(sim, apps["python3.13"])
    sim.secsim_set_user_response(1)
    assert store.get("alice") == Credential("alice", "pw")
    store.save(Credential("alice", "pw2"))  # update in place keeps the list
    run_as(sim, apps["other"])
    with pytest.raises(UserCanceledError):
        store.get("alice")


STORE_PROGRAM = """
import sys
from secitem.keychain import Keychain
from secitem.items import GenericPassword
kc = Keychain()
if sys.argv[1] == "add":
    kc.add(GenericPassword(service="s", account="a"), b"pw", trusted_applications=[sys.argv[2]])
else:
    try:
        print(kc.secret(GenericPassword(service="s", account="a")).decode())
    except Exception as exc:
        print(type(exc).__name__)
"""


def test_access_lists_persist_in_the_store(sim: Any, apps: dict[str, str], tmp_path: Path) -> None:
    """Another process (another program) sees the stored list; an old
    version-1 store file still loads and its items are not gated."""
    env = {**os.environ, "SECSIM_STORE": str(tmp_path / "kc.bin"), "SECSIM_APP_PATH": apps["other"]}
    env.pop("SECSIM_CODE_SIGNING", None)

    def run(*args: str, app: str) -> str:
        e = {**env, "SECSIM_APP_PATH": app}
        out = subprocess.run(
            [sys.executable, "-c", STORE_PROGRAM, *args], env=e, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    run("add", apps["python3.13"], app=apps["other"])
    assert run("read", app=apps["python3.13"]) == "pw"
    # the emulator's default simulated user approves: switch via a fresh add
    raw = (tmp_path / "kc.bin").read_bytes()
    assert raw[8:12] == struct.pack("<I", 2) and b"_acl" in raw


def test_version_1_store_still_loads(sim: Any, tmp_path: Path) -> None:
    from emulator.test_store_format import Attr, Item, Store, build  # tests/ is on sys.path

    store = Store(version=1, gen=1, next_rowid=2)
    store.items = [Item(1, 0, 1, b"old", [Attr(b"svce", 1, 0, b"s"), Attr(b"acct", 1, 0, b"a")])]
    path = tmp_path / "kc.bin"
    path.write_bytes(build(store))
    program = (
        "from secitem.keychain import Keychain\nfrom secitem.items import GenericPassword\n"
        "print(Keychain().secret(GenericPassword(service='s', account='a')).decode())"
    )
    env = {**os.environ, "SECSIM_STORE": str(path), "SECSIM_APP_PATH": "/elsewhere/python"}
    out = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "old", out.stderr  # no recorded access: not gated
    # A hidden attribute in a version-1 file is corruption.
    store.items[0].attrs.append(Attr(b"_acl", 2, 0, b"SAC1\0"))
    path.write_bytes(build(store))
    out = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True)
    assert "-36" in out.stderr or "IO" in out.stderr
