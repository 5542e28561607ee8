/* project.c — interference counts, projection and the [1A]/[2A]/[3A]
 * summary (definitions in project.h and xf-project(1)). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "project.h"
#include "tsv.h"
#include "util.h"

#define MAXA 3   /* combinations of up to three adapters are analysed */

void xf_project_point(const long cnt[4], double *x, double *y)
{
    static const int q[4][2] = {{-1, -1}, {-1, 1}, {1, -1}, {1, 1}};
    long c = cnt[0] + cnt[1] + cnt[2] + cnt[3];
    if (c <= 0) {
        *x = *y = NAN;
        return;
    }
    long sx = 0, sy = 0;
    for (int k = 0; k < 4; k++) sx += cnt[k] * q[k][0], sy += cnt[k] * q[k][1];
    *x = (double)sx / (double)c;
    *y = (double)sy / (double)c;
}

/* One lang row: its languages sorted (strcmp), interned. */
typedef struct {
    const char *model, *task, *metric, *target;
    const char *lang[MAXA];
    int size;
    const xf_evalrow *row;
} entry;

static int cmp_str(const char *a, const char *b) { return a == b ? 0 : strcmp(a, b); }

static int cmp_group(const entry *a, const entry *b)
{
    int c;
    if ((c = cmp_str(a->model, b->model))) return c;
    if ((c = cmp_str(a->task, b->task))) return c;
    return cmp_str(a->metric, b->metric);
}

/* (group, size, languages, target) */
static int cmp_entry(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    int c;
    if ((c = cmp_group(a, b))) return c;
    if (a->size != b->size) return a->size - b->size;
    for (int k = 0; k < a->size; k++)
        if ((c = cmp_str(a->lang[k], b->lang[k]))) return c;
    if ((c = cmp_str(a->target, b->target))) return c;
    /* equal keys: input order, so that messages name the first line */
    return a->row < b->row ? -1 : a->row > b->row;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Splits R's adapters into E (sorted); 0 if it has more than MAXA. */
static int parse_entry(const xf_evalrow *r, entry *e)
{
    memset(e, 0, sizeof *e);
    e->model = r->model;
    e->task = r->task;
    e->metric = r->metric;
    e->target = r->target;
    e->row = r;
    char buf[64];
    for (const char *s = r->adapters; *s;) {
        size_t len = strcspn(s, "+");
        if (!len || len >= sizeof buf)
            die("%s:%ld: adapters '%s': bad language list", r->file, r->line, r->adapters);
        if (e->size == MAXA) return 0;
        memcpy(buf, s, len);
        buf[len] = 0;
        e->lang[e->size++] = xf_intern(buf);
        s += len;
        if (*s == '+' && !*++s)
            die("%s:%ld: adapters '%s': bad language list", r->file, r->line, r->adapters);
    }
    qsort(e->lang, (size_t)e->size, sizeof e->lang[0], cmp_cstr);
    for (int k = 1; k < e->size; k++)
        if (e->lang[k] == e->lang[k - 1])
            die("%s:%ld: adapters '%s': %s is listed twice", r->file, r->line, r->adapters,
                e->lang[k]);
    return 1;
}

static int has_lang(const entry *e, const char *l)
{
    for (int k = 0; k < e->size; k++)
        if (e->lang[k] == l) return 1;
    return 0;
}

/* Score of TARGET under the language set LANGS (sorted, SIZE) in [g0, g1). */
static const entry *find(const entry *v, size_t g0, size_t g1, const char *const *langs, int size,
                         const char *target)
{
    entry key = *(v + g0);
    key.size = size;
    for (int k = 0; k < size; k++) key.lang[k] = langs[k];
    key.target = target;
    key.row = NULL;   /* sorts before every row of the key */
    size_t lo = g0, hi = g1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_entry(&v[mid], &key) < 0) lo = mid + 1;
        else hi = mid;
    }
    if (lo < g1) {
        const entry *e = &v[lo];
        int same = e->size == size && e->target == target;
        for (int k = 0; same && k < size; k++) same = e->lang[k] == langs[k];
        if (same) return e;
    }
    return NULL;
}

static void sort3(const char **l, int n) { qsort(l, (size_t)n, sizeof *l, cmp_cstr); }

