/*
 * cf_scalar.c - CFData, CFNumber, CFDate.
 *
 * CFNumber keeps either an int64_t or a double, plus the storage type that
 * CFNumberGetType reports (facts §1.1, the LP64 column of the CFNumberType
 * table: Char->SInt8, Int->SInt32, Long/LongLong/CFIndex/NSInteger->SInt64,
 * Float->Float32, Double/CGFloat->Float64).  A Float32 number keeps the
 * float's value (widened to double); a NaN or an infinity is stored as
 * Float64, as Apple's CF does.  Numbers compare as Apple's CFNumberCompare
 * does (1 == 1.0, NaN == NaN, -0.0 != 0) and equal numbers hash alike; the
 * hash of an integral value is the hash of the integer, which CFBoolean
 * shares (cf.c).
 */
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cf_private.h"

/* ------------------------------------------------------------------ */
/* CFData                                                              */
/* ------------------------------------------------------------------ */

struct __CFData {
    secsim_base base;
    CFIndex length;
    UInt8 *bytes;
    CFIndex cap;          /* mutable data: room in bytes */
    bool is_mutable;
    bool borrowed;        /* CFDataCreateWithBytesNoCopy with kCFAllocatorNull */
};

CFTypeID CFDataGetTypeID(void) { return SECSIM_TYPE_DATA; }

CFDataRef CFDataCreate(CFAllocatorRef allocator, const UInt8 *bytes, CFIndex length)
{
    (void)allocator;
    if (length < 0)
        secsim_fatal("CFDataCreate: negative length %ld", length);
    if (!bytes && length > 0)
        secsim_fatal("CFDataCreate: NULL bytes with length %ld", length);
    struct __CFData *d = cf_alloc(SECSIM_TYPE_DATA, sizeof *d);
    d->length = length;
    d->bytes = cf_xmalloc((size_t)length); /* never NULL, even when empty */
    if (length)
        memcpy(d->bytes, bytes, (size_t)length);
    return d;
}

const UInt8 *CFDataGetBytePtr(CFDataRef theData)
{
    secsim_check(theData, SECSIM_TYPE_DATA, "CFDataGetBytePtr");
    return theData->bytes;
}

CFIndex CFDataGetLength(CFDataRef theData)
{
    secsim_check(theData, SECSIM_TYPE_DATA, "CFDataGetLength");
    return theData->length;
}

static void data_finalize(CFTypeRef obj)
{
    struct __CFData *d = (struct __CFData *)obj;
    if (!d->borrowed)
        free(d->bytes);
    d->bytes = NULL;
}

static Boolean data_equal(CFTypeRef a, CFTypeRef b)
{
    CFDataRef x = a, y = b;
    return cf_bytes_equal(x->bytes, (size_t)x->length, y->bytes, (size_t)y->length);
}

static CFHashCode data_hash(CFTypeRef obj)
{
    CFDataRef d = obj;
    return cf_hash_bytes(d->bytes, (size_t)d->length, 0x44415441UL);
}

static void data_describe(cf_sb *sb, CFTypeRef obj, bool nested, int depth)
{
    (void)nested;
    (void)depth;
    CFDataRef d = obj;
    enum { SHOWN = 256 };
    cf_sb_putn(sb, "<", 1);
    CFIndex n = d->length < SHOWN ? d->length : SHOWN;
    for (CFIndex i = 0; i < n; i++)
        cf_sb_printf(sb, "%02x", d->bytes[i]);
    if (d->length > SHOWN)
        cf_sb_printf(sb, "... (%ld bytes)", d->length);
    cf_sb_putn(sb, ">", 1);
}

const cf_type_ops cf_data_ops = { "CFData", data_finalize, data_equal, data_hash, data_describe };

/* ------------------------------------------------------------------ */
/* CFNumber                                                            */
/* ------------------------------------------------------------------ */

struct __CFNumber {
    secsim_base base;
    CFNumberType storage; /* kCFNumberSInt8Type .. kCFNumberFloat64Type */
    bool is_float;
    int64_t i;
    double d;
};

CFTypeID CFNumberGetTypeID(void) { return SECSIM_TYPE_NUMBER; }

