/*
 * cf_string.c - CFString.
 *
 * A string stores its UTF-16 code units as UTF-8, NUL-terminated, with
 * embedded NULs allowed: a surrogate pair is one 4-byte character, and an
 * unpaired surrogate (which Apple's CF keeps when a string is created from
 * UTF-16) is its 3-byte form (ED A0..BF xx), so equal unit sequences have
 * equal bytes.  The length in UTF-16 units (CFStringGetLength) is kept; the
 * unit view needed by CFStringGetBytes is built on demand.
 *
 * Every rule below is Apple's CF (swift-corelibs-foundation's CFString.c,
 * CFStringEncodings.c), checked call by call against Apple's CF built for
 * Linux (tools/cf_probe.py, docs/emulator.md lists what is left).
 *
 * Creating (CFStringCreateWithBytes / CFStringCreateWithCString):
 *   - UTF-8: strict (no overlong form, no surrogate, nothing above
 *     U+10FFFF), except that a stray byte 0xA9 reads as U+FFFD; one leading
 *     BOM (EF BB BF) is dropped whatever isExternalRepresentation says.
 *   - UTF-16 without isExternalRepresentation: host order, taken as written
 *     (a leading U+FEFF stays a character).  With it: a leading BOM picks the
 *     order and is dropped, no BOM means big-endian.  UTF-16BE/LE: that
 *     order, U+FEFF kept.  Unpaired surrogates are kept.  A final odd byte
 *     is ignored; a single byte is NULL (an empty string for unmarked,
 *     non-external UTF-16).
 *   - UTF-32 (with or without isExternalRepresentation): a leading BOM picks
 *     the order and is dropped, no BOM means big-endian (while output in
 *     unmarked UTF-32 is in host order, as for UTF-16).  UTF-32BE/LE: that
 *     order.  Values above U+10FFFF and surrogates are NULL; trailing bytes
 *     that do not make a unit are ignored; fewer than 4 bytes is NULL.
 *   - ASCII: bytes above 127 read as ISO Latin-1 (Apple's compatibility
 *     rule).  ISO Latin-1: byte N is U+00NN.  MacRoman, Windows Latin-1,
 *     NextStep Latin: their tables (cf_encodings.c); an undefined byte is
 *     NULL.
 *   - NonLossyASCII: ASCII with escapes: \uXXXX (or \UXXXX), \ooo (octal),
 *     \\ for a backslash; any other backslash use or byte above 127 is NULL.
 *   - Other encodings: NULL.
 *
 * Converting (CFStringGetBytes, CFStringGetCString):
 *   - A buffer with maxBufLen 0 gets nothing (0 converted, usedBufLen 0),
 *     except in UTF-8, which then measures as a NULL buffer does.
 *   - UTF-16 forms write every unit as is (a pair can be split by the
 *     buffer's end).  UTF-32 and UTF-8 write whole characters; an unpaired
 *     surrogate is unencodable (UTF-8 stops there even with a lossByte; UTF-32
 *     writes the lossByte as one 4-byte unit).
 *   - Eight-bit encodings convert unit by unit: an unencodable unit is one
 *     lossByte (a non-BMP character gives two), except MacRoman, which works
 *     by character (one lossByte) and drops default-ignorable characters.
 *     With lossByte 0 conversion stops at the first unencodable unit.
 *   - NonLossyASCII: printable ASCII, tab, LF and CR as is, backslash as
 *     \\, other units below 256 as \ooo, the rest as \uxxxx per unit.
 *   - isExternalRepresentation writes a BOM (host order) for the unmarked
 *     UTF-16 and UTF-32 only; it counts in usedBufLen.
 *   - Conversion stops before the first character that does not fit.
 *   - CFStringGetCString writes a single NUL byte after the converted bytes.
 *   - CFStringGetCStringPtr: the bytes of a string created from ASCII bytes
 *     in an eight-bit encoding (UTF-8 included), of a constant or of an
 *     empty string, for any encoding that is a
 *     superset of ASCII; NULL otherwise (Apple's CF hands out its internal
 *     8-bit buffer only when it ends with a NUL).
 */
#include <limits.h>
#include <pthread.h>
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

/* Write a code point as UTF-16 (a surrogate pair above the BMP); the
 * number of units written. */
