/*
 * sec_value.c - the plain-C item model, the attribute schema and the value
 * conversions of both keychain implementations.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sec_private.h"

const char *const sec_class_names[CLS_COUNT] = { "genp", "inet", "cert", "keys", "idnt" };

int sec_class_from_name(const char *p, size_t n)
{
    if (n != 4)
        return -1;
    for (int i = 0; i < CLS_COUNT; i++)
        if (memcmp(sec_class_names[i], p, 4) == 0)
            return i;
    return -1;
}

/* ------------------------------------------------------------------ */
/* memory */

void *sec_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        secsim_fatal("out of memory");
    return p;
}

void *sec_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        secsim_fatal("out of memory");
    return q;
}

uint8_t *sec_memdup(const void *p, size_t n)
{
    uint8_t *q = sec_xmalloc(n + 1);
    if (n)
        memcpy(q, p, n);
    q[n] = 0;
    return q;
}

/* ------------------------------------------------------------------ */
/* tagged values */

void sval_free(sval *v)
{
    free(v->p);
    memset(v, 0, sizeof *v);
}

sval sval_copy(const sval *v)
{
    sval c = *v;
    if (v->p != NULL)
        c.p = sec_memdup(v->p, v->n);
    return c;
}

/* A value of tag SV_STR or SV_DATA holding a copy of the bytes. */
static sval sval_bytes_copy(uint8_t tag, const void *p, size_t n)
{
    sval v = { 0 };
    v.tag = tag;
    v.p = sec_memdup(p, n);
    v.n = n;
    return v;
}

sval sval_str(const char *p, size_t n)
{
    return sval_bytes_copy(SV_STR, p, n);
}

sval sval_data(const void *p, size_t n)
{
    return sval_bytes_copy(SV_DATA, p, n);
}

sval sval_int(int64_t i)
{
    sval v = { 0 };
    v.tag = SV_INT;
    v.i = i;
    return v;
}

sval sval_date(double d)
{
    sval v = { 0 };
    v.tag = SV_DATE;
    v.d = d;
    return v;
}

const uint8_t *sval_bytes(const sval *v, uint8_t tmp[8], size_t *n)
{
    int32_t i32;
    switch (v->tag) {
    case SV_STR:
    case SV_DATA:
    case SV_ACCC:
        *n = v->n;
        return v->p ? v->p : tmp;
    case SV_INT:
    case SV_BOOL:
        i32 = (int32_t)v->i;
        memcpy(tmp, &i32, 4);
        *n = 4;
        return tmp;
    case SV_DBL:
        i32 = (v->d >= INT32_MIN && v->d <= INT32_MAX) ? (int32_t)v->d : 0;
        memcpy(tmp, &i32, 4);
        *n = 4;
        return tmp;
    case SV_DATE:
        memcpy(tmp, &v->d, 8);
        *n = 8;
        return tmp;
    default:
        *n = 0;
        return tmp;
    }
}

bool sval_bytes_equal(const sval *a, const sval *b)
{
    uint8_t ta[8], tb[8];
    size_t na, nb;
    const uint8_t *pa = sval_bytes(a, ta, &na), *pb = sval_bytes(b, tb, &nb);
    return na == nb && (na == 0 || memcmp(pa, pb, na) == 0);
}

CFTypeRef sval_to_cf(const sval *v)
{
    switch (v->tag) {
    case SV_STR: {
        /* Not CFStringCreateWithBytes: as Apple's, it drops a leading U+FEFF. */
        CFStringRef s = secsim_string_stored((const char *)v->p, v->n);
        if (s != NULL)
            return s;
        return CFDataCreate(NULL, v->p, (CFIndex)v->n); /* not UTF-8: hand back the bytes */
    }
    case SV_DATA:
        return CFDataCreate(NULL, v->p, (CFIndex)v->n);
    case SV_INT:
        if (v->i >= INT32_MIN && v->i <= INT32_MAX) {
            int32_t i32 = (int32_t)v->i;
            return CFNumberCreate(NULL, kCFNumberSInt32Type, &i32);
        }
        return CFNumberCreate(NULL, kCFNumberSInt64Type, &v->i);
    case SV_DBL:
        return CFNumberCreate(NULL, kCFNumberFloat64Type, &v->d);
    case SV_BOOL:
        return CFRetain(v->i ? kCFBooleanTrue : kCFBooleanFalse);
    case SV_DATE:
        return CFDateCreate(NULL, v->d);
    case SV_ACCC:
        return sec_accc_create(v->p, v->n, (uint64_t)v->i);
    default:
        return CFRetain(kCFNull);
    }
}

