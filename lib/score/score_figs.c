/* score_figs.c — the paper's figures that have no table of their own:
 *
 *   variance --plot   Figure 7: ts over targets per transfer language as
 *                     box plots (quartiles, median, whiskers at min/max, every
 *                     ts as a dot), sorted by variance as the table;
 *   targets  --plot   Figure 3a / 5: the recipient transfer map (bins of the
 *                     share of transfer languages with ts > 0: never, (0,10],
 *                     ..., (90,100), universal; each target named in its bin,
 *                     bubble area = share of targets in the bin) above the
 *                     per-target bars;
 *   seen     --plot   Figure 8: the transfer x target heatmap of ts, rows and
 *                     columns seen first, then unseen (by family with
 *                     --by-family), separated by lines;
 *   corr     --plot   Figure 6: commonality of the top transfer languages
 *                     across tasks (per model and steps: the top N of each
 *                     task, one column per task, rank in the dot).
 *
 * Unseen languages are drawn in red and marked '*' when a languages file
 * is readable (--languages, or $XF_DATA/languages.tsv); the seen column is
 * chosen by --seen-by as for `seen`.  Each figure is one gnuplot script
 * with inline data (plot.h): a failed plot leaves no file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "score.h"
#include "stats.h"
#include "util.h"

#define RED "#c0392b"
#define BLUE "#3b6ea8"

static size_t count_groups(const xf_tsset *set)
{
    size_t n = 0;
    for (size_t i = 0; i < set->n; i = xf_tss_group_end(set, i)) n++;
    return n;
}

static void group_title(char *buf, size_t n, const xf_tsrow *g, const char *what)
{
    snprintf(buf, n, "%s, %s (%s), %ld steps%s", g->model, g->task, g->metric, g->steps, what);
}

/* 1 = unseen, 0 = seen, -1 = not known (no file, or not listed). */
static int unseen(const xf_langmeta *m, const char *lang)
{
    const xf_langinfo *p = xf_langmeta_find(m, lang);
    return p ? !p->seen : -1;
}

static const char *mark(const xf_langmeta *m, const char *lang)
{
    return unseen(m, lang) == 1 ? "*" : "";
}

static void no_data(xf_plot *p)
{
    xf_plot_printf(p, "set title 'no transfer scores'\nunset logscale\nplot [0:1] 0 notitle\n");
}

/* ---- Figure 7: distribution of ts per transfer language ---- */
typedef struct {
    const char *transfer;
    double *v;       /* sorted ts over targets */
    size_t n;
    double var;
} dist;

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_dist(const void *pa, const void *pb)
{
    const dist *a = pa, *b = pb;
    int an = isnan(a->var), bn = isnan(b->var);
    if (an != bn) return an - bn;
    if (!an && a->var != b->var) return a->var > b->var ? -1 : 1;
    return strcmp(a->transfer, b->transfer);
}

