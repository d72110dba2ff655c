/*
 * sec_key.c - SecKey: key objects with real key material (libcrypto, see
 * sec_crypto.h), the SecKey functions of SecKey.h, the SecKeyAlgorithm
 * constants, and the glue that lets key / certificate / identity objects
 * travel through SecItem as kSecValueRef / kSecReturnRef.
 *
 * Rule numbers refer to shared/reference/seckey-facts.md.  Formats are
 * Apple's (3.1): EC public keys are X9.63 04||X||Y, EC private keys
 * 04||X||Y||K, RSA keys PKCS#1; ECDSA signatures are DER (X9.62) or r||s
 * (RFC 4754); ECIES and RSA-AES-GCM follow SecKeyAdaptors.m (3.4, 3.5).
 * Key objects are immutable once made, so they are safe to share between
 * threads; libcrypto is thread-safe.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sec_keys.h"

/* ------------------------------------------------------------------ */
/* Constants (2.1, 2.2) */

#define SECSIM_KEYALG(name, value) \
    static struct __CFString name##_storage = SECSIM_STATIC_STRING_INIT(value); \
    SECSIM_EXPORT const CFStringRef name = &name##_storage;
#include "seckey_algorithms.def"
#undef SECSIM_KEYALG

static const char *const g_algorithms[] = {
#define SECSIM_KEYALG(name, value) value,
#include "seckey_algorithms.def"
#undef SECSIM_KEYALG
};

static struct __CFString s_requested_size = SECSIM_STATIC_STRING_INIT("requestedSize");
static struct __CFString s_shared_info = SECSIM_STATIC_STRING_INIT("sharedInfo");
SECSIM_EXPORT const CFStringRef kSecKeyKeyExchangeParameterRequestedSize = &s_requested_size;
SECSIM_EXPORT const CFStringRef kSecKeyKeyExchangeParameterSharedInfo = &s_shared_info;

/* ------------------------------------------------------------------ */
/* Errors and dictionaries */

void sec_error(CFErrorRef *error, OSStatus status, const char *fmt, ...)
{
    if (error == NULL || status == 0)
        return;
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    CFStringRef text = secsim_string(buf);
    if (text == NULL)
        text = secsim_string("(message not UTF-8)");
    const void *keys[1] = { kCFErrorDescriptionKey };
    const void *vals[1] = { text };
    CFDictionaryRef info = CFDictionaryCreate(NULL, keys, vals, 1, &kCFTypeDictionaryKeyCallBacks,
                                              &kCFTypeDictionaryValueCallBacks);
    *error = CFErrorCreate(NULL, kCFErrorDomainOSStatus, status, info);   /* 5.1: not released first */
    CFRelease(info);
    CFRelease(text);
}

const sec_crypto_api *sec_crypto_or_error(CFErrorRef *error)
{
    const sec_crypto_api *c = sec_crypto();
    if (c == NULL)
        sec_error(error, errSecUnimplemented, "%s", sec_crypto_why());
    return c;
}

static bool str_equals(CFTypeRef v, const char *s)
{
    if (v == NULL || !secsim_is(v, SECSIM_TYPE_STRING))
        return false;
    CFIndex n = 0;
    const char *p = secsim_string_utf8((CFStringRef)v, &n);
    return (size_t)n == strlen(s) && memcmp(p, s, (size_t)n) == 0;
}

CFTypeRef sec_dict_find(CFDictionaryRef d, const char *key)
{
    if (d == NULL || !secsim_is(d, SECSIM_TYPE_DICTIONARY))
        return NULL;
    CFIndex n = CFDictionaryGetCount(d);
    if (n == 0)
        return NULL;
    const void **keys = sec_xmalloc((size_t)n * 2 * sizeof *keys);
    CFDictionaryGetKeysAndValues(d, keys, keys + n);
    CFTypeRef found = NULL;
    for (CFIndex i = 0; i < n; i++) {
        if (str_equals(keys[i], key)) {
            found = keys[n + i];
            break;
        }
    }
    free(keys);
    return found;
}

void sec_dict_put(CFMutableDictionaryRef d, const char *key, CFTypeRef value)
{
    CFStringRef k = secsim_string(key);
    CFDictionarySetValue(d, k, value);
    CFRelease(k);
    CFRelease(value);
}

static CFMutableDictionaryRef new_dict(void)
{
    return CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
}

/* A CFNumber, or a CFString that reads back as the same decimal integer
 * (SecKeyCreateWithData's rule, 3.1). */
static bool read_integer(CFTypeRef v, int64_t *out)
{
    if (v == NULL)
        return false;
    if (secsim_is(v, SECSIM_TYPE_NUMBER))
        return CFNumberGetValue((CFNumberRef)v, kCFNumberSInt64Type, out) != 0;
    if (secsim_is(v, SECSIM_TYPE_STRING)) {
        CFIndex n = 0;
        const char *p = secsim_string_utf8((CFStringRef)v, &n);
        return sec_parse_decimal((const uint8_t *)p, (size_t)n, out);
    }
    return false;
}

static CFNumberRef number(int64_t v)
{
    return CFNumberCreate(NULL, kCFNumberSInt64Type, &v);
}

/* ------------------------------------------------------------------ */
/* Algorithms */

enum { H_NONE = 0, H_SHA1, H_SHA224, H_SHA256, H_SHA384, H_SHA512 };
enum {
    AK_RSA_SIG_RAW = 1, AK_RSA_SIG_PKCS1, AK_RSA_SIG_PSS, AK_ECDSA,
    AK_RSA_ENC_RAW, AK_RSA_ENC_PKCS1, AK_RSA_ENC_OAEP, AK_RSA_ENC_OAEP_GCM, AK_ECIES, AK_ECDH
};
enum { OP_SIGN = 0, OP_VERIFY = 1, OP_ENCRYPT = 2, OP_DECRYPT = 3, OP_EXCHANGE = 4 };

typedef struct keyalg {
    int kind;
    int hash;
    bool message;       /* hash the input first */
    bool rfc4754;       /* r||s signatures */
    bool variable_iv;   /* ECIES ...-KDFIV */
    char name[80];
} keyalg;

static size_t hash_len(int h)
{
    static const size_t lens[] = { 0, 20, 28, 32, 48, 64 };
    return lens[h];
}

static const EVP_MD *hash_md(const sec_crypto_api *c, int h)
{
    switch (h) {
    case H_SHA1: return c->EVP_sha1();
    case H_SHA224: return c->EVP_sha224();
    case H_SHA256: return c->EVP_sha256();
    case H_SHA384: return c->EVP_sha384();
    case H_SHA512: return c->EVP_sha512();
    default: return NULL;
    }
}

/* The hash named at the start of s ("SHA256..."), advancing *s. */
static int parse_hash(const char **s)
{
    static const struct { const char *name; int h; } names[] = {
        { "SHA1", H_SHA1 }, { "SHA224", H_SHA224 }, { "SHA256", H_SHA256 },
        { "SHA384", H_SHA384 }, { "SHA512", H_SHA512 },
    };
    int best = H_NONE;
    size_t best_len = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i].name);
        if (strncmp(*s, names[i].name, n) == 0 && n > best_len) {
            best = names[i].h;
            best_len = n;
        }
    }
    *s += best_len;
    return best;
}

static bool starts(const char **s, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(*s, prefix, n) != 0)
        return false;
    *s += n;
    return true;
}

/* One of the public algorithm strings (seckey_algorithms.def). */
static bool known_algorithm(const char *s, size_t n)
{
    bool known = false;
    for (size_t i = 0; i < sizeof g_algorithms / sizeof g_algorithms[0]; i++)
        if (strlen(g_algorithms[i]) == n && memcmp(g_algorithms[i], s, n) == 0)
            known = true;
    return known;
}

/* The rest of "algid:sign:RSA:...". */
static void parse_rsa_sign(const char *s, keyalg *a)
{
    if (strcmp(s, "raw") == 0) {
        a->kind = AK_RSA_SIG_RAW;
    } else if (starts(&s, "digest-PKCS1v15") || (a->message = starts(&s, "message-PKCS1v15"))) {
        a->kind = AK_RSA_SIG_PKCS1;
        if (starts(&s, ":"))
            a->hash = parse_hash(&s);
    } else if (starts(&s, "digest-PSS:") || (a->message = starts(&s, "message-PSS:"))) {
        a->kind = AK_RSA_SIG_PSS;
        a->hash = parse_hash(&s);
    }
}

/* The rest of "algid:sign:ECDSA:...". */
static void parse_ecdsa(const char *s, keyalg *a)
{
    a->kind = AK_ECDSA;
    if (strcmp(s, "RFC4754") == 0) {
        a->rfc4754 = true;
        return;
    }
    if (!starts(&s, "digest-"))
        a->message = starts(&s, "message-");
    a->rfc4754 = starts(&s, "RFC4754");
    if (!a->rfc4754)
        starts(&s, "X962");
    if (starts(&s, ":"))
        a->hash = parse_hash(&s);
}

/* The rest of "algid:encrypt:RSA:...". */
static void parse_rsa_encrypt(const char *s, keyalg *a)
{
    if (strcmp(s, "raw") == 0) {
        a->kind = AK_RSA_ENC_RAW;
    } else if (strcmp(s, "PKCS1") == 0) {
        a->kind = AK_RSA_ENC_PKCS1;
    } else if (starts(&s, "OAEP:")) {
        a->hash = parse_hash(&s);
        a->kind = strcmp(s, ":AESGCM") == 0 ? AK_RSA_ENC_OAEP_GCM : AK_RSA_ENC_OAEP;
    }
}

/* The rest of "algid:encrypt:ECIES:...". */
static void parse_ecies(const char *s, keyalg *a)
{
    a->kind = AK_ECIES;
    (void)(starts(&s, "ECDHC:") || starts(&s, "ECDH:"));  /* cofactor = standard on NIST curves (3.6) */
    starts(&s, "KDFX963:");
    a->hash = parse_hash(&s);
    a->variable_iv = strcmp(s, ":AESGCM-KDFIV") == 0;
}

/* The rest of "algid:keyexchange:...". */
static void parse_key_exchange(const char *s, keyalg *a)
{
    a->kind = AK_ECDH;
    (void)(starts(&s, "ECDHC") || starts(&s, "ECDH"));
    if (starts(&s, ":KDFX963:"))
        a->hash = parse_hash(&s);
}

/* Parse a public algorithm string (2.1); false for anything else (the
 * emulator implements the public algorithms only). */
