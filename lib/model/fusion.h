/* fusion.h — AdapterFusion of N Pfeiffer language adapters, the "dynamic"
 * fusion config, as adapter-transformers 3.1 computes it.
 *
 * What the 3.1 source says (read for this file):
 *  - configuration.py DynamicAdapterFusionConfig: key = query = value = True,
 *    query_before_ln = False, residual_before = False, temperature = False,
 *    value_before_softmax = True, value_initialized = True,
 *    regularization = True ("static" is the same without a value matrix and
 *    without regularization).  Later versions add dropout_prob (None: the
 *    base's attention_probs_dropout_prob, which 3.1 always uses).
 *  - layer.py AdapterLayer.adapter_fusion: the config of the LAST fused
 *    adapter decides the pre-processing (get_adapter_preparams / pre_forward);
 *    for Pfeiffer (original_ln_before, residual_before_ln) that is
 *        residual = h (the FFN output, before the LayerNorm),
 *        a = LN(h + x) (the layer's own output LayerNorm),
 *        query = a (query_before_ln = False: after the LN).
 *    Every fused adapter i runs on a and returns, besides its output, its
 *    bare up-projection u_i = up_i(relu(down_i(a))) (no residual, scaling 1);
 *    the u_i are stacked to [B,T,N,C] and passed as key and value.
 *  - modeling.py BertFusion.forward(query, key, value, residual):
 *        q = Q a + bq;  k_i = K u_i + bk;  v_i = V u_i (value_before_softmax)
 *        s_i = q·k_i;  s = dropout(s) (attention_probs_dropout_prob, training
 *        only, on the scores before the softmax);  p = softmax(s / T), T = 1
 *        ctx = Σ_i p_i v_i;  out = ctx + residual (residual_before = False)
 *    Q, K: nn.Linear(C,C) with init_bert_weights (N(0, 0.02), bias 0);
 *    V: nn.Linear(C,C,bias=False), with value_initialized its weight is
 *    set to 1e-6 everywhere and 1 on the diagonal.
 *  - Under Stack(Fuse(l1..lN), task) (adapter_stack case "nested Fuse") the
 *    fusion output o = ctx + h is the hidden state the task adapter's own
 *    pre_forward sees (residual o, LN(o + x)), and post_forward applies the
 *    final LN(o_task + x): the fusion is exactly one more stack step
 *    "o = step(o_prev, x)" of adapter.h with o_prev = h.
 *  - Regularisation (model_mixin get_fusion_regularization_loss):
 *    Σ_layers 0.01·‖I − V‖²_F.  3.1's AdapterTrainer adds its gradient in a
 *    callback at on_step_end, i.e. after the optimizer step (the gradient is
 *    carried into the next step); xf adds it to the loss of the same step.
 *  - The current adapters library (adapter-hub/adapters) computes the same
 *    BertFusion; its compose_fuse takes query / residual the same way.
 *  - Parameter names: "encoder.layer.L.output.adapter_fusion_layer.NAME.
 *    {query,key}.{weight,bias}" and "...NAME.value.weight", NAME the adapter
 *    names joined by "," in fusion order.
 *
 * How xf computes it (same values, fewer FLOPs; the parity test checks it
 * against the formulas above): by linearity
 *     s_i = (Kᵀ q)·u_i + q·bk   and   ctx = V (Σ_i p_i u_i),
 * so a layer costs two C×C products for the query and one for the value
 * whatever N is.  Forward only (evaluation) folds the parameters further:
 *     s_i = r_i·(up_iᵀ W a + up_iᵀ Kᵀbq) + a·(Wᵀb_i + Qᵀbk) + b_i·Kᵀbq + bq·bk
 *     (W = KᵀQ, u_i = up_i r_i + b_i, r_i the adapter's ReLU output),
 *     V u_i = (V·up_i) r_i + V·b_i
 * so evaluation adds only small C×D products per adapter and layer (no C×C
 * one) to the plain adapter's cost; the values equal the training-layout forward up to
 * float rounding (not bit for bit).  With N = 1 and V = I both paths give
 * the plain adapter's bits (p = 1 exactly, V·u = u exactly).
 *
 * All backwards ACCUMULATE (+=); NULL gradients mean frozen.  The fused
 * adapters are frozen here (their gradients are computed only if they have
 * gradient arrays).
 */
#ifndef XF_FUSION_H
#define XF_FUSION_H

#include <stddef.h>
#include <stdint.h>

#include "adapter.h"

#define XF_FUSION_MAX 8
#define XF_FUSION_NAME_MAX (XF_FUSION_MAX * XF_ADAPTER_NAME_MAX)
/* dropout sites of the fusion scores: (0x900 + layer) << 40, disjoint from
 * the encoder's (k << 40, small k) and the heads' (0x800 << 40) */
#define XF_FUSION_DROPOUT_OFFSET(layer) ((uint64_t)(0x900 + (layer)) << 40)

