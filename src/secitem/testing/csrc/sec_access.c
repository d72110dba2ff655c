/*
 * sec_access.c - the macos profile's access lists (SecAccess, SecACL,
 * SecTrustedApplication), partition lists, the running application's code
 * signature (SecCode) and its security session (SessionGetInfo).
 *
 * Facts: shared/reference/macos-access-and-cli-facts.md sections 1-3
 * (Apple's Access.cpp, ACL.cpp, SecACL.cpp, TrustedApplication.cpp,
 * securityd acls.cpp / clientid.cpp / agentquery.cpp, StaticCode.cpp).
 * The readings this file chooses are listed in docs/emulator.md, "Access
 * lists and partition lists".
 *
 * The model of one item (struct amodel):
 *   - the decrypt ("limited") ACL: any application (allow-all form) or a
 *     list of application paths (possibly empty: every read asks);
 *   - the partition list (partition IDs; absent on an item whose access
 *     was never recorded: such an item is not gated);
 *   - the description (the prompt's text).
 * The encrypt ACL is always allow-all and the owner ACL (change_acl) has an
 * empty application list, as Access::makeStandard builds them.
 *
 * The running application: realpath of /proc/self/exe, or SECSIM_APP_PATH;
 * its signature: SECSIM_CODE_SIGNING = unsigned (default) | adhoc |
 * apple-tool | apple | <team identifier>.  Its partition ID follows
 * securityd's partitionIdForProcess: unsigned: / cdhash:<hex> / apple-tool: /
 * apple: / teamid:<TEAM>.  An ad-hoc signature's cdhash is the SHA-1 of the
 * application path (a new path is a new build: the ID changes).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sec_access.h"

/* Code Signing's OSStatus values (CSCommon.h; not in SecBase.h). */
enum {
    errSecCSUnsigned = -67062,
    errSecCSInvalidFlags = -67070,
    errSecCSInvalidObjectRef = -67071,
    errSecCSObjectRequired = -67069
};

/* CSSM authorization tags (facts 1.3). */
enum {
    TAG_ANY = 1, TAG_DB_DELETE = 17, TAG_DB_INSERT = 19, TAG_DB_MODIFY = 20, TAG_DB_READ = 21,
    TAG_DBS_CREATE = 22, TAG_DBS_DELETE = 23, TAG_DECRYPT = 24, TAG_DELETE = 25, TAG_DERIVE = 28,
    TAG_ENCRYPT = 35, TAG_EXPORT_CLEAR = 37, TAG_EXPORT_WRAPPED = 38, TAG_GENKEY = 41,
    TAG_IMPORT_CLEAR = 47, TAG_IMPORT_WRAPPED = 48, TAG_LOGIN = 57, TAG_MAC = 59, TAG_SIGN = 115,
    TAG_CHANGE_ACL = 0x10000, TAG_CHANGE_OWNER = 0x10001, TAG_PARTITION_ID = 0x10002,
    TAG_INTEGRITY = 0x10003
};

static const struct {
    const char *name;
    int32_t tag;
} auth_names[] = {
    { "ACLAuthorizationAny", TAG_ANY },
    { "ACLAuthorizationLogin", TAG_LOGIN },
    { "ACLAuthorizationGenKey", TAG_GENKEY },
    { "ACLAuthorizationDelete", TAG_DELETE },
    { "ACLAuthorizationExportWrapped", TAG_EXPORT_WRAPPED },
    { "ACLAuthorizationExportClear", TAG_EXPORT_CLEAR },
    { "ACLAuthorizationImportWrapped", TAG_IMPORT_WRAPPED },
    { "ACLAuthorizationImportClear", TAG_IMPORT_CLEAR },
    { "ACLAuthorizationSign", TAG_SIGN },
    { "ACLAuthorizationEncrypt", TAG_ENCRYPT },
    { "ACLAuthorizationDecrypt", TAG_DECRYPT },
    { "ACLAuthorizationMAC", TAG_MAC },
    { "ACLAuthorizationDerive", TAG_DERIVE },
    { "ACLAuthorizationKeychainCreate", TAG_DBS_CREATE },
    { "ACLAuthorizationKeychainDelete", TAG_DBS_DELETE },
    { "ACLAuthorizationKeychainItemRead", TAG_DB_READ },
    { "ACLAuthorizationKeychainItemInsert", TAG_DB_INSERT },
    { "ACLAuthorizationKeychainItemModify", TAG_DB_MODIFY },
    { "ACLAuthorizationKeychainItemDelete", TAG_DB_DELETE },
    { "ACLAuthorizationChangeACL", TAG_CHANGE_ACL },
    { "ACLAuthorizationChangeOwner", TAG_CHANGE_OWNER },
    { "ACLAuthorizationPartitionID", TAG_PARTITION_ID },
    { "ACLAuthorizationIntegrity", TAG_INTEGRITY },
};
#define N_AUTH (sizeof auth_names / sizeof auth_names[0])

/* The ACLs of a standard access, in the order SecAccessCopyACLList gives
 * them (facts 2.5: encrypt, decrypt, partition, owner last). */
enum { ACL_ENCRYPT, ACL_DECRYPT, ACL_PARTITION, ACL_OWNER, ACL_COUNT };

static const int32_t acl_tags_encrypt[] = { TAG_ENCRYPT };
/* sorted by tag, as SecACLCopyAuthorizations returns them (std::set) */
static const int32_t acl_tags_decrypt[] = { TAG_DECRYPT, TAG_DERIVE, TAG_EXPORT_CLEAR, TAG_EXPORT_WRAPPED,
                                            TAG_MAC, TAG_SIGN };
