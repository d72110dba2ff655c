"""Helpers shared by the SecItem rule tests (test_rules_*.py); no tests here.

The ``kc`` and ``dpkc`` fixtures built on ``KC`` are in conftest.py.

``KC(sim)`` drives the emulator's four SecItem functions with plain Python
dictionaries (converted with simlib.to_cf) and hands results back as Python
values (simlib.from_cf), releasing every CF object it creates.  Keys may be
the 4-character strings ("acct") or the library's constants
(``sim.lib.kSecAttrAccount``): both are CFEqual.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import simlib

# OSStatus values (facts section 3)
OK = 0
UNIMPLEMENTED = -4
IO_ERROR = -36  # errSecIO: a store file that does not load
PARAM = -50
USER_CANCELED = -128
MISSING_ENTITLEMENT = -34018
AUTH_FAILED = -25293
DUPLICATE = -25299
NOT_FOUND = -25300
NO_SUCH_ATTR = -25303
INVALID_ITEM_REF = -25304
NO_SUCH_CLASS = -25306
INTERACTION_NOT_ALLOWED = -25308

APP_GROUP = "SECSIMTEAM.org.secitem.app"

NO_RESULT = object()  # *result was left NULL


class Ref:
    """A +1 CF object handed back by the emulator (an item reference, ...)."""

    def __init__(self, kc: KC, ptr: Any) -> None:
        self.kc = kc
        self.ptr = ptr

    @property
    def type_name(self) -> str:
        lib = self.kc.lib
        tid = lib.CFGetTypeID(self.ptr)
        for name in (
            "SecKeychainItem",
            "SecKey",
            "SecCertificate",
            "SecIdentity",
            "SecAccessControl",
        ):
            if tid == getattr(lib, f"{name}GetTypeID")():
                return name
        return simlib.type_name(self.kc.ffi, lib, self.ptr)

    def release(self) -> None:
        if self.ptr is not None:
            self.kc.lib.CFRelease(self.ptr)
            self.ptr = None


class KC:
    """Python front end to the emulator's SecItem functions, for tests."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.ffi = sim.ffi
        self.lib = sim.lib
        self._refs: list[Ref] = []

    # conversion -----------------------------------------------------------
    def cf(self, value: Any) -> Any:
        return simlib.to_cf(self.ffi, self.lib, value)

    def py(self, ref: Any, keep_refs: bool = False) -> Any:
        """Python value of a +1 result; the result is released (unless it, or
        something inside it, is an opaque object and keep_refs is set)."""
        value = simlib.from_cf(self.ffi, self.lib, ref)
        if keep_refs:
            self.keep(ref)
            return value
        value = self._detach(value)
        self.lib.CFRelease(ref)
        return value

    def _detach(self, value: Any) -> Any:
        """Replace borrowed opaque objects by a description of their type."""
        if isinstance(value, self.ffi.CData):
            return ("opaque", Ref(self, value).type_name)
        if isinstance(value, list):
            return [self._detach(v) for v in value]
        if isinstance(value, dict):
            return {k: self._detach(v) for k, v in value.items()}
        return value

    # the four calls -------------------------------------------------------
    def add(self, attrs: Mapping[Any, Any], *, want_result: bool = True) -> tuple[int, Any]:
        d = self.cf(dict(attrs))
        try:
            if not want_result:
                return self.lib.SecItemAdd(d, self.ffi.NULL), NO_RESULT
            out = self.ffi.new("CFTypeRef *")
            st = self.lib.SecItemAdd(d, out)
            return st, (NO_RESULT if out[0] == self.ffi.NULL else self.py(out[0]))
        finally:
            self.lib.CFRelease(d)

    def add_ok(self, attrs: Mapping[Any, Any]) -> None:
        st, _ = self.add(attrs, want_result=False)
        assert st == OK, st

    def copy(self, query: Mapping[Any, Any], *, keep_refs: bool = False) -> tuple[int, Any]:
        d = self.cf(dict(query))
        try:
            out = self.ffi.new("CFTypeRef *")
            st = self.lib.SecItemCopyMatching(d, out)
            if out[0] == self.ffi.NULL:
                return st, NO_RESULT
            return st, self.py(out[0], keep_refs=keep_refs)
        finally:
            self.lib.CFRelease(d)

    def copy_raw(self, query: Mapping[Any, Any]) -> tuple[int, Ref | None]:
        return self._call_raw(self.lib.SecItemCopyMatching, query)

    def add_raw(self, attrs: Mapping[Any, Any]) -> tuple[int, Ref | None]:
        return self._call_raw(self.lib.SecItemAdd, attrs)

    def _call_raw(self, function: Any, mapping: Mapping[Any, Any]) -> tuple[int, Ref | None]:
        """Call SecItemAdd/CopyMatching; keep the raw result as a tracked Ref."""
        d = self.cf(dict(mapping))
        try:
            out = self.ffi.new("CFTypeRef *")
            st = function(d, out)
            if out[0] == self.ffi.NULL:
                return st, None
            return st, self.keep(out[0])
        finally:
            self.lib.CFRelease(d)

    def update(self, query: Mapping[Any, Any], attrs: Mapping[Any, Any]) -> int:
        q = self.cf(dict(query))
        try:
            a = self.cf(dict(attrs))
            try:
                return int(self.lib.SecItemUpdate(q, a))
            finally:
                self.lib.CFRelease(a)
        finally:
            self.lib.CFRelease(q)

    def delete(self, query: Mapping[Any, Any]) -> int:
        q = self.cf(dict(query))
        try:
            return int(self.lib.SecItemDelete(q))
        finally:
            self.lib.CFRelease(q)

    def status(self, op: str, query: Mapping[Any, Any]) -> int:
        """The status of one call named by ``op``: "add", "copy", "update" (of
        the label) or "delete"; any result is released."""
        if op == "add":
            return self.add(query)[0]
        if op == "copy":
            return self.copy(query)[0]
        if op == "update":
            return self.update(query, {"labl": "x"})
        assert op == "delete", op
        return self.delete(query)

    def count(self, query: Mapping[Any, Any]) -> int:
        """Number of items matching (attributes query, limit all)."""
        q = dict(query)
        q.setdefault("m_Limit", "m_LimitAll")
        q["r_Attributes"] = True
        st, res = self.copy(q)
        if st == NOT_FOUND:
            return 0
        assert st == OK, st
        return len(res)

    def access_control(self, protection: str, flags: int) -> Ref:
        err = self.ffi.new("CFErrorRef *")
        p = self.cf(protection)
        try:
            ac = self.lib.SecAccessControlCreateWithFlags(self.ffi.NULL, p, flags, err)
        finally:
            self.lib.CFRelease(p)
        assert ac != self.ffi.NULL
        return self.keep(ac)

    def keep(self, ptr: Any) -> Ref:
        """Track a +1 object the test holds; released by ``close``."""
        ref = Ref(self, ptr)
        self._refs.append(ref)
        return ref

    def close(self) -> None:
        for r in self._refs:
            r.release()
        self._refs.clear()


def genp(**attrs: Any) -> dict[str, Any]:
    """A generic-password dictionary: genp(acct="a", svce="s", v_Data=b"x")."""
    return {"class": "genp", **attrs}


def inet(**attrs: Any) -> dict[str, Any]:
    return {"class": "inet", **attrs}


def dp(d: dict[str, Any], profile: str) -> dict[str, Any]:
    """The same dictionary aimed at the data-protection keychain: on the
    macos profile kSecUseDataProtectionKeychain is added (facts 5.1 #1.2)."""
    out = dict(d)
    if profile == "macos":
        out["nleg"] = True
    return out
