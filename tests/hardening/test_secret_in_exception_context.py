"""docs/errors.md / README: "No secret ever appears in a repr, log or error message";
docs/reliability.md: "No secret in any repr, str, exception, log record".

Every refusal of a password that holds a lone surrogate is raised with
`raise ... from None` inside `except UnicodeEncodeError`.  `from None` only hides
the context when printing; `__context__` still holds the UnicodeEncodeError, whose
`.object` / `.args[1]` is the *whole password*.  Anything that walks the chain
(error reporters, `exc.__context__`, a debugger, pickling the exception) gets it.
"""

import pytest

import secitem
from secitem import Credential, GenericPassword, Keychain, SecitemError
from secitem.security import SecItemAdd, kSecClass, kSecClassGenericPassword, kSecValueData

SECRET = "CANARY-s3cret\ud800"


def _chain(exc):
    seen = []
    while exc is not None and all(exc is not s for s in seen):
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _leaks(exc):
    return [
        type(e).__name__
        for e in _chain(exc)
        if "CANARY" in repr(e.args) or "CANARY" in repr(getattr(e, "object", ""))
    ]


CALLS = {
    "Credential": lambda: Credential("alice", SECRET),
    "Keychain.add": lambda: Keychain().add(GenericPassword(service="s", account="a"), SECRET),
    "Keychain.upsert": lambda: Keychain().upsert(GenericPassword(service="s", account="a"), SECRET),
    "Keychain.update": lambda: Keychain().update(GenericPassword(service="s"), data=SECRET),
    "set_password": lambda: secitem.set_password("s", "a", SECRET),
    "SecItemAdd": lambda: SecItemAdd({kSecClass: kSecClassGenericPassword, kSecValueData: SECRET}),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_refused_password_is_not_kept_in_the_exception_chain(secitem_emulator, name):
    with pytest.raises((SecitemError, ValueError, TypeError)) as info:
        CALLS[name]()
    assert _leaks(info.value) == []


def test_keyring_refusal_does_not_keep_the_password(secitem_emulator):
    pytest.importorskip("keyring")
    from secitem.keyring_backend import SecitemKeyring

    with pytest.raises(Exception) as info:
        SecitemKeyring().set_password("s", "a", SECRET)
    assert _leaks(info.value) == []


BINARY = b"CANARY-stored\xff\xfe"  # a stored secret that is not UTF-8


def test_stored_secret_that_is_not_text_is_not_kept_in_the_chain(secitem_emulator):
    """CredentialStore.get and the keyring backend refuse a stored secret that is not
    UTF-8; the UnicodeDecodeError (whose .object is the stored secret) must not be the
    refusal's __context__."""
    from secitem.errors import PasswordNotTextError
    from secitem.store import CredentialStore

    Keychain().add(GenericPassword(service="s", account="a", creator="SItm"), BINARY)
    with pytest.raises(PasswordNotTextError) as info:
        CredentialStore(service="s").get("a")
    assert _leaks(info.value) == []
    assert info.value.__context__ is None

    pytest.importorskip("keyring")
    from secitem.keyring_backend import SecitemKeyring

    with pytest.raises(Exception) as info:
        SecitemKeyring().get_password("s", "a")
    assert _leaks(info.value) == []
    assert info.value.__context__ is None
