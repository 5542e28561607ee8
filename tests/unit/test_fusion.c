/* test_fusion.c — AdapterFusion (fusion.h): Fuse(one adapter, V = I) is
 * the plain adapter bit for bit, finite-difference checks of the fusion
 * backward under a task adapter (with and without score dropout), the
 * forward-only path, the V regulariser, init and names. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "fdcheck.h"
#include "fusion.h"
#include "ops.h"

#define KINK_MARGIN 0.1f

enum { N = 3, C = 16, RED = 4, NMAX = 3 };

static float min_abs(const float *z, size_t n)
{
    float m = INFINITY;
    for (size_t i = 0; i < n; i++) m = fminf(m, fabsf(z[i]));
    return m;
}

typedef struct {
    int n, task;
    xf_adapter_layer L;
    xf_bottleneck lang[NMAX], t;
    xf_fusion f;
    float *h, *x, *lw, *lb, *y, *r, *scratch;
} fcase;

static void case_init(fcase *c, int n, int task, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->n = n;
    c->task = task;
    static const char *names[NMAX] = { "eng", "hin", "zho" };
    xf_bottleneck *ad[NMAX];
    for (int i = 0; i < n; i++) {
        xf_bottleneck_init(&c->lang[i], names[i], 2, C, RED, 1);
        fill_uniform(c->lang[i].params, xf_bottleneck_nparams(&c->lang[i]), -0.5f, 0.5f, 10 + i + 100 * seed);
        ad[i] = &c->lang[i];
    }
    xf_fusion_init(&c->f, ad, n, 2, C, 1);
    fill_uniform(c->f.params, xf_fusion_nparams(&c->f), -0.3f, 0.3f, 20 + 100 * seed);
    xf_adapter_layer_init(&c->L, C);
    xf_adapter_layer_push_fusion(&c->L, &c->f);
    if (task) {
        xf_bottleneck_init(&c->t, "pos", 2, C, RED, 1);
        fill_uniform(c->t.params, xf_bottleneck_nparams(&c->t), -0.5f, 0.5f, 30 + 100 * seed);
        xf_adapter_layer_push(&c->L, &c->t);
    }
    size_t NC = (size_t)N * C;
    c->scratch = fvec(xf_adapter_layer_scratch_floats(&c->L, N));
    c->h = fvec(NC); c->x = fvec(NC); c->y = fvec(NC); c->r = fvec(NC);
    c->lw = fvec(C); c->lb = fvec(C);
    fill_uniform(c->h, NC, -1, 1, 1 + 100 * seed);
    fill_uniform(c->x, NC, -1, 1, 2 + 100 * seed);
    fill_uniform(c->r, NC, -1, 1, 3 + 100 * seed);
    fill_uniform(c->lw, C, 0.5f, 1.5f, 4 + 100 * seed);
    fill_uniform(c->lb, C, -0.3f, 0.3f, 5 + 100 * seed);
}

static void case_free(fcase *c)
{
    for (int i = 0; i < c->n; i++) xf_bottleneck_free(&c->lang[i]);
    if (c->task) xf_bottleneck_free(&c->t);
    xf_fusion_free(&c->f);
    xf_adapter_layer_free(&c->L);
    free(c->h); free(c->x); free(c->y); free(c->r); free(c->lw); free(c->lb); free(c->scratch);
}

static double layer_loss(void *ctx)
{
    fcase *c = ctx;
    xf_adapter_layer_forward(&c->L, c->y, c->h, c->x, c->lw, c->lb, 1e-5f, N, c->scratch);
    return dot_loss(c->y, c->r, (size_t)N * C);
}

/* the fusion step alone, in training mode (score dropout) */
static double step_loss(void *ctx)
{
    fcase *c = ctx;
    xf_fusion_step_forward(&c->f, NULL, c->y, c->h, c->x, c->lw, c->lb, 1e-5f, N, 1);
    return dot_loss(c->y, c->r, (size_t)N * C);
}

