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
#include "sec_engine.h"

enum { T_FB = 1, T_DP = 2 };

static bool g_modified;

void sec_mark_modified(void)
{
    g_modified = true;
}

/* ------------------------------------------------------------------ */
/* result shapes (5.3) */

int rcount(const rflags *r)
{
    return (int)r->data + (int)r->attrs + (int)r->ref + (int)r->pref;
}

static CFDataRef secret_data(const sitem *it)
{
    return CFDataCreate(NULL, it->data, (CFIndex)it->dlen);
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
CFTypeRef shape_one(const sitem *it, const rflags *r)
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
CFTypeRef shape_many(sitem **items, size_t n, const rflags *r, bool single)
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
/* the macOS shim: routing (1.2, which keychain a call reaches), stripping
 * (1.7, the keys the shim removes before DP), merging (1.5, two answers
 * made one) */

static const char *const osx_only_keys[] = {
    "m_ItemList", "m_SearchList", "m_SubjectStartsWith", "m_SubjectEndsWith", "m_SubjectWholeString",
    "m_DiacriticInsensitive", "m_WidthInsensitive", "u_ItemList", "u_Keychain", "acls", "prf", "salt",
    "rounds",
};

/* The keychains a query names explicitly: kSecUseDataProtectionKeychain
 * (nleg) and the SPI keys; -1 when it does not decide (1.2). */
static int route_explicit(const qdict *q)
{
    qent *nl = qd_find(q, "nleg");
    if (nl == NULL)
        return -1;
    bool spi_dp = qd_find(q, "ggrp") != NULL || sec_truthy(qd_get(q, "u_SystemKeychainAlways"));
    if (sec_truthy(nl->val))
        return T_DP;
    return spi_dp ? 0 : T_FB;                            /* explicit false + SPI keys -> errSecParam */
}

/* T_FB and/or T_DP: the keychains the shim sends the query to; 0 when the
 * combination is refused (errSecParam). */
static int route(const qdict *q)
{
    int t = route_explicit(q);
    if (t >= 0)
        return t;
    t = T_FB | T_DP;
    if (qd_find(q, "ggrp") != NULL || sec_truthy(qd_get(q, "u_SystemKeychainAlways")))
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
static void strip_for_dp(qdict *q, sec_op op)
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

/* Both keychains answered with arrays: DP's items, then FB's. */
static CFTypeRef concat_arrays(CFTypeRef dpres, CFTypeRef fbres)
{
    CFMutableArrayRef a = new_array();
    for (CFIndex i = 0; i < CFArrayGetCount(dpres); i++)
        CFArrayAppendValue(a, CFArrayGetValueAtIndex(dpres, i));
    for (CFIndex i = 0; i < CFArrayGetCount(fbres); i++)
        CFArrayAppendValue(a, CFArrayGetValueAtIndex(fbres, i));
    CFRelease(fbres);
    CFRelease(dpres);
    return a;
}

/* Keep one of two results (either may be NULL) and release the other. */
static CFTypeRef keep(CFTypeRef kept, CFTypeRef dropped)
{
    if (dropped != NULL)
        CFRelease(dropped);
    return kept;
}

/* The merge of the two answers (1.5, merging). */
static OSStatus merge(OSStatus fb, CFTypeRef fbres, OSStatus dp, CFTypeRef dpres, CFTypeRef *out)
{
    if (dp != errSecSuccess) {
        /* -34018 from DP is ignored entirely; any other DP failure also
         * yields the FB answer (1.5). */
        *out = keep(fbres, dpres);
        return fb;
    }
    if (fb != errSecSuccess)
        *out = keep(dpres, fbres);
    else if (is_array(fbres) && is_array(dpres))
        *out = concat_arrays(dpres, fbres);
    else
        *out = dpres != NULL ? keep(dpres, fbres) : fbres;
    return errSecSuccess;
}

/* One engine call of any kind: u for an update, out for an add or a copy. */
typedef struct call {
    sec_op op;
    const qdict *u;      /* OP_UPDATE: the attributes to update */
    bool want_result;    /* OP_ADD: the caller passed a result pointer */
} call;

static OSStatus run(const sec_engine *e, const call *c, const qdict *q, CFTypeRef *out)
{
    switch (c->op) {
    case OP_ADD:
        return e->add(q, out, c->want_result);
    case OP_COPY:
        return e->copy(q, out);
    case OP_UPDATE:
        return e->update(q, c->u);
    case OP_DELETE:
        return e->remove(q);
    }
    return errSecParam;
}

/* DP gets the query the shim forwards: a copy with the keys of 1.7 dropped. */
static OSStatus run_dp_stripped(const call *c, const qdict *q, CFTypeRef *out)
{
    qdict d;
    qd_clone(q, &d);
    strip_for_dp(&d, c->op);
    OSStatus st = run(&sec_engine_dp, c, &d, out);
    qd_free(&d);
    return st;
}

/* The macos profile: route (1.2), run the engines the query reaches, merge
 * the answers (1.5).  An add prefers the file-based keychain (1.4) and
 * never merges. */
static OSStatus shim(const call *c, qdict *q, CFTypeRef *out)
{
    int t = route(q);
    if (t == 0)
        return errSecParam;
    if (t == T_FB || (c->op == OP_ADD && (t & T_FB)))
        return run(&sec_engine_fb, c, q, out);           /* 1.4: an add prefers FB */
    if (t == T_DP)
        return run_dp_stripped(c, q, out);
    CFTypeRef fbres = NULL, dpres = NULL;
    OSStatus fbst = run(&sec_engine_fb, c, q, &fbres);
    OSStatus dpst = run_dp_stripped(c, q, &dpres);
    return merge(fbst, fbres, dpst, dpres, out);
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

/* The entry point of each call, by sec_op (faults are armed by its name). */
static const char *const entry_names[] = {
    [OP_ADD] = "SecItemAdd", [OP_COPY] = "SecItemCopyMatching",
    [OP_UPDATE] = "SecItemUpdate", [OP_DELETE] = "SecItemDelete",
};

/* Check the arguments, take the lock, consume an armed fault, begin the
 * store transaction.  SecItemUpdate's second dictionary is required. */
static bool enter(sec_op which, CFTypeRef dict, CFTypeRef dict2, OSStatus *st)
{
    const char *fn = entry_names[which];
    secsim_check(dict, SECSIM_TYPE_DICTIONARY, fn);
    if (dict2 != NULL || which == OP_UPDATE)
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

/* A call inside enter()/leave(): the ios profile has the DP keychain only;
 * the macos profile goes through the shim (whose add and copy clear
 * *result first). */
static OSStatus dispatch(const call *c, CFDictionaryRef query, CFTypeRef *obj, CFTypeRef *result)
{
    qdict q;
    qd_load(query, &q);
    OSStatus st;
    if (g_sec.profile == PROFILE_IOS) {
        st = run(&sec_engine_dp, c, &q, obj);
    } else {
        if (result != NULL)
            *result = NULL;                              /* the shim clears *result first */
        st = shim(c, &q, obj);
    }
    qd_free(&q);
    return st;
}

SECSIM_EXPORT OSStatus SecItemAdd(CFDictionaryRef attributes, CFTypeRef *result)
{
    sec_delay_gate("SecItemAdd"); /* secsim_set_delay: a hung securityd */
    OSStatus st;
    if (sec_identity_explode(0, attributes, result, &st))
        return st;                                       /* a SecIdentity: its certificate and key */
    if (!enter(OP_ADD, attributes, NULL, &st))
        return st;
    call c = { OP_ADD, NULL, result != NULL };
    CFTypeRef obj = NULL;
    st = leave(dispatch(&c, attributes, &obj, result));
    hand_back(st, obj, result);
    return st;
}

SECSIM_EXPORT OSStatus SecItemCopyMatching(CFDictionaryRef query, CFTypeRef *result)
{
    sec_delay_gate("SecItemCopyMatching"); /* secsim_set_delay: a hung securityd */
    OSStatus st;
    if (!enter(OP_COPY, query, NULL, &st))
        return st;
    call c = { OP_COPY, NULL, true };
    CFTypeRef obj = NULL;
    st = leave(dispatch(&c, query, &obj, result));
    hand_back(st, obj, result);
    return st;
}

SECSIM_EXPORT OSStatus SecItemUpdate(CFDictionaryRef query, CFDictionaryRef attributesToUpdate)
{
    sec_delay_gate("SecItemUpdate"); /* secsim_set_delay: a hung securityd */
    OSStatus st;
    if (sec_identity_explode(2, query, NULL, &st))
        return st;
    if (!enter(OP_UPDATE, query, attributesToUpdate, &st))
        return st;
    qdict u;
    qd_load(attributesToUpdate, &u);
    call c = { OP_UPDATE, &u, false };
    CFTypeRef none = NULL;                               /* an update has no result */
    st = dispatch(&c, query, &none, NULL);
    qd_free(&u);
    return leave(st);
}

SECSIM_EXPORT OSStatus SecItemDelete(CFDictionaryRef query)
{
    sec_delay_gate("SecItemDelete"); /* secsim_set_delay: a hung securityd */
    OSStatus st;
    if (sec_identity_explode(3, query, NULL, &st))
        return st;                                       /* SecItem.m explode_identity */
    if (!enter(OP_DELETE, query, NULL, &st))
        return st;
    call c = { OP_DELETE, NULL, false };
    CFTypeRef none = NULL;                               /* a delete has no result */
    return leave(dispatch(&c, query, &none, NULL));
}
