/* fusion.c — AdapterFusion ("dynamic"), one stack step (fusion.h). */
#include "fusion.h"
#include "ops.h"
#include "ops_kernels.h"
#include "rng.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAR_FOR _Pragma("omp parallel for num_threads(N >= 64 ? xf_ops_threads() : 1) schedule(dynamic, 16)")

size_t xf_fusion_nparams(const xf_fusion *f)
{
    return (size_t)f->C * f->C * 3 + 2 * (size_t)f->C;
}

static void views(float *p, float **qw, float **qb, float **kw, float **kb, float **vw, int C)
{
    size_t CC = (size_t)C * C;
    *qw = p; *qb = p + CC; *kw = *qb + C; *kb = *kw + CC; *vw = *kb + C;
}

void xf_fusion_init(xf_fusion *f, xf_bottleneck *const *ad, int n, int layer, int C, int trainable)
{
    memset(f, 0, sizeof *f);
    if (n < 1 || n > XF_FUSION_MAX) die("fusion: %d adapters (1 to %d)", n, XF_FUSION_MAX);
    f->layer = layer;
    f->C = C;
    f->n = n;
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        if (ad[i]->C != C) die("fusion: adapter %s has hidden size %d, not %d", ad[i]->name, ad[i]->C, C);
        f->ad[i] = ad[i];
        if (ad[i]->D > f->D) f->D = ad[i]->D;
        size_t l = strlen(ad[i]->name);
        if (len + l + 2 > sizeof f->name) die("fusion: adapter names too long");
        if (i) f->name[len++] = ',';
        memcpy(f->name + len, ad[i]->name, l + 1);
        len += l;
    }
    size_t np = xf_fusion_nparams(f);
    f->params = xcalloc(np, sizeof(float));
    views(f->params, &f->q_w, &f->q_b, &f->k_w, &f->k_b, &f->v_w, C);
    if (trainable) {
        f->grads = xcalloc(np, sizeof(float));
        views(f->grads, &f->g_q_w, &f->g_q_b, &f->g_k_w, &f->g_k_b, &f->g_v_w, C);
    }
}

void xf_fusion_drop_saved(xf_fusion *f)
{
    free(f->saved);
    f->saved = NULL;
    f->cap = 0;
    memset(&f->acts, 0, sizeof f->acts);
}

void xf_fusion_params_changed(xf_fusion *f) { f->pre_valid = 0; }

/* The forward-only products (fusion.h). */
static void precompute(xf_fusion *f)
{
    int C = f->C;
    size_t CC = (size_t)C * C, need = CC + 2 * (size_t)C;
    for (int i = 0; i < f->n; i++) need += 2 * ((size_t)C * f->ad[i]->D + C) + f->ad[i]->D + C;
    if (!f->pre) f->pre = xmalloc_aligned(xmul(need, sizeof(float)));
    float *p = f->pre;
    f->w_qk = p; p += CC;
    f->b_qk = p; p += C;
    float *g_c = p; p += C;
    /* W[d,e] = Σ_c K[c,d] Q[c,e];  b_qk[d] = Σ_c bq[c] K[c,d];  g_c[e] = Σ_c bk[c] Q[c,e] */
    xf_gemm(1, 0, C, C, C, 1.0f, f->k_w, C, f->q_w, C, 0.0f, f->w_qk, C);
    xf_gemm(0, 0, 1, C, C, 1.0f, f->q_b, C, f->k_w, C, 0.0f, f->b_qk, C);
    xf_gemm(0, 0, 1, C, C, 1.0f, f->k_b, C, f->q_w, C, 0.0f, g_c, C);
    double c0 = 0;
    for (int c = 0; c < C; c++) c0 += (double)f->q_b[c] * f->k_b[c];
    for (int i = 0; i < f->n; i++) {
        const xf_bottleneck *b = f->ad[i];
        int D = b->D;
        f->wup[i] = p; p += (size_t)D * C;
        f->hup[i] = p; p += D;
        f->gs[i] = p; p += C;
        f->vup[i] = p; p += (size_t)C * D;
        f->vb[i] = p; p += C;
        /* wup_i[j,e] = Σ_d up[d,j] W[d,e];  hup_i[j] = Σ_d b_qk[d] up[d,j] */
        xf_gemm(1, 0, D, C, C, 1.0f, b->up_w, D, f->w_qk, C, 0.0f, f->wup[i], C);
        xf_gemm(0, 0, 1, D, C, 1.0f, f->b_qk, C, b->up_w, D, 0.0f, f->hup[i], D);
        /* gs_i[e] = Σ_d b_i[d] W[d,e] + g_c[e];  cs_i = b_i·b_qk + bq·bk */
        xf_gemm(0, 0, 1, C, C, 1.0f, b->up_b, C, f->w_qk, C, 0.0f, f->gs[i], C);
        double ci = c0;
        for (int c = 0; c < C; c++) {
            f->gs[i][c] += g_c[c];
            ci += (double)b->up_b[c] * f->b_qk[c];
        }
        f->cs[i] = (float)ci;
        /* vup_i = V·up_i [C,D];  vb_i = V·b_i */
        xf_gemm(0, 0, C, D, C, 1.0f, f->v_w, C, b->up_w, D, 0.0f, f->vup[i], D);
        linear_forward(f->vb[i], b->up_b, f->v_w, NULL, 1, C, C);
    }
    f->pre_valid = 1;
}

