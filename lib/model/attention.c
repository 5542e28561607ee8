/* attention.c — multi-head self-attention core; see attention.h. */
#include "attention.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "ops_kernels.h"
#include "util.h"

double attention_forward_flops(int B, int T, int C)
{
    return 4.0 * B * (double)T * T * C;   /* Q·Kᵀ and P·V, 2·T·T·dh each per head */
}

/* T·T rounded up to whole 64-byte lines, so each thread's scratch starts
 * aligned like every other thread's. */
static size_t tt_padded(int T) { return ((size_t)T * T + 15) & ~(size_t)15; }

size_t attention_scratch_floats(int T)
{
    return xmul(xmul(2, tt_padded(T)), (size_t)xf_ops_threads());
}

/* dst[c·T + t] = src[t·ld + c]: one head's [T,dh] slice, transposed, so the
 * score GEMMs run on contiguous operands (BLIS is ~30 % faster on them than
 * on the strided-transposed view at these shapes). */
static void transpose_head(float *dst, const float *src, int T, int dh, int ld)
{
    for (int t0 = 0; t0 < T; t0 += 16) {
        int t1 = t0 + 16 < T ? t0 + 16 : T;
        for (int c = 0; c < dh; c++)
            for (int t = t0; t < t1; t++) dst[(size_t)c * T + t] = src[(size_t)t * ld + c];
    }
}

static void copy_head(float *dst, const float *src, int T, int dh, int ld)
{
    for (int t = 0; t < T; t++) memcpy(dst + (size_t)t * dh, src + (size_t)t * ld, (size_t)dh * sizeof(float));
}

/* madd[B,T] = 0 for attended keys, -FLT_MAX (torch.finfo(float32).min, as HF
 * adds it) for padding.  It stays finite: a fully padded row softmaxes to
 * uniform, as in HF, instead of NaN. */
static float *additive_mask(const int32_t *am, int B, int T)
{
    float *madd = xmalloc_aligned(xmul(xmul((size_t)B, (size_t)T), sizeof(float)));
    for (size_t i = 0; i < (size_t)B * T; i++) madd[i] = am[i] ? 0.0f : -FLT_MAX;
    return madd;
}

void attention_forward(float *out, float *probs, const float *qkv, const int32_t *am,
                       int B, int T, int C, int H, float p_drop, uint64_t seed,
                       uint64_t offset)
{
    if (H <= 0 || C % H) die("attention: hidden size %d is not a multiple of %d heads", C, H);
    int dh = C / H, C3 = 3 * C, nt = xf_ops_threads();
    float alpha = 1.0f / sqrtf((float)dh);
    size_t TT = (size_t)T * T, TTp = tt_padded(T);
    float scale = p_drop < 1.0f ? 1.0f / (1.0f - p_drop) : 0.0f;
    uint64_t key = xf_dropout_key(seed), thr = xf_dropout_threshold(p_drop);
    float *drop = NULL;
    if (p_drop > 0.0f) drop = xmalloc_aligned(xmul(xmul(TTp, (size_t)nt), sizeof(float)));
    float *madd = additive_mask(am, B, T);
    size_t hsz = ((size_t)T * dh + 15) & ~(size_t)15;   /* one head's [T,dh], padded */
    float *heads = xmalloc_aligned(xmul(xmul(2 * hsz, (size_t)nt), sizeof(float)));
    float *own_probs = NULL;   /* eval without saved probs: one [T,T] per thread */
    if (!probs) own_probs = xmalloc_aligned(xmul(xmul(TTp, (size_t)nt), sizeof(float)));

#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int bh = 0; bh < B * H; bh++) {
        int b = bh / H, h = bh % H;
        const float *q = qkv + (size_t)b * T * C3 + (size_t)h * dh;
        const float *k = q + C, *v = q + 2 * C;
        float *p = probs ? probs + (size_t)bh * TT : own_probs + (size_t)omp_get_thread_num() * TTp;
        float *d = drop ? drop + (size_t)omp_get_thread_num() * TTp : NULL;
        const float *mb = madd + (size_t)b * T;
        float *kt = heads + (size_t)omp_get_thread_num() * 2 * hsz, *vc = kt + hsz;
        transpose_head(kt, k, T, dh, C3);
        copy_head(vc, v, T, dh, C3);
        xf_gemm1(0, 0, T, T, dh, alpha, q, C3, kt, T, 0.0f, p, T);
        for (int i = 0; i < T; i++) {
            float *s = p + (size_t)i * T;
#pragma omp simd
            for (int j = 0; j < T; j++) s[j] += mb[j];
            float r = 1.0f / xf_exp_row(s, s, T, xf_max_row(s, T));
            if (!d) {
                xf_scale_row(s, T, r);
                continue;
            }
            float *dr = d + (size_t)i * T;
            uint64_t off = offset + (uint64_t)bh * TT + (uint64_t)i * T;
#pragma omp simd
            for (int j = 0; j < T; j++) {
                float pj = s[j] * r;
                s[j] = pj;
                dr[j] = xf_dropout_keep_k(key, off + j, thr) ? pj * scale : 0.0f;
            }
        }
        xf_gemm1(0, 0, T, dh, T, 1.0f, d ? d : p, T, vc, dh, 0.0f,
                 out + (size_t)b * T * C + (size_t)h * dh, C);
    }
    free(heads);
    free(own_probs);
    free(drop);
    free(madd);
}

