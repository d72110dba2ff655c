/*
 * cdriver.c - the C baseline for bench/run.py.
 *
 * Makes the same SecItem calls, with the same dictionaries, as the Python
 * layers do for each benchmarked operation (bench/run.py checks that by
 * tracing the Python calls), against the same emulator library (linked
 * with -lsecsim, same SECSIM_PROFILE).  Each operation does the work a C
 * program would: create the CF values of the dictionary, create the
 * dictionary, release the values, make the call(s), read every value of
 * the result (as secitem converts all of it: strings and data copied out,
 * numbers, dates and booleans read, opaque objects retained and released),
 * release every result.
 *
 * Usage:
 *   cdriver ops  N K ROUNDS [WARMUP [CREATOR]]   per-operation medians (N accounts,
 *                                                K items found)
 *   cdriver find N REPEATS    one find over N items, repeated
 *   cdriver one  OP N [CREATOR]                  one operation N times (instructions)
 *
 * With CREATOR (a kSecAttrCreator value, not 0) the driver makes
 * CredentialStore's calls instead: the store marks its items and asks only
 * for its own, so its adds, data reads, finds, deletes' finds and upsert's
 * update carry {kSecAttrCreator: CREATOR} (the upsert's find of the same
 * identity does not: the store filters those rows itself).
 *
 * Prints one JSON object on stdout.  Exit status 1 on any unexpected
 * OSStatus.
 */
#include "secsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define errSecDuplicateItem (-25299)

static const char SECRET[] = "correct horse battery staple 123";  /* 32 bytes */
static const char SECRET2[] = "another secret, also 32 bytes ok";
static unsigned char sink[4096];  /* bytes read out of results */
static volatile size_t sink_total;
static int32_t g_creator;         /* CREATOR, 0 = none (see above) */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void fail(const char *what, OSStatus st)
{
    fprintf(stderr, "cdriver: %s failed: OSStatus %d\n", what, (int)st);
    exit(1);
}

static CFStringRef str(const char *s)
{
    return CFStringCreateWithBytes(NULL, (const UInt8 *)s, (CFIndex)strlen(s),
                                   kCFStringEncodingUTF8, 0);
}

static CFDataRef data(const void *p, size_t n)
{
    return CFDataCreate(NULL, (const UInt8 *)p, (CFIndex)n);
}

/* A dictionary from n key/value pairs; the owned[] values are released
   after creation (the dictionary retains them), as the Python builder does. */
static CFDictionaryRef dict(const void **k, const void **v, CFIndex n, CFTypeRef *owned, int nowned)
{
    CFDictionaryRef d = CFDictionaryCreate(NULL, k, v, n, &kCFTypeDictionaryKeyCallBacks,
                                           &kCFTypeDictionaryValueCallBacks);
    for (int i = 0; i < nowned; i++)
        CFRelease(owned[i]);
    return d;
}

/* Append {kSecAttrCreator: g_creator} to k/v (which have room for it) when
   the driver makes the store's calls; returns the new count of pairs. */
static CFIndex mark(const void **k, const void **v, CFIndex n, CFTypeRef *owned, int *nowned)
{
    if (g_creator == 0)
        return n;
    CFNumberRef c = CFNumberCreate(NULL, kCFNumberSInt32Type, &g_creator);
    owned[(*nowned)++] = c;
    k[n] = kSecAttrCreator;
    v[n] = c;
    return n + 1;
}

static void read_data(CFTypeRef d)
{
    if (d == NULL || CFGetTypeID(d) != CFDataGetTypeID())
        return;
    CFIndex n = CFDataGetLength((CFDataRef)d);
    if (n > (CFIndex)sizeof sink)
        n = sizeof sink;
    memcpy(sink, CFDataGetBytePtr((CFDataRef)d), (size_t)n);
    sink_total += (size_t)n;
}

static void read_string(CFTypeRef s)
{
    if (s == NULL || CFGetTypeID(s) != CFStringGetTypeID())
        return;
    CFIndex len = CFStringGetLength((CFStringRef)s), used = 0;
    CFStringGetBytes((CFStringRef)s, (CFRange){0, len}, kCFStringEncodingUTF8, 0, 0, sink,
                     sizeof sink, &used);
    sink_total += (size_t)used;
}

/* Read a returned value completely, as secitem's conversion does: every key
   and value of dictionaries and arrays, the bytes of strings and data, the
   value of numbers, booleans and dates; opaque objects are retained and
   released (secitem wraps them in an object that owns a reference). */
