/* encoder.c — the BERT / XLM-R encoder, forward and backward (encoder.h).
 *
 * Semantics follow HF transformers 4.21 modeling_bert.py / modeling_roberta.py;
 * the layout follows llm.c: one arena each for parameters, gradients and
 * activations, with named views.  Dropout sites get disjoint counter ranges
 * (site << 40), so every mask is a pure function of (seed, site, element).
 */
#include "encoder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "ops.h"
#include "ops_kernels.h"
#include "rng.h"
#include "util.h"

/* Saved activations of one layer (views into the activation arena). */
typedef struct layer_acts {
    float *qkv;              /* [N,3C] */
    float *att;              /* [N,C] attention output before the out-projection */
    float *r1;               /* [N,C] LN1 input: dropout(att·Woᵀ+bo) + x */
    float *m1, *s1;          /* [N] LN1 mean, rstd */
    float *a;                /* [N,C] LN1 output (attention-block output) */
    float *fi;               /* [N,FF] intermediate pre-GELU */
    float *h;                /* [N,C] FFN output after dense + dropout */
    float *m2, *s2;          /* [N] LN2 mean, rstd */
    float *y;                /* [N,C] layer output */
    float *probs;            /* [B,H,T,T]; shared across layers when recomputing */
} layer_acts;

struct xf_encoder {
    xf_enc_dims d;
    int tied, frozen, has_pooler;
    xf_enc_param *ptab;
    int nptab;
    size_t nparams;
    float *params, *grads;
    void *params_raw;        /* the allocation params lies in (alloc_zeroed) */
    xf_enc_views w, g;
    /* frozen base with a trainable MLM head (xf_encoder_freeze_base_only):
     * gradients of the head tensors only, views hg (the rest NULL) */
    float *head_grads;
    size_t head_off, head_n;   /* the head's span of the parameter table */
    xf_enc_views hg;
    const xf_ffn_hook *ffn_hook;
    const xf_emb_hook *emb_hook;
    const xf_head_hook *head_hook;
    size_t probs_budget;     /* bytes of attention probs kept per layer */
    int fwd_only;            /* xf_encoder_set_forward_only */

    /* activations: the training layout (la, sized for cap_B×cap_T) or the
     * forward-only one (fo_*, sized for cap_N tokens), acts_fwd_only says
     * which; acts_bytes is the whole (floats and ints) */
    int acts_fwd_only;
    size_t cap_N, acts_bytes;
    float *fo_xy;            /* [N,C] the residual stream: layer input, then its output */
    float *fo_a;             /* [N,C] attention-block output (LN1) */
    float *fo_r;             /* [N,C] LN1 input, then LN2 input */
    float *fo_w;             /* qkv [N,3C] + att [N,C], then fi [N,FF] + h [N,C] */
    int cap_B, cap_T;
    int probs_kept;          /* layers 0..probs_kept-1 keep their probs */
    float *acts;
    int32_t *ids, *types, *am, *pos;
    float *emb_sum, *emb_m, *emb_s, *emb_out, *x0;
    layer_acts *la;
    float *ffa, *ffb;        /* [N,FF] scratch */
    float *dqkv;             /* [N,3C] scratch */
    float *sc[5];            /* [N,C] scratch */
    /* last forward */
    int B, T, train, last_fwd_only;
    uint64_t seed;
    /* MLM head, sized for cap_M rows */
    int cap_M;
    float *hm, *ht, *hu, *hz, *hd, *hmean, *hrstd, *logits, *dlogits;
    float *hx;               /* [cap_M,C] gathered rows before the head hook (hook only) */
    /* pooler */
    float *pool_in, *pooled;
    int pool_B;
};

#define SITE(k) ((uint64_t)(k) << 40)
#define SITE_EMB 0
#define SITE_PROBS(l) (1 + 3 * (l))
#define SITE_ATT_OUT(l) (2 + 3 * (l))
#define SITE_FFN_OUT(l) (3 + 3 * (l))

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* BYTES of zeros, 64-byte aligned (*RAW is what to free).  calloc leaves
 * the fresh pages of a big allocation untouched (glibc maps them zeroed and
 * skips the memset), so they cost no memory until written: xf_encoder_load
 * fills the parameters tensor by tensor while it frees the loaded copies,
 * instead of holding both in full. */
