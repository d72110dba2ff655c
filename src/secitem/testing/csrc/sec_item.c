/*
 * sec_item.c - SecItemAdd / SecItemCopyMatching / SecItemUpdate /
 * SecItemDelete.
 *
 * Two engines: DP (the data-protection keychain: securityd's rules, the
 * only keychain of the ios profile) and FB (the macOS file-based keychain,
 * reached through the macOS shim).  The macos profile routes each call as
 * the shim does (facts 5.1) and merges the answers.  Rule numbers refer to
 * secitem-facts.md section 5.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sec_access.h"
#include "sec_delay.h"
#include "sec_private.h"

enum { OP_ADD, OP_COPY, OP_UPDATE, OP_DELETE };
enum { T_FB = 1, T_DP = 2 };
enum { AUTH_ALLOW, AUTH_FAIL, AUTH_SKIP };

static bool g_modified;

/* ------------------------------------------------------------------ */
/* constant lookup: attribute/key names -> immortal constant CFStrings */

static const struct {
    const char *value;
    const CFStringRef *constant;
} key_consts[] = {
#define SECSIM_CONST(name, value, public_) { (value), &(name) },
#include "constants.def"
#undef SECSIM_CONST
};

#define KEY_CONST_COUNT (sizeof key_consts / sizeof key_consts[0])
#define KEY_TABLE_SIZE 1024u /* power of two, > 2 * KEY_CONST_COUNT */

/* Open-addressing table of indices into key_consts (+1; 0 = empty), built
 * once.  A value listed twice keeps its first entry, as the linear scan did. */
static uint16_t key_table[KEY_TABLE_SIZE];
static uint8_t key_lens[KEY_CONST_COUNT];
static pthread_once_t key_table_once = PTHREAD_ONCE_INIT;

static uint32_t key_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

static void key_table_build(void)
{
    _Static_assert(KEY_CONST_COUNT * 2 < KEY_TABLE_SIZE && KEY_CONST_COUNT < 65535, "key_table too small");
    for (size_t i = 0; i < KEY_CONST_COUNT; i++) {
        size_t n = strlen(key_consts[i].value);
        if (n > 255)
            secsim_fatal("constant value longer than 255 bytes");
        key_lens[i] = (uint8_t)n;
        size_t j = key_hash(key_consts[i].value, n) & (KEY_TABLE_SIZE - 1);
        bool dup = false;
        while (key_table[j] != 0) {
            size_t k = key_table[j] - 1u;
            if (key_lens[k] == n && memcmp(key_consts[k].value, key_consts[i].value, n) == 0) {
                dup = true;
                break;
            }
            j = (j + 1) & (KEY_TABLE_SIZE - 1);
        }
        if (!dup)
            key_table[j] = (uint16_t)(i + 1);
    }
}

static CFStringRef key_const(const char *value, size_t n)
{
    pthread_once(&key_table_once, key_table_build);
    size_t j = key_hash(value, n) & (KEY_TABLE_SIZE - 1);
    while (key_table[j] != 0) {
        size_t k = key_table[j] - 1u;
        if (key_lens[k] == n && memcmp(key_consts[k].value, value, n) == 0)
            return *key_consts[k].constant;
        j = (j + 1) & (KEY_TABLE_SIZE - 1);
    }
    return NULL;
}

/* +1 key string (an immortal constant when one exists). */
static CFStringRef key_string(const char *name)
{
    CFStringRef c = key_const(name, strlen(name));
    return c ? (CFStringRef)CFRetain(c) : secsim_string(name);
}

/* Set key -> value (value is +1 and consumed). */
static void dict_put(CFMutableDictionaryRef d, const char *key, CFTypeRef value)
{
    CFStringRef k = key_string(key);
    CFDictionarySetValue(d, k, value);
    CFRelease(k);
    CFRelease(value);
}

static CFMutableDictionaryRef new_dict(void)
{
    return CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
}

static CFMutableArrayRef new_array(void)
{
    return CFArrayCreateMutable(NULL, 0, &kCFTypeArrayCallBacks);
}

/* ------------------------------------------------------------------ */
/* the caller's dictionary as a list of entries */

typedef struct qent {
    CFTypeRef key, val;
    const char *k;      /* UTF-8 of a CFString key, else NULL */
    size_t klen;        /* its length in bytes */
    CFIndex ulen;       /* its length in UTF-16 units (CFStringGetLength) */
    bool drop;          /* stripped by the shim (1.7) */
} qent;

typedef struct qdict {
    qent *e;
    size_t n;
} qdict;

static void qd_load(CFDictionaryRef d, qdict *q)
{
    CFIndex n = CFDictionaryGetCount(d);
    const void **keys = sec_xmalloc((size_t)(n ? n : 1) * sizeof *keys);
    const void **vals = sec_xmalloc((size_t)(n ? n : 1) * sizeof *vals);
    CFDictionaryGetKeysAndValues(d, keys, vals);
    q->n = (size_t)n;
    q->e = sec_xmalloc((size_t)(n ? n : 1) * sizeof *q->e);
    for (CFIndex i = 0; i < n; i++) {
        qent *e = &q->e[i];
        memset(e, 0, sizeof *e);
        e->key = keys[i];
        e->val = vals[i];
        if (keys[i] != NULL && secsim_is(keys[i], SECSIM_TYPE_STRING)) {
            CFIndex len = 0;
            e->k = secsim_string_utf8(keys[i], &len);
            e->klen = (size_t)len;
            e->ulen = CFStringGetLength(keys[i]);
        }
    }
    free(keys);
    free(vals);
}

static void qd_clone(const qdict *src, qdict *dst)
{
    dst->n = src->n;
    dst->e = sec_xmalloc((src->n ? src->n : 1) * sizeof *dst->e);
    if (src->n)
        memcpy(dst->e, src->e, src->n * sizeof *dst->e);
}

static void qd_free(qdict *q)
{
    free(q->e);
    q->e = NULL;
    q->n = 0;
}

static bool key_is(const qent *e, const char *name)
{
    size_t n = strlen(name);
    return e->k != NULL && e->klen == n && memcmp(e->k, name, n) == 0;
}

static bool key_prefix(const qent *e, const char *prefix)
{
    size_t n = strlen(prefix);
    return e->k != NULL && e->klen >= n && memcmp(e->k, prefix, n) == 0;
}

static qent *qd_find(const qdict *q, const char *name)
{
    for (size_t i = 0; i < q->n; i++)
        if (!q->e[i].drop && key_is(&q->e[i], name))
            return &q->e[i];
    return NULL;
}

static CFTypeRef qd_get(const qdict *q, const char *name)
{
    qent *e = qd_find(q, name);
    return e ? e->val : NULL;
}

static bool str_is(CFTypeRef v, const char *s)
{
    if (v == NULL || !secsim_is(v, SECSIM_TYPE_STRING))
        return false;
    CFIndex n = 0;
    const char *p = secsim_string_utf8(v, &n);
    return (size_t)n == strlen(s) && memcmp(p, s, (size_t)n) == 0;
}

/* ------------------------------------------------------------------ */
/* persistent references (5.3) */

static CFDataRef pref_create(const sitem *it)
{
    uint8_t buf[16];
    size_t n = 0;
    if (it->impl == IMPL_FB) {
        /* FB references are opaque on a Mac; ours: "kcFB" + class + rowid. */
        memcpy(buf, "kcFB", 4);
        n = 4;
    }
    memcpy(buf + n, sec_class_names[it->cls], 4);
    n += 4;
    for (int i = 0; i < 8; i++)
        buf[n + (size_t)i] = (uint8_t)((uint64_t)it->rowid >> (56 - 8 * i));
    n += 8;
    return CFDataCreate(NULL, buf, (CFIndex)n);
}

static int64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return (int64_t)v;
}

/* DP format: 4 class bytes + 8-byte rowid (or + 16-byte UUID). */
static bool pref_is_dp(CFTypeRef v, int *cls, int64_t *rowid)
{
    if (v == NULL || !secsim_is(v, SECSIM_TYPE_DATA))
        return false;
    CFIndex n = CFDataGetLength(v);
    const uint8_t *p = CFDataGetBytePtr(v);
    if (n != 12 && n != 20)
        return false;
    int c = sec_class_from_name((const char *)p, 4);
    if (c < 0)
        return false;
    if (cls)
        *cls = c;
    if (rowid)
        *rowid = n == 12 ? be64(p + 4) : -1; /* UUID refs are never ours */
    return true;
}

static bool pref_is_fb(CFTypeRef v, int *cls, int64_t *rowid)
{
    if (v == NULL || !secsim_is(v, SECSIM_TYPE_DATA) || CFDataGetLength(v) != 16)
        return false;
    const uint8_t *p = CFDataGetBytePtr(v);
    if (memcmp(p, "kcFB", 4) != 0)
        return false;
    int c = sec_class_from_name((const char *)p + 4, 4);
    if (c < 0)
        return false;
    *cls = c;
    *rowid = be64(p + 8);
    return true;
}

/* ------------------------------------------------------------------ */
/* result shapes (5.3) */

typedef struct rflags {
    bool data, attrs, ref, pref;
} rflags;

static int rcount(const rflags *r)
{
    return (int)r->data + (int)r->attrs + (int)r->ref + (int)r->pref;
}

/* Store a secret; an empty one is still a secret: data != NULL tells an
 * item that has data (possibly empty) from one that has none (ItemDb
 * handle_result, 5.3). */
static void set_secret(sitem *it, const void *p, size_t n)
{
    item_set_data(it, p, n);
    if (it->data == NULL)
        it->data = sec_memdup("", 0);
}

static CFDataRef secret_data(const sitem *it)
{
    return CFDataCreate(NULL, it->data, (CFIndex)it->dlen);
}

static const char *const protections_needing_unlock[] = { "ak", "aku", "akpu" };

static bool needs_unlock(const sitem *it)
{
    const sval *p = item_get(it, "pdmn");
    if (p == NULL || p->tag != SV_STR)
        return false;
    for (size_t i = 0; i < 3; i++)
        if (strlen(protections_needing_unlock[i]) == p->n && memcmp(protections_needing_unlock[i], p->p, p->n) == 0)
            return true;
    return false;
}

