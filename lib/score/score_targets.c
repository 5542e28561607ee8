/* score_targets.c — targets (paper Figure 3a / Table 19) and seen
 * (Figure 8): the recipient side of the transfer scores. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "score.h"
#include "stats.h"
#include "tsv.h"
#include "util.h"

typedef struct {
    const char *target;
    size_t n, npos, nneg;
    double sum;
} recv;

static int cmp_recv(const void *pa, const void *pb)
{
    const recv *a = pa, *b = pb;
    double pa_ = (double)a->npos / a->n, pb_ = (double)b->npos / b->n;
    if (pa_ != pb_) return pa_ > pb_ ? -1 : 1;
    double na = (double)a->nneg / a->n, nb = (double)b->nneg / b->n;
    if (na != nb) return na < nb ? -1 : 1;
    return strcmp(a->target, b->target);
}

static const char *const tg_cols[] = {"model", "task", "metric", "steps", "target", "n_transfer",
                                      "pos_pct", "neg_pct", "ts", "class"};

void xf_score_targets(const xf_tsset *set, const xf_scoreopts *o, xf_zout *z, const char *plotpath)
{
    (void)o;
    xf_tsv_header(z, tg_cols, sizeof tg_cols / sizeof tg_cols[0]);
    /* Figure: per group, one column per target (sorted as the table): the
     * share of positive transfer up (yellow for universal recipients), the
     * share of negative transfer down (red). */
    size_t ngroups = 0, maxtg = 1;
    for (size_t i = 0; i < set->n; i = xf_tss_group_end(set, i)) {
        const char **tg;
        size_t n = xf_tss_distinct(set, i, xf_tss_group_end(set, i), 1, &tg);
        free(tg);
        if (n > maxtg) maxtg = n;
        ngroups++;
    }
    xf_plot *p = NULL;
    if (plotpath) {
        int width = 200 + 14 * (int)maxtg;
        p = xf_plot_open(plotpath, width < 1000 ? 1000 : width,
                         100 + 420 * (int)(ngroups ? ngroups : 1));
        xf_plot_printf(p, "set multiplot layout %zu,1 title \"Target languages: share of transfer "
                          "languages giving positive (up) / negative (down) transfer\" font ',14'\n",
                       ngroups ? ngroups : 1);
        xf_plot_printf(p, "set style fill solid 0.85 noborder\nset boxwidth 0.8\nset grid ytics\n"
                          "set key off\nset xzeroaxis lt -1\nset yrange [-105:105]\n"
                          "set ytics ('100' 100, '50' 50, '0' 0, '50' -50, '100' -100)\n"
                          "set xtics rotate by 90 right font ',8' noenhanced\n"
                          "set ylabel '%% transfer languages: ts > 0 (up), ts < 0 (down)'\n"
                          "set xlabel 'target language (by share of positive transfer)'\n");
    }
    size_t gi = 0;
    for (size_t i = 0; i < set->n; gi++) {
        size_t j = xf_tss_group_end(set, i);
        const char **tg;
        size_t ntg = xf_tss_distinct(set, i, j, 1, &tg);
        recv *r = xcalloc(ntg + 1, sizeof *r);
        for (size_t t = 0; t < ntg; t++) r[t].target = tg[t];
        for (size_t k = i; k < j; k++) {
            recv *x = &r[xf_tss_find(tg, ntg, set->rows[k].target)];
            x->n++;
            x->sum += set->rows[k].ts;
            if (set->rows[k].ts > 0) x->npos++;
            if (set->rows[k].ts < 0) x->nneg++;
        }
        xf_score_sort(r, ntg, sizeof *r, cmp_recv);
        if (p) xf_plot_printf(p, "$G%zu << EOD\n", gi);
        for (size_t t = 0; t < ntg; t++) {
            double pos = 100.0 * r[t].npos / r[t].n, neg = 100.0 * r[t].nneg / r[t].n;
            const char *cls = r[t].npos == r[t].n ? "universal" : r[t].npos == 0 ? "never" : "-";
            xf_tss_put_group(z, &set->rows[i]);
            xf_tsv_put(z, r[t].target);
            xf_tsv_putf(z, "%zu", r[t].n);
            xf_score_putnum(z, "%.2f", pos);
            xf_score_putnum(z, "%.2f", neg);
            xf_score_putnum(z, "%.4f", r[t].sum / r[t].n);
            xf_tsv_put(z, cls);
            xf_tsv_end_row(z);
            if (p)
                xf_plot_printf(p, "%zu %.4f %.4f %s %d\n", t, pos, neg, r[t].target,
                               r[t].npos == r[t].n ? 0xe6b800 : 0x2e8b57);
        }
        if (p) {
            const xf_tsrow *g = &set->rows[i];
            char title[512];
            snprintf(title, sizeof title, "%s, %s (%s), %ld steps: yellow = universal recipient, "
                     "no green = never positive", g->model, g->task, g->metric, g->steps);
            xf_plot_printf(p, "EOD\nset title ");
            xf_plot_quote(p, title);
            xf_plot_printf(p, " noenhanced\nset xrange [-0.7:%zu.7]\n"
                              "plot $G%zu using 1:2:5:xtic(4) with boxes lc rgb variable, "
                              "'' using 1:(-$3) with boxes lc rgb '#c0392b'\n",
                           ntg ? ntg - 1 : 0, gi);
        }
        free(r);
        free(tg);
        i = j;
    }
    if (p) {
        if (!ngroups) xf_plot_printf(p, "set title 'no transfer scores'\nplot [0:1] 0 notitle\n");
        xf_plot_printf(p, "unset multiplot\n");
        xf_plot_render(p);
    }
}

