/* train_adapter.h — the training loop of xf-adapt: a task adapter + head on a
 * frozen base (taskmodel.h), as the adapters library's AdapterTrainer (HF
 * Trainer) runs it: AdamW (no weight decay by default), linear decay to 0
 * without warmup, gradient norm clipped to 1.0, shuffled batches, the last
 * batch of an epoch possibly shorter.
 *
 * Randomness is a pure function of the seed: epoch e's order is a
 * Fisher–Yates permutation from xf_rng seeded by xf_hash64(seed,
 * XF_STREAM_SHUFFLE, e); step t's dropout seed is xf_hash64(seed,
 * XF_STREAM_DROPOUT, t).  So a run is bitwise reproducible at any thread
 * count (the encoder's kernels are).
 */
#ifndef XF_TRAIN_ADAPTER_H
#define XF_TRAIN_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#include "evaluate.h"
#include "examples.h"
#include "mlm.h"
#include "taskmodel.h"

typedef struct xf_train_opts {
    int batch;             /* examples per step */
    float lr;              /* peak learning rate */
    int epochs;
    int seq;               /* longest example accepted */
    long max_per_lang;     /* examples kept per language, first in stream order; 0 = all */
    long max_steps;        /* stop after this many steps (0 = epochs × steps/epoch) */
    long warmup;           /* linear warmup steps (0) */
    float weight_decay;    /* AdamW weight decay (0) */
    float clip;            /* max gradient L2 norm (1.0); 0 = none */
    uint64_t seed;
    xf_eval_opts eval;     /* for validation */
} xf_train_opts;

/* Paper defaults for TASK (appendix E): pos/ner/dep batch 36 (dep: 12 here,
 * memory), lr 5e-4, 5 epochs, seq 256; nli batch 32, lr 5e-5, seq 128; qa
 * batch 32, lr 3e-5, seq 384. */
xf_train_opts xf_train_defaults(xf_task task);

/* Keeps the first MAX examples of each language (0 = all), in order;
 * returns the new count (EX compacted in place; dropped ones freed). */
size_t xf_examples_cap_per_lang(xf_example *ex, size_t n, long max);

typedef struct xf_train_result {
    long steps;
    double first_loss, last_loss;   /* mean loss of the first / last epoch */
    double seconds, tokens;         /* training time, real tokens processed */
    int best_epoch;                 /* 1-based epoch kept (validation), 0 = last */
    double best_score;              /* its primary metric, NaN without validation */
} xf_train_result;

/* Trains M (xf_tm_enable_training done here) on EX[0..n); with DEV (ndev >
 * 0) the primary metric is computed after each epoch and the best epoch's
 * weights are kept.  A model whose fusion is trainable (xf_tm_load_fusion
 * with TRAINABLE) trains the fusion parameters only, the task adapter and
 * head frozen, with the loss plus Σ_layers 0.01·‖I − V‖² (fusion.h). */
xf_train_result xf_train_adapter(xf_taskmodel *m, xf_example *ex, size_t n, xf_example *dev,
                                 size_t ndev, const xf_train_opts *o);

/* Language adapter (task mlm, MAD-X step 1): trains M's adapter with masked
 * LM on a frozen base, together with the MLM head's transform, LayerNorm
 * and decoder bias (the tied decoder weight is the frozen word embeddings;
 * an untied one trains too), as the adapters library's train_adapter
 * (it freezes base_model only), masking and
 * data order as mlm.h (DataCollatorForLanguageModeling, seed O->seed): full
 * batches of O->batch rows, ceil(n / batch) steps per epoch, same AdamW,
 * schedule and clipping as above.  Returns losses as above (per epoch means). */
xf_train_result xf_train_lang_adapter(xf_taskmodel *m, const xf_mlm_data *d,
                                      const xf_train_opts *o, float mlm_prob);

#endif