static size_t put_utf16(UniChar *u, uint32_t cp)
{
    if (cp < 0x10000) {
        u[0] = (UniChar)cp;
        return 1;
    }
    cp -= 0x10000;
    u[0] = (UniChar)(0xD800 + (cp >> 10));
    u[1] = (UniChar)(0xDC00 + (cp & 0x3FF));
    return 2;
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
    return cf_bytes_equal(x->bytes, (size_t)x->nbytes, y->bytes, (size_t)y->nbytes);
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

CFStringRef secsim_string_stored(const char *p, size_t n)
{
    if (!p && n)
        secsim_fatal("secsim_string_stored: NULL bytes with length %zu", n);
    return cf_string_create_stored(p ? p : "", n);
}

int secsim_hex_digit(unsigned int c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

const char *secsim_string_utf8(CFStringRef s, CFIndex *nbytes)
{
    secsim_check(s, SECSIM_TYPE_STRING, "secsim_string_utf8");
    if (nbytes)
        *nbytes = s->nbytes;
    return s->bytes;
}

/* ---- stored form ---- */

/* Decode one stored character at s[*i]: like utf8_next, but a surrogate
 * code point (3 bytes) is accepted.  The stored bytes are always valid. */
static uint32_t stored_next(const unsigned char *s, size_t n, size_t *i)
{
    size_t k = *i;
    unsigned char c = s[k];
    if (c < 0x80) {
        *i = k + 1;
        return c;
    }
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (n - k < len)
        secsim_fatal("CFString holds truncated bytes");
    uint32_t v = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (size_t j = 1; j < len; j++)
        v = (v << 6) | (s[k + j] & 0x3F);
    *i = k + len;
    return v;
}

static bool is_surrogate_form(const unsigned char *p, size_t n, size_t i)
{
    return p[i] == 0xED && i + 1 < n && p[i + 1] >= 0xA0;
}

/* True if the stored bytes hold an unpaired surrogate. */
static bool has_lone_surrogate(CFStringRef s)
{
    const unsigned char *p = (const unsigned char *)s->bytes;
    size_t n = (size_t)s->nbytes;
    for (size_t i = 0; i < n; i++)
        if (is_surrogate_form(p, n, i))
            return true;
    return false;
}

CFStringRef cf_string_create_stored(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    CFIndex units = 0;
    size_t i = 0;
    while (i < n) {
        size_t k = i;
        uint32_t cp;
        if (is_surrogate_form(u, n, i) && n - i >= 3 && (u[i + 2] & 0xC0) == 0x80) {
            i += 3;
            units += 1;
            continue;
        }
        if (!utf8_next(u, n, &i, &cp))
            return NULL;
        (void)k;
        units += cp >= 0x10000 ? 2 : 1;
    }
    char *buf = cf_xmalloc(n + 1);
    if (n)
        memcpy(buf, p, n);
    return string_adopt(buf, n, units);
}

/* +1 string from UTF-16 units (pairs joined, unpaired surrogates kept). */
static CFStringRef string_from_units(const UniChar *u, size_t n)
{
    char *buf = cf_xmalloc(n * 3 + 1);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = u[i];
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < n && u[i + 1] >= 0xDC00 && u[i + 1] <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (u[i + 1] - 0xDC00u);
            i++;
        }
        /* utf8_encode writes a surrogate code point in the 3-byte form. */
        len += utf8_encode(cp, (unsigned char *)buf + len);
    }
    return string_adopt(buf, len, (CFIndex)n);
}

/* ---- encodings ---- */

typedef enum {
    ENC_UNSUPPORTED,
    ENC_UTF8,
    ENC_ASCII,
    ENC_LATIN1,
    ENC_MACROMAN,
    ENC_WINLATIN1,
    ENC_NEXTSTEP,
    ENC_NONLOSSY,
    ENC_UTF16,   /* host order (BOM-aware for an external representation) */
    ENC_UTF16BE,
    ENC_UTF16LE,
    ENC_UTF32,   /* BOM-aware, big-endian without a BOM */
    ENC_UTF32BE,
    ENC_UTF32LE,
} enc_kind;

