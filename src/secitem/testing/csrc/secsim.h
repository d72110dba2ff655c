/*
 * secsim.h - the public C ABI of the secitem emulator.
 *
 * Declares the subset of CoreFoundation and Security.framework that the
 * emulator exports, with the types of Apple's headers on LP64 (facts
 * section 1).  Names, signatures and constant string values match Apple's;
 * the code behind them is our own.
 */
#ifndef SECSIM_H
#define SECSIM_H

#include <stddef.h>
#include <stdint.h>

#define SECSIM_EXPORT __attribute__((visibility("default")))

/* 1.1 base typedefs */
typedef unsigned char Boolean;
typedef unsigned char UInt8;
typedef signed int SInt32;
typedef unsigned int UInt32;
typedef int64_t SInt64;
typedef SInt32 OSStatus;
typedef unsigned short UniChar;
typedef long CFIndex;
typedef unsigned long CFTypeID;
typedef unsigned long CFOptionFlags;
typedef unsigned long CFHashCode;
typedef const void *CFTypeRef;
typedef const struct __CFString *CFStringRef;
typedef struct __CFString *CFMutableStringRef;
typedef const struct __CFAllocator *CFAllocatorRef;
typedef const struct __CFNull *CFNullRef;
typedef const struct __CFData *CFDataRef;
typedef struct __CFData *CFMutableDataRef;
typedef const struct __CFBoolean *CFBooleanRef;
typedef const struct __CFNumber *CFNumberRef;
typedef const struct __CFDate *CFDateRef;
typedef const struct __CFArray *CFArrayRef;
typedef struct __CFArray *CFMutableArrayRef;
typedef const struct __CFDictionary *CFDictionaryRef;
typedef struct __CFDictionary *CFMutableDictionaryRef;
typedef struct __CFError *CFErrorRef;
typedef double CFTimeInterval;
typedef CFTimeInterval CFAbsoluteTime;
typedef struct { CFIndex location; CFIndex length; } CFRange;
typedef UInt32 CFStringEncoding;
typedef CFIndex CFNumberType;
typedef CFIndex CFComparisonResult;

typedef struct __SecAccessControl *SecAccessControlRef;
typedef struct __SecKeychainItem *SecKeychainItemRef;
typedef struct __SecKey *SecKeyRef;
typedef struct __SecCertificate *SecCertificateRef;
typedef struct __SecIdentity *SecIdentityRef;
typedef CFOptionFlags SecAccessControlCreateFlags;

#define kCFNotFound ((CFIndex)-1)

enum {
    kCFStringEncodingMacRoman = 0,
    kCFStringEncodingWindowsLatin1 = 0x0500,
    kCFStringEncodingISOLatin1 = 0x0201,
    kCFStringEncodingNextStepLatin = 0x0B01,
    kCFStringEncodingASCII = 0x0600,
    kCFStringEncodingUnicode = 0x0100,
    kCFStringEncodingUTF8 = 0x08000100,
    kCFStringEncodingNonLossyASCII = 0x0BFF,
    kCFStringEncodingUTF16 = 0x0100,
    kCFStringEncodingUTF16BE = 0x10000100,
    kCFStringEncodingUTF16LE = 0x14000100,
    kCFStringEncodingUTF32 = 0x0c000100,
    kCFStringEncodingUTF32BE = 0x18000100,
    kCFStringEncodingUTF32LE = 0x1c000100
};

enum {
    kCFNumberSInt8Type = 1, kCFNumberSInt16Type = 2, kCFNumberSInt32Type = 3,
    kCFNumberSInt64Type = 4, kCFNumberFloat32Type = 5, kCFNumberFloat64Type = 6,
    kCFNumberCharType = 7, kCFNumberShortType = 8, kCFNumberIntType = 9,
    kCFNumberLongType = 10, kCFNumberLongLongType = 11, kCFNumberFloatType = 12,
    kCFNumberDoubleType = 13, kCFNumberCFIndexType = 14, kCFNumberNSIntegerType = 15,
    kCFNumberCGFloatType = 16, kCFNumberMaxType = 16
};