static bool parse_algorithm(CFTypeRef algorithm, keyalg *a)
{
    memset(a, 0, sizeof *a);
    if (algorithm == NULL || !secsim_is(algorithm, SECSIM_TYPE_STRING)) {
        snprintf(a->name, sizeof a->name, "(not a string)");
        return false;
    }
    CFIndex n = 0;
    const char *s = secsim_string_utf8((CFStringRef)algorithm, &n);
    snprintf(a->name, sizeof a->name, "%.79s", s);
    if (!known_algorithm(s, (size_t)n))
        return false;
    if (starts(&s, "algid:sign:RSA:"))
        parse_rsa_sign(s, a);
    else if (starts(&s, "algid:sign:ECDSA:"))
        parse_ecdsa(s, a);
    else if (starts(&s, "algid:encrypt:RSA:"))
        parse_rsa_encrypt(s, a);
    else if (starts(&s, "algid:encrypt:ECIES:"))
        parse_ecies(s, a);
    else if (starts(&s, "algid:keyexchange:"))
        parse_key_exchange(s, a);
    return a->kind != 0;
}

/* ------------------------------------------------------------------ */
/* Key material */

typedef struct curve { int bits; size_t field; const char *name; } curve;
static const curve g_curves[] = {
    { 192, 24, "P-192" }, { 224, 28, "P-224" }, { 256, 32, "P-256" }, { 384, 48, "P-384" }, { 521, 66, "P-521" },
};

static const curve *curve_by_bits(int bits)
{
    for (size_t i = 0; i < sizeof g_curves / sizeof g_curves[0]; i++)
        if (g_curves[i].bits == bits)
            return &g_curves[i];
    return NULL;
}

static const curve *curve_by_field(size_t field)
{
    for (size_t i = 0; i < sizeof g_curves / sizeof g_curves[0]; i++)
        if (g_curves[i].field == field)
            return &g_curves[i];
    return NULL;
}

void sec_crypto_sha1(const sec_crypto_api *c, const uint8_t *p, size_t n, uint8_t out[20])
{
    unsigned int len = 20;
    c->EVP_Digest(p, n, out, &len, c->EVP_sha1(), NULL);
}

static void keymat_free(sec_keymat *k)
{
    if (k == NULL)
        return;
    const sec_crypto_api *c = sec_crypto();
    if (k->pkey != NULL && c != NULL)
        c->EVP_PKEY_free(k->pkey);
    if (k->ext != NULL)
        memset(k->ext, 0, k->next);
    free(k->ext);
    free(k->pub);
    free(k);
}

void sec_key_finalize_impl(void *impl)
{
    keymat_free(impl);
}

/* DER of an i2d_* function, in a malloc'd buffer. */
static uint8_t *i2d_copy(int (*i2d)(const EVP_PKEY *, unsigned char **), const EVP_PKEY *pkey, size_t *n)
{
    int len = i2d(pkey, NULL);
    if (len <= 0)
        return NULL;
    uint8_t *buf = sec_xmalloc((size_t)len);
    unsigned char *p = buf;
    if (i2d(pkey, &p) != len) {
        free(buf);
        return NULL;
    }
    *n = (size_t)len;
    return buf;
}

/* Fill pub / ext / klbl / bits / block of k from k->pkey. */
static bool keymat_export(const sec_crypto_api *c, sec_keymat *k)
{
    int id = c->EVP_PKEY_get_base_id(k->pkey);
    if (id == SEC_EVP_PKEY_EC) {
        const curve *cv = curve_by_bits(c->EVP_PKEY_get_bits(k->pkey));
        if (cv == NULL)
            return false;
        k->type = SEC_KT_EC;
        k->bits = cv->bits;
        k->block = cv->field;
        size_t npub = 2 * cv->field + 1;
        uint8_t buf[160];
        size_t got = 0;
        if (c->EVP_PKEY_get_octet_string_param(k->pkey, "encoded-pub-key", buf, sizeof buf, &got) != 1 ||
            got != npub || buf[0] != 4)
            return false;
        k->pub = sec_memdup(buf, npub);
        k->npub = npub;
        if (k->priv) {
            BIGNUM *bn = NULL;
            if (c->EVP_PKEY_get_bn_param(k->pkey, "priv", &bn) != 1)
                return false;
            k->next = npub + cv->field;
            k->ext = sec_xmalloc(k->next);
            memcpy(k->ext, buf, npub);
            int ok = c->BN_bn2binpad(bn, k->ext + npub, (int)cv->field);
            c->BN_clear_free(bn);
            if (ok != (int)cv->field)
                return false;
        }
    } else if (id == SEC_EVP_PKEY_RSA) {
        k->type = SEC_KT_RSA;
        k->bits = c->EVP_PKEY_get_bits(k->pkey);
        k->block = ((size_t)k->bits + 7) / 8;
        k->pub = i2d_copy(c->i2d_PublicKey, k->pkey, &k->npub);
        if (k->pub == NULL)
            return false;
        if (k->priv) {
            k->ext = i2d_copy(c->i2d_PrivateKey, k->pkey, &k->next);
            if (k->ext == NULL)
                return false;
        }
    } else {
        return false;
    }
    if (!k->priv) {
        k->ext = sec_memdup(k->pub, k->npub);
        k->next = k->npub;
    }
    sec_crypto_sha1(c, k->pub, k->npub, k->klbl);
    return true;
}

static sec_keymat *keymat_new(EVP_PKEY *pkey, bool priv)
{
    sec_keymat *k = sec_xmalloc(sizeof *k);
    memset(k, 0, sizeof *k);
    k->pkey = pkey;
    k->priv = priv;
    return k;
}

