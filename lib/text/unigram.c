/* unigram.c — the Unigram model exactly as Hugging Face tokenizers runs
 * it (XLM-R, T5, XLNet, Pegasus files; loaded by tok_json.c).
 *
 *  - Normalizers run on an aligned string; Precompiled follows HF's
 *    grapheme rule (charsmap.h).
 *  - Pre-tokenizers: WhitespaceSplit, Metaspace (prefix "▁" by scheme,
 *    spaces to "▁", split with the "▁" merged into the next piece).
 *  - Viterbi as HF's encode_optimized: pieces found by prefix search in
 *    increasing length, a candidate replaces the best only when strictly
 *    better; a char with no single-char piece gets an unk node scored
 *    min_score - 10; consecutive unks are fused into one token.
 *  - Added tokens are matched verbatim in the raw text (tok_common.c).
 * Alignment follows HF's transform rule: when K original chars become M
 * new ones, new char j maps to original char min(j, K-1).
 */
#define _GNU_SOURCE
#include "charsmap.h"
#include "tok_internal.h"
#include "util.h"

#include <string.h>
#include <utf8proc.h>

/* ---- aligned normalisation steps ---- */

/* Emits REP (M chars) for the K chars of IN at [off, off+len): new char j
 * takes the alignment of original char min(j, K-1). */
static void emit_replaced(const tok_nstr *in, size_t off, size_t len, const char *rep,
                          size_t rl, tok_nstr *out)
{
    if (rep == in->s + off && rl == len) {   /* unchanged */
        nstr_reserve(out, len);
        memcpy(out->s + out->n, rep, len);
        memcpy(out->os + out->n, in->os + off, len * sizeof *out->os);
        memcpy(out->oe + out->n, in->oe + off, len * sizeof *out->oe);
        out->n += len;
        out->s[out->n] = 0;
        return;
    }
    size_t src = off, src_end = off + len, r = 0;
    while (r < rl) {
        size_t adv, sadv;
        tok_utf8_next(rep + r, rl - r, &adv);
        tok_utf8_next(in->s + src, src_end - src, &sadv);
        nstr_push(out, rep + r, adv, in->os[src], in->oe[src + sadv - 1]);
        r += adv;
        if (src + sadv < src_end)
            src += sadv;
    }
}

struct cm_ctx { const tok_nstr *in; tok_nstr *out; };

static void cm_emit(void *ctx, size_t off, size_t len, const char *rep, size_t rl)
{
    struct cm_ctx *c = ctx;
    emit_replaced(c->in, off, len, rep, rl, c->out);
}

static size_t char_len_at(const tok_nstr *ns, size_t i)
{
    size_t adv;
    tok_utf8_next(ns->s + i, ns->n - i, &adv);
    return adv;
}

static void apply_replace(const norm_op *op, const tok_nstr *in, tok_nstr *out)
{
    size_t pl = strlen(op->pat), cl = strlen(op->content);
    size_t i = 0;
    while (i < in->n) {
        size_t m = 0;
        if (op->min_rep) {
            size_t k = 0;
            while (i + k < in->n && in->s[i + k] == op->pat[0])
                k++;
            if (k >= op->min_rep)
                m = k;
        } else if (i + pl <= in->n && memcmp(in->s + i, op->pat, pl) == 0) {
            m = pl;
        }
        if (m) {
            emit_replaced(in, i, m, op->content, cl, out);
            i += m;
        } else {
            size_t a = char_len_at(in, i);
            emit_replaced(in, i, a, in->s + i, a, out);
            i += a;
        }
    }
}

