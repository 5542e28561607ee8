/* tsv.c — the xf TSV dialect (xf-tsv(5)).  See tsv.h.
 *
 * libcsv does the field splitting, configured as plain TSV: delimiter TAB,
 * quoting off, no whitespace trimming, only LF ends a row.  Lines come from
 * xf_in_getline one at a time, so every row is exactly one line and line
 * numbers in error messages are exact.
 */
#define _GNU_SOURCE
#include "tsv.h"
#include "util.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct xf_tsv {
    xf_in *in;
    struct csv_parser p;
    /* header */
    char **cols;
    size_t ncols;
    char *header_line;   /* the header as it is written; such lines are skipped */
    int header_seen;
    /* current row: fields point into fbuf (NUL-terminated, unescaped) */
    char *fbuf;
    size_t fbuf_len, fbuf_cap;
    size_t *foff, *flen;
    size_t nfields, fcap;
    long lineno;
};

static int no_space(unsigned char c) { (void)c; return 0; }
static int lf_only(unsigned char c) { return c == '\n'; }

static void on_field(void *s, size_t len, void *data)
{
    xf_tsv *t = data;
    if (t->nfields == t->fcap) {
        t->fcap = t->fcap ? 2 * t->fcap : 16;
        t->foff = xrealloc(t->foff, t->fcap * sizeof *t->foff);
        t->flen = xrealloc(t->flen, t->fcap * sizeof *t->flen);
    }
    if (t->fbuf_len + len + 1 > t->fbuf_cap) {
        size_t want = t->fbuf_cap ? t->fbuf_cap : 256;
        while (want < t->fbuf_len + len + 1) want = xmul(want, 2);
        t->fbuf = xrealloc(t->fbuf, want);
        t->fbuf_cap = want;
    }
    char *dst = t->fbuf + t->fbuf_len;
    if (len) memcpy(dst, s, len);
    dst[len] = 0;
    len = xf_tsv_unescape(dst, len);
    t->foff[t->nfields] = t->fbuf_len;
    t->flen[t->nfields] = len;
    t->fbuf_len += len + 1;
    t->nfields++;
}

static void on_row(int c, void *data)
{
    (void)c;
    (void)data;
}

/* Reads one line into the field arrays; 0 at end of input.  Lines equal
 * to the header line are skipped: `cat a.tsv b.tsv` is one table. */
static int read_line(xf_tsv *t)
{
    char *line;
    ssize_t n;
    for (;;) {
        n = xf_in_getline(t->in, &line);
        if (n < 0) return 0;
        if (!t->header_line || strcmp(line, t->header_line)) break;
        t->header_seen = 1;
    }
    t->lineno = xf_in_lineno(t->in);
    if (memchr(line, 0, (size_t)n))
        die("%s:%ld: NUL byte in line", xf_in_name(t->in), t->lineno);
    t->nfields = 0;
    t->fbuf_len = 0;
    static const char lf = '\n';
    if (csv_parse(&t->p, line, (size_t)n, on_field, on_row, t) != (size_t)n ||
        csv_parse(&t->p, &lf, 1, on_field, on_row, t) != 1)
        die("%s:%ld: %s", xf_in_name(t->in), t->lineno, csv_strerror(csv_error(&t->p)));
    /* libcsv reports an empty line as a row without fields: it is one empty field */
    if (t->nfields == 0) on_field("", 0, t);
    return 1;
}

static void init_parser(xf_tsv *t)
{
    if (csv_init(&t->p, CSV_REPALL_NL) != 0) die("%s: cannot initialise libcsv", xf_in_name(t->in));
    csv_set_delim(&t->p, '\t');
    csv_set_quote(&t->p, 0);   /* NUL never reaches the parser: quoting is off */
    csv_set_space_func(&t->p, no_space);
    csv_set_term_func(&t->p, lf_only);
}

xf_tsv *xf_tsv_open(const char *path)
{
    xf_tsv *t = xcalloc(1, sizeof *t);
    t->in = xf_in_open(path);
    init_parser(t);
    if (!read_line(t)) die("%s:1: empty file (no header line)", xf_in_name(t->in));
    t->ncols = t->nfields;
    t->cols = xmalloc(t->ncols * sizeof *t->cols);
    for (size_t i = 0; i < t->ncols; i++) {
        t->cols[i] = xstrdup(t->fbuf + t->foff[i]);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(t->cols[i], t->cols[j]))
                die("%s:1: duplicate column '%s'", xf_in_name(t->in), t->cols[i]);
    }
    t->nfields = 0;
    t->header_line = xstrdup(xf_tsv_header_line((const char *const *)t->cols, t->ncols));
    t->header_seen = 1;
    return t;
}

const char *xf_tsv_header_line(const char *const *names, size_t n)
{
    static char *buf;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        char *e = xf_tsv_escape(names[i]);
        size_t el = strlen(e);
        buf = xrealloc(buf, len + el + 2);
        if (i) buf[len++] = '\t';
        memcpy(buf + len, e, el);
        len += el;
        free(e);
    }
    if (!buf) buf = xmalloc(1);
    buf[len] = 0;
    return buf;
}

xf_tsv *xf_tsv_open_cols(const char *path, const char *const *names, size_t n)
{
    if (!n) die("%s: xf_tsv_open_cols needs at least one column", path);
    xf_tsv *t = xcalloc(1, sizeof *t);
    t->in = xf_in_open(path);
    init_parser(t);
    t->ncols = n;
    t->cols = xmalloc(n * sizeof *t->cols);
    for (size_t i = 0; i < n; i++) t->cols[i] = xstrdup(names[i]);
    t->header_line = xstrdup(xf_tsv_header_line(names, n));
    return t;
}

