/*
 * cf_format.c - the formatter of CFStringCreateWithFormat and
 * CFStringAppendFormat (issue #17).
 *
 * Apple's CF formats printf's way, with its own additions:
 *   - %@ inserts an object's description (a CFString as itself, NULL as
 *     "(null)");
 *   - %C is one UniChar (promoted to int), %S a NUL-terminated UniChar array;
 *   - %s reads a C string as UTF-8 (bytes that are not UTF-8 insert nothing,
 *     as in Apple's CF built for Linux; macOS reads the system encoding);
 *   - positional arguments (%2$d), * and *N$ widths and precisions;
 *   - length modifiers hh h l ll q L z t j; D O U mean ld lo lu.
 * Numbers, characters and pointers are formatted by the C library's
 * snprintf with the same flags, width and precision, except that %p of NULL
 * prints 0x0 (macOS's libc; glibc would print "(nil)").  The arguments are
 * typed in a first pass over the format, so positional ones can be read from
 * the va_list in order.  checked against Apple's CF: tests/emulator/
 * test_cf_surface.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "cf_private.h"

#define MAX_ARGS 64

typedef enum {
    K_NONE = 0,
    K_INT,     /* int (also char, short, UniChar: promoted) */
    K_LONG,
    K_LLONG,
    K_SIZE,
    K_PTRDIFF,
    K_INTMAX,
    K_DOUBLE,
    K_LDOUBLE,
    K_PTR,     /* void *, char *, UniChar *, CFTypeRef */
} arg_kind;

typedef union {
    long long i;
    long double ld;
    double d;
    const void *p;
} arg_value;

typedef struct {
    char flags[8];
    int nflags;
    int width;       /* -1: none */
    int width_arg;   /* argument index of a * width, or -1 */
    int prec;        /* -1: none */
    int prec_arg;
    int length;      /* 0, 'H' (hh), 'h', 'l', 'q' (ll), 'L', 'z', 't', 'j' */
    char conv;
    int arg;         /* argument index of the value, -1 for %% */
    const char *start, *end; /* the spec's text, from its '%' */
} spec;

/* "N$" at *q with N > 0: *q moves past it and the result is N - 1;
 * otherwise -1 and *q stays. */
static int read_position(const char **q, const char *end)
{
    const char *r = *q;
    int num = 0;
    while (r < end && *r >= '0' && *r <= '9')
        num = num * 10 + (*r++ - '0');
    if (r > *q && r < end && *r == '$' && num > 0) {
        *q = r + 1;
        return num - 1;
    }
    return -1;
}

/* The argument of a '*' width or precision (just after the '*'): "*N$"
 * names one, a bare '*' takes the next sequential argument. */
static int read_star(const char **q, const char *end, int *next_arg)
{
    int pos = read_position(q, end);
    return pos >= 0 ? pos : (*next_arg)++;
}

/* A decimal number at *q (it stops growing past 100000); -1 if there is
 * no digit. */
static int read_number(const char **q, const char *end)
{
    int v = 0;
    bool any = false;
    while (*q < end && **q >= '0' && **q <= '9') {
        if (v < 100000)
            v = v * 10 + (**q - '0');
        ++*q;
        any = true;
    }
    return any ? v : -1;
}

/* The flags, the width and the precision of a spec. */
static void read_flags_width_prec(const char **q, const char *end, spec *s, int *next_arg)
{
    while (*q < end && strchr("-+ #0'", **q)) {
        if (s->nflags < (int)sizeof s->flags - 1 && **q != '\'')
            s->flags[s->nflags++] = **q;
        ++*q;
    }
    if (*q < end && **q == '*') {
        ++*q;
        s->width_arg = read_star(q, end, next_arg);
    } else {
        s->width = read_number(q, end);
    }
    if (*q < end && **q == '.') {
        ++*q;
        if (*q < end && **q == '*') {
            ++*q;
            s->prec_arg = read_star(q, end, next_arg);
        } else {
            int pr = read_number(q, end);
            s->prec = pr < 0 ? 0 : pr; /* "." alone is precision 0 */
        }
    }
}

