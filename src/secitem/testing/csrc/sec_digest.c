/*
 * sec_digest.c - SHA-1 and the `sha1` attribute of data-protection items.
 *
 * SHA-1 (FIPS 180-4) written here from the standard, so that the emulator
 * still needs nothing but a C compiler and libc.  It is only used for the
 * item digest below; it is not a general-purpose crypto primitive.
 *
 * The `sha1` attribute (facts, "Apple's own SecItem regression tests"):
 * securityd adds it to the result dictionaries of a query that asks for
 * attributes and data together (SecItemDb.c handle_result; never with
 * attributes alone).  Its value is not a hash of the secret alone: it is
 * SecDbKeychainItemCopySHA1 (SecDbKeychainItem.m), the SHA-1 of the DER
 * property list (OSX/utilities/der_plist.c) of every attribute of the item
 * whose schema flags include H ("part of item SHA1 hash", SecItemSchema.c):
 * for the keychain classes that is every stored attribute except `musr`,
 * `accc` and `sha1` itself, `sysb` with its default 0, and `v_Data` when the
 * item has data.  The DER rules followed (der_plist.c and friends):
 *   dictionary  SET (0x31) of SEQUENCE (0x30) { key, value }, the encoded
 *               pairs sorted by memcmp then length (CFDataCompareDERData)
 *   string      UTF8String (0x0C)        data     OCTET STRING (0x04)
 *   number      INTEGER (0x02), minimal two's complement of a long long
 *   boolean     BOOLEAN (0x01) 0xFF / 0x00
 *   date        GeneralizedTime (0x18) "YYYYMMDDhhmmss[.fraction]Z", the
 *               fraction being the digits after the point of the shortest
 *               decimal that round-trips the CFAbsoluteTime (__dtoa mode 0)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sec_private.h"

/* ------------------------------------------------------------------ */
/* SHA-1 */

static uint32_t rol32(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32u - n));
}

static void sha1_block(uint32_t h[5], const uint8_t b[64])
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 | (uint32_t)b[4 * i + 2] << 8 |
               (uint32_t)b[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (bb & c) | (~bb & d);
            k = 0x5A827999u;
        } else if (i < 40) {
            f = bb ^ c ^ d;
            k = 0x6ED9EBA1u;
        } else if (i < 60) {
            f = (bb & c) | (bb & d) | (c & d);
            k = 0x8F1BBCDCu;
        } else {
            f = bb ^ c ^ d;
            k = 0xCA62C1D6u;
        }
        uint32_t t = rol32(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol32(bb, 30);
        bb = a;
        a = t;
    }
    h[0] += a;
    h[1] += bb;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void sec_sha1(const void *data, size_t n, uint8_t out[20])
{
    uint32_t h[5] = { 0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u };
    const uint8_t *p = data;
    size_t left = n;
    while (left >= 64) {
        sha1_block(h, p);
        p += 64;
        left -= 64;
    }
    uint8_t last[128];
    memset(last, 0, sizeof last);
    if (left)
        memcpy(last, p, left);
    last[left] = 0x80;
    size_t total = left + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)n * 8u;
    for (int i = 0; i < 8; i++)
        last[total - 1 - (size_t)i] = (uint8_t)(bits >> (8 * i));
    sha1_block(h, last);
    if (total == 128)
        sha1_block(h, last + 64);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

/* ------------------------------------------------------------------ */
/* DER property-list encoding of the hashed attributes */

typedef struct dbuf {
    uint8_t *p;
    size_t n, cap;
} dbuf;

