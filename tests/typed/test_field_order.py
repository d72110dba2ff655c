"""The fields of the five item descriptions: their order and what each maps to, pinned.

The order is public (positional ``dataclasses.fields``, ``repr``, ``field_names``);
the mapping (attribute key, kind, enum, identity, default) is what reaches the
keychain.  Sharing field groups between the classes must change neither.
"""

from __future__ import annotations

import dataclasses

import pytest

from secitem import items

# name, attribute key, kind, enum, part of the identity, default
EXPECTED = {
    "GenericPassword": (
        ("service", "svce", "str", None, True, ""),
        ("account", "acct", "str", None, True, ""),
        ("access_group", "agrp", "str", None, False, None),
        ("synchronizable", "sync", "sync", None, False, None),
        ("label", "labl", "str", None, False, None),
        ("description", "desc", "str", None, False, None),
        ("comment", "icmt", "str", None, False, None),
        ("generic", "gena", "bytes", None, False, None),
        ("creator", "crtr", "fourcc", None, False, None),
        ("type_code", "type", "fourcc", None, False, None),
        ("is_invisible", "invi", "bool", None, False, None),
        ("is_negative", "nega", "bool", None, False, None),
        ("accessible", "pdmn", "enum", "Accessible", False, None),
        ("access_control", "accc", "policy", None, False, None),
    ),
    "InternetPassword": (
        ("server", "srvr", "str", None, True, ""),
        ("account", "acct", "str", None, True, ""),
        ("security_domain", "sdmn", "str", None, True, ""),
        ("protocol", "ptcl", "enum", "InternetProtocol", True, 0),
        ("authentication_type", "atyp", "enum", "AuthenticationType", True, ""),
        ("port", "port", "port", None, True, 0),
        ("path", "path", "str", None, True, ""),
        ("access_group", "agrp", "str", None, False, None),
        ("synchronizable", "sync", "sync", None, False, None),
        ("label", "labl", "str", None, False, None),
        ("description", "desc", "str", None, False, None),
        ("comment", "icmt", "str", None, False, None),
        ("creator", "crtr", "fourcc", None, False, None),
        ("type_code", "type", "fourcc", None, False, None),
        ("is_invisible", "invi", "bool", None, False, None),
        ("is_negative", "nega", "bool", None, False, None),
        ("accessible", "pdmn", "enum", "Accessible", False, None),
        ("access_control", "accc", "policy", None, False, None),
    ),
    "Certificate": (
        ("certificate_type", "ctyp", "uint", None, True, None),
        ("issuer", "issr", "bytes", None, True, None),
        ("serial_number", "slnr", "bytes", None, True, None),
        ("certificate_encoding", "cenc", "uint", None, False, None),
        ("subject", "subj", "bytes", None, False, None),
        ("subject_key_id", "skid", "bytes", None, False, None),
        ("public_key_hash", "pkhh", "bytes", None, False, None),
        ("label", "labl", "str", None, False, None),
        ("access_group", "agrp", "str", None, False, None),
        ("synchronizable", "sync", "sync", None, False, None),
        ("accessible", "pdmn", "enum", "Accessible", False, None),
    ),
    "Key": (
        ("key_class", "kcls", "enum", "KeyClass", True, None),
        ("application_label", "klbl", "bytes", None, True, None),
        ("application_tag", "atag", "bytes", None, True, None),
        ("key_type", "type", "enum", "KeyType", True, None),
        ("key_size_in_bits", "bsiz", "uint", None, True, None),
        ("effective_key_size", "esiz", "uint", None, True, None),
        ("label", "labl", "str", None, False, None),
        ("is_permanent", "perm", "bool", None, False, None),
        ("is_sensitive", "sens", "bool", None, False, None),
        ("is_extractable", "extr", "bool", None, False, None),
        ("can_encrypt", "encr", "bool", None, False, None),
        ("can_decrypt", "decr", "bool", None, False, None),
        ("can_derive", "drve", "bool", None, False, None),
        ("can_sign", "sign", "bool", None, False, None),
        ("can_verify", "vrfy", "bool", None, False, None),
        ("can_wrap", "wrap", "bool", None, False, None),
        ("can_unwrap", "unwp", "bool", None, False, None),
        ("prf", "prf", "enum", "PRF", False, None),
        ("salt", "salt", "bytes", None, False, None),
        ("rounds", "rounds", "uint", None, False, None),
        ("token_id", "tkid", "str", None, False, None),
        ("access_group", "agrp", "str", None, False, None),
        ("synchronizable", "sync", "sync", None, False, None),
        ("accessible", "pdmn", "enum", "Accessible", False, None),
    ),
    "Identity": (
        ("certificate_type", "ctyp", "uint", None, False, None),
        ("issuer", "issr", "bytes", None, False, None),
        ("serial_number", "slnr", "bytes", None, False, None),
        ("certificate_encoding", "cenc", "uint", None, False, None),
        ("subject", "subj", "bytes", None, False, None),
        ("subject_key_id", "skid", "bytes", None, False, None),
        ("public_key_hash", "pkhh", "bytes", None, False, None),
        ("key_class", "kcls", "enum", "KeyClass", False, None),
        ("application_label", "klbl", "bytes", None, False, None),
        ("application_tag", "atag", "bytes", None, False, None),
        ("key_type", "type", "enum", "KeyType", False, None),
        ("key_size_in_bits", "bsiz", "uint", None, False, None),
        ("effective_key_size", "esiz", "uint", None, False, None),
        ("label", "labl", "str", None, False, None),
        ("is_permanent", "perm", "bool", None, False, None),
        ("is_sensitive", "sens", "bool", None, False, None),
        ("is_extractable", "extr", "bool", None, False, None),
        ("can_encrypt", "encr", "bool", None, False, None),
        ("can_decrypt", "decr", "bool", None, False, None),
        ("can_derive", "drve", "bool", None, False, None),
        ("can_sign", "sign", "bool", None, False, None),
        ("can_verify", "vrfy", "bool", None, False, None),
        ("can_wrap", "wrap", "bool", None, False, None),
        ("can_unwrap", "unwp", "bool", None, False, None),
        ("token_id", "tkid", "str", None, False, None),
        ("access_group", "agrp", "str", None, False, None),
        ("synchronizable", "sync", "sync", None, False, None),
        ("accessible", "pdmn", "enum", "Accessible", False, None),
    ),
}


def _spec_rows(cls: type[items.ItemDescription]) -> tuple[tuple[object, ...], ...]:
    return tuple(
        (
            s.name,
            str(s.key),
            s.kind.value,
            s.enum.__name__ if s.enum else None,
            s.identity,
            s.default,
        )
        for s in items._specs(cls)
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_field_order_and_mapping_are_pinned(name: str) -> None:
    cls = getattr(items, name)
    expected = EXPECTED[name]
    assert tuple(f.name for f in dataclasses.fields(cls)) == tuple(row[0] for row in expected)
    assert cls.field_names() == tuple(row[0] for row in expected)
    assert _spec_rows(cls) == expected