enum {
    kSecAccessControlUserPresence = 1UL << 0,
    kSecAccessControlBiometryAny = 1UL << 1,
    kSecAccessControlBiometryCurrentSet = 1UL << 3,
    kSecAccessControlDevicePasscode = 1UL << 4,
    kSecAccessControlCompanion = 1UL << 5,
    kSecAccessControlOr = 1UL << 14,
    kSecAccessControlAnd = 1UL << 15,
    kSecAccessControlPrivateKeyUsage = 1UL << 30,
    kSecAccessControlApplicationPassword = 1UL << 31
};

/* 1.2 callback structs */
typedef const void *(*CFDictionaryRetainCallBack)(CFAllocatorRef allocator, const void *value);
typedef void (*CFDictionaryReleaseCallBack)(CFAllocatorRef allocator, const void *value);
typedef CFStringRef (*CFDictionaryCopyDescriptionCallBack)(const void *value);
typedef Boolean (*CFDictionaryEqualCallBack)(const void *value1, const void *value2);
typedef CFHashCode (*CFDictionaryHashCallBack)(const void *value);
typedef struct {
    CFIndex version;
    CFDictionaryRetainCallBack retain;
    CFDictionaryReleaseCallBack release;
    CFDictionaryCopyDescriptionCallBack copyDescription;
    CFDictionaryEqualCallBack equal;
    CFDictionaryHashCallBack hash;
} CFDictionaryKeyCallBacks;
typedef struct {
    CFIndex version;
    CFDictionaryRetainCallBack retain;
    CFDictionaryReleaseCallBack release;
    CFDictionaryCopyDescriptionCallBack copyDescription;
    CFDictionaryEqualCallBack equal;
} CFDictionaryValueCallBacks;
typedef const void *(*CFArrayRetainCallBack)(CFAllocatorRef allocator, const void *value);
typedef void (*CFArrayReleaseCallBack)(CFAllocatorRef allocator, const void *value);
typedef CFStringRef (*CFArrayCopyDescriptionCallBack)(const void *value);
typedef Boolean (*CFArrayEqualCallBack)(const void *value1, const void *value2);
typedef struct {
    CFIndex version;
    CFArrayRetainCallBack retain;
    CFArrayReleaseCallBack release;
    CFArrayCopyDescriptionCallBack copyDescription;
    CFArrayEqualCallBack equal;
} CFArrayCallBacks;

/* 1.3 globals */
SECSIM_EXPORT extern const CFDictionaryKeyCallBacks kCFTypeDictionaryKeyCallBacks;
SECSIM_EXPORT extern const CFDictionaryKeyCallBacks kCFCopyStringDictionaryKeyCallBacks;
SECSIM_EXPORT extern const CFDictionaryValueCallBacks kCFTypeDictionaryValueCallBacks;
SECSIM_EXPORT extern const CFArrayCallBacks kCFTypeArrayCallBacks;
SECSIM_EXPORT extern const CFAllocatorRef kCFAllocatorDefault;
SECSIM_EXPORT extern const CFAllocatorRef kCFAllocatorSystemDefault;
SECSIM_EXPORT extern const CFAllocatorRef kCFAllocatorMalloc;
SECSIM_EXPORT extern const CFAllocatorRef kCFAllocatorNull;
SECSIM_EXPORT extern const CFBooleanRef kCFBooleanTrue;
SECSIM_EXPORT extern const CFBooleanRef kCFBooleanFalse;
SECSIM_EXPORT extern const CFNullRef kCFNull;
SECSIM_EXPORT extern const CFStringRef kCFErrorDomainOSStatus;
SECSIM_EXPORT extern const CFStringRef kCFErrorDomainPOSIX;
SECSIM_EXPORT extern const CFStringRef kCFErrorDescriptionKey;
SECSIM_EXPORT extern const CFTimeInterval kCFAbsoluteTimeIntervalSince1970;
SECSIM_EXPORT extern const CFTimeInterval kCFAbsoluteTimeIntervalSince1904;

