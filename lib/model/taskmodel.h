/* taskmodel.h — a frozen base encoder + adapters + one task head: the model
 * xf-adapt trains and xf-eval runs.
 *
 *   base      xf_encoder, frozen (no gradient arena; the backward still runs
 *             through every layer so the adapters get gradients)
 *   adapters  per layer Stack(lang_1 .. lang_k, task) of Pfeiffer bottlenecks
 *             (adapter.h) installed as the encoder's FFN hook; language
 *             adapters are always frozen, the task adapter is trainable when
 *             training.  Several language adapters are combined by
 *             AdapterFusion (fusion.h): Stack(Fuse(lang_1 .. lang_k), task),
 *             the fusion one more kind of stack element (xf_tm_add_fusion).
 *   head      by task (heads.h): pos/ner tagging, dep biaffine parser, nli
 *             classification on [CLS], qa start/end.
 *
 * Trainable parameters (the task adapter and the head) are listed in
 * m->par with their AdapterHub names ("bert.encoder.layer.3.output.adapters.
 * pos.adapter_down.0.weight", "heads.pos.1.weight", ...); AdamW moments exist
 * for those only.  Language-adapter training (task mlm) also trains the
 * encoder's MLM head (transform dense + LayerNorm, decoder bias; not the
 * tied decoder weight), listed under its HF names ("cls.predictions.*",
 * "lm_head.*"), as the adapters library's train_adapter freezes only the
 * base model; xf_tm_add_lang puts such a head back into the encoder.
 *
 * Batches: B examples padded to the longest (T); rows addressed as b*T + t.
 * Dropout: the encoder's masks from the step's seed, the head's at
 * XF_HEADS_DROPOUT_OFFSET with the same seed — a pure function of
 * (seed, step), independent of the thread count.
 */
#ifndef XF_TASKMODEL_H
#define XF_TASKMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "adamw.h"
#include "adapter.h"
#include "fusion.h"
#include "encoder.h"
#include "examples.h"
#include "heads.h"
#include "hfmodel.h"
#include "labels.h"

#define XF_TM_MAX_LANG XF_FUSION_MAX
#define XF_TM_MAX_PARAMS 4096

typedef struct xf_tm_param {
    char name[192];        /* AdapterHub name (model prefix / "heads.NAME.") */
    float *data, *grad;
    size_t n;
    int ndim;
    int64_t shape[3];
    size_t off;            /* offset in the AdamW moment arrays */
} xf_tm_param;

/* One language adapter (frozen): L bottlenecks. */
typedef struct xf_tm_lang {
    char name[XF_ADAPTER_NAME_MAX];   /* adapter name; also its language code */
    xf_bottleneck *layer;             /* [L] */
    xf_invadapter *inv;               /* pfeiffer+inv: on the embeddings; NULL if none */
    xf_emb_hook emb;
} xf_tm_lang;

typedef struct xf_taskmodel {
    xf_encoder *enc;
    const char *prefix;               /* "bert." or "roberta." */
    int L, C;
    float p_drop;                     /* hidden_dropout_prob of the base */
    xf_task task;
    char name[XF_ADAPTER_NAME_MAX];   /* task adapter = head name */
    int reduction;
    int trainable;
    xf_adapter_set set;
    xf_ffn_hook hook;
    int nlang;
    xf_tm_lang lang[XF_TM_MAX_LANG];
    xf_fusion *fuse;                  /* [L]: Fuse(lang_1 .. lang_k); NULL = none */
    xf_bottleneck *task_ad;           /* [L]; NULL = no task adapter (head only) */
    /* mlm + --inv (pfeiffer+inv language adapter being trained): its
     * invertible adapter, forward on the embeddings and inverse between the
     * MLM head's transform and its decoder; NULL otherwise */
    xf_invadapter *task_inv;
    xf_emb_hook inv_emb;
    xf_head_hook inv_head;
    /* the head of TASK (one of these is used) */
    xf_tag_head tag;
    xf_cls_head cls;
    xf_qa_head qa;
    xf_biaffine_head dep;
    /* trainable parameters and their AdamW state */
    int npar;
    xf_tm_param par[XF_TM_MAX_PARAMS];
    size_t ntrain;                    /* floats over all trainable parameters */
    float *adam_m, *adam_v;
    /* batch buffers */
    int B, T, cap;
    int32_t *ids, *types, *am;        /* [B*T] */
    float *dhid;                      /* [B*T*C] */
    float *logits;                    /* head outputs (tag [words,K], cls [B,K], qa [B*T,2]) */
    size_t logits_cap;
    int32_t *rows, *gold, *aux;       /* head index buffers */
    size_t rows_cap;
    xf_dep_sentence *sent;
    int sent_cap;
} xf_taskmodel;

