/* score.h — transfer scores and the analyses of xf-score(1).
 *
 * The transfer score of transfer language a on target b (model, task,
 * metric, steps k) is
 *     ts = (mean over runs r of score(b; base+a,k,r) - score(b; base)) / score(b; base) * 100
 * computed from eval rows (evalrow.h).  Every analysis works on ts rows and
 * groups them by (model, task, metric, steps); the TSV formats are in
 * xf-tsv(5) ("ANALYSIS TABLES") and the definitions in xf-score(1).
 * Output order never depends on input order: rows are sorted by name
 * (strcmp) and steps.
 */
#ifndef XF_SCORE_H
#define XF_SCORE_H

#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>

#include "evalrow.h"
#include "zio.h"

struct xf_tsv;

typedef struct xf_tsrow {
    const char *model, *task, *metric, *transfer, *target;   /* interned */
    long steps;
    double ts;
    long n;                       /* runs used */
    double mean, std, min, max;   /* of the finetuned scores */
    double base;
    double ci_lo, ci_hi;          /* bootstrap CI of ts; NaN when not computed */
    const char *file;             /* where it came from, for messages */
    long line;
} xf_tsrow;

typedef struct xf_tsset {
    xf_tsrow *rows;
    size_t n, cap;
} xf_tsset;

typedef struct xf_tsopts {
    const char **metrics;   /* --metric choices (each names its task); others: primary */
    size_t nmetrics;
    int boot;               /* bootstrap resamples; 0 = no CI */
    uint64_t seed;
    double level;           /* CI level, 0.95 */
} xf_tsopts;

/* The metric used for TASK under O. */
const char *xf_tss_metric(const xf_tsopts *o, const char *task);
/* Transfer scores from the mlm and base rows of SET, appended to OUT.
 * Missing runs and pairs without a base row are excluded and counted on
 * stderr; a zero base score is an error message for that pair, which is
 * left out.  Returns the number of such errors. */
size_t xf_tss_compute(const xf_evalset *set, const xf_tsopts *o, xf_tsset *out);

/* Why SET gives no transfer score under O (and the --steps filter STEPS, 0 =
 * none): one line naming the likely cause, e.g. "no base rows for task dep",
 * "pos: mlm rows have model 'model' but base rows have model 'base'", or
 * the targets that do not meet; several tasks are joined by "; ".  For a
 * SET that xf_tss_compute paired nothing of.  Caller frees. */
char *xf_tss_diagnose(const xf_evalset *set, const xf_tsopts *o, long steps);

extern const char *const xf_tss_cols[];
extern const size_t xf_tss_ncols;
int xf_tss_header_matches(const struct xf_tsv *t);
void xf_tsset_read_tsv(xf_tsset *set, struct xf_tsv *t);
void xf_tsset_push(xf_tsset *set, const xf_tsrow *r);
/* Sorts by (model, task, metric, steps, transfer, target) and dies on a
 * repeated key, naming both lines. */
void xf_tsset_sort_check(xf_tsset *set);
void xf_tsset_free(xf_tsset *set);
void xf_tss_write(xf_zout *z, const xf_tsset *set);

/* Number output: "nan" for NaN (never "-nan"), else printf FMT. */
void xf_score_putnum(xf_zout *z, const char *fmt, double v);

/* ---- analyses: each writes its table to Z and, if PLOT is not NULL,
 * renders a figure there (plot.h).  SET must be sorted (xf_tsset_sort_check). */
typedef struct xf_scoreopts {
    int top;                 /* rank: rows per group (0 = all); progress: targets listed */
    double extreme_share;    /* variance: share of targets for a frequent max/min */
    const char *langfile;    /* seen: languages.tsv */
    const char *seen_by;     /* seen: "mbert", "xlmr" or "auto" */
    int summary;             /* compare: per-setting summary instead of per language */
    int by_family;           /* seen --plot: group the heatmap's axes by family */
} xf_scoreopts;

void xf_score_rank(const xf_tsset *set, const xf_scoreopts *o, xf_zout *z, const char *plot);
void xf_score_variance(const xf_tsset *set, const xf_scoreopts *o, xf_zout *z);
void xf_score_targets(const xf_tsset *set, const xf_scoreopts *o, xf_zout *z, const char *plot);
void xf_score_seen(const xf_tsset *set, const xf_scoreopts *o, xf_zout *z);
void xf_score_corr(const xf_tsset *set, const xf_scoreopts *o, xf_zout *z);
void xf_score_progress(const xf_tsset *set, const xf_scoreopts *o, xf_zout *z, const char *plot);
/* Figures without a table of their own (score_figs.c): Figure 7 (variance),
 * 3a/5 (targets), 8 (seen), 6 (corr).  Unseen languages are marked when
 * O->langfile is readable. */
void xf_fig_variance(const xf_tsset *set, const xf_scoreopts *o, const char *path);
void xf_fig_recipients(const xf_tsset *set, const xf_scoreopts *o, const char *path);
void xf_fig_heatmap(const xf_tsset *set, const xf_scoreopts *o, const char *path);
void xf_fig_common(const xf_tsset *set, const xf_scoreopts *o, const char *path);
/* Recipient bins of Figure 5: 0 = never (no transfer language positive),
 * 1..10 = (0,10] .. (90,100) percent, 11 = universal (all positive). */
int xf_recipient_bin(size_t npos, size_t n);
const char *xf_recipient_bin_name(int bin);

/* compare works on eval rows (base, mlm with target == transfer, lang). */
void xf_score_compare(const xf_evalset *set, const xf_tsopts *to, const xf_scoreopts *o,
                      xf_zout *z, const char *plot);

/* ---- languages (score_langs.c): languages.tsv's iso639_3, family and a
 * 0/1 seen column, sorted by iso. */
typedef struct xf_langinfo {
    const char *iso, *family;   /* interned; family "-" when the file has none */
    int seen;
} xf_langinfo;
typedef struct xf_langmeta {
    xf_langinfo *l;
    size_t n;
    const char *path;
} xf_langmeta;
void xf_langmeta_read(xf_langmeta *m, const char *path, const char *seen_col);
const xf_langinfo *xf_langmeta_find(const xf_langmeta *m, const char *lang);   /* NULL: absent */
void xf_langmeta_free(xf_langmeta *m);
/* "mbert" or "xlmr" for MODEL under --seen-by. */
const char *xf_score_seen_by(const xf_scoreopts *o, const char *model);
/* For figures that mark unseen languages: loads O's languages file when it
 * is readable (returns 1), else leaves M empty (returns 0: nothing marked). */
int xf_langmeta_for_plot(xf_langmeta *m, const xf_scoreopts *o, const char *model);

/* Internal helpers shared by score_*.c. */
/* End (exclusive) of the (model, task, metric, steps) group starting at row I. */
size_t xf_tss_group_end(const xf_tsset *set, size_t i);
int xf_tss_same_group(const xf_tsrow *a, const xf_tsrow *b);
/* Sorted, de-duplicated list of the distinct strings of FIELD in rows [i,j)
 * (FIELD 0 = transfer, 1 = target). */
size_t xf_tss_distinct(const xf_tsset *set, size_t i, size_t j, int field, const char ***out);
/* Binary search in a sorted list from xf_tss_distinct; -1 if absent. */
long xf_tss_find(const char **list, size_t n, const char *s);
void xf_tss_put_group(xf_zout *z, const xf_tsrow *r);   /* model task metric steps */

/* qsort that accepts an empty array with a NULL base (an eval file of a
 * header only): qsort(NULL, 0, ...) is undefined behaviour in C. */
static inline void xf_score_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1) qsort(base, n, size, cmp);
}

#endif
