"""keyring's macOS backend (ctypes), run unchanged against the secitem emulator.

Used by ``bench/run.py --only keyring`` (and the full run) to compare
``secitem.security`` with keyring's ctypes layer, making the same SecItem
calls with the same dictionary keys, on the same emulator library.

**What is run.** keyring's own ``keyring/backends/macOS/api.py``, the
installed file, executed unmodified as a private module
(:func:`load_api`).  When imported it opens ``Security``, ``CoreServices``
and ``Foundation`` with ``ctypes.CDLL(find_library(name))``; on Linux
``find_library`` finds none of them.  While the file executes,
``ctypes.util.find_library`` answers the emulator library's path for those
three names (and defers to the original for any other name); it is put back
at once.  Nothing else is replaced: the dictionaries, the constants, the
calls and keyring's error handling are keyring's.  The emulator library
exports both the CoreFoundation and the Security symbols, and the process
already has it open (``secitem`` opened it by ``SECITEM_LIBRARY``), so both
layers work on the same in-memory keychain.

**What keyring's module does** (read from keyring 25.7.0's ``api.py``; the
benchmark prints the installed version):

* ``find_generic_password`` (keyring's ``get_password``): one
  ``SecItemCopyMatching`` of {kSecClass: kSecClassGenericPassword,
  kSecMatchLimit: kSecMatchLimitOne, kSecAttrService, kSecAttrAccount,
  kSecReturnData}; the strings are made with ``CFStringCreateWithCString``,
  and ``True`` goes through its ``int`` converter, so kSecReturnData is a
  CFNumber (1), not kCFBooleanTrue.  The returned CFData is read with
  ``CFDataGetBytePtr`` / ``CFDataGetLength`` and decoded as UTF-8.
* ``set_generic_password`` (``set_password``): ``SecItemDelete`` of
  {class, service, account} (item-not-found ignored), then ``SecItemAdd`` of
  {class, service, account, kSecValueData} with a NULL result pointer;
  the password ``str`` becomes a CFString, not a CFData.  No
  ``SecItemUpdate``.
* ``delete_generic_password``: one ``SecItemDelete`` of {class, service,
  account}.
* Every constant is read from the library on each use
  (``c_void_p.in_dll``, a symbol lookup), and the dictionary is made with
  ``CFDictionaryCreate`` from two ctypes arrays.
* Nothing is released: the module has no ``CFRelease``, so each call leaves
  its dictionary, the strings and numbers in it, and any returned data
  alive (``run.py`` reports how many objects per call).  It therefore makes
  fewer native calls than ``secitem.security``, which releases everything.

**The keychain.** A CFNumber for a kSecReturn* key and a CFString for
kSecValueData are what keyring sends on every Mac, where a call without
kSecUseDataProtectionKeychain reaches the file-based keychain.  The emulator
follows the same split: its ``macos`` profile (the file-based keychain)
accepts them, its ``ios`` profile (the data-protection keychain) answers
errSecParam.  So this comparison runs in the ``macos`` profile, for both
layers.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import importlib.metadata
import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

#: The names keyring's module passes to ``find_library``.
KEYRING_LIBRARIES = ("Security", "CoreServices", "Foundation")
#: The SecItem functions traced (keyring's module binds three of them as globals).
SEC_ITEM_FUNCTIONS = ("SecItemAdd", "SecItemCopyMatching", "SecItemUpdate", "SecItemDelete")


def keyring_version() -> str:
    """The installed keyring's version."""
    return importlib.metadata.version("keyring")


def api_path() -> Path:
    """The installed ``keyring/backends/macOS/api.py`` (keyring is not imported)."""
    spec = importlib.util.find_spec("keyring")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("keyring is not installed (pip install -e '.[dev]')")
    return Path(next(iter(spec.submodule_search_locations))) / "backends" / "macOS" / "api.py"


