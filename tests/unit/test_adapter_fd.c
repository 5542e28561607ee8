/* test_adapter_fd.c — Pfeiffer adapter, Stack and invertible adapter:
 * identity property, finite-difference checks of every backward (loss and
 * tolerance as fdcheck.h), accumulation, hook plumbing, init and names. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "fdcheck.h"
#include "ops.h"

/* ReLU kinks: a finite difference across a kink is not a derivative, so each
 * check draws inputs until every ReLU input is farther than KINK_MARGIN from
 * 0 (a perturbation of FD_H moves them by at most ~3·FD_H here). */
#define FDH FD_H
#define KINK_MARGIN 0.1f

static float min_abs(const float *z, size_t n)
{
    float m = INFINITY;
    for (size_t i = 0; i < n; i++) m = fminf(m, fabsf(z[i]));
    return m;
}

enum { N = 3, C = 16, RED = 4 };

typedef struct {
    xf_adapter_layer L;
    xf_bottleneck b[2];
    float *h, *x, *lw, *lb, *y, *r, *scratch;
} layer_case;

static void bottleneck_random(xf_bottleneck *b, uint64_t seed)
{
    fill_uniform(b->params, xf_bottleneck_nparams(b), -0.5f, 0.5f, seed);
}

static void case_init(layer_case *t, int depth, uint64_t seed)
{
    xf_adapter_layer_init(&t->L, C);
    for (int k = 0; k < depth; k++) {
        xf_bottleneck_init(&t->b[k], k ? "task" : "lang", 5, C, RED, 1);
        bottleneck_random(&t->b[k], 10 + k + 100 * seed);
        xf_adapter_layer_push(&t->L, &t->b[k]);
    }
    size_t NC = (size_t)N * C;
    t->scratch = fvec(xf_adapter_layer_scratch_floats(&t->L, N));
    t->h = fvec(NC); t->x = fvec(NC); t->y = fvec(NC); t->r = fvec(NC);
    t->lw = fvec(C); t->lb = fvec(C);
    fill_uniform(t->h, NC, -1, 1, 1 + 100 * seed);
    fill_uniform(t->x, NC, -1, 1, 2 + 100 * seed);
    fill_uniform(t->r, NC, -1, 1, 3 + 100 * seed);
    fill_uniform(t->lw, C, 0.5f, 1.5f, 4 + 100 * seed);
    fill_uniform(t->lb, C, -0.3f, 0.3f, 5 + 100 * seed);
}

static double layer_loss(void *ctx)
{
    layer_case *t = ctx;
    xf_adapter_layer_forward(&t->L, t->y, t->h, t->x, t->lw, t->lb, 1e-5f, N, t->scratch);
    return dot_loss(t->y, t->r, (size_t)N * C);
}

static void case_free(layer_case *t, int depth)
{
    for (int k = 0; k < depth; k++) xf_bottleneck_free(&t->b[k]);
    xf_adapter_layer_free(&t->L);
    free(t->h); free(t->x); free(t->y); free(t->r); free(t->lw); free(t->lb); free(t->scratch);
}

