"""SecKey, SecCertificate, SecIdentity and SecPKCS12Import under Apple's names.

Re-exported by :mod:`secitem.security`; see ``docs/binding.md``.  Each
function takes and returns Python values: keys, certificates and identities
are :class:`~secitem._cfobjects.SecKey`, :class:`~secitem._cfobjects.SecCertificate` and
:class:`~secitem._cfobjects.SecIdentity` objects (close them, or use ``with``), data is
``bytes``, dictionaries are ``dict``.  A ``CFErrorRef`` out-parameter becomes
the same typed exception as an OSStatus (:class:`secitem.KeychainError` or
the subclass for its code, carrying the CFError's description); a function
that fails without an error raises :class:`secitem.ParamError`.

Everything is checked in Python before the native call: a key argument must
be a :class:`SecKey`, data must be bytes-like, an algorithm must be a ``str``
(one of the ``kSecKeyAlgorithm*`` constants below, or the same characters).
"""

from __future__ import annotations

from collections.abc import Mapping

from secitem._cfobjects import SecCertificate, SecIdentity, SecKey
from secitem._convert import Arguments, validate
from secitem._ffi import ffi
from secitem._from_cf import data_out, from_cf, read_and_release, string_out
from secitem.constants import SecConstant
from secitem.errors import check, error_for_status

# typing is only needed by type checkers: keep it off the import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final, NoReturn

_NULL: Final[Any] = ffi.NULL
errSecParam: Final = -50
errSecVerifyFailed: Final = -67808

# SecKeyOperationType (SecKey.h; CF_ENUM(CFIndex)).
kSecKeyOperationTypeSign: Final = 0
kSecKeyOperationTypeVerify: Final = 1
kSecKeyOperationTypeEncrypt: Final = 2
kSecKeyOperationTypeDecrypt: Final = 3
kSecKeyOperationTypeKeyExchange: Final = 4

# Dictionary keys of SecKey.h and SecImportExport.h (seckey-facts 2.2).
kSecPrivateKeyAttrs: Final = SecConstant("kSecPrivateKeyAttrs", "private")
kSecPublicKeyAttrs: Final = SecConstant("kSecPublicKeyAttrs", "public")
kSecKeyKeyExchangeParameterRequestedSize: Final = SecConstant(
    "kSecKeyKeyExchangeParameterRequestedSize", "requestedSize"
)
kSecKeyKeyExchangeParameterSharedInfo: Final = SecConstant(
    "kSecKeyKeyExchangeParameterSharedInfo", "sharedInfo"
)
kSecImportExportPassphrase: Final = SecConstant("kSecImportExportPassphrase", "passphrase")
kSecImportToMemoryOnly: Final = SecConstant("kSecImportToMemoryOnly", "memory")
kSecImportItemLabel: Final = SecConstant("kSecImportItemLabel", "label")
kSecImportItemKeyID: Final = SecConstant("kSecImportItemKeyID", "keyid")
kSecImportItemTrust: Final = SecConstant("kSecImportItemTrust", "trust")
kSecImportItemCertChain: Final = SecConstant("kSecImportItemCertChain", "chain")
kSecImportItemIdentity: Final = SecConstant("kSecImportItemIdentity", "identity")

