"""SecKey in the emulator, through its raw C ABI (tests/simlib.py), rule by rule.

Rule numbers refer to shared/reference/seckey-facts.md.  Every signature,
ciphertext and key encoding is cross-checked with pyca/cryptography, an
independent implementation: what the emulator makes, pyca reads, and the
other way round.  The autouse fixture checks that no CF object outlives a test.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import simlib

from .test_rules_helpers import KC

pytest.importorskip("cryptography")
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF

FACTS = Path(__file__).resolve().parents[3] / "shared" / "reference" / "seckey-facts.md"
PARAM, UNIMPLEMENTED, VERIFY_FAILED, DECODE = -50, -4, -67808, -26275
CURVES = {256: ec.SECP256R1(), 384: ec.SECP384R1(), 521: ec.SECP521R1(), 224: ec.SECP224R1()}


class Keys:
    """The SecKey functions of the emulator with Python values in and out."""

    def __init__(self, sim: Any) -> None:
        self.ffi, self.lib = sim.ffi, sim.lib
        self.kc = KC(sim)
        self.owned: list[Any] = []

    def own(self, ref: Any) -> Any:
        if ref != self.ffi.NULL:
            self.owned.append(ref)
        return ref

    def cf(self, value: Any) -> Any:
        return self.own(simlib.to_cf(self.ffi, self.lib, value))

    def alg(self, name: str) -> Any:
        return getattr(self.lib, name)

    def call(self, fn: str, *args: Any) -> tuple[Any, int | None, str]:
        """(result, CFError code or None, description); the error is released."""
        err = self.ffi.new("CFErrorRef *")
        result = getattr(self.lib, fn)(*args, err)
        code, text = None, ""
        if err[0] != self.ffi.NULL:
            code = int(self.lib.CFErrorGetCode(err[0]))
            desc = self.lib.CFErrorCopyDescription(err[0])
            text = simlib.string_from_cf(self.ffi, self.lib, desc)
            self.lib.CFRelease(desc)
            self.lib.CFRelease(err[0])
        if isinstance(result, self.ffi.CData) and result != self.ffi.NULL:
            self.own(result)
        return result, code, text

    def data(self, ref: Any) -> bytes:
        return bytes(self.ffi.buffer(self.lib.CFDataGetBytePtr(ref), self.lib.CFDataGetLength(ref)))

    def random(self, params: dict[str, Any]) -> Any:
        key, code, text = self.call("SecKeyCreateRandomKey", self.cf(params))
        assert key != self.ffi.NULL, (code, text)
        return key

    def ec(self, bits: int = 256) -> Any:
        return self.random({"type": "73", "bsiz": bits})

    def rsa(self, bits: int = 2048) -> Any:
        return self.random({"type": "42", "bsiz": bits})

    def export(self, key: Any) -> bytes:
        ref, code, text = self.call("SecKeyCopyExternalRepresentation", key)
        assert ref != self.ffi.NULL, (code, text)
        return self.data(ref)

    def public(self, key: Any) -> Any:
        return self.own(self.lib.SecKeyCopyPublicKey(key))

    def attributes(self, key: Any) -> dict[str, Any]:
        ref = self.own(self.lib.SecKeyCopyAttributes(key))
        return dict(simlib.from_cf(self.ffi, self.lib, ref))

    def with_data(self, data: bytes, kind: str, cls: str) -> tuple[Any, int | None, str]:
        return self.call(
            "SecKeyCreateWithData", self.cf(data), self.cf({"type": kind, "kcls": cls})
        )

    def sign(self, key: Any, alg: str, data: bytes) -> tuple[bytes | None, int | None, str]:
        ref, code, text = self.call("SecKeyCreateSignature", key, self.alg(alg), self.cf(data))
        return (self.data(ref) if ref != self.ffi.NULL else None), code, text

    def verify(self, key: Any, alg: str, data: bytes, sig: bytes) -> tuple[bool, int | None]:
        ok, code, _ = self.call(
            "SecKeyVerifySignature", key, self.alg(alg), self.cf(data), self.cf(sig)
        )
        return bool(ok), code

    def crypt(self, fn: str, key: Any, alg: str, data: bytes) -> tuple[bytes | None, int | None]:
        ref, code, _ = self.call(fn, key, self.alg(alg), self.cf(data))
        return (self.data(ref) if ref != self.ffi.NULL else None), code

    def exchange(self, priv: Any, alg: str, pub: Any, params: dict[str, Any]) -> Any:
        ref, code, _ = self.call(
            "SecKeyCopyKeyExchangeResult", priv, self.alg(alg), pub, self.cf(params)
        )
        return (self.data(ref) if ref != self.ffi.NULL else None), code

    def release(self) -> None:
        for ref in reversed(self.owned):
            self.lib.CFRelease(ref)
        self.owned.clear()
        self.kc.close()


@pytest.fixture
def keys(sim: Any, profile: str) -> Any:
    k = Keys(sim)
    if profile == "macos":
        sim.lib.secsim_set_access_groups(b"SECSIMTEAM.org.secitem.app")
    yield k
    k.release()


def pyca_ec_private(raw: bytes, bits: int) -> ec.EllipticCurvePrivateKey:
    n = (len(raw) - 1) // 3
    return ec.derive_private_key(int.from_bytes(raw[1 + 2 * n :], "big"), CURVES[bits])


# ---------------------------------------------------------------------------
# 2.1 constants


def test_2_1_every_algorithm_constant_is_exported_with_apples_string(keys: Keys) -> None:
    """2.1: each public kSecKeyAlgorithm* is an exported CFString with the facts' characters."""
    if not FACTS.exists():
        pytest.skip("the facts sheet is not next to the repository")
    rows = re.findall(r'^\| `(kSecKeyAlgorithm\w+)` \| `"([^"]*)"` \|', FACTS.read_text(), re.M)
    assert len(rows) == 87
    for name, value in rows:
        assert simlib.string_from_cf(keys.ffi, keys.lib, getattr(keys.lib, name)) == value, name
    assert simlib.string_from_cf(
        keys.ffi, keys.lib, keys.lib.kSecKeyKeyExchangeParameterRequestedSize
    ) == ("requestedSize")


