/* score_compare.c — compare (paper Table 2 / Tables 7-12 / Figure 2):
 * continuous MLM steps on a language vs language-adapter interaction, each
 * as improvement over the untouched base on that same language.
 *
 * Per (model, task, metric, language L), with base = the base score on L:
 *   "k=K"    mean over runs of the mlm rows with transfer = target = L, steps K
 *   "NA"     mean of the lang rows evaluated on L whose adapter list has N
 *            adapters and includes L (1A = L's adapter alone)
 *   "best-A" the largest of the NA means (the paper's Imp_i: an interaction
 *            setting beats the base)
 * diff = score - base (points), rel_pct = diff / base * 100, improved = diff > 0.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "score.h"
#include "tsv.h"
#include "util.h"

typedef struct {
    const char *model, *task, *metric, *lang;
    int kind;      /* 0 = mlm steps, 1 = N adapters, 2 = best of the adapter settings */
    long num;      /* steps or N */
    double sum;
    size_t cnt;
    double base;
} obs;

static int cmp_key(const obs *a, const obs *b, int lang_last)
{
    int c;
    if ((c = strcmp(a->model, b->model))) return c;
    if ((c = strcmp(a->task, b->task))) return c;
    if ((c = strcmp(a->metric, b->metric))) return c;
    if (!lang_last && (c = strcmp(a->lang, b->lang))) return c;
    if (a->kind != b->kind) return a->kind - b->kind;
    if (a->num != b->num) return a->num < b->num ? -1 : 1;
    return lang_last ? strcmp(a->lang, b->lang) : 0;
}
static int cmp_by_lang(const void *a, const void *b) { return cmp_key(a, b, 0); }
static int cmp_by_setting(const void *a, const void *b) { return cmp_key(a, b, 1); }

static int same_lang(const obs *a, const obs *b)
{
    return a->model == b->model && a->task == b->task && a->metric == b->metric && a->lang == b->lang;
}

static int same_setting(const obs *a, const obs *b)
{
    return a->model == b->model && a->task == b->task && a->metric == b->metric &&
           a->kind == b->kind && a->num == b->num;
}

static void label(const obs *x, char *buf, size_t n)
{
    if (x->kind == 0) snprintf(buf, n, "k=%ld", x->num);
    else if (x->kind == 1) snprintf(buf, n, "%ldA", x->num);
    else snprintf(buf, n, "best-A");
}

/* 1 if the '+'-joined list ADAPTERS has LANG as one of its parts; *n = parts. */
static int adapters_have(const char *adapters, const char *lang, long *n)
{
    size_t ll = strlen(lang);
    int found = 0;
    *n = 0;
    for (const char *s = adapters; *s;) {
        size_t len = strcspn(s, "+");
        if (len == ll && !strncmp(s, lang, ll)) found = 1;
        (*n)++;
        s += len;
        if (*s == '+') s++;
    }
    return found;
}

static int cmp_base(const void *pa, const void *pb)
{
    const xf_evalrow *a = *(const xf_evalrow *const *)pa, *b = *(const xf_evalrow *const *)pb;
    int c;
    if ((c = strcmp(a->model, b->model))) return c;
    if ((c = strcmp(a->task, b->task))) return c;
    if ((c = strcmp(a->metric, b->metric))) return c;
    return strcmp(a->target, b->target);
}

static const char *const cmp_cols[] = {"model", "task", "metric", "lang", "setting", "score",
                                       "base", "diff", "rel_pct", "improved", "n_rows"};
static const char *const sum_cols[] = {"model", "task", "metric", "setting", "n_langs",
                                       "n_improved", "pct_improved", "mean_diff", "mean_rel_pct"};

static void plot_summary(const obs *r, size_t nr, const char *path);

