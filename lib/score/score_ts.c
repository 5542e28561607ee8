/* score_ts.c — transfer scores from eval rows; the ts TSV; grouping helpers. */
#include "score.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "tsv.h"
#include "util.h"

const char *const xf_tss_cols[] = {"model", "task", "metric", "transfer", "target", "steps", "ts",
                                  "n", "mean", "std", "min", "max", "base", "ci_lo", "ci_hi"};
const size_t xf_tss_ncols = sizeof xf_tss_cols / sizeof xf_tss_cols[0];

void xf_score_putnum(xf_zout *z, const char *fmt, double v)
{
    if (isnan(v)) xf_tsv_put(z, "nan");
    else xf_tsv_putf(z, fmt, v == 0 ? 0.0 : v);   /* no "-0.0000" */
}

const char *xf_tss_metric(const xf_tsopts *o, const char *task)
{
    for (size_t i = 0; o && i < o->nmetrics; i++)
        if (xf_task_has_metric(task, o->metrics[i])) return o->metrics[i];
    return xf_task_primary_metric(task);
}

/* ---- computing ---- */
static int cmp_str(const char *a, const char *b) { return a == b ? 0 : strcmp(a, b); }

/* mlm rows: (model, task, metric, transfer, steps, target, run). */
static int cmp_mlm(const void *pa, const void *pb)
{
    const xf_evalrow *a = *(const xf_evalrow *const *)pa, *b = *(const xf_evalrow *const *)pb;
    int c;
    if ((c = cmp_str(a->model, b->model))) return c;
    if ((c = cmp_str(a->task, b->task))) return c;
    if ((c = cmp_str(a->metric, b->metric))) return c;
    if ((c = cmp_str(a->transfer, b->transfer))) return c;
    if (a->steps != b->steps) return a->steps < b->steps ? -1 : 1;
    if ((c = cmp_str(a->target, b->target))) return c;
    return (a->run > b->run) - (a->run < b->run);
}

static int same_experiment(const xf_evalrow *a, const xf_evalrow *b)
{
    return a->model == b->model && a->task == b->task && a->metric == b->metric &&
           a->transfer == b->transfer && a->steps == b->steps;
}

