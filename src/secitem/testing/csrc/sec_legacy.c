/*
 * sec_legacy.c - the legacy macOS password calls (SecKeychain.h,
 * SecKeychainItem.h): SecKeychainAdd/FindGenericPassword,
 * SecKeychainAdd/FindInternetPassword, SecKeychainItemModifyAttributesAndData,
 * SecKeychainItemDelete, SecKeychainItemFreeContent.
 *
 * They work on the file-based (FB) keychain of sec_engine_fb.c, item for item:
 * an item added here is found by SecItemCopyMatching and the reverse, and
 * both persist through SECSIM_STORE.  Rules: seckey-facts.md section 6
 * (Apple's SecKeychain.cpp, SecKeychainItem.cpp, ItemImpl; jaraco/keyring's
 * ctypes backend as field evidence).  They are API_UNAVAILABLE(ios): on the
 * ios profile every call returns errSecUnimplemented and touches nothing
 * (SecKeychainItemFreeContent still frees what it is given).
 */
#include <stdlib.h>
#include <string.h>

#include "sec_access.h"
#include "sec_index.h"

#define CREATOR_AAPL 0x6161706C /* 'aapl' (seckey-facts 6.1) */

/* The ios profile has none of these functions.  Read under the lock (a
 * profile switched by another thread takes effect from the next call). */
static bool unavailable(void)
{
    sec_lock();
    bool u = g_sec.profile != PROFILE_MACOS;
    sec_unlock();
    return u;
}

/* A name of `n` bytes (not NUL-terminated): a string attribute as stored by
 * SecItem when it is UTF-8; raw bytes otherwise (SecItem then reads kCFNull,
 * sec_item.c attrs_dict). */
static sval name_value(const char *p, size_t n)
{
    CFStringRef s = CFStringCreateWithBytes(NULL, (const UInt8 *)p, (CFIndex)n, kCFStringEncodingUTF8, 0);
    if (s == NULL)
        return sval_data(p, n);
    CFRelease(s);
    return sval_str(p, n);
}

/* A name is used only when its pointer is non-NULL and its length > 0. */
static bool given(const void *p, UInt32 n)
{
    return p != NULL && n > 0;
}

static void put_name(sitem *it, const char *key, const char *p, UInt32 n)
{
    if (given(p, n))
        item_set(it, key, name_value(p, n));
}

/* FourCharCodes: a SecProtocolType is the big-endian packing of its four
 * characters; a SecAuthenticationType is byte-swapped on little-endian Macs
 * (AUTH_TYPE_FIX_), so its characters are its bytes in memory (seckey-facts
 * 6.2).  Both are stored as the 4-char string SecItem uses ("htps", "dflt"). */
