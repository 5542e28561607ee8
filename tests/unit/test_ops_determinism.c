/* test_ops_determinism.c — every op, attention and the linked GEMM backend
 * (BLIS, OpenBLAS or oneDNN: gemm.h) give bitwise-identical results on 1
 * and on 2 threads (the GEMMs on 3 threads too).  Shapes are big enough
 * that the ops really split their work (rows over several chunks, loops
 * above the one-thread cut-off) and, for the GEMMs, are the encoder's. */
#include <criterion/criterion.h>
#include <omp.h>
#include <string.h>

#include "adamw.h"
#include "attention.h"
#include "fdcheck.h"
#include "gemm.h"
#include "ops.h"
#include "util.h"

static void fini(void) { xf_ops_set_threads(1); }

/* Runs FN(ctx, outputs...) with 1 and 2 threads on fresh copies of the
 * outputs' initial state and compares the outputs byte for byte. */
#define MAXOUT 8
struct outs { int n; float *p[MAXOUT]; size_t len[MAXOUT]; const char *name[MAXOUT]; };

static void run_threads(void (*fn)(void *, float **), void *ctx, const struct outs *o, int nt)
{
    float *a[MAXOUT], *b[MAXOUT];
    for (int i = 0; i < o->n; i++) {
        a[i] = fvec(o->len[i]);
        b[i] = fvec(o->len[i]);
        memcpy(a[i], o->p[i], o->len[i] * sizeof(float));
        memcpy(b[i], o->p[i], o->len[i] * sizeof(float));
    }
    xf_ops_set_threads(1);
    fn(ctx, a);
    xf_ops_set_threads(nt);
    fn(ctx, b);
    xf_ops_set_threads(1);
    for (int i = 0; i < o->n; i++) {
        size_t diff = 0;
        for (size_t k = 0; k < o->len[i]; k++) diff += memcmp(&a[i][k], &b[i][k], sizeof(float)) != 0;
        cr_expect_eq(diff, 0, "%s (%s): %zu of %zu elements differ between 1 and %d threads",
                     o->name[i], xf_gemm_kernel(), diff, o->len[i], nt);
        free(a[i]);
        free(b[i]);
    }
}

static void run_both(void (*fn)(void *, float **), void *ctx, const struct outs *o)
{
    run_threads(fn, ctx, o, 2);
}

static float *rnd(size_t n, uint64_t seed)
{
    float *p = fvec(n);
    fill_uniform(p, n, -1, 1, seed);
    return p;
}

/* ---- GEMM ---- */

struct g { int tA, tB, M, N, K; float *A, *B; };
static void g_fn(void *p, float **o)
{
    struct g *c = p;
    xf_gemm(c->tA, c->tB, c->M, c->N, c->K, 1.0f, c->A, c->tA ? c->M : c->K, c->B,
            c->tB ? c->K : c->N, 1.0f, o[0], c->N);
}

Test(determinism, sgemm_encoder_shapes, .fini = fini)
{
    /* linear forward (inp·wᵀ), dinp (dout·w), dw (doutᵀ·inp), the
     * masked-row vocabulary projection, and sizes off the micro-tile grid */
    static const int sh[][5] = {
        {0, 1, 4096, 768, 768},  {0, 1, 4096, 3072, 768}, {0, 0, 4096, 768, 3072},
        {1, 0, 768, 3072, 4096}, {1, 0, 3072, 768, 4096}, {0, 1, 613, 4000, 768},
        {0, 0, 613, 768, 4000},  {1, 0, 4000, 768, 613},  {0, 1, 1001, 771, 769},
        /* few columns: the split goes over rows (attention-sized products) */
        {0, 1, 4096, 64, 768},   {0, 0, 4096, 200, 300},  {1, 1, 700, 200, 300},
    };
    for (size_t s = 0; s < sizeof sh / sizeof *sh; s++) {
        struct g c = {sh[s][0], sh[s][1], sh[s][2], sh[s][3], sh[s][4]};
        c.A = rnd((size_t)c.M * c.K, 1);
        c.B = rnd((size_t)c.K * c.N, 2);
        struct outs o = {1, {rnd((size_t)c.M * c.N, 3)}, {(size_t)c.M * c.N}, {"sgemm"}};
        run_threads(g_fn, &c, &o, 2);
        run_threads(g_fn, &c, &o, 3);
        free(c.A), free(c.B), free(o.p[0]);
    }
}

