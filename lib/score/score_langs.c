/* score_langs.c — what an analysis knows about a language: whether the
 * model saw it in pretraining and its family, from a languages.tsv
 * (iso639_3, family, mbert_seen, xlmr_seen; ../shared/data/languages.tsv
 * or a study's own list with the same columns). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "score.h"
#include "tsv.h"
#include "util.h"

static int cmp_lang(const void *a, const void *b)
{
    return strcmp(((const xf_langinfo *)a)->iso, ((const xf_langinfo *)b)->iso);
}

void xf_langmeta_read(xf_langmeta *m, const char *path, const char *col)
{
    xf_tsv *t = xf_tsv_open(path);
    int ci = xf_tsv_need_col(t, "iso639_3"), cs = xf_tsv_need_col(t, col);
    int cf = xf_tsv_col(t, "family");
    size_t cap = 0;
    memset(m, 0, sizeof *m);
    m->path = path;
    while (xf_tsv_next(t)) {
        const char *f = xf_tsv_field(t, cs);
        if (strcmp(f, "0") && strcmp(f, "1"))
            die("%s:%ld: column '%s': '%s' is not 0 or 1", xf_tsv_name(t), xf_tsv_lineno(t), col, f);
        if (m->n == cap) {
            cap = cap ? 2 * cap : 256;
            m->l = xrealloc(m->l, xmul(cap, sizeof *m->l));
        }
        m->l[m->n].iso = xf_intern(xf_tsv_field(t, ci));
        m->l[m->n].family = xf_intern(cf >= 0 ? xf_tsv_field(t, cf) : "-");
        m->l[m->n++].seen = f[0] == '1';
    }
    xf_tsv_close(t);
    xf_score_sort(m->l, m->n, sizeof *m->l, cmp_lang);
    for (size_t i = 1; i < m->n; i++)
        if (!strcmp(m->l[i].iso, m->l[i - 1].iso)) die("%s: language '%s' is listed twice", path, m->l[i].iso);
}

const xf_langinfo *xf_langmeta_find(const xf_langmeta *m, const char *lang)
{
    if (!m || !m->n) return NULL;
    xf_langinfo key = {.iso = lang};
    return bsearch(&key, m->l, m->n, sizeof *m->l, cmp_lang);
}

void xf_langmeta_free(xf_langmeta *m)
{
    free(m->l);
    memset(m, 0, sizeof *m);
}

const char *xf_score_seen_by(const xf_scoreopts *o, const char *model)
{
    if (o->seen_by && strcmp(o->seen_by, "auto")) return o->seen_by;
    /* auto: XLM-R models by name, everything else as mBERT. */
    for (const char *s = model; *s; s++)
        if (!strncasecmp(s, "xlm", 3)) return "xlmr";
    return "mbert";
}

int xf_langmeta_for_plot(xf_langmeta *m, const xf_scoreopts *o, const char *model)
{
    memset(m, 0, sizeof *m);
    if (!o->langfile || access(o->langfile, R_OK)) return 0;
    xf_langmeta_read(m, o->langfile,
                     strcmp(xf_score_seen_by(o, model), "xlmr") ? "mbert_seen" : "xlmr_seen");
    return 1;
}
