/*
 * secsim_cf.h - the CoreFoundation calls that keychain clients make beyond
 * what secitem's binding needs (issue #17): included by secsim.h, so every
 * emulator file and the tests' cffi declaration (tests/simlib.py) see it.
 *
 * The list comes from real clients' source (docs/emulator.md, "Exported
 * CoreFoundation functions"); names and prototypes are Apple's, the code
 * behind them is our own (cf*.c).  The public headers shipped for C clients
 * (src/secitem/testing/include) declare the same functions; a test keeps
 * them and the library's exports in step.
 */
#ifndef SECSIM_CF_H
#define SECSIM_CF_H

typedef const struct __CFSet *CFSetRef;
typedef struct __CFSet *CFMutableSetRef;
typedef const struct __CFUUID *CFUUIDRef;
typedef CFOptionFlags CFStringCompareFlags;
typedef struct {
    UInt8 byte0; UInt8 byte1; UInt8 byte2; UInt8 byte3;
    UInt8 byte4; UInt8 byte5; UInt8 byte6; UInt8 byte7;
    UInt8 byte8; UInt8 byte9; UInt8 byte10; UInt8 byte11;
    UInt8 byte12; UInt8 byte13; UInt8 byte14; UInt8 byte15;
} CFUUIDBytes;
typedef const void *(*CFSetRetainCallBack)(CFAllocatorRef allocator, const void *value);
typedef void (*CFSetReleaseCallBack)(CFAllocatorRef allocator, const void *value);
typedef CFStringRef (*CFSetCopyDescriptionCallBack)(const void *value);
typedef Boolean (*CFSetEqualCallBack)(const void *value1, const void *value2);
typedef CFHashCode (*CFSetHashCallBack)(const void *value);
typedef struct {
    CFIndex version;
    CFSetRetainCallBack retain;
    CFSetReleaseCallBack release;
    CFSetCopyDescriptionCallBack copyDescription;
    CFSetEqualCallBack equal;
    CFSetHashCallBack hash;
} CFSetCallBacks;
typedef void (*CFDictionaryApplierFunction)(const void *key, const void *value, void *context);
typedef void (*CFSetApplierFunction)(const void *value, void *context);
typedef void (*CFArrayApplierFunction)(const void *value, void *context);

enum {
    kCFCompareLessThan = -1,
    kCFCompareEqualTo = 0,
    kCFCompareGreaterThan = 1
};
enum {
    kCFCompareCaseInsensitive = 1,
    kCFCompareBackwards = 4,
    kCFCompareAnchored = 8,
    kCFCompareNonliteral = 16,
    kCFCompareLocalized = 32,
    kCFCompareNumerically = 64
};

SECSIM_EXPORT extern const CFSetCallBacks kCFTypeSetCallBacks;
SECSIM_EXPORT extern const CFSetCallBacks kCFCopyStringSetCallBacks;
SECSIM_EXPORT extern const CFStringRef kCFErrorLocalizedDescriptionKey;
SECSIM_EXPORT extern const CFStringRef kCFErrorLocalizedFailureReasonKey;
SECSIM_EXPORT extern const CFStringRef kCFErrorLocalizedRecoverySuggestionKey;
SECSIM_EXPORT extern const CFStringRef kCFErrorUnderlyingErrorKey;
SECSIM_EXPORT extern const CFStringRef kCFErrorDomainMach;
SECSIM_EXPORT extern const CFStringRef kCFErrorDomainCocoa;

/* base */
SECSIM_EXPORT CFStringRef CFCopyTypeIDDescription(CFTypeID type_id);
SECSIM_EXPORT void CFShow(CFTypeRef obj);