/* ------------------------------------------------------------------ */
/* items */

sitem *item_new(int impl, int cls)
{
    sitem *it = sec_xmalloc(sizeof *it);
    memset(it, 0, sizeof *it);
    it->impl = (uint8_t)impl;
    it->cls = (uint8_t)cls;
    return it;
}

void item_free(sitem *it)
{
    if (it == NULL)
        return;
    for (size_t i = 0; i < it->nattrs; i++)
        sval_free(&it->attrs[i].v);
    free(it->attrs);
    free(it->data);
    free(it);
}

sitem *item_clone(const sitem *it)
{
    sitem *c = item_new(it->impl, it->cls);
    c->rowid = it->rowid;
    if (it->data != NULL)
        c->data = sec_memdup(it->data, it->dlen);
    c->dlen = it->dlen;
    for (size_t i = 0; i < it->nattrs; i++)
        item_set(c, it->attrs[i].key, sval_copy(&it->attrs[i].v));
    return c;
}

const sval *item_get(const sitem *it, const char *key)
{
    for (size_t i = 0; i < it->nattrs; i++)
        if (strcmp(it->attrs[i].key, key) == 0)
            return &it->attrs[i].v;
    return NULL;
}

void item_set(sitem *it, const char *key, sval v)
{
    for (size_t i = 0; i < it->nattrs; i++) {
        if (strcmp(it->attrs[i].key, key) == 0) {
            sval_free(&it->attrs[i].v);
            it->attrs[i].v = v;
            return;
        }
    }
    if (it->nattrs == it->cap) {
        it->cap = it->cap ? it->cap * 2 : 8;
        it->attrs = sec_xrealloc(it->attrs, it->cap * sizeof *it->attrs);
    }
    sattr *a = &it->attrs[it->nattrs++];
    memset(a->key, 0, sizeof a->key);
    memcpy(a->key, key, strnlen(key, 4));
    a->v = v;
}

void item_del(sitem *it, const char *key)
{
    for (size_t i = 0; i < it->nattrs; i++) {
        if (strcmp(it->attrs[i].key, key) == 0) {
            sval_free(&it->attrs[i].v);
            memmove(&it->attrs[i], &it->attrs[i + 1], (it->nattrs - i - 1) * sizeof *it->attrs);
            it->nattrs--;
            return;
        }
    }
}

void item_set_data(sitem *it, const void *p, size_t n)
{
    free(it->data);
    it->data = n ? sec_memdup(p, n) : NULL;
    it->dlen = n;
}

/* ------------------------------------------------------------------ */
/* schema (facts 2.15 DP tables; 4.4 DP primary keys; 4.6 defaults;
 * 4.8 FB unique indexes; 5.3 FB attribute value types) */

#define G CB(CLS_GENP)
#define I CB(CLS_INET)
#define C CB(CLS_CERT)
#define K CB(CLS_KEYS)
#define D CB(CLS_IDNT)
#define ALL (G | I | C | K | D)
#define CK (C | K | D)   /* an identity has the attributes of both (2.15) */