/* 1.4 CoreFoundation functions */
SECSIM_EXPORT void CFRelease(CFTypeRef cf);
SECSIM_EXPORT CFTypeRef CFRetain(CFTypeRef cf);
SECSIM_EXPORT CFTypeID CFGetTypeID(CFTypeRef cf);
SECSIM_EXPORT Boolean CFEqual(CFTypeRef cf1, CFTypeRef cf2);
SECSIM_EXPORT CFHashCode CFHash(CFTypeRef cf);
SECSIM_EXPORT CFStringRef CFCopyDescription(CFTypeRef cf);
SECSIM_EXPORT CFIndex CFGetRetainCount(CFTypeRef cf);
SECSIM_EXPORT CFTypeID CFStringGetTypeID(void);
SECSIM_EXPORT CFTypeID CFDataGetTypeID(void);
SECSIM_EXPORT CFTypeID CFNumberGetTypeID(void);
SECSIM_EXPORT CFTypeID CFBooleanGetTypeID(void);
SECSIM_EXPORT CFTypeID CFDateGetTypeID(void);
SECSIM_EXPORT CFTypeID CFArrayGetTypeID(void);
SECSIM_EXPORT CFTypeID CFDictionaryGetTypeID(void);
SECSIM_EXPORT CFTypeID CFErrorGetTypeID(void);
SECSIM_EXPORT CFTypeID CFNullGetTypeID(void);
SECSIM_EXPORT CFStringRef CFStringCreateWithBytes(CFAllocatorRef alloc, const UInt8 *bytes, CFIndex numBytes, CFStringEncoding encoding, Boolean isExternalRepresentation);
SECSIM_EXPORT CFStringRef CFStringCreateWithCString(CFAllocatorRef alloc, const char *cStr, CFStringEncoding encoding);
SECSIM_EXPORT CFIndex CFStringGetLength(CFStringRef theString);
SECSIM_EXPORT CFIndex CFStringGetMaximumSizeForEncoding(CFIndex length, CFStringEncoding encoding);
SECSIM_EXPORT Boolean CFStringGetCString(CFStringRef theString, char *buffer, CFIndex bufferSize, CFStringEncoding encoding);
SECSIM_EXPORT const char *CFStringGetCStringPtr(CFStringRef theString, CFStringEncoding encoding);
SECSIM_EXPORT CFIndex CFStringGetBytes(CFStringRef theString, CFRange range, CFStringEncoding encoding, UInt8 lossByte, Boolean isExternalRepresentation, UInt8 *buffer, CFIndex maxBufLen, CFIndex *usedBufLen);
SECSIM_EXPORT CFDataRef CFDataCreate(CFAllocatorRef allocator, const UInt8 *bytes, CFIndex length);
SECSIM_EXPORT const UInt8 *CFDataGetBytePtr(CFDataRef theData);
SECSIM_EXPORT CFIndex CFDataGetLength(CFDataRef theData);
SECSIM_EXPORT CFNumberRef CFNumberCreate(CFAllocatorRef allocator, CFNumberType theType, const void *valuePtr);
SECSIM_EXPORT Boolean CFNumberGetValue(CFNumberRef number, CFNumberType theType, void *valuePtr);
SECSIM_EXPORT Boolean CFNumberIsFloatType(CFNumberRef number);
SECSIM_EXPORT CFNumberType CFNumberGetType(CFNumberRef number);
SECSIM_EXPORT CFIndex CFNumberGetByteSize(CFNumberRef number);
SECSIM_EXPORT Boolean CFBooleanGetValue(CFBooleanRef boolean);
SECSIM_EXPORT CFDateRef CFDateCreate(CFAllocatorRef allocator, CFAbsoluteTime at);
SECSIM_EXPORT CFAbsoluteTime CFDateGetAbsoluteTime(CFDateRef theDate);
SECSIM_EXPORT CFAbsoluteTime CFAbsoluteTimeGetCurrent(void);
SECSIM_EXPORT CFArrayRef CFArrayCreate(CFAllocatorRef allocator, const void **values, CFIndex numValues, const CFArrayCallBacks *callBacks);
SECSIM_EXPORT CFMutableArrayRef CFArrayCreateMutable(CFAllocatorRef allocator, CFIndex capacity, const CFArrayCallBacks *callBacks);
SECSIM_EXPORT void CFArrayAppendValue(CFMutableArrayRef theArray, const void *value);
SECSIM_EXPORT CFIndex CFArrayGetCount(CFArrayRef theArray);
SECSIM_EXPORT const void *CFArrayGetValueAtIndex(CFArrayRef theArray, CFIndex idx);
SECSIM_EXPORT CFDictionaryRef CFDictionaryCreate(CFAllocatorRef allocator, const void **keys, const void **values, CFIndex numValues, const CFDictionaryKeyCallBacks *keyCallBacks, const CFDictionaryValueCallBacks *valueCallBacks);
SECSIM_EXPORT CFMutableDictionaryRef CFDictionaryCreateMutable(CFAllocatorRef allocator, CFIndex capacity, const CFDictionaryKeyCallBacks *keyCallBacks, const CFDictionaryValueCallBacks *valueCallBacks);
SECSIM_EXPORT CFMutableDictionaryRef CFDictionaryCreateMutableCopy(CFAllocatorRef allocator, CFIndex capacity, CFDictionaryRef theDict);
SECSIM_EXPORT void CFDictionarySetValue(CFMutableDictionaryRef theDict, const void *key, const void *value);
SECSIM_EXPORT void CFDictionaryRemoveValue(CFMutableDictionaryRef theDict, const void *key);
SECSIM_EXPORT CFIndex CFDictionaryGetCount(CFDictionaryRef theDict);
SECSIM_EXPORT void CFDictionaryGetKeysAndValues(CFDictionaryRef theDict, const void **keys, const void **values);
SECSIM_EXPORT const void *CFDictionaryGetValue(CFDictionaryRef theDict, const void *key);
SECSIM_EXPORT Boolean CFDictionaryGetValueIfPresent(CFDictionaryRef theDict, const void *key, const void **value);
SECSIM_EXPORT Boolean CFDictionaryContainsKey(CFDictionaryRef theDict, const void *key);
SECSIM_EXPORT CFErrorRef CFErrorCreate(CFAllocatorRef allocator, CFStringRef domain, CFIndex code, CFDictionaryRef userInfo);
SECSIM_EXPORT CFIndex CFErrorGetCode(CFErrorRef err);
SECSIM_EXPORT CFStringRef CFErrorGetDomain(CFErrorRef err);
SECSIM_EXPORT CFStringRef CFErrorCopyDescription(CFErrorRef err);
SECSIM_EXPORT CFDictionaryRef CFErrorCopyUserInfo(CFErrorRef err);

