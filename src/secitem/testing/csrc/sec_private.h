/*
 * sec_private.h - what the Security files of the emulator (sec_*.c) share.
 *
 *   sec_objects.c  kSec* constants, SecCopyErrorMessageString,
 *                  SecAccessControl and the item-reference classes.
 *   sec_value.c    the plain-C item model (tagged values, items), the
 *                  attribute schema of every class, value conversions.
 *   sec_store.c    process state (profile, access groups, lock, user,
 *                  pending faults), the keychain, persistence (SECSIM_STORE),
 *                  the secsim_* controls.
 *   sec_item.c     SecItemAdd / CopyMatching / Update / Delete: entry
 *                  points, routing, result shapes; with sec_query.c,
 *                  sec_engine_dp.c (data-protection, DP), sec_engine_fb.c
 *                  (file-based, FB) and sec_index.c behind sec_engine.h.
 *   sec_index.c    the keychain's uniqueness index (sec_index.h).
 *
 * Items are stored as plain C data (never as CF objects), so secsim_reset()
 * and the live-object count are independent of what the keychain holds.
 * The rule numbers in comments refer to secitem-facts.md section 5.
 */
#ifndef SEC_PRIVATE_H
#define SEC_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secsim_internal.h"

/* Provided by the CoreFoundation part. */
long secsim_cf_live_objects(void);

/* ---- OSStatus values (facts section 3): the errSec* enum that
 * tools/gen_tables.py generates for the native headers, the same table as
 * errors.def (tests/emulator/test_native_headers.py checks they agree). ---- */
#include "../include/Security/SecBaseErrors.h"

/* ---- item classes and implementations ---- */
enum { CLS_GENP, CLS_INET, CLS_CERT, CLS_KEYS, CLS_IDNT, CLS_COUNT };
enum { IMPL_FB = 1, IMPL_DP = 2 };

extern const char *const sec_class_names[CLS_COUNT]; /* "genp", ... */
/* Class index of a 4-byte name, or -1. */
int sec_class_from_name(const char *p, size_t n);

/* ---- tagged values ---- */
enum { SV_NONE, SV_STR, SV_DATA, SV_INT, SV_DBL, SV_BOOL, SV_DATE, SV_ACCC };

typedef struct sval {
    uint8_t tag;
    int64_t i;      /* SV_INT, SV_BOOL (0/1), SV_ACCC (flags) */
    double d;       /* SV_DBL, SV_DATE */
    uint8_t *p;     /* SV_STR, SV_DATA, SV_ACCC (protection string); malloc'd */
    size_t n;
} sval;

typedef struct sattr {
    char key[5];    /* 4-char attribute name, NUL-terminated */
    sval v;
} sattr;

typedef struct sitem {
    uint8_t impl;   /* IMPL_FB or IMPL_DP */
    uint8_t cls;    /* CLS_* */
    int64_t rowid;  /* unique across the keychain (and processes sharing a store) */
    uint8_t *data;  /* the secret (may be NULL when dlen == 0) */
    size_t dlen;
    sattr *attrs;
    size_t nattrs, cap;
    uint64_t khash; /* sec_item_key_hash, set while the item is in g_kc */
} sitem;

void *sec_xmalloc(size_t n);
void *sec_xrealloc(void *p, size_t n);
uint8_t *sec_memdup(const void *p, size_t n);

void sval_free(sval *v);
sval sval_copy(const sval *v);
sval sval_str(const char *p, size_t n);
sval sval_data(const void *p, size_t n);
sval sval_int(int64_t i);
sval sval_date(double d);
/* Canonical bytes for byte-wise comparison (S-flag columns, facts 5.4 #4.9):
 * strings as UTF-8, data as is, numbers as 4 native-endian bytes. */
const uint8_t *sval_bytes(const sval *v, uint8_t tmp[8], size_t *n);
bool sval_bytes_equal(const sval *a, const sval *b);
/* +1 CF object for the value (CFString / CFData / CFNumber / CFBoolean /
 * CFDate / SecAccessControl). */
CFTypeRef sval_to_cf(const sval *v);

sitem *item_new(int impl, int cls);
void item_free(sitem *it);
sitem *item_clone(const sitem *it);
const sval *item_get(const sitem *it, const char *key);
void item_set(sitem *it, const char *key, sval v); /* takes ownership of v */
void item_del(sitem *it, const char *key);
void item_set_data(sitem *it, const void *p, size_t n);