# ---------------------------------------------------------------------------
# 3.1 external representations, 3.2 sizes, 4.1 attributes, 4.2 klbl


@pytest.mark.parametrize("bits", [256, 384, 521])
def test_3_1_ec_formats_read_by_pyca(keys: Keys, bits: int) -> None:
    """3.1: EC private = 04||X||Y||K, public = 04||X||Y, both field-size padded."""
    key = keys.ec(bits)
    raw = keys.export(key)
    field = (bits + 7) // 8
    assert len(raw) == 3 * field + 1 and raw[0] == 4
    priv = pyca_ec_private(raw, bits)
    point = priv.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert raw[: 2 * field + 1] == point
    assert keys.export(keys.public(key)) == point
    assert keys.lib.SecKeyGetBlockSize(key) == field  # 3.1: 66 for P-521


def test_3_1_rsa_formats_read_by_pyca(keys: Keys) -> None:
    """3.1: RSA keys are PKCS#1 DER (RSAPrivateKey / RSAPublicKey)."""
    key = keys.rsa(2048)
    priv = serialization.load_der_private_key(keys.export(key), None)
    assert isinstance(priv, rsa.RSAPrivateKey) and priv.key_size == 2048
    pub_der = keys.export(keys.public(key))
    assert pub_der == priv.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.PKCS1
    )
    assert keys.lib.SecKeyGetBlockSize(key) == 256


def test_3_1_pyca_keys_import(keys: Keys) -> None:
    """3.1: SecKeyCreateWithData reads keys pyca made; the curve comes from the length."""
    for bits, curve in CURVES.items():
        priv = ec.generate_private_key(curve)
        n = (priv.key_size + 7) // 8
        point = priv.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        raw = point + priv.private_numbers().private_value.to_bytes(n, "big")
        key, code, _ = keys.with_data(raw, "73", "1")
        assert code is None and keys.export(key) == raw
        assert keys.attributes(key)["bsiz"] == bits
    r = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = r.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    key, code, _ = keys.with_data(der, "42", "1")
    assert code is None and keys.export(key) == der
    spki = r.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key, code, _ = keys.with_data(
        spki, 42, 0
    )  # "also in x509 public key format"; CFNumber type/class
    pkcs1 = r.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.PKCS1
    )
    assert code is None and keys.export(key) == pkcs1


def test_3_1_create_with_data_errors(keys: Keys) -> None:
    """3.1 / 5.2: bad bytes, wrong class for the bytes, bad type -> -50; symmetric -> -4."""
    pub = keys.export(keys.public(keys.ec()))
    assert keys.with_data(pub, "73", "1")[1] == PARAM  # public bytes as a private key
    assert keys.with_data(b"\x04" + b"\x01" * 64, "73", "0")[1] == PARAM  # not on the curve
    assert keys.with_data(pub, " 73", "0")[1] == PARAM  # not a round-tripping decimal
    assert keys.with_data(pub, "73", "2")[1] == UNIMPLEMENTED
    assert keys.with_data(pub, "73", "7")[1] == PARAM
    _, code, _ = keys.with_data(pub, "43", "0")  # DSA's number is read as EC
    assert code is None
    _key, code, text = keys.call(
        "SecKeyCreateWithData", keys.ffi.NULL, keys.cf({"type": "73", "kcls": "0"})
    )
    assert code == PARAM and "Failed to provide key data" in text


