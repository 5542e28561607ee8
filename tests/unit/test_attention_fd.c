/* test_attention_fd.c — attention forward against a double-precision
 * reference written from HF BertSelfAttention's math, and finite-difference
 * checks of the backward with a padding mask, without and with dropout. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "attention.h"
#include "fdcheck.h"
#include "ops.h"
#include "rng.h"

enum { B = 2, T = 5, C = 8, H = 2, DH = C / H };
/* batch 0 unpadded; batch 1 with its last two tokens padded */
static const int32_t AM[B * T] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0};

/* out and probs in double, straight from the definition */
static void reference(double *out, double *probs, const float *qkv, const int32_t *am, float p,
                      uint64_t seed, uint64_t off)
{
    memset(out, 0, sizeof(double) * B * T * C);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < T; i++) {
                double s[T], mx = -INFINITY, z = 0;
                for (int j = 0; j < T; j++) {
                    double d = 0;
                    for (int k = 0; k < DH; k++)
                        d += (double)qkv[(b * T + i) * 3 * C + h * DH + k] *
                             qkv[(b * T + j) * 3 * C + C + h * DH + k];
                    s[j] = d / sqrt((double)DH) + (am[b * T + j] ? 0.0 : -(double)FLT_MAX);
                    mx = fmax(mx, s[j]);
                }
                for (int j = 0; j < T; j++) z += (s[j] = exp(s[j] - mx));
                for (int j = 0; j < T; j++) {
                    double pr = s[j] / z;
                    size_t idx = ((size_t)(b * H + h) * T + i) * T + j;
                    probs[idx] = pr;
                    if (p > 0) pr = xf_hash_uniform(seed, XF_STREAM_DROPOUT, off + idx) >= p
                                        ? pr / (1.0 - p) : 0.0;
                    for (int k = 0; k < DH; k++)
                        out[(b * T + i) * C + h * DH + k] +=
                            pr * qkv[(b * T + j) * 3 * C + 2 * C + h * DH + k];
                }
            }
}

struct att { float p; uint64_t seed, off; float *qkv, *out, *probs, *r; };
static double att_loss(void *q)
{
    struct att *c = q;
    attention_forward(c->out, c->probs, c->qkv, AM, B, T, C, H, c->p, c->seed, c->off);
    return dot_loss(c->out, c->r, (size_t)B * T * C);
}

static void check(float p)
{
    struct att c = {.p = p, .seed = 7, .off = 1000};
    size_t nq = (size_t)B * T * 3 * C, no = (size_t)B * T * C, np = (size_t)B * H * T * T;
    c.qkv = fvec(nq), c.out = fvec(no), c.probs = fvec(np), c.r = fvec(no);
    fill_uniform(c.qkv, nq, -1.5f, 1.5f, 11);
    fill_uniform(c.r, no, -1, 1, 12);
    att_loss(&c);
    double *ro = calloc(no, sizeof(double)), *rp = calloc(np, sizeof(double));
    reference(ro, rp, c.qkv, AM, p, c.seed, c.off);
    for (size_t i = 0; i < no; i++)
        cr_assert(fabs(c.out[i] - ro[i]) < 1e-5, "out[%zu] %g vs %g", i, c.out[i], ro[i]);
    for (size_t i = 0; i < np; i++)
        cr_assert(fabs(c.probs[i] - rp[i]) < 1e-6, "probs[%zu] %g vs %g", i, c.probs[i], rp[i]);
    /* eval form without saved probs gives the same output */
    float *o2 = fvec(no);
    attention_forward(o2, NULL, c.qkv, AM, B, T, C, H, p, c.seed, c.off);
    cr_assert_arr_eq(o2, c.out, no * sizeof(float));
    free(o2);
    /* padded keys get exactly zero probability */
    for (int h = 0; h < H; h++)
        for (int i = 0; i < T; i++)
            for (int j = 3; j < T; j++) cr_assert_eq(c.probs[((size_t)(H + h) * T + i) * T + j], 0.0f);

    float *d = fvec(nq);
    for (size_t i = 0; i < nq; i++) d[i] = 0.25f;   /* backward accumulates */
    attention_backward(d, NULL, c.r, c.qkv, c.probs, AM, B, T, C, H, p, c.seed, c.off);
    for (size_t i = 0; i < nq; i++) d[i] -= 0.25f;
    cr_assert_eq(fd_check("attention dqkv", c.qkv, nq, d, att_loss, &c, FD_H), 0);
    /* padded keys and values receive no gradient */
    for (int t = 3; t < T; t++)
        for (int k = C; k < 3 * C; k++) cr_assert_eq(d[(size_t)(T + t) * 3 * C + k], 0.0f);

    /* a caller-provided scratch gives the same result */
    float *d2 = fvec(nq), *scratch = fvec(attention_scratch_floats(T));
    attention_backward(d2, scratch, c.r, c.qkv, c.probs, AM, B, T, C, H, p, c.seed, c.off);
    for (size_t i = 0; i < nq; i++) cr_assert_float_eq(d2[i], d[i], 1e-6);
    free(c.qkv), free(c.out), free(c.probs), free(c.r), free(ro), free(rp), free(d), free(d2),
        free(scratch);
}

Test(attention, masked_fd_no_dropout) { check(0.0f); }
Test(attention, masked_fd_with_dropout) { check(0.3f); }

/* HF adds finfo.min, which keeps a fully padded sequence finite: its rows
 * softmax to uniform over all keys instead of NaN. */
Test(attention, fully_masked_sequence_is_uniform)
{
    static const int32_t am[B * T] = {1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
    size_t nq = (size_t)B * T * 3 * C, no = (size_t)B * T * C, np = (size_t)B * H * T * T;
    float *qkv = fvec(nq), *out = fvec(no), *probs = fvec(np);
    fill_uniform(qkv, nq, -1.5f, 1.5f, 3);
    attention_forward(out, probs, qkv, am, B, T, C, H, 0.0f, 1, 0);
    for (size_t i = (size_t)H * T * T; i < np; i++) cr_assert_float_eq(probs[i], 1.0f / T, 1e-7);
    for (size_t i = 0; i < no; i++) cr_assert(isfinite(out[i]));
    free(qkv), free(out), free(probs);
}

Test(attention, bad_head_count_dies, .exit_code = 1)
{
    float x[3 * 6] = {0}, o[6], pr[4];
    int32_t am[1] = {1};
    attention_forward(o, pr, x, am, 1, 1, 6, 4, 0.0f, 0, 0);
}
