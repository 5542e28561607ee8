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
    xf_tsv_header(z, tg_cols, sizeof tg_cols / sizeof tg_cols[0]);
    for (size_t i = 0; i < set->n;) {
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
        }
        free(r);
        free(tg);
        i = j;
    }
    if (plotpath) xf_fig_recipients(set, o, plotpath);
}

/* ---- seen / unseen ---- */
static int lang_seen(const xf_langmeta *m, const xf_tsrow *r, const char *lang)
{
    const xf_langinfo *p = xf_langmeta_find(m, lang);
    if (!p) die("%s:%ld: language '%s' is not in %s", r->file, r->line, lang, m->path);
    return p->seen;
}

static const char *const seen_cols[] = {"model", "task", "metric", "steps", "seen_by",
                                        "group", "ts", "n_pairs", "pos_pct"};

void xf_score_seen(const xf_tsset *set, const xf_scoreopts *o, xf_zout *z)
{
    if (!o->langfile) die_usage("seen needs --languages FILE (languages.tsv)");
    xf_langmeta mb = {0}, xl = {0};
    int have_mb = 0, have_xl = 0;
    xf_tsv_header(z, seen_cols, sizeof seen_cols / sizeof seen_cols[0]);
    static const char *const names[4] = {"seen->seen", "seen->unseen", "unseen->seen",
                                         "unseen->unseen"};
    for (size_t i = 0; i < set->n;) {
        size_t j = xf_tss_group_end(set, i);
        const char *by = xf_score_seen_by(o, set->rows[i].model);
        xf_langmeta *m;
        if (!strcmp(by, "xlmr")) {
            if (!have_xl) xf_langmeta_read(&xl, o->langfile, "xlmr_seen"), have_xl = 1;
            m = &xl;
        } else {
            if (!have_mb) xf_langmeta_read(&mb, o->langfile, "mbert_seen"), have_mb = 1;
            m = &mb;
        }
        double sum[4] = {0};
        size_t cnt[4] = {0}, pos[4] = {0};
        for (size_t k = i; k < j; k++) {
            const xf_tsrow *r = &set->rows[k];
            int g = (lang_seen(m, r, r->transfer) ? 0 : 2) +
                    (lang_seen(m, r, r->target) ? 0 : 1);
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
    xf_langmeta_free(&mb);
    xf_langmeta_free(&xl);
}