/* Signs of the languages of S (in L's order SL) relative to their
 * baselines: 1 = +, 0 = -; returns 1 counted, 0 tie, -1 missing. */
static int signs(const entry *v, size_t g0, size_t g1, const char **sl, int size,
                 const double *base_of, const char **langs, size_t nl, double eps, int *sg)
{
    const char *sorted[MAXA];
    for (int k = 0; k < size; k++) sorted[k] = sl[k];
    sort3(sorted, size);
    int tie = 0;
    for (int k = 0; k < size; k++) {
        const entry *e = find(v, g0, g1, sorted, size, sl[k]);
        if (!e) return -1;
        const char **p = bsearch(&sl[k], langs, nl, sizeof *langs, cmp_cstr);
        double d = e->row->value - base_of[p - langs];
        if (fabs(d) <= eps) tie = 1;
        sg[k] = d > 0;
    }
    return tie ? 0 : 1;
}

static int cmp_projrow(const void *pa, const void *pb)
{
    const xf_projrow *a = pa, *b = pb;
    int c;
    if ((c = cmp_str(a->model, b->model))) return c;
    if ((c = cmp_str(a->task, b->task))) return c;
    if ((c = cmp_str(a->metric, b->metric))) return c;
    if (a->setting != b->setting) return a->setting - b->setting;
    return cmp_str(a->lang, b->lang);
}

size_t xf_project_compute(const xf_evalset *set, const xf_projopts *o, xf_projrow **out)
{
    entry *v = xcalloc(set->n + 1, sizeof *v);
    size_t nv = 0, nbig = 0, nother = 0;
    for (size_t i = 0; i < set->n; i++) {
        const xf_evalrow *r = &set->rows[i];
        if (r->setting != XF_SET_LANG) continue;
        if (strcmp(r->metric, xf_tss_metric(o->to, r->task))) continue;
        if (!parse_entry(r, &v[nv])) { nbig++; continue; }
        if (!has_lang(&v[nv], xf_intern(r->target))) { nother++; continue; }
        v[nv].target = xf_intern(r->target);
        nv++;
    }
    if (nbig) xf_info(2, "project: %zu row(s) of more than %d adapters left out", nbig, MAXA);
    if (nother) xf_info(2, "project: %zu row(s) evaluated outside their combination left out", nother);
    qsort(v, nv, sizeof *v, cmp_entry);
    /* One fusion order per language set and target. */
    for (size_t i = 1; i < nv; i++)
        if (!cmp_group(&v[i], &v[i - 1]) && v[i].size == v[i - 1].size &&
            v[i].target == v[i - 1].target && !memcmp(v[i].lang, v[i - 1].lang, sizeof v[i].lang))
            die("%s:%ld: adapters %s on %s: the same languages as %s at %s:%ld; give one fusion order",
                v[i].row->file, v[i].row->line, v[i].row->adapters, v[i].target,
                v[i - 1].row->adapters, v[i - 1].row->file, v[i - 1].row->line);

    xf_projrow *res = NULL;
    size_t nres = 0, cap = 0;
    for (size_t g0 = 0; g0 < nv;) {
        size_t g1 = g0;
        while (g1 < nv && !cmp_group(&v[g0], &v[g1])) g1++;
        /* Baselines: the size-1 rows (target is their language); every
         * language of a combination needs one.  Checked before allocating,
         * so that die() leaves nothing unreachable behind. */
        size_t nl = 0;
        while (g0 + nl < g1 && v[g0 + nl].size == 1) nl++;
        int have[MAXA + 1] = {0};
        for (size_t i = g0 + nl; i < g1; i++) {
            have[v[i].size] = 1;
            for (int k = 0; k < v[i].size; k++)
                if (!find(v, g0, g0 + nl, &v[i].lang[k], 1, v[i].lang[k]))
                    die("%s:%ld: adapters %s: no [%s] baseline (a row with adapters %s, target %s, "
                        "metric %s) for language %s of the combination",
                        v[i].row->file, v[i].row->line, v[i].row->adapters, v[i].lang[k],
                        v[i].lang[k], v[i].lang[k], v[i].metric, v[i].lang[k]);
        }
        const char **langs = xcalloc(nl + 1, sizeof *langs);
        double *base = xcalloc(nl + 1, sizeof *base);
        for (size_t k = 0; k < nl; k++) langs[k] = v[g0 + k].target, base[k] = v[g0 + k].row->value;
        for (int size = 2; size <= MAXA; size++) {
            if (!have[size]) continue;
            for (size_t a = 0; a < nl; a++) {
                if (nres == cap) res = xrealloc(res, xmul(cap = 2 * cap + 16, sizeof *res));
                xf_projrow *p = &res[nres++];
                memset(p, 0, sizeof *p);
                p->model = v[g0].model;
                p->task = v[g0].task;
                p->metric = v[g0].metric;
                p->lang = langs[a];
                p->setting = size;
                for (size_t b = 0; b < nl; b++) {
                    if (b == a) continue;
                    if (size == 2) {
                        const char *sl[2] = {langs[a], langs[b]};
                        int sg[2], st = signs(v, g0, g1, sl, 2, base, langs, nl, o->tie_eps, sg);
                        if (st < 0) p->missing++;
                        else if (!st) p->ties++;
                        else p->n++, p->cnt2[sg[0] * 2 + sg[1]]++;
                        continue;
                    }
                    for (size_t c = b + 1; c < nl; c++) {
                        if (c == a) continue;
                        const char *sl[3] = {langs[a], langs[b], langs[c]};
                        int sg[3], st = signs(v, g0, g1, sl, 3, base, langs, nl, o->tie_eps, sg);
                        if (st < 0) { p->missing++; continue; }
                        if (!st) { p->ties++; continue; }
                        p->n++;
                        p->cnt3[sg[0] * 4 + sg[1] * 2 + sg[2]]++;   /* B = b, C = c */
                        p->cnt3[sg[0] * 4 + sg[2] * 2 + sg[1]]++;   /* B = c, C = b */
                    }
                }
                if (size == 3) {
                    long h[2][4];
                    for (int k = 0; k < 4; k++) {
                        h[0][k] = p->cnt3[2 * k];
                        h[1][k] = p->cnt3[2 * k + 1];
                        p->cnt2[k] = h[0][k] + h[1][k];
                    }
                    for (int s = 0; s < 2; s++) xf_project_point(h[s], &p->xc[s], &p->yc[s]);
                } else {
                    p->xc[0] = p->xc[1] = p->yc[0] = p->yc[1] = NAN;
                }
                xf_project_point(p->cnt2, &p->x, &p->y);
            }
        }
        free(langs);
        free(base);
        g0 = g1;
    }
    free(v);
    if (nres) qsort(res, nres, sizeof *res, cmp_projrow);
    *out = res;
    return nres;
}

