/*
 * sec_cert.c - SecCertificate, SecIdentity and SecPKCS12Import.
 *
 * Rule numbers refer to shared/reference/seckey-facts.md (4.6, 4.7).
 * Certificates are checked with libcrypto's d2i_X509; the attributes Apple
 * derives from them (4.6) are read from the DER with the small walker
 * below.  Identities are not stored: as in Apple's SecItemDb.c, a
 * kSecClassIdentity query is a join of certificates and private keys whose
 * kSecAttrPublicKeyHash (pkhh) equals the key's kSecAttrApplicationLabel
 * (klbl); adding or deleting an identity adds or deletes its certificate
 * and key (SecItem.m explode_identity).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sec_keys.h"

/* ------------------------------------------------------------------ */
/* A minimal DER reader */

typedef struct der {
    const uint8_t *p;   /* the whole TLV */
    size_t n;
    const uint8_t *c;   /* contents */
    size_t cn;
    uint8_t tag;
} der;

/* The TLV at *p (within end); advances *p.  False if malformed. */
static bool der_next(const uint8_t **p, const uint8_t *end, der *out)
{
    const uint8_t *q = *p;
    if (end - q < 2)
        return false;
    uint8_t tag = q[0];
    size_t len, h;
    if (q[1] < 0x80) {
        len = q[1];
        h = 2;
    } else {
        size_t k = q[1] & 0x7f;
        if (k == 0 || k > 4 || (size_t)(end - q) < 2 + k)
            return false;
        len = 0;
        for (size_t i = 0; i < k; i++)
            len = (len << 8) | q[2 + i];
        h = 2 + k;
    }
    if (len > (size_t)(end - q) - h)
        return false;
    out->p = q;
    out->n = h + len;
    out->c = q + h;
    out->cn = len;
    out->tag = tag;
    *p = q + h + len;
    return true;
}

static bool der_in(const der *outer, const uint8_t **p)
{
    *p = outer->c;
    return true;
}

static bool oid_is(const der *d, const uint8_t *oid, size_t n)
{
    return d->tag == 0x06 && d->cn == n && memcmp(d->c, oid, n) == 0;
}

static const uint8_t OID_CN[] = { 0x55, 0x04, 0x03 };
static const uint8_t OID_OU[] = { 0x55, 0x04, 0x0b };
static const uint8_t OID_O[] = { 0x55, 0x04, 0x0a };
static const uint8_t OID_EMAIL[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01 };
static const uint8_t OID_SKID[] = { 0x55, 0x1d, 0x0e };
static const uint8_t OID_SAN[] = { 0x55, 0x1d, 0x11 };
static const uint8_t OID_RSA[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };
static const uint8_t OID_EC[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };

/* ------------------------------------------------------------------ */
/* Certificate material */

typedef struct certmat {
    sec_certmat base;
    int version;        /* X.509 version number (0 for v1) */
    der serial, issuer, subject, spki, spki_alg, spki_bits, extensions;
    bool has_extensions;
} certmat;

static bool parse_tbs(certmat *m)
{
    const uint8_t *p = m->base.der, *end = p + m->base.nder;
    der cert, tbs, d;
    if (!der_next(&p, end, &cert) || cert.tag != 0x30)
        return false;
    der_in(&cert, &p);
    end = cert.c + cert.cn;
    if (!der_next(&p, end, &tbs) || tbs.tag != 0x30)
        return false;
    der_in(&tbs, &p);
    end = tbs.c + tbs.cn;
    if (!der_next(&p, end, &d))
        return false;
    if (d.tag == 0xa0) {
        const uint8_t *q = d.c;
        der v;
        if (!der_next(&q, d.c + d.cn, &v) || v.tag != 0x02 || v.cn != 1)
            return false;
        m->version = v.c[0];
        if (!der_next(&p, end, &d))
            return false;
    }
    m->serial = d;
    der sigalg, validity;
    if (m->serial.tag != 0x02 || !der_next(&p, end, &sigalg) || !der_next(&p, end, &m->issuer) ||
        !der_next(&p, end, &validity) || !der_next(&p, end, &m->subject) || !der_next(&p, end, &m->spki))
        return false;
    if (m->issuer.tag != 0x30 || m->subject.tag != 0x30 || m->spki.tag != 0x30)
        return false;
    while (p < end) {
        if (!der_next(&p, end, &d))
            return false;
        if (d.tag == 0xa3) {
            const uint8_t *q = d.c;
            if (!der_next(&q, d.c + d.cn, &m->extensions) || m->extensions.tag != 0x30)
                return false;
            m->has_extensions = true;
        }
    }
    const uint8_t *q = m->spki.c;
    if (!der_next(&q, m->spki.c + m->spki.cn, &m->spki_alg) ||
        !der_next(&q, m->spki.c + m->spki.cn, &m->spki_bits) || m->spki_bits.tag != 0x03 || m->spki_bits.cn < 1)
        return false;
    return true;
}

/* The value of the extension `oid` (the OCTET STRING's contents), or false. */
static bool find_extension(const certmat *m, const uint8_t *oid, size_t n, der *value)
{
    if (!m->has_extensions)
        return false;
    const uint8_t *p = m->extensions.c, *end = p + m->extensions.cn;
    der ext;
    while (p < end && der_next(&p, end, &ext)) {
        const uint8_t *q = ext.c, *qe = ext.c + ext.cn;
        der id, v;
        if (!der_next(&q, qe, &id) || !oid_is(&id, oid, n))
            continue;
        while (der_next(&q, qe, &v)) {
            if (v.tag == 0x04) {
                *value = v;
                return true;
            }
        }
    }
    return false;
}

