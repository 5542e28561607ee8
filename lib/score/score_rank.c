/* score_rank.c — rank (paper Table 3) and variance (Table 5 / Table 22).
 *
 * Within a (model, task, metric, steps) group, the aggregated transfer of a
 * transfer language is the mean of its ts over the targets it was scored on
 * (paper appendix H); % positive counts targets with ts > 0.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "score.h"
#include "stats.h"
#include "tsv.h"
#include "util.h"

typedef struct {
    const char *transfer;
    double mean, var;
    size_t n, npos;
    long nmax, nmin;
} agg;

/* One agg per transfer language of group [i, j) (rows sorted by transfer). */
static size_t aggregate(const xf_tsset *set, size_t i, size_t j, agg **out)
{
    agg *a = xcalloc(j - i + 1, sizeof *a);
    double *v = xmalloc(xmul(j - i + 1, sizeof *v));
    size_t na = 0;
    for (size_t k = i; k < j;) {
        size_t m = k;
        while (m < j && set->rows[m].transfer == set->rows[k].transfer) m++;
        agg *g = &a[na++];
        g->transfer = set->rows[k].transfer;
        g->n = m - k;
        for (size_t r = k; r < m; r++) {
            v[r - k] = set->rows[r].ts;
            if (v[r - k] > 0) g->npos++;
        }
        g->mean = xf_mean(v, g->n);
        g->var = xf_var(v, g->n);
        k = m;
    }
    free(v);
    *out = a;
    return na;
}

static int cmp_by_mean(const void *pa, const void *pb)
{
    const agg *a = pa, *b = pb;
    if (a->mean != b->mean) return a->mean > b->mean ? -1 : 1;
    return strcmp(a->transfer, b->transfer);
}

/* NaN variance (one target) sorts last. */
static int cmp_by_var(const void *pa, const void *pb)
{
    const agg *a = pa, *b = pb;
    int an = isnan(a->var), bn = isnan(b->var);
    if (an != bn) return an - bn;
    if (!an && a->var != b->var) return a->var > b->var ? -1 : 1;
    return strcmp(a->transfer, b->transfer);
}

static const char *const rank_cols[] = {"model", "task", "metric", "steps", "rank",
                                        "transfer", "ts", "n_targets", "pos_pct"};

void xf_score_rank(const xf_tsset *set, const xf_scoreopts *o, xf_zout *z, const char *plotpath)
{
    xf_tsv_header(z, rank_cols, sizeof rank_cols / sizeof rank_cols[0]);
    size_t ngroups = 0;
    for (size_t i = 0; i < set->n; i = xf_tss_group_end(set, i)) ngroups++;
    xf_plot *p = NULL;
    if (plotpath) {
        p = xf_plot_open(plotpath, 1000, 120 + 330 * (int)(ngroups ? ngroups : 1));
        xf_plot_printf(p, "set multiplot layout %zu,1 title \"Transfer languages ranked by "
                          "aggregated transfer (mean ts over targets)\" font ',14'\n",
                       ngroups ? ngroups : 1);
        xf_plot_printf(p, "set style fill solid 0.8 border -1\nset boxwidth 0.7\nset grid ytics\n"
                          "set xtics rotate by -60 noenhanced\nset key off\nset xzeroaxis lt -1\n"
                          "set xlabel 'transfer language (by rank)'\n"
                          "set ylabel 'aggregated transfer score ts (%%)'\n");
    }
    size_t gi = 0;
    for (size_t i = 0; i < set->n; gi++) {
        size_t j = xf_tss_group_end(set, i);
        agg *a;
        size_t na = aggregate(set, i, j, &a);
        xf_score_sort(a, na, sizeof *a, cmp_by_mean);
        size_t shown = o->top > 0 && (size_t)o->top < na ? (size_t)o->top : na;
        for (size_t k = 0; k < shown; k++) {
            xf_tss_put_group(z, &set->rows[i]);
            xf_tsv_putf(z, "%zu", k + 1);
            xf_tsv_put(z, a[k].transfer);
            xf_score_putnum(z, "%.4f", a[k].mean);
            xf_tsv_putf(z, "%zu", a[k].n);
            xf_score_putnum(z, "%.2f", 100.0 * a[k].npos / a[k].n);
            xf_tsv_end_row(z);
        }
        if (p) {
            const xf_tsrow *r = &set->rows[i];
            xf_plot_printf(p, "$G%zu << EOD\n", gi);
            for (size_t k = 0; k < shown; k++)
                xf_plot_printf(p, "%zu %s %.6f\n", k + 1, a[k].transfer, a[k].mean);
            xf_plot_printf(p, "EOD\nset title ");
            char title[512];
            snprintf(title, sizeof title, "%s, %s (%s), %ld steps", r->model, r->task, r->metric,
                     r->steps);
            xf_plot_quote(p, title);
            xf_plot_printf(p, " noenhanced\nset xrange [0.3:%zu.7]\n"
                              "plot $G%zu using 1:3:xtic(2) with boxes lc rgb '#3b6ea8'\n",
                           shown, gi);
        }
        free(a);
        i = j;
    }
    if (p) {
        if (!ngroups)
            xf_plot_printf(p, "set title 'no transfer scores'\nplot [0:1] 0 notitle\n");
        xf_plot_printf(p, "unset multiplot\n");
        xf_plot_render(p);
    }
}

