/* test_taskmodel.c — the task model as a whole (taskmodel.h, adapter_io.h):
 * the adapter identity property at model level (zero up-projection ⇒ the
 * final hidden states equal the base model's), a finite-difference check of
 * the full model's loss (frozen base + adapter + head, dropout off) w.r.t.
 * adapter and head parameters, training lowering the loss, bitwise
 * reproducible training, the stream and AdapterHub round trips, the
 * import's refusal of adapter configs xf does not compute, and language
 * adapters (MLM, plain and pfeiffer+inv): finite differences through the
 * MLM head (and the invertible adapter's inverse before it), training that
 * lowers the masked-LM loss with the base weights (and the tied decoder)
 * bitwise unchanged while the head's own tensors train, as the adapters
 * library's train_adapter; the trained head through the stream. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapter_io.h"
#include "encoder.h"
#include "evaluate.h"
#include "rng.h"
#include "safetensors.h"
#include "taskmodel.h"
#include "train_adapter.h"
#include "util.h"

static xf_enc_dims dims(void)
{
    return (xf_enc_dims){ .vocab = 40, .hidden = 16, .layers = 2, .heads = 2, .inter = 32,
                          .max_pos = 32, .type_vocab = 2, .pad_id = 0, .roberta = 0,
                          .ln_eps = 1e-12f, .p_hidden = 0.1f, .p_attn = 0.1f,
                          .init_range = 0.3f };
}

static xf_encoder *base(uint64_t seed)
{
    xf_enc_dims d = dims();
    xf_encoder *e = xf_encoder_new(&d, 1);
    xf_encoder_init_random(e, seed);
    return e;
}

/* N examples of TASK: [CLS] w.. [SEP], words of 1-2 subwords, labels from the ids */
static xf_example *examples(xf_task task, int n, uint64_t seed)
{
    xf_example *v = calloc((size_t)n, sizeof *v);
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "s%d", i);
        xf_ex_reset(&v[i], "eng", id, task);
        int nw = 3 + i % 4, t = 1;
        xf_ex_push_token(&v[i], 2, 0);
        for (int w = 0; w < nw; w++) {
            int len = 1 + (int)(xf_hash64(seed, 1, (uint64_t)(i * 100 + w)) % 2);
            int32_t first = 5 + (int32_t)(xf_hash64(seed, 2, (uint64_t)(i * 100 + w)) % 30);
            for (int k = 0; k < len; k++) xf_ex_push_token(&v[i], first + k, 0);
            int32_t label = task == XF_TASK_POS ? first % 17 : task == XF_TASK_NER ? first % 7 : -1;
            int32_t head = task == XF_TASK_DEP ? (w == 0 ? 0 : w) : -1;
            int32_t rel = task == XF_TASK_DEP ? first % 37 : -1;
            xf_ex_push_word(&v[i], t, t + len, label, head, rel);
            t += len;
        }
        xf_ex_push_token(&v[i], 3, 0);
        if (task == XF_TASK_NLI) v[i].label = i % 3;
        if (task == XF_TASK_POS || task == XF_TASK_NER) v[i].has_labels = 1;
    }
    return v;
}

static const xf_example **ptrs(xf_example *v, int n)
{
    const xf_example **p = malloc(sizeof *p * (size_t)n);
    for (int i = 0; i < n; i++) p[i] = &v[i];
    return p;
}

static xf_taskmodel *model(xf_task task, uint64_t seed)
{
    xf_taskmodel *m = xf_tm_new(base(seed), "bert.", task);
    xf_tm_add_task_adapter(m, xf_task_name(task), 4);
    xf_tm_init_weights(m, seed + 1);
    return m;
}

