/* Unit tests of lib/stats.c.  Reference values: by hand where noted, else
 * computed once with scipy 1.10.1 / numpy under /usr/bin/python3 and
 * hard-coded (the expression is in each comment). */
#include <criterion/criterion.h>
#include <math.h>

#include "stats.h"

#define NEAR(a, b, tol) cr_assert(fabs((a) - (b)) <= (tol), "%.12g vs %.12g", (double)(a), (double)(b))

Test(stats, mean_var_std)
{
    /* by hand: mean 5, sum of squared deviations 32, sample variance 32/7 */
    double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
    NEAR(xf_mean(x, 8), 5, 1e-12);
    NEAR(xf_var(x, 8), 32.0 / 7, 1e-12);
    NEAR(xf_std(x, 8), sqrt(32.0 / 7), 1e-12);
    NEAR(xf_min(x, 8), 2, 0);
    NEAR(xf_max(x, 8), 9, 0);
    cr_assert(isnan(xf_var(x, 1)), "sample variance of one value is undefined");
    cr_assert(isnan(xf_mean(x, 0)));
}

Test(stats, average_ranks)
{
    /* by hand: ties share the mean of the ranks they span */
    double x[] = {30, 10, 20, 20, 5};
    double r[5];
    xf_avg_ranks(x, 5, r);
    double want[] = {5, 2, 3.5, 3.5, 1};
    for (int i = 0; i < 5; i++) NEAR(r[i], want[i], 0);
}

Test(stats, pearson_constant_is_nan)
{
    double x[] = {1, 2, 3}, y[] = {4, 4, 4};
    cr_assert(isnan(xf_pearson(x, y, 3)));
    cr_assert(isnan(xf_spearman(x, x, 2, NULL)), "n < 3");
}

Test(stats, spearman_t_approximation_with_ties)
{
    /* scipy.stats.spearmanr(x, y) -> (0.703174619461301, 0.0034505498321403517) */
    double x[] = {1, 2, 2, 3, 5, 5, 5, 8, 9, 10, 11, 12, 13, 14, 15};
    double y[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9};
    double p, rho = xf_spearman(x, y, 15, &p);
    NEAR(rho, 0.703174619461301, 1e-12);
    NEAR(p, 0.0034505498321403517, 1e-10);
}

Test(stats, spearman_exact_small_n)
{
    /* n = 4, identical orderings: rho 1; exactly 2 of the 4! = 24 orderings
     * reach |rho| = 1 (the same and the reversed), p = 2/24 (by hand). */
    double x[] = {1, 2, 3, 4}, y[] = {10, 20, 30, 40};
    double p, rho = xf_spearman(x, y, 4, &p);
    NEAR(rho, 1, 1e-12);
    NEAR(p, 2.0 / 24, 1e-12);
    /* n = 5 with ties: rho = 0.7905694150420949 (scipy.stats.spearmanr);
     * exact p = 16/120 counted with itertools.permutations over average
     * ranks (scipy's t approximation would say 0.111367). */
    double a[] = {1.5, 1.5, 3.5, 3.5, 5.5}, b[] = {1.5, 2, 2.5, 4.5, 4};
    rho = xf_spearman(a, b, 5, &p);
    NEAR(rho, 0.7905694150420949, 1e-12);
    NEAR(p, 16.0 / 120, 1e-12);
}

Test(stats, spearman_exact_covers_all_permutations_n9)
{
    /* rho = 0 gives p = 1: every one of the 9! orderings counts. */
    double x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, y[] = {5, 1, 9, 4, 3, 8, 2, 7, 6};
    double p, rho = xf_spearman(x, y, 9, &p);
    /* by hand: d = (−4,1,−6,0,2,−2,5,1,3), sum d^2 = 96, rho = 1 − 6*96/720 = 0.2 */
    NEAR(rho, 0.2, 1e-12);
    cr_assert(p > 0.5 && p < 1, "p %g", p);
    double z[] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
    rho = xf_spearman(x, z, 9, &p);
    NEAR(rho, -1, 1e-12);
    NEAR(p, 2.0 / 362880, 1e-15);
}

Test(stats, t_pvalue_and_betai)
{
    /* 2*scipy.stats.t.sf(2.0, 10) = 0.07338803477074039; 2*t.sf(0.5, 3) = 0.651447964848151 */
    NEAR(xf_t_pvalue2(2.0, 10), 0.07338803477074039, 1e-12);
    NEAR(xf_t_pvalue2(-0.5, 3), 0.651447964848151, 1e-12);
    /* scipy.special.betainc(2, 3, 0.4) = 0.5248; betainc(0.5, 7.5, 0.9) = 0.9999999932897103 */
    NEAR(xf_betai(2, 3, 0.4), 0.5248, 1e-12);
    NEAR(xf_betai(0.5, 7.5, 0.9), 0.9999999932897103, 1e-13);
    NEAR(xf_betai(2, 3, 0), 0, 0);
    NEAR(xf_betai(2, 3, 1), 1, 0);
}

Test(stats, quantile_linear)
{
    /* numpy.percentile([1, 2, 3, 4], 25) = 1.75; median 2.5 */
    double s[] = {1, 2, 3, 4};
    NEAR(xf_quantile_sorted(s, 4, 0.25), 1.75, 1e-12);
    NEAR(xf_quantile_sorted(s, 4, 0.5), 2.5, 1e-12);
    NEAR(xf_quantile_sorted(s, 4, 1), 4, 0);
    NEAR(xf_quantile_sorted(s, 4, 0), 1, 0);
}

Test(stats, bootstrap_deterministic)
{
    /* Values with distinct sums, so resampled means rarely tie and two
     * seeds give different quantiles. */
    double x[10];
    for (int i = 0; i < 10; i++) x[i] = 1 + sqrt(i + 2.0) * 1.37;
    double m = xf_mean(x, 10);
    double lo1, hi1, lo2, hi2, lo3, hi3;
    xf_boot_mean_ci(x, 10, 2000, 42, xf_str_hash("g"), 0.95, &lo1, &hi1);
    xf_boot_mean_ci(x, 10, 2000, 42, xf_str_hash("g"), 0.95, &lo2, &hi2);
    cr_assert(lo1 == lo2 && hi1 == hi2, "same seed, same CI");
    xf_boot_mean_ci(x, 10, 2000, 43, xf_str_hash("g"), 0.95, &lo3, &hi3);
    cr_assert(lo1 != lo3 || hi1 != hi3, "another seed, another CI");
    /* The CI brackets the mean and lies within the data's range. */
    cr_assert(lo1 < m && hi1 > m && lo1 > xf_min(x, 10) && hi1 < xf_max(x, 10), "[%g, %g]", lo1, hi1);
    double c[] = {4, 4, 4};
    xf_boot_mean_ci(c, 3, 100, 1, 0, 0.95, &lo1, &hi1);
    NEAR(lo1, 4, 0);
    NEAR(hi1, 4, 0);
    xf_boot_mean_ci(c, 3, 0, 1, 0, 0.95, &lo1, &hi1);
    cr_assert(isnan(lo1) && isnan(hi1), "no resamples, no CI");
}
