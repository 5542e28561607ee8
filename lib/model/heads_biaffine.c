/* heads_biaffine.c — biaffine dependency parsing head (heads.h). */
#include "heads.h"
#include "heads_internal.h"
#include "mst.h"

#include <stdlib.h>

static size_t biaffine_nparams(int H, int R)
{
    return (size_t)(H + 1) * H + (size_t)R * (H + 1) * (H + 1);
}

void xf_biaffine_head_init(xf_biaffine_head *h, int H, int R)
{
    memset(h, 0, sizeof *h);
    h->H = H;
    h->R = R;
    h->params = xcalloc(biaffine_nparams(H, R), sizeof(float));   /* zero init, as the library */
    h->wa = h->params;
    h->wr = h->wa + (size_t)(H + 1) * H;
    h->rel_cache_bytes = (size_t)256 << 20;
}

void xf_biaffine_head_enable_grads(xf_biaffine_head *h)
{
    if (h->grads) return;
    h->grads = xcalloc(biaffine_nparams(h->H, h->R), sizeof(float));
    h->g_wa = h->grads;
    h->g_wr = h->g_wa + (size_t)(h->H + 1) * h->H;
}

void xf_biaffine_head_free(xf_biaffine_head *h)
{
    free(h->params);
    free(h->grads);
    memset(h, 0, sizeof *h);
}

int xf_biaffine_head_tensors(xf_biaffine_head *h, const char *name, xf_adapter_tensor *out)
{
    heads_tensor(&out[0], name, "biaffine_arcs.weight", h->wa, h->g_wa, 1, h->H + 1, h->H);
    heads_tensor(&out[1], name, "biaffine_rels.weight", h->wr, h->g_wr, h->R, h->H + 1, h->H + 1);
    return 2;
}

/* The vectors of one sentence after dropout: rows used, U = [dep;1] [n,H+1],
 * HV = [cls; dep] [n+1,H]. */
typedef struct {
    int n, H, nrows;
    int32_t *rows;     /* [CLS] row, then every subword row of every word */
    float *D;          /* dropped rows [nrows,H] */
    float *U, *HV;
} sent_vecs;

static void sent_build(sent_vecs *v, const float *hid, const xf_dep_sentence *s, int H, float p,
                       uint64_t seed, uint64_t offset)
{
    int n = s->n;
    v->n = n;
    v->H = H;
    v->nrows = 1;
    for (int i = 0; i < n; i++) {
        if (s->start[i] < 1 || s->end[i] <= s->start[i])
            die("biaffine head: word %d has subword span %d:%d", i + 1, s->start[i], s->end[i]);
        v->nrows += s->end[i] - s->start[i];
    }
    v->rows = xmalloc(sizeof *v->rows * (size_t)v->nrows);
    v->rows[0] = s->base;
    for (int i = 0, k = 1; i < n; i++)
        for (int t = s->start[i]; t < s->end[i]; t++) v->rows[k++] = s->base + t;
    v->D = xmalloc(sizeof(float) * (size_t)v->nrows * H);
    heads_gather_drop(v->D, hid, v->rows, v->nrows, H, p, seed, offset);
    v->U = xcalloc((size_t)n * (H + 1), sizeof(float));
    v->HV = xmalloc(sizeof(float) * (size_t)(n + 1) * H);
    memcpy(v->HV, v->D, sizeof(float) * (size_t)H);
    for (int i = 0, k = 1; i < n; i++) {
        float *u = v->U + (size_t)i * (H + 1);
        int len = s->end[i] - s->start[i];
        for (int t = 0; t < len; t++, k++)
            for (int c = 0; c < H; c++) u[c] += v->D[(size_t)k * H + c];
        for (int c = 0; c < H; c++) u[c] /= (float)len;
        u[H] = 1;
        memcpy(v->HV + (size_t)(i + 1) * H, u, sizeof(float) * (size_t)H);
    }
}

static void sent_free(sent_vecs *v)
{
    free(v->rows); free(v->D); free(v->U); free(v->HV);
}

