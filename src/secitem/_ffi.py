"""The C declarations (one place) and the opening of the libraries.

The declarations below are Apple's, in the exact C types of the LP64 headers
(``shared/reference/secitem-facts.md`` section 1): ``OSStatus`` is
``int32_t``, ``CFIndex`` is ``long``, ``CFTypeID``/``CFOptionFlags``/
``CFHashCode`` are ``unsigned long``, ``CFNumberType`` is ``long``
(``CF_ENUM(CFIndex)``), ``Boolean`` is ``unsigned char``, every ``*Ref`` is an
opaque pointer, and ``CFRange`` is passed by value.  ABI mode has no compiler
to catch a wrong declaration: it would crash at run time, so every line here
is checked against the facts sheet.

cffi's out-of-line ABI mode keeps ``import secitem`` cheap: the declarations
are parsed once by ``tools/gen_ffi.py``, which writes ``secitem/_ffi_gen.py``
(committed).  At run time only that generated module is imported; pycparser
is never needed.  After editing a declaration, run ``python tools/gen_ffi.py``.

:func:`open_libraries` opens them; :mod:`secitem._runtime` calls it once, on
first use and under its lock, and keeps the result for the life of the process
(cffi closes a ``dlopen``-ed library once it is unreferenced):

* ``SECITEM_LIBRARY`` set: that one library provides both CoreFoundation and
  Security (the secitem emulator, or any library with the same C ABI);
* otherwise the system frameworks, by absolute path (macOS and iOS).
"""

from __future__ import annotations

import os
import sys

from secitem._ffi_gen import ffi
from secitem.errors import KeychainUnavailableError

# typing is only needed by type checkers: keep it off the import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

__all__ = [
    "COREFOUNDATION_PATH",
    "SECURITY_PATH",
    "Libraries",
    "ffi",
    "kCFNumberFloat64Type",
    "kCFNumberSInt64Type",
    "kCFStringEncodingUTF8",
    "kCFStringEncodingUTF16LE",
    "open_libraries",
]

COREFOUNDATION_PATH: Final = "/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation"
SECURITY_PATH: Final = "/System/Library/Frameworks/Security.framework/Security"

# CFStringBuiltInEncodings and CFNumberType values (CFString.h, CFNumber.h).
kCFStringEncodingUTF8: Final = 0x08000100
kCFStringEncodingUTF16LE: Final = 0x14000100
kCFNumberSInt64Type: Final = 4
kCFNumberFloat64Type: Final = 6

