/* mst.c — Chu-Liu/Edmonds by recursive cycle contraction, O(n^3) worst case;
 * sentences are at most a few hundred words. */
#include "mst.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>

/* Forbidden arcs become a huge finite negative so that differences and
 * comparisons stay ordinary arithmetic. */
#define FORBIDDEN (-1e30)

/* S[v*m + u]: score of arc u -> v on nodes 0..m-1 (0 = root).  Writes head[v]
 * for v = 1..m-1. */
static void cle(const double *S, int m, int *head)
{
    for (int v = 1; v < m; v++) {
        int best = 0;
        for (int u = 1; u < m; u++)
            if (u != v && S[v * m + u] > S[v * m + best]) best = u;
        head[v] = best;
    }
    /* find one cycle of the head pointers */
    int *mark = xmalloc(sizeof *mark * (size_t)m), *incyc = xcalloc((size_t)m, sizeof *incyc);
    for (int v = 0; v < m; v++) mark[v] = -1;
    int cyc = -1;
    for (int s = 1; s < m && cyc < 0; s++) {
        int v = s;
        while (v != 0 && mark[v] == -1) { mark[v] = s; v = head[v]; }
        if (v != 0 && mark[v] == s) cyc = v;
    }
    free(mark);
    if (cyc < 0) { free(incyc); return; }
    int u = cyc;
    do { incyc[u] = 1; u = head[u]; } while (u != cyc);

    /* contract: non-cycle nodes keep their order, the cycle becomes node c */
    int *map = xmalloc(sizeof *map * (size_t)m), *inv = xmalloc(sizeof *inv * (size_t)m);
    int k = 0;
    for (int v = 0; v < m; v++)
        if (!incyc[v]) { map[v] = k; inv[k] = v; k++; }
    int c = k, m2 = k + 1;
    for (int v = 0; v < m; v++)
        if (incyc[v]) map[v] = c;
    double *S2 = xmalloc(sizeof *S2 * (size_t)m2 * (size_t)m2);
    int *enter = xmalloc(sizeof *enter * (size_t)m2), *leave = xmalloc(sizeof *leave * (size_t)m2);
    for (int i = 0; i < m2 * m2; i++) S2[i] = 2 * FORBIDDEN;
    for (int i = 0; i < m2; i++) enter[i] = leave[i] = -1;
    for (int v = 1; v < m; v++)
        for (int w = 0; w < m; w++) {
            if (w == v || (incyc[v] && incyc[w])) continue;
            double s = S[v * m + w];
            if (incyc[v]) s -= S[v * m + head[v]];   /* entering the cycle at v breaks v's cycle arc */
            double *dst = &S2[map[v] * m2 + map[w]];
            if (s > *dst) {
                *dst = s;
                if (incyc[v]) enter[map[w]] = v;
                if (incyc[w]) leave[map[v]] = w;
            }
        }
    int *head2 = xmalloc(sizeof *head2 * (size_t)m2);
    cle(S2, m2, head2);
    for (int v = 1; v < m; v++)
        if (!incyc[v]) head[v] = head2[map[v]] == c ? leave[map[v]] : inv[head2[map[v]]];
    int from = head2[c];
    head[enter[from]] = inv[from];
    free(S2); free(enter); free(leave); free(head2); free(map); free(inv); free(incyc);
}

double xf_mst_decode(const float *scores, int n, int32_t *heads)
{
    if (n <= 0) return 0;
    int m = n + 1;
    double *S = xmalloc(sizeof *S * (size_t)m * (size_t)m);
    double lo = INFINITY, hi = -INFINITY;
    for (int v = 1; v < m; v++)
        for (int u = 0; u < m; u++) {
            double s = u == v ? -INFINITY : scores[v * m + u];
            if (isnan(s)) die("MST: NaN arc score");
            if (isfinite(s)) { if (s < lo) lo = s; if (s > hi) hi = s; }
            S[v * m + u] = isfinite(s) ? s : FORBIDDEN;
        }
    for (int u = 0; u < m; u++) S[u] = FORBIDDEN;
    if (hi < lo) lo = hi = 0;
    /* a tree's score lies within n*[lo,hi]; one more root arc costs more than that range */
    double M = (hi - lo) * (n + 1) + 1;
    for (int v = 1; v < m; v++)
        if (S[v * m] > FORBIDDEN) S[v * m] -= M;
    int *head = xmalloc(sizeof *head * (size_t)m);
    cle(S, m, head);
    double total = 0;
    for (int v = 1; v < m; v++) {
        heads[v - 1] = head[v];
        total += scores[v * m + head[v]];
    }
    free(head);
    free(S);
    return total;
}

void xf_greedy_heads(const float *scores, int n, int32_t *heads)
{
    int m = n + 1;
    for (int v = 1; v < m; v++) {
        int best = 0;
        for (int u = 1; u < m; u++)
            if (scores[v * m + u] > scores[v * m + best]) best = u;
        heads[v - 1] = best;
    }
}

int xf_heads_are_tree(const int32_t *heads, int n)
{
    int roots = 0;
    for (int i = 0; i < n; i++) {
        if (heads[i] < 0 || heads[i] > n || heads[i] == i + 1) return 0;
        roots += heads[i] == 0;
    }
    if (roots != 1) return 0;
    for (int i = 0; i < n; i++) {   /* every word reaches the root within n steps */
        int v = i + 1, steps = 0;
        while (v != 0 && steps <= n) { v = heads[v - 1]; steps++; }
        if (v != 0) return 0;
    }
    return 1;
}