static void read_value(CFTypeRef v)
{
    if (v == NULL)
        return;
    CFTypeID t = CFGetTypeID(v);
    if (t == CFStringGetTypeID()) {
        read_string(v);
    } else if (t == CFDataGetTypeID()) {
        read_data(v);
    } else if (t == CFNumberGetTypeID()) {
        int64_t i;
        double d;
        if (!CFNumberIsFloatType((CFNumberRef)v) && CFNumberGetValue((CFNumberRef)v, kCFNumberSInt64Type, &i))
            sink_total += (size_t)i;
        else if (CFNumberGetValue((CFNumberRef)v, kCFNumberFloat64Type, &d))
            sink_total += (size_t)d;
    } else if (t == CFBooleanGetTypeID()) {
        sink_total += CFBooleanGetValue((CFBooleanRef)v);
    } else if (t == CFDateGetTypeID()) {
        sink_total += (size_t)CFDateGetAbsoluteTime((CFDateRef)v);
    } else if (t == CFArrayGetTypeID()) {
        CFIndex n = CFArrayGetCount((CFArrayRef)v);
        for (CFIndex i = 0; i < n; i++)
            read_value(CFArrayGetValueAtIndex((CFArrayRef)v, i));
    } else if (t == CFDictionaryGetTypeID()) {
        CFIndex n = CFDictionaryGetCount((CFDictionaryRef)v);
        const void *small[64];
        const void **kv = n <= 32 ? small : malloc(2 * (size_t)n * sizeof(void *));
        CFDictionaryGetKeysAndValues((CFDictionaryRef)v, kv, kv + n);
        for (CFIndex i = 0; i < n; i++) {
            read_value(kv[i]);
            read_value(kv[n + i]);
        }
        if (kv != small)
            free(kv);
    } else {
        CFRelease(CFRetain(v));
    }
}

static void account_name(char *buf, size_t n, int i) { snprintf(buf, n, "acct-%d", i); }

/* --- the operations -------------------------------------------------------- */

/* Keychain.add: {class, svce, acct, v_Data, r_PersistentRef} -> persistent ref */
static void op_add(const char *service, int i, int want_ref)
{
    char acct[32];
    account_name(acct, sizeof acct, i);
    CFTypeRef owned[4] = {str(service), str(acct), data(SECRET, 32)};
    int nowned = 3;
    const void *k[6] = {kSecClass, kSecAttrService, kSecAttrAccount, kSecValueData,
                        kSecReturnPersistentRef};
    const void *v[6] = {kSecClassGenericPassword, owned[0], owned[1], owned[2], kCFBooleanTrue};
    CFIndex n = mark(k, v, want_ref ? 5 : 4, owned, &nowned);
    CFDictionaryRef q = dict(k, v, n, owned, nowned);
    CFTypeRef res = NULL;
    OSStatus st = SecItemAdd(q, &res);
    CFRelease(q);
    if (st != 0)
        fail("SecItemAdd", st);
    if (res != NULL) {
        if (want_ref)
            read_value(res);
        CFRelease(res);
    }
}

/* Keychain.get / CredentialStore.get: attributes + persistent ref + data, limit one */
static void op_get(const char *service, int i)
{
    char acct[32];
    account_name(acct, sizeof acct, i);
    CFTypeRef owned[2] = {str(service), str(acct)};
    const void *k[7] = {kSecClass, kSecAttrService, kSecAttrAccount, kSecReturnAttributes,
                        kSecReturnPersistentRef, kSecReturnData, kSecMatchLimit};
    const void *v[7] = {kSecClassGenericPassword, owned[0], owned[1], kCFBooleanTrue,
                        kCFBooleanTrue, kCFBooleanTrue, kSecMatchLimitOne};
    CFDictionaryRef q = dict(k, v, 7, owned, 2);
    CFTypeRef res = NULL;
    OSStatus st = SecItemCopyMatching(q, &res);
    CFRelease(q);
    if (st != 0)
        fail("SecItemCopyMatching(get)", st);
    read_value(res);
    CFRelease(res);
}

