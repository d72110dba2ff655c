/*
 * sec_keys.h - what sec_key.c (SecKey) and sec_cert.c (SecCertificate,
 * SecIdentity, SecPKCS12Import) share.  Rule numbers refer to
 * shared/reference/seckey-facts.md.
 */
#ifndef SEC_KEYS_H
#define SEC_KEYS_H

#include <stdarg.h>

#include "sec_crypto.h"
#include "sec_private.h"

enum { SEC_KT_RSA = 42, SEC_KT_EC = 73 };

/* The key material of a SecKey (immutable once made). */
typedef struct sec_keymat {
    int type;           /* SEC_KT_RSA / SEC_KT_EC */
    bool priv;          /* private (kcls 1) or public (kcls 0) */
    bool token;         /* Secure Enclave: never exportable (4.5) */
    bool cdsa;          /* made by the macOS CDSA path of SecKeyCreateRandomKey (4.3) */
    int bits;           /* kSecAttrKeySizeInBits (3.2) */
    size_t block;       /* SecKeyGetBlockSize (3.1) */
    EVP_PKEY *pkey;
    uint8_t *pub;       /* public bytes: X9.63 04||X||Y or PKCS#1 RSAPublicKey (4.2) */
    size_t npub;
    uint8_t *ext;       /* external representation (3.1): private bytes for a private key */
    size_t next;
    uint8_t klbl[20];   /* SHA-1 of pub (4.2) */
} sec_keymat;

/* Set *error (if error != NULL) to a +1 CFError in NSOSStatusErrorDomain
 * with that code and an NSDescription; like Apple's SecError, the old
 * value of *error is overwritten, not released (5.1). */
void sec_error(CFErrorRef *error, OSStatus status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The crypto API, or NULL after setting errSecUnimplemented with the
 * reason (libcrypto missing). */
const sec_crypto_api *sec_crypto_or_error(CFErrorRef *error);

/* Material of a SecKey object (NULL for a keychain reference without
 * material, or for another type). */
const sec_keymat *sec_key_material(CFTypeRef key);

/* A +1 SecKey made from an external representation (3.1).  NULL with
 * *status and msg on failure. */
CFTypeRef sec_key_from_bytes(int type, bool priv, bool token, const uint8_t *p, size_t n, OSStatus *status,
                             char *msg, size_t msgsz);
/* A +1 SecKey owning `pkey` (reference taken over); NULL if unsupported. */
CFTypeRef sec_key_from_pkey(const sec_crypto_api *c, EVP_PKEY *pkey, bool priv);

/* SHA-1 of n bytes (libcrypto must be loaded). */
void sec_crypto_sha1(const sec_crypto_api *c, const uint8_t *p, size_t n, uint8_t out[20]);

/* CF dictionary helpers that compare keys by content (NULL-callback
 * dictionaries included). */
CFTypeRef sec_dict_find(CFDictionaryRef d, const char *key);
void sec_dict_put(CFMutableDictionaryRef d, const char *key, CFTypeRef value); /* consumes value */

/* Certificates (sec_cert.c). */
typedef struct sec_certmat {
    X509 *x509;
    uint8_t *der;       /* the DER that was parsed (trailing bytes dropped) */
    size_t nder;
} sec_certmat;
const sec_certmat *sec_cert_material(CFTypeRef cert);
CFTypeRef sec_cert_from_der(const uint8_t *p, size_t n);       /* +1 SecCertificate or NULL */
/* Attributes Apple derives from a certificate (4.6), set on an item. */
void sec_cert_set_attributes(const sec_certmat *m, sitem *it);
/* +1 SecKey of the certificate's public key, or NULL. */
CFTypeRef sec_cert_copy_key(const sec_certmat *m);

/* Set each entry of `attrs` that is an attribute of the item's class and
 * implementation, converted as that engine converts it. */
void sec_item_set_cf_attributes(sitem *it, CFDictionaryRef attrs);

/* Object material callbacks (sec_cert.c) used by sec_key.c's class
 * callbacks and SecItem hooks. */
void sec_key_finalize_impl(void *impl);
void sec_cert_finalize_impl(void *impl);
void sec_identity_finalize_impl(void *impl);
void *sec_cert_impl_from_item(const sitem *it);
void *sec_identity_impl_from_item(const sitem *it);
bool sec_cert_impl_equal(const void *a, const void *b);
bool sec_identity_impl_equal(const void *a, const void *b);
CFHashCode sec_cert_impl_hash(const void *impl);
const void *sec_identity_cert_impl(const void *identity_impl);
OSStatus sec_cert_seed(const void *impl, sitem *it);
bool sec_cert_matches(const void *impl, const sitem *it);

#endif /* SEC_KEYS_H */
