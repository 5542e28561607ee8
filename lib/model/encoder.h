/* encoder.h — the BERT / XLM-R encoder with its masked-LM head, forward and
 * backward, on BLIS (through ops.h / attention.h).
 *
 * Semantics are those of Hugging Face transformers 4.21 modeling_bert.py /
 * modeling_roberta.py (BertForMaskedLM, RobertaForMaskedLM, eager attention):
 *
 *   positions  BERT 0..T-1; RoBERTa/XLM-R cumsum(ids≠pad)·(ids≠pad) + pad
 *              (first real token at pad+1)
 *   embeddings e = dropout(LN(wte[ids] + wtt[types] + wpe[pos]))
 *              (nn.Embedding padding_idx: the pad row of wte — and of wpe
 *              for RoBERTa — receives no gradient from the lookup)
 *   layer l    qkv = x·Wqkvᵀ + b (q,k,v fused: [3C,C], split again on save)
 *              a = LN1(dropout(attention(qkv)·Woᵀ + bo) + x)
 *              h = dropout(gelu(a·Wiᵀ + bi)·Wfoᵀ + bfo)       (exact erf GELU)
 *              y = LN2(h + a)                    ← the FFN hook replaces this
 *   MLM head   logits = LN(gelu(y·Wtᵀ + bt))·Wdecᵀ + bdec, Wdec = wte unless
 *              untied; decoded ONLY at the masked positions (same loss as
 *              HF's cross-entropy with -100 labels, ~6× less work)
 *   pooler     tanh(Wp·y[CLS] + bp), for task heads that use it
 *   dropout    hidden p_hidden, attention-probs p_attn, only when training;
 *              masks are counter-based draws (rng.h) keyed by (seed, site,
 *              element), so results do not depend on the thread count.
 *
 * Memory (llm.c style): parameters, gradients and activations each live in
 * one arena with named views; AdamW moments are two more arenas laid out as
 * the parameters (xf_encoder_nparams floats each, offsets as in the
 * parameter table).  Activations keep only what the backward needs; the
 * GELU output and, beyond a memory budget, attention probabilities are
 * recomputed in the backward.  The backward consumes the saved activations
 * (one backward per forward).  Forward only (xf_encoder_set_forward_only:
 * evaluation) keeps nothing for a backward: one layer's buffers serve every
 * layer, no attention probabilities, LayerNorm statistics or GELU inputs
 * (8·N·C floats for a BERT-shaped model with FF = 4C, against ~12·N·C per
 * layer plus B·H·T·T per layer), with the same bits in the hidden states.
 *
 * Hooks for adapters (the encoder itself implements no adapter):
 *  - xf_ffn_hook replaces, in every layer, y = LN2(h + x) where h is the FFN
 *    output after dense + dropout and x the attention-block output (a
 *    above).  forward writes y[N,C]; backward gets dy and ACCUMULATES (+=)
 *    into dh, dx (zeroed by the encoder before the call) and into dln_w,
 *    dln_b (the LN2 gradients; NULL when the base is frozen).  The hook keeps
 *    whatever activations of its own it needs; h and x are the encoder's
 *    saved copies, valid until the next forward.
 *  - xf_emb_hook transforms the embedding output (after dropout) before
 *    layer 0 (invertible adapters): forward y = f(x), backward dx += ...
 *  - xf_head_hook transforms the MLM head's transformed rows (after its
 *    dense → activation → LayerNorm) right before the decoder: the inverse
 *    of an invertible adapter, where adapter-transformers 3.1's
 *    BertLMPredictionHead / RobertaLMHead call inv_lang_adapter(rev=True).
 *    On the M gathered rows only (row-wise), forward y = f(x), backward
 *    dx += ... .  Only xf_encoder_mlm_step calls it.  Without a hook the
 *    decoder reads the LayerNorm output directly (the same bits as before
 *    hooks).
 *  - frozen base (xf_encoder_freeze): the backward still propagates through
 *    every layer (so hooks and heads get gradients) but computes no
 *    parameter gradient of the base (dgrad-only GEMMs) and no gradient arena
 *    is allocated.  xf_encoder_freeze_base_only keeps the MLM head's own
 *    tensors trainable (language-adapter training).
 *  - task heads read xf_encoder_hidden() (final hidden states [B,T,C]) after
 *    a forward and call xf_encoder_backward(e, dhidden) with their gradient.
 */
#ifndef XF_ENCODER_H
#define XF_ENCODER_H

#include <stddef.h>
#include <stdint.h>

typedef struct xf_ffn_hook {
    void *ctx;
    void (*forward)(void *ctx, int layer, float *y, const float *h, const float *x,
                    const float *ln_w, const float *ln_b, float eps, int N, int C, int train);
    void (*backward)(void *ctx, int layer, float *dh, float *dx, float *dln_w, float *dln_b,
                     const float *dy, const float *h, const float *x, const float *ln_w,
                     const float *ln_b, float eps, int N, int C);
} xf_ffn_hook;