void xf_fig_variance(const xf_tsset *set, const xf_scoreopts *o, const char *path)
{
    size_t ngroups = count_groups(set), maxtr = 1;
    for (size_t i = 0; i < set->n; i = xf_tss_group_end(set, i)) {
        const char **tr;
        size_t n = xf_tss_distinct(set, i, xf_tss_group_end(set, i), 0, &tr);
        free(tr);
        if (n > maxtr) maxtr = n;
    }
    int width = 160 + 26 * (int)maxtr;
    xf_plot *p = xf_plot_open(path, width < 900 ? 900 : width, 100 + 380 * (int)(ngroups ? ngroups : 1));
    xf_plot_printf(p, "set multiplot layout %zu,1 title \"Transfer scores over targets per transfer "
                      "language, sorted by variance\\n(box: quartiles and median; whiskers: min/max; "
                      "dots: targets; red*: unseen)\" font ',13'\n", ngroups ? ngroups : 1);
    xf_plot_printf(p, "set grid ytics\nset key off\nset xzeroaxis lt -1\nset boxwidth 0.6\n"
                      "set style fill solid 0.35 border -1\n"
                      "set xtics rotate by -60 font ',9' noenhanced\n"
                      "set xlabel 'transfer language (by variance of ts over targets)'\n"
                      "set ylabel 'ts (%%)'\n");
    size_t gi = 0;
    for (size_t i = 0; i < set->n; gi++) {
        size_t j = xf_tss_group_end(set, i);
        xf_langmeta lm;
        xf_langmeta_for_plot(&lm, o, set->rows[i].model);
        dist *d = xcalloc(j - i + 1, sizeof *d);
        double *pool = xmalloc(xmul(j - i + 1, sizeof *pool));
        size_t nd = 0;
        for (size_t k = i; k < j;) {   /* rows are sorted by transfer within a group */
            size_t m = k;
            while (m < j && set->rows[m].transfer == set->rows[k].transfer) m++;
            dist *x = &d[nd++];
            x->transfer = set->rows[k].transfer;
            x->v = pool + (k - i);
            x->n = m - k;
            for (size_t r = k; r < m; r++) x->v[r - k] = set->rows[r].ts;
            x->var = xf_var(x->v, x->n);
            xf_score_sort(x->v, x->n, sizeof *x->v, cmp_dbl);
            k = m;
        }
        xf_score_sort(d, nd, sizeof *d, cmp_dist);
        /* $B: x q1 min max q3 median colour label; $P: x ts colour */
        xf_plot_printf(p, "$B%zu << EOD\n", gi);
        for (size_t k = 0; k < nd; k++)
            xf_plot_printf(p, "%zu %.6f %.6f %.6f %.6f %.6f %d %s%s\n", k + 1,
                           xf_quantile_sorted(d[k].v, d[k].n, 0.25), d[k].v[0], d[k].v[d[k].n - 1],
                           xf_quantile_sorted(d[k].v, d[k].n, 0.75),
                           xf_quantile_sorted(d[k].v, d[k].n, 0.5),
                           unseen(&lm, d[k].transfer) == 1 ? 0xc0392b : 0x3b6ea8, d[k].transfer,
                           mark(&lm, d[k].transfer));
        xf_plot_printf(p, "EOD\n$P%zu << EOD\n", gi);
        for (size_t k = 0; k < nd; k++)
            for (size_t r = 0; r < d[k].n; r++) xf_plot_printf(p, "%zu %.6f\n", k + 1, d[k].v[r]);
        char title[512];
        group_title(title, sizeof title, &set->rows[i], "");
        xf_plot_printf(p, "EOD\nset title ");
        xf_plot_quote(p, title);
        xf_plot_printf(p, " noenhanced\nset xrange [0.3:%zu.7]\n"
                          "plot $B%zu using 1:2:3:4:5:7:xtic(8) with candlesticks lc rgb variable "
                          "whiskerbars 0.5, '' using 1:6:6:6:6 with candlesticks lt -1 lw 2, "
                          "$P%zu using 1:2 with points pt 7 ps 0.35 lc rgb '#555555'\n",
                       nd, gi, gi);
        free(pool);
        free(d);
        xf_langmeta_free(&lm);
        i = j;
    }
    if (!ngroups) no_data(p);
    xf_plot_printf(p, "unset multiplot\n");
    xf_plot_render(p);
}

/* ---- Figure 3a / 5: the recipient transfer map ---- */
enum { NBINS = 12 };
static const char *const bin_names[NBINS] = {
    "never (0%)", "(0,10]", "(10,20]", "(20,30]", "(30,40]", "(40,50]",
    "(50,60]", "(60,70]", "(70,80]", "(80,90]", "(90,100)", "universal (100%)"};

/* Bin of a share of positive transfer POS of N. */
int xf_recipient_bin(size_t pos, size_t n)
{
    if (pos == 0) return 0;
    if (pos == n) return NBINS - 1;
    double pct = 100.0 * (double)pos / (double)n;
    int b = (int)ceil(pct / 10.0 - 1e-9);   /* (0,10] -> 1, ..., (90,100) -> 10 */
    return b < 1 ? 1 : b > NBINS - 2 ? NBINS - 2 : b;
}

const char *xf_recipient_bin_name(int b) { return bin_names[b]; }

typedef struct {
    const char *target;
    size_t n, npos;
} rcv;

static int cmp_rcv(const void *pa, const void *pb)
{
    const rcv *a = pa, *b = pb;
    return strcmp(a->target, b->target);
}