static const sec_attrdef sec_attrs[] = {
    /* name   dp kind  dp classes  dp primary  default    fb kind   fb classes  fb unique */
    { "cdat", K_DATE,  ALL,        0,          DEF_NONE,  F_DATE,   ALL,        0 },
    { "mdat", K_DATE,  ALL,        0,          DEF_NONE,  F_DATE,   ALL,        0 },
    { "desc", K_BLOB,  G | I,      0,          DEF_NONE,  F_STR,    G | I,      0 },
    { "icmt", K_BLOB,  G | I,      0,          DEF_NONE,  F_STR,    G | I,      0 },
    { "crtr", K_NUM,   G | I | K | D, K | D,   DEF_ZERO,  F_NUM,    G | I | K | D, K | D },
    { "type", K_NUM,   G | I | K | D, K | D,   DEF_ZERO,  F_NUM,    G | I | K | D, K | D },
    { "scrp", K_NUM,   G | I,      0,          DEF_NONE,  F_NONE,   0,          0 },
    { "labl", K_BLOB,  ALL,        0,          DEF_NONE,  F_STR,    ALL,        0 },
    { "alis", K_BLOB,  ALL,        0,          DEF_NONE,  F_NONE,   0,          0 },
    { "invi", K_NUM,   G | I,      0,          DEF_NONE,  F_BOOL,   G | I,      0 },
    { "nega", K_NUM,   G | I,      0,          DEF_NONE,  F_BOOL,   G | I,      0 },
    { "cusi", K_NUM,   G | I,      0,          DEF_NONE,  F_NONE,   0,          0 },
    { "prot", K_BLOB,  G | I,      0,          DEF_NONE,  F_NONE,   0,          0 },
    { "acct", K_BLOB,  G | I,      G | I,      DEF_EMPTY, F_STR,    G | I,      G | I },
    { "svce", K_BLOB,  G,          G,          DEF_EMPTY, F_STR,    G,          G },
    { "gena", K_BLOB,  G,          0,          DEF_NONE,  F_DATA,   G,          0 },
    { "sdmn", K_BLOB,  I,          I,          DEF_EMPTY, F_STR,    I,          I },
    { "srvr", K_BLOB,  I,          I,          DEF_EMPTY, F_STR,    I,          I },
    { "ptcl", K_NUM,   I,          I,          DEF_ZERO,  F_FOURCC, I,          I },
    { "atyp", K_BLOB,  I,          I,          DEF_EMPTY, F_FOURCC, I,          I },
    { "port", K_NUM,   I,          I,          DEF_ZERO,  F_NUM,    I,          I },
    { "path", K_BLOB,  I,          I,          DEF_EMPTY, F_STR,    I,          I },
    { "ctyp", K_NUM,   C | D,      C | D,      DEF_ZERO,  F_NUM,    C | D,      C | D },
    { "cenc", K_NUM,   C | D,      0,          DEF_NONE,  F_NUM,    C | D,      0 },
    { "subj", K_DATA,  C | D,      0,          DEF_NONE,  F_DATA,   C | D,      0 },
    { "issr", K_DATA,  C | D,      C | D,      DEF_EMPTY, F_DATA,   C | D,      C | D },
    { "slnr", K_DATA,  C | D,      C | D,      DEF_EMPTY, F_DATA,   C | D,      C | D },
    { "skid", K_DATA,  C | D,      0,          DEF_NONE,  F_DATA,   C | D,      0 },
    { "pkhh", K_DATA,  C | D,      0,          DEF_NONE,  F_DATA,   C | D,      0 },
    { "kcls", K_NUM,   K | D,      K | D,      DEF_ZERO,  F_NUM,    K | D,      K | D },
    { "perm", K_NUM,   K | D,      0,          DEF_NONE,  F_BOOL,   K | D,      0 },
    { "priv", K_NUM,   K | D,      0,          DEF_NONE,  F_BOOL,   K | D,      0 },
    { "modi", K_NUM,   K | D,      0,          DEF_NONE,  F_BOOL,   K | D,      0 },
    { "klbl", K_DATA,  K | D,      K | D,      DEF_EMPTY, F_DATA,   K | D,      K | D },
    { "atag", K_BLOB,  K | D,      K | D,      DEF_EMPTY, F_DATA,   K | D,      K | D },
    { "bsiz", K_NUM,   K | D,      K | D,      DEF_ZERO,  F_NUM,    K | D,      K | D },
    { "esiz", K_NUM,   K | D,      K | D,      DEF_ZERO,  F_NUM,    K | D,      K | D },
    { "sdat", K_DATE,  K | D,      K | D,      DEF_ZERO,  F_DATE,   K | D,      K | D },
    { "edat", K_DATE,  K | D,      K | D,      DEF_ZERO,  F_DATE,   K | D,      K | D },
    { "sens", K_NUM,   K | D,      0,          DEF_NONE,  F_BOOL,   K | D,      0 },
    { "asen", K_NUM,   K | D,      0,          DEF_NONE,  F_BOOL,   K | D,      0 },
    { "extr", K_NUM,   K | D,      0,          DEF_NONE,  F_BOOL,   K | D,      0 },
    { "next", K_NUM,   K | D,      0,          DEF_NONE,  F_BOOL,   K | D,      0 },
    { "encr", K_NUM,   K | D,      0,          DEF_NONE,  F_BOOL,   K | D,      0 },
    { "decr", K_NUM,   K | D,      0,          DEF_NONE,  F_BOOL,   K | D,      0 },
    { "drve", K_NUM,   K | D,      0,          DEF_NONE,  F_BOOL,   K | D,      0 },
    { "sign", K_NUM,   K | D,      0,          DEF_NONE,  F_BOOL,   K | D,      0 },
    { "vrfy", K_NUM,   K | D,      0,          DEF_NONE,  F_BOOL,   K | D,      0 },
    { "snrc", K_NUM,   K | D,      0,          DEF_NONE,  F_BOOL,   K | D,      0 },
    { "vyrc", K_NUM,   K | D,      0,          DEF_NONE,  F_BOOL,   K | D,      0 },
    { "wrap", K_NUM,   K | D,      0,          DEF_NONE,  F_BOOL,   K | D,      0 },
    { "unwp", K_NUM,   K | D,      0,          DEF_NONE,  F_BOOL,   K | D,      0 },
    /* columns common to every DP table */
    { "agrp", K_STR,   ALL,        ALL,        DEF_NONE,  F_NONE,   0,          0 },
    { "pdmn", K_ACCESS, ALL,       0,          DEF_NONE,  F_NONE,   0,          0 },
    { "sync", K_SYNC,  ALL,        ALL,        DEF_ZERO,  F_NONE,   0,          0 },
    { "tomb", K_TOMB,  ALL,        0,          DEF_ZERO,  F_NONE,   0,          0 },
    { "sha1", K_SHA1,  ALL,        0,          DEF_NONE,  F_NONE,   0,          0 },
    { "vwht", K_STR,   ALL,        ALL,        DEF_NONE,  F_NONE,   0,          0 },
    { "tkid", K_STR,   ALL,        ALL,        DEF_NONE,  F_NONE,   0,          0 },
    { "accc", K_ACCC,  ALL,        0,          DEF_NONE,  F_NONE,   0,          0 },
    { "musr", K_UUID,  ALL,        ALL,        DEF_NONE,  F_NONE,   0,          0 },
    { "sysb", K_NUM,   ALL,        0,          DEF_NONE,  F_NONE,   0,          0 },
    { "pcss", K_NUM,   ALL,        0,          DEF_NONE,  F_NONE,   0,          0 },
    { "pcsk", K_BLOB,  ALL,        0,          DEF_NONE,  F_NONE,   0,          0 },
    { "pcsi", K_BLOB,  ALL,        0,          DEF_NONE,  F_NONE,   0,          0 },
    { "ggrp", K_STR,   ALL,        ALL,        DEF_NONE,  F_NONE,   0,          0 },
};