/* ---- linear, layernorm ---- */

enum { N = 1000, CC = 192, OC = 320 };

struct lin { float *inp, *w, *b, *dout; };
static void lin_fn(void *p, float **o)
{
    struct lin *c = p;
    linear_forward(o[0], c->inp, c->w, c->b, N, CC, OC);
    linear_backward(o[1], o[2], o[3], c->dout, c->inp, c->w, N, CC, OC);
}

Test(determinism, linear, .fini = fini)
{
    struct lin c = {rnd(N * CC, 1), rnd(OC * CC, 2), rnd(OC, 3), rnd(N * OC, 4)};
    struct outs o = {4, {rnd(N * OC, 5), rnd(N * CC, 6), rnd(OC * CC, 7), rnd(OC, 8)},
                     {N * OC, N * CC, OC * CC, OC}, {"out", "dinp", "dw", "db"}};
    run_both(lin_fn, &c, &o);
}

struct ln { float *inp, *w, *b, *dout; };
static void ln_fn(void *p, float **o)
{
    struct ln *c = p;
    layernorm_forward(o[0], o[1], o[2], c->inp, c->w, c->b, N, CC, 1e-12f);
    layernorm_backward(o[3], o[4], o[5], c->dout, c->inp, c->w, o[1], o[2], N, CC);
}

Test(determinism, layernorm, .fini = fini)
{
    struct ln c = {rnd(N * CC, 1), rnd(CC, 2), rnd(CC, 3), rnd(N * CC, 4)};
    struct outs o = {6, {rnd(N * CC, 5), rnd(N, 6), rnd(N, 7), rnd(N * CC, 8), rnd(CC, 9), rnd(CC, 10)},
                     {N * CC, N, N, N * CC, CC, CC}, {"out", "mean", "rstd", "dinp", "dw", "db"}};
    run_both(ln_fn, &c, &o);
}

/* ---- element-wise ---- */

enum { NE = 200000 };
struct ew { float *inp, *dout; };
static void ew_fn(void *p, float **o)
{
    struct ew *c = p;
    gelu_forward(o[0], c->inp, NE);
    gelu_backward(o[1], c->inp, c->dout, NE);
    relu_forward(o[2], c->inp, NE);
    relu_backward(o[3], c->inp, c->dout, NE);
    tanh_forward(o[4], c->inp, NE);
    tanh_backward(o[5], o[4], c->dout, NE);
    dropout_forward(o[6], c->inp, NE, 0.1f, 5, 77);
    dropout_backward(o[7], c->dout, NE, 0.1f, 5, 77);
}

Test(determinism, elementwise, .fini = fini)
{
    struct ew c = {rnd(NE, 1), rnd(NE, 2)};
    struct outs o = {8, {0}, {0}, {"gelu", "gelu'", "relu", "relu'", "tanh", "tanh'", "dropout",
                                 "dropout'"}};
    for (int i = 0; i < 8; i++) o.p[i] = rnd(NE, 3 + i), o.len[i] = NE;
    for (size_t i = 0; i < NE; i++) c.inp[i] *= 5.0f;
    run_both(ew_fn, &c, &o);
}

/* ---- embedding, softmax, cross-entropy ---- */

