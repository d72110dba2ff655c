/*
 * cf_error.c - CFError.
 *
 * A CFError holds its domain (retained), its code, and an immutable copy of
 * the userInfo dictionary it was created with (or none).
 *
 * CFErrorCopyDescription follows Apple's CFError.c (checked against Apple's
 * CF built for Linux, tools/cf_probe.py), first match wins:
 *   1. userInfo "NSLocalizedDescription", as is;
 *   2. userInfo "NSLocalizedFailure", followed by " <reason>" when there is a
 *      failure reason (3.);
 *   3. "The operation couldn’t be completed. <reason>" with the userInfo's
 *      "NSLocalizedFailureReason" or, in NSPOSIXErrorDomain, strerror(code);
 *   4. "The operation couldn’t be completed. (<domain> error <code> -
 *      <description>)" with the userInfo's "NSDescription";
 *   5. "The operation couldn’t be completed. (<domain> error <code>.)".
 * A value that is not a string is printed by its description (%@).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cf_private.h"

struct __CFError {
    secsim_base base;
    CFStringRef domain;
    CFIndex code;
    CFDictionaryRef user_info; /* NULL when created without one */
};

static struct __CFString s_domain_osstatus = SECSIM_STATIC_STRING_INIT("NSOSStatusErrorDomain");
static struct __CFString s_domain_posix = SECSIM_STATIC_STRING_INIT("NSPOSIXErrorDomain");
static struct __CFString s_description_key = SECSIM_STATIC_STRING_INIT("NSDescription");
const CFStringRef kCFErrorDomainOSStatus = &s_domain_osstatus;
const CFStringRef kCFErrorDomainPOSIX = &s_domain_posix;
const CFStringRef kCFErrorDescriptionKey = &s_description_key;

static struct __CFString s_localized_description_key = SECSIM_STATIC_STRING_INIT("NSLocalizedDescription");
static struct __CFString s_localized_failure_reason_key = SECSIM_STATIC_STRING_INIT("NSLocalizedFailureReason");
static struct __CFString s_localized_recovery_key = SECSIM_STATIC_STRING_INIT("NSLocalizedRecoverySuggestion");
static struct __CFString s_underlying_error_key = SECSIM_STATIC_STRING_INIT("NSUnderlyingError");
static struct __CFString s_domain_mach = SECSIM_STATIC_STRING_INIT("NSMachErrorDomain");
static struct __CFString s_domain_cocoa = SECSIM_STATIC_STRING_INIT("NSCocoaErrorDomain");
const CFStringRef kCFErrorLocalizedDescriptionKey = &s_localized_description_key;
const CFStringRef kCFErrorLocalizedFailureReasonKey = &s_localized_failure_reason_key;
const CFStringRef kCFErrorLocalizedRecoverySuggestionKey = &s_localized_recovery_key;
const CFStringRef kCFErrorUnderlyingErrorKey = &s_underlying_error_key;
const CFStringRef kCFErrorDomainMach = &s_domain_mach;
const CFStringRef kCFErrorDomainCocoa = &s_domain_cocoa;

CFTypeID CFErrorGetTypeID(void) { return SECSIM_TYPE_ERROR; }

CFErrorRef CFErrorCreateWithUserInfoKeysAndValues(CFAllocatorRef allocator, CFStringRef domain, CFIndex code,
                                                  const void *const *userInfoKeys,
                                                  const void *const *userInfoValues, CFIndex numUserInfoValues)
{
    if (numUserInfoValues < 0)
        secsim_fatal("CFErrorCreateWithUserInfoKeysAndValues: negative count %ld", numUserInfoValues);
    CFDictionaryRef info = CFDictionaryCreate(allocator, (const void **)userInfoKeys, (const void **)userInfoValues,
                                              numUserInfoValues, &kCFTypeDictionaryKeyCallBacks,
                                              &kCFTypeDictionaryValueCallBacks);
    CFErrorRef e = CFErrorCreate(allocator, domain, code, info);
    CFRelease(info);
    return e;
}

CFErrorRef CFErrorCreate(CFAllocatorRef allocator, CFStringRef domain, CFIndex code, CFDictionaryRef userInfo)
{
    (void)allocator;
    secsim_check(domain, SECSIM_TYPE_STRING, "CFErrorCreate");
    if (userInfo)
        secsim_check(userInfo, SECSIM_TYPE_DICTIONARY, "CFErrorCreate");
    struct __CFError *e = cf_alloc(SECSIM_TYPE_ERROR, sizeof *e);
    e->domain = CFRetain(domain);
    e->code = code;
    e->user_info = userInfo ? cf_dictionary_copy(userInfo) : NULL;
    return e;
}

CFIndex CFErrorGetCode(CFErrorRef err)
{
    secsim_check(err, SECSIM_TYPE_ERROR, "CFErrorGetCode");
    return err->code;
}

CFStringRef CFErrorGetDomain(CFErrorRef err)
{
    secsim_check(err, SECSIM_TYPE_ERROR, "CFErrorGetDomain");
    return err->domain;
}

