/*
 * sec_store.c - process state, the keychain, persistence and the secsim_*
 * controls.  Every edit of the keychain keeps its uniqueness index
 * (sec_index.h) in step.
 *
 * Persistence (SECSIM_STORE=/path/file): every SecItem call takes an
 * exclusive flock on "/path/file.lock", reloads the file when its
 * generation number differs from the one loaded, runs, and (if it changed
 * anything) writes the new state.  A write, with the store lock held:
 *   1. removes stale temporaries "/path/file.tmp.<digits>": a writer holds
 *      an flock on its temporary while it writes it, so one whose flock can
 *      be taken belongs to a writer that died (killed mid-write);
 *   2. creates "/path/file.tmp.<pid>" (O_EXCL, O_NOFOLLOW, mode 0600 whatever
 *      the umask), flocks it, writes it, fsyncs and closes it;
 *   3. renames it over the file (the commit point) and fsyncs the directory.
 * If any step up to the rename fails, the temporary is removed, the file is
 * as before, the in-memory keychain is reloaded from it and the call that
 * changed something returns errSecIO (-36).  A process killed mid-write
 * leaves the previous file intact.  Rowids come from a counter kept in the
 * file, so they stay unique across processes.
 *
 * Loading never trusts the file: every length is checked against the bytes
 * left, and a value must be one the engines can have written (a known
 * attribute name, once per item; strings in the stored form (UTF-8, an
 * unpaired surrogate as its 3 bytes: secsim_string_stored); booleans 0 or 1;
 * an access control with a known protection; rowids inside the counter; a
 * data-protection item with the access invariants it is written with), so
 * that every CF object later made from it can be made and every call
 * answers as on a file the engines wrote.  Anything else makes the call
 * return errSecIO (-36), never an abort.
 *
 * File format (all integers little-endian):
 *   "SECSIMKC" u32 version(2; 1 still loads) u64 generation i64 next_rowid u32 item_count
 *   item:  u8 impl  u8 class  i64 rowid  u32 data_len  data  u32 attr_count
 *   attr:  4 bytes key  u8 tag  payload
 *          STR/DATA: u32 len, bytes;  INT/BOOL: i64;  DBL/DATE: f64 bits;
 *          ACCC: i64 flags, u32 len, protection bytes
 *   Version 2 adds one optional attribute per file-based password item:
 *   key "_acl", tag DATA, the access list and partition list encoded by
 *   sec_access.c (checked by sec_access_value_ok).  A version-1 file is
 *   version 2 without it; its items carry no recorded access (not gated).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sec_access.h"
#include "sec_delay.h"
#include "sec_index.h"

sec_state g_sec;
skeychain g_kc = { .items = NULL, .n = 0, .cap = 0, .next_rowid = 1 };

static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static bool g_initialized;

/* The default access group of the ios profile (an app with one
 * keychain-access-groups entitlement, team ID prefix included). */
#define SEC_IOS_DEFAULT_GROUP "SECSIMTEAM.org.secitem.app"

static const char *const fault_names[] = { "SecItemAdd", "SecItemCopyMatching", "SecItemUpdate", "SecItemDelete" };
static struct { bool armed; OSStatus status; } g_faults[4];

static struct {
    char *path;        /* NULL: items live in memory only */
    int lockfd;
    pid_t lock_pid;    /* the process that opened lockfd */
    uint64_t gen;      /* generation of the file content loaded in g_kc */
    bool loaded;
    int64_t rowid_before; /* g_kc.next_rowid when the call began */
} g_store = { NULL, -1, 0, 0, false, 1 };

/* ------------------------------------------------------------------ */
/* keychain */

static void kc_clear(void)
{
    for (size_t i = 0; i < g_kc.n; i++)
        item_free(g_kc.items[i]);
    g_kc.n = 0;
    sec_index_clear();
}

