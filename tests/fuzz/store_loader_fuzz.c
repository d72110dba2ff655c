/*
 * store_loader_fuzz.c - coverage-guided fuzz (libFuzzer) of the emulator's
 * store loader (SECSIM_STORE, csrc/sec_store.c), issue #11 item 3.
 *
 * Built by tests/fuzz/run_store_fuzz.sh together with every emulator source,
 * with -fsanitize=fuzzer,address,undefined.  Each input is written as the
 * store file, then the four SecItem functions run on it as a caller would
 * use them, every result object is walked (CFHash, CFEqual,
 * CFCopyDescription), and the live-object count must be back where it was.
 * The loader must answer errSecIO (-36) for any file it does not accept:
 * an abort, a sanitizer report, a leak or any other answer is a finding.
 *
 * The generation field of an input (bytes 12..19) is overwritten with a
 * counter so that every input is really loaded (the loader skips a file
 * whose generation it already holds); the field is only ever compared, so
 * nothing else is lost.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secsim.h"

static char g_path[4096];
static uint64_t g_counter = 1u << 20;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_dir[4096];

static void remove_store_files(void)
{
    char p[4200];
    const char *const suffixes[] = { "", ".lock" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s%s", g_path, suffixes[i]);
        unlink(p);
    }
    rmdir(g_dir); /* fails, harmlessly, if a temporary is left */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* A fresh folder on tmpfs when there is one: every loaded input is
     * written back, and fsync on a disk would only slow the fuzz. */
    const char *base = getenv("STORE_FUZZ_DIR");
    if (base == NULL)
        base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(g_dir, sizeof g_dir, "%s/secsim-store-fuzz-XXXXXX", base);
    if (mkdtemp(g_dir) == NULL) {
        perror("mkdtemp");
        abort();
    }
    snprintf(g_path, sizeof g_path, "%s/kc.bin", g_dir);
    atexit(remove_store_files);
    setenv("SECSIM_STORE", g_path, 1);
    setenv("SECSIM_PROFILE", "macos", 1);
    setenv("SECSIM_ACCESS_GROUPS", "SECSIMTEAM.org.secitem.app", 1);
    return 0;
}

static void fail(const char *what, long a, long b)
{
    fprintf(stderr, "store_loader_fuzz: %s (%ld, %ld)\n", what, a, b);
    abort();
}

static CFStringRef str(const char *s)
{
    return CFStringCreateWithCString(NULL, s, kCFStringEncodingUTF8);
}

static CFMutableDictionaryRef dict(void)
{
    return CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
}

static void put(CFMutableDictionaryRef d, CFStringRef key, CFTypeRef value)
{
    CFDictionarySetValue(d, key, value);
}

static void put_str(CFMutableDictionaryRef d, CFStringRef key, const char *value)
{
    CFStringRef s = str(value);
    CFDictionarySetValue(d, key, s);
    CFRelease(s);
}

static void put_int(CFMutableDictionaryRef d, CFStringRef key, long value)
{
    CFNumberRef n = CFNumberCreate(NULL, kCFNumberLongType, &value);
    CFDictionarySetValue(d, key, n);
    CFRelease(n);
}

static void put_data(CFMutableDictionaryRef d, CFStringRef key, const char *value)
{
    CFDataRef v = CFDataCreate(NULL, (const UInt8 *)value, (CFIndex)strlen(value));
    CFDictionarySetValue(d, key, v);
    CFRelease(v);
}

/* Touch every object of a result the way a caller would. */
static void walk(CFTypeRef obj, int depth)
{
    if (obj == NULL || depth > 8)
        fail("NULL or too deep in a result", depth, 0);
    (void)CFHash(obj);
    if (!CFEqual(obj, obj))
        fail("an object not equal to itself", depth, 0);
    CFStringRef desc = CFCopyDescription(obj);
    if (desc != NULL)
        CFRelease(desc);
    CFTypeID t = CFGetTypeID(obj);
    if (t == CFArrayGetTypeID()) {
        for (CFIndex i = 0; i < CFArrayGetCount(obj); i++)
            walk(CFArrayGetValueAtIndex(obj, i), depth + 1);
    } else if (t == CFDictionaryGetTypeID()) {
        CFIndex n = CFDictionaryGetCount(obj);
        const void **keys = calloc((size_t)n + 1, sizeof *keys);
        const void **vals = calloc((size_t)n + 1, sizeof *vals);
        CFDictionaryGetKeysAndValues(obj, keys, vals);
        for (CFIndex i = 0; i < n; i++) {
            walk(keys[i], depth + 1);
            walk(vals[i], depth + 1);
        }
        free(keys);
        free(vals);
    } else if (t == CFStringGetTypeID()) {
        CFIndex len = CFStringGetLength(obj);
        char buf[64];
        CFIndex used = 0;
        CFStringGetBytes(obj, (CFRange){ 0, len < 16 ? len : 16 }, kCFStringEncodingUTF8, 0, 0, (UInt8 *)buf,
                         sizeof buf, &used);
    } else if (t == CFDataGetTypeID()) {
        CFIndex len = CFDataGetLength(obj);
        const UInt8 *p = CFDataGetBytePtr(obj);
        volatile UInt8 sink = 0;
        for (CFIndex i = 0; i < len; i++)
            sink ^= p[i];
        (void)sink;
    } else if (t == CFDateGetTypeID()) {
        (void)CFDateGetAbsoluteTime(obj);
    }
}

