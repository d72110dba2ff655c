/*
 * cf_private.h - what the CoreFoundation files of the emulator (cf*.c) share.
 *
 * Not for the Security files (sec_*.c): they use secsim_internal.h and their own
 * headers (sec_private.h, sec_engine.h, sec_index.h ...).
 *
 * Layout of the CF runtime:
 *   cf.c            object runtime: allocation, retain/release, quarantine of
 *                   freed objects, class registry, CFEqual/CFHash/
 *                   CFCopyDescription dispatch, secsim_fatal, allocators,
 *                   CFBoolean, CFNull.
 *   cf_string.c     CFString and its encodings.
 *   cf_scalar.c     CFData, CFNumber, CFDate.
 *   cf_container.c  CFArray, CFDictionary, the kCFType callback structs.
 *   cf_error.c      CFError.
 *   cf_encodings.c  tables of the eight-bit encodings.
 */
#ifndef SECSIM_CF_PRIVATE_H
#define SECSIM_CF_PRIVATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secsim_internal.h"

/* ---- memory (abort with a message when malloc fails) ---- */
void *cf_xmalloc(size_t n);
void *cf_xcalloc(size_t count, size_t size);
void *cf_xrealloc(void *p, size_t n);

/* ---- object runtime (cf.c) ---- */

/* A +1 object of a built-in type: `size` bytes in all, starting with a
 * secsim_base, zeroed, counted as live. */
void *cf_alloc(CFTypeID type, size_t size);

/* Abort unless obj is a live CF object (any type); fn names the caller. */
void cf_validate(CFTypeRef obj, const char *fn);

/* Name of a type ID ("CFString", a registered class name, ...). */
const char *cf_type_name(CFTypeID type);

/* Register a CF type implemented in the cf*.c files beyond the fixed IDs
 * (CFSet, CFUUID): cls (same name, finalize, equal, hash as ops) is
 * registered as a class, and ops->describe then describes its objects.
 * Call it once (pthread_once) before creating any object of the type. */
struct cf_type_ops;
CFTypeID cf_register_type(const secsim_class *cls, const struct cf_type_ops *ops);

/* Make a +1 object immortal (CFSTR strings): retain/release ignore it and it
 * no longer counts as live. */
void cf_make_immortal(CFTypeRef obj);

/* ---- growable UTF-8 text buffer for descriptions ---- */
typedef struct cf_sb {
    char *p;
    size_t len;
    size_t cap;
} cf_sb;

void cf_sb_putn(cf_sb *sb, const char *s, size_t n);
void cf_sb_puts(cf_sb *sb, const char *s);
__attribute__((format(printf, 2, 3))) void cf_sb_printf(cf_sb *sb, const char *fmt, ...);
/* Turn the buffer into a +1 CFString (the buffer is consumed). */
CFStringRef cf_sb_finish(cf_sb *sb);

/* Append the description of obj.  `nested` is true inside a container
 * (strings are then quoted).  `depth` guards against cycles. */
void cf_describe(cf_sb *sb, CFTypeRef obj, bool nested, int depth);
#define CF_DESCRIBE_MAX_DEPTH 64

/* Per-type operations of the built-in types.  equal() is only called with
 * two live objects of the type; describe() appends to sb. */
typedef struct cf_type_ops {
    const char *name;
    void (*finalize)(CFTypeRef obj);
    Boolean (*equal)(CFTypeRef a, CFTypeRef b);
    CFHashCode (*hash)(CFTypeRef obj);
    void (*describe)(cf_sb *sb, CFTypeRef obj, bool nested, int depth);
} cf_type_ops;

extern const cf_type_ops cf_string_ops;
extern const cf_type_ops cf_data_ops;
extern const cf_type_ops cf_number_ops;
extern const cf_type_ops cf_date_ops;
extern const cf_type_ops cf_array_ops;
extern const cf_type_ops cf_dictionary_ops;
extern const cf_type_ops cf_error_ops;

/* ---- hashing and equality of byte runs ---- */
CFHashCode cf_hash_bytes(const void *p, size_t n, CFHashCode seed);
/* Two byte runs are equal: the same length, the same bytes (CFData and
 * CFString equality). */
Boolean cf_bytes_equal(const void *a, size_t na, const void *b, size_t nb);
CFHashCode cf_hash_int(int64_t v);
CFHashCode cf_hash_pointer(const void *p);
CFHashCode cf_hash_mix(CFHashCode h);

/* ---- numbers (cf_scalar.c), for Boolean/Number cross-type equality ---- */
/* True if the number is exactly the integer v. */
Boolean cf_number_equals_int(CFNumberRef n, int64_t v);

/* ---- strings (cf_string.c) ---- */
/* +1 string from UTF-8 bytes (copied); NULL if the bytes are not UTF-8. */
CFStringRef cf_string_create_utf8(const char *p, size_t n);
/* Append s as a quoted, escaped literal. */
void cf_string_describe_quoted(cf_sb *sb, CFStringRef s);

/* +1 string from the emulator's stored form (UTF-8 that may also hold
 * unpaired surrogates, 3 bytes each); for descriptions. */
CFStringRef cf_string_create_stored(const char *p, size_t n);

/* ---- eight-bit encodings (cf_encodings.c): 0x80..0xFF -> Unicode, 0 = undefined ---- */
extern const uint16_t cf_macroman_high[128];
extern const uint16_t cf_winlatin1_high[128];
extern const uint16_t cf_nextstep_high[128];
extern const uint16_t cf_macroman_ignorable[];
extern const size_t cf_macroman_ignorable_count;

/* secsim_base.flags bit of a CFString created from ASCII bytes in an
 * eight-bit encoding (Apple's CF keeps those as a NUL-terminated 8-bit
 * buffer, which CFStringGetCStringPtr hands out). */
#define CF_STRING_EIGHT_BIT 0x100u

/* Mutable strings (CFStringCreateMutable): secsim_base.flags bit. */
#define CF_STRING_MUTABLE 0x200u

/* The formatter behind CFStringCreateWithFormat (cf_format.c): appends the
 * formatted text, in the stored form, to sb. */
void cf_format_append(cf_sb *sb, CFStringRef format, va_list args);
/* Append a +1-free copy of s's stored bytes to the mutable string m. */
void cf_string_append_stored(CFMutableStringRef m, const char *p, size_t n);

/* va_list forms (exported, declared in the public CFString.h only: the
 * tests' cffi declaration cannot express va_list). */
SECSIM_EXPORT CFStringRef CFStringCreateWithFormatAndArguments(CFAllocatorRef alloc, CFDictionaryRef formatOptions,
                                                               CFStringRef format, va_list arguments);
SECSIM_EXPORT void CFStringAppendFormatAndArguments(CFMutableStringRef theString, CFDictionaryRef formatOptions,
                                                    CFStringRef format, va_list arguments);

/* ---- dictionaries (cf_container.c), for CFError ---- */
/* +1 immutable copy of d with d's callbacks. */
CFDictionaryRef cf_dictionary_copy(CFDictionaryRef d);
/* Borrowed value whose key is a CFString equal to `key`, whatever the
 * dictionary's key callbacks are; NULL if none. */
const void *cf_dictionary_find_string_key(CFDictionaryRef d, const char *key);
/* +1 empty immutable dictionary with the kCFType callbacks. */
CFDictionaryRef cf_dictionary_create_empty(void);

#endif /* SECSIM_CF_PRIVATE_H */
