/*
 * cf_container.c - CFArray, CFDictionary and the kCFType callback structs.
 *
 * Containers copy the callback structs they are given (NULL = all callbacks
 * NULL: values are not retained and compare by pointer identity).  The
 * retain callback's result is what gets stored, as on Apple's CF.
 *
 * CFDictionary is a hash table in the style of CPython's compact dict: the
 * entries live in an array in insertion order (so CFDictionaryGetKeysAndValues
 * returns keys in the order they were added), and an open-addressing index
 * (linear probing, power-of-two size, load factor at most 2/3) maps hashes
 * to entry positions.  Removing leaves a hole in the entry array and a
 * tombstone in the index; both are reclaimed when the table is rebuilt.
 * Lookups cost O(1) on average.
 *
 * Decisions where the facts are silent: CFDictionaryCreate with a key given
 * twice keeps the first pair (add-if-absent, like CFDictionaryAddValue,
 * as Apple's CF does); CFDictionarySetValue on an existing key stores the
 * new key and value and releases the old ones (Apple's CFBasicHash).
 * Mutating an immutable container, an index out of bounds, or a negative
 * count/capacity ends the process (secsim_fatal), like the assertions of
 * Apple's debug CF.  The capacity argument is a hint.
 * CFHash of a container is its count (equal containers have equal counts).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cf_private.h"

/* ------------------------------------------------------------------ */
/* kCFType callbacks                                                   */
/* ------------------------------------------------------------------ */

static const void *type_retain(CFAllocatorRef allocator, const void *value)
{
    (void)allocator;
    return CFRetain(value);
}

static void type_release(CFAllocatorRef allocator, const void *value)
{
    (void)allocator;
    CFRelease(value);
}

static CFStringRef type_copy_description(const void *value)
{
    return CFCopyDescription(value);
}

static Boolean type_equal(const void *a, const void *b)
{
    return CFEqual(a, b);
}

static CFHashCode type_hash(const void *value)
{
    return CFHash(value);
}

/* A string is copied (an immutable one is its own copy: a retain); other
 * values are retained rather than rejected. */
static const void *copy_string_retain(CFAllocatorRef allocator, const void *value)
{
    (void)allocator;
    if (secsim_is(value, SECSIM_TYPE_STRING))
        return CFStringCreateCopy(NULL, value);
    return CFRetain(value);
}

const CFDictionaryKeyCallBacks kCFTypeDictionaryKeyCallBacks = {
    0, type_retain, type_release, type_copy_description, type_equal, type_hash,
};
const CFDictionaryKeyCallBacks kCFCopyStringDictionaryKeyCallBacks = {
    0, copy_string_retain, type_release, type_copy_description, type_equal, type_hash,
};
const CFDictionaryValueCallBacks kCFTypeDictionaryValueCallBacks = {
    0, type_retain, type_release, type_copy_description, type_equal,
};
const CFArrayCallBacks kCFTypeArrayCallBacks = {
    0, type_retain, type_release, type_copy_description, type_equal,
};

/* Describe an element with its container's copyDescription callback. */
static void describe_element(cf_sb *sb, const void *v, CFStringRef (*copy)(const void *), int depth)
{
    if (copy == type_copy_description) {
        cf_describe(sb, v, true, depth + 1);
    } else if (copy) {
        CFStringRef s = copy(v);
        if (s) {
            CFIndex n;
            const char *p = secsim_string_utf8(s, &n);
            cf_sb_putn(sb, p, (size_t)n);
            CFRelease(s);
        } else {
            cf_sb_puts(sb, "(null)");
        }
    } else {
        cf_sb_printf(sb, "<%p>", v);
    }
}

/* ------------------------------------------------------------------ */
/* CFArray                                                             */
/* ------------------------------------------------------------------ */

struct __CFArray {
    secsim_base base;
    bool is_mutable;
    CFArrayCallBacks cb;
    CFIndex count;
    CFIndex cap;
    const void **values;
};

CFTypeID CFArrayGetTypeID(void) { return SECSIM_TYPE_ARRAY; }

static struct __CFArray *array_new(CFIndex capacity, const CFArrayCallBacks *callBacks, bool is_mutable,
                                   const char *fn)
{
    if (capacity < 0)
        secsim_fatal("%s: negative capacity %ld", fn, capacity);
    struct __CFArray *a = cf_alloc(SECSIM_TYPE_ARRAY, sizeof *a);
    a->is_mutable = is_mutable;
    if (callBacks)
        a->cb = *callBacks;
    a->cap = capacity;
    a->values = cf_xmalloc(sizeof(void *) * (size_t)(capacity ? capacity : 1));
    return a;
}

static void array_push(struct __CFArray *a, const void *value)
{
    if (a->count == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 4;
        a->values = cf_xrealloc(a->values, sizeof(void *) * (size_t)a->cap);
    }
    a->values[a->count++] = a->cb.retain ? a->cb.retain(NULL, value) : value;
}

