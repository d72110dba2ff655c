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
