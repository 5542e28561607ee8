/* stats.c — see stats.h. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"

double xf_mean(const double *x, size_t n)
{
    if (!n) return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    return s / n;
}

double xf_var(const double *x, size_t n)
{
    if (n < 2) return NAN;
    double m = xf_mean(x, n), s = 0;
    for (size_t i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return s / (n - 1);
}

double xf_std(const double *x, size_t n) { return sqrt(xf_var(x, n)); }

double xf_min(const double *x, size_t n)
{
    if (!n) return NAN;
    double m = x[0];
    for (size_t i = 1; i < n; i++)
        if (x[i] < m) m = x[i];
    return m;
}

double xf_max(const double *x, size_t n)
{
    if (!n) return NAN;
    double m = x[0];
    for (size_t i = 1; i < n; i++)
        if (x[i] > m) m = x[i];
    return m;
}

static const double *rank_keys;
static int cmp_idx(const void *a, const void *b)
{
    double x = rank_keys[*(const size_t *)a], y = rank_keys[*(const size_t *)b];
    if (x < y) return -1;
    if (x > y) return 1;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;   /* stable */
    return (i > j) - (i < j);
}

void xf_avg_ranks(const double *x, size_t n, double *rank)
{
    size_t *idx = xmalloc(xmul(n, sizeof *idx));
    for (size_t i = 0; i < n; i++) idx[i] = i;
    rank_keys = x;
    qsort(idx, n, sizeof *idx, cmp_idx);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && x[idx[j + 1]] == x[idx[i]]) j++;
        double r = (i + j) / 2.0 + 1;   /* mean of ranks i+1..j+1 */
        for (size_t k = i; k <= j; k++) rank[idx[k]] = r;
        i = j + 1;
    }
    free(idx);
}

double xf_pearson(const double *x, const double *y, size_t n)
{
    if (n < 2) return NAN;
    double mx = xf_mean(x, n), my = xf_mean(y, n), sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    if (sxx == 0 || syy == 0) return NAN;
    double r = sxy / sqrt(sxx * syy);
    return r > 1 ? 1 : r < -1 ? -1 : r;
}

/* Continued fraction for the incomplete beta (modified Lentz). */
static double betacf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-15;
    double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 10000; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < eps) break;
    }
    return h;
}

double xf_betai(double a, double b, double x)
{
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    double bt = exp(lbt);
    /* The fraction converges fast for x < (a+1)/(a+b+2); use symmetry beyond. */
    if (x < (a + 1) / (a + b + 2)) return bt * betacf(a, b, x) / a;
    return 1 - bt * betacf(b, a, 1 - x) / b;
}

double xf_t_pvalue2(double t, double df)
{
    if (isnan(t) || df <= 0) return NAN;
    if (isinf(t)) return 0;
    return xf_betai(df / 2, 0.5, df / (df + t * t));
}

/* Exact two-sided permutation p-value: share of the n! orderings of RY
 * whose |rho| against RX reaches the observed |rho|. Heap's algorithm. */
static double spearman_exact_p(const double *rx, const double *ry, size_t n, double rho)
{
    double y[XF_SPEARMAN_EXACT_MAX];
    size_t c[XF_SPEARMAN_EXACT_MAX] = {0};
    memcpy(y, ry, n * sizeof *y);
    double target = fabs(rho) - 1e-12;
    long total = 1, hits = 0;
    double r = xf_pearson(rx, y, n);
    if (!isnan(r) && fabs(r) >= target) hits++;
    for (size_t i = 1; i < n;) {
        if (c[i] < i) {
            size_t j = (i % 2) ? c[i] : 0;
            double tmp = y[j];
            y[j] = y[i];
            y[i] = tmp;
            r = xf_pearson(rx, y, n);
            total++;
            if (!isnan(r) && fabs(r) >= target) hits++;
            c[i]++;
            i = 1;
        } else {
            c[i++] = 0;
        }
    }
    return (double)hits / total;
}

double xf_spearman(const double *x, const double *y, size_t n, double *p)
{
    if (p) *p = NAN;
    if (n < 3) return NAN;
    double *rx = xmalloc(xmul(n, sizeof *rx)), *ry = xmalloc(xmul(n, sizeof *ry));
    xf_avg_ranks(x, n, rx);
    xf_avg_ranks(y, n, ry);
    double rho = xf_pearson(rx, ry, n);
    if (p && !isnan(rho)) {
        if (n <= XF_SPEARMAN_EXACT_MAX) {
            *p = spearman_exact_p(rx, ry, n, rho);
        } else if (fabs(rho) >= 1) {
            *p = 0;
        } else {
            double df = n - 2;
            *p = xf_t_pvalue2(rho * sqrt(df / ((1 - rho) * (1 + rho))), df);
        }
    }
    free(rx);
    free(ry);
    return rho;
}

double xf_quantile_sorted(const double *s, size_t n, double q)
{
    if (!n) return NAN;
    double h = (n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n) return s[n - 1];
    return s[lo] + (h - lo) * (s[lo + 1] - s[lo]);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void xf_boot_mean_ci(const double *x, size_t n, int b, uint64_t seed, uint64_t key,
                     double level, double *lo, double *hi)
{
    if (!n || b <= 0) {
        *lo = *hi = NAN;
        return;
    }
    double *means = xmalloc(xmul((size_t)b, sizeof *means));
    xf_rng r;
    xf_rng_seed(&r, seed ^ key, XF_STREAM_BOOT);
    for (int i = 0; i < b; i++) {
        double s = 0;
        for (size_t j = 0; j < n; j++) s += x[xf_rng_below(&r, n)];
        means[i] = s / n;
    }
    qsort(means, (size_t)b, sizeof *means, cmp_double);
    *lo = xf_quantile_sorted(means, (size_t)b, (1 - level) / 2);
    *hi = xf_quantile_sorted(means, (size_t)b, (1 + level) / 2);
    free(means);
}

uint64_t xf_str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}
