/* test_mst.c — Chu-Liu/Edmonds with one root child: hand-made score
 * matrices (a cycle to contract, several words wanting the root, forbidden
 * arcs) and exhaustive search over every head assignment of small random
 * sentences. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "mst.h"
#include "rng.h"

/* S[(d)*(n+1) + h] from rows given per dependent 1..n */
static float *matrix(int n, const float *rows)
{
    float *S = calloc((size_t)(n + 1) * (n + 1), sizeof(float));
    for (int d = 1; d <= n; d++)
        for (int h = 0; h <= n; h++) S[d * (n + 1) + h] = rows[(d - 1) * (n + 1) + h];
    return S;
}

Test(mst, chain_without_cycle)
{
    /* heads:  root  w1  w2  w3 */
    float rows[] = { 9, 0, 1, 1,     /* w1 ← root */
                     1, 8, 0, 1,     /* w2 ← w1 */
                     1, 1, 7, 0 };   /* w3 ← w2 */
    float *S = matrix(3, rows);
    int32_t h[3];
    double score = xf_mst_decode(S, 3, h);
    cr_assert(h[0] == 0 && h[1] == 1 && h[2] == 2);
    cr_assert_float_eq(score, 24.0, 1e-9);
    free(S);
}

Test(mst, cycle_is_contracted)
{
    /* greedy: w1 ← w2, w2 ← w1 (a cycle), w3 ← w2.  Entering the cycle
     * costs least at w1 from root (5 - 10 = -5): tree root→w1→w2→w3, 5+10+9. */
    float rows[] = { 5, 0, 10, 1,
                     1, 10, 0, 1,
                     1, 2, 9, 0 };
    float *S = matrix(3, rows);
    int32_t g[3], h[3];
    xf_greedy_heads(S, 3, g);
    cr_assert(g[0] == 2 && g[1] == 1 && g[2] == 2);
    cr_assert(!xf_heads_are_tree(g, 3));
    double score = xf_mst_decode(S, 3, h);
    cr_assert(h[0] == 0 && h[1] == 1 && h[2] == 2, "heads %d %d %d", h[0], h[1], h[2]);
    cr_assert_float_eq(score, 24.0, 1e-9);
    cr_assert(xf_heads_are_tree(h, 3));
    free(S);
}

Test(mst, several_words_want_the_root)
{
    /* every word prefers the root; one root child allowed: root→w1 (10),
     * w2 ← w1 (2), w3 ← w2 (3) = 15 beats root→w2 (14) and root→w3 (13). */
    float rows[] = { 10, 0, 1, 1,
                     10, 2, 0, 1,
                     10, 1, 3, 0 };
    float *S = matrix(3, rows);
    int32_t g[3], h[3];
    xf_greedy_heads(S, 3, g);
    cr_assert(g[0] == 0 && g[1] == 0 && g[2] == 0);
    double score = xf_mst_decode(S, 3, h);
    cr_assert(h[0] == 0 && h[1] == 1 && h[2] == 2, "heads %d %d %d", h[0], h[1], h[2]);
    cr_assert_float_eq(score, 15.0, 1e-9);
    free(S);
}

Test(mst, forbidden_arcs_and_single_word)
{
    float rows[] = { -INFINITY, 0, 5,   /* w1 may not hang from the root */
                     1, 4, 0 };
    float *S = matrix(2, rows);
    int32_t h[2];
    xf_mst_decode(S, 2, h);
    cr_assert(h[0] == 2 && h[1] == 0);
    free(S);
    float one[] = { -3, 0 };
    float *S1 = matrix(1, one);
    int32_t h1[1] = { -1 };
    xf_mst_decode(S1, 1, h1);
    cr_assert_eq(h1[0], 0);
    free(S1);
}

/* best single-root tree by enumerating all (n+1)^n head vectors */
static double brute(const float *S, int n, int32_t *best)
{
    int32_t h[8];
    double top = -INFINITY;
    long total = 1;
    for (int i = 0; i < n; i++) total *= n + 1;
    for (long code = 0; code < total; code++) {
        long c = code;
        for (int i = 0; i < n; i++) { h[i] = (int32_t)(c % (n + 1)); c /= n + 1; }
        if (!xf_heads_are_tree(h, n)) continue;
        double s = 0;
        for (int i = 0; i < n; i++) s += S[(i + 1) * (n + 1) + h[i]];
        if (s > top) { top = s; for (int i = 0; i < n; i++) best[i] = h[i]; }
    }
    return top;
}

Test(mst, matches_exhaustive_search_on_random_sentences)
{
    xf_rng r;
    xf_rng_seed(&r, 7, 1);
    for (int trial = 0; trial < 300; trial++) {
        int n = 1 + (int)xf_rng_below(&r, 6);
        float *S = calloc((size_t)(n + 1) * (n + 1), sizeof(float));
        for (int i = 0; i < (n + 1) * (n + 1); i++) S[i] = (float)(xf_rng_normal(&r) * 3);
        int32_t h[8], b[8];
        double ms = xf_mst_decode(S, n, h), bs = brute(S, n, b);
        cr_assert(xf_heads_are_tree(h, n), "trial %d: not a single-root tree", trial);
        cr_assert(fabs(ms - bs) < 1e-4, "trial %d (n=%d): MST %.6f, exhaustive %.6f", trial, n, ms, bs);
        free(S);
    }
}

Test(mst, tree_check)
{
    int32_t ok[] = { 2, 0, 2 }, two_roots[] = { 0, 0, 1 }, cyc[] = { 2, 3, 1 }, self[] = { 1 };
    cr_assert(xf_heads_are_tree(ok, 3));
    cr_assert(!xf_heads_are_tree(two_roots, 3));
    cr_assert(!xf_heads_are_tree(cyc, 3));
    cr_assert(!xf_heads_are_tree(self, 1));
}