Test(taskmodel, identity_zero_up_projection)
{
    xf_example *ex = examples(XF_TASK_POS, 3, 5);
    const xf_example **p = ptrs(ex, 3);
    /* the base alone */
    xf_encoder *e = base(9);
    int T = 0;
    for (int i = 0; i < 3; i++) if ((int)ex[i].n > T) T = (int)ex[i].n;
    int32_t *ids = calloc((size_t)3 * T, sizeof *ids), *am = calloc((size_t)3 * T, sizeof *am);
    for (int b = 0; b < 3; b++)
        for (size_t t = 0; t < ex[b].n; t++) { ids[b * T + t] = ex[b].ids[t]; am[b * T + t] = 1; }
    xf_encoder_forward(e, ids, NULL, am, 3, T, 0, 0);
    size_t NC = (size_t)3 * T * 16;
    float *ref = malloc(NC * sizeof(float));
    memcpy(ref, xf_encoder_hidden(e), NC * sizeof(float));
    xf_encoder_free(e);
    /* base + a task adapter whose up-projection (weight and bias) is zero */
    xf_taskmodel *m = model(XF_TASK_POS, 9);
    for (int l = 0; l < m->L; l++) {
        xf_bottleneck *b = &m->task_ad[l];
        memset(b->up_w, 0, sizeof(float) * (size_t)b->C * b->D);
        memset(b->up_b, 0, sizeof(float) * (size_t)b->C);
    }
    xf_tm_forward(m, p, 3, 0, 0, 0);
    const float *hid = xf_encoder_hidden(m->enc);
    double maxd = 0;
    for (size_t i = 0; i < NC; i++) maxd = fmax(maxd, fabs((double)hid[i] - ref[i]));
    cr_assert(maxd <= 1e-6, "zero up-projection changed the hidden states by %g", maxd);
    /* and a non-zero one does change them (the check can fail) */
    m->task_ad[0].up_b[0] = 0.5f;
    xf_tm_forward(m, p, 3, 0, 0, 0);
    hid = xf_encoder_hidden(m->enc);
    maxd = 0;
    for (size_t i = 0; i < NC; i++) maxd = fmax(maxd, fabs((double)hid[i] - ref[i]));
    cr_assert(maxd > 1e-3, "a non-zero adapter left the hidden states unchanged");
    xf_tm_free(m);
    free(ref); free(ids); free(am); free(p);
    xf_ex_free_all(ex, 3);
}

/* Full-model gradient vs central differences (dropout off), for a few
 * elements of every trainable tensor. */
static void fd_check(xf_task task)
{
    xf_example *ex = examples(task, 4, 11);
    const xf_example **p = ptrs(ex, 4);
    xf_taskmodel *m = model(task, 3);
    if (task == XF_TASK_DEP)   /* zero init has no curvature to check: randomise */
        for (int i = 0; i < 1; i++) {
            float *w = m->dep.params;
            size_t n = (size_t)17 * 16 + (size_t)37 * 17 * 17;
            for (size_t k = 0; k < n; k++) w[k] = 0.2f * (2 * xf_hash_uniform(4, 4, k) - 1);
        }
    xf_tm_enable_training(m);
    xf_tm_zero_grads(m);
    xf_tm_forward(m, p, 4, 0, 0, 1);
    int checked = 0;
    for (int i = 0; i < m->npar; i++) {
        xf_tm_param *q = &m->par[i];
        for (int k = 0; k < 3; k++) {
            size_t j = (size_t)xf_hash64(7, (uint64_t)i, (uint64_t)k) % q->n;
            float save = q->data[j];
            double h = 1e-2;
            q->data[j] = save + (float)h;
            double lp = xf_tm_forward(m, p, 4, 0, 0, 0);
            q->data[j] = save - (float)h;
            double lm = xf_tm_forward(m, p, 4, 0, 0, 0);
            q->data[j] = save;
            double fd = (lp - lm) / (2 * h), g = q->grad[j];
            cr_assert(fabs(g - fd) <= 2e-3 + 2e-2 * fmax(fabs(g), fabs(fd)),
                      "%s %s[%zu]: gradient %g, finite difference %g", xf_task_name(task),
                      q->name, j, g, fd);
            checked++;
        }
    }
    cr_assert(checked >= 6);
    xf_tm_free(m);
    free(p);
    xf_ex_free_all(ex, 4);
}