static void check_layer(int depth)
{
    layer_case t;
    for (uint64_t seed = 0;; seed++) {
        cr_assert(seed < 1000, "no kink-free draw");
        case_init(&t, depth, seed);
        layer_loss(&t);
        float m = INFINITY;
        for (int k = 0; k < depth; k++) m = fminf(m, min_abs(t.b[k].z, (size_t)N * t.b[k].D));
        if (m > KINK_MARGIN) break;
        case_free(&t, depth);
    }
    size_t NC = (size_t)N * C;
    float *dh = fvec(NC), *dx = fvec(NC), *dlw = fvec(C), *dlb = fvec(C);
    layer_loss(&t);
    xf_adapter_layer_backward(&t.L, dh, dx, dlw, dlb, t.r, t.h, t.x, t.lw, t.lb, 1e-5f, N, t.scratch);
    int bad = 0;
    bad += fd_check("dh", t.h, NC, dh, layer_loss, &t, FDH);
    bad += fd_check("dx", t.x, NC, dx, layer_loss, &t, FDH);
    bad += fd_check("dln_w", t.lw, C, dlw, layer_loss, &t, FDH);
    bad += fd_check("dln_b", t.lb, C, dlb, layer_loss, &t, FDH);
    for (int k = 0; k < depth; k++)
        bad += fd_check(t.b[k].name, t.b[k].params, xf_bottleneck_nparams(&t.b[k]), t.b[k].grads,
                        layer_loss, &t, FDH);
    cr_assert_eq(bad, 0, "%d gradient elements off (depth %d)", bad, depth);

    /* accumulation, and frozen LN / frozen adapters give the same dh, dx */
    float *dh2 = fvec(NC), *dx2 = fvec(NC);
    for (size_t i = 0; i < NC; i++) dh2[i] = dx2[i] = 0.25f;
    float *saved[2] = { t.b[0].grads, t.b[1].grads };
    for (int k = 0; k < depth; k++) {   /* freeze: no gradient views */
        t.b[k].g_down_w = t.b[k].g_down_b = t.b[k].g_up_w = t.b[k].g_up_b = NULL;
    }
    layer_loss(&t);   /* fd_check left the activations of a perturbed run */
    xf_adapter_layer_backward(&t.L, dh2, dx2, NULL, NULL, t.r, t.h, t.x, t.lw, t.lb, 1e-5f, N, t.scratch);
    for (size_t i = 0; i < NC; i++) {
        cr_assert_float_eq(dh2[i] - 0.25f, dh[i], 1e-5);
        cr_assert_float_eq(dx2[i] - 0.25f, dx[i], 1e-5);
    }
    for (int k = 0; k < depth; k++) t.b[k].grads = saved[k];
    case_free(&t, depth);
    free(dh); free(dx); free(dlw); free(dlb); free(dh2); free(dx2);
}

Test(adapter, fd_no_adapter_is_plain_layernorm) { check_layer(0); }
Test(adapter, fd_single_pfeiffer) { check_layer(1); }
Test(adapter, fd_stack_of_two) { check_layer(2); }

Test(adapter, zero_up_projection_is_identity)
{
    for (int depth = 1; depth <= 2; depth++) {
        layer_case t;
        case_init(&t, depth, 0);
        for (int k = 0; k < depth; k++) {   /* down stays random: only up is zero */
            memset(t.b[k].up_w, 0, sizeof(float) * (size_t)C * t.b[k].D);
            memset(t.b[k].up_b, 0, sizeof(float) * C);
        }
        size_t NC = (size_t)N * C;
        float *s = fvec(NC), *ref = fvec(NC), *mean = fvec(N), *rstd = fvec(N);
        for (size_t i = 0; i < NC; i++) s[i] = t.h[i] + t.x[i];
        layernorm_forward(ref, mean, rstd, s, t.lw, t.lb, N, C, 1e-5f);
        layer_loss(&t);
        cr_assert(memcmp(ref, t.y, sizeof(float) * NC) == 0, "depth %d: output differs from LN(h+x)", depth);
        for (int k = 0; k < depth; k++) xf_bottleneck_free(&t.b[k]);
        xf_adapter_layer_free(&t.L);
    }
}

Test(adapter, stack_composition_by_hand)
{
    /* Stack(lang, task) = o1 = A1(LN(h+x)) + h; o2 = A2(LN(o1+x)) + o1; y = LN(o2+x) */
    layer_case t;
    case_init(&t, 2, 0);
    size_t NC = (size_t)N * C;
    int D = C / RED;
    float *s = fvec(NC), *a = fvec(NC), *z = fvec((size_t)N * D), *u = fvec(NC), *o = fvec(NC);
    float *ref = fvec(NC), *mean = fvec(N), *rstd = fvec(N);
    memcpy(o, t.h, sizeof(float) * NC);
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < NC; i++) s[i] = o[i] + t.x[i];
        layernorm_forward(a, mean, rstd, s, t.lw, t.lb, N, C, 1e-5f);
        linear_forward(z, a, t.b[k].down_w, t.b[k].down_b, N, C, D);
        for (int i = 0; i < N * D; i++) z[i] = z[i] > 0 ? z[i] : 0;
        linear_forward(u, z, t.b[k].up_w, t.b[k].up_b, N, D, C);
        for (size_t i = 0; i < NC; i++) o[i] += u[i];
    }
    for (size_t i = 0; i < NC; i++) s[i] = o[i] + t.x[i];
    layernorm_forward(ref, mean, rstd, s, t.lw, t.lb, N, C, 1e-5f);
    layer_loss(&t);
    for (size_t i = 0; i < NC; i++) cr_assert_float_eq(t.y[i], ref[i], 1e-6);
}