static void db_put(dbuf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n)
            cap *= 2;
        b->p = sec_xrealloc(b->p, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void db_tl(dbuf *b, uint8_t tag, size_t len)
{
    uint8_t hdr[10];
    size_t k = 0;
    hdr[k++] = tag;
    if (len < 0x80) {
        hdr[k++] = (uint8_t)len;
    } else {
        uint8_t tmp[8];
        size_t m = 0;
        for (size_t v = len; v; v >>= 8)
            tmp[m++] = (uint8_t)v;
        hdr[k++] = (uint8_t)(0x80u | m);
        while (m)
            hdr[k++] = tmp[--m];
    }
    db_put(b, hdr, k);
}

static void db_tlv(dbuf *b, uint8_t tag, const void *p, size_t n)
{
    db_tl(b, tag, n);
    db_put(b, p, n);
}

/* der_number.c bytes_when_encoded, byte for byte. */
static void der_integer(dbuf *b, long long value)
{
    uint64_t u = (uint64_t)value;
    size_t nbytes = 8;
    uint8_t first = (uint8_t)(u >> 56);
    if (first == 0xFF || first == 0x00) {
        do {
            --nbytes;
        } while (nbytes > 1 && (uint8_t)(u >> (8 * (nbytes - 1))) == first);
        if ((first & 0x80) != ((uint8_t)(u >> (8 * (nbytes - 1))) & 0x80))
            nbytes += 1;
    }
    uint8_t out[9];
    for (size_t i = 0; i < nbytes; i++)
        out[nbytes - 1 - i] = i < 8 ? (uint8_t)(u >> (8 * i)) : (value < 0 ? 0xFF : 0x00);
    db_tlv(b, 0x02, out, nbytes);
}

/* Shortest decimal digits that round-trip `at` (as __dtoa mode 0):
 * digits without sign or point, and the position of the point. */
static void shortest_digits(double at, char *digits, size_t cap, int *dotoff)
{
    char buf[64];
    double a = fabs(at);
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, a);
        if (strtod(buf, NULL) == a)
            break;
    }
    /* buf is "d.ddddde[+-]xx" (or "de[+-]xx") */
    size_t k = 0;
    const char *s = buf;
    for (; *s && *s != 'e'; s++)
        if (*s != '.' && k + 1 < cap)
            digits[k++] = *s;
    digits[k] = '\0';
    while (k > 1 && digits[k - 1] == '0')
        digits[--k] = '\0';                 /* dtoa drops trailing zeros */
    int exp10 = *s == 'e' ? atoi(s + 1) : 0;
    *dotoff = exp10 + 1;
    if (a == 0) {
        digits[0] = '0';
        digits[1] = '\0';
        *dotoff = 1;
    }
}

/* der_date.c der_encode_generalizedtime_body: calendar fields of the
 * floored time in UTC, then the fraction digits of the original value. */
