"""Test certificates made with pyca/cryptography (an independent X.509 implementation)."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def name(*attrs: tuple[x509.ObjectIdentifier, str, object]) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(oid, value, _type)  # type: ignore[arg-type]
            for oid, value, _type in attrs
        ]
    )


def make(
    key: PrivateKey | None = None,
    subject: x509.Name | None = None,
    serial: int = 0x80FF,
    san: list[x509.GeneralName] | None = None,
    issuer_key: PrivateKey | None = None,
    issuer: x509.Name | None = None,
) -> tuple[PrivateKey, x509.Certificate]:
    """A certificate (self-signed unless an issuer is given) with an SKID."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = subject or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Leaf")])
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), False)
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return key, cert


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def p12(
    key: PrivateKey,
    cert: x509.Certificate,
    password: bytes,
    cas: list[x509.Certificate] | None = None,
) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"friendly", key, cert, cas, serialization.BestAvailableEncryption(password)
    )
