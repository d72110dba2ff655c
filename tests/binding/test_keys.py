"""SecKey under Apple's names in ``secitem.security``, cross-checked with pyca/cryptography.

Each test names the seckey-facts.md rule it shows.  Keys are ``Key`` objects
that release their reference when closed; the autouse fixture checks that no
CF object outlives a test.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

import secitem
from secitem import security as sec
from secitem.security import (
    Key,
    SecItemCopyMatching,
    SecKeyCopyAttributes,
    SecKeyCopyExternalRepresentation,
    SecKeyCopyKeyExchangeResult,
    SecKeyCopyPublicKey,
    SecKeyCreateDecryptedData,
    SecKeyCreateEncryptedData,
    SecKeyCreateRandomKey,
    SecKeyCreateSignature,
    SecKeyCreateWithData,
    SecKeyGetBlockSize,
    SecKeyIsAlgorithmSupported,
    SecKeyVerifySignature,
    kSecAttrApplicationLabel,
    kSecAttrApplicationTag,
    kSecAttrIsPermanent,
    kSecAttrKeyClass,
    kSecAttrKeyClassPrivate,
    kSecAttrKeyClassPublic,
    kSecAttrKeySizeInBits,
    kSecAttrKeyType,
    kSecAttrKeyTypeECSECPrimeRandom,
    kSecAttrKeyTypeRSA,
    kSecAttrTokenID,
    kSecAttrTokenIDSecureEnclave,
    kSecClass,
    kSecClassKey,
    kSecKeyAlgorithmECDHKeyExchangeStandardX963SHA256,
    kSecKeyAlgorithmECDSASignatureMessageX962SHA256,
    kSecKeyAlgorithmECIESEncryptionStandardVariableIVX963SHA256AESGCM,
    kSecKeyAlgorithmRSAEncryptionOAEPSHA256,
    kSecKeyAlgorithmRSASignatureMessagePSSSHA256,
    kSecKeyKeyExchangeParameterRequestedSize,
    kSecKeyOperationTypeSign,
    kSecPrivateKeyAttrs,
    kSecReturnRef,
    kSecUseDataProtectionKeychain,
)

pytest.importorskip("cryptography")
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

EC256 = {kSecAttrKeyType: kSecAttrKeyTypeECSECPrimeRandom, kSecAttrKeySizeInBits: 256}
RSA2048 = {kSecAttrKeyType: kSecAttrKeyTypeRSA, kSecAttrKeySizeInBits: 2048}


def test_2_1_every_algorithm_constant_is_exported_by_name() -> None:
    """2.1: the 87 public kSecKeyAlgorithm* names, each a str with Apple's characters."""
    assert len(sec.KEY_ALGORITHMS) == 87
    assert (
        sec.kSecKeyAlgorithmRSASignatureDigestPSSSHA224
        == "algid:sign:RSA:digest-PSS:SHA224:SHA224:24"
    )
    assert all(getattr(sec, c.name) is c and c.name in sec.__all__ for c in sec.KEY_ALGORITHMS)


def test_3_3_ec_sign_here_verify_with_pyca_and_back(entitled: str) -> None:
    """3.1 / 3.3: the X9.63 key and a DER ECDSA signature are read by pyca, both ways."""
    with SecKeyCreateRandomKey(EC256) as key, SecKeyCopyPublicKey(key) as pub:
        raw = SecKeyCopyExternalRepresentation(key)
        theirs = ec.derive_private_key(int.from_bytes(raw[65:], "big"), ec.SECP256R1())
        sig = SecKeyCreateSignature(key, kSecKeyAlgorithmECDSASignatureMessageX962SHA256, b"hello")
        theirs.public_key().verify(sig, b"hello", ec.ECDSA(hashes.SHA256()))
        back = theirs.sign(b"world", ec.ECDSA(hashes.SHA256()))
        alg = kSecKeyAlgorithmECDSASignatureMessageX962SHA256
        assert SecKeyVerifySignature(pub, alg, b"world", back) is True
        assert SecKeyVerifySignature(pub, alg, b"w0rld", back) is False  # -67808 -> False