static sval protocol_value(UInt32 v)
{
    char c[4] = { (char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v };
    return sval_str(c, 4);
}

static sval auth_type_value(UInt32 v)
{
    char c[4];
    memcpy(c, &v, 4);
    return sval_str(c, 4);
}

static void set_password(sitem *it, UInt32 len, const void *data)
{
    item_set_data(it, data, len);
    if (data != NULL && it->data == NULL)
        it->data = sec_memdup("", 0);   /* an empty password is still data */
}

/* Add a new FB item (the attributes set); the item is consumed. */
static OSStatus add_item(sitem *it, SecKeychainItemRef *itemRef)
{
    double t = CFAbsoluteTimeGetCurrent();
    item_set(it, "crtr", sval_int(CREATOR_AAPL));
    item_set(it, "cdat", sval_date(t));
    item_set(it, "mdat", sval_date(t));
    OSStatus st;
    if (!sec_api_enter(&st)) {
        item_free(it);
        return st;
    }
    if (sec_kc_same_key(it, NULL) != NULL) {
        item_free(it);
        return sec_api_leave(errSecDuplicateItem, false); /* unique index, secitem-facts 4.8 */
    }
    sec_access_on_add(it, NULL);    /* the default access: the creating application (sec_access.c) */
    sec_kc_append(it);
    SecKeychainItemRef ref = itemRef ? (SecKeychainItemRef)sec_ref_create(IMPL_FB, it->cls, it->rowid) : NULL;
    st = sec_api_leave(errSecSuccess, true);
    if (itemRef != NULL) {
        if (st == errSecSuccess)
            *itemRef = ref;
        else
            CFRelease(ref);
    }
    return st;
}

/* The first FB item of class `cls` whose attributes equal every term. */
typedef struct lterm {
    const char *key;
    sval v;
} lterm;

static bool term_match(const sitem *it, const lterm *t)
{
    const sval *s = item_get(it, t->key);
    if (s == NULL)
        return false;
    const sec_attrdef *def = sec_attr_lookup(t->key, 4);
    return sec_fb_equal(def->fb_kind, s, &t->v);
}

static sitem *find_first(int cls, const lterm *terms, size_t n)
{
    for (size_t i = 0; i < g_kc.n; i++) {
        sitem *it = g_kc.items[i];
        if (it->impl != IMPL_FB || it->cls != cls)
            continue;
        bool ok = true;
        for (size_t k = 0; ok && k < n; k++)
            ok = term_match(it, &terms[k]);
        if (ok)
            return it;
    }
    return NULL;
}

/* Run a find: the out-parameters are written only on success. */
static OSStatus find_item(int cls, lterm *terms, size_t n, UInt32 *passwordLength, void **passwordData,
                          SecKeychainItemRef *itemRef)
{
    OSStatus st;
    if (!sec_api_enter(&st))
        goto out;
    sitem *it = find_first(cls, terms, n);
    if (it == NULL) {
        st = sec_api_leave(errSecItemNotFound, false);
        goto out;
    }
    /* The password is read only when asked for (KC SecKeychainFind*Password);
     * the buffer is malloc'd, freed by SecKeychainItemFreeContent. */
    void *copy = NULL;
    size_t len = it->dlen;
    if (passwordData != NULL && (st = sec_access_check_read(it, NULL, NULL)) != errSecSuccess) {
        st = sec_api_leave(st, false);  /* access list / partition list refused (sec_access.c) */
        goto out;
    }
    if (passwordData != NULL)
        copy = sec_memdup(it->data ? (const void *)it->data : "", len);
    SecKeychainItemRef ref = itemRef ? (SecKeychainItemRef)sec_ref_create(IMPL_FB, it->cls, it->rowid) : NULL;
    st = sec_api_leave(errSecSuccess, false);
    if (st != errSecSuccess) {
        free(copy);
        if (ref)
            CFRelease(ref);
        goto out;
    }
    if (passwordLength != NULL)
        *passwordLength = (UInt32)len;
    if (passwordData != NULL)
        *passwordData = copy;
    if (itemRef != NULL)
        *itemRef = ref;
out:
    for (size_t k = 0; k < n; k++)
        sval_free(&terms[k].v);
    return st;
}

static void add_term(lterm *terms, size_t *n, const char *key, sval v)
{
    terms[*n].key = key;
    terms[*n].v = v;
    (*n)++;
}

/* A name term, when the name is given (as put_name stores it). */
static void add_name_term(lterm *terms, size_t *n, const char *key, const char *p, UInt32 len)
{
    if (given(p, len))
        add_term(terms, n, key, name_value(p, len));
}

/* What both Add calls check first: the profile, then the password. */
static OSStatus add_checks(UInt32 passwordLength, const void *passwordData)
{
    if (unavailable())
        return errSecUnimplemented;
    if (passwordLength != 0 && passwordData == NULL)
        return errSecParam;
    return errSecSuccess;
}

/* A new FB item of class `cls` named by `key`; the label is the same name
 * (the service of a generic password, the server of an internet one). */
static sitem *named_item(int cls, const char *key, const char *name, UInt32 len)
{
    sitem *it = item_new(IMPL_FB, cls);
    put_name(it, key, name, len);
    put_name(it, "labl", name, len);
    return it;
}

/* ------------------------------------------------------------------ */

SECSIM_EXPORT OSStatus SecKeychainAddGenericPassword(SecKeychainRef keychain, UInt32 serviceNameLength,
                                                     const char *serviceName, UInt32 accountNameLength,
                                                     const char *accountName, UInt32 passwordLength,
                                                     const void *passwordData, SecKeychainItemRef *itemRef)
{
    (void)keychain; /* NULL, or any keychain: there is one (a bad one falls back to the default) */
    OSStatus st = add_checks(passwordLength, passwordData);
    if (st != errSecSuccess)
        return st;
    sitem *it = named_item(CLS_GENP, "svce", serviceName, serviceNameLength);
    put_name(it, "acct", accountName, accountNameLength);
    set_password(it, passwordLength, passwordData);
    return add_item(it, itemRef);
}

SECSIM_EXPORT OSStatus SecKeychainFindGenericPassword(CFTypeRef keychainOrArray, UInt32 serviceNameLength,
                                                      const char *serviceName, UInt32 accountNameLength,
                                                      const char *accountName, UInt32 *passwordLength,
                                                      void **passwordData, SecKeychainItemRef *itemRef)
{
    (void)keychainOrArray; /* NULL = the default search list: the one FB keychain */
    if (unavailable())
        return errSecUnimplemented;
    lterm terms[2];
    size_t n = 0;
    add_name_term(terms, &n, "svce", serviceName, serviceNameLength);
    add_name_term(terms, &n, "acct", accountName, accountNameLength);
    return find_item(CLS_GENP, terms, n, passwordLength, passwordData, itemRef);
}

SECSIM_EXPORT OSStatus SecKeychainAddInternetPassword(SecKeychainRef keychain, UInt32 serverNameLength,
                                                      const char *serverName, UInt32 securityDomainLength,
                                                      const char *securityDomain, UInt32 accountNameLength,
                                                      const char *accountName, UInt32 pathLength,
                                                      const char *path, UInt16 port, SecProtocolType protocol,
                                                      SecAuthenticationType authenticationType,
                                                      UInt32 passwordLength, const void *passwordData,
                                                      SecKeychainItemRef *itemRef)
{
    (void)keychain;
    OSStatus st = add_checks(passwordLength, passwordData);
    if (st != errSecSuccess)
        return st;
    sitem *it = named_item(CLS_INET, "srvr", serverName, serverNameLength);
    put_name(it, "sdmn", securityDomain, securityDomainLength);
    put_name(it, "acct", accountName, accountNameLength);
    put_name(it, "path", path, pathLength);
    /* port, protocol and authentication type are always stored, zero
     * included; a zero code has no SecItem string, and the unique index
     * reads a missing one as zero, so only non-zero codes are kept. */
    item_set(it, "port", sval_int(port));
    if (protocol != 0)
        item_set(it, "ptcl", protocol_value(protocol));
    if (authenticationType != 0)
        item_set(it, "atyp", auth_type_value(authenticationType));
    set_password(it, passwordLength, passwordData);
    return add_item(it, itemRef);
}

SECSIM_EXPORT OSStatus SecKeychainFindInternetPassword(CFTypeRef keychainOrArray, UInt32 serverNameLength,
                                                       const char *serverName, UInt32 securityDomainLength,
                                                       const char *securityDomain, UInt32 accountNameLength,
                                                       const char *accountName, UInt32 pathLength,
                                                       const char *path, UInt16 port, SecProtocolType protocol,
                                                       SecAuthenticationType authenticationType,
                                                       UInt32 *passwordLength, void **passwordData,
                                                       SecKeychainItemRef *itemRef)
{
    (void)keychainOrArray;
    if (unavailable())
        return errSecUnimplemented;
    lterm terms[7];
    size_t n = 0;
    add_name_term(terms, &n, "srvr", serverName, serverNameLength);
    add_name_term(terms, &n, "sdmn", securityDomain, securityDomainLength);
    add_name_term(terms, &n, "acct", accountName, accountNameLength);
    /* The path is matched as a C string: pathLength only gates its use
     * (cursor->add with a const char *; seckey-facts 6.1, strlen reading). */
    if (given(path, pathLength))
        add_term(terms, &n, "path", name_value(path, strlen(path)));
    /* 0 = kSecProtocolTypeAny / kSecAuthenticationTypeAny / any port */
    if (port != 0)
        add_term(terms, &n, "port", sval_int(port));
    if (protocol != 0)
        add_term(terms, &n, "ptcl", protocol_value(protocol));
    if (authenticationType != 0)
        add_term(terms, &n, "atyp", auth_type_value(authenticationType));
    return find_item(CLS_INET, terms, n, passwordLength, passwordData, itemRef);
}

/* The keychain item an item reference names (FB, still in the keychain). */
static OSStatus item_of(SecKeychainItemRef ref, sitem **out)
{
    sec_itemref r;
    if (ref == NULL || !sec_ref_get(ref, &r) || r.impl != IMPL_FB || r.rowid == 0)
        return errSecInvalidItemRef;      /* ItemImpl required(); a key/cert not in a keychain */
    *out = sec_kc_find(IMPL_FB, r.rowid);
    return *out ? errSecSuccess : errSecInvalidItemRef; /* deleted meanwhile (emu) */
}

/* One SecKeychainAttribute as the stored value of a FB attribute: strings
 * as their bytes, numbers and booleans as 4-byte host-order UInt32s (Shim
 * _ConvertOldFormatToNewFormat). */
static OSStatus attribute_value(const sitem *it, const SecKeychainAttribute *a, const sec_attrdef **def_out,
                                sval *out)
{
    char key[4] = { (char)(a->tag >> 24), (char)(a->tag >> 16), (char)(a->tag >> 8), (char)a->tag };
    const sec_attrdef *def = sec_attr_lookup(key, 4);
    if (def == NULL || !(def->fb_classes & CB(it->cls)))
        return errSecNoSuchAttr;
    if (a->length != 0 && a->data == NULL)
        return errSecParam;
    const char *p = a->data ? (const char *)a->data : "";
    UInt32 u = 0;
    switch (def->fb_kind) {
    case F_STR:
        *out = name_value(p, a->length);
        break;
    case F_DATA:
        *out = sval_data(p, a->length);
        break;
    case F_NUM:
    case F_BOOL:
    case F_FOURCC:
        if (a->length != 4)
            return errSecParam;
        memcpy(&u, p, 4);
        if (def->fb_kind == F_NUM) {
            *out = sval_int(u);
        } else if (def->fb_kind == F_BOOL) {
            *out = sval_int(u != 0);
            out->tag = SV_BOOL;
        } else {
            *out = strcmp(def->name, "atyp") == 0 ? auth_type_value(u) : protocol_value(u);
        }
        break;
    default:
        return errSecParam;               /* dates (cdat, mdat) are kept by the keychain (emu) */
    }
    *def_out = def;
    return errSecSuccess;
}

SECSIM_EXPORT OSStatus SecKeychainItemModifyAttributesAndData(SecKeychainItemRef itemRef,
                                                              const SecKeychainAttributeList *attrList,
                                                              UInt32 length, const void *data)
{
    if (unavailable())
        return errSecUnimplemented;
    OSStatus st;                          /* data NULL keeps the password, whatever length says */
    if (!sec_api_enter(&st))
        return st;
    sitem *old;
    st = item_of(itemRef, &old);
    if (st != errSecSuccess)
        return sec_api_leave(st, false);
    sitem *fresh = item_clone(old);
    if (attrList != NULL) {
        if (attrList->count != 0 && attrList->attr == NULL) {
            item_free(fresh);
            return sec_api_leave(errSecParam, false);
        }
        for (UInt32 i = 0; i < attrList->count; i++) {
            const sec_attrdef *def;
            sval v;
            st = attribute_value(fresh, &attrList->attr[i], &def, &v);
            if (st != errSecSuccess) {
                item_free(fresh);
                return sec_api_leave(st, false);
            }
            item_set(fresh, def->name, v);
        }
    }
    if (data != NULL) {
        set_password(fresh, length, data);
        sec_access_on_rewrite(fresh);   /* partition list: the writer's (sec_access.c) */
    }
    item_set(fresh, "mdat", sval_date(CFAbsoluteTimeGetCurrent()));
    if (sec_kc_same_key(fresh, old) != NULL) {
        item_free(fresh);
        return sec_api_leave(errSecDuplicateItem, false);
    }
    sec_kc_replace(old, fresh);         /* keeps the rowid: the reference stays valid */
    return sec_api_leave(errSecSuccess, true);
}

SECSIM_EXPORT OSStatus SecKeychainItemDelete(SecKeychainItemRef itemRef)
{
    if (unavailable())
        return errSecUnimplemented;
    OSStatus st;
    if (!sec_api_enter(&st))
        return st;
    sitem *it;
    st = item_of(itemRef, &it);
    if (st != errSecSuccess)
        return sec_api_leave(st, false);
    sec_kc_remove(&it, 1);
    return sec_api_leave(errSecSuccess, true); /* the reference is not released */
}

SECSIM_EXPORT OSStatus SecKeychainItemFreeContent(SecKeychainAttributeList *attrList, void *data)
{
    /* ItemImpl freeContent: frees data and every attr[i].data (set to NULL);
     * either may be NULL.  Done in both profiles, so nothing a macos call
     * handed out can leak. */
    free(data);
    if (attrList != NULL && attrList->attr != NULL) {
        for (UInt32 i = 0; i < attrList->count; i++) {
            free(attrList->attr[i].data);
            attrList->attr[i].data = NULL;
        }
    }
    return unavailable() ? errSecUnimplemented : errSecSuccess;
}