void sec_cert_finalize_impl(void *impl)
{
    certmat *m = impl;
    if (m == NULL)
        return;
    const sec_crypto_api *c = sec_crypto();
    if (m->base.x509 != NULL && c != NULL)
        c->X509_free(m->base.x509);
    free((void *)m->base.der);
    free(m);
}

static certmat *certmat_from_der(const uint8_t *p, size_t n)
{
    const sec_crypto_api *c = sec_crypto();
    if (c == NULL || p == NULL || n == 0 || n > (size_t)LONG_MAX)
        return NULL;
    const unsigned char *q = p;
    X509 *x = c->d2i_X509(NULL, &q, (long)n);
    c->ERR_clear_error();
    if (x == NULL)
        return NULL;
    certmat *m = sec_xmalloc(sizeof *m);
    memset(m, 0, sizeof *m);
    m->base.x509 = x;
    m->base.nder = (size_t)(q - p);       /* 1.3: bytes after the certificate are dropped */
    m->base.der = sec_memdup(p, m->base.nder);
    if (!parse_tbs(m)) {
        sec_cert_finalize_impl(m);
        return NULL;
    }
    return m;
}

static CFTypeRef cert_object(certmat *m, int impl, int64_t rowid)
{
    CFTypeRef obj = secsim_create_instance(sec_ref_type_certificate(), sizeof(sec_objbody));
    sec_objbody *b = secsim_body(obj);
    b->ref.impl = (uint8_t)impl;
    b->ref.cls = CLS_CERT;
    b->ref.rowid = rowid;
    b->impl = m;
    return obj;
}

CFTypeRef sec_cert_from_der(const uint8_t *p, size_t n)
{
    certmat *m = certmat_from_der(p, n);
    return m ? cert_object(m, 0, 0) : NULL;
}

const sec_certmat *sec_cert_material(CFTypeRef cert)
{
    if (cert == NULL || !secsim_is(cert, sec_ref_type_certificate()))
        return NULL;
    return ((sec_objbody *)secsim_body(cert))->impl;
}

void *sec_cert_impl_from_item(const sitem *it)
{
    return certmat_from_der(it->data, it->dlen);
}

bool sec_cert_impl_equal(const void *a, const void *b)
{
    const certmat *x = a, *y = b;
    return x->base.nder == y->base.nder && memcmp(x->base.der, y->base.der, x->base.nder) == 0;
}

CFHashCode sec_cert_impl_hash(const void *impl)
{
    const certmat *m = impl;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < m->base.nder; i++)
        h = (h ^ m->base.der[i]) * 1099511628211ull;
    return (CFHashCode)h;
}

/* ---- names ---- */

static size_t put_len(uint8_t *out, size_t len)
{
    if (len < 0x80) {
        out[0] = (uint8_t)len;
        return 1;
    }
    size_t k = len < 0x100 ? 1 : len < 0x10000 ? 2 : 3;
    out[0] = (uint8_t)(0x80 | k);
    for (size_t i = 0; i < k; i++)
        out[1 + i] = (uint8_t)(len >> (8 * (k - 1 - i)));
    return 1 + k;
}

/* Append tag || len || contents to buf (capacity is ample: never longer than the input + 8). */
static size_t put_tlv(uint8_t *out, uint8_t tag, const uint8_t *c, size_t n)
{
    out[0] = tag;
    size_t h = 1 + put_len(out + 1, n);
    memmove(out + h, c, n);
    return h + n;
}

/* 4.6: the contents of the Name, with PrintableString values upper-cased and
 * their blanks trimmed and collapsed (Apple's createNormalizedX501Name). */
static uint8_t *normalized_name(const der *name, size_t *outn)
{
    size_t cap = name->cn + 16;
    uint8_t *out = sec_xmalloc(cap), *rdnbuf = sec_xmalloc(cap), *atvbuf = sec_xmalloc(cap);
    size_t on = 0;
    const uint8_t *p = name->c, *end = name->c + name->cn;
    der rdn;
    bool ok = true;
    while (ok && p < end && (ok = der_next(&p, end, &rdn))) {
        size_t rn = 0;
        const uint8_t *q = rdn.c, *qe = rdn.c + rdn.cn;
        der atv;
        while (ok && q < qe && (ok = der_next(&q, qe, &atv))) {
            const uint8_t *r = atv.c, *re = atv.c + atv.cn;
            der type, value;
            ok = der_next(&r, re, &type) && der_next(&r, re, &value);
            if (!ok)
                break;
            size_t an = 0;
            memcpy(atvbuf, type.p, type.n);
            an += type.n;
            if (value.tag == 0x13) {
                uint8_t *v = sec_xmalloc(value.cn + 1);
                size_t vn = 0;
                bool blank = false;
                for (size_t i = 0; i < value.cn; i++) {
                    uint8_t ch = value.c[i];
                    if (ch == ' ' || ch == '\t') {
                        if (!blank && vn > 0)
                            v[vn++] = ' ';
                        blank = true;
                        continue;
                    }
                    blank = false;
                    v[vn++] = (ch >= 'a' && ch <= 'z') ? (uint8_t)(ch - 'a' + 'A') : ch;
                }
                if (blank && vn > 0)
                    vn--;
                an += put_tlv(atvbuf + an, 0x13, v, vn);
                free(v);
            } else {
                memcpy(atvbuf + an, value.p, value.n);
                an += value.n;
            }
            rn += put_tlv(rdnbuf + rn, atv.tag, atvbuf, an);
        }
        if (ok)
            on += put_tlv(out + on, rdn.tag, rdnbuf, rn);
    }
    free(rdnbuf);
    free(atvbuf);
    if (!ok) {
        free(out);
        return NULL;
    }
    *outn = on;
    return out;
}