static const int32_t acl_tags_partition[] = { TAG_PARTITION_ID };
static const int32_t acl_tags_owner[] = { TAG_CHANGE_ACL };
static const struct {
    const int32_t *tags;
    size_t n;
} acl_tags[ACL_COUNT] = {
    { acl_tags_encrypt, 1 }, { acl_tags_decrypt, 6 }, { acl_tags_partition, 1 }, { acl_tags_owner, 1 },
};

/* ------------------------------------------------------------------ */
/* the running application, its signature and session */

enum { SIGN_UNSIGNED, SIGN_ADHOC, SIGN_TEAM, SIGN_APPLE_TOOL, SIGN_APPLE };

static struct {
    bool ready;
    char *path;         /* the application's path */
    int signing;
    char *team;         /* SIGN_TEAM */
    char partition[128];
    uint8_t cdhash[20];
    bool ui;            /* the session can show a dialog */
    char *password;     /* the keychain password */
} g_app;

static char *xstrdup(const char *s)
{
    size_t n = strlen(s);
    char *p = sec_xmalloc(n + 1);
    memcpy(p, s, n + 1);
    return p;
}

static char *self_path(void)
{
    const char *env = getenv("SECSIM_APP_PATH");
    if (env != NULL && *env)
        return xstrdup(env);
    char buf[PATH_MAX];
    if (realpath("/proc/self/exe", buf) != NULL)
        return xstrdup(buf);
    return xstrdup("/proc/self/exe");
}

static void hexify(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = 0;
}

static void app_set(const char *path, const char *signing)
{
    free(g_app.path);
    free(g_app.team);
    g_app.team = NULL;
    g_app.path = path != NULL && *path ? xstrdup(path) : self_path();
    if (signing == NULL)
        signing = getenv("SECSIM_CODE_SIGNING");
    if (signing == NULL || !*signing || strcmp(signing, "unsigned") == 0) {
        g_app.signing = SIGN_UNSIGNED;
    } else if (strcmp(signing, "adhoc") == 0) {
        g_app.signing = SIGN_ADHOC;
    } else if (strcmp(signing, "apple-tool") == 0) {
        g_app.signing = SIGN_APPLE_TOOL;
    } else if (strcmp(signing, "apple") == 0) {
        g_app.signing = SIGN_APPLE;
    } else {
        g_app.signing = SIGN_TEAM;
        g_app.team = xstrdup(signing);
    }
    /* A stand-in cdhash: the SHA-1 of the path (a rebuilt binary is a new
     * path in the emulator's world). */
    size_t n = strlen(g_app.path);
    char *seed = sec_xmalloc(n + 8);
    memcpy(seed, "cdhash:", 7);
    memcpy(seed + 7, g_app.path, n);
    sec_sha1(seed, n + 7, g_app.cdhash);
    free(seed);
    switch (g_app.signing) {
    case SIGN_UNSIGNED:
        snprintf(g_app.partition, sizeof g_app.partition, "unsigned:");
        break;
    case SIGN_ADHOC: {
        char hex[41];
        hexify(g_app.cdhash, 20, hex);
        snprintf(g_app.partition, sizeof g_app.partition, "cdhash:%s", hex);
        break;
    }
    case SIGN_APPLE_TOOL:
        snprintf(g_app.partition, sizeof g_app.partition, "apple-tool:");
        break;
    case SIGN_APPLE:
        snprintf(g_app.partition, sizeof g_app.partition, "apple:");
        break;
    default:
        snprintf(g_app.partition, sizeof g_app.partition, "teamid:%.100s", g_app.team);
        break;
    }
}

void sec_access_reset(void)
{
    app_set(NULL, NULL);
    const char *ui = getenv("SECSIM_SESSION_UI");
    g_app.ui = !(ui != NULL && strcmp(ui, "0") == 0);
    const char *pw = getenv("SECSIM_KEYCHAIN_PASSWORD");
    free(g_app.password);
    g_app.password = xstrdup(pw != NULL ? pw : "");
    g_app.ready = true;
}

static void app_ready(void)
{
    if (!g_app.ready)
        sec_access_reset();
}

SECSIM_EXPORT void secsim_set_application(const char *path, const char *code_signing)
{
    sec_lock();
    app_ready();
    app_set(path, code_signing);
    sec_unlock();
}

SECSIM_EXPORT void secsim_set_session_ui(int available)
{
    sec_lock();
    app_ready();
    g_app.ui = available != 0;
    sec_unlock();
}

SECSIM_EXPORT void secsim_set_keychain_password(const char *password)
{
    sec_lock();
    app_ready();
    free(g_app.password);
    g_app.password = xstrdup(password != NULL ? password : "");
    sec_unlock();
}

/* ------------------------------------------------------------------ */
/* the model and its encoding */

typedef struct amodel {
    bool any;           /* decrypt ACL in allow-all form */
    char **apps;
    size_t napps;
    bool has_parts;
    char **parts;
    size_t nparts;
    char *desc;
} amodel;

static void strs_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void am_free(amodel *m)
{
    strs_free(m->apps, m->napps);
    strs_free(m->parts, m->nparts);
    free(m->desc);
    memset(m, 0, sizeof *m);
}

static char **strs_copy(char *const *v, size_t n)
{
    char **o = sec_xmalloc((n ? n : 1) * sizeof *o);
    for (size_t i = 0; i < n; i++)
        o[i] = xstrdup(v[i]);
    return o;
}