static bool host_little_endian(void)
{
    uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* An EC key from Apple's bytes: 04||X||Y (public) or 04||X||Y||K (private);
 * the curve comes from the length (3.1). */
static EVP_PKEY *ec_from_bytes(const sec_crypto_api *c, bool priv, const uint8_t *p, size_t n)
{
    if (n < 1 || p[0] != 4 || (n - 1) % (priv ? 3 : 2) != 0)
        return NULL;
    const curve *cv = curve_by_field((n - 1) / (priv ? 3 : 2));
    if (cv == NULL)
        return NULL;
    size_t npub = 2 * cv->field + 1;
    uint8_t k[66];
    sec_ossl_param params[4];
    memset(params, 0, sizeof params);
    params[0] = (sec_ossl_param){ "group", SEC_OSSL_PARAM_UTF8_STRING, (void *)cv->name, strlen(cv->name), 0 };
    params[1] = (sec_ossl_param){ "pub", SEC_OSSL_PARAM_OCTET_STRING, (void *)p, npub, 0 };
    if (priv) {
        /* OSSL_PARAM unsigned integers are in native byte order. */
        for (size_t i = 0; i < cv->field; i++)
            k[i] = host_little_endian() ? p[n - 1 - i] : p[npub + i];
        params[2] = (sec_ossl_param){ "priv", SEC_OSSL_PARAM_UNSIGNED_INTEGER, k, cv->field, 0 };
    }
    EVP_PKEY_CTX *ctx = c->EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pkey = NULL;
    if (ctx == NULL || c->EVP_PKEY_fromdata_init(ctx) != 1 ||
        c->EVP_PKEY_fromdata(ctx, &pkey, priv ? SEC_EVP_PKEY_KEYPAIR : SEC_EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    if (ctx != NULL)
        c->EVP_PKEY_CTX_free(ctx);
    memset(k, 0, sizeof k);
    if (pkey != NULL) {
        /* corecrypto's ccec_import_pub validates the point (3.1). */
        EVP_PKEY_CTX *check = c->EVP_PKEY_CTX_new(pkey, NULL);
        bool ok = check != NULL && c->EVP_PKEY_public_check(check) == 1;
        if (check != NULL)
            c->EVP_PKEY_CTX_free(check);
        if (!ok) {
            c->EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    return pkey;
}

/* Length of the DER TLV at p (n bytes available), 0 if malformed. */
static size_t der_tlv(const uint8_t *p, size_t n, size_t *hdr)
{
    if (n < 2)
        return 0;
    size_t len, h;
    if (p[1] < 0x80) {
        len = p[1];
        h = 2;
    } else {
        size_t k = p[1] & 0x7f;
        if (k == 0 || k > 4 || n < 2 + k)
            return 0;
        len = 0;
        for (size_t i = 0; i < k; i++)
            len = (len << 8) | p[2 + i];
        h = 2 + k;
    }
    if (len > n - h)
        return 0;
    *hdr = h;
    return h + len;
}

static EVP_PKEY *rsa_from_bytes(const sec_crypto_api *c, bool priv, const uint8_t *p, size_t n)
{
    if (n > LONG_MAX)
        return NULL;
    EVP_PKEY *pkey = NULL;
    const unsigned char *q = p;
    if (priv) {
        /* PKCS#1 RSAPrivateKey only: SEQUENCE { INTEGER version, INTEGER n, ... }
         * (a PKCS#8 wrapper has a SEQUENCE after the version). */
        size_t h, vh;
        if (n < 4 || p[0] != 0x30 || der_tlv(p, n, &h) != n || p[h] != 0x02)
            return NULL;
        size_t vlen = der_tlv(p + h, n - h, &vh);
        if (vlen == 0 || h + vlen >= n || p[h + vlen] != 0x02)
            return NULL;
        pkey = c->d2i_PrivateKey(SEC_EVP_PKEY_RSA, NULL, &q, (long)n);
    } else {
        pkey = c->d2i_PublicKey(SEC_EVP_PKEY_RSA, NULL, &q, (long)n);
        if (pkey == NULL || (size_t)(q - p) != n) {
            /* "public key can be also in x509 public key format" (H-Key). */
            if (pkey != NULL)
                c->EVP_PKEY_free(pkey);
            q = p;
            pkey = c->d2i_PUBKEY(NULL, &q, (long)n);
            if (pkey != NULL && c->EVP_PKEY_get_base_id(pkey) != SEC_EVP_PKEY_RSA) {
                c->EVP_PKEY_free(pkey);
                pkey = NULL;
            }
        }
    }
    if (pkey != NULL && ((size_t)(q - p) != n || c->EVP_PKEY_get_bits(pkey) > 8192)) {
        c->EVP_PKEY_free(pkey);                           /* RSA kMaximumRSAKeyBits (3.1) */
        pkey = NULL;
    }
    return pkey;
}

static CFTypeRef key_object(sec_keymat *k)
{
    CFTypeRef obj = secsim_create_instance(sec_ref_type_key(), sizeof(sec_objbody));
    sec_objbody *b = secsim_body(obj);
    b->ref.impl = 0;
    b->ref.cls = CLS_KEYS;
    b->ref.rowid = 0;
    b->impl = k;
    return obj;
}

static sec_keymat *keymat_from_bytes(const sec_crypto_api *c, int type, bool priv, const uint8_t *p, size_t n)
{
    EVP_PKEY *pkey = type == SEC_KT_EC ? ec_from_bytes(c, priv, p, n) : rsa_from_bytes(c, priv, p, n);
    c->ERR_clear_error();
    if (pkey == NULL)
        return NULL;
    sec_keymat *k = keymat_new(pkey, priv);
    if (!keymat_export(c, k)) {
        c->ERR_clear_error();
        keymat_free(k);
        return NULL;
    }
    return k;
}

CFTypeRef sec_key_from_bytes(int type, bool priv, bool token, const uint8_t *p, size_t n, OSStatus *status,
                             char *msg, size_t msgsz)
{
    const sec_crypto_api *c = sec_crypto();
    if (c == NULL) {
        *status = errSecUnimplemented;
        snprintf(msg, msgsz, "%s", sec_crypto_why());
        return NULL;
    }
    sec_keymat *k = keymat_from_bytes(c, type, priv, p, n);
    if (k == NULL) {
        *status = errSecParam;
        snprintf(msg, msgsz, "%s %s key creation from data failed", type == SEC_KT_EC ? "EC" : "RSA",
                 priv ? "private" : "public");
        return NULL;
    }
    k->token = token;
    return key_object(k);
}

CFTypeRef sec_key_from_pkey(const sec_crypto_api *c, EVP_PKEY *pkey, bool priv)
{
    sec_keymat *k = keymat_new(pkey, priv);
    if (!keymat_export(c, k)) {
        c->ERR_clear_error();
        keymat_free(k);
        return NULL;
    }
    return key_object(k);
}

const sec_keymat *sec_key_material(CFTypeRef key)
{
    if (key == NULL || !secsim_is(key, sec_ref_type_key()))
        return NULL;
    return ((sec_objbody *)secsim_body(key))->impl;
}

/* ------------------------------------------------------------------ */
/* Objects in SecItem (sec_private.h hooks) */

/* The secret stored for a Secure Enclave key: an opaque token object blob
 * (Apple stores the token's object, never exportable key bytes). */
static const char g_se_magic[] = "secsim-setoken-object:";
#define SE_MAGIC_LEN (sizeof g_se_magic - 1)

static bool aes_gcm(const sec_crypto_api *c, bool enc, const uint8_t *key, size_t klen, const uint8_t iv[16],
                    const uint8_t *aad, size_t naad, const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[16]);

/* The token keeps its keys wrapped: AES-256-GCM under the emulated Secure
 * Enclave's own key (a constant here), so the item's data never shows the
 * private key. */
static bool se_wrap(const sec_crypto_api *c, bool enc, const uint8_t iv[16], const uint8_t *in, size_t n,
                    uint8_t *out, uint8_t tag[16])
{
    static const uint8_t se_key[32] = "secsim emulated secure enclave!";
    return aes_gcm(c, enc, se_key, 32, iv, (const uint8_t *)g_se_magic, SE_MAGIC_LEN, in, n, out, tag);
}

static sec_keymat *keymat_from_item(const sitem *it)
{
    const sec_crypto_api *c = sec_crypto();
    if (c == NULL || it->data == NULL)
        return NULL;
    const sval *kcls = item_get(it, "kcls"), *type = item_get(it, "type"), *tkid = item_get(it, "tkid");
    if (kcls == NULL || type == NULL || kcls->tag != SV_INT || type->tag != SV_INT)
        return NULL;
    if (kcls->i != 0 && kcls->i != 1)
        return NULL;
    int t = type->i == SEC_KT_RSA ? SEC_KT_RSA : (type->i == SEC_KT_EC || type->i == 43) ? SEC_KT_EC : 0;
    if (t == 0)
        return NULL;
    const uint8_t *p = it->data;
    size_t n = it->dlen;
    bool token = tkid != NULL && tkid->tag == SV_STR && tkid->n == 17 && memcmp(tkid->p, "com.apple.setoken", 17) == 0;
    uint8_t *plain = NULL;
    if (token) {
        if (n < SE_MAGIC_LEN + 32 || memcmp(p, g_se_magic, SE_MAGIC_LEN) != 0)
            return NULL;
        p += SE_MAGIC_LEN;
        n -= SE_MAGIC_LEN + 32;
        plain = sec_xmalloc(n + 1);
        if (!se_wrap(c, false, p, p + 16, n, plain, (uint8_t *)p + 16 + n)) {
            free(plain);
            return NULL;
        }
        p = plain;
    }
    sec_keymat *k = keymat_from_bytes(c, t, kcls->i == 1, p, n);
    if (plain != NULL) {
        memset(plain, 0, n);
        free(plain);
    }
    if (k != NULL) {
        k->token = token;
        k->cdsa = it->impl == IMPL_FB;
    }
    return k;
}

void sec_object_attach(CFTypeRef obj)
{
    sec_objbody *b = secsim_body(obj);
    sitem *it = sec_kc_find(b->ref.impl, b->ref.rowid);
    if (it == NULL)
        return;
    if (b->ref.cls == CLS_KEYS)
        b->impl = keymat_from_item(it);
    else if (b->ref.cls == CLS_CERT)
        b->impl = sec_cert_impl_from_item(it);
    else if (b->ref.cls == CLS_IDNT)
        b->impl = sec_identity_impl_from_item(it);
}

void sec_object_finalize(CFTypeRef obj)
{
    sec_objbody *b = secsim_body(obj);
    void *impl = b->impl;
    b->impl = NULL;
    if (impl == NULL)
        return;
    CFTypeID t = CFGetTypeID(obj);
    if (t == sec_ref_type_key())
        keymat_free(impl);
    else if (t == sec_ref_type_certificate())
        sec_cert_finalize_impl(impl);
    else
        sec_identity_finalize_impl(impl);
}

static bool bytes_eq(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na) == 0);
}

static bool keymat_equal(const sec_keymat *x, const sec_keymat *y)
{
    return x->type == y->type && x->priv == y->priv && x->token == y->token &&
           bytes_eq(x->pub, x->npub, y->pub, y->npub) && bytes_eq(x->ext, x->next, y->ext, y->next);
}

Boolean sec_object_equal(CFTypeRef a, CFTypeRef b)
{
    sec_objbody *x = secsim_body(a), *y = secsim_body(b);
    if (x->impl != NULL && y->impl != NULL) {
        CFTypeID t = CFGetTypeID(a);
        if (t == sec_ref_type_key())
            return keymat_equal(x->impl, y->impl);
        if (t == sec_ref_type_certificate())
            return sec_cert_impl_equal(x->impl, y->impl);
        return sec_identity_impl_equal(x->impl, y->impl);
    }
    if (x->ref.rowid == 0 || y->ref.rowid == 0)
        return a == b;
    return x->ref.impl == y->ref.impl && x->ref.rowid == y->ref.rowid;
}

static CFHashCode hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return (CFHashCode)h;
}

CFHashCode sec_object_hash(CFTypeRef obj)
{
    sec_objbody *b = secsim_body(obj);
    if (b->impl != NULL) {
        CFTypeID t = CFGetTypeID(obj);
        if (t == sec_ref_type_key()) {
            const sec_keymat *k = b->impl;
            return hash_bytes(k->pub, k->npub) + k->priv;
        }
        return sec_cert_impl_hash(t == sec_ref_type_certificate() ? b->impl : sec_identity_cert_impl(b->impl));
    }
    if (b->ref.rowid == 0)
        return (CFHashCode)(uintptr_t)obj;
    return (CFHashCode)b->ref.rowid * 0x9E3779B97F4A7C15ull + b->ref.impl;
}

static CFDictionaryRef key_attributes(const sec_keymat *k);

/* Set each entry of `attrs` that is an attribute of the item's class and
 * implementation, converted as that engine converts it. */
void sec_item_set_cf_attributes(sitem *it, CFDictionaryRef attrs)
{
    CFIndex n = CFDictionaryGetCount(attrs);
    const void **kv = sec_xmalloc((size_t)(n ? n : 1) * 2 * sizeof *kv);
    CFDictionaryGetKeysAndValues(attrs, kv, kv + n);
    for (CFIndex i = 0; i < n; i++) {
        CFIndex len = 0;
        const char *name = secsim_string_utf8((CFStringRef)kv[i], &len);
        const sec_attrdef *def = sec_attr_lookup(name, (size_t)len);
        if (def == NULL)
            continue;
        sval v;
        if (it->impl == IMPL_DP) {
            if (!(def->dp_classes & CB(it->cls)) || sec_dp_convert(def->dp_kind, kv[n + i], &v) != errSecSuccess)
                continue;
        } else {
            if (!(def->fb_classes & CB(it->cls)) || sec_fb_convert(def->fb_kind, kv[n + i], &v) != errSecSuccess)
                continue;
        }
        item_set(it, def->name, v);
    }
    free(kv);
}

OSStatus sec_object_seed(CFTypeRef obj, sitem *it)
{
    sec_objbody *b = secsim_body(obj);
    if (b->impl == NULL)
        return errSecInvalidItemRef;
    CFTypeID t = CFGetTypeID(obj);
    if (t == sec_ref_type_key()) {
        /* 4.4: the key's attributes under the caller's, v_Data = the external
         * representation (a token object for a Secure Enclave key). */
        const sec_keymat *k = b->impl;
        if (it->cls != CLS_KEYS)
            return errSecParam;
        CFDictionaryRef attrs = key_attributes(k);
        sec_item_set_cf_attributes(it, attrs);
        CFRelease(attrs);
        if (k->token) {
            /* magic || IV (16) || AES-GCM(private bytes) || tag (16) */
            const sec_crypto_api *c = sec_crypto();
            size_t len = SE_MAGIC_LEN + 32 + k->next;
            uint8_t *blob = sec_xmalloc(len);
            memcpy(blob, g_se_magic, SE_MAGIC_LEN);
            uint8_t *iv = blob + SE_MAGIC_LEN;
            if (c == NULL || c->RAND_bytes(iv, 16) != 1 ||
                !se_wrap(c, true, iv, k->ext, k->next, iv + 16, iv + 16 + k->next)) {
                free(blob);
                return errSecParam;
            }
            item_set_data(it, blob, len);
            free(blob);
        } else {
            item_set_data(it, k->ext, k->next);
        }
        return errSecSuccess;
    }
    if (t == sec_ref_type_certificate())
        return sec_cert_seed(b->impl, it);
    return errSecParam;
}

bool sec_object_matches(CFTypeRef obj, const sitem *it)
{
    sec_objbody *b = secsim_body(obj);
    if (b->impl == NULL)
        return false;
    CFTypeID t = CFGetTypeID(obj);
    if (t == sec_ref_type_key()) {
        const sec_keymat *k = b->impl;
        const sval *kcls = item_get(it, "kcls"), *klbl = item_get(it, "klbl");
        return it->cls == CLS_KEYS && kcls != NULL && kcls->tag == SV_INT && kcls->i == (k->priv ? 1 : 0) &&
               klbl != NULL && klbl->tag == SV_DATA && bytes_eq(klbl->p, klbl->n, k->klbl, 20);
    }
    if (t == sec_ref_type_certificate())
        return sec_cert_matches(b->impl, it);
    return false;
}

bool sec_object_dp_only(CFTypeRef obj)
{
    const sec_keymat *k = sec_key_material(obj);
    return k != NULL && !k->cdsa;
}

/* ------------------------------------------------------------------ */
/* SecKey functions */

static void describe(const sec_keymat *k, CFTypeRef key, char *buf, size_t n)
{
    snprintf(buf, n, "<SecKeyRef algorithm id: %d, key type: %s%s, block size: %zu bits, addr: %p>",
             k->type == SEC_KT_EC ? 3 : 1, k->type == SEC_KT_EC ? "EC" : "RSA",
             k->priv ? "PrivateKey" : "PublicKey", k->block * 8, (const void *)key);
}

/* The material of `key` for an operation, or NULL with the error set. */
static const sec_keymat *operand(CFTypeRef key, const char *fn, const sec_crypto_api **c, CFErrorRef *error)
{
    if (key == NULL)
        secsim_fatal("%s: NULL key (Apple raises NSInvalidArgumentException)", fn);
    secsim_check(key, sec_ref_type_key(), fn);
    *c = sec_crypto_or_error(error);
    if (*c == NULL)
        return NULL;
    const sec_keymat *k = sec_key_material(key);
    if (k == NULL)
        sec_error(error, errSecUnimplemented, "%s: the key's keychain item holds no key the emulator can read", fn);
    return k;
}

static void unsupported(const keyalg *a, const sec_keymat *k, CFTypeRef key, CFErrorRef *error)
{
    char d[200];
    describe(k, key, d, sizeof d);
    sec_error(error, errSecParam, "%s: algorithm not supported by the key %s", a->name, d);
}

static CFDictionaryRef key_attributes(const sec_keymat *k)
{
    CFMutableDictionaryRef d = new_dict();
    sec_dict_put(d, "class", CFRetain(kSecClassKey));
    sec_dict_put(d, "kcls", secsim_string(k->priv ? "1" : "0"));
    sec_dict_put(d, "type", secsim_string(k->type == SEC_KT_EC ? "73" : "42"));
    sec_dict_put(d, "klbl", CFDataCreate(NULL, k->klbl, 20));
    sec_dict_put(d, "bsiz", number(k->bits));
    sec_dict_put(d, "esiz", number(k->bits));
    sec_dict_put(d, "perm", CFRetain(kCFBooleanTrue));      /* 4.1: always true */
    sec_dict_put(d, "priv", CFRetain(kCFBooleanTrue));
    sec_dict_put(d, "modi", CFRetain(kCFBooleanTrue));
    /* A token key is sensitive and never extractable (4.5; the flag values are emu). */
    sec_dict_put(d, "sens", CFRetain(k->token ? kCFBooleanTrue : kCFBooleanFalse));
    sec_dict_put(d, "asen", CFRetain(k->token ? kCFBooleanTrue : kCFBooleanFalse));
    sec_dict_put(d, "extr", CFRetain(k->token ? kCFBooleanFalse : kCFBooleanTrue));
    sec_dict_put(d, "next", CFRetain(k->token ? kCFBooleanTrue : kCFBooleanFalse));
    sec_dict_put(d, "encr", CFRetain(k->priv ? kCFBooleanFalse : kCFBooleanTrue));
    sec_dict_put(d, "decr", CFRetain(k->priv || k->type == SEC_KT_RSA ? kCFBooleanTrue : kCFBooleanFalse));
    sec_dict_put(d, "drve", CFRetain(k->priv && k->type == SEC_KT_EC ? kCFBooleanTrue : kCFBooleanFalse));
    sec_dict_put(d, "sign", CFRetain(k->priv ? kCFBooleanTrue : kCFBooleanFalse));
    sec_dict_put(d, "vrfy", CFRetain(k->priv ? kCFBooleanFalse : kCFBooleanTrue));
    sec_dict_put(d, "snrc", CFRetain(kCFBooleanFalse));
    sec_dict_put(d, "vyrc", CFRetain(kCFBooleanFalse));
    sec_dict_put(d, "wrap", CFRetain(k->priv ? kCFBooleanFalse : kCFBooleanTrue));
    sec_dict_put(d, "unwp", CFRetain(k->priv ? kCFBooleanTrue : kCFBooleanFalse));
    if (k->token)
        sec_dict_put(d, "tkid", CFRetain(kSecAttrTokenIDSecureEnclave));   /* 4.5: no v_Data */
    else
        sec_dict_put(d, "v_Data", CFDataCreate(NULL, k->ext, (CFIndex)k->next));
    return d;
}

SECSIM_EXPORT CFDictionaryRef SecKeyCopyAttributes(SecKeyRef key)
{
    const sec_crypto_api *c;
    const sec_keymat *k = operand(key, "SecKeyCopyAttributes", &c, NULL);
    return k ? key_attributes(k) : NULL;
}

SECSIM_EXPORT size_t SecKeyGetBlockSize(SecKeyRef key)
{
    const sec_crypto_api *c;
    const sec_keymat *k = operand(key, "SecKeyGetBlockSize", &c, NULL);
    return k ? k->block : 0;
}

SECSIM_EXPORT CFDataRef SecKeyCopyExternalRepresentation(SecKeyRef key, CFErrorRef *error)
{
    const sec_crypto_api *c;
    const sec_keymat *k = operand(key, "SecKeyCopyExternalRepresentation", &c, error);
    if (k == NULL)
        return NULL;
    if (k->token) {
        char d[200];
        describe(k, key, d, sizeof d);
        sec_error(error, errSecUnimplemented, "export not implemented for key %s", d);   /* 4.5 */
        return NULL;
    }
    return CFDataCreate(NULL, k->ext, (CFIndex)k->next);
}

SECSIM_EXPORT SecKeyRef SecKeyCopyPublicKey(SecKeyRef key)
{
    const sec_crypto_api *c;
    const sec_keymat *k = operand(key, "SecKeyCopyPublicKey", &c, NULL);
    if (k == NULL)
        return NULL;
    if (!k->priv)
        return (SecKeyRef)CFRetain(key);
    /* 4.5: a Secure Enclave key's public key is a software key. */
    sec_keymat *pub = keymat_from_bytes(c, k->type, false, k->pub, k->npub);
    if (pub == NULL)
        return NULL;
    pub->cdsa = k->cdsa;
    return (SecKeyRef)key_object(pub);
}

SECSIM_EXPORT SecKeyRef SecKeyCreateWithData(CFDataRef keyData, CFDictionaryRef attributes, CFErrorRef *error)
{
    secsim_check(attributes, SECSIM_TYPE_DICTIONARY, "SecKeyCreateWithData");
    const sec_crypto_api *c = sec_crypto_or_error(error);
    if (c == NULL)
        return NULL;
    if (keyData == NULL) {
        sec_error(error, errSecParam, "Failed to provide key data to SecKeyCreateWithData");
        return NULL;
    }
    secsim_check(keyData, SECSIM_TYPE_DATA, "SecKeyCreateWithData");
    int64_t type = 0, kcls = 0;
    CFTypeRef tv = sec_dict_find(attributes, "type"), cv = sec_dict_find(attributes, "kcls");
    if (!read_integer(cv, &kcls)) {
        sec_error(error, errSecParam, "Unsupported key class: %s", cv ? "(unreadable)" : "(missing)");
        return NULL;
    }
    if (kcls == 2) {
        sec_error(error, errSecUnimplemented, "Unsupported symmetric key type: %lld", (long long)kcls);
        return NULL;
    }
    if (kcls != 0 && kcls != 1) {
        sec_error(error, errSecParam, "Unsupported key class: %lld", (long long)kcls);
        return NULL;
    }
    if (!read_integer(tv, &type) || (type != SEC_KT_RSA && type != SEC_KT_EC && type != 43)) {
        sec_error(error, errSecParam, "Unsupported key type: %lld", (long long)type);
        return NULL;
    }
    OSStatus st = errSecSuccess;
    char msg[200];
    CFTypeRef key = sec_key_from_bytes(type == SEC_KT_RSA ? SEC_KT_RSA : SEC_KT_EC, kcls == 1, false,
                                       CFDataGetBytePtr(keyData), (size_t)CFDataGetLength(keyData), &st, msg,
                                       sizeof msg);
    if (key == NULL)
        sec_error(error, st, "%s", msg);
    return (SecKeyRef)key;
}

/* ---- random keys (4.3) ---- */

static bool truthy_bool(CFTypeRef v)
{
    return v != NULL && secsim_is(v, SECSIM_TYPE_BOOLEAN) && CFBooleanGetValue((CFBooleanRef)v);
}

/* Top-level parameters with the sub-dictionary's entries winning (4.3 #4). */
static CFMutableDictionaryRef merged(CFDictionaryRef top, const char *sub)
{
    CFMutableDictionaryRef d = CFDictionaryCreateMutableCopy(NULL, 0, top);
    CFTypeRef s = sec_dict_find(top, sub);
    if (s != NULL && secsim_is(s, SECSIM_TYPE_DICTIONARY)) {
        CFIndex n = CFDictionaryGetCount(s);
        const void **kv = sec_xmalloc((size_t)(n ? n : 1) * 2 * sizeof *kv);
        CFDictionaryGetKeysAndValues(s, kv, kv + n);
        for (CFIndex i = 0; i < n; i++)
            CFDictionarySetValue(d, kv[i], kv[n + i]);
        free(kv);
    }
    return d;
}

/* Which implementation the macOS shim picks (4.3 routing). */
static bool wants_modern(CFDictionaryRef d)
{
    CFTypeRef nleg = sec_dict_find(d, "nleg");
    if (nleg != NULL)
        return sec_truthy(nleg);
    return sec_truthy(sec_dict_find(d, "sync")) || sec_dict_find(d, "tkid") != NULL ||
           sec_dict_find(d, "accc") != NULL || str_equals(sec_dict_find(d, "agrp"), "com.apple.token");
}

static bool has_access_groups(void)
{
    sec_lock();
    bool any = false;
    for (size_t i = 0; i < g_sec.ngroups; i++)
        if (strcmp(g_sec.groups[i], "com.apple.token") != 0)
            any = true;
    sec_unlock();
    return any;
}

static int current_profile(void)
{
    sec_lock();
    int p = g_sec.profile;
    sec_unlock();
    return p;
}

static EVP_PKEY *generate(const sec_crypto_api *c, int type, int bits)
{
    EVP_PKEY_CTX *ctx = c->EVP_PKEY_CTX_new_from_name(NULL, type == SEC_KT_EC ? "EC" : "RSA", NULL);
    EVP_PKEY *pkey = NULL;
    bool ok = ctx != NULL && c->EVP_PKEY_keygen_init(ctx) == 1;
    if (ok && type == SEC_KT_EC)
        ok = c->EVP_PKEY_CTX_set_group_name(ctx, curve_by_bits(bits)->name) == 1;
    else if (ok)
        ok = c->EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) == 1;
    if (ok && c->EVP_PKEY_generate(ctx, &pkey) != 1)
        pkey = NULL;
    if (ctx != NULL)
        c->EVP_PKEY_CTX_free(ctx);
    c->ERR_clear_error();
    return pkey;
}

/* Store one generated key (4.3 #8): SecItemAdd of the merged parameters
 * with kSecValueRef = key. */
static OSStatus store_key(CFDictionaryRef params, CFTypeRef key, bool modern, bool is_public)
{
    CFMutableDictionaryRef add = CFDictionaryCreateMutableCopy(NULL, 0, params);
    static const char *const drop[] = { "type", "bsiz", "private", "public" };
    CFIndex n = CFDictionaryGetCount(add);
    const void **kv = sec_xmalloc((size_t)(n ? n : 1) * 2 * sizeof *kv);
    CFDictionaryGetKeysAndValues(add, kv, kv + n);
    for (CFIndex i = 0; i < n; i++) {
        for (size_t j = 0; j < sizeof drop / sizeof drop[0]; j++)
            if (str_equals(kv[i], drop[j]) || (is_public && str_equals(kv[i], "tkid")))
                CFDictionaryRemoveValue(add, kv[i]);
    }
    free(kv);
    sec_dict_put(add, "class", CFRetain(kSecClassKey));
    sec_dict_put(add, "v_Ref", CFRetain(key));
    if (current_profile() == PROFILE_MACOS)
        sec_dict_put(add, "nleg", CFRetain(modern ? kCFBooleanTrue : kCFBooleanFalse));
    OSStatus st = SecItemAdd(add, NULL);
    CFRelease(add);
    return st;
}

/* The macOS CDSA path's checks (KeyOSX; 4.3); a size of 0 becomes the
 * type's default. */
static bool cdsa_params(bool have_type, int64_t type, bool have_bits, int64_t *bits, CFErrorRef *error)
{
    if (!have_type) {
        sec_error(error, errSecParam, "inconsistent parameters for CDSA key generation");
        return false;
    }
    if (type != SEC_KT_RSA && type != SEC_KT_EC) {
        sec_error(error, errSecUnimplemented, "unsupported key type for CDSA key generation");
        return false;
    }
    if (!have_bits) {   /* Apple calls CFGetTypeID(NULL) here and crashes (emu: -50) */
        sec_error(error, errSecParam, "inconsistent parameters for CDSA key generation");
        return false;
    }
    if (*bits == 0)
        *bits = type == SEC_KT_RSA ? 2048 : 256;
    bool ok = type == SEC_KT_RSA ? *bits >= 1024 && *bits <= 4096 && *bits % 8 == 0
                                 : *bits == 192 || *bits == 256 || *bits == 384 || *bits == 521;
    if (!ok)
        sec_error(error, errSecParam, "inconsistent parameters for CDSA key generation");
    return ok;
}

/* The modern path's checks (Key SecKeyCreateRandomKey; 4.3 #1-3). */
static bool modern_params(bool have_type, int64_t type, bool have_bits, int64_t bits, bool token, CFErrorRef *error)
{
    if (!have_type || (type != SEC_KT_RSA && type != SEC_KT_EC))
        return false;       /* 4.3 #3: NULL with *error left NULL (UNCONFIRMED at runtime) */
    bool ok = have_bits && (type == SEC_KT_RSA ? bits >= 512 && bits <= 8192 : curve_by_bits((int)bits) != NULL);
    if (token && (type != SEC_KT_EC || bits != 256))
        ok = false;         /* 4.5: the Secure Enclave makes P-256 keys only (error code UNCONFIRMED) */
    if (!ok) {
        sec_error(error, errSecParam, "failed to generate key");
        return false;
    }
    if (token && !has_access_groups()) {
        /* F-SE: an unentitled process cannot use the Secure Enclave. */
        sec_error(error, errSecMissingEntitlement, "failed to generate asymmetric keypair");
        return false;
    }
    return true;
}

/* The key type and size of SecKeyCreateRandomKey's parameters, checked as
 * the path the key takes (CDSA or modern) checks them. */
static bool key_params(CFDictionaryRef parameters, CFDictionaryRef privp, CFDictionaryRef pubp, bool modern,
                       bool token, int64_t *type, int64_t *bits, CFErrorRef *error)
{
    if (current_profile() == PROFILE_MACOS && wants_modern(privp) != wants_modern(pubp)) {
        sec_error(error, errSecParam, "inconsistent key parameters, cannot target neither modern nor legacy key "
                  "implementation");
        return false;
    }
    CFTypeRef tv = sec_dict_find(parameters, "type"), bv = sec_dict_find(parameters, "bsiz");
    bool have_type = read_integer(tv, type), have_bits = read_integer(bv, bits);
    return modern ? modern_params(have_type, *type, have_bits, *bits, token, error)
                  : cdsa_params(have_type, *type, have_bits, bits, error);
}

/* A new key pair: its private SecKey (the public half is derived from it). */
static CFTypeRef new_key_pair(const sec_crypto_api *c, int64_t type, int64_t bits, bool token, bool modern,
                              CFErrorRef *error)
{
    EVP_PKEY *pkey = generate(c, (int)type, (int)bits);
    if (pkey == NULL) {
        sec_error(error, errSecParam, "failed to generate key");
        return NULL;
    }
    sec_keymat *k = keymat_new(pkey, true);
    if (!keymat_export(c, k)) {
        keymat_free(k);
        sec_error(error, errSecParam, "failed to generate key");
        return NULL;
    }
    k->token = token;
    k->cdsa = !modern;
    return key_object(k);
}

/* 4.3 #5, #6, #10: which keys of a new pair are stored; 4.3 #9: a public
 * key already stored stays stored when the private key fails. */
static bool store_key_pair(CFDictionaryRef privp, CFDictionaryRef pubp, CFTypeRef key, bool modern,
                           CFErrorRef *error)
{
    CFTypeRef pp = sec_dict_find(pubp, "perm"), sp = sec_dict_find(privp, "perm");
    bool store_pub = truthy_bool(pp);
    bool store_priv = sp != NULL && secsim_is(sp, SECSIM_TYPE_BOOLEAN) ? truthy_bool(sp)
                                                                      : sec_dict_find(privp, "tkid") != NULL;
    OSStatus st = errSecSuccess;
    CFTypeRef pub = NULL;
    if (store_pub) {
        pub = SecKeyCopyPublicKey((SecKeyRef)key);
        st = pub ? store_key(pubp, pub, modern, true) : errSecParam;
    }
    if (st == errSecSuccess && store_priv)
        st = store_key(privp, key, modern, false);
    if (st != errSecSuccess) {
        CFStringRef m = SecCopyErrorMessageString(st, NULL);
        sec_error(error, st, "failed to add key to keychain: %s", secsim_string_utf8(m, NULL));
        CFRelease(m);
    }
    if (pub != NULL)
        CFRelease(pub);
    return st == errSecSuccess;
}

SECSIM_EXPORT SecKeyRef SecKeyCreateRandomKey(CFDictionaryRef parameters, CFErrorRef *error)
{
    secsim_check(parameters, SECSIM_TYPE_DICTIONARY, "SecKeyCreateRandomKey");
    const sec_crypto_api *c = sec_crypto_or_error(error);
    if (c == NULL)
        return NULL;
    CFMutableDictionaryRef privp = merged(parameters, "private"), pubp = merged(parameters, "public");
    SecKeyRef result = NULL;
    bool modern = current_profile() == PROFILE_IOS || wants_modern(privp) || wants_modern(pubp);
    bool token = str_equals(sec_dict_find(privp, "tkid"), "com.apple.setoken");
    int64_t type = 0, bits = 0;
    if (key_params(parameters, privp, pubp, modern, token, &type, &bits, error)) {
        CFTypeRef key = new_key_pair(c, type, bits, token, modern, error);
        if (key != NULL && store_key_pair(privp, pubp, key, modern, error))
            result = (SecKeyRef)key;
        else if (key != NULL)
            CFRelease(key);
    }
    CFRelease(privp);
    CFRelease(pubp);
    return result;
}

/* ---- operations ---- */

static bool digest(const sec_crypto_api *c, int h, const uint8_t *p, size_t n, uint8_t *out)
{
    unsigned int len = 64;
    return c->EVP_Digest(p, n, out, &len, hash_md(c, h), NULL) == 1;
}

static CFDataRef data_new(const uint8_t *p, size_t n)
{
    return CFDataCreate(NULL, p, (CFIndex)n);
}

/* DER SEQUENCE { INTEGER r, INTEGER s } <-> r||s padded to `block` bytes each. */
static bool der_to_rs(const uint8_t *p, size_t n, size_t block, uint8_t *out)
{
    size_t h;
    if (n < 2 || p[0] != 0x30 || der_tlv(p, n, &h) != n)
        return false;
    size_t off = h;
    memset(out, 0, 2 * block);
    for (int i = 0; i < 2; i++) {
        size_t ih;
        size_t len = off < n && p[off] == 0x02 ? der_tlv(p + off, n - off, &ih) : 0;
        if (len == 0)
            return false;
        const uint8_t *v = p + off + ih;
        size_t vn = len - ih;
        while (vn > 0 && *v == 0) {
            v++;
            vn--;
        }
        if (vn > block)
            return false;
        memcpy(out + i * block + (block - vn), v, vn);
        off += len;
    }
    return off == n;
}

static size_t der_put_len(uint8_t *p, size_t len)
{
    if (len < 0x80) {
        p[0] = (uint8_t)len;
        return 1;
    }
    if (len < 0x100) {
        p[0] = 0x81;
        p[1] = (uint8_t)len;
        return 2;
    }
    p[0] = 0x82;
    p[1] = (uint8_t)(len >> 8);
    p[2] = (uint8_t)len;
    return 3;
}

static size_t rs_to_der(const uint8_t *rs, size_t block, uint8_t *out)
{
    uint8_t ints[2][80];
    size_t lens[2];
    for (int i = 0; i < 2; i++) {
        const uint8_t *v = rs + i * block;
        size_t vn = block;
        while (vn > 1 && *v == 0) {
            v++;
            vn--;
        }
        size_t o = 0;
        ints[i][o++] = 0x02;
        bool pad = (*v & 0x80) != 0;
        o += der_put_len(ints[i] + o, vn + pad);
        if (pad)
            ints[i][o++] = 0;
        memcpy(ints[i] + o, v, vn);
        lens[i] = o + vn;
    }
    size_t o = 0;
    out[o++] = 0x30;
    o += der_put_len(out + o, lens[0] + lens[1]);
    memcpy(out + o, ints[0], lens[0]);
    memcpy(out + o + lens[0], ints[1], lens[1]);
    return o + lens[0] + lens[1];
}

static EVP_PKEY_CTX *op_ctx(const sec_crypto_api *c, const sec_keymat *k, int (*init)(EVP_PKEY_CTX *))
{
    EVP_PKEY_CTX *ctx = c->EVP_PKEY_CTX_new(k->pkey, NULL);
    if (ctx != NULL && init(ctx) != 1) {
        c->EVP_PKEY_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

/* RSA padding parameters of a signature algorithm on a context. */
static bool rsa_sig_params(const sec_crypto_api *c, EVP_PKEY_CTX *ctx, const keyalg *a)
{
    if (a->kind == AK_RSA_SIG_RAW)
        return c->EVP_PKEY_CTX_set_rsa_padding(ctx, SEC_RSA_NO_PADDING) == 1;
    if (a->kind == AK_RSA_SIG_PKCS1)
        return c->EVP_PKEY_CTX_set_rsa_padding(ctx, SEC_RSA_PKCS1_PADDING) == 1 &&
               (a->hash == H_NONE || c->EVP_PKEY_CTX_set_signature_md(ctx, hash_md(c, a->hash)) == 1);
    /* PSS: hash = MGF1 hash, salt length = hash length (3.3). */
    return c->EVP_PKEY_CTX_set_rsa_padding(ctx, SEC_RSA_PKCS1_PSS_PADDING) == 1 &&
           c->EVP_PKEY_CTX_set_signature_md(ctx, hash_md(c, a->hash)) == 1 &&
           c->EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, hash_md(c, a->hash)) == 1 &&
           c->EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int)hash_len(a->hash)) == 1;
}

