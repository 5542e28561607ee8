/* report.c — the study page of report.h. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "tsv.h"
#include "util.h"
#include "zio.h"

/* ---- small writers ---- */
static void put_html(xf_zout *z, const char *s)
{
    for (; *s; s++) switch (*s) {
        case '<': xf_zout_puts(z, "&lt;"); break;
        case '>': xf_zout_puts(z, "&gt;"); break;
        case '&': xf_zout_puts(z, "&amp;"); break;
        case '"': xf_zout_puts(z, "&quot;"); break;
        default: xf_zout_write(z, s, 1);
        }
}

static void put_base64(xf_zout *z, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char out[4];
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        out[0] = tab[v >> 18 & 63];
        out[1] = tab[v >> 12 & 63];
        out[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[3] = i + 2 < n ? tab[v & 63] : '=';
        xf_zout_write(z, out, 4);
    }
}

/* ---- paths ---- */
static char *join(const char *dir, const char *rel)
{
    if (rel[0] == '/') return xstrdup(rel);
    char *s = xmalloc(strlen(dir) + strlen(rel) + 2);
    sprintf(s, "%s/%s", dir, rel);
    return s;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return xstrdup(".");
    if (slash == path) return xstrdup("/");
    char *d = xmalloc((size_t)(slash - path) + 1);
    memcpy(d, path, (size_t)(slash - path));
    d[slash - path] = 0;
    return d;
}

/* PATH relative to the folder FROM (PATH's folder and FROM existing; PATH
 * itself may be missing); PATH itself when they cannot be resolved. */
static char *relpath(const char *path, const char *from)
{
    char a[PATH_MAX], b[PATH_MAX];
    if (!realpath(path, a)) {
        char *d = dir_of(path);
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        int ok = realpath(d, a) && strlen(a) + strlen(base) + 2 <= sizeof a;
        free(d);
        if (!ok) return xstrdup(path);
        strcat(strcmp(a, "/") ? strcat(a, "/") : a, base);
    }
    if (!realpath(from, b)) return xstrdup(path);
    size_t common = 0, i = 0;
    for (; a[i] && a[i] == b[i]; i++)
        if (a[i] == '/') common = i;
    if (!b[i] && a[i] == '/') common = i;   /* FROM is a prefix of PATH */
    size_t ups = 0;
    if (b[common] && b[common + 1])
        for (const char *s = b + common; *s; s++) ups += *s == '/';
    char *r = xmalloc(3 * ups + strlen(a) + 1), *w = r;
    for (size_t k = 0; k < ups; k++) w += sprintf(w, "../");
    strcpy(w, a + common + 1);
    return r;
}

/* ---- TSV rows (xf-tsv(5) escapes) ---- */
static size_t split_row(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *w = line;
    f[n++] = w;
    for (char *s = line; *s; s++) {
        if (*s == '\t') {
            *w++ = 0;
            if (n == max) break;
            f[n++] = w;
        } else if (*s == '\\' && s[1]) {
            s++;
            *w++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
        } else if (*s != '\r' || s[1]) {
            *w++ = *s;
        }
    }
    *w = 0;
    return n;
}

enum { MAXCOLS = 64 };