def test_4_1_attributes_of_software_keys(keys: Keys) -> None:
    """4.1: SecKeyCopyAttributes, including perm = true and the private bytes in v_Data."""
    key = keys.ec()
    raw = keys.export(key)
    a = keys.attributes(key)
    assert a["class"] == "keys" and a["kcls"] == "1" and a["type"] == "73"
    assert a["bsiz"] == a["esiz"] == 256 and a["perm"] is True and a["v_Data"] == raw
    assert (a["sign"], a["vrfy"], a["decr"], a["encr"], a["drve"]) == (
        True,
        False,
        True,
        False,
        True,
    )
    p = keys.attributes(keys.public(key))
    assert p["kcls"] == "0" and (p["sign"], p["vrfy"], p["encr"], p["decr"]) == (
        False,
        True,
        True,
        False,
    )
    r = keys.attributes(keys.public(keys.rsa()))
    assert r["decr"] is True  # 4.1: an RSA public key reports decr = true


def test_4_2_application_label_is_sha1_of_public_bytes(keys: Keys) -> None:
    """4.2: klbl = SHA-1 of 04||X||Y (EC) or of the PKCS#1 RSAPublicKey, same for both halves."""
    for key in (keys.ec(), keys.rsa()):
        pub = keys.public(key)
        expected = hashlib.sha1(keys.export(pub)).digest()
        assert keys.attributes(key)["klbl"] == keys.attributes(pub)["klbl"] == expected


# ---------------------------------------------------------------------------
# 3.3 signatures


@pytest.mark.parametrize("bits", [256, 384, 521])
def test_3_3_ecdsa_x962_both_ways(keys: Keys, bits: int) -> None:
    """3.3: DER ECDSA signatures verify with pyca, and pyca's verify here."""
    key = keys.ec(bits)
    priv = pyca_ec_private(keys.export(key), bits)
    sig, code, _ = keys.sign(key, "kSecKeyAlgorithmECDSASignatureMessageX962SHA256", b"msg")
    assert code is None
    priv.public_key().verify(sig, b"msg", ec.ECDSA(hashes.SHA256()))
    theirs = priv.sign(b"other", ec.ECDSA(hashes.SHA384()))
    pub = keys.public(key)
    assert keys.verify(
        pub, "kSecKeyAlgorithmECDSASignatureMessageX962SHA384", b"other", theirs
    ) == (True, None)
    assert keys.verify(
        pub, "kSecKeyAlgorithmECDSASignatureMessageX962SHA384", b"0ther", theirs
    ) == (
        False,
        VERIFY_FAILED,
    )
    digest = hashlib.sha512(b"d").digest()
    sig, code, _ = keys.sign(key, "kSecKeyAlgorithmECDSASignatureDigestX962SHA512", digest)
    assert keys.verify(pub, "kSecKeyAlgorithmECDSASignatureDigestX962SHA512", digest, sig) == (
        True,
        None,
    )


def test_3_3_ecdsa_rfc4754_and_digest_size(keys: Keys) -> None:
    """3.3: RFC 4754 signatures are r||s padded to the block size; digest sizes are checked."""
    key = keys.ec(521)
    priv = pyca_ec_private(keys.export(key), 521)
    sig, code, _ = keys.sign(key, "kSecKeyAlgorithmECDSASignatureMessageRFC4754SHA256", b"m")
    assert code is None and len(sig) == 132
    der = encode_dss_signature(int.from_bytes(sig[:66], "big"), int.from_bytes(sig[66:], "big"))
    priv.public_key().verify(der, b"m", ec.ECDSA(hashes.SHA256()))
    pub = keys.public(key)
    assert keys.verify(
        pub, "kSecKeyAlgorithmECDSASignatureMessageRFC4754SHA256", b"m", sig[:-1]
    ) == (
        False,
        VERIFY_FAILED,
    )
    r, s = decode_dss_signature(priv.sign(b"n", ec.ECDSA(hashes.SHA256())))
    rs = r.to_bytes(66, "big") + s.to_bytes(66, "big")
    assert keys.verify(pub, "kSecKeyAlgorithmECDSASignatureMessageRFC4754SHA256", b"n", rs) == (
        True,
        None,
    )
    _, code, text = keys.sign(key, "kSecKeyAlgorithmECDSASignatureDigestX962SHA256", b"short")
    assert code == PARAM and "bad digest size" in text


