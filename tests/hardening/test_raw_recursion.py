"""docs/reliability.md: the raw layer's only exceptions for bad input are the
conversion's TypeError / ValueError / OverflowError (or a KeychainError).  A deeply
nested value, or a container that is flat when validated and recursive when built
(validate() and build() iterate it twice), raises RecursionError (a RuntimeError)
out of SecItemAdd / SecItemCopyMatching."""

import collections.abc

import pytest

from secitem.security import (
    SecItemAdd,
    SecItemCopyMatching,
    kSecAttrGeneric,
    kSecAttrLabel,
    kSecAttrService,
    kSecClass,
    kSecClassGenericPassword,
)

ALLOWED = (TypeError, ValueError, OverflowError)


def _nested(depth):
    value = "x"
    for _ in range(depth):
        value = [value]
    return value


def test_deeply_nested_list_is_refused_by_name(secitem_emulator):
    with pytest.raises(ALLOWED):
        SecItemCopyMatching({kSecClass: kSecClassGenericPassword, kSecAttrService: _nested(5000)})


class Flip(list):
    """Flat when validated, contains itself when built."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def __iter__(self):
        self.calls += 1
        return iter(["a"] if self.calls == 1 else [self])


def test_container_that_turns_recursive_is_refused(secitem_emulator):
    with pytest.raises(ALLOWED):
        SecItemAdd(
            {kSecClass: kSecClassGenericPassword, kSecAttrService: "s", kSecAttrGeneric: Flip()}
        )


class FlipMapping(collections.abc.Mapping):
    def __init__(self):
        self.calls = 0

    def items(self):
        self.calls += 1
        return [(kSecAttrLabel, "x")] if self.calls == 1 else [(kSecAttrLabel, self)]

    def __getitem__(self, key):
        raise KeyError(key)

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0


def test_mapping_that_turns_recursive_is_refused(secitem_emulator):
    with pytest.raises(ALLOWED):
        SecItemAdd(
            {
                kSecClass: kSecClassGenericPassword,
                kSecAttrService: "s",
                kSecAttrGeneric: [FlipMapping()],
            }
        )