/* The table of PATH; returns the data rows found (0: header only or empty). */
static size_t put_table(xf_zout *z, const char *path, size_t max_rows, const char *link)
{
    size_t len;
    char *buf = xf_read_file(path, &len);
    char *save, *line = strtok_r(buf, "\n", &save);
    if (!line) {
        free(buf);
        return 0;
    }
    char *header = xstrdup(line), *f[MAXCOLS];
    size_t nh = split_row(line, f, MAXCOLS), rows = 0;
    char *first = NULL;
    for (char *l; (l = strtok_r(NULL, "\n", &save));) {
        if (!strcmp(l, "") || !strcmp(l, header)) continue;   /* repeated header */
        if (!first) {
            first = l;
            xf_zout_puts(z, "<div class=\"tbl\"><table>\n<thead><tr>");
            for (size_t c = 0; c < nh; c++) {
                xf_zout_puts(z, "<th>");
                put_html(z, f[c]);
                xf_zout_puts(z, "</th>");
            }
            xf_zout_puts(z, "</tr></thead>\n<tbody>\n");
        }
        if (rows++ >= max_rows) continue;
        char *g[MAXCOLS];
        size_t ng = split_row(l, g, MAXCOLS);
        xf_zout_puts(z, "<tr>");
        for (size_t c = 0; c < ng; c++) {
            char *end;
            strtod(g[c], &end);
            xf_zout_puts(z, *g[c] && !*end ? "<td class=\"n\">" : "<td>");
            put_html(z, g[c]);
            xf_zout_puts(z, "</td>");
        }
        xf_zout_puts(z, "</tr>\n");
    }
    if (first) {
        xf_zout_puts(z, "</tbody></table></div>\n");
        if (rows > max_rows) {
            xf_zout_printf(z, "<p class=\"more\">First %zu of %zu rows; the whole table: <a href=\"", max_rows, rows);
            put_html(z, link);
            xf_zout_puts(z, "\">");
            put_html(z, link);
            xf_zout_puts(z, "</a>.</p>\n");
        }
    }
    free(header);
    free(buf);
    return rows;
}

static int put_figure(xf_zout *z, const char *path, const char *alt)
{
    size_t n = strlen(path);
    int svg = n > 4 && !strcmp(path + n - 4, ".svg");
    int png = n > 4 && !strcmp(path + n - 4, ".png");
    if (!svg && !png) die("%s: a figure must be .svg or .png", path);
    size_t len;
    char *buf = xf_read_file(path, &len);
    int ok = len > 0;
    if (ok) {
        xf_zout_printf(z, "<figure><img alt=\"");
        put_html(z, alt);
        xf_zout_printf(z, "\" src=\"data:image/%s;base64,", svg ? "svg+xml" : "png");
        put_base64(z, (const unsigned char *)buf, len);
        xf_zout_puts(z, "\"></figure>\n");
    }
    free(buf);
    return ok;
}

static void put_missing(xf_zout *z, const char *what, const char *path)
{
    xf_zout_puts(z, "<p class=\"missing\">");
    put_html(z, what);
    xf_zout_puts(z, ": <code>");
    put_html(z, path);
    xf_zout_puts(z, "</code></p>\n");
}

