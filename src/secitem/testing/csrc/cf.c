/*
 * cf.c - the CoreFoundation object runtime of the emulator.
 *
 * Every object starts with a secsim_base (secsim_internal.h).  The retain
 * count is changed with __atomic builtins, so retain/release are safe from
 * any thread; the class registry and the quarantine of freed objects are
 * protected by mutexes.
 *
 * Freed objects are not handed back to malloc at once: their magic becomes
 * SECSIM_DEAD and the header stays in a bounded ring (the quarantine), so a
 * second CFRelease of the same pointer is recognised and aborts with a
 * message instead of corrupting the heap.  What the object owned (string
 * bytes, container storage ...) is freed immediately; only the object block
 * itself waits in the ring, and the oldest block is freed when the ring is
 * full, so memory stays bounded however many objects are created.
 *
 * Misuse (CFRelease(NULL), a freed object, a non-CF pointer, a wrong type
 * given to a typed function) ends the process through secsim_fatal(): one
 * line "secsim: ..." on stderr, then abort(), as the real framework crashes.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cf_private.h"

/* ------------------------------------------------------------------ */
/* Fatal errors and memory                                             */
/* ------------------------------------------------------------------ */

void secsim_fatal(const char *fmt, ...)
{
    char line[1024];
    int n = snprintf(line, sizeof line, "secsim: ");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    /* One write(2): the line is not interleaved with other output. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
    abort();
}

void *cf_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        secsim_fatal("out of memory (%zu bytes)", n);
    return p;
}

void *cf_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        secsim_fatal("out of memory (%zu x %zu bytes)", count, size);
    return p;
}

void *cf_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        secsim_fatal("out of memory (%zu bytes)", n);
    return q;
}

/* ------------------------------------------------------------------ */
/* Hashing                                                             */
/* ------------------------------------------------------------------ */

CFHashCode cf_hash_mix(CFHashCode h)
{
    /* splitmix64 finaliser */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9UL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebUL;
    h ^= h >> 31;
    return h;
}

CFHashCode cf_hash_bytes(const void *p, size_t n, CFHashCode seed)
{
    /* FNV-1a, 64 bit */
    const unsigned char *s = p;
    CFHashCode h = 0xcbf29ce484222325UL ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3UL;
    }
    return h;
}

Boolean cf_bytes_equal(const void *a, size_t na, const void *b, size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na) == 0);
}

CFHashCode cf_hash_int(int64_t v)
{
    return cf_hash_mix((CFHashCode)v ^ 0x4e554d42UL);
}

CFHashCode cf_hash_pointer(const void *p)
{
    return cf_hash_mix((CFHashCode)(uintptr_t)p);
}

/* ------------------------------------------------------------------ */
/* Text buffer                                                         */
/* ------------------------------------------------------------------ */

void cf_sb_putn(cf_sb *sb, const char *s, size_t n)
{
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 64;
        while (cap < sb->len + n + 1)
            cap *= 2;
        sb->p = cf_xrealloc(sb->p, cap);
        sb->cap = cap;
    }
    memcpy(sb->p + sb->len, s, n);
    sb->len += n;
    sb->p[sb->len] = '\0';
}

void cf_sb_puts(cf_sb *sb, const char *s)
{
    cf_sb_putn(sb, s, strlen(s));
}

void cf_sb_printf(cf_sb *sb, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        cf_sb_putn(sb, small, (size_t)n);
        return;
    }
    char *big = cf_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cf_sb_putn(sb, big, (size_t)n);
    free(big);
}

CFStringRef cf_sb_finish(cf_sb *sb)
{
    CFStringRef s = cf_string_create_stored(sb->p ? sb->p : "", sb->len);
    if (!s) /* a description only ever holds UTF-8; keep it safe anyway */
        s = cf_string_create_utf8("<undescribable>", 15);
    free(sb->p);
    sb->p = NULL;
    sb->len = sb->cap = 0;
    return s;
}

/* ------------------------------------------------------------------ */
/* Class registry                                                      */
/* ------------------------------------------------------------------ */

#define CF_MAX_TYPES 128

typedef struct cf_class {
    const cf_type_ops *ops;          /* built-in types */
    secsim_class reg;                /* registered types (copy) */
    const secsim_class *reg_source;  /* pointer given to secsim_register_class */
} cf_class;

