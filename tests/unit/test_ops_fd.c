/* test_ops_fd.c — forward values against double-precision references and
 * finite-difference checks of every backward in ops.h (see fdcheck.h for
 * the loss and the tolerance).  Backwards are run into gradients prefilled
 * with a constant, which checks that they accumulate (+=). */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "fdcheck.h"
#include "ops.h"
#include "ops_kernels.h"
#include "rng.h"

#define PREFILL 0.25f

static void prefill(float *g, size_t n) { for (size_t i = 0; i < n; i++) g[i] = PREFILL; }
static void unfill(float *g, size_t n) { for (size_t i = 0; i < n; i++) g[i] -= PREFILL; }

/* ---- vector math (ops_kernels.h) against libm in double ---- */

Test(ops, vector_exp_and_normal_cdf_accuracy)
{
    for (double x = -87.3; x <= 88.0; x += 1e-3) {
        float f = (float)x;
        double r = exp((double)f);
        cr_assert(fabs(xf_expf(f) - r) <= 1.5e-7 * r, "exp(%.9g) = %.9g, libm %.9g", f, xf_expf(f), r);
    }
    cr_assert_eq(xf_expf(-88.0f), 0.0f);
    cr_assert_eq(xf_expf(-FLT_MAX), 0.0f);
    cr_assert_eq(xf_expf(-INFINITY), 0.0f);
    cr_assert(isnan(xf_expf(NAN)));
    for (double x = -9.0; x <= 9.0; x += 1e-4) {
        float f = (float)x;
        double r = 0.5 * erfc(-(double)f / sqrt(2.0));
        double tol = (fabs(x) < 5 ? 3e-6 : 1.5e-5) * r;
        cr_assert(fabs(xf_normal_cdf(f) - r) <= tol, "Phi(%.9g) = %.9g, libm %.9g", f,
                  xf_normal_cdf(f), r);
    }
}

/* ---- GEMM ---- */

static void naive_gemm(int tA, int tB, int M, int N, int K, float alpha, const float *A, int lda,
                       const float *B, int ldb, float beta, double *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int k = 0; k < K; k++) {
                double a = tA ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tB ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += a * b;
            }
            C[(size_t)i * ldc + j] = alpha * s + beta * C[(size_t)i * ldc + j];
        }
}

Test(ops, gemm_all_transposes_strides_and_beta)
{
    int M = 7, N = 5, K = 6, ld = 11;   /* ld > every width: strided views */
    float *A = fvec(11 * 11), *B = fvec(11 * 11), *C = fvec(11 * 11);
    double *R = calloc(11 * 11, sizeof(double));
    for (int tA = 0; tA < 2; tA++)
        for (int tB = 0; tB < 2; tB++)
            for (int gi = 0; gi < 2; gi++) {
                fill_uniform(A, 121, -1, 1, 1 + tA);
                fill_uniform(B, 121, -1, 1, 3 + tB);
                fill_uniform(C, 121, -1, 1, 5);
                for (int i = 0; i < 121; i++) R[i] = C[i];
                (gi ? xf_gemm1 : xf_gemm)(tA, tB, M, N, K, 0.5f, A, ld, B, ld, 0.75f, C, ld);
                naive_gemm(tA, tB, M, N, K, 0.5f, A, ld, B, ld, 0.75f, R, ld);
                for (int i = 0; i < 11 * 11; i++)
                    cr_assert(fabs(C[i] - R[i]) < 1e-5, "tA=%d tB=%d [%d]: %g vs %g", tA, tB, i,
                              C[i], R[i]);
            }
    /* beta = 0 ignores NaN in C (BLAS semantics) */
    for (int i = 0; i < 121; i++) C[i] = NAN;
    xf_gemm(0, 0, M, N, K, 1.0f, A, ld, B, ld, 0.0f, C, ld);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) cr_assert(isfinite(C[i * ld + j]));
    free(A), free(B), free(C), free(R);
}

/* ---- linear ---- */

struct lin { int N, C, OC; float *inp, *w, *b, *out, *r; };
static double lin_loss(void *p)
{
    struct lin *c = p;
    linear_forward(c->out, c->inp, c->w, c->b, c->N, c->C, c->OC);
    return dot_loss(c->out, c->r, (size_t)c->N * c->OC);
}

