"""Python <-> CoreFoundation conversion: round trips, refusals, ownership.

The round trips run against the real CoreFoundation on a Mac too (marked
``macos``); everywhere else the leak check of the top-level conftest proves
that every object created was released.
"""

from __future__ import annotations

import copy
import gc
import math
import pickle
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest
from binding_helpers import run_python
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secitem import _cfobjects, _convert
from secitem.constants import SecConstant, kSecAttrAccount, kSecAttrLabel, kSecClass
from secitem.security import (
    SecAccessControlCreateWithFlags,
    kSecAccessControlUserPresence,
    kSecAttrAccessibleWhenUnlocked,
)

INT64 = st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1)
ZONES = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=5, minutes=30)),
        timezone(-timedelta(hours=8)),
        timezone(timedelta(minutes=-1)),
    ]
)
# Exact to the microsecond for |t| < 2**33 s around 2001 (see secitem._convert).
DATES = st.datetimes(
    min_value=datetime(1740, 1, 1), max_value=datetime(2260, 1, 1), timezones=ZONES
)
SCALARS = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8")).map(lambda s: s + "\x00" + s),
    st.binary(),
    st.booleans(),
    INT64,
    st.floats(),
    DATES,
)
KEYS = st.one_of(st.text(max_size=8), st.sampled_from([kSecAttrAccount, kSecAttrLabel, kSecClass]))
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(KEYS, children, max_size=4),
    ),
    max_leaves=16,
)

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def roundtrip(value: object) -> object:
    with _convert.converted(value) as ref:
        return _convert.to_python(ref)


def expected(value: object) -> object:
    """What a value should come back as: tuples become lists, buffers bytes."""
    if isinstance(value, tuple | list):
        return [expected(item) for item in value]
    if isinstance(value, dict):
        return {key: expected(item) for key, item in value.items()}
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value


def same(actual: object, wanted: object) -> bool:
    """Equality that also compares types (True is not 1) and treats NaN as NaN."""
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return type(actual) is type(wanted) and actual == wanted
    if isinstance(wanted, float):
        return type(actual) is float and (
            actual == wanted or (math.isnan(actual) and math.isnan(wanted))
        )
    if isinstance(wanted, datetime):
        return isinstance(actual, datetime) and actual == wanted and actual.tzinfo is UTC
    if isinstance(wanted, list):
        return (
            type(actual) is list
            and len(actual) == len(wanted)
            and all(same(a, w) for a, w in zip(actual, wanted, strict=True))
        )
    if isinstance(wanted, dict):
        return (
            type(actual) is dict
            and actual.keys() == wanted.keys()
            and all(same(actual[k], w) for k, w in wanted.items())
        )
    return type(actual) is type(wanted) and actual == wanted


@pytest.mark.macos
@SETTINGS
@given(VALUES)
def test_every_convertible_value_round_trips(value: object) -> None:
    """Any nesting of the supported types comes back unchanged."""
    assert same(roundtrip(value), expected(value))


@pytest.mark.macos
@pytest.mark.parametrize(
    "value",
    [
        "",
        "a\x00b",
        "\x00",
        "😀 non-BMP 𝄞",
        "é" * 1000,
        b"",
        b"\x00\xff" * 100,
        True,
        False,
        0,
        -1,
        (1 << 63) - 1,
        -(1 << 63),
        0.0,
        -0.5,
        1e308,
        float("inf"),
        float("-inf"),
        datetime(2001, 1, 1, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-3))),
        [],
        {},
        [[[]]],
        {"nested": {"deeper": [1, "two", b"3"]}},
    ],
    ids=repr,
)
def test_examples_round_trip(value: object) -> None:
    """Edge values (NUL, non-BMP, int64 bounds, infinities, empty containers) survive."""
    assert same(roundtrip(value), expected(value))


@pytest.mark.macos
def test_nan_round_trips_as_nan() -> None:
    """NaN is passed as a Float64 CFNumber and comes back as NaN."""
    result = roundtrip(float("nan"))
    assert isinstance(result, float) and math.isnan(result)


@pytest.mark.macos
def test_buffers_become_bytes() -> None:
    """bytearray and memoryview go in as CFData and come back as bytes."""
    assert roundtrip(bytearray(b"ab\x00")) == b"ab\x00"
    assert roundtrip(memoryview(b"xyz")[1:]) == b"yz"
    assert roundtrip(memoryview(bytes(range(8))).cast("I")) == bytes(range(8))


@pytest.mark.macos
def test_bool_is_not_a_number() -> None:
    """bool converts to CFBoolean (checked before int), int to CFNumber."""
    assert roundtrip([True, 1, False, 0]) == [True, 1, False, 0]
    assert [type(x) for x in roundtrip([True, 1])] == [bool, int]  # type: ignore[union-attr]


@pytest.mark.macos
def test_dates_come_back_utc_aware() -> None:
    """An aware datetime in any zone comes back as the same instant in UTC."""
    local = datetime(2030, 6, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=9)))
    result = roundtrip(local)
    assert isinstance(result, datetime)
    assert result.tzinfo is UTC
    assert result == local
    assert result.hour == 3