static enc_kind encoding_kind(CFStringEncoding e)
{
    switch (e) {
    case kCFStringEncodingUTF8: return ENC_UTF8;
    case kCFStringEncodingASCII: return ENC_ASCII;
    case kCFStringEncodingISOLatin1: return ENC_LATIN1;
    case kCFStringEncodingWindowsLatin1: return ENC_WINLATIN1;
    case kCFStringEncodingMacRoman: return ENC_MACROMAN;
    case kCFStringEncodingNextStepLatin: return ENC_NEXTSTEP;
    case kCFStringEncodingNonLossyASCII: return ENC_NONLOSSY;
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

static const uint16_t *high_table(enc_kind k)
{
    return k == ENC_MACROMAN ? cf_macroman_high : k == ENC_WINLATIN1 ? cf_winlatin1_high : cf_nextstep_high;
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

/* Decoders: bytes -> UTF-16 units in u (room for n units at least, 2n for
 * UTF-32).  Return the unit count, or -1 if the bytes are refused. */
static long decode_utf16(UniChar *u, const UInt8 *b, size_t n, enc_kind k, bool external)
{
    /* One byte: Apple's decoder refuses it, but unmarked UTF-16 that is not
     * an external representation is copied unit by unit (none here). */
    if (n == 1)
        return k == ENC_UTF16 && !external ? 0 : -1;
    n -= n % 2;
    bool big;
    if (k == ENC_UTF16BE) {
        big = true;
    } else if (k == ENC_UTF16LE) {
        big = false;
    } else if (!external) {
        big = host_is_big_endian();
    } else if (n >= 2 && ((b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0xFF && b[1] == 0xFE))) {
        big = b[0] == 0xFE;
        b += 2;
        n -= 2;
    } else {
        big = true;
    }
    for (size_t i = 0; i < n; i += 2)
        u[i / 2] = (UniChar)read16(b + i, big);
    return (long)(n / 2);
}

static long decode_utf32(UniChar *u, const UInt8 *b, size_t n, enc_kind k)
{
    if (n < 4)
        return -1;
    n -= n % 4;
    bool big;
    if (k == ENC_UTF32BE) {
        big = true;
    } else if (k == ENC_UTF32LE) {
        big = false;
    } else if (read32(b, true) == 0xFEFF) {
        big = true;
        b += 4;
        n -= 4;
    } else if (read32(b, false) == 0xFEFF) {
        big = false;
        b += 4;
        n -= 4;
    } else {
        big = true;
    }
    long m = 0;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v = read32(b + i, big);
        if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return -1;
        m += (long)put_utf16(u + m, v);
    }
    return m;
}

static long decode_nonlossy(UniChar *u, const UInt8 *b, size_t n)
{
    long m = 0;
    for (size_t i = 0; i < n;) {
        UInt8 c = b[i];
        if (c > 127)
            return -1;
        if (c != '\\') {
            u[m++] = c;
            i++;
            continue;
        }
        if (i + 1 >= n)
            return -1;
        UInt8 d = b[i + 1];
        if (d == '\\') {
            u[m++] = '\\';
            i += 2;
        } else if (d == 'u' || d == 'U') {
            if (n - i < 6)
                return -1;
            uint32_t v = 0;
            for (size_t j = 2; j < 6; j++) {
                int h = secsim_hex_digit(b[i + j]);
                if (h < 0)
                    return -1;
                v = v << 4 | (uint32_t)h;
            }
            u[m++] = (UniChar)v;
            i += 6;
        } else if (d >= '0' && d <= '7') {
            if (n - i < 4)
                return -1;
            uint32_t v = 0;
            for (size_t j = 1; j < 4; j++) {
                if (b[i + j] < '0' || b[i + j] > '7')
                    return -1;
                v = v << 3 | (uint32_t)(b[i + j] - '0');
            }
            u[m++] = (UniChar)v;
            i += 4;
        } else {
            return -1;
        }
    }
    return m;
}

/* Bytes of an ASCII superset that are all ASCII: the string (marked as
 * eight-bit); NULL if a byte is not ASCII. */
static CFStringRef ascii_string(const UInt8 *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (bytes[i] >= 0x80)
            return NULL;
    CFStringRef str = cf_string_create_utf8((const char *)bytes, n);
    ((secsim_base *)str)->flags |= CF_STRING_EIGHT_BIT;
    return str;
}

/* UTF-8 that is not valid: Apple's UTF-8 decoder reads a stray 0xA9 byte
 * (the copyright sign of MacRoman and Latin-1) as U+FFFD "not to break
 * existing apps"; any other bad byte refuses the bytes (NULL). */
static CFStringRef utf8_with_stray_a9(const UInt8 *bytes, size_t n)
{
    UniChar *u8 = cf_xmalloc(sizeof(UniChar) * (n + 1));
    size_t m8 = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        if (!utf8_next(bytes, n, &i, &cp)) {
            if (bytes[i] != 0xA9) {
                free(u8);
                return NULL;
            }
            cp = 0xFFFD;
            i++;
        }
        m8 += put_utf16(u8 + m8, cp);
    }
    CFStringRef str = string_from_units(u8, m8);
    free(u8);
    return str;
}

/* UTF-8, a leading byte-order mark dropped. */
static CFStringRef string_from_utf8_bytes(const UInt8 *bytes, size_t n)
{
    if (n >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) {
        bytes += 3;
        n -= 3;
    }
    CFStringRef str = cf_string_create_utf8((const char *)bytes, n);
    if (str || !memchr(bytes, 0xA9, n))
        return str;
    return utf8_with_stray_a9(bytes, n);
}

/* MacRoman, cp1252 or NextStep: bytes above 0x7F through the encoding's
 * table; -1 at a byte the encoding leaves undefined. */
static long decode_eight_bit(UniChar *u, const UInt8 *b, size_t n, enc_kind k)
{
    const uint16_t *t = high_table(k);
    for (size_t i = 0; i < n; i++) {
        u[i] = b[i] < 0x80 ? b[i] : t[b[i] - 0x80];
        if (b[i] >= 0x80 && u[i] == 0)
            return -1;
    }
    return (long)n;
}

/* Any encoding but UTF-8, through UTF-16 units (n > 0). */
static CFStringRef string_from_encoded(const UInt8 *bytes, size_t n, enc_kind k, bool external)
{
    UniChar *u = cf_xmalloc(sizeof(UniChar) * (n + 1));
    long m;
    switch (k) {
    case ENC_ASCII:
    case ENC_LATIN1:
        for (size_t i = 0; i < n; i++)
            u[i] = bytes[i];
        m = (long)n;
        break;
    case ENC_MACROMAN:
    case ENC_WINLATIN1:
    case ENC_NEXTSTEP:
        m = decode_eight_bit(u, bytes, n, k);
        break;
    case ENC_NONLOSSY:
        m = decode_nonlossy(u, bytes, n);
        break;
    case ENC_UTF16:
    case ENC_UTF16BE:
    case ENC_UTF16LE:
        m = decode_utf16(u, bytes, n, k, external);
        break;
    default:
        m = decode_utf32(u, bytes, n, k);
        break;
    }
    CFStringRef s = m < 0 ? NULL : string_from_units(u, (size_t)m);
    free(u);
    return s;
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
    if (k == ENC_UNSUPPORTED)
        return NULL;
    if (k >= ENC_UTF8 && k <= ENC_NEXTSTEP) { /* ASCII supersets */
        CFStringRef str = ascii_string(bytes, n);
        if (str)
            return str;
    }
    if (k == ENC_UTF8)
        return string_from_utf8_bytes(bytes, n);
    if (n == 0)
        return cf_string_create_utf8("", 0);
    return string_from_encoded(bytes, n, k, isExternalRepresentation != 0);
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
    case ENC_LATIN1:
    case ENC_MACROMAN:
    case ENC_WINLATIN1:
    case ENC_NEXTSTEP: per = 1; break;
    case ENC_NONLOSSY: per = 6; break;
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
    while (i < n)
        k += (CFIndex)put_utf16(u + k, stored_next(p, n, &i));
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

static bool macroman_ignorable(uint32_t cp)
{
    if (cp >= 0xE0000 && cp <= 0xE0FFF) /* tags, variation selectors supplement */
        return true;
    for (size_t i = 0; i < cf_macroman_ignorable_count; i++)
        if (cf_macroman_ignorable[i] == cp)
            return true;
    return false;
}

/* Eight-bit byte for a BMP unit, or -1. */
static int eight_bit_byte(enc_kind k, uint32_t cp)
{
    if (cp < 0x80)
        return (int)cp;
    if (k == ENC_ASCII)
        return -1;
    if (k == ENC_LATIN1)
        return cp < 0x100 ? (int)cp : -1;
    if (k == ENC_NEXTSTEP && cp == 0xFFFD)
        return 0xFF;
    const uint16_t *t = high_table(k);
    for (int b = 0; b < 128; b++)
        if (t[b] == cp)
            return 0x80 + b;
    return -1;
}

/* Encode the character starting at u[i] (end = limit of the range).
 * *consumed receives the units it covers.  Returns the byte count written
 * to out, 0 for a character that converts to nothing, -1 if unencodable. */
static int encode_at(enc_kind k, const UniChar *u, CFIndex i, CFIndex end, CFIndex *consumed, UInt8 out[12])
{
    uint32_t cp = u[i];
    bool high = cp >= 0xD800 && cp <= 0xDBFF, low = cp >= 0xDC00 && cp <= 0xDFFF;
    bool pair = high && i + 1 < end && u[i + 1] >= 0xDC00 && u[i + 1] <= 0xDFFF;
    *consumed = 1;
    switch (k) {
    case ENC_UTF16:
    case ENC_UTF16BE:
    case ENC_UTF16LE:
        put16(out, cp, k == ENC_UTF16 ? host_is_big_endian() : k == ENC_UTF16BE);
        return 2;
    case ENC_UTF8:
    case ENC_UTF32:
    case ENC_UTF32BE:
    case ENC_UTF32LE:
        if (pair) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (u[i + 1] - 0xDC00u);
            *consumed = 2;
        } else if (high || low) {
            return -1;
        }
        if (k == ENC_UTF8)
            return (int)utf8_encode(cp, out);
        put32(out, cp, k == ENC_UTF32 ? host_is_big_endian() : k == ENC_UTF32BE);
        return 4;
    case ENC_NONLOSSY:
        if (cp == '\\') {
            out[0] = out[1] = '\\';
            return 2;
        }
        if ((cp >= 0x20 && cp < 0x7F) || cp == '\t' || cp == '\n' || cp == '\r') {
            out[0] = (UInt8)cp;
            return 1;
        }
        if (cp < 0x100)
            return snprintf((char *)out, 12, "\\%03o", (unsigned)cp);
        return snprintf((char *)out, 12, "\\u%04x", (unsigned)cp);
    case ENC_MACROMAN:
        if (pair) {
            *consumed = 2;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (u[i + 1] - 0xDC00u);
        }
        if (macroman_ignorable(cp))
            return 0;
        if (cp >= 0x10000)
            return -1;
        /* fall through */
    default: {
        int b = eight_bit_byte(k, cp);
        if (b < 0)
            return -1;
        out[0] = (UInt8)b;
        return 1;
    }
    }
}

/* The byte-order mark that starts an external UTF-16 or UTF-32
 * representation, in host order: its size, written to buffer when there is
 * one; -1 if it does not fit. */
static CFIndex put_bom(enc_kind k, UInt8 *buffer, CFIndex maxBufLen)
{
    UInt8 bom[4];
    CFIndex nb = k == ENC_UTF16 ? 2 : 4;
    if (k == ENC_UTF16)
        put16(bom, 0xFEFF, host_is_big_endian());
    else
        put32(bom, 0xFEFF, host_is_big_endian());
    if (buffer) {
        if (nb > maxBufLen)
            return -1;
        memcpy(buffer, bom, (size_t)nb);
    }
    return nb;
}

/* The units [loc, end) of s in encoding k, appended to buffer (when there is
 * one) after the *used bytes already there, until one does not fit; an
 * unconvertible unit becomes lossByte (UTF-8 stops at an unpaired surrogate
 * even with one).  *used grows; the number of units converted. */
static CFIndex encode_units(CFStringRef s, CFIndex loc, CFIndex end, enc_kind k, UInt8 lossByte, UInt8 *buffer,
                            CFIndex maxBufLen, CFIndex *used)
{
    UniChar *u = string_utf16(s);
    CFIndex i = loc;
    while (i < end) {
        UInt8 tmp[12];
        CFIndex consumed;
        int nb = encode_at(k, u, i, end, &consumed, tmp);
        if (nb < 0) {
            if (lossByte == 0 || k == ENC_UTF8)
                break;
            if (k == ENC_UTF32 || k == ENC_UTF32BE || k == ENC_UTF32LE) {
                put32(tmp, lossByte, k == ENC_UTF32 ? host_is_big_endian() : k == ENC_UTF32BE);
                nb = 4;
            } else {
                tmp[0] = lossByte;
                nb = 1;
            }
        }
        if (buffer) {
            if ((CFIndex)nb > maxBufLen - *used)
                break;
            memcpy(buffer + *used, tmp, (size_t)nb);
        }
        *used += nb;
        i += consumed;
    }
    free(u);
    return i - loc;
}

/* The conversion behind CFStringGetBytes / CFStringGetCString. */
static CFIndex string_encode(CFStringRef s, CFIndex loc, CFIndex len, enc_kind k, UInt8 lossByte,
                             bool external, UInt8 *buffer, CFIndex maxBufLen, CFIndex *usedBufLen)
{
    CFIndex used = 0, done = 0;
    if (k == ENC_UNSUPPORTED)
        goto out;
    if (buffer && maxBufLen <= 0) {
        /* Apple's CF converts nothing into a zero-length buffer, except
         * that its UTF-8 converter then measures (as with a NULL buffer). */
        if (k != ENC_UTF8)
            goto out;
        buffer = NULL;
    }
    if (external && (k == ENC_UTF16 || k == ENC_UTF32)) {
        CFIndex nb = put_bom(k, buffer, maxBufLen);
        if (nb < 0)
            goto out;
        used = nb;
    }
    /* Fast path: UTF-8 of the whole string without unpaired surrogates. */
    if (k == ENC_UTF8 && loc == 0 && len == s->nutf16 && !has_lone_surrogate(s)
        && (!buffer || s->nbytes <= maxBufLen - used)) {
        if (buffer)
            memcpy(buffer + used, s->bytes, (size_t)s->nbytes);
        used += s->nbytes;
        done = len;
        goto out;
    }
    done = encode_units(s, loc, loc + len, k, lossByte, buffer, maxBufLen, &used);
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
    CFIndex used = 0, done = 0;
    if (bufferSize > 1)
        done = string_encode(theString, 0, theString->nutf16, k, 0, false, (UInt8 *)buffer, bufferSize - 1, &used);
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
    const secsim_base *b = (const secsim_base *)theString;
    /* Apple's CF returns its constant empty string for any empty result. */
    if (!(b->flags & (CF_STRING_EIGHT_BIT | SECSIM_IMMORTAL)) && theString->nbytes > 0)
        return NULL;
    if (theString->nbytes != theString->nutf16) /* not ASCII */
        return NULL;
    switch (encoding_kind(encoding)) {
    case ENC_UTF8:
    case ENC_ASCII:
    case ENC_LATIN1:
    case ENC_MACROMAN:
    case ENC_WINLATIN1:
    case ENC_NEXTSTEP:
        return theString->bytes;
    default:
        return NULL;
    }
}

/* ------------------------------------------------------------------ */
/* The rest of the CFString surface (issue #17)                        */
/* ------------------------------------------------------------------ */

/* CFSTR("...") outside clang's builtin: one immortal string per distinct
 * C string, for the life of the process (Apple interns them too). */
typedef struct cf_const_entry {
    struct cf_const_entry *next;
    CFStringRef s;
    char key[];
} cf_const_entry;

static cf_const_entry *g_const_strings[256];
static pthread_mutex_t g_const_lock = PTHREAD_MUTEX_INITIALIZER;

CFStringRef __CFStringMakeConstantString(const char *cStr)
{
    if (!cStr)
        secsim_fatal("__CFStringMakeConstantString: NULL C string");
    size_t n = strlen(cStr);
    unsigned slot = (unsigned)(cf_hash_bytes(cStr, n, 0) % 256);
    pthread_mutex_lock(&g_const_lock);
    for (cf_const_entry *e = g_const_strings[slot]; e; e = e->next) {
        if (strcmp(e->key, cStr) == 0) {
            pthread_mutex_unlock(&g_const_lock);
            return e->s;
        }
    }
    /* Apple's CF reads a non-ASCII CFSTR as MacRoman, with a warning. */
    bool ascii = true;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)cStr[i] > 0x7F)
            ascii = false;
    if (!ascii)
        fprintf(stderr, "secsim: WARNING: CFSTR(\"%s\") has non-7 bit chars, interpreting using MacOS Roman "
                        "encoding (as Apple's CF does)\n", cStr);
    CFStringRef s = CFStringCreateWithBytes(NULL, (const UInt8 *)cStr, (CFIndex)n, kCFStringEncodingMacRoman, 0);
    if (!s)
        secsim_fatal("__CFStringMakeConstantString: bytes not in MacRoman");
    cf_make_immortal(s);
    cf_const_entry *e = cf_xmalloc(sizeof *e + n + 1);
    memcpy(e->key, cStr, n + 1);
    e->s = s;
    e->next = g_const_strings[slot];
    g_const_strings[slot] = e;
    pthread_mutex_unlock(&g_const_lock);
    return s;
}

