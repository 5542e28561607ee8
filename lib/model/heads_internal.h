/* heads_internal.h — helpers shared by the heads_*.c files (not public). */
#ifndef XF_HEADS_INTERNAL_H
#define XF_HEADS_INTERNAL_H

#include "ops.h"
#include "rng.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* out[m] = dropout(hid[rows[m]]), the mask keyed by the row (see heads.h). */
static inline void heads_gather_drop(float *out, const float *hid, const int32_t *rows, int M,
                                     int H, float p, uint64_t seed, uint64_t offset)
{
    for (int m = 0; m < M; m++)
        dropout_forward(out + (size_t)m * H, hid + (size_t)rows[m] * H, (size_t)H, p, seed,
                        offset + (uint64_t)rows[m] * (uint64_t)H);
}

/* dhid[rows[m]] += dropout'(dout[m]) */
static inline void heads_scatter_drop(float *dhid, const float *dout, const int32_t *rows, int M,
                                      int H, float p, uint64_t seed, uint64_t offset)
{
    for (int m = 0; m < M; m++)
        dropout_backward(dhid + (size_t)rows[m] * H, dout + (size_t)m * H, (size_t)H, p, seed,
                         offset + (uint64_t)rows[m] * (uint64_t)H);
}

static inline void heads_normal_fill(float *p, size_t n, float std, uint64_t seed, uint64_t salt)
{
    xf_rng r;
    xf_rng_seed(&r, seed ^ (salt * 0x9E3779B97F4A7C15ull), XF_STREAM_INIT);
    for (size_t i = 0; i < n; i++) p[i] = (float)(std * xf_rng_normal(&r));
}

/* Fills one xf_adapter_tensor: "heads.NAME.PART", shape d0 (× d1 × d2 when > 0). */
static inline void heads_tensor(xf_adapter_tensor *t, const char *name, const char *part,
                                float *data, float *grad, int64_t d0, int64_t d1, int64_t d2)
{
    snprintf(t->name, sizeof t->name, "heads.%s.%s", name, part);
    t->data = data;
    t->grad = grad;
    t->ndim = d2 > 0 ? 3 : d1 > 0 ? 2 : 1;
    t->shape[0] = d0;
    t->shape[1] = d1;
    t->shape[2] = d2;
}

/* Distinct dropout sites inside one head (the second dropout of the
 * classification head) get offsets far from the first. */
#define HEADS_SITE2 (1ull << 60)

#endif
