"""The raw layer is memory-safe whatever Python object it is handed.

Python objects may lie: a ``bytes`` or ``list`` subclass can report any
``__len__``, a ``str`` subclass can override ``encode``.  Lengths and
contents that reach CoreFoundation must come from the objects' real buffers
and from what iteration yields, never from methods a subclass can replace.
Each test that could crash the process runs in a subprocess, so a
regression fails the test instead of killing the run.
"""

from __future__ import annotations

from typing import Any

import pytest
from binding_helpers import run_python, unique

from secitem.security import (
    SecItemAdd,
    SecItemCopyMatching,
    kSecAttrAccount,
    kSecAttrService,
    kSecClass,
    kSecClassGenericPassword,
    kSecMatchLimit,
    kSecMatchLimitAll,
    kSecReturnAttributes,
    kSecReturnData,
    kSecValueData,
)


class LyingBytes(bytes):
    def __len__(self) -> int:
        return 1 << 20


class LyingList(list[Any]):
    def __len__(self) -> int:
        return 5


class LyingTuple(tuple[Any, ...]):
    def __len__(self) -> int:
        return 7


class ShortList(list[Any]):
    def __len__(self) -> int:
        return 0


class EncodingLiar(str):
    def encode(self, *args: object, **kwargs: object) -> bytes:  # type: ignore[override]
        return LyingBytes(b"zz")

    def isascii(self) -> bool:
        return True


def _stored_secret(service: str) -> bytes:
    found = SecItemCopyMatching(
        {
            kSecClass: kSecClassGenericPassword,
            kSecAttrService: service,
            kSecReturnData: True,
        }
    )
    assert isinstance(found, bytes)
    return found


@pytest.mark.parametrize("container", [bytes, bytearray, memoryview])
def test_bytes_subclass_with_lying_len_stores_its_real_bytes(container: type) -> None:
    """Issue #11 item 1: a bytes subclass whose __len__ said 1 MB stored 1 MB of memory."""
    service = unique()
    value: object = LyingBytes(b"x")
    if container is not bytes:
        value = container(value)
    SecItemAdd(
        {
            kSecClass: kSecClassGenericPassword,
            kSecAttrService: service,
            kSecAttrAccount: "a",
            kSecValueData: value,
        }
    )
    assert _stored_secret(service) == b"x"


def test_bytes_subclass_claiming_16_gib_does_not_crash_the_process() -> None:
    """Issue #11 item 1: with __len__ = 1 << 34 the process segfaulted."""
    result = run_python(
        """
        from secitem.security import *
        class B(bytes):
            def __len__(self):
                return 1 << 34
        SecItemAdd({kSecClass: kSecClassGenericPassword, kSecAttrService: "s",
                    kSecAttrAccount: "a", kSecValueData: B(b"x")})
        got = SecItemCopyMatching({kSecClass: kSecClassGenericPassword,
                                   kSecAttrService: "s", kSecReturnData: True})
        print(got)
        """
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "b'x'"


@pytest.mark.parametrize("kind", ["LyingList", "LyingTuple", "ShortList"])
def test_array_subclass_with_lying_len_is_built_from_its_items(kind: str) -> None:
    """Issue #11 item 2: a list whose __len__ said 5 for one element aborted the process
    ("CFRetain() called with NULL") when used as a kSecMatchSearchList value."""
    result = run_python(
        f"""
        from secitem.security import *
        from secitem import KeychainError
        class LyingList(list):
            def __len__(self):
                return 5
        class LyingTuple(tuple):
            def __len__(self):
                return 7
        class ShortList(list):
            def __len__(self):
                return 0
        value = {kind}(["one"])
        try:
            SecItemCopyMatching({{kSecClass: kSecClassGenericPassword,
                                 kSecMatchSearchList: value, kSecMatchLimit: kSecMatchLimitAll}})
        except KeychainError as error:
            print("status", error.status)
        else:
            print("ok")
        """
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith(("status", "ok"))


def test_array_subclass_in_process_reaches_the_library_with_its_real_items() -> None:
    """The array built from a list that under-reports has exactly the items iteration
    yields (over-reporting lists crash unfixed code, so they run in a subprocess above)."""
    from secitem import _convert, _runtime

    with _convert.converted(ShortList(["a", "b", "c"])) as ref:
        assert _runtime.runtime().cf.CFArrayGetCount(ref) == 3
        assert _convert.to_python(ref) == ["a", "b", "c"]


def test_str_subclass_cannot_substitute_its_bytes() -> None:
    """A str subclass overriding encode()/isascii() is stored as the text it holds."""
    service = unique()
    SecItemAdd(
        {
            kSecClass: kSecClassGenericPassword,
            kSecAttrService: EncodingLiar(service),
            kSecAttrAccount: EncodingLiar("ацц"),
            kSecValueData: b"s",
        }
    )
    found = SecItemCopyMatching(
        {
            kSecClass: kSecClassGenericPassword,
            kSecAttrService: service,
            kSecReturnAttributes: True,
            kSecMatchLimit: kSecMatchLimitAll,
        }
    )
    assert isinstance(found, list) and len(found) == 1
    assert found[0][kSecAttrAccount] == "ацц"


@pytest.mark.parametrize("seconds", [1e300, -1e300, float("inf"), float("nan"), 3e11])
def test_a_date_python_cannot_hold_comes_back_opaque(sim: Any, seconds: float) -> None:
    """A CFDate can hold any double; one beyond datetime's range (found by the store
    fuzz: a stored date of 1e300) used to raise OverflowError out of a whole search.
    It now comes back as an opaque CFObject, and the typed layer leaves the date unset."""
    from secitem import _cfobjects, _convert, _runtime
    from secitem.items import GenericPassword, item_from_result

    cf = _runtime.runtime().cf
    date = cf.CFDateCreate(_convert._NULL, seconds)
    try:
        value = _convert.to_python(date)
        assert isinstance(value, _cfobjects.CFObject)
        value.close()
        result: dict[str, object] = {"cdat": _convert.to_python(date), "svce": "s", "class": "genp"}
        item = item_from_result(GenericPassword, result)
        assert item.creation_date is None and item.attributes.service == "s"
        result["cdat"].close()  # type: ignore[attr-defined]
    finally:
        cf.CFRelease(date)
