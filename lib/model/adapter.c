/* adapter.c — Pfeiffer bottleneck adapters, Stack composition, the FFN hook
 * and the invertible (NICE) adapter.  See adapter.h for the semantics. */
#include "adapter.h"
#include "fusion.h"
#include "ops.h"
#include "rng.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t name_hash(const char *s, int layer)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(layer + 1) * 0x9E3779B97F4A7C15ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static void copy_name(char *dst, const char *src)
{
    if (strlen(src) >= XF_ADAPTER_NAME_MAX) die("adapter name too long: %s", src);
    strcpy(dst, src);
}

static float *grow(float *p, size_t n)
{
    free(p);
    return xmalloc_aligned(xmul(n, sizeof(float)));
}

/* ---- bottleneck ---- */

size_t xf_bottleneck_nparams(const xf_bottleneck *b)
{
    return (size_t)b->D * b->C * 2 + b->D + b->C;
}

static void bottleneck_views(float *base, float **dw, float **db, float **uw, float **ub, int C, int D)
{
    *dw = base;
    *db = *dw + (size_t)D * C;
    *uw = *db + D;
    *ub = *uw + (size_t)C * D;
}

void xf_bottleneck_init(xf_bottleneck *b, const char *name, int layer, int C, int reduction,
                        int trainable)
{
    memset(b, 0, sizeof *b);
    if (reduction <= 0 || C % reduction) die("adapter: hidden size %d not divisible by reduction %d", C, reduction);
    copy_name(b->name, name);
    b->layer = layer;
    b->C = C;
    b->D = C / reduction;
    size_t np = xf_bottleneck_nparams(b);
    b->params = xcalloc(np, sizeof(float));
    bottleneck_views(b->params, &b->down_w, &b->down_b, &b->up_w, &b->up_b, C, b->D);
    if (trainable) {
        b->grads = xcalloc(np, sizeof(float));
        bottleneck_views(b->grads, &b->g_down_w, &b->g_down_b, &b->g_up_w, &b->g_up_b, C, b->D);
    }
}

void xf_bottleneck_free(xf_bottleneck *b)
{
    free(b->params); free(b->grads);
    free(b->s); free(b->mean); free(b->rstd); free(b->z); free(b->r);
    memset(b, 0, sizeof *b);
}

void xf_bottleneck_init_weights(xf_bottleneck *b, uint64_t seed)
{
    xf_rng r;
    xf_rng_seed(&r, seed ^ name_hash(b->name, b->layer), XF_STREAM_INIT);
    size_t n = (size_t)b->D * b->C;
    for (size_t i = 0; i < n; i++) b->down_w[i] = (float)(0.02 * xf_rng_normal(&r));
    for (size_t i = 0; i < n; i++) b->up_w[i] = (float)(0.02 * xf_rng_normal(&r));
    memset(b->down_b, 0, sizeof(float) * (size_t)b->D);
    memset(b->up_b, 0, sizeof(float) * (size_t)b->C);
}

void xf_bottleneck_reserve(xf_bottleneck *b, int N)
{
    if (N <= b->cap) return;
    b->s = grow(b->s, (size_t)N * b->C);
    b->mean = grow(b->mean, (size_t)N);
    b->rstd = grow(b->rstd, (size_t)N);
    b->z = grow(b->z, (size_t)N * b->D);
    b->r = grow(b->r, (size_t)N * b->D);
    b->cap = N;
}