/* ---- schema ---- */
/* Data-protection column kinds (facts 2.15 / 5.10). */
enum { K_BLOB = 1, K_NUM, K_DATA, K_DATE, K_STR, K_ACCESS, K_SYNC, K_ACCC, K_UUID, K_SHA1, K_TOMB };
/* File-based attribute kinds (facts 5.3, FB attribute value types). */
enum { F_NONE = 0, F_STR, F_NUM, F_BOOL, F_DATA, F_DATE, F_FOURCC };
/* Default filled in on add for a primary-key column (facts 5.4 #4.6). */
enum { DEF_NONE = 0, DEF_EMPTY, DEF_ZERO };

typedef struct sec_attrdef {
    const char *name;
    uint8_t dp_kind;
    uint8_t dp_classes;   /* bit per CLS_* : column exists in that DP table */
    uint8_t dp_primary;   /* bit per CLS_* : part of the DP primary key */
    uint8_t dp_default;   /* DEF_* (only used for primary-key columns, sync, tomb) */
    uint8_t fb_kind;      /* F_* */
    uint8_t fb_classes;   /* bit per CLS_* : FB attribute of that class */
    uint8_t fb_unique;    /* bit per CLS_* : part of the FB unique index */
} sec_attrdef;

#define CB(c) ((uint8_t)(1u << (c)))

/* Definition of a 4-char attribute, or NULL. */
const sec_attrdef *sec_attr_lookup(const char *p, size_t n);
size_t sec_attr_count(void);
const sec_attrdef *sec_attr_at(size_t i);

/* DP conversion of a CF value to a column of kind `kind` (5.10):
 * errSecParam if it cannot be converted. */
OSStatus sec_dp_convert(int kind, CFTypeRef v, sval *out);
/* DP equality of two stored/query values of a column. */
bool sec_dp_equal(int kind, const sval *a, const sval *b);
/* FB conversion and equality. */
OSStatus sec_fb_convert(int kind, CFTypeRef v, sval *out);
bool sec_fb_equal(int kind, const sval *a, const sval *b);

/* Truthiness of the macOS shim's readNumber (5.1 #1.3). */
bool sec_truthy(CFTypeRef v);
/* Strict decimal integer (round-trips); true and *out set if so. */
bool sec_parse_decimal(const uint8_t *p, size_t n, int64_t *out);

/* ---- objects (sec_objects.c) ---- */
typedef struct sec_itemref {
    uint8_t impl;
    uint8_t cls;
    int64_t rowid;      /* 0: an object not from the keychain (a new SecKey, SecCertificate ...) */
    CFTypeRef obj;      /* the object itself (borrowed; set by sec_ref_get) */
} sec_itemref;

/* Body of SecKey / SecCertificate / SecIdentity objects: the item
 * reference, then the material kept by sec_key.c / sec_cert.c (NULL for a
 * keychain reference whose item holds no parsable key or certificate). */
typedef struct sec_objbody {
    sec_itemref ref;
    void *impl;
} sec_objbody;

/* sec_key.c / sec_cert.c: class callbacks of the three object types. */
void sec_object_finalize(CFTypeRef obj);
Boolean sec_object_equal(CFTypeRef a, CFTypeRef b);
CFHashCode sec_object_hash(CFTypeRef obj);
/* Called by sec_ref_create under the keychain lock: attach the key or
 * certificate material of the referenced item (if it parses). */
void sec_object_attach(CFTypeRef obj);
/* kSecValueRef naming an object that is not from the keychain (rowid 0):
 * seed a new item from it (add), or test an item against it (query). */
OSStatus sec_object_seed(CFTypeRef obj, sitem *it);
bool sec_object_matches(CFTypeRef obj, const sitem *it);
/* True for a SecKey made by the modern (data-protection) implementation:
 * the macOS shim sends such a kSecValueRef to DP only (seckey-facts 4.3 #11). */
bool sec_object_dp_only(CFTypeRef obj);
/* sec_cert.c: SecItem with identities (seckey-facts 4.6).  An add, update
 * (op 2) or delete (op 3) whose kSecValueRef is a SecIdentity, or a delete
 * of kSecClassIdentity, runs on the certificate and the key (SecItem.m
 * explode_identity): true and *status if handled.  op: 0 add, 1 copy. */