static bool sig_family_fits(const keyalg *a, const sec_keymat *k)
{
    if (k->type == SEC_KT_EC)
        return a->kind == AK_ECDSA;
    return a->kind == AK_RSA_SIG_RAW || a->kind == AK_RSA_SIG_PKCS1 || a->kind == AK_RSA_SIG_PSS;
}

/* Input of a signature operation after the message hash, in `buf`;
 * false with the error set. */
static bool sig_input(const sec_crypto_api *c, const keyalg *a, const sec_keymat *k, const uint8_t **p, size_t *n,
                      uint8_t *buf, CFErrorRef *error)
{
    if (a->message) {
        digest(c, a->hash, *p, *n, buf);
        *p = buf;
        *n = hash_len(a->hash);
    } else if (a->kind == AK_ECDSA && a->hash != H_NONE && *n != hash_len(a->hash)) {
        sec_error(error, errSecParam, "bad digest size for signing with algorithm %s", a->name);
        return false;
    }
    if (a->kind == AK_RSA_SIG_PSS && (size_t)k->bits < 16 * hash_len(a->hash) + 9) {
        sec_error(error, errSecParam, "algorithm %s incompatible with %dbit RSA key", a->name, k->bits);
        return false;
    }
    if (a->kind == AK_RSA_SIG_RAW) {
        if (*n > k->block) {
            sec_error(error, errSecParam, "%s: digest too big", a->name);
            return false;
        }
        uint8_t *padded = buf + 64;
        memset(padded, 0, k->block - *n);
        memcpy(padded + (k->block - *n), *p, *n);
        *p = padded;
        *n = k->block;
    }
    return true;
}

