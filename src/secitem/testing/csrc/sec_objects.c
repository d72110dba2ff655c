/*
 * sec_objects.c - the kSec* constants, SecCopyErrorMessageString,
 * SecAccessControl and the item-reference classes (SecKeychainItem, SecKey,
 * SecCertificate, SecIdentity).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sec_private.h"

/* ------------------------------------------------------------------ */
/* Constants (facts section 2).  Every constant is its own immortal
 * CFString, so constants sharing a value are distinct pointers that are
 * CFEqual (facts section 2, "Value-collision facts"). */

#define SECSIM_CONST(name, value, public_) \
    static struct __CFString name##_storage = SECSIM_STATIC_STRING_INIT(value); \
    SECSIM_EXPORT const CFStringRef name = &name##_storage;
#include "constants.def"
#undef SECSIM_CONST

/* ------------------------------------------------------------------ */
/* SecCopyErrorMessageString (facts section 3, ErrStr algorithm). */

typedef struct sec_errent {
    OSStatus status;
    const char *message;
} sec_errent;

static const sec_errent sec_errors[] = {
#define SECSIM_ERROR(status, name, message) { (status), (message) },
#include "errors.def"
#undef SECSIM_ERROR
};

#define SEC_ERRNO_BASE 100000
#define SEC_ERRNO_LIMIT 100255

SECSIM_EXPORT CFStringRef SecCopyErrorMessageString(OSStatus status, void *reserved)
{
    (void)reserved;
    for (size_t i = 0; i < sizeof sec_errors / sizeof sec_errors[0]; i++) {
        /* An empty message means Apple's header has none: the code is
         * then not in the strings table and falls through. */
        if (sec_errors[i].status == status && sec_errors[i].message[0] != '\0')
            return secsim_string(sec_errors[i].message);
    }
    char buf[320];
    sec_lock();
    int profile = g_sec.profile;
    sec_unlock();
    if (profile == PROFILE_MACOS && status >= SEC_ERRNO_BASE && status <= SEC_ERRNO_LIMIT) {
        char ebuf[256];
        const char *text = strerror_r(status - SEC_ERRNO_BASE, ebuf, sizeof ebuf);
        snprintf(buf, sizeof buf, "UNIX[%s]", text);
    } else {
        snprintf(buf, sizeof buf, "OSStatus %d", (int)status);
    }
    return secsim_string(buf);
}

/* ------------------------------------------------------------------ */
/* Registered classes. */

typedef struct sec_accc_body {
    CFTypeRef protection;   /* an immortal constant CFString, or a retained CFDictionary */
    uint64_t flags;
} sec_accc_body;

static void accc_finalize(CFTypeRef obj)
{
    sec_accc_body *b = secsim_body(obj);
    if (b->protection)
        CFRelease(b->protection);
    b->protection = NULL;
}

static Boolean accc_equal(CFTypeRef a, CFTypeRef b)
{
    sec_accc_body *x = secsim_body(a), *y = secsim_body(b);
    return x->flags == y->flags && CFEqual(x->protection, y->protection);
}

static CFHashCode accc_hash(CFTypeRef obj)
{
    sec_accc_body *b = secsim_body(obj);
    return CFHash(b->protection) ^ (CFHashCode)(b->flags * 0x9E3779B97F4A7C15ull);
}

static Boolean ref_equal(CFTypeRef a, CFTypeRef b)
{
    sec_itemref *x = secsim_body(a), *y = secsim_body(b);
    return x->impl == y->impl && x->rowid == y->rowid;
}

static CFHashCode ref_hash(CFTypeRef obj)
{
    sec_itemref *r = secsim_body(obj);
    return (CFHashCode)r->rowid * 0x9E3779B97F4A7C15ull + r->impl;
}

static const secsim_class accc_class = { "SecAccessControl", accc_finalize, accc_equal, accc_hash };
static const secsim_class kcitem_class = { "SecKeychainItem", NULL, ref_equal, ref_hash };
/* Keys, certificates and identities carry material (sec_key.c, sec_cert.c). */
static const secsim_class key_class = { "SecKey", sec_object_finalize, sec_object_equal, sec_object_hash };
static const secsim_class cert_class = { "SecCertificate", sec_object_finalize, sec_object_equal, sec_object_hash };
static const secsim_class identity_class = { "SecIdentity", sec_object_finalize, sec_object_equal, sec_object_hash };