/* Type 0 is used for the allocator singletons (not a public CF type here). */
static cf_class g_classes[CF_MAX_TYPES] = {
    [SECSIM_TYPE_STRING] = { .ops = &cf_string_ops },
    [SECSIM_TYPE_DATA] = { .ops = &cf_data_ops },
    [SECSIM_TYPE_NUMBER] = { .ops = &cf_number_ops },
    [SECSIM_TYPE_DATE] = { .ops = &cf_date_ops },
    [SECSIM_TYPE_ARRAY] = { .ops = &cf_array_ops },
    [SECSIM_TYPE_DICTIONARY] = { .ops = &cf_dictionary_ops },
    [SECSIM_TYPE_ERROR] = { .ops = &cf_error_ops },
};
/* Next free type ID; published with release order after the entry is set. */
static CFTypeID g_next_type = SECSIM_TYPE_FIRST_DYNAMIC;
static pthread_mutex_t g_registry_lock = PTHREAD_MUTEX_INITIALIZER;

static bool type_registered(CFTypeID type)
{
    return type >= SECSIM_TYPE_FIRST_DYNAMIC && type < __atomic_load_n(&g_next_type, __ATOMIC_ACQUIRE);
}

const char *cf_type_name(CFTypeID type)
{
    switch (type) {
    case 0: return "CFAllocator";
    case SECSIM_TYPE_NULL: return "CFNull";
    case SECSIM_TYPE_BOOLEAN: return "CFBoolean";
    default: break;
    }
    if (type < SECSIM_TYPE_FIRST_DYNAMIC)
        return g_classes[type].ops->name;
    if (type_registered(type))
        return g_classes[type].reg.name ? g_classes[type].reg.name : "(unnamed class)";
    return "(unknown type)";
}

CFTypeID secsim_register_class(const secsim_class *cls)
{
    if (!cls)
        secsim_fatal("secsim_register_class: NULL class");
    pthread_mutex_lock(&g_registry_lock);
    CFTypeID next = __atomic_load_n(&g_next_type, __ATOMIC_RELAXED);
    /* Registering the same class struct twice returns the same ID, so a
     * caller may register lazily without its own once-guard. */
    for (CFTypeID t = SECSIM_TYPE_FIRST_DYNAMIC; t < next; t++) {
        if (g_classes[t].reg_source == cls) {
            pthread_mutex_unlock(&g_registry_lock);
            return t;
        }
    }
    if (next >= CF_MAX_TYPES) {
        pthread_mutex_unlock(&g_registry_lock);
        secsim_fatal("secsim_register_class: too many classes (max %d)", CF_MAX_TYPES);
    }
    g_classes[next].reg = *cls;
    g_classes[next].reg_source = cls;
    __atomic_store_n(&g_next_type, next + 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&g_registry_lock);
    return next;
}

CFTypeID cf_register_type(const secsim_class *cls, const cf_type_ops *ops)
{
    CFTypeID t = secsim_register_class(cls);
    pthread_mutex_lock(&g_registry_lock);
    g_classes[t].ops = ops;
    pthread_mutex_unlock(&g_registry_lock);
    return t;
}

/* ------------------------------------------------------------------ */
/* Allocation, quarantine, live count                                  */
/* ------------------------------------------------------------------ */

static long g_live;

long secsim_cf_live_objects(void)
{
    return __atomic_load_n(&g_live, __ATOMIC_SEQ_CST);
}

#define CF_QUARANTINE 8192
static void *g_quarantine[CF_QUARANTINE];
static size_t g_quarantine_next;
static pthread_mutex_t g_quarantine_lock = PTHREAD_MUTEX_INITIALIZER;

static void quarantine(void *block)
{
    pthread_mutex_lock(&g_quarantine_lock);
    void *oldest = g_quarantine[g_quarantine_next];
    g_quarantine[g_quarantine_next] = block;
    g_quarantine_next = (g_quarantine_next + 1) % CF_QUARANTINE;
    pthread_mutex_unlock(&g_quarantine_lock);
    free(oldest);
}

