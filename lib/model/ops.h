/* ops.h — the layers of the encoder, each a forward/backward pair over plain
 * float arrays (row-major), in the style of llm.c.
 *
 * Conventions:
 *  - Shapes are given in the comment on each function; N = rows (B*T tokens).
 *  - Weights use PyTorch/HF layouts (Linear weight is [OC, C]).
 *  - Every backward ACCUMULATES (+=) into its gradient outputs, so gradients
 *    of shared tensors (tied embeddings, residual streams) just add up; a
 *    NULL gradient pointer means "not needed" (frozen weight or input).
 *  - Randomness (dropout) is a pure function of (seed, offset + index), see
 *    rng.h, so results do not depend on the thread count.
 *  - GEMMs go through gemm.h (BLIS, OpenBLAS or oneDNN, chosen at build
 *    time).  Parallelism: ops use the thread count set with
 *    xf_ops_set_threads().
 */
#ifndef XF_OPS_H
#define XF_OPS_H

#include <stddef.h>
#include <stdint.h>

/* Threads for GEMMs and the OpenMP loops of every op (default 1).
 * Results are bitwise identical for any value (see ops.c). */
void xf_ops_set_threads(int n);
int xf_ops_threads(void);

/* C[M,N] = alpha * op(A) op(B) + beta * C, row-major; op = transpose if tX.
 * lda/ldb/ldc are row strides.  Uses the ops thread count. */
void xf_gemm(int tA, int tB, int M, int N, int K, float alpha,
             const float *A, int lda, const float *B, int ldb,
             float beta, float *C, int ldc);
/* Same on one thread (for use inside parallel loops). */
void xf_gemm1(int tA, int tB, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb,
              float beta, float *C, int ldc);

/* out[N,OC] = inp[N,C] · w[OC,C]ᵀ + b[OC]   (b may be NULL) */
void linear_forward(float *out, const float *inp, const float *w, const float *b,
                    int N, int C, int OC);
/* dinp[N,C] += dout·w ; dw[OC,C] += doutᵀ·inp ; db[OC] += Σ dout */
void linear_backward(float *dinp, float *dw, float *db, const float *dout,
                     const float *inp, const float *w, int N, int C, int OC);

/* out[N,C] = (inp-mean)*rstd*w + b; saves mean[N], rstd[N] */
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *w, const float *b, int N, int C, float eps);
void layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                        const float *inp, const float *w, const float *mean,
                        const float *rstd, int N, int C);

/* exact GELU: x·Φ(x) = 0.5x(1+erf(x/√2)) over n elements */
void gelu_forward(float *out, const float *inp, size_t n);
void gelu_backward(float *dinp, const float *inp, const float *dout, size_t n);
void relu_forward(float *out, const float *inp, size_t n);
void relu_backward(float *dinp, const float *inp, const float *dout, size_t n);
void tanh_forward(float *out, const float *inp, size_t n);
/* uses the forward output */
void tanh_backward(float *dinp, const float *out, const float *dout, size_t n);

/* Inverted dropout: keep with prob 1-p, scale 1/(1-p).  Element i is kept
 * iff xf_hash_uniform(seed, XF_STREAM_DROPOUT, offset+i) >= p.  p == 0 is a
 * copy.  out may alias inp. */
void dropout_forward(float *out, const float *inp, size_t n, float p,
                     uint64_t seed, uint64_t offset);
void dropout_backward(float *dinp, const float *dout, size_t n, float p,
                      uint64_t seed, uint64_t offset);

/* out[N,C] = wte[ids[n]] (+ accumulates nothing else) ; dwte[ids[n]] += dout
 * (ids must be valid rows: the caller checks them against the vocabulary) */
void embedding_forward(float *out, const int32_t *ids, const float *wte, int N, int C);
void embedding_backward(float *dwte, const int32_t *ids, const float *dout, int N, int C);

/* Row softmax in place over x[N,C]. */
void softmax_rows(float *x, int N, int C);

/* dinp[N,C] += y ⊙ (dout - Σ_c y·dout) where y = softmax output [N,C]. */
void softmax_rows_backward(float *dinp, const float *out, const float *dout, int N, int C);

/* Cross-entropy over gathered rows: logits[M,V] (M selected positions),
 * targets[M]; returns the mean loss over M and writes dlogits = (p - 1hot)/M
 * scaled by dloss (dlogits may be NULL for eval, and may equal logits to
 * work in place).  A target outside [0,V) dies. */
float crossentropy_forward_backward(float *dlogits, const float *logits,
                                    const int32_t *targets, int M, int V, float dloss);

/* Best of two timed 3072³ sgemms on THREADS threads of the linked GEMM
 * backend (after a warm-up run), in GFLOP/s: the machine's GEMM peak, for benchmark ratios (~1 s). */
double xf_sgemm_peak_gflops(int threads);

#endif