/* arc[n, n+1] = (U Wa) HVᵀ; P = U Wa kept for the backward. */
static void arc_scores(const xf_biaffine_head *h, const sent_vecs *v, float *P, float *arc)
{
    int n = v->n, H = h->H;
    xf_gemm(0, 0, n, H, H + 1, 1, v->U, H + 1, h->wa, H, 0, P, H);
    xf_gemm(0, 1, n, n + 1, H, 1, P, H, v->HV, H, 0, arc, n + 1);
}

/* V[i] = [hv_{heads[i]}; 1] */
static void head_rows(const sent_vecs *v, const int32_t *heads, float *V)
{
    int H = v->H;
    for (int i = 0; i < v->n; i++) {
        memcpy(V + (size_t)i * (H + 1), v->HV + (size_t)heads[i] * H, sizeof(float) * (size_t)H);
        V[(size_t)i * (H + 1) + H] = 1;
    }
}

/* Relation scores S[w,r] = U_w ᵀ Wr[r] V_w for W words at once.  Viewing Wr
 * as Wf [R(H+1), H+1] (rows (r,i)), M = V Wfᵀ holds Σ_j Wr[r,i,j] V[w,j], so
 * one large GEMM per chunk of words does the work of R small ones; the
 * backward is two more: dV += G Wf and dWf += Gᵀ V with G[w,(r,i)] =
 * dS[w,r] U[w,i], and dU[w,i] += Σ_r dS[w,r] M[w,(r,i)]. */
#define REL_CHUNK 64

/* M_all, when not NULL, is [W, R(H+1)]: the forward keeps M there and the
 * backward uses it instead of recomputing it (and overwrites it with G). */
static void rel_forward(const xf_biaffine_head *h, const float *U, const float *V, int W, float *S,
                        float *M_all)
{
    int H1 = h->H + 1, R = h->R;
    size_t RH = (size_t)R * H1;
    float *M = M_all ? NULL : xmalloc(sizeof(float) * RH * (size_t)(W < REL_CHUNK ? W : REL_CHUNK));
    for (int w0 = 0; w0 < W; w0 += REL_CHUNK) {
        int wc = W - w0 < REL_CHUNK ? W - w0 : REL_CHUNK;
        float *Mc = M_all ? M_all + (size_t)w0 * RH : M;
        xf_gemm(0, 1, wc, (int)RH, H1, 1, V + (size_t)w0 * H1, H1, h->wr, H1, 0, Mc, (int)RH);
        for (int w = 0; w < wc; w++) {
            const float *u = U + (size_t)(w0 + w) * H1;
            for (int r = 0; r < R; r++) {
                const float *m = Mc + (size_t)w * RH + (size_t)r * H1;
                double acc = 0;
                for (int i = 0; i < H1; i++) acc += (double)u[i] * m[i];
                S[(size_t)(w0 + w) * R + r] = (float)acc;
            }
        }
    }
    free(M);
}

static void rel_backward(const xf_biaffine_head *h, const float *U, const float *V, int W,
                         const float *dS, float *dU, float *dV, float *M_all)
{
    int H1 = h->H + 1, R = h->R;
    size_t RH = (size_t)R * H1;
    float *M = M_all ? NULL : xmalloc(sizeof(float) * RH * (size_t)(W < REL_CHUNK ? W : REL_CHUNK));
    for (int w0 = 0; w0 < W; w0 += REL_CHUNK) {
        int wc = W - w0 < REL_CHUNK ? W - w0 : REL_CHUNK;
        const float *Vc = V + (size_t)w0 * H1;
        float *Mc = M_all ? M_all + (size_t)w0 * RH : M;
        if (!M_all) xf_gemm(0, 1, wc, (int)RH, H1, 1, Vc, H1, h->wr, H1, 0, Mc, (int)RH);
        for (int w = 0; w < wc; w++) {
            const float *u = U + (size_t)(w0 + w) * H1, *ds = dS + (size_t)(w0 + w) * R;
            float *du = dU + (size_t)(w0 + w) * H1;
            for (int r = 0; r < R; r++) {
                float *m = Mc + (size_t)w * RH + (size_t)r * H1;   /* becomes G in place */
                for (int i = 0; i < H1; i++) {
                    du[i] += ds[r] * m[i];
                    m[i] = ds[r] * u[i];
                }
            }
        }
        xf_gemm(0, 0, wc, H1, (int)RH, 1, Mc, (int)RH, h->wr, H1, 1, dV + (size_t)w0 * H1, H1);
        if (h->g_wr) xf_gemm(1, 0, (int)RH, H1, wc, 1, Mc, (int)RH, Vc, H1, 1, h->g_wr, H1);
    }
    free(M);
}

