/*
 * cf_string.c - CFString.
 *
 * A string stores strict UTF-8 (no overlong forms, no surrogate code points,
 * nothing above U+10FFFF), NUL-terminated, with embedded NULs allowed, plus
 * its length in UTF-16 code units (CFStringGetLength counts those).  The
 * UTF-16 view needed by CFStringGetBytes ranges is built on demand.
 *
 * Encodings:
 *   UTF-8, UTF-16 (host order, BOM-aware), UTF-16BE/LE, UTF-32 (host order,
 *   BOM-aware), UTF-32BE/LE, ASCII (bytes above 127 are invalid).
 *   ISO Latin-1, Windows Latin-1, MacRoman and NextStepLatin are all treated
 *   as ISO Latin-1 (byte N is U+00NN).  That is exact for Latin-1 and for
 *   ASCII text in the other three; their 0x80-0xFF mappings differ on a real
 *   Mac.  The emulator only needs them for completeness.
 *   Any other encoding (NonLossyASCII included) is unsupported: creation
 *   returns NULL and conversion converts nothing.
 *
 * Decisions where Apple's documentation is silent (facts §1.4):
 *   - Creating from UTF-16/UTF-32 (the unmarked forms): a leading BOM picks
 *     the byte order and is dropped; without one the bytes are big-endian if
 *     isExternalRepresentation is true, host order otherwise.  The BE/LE
 *     forms never interpret a BOM (U+FEFF stays part of the text).  A UTF-8
 *     BOM is dropped only when isExternalRepresentation is true.
 *   - Unpaired surrogates in UTF-16 input make creation fail (NULL): the
 *     emulator stores UTF-8, which cannot carry them.
 *   - CFStringGetBytes with isExternalRepresentation writes a BOM (host
 *     order) for the unmarked UTF-16 and UTF-32 encodings only; it counts in
 *     usedBufLen.  A character that cannot be encoded is replaced by one
 *     lossByte (a surrogate pair, i.e. one non-BMP character, gives one
 *     lossByte and counts as two converted UTF-16 units); with lossByte 0
 *     conversion stops there.  Conversion also stops before the first
 *     character that does not fit in maxBufLen.
 *   - CFStringGetCString writes a single NUL byte after the converted bytes,
 *     whatever the encoding.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf_private.h"

CFTypeID CFStringGetTypeID(void) { return SECSIM_TYPE_STRING; }

/* ---- UTF-8 ---- */

/* Decode one code point at s[*i] (strict).  Returns false on bad input. */
static bool utf8_next(const unsigned char *s, size_t n, size_t *i, uint32_t *cp)
{
    size_t k = *i;
    unsigned char c = s[k];
    if (c < 0x80) {
        *cp = c;
        *i = k + 1;
        return true;
    }
    size_t len;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2; v = c & 0x1F; min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3; v = c & 0x0F; min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4; v = c & 0x07; min = 0x10000;
    } else {
        return false;
    }
    if (n - k < len)
        return false;
    for (size_t j = 1; j < len; j++) {
        unsigned char t = s[k + j];
        if ((t & 0xC0) != 0x80)
            return false;
        v = (v << 6) | (t & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return false;
    *cp = v;
    *i = k + len;
    return true;
}

/* Validate UTF-8; on success store the UTF-16 length. */
static bool utf8_validate(const unsigned char *s, size_t n, CFIndex *nutf16)
{
    CFIndex units = 0;
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) { /* fast path for ASCII runs */
            i++;
            units++;
            continue;
        }
        uint32_t cp;
        if (!utf8_next(s, n, &i, &cp))
            return false;
        units += cp >= 0x10000 ? 2 : 1;
    }
    *nutf16 = units;
    return true;
}

static size_t utf8_encode(uint32_t cp, unsigned char out[4])
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- objects ---- */

/* Take ownership of buf (n bytes + room for a NUL, already UTF-8). */
static CFStringRef string_adopt(char *buf, size_t n, CFIndex nutf16)
{
    struct __CFString *s = cf_alloc(SECSIM_TYPE_STRING, sizeof *s);
    buf[n] = '\0';
    s->nbytes = (CFIndex)n;
    s->nutf16 = nutf16;
    s->bytes = buf;
    return s;
}

