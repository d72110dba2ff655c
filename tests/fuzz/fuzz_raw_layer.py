"""Coverage-guided fuzz of the raw layer (``secitem.security``) with atheris.

Each input is decoded into one SecItem call (add, copy-matching, update or
delete) whose dictionary is built from the fuzz bytes: Apple's constants and
plain strings as keys; as values, every type the binding converts, values it
must refuse, and Python objects that lie (``bytes``/``list``/``tuple``
subclasses with a false ``__len__``, ``str`` subclasses overriding
``encode``, ints whose comparisons lie, mappings whose ``items`` changes
between calls).

The process must never crash (the run uses the AddressSanitizer build of the
emulator in CI), and each call must end in one of the outcomes the contract
names: a result, a :class:`secitem.KeychainError` carrying an OSStatus, or a
``TypeError`` / ``ValueError`` / ``OverflowError`` from the conversion.  Any
other exception, or a CoreFoundation object left alive after the call, is a
finding: the harness raises, atheris saves the input and stops.

Run (``SECITEM_LIBRARY`` must name the emulator)::

    python tests/fuzz/fuzz_raw_layer.py -max_len=1024 -max_total_time=60 CORPUS_DIR

libFuzzer prints ``Done N runs`` at the end; ``.ci/run`` then replays the
corpus on the AddressSanitizer build with ``-runs=0`` (gcc's ASan runtime
would shadow atheris's coverage hooks, so the guided run uses the plain build).
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import math
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import atheris

with atheris.instrument_imports():
    import secitem._cfobjects
    import secitem._convert
    import secitem.security as sec
    from secitem import KeychainError

_LIB = ctypes.CDLL(os.environ["SECITEM_LIBRARY"])
_LIB.secsim_live_objects.restype = ctypes.c_long
_LIB.secsim_reset.restype = None

_CONSTANTS = [getattr(sec, name) for name in sec.__all__ if name.startswith("kSec")]
_CLASSES = [
    sec.kSecClassGenericPassword,
    sec.kSecClassInternetPassword,
    sec.kSecClassCertificate,
    sec.kSecClassKey,
    sec.kSecClassIdentity,
]
_EXPECTED = (KeychainError, TypeError, ValueError, OverflowError)
_inputs = 0


class LyingBytes(bytes):
    claim = 1 << 20

    def __len__(self) -> int:
        return self.claim


class LyingList(list[Any]):
    claim = 5

    def __len__(self) -> int:
        return self.claim


class LyingTuple(tuple[Any, ...]):
    def __len__(self) -> int:
        return 3


class EncodingStr(str):
    def encode(self, *args: object, **kwargs: object) -> bytes:  # type: ignore[override]
        return LyingBytes(b"!")

    def isascii(self) -> bool:
        return True


class LyingInt(int):
    def __le__(self, other: object) -> bool:
        return True

    def __ge__(self, other: object) -> bool:
        return True


class FlipMapping(Mapping[object, object]):
    """A mapping whose second ``items()`` differs from its first."""

    def __init__(self, first: dict[object, object], second: dict[object, object]) -> None:
        self.calls = 0
        self.first, self.second = first, second

    def _now(self) -> dict[object, object]:
        self.calls += 1
        return self.first if self.calls == 1 else self.second

    def __getitem__(self, key: object) -> object:
        return self._now()[key]

    def __iter__(self) -> Iterator[object]:
        return iter(self._now())

    def __len__(self) -> int:
        return 1 << 40

    def items(self) -> Any:
        return self._now().items()


def _text(fdp: atheris.FuzzedDataProvider) -> str:
    choice = fdp.ConsumeIntInRange(0, 5)
    if choice == 0:
        return fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 40))
    if choice == 1:
        return "\ufeff" + fdp.ConsumeUnicodeNoSurrogates(8)
    if choice == 2:
        return "x" * fdp.ConsumeIntInRange(0, 5000)
    if choice == 3:
        return EncodingStr(fdp.ConsumeUnicodeNoSurrogates(6))
    if choice == 4:
        return "\udcff" + fdp.ConsumeUnicodeNoSurrogates(4)
    return fdp.ConsumeUnicodeNoSurrogates(12)


def _value(fdp: atheris.FuzzedDataProvider, depth: int = 0) -> object:
    kind = fdp.ConsumeIntInRange(0, 22)
    if kind == 0:
        return _text(fdp)
    if kind == 1:
        return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 64))
    if kind == 2:
        b = LyingBytes(fdp.ConsumeBytes(4))
        b.claim = fdp.PickValueInList([0, 1, 1 << 20, 1 << 34, -1 & 0xFFFF])
        return b
    if kind == 3:
        return bytearray(fdp.ConsumeBytes(8))
    if kind == 4:
        return memoryview(fdp.ConsumeBytes(8))
    if kind == 5:
        return fdp.ConsumeBool()
    if kind == 6:
        return fdp.PickValueInList([0, 1, -1, 2**63 - 1, -(2**63), 2**63, 2**64, -(2**70)])
    if kind == 7:
        return fdp.ConsumeInt(9)
    if kind == 8:
        return fdp.PickValueInList([0.0, -0.0, math.nan, math.inf, -math.inf, 1e308, 5e-324])
    if kind == 9:
        return LyingInt(fdp.PickValueInList([0, 2**64, -(2**70)]))
    if kind == 10:
        seconds = fdp.ConsumeIntInRange(-(10**10), 10**10)
        return dt.datetime(2001, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)
    if kind == 11:
        return dt.datetime(2020, 1, 1)  # naive: refused
    if kind in (12, 13) and depth < 3:
        items = [_value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 4))]
        if kind == 12:
            lying = LyingList(items)
            lying.claim = fdp.PickValueInList([0, len(items) + 3, 1 << 31])
            return lying
        return LyingTuple(items) if fdp.ConsumeBool() else list(items)
    if kind == 14 and depth < 3:
        return _dictionary(fdp, depth + 1)
    if kind == 15 and depth < 3:
        return FlipMapping(_dictionary(fdp, depth + 1), {object(): object()})
    if kind == 16:
        return object()
    if kind == 17:
        return None
    if kind == 18:
        return fdp.PickValueInList(_CONSTANTS)
    if kind == 19:
        return fdp.PickValueInList(_CLASSES)
    if kind == 20 and depth < 2:
        recursive: list[object] = []
        recursive.append(recursive)
        return recursive
    return _text(fdp)


def _key(fdp: atheris.FuzzedDataProvider) -> object:
    kind = fdp.ConsumeIntInRange(0, 9)
    if kind <= 6:
        return fdp.PickValueInList(_CONSTANTS)
    if kind == 7:
        return _text(fdp)
    if kind == 8:
        return fdp.ConsumeBytes(4)
    return fdp.ConsumeIntInRange(0, 3)


def _dictionary(fdp: atheris.FuzzedDataProvider, depth: int = 0) -> dict[object, object]:
    result: dict[object, object] = {}
    if depth == 0 and fdp.ConsumeIntInRange(0, 7):
        result[sec.kSecClass] = fdp.PickValueInList(_CLASSES)
    for _ in range(fdp.ConsumeIntInRange(0, 8)):
        try:
            result[_key(fdp)] = _value(fdp, depth)
        except TypeError:  # an unhashable key
            continue
    return result


def _call(fdp: atheris.FuzzedDataProvider) -> None:
    op = fdp.ConsumeIntInRange(0, 4)
    query = _dictionary(fdp)
    if op == 0:
        sec.SecItemAdd(query)
    elif op == 1:
        result = sec.SecItemCopyMatching(query)
        secitem._cfobjects.close_all(result)
    elif op == 2:
        sec.SecItemUpdate(query, _dictionary(fdp))
    elif op == 3:
        sec.SecItemDelete(query)
    else:
        with secitem._convert.converted(_value(fdp)):
            pass


def TestOneInput(data: bytes) -> None:
    global _inputs
    _inputs += 1
    fdp = atheris.FuzzedDataProvider(data)
    before = _LIB.secsim_live_objects()
    with contextlib.suppress(*_EXPECTED):
        _call(fdp)
    after = _LIB.secsim_live_objects()
    if after != before:
        raise AssertionError(f"{after - before} CoreFoundation object(s) left alive")
    if _inputs % 64 == 0:
        _LIB.secsim_reset()


def main() -> None:
    sys.setrecursionlimit(200)
    _LIB.secsim_reset()
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
