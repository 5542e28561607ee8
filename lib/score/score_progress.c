/* score_progress.c — progress (paper Figure 3b, Figures 9-18): aggregated
 * transfer of each transfer language as the MLM steps k grow, with the
 * targets that gain and lose most at each k. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "score.h"
#include "stats.h"
#include "tsv.h"
#include "util.h"

typedef struct {
    const xf_tsrow *first;   /* model, task, metric, transfer, steps */
    double mean, std;
    size_t n, npos, nneg;
    char *top, *bottom;      /* "tgt:ts,tgt:ts" */
} cell;

static int cmp_cell(const void *pa, const void *pb)
{
    const xf_tsrow *a = ((const cell *)pa)->first, *b = ((const cell *)pb)->first;
    int c;
    if ((c = strcmp(a->model, b->model))) return c;
    if ((c = strcmp(a->task, b->task))) return c;
    if ((c = strcmp(a->metric, b->metric))) return c;
    if ((c = strcmp(a->transfer, b->transfer))) return c;
    return (a->steps > b->steps) - (a->steps < b->steps);
}

static int same_line(const cell *x, const cell *y)
{
    return x->first->model == y->first->model && x->first->task == y->first->task &&
           x->first->metric == y->first->metric && x->first->transfer == y->first->transfer;
}

static int cmp_desc(const void *pa, const void *pb)
{
    const xf_tsrow *a = *(const xf_tsrow *const *)pa, *b = *(const xf_tsrow *const *)pb;
    if (a->ts != b->ts) return a->ts > b->ts ? -1 : 1;
    return strcmp(a->target, b->target);
}

static char *list_targets(const xf_tsrow **r, size_t n, size_t take, int from_end)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) die("out of memory");
    if (take > n) take = n;
    for (size_t k = 0; k < take; k++) {
        const xf_tsrow *x = from_end ? r[n - 1 - k] : r[k];
        fprintf(f, "%s%s:%.4f", k ? "," : "", x->target, x->ts == 0 ? 0.0 : x->ts);
    }
    if (!take) fputs("-", f);
    fclose(f);
    return buf;
}

static const char *const prog_cols[] = {"model", "task", "metric", "transfer", "steps", "ts",
                                        "std", "n_targets", "pos_pct", "neg_pct", "top", "bottom"};

