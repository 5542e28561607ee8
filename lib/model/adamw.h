/* adamw.h — the AdamW update of torch.optim.AdamW (torch 1.13, the
 * single-tensor path), over plain float arrays:
 *
 *   p ← p·(1 − lr·wd)
 *   m ← β1·m + (1−β1)·g          v ← β2·v + (1−β2)·g²
 *   p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + eps)
 *
 * t is the 1-based step count (the same for every tensor).  The bias
 * corrections are computed in double, as torch does in Python, then used as
 * float scalars.  Elementwise, so results do not depend on the thread count.
 */
#ifndef XF_ADAMW_H
#define XF_ADAMW_H

#include <stddef.h>

typedef struct xf_adamw {
    float beta1, beta2, eps;   /* 0.9, 0.999, 1e-8 */
    float weight_decay;        /* 0 = none */
} xf_adamw;

/* torch.optim.AdamW defaults except weight_decay 0 (run_mlm_no_trainer). */
xf_adamw xf_adamw_defaults(void);

/* One step over N elements; DECAY selects whether weight decay applies to
 * this tensor.  Returns the number of non-finite values in the updated P
 * (0 normally), so callers can stop on divergence without another pass. */
size_t xf_adamw_update(const xf_adamw *opt, float *p, const float *g, float *m, float *v,
                       size_t n, float lr, long t, int decay);

/* HF run_mlm_no_trainer's rule: no weight decay on parameters whose name
 * contains "bias" or "LayerNorm.weight". */
int xf_adamw_decays(const char *param_name);

/* The L2 norm of a gradient set, as torch.nn.utils.clip_grad_norm_ computes
 * it, summed in double over fixed chunks (thread-count independent). */
double xf_grad_sumsq(const float *g, size_t n);

/* HF get_linear_schedule_with_warmup: the LR multiplier at 0-based STEP. */
double xf_linear_schedule(long step, long warmup, long total);

#endif