void xf_fig_recipients(const xf_tsset *set, const xf_scoreopts *o, const char *path)
{
    size_t ngroups = count_groups(set), tallest = 1;
    /* Height: the fullest bin of any group. */
    for (size_t i = 0; i < set->n; i = xf_tss_group_end(set, i)) {
        size_t j = xf_tss_group_end(set, i);
        const char **tg;
        size_t ntg = xf_tss_distinct(set, i, j, 1, &tg);
        size_t per[NBINS] = {0};
        size_t *pos = xcalloc(ntg + 1, sizeof *pos), *cnt = xcalloc(ntg + 1, sizeof *cnt);
        for (size_t k = i; k < j; k++) {
            long t = xf_tss_find(tg, ntg, set->rows[k].target);
            cnt[t]++;
            pos[t] += set->rows[k].ts > 0;
        }
        for (size_t t = 0; t < ntg; t++) per[xf_recipient_bin(pos[t], cnt[t])]++;
        for (int b = 0; b < NBINS; b++)
            if (per[b] > tallest) tallest = per[b];
        free(pos);
        free(cnt);
        free(tg);
    }
    int h = 190 + 15 * (int)tallest;
    xf_plot *p = xf_plot_open(path, 1300, 80 + h * (int)(ngroups ? ngroups : 1));
    xf_plot_printf(p, "set multiplot layout %zu,1 title \"Recipient transfer map: target languages "
                      "binned by the share of transfer languages giving positive transfer\\n"
                      "(bubble area and number: targets in the bin; red*: unseen)\" font ',13'\n",
                   ngroups ? ngroups : 1);
    xf_plot_printf(p, "set key off\nunset ytics\nset grid xtics\nset style fill solid 0.5 border -1\n"
                      "set xlabel '%% of transfer languages with ts > 0'\nset xtics (");
    for (int b = 0; b < NBINS; b++) {   /* tic labels are formats: %% for % */
        char lab[64];
        size_t n = 0;
        for (const char *c = bin_names[b]; *c && n + 2 < sizeof lab; c++) {
            if (*c == '%') lab[n++] = '%';
            lab[n++] = *c;
        }
        lab[n] = 0;
        xf_plot_quote(p, lab);
        xf_plot_printf(p, " %d%s", b, b + 1 < NBINS ? ", " : ")\n");
    }
    xf_plot_printf(p, "set xtics font ',9' noenhanced\nset xrange [-0.6:%d.6]\n", NBINS - 1);
    size_t gi = 0;
    for (size_t i = 0; i < set->n; gi++) {
        size_t j = xf_tss_group_end(set, i);
        xf_langmeta lm;
        xf_langmeta_for_plot(&lm, o, set->rows[i].model);
        const char **tg;
        size_t ntg = xf_tss_distinct(set, i, j, 1, &tg);
        rcv *r = xcalloc(ntg + 1, sizeof *r);
        for (size_t t = 0; t < ntg; t++) r[t].target = tg[t];
        for (size_t k = i; k < j; k++) {
            rcv *x = &r[xf_tss_find(tg, ntg, set->rows[k].target)];
            x->n++;
            x->npos += set->rows[k].ts > 0;
        }
        xf_score_sort(r, ntg, sizeof *r, cmp_rcv);
        size_t per[NBINS] = {0};
        /* $L: bin row label colour; $C: bin y radius */
        xf_plot_printf(p, "$L%zu << EOD\n", gi);
        for (size_t t = 0; t < ntg; t++) {
            int b = xf_recipient_bin(r[t].npos, r[t].n);
            xf_plot_printf(p, "%d %zu %s%s %d\n", b, per[b]++ + 1, r[t].target, mark(&lm, r[t].target),
                           unseen(&lm, r[t].target) == 1 ? 0xc0392b : 0x222222);
        }
        xf_plot_printf(p, "EOD\n$C%zu << EOD\n", gi);
        for (int b = 0; b < NBINS; b++)
            if (per[b])
                xf_plot_printf(p, "%d -1.2 %.4f %zu\n", b, 0.45 * sqrt((double)per[b] / (double)ntg),
                               per[b]);
        char title[512];
        group_title(title, sizeof title, &set->rows[i], "");
        xf_plot_printf(p, "EOD\nset title ");
        xf_plot_quote(p, title);
        xf_plot_printf(p, " noenhanced\nset yrange [-2.6:%zu.8]\n"
                          "plot $C%zu using 1:2:3 with circles lc rgb '#e6b800', "
                          "'' using 1:2:(sprintf('%%d', int($4))) with labels font ',8', "
                          "$L%zu using 1:2:3:4 with labels tc rgb variable font ',9' noenhanced\n",
                       tallest, gi, gi);
        free(r);
        free(tg);
        xf_langmeta_free(&lm);
        i = j;
    }
    if (!ngroups) no_data(p);
    xf_plot_printf(p, "unset multiplot\n");
    xf_plot_render(p);
}

