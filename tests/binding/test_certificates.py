"""SecCertificate, SecIdentity and SecPKCS12Import under Apple's names (seckey-facts 1.3,
1.4, 4.6, 4.7), with certificates and PKCS#12 files made by pyca/cryptography."""

from __future__ import annotations

import hashlib
import os
import sys
from typing import Any

import pytest
from binding_helpers import close_all

import secitem
from secitem.security import (
    Certificate,
    Identity,
    Key,
    SecCertificateCopyCommonName,
    SecCertificateCopyData,
    SecCertificateCopyKey,
    SecCertificateCopySubjectSummary,
    SecCertificateCreateWithData,
    SecIdentityCopyCertificate,
    SecIdentityCopyPrivateKey,
    SecItemAdd,
    SecItemCopyMatching,
    SecItemDelete,
    SecKeyCopyAttributes,
    SecKeyCopyExternalRepresentation,
    SecKeyCreateSignature,
    SecKeyCreateWithData,
    SecPKCS12Import,
    kSecAttrApplicationLabel,
    kSecAttrCertificateEncoding,
    kSecAttrCertificateType,
    kSecAttrIssuer,
    kSecAttrKeyClass,
    kSecAttrKeyClassPrivate,
    kSecAttrKeyType,
    kSecAttrKeyTypeECSECPrimeRandom,
    kSecAttrLabel,
    kSecAttrPublicKeyHash,
    kSecAttrSerialNumber,
    kSecAttrSubject,
    kSecAttrSubjectKeyID,
    kSecClass,
    kSecClassCertificate,
    kSecClassIdentity,
    kSecClassKey,
    kSecImportExportPassphrase,
    kSecImportItemCertChain,
    kSecImportItemIdentity,
    kSecImportItemKeyID,
    kSecImportItemLabel,
    kSecImportToMemoryOnly,
    kSecKeyAlgorithmECDSASignatureMessageX962SHA256,
    kSecMatchLimit,
    kSecMatchLimitAll,
    kSecReturnAttributes,
    kSecReturnRef,
    kSecUseDataProtectionKeychain,
    kSecValueData,
    kSecValueRef,
)

pytest.importorskip("cryptography")
sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

import certs

DP = {kSecUseDataProtectionKeychain: True}


def private_key_der(key: certs.PrivateKey) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    n = (key.curve.key_size + 7) // 8
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return point + key.private_numbers().private_value.to_bytes(n, "big")


# ---------------------------------------------------------------------------
# 1.3 SecCertificate


def test_1_3_create_copy_data_trailing_bytes_and_pem() -> None:
    """1.3: DER in, the parsed DER out (trailing bytes dropped); PEM is refused."""
    _, cert = certs.make()
    der = certs.der(cert)
    with SecCertificateCreateWithData(der + b"trailing") as c:
        assert isinstance(c, Certificate) and SecCertificateCopyData(c) == der
    with pytest.raises(secitem.ParamError):
        SecCertificateCreateWithData(cert.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(secitem.ParamError):
        SecCertificateCreateWithData(b"\x30\x03\x02\x01\x01")


def test_4_6_subject_summary_and_common_name() -> None:
    """4.6: the summary joins every CN; SecCertificateCopyCommonName is the last CN;
    without a CN: e-mail, else OU; no CN -> errSecInternal (-26276)."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Org"),
            x509.NameAttribute(NameOID.COMMON_NAME, "First"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Second"),
        ]
    )
    _, cert = certs.make(subject=subject)
    with SecCertificateCreateWithData(certs.der(cert)) as c:
        assert SecCertificateCopySubjectSummary(c) == "First, Second"
        assert SecCertificateCopyCommonName(c) == "Second"
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Unit"),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, "a@example.org"),
        ]
    )
    _, cert = certs.make(subject=subject)
    with SecCertificateCreateWithData(certs.der(cert)) as c:
        assert SecCertificateCopySubjectSummary(c) == "a@example.org"
        with pytest.raises(secitem.KeychainError) as info:
            SecCertificateCopyCommonName(c)
        assert info.value.status == -26276
    _, cert = certs.make(
        subject=x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Unit")])
    )
    with SecCertificateCreateWithData(certs.der(cert)) as c:
        assert SecCertificateCopySubjectSummary(c) == "Unit"


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_1_3_copy_key_is_the_certificates_key(kind: str) -> None:
    """1.3 / 4.2: SecCertificateCopyKey gives the public key; its klbl is the cert's pkhh."""
    key = (
        ec.generate_private_key(ec.SECP384R1())
        if kind == "ec"
        else rsa.generate_private_key(65537, 2048)
    )
    _, cert = certs.make(key)
    with SecCertificateCreateWithData(certs.der(cert)) as c, SecCertificateCopyKey(c) as pub:
        assert isinstance(pub, Key)
        raw = SecKeyCopyExternalRepresentation(pub)
        fmt = (
            serialization.PublicFormat.UncompressedPoint
            if kind == "ec"
            else serialization.PublicFormat.PKCS1
        )
        enc = serialization.Encoding.X962 if kind == "ec" else serialization.Encoding.DER
        assert raw == key.public_key().public_bytes(enc, fmt)
        attrs = SecKeyCopyAttributes(pub)
        assert attrs is not None and attrs[kSecAttrApplicationLabel] == hashlib.sha1(raw).digest()


# ---------------------------------------------------------------------------
# 4.6 certificate items


def test_4_6_certificate_item_attributes(entitled: str) -> None:
    """4.6: a certificate added by kSecValueRef gets ctyp, cenc, normalized subj/issr, slnr
    (content bytes, leading 00 kept), skid, pkhh; re-adding it is a duplicate."""
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "  mixed   Case ", _ASN1Type.PrintableString)]
    )
    key, cert = certs.make(subject=subject, serial=0x80FF)
    der = certs.der(cert)
    with SecCertificateCreateWithData(der) as c:
        SecItemAdd({kSecClass: kSecClassCertificate, kSecValueRef: c, **DP})
        with pytest.raises(secitem.DuplicateItemError):
            SecItemAdd({kSecClass: kSecClassCertificate, kSecValueRef: c, **DP})
        attrs = SecItemCopyMatching(
            {kSecClass: kSecClassCertificate, kSecReturnAttributes: True, kSecValueRef: c, **DP}
        )
    assert isinstance(attrs, dict)
    close_all(attrs)
    assert attrs[kSecAttrCertificateType] == 3 and attrs[kSecAttrCertificateEncoding] == 3
    assert attrs[kSecAttrSerialNumber] == b"\x00\x80\xff"
    # PrintableString: upper-cased, blanks trimmed and collapsed, lengths re-encoded
    cn = b"\x06\x03\x55\x04\x03\x13\x0aMIXED CASE"
    normalized = b"\x31\x13\x30\x11" + cn
    assert attrs[kSecAttrSubject] == attrs[kSecAttrIssuer] == normalized
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key()).digest
    assert attrs[kSecAttrSubjectKeyID] == ski
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert attrs[kSecAttrPublicKeyHash] == hashlib.sha1(point).digest()
    found = SecItemCopyMatching({kSecClass: kSecClassCertificate, kSecReturnRef: True, **DP})
    assert isinstance(found, Certificate)
    with found:
        assert SecCertificateCopyData(found) == der