static float *alloc_zeroed(size_t bytes, void **raw)
{
    char *p = xcalloc(1, bytes + 64);
    *raw = p;
    return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/* ---- parameter table ---- */

static void add_param(xf_encoder *e, size_t *off, const char *name, int64_t r, int64_t c)
{
    xf_enc_param *p = &e->ptab[e->nptab++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->off = *off;
    p->ndim = c ? 2 : 1;
    p->shape[0] = r;
    p->shape[1] = c;
    p->n = (size_t)r * (size_t)(c ? c : 1);
    p->decay = !strstr(name, "bias") && !strstr(name, "LayerNorm.weight");
    *off += round16(p->n);
}

static void build_table(xf_encoder *e)
{
    const xf_enc_dims *d = &e->d;
    int C = d->hidden, FF = d->inter;
    const char *pre = d->roberta ? "roberta." : "bert.";
    char nm[96];
    size_t off = 0;
    e->ptab = xcalloc((size_t)(16 * d->layers + 32), sizeof(xf_enc_param));
#define P(r, c, ...) do { snprintf(nm, sizeof nm, __VA_ARGS__); add_param(e, &off, nm, r, c); } while (0)
    P(d->vocab, C, "%sembeddings.word_embeddings.weight", pre);
    P(d->max_pos, C, "%sembeddings.position_embeddings.weight", pre);
    P(d->type_vocab, C, "%sembeddings.token_type_embeddings.weight", pre);
    P(C, 0, "%sembeddings.LayerNorm.weight", pre);
    P(C, 0, "%sembeddings.LayerNorm.bias", pre);
    for (int l = 0; l < d->layers; l++) {
        const char *L = "encoder.layer";
        P(3 * C, C, "%s%s.%d.attention.self.qkv.weight", pre, L, l);
        P(3 * C, 0, "%s%s.%d.attention.self.qkv.bias", pre, L, l);
        P(C, C, "%s%s.%d.attention.output.dense.weight", pre, L, l);
        P(C, 0, "%s%s.%d.attention.output.dense.bias", pre, L, l);
        P(C, 0, "%s%s.%d.attention.output.LayerNorm.weight", pre, L, l);
        P(C, 0, "%s%s.%d.attention.output.LayerNorm.bias", pre, L, l);
        P(FF, C, "%s%s.%d.intermediate.dense.weight", pre, L, l);
        P(FF, 0, "%s%s.%d.intermediate.dense.bias", pre, L, l);
        P(C, FF, "%s%s.%d.output.dense.weight", pre, L, l);
        P(C, 0, "%s%s.%d.output.dense.bias", pre, L, l);
        P(C, 0, "%s%s.%d.output.LayerNorm.weight", pre, L, l);
        P(C, 0, "%s%s.%d.output.LayerNorm.bias", pre, L, l);
    }
    P(C, C, "%spooler.dense.weight", pre);
    P(C, 0, "%spooler.dense.bias", pre);
    if (d->roberta) {
        P(C, C, "lm_head.dense.weight");
        P(C, 0, "lm_head.dense.bias");
        P(C, 0, "lm_head.layer_norm.weight");
        P(C, 0, "lm_head.layer_norm.bias");
        P(d->vocab, 0, "lm_head.bias");
        if (!e->tied) P(d->vocab, C, "lm_head.decoder.weight");
    } else {
        P(C, C, "cls.predictions.transform.dense.weight");
        P(C, 0, "cls.predictions.transform.dense.bias");
        P(C, 0, "cls.predictions.transform.LayerNorm.weight");
        P(C, 0, "cls.predictions.transform.LayerNorm.bias");
        P(d->vocab, 0, "cls.predictions.bias");
        if (!e->tied) P(d->vocab, C, "cls.predictions.decoder.weight");
    }
#undef P
    e->nparams = off;
}

/* Views into ARENA in table order (see build_table). */
static void set_views(xf_encoder *e, xf_enc_views *v, float *arena)
{
    int k = 0, L = e->d.layers;
#define NEXT (arena + e->ptab[k++].off)
    v->wte = NEXT; v->wpe = NEXT; v->wtt = NEXT; v->eln_w = NEXT; v->eln_b = NEXT;
    if (!v->layer) v->layer = xcalloc((size_t)L, sizeof(xf_enc_layer));
    for (int l = 0; l < L; l++) {
        xf_enc_layer *y = &v->layer[l];
        y->qkv_w = NEXT; y->qkv_b = NEXT; y->ao_w = NEXT; y->ao_b = NEXT;
        y->ln1_w = NEXT; y->ln1_b = NEXT; y->fi_w = NEXT; y->fi_b = NEXT;
        y->fo_w = NEXT; y->fo_b = NEXT; y->ln2_w = NEXT; y->ln2_b = NEXT;
    }
    v->pool_w = NEXT; v->pool_b = NEXT;
    v->head_w = NEXT; v->head_b = NEXT; v->hln_w = NEXT; v->hln_b = NEXT;
    v->dec_b = NEXT;
    v->dec_w = e->tied ? v->wte : NEXT;
#undef NEXT
}

xf_encoder *xf_encoder_new(const xf_enc_dims *d, int tied)
{
    if (d->vocab <= 0 || d->hidden <= 0 || d->layers <= 0 || d->heads <= 0 || d->inter <= 0 ||
        d->max_pos <= 0 || d->type_vocab <= 0)
        die("model config: every size must be positive (vocab %d, hidden %d, layers %d, "
            "heads %d, intermediate %d, positions %d, types %d)", d->vocab, d->hidden,
            d->layers, d->heads, d->inter, d->max_pos, d->type_vocab);
    if (d->hidden % d->heads)
        die("model config: hidden_size %d is not a multiple of num_attention_heads %d",
            d->hidden, d->heads);
    if (d->pad_id < 0 || d->pad_id >= d->vocab)
        die("model config: pad_token_id %d outside the vocabulary [0,%d)", d->pad_id, d->vocab);
    if (d->roberta && d->max_pos <= d->pad_id + 1)
        die("model config: max_position_embeddings %d leaves no positions after padding_idx %d",
            d->max_pos, d->pad_id);
    xf_encoder *e = xcalloc(1, sizeof *e);
    e->d = *d;
    e->tied = tied;
    e->probs_budget = (size_t)512 << 20;
    const char *pb = getenv("XF_PROBS_BUDGET_MB");   /* tests, small machines */
    if (pb && *pb) e->probs_budget = (size_t)strtoull(pb, NULL, 10) << 20;
    build_table(e);
    e->params = alloc_zeroed(xmul(e->nparams, sizeof(float)), &e->params_raw);
    set_views(e, &e->w, e->params);
    return e;
}

static void free_acts(xf_encoder *e)
{
    free(e->acts);
    free(e->ids);
    free(e->la);
    e->acts = NULL;
    e->ids = NULL;
    e->la = NULL;
    e->fo_xy = e->fo_a = e->fo_r = e->fo_w = NULL;
    e->cap_B = e->cap_T = 0;
    e->cap_N = e->acts_bytes = 0;
    e->acts_fwd_only = 0;
}

static void free_head(xf_encoder *e)
{
    free(e->hm);
    free(e->logits);
    free(e->dlogits);
    free(e->hx);
    e->hm = e->logits = e->dlogits = e->hx = NULL;
    e->cap_M = 0;
}

void xf_encoder_release(xf_encoder *e)
{
    free_acts(e);
    free_head(e);
    free(e->pool_in);
    e->pool_in = NULL;
    e->pool_B = 0;
    free(e->grads);
    e->grads = NULL;
}

void xf_encoder_free(xf_encoder *e)
{
    if (!e) return;
    free_acts(e);
    free_head(e);
    free(e->pool_in);
    free(e->params_raw);
    free(e->grads);
    free(e->head_grads);
    free(e->w.layer);
    free(e->g.layer);
    free(e->ptab);
    free(e);
}

void xf_encoder_init_param(xf_encoder *e, int k, uint64_t seed)
{
    const xf_enc_dims *d = &e->d;
    int C = d->hidden;
    xf_enc_param *p = &e->ptab[k];
    float *x = e->params + p->off;
    if (strstr(p->name, "LayerNorm.weight") || strstr(p->name, "layer_norm.weight")) {
        for (size_t i = 0; i < p->n; i++) x[i] = 1.0f;
    } else if (p->ndim == 2) {
        /* one deterministic normal per element: Box–Muller on two hashed uniforms */
        uint64_t base = (uint64_t)k << 40;
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < p->n; i++) {
            double u1 = ((xf_hash64(seed, XF_STREAM_INIT, base + 2 * i) >> 11) + 1.0) * 0x1p-53;
            double u2 = (xf_hash64(seed, XF_STREAM_INIT, base + 2 * i + 1) >> 11) * 0x1p-53;
            x[i] = (float)(d->init_range * sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
        }
    } else {
        memset(x, 0, p->n * sizeof(float));
    }
    /* nn.Embedding(padding_idx): that row starts at zero */
    if (x == e->w.wte || (d->roberta && x == e->w.wpe))
        memset(x + (size_t)d->pad_id * C, 0, (size_t)C * sizeof(float));
}

void xf_encoder_init_random(xf_encoder *e, uint64_t seed)
{
    for (int k = 0; k < e->nptab; k++) xf_encoder_init_param(e, k, seed);
    e->has_pooler = 1;
}

int xf_encoder_has_pooler(const xf_encoder *e) { return e->has_pooler; }
void xf_encoder_set_has_pooler(xf_encoder *e, int on) { e->has_pooler = on; }

const xf_enc_dims *xf_encoder_dims(const xf_encoder *e) { return &e->d; }
int xf_encoder_tied(const xf_encoder *e) { return e->tied; }
size_t xf_encoder_nparams(const xf_encoder *e) { return e->nparams; }
float *xf_encoder_params(xf_encoder *e) { return e->params; }
const xf_enc_views *xf_encoder_weights(const xf_encoder *e) { return &e->w; }
float *xf_encoder_grads(xf_encoder *e) { return e->grads; }
const xf_enc_views *xf_encoder_grad_views(const xf_encoder *e) { return e->grads ? &e->g : NULL; }

const xf_enc_param *xf_encoder_param_table(const xf_encoder *e, int *n)
{
    *n = e->nptab;
    return e->ptab;
}

void xf_encoder_enable_grads(xf_encoder *e)
{
    if (e->frozen || e->grads) return;
    size_t bytes = xmul(e->nparams, sizeof(float));
    e->grads = xmalloc_aligned(bytes);
    memset(e->grads, 0, bytes);
    set_views(e, &e->g, e->grads);
}

void xf_encoder_zero_grads(xf_encoder *e)
{
    if (e->head_grads) memset(e->head_grads, 0, e->head_n * sizeof(float));
    if (!e->grads) return;
    float *g = e->grads;
    size_t n = e->nparams;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) g[i] = 0.0f;
}

void xf_encoder_freeze(xf_encoder *e)
{
    e->frozen = 1;
    free(e->grads);
    e->grads = NULL;
    free(e->head_grads);
    e->head_grads = NULL;
    memset(&e->hg, 0, sizeof e->hg);
}

void xf_encoder_freeze_base_only(xf_encoder *e)
{
    xf_encoder_freeze(e);
    /* the head tensors close the table (transform dense, LN, decoder bias,
     * then the untied decoder weight): one span from the transform weight on */
    e->head_off = (size_t)(e->w.head_w - e->params);
    e->head_n = e->nparams - e->head_off;
    e->head_grads = xmalloc_aligned(xmul(e->head_n, sizeof(float)));
    memset(e->head_grads, 0, e->head_n * sizeof(float));
#define AT(v) (e->head_grads + ((size_t)(e->w.v - e->params) - e->head_off))
    e->hg.head_w = AT(head_w);
    e->hg.head_b = AT(head_b);
    e->hg.hln_w = AT(hln_w);
    e->hg.hln_b = AT(hln_b);
    e->hg.dec_b = AT(dec_b);
    e->hg.dec_w = e->tied ? NULL : AT(dec_w);   /* tied: the frozen word embeddings */
#undef AT
}

const xf_enc_views *xf_encoder_head_grad_views(const xf_encoder *e)
{
    return e->head_grads ? &e->hg : NULL;
}

void xf_encoder_set_ffn_hook(xf_encoder *e, const xf_ffn_hook *h) { e->ffn_hook = h; }
void xf_encoder_set_emb_hook(xf_encoder *e, const xf_emb_hook *h)
{
    e->emb_hook = h;
    if (e->cap_B) free_acts(e);   /* x0 gets its own buffer */
}
void xf_encoder_set_head_hook(xf_encoder *e, const xf_head_hook *h) { e->head_hook = h; }
void xf_encoder_set_probs_budget(xf_encoder *e, size_t bytes)
{
    e->probs_budget = bytes;
    free_acts(e);
}

void xf_encoder_set_forward_only(xf_encoder *e, int on) { e->fwd_only = on != 0; }

int xf_encoder_forward_only(const xf_encoder *e)
{
    return e->fwd_only || (!e->grads && !e->frozen);
}

size_t xf_encoder_arena_bytes(const xf_encoder *e) { return e->acts ? e->acts_bytes : 0; }

/* ---- activations ---- */

static void alloc_ids(xf_encoder *e, size_t N)
{
    e->ids = xmalloc(xmul(xmul(N, 4), sizeof(int32_t)));
    e->types = e->ids + N;
    e->am = e->types + N;
    e->pos = e->am + N;
}

/* Forward-only layout: one layer's buffers, reused by every layer (the
 * output of layer l overwrites its input, dead by then).  fo_w holds qkv
 * and the attention output, then — both dead — the FFN's intermediate
 * (GELU in place) and output.  No LayerNorm statistics, no attention
 * probabilities (attention_forward keeps one [T,T] per thread).  For
 * mBERT-base, 8·N·C floats instead of ~12·N·C per layer plus probs. */
static void reserve_forward_only(xf_encoder *e, size_t N)
{
    if (e->acts && N <= e->cap_N) return;
    free_acts(e);
    size_t C = (size_t)e->d.hidden, FF = (size_t)e->d.inter;
    size_t NC = round16(xmul(N, C)), NF = round16(xmul(N, FF));
    size_t W = 4 * NC > NF + NC ? 4 * NC : NF + NC;
    size_t total = 3 * NC + W;
    e->acts = xmalloc_aligned(xmul(total, sizeof(float)));
    alloc_ids(e, N);
    e->fo_xy = e->acts;
    e->fo_a = e->fo_xy + NC;
    e->fo_r = e->fo_a + NC;
    e->fo_w = e->fo_r + NC;
    e->cap_N = N;
    e->acts_fwd_only = 1;
    e->acts_bytes = total * sizeof(float) + N * 4 * sizeof(int32_t);
}

void xf_encoder_reserve(xf_encoder *e, int B, int T)
{
    int fo = xf_encoder_forward_only(e);
    if (e->acts && e->acts_fwd_only != fo) free_acts(e);
    if (fo) {
        reserve_forward_only(e, xmul((size_t)B, (size_t)T));
        return;
    }
    if (B <= e->cap_B && T <= e->cap_T && e->acts) return;
    if (B < e->cap_B) B = e->cap_B;
    if (T < e->cap_T) T = e->cap_T;
    free_acts(e);
    const xf_enc_dims *d = &e->d;
    size_t N = xmul((size_t)B, (size_t)T), C = (size_t)d->hidden, FF = (size_t)d->inter;
    size_t L = (size_t)d->layers, H = (size_t)d->heads;
    size_t probs1 = xmul(xmul(xmul((size_t)B, H), (size_t)T), (size_t)T);
    /* layers that keep their probabilities, within the budget; the others
     * share one buffer and recompute them in the backward (the last of them
     * finds its own still there) */
    size_t kept = e->probs_budget / (round16(probs1) * sizeof(float));
    e->probs_kept = kept >= L ? (int)L : (int)kept;
    size_t NC = round16(xmul(N, C)), NF = round16(xmul(N, FF)), Nr = round16(N);
    size_t per_layer = 3 * NC + NC + NC + 2 * Nr + NC + NF + NC + 2 * Nr + NC;
    size_t total = xmul(per_layer, L);
    total += ((size_t)e->probs_kept + (e->probs_kept < (int)L)) * round16(probs1);
    total += NC + 2 * Nr + NC + (e->emb_hook ? NC : 0);      /* embeddings */
    total += 2 * NF + 3 * NC + 5 * NC;                        /* scratch */
    e->acts = xmalloc_aligned(xmul(total, sizeof(float)));
    alloc_ids(e, N);
    e->acts_bytes = total * sizeof(float) + N * 4 * sizeof(int32_t);
    e->la = xcalloc(L, sizeof(layer_acts));
    float *p = e->acts;
#define TAKE(n) (p += (n), p - (n))
    e->emb_sum = TAKE(NC);
    e->emb_m = TAKE(Nr);
    e->emb_s = TAKE(Nr);
    e->emb_out = TAKE(NC);
    e->x0 = e->emb_hook ? TAKE(NC) : e->emb_out;
    float *shared_probs = e->probs_kept < (int)L ? TAKE(round16(probs1)) : NULL;
    for (size_t l = 0; l < L; l++) {
        layer_acts *a = &e->la[l];
        a->qkv = TAKE(3 * NC);
        a->att = TAKE(NC);
        a->r1 = TAKE(NC);
        a->m1 = TAKE(Nr);
        a->s1 = TAKE(Nr);
        a->a = TAKE(NC);
        a->fi = TAKE(NF);
        a->h = TAKE(NC);
        a->m2 = TAKE(Nr);
        a->s2 = TAKE(Nr);
        a->y = TAKE(NC);
        a->probs = (int)l >= e->probs_kept ? shared_probs : TAKE(round16(probs1));
    }
    e->ffa = TAKE(NF);
    e->ffb = TAKE(NF);
    e->dqkv = TAKE(3 * NC);
    for (int k = 0; k < 5; k++) e->sc[k] = TAKE(NC);
#undef TAKE
    e->cap_B = B;
    e->cap_T = T;
}

static void zero(float *x, size_t n) { memset(x, 0, n * sizeof(float)); }

/* ---- forward ---- */

/* The layers of a forward-only forward (see reserve_forward_only): the same
 * operations in the same order as the training layout's loop in
 * xf_encoder_forward, so the same bits, into reused buffers. */
static void layers_forward_only(xf_encoder *e, int B, int T, float p_hid, float p_att,
                                int train, uint64_t drop_seed)
{
    const xf_enc_dims *d = &e->d;
    int C = d->hidden, FF = d->inter, H = d->heads, N = B * T;
    size_t NC = (size_t)N * C, NF = (size_t)N * FF;
    float *xy = e->fo_xy, *a = e->fo_a, *r = e->fo_r;
    float *qkv = e->fo_w, *att = qkv + round16(3 * NC);   /* phase 1: attention */
    float *fi = e->fo_w, *h = fi + round16(NF);           /* phase 2: FFN */
    for (int l = 0; l < d->layers; l++) {
        const xf_enc_layer *p = &e->w.layer[l];
        linear_forward(qkv, xy, p->qkv_w, p->qkv_b, N, C, 3 * C);
        attention_forward(att, NULL, qkv, e->am, B, T, C, H, p_att, drop_seed,
                          SITE(SITE_PROBS(l)));
        linear_forward(r, att, p->ao_w, p->ao_b, N, C, C);
        dropout_forward(r, r, NC, p_hid, drop_seed, SITE(SITE_ATT_OUT(l)));
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < NC; i++) r[i] += xy[i];
        layernorm_forward(a, NULL, NULL, r, p->ln1_w, p->ln1_b, N, C, d->ln_eps);
        linear_forward(fi, a, p->fi_w, p->fi_b, N, C, FF);
        gelu_forward(fi, fi, NF);   /* element-wise: in place gives the same bits */
        linear_forward(h, fi, p->fo_w, p->fo_b, N, FF, C);
        dropout_forward(h, h, NC, p_hid, drop_seed, SITE(SITE_FFN_OUT(l)));
        if (e->ffn_hook) {   /* y over the layer input, dead since r1 */
            e->ffn_hook->forward(e->ffn_hook->ctx, l, xy, h, a, p->ln2_w, p->ln2_b, d->ln_eps,
                                 N, C, train);
        } else {
#pragma omp parallel for schedule(static)
            for (size_t i = 0; i < NC; i++) r[i] = h[i] + a[i];
            layernorm_forward(xy, NULL, NULL, r, p->ln2_w, p->ln2_b, N, C, d->ln_eps);
        }
    }
}