# The public SecKeyAlgorithm constants (SecKey.h; values from Apple's
# SecKeyAdaptors.m, seckey-facts 2.1).  A str with the same characters works too.
_ALGORITHMS: Final = (
    ("RSASignatureRaw", "algid:sign:RSA:raw"),
    ("RSASignatureDigestPKCS1v15Raw", "algid:sign:RSA:digest-PKCS1v15"),
    *(
        (f"RSASignature{kind}PKCS1v15SHA{n}", f"algid:sign:RSA:{kind.lower()}-PKCS1v15:SHA{n}")
        for kind in ("Digest", "Message")
        for n in (1, 224, 256, 384, 512)
    ),
    *(
        (
            f"RSASignature{kind}PSSSHA{n}",
            f"algid:sign:RSA:{kind.lower()}-PSS:SHA{n}:SHA{n}:{salt}",
        )
        for kind in ("Digest", "Message")
        for n, salt in ((1, 20), (224, 24), (256, 32), (384, 48), (512, 64))
    ),
    ("ECDSASignatureDigestX962", "algid:sign:ECDSA:digest-X962"),
    *(
        (f"ECDSASignatureDigestX962SHA{n}", f"algid:sign:ECDSA:digest-X962:SHA{n}")
        for n in (1, 224, 256, 384, 512)
    ),
    *(
        (f"ECDSASignatureMessageX962SHA{n}", f"algid:sign:ECDSA:message-X962:SHA{n}")
        for n in (1, 224, 256, 384, 512)
    ),
    ("ECDSASignatureDigestRFC4754", "algid:sign:ECDSA:digest-RFC4754"),
    *(
        (f"ECDSASignatureDigestRFC4754SHA{n}", f"algid:sign:ECDSA:digest-RFC4754:SHA{n}")
        for n in (1, 224, 256, 384, 512)
    ),
    *(
        (f"ECDSASignatureMessageRFC4754SHA{n}", f"algid:sign:ECDSA:message-RFC4754:SHA{n}")
        for n in (1, 224, 256, 384, 512)
    ),
    ("ECDSASignatureRFC4754", "algid:sign:ECDSA:RFC4754"),
    ("RSAEncryptionRaw", "algid:encrypt:RSA:raw"),
    ("RSAEncryptionPKCS1", "algid:encrypt:RSA:PKCS1"),
    *(
        (f"RSAEncryptionOAEPSHA{n}", f"algid:encrypt:RSA:OAEP:SHA{n}")
        for n in (1, 224, 256, 384, 512)
    ),
    *(
        (f"RSAEncryptionOAEPSHA{n}AESGCM", f"algid:encrypt:RSA:OAEP:SHA{n}:AESGCM")
        for n in (1, 224, 256, 384, 512)
    ),
    *(
        (
            f"ECIESEncryption{kind}X963SHA{n}AESGCM",
            f"algid:encrypt:ECIES:{dh}:KDFX963:SHA{n}:AESGCM",
        )
        for kind, dh in (("Standard", "ECDH"), ("Cofactor", "ECDHC"))
        for n in (1, 224, 256, 384, 512)
    ),
    *(
        (
            f"ECIESEncryption{kind}VariableIVX963SHA{n}AESGCM",
            f"algid:encrypt:ECIES:{dh}:KDFX963:SHA{n}:AESGCM-KDFIV",
        )
        for kind, dh in (("Standard", "ECDH"), ("Cofactor", "ECDHC"))
        for n in (224, 256, 384, 512)
    ),
    *(
        (f"ECDHKeyExchange{kind}", f"algid:keyexchange:{dh}")
        for kind, dh in (("Standard", "ECDH"), ("Cofactor", "ECDHC"))
    ),
    *(
        (f"ECDHKeyExchange{kind}X963SHA{n}", f"algid:keyexchange:{dh}:KDFX963:SHA{n}")
        for kind, dh in (("Standard", "ECDH"), ("Cofactor", "ECDHC"))
        for n in (1, 224, 256, 384, 512)
    ),
)

#: Every public kSecKeyAlgorithm* constant, in SecKey.h's order of families.
KEY_ALGORITHMS: Final[tuple[SecConstant, ...]] = tuple(
    SecConstant(f"kSecKeyAlgorithm{name}", value) for name, value in _ALGORITHMS
)
globals().update({constant.name: constant for constant in KEY_ALGORITHMS})