Test(taskmodel, fd_pos) { fd_check(XF_TASK_POS); }
Test(taskmodel, fd_nli) { fd_check(XF_TASK_NLI); }
Test(taskmodel, fd_dep) { fd_check(XF_TASK_DEP); }

static xf_train_opts quick_opts(void)
{
    xf_train_opts o = xf_train_defaults(XF_TASK_POS);
    o.batch = 4;
    o.epochs = 20;
    o.lr = 3e-2f;
    o.seed = 3;
    return o;
}

/* The training defaults are the paper's appendix E: language adapters
 * (mlm) batch 8, 3 epochs, lr 5e-4, seq 256; POS/NER task adapters batch
 * 36, 5 epochs, lr 5e-4; DEP batch 12 (memory; the paper uses 36). */
Test(taskmodel, training_defaults_appendix_e)
{
    xf_train_opts o = xf_train_defaults(XF_TASK_MLM);
    cr_assert_eq(o.batch, 8);
    cr_assert_eq(o.epochs, 3);
    cr_assert_float_eq(o.lr, 5e-4f, 1e-9f);
    cr_assert_eq(o.seq, 256);
    o = xf_train_defaults(XF_TASK_POS);
    cr_assert_eq(o.batch, 36);
    cr_assert_eq(o.epochs, 5);
    cr_assert_float_eq(o.lr, 5e-4f, 1e-9f);
    cr_assert_eq(xf_train_defaults(XF_TASK_NER).batch, 36);
    cr_assert_eq(xf_train_defaults(XF_TASK_DEP).batch, 12);
}

Test(taskmodel, training_lowers_loss_and_is_reproducible)
{
    xf_example *ex = examples(XF_TASK_POS, 16, 21);
    xf_train_opts o = quick_opts();
    xf_taskmodel *a = model(XF_TASK_POS, 5), *b = model(XF_TASK_POS, 5);
    xf_train_result ra = xf_train_adapter(a, ex, 16, NULL, 0, &o);
    xf_train_result rb = xf_train_adapter(b, ex, 16, NULL, 0, &o);
    cr_assert_eq(ra.last_loss, rb.last_loss);
    cr_assert(ra.last_loss < 0.8 * ra.first_loss, "loss %g -> %g", ra.first_loss, ra.last_loss);
    cr_assert_eq(ra.steps, 80);
    for (int i = 0; i < a->npar; i++)
        cr_assert(!memcmp(a->par[i].data, b->par[i].data, sizeof(float) * a->par[i].n),
                  "%s differs between two runs with one seed", a->par[i].name);
    xf_tm_free(a);
    xf_tm_free(b);
    xf_ex_free_all(ex, 16);
}

static void same_logits(xf_taskmodel *a, xf_taskmodel *b, xf_example *ex, int n)
{
    const xf_example **p = ptrs(ex, n);
    xf_tm_forward(a, p, n, 0, 0, 0);
    size_t words = 0;
    for (int i = 0; i < n; i++) words += ex[i].nwords;
    size_t nl = words * 17;
    float *la = malloc(nl * sizeof(float));
    memcpy(la, a->logits, nl * sizeof(float));
    xf_tm_forward(b, p, n, 0, 0, 0);
    cr_assert(!memcmp(la, b->logits, nl * sizeof(float)), "logits differ after the round trip");
    free(la);
    free(p);
}