#undef G
#undef I
#undef C
#undef K
#undef D
#undef ALL
#undef CK

const sec_attrdef *sec_attr_lookup(const char *p, size_t n)
{
    if (n != 4)
        return NULL;
    for (size_t i = 0; i < sizeof sec_attrs / sizeof sec_attrs[0]; i++)
        if (memcmp(sec_attrs[i].name, p, 4) == 0)
            return &sec_attrs[i];
    return NULL;
}

size_t sec_attr_count(void) { return sizeof sec_attrs / sizeof sec_attrs[0]; }
const sec_attrdef *sec_attr_at(size_t i) { return &sec_attrs[i]; }

/* ------------------------------------------------------------------ */
/* conversions */

bool sec_parse_decimal(const uint8_t *p, size_t n, int64_t *out)
{
    /* Round-trips as "%lld": optional '-', no leading zeros, no '+', no spaces. */
    size_t i = 0;
    bool neg = false;
    if (n == 0)
        return false;
    if (p[0] == '-') {
        neg = true;
        i = 1;
        if (n == 1)
            return false;
    }
    if (p[i] == '0' && (n - i > 1 || neg))
        return false;
    uint64_t acc = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        uint64_t d = (uint64_t)(p[i] - '0');
        if (acc > (UINT64_C(9223372036854775808) - d) / 10)
            return false;
        acc = acc * 10 + d;
    }
    if (!neg && acc > (uint64_t)INT64_MAX)
        return false;
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return true;
}

