/* project.h — language interference and its 2-D projection (xf-project(1);
 * paper section 2 "Negative Interference", Table 1, Figure 4, appendix F),
 * and the Figure 2 style summary of the language-adapter settings.
 *
 * Input: eval rows (evalrow.h) with setting=lang.  A row's adapters column
 * lists the fused language adapters ("eng", "eng+hin", "eng+hin+zho"); its
 * target is the language evaluated.  Per (model, task, metric), with the
 * metric chosen per task as in xf-score (xf_tss_metric):
 *   [A]     score of the row adapters=A, target=A (the monolingual baseline)
 *   [S]     score of language A in the combination S (A in S): the row whose
 *           adapters are the languages of S in any fusion order, target A
 *   d(A,S) = [S] on A - [A]; its sign: + if d > eps, - if d < -eps, a tie
 *           otherwise (eps = --tie-eps, default 0: only exact equality ties)
 * Bilingual (2A), per language A and each pair S = {A, B} of languages that
 * have a baseline: count[sA sB] += 1 with sA, sB the signs of d(A,S), d(B,S)
 * (order mm mp pm pp, m = -, p = +: |-A,-B| |-A,+B| |+A,-B| |+A,+B|).
 * Trilingual (3A), each triple S = {A, B, C}: A's two partners play B and
 * C in turn, so one triple adds 1 to two of the 8 counts count[sA sB sC]
 * (order mmm mmp mpm mpp pmm pmp ppm ppp); the 8 counts sum to 2n.
 * A combination is counted as a tie (not as any side) when any of its
 * languages ties, and as missing when a row it needs is absent (a pair or
 * triple of baseline languages never evaluated, or evaluated on only some of
 * its languages).  A setting is reported only for groups that have rows of
 * it.
 * Projection (appendix F): with q = [-1,-1], [-1,1], [1,-1], [1,1] for
 * mm, mp, pm, pp and C = their sum, (x, y) = (1/C) * sum count * q; NaN
 * when C = 0.  2A: from the 4 counts.  3A: (x, y) from the 4 (A, B) counts
 * summed over C's sign, and one point per half, (x_cneg, y_cneg) from
 * count[.. m] and (x_cpos, y_cpos) from count[.. p] (Figure 4 (2) colours by
 * C).  x is the interference A receives, y the interference it gives.
 *
 * Bad input is a die("FILE:LINE: ...") naming the row: a combination with a
 * language that has no [A] baseline row, an adapter listed twice, one
 * language set given in two fusion orders for the same target.
 * Output order never depends on input order.
 */
#ifndef XF_PROJECT_H
#define XF_PROJECT_H

#include <stddef.h>

#include "evalrow.h"
#include "score.h"
#include "zio.h"

typedef struct xf_projrow {
    const char *model, *task, *metric, *lang;   /* interned */
    int setting;              /* 2 (bilingual) or 3 (trilingual) */
    long cnt2[4];             /* (A, B) signs mm mp pm pp; 3A: summed over C */
    long cnt3[8];             /* 3A only: mmm .. ppp */
    double x, y;              /* projection of cnt2 */
    double xc[2], yc[2];      /* 3A only: [0] = C negative half, [1] = C positive */
    long n;                   /* combinations counted (not ties, not missing) */
    long ties, missing;
} xf_projrow;

typedef struct xf_projopts {
    const xf_tsopts *to;      /* metric choice per task (metrics, nmetrics) */
    double tie_eps;           /* |d| <= tie_eps is a tie */
} xf_projopts;

/* Appendix F: (x, y) from the counts mm mp pm pp; NaN, NaN when they sum to 0. */
void xf_project_point(const long cnt[4], double *x, double *y);

/* The table: rows sorted by (model, task, metric, setting, language);
 * returns their number, *out is malloc'd. */
size_t xf_project_compute(const xf_evalset *set, const xf_projopts *o, xf_projrow **out);

extern const char *const xf_project_cols[];
extern const size_t xf_project_ncols;
void xf_project_write(xf_zout *z, const xf_projrow *r, size_t n);
/* Figure 4: one row of panels per (model, task, metric), bilingual left,
 * trilingual right (C's sign by colour), languages labelled, quadrant
 * lines at 0. */
void xf_project_plot(const xf_projrow *r, size_t n, const char *path);

/* Summary (Figure 2 style), per (model, task, metric, NA), N = 1, 2, 3:
 * for each language L with a base row (setting=base, target L) and lang
 * rows of N adapters including L evaluated on L, d_L = mean of those
 * scores - base.  Row: n_langs, n_improved (d_L > 0), pct_improved,
 * mean_diff = mean d_L, mean_rel_pct = mean d_L / base * 100 (bases of 0
 * left out of this mean), n_rows.  Languages without a base row are left
 * out with a warning.  PLOT (or NULL): bars of mean_rel_pct per task. */
extern const char *const xf_project_sum_cols[];
extern const size_t xf_project_sum_ncols;
void xf_project_summary(const xf_evalset *set, const xf_tsopts *to, xf_zout *z, const char *plot);

#endif