void xf_encoder_forward(xf_encoder *e, const int32_t *ids, const int32_t *types,
                        const int32_t *am, int B, int T, int train, uint64_t drop_seed)
{
    const xf_enc_dims *d = &e->d;
    int C = d->hidden, FF = d->inter, H = d->heads, L = d->layers;
    if (B <= 0 || T <= 0) die("encoder: empty batch (%d x %d)", B, T);
    xf_encoder_reserve(e, B, T);
    int N = B * T;
    e->B = B;
    e->T = T;
    e->train = train;
    e->seed = drop_seed;
    int fo = e->last_fwd_only = e->acts_fwd_only;
    for (int n = 0; n < N; n++) {
        if (ids[n] < 0 || ids[n] >= d->vocab)
            die("encoder: token id %d at position %d of row %d outside the vocabulary [0,%d)",
                (int)ids[n], n % T, n / T, d->vocab);
        int ty = types ? types[n] : 0;
        if (ty < 0 || ty >= d->type_vocab)
            die("encoder: token type %d at position %d of row %d outside [0,%d)", ty, n % T,
                n / T, d->type_vocab);
        e->ids[n] = ids[n];
        e->types[n] = ty;
        e->am[n] = am ? (am[n] != 0) : 1;
    }
    /* position ids: BertEmbeddings uses 0..T-1; RobertaEmbeddings
     * create_position_ids_from_input_ids: cumsum(ids≠pad)·(ids≠pad) + pad */
    for (int b = 0; b < B; b++) {
        int c = 0;
        for (int t = 0; t < T; t++) {
            int n = b * T + t, p;
            if (d->roberta) {
                int real = e->ids[n] != d->pad_id;
                c += real;
                p = real ? c + d->pad_id : d->pad_id;
            } else {
                p = t;
            }
            if (p >= d->max_pos)
                die("encoder: sequence of %d tokens needs position %d but the model has "
                    "max_position_embeddings %d", T, p, d->max_pos);
            e->pos[n] = p;
        }
    }
    float p_hid = train ? d->p_hidden : 0.0f, p_att = train ? d->p_attn : 0.0f;

    /* embeddings: (word + token_type) + position, LN, dropout; forward
     * only, the sum and (with a hook) the LN output lie in fo_w, which the
     * first layer overwrites, and the LN statistics are not kept */
    const xf_enc_views *w = &e->w;
    size_t NCr = round16((size_t)N * C);
    float *emb_sum = fo ? e->fo_w : e->emb_sum;
    float *emb_m = fo ? NULL : e->emb_m, *emb_s = fo ? NULL : e->emb_s;
    float *emb_out = !fo ? e->emb_out : e->emb_hook ? e->fo_w + NCr : e->fo_xy;
    float *x0 = fo ? e->fo_xy : e->x0;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        float *o = emb_sum + (size_t)n * C;
        const float *we = w->wte + (size_t)e->ids[n] * C;
        const float *te = w->wtt + (size_t)e->types[n] * C;
        const float *pe = w->wpe + (size_t)e->pos[n] * C;
        for (int c = 0; c < C; c++) o[c] = (we[c] + te[c]) + pe[c];
    }
    layernorm_forward(emb_out, emb_m, emb_s, emb_sum, w->eln_w, w->eln_b, N, C, d->ln_eps);
    dropout_forward(emb_out, emb_out, (size_t)N * C, p_hid, drop_seed, SITE(SITE_EMB));
    if (e->emb_hook) e->emb_hook->forward(e->emb_hook->ctx, x0, emb_out, N, C, train);
    if (fo) {
        layers_forward_only(e, B, T, p_hid, p_att, train, drop_seed);
        return;
    }

    for (int l = 0; l < L; l++) {
        const xf_enc_layer *p = &w->layer[l];
        layer_acts *a = &e->la[l];
        const float *x = l ? e->la[l - 1].y : e->x0;
        linear_forward(a->qkv, x, p->qkv_w, p->qkv_b, N, C, 3 * C);
        attention_forward(a->att, a->probs, a->qkv, e->am, B, T, C, H, p_att, drop_seed,
                          SITE(SITE_PROBS(l)));
        linear_forward(a->r1, a->att, p->ao_w, p->ao_b, N, C, C);
        dropout_forward(a->r1, a->r1, (size_t)N * C, p_hid, drop_seed, SITE(SITE_ATT_OUT(l)));
        size_t NC = (size_t)N * C;
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < NC; i++) a->r1[i] += x[i];
        layernorm_forward(a->a, a->m1, a->s1, a->r1, p->ln1_w, p->ln1_b, N, C, d->ln_eps);
        linear_forward(a->fi, a->a, p->fi_w, p->fi_b, N, C, FF);
        gelu_forward(e->ffa, a->fi, (size_t)N * FF);
        linear_forward(a->h, e->ffa, p->fo_w, p->fo_b, N, FF, C);
        dropout_forward(a->h, a->h, NC, p_hid, drop_seed, SITE(SITE_FFN_OUT(l)));
        if (e->ffn_hook) {
            e->ffn_hook->forward(e->ffn_hook->ctx, l, a->y, a->h, a->a, p->ln2_w, p->ln2_b,
                                 d->ln_eps, N, C, train);
        } else {
            float *r2 = e->sc[0];
#pragma omp parallel for schedule(static)
            for (size_t i = 0; i < NC; i++) r2[i] = a->h[i] + a->a[i];
            layernorm_forward(a->y, a->m2, a->s2, r2, p->ln2_w, p->ln2_b, N, C, d->ln_eps);
        }
    }
}