static void am_copy(const amodel *src, amodel *dst)
{
    dst->any = src->any;
    dst->napps = src->napps;
    dst->apps = strs_copy(src->apps, src->napps);
    dst->has_parts = src->has_parts;
    dst->nparts = src->nparts;
    dst->parts = strs_copy(src->parts, src->nparts);
    dst->desc = xstrdup(src->desc ? src->desc : "");
}

static void strs_push(char ***v, size_t *n, const char *s, size_t len)
{
    *v = sec_xrealloc(*v, (*n + 1) * sizeof **v);
    char *p = sec_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = 0;
    (*v)[(*n)++] = p;
}

/* Encoding (SV_DATA): "SAC1" u8 flags(1 any, 2 has_parts) u32 napps {u32 len, bytes}
 * u32 nparts {u32 len, bytes} u32 desc_len desc; little-endian. */
typedef struct abuf {
    uint8_t *p;
    size_t n, cap;
} abuf;

static void ab_put(abuf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = sec_xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void ab_u32(abuf *b, uint32_t v)
{
    uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    ab_put(b, x, 4);
}

static void ab_str(abuf *b, const char *s)
{
    size_t n = strlen(s);
    ab_u32(b, (uint32_t)n);
    ab_put(b, s, n);
}

static sval am_encode(const amodel *m)
{
    abuf b = { NULL, 0, 0 };
    ab_put(&b, "SAC1", 4);
    uint8_t flags = (uint8_t)((m->any ? 1 : 0) | (m->has_parts ? 2 : 0));
    ab_put(&b, &flags, 1);
    ab_u32(&b, (uint32_t)m->napps);
    for (size_t i = 0; i < m->napps; i++)
        ab_str(&b, m->apps[i]);
    ab_u32(&b, (uint32_t)m->nparts);
    for (size_t i = 0; i < m->nparts; i++)
        ab_str(&b, m->parts[i]);
    ab_str(&b, m->desc ? m->desc : "");
    sval v = sval_data(b.p, b.n);
    free(b.p);
    return v;
}

typedef struct rd {
    const uint8_t *p;
    size_t n, pos;
    bool bad;
} rd;

static uint32_t rd_u32(rd *r)
{
    if (r->n - r->pos < 4) {
        r->bad = true;
        return 0;
    }
    const uint8_t *x = r->p + r->pos;
    r->pos += 4;
    return (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
}

/* A string without NUL bytes, valid UTF-8. */
static bool rd_str(rd *r, char ***v, size_t *n)
{
    uint32_t len = rd_u32(r);
    if (r->bad || r->n - r->pos < len || memchr(r->p + r->pos, 0, len) != NULL)
        return false;
    CFStringRef s = CFStringCreateWithBytes(NULL, r->p + r->pos, (CFIndex)len, kCFStringEncodingUTF8, false);
    if (s == NULL)
        return false;
    CFRelease(s);
    strs_push(v, n, (const char *)r->p + r->pos, len);
    r->pos += len;
    return true;
}

static bool am_decode(const uint8_t *p, size_t n, amodel *m)
{
    memset(m, 0, sizeof *m);
    if (n < 5 || memcmp(p, "SAC1", 4) != 0 || (p[4] & ~3u) != 0)
        return false;
    rd r = { p, n, 5, false };
    m->any = (p[4] & 1) != 0;
    m->has_parts = (p[4] & 2) != 0;
    uint32_t na = rd_u32(&r);
    for (uint32_t i = 0; !r.bad && i < na; i++)
        if (!rd_str(&r, &m->apps, &m->napps))
            r.bad = true;
    uint32_t np = r.bad ? 0 : rd_u32(&r);
    for (uint32_t i = 0; !r.bad && i < np; i++)
        if (!rd_str(&r, &m->parts, &m->nparts))
            r.bad = true;
    char **d = NULL;
    size_t nd = 0;
    if (r.bad || !rd_str(&r, &d, &nd) || r.pos != r.n) {
        strs_free(d, nd);
        am_free(m);
        return false;
    }
    m->desc = d[0];
    free(d);
    return true;
}

bool sec_access_hidden_key(const char *key)
{
    return key[0] == '_';
}

bool sec_access_value_ok(const char *key, const sval *v)
{
    if (strcmp(key, SEC_ACCESS_KEY) != 0 || v->tag != SV_DATA)
        return false;
    amodel m;
    if (!am_decode(v->p, v->n, &m))
        return false;
    am_free(&m);
    return true;
}

static bool item_model(const sitem *it, amodel *m)
{
    const sval *v = item_get(it, SEC_ACCESS_KEY);
    return v != NULL && v->tag == SV_DATA && am_decode(v->p, v->n, m);
}

/* Password items of the FB keychain on the macos profile (keys and
 * certificates of the FB keychain carry no modelled access). */
static bool gated_item(const sitem *it)
{
    return g_sec.profile == PROFILE_MACOS && it->impl == IMPL_FB && (it->cls == CLS_GENP || it->cls == CLS_INET);
}

/* ------------------------------------------------------------------ */
/* partition payload: the XML plist {"Partitions": [...]} as lowercase hex
 * (KF keychain_set_partition_list: CFPropertyListCreateXMLData + cfToHex) */

static void xml_escaped(abuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': ab_put(b, "&amp;", 5); break;
        case '<': ab_put(b, "&lt;", 4); break;
        case '>': ab_put(b, "&gt;", 4); break;
        default: ab_put(b, s, 1); break;
        }
    }
}

