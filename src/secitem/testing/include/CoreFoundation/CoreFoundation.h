/*
 * CoreFoundation/CoreFoundation.h for the secitem emulator (issue #17).
 *
 * Code written for a Mac compiles unchanged against the emulator:
 *   cc -I"$(python -m secitem.testing.emulator --include)" app.c \
 *      "$(python -m secitem.testing.emulator | tail -n 1)"
 * It declares exactly what the emulator exports, with Apple's names, types
 * and prototypes: the declarations are the emulator's own (csrc/secsim.h,
 * csrc/secsim_cf.h), so they cannot drift from the library
 * (tests/emulator/test_native_headers.py checks both ways with nm).
 */
#ifndef SECSIM_PUBLIC_COREFOUNDATION_H
#define SECSIM_PUBLIC_COREFOUNDATION_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "../../csrc/secsim.h"

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif
#define CF_EXPORT extern
#define CF_INLINE static inline
#define CF_ENUM(_type, _name) _type _name; enum
#define CF_OPTIONS(_type, _name) _type _name; enum
#define CF_RETURNS_RETAINED
#define CF_RETURNS_NOT_RETAINED
#define CF_RELEASES_ARGUMENT
#define CF_CONSUMED
#define CF_IMPLICIT_BRIDGING_ENABLED
#define CF_IMPLICIT_BRIDGING_DISABLED
#define CF_ASSUME_NONNULL_BEGIN
#define CF_ASSUME_NONNULL_END
#define CF_BRIDGED_TYPE(T)
#define CF_BRIDGED_MUTABLE_TYPE(T)

typedef signed char SInt8;
typedef signed short SInt16;
typedef float Float32;
typedef double Float64;
typedef UInt32 UTF32Char;
typedef UInt16 UTF16Char;
typedef UInt8 UTF8Char;
typedef int32_t CFStringBuiltInEncodings;

/* CFSTR("...") is __CFStringMakeConstantString outside clang's builtin (as
 * Apple's CFString.h has it without __CONSTANT_CFSTRINGS__): an immortal,
 * interned string; non-ASCII text reads as MacRoman, as on Apple's CF. */
#define CFSTR(cStr) __CFStringMakeConstantString("" cStr "")

CF_INLINE CFRange CFRangeMake(CFIndex loc, CFIndex len)
{
    CFRange range;
    range.location = loc;
    range.length = len;
    return range;
}

/* The va_list forms of the format functions. */
SECSIM_EXPORT CFStringRef CFStringCreateWithFormatAndArguments(CFAllocatorRef alloc, CFDictionaryRef formatOptions, CFStringRef format, va_list arguments);
SECSIM_EXPORT void CFStringAppendFormatAndArguments(CFMutableStringRef theString, CFDictionaryRef formatOptions, CFStringRef format, va_list arguments);

#ifdef __cplusplus
}
#endif

#endif /* SECSIM_PUBLIC_COREFOUNDATION_H */