int xf_bottleneck_tensors(xf_bottleneck *b, xf_adapter_tensor *out)
{
    static const char *const part[4] = { "adapter_down.0.weight", "adapter_down.0.bias",
                                         "adapter_up.weight", "adapter_up.bias" };
    float *data[4] = { b->down_w, b->down_b, b->up_w, b->up_b };
    float *grad[4] = { b->g_down_w, b->g_down_b, b->g_up_w, b->g_up_b };
    int64_t shape[4][2] = { { b->D, b->C }, { b->D, 0 }, { b->C, b->D }, { b->C, 0 } };
    for (int i = 0; i < 4; i++) {
        snprintf(out[i].name, sizeof out[i].name, "encoder.layer.%d.output.adapters.%s.%s",
                 b->layer, b->name, part[i]);
        out[i].data = data[i];
        out[i].grad = grad[i];
        out[i].ndim = i % 2 ? 1 : 2;
        out[i].shape[0] = shape[i][0];
        out[i].shape[1] = shape[i][1];
        out[i].shape[2] = 0;
    }
    return 4;
}

/* Where a step's forward writes its activations: the bottleneck's own saved
 * buffers, or (forward only) scratch that the next step overwrites. */
typedef struct { float *s, *mean, *rstd, *z, *r; } step_acts;

static void step_forward(const xf_bottleneck *b, step_acts a, float *o, const float *prev,
                         const float *x, const float *ln_w, const float *ln_b, float eps, int N)
{
    int C = b->C, D = b->D;
    size_t NC = (size_t)N * C;
    for (size_t i = 0; i < NC; i++) a.s[i] = prev[i] + x[i];
    layernorm_forward(o, a.mean, a.rstd, a.s, ln_w, ln_b, N, C, eps);   /* o holds a for now */
    linear_forward(a.z, o, b->down_w, b->down_b, N, C, D);
    relu_forward(a.r, a.z, (size_t)N * D);
    linear_forward(o, a.r, b->up_w, b->up_b, N, D, C);
    for (size_t i = 0; i < NC; i++) o[i] += prev[i];
}

void xf_adapter_step_forward(xf_bottleneck *b, float *o, const float *prev, const float *x,
                             const float *ln_w, const float *ln_b, float eps, int N)
{
    xf_bottleneck_reserve(b, N);
    step_forward(b, (step_acts){ b->s, b->mean, b->rstd, b->z, b->r }, o, prev, x, ln_w, ln_b,
                 eps, N);
}

void xf_adapter_step_backward(xf_bottleneck *b, float *dprev, float *dx, float *dln_w,
                              float *dln_b, const float *dout, const float *ln_w,
                              const float *ln_b, int N, float *scratch)
{
    int C = b->C, D = b->D;
    size_t NC = (size_t)N * C, ND = (size_t)N * D;
    float *dr = scratch, *dz = dr + ND, *a = dz + ND, *da = a + NC;
    for (size_t i = 0; i < NC; i++) dprev[i] += dout[i];   /* residual */
    memset(dr, 0, sizeof(float) * ND);
    linear_backward(dr, b->g_up_w, b->g_up_b, dout, b->r, b->up_w, N, D, C);
    memset(dz, 0, sizeof(float) * ND);
    relu_backward(dz, b->z, dr, ND);
    /* recompute a = LN(s) rather than keep it */
    for (int n = 0; n < N; n++) {
        const float *s = b->s + (size_t)n * C;
        float *an = a + (size_t)n * C;
        for (int c = 0; c < C; c++)
            an[c] = (s[c] - b->mean[n]) * b->rstd[n] * ln_w[c] + ln_b[c];
    }
    memset(da, 0, sizeof(float) * NC);
    linear_backward(da, b->g_down_w, b->g_down_b, dz, a, b->down_w, N, C, D);
    float *ds = a;
    memset(ds, 0, sizeof(float) * NC);
    layernorm_backward(ds, dln_w, dln_b, da, b->s, ln_w, b->mean, b->rstd, N, C);
    for (size_t i = 0; i < NC; i++) { dprev[i] += ds[i]; dx[i] += ds[i]; }
}

/* ---- one layer: the stack ---- */

void xf_adapter_layer_init(xf_adapter_layer *L, int C)
{
    memset(L, 0, sizeof *L);
    L->C = C;
}