def load_api(library: Path) -> ModuleType:
    """Execute keyring's ``api.py`` with its libraries found at ``library``.

    Returns a private module (not entered in ``sys.modules``, so keyring's
    own ``keyring.backends.macOS`` is untouched).
    """
    original = ctypes.util.find_library

    def find_library(name: str) -> str | None:
        return str(library) if name in KEYRING_LIBRARIES else original(name)

    spec = importlib.util.spec_from_file_location("_bench_keyring_macos_api", api_path())
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    ctypes.util.find_library = find_library
    try:
        spec.loader.exec_module(module)
    finally:
        ctypes.util.find_library = original
    return module


class KeyringCtypes:
    """keyring's three operations, through its ctypes module (``api``).

    Calls the module's functions directly, as keyring's ``Keyring`` backend
    does (that class adds a warning check and exception translation around
    each: not measured, so keyring's side is, if anything, flattered).
    """

    def __init__(self, api: ModuleType, service: str) -> None:
        self.api = api
        self.service = service

    def get(self, account: str) -> str:
        password: str = self.api.find_generic_password(None, self.service, account)
        return password

    def set(self, account: str, password: str) -> None:
        self.api.set_generic_password(None, self.service, account, password)

    def delete(self, account: str) -> None:
        self.api.delete_generic_password(None, self.service, account)


class SecitemSameCalls:
    """``secitem.security`` making keyring's calls with keyring's keys.

    The same function names, the same calls in the same order, the same
    dictionary keys; ``str`` in and ``str`` out, as keyring.  The values are
    what ``secitem`` sends: kCFBooleanTrue for kSecReturnData, the password's
    UTF-8 bytes as CFData; and ``secitem`` releases every object it makes
    or receives.
    """

    def __init__(self, security: Any, service: str) -> None:
        from secitem.errors import ItemNotFoundError

        self.S = security
        self.service = service
        self.not_found = ItemNotFoundError

    def _identity(self, account: str) -> dict[Any, object]:
        S = self.S
        return {
            S.kSecClass: S.kSecClassGenericPassword,
            S.kSecAttrService: self.service,
            S.kSecAttrAccount: account,
        }

    def get(self, account: str) -> str:
        S = self.S
        data: bytes = S.SecItemCopyMatching(
            {
                S.kSecClass: S.kSecClassGenericPassword,
                S.kSecMatchLimit: S.kSecMatchLimitOne,
                S.kSecAttrService: self.service,
                S.kSecAttrAccount: account,
                S.kSecReturnData: True,
            }
        )
        return data.decode()

    def set(self, account: str, password: str) -> None:
        S = self.S
        with contextlib.suppress(self.not_found):
            S.SecItemDelete(self._identity(account))
        S.SecItemAdd({**self._identity(account), S.kSecValueData: password.encode()})

    def delete(self, account: str) -> None:
        self.S.SecItemDelete(self._identity(account))


# ---------------------------------------------------------------------------
# Tracing and counting at the native boundary


