/* score_diagnose.c — why eval rows gave no transfer score.  See score.h. */
#include "score.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* A growing message; parts past CAP are dropped with "...". */
typedef struct msg { char *s; size_t n, cap; } msg;

static void put(msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(msg *m, const char *fmt, ...)
{
    if (m->n + 1 >= m->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(m->s + m->n, m->cap - m->n, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if ((size_t)k >= m->cap - m->n) {
        m->n = m->cap - 1;
        if (m->cap > 4) memcpy(m->s + m->cap - 4, "...", 4);
    } else {
        m->n += (size_t)k;
    }
}

/* Distinct interned strings (pointer equality), in first-seen order. */
typedef struct strset { const char **v; size_t n; } strset;

static void add(strset *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == x) return;
    s->v = xrealloc(s->v, xmul(s->n + 1, sizeof *s->v));
    s->v[s->n++] = x;
}

static int has(const strset *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == x) return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "'a', 'b', 'c' and 2 more" (sorted). */
static void put_list(msg *m, strset *s)
{
    if (s->n > 1) qsort(s->v, s->n, sizeof *s->v, cmp_str);
    size_t show = s->n > 4 ? 3 : s->n;
    for (size_t i = 0; i < show; i++) put(m, "%s'%s'", i ? ", " : "", s->v[i]);
    if (show < s->n) put(m, " and %zu more", s->n - show);
}

static int uses(const xf_evalrow *r, const xf_tsopts *o)
{
    return !strcmp(r->metric, xf_tss_metric(o, r->task));
}

char *xf_tss_diagnose(const xf_evalset *set, const xf_tsopts *o, long steps)
{
    msg m = {xmalloc(1024), 0, 1024};
    m.s[0] = 0;
    size_t nbase = 0, nmlm = 0, nlang = 0, nmlm_metric = 0, nmlm_steps = 0;
    strset tasks = {0}, allsteps = {0};
    for (size_t i = 0; i < set->n; i++) {
        const xf_evalrow *r = &set->rows[i];
        if (r->setting == XF_SET_BASE) nbase++;
        else if (r->setting == XF_SET_LANG) nlang++;
        else {
            nmlm++;
            if (!uses(r, o)) continue;
            nmlm_metric++;
            char buf[32];
            snprintf(buf, sizeof buf, "%ld", r->steps);
            add(&allsteps, xf_intern(buf));
            if (steps && r->steps != steps) continue;
            nmlm_steps++;
            add(&tasks, r->task);
        }
    }
    if (!set->n) {
        put(&m, "the input has no eval rows%s", steps ? " (nor transfer scores of these steps)" : "");
    } else if (!nmlm) {
        put(&m, "no mlm rows (the input has %zu base and %zu lang rows); transfer scores pair "
            "rows of setting mlm (xf-mlmstep | xf-eval) with base rows", nbase, nlang);
    } else if (!nmlm_metric) {
        put(&m, "no mlm rows with the chosen --metric");
    } else if (!nmlm_steps) {
        put(&m, "no mlm rows with --steps %ld (the input has steps ", steps);
        put_list(&m, &allsteps);
        put(&m, ")");
    } else if (!nbase) {
        put(&m, "no base rows (evaluate the original model too: xf-eval --model BASE ...)");
    } else {
        if (tasks.n > 1) qsort(tasks.v, tasks.n, sizeof *tasks.v, cmp_str);
        for (size_t t = 0; t < tasks.n; t++) {
            const char *task = tasks.v[t];
            strset mm = {0}, bm = {0};
            for (size_t i = 0; i < set->n; i++) {
                const xf_evalrow *r = &set->rows[i];
                if (r->task != task || !uses(r, o)) continue;
                if (r->setting == XF_SET_BASE) add(&bm, r->model);
                else if (r->setting == XF_SET_MLM && (!steps || r->steps == steps)) add(&mm, r->model);
            }
            if (t) put(&m, "; ");
            if (!bm.n) {
                put(&m, "no base rows for task %s", task);
            } else {
                size_t common = 0;
                for (size_t i = 0; i < mm.n; i++) common += has(&bm, mm.v[i]);
                if (!common) {
                    put(&m, "%s: mlm rows have model ", task);
                    put_list(&m, &mm);
                    put(&m, " but base rows have model ");
                    put_list(&m, &bm);
                } else {
                    /* same model: the targets do not meet (or every base score is 0) */
                    strset mt = {0}, bt = {0};
                    for (size_t i = 0; i < set->n; i++) {
                        const xf_evalrow *r = &set->rows[i];
                        if (r->task != task || !uses(r, o) || !has(&mm, r->model) ||
                            !has(&bm, r->model))
                            continue;
                        if (r->setting == XF_SET_BASE) add(&bt, r->target);
                        else if (r->setting == XF_SET_MLM && (!steps || r->steps == steps))
                            add(&mt, r->target);
                    }
                    size_t meet = 0;
                    for (size_t i = 0; i < mt.n; i++) meet += has(&bt, mt.v[i]);
                    if (!meet) {
                        put(&m, "%s: mlm rows have target ", task);
                        put_list(&m, &mt);
                        put(&m, " but base rows have target ");
                        put_list(&m, &bt);
                    } else {
                        put(&m, "%s: every base score paired with an mlm row is 0", task);
                    }
                    free(mt.v);
                    free(bt.v);
                }
            }
            free(mm.v);
            free(bm.v);
        }
    }
    free(tasks.v);
    free(allsteps.v);
    return m.s;
}
