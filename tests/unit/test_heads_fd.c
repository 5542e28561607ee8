/* test_heads_fd.c — task heads: finite-difference checks of the backward of
 * the tagging, classification, QA and biaffine heads (loss = the head's own
 * cross-entropy; dropout on, its masks fixed by the seed), hand-computed
 * losses at zero init, decoding and QA answer extraction. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fdcheck.h"
#include "heads.h"
#include "mst.h"

#define P_DROP 0.2f
#define SEED 1234
#define OFFSET 77

enum { H = 8, NTOK = 12 };

static float *random_hidden(uint64_t seed)
{
    float *h = fvec((size_t)NTOK * H);
    fill_uniform(h, (size_t)NTOK * H, -1, 1, seed);
    return h;
}

/* gradient prefilled with 0.25 must come back as 0.25 + gradient */
static void unprefill(float *g, size_t n) { for (size_t i = 0; i < n; i++) g[i] -= 0.25f; }
static float *prefilled(size_t n) { float *g = fvec(n); for (size_t i = 0; i < n; i++) g[i] = 0.25f; return g; }

/* ---- tagging ---- */

typedef struct { xf_tag_head h; float *hid, *logits; } tag_case;
static const int32_t tag_pos[] = { 1, 3, 4, 9 }, tag_gold[] = { 2, 0, 4, 1 };

static double tag_loss(void *ctx)
{
    tag_case *t = ctx;
    return xf_tag_head_step(&t->h, t->logits, NULL, t->hid, tag_pos, tag_gold, 4, P_DROP, SEED, OFFSET);
}

Test(heads, tagging_fd)
{
    tag_case t;
    xf_tag_head_init(&t.h, H, 5);
    xf_tag_head_enable_grads(&t.h);
    fill_uniform(t.h.params, (size_t)5 * H + 5, -0.5f, 0.5f, 3);
    t.hid = random_hidden(4);
    t.logits = fvec(4 * 5);
    float *dhid = prefilled((size_t)NTOK * H);
    xf_tag_head_step(&t.h, t.logits, dhid, t.hid, tag_pos, tag_gold, 4, P_DROP, SEED, OFFSET);
    unprefill(dhid, (size_t)NTOK * H);
    int bad = fd_check("dhid", t.hid, (size_t)NTOK * H, dhid, tag_loss, &t, FD_H);
    bad += fd_check("params", t.h.params, (size_t)5 * H + 5, t.h.grads, tag_loss, &t, FD_H);
    cr_assert_eq(bad, 0);
    for (int c = 0; c < H; c++) cr_assert_eq(dhid[0 * H + c], 0);   /* rows not tagged get nothing */
    xf_tag_head_free(&t.h);
}

Test(heads, tagging_zero_init_loss_and_eval_logits)
{
    xf_tag_head h;
    xf_tag_head_init(&h, H, 5);
    float *hid = random_hidden(5), logits[20];
    float loss = xf_tag_head_step(&h, logits, NULL, hid, tag_pos, tag_gold, 4, 0, 0, 0);
    cr_assert_float_eq(loss, logf(5), 1e-5);
    fill_uniform(h.params, (size_t)5 * H + 5, -0.5f, 0.5f, 3);
    xf_tag_head_step(&h, logits, NULL, hid, tag_pos, NULL, 4, 0, 0, 0);   /* eval: no dropout */
    for (int m = 0; m < 4; m++)
        for (int k = 0; k < 5; k++) {
            double s = h.b[k];
            for (int c = 0; c < H; c++) s += (double)h.w[k * H + c] * hid[tag_pos[m] * H + c];
            cr_assert_float_eq(logits[m * 5 + k], s, 1e-5);
        }
    xf_tag_head_free(&h);
}

/* ---- classification ---- */

typedef struct { xf_cls_head h; float *hid, *logits; } cls_case;
static const int32_t cls_rows[] = { 0, 6 }, cls_gold[] = { 2, 0 };

static size_t cls_np(void) { return (size_t)H * H + H + (size_t)3 * H + 3; }

