"""What every ``secitem`` command shares: the program name, the usage error,
terminal-safe text and JSON, whether standard input is a terminal, the version,
and which Security library is loaded (Apple's, the emulator, or another).

No native code is loaded here; :mod:`secitem.cli` and its ``_cli_*`` modules
import it (and it imports none of them).
"""

from __future__ import annotations

import json
import os
import sys

from secitem.errors import SecitemError

__all__ = [
    "EXIT_USAGE",
    "LIBRARY_NAMES",
    "PROG",
    "USE_EMULATOR",
    "UsageError",
    "cell",
    "escape_unprintable",
    "library_kind",
    "no_library_here",
    "print_json",
    "stdin_is_terminal",
    "version",
]

PROG = "secitem"

#: Exit status of a usage error (bad flags or values), as argparse uses.
EXIT_USAGE = 2


class UsageError(SecitemError):
    """Bad command-line input: reported in one line, exit status 2."""


def escape_unprintable(text: str, keep: str = "") -> str:
    """Escape every character that is not printable (controls, C1, bidi, line and
    paragraph separators) as ``\\uXXXX``, except those in ``keep``.

    Used on JSON text, where the escape is valid, and on table cells, so an
    attribute holding escape sequences or newlines cannot clear the screen or
    forge a row.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in keep else _escape_char(ch) for ch in text)


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code > 0xFFFF:  # JSON spells these as a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def cell(value: object) -> str:
    """A table cell: the text with backslashes doubled and unprintables escaped."""
    return escape_unprintable(str(value).replace("\\", "\\\\"))


def print_json(value: object) -> None:
    """Print ``value`` as indented JSON on standard output, safe for a terminal.

    The only raw newlines are the indentation's: those inside strings, and
    every other unprintable character, are escaped (:func:`escape_unprintable`).
    """
    print(escape_unprintable(json.dumps(value, indent=2, ensure_ascii=False), keep="\n"))


def stdin_is_terminal() -> bool:
    """Whether standard input is a terminal (where a hidden prompt can be shown)."""
    return sys.stdin is not None and sys.stdin.isatty()


def version() -> str:
    try:
        from importlib import metadata

        return metadata.version("secitem")
    except Exception:  # not installed (running from a source tree)
        return "(version unknown)"


def library_kind() -> str:
    """Which Security library the commands load: ``apple`` when ``SECITEM_LIBRARY``
    is not set, else for the library it names ``emulator`` or ``other``."""
    override = os.environ.get("SECITEM_LIBRARY")
    if not override:
        return "apple"
    return "emulator" if _is_emulator(override) else "other"


def no_library_here() -> bool:
    """Not macOS or iOS and no ``SECITEM_LIBRARY``: no Security library can load here."""
    return sys.platform not in ("darwin", "ios") and not os.environ.get("SECITEM_LIBRARY")


#: The shell line that points the commands at the emulator (built first if needed).
USE_EMULATOR = "export SECITEM_LIBRARY=$(python -m secitem.testing.emulator | tail -n 1)"

#: How doctor and demo name a library that ``SECITEM_LIBRARY`` names, by its kind.
LIBRARY_NAMES = {"emulator": "the secitem emulator", "other": "a library with Apple's C ABI"}


def _is_emulator(path: str) -> bool:
    import ctypes

    try:
        return hasattr(ctypes.CDLL(path), "secsim_live_objects")
    except OSError:
        return False