static char *partition_hex(const amodel *m)
{
    abuf b = { NULL, 0, 0 };
    static const char head[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
        "<plist version=\"1.0\">\n<dict>\n\t<key>Partitions</key>\n\t<array>\n";
    ab_put(&b, head, sizeof head - 1);
    for (size_t i = 0; i < m->nparts; i++) {
        ab_put(&b, "\t\t<string>", 10);
        xml_escaped(&b, m->parts[i]);
        ab_put(&b, "</string>\n", 10);
    }
    static const char tail[] = "\t</array>\n</dict>\n</plist>\n";
    ab_put(&b, tail, sizeof tail - 1);
    char *hex = sec_xmalloc(2 * b.n + 1);
    hexify(b.p, b.n, hex);
    free(b.p);
    return hex;
}

static const char *find_str(const char *s, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (; s + n <= end; s++)
        if (memcmp(s, needle, n) == 0)
            return s;
    return NULL;
}

/* The partition IDs of a hex-encoded XML plist; false if it is not one. */
static bool partition_parse(const char *hex, size_t hn, char ***out, size_t *nout)
{
    if (hn % 2 != 0)
        return false;
    size_t n = hn / 2;
    char *x = sec_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        int a = secsim_hex_digit((unsigned char)hex[2 * i]);
        int b = secsim_hex_digit((unsigned char)hex[2 * i + 1]);
        if (a < 0 || b < 0) {
            free(x);
            return false;
        }
        x[i] = (char)(a * 16 + b);
    }
    x[n] = 0;
    const char *end = x + n;
    bool ok = false;
    const char *k = find_str(x, end, "<key>Partitions</key>");
    if (k != NULL) {
        const char *a = find_str(k, end, "<array");
        if (a != NULL && find_str(a, end, "<array/>") == a) {
            ok = true;
        } else if (a != NULL && (a = find_str(a, end, ">")) != NULL) {
            const char *close = find_str(a, end, "</array>");
            ok = close != NULL;
            const char *s = a;
            while (ok && (s = find_str(s, close, "<string>")) != NULL) {
                s += 8;
                const char *e = find_str(s, close, "</string>");
                if (e == NULL) {
                    ok = false;
                    break;
                }
                char *v = sec_xmalloc((size_t)(e - s) + 1);
                size_t vn = 0;
                for (const char *c = s; c < e;) {
                    if (strncmp(c, "&amp;", 5) == 0) { v[vn++] = '&'; c += 5; }
                    else if (strncmp(c, "&lt;", 4) == 0) { v[vn++] = '<'; c += 4; }
                    else if (strncmp(c, "&gt;", 4) == 0) { v[vn++] = '>'; c += 4; }
                    else v[vn++] = *c++;
                }
                strs_push(out, nout, v, vn);
                free(v);
                s = e + 9;
            }
        }
    }
    free(x);
    return ok;
}

/* ------------------------------------------------------------------ */
/* classes */

typedef struct access_body {
    amodel m;
} access_body;

typedef struct acl_body {
    CFTypeRef access;   /* retained */
    int kind;           /* ACL_* */
} acl_body;

typedef struct app_body {
    char *path;
} app_body;

typedef struct code_body {
    int unused;
} code_body;

static void access_finalize(CFTypeRef obj)
{
    access_body *b = secsim_body(obj);
    am_free(&b->m);
}

static void acl_finalize(CFTypeRef obj)
{
    acl_body *b = secsim_body(obj);
    if (b->access)
        CFRelease(b->access);
    b->access = NULL;
}

static void app_finalize(CFTypeRef obj)
{
    app_body *b = secsim_body(obj);
    free(b->path);
    b->path = NULL;
}

static const secsim_class access_class = { "SecAccess", access_finalize, NULL, NULL };
static const secsim_class acl_class = { "SecACL", acl_finalize, NULL, NULL };
static const secsim_class app_class = { "SecTrustedApplication", app_finalize, NULL, NULL };
static const secsim_class code_class = { "SecCode", NULL, NULL, NULL };

static pthread_once_t classes_once = PTHREAD_ONCE_INIT;
static CFTypeID access_tid, acl_tid, app_tid, code_tid;

static void register_classes(void)
{
    access_tid = secsim_register_class(&access_class);
    acl_tid = secsim_register_class(&acl_class);
    app_tid = secsim_register_class(&app_class);
    code_tid = secsim_register_class(&code_class);
}

SECSIM_EXPORT CFTypeID SecAccessGetTypeID(void) { pthread_once(&classes_once, register_classes); return access_tid; }
SECSIM_EXPORT CFTypeID SecACLGetTypeID(void) { pthread_once(&classes_once, register_classes); return acl_tid; }
SECSIM_EXPORT CFTypeID SecTrustedApplicationGetTypeID(void) { pthread_once(&classes_once, register_classes); return app_tid; }
SECSIM_EXPORT CFTypeID SecCodeGetTypeID(void) { pthread_once(&classes_once, register_classes); return code_tid; }

static CFTypeRef access_new(amodel *m)
{
    CFTypeRef a = secsim_create_instance(SecAccessGetTypeID(), sizeof(access_body));
    access_body *b = secsim_body(a);
    b->m = *m;
    memset(m, 0, sizeof *m);
    return a;
}

static CFTypeRef app_new(const char *path)
{
    CFTypeRef a = secsim_create_instance(SecTrustedApplicationGetTypeID(), sizeof(app_body));
    app_body *b = secsim_body(a);
    b->path = xstrdup(path);
    return a;
}

static CFTypeRef acl_new(CFTypeRef access, int kind)
{
    CFTypeRef a = secsim_create_instance(SecACLGetTypeID(), sizeof(acl_body));
    acl_body *b = secsim_body(a);
    b->access = CFRetain(access);
    b->kind = kind;
    return a;
}

