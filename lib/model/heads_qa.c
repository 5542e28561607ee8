/* heads_qa.c — extractive QA head and answer-span extraction (heads.h). */
#include "heads.h"
#include "heads_internal.h"

#include <stdlib.h>

void xf_qa_head_init(xf_qa_head *h, int H)
{
    memset(h, 0, sizeof *h);
    h->H = H;
    h->params = xcalloc((size_t)2 * H + 2, sizeof(float));
    h->w = h->params;
    h->b = h->w + (size_t)2 * H;
}

void xf_qa_head_enable_grads(xf_qa_head *h)
{
    if (h->grads) return;
    h->grads = xcalloc((size_t)2 * h->H + 2, sizeof(float));
    h->g_w = h->grads;
    h->g_b = h->g_w + (size_t)2 * h->H;
}

void xf_qa_head_free(xf_qa_head *h)
{
    free(h->params);
    free(h->grads);
    memset(h, 0, sizeof *h);
}

void xf_qa_head_init_weights(xf_qa_head *h, float std, uint64_t seed)
{
    heads_normal_fill(h->w, (size_t)2 * h->H, std, seed, 31);
    h->b[0] = h->b[1] = 0;
}

int xf_qa_head_tensors(xf_qa_head *h, const char *name, xf_adapter_tensor *out)
{
    heads_tensor(&out[0], name, "1.weight", h->w, h->g_w, 2, h->H, 0);
    heads_tensor(&out[1], name, "1.bias", h->b, h->g_b, 2, 0, 0);
    return 2;
}

float xf_qa_head_step(xf_qa_head *h, float *logits, float *dhid, const float *hid,
                      const int32_t *base, const int32_t *len, const int32_t *gold_start,
                      const int32_t *gold_end, int B, float p_drop, uint64_t seed,
                      uint64_t offset)
{
    int H = h->H, M = 0, maxT = 0;
    for (int b = 0; b < B; b++) {
        if (len[b] <= 0) die("QA head: window %d is empty", b);
        M += len[b];
        if (len[b] > maxT) maxT = len[b];
    }
    if (M == 0) return 0;
    int32_t *rows = xmalloc(sizeof *rows * (size_t)M);
    for (int b = 0, m = 0; b < B; b++)
        for (int t = 0; t < len[b]; t++) rows[m++] = base[b] + t;
    float *X = xmalloc(sizeof(float) * (size_t)M * H), *L = xmalloc(sizeof(float) * (size_t)M * 2);
    heads_gather_drop(X, hid, rows, M, H, p_drop, seed, offset);
    linear_forward(L, X, h->w, h->b, M, H, 2);
    for (int m = 0; m < M; m++) {
        logits[(size_t)rows[m] * 2] = L[(size_t)m * 2];
        logits[(size_t)rows[m] * 2 + 1] = L[(size_t)m * 2 + 1];
    }
    float loss = 0;
    if (gold_start && gold_end) {
        int back = dhid != NULL;
        float *dL = xcalloc((size_t)M * 2, sizeof(float));
        float *col = xmalloc(sizeof(float) * (size_t)maxT), *dcol = xmalloc(sizeof(float) * (size_t)maxT);
        for (int b = 0, m0 = 0; b < B; m0 += len[b], b++) {
            const int32_t *gold[2] = { &gold_start[b], &gold_end[b] };
            for (int k = 0; k < 2; k++) {
                if (*gold[k] < 0 || *gold[k] >= len[b])
                    die("QA head: gold position %d outside window of %d tokens", *gold[k], len[b]);
                for (int t = 0; t < len[b]; t++) col[t] = L[(size_t)(m0 + t) * 2 + k];
                loss += crossentropy_forward_backward(back ? dcol : NULL, col, gold[k], 1, len[b],
                                                      0.5f / (float)B) * 0.5f / (float)B;
                if (back)
                    for (int t = 0; t < len[b]; t++) dL[(size_t)(m0 + t) * 2 + k] = dcol[t];
            }
        }
        if (back) {
            float *dX = xcalloc((size_t)M * H, sizeof(float));
            linear_backward(dX, h->g_w, h->g_b, dL, X, h->w, M, H, 2);
            if (dhid) heads_scatter_drop(dhid, dX, rows, M, H, p_drop, seed, offset);
            free(dX);
        }
        free(dL); free(col); free(dcol);
    }
    free(rows); free(X); free(L);
    return loss;
}

/* Indices of the n largest of v[T] (stride 2), largest first, lower index first on ties. */
static int top_n(const float *v, int T, int n, int *out)
{
    int k = 0;
    for (int t = 0; t < T; t++) {
        float x = v[(size_t)t * 2];
        if (k == n && !(x > v[(size_t)out[k - 1] * 2])) continue;
        int i = k < n ? k++ : k - 1;
        while (i > 0 && x > v[(size_t)out[i - 1] * 2]) { out[i] = out[i - 1]; i--; }
        out[i] = t;
    }
    return k;
}

int xf_qa_best_span(const xf_qa_window *w, int nw, int n_best, int max_len, int *bs, int *be,
                    float *score)
{
    if (n_best < 1 || max_len < 1) die("QA answer extraction: n-best %d, max length %d", n_best, max_len);
    int found = 0;
    float best = 0;
    int *si = xmalloc(sizeof(int) * (size_t)n_best), *ei = xmalloc(sizeof(int) * (size_t)n_best);
    for (int k = 0; k < nw; k++) {
        const float *lg = w[k].logits;
        const int32_t *off = w[k].offsets;
        int ns = top_n(lg, w[k].T, n_best, si), ne = top_n(lg + 1, w[k].T, n_best, ei);
        for (int a = 0; a < ns; a++)
            for (int b = 0; b < ne; b++) {
                int s = si[a], e = ei[b];
                if (off[2 * s] < 0 || off[2 * e] < 0) continue;     /* outside the context */
                if (e < s || e - s + 1 > max_len) continue;
                float sc = lg[2 * s] + lg[2 * e + 1];
                if (!found || sc > best) {
                    found = 1;
                    best = sc;
                    *bs = off[2 * s];
                    *be = off[2 * e + 1];
                }
            }
    }
    free(si);
    free(ei);
    if (found && score) *score = best;
    return found;
}