SECSIM_EXPORT CFDataRef SecKeyCreateSignature(SecKeyRef key, SecKeyAlgorithm algorithm, CFDataRef dataToSign,
                                              CFErrorRef *error)
{
    const sec_crypto_api *c;
    const sec_keymat *k = operand(key, "SecKeyCreateSignature", &c, error);
    if (dataToSign == NULL)
        secsim_fatal("SecKeyCreateSignature: NULL dataToSign (Apple raises NSInvalidArgumentException)");
    secsim_check(dataToSign, SECSIM_TYPE_DATA, "SecKeyCreateSignature");
    if (k == NULL)
        return NULL;
    keyalg a;
    if (!parse_algorithm(algorithm, &a) || !sig_family_fits(&a, k) || !k->priv) {
        unsupported(&a, k, key, error);
        return NULL;
    }
    const uint8_t *p = CFDataGetBytePtr(dataToSign);
    size_t n = (size_t)CFDataGetLength(dataToSign);
    uint8_t *buf = sec_xmalloc(64 + k->block + 16);
    CFDataRef out = NULL;
    if (!sig_input(c, &a, k, &p, &n, buf, error))
        goto done;
    EVP_PKEY_CTX *ctx = op_ctx(c, k, c->EVP_PKEY_sign_init);
    size_t siglen = 0;
    bool ok = ctx != NULL && (a.kind == AK_ECDSA || rsa_sig_params(c, ctx, &a)) &&
              c->EVP_PKEY_sign(ctx, NULL, &siglen, p, n) == 1;
    uint8_t *sig = ok ? sec_xmalloc(siglen + 1) : NULL;
    ok = ok && c->EVP_PKEY_sign(ctx, sig, &siglen, p, n) == 1;
    if (ctx != NULL)
        c->EVP_PKEY_CTX_free(ctx);
    c->ERR_clear_error();
    if (!ok) {
        sec_error(error, errSecParam, "%s: signing failed (input not valid for the algorithm)", a.name);
    } else if (a.rfc4754) {
        uint8_t rs[2 * 66];
        if (der_to_rs(sig, siglen, k->block, rs))
            out = data_new(rs, 2 * k->block);
        else
            sec_error(error, errSecParam, "%s: signing failed", a.name);
    } else if (a.kind != AK_ECDSA && siglen < k->block) {
        uint8_t *full = sec_xmalloc(k->block);    /* always block-size bytes (3.3) */
        memset(full, 0, k->block - siglen);
        memcpy(full + k->block - siglen, sig, siglen);
        out = data_new(full, k->block);
        free(full);
    } else {
        out = data_new(sig, siglen);
    }
    free(sig);
done:
    free(buf);
    return out;
}

