/* ops_bench.c — throughput of the encoder's ops at mBERT-base shapes
 * (B=8, T=512 → 4096 tokens, d=768, ff=3072, 12 heads), against the sgemm
 * peak of the linked GEMM backend (gemm.h) measured in the same run.  Built and run by gemm.sh.
 * usage: ops_bench [THREADS [SECTION]]   (default 2 threads; SECTION one of
 * linear, attention, memory, decoder runs only that part) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "gemm.h"
#include "ops.h"
#include "rng.h"
#include "util.h"

static float *rnd(size_t n, float scale, uint64_t seed)
{
    float *p = xmalloc_aligned(n * sizeof(float));
    xf_rng r;
    xf_rng_seed(&r, seed, 1);
    for (size_t i = 0; i < n; i++) p[i] = scale * (float)(xf_rng_double(&r) * 2.0 - 1.0);
    return p;
}

/* best of REPS wall times of one call of the statement */
#define BEST(reps, stmt)                                                                     \
    ({                                                                                       \
        double best_ = 1e30;                                                                 \
        for (int r_ = 0; r_ < (reps); r_++) {                                                \
            double t0_ = xf_now();                                                           \
            stmt;                                                                            \
            double dt_ = xf_now() - t0_;                                                     \
            if (dt_ < best_) best_ = dt_;                                                    \
        }                                                                                    \
        best_;                                                                               \
    })

static double peak;
static const char *only;
static int want(const char *section) { return !only || !strcmp(only, section); }

static void gemm_line(const char *what, double flops, double s)
{
    printf("%-44s %8.1f ms %7.1f GFLOP/s  %5.1f %% of peak\n", what, s * 1e3, flops / s * 1e-9,
           100.0 * flops / s * 1e-9 / peak);
}