CFStringRef cf_string_create_utf8(const char *p, size_t n)
{
    CFIndex units;
    if (!utf8_validate((const unsigned char *)p, n, &units))
        return NULL;
    char *buf = cf_xmalloc(n + 1);
    if (n)
        memcpy(buf, p, n);
    return string_adopt(buf, n, units);
}

static void string_finalize(CFTypeRef obj)
{
    struct __CFString *s = (struct __CFString *)obj;
    free((void *)s->bytes);
    s->bytes = NULL;
}

static Boolean string_equal(CFTypeRef a, CFTypeRef b)
{
    CFStringRef x = a, y = b;
    return x->nbytes == y->nbytes && memcmp(x->bytes, y->bytes, (size_t)x->nbytes) == 0;
}

static CFHashCode string_hash(CFTypeRef obj)
{
    CFStringRef s = obj;
    return cf_hash_bytes(s->bytes, (size_t)s->nbytes, 0);
}

void cf_string_describe_quoted(cf_sb *sb, CFStringRef s)
{
    cf_sb_putn(sb, "\"", 1);
    const char *p = s->bytes;
    size_t start = 0, n = (size_t)s->nbytes;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        const char *esc = NULL;
        char tmp[8];
        if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c == '\n') esc = "\\n";
        else if (c == '\r') esc = "\\r";
        else if (c == '\t') esc = "\\t";
        else if (c < 0x20 || c == 0x7F) {
            snprintf(tmp, sizeof tmp, "\\u%04x", c);
            esc = tmp;
        }
        if (esc) {
            cf_sb_putn(sb, p + start, i - start);
            cf_sb_puts(sb, esc);
            start = i + 1;
        }
    }
    cf_sb_putn(sb, p + start, n - start);
    cf_sb_putn(sb, "\"", 1);
}

static void string_describe(cf_sb *sb, CFTypeRef obj, bool nested, int depth)
{
    (void)depth;
    CFStringRef s = obj;
    if (nested)
        cf_string_describe_quoted(sb, s);
    else
        cf_sb_putn(sb, s->bytes, (size_t)s->nbytes);
}

const cf_type_ops cf_string_ops = {
    "CFString", string_finalize, string_equal, string_hash, string_describe,
};

CFStringRef secsim_string(const char *utf8)
{
    if (!utf8)
        secsim_fatal("secsim_string: NULL C string");
    return cf_string_create_utf8(utf8, strlen(utf8));
}

const char *secsim_string_utf8(CFStringRef s, CFIndex *nbytes)
{
    secsim_check(s, SECSIM_TYPE_STRING, "secsim_string_utf8");
    if (nbytes)
        *nbytes = s->nbytes;
    return s->bytes;
}

/* ---- encodings ---- */

typedef enum {
    ENC_UNSUPPORTED,
    ENC_UTF8,
    ENC_ASCII,
    ENC_LATIN1,
    ENC_UTF16,   /* host order, BOM-aware */
    ENC_UTF16BE,
    ENC_UTF16LE,
    ENC_UTF32,   /* host order, BOM-aware */
    ENC_UTF32BE,
    ENC_UTF32LE,
} enc_kind;

static enc_kind encoding_kind(CFStringEncoding e)
{
    switch (e) {
    case kCFStringEncodingUTF8: return ENC_UTF8;
    case kCFStringEncodingASCII: return ENC_ASCII;
    case kCFStringEncodingISOLatin1:
    case kCFStringEncodingWindowsLatin1:
    case kCFStringEncodingMacRoman:
    case kCFStringEncodingNextStepLatin: return ENC_LATIN1;
    case kCFStringEncodingUTF16: return ENC_UTF16;
    case kCFStringEncodingUTF16BE: return ENC_UTF16BE;
    case kCFStringEncodingUTF16LE: return ENC_UTF16LE;
    case kCFStringEncodingUTF32: return ENC_UTF32;
    case kCFStringEncodingUTF32BE: return ENC_UTF32BE;
    case kCFStringEncodingUTF32LE: return ENC_UTF32LE;
    default: return ENC_UNSUPPORTED;
    }
}

static bool host_is_big_endian(void)
{
    return __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
}

/* A growable UTF-8 output for decoding. */
typedef struct {
    char *p;
    size_t len, cap;
    CFIndex units;
} u8out;

