/* gemm_probe.c — the sgemm rate of one GEMM backend as xf calls it
 * (lib/model/gemm.c compiled with -DXF_BLAS_...), at the mBERT-base linear
 * shapes.  Used by the build's BLAS=auto choice (tests/blas.sh) and by
 * tests/bench/gemm.sh.
 *
 *   gemm_probe THREADS  →  one line: BACKEND<TAB>KERNEL<TAB>G1<TAB>G2<TAB>GENERIC
 *
 * G1, G2: GFLOP/s (best of 2 after a warm-up) of C[4096,768] = A[4096,768]·
 * B[768,768]ᵀ and C[4096,3072] = A[4096,768]·B[3072,768]ᵀ on THREADS
 * threads; GENERIC is 1 when the backend runs generic kernels here. */
#include <stdio.h>
#include <stdlib.h>

#include "gemm.h"

int main(int argc, char **argv)
{
    int nt = argc > 1 ? atoi(argv[1]) : 1;
    if (nt < 1 || nt > 4096) {
        fprintf(stderr, "usage: gemm_probe THREADS\n");
        return 2;
    }
    double g1 = xf_gemm_rate(nt, 4096, 768, 768);
    double g2 = xf_gemm_rate(nt, 4096, 3072, 768);
    printf("%s\t%s\t%.1f\t%.1f\t%d\n", xf_gemm_backend(), xf_gemm_kernel(), g1, g2,
           xf_gemm_generic(NULL));
    return 0;
}
