"""docs/reliability.md: a subclass cannot substitute other bytes ("str.encode called
unbound", "a subclass's __bytes__ is never asked", "the typed layer checks and
stores str, int and bytes subclasses by their real values").  The typed layer's
secret conversion (keychain._secret) calls the *bound* `data.encode("utf-8")` and
`bytes(data)`, and PersistentRef calls `bytes(value)`: a str subclass's encode()
or a bytes subclass's __bytes__ decides what is stored / which item is addressed.
"""

import secitem
from secitem import Credential, CredentialStore, GenericPassword, Keychain, PersistentRef


class LyingStr(str):
    def encode(self, *args, **kwargs):
        return b"FAKE"


class LyingBytes(bytes):
    def __bytes__(self):
        return b"FAKE"


Q = GenericPassword(service="s", account="a")


def test_keychain_add_stores_the_real_text(secitem_emulator):
    Keychain().add(Q, LyingStr("REAL"))
    assert Keychain().secret(Q) == b"REAL"


def test_keychain_add_stores_the_real_bytes(secitem_emulator):
    Keychain().add(Q, LyingBytes(b"REAL"))
    assert Keychain().secret(Q) == b"REAL"


def test_keychain_update_stores_the_real_bytes(secitem_emulator):
    Keychain().add(Q, b"old")
    Keychain().update(Q, data=LyingBytes(b"REAL"))
    assert Keychain().secret(Q) == b"REAL"


def test_credential_store_saves_the_real_password(secitem_emulator):
    store = CredentialStore(service="svc")
    store.save(Credential("alice", LyingStr("REAL")))
    assert store.get("alice").password == "REAL"


def test_set_password_stores_the_real_password(secitem_emulator):
    secitem.set_password("svc", "alice", LyingStr("REAL"))
    assert secitem.get_password("svc", "alice") == "REAL"


def test_persistent_ref_addresses_the_real_item(secitem_emulator):
    kc = Keychain()
    ref_a = kc.add(GenericPassword(service="s", account="a"), b"a")
    ref_b = kc.add(GenericPassword(service="s", account="b"), b"b")

    class Ref(bytes):
        def __bytes__(self):
            return ref_b.value

    kc.delete(PersistentRef(Ref(ref_a.value)))
    # the item that was named (a) is gone, the other (b) is still there
    assert [i.attributes.account for i in kc.find(GenericPassword(service="s"))] == ["b"]