CFArrayRef CFArrayCreate(CFAllocatorRef allocator, const void **values, CFIndex numValues,
                         const CFArrayCallBacks *callBacks)
{
    (void)allocator;
    if (numValues < 0)
        secsim_fatal("CFArrayCreate: negative count %ld", numValues);
    if (!values && numValues > 0)
        secsim_fatal("CFArrayCreate: NULL values with count %ld", numValues);
    struct __CFArray *a = array_new(numValues, callBacks, false, "CFArrayCreate");
    for (CFIndex i = 0; i < numValues; i++)
        array_push(a, values[i]);
    return a;
}

CFMutableArrayRef CFArrayCreateMutable(CFAllocatorRef allocator, CFIndex capacity, const CFArrayCallBacks *callBacks)
{
    (void)allocator;
    return array_new(capacity, callBacks, true, "CFArrayCreateMutable");
}

void CFArrayAppendValue(CFMutableArrayRef theArray, const void *value)
{
    secsim_check(theArray, SECSIM_TYPE_ARRAY, "CFArrayAppendValue");
    if (!theArray->is_mutable)
        secsim_fatal("CFArrayAppendValue: the array is immutable");
    array_push(theArray, value);
}

CFIndex CFArrayGetCount(CFArrayRef theArray)
{
    secsim_check(theArray, SECSIM_TYPE_ARRAY, "CFArrayGetCount");
    return theArray->count;
}

const void *CFArrayGetValueAtIndex(CFArrayRef theArray, CFIndex idx)
{
    secsim_check(theArray, SECSIM_TYPE_ARRAY, "CFArrayGetValueAtIndex");
    if (idx < 0 || idx >= theArray->count)
        secsim_fatal("CFArrayGetValueAtIndex: index %ld out of bounds (count %ld)", idx, theArray->count);
    return theArray->values[idx];
}

static void array_finalize(CFTypeRef obj)
{
    struct __CFArray *a = (struct __CFArray *)obj;
    if (a->cb.release)
        for (CFIndex i = 0; i < a->count; i++)
            a->cb.release(NULL, a->values[i]);
    free(a->values);
    a->values = NULL;
    a->count = 0;
}

static Boolean array_equal(CFTypeRef x, CFTypeRef y)
{
    CFArrayRef a = x, b = y;
    if (a->count != b->count)
        return 0;
    for (CFIndex i = 0; i < a->count; i++) {
        const void *p = a->values[i], *q = b->values[i];
        if (p == q)
            continue;
        if (!a->cb.equal || !a->cb.equal(p, q))
            return 0;
    }
    return 1;
}

static CFHashCode array_hash(CFTypeRef obj)
{
    return cf_hash_int(((CFArrayRef)obj)->count);
}

static void array_describe(cf_sb *sb, CFTypeRef obj, bool nested, int depth)
{
    (void)nested;
    CFArrayRef a = obj;
    cf_sb_putn(sb, "(", 1);
    for (CFIndex i = 0; i < a->count; i++) {
        if (i)
            cf_sb_putn(sb, ", ", 2);
        describe_element(sb, a->values[i], a->cb.copyDescription, depth);
    }
    cf_sb_putn(sb, ")", 1);
}

const cf_type_ops cf_array_ops = { "CFArray", array_finalize, array_equal, array_hash, array_describe };

/* ------------------------------------------------------------------ */
/* CFDictionary                                                        */
/* ------------------------------------------------------------------ */

#define SLOT_EMPTY ((CFIndex)-1)
#define SLOT_DELETED ((CFIndex)-2)

typedef struct {
    CFHashCode hash;
    const void *key;
    const void *value;
    bool live;
} dict_entry;

struct __CFDictionary {
    secsim_base base;
    bool is_mutable;
    CFDictionaryKeyCallBacks kcb;
    CFDictionaryValueCallBacks vcb;
    CFIndex count;       /* live entries */
    CFIndex used;        /* entries[0..used) in use (live or holes) */
    CFIndex entries_cap;
    dict_entry *entries;
    CFIndex index_cap;   /* power of two, > entries_cap * 3 / 2 */
    CFIndex *index;      /* SLOT_EMPTY, SLOT_DELETED or a position in entries */
};

CFTypeID CFDictionaryGetTypeID(void) { return SECSIM_TYPE_DICTIONARY; }

static CFHashCode key_hash(CFDictionaryRef d, const void *key)
{
    return cf_hash_mix(d->kcb.hash ? d->kcb.hash(key) : (CFHashCode)(uintptr_t)key);
}

static bool key_equal(CFDictionaryRef d, const void *stored, const void *key)
{
    return stored == key || (d->kcb.equal && d->kcb.equal(stored, key));
}

/* Rebuild with room for at least `need` entries: compacts the entry array
 * (dropping holes) and recomputes the index. */