bool sec_identity_explode(int op, CFDictionaryRef d, CFTypeRef *result, OSStatus *status);
/* The identities of the keychain, as items of class idnt joined from a
 * certificate and the private key whose klbl is its pkhh (rowid: the
 * certificate's).  Valid until sec_identity_view_free (at the end of the call). */
size_t sec_identity_view(sitem ***out);
void sec_identity_view_free(void);

CFTypeID sec_accc_type(void);
CFTypeID sec_ref_type_keychainitem(void);
CFTypeID sec_ref_type_key(void);
CFTypeID sec_ref_type_certificate(void);
CFTypeID sec_ref_type_identity(void);
/* True if v is one of the four item-reference types; fills *out. */
bool sec_ref_get(CFTypeRef v, sec_itemref *out);
/* +1 reference object of the right class for an item of impl/cls. */
CFTypeRef sec_ref_create(int impl, int cls, int64_t rowid);
/* +1 SecAccessControl from a protection string and flags. */
CFTypeRef sec_accc_create(const uint8_t *prot, size_t n, uint64_t flags);
/* Protection (borrowed UTF-8, NULL if a dictionary) and flags. */
const char *sec_accc_protection(CFTypeRef ac, size_t *n);
uint64_t sec_accc_flags(CFTypeRef ac);
/* Immortal constant CFString of an accessibility value, or NULL. */
CFStringRef sec_protection_constant(const char *p, size_t n);

/* ---- state (sec_store.c) ---- */
enum { PROFILE_MACOS = 0, PROFILE_IOS = 1 };

typedef struct sec_state {
    int profile;
    char **groups;          /* the caller's access groups, in order */
    size_t ngroups;
    int locked;
    int user_response;      /* 0 approve, 1 cancel, 2 fail */
} sec_state;

extern sec_state g_sec;

/* The keychain: its items, in order.  Their uniqueness index is
 * sec_index.h's, kept in step by the sec_kc_* edits below. */
typedef struct skeychain {
    sitem **items;
    size_t n, cap;
    int64_t next_rowid;
} skeychain;

extern skeychain g_kc;

/* Process-wide lock around every SecItem call and control. */
void sec_lock(void);
void sec_unlock(void);
/* Pending fault for a SecItem function: true and *status if one was armed
 * (it is consumed). */
bool sec_take_fault(const char *function, OSStatus *status);
/* Begin / end a keychain transaction (reload / write the store file).
 * sec_store_end returns errSecIO when the changes could not be written: the
 * store file and the in-memory keychain are then as before the call. */
OSStatus sec_store_begin(void);
OSStatus sec_store_end(bool modified);

void sec_kc_append(sitem *it);       /* assigns a fresh rowid */
void sec_kc_remove_at(size_t idx);   /* frees the item */
/* Put `fresh` (keeping its rowid) in place of the item at idx (freed). */
void sec_kc_replace_at(size_t idx, sitem *fresh);
/* The same, found by address: true if `old` was there (freed; the keychain
 * now owns `fresh`), false if not (`fresh` is still the caller's). */
bool sec_kc_replace(const sitem *old, sitem *fresh);
/* Remove these items (those still there) from the keychain, freeing them. */
void sec_kc_remove(sitem **v, size_t n);
bool sec_group_held(const uint8_t *p, size_t n, bool writable);
sitem *sec_kc_find(int impl, int64_t rowid);

/* ---- other APIs on the same keychain (sec_item.c, for sec_legacy.c and sec_access.c) ---- */
/* Take the lock and begin a store transaction (no SecItem fault injection);
 * false (and *st) if the store cannot be read. */
bool sec_api_enter(OSStatus *st);
/* End it: write the store if `modified`; the call's status, or errSecIO. */
OSStatus sec_api_leave(OSStatus st, bool modified);

/* ---- digests (sec_digest.c) ---- */
void sec_sha1(const void *data, size_t n, uint8_t out[20]);
/* The `sha1` attribute of a DP item (SecDbKeychainItemCopySHA1); false if
 * a hashed value cannot be DER-encoded (then no `sha1` is returned). */
bool sec_item_sha1(const sitem *it, uint8_t out[20]);

#endif /* SEC_PRIVATE_H */
