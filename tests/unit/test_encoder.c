/* test_encoder.c — the encoder as a whole: a finite-difference check of the
 * MLM loss through every kind of parameter (dropout on, with padding), the
 * adapter hooks (a hook computing the plain LN reproduces the encoder bit
 * for bit; a frozen base still propagates to the hooks), recomputed vs
 * stored attention probabilities, thread-count invariance, padding
 * invariance of BERT and RoBERTa positions, the HF-name round trip, and
 * forward only (evaluation): the same bits from a much smaller arena. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "encoder.h"
#include "encoder_io.h"
#include "encoder_posinit.h"
#include "ops.h"
#include "rng.h"
#include "util.h"

static xf_enc_dims tiny(int roberta)
{
    xf_enc_dims d = {.vocab = 23, .hidden = 8, .layers = 2, .heads = 2, .inter = 12,
                     .max_pos = 16, .type_vocab = 2, .pad_id = roberta ? 1 : 0,
                     .roberta = roberta, .ln_eps = 1e-5f, .p_hidden = 0.1f, .p_attn = 0.1f,
                     .init_range = 0.3f};
    return d;
}

/* random weights everywhere (LN and biases too), so every term matters */
static xf_encoder *tiny_model(int roberta, int tied, uint64_t seed)
{
    xf_enc_dims d = tiny(roberta);
    xf_encoder *e = xf_encoder_new(&d, tied);
    float *p = xf_encoder_params(e);
    for (size_t i = 0; i < xf_encoder_nparams(e); i++)
        p[i] = 0.3f * (2.0f * xf_hash_uniform(seed, 7, i) - 1.0f);
    int n;
    const xf_enc_param *t = xf_encoder_param_table(e, &n);
    for (int k = 0; k < n; k++)
        if (strstr(t[k].name, "LayerNorm.weight") || strstr(t[k].name, "layer_norm.weight"))
            for (size_t i = 0; i < t[k].n; i++) p[t[k].off + i] += 1.0f;
    xf_encoder_set_has_pooler(e, 1);
    return e;
}

/* a batch of 2 rows, the second padded after 4 tokens */
enum { B = 2, T = 6 };
static const int32_t ids_r[B * T] = {0, 5, 7, 9, 11, 2, 0, 6, 8, 2, 1, 1};
static const int32_t ids_b[B * T] = {2, 5, 7, 9, 11, 3, 2, 6, 8, 3, 0, 0};
static const int32_t am[B * T] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
static const int32_t types[B * T] = {0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0};
static const int32_t pos[] = {1, 3, 4, 7, 8};
static const int32_t lab[] = {5, 9, 11, 6, 20};

static float loss_of(xf_encoder *e, int roberta, int backward)
{
    xf_encoder_forward(e, roberta ? ids_r : ids_b, types, am, B, T, 1, 1234);
    return xf_encoder_mlm_step(e, pos, lab, 5, backward, NULL);
}

static void setup(void)
{
    omp_set_num_threads(2);
    xf_ops_set_threads(2);
}

TestSuite(encoder, .init = setup);

Test(encoder, finite_difference_every_tensor)
{
    for (int roberta = 0; roberta < 2; roberta++) {
        xf_encoder *e = tiny_model(roberta, roberta, 11);
        xf_encoder_enable_grads(e);
        xf_encoder_zero_grads(e);
        loss_of(e, roberta, 1);
        float *p = xf_encoder_params(e), *g = xf_encoder_grads(e);
        int n;
        const xf_enc_param *t = xf_encoder_param_table(e, &n);
        for (int k = 0; k < n; k++) {
            /* three elements of each tensor with a gradient (rows that are used) */
            int checked = 0;
            for (size_t j = 0; j < t[k].n && checked < 3; j += 1 + t[k].n / 7) {
                size_t i = t[k].off + j;
                if (g[i] == 0.0f) continue;
                float old = p[i], h = 1e-2f;
                p[i] = old + h;
                double lp = loss_of(e, roberta, 0);
                p[i] = old - h;
                double lm = loss_of(e, roberta, 0);
                p[i] = old;
                double fd = (lp - lm) / (2.0 * h);
                cr_expect(fabs(fd - g[i]) <= 2e-4 + 1e-2 * fmax(fabs(fd), fabs(g[i])),
                          "%s[%zu]: analytic %g, finite difference %g", t[k].name, j, g[i], fd);
                checked++;
            }
        }
        xf_encoder_free(e);
    }
}