@pytest.mark.parametrize(
    ("alg", "pad", "digest"),
    [
        ("kSecKeyAlgorithmRSASignatureMessagePKCS1v15SHA256", "pkcs1", None),
        ("kSecKeyAlgorithmRSASignatureDigestPKCS1v15SHA1", "pkcs1", "sha1"),
        ("kSecKeyAlgorithmRSASignatureMessagePSSSHA256", "pss", None),
        ("kSecKeyAlgorithmRSASignatureDigestPSSSHA512", "pss", "sha512"),
    ],
)
def test_3_3_rsa_signatures_both_ways(keys: Keys, alg: str, pad: str, digest: str | None) -> None:
    """3.3: PKCS#1 v1.5 and PSS (salt = hash length) signatures, k bytes long."""
    key = keys.rsa(2048)
    priv = serialization.load_der_private_key(keys.export(key), None)
    assert isinstance(priv, rsa.RSAPrivateKey)
    h = {"sha1": hashes.SHA1(), "sha512": hashes.SHA512(), None: hashes.SHA256()}[digest]
    data = hashlib.new(digest, b"payload").digest() if digest else b"payload"
    sig, code, _ = keys.sign(key, alg, data)
    assert code is None and sig is not None and len(sig) == 256
    scheme = padding.PKCS1v15() if pad == "pkcs1" else padding.PSS(padding.MGF1(h), h.digest_size)
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    algo = Prehashed(h) if digest else h
    priv.public_key().verify(sig, data, scheme, algo)
    theirs = priv.sign(data, scheme, algo)
    assert keys.verify(keys.public(key), alg, data, theirs) == (True, None)
    assert keys.verify(keys.public(key), alg, data, bytes(256)) == (False, VERIFY_FAILED)


def test_3_3_rsa_raw_signature(keys: Keys) -> None:
    """3.3: raw RSA signs the left-padded input; verify strips leading zeros."""
    key = keys.rsa(2048)
    sig, code, _ = keys.sign(key, "kSecKeyAlgorithmRSASignatureRaw", b"\x01\x02")
    assert code is None and len(sig) == 256
    priv = serialization.load_der_private_key(keys.export(key), None)
    assert isinstance(priv, rsa.RSAPrivateKey)
    n = priv.public_key().public_numbers()
    assert pow(int.from_bytes(sig, "big"), n.e, n.n) == 0x0102
    pub = keys.public(key)
    assert keys.verify(pub, "kSecKeyAlgorithmRSASignatureRaw", b"\x01\x02", sig) == (True, None)
    assert keys.verify(pub, "kSecKeyAlgorithmRSASignatureRaw", b"\x00\x01\x02", sig)[0] is False
    assert keys.sign(key, "kSecKeyAlgorithmRSASignatureRaw", b"\xff" * 256)[1] == PARAM


def test_5_2_wrong_key_or_algorithm(keys: Keys) -> None:
    """5.2: an algorithm the key cannot run -> -50 naming the caller's algorithm."""
    ec_key, rsa_key = keys.ec(), keys.rsa()
    _, code, text = keys.sign(ec_key, "kSecKeyAlgorithmRSASignatureMessagePKCS1v15SHA256", b"x")
    assert (
        code == PARAM and "algid:sign:RSA:message-PKCS1v15:SHA256: algorithm not supported" in text
    )
    assert (
        keys.sign(keys.public(ec_key), "kSecKeyAlgorithmECDSASignatureMessageX962SHA256", b"x")[1]
        == PARAM
    )
    sig = keys.sign(ec_key, "kSecKeyAlgorithmECDSASignatureMessageX962SHA256", b"x")[0]
    assert keys.verify(ec_key, "kSecKeyAlgorithmECDSASignatureMessageX962SHA256", b"x", sig) == (
        False,
        PARAM,
    )  # 5.2: an EC private key cannot verify
    ok, code, _ = keys.call(
        "SecKeyCreateSignature", rsa_key, keys.cf("algid:sign:RSA:unknown"), keys.cf(b"x")
    )
    assert ok == keys.ffi.NULL and code == PARAM


def test_1_2_is_algorithm_supported_and_operation_width(keys: Keys) -> None:
    """1.2: SecKeyIsAlgorithmSupported(key, CFIndex operation, algorithm)."""
    lib = keys.lib
    key, pub = keys.ec(), None
    pub = keys.public(key)
    sign = lib.kSecKeyAlgorithmECDSASignatureMessageX962SHA256
    ecies = lib.kSecKeyAlgorithmECIESEncryptionStandardX963SHA256AESGCM
    assert lib.SecKeyIsAlgorithmSupported(key, 0, sign) and not lib.SecKeyIsAlgorithmSupported(
        pub, 0, sign
    )
    assert lib.SecKeyIsAlgorithmSupported(pub, 1, sign) and not lib.SecKeyIsAlgorithmSupported(
        key, 1, sign
    )
    assert lib.SecKeyIsAlgorithmSupported(pub, 2, ecies) and lib.SecKeyIsAlgorithmSupported(
        key, 3, ecies
    )
    assert lib.SecKeyIsAlgorithmSupported(key, 4, lib.kSecKeyAlgorithmECDHKeyExchangeStandard)
    assert not lib.SecKeyIsAlgorithmSupported(key, (1 << 32) + 0, sign)  # the whole CFIndex is read
    rsa1024 = keys.rsa(1024)
    assert not lib.SecKeyIsAlgorithmSupported(
        rsa1024, 0, lib.kSecKeyAlgorithmRSASignatureMessagePSSSHA512
    )
    assert lib.SecKeyIsAlgorithmSupported(
        rsa1024, 0, lib.kSecKeyAlgorithmRSASignatureMessagePSSSHA256
    )