static sval number_sval(CFNumberRef num)
{
    sval v = { 0 };
    if (CFNumberIsFloatType(num)) {
        v.tag = SV_DBL;
        CFNumberGetValue(num, kCFNumberFloat64Type, &v.d);
    } else {
        v.tag = SV_INT;
        CFNumberGetValue(num, kCFNumberSInt64Type, &v.i);
    }
    return v;
}

static bool string_bytes(CFTypeRef v, const uint8_t **p, size_t *n)
{
    CFIndex len = 0;
    const char *s = secsim_string_utf8((CFStringRef)v, &len);
    *p = (const uint8_t *)s;
    *n = (size_t)len;
    return true;
}

/* The UTF-8 of a CFString as a string or a data value. */
static sval string_as_str(CFTypeRef v)
{
    const uint8_t *p;
    size_t n;
    string_bytes(v, &p, &n);
    return sval_str((const char *)p, n);
}

static sval string_as_data(CFTypeRef v)
{
    const uint8_t *p;
    size_t n;
    string_bytes(v, &p, &n);
    return sval_data(p, n);
}

/* A CFString that is a strict decimal integer (sec_parse_decimal). */
static bool string_decimal(CFTypeRef v, int64_t *i)
{
    const uint8_t *p;
    size_t n;
    string_bytes(v, &p, &n);
    return sec_parse_decimal(p, n, i);
}

/* The bytes of a CFData as a data or a string value. */
static sval data_as_data(CFTypeRef v)
{
    return sval_data(CFDataGetBytePtr(v), (size_t)CFDataGetLength(v));
}

static sval data_as_str(CFTypeRef v)
{
    return sval_str((const char *)CFDataGetBytePtr(v), (size_t)CFDataGetLength(v));
}

/* A CFDate, the one type a date column takes (both keychains). */
static OSStatus convert_date(CFTypeRef v, sval *out)
{
    if (!secsim_is(v, SECSIM_TYPE_DATE))
        return errSecParam;
    *out = sval_date(CFDateGetAbsoluteTime(v));
    return errSecSuccess;
}

/* The CF types a conversion tells apart. */
typedef struct vtypes {
    bool str, data, num, boolean;
} vtypes;

/* Start of a conversion: *out cleared; false if there is no value. */
static bool convert_begin(CFTypeRef v, sval *out, vtypes *is)
{
    memset(out, 0, sizeof *out);
    if (v == NULL)
        return false;
    is->str = secsim_is(v, SECSIM_TYPE_STRING);
    is->data = secsim_is(v, SECSIM_TYPE_DATA);
    is->num = secsim_is(v, SECSIM_TYPE_NUMBER);
    is->boolean = secsim_is(v, SECSIM_TYPE_BOOLEAN);
    return true;
}

/* Data protection, one converter per column kind: *out is set only on
 * errSecSuccess. */

/* A blob column: a string's UTF-8, a data's bytes, or a number. */
static OSStatus dp_blob(CFTypeRef v, const vtypes *is, sval *out)
{
    if (is->str)
        *out = string_as_str(v);
    else if (is->data)
        *out = data_as_data(v);
    else if (is->num)
        *out = number_sval(v);
    else
        return errSecParam;
    return errSecSuccess;
}

/* A number column: a number, a boolean as 0/1, a strict decimal string
 * as its integer, any other string as itself. */