/* the pad row of the word embeddings (and RoBERTa's pad position) gets no
 * gradient from the lookup (nn.Embedding padding_idx) */
Test(encoder, padding_idx_rows_have_no_lookup_gradient)
{
    xf_encoder *e = tiny_model(1, 0, 3);   /* untied: the decoder does not touch wte */
    xf_encoder_enable_grads(e);
    xf_encoder_zero_grads(e);
    loss_of(e, 1, 1);
    const xf_enc_views *g = xf_encoder_grad_views(e);
    int C = 8, pad = 1;
    for (int c = 0; c < C; c++) {
        cr_expect_eq(g->wte[pad * C + c], 0.0f);
        cr_expect_eq(g->wpe[pad * C + c], 0.0f);
    }
    cr_expect_neq(g->wte[5 * C], 0.0f);
    xf_encoder_free(e);
}

/* ---- hooks ---- */

typedef struct plain_ln {
    float *mean, *rstd, *sum;
    double dy_sum[2];
} plain_ln;

static void pl_forward(void *ctx, int layer, float *y, const float *h, const float *x,
                       const float *w, const float *b, float eps, int N, int C, int train)
{
    plain_ln *s = ctx;
    float *sum = s->sum + (size_t)layer * N * C;
    for (int i = 0; i < N * C; i++) sum[i] = h[i] + x[i];
    layernorm_forward(y, s->mean + layer * N, s->rstd + layer * N, sum, w, b, N, C, eps);
}

static void pl_backward(void *ctx, int layer, float *dh, float *dx, float *dw, float *db,
                        const float *dy, const float *h, const float *x, const float *w,
                        const float *b, float eps, int N, int C)
{
    plain_ln *s = ctx;
    for (int i = 0; i < N * C; i++) s->dy_sum[layer] += dy[i];
    float *d = calloc((size_t)N * C, sizeof(float));
    layernorm_backward(d, dw, db, dy, s->sum + (size_t)layer * N * C, w,
                       s->mean + layer * N, s->rstd + layer * N, N, C);
    for (int i = 0; i < N * C; i++) {
        dh[i] += d[i];
        dx[i] += d[i];
    }
    free(d);
}

static void copy_fwd(void *ctx, float *y, const float *x, int N, int C, int train)
{
    memcpy(y, x, (size_t)N * C * sizeof(float));
}

static void copy_bwd(void *ctx, float *dx, const float *dy, const float *x, int N, int C)
{
    for (int i = 0; i < N * C; i++) dx[i] += dy[i];
}

Test(encoder, hooks_reproduce_the_plain_encoder)
{
    xf_encoder *a = tiny_model(0, 1, 5), *b = tiny_model(0, 1, 5);
    plain_ln s = {calloc(2 * B * T, 4), calloc(2 * B * T, 4), calloc(2 * B * T * 8, 4), {0, 0}};
    xf_ffn_hook fh = {&s, pl_forward, pl_backward};
    xf_emb_hook eh = {NULL, copy_fwd, copy_bwd};
    xf_encoder_set_ffn_hook(b, &fh);
    xf_encoder_set_emb_hook(b, &eh);
    xf_encoder_enable_grads(a);
    xf_encoder_enable_grads(b);
    xf_encoder_zero_grads(a);
    xf_encoder_zero_grads(b);
    float la = loss_of(a, 0, 1), lb = loss_of(b, 0, 1);
    cr_expect_eq(la, lb);
    cr_expect(!memcmp(xf_encoder_grads(a), xf_encoder_grads(b),
                      xf_encoder_nparams(a) * sizeof(float)), "gradients differ with the hooks");
    cr_expect(s.dy_sum[0] != 0.0 && s.dy_sum[1] != 0.0);

    /* frozen base: no gradient arena, the same gradient still reaches the hooks */
    double ref[2] = {s.dy_sum[0], s.dy_sum[1]};
    s.dy_sum[0] = s.dy_sum[1] = 0.0;
    xf_encoder_freeze(b);
    cr_expect_null(xf_encoder_grads(b));
    xf_encoder_enable_grads(b);
    cr_expect_null(xf_encoder_grads(b));
    cr_expect_eq(loss_of(b, 0, 1), la);
    cr_expect_eq(s.dy_sum[0], ref[0]);
    cr_expect_eq(s.dy_sum[1], ref[1]);
    free(s.mean);
    free(s.rstd);
    free(s.sum);
    xf_encoder_free(a);
    xf_encoder_free(b);
}

