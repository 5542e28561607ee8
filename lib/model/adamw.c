/* adamw.c — AdamW as torch.optim.AdamW computes it; see adamw.h. */
#include "adamw.h"

#include <math.h>
#include <string.h>

xf_adamw xf_adamw_defaults(void)
{
    xf_adamw o = {0.9f, 0.999f, 1e-8f, 0.0f};
    return o;
}

size_t xf_adamw_update(const xf_adamw *opt, float *p, const float *g, float *m, float *v,
                       size_t n, float lr, long t, int decay)
{
    /* torch: step_size = lr / bc1 ; denom = sqrt(v) / sqrt(bc2) + eps */
    double bc1 = 1.0 - pow((double)opt->beta1, (double)t);
    double bc2 = 1.0 - pow((double)opt->beta2, (double)t);
    float step_size = (float)((double)lr / bc1);
    float bc2_sqrt = (float)sqrt(bc2);
    float b1 = opt->beta1, b2 = opt->beta2, eps = opt->eps;
    float shrink = decay && opt->weight_decay != 0.0f ? 1.0f - lr * opt->weight_decay : 1.0f;
    float c1 = 1.0f - b1, c2 = 1.0f - b2;
    size_t bad = 0;
    /* vectorised (sqrt and division dominate a scalar loop; the Makefile
     * builds this file with -fno-math-errno, without which GCC keeps the
     * scalar sqrtf call for errno: v >= 0 never sets it); fixed chunks,
     * multiples of the vector width, keep each element on the same code
     * path (vector body or tail) at any thread count */
#pragma omp parallel for simd schedule(dynamic, 16384) reduction(+ : bad)
    for (size_t i = 0; i < n; i++) {
        float pi = p[i] * shrink;
        float gi = g[i];
        float mi = m[i] * b1 + c1 * gi;
        float vi = v[i] * b2 + c2 * gi * gi;
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        pi = pi - step_size * (mi / denom);
        m[i] = mi;
        v[i] = vi;
        p[i] = pi;
        bad += !isfinite(pi);
    }
    return bad;
}

int xf_adamw_decays(const char *name)
{
    return !strstr(name, "bias") && !strstr(name, "LayerNorm.weight");
}

double xf_grad_sumsq(const float *g, size_t n)
{
    enum { CHUNK = 1 << 16 };
    size_t nchunk = (n + CHUNK - 1) / CHUNK;
    double part[64];
    double total = 0.0;
    /* per-chunk partial sums over a fixed partition, added in order */
    for (size_t c0 = 0; c0 < nchunk; c0 += 64) {
        size_t nc = nchunk - c0 < 64 ? nchunk - c0 : 64;
#pragma omp parallel for schedule(static)
        for (size_t c = 0; c < nc; c++) {
            size_t lo = (c0 + c) * CHUNK, hi = lo + CHUNK < n ? lo + CHUNK : n;
            double s = 0.0;
            for (size_t i = lo; i < hi; i++)
                s += (double)g[i] * g[i];
            part[c] = s;
        }
        for (size_t c = 0; c < nc; c++)
            total += part[c];
    }
    return total;
}

double xf_linear_schedule(long step, long warmup, long total)
{
    if (step < warmup)
        return (double)step / (double)(warmup > 1 ? warmup : 1);
    double r = (double)(total - step) / (double)(total - warmup > 1 ? total - warmup : 1);
    return r > 0.0 ? r : 0.0;
}
