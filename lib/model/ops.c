/* ops.c — the encoder's layer ops (see ops.h).
 *
 * Parallelism and determinism.  Every op gives bitwise-identical results at
 * any thread count (test_ops_determinism checks 1 vs 2 threads):
 *  - element-wise and per-row ops compute each output from its own inputs
 *    only, so splitting rows over threads changes nothing; sums within a row
 *    use fixed vector lanes (ops_kernels.h), not the data's alignment;
 *  - reductions across rows (LayerNorm dw/db, linear db) sum fixed-size row
 *    chunks (XF_CHUNK_ROWS, independent of the thread count) into per-chunk
 *    partials, then add the partials in chunk order; never atomics;
 *  - embedding backward splits the COLUMNS over threads: every column is
 *    summed by one thread, in token order, so repeated ids are deterministic;
 *  - GEMMs: xf's own split of C into column (or row) slabs, one
 *    one-thread backend GEMM per slab (gemm.h), so each element of C is the
 *    same one-thread reduction on any number of threads.
 *
 * Loops use dynamic scheduling: which thread computes a row or chunk never
 * changes its result, and on a shared machine a descheduled thread's work is
 * picked up by the other instead of stalling the loop's end.
 *
 * Speed: GCC -O2 vectorises only loops marked `omp simd`; the hot loops are
 * marked, and exp/erf are branch-free polynomials (ops_kernels.h), so the
 * non-GEMM ops run near memory bandwidth (tests/bench/gemm.sh).
 */
#include "ops.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "rng.h"
#include "util.h"
#include "ops_kernels.h"

static int g_threads = 1;

void xf_ops_set_threads(int n) { g_threads = n < 1 ? 1 : n; }
int xf_ops_threads(void) { return g_threads; }

/* Threads for a loop of WORK elementary operations: small loops stay on one
 * thread, where starting a team costs more than it saves. */
static int threads_for(size_t work) { return work < (1u << 15) ? 1 : g_threads; }

/* ---- GEMM ---- */