static int kink_free(fcase *c)
{
    float m = INFINITY;
    for (int i = 0; i < c->n; i++)
        m = fminf(m, min_abs(c->f.acts.z + (size_t)i * N * c->f.D, (size_t)N * c->lang[i].D));
    if (c->task) m = fminf(m, min_abs(c->t.z, (size_t)N * c->t.D));
    return m > KINK_MARGIN;
}

static int check_params(fcase *c, fd_loss_fn loss)
{
    int bad = 0;
    const char *part[5] = { "Q", "bq", "K", "bk", "V" };
    xf_adapter_tensor at[5];
    xf_fusion_tensors(&c->f, at);
    for (int i = 0; i < 5; i++)
        bad += fd_check(part[i], at[i].data, (size_t)at[i].shape[0] * (at[i].ndim == 2 ? at[i].shape[1] : 1),
                        at[i].grad, loss, c, FD_H);
    for (int i = 0; i < c->n; i++)
        bad += fd_check(c->lang[i].name, c->lang[i].params, xf_bottleneck_nparams(&c->lang[i]),
                        c->lang[i].grads, loss, c, FD_H);
    return bad;
}

static void check_fd(int n, int task)
{
    fcase c;
    for (uint64_t seed = 0;; seed++) {
        cr_assert(seed < 1000, "no kink-free draw");
        case_init(&c, n, task, seed);
        layer_loss(&c);
        if (kink_free(&c)) break;
        case_free(&c);
    }
    size_t NC = (size_t)N * C;
    float *dh = fvec(NC), *dx = fvec(NC), *dlw = fvec(C), *dlb = fvec(C);
    layer_loss(&c);
    xf_adapter_layer_backward(&c.L, dh, dx, dlw, dlb, c.r, c.h, c.x, c.lw, c.lb, 1e-5f, N, c.scratch);
    int bad = 0;
    bad += fd_check("dh", c.h, NC, dh, layer_loss, &c, FD_H);
    bad += fd_check("dx", c.x, NC, dx, layer_loss, &c, FD_H);
    bad += fd_check("dln_w", c.lw, C, dlw, layer_loss, &c, FD_H);
    bad += fd_check("dln_b", c.lb, C, dlb, layer_loss, &c, FD_H);
    bad += check_params(&c, layer_loss);
    if (task)
        bad += fd_check("task", c.t.params, xf_bottleneck_nparams(&c.t), c.t.grads, layer_loss, &c, FD_H);
    cr_assert_eq(bad, 0, "%d gradient elements off (Fuse of %d%s)", bad, n, task ? " + task" : "");
    /* the gradients are not trivially zero */
    double s = 0;
    for (size_t i = 0; i < xf_fusion_nparams(&c.f); i++) s += fabs(c.f.grads[i]);
    cr_assert(s > 1e-3, "fusion gradients vanish");
    case_free(&c);
    free(dh); free(dx); free(dlw); free(dlb);
}

Test(fusion, fd_fuse_one) { check_fd(1, 0); }
Test(fusion, fd_fuse_two_under_task) { check_fd(2, 1); }
Test(fusion, fd_fuse_three_under_task) { check_fd(3, 1); }

Test(fusion, fd_score_dropout)
{
    fcase c;
    for (uint64_t seed = 0;; seed++) {
        cr_assert(seed < 1000, "no kink-free draw");
        case_init(&c, 3, 0, seed);
        c.f.p_drop = 0.4f;
        c.f.drop_seed = 77;
        step_loss(&c);
        if (kink_free(&c)) break;
        case_free(&c);
    }
    /* some scores are dropped, some kept */
    int zero = 0;
    size_t NC = (size_t)N * C;
    float *dh = fvec(NC), *dx = fvec(NC), *dlw = fvec(C), *dlb = fvec(C);
    float *scr = fvec(xf_fusion_bwd_scratch_floats(&c.f, N));
    step_loss(&c);
    float *nodrop = fvec(NC), *withdrop = fvec(NC);
    memcpy(withdrop, c.y, sizeof(float) * NC);
    xf_fusion_step_forward(&c.f, NULL, nodrop, c.h, c.x, c.lw, c.lb, 1e-5f, N, 0);
    for (size_t i = 0; i < NC; i++) zero += nodrop[i] != withdrop[i];
    cr_assert(zero > 0, "dropout changed nothing");
    step_loss(&c);
    xf_fusion_step_backward(&c.f, dh, dx, dlw, dlb, c.r, c.lw, c.lb, N, scr);
    int bad = fd_check("dh", c.h, NC, dh, step_loss, &c, FD_H);
    bad += fd_check("dx", c.x, NC, dx, step_loss, &c, FD_H);
    bad += fd_check("dln_w", c.lw, C, dlw, step_loss, &c, FD_H);
    bad += check_params(&c, step_loss);
    cr_assert_eq(bad, 0, "%d gradient elements off (score dropout)", bad);
    case_free(&c);
    free(dh); free(dx); free(dlw); free(dlb); free(scr); free(nodrop); free(withdrop);
}