static secsim_base *new_object(CFTypeID type, size_t size)
{
    secsim_base *b = cf_xcalloc(1, size);
    b->magic = SECSIM_MAGIC;
    b->flags = 0;
    b->type = type;
    b->rc = 1;
    __atomic_add_fetch(&g_live, 1, __ATOMIC_SEQ_CST);
    return b;
}

void *cf_alloc(CFTypeID type, size_t size)
{
    return new_object(type, size);
}

CFTypeRef secsim_create_instance(CFTypeID type, size_t body_size)
{
    if (!type_registered(type))
        secsim_fatal("secsim_create_instance: type %lu is not a registered class", type);
    if (body_size > (size_t)LONG_MAX)
        secsim_fatal("secsim_create_instance: body size %zu too large", body_size);
    return new_object(type, sizeof(secsim_base) + body_size);
}

void *secsim_body(CFTypeRef obj)
{
    cf_validate(obj, "secsim_body");
    return (char *)obj + sizeof(secsim_base);
}

void cf_make_immortal(CFTypeRef obj)
{
    secsim_base *b = (secsim_base *)obj;
    if (b->flags & SECSIM_IMMORTAL)
        return;
    b->flags |= SECSIM_IMMORTAL;
    __atomic_sub_fetch(&g_live, 1, __ATOMIC_SEQ_CST);
}