/* The rest of the CoreFoundation surface real clients call (issue #17). */
#include "secsim_cf.h"

/* 1.5 Security functions */
SECSIM_EXPORT OSStatus SecItemAdd(CFDictionaryRef attributes, CFTypeRef *result);
SECSIM_EXPORT OSStatus SecItemCopyMatching(CFDictionaryRef query, CFTypeRef *result);
SECSIM_EXPORT OSStatus SecItemUpdate(CFDictionaryRef query, CFDictionaryRef attributesToUpdate);
SECSIM_EXPORT OSStatus SecItemDelete(CFDictionaryRef query);
SECSIM_EXPORT CFStringRef SecCopyErrorMessageString(OSStatus status, void *reserved);
SECSIM_EXPORT SecAccessControlRef SecAccessControlCreateWithFlags(CFAllocatorRef allocator, CFTypeRef protection, SecAccessControlCreateFlags flags, CFErrorRef *error);
SECSIM_EXPORT CFTypeID SecAccessControlGetTypeID(void);
SECSIM_EXPORT CFTypeID SecKeychainItemGetTypeID(void);
SECSIM_EXPORT CFTypeID SecKeyGetTypeID(void);
SECSIM_EXPORT CFTypeID SecCertificateGetTypeID(void);
SECSIM_EXPORT CFTypeID SecIdentityGetTypeID(void);

/* SecKeychain.h, SecKeychainItem.h: the legacy password calls (seckey-facts
 * 1.5, 6; sec_legacy.c).  macOS only: on the ios profile each returns
 * errSecUnimplemented. */