Test(ops, linear_forward_and_fd)
{
    struct lin c = {.N = 37, .C = 6, .OC = 5};   /* N > XF_CHUNK_ROWS: db partials */
    size_t ni = c.N * c.C, nw = c.OC * c.C, no = c.N * c.OC;
    c.inp = fvec(ni), c.w = fvec(nw), c.b = fvec(c.OC), c.out = fvec(no), c.r = fvec(no);
    fill_uniform(c.inp, ni, -1, 1, 1);
    fill_uniform(c.w, nw, -1, 1, 2);
    fill_uniform(c.b, c.OC, -1, 1, 3);
    fill_uniform(c.r, no, -1, 1, 4);
    lin_loss(&c);
    for (int n = 0; n < c.N; n++)
        for (int o = 0; o < c.OC; o++) {
            double s = c.b[o];
            for (int k = 0; k < c.C; k++) s += (double)c.inp[n * c.C + k] * c.w[o * c.C + k];
            cr_assert(fabs(c.out[n * c.OC + o] - s) < 1e-5);
        }
    float *di = fvec(ni), *dw = fvec(nw), *db = fvec(c.OC);
    prefill(di, ni), prefill(dw, nw), prefill(db, c.OC);
    linear_backward(di, dw, db, c.r, c.inp, c.w, c.N, c.C, c.OC);
    unfill(di, ni), unfill(dw, nw), unfill(db, c.OC);
    cr_assert_eq(fd_check("linear dinp", c.inp, ni, di, lin_loss, &c, FD_H), 0);
    cr_assert_eq(fd_check("linear dw", c.w, nw, dw, lin_loss, &c, FD_H), 0);
    cr_assert_eq(fd_check("linear db", c.b, c.OC, db, lin_loss, &c, FD_H), 0);
    /* NULL gradients are skipped, the others still computed */
    float *dw2 = fvec(nw);
    linear_backward(NULL, dw2, NULL, c.r, c.inp, c.w, c.N, c.C, c.OC);
    for (size_t i = 0; i < nw; i++) cr_assert_float_eq(dw2[i], dw[i], 1e-6);
    /* b == NULL: no bias */
    linear_forward(c.out, c.inp, c.w, NULL, c.N, c.C, c.OC);
    cr_assert(fabs(c.out[0] - (c.inp[0] * c.w[0] + c.inp[1] * c.w[1] + c.inp[2] * c.w[2] +
                               c.inp[3] * c.w[3] + c.inp[4] * c.w[4] + c.inp[5] * c.w[5])) < 1e-5);
    free(c.inp), free(c.w), free(c.b), free(c.out), free(c.r), free(di), free(dw), free(db),
        free(dw2);
}

/* ---- layernorm ---- */

struct ln { int N, C; float *inp, *w, *b, *out, *mean, *rstd, *r; };
static double ln_loss(void *p)
{
    struct ln *c = p;
    layernorm_forward(c->out, c->mean, c->rstd, c->inp, c->w, c->b, c->N, c->C, 1e-5f);
    return dot_loss(c->out, c->r, (size_t)c->N * c->C);
}