float *xf_encoder_hidden(xf_encoder *e)
{
    return e->acts_fwd_only ? e->fo_xy : e->la[e->d.layers - 1].y;
}

/* ---- backward ---- */

/* g[i] = gelu(x[i]) and x[i] := gelu'(x[i]), with ops.c's kernels
 * (ops_kernels.h): g is bit for bit gelu_forward's value, the slope
 * gelu_backward's Φ(x) + x·φ(x).  Fixed chunks (multiples of the vector
 * width) keep every element on the same code path at any thread count. */
static void gelu_recompute_and_slope(float *g, float *x, size_t n)
{
#pragma omp parallel for simd schedule(dynamic, 16384)
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        g[i] = v * xf_normal_cdf(v);
        x[i] = xf_normal_cdf(v) + v * xf_normal_pdf(v);
    }
}

static void mul_inplace(float *y, const float *x, size_t n)
{
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) y[i] *= x[i];
}

void xf_encoder_backward(xf_encoder *e, float *dhidden)
{
    if (e->last_fwd_only || e->acts_fwd_only)
        die("encoder: backward after a forward-only forward (xf_encoder_set_forward_only, or "
            "neither xf_encoder_enable_grads nor xf_encoder_freeze was called)");
    const xf_enc_dims *d = &e->d;
    int C = d->hidden, FF = d->inter, H = d->heads, L = d->layers;
    int B = e->B, T = e->T, N = B * T;
    size_t NC = (size_t)N * C, NF = (size_t)N * FF;
    float p_hid = e->train ? d->p_hidden : 0.0f, p_att = e->train ? d->p_attn : 0.0f;
    uint64_t seed = e->seed;
    const xf_enc_views *w = &e->w;
    const xf_enc_views *g = e->grads ? &e->g : NULL;
    float *dy = dhidden;                      /* gradient of the current layer's output */
    float *dh = e->sc[1], *da = e->sc[2], *dr = e->sc[3], *datt = e->sc[4];
    float *dx_buf[2] = {e->sc[0], dhidden};   /* dx of layer l becomes dy of layer l-1 */

    for (int l = L - 1; l >= 0; l--) {
        const xf_enc_layer *p = &w->layer[l];
        const xf_enc_layer *gp = g ? &g->layer[l] : NULL;
        layer_acts *a = &e->la[l];
        const float *x = l ? e->la[l - 1].y : e->x0;
        float *dx = dx_buf[(L - 1 - l) % 2 == 0 ? 0 : 1];
        zero(dh, NC);
        zero(da, NC);
        if (e->ffn_hook) {
            e->ffn_hook->backward(e->ffn_hook->ctx, l, dh, da, gp ? gp->ln2_w : NULL,
                                  gp ? gp->ln2_b : NULL, dy, a->h, a->a, p->ln2_w, p->ln2_b,
                                  d->ln_eps, N, C);
        } else {
            float *r2 = dr;
#pragma omp parallel for schedule(static)
            for (size_t i = 0; i < NC; i++) r2[i] = a->h[i] + a->a[i];
            layernorm_backward(dh, gp ? gp->ln2_w : NULL, gp ? gp->ln2_b : NULL, dy, r2,
                               p->ln2_w, a->m2, a->s2, N, C);
            memcpy(da, dh, NC * sizeof(float));
        }
        /* h = dropout(dense(gelu(fi))) */
        zero(dr, NC);
        dropout_backward(dr, dh, NC, p_hid, seed, SITE(SITE_FFN_OUT(l)));
        /* one pass: the GELU output (not stored) for dW, and its derivative
         * over fi, which is not needed after this */
        gelu_recompute_and_slope(e->ffa, a->fi, NF);
        zero(e->ffb, NF);
        linear_backward(e->ffb, gp ? gp->fo_w : NULL, gp ? gp->fo_b : NULL, dr, e->ffa, p->fo_w,
                        N, FF, C);
        mul_inplace(e->ffb, a->fi, NF);
        linear_backward(da, gp ? gp->fi_w : NULL, gp ? gp->fi_b : NULL, e->ffb, a->a, p->fi_w,
                        N, C, FF);
        /* a = LN1(r1), r1 = dropout(att·Woᵀ + bo) + x */
        zero(dr, NC);
        layernorm_backward(dr, gp ? gp->ln1_w : NULL, gp ? gp->ln1_b : NULL, da, a->r1,
                           p->ln1_w, a->m1, a->s1, N, C);
        memcpy(dx, dr, NC * sizeof(float));   /* residual path; dy no longer needed */
        zero(dh, NC);
        dropout_backward(dh, dr, NC, p_hid, seed, SITE(SITE_ATT_OUT(l)));
        zero(datt, NC);
        linear_backward(datt, gp ? gp->ao_w : NULL, gp ? gp->ao_b : NULL, dh, a->att, p->ao_w,
                        N, C, C);
        if (l >= e->probs_kept && l != L - 1)   /* overwritten by later layers */
            attention_forward(dr, a->probs, a->qkv, e->am, B, T, C, H, p_att, seed,
                              SITE(SITE_PROBS(l)));
        zero(e->dqkv, 3 * NC);
        attention_backward(e->dqkv, NULL, datt, a->qkv, a->probs, e->am, B, T, C, H, p_att, seed,
                           SITE(SITE_PROBS(l)));
        linear_backward(dx, gp ? gp->qkv_w : NULL, gp ? gp->qkv_b : NULL, e->dqkv, x, p->qkv_w,
                        N, C, 3 * C);
        dy = dx;
    }

    /* embeddings */
    float *de = dy;
    if (e->emb_hook) {
        float *dtmp = dy == e->sc[0] ? e->sc[1] : e->sc[0];
        zero(dtmp, NC);
        e->emb_hook->backward(e->emb_hook->ctx, dtmp, dy, e->emb_out, N, C);
        de = dtmp;
    }
    if (!g) return;
    float *dln = de == e->sc[2] ? e->sc[3] : e->sc[2];
    zero(dln, NC);
    dropout_backward(dln, de, NC, p_hid, seed, SITE(SITE_EMB));
    float *dsum = de;   /* de is consumed */
    zero(dsum, NC);
    layernorm_backward(dsum, g->eln_w, g->eln_b, dln, e->emb_sum, w->eln_w, e->emb_m, e->emb_s,
                       N, C);
    /* lookups; nn.Embedding(padding_idx) gives the pad row no gradient (word
     * embeddings; RoBERTa position embeddings too) */
    int pad = d->pad_id, rob = d->roberta;
    int nblk = (C + 63) / 64;
#pragma omp parallel for schedule(static)
    for (int k = 0; k < nblk; k++) {
        int c0 = k * 64, c1 = c0 + 64 < C ? c0 + 64 : C;
        for (int n = 0; n < N; n++) {
            const float *gr = dsum + (size_t)n * C;
            float *gw = e->ids[n] != pad ? g->wte + (size_t)e->ids[n] * C : NULL;
            float *gt = g->wtt + (size_t)e->types[n] * C;
            float *gpos = rob && e->pos[n] == pad ? NULL : g->wpe + (size_t)e->pos[n] * C;
            for (int c = c0; c < c1; c++) {
                if (gw) gw[c] += gr[c];
                gt[c] += gr[c];
                if (gpos) gpos[c] += gr[c];
            }
        }
    }
}

