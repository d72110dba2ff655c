/*
 * sec_index.c - the keychain's uniqueness index (sec_index.h): the
 * multimap (skindex), the hash of an item's uniqueness key
 * (sec_item_key_hash), the keychain's own index kept by sec_store.c's edits,
 * and the lookup of an item with the same key (confirmed with the engine's
 * own comparison).
 */
#include <stdlib.h>
#include <string.h>

#include "sec_engine.h"

/* ------------------------------------------------------------------ */
/* the multimap: hash -> item (open addressing, linear probing) */

static void skindex_grow(skindex *x)
{
    size_t ncap = x->cap ? x->cap * 2 : 64;
    skslot *ns = sec_xmalloc(ncap * sizeof *ns);
    memset(ns, 0, ncap * sizeof *ns);
    for (size_t i = 0; i < x->cap; i++) {
        if (x->slots[i].it == NULL)
            continue;
        size_t j = (size_t)x->slots[i].h & (ncap - 1);
        while (ns[j].it != NULL)
            j = (j + 1) & (ncap - 1);
        ns[j] = x->slots[i];
    }
    free(x->slots);
    x->slots = ns;
    x->cap = ncap;
}

void skindex_insert(skindex *x, uint64_t h, sitem *it)
{
    if ((x->n + 1) * 2 > x->cap) /* load factor <= 1/2 */
        skindex_grow(x);
    size_t mask = x->cap - 1, j = (size_t)h & mask;
    while (x->slots[j].it != NULL)
        j = (j + 1) & mask;
    x->slots[j].h = h;
    x->slots[j].it = it;
    x->n++;
}

bool skindex_remove(skindex *x, uint64_t h, const sitem *it)
{
    if (x->cap == 0)
        return false;
    size_t mask = x->cap - 1, j = (size_t)h & mask;
    while (x->slots[j].it != it) {
        if (x->slots[j].it == NULL)
            return false;
        j = (j + 1) & mask;
    }
    /* Backward-shift deletion: move later entries of the run into the hole
     * when their home slot does not lie cyclically in (hole, their slot]. */
    size_t hole = j;
    for (size_t k = (j + 1) & mask; x->slots[k].it != NULL; k = (k + 1) & mask) {
        size_t home = (size_t)x->slots[k].h & mask;
        bool stays = hole <= k ? (hole < home && home <= k) : (hole < home || home <= k);
        if (!stays) {
            x->slots[hole] = x->slots[k];
            hole = k;
        }
    }
    x->slots[hole].it = NULL;
    x->slots[hole].h = 0;
    x->n--;
    return true;
}

sitem *skindex_next(const skindex *x, uint64_t h, size_t *cursor)
{
    if (x->cap == 0)
        return NULL;
    size_t mask = x->cap - 1;
    while (*cursor < x->cap) {
        const skslot *s = &x->slots[((size_t)h + *cursor) & mask];
        if (s->it == NULL)
            return NULL;
        ++*cursor;
        if (s->h == h)
            return s->it;
    }
    return NULL;
}

void skindex_free(skindex *x)
{
    free(x->slots);
    x->slots = NULL;
    x->cap = x->n = 0;
}

/* ------------------------------------------------------------------ */
/* the uniqueness-key hash
 *
 * Must give equal hashes to every pair of values the engines' comparisons
 * call equal (dp_same_primary: sec_dp_equal, a missing value equal only to a
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

/* ------------------------------------------------------------------ */
/* the keychain's index */

static skindex g_index; /* every item of g_kc, by sec_item_key_hash */

void sec_index_add(sitem *it)
{
    it->khash = sec_item_key_hash(it);
    skindex_insert(&g_index, it->khash, it);
}

void sec_index_remove(const sitem *it)
{
    if (!skindex_remove(&g_index, it->khash, it))
        secsim_fatal("keychain index: item missing (an item was changed while in the keychain)");
}

void sec_index_clear(void)
{
    skindex_free(&g_index);
}

sitem *sec_index_next(uint64_t h, size_t *cursor)
{
    return skindex_next(&g_index, h, cursor);
}

sitem *sec_kc_same_key(const sitem *it, const sitem *except)
{
    uint64_t h = sec_item_key_hash(it);
    size_t cur = 0;
    sitem *c;
    while ((c = sec_index_next(h, &cur)) != NULL) {
        if (c == except)
            continue;
        if (it->impl == IMPL_DP ? dp_same_primary(c, it) : fb_same_unique(c, it))
            return c;
    }
    return NULL;
}