void xf_fusion_free(xf_fusion *f)
{
    free(f->pre);
    free(f->params);
    free(f->grads);
    free(f->saved);
    memset(f, 0, sizeof *f);
}

static uint64_t layer_hash(const char *s, int layer)
{
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)(layer + 1) * 0x9E3779B97F4A7C15ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

void xf_fusion_init_weights(xf_fusion *f, uint64_t seed)
{
    xf_rng r;
    xf_rng_seed(&r, seed ^ layer_hash(f->name, f->layer), XF_STREAM_INIT);
    size_t CC = (size_t)f->C * f->C;
    for (size_t i = 0; i < CC; i++) f->q_w[i] = (float)(0.02 * xf_rng_normal(&r));
    for (size_t i = 0; i < CC; i++) f->k_w[i] = (float)(0.02 * xf_rng_normal(&r));
    memset(f->q_b, 0, sizeof(float) * (size_t)f->C);
    memset(f->k_b, 0, sizeof(float) * (size_t)f->C);
    for (int i = 0; i < f->C; i++)
        for (int j = 0; j < f->C; j++) f->v_w[(size_t)i * f->C + j] = i == j ? 1.0f : 1e-6f;
}

int xf_fusion_tensors(xf_fusion *f, xf_adapter_tensor *out)
{
    static const char *const part[5] = { "query.weight", "query.bias", "key.weight", "key.bias",
                                         "value.weight" };
    float *data[5] = { f->q_w, f->q_b, f->k_w, f->k_b, f->v_w };
    float *grad[5] = { f->g_q_w, f->g_q_b, f->g_k_w, f->g_k_b, f->g_v_w };
    for (int i = 0; i < 5; i++) {
        if ((size_t)snprintf(out[i].name, sizeof out[i].name,
                             "encoder.layer.%d.output.adapter_fusion_layer.%s.%s", f->layer,
                             f->name, part[i]) >= sizeof out[i].name)
            die("fusion %s: tensor name too long", f->name);
        out[i].data = data[i];
        out[i].grad = grad[i];
        out[i].ndim = i % 2 && i < 4 ? 1 : 2;
        out[i].shape[0] = f->C;
        out[i].shape[1] = out[i].ndim == 2 ? f->C : 0;
        out[i].shape[2] = 0;
    }
    return 5;
}

size_t xf_fusion_fwd_floats(const xf_fusion *f, int N, int keep)
{
    size_t NC = (size_t)N * f->C, ND = (size_t)N * f->D;
    /* forward only needs no q, qk, mix (fwd_only folds them away) */
    return NC * (size_t)((keep ? 5 : 2) + f->n) + (size_t)N * (size_t)(2 + f->n) +
           2 * ND * (size_t)(keep ? f->n : 1);
}

size_t xf_fusion_bwd_scratch_floats(const xf_fusion *f, int N)
{
    size_t NC = (size_t)N * f->C, ND = (size_t)N * f->D;
    return 6 * NC + (size_t)N * (size_t)(2 * f->n + 1) + 2 * ND;
}

