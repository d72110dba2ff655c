"""Write the seed corpus of the store-loader fuzz (tests/fuzz/store_corpus/).

Every seed is a store file made by the emulator itself through SecItemAdd
(so the fuzz starts from files the loader must accept): an empty store, one
file-based item with every value type, both keychains with every class and
an access control, and a store of many small items.  Rerun it when the store
format changes:

    SECITEM_LIBRARY=$(python -m secitem.testing.emulator | tail -n 1) \\
        python tests/fuzz/make_store_corpus.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import simlib  # noqa: E402

APP_GROUP = "SECSIMTEAM.org.secitem.app"


def main() -> int:
    ffi, lib = simlib.load(os.environ["SECITEM_LIBRARY"])

    def cf(v: Any) -> Any:
        return simlib.to_cf(ffi, lib, v)

    def add(d: dict[str, Any]) -> None:
        r = cf(d)
        st = lib.SecItemAdd(r, ffi.NULL)
        lib.CFRelease(r)
        assert st == 0, (st, d)

    def delete(d: dict[str, Any]) -> None:
        r = cf(d)
        st = lib.SecItemDelete(r)
        lib.CFRelease(r)
        assert st == 0, (st, d)

    both, ac = simlib.store_seed_items(ffi, lib)
    fb_all_types = both[0]
    seeds: dict[str, list[dict[str, Any]]] = {
        "empty": [],
        "fb-all-types": [fb_all_types],
        "both-keychains": both,
        "many-items": [
            {"class": "genp", "acct": f"a{i}", "svce": "s", "v_Data": b"p"} for i in range(20)
        ],
    }
    out_dir = HERE / "store_corpus"
    out_dir.mkdir(exist_ok=True)
    os.environ["SECSIM_ACCESS_GROUPS"] = APP_GROUP
    os.environ["SECSIM_PROFILE"] = "macos"
    with tempfile.TemporaryDirectory() as tmp:
        for name, items in seeds.items():
            store = Path(tmp) / f"{name}.bin"
            os.environ["SECSIM_STORE"] = str(store)
            lib.secsim_reset()  # attaches to the new file (and writes it empty)
            for d in items:
                add(d)
            if not items:  # a store that had an item: the rowid counter moved
                add({"class": "genp", "acct": "gone"})
                delete({"class": "genp", "acct": "gone"})
            (out_dir / f"{name}.bin").write_bytes(store.read_bytes())
            print(f"{name}.bin: {store.stat().st_size} bytes")
        os.environ.pop("SECSIM_STORE")
        lib.secsim_reset()
    lib.CFRelease(ac)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