size_t xf_tsv_ncols(const xf_tsv *t) { return t->ncols; }
const char *xf_tsv_colname(const xf_tsv *t, size_t i) { return i < t->ncols ? t->cols[i] : NULL; }

int xf_tsv_col(const xf_tsv *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (!strcmp(t->cols[i], name)) return (int)i;
    return -1;
}

int xf_tsv_need_col(const xf_tsv *t, const char *name)
{
    int i = xf_tsv_col(t, name);
    if (i < 0) die("%s:1: missing column '%s'", xf_in_name(t->in), name);
    return i;
}

void xf_tsv_expect_header(const xf_tsv *t, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n || i < t->ncols; i++) {
        if (i >= n) die("%s:1: unexpected column %zu '%s'", xf_in_name(t->in), i + 1, t->cols[i]);
        if (i >= t->ncols) die("%s:1: missing column %zu '%s'", xf_in_name(t->in), i + 1, names[i]);
        if (strcmp(t->cols[i], names[i]))
            die("%s:1: column %zu is '%s', expected '%s'", xf_in_name(t->in), i + 1, t->cols[i], names[i]);
    }
}

int xf_tsv_next(xf_tsv *t)
{
    if (!read_line(t)) {
        t->nfields = 0;
        if (!t->header_seen)
            die("%s: no header line (expected the columns: %s)", xf_in_name(t->in), t->header_line);
        return 0;
    }
    if (t->nfields != t->ncols)
        die("%s:%ld: expected %zu columns, got %zu", xf_in_name(t->in), t->lineno, t->ncols, t->nfields);
    return 1;
}

static void check_field(const xf_tsv *t, size_t i)
{
    if (i >= t->nfields) die("%s:%ld: no field %zu in this row", xf_in_name(t->in), t->lineno, i + 1);
}

const char *xf_tsv_field(const xf_tsv *t, size_t i)
{
    check_field(t, i);
    return t->fbuf + t->foff[i];
}

size_t xf_tsv_field_len(const xf_tsv *t, size_t i)
{
    check_field(t, i);
    return t->flen[i];
}

double xf_tsv_double(const xf_tsv *t, size_t i)
{
    const char *s = xf_tsv_field(t, i);
    double v;
    if (xf_parse_decimal(s, &v))   /* strict: no hex, inf, nan, spaces */
        die("%s:%ld: column '%s': '%s' is not a number", xf_in_name(t->in), t->lineno,
            t->cols[i], s);
    return v;
}

long long xf_tsv_ll(const xf_tsv *t, size_t i)
{
    const char *s = xf_tsv_field(t, i);
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno)
        die("%s:%ld: column '%s': '%s' is not an integer", xf_in_name(t->in), t->lineno,
            t->cols[i], s);
    return v;
}

long xf_tsv_lineno(const xf_tsv *t) { return t->lineno; }
const char *xf_tsv_name(const xf_tsv *t) { return xf_in_name(t->in); }

void xf_tsv_close(xf_tsv *t)
{
    if (!t) return;
    csv_free(&t->p);
    xf_in_close(t->in);
    for (size_t i = 0; i < t->ncols; i++) free(t->cols[i]);
    free(t->cols);
    free(t->header_line);
    free(t->fbuf);
    free(t->foff);
    free(t->flen);
    free(t);
}

/* ---- writing ---- */

void xf_tsv_putn(xf_zout *z, const char *field, size_t len)
{
    int *row_started = xf_zout_row_state(z);
    if (*row_started) xf_zout_write(z, "\t", 1);
    *row_started = 1;
    size_t run = 0;   /* bytes copied as they are, flushed in one write */
    for (size_t i = 0; i < len; i++) {
        const char *esc = field[i] == '\t' ? "\\t" : field[i] == '\n' ? "\\n" : field[i] == '\\' ? "\\\\" : NULL;
        if (!esc) continue;
        xf_zout_write(z, field + run, i - run);
        xf_zout_write(z, esc, 2);
        run = i + 1;
    }
    xf_zout_write(z, field + run, len - run);
}

void xf_tsv_put(xf_zout *z, const char *field) { xf_tsv_putn(z, field, strlen(field)); }

void xf_tsv_putf(xf_zout *z, const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) die("out of memory formatting a TSV field");
    xf_tsv_putn(z, s, (size_t)n);
    free(s);
}

void xf_tsv_end_row(xf_zout *z)
{
    xf_zout_write(z, "\n", 1);
    *xf_zout_row_state(z) = 0;
}

void xf_tsv_header(xf_zout *z, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) xf_tsv_put(z, names[i]);
    xf_tsv_end_row(z);
}

char *xf_tsv_escape(const char *s)
{
    size_t n = strlen(s), extra = 0;
    for (size_t i = 0; i < n; i++) extra += s[i] == '\t' || s[i] == '\n' || s[i] == '\\';
    char *out = xmalloc(n + extra + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\t' || c == '\n' || c == '\\') {
            *o++ = '\\';
            *o++ = c == '\t' ? 't' : c == '\n' ? 'n' : '\\';
        } else {
            *o++ = c;
        }
    }
    *o = 0;
    return out;
}

/* A backslash before anything but t, n or \ is kept as it is, so text from
 * writers that never escaped reads back unchanged. */
size_t xf_tsv_unescape(char *s, size_t len)
{
    char *src = memchr(s, '\\', len);
    if (!src) return len;
    char *end = s + len, *dst = src;
    while (src < end) {
        if (*src == '\\' && src + 1 < end) {
            char c = src[1];
            if (c == 't' || c == 'n' || c == '\\') {
                *dst++ = c == 't' ? '\t' : c == 'n' ? '\n' : '\\';
                src += 2;
                continue;
            }
        }
        *dst++ = *src++;
    }
    *dst = 0;
    return (size_t)(dst - s);
}
