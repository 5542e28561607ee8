/* mlm.h — masked-LM finetuning of a whole encoder, as HF's
 * run_mlm_no_trainer.py (transformers 4.21) does it: DataCollatorForLanguage-
 * Modeling masking, AdamW, linear schedule — with deterministic randomness.
 *
 * Randomness, all a pure function of --seed (thread count irrelevant):
 *  - data order: the examples are a stream of epochs, each a Fisher–Yates
 *    permutation (xf_rng seeded by (seed, epoch)); step s takes stream
 *    entries s·B .. s·B+B-1, so every batch is full (HF's last, shorter
 *    batch of an epoch does not occur);
 *  - masking: position t of batch row b at step s is selected with
 *    probability mlm_prob (never special tokens: [CLS] [SEP] [PAD] [MASK]
 *    [UNK] / their XLM-R forms), then 80 % [MASK], 10 % a uniform random id
 *    of the whole vocabulary, 10 % kept — every draw xf_hash64(seed,
 *    XF_STREAM_MASK, counter(s, b, t, k));
 *  - dropout: seed xf_hash64(seed, XF_STREAM_DROPOUT, s) for step s.
 * So a run's state is (weights, AdamW moments, step): a checkpoint holds
 * exactly that and a resumed run continues bitwise-identically.
 */
#ifndef XF_MLM_H
#define XF_MLM_H

#include <stddef.h>
#include <stdint.h>

#include "adamw.h"
#include "encoder.h"
#include "hfmodel.h"

typedef struct xf_mlm_opts {
    long steps;           /* optimizer steps = length of the LR schedule */
    int batch;            /* rows per step (8) */
    int seq;              /* longest row accepted (512) */
    float lr;             /* peak learning rate (5e-5) */
    long warmup;          /* linear warmup steps (0) */
    float weight_decay;   /* AdamW decoupled weight decay (0) */
    float clip;           /* max gradient L2 norm; 0 = no clipping */
    float mlm_prob;       /* 0.15 */
    uint64_t seed;
    const char *log_path;         /* TSV: step lr loss masked seconds; NULL = none */
    const long *save_at;          /* steps after which to checkpoint (sorted) */
    int n_save_at;
    const char *save_prefix;      /* checkpoint k goes to PREFIX.stepK */
    const char *tokenizer;        /* recorded as HEAD "tokenizer" of checkpoints, or NULL */
    const struct xf_prov *prov;   /* recorded as HEAD "provenance" of checkpoints (steps:
                                     those done), or NULL (provenance.h) */
    /* test-only (tests/torch): fixed masked inputs/labels instead of the
     * random masking and data order; a dump of logits, losses and the first
     * step's gradients */
    const char *test_masks, *test_dump;
} xf_mlm_opts;

xf_mlm_opts xf_mlm_defaults(void);

/* The ranges of xf-mlmstep's options, shared by the command line and by
 * checkpoints (--resume), which are checked with the same rules. */
#define XF_MLM_MAX_STEPS (1L << 40)
#define XF_MLM_MAX_BATCH 4096
#define XF_MLM_MIN_SEQ 2
#define XF_MLM_MAX_SEQ (1 << 20)
#define XF_MLM_MAX_SEED (1L << 62)
/* NULL when O's settings obey those rules, else what is wrong, naming the
 * option ("--batch must lie in [1, 4096]"); a static string. */
const char *xf_mlm_opts_problem(const xf_mlm_opts *o);

/* The training rows (mlm example stream) and the tokenizer facts masking needs. */
typedef struct xf_mlm_data {
    size_t n;
    int32_t **ids;        /* [n][len[i]] */
    int *len;
    int maxlen;
    int32_t mask_id;
    int vocab;            /* random replacements are drawn from [0, vocab) */
    unsigned char *special;   /* [vocab]: 1 = never masked */
    uint64_t hash;        /* of all ids, recorded in checkpoints */
    char *path;           /* the stream read, for messages */
    char *langs;          /* the rows' `lang` values: distinct, sorted, '+'-joined */
} xf_mlm_data;

/* Reads an example stream of task mlm (dies on other tasks, ids outside
 * [0, vocab), rows longer than SEQ). */
void xf_mlm_data_read(xf_mlm_data *d, const char *path, int vocab, int seq);
/* Marks SPECIAL ids (count N) and the [MASK] id. */
void xf_mlm_data_set_specials(xf_mlm_data *d, const int32_t *special, int n, int32_t mask_id);
void xf_mlm_data_free(xf_mlm_data *d);

/* Masks one row of N ids (step S, batch row B): writes the model input and
 * labels (-100 where not selected); returns the number selected. */
int xf_mlm_mask_row(int32_t *input, int32_t *labels, const int32_t *ids, int n,
                    const xf_mlm_data *d, float mlm_prob, uint64_t seed, long step, int row);

/* Example index of stream entry K (epoch K/n, shuffled by SEED). */
size_t xf_mlm_order(const xf_mlm_data *d, uint64_t seed, uint64_t k);

/* A training run: the AdamW moments and the step count. */
typedef struct xf_mlm_state {
    long step;            /* optimizer steps done */
    float *m, *v;         /* laid out as the encoder's parameters */
    /* timing of the last xf_mlm_train (for --perf): its first step, the rest */
    double secs_first, secs_rest;
    long n_rest;
    long masked_total;    /* masked tokens over all steps of that run */
    struct xf_zout *log;  /* the --log output, complete but left uncommitted by
                           * xf_mlm_train: the caller commits it with its other
                           * outputs (xf_zout_commit; util.h commit sets) */
} xf_mlm_state;

void xf_mlm_state_init(xf_mlm_state *st, const xf_encoder *e);
void xf_mlm_state_free(xf_mlm_state *st);

/* Trains E from ST->step to O->steps; CFG is written into checkpoints.
 * Dies "step K: ..." on a non-finite loss or weight. */
void xf_mlm_train(xf_encoder *e, const xf_config *cfg, const xf_mlm_data *d,
                  const xf_mlm_opts *o, xf_mlm_state *st);

/* Checkpoints: a model stream (loadable by xf_model_load) with the AdamW
 * moments as extra tensors "xf.adamw.m.NAME" / "xf.adamw.v.NAME" and HEAD
 * "mlm_state" {step, steps, batch, seq, lr, warmup, weight_decay, clip,
 * mlm_probability, seed, data_n, data_hash}, plus "provenance" (O->prov,
 * with "steps" the steps done) when O->prov is set. */
void xf_mlm_checkpoint_write(const char *path, const xf_encoder *e, const xf_config *cfg,
                             const xf_mlm_data *d, const xf_mlm_opts *o, const xf_mlm_state *st);
/* Restores ST and the settings of O from a checkpoint loaded as TS
 * (E already holds its weights).  Dies if the data differ from the run's. */
void xf_mlm_checkpoint_read(const xf_tensorset *ts, const char *path, const xf_encoder *e,
                            const xf_mlm_data *d, xf_mlm_opts *o, xf_mlm_state *st);

#endif