static void apply_nf(const norm_op *op, const tok_nstr *in, tok_nstr *out)
{
    utf8proc_int32_t state, prev;
    size_t g = 0;
    while (g < in->n) {
        /* one extended grapheme cluster [g, e) */
        size_t e = g;
        int ascii = 1;
        prev = -1;
        state = 0;
        while (e < in->n) {
            size_t adv;
            int32_t cp = tok_utf8_next(in->s + e, in->n - e, &adv);
            if (prev >= 0 && utf8proc_grapheme_break_stateful(prev, cp, &state))
                break;
            if (cp >= 0x80)
                ascii = 0;
            prev = cp;
            e += adv;
        }
        if (ascii) {
            emit_replaced(in, g, e - g, in->s + g, e - g, out);
        } else {
            utf8proc_uint8_t *res = NULL;
            utf8proc_ssize_t rl = utf8proc_map((const utf8proc_uint8_t *)in->s + g,
                                               (utf8proc_ssize_t)(e - g), &res, op->nf_flags);
            if (rl < 0)
                emit_replaced(in, g, e - g, in->s + g, e - g, out);
            else if ((size_t)rl == e - g && memcmp(res, in->s + g, e - g) == 0)
                emit_replaced(in, g, e - g, in->s + g, e - g, out);
            else
                emit_replaced(in, g, e - g, (const char *)res, (size_t)rl, out);
            free(res);
        }
        g = e;
    }
}

static void apply_norm(const norm_op *op, const tok_nstr *in, tok_nstr *out)
{
    nstr_clear(out);
    nstr_reserve(out, in->n + 16);
    out->s[0] = 0;
    switch (op->type) {
    case N_PRECOMPILED: {
        struct cm_ctx c = {in, out};
        xf_charsmap_apply(op->cm, in->s, in->n, cm_emit, &c);
        break;
    }
    case N_REPLACE:
        apply_replace(op, in, out);
        break;
    case N_NF:
        apply_nf(op, in, out);
        break;
    case N_STRIP: {
        size_t a = 0, b = in->n;
        while (op->strip_left && a < b) {
            size_t adv;
            int32_t cp = tok_utf8_next(in->s + a, b - a, &adv);
            if (!tok_is_white_space(cp))
                break;
            a += adv;
        }
        while (op->strip_right && b > a) {
            size_t k = b - 1;
            while (k > a && ((uint8_t)in->s[k] & 0xC0) == 0x80)
                k--;
            size_t adv;
            if (!tok_is_white_space(tok_utf8_next(in->s + k, b - k, &adv)))
                break;
            b = k;
        }
        if (b > a)
            emit_replaced(in, a, b - a, in->s + a, b - a, out);
        break;
    }
    case N_STRIP_ACCENTS:
    case N_LOWERCASE:
        for (size_t i = 0; i < in->n;) {
            size_t adv;
            int32_t cp = tok_utf8_next(in->s + i, in->n - i, &adv);
            int32_t os = in->os[i], oe = in->oe[i + adv - 1];
            if (op->type == N_STRIP_ACCENTS) {
                utf8proc_category_t k = utf8proc_category(cp);
                if (k != UTF8PROC_CATEGORY_MN && k != UTF8PROC_CATEGORY_MC &&
                    k != UTF8PROC_CATEGORY_ME)
                    emit_replaced(in, i, adv, in->s + i, adv, out);
            } else {
                int32_t lo[2];
                int m = tok_lower_full(cp, lo);
                for (int j = 0; j < m; j++)
                    nstr_push_cp(out, lo[j], os, oe);
            }
            i += adv;
        }
        break;
    }
}

/* Runs the normalizer chain on TEXT[0..len) (offsets + BASE) into OUT. */
void tok_unigram_normalize(const xf_tokenizer *tk, const char *text, size_t len,
                           int32_t base, tok_nstr *out)
{
    const tok_unigram *ug = tk->ug;
    tok_nstr a = {0}, b = {0};
    nstr_from_text(&a, text, len, base);
    for (size_t i = 0; i < ug->n_norm; i++) {
        apply_norm(&ug->norm[i], &a, &b);
        tok_nstr t = a;
        a = b;
        b = t;
    }
    nstr_free(&b);
    nstr_free(out);
    *out = a;
}

/* ---- pre-tokenisation: a list of aligned splits ---- */

typedef struct splits {
    tok_nstr *v;
    size_t n, cap;
} splits;