/* The canonical path of an application (realpath when it exists). */
static char *canonical(const char *path)
{
    char buf[PATH_MAX];
    if (realpath(path, buf) != NULL)
        return xstrdup(buf);
    return xstrdup(path);
}

/* ------------------------------------------------------------------ */
/* SecTrustedApplication (H-TA) */

SECSIM_EXPORT OSStatus SecTrustedApplicationCreateFromPath(const char *path, SecTrustedApplicationRef *app)
{
    if (app == NULL)
        return errSecParam;
    char *p;
    if (path == NULL) {
        sec_lock();
        app_ready();
        p = xstrdup(g_app.path);        /* NULL: the calling application */
        sec_unlock();
    } else {
        struct stat st;
        if (stat(path, &st) != 0)
            return 100000 + errno;      /* OSXCode::at -> UnixError: errno + 100000 (facts 2.2) */
        p = canonical(path);
    }
    *app = (SecTrustedApplicationRef)app_new(p);
    free(p);
    return errSecSuccess;
}

SECSIM_EXPORT OSStatus SecTrustedApplicationCopyData(SecTrustedApplicationRef appRef, CFDataRef *data)
{
    if (!secsim_is(appRef, SecTrustedApplicationGetTypeID()) || data == NULL)
        return errSecParam;
    app_body *b = secsim_body(appRef);
    *data = CFDataCreate(NULL, (const UInt8 *)b->path, (CFIndex)strlen(b->path));
    return errSecSuccess;
}

/* ------------------------------------------------------------------ */
/* SecAccess (H-Acc, Access.cpp makeStandard) */

/* Paths of a CFArray of SecTrustedApplication; false if an element is not one. */
static bool apps_from_array(CFArrayRef list, char ***out, size_t *n)
{
    if (!secsim_is(list, SECSIM_TYPE_ARRAY))
        return false;
    CFIndex count = CFArrayGetCount(list);
    for (CFIndex i = 0; i < count; i++) {
        CFTypeRef a = CFArrayGetValueAtIndex(list, i);
        if (!secsim_is(a, SecTrustedApplicationGetTypeID())) {
            strs_free(*out, *n);
            *out = NULL;
            *n = 0;
            return false;
        }
        app_body *b = secsim_body(a);
        strs_push(out, n, b->path, strlen(b->path));
    }
    return true;
}

SECSIM_EXPORT OSStatus SecAccessCreate(CFStringRef descriptor, CFArrayRef trustedlist, SecAccessRef *accessRef)
{
    if (accessRef == NULL || !secsim_is(descriptor, SECSIM_TYPE_STRING))
        return errSecParam;             /* Required(descriptor): -50 (facts 2.1, UNCONFIRMED status) */
    amodel m;
    memset(&m, 0, sizeof m);
    if (trustedlist == NULL) {
        sec_lock();
        app_ready();
        strs_push(&m.apps, &m.napps, g_app.path, strlen(g_app.path));   /* NULL: the caller */
        sec_unlock();
    } else if (!apps_from_array(trustedlist, &m.apps, &m.napps)) {
        return errSecParam;
    }
    m.desc = xstrdup(secsim_string_utf8(descriptor, NULL));
    *accessRef = (SecAccessRef)access_new(&m);
    return errSecSuccess;
}

static bool acl_authorizes(int kind, int32_t tag)
{
    for (size_t i = 0; i < acl_tags[kind].n; i++)
        if (acl_tags[kind].tags[i] == tag || acl_tags[kind].tags[i] == TAG_ANY)
            return true;
    return false;
}

static bool access_has(const access_body *b, int kind)
{
    return kind != ACL_PARTITION || b->m.has_parts;
}

static CFArrayRef acl_list(CFTypeRef access, bool all, int32_t tag)
{
    access_body *b = secsim_body(access);
    CFMutableArrayRef a = CFArrayCreateMutable(NULL, 0, &kCFTypeArrayCallBacks);
    for (int k = 0; k < ACL_COUNT; k++) {
        if (!access_has(b, k) || (!all && !acl_authorizes(k, tag)))
            continue;
        CFTypeRef acl = acl_new(access, k);
        CFArrayAppendValue(a, acl);
        CFRelease(acl);
    }
    if (CFArrayGetCount(a) == 0 && !all) {
        CFRelease(a);
        return NULL;
    }
    return a;
}

static int32_t tag_from_string(CFTypeRef s)
{
    if (!secsim_is(s, SECSIM_TYPE_STRING))
        return 0;
    const char *u = secsim_string_utf8(s, NULL);
    for (size_t i = 0; i < N_AUTH; i++)
        if (strcmp(auth_names[i].name, u) == 0)
            return auth_names[i].tag;
    return 0;                           /* unknown -> tag 0 (facts 1.3) */
}

SECSIM_EXPORT OSStatus SecAccessCopyACLList(SecAccessRef accessRef, CFArrayRef *aclList)
{
    if (!secsim_is(accessRef, SecAccessGetTypeID()) || aclList == NULL)
        return errSecParam;
    *aclList = acl_list(accessRef, true, 0);
    return errSecSuccess;
}

SECSIM_EXPORT CFArrayRef SecAccessCopyMatchingACLList(SecAccessRef accessRef, CFTypeRef authorizationTag)
{
    if (!secsim_is(accessRef, SecAccessGetTypeID()))
        return NULL;
    return acl_list(accessRef, false, tag_from_string(authorizationTag));
}