static void dict_rebuild(struct __CFDictionary *d, CFIndex need)
{
    CFIndex ecap = need < 8 ? 8 : need;
    CFIndex icap = 16;
    while (icap <= ecap + ecap / 2)
        icap *= 2;
    dict_entry *entries = cf_xmalloc(sizeof *entries * (size_t)ecap);
    CFIndex n = 0;
    for (CFIndex i = 0; i < d->used; i++)
        if (d->entries[i].live)
            entries[n++] = d->entries[i];
    free(d->entries);
    free(d->index);
    d->entries = entries;
    d->entries_cap = ecap;
    d->used = n;
    d->index_cap = icap;
    d->index = cf_xmalloc(sizeof *d->index * (size_t)icap);
    for (CFIndex i = 0; i < icap; i++)
        d->index[i] = SLOT_EMPTY;
    CFIndex mask = icap - 1;
    for (CFIndex i = 0; i < n; i++) {
        CFIndex s = (CFIndex)(entries[i].hash & (CFHashCode)mask);
        while (d->index[s] != SLOT_EMPTY)
            s = (s + 1) & mask;
        d->index[s] = i;
    }
}

/* Index slot holding key, or -1.  *free_slot (if given) receives the slot
 * where the key would be inserted. */
static CFIndex dict_find(CFDictionaryRef d, const void *key, CFHashCode h, CFIndex *free_slot)
{
    CFIndex mask = d->index_cap - 1;
    CFIndex s = (CFIndex)(h & (CFHashCode)mask);
    CFIndex first_deleted = -1;
    for (;;) {
        CFIndex e = d->index[s];
        if (e == SLOT_EMPTY) {
            if (free_slot)
                *free_slot = first_deleted >= 0 ? first_deleted : s;
            return -1;
        }
        if (e == SLOT_DELETED) {
            if (first_deleted < 0)
                first_deleted = s;
        } else if (d->entries[e].hash == h && key_equal(d, d->entries[e].key, key)) {
            return s;
        }
        s = (s + 1) & mask;
    }
}

static struct __CFDictionary *dict_new(CFIndex capacity, const CFDictionaryKeyCallBacks *kcb,
                                       const CFDictionaryValueCallBacks *vcb, bool is_mutable, const char *fn)
{
    if (capacity < 0)
        secsim_fatal("%s: negative capacity %ld", fn, capacity);
    struct __CFDictionary *d = cf_alloc(SECSIM_TYPE_DICTIONARY, sizeof *d);
    d->is_mutable = is_mutable;
    if (kcb)
        d->kcb = *kcb;
    if (vcb)
        d->vcb = *vcb;
    dict_rebuild(d, capacity);
    return d;
}

/* Append a pair known to be absent (slot from dict_find), retaining both. */
static void dict_insert_new(struct __CFDictionary *d, const void *key, const void *value, CFHashCode h,
                            CFIndex slot)
{
    if (d->used == d->entries_cap) {
        dict_rebuild(d, (d->count + 1) * 2);
        dict_find(d, key, h, &slot);
    }
    const void *k = d->kcb.retain ? d->kcb.retain(NULL, key) : key;
    const void *v = d->vcb.retain ? d->vcb.retain(NULL, value) : value;
    CFIndex e = d->used++;
    d->entries[e] = (dict_entry){ h, k, v, true };
    d->index[slot] = e;
    d->count++;
}

/* Add (add_only: keep an existing pair) or set a value. */
static void dict_put(struct __CFDictionary *d, const void *key, const void *value, bool add_only)
{
    CFHashCode h = key_hash(d, key);
    CFIndex free_slot = -1;
    CFIndex s = dict_find(d, key, h, &free_slot);
    if (s < 0) {
        dict_insert_new(d, key, value, h, free_slot);
        return;
    }
    if (add_only)
        return;
    /* Apple's CFBasicHash replaces the pair: the new key is retained and
     * stored, then the old key and the old value are released. */
    dict_entry *e = &d->entries[d->index[s]];
    const void *old_key = e->key, *old_value = e->value;
    e->key = d->kcb.retain ? d->kcb.retain(NULL, key) : key;
    e->value = d->vcb.retain ? d->vcb.retain(NULL, value) : value;
    if (d->kcb.release)
        d->kcb.release(NULL, old_key);
    if (d->vcb.release)
        d->vcb.release(NULL, old_value);
}

CFDictionaryRef CFDictionaryCreate(CFAllocatorRef allocator, const void **keys, const void **values,
                                   CFIndex numValues, const CFDictionaryKeyCallBacks *keyCallBacks,
                                   const CFDictionaryValueCallBacks *valueCallBacks)
{
    (void)allocator;
    if (numValues < 0)
        secsim_fatal("CFDictionaryCreate: negative count %ld", numValues);
    if ((!keys || !values) && numValues > 0)
        secsim_fatal("CFDictionaryCreate: NULL keys or values with count %ld", numValues);
    struct __CFDictionary *d = dict_new(numValues, keyCallBacks, valueCallBacks, false, "CFDictionaryCreate");
    for (CFIndex i = 0; i < numValues; i++)
        dict_put(d, keys[i], values[i], true);
    return d;
}

CFMutableDictionaryRef CFDictionaryCreateMutable(CFAllocatorRef allocator, CFIndex capacity,
                                                 const CFDictionaryKeyCallBacks *keyCallBacks,
                                                 const CFDictionaryValueCallBacks *valueCallBacks)
{
    (void)allocator;
    return dict_new(capacity, keyCallBacks, valueCallBacks, true, "CFDictionaryCreateMutable");
}

