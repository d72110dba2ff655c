"""Import cost, lazy loading, generated files and the library loader."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from binding_helpers import run_python

import secitem
from secitem import KeychainError, KeychainUnavailableError, _cfobjects, _convert, _ffi, _runtime
from secitem.constants import SecConstant

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    """``run_python`` with this checkout's src/ as the only PYTHONPATH."""
    return run_python(code, **env, PYTHONPATH=str(ROOT / "src"))


def _load_tool(name: str) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ffi_gen_is_fresh() -> None:
    """Regenerating _ffi_gen.py from the declarations in _ffi.py gives the committed file."""
    tool = _load_tool("gen_ffi")
    assert tool.generate() == tool.TARGET.read_text(encoding="utf-8"), (
        "src/secitem/_ffi_gen.py is stale: run python tools/gen_ffi.py"
    )


def test_constants_module_is_fresh() -> None:
    """constants.py holds exactly the generated block for the current _tables.py."""
    tool = _load_tool("gen_constants")
    current = tool.TARGET.read_text(encoding="utf-8")
    assert tool.render(current) == current, (
        "src/secitem/constants.py is stale: run python tools/gen_constants.py"
    )


def test_import_loads_nothing_native() -> None:
    """import secitem (and secitem.security) opens no library and never imports pycparser."""
    result = _run("""
        import json, sys
        import secitem, secitem.security
        maps = open("/proc/self/maps").read() if sys.platform.startswith("linux") else ""
        from secitem import _runtime
        print(json.dumps({
            "pycparser": "pycparser" in sys.modules,
            "cffi_parser": "cffi.cparser" in sys.modules or "cffi.api" in sys.modules,
            "loaded": _runtime.loaded() is not None,
            "runtime": _runtime.loaded_runtime() is not None,
            "mapped": "libsecsim" in maps or "Security.framework" in maps,
        }))
    """)
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert state == {
        "pycparser": False,
        "cffi_parser": False,
        "loaded": False,
        "runtime": False,
        "mapped": False,
    }