static OSStatus dp_number(CFTypeRef v, const vtypes *is, sval *out)
{
    if (is->num) {
        *out = number_sval(v);
    } else if (is->boolean) {
        *out = sval_int(CFBooleanGetValue(v) ? 1 : 0);
    } else if (is->str) {
        int64_t i;
        if (string_decimal(v, &i))
            *out = sval_int(i);
        else
            *out = string_as_str(v);
    } else {
        return errSecParam;
    }
    return errSecSuccess;
}

/* A data column: a data's bytes, a string's UTF-8, a number's 32-bit
 * native bytes. */
static OSStatus dp_data(CFTypeRef v, const vtypes *is, sval *out)
{
    if (is->data) {
        *out = data_as_data(v);
    } else if (is->str) {
        *out = string_as_data(v);
    } else if (is->num) {
        int32_t i32 = 0;
        CFNumberGetValue(v, kCFNumberSInt32Type, &i32);
        *out = sval_data(&i32, 4);
    } else {
        return errSecParam;
    }
    return errSecSuccess;
}

/* A string column: a string, or a data holding UTF-8. */
static OSStatus dp_string(CFTypeRef v, const vtypes *is, sval *out)
{
    if (is->str) {
        *out = string_as_str(v);
    } else if (is->data) {
        /* decoded as UTF-8: bytes that are not UTF-8 fail to convert (5.10) */
        CFStringRef s = CFStringCreateWithBytes(NULL, CFDataGetBytePtr(v), CFDataGetLength(v),
                                                kCFStringEncodingUTF8, 0);
        if (s == NULL)
            return errSecParam;
        CFRelease(s);
        *out = data_as_str(v);
    } else {
        return errSecParam;
    }
    return errSecSuccess;
}

/* The access-control column: a SecAccessControl with a string protection. */
static OSStatus dp_accc(CFTypeRef v, sval *out)
{
    if (!secsim_is(v, sec_accc_type()))
        return errSecParam;
    size_t pn;
    const char *prot = sec_accc_protection(v, &pn);
    if (prot == NULL)
        return errSecParam; /* dictionary protections are not supported on items */
    out->tag = SV_ACCC;
    out->p = sec_memdup(prot, pn);
    out->n = pn;
    out->i = (int64_t)sec_accc_flags(v);
    return errSecSuccess;
}

OSStatus sec_dp_convert(int kind, CFTypeRef v, sval *out)
{
    vtypes is;
    if (!convert_begin(v, out, &is))
        return errSecParam;
    switch (kind) {
    case K_BLOB:
        return dp_blob(v, &is, out);
    case K_NUM:
    case K_SYNC:
    case K_TOMB:
        return dp_number(v, &is, out);
    case K_DATA:
    case K_SHA1:
    case K_UUID:
        return dp_data(v, &is, out);
    case K_DATE:
        return convert_date(v, out);
    case K_STR:
    case K_ACCESS:
        return dp_string(v, &is, out);
    case K_ACCC:
        return dp_accc(v, out);
    default:
        return errSecParam;
    }
}

static bool num_equal(const sval *a, const sval *b)
{
    if (a->tag == SV_INT && b->tag == SV_INT)
        return a->i == b->i;
    if ((a->tag == SV_INT || a->tag == SV_DBL) && (b->tag == SV_INT || b->tag == SV_DBL)) {
        double x = a->tag == SV_INT ? (double)a->i : a->d;
        double y = b->tag == SV_INT ? (double)b->i : b->d;
        return x == y;
    }
    if (a->tag == SV_STR && b->tag == SV_STR)
        return sval_bytes_equal(a, b);
    return false;
}

bool sec_dp_equal(int kind, const sval *a, const sval *b)
{
    switch (kind) {
    case K_NUM:
    case K_SYNC:
    case K_TOMB:
        return num_equal(a, b);
    case K_DATE:
        return a->tag == SV_DATE && b->tag == SV_DATE && a->d == b->d;
    case K_ACCC:
        return a->tag == SV_ACCC && b->tag == SV_ACCC && a->i == b->i && sval_bytes_equal(a, b);
    default:
        /* Blob (S-flag: SHA-1 of the bytes, 5.4 #4.9), Data, String: bytes. */
        return sval_bytes_equal(a, b);
    }
}

/* The file-based keychain, one converter per column kind: *out is set only
 * on errSecSuccess. */

