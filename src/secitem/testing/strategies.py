"""Hypothesis strategies for keychain values, hard cases included.

``pip install 'secitem[testing]'`` (or any install of ``hypothesis``); this
module imports hypothesis, the rest of secitem never does.

Every value these strategies produce is one the typed layer accepts and the
keychain they target stores and gives back unchanged: names have no NUL
character and no lone surrogate, services are not blank, servers are host
names, ports are 0..65535, and a ``platform="macos"`` description sets no
attribute that the macOS file-based keychain ignores (access group,
accessibility).  Within those rules they reach for the cases that break
keychain code: characters outside the Basic Multilingual Plane, combining
sequences, a leading U+FEFF (which some conversions drop), long values, and
NUL bytes inside secrets.

::

    from hypothesis import given
    from secitem import Keychain
    from secitem.testing import strategies as kst

    @given(item=kst.generic_passwords(), secret=kst.secrets())
    def test_round_trip(secitem_emulator, item, secret):
        secitem_emulator.reset()
        ...
"""

from __future__ import annotations

from typing import Final

from hypothesis import strategies as st

from secitem.items import (
    Accessible,
    AuthenticationType,
    GenericPassword,
    InternetPassword,
    Protocol,
)
from secitem.store import Credential
from secitem.testing.controls import Profile

__all__ = [
    "HARD_TEXT",
    "accounts",
    "binary_secrets",
    "credentials",
    "generic_passwords",
    "internet_passwords",
    "names",
    "ports",
    "secrets",
    "servers",
    "services",
    "text_secrets",
]

#: Pieces of text that have broken keychain code: characters outside the
#: BMP (two UTF-16 units), combining sequences (NFC vs NFD), a leading
#: U+FEFF, joiners, right-to-left text, and line breaks.
HARD_TEXT: Final = (
    "\U0001d11e",  # MUSICAL SYMBOL G CLEF
    "\U0001f600",  # GRINNING FACE
    "\U0010fffd",  # the last plane
    "\U0001f469\u200d\U0001f4bb",  # woman technologist: a ZWJ sequence
    "e\u0301",  # e + COMBINING ACUTE ACCENT (NFD of U+00E9)
    "\u00e9",  # U+00E9 (NFC)
    "a\u0308\u0304",  # two combining marks
    "\ufeff",  # BYTE ORDER MARK / ZERO WIDTH NO-BREAK SPACE
    "\u05e9\u05dc\u05d5\u05dd",  # Hebrew (right to left)
    "\u200b",  # ZERO WIDTH SPACE
    "line\nbreak\r\n",
    "\u00df\u0130\u0131",  # case mappings that change length
)

_NAME_CHARACTERS: Final = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
_SECRET_CHARACTERS: Final = st.characters(exclude_categories=["Cs"])
_LONG: Final = 2048


def _with_hard_cases(alphabet: st.SearchStrategy[str], *, min_size: int) -> st.SearchStrategy[str]:
    plain = st.text(alphabet, min_size=min_size, max_size=40)
    hard = st.lists(st.sampled_from(HARD_TEXT) | plain, min_size=1, max_size=5).map("".join)
    leading_bom = plain.map(lambda text: "\ufeff" + text)
    long = st.text(alphabet, min_size=256, max_size=_LONG)
    return st.one_of(plain, hard, leading_bom, long).filter(lambda text: len(text) >= min_size)


def names(*, min_size: int = 0) -> st.SearchStrategy[str]:
    """Text for a keychain attribute (label, comment, path, ...): any valid
    Unicode without NUL, hard cases included."""
    return _with_hard_cases(_NAME_CHARACTERS, min_size=min_size)


def accounts() -> st.SearchStrategy[str]:
    """Account names: non-empty attribute text (``""`` is the same as no account)."""
    return names(min_size=1)


def services() -> st.SearchStrategy[str]:
    """Service names: attribute text that is not blank (``CredentialStore``
    refuses a blank service)."""
    return names(min_size=1).filter(lambda text: bool(text.strip()))