def test_3_3_rsa_pss_and_oaep_with_pyca(entitled: str) -> None:
    """3.3 / 3.4: a pyca RSA key imported as PKCS#1; PSS and OAEP interoperate."""
    theirs = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = theirs.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    with (
        SecKeyCreateWithData(
            der, {kSecAttrKeyType: kSecAttrKeyTypeRSA, kSecAttrKeyClass: kSecAttrKeyClassPrivate}
        ) as key,
        SecKeyCopyPublicKey(key) as pub,
    ):
        assert SecKeyGetBlockSize(key) == 256
        sig = SecKeyCreateSignature(key, kSecKeyAlgorithmRSASignatureMessagePSSSHA256, b"m")
        theirs.public_key().verify(
            sig, b"m", padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256()
        )
        ct = SecKeyCreateEncryptedData(pub, kSecKeyAlgorithmRSAEncryptionOAEPSHA256, b"secret")
        oaep = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
        assert theirs.decrypt(ct, oaep) == b"secret"
        back = theirs.public_key().encrypt(b"reply", oaep)
        assert (
            SecKeyCreateDecryptedData(key, kSecKeyAlgorithmRSAEncryptionOAEPSHA256, back)
            == b"reply"
        )


def test_3_5_ecies_round_trip_and_tamper(entitled: str) -> None:
    """3.5: ECIES round trip; a modified tag is a ParamError (-50)."""
    alg = kSecKeyAlgorithmECIESEncryptionStandardVariableIVX963SHA256AESGCM
    with SecKeyCreateRandomKey(EC256) as key, SecKeyCopyPublicKey(key) as pub:
        ct = SecKeyCreateEncryptedData(pub, alg, b"payload")
        assert len(ct) == 65 + 7 + 16
        assert SecKeyCreateDecryptedData(key, alg, ct) == b"payload"
        with pytest.raises(secitem.ParamError) as info:
            SecKeyCreateDecryptedData(key, alg, ct[:-1] + bytes([ct[-1] ^ 1]))
        assert info.value.status == -50 and "aes-gcm" in str(info.value)


def test_3_6_key_exchange_both_sides_agree(entitled: str) -> None:
    """3.6: ECDH + X9.63 KDF gives both parties the same bytes."""
    alg = kSecKeyAlgorithmECDHKeyExchangeStandardX963SHA256
    params = {kSecKeyKeyExchangeParameterRequestedSize: 32}
    with (
        SecKeyCreateRandomKey(EC256) as a,
        SecKeyCreateRandomKey(EC256) as b,
        SecKeyCopyPublicKey(a) as pa,
        SecKeyCopyPublicKey(b) as pb,
    ):
        assert SecKeyCopyKeyExchangeResult(a, alg, pb, params) == SecKeyCopyKeyExchangeResult(
            b, alg, pa, params
        )
        with pytest.raises(secitem.ParamError):
            SecKeyCopyKeyExchangeResult(a, alg, pb)  # RequestedSize missing


def test_4_1_attributes_and_application_label(entitled: str) -> None:
    """4.1 / 4.2: kSecAttrApplicationLabel = SHA-1 of the public bytes, keyed by constants."""
    with SecKeyCreateRandomKey(EC256) as key, SecKeyCopyPublicKey(key) as pub:
        attrs = SecKeyCopyAttributes(key)
        assert attrs is not None and attrs[kSecAttrKeyClass] == kSecAttrKeyClassPrivate
        label = hashlib.sha1(SecKeyCopyExternalRepresentation(pub)).digest()
        assert attrs[kSecAttrApplicationLabel] == label
        pattrs = SecKeyCopyAttributes(pub)
        assert pattrs is not None and pattrs[kSecAttrKeyClass] == kSecAttrKeyClassPublic


def test_4_4_permanent_key_found_by_reference(entitled: str) -> None:
    """4.3 / 4.4: a permanent private key is a kSecClassKey item; kSecReturnRef gives a Key
    with the same material."""
    params = {
        **EC256,
        kSecUseDataProtectionKeychain: True,
        kSecAttrApplicationTag: b"org.example.k",
        kSecPrivateKeyAttrs: {kSecAttrIsPermanent: True},
    }
    with SecKeyCreateRandomKey(params) as key:
        found = SecItemCopyMatching(
            {
                kSecClass: kSecClassKey,
                kSecUseDataProtectionKeychain: True,
                kSecAttrApplicationTag: b"org.example.k",
                kSecReturnRef: True,
            }
        )
        assert isinstance(found, Key)
        with found:
            assert found == key
            assert SecKeyCopyExternalRepresentation(found) == SecKeyCopyExternalRepresentation(key)