/* ------------------------------------------------------------------ */
/* SecACL (H-ACL, SecACL.cpp) */

SECSIM_EXPORT CFArrayRef SecACLCopyAuthorizations(SecACLRef acl)
{
    if (!secsim_is(acl, SecACLGetTypeID()))
        return NULL;
    acl_body *b = secsim_body(acl);
    CFMutableArrayRef a = CFArrayCreateMutable(NULL, 0, &kCFTypeArrayCallBacks);
    for (size_t i = 0; i < acl_tags[b->kind].n; i++) {
        for (size_t j = 0; j < N_AUTH; j++) {
            if (auth_names[j].tag == acl_tags[b->kind].tags[i]) {
                CFStringRef s = secsim_string(auth_names[j].name);
                CFArrayAppendValue(a, s);
                CFRelease(s);
                break;
            }
        }
    }
    return a;
}

SECSIM_EXPORT OSStatus SecACLCopyContents(SecACLRef acl, CFArrayRef *applicationList, CFStringRef *description,
                                          SecKeychainPromptSelector *promptSelector)
{
    if (!secsim_is(acl, SecACLGetTypeID()))
        return errSecParam;
    acl_body *b = secsim_body(acl);
    const amodel *m = &((access_body *)secsim_body(b->access))->m;
    CFArrayRef apps = NULL;
    CFStringRef desc;
    if (b->kind == ACL_PARTITION) {
        char *hex = partition_hex(m);
        desc = secsim_string(hex);
        free(hex);
    } else {
        desc = secsim_string(m->desc ? m->desc : "");
    }
    if (b->kind == ACL_DECRYPT && !m->any) {
        CFMutableArrayRef a = CFArrayCreateMutable(NULL, 0, &kCFTypeArrayCallBacks);
        for (size_t i = 0; i < m->napps; i++) {
            CFTypeRef app = app_new(m->apps[i]);
            CFArrayAppendValue(a, app);
            CFRelease(app);
        }
        apps = a;
    } else if (b->kind == ACL_OWNER) {
        apps = CFArrayCreateMutable(NULL, 0, &kCFTypeArrayCallBacks);
    }
    if (applicationList != NULL)
        *applicationList = apps;
    else if (apps != NULL)
        CFRelease(apps);
    if (description != NULL)
        *description = desc;
    else
        CFRelease(desc);
    if (promptSelector != NULL)
        *promptSelector = 0;            /* default selector {0x101, 0} (ACL::defaultSelector) */
    return errSecSuccess;
}

SECSIM_EXPORT OSStatus SecACLSetContents(SecACLRef acl, CFArrayRef applicationList, CFStringRef description,
                                         SecKeychainPromptSelector promptSelector)
{
    (void)promptSelector;
    if (!secsim_is(acl, SecACLGetTypeID()))
        return errSecParam;
    if (description != NULL && !secsim_is(description, SECSIM_TYPE_STRING))
        return errSecParam;
    acl_body *b = secsim_body(acl);
    amodel *m = &((access_body *)secsim_body(b->access))->m;
    CFIndex dn = 0;
    const char *d = description != NULL ? secsim_string_utf8(description, &dn) : "";
    switch (b->kind) {
    case ACL_DECRYPT: {
        char **apps = NULL;
        size_t n = 0;
        if (applicationList != NULL && !apps_from_array(applicationList, &apps, &n))
            return errSecParam;
        strs_free(m->apps, m->napps);
        m->apps = apps;
        m->napps = n;
        m->any = applicationList == NULL;   /* NULL list: allow-all form */
        free(m->desc);
        m->desc = xstrdup(d);
        return errSecSuccess;
    }
    case ACL_PARTITION: {
        /* the description is the hex XML payload (SACL, facts 2.1) */
        char **parts = NULL;
        size_t n = 0;
        if (!partition_parse(d, (size_t)dn, &parts, &n)) {
            strs_free(parts, n);
            return errSecParam;
        }
        strs_free(m->parts, m->nparts);
        m->parts = parts;
        m->nparts = n;
        return errSecSuccess;
    }
    case ACL_OWNER:
        return errSecInvalidOwnerEdit;
    default:
        return errSecSuccess;           /* encrypt: stays allow-all */
    }
}

/* ------------------------------------------------------------------ */
/* items: the hooks and SecKeychainItem{Copy,Set}Access */

static void default_desc(const sitem *it, amodel *m)
{
    static const char *const keys[] = { "labl", "svce", "srvr", "acct" };
    for (size_t i = 0; i < 4; i++) {
        const sval *v = item_get(it, keys[i]);
        if (v != NULL && v->tag == SV_STR && v->n > 0) {
            m->desc = sec_xmalloc(v->n + 1);
            memcpy(m->desc, v->p, v->n);
            m->desc[v->n] = 0;
            return;
        }
    }
    m->desc = xstrdup("");
}

/* Store the model `m` on the item with this application's partition ID as
 * its whole partition list; `m` is freed. */
static void store_own_partition(sitem *it, amodel *m)
{
    strs_free(m->parts, m->nparts);
    m->parts = NULL;
    m->nparts = 0;
    m->has_parts = true;
    strs_push(&m->parts, &m->nparts, g_app.partition, strlen(g_app.partition));
    item_set(it, SEC_ACCESS_KEY, am_encode(m));
    am_free(m);
}