/* Storage type for each CFNumberType on LP64 (facts §1.1). */
static const CFNumberType k_storage[kCFNumberMaxType + 1] = {
    [kCFNumberSInt8Type] = kCFNumberSInt8Type,
    [kCFNumberSInt16Type] = kCFNumberSInt16Type,
    [kCFNumberSInt32Type] = kCFNumberSInt32Type,
    [kCFNumberSInt64Type] = kCFNumberSInt64Type,
    [kCFNumberFloat32Type] = kCFNumberFloat32Type,
    [kCFNumberFloat64Type] = kCFNumberFloat64Type,
    [kCFNumberCharType] = kCFNumberSInt8Type,
    [kCFNumberShortType] = kCFNumberSInt16Type,
    [kCFNumberIntType] = kCFNumberSInt32Type,
    [kCFNumberLongType] = kCFNumberSInt64Type,
    [kCFNumberLongLongType] = kCFNumberSInt64Type,
    [kCFNumberFloatType] = kCFNumberFloat32Type,
    [kCFNumberDoubleType] = kCFNumberFloat64Type,
    [kCFNumberCFIndexType] = kCFNumberSInt64Type,
    [kCFNumberNSIntegerType] = kCFNumberSInt64Type,
    [kCFNumberCGFloatType] = kCFNumberFloat64Type,
};

static CFNumberType storage_of(CFNumberType t, const char *fn)
{
    if (t < kCFNumberSInt8Type || t > kCFNumberMaxType)
        secsim_fatal("%s: invalid CFNumberType %ld", fn, t);
    return k_storage[t];
}

/* d as an exact int64, if it is one. */
static bool double_to_int64_exact(double d, int64_t *out)
{
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return false; /* NaN or out of range */
    if (trunc(d) != d)
        return false;
    *out = (int64_t)d;
    return true;
}

CFNumberRef CFNumberCreate(CFAllocatorRef allocator, CFNumberType theType, const void *valuePtr)
{
    (void)allocator;
    CFNumberType st = storage_of(theType, "CFNumberCreate");
    if (!valuePtr)
        secsim_fatal("CFNumberCreate: NULL valuePtr");
    struct __CFNumber *n = cf_alloc(SECSIM_TYPE_NUMBER, sizeof *n);
    n->storage = st;
    switch (st) {
    case kCFNumberSInt8Type: { int8_t v; memcpy(&v, valuePtr, sizeof v); n->i = v; break; }
    case kCFNumberSInt16Type: { int16_t v; memcpy(&v, valuePtr, sizeof v); n->i = v; break; }
    case kCFNumberSInt32Type: { int32_t v; memcpy(&v, valuePtr, sizeof v); n->i = v; break; }
    case kCFNumberSInt64Type: { int64_t v; memcpy(&v, valuePtr, sizeof v); n->i = v; break; }
    case kCFNumberFloat32Type: { float v; memcpy(&v, valuePtr, sizeof v); n->d = v; n->is_float = true; break; }
    default: { double v; memcpy(&v, valuePtr, sizeof v); n->d = v; n->is_float = true; break; }
    }
    /* Apple's CF returns its Float64 constants kCFNumberNaN and
     * kCFNumber(Positive|Negative)Infinity for any NaN or infinity, so a
     * Float32 NaN or infinity reports kCFNumberFloat64Type. */
    if (n->is_float && !isfinite(n->d))
        n->storage = kCFNumberFloat64Type;
    return n;
}

CFNumberType CFNumberGetType(CFNumberRef number)
{
    secsim_check(number, SECSIM_TYPE_NUMBER, "CFNumberGetType");
    return number->storage;
}

CFIndex CFNumberGetByteSize(CFNumberRef number)
{
    secsim_check(number, SECSIM_TYPE_NUMBER, "CFNumberGetByteSize");
    switch (number->storage) {
    case kCFNumberSInt8Type: return 1;
    case kCFNumberSInt16Type: return 2;
    case kCFNumberSInt32Type: return 4;
    case kCFNumberFloat32Type: return 4;
    default: return 8;
    }
}

Boolean CFNumberIsFloatType(CFNumberRef number)
{
    secsim_check(number, SECSIM_TYPE_NUMBER, "CFNumberIsFloatType");
    return number->is_float;
}

/* CFNumberGetValue follows Apple's __CFNumberGetValueCompat (the C-cast
 * behaviour): the value written is the C conversion of the stored value,
 * and the result says whether it converts back to the same value, except
 * that an integer whose bits above the 8 (16) low ones are all zero reads
 * as SInt8 (SInt16) successfully (Apple's accommodation of unsigned values,
 * so 255 reads as SInt8 -1 and true).  A float outside the target integer
 * type's range, or NaN, is undefined behaviour of the C cast in Apple's
 * code (x86-64 and arm64 give different values): here the value saturates
 * (0 for NaN) and the result is false. */