typedef unsigned short UInt16;
typedef UInt32 FourCharCode;
typedef struct __SecKeychain *SecKeychainRef;
typedef FourCharCode SecProtocolType;
typedef FourCharCode SecAuthenticationType;
typedef UInt32 SecKeychainAttrType;
typedef struct SecKeychainAttribute {
    SecKeychainAttrType tag;
    UInt32 length;
    void *data;
} SecKeychainAttribute;
typedef struct SecKeychainAttributeList {
    UInt32 count;
    SecKeychainAttribute *attr;
} SecKeychainAttributeList;
SECSIM_EXPORT OSStatus SecKeychainAddGenericPassword(SecKeychainRef keychain, UInt32 serviceNameLength, const char *serviceName, UInt32 accountNameLength, const char *accountName, UInt32 passwordLength, const void *passwordData, SecKeychainItemRef *itemRef);
SECSIM_EXPORT OSStatus SecKeychainFindGenericPassword(CFTypeRef keychainOrArray, UInt32 serviceNameLength, const char *serviceName, UInt32 accountNameLength, const char *accountName, UInt32 *passwordLength, void **passwordData, SecKeychainItemRef *itemRef);
SECSIM_EXPORT OSStatus SecKeychainAddInternetPassword(SecKeychainRef keychain, UInt32 serverNameLength, const char *serverName, UInt32 securityDomainLength, const char *securityDomain, UInt32 accountNameLength, const char *accountName, UInt32 pathLength, const char *path, UInt16 port, SecProtocolType protocol, SecAuthenticationType authenticationType, UInt32 passwordLength, const void *passwordData, SecKeychainItemRef *itemRef);
SECSIM_EXPORT OSStatus SecKeychainFindInternetPassword(CFTypeRef keychainOrArray, UInt32 serverNameLength, const char *serverName, UInt32 securityDomainLength, const char *securityDomain, UInt32 accountNameLength, const char *accountName, UInt32 pathLength, const char *path, UInt16 port, SecProtocolType protocol, SecAuthenticationType authenticationType, UInt32 *passwordLength, void **passwordData, SecKeychainItemRef *itemRef);
SECSIM_EXPORT OSStatus SecKeychainItemModifyAttributesAndData(SecKeychainItemRef itemRef, const SecKeychainAttributeList *attrList, UInt32 length, const void *data);
SECSIM_EXPORT OSStatus SecKeychainItemDelete(SecKeychainItemRef itemRef);
SECSIM_EXPORT OSStatus SecKeychainItemFreeContent(SecKeychainAttributeList *attrList, void *data);