xf_fusion_acts xf_fusion_acts_at(const xf_fusion *f, float *buf, int N, int keep)
{
    size_t NC = (size_t)N * f->C, ND = (size_t)N * f->D;
    xf_fusion_acts a;
    a.s = buf;           buf += NC;
    a.a = buf;           buf += NC;
    a.q = a.qk = a.mix = NULL;
    if (keep) {
        a.q = buf;       buf += NC;
        a.qk = buf;      buf += NC;
        a.mix = buf;     buf += NC;
    }
    a.u = buf;           buf += NC * (size_t)f->n;
    a.mean = buf;        buf += N;
    a.rstd = buf;        buf += N;
    a.p = buf;           buf += (size_t)N * f->n;
    a.z = buf;           buf += ND * (size_t)(keep ? f->n : 1);
    a.r = buf;
    return a;
}

static void reserve(xf_fusion *f, int N)
{
    if (N <= f->cap) return;
    free(f->saved);
    f->saved = xmalloc_aligned(xmul(xf_fusion_fwd_floats(f, N, 1), sizeof(float)));
    f->cap = N;
}

/* Forward only, after a = LN(prev + x): scores from each adapter's ReLU
 * output r_i and the folded up_iᵀW (z reused), V u_i from the folded V·up_i
 * into the u buffer; q, qk and mix are not used. */
static void fwd_only(xf_fusion *f, const xf_fusion_acts *A, float *o, const float *prev, int N,
                     int train)
{
    int C = f->C, n = f->n;
    size_t NC = (size_t)N * C;
    if (!f->pre_valid) precompute(f);
    for (int i = 0; i < n; i++) {
        const xf_bottleneck *b = f->ad[i];
        int D = b->D;
        linear_forward(A->z, A->a, b->down_w, b->down_b, N, C, D);
        relu_forward(A->r, A->z, (size_t)N * D);
        /* s_i = r_i·(wup_i a + hup_i) + a·gs_i + cs_i  (z now holds wup_i a + hup_i) */
        linear_forward(A->z, A->a, f->wup[i], f->hup[i], N, C, D);
        PAR_FOR
        for (int t = 0; t < N; t++)
            A->p[(size_t)t * n + i] = xf_dot_row(A->z + (size_t)t * D, A->r + (size_t)t * D, D)
                                      + xf_dot_row(A->a + (size_t)t * C, f->gs[i], C) + f->cs[i];
        linear_forward(A->u + (size_t)i * NC, A->r, f->vup[i], f->vb[i], N, D, C);
    }
    if (train && f->p_drop > 0)
        dropout_forward(A->p, A->p, (size_t)N * n, f->p_drop, f->drop_seed,
                        XF_FUSION_DROPOUT_OFFSET(f->layer));
    softmax_rows(A->p, N, n);
    PAR_FOR
    for (int t = 0; t < N; t++) {
        float *y = o + (size_t)t * C;
        const float *p = A->p + (size_t)t * n, *pr = prev + (size_t)t * C;
        const float *v0 = A->u + (size_t)t * C;
        for (int c = 0; c < C; c++) y[c] = p[0] * v0[c];
        for (int i = 1; i < n; i++) {
            const float *vi = A->u + (size_t)i * NC + (size_t)t * C;
#pragma omp simd
            for (int c = 0; c < C; c++) y[c] += p[i] * vi[c];
        }
#pragma omp simd
        for (int c = 0; c < C; c++) y[c] += pr[c];
    }
}