void attention_backward(float *dqkv, float *scratch, const float *dout, const float *qkv,
                        const float *probs, const int32_t *am, int B, int T, int C, int H,
                        float p_drop, uint64_t seed, uint64_t offset)
{
    if (H <= 0 || C % H) die("attention: hidden size %d is not a multiple of %d heads", C, H);
    int dh = C / H, C3 = 3 * C, nt = xf_ops_threads();
    float alpha = 1.0f / sqrtf((float)dh);
    size_t TT = (size_t)T * T, TTp = tt_padded(T);
    float scale = p_drop < 1.0f ? 1.0f / (1.0f - p_drop) : 0.0f;
    uint64_t key = xf_dropout_key(seed), thr = xf_dropout_threshold(p_drop);
    float *own = NULL;
    if (!scratch) scratch = own = xmalloc_aligned(attention_scratch_floats(T) * sizeof(float));
    size_t hsz = ((size_t)T * dh + 15) & ~(size_t)15;   /* one head's [T,dh], padded */
    float *heads = xmalloc_aligned(xmul(xmul(5 * hsz, (size_t)nt), sizeof(float)));

#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int bh = 0; bh < B * H; bh++) {
        int b = bh / H, h = bh % H;
        size_t tok0 = (size_t)b * T;
        const float *q = qkv + tok0 * C3 + (size_t)h * dh;
        const float *k = q + C, *v = q + 2 * C;
        float *dq = dqkv + tok0 * C3 + (size_t)h * dh;
        float *dk = dq + C, *dv = dq + 2 * C;
        const float *go = dout + tok0 * C + (size_t)h * dh;
        const float *p = probs + (size_t)bh * TT;
        float *dp = scratch + (size_t)omp_get_thread_num() * 2 * TTp;
        float *pd = dp + TTp;
        uint64_t off = offset + (uint64_t)bh * TT;

        /* contiguous copies of this head's operands: BLIS's one-thread
         * GEMMs at these shapes run 10-40 % faster on them */
        float *vt = heads + (size_t)omp_get_thread_num() * 5 * hsz;
        float *kc = vt + hsz, *qc = kc + hsz, *goc = qc + hsz, *dkc = goc + hsz;
        transpose_head(vt, v, T, dh, C3);
        copy_head(kc, k, T, dh, C3);
        copy_head(qc, q, T, dh, C3);
        copy_head(goc, go, T, dh, C);
        /* dP' = dO·Vᵀ (gradient of the dropped probabilities) */
        xf_gemm1(0, 0, T, T, dh, 1.0f, goc, dh, vt, T, 0.0f, dp, T);
        /* recompute P' = dropout(P) and take dP' through the dropout */
        if (p_drop > 0.0f) {
#pragma omp simd
            for (size_t e = 0; e < TT; e++) {
                int keep = xf_dropout_keep_k(key, off + e, thr);
                pd[e] = keep ? p[e] * scale : 0.0f;
                dp[e] = keep ? dp[e] * scale : 0.0f;
            }
        }
        /* dV += P'ᵀ·dO */
        xf_gemm1(1, 0, T, dh, T, 1.0f, p_drop > 0.0f ? pd : p, T, goc, dh, 1.0f, dv, C3);
        /* softmax backward: dS = P ⊙ (dP - Σ_j P·dP) */
        for (int i = 0; i < T; i++) {
            const float *pr = p + (size_t)i * T;
            float *g = dp + (size_t)i * T;
            float s = xf_dot_row(pr, g, T);
#pragma omp simd
            for (int j = 0; j < T; j++) g[j] = pr[j] * (g[j] - s);
        }
        /* S = α·Q·Kᵀ: dQ += α·dS·K, dK += α·dSᵀ·Q */
        xf_gemm1(0, 0, T, dh, T, alpha, dp, T, kc, dh, 1.0f, dq, C3);
        xf_gemm1(1, 0, T, dh, T, alpha, dp, T, qc, dh, 0.0f, dkc, dh);
        for (int t = 0; t < T; t++) {
            float *d = dk + (size_t)t * C3;
            const float *src = dkc + (size_t)t * dh;
#pragma omp simd
            for (int c = 0; c < dh; c++) d[c] += src[c];
        }
    }
    free(heads);
    free(own);
}