/* SecKey.h (seckey-facts 1.2; sec_key.c). */
typedef CFStringRef SecKeyAlgorithm;
typedef CFStringRef SecKeyKeyExchangeParameter;
typedef CFIndex SecKeyOperationType;
SECSIM_EXPORT SecKeyRef SecKeyCreateRandomKey(CFDictionaryRef parameters, CFErrorRef *error);
SECSIM_EXPORT SecKeyRef SecKeyCopyPublicKey(SecKeyRef key);
SECSIM_EXPORT CFDictionaryRef SecKeyCopyAttributes(SecKeyRef key);
SECSIM_EXPORT CFDataRef SecKeyCopyExternalRepresentation(SecKeyRef key, CFErrorRef *error);
SECSIM_EXPORT SecKeyRef SecKeyCreateWithData(CFDataRef keyData, CFDictionaryRef attributes, CFErrorRef *error);
SECSIM_EXPORT CFDataRef SecKeyCreateSignature(SecKeyRef key, SecKeyAlgorithm algorithm, CFDataRef dataToSign, CFErrorRef *error);
SECSIM_EXPORT Boolean SecKeyVerifySignature(SecKeyRef key, SecKeyAlgorithm algorithm, CFDataRef signedData, CFDataRef signature, CFErrorRef *error);
SECSIM_EXPORT CFDataRef SecKeyCreateEncryptedData(SecKeyRef key, SecKeyAlgorithm algorithm, CFDataRef plaintext, CFErrorRef *error);
SECSIM_EXPORT CFDataRef SecKeyCreateDecryptedData(SecKeyRef key, SecKeyAlgorithm algorithm, CFDataRef ciphertext, CFErrorRef *error);
SECSIM_EXPORT CFDataRef SecKeyCopyKeyExchangeResult(SecKeyRef privateKey, SecKeyAlgorithm algorithm, SecKeyRef publicKey, CFDictionaryRef parameters, CFErrorRef *error);
SECSIM_EXPORT Boolean SecKeyIsAlgorithmSupported(SecKeyRef key, SecKeyOperationType operation, SecKeyAlgorithm algorithm);
SECSIM_EXPORT size_t SecKeyGetBlockSize(SecKeyRef key);
/* SecCertificate.h, SecIdentity.h, SecImportExport.h (seckey-facts 1.3, 1.4; sec_cert.c). */
SECSIM_EXPORT SecCertificateRef SecCertificateCreateWithData(CFAllocatorRef allocator, CFDataRef data);
SECSIM_EXPORT CFDataRef SecCertificateCopyData(SecCertificateRef certificate);
SECSIM_EXPORT CFStringRef SecCertificateCopySubjectSummary(SecCertificateRef certificate);
SECSIM_EXPORT OSStatus SecCertificateCopyCommonName(SecCertificateRef certificate, CFStringRef *commonName);
SECSIM_EXPORT SecKeyRef SecCertificateCopyKey(SecCertificateRef certificate);
SECSIM_EXPORT SecIdentityRef SecIdentityCreate(CFAllocatorRef allocator, SecCertificateRef certificate, SecKeyRef privateKey);
SECSIM_EXPORT OSStatus SecIdentityCopyCertificate(SecIdentityRef identityRef, SecCertificateRef *certificateRef);
SECSIM_EXPORT OSStatus SecIdentityCopyPrivateKey(SecIdentityRef identityRef, SecKeyRef *privateKeyRef);
SECSIM_EXPORT OSStatus SecPKCS12Import(CFDataRef pkcs12_data, CFDictionaryRef options, CFArrayRef *items);
SECSIM_EXPORT extern const CFStringRef kSecImportExportPassphrase;
SECSIM_EXPORT extern const CFStringRef kSecImportExportKeychain;
SECSIM_EXPORT extern const CFStringRef kSecImportExportAccess;
SECSIM_EXPORT extern const CFStringRef kSecImportToMemoryOnly;
SECSIM_EXPORT extern const CFStringRef kSecImportItemLabel;
SECSIM_EXPORT extern const CFStringRef kSecImportItemKeyID;
SECSIM_EXPORT extern const CFStringRef kSecImportItemTrust;
SECSIM_EXPORT extern const CFStringRef kSecImportItemCertChain;
SECSIM_EXPORT extern const CFStringRef kSecImportItemIdentity;
SECSIM_EXPORT extern const CFStringRef kSecKeyKeyExchangeParameterRequestedSize;
SECSIM_EXPORT extern const CFStringRef kSecKeyKeyExchangeParameterSharedInfo;
/* SecKey.h: the public SecKeyAlgorithm constants (seckey_algorithms.def). */
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureRaw;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureDigestPKCS1v15Raw;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureDigestPKCS1v15SHA1;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureDigestPKCS1v15SHA224;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureDigestPKCS1v15SHA256;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureDigestPKCS1v15SHA384;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureDigestPKCS1v15SHA512;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureMessagePKCS1v15SHA1;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureMessagePKCS1v15SHA224;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureMessagePKCS1v15SHA256;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureMessagePKCS1v15SHA384;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureMessagePKCS1v15SHA512;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureDigestPSSSHA1;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureDigestPSSSHA224;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureDigestPSSSHA256;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureDigestPSSSHA384;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureDigestPSSSHA512;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureMessagePSSSHA1;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureMessagePSSSHA224;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureMessagePSSSHA256;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureMessagePSSSHA384;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSASignatureMessagePSSSHA512;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureDigestX962;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureDigestX962SHA1;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureDigestX962SHA224;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureDigestX962SHA256;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureDigestX962SHA384;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureDigestX962SHA512;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureMessageX962SHA1;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureMessageX962SHA224;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureMessageX962SHA256;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureMessageX962SHA384;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureMessageX962SHA512;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureDigestRFC4754;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureDigestRFC4754SHA1;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureDigestRFC4754SHA224;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureDigestRFC4754SHA256;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureDigestRFC4754SHA384;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureDigestRFC4754SHA512;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureMessageRFC4754SHA1;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureMessageRFC4754SHA224;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureMessageRFC4754SHA256;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureMessageRFC4754SHA384;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureMessageRFC4754SHA512;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDSASignatureRFC4754;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSAEncryptionRaw;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSAEncryptionPKCS1;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSAEncryptionOAEPSHA1;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSAEncryptionOAEPSHA224;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSAEncryptionOAEPSHA256;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSAEncryptionOAEPSHA384;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSAEncryptionOAEPSHA512;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSAEncryptionOAEPSHA1AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSAEncryptionOAEPSHA224AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSAEncryptionOAEPSHA256AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSAEncryptionOAEPSHA384AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmRSAEncryptionOAEPSHA512AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionStandardX963SHA1AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionStandardX963SHA224AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionStandardX963SHA256AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionStandardX963SHA384AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionStandardX963SHA512AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionCofactorX963SHA1AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionCofactorX963SHA224AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionCofactorX963SHA256AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionCofactorX963SHA384AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionCofactorX963SHA512AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionStandardVariableIVX963SHA224AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionStandardVariableIVX963SHA256AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionStandardVariableIVX963SHA384AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionStandardVariableIVX963SHA512AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionCofactorVariableIVX963SHA224AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionCofactorVariableIVX963SHA256AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionCofactorVariableIVX963SHA384AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECIESEncryptionCofactorVariableIVX963SHA512AESGCM;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDHKeyExchangeStandard;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDHKeyExchangeStandardX963SHA1;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDHKeyExchangeStandardX963SHA224;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDHKeyExchangeStandardX963SHA256;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDHKeyExchangeStandardX963SHA384;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDHKeyExchangeStandardX963SHA512;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDHKeyExchangeCofactor;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDHKeyExchangeCofactorX963SHA1;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDHKeyExchangeCofactorX963SHA224;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDHKeyExchangeCofactorX963SHA256;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDHKeyExchangeCofactorX963SHA384;
SECSIM_EXPORT extern const CFStringRef kSecKeyAlgorithmECDHKeyExchangeCofactorX963SHA512;