void xf_adapter_layer_push(xf_adapter_layer *L, xf_bottleneck *b)
{
    if (L->n == XF_ADAPTER_MAX_STACK) die("adapter stack deeper than %d", XF_ADAPTER_MAX_STACK);
    if (b->C != L->C) die("adapter %s: hidden size %d, layer has %d", b->name, b->C, L->C);
    L->fuse[L->n] = NULL;
    L->stack[L->n++] = b;
}

void xf_adapter_layer_push_fusion(xf_adapter_layer *L, xf_fusion *f)
{
    if (L->n == XF_ADAPTER_MAX_STACK) die("adapter stack deeper than %d", XF_ADAPTER_MAX_STACK);
    if (f->C != L->C) die("fusion %s: hidden size %d, layer has %d", f->name, f->C, L->C);
    L->stack[L->n] = NULL;
    L->fuse[L->n++] = f;
}

void xf_adapter_layer_free(xf_adapter_layer *L)
{
    free(L->sf); free(L->mean); free(L->rstd);
    memset(L, 0, sizeof *L);
}

static int max_bottleneck(const xf_adapter_layer *L)
{
    int D = 0;
    for (int k = 0; k < L->n; k++)
        if (L->stack[k] && L->stack[k]->D > D) D = L->stack[k]->D;
    return D;
}

size_t xf_adapter_layer_scratch_floats(const xf_adapter_layer *L, int N)
{
    int D = max_bottleneck(L);
    /* two [N,C] carries + the step backward's N(2C + 2D); forward only
     * (fwd_only_acts) uses the same N(2C + 2D) and 2N for the LN stats */
    size_t need = (size_t)N * (size_t)(4 * L->C + 2 * D + 2);
    for (int k = 0; k < L->n; k++) {   /* a fusion's acts or backward scratch after the carries */
        if (!L->fuse[k]) continue;
        size_t a = xf_fusion_fwd_floats(L->fuse[k], N, 0), b = xf_fusion_bwd_scratch_floats(L->fuse[k], N);
        size_t f = 2 * (size_t)N * L->C + (a > b ? a : b);
        if (f > need) need = f;
    }
    return need;
}

static void layer_reserve(xf_adapter_layer *L, int N)
{
    if (N <= L->cap) return;
    L->sf = grow(L->sf, (size_t)N * L->C);
    L->mean = grow(L->mean, (size_t)N);
    L->rstd = grow(L->rstd, (size_t)N);
    L->cap = N;
}

/* Forward only: the activations of every step and of the final LN live in
 * scratch after the two [N,C] carries, reused step after step:
 * s, sf [N,C], z, r [N,D], mean, rstd [N]. */
static step_acts fwd_only_acts(const xf_adapter_layer *L, float *scratch, int N, float **sf)
{
    int D = max_bottleneck(L);
    size_t NC = (size_t)N * L->C, ND = (size_t)N * D;
    float *p = scratch + 2 * NC;
    step_acts a = { .s = p, .z = p + 2 * NC, .r = p + 2 * NC + ND };
    *sf = p + NC;
    a.mean = a.r + ND;
    a.rstd = a.mean + N;
    return a;
}

static void layer_forward(xf_adapter_layer *L, float *y, const float *h, const float *x,
                          const float *ln_w, const float *ln_b, float eps, int N, float *scratch,
                          int keep, int train)
{
    size_t NC = (size_t)N * L->C;
    float *sf = NULL;
    step_acts tmp = { 0 };
    if (keep) layer_reserve(L, N);
    else tmp = fwd_only_acts(L, scratch, N, &sf);
    const float *prev = h;
    for (int k = 0; k < L->n; k++) {   /* the step outputs ping-pong in scratch */
        float *o = scratch + (size_t)(k % 2) * NC;
        if (L->fuse[k]) {
            xf_fusion_acts fa;
            if (!keep) fa = xf_fusion_acts_at(L->fuse[k], scratch + 2 * NC, N, 0);
            xf_fusion_step_forward(L->fuse[k], keep ? NULL : &fa, o, prev, x, ln_w, ln_b, eps,
                                   N, train);
        } else if (keep) xf_adapter_step_forward(L->stack[k], o, prev, x, ln_w, ln_b, eps, N);
        else step_forward(L->stack[k], tmp, o, prev, x, ln_w, ln_b, eps, N);
        prev = o;
    }
    if (keep) {
        sf = L->sf;
        tmp.mean = L->mean;
        tmp.rstd = L->rstd;
    }
    for (size_t i = 0; i < NC; i++) sf[i] = prev[i] + x[i];
    layernorm_forward(y, tmp.mean, tmp.rstd, sf, ln_w, ln_b, N, L->C, eps);
}