static pthread_once_t classes_once = PTHREAD_ONCE_INIT;
static CFTypeID accc_tid, kcitem_tid, key_tid, cert_tid, identity_tid;

static void register_classes(void)
{
    accc_tid = secsim_register_class(&accc_class);
    kcitem_tid = secsim_register_class(&kcitem_class);
    key_tid = secsim_register_class(&key_class);
    cert_tid = secsim_register_class(&cert_class);
    identity_tid = secsim_register_class(&identity_class);
}

CFTypeID sec_accc_type(void) { pthread_once(&classes_once, register_classes); return accc_tid; }
CFTypeID sec_ref_type_keychainitem(void) { pthread_once(&classes_once, register_classes); return kcitem_tid; }
CFTypeID sec_ref_type_key(void) { pthread_once(&classes_once, register_classes); return key_tid; }
CFTypeID sec_ref_type_certificate(void) { pthread_once(&classes_once, register_classes); return cert_tid; }
CFTypeID sec_ref_type_identity(void) { pthread_once(&classes_once, register_classes); return identity_tid; }

SECSIM_EXPORT CFTypeID SecAccessControlGetTypeID(void) { return sec_accc_type(); }
SECSIM_EXPORT CFTypeID SecKeychainItemGetTypeID(void) { return sec_ref_type_keychainitem(); }
SECSIM_EXPORT CFTypeID SecKeyGetTypeID(void) { return sec_ref_type_key(); }
SECSIM_EXPORT CFTypeID SecCertificateGetTypeID(void) { return sec_ref_type_certificate(); }
SECSIM_EXPORT CFTypeID SecIdentityGetTypeID(void) { return sec_ref_type_identity(); }

bool sec_ref_get(CFTypeRef v, sec_itemref *out)
{
    if (v == NULL)
        return false;
    pthread_once(&classes_once, register_classes);
    if (!(secsim_is(v, kcitem_tid) || secsim_is(v, key_tid) || secsim_is(v, cert_tid) ||
          secsim_is(v, identity_tid)))
        return false;
    *out = *(sec_itemref *)secsim_body(v);
    out->obj = v;
    return true;
}

CFTypeRef sec_ref_create(int impl, int cls, int64_t rowid)
{
    CFTypeID t;
    switch (cls) {
    case CLS_CERT: t = sec_ref_type_certificate(); break;
    case CLS_KEYS: t = sec_ref_type_key(); break;
    case CLS_IDNT: t = sec_ref_type_identity(); break;
    default: t = sec_ref_type_keychainitem(); break;
    }
    bool material = cls == CLS_CERT || cls == CLS_KEYS || cls == CLS_IDNT;
    CFTypeRef obj = secsim_create_instance(t, material ? sizeof(sec_objbody) : sizeof(sec_itemref));
    sec_itemref *r = secsim_body(obj);
    r->impl = (uint8_t)impl;
    r->cls = (uint8_t)cls;
    r->rowid = rowid;
    if (material)
        sec_object_attach(obj);
    return obj;
}

/* ------------------------------------------------------------------ */
/* SecAccessControl (facts 1.5, section 4). */

static const struct { CFStringRef const *constant; const char *value; } sec_protections[] = {
    { &kSecAttrAccessibleWhenUnlocked, "ak" },
    { &kSecAttrAccessibleAfterFirstUnlock, "ck" },
    { &kSecAttrAccessibleAlways, "dk" },
    { &kSecAttrAccessibleWhenUnlockedThisDeviceOnly, "aku" },
    { &kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly, "cku" },
    { &kSecAttrAccessibleAlwaysThisDeviceOnly, "dku" },
    { &kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly, "akpu" },
    { &kSecAttrAccessibleUntilReboot, "f" },
};

CFStringRef sec_protection_constant(const char *p, size_t n)
{
    for (size_t i = 0; i < sizeof sec_protections / sizeof sec_protections[0]; i++) {
        if (strlen(sec_protections[i].value) == n && memcmp(sec_protections[i].value, p, n) == 0)
            return *sec_protections[i].constant;
    }
    return NULL;
}

