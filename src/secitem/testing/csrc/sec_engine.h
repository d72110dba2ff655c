/*
 * sec_engine.h - what the SecItem files share (docs/emulator.md, "Source
 * layout"):
 *
 *   sec_query.c      key interning, the caller's dictionary as entries,
 *                    persistent references, the two query parsers (DP:
 *                    securityd's DbQuery, FB: the macOS shim's) and the
 *                    match of a parsed query against an item.
 *   sec_engine_dp.c  the data-protection keychain (securityd's rules).
 *   sec_engine_fb.c  the macOS file-based keychain (the shim's *_osx calls).
 *   sec_index.c      the uniqueness index (sec_index.h).
 *   sec_item.c       entry points, routing (the macOS shim), result shapes.
 *
 * Both engines answer the same four functions (struct sec_engine), as one
 * back end of a dispatcher.  Rule numbers refer to secitem-facts.md
 * section 5; each is cited with the behaviour it names.
 */
#ifndef SEC_ENGINE_H
#define SEC_ENGINE_H

#include "sec_index.h"

/* The SecItem call being made: decides what parsing and routing allow. */
typedef enum sec_op { OP_ADD, OP_COPY, OP_UPDATE, OP_DELETE } sec_op;
/* kSecUseAuthenticationUI as parsed (13.1). */
enum { AUTH_ALLOW, AUTH_FAIL, AUTH_SKIP };

/* ---- key interning (sec_query.c) ---- */
/* The immortal constant CFString whose value is value[0..n), or NULL. */
CFStringRef key_const(const char *value, size_t n);
/* Set key -> value (value is +1 and consumed). */
void dict_put(CFMutableDictionaryRef d, const char *key, CFTypeRef value);
CFMutableDictionaryRef new_dict(void);
CFMutableArrayRef new_array(void);

/* ---- the caller's dictionary as a list of entries (sec_query.c) ---- */
typedef struct qent {
    CFTypeRef key, val;
    const char *k;      /* UTF-8 of a CFString key, else NULL */
    size_t klen;        /* its length in bytes */
    CFIndex ulen;       /* its length in UTF-16 units (CFStringGetLength) */
    bool drop;          /* stripped by the shim (1.7, keys the shim strips) */
} qent;

typedef struct qdict {
    qent *e;
    size_t n;
} qdict;

void qd_load(CFDictionaryRef d, qdict *q);
void qd_clone(const qdict *src, qdict *dst);
void qd_free(qdict *q);
bool key_is(const qent *e, const char *name);
bool key_prefix(const qent *e, const char *prefix);
bool in_list(const qent *e, const char *const *list, size_t n);
qent *qd_find(const qdict *q, const char *name);
CFTypeRef qd_get(const qdict *q, const char *name);
/* v is a CFString equal to s. */
bool str_is(CFTypeRef v, const char *s);
/* CFEqual(kCFBooleanTrue, v) with NSNumber bridging (the shim's r_* and
 * the DP client's sync test). */
bool fb_truthy_return(CFTypeRef v);

/* ---- persistent references (sec_query.c; 5.3, result shapes) ---- */
CFDataRef pref_create(const sitem *it);
/* DP format: 4 class bytes + 8-byte rowid (or + 16-byte UUID). */
bool pref_is_dp(CFTypeRef v, int *cls, int64_t *rowid);
/* FB format (ours): "kcFB" + class + rowid. */
bool pref_is_fb(CFTypeRef v, int *cls, int64_t *rowid);

/* ---- parsed queries (sec_query.c) ---- */
typedef struct rflags {
    bool data, attrs, ref, pref;
} rflags;

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

void pq_free(pquery *q);
void pq_add(pquery *q, const sec_attrdef *def, sval v);
const sval *pq_get(const pquery *q, const char *name);
/* securityd's query parser (DbQuery query_applier and friends). */
OSStatus dp_parse(const qdict *q, sec_op op, pquery *pq);
/* The shim's parser (SecItemCopyMatching_osx & co). */
OSStatus fb_parse(const qdict *q, sec_op op, pquery *pq);
/* The class, reference, persistent-reference and attribute terms of a
 * query, compared as the engine `impl` compares (both engines). */
bool terms_match(const sitem *it, const pquery *q, int impl);

/* ---- new items (sec_query.c) ---- */
/* Store a secret; an empty one is still a secret (data != NULL). */
void set_secret(sitem *it, const void *p, size_t n);
/* Set every attribute of a parsed query on an item. */
void set_attrs(sitem *it, const pquery *pq);
/* A new item for an add: seeded from kSecValueRef, then the attributes. */
OSStatus item_from_query(const pquery *pq, int impl, sitem **out);

/* ---- result shapes (sec_item.c; 5.3, result shapes) ---- */
int rcount(const rflags *r);
/* The result object for one item, or NULL when it contributes nothing. */
CFTypeRef shape_one(const sitem *it, const rflags *r);
/* A single object when `single`, else an array (possibly empty). */
CFTypeRef shape_many(sitem **items, size_t n, const rflags *r, bool single);

/* ---- the keychain transaction (sec_item.c) ---- */
/* The call changed the keychain: the store is written when it ends. */
void sec_mark_modified(void);

/* ---- the engines (sec_engine_dp.c, sec_engine_fb.c) ---- */
typedef struct sec_engine {
    const char *name;
    /* SecItemAdd: *out gets the result object (or stays NULL); want_result
     * is false when the caller passed no result pointer. */
    OSStatus (*add)(const qdict *q, CFTypeRef *out, bool want_result);
    OSStatus (*copy)(const qdict *q, CFTypeRef *out);
    /* u: the attributes to update. */
    OSStatus (*update)(const qdict *q, const qdict *u);
    OSStatus (*remove)(const qdict *q);
} sec_engine;

extern const sec_engine sec_engine_dp;
extern const sec_engine sec_engine_fb;

/* Uniqueness comparisons the index confirms its hits with. */
bool dp_same_primary(const sitem *a, const sitem *b);   /* 4.3, 4.4: DP primary key */
bool fb_same_unique(const sitem *a, const sitem *b);    /* 4.8: FB unique index */
/* The value an FB unique-index attribute reads as when missing. */
sval fb_default(int kind);

#endif /* SEC_ENGINE_H */