# CoreFoundation: types (CFBase.h, CFString.h, CFNumber.h, CFDate.h, CFError.h)
_CF_TYPES: Final = """
typedef unsigned char Boolean;
typedef unsigned char UInt8;
typedef signed int SInt32;
typedef unsigned int UInt32;
typedef int64_t SInt64;
typedef int32_t OSStatus;
typedef unsigned short UniChar;
typedef long CFIndex;
typedef unsigned long CFTypeID;
typedef unsigned long CFOptionFlags;
typedef unsigned long CFHashCode;
typedef const void *CFTypeRef;
typedef const struct __CFString *CFStringRef;
typedef const struct __CFAllocator *CFAllocatorRef;
typedef const struct __CFNull *CFNullRef;
typedef const struct __CFData *CFDataRef;
typedef const struct __CFBoolean *CFBooleanRef;
typedef const struct __CFNumber *CFNumberRef;
typedef const struct __CFDate *CFDateRef;
typedef const struct __CFArray *CFArrayRef;
typedef const struct __CFDictionary *CFDictionaryRef;
typedef struct __CFError *CFErrorRef;              /* not const */
typedef double CFTimeInterval;
typedef CFTimeInterval CFAbsoluteTime;             /* seconds since 2001-01-01 00:00:00 GMT */
typedef struct {
    CFIndex location;
    CFIndex length;
} CFRange;                                         /* 16 bytes, passed by value */
typedef UInt32 CFStringEncoding;
typedef long CFNumberType;                         /* CF_ENUM(CFIndex, CFNumberType) */

/* CFDictionary.h, CFArray.h: callback structs (only their addresses are used) */
typedef const void *(*CFDictionaryRetainCallBack)(CFAllocatorRef, const void *);
typedef void (*CFDictionaryReleaseCallBack)(CFAllocatorRef, const void *);
typedef CFStringRef (*CFDictionaryCopyDescriptionCallBack)(const void *);
typedef Boolean (*CFDictionaryEqualCallBack)(const void *, const void *);
typedef CFHashCode (*CFDictionaryHashCallBack)(const void *);
typedef struct {
    CFIndex version;
    CFDictionaryRetainCallBack retain;
    CFDictionaryReleaseCallBack release;
    CFDictionaryCopyDescriptionCallBack copyDescription;
    CFDictionaryEqualCallBack equal;
    CFDictionaryHashCallBack hash;
} CFDictionaryKeyCallBacks;                        /* 48 bytes */
typedef struct {
    CFIndex version;
    CFDictionaryRetainCallBack retain;
    CFDictionaryReleaseCallBack release;
    CFDictionaryCopyDescriptionCallBack copyDescription;
    CFDictionaryEqualCallBack equal;
} CFDictionaryValueCallBacks;                      /* 40 bytes */
typedef const void *(*CFArrayRetainCallBack)(CFAllocatorRef, const void *);
typedef void (*CFArrayReleaseCallBack)(CFAllocatorRef, const void *);
typedef CFStringRef (*CFArrayCopyDescriptionCallBack)(const void *);
typedef Boolean (*CFArrayEqualCallBack)(const void *, const void *);
typedef struct {
    CFIndex version;
    CFArrayRetainCallBack retain;
    CFArrayReleaseCallBack release;
    CFArrayCopyDescriptionCallBack copyDescription;
    CFArrayEqualCallBack equal;
} CFArrayCallBacks;                                /* 40 bytes */
"""

# CoreFoundation: data symbols and functions (facts 1.3, 1.4)
_CF_FUNCTIONS: Final = """
/* Apple declares these three "const"; cffi cannot take the address of a
   const global, so they are declared without it (they are never written). */
extern CFDictionaryKeyCallBacks kCFTypeDictionaryKeyCallBacks;
extern CFDictionaryValueCallBacks kCFTypeDictionaryValueCallBacks;
extern CFArrayCallBacks kCFTypeArrayCallBacks;
extern const CFBooleanRef kCFBooleanTrue;
extern const CFBooleanRef kCFBooleanFalse;
extern const CFNullRef kCFNull;
extern const CFStringRef kCFErrorDomainOSStatus;

void CFRelease(CFTypeRef);
CFTypeRef CFRetain(CFTypeRef);
CFTypeID CFGetTypeID(CFTypeRef);
Boolean CFEqual(CFTypeRef, CFTypeRef);
CFHashCode CFHash(CFTypeRef);
CFStringRef CFCopyDescription(CFTypeRef);
CFIndex CFGetRetainCount(CFTypeRef);

CFTypeID CFStringGetTypeID(void);
CFTypeID CFDataGetTypeID(void);
CFTypeID CFNumberGetTypeID(void);
CFTypeID CFBooleanGetTypeID(void);
CFTypeID CFDateGetTypeID(void);
CFTypeID CFArrayGetTypeID(void);
CFTypeID CFDictionaryGetTypeID(void);
CFTypeID CFErrorGetTypeID(void);
CFTypeID CFNullGetTypeID(void);

CFStringRef CFStringCreateWithBytes(CFAllocatorRef, const UInt8 *, CFIndex, CFStringEncoding,
                                    Boolean);
CFIndex CFStringGetLength(CFStringRef);
CFIndex CFStringGetMaximumSizeForEncoding(CFIndex, CFStringEncoding);
CFIndex CFStringGetBytes(CFStringRef, CFRange, CFStringEncoding, UInt8, Boolean, UInt8 *,
                         CFIndex, CFIndex *);

CFDataRef CFDataCreate(CFAllocatorRef, const UInt8 *, CFIndex);
const UInt8 *CFDataGetBytePtr(CFDataRef);
CFIndex CFDataGetLength(CFDataRef);

CFNumberRef CFNumberCreate(CFAllocatorRef, CFNumberType, const void *);
Boolean CFNumberGetValue(CFNumberRef, CFNumberType, void *);
Boolean CFNumberIsFloatType(CFNumberRef);
CFNumberType CFNumberGetType(CFNumberRef);
Boolean CFBooleanGetValue(CFBooleanRef);

CFDateRef CFDateCreate(CFAllocatorRef, CFAbsoluteTime);
CFAbsoluteTime CFDateGetAbsoluteTime(CFDateRef);

CFArrayRef CFArrayCreate(CFAllocatorRef, const void **, CFIndex, const CFArrayCallBacks *);
CFIndex CFArrayGetCount(CFArrayRef);
const void *CFArrayGetValueAtIndex(CFArrayRef, CFIndex);

CFDictionaryRef CFDictionaryCreate(CFAllocatorRef, const void **, const void **, CFIndex,
                                   const CFDictionaryKeyCallBacks *,
                                   const CFDictionaryValueCallBacks *);
CFIndex CFDictionaryGetCount(CFDictionaryRef);
void CFDictionaryGetKeysAndValues(CFDictionaryRef, const void **, const void **);
const void *CFDictionaryGetValue(CFDictionaryRef, const void *);

CFIndex CFErrorGetCode(CFErrorRef);
CFStringRef CFErrorGetDomain(CFErrorRef);
CFStringRef CFErrorCopyDescription(CFErrorRef);
"""