def test_4_6_file_keychain_infers_a_label(sim: Any) -> None:
    """4.6 (CertOSX inferLabel): a file-keychain certificate is labelled from its subject."""
    sim.lib.secsim_set_profile(b"macos")
    _, cert = certs.make()
    with SecCertificateCreateWithData(certs.der(cert)) as c:
        SecItemAdd({kSecClass: kSecClassCertificate, kSecValueRef: c})
    attrs = SecItemCopyMatching({kSecClass: kSecClassCertificate, kSecReturnAttributes: True})
    assert isinstance(attrs, dict) and attrs[kSecAttrLabel] == "Test Leaf"


# ---------------------------------------------------------------------------
# 4.6 identities


def test_4_6_identity_is_a_join_of_certificate_and_private_key(entitled: str) -> None:
    """4.6: a private key item and a certificate item with pkhh == klbl form an identity;
    either alone does not."""
    key, cert = certs.make()
    query = {kSecClass: kSecClassIdentity, kSecReturnRef: True, **DP}
    with SecCertificateCreateWithData(certs.der(cert)) as c:
        SecItemAdd({kSecClass: kSecClassCertificate, kSecValueRef: c, **DP})
    with pytest.raises(secitem.ItemNotFoundError):
        SecItemCopyMatching(query)
    attrs = {
        kSecAttrKeyType: kSecAttrKeyTypeECSECPrimeRandom,
        kSecAttrKeyClass: kSecAttrKeyClassPrivate,
    }
    with SecKeyCreateWithData(private_key_der(key), attrs) as k:
        SecItemAdd({kSecClass: kSecClassKey, kSecValueRef: k, kSecAttrLabel: "idkey", **DP})
    identity = SecItemCopyMatching(query)
    assert isinstance(identity, Identity)
    with (
        identity,
        SecIdentityCopyCertificate(identity) as c,
        SecIdentityCopyPrivateKey(identity) as k,
    ):
        assert SecCertificateCopyData(c) == certs.der(cert)
        sig = SecKeyCreateSignature(k, kSecKeyAlgorithmECDSASignatureMessageX962SHA256, b"tls")
        key.public_key().verify(sig, b"tls", ec.ECDSA(hashes.SHA256()))
    both = SecItemCopyMatching({kSecClass: kSecClassIdentity, kSecReturnAttributes: True, **DP})
    assert isinstance(both, dict)
    close_all(both)
    assert both[kSecAttrPublicKeyHash] == both[kSecAttrApplicationLabel]  # cert + key attributes
    SecItemDelete({kSecClass: kSecClassIdentity, **DP})  # explode_identity: cert, then key
    with pytest.raises(secitem.ItemNotFoundError):
        SecItemCopyMatching({kSecClass: kSecClassKey, **DP})