/* +1 CFString of a directory string value, or NULL. */
static CFStringRef string_value(const der *v)
{
    switch (v->tag) {
    case 0x0c: case 0x13: case 0x16: case 0x12: case 0x1a:     /* UTF8, Printable, IA5, Numeric, Visible */
        return CFStringCreateWithBytes(NULL, v->c, (CFIndex)v->cn, kCFStringEncodingUTF8, 0);
    case 0x14:                                                  /* T61: read as Latin-1 */
        return CFStringCreateWithBytes(NULL, v->c, (CFIndex)v->cn, kCFStringEncodingISOLatin1, 0);
    case 0x1e:                                                  /* BMP */
        return CFStringCreateWithBytes(NULL, v->c, (CFIndex)v->cn, kCFStringEncodingUTF16BE, 0);
    case 0x1c:                                                  /* Universal */
        return CFStringCreateWithBytes(NULL, v->c, (CFIndex)v->cn, kCFStringEncodingUTF32BE, 0);
    default:
        return NULL;
    }
}

typedef bool (*atv_visit)(const der *type, const der *value, void *ctx);

static void walk_name(const der *name, atv_visit visit, void *ctx)
{
    const uint8_t *p = name->c, *end = name->c + name->cn;
    der rdn;
    while (p < end && der_next(&p, end, &rdn)) {
        const uint8_t *q = rdn.c, *qe = rdn.c + rdn.cn;
        der atv;
        while (q < qe && der_next(&q, qe, &atv)) {
            const uint8_t *r = atv.c, *re = atv.c + atv.cn;
            der type, value;
            if (der_next(&r, re, &type) && der_next(&r, re, &value) && !visit(&type, &value, ctx))
                return;
        }
    }
}

typedef struct collect { const uint8_t *oid; size_t n; der found[16]; size_t count; } collect;

static bool collect_visit(const der *type, const der *value, void *ctx)
{
    collect *c = ctx;
    CFStringRef s;
    if (oid_is(type, c->oid, c->n) && c->count < 16 && (s = string_value(value)) != NULL) {
        CFRelease(s);                           /* keep only values that decode */
        c->found[c->count++] = *value;
    }
    return true;
}

static void collect_values(const certmat *m, const uint8_t *oid, size_t n, collect *c)
{
    memset(c, 0, sizeof *c);
    c->oid = oid;
    c->n = n;
    walk_name(&m->subject, collect_visit, c);
}

/* "a, b, c" of the collected values. */
static CFStringRef join(const collect *c)
{
    size_t cap = 1;
    for (size_t i = 0; i < c->count; i++)
        cap += c->found[i].cn * 4 + 2;
    char *buf = sec_xmalloc(cap);
    size_t n = 0;
    for (size_t i = 0; i < c->count; i++) {
        CFStringRef s = string_value(&c->found[i]);
        CFIndex len = 0;
        const char *u = secsim_string_utf8(s, &len);
        if (i > 0) {
            memcpy(buf + n, ", ", 2);
            n += 2;
        }
        memcpy(buf + n, u, (size_t)len);
        n += (size_t)len;
        CFRelease(s);
    }
    CFStringRef out = CFStringCreateWithBytes(NULL, (const UInt8 *)buf, (CFIndex)n, kCFStringEncodingUTF8, 0);
    free(buf);
    return out;
}

/* The first SubjectAltName entry with that context tag (1 rfc822Name, 2 dNSName). */
static CFStringRef san_value(const certmat *m, uint8_t tag)
{
    der ext, seq, gn;
    if (!find_extension(m, OID_SAN, sizeof OID_SAN, &ext))
        return NULL;
    const uint8_t *p = ext.c;
    if (!der_next(&p, ext.c + ext.cn, &seq) || seq.tag != 0x30)
        return NULL;
    p = seq.c;
    while (p < seq.c + seq.cn && der_next(&p, seq.c + seq.cn, &gn))
        if (gn.tag == (0x80 | tag))
            return CFStringCreateWithBytes(NULL, gn.c, (CFIndex)gn.cn, kCFStringEncodingUTF8, 0);
    return NULL;
}

/* 4.6 SecCertificateCopySubjectSummary: CN > e-mail > DNS name > OU > O. */
static CFStringRef subject_summary(const certmat *m)
{
    collect c;
    collect_values(m, OID_CN, sizeof OID_CN, &c);
    if (c.count > 0)
        return join(&c);
    collect_values(m, OID_EMAIL, sizeof OID_EMAIL, &c);
    if (c.count > 0)
        return string_value(&c.found[0]);
    CFStringRef s = san_value(m, 1);
    if (s == NULL)
        s = san_value(m, 2);
    if (s != NULL)
        return s;
    collect_values(m, OID_OU, sizeof OID_OU, &c);
    if (c.count == 0)
        collect_values(m, OID_O, sizeof OID_O, &c);
    return c.count > 0 ? join(&c) : NULL;
}

/* ---- SecItem glue ---- */

static CFNumberRef num32(int32_t v)
{
    return CFNumberCreate(NULL, kCFNumberSInt32Type, &v);
}