typedef struct xf_emb_hook {
    void *ctx;
    /* y[N,C] = f(x[N,C]) */
    void (*forward)(void *ctx, float *y, const float *x, int N, int C, int train);
    /* dx[N,C] += ∂f/∂x ᵀ dy  (dx zeroed by the encoder) */
    void (*backward)(void *ctx, float *dx, const float *dy, const float *x, int N, int C);
} xf_emb_hook;

typedef struct xf_head_hook {
    void *ctx;
    /* y[M,C] = f(x[M,C]), the M masked rows after the head's transform */
    void (*forward)(void *ctx, float *y, const float *x, int M, int C);
    /* dx[M,C] += ∂f/∂x ᵀ dy  (dx zeroed by the encoder; after forward) */
    void (*backward)(void *ctx, float *dx, const float *dy, const float *x, int M, int C);
} xf_head_hook;

/* The shape of a model (from config.json, see xf_encoder_dims_from_config in
 * encoder_io.h). */
typedef struct xf_enc_dims {
    int vocab, hidden, layers, heads, inter, max_pos, type_vocab, pad_id;
    int roberta;              /* RoBERTa/XLM-R: positions and "roberta."/"lm_head." names */
    float ln_eps;             /* layer_norm_eps */
    float p_hidden, p_attn;   /* hidden_dropout_prob, attention_probs_dropout_prob */
    float init_range;         /* initializer_range */
} xf_enc_dims;

/* One tensor of the parameter table: its HF name (the fused QKV tensors are
 * named "...attention.self.qkv.{weight,bias}" and split on export), offset
 * and size in the arena, shape, and whether weight decay applies. */
typedef struct xf_enc_param {
    char name[96];
    size_t off, n;
    int ndim;
    int64_t shape[2];
    int decay;
} xf_enc_param;

typedef struct xf_enc_layer {
    float *qkv_w, *qkv_b;       /* [3C,C], [3C] */
    float *ao_w, *ao_b;         /* attention.output.dense [C,C], [C] */
    float *ln1_w, *ln1_b;       /* attention.output.LayerNorm */
    float *fi_w, *fi_b;         /* intermediate.dense [FF,C], [FF] */
    float *fo_w, *fo_b;         /* output.dense [C,FF], [C] */
    float *ln2_w, *ln2_b;       /* output.LayerNorm */
} xf_enc_layer;

/* Named views into one arena (parameters, or gradients laid out alike). */
typedef struct xf_enc_views {
    float *wte, *wpe, *wtt;     /* [V,C], [P,C], [TV,C] */
    float *eln_w, *eln_b;
    xf_enc_layer *layer;        /* [L] */
    float *pool_w, *pool_b;     /* pooler.dense [C,C], [C] */
    float *head_w, *head_b;     /* MLM transform dense [C,C], [C] */
    float *hln_w, *hln_b;       /* MLM transform LayerNorm */
    float *dec_b;               /* decoder bias [V] */
    float *dec_w;               /* [V,C]: == wte when tied */
} xf_enc_views;

typedef struct xf_encoder xf_encoder;

/* ---- construction ---- */
/* A model of shape D with all parameters zero (the pooler and MLM head
 * included; TIED: decoder weight shared with the word embeddings). */
xf_encoder *xf_encoder_new(const xf_enc_dims *d, int tied);
void xf_encoder_free(xf_encoder *e);
/* Frees the gradients, activations and head buffers (the weights stay), e.g.
 * before exporting a big model; they come back on demand. */
void xf_encoder_release(xf_encoder *e);
/* HF _init_weights: Linear/Embedding N(0, init_range) (pad rows of
 * embeddings with padding_idx zeroed), biases 0, LayerNorm 1/0.  Draws are
 * counter-based from SEED (stream XF_STREAM_INIT). */
void xf_encoder_init_random(xf_encoder *e, uint64_t seed);
/* The same for entry K of the parameter table only. */
void xf_encoder_init_param(xf_encoder *e, int k, uint64_t seed);
/* Whether the pooler is part of the model (loaded, or initialised by
 * xf_encoder_init_random); exporters leave it out otherwise. */
int xf_encoder_has_pooler(const xf_encoder *e);
void xf_encoder_set_has_pooler(xf_encoder *e, int on);

const xf_enc_dims *xf_encoder_dims(const xf_encoder *e);
int xf_encoder_tied(const xf_encoder *e);
size_t xf_encoder_nparams(const xf_encoder *e);          /* floats in the arena */
float *xf_encoder_params(xf_encoder *e);
const xf_enc_views *xf_encoder_weights(const xf_encoder *e);
/* The parameter table (n entries); "bert."/"roberta." prefixed HF names. */
const xf_enc_param *xf_encoder_param_table(const xf_encoder *e, int *n);
/* Gradient arena (NULL before xf_encoder_enable_grads or when frozen). */
float *xf_encoder_grads(xf_encoder *e);
const xf_enc_views *xf_encoder_grad_views(const xf_encoder *e);