Test(ops, layernorm_forward_and_fd)
{
    struct ln c = {.N = 70, .C = 6};   /* 3 row chunks */
    size_t n = c.N * c.C;
    c.inp = fvec(n), c.w = fvec(c.C), c.b = fvec(c.C), c.out = fvec(n), c.r = fvec(n);
    c.mean = fvec(c.N), c.rstd = fvec(c.N);
    fill_uniform(c.inp, n, -2, 2, 1);
    fill_uniform(c.w, c.C, 0.5, 1.5, 2);
    fill_uniform(c.b, c.C, -1, 1, 3);
    fill_uniform(c.r, n, -1, 1, 4);
    ln_loss(&c);
    for (int i = 0; i < c.N; i++) {   /* double reference, biased variance as torch */
        double m = 0, v = 0;
        for (int k = 0; k < c.C; k++) m += c.inp[i * c.C + k];
        m /= c.C;
        for (int k = 0; k < c.C; k++) v += (c.inp[i * c.C + k] - m) * (c.inp[i * c.C + k] - m);
        double rs = 1.0 / sqrt(v / c.C + 1e-5);
        cr_assert(fabs(c.mean[i] - m) < 1e-6 && fabs(c.rstd[i] - rs) < 1e-5 * rs);
        for (int k = 0; k < c.C; k++)
            cr_assert(fabs(c.out[i * c.C + k] - ((c.inp[i * c.C + k] - m) * rs * c.w[k] + c.b[k])) <
                      1e-5);
    }
    float *di = fvec(n), *dw = fvec(c.C), *db = fvec(c.C);
    prefill(di, n), prefill(dw, c.C), prefill(db, c.C);
    layernorm_backward(di, dw, db, c.r, c.inp, c.w, c.mean, c.rstd, c.N, c.C);
    unfill(di, n), unfill(dw, c.C), unfill(db, c.C);
    cr_assert_eq(fd_check("ln dinp", c.inp, n, di, ln_loss, &c, FD_H), 0);
    cr_assert_eq(fd_check("ln dw", c.w, c.C, dw, ln_loss, &c, FD_H), 0);
    cr_assert_eq(fd_check("ln db", c.b, c.C, db, ln_loss, &c, FD_H), 0);
    float *di2 = fvec(n);   /* NULL dw/db */
    layernorm_backward(di2, NULL, NULL, c.r, c.inp, c.w, c.mean, c.rstd, c.N, c.C);
    for (size_t i = 0; i < n; i++) cr_assert_float_eq(di2[i], di[i], 1e-6);
    free(c.inp), free(c.w), free(c.b), free(c.out), free(c.r), free(c.mean), free(c.rstd),
        free(di), free(dw), free(db), free(di2);
}

/* ---- element-wise activations ---- */

struct ew { size_t n; float *inp, *out, *r; void (*fwd)(float *, const float *, size_t); };
static double ew_loss(void *p)
{
    struct ew *c = p;
    c->fwd(c->out, c->inp, c->n);
    return dot_loss(c->out, c->r, c->n);
}

static void check_elementwise(const char *name, void (*fwd)(float *, const float *, size_t),
                              double (*ref)(double), int bwd_uses_out,
                              void (*bwd)(float *, const float *, const float *, size_t))
{
    struct ew c = {.n = 120, .fwd = fwd};
    c.inp = fvec(c.n), c.out = fvec(c.n), c.r = fvec(c.n);
    fill_uniform(c.inp, c.n, -4, 4, 7);
    for (size_t i = 0; i < c.n; i++)   /* keep ReLU's kink out of reach of ±h */
        if (fabsf(c.inp[i]) < 0.05f) c.inp[i] = 0.05f;
    fill_uniform(c.r, c.n, -1, 1, 8);
    ew_loss(&c);
    for (size_t i = 0; i < c.n; i++)
        cr_assert(fabs(c.out[i] - ref(c.inp[i])) < 2e-6 * (1 + fabs(ref(c.inp[i]))),
                  "%s(%g) = %.9g, reference %.9g", name, c.inp[i], c.out[i], ref(c.inp[i]));
    float *d = fvec(c.n);
    prefill(d, c.n);
    bwd(d, bwd_uses_out ? c.out : c.inp, c.r, c.n);
    unfill(d, c.n);
    cr_assert_eq(fd_check(name, c.inp, c.n, d, ew_loss, &c, FD_H), 0);
    free(c.inp), free(c.out), free(c.r), free(d);
}

static double gelu_ref(double x) { return 0.5 * x * (1 + erf(x / sqrt(2.0))); }
static double relu_ref(double x) { return x > 0 ? x : 0; }

Test(ops, gelu_fd) { check_elementwise("gelu", gelu_forward, gelu_ref, 0, gelu_backward); }
Test(ops, relu_fd) { check_elementwise("relu", relu_forward, relu_ref, 0, relu_backward); }
Test(ops, tanh_fd) { check_elementwise("tanh", tanh_forward, tanh, 1, tanh_backward); }

/* ---- dropout ---- */