OSStatus sec_access_on_add(sitem *it, CFTypeRef access)
{
    if (!gated_item(it))
        return errSecSuccess;
    app_ready();
    amodel m;
    memset(&m, 0, sizeof m);
    if (access != NULL) {
        if (!secsim_is(access, SecAccessGetTypeID()))
            return errSecParam;
        am_copy(&((access_body *)secsim_body(access))->m, &m);
    } else {
        /* Item.cpp updateSSGroup: a default Access naming the creator */
        strs_push(&m.apps, &m.napps, g_app.path, strlen(g_app.path));
        default_desc(it, &m);
    }
    /* LocalKey::setOwner: the partition list starts as the creator's ID */
    store_own_partition(it, &m);
    return errSecSuccess;
}

void sec_access_on_rewrite(sitem *it)
{
    amodel m;
    if (!gated_item(it) || !item_model(it, &m))
        return;
    app_ready();
    store_own_partition(it, &m);
}

static bool listed(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

/* The simulated access dialog (QueryKeychainUse; facts 2.3). */
static OSStatus ask(bool ui_disallowed)
{
    if (!g_app.ui)
        return errSecInteractionNotAllowed;     /* no GUI session: -25308 (F-FLS) */
    if (ui_disallowed)
        return errSecAuthFailed;                /* null credentials: OPERATION_AUTH_DENIED */
    switch (g_sec.user_response) {
    case 0:
        return errSecSuccess;                   /* Allow: this read only */
    case 1:
        return errSecUserCanceled;              /* Cancel / Escape: -128 (F-GOKC) */
    default:
        return errSecAuthFailed;                /* Deny: -25293 (F-CHR) */
    }
}

static bool ui_disallowed(CFTypeRef auth_ui, CFTypeRef no_auth_ui)
{
    if (auth_ui != NULL && secsim_is(auth_ui, SECSIM_TYPE_STRING)) {
        const char *s = secsim_string_utf8(auth_ui, NULL);
        if (strcmp(s, "u_AuthUIF") == 0 || strcmp(s, "u_AuthUIS") == 0)
            return true;
    }
    return no_auth_ui != NULL && sec_truthy(no_auth_ui);
}

OSStatus sec_access_check_read(const sitem *it, CFTypeRef auth_ui, CFTypeRef no_auth_ui)
{
    amodel m;
    if (!gated_item(it) || !item_model(it, &m))
        return errSecSuccess;           /* no recorded access (older stores): not gated */
    app_ready();
    char *self = canonical(g_app.path);
    bool acl_ok = m.any || listed(m.apps, m.napps, self) || listed(m.apps, m.napps, g_app.path);
    bool part_ok = !m.has_parts || listed(m.parts, m.nparts, g_app.partition);
    free(self);
    am_free(&m);
    if (acl_ok && part_ok)
        return errSecSuccess;
    return ask(ui_disallowed(auth_ui, no_auth_ui));
}

/* The FB item of a SecKeychainItemRef (under the lock). */
static sitem *item_of(CFTypeRef itemRef, OSStatus *st)
{
    sec_itemref r;
    if (!sec_ref_get(itemRef, &r) || r.impl != IMPL_FB || r.rowid == 0) {
        *st = errSecParam;
        return NULL;
    }
    sitem *it = sec_kc_find(IMPL_FB, r.rowid);
    *st = it != NULL ? errSecSuccess : errSecInvalidItemRef;
    return it;
}

SECSIM_EXPORT OSStatus SecKeychainItemCopyAccess(SecKeychainItemRef itemRef, SecAccessRef *access)
{
    if (access == NULL || g_sec.profile != PROFILE_MACOS)
        return access == NULL ? errSecParam : errSecUnimplemented;
    OSStatus st;
    if (!sec_api_enter(&st))
        return st;
    sitem *it = item_of(itemRef, &st);
    if (it != NULL) {
        amodel m;
        if (!item_model(it, &m)) {
            memset(&m, 0, sizeof m);
            m.any = true;               /* no recorded access: allow-all, no partition list */
            default_desc(it, &m);
        }
        *access = (SecAccessRef)access_new(&m);
    }
    return sec_api_leave(st, false);
}

static OSStatus set_access(CFTypeRef itemRef, CFTypeRef access, bool with_password, UInt32 len, const void *pw)
{
    if (!secsim_is(access, SecAccessGetTypeID()))
        return errSecParam;
    if (g_sec.profile != PROFILE_MACOS)
        return errSecUnimplemented;
    OSStatus st;
    if (!sec_api_enter(&st))
        return st;
    sitem *it = item_of(itemRef, &st);
    if (it == NULL)
        return sec_api_leave(st, false);
    app_ready();
    if (with_password) {
        /* SecKeychainItemSetAccessWithPassword: the keychain password
         * authorizes the change (never prompts) */
        size_t n = strlen(g_app.password);
        if (pw == NULL || len != n || memcmp(pw, g_app.password, n) != 0)
            return sec_api_leave(errSecAuthFailed, false);
    } else {
        /* change_acl: the owner ACL lists no application -> the dialog */
        st = ask(false);
        if (st != errSecSuccess)
            return sec_api_leave(st, false);
    }
    amodel m;
    am_copy(&((access_body *)secsim_body(access))->m, &m);
    sitem *fresh = item_clone(it);
    item_set(fresh, SEC_ACCESS_KEY, am_encode(&m));
    am_free(&m);
    sec_kc_replace(it, fresh);
    return sec_api_leave(errSecSuccess, true);
}

SECSIM_EXPORT OSStatus SecKeychainItemSetAccess(SecKeychainItemRef itemRef, SecAccessRef access)
{
    return set_access(itemRef, access, false, 0, NULL);
}

SECSIM_EXPORT OSStatus SecKeychainItemSetAccessWithPassword(SecKeychainItemRef itemRef, SecAccessRef access, UInt32 passwordLength,
                                                            const void *password)
{
    return set_access(itemRef, access, true, passwordLength, password);
}

/* ------------------------------------------------------------------ */
/* SecCode (H-Code; facts section 3) */

#define kSecCSSigningInformation (1u << 1)
#define COPYINFO_FLAGS 0xFFu

SECSIM_EXPORT OSStatus SecCodeCopySelf(SecCSFlags flags, SecCodeRef *self)
{
    if (flags != 0)
        return errSecCSInvalidFlags;
    if (self == NULL)
        return errSecParam;
    *self = (SecCodeRef)secsim_create_instance(SecCodeGetTypeID(), sizeof(code_body));
    return errSecSuccess;
}

static void put(CFMutableDictionaryRef d, const char *key, CFTypeRef v)
{
    CFStringRef k = secsim_string(key);
    CFDictionarySetValue(d, k, v);
    CFRelease(k);
    CFRelease(v);
}

static CFNumberRef number(int64_t v)
{
    return CFNumberCreate(NULL, kCFNumberSInt64Type, &v);
}

SECSIM_EXPORT OSStatus SecCodeCopySigningInformation(SecStaticCodeRef code, SecCSFlags flags, CFDictionaryRef *information)
{
    if (code == NULL)
        return errSecCSObjectRequired;
    if (!secsim_is(code, SecCodeGetTypeID()))
        return errSecCSInvalidObjectRef;
    if ((flags & ~COPYINFO_FLAGS) != 0)
        return errSecCSInvalidFlags;
    if (information == NULL)
        return errSecParam;
    sec_lock();
    app_ready();
    CFMutableDictionaryRef d = CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                                                         &kCFTypeDictionaryValueCallBacks);
    /* main-executable is a CFURL on a Mac; the emulator has no CFURL and
     * gives the path as a CFString (docs/emulator.md). */
    put(d, "main-executable", secsim_string(g_app.path));
    if (g_app.signing != SIGN_UNSIGNED) {
        const char *base = strrchr(g_app.path, '/');
        base = base ? base + 1 : g_app.path;
        const char *ident = g_app.signing == SIGN_APPLE_TOOL ? "com.apple.security"
                          : g_app.signing == SIGN_TEAM       ? "org.python.python"
                                                             : base;
        put(d, "identifier", secsim_string(ident));
        int64_t cflags = g_app.signing == SIGN_ADHOC ? 0x2 : g_app.signing == SIGN_TEAM ? 0x10000 : 0;
        put(d, "flags", number(cflags));
        put(d, "format", secsim_string("Mach-O thin (arm64)"));
        put(d, "source", secsim_string("embedded"));
        put(d, "unique", CFDataCreate(NULL, g_app.cdhash, 20));
        put(d, "digest-algorithm", number(2));
        if (g_app.signing == SIGN_APPLE || g_app.signing == SIGN_APPLE_TOOL)
            put(d, "platform-identifier", number(15));
        if ((flags & kSecCSSigningInformation) && g_app.signing == SIGN_TEAM)
            put(d, "teamid", secsim_string(g_app.team));
        if (g_app.signing != SIGN_ADHOC && g_sec.ngroups > 0) {
            /* the process's keychain-access-groups entitlement */
            CFMutableArrayRef groups = CFArrayCreateMutable(NULL, 0, &kCFTypeArrayCallBacks);
            for (size_t i = 0; i < g_sec.ngroups; i++) {
                CFStringRef g = secsim_string(g_sec.groups[i]);
                if (g != NULL) {
                    CFArrayAppendValue(groups, g);
                    CFRelease(g);
                }
            }
            CFMutableDictionaryRef ent = CFDictionaryCreateMutable(NULL, 0, &kCFTypeDictionaryKeyCallBacks,
                                                                   &kCFTypeDictionaryValueCallBacks);
            put(ent, "keychain-access-groups", groups);
            put(d, "entitlements-dict", ent);
        }
    }
    sec_unlock();
    *information = d;
    return errSecSuccess;
}