static void destroy(secsim_base *b)
{
    CFTypeID type = b->type;
    if (type < SECSIM_TYPE_FIRST_DYNAMIC) {
        const cf_type_ops *ops = g_classes[type].ops;
        if (ops && ops->finalize)
            ops->finalize(b);
    } else if (g_classes[type].reg.finalize) {
        g_classes[type].reg.finalize(b);
    }
    b->magic = SECSIM_DEAD;
    __atomic_sub_fetch(&g_live, 1, __ATOMIC_SEQ_CST);
    quarantine(b);
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

static void check_live(const secsim_base *b, const char *fn)
{
    uint32_t magic = __atomic_load_n(&b->magic, __ATOMIC_ACQUIRE);
    if (magic == SECSIM_MAGIC)
        return;
    if (magic == SECSIM_DEAD)
        secsim_fatal("%s: object %p was already released and freed (over-release or use after free)",
                     fn, (const void *)b);
    secsim_fatal("%s: %p is not a CF object (bad magic 0x%08x)", fn, (const void *)b, magic);
}

void cf_validate(CFTypeRef obj, const char *fn)
{
    if (!obj)
        secsim_fatal("%s: NULL CF object", fn);
    check_live(obj, fn);
}

void secsim_check(CFTypeRef obj, CFTypeID type, const char *fn)
{
    if (!obj)
        secsim_fatal("%s: expected %s, got NULL", fn, cf_type_name(type));
    const secsim_base *b = obj;
    check_live(b, fn);
    if (b->type != type)
        secsim_fatal("%s: expected %s, got %s", fn, cf_type_name(type), cf_type_name(b->type));
}

Boolean secsim_is(CFTypeRef obj, CFTypeID type)
{
    if (!obj)
        return 0;
    const secsim_base *b = obj;
    return __atomic_load_n(&b->magic, __ATOMIC_ACQUIRE) == SECSIM_MAGIC && b->type == type;
}

/* ------------------------------------------------------------------ */
/* Singletons: allocators, booleans, null                              */
/* ------------------------------------------------------------------ */

#define CF_IMMORTAL_BASE(type) { SECSIM_MAGIC, SECSIM_IMMORTAL, (type), 1 }

struct __CFAllocator {
    secsim_base base;
    const char *name;
};
struct __CFBoolean {
    secsim_base base;
    Boolean value;
};
struct __CFNull {
    secsim_base base;
};

/* Allocator arguments are accepted everywhere and ignored: every object is
 * allocated with malloc.  kCFAllocatorDefault is NULL, as on Apple's CF. */
static struct __CFAllocator s_alloc_system = { CF_IMMORTAL_BASE(0), "kCFAllocatorSystemDefault" };
static struct __CFAllocator s_alloc_malloc = { CF_IMMORTAL_BASE(0), "kCFAllocatorMalloc" };
static struct __CFAllocator s_alloc_null = { CF_IMMORTAL_BASE(0), "kCFAllocatorNull" };
const CFAllocatorRef kCFAllocatorDefault = NULL;
const CFAllocatorRef kCFAllocatorSystemDefault = &s_alloc_system;
const CFAllocatorRef kCFAllocatorMalloc = &s_alloc_malloc;
const CFAllocatorRef kCFAllocatorNull = &s_alloc_null;

static struct __CFBoolean s_true = { CF_IMMORTAL_BASE(SECSIM_TYPE_BOOLEAN), 1 };
static struct __CFBoolean s_false = { CF_IMMORTAL_BASE(SECSIM_TYPE_BOOLEAN), 0 };
const CFBooleanRef kCFBooleanTrue = &s_true;
const CFBooleanRef kCFBooleanFalse = &s_false;

static struct __CFNull s_null = { CF_IMMORTAL_BASE(SECSIM_TYPE_NULL) };
const CFNullRef kCFNull = &s_null;

CFTypeID CFBooleanGetTypeID(void) { return SECSIM_TYPE_BOOLEAN; }
CFTypeID CFNullGetTypeID(void) { return SECSIM_TYPE_NULL; }

Boolean CFBooleanGetValue(CFBooleanRef boolean)
{
    secsim_check(boolean, SECSIM_TYPE_BOOLEAN, "CFBooleanGetValue");
    return boolean->value;
}

/* ------------------------------------------------------------------ */
/* Retain / release                                                    */
/* ------------------------------------------------------------------ */

CFTypeRef CFRetain(CFTypeRef cf)
{
    if (!cf)
        secsim_fatal("CFRetain() called with NULL");
    secsim_base *b = (secsim_base *)cf;
    check_live(b, "CFRetain");
    if (b->flags & SECSIM_IMMORTAL)
        return cf;
    long old = __atomic_fetch_add(&b->rc, 1, __ATOMIC_RELAXED);
    if (old <= 0)
        secsim_fatal("CFRetain: object %p (%s) is being freed (retain count was %ld)", cf,
                     cf_type_name(b->type), old);
    return cf;
}

void CFRelease(CFTypeRef cf)
{
    if (!cf)
        secsim_fatal("CFRelease() called with NULL");
    secsim_base *b = (secsim_base *)cf;
    check_live(b, "CFRelease");
    if (b->flags & SECSIM_IMMORTAL)
        return;
    long now = __atomic_sub_fetch(&b->rc, 1, __ATOMIC_ACQ_REL);
    if (now == 0)
        destroy(b);
    else if (now < 0)
        secsim_fatal("CFRelease: object %p (%s) over-released (retain count %ld)", cf,
                     cf_type_name(b->type), now);
}

CFIndex CFGetRetainCount(CFTypeRef cf)
{
    if (!cf)
        secsim_fatal("CFGetRetainCount() called with NULL");
    const secsim_base *b = cf;
    check_live(b, "CFGetRetainCount");
    /* Constants never go away; Apple's CF also reports a huge count. */
    if (b->flags & SECSIM_IMMORTAL)
        return LONG_MAX;
    return __atomic_load_n(&b->rc, __ATOMIC_RELAXED);
}

CFTypeID CFGetTypeID(CFTypeRef cf)
{
    if (!cf)
        secsim_fatal("CFGetTypeID() called with NULL");
    check_live(cf, "CFGetTypeID");
    return ((const secsim_base *)cf)->type;
}

/* ------------------------------------------------------------------ */
/* Equality, hash, description                                         */
/* ------------------------------------------------------------------ */

/* CFBoolean and CFNumber are both NSNumber on macOS (facts, "Field
 * evidence"): true equals the number 1 and false the number 0, with equal
 * hashes. */
Boolean CFEqual(CFTypeRef cf1, CFTypeRef cf2)
{
    /* Apple's CF traps on a NULL argument (either one): a loud abort here. */
    if (!cf1)
        secsim_fatal("CFEqual() called with NULL first argument");
    if (!cf2)
        secsim_fatal("CFEqual() called with NULL second argument");
    check_live(cf1, "CFEqual");
    check_live(cf2, "CFEqual");
    if (cf1 == cf2)
        return 1;
    const secsim_base *a = cf1, *b = cf2;
    if (a->type != b->type) {
        if (a->type == SECSIM_TYPE_BOOLEAN && b->type == SECSIM_TYPE_NUMBER)
            return cf_number_equals_int(cf2, ((const struct __CFBoolean *)cf1)->value);
        if (a->type == SECSIM_TYPE_NUMBER && b->type == SECSIM_TYPE_BOOLEAN)
            return cf_number_equals_int(cf1, ((const struct __CFBoolean *)cf2)->value);
        return 0;
    }
    CFTypeID type = a->type;
    if (type == SECSIM_TYPE_BOOLEAN)
        return ((const struct __CFBoolean *)cf1)->value == ((const struct __CFBoolean *)cf2)->value;
    if (type < SECSIM_TYPE_FIRST_DYNAMIC) {
        const cf_type_ops *ops = g_classes[type].ops;
        return ops && ops->equal ? ops->equal(cf1, cf2) : 0;
    }
    if (g_classes[type].reg.equal)
        return g_classes[type].reg.equal(cf1, cf2) ? 1 : 0;
    return 0;
}

CFHashCode CFHash(CFTypeRef cf)
{
    if (!cf)
        secsim_fatal("CFHash() called with NULL");
    check_live(cf, "CFHash");
    const secsim_base *b = cf;
    CFTypeID type = b->type;
    if (type == SECSIM_TYPE_BOOLEAN)
        return cf_hash_int(((const struct __CFBoolean *)cf)->value);
    if (type < SECSIM_TYPE_FIRST_DYNAMIC) {
        const cf_type_ops *ops = g_classes[type].ops;
        return ops && ops->hash ? ops->hash(cf) : cf_hash_pointer(cf);
    }
    if (g_classes[type].reg.hash)
        return g_classes[type].reg.hash(cf);
    return cf_hash_pointer(cf);
}

void cf_describe(cf_sb *sb, CFTypeRef obj, bool nested, int depth)
{
    if (!obj) {
        cf_sb_puts(sb, "(null)");
        return;
    }
    check_live(obj, "CFCopyDescription");
    if (depth > CF_DESCRIBE_MAX_DEPTH) {
        cf_sb_puts(sb, "...");
        return;
    }
    const secsim_base *b = obj;
    switch (b->type) {
    case 0:
        cf_sb_printf(sb, "<CFAllocator %s>", ((const struct __CFAllocator *)obj)->name);
        return;
    case SECSIM_TYPE_BOOLEAN:
        cf_sb_puts(sb, ((const struct __CFBoolean *)obj)->value ? "true" : "false");
        return;
    case SECSIM_TYPE_NULL:
        cf_sb_puts(sb, "<null>");
        return;
    default:
        break;
    }
    if (b->type < SECSIM_TYPE_FIRST_DYNAMIC || (type_registered(b->type) && g_classes[b->type].ops)) {
        g_classes[b->type].ops->describe(sb, obj, nested, depth);
        return;
    }
    cf_sb_printf(sb, "<%s %p>", cf_type_name(b->type), obj);
}

/* Apple's class names: the runtime name of each built-in type. */
CFStringRef CFCopyTypeIDDescription(CFTypeID type_id)
{
    if (type_id == 0 || (type_id >= SECSIM_TYPE_FIRST_DYNAMIC && !type_registered(type_id)))
        return NULL;
    const char *name = cf_type_name(type_id);
    return cf_string_create_utf8(name, strlen(name));
}

/* CFShow: the description on stderr, one line (a string shows as itself). */
void CFShow(CFTypeRef obj)
{
    if (!obj) {
        fputs("(null)\n", stderr);
        return;
    }
    CFStringRef d = CFCopyDescription(obj);
    CFIndex n = 0;
    const char *p = secsim_string_utf8(d, &n);
    fwrite(p, 1, (size_t)n, stderr);
    fputc('\n', stderr);
    CFRelease(d);
}

CFStringRef CFCopyDescription(CFTypeRef cf)
{
    if (!cf)
        secsim_fatal("CFCopyDescription() called with NULL");
    check_live(cf, "CFCopyDescription");
    /* A string describes itself (as NSString's -description does). */
    if (((const secsim_base *)cf)->type == SECSIM_TYPE_STRING)
        return CFRetain(cf);
    cf_sb sb = { 0 };
    cf_describe(&sb, cf, false, 0);
    return cf_sb_finish(&sb);
}