enum { NT = 2000, V = 50, EC = 768, SM = 300, SC = 512, CM = 40, CV = 5000 };
struct misc { int32_t ids[NT], tg[CM]; float *wte, *dout, *sdout, *logits; float loss[2]; int run; };
static void misc_fn(void *p, float **o)
{
    struct misc *c = p;
    embedding_forward(o[0], c->ids, c->wte, NT, EC);
    embedding_backward(o[1], c->ids, c->dout, NT, EC);
    softmax_rows(o[2], SM, SC);
    softmax_rows_backward(o[3], o[2], c->sdout, SM, SC);
    c->loss[c->run++] = crossentropy_forward_backward(o[4], c->logits, c->tg, CM, CV, 0.5f);
}

Test(determinism, embedding_softmax_crossentropy, .fini = fini)
{
    static struct misc c;
    for (int i = 0; i < NT; i++) c.ids[i] = (i * 7) % V;   /* every id repeated 40 times */
    for (int i = 0; i < CM; i++) c.tg[i] = (i * 131) % CV;
    c.wte = rnd(V * EC, 1), c.dout = rnd(NT * EC, 2), c.sdout = rnd(SM * SC, 3);
    c.logits = rnd(CM * CV, 4);
    struct outs o = {5, {rnd(NT * EC, 5), rnd(V * EC, 6), rnd(SM * SC, 7), rnd(SM * SC, 8), rnd(CM * CV, 9)},
                     {NT * EC, V * EC, SM * SC, SM * SC, CM * CV},
                     {"embedding", "dwte", "softmax", "softmax'", "dlogits"}};
    run_both(misc_fn, &c, &o);
    cr_expect_eq(memcmp(&c.loss[0], &c.loss[1], sizeof(float)), 0, "loss %g vs %g", c.loss[0],
                 c.loss[1]);
}

/* ---- attention ---- */

enum { AB = 2, AT = 64, AC = 128, AH = 4 };
struct att { int32_t am[AB * AT]; float *qkv, *dout; };
static void att_fn(void *p, float **o)
{
    struct att *c = p;
    attention_forward(o[0], o[1], c->qkv, c->am, AB, AT, AC, AH, 0.1f, 9, 1234);
    attention_backward(o[2], NULL, c->dout, c->qkv, o[1], c->am, AB, AT, AC, AH, 0.1f, 9, 1234);
}

Test(determinism, attention, .fini = fini)
{
    static struct att c;
    for (int i = 0; i < AB * AT; i++) c.am[i] = i < AB * AT - 17;   /* batch 1 padded */
    c.qkv = rnd(AB * AT * 3 * AC, 1), c.dout = rnd(AB * AT * AC, 2);
    struct outs o = {3, {rnd(AB * AT * AC, 3), rnd(AB * AH * AT * AT, 4), rnd(AB * AT * 3 * AC, 5)},
                     {AB * AT * AC, AB * AH * AT * AT, AB * AT * 3 * AC}, {"out", "probs", "dqkv"}};
    run_both(att_fn, &c, &o);
}

/* ---- AdamW (vectorised, OpenMP's own thread count) ---- */

enum { AN = 100003 };   /* not a multiple of the chunk or of a vector */
struct adam { float *g; };
static void adam_fn(void *p, float **o)
{
    struct adam *c = p;
    xf_adamw opt = xf_adamw_defaults();
    opt.weight_decay = 0.01f;
    omp_set_num_threads(xf_ops_threads());
    for (long t = 1; t <= 3; t++) xf_adamw_update(&opt, o[0], c->g, o[1], o[2], AN, 1e-3f, t, 1);
    omp_set_num_threads(1);
}

Test(determinism, adamw, .fini = fini)
{
    struct adam c = {rnd(AN, 1)};
    float *v = rnd(AN, 4);
    for (size_t i = 0; i < AN; i++) v[i] = v[i] * v[i];   /* second moments are >= 0 */
    struct outs o = {3, {rnd(AN, 2), rnd(AN, 3), v}, {AN, AN, AN}, {"p", "m", "v"}};
    run_both(adam_fn, &c, &o);
    run_threads(adam_fn, &c, &o, 3);
}