__all__ = [
    "KEY_ALGORITHMS",
    "SecCertificateCopyCommonName",
    "SecCertificateCopyData",
    "SecCertificateCopyKey",
    "SecCertificateCopySubjectSummary",
    "SecCertificateCreateWithData",
    "SecIdentityCopyCertificate",
    "SecIdentityCopyPrivateKey",
    "SecKeyCopyAttributes",
    "SecKeyCopyExternalRepresentation",
    "SecKeyCopyKeyExchangeResult",
    "SecKeyCopyPublicKey",
    "SecKeyCreateDecryptedData",
    "SecKeyCreateEncryptedData",
    "SecKeyCreateRandomKey",
    "SecKeyCreateSignature",
    "SecKeyCreateWithData",
    "SecKeyGetBlockSize",
    "SecKeyIsAlgorithmSupported",
    "SecKeyVerifySignature",
    "SecPKCS12Import",
    "kSecImportExportPassphrase",
    "kSecImportItemCertChain",
    "kSecImportItemIdentity",
    "kSecImportItemKeyID",
    "kSecImportItemLabel",
    "kSecImportItemTrust",
    "kSecImportToMemoryOnly",
    "kSecKeyKeyExchangeParameterRequestedSize",
    "kSecKeyKeyExchangeParameterSharedInfo",
    "kSecKeyOperationTypeDecrypt",
    "kSecKeyOperationTypeEncrypt",
    "kSecKeyOperationTypeKeyExchange",
    "kSecKeyOperationTypeSign",
    "kSecKeyOperationTypeVerify",
    "kSecPrivateKeyAttrs",
    "kSecPublicKeyAttrs",
]
__all__ += [constant.name for constant in KEY_ALGORITHMS]


# --------------------------------------------------------------------------
# Helpers


def _raise_error(rt: Any, error: Any, fallback: int = errSecParam) -> NoReturn:
    """Raise the typed exception for a CFError (+1, released here)."""
    status, message = fallback, None
    if error != _NULL:
        try:
            status = int(rt.cf.CFErrorGetCode(error)) or fallback
            description = rt.cf.CFErrorCopyDescription(error)
            if description != _NULL:
                message = read_and_release(rt, description, string_out)
        finally:
            rt.CFRelease(error)
    exc = error_for_status(status)
    if message is None:
        raise exc
    raise type(exc)(status, message)


def _release_error(rt: Any, error: Any) -> None:
    if error != _NULL:
        rt.CFRelease(error)


def _bytes(value: object, name: str) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return memoryview(value).tobytes()
    raise TypeError(f"{name}: expected bytes, got {type(value).__name__}")


def _algorithm(value: object) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(f"algorithm: expected a kSecKeyAlgorithm* str, got {type(value).__name__}")


def _mapping(value: object, name: str) -> Mapping[object, object]:
    if isinstance(value, Mapping):
        return value
    raise TypeError(f"{name}: expected a mapping (dict), got {type(value).__name__}")


def _data_result(rt: Any, ref: Any, error: Any) -> bytes:
    if ref == _NULL:
        _raise_error(rt, error[0])
    _release_error(rt, error[0])
    return read_and_release(rt, ref, data_out)


def _call_lock() -> Any:
    from secitem import security

    return security._call_lock


# --------------------------------------------------------------------------
# SecKey


def SecKeyCreateRandomKey(parameters: Mapping[Any, object]) -> SecKey:
    """Generate a key pair; return the private key.

    ``parameters`` holds kSecAttrKeyType, kSecAttrKeySizeInBits and optionally
    kSecAttrIsPermanent (with kSecAttrLabel, kSecAttrApplicationTag ...),
    kSecAttrTokenID = kSecAttrTokenIDSecureEnclave, kSecPrivateKeyAttrs /
    kSecPublicKeyAttrs sub-dictionaries.  A permanent key is stored in the
    keychain as Apple stores it.
    """
    params = _mapping(parameters, "parameters")
    validate(params, "parameters")
    with Arguments() as args:
        ref = args.cf(params, "parameters")
        error = ffi.new("CFErrorRef *")
        with _call_lock():  # a permanent key is stored through SecItemAdd
            key = args.rt.sec.SecKeyCreateRandomKey(ref, error)
        if key == _NULL:
            _raise_error(args.rt, error[0])
        _release_error(args.rt, error[0])
        return SecKey._adopt(key)