Test(adapter, ffn_hook_dispatches_by_layer)
{
    xf_adapter_set set;
    xf_adapter_set_init(&set, 7, C);
    layer_case t;
    case_init(&t, 1, 0);
    xf_adapter_layer_push(&set.layer[5], &t.b[0]);
    size_t NC = (size_t)N * C;
    float *y5 = fvec(NC), *y0 = fvec(NC), *s = fvec(NC), *mean = fvec(N), *rstd = fvec(N), *ref = fvec(NC);
    xf_adapters_ffn_forward(&set, 5, y5, t.h, t.x, t.lw, t.lb, 1e-5f, N, C, 1);
    xf_adapters_ffn_forward(&set, 0, y0, t.h, t.x, t.lw, t.lb, 1e-5f, N, C, 1);
    layer_loss(&t);
    cr_assert(memcmp(y5, t.y, sizeof(float) * NC) == 0);
    for (size_t i = 0; i < NC; i++) s[i] = t.h[i] + t.x[i];
    layernorm_forward(ref, mean, rstd, s, t.lw, t.lb, N, C, 1e-5f);
    cr_assert(memcmp(y0, ref, sizeof(float) * NC) == 0);   /* layer without adapters: plain LN */
    float *dh = fvec(NC), *dx = fvec(NC), *dh2 = fvec(NC), *dx2 = fvec(NC);
    xf_adapters_ffn_backward(&set, 5, dh, dx, NULL, NULL, t.r, t.h, t.x, t.lw, t.lb, 1e-5f, N, C);
    xf_adapter_layer_backward(&t.L, dh2, dx2, NULL, NULL, t.r, t.h, t.x, t.lw, t.lb, 1e-5f, N, t.scratch);
    cr_assert(memcmp(dh, dh2, sizeof(float) * NC) == 0);
    xf_adapter_set_free(&set);
}

Test(adapter, forward_only_same_bits_and_frees)
{
    /* a Stack of two on layer 1: forward only gives the bits of the normal
     * forward, and drops what the normal one kept */
    xf_adapter_set set;
    xf_adapter_set_init(&set, 2, C);
    layer_case t;
    case_init(&t, 2, 3);
    xf_adapter_layer_push(&set.layer[1], &t.b[0]);
    xf_adapter_layer_push(&set.layer[1], &t.b[1]);
    size_t NC = (size_t)N * C;
    float *y = fvec(NC), *y_fo = fvec(NC);
    xf_adapters_ffn_forward(&set, 1, y, t.h, t.x, t.lw, t.lb, 1e-5f, N, C, 0);
    cr_assert(set.layer[1].sf && t.b[0].s && t.b[1].z);
    xf_adapter_set_forward_only(&set, 1);
    cr_assert(!set.layer[1].sf && !t.b[0].s && !t.b[1].z && !t.b[1].r);
    xf_adapters_ffn_forward(&set, 1, y_fo, t.h, t.x, t.lw, t.lb, 1e-5f, N, C, 0);
    cr_assert(memcmp(y, y_fo, sizeof(float) * NC) == 0);
    cr_assert(!set.layer[1].sf && !t.b[0].s, "forward only kept activations");
    xf_adapter_set_forward_only(&set, 0);   /* and back: the backward works again */
    float *dh = fvec(NC), *dx = fvec(NC);
    xf_adapters_ffn_forward(&set, 1, y, t.h, t.x, t.lw, t.lb, 1e-5f, N, C, 0);
    cr_assert(memcmp(y, y_fo, sizeof(float) * NC) == 0);
    xf_adapters_ffn_backward(&set, 1, dh, dx, NULL, NULL, t.r, t.h, t.x, t.lw, t.lb, 1e-5f, N, C);
    xf_adapter_set_free(&set);
}

Test(adapter, backward_after_forward_only_dies, .exit_code = 1)
{
    xf_adapter_set set;
    xf_adapter_set_init(&set, 1, C);
    layer_case t;
    case_init(&t, 1, 4);
    xf_adapter_layer_push(&set.layer[0], &t.b[0]);
    size_t NC = (size_t)N * C;
    float *y = fvec(NC), *dh = fvec(NC), *dx = fvec(NC);
    xf_adapter_set_forward_only(&set, 1);
    xf_adapters_ffn_forward(&set, 0, y, t.h, t.x, t.lw, t.lb, 1e-5f, N, C, 0);
    xf_adapters_ffn_backward(&set, 0, dh, dx, NULL, NULL, t.r, t.h, t.x, t.lw, t.lb, 1e-5f, N, C);
}