static tok_nstr *splits_add(splits *s)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        s->v = xrealloc(s->v, cap * sizeof *s->v);
        memset(s->v + s->cap, 0, (cap - s->cap) * sizeof *s->v);
        s->cap = cap;
    }
    nstr_clear(&s->v[s->n]);
    return &s->v[s->n++];
}

static void splits_free(splits *s)
{
    for (size_t i = 0; i < s->cap; i++)
        nstr_free(&s->v[i]);
    free(s->v);
}

static void push_range(tok_nstr *dst, const tok_nstr *src, size_t a, size_t b)
{
    nstr_reserve(dst, b - a);
    memcpy(dst->s + dst->n, src->s + a, b - a);
    memcpy(dst->os + dst->n, src->os + a, (b - a) * sizeof *dst->os);
    memcpy(dst->oe + dst->n, src->oe + a, (b - a) * sizeof *dst->oe);
    dst->n += b - a;
    dst->s[dst->n] = 0;
}

static void pre_whitespace(const tok_nstr *in, splits *out)
{
    size_t i = 0, w = 0;
    while (i < in->n) {
        size_t adv;
        int32_t cp = tok_utf8_next(in->s + i, in->n - i, &adv);
        if (tok_is_white_space(cp)) {
            if (i > w)
                push_range(splits_add(out), in, w, i);
            w = i + adv;
        }
        i += adv;
    }
    if (in->n > w)
        push_range(splits_add(out), in, w, in->n);
}

static void pre_metaspace(const pre_op *op, const tok_nstr *in, int32_t seq_start,
                          tok_nstr *scratch, splits *out)
{
    size_t rl = strlen(op->repl);
    tok_nstr m = *scratch;   /* reused buffer, handed back at the end */
    nstr_clear(&m);
    nstr_reserve(&m, in->n + rl);
    m.s[0] = 0;
    int starts = in->n >= rl && memcmp(in->s, op->repl, rl) == 0;
    if (in->n && !starts &&
        (op->prepend == PREPEND_ALWAYS || (op->prepend == PREPEND_FIRST && in->os[0] == seq_start)))
        nstr_push(&m, op->repl, rl, in->os[0], in->oe[char_len_at(in, 0) - 1]);
    for (size_t i = 0; i < in->n;) {
        size_t adv = char_len_at(in, i);
        if (in->s[i] == ' ')
            nstr_push(&m, op->repl, rl, in->os[i], in->oe[i]);
        else
            push_range(&m, in, i, i + adv);
        i += adv;
    }
    if (!op->split) {
        if (m.n)
            push_range(splits_add(out), &m, 0, m.n);
    } else {
        /* MergedWithNext: each replacement char starts a new split */
        size_t w = 0;
        for (size_t i = 0; i < m.n;) {
            if (i > w && m.n - i >= rl && memcmp(m.s + i, op->repl, rl) == 0) {
                push_range(splits_add(out), &m, w, i);
                w = i;
            }
            i += char_len_at(&m, i);
        }
        if (m.n > w)
            push_range(splits_add(out), &m, w, m.n);
    }
    *scratch = m;
}

/* ---- Viterbi ---- */

typedef struct node { double score; int32_t start, id; } node;