def SecKeyCopyPublicKey(key: SecKey) -> SecKey | None:
    """The public key of ``key`` (a public key gives an equal key); ``None`` if there is none."""
    with Arguments() as args:
        ref = args.rt.sec.SecKeyCopyPublicKey(args.obj(key, SecKey, "key"))
        return None if ref == _NULL else SecKey._adopt(ref)


def SecKeyCopyAttributes(key: SecKey) -> dict[object, object] | None:
    """The key's attribute dictionary (kSecAttrKeyClass, kSecAttrApplicationLabel ...)."""
    with Arguments() as args:
        rt = args.rt
        ref = rt.sec.SecKeyCopyAttributes(args.obj(key, SecKey, "key"))
        if ref == _NULL:
            return None
        result = read_and_release(rt, ref, from_cf)
        assert isinstance(result, dict)
        return result


def SecKeyCopyExternalRepresentation(key: SecKey) -> bytes:
    """The key's bytes: X9.63 ``04||X||Y[||K]`` for EC keys, PKCS#1 DER for RSA keys."""
    with Arguments() as args:
        error = ffi.new("CFErrorRef *")
        ref = args.rt.sec.SecKeyCopyExternalRepresentation(args.obj(key, SecKey, "key"), error)
        return _data_result(args.rt, ref, error)


def SecKeyCreateWithData(key_data: bytes, attributes: Mapping[Any, object]) -> SecKey:
    """A key from its external representation; ``attributes`` gives kSecAttrKeyType
    and kSecAttrKeyClass (never touches a keychain)."""
    data = _bytes(key_data, "key_data")
    attrs = _mapping(attributes, "attributes")
    validate(attrs, "attributes")
    with Arguments() as args:
        data_ref = args.cf(data, "key_data")
        attrs_ref = args.cf(attrs, "attributes")
        error = ffi.new("CFErrorRef *")
        ref = args.rt.sec.SecKeyCreateWithData(data_ref, attrs_ref, error)
        if ref == _NULL:
            _raise_error(args.rt, error[0])
        _release_error(args.rt, error[0])
        return SecKey._adopt(ref)


def _key_transform(function: str, key: SecKey, algorithm: str, data: bytes, field: str) -> bytes:
    """``function(key, algorithm, data, &error)`` for the SecKey calls of that shape
    (sign, encrypt, decrypt): new CFData out, CFError turned into the typed error."""
    payload = _bytes(data, field)
    name = _algorithm(algorithm)
    with Arguments() as args:
        error = ffi.new("CFErrorRef *")
        ref = getattr(args.rt.sec, function)(
            args.obj(key, SecKey, "key"),
            args.cf(name, "algorithm"),
            args.cf(payload, field),
            error,
        )
        return _data_result(args.rt, ref, error)


def SecKeyCreateSignature(key: SecKey, algorithm: str, data: bytes) -> bytes:
    """Sign ``data`` (a message or a digest, as ``algorithm`` says) with a private key."""
    return _key_transform("SecKeyCreateSignature", key, algorithm, data, "data")


def SecKeyVerifySignature(
    key: SecKey, algorithm: str, signed_data: bytes, signature: bytes
) -> bool:
    """``True`` if ``signature`` is valid for ``signed_data``; ``False`` if it is not
    (errSecVerifyFailed, -67808).  Any other failure (an algorithm the key does not
    support, a digest of the wrong size ...) raises."""
    signed = _bytes(signed_data, "signed_data")
    sig = _bytes(signature, "signature")
    name = _algorithm(algorithm)
    with Arguments() as args:
        rt = args.rt
        error = ffi.new("CFErrorRef *")
        ok = rt.sec.SecKeyVerifySignature(
            args.obj(key, SecKey, "key"),
            args.cf(name, "algorithm"),
            args.cf(signed, "signed_data"),
            args.cf(sig, "signature"),
            error,
        )
        if ok:
            _release_error(rt, error[0])
            return True
        if error[0] != _NULL and int(rt.cf.CFErrorGetCode(error[0])) == errSecVerifyFailed:
            rt.CFRelease(error[0])
            return False
        _raise_error(rt, error[0])