CFStringRef CFStringCreateWithCharacters(CFAllocatorRef alloc, const UniChar *chars, CFIndex numChars)
{
    (void)alloc;
    if (numChars < 0)
        secsim_fatal("CFStringCreateWithCharacters: negative length %ld", numChars);
    if (!chars && numChars > 0)
        secsim_fatal("CFStringCreateWithCharacters: NULL characters with length %ld", numChars);
    return string_from_units(chars, (size_t)numChars);
}

CFStringRef CFStringCreateFromExternalRepresentation(CFAllocatorRef alloc, CFDataRef data, CFStringEncoding encoding)
{
    secsim_check(data, SECSIM_TYPE_DATA, "CFStringCreateFromExternalRepresentation");
    return CFStringCreateWithBytes(alloc, CFDataGetBytePtr(data), CFDataGetLength(data), encoding, 1);
}

CFDataRef CFStringCreateExternalRepresentation(CFAllocatorRef alloc, CFStringRef theString, CFStringEncoding encoding,
                                               UInt8 lossByte)
{
    secsim_check(theString, SECSIM_TYPE_STRING, "CFStringCreateExternalRepresentation");
    enc_kind k = encoding_kind(encoding);
    if (k == ENC_UNSUPPORTED)
        return NULL;
    CFIndex n = theString->nutf16, used = 0;
    CFIndex done = string_encode(theString, 0, n, k, lossByte, true, NULL, 0, &used);
    if (done != n)
        return NULL;
    UInt8 *buf = cf_xmalloc((size_t)(used ? used : 1));
    string_encode(theString, 0, n, k, lossByte, true, buf, used, &used);
    CFDataRef d = CFDataCreate(alloc, buf, used);
    free(buf);
    return d;
}

