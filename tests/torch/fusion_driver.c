/* fusion_driver.c — dumps one forward/backward of Stack(Fuse(l1..lN), task)
 * on a small random frozen BERT with a task head, for
 * tests/torch/fusion_parity.py: per case a tensor stream DIR/CASE.xfts with
 * the base weights (HF names), the language adapters, task adapter and head
 * (AdapterHub names, frozen), the fusion parameters (trainable), the batch
 * ("in.*"), xf's outputs ("out.logits", "out.loss", the loss including the
 * 0.01·‖I − V‖² regulariser as "out.loss_reg") and the gradients of the
 * fusion parameters ("grad." + name).  Dropout off.
 * Usage: fusion_driver DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder.h"
#include "encoder_io.h"
#include "rng.h"
#include "taskmodel.h"
#include "tstream.h"
#include "util.h"

enum { V = 40, C = 16, L = 2, NH = 2, FF = 32, P = 32, B = 3, RED = 4 };

static void put(xf_tswriter *w, const char *name, const float *data, int ndim, int64_t d0,
                int64_t d1)
{
    int64_t shape[2] = { d0, d1 };
    xf_ts_write(w, name, XF_F32, ndim, shape, data);
}

static void fill(float *p, size_t n, float scale, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) p[i] = scale * (2 * xf_hash_uniform(seed, 9, i) - 1);
}

static void add_tensor(xf_tensorset *s, const char *name, int ndim, int64_t d0, int64_t d1,
                       uint64_t seed)
{
    xf_tensor t = {0};
    t.name = xstrdup(name);
    t.dtype = XF_F32;
    t.ndim = ndim;
    t.shape[0] = d0;
    t.shape[1] = d1;
    t.nbytes = xf_tensor_numel(&t) * sizeof(float);
    t.data = xmalloc_aligned(t.nbytes);
    fill(t.data, t.nbytes / sizeof(float), 0.3f, seed);
    xf_tset_add(s, &t);
}

static void run(const char *dir, const char *cname, xf_task task, int nlang)
{
    static const char *langs[3] = { "eng", "hin", "zho" };
    xf_enc_dims d = { .vocab = V, .hidden = C, .layers = L, .heads = NH, .inter = FF,
                      .max_pos = P, .type_vocab = 2, .pad_id = 0, .roberta = 0,
                      .ln_eps = 1e-12f, .p_hidden = 0, .p_attn = 0, .init_range = 0.2f };
    xf_encoder *e = xf_encoder_new(&d, 1);
    xf_encoder_init_random(e, 5);
    xf_encoder_set_has_pooler(e, 1);
    xf_tensorset *base = xf_encoder_to_tset(e);
    xf_taskmodel *m = xf_tm_new(e, "bert.", task);
    /* the language adapters */
    xf_tensorset *la = xf_tset_new();
    uint64_t seed = 100;
    for (int k = 0; k < nlang; k++)
        for (int l = 0; l < L; l++) {
            char n[256];
            const char *pre = "bert.encoder.layer.%d.output.adapters.%s.%s";
            snprintf(n, sizeof n, pre, l, langs[k], "adapter_down.0.weight");
            add_tensor(la, n, 2, C / RED, C, seed++);
            snprintf(n, sizeof n, pre, l, langs[k], "adapter_down.0.bias");
            add_tensor(la, n, 1, C / RED, 0, seed++);
            snprintf(n, sizeof n, pre, l, langs[k], "adapter_up.weight");
            add_tensor(la, n, 2, C, C / RED, seed++);
            snprintf(n, sizeof n, pre, l, langs[k], "adapter_up.bias");
            add_tensor(la, n, 1, C, 0, seed++);
        }
    for (int k = 0; k < nlang; k++) xf_tm_add_fused_lang(m, langs[k], la, "driver");
    xf_tm_add_fusion(m, NULL, "driver", 3, 1);
    xf_tm_add_task_adapter(m, "t", RED);
    xf_tm_list_params(m);   /* task adapter + head: random, frozen */
    xf_tensorset *frozen = xf_tset_new();
    for (int i = 0; i < m->npar; i++) {
        fill(m->par[i].data, m->par[i].n, 0.3f, (uint64_t)i + 17);
        xf_tensor t = {0};
        t.name = xstrdup(m->par[i].name);
        t.dtype = XF_F32;
        t.ndim = m->par[i].ndim;
        for (int j = 0; j < t.ndim; j++) t.shape[j] = m->par[i].shape[j];
        t.nbytes = m->par[i].n * sizeof(float);
        t.data = xmalloc_aligned(t.nbytes);
        memcpy(t.data, m->par[i].data, t.nbytes);
        xf_tset_add(frozen, &t);
    }
    xf_tm_enable_fusion_training(m);
    /* Q, K, biases random; V = I + noise (so that every term matters) */
    for (int i = 0; i < m->npar; i++) {
        fill(m->par[i].data, m->par[i].n, 0.3f, (uint64_t)i + 57);
        if (strstr(m->par[i].name, ".value.weight"))
            for (int c = 0; c < C; c++) m->par[i].data[c * C + c] += 1;
    }

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
        for (int t = 1; t < len[b] - 1; t++)
            xf_ex_push_word(&ex[b], t, t + 1, (int32_t)((t * 3 + b) % 17), -1, -1);
        ex[b].has_labels = task == XF_TASK_POS;
        ex[b].label = b % 3;
        p[b] = &ex[b];
    }
    xf_tm_zero_grads(m);
    float loss = xf_tm_forward(m, p, B, 0, 0, 1);
    float loss_reg = loss + (float)xf_tm_fusion_reg(m);

    char path[512];
    snprintf(path, sizeof path, "%s/%s.xfts", dir, cname);
    json_t *cfg = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f}", "task",
                            xf_task_name(task), "nlang", nlang, "vocab_size", V, "hidden_size", C,
                            "num_hidden_layers", L, "num_attention_heads", NH,
                            "intermediate_size", FF, "max_position_embeddings", P,
                            "type_vocab_size", 2, "pad_token_id", 0, "layer_norm_eps", 1e-12);
    json_t *extra = json_pack("{s:o}", "parity", cfg);
    xf_tswriter *w = xf_ts_create(path, "parity", -1, extra);
    json_decref(extra);
    for (size_t i = 0; i < base->n; i++) xf_ts_write_tensor(w, &base->t[i]);
    for (size_t i = 0; i < la->n; i++) xf_ts_write_tensor(w, &la->t[i]);
    for (size_t i = 0; i < frozen->n; i++) xf_ts_write_tensor(w, &frozen->t[i]);
    for (int i = 0; i < m->npar; i++) {
        const xf_tm_param *q = &m->par[i];
        int64_t shape[3] = { q->shape[0], q->shape[1], q->shape[2] };
        char name[300];
        xf_ts_write(w, q->name, XF_F32, q->ndim, shape, q->data);
        snprintf(name, sizeof name, "grad.%s", q->name);
        xf_ts_write(w, name, XF_F32, q->ndim, shape, q->grad);
    }
    int T = m->T, words = 0;
    float *ids = calloc((size_t)B * T, sizeof(float)), *am = calloc((size_t)B * T, sizeof(float));
    float *lab = malloc(sizeof(float) * B * T), *cls = malloc(sizeof(float) * B);
    for (int b = 0; b < B; b++) {
        for (size_t t = 0; t < ex[b].n; t++) { ids[b * T + t] = (float)ex[b].ids[t]; am[b * T + t] = 1; }
        for (int t = 0; t < T; t++)
            lab[b * T + t] = t >= 1 && t <= (int)ex[b].nwords ? (float)ex[b].labels[t - 1] : -1;
        cls[b] = (float)ex[b].label;
        words += (int)ex[b].nwords;
    }
    put(w, "in.ids", ids, 2, B, T);
    put(w, "in.am", am, 2, B, T);
    put(w, "in.labels", lab, 2, B, T);   /* per token: word t-1's label at token t, else -1 */
    put(w, "in.cls", cls, 1, B, 0);
    put(w, "out.loss", &loss, 1, 1, 0);
    put(w, "out.loss_reg", &loss_reg, 1, 1, 0);
    if (task == XF_TASK_POS) put(w, "out.logits", m->logits, 2, words, m->tag.K);
    else put(w, "out.logits", m->logits, 2, B, m->cls.K);
    xf_ts_commit(w);
    free(ids); free(am); free(lab); free(cls);
    for (int b = 0; b < B; b++) xf_ex_free(&ex[b]);
    xf_tset_free(base);
    xf_tset_free(la);
    xf_tset_free(frozen);
    xf_tm_free(m);
}

int main(int argc, char **argv)
{
    xf_init(argc, argv);
    if (argc != 2) die_usage("usage: fusion_driver DIR");
    run(argv[1], "pos2", XF_TASK_POS, 2);
    run(argv[1], "pos3", XF_TASK_POS, 3);
    run(argv[1], "nli3", XF_TASK_NLI, 3);
    return 0;
}