/* ---- training setup ---- */
/* Allocates the gradient arena (no-op when frozen). */
void xf_encoder_enable_grads(xf_encoder *e);
void xf_encoder_zero_grads(xf_encoder *e);
/* Frozen base: no parameter gradients for any encoder weight (see top). */
void xf_encoder_freeze(xf_encoder *e);
/* Frozen base, trainable MLM head (adapters library train_adapter on a
 * model with an LM head: only base_model is frozen): as xf_encoder_freeze,
 * plus a small gradient arena for the head's own tensors — transform dense
 * and LayerNorm, decoder bias, and the decoder weight when untied (tied, it
 * is the frozen word embeddings and gets none).  xf_encoder_mlm_step fills
 * it; xf_encoder_zero_grads zeroes it. */
void xf_encoder_freeze_base_only(xf_encoder *e);
/* Those gradients (views head_w, head_b, hln_w, hln_b, dec_b, dec_w —
 * dec_w NULL when tied; every other view NULL), or NULL when the head is
 * not trainable. */
const xf_enc_views *xf_encoder_head_grad_views(const xf_encoder *e);
void xf_encoder_set_ffn_hook(xf_encoder *e, const xf_ffn_hook *h);   /* NULL = plain LN */
void xf_encoder_set_emb_hook(xf_encoder *e, const xf_emb_hook *h);   /* NULL = identity */
void xf_encoder_set_head_hook(xf_encoder *e, const xf_head_hook *h); /* NULL = identity */
/* Sizes the activation arena for batches up to B×T (grows on demand in
 * forward too; call it first to fail early with the size asked).  Forward
 * only, the arena is sized in tokens: any batch of at most B·T tokens fits. */
void xf_encoder_reserve(xf_encoder *e, int B, int T);
/* Memory for attention probabilities [B,H,T,T] kept from the forward for
 * the backward (default 512 MiB): the first layers that fit keep theirs, the
 * rest share one buffer and recompute them in the backward.  0 recomputes
 * all but the last layer's; SIZE_MAX keeps all.  Results are identical.
 * The environment variable XF_PROBS_BUDGET_MB sets the default. */
void xf_encoder_set_probs_budget(xf_encoder *e, size_t bytes);
/* Forward only (ON = 1): forwards keep no activation for a backward (see
 * Memory above) and xf_encoder_backward dies; dropout still follows TRAIN.
 * An encoder that can take no gradient at all — neither
 * xf_encoder_enable_grads nor a freeze was called — runs forward only
 * anyway (xf-mlmstep --eval).  The arena takes the new layout at the next
 * reserve or forward.  Hidden states, pooler and MLM head outputs are bit
 * for bit those of the training layout. */
void xf_encoder_set_forward_only(xf_encoder *e, int on);
/* Whether the next forward runs forward only (set, or no gradient possible). */
int xf_encoder_forward_only(const xf_encoder *e);
/* Bytes of the activation arena now allocated (0 before the first
 * forward or reserve; the MLM head and pooler buffers not included). */
size_t xf_encoder_arena_bytes(const xf_encoder *e);

/* ---- forward / backward ---- */
/* ids, types (NULL = all 0), am (1 = token, 0 = padding; NULL = all 1):
 * [B,T].  TRAIN enables dropout, with masks drawn from DROP_SEED.  Dies if
 * an id, type or position is out of range. */
void xf_encoder_forward(xf_encoder *e, const int32_t *ids, const int32_t *types,
                        const int32_t *am, int B, int T, int train, uint64_t drop_seed);
/* Final hidden states [B,T,C] of the last forward. */
float *xf_encoder_hidden(xf_encoder *e);
/* Backward of the last forward (train mode or not) from DHIDDEN [B,T,C]:
 * accumulates parameter gradients (unless frozen) and calls the hooks'
 * backwards.  DHIDDEN may be modified.  At most once per forward: it
 * consumes saved activations.  Call xf_encoder_enable_grads (and
 * xf_encoder_zero_grads) before, unless frozen. */
void xf_encoder_backward(xf_encoder *e, float *dhidden);

/* MLM head over M gathered positions POS (flat indices into [B·T]) with
 * LABELS [M]: returns the mean cross-entropy.  LOGITS_OUT, if not NULL,
 * receives a pointer to the [M,V] logits (valid until the next call).
 * With BACKWARD set, also runs the whole backward (head, then encoder) with
 * d(loss) = 1.  M == 0 returns 0 and does nothing. */
float xf_encoder_mlm_step(xf_encoder *e, const int32_t *pos, const int32_t *labels, int M,
                          int backward, const float **logits_out);

/* Pooler over the [CLS] rows of the last forward: pooled[B,C]. */
void xf_encoder_pool_forward(xf_encoder *e, float *pooled);
/* dhidden[B,T,C] += gradient from dpooled[B,C] (needs pool_forward first;
 * accumulates the pooler's parameter gradients unless frozen). */
void xf_encoder_pool_backward(xf_encoder *e, float *dhidden, const float *dpooled);

/* FLOPs of one forward of the encoder layers over B×T tokens (GEMMs and
 * attention), and of the MLM head over M rows; the backward is twice. */
double xf_encoder_forward_flops(const xf_encoder *e, int B, int T);
double xf_encoder_head_flops(const xf_encoder *e, int M);

#endif