CFDictionaryRef CFErrorCopyUserInfo(CFErrorRef err)
{
    secsim_check(err, SECSIM_TYPE_ERROR, "CFErrorCopyUserInfo");
    return err->user_info ? CFRetain(err->user_info) : cf_dictionary_create_empty();
}

static void put_string(cf_sb *sb, CFStringRef s)
{
    CFIndex n;
    const char *p = secsim_string_utf8(s, &n);
    cf_sb_putn(sb, p, (size_t)n);
}

/* A userInfo value as %@ prints it: a string as its text, anything else as
 * its description. */
static void put_value(cf_sb *sb, CFTypeRef v)
{
    if (secsim_is(v, SECSIM_TYPE_STRING))
        put_string(sb, v);
    else
        cf_describe(sb, v, false, 0);
}

/* Borrowed userInfo value for a key; NULL if absent. */
static const void *user_info_value(CFErrorRef err, const char *key)
{
    return err->user_info ? cf_dictionary_find_string_key(err->user_info, key) : NULL;
}

/* The POSIX domain's callback: strerror's text for the description and the
 * failure reason (Apple's _CFErrorPOSIXCallBack). */
static bool posix_text(CFErrorRef err, cf_sb *sb)
{
    if (!CFEqual(err->domain, kCFErrorDomainPOSIX))
        return false;
    char buf[256];
    const char *text = strerror_r((int)err->code, buf, sizeof buf);
    if (!text || !*text)
        return false;
    cf_sb_puts(sb, text);
    return true;
}

/* Append the value of a userInfo key, or else what the domain's callback
 * gives for it (NSDescription and NSLocalizedFailureReason in the POSIX
 * domain); false if neither has one. */
static bool put_key(cf_sb *sb, CFErrorRef err, const char *key, bool from_callback)
{
    const void *v = user_info_value(err, key);
    if (v) {
        put_value(sb, v);
        return true;
    }
    return from_callback && posix_text(err, sb);
}

CFStringRef CFErrorCopyDescription(CFErrorRef err)
{
    secsim_check(err, SECSIM_TYPE_ERROR, "CFErrorCopyDescription");
    const void *localized = user_info_value(err, "NSLocalizedDescription");
    if (localized)
        return secsim_is(localized, SECSIM_TYPE_STRING) ? CFRetain(localized) : CFCopyDescription(localized);
    cf_sb sb = { 0 };
    const void *failure = user_info_value(err, "NSLocalizedFailure");
    if (failure) {
        put_value(&sb, failure);
        cf_sb reason = { 0 };
        if (put_key(&reason, err, "NSLocalizedFailureReason", true)) {
            cf_sb_puts(&sb, " ");
            cf_sb_putn(&sb, reason.p, reason.len);
        }
        free(reason.p);
        return cf_sb_finish(&sb);
    }
    cf_sb_puts(&sb, "The operation couldn\u2019t be completed. ");
    if (put_key(&sb, err, "NSLocalizedFailureReason", true))
        return cf_sb_finish(&sb);
    cf_sb_puts(&sb, "(");
    put_string(&sb, err->domain);
    cf_sb_printf(&sb, " error %ld", err->code);
    size_t mark = sb.len;
    cf_sb_puts(&sb, " - ");
    if (put_key(&sb, err, "NSDescription", true)) {
        cf_sb_puts(&sb, ")");
    } else {
        sb.len = mark;
        cf_sb_puts(&sb, ".)");
    }
    return cf_sb_finish(&sb);
}

static void error_finalize(CFTypeRef obj)
{
    struct __CFError *e = (struct __CFError *)obj;
    CFRelease(e->domain);
    if (e->user_info)
        CFRelease(e->user_info);
    e->domain = NULL;
    e->user_info = NULL;
}

static Boolean error_equal(CFTypeRef a, CFTypeRef b)
{
    const struct __CFError *x = a, *y = b;
    if (x->code != y->code || !CFEqual(x->domain, y->domain))
        return 0;
    CFIndex nx = x->user_info ? CFDictionaryGetCount(x->user_info) : 0;
    CFIndex ny = y->user_info ? CFDictionaryGetCount(y->user_info) : 0;
    if (nx == 0 || ny == 0)
        return nx == ny;
    return CFEqual(x->user_info, y->user_info);
}

static CFHashCode error_hash(CFTypeRef obj)
{
    const struct __CFError *e = obj;
    return cf_hash_int(e->code) ^ CFHash(e->domain);
}

static void error_describe(cf_sb *sb, CFTypeRef obj, bool nested, int depth)
{
    (void)nested;
    const struct __CFError *e = obj;
    cf_sb_puts(sb, "Error Domain=");
    put_string(sb, e->domain);
    cf_sb_printf(sb, " Code=%ld", e->code);
    CFStringRef d = CFErrorCopyDescription((CFErrorRef)obj);
    cf_sb_puts(sb, " ");
    cf_string_describe_quoted(sb, d);
    CFRelease(d);
    if (e->user_info && CFDictionaryGetCount(e->user_info) > 0) {
        cf_sb_puts(sb, " UserInfo=");
        cf_describe(sb, e->user_info, true, depth + 1);
    }
}

const cf_type_ops cf_error_ops = { "CFError", error_finalize, error_equal, error_hash, error_describe };