static void put_sized(void *out, int bytes, int64_t v)
{
    switch (bytes) {
    case 1: { int8_t x = (int8_t)v; memcpy(out, &x, 1); break; }
    case 2: { int16_t x = (int16_t)v; memcpy(out, &x, 2); break; }
    case 4: { int32_t x = (int32_t)v; memcpy(out, &x, 4); break; }
    default: memcpy(out, &v, 8); break;
    }
}

static int int_bytes(CFNumberType st)
{
    return st == kCFNumberSInt8Type ? 1 : st == kCFNumberSInt16Type ? 2 : st == kCFNumberSInt32Type ? 4 : 8;
}

static bool get_from_double(double d, bool stored_float32, CFNumberType st, void *out)
{
    if (st == kCFNumberFloat64Type) {
        memcpy(out, &d, sizeof d);
        return true; /* a Float32 value widens exactly (NaN is never Float32) */
    }
    if (st == kCFNumberFloat32Type) {
        float f = (float)d;
        memcpy(out, &f, sizeof f);
        return stored_float32 || (double)f == d; /* NaN: false */
    }
    int bytes = int_bytes(st);
    /* C converts to int32 (int64 for SInt64) first, then narrows. */
    double lo = bytes == 8 ? -9223372036854775808.0 : -2147483648.0;
    double hi = bytes == 8 ? 9223372036854775808.0 : 2147483648.0;
    if (isnan(d)) {
        put_sized(out, bytes, 0);
        return false;
    }
    bool in_range = bytes == 8 ? (d >= lo && d < hi) : (d > lo - 1.0 && d < hi);
    if (!in_range) {
        int64_t sat = d < 0 ? (bytes == 8 ? INT64_MIN : bytes == 4 ? INT32_MIN : bytes == 2 ? INT16_MIN : INT8_MIN)
                            : (bytes == 8 ? INT64_MAX : bytes == 4 ? INT32_MAX : bytes == 2 ? INT16_MAX : INT8_MAX);
        put_sized(out, bytes, sat);
        return false;
    }
    int64_t v = (int64_t)d; /* truncates toward zero */
    put_sized(out, bytes, v);
    int64_t back = bytes == 1 ? (int8_t)v : bytes == 2 ? (int16_t)v : bytes == 4 ? (int32_t)v : v;
    return (double)back == d;
}

static bool get_from_int(int64_t v, CFNumberType st, void *out)
{
    switch (st) {
    case kCFNumberSInt8Type:
        put_sized(out, 1, v);
        return (v >> 8) == 0 || (int8_t)v == v;
    case kCFNumberSInt16Type:
        put_sized(out, 2, v);
        return (v >> 16) == 0 || (int16_t)v == v;
    case kCFNumberSInt32Type:
        put_sized(out, 4, v);
        return (int32_t)v == v;
    case kCFNumberSInt64Type:
        put_sized(out, 8, v);
        return true;
    case kCFNumberFloat32Type: {
        float f = (float)v;
        int64_t back;
        memcpy(out, &f, sizeof f);
        return double_to_int64_exact((double)f, &back) && back == v;
    }
    default: {
        double d = (double)v;
        int64_t back;
        memcpy(out, &d, sizeof d);
        return double_to_int64_exact(d, &back) && back == v;
    }
    }
}

Boolean CFNumberGetValue(CFNumberRef number, CFNumberType theType, void *valuePtr)
{
    secsim_check(number, SECSIM_TYPE_NUMBER, "CFNumberGetValue");
    CFNumberType st = storage_of(theType, "CFNumberGetValue");
    if (!valuePtr)
        secsim_fatal("CFNumberGetValue: NULL valuePtr");
    return number->is_float ? get_from_double(number->d, number->storage == kCFNumberFloat32Type, st, valuePtr)
                            : get_from_int(number->i, st, valuePtr);
}

/* Equality is Apple's CFNumberCompare == equal: integers by value; floats
 * by value where NaN equals NaN and -0.0 differs from 0.0 (the signs are
 * compared first); a float equals an integer when it is exactly that
 * integer with the same sign (so -0.0 differs from 0). */
static Boolean float_equals_int(double d, int64_t v)
{
    int64_t k;
    if (!double_to_int64_exact(d, &k) || k != v)
        return 0;
    return (signbit(d) != 0) == (v < 0);
}