/* Keychain.secret / CredentialStore.get(account): the data alone, limit one */
static void op_get_data(const char *service, int i)
{
    char acct[32];
    account_name(acct, sizeof acct, i);
    CFTypeRef owned[3] = {str(service), str(acct)};
    int nowned = 2;
    const void *k[6] = {kSecClass, kSecAttrService, kSecAttrAccount, kSecReturnData,
                        kSecMatchLimit};
    const void *v[6] = {kSecClassGenericPassword, owned[0], owned[1], kCFBooleanTrue,
                        kSecMatchLimitOne};
    CFIndex n = mark(k, v, 5, owned, &nowned);
    CFDictionaryRef q = dict(k, v, n, owned, nowned);
    CFTypeRef res = NULL;
    OSStatus st = SecItemCopyMatching(q, &res);
    CFRelease(q);
    if (st != 0)
        fail("SecItemCopyMatching(get_data)", st);
    read_value(res);
    CFRelease(res);
}

/* Find every item (attributes + persistent refs) matching service[/account]
   (and the store's mark if `marked`); returns the result array (+1) and its
   count; the caller releases it. */
static CFArrayRef find_all(const char *service, const char *acct, int marked, CFIndex *count)
{
    CFTypeRef owned[3] = {str(service), acct ? str(acct) : NULL};
    int nowned = acct ? 2 : 1;
    const void *k[7] = {kSecClass, kSecAttrService, kSecReturnAttributes,
                        kSecReturnPersistentRef, kSecMatchLimit, kSecAttrAccount};
    const void *v[7] = {kSecClassGenericPassword, owned[0], kCFBooleanTrue, kCFBooleanTrue,
                        kSecMatchLimitAll, owned[1]};
    CFIndex n = acct ? 6 : 5;
    if (marked)
        n = mark(k, v, n, owned, &nowned);
    CFDictionaryRef q = dict(k, v, n, owned, nowned);
    CFTypeRef res = NULL;
    OSStatus st = SecItemCopyMatching(q, &res);
    CFRelease(q);
    if (st != 0)
        fail("SecItemCopyMatching(find)", st);
    *count = CFArrayGetCount((CFArrayRef)res);
    if (acct != NULL)
        read_value(res);  /* the Python layers convert these rows too */
    return (CFArrayRef)res;
}

/* Keychain.find: read each row's account and persistent ref */
static CFIndex op_find(const char *service)
{
    CFIndex n = 0;
    CFArrayRef rows = find_all(service, NULL, 1, &n);
    read_value(rows);
    CFRelease(rows);
    return n;
}

static void update_by(CFDictionaryRef q, const char *secret)
{
    CFTypeRef owned[2] = {data(secret, 32)};
    int nowned = 1;
    const void *k[2] = {kSecValueData};
    const void *v[2] = {owned[0]};
    CFIndex n = mark(k, v, 1, owned, &nowned);
    CFDictionaryRef changes = dict(k, v, n, owned, nowned);
    OSStatus st = SecItemUpdate(q, changes);
    CFRelease(changes);
    if (st != 0)
        fail("SecItemUpdate", st);
}

static CFDictionaryRef identity_query(const char *service, int i)
{
    char acct[32];
    account_name(acct, sizeof acct, i);
    CFTypeRef owned[2] = {str(service), str(acct)};
    const void *k[3] = {kSecClass, kSecAttrService, kSecAttrAccount};
    const void *v[3] = {kSecClassGenericPassword, owned[0], owned[1]};
    return dict(k, v, 3, owned, 2);
}

static CFDictionaryRef pref_query(CFTypeRef pref)
{
    const void *k[1] = {kSecValuePersistentRef};
    const void *v[1] = {pref};
    return CFDictionaryCreate(NULL, k, v, 1, &kCFTypeDictionaryKeyCallBacks,
                              &kCFTypeDictionaryValueCallBacks);
}

/* Keychain.update(item, data=...): {class, svce, acct} <- {v_Data} */
static void op_update(const char *service, int i)
{
    CFDictionaryRef q = identity_query(service, i);
    update_by(q, SECRET2);
    CFRelease(q);
}

/* Keychain.delete(item): {class, svce, acct} */
static void op_delete(const char *service, int i)
{
    CFDictionaryRef q = identity_query(service, i);
    OSStatus st = SecItemDelete(q);
    CFRelease(q);
    if (st != 0)
        fail("SecItemDelete", st);
}

