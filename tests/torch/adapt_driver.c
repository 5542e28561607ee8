/* adapt_driver.c — dumps one forward/backward of the full task model (a small
 * random BERT, frozen, + a Pfeiffer task adapter + each head) for
 * tests/torch/adapt_parity.py: per task a tensor stream DIR/TASK.xfts with
 * the base weights (HF names), the adapter and head weights (AdapterHub
 * names), the batch ("in.*", integers stored as f32), the outputs
 * ("out.logits", "out.loss") and the gradient of every trainable tensor
 * ("grad." + name).  Dropout is off (eval-mode forward with backward).
 * Usage: adapt_driver DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter_io.h"
#include "encoder.h"
#include "encoder_io.h"
#include "rng.h"
#include "taskmodel.h"
#include "tstream.h"
#include "util.h"

enum { V = 40, C = 16, L = 2, NH = 2, FF = 32, P = 32, B = 3 };

static void put(xf_tswriter *w, const char *name, const float *data, int ndim, int64_t d0,
                int64_t d1)
{
    int64_t shape[2] = { d0, d1 };
    xf_ts_write(w, name, XF_F32, ndim, shape, data);
}

/* every trainable tensor and its gradient ("grad." + name) */
static void put_params(xf_tswriter *w, const xf_taskmodel *m)
{
    for (int i = 0; i < m->npar; i++) {
        const xf_tm_param *q = &m->par[i];
        int64_t shape[3] = { q->shape[0], q->shape[1], q->shape[2] };
        char name[256];
        xf_ts_write(w, q->name, XF_F32, q->ndim, shape, q->data);
        snprintf(name, sizeof name, "grad.%s", q->name);
        xf_ts_write(w, name, XF_F32, q->ndim, shape, q->grad);
    }
}

static void fill(float *p, size_t n, float scale, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) p[i] = scale * (2 * xf_hash_uniform(seed, 9, i) - 1);
}

