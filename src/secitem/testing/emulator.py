"""Build the emulator library (``python -m secitem.testing.emulator``).

The C sources ship inside the package (``secitem/testing/csrc``).  They are
compiled with the system C compiler into a cache folder keyed by a hash of
the sources, the public headers and the flags, so a build happens once per
change.  The last line printed is the absolute path of the shared library.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

__all__ = ["build", "include", "main", "sources"]

_BASE_FLAGS = (
    "-std=c11",
    "-D_GNU_SOURCE",
    "-fPIC",
    "-shared",
    "-pthread",
    "-g",
    "-fvisibility=hidden",
    "-Wall",
    "-Wextra",
    "-Werror",
)
_OPT_FLAGS = ("-O2",)
_SANITIZE_FLAGS = (
    "-O1",
    "-fno-omit-frame-pointer",
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=undefined",
)


def sources() -> Path:
    """The folder holding the emulator's C sources."""
    return Path(str(resources.files("secitem.testing") / "csrc"))


def include() -> Path:
    """The folder of C headers for native code (``CoreFoundation/CoreFoundation.h``,
    ``Security/Security.h`` and their sub-headers), declaring what the emulator exports."""
    return Path(str(resources.files("secitem.testing") / "include"))


def _cache_root() -> Path:
    env = os.environ.get("SECITEM_EMULATOR_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "secitem" / "emulator"


def _build_key(compiler: str, flags: list[str]) -> str:
    """The cache folder's name: a hash of the command and of every file the build
    reads (the sources, and the public headers: ``sec_private.h`` includes the
    generated ``Security/SecBaseErrors.h``)."""
    digest = hashlib.sha256()
    digest.update(" ".join([compiler, *flags]).encode())
    for root in (sources(), include()):
        for path in sorted(root.rglob("*")):
            if path.suffix in (".c", ".h", ".def"):
                name = path.relative_to(root).as_posix()
                digest.update(f"{root.name}/{name}".encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def build(*, sanitize: bool = False, force: bool = False, cc: str | None = None) -> Path:
    """Compile the emulator if needed and return the shared library's path.

    ``sanitize`` builds with AddressSanitizer and UndefinedBehaviorSanitizer
    (a process loading it needs ``LD_PRELOAD`` of libasan; see docs/emulator.md).
    ``force`` rebuilds even when a cached build exists.  ``cc`` overrides the
    compiler (default: ``$CC`` or ``cc``).  Raises ``RuntimeError`` with the
    compiler's output when compilation fails.
    """
    compiler = cc or os.environ.get("CC") or "cc"
    src_dir = sources()
    c_files = sorted(src_dir.glob("*.c"))
    if not c_files:
        raise RuntimeError(f"no emulator sources found in {src_dir}")
    flags = list(_BASE_FLAGS) + list(_SANITIZE_FLAGS if sanitize else _OPT_FLAGS)
    out_dir = _cache_root() / _build_key(compiler, flags)
    name = "libsecsim-asan.so" if sanitize else "libsecsim.so"
    target = out_dir / name
    if target.exists() and not force:
        return target
    out_dir.mkdir(parents=True, exist_ok=True)
    # Build into a temporary file and rename: concurrent builders never see a
    # half-written library.
    fd, tmp_name = tempfile.mkstemp(prefix=".build-", suffix=".so", dir=out_dir)
    os.close(fd)
    cmd = [compiler, *flags, "-I", str(src_dir), "-o", tmp_name, *(str(f) for f in c_files), "-lm"]
    if shutil.which(compiler) is None:
        os.unlink(tmp_name)
        raise RuntimeError(f"C compiler {compiler!r} not found; install gcc or set CC")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        os.unlink(tmp_name)
        raise RuntimeError(f"emulator build failed ({' '.join(cmd)}):\n{proc.stderr}")
    os.replace(tmp_name, target)
    return target


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: build and print the library path last."""
    parser = argparse.ArgumentParser(
        prog="python -m secitem.testing.emulator",
        description="Build the secitem Security framework emulator and print its path.",
    )
    parser.add_argument(
        "--sanitize",
        action="store_true",
        help="build with AddressSanitizer + UndefinedBehaviorSanitizer",
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    parser.add_argument(
        "--include",
        action="store_true",
        help="print the folder of C headers (CoreFoundation/, Security/) for -I; build nothing",
    )
    args = parser.parse_args(argv)
    if args.include:
        print(include().resolve())
        return 0
    try:
        path = build(sanitize=args.sanitize, force=args.force)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
