"""Text that is not valid Unicode is refused by field name, and never quoted."""

from __future__ import annotations

import pytest

from secitem.items import GenericPassword, InvalidQueryError, QueryTypeError
from secitem.keychain import Keychain

BAD = "pw-\udcff-canary"


def test_lone_surrogate_secret_is_refused_without_quoting_it(profile: str) -> None:
    """Keychain.add with a str secret holding a lone surrogate names 'data', not the text."""
    kc = Keychain(platform="ios" if profile == "ios" else "macos")
    with pytest.raises(QueryTypeError) as info:
        kc.add(GenericPassword(service="svc", account="a"), data=BAD)
    message = str(info.value)
    assert "data" in message
    assert "canary" not in message and "\udcff" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert kc.find(GenericPassword(service="svc")) == []  # nothing half-stored


def test_lone_surrogate_attribute_is_refused_by_field() -> None:
    """A text attribute with a lone surrogate is an InvalidQueryError naming the field."""
    with pytest.raises(InvalidQueryError) as info:
        GenericPassword(service="svc", label=BAD)
    message = str(info.value)
    assert "label" in message
    assert "canary" not in message


def test_item_text_of_binary_data_does_not_carry_the_secret(profile: str) -> None:
    """Issue #11 item 6: Item.text raised a raw UnicodeDecodeError holding the whole secret."""
    from secitem import PasswordNotTextError, SecitemError

    secret = b"\xffcanary-\xfe-secret"
    kc = Keychain(platform="ios" if profile == "ios" else "macos")
    kc.add(GenericPassword(service="svc", account="a"), data=secret)
    item = kc.get(GenericPassword(service="svc", account="a"))
    assert item.data == secret
    with pytest.raises(PasswordNotTextError) as info:
        _ = item.text
    error = info.value
    assert isinstance(error, ValueError) and isinstance(error, SecitemError)
    for text in (str(error), repr(error), repr(error.args)):
        assert "canary" not in text and "\\xff" not in text
    assert error.__context__ is None and error.__cause__ is None
    assert "item.data" in str(error)


@pytest.mark.parametrize("field", ["creator", "type_code"])
@pytest.mark.parametrize("value", ["😀😀", "ab😀", "\udcffabc", "Ωmega"])
def test_fourcc_outside_mac_roman_names_the_field(field: str, value: str) -> None:
    """Issue #11 item 10: GenericPassword(creator="😀") raised a raw UnicodeEncodeError."""
    from secitem import SecitemError

    with pytest.raises(InvalidQueryError) as info:
        GenericPassword(service="svc", **{field: value})
    assert isinstance(info.value, SecitemError)
    assert f"GenericPassword.{field}" in str(info.value)
    assert "four-character code" in str(info.value)
    assert info.value.__context__ is None or info.value.__suppress_context__


def test_fourcc_function_refuses_non_mac_roman() -> None:
    """fourcc() itself raises the typed error, never UnicodeEncodeError."""
    from secitem import fourcc

    with pytest.raises(InvalidQueryError, match="fourcc"):
        fourcc("😀")
    assert fourcc("aapl") == 0x6161706C


def test_find_limit_beyond_64_bits_names_the_argument(profile: str) -> None:
    """Issue #11 item 10: find(limit=2**63) raised OverflowError naming kSecMatchLimit."""
    kc = Keychain(platform="ios" if profile == "ios" else "macos")
    with pytest.raises(InvalidQueryError) as info:
        kc.find(GenericPassword(service="svc"), limit=2**63)
    assert "find(limit=...)" in str(info.value)
    assert kc.find(GenericPassword(service="svc"), limit=2) == []


class _LyingInt(int):
    def __le__(self, other: object) -> bool:
        return True

    def __ge__(self, other: object) -> bool:
        return True

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return False


class _LyingStr(str):
    def __contains__(self, item: object) -> bool:
        return False


class _LyingBytes(bytes):
    def __len__(self) -> int:
        return 1 << 30

    def __bytes__(self) -> bytes:
        return b"other"


def test_subclasses_cannot_lie_their_way_past_validation(profile: str) -> None:
    """An int whose comparisons lie, a str hiding its NUL, bytes with a false __bytes__:
    each is checked (and stored) by its real value."""
    with pytest.raises(InvalidQueryError, match="port"):
        from secitem import InternetPassword

        InternetPassword(server="h", port=_LyingInt(70000))
    with pytest.raises(InvalidQueryError, match="NUL"):
        GenericPassword(service=_LyingStr("a\x00b"))
    kc = Keychain(platform="ios" if profile == "ios" else "macos")
    with pytest.raises(InvalidQueryError, match="limit"):
        kc.find(GenericPassword(service="svc"), limit=_LyingInt(0))
    item = GenericPassword(service="svc", account="a", generic=_LyingBytes(b"real"))
    assert type(item.generic) is bytes and item.generic == b"real"