static void kc_push(sitem *it)
{
    if (g_kc.n == g_kc.cap) {
        g_kc.cap = g_kc.cap ? g_kc.cap * 2 : 16;
        g_kc.items = sec_xrealloc(g_kc.items, g_kc.cap * sizeof *g_kc.items);
    }
    g_kc.items[g_kc.n++] = it;
    sec_index_add(it);
}

void sec_kc_append(sitem *it)
{
    it->rowid = g_kc.next_rowid++;
    kc_push(it);
}

void sec_kc_remove_at(size_t idx)
{
    sec_index_remove(g_kc.items[idx]);
    item_free(g_kc.items[idx]);
    memmove(&g_kc.items[idx], &g_kc.items[idx + 1], (g_kc.n - idx - 1) * sizeof *g_kc.items);
    g_kc.n--;
}

void sec_kc_replace_at(size_t idx, sitem *fresh)
{
    sec_index_remove(g_kc.items[idx]);
    item_free(g_kc.items[idx]);
    g_kc.items[idx] = fresh;
    sec_index_add(fresh);
}

bool sec_kc_replace(const sitem *old, sitem *fresh)
{
    for (size_t k = 0; k < g_kc.n; k++) {
        if (g_kc.items[k] == old) {
            sec_kc_replace_at(k, fresh);
            return true;
        }
    }
    return false;
}

void sec_kc_remove(sitem **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < g_kc.n; k++) {
            if (g_kc.items[k] == v[i]) {
                sec_kc_remove_at(k);
                break;
            }
        }
    }
}

sitem *sec_kc_find(int impl, int64_t rowid)
{
    for (size_t i = 0; i < g_kc.n; i++)
        if (g_kc.items[i]->impl == impl && g_kc.items[i]->rowid == rowid)
            return g_kc.items[i];
    return NULL;
}

bool sec_group_held(const uint8_t *p, size_t n, bool writable)
{
    if (writable && n == 15 && memcmp(p, "com.apple.token", 15) == 0)
        return false; /* read-only group (facts 5.12 #12.1) */
    for (size_t i = 0; i < g_sec.ngroups; i++)
        if (strlen(g_sec.groups[i]) == n && memcmp(g_sec.groups[i], p, n) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------------------ */
/* state */

static void groups_clear(void)
{
    for (size_t i = 0; i < g_sec.ngroups; i++)
        free(g_sec.groups[i]);
    free(g_sec.groups);
    g_sec.groups = NULL;
    g_sec.ngroups = 0;
}

static void groups_parse(const char *csv)
{
    groups_clear();
    const char *s = csv;
    while (s != NULL && *s) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        const char *a = s, *b = s + len;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a) {
            g_sec.groups = sec_xrealloc(g_sec.groups, (g_sec.ngroups + 1) * sizeof *g_sec.groups);
            g_sec.groups[g_sec.ngroups++] = (char *)sec_memdup(a, (size_t)(b - a));
        }
        s = comma ? comma + 1 : NULL;
    }
}

static void groups_default(void)
{
    const char *env = getenv("SECSIM_ACCESS_GROUPS");
    if (env != NULL)
        groups_parse(env);
    else if (g_sec.profile == PROFILE_IOS)
        groups_parse(SEC_IOS_DEFAULT_GROUP);
    else
        groups_clear(); /* macos: an unsigned interpreter has no entitlements */
}

static int profile_from_name(const char *name)
{
    if (name != NULL && strcmp(name, "ios") == 0)
        return PROFILE_IOS;
    if (name == NULL || strcmp(name, "macos") == 0 || name[0] == '\0')
        return PROFILE_MACOS;
    secsim_fatal("unknown profile \"%s\" (expected \"macos\" or \"ios\")", name);
}

/* ------------------------------------------------------------------ */
/* serialization */

typedef struct sbuf {
    uint8_t *p;
    size_t len, cap;
} sbuf;