static double cls_loss(void *ctx)
{
    cls_case *t = ctx;
    return xf_cls_head_step(&t->h, t->logits, NULL, t->hid, cls_rows, cls_gold, 2, P_DROP, SEED, OFFSET);
}

Test(heads, classification_fd)
{
    cls_case t;
    xf_cls_head_init(&t.h, H, 3);
    xf_cls_head_enable_grads(&t.h);
    fill_uniform(t.h.params, cls_np(), -0.5f, 0.5f, 6);
    t.hid = random_hidden(7);
    t.logits = fvec(2 * 3);
    float *dhid = prefilled((size_t)NTOK * H);
    xf_cls_head_step(&t.h, t.logits, dhid, t.hid, cls_rows, cls_gold, 2, P_DROP, SEED, OFFSET);
    unprefill(dhid, (size_t)NTOK * H);
    int bad = fd_check("dhid", t.hid, (size_t)NTOK * H, dhid, cls_loss, &t, FD_H);
    bad += fd_check("params", t.h.params, cls_np(), t.h.grads, cls_loss, &t, FD_H);
    cr_assert_eq(bad, 0);
    xf_cls_head_free(&t.h);
}

Test(heads, classification_zero_init_loss)
{
    xf_cls_head h;
    xf_cls_head_init(&h, H, 3);
    float *hid = random_hidden(8), logits[6];
    cr_assert_float_eq(xf_cls_head_step(&h, logits, NULL, hid, cls_rows, cls_gold, 2, P_DROP, 1, 2),
                       logf(3), 1e-5);
    xf_cls_head_free(&h);
}

/* ---- QA ---- */

typedef struct { xf_qa_head h; float *hid, *logits; } qa_case;
static const int32_t qa_base[] = { 0, 7 }, qa_len[] = { 7, 5 }, qa_s[] = { 3, 0 }, qa_e[] = { 5, 0 };

static double qa_loss(void *ctx)
{
    qa_case *t = ctx;
    return xf_qa_head_step(&t->h, t->logits, NULL, t->hid, qa_base, qa_len, qa_s, qa_e, 2, P_DROP, SEED, OFFSET);
}

Test(heads, qa_fd)
{
    qa_case t;
    xf_qa_head_init(&t.h, H);
    xf_qa_head_enable_grads(&t.h);
    fill_uniform(t.h.params, (size_t)2 * H + 2, -0.5f, 0.5f, 9);
    t.hid = random_hidden(10);
    t.logits = fvec((size_t)NTOK * 2);
    float *dhid = prefilled((size_t)NTOK * H);
    xf_qa_head_step(&t.h, t.logits, dhid, t.hid, qa_base, qa_len, qa_s, qa_e, 2, P_DROP, SEED, OFFSET);
    unprefill(dhid, (size_t)NTOK * H);
    int bad = fd_check("dhid", t.hid, (size_t)NTOK * H, dhid, qa_loss, &t, FD_H);
    bad += fd_check("params", t.h.params, (size_t)2 * H + 2, t.h.grads, qa_loss, &t, FD_H);
    cr_assert_eq(bad, 0);
    xf_qa_head_free(&t.h);
}

Test(heads, qa_zero_init_loss)
{
    /* uniform logits: (log 7 + log 7)/2 for window 1, log 5 for window 2, mean */
    xf_qa_head h;
    xf_qa_head_init(&h, H);
    float *hid = random_hidden(11), logits[2 * NTOK];
    float loss = xf_qa_head_step(&h, logits, NULL, hid, qa_base, qa_len, qa_s, qa_e, 2, 0, 0, 0);
    cr_assert_float_eq(loss, (logf(7) + logf(5)) / 2, 1e-5);
    xf_qa_head_free(&h);
}