Test(adapter, hook_rejects_wrong_layer, .exit_code = 1)
{
    xf_adapter_set set;
    xf_adapter_set_init(&set, 2, C);
    float v[C] = { 0 };
    xf_adapters_ffn_forward(&set, 2, v, v, v, v, v, 1e-5f, 1, C, 0);
}

Test(adapter, init_bert_weights_and_names)
{
    xf_bottleneck b;
    xf_bottleneck_init(&b, "pos", 3, 768, 16, 0);
    cr_assert_eq(b.D, 48);
    cr_assert_eq(xf_bottleneck_nparams(&b), (size_t)768 * 48 * 2 + 48 + 768);
    cr_assert_null(b.grads);
    xf_bottleneck_init_weights(&b, 42);
    size_t n = (size_t)768 * 48;
    double s1 = 0, s2 = 0, u1 = 0, u2 = 0;
    for (size_t i = 0; i < n; i++) {
        s1 += b.down_w[i]; s2 += (double)b.down_w[i] * b.down_w[i];
        u1 += b.up_w[i]; u2 += (double)b.up_w[i] * b.up_w[i];
    }
    cr_assert(fabs(s1 / n) < 1e-3 && fabs(sqrt(s2 / n) - 0.02) < 1e-3, "down std %g", sqrt(s2 / n));
    cr_assert(fabs(u1 / n) < 1e-3 && fabs(sqrt(u2 / n) - 0.02) < 1e-3, "up std %g", sqrt(u2 / n));
    for (int i = 0; i < 48; i++) cr_assert_eq(b.down_b[i], 0);
    for (int i = 0; i < 768; i++) cr_assert_eq(b.up_b[i], 0);
    xf_adapter_tensor t[4];
    cr_assert_eq(xf_bottleneck_tensors(&b, t), 4);
    cr_assert_str_eq(t[0].name, "encoder.layer.3.output.adapters.pos.adapter_down.0.weight");
    cr_assert_str_eq(t[3].name, "encoder.layer.3.output.adapters.pos.adapter_up.bias");
    cr_assert(t[2].ndim == 2 && t[2].shape[0] == 768 && t[2].shape[1] == 48);
    cr_assert(t[1].ndim == 1 && t[1].shape[0] == 48);
    /* same seed, same weights; another layer, other weights */
    xf_bottleneck c, d;
    xf_bottleneck_init(&c, "pos", 3, 768, 16, 0);
    xf_bottleneck_init(&d, "pos", 4, 768, 16, 0);
    xf_bottleneck_init_weights(&c, 42);
    xf_bottleneck_init_weights(&d, 42);
    cr_assert(memcmp(b.params, c.params, sizeof(float) * xf_bottleneck_nparams(&b)) == 0);
    cr_assert(memcmp(b.params, d.params, sizeof(float) * n) != 0);
    xf_bottleneck_free(&b); xf_bottleneck_free(&c); xf_bottleneck_free(&d);
}

/* ---- invertible adapter ---- */

typedef struct {
    xf_invadapter a;
    int n;
    float *x, *y, *r;
    int inverse;
} inv_case;

static double inv_loss(void *ctx)
{
    inv_case *t = ctx;
    if (t->inverse) xf_invadapter_inverse(&t->a, t->y, t->x, t->n);
    else xf_invadapter_forward(&t->a, t->y, t->x, t->n);
    return dot_loss(t->y, t->r, (size_t)t->n * t->a.C);
}