void xf_adapter_layer_forward(xf_adapter_layer *L, float *y, const float *h, const float *x,
                              const float *ln_w, const float *ln_b, float eps, int N,
                              float *scratch)
{
    layer_forward(L, y, h, x, ln_w, ln_b, eps, N, scratch, 1, 0);
}

void xf_adapter_layer_backward(xf_adapter_layer *L, float *dh, float *dx, float *dln_w,
                               float *dln_b, const float *dy, const float *h, const float *x,
                               const float *ln_w, const float *ln_b, float eps, int N,
                               float *scratch)
{
    if (N > L->cap) die("adapter layer backward: %d tokens, forward saved %d", N, L->cap);
    size_t NC = (size_t)N * L->C;
    float *cur = scratch, *nxt = cur + NC, *step = nxt + NC;
    memset(cur, 0, sizeof(float) * NC);
    layernorm_backward(cur, dln_w, dln_b, dy, L->sf, ln_w, L->mean, L->rstd, N, L->C);
    for (size_t i = 0; i < NC; i++) dx[i] += cur[i];
    for (int k = L->n - 1; k >= 0; k--) {
        memset(nxt, 0, sizeof(float) * NC);
        if (L->fuse[k]) xf_fusion_step_backward(L->fuse[k], nxt, dx, dln_w, dln_b, cur, ln_w, ln_b, N, step);
        else xf_adapter_step_backward(L->stack[k], nxt, dx, dln_w, dln_b, cur, ln_w, ln_b, N, step);
        float *t = cur; cur = nxt; nxt = t;
    }
    for (size_t i = 0; i < NC; i++) dh[i] += cur[i];
}

/* ---- all layers: the FFN hook ---- */

void xf_adapter_set_init(xf_adapter_set *s, int L, int C)
{
    memset(s, 0, sizeof *s);
    s->L = L;
    s->C = C;
    s->layer = xcalloc((size_t)L, sizeof *s->layer);
    for (int l = 0; l < L; l++) xf_adapter_layer_init(&s->layer[l], C);
}

void xf_adapter_set_forward_only(xf_adapter_set *s, int on)
{
    s->forward_only = on;
    if (!on) return;
    /* what earlier forwards kept for a backward is dead weight now */
    for (int l = 0; l < s->L; l++) {
        xf_adapter_layer *L = &s->layer[l];
        free(L->sf); free(L->mean); free(L->rstd);
        L->sf = L->mean = L->rstd = NULL;
        L->cap = 0;
        for (int k = 0; k < L->n; k++) {
            if (L->fuse[k]) {
                xf_fusion_drop_saved(L->fuse[k]);
                for (int i = 0; i < L->fuse[k]->n; i++) {
                    xf_bottleneck *b = L->fuse[k]->ad[i];
                    free(b->s); free(b->mean); free(b->rstd); free(b->z); free(b->r);
                    b->s = b->mean = b->rstd = b->z = b->r = NULL;
                    b->cap = 0;
                }
                continue;
            }
            xf_bottleneck *b = L->stack[k];
            free(b->s); free(b->mean); free(b->rstd); free(b->z); free(b->r);
            b->s = b->mean = b->rstd = b->z = b->r = NULL;
            b->cap = 0;
        }
    }
}

