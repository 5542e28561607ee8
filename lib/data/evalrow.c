/* evalrow.c — reading, checking and writing eval rows.  See evalrow.h. */
#include "evalrow.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsv.h"
#include "util.h"

const char *const xf_evalrow_cols[XF_EVALROW_NCOLS] = {
    "model", "task", "setting", "transfer", "steps", "run",
    "adapters", "target", "metric", "value", "n"};

enum { C_MODEL, C_TASK, C_SETTING, C_TRANSFER, C_STEPS, C_RUN, C_ADAPTERS, C_TARGET,
       C_METRIC, C_VALUE, C_N };

/* Task -> metrics; the first is the primary one. */
static const struct {
    const char *task;
    const char *metrics[3];
} task_metrics[] = {
    {"pos", {"upos_acc", NULL, NULL}},
    {"dep", {"las", "uas", NULL}},
    {"ner", {"ner_f1", NULL, NULL}},
    {"nli", {"acc", NULL, NULL}},
    {"qa", {"qa_f1", "em", NULL}},
};
#define NTASKS (sizeof task_metrics / sizeof task_metrics[0])

const char *xf_task_primary_metric(const char *task)
{
    for (size_t i = 0; i < NTASKS; i++)
        if (!strcmp(task_metrics[i].task, task)) return task_metrics[i].metrics[0];
    return NULL;
}

int xf_task_has_metric(const char *task, const char *metric)
{
    for (size_t i = 0; i < NTASKS; i++)
        if (!strcmp(task_metrics[i].task, task))
            for (int j = 0; j < 3 && task_metrics[i].metrics[j]; j++)
                if (!strcmp(task_metrics[i].metrics[j], metric)) return 1;
    return 0;
}

const char *xf_metric_task(const char *metric)
{
    for (size_t i = 0; i < NTASKS; i++)
        for (int j = 0; j < 3 && task_metrics[i].metrics[j]; j++)
            if (!strcmp(task_metrics[i].metrics[j], metric)) return task_metrics[i].task;
    return NULL;
}

const char *xf_setting_name(xf_setting s)
{
    return s == XF_SET_BASE ? "base" : s == XF_SET_MLM ? "mlm" : "lang";
}

/* ---- interning: open addressing on FNV-1a ---- */
static const char **itab;
static size_t icap, icount;

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

const char *xf_intern(const char *s)
{
    if (2 * (icount + 1) > icap) {
        size_t ncap = icap ? 2 * icap : 256;
        const char **nt = xcalloc(ncap, sizeof *nt);
        for (size_t i = 0; i < icap; i++)
            if (itab[i]) {
                size_t j = fnv(itab[i]) & (ncap - 1);
                while (nt[j]) j = (j + 1) & (ncap - 1);
                nt[j] = itab[i];
            }
        free(itab);
        itab = nt;
        icap = ncap;
    }
    size_t j = fnv(s) & (icap - 1);
    while (itab[j]) {
        if (!strcmp(itab[j], s)) return itab[j];
        j = (j + 1) & (icap - 1);
    }
    icount++;
    return itab[j] = xstrdup(s);
}

/* ---- reading ---- */
int xf_evalrow_header_matches(const xf_tsv *t)
{
    if (xf_tsv_ncols(t) != XF_EVALROW_NCOLS) return 0;
    for (size_t i = 0; i < XF_EVALROW_NCOLS; i++)
        if (strcmp(xf_tsv_colname(t, i), xf_evalrow_cols[i])) return 0;
    return 1;
}

static int row_is_header(const xf_tsv *t)
{
    for (size_t i = 0; i < XF_EVALROW_NCOLS; i++)
        if (strcmp(xf_tsv_field(t, i), xf_evalrow_cols[i])) return 0;
    return 1;
}

/* ---- the row rules, shared by the reader and the writer ----
 * Each check fills MSG and returns -1 on a violation. */
#define FAIL(...) do { snprintf(msg, msgn, __VA_ARGS__); return -1; } while (0)

static int parse_int(const char *s, int col, long long min, long long max, long long *out,
                     char *msg, size_t msgn)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!isdigit((unsigned char)*s) && !(*s == '-' && isdigit((unsigned char)s[1])))
        end = (char *)"x";   /* no spaces, no '+' */
    if (!*s || *end || errno) FAIL("column '%s': '%.40s' is not an integer", xf_evalrow_cols[col], s);
    if (v < min || v > max)
        FAIL("column '%s': %lld is out of range [%lld, %lld]", xf_evalrow_cols[col], v, min, max);
    *out = v;
    return 0;
}