OSStatus sec_cert_seed(const void *impl, sitem *it)
{
    const certmat *m = impl;
    if (it->cls != CLS_CERT)
        return errSecParam;
    CFMutableDictionaryRef d = CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                                                         &kCFTypeDictionaryValueCallBacks);
    sec_dict_put(d, "ctyp", num32(m->version + 1));    /* CSSM_CERT_X_509v1..v3 = 1..3 */
    sec_dict_put(d, "cenc", num32(3));                 /* CSSM_CERT_ENCODING_DER */
    size_t n = 0;
    uint8_t *norm = normalized_name(&m->subject, &n);
    if (norm != NULL) {
        sec_dict_put(d, "subj", CFDataCreate(NULL, norm, (CFIndex)n));
        free(norm);
    }
    norm = normalized_name(&m->issuer, &n);
    if (norm != NULL) {
        sec_dict_put(d, "issr", CFDataCreate(NULL, norm, (CFIndex)n));
        free(norm);
    }
    sec_dict_put(d, "slnr", CFDataCreate(NULL, m->serial.c, (CFIndex)m->serial.cn));
    der skid;
    if (find_extension(m, OID_SKID, sizeof OID_SKID, &skid)) {
        const uint8_t *p = skid.c;
        der kid;
        if (der_next(&p, skid.c + skid.cn, &kid) && kid.tag == 0x04)
            sec_dict_put(d, "skid", CFDataCreate(NULL, kid.c, (CFIndex)kid.cn));
    }
    const sec_crypto_api *c = sec_crypto();
    uint8_t pkhh[20];
    sec_crypto_sha1(c, m->spki_bits.c + 1, m->spki_bits.cn - 1, pkhh);  /* 4.2: BIT STRING contents */
    sec_dict_put(d, "pkhh", CFDataCreate(NULL, pkhh, 20));
    if (it->impl == IMPL_FB) {
        /* The file keychain infers a label from the subject (CertOSX inferLabel). */
        CFStringRef label = subject_summary(m);
        if (label != NULL)
            sec_dict_put(d, "labl", label);
    }
    sec_item_set_cf_attributes(it, d);
    CFRelease(d);
    item_set_data(it, m->base.der, m->base.nder);
    return errSecSuccess;
}

bool sec_cert_matches(const void *impl, const sitem *it)
{
    const certmat *m = impl;
    return it->cls == CLS_CERT && it->dlen == m->base.nder && memcmp(it->data, m->base.der, it->dlen) == 0;
}

/* ------------------------------------------------------------------ */
/* SecCertificate functions */

static const certmat *cert_operand(SecCertificateRef cert, const char *fn)
{
    if (cert == NULL)
        secsim_fatal("%s: NULL certificate", fn);
    secsim_check(cert, sec_ref_type_certificate(), fn);
    return ((sec_objbody *)secsim_body(cert))->impl;
}

SECSIM_EXPORT SecCertificateRef SecCertificateCreateWithData(CFAllocatorRef allocator, CFDataRef data)
{
    (void)allocator;
    if (data == NULL)
        secsim_fatal("SecCertificateCreateWithData: NULL data");
    secsim_check(data, SECSIM_TYPE_DATA, "SecCertificateCreateWithData");
    if (sec_crypto() == NULL) {
        fprintf(stderr, "secsim: SecCertificateCreateWithData: %s\n", sec_crypto_why());
        return NULL;
    }
    return (SecCertificateRef)sec_cert_from_der(CFDataGetBytePtr(data), (size_t)CFDataGetLength(data));
}

SECSIM_EXPORT CFDataRef SecCertificateCopyData(SecCertificateRef certificate)
{
    const certmat *m = cert_operand(certificate, "SecCertificateCopyData");
    return m ? CFDataCreate(NULL, m->base.der, (CFIndex)m->base.nder) : NULL;
}

SECSIM_EXPORT CFStringRef SecCertificateCopySubjectSummary(SecCertificateRef certificate)
{
    const certmat *m = cert_operand(certificate, "SecCertificateCopySubjectSummary");
    return m ? subject_summary(m) : NULL;
}

SECSIM_EXPORT OSStatus SecCertificateCopyCommonName(SecCertificateRef certificate, CFStringRef *commonName)
{
    if (certificate == NULL || commonName == NULL)
        return errSecParam;
    const certmat *m = cert_operand(certificate, "SecCertificateCopyCommonName");
    if (m == NULL)
        return errSecParam;
    collect c;
    collect_values(m, OID_CN, sizeof OID_CN, &c);
    if (c.count == 0)
        return -26276;                                    /* errSecInternal; *commonName untouched */
    *commonName = string_value(&c.found[c.count - 1]);   /* the last CN */
    return errSecSuccess;
}

CFTypeRef sec_cert_copy_key(const sec_certmat *base)
{
    const certmat *m = (const certmat *)base;
    const uint8_t *p = m->spki_alg.c;
    der oid;
    if (!der_next(&p, m->spki_alg.c + m->spki_alg.cn, &oid) || m->spki_bits.c[0] != 0)
        return NULL;
    int type = oid_is(&oid, OID_RSA, sizeof OID_RSA) ? SEC_KT_RSA : oid_is(&oid, OID_EC, sizeof OID_EC) ? SEC_KT_EC : 0;
    if (type == 0)
        return NULL;                                      /* H-Cert: RSA and EC only */
    OSStatus st;
    char msg[120];
    return sec_key_from_bytes(type, false, false, m->spki_bits.c + 1, m->spki_bits.cn - 1, &st, msg, sizeof msg);
}

