/*
 * sec_engine_fb.c - the macOS file-based keychain (the shim's *_osx
 * functions): add, copy, update, delete behind the engine functions of
 * sec_engine.h.  Rule numbers refer to secitem-facts.md section 5.
 */
#include <stdlib.h>
#include <string.h>

#include "sec_engine.h"
#include "sec_access.h"

static double now(void)
{
    return CFAbsoluteTimeGetCurrent();
}

static bool fb_matches(const sitem *it, const pquery *q)
{
    return it->impl == IMPL_FB && terms_match(it, q, IMPL_FB);
}

sval fb_default(int kind)
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
bool fb_same_unique(const sitem *a, const sitem *b)
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

/* The item an add stores: the query's attributes, the secret, the dates,
 * the access list (sec_access.c); NULL and *st on a refusal. */
static sitem *fb_new_item(const pquery *pq, CFTypeRef acls, OSStatus *st)
{
    sitem *it;
    *st = item_from_query(pq, IMPL_FB, &it);
    if (*st)
        return NULL;
    if (pq->v_data != NULL) {
        const uint8_t *p;
        size_t n;
        if (fb_secret(pq->v_data, &p, &n) != errSecSuccess) {
            item_free(it);
            *st = errSecParam;
            return NULL;
        }
        set_secret(it, p, n);
    }
    double t = now();
    item_set(it, "cdat", sval_date(t));
    item_set(it, "mdat", sval_date(t));
    if ((*st = sec_access_on_add(it, acls)) != errSecSuccess) {
        item_free(it);                                   /* kSecAttrAccess: not a SecAccess */
        return NULL;
    }
    return it;
}

static OSStatus fb_add_parsed(const qdict *q, const pquery *pq, CFTypeRef *out, bool want_result)
{
    OSStatus st;
    sitem *it = fb_new_item(pq, qd_get(q, "acls"), &st);
    if (it == NULL)
        return st;
    if (sec_kc_same_key(it, NULL) != NULL) {
        item_free(it);
        return errSecDuplicateItem;                      /* 4.8: the unique index */
    }
    sec_kc_append(it);
    sec_mark_modified();
    if (want_result)
        *out = shape_one(it, &pq->ret);                  /* 4.2: no return key -> the item ref */
    return errSecSuccess;
}

static OSStatus fb_add(const qdict *q, CFTypeRef *out, bool want_result)
{
    pquery pq;
    OSStatus st = fb_parse(q, OP_ADD, &pq);
    if (st == errSecSuccess)
        st = fb_add_parsed(q, &pq, out, want_result);
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

static OSStatus fb_copy_parsed(const qdict *q, const pquery *pq, CFTypeRef *out)
{
    sitem **found = NULL;
    size_t n = fb_collect(pq, &found);
    OSStatus st = n == 0 ? errSecItemNotFound : errSecSuccess;
    for (size_t i = 0; st == errSecSuccess && pq->ret.data && i < n; i++) {
        /* the secret: access list and partition list (sec_access.c) */
        st = sec_access_check_read(found[i], qd_get(q, "u_AuthUI"), qd_get(q, "u_NoAuthUI"));
    }
    if (st == errSecSuccess)
        *out = shape_many(found, n, &pq->ret, pq->limit == 1);
    free(found);
    return st;
}

static OSStatus fb_copy(const qdict *q, CFTypeRef *out)
{
    pquery pq;
    OSStatus st = fb_parse(q, OP_COPY, &pq);
    if (st == errSecSuccess)
        st = fb_copy_parsed(q, &pq, out);
    pq_free(&pq);
    return st;
}

/* attributesToUpdate on FB: the secret (*dp, *dn; *has_data) and the
 * attributes of the class (5.14: other keys are ignored on FB). */
static OSStatus fb_parse_changes(const qdict *u, int cls, pquery *pu, const uint8_t **dp, size_t *dn, bool *has_data)
{
    for (size_t i = 0; i < u->n; i++) {
        const qent *e = &u->e[i];
        if (e->k == NULL)
            continue;
        if (key_is(e, "v_Data")) {
            if (fb_secret(e->val, dp, dn) != errSecSuccess)
                return errSecParam;
            *has_data = true;
            continue;
        }
        const sec_attrdef *def = sec_attr_lookup(e->k, e->klen);
        if (def == NULL || !(def->fb_classes & CB(cls)))
            continue;
        sval v;
        if (sec_fb_convert(def->fb_kind, e->val, &v) != errSecSuccess)
            return errSecParam;
        pq_add(pu, def, v);
    }
    return errSecSuccess;
}

/* Item by item; an error stops the loop, earlier items stay updated. */
static OSStatus fb_update_found(sitem **found, size_t n, const pquery *pu, const uint8_t *dp, size_t dn, bool has_data)
{
    double t = now();
    for (size_t i = 0; i < n; i++) {
        sitem *c = item_clone(found[i]);
        set_attrs(c, pu);
        if (has_data) {
            set_secret(c, dp, dn);
            sec_access_on_rewrite(c);                    /* partition list: the writer's */
        }
        item_set(c, "mdat", sval_date(t));
        if (sec_kc_same_key(c, found[i]) != NULL) {
            item_free(c);
            return errSecDuplicateItem;                  /* 4.8: the unique index */
        }
        sec_kc_replace(found[i], c);
        sec_mark_modified();
    }
    return errSecSuccess;
}

static OSStatus fb_update_parsed(const qdict *u, const pquery *pq, pquery *pu)
{
    const uint8_t *dp = NULL;
    size_t dn = 0;
    bool has_data = false;
    OSStatus st = fb_parse_changes(u, pq->cls, pu, &dp, &dn, &has_data);
    if (st)
        return st;
    sitem **found = NULL;
    size_t n = fb_collect(pq, &found);                   /* 2.5 / 5.7: default limit one */
    st = n == 0 ? errSecItemNotFound : fb_update_found(found, n, pu, dp, dn, has_data);
    free(found);
    return st;
}

static OSStatus fb_update(const qdict *q, const qdict *u)
{
    pquery pq, pu;
    memset(&pu, 0, sizeof pu);
    OSStatus st = fb_parse(q, OP_UPDATE, &pq);
    if (st == errSecSuccess)
        st = fb_update_parsed(u, &pq, &pu);
    pq_free(&pu);
    pq_free(&pq);
    return st;
}

static OSStatus fb_delete(const qdict *q)
{
    pquery pq;
    OSStatus st = fb_parse(q, OP_DELETE, &pq);
    if (st == errSecSuccess) {
        sitem **found = NULL;
        size_t n = fb_collect(&pq, &found);              /* 2.5 / 6.1: first match only by default */
        if (n == 0) {
            st = errSecItemNotFound;                     /* 6.2: nothing to delete */
        } else {
            sec_kc_remove(found, n);
            sec_mark_modified();
        }
        free(found);
    }
    pq_free(&pq);
    return st;
}

const sec_engine sec_engine_fb = {
    .name = "file-based",
    .add = fb_add,
    .copy = fb_copy,
    .update = fb_update,
    .remove = fb_delete,
};