static void check_gold(const xf_dep_sentence *s, int R)
{
    for (int i = 0; i < s->n; i++) {
        if (s->heads[i] < 0 || s->heads[i] > s->n) die("biaffine head: head %d of word %d outside 0..%d", s->heads[i], i + 1, s->n);
        if (s->rels[i] < 0 || s->rels[i] >= R) die("biaffine head: relation id %d outside 0..%d", s->rels[i], R - 1);
    }
}

float xf_biaffine_head_step(xf_biaffine_head *h, float *dhid, const float *hid,
                            const xf_dep_sentence *sent, int S, float p_drop, uint64_t seed,
                            uint64_t offset)
{
    int H = h->H, H1 = H + 1, R = h->R;
    int words = 0, gold = 1;
    for (int k = 0; k < S; k++) {
        words += sent[k].n;
        if (!sent[k].heads || !sent[k].rels) gold = 0;
    }
    if (!gold || words == 0) return 0;
    int back = dhid != NULL;
    sent_vecs *v = xcalloc((size_t)S, sizeof *v);
    float **dHV = xcalloc((size_t)S, sizeof *dHV);
    float *U = xmalloc(sizeof(float) * (size_t)words * H1), *V = xmalloc(sizeof(float) * (size_t)words * H1);
    float *dU = xcalloc((size_t)words * H1, sizeof(float)), *dV = xcalloc((size_t)words * H1, sizeof(float));
    int32_t *rels = xmalloc(sizeof *rels * (size_t)words);
    double loss = 0;
    /* arcs, sentence by sentence; gather the (dependent, gold head) pairs */
    for (int k = 0, w0 = 0; k < S; w0 += sent[k].n, k++) {
        const xf_dep_sentence *s = &sent[k];
        int n = s->n;
        if (n == 0) continue;
        check_gold(s, R);
        sent_build(&v[k], hid, s, H, p_drop, seed, offset);
        float wgt = (float)n / (float)words;   /* batch mean = Σ sentence means × n / words */
        float *P = xmalloc(sizeof(float) * (size_t)n * H), *arc = xmalloc(sizeof(float) * (size_t)n * (n + 1));
        float *darc = back ? xmalloc(sizeof(float) * (size_t)n * (n + 1)) : NULL;
        arc_scores(h, &v[k], P, arc);
        loss += wgt * crossentropy_forward_backward(darc, arc, s->heads, n, n + 1, wgt);
        memcpy(U + (size_t)w0 * H1, v[k].U, sizeof(float) * (size_t)n * H1);
        head_rows(&v[k], s->heads, V + (size_t)w0 * H1);
        memcpy(rels + w0, s->rels, sizeof *rels * (size_t)n);
        if (back) {
            float *dP = xmalloc(sizeof(float) * (size_t)n * H);
            dHV[k] = xmalloc(sizeof(float) * (size_t)(n + 1) * H);
            xf_gemm(0, 0, n, H, n + 1, 1, darc, n + 1, v[k].HV, H, 0, dP, H);
            xf_gemm(1, 0, n + 1, H, n, 1, darc, n + 1, P, H, 0, dHV[k], H);
            if (h->g_wa) xf_gemm(1, 0, H1, H, n, 1, v[k].U, H1, dP, H, 1, h->g_wa, H);
            xf_gemm(0, 1, n, H1, H, 1, dP, H, h->wa, H, 1, dU + (size_t)w0 * H1, H1);
            free(dP);
        }
        free(P); free(arc); free(darc);
    }
    /* relations at the gold heads, all words of the batch at once */
    float *rs = xmalloc(sizeof(float) * (size_t)words * R), *drs = back ? xmalloc(sizeof(float) * (size_t)words * R) : NULL;
    size_t mbytes = sizeof(float) * (size_t)words * R * H1;
    float *M_all = back && mbytes <= h->rel_cache_bytes ? xmalloc(mbytes) : NULL;
    rel_forward(h, U, V, words, rs, M_all);
    loss += crossentropy_forward_backward(drs, rs, rels, words, R, 1.0f);
    if (back) rel_backward(h, U, V, words, drs, dU, dV, M_all);
    free(M_all);
    /* back to the subword rows */
    for (int k = 0, w0 = 0; back && k < S; w0 += sent[k].n, k++) {
        const xf_dep_sentence *s = &sent[k];
        int n = s->n;
        if (n == 0) continue;
        if (dhid) {
            for (int i = 0; i < n; i++) {   /* row 0 of dHV = [CLS], row j = word j */
                float *dst = dHV[k] + (size_t)s->heads[i] * H;
                const float *dv = dV + (size_t)(w0 + i) * H1, *du = dU + (size_t)(w0 + i) * H1;
                for (int c = 0; c < H; c++) dst[c] += dv[c];
                dst = dHV[k] + (size_t)(i + 1) * H;
                for (int c = 0; c < H; c++) dst[c] += du[c];
            }
            float *dD = xmalloc(sizeof(float) * (size_t)v[k].nrows * H);
            memcpy(dD, dHV[k], sizeof(float) * (size_t)H);
            for (int i = 0, r = 1; i < n; i++) {
                int len = s->end[i] - s->start[i];
                for (int t = 0; t < len; t++, r++)
                    for (int c = 0; c < H; c++)
                        dD[(size_t)r * H + c] = dHV[k][(size_t)(i + 1) * H + c] / (float)len;
            }
            heads_scatter_drop(dhid, dD, v[k].rows, v[k].nrows, H, p_drop, seed, offset);
            free(dD);
        }
    }
    for (int k = 0; k < S; k++) {
        if (sent[k].n) sent_free(&v[k]);
        free(dHV[k]);
    }
    free(v); free(dHV); free(U); free(V); free(dU); free(dV); free(rels); free(rs); free(drs);
    return (float)loss;
}