/* Fuse(lang) with V = I under a task adapter gives exactly Stack(lang, task),
 * in the kept and in the forward-only (hook) path. */
Test(fusion, fuse_one_identity_value_is_plain_adapter)
{
    fcase c;
    case_init(&c, 1, 1, 3);
    memset(c.f.v_w, 0, sizeof(float) * C * C);
    for (int i = 0; i < C; i++) c.f.v_w[i * C + i] = 1;
    size_t NC = (size_t)N * C;
    xf_adapter_layer plain;
    xf_adapter_layer_init(&plain, C);
    xf_adapter_layer_push(&plain, &c.lang[0]);
    xf_adapter_layer_push(&plain, &c.t);
    float *ref = fvec(NC), *scr = fvec(xf_adapter_layer_scratch_floats(&plain, N));
    xf_adapter_layer_forward(&plain, ref, c.h, c.x, c.lw, c.lb, 1e-5f, N, scr);
    layer_loss(&c);
    cr_assert(memcmp(ref, c.y, sizeof(float) * NC) == 0, "Fuse(lang), V = I differs from the plain adapter");
    /* and a V ≠ I changes the output (the check above can fail) */
    c.f.v_w[1] = 0.5f;
    layer_loss(&c);
    cr_assert(memcmp(ref, c.y, sizeof(float) * NC) != 0);
    c.f.v_w[1] = 0;

    /* through the FFN hook, forward only */
    xf_adapter_set s;
    xf_adapter_set_init(&s, 3, C);
    xf_adapter_layer_push_fusion(&s.layer[2], &c.f);
    xf_adapter_layer_push(&s.layer[2], &c.t);
    xf_adapter_set_forward_only(&s, 1);
    float *y = fvec(NC);
    xf_adapters_ffn_forward(&s, 2, y, c.h, c.x, c.lw, c.lb, 1e-5f, N, C, 0);
    cr_assert(memcmp(ref, y, sizeof(float) * NC) == 0, "forward-only hook differs");
    cr_assert_null(c.f.saved, "forward only keeps nothing");
    xf_adapter_set_free(&s);
    xf_adapter_layer_free(&plain);
    free(ref); free(scr); free(y);
    case_free(&c);
}

Test(fusion, forward_only_matches_kept_forward_three)
{
    fcase c;
    case_init(&c, 3, 1, 5);
    size_t NC = (size_t)N * C;
    layer_loss(&c);
    float *ref = fvec(NC), *y = fvec(NC);
    memcpy(ref, c.y, sizeof(float) * NC);
    xf_adapter_set s;
    xf_adapter_set_init(&s, 3, C);
    xf_adapter_layer_push_fusion(&s.layer[2], &c.f);
    xf_adapter_layer_push(&s.layer[2], &c.t);
    xf_adapter_set_forward_only(&s, 1);
    xf_adapters_ffn_forward(&s, 2, y, c.h, c.x, c.lw, c.lb, 1e-5f, N, C, 0);
    /* the folded products (KᵀQ, V·up_i) round differently: equal to 1e-5 */
    for (size_t i = 0; i < NC; i++)
        cr_assert(fabsf(ref[i] - y[i]) <= 1e-5f * (1 + fabsf(ref[i])), "[%zu] %g vs %g", i, ref[i], y[i]);
    /* a parameter change is seen after xf_fusion_params_changed */
    c.f.k_b[0] += 0.5f;
    c.f.q_w[3] += 0.5f;
    c.f.v_w[5] += 0.5f;
    layer_loss(&c);
    memcpy(ref, c.y, sizeof(float) * NC);
    xf_fusion_params_changed(&c.f);
    xf_adapters_ffn_forward(&s, 2, y, c.h, c.x, c.lw, c.lb, 1e-5f, N, C, 0);
    for (size_t i = 0; i < NC; i++)
        cr_assert(fabsf(ref[i] - y[i]) <= 1e-5f * (1 + fabsf(ref[i])), "[%zu] %g vs %g", i, ref[i], y[i]);
    xf_adapter_set_free(&s);
    free(ref); free(y);
    case_free(&c);
}