def SecKeyCreateEncryptedData(key: SecKey, algorithm: str, plaintext: bytes) -> bytes:
    """Encrypt ``plaintext`` with a public key (RSA padding modes, ECIES ...)."""
    return _key_transform("SecKeyCreateEncryptedData", key, algorithm, plaintext, "plaintext")


def SecKeyCreateDecryptedData(key: SecKey, algorithm: str, ciphertext: bytes) -> bytes:
    """Decrypt ``ciphertext`` with a private key."""
    return _key_transform("SecKeyCreateDecryptedData", key, algorithm, ciphertext, "ciphertext")


def SecKeyCopyKeyExchangeResult(
    private_key: SecKey,
    algorithm: str,
    public_key: SecKey,
    parameters: Mapping[Any, object] | None = None,
) -> bytes:
    """ECDH between ``private_key`` and ``public_key``.

    The X9.63 variants need ``parameters`` with
    kSecKeyKeyExchangeParameterRequestedSize (and optionally
    kSecKeyKeyExchangeParameterSharedInfo).  Apple declares the argument
    non-null, so ``None`` is sent as an empty dictionary.
    """
    params = _mapping({} if parameters is None else parameters, "parameters")
    validate(params, "parameters")
    name = _algorithm(algorithm)
    with Arguments() as args:
        error = ffi.new("CFErrorRef *")
        ref = args.rt.sec.SecKeyCopyKeyExchangeResult(
            args.obj(private_key, SecKey, "private_key"),
            args.cf(name, "algorithm"),
            args.obj(public_key, SecKey, "public_key"),
            args.cf(params, "parameters"),
            error,
        )
        return _data_result(args.rt, ref, error)


def SecKeyIsAlgorithmSupported(key: SecKey, operation: int, algorithm: str) -> bool:
    """Whether ``key`` can run ``algorithm`` for ``operation`` (kSecKeyOperationType*)."""
    if isinstance(operation, bool) or not isinstance(operation, int):
        raise TypeError(f"operation: expected an int, got {type(operation).__name__}")
    if not -(1 << 63) <= operation < (1 << 63):
        raise OverflowError("operation: SecKeyOperationType is a 64-bit CFIndex")
    name = _algorithm(algorithm)
    with Arguments() as args:
        return bool(
            args.rt.sec.SecKeyIsAlgorithmSupported(
                args.obj(key, SecKey, "key"), operation, args.cf(name, "algorithm")
            )
        )


def SecKeyGetBlockSize(key: SecKey) -> int:
    """RSA: the modulus size in bytes; EC: the field size in bytes (66 for P-521)."""
    with Arguments() as args:
        return int(args.rt.sec.SecKeyGetBlockSize(args.obj(key, SecKey, "key")))


# --------------------------------------------------------------------------
# SecCertificate, SecIdentity, SecPKCS12Import


def SecCertificateCreateWithData(data: bytes) -> SecCertificate:
    """A certificate from its DER bytes; :class:`secitem.ParamError` if they are not
    a DER X.509 certificate (Apple returns NULL; PEM is refused)."""
    der = _bytes(data, "data")
    with Arguments() as args:
        ref = args.rt.sec.SecCertificateCreateWithData(_NULL, args.cf(der, "data"))
        if ref == _NULL:
            exc = error_for_status(errSecParam)
            raise type(exc)(
                errSecParam, "SecCertificateCreateWithData: not a DER X.509 certificate"
            )
        return SecCertificate._adopt(ref)