void xf_adapter_set_free(xf_adapter_set *s)
{
    for (int l = 0; l < s->L; l++) xf_adapter_layer_free(&s->layer[l]);
    free(s->layer);
    free(s->scratch);
    memset(s, 0, sizeof *s);
}

static xf_adapter_layer *set_layer(xf_adapter_set *s, int layer, int C, int N)
{
    if (layer < 0 || layer >= s->L || C != s->C)
        die("adapter hook: layer %d of %d, hidden %d vs %d", layer, s->L, C, s->C);
    xf_adapter_layer *L = &s->layer[layer];
    size_t need = xf_adapter_layer_scratch_floats(L, N);
    if (need > s->scratch_cap) {
        s->scratch = grow(s->scratch, need);
        s->scratch_cap = need;
    }
    return L;
}

void xf_adapters_ffn_forward(void *ctx, int layer, float *y, const float *h, const float *x,
                             const float *ln_w, const float *ln_b, float eps, int N, int C,
                             int train)
{
    xf_adapter_set *s = ctx;   /* bottlenecks have no dropout; a fusion's scores do */
    xf_adapter_layer *L = set_layer(s, layer, C, N);
    layer_forward(L, y, h, x, ln_w, ln_b, eps, N, s->scratch, !s->forward_only, train);
}

void xf_adapters_ffn_backward(void *ctx, int layer, float *dh, float *dx, float *dln_w,
                              float *dln_b, const float *dy, const float *h, const float *x,
                              const float *ln_w, const float *ln_b, float eps, int N, int C)
{
    xf_adapter_set *s = ctx;
    if (s->forward_only) die("adapter hook: backward after a forward-only forward");
    xf_adapter_layer *L = set_layer(s, layer, C, N);
    xf_adapter_layer_backward(L, dh, dx, dln_w, dln_b, dy, h, x, ln_w, ln_b, eps, N, s->scratch);
}

/* ---- invertible adapter ---- */

static size_t mlp_nparams(const xf_inv_mlp *m)
{
    return (size_t)m->hid * m->in + m->hid + (size_t)m->out * m->hid + m->out;
}

static float *mlp_views(float *p, float **w0, float **b0, float **w2, float **b2, const xf_inv_mlp *m)
{
    *w0 = p; p += (size_t)m->hid * m->in;
    *b0 = p; p += m->hid;
    *w2 = p; p += (size_t)m->out * m->hid;
    *b2 = p; p += m->out;
    return p;
}

size_t xf_invadapter_nparams(const xf_invadapter *a)
{
    return mlp_nparams(&a->F) + mlp_nparams(&a->G);
}

void xf_invadapter_init(xf_invadapter *a, const char *name, int C, int trainable)
{
    memset(a, 0, sizeof *a);
    if (C < 4) die("invertible adapter: hidden size %d too small", C);
    copy_name(a->name, name);
    a->C = C;
    a->C1 = C / 2;
    a->C2 = C - C / 2;
    a->F = (xf_inv_mlp){ .in = a->C2, .hid = a->C1 / 2, .out = a->C1 };
    a->G = (xf_inv_mlp){ .in = a->C1, .hid = a->C2 / 2, .out = a->C2 };
    size_t np = xf_invadapter_nparams(a);
    a->params = xcalloc(np, sizeof(float));
    float *p = mlp_views(a->params, &a->F.w0, &a->F.b0, &a->F.w2, &a->F.b2, &a->F);
    mlp_views(p, &a->G.w0, &a->G.b0, &a->G.w2, &a->G.b2, &a->G);
    if (trainable) {
        a->grads = xcalloc(np, sizeof(float));
        p = mlp_views(a->grads, &a->F.g_w0, &a->F.g_b0, &a->F.g_w2, &a->F.g_b2, &a->F);
        mlp_views(p, &a->G.g_w0, &a->G.g_b0, &a->G.g_w2, &a->G.g_b2, &a->G);
    }
}

