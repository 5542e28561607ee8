/* gemm.c — sgemm on BLIS, OpenBLAS or oneDNN; see gemm.h. */
#include "gemm.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#if defined(XF_BLAS_OPENBLAS)
#include <cblas.h>
char *openblas_get_corename(void);
#elif defined(XF_BLAS_ONEDNN)
#include <dnnl.h>
#elif defined(XF_BLAS_BLIS)
#include <blis.h>
#else
#error "define XF_BLAS_BLIS, XF_BLAS_OPENBLAS or XF_BLAS_ONEDNN (make BLAS=...)"
#endif

/* ---- one-thread product on the backend ---- */

static void gemm1(int tA, int tB, int M, int N, int K, float alpha,
                  const float *A, int lda, const float *B, int ldb,
                  float beta, float *C, int ldc)
{
#if defined(XF_BLAS_BLIS)
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(1, &rntm);
    bli_sgemm_ex(tA ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                 tB ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                 M, N, K, &alpha, (float *)A, lda, 1, (float *)B, ldb, 1,
                 &beta, C, ldc, 1, NULL, &rntm);
#else
    /* the calling thread's nthreads ICV sizes the backend's team */
    int saved = omp_get_max_threads();
    if (saved != 1) omp_set_num_threads(1);
#if defined(XF_BLAS_OPENBLAS)
    cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#else
    dnnl_status_t st = dnnl_sgemm(tA ? 'T' : 'N', tB ? 'T' : 'N', M, N, K, alpha, A, lda,
                                  B, ldb, beta, C, ldc);
    if (st != dnnl_success) {
        fprintf(stderr, "xf: dnnl_sgemm(%c%c %d×%d×%d) failed: status %d\n",
                tA ? 'T' : 'N', tB ? 'T' : 'N', M, N, K, (int)st);
        abort();
    }
#endif
    if (saved != 1) omp_set_num_threads(saved);
#endif
}

/* ---- xf's own split ---- */

#ifndef TILE_M
#define TILE_M 512
#endif
#ifndef TILE_N
#define TILE_N 512
#endif

#ifndef TILE_MIN
#define TILE_MIN 4
#endif

/* Tile edge for a dimension of LEN: LEN cut into ceil(LEN/TARGET) nearly
 * equal parts, each rounded up to a multiple of 64. */
static int tile_len(int len, int target)
{
    int parts = (len + target - 1) / target;
    return ((len + parts - 1) / parts + 63) / 64 * 64;
}

void xf_gemm_nt(int nt, int tA, int tB, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb,
                float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {   /* C = beta*C (beta == 0 overwrites, ignoring NaN in C) */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                C[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + j];
        return;
    }
    /* small products (< ~2 MFLOP) finish before a team starts up */
    if ((double)M * N * K < (double)(1 << 21)) {
        gemm1(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    /* Tiles of C, about TILE_M × TILE_N, in multiples of 64, cut from the
     * SHAPE alone: the same one-thread products on any number of threads. */
    int gm = TILE_M, gn = TILE_N, tm, tn, nm, nn, tiles;
    for (;;) {   /* at least TILE_MIN tiles, so that threads share the work */
        tm = tile_len(M, gm), tn = tile_len(N, gn);
        nm = (M + tm - 1) / tm, nn = (N + tn - 1) / tn, tiles = nm * nn;
        if (tiles >= TILE_MIN || (tm <= 128 && tn <= 128)) break;
        if (tm >= tn) gm = tm / 2;
        else gn = tn / 2;
    }
    if (nt < 1) nt = 1;
    if (nt > tiles) nt = tiles;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int t = 0; t < tiles; t++) {
        int i0 = t / nn * tm, j0 = t % nn * tn;
        int m = M - i0 < tm ? M - i0 : tm, n = N - j0 < tn ? N - j0 : tn;
        /* C[i0:i0+m, j0:j0+n] = op(A)[i0:i0+m, :] · op(B)[:, j0:j0+n] */
        gemm1(tA, tB, m, n, K, alpha, tA ? A + i0 : A + (size_t)i0 * lda, lda,
              tB ? B + (size_t)j0 * ldb : B + j0, ldb, beta, C + (size_t)i0 * ldc + j0, ldc);
    }
}

/* ---- what runs ---- */

const char *xf_gemm_backend(void)
{
#if defined(XF_BLAS_BLIS)
    return "blis";
#elif defined(XF_BLAS_OPENBLAS)
    return "openblas";
#else
    return "onednn";
#endif
}

static int cpu_has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") || __builtin_cpu_supports("avx512f");
}