static bool has_constraints(const sitem *it)
{
    const sval *a = item_get(it, "accc");
    return a != NULL && a->tag == SV_ACCC && a->i != 0;
}

/* The attributes of an item as a new mutable dictionary. */
static CFMutableDictionaryRef attrs_dict(const sitem *it)
{
    CFMutableDictionaryRef d = new_dict();
    if (it->impl == IMPL_FB)
        dict_put(d, "class", CFRetain(key_const(sec_class_names[it->cls], 4)));
    for (size_t i = 0; i < it->nattrs; i++) {
        const sattr *a = &it->attrs[i];
        if (sec_access_hidden_key(a->key))
            continue;                                    /* the access list (sec_access.c) */
        if (it->impl == IMPL_FB && a->v.tag == SV_DATA) {
            /* A name stored by the legacy calls with bytes that are not
             * UTF-8 (sec_legacy.c): the shim's _ConvertOldFormatToNewFormat
             * gives kCFNull (seckey-facts 6.3). */
            const sec_attrdef *def = sec_attr_lookup(a->key, 4);
            if (def != NULL && def->fb_kind == F_STR) {
                dict_put(d, a->key, CFRetain(kCFNull));
                continue;
            }
        }
        dict_put(d, a->key, sval_to_cf(&a->v));
    }
    if (it->impl == IMPL_DP && item_get(it, "accc") == NULL) {
        /* accc is synthesized from the protection when read (5.8 #8.5). */
        const sval *p = item_get(it, "pdmn");
        if (p != NULL && p->tag == SV_STR)
            dict_put(d, "accc", sec_accc_create(p->p, p->n, 0));
    }
    return d;
}

/* The one value asked for when it is not r_Ref (both engines). */
static CFTypeRef shape_single(const sitem *it, const rflags *r)
{
    if (r->data)
        return secret_data(it);
    if (r->pref)
        return pref_create(it);
    return attrs_dict(it);
}

/* The result object for one item, or NULL when it contributes nothing. */
static CFTypeRef shape_one(const sitem *it, const rflags *r)
{
    int count = rcount(r);
    bool password = it->cls == CLS_GENP || it->cls == CLS_INET;
    if (it->impl == IMPL_FB) {
        if (count == 0)
            return sec_ref_create(it->impl, it->cls, it->rowid);     /* 4.2 / 5.3 FB default r_Ref */
        if (count == 1)
            return r->ref ? sec_ref_create(it->impl, it->cls, it->rowid) : shape_single(it, r);
        CFMutableDictionaryRef d = r->attrs ? attrs_dict(it) : new_dict();
        if (r->ref)
            dict_put(d, "v_Ref", sec_ref_create(it->impl, it->cls, it->rowid));
        if (r->pref)
            dict_put(d, "v_PersistentRef", pref_create(it));
        if (r->data)
            dict_put(d, "v_Data", secret_data(it));
        return d;
    }
    if (count == 0)
        return NULL;
    if (count == 1) {
        if (!r->ref)
            return shape_single(it, r);
        /* r_Ref on a password class: the iOS path hands back NULL. */
        return password ? NULL : sec_ref_create(it->impl, it->cls, it->rowid);
    }
    CFMutableDictionaryRef d = r->attrs ? attrs_dict(it) : new_dict();
    if (r->ref) {
        dict_put(d, "class", CFRetain(key_const(sec_class_names[it->cls], 4)));
        if (!password)
            dict_put(d, "v_Ref", sec_ref_create(it->impl, it->cls, it->rowid));
    } else if (r->attrs && r->data) {
        /* ItemDb handle_result: `sha1` is generated for attributes + data
         * only (without data "our sha1 could be invalid"). */
        uint8_t digest[20];
        if (sec_item_sha1(it, digest))
            dict_put(d, "sha1", CFDataCreate(NULL, digest, 20));
    }
    if (r->data && it->data != NULL)
        dict_put(d, "v_Data", secret_data(it));         /* handle_result: no data, no v_Data */
    if (r->pref)
        dict_put(d, "v_PersistentRef", pref_create(it));
    return d;
}

/* Result for a list of items: a single object when `single`, else an
 * array (possibly empty). */
static CFTypeRef shape_many(sitem **items, size_t n, const rflags *r, bool single)
{
    if (single)
        return n ? shape_one(items[0], r) : NULL;
    CFMutableArrayRef a = new_array();
    for (size_t i = 0; i < n; i++) {
        CFTypeRef o = shape_one(items[i], r);
        if (o != NULL) {
            CFArrayAppendValue(a, o);
            CFRelease(o);
        }
    }
    return a;
}

/* ------------------------------------------------------------------ */
/* user interaction (5.13) */

typedef struct authctx {
    bool asked;
    OSStatus answer;
} authctx;

static OSStatus ask_user(authctx *cx, int authui)
{
    if (authui == AUTH_FAIL)
        return errSecInteractionNotAllowed;
    if (!cx->asked) {
        cx->asked = true;
        cx->answer = g_sec.user_response == 0 ? errSecSuccess
                   : g_sec.user_response == 1 ? errSecUserCanceled
                                              : errSecAuthFailed;
    }
    return cx->answer;
}

static double now(void)
{
    return CFAbsoluteTimeGetCurrent();
}

/* ------------------------------------------------------------------ */
/* parsed queries (shared by both engines) */

typedef struct pattr {
    const sec_attrdef *def;
    sval v;
} pattr;

typedef struct pquery {
    int cls;                /* -1 until known */
    pattr *attrs;
    size_t nattrs;
    rflags ret;
    bool any_return_key;    /* an r_* key is present (any value) */
    bool any_match_key;     /* an m_* key is present */
    long limit;             /* 1, N, or -1 for all */
    bool limit_all_constant;
    bool sync_any;
    bool has_sync;
    bool has_policy;        /* m_Policy / m_Issuers */
    bool has_itemlist;      /* u_ItemList */
    int authui;
    CFTypeRef v_data;
    bool has_ref;
    sec_itemref ref;
    bool has_pref;
    int pref_cls;
    int64_t pref_rowid;
    const sval *agrp;       /* borrowed from attrs */
    bool has_tomb;          /* the caller named `tomb` (sees tombstones) */
    int use_tomb;           /* kSecUseTombstones: -1 absent, else 0 / 1 */
} pquery;

static void pq_init(pquery *q, long limit)
{
    memset(q, 0, sizeof *q);
    q->cls = -1;
    q->limit = limit;
    q->authui = AUTH_ALLOW;
    q->use_tomb = -1;
}

/* kSecValuePersistentRef (in the engine's format, `pref_ok`), then
 * kSecValueRef: false if either is present and malformed. */
static bool parse_refs(const qdict *q, pquery *pq, bool (*pref_ok)(CFTypeRef, int *, int64_t *))
{
    CFTypeRef pr = qd_get(q, "v_PersistentRef");
    if (pr != NULL) {
        if (!pref_ok(pr, &pq->pref_cls, &pq->pref_rowid))
            return false;
        pq->has_pref = true;
    }
    CFTypeRef ref = qd_get(q, "v_Ref");
    if (ref != NULL) {
        if (!sec_ref_get(ref, &pq->ref))
            return false;
        pq->has_ref = true;
    }
    return true;
}

/* Without kSecClass the persistent reference, else the reference, names
 * the class; false if there is neither (11.1). */
static bool class_from_refs(pquery *pq)
{
    if (pq->has_pref)
        pq->cls = pq->pref_cls;
    else if (pq->has_ref)
        pq->cls = pq->ref.cls;
    else
        return false;
    return true;
}

static void pq_free(pquery *q)
{
    for (size_t i = 0; i < q->nattrs; i++)
        sval_free(&q->attrs[i].v);
    free(q->attrs);
    memset(q, 0, sizeof *q);
}

static void pq_add(pquery *q, const sec_attrdef *def, sval v)
{
    q->attrs = sec_xrealloc(q->attrs, (q->nattrs + 1) * sizeof *q->attrs);
    q->attrs[q->nattrs].def = def;
    q->attrs[q->nattrs].v = v;
    q->nattrs++;
}

static const sval *pq_get(const pquery *q, const char *name)
{
    for (size_t i = 0; i < q->nattrs; i++)
        if (strcmp(q->attrs[i].def->name, name) == 0)
            return &q->attrs[i].v;
    return NULL;
}

static const char *const dp_match_keys_ok[] = {
    "m_Limit", "m_CaseInsensitive", "m_EmailAddressIfPresent", "m_SubjectContains",
    "m_HostOrSubdomainOfHost", "m_TrustedOnly", "m_ValidOnDate",
};

static const char *const dp_use_keys_ok[] = {
    "u_AuthUI", "u_NoAuthUI", "u_OpPrompt", "u_AuthCtx", "u_CredRef", "u_Tomb", "u_CallerName",
    "u_SystemKeychain", "u_SystemKeychainAlways", "u_SyncBubbleKeychain", "u_TokenRawItems",
    "u_CertWithIssuers", "u_UserIndependentKeychain",
};

static bool in_list(const qent *e, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (key_is(e, list[i]))
            return true;
    return false;
}

/* Client-side checks of the DP client, run before securityd sees the call
 * (Client SecItemAttributesPrepare / SecItemAuthDoQuery). */
static bool fb_truthy_return(CFTypeRef v);

static OSStatus dp_client_checks(const qdict *q, int op, bool attributes)
{
    CFTypeRef ac = qd_get(q, "accc");
    if (ac != NULL && !secsim_is(ac, sec_accc_type()))
        return errSecParam;                              /* section 4 */
    /* 4.11 / 5.14: the client rejects an access control with constraints
     * next to kSecAttrSynchronizable true in the attributes it sends
     * (CFEqual to kCFBooleanTrue: a CFNumber 1 too, field evidence). */
    if (attributes && ac != NULL && sec_accc_flags(ac) != 0 && fb_truthy_return(qd_get(q, "sync")))
        return errSecParam;
    if (op != OP_COPY && str_is(qd_get(q, "u_AuthUI"), "u_AuthUIS"))
        return errSecParam;                              /* 6.5, 13.1 */
    if (qd_get(q, "u_AuthCtx") != NULL && qd_get(q, "u_CredRef") != NULL)
        return errSecParam;                              /* 13.2 */
    return errSecSuccess;
}

