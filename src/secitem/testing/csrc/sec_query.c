/*
 * sec_query.c - the caller's dictionary and what the engines parse from it:
 * key interning (attribute/key names -> immortal constant CFStrings), the
 * dictionary as a list of entries, persistent references, securityd's
 * query parser (DP) and the macOS shim's (FB), the match of a parsed query
 * against an item, and a new item built from a query.  Rule numbers refer
 * to secitem-facts.md section 5.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sec_engine.h"

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
 * once.  A value listed twice in constants.def resolves to its first entry. */
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

CFStringRef key_const(const char *value, size_t n)
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
void dict_put(CFMutableDictionaryRef d, const char *key, CFTypeRef value)
{
    CFStringRef k = key_string(key);
    CFDictionarySetValue(d, k, value);
    CFRelease(k);
    CFRelease(value);
}

CFMutableDictionaryRef new_dict(void)
{
    return CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
}

CFMutableArrayRef new_array(void)
{
    return CFArrayCreateMutable(NULL, 0, &kCFTypeArrayCallBacks);
}
/* ------------------------------------------------------------------ */
/* the caller's dictionary as a list of entries */

void qd_load(CFDictionaryRef d, qdict *q)
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

void qd_clone(const qdict *src, qdict *dst)
{
    dst->n = src->n;
    dst->e = sec_xmalloc((src->n ? src->n : 1) * sizeof *dst->e);
    if (src->n)
        memcpy(dst->e, src->e, src->n * sizeof *dst->e);
}

void qd_free(qdict *q)
{
    free(q->e);
    q->e = NULL;
    q->n = 0;
}

bool key_is(const qent *e, const char *name)
{
    size_t n = strlen(name);
    return e->k != NULL && e->klen == n && memcmp(e->k, name, n) == 0;
}

bool key_prefix(const qent *e, const char *prefix)
{
    size_t n = strlen(prefix);
    return e->k != NULL && e->klen >= n && memcmp(e->k, prefix, n) == 0;
}

qent *qd_find(const qdict *q, const char *name)
{
    for (size_t i = 0; i < q->n; i++)
        if (!q->e[i].drop && key_is(&q->e[i], name))
            return &q->e[i];
    return NULL;
}

CFTypeRef qd_get(const qdict *q, const char *name)
{
    qent *e = qd_find(q, name);
    return e ? e->val : NULL;
}

bool str_is(CFTypeRef v, const char *s)
{
    if (v == NULL || !secsim_is(v, SECSIM_TYPE_STRING))
        return false;
    CFIndex n = 0;
    const char *p = secsim_string_utf8(v, &n);
    return (size_t)n == strlen(s) && memcmp(p, s, (size_t)n) == 0;
}
/* ------------------------------------------------------------------ */
/* persistent references (5.3) */

CFDataRef pref_create(const sitem *it)
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
bool pref_is_dp(CFTypeRef v, int *cls, int64_t *rowid)
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

bool pref_is_fb(CFTypeRef v, int *cls, int64_t *rowid)
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
/* new items */

/* Store a secret; an empty one is still a secret: data != NULL tells an
 * item that has data (possibly empty) from one that has none (ItemDb
 * handle_result, 5.3). */
void set_secret(sitem *it, const void *p, size_t n)
{
    item_set_data(it, p, n);
    if (it->data == NULL)
        it->data = sec_memdup("", 0);
}
/* ------------------------------------------------------------------ */
/* parsed queries (shared by both engines) */

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

void pq_free(pquery *q)
{
    for (size_t i = 0; i < q->nattrs; i++)
        sval_free(&q->attrs[i].v);
    free(q->attrs);
    memset(q, 0, sizeof *q);
}

void pq_add(pquery *q, const sec_attrdef *def, sval v)
{
    q->attrs = sec_xrealloc(q->attrs, (q->nattrs + 1) * sizeof *q->attrs);
    q->attrs[q->nattrs].def = def;
    q->attrs[q->nattrs].v = v;
    q->nattrs++;
}

const sval *pq_get(const pquery *q, const char *name)
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