/* 3.3: the raw RSA "signature" is checked by a public-key "decryption";
 * leading zeros stripped, the rest must equal signedData. */
static Boolean verify_raw(const sec_crypto_api *c, const sec_keymat *k, const keyalg *a, CFDataRef signedData,
                          CFDataRef signature, uint8_t *buf, const char *fail, CFErrorRef *error)
{
    const uint8_t *p = CFDataGetBytePtr(signedData);
    size_t n = (size_t)CFDataGetLength(signedData);
    const uint8_t *s = CFDataGetBytePtr(signature);
    size_t sn = (size_t)CFDataGetLength(signature);
    if (n > k->block) {
        sec_error(error, errSecParam, "%s: digest too big", a->name);
        return 0;
    }
    EVP_PKEY_CTX *ctx = op_ctx(c, k, c->EVP_PKEY_verify_recover_init);
    uint8_t *rec = sec_xmalloc(k->block + 1);
    size_t rn = k->block;
    bool ok = ctx != NULL && sn <= k->block && rsa_sig_params(c, ctx, a);
    uint8_t *padded = buf + 64;
    if (ok) {
        memset(padded, 0, k->block - sn);
        memcpy(padded + k->block - sn, s, sn);
        ok = c->EVP_PKEY_verify_recover(ctx, rec, &rn, padded, k->block) == 1;
    }
    size_t z = 0;
    while (ok && z < rn && rec[z] == 0)
        z++;
    ok = ok && bytes_eq(rec + z, rn - z, p, n);
    free(rec);
    if (ctx != NULL)
        c->EVP_PKEY_CTX_free(ctx);
    c->ERR_clear_error();
    if (!ok)
        sec_error(error, errSecVerifyFailed, "%s", fail);
    return ok ? 1 : 0;
}

/* Every other signature algorithm: the digest (of the message, when the
 * algorithm hashes it) checked by EVP_PKEY_verify. */
static Boolean verify_digest(const sec_crypto_api *c, const sec_keymat *k, const keyalg *a, CFDataRef signedData,
                             CFDataRef signature, uint8_t *buf, const char *fail, CFErrorRef *error)
{
    const uint8_t *p = CFDataGetBytePtr(signedData);
    size_t n = (size_t)CFDataGetLength(signedData);
    const uint8_t *s = CFDataGetBytePtr(signature);
    size_t sn = (size_t)CFDataGetLength(signature);
    uint8_t der[160];
    if (!sig_input(c, a, k, &p, &n, buf, error))
        return 0;
    if (a->rfc4754) {
        if (sn != 2 * k->block) {
            sec_error(error, errSecVerifyFailed, "Wrong ECDSA RFC4754 signature");
            return 0;
        }
        sn = rs_to_der(s, k->block, der);
        s = der;
    }
    EVP_PKEY_CTX *ctx = op_ctx(c, k, c->EVP_PKEY_verify_init);
    int r = ctx != NULL && (a->kind == AK_ECDSA || rsa_sig_params(c, ctx, a)) ? c->EVP_PKEY_verify(ctx, s, sn, p, n)
                                                                              : -1;
    if (ctx != NULL)
        c->EVP_PKEY_CTX_free(ctx);
    c->ERR_clear_error();
    if (r == 1)
        return 1;
    if (r < 0 && k->type == SEC_KT_EC)
        sec_error(error, errSecVerifyFailed, "EC signature verification failed (ccerr -7)");
    else
        sec_error(error, errSecVerifyFailed, "%s", fail);
    return 0;
}

SECSIM_EXPORT Boolean SecKeyVerifySignature(SecKeyRef key, SecKeyAlgorithm algorithm, CFDataRef signedData,
                                            CFDataRef signature, CFErrorRef *error)
{
    const sec_crypto_api *c;
    const sec_keymat *k = operand(key, "SecKeyVerifySignature", &c, error);
    if (signedData == NULL || signature == NULL)
        secsim_fatal("SecKeyVerifySignature: NULL data or signature (Apple raises NSInvalidArgumentException)");
    secsim_check(signedData, SECSIM_TYPE_DATA, "SecKeyVerifySignature");
    secsim_check(signature, SECSIM_TYPE_DATA, "SecKeyVerifySignature");
    if (k == NULL)
        return 0;
    keyalg a;
    if (!parse_algorithm(algorithm, &a) || !sig_family_fits(&a, k) || (k->priv && k->type == SEC_KT_EC)) {
        unsupported(&a, k, key, error);                   /* 5.2: EC private keys cannot verify */
        return 0;
    }
    const char *fail = k->type == SEC_KT_EC ? "EC signature verification failed, no match"
                                            : "RSA signature verification failed, no match";
    if (k->priv) {
        /* 5.2: an RSA private key "verifies" by a raw private-key operation,
         * which never matches (code UNCONFIRMED; errSecVerifyFailed chosen). */
        sec_error(error, errSecVerifyFailed, "%s", fail);
        return 0;
    }
    uint8_t *buf = sec_xmalloc(64 + k->block + 16);
    Boolean result = a.kind == AK_RSA_SIG_RAW ? verify_raw(c, k, &a, signedData, signature, buf, fail, error)
                                              : verify_digest(c, k, &a, signedData, signature, buf, fail, error);
    free(buf);
    return result;
}