static void u8out_put(u8out *o, uint32_t cp)
{
    if (o->len + 5 > o->cap) {
        o->cap = o->cap ? o->cap * 2 : 32;
        o->p = cf_xrealloc(o->p, o->cap);
    }
    o->len += utf8_encode(cp, (unsigned char *)o->p + o->len);
    o->units += cp >= 0x10000 ? 2 : 1;
}

static uint32_t read16(const UInt8 *p, bool big)
{
    return big ? (uint32_t)(p[0] << 8 | p[1]) : (uint32_t)(p[1] << 8 | p[0]);
}

static uint32_t read32(const UInt8 *p, bool big)
{
    return big ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
               : ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
}

static bool decode_utf16(u8out *o, const UInt8 *b, size_t n, enc_kind k, bool external)
{
    if (n % 2)
        return false;
    bool big;
    if (k == ENC_UTF16BE) {
        big = true;
    } else if (k == ENC_UTF16LE) {
        big = false;
    } else if (n >= 2 && ((b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0xFF && b[1] == 0xFE))) {
        big = b[0] == 0xFE;
        b += 2;
        n -= 2;
    } else {
        big = external ? true : host_is_big_endian();
    }
    for (size_t i = 0; i < n; i += 2) {
        uint32_t u = read16(b + i, big);
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (i + 4 > n)
                return false;
            uint32_t lo = read16(b + i + 2, big);
            if (lo < 0xDC00 || lo > 0xDFFF)
                return false;
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            i += 2;
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            return false;
        }
        u8out_put(o, u);
    }
    return true;
}

static bool decode_utf32(u8out *o, const UInt8 *b, size_t n, enc_kind k, bool external)
{
    if (n % 4)
        return false;
    bool big;
    if (k == ENC_UTF32BE) {
        big = true;
    } else if (k == ENC_UTF32LE) {
        big = false;
    } else if (n >= 4 && read32(b, true) == 0xFEFF) {
        big = true;
        b += 4;
        n -= 4;
    } else if (n >= 4 && read32(b, false) == 0xFEFF) {
        big = false;
        b += 4;
        n -= 4;
    } else {
        big = external ? true : host_is_big_endian();
    }
    for (size_t i = 0; i < n; i += 4) {
        uint32_t u = read32(b + i, big);
        if (u > 0x10FFFF || (u >= 0xD800 && u <= 0xDFFF))
            return false;
        u8out_put(o, u);
    }
    return true;
}

CFStringRef CFStringCreateWithBytes(CFAllocatorRef alloc, const UInt8 *bytes, CFIndex numBytes,
                                    CFStringEncoding encoding, Boolean isExternalRepresentation)
{
    (void)alloc;
    if (numBytes < 0)
        secsim_fatal("CFStringCreateWithBytes: negative byte count %ld", numBytes);
    if (!bytes && numBytes > 0)
        secsim_fatal("CFStringCreateWithBytes: NULL bytes with length %ld", numBytes);
    size_t n = (size_t)numBytes;
    enc_kind k = encoding_kind(encoding);
    switch (k) {
    case ENC_UNSUPPORTED:
        return NULL;
    case ENC_UTF8:
        if (isExternalRepresentation && n >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) {
            bytes += 3;
            n -= 3;
        }
        return cf_string_create_utf8((const char *)bytes, n);
    case ENC_ASCII:
        for (size_t i = 0; i < n; i++)
            if (bytes[i] > 127)
                return NULL;
        return cf_string_create_utf8((const char *)bytes, n);
    default:
        break;
    }
    u8out o = { 0 };
    bool ok = true;
    if (k == ENC_LATIN1) {
        for (size_t i = 0; i < n; i++)
            u8out_put(&o, bytes[i]);
    } else if (k == ENC_UTF16 || k == ENC_UTF16BE || k == ENC_UTF16LE) {
        ok = decode_utf16(&o, bytes, n, k, isExternalRepresentation);
    } else {
        ok = decode_utf32(&o, bytes, n, k, isExternalRepresentation);
    }
    if (!ok) {
        free(o.p);
        return NULL;
    }
    if (!o.p)
        o.p = cf_xmalloc(1);
    else if (o.len + 1 > o.cap)
        o.p = cf_xrealloc(o.p, o.len + 1);
    return string_adopt(o.p, o.len, o.units);
}