# ---------------------------------------------------------------------------
# 3.4 RSA encryption, 3.5 ECIES, 3.6 key exchange


@pytest.mark.parametrize("sha", [1, 256, 512])
def test_3_4_rsa_oaep_both_ways(keys: Keys, sha: int) -> None:
    """3.4: OAEP with MGF1 = the same hash and an empty label, both directions."""
    key = keys.rsa(2048)
    priv = serialization.load_der_private_key(keys.export(key), None)
    assert isinstance(priv, rsa.RSAPrivateKey)
    h = {1: hashes.SHA1(), 256: hashes.SHA256(), 512: hashes.SHA512()}[sha]
    oaep = padding.OAEP(padding.MGF1(h), h, None)
    alg = f"kSecKeyAlgorithmRSAEncryptionOAEPSHA{sha}"
    ct, code = keys.crypt("SecKeyCreateEncryptedData", keys.public(key), alg, b"secret")
    assert code is None and ct is not None and priv.decrypt(ct, oaep) == b"secret"
    theirs = priv.public_key().encrypt(b"back", oaep)
    assert keys.crypt("SecKeyCreateDecryptedData", key, alg, theirs) == (b"back", None)
    limit = 256 - 2 * h.digest_size - 2
    assert keys.crypt("SecKeyCreateEncryptedData", keys.public(key), alg, bytes(limit))[1] is None
    assert (
        keys.crypt("SecKeyCreateEncryptedData", keys.public(key), alg, bytes(limit + 1))[1] == PARAM
    )


def test_3_4_rsa_pkcs1_and_raw(keys: Keys) -> None:
    """3.4: PKCS#1 v1.5 (k-11 bytes max) and raw (k bytes, leading zeros kept on decrypt)."""
    key = keys.rsa(2048)
    priv = serialization.load_der_private_key(keys.export(key), None)
    assert isinstance(priv, rsa.RSAPrivateKey)
    pub = keys.public(key)
    ct, _ = keys.crypt("SecKeyCreateEncryptedData", pub, "kSecKeyAlgorithmRSAEncryptionPKCS1", b"p")
    assert ct is not None and priv.decrypt(ct, padding.PKCS1v15()) == b"p"
    assert (
        keys.crypt(
            "SecKeyCreateEncryptedData", pub, "kSecKeyAlgorithmRSAEncryptionPKCS1", bytes(246)
        )[1]
        == PARAM
    )
    ct, _ = keys.crypt(
        "SecKeyCreateEncryptedData", pub, "kSecKeyAlgorithmRSAEncryptionRaw", b"\x07"
    )
    assert ct is not None and len(ct) == 256
    assert keys.crypt("SecKeyCreateDecryptedData", key, "kSecKeyAlgorithmRSAEncryptionRaw", ct) == (
        bytes(255) + b"\x07",
        None,
    )


@pytest.mark.parametrize("bits", [2048, 4096])
def test_3_4_rsa_aes_gcm_layout(keys: Keys, bits: int) -> None:
    """3.4: OAEP(session key) || AES-GCM(IV 0^16, AAD = PKCS#1 public key) || tag;
    a 16-byte session key below 4096 bits, 32 from 4096 (decrypted with pyca)."""
    key = keys.rsa(bits)
    priv = serialization.load_der_private_key(keys.export(key), None)
    assert isinstance(priv, rsa.RSAPrivateKey)
    pub = keys.public(key)
    alg = "kSecKeyAlgorithmRSAEncryptionOAEPSHA256AESGCM"
    ct, code = keys.crypt("SecKeyCreateEncryptedData", pub, alg, b"hello gcm")
    assert code is None and ct is not None
    k = bits // 8
    session = priv.decrypt(
        ct[:k], padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
    )
    assert len(session) == (32 if bits >= 4096 else 16)
    gcm = AESGCM(session)
    aad = keys.export(pub)
    assert gcm.decrypt(bytes(16), ct[k:], aad) == b"hello gcm"
    assert keys.crypt("SecKeyCreateDecryptedData", key, alg, ct) == (b"hello gcm", None)
    bad = ct[:-1] + bytes([ct[-1] ^ 1])
    assert keys.crypt("SecKeyCreateDecryptedData", key, alg, bad)[1] == PARAM
    assert keys.crypt("SecKeyCreateDecryptedData", key, alg, ct[: k + 15])[1] == PARAM


def ecies_reference(
    recipient: ec.EllipticCurvePublicKey,
    plaintext: bytes,
    h: hashes.HashAlgorithm,
    variable_iv: bool,
) -> bytes:
    """Apple's ECIES (3.5) written with pyca: E || AES-GCM(16-byte IV) || tag."""
    eph = ec.generate_private_key(recipient.curve)
    e = eph.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    z = eph.exchange(ec.ECDH(), recipient)
    klen = 32 if recipient.curve.key_size > 256 else 16
    out = X963KDF(h, klen + (16 if variable_iv else 0), e).derive(z)
    iv = out[klen:] if variable_iv else bytes(16)
    return e + AESGCM(out[:klen]).encrypt(iv, plaintext, None)