/* The length modifier: 0, 'H' (hh), 'h', 'l', 'q' (ll), 'L', 'z', 't', 'j'. */
static int read_length(const char **q, const char *end)
{
    if (*q >= end)
        return 0;
    char c = **q;
    if (c == 'h' || c == 'l') {
        ++*q;
        if (*q < end && **q == c) {
            ++*q;
            return c == 'h' ? 'H' : 'q';
        }
        return c;
    }
    if (strchr("qLztj", c) != NULL && c != '\0') {
        ++*q;
        return c;
    }
    return 0;
}

/* Parse one spec at p (just after '%').  *next_arg is the next sequential
 * argument.  Returns false for a spec we do not know (written as is). */
static bool parse_spec(const char *p, const char *end, spec *s, int *next_arg)
{
    memset(s, 0, sizeof *s);
    s->width = s->prec = s->width_arg = s->prec_arg = s->arg = -1;
    s->start = p - 1;
    const char *q = p;
    int pos = read_position(&q, end);
    read_flags_width_prec(&q, end, s, next_arg);
    s->length = read_length(&q, end);
    if (q >= end)
        return false;
    s->conv = *q++;
    s->end = q;
    if (s->conv == 'D' || s->conv == 'O' || s->conv == 'U') {
        s->conv = (char)(s->conv + ('a' - 'A'));
        s->length = 'l';
    }
    if (!strchr("diouxXeEfFgGaAcCsSp@%n", s->conv))
        return false;
    if (s->conv == '%')
        return true;
    s->arg = pos >= 0 ? pos : (*next_arg)++;
    return true;
}

static arg_kind kind_of(const spec *s)
{
    switch (s->conv) {
    case 'd': case 'i': case 'o': case 'u': case 'x': case 'X':
        switch (s->length) {
        case 'l': return K_LONG;
        case 'q': case 'L': return K_LLONG;
        case 'z': return K_SIZE;
        case 't': return K_PTRDIFF;
        case 'j': return K_INTMAX;
        default: return K_INT;
        }
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'a': case 'A':
        return s->length == 'L' ? K_LDOUBLE : K_DOUBLE;
    case 'c': case 'C':
        return K_INT;
    default:
        return K_PTR; /* s S p @ n */
    }
}

/* Append a CFString's text, and release it. */
static void put_string_released(cf_sb *sb, CFStringRef s)
{
    CFIndex len = 0;
    const char *p = secsim_string_utf8(s, &len);
    cf_sb_putn(sb, p, (size_t)len);
    CFRelease(s);
}

/* Append a UTF-16 unit sequence in the stored form. */
static void put_units(cf_sb *sb, const UniChar *u, size_t n)
{
    put_string_released(sb, CFStringCreateWithCharacters(NULL, u, (CFIndex)n));
}

/* Append C-string bytes read as UTF-8; bytes that are not UTF-8 insert
 * nothing (Apple's CF built for Linux). */
static void put_c_bytes(cf_sb *sb, const char *p, size_t n)
{
    CFStringRef s = cf_string_create_utf8(p, n);
    if (s)
        put_string_released(sb, s);
}

/* The printf format for one spec with resolved width and precision. */
static void c_format(char *out, size_t cap, const spec *s, int width, int prec, const char *length, char conv)
{
    char w[16] = "", pr[16] = "";
    if (width >= 0)
        snprintf(w, sizeof w, "%d", width);
    if (prec >= 0)
        snprintf(pr, sizeof pr, ".%d", prec);
    snprintf(out, cap, "%%%.*s%s%s%s%c", s->nflags, s->flags, w, pr, length, conv);
}