void xf_fusion_step_forward(xf_fusion *f, const xf_fusion_acts *acts, float *o,
                            const float *prev, const float *x, const float *ln_w,
                            const float *ln_b, float eps, int N, int train)
{
    int C = f->C, n = f->n, keep = acts == NULL;
    size_t NC = (size_t)N * C;
    xf_fusion_acts A;
    if (keep) {
        reserve(f, N);
        A = f->acts = xf_fusion_acts_at(f, f->saved, N, 1);
        f->train = train;
        f->pre_valid = 0;   /* a training step may follow */
    } else {
        A = *acts;
    }
    for (size_t i = 0; i < NC; i++) A.s[i] = prev[i] + x[i];
    layernorm_forward(A.a, A.mean, A.rstd, A.s, ln_w, ln_b, N, C, eps);
    if (!keep) {
        fwd_only(f, &A, o, prev, N, train);
        return;
    }
    /* u_i = up_i(relu(down_i(a))), no residual */
    for (int i = 0; i < n; i++) {
        const xf_bottleneck *b = f->ad[i];
        size_t ND = (size_t)N * b->D, zo = keep ? (size_t)i * N * f->D : 0;
        linear_forward(A.z + zo, A.a, b->down_w, b->down_b, N, C, b->D);
        relu_forward(A.r + zo, A.z + zo, ND);
        linear_forward(A.u + (size_t)i * NC, A.r + zo, b->up_w, b->up_b, N, b->D, C);
    }
    /* q = Q a + bq;  qk = Kᵀ q (qk[n,d] = Σ_c q[n,c] K[c,d]) */
    linear_forward(A.q, A.a, f->q_w, f->q_b, N, C, C);
    xf_gemm(0, 0, N, C, C, 1.0f, A.q, C, f->k_w, C, 0.0f, A.qk, C);
    /* scores s_i = qk·u_i + q·bk = q·(K u_i + bk) */
    PAR_FOR
    for (int t = 0; t < N; t++) {
        const float *qk = A.qk + (size_t)t * C;
        float c = xf_dot_row(A.q + (size_t)t * C, f->k_b, C);
        for (int i = 0; i < n; i++)
            A.p[(size_t)t * n + i] = xf_dot_row(qk, A.u + (size_t)i * NC + (size_t)t * C, C) + c;
    }
    if (train && f->p_drop > 0)
        dropout_forward(A.p, A.p, (size_t)N * n, f->p_drop, f->drop_seed,
                        XF_FUSION_DROPOUT_OFFSET(f->layer));
    softmax_rows(A.p, N, n);
    /* mix = Σ p_i u_i;  o = V mix + prev */
    PAR_FOR
    for (int t = 0; t < N; t++) {
        float *m = A.mix + (size_t)t * C;
        const float *p = A.p + (size_t)t * n;
        const float *u0 = A.u + (size_t)t * C;
        for (int c = 0; c < C; c++) m[c] = p[0] * u0[c];
        for (int i = 1; i < n; i++) {
            const float *ui = A.u + (size_t)i * NC + (size_t)t * C;
#pragma omp simd
            for (int c = 0; c < C; c++) m[c] += p[i] * ui[c];
        }
    }
    linear_forward(o, A.mix, f->v_w, NULL, N, C, C);
    for (size_t i = 0; i < NC; i++) o[i] += prev[i];
}