/* A string column: a string's UTF-8 or a data's bytes. */
static OSStatus fb_string(CFTypeRef v, const vtypes *is, sval *out)
{
    if (is->str)
        *out = string_as_str(v);
    else if (is->data)
        *out = data_as_str(v);
    else
        return errSecParam;
    return errSecSuccess;
}

/* An integer column: a number, a boolean as 0/1, a strict decimal string. */
static OSStatus fb_number(CFTypeRef v, const vtypes *is, sval *out)
{
    int64_t i = 0;
    if (is->num) {
        CFNumberGetValue(v, kCFNumberSInt64Type, &i);
    } else if (is->boolean) {
        i = CFBooleanGetValue(v) ? 1 : 0;
    } else if (is->str) {
        if (!string_decimal(v, &i))
            return errSecParam;
    } else {
        return errSecParam;
    }
    *out = sval_int(i);
    return errSecSuccess;
}

/* A boolean column: a boolean, or a number (non-zero is true). */
static OSStatus fb_bool(CFTypeRef v, const vtypes *is, sval *out)
{
    int64_t i = 0;
    if (is->boolean) {
        i = CFBooleanGetValue(v) ? 1 : 0;
    } else if (is->num) {
        double d = 0;
        CFNumberGetValue(v, kCFNumberFloat64Type, &d);
        i = d != 0;
    } else {
        return errSecParam;
    }
    out->tag = SV_BOOL;
    out->i = i;
    return errSecSuccess;
}

/* A data column: a data's bytes or a string's UTF-8. */
static OSStatus fb_data(CFTypeRef v, const vtypes *is, sval *out)
{
    if (is->data)
        *out = data_as_data(v);
    else if (is->str)
        *out = string_as_data(v);
    else
        return errSecParam;
    return errSecSuccess;
}

/* Stored as a FourCharCode; handed back as the 4-char CFString constant
 * (facts 5.3, FB attribute dictionaries). */
static OSStatus fb_fourcc(CFTypeRef v, const vtypes *is, sval *out)
{
    if (is->str) {
        *out = string_as_str(v);
    } else if (is->num) {
        int64_t i = 0;
        CFNumberGetValue(v, kCFNumberSInt64Type, &i);
        char four[4] = { (char)((i >> 24) & 0xff), (char)((i >> 16) & 0xff), (char)((i >> 8) & 0xff),
                         (char)(i & 0xff) };
        *out = sval_str(four, 4);
    } else {
        return errSecParam;
    }
    return errSecSuccess;
}

OSStatus sec_fb_convert(int kind, CFTypeRef v, sval *out)
{
    vtypes is;
    if (!convert_begin(v, out, &is))
        return errSecParam;
    switch (kind) {
    case F_STR:
        return fb_string(v, &is, out);
    case F_NUM:
        return fb_number(v, &is, out);
    case F_BOOL:
        return fb_bool(v, &is, out);
    case F_DATA:
        return fb_data(v, &is, out);
    case F_DATE:
        return convert_date(v, out);
    case F_FOURCC:
        return fb_fourcc(v, &is, out);
    default:
        return errSecParam;
    }
}

bool sec_fb_equal(int kind, const sval *a, const sval *b)
{
    switch (kind) {
    case F_NUM:
        return num_equal(a, b);
    case F_BOOL:
        return (a->i != 0) == (b->i != 0);
    case F_DATE:
        return a->tag == SV_DATE && b->tag == SV_DATE && a->d == b->d;
    default:
        return sval_bytes_equal(a, b);
    }
}

bool sec_truthy(CFTypeRef v)
{
    if (v == NULL)
        return false;
    if (secsim_is(v, SECSIM_TYPE_BOOLEAN))
        return CFBooleanGetValue(v) != 0;
    if (secsim_is(v, SECSIM_TYPE_NUMBER)) {
        int32_t i = 0;
        CFNumberGetValue(v, kCFNumberSInt32Type, &i);
        return i != 0;
    }
    if (secsim_is(v, SECSIM_TYPE_STRING)) {
        int64_t i;
        return string_decimal(v, &i) && i != 0;
    }
    return false;
}