Test(heads, qa_best_span_within_context_and_length)
{
    /* tokens: [CLS] q q c c c [SEP]; context words at bytes [0,5) [6,10) [11,15) */
    int32_t off[] = { -1, -1, -1, -1, -1, -1, 0, 5, 6, 10, 11, 15, -1, -1 };
    float lg[] = { 20, 20,   /* [CLS]: best logits, never an answer */
                   9, 9, 9, 9,
                   1, 6,     /* token 3: start 1, end 6 */
                   5, 0,     /* token 4: start 5 */
                   0, 4,     /* token 5: end 4 */
                   30, 30 };
    xf_qa_window w = { lg, off, 7 };
    int bs, be;
    float sc;
    cr_assert(xf_qa_best_span(&w, 1, 20, 30, &bs, &be, &sc));
    cr_assert(bs == 6 && be == 15, "span [%d,%d)", bs, be);   /* start 4 + end 5 = 9 */
    cr_assert_float_eq(sc, 9, 1e-6);
    cr_assert(xf_qa_best_span(&w, 1, 20, 1, &bs, &be, &sc));   /* max length 1 */
    cr_assert(bs == 0 && be == 5 && sc == 7, "span [%d,%d) %g", bs, be, sc);
    cr_assert(xf_qa_best_span(&w, 1, 1, 30, &bs, &be, &sc) == 0);   /* n-best 1: only [CLS] */
}

Test(heads, qa_best_span_across_windows)
{
    int32_t off1[] = { -1, -1, 0, 3, 4, 8 }, off2[] = { -1, -1, 4, 8, 9, 12 };
    float lg1[] = { 0, 0, 2, 1, 1, 2 }, lg2[] = { 0, 0, 1, 1, 3, 4 };
    xf_qa_window w[2] = { { lg1, off1, 3 }, { lg2, off2, 3 } };
    int bs, be;
    float sc;
    cr_assert(xf_qa_best_span(w, 2, 20, 30, &bs, &be, &sc));
    cr_assert(bs == 9 && be == 12 && sc == 7, "span [%d,%d) %g", bs, be, sc);
    lg2[4] = 0;   /* window 2 drops to [4,12) (1+4 = 5), still above window 1 (2+2 = 4) */
    cr_assert(xf_qa_best_span(w, 2, 20, 30, &bs, &be, &sc));
    cr_assert(bs == 4 && be == 12 && sc == 5, "span [%d,%d) %g", bs, be, sc);
}

/* ---- biaffine ---- */

enum { R = 4 };
static const int32_t s1_start[] = { 1, 2, 4 }, s1_end[] = { 2, 4, 5 };
static const int32_t s1_heads[] = { 2, 0, 2 }, s1_rels[] = { 1, 0, 3 };
static const int32_t s2_start[] = { 1, 3 }, s2_end[] = { 3, 4 };
static const int32_t s2_heads[] = { 0, 1 }, s2_rels[] = { 0, 2 };

static void sentences(xf_dep_sentence *s)
{
    s[0] = (xf_dep_sentence){ .base = 0, .n = 3, .start = s1_start, .end = s1_end, .heads = s1_heads, .rels = s1_rels };
    s[1] = (xf_dep_sentence){ .base = 6, .n = 2, .start = s2_start, .end = s2_end, .heads = s2_heads, .rels = s2_rels };
}

static size_t bi_np(void) { return (size_t)(H + 1) * H + (size_t)R * (H + 1) * (H + 1); }

typedef struct { xf_biaffine_head h; float *hid; xf_dep_sentence s[2]; } bi_case;

static double bi_loss(void *ctx)
{
    bi_case *t = ctx;
    return xf_biaffine_head_step(&t->h, NULL, t->hid, t->s, 2, P_DROP, SEED, OFFSET);
}