Test(taskmodel, stream_and_hub_round_trip)
{
    char dir[] = "/tmp/xf_tm_XXXXXX";
    cr_assert(mkdtemp(dir));
    char sp[256], hp[256];
    snprintf(sp, sizeof sp, "%s/pos.xfts", dir);
    snprintf(hp, sizeof hp, "%s/hub", dir);
    xf_example *ex = examples(XF_TASK_POS, 6, 2);
    xf_taskmodel *m = model(XF_TASK_POS, 8);
    xf_tm_list_params(m);
    xf_config cfg = {0};
    snprintf(cfg.model_type, sizeof cfg.model_type, "bert");
    cfg.vocab_size = 40; cfg.hidden_size = 16; cfg.num_hidden_layers = 2;
    cfg.num_attention_heads = 2; cfg.intermediate_size = 32; cfg.max_position_embeddings = 32;
    cfg.type_vocab_size = 2; cfg.layer_norm_eps = 1e-12; cfg.initializer_range = 0.3;
    snprintf(cfg.hidden_act, sizeof cfg.hidden_act, "gelu");
    xf_tm_save_stream(sp, m, &cfg, 1, NULL);
    xf_tm_save_hub(hp, m, &cfg);
    const char *paths[2] = { sp, hp };
    for (int k = 0; k < 2; k++) {
        xf_adapter_file *f = xf_adapter_file_load(paths[k], "bert.");
        cr_assert_eq(f->task, XF_TASK_POS);
        cr_assert_eq(f->reduction, 4);
        cr_assert_str_eq(f->name, "pos");
        xf_taskmodel *b = xf_tm_new(base(8), "bert.", XF_TASK_POS);
        xf_tm_load_task(b, f, paths[k]);
        same_logits(m, b, ex, 6);
        xf_tm_free(b);
        xf_adapter_file_free(f);
    }
    /* the folder holds AdapterHub's names */
    xf_tensorset *ts = xf_tset_new();
    char p[300];
    snprintf(p, sizeof p, "%s/adapter.safetensors", hp);
    xf_safetensors_read_into(p, ts, NULL);
    cr_assert(xf_tset_get(ts, "bert.encoder.layer.1.output.adapters.pos.adapter_down.0.weight"));
    cr_assert(xf_tset_get(ts, "bert.encoder.layer.0.output.adapters.pos.adapter_up.bias"));
    cr_assert_eq(ts->n, 8);
    xf_tset_free(ts);
    xf_tm_free(m);
    xf_ex_free_all(ex, 6);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static char refuse_dir[] = "/tmp/xf_tm_XXXXXX";
static void refuse_cleanup(void)
{
    char p[256];
    snprintf(p, sizeof p, "%s/adapter_config.json", refuse_dir);
    unlink(p);
    rmdir(refuse_dir);
}

Test(taskmodel, hub_import_refuses_other_adapters, .exit_code = 1)
{
    char *dir = refuse_dir;
    cr_assert(mkdtemp(dir));
    atexit(refuse_cleanup);
    char p[256];
    snprintf(p, sizeof p, "%s/adapter_config.json", dir);
    FILE *f = fopen(p, "w");
    fputs("{\"config\": {\"architecture\": \"bottleneck\", \"mh_adapter\": true, "
          "\"output_adapter\": true, \"original_ln_before\": true, \"original_ln_after\": true,"
          " \"residual_before_ln\": true, \"non_linearity\": \"relu\", \"reduction_factor\": 4},"
          " \"name\": \"x\"}\n", f);
    fclose(f);
    xf_adapter_file_load(dir, "bert.");   /* Houlsby-like (mh_adapter): dies */
}

/* The parser learns a positional rule through the frozen base: every word's
 * head is its left neighbour (the first word's is the root).  UAS on the
 * training sentences must get far above the 1/(n+1) of guessing. */
Test(taskmodel, dep_learns_left_neighbour_heads)
{
    xf_example *ex = examples(XF_TASK_DEP, 24, 31);
    xf_train_opts o = quick_opts();
    o.epochs = 30;
    o.lr = 1e-2f;
    xf_taskmodel *m = model(XF_TASK_DEP, 6);
    xf_train_adapter(m, ex, 24, NULL, 0, &o);
    xf_eval_opts eo = xf_eval_defaults();
    xf_eval_result r = xf_evaluate(m, ex, 24, &eo);
    cr_assert_str_eq(r.metric[0], "uas");
    cr_assert(r.value[0].value > 45, "UAS %g on the training sentences (chance ~20)", r.value[0].value);
    xf_tm_free(m);
    xf_ex_free_all(ex, 24);
}

/* Language adapters train through the MLM head, and with it the head's own
 * tensors: the adapter gradients that xf_encoder_mlm_step's backward
 * delivers through the FFN hook, and those of the head (transform dense,
 * LayerNorm, decoder bias; frozen base, tied decoder without gradient)
 * match finite differences of the MLM loss (dropout off). */
/* Parameters uniform in [-0.3, 0.3] (larger than the init, so every term
 * matters). */
static void randomize_params(xf_taskmodel *m, uint64_t seed)
{
    for (int i = 0; i < m->npar; i++)
        for (size_t k = 0; k < m->par[i].n; k++)
            m->par[i].data[k] = 0.3f * (2 * xf_hash_uniform(seed, (uint64_t)i, k) - 1);
}

/* A fixed MLM batch: 2 rows of 6 tokens (one padded), 3 masked positions. */
static const int32_t MLM_IDS[2 * 6] = { 2, 7, 4, 9, 11, 3, 2, 8, 12, 4, 3, 0 };
static const int32_t MLM_AM[2 * 6] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 };
static const int32_t MLM_POS[3] = { 2, 3, 9 }, MLM_LAB[3] = { 13, 21, 30 };

