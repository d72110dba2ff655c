"""Apple's own CoreFoundation built for Linux, as the referee of the emulator's CF.

``../shared/reference/apple-cf/libCoreFoundation.so`` (beside the checkout; see
its README) is the CoreFoundation C code macOS runs, compiled for Linux.  The
CF conformance tests run against it and against the emulator with the same
assertions.  ``SECITEM_APPLE_CF`` overrides the path.  When the library or its
runtime libraries (Debian's ``libicu72`` and ``libblocksruntime0``) are
missing, those parametrisations are skipped with the reason, unless
``SECITEM_REQUIRE_APPLE_CF=1`` (set by ``.ci/run``) makes that a failure.

What the reference cannot tell (its README): it has no ``secsim_*`` controls
and no live-object counter, ``CFRelease(NULL)``/``CFEqual(x, NULL)`` trap in
it, and where macOS bridges CF to Objective-C (CFBoolean == CFNumber 1,
NSNumber/NSDate descriptions, tagged small integers) this Linux build differs
from macOS, so those points are checked on the emulator only.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import simlib

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = REPO_ROOT.parent / "shared" / "reference" / "apple-cf" / "libCoreFoundation.so"


def path() -> Path:
    """Where Apple's CF library is expected (``SECITEM_APPLE_CF`` overrides)."""
    env = os.environ.get("SECITEM_APPLE_CF")
    return Path(env) if env else DEFAULT_PATH


def required() -> bool:
    """True when a missing reference library must fail instead of skip (CI)."""
    return os.environ.get("SECITEM_REQUIRE_APPLE_CF", "") not in ("", "0")


@cache
def load() -> tuple[Any, Any] | str:
    """(ffi, lib) of Apple's CF, or the reason it cannot be loaded."""
    p = path()
    if not p.is_file():
        return f"Apple's CoreFoundation not found at {p} (set SECITEM_APPLE_CF)"
    try:
        return simlib.load(str(p))
    except OSError as exc:
        return (
            f"Apple's CoreFoundation at {p} cannot be loaded ({exc}); it needs "
            "`apt-get install -y libicu72 libblocksruntime0`"
        )