void xf_gemm(int tA, int tB, int M, int N, int K, float alpha,
             const float *A, int lda, const float *B, int ldb,
             float beta, float *C, int ldc)
{
    xf_gemm_nt(g_threads, tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void xf_gemm1(int tA, int tB, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb,
              float beta, float *C, int ldc)
{
    xf_gemm_nt(1, tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* ---- deterministic column sums over rows ---- */

/* acc[c] += Σ_n x[n,c] over N rows, in fixed row chunks (see top). */
static void colsum_acc(float *acc, const float *x, int N, int C)
{
    int nch = (N + XF_CHUNK_ROWS - 1) / XF_CHUNK_ROWS;
    if (nch <= 1) {
        for (int n = 0; n < N; n++) {
            const float *xr = x + (size_t)n * C;
#pragma omp simd
            for (int c = 0; c < C; c++) acc[c] += xr[c];
        }
        return;
    }
    float *part = xmalloc_aligned(xmul(xmul((size_t)nch, (size_t)C), sizeof(float)));
#pragma omp parallel for num_threads(threads_for((size_t)N * C)) schedule(dynamic, 1)
    for (int ch = 0; ch < nch; ch++) {
        float *p = part + (size_t)ch * C;
        int n0 = ch * XF_CHUNK_ROWS, n1 = n0 + XF_CHUNK_ROWS < N ? n0 + XF_CHUNK_ROWS : N;
        memcpy(p, x + (size_t)n0 * C, (size_t)C * sizeof(float));
        for (int n = n0 + 1; n < n1; n++) {
            const float *xr = x + (size_t)n * C;
#pragma omp simd
            for (int c = 0; c < C; c++) p[c] += xr[c];
        }
    }
    for (int ch = 0; ch < nch; ch++) {
        const float *p = part + (size_t)ch * C;
#pragma omp simd
        for (int c = 0; c < C; c++) acc[c] += p[c];
    }
    free(part);
}

/* ---- linear ---- */

void linear_forward(float *out, const float *inp, const float *w, const float *b,
                    int N, int C, int OC)
{
    if (b) {
#pragma omp parallel for num_threads(threads_for((size_t)N * OC)) schedule(dynamic, 8)
        for (int n = 0; n < N; n++) memcpy(out + (size_t)n * OC, b, (size_t)OC * sizeof(float));
    }
    xf_gemm(0, 1, N, OC, C, 1.0f, inp, C, w, C, b ? 1.0f : 0.0f, out, OC);
}

void linear_backward(float *dinp, float *dw, float *db, const float *dout,
                     const float *inp, const float *w, int N, int C, int OC)
{
    if (dinp) xf_gemm(0, 0, N, C, OC, 1.0f, dout, OC, w, C, 1.0f, dinp, C);
    if (dw) xf_gemm(1, 0, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dw, C);
    if (db) colsum_acc(db, dout, N, OC);
}

/* ---- layernorm ---- */

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *w, const float *b, int N, int C, float eps)
{
#pragma omp parallel for num_threads(threads_for((size_t)N * C)) schedule(dynamic, 8)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *o = out + (size_t)n * C;
        float m = xf_sum_row(x, C) / C;
        float r = 1.0f / sqrtf(xf_sqdev_row(x, m, C) / C + eps);
#pragma omp simd
        for (int c = 0; c < C; c++) o[c] = (x[c] - m) * r * w[c] + b[c];
        if (mean) mean[n] = m;
        if (rstd) rstd[n] = r;
    }
}

void layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                        const float *inp, const float *w, const float *mean,
                        const float *rstd, int N, int C)
{
    int nch = (N + XF_CHUNK_ROWS - 1) / XF_CHUNK_ROWS;
    int want_wb = dw || db;
    float *part = NULL;   /* per chunk: dw partial [C], db partial [C] */
    if (want_wb && nch > 0) part = xcalloc(xmul((size_t)nch, 2 * (size_t)C), sizeof(float));
#pragma omp parallel for num_threads(threads_for((size_t)N * C)) schedule(dynamic, 1)
    for (int ch = 0; ch < nch; ch++) {
        float *pw = part ? part + (size_t)ch * 2 * C : NULL, *pb = pw ? pw + C : NULL;
        int n0 = ch * XF_CHUNK_ROWS, n1 = n0 + XF_CHUNK_ROWS < N ? n0 + XF_CHUNK_ROWS : N;
        for (int n = n0; n < n1; n++) {
            const float *x = inp + (size_t)n * C, *g = dout + (size_t)n * C;
            float m = mean[n], r = rstd[n];
            if (pw) {
#pragma omp simd
                for (int c = 0; c < C; c++) {
                    float xh = (x[c] - m) * r;
                    pw[c] += g[c] * xh;
                    pb[c] += g[c];
                }
            }
            if (!dinp) continue;
            /* dx = r * (wg - mean(wg) - xh * mean(wg * xh)) */
            float a1[XF_VL] = {0}, a2[XF_VL] = {0};
            int c0 = 0;
            for (; c0 + XF_VL <= C; c0 += XF_VL)
#pragma omp simd
                for (int l = 0; l < XF_VL; l++) {
                    float wg = w[c0 + l] * g[c0 + l];
                    a1[l] += wg;
                    a2[l] += wg * (x[c0 + l] - m);
                }
            for (int l = 0; c0 + l < C; l++) {
                float wg = w[c0 + l] * g[c0 + l];
                a1[l] += wg;
                a2[l] += wg * (x[c0 + l] - m);
            }
            float s1 = xf_lanes_sum(a1) / C, s2 = xf_lanes_sum(a2) * r / C;
            float *dx = dinp + (size_t)n * C;
#pragma omp simd
            for (int c = 0; c < C; c++) {
                float xh = (x[c] - m) * r;
                dx[c] += (w[c] * g[c] - s1 - xh * s2) * r;
            }
        }
    }
    if (part) {
        for (int ch = 0; ch < nch; ch++) {
            const float *pw = part + (size_t)ch * 2 * C, *pb = pw + C;
            if (dw)
#pragma omp simd
                for (int c = 0; c < C; c++) dw[c] += pw[c];
            if (db)
#pragma omp simd
                for (int c = 0; c < C; c++) db[c] += pb[c];
        }
        free(part);
    }
}

/* ---- activations ---- */

void gelu_forward(float *out, const float *inp, size_t n)
{
#pragma omp parallel for simd num_threads(threads_for(n * 8)) schedule(dynamic, 16384)
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        out[i] = x * xf_normal_cdf(x);
    }
}

void gelu_backward(float *dinp, const float *inp, const float *dout, size_t n)
{
#pragma omp parallel for simd num_threads(threads_for(n * 8)) schedule(dynamic, 16384)
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        dinp[i] += dout[i] * (xf_normal_cdf(x) + x * xf_normal_pdf(x));
    }
}