static void saved_free(xf_inv_saved *s)
{
    free(s->in); free(s->mid); free(s->zF); free(s->rF); free(s->zG); free(s->rG);
    memset(s, 0, sizeof *s);
}

void xf_invadapter_free(xf_invadapter *a)
{
    free(a->params); free(a->grads);
    saved_free(&a->fwd);
    saved_free(&a->inv);
    memset(a, 0, sizeof *a);
}

static void uniform_fill(xf_rng *r, float *p, size_t n, double bound)
{
    for (size_t i = 0; i < n; i++) p[i] = (float)((2 * xf_rng_double(r) - 1) * bound);
}

static void mlp_init(xf_rng *r, xf_inv_mlp *m)
{
    double b0 = 1 / sqrt((double)m->in), b2 = 1 / sqrt((double)m->hid);
    uniform_fill(r, m->w0, (size_t)m->hid * m->in, b0);
    uniform_fill(r, m->b0, (size_t)m->hid, b0);
    uniform_fill(r, m->w2, (size_t)m->out * m->hid, b2);
    uniform_fill(r, m->b2, (size_t)m->out, b2);
}

void xf_invadapter_init_weights(xf_invadapter *a, uint64_t seed)
{
    xf_rng r;
    xf_rng_seed(&r, seed ^ name_hash(a->name, -2), XF_STREAM_INIT);
    mlp_init(&r, &a->F);
    mlp_init(&r, &a->G);
}

int xf_invadapter_tensors(xf_invadapter *a, xf_adapter_tensor *out)
{
    xf_inv_mlp *m[2] = { &a->F, &a->G };
    int k = 0;
    for (int i = 0; i < 2; i++) {
        float *data[4] = { m[i]->w0, m[i]->b0, m[i]->w2, m[i]->b2 };
        float *grad[4] = { m[i]->g_w0, m[i]->g_b0, m[i]->g_w2, m[i]->g_b2 };
        int64_t shape[4][2] = { { m[i]->hid, m[i]->in }, { m[i]->hid, 0 },
                                { m[i]->out, m[i]->hid }, { m[i]->out, 0 } };
        for (int j = 0; j < 4; j++, k++) {
            snprintf(out[k].name, sizeof out[k].name, "invertible_adapters.%s.%c.%d.%s", a->name,
                     i ? 'G' : 'F', j < 2 ? 0 : 2, j % 2 ? "bias" : "weight");
            out[k].data = data[j];
            out[k].grad = grad[j];
            out[k].ndim = j % 2 ? 1 : 2;
            out[k].shape[0] = shape[j][0];
            out[k].shape[1] = shape[j][1];
            out[k].shape[2] = 0;
        }
    }
    return k;
}

static void saved_reserve(xf_inv_saved *s, const xf_invadapter *a, int N)
{
    if (N <= s->cap) return;
    size_t half = (size_t)N * (size_t)(a->C2 > a->C1 ? a->C2 : a->C1);
    s->in = grow(s->in, half);
    s->mid = grow(s->mid, half);
    s->zF = grow(s->zF, (size_t)N * a->F.hid);
    s->rF = grow(s->rF, (size_t)N * a->F.hid);
    s->zG = grow(s->zG, (size_t)N * a->G.hid);
    s->rG = grow(s->rG, (size_t)N * a->G.hid);
    s->cap = N;
}

/* out[N,m.out] = w2 relu(w0 in + b0) + b2, keeping z and r */
static void mlp_forward(const xf_inv_mlp *m, float *out, float *z, float *r, const float *in, int N)
{
    linear_forward(z, in, m->w0, m->b0, N, m->in, m->hid);
    relu_forward(r, z, (size_t)N * m->hid);
    linear_forward(out, r, m->w2, m->b2, N, m->hid, m->out);
}