/* Section 2: every kSec* constant (public and SPI) as an exported data symbol. */
#define SECSIM_CONST(name, value, public_) SECSIM_EXPORT extern const CFStringRef name;
#include "constants.def"
#undef SECSIM_CONST

/* Emulator controls (architecture guide, "The emulator"). */
SECSIM_EXPORT void secsim_reset(void);
SECSIM_EXPORT long secsim_live_objects(void);
SECSIM_EXPORT void secsim_set_profile(const char *name);
SECSIM_EXPORT void secsim_set_access_groups(const char *comma_separated);
SECSIM_EXPORT void secsim_set_locked(int locked);
SECSIM_EXPORT void secsim_set_user_response(int response);
SECSIM_EXPORT void secsim_fail_next(const char *function, int32_t status);
/* Every later call of that function ("SecItemAdd", "SecItemCopyMatching",
 * "SecItemUpdate" or "SecItemDelete") sleeps that long first, occupying the
 * simulated securityd (other SecItem calls wait behind it); 0 clears it and
 * wakes the calls sleeping in it.  NULL, an unknown name or a negative delay
 * aborts.  secsim_reset clears every delay (sec_delay.c). */
SECSIM_EXPORT void secsim_set_delay(const char *function, int milliseconds);
/* The next write of the SECSIM_STORE file fails (EIO) at that step: "open",
 * "write" (after a short write), "fsync", "close" or "rename"; NULL or ""
 * disarms.  For tests of the store's failure handling. */
SECSIM_EXPORT void secsim_fail_store_write(const char *step);

