/* gemm.h — single-precision GEMM on the backend chosen at build time.
 *
 *   C[M,N] = alpha · op(A)[M,K] · op(B)[K,N] + beta · C      (row-major)
 *
 * op(X) = Xᵀ when tX != 0; lda/ldb/ldc are ROW strides of the stored
 * matrices (column stride 1), as cblas_sgemm(CblasRowMajor, ...) takes
 * them.  beta == 0 overwrites C (NaN in C is ignored); K == 0 scales C by
 * beta.  M == 0 or N == 0 does nothing.
 *
 * Backends (one is compiled in, `make BLAS=blis|openblas|onednn|auto`):
 *   XF_BLAS_BLIS      BLIS typed API, bli_sgemm_ex with a one-thread rntm
 *   XF_BLAS_OPENBLAS  OpenBLAS cblas_sgemm (the OpenMP build)
 *   XF_BLAS_ONEDNN    oneDNN dnnl_sgemm (row-major by definition)
 *
 * Threading and determinism.  The backend is only ever asked for
 * ONE-THREAD products: xf_gemm_nt() cuts C into tiles of about 512×512
 * (multiples of 64, at least 4 tiles for a large product) computed from the
 * SHAPE alone, and an OpenMP loop of xf's own (dynamic schedule) runs one
 * backend call per tile.  The tiles, and so the backend's calls, are the
 * same on any number of threads, and no backend thread pool, barrier or
 * split of the k loop is involved: same bytes at any --threads, for every
 * backend (tests/unit/test_ops_determinism.c checks 1, 2 and 3 threads at
 * the encoder's shapes).  oneDNN needs this: its one-thread sgemm of a
 * column half differs in the last bits from that of the whole.  Results of
 * DIFFERENT backends may differ in the last bits.  Products under 2 MFLOP
 * are one call on the calling thread.  A one-thread call is forced per
 * call: BLIS through its rntm, the OpenMP backends by setting the calling
 * thread's nthreads ICV to 1 around the call (OpenBLAS and oneDNN size
 * their teams by omp_get_max_threads(), or 1 inside a parallel region).
 *
 * This file needs only libc, OpenMP and the backend (no libxf), so the
 * build's BLAS=auto probe and the benchmarks compile it on its own.
 */
#ifndef XF_GEMM_H
#define XF_GEMM_H

/* C = alpha·op(A)op(B) + beta·C on NT threads (NT < 1 means 1); see top. */
void xf_gemm_nt(int nt, int tA, int tB, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb,
                float beta, float *C, int ldc);

/* "blis", "openblas" or "onednn". */
const char *xf_gemm_backend(void);
/* The backend and the kernels it runs here, one line, e.g.
 * "blis 0.9.0, sub-configuration generic", "openblas 0.3.21, core Haswell",
 * "onednn 2.6.3, isa avx512_core_bf16". */
const char *xf_gemm_kernel(void);
/* 1 when the backend runs generic/reference kernels although the CPU has
 * AVX2 or AVX-512 (a several-fold slowdown); then *why gets the remedy. */
int xf_gemm_generic(const char **why);
/* Says so once on stderr ("PROG: warning: ...") when xf_gemm_generic(). */
void xf_gemm_warn_generic(const char *prog);

/* Best of two timed sgemms M×N×K (A·Bᵀ, the linear-layer form) on NT
 * threads after a warm-up, in GFLOP/s. */
double xf_gemm_rate(int nt, int M, int N, int K);

#endif