CFStringRef CFStringCreateWithCString(CFAllocatorRef alloc, const char *cStr, CFStringEncoding encoding)
{
    if (!cStr)
        secsim_fatal("CFStringCreateWithCString: NULL C string");
    return CFStringCreateWithBytes(alloc, (const UInt8 *)cStr, (CFIndex)strlen(cStr), encoding, 0);
}

CFIndex CFStringGetLength(CFStringRef theString)
{
    secsim_check(theString, SECSIM_TYPE_STRING, "CFStringGetLength");
    return theString->nutf16;
}

CFIndex CFStringGetMaximumSizeForEncoding(CFIndex length, CFStringEncoding encoding)
{
    CFIndex per;
    switch (encoding_kind(encoding)) {
    case ENC_UTF8: per = 3; break;
    case ENC_ASCII:
    case ENC_LATIN1: per = 1; break;
    case ENC_UTF16:
    case ENC_UTF16BE:
    case ENC_UTF16LE: per = 2; break;
    case ENC_UTF32:
    case ENC_UTF32BE:
    case ENC_UTF32LE: per = 4; break;
    default: return kCFNotFound;
    }
    if (length < 0 || length > LONG_MAX / per)
        return kCFNotFound;
    return length * per;
}

/* The string as UTF-16 code units (malloc'ed, s->nutf16 units). */
static UniChar *string_utf16(CFStringRef s)
{
    UniChar *u = cf_xmalloc(sizeof(UniChar) * (size_t)(s->nutf16 ? s->nutf16 : 1));
    const unsigned char *p = (const unsigned char *)s->bytes;
    size_t i = 0, n = (size_t)s->nbytes;
    CFIndex k = 0;
    while (i < n) {
        uint32_t cp;
        if (!utf8_next(p, n, &i, &cp))
            secsim_fatal("CFString %p holds invalid UTF-8", (const void *)s);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            u[k++] = (UniChar)(0xD800 + (cp >> 10));
            u[k++] = (UniChar)(0xDC00 + (cp & 0x3FF));
        } else {
            u[k++] = (UniChar)cp;
        }
    }
    return u;
}

static void put16(UInt8 *o, uint32_t v, bool big)
{
    if (big) { o[0] = (UInt8)(v >> 8); o[1] = (UInt8)v; }
    else { o[0] = (UInt8)v; o[1] = (UInt8)(v >> 8); }
}

static void put32(UInt8 *o, uint32_t v, bool big)
{
    if (big) { o[0] = (UInt8)(v >> 24); o[1] = (UInt8)(v >> 16); o[2] = (UInt8)(v >> 8); o[3] = (UInt8)v; }
    else { o[0] = (UInt8)v; o[1] = (UInt8)(v >> 8); o[2] = (UInt8)(v >> 16); o[3] = (UInt8)(v >> 24); }
}

/* Encode one character (a code point, or a lone surrogate) into out.
 * Returns the byte count, 0 if the encoding cannot represent it. */
static size_t encode_one(enc_kind k, uint32_t cp, bool lone_surrogate, UInt8 out[4])
{
    bool hbe = host_is_big_endian();
    switch (k) {
    case ENC_UTF8:
        return lone_surrogate ? 0 : utf8_encode(cp, out);
    case ENC_ASCII:
        if (cp > 127) return 0;
        out[0] = (UInt8)cp;
        return 1;
    case ENC_LATIN1:
        if (cp > 255) return 0;
        out[0] = (UInt8)cp;
        return 1;
    case ENC_UTF16:
    case ENC_UTF16BE:
    case ENC_UTF16LE: {
        bool big = k == ENC_UTF16 ? hbe : k == ENC_UTF16BE;
        if (cp < 0x10000) {
            put16(out, cp, big);
            return 2;
        }
        uint32_t v = cp - 0x10000;
        put16(out, 0xD800 + (v >> 10), big);
        put16(out + 2, 0xDC00 + (v & 0x3FF), big);
        return 4;
    }
    case ENC_UTF32:
    case ENC_UTF32BE:
    case ENC_UTF32LE:
        if (lone_surrogate) return 0;
        put32(out, cp, k == ENC_UTF32 ? hbe : k == ENC_UTF32BE);
        return 4;
    default:
        return 0;
    }
}

