/* heads_driver.c — runs the adapter layers and task heads of xf on
 * deterministic random inputs and dumps inputs, outputs and gradients for
 * tests/torch/heads.py to recompute with PyTorch autograd.
 * Usage: heads_driver OUTDIR.  Files: OUTDIR/NAME.bin (raw little-endian
 * float32 or int32) listed in OUTDIR/manifest.tsv (name, type, dims). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "heads.h"
#include "rng.h"
#include "util.h"

static const char *outdir;
static FILE *manifest;
static xf_rng rng;

static void dump(const char *name, const void *p, const char *type, int d0, int d1, int d2)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.bin", outdir, name);
    FILE *f = fopen(path, "wb");
    if (!f) die_errno("%s", path);
    size_t n = (size_t)d0 * (d1 ? d1 : 1) * (d2 ? d2 : 1);
    if (fwrite(p, 4, n, f) != n || fclose(f)) die_errno("%s", path);
    fprintf(manifest, "%s\t%s\t%d\t%d\t%d\n", name, type, d0, d1, d2);
}
#define DUMPF(name, p, a, b, c) dump(name, p, "f32", a, b, c)
#define DUMPI(name, p, a, b, c) dump(name, p, "i32", a, b, c)

static float *uni(size_t n, float lo, float hi)
{
    float *p = xmalloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * (float)xf_rng_double(&rng);
    return p;
}

enum { N = 6, C = 32, RED = 4, T = 14, H = 32, R = 5 };
#define EPS 1e-12f

static void adapter_case(int depth)
{
    char nm[64];
    size_t NC = (size_t)N * C;
    float *h = uni(NC, -1, 1), *x = uni(NC, -1, 1), *lw = uni(C, 0.5f, 1.5f), *lb = uni(C, -0.3f, 0.3f);
    float *r = uni(NC, -1, 1), *y = xcalloc(NC, 4);
    xf_adapter_layer L;
    xf_adapter_layer_init(&L, C);
    xf_bottleneck b[2];
    for (int k = 0; k < depth; k++) {
        xf_bottleneck_init(&b[k], k ? "task" : "lang", 0, C, RED, 1);
        float *p = uni(xf_bottleneck_nparams(&b[k]), -0.3f, 0.3f);
        memcpy(b[k].params, p, xf_bottleneck_nparams(&b[k]) * 4);
        xf_adapter_layer_push(&L, &b[k]);
    }
    float *scratch = xcalloc(xf_adapter_layer_scratch_floats(&L, N), 4);
    xf_adapter_layer_forward(&L, y, h, x, lw, lb, EPS, N, scratch);
    float *dh = xcalloc(NC, 4), *dx = xcalloc(NC, 4), *dlw = xcalloc(C, 4), *dlb = xcalloc(C, 4);
    xf_adapter_layer_backward(&L, dh, dx, dlw, dlb, r, h, x, lw, lb, EPS, N, scratch);
#define P(s) (snprintf(nm, sizeof nm, "ad%d_%s", depth, s), nm)
    DUMPF(P("h"), h, N, C, 0); DUMPF(P("x"), x, N, C, 0); DUMPF(P("ln_w"), lw, C, 0, 0);
    DUMPF(P("ln_b"), lb, C, 0, 0); DUMPF(P("r"), r, N, C, 0); DUMPF(P("y"), y, N, C, 0);
    DUMPF(P("dh"), dh, N, C, 0); DUMPF(P("dx"), dx, N, C, 0);
    DUMPF(P("dln_w"), dlw, C, 0, 0); DUMPF(P("dln_b"), dlb, C, 0, 0);
    for (int k = 0; k < depth; k++) {
        char s[32];
        int D = b[k].D;
        snprintf(s, sizeof s, "%d_down_w", k); DUMPF(P(s), b[k].down_w, D, C, 0);
        snprintf(s, sizeof s, "%d_down_b", k); DUMPF(P(s), b[k].down_b, D, 0, 0);
        snprintf(s, sizeof s, "%d_up_w", k); DUMPF(P(s), b[k].up_w, C, D, 0);
        snprintf(s, sizeof s, "%d_up_b", k); DUMPF(P(s), b[k].up_b, C, 0, 0);
        snprintf(s, sizeof s, "%d_g_down_w", k); DUMPF(P(s), b[k].g_down_w, D, C, 0);
        snprintf(s, sizeof s, "%d_g_down_b", k); DUMPF(P(s), b[k].g_down_b, D, 0, 0);
        snprintf(s, sizeof s, "%d_g_up_w", k); DUMPF(P(s), b[k].g_up_w, C, D, 0);
        snprintf(s, sizeof s, "%d_g_up_b", k); DUMPF(P(s), b[k].g_up_b, C, 0, 0);
    }
#undef P
}

static void inv_case(void)
{
    xf_invadapter a;
    xf_invadapter_init(&a, "en", C, 1);
    xf_invadapter_init_weights(&a, 3);
    size_t NC = (size_t)N * C, np = xf_invadapter_nparams(&a);
    float *x = uni(NC, -1, 1), *r = uni(NC, -1, 1), *y = xcalloc(NC, 4), *dx = xcalloc(NC, 4);
    xf_invadapter_forward(&a, y, x, N);
    xf_invadapter_backward(&a, dx, r, N);
    float *g_fwd = xmalloc(np * 4);
    memcpy(g_fwd, a.grads, np * 4);
    memset(a.grads, 0, np * 4);
    float *xi = xcalloc(NC, 4), *dy = xcalloc(NC, 4);
    xf_invadapter_inverse(&a, xi, x, N);   /* inverse applied to the same input */
    xf_invadapter_inverse_backward(&a, dy, r, N);
    DUMPF("inv_x", x, N, C, 0); DUMPF("inv_r", r, N, C, 0);
    DUMPF("inv_params", a.params, (int)np, 0, 0);
    DUMPF("inv_y", y, N, C, 0); DUMPF("inv_dx", dx, N, C, 0); DUMPF("inv_g_fwd", g_fwd, (int)np, 0, 0);
    DUMPF("inv_xi", xi, N, C, 0); DUMPF("inv_dy", dy, N, C, 0); DUMPF("inv_g_inv", a.grads, (int)np, 0, 0);
}