void relu_forward(float *out, const float *inp, size_t n)
{
#pragma omp parallel for simd num_threads(threads_for(n)) schedule(dynamic, 16384)
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void relu_backward(float *dinp, const float *inp, const float *dout, size_t n)
{
#pragma omp parallel for simd num_threads(threads_for(n)) schedule(dynamic, 16384)
    for (size_t i = 0; i < n; i++) dinp[i] += inp[i] > 0.0f ? dout[i] : 0.0f;
}

void tanh_forward(float *out, const float *inp, size_t n)
{
#pragma omp parallel for num_threads(threads_for(n * 8)) schedule(dynamic, 16384)
    for (size_t i = 0; i < n; i++) out[i] = tanhf(inp[i]);
}

void tanh_backward(float *dinp, const float *out, const float *dout, size_t n)
{
#pragma omp parallel for simd num_threads(threads_for(n)) schedule(dynamic, 16384)
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * (1.0f - out[i] * out[i]);
}

/* ---- dropout ---- */

void dropout_forward(float *out, const float *inp, size_t n, float p,
                     uint64_t seed, uint64_t offset)
{
    if (p <= 0.0f) {
        if (out != inp) memmove(out, inp, n * sizeof(float));
        return;
    }
    float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    uint64_t key = xf_dropout_key(seed), thr = xf_dropout_threshold(p);
#pragma omp parallel for simd num_threads(threads_for(n * 4)) schedule(dynamic, 16384)
    for (size_t i = 0; i < n; i++)
        out[i] = xf_dropout_keep_k(key, offset + i, thr) ? inp[i] * scale : 0.0f;
}

void dropout_backward(float *dinp, const float *dout, size_t n, float p,
                      uint64_t seed, uint64_t offset)
{
    if (p <= 0.0f) {
#pragma omp parallel for simd num_threads(threads_for(n)) schedule(dynamic, 16384)
        for (size_t i = 0; i < n; i++) dinp[i] += dout[i];
        return;
    }
    float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    uint64_t key = xf_dropout_key(seed), thr = xf_dropout_threshold(p);
#pragma omp parallel for simd num_threads(threads_for(n * 4)) schedule(dynamic, 16384)
    for (size_t i = 0; i < n; i++)
        dinp[i] += xf_dropout_keep_k(key, offset + i, thr) ? dout[i] * scale : 0.0f;
}

/* ---- embedding ---- */

void embedding_forward(float *out, const int32_t *ids, const float *wte, int N, int C)
{
#pragma omp parallel for num_threads(threads_for((size_t)N * C)) schedule(dynamic, 8)
    for (int n = 0; n < N; n++)
        memcpy(out + (size_t)n * C, wte + (size_t)ids[n] * C, (size_t)C * sizeof(float));
}

void embedding_backward(float *dwte, const int32_t *ids, const float *dout, int N, int C)
{
    /* Columns in blocks of 64 over threads; tokens in order within a block. */
    int nblk = (C + 63) / 64;
#pragma omp parallel for num_threads(threads_for((size_t)N * C)) schedule(dynamic, 1)
    for (int k = 0; k < nblk; k++) {
        int c0 = k * 64, c1 = c0 + 64 < C ? c0 + 64 : C;
        for (int n = 0; n < N; n++) {
            float *d = dwte + (size_t)ids[n] * C;
            const float *g = dout + (size_t)n * C;
#pragma omp simd
            for (int c = c0; c < c1; c++) d[c] += g[c];
        }
    }
}

/* ---- softmax and cross-entropy ---- */

void softmax_rows(float *x, int N, int C)
{
#pragma omp parallel for num_threads(threads_for((size_t)N * C * 4)) schedule(dynamic, 8)
    for (int n = 0; n < N; n++) xf_softmax_row(x + (size_t)n * C, C);
}

void softmax_rows_backward(float *dinp, const float *out, const float *dout, int N, int C)
{
#pragma omp parallel for num_threads(threads_for((size_t)N * C)) schedule(dynamic, 8)
    for (int n = 0; n < N; n++) {
        const float *y = out + (size_t)n * C, *g = dout + (size_t)n * C;
        float *d = dinp + (size_t)n * C;
        float s = xf_dot_row(y, g, C);
#pragma omp simd
        for (int c = 0; c < C; c++) d[c] += y[c] * (g[c] - s);
    }
}

float crossentropy_forward_backward(float *dlogits, const float *logits,
                                    const int32_t *targets, int M, int V, float dloss)
{
    if (M <= 0) return 0.0f;
    for (int m = 0; m < M; m++)
        if (targets[m] < 0 || targets[m] >= V)
            die("crossentropy: target %d of row %d outside the vocabulary [0,%d)",
                (int)targets[m], m, V);
    float *rowloss = xmalloc((size_t)M * sizeof(float));
    float gscale = dloss / M;
#pragma omp parallel for num_threads(threads_for((size_t)M * V * 4)) schedule(dynamic, 1)
    for (int m = 0; m < M; m++) {
        const float *z = logits + (size_t)m * V;
        float mx = xf_max_row(z, V), zt = z[targets[m]];   /* read before d overwrites z */
        float *d = dlogits ? dlogits + (size_t)m * V : NULL;
        float s = d ? xf_exp_row(d, z, V, mx) : xf_sumexp_row(z, V, mx);
        rowloss[m] = mx + logf(s) - zt;
        if (d) {
            xf_scale_row(d, V, gscale / s);
            d[targets[m]] -= gscale;
        }
    }
    double tot = 0.0;   /* fixed order: independent of the thread count */
    for (int m = 0; m < M; m++) tot += rowloss[m];
    free(rowloss);
    return (float)(tot / M);
}

/* ---- GEMM peak ---- */

double xf_sgemm_peak_gflops(int threads) { return xf_gemm_rate(threads, 3072, 3072, 3072); }