void xf_score_progress(const xf_tsset *set, const xf_scoreopts *o, xf_zout *z, const char *plotpath)
{
    size_t take = o->top > 0 ? (size_t)o->top : 2;
    cell *c = xcalloc(set->n + 1, sizeof *c);
    size_t nc = 0;
    const xf_tsrow **rp = xmalloc(xmul(set->n + 1, sizeof *rp));
    double *v = xmalloc(xmul(set->n + 1, sizeof *v));
    /* Rows are sorted (group, transfer, target): a cell is a run of equal transfer. */
    for (size_t i = 0; i < set->n;) {
        size_t j = i;
        while (j < set->n && xf_tss_same_group(&set->rows[i], &set->rows[j]) &&
               set->rows[j].transfer == set->rows[i].transfer)
            j++;
        cell *x = &c[nc++];
        x->first = &set->rows[i];
        x->n = j - i;
        for (size_t k = i; k < j; k++) {
            v[k - i] = set->rows[k].ts;
            rp[k - i] = &set->rows[k];
            x->npos += v[k - i] > 0;
            x->nneg += v[k - i] < 0;
        }
        x->mean = xf_mean(v, x->n);
        x->std = xf_std(v, x->n);
        xf_score_sort(rp, x->n, sizeof *rp, cmp_desc);
        x->top = list_targets(rp, x->n, take, 0);
        x->bottom = list_targets(rp, x->n, take, 1);
        i = j;
    }
    xf_score_sort(c, nc, sizeof *c, cmp_cell);
    xf_tsv_header(z, prog_cols, sizeof prog_cols / sizeof prog_cols[0]);
    for (size_t k = 0; k < nc; k++) {
        const xf_tsrow *f = c[k].first;
        xf_tsv_put(z, f->model);
        xf_tsv_put(z, f->task);
        xf_tsv_put(z, f->metric);
        xf_tsv_put(z, f->transfer);
        xf_tsv_putf(z, "%ld", f->steps);
        xf_score_putnum(z, "%.4f", c[k].mean);
        xf_score_putnum(z, "%.4f", c[k].std);
        xf_tsv_putf(z, "%zu", c[k].n);
        xf_score_putnum(z, "%.2f", 100.0 * c[k].npos / c[k].n);
        xf_score_putnum(z, "%.2f", 100.0 * c[k].nneg / c[k].n);
        xf_tsv_put(z, c[k].top);
        xf_tsv_put(z, c[k].bottom);
        xf_tsv_end_row(z);
    }
    if (plotpath) {
        size_t np = 0;
        for (size_t k = 0; k < nc; k++) np += !k || !same_line(&c[k - 1], &c[k]);
        int cols = np <= 1 ? 1 : np <= 4 ? 2 : np <= 9 ? 3 : 4;
        int rows = np ? (int)((np + cols - 1) / cols) : 1;
        xf_plot *p = xf_plot_open(plotpath, 520 * cols, 90 + 400 * rows);
        xf_plot_printf(p, "set multiplot layout %d,%d title \"Aggregated transfer through MLM "
                          "steps (mean +/- std over targets; labels: best / worst target)\" "
                          "font ',14'\n", rows, cols);
        xf_plot_printf(p, "set logscale x\nset grid\nset key off\nset xzeroaxis lt -1\n"
                          "set xlabel 'MLM steps k'\nset ylabel 'aggregated ts (%%)'\n"
                          "set offsets graph 0.1, graph 0.1, graph 0.15, graph 0.15\n");
        for (size_t k = 0, pi = 0; k < nc; pi++) {
            size_t e = k;
            while (e < nc && same_line(&c[k], &c[e])) e++;
            xf_plot_printf(p, "$P%zu << EOD\n", pi);
            for (size_t m = k; m < e; m++) {
                /* Best / worst target names only (the part before ':'). */
                char best[64], worst[64];
                snprintf(best, sizeof best, "%.*s", (int)strcspn(c[m].top, ":,"), c[m].top);
                snprintf(worst, sizeof worst, "%.*s", (int)strcspn(c[m].bottom, ":,"), c[m].bottom);
                xf_plot_printf(p, "%ld %.6f %.6f %s %s\n", c[m].first->steps, c[m].mean,
                               isnan(c[m].std) ? 0.0 : c[m].std, best, worst);
            }
            char title[512];
            snprintf(title, sizeof title, "%s: %s %s (%s)", c[k].first->transfer,
                     c[k].first->model, c[k].first->task, c[k].first->metric);
            xf_plot_printf(p, "EOD\nset title ");
            xf_plot_quote(p, title);
            xf_plot_printf(p, " noenhanced\nplot $P%zu using 1:2:3 with yerrorlines lw 2 pt 7 "
                              "lc rgb '#3b6ea8', '' using 1:($2+$3):4 with labels offset 0,1 "
                              "font ',9' tc rgb '#1e8449' noenhanced, '' using 1:($2-$3):5 "
                              "with labels offset 0,-1 font ',9' tc rgb '#c0392b' noenhanced\n",
                           pi);
            k = e;
        }
        if (!np) xf_plot_printf(p, "set title 'no transfer scores'\nunset logscale x\nplot [0:1] 0\n");
        xf_plot_printf(p, "unset multiplot\n");
        xf_plot_render(p);
    }
    for (size_t k = 0; k < nc; k++) {
        free(c[k].top);
        free(c[k].bottom);
    }
    free(c);
    free(rp);
    free(v);
}