static int cmp_base(const void *pa, const void *pb)
{
    const xf_evalrow *a = *(const xf_evalrow *const *)pa, *b = *(const xf_evalrow *const *)pb;
    int c;
    if ((c = cmp_str(a->model, b->model))) return c;
    if ((c = cmp_str(a->task, b->task))) return c;
    if ((c = cmp_str(a->metric, b->metric))) return c;
    return cmp_str(a->target, b->target);
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

size_t xf_tss_compute(const xf_evalset *set, const xf_tsopts *o, xf_tsset *out)
{
    const xf_evalrow **mlm = xmalloc(xmul(set->n + 1, sizeof *mlm));
    const xf_evalrow **base = xmalloc(xmul(set->n + 1, sizeof *base));
    size_t nm = 0, nb = 0;
    for (size_t i = 0; i < set->n; i++) {
        const xf_evalrow *r = &set->rows[i];
        if (strcmp(r->metric, xf_tss_metric(o, r->task))) continue;
        if (r->setting == XF_SET_MLM) mlm[nm++] = r;
        else if (r->setting == XF_SET_BASE) base[nb++] = r;
    }
    qsort(mlm, nm, sizeof *mlm, cmp_mlm);
    qsort(base, nb, sizeof *base, cmp_base);

    size_t n_missing_runs = 0, n_no_base = 0, n_zero_base = 0;
    double *vals = xmalloc(xmul(nm + 1, sizeof *vals));
    long *runs = xmalloc(xmul(nm + 1, sizeof *runs));
    for (size_t i = 0; i < nm;) {
        size_t j = i;
        while (j < nm && same_experiment(mlm[i], mlm[j])) j++;
        /* Expected runs of this experiment: every run seen on any target. */
        size_t nr = 0;
        for (size_t k = i; k < j; k++) runs[nr++] = mlm[k]->run;
        qsort(runs, nr, sizeof *runs, cmp_long);
        size_t nexp = 0;
        for (size_t k = 0; k < nr; k++)
            if (!nexp || runs[nexp - 1] != runs[k]) runs[nexp++] = runs[k];
        for (size_t a = i; a < j;) {
            size_t b = a;
            while (b < j && mlm[b]->target == mlm[a]->target) b++;
            const xf_evalrow *r = mlm[a];
            size_t n = b - a;
            if (n < nexp) {
                n_missing_runs += nexp - n;
                for (size_t k = 0, m = a; k < nexp; k++) {
                    if (m < b && mlm[m]->run == runs[k]) { m++; continue; }
                    xf_info(2, "missing run: model %s, task %s, transfer %s, steps %ld, target %s, run %ld",
                            r->model, r->task, r->transfer, r->steps, r->target, runs[k]);
                }
            }
            const xf_evalrow **bp = bsearch(&r, base, nb, sizeof *base, cmp_base);
            if (!bp) {
                n_no_base++;
                xf_info(2, "%s:%ld: no base score for model %s, task %s, metric %s, target %s",
                        r->file, r->line, r->model, r->task, r->metric, r->target);
            } else if ((*bp)->value == 0) {
                n_zero_base++;
                error("%s:%ld: base score of model %s, task %s, metric %s, target %s is 0: "
                      "transfer score from %s (steps %ld) undefined, pair left out",
                      (*bp)->file, (*bp)->line, r->model, r->task, r->metric, r->target, r->transfer,
                      r->steps);
            } else {
                double bv = (*bp)->value;
                for (size_t k = a; k < b; k++) vals[k - a] = mlm[k]->value;
                xf_tsrow t = {.model = r->model, .task = r->task, .metric = r->metric,
                              .transfer = r->transfer, .target = r->target, .steps = r->steps,
                              .n = (long)n, .base = bv, .file = r->file, .line = r->line};
                t.mean = xf_mean(vals, n);
                t.std = xf_std(vals, n);
                t.min = xf_min(vals, n);
                t.max = xf_max(vals, n);
                t.ts = (t.mean - bv) / bv * 100;
                t.ci_lo = t.ci_hi = NAN;
                if (o && o->boot > 0) {
                    char key[512];
                    snprintf(key, sizeof key, "%s\t%s\t%s\t%s\t%ld\t%s", r->model, r->task, r->metric,
                             r->transfer, r->steps, r->target);
                    double lo, hi;
                    xf_boot_mean_ci(vals, n, o->boot, o->seed, xf_str_hash(key), o->level, &lo, &hi);
                    /* ts is an increasing linear function of the mean (base > 0). */
                    t.ci_lo = (lo - bv) / bv * 100;
                    t.ci_hi = (hi - bv) / bv * 100;
                }
                xf_tsset_push(out, &t);
            }
            a = b;
        }
        i = j;
    }
    if (n_missing_runs)
        warning("%zu missing run(s) excluded (a run present for other targets of the same "
                "transfer language and steps; -v lists them)", n_missing_runs);
    if (n_no_base)
        warning("%zu (transfer, target, steps) pair(s) without a base score excluded (-v lists them)",
                n_no_base);
    if (n_zero_base) error("%zu pair(s) with a base score of 0 left out", n_zero_base);
    free(vals);
    free(runs);
    free(mlm);
    free(base);
    return n_zero_base;
}

/* ---- the ts TSV ---- */
void xf_tsset_push(xf_tsset *set, const xf_tsrow *r)
{
    if (set->n == set->cap) {
        set->cap = set->cap ? 2 * set->cap : 256;
        set->rows = xrealloc(set->rows, xmul(set->cap, sizeof *set->rows));
    }
    set->rows[set->n++] = *r;
}

void xf_tsset_free(xf_tsset *set)
{
    free(set->rows);
    memset(set, 0, sizeof *set);
}

int xf_tss_header_matches(const xf_tsv *t)
{
    if (xf_tsv_ncols(t) != xf_tss_ncols) return 0;
    for (size_t i = 0; i < xf_tss_ncols; i++)
        if (strcmp(xf_tsv_colname(t, i), xf_tss_cols[i])) return 0;
    return 1;
}

/* A number, or "nan" where the format allows an undefined value. */
static double field_num(const xf_tsv *t, size_t col, int nan_ok)
{
    const char *s = xf_tsv_field(t, col);
    if (nan_ok && !strcmp(s, "nan")) return NAN;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v))
        die("%s:%ld: column '%s': '%s' is not a number", xf_tsv_name(t), xf_tsv_lineno(t),
            xf_tss_cols[col], s);
    return v;
}

static long field_long(const xf_tsv *t, size_t col, long min)
{
    const char *s = xf_tsv_field(t, col);
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < min)
        die("%s:%ld: column '%s': '%s' is not an integer >= %ld", xf_tsv_name(t), xf_tsv_lineno(t),
            xf_tss_cols[col], s, min);
    return v;
}

static const char *field_word(const xf_tsv *t, size_t col)
{
    const char *s = xf_tsv_field(t, col);
    if (!*s || !strcmp(s, "-"))
        die("%s:%ld: column '%s' is empty", xf_tsv_name(t), xf_tsv_lineno(t), xf_tss_cols[col]);
    return xf_intern(s);
}