const char *const xf_project_cols[] = {
    "model", "task", "metric", "language", "setting",
    "n_mm", "n_mp", "n_pm", "n_pp",
    "n_mmm", "n_mmp", "n_mpm", "n_mpp", "n_pmm", "n_pmp", "n_ppm", "n_ppp",
    "x", "y", "x_cneg", "y_cneg", "x_cpos", "y_cpos", "n", "ties", "missing"};
const size_t xf_project_ncols = sizeof xf_project_cols / sizeof xf_project_cols[0];

void xf_project_write(xf_zout *z, const xf_projrow *r, size_t n)
{
    xf_tsv_header(z, xf_project_cols, xf_project_ncols);
    for (size_t i = 0; i < n; i++, r++) {
        xf_tsv_put(z, r->model);
        xf_tsv_put(z, r->task);
        xf_tsv_put(z, r->metric);
        xf_tsv_put(z, r->lang);
        xf_tsv_putf(z, "%dA", r->setting);
        for (int k = 0; k < 4; k++) xf_tsv_putf(z, "%ld", r->cnt2[k]);
        for (int k = 0; k < 8; k++)
            if (r->setting == 3) xf_tsv_putf(z, "%ld", r->cnt3[k]);
            else xf_tsv_put(z, "-");
        xf_score_putnum(z, "%.4f", r->x);
        xf_score_putnum(z, "%.4f", r->y);
        for (int s = 0; s < 2; s++)
            if (r->setting == 3) {
                xf_score_putnum(z, "%.4f", r->xc[s]);
                xf_score_putnum(z, "%.4f", r->yc[s]);
            } else {
                xf_tsv_put(z, "-");
                xf_tsv_put(z, "-");
            }
        xf_tsv_putf(z, "%ld", r->n);
        xf_tsv_putf(z, "%ld", r->ties);
        xf_tsv_putf(z, "%ld", r->missing);
        xf_tsv_end_row(z);
    }
}

