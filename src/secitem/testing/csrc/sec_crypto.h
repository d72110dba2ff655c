/*
 * sec_crypto.h - the emulator's real cryptography: the system's libcrypto
 * (OpenSSL 3), opened at run time with dlopen("libcrypto.so.3").
 *
 * No OpenSSL header is needed to build the emulator: the few prototypes
 * used are declared here with opaque pointer types, and the few constants
 * are copied from OpenSSL 3's public headers (values fixed by its ABI).
 * When libcrypto cannot be opened (or lacks a symbol), sec_crypto() returns
 * NULL and sec_crypto_why() says why; the SecKey / SecCertificate /
 * SecPKCS12Import functions then fail with errSecUnimplemented (-4) and
 * that reason, and everything else keeps working.
 *
 * SECSIM_LIBCRYPTO=path overrides the library opened (a path that cannot
 * be opened simulates a system without libcrypto).
 */
#ifndef SEC_CRYPTO_H
#define SEC_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_pkey_ctx_st EVP_PKEY_CTX;
typedef struct evp_md_st EVP_MD;
typedef struct evp_cipher_st EVP_CIPHER;
typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct bignum_st BIGNUM;
typedef struct x509_st X509;
typedef struct PKCS12_st PKCS12;
typedef struct stack_st OPENSSL_STACK;

/* OpenSSL 3 core.h: struct ossl_param_st (stable ABI). */
typedef struct sec_ossl_param {
    const char *key;
    unsigned int data_type;
    void *data;
    size_t data_size;
    size_t return_size;
} sec_ossl_param;

enum {
    SEC_OSSL_PARAM_UNSIGNED_INTEGER = 2,
    SEC_OSSL_PARAM_UTF8_STRING = 4,
    SEC_OSSL_PARAM_OCTET_STRING = 5,
    SEC_EVP_PKEY_PUBLIC_KEY = 0x86,     /* evp.h EVP_PKEY_PUBLIC_KEY */
    SEC_EVP_PKEY_KEYPAIR = 0x87,        /* evp.h EVP_PKEY_KEYPAIR */
    SEC_EVP_PKEY_RSA = 6,               /* obj_mac.h NID_rsaEncryption */
    SEC_EVP_PKEY_EC = 408,              /* obj_mac.h NID_X9_62_id_ecPublicKey */
    SEC_RSA_PKCS1_PADDING = 1,
    SEC_RSA_NO_PADDING = 3,
    SEC_RSA_PKCS1_OAEP_PADDING = 4,
    SEC_RSA_PKCS1_PSS_PADDING = 6,
    SEC_EVP_CTRL_GCM_SET_IVLEN = 0x9,
    SEC_EVP_CTRL_GCM_GET_TAG = 0x10,
    SEC_EVP_CTRL_GCM_SET_TAG = 0x11
};