static const char *const var_cols[] = {"model", "task", "metric", "steps", "rank", "transfer",
                                       "ts", "variance", "n_max", "n_min", "category",
                                       "n_targets"};

void xf_score_variance(const xf_tsset *set, const xf_scoreopts *o, xf_zout *z)
{
    xf_tsv_header(z, var_cols, sizeof var_cols / sizeof var_cols[0]);
    for (size_t i = 0; i < set->n;) {
        size_t j = xf_tss_group_end(set, i);
        agg *a;
        size_t na = aggregate(set, i, j, &a);   /* sorted by transfer name */
        const char **tr, **tg;
        size_t ntr = xf_tss_distinct(set, i, j, 0, &tr);
        size_t ntg = xf_tss_distinct(set, i, j, 1, &tg);
        /* Per target: the best and worst ts over transfer languages. */
        double *best = xmalloc(xmul(ntg, sizeof *best)), *worst = xmalloc(xmul(ntg, sizeof *worst));
        size_t *cnt = xcalloc(ntg, sizeof *cnt);
        for (size_t t = 0; t < ntg; t++) best[t] = -INFINITY, worst[t] = INFINITY;
        for (size_t k = i; k < j; k++) {
            long t = xf_tss_find(tg, ntg, set->rows[k].target);
            cnt[t]++;
            if (set->rows[k].ts > best[t]) best[t] = set->rows[k].ts;
            if (set->rows[k].ts < worst[t]) worst[t] = set->rows[k].ts;
        }
        /* Targets scored from a single transfer language compare nothing. */
        size_t ncompared = 0;
        for (size_t t = 0; t < ntg; t++) ncompared += cnt[t] >= 2;
        for (size_t k = i; k < j; k++) {
            long t = xf_tss_find(tg, ntg, set->rows[k].target);
            if (cnt[t] < 2) continue;
            long ai = xf_tss_find(tr, ntr, set->rows[k].transfer);   /* a[] is in tr[] order */
            if (set->rows[k].ts == best[t]) a[ai].nmax++;
            if (set->rows[k].ts == worst[t]) a[ai].nmin++;
        }
        double need = o->extreme_share * (double)ncompared;
        xf_score_sort(a, na, sizeof *a, cmp_by_var);
        for (size_t k = 0; k < na; k++) {
            int plus = ncompared && a[k].nmax >= need && a[k].nmax > 0;
            int minus = ncompared && a[k].nmin >= need && a[k].nmin > 0;
            xf_tss_put_group(z, &set->rows[i]);
            xf_tsv_putf(z, "%zu", k + 1);
            xf_tsv_put(z, a[k].transfer);
            xf_score_putnum(z, "%.4f", a[k].mean);
            xf_score_putnum(z, "%.4f", a[k].var);
            xf_tsv_putf(z, "%ld", a[k].nmax);
            xf_tsv_putf(z, "%ld", a[k].nmin);
            xf_tsv_put(z, plus && minus ? "+and-" : plus ? "+" : minus ? "-" : "neutral");
            xf_tsv_putf(z, "%zu", a[k].n);
            xf_tsv_end_row(z);
        }
        free(best);
        free(worst);
        free(cnt);
        free(tr);
        free(tg);
        free(a);
        i = j;
    }
}
