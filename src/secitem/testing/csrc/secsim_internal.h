/*
 * secsim_internal.h - what the emulator's C files share with each other.
 *
 * Every CF object starts with secsim_base.  Built-in CF types have fixed
 * type IDs below; Security types (SecAccessControl, item refs ...) register
 * a class at load and get the next free ID.  Objects with SECSIM_IMMORTAL
 * (constants, kCFBooleanTrue, kCFNull) ignore retain/release and are not
 * counted by secsim_live_objects().
 */
#ifndef SECSIM_INTERNAL_H
#define SECSIM_INTERNAL_H

#include "secsim.h"

#define SECSIM_MAGIC 0x5EC5104Du
#define SECSIM_DEAD 0xDEADF4EEu
#define SECSIM_IMMORTAL 1u

typedef struct secsim_base {
    uint32_t magic;      /* SECSIM_MAGIC while alive, SECSIM_DEAD once freed */
    uint32_t flags;      /* SECSIM_IMMORTAL */
    CFTypeID type;
    long rc;             /* retain count, accessed with __atomic builtins */
} secsim_base;

enum {
    SECSIM_TYPE_NULL = 1,
    SECSIM_TYPE_BOOLEAN,
    SECSIM_TYPE_NUMBER,
    SECSIM_TYPE_STRING,
    SECSIM_TYPE_DATA,
    SECSIM_TYPE_DATE,
    SECSIM_TYPE_ARRAY,
    SECSIM_TYPE_DICTIONARY,
    SECSIM_TYPE_ERROR,
    SECSIM_TYPE_FIRST_DYNAMIC /* registered classes start here */
};

/* A CFString holds UTF-8 bytes (NUL-terminated for CFStringGetCStringPtr). */
struct __CFString {
    secsim_base base;
    CFIndex nbytes;      /* UTF-8 byte count, without the NUL */
    CFIndex nutf16;      /* length in UTF-16 code units */
    const char *bytes;
};

#define SECSIM_STATIC_STRING_INIT(lit) \
    { { SECSIM_MAGIC, SECSIM_IMMORTAL, SECSIM_TYPE_STRING, 1 }, \
      (CFIndex)(sizeof(lit) - 1), (CFIndex)(sizeof(lit) - 1), (lit) }

/* Class registration for the types that Security adds. */
typedef struct secsim_class {
    const char *name;
    void (*finalize)(CFTypeRef obj);                 /* release what the body owns */
    Boolean (*equal)(CFTypeRef a, CFTypeRef b);      /* NULL: identity */
    CFHashCode (*hash)(CFTypeRef obj);               /* NULL: address */
} secsim_class;

CFTypeID secsim_register_class(const secsim_class *cls);
/* Allocate a +1 object of a registered type; the body (body_size bytes,
 * directly after secsim_base) is zeroed.  Counted as live until freed. */
CFTypeRef secsim_create_instance(CFTypeID type, size_t body_size);
void *secsim_body(CFTypeRef obj);

/* Abort with "secsim: <message>" on stderr, as the real framework crashes. */
__attribute__((noreturn, format(printf, 1, 2))) void secsim_fatal(const char *fmt, ...);
/* Abort unless obj is a live object of the given type (fn names the caller). */
void secsim_check(CFTypeRef obj, CFTypeID type, const char *fn);
/* True if obj is a non-NULL live CF object of that type (no abort). */
Boolean secsim_is(CFTypeRef obj, CFTypeID type);

/* Convenience: +1 CFString from a NUL-terminated UTF-8 C string (NULL if
 * the bytes are not valid UTF-8). */
CFStringRef secsim_string(const char *utf8);
/* +1 CFString holding exactly the n bytes that secsim_string_utf8() gave
 * (UTF-8, unpaired surrogates in their 3-byte form), with no byte-order-mark
 * processing: the Security half rebuilds stored strings with it, so a value
 * that starts with U+FEFF comes back as it went in.  NULL if the bytes are
 * not of that form. */
CFStringRef secsim_string_stored(const char *p, size_t n);
/* Borrowed UTF-8 bytes of a CFString (always NUL-terminated). */
const char *secsim_string_utf8(CFStringRef s, CFIndex *nbytes);
/* The value of a hex digit (0-9, a-f, A-F; a byte or a UTF-16 unit), or -1. */
int secsim_hex_digit(unsigned int c);

/* Number of live (not immortal) CF objects, including registered classes.
 * secsim_live_objects() (sec_store.c) returns it. */
SECSIM_EXPORT long secsim_cf_live_objects(void);

#endif /* SECSIM_INTERNAL_H */