SECSIM_EXPORT SecKeyRef SecCertificateCopyKey(SecCertificateRef certificate)
{
    const certmat *m = cert_operand(certificate, "SecCertificateCopyKey");
    return m ? (SecKeyRef)sec_cert_copy_key(&m->base) : NULL;
}

/* ------------------------------------------------------------------ */
/* SecIdentity */

typedef struct idmat {
    CFTypeRef cert;
    CFTypeRef key;
} idmat;

void sec_identity_finalize_impl(void *impl)
{
    idmat *m = impl;
    if (m == NULL)
        return;
    CFRelease(m->cert);
    CFRelease(m->key);
    free(m);
}

bool sec_identity_impl_equal(const void *a, const void *b)
{
    const idmat *x = a, *y = b;
    return CFEqual(x->cert, y->cert) && CFEqual(x->key, y->key);
}

const void *sec_identity_cert_impl(const void *identity_impl)
{
    return sec_cert_material(((const idmat *)identity_impl)->cert);
}

/* True if the key's public key is the certificate's (Id SecIdentityCreate). */
static bool key_matches_cert(CFTypeRef cert, CFTypeRef key)
{
    const sec_certmat *cm = sec_cert_material(cert);
    const sec_keymat *km = sec_key_material(key);
    if (cm == NULL || km == NULL || !km->priv)
        return false;
    CFTypeRef ck = sec_cert_copy_key(cm);
    const sec_keymat *ckm = sec_key_material(ck);
    bool same = ckm != NULL && ckm->npub == km->npub && memcmp(ckm->pub, km->pub, km->npub) == 0;
    if (ck != NULL)
        CFRelease(ck);
    return same;
}

static CFTypeRef identity_object(CFTypeRef cert, CFTypeRef key, int impl, int64_t rowid)
{
    idmat *m = sec_xmalloc(sizeof *m);
    m->cert = CFRetain(cert);
    m->key = CFRetain(key);
    CFTypeRef obj = secsim_create_instance(sec_ref_type_identity(), sizeof(sec_objbody));
    sec_objbody *b = secsim_body(obj);
    b->ref.impl = (uint8_t)impl;
    b->ref.cls = CLS_IDNT;
    b->ref.rowid = rowid;
    b->impl = m;
    return obj;
}

SECSIM_EXPORT SecIdentityRef SecIdentityCreate(CFAllocatorRef allocator, SecCertificateRef certificate,
                                              SecKeyRef privateKey)
{
    (void)allocator;
    cert_operand(certificate, "SecIdentityCreate");
    secsim_check(privateKey, sec_ref_type_key(), "SecIdentityCreate");
    if (!key_matches_cert(certificate, privateKey))
        return NULL;
    return (SecIdentityRef)identity_object(certificate, privateKey, 0, 0);
}

static const idmat *identity_operand(SecIdentityRef identity)
{
    if (identity == NULL || !secsim_is(identity, sec_ref_type_identity()))
        return NULL;
    return ((sec_objbody *)secsim_body(identity))->impl;
}

SECSIM_EXPORT OSStatus SecIdentityCopyCertificate(SecIdentityRef identityRef, SecCertificateRef *certificateRef)
{
    const idmat *m = identity_operand(identityRef);
    if (m == NULL || certificateRef == NULL)
        return errSecParam;                               /* IdOSX: -50 */
    *certificateRef = (SecCertificateRef)CFRetain(m->cert);
    return errSecSuccess;
}

SECSIM_EXPORT OSStatus SecIdentityCopyPrivateKey(SecIdentityRef identityRef, SecKeyRef *privateKeyRef)
{
    const idmat *m = identity_operand(identityRef);
    if (m == NULL || privateKeyRef == NULL)
        return errSecParam;
    *privateKeyRef = (SecKeyRef)CFRetain(m->key);
    return errSecSuccess;
}

/* ---- the identity view (4.6: keys JOIN cert ON pkhh = klbl, priv) ---- */

static sitem **g_view;
static size_t g_nview;

static bool sval_data_eq(const sval *a, const sval *b)
{
    return a != NULL && b != NULL && a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
}

/* The private-key item of the implementation whose klbl is the cert's pkhh. */
static sitem *key_for_cert(const sitem *cert)
{
    const sval *pkhh = item_get(cert, "pkhh");
    if (pkhh == NULL)
        return NULL;
    for (size_t i = 0; i < g_kc.n; i++) {
        sitem *k = g_kc.items[i];
        if (k->impl != cert->impl || k->cls != CLS_KEYS)
            continue;
        const sval *kcls = item_get(k, "kcls");
        if (kcls != NULL && kcls->tag == SV_INT && kcls->i == 1 && sval_data_eq(item_get(k, "klbl"), pkhh))
            return k;
    }
    return NULL;
}

static bool readable(const sitem *it)
{
    if (it->impl != IMPL_DP)
        return true;
    const sval *g = item_get(it, "agrp");
    return g != NULL && g->tag == SV_STR && sec_group_held(g->p, g->n, false);
}

void sec_identity_view_free(void)
{
    for (size_t i = 0; i < g_nview; i++)
        item_free(g_view[i]);
    free(g_view);
    g_view = NULL;
    g_nview = 0;
}

