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


def test_select_cannot_forge_a_row_pointing_at_another_item(kc: Keychain) -> None:
    """Rows are accepted by identity: a made-up row with another item's reference is refused."""
    kc.add(GenericPassword(service=SVC, account="a"), "a-old")
    other = kc.add(GenericPassword(service=SVC, account="b"), "b-old")
    assert other is not None

    def select(rows: Rows) -> Rows:
        forged = dict(rows[0])
        forged[C.kSecValuePersistentRef] = other.value
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
