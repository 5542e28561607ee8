/* fdcheck.h — finite-difference gradient checking for the op tests.
 *
 * Each check defines a scalar loss L(params) = Σ_i r_i·out_i (r fixed and
 * random, so every output element carries a distinct weight), summed in
 * double; the analytic gradient is the op's backward run with dout = r.
 * fd_check perturbs each parameter element by ±h and compares the central
 * difference with the analytic gradient.
 *
 * Tolerance |g - fd| <= FD_ATOL + FD_RTOL·max(|g|,|fd|), with h = 1e-2 on
 * inputs of size O(1): the central difference's truncation error is
 * h²/6·|L'''| ~ 2e-5, and its rounding error is the float rounding of the
 * outputs (≤ 6e-8 relative each, ~1e-6 over the <1000 outputs of these
 * shapes) divided by 2h, ~5e-5.  FD_ATOL = 1e-3 leaves a 20× margin; a
 * wrong gradient (missing term, wrong scale or index) is off by O(0.1..1).
 */
#ifndef XF_TEST_FDCHECK_H
#define XF_TEST_FDCHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define FD_H 1e-2f
#define FD_ATOL 1e-3
#define FD_RTOL 1e-2

static inline void fill_uniform(float *x, size_t n, float lo, float hi, uint64_t seed)
{
    xf_rng r;
    xf_rng_seed(&r, seed, 99);
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * (float)xf_rng_double(&r);
}

static inline float *fvec(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) abort();
    return p;
}

static inline double dot_loss(const float *out, const float *r, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)out[i] * r[i];
    return s;
}

typedef double (*fd_loss_fn)(void *ctx);

/* Returns the number of elements that fail; prints the first few. */
static inline int fd_check(const char *what, float *param, size_t n, const float *grad,
                           fd_loss_fn loss, void *ctx, float h)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        float x0 = param[i], xp = x0 + h, xm = x0 - h;
        param[i] = xp;
        double lp = loss(ctx);
        param[i] = xm;
        double lm = loss(ctx);
        param[i] = x0;
        double fd = (lp - lm) / ((double)xp - (double)xm);
        double g = grad[i];
        double tol = FD_ATOL + FD_RTOL * fmax(fabs(g), fabs(fd));
        if (!(fabs(g - fd) <= tol)) {
            if (bad < 5)
                fprintf(stderr, "%s[%zu]: analytic %.6g, finite difference %.6g\n", what, i, g, fd);
            bad++;
        }
    }
    return bad;
}

#endif
