"""Random add/get/find/update/delete/upsert sequences: Keychain agrees with a model.

The model is a few lines of plain Python implementing the keychain's
uniqueness rules (facts 5.4): an item is identified by its class, its
primary-key attributes (missing ones default to "" / 0), and, in the
data-protection keychain, its access group and synchronizable flag; label
and secret are not part of the identity.  On macOS without the
data-protection flag, new items go to the file-based keychain unless they
are synchronizable, and every query searches both keychains.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from secitem.errors import DuplicateItemError, ItemNotFoundError
from secitem.items import (
    GenericPassword,
    InternetPassword,
    InvalidQueryError,
    Item,
    Protocol,
    Synchronizable,
)
from secitem.keychain import Keychain

GROUPS = ("g1", "g2")  # the first is the default access group

Desc = GenericPassword | InternetPassword


@dataclass
class Stored:
    store: str  # "fb" (macOS file-based) or "dp" (data protection)
    cls: type[Desc]
    ident: tuple[Any, ...]
    agrp: str | None
    sync: bool
    label: str | None
    data: bytes


def _ident(d: Desc) -> tuple[Any, ...]:
    if isinstance(d, GenericPassword):
        return (d.service or "", d.account or "")
    return (d.server or "", d.account or "", d.protocol or 0, d.port or 0)


def _ident_fields(d: Desc) -> tuple[Any, ...]:
    """The identity fields as given (None = wildcard in a query)."""
    if isinstance(d, GenericPassword):
        return (d.service, d.account)
    return (d.server, d.account, d.protocol, d.port)


def _sync_matches(query: Synchronizable | None, stored: bool) -> bool:
    if query is Synchronizable.ANY:
        return True
    return stored is (query is Synchronizable.YES)


class Model:
    def __init__(self, platform: str, data_protection: bool) -> None:
        self.items: list[Stored] = []
        self.dp_only = platform == "ios" or data_protection

    def store_for(self, d: Desc) -> str:
        return "dp" if self.dp_only or d.synchronizable is Synchronizable.YES else "fb"

    def matches(self, q: Desc) -> list[Stored]:
        out = []
        for s in self.items:
            if s.cls is not type(q):
                continue
            fields = _ident_fields(q)
            if any(f is not None and f != v for f, v in zip(fields, s.ident, strict=True)):
                continue
            if q.label is not None and s.label != q.label:
                continue
            if q.access_group is not None and s.agrp != q.access_group:
                continue
            if not _sync_matches(q.synchronizable, s.sync):  # type: ignore[arg-type]
                continue
            out.append(s)
        return out

    def key(self, d: Desc) -> tuple[Any, ...]:
        store = self.store_for(d)
        agrp = (d.access_group or GROUPS[0]) if store == "dp" else None
        return (store, type(d), _ident(d), agrp, d.synchronizable is Synchronizable.YES)

    def find_same(self, d: Desc) -> Stored | None:
        k = self.key(d)
        for s in self.items:
            if (s.store, s.cls, s.ident, s.agrp, s.sync) == k:
                return s
        return None

    def groups_with_identity(self, d: Desc) -> set[str]:
        """Access groups holding an item with ``d``'s identity (any group)."""
        sync = d.synchronizable is Synchronizable.YES
        return {
            s.agrp
            for s in self.items
            if s.cls is type(d) and s.ident == _ident(d) and s.sync is sync and s.agrp
        }

    def add(self, d: Desc, data: bytes) -> None:
        store, cls, ident, agrp, sync = self.key(d)
        self.items.append(Stored(store, cls, ident, agrp, sync, d.label, data))


# -- strategies ---------------------------------------------------------------------


def _descriptions(*, for_add: bool, groups: bool) -> st.SearchStrategy[Desc]:
    """Items to add (few distinct values, so they collide) or queries (mostly broad)."""

    def pick(*values: object) -> st.SearchStrategy[Any]:
        # queries leave a field out more often than not, so they match several items
        return st.sampled_from(values if for_add else (None, None, *values))

    sync = (
        st.sampled_from([None, Synchronizable.YES])
        if for_add
        else pick(Synchronizable.ANY, Synchronizable.YES)
    )
    group = pick(None, *GROUPS) if groups else st.none()
    generic = st.builds(
        GenericPassword,
        service=pick("s1", "s2"),
        account=pick(None, "a", "b"),
        label=pick(None, "x", "y"),
        access_group=group,
        synchronizable=sync,
    )
    internet = st.builds(
        InternetPassword,
        server=pick("e.com", "f.org"),
        account=pick(None, "a"),
        protocol=pick(None, Protocol.HTTPS),
        port=pick(None, 443),
        label=pick(None, "x", "y"),
        access_group=group,
        synchronizable=sync,
    )
    return st.one_of(generic, internet)


_secrets = st.sampled_from([b"p1", b"p2", b"p3", b""])