void xf_score_compare(const xf_evalset *set, const xf_tsopts *to, const xf_scoreopts *o,
                      xf_zout *z, const char *plotpath)
{
    const xf_evalrow **base = xmalloc(xmul(set->n + 1, sizeof *base));
    size_t nb = 0;
    obs *ob = xcalloc(set->n + 1, sizeof *ob);
    size_t no = 0;
    for (size_t i = 0; i < set->n; i++) {
        const xf_evalrow *r = &set->rows[i];
        if (strcmp(r->metric, xf_tss_metric(to, r->task))) continue;
        obs x = {r->model, r->task, r->metric, r->target, 0, 0, r->value, 1, 0};
        long n;
        if (r->setting == XF_SET_BASE) base[nb++] = r;
        else if (r->setting == XF_SET_MLM && r->transfer == r->target) x.num = r->steps, ob[no++] = x;
        else if (r->setting == XF_SET_LANG && adapters_have(r->adapters, r->target, &n))
            x.kind = 1, x.num = n, ob[no++] = x;
    }
    xf_score_sort(base, nb, sizeof *base, cmp_base);
    xf_score_sort(ob, no, sizeof *ob, cmp_by_lang);
    /* Merge equal settings (runs, adapter combinations) into means. */
    size_t m = 0;
    for (size_t i = 0; i < no; i++) {
        if (m && same_lang(&ob[m - 1], &ob[i]) && ob[m - 1].kind == ob[i].kind &&
            ob[m - 1].num == ob[i].num) {
            ob[m - 1].sum += ob[i].sum;
            ob[m - 1].cnt++;
        } else {
            ob[m++] = ob[i];
        }
    }
    /* Attach base scores; add best-A per language; drop languages without base. */
    obs *res = xcalloc(2 * m + 1, sizeof *res);
    size_t nres = 0, nobase = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j < m && same_lang(&ob[i], &ob[j])) j++;
        xf_evalrow key = {.model = ob[i].model, .task = ob[i].task, .metric = ob[i].metric,
                          .target = ob[i].lang};
        const xf_evalrow *kp = &key;
        const xf_evalrow **bp = bsearch(&kp, base, nb, sizeof *base, cmp_base);
        if (!bp) {
            nobase++;
            xf_info(2, "compare: no base score for model %s, task %s, metric %s, language %s",
                    ob[i].model, ob[i].task, ob[i].metric, ob[i].lang);
            i = j;
            continue;
        }
        obs best = {0};
        for (size_t k = i; k < j; k++) {
            obs x = ob[k];
            x.base = (*bp)->value;
            x.sum /= x.cnt;   /* now the mean score */
            res[nres++] = x;
            if (x.kind == 1 && (!best.model || x.sum > best.sum)) {
                best = x;
                best.kind = 2;
                best.num = 0;
            }
        }
        if (best.model) res[nres++] = best;
        i = j;
    }
    if (nobase) warning("compare: %zu language(s) without a base score left out (-v lists them)", nobase);

    if (!o->summary) {
        xf_tsv_header(z, cmp_cols, sizeof cmp_cols / sizeof cmp_cols[0]);
        for (size_t i = 0; i < nres; i++) {
            const obs *x = &res[i];
            char lab[32];
            label(x, lab, sizeof lab);
            double diff = x->sum - x->base;
            xf_tsv_put(z, x->model);
            xf_tsv_put(z, x->task);
            xf_tsv_put(z, x->metric);
            xf_tsv_put(z, x->lang);
            xf_tsv_put(z, lab);
            xf_score_putnum(z, "%.4f", x->sum);
            xf_score_putnum(z, "%.4f", x->base);
            xf_score_putnum(z, "%.4f", diff);
            xf_score_putnum(z, "%.4f", x->base ? diff / x->base * 100 : NAN);
            xf_tsv_put(z, diff > 0 ? "yes" : "no");
            xf_tsv_putf(z, "%zu", x->cnt);   /* best-A: rows of the chosen setting */
            xf_tsv_end_row(z);
        }
    }
    /* Summary per setting: share of languages improved (Figure 2). */
    xf_score_sort(res, nres, sizeof *res, cmp_by_setting);
    obs *sum = xcalloc(nres + 1, sizeof *sum);
    size_t ns = 0;
    double *reld = xcalloc(nres + 1, sizeof *reld);
    size_t *nrel = xcalloc(nres + 1, sizeof *nrel), *nimp = xcalloc(nres + 1, sizeof *nimp);
    for (size_t i = 0; i < nres;) {
        size_t j = i;
        obs s = res[i];
        s.sum = 0;   /* mean diff accumulates here */
        s.cnt = 0;
        while (j < nres && same_setting(&res[i], &res[j])) {
            double d = res[j].sum - res[j].base;
            s.sum += d;
            s.cnt++;
            nimp[ns] += d > 0;
            if (res[j].base) reld[ns] += d / res[j].base * 100, nrel[ns]++;
            j++;
        }
        sum[ns++] = s;
        i = j;
    }
    if (o->summary) {
        xf_tsv_header(z, sum_cols, sizeof sum_cols / sizeof sum_cols[0]);
        for (size_t i = 0; i < ns; i++) {
            char lab[32];
            label(&sum[i], lab, sizeof lab);
            xf_tsv_put(z, sum[i].model);
            xf_tsv_put(z, sum[i].task);
            xf_tsv_put(z, sum[i].metric);
            xf_tsv_put(z, lab);
            xf_tsv_putf(z, "%zu", sum[i].cnt);
            xf_tsv_putf(z, "%zu", nimp[i]);
            xf_score_putnum(z, "%.2f", 100.0 * nimp[i] / sum[i].cnt);
            xf_score_putnum(z, "%.4f", sum[i].sum / sum[i].cnt);
            xf_score_putnum(z, "%.4f", nrel[i] ? reld[i] / nrel[i] : NAN);
            xf_tsv_end_row(z);
        }
    }
    if (plotpath) {
        /* pct improved, carried in .sum for the plot */
        for (size_t i = 0; i < ns; i++) sum[i].sum = 100.0 * nimp[i] / sum[i].cnt;
        plot_summary(sum, ns, plotpath);
    }
    free(reld);
    free(nrel);
    free(nimp);
    free(sum);
    free(res);
    free(ob);
    free(base);
}