/* CFString */
SECSIM_EXPORT CFStringRef __CFStringMakeConstantString(const char *cStr);
SECSIM_EXPORT CFStringRef CFStringCreateWithFormat(CFAllocatorRef alloc, CFDictionaryRef formatOptions, CFStringRef format, ...);
SECSIM_EXPORT void CFStringAppendFormat(CFMutableStringRef theString, CFDictionaryRef formatOptions, CFStringRef format, ...);
SECSIM_EXPORT CFStringRef CFStringCreateWithCharacters(CFAllocatorRef alloc, const UniChar *chars, CFIndex numChars);
SECSIM_EXPORT CFStringRef CFStringCreateFromExternalRepresentation(CFAllocatorRef alloc, CFDataRef data, CFStringEncoding encoding);
SECSIM_EXPORT CFDataRef CFStringCreateExternalRepresentation(CFAllocatorRef alloc, CFStringRef theString, CFStringEncoding encoding, UInt8 lossByte);
SECSIM_EXPORT CFStringRef CFStringCreateCopy(CFAllocatorRef alloc, CFStringRef theString);
SECSIM_EXPORT CFStringRef CFStringCreateWithSubstring(CFAllocatorRef alloc, CFStringRef str, CFRange range);
SECSIM_EXPORT CFMutableStringRef CFStringCreateMutable(CFAllocatorRef alloc, CFIndex maxLength);
SECSIM_EXPORT CFMutableStringRef CFStringCreateMutableCopy(CFAllocatorRef alloc, CFIndex maxLength, CFStringRef theString);
SECSIM_EXPORT void CFStringAppend(CFMutableStringRef theString, CFStringRef appendedString);
SECSIM_EXPORT void CFStringAppendCString(CFMutableStringRef theString, const char *cStr, CFStringEncoding encoding);
SECSIM_EXPORT void CFStringAppendCharacters(CFMutableStringRef theString, const UniChar *chars, CFIndex numChars);
SECSIM_EXPORT UniChar CFStringGetCharacterAtIndex(CFStringRef theString, CFIndex idx);
SECSIM_EXPORT void CFStringGetCharacters(CFStringRef theString, CFRange range, UniChar *buffer);
SECSIM_EXPORT CFComparisonResult CFStringCompare(CFStringRef theString1, CFStringRef theString2, CFStringCompareFlags compareOptions);
SECSIM_EXPORT Boolean CFStringHasPrefix(CFStringRef theString, CFStringRef prefix);
SECSIM_EXPORT Boolean CFStringHasSuffix(CFStringRef theString, CFStringRef suffix);

/* CFData */
SECSIM_EXPORT CFDataRef CFDataCreateWithBytesNoCopy(CFAllocatorRef allocator, const UInt8 *bytes, CFIndex length, CFAllocatorRef bytesDeallocator);
SECSIM_EXPORT CFDataRef CFDataCreateCopy(CFAllocatorRef allocator, CFDataRef theData);
SECSIM_EXPORT CFMutableDataRef CFDataCreateMutable(CFAllocatorRef allocator, CFIndex capacity);
SECSIM_EXPORT CFMutableDataRef CFDataCreateMutableCopy(CFAllocatorRef allocator, CFIndex capacity, CFDataRef theData);
SECSIM_EXPORT UInt8 *CFDataGetMutableBytePtr(CFMutableDataRef theData);
SECSIM_EXPORT void CFDataGetBytes(CFDataRef theData, CFRange range, UInt8 *buffer);
SECSIM_EXPORT void CFDataSetLength(CFMutableDataRef theData, CFIndex length);
SECSIM_EXPORT void CFDataIncreaseLength(CFMutableDataRef theData, CFIndex extraLength);
SECSIM_EXPORT void CFDataAppendBytes(CFMutableDataRef theData, const UInt8 *bytes, CFIndex length);
SECSIM_EXPORT void CFDataReplaceBytes(CFMutableDataRef theData, CFRange range, const UInt8 *newBytes, CFIndex newLength);
SECSIM_EXPORT void CFDataDeleteBytes(CFMutableDataRef theData, CFRange range);

/* CFNumber, CFDate */
SECSIM_EXPORT CFComparisonResult CFNumberCompare(CFNumberRef number, CFNumberRef otherNumber, void *context);
SECSIM_EXPORT CFComparisonResult CFDateCompare(CFDateRef theDate, CFDateRef otherDate, void *context);
SECSIM_EXPORT CFTimeInterval CFDateGetTimeIntervalSinceDate(CFDateRef theDate, CFDateRef otherDate);

/* CFArray */
SECSIM_EXPORT CFArrayRef CFArrayCreateCopy(CFAllocatorRef allocator, CFArrayRef theArray);
SECSIM_EXPORT CFMutableArrayRef CFArrayCreateMutableCopy(CFAllocatorRef allocator, CFIndex capacity, CFArrayRef theArray);
SECSIM_EXPORT void CFArrayGetValues(CFArrayRef theArray, CFRange range, const void **values);
SECSIM_EXPORT Boolean CFArrayContainsValue(CFArrayRef theArray, CFRange range, const void *value);
SECSIM_EXPORT CFIndex CFArrayGetFirstIndexOfValue(CFArrayRef theArray, CFRange range, const void *value);
SECSIM_EXPORT CFIndex CFArrayGetCountOfValue(CFArrayRef theArray, CFRange range, const void *value);
SECSIM_EXPORT void CFArrayApplyFunction(CFArrayRef theArray, CFRange range, CFArrayApplierFunction applier, void *context);
SECSIM_EXPORT void CFArrayInsertValueAtIndex(CFMutableArrayRef theArray, CFIndex idx, const void *value);
SECSIM_EXPORT void CFArraySetValueAtIndex(CFMutableArrayRef theArray, CFIndex idx, const void *value);
SECSIM_EXPORT void CFArrayRemoveValueAtIndex(CFMutableArrayRef theArray, CFIndex idx);
SECSIM_EXPORT void CFArrayRemoveAllValues(CFMutableArrayRef theArray);
SECSIM_EXPORT void CFArrayAppendArray(CFMutableArrayRef theArray, CFArrayRef otherArray, CFRange otherRange);