SECSIM_EXPORT OSStatus SecCodeCheckValidity(SecCodeRef code, SecCSFlags flags, SecRequirementRef requirement)
{
    (void)requirement;
    if (!secsim_is(code, SecCodeGetTypeID()))
        return errSecCSInvalidObjectRef;
    if (flags & ~0x80000000u & ~(1u << 30) & ~(1u << 29))
        return errSecCSInvalidFlags;
    sec_lock();
    app_ready();
    int s = g_app.signing;
    sec_unlock();
    return s == SIGN_UNSIGNED ? errSecCSUnsigned : errSecSuccess;
}

/* ------------------------------------------------------------------ */
/* SessionGetInfo (AuthSession.h) */

#define sessionHasGraphicAccess 0x0010u
#define sessionHasTTY 0x0020u
#define sessionIsRemote 0x1000u
#define errSessionInvalidId (-60500)

SECSIM_EXPORT OSStatus SessionGetInfo(UInt32 session, UInt32 *sessionId, UInt32 *attributes)
{
    if (session != 0xFFFFFFFFu)         /* callerSecuritySession */
        return errSessionInvalidId;
    sec_lock();
    app_ready();
    bool ui = g_app.ui;
    sec_unlock();
    if (sessionId != NULL)
        *sessionId = 100000;
    if (attributes != NULL)
        *attributes = ui ? sessionHasGraphicAccess | sessionHasTTY : sessionHasTTY | sessionIsRemote;
    return errSecSuccess;
}