/* Clustered bars: one cluster per (model, task, metric), one bar per setting. */
static void plot_summary(const obs *r, size_t nr, const char *path)
{
    /* Distinct settings in order (r is sorted by group, then setting). */
    obs *set = xcalloc(nr + 1, sizeof *set);
    size_t nset = 0;
    for (size_t i = 0; i < nr; i++) {
        size_t k;
        for (k = 0; k < nset; k++)
            if (set[k].kind == r[i].kind && set[k].num == r[i].num) break;
        if (k == nset) set[nset++] = r[i];
    }
    /* Order settings: mlm steps, adapter counts, best. */
    for (size_t a = 1; a < nset; a++)
        for (size_t b = a; b > 0 && (set[b].kind < set[b - 1].kind ||
                                     (set[b].kind == set[b - 1].kind && set[b].num < set[b - 1].num));
             b--) {
            obs t = set[b];
            set[b] = set[b - 1];
            set[b - 1] = t;
        }
    size_t ngroups = 0;
    for (size_t i = 0; i < nr; i++)
        ngroups += !i || r[i].model != r[i - 1].model || r[i].task != r[i - 1].task ||
                   r[i].metric != r[i - 1].metric;
    int width = 400 + 60 * (int)(ngroups * (nset ? nset : 1));
    xf_plot *p = xf_plot_open(path, width < 1000 ? 1000 : width, 600);
    xf_plot_printf(p, "set title \"Languages improved over the base model:\\ncontinuous MLM steps (k=K) "
                      "vs language adapters (NA)\" font ',14' noenhanced\n"
                      "set style data histogram\nset style histogram clustered gap 1\n"
                      "set style fill solid 0.85 border -1\nset datafile missing '?'\n"
                      "set ylabel '%% of languages improved over base'\nset xlabel 'task'\n"
                      "set yrange [0:105]\nset grid ytics\nset key outside right top noenhanced\n"
                      "set xtics noenhanced\n$D << EOD\ngroup");
    for (size_t k = 0; k < nset; k++) {
        char lab[32];
        label(&set[k], lab, sizeof lab);
        xf_plot_printf(p, " %s", lab);
    }
    xf_plot_printf(p, "\n");
    for (size_t i = 0; i < nr;) {
        size_t j = i;
        while (j < nr && r[j].model == r[i].model && r[j].task == r[i].task && r[j].metric == r[i].metric)
            j++;
        xf_plot_printf(p, "%s/%s", r[i].model, r[i].task);
        for (size_t k = 0; k < nset; k++) {
            size_t m;
            for (m = i; m < j; m++)
                if (r[m].kind == set[k].kind && r[m].num == set[k].num) break;
            if (m < j) xf_plot_printf(p, " %.4f", r[m].sum);
            else xf_plot_printf(p, " ?");
        }
        xf_plot_printf(p, "\n");
        i = j;
    }
    xf_plot_printf(p, "EOD\n");
    if (!nset) xf_plot_printf(p, "plot [0:1] 0 title 'no data'\n");
    else
        xf_plot_printf(p, "plot for [c=2:%zu] $D using c:xtic(1) title columnheader(c)\n", nset + 1);
    free(set);
    xf_plot_render(p);
}