# Security: types and functions (facts 1.1, 1.5).  The kSec* data symbols are
# declared by tools/gen_ffi.py from the public rows of secitem._tables.CONSTANTS,
# each as ``extern const CFStringRef <name>;``.
_SECURITY_FUNCTIONS: Final = """
typedef struct __SecAccessControl *SecAccessControlRef;
typedef CFOptionFlags SecAccessControlCreateFlags; /* CF_OPTIONS(CFOptionFlags) */

OSStatus SecItemAdd(CFDictionaryRef, CFTypeRef *);
OSStatus SecItemCopyMatching(CFDictionaryRef, CFTypeRef *);
OSStatus SecItemUpdate(CFDictionaryRef, CFDictionaryRef);
OSStatus SecItemDelete(CFDictionaryRef);
CFStringRef SecCopyErrorMessageString(OSStatus, void *);

SecAccessControlRef SecAccessControlCreateWithFlags(CFAllocatorRef, CFTypeRef,
                                                    SecAccessControlCreateFlags, CFErrorRef *);
CFTypeID SecAccessControlGetTypeID(void);
CFTypeID SecKeyGetTypeID(void);
CFTypeID SecCertificateGetTypeID(void);
CFTypeID SecIdentityGetTypeID(void);
CFTypeID SecKeychainItemGetTypeID(void);           /* macOS only */

/* SecKey.h, SecCertificate.h, SecIdentity.h, SecImportExport.h (seckey-facts
   section 1).  Looked up on first call: a library without them still loads. */
typedef struct __SecKey *SecKeyRef;
typedef struct __SecCertificate *SecCertificateRef;
typedef struct __SecIdentity *SecIdentityRef;
typedef CFStringRef SecKeyAlgorithm;
typedef CFIndex SecKeyOperationType;               /* CF_ENUM(CFIndex): 8 bytes */
SecKeyRef SecKeyCreateRandomKey(CFDictionaryRef, CFErrorRef *);
SecKeyRef SecKeyCopyPublicKey(SecKeyRef);
CFDictionaryRef SecKeyCopyAttributes(SecKeyRef);
CFDataRef SecKeyCopyExternalRepresentation(SecKeyRef, CFErrorRef *);
SecKeyRef SecKeyCreateWithData(CFDataRef, CFDictionaryRef, CFErrorRef *);
CFDataRef SecKeyCreateSignature(SecKeyRef, SecKeyAlgorithm, CFDataRef, CFErrorRef *);
Boolean SecKeyVerifySignature(SecKeyRef, SecKeyAlgorithm, CFDataRef, CFDataRef, CFErrorRef *);
CFDataRef SecKeyCreateEncryptedData(SecKeyRef, SecKeyAlgorithm, CFDataRef, CFErrorRef *);
CFDataRef SecKeyCreateDecryptedData(SecKeyRef, SecKeyAlgorithm, CFDataRef, CFErrorRef *);
CFDataRef SecKeyCopyKeyExchangeResult(SecKeyRef, SecKeyAlgorithm, SecKeyRef, CFDictionaryRef,
                                      CFErrorRef *);
Boolean SecKeyIsAlgorithmSupported(SecKeyRef, SecKeyOperationType, SecKeyAlgorithm);
size_t SecKeyGetBlockSize(SecKeyRef);
SecCertificateRef SecCertificateCreateWithData(CFAllocatorRef, CFDataRef);
CFDataRef SecCertificateCopyData(SecCertificateRef);
CFStringRef SecCertificateCopySubjectSummary(SecCertificateRef);
OSStatus SecCertificateCopyCommonName(SecCertificateRef, CFStringRef *);
SecKeyRef SecCertificateCopyKey(SecCertificateRef);
OSStatus SecIdentityCopyCertificate(SecIdentityRef, SecCertificateRef *);
OSStatus SecIdentityCopyPrivateKey(SecIdentityRef, SecKeyRef *);
OSStatus SecPKCS12Import(CFDataRef, CFDictionaryRef, CFArrayRef *);

/* SecKeychain.h, SecKeychainItem.h: the legacy password calls (seckey-facts
   1.5 and 6).  macOS only (API_UNAVAILABLE(ios)): looked up on first call, so
   a Security library without them still loads.  The widths matter: the port
   is a UInt16 and the 15-argument internet calls pass their tail on the stack. */
typedef unsigned short UInt16;
typedef UInt32 FourCharCode;
typedef struct __SecKeychain *SecKeychainRef;
typedef struct __SecKeychainItem *SecKeychainItemRef;
typedef FourCharCode SecProtocolType;
typedef FourCharCode SecAuthenticationType;
typedef UInt32 SecKeychainAttrType;
typedef struct {
    SecKeychainAttrType tag;
    UInt32 length;
    void *data;
} SecKeychainAttribute;                            /* 16 bytes: 0 tag, 4 length, 8 data */
typedef struct {
    UInt32 count;
    SecKeychainAttribute *attr;
} SecKeychainAttributeList;                        /* 16 bytes: 0 count, 8 attr */
OSStatus SecKeychainAddGenericPassword(SecKeychainRef, UInt32, const char *, UInt32,
                                       const char *, UInt32, const void *,
                                       SecKeychainItemRef *);
OSStatus SecKeychainFindGenericPassword(CFTypeRef, UInt32, const char *, UInt32, const char *,
                                        UInt32 *, void **, SecKeychainItemRef *);
OSStatus SecKeychainAddInternetPassword(SecKeychainRef, UInt32, const char *, UInt32,
                                        const char *, UInt32, const char *, UInt32,
                                        const char *, UInt16, SecProtocolType,
                                        SecAuthenticationType, UInt32, const void *,
                                        SecKeychainItemRef *);
OSStatus SecKeychainFindInternetPassword(CFTypeRef, UInt32, const char *, UInt32, const char *,
                                         UInt32, const char *, UInt32, const char *, UInt16,
                                         SecProtocolType, SecAuthenticationType, UInt32 *,
                                         void **, SecKeychainItemRef *);
OSStatus SecKeychainItemModifyAttributesAndData(SecKeychainItemRef,
                                                const SecKeychainAttributeList *, UInt32,
                                                const void *);
OSStatus SecKeychainItemDelete(SecKeychainItemRef);
OSStatus SecKeychainItemFreeContent(SecKeychainAttributeList *, void *);

/* SecAccess.h, SecACL.h, SecTrustedApplication.h, SecKeychainItem.h (access
   lists; macos-access-and-cli-facts 1.1-1.2), SecCode.h (the caller's code
   signature), AuthSession.h (SessionGetInfo).  macOS only: looked up on first
   call (secitem._secaccess).  SecCSFlags is a uint32_t and
   SecKeychainPromptSelector a uint16 (facts 1.1, surprise 8). */
typedef struct __SecAccess *SecAccessRef;
typedef struct __SecACL *SecACLRef;
typedef struct __SecTrustedApplication *SecTrustedApplicationRef;
typedef struct __SecCode *SecCodeRef;
typedef const struct __SecCode *SecStaticCodeRef;
typedef struct __SecRequirement *SecRequirementRef;
typedef uint32_t SecCSFlags;
typedef uint16_t SecKeychainPromptSelector;
typedef UInt32 SecuritySessionId;
typedef UInt32 SessionAttributeBits;
CFTypeID SecAccessGetTypeID(void);
CFTypeID SecACLGetTypeID(void);
CFTypeID SecTrustedApplicationGetTypeID(void);
CFTypeID SecCodeGetTypeID(void);
OSStatus SecAccessCreate(CFStringRef, CFArrayRef, SecAccessRef *);
CFArrayRef SecAccessCopyMatchingACLList(SecAccessRef, CFTypeRef);
CFArrayRef SecACLCopyAuthorizations(SecACLRef);
OSStatus SecACLCopyContents(SecACLRef, CFArrayRef *, CFStringRef *, SecKeychainPromptSelector *);
OSStatus SecACLSetContents(SecACLRef, CFArrayRef, CFStringRef, SecKeychainPromptSelector);
OSStatus SecTrustedApplicationCreateFromPath(const char *, SecTrustedApplicationRef *);
OSStatus SecTrustedApplicationCopyData(SecTrustedApplicationRef, CFDataRef *);
OSStatus SecKeychainItemCopyAccess(SecKeychainItemRef, SecAccessRef *);
OSStatus SecKeychainItemSetAccessWithPassword(SecKeychainItemRef, SecAccessRef, UInt32,
                                              const void *);
OSStatus SecCodeCopySelf(SecCSFlags, SecCodeRef *);
OSStatus SecCodeCopySigningInformation(SecStaticCodeRef, SecCSFlags, CFDictionaryRef *);
OSStatus SecCodeCheckValidity(SecCodeRef, SecCSFlags, SecRequirementRef);
OSStatus SessionGetInfo(SecuritySessionId, SecuritySessionId *, SessionAttributeBits *);
"""