/* CredentialStore.delete(account): find the account's items, delete each by persistent ref */
static void op_delete_by_ref(const char *service, int i)
{
    char acct[32];
    account_name(acct, sizeof acct, i);
    CFIndex n = 0;
    CFArrayRef rows = find_all(service, acct, 1, &n);
    for (CFIndex r = 0; r < n; r++) {
        CFDictionaryRef row = CFArrayGetValueAtIndex(rows, r);
        CFDictionaryRef q = pref_query(CFDictionaryGetValue(row, kSecValuePersistentRef));
        OSStatus st = SecItemDelete(q);
        CFRelease(q);
        if (st != 0)
            fail("SecItemDelete(pref)", st);
    }
    CFRelease(rows);
}

/* Keychain.upsert / CredentialStore.save of an existing item: add -> duplicate ->
   find the same identity (attributes + persistent refs) -> update each by persistent ref */
static void op_upsert(const char *service, int i)
{
    char acct[32];
    account_name(acct, sizeof acct, i);
    CFTypeRef owned[4] = {str(service), str(acct), data(SECRET, 32)};
    int nowned = 3;
    const void *k[5] = {kSecClass, kSecAttrService, kSecAttrAccount, kSecValueData};
    const void *v[5] = {kSecClassGenericPassword, owned[0], owned[1], owned[2]};
    CFIndex nq = mark(k, v, 4, owned, &nowned);
    CFDictionaryRef q = dict(k, v, nq, owned, nowned);
    CFTypeRef res = NULL;
    OSStatus st = SecItemAdd(q, &res);
    CFRelease(q);
    if (res != NULL)
        CFRelease(res);
    if (st == 0)
        return;
    if (st != errSecDuplicateItem)
        fail("SecItemAdd(upsert)", st);
    CFIndex n = 0;
    CFArrayRef rows = find_all(service, acct, 0, &n);
    for (CFIndex r = 0; r < n; r++) {
        CFDictionaryRef row = CFArrayGetValueAtIndex(rows, r);
        CFDictionaryRef pq = pref_query(CFDictionaryGetValue(row, kSecValuePersistentRef));
        update_by(pq, SECRET);
        CFRelease(pq);
    }
    CFRelease(rows);
}

/* --- timing ------------------------------------------------------------------ */

typedef struct {
    const char *name;
    double *samples;
    size_t n, cap;
} series;

static void add_sample(series *s, double ns)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->samples = realloc(s->samples, s->cap * sizeof(double));
        if (!s->samples)
            abort();
    }
    s->samples[s->n++] = ns;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(series *s, double q)
{
    qsort(s->samples, s->n, sizeof(double), cmp_double);
    return s->samples[(size_t)(q * (double)(s->n - 1) + 0.5)];
}

#define TIMED(series_, call_)                     \
    do {                                          \
        double t0_ = now_ns();                    \
        call_;                                    \
        add_sample((series_), now_ns() - t0_);    \
    } while (0)

enum {
    S_ADD, S_ADD_NORET, S_GET, S_GET_DATA, S_FIND, S_UPDATE, S_UPSERT, S_DELETE, S_DELETE_BY_REF,
    S_COUNT
};
static series cpu[S_COUNT];  /* per-batch mean thread CPU time per call */
static series all[S_COUNT] = {
    {"add", 0, 0, 0},         {"add_noreturn", 0, 0, 0}, {"get", 0, 0, 0},
    {"get_data", 0, 0, 0},
    {"find", 0, 0, 0},        {"update", 0, 0, 0},       {"upsert", 0, 0, 0},
    {"delete", 0, 0, 0},      {"delete_by_ref", 0, 0, 0},
};

static void print_series(void)
{
    printf("{");
    for (int s = 0; s < S_COUNT; s++) {
        printf("%s\"%s\": {\"median_us\": %.4f, \"p10_us\": %.4f, \"p90_us\": %.4f, \"n\": %zu, "
               "\"cpu_us\": %.4f}",
               s ? ", " : "", all[s].name, quantile(&all[s], 0.5) / 1e3,
               quantile(&all[s], 0.1) / 1e3, quantile(&all[s], 0.9) / 1e3, all[s].n,
               quantile(&cpu[s], 0.5) / 1e3);
    }
    printf(", \"live_objects_end\": %ld}\n", secsim_live_objects());
}

/* ROUNDS timed rounds after WARMUP untimed ones (the Python side runs one
   driver process per round, interleaved with its own rounds). */