size_t sec_identity_view(sitem ***out)
{
    sec_identity_view_free();
    g_view = sec_xmalloc((g_kc.n ? g_kc.n : 1) * sizeof *g_view);
    for (size_t i = 0; i < g_kc.n; i++) {
        const sitem *cert = g_kc.items[i];
        if (cert->cls != CLS_CERT)
            continue;
        const sitem *key = key_for_cert(cert);
        if (key == NULL || !readable(cert) || !readable(key))
            continue;
        /* The union of both rows (the certificate's value where both have
         * one); the key's data; the certificate's rowid (SecItem.m uses the
         * certificate's persistent reference for an identity). */
        sitem *v = item_clone(cert);
        v->cls = CLS_IDNT;
        for (size_t a = 0; a < key->nattrs; a++)
            if (item_get(v, key->attrs[a].key) == NULL)
                item_set(v, key->attrs[a].key, sval_copy(&key->attrs[a].v));
        item_set_data(v, key->data, key->dlen);
        g_view[g_nview++] = v;
    }
    *out = g_view;
    return g_nview;
}

void *sec_identity_impl_from_item(const sitem *it)
{
    if (it->cls != CLS_CERT)
        return NULL;                                      /* an identity is found through its certificate */
    sitem *key = key_for_cert(it);
    if (key == NULL)
        return NULL;
    CFTypeRef cert = sec_ref_create(it->impl, CLS_CERT, it->rowid);
    CFTypeRef k = sec_ref_create(key->impl, CLS_KEYS, key->rowid);
    idmat *m = NULL;
    if (sec_cert_material(cert) != NULL && sec_key_material(k) != NULL) {
        m = sec_xmalloc(sizeof *m);
        m->cert = CFRetain(cert);
        m->key = CFRetain(k);
    }
    CFRelease(cert);
    CFRelease(k);
    return m;
}

/* ---- SecItem with identities (SecItem.m explode_identity) ---- */

static CFMutableDictionaryRef with_ref(CFDictionaryRef d, CFStringRef cls, CFTypeRef ref)
{
    CFMutableDictionaryRef q = CFDictionaryCreateMutableCopy(NULL, 0, d);
    CFIndex n = CFDictionaryGetCount(q);
    const void **kv = sec_xmalloc((size_t)(n ? n : 1) * 2 * sizeof *kv);
    CFDictionaryGetKeysAndValues(q, kv, kv + n);
    for (CFIndex i = 0; i < n; i++) {
        CFIndex len = 0;
        const char *s = secsim_is(kv[i], SECSIM_TYPE_STRING) ? secsim_string_utf8(kv[i], &len) : "";
        if (len == 5 && (memcmp(s, "class", 5) == 0 || memcmp(s, "v_Ref", 5) == 0))
            CFDictionaryRemoveValue(q, kv[i]);
    }
    free(kv);
    sec_dict_put(q, "class", CFRetain(cls));
    if (ref != NULL)
        sec_dict_put(q, "v_Ref", CFRetain(ref));
    return q;
}

/* SecItemDelete of an identity's certificate keeps the key while another
 * certificate (same public-key hash, same nleg) still uses it. */
static bool key_still_used(CFDictionaryRef d, const idmat *m)
{
    const sec_keymat *km = sec_key_material(m->key);
    CFMutableDictionaryRef left = CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                                                            &kCFTypeDictionaryValueCallBacks);
    sec_dict_put(left, "class", CFRetain(kSecClassCertificate));
    sec_dict_put(left, "pkhh", CFDataCreate(NULL, km->klbl, 20));
    CFTypeRef nleg = sec_dict_find(d, "nleg");
    if (nleg != NULL)
        sec_dict_put(left, "nleg", CFRetain(nleg));
    bool used = SecItemCopyMatching(left, NULL) == errSecSuccess;
    CFRelease(left);
    return used;
}

/* Add (op 0) or delete (op 3) an identity's key; a duplicate key is no
 * error when its certificate was new. */
static OSStatus key_part(int op, CFDictionaryRef d, const idmat *m, bool duplicate_cert)
{
    CFMutableDictionaryRef kq = with_ref(d, kSecClassKey, m->key);
    sec_dict_put(kq, "r_PersistentRef", CFRetain(kCFBooleanFalse));
    OSStatus kst = op == 0 ? SecItemAdd(kq, NULL) : SecItemDelete(kq);
    if (op == 0 && kst == errSecDuplicateItem && !duplicate_cert)
        kst = errSecSuccess;
    CFRelease(kq);
    return kst;
}

/* Add (op 0) or delete (op 3) an identity given by kSecValueRef: its
 * certificate, then its key. */
static OSStatus identity_parts(int op, CFDictionaryRef d, const idmat *m, CFTypeRef *result)
{
    CFMutableDictionaryRef q = with_ref(d, kSecClassCertificate, m->cert);
    OSStatus st = op == 0 ? SecItemAdd(q, result) : SecItemDelete(q);
    bool duplicate_cert = false;
    if (op == 0 && st == errSecDuplicateItem) {
        duplicate_cert = true;
        st = errSecSuccess;
    }
    if ((st == errSecSuccess || st == errSecItemNotFound) && !(op == 3 && key_still_used(d, m)))
        st = key_part(op, d, m, duplicate_cert);
    CFRelease(q);
    return st;
}

/* A query whose kSecValueRef is a SecIdentity. */
static bool explode_ref(int op, CFDictionaryRef d, CFTypeRef ref, CFTypeRef *result, OSStatus *status)
{
    const idmat *m = identity_operand((SecIdentityRef)ref);
    if (op == 1 /* copy */)
        return false;                                     /* matched through the identity view */
    if (m == NULL)
        *status = errSecInvalidItemRef;
    else if (op == 2 /* update */)
        *status = errSecParam;                            /* emu: identities are updated through their parts */
    else
        *status = identity_parts(op, d, m, result);
    return true;
}