/* ---- MLM head ---- */

static void reserve_head(xf_encoder *e, int M)
{
    if (M <= e->cap_M) return;
    free_head(e);
    int cap = M + M / 4 + 16;
    size_t C = (size_t)e->d.hidden, V = (size_t)e->d.vocab;
    size_t MC = round16(xmul((size_t)cap, C)), Mr = round16((size_t)cap);
    e->hm = xmalloc_aligned(xmul(8 * MC + 2 * Mr, sizeof(float)));
    e->ht = e->hm + MC;
    e->hu = e->ht + MC;
    e->hz = e->hu + MC;
    e->hd = e->hz + MC;   /* 4 gradient buffers of [cap,C] */
    e->hmean = e->hd + 4 * MC;
    e->hrstd = e->hmean + Mr;
    e->logits = xmalloc_aligned(xmul(xmul((size_t)cap, V), sizeof(float)));
    e->cap_M = cap;
}

float xf_encoder_mlm_step(xf_encoder *e, const int32_t *pos, const int32_t *labels, int M,
                          int backward, const float **logits_out)
{
    if (M <= 0) return 0.0f;
    const xf_enc_dims *d = &e->d;
    int C = d->hidden, V = d->vocab, N = e->B * e->T;
    reserve_head(e, M);
    const xf_enc_views *w = &e->w;
    /* the head's own gradients: all of them, those of a trainable head on a
     * frozen base (no word-embedding gradient when tied), or none */
    const xf_enc_views *g = e->grads ? &e->g : e->head_grads ? &e->hg : NULL;
    const float *hid = xf_encoder_hidden(e);
    const xf_head_hook *hook = e->head_hook;
    if (hook && !e->hx) e->hx = xmalloc_aligned(xmul(xmul((size_t)e->cap_M, (size_t)C), sizeof(float)));
    for (int m = 0; m < M; m++) {
        if (pos[m] < 0 || pos[m] >= N) die("mlm head: position %d outside the batch", (int)pos[m]);
        memcpy(e->hm + (size_t)m * C, hid + (size_t)pos[m] * C, (size_t)C * sizeof(float));
    }
    /* BertPredictionHeadTransform (dense → gelu → LN), the hook (hx = f(hz):
     * adapter-transformers 3.1 BertLMPredictionHead applies inv_lang_adapter
     * between the transform and the decoder), then decoder + bias, on the
     * gathered rows only */
    size_t MC = (size_t)M * C;
    linear_forward(e->ht, e->hm, w->head_w, w->head_b, M, C, C);
    gelu_forward(e->hu, e->ht, MC);
    layernorm_forward(e->hz, e->hmean, e->hrstd, e->hu, w->hln_w, w->hln_b, M, C, d->ln_eps);
    if (hook) hook->forward(hook->ctx, e->hx, e->hz, M, C);
    const float *dec_in = hook ? e->hx : e->hz;
    linear_forward(e->logits, dec_in, w->dec_w, w->dec_b, M, C, V);
    if (logits_out) *logits_out = e->logits;
    /* d(logits) overwrites the logits unless the caller reads them: saves an
     * [M,V] buffer (~300 MB for mBERT at B=8, T=512) */
    float *dl = NULL;
    if (backward && logits_out) {
        if (!e->dlogits)
            e->dlogits = xmalloc_aligned(xmul(xmul((size_t)e->cap_M, V), sizeof(float)));
        dl = e->dlogits;
    } else if (backward) {
        dl = e->logits;
    }
    float loss = crossentropy_forward_backward(dl, e->logits, labels, M, V, 1.0f);
    if (!backward) return loss;

    size_t cMC = round16(xmul((size_t)e->cap_M, (size_t)C));
    float *dz = e->hd, *du = dz + cMC, *dt = du + cMC, *dhm = dt + cMC;
    zero(dz, MC);
    linear_backward(dz, g ? g->dec_w : NULL, g ? g->dec_b : NULL, dl, dec_in, w->dec_w, M, C, V);
    if (hook) {   /* dhm is free until the transform's backward: d(hz) there */
        zero(dhm, MC);
        hook->backward(hook->ctx, dhm, dz, e->hz, M, C);
        dz = dhm;
    }
    zero(du, MC);
    layernorm_backward(du, g ? g->hln_w : NULL, g ? g->hln_b : NULL, dz, e->hu, w->hln_w,
                       e->hmean, e->hrstd, M, C);
    zero(dt, MC);
    gelu_backward(dt, e->ht, du, MC);
    zero(dhm, MC);
    linear_backward(dhm, g ? g->head_w : NULL, g ? g->head_b : NULL, dt, e->hm, w->head_w, M,
                    C, C);
    float *dhidden = xmalloc_aligned(xmul(xmul((size_t)N, (size_t)C), sizeof(float)));
    zero(dhidden, (size_t)N * C);
    for (int m = 0; m < M; m++) {   /* in order: repeated positions add up deterministically */
        float *o = dhidden + (size_t)pos[m] * C;
        const float *s = dhm + (size_t)m * C;
        for (int c = 0; c < C; c++) o[c] += s[c];
    }
    xf_encoder_backward(e, dhidden);
    free(dhidden);
    return loss;
}