/* task heads sit on the public hidden states and backward entry */
Test(encoder, backward_from_hidden_matches_mlm_step)
{
    xf_encoder *e = tiny_model(0, 1, 8);
    xf_encoder_enable_grads(e);
    xf_encoder_zero_grads(e);
    xf_encoder_forward(e, ids_b, types, am, B, T, 0, 0);
    /* L = Σ hidden·r, backward from dhidden = r */
    float *h = xf_encoder_hidden(e), r[B * T * 8], dh[B * T * 8];
    double l0 = 0;
    for (int i = 0; i < B * T * 8; i++) {
        r[i] = xf_hash_uniform(1, 9, i) - 0.5f;
        l0 += (double)h[i] * r[i];
        dh[i] = r[i];
    }
    xf_encoder_backward(e, dh);
    const xf_enc_views *g = xf_encoder_grad_views(e), *w = xf_encoder_weights(e);
    float *p = &w->layer[0].fi_w[3];
    float old = *p, eps = 1e-2f;
    double lp = 0, lm = 0;
    *p = old + eps;
    xf_encoder_forward(e, ids_b, types, am, B, T, 0, 0);
    for (int i = 0; i < B * T * 8; i++) lp += (double)xf_encoder_hidden(e)[i] * r[i];
    *p = old - eps;
    xf_encoder_forward(e, ids_b, types, am, B, T, 0, 0);
    for (int i = 0; i < B * T * 8; i++) lm += (double)xf_encoder_hidden(e)[i] * r[i];
    *p = old;
    double fd = (lp - lm) / (2 * eps);
    cr_expect(fabs(fd - g->layer[0].fi_w[3]) < 2e-3 + 2e-2 * fabs(fd), "fd %g vs %g", fd,
              g->layer[0].fi_w[3]);
    (void)l0;
    xf_encoder_free(e);
}

/* pooler (for task heads): L = Σ tanh(Wp·h[CLS] + bp)·r */
static double pooled_loss(xf_encoder *e, const float *r)
{
    float pooled[B * 8];
    xf_encoder_forward(e, ids_b, types, am, B, T, 0, 0);
    xf_encoder_pool_forward(e, pooled);
    double l = 0;
    for (int i = 0; i < B * 8; i++) l += (double)pooled[i] * r[i];
    return l;
}

Test(encoder, pooler_gradients)
{
    xf_encoder *e = tiny_model(0, 1, 12);
    xf_encoder_enable_grads(e);
    xf_encoder_zero_grads(e);
    float r[B * 8], dh[B * T * 8];
    for (int i = 0; i < B * 8; i++) r[i] = xf_hash_uniform(2, 9, i) - 0.5f;
    pooled_loss(e, r);
    memset(dh, 0, sizeof dh);
    xf_encoder_pool_backward(e, dh, r);
    xf_encoder_backward(e, dh);
    const xf_enc_views *g = xf_encoder_grad_views(e), *w = xf_encoder_weights(e);
    float *params[3] = {&w->pool_w[9], &w->pool_b[2], &w->layer[1].ao_w[5]};
    float grads[3] = {g->pool_w[9], g->pool_b[2], g->layer[1].ao_w[5]};
    for (int k = 0; k < 3; k++) {
        float old = *params[k], h = 1e-2f;
        *params[k] = old + h;
        double lp = pooled_loss(e, r);
        *params[k] = old - h;
        double lm = pooled_loss(e, r);
        *params[k] = old;
        double fd = (lp - lm) / (2 * h);
        cr_expect(grads[k] != 0.0f);
        cr_expect(fabs(fd - grads[k]) <= 2e-4 + 1e-2 * fabs(fd), "pooler check %d: %g vs %g", k,
                  grads[k], fd);
    }
    xf_encoder_free(e);
}