/* Ent (server_entitlement_helpers.c), macOS with the CryptoTokenKit
 * feature on: the read-only group com.apple.token is appended to every
 * client's list unless the client has an application identifier and no
 * groups (an entitlement failure).  The emulator's macos process without
 * groups is an unsigned interpreter (no application identifier), so its
 * reads run with [com.apple.token] and find nothing (-25300, 12.3 as
 * settled by KeychainEntitlementsTest.m), while its writes still give
 * -34018.  On iOS the group must be in the entitlements. */
static bool token_group_implicit(const uint8_t *p, size_t n)
{
    return g_sec.profile == PROFILE_MACOS && n == 15 && memcmp(p, "com.apple.token", 15) == 0;
}

static bool group_held(const uint8_t *p, size_t n, bool writable)
{
    return sec_group_held(p, n, writable) || (!writable && token_group_implicit(p, n));
}

static bool groups_empty(bool writable)
{
    if (!writable && g_sec.profile == PROFILE_MACOS)
        return false;                                    /* com.apple.token is always readable */
    for (size_t i = 0; i < g_sec.ngroups; i++) {
        const char *g = g_sec.groups[i];
        if (sec_group_held((const uint8_t *)g, strlen(g), writable))
            return false;
    }
    return true;
}

static OSStatus dp_limit(CFTypeRef v, long *limit)
{
    if (str_is(v, "m_LimitOne")) {
        *limit = 1;
    } else if (str_is(v, "m_LimitAll")) {
        *limit = -1;
    } else if (v != NULL && secsim_is(v, SECSIM_TYPE_NUMBER)) {
        CFIndex n = 0;
        CFNumberGetValue(v, kCFNumberCFIndexType, &n);
        *limit = n >= 1 ? (long)n : -1; /* kSecMatchUnlimited is -1; <= 0 read as unlimited */
    } else {
        return errSecParam;
    }
    return errSecSuccess;
}

/* kSecUseTombstones (DbQuery query_add_use): a CFBoolean; a CFNumber
 * (bridged boolValue: non-zero); a CFString (CFStringGetIntValue: its
 * leading decimal integer, 0 if none); anything else errSecItemInvalidValue,
 * which is errSecParam (SecBasePriv.h). */
static OSStatus parse_use_tomb(CFTypeRef v, int *out)
{
    if (v != NULL && secsim_is(v, SECSIM_TYPE_BOOLEAN)) {
        *out = CFBooleanGetValue(v) ? 1 : 0;
    } else if (v != NULL && secsim_is(v, SECSIM_TYPE_NUMBER)) {
        double d = 0;
        CFNumberGetValue(v, kCFNumberFloat64Type, &d);
        *out = d != 0;
    } else if (v != NULL && secsim_is(v, SECSIM_TYPE_STRING)) {
        CFIndex n = 0;
        const char *p = secsim_string_utf8(v, &n);
        CFIndex i = 0;
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n'))
            i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        bool nonzero = false;
        for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            nonzero = nonzero || p[i] != '0';
        *out = nonzero;
    } else {
        return errSecParam;
    }
    return errSecSuccess;
}

/* securityd's query parser (DbQuery query_applier and friends). */
static OSStatus dp_parse(const qdict *q, int op, pquery *pq)
{
    pq_init(pq, op == OP_COPY ? 1 : -1);                 /* 2.2 */

    /* references first: they may supply the class */
    if (!parse_refs(q, pq, pref_is_dp))
        return errSecParam;
    CFTypeRef cv = qd_get(q, "class");
    if (cv != NULL) {
        if (!secsim_is(cv, SECSIM_TYPE_STRING))
            return errSecParam;
        CFIndex n = 0;
        const char *s = secsim_string_utf8(cv, &n);
        pq->cls = sec_class_from_name(s, (size_t)n);
        if (pq->cls < 0)
            return errSecNoSuchClass;                    /* 11.2 */
    } else if (!class_from_refs(pq)) {
        return errSecParam;                              /* 11.1 */
    }

    for (size_t i = 0; i < q->n; i++) {
        const qent *e = &q->e[i];
        if (e->drop)
            continue;
        if (e->k == NULL) {
            /* numeric keys are attributes (none is a column); others malformed */
            if (e->key != NULL && secsim_is(e->key, SECSIM_TYPE_NUMBER))
                return errSecNoSuchAttr;
            return errSecParam;
        }
        if (e->ulen == 4) {
            /* "length 4" is CFStringGetLength: UTF-16 units, not bytes */
            if (key_is(e, "nleg"))
                continue;                                /* ignored by SecDbAttrWithKey */
            const sec_attrdef *def = sec_attr_lookup(e->k, e->klen);
            if (def == NULL || !(def->dp_classes & CB(pq->cls)))
                return errSecNoSuchAttr;                 /* section 2 key-naming note */
            if (def->dp_kind == K_SYNC && str_is(e->val, "syna")) {
                /* 7.2: marks the query sync-aware and drops the term (on an
                 * add, too: the item then gets the default sync = 0). */
                pq->sync_any = true;
                continue;
            }
            sval v;
            if (sec_dp_convert(def->dp_kind, e->val, &v) != errSecSuccess)
                return errSecParam;                      /* 5.10 */
            if (def->dp_kind == K_SYNC)
                pq->has_sync = true;
            if (def->dp_kind == K_TOMB)
                pq->has_tomb = true;
            pq_add(pq, def, v);
            continue;
        }
        switch (e->k[0]) {
        case 'c':
            if (key_is(e, "class"))
                continue;
            return errSecParam;
        case 'm':
            pq->any_match_key = true;
            if (key_is(e, "m_Limit")) {
                if (dp_limit(e->val, &pq->limit) != errSecSuccess)
                    return errSecParam;                  /* 2.6 */
            } else if (key_is(e, "m_Policy") || key_is(e, "m_Issuers")) {
                pq->has_policy = true;
            } else if (!in_list(e, dp_match_keys_ok, sizeof dp_match_keys_ok / sizeof dp_match_keys_ok[0])) {
                return errSecParam;
            }
            continue;
        case 'r':
            pq->any_return_key = true;
            if (e->val == NULL || !secsim_is(e->val, SECSIM_TYPE_BOOLEAN))
                return errSecParam;                      /* 5.10: r_* must be CFBoolean */
            {
                bool on = CFBooleanGetValue(e->val) != 0;
                if (key_is(e, "r_Data"))
                    pq->ret.data = on;
                else if (key_is(e, "r_Attributes"))
                    pq->ret.attrs = on;
                else if (key_is(e, "r_Ref"))
                    pq->ret.ref = on;
                else if (key_is(e, "r_PersistentRef"))
                    pq->ret.pref = on;
                else
                    return errSecParam;
            }
            continue;
        case 'u':
            if (key_is(e, "u_AuthUI")) {
                if (str_is(e->val, "u_AuthUIA"))
                    pq->authui = AUTH_ALLOW;
                else if (str_is(e->val, "u_AuthUIF"))
                    pq->authui = pq->authui == AUTH_SKIP ? AUTH_SKIP : AUTH_FAIL;
                else if (str_is(e->val, "u_AuthUIS"))
                    pq->authui = AUTH_SKIP;
                else
                    return errSecParam;
            } else if (key_is(e, "u_NoAuthUI")) {
                if (sec_truthy(e->val) && pq->authui == AUTH_ALLOW)
                    pq->authui = AUTH_FAIL;
            } else if (key_is(e, "u_ItemList")) {
                pq->has_itemlist = true;
            } else if (key_is(e, "u_Tomb")) {
                if (parse_use_tomb(e->val, &pq->use_tomb) != errSecSuccess)
                    return errSecParam;
            } else if (!in_list(e, dp_use_keys_ok, sizeof dp_use_keys_ok / sizeof dp_use_keys_ok[0])) {
                return errSecParam;
            }
            continue;
        case 'v':
            if (key_is(e, "v_Data")) {
                /* 5.10: query_set_data takes CFData only, in every call */
                if (e->val == NULL || !secsim_is(e->val, SECSIM_TYPE_DATA))
                    return errSecParam;
                pq->v_data = e->val;
            } else if (!key_is(e, "v_Ref") && !key_is(e, "v_PersistentRef")) {
                return errSecParam;
            }
            continue;
        case 'f':
            continue;                                    /* callbacks: ignored */
        default:
            return errSecParam;
        }
    }
    pq->agrp = pq_get(pq, "agrp");
    return errSecSuccess;
}

/* ------------------------------------------------------------------ */
/* DP engine */

static bool dp_visible(const sitem *it, bool writable)
{
    if (it->impl != IMPL_DP)
        return false;
    const sval *g = item_get(it, "agrp");
    return g != NULL && g->tag == SV_STR && group_held(g->p, g->n, writable);
}

/* A stored value equals a query value, as the engine `impl` compares. */
static bool engine_equal(int impl, const sec_attrdef *def, const sval *a, const sval *b)
{
    return impl == IMPL_DP ? sec_dp_equal(def->dp_kind, a, b) : sec_fb_equal(def->fb_kind, a, b);
}

/* The class, reference, persistent-reference and attribute terms of a
 * query (both engines). */
