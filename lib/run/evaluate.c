/* evaluate.c — forward-only evaluation of a task model (evaluate.h). */
#include "evaluate.h"
#include "mst.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

xf_eval_opts xf_eval_defaults(void)
{
    return (xf_eval_opts){ .batch = 32, .max_tokens = 16384, .decode = XF_DECODE_GREEDY };
}

static const xf_example *sort_base;
static int by_length(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    size_t li = sort_base[i].n, lj = sort_base[j].n;
    if (li != lj) return li < lj ? -1 : 1;
    return i < j ? -1 : i > j;
}

/* Examples in one batch starting at ORD[a]: at most O->batch, and B·T at
 * most O->max_tokens unless one example alone is longer (sorted: the last
 * row is the longest). */
static int batch_size(const xf_example *ex, const size_t *ord, size_t a, size_t nuse,
                      const xf_eval_opts *o)
{
    int B = 0;
    while (a + B < nuse && B < o->batch) {
        size_t T = ex[ord[a + B]].n;
        if (B > 0 && (long)((B + 1) * T) > o->max_tokens) break;
        B++;
    }
    return B;
}

static int argmax(const float *v, int K)
{
    int best = 0;
    for (int k = 1; k < K; k++)
        if (v[k] > v[best]) best = k;
    return best;
}

/* One QA window kept until all windows of its question are scored. */
typedef struct qa_win {
    size_t ex;          /* index into the example array */
    float *logits;      /* [T,2] */
    int32_t *offsets;   /* [T,2] */
} qa_win;

static int qa_by_qid(const void *a, const void *b, void *ctx);
typedef struct { const char **qid; } qa_ctx;
static qa_ctx qactx;
static int qa_cmp(const void *a, const void *b) { return qa_by_qid(a, b, &qactx); }
static int qa_by_qid(const void *a, const void *b, void *ctx)
{
    const qa_ctx *c = ctx;
    size_t i = ((const qa_win *)a)->ex, j = ((const qa_win *)b)->ex;
    int r = strcmp(c->qid[i], c->qid[j]);
    if (r) return r;
    return i < j ? -1 : i > j;
}

static void qa_finish(qa_win *w, size_t nw, const xf_example *ex, size_t n, xf_squad_acc *acc)
{
    const char **qid = xcalloc(n, sizeof *qid);
    json_t **js = xcalloc(n, sizeof *js);
    for (size_t k = 0; k < nw; k++) {
        size_t i = w[k].ex;
        js[i] = xf_ex_extra_json(&ex[i], ex[i].id);
        if (!js[i]) die("%s: qa example without extra JSON", ex[i].id);
        qid[i] = json_string_value(json_object_get(js[i], "qid"));
        if (!qid[i]) die("%s: qa extra JSON without qid", ex[i].id);
    }
    qactx.qid = qid;
    qsort(w, nw, sizeof *w, qa_cmp);
    xf_qa_window *qw = xmalloc(sizeof *qw * (nw ? nw : 1));
    for (size_t a = 0; a < nw;) {
        size_t b = a;
        while (b < nw && !strcmp(qid[w[b].ex], qid[w[a].ex])) b++;
        for (size_t k = a; k < b; k++)
            qw[k - a] = (xf_qa_window){ w[k].logits, w[k].offsets, (int)ex[w[k].ex].n };
        int bs = 0, be = 0;
        float score;
        json_t *j = js[w[a].ex];
        const char *ctxt = json_string_value(json_object_get(j, "context"));
        json_t *answers = json_object_get(j, "answers");
        if (!ctxt || !json_is_array(answers) || !json_array_size(answers))
            die("%s: qa extra JSON needs context and a non-empty answers list", ex[w[a].ex].id);
        size_t clen = strlen(ctxt);
        char *pred;
        if (xf_qa_best_span(qw, (int)(b - a), 20, 30, &bs, &be, &score) && bs >= 0 &&
            be >= bs && (size_t)be <= clen) {
            pred = xmalloc((size_t)(be - bs) + 1);
            memcpy(pred, ctxt + bs, (size_t)(be - bs));
            pred[be - bs] = 0;
        } else {
            pred = xstrdup("empty");   /* what HF's postprocessing answers */
        }
        size_t ng = json_array_size(answers);
        const char **golds = xmalloc(sizeof *golds * ng);
        for (size_t g = 0; g < ng; g++) {
            golds[g] = json_string_value(json_array_get(answers, g));
            if (!golds[g]) die("%s: qa answer %zu is not a string", ex[w[a].ex].id, g);
        }
        xf_squad_add(acc, pred, golds, (int)ng);
        free(golds);
        free(pred);
        a = b;
    }
    free(qw);
    for (size_t i = 0; i < n; i++) json_decref(js[i]);
    free(js);
    free(qid);
}