Test(encoder, recompute_and_threads_change_nothing)
{
    float *ref = NULL;
    size_t n = 0;
    /* all probs kept, none, one layer's (B·H·T·T floats, rounded to 16) */
    size_t budgets[4] = {SIZE_MAX, 0, 144 * sizeof(float), SIZE_MAX};
    for (int run = 0; run < 4; run++) {
        xf_encoder *e = tiny_model(1, 1, 9);
        xf_encoder_set_probs_budget(e, budgets[run]);
        int th = run == 3 ? 1 : 2;
        omp_set_num_threads(th);
        xf_ops_set_threads(th);
        xf_encoder_enable_grads(e);
        xf_encoder_zero_grads(e);
        loss_of(e, 1, 1);
        n = xf_encoder_nparams(e);
        if (!ref) {
            ref = malloc(n * sizeof(float));
            memcpy(ref, xf_encoder_grads(e), n * sizeof(float));
        } else {
            cr_expect(!memcmp(ref, xf_encoder_grads(e), n * sizeof(float)), "run %d differs", run);
        }
        xf_encoder_free(e);
    }
    free(ref);
}

/* padding at the end changes nothing for the real tokens (attention mask;
 * RoBERTa positions count real tokens only) */
Test(encoder, padding_invariance)
{
    for (int roberta = 0; roberta < 2; roberta++) {
        xf_encoder *e = tiny_model(roberta, 1, 4);
        int pad = roberta ? 1 : 0;
        int32_t a[4] = {roberta ? 0 : 2, 5, 7, roberta ? 2 : 3};
        int32_t b[7] = {a[0], a[1], a[2], a[3], pad, pad, pad};
        int32_t mb[7] = {1, 1, 1, 1, 0, 0, 0};
        xf_encoder_forward(e, a, NULL, NULL, 1, 4, 0, 0);
        float h1[32];
        memcpy(h1, xf_encoder_hidden(e), sizeof h1);
        xf_encoder_forward(e, b, NULL, mb, 1, 7, 0, 0);
        for (int i = 0; i < 32; i++)
            cr_expect(fabsf(h1[i] - xf_encoder_hidden(e)[i]) < 1e-5f, "roberta %d [%d]: %g vs %g",
                      roberta, i, h1[i], xf_encoder_hidden(e)[i]);
        xf_encoder_free(e);
    }
}

Test(encoder, hf_names_round_trip)
{
    xf_encoder *e = tiny_model(0, 0, 6);
    xf_tensorset *ts = xf_encoder_to_tset(e);
    cr_assert_not_null(xf_tset_get(ts, "bert.encoder.layer.1.attention.self.key.weight"));
    cr_assert_not_null(xf_tset_get(ts, "cls.predictions.decoder.weight"));
    cr_assert_null(xf_tset_get(ts, "bert.encoder.layer.1.attention.self.qkv.weight"));
    /* key = rows C..2C of the fused QKV */
    xf_tensor *k = xf_tset_get(ts, "bert.encoder.layer.1.attention.self.key.weight");
    cr_expect(!memcmp(k->data, xf_encoder_weights(e)->layer[1].qkv_w + 64, 64 * sizeof(float)));
    xf_config cfg;
    memset(&cfg, 0, sizeof cfg);
    strcpy(cfg.model_type, "bert");
    strcpy(cfg.hidden_act, "gelu");
    cfg.vocab_size = 23; cfg.hidden_size = 8; cfg.num_hidden_layers = 2;
    cfg.num_attention_heads = 2; cfg.intermediate_size = 12; cfg.max_position_embeddings = 16;
    cfg.type_vocab_size = 2; cfg.layer_norm_eps = 1e-5; cfg.initializer_range = 0.3;
    xf_encoder *f = xf_encoder_from_tset(&cfg, ts, "test");
    cr_expect(!xf_encoder_tied(f));
    cr_expect_eq(xf_encoder_nparams(e), xf_encoder_nparams(f));
    int n;
    const xf_enc_param *t = xf_encoder_param_table(e, &n);
    for (int j = 0; j < n; j++)
        cr_expect(!memcmp(xf_encoder_params(e) + t[j].off, xf_encoder_params(f) + t[j].off,
                          t[j].n * sizeof(float)), "%s differs", t[j].name);
    xf_tset_free(ts);
    xf_encoder_free(e);
    xf_encoder_free(f);
}