static void heads_case(void)
{
    size_t TH = (size_t)T * H;
    float *hid = uni(TH, -1, 1);
    DUMPF("hid", hid, T, H, 0);
    /* tagging */
    {
        xf_tag_head th;
        xf_tag_head_init(&th, H, 7);
        xf_tag_head_enable_grads(&th);
        memcpy(th.params, uni((size_t)7 * H + 7, -0.3f, 0.3f), ((size_t)7 * H + 7) * 4);
        int32_t pos[] = { 1, 2, 4, 5, 9, 12 }, gold[] = { 0, 6, 3, 3, 1, 5 };
        float logits[6 * 7], *dhid = xcalloc(TH, 4);
        float loss = xf_tag_head_step(&th, logits, dhid, hid, pos, gold, 6, 0, 0, 0);
        DUMPI("tag_pos", pos, 6, 0, 0); DUMPI("tag_gold", gold, 6, 0, 0);
        DUMPF("tag_w", th.w, 7, H, 0); DUMPF("tag_b", th.b, 7, 0, 0);
        DUMPF("tag_logits", logits, 6, 7, 0); DUMPF("tag_loss", &loss, 1, 0, 0);
        DUMPF("tag_dhid", dhid, T, H, 0); DUMPF("tag_g_w", th.g_w, 7, H, 0); DUMPF("tag_g_b", th.g_b, 7, 0, 0);
    }
    /* classification */
    {
        xf_cls_head ch;
        xf_cls_head_init(&ch, H, 3);
        xf_cls_head_enable_grads(&ch);
        size_t np = (size_t)H * H + H + 3 * H + 3;
        memcpy(ch.params, uni(np, -0.3f, 0.3f), np * 4);
        int32_t cls[] = { 0, 7 }, gold[] = { 1, 2 };
        float logits[6], *dhid = xcalloc(TH, 4);
        float loss = xf_cls_head_step(&ch, logits, dhid, hid, cls, gold, 2, 0, 0, 0);
        DUMPI("cls_rows", cls, 2, 0, 0); DUMPI("cls_gold", gold, 2, 0, 0);
        DUMPF("cls_params", ch.params, (int)np, 0, 0);
        DUMPF("cls_logits", logits, 2, 3, 0); DUMPF("cls_loss", &loss, 1, 0, 0);
        DUMPF("cls_dhid", dhid, T, H, 0); DUMPF("cls_grads", ch.grads, (int)np, 0, 0);
    }
    /* QA */
    {
        xf_qa_head qh;
        xf_qa_head_init(&qh, H);
        xf_qa_head_enable_grads(&qh);
        memcpy(qh.params, uni((size_t)2 * H + 2, -0.3f, 0.3f), ((size_t)2 * H + 2) * 4);
        int32_t base[] = { 0, 7 }, len[] = { 7, 7 }, s[] = { 2, 0 }, e[] = { 4, 0 };
        float *logits = xcalloc((size_t)T * 2, 4), *dhid = xcalloc(TH, 4);
        float loss = xf_qa_head_step(&qh, logits, dhid, hid, base, len, s, e, 2, 0, 0, 0);
        DUMPI("qa_base", base, 2, 0, 0); DUMPI("qa_len", len, 2, 0, 0);
        DUMPI("qa_start", s, 2, 0, 0); DUMPI("qa_end", e, 2, 0, 0);
        DUMPF("qa_w", qh.w, 2, H, 0); DUMPF("qa_b", qh.b, 2, 0, 0);
        DUMPF("qa_logits", logits, T, 2, 0); DUMPF("qa_loss", &loss, 1, 0, 0);
        DUMPF("qa_dhid", dhid, T, H, 0); DUMPF("qa_g_w", qh.g_w, 2, H, 0); DUMPF("qa_g_b", qh.g_b, 2, 0, 0);
    }
    /* biaffine: two sentences, [CLS] at rows 0 and 7; spans as "start:end" */
    {
        xf_biaffine_head bh;
        xf_biaffine_head_init(&bh, H, R);
        xf_biaffine_head_enable_grads(&bh);
        size_t np = (size_t)(H + 1) * H + (size_t)R * (H + 1) * (H + 1);
        memcpy(bh.params, uni(np, -0.1f, 0.1f), np * 4);
        static const int32_t st1[] = { 1, 2, 4, 5 }, en1[] = { 2, 4, 5, 7 }, hd1[] = { 2, 0, 2, 3 }, rl1[] = { 1, 0, 4, 2 };
        static const int32_t st2[] = { 1, 2, 3 }, en2[] = { 2, 3, 6 }, hd2[] = { 3, 3, 0 }, rl2[] = { 3, 1, 0 };
        xf_dep_sentence s[2] = {
            { .base = 0, .n = 4, .start = st1, .end = en1, .heads = hd1, .rels = rl1 },
            { .base = 7, .n = 3, .start = st2, .end = en2, .heads = hd2, .rels = rl2 },
        };
        float *dhid = xcalloc(TH, 4);
        float loss = xf_biaffine_head_step(&bh, dhid, hid, s, 2, 0, 0, 0);
        int32_t meta[] = { 0, 4, 7, 3 };
        DUMPI("bi_meta", meta, 4, 0, 0);
        DUMPI("bi_st1", st1, 4, 0, 0); DUMPI("bi_en1", en1, 4, 0, 0); DUMPI("bi_hd1", hd1, 4, 0, 0); DUMPI("bi_rl1", rl1, 4, 0, 0);
        DUMPI("bi_st2", st2, 3, 0, 0); DUMPI("bi_en2", en2, 3, 0, 0); DUMPI("bi_hd2", hd2, 3, 0, 0); DUMPI("bi_rl2", rl2, 3, 0, 0);
        DUMPF("bi_wa", bh.wa, H + 1, H, 0); DUMPF("bi_wr", bh.wr, R, H + 1, H + 1);
        DUMPF("bi_loss", &loss, 1, 0, 0); DUMPF("bi_dhid", dhid, T, H, 0);
        DUMPF("bi_g_wa", bh.g_wa, H + 1, H, 0); DUMPF("bi_g_wr", bh.g_wr, R, H + 1, H + 1);
        float arc[5 * 5];
        int32_t ph[4], pr[4];
        xf_biaffine_head_predict(&bh, hid, &s[0], XF_DECODE_GREEDY, ph, pr, arc);
        DUMPF("bi_arc1", arc, 5, 5, 0); DUMPI("bi_pred_heads1", ph, 4, 0, 0); DUMPI("bi_pred_rels1", pr, 4, 0, 0);
    }
}

int main(int argc, char **argv)
{
    xf_init(argc, argv);
    if (argc != 2) die_usage("usage: heads_driver OUTDIR");
    outdir = argv[1];
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.tsv", outdir);
    manifest = fopen(path, "w");
    if (!manifest) die_errno("%s", path);
    xf_rng_seed(&rng, 2024, 1);
    adapter_case(1);
    adapter_case(2);
    inv_case();
    heads_case();
    if (fclose(manifest)) die_errno("%s", path);
    return 0;
}