/* A word: non-empty valid UTF-8 without white space or control characters. */
static int check_word(const char *s, int col, char *msg, size_t msgn)
{
    if (!*s) FAIL("column '%s' is empty", xf_evalrow_cols[col]);
    long bad = xf_utf8_invalid_at(s, strlen(s));
    if (bad >= 0) FAIL("column '%s': invalid UTF-8 at byte %ld", xf_evalrow_cols[col], bad + 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            FAIL("column '%s': '%.40s' contains white space or a control character",
                 xf_evalrow_cols[col], s);
    return 0;
}

static int check_dash(const char *f, int col, const char *setting, char *msg, size_t msgn)
{
    if (strcmp(f, "-"))
        FAIL("column '%s' must be '-' for setting '%s', not '%.40s'", xf_evalrow_cols[col], setting, f);
    return 0;
}

int xf_evalrow_check(const char *const f[XF_EVALROW_NCOLS], xf_evalrow *r, char *msg, size_t msgn)
{
    xf_evalrow tmp;
    if (!r) r = &tmp;
    memset(r, 0, sizeof *r);
    for (int c = 0; c < XF_EVALROW_NCOLS; c++)
        if (c != C_STEPS && c != C_RUN && c != C_VALUE && c != C_N && check_word(f[c], c, msg, msgn))
            return -1;
    r->model = f[C_MODEL];
    const char *task = f[C_TASK];
    if (!xf_task_primary_metric(task)) FAIL("column 'task': unknown task '%.40s' (pos, dep, ner, nli, qa)", task);
    r->task = task;
    const char *setting = f[C_SETTING];
    if (!strcmp(setting, "base")) r->setting = XF_SET_BASE;
    else if (!strcmp(setting, "mlm")) r->setting = XF_SET_MLM;
    else if (!strcmp(setting, "lang")) r->setting = XF_SET_LANG;
    else FAIL("column 'setting': unknown setting '%.40s' (base, mlm, lang)", setting);
    r->transfer = f[C_TRANSFER];
    long long v;
    if (parse_int(f[C_STEPS], C_STEPS, 0, 1000000000, &v, msg, msgn)) return -1;
    r->steps = (long)v;
    if (parse_int(f[C_RUN], C_RUN, 0, 1000000000, &v, msg, msgn)) return -1;
    r->run = (long)v;
    r->adapters = f[C_ADAPTERS];
    if (r->setting == XF_SET_MLM) {
        if (!strcmp(r->transfer, "-")) FAIL("column 'transfer': setting 'mlm' needs a transfer language");
        if (r->steps < 1) FAIL("column 'steps': setting 'mlm' needs steps >= 1");
        if (check_dash(f[C_ADAPTERS], C_ADAPTERS, setting, msg, msgn)) return -1;
    } else {
        if (check_dash(f[C_TRANSFER], C_TRANSFER, setting, msg, msgn)) return -1;
        if (r->steps != 0 || r->run != 0) FAIL("columns 'steps' and 'run' must be 0 for setting '%s'", setting);
        if (r->setting == XF_SET_BASE) {
            if (check_dash(f[C_ADAPTERS], C_ADAPTERS, setting, msg, msgn)) return -1;
        } else if (!strcmp(r->adapters, "-")) {
            FAIL("column 'adapters': setting 'lang' needs language adapters");
        }
    }
    if (strcmp(r->adapters, "-")) {
        const char *a = r->adapters;
        if (*a == '+' || a[strlen(a) - 1] == '+' || strstr(a, "++"))
            FAIL("column 'adapters': '%.40s' is not a '+'-joined list", a);
    }
    r->target = f[C_TARGET];
    if (!strcmp(r->target, "-")) FAIL("column 'target' must name a language");
    const char *metric = f[C_METRIC];
    if (!xf_task_has_metric(task, metric)) FAIL("metric '%.40s' does not belong to task '%s'", metric, task);
    r->metric = metric;
    double val;
    if (xf_parse_decimal(f[C_VALUE], &val)) FAIL("column 'value': '%.40s' is not a number", f[C_VALUE]);
    if (val < 0 || val > 100) FAIL("column 'value': %.40s is outside 0..100 (percent)", f[C_VALUE]);
    r->value = val;
    if (parse_int(f[C_N], C_N, 0, INT64_MAX, &v, msg, msgn)) return -1;
    r->n = v;
    return 0;
}
#undef FAIL

static void parse_row(const xf_tsv *t, xf_evalrow *r)
{
    const char *f[XF_EVALROW_NCOLS];
    for (int c = 0; c < XF_EVALROW_NCOLS; c++) f[c] = xf_tsv_field(t, c);
    char msg[256];
    if (xf_evalrow_check(f, r, msg, sizeof msg)) die("%s:%ld: %s", xf_tsv_name(t), xf_tsv_lineno(t), msg);
    r->model = xf_intern(r->model);
    r->task = xf_intern(r->task);
    r->transfer = xf_intern(r->transfer);
    r->adapters = xf_intern(r->adapters);
    r->target = xf_intern(r->target);
    r->metric = xf_intern(r->metric);
    r->file = xf_intern(xf_tsv_name(t));
    r->line = xf_tsv_lineno(t);
}

void xf_evalset_read_tsv(xf_evalset *set, xf_tsv *t)
{
    while (xf_tsv_next(t)) {
        if (row_is_header(t)) continue;
        if (set->n == set->cap) {
            set->cap = set->cap ? 2 * set->cap : 256;
            set->rows = xrealloc(set->rows, xmul(set->cap, sizeof *set->rows));
        }
        parse_row(t, &set->rows[set->n++]);
    }
}

static const char *expected_header(void)
{
    static char buf[256];
    if (!buf[0])
        for (size_t i = 0; i < XF_EVALROW_NCOLS; i++) {
            if (i) strcat(buf, " ");
            strcat(buf, xf_evalrow_cols[i]);
        }
    return buf;
}

void xf_evalset_read(xf_evalset *set, const char *path)
{
    xf_tsv *t = xf_tsv_open(path);
    if (!xf_evalrow_header_matches(t))
        die("%s:1: not an eval-row header (expected the columns: %s)", xf_tsv_name(t),
            expected_header());
    xf_evalset_read_tsv(set, t);
    xf_tsv_close(t);
    xf_evalset_check_duplicates(set);
}

static int key_cmp(const xf_evalrow *a, const xf_evalrow *b)
{
    /* Interned strings: pointer order is a valid total order for grouping. */
#define CMP(f) if (a->f != b->f) return a->f < b->f ? -1 : 1
    CMP(model); CMP(task); CMP(setting); CMP(transfer); CMP(steps); CMP(run);
    CMP(adapters); CMP(target); CMP(metric);
#undef CMP
    return 0;
}

static int cmp_rowp(const void *a, const void *b)
{
    const xf_evalrow *x = *(const xf_evalrow *const *)a, *y = *(const xf_evalrow *const *)b;
    int c = key_cmp(x, y);
    if (c) return c;
    /* Keep reading order among equal keys, so "first" is the earlier one. */
    return (x > y) - (x < y);
}

void xf_evalset_check_duplicates(const xf_evalset *set)
{
    if (set->n < 2) return;
    const xf_evalrow **p = xmalloc(xmul(set->n, sizeof *p));
    for (size_t i = 0; i < set->n; i++) p[i] = &set->rows[i];
    qsort(p, set->n, sizeof *p, cmp_rowp);
    const xf_evalrow *dup = NULL, *first = NULL;
    for (size_t i = 1; i < set->n; i++)
        if (!key_cmp(p[i - 1], p[i])) {
            /* Report the duplicate that comes first in reading order. */
            const xf_evalrow *a = p[i - 1], *b = p[i];
            while (i + 1 < set->n && !key_cmp(p[i], p[i + 1])) i++;
            if (!dup || b < dup) dup = b, first = a;
        }
    free(p);
    if (dup)
        die("%s:%ld: duplicate row (model %s, task %s, setting %s, transfer %s, steps %ld, run %ld, "
            "adapters %s, target %s, metric %s; first at %s:%ld)",
            dup->file, dup->line, dup->model, dup->task, xf_setting_name(dup->setting),
            dup->transfer, dup->steps, dup->run, dup->adapters, dup->target, dup->metric,
            first->file, first->line);
}

void xf_evalset_free(xf_evalset *set)
{
    free(set->rows);
    memset(set, 0, sizeof *set);
}

/* ---- writing ---- */
void xf_evalrow_write_header(xf_zout *z)
{
    xf_tsv_header(z, xf_evalrow_cols, XF_EVALROW_NCOLS);
}

void xf_evalrow_write(xf_zout *z, const xf_evalrow *r)
{
    /* the row as text, checked by the reader's rules before it is written */
    char steps[32], run[32], value[64], n[32], msg[256];
    snprintf(steps, sizeof steps, "%ld", r->steps);
    snprintf(run, sizeof run, "%ld", r->run);
    snprintf(value, sizeof value, "%.4f", r->value);
    snprintf(n, sizeof n, "%lld", r->n);
    const char *f[XF_EVALROW_NCOLS] = {
        r->model, r->task, xf_setting_name(r->setting), r->transfer ? r->transfer : "-", steps, run,
        r->adapters ? r->adapters : "-", r->target, r->metric, value, n};
    if (xf_evalrow_check(f, NULL, msg, sizeof msg))
        die("%s: eval row of target '%s' would not read back: %s", xf_zout_name(z), r->target, msg);
    for (int c = 0; c < XF_EVALROW_NCOLS; c++) xf_tsv_put(z, f[c]);
    xf_tsv_end_row(z);
}
