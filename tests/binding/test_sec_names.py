"""The CF wrappers carry Apple's names; the old ones are deprecated aliases (one release)."""

from __future__ import annotations

import secitem
from secitem import _cfobjects, security


def test_apple_names_and_deprecated_aliases() -> None:
    for new, old in (
        ("SecKey", "Key"),
        ("SecCertificate", "Certificate"),
        ("SecIdentity", "Identity"),
    ):
        cls = getattr(security, new)
        assert cls.__name__ == new and cls.cf_type_name == new
        assert getattr(security, old) is cls
        assert getattr(_cfobjects, new) is cls and getattr(_cfobjects, old) is cls
        assert new in security.__all__ and old in security.__all__
        # No longer the same name as the typed description.
        assert getattr(secitem, old) is not cls
