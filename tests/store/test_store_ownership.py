"""A store owns only the items it wrote (issue #11 item 13): its mark is kSecAttrCreator."""

from __future__ import annotations

from typing import Any

import pytest

from secitem import security as S
from secitem.errors import DuplicateItemError
from secitem.items import GenericPassword, InternetPassword, InvalidQueryError, fourcc
from secitem.keychain import Keychain
from secitem.store import DEFAULT_CREATOR, Credential, CredentialStore

HOST = "api.example.com"
SVC = "com.example.app"


def _browser_password(kc: Keychain, kind: str, account: str = "alice") -> Any:
    """What another app saves for the same host or service: no creator code."""
    if kind == "server":
        item: Any = InternetPassword(server=HOST, account=account)
    else:
        item = GenericPassword(service=SVC, account=account)
    kc.add(item, "the browser's password")
    return item


def _store(kc: Keychain, kind: str, **options: Any) -> CredentialStore:
    if kind == "server":
        return CredentialStore(server=HOST, keychain=kc, **options)
    return CredentialStore(service=SVC, keychain=kc, **options)


KINDS = pytest.mark.parametrize("kind", ["server", "service"])


@KINDS
def test_another_apps_password_is_invisible(kc: Keychain, kind: str) -> None:
    """issue #11 item 13: the README's store read the password another app saved for
    the same host and handed it to authenticate; now get/accounts/login see only the
    store's own items."""
    _browser_password(kc, kind)
    store = _store(kc, kind)
    assert store.get() is None
    assert store.get("alice") is None
    assert store.accounts() == []
    seen: list[Credential] = []

    def authenticate(credential: Credential) -> bool:
        seen.append(credential)
        return True

    mine = Credential("bob", "bobs-password")
    assert store.login(lambda reason: mine, authenticate) == mine
    assert seen == [mine]  # the browser's password never reached authenticate


@KINDS
def test_own_item_next_to_a_foreign_one_is_not_ambiguous(kc: Keychain, kind: str) -> None:
    """issue #11 item 13: once the store saved its own credential, get() raised
    AmbiguousAccountError because of the other app's item."""
    _browser_password(kc, kind)
    store = _store(kc, kind)
    store.save(Credential("bob", "bobs-password"))
    assert store.get() == Credential("bob", "bobs-password")
    assert store.accounts() == ["bob"]


@KINDS
def test_logout_leaves_the_other_apps_password(kc: Keychain, kind: str) -> None:
    """issue #11 item 13: delete() (logout) deleted the other app's password."""
    foreign = _browser_password(kc, kind)
    store = _store(kc, kind)
    store.save(Credential("bob", "bobs-password"))
    assert store.delete() is True
    assert store.delete() is False
    assert store.delete("alice") is False
    assert kc.get(foreign).data == b"the browser's password"
    assert store.accounts() == []


@KINDS
def test_save_never_overwrites_a_foreign_item(kc: Keychain, kind: str) -> None:
    """Same identity as another app's item: the keychain allows only one, and it is
    not the store's, so save refuses (nothing changes) and says how to adopt it."""
    foreign = _browser_password(kc, kind)
    store = _store(kc, kind)
    with pytest.raises(DuplicateItemError) as info:
        store.save(Credential("alice", "mine"))
    assert info.value.hint and "adopt('alice')" in info.value.hint
    assert "mine" not in str(info.value) + repr(info.value) + info.value.hint
    stored = kc.get(foreign)
    assert stored.data == b"the browser's password"
    assert stored.attributes.creator is None


@KINDS
def test_adopt_takes_over_unmarked_items(kc: Keychain, kind: str) -> None:
    """The explicit opt-in for apps migrating from hand-written keychain code."""
    foreign = _browser_password(kc, kind)
    _browser_password(kc, kind, account="carol")
    store = _store(kc, kind)
    assert store.adopt("alice") == ["alice"]
    assert store.accounts() == ["alice"]
    assert store.get("alice") == Credential("alice", "the browser's password")
    assert kc.get(foreign).attributes.creator == DEFAULT_CREATOR
    assert store.adopt() == ["carol"]  # the rest; alice is the store's already
    assert store.adopt() == []  # idempotent
    store.save(Credential("alice", "new"))  # now an update in place
    assert store.get("alice") == Credential("alice", "new")
    assert store.delete() is True and kc.find(store.query) == []


@KINDS
def test_items_of_another_creator_are_not_adopted(kc: Keychain, kind: str) -> None:
    other = CredentialStore(
        **({"server": HOST} if kind == "server" else {"service": SVC}),
        keychain=kc,
        creator="OthA",
    )
    other.save(Credential("alice", "other app"))
    store = _store(kc, kind)
    assert store.adopt() == []
    assert store.accounts() == [] and other.accounts() == ["alice"]
    assert other.creator == fourcc("OthA") != store.creator


def test_the_mark_is_the_creator_attribute(kc: Keychain, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every add and search the store sends carries kSecAttrCreator = 'SItm' (the
    default mark); items addressed by persistent reference were found that way."""
    sent: list[dict[Any, object]] = []
    for name in ("SecItemAdd", "SecItemCopyMatching"):
        real = getattr(S, name)

        def spy(query: Any, _real: Any = real) -> Any:
            sent.append(dict(query))
            return _real(query)

        monkeypatch.setattr(S, name, spy)
    store = CredentialStore(server=HOST, keychain=kc)
    store.save(Credential("alice", "pw"))
    store.get("alice")
    store.get()
    store.accounts()
    by_attributes = [d for d in sent if S.kSecValuePersistentRef not in d]  # not by reference
    assert len(by_attributes) >= 4
    assert all(d[S.kSecAttrCreator] == fourcc("SItm") for d in by_attributes)
    assert DEFAULT_CREATOR == fourcc("SItm") == store.creator


def test_creator_option_is_checked() -> None:
    for bad in ("toolong", "", 2**32):
        with pytest.raises(InvalidQueryError, match=r"CredentialStore\(creator=\.\.\.\)"):
            CredentialStore(service=SVC, creator=bad)
    with pytest.raises(InvalidQueryError, match=r"CredentialStore\(creator=\.\.\.\)"):
        CredentialStore(service=SVC, creator=0)
    with pytest.raises(InvalidQueryError, match=r"CredentialStore\(creator=\.\.\.\)"):
        CredentialStore(service=SVC, creator=None)  # type: ignore[arg-type]
    assert CredentialStore(service=SVC, creator="MyAp").creator == fourcc("MyAp")