/* ---- Figure 8: transfer x target heatmap ---- */
typedef struct {
    const char *iso;
    int unseen;            /* 1, 0, or -1 (not known: after the seen ones) */
    const char *family;
} axis_lang;

static int by_family;   /* cmp_axis's mode */

static int cmp_axis(const void *pa, const void *pb)
{
    const axis_lang *a = pa, *b = pb;
    int ua = a->unseen == 1, ub = b->unseen == 1;
    if (ua != ub) return ua - ub;
    int c;
    if (by_family && (c = strcmp(a->family, b->family))) return c;
    return strcmp(a->iso, b->iso);
}

static axis_lang *axis(const char **names, size_t n, const xf_langmeta *lm, int family)
{
    axis_lang *a = xcalloc(n + 1, sizeof *a);
    for (size_t k = 0; k < n; k++) {
        const xf_langinfo *li = xf_langmeta_find(lm, names[k]);
        a[k].iso = names[k];
        a[k].unseen = li ? !li->seen : -1;
        a[k].family = li ? li->family : "-";
    }
    by_family = family;
    xf_score_sort(a, n, sizeof *a, cmp_axis);
    return a;
}

static size_t first_unseen(const axis_lang *a, size_t n)
{
    size_t k = 0;
    while (k < n && a[k].unseen != 1) k++;
    return k;
}

static void axis_tics(xf_plot *p, const char *which, const axis_lang *a, size_t n)
{
    if (!n) return;
    xf_plot_printf(p, "set %stics (", which);
    for (size_t k = 0; k < n; k++) {
        char lab[160];
        snprintf(lab, sizeof lab, "%s%s", a[k].iso, a[k].unseen == 1 ? "*" : "");
        xf_plot_quote(p, lab);
        xf_plot_printf(p, " %zu%s", k, k + 1 < n ? ", " : ")");
    }
    xf_plot_printf(p, " font ',8' noenhanced\n");
}

/* --by-family: the family of each run of languages (same block, same
 * family) named on the opposite axis (x2 above, y2 right) at the run's
 * centre, with a dashed rule between runs inside a block.  Y: the axis is
 * y (rules across the rows), else x. */
static void family_tics(xf_plot *p, const axis_lang *a, size_t n, int y)
{
    const char *ax = y ? "y2" : "x2";
    if (!n) {
        xf_plot_printf(p, "unset %stics\n", ax);
        return;
    }
    xf_plot_printf(p, "set %stics (", ax);
    for (size_t s = 0; s < n;) {
        size_t e = s + 1;
        while (e < n && (a[e].unseen == 1) == (a[s].unseen == 1) && !strcmp(a[e].family, a[s].family))
            e++;
        xf_plot_quote(p, a[s].family);
        xf_plot_printf(p, " %.1f%s", (double)(s + e - 1) / 2, e < n ? ", " : ")");
        s = e;
    }
    xf_plot_printf(p, " scale 0 font ',8' textcolor rgb '#555555' noenhanced%s\n",
                   y ? "" : " rotate by 60 left");
    for (size_t k = 1; k < n; k++)
        if ((a[k].unseen == 1) == (a[k - 1].unseen == 1) && strcmp(a[k].family, a[k - 1].family)) {
            if (y)
                xf_plot_printf(p, "set arrow from graph 0,first %zu.5-1 to graph 1,first %zu.5-1 "
                                  "nohead dt 2 lw 1 front\n", k, k);
            else
                xf_plot_printf(p, "set arrow from %zu.5-1,graph 0 to %zu.5-1,graph 1 nohead dt 2 lw 1 front\n",
                               k, k);
        }
}

