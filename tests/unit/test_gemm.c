/* test_gemm.c — the GEMM layer (gemm.h) on the backend this build links:
 * results against a double-precision reference for every transpose, alpha,
 * beta (including beta == 0 over NaN), K == 0, empty products, strided
 * operands, on 1 to 3 threads (row and column splits); the backend names
 * itself and its kernel. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "fdcheck.h"
#include "gemm.h"

/* element (i,j) of op(X) for a row-major X with row stride ld */
static double at(const float *X, int ld, int t, int i, int j)
{
    return t ? X[(size_t)j * ld + i] : X[(size_t)i * ld + j];
}

static void check(int nt, int tA, int tB, int M, int N, int K, float alpha, float beta, int pad)
{
    int lda = (tA ? M : K) + pad, ldb = (tB ? K : N) + pad, ldc = N + pad;
    size_t na = (size_t)(tA ? K : M) * lda, nb = (size_t)(tB ? N : K) * ldb, nc = (size_t)M * ldc;
    float *A = fvec(na + 1), *B = fvec(nb + 1), *C = fvec(nc + 1), *C0 = fvec(nc + 1);
    fill_uniform(A, na, -1, 1, 11);
    fill_uniform(B, nb, -1, 1, 12);
    fill_uniform(C, nc, -1, 1, 13);
    if (beta == 0.0f)
        for (size_t i = 0; i < nc; i++) C[i] = NAN;   /* beta == 0 must ignore C */
    memcpy(C0, C, nc * sizeof(float));
    xf_gemm_nt(nt, tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    double worst = 0.0;
    size_t bad_pad = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < ldc; j++) {
            size_t ix = (size_t)i * ldc + j;
            if (j >= N) {   /* padding columns stay as they were */
                bad_pad += memcmp(&C[ix], &C0[ix], sizeof(float)) != 0;
                continue;
            }
            double ref = beta == 0.0f ? 0.0 : (double)beta * C0[ix];
            for (int k = 0; k < K; k++) ref += (double)alpha * at(A, lda, tA, i, k) * at(B, ldb, tB, k, j);
            double err = fabs(C[ix] - ref) / (1.0 + fabs(ref));
            if (!(err <= worst)) worst = err;   /* NaN counts */
        }
    cr_expect(worst < 1e-5, "%s nt=%d %c%c %dx%dx%d alpha %g beta %g pad %d: max rel. error %g",
              xf_gemm_kernel(), nt, tA ? 'T' : 'N', tB ? 'T' : 'N', M, N, K, alpha, beta, pad,
              worst);
    cr_expect_eq(bad_pad, 0, "%s: %zu padding elements written", xf_gemm_kernel(), bad_pad);
    free(A), free(B), free(C), free(C0);
}

Test(gemm, against_reference)
{
    /* column splits (N large), row splits (N small), off-grid sizes */
    static const int sh[][3] = {{300, 700, 64}, {700, 40, 130}, {129, 257, 65}, {64, 64, 513}};
    for (int nt = 1; nt <= 3; nt++)
        for (int s = 0; s < 4; s++)
            for (int t = 0; t < 4; t++)
                check(nt, t & 1, t >> 1, sh[s][0], sh[s][1], sh[s][2], 0.5f, s & 1 ? 0.0f : 1.5f,
                      s == 2 ? 3 : 0);
}

Test(gemm, degenerate)
{
    check(2, 0, 1, 5, 7, 0, 1.0f, 0.5f, 0);   /* K == 0: C = beta*C */
    check(2, 1, 0, 5, 7, 0, 1.0f, 0.0f, 0);   /* K == 0, beta == 0: zeros over NaN */
    check(2, 0, 0, 1, 1, 1, 2.0f, 0.0f, 0);
    float c = 42.0f;   /* empty products touch nothing */
    xf_gemm_nt(2, 0, 0, 0, 5, 5, 1.0f, NULL, 5, NULL, 5, 0.0f, &c, 5);
    xf_gemm_nt(2, 0, 0, 5, 0, 5, 1.0f, NULL, 5, NULL, 5, 0.0f, &c, 5);
    cr_expect_eq(c, 42.0f);
}

Test(gemm, names_backend_and_kernel)
{
    const char *b = xf_gemm_backend(), *k = xf_gemm_kernel();
    cr_assert(!strcmp(b, "blis") || !strcmp(b, "openblas") || !strcmp(b, "onednn"), "%s", b);
    cr_expect(!strncmp(k, b, strlen(b)), "kernel line '%s' does not start with '%s'", k, b);
    const char *what = !strcmp(b, "blis") ? ", sub-configuration " : !strcmp(b, "openblas") ? ", core " : ", isa ";
    const char *p = strstr(k, what);
    cr_expect(p && p[strlen(what)] && strcmp(p + strlen(what), "unknown") &&
              strcmp(p + strlen(what), "none"), "kernel line '%s' names no kernel", k);
    const char *why = "x";
    int g = xf_gemm_generic(&why);
    cr_expect(g ? why != NULL : why == NULL);
}