Test(ops, dropout_inline_hash_matches_rng)
{
    const float ps[] = {1e-7f, 0.1f, 0.3f, 0.5f, 0.9f, 0.99999994f};
    for (size_t k = 0; k < sizeof ps / sizeof *ps; k++)
        for (uint64_t seed = 0; seed < 3; seed++)
            for (uint64_t i = 0; i < 20000; i += 7) {
                uint64_t ctr = i * 1000003ull + (seed << 40);
                int want = xf_hash_uniform(seed, XF_STREAM_DROPOUT, ctr) >= ps[k];
                cr_assert_eq(xf_dropout_keep(seed, ctr, ps[k]), want);
            }
}

struct drop { size_t n; float p; uint64_t seed, off; float *inp, *out, *r; };
static double drop_loss(void *q)
{
    struct drop *c = q;
    dropout_forward(c->out, c->inp, c->n, c->p, c->seed, c->off);
    return dot_loss(c->out, c->r, c->n);
}

Test(ops, dropout_mask_and_fd)
{
    struct drop c = {.n = 300, .p = 0.4f, .seed = 42, .off = 123456789};
    c.inp = fvec(c.n), c.out = fvec(c.n), c.r = fvec(c.n);
    fill_uniform(c.inp, c.n, -1, 1, 1);
    fill_uniform(c.r, c.n, -1, 1, 2);
    drop_loss(&c);
    int kept = 0;
    for (size_t i = 0; i < c.n; i++) {
        int keep = xf_hash_uniform(c.seed, XF_STREAM_DROPOUT, c.off + i) >= c.p;
        kept += keep;
        cr_assert_eq(c.out[i], keep ? c.inp[i] * (1.0f / (1.0f - c.p)) : 0.0f);
    }
    cr_assert(kept > 140 && kept < 220, "kept %d of 300 at p=0.4", kept);
    float *d = fvec(c.n);
    prefill(d, c.n);
    dropout_backward(d, c.r, c.n, c.p, c.seed, c.off);
    unfill(d, c.n);
    cr_assert_eq(fd_check("dropout", c.inp, c.n, d, drop_loss, &c, FD_H), 0);
    /* in place (out == inp) gives the same values */
    drop_loss(&c);
    float *x = fvec(c.n);
    memcpy(x, c.inp, c.n * sizeof(float));
    dropout_forward(x, x, c.n, c.p, c.seed, c.off);
    cr_assert_arr_eq(x, c.out, c.n * sizeof(float));
    /* p = 0 is the identity forward and backward */
    dropout_forward(x, c.inp, c.n, 0.0f, c.seed, c.off);
    cr_assert_arr_eq(x, c.inp, c.n * sizeof(float));
    prefill(d, c.n);
    dropout_backward(d, c.r, c.n, 0.0f, c.seed, c.off);
    for (size_t i = 0; i < c.n; i++) cr_assert_eq(d[i], PREFILL + c.r[i]);
    free(c.inp), free(c.out), free(c.r), free(d), free(x);
}

/* ---- embedding ---- */

struct emb { int N, C; const int32_t *ids; float *wte, *out, *r; };
static double emb_loss(void *p)
{
    struct emb *c = p;
    embedding_forward(c->out, c->ids, c->wte, c->N, c->C);
    return dot_loss(c->out, c->r, (size_t)c->N * c->C);
}

Test(ops, embedding_repeated_ids_fd)
{
    static const int32_t ids[] = {3, 0, 3, 4, 3, 1, 0, 4, 3};   /* row 2 never used */
    struct emb c = {.N = 9, .C = 70, .ids = ids};             /* 2 column blocks */
    int V = 5;
    size_t nw = (size_t)V * c.C, no = (size_t)c.N * c.C;
    c.wte = fvec(nw), c.out = fvec(no), c.r = fvec(no);
    fill_uniform(c.wte, nw, -1, 1, 1);
    fill_uniform(c.r, no, -1, 1, 2);
    emb_loss(&c);
    for (int n = 0; n < c.N; n++)
        cr_assert_arr_eq(c.out + n * c.C, c.wte + ids[n] * c.C, c.C * sizeof(float));
    float *d = fvec(nw);
    prefill(d, nw);
    embedding_backward(d, ids, c.r, c.N, c.C);
    unfill(d, nw);
    for (int k = 0; k < c.C; k++) cr_assert_eq(d[2 * c.C + k], 0.0f);
    cr_assert_eq(fd_check("embedding", c.wte, nw, d, emb_loss, &c, FD_H), 0);
    free(c.wte), free(c.out), free(c.r), free(d);
}