/* Status of a call that may answer on a file that loaded; -36 otherwise. */
static int ok_status(OSStatus st, OSStatus a, OSStatus b)
{
    return st == 0 || st == a || st == b;
}

static const char *const classes[] = { "genp", "inet", "cert", "keys", "idnt" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* 1. The input becomes the store file, with a fresh generation. */
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    if (size >= 20) {
        uint64_t g = g_counter++;
        for (int i = 0; i < 8; i++)
            buf[12 + i] = (uint8_t)(g >> (8 * i));
    }
    int fd = open(g_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || (size && write(fd, buf, size) != (ssize_t)size) || close(fd) != 0)
        fail("cannot write the store file", (long)size, 0);
    free(buf);

    long live = secsim_live_objects();

    /* 2. Read every class with every return key (both keychains). */
    OSStatus first = 1;
    for (size_t c = 0; c < sizeof classes / sizeof classes[0]; c++) {
        CFMutableDictionaryRef q = dict();
        put_str(q, kSecClass, classes[c]);
        put_int(q, kSecMatchLimit, 1000);
        put(q, kSecReturnAttributes, kCFBooleanTrue);
        put(q, kSecReturnData, kCFBooleanTrue);
        put(q, kSecReturnPersistentRef, kCFBooleanTrue);
        put(q, kSecReturnRef, kCFBooleanTrue);
        CFTypeRef out = NULL;
        OSStatus st = SecItemCopyMatching(q, &out);
        CFRelease(q);
        if (out != NULL) {
            walk(out, 0);
            CFRelease(out);
        }
        if (first == 1)
            first = st;
        if (first == -36 ? st != -36 : !ok_status(st, -25300, -25300))
            fail("SecItemCopyMatching answered", (long)st, (long)first);
    }

    /* 3. Change something: add (FB and DP), update, delete. */
    CFMutableDictionaryRef a = dict();
    put_str(a, kSecClass, "genp");
    put_str(a, kSecAttrAccount, "fuzz-new");
    put_data(a, kSecValueData, "n");
    CFTypeRef out = NULL;
    OSStatus st = SecItemAdd(a, &out);
    CFRelease(a);
    if (out != NULL) {
        walk(out, 0);
        CFRelease(out);
    }
    if (first == -36 ? st != -36 : !ok_status(st, -25299, -25299))
        fail("SecItemAdd answered", (long)st, (long)first);

    a = dict();
    put_str(a, kSecClass, "inet");
    put(a, kSecUseDataProtectionKeychain, kCFBooleanTrue);
    put_str(a, kSecAttrAccount, "dpi");
    put_str(a, kSecAttrServer, "h2");
    put_int(a, kSecAttrPort, 1);
    put(a, kSecReturnAttributes, kCFBooleanTrue);
    out = NULL;
    st = SecItemAdd(a, &out);
    CFRelease(a);
    if (out != NULL) {
        walk(out, 0);
        CFRelease(out);
    }
    if (first == -36 ? st != -36 : !ok_status(st, -25299, -25299))
        fail("SecItemAdd (DP) answered", (long)st, (long)first);

    CFMutableDictionaryRef q = dict(), u = dict();
    put_str(q, kSecClass, "genp");
    put(q, kSecMatchLimit, kSecMatchLimitAll);
    put_str(u, kSecAttrLabel, "updated");
    st = SecItemUpdate(q, u);
    CFRelease(q);
    CFRelease(u);
    if (first == -36 ? st != -36 : !ok_status(st, -25300, -25299))
        fail("SecItemUpdate answered", (long)st, (long)first);

    q = dict();
    put_str(q, kSecClass, "keys");
    put(q, kSecUseDataProtectionKeychain, kCFBooleanTrue);
    u = dict();
    put_data(u, kSecAttrApplicationTag, "u");
    st = SecItemUpdate(q, u);
    CFRelease(q);
    CFRelease(u);
    if (first == -36 ? st != -36 : !ok_status(st, -25300, -25299))
        fail("SecItemUpdate (DP) answered", (long)st, (long)first);

    q = dict();
    put_str(q, kSecClass, "inet");
    put(q, kSecMatchLimit, kSecMatchLimitAll);
    st = SecItemDelete(q);
    CFRelease(q);
    if (first == -36 ? st != -36 : !ok_status(st, -25300, -25300))
        fail("SecItemDelete answered", (long)st, (long)first);

    /* 4. Nothing made along the way outlives the input. */
    if (secsim_live_objects() != live)
        fail("CF objects leaked", secsim_live_objects(), live);
    return 0;
}