void xf_fusion_step_backward(xf_fusion *f, float *dprev, float *dx, float *dln_w,
                             float *dln_b, const float *dout, const float *ln_w,
                             const float *ln_b, int N, float *scratch)
{
    (void)ln_b;
    if (N > f->cap) die("fusion backward: %d tokens, forward saved %d", N, f->cap);
    int C = f->C, n = f->n;
    size_t NC = (size_t)N * C;
    const xf_fusion_acts A = f->acts;
    float *da = scratch, *dmix = da + NC, *dqk = dmix + NC, *dq = dqk + NC, *du = dq + NC;
    float *ds = du + NC, *dp = ds + NC, *dsc = dp + (size_t)N * n, *dc = dsc + (size_t)N * n;
    float *dr = dc + N, *dz = dr + (size_t)N * f->D;
    for (size_t i = 0; i < NC; i++) dprev[i] += dout[i];   /* residual */
    /* o = V mix */
    memset(dmix, 0, sizeof(float) * NC);
    linear_backward(dmix, f->g_v_w, NULL, dout, A.mix, f->v_w, N, C, C);
    /* mix = Σ p_i u_i: dp_i = dmix·u_i */
    PAR_FOR
    for (int t = 0; t < N; t++)
        for (int i = 0; i < n; i++)
            dp[(size_t)t * n + i] = xf_dot_row(dmix + (size_t)t * C, A.u + (size_t)i * NC + (size_t)t * C, C);
    /* p = softmax(dropout(scores)) */
    memset(ds, 0, sizeof(float) * (size_t)N * n);
    softmax_rows_backward(ds, A.p, dp, N, n);
    memset(dsc, 0, sizeof(float) * (size_t)N * n);
    if (f->train && f->p_drop > 0)
        dropout_backward(dsc, ds, (size_t)N * n, f->p_drop, f->drop_seed,
                         XF_FUSION_DROPOUT_OFFSET(f->layer));
    else
        memcpy(dsc, ds, sizeof(float) * (size_t)N * n);
    /* s_i = qk·u_i + q·bk: dqk = Σ dsc_i u_i; dc = Σ dsc_i; dq = dc·bk */
    PAR_FOR
    for (int t = 0; t < N; t++) {
        float *g = dqk + (size_t)t * C, *gq = dq + (size_t)t * C;
        const float *sc = dsc + (size_t)t * n;
        float c = 0;
        for (int k = 0; k < C; k++) g[k] = 0;
        for (int i = 0; i < n; i++) {
            const float *ui = A.u + (size_t)i * NC + (size_t)t * C;
            c += sc[i];
#pragma omp simd
            for (int k = 0; k < C; k++) g[k] += sc[i] * ui[k];
        }
        dc[t] = c;
        for (int k = 0; k < C; k++) gq[k] = c * f->k_b[k];
    }
    if (f->g_k_b)   /* dbk = Σ_t dc_t q_t */
        xf_gemm(1, 0, 1, C, N, 1.0f, dc, 1, A.q, C, 1.0f, f->g_k_b, C);
    /* qk = q K: dq += dqk Kᵀ, dK += qᵀ dqk */
    xf_gemm(0, 1, N, C, C, 1.0f, dqk, C, f->k_w, C, 1.0f, dq, C);
    if (f->g_k_w) xf_gemm(1, 0, C, C, N, 1.0f, A.q, C, dqk, C, 1.0f, f->g_k_w, C);
    /* q = Q a + bq */
    memset(da, 0, sizeof(float) * NC);
    linear_backward(da, f->g_q_w, f->g_q_b, dq, A.a, f->q_w, N, C, C);
    /* each adapter: du_i = p_i dmix + dsc_i qk */
    for (int i = 0; i < n; i++) {
        xf_bottleneck *b = f->ad[i];
        size_t ND = (size_t)N * b->D, zo = (size_t)i * N * f->D;
        PAR_FOR
        for (int t = 0; t < N; t++) {
            float pi = A.p[(size_t)t * n + i], si = dsc[(size_t)t * n + i];
            const float *gm = dmix + (size_t)t * C, *qk = A.qk + (size_t)t * C;
            float *g = du + (size_t)t * C;
#pragma omp simd
            for (int k = 0; k < C; k++) g[k] = pi * gm[k] + si * qk[k];
        }
        memset(dr, 0, sizeof(float) * ND);
        linear_backward(dr, b->g_up_w, b->g_up_b, du, A.r + zo, b->up_w, N, b->D, C);
        memset(dz, 0, sizeof(float) * ND);
        relu_backward(dz, A.z + zo, dr, ND);
        linear_backward(da, b->g_down_w, b->g_down_b, dz, A.a, b->down_w, N, C, b->D);
    }
    /* a = LN(prev + x) */
    memset(ds, 0, sizeof(float) * NC);
    layernorm_backward(ds, dln_w, dln_b, da, A.s, ln_w, A.mean, A.rstd, N, C);
    for (size_t i = 0; i < NC; i++) { dprev[i] += ds[i]; dx[i] += ds[i]; }
}

double xf_fusion_reg(xf_fusion *f)
{
    double r = 0;
    int C = f->C;
    for (int i = 0; i < C; i++)
        for (int j = 0; j < C; j++) {
            size_t k = (size_t)i * C + j;
            double d = (i == j ? 1.0 : 0.0) - f->v_w[k];
            r += d * d;
            if (f->g_v_w) f->g_v_w[k] += (float)(-0.02 * d);
        }
    return 0.01 * r;
}