static double mlm_batch_loss(xf_taskmodel *m, int backward)
{
    xf_encoder_forward(m->enc, MLM_IDS, NULL, MLM_AM, 2, 6, 0, 0);
    return xf_encoder_mlm_step(m->enc, MLM_POS, MLM_LAB, 3, backward, NULL);
}

static void mlm_batch_grads(xf_taskmodel *m)
{
    xf_tm_zero_grads(m);
    mlm_batch_loss(m, 1);
}

/* Asserts that q->grad[j] matches the central difference of the batch's MLM
 * loss with step H; returns the gradient. */
static double assert_mlm_fd(xf_taskmodel *m, xf_tm_param *q, size_t j, double h)
{
    float save = q->data[j];
    double l[2];
    for (int s = 0; s < 2; s++) {
        q->data[j] = save + (float)(s ? -h : h);
        l[s] = mlm_batch_loss(m, 0);
    }
    q->data[j] = save;
    double fd = (l[0] - l[1]) / (2 * h), g = q->grad[j];
    cr_assert(fabs(g - fd) <= 2e-3 + 2e-2 * fmax(fabs(g), fabs(fd)), "%s[%zu]: %g vs %g",
              q->name, j, g, fd);
    return g;
}

Test(taskmodel, mlm_adapter_gradients)
{
    xf_taskmodel *m = xf_tm_new(base(12), "bert.", XF_TASK_MLM);
    xf_tm_add_task_adapter(m, "yor", 4);
    xf_tm_init_weights(m, 2);
    xf_tm_enable_training(m);
    randomize_params(m, 5);
    cr_assert_eq(m->npar, 13);   /* adapter + 5 head tensors, nothing of the base */
    cr_assert_null(xf_encoder_grads(m->enc), "frozen base got a gradient arena");
    const char *head_names[5] = { "cls.predictions.transform.dense.weight",
                                  "cls.predictions.transform.dense.bias",
                                  "cls.predictions.transform.LayerNorm.weight",
                                  "cls.predictions.transform.LayerNorm.bias",
                                  "cls.predictions.bias" };
    for (int k = 0; k < 5; k++) {
        int found = 0;
        for (int i = 0; i < m->npar; i++)
            found += !strcmp(m->par[i].name, head_names[k]) && m->par[i].grad;
        cr_assert_eq(found, 1, "%s not trainable", head_names[k]);
    }
    mlm_batch_grads(m);
    int checked_head = 0;
    for (int i = 0; i < m->npar; i++) {
        xf_tm_param *q = &m->par[i];
        int head = !strncmp(q->name, "cls.", 4);
        for (int r = 0; r < (head ? 4 : 1); r++) {   /* the decoder bias: labels' entries too */
            size_t j = r == 3 && q->n == 40 ? (size_t)MLM_LAB[r - 1] : (size_t)xf_hash64(3, (uint64_t)i, (uint64_t)r) % q->n;
            double g = assert_mlm_fd(m, q, j, 1e-2);
            if (head && fabs(g) > 1e-4) checked_head++;
        }
    }
    cr_assert(checked_head >= 12, "only %d non-zero head gradients checked", checked_head);
    xf_tm_free(m);
}