#if defined(XF_BLAS_ONEDNN)
static const char *isa_name(dnnl_cpu_isa_t isa)
{
    switch ((int)isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "none";
    }
}
#endif

/* the kernel name alone: BLIS sub-configuration, OpenBLAS core, oneDNN ISA */
static const char *kernel_name(void)
{
#if defined(XF_BLAS_BLIS)
    return bli_arch_string(bli_arch_query_id());
#elif defined(XF_BLAS_OPENBLAS)
    const char *c = openblas_get_corename();
    return c ? c : "unknown";
#else
    return isa_name(dnnl_get_effective_cpu_isa());
#endif
}

const char *xf_gemm_kernel(void)
{
    static char buf[160];
    if (buf[0]) return buf;
#if defined(XF_BLAS_BLIS)
    snprintf(buf, sizeof buf, "blis %s, sub-configuration %s", bli_info_get_version_str(),
             kernel_name());
#elif defined(XF_BLAS_OPENBLAS)
    const char *v = OPENBLAS_VERSION;   /* " OpenBLAS 0.3.21 " */
    while (*v == ' ') v++;
    if (!strncmp(v, "OpenBLAS ", 9)) v += 9;
    int vl = (int)strcspn(v, " ");
    snprintf(buf, sizeof buf, "openblas %.*s, core %s", vl, v, kernel_name());
#else
    const dnnl_version_t *v = dnnl_version();
    snprintf(buf, sizeof buf, "onednn %d.%d.%d, isa %s", v->major, v->minor, v->patch,
             kernel_name());
#endif
    return buf;
}

int xf_gemm_generic(const char **why)
{
    static const char *remedy =
        "rebuild xf with another backend (make BLAS=auto picks the fastest installed: "
        "BLAS=openblas or BLAS=onednn)";
    int generic;
#if defined(XF_BLAS_BLIS)
    generic = bli_arch_query_id() == BLIS_ARCH_GENERIC;
#elif defined(XF_BLAS_OPENBLAS)
    /* cores with AVX2 (or wider) kernels in OpenBLAS 0.3 */
    static const char *fast[] = {"haswell", "zen", "skylakex", "cooperlake", "sapphirerapids",
                                 "excavator", NULL};
    const char *k = kernel_name();
    generic = 1;
    for (int i = 0; fast[i]; i++)
        if (!strcasecmp(k, fast[i])) generic = 0;
    remedy = "unset OPENBLAS_CORETYPE if it names an old core, or rebuild xf with "
             "make BLAS=onednn";
#else
    generic = (int)dnnl_get_effective_cpu_isa() < (int)dnnl_cpu_isa_avx2 ||
              !strcmp(kernel_name(), "none");
    remedy = "check DNNL_MAX_CPU_ISA / ONEDNN_MAX_CPU_ISA, or rebuild xf with make BLAS=openblas";
#endif
    generic = generic && cpu_has_avx2();
    if (why) *why = generic ? remedy : NULL;
    return generic;
}

void xf_gemm_warn_generic(const char *prog)
{
    static int said;
    const char *why;
    if (said || !xf_gemm_generic(&why)) return;
    said = 1;
    fprintf(stderr, "%s: warning: GEMM backend %s runs generic kernels on this %s CPU "
            "(several times slower): %s\n", prog, xf_gemm_kernel(),
            __builtin_cpu_supports("avx512f") ? "AVX-512" : "AVX2", why);
}

/* ---- rate ---- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double xf_gemm_rate(int nt, int M, int N, int K)
{
    size_t na = (size_t)M * K, nb = (size_t)N * K, nc = (size_t)M * N;
    float *a = aligned_alloc(64, (na * 4 + 63) / 64 * 64);
    float *b = aligned_alloc(64, (nb * 4 + 63) / 64 * 64);
    float *c = aligned_alloc(64, (nc * 4 + 63) / 64 * 64);
    if (!a || !b || !c) {
        fprintf(stderr, "xf: out of memory for the sgemm rate (%d×%d×%d)\n", M, N, K);
        exit(1);
    }
    for (size_t i = 0; i < na; i++) a[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
    for (size_t i = 0; i < nb; i++) b[i] = (float)((i * 104729) % 1000) * 1e-3f - 0.5f;
    memset(c, 0, nc * sizeof(float));
    double best = 0.0;
    for (int rep = 0; rep < 3; rep++) {   /* rep 0 warms caches and JIT kernels */
        double t0 = now();
        xf_gemm_nt(nt, 0, 1, M, N, K, 1.0f, a, K, b, K, 0.0f, c, N);
        double g = 2.0 * M * N * K / (now() - t0) / 1e9;
        if (rep > 0 && g > best) best = g;
    }
    free(a), free(b), free(c);
    return best;
}
