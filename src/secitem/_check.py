"""The one argument check for text: a ``str``, no NUL, valid UTF-8, the value never quoted.

Every layer that takes a name or a password from its caller (item
descriptions, :class:`~secitem.store.CredentialStore`, :class:`Keychain`'s
secrets, the keyring backend, the command line) checks it here, passing the
name of the field or argument as the caller wrote it (``"GenericPassword.account"``,
``"CredentialStore(service=...)"``, ``"get(account=...)"``), so the error
names it in the first place and nobody rewrites messages afterwards.

Errors never contain the value: it may be a password, and Python's own
``UnicodeEncodeError`` would quote part of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from secitem.errors import InvalidQueryError, QueryTypeError

__all__ = ["Naming", "argument", "attribute", "secret", "text", "unicode"]

#: Turns a field name (``"port"``) into the name an error shows.
Naming = Callable[[str], str]

_SURROGATE: Final = (
    "is not valid Unicode text (it contains a lone surrogate, e.g. from undecodable "
    "bytes); decode the original bytes with the right encoding"
)


def argument(owner: str) -> Naming:
    """Name fields as keyword arguments: ``argument("CredentialStore")("port")``
    is ``"CredentialStore(port=...)"``."""
    return lambda name: f"{owner}({name}=...)"


def attribute(owner: str) -> Naming:
    """Name fields as attributes: ``attribute("GenericPassword")("port")`` is
    ``"GenericPassword.port"``."""
    return lambda name: f"{owner}.{name}"


def text(
    value: object,
    field: str,
    *,
    nul_ok: bool = False,
    empty_ok: bool = True,
    expected: str = "str",
    type_hint: str = "",
) -> str:
    """``value`` as a plain ``str``, or the error naming ``field``.

    :class:`~secitem.errors.QueryTypeError` when it is not a ``str``
    ("expected ``expected``, got ...", then ``type_hint``: callers that also
    take ``None`` say so and handle it first);
    :class:`~secitem.errors.InvalidQueryError` when it contains NUL (unless
    ``nul_ok``: passwords may), is blank (unless ``empty_ok``) or is not
    valid Unicode (a lone surrogate).  A ``str`` subclass is copied to a plain
    ``str`` first: its methods may lie.
    """
    if type(value) is not str:
        if not isinstance(value, str):
            raise QueryTypeError(
                field, f"expected {expected}, got {type(value).__name__}{type_hint}"
            )
        value = str.__str__(value)
    if not nul_ok and "\x00" in value:
        raise InvalidQueryError(field, "must not contain NUL characters")
    if not empty_ok and not value.strip():
        raise InvalidQueryError(field, "must not be empty")
    if not value.isascii():
        unicode(value, field)
    return value


def unicode(value: str, field: str) -> None:
    """Refuse text that cannot be encoded as UTF-8 (lone surrogates), naming ``field``."""
    try:
        str.encode(value, "utf-8")
        return
    except UnicodeEncodeError:
        pass
    # Raised outside the handler: Python's error holds the whole text (maybe a
    # password) and must not stay reachable as __context__ (`from None` only
    # hides it from tracebacks).
    raise InvalidQueryError(field, _SURROGATE) from None


def secret(data: object, field: str) -> bytes:
    """A secret as bytes: ``bytes``-like as is, ``str`` as UTF-8; never quoted."""
    if isinstance(data, str):
        try:
            return str.encode(data, "utf-8")
        except UnicodeEncodeError:
            pass
        # Outside the handler: no __context__ holding the secret.
        raise QueryTypeError(
            field, "is not valid Unicode text (lone surrogate); pass bytes instead"
        ) from None
    if isinstance(data, (bytes, bytearray, memoryview)):
        return data if type(data) is bytes else memoryview(data).tobytes()
    raise QueryTypeError(field, f"expected bytes or str, got {type(data).__name__}")