/* What a fusion forward keeps for the backward (or, forward only, scratch). */
typedef struct xf_fusion_acts {
    float *s, *mean, *rstd;   /* LN input prev + x [N,C], its stats [N] */
    float *a;                 /* LN(s): query and every adapter's input [N,C] */
    float *z, *r;             /* down pre-activations, ReLU [n][N,D] (forward only: [N,D] reused) */
    float *u;                 /* up-projections u_i [n][N,C] */
    float *q, *qk;            /* q = Q a + bq, qk = Kᵀ q [N,C] (forward only: NULL) */
    float *p;                 /* softmax(dropout(scores)) [N,n] */
    float *mix;               /* Σ_i p_i u_i [N,C] (forward only: NULL) */
} xf_fusion_acts;

typedef struct xf_fusion {
    char name[XF_FUSION_NAME_MAX];     /* "eng,hin,zho" */
    int layer, C, n, D;                /* D: the largest bottleneck */
    xf_bottleneck *ad[XF_FUSION_MAX];  /* the fused adapters of this layer (not owned) */
    float *q_w, *q_b, *k_w, *k_b, *v_w;          /* [C,C] [C] [C,C] [C] [C,C] */
    float *g_q_w, *g_q_b, *g_k_w, *g_k_b, *g_v_w; /* NULL when frozen */
    float *params, *grads;
    float p_drop;                      /* dropout on the scores (training) */
    uint64_t drop_seed;                /* set before each training forward */
    /* forward only (evaluation): products of the parameters, computed on the
     * first forward-only call after a change (a kept forward or
     * xf_fusion_params_changed marks them stale) */
    int pre_valid;
    float *pre;                        /* the arena of the views below */
    float *w_qk, *b_qk;                /* W = KᵀQ [C,C] as a Linear weight, Kᵀbq [C] */
    float *wup[XF_FUSION_MAX], *hup[XF_FUSION_MAX];  /* up_iᵀW [D_i,C] (a Linear weight), up_iᵀKᵀbq [D_i] */
    float *gs[XF_FUSION_MAX];          /* Wᵀb_i + Qᵀbk [C] */
    float cs[XF_FUSION_MAX];           /* b_i·Kᵀbq + bq·bk */
    float *vup[XF_FUSION_MAX], *vb[XF_FUSION_MAX];   /* V·up_i [C,D_i], V·b_i [C] */
    int train;                         /* the kept forward ran with dropout */
    int cap;                           /* tokens the saved activations hold */
    float *saved;
    xf_fusion_acts acts;
} xf_fusion;

/* A fusion of the N adapters AD (all of one layer and hidden size C), zero
 * parameters, gradients when TRAINABLE. */
void xf_fusion_init(xf_fusion *f, xf_bottleneck *const *ad, int n, int layer, int C,
                    int trainable);
void xf_fusion_free(xf_fusion *f);
size_t xf_fusion_nparams(const xf_fusion *f);
/* 3.1's init: Q, K N(0, 0.02) weights and zero biases (from SEED and the
 * layer, stream XF_STREAM_INIT); V = I with 1e-6 off the diagonal. */
void xf_fusion_init_weights(xf_fusion *f, uint64_t seed);
/* Writes the 5 tensors of F into out (names as above, without the model
 * prefix); returns 5. */
int xf_fusion_tensors(xf_fusion *f, xf_adapter_tensor *out);
/* Call after changing F's (or its adapters') parameters other than by a
 * training step: the forward-only products are recomputed. */
void xf_fusion_params_changed(xf_fusion *f);
/* Frees the saved activations (forward-only use). */
void xf_fusion_drop_saved(xf_fusion *f);

/* Floats of a forward-only xf_fusion_acts for N tokens, and of the
 * backward's scratch. */
size_t xf_fusion_fwd_floats(const xf_fusion *f, int N, int keep);
size_t xf_fusion_bwd_scratch_floats(const xf_fusion *f, int N);
/* Lays out acts over BUF (xf_fusion_fwd_floats(f, N, keep) floats). */
xf_fusion_acts xf_fusion_acts_at(const xf_fusion *f, float *buf, int N, int keep);

/* One stack step o[N,C] = ctx + prev as above; ACTS NULL: into the fusion's
 * own saved activations (for a backward), else into ACTS (scratch).  TRAIN
 * applies the score dropout.  o must not alias prev. */
void xf_fusion_step_forward(xf_fusion *f, const xf_fusion_acts *acts, float *o,
                            const float *prev, const float *x, const float *ln_w,
                            const float *ln_b, float eps, int N, int train);
/* dprev += , dx += , LN and fusion gradients += from dout (after a kept
 * forward); scratch: xf_fusion_bwd_scratch_floats. */
void xf_fusion_step_backward(xf_fusion *f, float *dprev, float *dx, float *dln_w,
                             float *dln_b, const float *dout, const float *ln_w,
                             const float *ln_b, int N, float *scratch);

/* 0.01·‖I − V‖²_F of this layer; adds its gradient to g_v_w when present. */
double xf_fusion_reg(xf_fusion *f);

#endif