void xf_fig_heatmap(const xf_tsset *set, const xf_scoreopts *o, const char *path)
{
    size_t ngroups = count_groups(set), maxtr = 1, maxtg = 1;
    for (size_t i = 0; i < set->n; i = xf_tss_group_end(set, i)) {
        const char **l;
        size_t j = xf_tss_group_end(set, i), n;
        n = xf_tss_distinct(set, i, j, 0, &l);
        free(l);
        if (n > maxtr) maxtr = n;
        n = xf_tss_distinct(set, i, j, 1, &l);
        free(l);
        if (n > maxtg) maxtg = n;
    }
    int w = 260 + 16 * (int)maxtg, h = 200 + 16 * (int)maxtr;
    xf_plot *p = xf_plot_open(path, w < 800 ? 800 : w, 60 + (h < 420 ? 420 : h) * (int)(ngroups ? ngroups : 1));
    xf_plot_printf(p, "set multiplot layout %zu,1 title \"Transfer x target heatmap of ts "
                      "(seen languages first, then unseen*%s)\" font ',13'\n",
                   ngroups ? ngroups : 1, o->by_family ? ", by family" : "");
    xf_plot_printf(p, "set key off\nset xlabel 'target language'\nset ylabel 'transfer language'\n"
                      "set xtics rotate by -60\nset palette defined (-1 '" RED "', 0 '#f7f7f7', "
                      "1 '#1e8449')\nset cblabel 'ts (%%)'\nset size ratio -1\n");
    size_t gi = 0;
    for (size_t i = 0; i < set->n; gi++) {
        size_t j = xf_tss_group_end(set, i);
        xf_langmeta lm;
        xf_langmeta_for_plot(&lm, o, set->rows[i].model);
        const char **tr, **tg;
        size_t ntr = xf_tss_distinct(set, i, j, 0, &tr), ntg = xf_tss_distinct(set, i, j, 1, &tg);
        axis_lang *ar = axis(tr, ntr, &lm, o->by_family), *ag = axis(tg, ntg, &lm, o->by_family);
        /* position of each sorted-name index on the axes */
        size_t *ytr = xmalloc(xmul(ntr + 1, sizeof *ytr)), *xtg = xmalloc(xmul(ntg + 1, sizeof *xtg));
        for (size_t k = 0; k < ntr; k++) ytr[xf_tss_find(tr, ntr, ar[k].iso)] = k;
        for (size_t k = 0; k < ntg; k++) xtg[xf_tss_find(tg, ntg, ag[k].iso)] = k;
        double *cell = xmalloc(xmul(xmul(ntr, ntg) + 1, sizeof *cell)), amax = 0;
        for (size_t k = 0; k < ntr * ntg; k++) cell[k] = NAN;
        for (size_t k = i; k < j; k++) {
            const xf_tsrow *r = &set->rows[k];
            size_t y = ytr[xf_tss_find(tr, ntr, r->transfer)], x = xtg[xf_tss_find(tg, ntg, r->target)];
            cell[y * ntg + x] = r->ts;
            if (fabs(r->ts) > amax) amax = fabs(r->ts);
        }
        xf_plot_printf(p, "$H%zu << EOD\n", gi);
        for (size_t y = 0; y < ntr; y++) {
            for (size_t x = 0; x < ntg; x++)
                if (!isnan(cell[y * ntg + x])) xf_plot_printf(p, "%zu %zu %.6f\n", x, y, cell[y * ntg + x]);
        }
        char title[512];
        group_title(title, sizeof title, &set->rows[i], "");
        xf_plot_printf(p, "EOD\nset title ");
        xf_plot_quote(p, title);
        xf_plot_printf(p, " noenhanced\n");
        axis_tics(p, "x", ag, ntg);
        axis_tics(p, "y", ar, ntr);
        xf_plot_printf(p, "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\n"
                          "set cbrange [%.6f:%.6f]\nunset arrow\n",
                       ntg ? ntg - 1 : 0, ntr ? ntr - 1 : 0, -(amax > 0 ? amax : 1), amax > 0 ? amax : 1);
        if (o->by_family) {
            xf_plot_printf(p, "set xtics nomirror\nset ytics nomirror\nset x2range [-0.5:%zu.5]\n"
                              "set y2range [%zu.5:-0.5]\n", ntg ? ntg - 1 : 0, ntr ? ntr - 1 : 0);
            family_tics(p, ag, ntg, 0);
            family_tics(p, ar, ntr, 1);
        }
        size_t ux = first_unseen(ag, ntg), uy = first_unseen(ar, ntr);
        if (ux > 0 && ux < ntg)
            xf_plot_printf(p, "set arrow from %zu.5-1,graph 0 to %zu.5-1,graph 1 nohead lw 2 front\n", ux, ux);
        if (uy > 0 && uy < ntr)
            xf_plot_printf(p, "set arrow from graph 0,first %zu.5-1 to graph 1,first %zu.5-1 nohead lw 2 front\n",
                           uy, uy);
        xf_plot_printf(p, "plot $H%zu using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 noborder "
                          "lc palette\n", gi);
        free(cell);
        free(ytr);
        free(xtg);
        free(ar);
        free(ag);
        free(tr);
        free(tg);
        xf_langmeta_free(&lm);
        i = j;
    }
    if (!ngroups) no_data(p);
    xf_plot_printf(p, "unset multiplot\n");
    xf_plot_render(p);
}