/* ---- seen / unseen ---- */
typedef struct {
    const char *iso;
    int seen;
} langflag;

typedef struct {
    langflag *l;   /* sorted by iso */
    size_t n;
} langmeta;

static int cmp_flag(const void *a, const void *b)
{
    return strcmp(((const langflag *)a)->iso, ((const langflag *)b)->iso);
}

/* The iso639_3 column and the 0/1 column COL of a languages.tsv. */
static langmeta read_langs(const char *path, const char *col)
{
    xf_tsv *t = xf_tsv_open(path);
    int ci = xf_tsv_need_col(t, "iso639_3"), cs = xf_tsv_need_col(t, col);
    langmeta m = {0};
    size_t cap = 0;
    while (xf_tsv_next(t)) {
        const char *f = xf_tsv_field(t, cs);
        if (strcmp(f, "0") && strcmp(f, "1"))
            die("%s:%ld: column '%s': '%s' is not 0 or 1", xf_tsv_name(t), xf_tsv_lineno(t), col, f);
        if (m.n == cap) {
            cap = cap ? 2 * cap : 256;
            m.l = xrealloc(m.l, xmul(cap, sizeof *m.l));
        }
        m.l[m.n].iso = xf_intern(xf_tsv_field(t, ci));
        m.l[m.n++].seen = f[0] == '1';
    }
    xf_tsv_close(t);
    xf_score_sort(m.l, m.n, sizeof *m.l, cmp_flag);
    for (size_t i = 1; i < m.n; i++)
        if (!strcmp(m.l[i].iso, m.l[i - 1].iso)) die("%s: language '%s' is listed twice", path, m.l[i].iso);
    return m;
}

static int lang_seen(const langmeta *m, const char *path, const xf_tsrow *r, const char *lang)
{
    langflag key = {.iso = lang};
    const langflag *p = bsearch(&key, m->l, m->n, sizeof *m->l, cmp_flag);
    if (!p) die("%s:%ld: language '%s' is not in %s", r->file, r->line, lang, path);
    return p->seen;
}

static const char *seen_by(const xf_scoreopts *o, const char *model)
{
    if (o->seen_by && strcmp(o->seen_by, "auto")) return o->seen_by;
    /* auto: XLM-R models by name, everything else as mBERT. */
    for (const char *s = model; *s; s++)
        if (!strncasecmp(s, "xlm", 3)) return "xlmr";
    return "mbert";
}

static const char *const seen_cols[] = {"model", "task", "metric", "steps", "seen_by",
                                        "group", "ts", "n_pairs", "pos_pct"};

void xf_score_seen(const xf_tsset *set, const xf_scoreopts *o, xf_zout *z)
{
    if (!o->langfile) die_usage("seen needs --languages FILE (languages.tsv)");
    langmeta mb = {0}, xl = {0};
    int have_mb = 0, have_xl = 0;
    xf_tsv_header(z, seen_cols, sizeof seen_cols / sizeof seen_cols[0]);
    static const char *const names[4] = {"seen->seen", "seen->unseen", "unseen->seen",
                                         "unseen->unseen"};
    for (size_t i = 0; i < set->n;) {
        size_t j = xf_tss_group_end(set, i);
        const char *by = seen_by(o, set->rows[i].model);
        langmeta *m;
        if (!strcmp(by, "xlmr")) {
            if (!have_xl) xl = read_langs(o->langfile, "xlmr_seen"), have_xl = 1;
            m = &xl;
        } else {
            if (!have_mb) mb = read_langs(o->langfile, "mbert_seen"), have_mb = 1;
            m = &mb;
        }
        double sum[4] = {0};
        size_t cnt[4] = {0}, pos[4] = {0};
        for (size_t k = i; k < j; k++) {
            const xf_tsrow *r = &set->rows[k];
            int g = (lang_seen(m, o->langfile, r, r->transfer) ? 0 : 2) +
                    (lang_seen(m, o->langfile, r, r->target) ? 0 : 1);
            sum[g] += r->ts;
            cnt[g]++;
            pos[g] += r->ts > 0;
        }
        for (int g = 0; g < 4; g++) {
            xf_tss_put_group(z, &set->rows[i]);
            xf_tsv_put(z, by);
            xf_tsv_put(z, names[g]);
            xf_score_putnum(z, "%.4f", cnt[g] ? sum[g] / cnt[g] : NAN);
            xf_tsv_putf(z, "%zu", cnt[g]);
            xf_score_putnum(z, "%.2f", cnt[g] ? 100.0 * pos[g] / cnt[g] : NAN);
            xf_tsv_end_row(z);
        }
        i = j;
    }
    free(mb.l);
    free(xl.l);
}