static struct __CFDictionary *dict_copy(CFDictionaryRef src, CFIndex capacity, bool is_mutable, const char *fn)
{
    CFIndex cap = capacity > src->count ? capacity : src->count;
    struct __CFDictionary *d = dict_new(cap, &src->kcb, &src->vcb, is_mutable, fn);
    for (CFIndex i = 0; i < src->used; i++) {
        const dict_entry *e = &src->entries[i];
        if (!e->live)
            continue;
        CFIndex slot = -1;
        dict_find(d, e->key, e->hash, &slot);
        dict_insert_new(d, e->key, e->value, e->hash, slot);
    }
    return d;
}

CFMutableDictionaryRef CFDictionaryCreateMutableCopy(CFAllocatorRef allocator, CFIndex capacity,
                                                     CFDictionaryRef theDict)
{
    (void)allocator;
    secsim_check(theDict, SECSIM_TYPE_DICTIONARY, "CFDictionaryCreateMutableCopy");
    return dict_copy(theDict, capacity, true, "CFDictionaryCreateMutableCopy");
}

CFDictionaryRef cf_dictionary_copy(CFDictionaryRef d)
{
    secsim_check(d, SECSIM_TYPE_DICTIONARY, "CFDictionary copy");
    return dict_copy(d, 0, false, "CFDictionary copy");
}

CFDictionaryRef cf_dictionary_create_empty(void)
{
    return CFDictionaryCreate(NULL, NULL, NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                              &kCFTypeDictionaryValueCallBacks);
}

static void check_mutable(CFDictionaryRef d, const char *fn)
{
    secsim_check(d, SECSIM_TYPE_DICTIONARY, fn);
    if (!d->is_mutable)
        secsim_fatal("%s: the dictionary is immutable", fn);
}

void CFDictionarySetValue(CFMutableDictionaryRef theDict, const void *key, const void *value)
{
    check_mutable(theDict, "CFDictionarySetValue");
    dict_put(theDict, key, value, false);
}

void CFDictionaryRemoveValue(CFMutableDictionaryRef theDict, const void *key)
{
    check_mutable(theDict, "CFDictionaryRemoveValue");
    struct __CFDictionary *d = theDict;
    CFIndex s = dict_find(d, key, key_hash(d, key), NULL);
    if (s < 0)
        return;
    dict_entry *e = &d->entries[d->index[s]];
    const void *k = e->key, *v = e->value;
    e->live = false;
    e->key = e->value = NULL;
    d->index[s] = SLOT_DELETED;
    d->count--;
    if (d->count == 0) { /* cheap full reset: no holes, no tombstones */
        d->used = 0;
        for (CFIndex i = 0; i < d->index_cap; i++)
            d->index[i] = SLOT_EMPTY;
    }
    /* Unlinked first, released after: a release callback may run anything. */
    if (d->kcb.release)
        d->kcb.release(NULL, k);
    if (d->vcb.release)
        d->vcb.release(NULL, v);
}

CFIndex CFDictionaryGetCount(CFDictionaryRef theDict)
{
    secsim_check(theDict, SECSIM_TYPE_DICTIONARY, "CFDictionaryGetCount");
    return theDict->count;
}

void CFDictionaryGetKeysAndValues(CFDictionaryRef theDict, const void **keys, const void **values)
{
    secsim_check(theDict, SECSIM_TYPE_DICTIONARY, "CFDictionaryGetKeysAndValues");
    CFIndex n = 0;
    for (CFIndex i = 0; i < theDict->used; i++) {
        const dict_entry *e = &theDict->entries[i];
        if (!e->live)
            continue;
        if (keys)
            keys[n] = e->key;
        if (values)
            values[n] = e->value;
        n++;
    }
}

static const dict_entry *dict_lookup(CFDictionaryRef d, const void *key)
{
    CFIndex s = dict_find(d, key, key_hash(d, key), NULL);
    return s < 0 ? NULL : &d->entries[d->index[s]];
}

const void *CFDictionaryGetValue(CFDictionaryRef theDict, const void *key)
{
    secsim_check(theDict, SECSIM_TYPE_DICTIONARY, "CFDictionaryGetValue");
    const dict_entry *e = dict_lookup(theDict, key);
    return e ? e->value : NULL;
}

Boolean CFDictionaryGetValueIfPresent(CFDictionaryRef theDict, const void *key, const void **value)
{
    secsim_check(theDict, SECSIM_TYPE_DICTIONARY, "CFDictionaryGetValueIfPresent");
    const dict_entry *e = dict_lookup(theDict, key);
    if (e && value)
        *value = e->value;
    return e != NULL;
}

Boolean CFDictionaryContainsKey(CFDictionaryRef theDict, const void *key)
{
    secsim_check(theDict, SECSIM_TYPE_DICTIONARY, "CFDictionaryContainsKey");
    return dict_lookup(theDict, key) != NULL;
}