static CFStringRef string_copy_bytes(CFStringRef s)
{
    char *buf = cf_xmalloc((size_t)s->nbytes + 1);
    if (s->nbytes)
        memcpy(buf, s->bytes, (size_t)s->nbytes);
    CFStringRef c = string_adopt(buf, (size_t)s->nbytes, s->nutf16);
    ((secsim_base *)c)->flags |= ((const secsim_base *)s)->flags & CF_STRING_EIGHT_BIT;
    return c;
}

CFStringRef CFStringCreateCopy(CFAllocatorRef alloc, CFStringRef theString)
{
    (void)alloc;
    secsim_check(theString, SECSIM_TYPE_STRING, "CFStringCreateCopy");
    /* An immutable string is its own copy (as in Apple's CF). */
    if (!(((const secsim_base *)theString)->flags & CF_STRING_MUTABLE))
        return CFRetain(theString);
    return string_copy_bytes(theString);
}

CFStringRef CFStringCreateWithSubstring(CFAllocatorRef alloc, CFStringRef str, CFRange range)
{
    (void)alloc;
    secsim_check(str, SECSIM_TYPE_STRING, "CFStringCreateWithSubstring");
    check_range(str, range, "CFStringCreateWithSubstring");
    UniChar *u = string_utf16(str);
    CFStringRef s = string_from_units(u + range.location, (size_t)range.length);
    free(u);
    return s;
}

