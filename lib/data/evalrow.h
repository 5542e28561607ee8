/* evalrow.h — the eval row of xf-tsv(5): written by xf-eval, read by
 * xf-score and xf-project.
 *
 * Columns, in this order: model task setting transfer steps run adapters
 * target metric value n.  The reader checks the exact header, every field
 * (known task, metric belonging to the task, setting base|mlm|lang and the
 * fields that setting fixes, integers, value a finite number in [0,100]) and
 * that no (model, task, setting, transfer, steps, run, adapters, target,
 * metric) key occurs twice; every violation is a die("FILE:LINE: ...").
 * A line identical to the header inside the data is skipped, so that
 * `cat a.tsv b.tsv | xf-score` works.
 */
#ifndef XF_EVALROW_H
#define XF_EVALROW_H

#include <stddef.h>

#include "zio.h"

#define XF_EVALROW_NCOLS 11
extern const char *const xf_evalrow_cols[XF_EVALROW_NCOLS];

typedef enum { XF_SET_BASE, XF_SET_MLM, XF_SET_LANG } xf_setting;

typedef struct xf_evalrow {
    const char *model, *task;
    xf_setting setting;
    const char *transfer;   /* "-" unless mlm */
    long steps, run;        /* 0 unless mlm */
    const char *adapters;   /* "-" or "eng+hin" */
    const char *target, *metric;
    double value;           /* percent, 0..100 */
    long long n;
    /* Where the row came from, for messages (reader only). */
    const char *file;
    long line;
} xf_evalrow;

typedef struct xf_evalset {
    xf_evalrow *rows;
    size_t n, cap;
} xf_evalset;

/* Tasks and their metrics; the first metric of a task is its primary one
 * (the one transfer scores use by default). */
const char *xf_task_primary_metric(const char *task);   /* NULL if unknown task */
/* 1 if METRIC is reported for TASK. */
int xf_task_has_metric(const char *task, const char *metric);
/* The task METRIC belongs to (each metric belongs to one task), or NULL. */
const char *xf_metric_task(const char *metric);
const char *xf_setting_name(xf_setting s);

/* Reads every row of PATH ("-" = stdin) into SET (appending), then checks
 * the whole set for duplicate keys.  Strings are interned: they live as long
 * as the process. */
void xf_evalset_read(xf_evalset *set, const char *path);
/* Reads the rows of an already opened TSV whose header was checked. */
struct xf_tsv;
void xf_evalset_read_tsv(xf_evalset *set, struct xf_tsv *t);
/* Dies "FILE:LINE: duplicate row (first at FILE:LINE)" on a repeated key. */
void xf_evalset_check_duplicates(const xf_evalset *set);
void xf_evalset_free(xf_evalset *set);

/* 1 if the TSV header is exactly the eval-row header. */
int xf_evalrow_header_matches(const struct xf_tsv *t);

/* The row rules, one validator for the reader and the writer: fields F
 * (as text) make a valid row — words non-empty valid UTF-8 without white
 * space or control characters, known task/setting/metric, integers in
 * range, value a strict decimal (no hex, inf, nan) in [0,100].  Returns 0
 * and fills R (may be NULL; strings point into F), or -1 with the reason
 * in MSG. */
int xf_evalrow_check(const char *const f[XF_EVALROW_NCOLS], xf_evalrow *r, char *msg, size_t msgn);

/* Writing (used by xf-eval): the header line, and one row ("%.4f" value);
 * a row that xf_evalrow_check rejects is a die(), before anything of it is
 * written. */
void xf_evalrow_write_header(xf_zout *z);
void xf_evalrow_write(xf_zout *z, const xf_evalrow *r);

/* Interned string: equal strings share one pointer, so keys compare by
 * pointer.  Lives until exit. */
const char *xf_intern(const char *s);

#endif
