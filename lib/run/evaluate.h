/* evaluate.h — forward-only evaluation of a task model (taskmodel.h) on an
 * example stream, with the metrics of metrics.h.
 *
 * Speed: examples are sorted by length and batched so that no batch wastes
 * more than its longest row (B ≤ batch, B·T ≤ max_tokens); forward only, no
 * dropout.  Results do not depend on the batch layout beyond float rounding.
 *
 * Metrics by task: pos upos_acc; dep uas, las; ner ner_f1; nli acc; qa em,
 * qa_f1 (windows of one question are combined: best span over all windows,
 * n-best 20, max answer length 30, mapped back to the context by offsets).
 * dep examples of a sentence split across rows (heads -1) are skipped (a
 * warning gives the count).
 */
#ifndef XF_EVALUATE_H
#define XF_EVALUATE_H

#include <stddef.h>

#include "examples.h"
#include "metrics.h"
#include "taskmodel.h"

typedef struct xf_eval_opts {
    int batch;            /* examples per forward (32) */
    long max_tokens;      /* B·T per forward (16384) */
    int decode;           /* XF_DECODE_GREEDY | XF_DECODE_MST (dep) */
} xf_eval_opts;

xf_eval_opts xf_eval_defaults(void);

#define XF_EVAL_MAX_METRICS 2
typedef struct xf_eval_result {
    int n;
    const char *metric[XF_EVAL_MAX_METRICS];
    xf_metric value[XF_EVAL_MAX_METRICS];
    double tokens, seconds;
} xf_eval_result;

/* Evaluates M on EX[0..n) (all of M's task, with gold).  Dies on examples
 * without gold. */
xf_eval_result xf_evaluate(xf_taskmodel *m, const xf_example *ex, size_t n,
                           const xf_eval_opts *o);

#endif