/* A query of kSecClassIdentity without a kSecValueRef. */
static bool explode_class(int op, CFDictionaryRef d, OSStatus *status)
{
    if (op == 3) {
        CFMutableDictionaryRef q = with_ref(d, kSecClassCertificate, NULL);
        OSStatus st = SecItemDelete(q);
        if (st == errSecSuccess) {
            CFRelease(q);
            q = with_ref(d, kSecClassKey, NULL);
            st = SecItemDelete(q);
        }
        CFRelease(q);
        *status = st;
        return true;
    }
    if (op == 0 || op == 2) {
        /* emu: an identity is not a row; add it by kSecValueRef, change its parts. */
        *status = errSecParam;
        return true;
    }
    return false;
}

bool sec_identity_explode(int op, CFDictionaryRef d, CFTypeRef *result, OSStatus *status)
{
    if (d == NULL || !secsim_is(d, SECSIM_TYPE_DICTIONARY))
        return false;
    CFTypeRef ref = sec_dict_find(d, "v_Ref");
    if (ref != NULL && secsim_is(ref, sec_ref_type_identity()))
        return explode_ref(op, d, ref, result, status);
    CFTypeRef cls = sec_dict_find(d, "class");
    if (cls == NULL || !CFEqual(cls, kSecClassIdentity))
        return false;
    return explode_class(op, d, status);
}

/* ------------------------------------------------------------------ */
/* SecPKCS12Import (4.7) */

/* SecImportExport.h constants (2.2; values from P12OSX). */
#define P12_CONST(name, value) \
    static struct __CFString name##_storage = SECSIM_STATIC_STRING_INIT(value); \
    SECSIM_EXPORT const CFStringRef name = &name##_storage;
P12_CONST(kSecImportExportPassphrase, "passphrase")
P12_CONST(kSecImportExportKeychain, "keychain")
P12_CONST(kSecImportExportAccess, "access")
P12_CONST(kSecImportToMemoryOnly, "memory")
P12_CONST(kSecImportItemLabel, "label")
P12_CONST(kSecImportItemKeyID, "keyid")
P12_CONST(kSecImportItemTrust, "trust")
P12_CONST(kSecImportItemCertChain, "chain")
P12_CONST(kSecImportItemIdentity, "identity")
#undef P12_CONST

static CFTypeRef cert_from_x509(const sec_crypto_api *c, X509 *x)
{
    int len = c->i2d_X509(x, NULL);
    if (len <= 0)
        return NULL;
    uint8_t *buf = sec_xmalloc((size_t)len);
    unsigned char *p = buf;
    CFTypeRef cert = c->i2d_X509(x, &p) == len ? sec_cert_from_der(buf, (size_t)len) : NULL;
    free(buf);
    return cert;
}

static void x509_free_cb(void *x)
{
    const sec_crypto_api *c = sec_crypto();
    c->X509_free(x);
}

/* Add one item (kSecValueRef = obj) with nleg; a duplicate is not an error. */
static OSStatus store_ref(CFTypeRef obj, CFStringRef cls, bool dp)
{
    CFMutableDictionaryRef d = CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                                                         &kCFTypeDictionaryValueCallBacks);
    if (cls != NULL)
        sec_dict_put(d, "class", CFRetain(cls));
    sec_dict_put(d, "v_Ref", CFRetain(obj));
    sec_dict_put(d, "nleg", CFRetain(dp ? kCFBooleanTrue : kCFBooleanFalse));
    OSStatus st = SecItemAdd(d, NULL);
    CFRelease(d);
    return st == errSecDuplicateItem ? errSecSuccess : st;
}

static int current_profile(void)
{
    sec_lock();
    int p = g_sec.profile;
    sec_unlock();
    return p;
}

/* Decode a PKCS#12 file and check its password-integrity MAC; on success
 * the caller owns *pkey, *leaf and *ca (each may be NULL). */
static OSStatus p12_decode(const sec_crypto_api *c, CFDataRef data, const char *pass, EVP_PKEY **pkey, X509 **leaf,
                           OPENSSL_STACK **ca)
{
    CFIndex n = CFDataGetLength(data);
    const unsigned char *p = CFDataGetBytePtr(data);
    PKCS12 *p12 = c->d2i_PKCS12(NULL, &p, (long)n);
    OSStatus st = errSecSuccess;
    if (p12 == NULL || !c->PKCS12_mac_present(p12))
        st = errSecDecode;                                /* no password-integrity MAC */
    else if (c->PKCS12_verify_mac(p12, pass, -1) != 1)
        st = errSecAuthFailed;                            /* not errSecPkcs12VerifyFailure (4.7) */
    else if (c->PKCS12_parse(p12, pass, pkey, leaf, ca) != 1)
        st = errSecDecode;
    if (p12 != NULL)
        c->PKCS12_free(p12);
    c->ERR_clear_error();
    return st;
}

/* What a PKCS#12 file yields: each owned, NULL when absent. */
typedef struct p12_parts {
    CFTypeRef key;
    CFTypeRef cert;
    CFTypeRef identity;
    CFMutableArrayRef chain;
} p12_parts;

static void p12_parts_release(p12_parts *p)
{
    if (p->chain != NULL)
        CFRelease(p->chain);
    if (p->identity != NULL)
        CFRelease(p->identity);
    if (p->key != NULL)
        CFRelease(p->key);
    if (p->cert != NULL)
        CFRelease(p->cert);
}

/* The identity of a matching key and leaf, and the chain: the leaf first,
 * then the file's other certificates. */
