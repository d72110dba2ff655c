/*
 * sec_engine_dp.c - the data-protection keychain (securityd's rules; the
 * only keychain of the ios profile): add, copy, update, delete behind the
 * engine functions of sec_engine.h.  Rule numbers refer to secitem-facts.md
 * section 5.
 */
#include <stdlib.h>
#include <string.h>

#include "sec_engine.h"

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

/* Client-side checks of the DP client, run before securityd sees the call
 * (Client SecItemAttributesPrepare / SecItemAuthDoQuery). */
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

/* ------------------------------------------------------------------ */
/* matching, uniqueness, tombstones, access */

static bool dp_visible(const sitem *it, bool writable)
{
    if (it->impl != IMPL_DP)
        return false;
    const sval *g = item_get(it, "agrp");
    return g != NULL && g->tag == SV_STR && group_held(g->p, g->n, writable);
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
bool dp_same_primary(const sitem *a, const sitem *b)
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

/* ------------------------------------------------------------------ */
/* add */

/* What securityd refuses before it builds the item. */
static OSStatus dp_add_checks(const pquery *pq)
{
    if (pq->has_pref || pq->has_itemlist)
        return errSecParam;                              /* 4.11, add input checks */
    if (pq->v_data != NULL && !secsim_is(pq->v_data, SECSIM_TYPE_DATA))
        return errSecParam;                              /* 4.11, 5.10: the secret is CFData */
    if (pq->agrp != NULL && !sec_group_held(pq->agrp->p, pq->agrp->n, true))
        return errSecMissingEntitlement;                 /* 4.11, 12.5: a group not held */
    return errSecSuccess;
}

/* The access group (8.3, first writable group by default) and the
 * protection (8.2, default by class and group), checked against the
 * access control (4.11, 5.14). */
static OSStatus dp_add_access(sitem *it)
{
    if (item_get(it, "agrp") == NULL) {
        const char *g = first_writable_group();
        item_set(it, "agrp", sval_str(g, strlen(g)));
    }
    OSStatus st = dp_check_access(it);
    if (st)
        return st;
    if (item_get(it, "pdmn") == NULL) {
        const sval *g = item_get(it, "agrp");
        const char *prot = it->cls == CLS_CERT ? "dk"
                         : (g->n == 14 && memcmp(g->p, "com.apple.apsd", 14) == 0) ? "dku" : "ak";
        item_set(it, "pdmn", sval_str(prot, strlen(prot)));
    }
    return errSecSuccess;
}

/* 8.4 / 4.6: the defaults of an added item (sync, tomb, musr, the primary
 * key's columns), then 8.1 the dates: always now, overwriting the caller's. */
static void dp_add_defaults(sitem *it)
{
    if (item_get(it, "sync") == NULL)
        item_set(it, "sync", sval_int(0));
    if (item_get(it, "tomb") == NULL)
        item_set(it, "tomb", sval_int(0));               /* an add with tomb = true stores a tombstone */
    if (item_get(it, "musr") == NULL)
        item_set(it, "musr", sval_data("", 0));
    for (size_t i = 0; i < sec_attr_count(); i++) {
        const sec_attrdef *def = sec_attr_at(i);
        if (!(def->dp_primary & CB(it->cls)) || item_get(it, def->name) != NULL)
            continue;
        if (def->dp_default == DEF_EMPTY)
            item_set(it, def->name, def->dp_kind == K_DATA ? sval_data("", 0) : sval_str("", 0));
        else if (def->dp_default == DEF_ZERO)
            item_set(it, def->name, def->dp_kind == K_DATE ? sval_date(0.0) : sval_int(0));
    }
    double t = now();
    item_set(it, "cdat", sval_date(t));
    item_set(it, "mdat", sval_date(t));
}

/* The item an add stores; NULL and *st on a refusal. */
static sitem *dp_new_item(const pquery *pq, OSStatus *st)
{
    sitem *it;
    *st = item_from_query(pq, IMPL_DP, &it);
    if (*st)
        return NULL;
    if (pq->v_data != NULL)
        set_secret(it, CFDataGetBytePtr(pq->v_data), (size_t)CFDataGetLength(pq->v_data));
    *st = dp_add_access(it);
    if (*st == errSecSuccess) {
        dp_add_defaults(it);
        if (g_sec.locked && needs_unlock(it))
            *st = errSecInteractionNotAllowed;           /* 13.4: encrypting needs the class key */
    }
    if (*st) {
        item_free(it);
        return NULL;
    }
    return it;
}

/* Insert a new item: a duplicate primary key is refused (4.3), unless the
 * item there is a tombstone, which the new item replaces (DbItem
 * SecDbItemInsert).  The item is freed on a refusal. */
static OSStatus dp_insert(sitem *it)
{
    sitem *dup = sec_kc_same_key(it, NULL);
    if (dup != NULL && !is_tombstone(dup)) {
        item_free(it);
        return errSecDuplicateItem;
    }
    if (dup != NULL)
        sec_kc_remove(&dup, 1);
    sec_kc_append(it);
    sec_mark_modified();
    return errSecSuccess;
}

static OSStatus dp_add_parsed(const pquery *pq, CFTypeRef *out)
{
    OSStatus st = dp_add_checks(pq);
    if (st)
        return st;
    if (pq->any_match_key) {
        /* 4.10: s3dl_query_add returns the non-zero errSecItemMatchUnsupported
         * from a bool function: success is reported, nothing is stored. */
        return errSecSuccess;
    }
    sitem *it = dp_new_item(pq, &st);
    if (it == NULL)
        return st;
    st = dp_insert(it);
    if (st == errSecSuccess && rcount(&pq->ret) > 0)
        *out = shape_one(it, &pq->ret);                  /* 4.1: the result of an add */
    return st;
}

static OSStatus dp_add(const qdict *q, CFTypeRef *out, bool want_result)
{
    (void)want_result; /* securityd shapes a result whenever an r_* key asks (4.1) */
    OSStatus st = dp_client_checks(q, OP_ADD, true);
    if (st)
        return st;
    if (groups_empty(true))
        return errSecMissingEntitlement;                 /* 12.1: no access group at all */
    pquery pq;
    st = dp_parse(q, OP_ADD, &pq);
    if (st == errSecSuccess)
        st = dp_add_parsed(&pq, out);
    pq_free(&pq);
    return st;
}

/* ------------------------------------------------------------------ */
/* copy */

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

static OSStatus dp_copy_checks(const pquery *pq)
{
    if (pq->has_itemlist)
        return errSecParam;
    if (pq->has_policy && pq->cls != CLS_CERT && pq->cls != CLS_IDNT)
        return errSecUnimplemented;                      /* section 3: m_Policy/m_Issuers */
    if (pq->agrp != NULL && !group_held(pq->agrp->p, pq->agrp->n, false))
        return errSecMissingEntitlement;                 /* 12.5: a group not held */
    return errSecSuccess;
}

/* Keep the matches whose secret may be read (13.4, a locked keychain;
 * 13.1, user interaction), up to the limit; *kept of them, in place. */
static OSStatus dp_copy_readable(const pquery *pq, sitem **found, size_t n, size_t *kept)
{
    authctx cx = { false, errSecSuccess };
    *kept = 0;
    for (size_t i = 0; i < n; i++) {
        sitem *it = found[i];
        if (pq->ret.data) {
            if (g_sec.locked && needs_unlock(it))
                return errSecInteractionNotAllowed;      /* 13.4 */
            if (has_constraints(it)) {
                if (pq->authui == AUTH_SKIP)
                    continue;                            /* 13.1 Skip */
                OSStatus st = ask_user(&cx, pq->authui);
                if (st)
                    return st;
            }
        }
        found[(*kept)++] = it;
        if (pq->limit > 0 && *kept >= (size_t)pq->limit)
            break;
    }
    return errSecSuccess;
}

static OSStatus dp_copy_parsed(const pquery *pq, CFTypeRef *out)
{
    OSStatus st = dp_copy_checks(pq);
    if (st)
        return st;
    sitem **found = NULL;
    size_t n = dp_collect(pq, false, &found), kept = 0;
    st = dp_copy_readable(pq, found, n, &kept);
    if (st == errSecSuccess && kept == 0)
        st = errSecItemNotFound;                         /* 5.3: nothing found */
    if (st == errSecSuccess)
        *out = shape_many(found, kept, &pq->ret, pq->limit == 1);
    free(found);
    return st;
}

static OSStatus dp_copy(const qdict *q, CFTypeRef *out)
{
    OSStatus st = dp_client_checks(q, OP_COPY, false);
    if (st)
        return st;
    if (groups_empty(false))
        return errSecMissingEntitlement;                 /* 12.1: no access group at all */
    pquery pq;
    st = dp_parse(q, OP_COPY, &pq);
    if (st == errSecSuccess)
        st = dp_copy_parsed(&pq, out);
    pq_free(&pq);
    return st;
}

/* ------------------------------------------------------------------ */
/* update */

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

/* The state of one SecItemUpdate on the DP keychain: found[i] becomes
 * fresh[i] and may leave tombs[i]; doomed[] are tombstones the fresh items
 * replace.  Everything is freed by dpupd_free. */
typedef struct dpupd {
    pquery pq;              /* the query */
    pquery pu;              /* the attributes to update */
    CFTypeRef new_data;     /* kSecValueData of the update, or NULL */
    sitem **found, **fresh, **tombs, **doomed;
    size_t n, ndoomed;
    foundpos *sorted;       /* found[] by address */
    skindex batch;          /* the fresh items checked so far */
} dpupd;

static void free_items(sitem **v, size_t n)
{
    if (v != NULL)
        for (size_t i = 0; i < n; i++)
            item_free(v[i]);
    free(v);
}

static void dpupd_free(dpupd *x)
{
    skindex_free(&x->batch);
    free(x->sorted);
    free_items(x->fresh, x->n);
    free_items(x->tombs, x->n);
    free(x->doomed);
    free(x->found);
    pq_free(&x->pu);
    pq_free(&x->pq);
}

static OSStatus dp_update_checks(const pquery *pq)
{
    if (pq->any_return_key || pq->any_match_key || pq->has_itemlist)
        return errSecParam;                              /* 5.3 (iOS path; the shim strips first) */
    if (pq->agrp != NULL && !sec_group_held(pq->agrp->p, pq->agrp->n, true))
        return errSecMissingEntitlement;                 /* 5.3, 12.5: a group not held */
    return errSecSuccess;
}

/* One entry of attributesToUpdate (5.2). */
static OSStatus dp_parse_change(const qent *e, dpupd *x)
{
    if (e->k == NULL)
        return errSecParam;
    if (key_is(e, "musr") || key_is(e, "nleg"))
        return errSecSuccess;
    if (key_is(e, "v_Data")) {
        if (e->val == NULL || !secsim_is(e->val, SECSIM_TYPE_DATA))
            return errSecParam;
        x->new_data = e->val;
        return errSecSuccess;
    }
    if (key_is(e, "ggrp"))
        return errSecParam;
    const sec_attrdef *def = sec_attr_lookup(e->k, e->klen);
    if (def == NULL || !(def->dp_classes & CB(x->pq.cls)))
        return errSecNoSuchAttr;
    if (def->dp_kind == K_SYNC && str_is(e->val, "syna"))
        return errSecSuccess;                            /* 7.2, kSecAttrSynchronizableAny: dropped */
    sval v;
    if (sec_dp_convert(def->dp_kind, e->val, &v) != errSecSuccess)
        return errSecParam;
    pq_add(&x->pu, def, v);
    return errSecSuccess;
}

/* 5.2: attributesToUpdate; a new access group must be held. */
static OSStatus dp_parse_changes(const qdict *u, dpupd *x)
{
    for (size_t i = 0; i < u->n; i++) {
        if (u->e[i].drop)
            continue;
        OSStatus st = dp_parse_change(&u->e[i], x);
        if (st)
            return st;
    }
    const sval *new_agrp = pq_get(&x->pu, "agrp");
    if (new_agrp != NULL && !sec_group_held(new_agrp->p, new_agrp->n, true))
        return errSecMissingEntitlement;
    return errSecSuccess;
}

/* The item found[i] will become: the changes applied, 5.4 a new
 * modification date, the access checked again (4.11, 5.14). */
static OSStatus dp_fresh_item(dpupd *x, size_t i, double t)
{
    sitem *c = item_clone(x->found[i]);
    x->fresh[i] = c;
    const pquery *pu = &x->pu;
    if (pu->nattrs > 0 && pq_get(pu, "accc") != NULL && pq_get(pu, "pdmn") == NULL)
        item_del(c, "pdmn");                             /* the new access control decides the protection */
    set_attrs(c, pu);
    if (pq_get(pu, "pdmn") != NULL && pq_get(pu, "accc") == NULL)
        item_del(c, "accc");                             /* a new protection replaces the old access control */
    if (x->new_data != NULL)
        set_secret(c, CFDataGetBytePtr(x->new_data), (size_t)CFDataGetLength(x->new_data));
    item_set(c, "mdat", sval_date(t));
    OSStatus st = dp_check_access(c);
    if (st)
        return st;
    if (g_sec.locked && needs_unlock(c) && x->new_data != NULL)
        return errSecInteractionNotAllowed;
    return errSecSuccess;
}

/* Every fresh item; writing a secret needs the class key (13.4) and the
 * user's consent for an item with constraints (13.1). */
static OSStatus dp_make_fresh(dpupd *x)
{
    authctx cx = { false, errSecSuccess };
    x->fresh = sec_xmalloc(x->n * sizeof *x->fresh);
    memset(x->fresh, 0, x->n * sizeof *x->fresh);
    x->tombs = sec_xmalloc(x->n * sizeof *x->tombs);
    memset(x->tombs, 0, x->n * sizeof *x->tombs);
    x->doomed = sec_xmalloc(x->n * sizeof *x->doomed);
    double t = now();
    for (size_t i = 0; i < x->n; i++) {
        if (x->new_data != NULL) {
            if (g_sec.locked && needs_unlock(x->found[i]))
                return errSecInteractionNotAllowed;
            if (has_constraints(x->found[i])) {
                OSStatus st = ask_user(&cx, x->pq.authui);
                if (st)
                    return st;
            }
        }
        OSStatus st = dp_fresh_item(x, i, t);
        if (st)
            return st;
    }
    return errSecSuccess;
}

/* fresh[i] against the items not being updated: a duplicate, or a
 * tombstone it replaces (DbItem SecDbItemUpdate), added to doomed[]. */
static OSStatus dp_unique_in_keychain(dpupd *x, size_t i, uint64_t h)
{
    size_t cur = 0;
    sitem *other;
    while ((other = sec_index_next(h, &cur)) != NULL) {
        if (find_found(x->sorted, x->n, other) != x->n || !dp_same_primary(other, x->fresh[i]))
            continue;
        if (!is_tombstone(other))
            return errSecDuplicateItem;
        x->doomed[x->ndoomed++] = other;
    }
    return errSecSuccess;
}

/* 5.5, all-or-nothing uniqueness: no updated item may share its primary
 * key with an item not being updated, nor with another updated item. */
static OSStatus dp_check_unique(dpupd *x)
{
    x->sorted = sec_xmalloc(x->n * sizeof *x->sorted);
    for (size_t i = 0; i < x->n; i++) {
        x->sorted[i].addr = (uintptr_t)x->found[i];
        x->sorted[i].i = i;
    }
    qsort(x->sorted, x->n, sizeof *x->sorted, cmp_foundpos);
    for (size_t i = 0; i < x->n; i++) {
        uint64_t h = sec_item_key_hash(x->fresh[i]);
        OSStatus st = dp_unique_in_keychain(x, i, h);
        if (st)
            return st;
        size_t cur = 0;
        sitem *other;
        while ((other = skindex_next(&x->batch, h, &cur)) != NULL)
            if (dp_same_primary(other, x->fresh[i]))     /* an earlier fresh[j] */
                return errSecDuplicateItem;
        skindex_insert(&x->batch, h, x->fresh[i]);
    }
    return errSecSuccess;
}

/* Apply the update: found[i] -> fresh[i] in one pass over the keychain,
 * the replaced tombstones removed, and the tombstones of items whose
 * primary key changed (DbItem SecDbItemUpdate, s3dl_should_make_tombstone)
 * added as new rows (SecDbItemDoInsert). */
static void dp_apply_update(dpupd *x)
{
    for (size_t i = 0; i < x->n; i++)
        if (!dp_same_primary(x->found[i], x->fresh[i]) && should_make_tombstone(&x->pq, x->found[i]))
            x->tombs[i] = make_tombstone(x->found[i]);
    for (size_t k = 0; k < g_kc.n; k++) {
        size_t i = find_found(x->sorted, x->n, g_kc.items[k]);
        if (i < x->n && x->fresh[i] != NULL) {
            sec_kc_replace_at(k, x->fresh[i]);
            x->fresh[i] = NULL;
        }
    }
    sec_kc_remove(x->doomed, x->ndoomed);
    for (size_t i = 0; i < x->n; i++) {
        if (x->tombs[i] != NULL && sec_kc_same_key(x->tombs[i], NULL) == NULL) {
            sec_kc_append(x->tombs[i]);
            x->tombs[i] = NULL;
        }
    }
    sec_mark_modified();
}

static OSStatus dp_update_parsed(const qdict *u, dpupd *x)
{
    OSStatus st = dp_update_checks(&x->pq);
    if (st == errSecSuccess)
        st = dp_parse_changes(u, x);
    if (st)
        return st;
    x->n = dp_collect(&x->pq, true, &x->found);
    if (x->n == 0)
        return errSecItemNotFound;                       /* 5.6: nothing to update */
    st = dp_make_fresh(x);
    if (st == errSecSuccess)
        st = dp_check_unique(x);
    if (st == errSecSuccess)
        dp_apply_update(x);
    return st;
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
        return errSecMissingEntitlement;                 /* 12.1: no access group at all */
    dpupd x;
    memset(&x, 0, sizeof x);
    st = dp_parse(q, OP_UPDATE, &x.pq);
    if (st == errSecSuccess)
        st = dp_update_parsed(u, &x);
    dpupd_free(&x);
    return st;
}

/* ------------------------------------------------------------------ */
/* delete */

static OSStatus dp_delete_checks(const pquery *pq)
{
    if (pq->any_match_key || pq->has_itemlist || (pq->has_pref && pq->nattrs > 0))
        return errSecParam;                              /* 2.4, 6.3: what a delete refuses */
    if (pq->agrp != NULL && !sec_group_held(pq->agrp->p, pq->agrp->n, true))
        return errSecMissingEntitlement;                 /* 12.5: a group not held */
    return errSecSuccess;
}

/* 6.1: all matches.  ItemDb s3dl_query_delete / DbItem SecDbItemDelete: an
 * item for which s3dl_should_make_tombstone says so becomes a tombstone in
 * its own row; the others are removed. */
static void dp_delete_found(const pquery *pq, sitem **found, size_t n)
{
    size_t gone = 0;
    for (size_t i = 0; i < n; i++) {
        if (!should_make_tombstone(pq, found[i])) {
            found[gone++] = found[i];
            continue;
        }
        sitem *t = make_tombstone(found[i]);
        t->rowid = found[i]->rowid;
        if (!sec_kc_replace(found[i], t))
            item_free(t);
        sec_mark_modified();
    }
    sec_kc_remove(found, gone);
    if (gone)
        sec_mark_modified();
}

static OSStatus dp_delete_parsed(const pquery *pq)
{
    OSStatus st = dp_delete_checks(pq);
    if (st)
        return st;
    sitem **found = NULL;
    size_t n = dp_collect(pq, true, &found);
    if (n == 0)
        st = errSecItemNotFound;                         /* 6.2: nothing to delete */
    else
        dp_delete_found(pq, found, n);
    free(found);
    return st;
}

static OSStatus dp_delete(const qdict *q)
{
    OSStatus st = dp_client_checks(q, OP_DELETE, false);
    if (st)
        return st;
    if (groups_empty(true))
        return errSecMissingEntitlement;                 /* 12.1: no access group at all */
    pquery pq;
    st = dp_parse(q, OP_DELETE, &pq);
    if (st == errSecSuccess)
        st = dp_delete_parsed(&pq);
    pq_free(&pq);
    return st;
}

const sec_engine sec_engine_dp = {
    .name = "data-protection",
    .add = dp_add,
    .copy = dp_copy,
    .update = dp_update,
    .remove = dp_delete,
};