/* Points of one panel as a datablock "x y label"; languages at the same
 * point share one label ("eng,hin").  Returns the number of points. */
static size_t put_points(xf_plot *p, const char *name, const xf_projrow *r, size_t i, size_t j,
                         int setting, int half)
{
    size_t k = 0;
    char *done = xcalloc(j - i + 1, 1);
    xf_plot_printf(p, "$%s << EOD\n", name);
    for (size_t m = i; m < j; m++) {
        if (r[m].setting != setting || done[m - i]) continue;
        double x = half < 0 ? r[m].x : r[m].xc[half], y = half < 0 ? r[m].y : r[m].yc[half];
        if (!isfinite(x) || !isfinite(y)) continue;
        xf_plot_printf(p, "%.4f %.4f %s", x, y, r[m].lang);   /* languages are [a-z] codes */
        for (size_t q = m + 1; q < j; q++) {
            if (r[q].setting != setting) continue;
            double xq = half < 0 ? r[q].x : r[q].xc[half], yq = half < 0 ? r[q].y : r[q].yc[half];
            if (fabs(xq - x) < 5e-3 && fabs(yq - y) < 5e-3) {
                xf_plot_printf(p, ",%s", r[q].lang);
                done[q - i] = 1;
            }
        }
        xf_plot_printf(p, "\n");
        k++;
    }
    xf_plot_printf(p, "EOD\n");
    free(done);
    return k;
}

static int same_task(const xf_projrow *a, const xf_projrow *b)
{
    return a->model == b->model && a->task == b->task && a->metric == b->metric;
}

void xf_project_plot(const xf_projrow *r, size_t n, const char *path)
{
    size_t ng = 0;
    for (size_t i = 0; i < n; i++) ng += !i || !same_task(&r[i], &r[i - 1]);
    int rows = ng ? (int)ng : 1;
    xf_plot *p = xf_plot_open(path, 1200, 80 + 540 * rows);
    xf_plot_printf(p, "set multiplot layout %d,2 title \"Language interference projection: bilingual [AB] "
                      "and trilingual [ABC] (paper Figure 4)\" font ',14' noenhanced\n"
                      "set size ratio -1\nset xrange [-1.15:1.15]\nset yrange [-1.15:1.15]\n"
                      "set xtics 0.5\nset ytics 0.5\nset grid\nset key below noenhanced\n"
                      "set xzeroaxis lt -1 lw 2\nset yzeroaxis lt -1 lw 2\n"
                      "set xlabel 'x: interference A receives' noenhanced\n"
                      "set ylabel 'y: interference A gives (to B)' noenhanced\n", rows);
    if (!ng) {
        xf_plot_printf(p, "set title 'no bilingual or trilingual rows'\nplot NaN notitle\n"
                          "plot NaN notitle\n");
    }
    size_t g = 0;
    for (size_t i = 0; i < n; g++) {
        size_t j = i;
        while (j < n && same_task(&r[i], &r[j])) j++;
        char nm[3][16];
        snprintf(nm[0], sizeof nm[0], "B%zu", g);
        snprintf(nm[1], sizeof nm[1], "TN%zu", g);
        snprintf(nm[2], sizeof nm[2], "TP%zu", g);
        size_t nb = put_points(p, nm[0], r, i, j, 2, -1);
        size_t nn = put_points(p, nm[1], r, i, j, 3, 0);
        size_t np = put_points(p, nm[2], r, i, j, 3, 1);
        xf_plot_printf(p, "set title ");
        char t[256];
        snprintf(t, sizeof t, "%s %s (%s): bilingual [AB]", r[i].model, r[i].task, r[i].metric);
        xf_plot_quote(p, t);
        xf_plot_printf(p, " noenhanced\n");
        if (nb)
            xf_plot_printf(p, "plot $%s using 1:2 with points pt 7 ps 1.2 lc rgb '#1f77b4' title 'language A', "
                              "$%s using 1:2:3 with labels offset 0,0.9 font ',10' notitle\n", nm[0], nm[0]);
        else xf_plot_printf(p, "plot NaN title 'no bilingual points'\n");
        snprintf(t, sizeof t, "%s %s (%s): trilingual [ABC], colour = sign of C", r[i].model,
                 r[i].task, r[i].metric);
        xf_plot_printf(p, "set title ");
        xf_plot_quote(p, t);
        xf_plot_printf(p, " noenhanced\n");
        if (nn + np) {
            xf_plot_printf(p, "plot ");
            if (nn)
                xf_plot_printf(p, "$%s using 1:2 with points pt 7 ps 1.2 lc rgb '#d62728' title 'C loses (-C)', "
                                  "$%s using 1:2:3 with labels offset 0,0.9 font ',10' tc rgb '#d62728' notitle%s",
                               nm[1], nm[1], np ? ", " : "\n");
            if (np)
                xf_plot_printf(p, "$%s using 1:2 with points pt 5 ps 1.2 lc rgb '#1f3fb4' title 'C gains (+C)', "
                                  "$%s using 1:2:3 with labels offset 0,-0.9 font ',10' tc rgb '#1f3fb4' notitle\n",
                               nm[2], nm[2]);
        } else {
            xf_plot_printf(p, "plot NaN title 'no trilingual points'\n");
        }
        i = j;
    }
    xf_plot_printf(p, "unset multiplot\n");
    xf_plot_render(p);
}