CFTypeRef sec_accc_create(const uint8_t *prot, size_t n, uint64_t flags)
{
    CFStringRef c = sec_protection_constant((const char *)prot, n);
    CFTypeRef obj = secsim_create_instance(sec_accc_type(), sizeof(sec_accc_body));
    sec_accc_body *b = secsim_body(obj);
    b->protection = c ? (CFTypeRef)c : (CFTypeRef)CFStringCreateWithBytes(NULL, prot, (CFIndex)n, kCFStringEncodingUTF8, 0);
    b->flags = flags;
    return obj;
}

const char *sec_accc_protection(CFTypeRef ac, size_t *n)
{
    sec_accc_body *b = secsim_body(ac);
    if (!secsim_is(b->protection, SECSIM_TYPE_STRING)) {
        *n = 0;
        return NULL;
    }
    CFIndex len = 0;
    const char *s = secsim_string_utf8((CFStringRef)b->protection, &len);
    *n = (size_t)len;
    return s;
}

uint64_t sec_accc_flags(CFTypeRef ac)
{
    return ((sec_accc_body *)secsim_body(ac))->flags;
}

static void set_param_error(CFErrorRef *error, const char *message)
{
    if (error == NULL)
        return;
    /* An existing error is consumed (facts 1.5: initialise *error to NULL). */
    if (*error != NULL)
        CFRelease(*error);
    CFStringRef text = secsim_string(message);
    const void *keys[1] = { kCFErrorDescriptionKey };
    const void *vals[1] = { text };
    CFDictionaryRef info = CFDictionaryCreate(NULL, keys, vals, 1, &kCFTypeDictionaryKeyCallBacks,
                                              &kCFTypeDictionaryValueCallBacks);
    *error = CFErrorCreate(NULL, kCFErrorDomainOSStatus, errSecParam, info);
    CFRelease(info);
    CFRelease(text);
}

SECSIM_EXPORT SecAccessControlRef SecAccessControlCreateWithFlags(CFAllocatorRef allocator, CFTypeRef protection,
                                                                  SecAccessControlCreateFlags flags, CFErrorRef *error)
{
    (void)allocator;
    CFTypeRef prot = NULL;
    if (protection != NULL && secsim_is(protection, SECSIM_TYPE_STRING)) {
        CFIndex n = 0;
        const char *s = secsim_string_utf8((CFStringRef)protection, &n);
        prot = sec_protection_constant(s, (size_t)n);
    } else if (protection != NULL && secsim_is(protection, SECSIM_TYPE_DICTIONARY)) {
        prot = CFRetain(protection);
    }
    if (prot == NULL) {
        char msg[200];
        if (protection != NULL && secsim_is(protection, SECSIM_TYPE_STRING))
            snprintf(msg, sizeof msg, "SecAccessControl: invalid protection %.100s",
                     secsim_string_utf8((CFStringRef)protection, NULL));
        else
            snprintf(msg, sizeof msg, "SecAccessControl: invalid protection");
        set_param_error(error, msg);
        return NULL;
    }
    const char *problem = NULL;
    if ((flags & kSecAccessControlOr) && (flags & kSecAccessControlAnd))
        problem = "SecAccessControl: only one logical operation can be set";
    else if ((flags & kSecAccessControlBiometryAny) && (flags & kSecAccessControlBiometryCurrentSet))
        problem = "SecAccessControl: only one bio constraint can be set";
    else if ((flags & kSecAccessControlUserPresence) &&
             (flags & ~(SecAccessControlCreateFlags)(kSecAccessControlUserPresence |
                                                     kSecAccessControlApplicationPassword |
                                                     kSecAccessControlPrivateKeyUsage)))
        problem = "SecAccessControl: kSecAccessControlUserPresence can be combined only with "
                  "kSecAccessControlApplicationPassword and kSecAccessControlPrivateKeyUsage";
    if (problem != NULL) {
        if (!secsim_is(prot, SECSIM_TYPE_STRING))
            CFRelease(prot);
        set_param_error(error, problem);
        return NULL;
    }
    CFTypeRef obj = secsim_create_instance(sec_accc_type(), sizeof(sec_accc_body));
    sec_accc_body *b = secsim_body(obj);
    b->protection = prot;
    b->flags = flags;
    return (SecAccessControlRef)obj;
}