static double reg_loss(void *ctx) { return xf_fusion_reg(ctx); }

Test(fusion, regulariser_value_and_gradient)
{
    fcase c;
    case_init(&c, 2, 0, 1);
    /* by hand: V = I except V[0][1] = 0.5, V[2][2] = 0 → 0.01·(0.25 + 1) */
    memset(c.f.v_w, 0, sizeof(float) * C * C);
    for (int i = 0; i < C; i++) c.f.v_w[i * C + i] = 1;
    c.f.v_w[1] = 0.5f;
    c.f.v_w[2 * C + 2] = 0;
    memset(c.f.grads, 0, sizeof(float) * xf_fusion_nparams(&c.f));
    double reg = xf_fusion_reg(&c.f);   /* once: the assert macro evaluates twice */
    cr_assert_float_eq(reg, 0.0125, 1e-9);
    cr_assert_float_eq(c.f.g_v_w[1], 0.01f, 1e-7);
    cr_assert_float_eq(c.f.g_v_w[2 * C + 2], -0.02f, 1e-7);
    fill_uniform(c.f.v_w, C * C, -1, 1, 9);
    memset(c.f.grads, 0, sizeof(float) * xf_fusion_nparams(&c.f));
    xf_fusion_reg(&c.f);
    float *g = fvec(C * C);
    memcpy(g, c.f.g_v_w, sizeof(float) * C * C);
    float *save = c.f.g_v_w;
    c.f.g_v_w = NULL;
    cr_assert_eq(fd_check("reg V", c.f.v_w, C * C, g, reg_loss, &c.f, FD_H), 0);
    c.f.g_v_w = save;
    free(g);
    case_free(&c);
}

Test(fusion, init_and_names)
{
    fcase c;
    case_init(&c, 3, 0, 0);
    xf_fusion_init_weights(&c.f, 42);
    cr_assert_str_eq(c.f.name, "eng,hin,zho");
    for (int i = 0; i < C; i++)
        for (int j = 0; j < C; j++)
            cr_assert_eq(c.f.v_w[i * C + j], i == j ? 1.0f : 1e-6f);
    double s = 0, s2 = 0;
    for (int i = 0; i < C * C; i++) { s += c.f.q_w[i]; s2 += (double)c.f.q_w[i] * c.f.q_w[i]; }
    double sd = sqrt(s2 / (C * C) - (s / (C * C)) * (s / (C * C)));
    cr_assert(sd > 0.015 && sd < 0.025, "Q std %g, want 0.02", sd);
    for (int i = 0; i < C; i++) cr_assert(c.f.q_b[i] == 0 && c.f.k_b[i] == 0);
    cr_assert(memcmp(c.f.q_w, c.f.k_w, sizeof(float) * C * C) != 0);
    float q0 = c.f.q_w[0];
    xf_fusion_init_weights(&c.f, 42);
    cr_assert_eq(c.f.q_w[0], q0, "init depends on the seed only");
    xf_adapter_tensor at[5];
    cr_assert_eq(xf_fusion_tensors(&c.f, at), 5);
    cr_assert_str_eq(at[0].name, "encoder.layer.2.output.adapter_fusion_layer.eng,hin,zho.query.weight");
    cr_assert_str_eq(at[3].name, "encoder.layer.2.output.adapter_fusion_layer.eng,hin,zho.key.bias");
    cr_assert_str_eq(at[4].name, "encoder.layer.2.output.adapter_fusion_layer.eng,hin,zho.value.weight");
    cr_assert_eq(at[3].ndim, 1);
    cr_assert_eq(at[4].ndim, 2);
    case_free(&c);
}