static void tset_put(xf_tensorset *s, const char *name, int ndim, int64_t d0, int64_t d1,
                     float scale, uint64_t seed)
{
    xf_tensor t = {0};
    t.name = strdup(name);
    t.dtype = XF_F32;
    t.ndim = ndim;
    t.shape[0] = d0;
    t.shape[1] = d1;
    size_t n = (size_t)d0 * (size_t)(ndim == 2 ? d1 : 1);
    t.nbytes = n * sizeof(float);
    t.data = xmalloc_aligned(t.nbytes);
    for (size_t i = 0; i < n; i++) ((float *)t.data)[i] = scale * (2 * xf_hash_uniform(seed, 1, i) - 1);
    xf_tset_add(s, &t);
}

/* A pfeiffer+inv language adapter: with zero bottleneck up-projections and
 * a zero invertible adapter the model is the base; a non-zero invertible
 * adapter (applied to the embeddings) changes the hidden states. */
static double lang_inv_diff(float inv_scale)
{
    xf_tensorset *ts = xf_tset_new();
    char n[160];
    for (int l = 0; l < 2; l++) {
        snprintf(n, sizeof n, "bert.encoder.layer.%d.output.adapters.yor.adapter_down.0.weight", l);
        tset_put(ts, n, 2, 4, 16, 0.3f, 1);
        snprintf(n, sizeof n, "bert.encoder.layer.%d.output.adapters.yor.adapter_down.0.bias", l);
        tset_put(ts, n, 1, 4, 0, 0.3f, 2);
        snprintf(n, sizeof n, "bert.encoder.layer.%d.output.adapters.yor.adapter_up.weight", l);
        tset_put(ts, n, 2, 16, 4, 0, 3);
        snprintf(n, sizeof n, "bert.encoder.layer.%d.output.adapters.yor.adapter_up.bias", l);
        tset_put(ts, n, 1, 16, 0, 0, 4);
    }
    /* F: Linear(8 -> 4) ReLU Linear(4 -> 8); G likewise (C = 16) */
    const char *part[4] = { "0.weight", "0.bias", "2.weight", "2.bias" };
    int64_t shp[4][2] = { { 4, 8 }, { 4, 0 }, { 8, 4 }, { 8, 0 } };
    for (int f = 0; f < 2; f++)
        for (int k = 0; k < 4; k++) {
            snprintf(n, sizeof n, "bert.invertible_adapters.yor.%c.%s", f ? 'G' : 'F', part[k]);
            tset_put(ts, n, k % 2 ? 1 : 2, shp[k][0], shp[k][1], inv_scale, (uint64_t)(10 + f * 4 + k));
        }
    const int32_t ids[6] = { 2, 7, 4, 9, 11, 3 };
    xf_encoder *e = base(14);
    xf_encoder_forward(e, ids, NULL, NULL, 1, 6, 0, 0);
    float ref[6 * 16];
    memcpy(ref, xf_encoder_hidden(e), sizeof ref);
    xf_encoder_free(e);
    xf_taskmodel *m = xf_tm_new(base(14), "bert.", XF_TASK_POS);
    xf_tm_add_lang(m, "yor", ts, "test");
    cr_assert(m->lang[0].inv != NULL);
    xf_encoder_forward(m->enc, ids, NULL, NULL, 1, 6, 0, 0);
    const float *hid = xf_encoder_hidden(m->enc);
    double d = 0;
    for (int i = 0; i < 6 * 16; i++) d = fmax(d, fabs((double)hid[i] - ref[i]));
    xf_tm_free(m);
    xf_tset_free(ts);
    return d;
}