const void *cf_dictionary_find_string_key(CFDictionaryRef d, const char *key)
{
    size_t n = strlen(key);
    for (CFIndex i = 0; i < d->used; i++) {
        const dict_entry *e = &d->entries[i];
        if (!e->live || !secsim_is(e->key, SECSIM_TYPE_STRING))
            continue;
        CFStringRef k = e->key;
        if ((size_t)k->nbytes == n && memcmp(k->bytes, key, n) == 0)
            return e->value;
    }
    return NULL;
}

static void dict_finalize(CFTypeRef obj)
{
    struct __CFDictionary *d = (struct __CFDictionary *)obj;
    for (CFIndex i = 0; i < d->used; i++) {
        dict_entry *e = &d->entries[i];
        if (!e->live)
            continue;
        if (d->kcb.release)
            d->kcb.release(NULL, e->key);
        if (d->vcb.release)
            d->vcb.release(NULL, e->value);
    }
    free(d->entries);
    free(d->index);
    d->entries = NULL;
    d->index = NULL;
    d->count = d->used = 0;
}

static Boolean dict_equal(CFTypeRef x, CFTypeRef y)
{
    CFDictionaryRef a = x, b = y;
    if (a->count != b->count)
        return 0;
    for (CFIndex i = 0; i < a->used; i++) {
        const dict_entry *e = &a->entries[i];
        if (!e->live)
            continue;
        const dict_entry *f = dict_lookup(b, e->key);
        if (!f)
            return 0;
        if (e->value != f->value && !(a->vcb.equal && a->vcb.equal(e->value, f->value)))
            return 0;
    }
    return 1;
}

static CFHashCode dict_hash(CFTypeRef obj)
{
    return cf_hash_int(((CFDictionaryRef)obj)->count) ^ 0x44494354UL;
}

static void dict_describe(cf_sb *sb, CFTypeRef obj, bool nested, int depth)
{
    (void)nested;
    CFDictionaryRef d = obj;
    cf_sb_putn(sb, "{", 1);
    bool first = true;
    for (CFIndex i = 0; i < d->used; i++) {
        const dict_entry *e = &d->entries[i];
        if (!e->live)
            continue;
        cf_sb_puts(sb, first ? "" : "; ");
        first = false;
        describe_element(sb, e->key, d->kcb.copyDescription, depth);
        cf_sb_puts(sb, " = ");
        describe_element(sb, e->value, d->vcb.copyDescription, depth);
    }
    cf_sb_putn(sb, "}", 1);
}

const cf_type_ops cf_dictionary_ops = { "CFDictionary", dict_finalize, dict_equal, dict_hash, dict_describe };

/* ------------------------------------------------------------------ */
/* The rest of the CFArray / CFDictionary surface (issue #17)          */
/* ------------------------------------------------------------------ */

static void check_array_range(CFArrayRef a, CFRange r, const char *fn)
{
    if (r.location < 0 || r.length < 0 || r.location > a->count || r.length > a->count - r.location)
        secsim_fatal("%s: range {%ld, %ld} out of bounds (count %ld)", fn, r.location, r.length, a->count);
}

static struct __CFArray *check_mutable_array(CFMutableArrayRef a, const char *fn)
{
    secsim_check(a, SECSIM_TYPE_ARRAY, fn);
    if (!a->is_mutable)
        secsim_fatal("%s: the array is immutable", fn);
    return a;
}

static bool array_value_equal(CFArrayRef a, const void *stored, const void *value)
{
    return stored == value || (a->cb.equal && a->cb.equal(stored, value));
}

CFArrayRef CFArrayCreateCopy(CFAllocatorRef allocator, CFArrayRef theArray)
{
    (void)allocator;
    secsim_check(theArray, SECSIM_TYPE_ARRAY, "CFArrayCreateCopy");
    struct __CFArray *a = array_new(theArray->count, &theArray->cb, false, "CFArrayCreateCopy");
    for (CFIndex i = 0; i < theArray->count; i++)
        array_push(a, theArray->values[i]);
    return a;
}

CFMutableArrayRef CFArrayCreateMutableCopy(CFAllocatorRef allocator, CFIndex capacity, CFArrayRef theArray)
{
    (void)allocator;
    secsim_check(theArray, SECSIM_TYPE_ARRAY, "CFArrayCreateMutableCopy");
    if (capacity > 0 && capacity < theArray->count)
        secsim_fatal("CFArrayCreateMutableCopy: capacity %ld below the count %ld", capacity, theArray->count);
    struct __CFArray *a = array_new(theArray->count, &theArray->cb, true, "CFArrayCreateMutableCopy");
    for (CFIndex i = 0; i < theArray->count; i++)
        array_push(a, theArray->values[i]);
    return a;
}

void CFArrayGetValues(CFArrayRef theArray, CFRange range, const void **values)
{
    secsim_check(theArray, SECSIM_TYPE_ARRAY, "CFArrayGetValues");
    check_array_range(theArray, range, "CFArrayGetValues");
    if (range.length)
        memcpy(values, theArray->values + range.location, sizeof(void *) * (size_t)range.length);
}