class NativeTrace:
    """Records SecItem calls as the library receives them, from either layer.

    Each call is ``(function, ((key, CF type of the value), ...))`` per
    dictionary argument, keys sorted; the dictionaries are read with ctypes
    through the emulator's own CoreFoundation, independently of both layers.
    """

    def __init__(self, library: Path) -> None:
        lib = ctypes.CDLL(str(library))
        p, n = ctypes.c_void_p, ctypes.c_long
        self._count = _declare(lib, "CFDictionaryGetCount", n, p)
        self._items = _declare(lib, "CFDictionaryGetKeysAndValues", None, p, p, p)
        self._cstring = _declare(lib, "CFStringGetCString", ctypes.c_bool, p, p, n, ctypes.c_uint32)
        self._type_id = _declare(lib, "CFGetTypeID", ctypes.c_ulong, p)
        self._type_names = {
            _declare(lib, f"CF{name}GetTypeID", ctypes.c_ulong)(): f"CF{name}"
            for name in ("String", "Number", "Boolean", "Data")
        }
        self.calls: list[tuple[Any, ...]] = []

    def describe(self, ref: int) -> tuple[tuple[str, str], ...]:
        """The keys of CFDictionary ``ref`` (as text) with their values' CF types."""
        count = self._count(ref)
        keys, values = (ctypes.c_void_p * count)(), (ctypes.c_void_p * count)()
        self._items(ref, keys, values)
        buffer = ctypes.create_string_buffer(256)
        out = []
        for key, value in zip(keys, values, strict=True):
            self._cstring(key, buffer, len(buffer), 0x08000100)  # kCFStringEncodingUTF8
            kind = self._type_names.get(self._type_id(value), "other")
            out.append((buffer.value.decode(), kind))
        return tuple(sorted(out))

    def record(self, name: str, args: tuple[Any, ...], address: Callable[[Any], int]) -> None:
        """Record a call of ``name``; ``address`` turns a dictionary argument into an int."""
        dictionaries = args[:2] if name == "SecItemUpdate" else args[:1]
        self.calls.append((name, *(self.describe(address(a)) for a in dictionaries)))

    @contextlib.contextmanager
    def keyring(self, api: ModuleType) -> Iterator[NativeTrace]:
        """Trace the SecItem calls of keyring's module ``api`` (its globals)."""
        saved = {name: getattr(api, name) for name in SEC_ITEM_FUNCTIONS if hasattr(api, name)}

        def wrap(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
            def traced(*args: Any) -> Any:
                self.record(name, args, int)  # keyring passes CFDictionaryCreate's int
                return function(*args)

            return traced

        for name, function in saved.items():
            setattr(api, name, wrap(name, function))
        try:
            yield self
        finally:
            for name, function in saved.items():
                setattr(api, name, function)

    @contextlib.contextmanager
    def secitem(self) -> Iterator[NativeTrace]:
        """Trace the SecItem calls ``secitem`` makes (its runtime's ``sec`` library)."""
        from secitem import _runtime
        from secitem._ffi import ffi

        rt = _runtime.runtime()
        saved = rt.sec
        rt.sec = _TracedLib(saved, self, ffi)
        try:
            yield self
        finally:
            rt.sec = saved


class _TracedLib:
    """A stand-in for secitem's cffi ``sec`` library that traces SecItem calls."""

    def __init__(self, lib: Any, trace: NativeTrace, ffi: Any) -> None:
        self._lib, self._trace, self._ffi = lib, trace, ffi

    def __getattr__(self, name: str) -> Any:
        function = getattr(self._lib, name)
        if name not in SEC_ITEM_FUNCTIONS:
            return function
        ffi, trace = self._ffi, self._trace

        def traced(*args: Any) -> Any:
            trace.record(name, args, lambda a: int(ffi.cast("uintptr_t", a)))
            return function(*args)

        return traced


def _declare(lib: ctypes.CDLL, name: str, restype: Any, *argtypes: Any) -> Any:
    function = getattr(lib, name)
    function.restype = restype
    function.argtypes = argtypes
    return function


def count_keyring_calls(api: ModuleType, operation: Callable[[], object]) -> dict[str, int]:
    """The native calls ``operation`` makes through keyring's module, by function
    (every ctypes function the module binds as a global), and its constant
    lookups (``k_``, one ``c_void_p.in_dll`` symbol lookup each)."""
    counts: dict[str, int] = {}
    saved: dict[str, Any] = {}
    for name, value in vars(api).items():
        if isinstance(value, ctypes._CFuncPtr) or name == "k_":
            saved[name] = value

    def wrap(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any) -> Any:
            counts[name] = counts.get(name, 0) + 1
            return function(*args)

        return counted

    for name, function in saved.items():
        setattr(api, name, wrap(name, function))
    try:
        operation()
    finally:
        for name, function in saved.items():
            setattr(api, name, function)
    return counts
