"""docs/reliability.md: "the typed layer checks and stores str, int and bytes
subclasses by their real values".  CredentialStore.get(account) builds its query
with `str(account)`, which calls a subclass's __str__: a str subclass whose value
is "alice" reads bob's password, and returns it as alice's Credential.  The
one-liner secitem.get_password does the same (it goes through the store)."""

import secitem
from secitem import Credential, CredentialStore


class Account(str):
    def __str__(self):
        return "bob"


def test_get_reads_the_account_it_was_given(secitem_emulator):
    store = CredentialStore(service="svc")
    store.save(Credential("alice", "alice-pw"))
    store.save(Credential("bob", "bob-pw"))
    got = store.get(Account("alice"))
    assert got is not None
    assert got.password == "alice-pw"


def test_get_password_reads_the_account_it_was_given(secitem_emulator):
    secitem.set_password("svc", "alice", "alice-pw")
    secitem.set_password("svc", "bob", "bob-pw")
    assert secitem.get_password("svc", Account("alice")) == "alice-pw"
