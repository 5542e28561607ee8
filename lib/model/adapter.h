/* adapter.h — bottleneck adapters as in AdapterHub adapter-transformers 3.1
 * (`pfeiffer` = SeqBn config, Stack composition) and the invertible adapter
 * of `pfeiffer+inv` (NICE coupling block).
 *
 * Pfeiffer adapter in one layer, placed after the FFN output (config:
 * original_ln_before, original_ln_after, residual_before_ln, no own LNs,
 * ReLU, reduction 16).  With h the FFN output (dense + dropout), x the
 * attention-block output and LN the layer's own output LayerNorm:
 *      a = LN(h + x);  o = up(relu(down(a))) + h;  y = LN(o + x)
 * Stack(a1, ..., aK): the LN is re-applied before each adapter:
 *      o0 = h;  ok = up_k(relu(down_k(LN(o(k-1) + x)))) + o(k-1);  y = LN(oK + x)
 * With no adapter (K = 0) this is the plain y = LN(h + x).
 * Init as adapter-transformers' init_weights="bert" (init_bert_weights):
 * both projections N(0, 0.02), biases 0 (not the later "mam_adapter" init
 * with a zero up-projection).
 *
 * AdapterFusion (fusion.h) is another kind of stack element: one step
 * "o = combine(o_prev, x)" per element; xf_adapter_step_* below is that step
 * for a single adapter, xf_fusion_step_* for a fusion, and
 * xf_adapter_layer_* only loops over the steps (Stack(Fuse(l1..lN), task)).
 *
 * All backwards ACCUMULATE (+=) into gradients (ops.h convention); a NULL
 * gradient pointer means "not needed" (frozen adapter, frozen LayerNorm).
 */
#ifndef XF_ADAPTER_H
#define XF_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#define XF_ADAPTER_MAX_STACK 8
#define XF_ADAPTER_NAME_MAX 64

/* One Pfeiffer bottleneck adapter of one layer, with its saved activations. */
typedef struct xf_bottleneck {
    char name[XF_ADAPTER_NAME_MAX];
    int layer, C, D;                    /* D = C / reduction */
    float *down_w, *down_b;             /* adapter_down.0: [D,C], [D] */
    float *up_w, *up_b;                 /* adapter_up:     [C,D], [C] */
    float *g_down_w, *g_down_b, *g_up_w, *g_up_b;   /* gradients; NULL when frozen */
    float *params, *grads;              /* the arenas the views above point into */
    /* saved by the forward for N <= cap tokens */
    int cap;
    float *s, *mean, *rstd;             /* LN input o_prev + x [N,C] and its stats [N] */
    float *z, *r;                       /* down pre-activation and its ReLU [N,D] */
} xf_bottleneck;

/* Allocates a bottleneck C -> C/reduction with zero parameters; gradients
 * when TRAINABLE. */
void xf_bottleneck_init(xf_bottleneck *b, const char *name, int layer, int C,
                        int reduction, int trainable);
void xf_bottleneck_free(xf_bottleneck *b);
/* init_bert_weights: N(0, 0.02) weights, zero biases; draws from SEED and
 * the layer number (stream XF_STREAM_INIT). */
void xf_bottleneck_init_weights(xf_bottleneck *b, uint64_t seed);
size_t xf_bottleneck_nparams(const xf_bottleneck *b);
/* Grows the saved-activation buffers to N tokens. */
void xf_bottleneck_reserve(xf_bottleneck *b, int N);

/* One stack step: o[N,C] = up(relu(down(LN(prev + x)))) + prev; saves what
 * the backward needs.  o must not alias prev. */
void xf_adapter_step_forward(xf_bottleneck *b, float *o, const float *prev, const float *x,
                             const float *ln_w, const float *ln_b, float eps, int N);
/* dprev += ∂/∂prev, dx += ∂/∂x, LN and adapter parameter gradients += ...
 * from dout[N,C]; scratch needs N*(2C + 2D) floats. */