Boolean cf_number_equals_int(CFNumberRef n, int64_t v)
{
    return n->is_float ? float_equals_int(n->d, v) : n->i == v;
}

static Boolean number_equal(CFTypeRef a, CFTypeRef b)
{
    CFNumberRef x = a, y = b;
    if (!x->is_float)
        return cf_number_equals_int(y, x->i);
    if (!y->is_float)
        return float_equals_int(x->d, y->i);
    if (isnan(x->d) || isnan(y->d))
        return isnan(x->d) && isnan(y->d);
    return signbit(x->d) == signbit(y->d) && x->d == y->d;
}

static CFHashCode double_hash(double d)
{
    int64_t k;
    if (double_to_int64_exact(d, &k))
        return cf_hash_int(k); /* also folds -0.0 into 0 */
    if (isnan(d))
        return 0x4e614eUL;
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return cf_hash_mix(bits);
}

static CFHashCode number_hash(CFTypeRef obj)
{
    CFNumberRef n = obj;
    /* -0.0 hashes like 0 although they differ: allowed, and simple. */
    return n->is_float ? double_hash(n->d) : cf_hash_int(n->i);
}

/* Shortest %g form that reads back as the same double. */
static void put_double(cf_sb *sb, double d)
{
    if (isnan(d)) { cf_sb_puts(sb, "nan"); return; }
    if (isinf(d)) { cf_sb_puts(sb, d > 0 ? "inf" : "-inf"); return; }
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    cf_sb_puts(sb, buf);
}

static void number_describe(cf_sb *sb, CFTypeRef obj, bool nested, int depth)
{
    (void)nested;
    (void)depth;
    CFNumberRef n = obj;
    if (n->is_float)
        put_double(sb, n->d);
    else
        cf_sb_printf(sb, "%" PRId64, n->i);
}

const cf_type_ops cf_number_ops = { "CFNumber", NULL, number_equal, number_hash, number_describe };

/* ------------------------------------------------------------------ */
/* CFDate                                                              */
/* ------------------------------------------------------------------ */

struct __CFDate {
    secsim_base base;
    CFAbsoluteTime at;
};

const CFTimeInterval kCFAbsoluteTimeIntervalSince1970 = 978307200.0;
const CFTimeInterval kCFAbsoluteTimeIntervalSince1904 = 3061152000.0;

CFTypeID CFDateGetTypeID(void) { return SECSIM_TYPE_DATE; }

CFDateRef CFDateCreate(CFAllocatorRef allocator, CFAbsoluteTime at)
{
    (void)allocator;
    struct __CFDate *d = cf_alloc(SECSIM_TYPE_DATE, sizeof *d);
    d->at = at;
    return d;
}

CFAbsoluteTime CFDateGetAbsoluteTime(CFDateRef theDate)
{
    secsim_check(theDate, SECSIM_TYPE_DATE, "CFDateGetAbsoluteTime");
    return theDate->at;
}

CFAbsoluteTime CFAbsoluteTimeGetCurrent(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((double)ts.tv_sec - kCFAbsoluteTimeIntervalSince1970) + (double)ts.tv_nsec / 1e9;
}

static Boolean date_equal(CFTypeRef a, CFTypeRef b)
{
    CFDateRef x = a, y = b;
    return x->at == y->at || (isnan(x->at) && isnan(y->at));
}

static CFHashCode date_hash(CFTypeRef obj)
{
    return double_hash(((CFDateRef)obj)->at) ^ 0x44415445UL;
}