static void put_printf(cf_sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_printf(cf_sb *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        va_end(ap);
        return;
    }
    if ((size_t)n < sizeof small) {
        put_c_bytes(sb, small, (size_t)n);
    } else {
        char *big = cf_xmalloc((size_t)n + 1);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        put_c_bytes(sb, big, (size_t)n);
        free(big);
    }
    va_end(ap);
}

/* The spec with its '*' width and precision read from the arguments: a
 * negative width means left-justified, a negative precision none. */
static void resolve(const spec *s, const arg_value *args, spec *adj)
{
    *adj = *s;
    if (s->width_arg >= 0) {
        int width = (int)args[s->width_arg].i;
        if (width < 0) {
            width = -width;
            if (adj->nflags < (int)sizeof adj->flags - 1)
                adj->flags[adj->nflags++] = '-';
        }
        adj->width = width;
    }
    if (s->prec_arg >= 0) {
        int prec = (int)args[s->prec_arg].i;
        adj->prec = prec < 0 ? -1 : prec;
    }
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
/* %d %i %o %u %x %X: the value cut to its length modifier's type. */
static void put_integer(cf_sb *sb, const spec *s, long long x)
{
    bool is_signed = s->conv == 'd' || s->conv == 'i';
    switch (s->length) {
    case 'H': x = is_signed ? (long long)(signed char)x : (long long)(unsigned char)x; break;
    case 'h': x = is_signed ? (long long)(short)x : (long long)(unsigned short)x; break;
    case 0: x = is_signed ? (long long)(int)x : (long long)(unsigned int)x; break;
    default: break;
    }
    char fmt[64];
    c_format(fmt, sizeof fmt, s, s->width, s->prec, "ll", s->conv);
    put_printf(sb, fmt, x);
}

/* %e %E %f %F %g %G %a %A */
static void put_floating(cf_sb *sb, const spec *s, const arg_value *v)
{
    char fmt[64];
    if (s->length == 'L') {
        c_format(fmt, sizeof fmt, s, s->width, s->prec, "L", s->conv);
        put_printf(sb, fmt, v->ld);
    } else {
        c_format(fmt, sizeof fmt, s, s->width, s->prec, "", s->conv);
        put_printf(sb, fmt, v->d);
    }
}

/* %c %s %p: the C library's, except %p of NULL (macOS's libc: 0x0). */
static void put_c_value(cf_sb *sb, const spec *s, const arg_value *v)
{
    char fmt[64];
    if (s->conv == 'c') {
        c_format(fmt, sizeof fmt, s, s->width, -1, "", 'c');
        put_printf(sb, fmt, (unsigned char)v->i);
    } else if (s->conv == 's') {
        c_format(fmt, sizeof fmt, s, s->width, s->prec, "", 's');
        put_printf(sb, fmt, v->p ? (const char *)v->p : "(null)");
    } else if (!v->p) {
        c_format(fmt, sizeof fmt, s, s->width, -1, "", 's');
        put_printf(sb, fmt, "0x0");
    } else {
        c_format(fmt, sizeof fmt, s, s->width, -1, "", 'p');
        put_printf(sb, fmt, v->p);
    }
}
#pragma GCC diagnostic pop

/* %S: a NUL-terminated UniChar array, at most `prec` units. */
static void put_unichar_string(cf_sb *sb, const UniChar *u, int prec)
{
    if (!u) {
        cf_sb_puts(sb, "(null)");
        return;
    }
    size_t n = 0;
    while (u[n] && (prec < 0 || n < (size_t)prec))
        n++;
    put_units(sb, u, n);
}

static void format_one(cf_sb *sb, const spec *s, const arg_value *args)
{
    spec adj;
    resolve(s, args, &adj);
    const arg_value *v = &args[s->arg];
    switch (s->conv) {
    case 'd': case 'i': case 'o': case 'u': case 'x': case 'X':
        put_integer(sb, &adj, v->i);
        return;
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'a': case 'A':
        put_floating(sb, &adj, v);
        return;
    case 'c': case 's': case 'p':
        put_c_value(sb, &adj, v);
        return;
    case 'C': {
        UniChar u = (UniChar)v->i;
        put_units(sb, &u, 1);
        return;
    }
    case 'S':
        put_unichar_string(sb, v->p, adj.prec);
        return;
    case '@':
        if (!v->p)
            cf_sb_puts(sb, "(null)");
        else
            put_string_released(sb, CFCopyDescription(v->p));
        return;
    default: /* 'n': nothing is written back */
        return;
    }
}

/* The next spec of the format from *p on (a '%' that starts no known spec
 * is text): true with *s filled and *p just past it; false at the end. */
static bool next_spec(const char **p, const char *end, spec *s, int *next_arg)
{
    for (const char *q = *p; q < end; q++) {
        if (*q == '%' && parse_spec(q + 1, end, s, next_arg)) {
            *p = s->end;
            return true;
        }
    }
    *p = end;
    return false;
}

/* Pass 1: the type of every argument the format uses; the number of
 * arguments. */
static int type_arguments(const char *f, const char *end, arg_kind kinds[MAX_ARGS])
{
    int next_arg = 0, nargs = 0;
    const char *p = f;
    spec s;
    while (next_spec(&p, end, &s, &next_arg)) {
        int idx[3] = { s.arg, s.width_arg, s.prec_arg };
        arg_kind k[3] = { s.arg >= 0 ? kind_of(&s) : K_NONE, K_INT, K_INT };
        for (int j = 0; j < 3; j++) {
            if (idx[j] < 0)
                continue;
            if (idx[j] >= MAX_ARGS)
                secsim_fatal("CFStringCreateWithFormat: more than %d arguments", MAX_ARGS);
            kinds[idx[j]] = k[j];
            if (idx[j] + 1 > nargs)
                nargs = idx[j] + 1;
        }
    }
    return nargs;
}

/* Pass 2: read the arguments in order (an unused position is read as an
 * int). */
static void read_arguments(va_list args, const arg_kind *kinds, int nargs, arg_value *values)
{
    va_list ap;
    va_copy(ap, args);
    for (int i = 0; i < nargs; i++) {
        switch (kinds[i]) {
        case K_LONG: values[i].i = va_arg(ap, long); break;
        case K_LLONG: values[i].i = va_arg(ap, long long); break;
        case K_SIZE: values[i].i = (long long)va_arg(ap, size_t); break;
        case K_PTRDIFF: values[i].i = va_arg(ap, ptrdiff_t); break;
        case K_INTMAX: values[i].i = (long long)va_arg(ap, intmax_t); break;
        case K_DOUBLE: values[i].d = va_arg(ap, double); break;
        case K_LDOUBLE: values[i].ld = va_arg(ap, long double); break;
        case K_PTR: values[i].p = va_arg(ap, const void *); break;
        default: values[i].i = va_arg(ap, int); break;
        }
    }
    va_end(ap);
}

void cf_format_append(cf_sb *sb, CFStringRef format, va_list args)
{
    CFIndex flen = 0;
    const char *f = secsim_string_utf8(format, &flen);
    const char *end = f + flen;
    arg_kind kinds[MAX_ARGS] = { K_NONE };
    int nargs = type_arguments(f, end, kinds);
    arg_value values[MAX_ARGS];
    memset(values, 0, sizeof values);
    read_arguments(args, kinds, nargs, values);
    /* pass 3: the text */
    int next_arg = 0;
    const char *p = f, *lit = f;
    spec s;
    while (next_spec(&p, end, &s, &next_arg)) {
        cf_sb_putn(sb, lit, (size_t)(s.start - lit));
        if (s.conv == '%')
            cf_sb_putn(sb, "%", 1);
        else
            format_one(sb, &s, values);
        lit = s.end;
    }
    cf_sb_putn(sb, lit, (size_t)(end - lit));
}