CFMutableStringRef CFStringCreateMutable(CFAllocatorRef alloc, CFIndex maxLength)
{
    (void)alloc;
    if (maxLength < 0)
        secsim_fatal("CFStringCreateMutable: negative maxLength %ld", maxLength);
    char *buf = cf_xmalloc(1);
    struct __CFString *s = (struct __CFString *)string_adopt(buf, 0, 0);
    s->base.flags |= CF_STRING_MUTABLE;
    return s;
}

CFMutableStringRef CFStringCreateMutableCopy(CFAllocatorRef alloc, CFIndex maxLength, CFStringRef theString)
{
    secsim_check(theString, SECSIM_TYPE_STRING, "CFStringCreateMutableCopy");
    CFMutableStringRef m = CFStringCreateMutable(alloc, maxLength);
    cf_string_append_stored(m, theString->bytes, (size_t)theString->nbytes);
    return m;
}

static void check_mutable_string(CFStringRef s, const char *fn)
{
    secsim_check(s, SECSIM_TYPE_STRING, fn);
    if (!(((const secsim_base *)s)->flags & CF_STRING_MUTABLE))
        secsim_fatal("%s: the string is immutable", fn);
}

void cf_string_append_stored(CFMutableStringRef m, const char *p, size_t n)
{
    if (!n)
        return;
    CFStringRef tail = cf_string_create_stored(p, n);
    if (!tail)
        secsim_fatal("CFStringAppend: bytes are not a string's stored form");
    size_t old = (size_t)m->nbytes;
    char *buf = cf_xrealloc((char *)m->bytes, old + n + 1);
    memcpy(buf + old, p, n);
    buf[old + n] = '\0';
    m->bytes = buf;
    m->nbytes = (CFIndex)(old + n);
    m->nutf16 += tail->nutf16;
    CFRelease(tail);
}