static bool terms_match(const sitem *it, const pquery *q, int impl)
{
    if (it->cls != q->cls)
        return false;
    if (q->has_ref && !(q->ref.rowid == 0 ? sec_object_matches(q->ref.obj, it)
                                           : q->ref.impl == impl && q->ref.rowid == it->rowid))
        return false;
    if (q->has_pref && q->pref_rowid != it->rowid)
        return false;
    for (size_t i = 0; i < q->nattrs; i++) {
        const sec_attrdef *def = q->attrs[i].def;
        if (impl == IMPL_DP && def->dp_kind == K_ACCC)
            continue;        /* DbQuery query_add_attribute_with_desc: accc never joins q_pairs */
        if (impl == IMPL_DP && def->dp_kind == K_SHA1) {
            /* the sha1 column holds the item digest (sec_digest.c) */
            uint8_t digest[20];
            sval dv = { .tag = SV_DATA, .p = digest, .n = 20 };
            if (!sec_item_sha1(it, digest) || !sec_dp_equal(K_SHA1, &dv, &q->attrs[i].v))
                return false;
            continue;
        }
        const sval *s = item_get(it, def->name);
        if (s == NULL || !engine_equal(impl, def, s, &q->attrs[i].v))
            return false;
    }
    return true;
}

/* A DP tombstone: tomb true (SecDbItemIsTombstone). */
static bool is_tombstone(const sitem *it)
{
    const sval *t = item_get(it, "tomb");
    sval zero = sval_int(0);
    return t != NULL && !sec_dp_equal(K_TOMB, t, &zero);
}

static bool dp_matches(const sitem *it, const pquery *q)
{
    if (!terms_match(it, q, IMPL_DP))
        return false;
    /* ItemDb s3dl_copy_matching / s3dl_query_update / s3dl_query_delete add
     * tomb = 0 only when the caller did not name `tomb` (6.4, 13.5 as
     * corrected by si-12-item-stress). */
    if (!q->has_tomb && is_tombstone(it))
        return false;
    if (!q->has_sync && !q->sync_any && !q->has_pref) {
        const sval *s = item_get(it, "sync");
        sval zero = sval_int(0);
        if (s != NULL && !sec_dp_equal(K_SYNC, s, &zero))
            return false;                                /* 7.1 / 7.2 */
    }
    return true;
}

/* Same primary key (4.3, 4.4; a missing value equals a missing value). */
static bool dp_same_primary(const sitem *a, const sitem *b)
{
    if (a->cls != b->cls || a->impl != b->impl)
        return false;
    for (size_t i = 0; i < sec_attr_count(); i++) {
        const sec_attrdef *def = sec_attr_at(i);
        if (!(def->dp_primary & CB(a->cls)))
            continue;
        const sval *x = item_get(a, def->name), *y = item_get(b, def->name);
        if (x == NULL && y == NULL)
            continue;
        if (x == NULL || y == NULL || !sec_dp_equal(def->dp_kind, x, y))
            return false;
    }
    return true;
}

static bool fb_same_unique(const sitem *a, const sitem *b);
static sitem *kc_same_key(const sitem *it, const sitem *except);
static void remove_items(sitem **v, size_t n);

/* ItemDb s3dl_should_make_tombstone: the caller's kSecUseTombstones when
 * given; otherwise a tombstone for a synchronizable item that is not one
 * already (the NULL "make one" answer: securityd's sync engines may purge
 * it later; the emulator has none, so it stays). */
static bool should_make_tombstone(const pquery *q, const sitem *it)
{
    if (q->use_tomb >= 0)
        return q->use_tomb != 0;
    const sval *sy = item_get(it, "sync");
    sval zero = sval_int(0);
    return sy != NULL && !sec_dp_equal(K_SYNC, sy, &zero) && !is_tombstone(it);
}

/* DbItem SecDbItemCopyTombstone: the primary key, `tomb` = 1, the
 * protection, the creation date and the authenticated attributes (agrp,
 * sync, vwht, tkid, musr, ggrp); a modification date younger than the
 * item's; no secret and nothing else.  The rowid is the caller's to set. */
static sitem *make_tombstone(const sitem *it)
{
    static const char *const kept[] = { "pdmn", "cdat", "agrp", "sync", "vwht", "tkid", "musr", "ggrp" };
    sitem *t = item_new(it->impl, it->cls);
    for (size_t i = 0; i < it->nattrs; i++) {
        const sec_attrdef *def = sec_attr_lookup(it->attrs[i].key, 4);
        bool keep = def != NULL && (def->dp_primary & CB(it->cls)) != 0;
        for (size_t k = 0; !keep && k < sizeof kept / sizeof kept[0]; k++)
            keep = strcmp(it->attrs[i].key, kept[k]) == 0;
        if (keep)
            item_set(t, it->attrs[i].key, sval_copy(&it->attrs[i].v));
    }
    item_set(t, "tomb", sval_int(1));
    double m = now();
    const sval *old = item_get(it, "mdat");
    if (old != NULL && old->tag == SV_DATE && !(m > old->d))
        m = old->d + 0.001;                              /* SecDbItemMakeAttrYounger */
    item_set(t, "mdat", sval_date(m));
    return t;
}

static bool valid_protection(const sval *p)
{
    return p->tag == SV_STR && p->n <= 4 && sec_protection_constant((const char *)p->p, p->n) != NULL;
}

/* Accessibility / access-control consistency (4.11, 5.14). */
static OSStatus dp_check_access(sitem *it)
{
    const sval *ac = item_get(it, "accc");
    const sval *pd = item_get(it, "pdmn");
    if (ac != NULL) {
        if (pd != NULL && !sval_bytes_equal(pd, ac))
            return errSecParam;                          /* conflicting kSecAccess and kSecAccessControl */
        if (pd == NULL)
            item_set(it, "pdmn", sval_str((const char *)ac->p, ac->n));
        const sval *sy = item_get(it, "sync");
        sval zero = sval_int(0);
        if (ac->i != 0 && sy != NULL && !sec_dp_equal(K_SYNC, sy, &zero))
            return errSecParam;                          /* item with kSecAttrAccessControl is not synchronizable */
    }
    pd = item_get(it, "pdmn");
    if (pd != NULL && !valid_protection(pd))
        return errSecParam;
    return errSecSuccess;
}

static const char *first_writable_group(void)
{
    for (size_t i = 0; i < g_sec.ngroups; i++) {
        const char *g = g_sec.groups[i];
        if (sec_group_held((const uint8_t *)g, strlen(g), true))
            return g;
    }
    return NULL;
}

/* Copy attributes and secret of the item a kSecValueRef names. */
static OSStatus seed_from_ref(const pquery *pq, sitem *it)
{
    if (pq->ref.rowid == 0)
        return sec_object_seed(pq->ref.obj, it);         /* a new SecKey / SecCertificate (sec_key.c) */
    sitem *src = sec_kc_find(pq->ref.impl, pq->ref.rowid);
    if (src == NULL)
        return errSecInvalidItemRef;
    if (src->data != NULL)
        set_secret(it, src->data, src->dlen);
    for (size_t i = 0; i < src->nattrs; i++) {
        const sec_attrdef *def = sec_attr_lookup(src->attrs[i].key, 4);
        if (def == NULL)
            continue;
        bool keep = it->impl == IMPL_DP ? (def->dp_classes & CB(it->cls)) && def->dp_kind != K_SYNC &&
                                              strcmp(def->name, "agrp") != 0
                                        : (def->fb_classes & CB(it->cls)) != 0;
        if (keep && src->impl == it->impl)
            item_set(it, src->attrs[i].key, sval_copy(&src->attrs[i].v));
    }
    return errSecSuccess;
}

/* Set every attribute of a parsed query on an item. */
static void set_attrs(sitem *it, const pquery *pq)
{
    for (size_t i = 0; i < pq->nattrs; i++)
        item_set(it, pq->attrs[i].def->name, sval_copy(&pq->attrs[i].v));
}

/* A new item for an add: seeded from kSecValueRef, then the query's
 * attributes. */
static OSStatus item_from_query(const pquery *pq, int impl, sitem **out)
{
    sitem *it = item_new(impl, pq->cls);
    if (pq->has_ref) {
        OSStatus st = seed_from_ref(pq, it);
        if (st) {
            item_free(it);
            return st;
        }
    }
    set_attrs(it, pq);
    *out = it;
    return errSecSuccess;
}

static OSStatus dp_add(const qdict *q, CFTypeRef *out)
{
    OSStatus st = dp_client_checks(q, OP_ADD, true);
    if (st)
        return st;
    if (groups_empty(true))
        return errSecMissingEntitlement;                 /* 12.1 */
    pquery pq;
    st = dp_parse(q, OP_ADD, &pq);
    if (st)
        goto done;
    if (pq.has_pref || pq.has_itemlist) {
        st = errSecParam;                                /* 4.11 */
        goto done;
    }
    if (pq.v_data != NULL && !secsim_is(pq.v_data, SECSIM_TYPE_DATA)) {
        st = errSecParam;                                /* 4.11, 5.10 */
        goto done;
    }
    if (pq.agrp != NULL && !sec_group_held(pq.agrp->p, pq.agrp->n, true)) {
        st = errSecMissingEntitlement;                   /* 4.11, 12.5 */
        goto done;
    }
    if (pq.any_match_key) {
        /* 4.10: s3dl_query_add returns the non-zero errSecItemMatchUnsupported
         * from a bool function: success is reported, nothing is stored. */
        st = errSecSuccess;
        goto done;
    }
    sitem *it;
    st = item_from_query(&pq, IMPL_DP, &it);
    if (st)
        goto done;
    if (pq.v_data != NULL)
        set_secret(it, CFDataGetBytePtr(pq.v_data), (size_t)CFDataGetLength(pq.v_data));
    /* 8.3 access group */
    if (item_get(it, "agrp") == NULL) {
        const char *g = first_writable_group();
        item_set(it, "agrp", sval_str(g, strlen(g)));
    }
    /* 8.2 protection */
    st = dp_check_access(it);
    if (st) {
        item_free(it);
        goto done;
    }
    if (item_get(it, "pdmn") == NULL) {
        const sval *g = item_get(it, "agrp");
        const char *prot = it->cls == CLS_CERT ? "dk"
                         : (g->n == 14 && memcmp(g->p, "com.apple.apsd", 14) == 0) ? "dku" : "ak";
        item_set(it, "pdmn", sval_str(prot, strlen(prot)));
    }
    /* 8.4 / 4.6 defaults */
    if (item_get(it, "sync") == NULL)
        item_set(it, "sync", sval_int(0));
    if (item_get(it, "tomb") == NULL)
        item_set(it, "tomb", sval_int(0));               /* an add with tomb = true stores a tombstone */
    if (item_get(it, "musr") == NULL)
        item_set(it, "musr", sval_data("", 0));
    for (size_t i = 0; i < sec_attr_count(); i++) {
        const sec_attrdef *def = sec_attr_at(i);
        if (!(def->dp_primary & CB(pq.cls)) || item_get(it, def->name) != NULL)
            continue;
        if (def->dp_default == DEF_EMPTY)
            item_set(it, def->name, def->dp_kind == K_DATA ? sval_data("", 0) : sval_str("", 0));
        else if (def->dp_default == DEF_ZERO)
            item_set(it, def->name, def->dp_kind == K_DATE ? sval_date(0.0) : sval_int(0));
    }
    /* 8.1 dates: always now, overwriting the caller's */
    double t = now();
    item_set(it, "cdat", sval_date(t));
    item_set(it, "mdat", sval_date(t));
    /* 13.4: encrypting the secret needs the class key */
    if (g_sec.locked && needs_unlock(it)) {
        item_free(it);
        st = errSecInteractionNotAllowed;
        goto done;
    }
    sitem *dup = kc_same_key(it, NULL);
    if (dup != NULL && !is_tombstone(dup)) {
        item_free(it);
        st = errSecDuplicateItem;                        /* 4.3 */
        goto done;
    }
    if (dup != NULL)
        remove_items(&dup, 1);                           /* DbItem SecDbItemInsert: a tombstone is replaced */
    sec_kc_append(it);
    g_modified = true;
    if (rcount(&pq.ret) > 0)
        *out = shape_one(it, &pq.ret);                   /* 4.1 */
done:
    pq_free(&pq);
    return st;
}