typedef struct sec_crypto_api {
    /* keys */
    EVP_PKEY_CTX *(*EVP_PKEY_CTX_new_from_name)(void *libctx, const char *name, const char *propq);
    EVP_PKEY_CTX *(*EVP_PKEY_CTX_new)(EVP_PKEY *pkey, void *engine);
    void (*EVP_PKEY_CTX_free)(EVP_PKEY_CTX *ctx);
    int (*EVP_PKEY_keygen_init)(EVP_PKEY_CTX *ctx);
    int (*EVP_PKEY_generate)(EVP_PKEY_CTX *ctx, EVP_PKEY **ppkey);
    int (*EVP_PKEY_CTX_set_group_name)(EVP_PKEY_CTX *ctx, const char *name);
    int (*EVP_PKEY_CTX_set_rsa_keygen_bits)(EVP_PKEY_CTX *ctx, int bits);
    int (*EVP_PKEY_fromdata_init)(EVP_PKEY_CTX *ctx);
    int (*EVP_PKEY_fromdata)(EVP_PKEY_CTX *ctx, EVP_PKEY **ppkey, int selection, sec_ossl_param *params);
    int (*EVP_PKEY_public_check)(EVP_PKEY_CTX *ctx);
    void (*EVP_PKEY_free)(EVP_PKEY *pkey);
    int (*EVP_PKEY_get_base_id)(const EVP_PKEY *pkey);
    int (*EVP_PKEY_get_bits)(const EVP_PKEY *pkey);
    int (*EVP_PKEY_get_octet_string_param)(const EVP_PKEY *pkey, const char *key_name, unsigned char *buf,
                                           size_t max_buf_sz, size_t *out_len);
    int (*EVP_PKEY_get_bn_param)(const EVP_PKEY *pkey, const char *key_name, BIGNUM **bn);
    int (*BN_bn2binpad)(const BIGNUM *a, unsigned char *to, int tolen);
    void (*BN_clear_free)(BIGNUM *a);
    EVP_PKEY *(*d2i_PublicKey)(int type, EVP_PKEY **a, const unsigned char **pp, long length);
    EVP_PKEY *(*d2i_PrivateKey)(int type, EVP_PKEY **a, const unsigned char **pp, long length);
    EVP_PKEY *(*d2i_PUBKEY)(EVP_PKEY **a, const unsigned char **pp, long length);
    int (*i2d_PublicKey)(const EVP_PKEY *a, unsigned char **pp);
    int (*i2d_PrivateKey)(const EVP_PKEY *a, unsigned char **pp);
    /* operations */
    int (*EVP_PKEY_sign_init)(EVP_PKEY_CTX *ctx);
    int (*EVP_PKEY_sign)(EVP_PKEY_CTX *ctx, unsigned char *sig, size_t *siglen, const unsigned char *tbs, size_t tbslen);
    int (*EVP_PKEY_verify_init)(EVP_PKEY_CTX *ctx);
    int (*EVP_PKEY_verify)(EVP_PKEY_CTX *ctx, const unsigned char *sig, size_t siglen, const unsigned char *tbs,
                           size_t tbslen);
    int (*EVP_PKEY_verify_recover_init)(EVP_PKEY_CTX *ctx);
    int (*EVP_PKEY_verify_recover)(EVP_PKEY_CTX *ctx, unsigned char *rout, size_t *routlen, const unsigned char *sig,
                                   size_t siglen);
    int (*EVP_PKEY_encrypt_init)(EVP_PKEY_CTX *ctx);
    int (*EVP_PKEY_encrypt)(EVP_PKEY_CTX *ctx, unsigned char *out, size_t *outlen, const unsigned char *in,
                            size_t inlen);
    int (*EVP_PKEY_decrypt_init)(EVP_PKEY_CTX *ctx);
    int (*EVP_PKEY_decrypt)(EVP_PKEY_CTX *ctx, unsigned char *out, size_t *outlen, const unsigned char *in,
                            size_t inlen);
    int (*EVP_PKEY_derive_init)(EVP_PKEY_CTX *ctx);
    int (*EVP_PKEY_derive_set_peer)(EVP_PKEY_CTX *ctx, EVP_PKEY *peer);
    int (*EVP_PKEY_derive)(EVP_PKEY_CTX *ctx, unsigned char *key, size_t *keylen);
    int (*EVP_PKEY_CTX_set_signature_md)(EVP_PKEY_CTX *ctx, const EVP_MD *md);
    int (*EVP_PKEY_CTX_set_rsa_padding)(EVP_PKEY_CTX *ctx, int pad_mode);
    int (*EVP_PKEY_CTX_set_rsa_pss_saltlen)(EVP_PKEY_CTX *ctx, int saltlen);
    int (*EVP_PKEY_CTX_set_rsa_mgf1_md)(EVP_PKEY_CTX *ctx, const EVP_MD *md);
    int (*EVP_PKEY_CTX_set_rsa_oaep_md)(EVP_PKEY_CTX *ctx, const EVP_MD *md);
    /* digests, AES-GCM, randomness */
    const EVP_MD *(*EVP_sha1)(void);
    const EVP_MD *(*EVP_sha224)(void);
    const EVP_MD *(*EVP_sha256)(void);
    const EVP_MD *(*EVP_sha384)(void);
    const EVP_MD *(*EVP_sha512)(void);
    int (*EVP_Digest)(const void *data, size_t count, unsigned char *md, unsigned int *size, const EVP_MD *type,
                      void *impl);
    const EVP_CIPHER *(*EVP_aes_128_gcm)(void);
    const EVP_CIPHER *(*EVP_aes_256_gcm)(void);
    EVP_CIPHER_CTX *(*EVP_CIPHER_CTX_new)(void);
    void (*EVP_CIPHER_CTX_free)(EVP_CIPHER_CTX *ctx);
    int (*EVP_CIPHER_CTX_ctrl)(EVP_CIPHER_CTX *ctx, int type, int arg, void *ptr);
    int (*EVP_CipherInit_ex)(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *type, void *impl, const unsigned char *key,
                             const unsigned char *iv, int enc);
    int (*EVP_CipherUpdate)(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl, const unsigned char *in, int inl);
    int (*EVP_CipherFinal_ex)(EVP_CIPHER_CTX *ctx, unsigned char *outm, int *outl);
    int (*RAND_bytes)(unsigned char *buf, int num);
    /* certificates, PKCS#12 */
    X509 *(*d2i_X509)(X509 **a, const unsigned char **pp, long length);
    int (*i2d_X509)(X509 *a, unsigned char **pp);
    void (*X509_free)(X509 *a);
    PKCS12 *(*d2i_PKCS12)(PKCS12 **a, const unsigned char **pp, long length);
    void (*PKCS12_free)(PKCS12 *a);
    int (*PKCS12_mac_present)(const PKCS12 *p12);
    int (*PKCS12_verify_mac)(PKCS12 *p12, const char *pass, int passlen);
    int (*PKCS12_parse)(PKCS12 *p12, const char *pass, EVP_PKEY **pkey, X509 **cert, OPENSSL_STACK **ca);
    int (*OPENSSL_sk_num)(const OPENSSL_STACK *st);
    void *(*OPENSSL_sk_value)(const OPENSSL_STACK *st, int i);
    void (*OPENSSL_sk_pop_free)(OPENSSL_STACK *st, void (*func)(void *));
    void (*ERR_clear_error)(void);
} sec_crypto_api;

/* The loaded API, or NULL when libcrypto is unavailable (thread-safe, loaded once). */
const sec_crypto_api *sec_crypto(void);
/* Why sec_crypto() is NULL ("" when it is not). */
const char *sec_crypto_why(void);

#endif /* SEC_CRYPTO_H */