def test_plain_import_does_not_import_cffi() -> None:
    """import secitem alone does not even import the cffi backend."""
    result = _run("""
        import sys, secitem
        names = ("secitem._ffi", "secitem._runtime", "secitem._convert")
        print(sorted(m for m in sys.modules if "cffi" in m or m in names))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_missing_library_names_the_path() -> None:
    """SECITEM_LIBRARY naming a missing file gives KeychainUnavailableError naming it."""
    result = _run(
        """
        import secitem
        from secitem.security import SecItemCopyMatching, kSecClass, kSecClassGenericPassword
        try:
            SecItemCopyMatching({kSecClass: kSecClassGenericPassword})
        except secitem.KeychainUnavailableError as exc:
            assert isinstance(exc, secitem.KeychainError) and isinstance(exc, RuntimeError)
            print(exc.paths)
            print(exc)
        else:
            raise SystemExit("no error")
    """,
        SECITEM_LIBRARY="/nonexistent/libsecsim.so",
    )
    assert result.returncode == 0, result.stderr
    paths, message = result.stdout.splitlines()[:2]
    assert paths == "('/nonexistent/libsecsim.so',)"
    assert "/nonexistent/libsecsim.so" in message


def test_system_frameworks_named_when_missing() -> None:
    """Without SECITEM_LIBRARY off Apple systems, the error names both framework paths."""
    if sys.platform == "darwin":
        pytest.skip("the frameworks exist here")
    result = _run(
        """
        from secitem import _runtime
        try:
            _runtime.runtime()
        except Exception as exc:
            print(type(exc).__name__)
            print(exc)
    """,
        SECITEM_LIBRARY=None,
    )
    assert result.returncode == 0, result.stderr
    name, message = result.stdout.split("\n", 1)
    assert name == "KeychainUnavailableError"
    assert _ffi.COREFOUNDATION_PATH in message and _ffi.SECURITY_PATH in message
    assert "SECITEM_LIBRARY" in message


def test_bad_value_is_refused_before_loading() -> None:
    """A value that cannot convert is a TypeError even when no library can be loaded."""
    result = _run(
        """
        from secitem.security import SecItemAdd, kSecAttrLabel, kSecClass
        try:
            SecItemAdd({kSecClass: "genp", kSecAttrLabel: {1, 2}})
        except TypeError as exc:
            print(exc)
    """,
        SECITEM_LIBRARY="/nonexistent/libsecsim.so",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "kSecAttrLabel: cannot convert set to a CoreFoundation value"


@pytest.mark.macos
def test_libraries_are_loaded_once() -> None:
    """Two loads return the same library objects (cffi would close an unreferenced one)."""
    first = _runtime.load()
    assert _runtime.load() is first
    assert _runtime.runtime() is _runtime.runtime()
    if os.environ.get("SECITEM_LIBRARY"):
        assert first.cf is first.sec
        assert first.paths == (os.environ["SECITEM_LIBRARY"],)
    else:
        assert first.paths == (_ffi.COREFOUNDATION_PATH, _ffi.SECURITY_PATH)


@pytest.mark.macos
def test_public_constants_resolve_to_library_pointers() -> None:
    """Every public constant the library exports passed the self-check at load."""
    rt = _runtime.runtime()
    assert "kSecClass" in rt.constants and "kSecAttrAccount" in rt.constants
    if sys.platform == "darwin" and not os.environ.get("SECITEM_LIBRARY"):
        assert "kSecAttrAccess" in rt.constants  # macOS-only constants exist on macOS


def test_constants_are_the_emulators_own_pointers(sim: Any) -> None:
    """A SecConstant is sent as the library's exported pointer, not a new string."""
    rt = _runtime.runtime()
    ffi = sim.ffi
    assert int(ffi.cast("uintptr_t", sim.lib.kSecClass)) == int(
        _ffi.ffi.cast("uintptr_t", rt.constants["kSecClass"])
    )
    with _convert.converted(secitem.security.kSecClass) as ref:
        assert ref == rt.constants["kSecClass"]


class _Without:
    """A library stand-in without some symbols (as iOS lacks the macOS-only ones)."""

    def __init__(self, lib: Any, missing: set[str]) -> None:
        self._lib = lib
        self._missing = missing

    def __getattr__(self, name: str) -> Any:
        if name in self._missing:
            raise _ffi.ffi.error(f"symbol {name!r} not found")
        return getattr(self._lib, name)


def test_self_check_skips_missing_constants(sim: Any) -> None:
    """A constant absent from the library (macOS-only names on iOS) is skipped, not fatal."""
    libs = _runtime.load()
    missing = {"kSecAttrAccess", "kSecUseKeychain", "SecKeychainItemGetTypeID"}
    rt = _runtime.Runtime(_ffi.Libraries(libs.cf, _Without(libs.sec, missing), libs.paths))
    assert "kSecAttrAccess" not in rt.constants and "kSecClass" in rt.constants
    assert _cfobjects.KeychainItemRef not in rt.opaque.values()


def test_self_check_refuses_a_mismatch(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A library whose constant has other characters is refused with KeychainUnavailableError."""
    wrong = (*_runtime.PUBLIC_CONSTANTS, SecConstant("kSecAttrAccount", "account"))
    monkeypatch.setattr(_runtime, "PUBLIC_CONSTANTS", wrong)
    with pytest.raises(KeychainUnavailableError) as info:
        _runtime.Runtime(_runtime.load())
    assert "kSecAttrAccount is 'acct', expected 'account'" in str(info.value)
    assert info.value.paths == _runtime.load().paths


def test_library_without_security_symbols_is_refused() -> None:
    """A library that lacks the SecItem functions is refused, naming the symbol."""
    libc = "libc.so.6" if sys.platform.startswith("linux") else "/usr/lib/libSystem.B.dylib"
    result = _run(
        """
        from secitem import _runtime
        try:
            _runtime.runtime()
        except Exception as exc:
            print(type(exc).__name__, exc)
    """,
        SECITEM_LIBRARY=libc,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("KeychainUnavailableError")
    assert "symbol" in result.stdout


def test_unavailable_error_is_a_keychain_error() -> None:
    """KeychainUnavailableError is caught by `except KeychainError` and keeps its paths."""
    error = KeychainUnavailableError("cannot load x", paths=["/a", "/b"])
    assert isinstance(error, KeychainError)
    assert error.paths == ("/a", "/b")
    assert str(error) == "cannot load x"
    assert error.status == -25291
    assert error.hint is not None and "SECITEM_LIBRARY" in error.hint
