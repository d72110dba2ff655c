"""A result that fails to convert half-way releases what was already wrapped."""

from __future__ import annotations

import math
from typing import Any

import pytest

from secitem import _convert, _runtime
from secitem._ffi import ffi


def _as_secitem_ref(sim: Any, ref: object) -> object:
    return ffi.cast("CFTypeRef", int(sim.ffi.cast("uintptr_t", ref)))


class _Unreadable(ValueError):
    pass


def _fail(rt: object, ref: object) -> object:
    raise _Unreadable("this reader fails on purpose")


@pytest.mark.parametrize("container", ["array", "dictionary"])
def test_opaque_objects_are_released_when_a_later_value_fails(
    sim: Any, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An AccessControl before a value whose reader fails is closed at once, not by GC.

    (Every CF value converts today, an out-of-range CFDate included, so the
    date reader is made to fail: what is pinned is the clean-up, not the cause.)
    """
    lib, sffi = sim.lib, sim.ffi
    rt = _runtime.runtime()  # load secitem's view of the same library
    monkeypatch.setitem(rt.converters, int(lib.CFDateGetTypeID()), _fail)
    error = sffi.new("CFErrorRef *")
    access = lib.SecAccessControlCreateWithFlags(
        sffi.NULL, lib.kSecAttrAccessibleWhenUnlocked, 1, error
    )
    assert access != sffi.NULL
    date = lib.CFDateCreate(sffi.NULL, math.inf)
    values = sffi.new("CFTypeRef[]", [access, date])
    if container == "array":
        ref = lib.CFArrayCreate(sffi.NULL, values, 2, sffi.addressof(lib.kCFTypeArrayCallBacks))
    else:
        keys = sffi.new("CFTypeRef[]", [lib.kSecAttrAccessControl, lib.kSecAttrCreationDate])
        ref = lib.CFDictionaryCreate(
            sffi.NULL,
            keys,
            values,
            2,
            sffi.addressof(lib.kCFTypeDictionaryKeyCallBacks),
            sffi.addressof(lib.kCFTypeDictionaryValueCallBacks),
        )
    lib.CFRelease(access)
    lib.CFRelease(date)
    assert lib.CFGetRetainCount(access) == 1  # only the container's reference
    with pytest.raises(_Unreadable) as info:
        _convert.to_python(_as_secitem_ref(sim, ref))
    # While the exception (and its traceback's frames) is still alive, nothing
    # the failed conversion wrapped may be: it was released, not left to GC.
    assert info.value is not None
    assert lib.CFGetRetainCount(access) == 1
    lib.CFRelease(ref)