/* The conversion behind CFStringGetBytes / CFStringGetCString. */
static CFIndex string_encode(CFStringRef s, CFIndex loc, CFIndex len, enc_kind k, UInt8 lossByte,
                             bool external, UInt8 *buffer, CFIndex maxBufLen, CFIndex *usedBufLen)
{
    CFIndex used = 0, done = 0;
    if (k == ENC_UNSUPPORTED)
        goto out;
    if (maxBufLen < 0)
        maxBufLen = 0;
    if (external && (k == ENC_UTF16 || k == ENC_UTF32)) {
        UInt8 bom[4];
        CFIndex nb = (CFIndex)encode_one(k, 0xFEFF, false, bom);
        if (buffer) {
            if (nb > maxBufLen)
                goto out;
            memcpy(buffer, bom, (size_t)nb);
        }
        used = nb;
    }
    /* Fast path: UTF-8 of the whole string. */
    if (k == ENC_UTF8 && loc == 0 && len == s->nutf16) {
        if (!buffer || s->nbytes <= maxBufLen - used) {
            if (buffer)
                memcpy(buffer + used, s->bytes, (size_t)s->nbytes);
            used += s->nbytes;
            done = len;
            goto out;
        }
    }
    UniChar *u = string_utf16(s);
    CFIndex i = loc, end = loc + len;
    while (i < end) {
        uint32_t cp = u[i];
        CFIndex consumed = 1;
        bool lone = false;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < end && u[i + 1] >= 0xDC00 && u[i + 1] <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (u[i + 1] - 0xDC00u);
            consumed = 2;
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            lone = true;
        }
        UInt8 tmp[4];
        size_t nb = encode_one(k, cp, lone, tmp);
        if (nb == 0) {
            if (lossByte == 0)
                break;
            tmp[0] = lossByte;
            nb = 1;
        }
        if (buffer) {
            if ((CFIndex)nb > maxBufLen - used)
                break;
            memcpy(buffer + used, tmp, nb);
        }
        used += (CFIndex)nb;
        i += consumed;
    }
    free(u);
    done = i - loc;
out:
    if (usedBufLen)
        *usedBufLen = used;
    return done;
}

static void check_range(CFStringRef s, CFRange r, const char *fn)
{
    if (r.location < 0 || r.length < 0 || r.location > s->nutf16 || r.length > s->nutf16 - r.location)
        secsim_fatal("%s: range {%ld, %ld} out of bounds for a string of length %ld", fn,
                     r.location, r.length, s->nutf16);
}

CFIndex CFStringGetBytes(CFStringRef theString, CFRange range, CFStringEncoding encoding, UInt8 lossByte,
                         Boolean isExternalRepresentation, UInt8 *buffer, CFIndex maxBufLen,
                         CFIndex *usedBufLen)
{
    secsim_check(theString, SECSIM_TYPE_STRING, "CFStringGetBytes");
    check_range(theString, range, "CFStringGetBytes");
    return string_encode(theString, range.location, range.length, encoding_kind(encoding), lossByte,
                         isExternalRepresentation != 0, buffer, maxBufLen, usedBufLen);
}

Boolean CFStringGetCString(CFStringRef theString, char *buffer, CFIndex bufferSize, CFStringEncoding encoding)
{
    secsim_check(theString, SECSIM_TYPE_STRING, "CFStringGetCString");
    if (!buffer || bufferSize <= 0)
        return 0;
    enc_kind k = encoding_kind(encoding);
    CFIndex used = 0;
    CFIndex done = string_encode(theString, 0, theString->nutf16, k, 0, false, (UInt8 *)buffer,
                                 bufferSize - 1, &used);
    if (done != theString->nutf16 || k == ENC_UNSUPPORTED) {
        buffer[0] = '\0';
        return 0;
    }
    buffer[used] = '\0';
    return 1;
}

const char *CFStringGetCStringPtr(CFStringRef theString, CFStringEncoding encoding)
{
    secsim_check(theString, SECSIM_TYPE_STRING, "CFStringGetCStringPtr");
    if (encoding == kCFStringEncodingUTF8)
        return theString->bytes;
    /* Every unit is one byte exactly when the text is ASCII. */
    if (encoding == kCFStringEncodingASCII && theString->nbytes == theString->nutf16)
        return theString->bytes;
    return NULL;
}