_LABEL: Final = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789"), min_size=1, max_size=20
) | st.builds(
    lambda a, mid, b: a + mid + b,
    st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789"),
    st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-"), max_size=61),
    st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789"),
)


def servers() -> st.SearchStrategy[str]:
    """Host names (RFC 1123): dot-separated labels of letters, digits and
    inner hyphens, each 1..63 characters, 253 at most in all."""
    return (
        st.lists(_LABEL, min_size=1, max_size=4).map(".".join).filter(lambda host: len(host) <= 253)
    )


def ports() -> st.SearchStrategy[int]:
    """Ports: 0..65535 (0 is "no port")."""
    return st.integers(min_value=0, max_value=65535)


def text_secrets() -> st.SearchStrategy[str]:
    """Text passwords: any valid Unicode, NUL included, hard cases included."""
    return _with_hard_cases(_SECRET_CHARACTERS, min_size=0) | st.just("a\x00b")


def binary_secrets() -> st.SearchStrategy[bytes]:
    """Binary secrets: any bytes, empty and long ones, NUL bytes inside."""
    return st.one_of(
        st.binary(max_size=64),
        st.binary(min_size=1024, max_size=8 * 1024),
        st.binary(max_size=16).map(lambda data: b"\x00" + data + b"\x00"),
    )


def secrets() -> st.SearchStrategy[str | bytes]:
    """Secrets as ``Keychain.add`` takes them: text (stored as UTF-8) or bytes."""
    return st.one_of(text_secrets(), binary_secrets())


def credentials() -> st.SearchStrategy[Credential]:
    """``Credential(account, password)`` with a valid account and any text password."""
    return st.builds(Credential, accounts(), text_secrets())


def _optional(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.none() | strategy


_FOURCC: Final = st.integers(min_value=0, max_value=0xFFFFFFFF)


def _data_protection_fields(platform: Profile) -> dict[str, st.SearchStrategy[object]]:
    if platform == "ios":
        # The macOS file-based keychain ignores accessibility (and refuses it
        # here); the data-protection keychain honours every value.
        return {"accessible": _optional(st.sampled_from(Accessible))}
    return {}


def _check_platform(platform: object) -> Profile:
    if platform == "macos":
        return "macos"
    if platform == "ios":
        return "ios"
    raise ValueError(f"platform must be 'macos' or 'ios', not {platform!r}")


def generic_passwords(*, platform: Profile = "macos") -> st.SearchStrategy[GenericPassword]:
    """``GenericPassword`` descriptions that ``Keychain(platform=platform).add``
    stores: service and account always set, optional label, description,
    comment, generic data, creator and type codes (and accessibility on
    ``"ios"``)."""
    target = _check_platform(platform)
    return st.builds(
        GenericPassword,
        service=services(),
        account=accounts(),
        label=_optional(names()),
        description=_optional(names()),
        comment=_optional(names()),
        generic=_optional(binary_secrets()),
        creator=_optional(_FOURCC),
        type_code=_optional(_FOURCC),
        is_invisible=_optional(st.booleans()),
        **_data_protection_fields(target),
    )


def internet_passwords(*, platform: Profile = "macos") -> st.SearchStrategy[InternetPassword]:
    """``InternetPassword`` descriptions that ``Keychain(platform=platform).add``
    stores: server and account always set; optional protocol, port, path,
    security domain, authentication type, label, description and comment
    (and accessibility on ``"ios"``)."""
    target = _check_platform(platform)
    return st.builds(
        InternetPassword,
        server=servers(),
        account=accounts(),
        protocol=_optional(st.sampled_from(Protocol)),
        port=_optional(ports()),
        path=_optional(names().map(lambda text: "/" + text)),
        security_domain=_optional(names()),
        authentication_type=_optional(st.sampled_from(AuthenticationType)),
        label=_optional(names()),
        description=_optional(names()),
        comment=_optional(names()),
        creator=_optional(_FOURCC),
        type_code=_optional(_FOURCC),
        **_data_protection_fields(target),
    )