static void mem_line(const char *what, double bytes, double s)
{
    printf("%-44s %8.1f ms %7.1f GB/s\n", what, s * 1e3, bytes / s * 1e-9);
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    only = argc > 2 ? argv[2] : NULL;
    xf_ops_set_threads(threads);
    peak = xf_sgemm_peak_gflops(threads);
    printf("threads %d; %s sgemm peak (3072^3, best of 2) %.1f GFLOP/s\n", threads,
           xf_gemm_kernel(), peak);

    const int N = 4096, C = 768, F = 3072, B = 8, T = 512, H = 12;
    float *x = rnd((size_t)N * C, 1.0f, 1), *w = rnd((size_t)F * C, 0.02f, 2), *b = rnd(F, 0.02f, 3);
    float *y = rnd((size_t)N * F, 1.0f, 4), *dy = rnd((size_t)N * F, 1.0f, 5);
    float *dx = rnd((size_t)N * C, 0, 6), *dw = rnd((size_t)F * C, 0, 7), *db = rnd(F, 0, 8);
    double lf = 2.0 * N * C * F;
    if (want("linear")) {
    gemm_line("linear_forward  [4096,768]x[3072,768]T", lf,
              BEST(3, linear_forward(y, x, w, b, N, C, F)));
    gemm_line("linear_backward (dinp, dw, db)", 2 * lf,
              BEST(3, linear_backward(dx, dw, db, dy, x, w, N, C, F)));
    gemm_line("linear_forward  [4096,3072]x[768,3072]T", lf,
              BEST(3, linear_forward(x, y, w, NULL, N, F, C)));
    }

    /* attention */
    float *qkv = rnd((size_t)N * 3 * C, 1.0f, 9), *ao = rnd((size_t)N * C, 0, 10);
    float *probs = rnd((size_t)B * H * T * T, 0, 11), *dqkv = rnd((size_t)N * 3 * C, 0, 12);
    float *scratch = xmalloc_aligned(attention_scratch_floats(T) * sizeof(float));
    int32_t *am = xmalloc((size_t)N * sizeof(int32_t));
    for (int i = 0; i < N; i++) am[i] = (i % T) < T - 37 * (i / T);   /* some padding */
    double af = attention_forward_flops(B, T, C);
    if (want("attention")) {
    gemm_line("attention_forward  B8 T512 H12 p=0.1", af,
              BEST(2, attention_forward(ao, probs, qkv, am, B, T, C, H, 0.1f, 1, 0)));
    gemm_line("attention_backward B8 T512 H12 p=0.1", 2 * af,
              BEST(2, attention_backward(dqkv, scratch, dy, qkv, probs, am, B, T, C, H, 0.1f, 1, 0)));
    gemm_line("attention_forward  p=0 (eval)", af,
              BEST(2, attention_forward(ao, probs, qkv, am, B, T, C, H, 0.0f, 1, 0)));
    }

    /* memory-bound ops on [4096,3072]: bytes = arrays read + written */
    size_t n = (size_t)N * F;
    float *mean = rnd(N, 0, 13), *rstd = rnd(N, 0, 14), *lw = rnd(F, 1.0f, 15), *lb = rnd(F, 1.0f, 16);
    float *z = rnd(n, 0, 17), *dz = rnd(n, 0, 18);
    if (want("memory")) {
    mem_line("layernorm_forward  [4096,3072]", 2.0 * n * 4,
             BEST(3, layernorm_forward(z, mean, rstd, y, lw, lb, N, F, 1e-12f)));
    mem_line("layernorm_backward [4096,3072]", 3.0 * n * 4 + n * 4,
             BEST(3, layernorm_backward(dz, lw, lb, dy, y, lw, mean, rstd, N, F)));
    mem_line("gelu_forward  [4096,3072]", 2.0 * n * 4, BEST(3, gelu_forward(z, y, n)));
    mem_line("gelu_backward [4096,3072]", 4.0 * n * 4, BEST(3, gelu_backward(dz, y, dy, n)));
    mem_line("dropout_forward p=0.1 [4096,3072]", 2.0 * n * 4,
             BEST(3, dropout_forward(z, y, n, 0.1f, 1, 0)));
    mem_line("dropout_backward p=0.1 [4096,3072]", 3.0 * n * 4,
             BEST(3, dropout_backward(dz, dy, n, 0.1f, 1, 0)));
    mem_line("softmax_rows [4096,3072]", 2.0 * n * 4, BEST(3, softmax_rows(z, N, F)));
    mem_line("embedding_forward [4096,768]", 2.0 * N * C * 4, ({
                 int32_t *ids = (int32_t *)am;
                 BEST(3, embedding_forward(x, ids, w, N, C));
             }));
    }

    /* masked-row MLM decoding: 15 % of 4096 rows through the 119547 vocab */
    const int M = 614, V = 119547;
    float *hz = rnd((size_t)M * C, 1.0f, 19), *wte = rnd((size_t)V * C, 0.02f, 20);
    float *logits = rnd((size_t)M * V, 0, 21), *dlogits = rnd((size_t)M * V, 0, 22);
    float *dhz = rnd((size_t)M * C, 0, 23), *dwte = rnd((size_t)V * C, 0, 24);
    int32_t *tg = xmalloc((size_t)M * sizeof(int32_t));
    for (int i = 0; i < M; i++) tg[i] = (i * 7919) % V;
    double vf = 2.0 * M * C * V;
    if (want("decoder")) {
    gemm_line("decoder forward [614,768]x[119547,768]T", vf,
              BEST(2, linear_forward(logits, hz, wte, NULL, M, C, V)));
    mem_line("crossentropy fwd+bwd [614,119547]", 2.0 * M * V * 4,
             BEST(2, crossentropy_forward_backward(dlogits, logits, tg, M, V, 1.0f)));
    gemm_line("decoder backward (dinp, dw)", 2 * vf,
              BEST(2, linear_backward(dhz, dwte, NULL, dlogits, hz, wte, M, C, V)));
    }
    printf("peak RSS %.2f GiB\n", xf_peak_rss() / 1073741824.0);
    return 0;
}
