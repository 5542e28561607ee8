/* ops_kernels.h — small inline kernels shared by ops.c and attention.c
 * (private to the ops; not a public interface).
 *
 *  - XF_CHUNK_ROWS: the fixed row-chunk size of deterministic reductions.
 *  - Dropout keep test, with rng.h's counter hash inlined so the loops
 *    vectorise; test_ops_fd checks it against xf_hash_uniform bit for bit.
 *  - Row max / sum-of-exp / softmax over a float row.
 */
#ifndef XF_OPS_KERNELS_H
#define XF_OPS_KERNELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "rng.h"

#define XF_CHUNK_ROWS 32

static inline uint64_t xf_splitmix64_step(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The counter-independent half of xf_hash64(seed, XF_STREAM_DROPOUT, .). */
static inline uint64_t xf_dropout_key(uint64_t seed)
{
    return xf_splitmix64_step(seed * 0xD1342543DE82EF95ull + XF_STREAM_DROPOUT);
}

/* xf_hash_uniform(seed, DROPOUT, i) >= p  ⟺  (hash >> 40) >= ceil(p·2^24):
 * the uniform is (hash>>40)·2^-24 exactly, and p·2^24 is exact in float. */
static inline uint64_t xf_dropout_threshold(float p)
{
    return (uint64_t)ceilf(p * 16777216.0f);
}

static inline int xf_dropout_keep_k(uint64_t key, uint64_t counter, uint64_t thr)
{
    uint64_t h = xf_splitmix64_step(key ^ (counter * 0x9E3779B97F4A7C15ull));
    return (h >> 40) >= thr;
}

/* Convenience form (slower: recomputes the key). */
static inline int xf_dropout_keep(uint64_t seed, uint64_t counter, float p)
{
    return xf_dropout_keep_k(xf_dropout_key(seed), counter, xf_dropout_threshold(p));
}

/* out[i] = inp[i]·scale if kept else 0, for counters offset+i. */
static inline void xf_dropout_row(float *out, const float *inp, size_t n, uint64_t key,
                                  uint64_t thr, float scale, uint64_t offset)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = xf_dropout_keep_k(key, offset + i, thr) ? inp[i] * scale : 0.0f;
}

/* ---- vectorisable math ----
 * GCC at -O2 vectorises only loops marked `#pragma omp simd` (with
 * -fopenmp); the functions below are branch-free so such loops vectorise
 * to AVX-512 under -march=native.  Reductions accumulate into XF_VL fixed
 * lanes combined in a fixed order, so a sum never depends on the data's
 * alignment or on which thread computes it. */

#define XF_VL 16

static inline float xf_f32_from_bits(uint32_t i) { union { uint32_t i; float f; } u = {i}; return u.f; }
static inline uint32_t xf_bits_from_f32(float f) { union { float f; uint32_t i; } u = {f}; return u.i; }

/* e^x for x <= 88 (clamped above): Cephes expf polynomial, relative error
 * < 1e-7 (tested); NaN stays NaN; x < -87.3 (where expf is subnormal or 0) gives exactly 0, so masked
 * attention scores (-FLT_MAX) get probability 0 as in PyTorch. */
static inline float xf_expf(float x)
{
    float xc = x > 88.0f ? 88.0f : x;
    xc = xc < -87.33654f ? -87.33654f : xc;
    float t = xc * 1.44269504088896341f + 12582912.0f;   /* round(x·log2 e) + 1.5·2^23 */
    float n = t - 12582912.0f;
    uint32_t ni = xf_bits_from_f32(t) - 0x4B400000u;   /* n, two's complement */
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    y *= xf_f32_from_bits((ni + 127u) << 23);          /* 2^n */
    return x < -87.33654f ? 0.0f : y;
}

/* Φ(x) = ½(1 + erf(x/√2)), the GELU gate, through erfc(|x|/√2) (Numerical
 * Recipes' erfcc, relative error < 1.2e-7 in exact arithmetic), so the left
 * tail keeps its relative accuracy instead of cancelling in 1 + erf.  In
 * float: relative error < 3e-6 for |x| < 5, < 1.5e-5 for |x| < 9 (tested). */
