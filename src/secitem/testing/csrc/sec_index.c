/*
 * sec_index.c - the keychain's uniqueness index: the hash of an item's
 * uniqueness key (sec_item_key_hash), the lookup of an item with the same
 * key (confirmed with the engine's own comparison), and the keychain edits
 * the engines share.
 */
#include <stdlib.h>
#include <string.h>

#include "sec_engine.h"

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
sitem *kc_same_key(const sitem *it, const sitem *except)
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
/* Put `fresh` in the place of `old` in the keychain (freeing `old`); true
 * if `old` was there and the keychain now owns `fresh`. */
bool kc_replace(const sitem *old, sitem *fresh)
{
    for (size_t k = 0; k < g_kc.n; k++) {
        if (g_kc.items[k] == old) {
            sec_kc_replace_at(k, fresh);
            return true;
        }
    }
    return false;
}
void remove_items(sitem **v, size_t n)
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
        sec_mark_modified();
}

