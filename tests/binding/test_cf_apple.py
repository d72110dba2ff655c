"""The binding's conversions, run on Apple's own CoreFoundation (issue #16, section 2).

``tests/binding/test_cf.py`` checks the Python <-> CF conversions against the
emulator (and against the real framework on a Mac).  Here the same values go
through the same builder and readers, but on the CoreFoundation C code that
macOS runs (``../shared/reference/apple-cf``, see ``tests/applecf.py``), with
a runtime that has no Security half: what the binding writes, Apple's CF
must read back unchanged.  The reference library has no live-object counter,
so each test counts its own creates and releases instead.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from test_cf import SETTINGS, VALUES, expected, same

import applecf
from secitem import _convert, _from_cf, _runtime
from secitem._ffi_gen import ffi


@pytest.fixture(scope="module")
def apple_rt() -> _runtime.Runtime:
    """A conversion-only runtime on Apple's CF, loaded with the binding's own cdef."""
    reason = applecf.load()
    if isinstance(reason, str):
        if applecf.required():
            pytest.fail(reason)
        pytest.skip(reason)
    path = str(applecf.path())
    return _runtime.Runtime.core_foundation_only(ffi.dlopen(path), path)


def _roundtrip(rt: _runtime.Runtime, value: object) -> object:
    _convert.validate(value)
    builder = _convert.Builder(rt)
    try:
        ref = builder.build(value)
        retained = rt.cf.CFGetRetainCount(ref)
        result = _from_cf.from_cf(rt, ref)
        # Reading never keeps a reference to what it read.
        assert rt.cf.CFGetRetainCount(ref) == retained
        return result
    finally:
        builder.release()


@SETTINGS
@given(VALUES)
def test_every_convertible_value_round_trips_on_apples_cf(
    apple_rt: _runtime.Runtime, value: object
) -> None:
    """Any nesting of strings, bytes, bools, int64, floats and dates, on Apple's CF."""
    assert same(_roundtrip(apple_rt, value), expected(value))


@pytest.mark.parametrize(
    "value",
    [
        "\ufeffleading BOM",
        "\ufeff",
        "😀 non-BMP 𝄞",
        "a\x00b",
        "é" * 1000,
        b"\x00\xff" * 100,
        (1 << 63) - 1,
        -(1 << 63),
        -0.0,
        float("inf"),
        1e-310,
        [],
        {},
        {"nested": {"deeper": [1, "two", b"3", True]}},
    ],
    ids=repr,
)
def test_edge_values_round_trip_on_apples_cf(apple_rt: _runtime.Runtime, value: object) -> None:
    """The values most likely to differ between CF implementations survive."""
    assert same(_roundtrip(apple_rt, value), expected(value))


def test_dates_round_trip_exactly_on_apples_cf(apple_rt: _runtime.Runtime) -> None:
    """CFDate's absolute time (seconds since 2001) is read back to the microsecond."""
    from datetime import UTC, datetime, timedelta, timezone

    for value in (
        datetime(2001, 1, 1, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-3))),
        datetime(2262, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    ):
        assert same(_roundtrip(apple_rt, value), value)


def test_the_binding_creates_no_object_it_does_not_release(apple_rt: _runtime.Runtime) -> None:
    """Each object the builder creates is released exactly once (retain counts, since
    Apple's CF has no live-object counter): a string held by an array ends at 1."""
    cf: Any = apple_rt.cf
    builder = _convert.Builder(apple_rt)
    try:
        array = builder.build(["one", "two"])
        first = cf.CFArrayGetValueAtIndex(array, 0)
        assert cf.CFGetRetainCount(first) == 1  # only the array holds it
        assert cf.CFGetRetainCount(array) == 1  # only the builder holds it
        assert builder.owned == [array]
    finally:
        builder.release()