CFIndex CFArrayGetFirstIndexOfValue(CFArrayRef theArray, CFRange range, const void *value)
{
    secsim_check(theArray, SECSIM_TYPE_ARRAY, "CFArrayGetFirstIndexOfValue");
    check_array_range(theArray, range, "CFArrayGetFirstIndexOfValue");
    for (CFIndex i = range.location; i < range.location + range.length; i++)
        if (array_value_equal(theArray, theArray->values[i], value))
            return i;
    return kCFNotFound;
}

Boolean CFArrayContainsValue(CFArrayRef theArray, CFRange range, const void *value)
{
    secsim_check(theArray, SECSIM_TYPE_ARRAY, "CFArrayContainsValue");
    check_array_range(theArray, range, "CFArrayContainsValue");
    return CFArrayGetFirstIndexOfValue(theArray, range, value) != kCFNotFound;
}

CFIndex CFArrayGetCountOfValue(CFArrayRef theArray, CFRange range, const void *value)
{
    secsim_check(theArray, SECSIM_TYPE_ARRAY, "CFArrayGetCountOfValue");
    check_array_range(theArray, range, "CFArrayGetCountOfValue");
    CFIndex n = 0;
    for (CFIndex i = range.location; i < range.location + range.length; i++)
        if (array_value_equal(theArray, theArray->values[i], value))
            n++;
    return n;
}

void CFArrayApplyFunction(CFArrayRef theArray, CFRange range, CFArrayApplierFunction applier, void *context)
{
    secsim_check(theArray, SECSIM_TYPE_ARRAY, "CFArrayApplyFunction");
    check_array_range(theArray, range, "CFArrayApplyFunction");
    if (!applier)
        secsim_fatal("CFArrayApplyFunction: NULL applier");
    for (CFIndex i = range.location; i < range.location + range.length; i++)
        applier(theArray->values[i], context);
}

void CFArrayInsertValueAtIndex(CFMutableArrayRef theArray, CFIndex idx, const void *value)
{
    struct __CFArray *a = check_mutable_array(theArray, "CFArrayInsertValueAtIndex");
    if (idx < 0 || idx > a->count)
        secsim_fatal("CFArrayInsertValueAtIndex: index %ld out of bounds (count %ld)", idx, a->count);
    array_push(a, value);
    const void *v = a->values[a->count - 1];
    memmove(a->values + idx + 1, a->values + idx, sizeof(void *) * (size_t)(a->count - 1 - idx));
    a->values[idx] = v;
}

void CFArraySetValueAtIndex(CFMutableArrayRef theArray, CFIndex idx, const void *value)
{
    struct __CFArray *a = check_mutable_array(theArray, "CFArraySetValueAtIndex");
    if (idx < 0 || idx > a->count)
        secsim_fatal("CFArraySetValueAtIndex: index %ld out of bounds (count %ld)", idx, a->count);
    if (idx == a->count) { /* Apple's CF: setting at count appends */
        array_push(a, value);
        return;
    }
    const void *old = a->values[idx];
    a->values[idx] = a->cb.retain ? a->cb.retain(NULL, value) : value;
    if (a->cb.release)
        a->cb.release(NULL, old);
}

void CFArrayRemoveValueAtIndex(CFMutableArrayRef theArray, CFIndex idx)
{
    struct __CFArray *a = check_mutable_array(theArray, "CFArrayRemoveValueAtIndex");
    if (idx < 0 || idx >= a->count)
        secsim_fatal("CFArrayRemoveValueAtIndex: index %ld out of bounds (count %ld)", idx, a->count);
    const void *old = a->values[idx];
    memmove(a->values + idx, a->values + idx + 1, sizeof(void *) * (size_t)(a->count - idx - 1));
    a->count--;
    if (a->cb.release)
        a->cb.release(NULL, old);
}

void CFArrayRemoveAllValues(CFMutableArrayRef theArray)
{
    struct __CFArray *a = check_mutable_array(theArray, "CFArrayRemoveAllValues");
    CFIndex n = a->count;
    const void **old = a->values;
    a->values = cf_xmalloc(sizeof(void *) * (size_t)(a->cap ? a->cap : 1));
    a->count = 0;
    if (a->cb.release)
        for (CFIndex i = 0; i < n; i++)
            a->cb.release(NULL, old[i]);
    free(old);
}

void CFArrayAppendArray(CFMutableArrayRef theArray, CFArrayRef otherArray, CFRange otherRange)
{
    struct __CFArray *a = check_mutable_array(theArray, "CFArrayAppendArray");
    secsim_check(otherArray, SECSIM_TYPE_ARRAY, "CFArrayAppendArray");
    check_array_range(otherArray, otherRange, "CFArrayAppendArray");
    /* otherArray may be theArray: copy the pointers first. */
    CFIndex n = otherRange.length;
    const void **tmp = cf_xmalloc(sizeof(void *) * (size_t)(n ? n : 1));
    if (n)
        memcpy(tmp, otherArray->values + otherRange.location, sizeof(void *) * (size_t)n);
    for (CFIndex i = 0; i < n; i++)
        array_push(a, tmp[i]);
    free(tmp);
}

