"""CredentialStore: Credential, configuration checks, get / save / delete / accounts."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from secitem import security as S
from secitem.errors import InteractionNotAllowedError
from secitem.items import (
    AccessControlFlags,
    Accessible,
    AccessPolicy,
    AuthenticationType,
    GenericPassword,
    InternetPassword,
    InvalidQueryError,
    Protocol,
    QueryTypeError,
    Synchronizable,
)
from secitem.keychain import Keychain
from secitem.store import (
    DEFAULT_CREATOR,
    AmbiguousAccountError,
    Credential,
    CredentialStore,
    PasswordNotTextError,
    PromptReason,
)

SVC = "org.example.store"


# -- Credential ---------------------------------------------------------------


def test_credential_hides_the_password() -> None:
    cred = Credential("alice", "hunter2-secret")
    assert cred.account == "alice"
    assert cred.password == "hunter2-secret"
    for text in (repr(cred), str(cred), f"{cred}", f"{cred!r}", repr([cred])):
        assert "hunter2" not in text
        assert "alice" in text
    assert cred == Credential("alice", "hunter2-secret")
    assert cred != Credential("alice", "other")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cred.password = "x"  # type: ignore[misc]


def test_credential_checks_its_fields() -> None:
    with pytest.raises(QueryTypeError, match=r"Credential\.account"):
        Credential(1, "x")  # type: ignore[arg-type]
    with pytest.raises(QueryTypeError, match=r"Credential\.password.*decode"):
        Credential("a", b"bytes")  # type: ignore[arg-type]
    with pytest.raises(InvalidQueryError, match="NUL"):
        Credential("a\x00b", "x")
    assert Credential("", "token").account == ""  # an item without an account
    assert Credential("a", "x\x00y").password == "x\x00y"  # any character in a password


def test_lone_surrogates_are_refused_without_quoting_the_secret() -> None:
    """Undecodable bytes (surrogateescape) cannot be stored as UTF-8: refused up front.

    Python's own UnicodeEncodeError would quote the offending character of
    the password; the error names the field and never the value.
    """
    with pytest.raises(InvalidQueryError, match=r"Credential\.password.*surrogate") as info:
        Credential("alice", "SECRET\udcff")
    assert "SECRET" not in str(info.value) and "udcff" not in str(info.value)
    with pytest.raises(InvalidQueryError, match=r"Credential\.account.*surrogate"):
        Credential("al\udcffice", "pw")
    with pytest.raises(InvalidQueryError, match=r"CredentialStore\(service=\.\.\.\)"):
        CredentialStore(service="svc\udcff")
    store = CredentialStore(service=SVC, keychain=Keychain(platform="macos"))
    with pytest.raises(InvalidQueryError, match=r"get\(account=\.\.\.\)"):
        store.get("\udcff")


def test_prompt_reasons() -> None:
    assert {r.name for r in PromptReason} == {"MISSING", "REJECTED", "RETRY"}


# -- configuration --------------------------------------------------------------


@pytest.mark.usefixtures("no_native")
def test_configuration_errors_name_the_argument() -> None:
    with pytest.raises(InvalidQueryError, match=r"server=\.\.\. \| service=\.\.\."):
        CredentialStore()
    with pytest.raises(InvalidQueryError, match="exactly one"):
        CredentialStore(server="a", service="b")
    with pytest.raises(QueryTypeError, match=r"CredentialStore\(service=\.\.\.\)"):
        CredentialStore(service=42)  # type: ignore[arg-type]
    with pytest.raises(InvalidQueryError, match=r"CredentialStore\(server=\.\.\.\): must not"):
        CredentialStore(server="  ")
    with pytest.raises(InvalidQueryError, match=r"CredentialStore\(port=\.\.\.\).*server="):
        CredentialStore(service=SVC, port=443)
    with pytest.raises(InvalidQueryError, match=r"CredentialStore\(port=\.\.\.\).*65535"):
        CredentialStore(server="example.com", port=70000)
    with pytest.raises(InvalidQueryError, match=r"CredentialStore\(protocol=\.\.\.\)"):
        CredentialStore(server="example.com", protocol="gopher")
    with pytest.raises(InvalidQueryError, match=r"CredentialStore\(accessible=\.\.\.\)"):
        CredentialStore(service=SVC, accessible="sometimes")
    with pytest.raises(QueryTypeError, match=r"CredentialStore\(synchronizable=\.\.\.\)"):
        CredentialStore(service=SVC, synchronizable="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidQueryError, match=r"CredentialStore\(access_control=\.\.\.\)"):
        CredentialStore(service=SVC, access_control=AccessControlFlags.OR | AccessControlFlags.AND)
    with pytest.raises(QueryTypeError, match=r"CredentialStore\(access_control=\.\.\.\)"):
        CredentialStore(service=SVC, access_control="biometry")  # type: ignore[arg-type]
    with pytest.raises(InvalidQueryError, match=r"access_control=\.\.\.\): -1 is not a flag"):
        CredentialStore(service=SVC, access_control=-1)  # type: ignore[arg-type]
    policy = AccessPolicy(AccessControlFlags.USER_PRESENCE)
    with pytest.raises(InvalidQueryError, match=r"CredentialStore\(accessible=\.\.\.\)"):
        CredentialStore(service=SVC, access_control=policy, accessible=Accessible.ALWAYS)
    with pytest.raises(InvalidQueryError, match=r"CredentialStore\(data_protection=\.\.\.\)"):
        CredentialStore(service=SVC, keychain=Keychain(platform="macos"), data_protection=True)
    with pytest.raises(QueryTypeError, match=r"CredentialStore\(keychain=\.\.\.\)"):
        CredentialStore(service=SVC, keychain="login")  # type: ignore[arg-type]
    with pytest.raises(InvalidQueryError, match=r"CredentialStore\(synchronizable=\.\.\.\)"):
        CredentialStore(
            service=SVC,
            synchronizable=True,
            accessible=Accessible.WHEN_UNLOCKED_THIS_DEVICE_ONLY,
        )


@pytest.mark.usefixtures("no_native")
def test_method_arguments_are_checked_before_any_call() -> None:
    store = CredentialStore(service=SVC, keychain=Keychain(platform="macos"))
    with pytest.raises(QueryTypeError, match=r"get\(account=\.\.\.\)"):
        store.get(7)  # type: ignore[arg-type]
    with pytest.raises(QueryTypeError, match=r"save\(credential\)"):
        store.save(("alice", "pw"))  # type: ignore[arg-type]
    with pytest.raises(InvalidQueryError, match=r"delete\(account=\.\.\.\)"):
        store.delete("a\x00")
    with pytest.raises(InvalidQueryError, match=r"login\(max_attempts=\.\.\.\)"):
        store.login(lambda r: None, lambda c: True, max_attempts=0)
    with pytest.raises(QueryTypeError, match=r"login\(prompt\)"):
        store.login("ask", lambda c: True)  # type: ignore[arg-type]


def test_options_reach_the_item() -> None:
    store = CredentialStore(
        server="example.com",
        protocol="https",
        port=8443,
        path="/login",
        security_domain="realm",
        authentication_type=AuthenticationType.HTML_FORM,
        access_group="TEAM.shared",
        synchronizable=True,
        label="Example",
        keychain=Keychain(platform="ios"),
    )
    assert store.server == "example.com" and store.service is None
    q = store.query
    assert isinstance(q, InternetPassword)
    assert q.protocol is Protocol.HTTPS and q.port == 8443 and q.path == "/login"
    assert q.synchronizable is Synchronizable.YES and q.access_group == "TEAM.shared"
    assert q.label is None  # the query matches on identity only
    assert "example.com" in repr(store)
    flags = CredentialStore(
        service=SVC,
        access_control=AccessControlFlags.BIOMETRY_ANY,
        accessible=Accessible.WHEN_PASSCODE_SET_THIS_DEVICE_ONLY,
    )
    add = flags._add_template
    assert isinstance(add, GenericPassword) and add.access_control == AccessPolicy(
        AccessControlFlags.BIOMETRY_ANY, Accessible.WHEN_PASSCODE_SET_THIS_DEVICE_ONLY
    )


# -- get / save / delete / accounts ------------------------------------------------


@pytest.mark.parametrize("kind", ["service", "server"])
def test_round_trip(kc: Keychain, kind: str) -> None:
    store = (
        CredentialStore(service=SVC, keychain=kc)
        if kind == "service"
        else CredentialStore(server="example.com", protocol=Protocol.HTTPS, keychain=kc)
    )
    assert store.get() is None
    assert store.get("alice") is None
    assert store.accounts() == []
    assert store.delete() is False

    store.save(Credential("alice", "pw-1"))
    assert store.get() == Credential("alice", "pw-1")
    assert store.get("alice") == Credential("alice", "pw-1")
    assert store.get("bob") is None
    assert store.accounts() == ["alice"]

    store.save(Credential("bob", "pw-2"))
    assert store.accounts() == ["alice", "bob"]
    with pytest.raises(AmbiguousAccountError, match="'alice', 'bob'") as info:
        store.get()
    assert info.value.accounts == ["alice", "bob"]

    assert store.delete("alice") is True
    assert store.delete("alice") is False
    assert store.accounts() == ["bob"]
    store.save(Credential("carol", "pw-3"))
    assert store.delete() is True  # every account of the store: logout
    assert store.accounts() == []


@pytest.mark.parametrize("kind", ["service", "server"])
@pytest.mark.parametrize("data_protection", [None, True])
def test_get_account_sends_what_keychain_secret_sends(
    profile: str, kind: str, data_protection: bool | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # get(account) builds its query from a dictionary prepared at construction;
    # it must be the one Keychain.secret() sends for the same description.
    kc = Keychain(platform=profile, data_protection=data_protection)  # type: ignore[arg-type]
    # an access group needs the data-protection keychain (refused on the file-based one)
    group = "G.app" if kc.data_protection else None
    mark = DEFAULT_CREATOR
    if kind == "service":
        store = CredentialStore(service=SVC, access_group=group, keychain=kc)
        description: Any = GenericPassword(
            service=SVC, access_group=group, account="al", creator=mark
        )
    else:
        store = CredentialStore(server="example.com", port=8443, keychain=kc)
        description = InternetPassword(server="example.com", port=8443, account="al", creator=mark)
    sent: list[dict[Any, object]] = []

    def record(query: dict[Any, object]) -> object:
        sent.append(dict(query))
        return b"pw"

    monkeypatch.setattr(S, "SecItemCopyMatching", record)
    assert store.get("al") == Credential("al", "pw")
    assert kc.secret(description) == b"pw"
    assert len(sent) == 2
    assert sent[0] == sent[1]
    assert sent[0][S.kSecAttrAccount] == "al"


def test_get_account_calls_an_overridden_secret(kc: Keychain) -> None:
    calls: list[object] = []

    class LoggingKeychain(Keychain):
        def secret(self, query: Any) -> bytes:
            calls.append(query)
            return super().secret(query)

    logged = LoggingKeychain(platform=kc.platform)
    store = CredentialStore(service=SVC, keychain=logged)
    store.save(Credential("alice", "pw-1"))
    assert store.get("alice") == Credential("alice", "pw-1")
    assert store.get("bob") is None
    assert [q.account for q in calls] == ["alice", "bob"]  # type: ignore[attr-defined]


def test_stores_do_not_see_each_other(kc: Keychain) -> None:
    a = CredentialStore(service="svc.a", keychain=kc)
    b = CredentialStore(service="svc.b", keychain=kc)
    web = CredentialStore(server="svc.a", keychain=kc)
    a.save(Credential("alice", "1"))
    assert b.get() is None and web.get() is None
    assert b.delete() is False and web.delete() is False
    assert a.get("alice") == Credential("alice", "1")


def test_save_updates_in_place(kc: Keychain, monkeypatch: pytest.MonkeyPatch) -> None:
    store = CredentialStore(service=SVC, keychain=kc, label="first")
    store.save(Credential("alice", "old"))
    [before] = kc.find(store.query)

    deletes: list[object] = []
    real_delete = S.SecItemDelete
    monkeypatch.setattr(S, "SecItemDelete", lambda q: (deletes.append(q), real_delete(q))[1])
    relabelled = CredentialStore(service=SVC, keychain=kc, label="second")
    relabelled.save(Credential("alice", "new"))
    assert deletes == []  # never delete + add

    [after] = kc.find(store.query)
    assert after.persistent_ref == before.persistent_ref
    assert after.creation_date == before.creation_date
    assert after.attributes.label == "second"
    assert store.get("alice") == Credential("alice", "new")


def test_accounts_and_metadata_need_no_unlock(sim: Any) -> None:
    """A locked device: accounts() works, reading a password raises (never None)."""
    sim.lib.secsim_set_profile(b"ios")
    store = CredentialStore(
        service=SVC, accessible=Accessible.WHEN_UNLOCKED, keychain=Keychain(platform="ios")
    )
    store.save(Credential("alice", "pw"))
    sim.lib.secsim_set_locked(1)
    assert store.accounts() == ["alice"]
    with pytest.raises(InteractionNotAllowedError) as info:
        store.get("alice")
    assert info.value.hint and "locked" in info.value.hint
    with pytest.raises(InteractionNotAllowedError):
        store.get()


def test_binary_secret_under_the_store_mark(kc: Keychain) -> None:
    """Binary data in an item with the store's mark (written by other code of the app)."""
    kc.add(
        GenericPassword(service=SVC, account="alice", creator=DEFAULT_CREATOR), b"\xff\xfe\x00raw"
    )
    store = CredentialStore(service=SVC, keychain=kc)
    with pytest.raises(PasswordNotTextError, match="'alice'") as info:
        store.get("alice")
    assert "\\xff" not in str(info.value) and "raw" not in str(info.value)
    assert store.accounts() == ["alice"]


def test_synchronizable_items_are_separate(sim: Any) -> None:
    sim.lib.secsim_set_profile(b"ios")
    kc = Keychain(platform="ios")
    local = CredentialStore(service=SVC, keychain=kc)
    synced = CredentialStore(service=SVC, synchronizable=True, keychain=kc)
    local.save(Credential("alice", "local"))
    synced.save(Credential("alice", "icloud"))
    assert local.get("alice") == Credential("alice", "local")
    assert synced.get("alice") == Credential("alice", "icloud")
    assert synced.delete() is True
    assert local.get("alice") == Credential("alice", "local")