static void check_inv(int Cdim, int inverse)
{
    inv_case t = { .n = 3, .inverse = inverse };
    size_t NC = (size_t)t.n * Cdim;
    t.x = fvec(NC); t.y = fvec(NC); t.r = fvec(NC);
    for (uint64_t seed = 0;; seed++) {
        cr_assert(seed < 1000, "no kink-free draw");
        xf_invadapter_init(&t.a, "en", Cdim, 1);
        xf_invadapter_init_weights(&t.a, 5 + seed);
        fill_uniform(t.x, NC, -1, 1, 6 + seed);
        fill_uniform(t.r, NC, -1, 1, 7 + seed);
        inv_loss(&t);
        xf_inv_saved *s = inverse ? &t.a.inv : &t.a.fwd;
        float m = fminf(min_abs(s->zF, (size_t)t.n * t.a.F.hid), min_abs(s->zG, (size_t)t.n * t.a.G.hid));
        if (m > KINK_MARGIN / 2) break;   /* F, G inputs move by ~FD_H·|w| ≤ FD_H */
        xf_invadapter_free(&t.a);
    }
    float *dx = fvec(NC);
    for (size_t i = 0; i < NC; i++) dx[i] = 0.25f;   /* prefilled: backward must accumulate */
    inv_loss(&t);
    if (inverse) xf_invadapter_inverse_backward(&t.a, dx, t.r, t.n);
    else xf_invadapter_backward(&t.a, dx, t.r, t.n);
    for (size_t i = 0; i < NC; i++) dx[i] -= 0.25f;
    int bad = fd_check("dx", t.x, NC, dx, inv_loss, &t, FDH);
    bad += fd_check("params", t.a.params, xf_invadapter_nparams(&t.a), t.a.grads, inv_loss, &t, FDH);
    cr_assert_eq(bad, 0, "%d gradient elements off (C=%d, inverse=%d)", bad, Cdim, inverse);
    xf_invadapter_free(&t.a);
    free(t.x); free(t.y); free(t.r); free(dx);
}

Test(invadapter, fd_forward) { check_inv(16, 0); }
Test(invadapter, fd_inverse) { check_inv(16, 1); }
Test(invadapter, fd_odd_width) { check_inv(11, 0); check_inv(11, 1); }

Test(invadapter, round_trip_and_shapes)
{
    xf_invadapter a;
    xf_invadapter_init(&a, "en", 768, 0);
    cr_assert(a.F.in == 384 && a.F.hid == 192 && a.F.out == 384);
    cr_assert(a.G.in == 384 && a.G.hid == 192 && a.G.out == 384);
    xf_invadapter_init_weights(&a, 9);
    int n = 5;
    size_t NC = (size_t)n * 768;
    float *x = fvec(NC), *y = fvec(NC), *z = fvec(NC);
    fill_uniform(x, NC, -2, 2, 8);
    xf_invadapter_forward(&a, y, x, n);
    double moved = 0;
    for (size_t i = 0; i < NC; i++) moved += fabs(y[i] - x[i]);
    cr_assert(moved / NC > 1e-2, "forward is (nearly) the identity");
    xf_invadapter_inverse(&a, z, y, n);
    for (size_t i = 0; i < NC; i++) cr_assert_float_eq(z[i], x[i], 1e-5);
    xf_invadapter_forward(&a, y, z, n);   /* and the other way round */
    xf_invadapter_inverse(&a, x, y, n);
    for (size_t i = 0; i < NC; i++) cr_assert_float_eq(z[i], x[i], 1e-5);
    xf_adapter_tensor t[8];
    cr_assert_eq(xf_invadapter_tensors(&a, t), 8);
    cr_assert_str_eq(t[0].name, "invertible_adapters.en.F.0.weight");
    cr_assert_str_eq(t[7].name, "invertible_adapters.en.G.2.bias");
    cr_assert(t[2].shape[0] == 384 && t[2].shape[1] == 192);
    /* PyTorch default Linear init bound 1/sqrt(fan_in) */
    float mx = 0;
    for (int i = 0; i < 192 * 384; i++) mx = fmaxf(mx, fabsf(a.F.w0[i]));
    cr_assert(mx <= 1 / sqrtf(384) && mx > 0.9f / sqrtf(384));
    xf_invadapter_free(&a);
}

Test(invadapter, emb_hook_matches_forward)
{
    xf_invadapter a;
    xf_invadapter_init(&a, "en", 16, 1);
    xf_invadapter_init_weights(&a, 3);
    float x[32], y[32], y2[32], r[32], dx[32] = { 0 }, dx2[32] = { 0 };
    fill_uniform(x, 32, -1, 1, 1);
    fill_uniform(r, 32, -1, 1, 2);
    xf_invadapter_emb_forward(&a, y, x, 2, 16, 1);
    xf_invadapter_emb_backward(&a, dx, r, x, 2, 16);
    xf_invadapter_forward(&a, y2, x, 2);
    xf_invadapter_backward(&a, dx2, r, 2);
    cr_assert(memcmp(y, y2, sizeof y) == 0);
    cr_assert(memcmp(dx, dx2, sizeof dx) == 0);
    xf_invadapter_free(&a);
}