void CFStringAppend(CFMutableStringRef theString, CFStringRef appendedString)
{
    check_mutable_string(theString, "CFStringAppend");
    secsim_check(appendedString, SECSIM_TYPE_STRING, "CFStringAppend");
    /* Copy first: appendedString may be theString itself. */
    size_t n = (size_t)appendedString->nbytes;
    char *tmp = cf_xmalloc(n + 1);
    memcpy(tmp, appendedString->bytes, n);
    cf_string_append_stored(theString, tmp, n);
    free(tmp);
}

void CFStringAppendCString(CFMutableStringRef theString, const char *cStr, CFStringEncoding encoding)
{
    check_mutable_string(theString, "CFStringAppendCString");
    CFStringRef s = CFStringCreateWithCString(NULL, cStr, encoding);
    if (!s)
        return; /* Apple's CF appends nothing when the bytes do not convert */
    cf_string_append_stored(theString, s->bytes, (size_t)s->nbytes);
    CFRelease(s);
}

void CFStringAppendCharacters(CFMutableStringRef theString, const UniChar *chars, CFIndex numChars)
{
    check_mutable_string(theString, "CFStringAppendCharacters");
    CFStringRef s = CFStringCreateWithCharacters(NULL, chars, numChars);
    cf_string_append_stored(theString, s->bytes, (size_t)s->nbytes);
    CFRelease(s);
}

UniChar CFStringGetCharacterAtIndex(CFStringRef theString, CFIndex idx)
{
    secsim_check(theString, SECSIM_TYPE_STRING, "CFStringGetCharacterAtIndex");
    if (idx < 0 || idx >= theString->nutf16)
        secsim_fatal("CFStringGetCharacterAtIndex: index %ld out of bounds (length %ld)", idx, theString->nutf16);
    UniChar *u = string_utf16(theString);
    UniChar c = u[idx];
    free(u);
    return c;
}

void CFStringGetCharacters(CFStringRef theString, CFRange range, UniChar *buffer)
{
    secsim_check(theString, SECSIM_TYPE_STRING, "CFStringGetCharacters");
    check_range(theString, range, "CFStringGetCharacters");
    if (!range.length)
        return;
    if (!buffer)
        secsim_fatal("CFStringGetCharacters: NULL buffer");
    UniChar *u = string_utf16(theString);
    memcpy(buffer, u + range.location, sizeof(UniChar) * (size_t)range.length);
    free(u);
}

static UniChar fold_ascii(UniChar c)
{
    return c >= 'A' && c <= 'Z' ? (UniChar)(c + 32) : c;
}