Test(encoder, id_out_of_range_dies, .exit_code = 1)
{
    xf_encoder *e = tiny_model(0, 1, 1);
    int32_t ids[2] = {2, 23};
    xf_encoder_forward(e, ids, NULL, NULL, 1, 2, 0, 0);
}

Test(encoder, too_many_positions_die, .exit_code = 1)
{
    xf_encoder *e = tiny_model(1, 1, 1);
    int32_t ids[15];
    for (int i = 0; i < 15; i++) ids[i] = 5;   /* positions 2..16, max_pos 16 */
    xf_encoder_forward(e, ids, NULL, NULL, 1, 15, 0, 0);
}

/* ---- forward only (evaluation) ---- */

/* Hidden states, pooler and MLM logits of a forward-only forward are bit
 * for bit those of the training layout (the same forward, keeping
 * everything for a backward), in eval and train mode (dropout), with and
 * without hooks, BERT and RoBERTa, 1 and 2 threads; and the arena is a
 * fraction of the training one. */
Test(encoder, forward_only_gives_the_same_bits)
{
    enum { C = 8, L = 2, N = B * T };
    for (int run = 0; run < 16; run++) {
        int roberta = run & 1, train = (run >> 1) & 1, hooks = (run >> 2) & 1;
        int th = run & 8 ? 1 : 2;
        omp_set_num_threads(th);
        xf_ops_set_threads(th);
        xf_encoder *ref = tiny_model(roberta, roberta, 21), *fo = tiny_model(roberta, roberta, 21);
        xf_encoder_enable_grads(ref);   /* the training layout */
        xf_encoder_freeze(fo);          /* frozen: forward only only when asked */
        cr_assert(!xf_encoder_forward_only(fo));
        xf_encoder_set_forward_only(fo, 1);
        cr_assert(xf_encoder_forward_only(fo));
        cr_assert(!xf_encoder_forward_only(ref));
        plain_ln s[2];
        xf_ffn_hook fh[2];
        xf_emb_hook eh = {NULL, copy_fwd, copy_bwd};
        xf_encoder *e2[2] = {ref, fo};
        for (int k = 0; k < 2; k++) {
            s[k] = (plain_ln){calloc(L * N, 4), calloc(L * N, 4), calloc(L * N * C, 4), {0, 0}};
            fh[k] = (xf_ffn_hook){&s[k], pl_forward, pl_backward};
            if (hooks) {
                xf_encoder_set_ffn_hook(e2[k], &fh[k]);
                xf_encoder_set_emb_hook(e2[k], &eh);
            }
        }
        const int32_t *ids = roberta ? ids_r : ids_b;
        float pooled[2][B * C];
        const float *logits[2];
        float loss[2], *lg_copy = malloc(5 * 23 * sizeof(float));
        for (int k = 0; k < 2; k++) {
            xf_encoder_forward(e2[k], ids, types, am, B, T, train, 77);
            xf_encoder_pool_forward(e2[k], pooled[k]);
            loss[k] = xf_encoder_mlm_step(e2[k], pos, lab, 5, 0, &logits[k]);
            if (!k) memcpy(lg_copy, logits[0], 5 * 23 * sizeof(float));
        }
        cr_expect(!memcmp(xf_encoder_hidden(ref), xf_encoder_hidden(fo), N * C * sizeof(float)),
                  "run %d: hidden states differ", run);
        cr_expect(!memcmp(pooled[0], pooled[1], sizeof pooled[0]), "run %d: pooler differs", run);
        cr_expect(!memcmp(lg_copy, logits[1], 5 * 23 * sizeof(float)), "run %d: logits differ", run);
        cr_expect_eq(loss[0], loss[1], "run %d", run);
        size_t nref = xf_encoder_arena_bytes(ref), nfo = xf_encoder_arena_bytes(fo);
        cr_expect(nfo > 0 && 2 * nfo < nref, "run %d: arena %zu bytes forward only, %zu training",
                  run, nfo, nref);
        /* one layer's buffers, reused: 3 [N,C] + max(qkv+att, FF+out) */
        size_t NC = 96, NF = 144;
        cr_expect_eq(nfo, (3 * NC + (4 * NC > NF + NC ? 4 * NC : NF + NC)) * sizeof(float) +
                              N * 4 * sizeof(int32_t));
        for (int k = 0; k < 2; k++) {
            free(s[k].mean);
            free(s[k].rstd);
            free(s[k].sum);
        }
        free(lg_copy);
        xf_encoder_free(ref);
        xf_encoder_free(fo);
    }
}