/* din += , parameter gradients += from dout */
static void mlp_backward(const xf_inv_mlp *m, float *din, const float *dout, const float *in,
                         const float *z, const float *r, int N)
{
    size_t nh = (size_t)N * m->hid;
    float *dr = xcalloc(nh * 2, sizeof(float)), *dz = dr + nh;
    linear_backward(dr, m->g_w2, m->g_b2, dout, r, m->w2, N, m->hid, m->out);
    relu_backward(dz, z, dr, nh);
    linear_backward(din, m->g_w0, m->g_b0, dz, in, m->w0, N, m->in, m->hid);
    free(dr);
}

/* Column halves of a [N,C] matrix to/from a contiguous [N,w] one. */
static void cols_get(float *dst, const float *src, int N, int C, int c0, int w)
{
    for (int n = 0; n < N; n++) memcpy(dst + (size_t)n * w, src + (size_t)n * C + c0, sizeof(float) * (size_t)w);
}

static void cols_add(float *dst, const float *src, int N, int C, int c0, int w, float sign)
{
    for (int n = 0; n < N; n++)
        for (int j = 0; j < w; j++) dst[(size_t)n * C + c0 + j] += sign * src[(size_t)n * w + j];
}

void xf_invadapter_forward(xf_invadapter *a, float *y, const float *x, int N)
{
    int C = a->C, C1 = a->C1, C2 = a->C2;
    xf_inv_saved *s = &a->fwd;
    saved_reserve(s, a, N);
    float *x2 = s->in, *y1 = s->mid;
    float *t = xmalloc(sizeof(float) * (size_t)N * (size_t)(C1 > C2 ? C1 : C2));
    cols_get(x2, x, N, C, C1, C2);
    mlp_forward(&a->F, y1, s->zF, s->rF, x2, N);              /* y1 = F(x2) ... */
    for (int n = 0; n < N; n++)
        for (int j = 0; j < C1; j++) y1[(size_t)n * C1 + j] += x[(size_t)n * C + j];   /* ... + x1 */
    mlp_forward(&a->G, t, s->zG, s->rG, y1, N);               /* G(y1) */
    for (int n = 0; n < N; n++) {
        memcpy(y + (size_t)n * C, y1 + (size_t)n * C1, sizeof(float) * (size_t)C1);
        for (int j = 0; j < C2; j++)
            y[(size_t)n * C + C1 + j] = x[(size_t)n * C + C1 + j] + t[(size_t)n * C2 + j];
    }
    free(t);
}

void xf_invadapter_backward(xf_invadapter *a, float *dx, const float *dy, int N)
{
    int C = a->C, C1 = a->C1, C2 = a->C2;
    xf_inv_saved *s = &a->fwd;
    if (N > s->cap) die("invertible adapter backward: %d tokens, forward saved %d", N, s->cap);
    float *dy1 = xmalloc(sizeof(float) * (size_t)N * C1), *dy2 = xmalloc(sizeof(float) * (size_t)N * C2);
    float *dx2 = xmalloc(sizeof(float) * (size_t)N * C2);
    cols_get(dy1, dy, N, C, 0, C1);
    cols_get(dy2, dy, N, C, C1, C2);
    memcpy(dx2, dy2, sizeof(float) * (size_t)N * C2);         /* y2 = x2 + G(y1) */
    mlp_backward(&a->G, dy1, dy2, s->mid, s->zG, s->rG, N);   /* dy1 += G'(y1)ᵀ dy2 */
    mlp_backward(&a->F, dx2, dy1, s->in, s->zF, s->rF, N);    /* y1 = x1 + F(x2) */
    cols_add(dx, dy1, N, C, 0, C1, 1);
    cols_add(dx, dx2, N, C, C1, C2, 1);
    free(dy1); free(dy2); free(dx2);
}