/* SecAccess.h, SecACL.h, SecTrustedApplication.h, SecKeychainItem.h,
 * SecCode.h, AuthSession.h: access lists, partition lists and the caller's
 * code signature on the macos profile (macos-access-and-cli-facts sections
 * 1-3; sec_access.c).  The Ref types are opaque CF objects. */
typedef struct __SecAccess *SecAccessRef;
typedef struct __SecACL *SecACLRef;
typedef struct __SecTrustedApplication *SecTrustedApplicationRef;
typedef struct __SecCode *SecCodeRef;
typedef const struct __SecCode *SecStaticCodeRef;
typedef struct __SecRequirement *SecRequirementRef;
typedef uint32_t SecCSFlags;
typedef uint16_t SecKeychainPromptSelector;
SECSIM_EXPORT CFTypeID SecAccessGetTypeID(void);
SECSIM_EXPORT CFTypeID SecACLGetTypeID(void);
SECSIM_EXPORT CFTypeID SecTrustedApplicationGetTypeID(void);
SECSIM_EXPORT CFTypeID SecCodeGetTypeID(void);
SECSIM_EXPORT OSStatus SecAccessCreate(CFStringRef descriptor, CFArrayRef trustedlist, SecAccessRef *accessRef);
SECSIM_EXPORT OSStatus SecAccessCopyACLList(SecAccessRef accessRef, CFArrayRef *aclList);
SECSIM_EXPORT CFArrayRef SecAccessCopyMatchingACLList(SecAccessRef accessRef, CFTypeRef authorizationTag);
SECSIM_EXPORT CFArrayRef SecACLCopyAuthorizations(SecACLRef acl);
SECSIM_EXPORT OSStatus SecACLCopyContents(SecACLRef acl, CFArrayRef *applicationList, CFStringRef *description, SecKeychainPromptSelector *promptSelector);
SECSIM_EXPORT OSStatus SecACLSetContents(SecACLRef acl, CFArrayRef applicationList, CFStringRef description, SecKeychainPromptSelector promptSelector);
SECSIM_EXPORT OSStatus SecTrustedApplicationCreateFromPath(const char *path, SecTrustedApplicationRef *app);
SECSIM_EXPORT OSStatus SecTrustedApplicationCopyData(SecTrustedApplicationRef appRef, CFDataRef *data);
SECSIM_EXPORT OSStatus SecKeychainItemCopyAccess(SecKeychainItemRef itemRef, SecAccessRef *access);
SECSIM_EXPORT OSStatus SecKeychainItemSetAccess(SecKeychainItemRef itemRef, SecAccessRef access);
SECSIM_EXPORT OSStatus SecKeychainItemSetAccessWithPassword(SecKeychainItemRef itemRef, SecAccessRef accessRef, UInt32 passwordLength, const void *password);
SECSIM_EXPORT OSStatus SecCodeCopySelf(SecCSFlags flags, SecCodeRef *self);
SECSIM_EXPORT OSStatus SecCodeCopySigningInformation(SecStaticCodeRef code, SecCSFlags flags, CFDictionaryRef *information);
SECSIM_EXPORT OSStatus SecCodeCheckValidity(SecCodeRef code, SecCSFlags flags, SecRequirementRef requirement);
SECSIM_EXPORT OSStatus SessionGetInfo(UInt32 session, UInt32 *sessionId, UInt32 *attributes);
/* The running application (NULL path: SECSIM_APP_PATH or the realpath of
 * /proc/self/exe; NULL code_signing: SECSIM_CODE_SIGNING, "unsigned" |
 * "adhoc" | "apple-tool" | "apple" | a team identifier); whether the session
 * can show a dialog (SECSIM_SESSION_UI=0: no, e.g. SSH); the keychain
 * password SecKeychainItemSetAccessWithPassword checks
 * (SECSIM_KEYCHAIN_PASSWORD, default "").  secsim_reset restores all three
 * from the environment. */
SECSIM_EXPORT void secsim_set_application(const char *path, const char *code_signing);
SECSIM_EXPORT void secsim_set_session_ui(int available);
SECSIM_EXPORT void secsim_set_keychain_password(const char *password);

#endif /* SECSIM_H */