void xf_tsset_read_tsv(xf_tsset *set, xf_tsv *t)
{
    while (xf_tsv_next(t)) {
        size_t i;
        for (i = 0; i < xf_tss_ncols; i++)
            if (strcmp(xf_tsv_field(t, i), xf_tss_cols[i])) break;
        if (i == xf_tss_ncols) continue;   /* a repeated header from cat */
        xf_tsrow r = {0};
        r.file = xf_intern(xf_tsv_name(t));
        r.line = xf_tsv_lineno(t);
        r.model = field_word(t, 0);
        r.task = field_word(t, 1);
        r.metric = field_word(t, 2);
        if (!xf_task_has_metric(r.task, r.metric))
            die("%s:%ld: metric '%s' does not belong to task '%s'", r.file, r.line, r.metric, r.task);
        r.transfer = field_word(t, 3);
        r.target = field_word(t, 4);
        r.steps = field_long(t, 5, 1);
        r.ts = field_num(t, 6, 0);
        r.n = field_long(t, 7, 1);
        r.mean = field_num(t, 8, 0);
        r.std = field_num(t, 9, 1);
        r.min = field_num(t, 10, 0);
        r.max = field_num(t, 11, 0);
        r.base = field_num(t, 12, 0);
        r.ci_lo = field_num(t, 13, 1);
        r.ci_hi = field_num(t, 14, 1);
        xf_tsset_push(set, &r);
    }
}

static int cmp_ts(const void *pa, const void *pb)
{
    const xf_tsrow *a = pa, *b = pb;
    int c;
    if ((c = cmp_str(a->model, b->model))) return c;
    if ((c = cmp_str(a->task, b->task))) return c;
    if ((c = cmp_str(a->metric, b->metric))) return c;
    if (a->steps != b->steps) return a->steps < b->steps ? -1 : 1;
    if ((c = cmp_str(a->transfer, b->transfer))) return c;
    if ((c = cmp_str(a->target, b->target))) return c;
    /* Reading order among duplicates (file, then line) for the message. */
    if ((c = cmp_str(a->file, b->file))) return c;
    return (a->line > b->line) - (a->line < b->line);
}

void xf_tsset_sort_check(xf_tsset *set)
{
    if (set->n > 1) qsort(set->rows, set->n, sizeof *set->rows, cmp_ts);   /* rows may be NULL */
    for (size_t i = 1; i < set->n; i++) {
        const xf_tsrow *a = &set->rows[i - 1], *b = &set->rows[i];
        if (a->model == b->model && a->task == b->task && a->metric == b->metric &&
            a->steps == b->steps && a->transfer == b->transfer && a->target == b->target)
            die("%s:%ld: duplicate transfer score (model %s, task %s, metric %s, transfer %s, "
                "target %s, steps %ld; also at %s:%ld)",
                b->file, b->line, b->model, b->task, b->metric, b->transfer, b->target, b->steps,
                a->file, a->line);
    }
}

void xf_tss_write(xf_zout *z, const xf_tsset *set)
{
    xf_tsv_header(z, xf_tss_cols, xf_tss_ncols);
    for (size_t i = 0; i < set->n; i++) {
        const xf_tsrow *r = &set->rows[i];
        xf_tsv_put(z, r->model);
        xf_tsv_put(z, r->task);
        xf_tsv_put(z, r->metric);
        xf_tsv_put(z, r->transfer);
        xf_tsv_put(z, r->target);
        xf_tsv_putf(z, "%ld", r->steps);
        xf_score_putnum(z, "%.4f", r->ts);
        xf_tsv_putf(z, "%ld", r->n);
        xf_score_putnum(z, "%.4f", r->mean);
        xf_score_putnum(z, "%.4f", r->std);
        xf_score_putnum(z, "%.4f", r->min);
        xf_score_putnum(z, "%.4f", r->max);
        xf_score_putnum(z, "%.4f", r->base);
        xf_score_putnum(z, "%.4f", r->ci_lo);
        xf_score_putnum(z, "%.4f", r->ci_hi);
        xf_tsv_end_row(z);
    }
}

/* ---- grouping helpers ---- */
int xf_tss_same_group(const xf_tsrow *a, const xf_tsrow *b)
{
    return a->model == b->model && a->task == b->task && a->metric == b->metric &&
           a->steps == b->steps;
}

size_t xf_tss_group_end(const xf_tsset *set, size_t i)
{
    size_t j = i;
    while (j < set->n && xf_tss_same_group(&set->rows[i], &set->rows[j])) j++;
    return j;
}

static int cmp_strp(const void *a, const void *b)
{
    return cmp_str(*(const char *const *)a, *(const char *const *)b);
}

size_t xf_tss_distinct(const xf_tsset *set, size_t i, size_t j, int field, const char ***out)
{
    const char **l = xmalloc(xmul(j - i + 1, sizeof *l));
    size_t n = 0;
    for (size_t k = i; k < j; k++) l[n++] = field ? set->rows[k].target : set->rows[k].transfer;
    qsort(l, n, sizeof *l, cmp_strp);
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        if (!m || l[m - 1] != l[k]) l[m++] = l[k];
    *out = l;
    return m;
}

long xf_tss_find(const char **list, size_t n, const char *s)
{
    const char **p = bsearch(&s, list, n, sizeof *list, cmp_strp);
    return p ? (long)(p - list) : -1;
}

void xf_tss_put_group(xf_zout *z, const xf_tsrow *r)
{
    xf_tsv_put(z, r->model);
    xf_tsv_put(z, r->task);
    xf_tsv_put(z, r->metric);
    xf_tsv_putf(z, "%ld", r->steps);
}