/* Items of the DP keychain matching a parsed query, in rowid order. */
static size_t dp_collect(const pquery *pq, bool writable, sitem ***out)
{
    /* Identities are a join of certificates and keys (sec_cert.c), read-only. */
    sitem **pool = g_kc.items;
    size_t total = g_kc.n;
    if (pq->cls == CLS_IDNT)
        total = writable ? 0 : sec_identity_view(&pool);
    sitem **v = sec_xmalloc((total ? total : 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < total; i++) {
        sitem *it = pool[i];
        if (dp_visible(it, writable) && dp_matches(it, pq))
            v[n++] = it;
    }
    *out = v;
    return n;
}

static OSStatus dp_copy(const qdict *q, CFTypeRef *out)
{
    OSStatus st = dp_client_checks(q, OP_COPY, false);
    if (st)
        return st;
    if (groups_empty(false))
        return errSecMissingEntitlement;                 /* 12.1 */
    pquery pq;
    sitem **found = NULL;
    st = dp_parse(q, OP_COPY, &pq);
    if (st)
        goto done;
    if (pq.has_itemlist) {
        st = errSecParam;
        goto done;
    }
    if (pq.has_policy && pq.cls != CLS_CERT && pq.cls != CLS_IDNT) {
        st = errSecUnimplemented;                        /* section 3: m_Policy/m_Issuers */
        goto done;
    }
    if (pq.agrp != NULL && !group_held(pq.agrp->p, pq.agrp->n, false)) {
        st = errSecMissingEntitlement;                   /* 12.5 */
        goto done;
    }
    size_t n = dp_collect(&pq, false, &found);
    size_t kept = 0;
    authctx cx = { false, errSecSuccess };
    for (size_t i = 0; i < n; i++) {
        sitem *it = found[i];
        if (pq.ret.data) {
            if (g_sec.locked && needs_unlock(it)) {
                st = errSecInteractionNotAllowed;        /* 13.4 */
                goto done;
            }
            if (has_constraints(it)) {
                if (pq.authui == AUTH_SKIP)
                    continue;                            /* 13.1 Skip */
                st = ask_user(&cx, pq.authui);
                if (st)
                    goto done;
            }
        }
        found[kept++] = it;
        if (pq.limit > 0 && kept >= (size_t)pq.limit)
            break;
    }
    if (kept == 0) {
        st = errSecItemNotFound;                         /* 5.3 */
        goto done;
    }
    *out = shape_many(found, kept, &pq.ret, pq.limit == 1);
done:
    free(found);
    pq_free(&pq);
    return st;
}

/* Put `fresh` in the place of `old` in the keychain (freeing `old`); true
 * if `old` was there and the keychain now owns `fresh`. */
static bool kc_replace(const sitem *old, sitem *fresh)
{
    for (size_t k = 0; k < g_kc.n; k++) {
        if (g_kc.items[k] == old) {
            sec_kc_replace_at(k, fresh);
            return true;
        }
    }
    return false;
}

/* found[] sorted by item address, for membership tests. */
typedef struct foundpos {
    uintptr_t addr;
    size_t i;       /* index in found[] */
} foundpos;

static int cmp_foundpos(const void *a, const void *b)
{
    uintptr_t x = ((const foundpos *)a)->addr, y = ((const foundpos *)b)->addr;
    return x < y ? -1 : x > y;
}

/* Index i with found[i] == it, or n. */
static size_t find_found(const foundpos *sorted, size_t n, const sitem *it)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid].addr == (uintptr_t)it)
            return sorted[mid].i;
        if (sorted[mid].addr < (uintptr_t)it)
            lo = mid + 1;
        else
            hi = mid;
    }
    return n;
}

static OSStatus dp_update(const qdict *q, const qdict *u)
{
    OSStatus st = dp_client_checks(q, OP_UPDATE, false);
    if (st)
        return st;
    st = dp_client_checks(u, OP_UPDATE, true);
    if (st)
        return st;
    if (groups_empty(true))
        return errSecMissingEntitlement;                 /* 12.1 */
    pquery pq;
    pquery pu;
    memset(&pu, 0, sizeof pu);
    sitem **found = NULL, **fresh = NULL, **tombs = NULL, **doomed = NULL;
    size_t n = 0, ndoomed = 0;
    foundpos *sorted = NULL;
    skindex batch = { NULL, 0, 0 };                      /* the fresh items checked so far */
    CFTypeRef new_data = NULL;
    bool has_new_data = false;
    st = dp_parse(q, OP_UPDATE, &pq);
    if (st)
        goto done;
    if (pq.any_return_key || pq.any_match_key || pq.has_itemlist) {
        st = errSecParam;                                /* 5.3 (iOS path; the shim strips first) */
        goto done;
    }
    if (pq.agrp != NULL && !sec_group_held(pq.agrp->p, pq.agrp->n, true)) {
        st = errSecMissingEntitlement;                   /* 5.3, 12.5 */
        goto done;
    }
    /* 5.2: attributesToUpdate */
    for (size_t i = 0; i < u->n; i++) {
        const qent *e = &u->e[i];
        if (e->drop)
            continue;
        if (e->k == NULL) {
            st = errSecParam;
            goto done;
        }
        if (key_is(e, "musr") || key_is(e, "nleg"))
            continue;
        if (key_is(e, "v_Data")) {
            if (e->val == NULL || !secsim_is(e->val, SECSIM_TYPE_DATA)) {
                st = errSecParam;
                goto done;
            }
            new_data = e->val;
            has_new_data = true;
            continue;
        }
        if (key_is(e, "ggrp")) {
            st = errSecParam;
            goto done;
        }
        const sec_attrdef *def = sec_attr_lookup(e->k, e->klen);
        if (def == NULL || !(def->dp_classes & CB(pq.cls))) {
            st = errSecNoSuchAttr;
            goto done;
        }
        if (def->dp_kind == K_SYNC && str_is(e->val, "syna"))
            continue;                                    /* 7.2: the term is dropped */
        sval v;
        if (sec_dp_convert(def->dp_kind, e->val, &v) != errSecSuccess) {
            st = errSecParam;
            goto done;
        }
        pq_add(&pu, def, v);
    }
    const sval *new_agrp = pq_get(&pu, "agrp");
    if (new_agrp != NULL && !sec_group_held(new_agrp->p, new_agrp->n, true)) {
        st = errSecMissingEntitlement;
        goto done;
    }
    n = dp_collect(&pq, true, &found);
    if (n == 0) {
        st = errSecItemNotFound;                         /* 5.6 */
        goto done;
    }
    authctx cx = { false, errSecSuccess };
    fresh = sec_xmalloc(n * sizeof *fresh);
    memset(fresh, 0, n * sizeof *fresh);
    tombs = sec_xmalloc(n * sizeof *tombs);
    memset(tombs, 0, n * sizeof *tombs);
    doomed = sec_xmalloc(n * sizeof *doomed);
    double t = now();
    for (size_t i = 0; i < n; i++) {
        if (has_new_data) {
            if (g_sec.locked && needs_unlock(found[i])) {
                st = errSecInteractionNotAllowed;        /* 13.4: writing the secret */
                goto done;
            }
            if (has_constraints(found[i])) {
                st = ask_user(&cx, pq.authui);
                if (st)
                    goto done;
            }
        }
        sitem *c = item_clone(found[i]);
        fresh[i] = c;
        if (pu.nattrs > 0 && pq_get(&pu, "accc") != NULL && pq_get(&pu, "pdmn") == NULL)
            item_del(c, "pdmn");                         /* the new access control decides the protection */
        set_attrs(c, &pu);
        if (pq_get(&pu, "pdmn") != NULL && pq_get(&pu, "accc") == NULL)
            item_del(c, "accc");                         /* a new protection replaces the old access control */
        if (has_new_data)
            set_secret(c, CFDataGetBytePtr(new_data), (size_t)CFDataGetLength(new_data));
        item_set(c, "mdat", sval_date(t));               /* 5.4 */
        st = dp_check_access(c);
        if (st)
            goto done;
        if (g_sec.locked && needs_unlock(c) && has_new_data) {
            st = errSecInteractionNotAllowed;
            goto done;
        }
    }
    /* 5.5: all-or-nothing uniqueness check: no updated item may share its
     * primary key with an item not being updated, nor with another updated
     * item. */
    sorted = sec_xmalloc(n * sizeof *sorted);
    for (size_t i = 0; i < n; i++) {
        sorted[i].addr = (uintptr_t)found[i];
        sorted[i].i = i;
    }
    qsort(sorted, n, sizeof *sorted, cmp_foundpos);
    for (size_t i = 0; i < n; i++) {
        uint64_t h = sec_item_key_hash(fresh[i]);
        size_t cur = 0;
        sitem *other;
        while ((other = skindex_next(&g_kc.index, h, &cur)) != NULL) {
            if (find_found(sorted, n, other) == n && dp_same_primary(other, fresh[i])) {
                if (is_tombstone(other)) {
                    doomed[ndoomed++] = other;           /* DbItem SecDbItemUpdate: a colliding tombstone is replaced */
                    continue;
                }
                st = errSecDuplicateItem;
                goto done;
            }
        }
        cur = 0;
        while ((other = skindex_next(&batch, h, &cur)) != NULL) {
            if (dp_same_primary(other, fresh[i])) {      /* an earlier fresh[j] */
                st = errSecDuplicateItem;
                goto done;
            }
        }
        skindex_insert(&batch, h, fresh[i]);
    }
    /* DbItem SecDbItemUpdate: an item whose primary key changes leaves a
     * tombstone when s3dl_should_make_tombstone says so. */
    for (size_t i = 0; i < n; i++)
        if (!dp_same_primary(found[i], fresh[i]) && should_make_tombstone(&pq, found[i]))
            tombs[i] = make_tombstone(found[i]);
    /* one pass over the keychain: each found[i] -> fresh[i] */
    for (size_t k = 0; k < g_kc.n; k++) {
        size_t i = find_found(sorted, n, g_kc.items[k]);
        if (i < n && fresh[i] != NULL) {
            sec_kc_replace_at(k, fresh[i]);
            fresh[i] = NULL;
        }
    }
    remove_items(doomed, ndoomed);
    for (size_t i = 0; i < n; i++) {
        if (tombs[i] != NULL && kc_same_key(tombs[i], NULL) == NULL) {
            sec_kc_append(tombs[i]);                     /* a new row, as SecDbItemDoInsert */
            tombs[i] = NULL;
        }
    }
    g_modified = true;
done:
    skindex_free(&batch);
    free(sorted);
    if (fresh != NULL)
        for (size_t i = 0; i < n; i++)
            item_free(fresh[i]);
    free(fresh);
    if (tombs != NULL)
        for (size_t i = 0; i < n; i++)
            item_free(tombs[i]);
    free(tombs);
    free(doomed);
    free(found);
    pq_free(&pu);
    pq_free(&pq);
    return st;
}