/* AES-GCM with a 16-byte IV and a 16-byte tag (3.4, 3.5). */
static bool aes_gcm(const sec_crypto_api *c, bool enc, const uint8_t *key, size_t klen, const uint8_t iv[16],
                    const uint8_t *aad, size_t naad, const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[16])
{
    if (n > INT_MAX || naad > INT_MAX)
        return false;
    EVP_CIPHER_CTX *ctx = c->EVP_CIPHER_CTX_new();
    int outl = 0, fin = 0;
    bool ok = ctx != NULL &&
              c->EVP_CipherInit_ex(ctx, klen == 32 ? c->EVP_aes_256_gcm() : c->EVP_aes_128_gcm(), NULL, NULL, NULL,
                                   enc) == 1 &&
              c->EVP_CIPHER_CTX_ctrl(ctx, SEC_EVP_CTRL_GCM_SET_IVLEN, 16, NULL) == 1 &&
              c->EVP_CipherInit_ex(ctx, NULL, NULL, key, iv, enc) == 1;
    if (ok && naad > 0)
        ok = c->EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)naad) == 1;
    if (ok && n > 0)
        ok = c->EVP_CipherUpdate(ctx, out, &outl, in, (int)n) == 1;
    if (ok && !enc)
        ok = c->EVP_CIPHER_CTX_ctrl(ctx, SEC_EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
    if (ok)
        ok = c->EVP_CipherFinal_ex(ctx, out + (n > 0 ? outl : 0), &fin) == 1;
    if (ok && enc)
        ok = c->EVP_CIPHER_CTX_ctrl(ctx, SEC_EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    if (ctx != NULL)
        c->EVP_CIPHER_CTX_free(ctx);
    c->ERR_clear_error();
    return ok;
}

/* ANSI X9.63 KDF with SHA-n (3.5 #5, 3.6). */
static void x963_kdf(const sec_crypto_api *c, int h, const uint8_t *z, size_t nz, const uint8_t *info, size_t ninfo,
                     uint8_t *out, size_t nout)
{
    size_t hl = hash_len(h);
    uint8_t *in = sec_xmalloc(nz + 4 + ninfo);
    memcpy(in, z, nz);
    if (ninfo)
        memcpy(in + nz + 4, info, ninfo);
    uint8_t block[64];
    for (uint32_t counter = 1, done = 0; done < nout; counter++) {
        in[nz] = (uint8_t)(counter >> 24);
        in[nz + 1] = (uint8_t)(counter >> 16);
        in[nz + 2] = (uint8_t)(counter >> 8);
        in[nz + 3] = (uint8_t)counter;
        digest(c, h, in, nz + 4 + ninfo, block);
        size_t take = nout - done < hl ? nout - done : hl;
        memcpy(out + done, block, take);
        done += (uint32_t)take;
    }
    memset(block, 0, sizeof block);
    memset(in, 0, nz + 4 + ninfo);
    free(in);
}

/* ECDH x-coordinate (field bytes); false if it cannot be computed. */
static bool ecdh(const sec_crypto_api *c, EVP_PKEY *priv, EVP_PKEY *peer, uint8_t *out, size_t *n)
{
    EVP_PKEY_CTX *ctx = c->EVP_PKEY_CTX_new(priv, NULL);
    size_t len = *n;
    bool ok = ctx != NULL && c->EVP_PKEY_derive_init(ctx) == 1 && c->EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
              c->EVP_PKEY_derive(ctx, out, &len) == 1;
    if (ctx != NULL)
        c->EVP_PKEY_CTX_free(ctx);
    c->ERR_clear_error();
    *n = len;
    return ok;
}

/* RSA encryption / decryption with the padding of `a` (3.4). */
static bool rsa_crypt(const sec_crypto_api *c, const sec_keymat *k, const keyalg *a, bool enc, const uint8_t *in,
                      size_t n, uint8_t *out, size_t *outn)
{
    EVP_PKEY_CTX *ctx = op_ctx(c, k, enc ? c->EVP_PKEY_encrypt_init : c->EVP_PKEY_decrypt_init);
    bool ok = ctx != NULL;
    if (ok && a->kind == AK_RSA_ENC_RAW)
        ok = c->EVP_PKEY_CTX_set_rsa_padding(ctx, SEC_RSA_NO_PADDING) == 1;
    else if (ok && a->kind == AK_RSA_ENC_PKCS1)
        ok = c->EVP_PKEY_CTX_set_rsa_padding(ctx, SEC_RSA_PKCS1_PADDING) == 1;
    else if (ok)   /* OAEP: hash = MGF1 hash, empty label */
        ok = c->EVP_PKEY_CTX_set_rsa_padding(ctx, SEC_RSA_PKCS1_OAEP_PADDING) == 1 &&
             c->EVP_PKEY_CTX_set_rsa_oaep_md(ctx, hash_md(c, a->hash)) == 1 &&
             c->EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, hash_md(c, a->hash)) == 1;
    if (ok)
        ok = (enc ? c->EVP_PKEY_encrypt(ctx, out, outn, in, n) : c->EVP_PKEY_decrypt(ctx, out, outn, in, n)) == 1;
    if (ctx != NULL)
        c->EVP_PKEY_CTX_free(ctx);
    c->ERR_clear_error();
    return ok;
}

static bool enc_family_fits(const keyalg *a, const sec_keymat *k)
{
    if (k->type == SEC_KT_EC)
        return a->kind == AK_ECIES;
    if (a->kind == AK_RSA_ENC_OAEP || a->kind == AK_RSA_ENC_OAEP_GCM)
        return k->block >= 2 * hash_len(a->hash) + 2;     /* 3.4: too small a modulus: unsupported */
    return a->kind == AK_RSA_ENC_RAW || a->kind == AK_RSA_ENC_PKCS1;
}

static size_t gcm_key_len_ec(const sec_keymat *k)
{
    return ((k->npub - 1) / 2) * 8 > 256 ? 32 : 16;       /* 3.5 #4 */
}

/* ECIES key and IV from the shared secret (3.5 #5, #6). */
static void ecies_key_iv(const sec_crypto_api *c, const keyalg *a, const uint8_t *z, size_t nz, const uint8_t *e,
                         size_t ne, size_t klen, uint8_t *key, uint8_t iv[16])
{
    uint8_t out[48];
    x963_kdf(c, a->hash, z, nz, e, ne, out, klen + (a->variable_iv ? 16 : 0));
    memcpy(key, out, klen);
    if (a->variable_iv)
        memcpy(iv, out + klen, 16);
    else
        memset(iv, 0, 16);
    memset(out, 0, sizeof out);
}

/* 3.5: an ephemeral key on the same curve, E || AES-GCM(ciphertext) || tag. */
static CFDataRef encrypt_ecies(const sec_crypto_api *c, const sec_keymat *k, const keyalg *a, const uint8_t *p,
                               size_t n, CFErrorRef *error)
{
    EVP_PKEY *eph = generate(c, SEC_KT_EC, k->bits);
    sec_keymat *ek = eph ? keymat_new(eph, true) : NULL;
    if (ek == NULL || !keymat_export(c, ek)) {
        keymat_free(ek);
        sec_error(error, errSecParam, "ECIES: failed to generate the ephemeral key");
        return NULL;
    }
    CFDataRef result = NULL;
    uint8_t z[66], key_[32], iv[16];
    size_t nz = sizeof z;
    size_t klen = gcm_key_len_ec(k);
    uint8_t *out = sec_xmalloc(ek->npub + n + 16);
    if (ecdh(c, ek->pkey, k->pkey, z, &nz)) {
        ecies_key_iv(c, a, z, nz, ek->pub, ek->npub, klen, key_, iv);
        memcpy(out, ek->pub, ek->npub);
        if (aes_gcm(c, true, key_, klen, iv, NULL, 0, p, n, out + ek->npub, out + ek->npub + n))
            result = data_new(out, ek->npub + n + 16);
    }
    if (result == NULL)
        sec_error(error, errSecParam, "ECIES: Failed to aes-gcm encrypt data (err -1)");
    memset(z, 0, sizeof z);
    memset(key_, 0, sizeof key_);
    free(out);
    keymat_free(ek);
    return result;
}

/* 3.4: OAEP(session key) || AES-GCM(IV 0^16, AAD = PKCS#1 public key) || tag. */
static CFDataRef encrypt_rsa_gcm(const sec_crypto_api *c, const sec_keymat *k, const keyalg *a, const uint8_t *p,
                                 size_t n, CFErrorRef *error)
{
    CFDataRef result = NULL;
    size_t klen = k->bits >= 4096 ? 32 : 16;
    uint8_t session[32], iv[16] = { 0 };
    c->RAND_bytes(session, (int)klen);
    uint8_t *out = sec_xmalloc(k->block + n + 16);
    size_t wn = k->block;
    if (rsa_crypt(c, k, a, true, session, klen, out, &wn) && wn == k->block &&
        aes_gcm(c, true, session, klen, iv, k->pub, k->npub, p, n, out + k->block, out + k->block + n))
        result = data_new(out, k->block + n + 16);
    else
        sec_error(error, errSecParam, "RSAWRAP: Failed to aes-gcm encrypt data (err -1)");
    memset(session, 0, sizeof session);
    free(out);
    return result;
}

/* Raw, PKCS#1 v1.5 and OAEP: one RSA block, the input limited by the padding. */
static CFDataRef encrypt_rsa(const sec_crypto_api *c, const sec_keymat *k, const keyalg *a, const uint8_t *p,
                             size_t n, CFErrorRef *error)
{
    size_t hl = hash_len(a->hash);
    size_t limit = a->kind == AK_RSA_ENC_RAW ? k->block : a->kind == AK_RSA_ENC_PKCS1 ? k->block - 11
                                                                                      : k->block - 2 * hl - 2;
    if (n > limit) {
        if (a->kind == AK_RSA_ENC_RAW)
            sec_error(error, errSecParam, "RSApubkey wrong size of buffer to encrypt");
        else
            sec_error(error, errSecParam, "RSAencrypt wrong input size (err -23)");
        return NULL;
    }
    CFDataRef result = NULL;
    uint8_t *in = sec_xmalloc(k->block);
    if (a->kind == AK_RSA_ENC_RAW) {      /* left-padded to the block size */
        memset(in, 0, k->block - n);
        memcpy(in + k->block - n, p, n);
        p = in;
        n = k->block;
    }
    uint8_t *out = sec_xmalloc(k->block);
    size_t on = k->block;
    if (rsa_crypt(c, k, a, true, p, n, out, &on))
        result = data_new(out, on);
    else
        sec_error(error, errSecParam, "RSApubkey wrong size of buffer to encrypt");
    free(in);
    free(out);
    return result;
}