/* ---- summary ---- */

typedef struct {
    const char *model, *task, *metric, *lang;
    int nad;
    double sum;
    size_t cnt;
} sobs;

static int cmp_sobs(const void *pa, const void *pb)
{
    const sobs *a = pa, *b = pb;
    int c;
    if ((c = cmp_str(a->model, b->model))) return c;
    if ((c = cmp_str(a->task, b->task))) return c;
    if ((c = cmp_str(a->metric, b->metric))) return c;
    if (a->nad != b->nad) return a->nad - b->nad;
    return cmp_str(a->lang, b->lang);
}

const char *const xf_project_sum_cols[] = {"model", "task", "metric", "setting", "n_langs",
                                           "n_improved", "pct_improved", "mean_diff",
                                           "mean_rel_pct", "n_rows"};
const size_t xf_project_sum_ncols = sizeof xf_project_sum_cols / sizeof xf_project_sum_cols[0];

typedef struct {
    const char *model, *task, *metric;
    int nad;
    size_t nlang, nimp, nrel, nrows;
    double diff, rel;
} srow;

static void plot_summary(const srow *s, size_t ns, const char *path);

void xf_project_summary(const xf_evalset *set, const xf_tsopts *to, xf_zout *z, const char *plotpath)
{
    sobs *base = xcalloc(set->n + 1, sizeof *base), *ob = xcalloc(set->n + 1, sizeof *ob);
    size_t nb = 0, no = 0;
    for (size_t i = 0; i < set->n; i++) {
        const xf_evalrow *r = &set->rows[i];
        if (strcmp(r->metric, xf_tss_metric(to, r->task))) continue;
        sobs x = {r->model, r->task, r->metric, xf_intern(r->target), 0, r->value, 1};
        if (r->setting == XF_SET_BASE) { base[nb++] = x; continue; }
        if (r->setting != XF_SET_LANG) continue;
        entry e;
        if (!parse_entry(r, &e) || !has_lang(&e, x.lang)) continue;
        x.nad = e.size;
        ob[no++] = x;
    }
    qsort(base, nb, sizeof *base, cmp_sobs);
    qsort(ob, no, sizeof *ob, cmp_sobs);
    /* Mean score per (group, N, language), then its difference to the base. */
    srow *s = xcalloc(no + 1, sizeof *s);
    size_t ns = 0, nobase = 0;
    for (size_t i = 0; i < no;) {
        size_t j = i;
        double sum = 0;
        while (j < no && !cmp_sobs(&ob[i], &ob[j])) sum += ob[j++].sum;
        sobs key = ob[i];
        key.nad = 0;
        const sobs *b = bsearch(&key, base, nb, sizeof *base, cmp_sobs);
        if (!b) {
            nobase++;
            xf_info(2, "summary: no base score for model %s, task %s, metric %s, language %s",
                    key.model, key.task, key.metric, key.lang);
            i = j;
            continue;
        }
        if (!ns || s[ns - 1].model != ob[i].model || s[ns - 1].task != ob[i].task ||
            s[ns - 1].metric != ob[i].metric || s[ns - 1].nad != ob[i].nad)
            s[ns++] = (srow){ob[i].model, ob[i].task, ob[i].metric, ob[i].nad, 0, 0, 0, 0, 0, 0};
        srow *q = &s[ns - 1];
        double d = sum / (double)(j - i) - b->sum;
        q->nlang++;
        q->nimp += d > 0;
        q->diff += d;
        q->nrows += j - i;
        if (b->sum != 0) q->rel += d / b->sum * 100, q->nrel++;
        i = j;
    }
    if (nobase) warning("summary: %zu (language, setting) pair(s) without a base score left out (-v lists them)",
                        nobase);
    xf_tsv_header(z, xf_project_sum_cols, xf_project_sum_ncols);
    for (size_t i = 0; i < ns; i++) {
        xf_tsv_put(z, s[i].model);
        xf_tsv_put(z, s[i].task);
        xf_tsv_put(z, s[i].metric);
        xf_tsv_putf(z, "%dA", s[i].nad);
        xf_tsv_putf(z, "%zu", s[i].nlang);
        xf_tsv_putf(z, "%zu", s[i].nimp);
        xf_score_putnum(z, "%.2f", 100.0 * (double)s[i].nimp / (double)s[i].nlang);
        xf_score_putnum(z, "%.4f", s[i].diff / (double)s[i].nlang);
        xf_score_putnum(z, "%.4f", s[i].nrel ? s[i].rel / (double)s[i].nrel : NAN);
        xf_tsv_putf(z, "%zu", s[i].nrows);
        xf_tsv_end_row(z);
    }
    if (plotpath) plot_summary(s, ns, plotpath);
    free(s);
    free(ob);
    free(base);
}