def _run(sim: Any, platform: str, data_protection: bool) -> None:
    # Access groups are exercised where the data-protection keychain decides
    # (on macOS the file-based keychain has none).
    groups = platform == "ios" or data_protection

    class KeychainMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            sim.lib.secsim_reset()
            sim.lib.secsim_set_profile(platform.encode())
            sim.lib.secsim_set_access_groups(",".join(GROUPS).encode())
            self.kc = Keychain(
                platform=platform,  # type: ignore[arg-type]
                data_protection=data_protection if platform == "macos" else None,
            )
            self.model = Model(platform, data_protection)

        @initialize()
        def empty(self) -> None:
            assert self.kc.find(GenericPassword(synchronizable=Synchronizable.ANY)) == []

        @rule(
            batch=st.lists(
                st.tuples(_descriptions(for_add=True, groups=groups), _secrets),
                min_size=2,
                max_size=5,
            )
        )
        def add_several(self, batch: list[tuple[Desc, bytes]]) -> None:
            for d, data in batch:
                self.add(d, data)

        @rule(d=_descriptions(for_add=True, groups=groups), data=_secrets)
        def add(self, d: Desc, data: bytes) -> None:
            expected_dup = self.model.find_same(d) is not None
            try:
                ref = self.kc.add(d, data)
            except DuplicateItemError:
                assert expected_dup
                return
            assert not expected_dup
            assert ref is not None
            self.model.add(d, data)

        @rule(d=_descriptions(for_add=True, groups=groups), data=_secrets)
        def upsert(self, d: Desc, data: bytes) -> None:
            same = self.model.find_same(d)
            if same is not None and d.access_group is None:
                groups_found = self.model.groups_with_identity(d)
                if len(groups_found) > 1:
                    with pytest.raises(InvalidQueryError, match="several access groups"):
                        self.kc.upsert(d, data)
                    return
            added = self.kc.upsert(d, data)
            assert added is (same is None)
            if same is None:
                self.model.add(d, data)
            else:
                same.data = data
                if d.label is not None:
                    same.label = d.label

        @rule(q=_descriptions(for_add=False, groups=groups))
        def get(self, q: Desc) -> None:
            expected = self.model.matches(q)
            try:
                item = self.kc.get(q)
            except ItemNotFoundError:
                assert expected == []
                return
            assert (item.data, item.attributes.label) in {(s.data, s.label) for s in expected}

        @rule(q=_descriptions(for_add=False, groups=groups), data=st.booleans())
        def find(self, q: Desc, data: bool) -> None:
            found = self.kc.find(q, data=data)
            got = Counter(
                (type(i.attributes), _ident(i.attributes), i.attributes.label, i.data)
                for i in found
            )
            want = Counter(
                (s.cls, s.ident, s.label, s.data if data else None) for s in self.model.matches(q)
            )
            assert got == want

        @rule(
            q=_descriptions(for_add=False, groups=groups),
            label=st.sampled_from([None, "x", "z"]),
            data=st.sampled_from([None, b"n1", b"n2"]),
        )
        def update(self, q: Desc, label: str | None, data: bytes | None) -> None:
            if label is None and data is None:
                data = b"n0"
            expected = self.model.matches(q)
            changes = {} if label is None else {"label": label}
            try:
                self.kc.update(q, data=data, changes=changes)
            except ItemNotFoundError:
                assert expected == []
                return
            assert expected
            for s in expected:
                if label is not None:
                    s.label = label
                if data is not None:
                    s.data = data

        @rule(q=_descriptions(for_add=False, groups=groups), missing_ok=st.booleans())
        def delete(self, q: Desc, missing_ok: bool) -> None:
            expected = self.model.matches(q)
            try:
                deleted = self.kc.delete(q, missing_ok=missing_ok)
            except ItemNotFoundError:
                assert expected == [] and not missing_ok
                return
            assert deleted is bool(expected)
            for s in expected:
                self.model.items.remove(s)

        @invariant()
        def everything_agrees(self) -> None:
            found: list[Item[Any]] = []
            found += self.kc.find(GenericPassword(synchronizable=Synchronizable.ANY), data=True)
            found += self.kc.find(InternetPassword(synchronizable=Synchronizable.ANY), data=True)
            got = Counter(
                (type(i.attributes), _ident(i.attributes), i.attributes.label, i.data)
                for i in found
            )
            want = Counter((s.cls, s.ident, s.label, s.data) for s in self.model.items)
            assert got == want

    run_state_machine_as_test(
        KeychainMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            verbosity=__import__("hypothesis").Verbosity.verbose,
        ),
    )


@pytest.mark.parametrize(
    ("platform", "data_protection"),
    [("ios", False), ("macos", False), ("macos", True)],
    ids=["ios", "macos-default-routing", "macos-data-protection"],
)
def test_keychain_agrees_with_model(sim: Any, platform: str, data_protection: bool) -> None:
    """Keychain behaves like the uniqueness model in every profile and routing."""
    _run(sim, platform, data_protection)
