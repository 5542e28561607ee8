/* stats.h — the small statistics xf-score needs.
 *
 * Conventions: std and variance are the *sample* ones (divisor n-1), NaN for
 * n < 2; mean of 0 values is NaN.  Spearman's rho is the Pearson correlation
 * of average ranks (ties share the mean of the ranks they span), as in
 * scipy.stats.spearmanr.  Its two-sided p-value is exact for n <= 9 (the
 * full permutation distribution of one rank vector against the other: n!
 * <= 362880 cases, ties kept as average ranks) and the t approximation
 * t = rho*sqrt((n-2)/(1-rho^2)) with n-2 degrees of freedom otherwise (what
 * scipy reports for every n).  Undefined results (n < 3, a constant input)
 * are NaN.
 */
#ifndef XF_STATS_H
#define XF_STATS_H

#include <stddef.h>
#include <stdint.h>

#define XF_SPEARMAN_EXACT_MAX 9

double xf_mean(const double *x, size_t n);
double xf_var(const double *x, size_t n);   /* sample variance, n-1 */
double xf_std(const double *x, size_t n);   /* sqrt(xf_var) */
double xf_min(const double *x, size_t n);
double xf_max(const double *x, size_t n);

/* Average ranks (1-based) of X into RANK. */
void xf_avg_ranks(const double *x, size_t n, double *rank);
/* Pearson correlation; NaN if either input is constant or n < 2. */
double xf_pearson(const double *x, const double *y, size_t n);
/* Spearman rho; *p (if not NULL) gets the two-sided p-value (see above). */
double xf_spearman(const double *x, const double *y, size_t n, double *p);
/* Two-sided p-value of Student's t with DF degrees of freedom. */
double xf_t_pvalue2(double t, double df);
/* Regularised incomplete beta function I_x(a, b). */
double xf_betai(double a, double b, double x);

/* Quantile Q in [0,1] of SORTED values (linear interpolation between order
 * statistics, numpy's default "linear" method). */
double xf_quantile_sorted(const double *sorted, size_t n, double q);

/* Percentile bootstrap CI of the mean of X: B resamples with replacement,
 * drawn from xf_rng seeded with (SEED ^ KEY, XF_STREAM_BOOT) so that each
 * group (KEY = a hash of its name) gets its own, order-independent draws.
 * Writes the (1-LEVEL)/2 and (1+LEVEL)/2 quantiles of the resampled means. */
void xf_boot_mean_ci(const double *x, size_t n, int b, uint64_t seed, uint64_t key,
                     double level, double *lo, double *hi);
/* FNV-1a hash of a string, for bootstrap keys. */
uint64_t xf_str_hash(const char *s);

#endif
