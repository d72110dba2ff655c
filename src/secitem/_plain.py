"""The values that hold no CF object: one definition for the conversion layer and the typed layer.

What the readers of :mod:`secitem._from_cf` return for CoreFoundation's plain
types (strings, data, booleans, numbers, dates, the library's constants,
kCFNull).  A value of one of these exact types has nothing to close:
:func:`secitem._cfobjects.close_all` skips it, and :func:`secitem.items.item_from_result`
keeps it in :attr:`secitem.Item.raw` without looking for a ``close``.  This
module imports no cffi, so the pure-Python typed layer can use it.
"""

from __future__ import annotations

from datetime import datetime

from secitem.constants import SecConstant

# typing is only needed by type checkers: keep it off the import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

__all__ = ["PLAIN_TYPES"]

#: Exact types (not subclasses) of values that cannot be or hold a CF object.
PLAIN_TYPES: Final[frozenset[type]] = frozenset(
    {str, bytes, bool, int, float, datetime, SecConstant, type(None)}
)