static void remove_items(sitem **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < g_kc.n; k++) {
            if (g_kc.items[k] == v[i]) {
                sec_kc_remove_at(k);
                break;
            }
        }
    }
    if (n)
        g_modified = true;
}

static OSStatus dp_delete(const qdict *q)
{
    OSStatus st = dp_client_checks(q, OP_DELETE, false);
    if (st)
        return st;
    if (groups_empty(true))
        return errSecMissingEntitlement;                 /* 12.1 */
    pquery pq;
    sitem **found = NULL;
    st = dp_parse(q, OP_DELETE, &pq);
    if (st)
        goto done;
    if (pq.any_match_key || pq.has_itemlist || (pq.has_pref && pq.nattrs > 0)) {
        st = errSecParam;                                /* 2.4, 6.3 */
        goto done;
    }
    if (pq.agrp != NULL && !sec_group_held(pq.agrp->p, pq.agrp->n, true)) {
        st = errSecMissingEntitlement;                   /* 12.5 */
        goto done;
    }
    size_t n = dp_collect(&pq, true, &found);
    if (n == 0) {
        st = errSecItemNotFound;                         /* 6.2 */
        goto done;
    }
    /* 6.1: all matches.  ItemDb s3dl_query_delete / DbItem SecDbItemDelete:
     * an item for which s3dl_should_make_tombstone says so becomes a
     * tombstone in its own row; the others are removed. */
    size_t gone = 0;
    for (size_t i = 0; i < n; i++) {
        if (!should_make_tombstone(&pq, found[i])) {
            found[gone++] = found[i];
            continue;
        }
        sitem *t = make_tombstone(found[i]);
        t->rowid = found[i]->rowid;
        if (!kc_replace(found[i], t))
            item_free(t);
        g_modified = true;
    }
    remove_items(found, gone);
done:
    free(found);
    pq_free(&pq);
    return st;
}

/* ------------------------------------------------------------------ */
/* FB engine (the macOS shim's *_osx functions) */

static bool fb_truthy_return(CFTypeRef v)
{
    /* CFEqual(kCFBooleanTrue, v) with NSNumber bridging (field evidence). */
    if (v == NULL)
        return false;
    if (secsim_is(v, SECSIM_TYPE_BOOLEAN))
        return CFBooleanGetValue(v) != 0;
    if (secsim_is(v, SECSIM_TYPE_NUMBER)) {
        double d = 0;
        CFNumberGetValue(v, kCFNumberFloat64Type, &d);
        return d != 0;
    }
    return false;
}

static OSStatus fb_parse(const qdict *q, int op, pquery *pq)
{
    pq_init(pq, 1); /* 2.5: maxMatches defaults to one for every FB operation */
    if (!parse_refs(q, pq, pref_is_fb))
        return errSecParam;
    CFTypeRef cv = qd_get(q, "class");
    if (cv != NULL) {
        CFIndex n = 0;
        const char *s = secsim_is(cv, SECSIM_TYPE_STRING) ? secsim_string_utf8(cv, &n) : "";
        pq->cls = sec_class_from_name(s, (size_t)n);
        if (pq->cls < 0)
            return errSecParam;                          /* 11.2: FB maps it to class 0 */
    } else if (!class_from_refs(pq)) {
        return errSecParam;                              /* 11.1 */
    }
    for (size_t i = 0; i < q->n; i++) {
        const qent *e = &q->e[i];
        if (e->drop || e->k == NULL)
            continue;
        if (e->klen == 4) {
            const sec_attrdef *def = sec_attr_lookup(e->k, 4);
            if (def == NULL || !(def->fb_classes & CB(pq->cls)))
                continue;                                /* not an attribute of this FB class: ignored */
            sval v;
            if (sec_fb_convert(def->fb_kind, e->val, &v) != errSecSuccess)
                return errSecParam;
            pq_add(pq, def, v);
        } else if (key_is(e, "r_Data")) {
            pq->ret.data = fb_truthy_return(e->val);
        } else if (key_is(e, "r_Attributes")) {
            pq->ret.attrs = fb_truthy_return(e->val);
        } else if (key_is(e, "r_Ref")) {
            pq->ret.ref = fb_truthy_return(e->val);
        } else if (key_is(e, "r_PersistentRef")) {
            pq->ret.pref = fb_truthy_return(e->val);
        } else if (key_is(e, "m_Limit")) {
            if (secsim_is(e->val, SECSIM_TYPE_STRING)) {
                pq->limit_all_constant = str_is(e->val, "m_LimitAll");
                pq->limit = pq->limit_all_constant ? -1 : 1;   /* 2.6 */
            } else if (secsim_is(e->val, SECSIM_TYPE_NUMBER)) {
                int32_t n = 0;
                CFNumberGetValue(e->val, kCFNumberSInt32Type, &n);
                if (n < 0)
                    return errSecParam;
                pq->limit = n == 0 ? -1 : n;
            } else {
                return errSecParam;
            }
        } else if (key_is(e, "v_Data")) {
            pq->v_data = e->val;
        }
    }
    /* 5.3: no passwords as data when returning all matches */
    if (op != OP_ADD && pq->ret.data && pq->limit_all_constant && (pq->cls == CLS_GENP || pq->cls == CLS_INET))
        return errSecParam;
    return errSecSuccess;
}

static bool fb_matches(const sitem *it, const pquery *q)
{
    return it->impl == IMPL_FB && terms_match(it, q, IMPL_FB);
}

static sval fb_default(int kind)
{
    sval v = { 0 };
    switch (kind) {
    case F_NUM: v.tag = SV_INT; break;
    case F_BOOL: v.tag = SV_BOOL; break;
    case F_DATE: v.tag = SV_DATE; break;
    case F_DATA: v.tag = SV_DATA; break;
    default: v.tag = SV_STR; break;
    }
    return v;
}