static void viterbi(const xf_tokenizer *tk, const tok_nstr *w, node *best, int32_t *ends,
                    xf_tokens *out)
{
    const tok_unigram *ug = tk->ug;
    size_t n = w->n;
    for (size_t i = 0; i <= n; i++)
        best[i] = (node){0, -1, -1};
    best[0].start = 0;
    for (size_t i = 0; i < n;) {
        size_t mblen = char_len_at(w, i);
        double base = best[i].score;
        int has_single = 0;
        for (size_t j = i + 1; j <= n; j++) {
            if (j < n && ((uint8_t)w->s[j] & 0xC0) == 0x80)
                continue;
            int32_t v;
            if (!tok_map_get(&ug->prefix, w->s + i, j - i, &v))
                break;
            if (v < 0)
                continue;
            double cand = base + ug->score[v];
            if (best[j].start < 0 || cand > best[j].score)
                best[j] = (node){cand, (int32_t)i, v};
            if (j - i == mblen)
                has_single = 1;
        }
        if (!has_single) {
            size_t j = i + mblen;
            double cand = base + ug->unk_score;
            if (best[j].start < 0 || cand > best[j].score)
                best[j] = (node){cand, (int32_t)i, ug->unk_id};
        }
        i += mblen;
    }
    /* backtrack, fusing runs of unk */
    size_t cnt = 0;
    for (int32_t e = (int32_t)n; e > 0; e = best[e].start)
        cnt++;
    size_t k = cnt;
    for (int32_t e = (int32_t)n; e > 0; e = best[e].start)
        ends[--k] = e;
    for (size_t t = 0; t < cnt;) {
        int32_t e = ends[t], s = best[e].start, id = best[e].id;
        if (id == ug->unk_id) {
            while (t + 1 < cnt && best[ends[t + 1]].id == ug->unk_id)
                e = ends[++t];
            int32_t v;
            /* HF maps the fused string back through the vocab */
            if (tok_map_get(&tk->map, w->s + s, (size_t)(e - s), &v) && (size_t)v < ug->n_model)
                id = v;
        }
        tok_push_span(w, (size_t)s, (size_t)e, id, out);
        t++;
    }
}

size_t tok_unigram_encode_seg(const xf_tokenizer *tk, const char *text, size_t len,
                              int32_t base, xf_tokens *out)
{
    const tok_unigram *ug = tk->ug;
    size_t n0 = out->n;
    tok_nstr norm = {0};
    tok_unigram_normalize(tk, text, len, base, &norm);
    splits cur = {0}, nxt = {0};
    tok_nstr scratch = {0};
    push_range(splits_add(&cur), &norm, 0, norm.n);
    for (size_t p = 0; p < ug->n_pre; p++) {
        nxt.n = 0;
        for (size_t i = 0; i < cur.n; i++) {
            if (ug->pre[p].type == P_WHITESPACE_SPLIT)
                pre_whitespace(&cur.v[i], &nxt);
            else
                pre_metaspace(&ug->pre[p], &cur.v[i], 0, &scratch, &nxt);
        }
        splits t = cur;
        cur = nxt;
        nxt = t;
    }
    size_t maxn = 0;
    for (size_t i = 0; i < cur.n; i++)
        if (cur.v[i].n > maxn)
            maxn = cur.v[i].n;
    node *best = xmalloc((maxn + 1) * sizeof *best);
    int32_t *ends = xmalloc((maxn + 1) * sizeof *ends);
    for (size_t i = 0; i < cur.n; i++)
        if (cur.v[i].n)
            viterbi(tk, &cur.v[i], best, ends, out);
    free(best);
    free(ends);
    nstr_free(&scratch);
    splits_free(&cur);
    splits_free(&nxt);
    nstr_free(&norm);
    return out->n - n0;
}

/* ---- decoding ---- */

void tok_unigram_decode(const xf_tokenizer *tk, const int32_t *ids, size_t n,
                           int skip_special, char **buf, size_t *blen, size_t *bcap)
{
    /* Metaspace decoder: "▁" -> " ", the leading space of the text dropped. */
    for (size_t i = 0; i < n; i++) {
        const char *p = xf_tok_piece(tk, ids[i]);
        if (!p)
            die("decode: token id %d out of range (vocabulary of %zu)", ids[i], tk->n);
        if (skip_special && tk->special[ids[i]])
            continue;
        for (const char *q = p; *q;) {
            if (strncmp(q, "\xe2\x96\x81", 3) == 0) {
                if (*blen > 0)
                    tok_buf_put(buf, blen, bcap, " ", 1);
                q += 3;
            } else {
                tok_buf_put(buf, blen, bcap, q, 1);
                q++;
            }
        }
    }
}