/* ---- Figure 6: commonality of the top transfer languages across tasks ---- */
typedef struct {
    const char *transfer;
    double mean;
} ranked;

static int cmp_ranked(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->mean != b->mean) return a->mean > b->mean ? -1 : 1;
    return strcmp(a->transfer, b->transfer);
}

typedef struct {
    const char *lang;
    size_t ntasks;   /* tasks in whose top N it is */
    size_t best;     /* best rank */
} common;

static int cmp_common(const void *pa, const void *pb)
{
    const common *a = pa, *b = pb;
    if (a->ntasks != b->ntasks) return a->ntasks > b->ntasks ? -1 : 1;
    if (a->best != b->best) return a->best < b->best ? -1 : 1;
    return strcmp(a->lang, b->lang);
}

void xf_fig_common(const xf_tsset *set, const xf_scoreopts *o, const char *path)
{
    size_t top = o->top > 0 ? (size_t)o->top : 10;
    /* Panels: runs of groups with the same model and steps (one per task). */
    size_t ng = count_groups(set), *gs = xmalloc(xmul(ng + 1, sizeof *gs)), k = 0;
    for (size_t i = 0; i < set->n; i = xf_tss_group_end(set, i)) gs[k++] = i;
    gs[ng] = set->n;
    /* Order panel members: groups sorted by (model, task, metric, steps): a
     * panel is every group with the same model and steps. */
    size_t npanel = 0;
    char *done = xcalloc(ng + 1, 1);
    for (size_t a = 0; a < ng; a++) {
        if (done[a]) continue;
        npanel++;
        for (size_t b = a; b < ng; b++)
            if (set->rows[gs[b]].model == set->rows[gs[a]].model &&
                set->rows[gs[b]].steps == set->rows[gs[a]].steps)
                done[b] = 1;
    }
    memset(done, 0, ng + 1);
    size_t maxtr = 1;
    for (size_t a = 0; a < ng; a++) {
        const char **tr;
        size_t n = xf_tss_distinct(set, gs[a], gs[a + 1], 0, &tr);
        free(tr);
        if (n > maxtr) maxtr = n;
    }
    size_t tall = maxtr < 3 * top ? maxtr : 3 * top;   /* languages in one panel, at most */
    int cols = npanel <= 1 ? 1 : 2, rows = npanel ? (int)((npanel + 1) / (size_t)cols) : 1;
    xf_plot *p = xf_plot_open(path, 620 * cols, 90 + (int)(160 + 24 * tall) * rows);
    xf_plot_printf(p, "set multiplot layout %d,%d title \"Commonality of the top-%zu transfer "
                      "languages across tasks\\n(number: rank in that task; red*: unseen)\" "
                      "font ',13'\n", rows, cols, top);
    xf_plot_printf(p, "set key off\nset grid\nset offsets 0.5, 0.5, 0.5, 0.5\n"
                      "set ylabel 'transfer language'\n");
    size_t pi = 0;
    for (size_t a = 0; a < ng; a++) {
        if (done[a]) continue;
        const xf_tsrow *g0 = &set->rows[gs[a]];
        xf_langmeta lm;
        xf_langmeta_for_plot(&lm, o, g0->model);
        size_t members[64], nm = 0;
        for (size_t b = a; b < ng && nm < 64; b++)
            if (set->rows[gs[b]].model == g0->model && set->rows[gs[b]].steps == g0->steps) {
                members[nm++] = b;
                done[b] = 1;
            }
        /* top lists */
        const char ***tops = xcalloc(nm, sizeof *tops);
        size_t *ntop = xcalloc(nm, sizeof *ntop);
        common *cm = xcalloc(xmul(nm, top) + 1, sizeof *cm);
        size_t ncm = 0;
        for (size_t m = 0; m < nm; m++) {
            size_t i = gs[members[m]], j = gs[members[m] + 1];
            ranked *rk = xcalloc(j - i + 1, sizeof *rk);
            size_t nr = 0;
            for (size_t r = i; r < j;) {
                size_t e = r;
                double s = 0;
                while (e < j && set->rows[e].transfer == set->rows[r].transfer) s += set->rows[e++].ts;
                rk[nr].transfer = set->rows[r].transfer;
                rk[nr++].mean = s / (double)(e - r);
                r = e;
            }
            xf_score_sort(rk, nr, sizeof *rk, cmp_ranked);
            ntop[m] = nr < top ? nr : top;
            tops[m] = xcalloc(ntop[m] + 1, sizeof **tops);
            for (size_t r = 0; r < ntop[m]; r++) {
                tops[m][r] = rk[r].transfer;
                size_t c = 0;
                while (c < ncm && cm[c].lang != rk[r].transfer) c++;
                if (c == ncm) cm[ncm++] = (common){rk[r].transfer, 0, r + 1};
                cm[c].ntasks++;
                if (r + 1 < cm[c].best) cm[c].best = r + 1;
            }
            free(rk);
        }
        xf_score_sort(cm, ncm, sizeof *cm, cmp_common);
        size_t nall = 0;
        for (size_t c = 0; c < ncm; c++) nall += cm[c].ntasks == nm;
        xf_plot_printf(p, "$T%zu << EOD\n", pi);
        for (size_t m = 0; m < nm; m++)
            for (size_t r = 0; r < ntop[m]; r++) {
                size_t c = 0;
                while (cm[c].lang != tops[m][r]) c++;
                xf_plot_printf(p, "%zu %zu %zu %d\n", m, c, r + 1,
                               unseen(&lm, tops[m][r]) == 1 ? 0xc0392b : 0x3b6ea8);
            }
        char title[512];
        snprintf(title, sizeof title, "%s, %ld steps: %zu of %zu languages in the top %zu of all %zu tasks",
                 g0->model, g0->steps, nall, ncm, top, nm);
        xf_plot_printf(p, "EOD\nset title ");
        xf_plot_quote(p, title);
        xf_plot_printf(p, " noenhanced\nset xtics (");
        for (size_t m = 0; m < nm; m++) {
            xf_plot_quote(p, set->rows[gs[members[m]]].task);
            xf_plot_printf(p, " %zu%s", m, m + 1 < nm ? ", " : ")\n");
        }
        xf_plot_printf(p, "set ytics (");
        for (size_t c = 0; c < ncm; c++) {
            char lab[160];
            snprintf(lab, sizeof lab, "%s%s", cm[c].lang, mark(&lm, cm[c].lang));
            xf_plot_quote(p, lab);
            xf_plot_printf(p, " %zu%s", c, c + 1 < ncm ? ", " : "");
        }
        xf_plot_printf(p, "%s font ',9' noenhanced\nset yrange [%zu.5:-0.5]\nset xrange [-0.5:%zu.5]\n",
                       ncm ? ")" : "\"\" 0)", ncm ? ncm - 1 : 0, nm ? nm - 1 : 0);
        xf_plot_printf(p, "plot $T%zu using 1:2:4 with points pt 7 ps 2.6 lc rgb variable, "
                          "'' using 1:2:(sprintf('%%d', int($3))) with labels tc rgb 'white' font ',9'\n", pi);
        for (size_t m = 0; m < nm; m++) free(tops[m]);
        free(tops);
        free(ntop);
        free(cm);
        xf_langmeta_free(&lm);
        pi++;
    }
    if (!npanel) no_data(p);
    xf_plot_printf(p, "unset multiplot\n");
    xf_plot_render(p);
    free(done);
    free(gs);
}