static const char STYLE[] =
    "body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;"
    "color:#222;line-height:1.4}\n"
    "h1{border-bottom:2px solid #3b6ea8}h2{margin-top:2em;border-bottom:1px solid #ccc}\n"
    "nav ol{columns:2}pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:.9em}\n"
    "figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}\n"
    ".tbl{max-height:32em;overflow:auto;border:1px solid #ddd}\n"
    "table{border-collapse:collapse;font-size:.85em}th,td{padding:.2em .6em;border-bottom:1px solid #eee;"
    "text-align:left;white-space:nowrap}\n"
    "th{position:sticky;top:0;background:#e8eef6}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".missing{color:#c0392b;font-weight:bold}.note{color:#555}.src{font-size:.85em;color:#555}\n";

size_t xf_report_write(const char *manifest, const char *out, const xf_reportopts *o)
{
    xf_tsv *m = xf_tsv_open(manifest);
    int ck = xf_tsv_need_col(m, "kind"), ct = xf_tsv_need_col(m, "title");
    int cf = xf_tsv_need_col(m, "file"), cg = xf_tsv_need_col(m, "figure");
    int cn = xf_tsv_need_col(m, "note");
    char *mdir = dir_of(manifest), *odir = strcmp(out, "-") ? dir_of(out) : xstrdup(".");
    const char *title = o->title ? o->title : "xf study report";

    /* Sections first (so that the page can have a table of contents). */
    typedef struct {
        char *kind, *title, *file, *figure, *note;
        long line;
    } sect;
    sect *s = NULL;
    size_t ns = 0, cap = 0;
    while (xf_tsv_next(m)) {
        const char *kind = xf_tsv_field(m, ck);
        if (strcmp(kind, "text") && strcmp(kind, "table") && strcmp(kind, "figure"))
            die("%s:%ld: kind '%s' is not text, table or figure", manifest, xf_tsv_lineno(m), kind);
        if (ns == cap) s = xrealloc(s, xmul(cap = cap ? 2 * cap : 16, sizeof *s));
        const char *fl = xf_tsv_field(m, cf), *fg = xf_tsv_field(m, cg), *nt = xf_tsv_field(m, cn);
        s[ns] = (sect){xstrdup(kind), xstrdup(xf_tsv_field(m, ct)),
                       strcmp(fl, "-") ? join(mdir, fl) : NULL, strcmp(fg, "-") ? join(mdir, fg) : NULL,
                       strcmp(nt, "-") ? xstrdup(nt) : NULL, xf_tsv_lineno(m)};
        if (!strcmp(kind, "figure") ? !s[ns].figure : !s[ns].file)
            die("%s:%ld: a %s section needs a %s", manifest, s[ns].line, kind,
                !strcmp(kind, "figure") ? "figure" : "file");
        ns++;
    }
    xf_tsv_close(m);
    if (!ns) die("%s: no sections", manifest);

    xf_zout *z = xf_zout_open(out, XF_Z_OFF);
    xf_zout_puts(z, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
    put_html(z, title);
    xf_zout_printf(z, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", STYLE);
    put_html(z, title);
    xf_zout_puts(z, "</h1>\n<nav><ol>\n");
    for (size_t i = 0; i < ns; i++) {
        xf_zout_printf(z, "<li><a href=\"#s%zu\">", i + 1);
        put_html(z, s[i].title);
        xf_zout_puts(z, "</a></li>\n");
    }
    xf_zout_puts(z, "</ol></nav>\n");
    size_t bad = 0;
    for (size_t i = 0; i < ns; i++) {
        sect *x = &s[i];
        xf_zout_printf(z, "<section id=\"s%zu\">\n<h2>", i + 1);
        put_html(z, x->title);
        xf_zout_puts(z, "</h2>\n");
        if (x->note) {
            xf_zout_puts(z, "<p class=\"note\">");
            put_html(z, x->note);
            xf_zout_puts(z, "</p>\n");
        }
        int shown = 0;
        if (x->figure) {
            if (access(x->figure, R_OK)) put_missing(z, "Figure not available (missing)", x->figure);
            else if (put_figure(z, x->figure, x->title)) shown = 1;
            else put_missing(z, "Figure not available (empty file)", x->figure);
        }
        char *link = x->file ? relpath(x->file, odir) : NULL;
        if (x->file && access(x->file, R_OK)) {
            put_missing(z, "Not available: the file is missing", link);
        } else if (!strcmp(x->kind, "text")) {
            size_t len;
            char *buf = xf_read_file(x->file, &len);
            if (len) {
                xf_zout_puts(z, "<pre>");
                put_html(z, buf);
                xf_zout_puts(z, "</pre>\n");
                shown = 1;
            } else {
                put_missing(z, "Not available: the file is empty", link);
            }
            free(buf);
        } else if (!strcmp(x->kind, "table")) {
            if (put_table(z, x->file, o->max_rows ? o->max_rows : 60, link)) shown = 1;
            else put_missing(z, "No rows for this table", link);
        }
        if (link) {
            xf_zout_puts(z, "<p class=\"src\">Source: <a href=\"");
            put_html(z, link);
            xf_zout_puts(z, "\">");
            put_html(z, link);
            xf_zout_puts(z, "</a></p>\n");
        }
        xf_zout_puts(z, "</section>\n");
        bad += !shown;
        free(link);
    }
    xf_zout_puts(z, "<footer><p class=\"src\">Written by xf-score report, xf " XF_VERSION
                    ".</p></footer>\n</body>\n</html>\n");
    if (bad == ns) {
        xf_zout_abort(z);
        die("%s: nothing to report: every section's file is missing or empty", manifest);
    }
    xf_zout_commit(z);
    for (size_t i = 0; i < ns; i++) {
        free(s[i].kind);
        free(s[i].title);
        free(s[i].file);
        free(s[i].figure);
        free(s[i].note);
    }
    free(s);
    free(mdir);
    free(odir);
    return bad;
}