static inline float xf_normal_cdf(float x)
{
    float z = fabsf(x) * 0.70710678118654752f;
    float t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    float half_erfc = 0.5f * t * xf_expf(-z * z + p);
    return x < 0.0f ? half_erfc : 1.0f - half_erfc;
}

/* Φ'(x) = e^{-x²/2}/√(2π) */
static inline float xf_normal_pdf(float x) { return 0.3989422804014327f * xf_expf(-0.5f * x * x); }

static inline float xf_lanes_sum(const float *acc)
{
    float s8[8], s4[4];
    for (int l = 0; l < 8; l++) s8[l] = acc[l] + acc[l + 8];
    for (int l = 0; l < 4; l++) s4[l] = s8[l] + s8[l + 4];
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

/* Σ x[i] */
static inline float xf_sum_row(const float *x, int n)
{
    float acc[XF_VL] = {0};
    int i = 0;
    for (; i + XF_VL <= n; i += XF_VL)
#pragma omp simd
        for (int l = 0; l < XF_VL; l++) acc[l] += x[i + l];
    for (int l = 0; i + l < n; l++) acc[l] += x[i + l];
    return xf_lanes_sum(acc);
}

/* Σ x[i]·y[i] */
static inline float xf_dot_row(const float *x, const float *y, int n)
{
    float acc[XF_VL] = {0};
    int i = 0;
    for (; i + XF_VL <= n; i += XF_VL)
#pragma omp simd
        for (int l = 0; l < XF_VL; l++) acc[l] += x[i + l] * y[i + l];
    for (int l = 0; i + l < n; l++) acc[l] += x[i + l] * y[i + l];
    return xf_lanes_sum(acc);
}

/* Σ (x[i]-m)² */
static inline float xf_sqdev_row(const float *x, float m, int n)
{
    float acc[XF_VL] = {0};
    int i = 0;
    for (; i + XF_VL <= n; i += XF_VL)
#pragma omp simd
        for (int l = 0; l < XF_VL; l++) { float d = x[i + l] - m; acc[l] += d * d; }
    for (int l = 0; i + l < n; l++) { float d = x[i + l] - m; acc[l] += d * d; }
    return xf_lanes_sum(acc);
}

static inline float xf_max_row(const float *x, int n)
{
    float m = -INFINITY;   /* max is exact: any order gives the same result */
#pragma omp simd reduction(max : m)
    for (int i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

/* out[i] = e^{x[i]-mx}; returns Σ out[i].  out may alias x. */
static inline float xf_exp_row(float *out, const float *x, int n, float mx)
{
    float acc[XF_VL] = {0};
    int i = 0;
    for (; i + XF_VL <= n; i += XF_VL)
#pragma omp simd
        for (int l = 0; l < XF_VL; l++) {
            float e = xf_expf(x[i + l] - mx);
            out[i + l] = e;
            acc[l] += e;
        }
    for (int l = 0; i + l < n; l++) {
        float e = xf_expf(x[i + l] - mx);
        out[i + l] = e;
        acc[l] += e;
    }
    return xf_lanes_sum(acc);
}

/* Σ e^{x[i]-mx} */
static inline float xf_sumexp_row(const float *x, int n, float mx)
{
    float acc[XF_VL] = {0};
    int i = 0;
    for (; i + XF_VL <= n; i += XF_VL)
#pragma omp simd
        for (int l = 0; l < XF_VL; l++) acc[l] += xf_expf(x[i + l] - mx);
    for (int l = 0; i + l < n; l++) acc[l] += xf_expf(x[i + l] - mx);
    return xf_lanes_sum(acc);
}

static inline void xf_scale_row(float *x, int n, float a)
{
#pragma omp simd
    for (int i = 0; i < n; i++) x[i] *= a;
}

/* In-place softmax of one row. */
static inline void xf_softmax_row(float *x, int n)
{
    float mx = xf_max_row(x, n);
    float s = xf_exp_row(x, x, n, mx);
    xf_scale_row(x, n, 1.0f / s);
}

#endif
