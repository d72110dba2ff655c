"""One generated file, rewritten or checked: what the generators in ``tools/`` share.

Used by ``tools/regen.py`` (which loads it by path, as it loads the
generators) and by the command lines of ``gen_constants.py`` and
``gen_ffi.py`` (run as scripts, so ``tools/`` is on ``sys.path``).
"""

from __future__ import annotations

import sys
from pathlib import Path


def sync(path: Path, text: str, write: bool) -> bool:
    """True if ``path`` does not hold exactly ``text`` (it is then rewritten if ``write``)."""
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if current == text:
        return False
    if write:
        path.write_text(text, encoding="utf-8")
    return True


def main(path: Path, text: str, argv: list[str], command: str) -> int:
    """A generator's command line: rewrite ``path`` with ``text``; with ``--check``,
    only say (exit 1) when it is stale, naming ``command`` as the fix."""
    if "--check" in argv:
        if sync(path, text, write=False):
            print(f"{path} is stale: run {command}", file=sys.stderr)
            return 1
        return 0
    sync(path, text, write=True)
    print(f"wrote {path}")
    return 0