@pytest.mark.macos
def test_mappings_and_tuples_are_accepted() -> None:
    """Any Mapping converts to CFDictionary and any tuple to CFArray."""
    value = MappingProxyType({"a": OrderedDict(b=(1, 2))})
    assert roundtrip(value) == {"a": {"b": [1, 2]}}


@pytest.mark.macos
def test_result_keys_are_constants() -> None:
    """CF string keys with a public constant come back as that SecConstant."""
    result = roundtrip({"acct": 1, "type": 2, "persistref": 3, "musr": 4, kSecAttrLabel: 5})
    assert isinstance(result, dict)
    keys = {str(key): key for key in result}
    assert isinstance(keys["acct"], SecConstant) and keys["acct"].name == "kSecAttrAccount"
    assert keys["type"].name == "kSecAttrType"  # type: ignore[attr-defined]
    assert keys["persistref"].name == "kSecAttrPersistentReference"  # type: ignore[attr-defined]
    assert type(keys["musr"]) is str  # no public constant
    assert result[kSecAttrAccount] == 1


@pytest.mark.macos
def test_non_string_keys() -> None:
    """Dictionary keys need not be strings: numbers and tuples work too."""
    assert roundtrip({1: "one", (1, 2): "pair"}) == {1: "one", (1, 2): "pair"}


# ---------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({kSecAttrLabel: {1}}, "kSecAttrLabel: cannot convert set to a CoreFoundation value"),
        ({kSecAttrLabel: None}, "kSecAttrLabel: cannot convert NoneType to a CoreFoundation value"),
        (
            {"outer": {"inner": [1, 2, 3j]}},
            "outer.inner[2]: cannot convert complex to a CoreFoundation value",
        ),
        ({"x": Decimal(1)}, "x: cannot convert Decimal to a CoreFoundation value"),
        ({"x": date(2020, 1, 1)}, "x: cannot convert date to a CoreFoundation value"),
        ({"x": frozenset()}, "x: cannot convert frozenset to a CoreFoundation value"),
        ([object()], "value[0]: cannot convert object to a CoreFoundation value"),
        ({"": range(3)}, "'': cannot convert range to a CoreFoundation value"),
    ],
)
def test_unsupported_types_name_the_key(value: object, message: str) -> None:
    """Anything else is a TypeError naming the key path and the type only."""
    with pytest.raises(TypeError) as info:
        _convert.validate(value)
    assert str(info.value) == message
    with pytest.raises(TypeError), _convert.converted(value):
        pass


def test_out_of_range_int() -> None:
    """An int outside the signed 64-bit range is an OverflowError naming the key."""
    for number in (1 << 63, -(1 << 63) - 1, 1 << 200):
        with pytest.raises(OverflowError, match=r"^kSecAttrLabel: integer does not fit"):
            _convert.validate({kSecAttrLabel: number})


def test_naive_datetime_is_refused() -> None:
    """A naive datetime is ambiguous: ValueError naming the key."""
    with pytest.raises(ValueError, match=r"^kSecAttrLabel: naive datetime"):
        _convert.validate({kSecAttrLabel: datetime(2020, 1, 1)})


def test_lone_surrogate_is_refused() -> None:
    """A str that is not valid Unicode cannot become a CFString."""
    with pytest.raises(ValueError, match=r"^kSecAttrLabel: string contains a lone surrogate"):
        _convert.validate({kSecAttrLabel: "a\ud800"})


def test_recursive_container_is_refused() -> None:
    """A list containing itself is a ValueError, not a crash or a RecursionError."""
    loop: list[Any] = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match=r"recursive container"):
        _convert.validate({"x": loop})
    shared = [1, 2]
    _convert.validate({"a": shared, "b": shared})  # the same object twice is fine


def test_refusal_creates_nothing(sim: Any) -> None:
    """A refused value is caught before any CF object is created."""
    before = sim.lib.secsim_live_objects()
    value = {"a": "x" * 100, "b": [b"data", 1.5, {"c": {1, 2}}]}
    with (
        pytest.raises(TypeError, match=r"^b\[2\]\.c: cannot convert set"),
        _convert.converted(value),
    ):
        pass
    assert sim.lib.secsim_live_objects() == before


BAD = st.sampled_from(
    [
        {1},
        None,
        3j,
        object(),
        Decimal("1.5"),
        date(2020, 1, 1),
        datetime(2020, 1, 1),
        1 << 64,
        -(1 << 64),
        "\udfff",
        range(2),
    ]
)