/* Clustered bars: one cluster per (model, task, metric), bars [1A] [2A] [3A]. */
static void plot_summary(const srow *s, size_t ns, const char *path)
{
    size_t ng = 0;
    for (size_t i = 0; i < ns; i++)
        ng += !i || s[i].model != s[i - 1].model || s[i].task != s[i - 1].task ||
              s[i].metric != s[i - 1].metric;
    int width = 300 + 180 * (int)ng;
    xf_plot *p = xf_plot_open(path, width < 1000 ? 1000 : width, 600);
    /* bars start at 0: the range holds 0 and every value, with a margin */
    double lo = 0, hi = 0;
    for (size_t i = 0; i < ns; i++)
        if (s[i].nrel) {
            double v = s[i].rel / (double)s[i].nrel;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    double pad = hi - lo > 0 ? 0.1 * (hi - lo) : 1;
    xf_plot_printf(p, "set yrange [%g:%g]\n", lo < 0 ? lo - pad : 0, hi > 0 ? hi + pad : lo < 0 ? 0 : 1);
    xf_plot_printf(p, "set title \"Mean improvement over the base with language adapters "
                      "[1A]/[2A]/[3A] (paper Figure 2)\" font ',14' noenhanced\n"
                      "set style data histogram\nset style histogram clustered gap 1\n"
                      "set style fill solid 0.85 border -1\nset datafile missing '?'\n"
                      "set ylabel 'mean improvement over base (%% of base score)'\nset xlabel 'task'\n"
                      "set grid ytics\nset xzeroaxis lt -1\nset key outside right top noenhanced\n"
                      "set xtics noenhanced\n$D << EOD\ngroup [1A] [2A] [3A]\n");
    for (size_t i = 0; i < ns;) {
        size_t j = i;
        while (j < ns && s[j].model == s[i].model && s[j].task == s[i].task && s[j].metric == s[i].metric)
            j++;
        xf_plot_printf(p, "%s/%s", s[i].model, s[i].task);
        for (int a = 1; a <= MAXA; a++) {
            size_t m;
            for (m = i; m < j && s[m].nad != a; m++) {}
            if (m < j && s[m].nrel) xf_plot_printf(p, " %.4f", s[m].rel / (double)s[m].nrel);
            else xf_plot_printf(p, " ?");
        }
        xf_plot_printf(p, "\n");
        i = j;
    }
    xf_plot_printf(p, "EOD\n");
    if (!ns) xf_plot_printf(p, "plot [0:1] 0 title 'no data'\n");
    else xf_plot_printf(p, "plot for [c=2:4] $D using c:xtic(1) title columnheader(c)\n");
    xf_plot_render(p);
}