Test(taskmodel, lang_adapter_with_invertible_part)
{
    cr_assert(lang_inv_diff(0) <= 1e-6, "zero adapters changed the model: %g", lang_inv_diff(0));
    cr_assert(lang_inv_diff(0.5f) > 1e-3, "the invertible adapter had no effect");
}

/* 8 rows of 12 ids with context to learn: [CLS] a a+1 .. a+9 [SEP], a in 5..12 */
static void mlm_rows(xf_mlm_data *d)
{
    memset(d, 0, sizeof *d);
    d->n = 8;
    d->maxlen = 12;
    d->ids = calloc(d->n, sizeof *d->ids);
    d->len = calloc(d->n, sizeof *d->len);
    for (size_t i = 0; i < d->n; i++) {
        d->len[i] = 12;
        d->ids[i] = malloc(12 * sizeof(int32_t));
        d->ids[i][0] = 2;
        d->ids[i][11] = 3;
        for (int t = 1; t < 11; t++) d->ids[i][t] = (int32_t)(5 + i + (size_t)t - 1);
    }
    d->vocab = dims().vocab;
    d->special = calloc((size_t)d->vocab, 1);
    const int32_t sp[] = { 0, 1, 2, 3, 4 };
    xf_mlm_data_set_specials(d, sp, 5, 4);
}

/* MLM loss (dropout off) with positions 2, 5, 8 of every row masked. */
static float mlm_eval_loss(xf_taskmodel *m, const xf_mlm_data *d)
{
    int32_t ids[8 * 12], pos[8 * 3], lab[8 * 3];
    int M = 0;
    for (int b = 0; b < 8; b++)
        for (int t = 0; t < 12; t++) {
            ids[b * 12 + t] = d->ids[b][t];
            if (t == 2 || t == 5 || t == 8) {
                pos[M] = b * 12 + t;
                lab[M++] = d->ids[b][t];
                ids[b * 12 + t] = 4;
            }
        }
    xf_encoder_forward(m->enc, ids, NULL, NULL, 8, 12, 0, 0);
    return xf_encoder_mlm_step(m->enc, pos, lab, M, 0, NULL);
}

/* Language-adapter training (xf-adapt --task mlm) overfits a fixed tiny
 * batch with the adapter (and with INV its invertible adapter) and the MLM
 * head's transform, LayerNorm and decoder bias trainable: those change,
 * every base weight and the tied decoder (= word embeddings) stay bitwise
 * unchanged; the trained head goes through the stream and back into an
 * encoder by xf_tm_add_lang. */
