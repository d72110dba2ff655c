"""The public Keychain surface CredentialStore is built on (issue #13 item 4).

``Keychain.upsert(select=...)`` and ``Keychain.check_attributes`` are what the
store uses instead of private methods; these tests use them directly, as a
library that wraps ``Keychain`` would.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

import pytest

from secitem import constants as C
from secitem.errors import DuplicateItemError
from secitem.items import GenericPassword, InvalidQueryError, QueryTypeError
from secitem.keychain import Keychain

SVC = "org.example.surface"
SECRET = "correct horse battery"


Rows = list[Mapping[str, object]]


def _stored(kc: Keychain, account: str = "a") -> bytes:
    return kc.secret(GenericPassword(service=SVC, account=account))


def test_select_sees_the_stored_attributes_without_secret_or_digest(kc: Keychain) -> None:
    kc.add(GenericPassword(service=SVC, account="a", comment="first"), "old")
    seen: list[Rows] = []

    def select(rows: Rows) -> Rows:
        seen.append(rows)
        return rows

    assert kc.upsert(GenericPassword(service=SVC, account="a"), SECRET, select=select) is False
    assert _stored(kc) == SECRET.encode()
    [rows] = seen
    [row] = rows
    assert row[C.kSecAttrService] == SVC
    assert row[C.kSecAttrComment] == "first"
    assert "sha1" not in row  # a digest over the secret (items.py _HIDDEN)
    assert C.kSecValueData not in row
    assert all(v not in (SECRET, SECRET.encode()) for v in row.values())


def test_select_is_not_called_when_the_add_succeeds(kc: Keychain) -> None:
    def select(rows: Rows) -> Rows:
        raise AssertionError("select called without a duplicate")

    assert kc.upsert(GenericPassword(service=SVC, account="a"), "x", select=select) is True


def test_select_may_refuse_and_nothing_changes(kc: Keychain) -> None:
    kc.add(GenericPassword(service=SVC, account="a"), "old")

    class Refused(Exception):
        pass

    def select(rows: Rows) -> Rows:
        raise Refused

    with pytest.raises(Refused):
        kc.upsert(GenericPassword(service=SVC, account="a"), "new", select=select)
    assert _stored(kc) == b"old"


def test_select_choosing_none_is_a_duplicate_error_not_a_retry_loop(kc: Keychain) -> None:
    """An empty choice means "do not touch them": one call, DuplicateItemError, unchanged."""
    kc.add(GenericPassword(service=SVC, account="a"), "old")
    calls: list[int] = []

    def select(rows: Rows) -> Rows:
        calls.append(len(rows))
        return []

    with pytest.raises(DuplicateItemError) as err:
        kc.upsert(GenericPassword(service=SVC, account="a"), "new", select=select)
    assert calls == [1]
    assert "chose none" in (err.value.hint or "")
    assert "new" not in str(err.value) + repr(err.value)
    assert _stored(kc) == b"old"


def _a_and_b(kc: Keychain) -> bytes:
    """Items "a" and "b" of SVC; the persistent reference of "b" (the item a select
    might try to point the update of "a" at)."""
    kc.add(GenericPassword(service=SVC, account="a"), "a-old")
    other = kc.add(GenericPassword(service=SVC, account="b"), "b-old")
    assert other is not None
    return other.value


def test_select_cannot_forge_a_row_pointing_at_another_item(kc: Keychain) -> None:
    """Rows are accepted by identity: a made-up row with another item's reference is refused."""
    other = _a_and_b(kc)

    def select(rows: Rows) -> Rows:
        forged = dict(rows[0])
        forged[C.kSecValuePersistentRef] = other
        return [forged]

    with pytest.raises(QueryTypeError, match=r"upsert\(select=\.\.\.\).*rows from the list"):
        kc.upsert(GenericPassword(service=SVC, account="a"), "new", select=select)
    assert _stored(kc, "a") == b"a-old"
    assert _stored(kc, "b") == b"b-old"