void xf_invadapter_inverse(xf_invadapter *a, float *x, const float *y, int N)
{
    int C = a->C, C1 = a->C1, C2 = a->C2;
    xf_inv_saved *s = &a->inv;
    saved_reserve(s, a, N);
    float *y1 = s->in, *x2 = s->mid;
    float *t = xmalloc(sizeof(float) * (size_t)N * (size_t)(C1 > C2 ? C1 : C2));
    cols_get(y1, y, N, C, 0, C1);
    mlp_forward(&a->G, t, s->zG, s->rG, y1, N);               /* x2 = y2 - G(y1) */
    for (int n = 0; n < N; n++)
        for (int j = 0; j < C2; j++)
            x2[(size_t)n * C2 + j] = y[(size_t)n * C + C1 + j] - t[(size_t)n * C2 + j];
    mlp_forward(&a->F, t, s->zF, s->rF, x2, N);               /* x1 = y1 - F(x2) */
    for (int n = 0; n < N; n++) {
        for (int j = 0; j < C1; j++)
            x[(size_t)n * C + j] = y1[(size_t)n * C1 + j] - t[(size_t)n * C1 + j];
        memcpy(x + (size_t)n * C + C1, x2 + (size_t)n * C2, sizeof(float) * (size_t)C2);
    }
    free(t);
}

void xf_invadapter_inverse_backward(xf_invadapter *a, float *dy, const float *dx, int N)
{
    int C = a->C, C1 = a->C1, C2 = a->C2;
    xf_inv_saved *s = &a->inv;
    if (N > s->cap) die("invertible adapter backward: %d tokens, inverse saved %d", N, s->cap);
    size_t n1 = (size_t)N * C1, n2 = (size_t)N * C2;
    float *dy1 = xmalloc(sizeof(float) * n1), *dx2 = xmalloc(sizeof(float) * n2);
    float *neg1 = xmalloc(sizeof(float) * n1), *neg2 = xmalloc(sizeof(float) * n2);
    cols_get(dy1, dx, N, C, 0, C1);                           /* x1 = y1 - F(x2): dy1 = dx1 */
    cols_get(dx2, dx, N, C, C1, C2);
    for (size_t i = 0; i < n1; i++) neg1[i] = -dy1[i];
    mlp_backward(&a->F, dx2, neg1, s->mid, s->zF, s->rF, N);  /* dx2 -= F'(x2)ᵀ dx1 */
    for (size_t i = 0; i < n2; i++) neg2[i] = -dx2[i];        /* x2 = y2 - G(y1): dy2 = dx2 */
    mlp_backward(&a->G, dy1, neg2, s->in, s->zG, s->rG, N);   /* dy1 -= G'(y1)ᵀ dx2 */
    cols_add(dy, dy1, N, C, 0, C1, 1);
    cols_add(dy, dx2, N, C, C1, C2, 1);
    free(dy1); free(dx2); free(neg1); free(neg2);
}

void xf_invadapter_emb_forward(void *ctx, float *y, const float *x, int N, int C, int train)
{
    xf_invadapter *a = ctx;
    (void)train;
    if (C != a->C) die("invertible adapter %s: hidden %d, model has %d", a->name, a->C, C);
    xf_invadapter_forward(a, y, x, N);
}

void xf_invadapter_emb_backward(void *ctx, float *dx, const float *dy, const float *x, int N, int C)
{
    xf_invadapter *a = ctx;
    (void)x;
    if (C != a->C) die("invertible adapter %s: hidden %d, model has %d", a->name, a->C, C);
    xf_invadapter_backward(a, dx, dy, N);
}

void xf_invadapter_head_forward(void *ctx, float *y, const float *x, int M, int C)
{
    xf_invadapter *a = ctx;
    if (C != a->C) die("invertible adapter %s: hidden %d, model has %d", a->name, a->C, C);
    xf_invadapter_inverse(a, y, x, M);
}

void xf_invadapter_head_backward(void *ctx, float *dx, const float *dy, const float *x, int M, int C)
{
    xf_invadapter *a = ctx;
    (void)x;
    if (C != a->C) die("invertible adapter %s: hidden %d, model has %d", a->name, a->C, C);
    xf_invadapter_inverse_backward(a, dx, dy, M);
}
