/* attention.h — the core of multi-head self-attention, forward/backward, as
 * HF BertSelfAttention (eager) computes it after the fused QKV linear:
 *
 *   qkv[B,T,3C]   per token [q(C) | k(C) | v(C)], head h = the contiguous
 *                 slice [h·dh, (h+1)·dh) of each, dh = C/H
 *   am[B,T]       int attention mask: 1 = attend, 0 = padding
 *   S = Q·Kᵀ/√dh + (1-am)·(-FLT_MAX)   (HF adds torch.finfo(float32).min; it
 *                 stays finite, so a fully masked row softmaxes to uniform)
 *   P = softmax(S)          saved in probs[B,H,T,T] for the backward
 *   out[B,T,C] = dropout(P)·V, heads concatenated back
 *
 * Dropout on P (HF applies it to the probs) is element (b,h,i,j) of probs
 * kept iff xf_hash_uniform(seed, XF_STREAM_DROPOUT, offset + ((b·H+h)·T+i)·T+j)
 * >= p_drop — the same mask dropout_forward() would draw over probs — and is
 * recomputed in the backward, so nothing else is saved.  p_drop == 0: none.
 *
 * Heads are strided views into qkv/out (no permute copies of Q, dO or out);
 * only one head's K and V are copied per step, K transposed, because BLIS
 * runs the T×T×dh score GEMMs ~30 % faster on contiguous operands.  The B×H
 * heads run in parallel over xf_ops_threads() threads, each with one-thread
 * GEMMs (xf_gemm1).  Results are bitwise identical at any thread count.
 * FLOPs: forward 4·B·T²·C, backward twice that (attention_forward_flops).
 */
#ifndef XF_ATTENTION_H
#define XF_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

/* Forward.  out[B,T,C] is overwritten; probs[B,H,T,T] receives P (NULL in
 * eval: P is then not kept).  Allocates per call, per thread: two [T,dh]
 * head copies, plus [T,T] when p_drop > 0 and another when probs is NULL. */
void attention_forward(float *out, float *probs, const float *qkv, const int32_t *am,
                       int B, int T, int C, int H, float p_drop, uint64_t seed,
                       uint64_t offset);

/* Floats of scratch attention_backward needs: 2·T·T (rounded up to 16) per
 * ops thread.  The backward also allocates two [T,dh] head copies per
 * thread per call. */
size_t attention_scratch_floats(int T);

/* Backward: dqkv[B,T,3C] += gradient of out w.r.t. qkv, given dout[B,T,C]
 * and the forward's qkv and probs.  scratch: attention_scratch_floats(T)
 * floats computed with the current thread count, or NULL to allocate it. */
void attention_backward(float *dqkv, float *scratch, const float *dout, const float *qkv,
                        const float *probs, const int32_t *am, int B, int T, int C, int H,
                        float p_drop, uint64_t seed, uint64_t offset);

/* FLOPs of one forward's two GEMMs (a backward does four: twice this). */
double attention_forward_flops(int B, int T, int C);

#endif