xf_eval_result xf_evaluate(xf_taskmodel *m, const xf_example *ex, size_t n,
                           const xf_eval_opts *o)
{
    xf_eval_result res = {0};
    if (o->batch < 1) die("evaluate: batch size %d", o->batch);
    double t0 = xf_now();
    size_t *ord = xmalloc(sizeof *ord * (n ? n : 1));
    size_t nuse = 0, skipped = 0;
    for (size_t i = 0; i < n; i++) {
        if (ex[i].task != m->task)
            die("%s: example of task %s, model is %s", ex[i].id, xf_task_name(ex[i].task),
                xf_task_name(m->task));
        int ok = 1;
        if ((m->task == XF_TASK_POS || m->task == XF_TASK_NER) && !ex[i].has_labels)
            die("%s: example without gold labels", ex[i].id);
        if (m->task == XF_TASK_NLI && ex[i].label < 0) die("%s: example without a gold label", ex[i].id);
        if (m->task == XF_TASK_DEP) {
            if (!ex[i].heads || !ex[i].rels) die("%s: example without gold heads", ex[i].id);
            for (size_t w = 0; w < ex[i].nwords; w++)
                if (ex[i].heads[w] < 0) ok = 0;
            if (!ex[i].nwords) ok = 0;
        }
        if (ok) ord[nuse++] = i;
        else skipped++;
    }
    if (skipped) warning("%zu dep example(s) of split sentences skipped", skipped);
    sort_base = ex;
    qsort(ord, nuse, sizeof *ord, by_length);
    /* An eval-only model runs its encoder forward only, with the arena
     * sized once for the largest batch below (in tokens), not grown batch
     * by batch as the sorted lengths rise.  A trainable one (validation
     * during xf-adapt) keeps its training arena. */
    xf_encoder *enc = m->enc;
    int fwd_only_was = xf_encoder_forward_only(enc);
    if (!m->trainable) {
        xf_encoder_set_forward_only(enc, 1);
        xf_adapter_set_forward_only(&m->set, 1);
        int bigB = 0, bigT = 0;
        for (size_t a = 0; a < nuse;) {
            int B = batch_size(ex, ord, a, nuse, o);
            int T = (int)ex[ord[a + B - 1]].n;
            if ((size_t)B * T > (size_t)bigB * bigT) { bigB = B; bigT = T; }
            a += (size_t)B;
        }
        if (bigB) xf_encoder_reserve(enc, bigB, bigT);
    }

    xf_acc acc = {0};
    xf_dep_acc dacc = {0};
    xf_ner_acc nacc = {0};
    xf_squad_acc sacc = {0};
    qa_win *qw = m->task == XF_TASK_QA ? xcalloc(nuse ? nuse : 1, sizeof *qw) : NULL;
    size_t nqw = 0;
    const xf_example **batch = xmalloc(sizeof *batch * (size_t)(o->batch > 0 ? o->batch : 1));
    const char **gn = NULL, **pn = NULL;
    size_t gcap = 0;
    int32_t *ph = NULL, *pr = NULL;
    for (size_t a = 0; a < nuse;) {
        int B = batch_size(ex, ord, a, nuse, o);
        for (int b = 0; b < B; b++) batch[b] = &ex[ord[a + b]];
        xf_tm_forward(m, batch, B, 0, 0, 0);
        const float *hid = xf_encoder_hidden(m->enc);
        int T = m->T;
        size_t row = 0;
        for (int b = 0; b < B; b++) {
            const xf_example *e = batch[b];
            res.tokens += (double)e->n;
            size_t nw = e->nwords;
            if (nw > gcap) {
                gcap = nw * 2;
                gn = xrealloc(gn, sizeof *gn * gcap);
                pn = xrealloc(pn, sizeof *pn * gcap);
                ph = xrealloc(ph, sizeof *ph * gcap);
                pr = xrealloc(pr, sizeof *pr * gcap);
            }
            switch (m->task) {
            case XF_TASK_POS: case XF_TASK_NER: {
                int K = m->tag.K;
                for (size_t w = 0; w < nw; w++, row++) {
                    gn[w] = xf_label_name(m->task, e->labels[w]);
                    pn[w] = xf_label_name(m->task, argmax(m->logits + row * K, K));
                }
                if (m->task == XF_TASK_POS) xf_acc_add_names(&acc, gn, pn, (int)nw);
                else xf_ner_add(&nacc, gn, pn, (int)nw);
                break;
            }
            case XF_TASK_NLI: {
                int32_t p = argmax(m->logits + (size_t)b * m->cls.K, m->cls.K);
                xf_acc_add_ids(&acc, &e->label, &p, 1);
                break;
            }
            case XF_TASK_DEP: {
                xf_biaffine_head_predict(&m->dep, hid, &m->sent[b], o->decode, ph, pr, NULL);
                for (size_t w = 0; w < nw; w++) {
                    gn[w] = xf_label_name(XF_TASK_DEP, e->rels[w]);
                    pn[w] = xf_label_name(XF_TASK_DEP, pr[w]);
                }
                xf_dep_add(&dacc, e->heads, gn, ph, pn, (int)nw);
                break;
            }
            case XF_TASK_QA: {
                qa_win *q = &qw[nqw++];
                q->ex = (size_t)(e - ex);
                q->logits = xmalloc(sizeof(float) * 2 * e->n);
                memcpy(q->logits, m->logits + (size_t)b * T * 2, sizeof(float) * 2 * e->n);
                q->offsets = xmalloc(sizeof(int32_t) * 2 * e->n);
                for (size_t t = 0; t < e->n; t++) {
                    q->offsets[2 * t] = e->off_start ? e->off_start[t] : -1;
                    q->offsets[2 * t + 1] = e->off_end ? e->off_end[t] : -1;
                }
                break;
            }
            default: break;
            }
        }
        a += (size_t)B;
    }
    switch (m->task) {
    case XF_TASK_POS:
        res.n = 1; res.metric[0] = "upos_acc"; res.value[0] = xf_acc_finish(&acc); break;
    case XF_TASK_NLI:
        res.n = 1; res.metric[0] = "acc"; res.value[0] = xf_acc_finish(&acc); break;
    case XF_TASK_NER:
        res.n = 1; res.metric[0] = "ner_f1"; res.value[0] = xf_ner_f1(&nacc); break;
    case XF_TASK_DEP:
        res.n = 2;
        res.metric[0] = "uas"; res.value[0] = xf_dep_uas(&dacc);
        res.metric[1] = "las"; res.value[1] = xf_dep_las(&dacc);
        break;
    case XF_TASK_QA:
        qa_finish(qw, nqw, ex, n, &sacc);
        res.n = 2;
        res.metric[0] = "em"; res.value[0] = xf_squad_em(&sacc);
        res.metric[1] = "qa_f1"; res.value[1] = xf_squad_f1(&sacc);
        for (size_t k = 0; k < nqw; k++) { free(qw[k].logits); free(qw[k].offsets); }
        break;
    default: break;
    }
    free(qw); free(batch); free(gn); free(pn); free(ph); free(pr); free(ord);
    if (!m->trainable && !fwd_only_was) xf_encoder_set_forward_only(enc, 0);
    if (!m->trainable) xf_adapter_set_forward_only(&m->set, 0);
    res.seconds = xf_now() - t0;
    return res;
}