static void sb_put(sbuf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = sec_xrealloc(b->p, b->cap);
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void sb_u8(sbuf *b, uint8_t v) { sb_put(b, &v, 1); }

/* The low n bytes of v (n <= 8), little-endian. */
static void sb_le(sbuf *b, uint64_t v, size_t n)
{
    uint8_t t[8];
    for (size_t i = 0; i < n; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    sb_put(b, t, n);
}

static void sb_u32(sbuf *b, uint32_t v) { sb_le(b, v, 4); }

static void sb_u64(sbuf *b, uint64_t v) { sb_le(b, v, 8); }

static void sb_f64(sbuf *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    sb_u64(b, u);
}

typedef struct rbuf {
    const uint8_t *p;
    size_t len, pos;
    bool bad;
} rbuf;

static bool rb_get(rbuf *r, void *out, size_t n)
{
    if (r->bad || r->len - r->pos < n) {
        r->bad = true;
        return false;
    }
    memcpy(out, r->p + r->pos, n);
    r->pos += n;
    return true;
}

static uint8_t rb_u8(rbuf *r)
{
    uint8_t v = 0;
    rb_get(r, &v, 1);
    return v;
}

/* n little-endian bytes (n <= 8); 0 past the end. */
static uint64_t rb_le(rbuf *r, size_t n)
{
    uint8_t t[8] = { 0 };
    rb_get(r, t, n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)t[i] << (8 * i);
    return v;
}

static uint32_t rb_u32(rbuf *r) { return (uint32_t)rb_le(r, 4); }

static uint64_t rb_u64(rbuf *r) { return rb_le(r, 8); }

static double rb_f64(rbuf *r)
{
    uint64_t u = rb_u64(r);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static uint8_t *rb_bytes(rbuf *r, size_t *n)
{
    uint32_t len = rb_u32(r);
    if (r->bad || r->len - r->pos < len) {
        r->bad = true;
        *n = 0;
        return NULL;
    }
    /* malloc, not sec_memdup: a value too big for memory makes the file
     * unloadable (-36), not the process abort. */
    uint8_t *p = malloc((size_t)len + 1);
    if (p == NULL) {
        r->bad = true;
        *n = 0;
        return NULL;
    }
    memcpy(p, r->p + r->pos, len);
    p[len] = 0;
    r->pos += len;
    *n = len;
    return p;
}

#define STORE_MAGIC "SECSIMKC"
#define STORE_VERSION 2u
#define STORE_VERSION_1 1u /* no hidden attributes; still loads */

/* The version of the file being loaded (deserialize, under the lock). */
static uint32_t g_load_version;
#define STORE_HEADER 32 /* magic 8 + version 4 + gen 8 + next_rowid 8 + count 4 */

static void serialize(sbuf *b, uint64_t gen)
{
    sb_put(b, STORE_MAGIC, 8);
    sb_u32(b, STORE_VERSION);
    sb_u64(b, gen);
    sb_u64(b, (uint64_t)g_kc.next_rowid);
    sb_u32(b, (uint32_t)g_kc.n);
    for (size_t i = 0; i < g_kc.n; i++) {
        const sitem *it = g_kc.items[i];
        sb_u8(b, it->impl);
        sb_u8(b, it->cls);
        sb_u64(b, (uint64_t)it->rowid);
        sb_u32(b, (uint32_t)it->dlen);
        sb_put(b, it->data, it->dlen);
        sb_u32(b, (uint32_t)it->nattrs);
        for (size_t j = 0; j < it->nattrs; j++) {
            const sattr *a = &it->attrs[j];
            sb_put(b, a->key, 4);
            sb_u8(b, a->v.tag);
            switch (a->v.tag) {
            case SV_STR:
            case SV_DATA:
                sb_u32(b, (uint32_t)a->v.n);
                sb_put(b, a->v.p, a->v.n);
                break;
            case SV_INT:
            case SV_BOOL:
                sb_u64(b, (uint64_t)a->v.i);
                break;
            case SV_DBL:
            case SV_DATE:
                sb_f64(b, a->v.d);
                break;
            case SV_ACCC:
                sb_u64(b, (uint64_t)a->v.i);
                sb_u32(b, (uint32_t)a->v.n);
                sb_put(b, a->v.p, a->v.n);
                break;
            default:
                break;
            }
        }
    }
}

/* A value the engines can have written, so that every CF object later made
 * from it (sval_to_cf, the synthesized access control) can be made. */
static bool loaded_value_ok(const sval *v)
{
    switch (v->tag) {
    case SV_STR: {
        /* The form the emulator stores strings in (UTF-8; unpaired surrogates
         * as 3 bytes), so whatever a call could store also loads. */
        CFStringRef s = secsim_string_stored((const char *)v->p, v->n);
        if (s == NULL)
            return false;
        CFRelease(s);
        return true;
    }
    case SV_BOOL:
        return v->i == 0 || v->i == 1;
    case SV_ACCC:
        /* Only a protection constant can be stored on an item. */
        return sec_protection_constant((const char *)v->p, v->n) != NULL;
    default:
        return true;
    }
}

/* One attribute into it; false (nothing added) if corrupt. */
static bool load_attr(rbuf *r, sitem *it)
{
    char key[5] = { 0 };
    if (!rb_get(r, key, 4))
        return false;
    /* A known attribute name (so ASCII, no NUL), at most once per item;
     * from version 2 also the hidden access attribute (sec_access.c). */
    bool hidden = g_load_version >= 2 && strcmp(key, SEC_ACCESS_KEY) == 0 && it->impl == IMPL_FB;
    if ((sec_attr_lookup(key, 4) == NULL && !hidden) || item_get(it, key) != NULL)
        return false;
    sval v = { 0 };
    v.tag = rb_u8(r);
    switch (v.tag) {
    case SV_STR:
    case SV_DATA:
        v.p = rb_bytes(r, &v.n);
        break;
    case SV_INT:
    case SV_BOOL:
        v.i = (int64_t)rb_u64(r);
        break;
    case SV_DBL:
    case SV_DATE:
        v.d = rb_f64(r);
        break;
    case SV_ACCC:
        v.i = (int64_t)rb_u64(r);
        v.p = rb_bytes(r, &v.n);
        break;
    default:
        r->bad = true;
        break;
    }
    if (r->bad || !loaded_value_ok(&v) || (hidden && !sec_access_value_ok(key, &v))) {
        sval_free(&v);
        return false;
    }
    item_set(it, key, v);
    return true;
}

/* The access invariants every data-protection item is written with
 * (dp_check_access in sec_engine_dp.c, facts 4.11, 5.14): a protection that is
 * one of the constants, an access control that agrees with it, and no
 * synchronizable item with access-control flags.  An item without them
 * could load, yet every update of it would fail with errSecParam. */
static bool loaded_access_ok(const sitem *it)
{
    if (it->impl != IMPL_DP)
        return true;
    const sval *pd = item_get(it, "pdmn"), *ac = item_get(it, "accc");
    if (pd != NULL && (pd->tag != SV_STR || sec_protection_constant((const char *)pd->p, pd->n) == NULL))
        return false;
    if (ac == NULL)
        return true;
    if (ac->tag != SV_ACCC || pd == NULL || !sval_bytes_equal(pd, ac))
        return false;
    const sval *sy = item_get(it, "sync");
    sval zero = sval_int(0);
    return ac->i == 0 || sy == NULL || sec_dp_equal(K_SYNC, sy, &zero);
}

/* One item; NULL if corrupt. */
static sitem *load_item(rbuf *r, int64_t next_rowid)
{
    uint8_t impl = rb_u8(r), cls = rb_u8(r);
    int64_t rowid = (int64_t)rb_u64(r);
    if (r->bad || (impl != IMPL_FB && impl != IMPL_DP) || cls >= CLS_COUNT || rowid < 1 || rowid >= next_rowid)
        return NULL;
    sitem *it = item_new(impl, cls);
    it->rowid = rowid;
    it->data = rb_bytes(r, &it->dlen);
    uint32_t nattrs = rb_u32(r);
    /* Each name at most once: no item has more attributes than the schema. */
    bool ok = !r->bad && nattrs <= sec_attr_count() + 1;   /* + the hidden access attribute */
    for (uint32_t j = 0; ok && j < nattrs; j++)
        ok = load_attr(r, it);
    if (!ok || !loaded_access_ok(it)) {
        item_free(it);
        return NULL;
    }
    /* it->data is never NULL here: format 1 does not tell "no secret"
     * (data == NULL in memory, set_secret in sec_query.c) from an empty secret, and a
     * zero-length secret loads as an empty one, so a stored empty password
     * still reads back as b"" (docs/emulator.md, known gaps). */
    return it;
}

/* Parse a whole file into g_kc; false (g_kc untouched) if it is corrupt. */
static bool deserialize(const uint8_t *p, size_t len, uint64_t *gen_out)
{
    rbuf r = { p, len, 0, false };
    char magic[8];
    if (!rb_get(&r, magic, 8) || memcmp(magic, STORE_MAGIC, 8) != 0)
        return false;
    g_load_version = rb_u32(&r);
    if (g_load_version != STORE_VERSION && g_load_version != STORE_VERSION_1)
        return false;
    uint64_t gen = rb_u64(&r);
    int64_t next_rowid = (int64_t)rb_u64(&r);
    uint32_t count = rb_u32(&r);
    /* The counter is only ever incremented from 1, and must not overflow
     * (sec_kc_append). */
    if (r.bad || next_rowid < 1 || next_rowid == INT64_MAX)
        return false;
    sitem **items = NULL;
    size_t n = 0, cap = 0;
    bool ok = true;
    for (uint32_t i = 0; ok && i < count; i++) {
        sitem *it = load_item(&r, next_rowid);
        if (it == NULL) {
            ok = false;
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            items = sec_xrealloc(items, cap * sizeof *items);
        }
        items[n++] = it;
    }
    if (!ok || r.bad || r.pos != r.len) {
        for (size_t i = 0; i < n; i++)
            item_free(items[i]);
        free(items);
        return false;
    }
    kc_clear();
    for (size_t i = 0; i < n; i++)
        kc_push(items[i]);
    free(items);
    g_kc.next_rowid = next_rowid;
    *gen_out = gen;
    return true;
}

static char *path_with(const char *suffix)
{
    size_t a = strlen(g_store.path), b = strlen(suffix);
    char *s = sec_xmalloc(a + b + 1);
    memcpy(s, g_store.path, a);
    memcpy(s + a, suffix, b + 1);
    return s;
}

/* Read the whole store file: 1 ok, 0 absent, -1 error (also when it is not
 * a regular file: a FIFO would block, a directory cannot be a store). */
static int read_file(uint8_t **out, size_t *len)
{
    int fd = open(g_store.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    /* malloc, not sec_xmalloc: a file too big for memory is an I/O error
     * (-36), not an abort. */
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (buf != NULL && n == cap) {
            uint8_t *bigger = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (bigger == NULL)
                free(buf);
            buf = bigger;
            cap *= 2;
        }
        if (buf == NULL) {
            close(fd);
            return -1;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            free(buf);
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *out = buf;
    *len = n;
    return 1;
}

/* Test hook (secsim_fail_store_write): the step at which the next write
 * fails with EIO. */
enum { WF_NONE, WF_OPEN, WF_WRITE, WF_FSYNC, WF_CLOSE, WF_RENAME };
static const char *const write_step_names[] = { "", "open", "write", "fsync", "close", "rename" };
static int g_write_fault;

static bool injected(int step)
{
    if (g_write_fault != step)
        return false;
    g_write_fault = WF_NONE;
    errno = EIO;
    return true;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    if (g_write_fault == WF_WRITE && n > 1) {
        /* A short write followed by an error. */
        size_t half = n / 2;
        if (!write_all(fd, p, half))
            return false;
        return !injected(WF_WRITE);
    }
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        if (w == 0) { /* no progress: treat as a full disk, never spin */
            errno = ENOSPC;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* The store's directory and the name of the file in it. */
static void store_dir_base(char **dir, const char **base)
{
    char *d = (char *)sec_memdup(g_store.path, strlen(g_store.path));
    char *slash = strrchr(d, '/');
    *base = slash ? g_store.path + (slash - d) + 1 : g_store.path;
    if (slash == d)
        slash[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
    else
        strcpy(d, ".");
    *dir = d;
}

/* With the store lock held: remove the temporaries "<base>.tmp.<digits>"
 * that no writer holds (their writer died before the rename).  Every
 * writer keeps an flock on its temporary until it closes it, so a temporary
 * whose flock can be taken is stale: decided by lock, not by age or pid. */
static void remove_stale_temps(void)
{
    char *dir;
    const char *base;
    store_dir_base(&dir, &base);
    DIR *d = opendir(dir);
    free(dir);
    if (d == NULL)
        return;
    size_t bl = strlen(base);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *nm = e->d_name;
        if (strncmp(nm, base, bl) != 0 || strncmp(nm + bl, ".tmp.", 5) != 0)
            continue;
        const char *digits = nm + bl + 5;
        if (*digits == '\0' || digits[strspn(digits, "0123456789")] != '\0')
            continue;
        int fd = openat(dirfd(d), nm, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            continue; /* a symlink or gone: not a temporary of ours */
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0)
            unlinkat(dirfd(d), nm, 0);
        close(fd);
    }
    closedir(d);
}

/* Write the keychain as generation gen: true once the rename is done.  On
 * false the file is as it was and no temporary is left behind. */
/* The format stores lengths and counts as u32: a keychain that does not
 * fit (a secret of 4 GiB or more) cannot be written.  Checked before
 * writing, so the call fails (-36) instead of writing a file that no
 * process could load again. */
static bool fits_format(void)
{
    if (g_kc.n > UINT32_MAX)
        return false;
    for (size_t i = 0; i < g_kc.n; i++) {
        const sitem *it = g_kc.items[i];
        if (it->dlen > UINT32_MAX || it->nattrs > UINT32_MAX)
            return false;
        for (size_t j = 0; j < it->nattrs; j++)
            if (it->attrs[j].v.n > UINT32_MAX)
                return false;
    }
    return true;
}

static bool write_file(uint64_t gen)
{
    if (!fits_format()) {
        g_write_fault = WF_NONE;
        return false;
    }
    remove_stale_temps();
    sbuf b = { 0 };
    serialize(&b, gen);
    char suffix[48];
    snprintf(suffix, sizeof suffix, ".tmp.%ld", (long)getpid());
    char *tmp = path_with(suffix);
    unlink(tmp); /* ours, so stale: this process holds the store lock */
    bool ok = false;
    int fd = injected(WF_OPEN) ? -1 : open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
        /* 0600 whatever the umask; the flock marks the temporary as live. */
        ok = fchmod(fd, 0600) == 0 && flock(fd, LOCK_EX | LOCK_NB) == 0;
        ok = ok && write_all(fd, b.p, b.len);
        ok = ok && !injected(WF_FSYNC) && fsync(fd) == 0;
        bool closed = close(fd) == 0;
        ok = ok && closed && !injected(WF_CLOSE);
        ok = ok && !injected(WF_RENAME) && rename(tmp, g_store.path) == 0;
        if (!ok)
            unlink(tmp);
    }
    if (ok) {
        /* Make the rename itself durable.  The rename was the commit point
         * (every process already sees the new state), so a failure here
         * cannot be undone and is not reported. */
        char *dir;
        const char *base;
        store_dir_base(&dir, &base);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    free(tmp);
    free(b.p);
    g_write_fault = WF_NONE; /* one write, one chance */
    return ok;
}

static bool store_lock(void)
{
    if (g_store.lockfd >= 0 && g_store.lock_pid != getpid()) {
        /* A child forked after the lock file was opened shares the open
         * file description, and so the flock, with its parent: its
         * LOCK_EX would succeed while the parent is inside a call, and its
         * LOCK_UN would release the parent's lock.  Take one of its own;
         * closing the inherited copy leaves the parent's lock alone. */
        close(g_store.lockfd);
        g_store.lockfd = -1;
    }
    if (g_store.lockfd < 0) {
        char *lp = path_with(".lock");
        g_store.lockfd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        free(lp);
        if (g_store.lockfd < 0)
            return false;
        g_store.lock_pid = getpid();
    }
    while (flock(g_store.lockfd, LOCK_EX) != 0) {
        if (errno != EINTR)
            return false;
    }
    return true;
}

static void store_unlock(void)
{
    if (g_store.lockfd >= 0)
        flock(g_store.lockfd, LOCK_UN);
}

/* With the flock held: bring g_kc up to date with the file. */
static bool store_refresh(uint64_t *file_gen)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int r = read_file(&buf, &len);
    if (r < 0)
        return false;
    if (r == 0) {
        /* No file yet: an empty keychain at generation 0. */
        if (!g_store.loaded || g_store.gen != 0) {
            kc_clear();
            g_store.gen = 0;
            g_store.loaded = true;
        }
        *file_gen = 0;
        return true;
    }
    bool ok = true;
    uint64_t gen = 0;
    if (len >= STORE_HEADER && memcmp(buf, STORE_MAGIC, 8) == 0) {
        for (int i = 0; i < 8; i++)
            gen |= (uint64_t)buf[12 + i] << (8 * i);
    } else {
        ok = false;
    }
    if (ok && (!g_store.loaded || gen != g_store.gen)) {
        ok = deserialize(buf, len, &gen);
        if (ok) {
            g_store.gen = gen;
            g_store.loaded = true;
        }
    }
    free(buf);
    *file_gen = gen;
    return ok;
}

OSStatus sec_store_begin(void)
{
    if (g_store.path == NULL)
        return errSecSuccess;
    if (!store_lock())
        return errSecIO;
    uint64_t gen;
    if (!store_refresh(&gen)) {
        store_unlock();
        return errSecIO;
    }
    g_store.rowid_before = g_kc.next_rowid;
    return errSecSuccess;
}

/* With the flock held, after a failed write: the file still holds the state
 * from before the call, so load it again. */
static void store_roll_back(void)
{
    g_kc.next_rowid = g_store.rowid_before; /* kept if there is no file yet */
    g_store.loaded = false;
    uint64_t gen;
    if (!store_refresh(&gen)) {
        kc_clear(); /* unreadable now: the next call reloads or fails */
        g_store.loaded = false;
    }
}

OSStatus sec_store_end(bool modified)
{
    if (g_store.path == NULL)
        return errSecSuccess;
    OSStatus st = errSecSuccess;
    if (modified) {
        uint64_t gen = g_store.gen + 1;
        if (write_file(gen)) {
            g_store.gen = gen;
        } else {
            store_roll_back();
            st = errSecIO;
        }
    }
    store_unlock();
    return st;
}

static void store_attach(const char *path)
{
    if (g_store.path != NULL && path != NULL && strcmp(g_store.path, path) == 0)
        return;
    if (g_store.lockfd >= 0)
        close(g_store.lockfd);
    free(g_store.path);
    g_store.path = path && *path ? (char *)sec_memdup(path, strlen(path)) : NULL;
    g_store.lockfd = -1;
    g_store.loaded = false;
    g_store.gen = 0;
}

/* ------------------------------------------------------------------ */
/* reset / lock */

static void reset_locked(bool wipe)
{
    g_sec.profile = profile_from_name(getenv("SECSIM_PROFILE"));
    groups_default();
    g_sec.locked = 0;
    g_sec.user_response = 0;
    sec_access_reset();     /* application, signature, session UI, keychain password */
    memset(g_faults, 0, sizeof g_faults);
    g_write_fault = WF_NONE;
    kc_clear();
    store_attach(getenv("SECSIM_STORE"));
    if (wipe && g_store.path != NULL) {
        /* Empty the shared keychain; keep the rowid counter. */
        if (store_lock()) {
            uint64_t gen = 0;
            if (!store_refresh(&gen))
                gen = g_store.gen;
            kc_clear();
            if (write_file(gen + 1)) {
                g_store.gen = gen + 1;
                g_store.loaded = true;
            } else {
                g_store.loaded = false;
            }
            store_unlock();
        }
    }
    g_initialized = true;
}

void sec_lock(void)
{
    pthread_mutex_lock(&g_mutex);
    if (!g_initialized)
        reset_locked(false);
}

void sec_unlock(void)
{
    pthread_mutex_unlock(&g_mutex);
}

bool sec_take_fault(const char *function, OSStatus *status)
{
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(fault_names[i], function) == 0 && g_faults[i].armed) {
            g_faults[i].armed = false;
            *status = g_faults[i].status;
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* controls */

SECSIM_EXPORT void secsim_reset(void)
{
    pthread_mutex_lock(&g_mutex);
    reset_locked(true);
    pthread_mutex_unlock(&g_mutex);
    sec_delay_reset(); /* no delays, and no call left sleeping in one */
}

SECSIM_EXPORT long secsim_live_objects(void)
{
    return secsim_cf_live_objects();
}

SECSIM_EXPORT void secsim_set_profile(const char *name)
{
    sec_lock();
    g_sec.profile = profile_from_name(name);
    groups_default();
    sec_unlock();
}

SECSIM_EXPORT void secsim_set_access_groups(const char *comma_separated)
{
    sec_lock();
    if (comma_separated == NULL)
        groups_default();
    else
        groups_parse(comma_separated);
    sec_unlock();
}

SECSIM_EXPORT void secsim_set_locked(int locked)
{
    sec_lock();
    g_sec.locked = locked != 0;
    sec_unlock();
}

SECSIM_EXPORT void secsim_set_user_response(int response)
{
    if (response < 0 || response > 2)
        secsim_fatal("secsim_set_user_response: %d is not 0 (approve), 1 (cancel) or 2 (fail)", response);
    sec_lock();
    g_sec.user_response = response;
    sec_unlock();
}

SECSIM_EXPORT void secsim_fail_next(const char *function, int32_t status)
{
    if (function == NULL)
        secsim_fatal("secsim_fail_next: function name is NULL");
    sec_lock();
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(fault_names[i], function) == 0) {
            g_faults[i].armed = true;
            g_faults[i].status = status;
            sec_unlock();
            return;
        }
    }
    sec_unlock();
    secsim_fatal("secsim_fail_next: unknown function \"%s\" (expected SecItemAdd, SecItemCopyMatching, "
                 "SecItemUpdate or SecItemDelete)", function);
}

SECSIM_EXPORT void secsim_fail_store_write(const char *step)
{
    int found = -1;
    for (int i = 0; i < (int)(sizeof write_step_names / sizeof write_step_names[0]); i++)
        if (strcmp(write_step_names[i], step ? step : "") == 0)
            found = i;
    if (found < 0)
        secsim_fatal("secsim_fail_store_write: unknown step \"%s\" (expected open, write, fsync, close or rename)", step);
    sec_lock();
    g_write_fault = found;
    sec_unlock();
}