class Libraries:
    """The opened libraries: ``cf`` and ``sec`` are one object under SECITEM_LIBRARY."""

    __slots__ = ("cf", "paths", "sec")

    def __init__(self, cf: Any, sec: Any, paths: tuple[str, ...]) -> None:
        self.cf = cf
        self.sec = sec
        #: The paths opened, in order.
        self.paths = paths


def _debug(message: str, *args: object) -> None:
    # Importing logging costs more than loading the library; an application
    # that configured logging has imported it already.
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger("secitem").debug(message, *args)


def _dlopen(path: str, tried: list[str]) -> Any:
    try:
        lib = ffi.dlopen(path)
    except OSError as exc:
        tried.append(f"{path} ({exc})")
        return None
    tried.append(f"{path} (loaded)")
    return lib


def open_libraries() -> Libraries:
    """Open the libraries (uncached: :func:`secitem._runtime.load` keeps them).

    Raises :class:`~secitem.errors.KeychainUnavailableError` naming every
    path tried.
    """
    override = os.environ.get("SECITEM_LIBRARY")
    tried: list[str] = []
    if override:
        lib = _dlopen(override, tried)
        if lib is None:
            raise KeychainUnavailableError(
                f"cannot load the library named by SECITEM_LIBRARY: tried {tried[0]}",
                paths=(override,),
            )
        _debug("secitem: loaded %s (SECITEM_LIBRARY)", override)
        return Libraries(lib, lib, (override,))
    paths = (COREFOUNDATION_PATH, SECURITY_PATH)
    cf = _dlopen(COREFOUNDATION_PATH, tried)
    sec = _dlopen(SECURITY_PATH, tried)
    if cf is None or sec is None:
        raise KeychainUnavailableError(
            "cannot load Apple's CoreFoundation and Security frameworks: tried "
            + "; ".join(tried)
            + ". On other systems set SECITEM_LIBRARY to a library with the same C ABI "
            "(e.g. the emulator: python -m secitem.testing.emulator).",
            paths=paths,
        )
    _debug("secitem: loaded %s and %s", *paths)
    return Libraries(cf, sec, paths)
