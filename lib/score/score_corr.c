/* score_corr.c — corr (paper Table 21): do two tasks rank the transfer
 * languages alike?  For each pair of tasks (same model and steps), the
 * aggregated transfer of every transfer language is recomputed on the
 * targets the two tasks share, and Spearman's rho (average ranks for ties)
 * is taken over the transfer languages scored in both. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "score.h"
#include "stats.h"
#include "tsv.h"
#include "util.h"

typedef struct {
    size_t i, j;            /* rows of the group */
    const char **tg, **tr;  /* its distinct targets / transfers */
    size_t ntg, ntr;
} unit;

/* Mean ts per transfer (in U's tr order) over targets in COMMON; NaN if none. */
static void agg_on(const xf_tsset *set, const unit *u, const char **common, size_t nc, double *out)
{
    size_t *cnt = xcalloc(u->ntr + 1, sizeof *cnt);
    for (size_t a = 0; a < u->ntr; a++) out[a] = 0;
    for (size_t k = u->i; k < u->j; k++) {
        const xf_tsrow *r = &set->rows[k];
        if (xf_tss_find(common, nc, r->target) < 0) continue;
        long a = xf_tss_find(u->tr, u->ntr, r->transfer);
        out[a] += r->ts;
        cnt[a]++;
    }
    for (size_t a = 0; a < u->ntr; a++) out[a] = cnt[a] ? out[a] / cnt[a] : NAN;
    free(cnt);
}

static const char *const corr_cols[] = {"model", "steps", "task_a", "metric_a", "task_b",
                                        "metric_b", "n_transfer", "n_targets", "rho", "p"};

void xf_score_corr(const xf_tsset *set, const xf_scoreopts *o, xf_zout *z)
{
    (void)o;
    xf_tsv_header(z, corr_cols, sizeof corr_cols / sizeof corr_cols[0]);
    size_t nu = 0;
    unit *u = xcalloc(set->n + 1, sizeof *u);
    for (size_t i = 0; i < set->n;) {
        size_t j = xf_tss_group_end(set, i);
        u[nu].i = i;
        u[nu].j = j;
        u[nu].ntg = xf_tss_distinct(set, i, j, 1, &u[nu].tg);
        u[nu].ntr = xf_tss_distinct(set, i, j, 0, &u[nu].tr);
        nu++;
        i = j;
    }
    /* Groups come sorted by (model, task, metric, steps): pair those with
     * the same model and steps. */
    for (size_t a = 0; a < nu; a++)
        for (size_t b = a + 1; b < nu; b++) {
            const xf_tsrow *ra = &set->rows[u[a].i], *rb = &set->rows[u[b].i];
            if (ra->model != rb->model) break;
            if (ra->steps != rb->steps || ra->task == rb->task) continue;
            const char **common = xmalloc(xmul(u[a].ntg + 1, sizeof *common));
            size_t nc = 0;
            for (size_t t = 0; t < u[a].ntg; t++)
                if (xf_tss_find(u[b].tg, u[b].ntg, u[a].tg[t]) >= 0) common[nc++] = u[a].tg[t];
            double *va = xmalloc(xmul(u[a].ntr + 1, sizeof *va));
            double *vb = xmalloc(xmul(u[b].ntr + 1, sizeof *vb));
            agg_on(set, &u[a], common, nc, va);
            agg_on(set, &u[b], common, nc, vb);
            double *x = xmalloc(xmul(u[a].ntr + 1, sizeof *x)), *y = xmalloc(xmul(u[a].ntr + 1, sizeof *y));
            size_t n = 0;
            for (size_t t = 0; t < u[a].ntr; t++) {
                long k = xf_tss_find(u[b].tr, u[b].ntr, u[a].tr[t]);
                if (k < 0 || isnan(va[t]) || isnan(vb[k])) continue;
                x[n] = va[t];
                y[n++] = vb[k];
            }
            double p, rho = xf_spearman(x, y, n, &p);
            xf_tsv_put(z, ra->model);
            xf_tsv_putf(z, "%ld", ra->steps);
            xf_tsv_put(z, ra->task);
            xf_tsv_put(z, ra->metric);
            xf_tsv_put(z, rb->task);
            xf_tsv_put(z, rb->metric);
            xf_tsv_putf(z, "%zu", n);
            xf_tsv_putf(z, "%zu", nc);
            xf_score_putnum(z, "%.6f", rho);
            xf_score_putnum(z, "%.6g", p);
            xf_tsv_end_row(z);
            free(common);
            free(va);
            free(vb);
            free(x);
            free(y);
        }
    for (size_t a = 0; a < nu; a++) {
        free(u[a].tg);
        free(u[a].tr);
    }
    free(u);
}