/* ---- softmax ---- */

struct sm { int N, C; float *inp, *out, *r; };
static double sm_loss(void *p)
{
    struct sm *c = p;
    memcpy(c->out, c->inp, (size_t)c->N * c->C * sizeof(float));
    softmax_rows(c->out, c->N, c->C);
    return dot_loss(c->out, c->r, (size_t)c->N * c->C);
}

Test(ops, softmax_forward_and_fd)
{
    struct sm c = {.N = 5, .C = 9};
    size_t n = c.N * c.C;
    c.inp = fvec(n), c.out = fvec(n), c.r = fvec(n);
    fill_uniform(c.inp, n, -3, 3, 1);
    c.inp[3] += 80.0f;   /* large logits must not overflow */
    fill_uniform(c.r, n, -1, 1, 2);
    sm_loss(&c);
    for (int i = 0; i < c.N; i++) {
        double m = -INFINITY, s = 0;
        for (int k = 0; k < c.C; k++) m = fmax(m, c.inp[i * c.C + k]);
        for (int k = 0; k < c.C; k++) s += exp(c.inp[i * c.C + k] - m);
        for (int k = 0; k < c.C; k++)
            cr_assert(fabs(c.out[i * c.C + k] - exp(c.inp[i * c.C + k] - m) / s) < 1e-6);
    }
    float *d = fvec(n);
    prefill(d, n);
    softmax_rows_backward(d, c.out, c.r, c.N, c.C);
    unfill(d, n);
    cr_assert_eq(fd_check("softmax", c.inp, n, d, sm_loss, &c, FD_H), 0);
    free(c.inp), free(c.out), free(c.r), free(d);
}

/* ---- cross-entropy ---- */

struct ce { int M, V; const int32_t *tg; float dloss; float *logits; };
static double ce_loss(void *p)
{
    struct ce *c = p;
    return (double)c->dloss * crossentropy_forward_backward(NULL, c->logits, c->tg, c->M, c->V, 1.0f);
}

Test(ops, crossentropy_value_and_fd)
{
    static const int32_t tg[] = {3, 0, 10, 3};
    struct ce c = {.M = 4, .V = 11, .tg = tg, .dloss = 1.7f};
    size_t n = (size_t)c.M * c.V;
    c.logits = fvec(n);
    fill_uniform(c.logits, n, -3, 3, 1);
    c.logits[5] = 60.0f;
    double ref = 0;
    for (int m = 0; m < c.M; m++) {
        double mx = -INFINITY, s = 0;
        for (int v = 0; v < c.V; v++) mx = fmax(mx, c.logits[m * c.V + v]);
        for (int v = 0; v < c.V; v++) s += exp(c.logits[m * c.V + v] - mx);
        ref += mx + log(s) - c.logits[m * c.V + tg[m]];
    }
    ref /= c.M;
    float *d = fvec(n);
    for (size_t i = 0; i < n; i++) d[i] = 7.0f;   /* dlogits is written, not accumulated */
    float loss = crossentropy_forward_backward(d, c.logits, tg, c.M, c.V, c.dloss);
    cr_assert(fabs(loss - ref) < 1e-5 * (1 + ref), "loss %g, reference %g", loss, ref);
    cr_assert_eq(fd_check("crossentropy", c.logits, n, d, ce_loss, &c, FD_H), 0);
    /* in place: dlogits == logits gives the same loss and gradient */
    float *z = fvec(n);
    memcpy(z, c.logits, n * sizeof(float));
    float loss2 = crossentropy_forward_backward(z, z, tg, c.M, c.V, c.dloss);
    cr_assert_eq(loss2, loss);
    cr_assert_arr_eq(z, d, n * sizeof(float));
    free(z);
    free(c.logits), free(d);
}

Test(ops, crossentropy_target_out_of_range_dies, .exit_code = 1)
{
    static const int32_t tg[] = {0, 11};
    float logits[22] = {0};
    crossentropy_forward_backward(NULL, logits, tg, 2, 11, 1.0f);
}