CFDictionaryRef CFDictionaryCreateCopy(CFAllocatorRef allocator, CFDictionaryRef theDict)
{
    (void)allocator;
    secsim_check(theDict, SECSIM_TYPE_DICTIONARY, "CFDictionaryCreateCopy");
    return dict_copy(theDict, 0, false, "CFDictionaryCreateCopy");
}

void CFDictionaryAddValue(CFMutableDictionaryRef theDict, const void *key, const void *value)
{
    check_mutable(theDict, "CFDictionaryAddValue");
    dict_put(theDict, key, value, true);
}

void CFDictionaryReplaceValue(CFMutableDictionaryRef theDict, const void *key, const void *value)
{
    check_mutable(theDict, "CFDictionaryReplaceValue");
    if (dict_lookup(theDict, key))
        dict_put(theDict, key, value, false);
}

void CFDictionaryRemoveAllValues(CFMutableDictionaryRef theDict)
{
    check_mutable(theDict, "CFDictionaryRemoveAllValues");
    struct __CFDictionary *d = theDict;
    /* Detach the entries, reset, then release (callbacks may run anything). */
    dict_entry *entries = d->entries;
    CFIndex used = d->used;
    d->entries = NULL;
    d->used = d->count = 0;
    d->entries_cap = 0;
    dict_rebuild(d, 0);
    for (CFIndex i = 0; i < used; i++) {
        if (!entries[i].live)
            continue;
        if (d->kcb.release)
            d->kcb.release(NULL, entries[i].key);
        if (d->vcb.release)
            d->vcb.release(NULL, entries[i].value);
    }
    free(entries);
}

Boolean CFDictionaryContainsValue(CFDictionaryRef theDict, const void *value)
{
    secsim_check(theDict, SECSIM_TYPE_DICTIONARY, "CFDictionaryContainsValue");
    for (CFIndex i = 0; i < theDict->used; i++) {
        const dict_entry *e = &theDict->entries[i];
        if (e->live && (e->value == value || (theDict->vcb.equal && theDict->vcb.equal(e->value, value))))
            return 1;
    }
    return 0;
}

CFIndex CFDictionaryGetCountOfKey(CFDictionaryRef theDict, const void *key)
{
    secsim_check(theDict, SECSIM_TYPE_DICTIONARY, "CFDictionaryGetCountOfKey");
    return dict_lookup(theDict, key) ? 1 : 0;
}

void CFDictionaryApplyFunction(CFDictionaryRef theDict, CFDictionaryApplierFunction applier, void *context)
{
    secsim_check(theDict, SECSIM_TYPE_DICTIONARY, "CFDictionaryApplyFunction");
    if (!applier)
        secsim_fatal("CFDictionaryApplyFunction: NULL applier");
    for (CFIndex i = 0; i < theDict->used; i++) {
        const dict_entry *e = &theDict->entries[i];
        if (e->live)
            applier(e->key, e->value, context);
    }
}

/* ------------------------------------------------------------------ */
/* CFSet: a dictionary of keys only                                    */
/* ------------------------------------------------------------------ */

struct __CFSet {
    secsim_base base;
    bool is_mutable;
    struct __CFDictionary *d; /* keys are the values; the set's callbacks are the key callbacks */
};

const CFSetCallBacks kCFTypeSetCallBacks = { 0, type_retain, type_release, type_copy_description, type_equal,
                                             type_hash };
const CFSetCallBacks kCFCopyStringSetCallBacks = { 0, copy_string_retain, type_release, type_copy_description,
                                                   type_equal, type_hash };

static void set_finalize(CFTypeRef obj)
{
    struct __CFSet *s = (struct __CFSet *)obj;
    if (s->d)
        CFRelease(s->d);
    s->d = NULL;
}

static Boolean set_equal(CFTypeRef x, CFTypeRef y)
{
    CFSetRef a = x, b = y;
    if (a->d->count != b->d->count)
        return 0;
    for (CFIndex i = 0; i < a->d->used; i++) {
        const dict_entry *e = &a->d->entries[i];
        if (e->live && !dict_lookup(b->d, e->key))
            return 0;
    }
    return 1;
}

static CFHashCode set_hash(CFTypeRef obj)
{
    return cf_hash_int(((CFSetRef)obj)->d->count) ^ 0x53455453UL;
}

static void set_describe(cf_sb *sb, CFTypeRef obj, bool nested, int depth)
{
    (void)nested;
    CFSetRef s = obj;
    cf_sb_puts(sb, "{(");
    bool first = true;
    for (CFIndex i = 0; i < s->d->used; i++) {
        const dict_entry *e = &s->d->entries[i];
        if (!e->live)
            continue;
        cf_sb_puts(sb, first ? "" : ", ");
        first = false;
        describe_element(sb, e->key, s->d->kcb.copyDescription, depth);
    }
    cf_sb_puts(sb, ")}");
}

static const cf_type_ops cf_set_ops = { "CFSet", set_finalize, set_equal, set_hash, set_describe };
static const secsim_class cf_set_class = { "CFSet", set_finalize, set_equal, set_hash };
static CFTypeID g_set_type;
static pthread_once_t g_set_once = PTHREAD_ONCE_INIT;