# ---------------------------------------------------------------------------
# 4.7 PKCS#12


def test_4_7_import_in_memory(entitled: str) -> None:
    """4.7: one dictionary per identity with the identity and the chain (leaf first);
    kSecImportToMemoryOnly stores nothing."""
    ca_key, ca = certs.make(subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA")]))
    key, leaf = certs.make(issuer_key=ca_key, issuer=ca.subject)
    data = certs.p12(key, leaf, b"pw", [ca])
    items = SecPKCS12Import(data, {kSecImportExportPassphrase: "pw", kSecImportToMemoryOnly: True})
    try:
        assert len(items) == 1
        entry = items[0]
        identity = entry[kSecImportItemIdentity]
        assert isinstance(identity, Identity)
        chain = entry[kSecImportItemCertChain]
        assert [SecCertificateCopyData(c) for c in chain] == [certs.der(leaf), certs.der(ca)]
        with SecIdentityCopyPrivateKey(identity) as k:
            assert SecKeyCopyExternalRepresentation(k) == private_key_der(key)
    finally:
        close_all(items)
    with pytest.raises(secitem.ItemNotFoundError):
        SecItemCopyMatching({kSecClass: kSecClassCertificate, kSecMatchLimit: kSecMatchLimitAll})


def test_4_7_wrong_or_missing_password_is_auth_failed(entitled: str) -> None:
    """4.7: a MAC mismatch is errSecAuthFailed (-25293); no password means ""."""
    key, cert = certs.make(rsa.generate_private_key(65537, 2048))
    data = certs.p12(key, cert, b"right")
    with pytest.raises(secitem.AuthFailedError):
        SecPKCS12Import(data, {kSecImportExportPassphrase: "wrong"})
    with pytest.raises(secitem.AuthFailedError):
        SecPKCS12Import(data)
    with pytest.raises(secitem.KeychainError) as info:
        SecPKCS12Import(b"\x30\x03\x02\x01\x03")
    assert info.value.status == -26275  # errSecDecode


def test_4_7_macos_stores_in_the_file_keychain(sim: Any) -> None:
    """4.7: on macOS the identity goes to the file keychain by default (no entitlement
    needed); label and keyid are added; the identity is then found by class."""
    sim.lib.secsim_set_profile(b"macos")
    sim.lib.secsim_set_access_groups(b"")
    key, cert = certs.make()
    items = SecPKCS12Import(certs.p12(key, cert, b"pw"), {kSecImportExportPassphrase: "pw"})
    try:
        entry = items[0]
        assert entry[kSecImportItemLabel] == "Test Leaf"
        point = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        assert entry[kSecImportItemKeyID] == hashlib.sha1(point).digest()
    finally:
        close_all(items)
    identity = SecItemCopyMatching({kSecClass: kSecClassIdentity, kSecReturnRef: True})
    assert isinstance(identity, Identity)
    identity.close()
    data = SecItemCopyMatching(
        {
            kSecClass: kSecClassCertificate,
            kSecReturnAttributes: True,
            kSecValueData: b"",
            kSecReturnRef: False,
        }
    )
    close_all(data)


def test_4_7_ios_is_memory_only(sim: Any) -> None:
    """4.7: iOS keeps the import in memory unless kSecUseDataProtectionKeychain is true."""
    sim.lib.secsim_set_profile(b"ios")
    key, cert = certs.make()
    close_all(SecPKCS12Import(certs.p12(key, cert, b"pw"), {kSecImportExportPassphrase: "pw"}))
    with pytest.raises(secitem.ItemNotFoundError):
        SecItemCopyMatching({kSecClass: kSecClassIdentity})
    close_all(
        SecPKCS12Import(certs.p12(key, cert, b"pw"), {kSecImportExportPassphrase: "pw", **DP})
    )
    identity = SecItemCopyMatching({kSecClass: kSecClassIdentity, kSecReturnRef: True})
    assert isinstance(identity, Identity)
    identity.close()


def test_identity_added_by_reference_and_deleted(entitled: str) -> None:
    """4.6 explode_identity: adding a SecIdentity adds its certificate and key; deleting it
    removes both."""
    key, cert = certs.make()
    items = SecPKCS12Import(
        certs.p12(key, cert, b"pw"),
        {kSecImportExportPassphrase: "pw", kSecImportToMemoryOnly: True},
    )
    try:
        identity = items[0][kSecImportItemIdentity]
        SecItemAdd({kSecValueRef: identity, **DP})
        assert SecItemCopyMatching({kSecClass: kSecClassCertificate, **DP}) is None
        assert SecItemCopyMatching({kSecClass: kSecClassKey, **DP}) is None
        SecItemDelete({kSecValueRef: identity, **DP})
    finally:
        close_all(items)
    with pytest.raises(secitem.ItemNotFoundError):
        SecItemCopyMatching({kSecClass: kSecClassKey, **DP})
    with pytest.raises(secitem.ItemNotFoundError):
        SecItemCopyMatching({kSecClass: kSecClassCertificate, **DP})