static void lang_adapter_training(int inv, double margin)
{
    xf_taskmodel *m = xf_tm_new(base(21), "bert.", XF_TASK_MLM);
    xf_tm_add_task_adapter(m, "yor", 2);
    if (inv) xf_tm_add_task_invadapter(m);
    xf_tm_init_weights(m, 4);
    xf_mlm_data d;
    mlm_rows(&d);
    size_t np = xf_encoder_nparams(m->enc);
    float *snap = malloc(np * sizeof(float));
    memcpy(snap, xf_encoder_params(m->enc), np * sizeof(float));
    float before = mlm_eval_loss(m, &d);
    xf_train_opts o = xf_train_defaults(XF_TASK_MLM);
    o.batch = 8;
    o.epochs = 150;
    o.lr = 1e-2f;
    o.seed = 3;
    xf_train_result r = xf_train_lang_adapter(m, &d, &o, 0.3f);
    float after = mlm_eval_loss(m, &d);
    cr_assert_eq(m->npar, inv ? 21 : 13);
    cr_assert_eq(r.steps, 150);
    cr_assert(after < before - margin, "inv %d: masked-LM loss %g -> %g", inv, before, after);
    cr_assert_null(xf_encoder_grads(m->enc), "frozen base got a gradient arena");
    const xf_enc_views *w = xf_encoder_weights(m->enc);
    float *p0 = xf_encoder_params(m->enc);
    size_t head_off = (size_t)(w->head_w - p0);
    cr_assert(w->dec_w == w->wte && (size_t)(w->wte - p0) < head_off);
    cr_assert(memcmp(snap, p0, head_off * sizeof(float)) == 0,
              "language-adapter training changed base weights (or the tied decoder)");
    float *heads[5] = { w->head_w, w->head_b, w->hln_w, w->hln_b, w->dec_b };
    size_t sizes[5] = { 16 * 16, 16, 16, 16, 40 };
    for (int k = 0; k < 5; k++)
        cr_assert(memcmp(snap + (heads[k] - p0), heads[k], sizes[k] * sizeof(float)) != 0,
                  "MLM head tensor %d did not train", k);
    /* the stream carries the trained head under its HF names; loading the
     * language adapter puts it into a fresh base */
    char path[] = "/tmp/xf_tm_lang_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    xf_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.model_type, sizeof cfg.model_type, "bert");
    cfg.vocab_size = 40; cfg.hidden_size = 16; cfg.num_hidden_layers = 2;
    cfg.num_attention_heads = 2; cfg.intermediate_size = 32; cfg.max_position_embeddings = 32;
    cfg.type_vocab_size = 2; cfg.layer_norm_eps = 1e-12; cfg.initializer_range = 0.3;
    snprintf(cfg.hidden_act, sizeof cfg.hidden_act, "gelu");
    xf_tm_save_stream(path, m, &cfg, 3, NULL);
    xf_adapter_file *lf = xf_adapter_file_load(path, "bert.");
    unlink(path);
    cr_assert(xf_tset_get(lf->ts, "cls.predictions.transform.dense.weight"));
    cr_assert_null(xf_tset_get(lf->ts, "cls.predictions.decoder.weight"));
    xf_taskmodel *m2 = xf_tm_new(base(21), "bert.", XF_TASK_NLI);
    xf_tm_add_lang(m2, lf->name, lf->ts, path);
    float *q0 = xf_encoder_params(m2->enc);
    cr_assert(memcmp(q0, p0, np * sizeof(float)) == 0, "trained head not restored from the stream");
    xf_tm_free(m2);
    xf_adapter_file_free(lf);
    free(snap);
    xf_mlm_data_free(&d);
    xf_tm_free(m);
}

Test(taskmodel, lang_adapter_training_lowers_mlm_loss) { lang_adapter_training(0, 0.8); }
Test(taskmodel, lang_adapter_inv_training_lowers_mlm_loss) { lang_adapter_training(1, 0.8); }

/* pfeiffer+inv through the MLM head: invertible adapter on the embeddings,
 * its inverse (encoder head hook) before the head; the gradients of the
 * bottlenecks and of F, G (reached by both paths) match finite differences. */
Test(taskmodel, mlm_inv_adapter_gradients)
{
    xf_taskmodel *m = xf_tm_new(base(12), "bert.", XF_TASK_MLM);
    xf_tm_add_task_adapter(m, "yor", 4);
    xf_tm_add_task_invadapter(m);
    xf_tm_init_weights(m, 2);
    xf_tm_enable_training(m);
    cr_assert_eq(m->npar, 21);   /* adapter, invertible adapter, 5 MLM head tensors */
    randomize_params(m, 6);
    mlm_batch_grads(m);
    int checked_inv = 0;
    for (int i = 0; i < m->npar; i++) {
        xf_tm_param *q = &m->par[i];
        for (int r = 0; r < 2; r++) {
            size_t j = (size_t)xf_hash64(4, (uint64_t)i, (uint64_t)r) % q->n;
            double g = assert_mlm_fd(m, q, j, 2e-3);
            if (strstr(q->name, "invertible_adapters.yor.") && fabs(g) > 1e-4) checked_inv++;
        }
    }
    cr_assert(checked_inv >= 4, "only %d non-zero invertible-adapter gradients checked", checked_inv);
    xf_tm_free(m);
}