def SecCertificateCopyData(certificate: SecCertificate) -> bytes:
    """The certificate's DER bytes (as parsed: bytes trailing it are not kept)."""
    with Arguments() as args:
        rt = args.rt
        ref = rt.sec.SecCertificateCopyData(args.obj(certificate, SecCertificate, "certificate"))
        if ref == _NULL:
            raise error_for_status(errSecParam)
        return read_and_release(rt, ref, data_out)


def SecCertificateCopySubjectSummary(certificate: SecCertificate) -> str | None:
    """A human-readable summary of the subject (the common name, usually)."""
    with Arguments() as args:
        rt = args.rt
        ref = rt.sec.SecCertificateCopySubjectSummary(
            args.obj(certificate, SecCertificate, "certificate")
        )
        return None if ref == _NULL else read_and_release(rt, ref, string_out)


def SecCertificateCopyCommonName(certificate: SecCertificate) -> str:
    """The last common name of the subject; errSecInternal (-26276) if there is none."""
    with Arguments() as args:
        rt = args.rt
        out = ffi.new("CFStringRef *")
        status = rt.sec.SecCertificateCopyCommonName(
            args.obj(certificate, SecCertificate, "certificate"), out
        )
        if out[0] == _NULL:
            check(status or errSecParam)
        try:
            check(status)
            return string_out(rt, out[0])
        finally:
            rt.CFRelease(out[0])


def SecCertificateCopyKey(certificate: SecCertificate) -> SecKey | None:
    """The certificate's public key (RSA and EC only; ``None`` otherwise)."""
    with Arguments() as args:
        ref = args.rt.sec.SecCertificateCopyKey(
            args.obj(certificate, SecCertificate, "certificate")
        )
        return None if ref == _NULL else SecKey._adopt(ref)


def _identity_part(identity: SecIdentity, function: str, out_type: str) -> Any:
    """``function(identity, &out)``: the new (+1) reference it copies out, checked."""
    with Arguments() as args:
        out = ffi.new(out_type)
        status = getattr(args.rt.sec, function)(args.obj(identity, SecIdentity, "identity"), out)
        if out[0] == _NULL:
            check(status or errSecParam)
        if status:
            args.rt.CFRelease(out[0])
            check(status)
        return out[0]


def SecIdentityCopyCertificate(identity: SecIdentity) -> SecCertificate:
    """The identity's certificate."""
    return SecCertificate._adopt(
        _identity_part(identity, "SecIdentityCopyCertificate", "SecCertificateRef *")
    )


def SecIdentityCopyPrivateKey(identity: SecIdentity) -> SecKey:
    """The identity's private key."""
    return SecKey._adopt(_identity_part(identity, "SecIdentityCopyPrivateKey", "SecKeyRef *"))


def SecPKCS12Import(
    pkcs12_data: bytes, options: Mapping[Any, object] | None = None
) -> list[dict[object, object]]:
    """Decode a PKCS#12 file: one ``dict`` per identity (kSecImportItemIdentity,
    kSecImportItemCertChain ...).  ``options`` gives kSecImportExportPassphrase.

    A wrong password raises :class:`secitem.AuthFailedError` (-25293), as
    Apple's code does.  Whatever Apple returns alongside a failure is released.
    """
    data = _bytes(pkcs12_data, "pkcs12_data")
    opts = _mapping({} if options is None else options, "options")
    validate(opts, "options")
    with Arguments() as args:
        rt = args.rt
        out = ffi.new("CFArrayRef *")
        data_ref = args.cf(data, "pkcs12_data")
        opts_ref = args.cf(opts, "options")
        with _call_lock():  # may store the identity (macOS file keychain)
            status = rt.sec.SecPKCS12Import(data_ref, opts_ref, out)
        items = out[0]
        if items == _NULL:
            check(status or errSecParam)
            return []
        try:
            check(status)
            result = from_cf(rt, items)
        finally:
            rt.CFRelease(items)
        assert isinstance(result, list)
        return result
