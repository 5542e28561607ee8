/* heads_tag.c — tagging and sequence-classification heads (heads.h). */
#include "heads.h"
#include "heads_internal.h"

#include <stdlib.h>

/* ---- tagging ---- */

void xf_tag_head_init(xf_tag_head *h, int H, int K)
{
    memset(h, 0, sizeof *h);
    h->H = H;
    h->K = K;
    h->params = xcalloc((size_t)K * H + K, sizeof(float));
    h->w = h->params;
    h->b = h->w + (size_t)K * H;
}

void xf_tag_head_enable_grads(xf_tag_head *h)
{
    if (h->grads) return;
    h->grads = xcalloc((size_t)h->K * h->H + h->K, sizeof(float));
    h->g_w = h->grads;
    h->g_b = h->g_w + (size_t)h->K * h->H;
}

void xf_tag_head_free(xf_tag_head *h)
{
    free(h->params);
    free(h->grads);
    memset(h, 0, sizeof *h);
}

void xf_tag_head_init_weights(xf_tag_head *h, float std, uint64_t seed)
{
    heads_normal_fill(h->w, (size_t)h->K * h->H, std, seed, 11);
    memset(h->b, 0, sizeof(float) * (size_t)h->K);
}

int xf_tag_head_tensors(xf_tag_head *h, const char *name, xf_adapter_tensor *out)
{
    heads_tensor(&out[0], name, "1.weight", h->w, h->g_w, h->K, h->H, 0);
    heads_tensor(&out[1], name, "1.bias", h->b, h->g_b, h->K, 0, 0);
    return 2;
}

float xf_tag_head_step(xf_tag_head *h, float *logits, float *dhid, const float *hid,
                       const int32_t *pos, const int32_t *gold, int M, float p_drop,
                       uint64_t seed, uint64_t offset)
{
    int H = h->H, K = h->K;
    if (M <= 0) return 0;
    float *X = xmalloc(sizeof(float) * (size_t)M * H);
    heads_gather_drop(X, hid, pos, M, H, p_drop, seed, offset);
    linear_forward(logits, X, h->w, h->b, M, H, K);
    float loss = 0;
    if (gold) {
        for (int m = 0; m < M; m++)
            if (gold[m] < 0 || gold[m] >= K) die("tagging head: label id %d outside 0..%d", gold[m], K - 1);
        int back = dhid != NULL;
        float *dlog = back ? xmalloc(sizeof(float) * (size_t)M * K) : NULL;
        loss = crossentropy_forward_backward(dlog, logits, gold, M, K, 1.0f);
        if (back) {
            float *dX = xcalloc((size_t)M * H, sizeof(float));
            linear_backward(dX, h->g_w, h->g_b, dlog, X, h->w, M, H, K);
            if (dhid) heads_scatter_drop(dhid, dX, pos, M, H, p_drop, seed, offset);
            free(dX);
        }
        free(dlog);
    }
    free(X);
    return loss;
}

/* ---- sequence classification ---- */

static void cls_views(float *p, float **w1, float **b1, float **w4, float **b4, int H, int K)
{
    *w1 = p;
    *b1 = *w1 + (size_t)H * H;
    *w4 = *b1 + H;
    *b4 = *w4 + (size_t)K * H;
}

static size_t cls_nparams(int H, int K) { return (size_t)H * H + H + (size_t)K * H + K; }

void xf_cls_head_init(xf_cls_head *h, int H, int K)
{
    memset(h, 0, sizeof *h);
    h->H = H;
    h->K = K;
    h->params = xcalloc(cls_nparams(H, K), sizeof(float));
    cls_views(h->params, &h->w1, &h->b1, &h->w4, &h->b4, H, K);
}

void xf_cls_head_enable_grads(xf_cls_head *h)
{
    if (h->grads) return;
    h->grads = xcalloc(cls_nparams(h->H, h->K), sizeof(float));
    cls_views(h->grads, &h->g_w1, &h->g_b1, &h->g_w4, &h->g_b4, h->H, h->K);
}

void xf_cls_head_free(xf_cls_head *h)
{
    free(h->params);
    free(h->grads);
    memset(h, 0, sizeof *h);
}

void xf_cls_head_init_weights(xf_cls_head *h, float std, uint64_t seed)
{
    heads_normal_fill(h->w1, (size_t)h->H * h->H, std, seed, 21);
    heads_normal_fill(h->w4, (size_t)h->K * h->H, std, seed, 22);
    memset(h->b1, 0, sizeof(float) * (size_t)h->H);
    memset(h->b4, 0, sizeof(float) * (size_t)h->K);
}

int xf_cls_head_tensors(xf_cls_head *h, const char *name, xf_adapter_tensor *out)
{
    heads_tensor(&out[0], name, "1.weight", h->w1, h->g_w1, h->H, h->H, 0);
    heads_tensor(&out[1], name, "1.bias", h->b1, h->g_b1, h->H, 0, 0);
    heads_tensor(&out[2], name, "4.weight", h->w4, h->g_w4, h->K, h->H, 0);
    heads_tensor(&out[3], name, "4.bias", h->b4, h->g_b4, h->K, 0, 0);
    return 4;
}

float xf_cls_head_step(xf_cls_head *h, float *logits, float *dhid, const float *hid,
                       const int32_t *cls, const int32_t *gold, int B, float p_drop,
                       uint64_t seed, uint64_t offset)
{
    int H = h->H, K = h->K;
    if (B <= 0) return 0;
    size_t BH = (size_t)B * H;
    float *X0 = xmalloc(sizeof(float) * BH * 4), *Z1 = X0 + BH, *T = Z1 + BH, *X3 = T + BH;
    heads_gather_drop(X0, hid, cls, B, H, p_drop, seed, offset);
    linear_forward(Z1, X0, h->w1, h->b1, B, H, H);
    tanh_forward(T, Z1, BH);
    for (int b = 0; b < B; b++)   /* second dropout, keyed by the [CLS] row as the first */
        dropout_forward(X3 + (size_t)b * H, T + (size_t)b * H, (size_t)H, p_drop, seed,
                        offset + HEADS_SITE2 + (uint64_t)cls[b] * (uint64_t)H);
    linear_forward(logits, X3, h->w4, h->b4, B, H, K);
    float loss = 0;
    if (gold) {
        for (int b = 0; b < B; b++)
            if (gold[b] < 0 || gold[b] >= K) die("classification head: label id %d outside 0..%d", gold[b], K - 1);
        int back = dhid != NULL;
        float *dlog = back ? xmalloc(sizeof(float) * (size_t)B * K) : NULL;
        loss = crossentropy_forward_backward(dlog, logits, gold, B, K, 1.0f);
        if (back) {
            float *d = xcalloc(BH * 4, sizeof(float)), *dX3 = d, *dT = d + BH, *dZ1 = dT + BH, *dX0 = dZ1 + BH;
            linear_backward(dX3, h->g_w4, h->g_b4, dlog, X3, h->w4, B, H, K);
            for (int b = 0; b < B; b++)
                dropout_backward(dT + (size_t)b * H, dX3 + (size_t)b * H, (size_t)H, p_drop, seed,
                                 offset + HEADS_SITE2 + (uint64_t)cls[b] * (uint64_t)H);
            tanh_backward(dZ1, T, dT, BH);
            linear_backward(dX0, h->g_w1, h->g_b1, dZ1, X0, h->w1, B, H, H);
            if (dhid) heads_scatter_drop(dhid, dX0, cls, B, H, p_drop, seed, offset);
            free(d);
        }
        free(dlog);
    }
    free(X0);
    return loss;
}