SECSIM_EXPORT CFDataRef SecKeyCreateEncryptedData(SecKeyRef key, SecKeyAlgorithm algorithm, CFDataRef plaintext,
                                                  CFErrorRef *error)
{
    const sec_crypto_api *c;
    const sec_keymat *k = operand(key, "SecKeyCreateEncryptedData", &c, error);
    if (plaintext == NULL)
        secsim_fatal("SecKeyCreateEncryptedData: NULL plaintext (Apple raises NSInvalidArgumentException)");
    secsim_check(plaintext, SECSIM_TYPE_DATA, "SecKeyCreateEncryptedData");
    if (k == NULL)
        return NULL;
    keyalg a;
    if (!parse_algorithm(algorithm, &a) || !enc_family_fits(&a, k) || k->priv) {
        unsupported(&a, k, key, error);
        return NULL;
    }
    const uint8_t *p = CFDataGetBytePtr(plaintext);
    size_t n = (size_t)CFDataGetLength(plaintext);
    if (a.kind == AK_ECIES)
        return encrypt_ecies(c, k, &a, p, n, error);
    if (a.kind == AK_RSA_ENC_OAEP_GCM)
        return encrypt_rsa_gcm(c, k, &a, p, n, error);
    return encrypt_rsa(c, k, &a, p, n, error);
}

/* 3.5: E || AES-GCM(ciphertext) || tag, E an uncompressed point on the key's curve. */
static CFDataRef decrypt_ecies(const sec_crypto_api *c, const sec_keymat *k, const keyalg *a, const uint8_t *p,
                               size_t n, CFErrorRef *error)
{
    size_t ne = 2 * k->block + 1;
    if (n < ne) {
        sec_error(error, errSecParam, "%s: too small input packet for ECIES decrypt", a->name);
        return NULL;
    }
    if (n - ne < 16) {
        sec_error(error, errSecParam, "ECIES: Input data too short");
        return NULL;
    }
    sec_keymat *ek = keymat_from_bytes(c, SEC_KT_EC, false, p, ne);
    if (ek == NULL || ek->bits != k->bits) {
        keymat_free(ek);
        sec_error(error, errSecParam, "ECIES: bad ephemeral public key");
        return NULL;
    }
    CFDataRef result = NULL;
    uint8_t z[66], key_[32], iv[16], tag[16];
    size_t nz = sizeof z, m = n - ne - 16;
    size_t klen = gcm_key_len_ec(k);
    uint8_t *out = sec_xmalloc(m + 1);
    memcpy(tag, p + n - 16, 16);
    if (ecdh(c, k->pkey, ek->pkey, z, &nz)) {
        ecies_key_iv(c, a, z, nz, p, ne, klen, key_, iv);
        if (aes_gcm(c, false, key_, klen, iv, NULL, 0, p + ne, m, out, tag))
            result = data_new(out, m);
    }
    if (result == NULL)
        sec_error(error, errSecParam, "ECIES: Failed to aes-gcm decrypt data (err -1)");
    memset(key_, 0, sizeof key_);
    memset(z, 0, sizeof z);
    memset(out, 0, m);
    free(out);
    keymat_free(ek);
    return result;
}

/* 3.4: OAEP(session key) || AES-GCM(IV 0^16, AAD = PKCS#1 public key) || tag. */
static CFDataRef decrypt_rsa_gcm(const sec_crypto_api *c, const sec_keymat *k, const keyalg *a, const uint8_t *p,
                                 size_t n, CFErrorRef *error)
{
    if (n < k->block + 16) {
        sec_error(error, errSecParam, "RSA-WRAP too short input data");
        return NULL;
    }
    uint8_t session[1024];
    size_t sn = sizeof session;
    size_t want = k->bits >= 4096 ? 32 : 16;
    if (!rsa_crypt(c, k, a, false, p, k->block, session, &sn) || sn != want) {
        sec_error(error, errSecParam, "RSA-WRAP bad ciphertext, unexpected session key size");
        return NULL;
    }
    CFDataRef result = NULL;
    size_t m = n - k->block - 16;
    uint8_t *out = sec_xmalloc(m + 1), tag[16], iv[16] = { 0 };
    memcpy(tag, p + n - 16, 16);
    if (aes_gcm(c, false, session, sn, iv, k->pub, k->npub, p + k->block, m, out, tag))
        result = data_new(out, m);
    else
        sec_error(error, errSecParam, "RSA-WRAP: Failed to aes-gcm decrypt data (err -1)");
    memset(session, 0, sizeof session);
    memset(out, 0, m);
    free(out);
    return result;
}

/* Raw, PKCS#1 v1.5 and OAEP: one RSA block. */
static CFDataRef decrypt_rsa(const sec_crypto_api *c, const sec_keymat *k, const keyalg *a, const uint8_t *p,
                             size_t n, CFErrorRef *error)
{
    if (n > k->block) {
        sec_error(error, errSecParam, "RSAdecrypt wrong input size (err -23)");
        return NULL;
    }
    CFDataRef result = NULL;
    uint8_t *in = sec_xmalloc(k->block), *out = sec_xmalloc(k->block);
    memset(in, 0, k->block - n);      /* a short ciphertext is a smaller number */
    memcpy(in + k->block - n, p, n);
    size_t on = k->block;
    if (rsa_crypt(c, k, a, false, in, k->block, out, &on))
        result = data_new(out, on);   /* raw: k bytes, leading zeros kept */
    else
        sec_error(error, errSecParam, "RSAdecrypt wrong input (err -27)");
    memset(out, 0, k->block);
    free(in);
    free(out);
    return result;
}

SECSIM_EXPORT CFDataRef SecKeyCreateDecryptedData(SecKeyRef key, SecKeyAlgorithm algorithm, CFDataRef ciphertext,
                                                  CFErrorRef *error)
{
    const sec_crypto_api *c;
    const sec_keymat *k = operand(key, "SecKeyCreateDecryptedData", &c, error);
    if (ciphertext == NULL)
        secsim_fatal("SecKeyCreateDecryptedData: NULL ciphertext (Apple raises NSInvalidArgumentException)");
    secsim_check(ciphertext, SECSIM_TYPE_DATA, "SecKeyCreateDecryptedData");
    if (k == NULL)
        return NULL;
    keyalg a;
    if (!parse_algorithm(algorithm, &a) || !enc_family_fits(&a, k) || !k->priv) {
        unsupported(&a, k, key, error);
        return NULL;
    }
    const uint8_t *p = CFDataGetBytePtr(ciphertext);
    size_t n = (size_t)CFDataGetLength(ciphertext);
    if (a.kind == AK_ECIES)
        return decrypt_ecies(c, k, &a, p, n, error);
    if (a.kind == AK_RSA_ENC_OAEP_GCM)
        return decrypt_rsa_gcm(c, k, &a, p, n, error);
    return decrypt_rsa(c, k, &a, p, n, error);
}

SECSIM_EXPORT CFDataRef SecKeyCopyKeyExchangeResult(SecKeyRef privateKey, SecKeyAlgorithm algorithm,
                                                    SecKeyRef publicKey, CFDictionaryRef parameters, CFErrorRef *error)
{
    const sec_crypto_api *c;
    const sec_keymat *k = operand(privateKey, "SecKeyCopyKeyExchangeResult", &c, error);
    if (publicKey == NULL)
        secsim_fatal("SecKeyCopyKeyExchangeResult: NULL publicKey (Apple raises NSInvalidArgumentException)");
    secsim_check(publicKey, sec_ref_type_key(), "SecKeyCopyKeyExchangeResult");
    if (k == NULL)
        return NULL;
    keyalg a;
    if (!parse_algorithm(algorithm, &a) || a.kind != AK_ECDH || k->type != SEC_KT_EC || !k->priv) {
        unsupported(&a, k, privateKey, error);
        return NULL;
    }
    int64_t requested = 0;
    CFTypeRef info = NULL;
    if (a.hash != H_NONE) {
        /* 3.6: RequestedSize is required, SharedInfo optional CFData.  Apple
         * dereferences `parameters`; NULL is reported as a missing size here. */
        CFTypeRef rs = parameters ? sec_dict_find(parameters, "requestedSize") : NULL;
        if (rs == NULL || !secsim_is(rs, SECSIM_TYPE_NUMBER) ||
            !CFNumberGetValue((CFNumberRef)rs, kCFNumberSInt64Type, &requested) || requested < 0 ||
            requested > (1 << 20)) {
            sec_error(error, errSecParam, "kSecKeyKeyExchangeParameterRequestedSize is missing");
            return NULL;
        }
        info = sec_dict_find(parameters, "sharedInfo");
        if (info != NULL && !secsim_is(info, SECSIM_TYPE_DATA)) {
            sec_error(error, errSecParam, "ECDHKeyExchange wrong sharedInfo type (must be CFData/NSData)");
            return NULL;
        }
    }
    /* 3.6: the peer's external representation picks its curve. */
    const sec_keymat *pk = sec_key_material(publicKey);
    sec_keymat *peer = pk ? keymat_from_bytes(c, SEC_KT_EC, false, pk->ext, pk->next) : NULL;
    if (peer == NULL) {
        sec_error(error, errSecParam, "ECpriv sharedsecret: bad public key");
        return NULL;
    }
    uint8_t z[66];
    size_t nz = sizeof z;
    CFDataRef result = NULL;
    if (peer->bits != k->bits || !ecdh(c, k->pkey, peer->pkey, z, &nz)) {
        sec_error(error, errSecDecode, "ECpriv failed to compute shared secret");
    } else if (a.hash == H_NONE) {
        result = data_new(z, nz);
    } else {
        uint8_t *out = sec_xmalloc((size_t)requested + 1);
        x963_kdf(c, a.hash, z, nz, info ? CFDataGetBytePtr(info) : NULL, info ? (size_t)CFDataGetLength(info) : 0,
                 out, (size_t)requested);
        result = data_new(out, (size_t)requested);
        memset(out, 0, (size_t)requested);
        free(out);
    }
    memset(z, 0, sizeof z);
    keymat_free(peer);
    return result;
}

SECSIM_EXPORT Boolean SecKeyIsAlgorithmSupported(SecKeyRef key, SecKeyOperationType operation,
                                                 SecKeyAlgorithm algorithm)
{
    const sec_crypto_api *c;
    const sec_keymat *k = operand(key, "SecKeyIsAlgorithmSupported", &c, NULL);
    keyalg a;
    if (k == NULL || !parse_algorithm(algorithm, &a))
        return 0;
    switch (operation) {
    case OP_SIGN:
        return k->priv && sig_family_fits(&a, k) &&
               !(a.kind == AK_RSA_SIG_PSS && (size_t)k->bits < 16 * hash_len(a.hash) + 9);
    case OP_VERIFY:
        return sig_family_fits(&a, k) && !(k->priv && k->type == SEC_KT_EC) &&
               !(a.kind == AK_RSA_SIG_PSS && (size_t)k->bits < 16 * hash_len(a.hash) + 9);
    case OP_ENCRYPT:
        return !k->priv && enc_family_fits(&a, k);
    case OP_DECRYPT:
        return k->priv && enc_family_fits(&a, k);
    case OP_EXCHANGE:
        return k->priv && k->type == SEC_KT_EC && a.kind == AK_ECDH;
    default:
        return 0;
    }
}