/* CFDictionary */
SECSIM_EXPORT CFDictionaryRef CFDictionaryCreateCopy(CFAllocatorRef allocator, CFDictionaryRef theDict);
SECSIM_EXPORT void CFDictionaryAddValue(CFMutableDictionaryRef theDict, const void *key, const void *value);
SECSIM_EXPORT void CFDictionaryReplaceValue(CFMutableDictionaryRef theDict, const void *key, const void *value);
SECSIM_EXPORT void CFDictionaryRemoveAllValues(CFMutableDictionaryRef theDict);
SECSIM_EXPORT Boolean CFDictionaryContainsValue(CFDictionaryRef theDict, const void *value);
SECSIM_EXPORT CFIndex CFDictionaryGetCountOfKey(CFDictionaryRef theDict, const void *key);
SECSIM_EXPORT void CFDictionaryApplyFunction(CFDictionaryRef theDict, CFDictionaryApplierFunction applier, void *context);

/* CFSet */
SECSIM_EXPORT CFTypeID CFSetGetTypeID(void);
SECSIM_EXPORT CFSetRef CFSetCreate(CFAllocatorRef allocator, const void **values, CFIndex numValues, const CFSetCallBacks *callBacks);
SECSIM_EXPORT CFSetRef CFSetCreateCopy(CFAllocatorRef allocator, CFSetRef theSet);
SECSIM_EXPORT CFMutableSetRef CFSetCreateMutable(CFAllocatorRef allocator, CFIndex capacity, const CFSetCallBacks *callBacks);
SECSIM_EXPORT CFMutableSetRef CFSetCreateMutableCopy(CFAllocatorRef allocator, CFIndex capacity, CFSetRef theSet);
SECSIM_EXPORT CFIndex CFSetGetCount(CFSetRef theSet);
SECSIM_EXPORT Boolean CFSetContainsValue(CFSetRef theSet, const void *value);
SECSIM_EXPORT const void *CFSetGetValue(CFSetRef theSet, const void *value);
SECSIM_EXPORT void CFSetGetValues(CFSetRef theSet, const void **values);
SECSIM_EXPORT void CFSetApplyFunction(CFSetRef theSet, CFSetApplierFunction applier, void *context);
SECSIM_EXPORT void CFSetAddValue(CFMutableSetRef theSet, const void *value);
SECSIM_EXPORT void CFSetSetValue(CFMutableSetRef theSet, const void *value);
SECSIM_EXPORT void CFSetRemoveValue(CFMutableSetRef theSet, const void *value);
SECSIM_EXPORT void CFSetRemoveAllValues(CFMutableSetRef theSet);

/* CFError */
SECSIM_EXPORT CFErrorRef CFErrorCreateWithUserInfoKeysAndValues(CFAllocatorRef allocator, CFStringRef domain, CFIndex code, const void *const *userInfoKeys, const void *const *userInfoValues, CFIndex numUserInfoValues);

/* CFUUID */
SECSIM_EXPORT CFTypeID CFUUIDGetTypeID(void);
SECSIM_EXPORT CFUUIDRef CFUUIDCreate(CFAllocatorRef alloc);
SECSIM_EXPORT CFUUIDRef CFUUIDCreateWithBytes(CFAllocatorRef alloc, UInt8 byte0, UInt8 byte1, UInt8 byte2, UInt8 byte3, UInt8 byte4, UInt8 byte5, UInt8 byte6, UInt8 byte7, UInt8 byte8, UInt8 byte9, UInt8 byte10, UInt8 byte11, UInt8 byte12, UInt8 byte13, UInt8 byte14, UInt8 byte15);
SECSIM_EXPORT CFUUIDRef CFUUIDCreateFromString(CFAllocatorRef alloc, CFStringRef uuidStr);
SECSIM_EXPORT CFUUIDRef CFUUIDCreateFromUUIDBytes(CFAllocatorRef alloc, CFUUIDBytes bytes);
SECSIM_EXPORT CFStringRef CFUUIDCreateString(CFAllocatorRef alloc, CFUUIDRef uuid);
SECSIM_EXPORT CFUUIDBytes CFUUIDGetUUIDBytes(CFUUIDRef uuid);

#endif /* SECSIM_CF_H */