void xf_adapter_step_backward(xf_bottleneck *b, float *dprev, float *dx, float *dln_w,
                              float *dln_b, const float *dout, const float *ln_w,
                              const float *ln_b, int N, float *scratch);

struct xf_fusion;

/* The adapters of one layer: the stack, applied in order (Stack(lang, task)
 * = { lang, task }), and what the composition keeps for the backward.
 * Element k is the bottleneck stack[k], or the fusion fuse[k] when that is
 * not NULL. */
typedef struct xf_adapter_layer {
    int n;
    xf_bottleneck *stack[XF_ADAPTER_MAX_STACK];
    struct xf_fusion *fuse[XF_ADAPTER_MAX_STACK];
    int C, cap;
    float *sf, *mean, *rstd;   /* final LN input oK + x [cap,C] and its stats */
} xf_adapter_layer;

void xf_adapter_layer_init(xf_adapter_layer *L, int C);
/* Appends an adapter (not owned) to the stack. */
void xf_adapter_layer_push(xf_adapter_layer *L, xf_bottleneck *b);
/* Appends a fusion (not owned) to the stack. */
void xf_adapter_layer_push_fusion(xf_adapter_layer *L, struct xf_fusion *f);
void xf_adapter_layer_free(xf_adapter_layer *L);
/* Floats of SCRATCH that forward and backward need for N tokens; scratch
 * holds nothing between calls, so all layers can share one buffer. */
size_t xf_adapter_layer_scratch_floats(const xf_adapter_layer *L, int N);
/* y[N,C] = LN(oK + x) as above (no dropout: the FFN hook's forward is the
 * training one). */
void xf_adapter_layer_forward(xf_adapter_layer *L, float *y, const float *h, const float *x,
                              const float *ln_w, const float *ln_b, float eps, int N,
                              float *scratch);
/* dh += , dx += , dln_w/dln_b += (may be NULL) from dy. */
void xf_adapter_layer_backward(xf_adapter_layer *L, float *dh, float *dx, float *dln_w,
                               float *dln_b, const float *dy, const float *h, const float *x,
                               const float *ln_w, const float *ln_b, float eps, int N,
                               float *scratch);

/* The adapters of a whole encoder: one xf_adapter_layer per layer and one
 * scratch buffer for all.  Its address is the ctx of the encoder's FFN hook
 * (encoder.h xf_ffn_hook):
 *   { .ctx = set, .forward = xf_adapters_ffn_forward,
 *     .backward = xf_adapters_ffn_backward }
 * Memory kept per layer for the backward, N tokens: (1 + K)·N·C + 2K·N·D
 * floats for K stacked adapters (none in forward-only mode). */
typedef struct xf_adapter_set {
    int L, C;
    xf_adapter_layer *layer;   /* [L] */
    float *scratch;
    size_t scratch_cap;
    int forward_only;          /* keep nothing for a backward (evaluation) */
} xf_adapter_set;

void xf_adapter_set_init(xf_adapter_set *s, int L, int C);
void xf_adapter_set_free(xf_adapter_set *s);
/* Forward only (ON = 1): every layer's activations live in the one scratch
 * buffer, reused layer after layer, and the buffers kept so far are freed;
 * a backward then dies.  The outputs are the same bits either way, except
 * for a fusion, whose forward-only path folds its parameters (equal up to
 * float rounding, fusion.h). */
void xf_adapter_set_forward_only(xf_adapter_set *s, int on);
void xf_adapters_ffn_forward(void *ctx, int layer, float *y, const float *h, const float *x,
                             const float *ln_w, const float *ln_b, float eps, int N, int C,
                             int train);
void xf_adapters_ffn_backward(void *ctx, int layer, float *dh, float *dx, float *dln_w,
                              float *dln_b, const float *dy, const float *h, const float *x,
                              const float *ln_w, const float *ln_b, float eps, int N, int C);

/* A named parameter tensor, AdapterHub naming without the model prefix
 * ("bert." / "roberta."), e.g.
 * "encoder.layer.3.output.adapters.NAME.adapter_down.0.weight". */