@pytest.mark.parametrize("bad", [None, (), "rows", 3])
def test_select_must_return_a_list(kc: Keychain, bad: object) -> None:
    kc.add(GenericPassword(service=SVC, account="a"), "old")
    with pytest.raises(QueryTypeError, match="must return a list"):
        kc.upsert(GenericPassword(service=SVC, account="a"), "new", select=lambda rows: bad)  # type: ignore[arg-type,return-value]
    assert _stored(kc) == b"old"


@pytest.mark.usefixtures("no_native")
def test_select_must_be_callable_checked_before_any_native_call(kc: Keychain) -> None:
    with pytest.raises(QueryTypeError, match=r"upsert\(select=\.\.\.\)"):
        kc.upsert(GenericPassword(service=SVC, account="a"), "x", select="mine")  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_native")
def test_check_attributes_names_the_field_and_makes_no_native_call() -> None:
    fb = Keychain(platform="macos")
    item = GenericPassword(service=SVC, access_group="T.shared")
    with pytest.raises(InvalidQueryError, match=r"GenericPassword\.access_group"):
        fb.check_attributes(item)
    with pytest.raises(InvalidQueryError, match=r"mine\(access_group\)"):
        fb.check_attributes(item, add=True, name=lambda field: f"mine({field})")
    # The data-protection keychain keeps them: nothing to refuse.
    Keychain(platform="macos", data_protection=True).check_attributes(item, add=True)
    Keychain(platform="ios").check_attributes(item)
    with pytest.raises(QueryTypeError, match=r"check_attributes\(item\)"):
        fb.check_attributes("not an item")  # type: ignore[arg-type]


def test_the_store_uses_only_public_keychain_members() -> None:
    """store.py reaches no private member of a Keychain (issue #13 item 4)."""
    import secitem.store

    tree = ast.parse(Path(secitem.store.__file__).read_text(encoding="utf-8"))
    private = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr.startswith("_")):
            continue
        owner = node.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        if name in ("keychain", "_keychain", "Keychain"):
            private.append(f"line {node.lineno}: {name}.{node.attr}")
    assert private == []


# -- found by the adversarial review of the public surface ---------------------------


