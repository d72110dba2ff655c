/*
 * cf_uuid.c - CFUUID (issue #17): sixteen bytes, compared by value.
 *
 * CFUUIDCreate makes a random (version 4, RFC 4122 variant) UUID from
 * getrandom(); CFUUIDCreateString writes Apple's form, upper-case hex in
 * 8-4-4-4-12 groups; CFUUIDCreateFromString reads text as Apple's does
 * (leniently, see there).  Checked against Apple's CF:
 * tests/emulator/test_cf_surface.py.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "cf_private.h"

struct __CFUUID {
    secsim_base base;
    CFUUIDBytes bytes;
};

static Boolean uuid_equal(CFTypeRef a, CFTypeRef b)
{
    return memcmp(&((CFUUIDRef)a)->bytes, &((CFUUIDRef)b)->bytes, sizeof(CFUUIDBytes)) == 0;
}

static CFHashCode uuid_hash(CFTypeRef obj)
{
    return cf_hash_bytes(&((CFUUIDRef)obj)->bytes, sizeof(CFUUIDBytes), 0x55554944UL);
}

static void uuid_text(CFUUIDRef u, char out[37])
{
    const UInt8 *b = &u->bytes.byte0;
    snprintf(out, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static void uuid_describe(cf_sb *sb, CFTypeRef obj, bool nested, int depth)
{
    (void)nested;
    (void)depth;
    char text[37];
    uuid_text(obj, text);
    cf_sb_printf(sb, "<CFUUID %p> %s", obj, text);
}

static const cf_type_ops cf_uuid_ops = { "CFUUID", NULL, uuid_equal, uuid_hash, uuid_describe };
static const secsim_class cf_uuid_class = { "CFUUID", NULL, uuid_equal, uuid_hash };
static CFTypeID g_uuid_type;
static pthread_once_t g_uuid_once = PTHREAD_ONCE_INIT;

static void uuid_register(void)
{
    g_uuid_type = cf_register_type(&cf_uuid_class, &cf_uuid_ops);
}

CFTypeID CFUUIDGetTypeID(void)
{
    pthread_once(&g_uuid_once, uuid_register);
    return g_uuid_type;
}

CFUUIDRef CFUUIDCreateFromUUIDBytes(CFAllocatorRef alloc, CFUUIDBytes bytes)
{
    (void)alloc;
    struct __CFUUID *u =
        (struct __CFUUID *)secsim_create_instance(CFUUIDGetTypeID(), sizeof *u - sizeof(secsim_base));
    u->bytes = bytes;
    return u;
}

CFUUIDRef CFUUIDCreate(CFAllocatorRef alloc)
{
    CFUUIDBytes b;
    UInt8 *p = &b.byte0;
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(p + got, sizeof b - got, 0);
        if (n < 0)
            secsim_fatal("CFUUIDCreate: getrandom failed");
        got += (size_t)n;
    }
    p[6] = (UInt8)((p[6] & 0x0F) | 0x40); /* version 4 */
    p[8] = (UInt8)((p[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    return CFUUIDCreateFromUUIDBytes(alloc, b);
}

CFUUIDRef CFUUIDCreateWithBytes(CFAllocatorRef alloc, UInt8 byte0, UInt8 byte1, UInt8 byte2, UInt8 byte3,
                                UInt8 byte4, UInt8 byte5, UInt8 byte6, UInt8 byte7, UInt8 byte8, UInt8 byte9,
                                UInt8 byte10, UInt8 byte11, UInt8 byte12, UInt8 byte13, UInt8 byte14, UInt8 byte15)
{
    CFUUIDBytes b = { byte0, byte1, byte2, byte3, byte4, byte5, byte6, byte7,
                      byte8, byte9, byte10, byte11, byte12, byte13, byte14, byte15 };
    return CFUUIDCreateFromUUIDBytes(alloc, b);
}

/* Apple's lenient reader: skip what precedes the first hex digit, then
 * read the 4-2-2-2-6 byte groups, each byte from two characters (0 when
 * either is not a hex digit) and one character skipped between groups,
 * whatever it is; bytes past the end of the text stay 0.  At most the first
 * 100 characters are looked at; an empty string is NULL. */
CFUUIDRef CFUUIDCreateFromString(CFAllocatorRef alloc, CFStringRef uuidStr)
{
    if (!uuidStr)
        return NULL;
    secsim_check(uuidStr, CFStringGetTypeID(), "CFUUIDCreateFromString");
    CFIndex len = CFStringGetLength(uuidStr);
    if (len == 0)
        return NULL;
    if (len > 100)
        len = 100;
    UniChar chars[100];
    CFStringGetCharacters(uuidStr, (CFRange){ 0, len }, chars);
    CFUUIDBytes b;
    memset(&b, 0, sizeof b);
    UInt8 *out = &b.byte0;
    CFIndex i = 0;
    while (i < len && secsim_hex_digit(chars[i]) < 0)
        i++;
    static const int group_end[] = { 4, 6, 8, 10, 16 };
    int k = 0;
    for (int g = 0; g < 5; g++) {
        if (g)
            i++;
        for (; k < group_end[g]; k++) {
            if (i + 1 < len) {
                int hi = secsim_hex_digit(chars[i]), lo = secsim_hex_digit(chars[i + 1]);
                out[k] = hi < 0 || lo < 0 ? 0 : (UInt8)(hi << 4 | lo);
                i += 2;
            }
        }
    }
    return CFUUIDCreateFromUUIDBytes(alloc, b);
}

CFStringRef CFUUIDCreateString(CFAllocatorRef alloc, CFUUIDRef uuid)
{
    (void)alloc;
    if (!uuid)
        return NULL;
    secsim_check(uuid, CFUUIDGetTypeID(), "CFUUIDCreateString");
    char text[37];
    uuid_text(uuid, text);
    return secsim_string(text);
}

CFUUIDBytes CFUUIDGetUUIDBytes(CFUUIDRef uuid)
{
    secsim_check(uuid, CFUUIDGetTypeID(), "CFUUIDGetUUIDBytes");
    return uuid->bytes;
}