typedef struct xf_adapter_tensor {
    char name[160];
    float *data, *grad;   /* grad NULL when frozen */
    int ndim;
    int64_t shape[3];
} xf_adapter_tensor;
/* Writes the 4 tensors of B into out; returns 4. */
int xf_bottleneck_tensors(xf_bottleneck *b, xf_adapter_tensor *out);

/* ---- invertible adapter (NICECouplingBlock, reduction factor 2) ----
 * x = [x1 | x2], x1 the first C/2 features:
 *      y1 = x1 + F(x2);  y2 = x2 + G(y1)            (forward, on the embeddings)
 *      x2 = y2 - G(y1);  x1 = y1 - F(x2)            (inverse, before the MLM decoder)
 * F = Linear(C2 -> C1/2) -> ReLU -> Linear(C1/2 -> C1), G = Linear(C1 -> C2/2)
 * -> ReLU -> Linear(C2/2 -> C2), C1 = C/2, C2 = C - C/2.  The forward and the
 * inverse keep separate saved activations (an MLM step runs both). */
typedef struct xf_inv_mlp {
    int in, hid, out;
    float *w0, *b0, *w2, *b2;          /* "0" and "2" as in nn.Sequential */
    float *g_w0, *g_b0, *g_w2, *g_b2;
} xf_inv_mlp;

typedef struct xf_inv_saved {
    int cap;
    float *in;          /* the MLP input that is not reconstructed: forward x2, inverse y1 [N,max(C1,C2)] */
    float *mid;         /* the other half: forward y1, inverse x2 */
    float *zF, *rF, *zG, *rG;   /* pre-activations and their ReLU [N,hid] */
} xf_inv_saved;

typedef struct xf_invadapter {
    char name[XF_ADAPTER_NAME_MAX];
    int C, C1, C2;
    xf_inv_mlp F, G;
    float *params, *grads;
    xf_inv_saved fwd, inv;
} xf_invadapter;

void xf_invadapter_init(xf_invadapter *a, const char *name, int C, int trainable);
void xf_invadapter_free(xf_invadapter *a);
/* PyTorch nn.Linear default init (kaiming_uniform(a=√5): U(±1/√fan_in) for
 * weights and biases), as NICECouplingBlock leaves it; from SEED. */
void xf_invadapter_init_weights(xf_invadapter *a, uint64_t seed);
size_t xf_invadapter_nparams(const xf_invadapter *a);
/* Writes the 8 tensors ("invertible_adapters.NAME.F.0.weight", ...); returns 8. */
int xf_invadapter_tensors(xf_invadapter *a, xf_adapter_tensor *out);
/* y[N,C] = forward(x); y must not alias x. */
void xf_invadapter_forward(xf_invadapter *a, float *y, const float *x, int N);
/* dx += from dy, parameter gradients += (after xf_invadapter_forward). */
void xf_invadapter_backward(xf_invadapter *a, float *dx, const float *dy, int N);
/* x[N,C] = inverse(y); x must not alias y. */
void xf_invadapter_inverse(xf_invadapter *a, float *x, const float *y, int N);
/* dy += from dx, parameter gradients += (after xf_invadapter_inverse). */
void xf_invadapter_inverse_backward(xf_invadapter *a, float *dy, const float *dx, int N);
/* encoder.h xf_emb_hook functions (ctx = the xf_invadapter). */
void xf_invadapter_emb_forward(void *ctx, float *y, const float *x, int N, int C, int train);
void xf_invadapter_emb_backward(void *ctx, float *dx, const float *dy, const float *x, int N, int C);
/* encoder.h xf_head_hook functions (ctx = the xf_invadapter): the inverse
 * between the MLM head's transform and its decoder, and its backward. */
void xf_invadapter_head_forward(void *ctx, float *y, const float *x, int M, int C);
void xf_invadapter_head_backward(void *ctx, float *dx, const float *dy, const float *x, int M, int C);

#endif