static int run_ops(int n, int k, int rounds, int warmup)
{
    const char *svc = "bench", *fsvc = "bench-find";
    for (int i = 0; i < k; i++)
        op_add(fsvc, i, 0);
#define BATCH(idx, call_)                                         \
    do {                                                          \
        double c0_ = cpu_ns();                                    \
        for (int i = 0; i < n; i++)                               \
            TIMED(&all[idx], call_);                              \
        add_sample(&cpu[idx], (cpu_ns() - c0_) / n);              \
    } while (0)
    for (int r = 0; r < warmup; r++) {
        for (int i = 0; i < n; i++) {
            op_add(svc, i, 1);
            op_get(svc, i);
            op_get_data(svc, i);
            op_find(fsvc);
            op_update(svc, i);
            op_upsert(svc, i);
            op_delete(svc, i);
            op_add(svc, i, 0);
            op_delete_by_ref(svc, i);
        }
    }
    for (int r = 0; r < rounds; r++) {
        BATCH(S_ADD, op_add(svc, i, 1));
        BATCH(S_GET, op_get(svc, i));
        BATCH(S_GET_DATA, op_get_data(svc, i));
        BATCH(S_FIND, op_find(fsvc));
        BATCH(S_UPDATE, op_update(svc, i));
        BATCH(S_UPSERT, op_upsert(svc, i));
        BATCH(S_DELETE, op_delete(svc, i));
        BATCH(S_ADD_NORET, op_add(svc, i, 0));
        BATCH(S_DELETE_BY_REF, op_delete_by_ref(svc, i));
    }
    secsim_reset();
    print_series();
    return 0;
}

static int run_find(int n, int repeats)
{
    char svc[64];
    snprintf(svc, sizeof svc, "bench-scale-%d", n);
    for (int i = 0; i < n; i++)
        op_add(svc, i, 0);
    series s = {"find", 0, 0, 0}, c = {"cpu", 0, 0, 0};
    CFIndex got = 0;
    for (int r = 0; r < repeats; r++) {
        double c0 = cpu_ns();
        TIMED(&s, got = op_find(svc));
        add_sample(&c, cpu_ns() - c0);
    }
    if (got != n) {
        fprintf(stderr, "cdriver: find returned %ld of %d items\n", (long)got, n);
        return 1;
    }
    double med = quantile(&s, 0.5), cmed = quantile(&c, 0.5);
    secsim_reset();
    printf("{\"n\": %d, \"median_us\": %.3f, \"per_item_us\": %.5f, \"cpu_us\": %.3f, "
           "\"cpu_per_item_us\": %.5f, \"repeats\": %d}\n",
           n, med / 1e3, med / 1e3 / n, cmed / 1e3, cmed / 1e3 / n, repeats);
    return 0;
}

/* One operation N times after the setup bench/instructions.py makes (10 items
   under "bench-find", account 0 under "bench"): for instruction counting. */
static int run_one(const char *name, int n)
{
    const char *svc = "bench", *fsvc = "bench-find";
    for (int i = 0; i < 10; i++)
        op_add(fsvc, i, 0);
    op_add(svc, 0, 0);
    if (strcmp(name, "add_delete") == 0)
        op_delete(svc, 0);
    for (int r = 0; r < n; r++) {
        if (strcmp(name, "get") == 0)
            op_get(svc, 0);
        else if (strcmp(name, "get_data") == 0)
            op_get_data(svc, 0);
        else if (strcmp(name, "find") == 0)
            op_find(fsvc);
        else if (strcmp(name, "update") == 0)
            op_update(svc, 0);
        else if (strcmp(name, "add_delete") == 0) {
            op_add(svc, 0, 1);
            op_delete(svc, 0);
        } else {
            fprintf(stderr, "cdriver: unknown operation %s\n", name);
            return 2;
        }
    }
    secsim_reset();
    return 0;
}

int main(int argc, char **argv)
{
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "one") == 0) {
        g_creator = argc == 5 ? (int32_t)strtol(argv[4], NULL, 0) : 0;
        return run_one(argv[2], atoi(argv[3]));
    }
    if (argc >= 5 && argc <= 7 && strcmp(argv[1], "ops") == 0) {
        g_creator = argc == 7 ? (int32_t)strtol(argv[6], NULL, 0) : 0;
        return run_ops(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), argc >= 6 ? atoi(argv[5]) : 0);
    }
    if (argc == 4 && strcmp(argv[1], "find") == 0)
        return run_find(atoi(argv[2]), atoi(argv[3]));
    fprintf(stderr, "usage: cdriver ops N K ROUNDS [WARMUP [CREATOR]] | cdriver find N REPEATS"
                    " | cdriver one OP N [CREATOR]\n");
    return 2;
}