/* Length of the run of ASCII digits at u[i..n). */
static CFIndex digit_run(const UniChar *u, CFIndex i, CFIndex n)
{
    CFIndex k = i;
    while (k < n && u[k] >= '0' && u[k] <= '9')
        k++;
    return k - i;
}

CFComparisonResult CFStringCompare(CFStringRef theString1, CFStringRef theString2, CFStringCompareFlags compareOptions)
{
    secsim_check(theString1, SECSIM_TYPE_STRING, "CFStringCompare");
    secsim_check(theString2, SECSIM_TYPE_STRING, "CFStringCompare");
    bool fold = (compareOptions & kCFCompareCaseInsensitive) != 0;
    bool numeric = (compareOptions & kCFCompareNumerically) != 0;
    UniChar *a = string_utf16(theString1), *b = string_utf16(theString2);
    CFIndex na = theString1->nutf16, nb = theString2->nutf16, i = 0, j = 0;
    CFComparisonResult r = kCFCompareEqualTo;
    while (i < na && j < nb) {
        if (numeric && a[i] >= '0' && a[i] <= '9' && b[j] >= '0' && b[j] <= '9') {
            CFIndex la = digit_run(a, i, na), lb = digit_run(b, j, nb);
            CFIndex si = i, sj = j;
            while (si < i + la - 1 && a[si] == '0')
                si++;
            while (sj < j + lb - 1 && b[sj] == '0')
                sj++;
            CFIndex da = i + la - si, db = j + lb - sj;
            if (da != db) {
                r = da < db ? kCFCompareLessThan : kCFCompareGreaterThan;
                goto done;
            }
            for (CFIndex k = 0; k < da; k++) {
                if (a[si + k] != b[sj + k]) {
                    r = a[si + k] < b[sj + k] ? kCFCompareLessThan : kCFCompareGreaterThan;
                    goto done;
                }
            }
            i += la;
            j += lb;
            continue;
        }
        UniChar x = fold ? fold_ascii(a[i]) : a[i], y = fold ? fold_ascii(b[j]) : b[j];
        if (x != y) {
            r = x < y ? kCFCompareLessThan : kCFCompareGreaterThan;
            goto done;
        }
        i++;
        j++;
    }
    if (i < na)
        r = kCFCompareGreaterThan;
    else if (j < nb)
        r = kCFCompareLessThan;
done:
    free(a);
    free(b);
    return r;
}

Boolean CFStringHasPrefix(CFStringRef theString, CFStringRef prefix)
{
    secsim_check(theString, SECSIM_TYPE_STRING, "CFStringHasPrefix");
    secsim_check(prefix, SECSIM_TYPE_STRING, "CFStringHasPrefix");
    return prefix->nbytes <= theString->nbytes &&
           memcmp(theString->bytes, prefix->bytes, (size_t)prefix->nbytes) == 0;
}

Boolean CFStringHasSuffix(CFStringRef theString, CFStringRef suffix)
{
    secsim_check(theString, SECSIM_TYPE_STRING, "CFStringHasSuffix");
    secsim_check(suffix, SECSIM_TYPE_STRING, "CFStringHasSuffix");
    return suffix->nbytes <= theString->nbytes &&
           memcmp(theString->bytes + theString->nbytes - suffix->nbytes, suffix->bytes, (size_t)suffix->nbytes) == 0;
}

CFStringRef CFStringCreateWithFormatAndArguments(CFAllocatorRef alloc, CFDictionaryRef formatOptions,
                                                 CFStringRef format, va_list arguments)
{
    (void)alloc;
    (void)formatOptions;
    secsim_check(format, SECSIM_TYPE_STRING, "CFStringCreateWithFormat");
    cf_sb sb = { 0 };
    cf_format_append(&sb, format, arguments);
    return cf_sb_finish(&sb);
}

CFStringRef CFStringCreateWithFormat(CFAllocatorRef alloc, CFDictionaryRef formatOptions, CFStringRef format, ...)
{
    va_list ap;
    va_start(ap, format);
    CFStringRef s = CFStringCreateWithFormatAndArguments(alloc, formatOptions, format, ap);
    va_end(ap);
    return s;
}

void CFStringAppendFormatAndArguments(CFMutableStringRef theString, CFDictionaryRef formatOptions, CFStringRef format,
                                      va_list arguments)
{
    (void)formatOptions;
    check_mutable_string(theString, "CFStringAppendFormat");
    secsim_check(format, SECSIM_TYPE_STRING, "CFStringAppendFormat");
    cf_sb sb = { 0 };
    cf_format_append(&sb, format, arguments);
    cf_string_append_stored(theString, sb.p ? sb.p : "", sb.len);
    free(sb.p);
}

void CFStringAppendFormat(CFMutableStringRef theString, CFDictionaryRef formatOptions, CFStringRef format, ...)
{
    va_list ap;
    va_start(ap, format);
    CFStringAppendFormatAndArguments(theString, formatOptions, format, ap);
    va_end(ap);
}