@pytest.mark.parametrize("bits", [256, 384])
@pytest.mark.parametrize("variable_iv", [False, True])
@pytest.mark.parametrize("cofactor", [False, True])
def test_3_5_ecies_matches_a_pyca_reference(
    keys: Keys, bits: int, variable_iv: bool, cofactor: bool
) -> None:
    """3.5: X9.63 KDF with SharedInfo = E; AES-128 up to 256-bit curves, AES-256 above;
    IV zero or KDF-derived; 16-byte IV and tag.  Both directions against pyca."""
    key = keys.ec(bits)
    priv = pyca_ec_private(keys.export(key), bits)
    kind = "Cofactor" if cofactor else "Standard"
    iv = "VariableIV" if variable_iv else ""
    alg = f"kSecKeyAlgorithmECIESEncryption{kind}{iv}X963SHA256AESGCM"
    theirs = ecies_reference(priv.public_key(), b"from pyca", hashes.SHA256(), variable_iv)
    assert keys.crypt("SecKeyCreateDecryptedData", key, alg, theirs) == (b"from pyca", None)
    ours, code = keys.crypt("SecKeyCreateEncryptedData", keys.public(key), alg, b"to pyca")
    assert code is None and ours is not None
    n = 2 * ((bits + 7) // 8) + 1
    assert len(ours) == n + len(b"to pyca") + 16
    eph = ec.EllipticCurvePublicKey.from_encoded_point(priv.curve, ours[:n])
    z = priv.exchange(ec.ECDH(), eph)
    klen = 32 if bits > 256 else 16
    out = X963KDF(hashes.SHA256(), klen + (16 if variable_iv else 0), ours[:n]).derive(z)
    iv = out[klen:] if variable_iv else bytes(16)
    assert AESGCM(out[:klen]).decrypt(iv, ours[n:], None) == b"to pyca"


def test_3_5_ecies_errors(keys: Keys) -> None:
    """3.5: too short input, too short for a tag, a bad tag -> -50."""
    key = keys.ec()
    alg = "kSecKeyAlgorithmECIESEncryptionStandardX963SHA256AESGCM"
    ct, _ = keys.crypt("SecKeyCreateEncryptedData", keys.public(key), alg, b"x")
    assert ct is not None
    assert keys.crypt("SecKeyCreateDecryptedData", key, alg, ct[:64])[1] == PARAM
    assert keys.crypt("SecKeyCreateDecryptedData", key, alg, ct[: 65 + 15])[1] == PARAM
    assert keys.crypt("SecKeyCreateDecryptedData", key, alg, ct[:-1] + b"\0")[1] == PARAM


def test_3_6_key_exchange(keys: Keys) -> None:
    """3.6: raw ECDH = the x-coordinate; X9.63 variants need RequestedSize; both parties agree."""
    a, b = keys.ec(), keys.ec()
    pa, pb = keys.public(a), keys.public(b)
    raw, code = keys.exchange(a, "kSecKeyAlgorithmECDHKeyExchangeStandard", pb, {})
    assert code is None and len(raw) == 32
    theirs = pyca_ec_private(keys.export(b), 256).exchange(
        ec.ECDH(), pyca_ec_private(keys.export(a), 256).public_key()
    )
    assert raw == theirs
    assert keys.exchange(a, "kSecKeyAlgorithmECDHKeyExchangeCofactor", pb, {})[0] == raw
    params = {"requestedSize": 273, "sharedInfo": b"info"}
    x, _ = keys.exchange(a, "kSecKeyAlgorithmECDHKeyExchangeStandardX963SHA256", pb, params)
    y, _ = keys.exchange(b, "kSecKeyAlgorithmECDHKeyExchangeStandardX963SHA256", pa, params)
    assert x == y == X963KDF(hashes.SHA256(), 273, b"info").derive(raw)
    assert keys.exchange(a, "kSecKeyAlgorithmECDHKeyExchangeStandardX963SHA256", pb, {})[1] == PARAM
    bad = {"requestedSize": 16, "sharedInfo": "text"}
    assert (
        keys.exchange(a, "kSecKeyAlgorithmECDHKeyExchangeStandardX963SHA256", pb, bad)[1] == PARAM
    )
    assert keys.exchange(pa, "kSecKeyAlgorithmECDHKeyExchangeStandard", pb, {})[1] == PARAM
    assert (
        keys.exchange(a, "kSecKeyAlgorithmECDHKeyExchangeStandard", keys.public(keys.ec(384)), {})[
            1
        ]
        == DECODE
    )


# ---------------------------------------------------------------------------
# 4.3 SecKeyCreateRandomKey, 4.4 stored keys, 4.5 Secure Enclave


def test_4_3_modern_sizes_and_missing_type(keys: Keys, profile: str) -> None:
    """4.3 #1-3 (modern path): EC 192..521, RSA 512..8192; a bad size -> -50; a missing
    type -> NULL with *error left NULL (UNCONFIRMED at runtime)."""
    nleg = {"nleg": True}
    for bits in (192, 224, 256, 384, 521):
        keys.random({"type": "73", "bsiz": bits, **nleg})
    _, code, text = keys.call("SecKeyCreateRandomKey", keys.cf({"type": "73", "bsiz": 255, **nleg}))
    assert code == PARAM and "failed to generate key" in text
    key, code, _ = keys.call("SecKeyCreateRandomKey", keys.cf({"bsiz": 256, **nleg}))
    assert key == keys.ffi.NULL and code is None


def test_4_3_macos_cdsa_path(keys: Keys, sim: Any) -> None:
    """4.3 (macOS CDSA path, no nleg/tkid/accc/sync): no P-224, RSA multiples of 8 in
    1024..4096, 0 means the default size; a permanent key goes to the file keychain."""
    sim.lib.secsim_set_profile(b"macos")
    sim.lib.secsim_set_access_groups(b"")  # an unsigned interpreter: no DP
    assert keys.call("SecKeyCreateRandomKey", keys.cf({"type": "73", "bsiz": 224}))[1] == PARAM
    assert keys.call("SecKeyCreateRandomKey", keys.cf({"type": "42", "bsiz": 1000}))[1] == PARAM
    assert (
        keys.call("SecKeyCreateRandomKey", keys.cf({"type": "17", "bsiz": 128}))[1] == UNIMPLEMENTED
    )
    key = keys.random({"type": "73", "bsiz": 0, "perm": True, "labl": "cdsa", "atag": b"t"})
    assert keys.lib.SecKeyGetBlockSize(key) == 32
    st, found = keys.kc.copy(
        {"class": "keys", "labl": "cdsa", "r_Attributes": True, "m_Limit": "m_LimitAll"}
    )
    assert st == 0 and sorted(d["kcls"] for d in found) == [0, 1]
    assert all("agrp" not in d for d in found)  # file keychain items


def test_4_3_permanent_modern_key_needs_entitlement_on_macos(keys: Keys, sim: Any) -> None:
    """4.3 #11 / 12.2: a modern permanent key is a DP add: -34018 for an unsigned interpreter."""
    sim.lib.secsim_set_profile(b"macos")
    sim.lib.secsim_set_access_groups(b"")
    _, code, text = keys.call(
        "SecKeyCreateRandomKey", keys.cf({"type": "73", "bsiz": 256, "perm": True, "nleg": True})
    )
    assert code == -34018 and "failed to add key to keychain" in text


def test_4_3_which_halves_are_stored(keys: Keys) -> None:
    """4.3 #5, #6, #10: top-level perm stores both keys; kSecPrivateKeyAttrs perm only
    the private one; a CFNumber perm is ignored (4.3 #7)."""
    keys.random({"type": "73", "bsiz": 256, "nleg": True, "perm": True, "atag": b"both"})
    keys.random(
        {"type": "73", "bsiz": 256, "nleg": True, "atag": b"one", "private": {"perm": True}}
    )
    keys.random({"type": "73", "bsiz": 256, "nleg": True, "atag": b"none", "perm": 1})  # 4.3 #7
    st, both = keys.kc.copy(
        {
            "class": "keys",
            "nleg": True,
            "atag": b"both",
            "r_Attributes": True,
            "m_Limit": "m_LimitAll",
        }
    )
    assert st == 0 and sorted(d["kcls"] for d in both) == [0, 1]
    st, one = keys.kc.copy(
        {
            "class": "keys",
            "nleg": True,
            "atag": b"one",
            "r_Attributes": True,
            "m_Limit": "m_LimitAll",
        }
    )
    assert st == 0 and [d["kcls"] for d in one] == [1]
    assert keys.kc.copy({"class": "keys", "nleg": True, "atag": b"none"})[0] == -25300


def test_4_4_stored_key_round_trip_and_duplicate(keys: Keys) -> None:
    """4.4: the stored row holds the key's attributes and v_Data; r_Ref rebuilds the key;
    adding the same key again is a duplicate; kSecValueRef finds the key's item."""
    key = keys.random(
        {"type": "42", "bsiz": 2048, "nleg": True, "labl": "L", "private": {"perm": True}}
    )
    st, d = keys.kc.copy(
        {"class": "keys", "nleg": True, "labl": "L", "r_Attributes": True, "r_Data": True}
    )
    assert st == 0 and d["v_Data"] == keys.export(key) and d["klbl"] == keys.attributes(key)["klbl"]
    st, ref = keys.kc.copy_raw({"class": "keys", "nleg": True, "labl": "L", "r_Ref": True})
    assert st == 0 and ref is not None and ref.type_name == "SecKey"
    assert keys.lib.CFEqual(ref.ptr, key) and keys.export(ref.ptr) == keys.export(key)
    assert keys.kc.add({"class": "keys", "nleg": True, "v_Ref": key})[0] == -25299
    assert keys.kc.copy({"nleg": True, "v_Ref": key, "class": "keys"})[0] == 0


def test_4_5_secure_enclave(keys: Keys, sim: Any, profile: str) -> None:
    """4.5 / F-SE: P-256 only; never exportable (-4); the public key is a software key;
    permanent by default; an unentitled process gets -34018."""
    se = {"type": "73", "bsiz": 256, "tkid": "com.apple.setoken", "labl": "se"}
    assert keys.call("SecKeyCreateRandomKey", keys.cf({**se, "bsiz": 384}))[1] == PARAM
    key = keys.random(se)
    ref, code, text = keys.call("SecKeyCopyExternalRepresentation", key)
    assert ref == keys.ffi.NULL and code == UNIMPLEMENTED and "export not implemented" in text
    assert len(keys.export(keys.public(key))) == 65
    a = keys.attributes(key)
    assert a["tkid"] == "com.apple.setoken" and "v_Data" not in a
    st, d = keys.kc.copy({"class": "keys", "labl": "se", "r_Attributes": True, "r_Data": True})
    assert (
        st == 0
        and d["tkid"] == "com.apple.setoken"
        and keys.export(keys.public(key))[1:33] not in d["v_Data"]
    )
    sig, code, _ = keys.sign(key, "kSecKeyAlgorithmECDSASignatureMessageX962SHA256", b"se")
    assert keys.verify(
        keys.public(key), "kSecKeyAlgorithmECDSASignatureMessageX962SHA256", b"se", sig
    )[0]
    st, ref = keys.kc.copy_raw({"class": "keys", "labl": "se", "r_Ref": True})
    assert st == 0 and ref is not None  # the token object unwraps into the same key
    sig, code, _ = keys.sign(ref.ptr, "kSecKeyAlgorithmECDSASignatureMessageX962SHA256", b"again")
    assert code is None and keys.lib.CFEqual(ref.ptr, key)
    assert keys.call("SecKeyCopyExternalRepresentation", ref.ptr)[1] == UNIMPLEMENTED
    sim.lib.secsim_set_access_groups(b"")
    _, code, text = keys.call("SecKeyCreateRandomKey", keys.cf({**se, "private": {"perm": False}}))
    assert code == -34018 and "failed to generate asymmetric keypair" in text


# ---------------------------------------------------------------------------
# Objects, errors, libcrypto


def test_key_objects_compare_by_content(keys: Keys) -> None:
    """SecKey CFEqual: the same key material is equal; a key and its public key are not."""
    key = keys.ec()
    again, _, _ = keys.with_data(keys.export(key), "73", "1")
    assert keys.lib.CFEqual(key, again) and keys.lib.CFHash(key) == keys.lib.CFHash(again)
    assert not keys.lib.CFEqual(key, keys.public(key))
    assert keys.lib.CFGetTypeID(key) == keys.lib.SecKeyGetTypeID()


def test_5_1_null_error_pointer_is_allowed(keys: Keys) -> None:
    """5.1: a NULL error pointer is accepted; nothing leaks."""
    pub = keys.public(keys.ec())
    assert (
        keys.lib.SecKeyCreateSignature(
            pub,
            keys.lib.kSecKeyAlgorithmECDSASignatureMessageX962SHA256,
            keys.cf(b"x"),
            keys.ffi.NULL,
        )
        == keys.ffi.NULL
    )


def test_missing_libcrypto_fails_with_unimplemented(tmp_path: Path) -> None:
    """How: without libcrypto the key functions fail with -4 and say why; SecItem still works."""
    code = r"""
import sys; sys.path.insert(0, sys.argv[1])
import simlib, os
ffi, lib = simlib.load(os.environ["SECITEM_LIBRARY"])
err = ffi.new("CFErrorRef *")
p = simlib.to_cf(ffi, lib, {"type": "73", "bsiz": 256})
assert lib.SecKeyCreateRandomKey(p, err) == ffi.NULL
d = lib.CFErrorCopyDescription(err[0])
print(lib.CFErrorGetCode(err[0]), simlib.string_from_cf(ffi, lib, d))
q = simlib.to_cf(ffi, lib, {"class": "genp", "svce": "s", "v_Data": b"x"})
print(lib.SecItemAdd(q, ffi.NULL))
"""
    env = dict(os.environ, SECSIM_LIBCRYPTO=str(tmp_path / "no-libcrypto.so"))
    out = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).resolve().parents[1])],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    assert out[0].startswith("-4 ") and "no-libcrypto.so" in out[0] and "OpenSSL 3" in out[0]
    assert out[1] == "0"