static OSStatus p12_identity(const sec_crypto_api *c, OPENSSL_STACK *ca, p12_parts *out)
{
    if (!key_matches_cert(out->cert, out->key))
        return errSecDecode;                              /* a key that does not match its certificate */
    out->identity = identity_object(out->cert, out->key, 0, 0);
    out->chain = CFArrayCreateMutable(NULL, 0, &kCFTypeArrayCallBacks);
    CFArrayAppendValue(out->chain, out->cert);
    for (int i = 0; ca != NULL && i < c->OPENSSL_sk_num(ca); i++) {
        CFTypeRef other = cert_from_x509(c, c->OPENSSL_sk_value(ca, i));
        if (other == NULL)
            return errSecDecode;
        CFArrayAppendValue(out->chain, other);
        CFRelease(other);
    }
    return errSecSuccess;
}

/* The SecKey, SecCertificate, SecIdentity and chain of what p12_decode
 * returned; takes pkey, leaf and ca. */
static OSStatus p12_convert(const sec_crypto_api *c, EVP_PKEY *pkey, X509 *leaf, OPENSSL_STACK *ca, p12_parts *out)
{
    OSStatus st = errSecSuccess;
    out->key = pkey ? sec_key_from_pkey(c, pkey, true) : NULL;   /* takes pkey */
    out->cert = leaf ? cert_from_x509(c, leaf) : NULL;
    if (out->key != NULL && out->cert != NULL)
        st = p12_identity(c, ca, out);
    else if (pkey != NULL || leaf != NULL)
        st = errSecDecode;                                /* RSA and EC keys only; a parsable certificate */
    if (leaf != NULL)
        c->X509_free(leaf);
    if (ca != NULL)
        c->OPENSSL_sk_pop_free(ca, x509_free_cb);
    return st;
}

/* The result's one dictionary; the file-based keychain's import also
 * reports the label and the key's id. */
static CFMutableDictionaryRef p12_entry(const p12_parts *p, bool to_fb)
{
    CFMutableDictionaryRef entry = CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                                                             &kCFTypeDictionaryValueCallBacks);
    sec_dict_put(entry, "identity", CFRetain(p->identity));
    sec_dict_put(entry, "chain", CFRetain(p->chain));
    if (to_fb) {
        const sec_keymat *km = sec_key_material(p->key);
        CFStringRef label = subject_summary(sec_cert_material(p->cert) ? (const certmat *)sec_cert_material(p->cert)
                                                                       : NULL);
        if (label != NULL)
            sec_dict_put(entry, "label", label);
        sec_dict_put(entry, "keyid", CFDataCreate(NULL, km->klbl, 20));
    }
    return entry;
}

SECSIM_EXPORT OSStatus SecPKCS12Import(CFDataRef pkcs12_data, CFDictionaryRef options, CFArrayRef *items)
{
    if (items == NULL)
        return errSecParam;                               /* P12OSX */
    if (pkcs12_data == NULL)
        secsim_fatal("SecPKCS12Import: NULL pkcs12_data");
    secsim_check(pkcs12_data, SECSIM_TYPE_DATA, "SecPKCS12Import");
    if (options != NULL)
        secsim_check(options, SECSIM_TYPE_DICTIONARY, "SecPKCS12Import");
    const sec_crypto_api *c = sec_crypto();
    if (c == NULL) {
        fprintf(stderr, "secsim: SecPKCS12Import: %s\n", sec_crypto_why());
        return errSecUnimplemented;
    }
    /* No options or no passphrase: the empty string (4.7). */
    CFTypeRef pw = options ? sec_dict_find(options, "passphrase") : NULL;
    const char *pass = pw != NULL && secsim_is(pw, SECSIM_TYPE_STRING) ? secsim_string_utf8(pw, NULL) : "";
    EVP_PKEY *pkey = NULL;
    X509 *leaf = NULL;
    OPENSSL_STACK *ca = NULL;
    OSStatus st = p12_decode(c, pkcs12_data, pass, &pkey, &leaf, &ca);
    if (st != errSecSuccess)
        return st;
    CFMutableArrayRef result = CFArrayCreateMutable(NULL, 0, &kCFTypeArrayCallBacks);
    p12_parts parts = {NULL, NULL, NULL, NULL};
    st = p12_convert(c, pkey, leaf, ca, &parts);
    int profile = current_profile();
    if (st == errSecSuccess && parts.identity != NULL) {
        CFTypeRef memory = options ? sec_dict_find(options, "memory") : NULL;
        CFTypeRef nleg = options ? sec_dict_find(options, "nleg") : NULL;
        /* Pointer comparisons, as P12OSX does: a CFNumber 1 is not true. */
        bool to_dp = memory != kCFBooleanTrue && nleg == kCFBooleanTrue;
        bool to_fb = profile == PROFILE_MACOS && memory != kCFBooleanTrue && nleg != kCFBooleanTrue;
        CFMutableDictionaryRef entry = p12_entry(&parts, to_fb);
        CFArrayAppendValue(result, entry);
        CFRelease(entry);
        *items = result;                                  /* set even if storing fails (4.7) */
        result = NULL;
        if (to_dp || to_fb) {
            st = store_ref(parts.identity, NULL, to_dp);
            for (CFIndex i = 1; st == errSecSuccess && i < CFArrayGetCount(parts.chain); i++)
                st = store_ref(CFArrayGetValueAtIndex(parts.chain, i), kSecClassCertificate, to_dp);
        }
    } else if (st == errSecSuccess) {
        *items = result;
        result = NULL;
    }
    if (result != NULL)
        CFRelease(result);
    p12_parts_release(&parts);
    return st;
}