/* forward (kept and forward-only) and backward are the same bits on 1 and 2
 * threads, with enough tokens for the parallel loops and GEMMs to split */
static void det_run(int threads, float *out_keep, float *out_fwd, float *grads, float *dprev)
{
    enum { NT = 200, CC = 32, NA = 3 };
    xf_ops_set_threads(threads);
    xf_bottleneck b[NA], *ad[NA];
    for (int i = 0; i < NA; i++) {
        xf_bottleneck_init(&b[i], i == 0 ? "a" : i == 1 ? "b" : "c", 0, CC, 4, 0);
        fill_uniform(b[i].params, xf_bottleneck_nparams(&b[i]), -0.5f, 0.5f, 40 + i);
        ad[i] = &b[i];
    }
    xf_fusion f;
    xf_fusion_init(&f, ad, NA, 0, CC, 1);
    fill_uniform(f.params, xf_fusion_nparams(&f), -0.3f, 0.3f, 50);
    f.p_drop = 0.1f;
    f.drop_seed = 9;
    size_t NC = (size_t)NT * CC;
    float *h = fvec(NC), *x = fvec(NC), *r = fvec(NC), *lw = fvec(CC), *lb = fvec(CC), *dx = fvec(NC);
    fill_uniform(h, NC, -1, 1, 1);
    fill_uniform(x, NC, -1, 1, 2);
    fill_uniform(r, NC, -1, 1, 3);
    fill_uniform(lw, CC, 0.5f, 1.5f, 4);
    xf_fusion_step_forward(&f, NULL, out_keep, h, x, lw, lb, 1e-5f, NT, 1);
    float *scr = fvec(xf_fusion_bwd_scratch_floats(&f, NT));
    memset(dprev, 0, sizeof(float) * NC);
    xf_fusion_step_backward(&f, dprev, dx, NULL, NULL, r, lw, lb, NT, scr);
    memcpy(grads, f.grads, sizeof(float) * xf_fusion_nparams(&f));
    float *buf = fvec(xf_fusion_fwd_floats(&f, NT, 0));
    xf_fusion_acts a = xf_fusion_acts_at(&f, buf, NT, 0);
    xf_fusion_step_forward(&f, &a, out_fwd, h, x, lw, lb, 1e-5f, NT, 0);
    xf_fusion_free(&f);
    for (int i = 0; i < NA; i++) xf_bottleneck_free(&b[i]);
    free(h); free(x); free(r); free(lw); free(lb); free(dx); free(scr); free(buf);
    xf_ops_set_threads(1);
}

Test(fusion, same_bits_on_one_and_two_threads)
{
    size_t NC = 200 * 32, NP = 32 * 32 * 3 + 2 * 32;
    float *k1 = fvec(NC), *f1 = fvec(NC), *g1 = fvec(NP), *d1 = fvec(NC);
    float *k2 = fvec(NC), *f2 = fvec(NC), *g2 = fvec(NP), *d2 = fvec(NC);
    det_run(1, k1, f1, g1, d1);
    det_run(2, k2, f2, g2, d2);
    cr_assert(memcmp(k1, k2, sizeof(float) * NC) == 0, "kept forward differs");
    cr_assert(memcmp(f1, f2, sizeof(float) * NC) == 0, "forward-only differs");
    cr_assert(memcmp(g1, g2, sizeof(float) * NP) == 0, "fusion gradients differ");
    cr_assert(memcmp(d1, d2, sizeof(float) * NC) == 0, "input gradient differs");
    free(k1); free(f1); free(g1); free(d1); free(k2); free(f2); free(g2); free(d2);
}