void xf_biaffine_head_predict(const xf_biaffine_head *h, const float *hid,
                              const xf_dep_sentence *s, int decode,
                              int32_t *heads, int32_t *rels, float *arc_out)
{
    int n = s->n, H = h->H, H1 = H + 1, R = h->R;
    if (n == 0) return;
    sent_vecs v;
    sent_build(&v, hid, s, H, 0, 0, 0);
    float *P = xmalloc(sizeof(float) * (size_t)n * H), *arc = xmalloc(sizeof(float) * (size_t)n * (n + 1));
    arc_scores(h, &v, P, arc);
    float *full = xmalloc(sizeof(float) * (size_t)(n + 1) * (n + 1));
    for (int j = 0; j <= n; j++) full[j] = 0;
    memcpy(full + n + 1, arc, sizeof(float) * (size_t)n * (n + 1));
    if (decode == XF_DECODE_MST) xf_mst_decode(full, n, heads);
    else xf_greedy_heads(full, n, heads);
    if (arc_out) memcpy(arc_out, full, sizeof(float) * (size_t)(n + 1) * (n + 1));
    float *V = xmalloc(sizeof(float) * (size_t)n * H1);
    float *rs = xmalloc(sizeof(float) * (size_t)n * R);
    head_rows(&v, heads, V);
    rel_forward(h, v.U, V, n, rs, NULL);
    for (int i = 0; i < n; i++) {
        int best = 0;
        for (int r = 1; r < R; r++)
            if (rs[(size_t)i * R + r] > rs[(size_t)i * R + best]) best = r;
        rels[i] = best;
    }
    free(P); free(arc); free(full); free(V); free(rs);
    sent_free(&v);
}