static void run(const char *dir, xf_task task)
{
    xf_enc_dims d = { .vocab = V, .hidden = C, .layers = L, .heads = NH, .inter = FF,
                      .max_pos = P, .type_vocab = 2, .pad_id = 0, .roberta = 0,
                      .ln_eps = 1e-12f, .p_hidden = 0, .p_attn = 0, .init_range = 0.2f };
    xf_encoder *e = xf_encoder_new(&d, 1);
    xf_encoder_init_random(e, 5);
    xf_encoder_set_has_pooler(e, 1);
    xf_tensorset *base = xf_encoder_to_tset(e);
    xf_taskmodel *m = xf_tm_new(e, "bert.", task);
    xf_tm_add_task_adapter(m, "t", 4);
    xf_tm_init_weights(m, 3);
    xf_tm_enable_training(m);
    /* larger than the N(0, 0.02) init so that every term matters */
    for (int i = 0; i < m->npar; i++) fill(m->par[i].data, m->par[i].n, 0.3f, (uint64_t)i + 17);

    /* the batch: 3 examples of 9, 6 and 4 tokens (padding in two rows) */
    static const int len[B] = { 9, 6, 4 };
    xf_example ex[B];
    const xf_example *p[B];
    memset(ex, 0, sizeof ex);
    for (int b = 0; b < B; b++) {
        xf_ex_reset(&ex[b], "eng", "x", task);
        xf_ex_push_token(&ex[b], 2, 0);
        for (int t = 1; t < len[b] - 1; t++)
            xf_ex_push_token(&ex[b], 5 + (int32_t)(xf_hash64(b, 1, (uint64_t)t) % (V - 5)), 0);
        xf_ex_push_token(&ex[b], 3, 0);
        /* words: subwords 1..len-2 in spans of 1 or 2 */
        int w = 0;
        for (int t = 1; t < len[b] - 1; w++) {
            int l = (t + 2 < len[b] - 1 && (t + b) % 3 == 0) ? 2 : 1;
            int32_t lab = task == XF_TASK_NER ? (int32_t)((t * 5 + b) % 7) : (int32_t)((t * 3 + b) % 17);
            xf_ex_push_word(&ex[b], t, t + l, task == XF_TASK_DEP ? -1 : lab,
                            task == XF_TASK_DEP ? (w == 0 ? 0 : (w * 7 + b) % (w + 1)) : -1,
                            task == XF_TASK_DEP ? (int32_t)((t * 11 + b) % 37) : -1);
            t += l;
        }
        if (task == XF_TASK_POS || task == XF_TASK_NER) ex[b].has_labels = 1;
        ex[b].label = b % 3;
        ex[b].ans_start = (int32_t)(b == 2 ? 0 : 1 + b);
        ex[b].ans_end = (int32_t)(b == 2 ? 0 : 2 + b);
        p[b] = &ex[b];
    }
    xf_tm_zero_grads(m);
    float loss = xf_tm_forward(m, p, B, 0, 0, 1);

    char path[512];
    snprintf(path, sizeof path, "%s/%s.xfts", dir, xf_task_name(task));
    json_t *cfg = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f}", "task",
                            xf_task_name(task), "vocab_size", V, "hidden_size", C,
                            "num_hidden_layers", L, "num_attention_heads", NH,
                            "intermediate_size", FF, "max_position_embeddings", P,
                            "type_vocab_size", 2, "pad_token_id", 0, "layer_norm_eps", 1e-12);
    json_t *extra = json_pack("{s:o}", "parity", cfg);
    xf_tswriter *w = xf_ts_create(path, "parity", -1, extra);
    json_decref(extra);
    for (size_t i = 0; i < base->n; i++) xf_ts_write_tensor(w, &base->t[i]);
    put_params(w, m);
    int T = m->T, maxw = 0;
    for (int b = 0; b < B; b++) if ((int)ex[b].nwords > maxw) maxw = (int)ex[b].nwords;
    float *ids = calloc((size_t)B * T, sizeof(float)), *am = calloc((size_t)B * T, sizeof(float));
    float *ws = malloc(sizeof(float) * B * maxw), *we = malloc(sizeof(float) * B * maxw);
    float *lab = malloc(sizeof(float) * B * maxw), *hd = malloc(sizeof(float) * B * maxw);
    float *rl = malloc(sizeof(float) * B * maxw), *cls = malloc(sizeof(float) * B);
    float *ans = malloc(sizeof(float) * B * 2);
    for (int b = 0; b < B; b++) {
        for (size_t t = 0; t < ex[b].n; t++) { ids[b * T + t] = (float)ex[b].ids[t]; am[b * T + t] = 1; }
        for (int k = 0; k < maxw; k++) {
            int in = k < (int)ex[b].nwords;
            ws[b * maxw + k] = in ? (float)ex[b].wstart[k] : -1;
            we[b * maxw + k] = in ? (float)ex[b].wend[k] : -1;
            lab[b * maxw + k] = in && ex[b].has_labels ? (float)ex[b].labels[k] : -1;
            hd[b * maxw + k] = in && task == XF_TASK_DEP ? (float)ex[b].heads[k] : -1;
            rl[b * maxw + k] = in && task == XF_TASK_DEP ? (float)ex[b].rels[k] : -1;
        }
        cls[b] = (float)ex[b].label;
        ans[2 * b] = (float)ex[b].ans_start;
        ans[2 * b + 1] = (float)ex[b].ans_end;
    }
    put(w, "in.ids", ids, 2, B, T);
    put(w, "in.am", am, 2, B, T);
    put(w, "in.wstart", ws, 2, B, maxw);
    put(w, "in.wend", we, 2, B, maxw);
    put(w, "in.labels", lab, 2, B, maxw);
    put(w, "in.heads", hd, 2, B, maxw);
    put(w, "in.rels", rl, 2, B, maxw);
    put(w, "in.cls", cls, 1, B, 0);
    put(w, "in.ans", ans, 2, B, 2);
    put(w, "out.loss", &loss, 1, 1, 0);
    int words = 0;
    for (int b = 0; b < B; b++) words += (int)ex[b].nwords;
    if (task == XF_TASK_POS || task == XF_TASK_NER) put(w, "out.logits", m->logits, 2, words, m->tag.K);
    if (task == XF_TASK_NLI) put(w, "out.logits", m->logits, 2, B, m->cls.K);
    if (task == XF_TASK_QA) put(w, "out.logits", m->logits, 2, (int64_t)B * T, 2);
    xf_ts_commit(w);
    free(ids); free(am); free(ws); free(we); free(lab); free(hd); free(rl); free(cls); free(ans);
    for (int b = 0; b < B; b++) xf_ex_free(&ex[b]);
    xf_tset_free(base);
    xf_tm_free(m);
}