bool in_list(const qent *e, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (key_is(e, list[i]))
            return true;
    return false;
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

/* securityd's query parser (DbQuery query_applier and friends), in named
 * steps: the class, then each entry by the kind of its key. */
/* The class: kSecClass, else the one a reference names (11.1 without a
 * class, 11.2 an unknown class). */
static OSStatus dp_parse_class(const qdict *q, pquery *pq)
{
    /* references first: they may supply the class */
    if (!parse_refs(q, pq, pref_is_dp))
        return errSecParam;
    CFTypeRef cv = qd_get(q, "class");
    if (cv == NULL)
        return class_from_refs(pq) ? errSecSuccess : errSecParam;  /* 11.1 */
    if (!secsim_is(cv, SECSIM_TYPE_STRING))
        return errSecParam;
    CFIndex n = 0;
    const char *s = secsim_string_utf8(cv, &n);
    pq->cls = sec_class_from_name(s, (size_t)n);
    return pq->cls < 0 ? errSecNoSuchClass : errSecSuccess;      /* 11.2 */
}

/* A key of length 4 (CFStringGetLength: UTF-16 units, not bytes): a column
 * of the class's table. */
static OSStatus dp_parse_attr(const qent *e, pquery *pq)
{
    if (key_is(e, "nleg"))
        return errSecSuccess;                            /* ignored by SecDbAttrWithKey */
    const sec_attrdef *def = sec_attr_lookup(e->k, e->klen);
    if (def == NULL || !(def->dp_classes & CB(pq->cls)))
        return errSecNoSuchAttr;                         /* section 2 key-naming note */
    if (def->dp_kind == K_SYNC && str_is(e->val, "syna")) {
        /* 7.2, kSecAttrSynchronizableAny: marks the query sync-aware and
         * drops the term (on an add, too: the item then gets sync = 0). */
        pq->sync_any = true;
        return errSecSuccess;
    }
    sval v;
    if (sec_dp_convert(def->dp_kind, e->val, &v) != errSecSuccess)
        return errSecParam;                              /* 5.10, value conversion */
    if (def->dp_kind == K_SYNC)
        pq->has_sync = true;
    if (def->dp_kind == K_TOMB)
        pq->has_tomb = true;
    pq_add(pq, def, v);
    return errSecSuccess;
}

/* m_* keys. */
static OSStatus dp_parse_match(const qent *e, pquery *pq)
{
    pq->any_match_key = true;
    if (key_is(e, "m_Limit"))
        return dp_limit(e->val, &pq->limit);             /* 2.6, the match limit */
    if (key_is(e, "m_Policy") || key_is(e, "m_Issuers")) {
        pq->has_policy = true;
        return errSecSuccess;
    }
    return in_list(e, dp_match_keys_ok, sizeof dp_match_keys_ok / sizeof dp_match_keys_ok[0]) ? errSecSuccess
                                                                                               : errSecParam;
}

/* r_* keys: CFBoolean only (5.10). */
static OSStatus dp_parse_return(const qent *e, pquery *pq)
{
    pq->any_return_key = true;
    if (e->val == NULL || !secsim_is(e->val, SECSIM_TYPE_BOOLEAN))
        return errSecParam;
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
    return errSecSuccess;
}

/* kSecUseAuthenticationUI (13.1, the user-interaction choice). */
static OSStatus dp_parse_authui(CFTypeRef v, pquery *pq)
{
    if (str_is(v, "u_AuthUIA"))
        pq->authui = AUTH_ALLOW;
    else if (str_is(v, "u_AuthUIF"))
        pq->authui = pq->authui == AUTH_SKIP ? AUTH_SKIP : AUTH_FAIL;
    else if (str_is(v, "u_AuthUIS"))
        pq->authui = AUTH_SKIP;
    else
        return errSecParam;
    return errSecSuccess;
}

/* u_* keys. */
static OSStatus dp_parse_use(const qent *e, pquery *pq)
{
    if (key_is(e, "u_AuthUI"))
        return dp_parse_authui(e->val, pq);
    if (key_is(e, "u_NoAuthUI")) {
        if (sec_truthy(e->val) && pq->authui == AUTH_ALLOW)
            pq->authui = AUTH_FAIL;
    } else if (key_is(e, "u_ItemList")) {
        pq->has_itemlist = true;
    } else if (key_is(e, "u_Tomb")) {
        return parse_use_tomb(e->val, &pq->use_tomb) != errSecSuccess ? errSecParam : errSecSuccess;
    } else if (!in_list(e, dp_use_keys_ok, sizeof dp_use_keys_ok / sizeof dp_use_keys_ok[0])) {
        return errSecParam;
    }
    return errSecSuccess;
}

/* v_* keys. */
static OSStatus dp_parse_value(const qent *e, pquery *pq)
{
    if (key_is(e, "v_Data")) {
        /* 5.10: query_set_data takes CFData only, in every call */
        if (e->val == NULL || !secsim_is(e->val, SECSIM_TYPE_DATA))
            return errSecParam;
        pq->v_data = e->val;
        return errSecSuccess;
    }
    return key_is(e, "v_Ref") || key_is(e, "v_PersistentRef") ? errSecSuccess : errSecParam;
}

/* One entry of the dictionary, by the kind of its key. */
static OSStatus dp_parse_entry(const qent *e, pquery *pq)
{
    if (e->k == NULL) {
        /* numeric keys are attributes (none is a column); others malformed */
        return e->key != NULL && secsim_is(e->key, SECSIM_TYPE_NUMBER) ? errSecNoSuchAttr : errSecParam;
    }
    if (e->ulen == 4)
        return dp_parse_attr(e, pq);
    switch (e->k[0]) {
    case 'c':
        return key_is(e, "class") ? errSecSuccess : errSecParam;
    case 'm':
        return dp_parse_match(e, pq);
    case 'r':
        return dp_parse_return(e, pq);
    case 'u':
        return dp_parse_use(e, pq);
    case 'v':
        return dp_parse_value(e, pq);
    case 'f':
        return errSecSuccess;                            /* callbacks: ignored */
    default:
        return errSecParam;
    }
}

OSStatus dp_parse(const qdict *q, sec_op op, pquery *pq)
{
    pq_init(pq, op == OP_COPY ? 1 : -1);                 /* 2.2, the default match limit */
    OSStatus st = dp_parse_class(q, pq);
    if (st)
        return st;
    for (size_t i = 0; i < q->n; i++) {
        if (q->e[i].drop)
            continue;
        st = dp_parse_entry(&q->e[i], pq);
        if (st)
            return st;
    }
    pq->agrp = pq_get(pq, "agrp");
    return errSecSuccess;
}

/* ------------------------------------------------------------------ */
/* the shim's parser (FB) */

bool fb_truthy_return(CFTypeRef v)
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

/* kSecMatchLimit as the shim reads it (2.6, the match limit). */
static OSStatus fb_limit(CFTypeRef v, pquery *pq)
{
    if (secsim_is(v, SECSIM_TYPE_STRING)) {
        pq->limit_all_constant = str_is(v, "m_LimitAll");
        pq->limit = pq->limit_all_constant ? -1 : 1;
        return errSecSuccess;
    }
    if (!secsim_is(v, SECSIM_TYPE_NUMBER))
        return errSecParam;
    int32_t n = 0;
    CFNumberGetValue(v, kCFNumberSInt32Type, &n);
    if (n < 0)
        return errSecParam;
    pq->limit = n == 0 ? -1 : n;
    return errSecSuccess;
}

OSStatus fb_parse(const qdict *q, sec_op op, pquery *pq)
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
            if (fb_limit(e->val, pq) != errSecSuccess)
                return errSecParam;
        } else if (key_is(e, "v_Data")) {
            pq->v_data = e->val;
        }
    }
    /* 5.3: no passwords as data when returning all matches */
    if (op != OP_ADD && pq->ret.data && pq->limit_all_constant && (pq->cls == CLS_GENP || pq->cls == CLS_INET))
        return errSecParam;
    return errSecSuccess;
}
/* ------------------------------------------------------------------ */
/* matching (both engines) */

/* A stored value equals a query value, as the engine `impl` compares. */
static bool engine_equal(int impl, const sec_attrdef *def, const sval *a, const sval *b)
{
    return impl == IMPL_DP ? sec_dp_equal(def->dp_kind, a, b) : sec_fb_equal(def->fb_kind, a, b);
}

/* The class, reference, persistent-reference and attribute terms of a
 * query (both engines). */
bool terms_match(const sitem *it, const pquery *q, int impl)
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
void set_attrs(sitem *it, const pquery *pq)
{
    for (size_t i = 0; i < pq->nattrs; i++)
        item_set(it, pq->attrs[i].def->name, sval_copy(&pq->attrs[i].v));
}

/* A new item for an add: seeded from kSecValueRef, then the query's
 * attributes. */
OSStatus item_from_query(const pquery *pq, int impl, sitem **out)
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