static void check_biaffine(size_t cache_bytes)
{
    bi_case t;
    xf_biaffine_head_init(&t.h, H, R);
    t.h.rel_cache_bytes = cache_bytes;
    xf_biaffine_head_enable_grads(&t.h);
    fill_uniform(t.h.params, bi_np(), -0.5f, 0.5f, 12);
    t.hid = random_hidden(13);
    sentences(t.s);
    float *dhid = prefilled((size_t)NTOK * H);
    xf_biaffine_head_step(&t.h, dhid, t.hid, t.s, 2, P_DROP, SEED, OFFSET);
    unprefill(dhid, (size_t)NTOK * H);
    int bad = fd_check("dhid", t.hid, (size_t)NTOK * H, dhid, bi_loss, &t, FD_H);
    bad += fd_check("params", t.h.params, bi_np(), t.h.grads, bi_loss, &t, FD_H);
    cr_assert_eq(bad, 0);
    for (int c = 0; c < H; c++) cr_assert_eq(dhid[5 * H + c], 0);   /* row 5 belongs to no word */
    xf_biaffine_head_free(&t.h);
}

Test(heads, biaffine_fd) { check_biaffine((size_t)1 << 28); }
Test(heads, biaffine_fd_recomputing_relation_scores) { check_biaffine(0); }

Test(heads, biaffine_zero_init_loss_and_predictions)
{
    xf_biaffine_head h;
    xf_biaffine_head_init(&h, H, R);
    float *hid = random_hidden(14);
    xf_dep_sentence s[2];
    sentences(s);
    /* all scores 0: arc CE log(n+1) per word, relation CE log R */
    float loss = xf_biaffine_head_step(&h, NULL, hid, s, 2, 0, 0, 0);
    cr_assert_float_eq(loss, (3 * logf(4) + 2 * logf(3)) / 5 + logf(R), 1e-5);
    int32_t heads[3], rels[3];
    xf_biaffine_head_predict(&h, hid, &s[0], XF_DECODE_GREEDY, heads, rels, NULL);
    for (int i = 0; i < 3; i++) cr_assert(heads[i] == 0 && rels[i] == 0);   /* first of equal scores */
    xf_biaffine_head_free(&h);
}

Test(heads, biaffine_decoding_greedy_and_mst)
{
    xf_biaffine_head h;
    xf_biaffine_head_init(&h, H, R);
    fill_uniform(h.params, bi_np(), -1, 1, 15);
    float *hid = random_hidden(16);
    xf_dep_sentence s[2];
    sentences(s);
    int32_t g[3], gr[3], m[3], mr[3], a[3], ar[3];
    float arc[16];
    xf_biaffine_head_predict(&h, hid, &s[0], XF_DECODE_GREEDY, g, gr, arc);
    for (int i = 1; i <= 3; i++) {   /* greedy = row argmax of the reported scores */
        int best = 0;
        for (int j = 1; j <= 3; j++) if (arc[i * 4 + j] > arc[i * 4 + best]) best = j;
        cr_assert_eq(g[i - 1], best);
    }
    xf_biaffine_head_predict(&h, hid, &s[0], XF_DECODE_MST, m, mr, NULL);
    cr_assert(xf_heads_are_tree(m, 3));
    int32_t want[3];
    xf_mst_decode(arc, 3, want);
    cr_assert(memcmp(m, want, sizeof want) == 0);
    /* the same call again: deterministic */
    xf_biaffine_head_predict(&h, hid, &s[0], XF_DECODE_MST, a, ar, NULL);
    cr_assert(memcmp(a, m, sizeof a) == 0 && memcmp(ar, mr, sizeof ar) == 0);
    xf_biaffine_head_free(&h);
}

Test(heads, biaffine_bad_gold_dies, .exit_code = 1)
{
    xf_biaffine_head h;
    xf_biaffine_head_init(&h, H, R);
    float *hid = random_hidden(1);
    int32_t heads[] = { 4, 0, 1 }, rels[] = { 0, 0, 0 };
    xf_dep_sentence s = { .base = 0, .n = 3, .start = s1_start, .end = s1_end, .heads = heads, .rels = rels };
    xf_biaffine_head_step(&h, NULL, hid, &s, 1, 0, 0, 0);
}