/* Language-adapter training (task mlm, pfeiffer+inv): frozen base, adapter
 * "en" with its invertible adapter, the MLM head's own tensors trainable.
 * One masked-LM step over fixed masked positions, dumped like run(). */
static void run_mlm_inv(const char *dir)
{
    xf_enc_dims d = { .vocab = V, .hidden = C, .layers = L, .heads = NH, .inter = FF,
                      .max_pos = P, .type_vocab = 2, .pad_id = 0, .roberta = 0,
                      .ln_eps = 1e-12f, .p_hidden = 0, .p_attn = 0, .init_range = 0.2f };
    xf_encoder *e = xf_encoder_new(&d, 1);
    xf_encoder_init_random(e, 7);
    xf_tensorset *base = xf_encoder_to_tset(e);
    xf_taskmodel *m = xf_tm_new(e, "bert.", XF_TASK_MLM);
    xf_tm_add_task_adapter(m, "en", 4);
    xf_tm_add_task_invadapter(m);
    xf_tm_init_weights(m, 3);
    xf_tm_enable_training(m);
    for (int i = 0; i < m->npar; i++) fill(m->par[i].data, m->par[i].n, 0.3f, (uint64_t)i + 29);

    enum { T = 9 };
    static const int len[B] = { 9, 6, 4 };
    int32_t ids[B * T], am[B * T], pos[B * T], lab[B * T];
    int M = 0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int in = t < len[b];
            ids[b * T + t] = !in ? 0 : t == 0 ? 2 : t == len[b] - 1 ? 3
                           : 5 + (int32_t)(xf_hash64(b, 2, (uint64_t)t) % (V - 5));
            am[b * T + t] = in;
            if (in && t > 0 && t < len[b] - 1 && (t + b) % 2 == 0) {
                pos[M] = b * T + t;
                lab[M] = ids[b * T + t];
                ids[b * T + t] = 4;   /* [MASK] */
                M++;
            }
        }
    xf_tm_zero_grads(m);
    xf_encoder_forward(e, ids, NULL, am, B, T, 0, 0);
    const float *logits;
    float loss = xf_encoder_mlm_step(e, pos, lab, M, 1, &logits);

    char path[512];
    snprintf(path, sizeof path, "%s/mlm.xfts", dir);
    json_t *cfg = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f}", "task", "mlm",
                            "vocab_size", V, "hidden_size", C, "num_hidden_layers", L,
                            "num_attention_heads", NH, "intermediate_size", FF,
                            "max_position_embeddings", P, "type_vocab_size", 2, "pad_token_id", 0,
                            "layer_norm_eps", 1e-12);
    json_t *extra = json_pack("{s:o}", "parity", cfg);
    xf_tswriter *w = xf_ts_create(path, "parity", -1, extra);
    json_decref(extra);
    for (size_t i = 0; i < base->n; i++) {   /* the trainable MLM head comes below */
        int trained = 0;
        for (int k = 0; k < m->npar; k++) trained |= !strcmp(m->par[k].name, base->t[i].name);
        if (!trained) xf_ts_write_tensor(w, &base->t[i]);
    }
    put_params(w, m);
    float fids[B * T], fam[B * T], flab[B * T];
    for (int i = 0; i < B * T; i++) { fids[i] = (float)ids[i]; fam[i] = (float)am[i]; flab[i] = -100; }
    for (int k = 0; k < M; k++) flab[pos[k]] = (float)lab[k];
    put(w, "in.ids", fids, 2, B, T);
    put(w, "in.am", fam, 2, B, T);
    put(w, "in.labels", flab, 2, B, T);
    put(w, "out.loss", &loss, 1, 1, 0);
    put(w, "out.logits", logits, 2, M, V);
    xf_ts_commit(w);
    xf_tset_free(base);
    xf_tm_free(m);
}

int main(int argc, char **argv)
{
    xf_init(argc, argv);
    if (argc != 2) die_usage("usage: adapt_driver DIR");
    xf_task tasks[] = { XF_TASK_POS, XF_TASK_NER, XF_TASK_NLI, XF_TASK_QA, XF_TASK_DEP };
    for (size_t i = 0; i < sizeof tasks / sizeof *tasks; i++) run(argv[1], tasks[i]);
    run_mlm_inv(argv[1]);
    return 0;
}
