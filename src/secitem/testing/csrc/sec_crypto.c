/*
 * sec_crypto.c - opens the system's libcrypto (OpenSSL 3) at run time.
 *
 * See sec_crypto.h.  Loaded once per process (pthread_once); the handle is
 * kept for the life of the process.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sec_crypto.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static sec_crypto_api g_api;
static const sec_crypto_api *g_loaded;
static char g_why[512];

static void *sym(void *h, const char *name, int *missing)
{
    void *p = dlsym(h, name);
    if (p == NULL && *missing == 0) {
        *missing = 1;
        snprintf(g_why, sizeof g_why, "libcrypto lacks %s (OpenSSL 3 is needed)", name);
    }
    return p;
}

/* dlsym returns void *; converting it to a function pointer is what POSIX
 * dlsym is for.  memcpy keeps -Wpedantic-style warnings away. */
#define LOAD(field)                                                   \
    do {                                                              \
        void *p_ = sym(h, #field, missing);                           \
        memcpy(&api->field, &p_, sizeof p_);                          \
    } while (0)

/* sec_crypto_api's "keys" group (generation, import, export), in its order. */
static void resolve_keys(void *h, sec_crypto_api *api, int *missing)
{
    LOAD(EVP_PKEY_CTX_new_from_name);
    LOAD(EVP_PKEY_CTX_new);
    LOAD(EVP_PKEY_CTX_free);
    LOAD(EVP_PKEY_keygen_init);
    LOAD(EVP_PKEY_generate);
    LOAD(EVP_PKEY_CTX_set_group_name);
    LOAD(EVP_PKEY_CTX_set_rsa_keygen_bits);
    LOAD(EVP_PKEY_fromdata_init);
    LOAD(EVP_PKEY_fromdata);
    LOAD(EVP_PKEY_public_check);
    LOAD(EVP_PKEY_free);
    LOAD(EVP_PKEY_get_base_id);
    LOAD(EVP_PKEY_get_bits);
    LOAD(EVP_PKEY_get_octet_string_param);
    LOAD(EVP_PKEY_get_bn_param);
    LOAD(BN_bn2binpad);
    LOAD(BN_clear_free);
    LOAD(d2i_PublicKey);
    LOAD(d2i_PrivateKey);
    LOAD(d2i_PUBKEY);
    LOAD(i2d_PublicKey);
    LOAD(i2d_PrivateKey);
}

/* sec_crypto_api's "operations" group (sign, verify, encrypt, decrypt, derive). */
static void resolve_operations(void *h, sec_crypto_api *api, int *missing)
{
    LOAD(EVP_PKEY_sign_init);
    LOAD(EVP_PKEY_sign);
    LOAD(EVP_PKEY_verify_init);
    LOAD(EVP_PKEY_verify);
    LOAD(EVP_PKEY_verify_recover_init);
    LOAD(EVP_PKEY_verify_recover);
    LOAD(EVP_PKEY_encrypt_init);
    LOAD(EVP_PKEY_encrypt);
    LOAD(EVP_PKEY_decrypt_init);
    LOAD(EVP_PKEY_decrypt);
    LOAD(EVP_PKEY_derive_init);
    LOAD(EVP_PKEY_derive_set_peer);
    LOAD(EVP_PKEY_derive);
    LOAD(EVP_PKEY_CTX_set_signature_md);
    LOAD(EVP_PKEY_CTX_set_rsa_padding);
    LOAD(EVP_PKEY_CTX_set_rsa_pss_saltlen);
    LOAD(EVP_PKEY_CTX_set_rsa_mgf1_md);
    LOAD(EVP_PKEY_CTX_set_rsa_oaep_md);
}

/* sec_crypto_api's "digests, AES-GCM, randomness" group. */
static void resolve_primitives(void *h, sec_crypto_api *api, int *missing)
{
    LOAD(EVP_sha1);
    LOAD(EVP_sha224);
    LOAD(EVP_sha256);
    LOAD(EVP_sha384);
    LOAD(EVP_sha512);
    LOAD(EVP_Digest);
    LOAD(EVP_aes_128_gcm);
    LOAD(EVP_aes_256_gcm);
    LOAD(EVP_CIPHER_CTX_new);
    LOAD(EVP_CIPHER_CTX_free);
    LOAD(EVP_CIPHER_CTX_ctrl);
    LOAD(EVP_CipherInit_ex);
    LOAD(EVP_CipherUpdate);
    LOAD(EVP_CipherFinal_ex);
    LOAD(RAND_bytes);
}

/* sec_crypto_api's "certificates, PKCS#12" group. */
static void resolve_certificates(void *h, sec_crypto_api *api, int *missing)
{
    LOAD(d2i_X509);
    LOAD(i2d_X509);
    LOAD(X509_free);
    LOAD(d2i_PKCS12);
    LOAD(PKCS12_free);
    LOAD(PKCS12_mac_present);
    LOAD(PKCS12_verify_mac);
    LOAD(PKCS12_parse);
    LOAD(OPENSSL_sk_num);
    LOAD(OPENSSL_sk_value);
    LOAD(OPENSSL_sk_pop_free);
    LOAD(ERR_clear_error);
}

#undef LOAD

/* dlopen the library SECSIM_LIBCRYPTO names (libcrypto.so.3 by default);
 * NULL with g_why set when it cannot be opened. */
static void *open_libcrypto(void)
{
    const char *name = getenv("SECSIM_LIBCRYPTO");
    if (name == NULL || *name == '\0')
        name = "libcrypto.so.3";
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        const char *e = dlerror();
        snprintf(g_why, sizeof g_why, "cannot load %s (%s): the emulator's keys and certificates need "
                 "OpenSSL 3's libcrypto", name, e ? e : "not found");
    }
    return h;
}

/* Open libcrypto and resolve every symbol in sec_crypto_api's order (g_why
 * names the first one missing); the API is published only when all are there. */
static void load(void)
{
    void *h = open_libcrypto();
    if (h == NULL)
        return;
    sec_crypto_api api;
    memset(&api, 0, sizeof api);
    int missing = 0;
    resolve_keys(h, &api, &missing);
    resolve_operations(h, &api, &missing);
    resolve_primitives(h, &api, &missing);
    resolve_certificates(h, &api, &missing);
    if (missing) {
        dlclose(h);
        return;
    }
    g_api = api;
    g_loaded = &g_api;
}

const sec_crypto_api *sec_crypto(void)
{
    pthread_once(&g_once, load);
    return g_loaded;
}

const char *sec_crypto_why(void)
{
    pthread_once(&g_once, load);
    return g_loaded ? "" : g_why;
}