def test_select_never_sees_the_sha1_digest(kc: Keychain, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are shown without "sha1" even when the keychain returns it (Apple's
    data-protection rows may carry it; the emulator adds it only with data, so the
    row is given one here)."""
    from secitem import keychain as keychain_module

    kc.add(GenericPassword(service=SVC, account="a"), "old")
    real = keychain_module._security.SecItemCopyMatching

    def with_digest(query: Mapping[str, object]) -> object:
        found = real(query)
        for row in found if isinstance(found, list) else [found]:
            if isinstance(row, dict):
                row["sha1"] = b"\x01" * 20
        return found

    monkeypatch.setattr(keychain_module._security, "SecItemCopyMatching", with_digest)
    seen: list[Rows] = []

    def select(rows: Rows) -> Rows:
        seen.append(rows)
        return rows

    kc.upsert(GenericPassword(service=SVC, account="a"), "new", select=select)
    assert seen and all("sha1" not in row for row in seen[0])
    monkeypatch.undo()
    assert _stored(kc) == b"new"


def test_select_changing_a_row_in_place_cannot_redirect_the_update(kc: Keychain) -> None:
    other = _a_and_b(kc)

    def select(rows: Rows) -> Rows:
        rows[0][C.kSecValuePersistentRef] = other  # type: ignore[index]
        return rows

    kc.upsert(GenericPassword(service=SVC, account="a"), "a-new", select=select)
    assert _stored(kc, "a") == b"a-new"
    assert _stored(kc, "b") == b"b-old"


def test_item_not_found_raised_by_select_propagates_after_one_call(kc: Keychain) -> None:
    """Not taken for "deleted in between" (which would retry 1,000 rounds)."""
    from secitem.errors import ItemNotFoundError

    kc.add(GenericPassword(service=SVC, account="a"), "old")
    calls: list[int] = []

    def select(rows: Rows) -> Rows:
        calls.append(1)
        kc.get(GenericPassword(service="policy.not.stored", account="a"))
        return rows

    with pytest.raises(ItemNotFoundError) as err:
        kc.upsert(GenericPassword(service=SVC, account="a"), "new", select=select)
    assert calls == [1]
    assert "policy.not.stored" in str(err.value)
    assert _stored(kc) == b"old"


def test_async_select_must_be_a_plain_function(secitem_emulator: object) -> None:
    import asyncio

    from secitem.aio import AsyncKeychain

    async def select(rows: Rows) -> Rows:
        return rows

    with pytest.raises(QueryTypeError, match=r"AsyncKeychain\.upsert\(select=\.\.\.\).*plain"):
        asyncio.run(
            AsyncKeychain().upsert(GenericPassword(service=SVC, account="a"), "x", select=select)  # type: ignore[arg-type]
        )


@pytest.mark.usefixtures("no_native")
def test_check_attributes_checks_its_own_arguments() -> None:
    fb = Keychain(platform="macos")
    item = GenericPassword(service=SVC, access_group="T.shared")
    with pytest.raises(QueryTypeError, match=r"check_attributes\(name=\.\.\.\)"):
        fb.check_attributes(item, name="MyVault")  # type: ignore[arg-type]
    with pytest.raises(QueryTypeError, match=r"check_attributes\(name=\.\.\.\).*str"):
        fb.check_attributes(item, name=lambda field: 42)  # type: ignore[arg-type,return-value]
    with pytest.raises(QueryTypeError, match=r"check_attributes\(add=\.\.\.\)"):
        fb.check_attributes(item, add="no")  # type: ignore[arg-type]
    with pytest.raises(QueryTypeError, match="the class GenericPassword itself"):
        fb.check_attributes(GenericPassword)  # type: ignore[arg-type]


class _DropsSelect(Keychain):
    """A subclass written before select= existed: it passes on what it knows."""

    def upsert(  # type: ignore[override]
        self,
        item: GenericPassword,
        data: bytes | str | None = None,
        *,
        trusted_applications: object = None,
        any_application: bool = False,
        **ignored: object,
    ) -> bool:
        return super().upsert(item, data, any_application=any_application)


def test_store_keeps_its_ownership_rule_with_a_keychain_subclass(profile: str) -> None:
    """The store calls Keychain.upsert itself: an override that drops select= cannot
    make save() overwrite another app's password."""
    from secitem.store import Credential, CredentialStore

    kc = _DropsSelect(platform=profile)  # type: ignore[arg-type]
    theirs = GenericPassword(service=SVC, account="u", creator="othr")
    kc.add(theirs, "another app's password")
    with pytest.raises(DuplicateItemError):
        CredentialStore(service=SVC, keychain=kc).save(Credential("u", "mine"))
    assert kc.secret(theirs) == b"another app's password"


class _LyingSecrets(Keychain):
    """secret() returns a bytes subclass whose decode lies; secret_reader skips checks."""

    def secret(self, query: object) -> bytes:  # type: ignore[override]
        class Lying(bytes):
            def decode(self, *args: object, **kwargs: object) -> str:  # type: ignore[override]
                return "\ud800pw"

        return Lying(b"pw")

    def secret_reader(self, query: object, *, field: str = "account"):  # type: ignore[no-untyped-def,override]
        return lambda account=None: self.secret(query)


def test_store_get_checks_what_a_keychain_subclass_returns(profile: str) -> None:
    from secitem.store import CredentialStore

    store = CredentialStore(service=SVC, keychain=_LyingSecrets(platform=profile))  # type: ignore[arg-type]
    got = store.get("u")
    assert got is not None and got.password == "pw"  # the bytes, not the lying decode()
    with pytest.raises(InvalidQueryError, match=r"Credential\.account"):
        store.get("u\0")  # the subclass's reader did not check it: the Credential does