/* The layout follows the mode: forward only, then training again gives the
 * gradients of an encoder that never ran forward only.  An encoder that can
 * take no gradient (neither enable_grads nor freeze) runs forward only. */
Test(encoder, forward_only_switches_back)
{
    xf_encoder *a = tiny_model(0, 1, 13), *b = tiny_model(0, 1, 13);
    cr_expect(xf_encoder_forward_only(a), "no gradients possible: forward only");
    xf_encoder_enable_grads(a);
    xf_encoder_enable_grads(b);
    cr_expect(!xf_encoder_forward_only(a));
    xf_encoder_set_forward_only(a, 1);
    loss_of(a, 0, 0);
    size_t small = xf_encoder_arena_bytes(a);
    xf_encoder_set_forward_only(a, 0);
    xf_encoder_zero_grads(a);
    xf_encoder_zero_grads(b);
    cr_expect_eq(loss_of(a, 0, 1), loss_of(b, 0, 1));
    cr_expect(xf_encoder_arena_bytes(a) > 2 * small);
    cr_expect(!memcmp(xf_encoder_grads(a), xf_encoder_grads(b),
                      xf_encoder_nparams(a) * sizeof(float)));
    xf_encoder_free(a);
    xf_encoder_free(b);
}

Test(encoder, backward_after_forward_only_dies, .exit_code = 1)
{
    xf_encoder *e = tiny_model(0, 1, 1);
    xf_encoder_freeze(e);
    xf_encoder_set_forward_only(e, 1);
    xf_encoder_forward(e, ids_b, types, am, B, T, 0, 0);
    float dh[B * T * 8] = {0};
    xf_encoder_backward(e, dh);
}

/* --init-positions sinusoidal: the table follows the formula, and position
 * p+k is a fixed rotation of position p (each (sin, cos) pair turns by k·ω),
 * which is what makes relative offsets linear in the embeddings. */
Test(encoder, sinusoidal_positions)
{
    xf_enc_dims d = tiny(0);
    xf_encoder *e = xf_encoder_new(&d, 1);
    xf_encoder_init_random(e, 3);
    xf_encoder_init_sinusoidal_positions(e, 0.1f);
    const float *wpe = xf_encoder_weights(e)->wpe;
    int C = d.hidden;
    for (int p = 0; p < d.max_pos; p++)
        for (int i = 0; i < C / 2; i++) {
            double w = pow(10000.0, -2.0 * i / C);
            cr_assert_float_eq(wpe[p * C + 2 * i], 0.1 * sin(p * w), 1e-7, "row %d col %d", p, 2 * i);
            cr_assert_float_eq(wpe[p * C + 2 * i + 1], 0.1 * cos(p * w), 1e-7, "row %d col %d", p, 2 * i + 1);
        }
    for (int p = 0; p + 3 < d.max_pos; p++)   /* rotation by 3 positions */
        for (int i = 0; i < C / 2; i++) {
            double w = 3 * pow(10000.0, -2.0 * i / C);
            double s = wpe[p * C + 2 * i], c = wpe[p * C + 2 * i + 1];
            cr_assert_float_eq(wpe[(p + 3) * C + 2 * i], s * cos(w) + c * sin(w), 1e-6);
            cr_assert_float_eq(wpe[(p + 3) * C + 2 * i + 1], c * cos(w) - s * sin(w), 1e-6);
        }
    xf_encoder_free(e);
}
