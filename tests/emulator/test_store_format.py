"""The SECSIM_STORE file format in Python (read, write, mutate), for the store
tests and the loader fuzz; plus a check that it reads what the emulator writes.

The format is documented at the top of ``csrc/sec_store.c``.  Scalars are kept
as their raw 64-bit patterns (``num``) so that a test can write any bits,
including ones the emulator would never write.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field
from pathlib import Path

from .test_store import run

MAGIC = b"SECSIMKC"
HEADER = 32  # magic 8 + version 4 + generation 8 + next_rowid 8 + count 4
GEN_OFFSET = 12

# value tags (sec_private.h)
STR, DATA, INT, DBL, BOOL, DATE, ACCC = 1, 2, 3, 4, 5, 6, 7
IMPL_FB, IMPL_DP = 1, 2


@dataclass
class Attr:
    key: bytes  # 4 bytes on disk
    tag: int
    num: int = 0  # INT/BOOL/DBL/DATE bits, ACCC flags (u64)
    blob: bytes = b""  # STR/DATA bytes, ACCC protection


@dataclass
class Item:
    impl: int
    cls: int
    rowid: int  # u64 bits
    data: bytes
    attrs: list[Attr] = field(default_factory=list)


@dataclass
class Store:
    version: int
    gen: int
    next_rowid: int  # u64 bits
    items: list[Item] = field(default_factory=list)


class _Reader:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.pos = 0

    def take(self, n: int) -> bytes:
        if len(self.raw) - self.pos < n:
            raise ValueError(f"truncated at {self.pos} (wanted {n} bytes)")
        out = self.raw[self.pos : self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def u64(self) -> int:
        return int(struct.unpack("<Q", self.take(8))[0])

    def blob(self) -> bytes:
        return self.take(self.u32())


def parse(raw: bytes) -> Store:
    """Read a store file; ValueError if it does not follow the format."""
    r = _Reader(raw)
    if r.take(8) != MAGIC:
        raise ValueError("bad magic")
    store = Store(version=r.u32(), gen=r.u64(), next_rowid=r.u64())
    for _ in range(r.u32()):
        item = Item(impl=r.u8(), cls=r.u8(), rowid=r.u64(), data=r.blob())
        for _ in range(r.u32()):
            a = Attr(key=r.take(4), tag=r.u8())
            if a.tag in (STR, DATA):
                a.blob = r.blob()
            elif a.tag in (INT, BOOL, DBL, DATE):
                a.num = r.u64()
            elif a.tag == ACCC:
                a.num = r.u64()
                a.blob = r.blob()
            else:
                raise ValueError(f"unknown tag {a.tag}")
            item.attrs.append(a)
        store.items.append(item)
    if r.pos != len(raw):
        raise ValueError("trailing bytes")
    return store


def build(store: Store, *, count: int | None = None) -> bytes:
    """Write a store file (``count`` overrides the item count written)."""
    out = bytearray(MAGIC)
    n = len(store.items) if count is None else count
    out += struct.pack("<IQQI", store.version, store.gen, store.next_rowid, n)
    for it in store.items:
        out += struct.pack("<BBQI", it.impl, it.cls, it.rowid, len(it.data)) + it.data
        out += struct.pack("<I", len(it.attrs))
        for a in it.attrs:
            out += a.key[:4].ljust(4, b"\0") + bytes([a.tag])
            if a.tag in (STR, DATA):
                out += struct.pack("<I", len(a.blob)) + a.blob
            elif a.tag == ACCC:
                out += struct.pack("<QI", a.num, len(a.blob)) + a.blob
            else:
                out += struct.pack("<Q", a.num)
    return bytes(out)


def with_gen(raw: bytes, gen: int) -> bytes:
    """The same bytes with the generation field set (when the file has one)."""
    if len(raw) < GEN_OFFSET + 8:
        return raw
    return raw[:GEN_OFFSET] + struct.pack("<Q", gen) + raw[GEN_OFFSET + 8 :]


# ---------------------------------------------------------------------------
# mutations (deterministic for a given random.Random)

INVALID_UTF8 = [
    b"\xff\xfe",  # never valid
    b"\xc0\x80",  # overlong NUL
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xe2\x82",  # truncated sequence
    b"\xf4\x90\x80\x80",  # above U+10FFFF
    b"a\x80b",  # lone continuation byte
]
BIG_U32 = [0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x10000000, 0xFFFF, 1 << 20]
BIG_U64 = [0, 1, 0xFFFFFFFFFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0x7FF8000000000000]


def _raw_mutation(rng: random.Random, raw: bytes) -> bytes:
    b = bytearray(raw)
    kind = rng.randrange(7)
    if kind == 0 and b:  # flip bits
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif kind == 1 and b:  # set bytes to interesting values
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] = rng.choice([0, 0xFF, 0x7F, 0x80, 0x01, rng.randrange(256)])
    elif kind == 2:  # truncate
        del b[rng.randrange(len(b) + 1) :]
    elif kind == 3:  # append junk
        b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    elif kind == 4 and len(b) >= 4:  # a huge u32 (a length or a count) anywhere
        i = rng.randrange(len(b) - 3)
        b[i : i + 4] = struct.pack("<I", rng.choice(BIG_U32))
    elif kind == 5 and b:  # delete a range
        i = rng.randrange(len(b))
        del b[i : i + rng.randint(1, 8)]
    elif kind == 6 and b:  # duplicate a range
        i = rng.randrange(len(b))
        j = min(len(b), i + rng.randint(1, 32))
        b[i:i] = b[i:j]
    return bytes(b)


def _structured_mutation(rng: random.Random, store: Store) -> bytes:
    items = store.items
    kind = rng.randrange(13)
    it = rng.choice(items) if items else None
    a = rng.choice(it.attrs) if it is not None and it.attrs else None
    count = None
    if kind == 0 and a is not None:  # attribute key not UTF-8 / not a name
        a.key = rng.choice([b"\xff\xfe", b"\x80\x80", b"\0\0", b"ac\0t", b"zzzz", b"\xc3\xa9"])
        a.key = (a.key + b"\0\0\0\0")[:4]
    elif kind == 1 and a is not None:  # a string value that is not UTF-8
        a.tag = STR
        a.blob = rng.choice(INVALID_UTF8)
    elif kind == 2 and a is not None:  # a wrong or unknown type tag
        a.tag = rng.choice([0, 8, 255, STR, DATA, INT, DBL, BOOL, DATE, ACCC])
    elif kind == 3 and a is not None:  # odd scalar bits (bool 2, NaN, extremes)
        a.num = rng.choice([*BIG_U64, 2])
    elif kind == 4 and a is not None:  # an access control with a bad protection
        a.tag = ACCC
        a.num = rng.choice(BIG_U64)
        a.blob = rng.choice([b"", b"zz", b"ak\0", *INVALID_UTF8])
    elif kind == 5:  # a huge item count
        count = rng.choice(BIG_U32)
    elif kind == 6:  # the rowid counter at its limits
        store.next_rowid = rng.choice(BIG_U64)
    elif kind == 7 and it is not None:  # rowid out of range or duplicated
        it.rowid = rng.choice([0, store.next_rowid, items[0].rowid, *BIG_U64])
    elif kind == 8 and it is not None:  # unknown implementation or class
        if rng.random() < 0.5:
            it.impl = rng.choice([0, 3, 255])
        else:
            it.cls = rng.choice([5, 200, 255])
    elif kind == 9 and it is not None and it.attrs:  # a duplicated attribute
        it.attrs.append(Attr(it.attrs[0].key, it.attrs[0].tag, it.attrs[0].num, it.attrs[0].blob))
    elif kind == 10 and it is not None:  # a duplicated item (same key, same rowid)
        items.append(Item(it.impl, it.cls, it.rowid, it.data, list(it.attrs)))
    elif kind == 11:  # a version we do not know
        store.version = rng.choice([0, 3, 0xFFFFFFFF])
    elif kind == 12 and a is not None:  # another valid string (a protection that is no constant...)
        a.tag = STR
        a.blob = rng.choice([b"", b"\0\0", b"zz", b"ak", b"dk", b"x" * 300])
    return build(store, count=count)


def mutate(rng: random.Random, seed: bytes) -> bytes:
    """One mutant of a valid store file: raw byte edits (flips, truncation,
    huge lengths...) or edits of the structure (invalid UTF-8, wrong tags,
    huge counts, rowids...), sometimes both."""
    out = _structured_mutation(rng, parse(seed)) if rng.random() < 0.5 else seed
    if out == seed or rng.random() < 0.25:
        out = _raw_mutation(rng, out)
    return out


# ---------------------------------------------------------------------------


def test_format_reads_what_the_emulator_writes(tmp_path: Path) -> None:
    """This module's reader follows the emulator's writer (else the fuzz and
    the crafted files of the store tests would test nothing)."""
    store = tmp_path / "kc.bin"
    run(
        """
        assert add({"class": "genp", "acct": "a", "v_Data": b"pw", "crtr": 7, "invi": True}) == 0
        assert add({"class": "inet", "acct": "b", "srvr": "h", "ptcl": "htps"}) == 0
    """,
        store,
    )
    raw = store.read_bytes()
    parsed = parse(raw)
    assert build(parsed) == raw
    assert [it.cls for it in parsed.items] == [0, 1]
    acct = next(a for a in parsed.items[0].attrs if a.key == b"acct")
    assert (acct.tag, acct.blob) == (STR, b"a")
    assert parsed.items[0].data == b"pw"