static void date_describe(cf_sb *sb, CFTypeRef obj, bool nested, int depth)
{
    (void)nested;
    (void)depth;
    double unix_time = ((CFDateRef)obj)->at + kCFAbsoluteTimeIntervalSince1970;
    struct tm tm;
    /* NSDate style: "2001-01-01 00:00:00 +0000" (seconds only). */
    if (isfinite(unix_time) && fabs(unix_time) < 1e15) {
        time_t t = (time_t)floor(unix_time);
        if (gmtime_r(&t, &tm)) {
            cf_sb_printf(sb, "%04d-%02d-%02d %02d:%02d:%02d +0000", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
            return;
        }
    }
    cf_sb_puts(sb, "<CFDate ");
    put_double(sb, ((CFDateRef)obj)->at);
    cf_sb_puts(sb, ">");
}

const cf_type_ops cf_date_ops = { "CFDate", NULL, date_equal, date_hash, date_describe };

/* ------------------------------------------------------------------ */
/* The rest of the CFData / CFNumber / CFDate surface (issue #17)      */
/* ------------------------------------------------------------------ */

CFDataRef CFDataCreateWithBytesNoCopy(CFAllocatorRef allocator, const UInt8 *bytes, CFIndex length,
                                      CFAllocatorRef bytesDeallocator)
{
    (void)allocator;
    if (length < 0)
        secsim_fatal("CFDataCreateWithBytesNoCopy: negative length %ld", length);
    if (!bytes && length > 0)
        secsim_fatal("CFDataCreateWithBytesNoCopy: NULL bytes with length %ld", length);
    struct __CFData *d = cf_alloc(SECSIM_TYPE_DATA, sizeof *d);
    d->length = length;
    if (!bytes) {
        d->bytes = cf_xmalloc(1);
        return d;
    }
    /* The data keeps the caller's bytes; every allocator but
     * kCFAllocatorNull frees them with free() when the data goes. */
    d->bytes = (UInt8 *)bytes;
    d->borrowed = bytesDeallocator == kCFAllocatorNull;
    return d;
}

CFDataRef CFDataCreateCopy(CFAllocatorRef allocator, CFDataRef theData)
{
    secsim_check(theData, SECSIM_TYPE_DATA, "CFDataCreateCopy");
    return CFDataCreate(allocator, theData->bytes, theData->length);
}

static void data_reserve(struct __CFData *d, CFIndex need)
{
    if (need <= d->cap)
        return;
    CFIndex cap = d->cap ? d->cap : 16;
    while (cap < need)
        cap = cap > LONG_MAX / 2 ? need : cap * 2;
    d->bytes = cf_xrealloc(d->bytes, (size_t)cap);
    d->cap = cap;
}

CFMutableDataRef CFDataCreateMutable(CFAllocatorRef allocator, CFIndex capacity)
{
    (void)allocator;
    if (capacity < 0)
        secsim_fatal("CFDataCreateMutable: negative capacity %ld", capacity);
    struct __CFData *d = cf_alloc(SECSIM_TYPE_DATA, sizeof *d);
    d->is_mutable = true;
    d->bytes = cf_xmalloc(16);
    d->cap = 16;
    return d;
}

CFMutableDataRef CFDataCreateMutableCopy(CFAllocatorRef allocator, CFIndex capacity, CFDataRef theData)
{
    secsim_check(theData, SECSIM_TYPE_DATA, "CFDataCreateMutableCopy");
    if (capacity > 0 && capacity < theData->length)
        secsim_fatal("CFDataCreateMutableCopy: capacity %ld below the length %ld", capacity, theData->length);
    struct __CFData *d = CFDataCreateMutable(allocator, capacity);
    CFDataAppendBytes(d, theData->bytes, theData->length);
    return d;
}

static struct __CFData *check_mutable_data(CFMutableDataRef theData, const char *fn)
{
    secsim_check(theData, SECSIM_TYPE_DATA, fn);
    if (!theData->is_mutable)
        secsim_fatal("%s: the data is immutable", fn);
    return theData;
}

UInt8 *CFDataGetMutableBytePtr(CFMutableDataRef theData)
{
    return check_mutable_data(theData, "CFDataGetMutableBytePtr")->bytes;
}

void CFDataGetBytes(CFDataRef theData, CFRange range, UInt8 *buffer)
{
    secsim_check(theData, SECSIM_TYPE_DATA, "CFDataGetBytes");
    if (range.location < 0 || range.length < 0 || range.location > theData->length ||
        range.length > theData->length - range.location)
        secsim_fatal("CFDataGetBytes: range {%ld, %ld} out of bounds for length %ld", range.location,
                     range.length, theData->length);
    if (range.length)
        memcpy(buffer, theData->bytes + range.location, (size_t)range.length);
}

void CFDataSetLength(CFMutableDataRef theData, CFIndex length)
{
    struct __CFData *d = check_mutable_data(theData, "CFDataSetLength");
    if (length < 0)
        secsim_fatal("CFDataSetLength: negative length %ld", length);
    data_reserve(d, length);
    if (length > d->length)
        memset(d->bytes + d->length, 0, (size_t)(length - d->length)); /* new bytes are zero */
    d->length = length;
}

void CFDataIncreaseLength(CFMutableDataRef theData, CFIndex extraLength)
{
    check_mutable_data(theData, "CFDataIncreaseLength");
    if (extraLength < 0 || extraLength > LONG_MAX - theData->length)
        secsim_fatal("CFDataIncreaseLength: bad extra length %ld", extraLength);
    CFDataSetLength(theData, theData->length + extraLength);
}

void CFDataReplaceBytes(CFMutableDataRef theData, CFRange range, const UInt8 *newBytes, CFIndex newLength)
{
    struct __CFData *d = check_mutable_data(theData, "CFDataReplaceBytes");
    if (range.location < 0 || range.length < 0 || range.location > d->length ||
        range.length > d->length - range.location)
        secsim_fatal("CFDataReplaceBytes: range {%ld, %ld} out of bounds for length %ld", range.location,
                     range.length, d->length);
    if (newLength < 0 || (!newBytes && newLength > 0))
        secsim_fatal("CFDataReplaceBytes: bad new bytes (length %ld)", newLength);
    /* newBytes may point into the data itself: copy them first. */
    UInt8 *tmp = cf_xmalloc((size_t)(newLength ? newLength : 1));
    if (newLength)
        memcpy(tmp, newBytes, (size_t)newLength);
    CFIndex tail = d->length - range.location - range.length;
    CFIndex total = d->length - range.length + newLength;
    data_reserve(d, total);
    memmove(d->bytes + range.location + newLength, d->bytes + range.location + range.length, (size_t)tail);
    if (newLength)
        memcpy(d->bytes + range.location, tmp, (size_t)newLength);
    free(tmp);
    d->length = total;
}

void CFDataAppendBytes(CFMutableDataRef theData, const UInt8 *bytes, CFIndex length)
{
    check_mutable_data(theData, "CFDataAppendBytes");
    if (length < 0)
        secsim_fatal("CFDataAppendBytes: negative length %ld", length);
    CFDataReplaceBytes(theData, (CFRange){ theData->length, 0 }, bytes, length);
}

void CFDataDeleteBytes(CFMutableDataRef theData, CFRange range)
{
    CFDataReplaceBytes(theData, range, NULL, 0);
}

static CFComparisonResult compare_doubles(double d1, double d2)
{
    double s1 = copysign(1.0, d1), s2 = copysign(1.0, d2);
    if (isnan(d1) && isnan(d2))
        return kCFCompareEqualTo;
    if (isnan(d1))
        return s2 < 0.0 ? kCFCompareGreaterThan : kCFCompareLessThan;
    if (isnan(d2))
        return s1 < 0.0 ? kCFCompareLessThan : kCFCompareGreaterThan;
    if (s1 < s2)
        return kCFCompareLessThan;
    if (s2 < s1)
        return kCFCompareGreaterThan;
    if (d1 < d2)
        return kCFCompareLessThan;
    if (d2 < d1)
        return kCFCompareGreaterThan;
    return kCFCompareEqualTo;
}

CFComparisonResult CFNumberCompare(CFNumberRef number, CFNumberRef otherNumber, void *context)
{
    (void)context;
    secsim_check(number, SECSIM_TYPE_NUMBER, "CFNumberCompare");
    secsim_check(otherNumber, SECSIM_TYPE_NUMBER, "CFNumberCompare");
    if (!number->is_float && !otherNumber->is_float)
        return number->i < otherNumber->i ? kCFCompareLessThan
               : number->i > otherNumber->i ? kCFCompareGreaterThan : kCFCompareEqualTo;
    double a = number->is_float ? number->d : (double)number->i;
    double b = otherNumber->is_float ? otherNumber->d : (double)otherNumber->i;
    return compare_doubles(a, b);
}

CFComparisonResult CFDateCompare(CFDateRef theDate, CFDateRef otherDate, void *context)
{
    (void)context;
    secsim_check(theDate, SECSIM_TYPE_DATE, "CFDateCompare");
    secsim_check(otherDate, SECSIM_TYPE_DATE, "CFDateCompare");
    if (theDate->at < otherDate->at)
        return kCFCompareLessThan;
    if (theDate->at > otherDate->at)
        return kCFCompareGreaterThan;
    return kCFCompareEqualTo;
}

CFTimeInterval CFDateGetTimeIntervalSinceDate(CFDateRef theDate, CFDateRef otherDate)
{
    secsim_check(theDate, SECSIM_TYPE_DATE, "CFDateGetTimeIntervalSinceDate");
    secsim_check(otherDate, SECSIM_TYPE_DATE, "CFDateGetTimeIntervalSinceDate");
    return theDate->at - otherDate->at;
}