static void set_register(void)
{
    g_set_type = cf_register_type(&cf_set_class, &cf_set_ops);
}

CFTypeID CFSetGetTypeID(void)
{
    pthread_once(&g_set_once, set_register);
    return g_set_type;
}

static struct __CFSet *set_new(CFIndex capacity, const CFSetCallBacks *cb, bool is_mutable, const char *fn)
{
    CFTypeID t = CFSetGetTypeID();
    struct __CFDictionary *d = dict_new(capacity, (const CFDictionaryKeyCallBacks *)cb, NULL, true, fn);
    struct __CFSet *s = (struct __CFSet *)secsim_create_instance(t, sizeof *s - sizeof(secsim_base));
    s->is_mutable = is_mutable;
    s->d = d;
    return s;
}

static CFSetRef check_set(CFSetRef s, const char *fn)
{
    secsim_check(s, CFSetGetTypeID(), fn);
    return s;
}

static struct __CFSet *check_mutable_set(CFMutableSetRef s, const char *fn)
{
    check_set(s, fn);
    if (!s->is_mutable)
        secsim_fatal("%s: the set is immutable", fn);
    return s;
}

CFSetRef CFSetCreate(CFAllocatorRef allocator, const void **values, CFIndex numValues, const CFSetCallBacks *callBacks)
{
    (void)allocator;
    if (numValues < 0)
        secsim_fatal("CFSetCreate: negative count %ld", numValues);
    if (!values && numValues > 0)
        secsim_fatal("CFSetCreate: NULL values with count %ld", numValues);
    struct __CFSet *s = set_new(numValues, callBacks, false, "CFSetCreate");
    for (CFIndex i = 0; i < numValues; i++)
        dict_put(s->d, values[i], NULL, true);
    return s;
}

static struct __CFSet *set_copy(CFSetRef src, CFIndex capacity, bool is_mutable, const char *fn)
{
    CFTypeID t = CFSetGetTypeID();
    struct __CFDictionary *d = dict_copy(src->d, capacity, true, fn);
    struct __CFSet *s = (struct __CFSet *)secsim_create_instance(t, sizeof *s - sizeof(secsim_base));
    s->is_mutable = is_mutable;
    s->d = d;
    return s;
}

CFSetRef CFSetCreateCopy(CFAllocatorRef allocator, CFSetRef theSet)
{
    (void)allocator;
    check_set(theSet, "CFSetCreateCopy");
    return set_copy(theSet, 0, false, "CFSetCreateCopy");
}

CFMutableSetRef CFSetCreateMutable(CFAllocatorRef allocator, CFIndex capacity, const CFSetCallBacks *callBacks)
{
    (void)allocator;
    return set_new(capacity, callBacks, true, "CFSetCreateMutable");
}

CFMutableSetRef CFSetCreateMutableCopy(CFAllocatorRef allocator, CFIndex capacity, CFSetRef theSet)
{
    (void)allocator;
    check_set(theSet, "CFSetCreateMutableCopy");
    return set_copy(theSet, capacity, true, "CFSetCreateMutableCopy");
}

CFIndex CFSetGetCount(CFSetRef theSet)
{
    return check_set(theSet, "CFSetGetCount")->d->count;
}

Boolean CFSetContainsValue(CFSetRef theSet, const void *value)
{
    return dict_lookup(check_set(theSet, "CFSetContainsValue")->d, value) != NULL;
}

const void *CFSetGetValue(CFSetRef theSet, const void *value)
{
    const dict_entry *e = dict_lookup(check_set(theSet, "CFSetGetValue")->d, value);
    return e ? e->key : NULL;
}

void CFSetGetValues(CFSetRef theSet, const void **values)
{
    CFDictionaryGetKeysAndValues(check_set(theSet, "CFSetGetValues")->d, values, NULL);
}

void CFSetApplyFunction(CFSetRef theSet, CFSetApplierFunction applier, void *context)
{
    CFDictionaryRef d = check_set(theSet, "CFSetApplyFunction")->d;
    if (!applier)
        secsim_fatal("CFSetApplyFunction: NULL applier");
    for (CFIndex i = 0; i < d->used; i++)
        if (d->entries[i].live)
            applier(d->entries[i].key, context);
}

void CFSetAddValue(CFMutableSetRef theSet, const void *value)
{
    dict_put(check_mutable_set(theSet, "CFSetAddValue")->d, value, NULL, true);
}

void CFSetSetValue(CFMutableSetRef theSet, const void *value)
{
    dict_put(check_mutable_set(theSet, "CFSetSetValue")->d, value, NULL, false);
}

void CFSetRemoveValue(CFMutableSetRef theSet, const void *value)
{
    CFDictionaryRemoveValue(check_mutable_set(theSet, "CFSetRemoveValue")->d, value);
}

void CFSetRemoveAllValues(CFMutableSetRef theSet)
{
    CFDictionaryRemoveAllValues(check_mutable_set(theSet, "CFSetRemoveAllValues")->d);
}