static bool der_date(dbuf *b, double at)
{
    double fl = floor(at);
    if (!(fl > -1e15 && fl < 1e15))
        return false;
    time_t t = (time_t)(fl + 978307200.0);  /* kCFAbsoluteTimeIntervalSince1970 */
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        return false;
    int year = tm.tm_year + 1900;
    if (year < 0 || year > 9999)
        return false;
    char body[64];
    int n = snprintf(body, sizeof body, "%04d%02d%02d%02d%02d%02d", year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
    char digits[32];
    int dotoff;
    shortest_digits(at, digits, sizeof digits, &dotoff);
    int len = (int)strlen(digits);
    char frac[48];
    int fn = 0;
    if (at != 0 && len > dotoff) {
        if (dotoff < 0) {
            for (int i = 0; i < -dotoff; i++)
                frac[fn++] = '0';
            for (int i = 0; i < len; i++)
                frac[fn++] = digits[i];
        } else {
            for (int i = dotoff; i < len; i++)
                frac[fn++] = digits[i];
        }
        if (at < 0.0) {
            /* 1 - fraction in ASCII, as der_date.c computes it */
            int begin = dotoff < 0 ? -dotoff : 0;   /* the digits __dtoa produced */
            if (dotoff < 0) {
                for (int i = 0; i < begin; i++)
                    frac[i] = '9';
            }
            frac[fn - 1] = (char)(('9' + 1) - (frac[fn - 1] - '0'));
            for (int i = fn - 2; i >= begin; i--)
                frac[i] = (char)('9' - (frac[i] - '0'));
        }
    }
    char all[128];
    int m = snprintf(all, sizeof all, "%.*s%s%.*sZ", n, body, fn ? "." : "", fn, frac);
    db_tlv(b, 0x18, all, (size_t)m);
    return true;
}

/* One stored value as a DER plist object; false if der_plist cannot
 * encode it (a number with a fraction, an access control). */
static bool der_value(dbuf *b, const sval *v)
{
    switch (v->tag) {
    case SV_STR:
        db_tlv(b, 0x0C, v->p, v->n);
        return true;
    case SV_DATA:
        db_tlv(b, 0x04, v->p, v->n);
        return true;
    case SV_INT:
        der_integer(b, (long long)v->i);
        return true;
    case SV_DBL:
        if (v->d != floor(v->d) || !(v->d >= -9.2e18 && v->d <= 9.2e18))
            return false;               /* CFNumberGetValue(LongLong) is lossy */
        der_integer(b, (long long)v->d);
        return true;
    case SV_BOOL: {
        uint8_t x = v->i ? 0xFF : 0x00;
        db_tlv(b, 0x01, &x, 1);
        return true;
    }
    case SV_DATE:
        return der_date(b, v->d);
    default:
        return false;
    }
}

typedef struct dpair {
    uint8_t *p;
    size_t n;
} dpair;

static int cmp_dpair(const void *x, const void *y)
{
    const dpair *a = x, *b = y;
    size_t m = a->n < b->n ? a->n : b->n;
    int c = memcmp(a->p, b->p, m);
    if (c)
        return c;
    return a->n < b->n ? -1 : a->n > b->n;
}

static bool add_pair(dpair *pairs, size_t *np, const char *key, const sval *v)
{
    dbuf val = { NULL, 0, 0 };
    if (!der_value(&val, v)) {
        free(val.p);
        return false;
    }
    dbuf kv = { NULL, 0, 0 };
    size_t klen = strlen(key);
    size_t body = 2 + klen + val.n;     /* a key is at most 6 bytes: one length byte */
    db_tl(&kv, 0x30, body);
    db_tlv(&kv, 0x0C, key, klen);
    db_put(&kv, val.p, val.n);
    free(val.p);
    pairs[*np].p = kv.p;
    pairs[*np].n = kv.n;
    (*np)++;
    return true;
}

/* Attributes outside the item hash (no H flag in SecItemSchema.c). */
static bool hashed(const char *name)
{
    return strcmp(name, "musr") != 0 && strcmp(name, "accc") != 0 && strcmp(name, "sha1") != 0;
}

bool sec_item_sha1(const sitem *it, uint8_t out[20])
{
    size_t cap = it->nattrs + 2;
    dpair *pairs = sec_xmalloc(cap * sizeof *pairs);
    size_t np = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < it->nattrs; i++)
        if (hashed(it->attrs[i].key))
            ok = add_pair(pairs, &np, it->attrs[i].key, &it->attrs[i].v);
    if (ok && item_get(it, "sysb") == NULL) {
        sval zero = sval_int(0);                  /* sysb: default 0, hashed */
        ok = add_pair(pairs, &np, "sysb", &zero);
    }
    if (ok && it->data != NULL) {
        sval d = { .tag = SV_DATA, .p = it->data, .n = it->dlen };
        ok = add_pair(pairs, &np, "v_Data", &d);
    }
    if (ok) {
        qsort(pairs, np, sizeof *pairs, cmp_dpair);
        size_t body = 0;
        for (size_t i = 0; i < np; i++)
            body += pairs[i].n;
        dbuf der = { NULL, 0, 0 };
        db_tl(&der, 0x31, body);
        for (size_t i = 0; i < np; i++)
            db_put(&der, pairs[i].p, pairs[i].n);
        sec_sha1(der.p, der.n, out);
        free(der.p);
    }
    for (size_t i = 0; i < np; i++)
        free(pairs[i].p);
    free(pairs);
    return ok;
}
