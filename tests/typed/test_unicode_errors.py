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