/* Number of labels of TASK's head (pos 17, ner 7, nli 3, dep relations; qa 2). */
int xf_tm_head_labels(xf_task task);

/* A task model over ENC (taken over: freed with the model; frozen here) for
 * TASK, with an empty stack and a zero head.  PREFIX "bert." / "roberta.". */
xf_taskmodel *xf_tm_new(xf_encoder *enc, const char *prefix, xf_task task);
void xf_tm_free(xf_taskmodel *m);
/* Adds a frozen language adapter (tensors copied from TS, AdapterHub names
 * under m->prefix, name NAME), with its invertible adapter when TS holds
 * one ("invertible_adapters.NAME.*": applied to the embedding output, as
 * the adapters library does for task inference).  Dies when a second one is
 * added: several language adapters need AdapterFusion. */
void xf_tm_add_lang(xf_taskmodel *m, const char *name, const xf_tensorset *ts, const char *src);
/* Adds a frozen language adapter that a fusion will combine (not pushed on
 * the stack).  Only the first one's invertible adapter and MLM head are
 * used: adapter-transformers applies the invertible adapter of the
 * composition's first() adapter. */
void xf_tm_add_fused_lang(xf_taskmodel *m, const char *name, const xf_tensorset *ts,
                          const char *src);
/* Fuse(lang_1 .. lang_k) over the language adapters added with
 * xf_tm_add_fused_lang, pushed on every layer's stack.  Parameters from TS
 * (AdapterHub names under m->prefix, fusion.h) when TS is not NULL, else
 * 3.1's init from SEED.  TRAINABLE: gradients for the fusion parameters. */
void xf_tm_add_fusion(xf_taskmodel *m, const xf_tensorset *ts, const char *src, uint64_t seed,
                      int trainable);
/* Fusion training: only the fusion parameters are trainable (m->par lists
 * them; AdamW moments for them). */
void xf_tm_enable_fusion_training(xf_taskmodel *m);
/* Σ_layers 0.01·‖I − V‖²; adds its gradient when the fusion is trainable. */
double xf_tm_fusion_reg(xf_taskmodel *m);
/* Adds the task adapter NAME with REDUCTION (reduction 0 = no adapter,
 * head only), pushed last on every layer's stack. */
void xf_tm_add_task_adapter(xf_taskmodel *m, const char *name, int reduction);
/* Language-adapter training (task mlm) of pfeiffer+inv: adds a trainable
 * invertible adapter named as the task adapter (call after
 * xf_tm_add_task_adapter), installed as the encoder's embedding hook and,
 * inverted, as its MLM head hook (adapters library: invertible adapter on
 * the embedding output, inverse on the LM head's transformed states right
 * before the decoder). */
void xf_tm_add_task_invadapter(xf_taskmodel *m);
/* Random init of the task adapter (init_bert_weights), its invertible
 * adapter (nn.Linear default) and the head (the
 * tagging/classification/QA heads N(0, init_range); the biaffine head zero,
 * as the library). */
void xf_tm_init_weights(xf_taskmodel *m, uint64_t seed);
/* Makes the task adapter + head trainable: gradients, the parameter list
 * and zeroed AdamW moments. */
void xf_tm_enable_training(xf_taskmodel *m);
/* Fills m->par (names, shapes, data, grad) without allocating gradients
 * (for saving an eval-only model); called by xf_tm_enable_training too. */
void xf_tm_list_params(xf_taskmodel *m);

/* Forward over B examples (train: dropout with DROP_SEED).  With gold in
 * the examples, returns the loss; BACKWARD: also the gradients of the
 * trainable parameters (ACCUMULATED: zero them with xf_tm_zero_grads). */
float xf_tm_forward(xf_taskmodel *m, const xf_example *const *ex, int B, int train,
                    uint64_t drop_seed, int backward);
void xf_tm_zero_grads(xf_taskmodel *m);
/* Sum of squares of all trainable gradients (double, order fixed). */
double xf_tm_grad_sumsq(const xf_taskmodel *m);
/* AdamW step T (1-based) with learning rate LR on the trainable parameters,
 * gradients scaled by GSCALE first (clipping); returns non-finite count. */
size_t xf_tm_adamw(xf_taskmodel *m, const xf_adamw *opt, float lr, long t, float gscale);

#endif
