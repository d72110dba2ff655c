/*
 * sec_index.h - the keychain's uniqueness index (sec_index.c), the one
 * place that knows how items are found by their uniqueness key.
 *
 * The index is a multimap hash -> item (skindex: open addressing, linear
 * probing, backward-shift deletion) keyed by sec_item_key_hash.  It only
 * narrows the candidates: every hit is confirmed with the engine's own
 * comparison (dp_same_primary / fb_same_unique, sec_engine.h).
 *
 * The keychain's index follows the items of g_kc: the keychain edits of
 * sec_store.c add and remove each item with sec_index_add /
 * sec_index_remove, and empty it with sec_index_clear.  The multimap itself
 * is also used on its own (the DP update checks its batch with one).
 */
#ifndef SEC_INDEX_H
#define SEC_INDEX_H

#include "sec_private.h"

/* ---- the multimap ---- */
typedef struct skslot {
    uint64_t h;
    sitem *it;      /* NULL: empty slot */
} skslot;

typedef struct skindex {
    skslot *slots;
    size_t cap, n;  /* cap: 0 or a power of two */
} skindex;

void skindex_insert(skindex *x, uint64_t h, sitem *it);
/* Remove the entry (h, it); false if absent. */
bool skindex_remove(skindex *x, uint64_t h, const sitem *it);
/* Next item stored under h: start with *cursor = 0; NULL when done.  The
 * index must not change during the iteration. */
sitem *skindex_next(const skindex *x, uint64_t h, size_t *cursor);
void skindex_free(skindex *x);

/* Hash of an item's uniqueness key: (implementation, class, the values of
 * the DP primary-key columns (4.3, 4.4) or of the FB unique-index attributes
 * (4.8)).  Two items that dp_same_primary / fb_same_unique call equal have
 * the same hash. */
uint64_t sec_item_key_hash(const sitem *it);

/* ---- the keychain's index (every item of g_kc, by sec_item_key_hash) ---- */
/* Index an item entering the keychain (sets it->khash). */
void sec_index_add(sitem *it);
/* Unindex an item leaving the keychain; aborts if it is not indexed (it was
 * changed while in the keychain). */
void sec_index_remove(const sitem *it);
/* Empty the index (the keychain was emptied). */
void sec_index_clear(void);
/* Next keychain item stored under h, as skindex_next. */
sitem *sec_index_next(uint64_t h, size_t *cursor);
/* An item of the keychain with the same uniqueness key as `it` (the
 * engine's comparison), other than `except`; NULL if none. */
sitem *sec_kc_same_key(const sitem *it, const sitem *except);

#endif /* SEC_INDEX_H */