def test_4_5_secure_enclave_errors_are_typed(sim: Any) -> None:
    """4.5 / F-SE: unentitled -> MissingEntitlementError; export -> KeychainError(-4)."""
    sim.lib.secsim_set_profile(b"macos")
    sim.lib.secsim_set_access_groups(b"")
    se = {**EC256, kSecAttrTokenID: kSecAttrTokenIDSecureEnclave}
    with pytest.raises(secitem.MissingEntitlementError) as info:
        SecKeyCreateRandomKey(se)
    assert "failed to generate asymmetric keypair" in str(info.value)
    sim.lib.secsim_set_access_groups(b"SECSIMTEAM.org.secitem.app")
    with SecKeyCreateRandomKey({**se, kSecPrivateKeyAttrs: {kSecAttrIsPermanent: False}}) as key:
        with pytest.raises(secitem.KeychainError) as err:
            SecKeyCopyExternalRepresentation(key)
        assert err.value.status == -4


def test_errors_before_any_native_call() -> None:
    """Validation: wrong argument types are TypeErrors naming the argument."""
    with pytest.raises(TypeError, match="key: expected a SecKey"):
        SecKeyCreateSignature(b"not a key", kSecKeyAlgorithmECDSASignatureMessageX962SHA256, b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="algorithm"):
        SecKeyIsAlgorithmSupported(None, kSecKeyOperationTypeSign, 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="parameters"):
        SecKeyCreateRandomKey([("type", "73")])  # type: ignore[arg-type]


def test_closed_key_is_refused(entitled: str) -> None:
    """Ownership: a closed Key raises ValueError instead of reaching C."""
    key = SecKeyCreateRandomKey(EC256)
    key.close()
    with pytest.raises(ValueError, match="closed"):
        SecKeyGetBlockSize(key)


def test_is_algorithm_supported(entitled: str) -> None:
    """1.2: SecKeyIsAlgorithmSupported with the kSecKeyOperationType* values."""
    with SecKeyCreateRandomKey(RSA2048) as key:
        assert SecKeyIsAlgorithmSupported(
            key, kSecKeyOperationTypeSign, kSecKeyAlgorithmRSASignatureMessagePSSSHA256
        )
        assert not SecKeyIsAlgorithmSupported(
            key, kSecKeyOperationTypeSign, kSecKeyAlgorithmECDSASignatureMessageX962SHA256
        )


def test_permanent_key_persists_in_secsim_store(tmp_path: Any) -> None:
    """How (SECSIM_STORE): a key stored by one process signs in another; the signature
    verifies here with the public key exported there."""
    import os
    import subprocess
    import sys

    code = """
import sys
from secitem.security import *
mode = sys.argv[1]
tag = {kSecAttrApplicationTag: b"persisted", kSecUseDataProtectionKeychain: True}
if mode == "make":
    key = SecKeyCreateRandomKey({kSecAttrKeyType: kSecAttrKeyTypeECSECPrimeRandom,
        kSecAttrKeySizeInBits: 256, kSecAttrIsPermanent: True, **tag})
    with key, SecKeyCopyPublicKey(key) as pub:
        sys.stdout.write(SecKeyCopyExternalRepresentation(pub).hex())
else:
    key = SecItemCopyMatching({kSecClass: kSecClassKey, kSecReturnRef: True,
        kSecAttrKeyClass: kSecAttrKeyClassPrivate, **tag})
    with key:
        sig = SecKeyCreateSignature(key, kSecKeyAlgorithmECDSASignatureMessageX962SHA256, b"x")
    sys.stdout.write(sig.hex())
"""
    env = dict(
        os.environ,
        SECSIM_STORE=str(tmp_path / "kc"),
        SECSIM_PROFILE="ios",
        SECSIM_ACCESS_GROUPS="SECSIMTEAM.org.secitem.app",
    )

    def run(mode: str) -> bytes:
        out = subprocess.run(
            [sys.executable, "-c", code, mode],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return bytes.fromhex(out.stdout)

    point = run("make")
    sig = run("sign")
    theirs = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    theirs.verify(sig, b"x", ec.ECDSA(hashes.SHA256()))


def test_keys_are_thread_safe(entitled: str) -> None:
    """Thread safety: one key signs and verifies from eight threads at once."""
    from concurrent.futures import ThreadPoolExecutor

    alg = kSecKeyAlgorithmECDSASignatureMessageX962SHA256
    with SecKeyCreateRandomKey(EC256) as key, SecKeyCopyPublicKey(key) as pub:

        def work(i: int) -> bool:
            data = i.to_bytes(4, "big")
            ok = True
            for _ in range(25):
                ok &= SecKeyVerifySignature(pub, alg, data, SecKeyCreateSignature(key, alg, data))
            return ok

        with ThreadPoolExecutor(8) as pool:
            assert all(pool.map(work, range(32)))