Test(heads, tensor_names_and_shapes)
{
    xf_adapter_tensor t[4];
    xf_tag_head th;
    xf_tag_head_init(&th, 768, 17);
    cr_assert_eq(xf_tag_head_tensors(&th, "upos", t), 2);
    cr_assert_str_eq(t[0].name, "heads.upos.1.weight");
    cr_assert(t[0].ndim == 2 && t[0].shape[0] == 17 && t[0].shape[1] == 768 && t[0].data == th.w);
    xf_cls_head ch;
    xf_cls_head_init(&ch, 768, 3);
    cr_assert_eq(xf_cls_head_tensors(&ch, "nli", t), 4);
    cr_assert_str_eq(t[2].name, "heads.nli.4.weight");
    cr_assert(t[3].ndim == 1 && t[3].shape[0] == 3);
    xf_qa_head qh;
    xf_qa_head_init(&qh, 768);
    cr_assert_eq(xf_qa_head_tensors(&qh, "qa", t), 2);
    cr_assert_str_eq(t[1].name, "heads.qa.1.bias");
    xf_biaffine_head bh;
    xf_biaffine_head_init(&bh, 16, 38);
    cr_assert_eq(xf_biaffine_head_tensors(&bh, "dep", t), 2);
    cr_assert_str_eq(t[0].name, "heads.dep.biaffine_arcs.weight");
    cr_assert(t[0].ndim == 3 && t[0].shape[0] == 1 && t[0].shape[1] == 17 && t[0].shape[2] == 16);
    cr_assert_str_eq(t[1].name, "heads.dep.biaffine_rels.weight");
    cr_assert(t[1].ndim == 3 && t[1].shape[0] == 38 && t[1].shape[1] == 17 && t[1].shape[2] == 17);
    cr_assert_null(t[1].grad);
    xf_tag_head_free(&th); xf_cls_head_free(&ch); xf_qa_head_free(&qh); xf_biaffine_head_free(&bh);
}

Test(heads, loss_only_steps_leave_gradients_alone)
{
    float *hid = random_hidden(21), logits[2 * NTOK * 8];
    xf_tag_head th;
    xf_tag_head_init(&th, H, 5);
    xf_tag_head_enable_grads(&th);
    fill_uniform(th.params, (size_t)5 * H + 5, -0.5f, 0.5f, 3);
    xf_tag_head_step(&th, logits, NULL, hid, tag_pos, tag_gold, 4, P_DROP, SEED, OFFSET);
    xf_cls_head ch;
    xf_cls_head_init(&ch, H, 3);
    xf_cls_head_enable_grads(&ch);
    fill_uniform(ch.params, cls_np(), -0.5f, 0.5f, 3);
    xf_cls_head_step(&ch, logits, NULL, hid, cls_rows, cls_gold, 2, P_DROP, SEED, OFFSET);
    xf_qa_head qh;
    xf_qa_head_init(&qh, H);
    xf_qa_head_enable_grads(&qh);
    fill_uniform(qh.params, (size_t)2 * H + 2, -0.5f, 0.5f, 3);
    xf_qa_head_step(&qh, logits, NULL, hid, qa_base, qa_len, qa_s, qa_e, 2, P_DROP, SEED, OFFSET);
    xf_biaffine_head bh;
    xf_biaffine_head_init(&bh, H, R);
    xf_biaffine_head_enable_grads(&bh);
    fill_uniform(bh.params, bi_np(), -0.5f, 0.5f, 3);
    xf_dep_sentence s[2];
    sentences(s);
    cr_assert(xf_biaffine_head_step(&bh, NULL, hid, s, 2, P_DROP, SEED, OFFSET) > 0);
    struct { const float *g; size_t n; } all[] = {
        { th.grads, (size_t)5 * H + 5 }, { ch.grads, cls_np() }, { qh.grads, (size_t)2 * H + 2 }, { bh.grads, bi_np() },
    };
    for (int k = 0; k < 4; k++)
        for (size_t i = 0; i < all[k].n; i++) cr_assert_eq(all[k].g[i], 0, "head %d gradient %zu touched", k, i);
    xf_tag_head_free(&th); xf_cls_head_free(&ch); xf_qa_head_free(&qh); xf_biaffine_head_free(&bh);
}
