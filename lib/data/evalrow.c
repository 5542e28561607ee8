/* evalrow.c — reading, checking and writing eval rows.  See evalrow.h. */
#include "evalrow.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
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

static long long parse_int(const xf_tsv *t, int col, long long min, long long max)
{
    const char *s = xf_tsv_field(t, col);
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!isdigit((unsigned char)*s) && *s != '-') end = (char *)"x";   /* no spaces, no '+' */
    if (!*s || *end || errno)
        die("%s:%ld: column '%s': '%s' is not an integer", xf_tsv_name(t), xf_tsv_lineno(t),
            xf_evalrow_cols[col], s);
    if (v < min || v > max)
        die("%s:%ld: column '%s': %lld is out of range [%lld, %lld]", xf_tsv_name(t),
            xf_tsv_lineno(t), xf_evalrow_cols[col], v, min, max);
    return v;
}

static const char *need_word(const xf_tsv *t, int col)
{
    const char *s = xf_tsv_field(t, col);
    if (!*s)
        die("%s:%ld: column '%s' is empty", xf_tsv_name(t), xf_tsv_lineno(t), xf_evalrow_cols[col]);
    for (const char *p = s; *p; p++)
        if (*p == ' ' || *p == '\t' || *p == '\n')
            die("%s:%ld: column '%s': '%s' contains white space", xf_tsv_name(t), xf_tsv_lineno(t),
                xf_evalrow_cols[col], s);
    return s;
}

static void check_dash(const xf_tsv *t, int col, const char *setting)
{
    if (strcmp(xf_tsv_field(t, col), "-"))
        die("%s:%ld: column '%s' must be '-' for setting '%s', not '%s'", xf_tsv_name(t),
            xf_tsv_lineno(t), xf_evalrow_cols[col], setting, xf_tsv_field(t, col));
}

static void parse_row(const xf_tsv *t, xf_evalrow *r)
{
    const char *file = xf_tsv_name(t);
    long line = xf_tsv_lineno(t);
    memset(r, 0, sizeof *r);
    r->file = xf_intern(file);
    r->line = line;
    r->model = xf_intern(need_word(t, C_MODEL));
    const char *task = need_word(t, C_TASK);
    if (!xf_task_primary_metric(task))
        die("%s:%ld: column 'task': unknown task '%s' (pos, dep, ner, nli, qa)", file, line, task);
    r->task = xf_intern(task);
    const char *setting = need_word(t, C_SETTING);
    if (!strcmp(setting, "base")) r->setting = XF_SET_BASE;
    else if (!strcmp(setting, "mlm")) r->setting = XF_SET_MLM;
    else if (!strcmp(setting, "lang")) r->setting = XF_SET_LANG;
    else die("%s:%ld: column 'setting': unknown setting '%s' (base, mlm, lang)", file, line, setting);
    r->transfer = xf_intern(need_word(t, C_TRANSFER));
    r->steps = (long)parse_int(t, C_STEPS, 0, 1000000000);
    r->run = (long)parse_int(t, C_RUN, 0, 1000000000);
    r->adapters = xf_intern(need_word(t, C_ADAPTERS));
    if (r->setting == XF_SET_MLM) {
        if (!strcmp(r->transfer, "-"))
            die("%s:%ld: column 'transfer': setting 'mlm' needs a transfer language", file, line);
        if (r->steps < 1) die("%s:%ld: column 'steps': setting 'mlm' needs steps >= 1", file, line);
        check_dash(t, C_ADAPTERS, setting);
    } else {
        check_dash(t, C_TRANSFER, setting);
        if (r->steps != 0 || r->run != 0)
            die("%s:%ld: columns 'steps' and 'run' must be 0 for setting '%s'", file, line, setting);
        if (r->setting == XF_SET_BASE) check_dash(t, C_ADAPTERS, setting);
        else if (!strcmp(r->adapters, "-"))
            die("%s:%ld: column 'adapters': setting 'lang' needs language adapters", file, line);
    }
    if (strcmp(r->adapters, "-")) {
        const char *a = r->adapters;
        if (*a == '+' || a[strlen(a) - 1] == '+' || strstr(a, "++"))
            die("%s:%ld: column 'adapters': '%s' is not a '+'-joined list", file, line, a);
    }
    const char *target = need_word(t, C_TARGET);
    if (!strcmp(target, "-")) die("%s:%ld: column 'target' must name a language", file, line);
    r->target = xf_intern(target);
    const char *metric = need_word(t, C_METRIC);
    if (!xf_task_has_metric(task, metric))
        die("%s:%ld: metric '%s' does not belong to task '%s'", file, line, metric, task);
    r->metric = xf_intern(metric);
    const char *v = xf_tsv_field(t, C_VALUE);
    char *end;
    errno = 0;
    double val = strtod(v, &end);
    if (!isdigit((unsigned char)*v) && *v != '-' && *v != '.') end = (char *)"x";
    if (!*v || *end || errno || !isfinite(val))
        die("%s:%ld: column 'value': '%s' is not a number", file, line, v);
    if (val < 0 || val > 100)
        die("%s:%ld: column 'value': %s is outside 0..100 (percent)", file, line, v);
    r->value = val;
    r->n = parse_int(t, C_N, 0, INT64_MAX);
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
    xf_tsv_put(z, r->model);
    xf_tsv_put(z, r->task);
    xf_tsv_put(z, xf_setting_name(r->setting));
    xf_tsv_put(z, r->transfer ? r->transfer : "-");
    xf_tsv_putf(z, "%ld", r->steps);
    xf_tsv_putf(z, "%ld", r->run);
    xf_tsv_put(z, r->adapters ? r->adapters : "-");
    xf_tsv_put(z, r->target);
    xf_tsv_put(z, r->metric);
    xf_tsv_putf(z, "%.4f", r->value);
    xf_tsv_putf(z, "%lld", r->n);
    xf_tsv_end_row(z);
}