/* ---- pooler ---- */

void xf_encoder_pool_forward(xf_encoder *e, float *pooled)
{
    int B = e->B, T = e->T, C = e->d.hidden;
    if (B > e->pool_B) {
        free(e->pool_in);
        e->pool_in = xmalloc_aligned(xmul(xmul(2 * (size_t)B, (size_t)C), sizeof(float)));
        e->pool_B = B;
    }
    e->pooled = e->pool_in + (size_t)e->pool_B * C;
    const float *hid = xf_encoder_hidden(e);
    for (int b = 0; b < B; b++)
        memcpy(e->pool_in + (size_t)b * C, hid + (size_t)b * T * C, (size_t)C * sizeof(float));
    linear_forward(e->pooled, e->pool_in, e->w.pool_w, e->w.pool_b, B, C, C);
    tanh_forward(e->pooled, e->pooled, (size_t)B * C);
    memcpy(pooled, e->pooled, (size_t)B * C * sizeof(float));
}

void xf_encoder_pool_backward(xf_encoder *e, float *dhidden, const float *dpooled)
{
    int B = e->B, T = e->T, C = e->d.hidden;
    const xf_enc_views *g = e->grads ? &e->g : NULL;
    float *dpre = xcalloc((size_t)B * C, sizeof(float));
    float *din = xcalloc((size_t)B * C, sizeof(float));
    tanh_backward(dpre, e->pooled, dpooled, (size_t)B * C);
    linear_backward(din, g ? g->pool_w : NULL, g ? g->pool_b : NULL, dpre, e->pool_in,
                    e->w.pool_w, B, C, C);
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) dhidden[(size_t)b * T * C + c] += din[(size_t)b * C + c];
    free(dpre);
    free(din);
}

/* ---- FLOPs ---- */

double xf_encoder_forward_flops(const xf_encoder *e, int B, int T)
{
    const xf_enc_dims *d = &e->d;
    double N = (double)B * T, C = d->hidden, FF = d->inter;
    double per_layer = 2.0 * N * (3 * C * C + C * C + 2 * C * FF) + attention_forward_flops(B, T, d->hidden);
    return per_layer * d->layers;
}

double xf_encoder_head_flops(const xf_encoder *e, int M)
{
    double C = e->d.hidden, V = e->d.vocab;
    return 2.0 * M * (C * C + C * V);
}