/* Same unique index (4.8); missing values read as empty / 0. */
static bool fb_same_unique(const sitem *a, const sitem *b)
{
    if (a->impl != IMPL_FB || b->impl != IMPL_FB || a->cls != b->cls)
        return false;
    for (size_t i = 0; i < sec_attr_count(); i++) {
        const sec_attrdef *def = sec_attr_at(i);
        if (!(def->fb_unique & CB(a->cls)))
            continue;
        sval dx = fb_default(def->fb_kind), dy = fb_default(def->fb_kind);
        const sval *x = item_get(a, def->name), *y = item_get(b, def->name);
        if (!sec_fb_equal(def->fb_kind, x ? x : &dx, y ? y : &dy))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* uniqueness-key hash (the index of g_kc; sec_private.h)
 *
 * Must give equal hashes to every pair of values the comparisons above call
 * equal (dp_same_primary: sec_dp_equal, a missing value equal only to a
 * missing value; fb_same_unique: sec_fb_equal, a missing value read as
 * fb_default).  Unequal values may collide: every hit is confirmed with
 * the comparison itself. */

static uint64_t hmix(uint64_t h, uint64_t v)
{
    h ^= v + UINT64_C(0x9e3779b97f4a7c15) + (h << 6) + (h >> 2);
    return h;
}

static uint64_t hfinal(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

/* sval_bytes_equal: the canonical bytes (S-flag string/data equivalence,
 * numbers as 4 bytes, 5.4 #4.9). */
static uint64_t hash_bytes(const sval *v)
{
    uint8_t tmp[8] = { 0 };
    size_t n;
    const uint8_t *p = sval_bytes(v, tmp, &n);
    uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * UINT64_C(0x100000001b3);
    return hmix(h, n);
}

/* A double as == compares it (0.0 == -0.0). */
static uint64_t hash_double(double d)
{
    if (d == 0)
        d = 0.0;
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* num_equal: int/int exactly, int/double and double/double as doubles,
 * string/string bytes; nothing else is ever equal. */
static uint64_t hash_num(const sval *v)
{
    switch (v->tag) {
    case SV_INT:
        return hmix(1, hash_double((double)v->i));
    case SV_DBL:
        return hmix(1, hash_double(v->d));
    case SV_STR:
        return hmix(2, hash_bytes(v));
    default:
        return 3;
    }
}

static uint64_t hash_date(const sval *v)
{
    return v->tag == SV_DATE ? hmix(4, hash_double(v->d)) : 5;
}

static uint64_t hash_dp_value(int kind, const sval *v)
{
    switch (kind) {
    case K_NUM:
    case K_SYNC:
    case K_TOMB:
        return hash_num(v);
    case K_DATE:
        return hash_date(v);
    case K_ACCC:
        return v->tag == SV_ACCC ? hmix((uint64_t)v->i, hash_bytes(v)) : 6;
    default:
        return hash_bytes(v);
    }
}

static uint64_t hash_fb_value(int kind, const sval *v)
{
    switch (kind) {
    case F_NUM:
        return hash_num(v);
    case F_BOOL:
        return v->i != 0;
    case F_DATE:
        return hash_date(v);
    default:
        return hash_bytes(v);
    }
}

uint64_t sec_item_key_hash(const sitem *it)
{
    uint64_t h = hmix(it->impl, it->cls);
    for (size_t i = 0; i < sec_attr_count(); i++) {
        const sec_attrdef *def = sec_attr_at(i);
        if (it->impl == IMPL_DP) {
            if (!(def->dp_primary & CB(it->cls)))
                continue;
            const sval *x = item_get(it, def->name);
            h = hmix(h, x ? hash_dp_value(def->dp_kind, x) : UINT64_C(0x6d697373696e6721)); /* missing */
        } else {
            if (!(def->fb_unique & CB(it->cls)))
                continue;
            sval dx = fb_default(def->fb_kind);
            const sval *x = item_get(it, def->name);
            h = hmix(h, hash_fb_value(def->fb_kind, x ? x : &dx));
        }
    }
    return hfinal(h);
}

/* An item of g_kc with the same uniqueness key as `it` (the engine's
 * comparison), other than `except`; NULL if none. */
static sitem *kc_same_key(const sitem *it, const sitem *except)
{
    uint64_t h = sec_item_key_hash(it);
    size_t cur = 0;
    sitem *c;
    while ((c = skindex_next(&g_kc.index, h, &cur)) != NULL) {
        if (c == except)
            continue;
        if (it->impl == IMPL_DP ? dp_same_primary(c, it) : fb_same_unique(c, it))
            return c;
    }
    return NULL;
}

static OSStatus fb_secret(CFTypeRef v, const uint8_t **p, size_t *n)
{
    if (secsim_is(v, SECSIM_TYPE_DATA)) {
        *p = CFDataGetBytePtr(v);
        *n = (size_t)CFDataGetLength(v);
        return errSecSuccess;
    }
    if (secsim_is(v, SECSIM_TYPE_STRING)) {
        CFIndex len = 0;
        *p = (const uint8_t *)secsim_string_utf8(v, &len);   /* 4.12: UTF-8, no NUL */
        *n = (size_t)len;
        return errSecSuccess;
    }
    return errSecParam;
}

static OSStatus fb_add(const qdict *q, CFTypeRef *out, bool want_result)
{
    pquery pq;
    OSStatus st = fb_parse(q, OP_ADD, &pq);
    if (st)
        goto done;
    sitem *it;
    st = item_from_query(&pq, IMPL_FB, &it);
    if (st)
        goto done;
    if (pq.v_data != NULL) {
        const uint8_t *p;
        size_t n;
        if (fb_secret(pq.v_data, &p, &n) != errSecSuccess) {
            item_free(it);
            st = errSecParam;
            goto done;
        }
        set_secret(it, p, n);
    }
    double t = now();
    item_set(it, "cdat", sval_date(t));
    item_set(it, "mdat", sval_date(t));
    if ((st = sec_access_on_add(it, qd_get(q, "acls"))) != errSecSuccess) {
        item_free(it);                                   /* kSecAttrAccess: not a SecAccess */
        goto done;
    }
    if (kc_same_key(it, NULL) != NULL) {
        item_free(it);
        st = errSecDuplicateItem;                        /* 4.8 */
        goto done;
    }
    sec_kc_append(it);
    g_modified = true;
    if (want_result)
        *out = shape_one(it, &pq.ret);                   /* 4.2: no return key -> the item ref */
done:
    pq_free(&pq);
    return st;
}

static size_t fb_collect(const pquery *pq, sitem ***out)
{
    sitem **pool = g_kc.items;                           /* identities: the join (sec_cert.c) */
    size_t total = pq->cls == CLS_IDNT ? sec_identity_view(&pool) : g_kc.n;
    sitem **v = sec_xmalloc((total ? total : 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < total; i++) {
        if (fb_matches(pool[i], pq)) {
            v[n++] = pool[i];
            if (pq->limit > 0 && n >= (size_t)pq->limit)
                break;
        }
    }
    *out = v;
    return n;
}

static OSStatus fb_copy(const qdict *q, CFTypeRef *out)
{
    pquery pq;
    sitem **found = NULL;
    OSStatus st = fb_parse(q, OP_COPY, &pq);
    if (st)
        goto done;
    size_t n = fb_collect(&pq, &found);
    if (n == 0) {
        st = errSecItemNotFound;
        goto done;
    }
    for (size_t i = 0; pq.ret.data && i < n; i++) {
        /* the secret: access list and partition list (sec_access.c) */
        if ((st = sec_access_check_read(found[i], qd_get(q, "u_AuthUI"), qd_get(q, "u_NoAuthUI"))) != errSecSuccess)
            goto done;
    }
    *out = shape_many(found, n, &pq.ret, pq.limit == 1);
done:
    free(found);
    pq_free(&pq);
    return st;
}

static OSStatus fb_update(const qdict *q, const qdict *u)
{
    pquery pq, pu;
    memset(&pu, 0, sizeof pu);
    sitem **found = NULL;
    OSStatus st = fb_parse(q, OP_UPDATE, &pq);
    if (st)
        goto done;
    const uint8_t *dp = NULL;
    size_t dn = 0;
    bool has_data = false;
    for (size_t i = 0; i < u->n; i++) {
        const qent *e = &u->e[i];
        if (e->k == NULL)
            continue;
        if (key_is(e, "v_Data")) {
            if (fb_secret(e->val, &dp, &dn) != errSecSuccess) {
                st = errSecParam;
                goto done;
            }
            has_data = true;
            continue;
        }
        const sec_attrdef *def = sec_attr_lookup(e->k, e->klen);
        if (def == NULL || !(def->fb_classes & CB(pq.cls)))
            continue;                                    /* 5.14: other keys ignored on FB */
        sval v;
        if (sec_fb_convert(def->fb_kind, e->val, &v) != errSecSuccess) {
            st = errSecParam;
            goto done;
        }
        pq_add(&pu, def, v);
    }
    size_t n = fb_collect(&pq, &found);                  /* 2.5 / 5.7: default limit one */
    if (n == 0) {
        st = errSecItemNotFound;
        goto done;
    }
    double t = now();
    for (size_t i = 0; i < n; i++) {
        /* item by item; an error stops the loop, earlier items stay updated */
        sitem *c = item_clone(found[i]);
        set_attrs(c, &pu);
        if (has_data) {
            set_secret(c, dp, dn);
            sec_access_on_rewrite(c);                    /* partition list: the writer's */
        }
        item_set(c, "mdat", sval_date(t));
        if (kc_same_key(c, found[i]) != NULL) {
            item_free(c);
            st = errSecDuplicateItem;
            goto done;
        }
        kc_replace(found[i], c);
        g_modified = true;
    }
done:
    free(found);
    pq_free(&pu);
    pq_free(&pq);
    return st;
}

static OSStatus fb_delete(const qdict *q)
{
    pquery pq;
    sitem **found = NULL;
    OSStatus st = fb_parse(q, OP_DELETE, &pq);
    if (st)
        goto done;
    size_t n = fb_collect(&pq, &found);                  /* 2.5 / 6.1: first match only by default */
    if (n == 0) {
        st = errSecItemNotFound;                         /* 6.2 */
        goto done;
    }
    remove_items(found, n);
done:
    free(found);
    pq_free(&pq);
    return st;
}

/* ------------------------------------------------------------------ */
/* the macOS shim: routing (1.2), stripping (1.7), merging (1.5) */

static const char *const osx_only_keys[] = {
    "m_ItemList", "m_SearchList", "m_SubjectStartsWith", "m_SubjectEndsWith", "m_SubjectWholeString",
    "m_DiacriticInsensitive", "m_WidthInsensitive", "u_ItemList", "u_Keychain", "acls", "prf", "salt",
    "rounds",
};

static int route(const qdict *q)
{
    qent *nl = qd_find(q, "nleg");
    bool spi_dp = qd_find(q, "ggrp") != NULL || sec_truthy(qd_get(q, "u_SystemKeychainAlways"));
    if (nl != NULL) {
        if (sec_truthy(nl->val))
            return T_DP;
        return spi_dp ? 0 : T_FB;                        /* explicit false + SPI keys -> errSecParam */
    }
    int t = T_FB | T_DP;
    if (spi_dp)
        t &= ~T_FB;
    if (sec_truthy(qd_get(q, "sync")))
        t &= ~T_FB;
    if (qd_find(q, "tkid") != NULL || qd_find(q, "accc") != NULL)
        t &= ~T_FB;
    if (str_is(qd_get(q, "agrp"), "com.apple.token"))
        t &= ~T_FB;
    if (sec_object_dp_only(qd_get(q, "v_Ref")))
        t &= ~T_FB;                                      /* seckey-facts 4.3 #11: a modern SecKey */
    CFTypeRef pr = qd_get(q, "v_PersistentRef");
    if (pr != NULL)
        t &= pref_is_dp(pr, NULL, NULL) ? ~T_FB : ~T_DP;
    for (size_t i = 0; i < q->n; i++)
        if (in_list(&q->e[i], osx_only_keys, sizeof osx_only_keys / sizeof osx_only_keys[0]))
            t &= ~T_DP;
    if (qd_find(q, "class") == NULL && pr == NULL && qd_find(q, "v_Ref") == NULL)
        t &= ~T_DP;
    return t;
}

/* What the shim removes before forwarding to the DP keychain (1.7). */
static void strip_for_dp(qdict *q, int op)
{
    bool pref = qd_find(q, "v_PersistentRef") != NULL;
    for (size_t i = 0; i < q->n; i++) {
        qent *e = &q->e[i];
        if (key_is(e, "u_Keychain") || key_is(e, "m_SearchList") || key_is(e, "acls"))
            e->drop = true;
        if (pref && key_is(e, "sync"))
            e->drop = true;
        if ((op == OP_UPDATE || op == OP_DELETE) && (key_prefix(e, "m_") || key_prefix(e, "r_")))
            e->drop = true;
        if (op == OP_ADD && key_prefix(e, "m_"))
            e->drop = true;
    }
}

static bool is_array(CFTypeRef v)
{
    return v != NULL && secsim_is(v, SECSIM_TYPE_ARRAY);
}

static OSStatus merge(OSStatus fb, CFTypeRef fbres, OSStatus dp, CFTypeRef dpres, CFTypeRef *out)
{
    if (dp != errSecSuccess) {
        /* -34018 from DP is ignored entirely; any other DP failure also
         * yields the FB answer (1.5). */
        if (dpres)
            CFRelease(dpres);
        *out = fbres;
        return fb;
    }
    if (fb != errSecSuccess) {
        if (fbres)
            CFRelease(fbres);
        *out = dpres;
        return errSecSuccess;
    }
    if (is_array(fbres) && is_array(dpres)) {
        CFMutableArrayRef a = new_array();
        for (CFIndex i = 0; i < CFArrayGetCount(dpres); i++)
            CFArrayAppendValue(a, CFArrayGetValueAtIndex(dpres, i));
        for (CFIndex i = 0; i < CFArrayGetCount(fbres); i++)
            CFArrayAppendValue(a, CFArrayGetValueAtIndex(fbres, i));
        CFRelease(fbres);
        CFRelease(dpres);
        *out = a;
        return errSecSuccess;
    }
    if (dpres != NULL) {
        if (fbres)
            CFRelease(fbres);
        *out = dpres;
    } else {
        *out = fbres;
    }
    return errSecSuccess;
}

/* SecItemUpdate (u: the attributes to update) or SecItemDelete on the
 * macos profile: route (1.2), run the engines the query reaches, merge the
 * statuses (1.5). */
static OSStatus shim_modify(int op, const qdict *q, const qdict *u)
{
    int t = route(q);
    if (t == 0)
        return errSecParam;
    if (t == T_FB)
        return op == OP_UPDATE ? fb_update(q, u) : fb_delete(q);
    OSStatus fbst = errSecItemNotFound;
    if (t & T_FB)
        fbst = op == OP_UPDATE ? fb_update(q, u) : fb_delete(q);
    qdict d;
    qd_clone(q, &d);
    strip_for_dp(&d, op);
    OSStatus dpst = op == OP_UPDATE ? dp_update(&d, u) : dp_delete(&d);
    qd_free(&d);
    CFTypeRef none = NULL;
    return t == T_DP ? dpst : merge(fbst, NULL, dpst, NULL, &none);
}

/* ------------------------------------------------------------------ */
/* entry points */

/* Hand a result object to the caller on success, else release it. */
static void hand_back(OSStatus st, CFTypeRef obj, CFTypeRef *result)
{
    if (st == errSecSuccess && obj != NULL && result != NULL)
        *result = obj;
    else if (obj != NULL)
        CFRelease(obj);
}

static bool enter(const char *fn, CFTypeRef dict, CFTypeRef dict2, OSStatus *st)
{
    secsim_check(dict, SECSIM_TYPE_DICTIONARY, fn);
    if (dict2 != NULL || strcmp(fn, "SecItemUpdate") == 0)
        secsim_check(dict2, SECSIM_TYPE_DICTIONARY, fn);
    sec_lock();
    if (sec_take_fault(fn, st)) {
        sec_unlock();
        return false;
    }
    *st = sec_store_begin();
    if (*st != errSecSuccess) {
        sec_unlock();
        return false;
    }
    g_modified = false;
    return true;
}

/* End the call: write the store if it changed.  A failed write rolls the
 * keychain back and turns the call's status into errSecIO (issue #11,
 * item 4: never report success for a change that was not saved). */
static OSStatus leave(OSStatus st)
{
    sec_identity_view_free();
    OSStatus wst = sec_store_end(g_modified);
    g_modified = false;
    sec_unlock();
    return wst != errSecSuccess ? wst : st;
}

/* The same bracket for the other APIs of the same keychain (sec_legacy.c):
 * the lock and the store transaction, without SecItem fault injection. */
bool sec_api_enter(OSStatus *st)
{
    sec_lock();
    *st = sec_store_begin();
    if (*st != errSecSuccess) {
        sec_unlock();
        return false;
    }
    g_modified = false;
    return true;
}

OSStatus sec_api_leave(OSStatus st, bool modified)
{
    g_modified = modified;
    return leave(st);
}

sitem *sec_kc_same_key(const sitem *it, const sitem *except)
{
    return kc_same_key(it, except);
}

SECSIM_EXPORT OSStatus SecItemAdd(CFDictionaryRef attributes, CFTypeRef *result)
{
    sec_delay_gate("SecItemAdd"); /* secsim_set_delay: a hung securityd */
    OSStatus st;
    if (sec_identity_explode(0, attributes, result, &st))
        return st;                                       /* a SecIdentity: its certificate and key */
    if (!enter("SecItemAdd", attributes, NULL, &st))
        return st;
    qdict q;
    qd_load(attributes, &q);
    CFTypeRef obj = NULL;
    if (g_sec.profile == PROFILE_IOS) {
        st = dp_add(&q, &obj);
    } else {
        if (result != NULL)
            *result = NULL;                              /* the shim clears *result first */
        int t = route(&q);
        if (t == 0) {
            st = errSecParam;
        } else if (t & T_FB) {
            st = fb_add(&q, &obj, result != NULL);       /* 1.4: prefer the file-based keychain */
        } else {
            strip_for_dp(&q, OP_ADD);
            st = dp_add(&q, &obj);
        }
    }
    qd_free(&q);
    st = leave(st);
    hand_back(st, obj, result);
    return st;
}

SECSIM_EXPORT OSStatus SecItemCopyMatching(CFDictionaryRef query, CFTypeRef *result)
{
    sec_delay_gate("SecItemCopyMatching"); /* secsim_set_delay: a hung securityd */
    OSStatus st;
    if (!enter("SecItemCopyMatching", query, NULL, &st))
        return st;
    qdict q;
    qd_load(query, &q);
    CFTypeRef obj = NULL;
    if (g_sec.profile == PROFILE_IOS) {
        st = dp_copy(&q, &obj);
    } else {
        if (result != NULL)
            *result = NULL;
        int t = route(&q);
        if (t == 0) {
            st = errSecParam;
        } else if (t == T_FB) {
            st = fb_copy(&q, &obj);
        } else {
            CFTypeRef fbres = NULL, dpres = NULL;
            OSStatus fbst = errSecItemNotFound;
            if (t & T_FB)
                fbst = fb_copy(&q, &fbres);
            qdict d;
            qd_clone(&q, &d);
            strip_for_dp(&d, OP_COPY);
            OSStatus dpst = dp_copy(&d, &dpres);
            qd_free(&d);
            if (t == T_DP) {
                st = dpst;
                obj = dpres;
            } else {
                st = merge(fbst, fbres, dpst, dpres, &obj);
            }
        }
    }
    qd_free(&q);
    st = leave(st);
    hand_back(st, obj, result);
    return st;
}

SECSIM_EXPORT OSStatus SecItemUpdate(CFDictionaryRef query, CFDictionaryRef attributesToUpdate)
{
    sec_delay_gate("SecItemUpdate"); /* secsim_set_delay: a hung securityd */
    OSStatus st;
    if (sec_identity_explode(2, query, NULL, &st))
        return st;
    if (!enter("SecItemUpdate", query, attributesToUpdate, &st))
        return st;
    qdict q, u;
    qd_load(query, &q);
    qd_load(attributesToUpdate, &u);
    if (g_sec.profile == PROFILE_IOS)
        st = dp_update(&q, &u);
    else
        st = shim_modify(OP_UPDATE, &q, &u);
    qd_free(&u);
    qd_free(&q);
    st = leave(st);
    return st;
}

SECSIM_EXPORT OSStatus SecItemDelete(CFDictionaryRef query)
{
    sec_delay_gate("SecItemDelete"); /* secsim_set_delay: a hung securityd */
    OSStatus st;
    if (sec_identity_explode(3, query, NULL, &st))
        return st;                                       /* SecItem.m explode_identity */
    if (!enter("SecItemDelete", query, NULL, &st))
        return st;
    qdict q;
    qd_load(query, &q);
    if (g_sec.profile == PROFILE_IOS)
        st = dp_delete(&q);
    else
        st = shim_modify(OP_DELETE, &q, NULL);
    qd_free(&q);
    st = leave(st);
    return st;
}