@st.composite
def with_one_bad_value(draw: st.DrawFn) -> tuple[object, str]:
    """A nest of good values with one bad value at a known key path."""
    path = ""
    value: object = draw(BAD)
    steps = draw(
        st.lists(
            st.one_of(
                st.text(min_size=1, max_size=6).map(lambda k: ("key", k)),
                st.integers(0, 3).map(lambda i: ("index", i)),
            ),
            max_size=4,
        )
    )
    names: list[tuple[str, object]] = []
    for kind, step in reversed(steps):
        if kind == "key":
            others = draw(st.dictionaries(st.text(min_size=1, max_size=6), SCALARS, max_size=3))
            others.pop(step, None)  # type: ignore[call-overload]
            value = {**others, step: value}
        else:
            assert isinstance(step, int)
            before = draw(st.lists(SCALARS, min_size=step, max_size=step))
            after = draw(st.lists(SCALARS, max_size=2))
            value = [*before, value, *after]
        names.append((kind, step))
    for kind, step in reversed(names):
        if kind == "key":
            path = f"{path}.{step}" if path else str(step)
        else:
            path = f"{path or 'value'}[{step}]"
    return value, path or "value"


@SETTINGS
@given(with_one_bad_value())
def test_bad_values_anywhere_are_named(case: tuple[object, str]) -> None:
    """A bad value at any depth raises an error that starts with its key path."""
    value, path = case
    with pytest.raises((TypeError, ValueError, OverflowError)) as info, _convert.converted(value):
        pass
    assert str(info.value).startswith(f"{path}: "), (str(info.value), path)


ANYTHING = st.recursive(
    st.one_of(SCALARS, BAD),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(KEYS, children, max_size=3),
        st.frozensets(st.integers(), max_size=2),
    ),
    max_leaves=12,
)


@SETTINGS
@given(ANYTHING)
def test_arbitrary_values_convert_or_raise(sim: Any, value: object) -> None:
    """Arbitrary nested values either convert or raise cleanly, never leaking."""
    before = sim.lib.secsim_live_objects()
    try:
        with _convert.converted(value) as ref:
            _convert.to_python(ref)
    except (TypeError, ValueError, OverflowError) as exc:
        assert ": " in str(exc)
    assert sim.lib.secsim_live_objects() == before


# ---------------------------------------------------------------------------
# Opaque objects


def test_opaque_object_lifecycle(sim: Any) -> None:
    """A CFObject owns one reference, closes once, and can be passed back in."""
    before = sim.lib.secsim_live_objects()
    access = SecAccessControlCreateWithFlags(
        kSecAttrAccessibleWhenUnlocked, kSecAccessControlUserPresence
    )
    assert isinstance(access, _cfobjects.AccessControl)
    assert sim.lib.secsim_live_objects() == before + 1
    assert repr(access).startswith("<secitem.AccessControl SecAccessControl at 0x")
    back = roundtrip({"accc": access})
    assert isinstance(back, dict)
    inner = back["accc"]
    assert isinstance(inner, _cfobjects.AccessControl) and inner is not access
    assert inner == access and hash(inner) == hash(access)
    inner.close()
    with access:
        assert not access.closed
    assert access.closed
    access.close()  # idempotent
    assert repr(access) == "<secitem.AccessControl SecAccessControl (closed)>"
    assert sim.lib.secsim_live_objects() == before
    with pytest.raises(ValueError, match="accc: AccessControl is closed"):
        _convert.validate({"accc": access})
    with pytest.raises(ValueError, match="closed"):
        _ = access.type_id


def test_opaque_object_gc_safety_net(sim: Any) -> None:
    """An object that is never closed is released when collected."""
    before = sim.lib.secsim_live_objects()
    access = SecAccessControlCreateWithFlags(kSecAttrAccessibleWhenUnlocked, 0)
    assert sim.lib.secsim_live_objects() == before + 1
    del access
    gc.collect()
    assert sim.lib.secsim_live_objects() == before


def test_opaque_object_copy_and_pickle(sim: Any) -> None:
    """copy() takes its own reference; pickling is refused; direct creation too."""
    before = sim.lib.secsim_live_objects()
    with SecAccessControlCreateWithFlags(kSecAttrAccessibleWhenUnlocked, 0) as access:
        duplicate = copy.copy(access)
        assert duplicate == access and duplicate is not access
        access.close()
        assert not duplicate.closed and duplicate.type_id > 0
        duplicate.close()
        with pytest.raises(TypeError):
            pickle.dumps(duplicate)
    with pytest.raises(TypeError):
        _cfobjects.AccessControl()
    assert sim.lib.secsim_live_objects() == before


def test_wrappers_keep_the_library_loaded(sim: Any) -> None:
    """A wrapper outliving the module globals (interpreter exit) still has a
    mapped library to release into: no crash at exit."""
    code = """
        import gc
        import secitem._runtime as loader
        from secitem.security import SecAccessControlCreateWithFlags, kSecAttrAccessibleWhenUnlocked
        keep = SecAccessControlCreateWithFlags(kSecAttrAccessibleWhenUnlocked, 0)
        cycle = [keep]
        cycle.append(cycle)
        loader.current = None
        loader._libraries = None
        gc.collect()
        maps = open("/proc/self/maps").read() if sys.platform.startswith("linux") else "libsecsim"
        assert "libsecsim" in maps
        del keep
        import sys
    """.replace("import gc", "import gc, sys")
    result = run_python(code)
    assert result.returncode == 0, result.stderr
