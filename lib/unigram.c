/* unigram.c — tokenizer.json loading and the Unigram model exactly as
 * Hugging Face tokenizers runs it (XLM-R, T5, XLNet, Pegasus files).
 *
 *  - The model: "type": "Unigram", or the older serialisation without a
 *    type (a list of [piece, score] pairs plus unk_id).  A "WordPiece"
 *    model (BERT's tokenizer.json) is handed to wordpiece.c.
 *  - Normalizers: Precompiled (charsmap.h, HF's grapheme rule), Replace
 *    (literal string, or a regex of the form "C{n,}" / "C+"), Strip, NFD,
 *    NFKD, NFC, NFKC, StripAccents (every Mark), Lowercase, Sequence.
 *  - Pre-tokenizers: WhitespaceSplit, Metaspace (replacement,
 *    add_prefix_space / prepend_scheme always|first|never, split),
 *    Sequence.
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
#include "zio.h"

#include <jansson.h>
#include <math.h>
#include <string.h>
#include <utf8proc.h>

enum norm_type { N_PRECOMPILED, N_REPLACE, N_STRIP, N_NF, N_STRIP_ACCENTS, N_LOWERCASE };
enum pre_type { P_WHITESPACE_SPLIT, P_METASPACE };
enum { PREPEND_NEVER, PREPEND_FIRST, PREPEND_ALWAYS };

typedef struct norm_op {
    enum norm_type type;
    xf_charsmap *cm;
    char *pat, *content;     /* Replace: literal pattern, or one repeated char */
    size_t min_rep;          /* Replace regex "C{n,}": n; 0 for a literal */
    int strip_left, strip_right;
    int nf_flags;            /* utf8proc options */
} norm_op;

typedef struct pre_op {
    enum pre_type type;
    char *repl;
    int prepend, split;
} pre_op;

struct tok_unigram {
    double *score;
    size_t n_model;          /* pieces the Viterbi may use */
    int32_t unk_id;
    double unk_score;
    tok_map prefix;          /* every piece and every char-prefix of one: id or -1 */
    norm_op *norm;
    size_t n_norm;
    pre_op *pre;
    size_t n_pre;
};

void tok_unigram_free(tok_unigram *ug)
{
    if (!ug)
        return;
    for (size_t i = 0; i < ug->n_norm; i++) {
        xf_charsmap_free(ug->norm[i].cm);
        free(ug->norm[i].pat);
        free(ug->norm[i].content);
    }
    for (size_t i = 0; i < ug->n_pre; i++)
        free(ug->pre[i].repl);
    free(ug->norm);
    free(ug->pre);
    free(ug->score);
    tok_map_free(&ug->prefix);
    free(ug);
}

/* ---- JSON helpers ---- */

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return v && json_is_string(v) ? json_string_value(v) : NULL;
}

static int jbool(json_t *o, const char *key, int dflt)
{
    json_t *v = json_object_get(o, key);
    return v && json_is_boolean(v) ? json_is_true(v) : dflt;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* ---- normalizer chain ---- */

static void add_norm(const char *path, tok_unigram *ug, json_t *n);

static void parse_replace(const char *path, norm_op *op, json_t *n)
{
    json_t *pat = json_object_get(n, "pattern");
    const char *content = jstr(n, "content");
    if (!pat || !content)
        die("%s: Replace normalizer without pattern or content", path);
    op->content = xstrdup(content);
    const char *lit = jstr(pat, "String");
    if (lit) {
        if (!*lit)
            die("%s: Replace normalizer with an empty pattern", path);
        op->pat = xstrdup(lit);
        return;
    }
    const char *re = jstr(pat, "Regex");
    if (!re)
        die("%s: Replace pattern is neither String nor Regex", path);
    /* Supported: a literal without metacharacters, "C{n,}" and "C+". */
    size_t l = strlen(re);
    unsigned n_min;
    char c, tail;
    if (l >= 2 && re[1] == '+' && l == 2 && !strchr("\\.[](){}*+?|^$", re[0])) {
        op->pat = dup_n(re, 1);
        op->min_rep = 1;
    } else if (sscanf(re, "%c{%u,}%c", &c, &n_min, &tail) == 2 && re[l - 1] == '}' &&
               !strchr("\\.[](){}*+?|^$", c) && n_min > 0) {
        op->pat = dup_n(re, 1);
        op->min_rep = n_min;
    } else if (strcspn(re, "\\.[](){}*+?|^$") == l && l > 0) {
        op->pat = xstrdup(re);
    } else {
        die("%s: unsupported Replace regex \"%s\" (literals, \"C{n,}\" and \"C+\" only)",
            path, re);
    }
}

static void add_norm(const char *path, tok_unigram *ug, json_t *n)
{
    if (!n || json_is_null(n))
        return;
    const char *type = jstr(n, "type");
    if (!type)
        die("%s: normalizer without a type", path);
    if (strcmp(type, "Sequence") == 0) {
        json_t *list = json_object_get(n, "normalizers");
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v) add_norm(path, ug, v);
        return;
    }
    norm_op op = {0};
    if (strcmp(type, "Precompiled") == 0) {
        const char *b64 = jstr(n, "precompiled_charsmap");
        if (!b64 || !*b64)
            return;   /* an empty charsmap is the identity */
        op.type = N_PRECOMPILED;
        op.cm = xf_charsmap_from_base64(b64, path);
    } else if (strcmp(type, "Replace") == 0) {
        op.type = N_REPLACE;
        parse_replace(path, &op, n);
    } else if (strcmp(type, "Strip") == 0) {
        op.type = N_STRIP;
        op.strip_left = jbool(n, "strip_left", 1);
        op.strip_right = jbool(n, "strip_right", 1);
    } else if (strcmp(type, "NFD") == 0) {
        op.type = N_NF, op.nf_flags = UTF8PROC_STABLE | UTF8PROC_DECOMPOSE;
    } else if (strcmp(type, "NFKD") == 0) {
        op.type = N_NF, op.nf_flags = UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
    } else if (strcmp(type, "NFC") == 0) {
        op.type = N_NF, op.nf_flags = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
    } else if (strcmp(type, "NFKC") == 0) {
        op.type = N_NF, op.nf_flags = UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
    } else if (strcmp(type, "StripAccents") == 0) {
        op.type = N_STRIP_ACCENTS;
    } else if (strcmp(type, "Lowercase") == 0) {
        op.type = N_LOWERCASE;
    } else {
        die("%s: unsupported normalizer type \"%s\"", path, type);
    }
    ug->norm = xrealloc(ug->norm, (ug->n_norm + 1) * sizeof *ug->norm);
    ug->norm[ug->n_norm++] = op;
}

static void add_pre(const char *path, tok_unigram *ug, json_t *p)
{
    if (!p || json_is_null(p))
        return;
    const char *type = jstr(p, "type");
    if (!type)
        die("%s: pre_tokenizer without a type", path);
    if (strcmp(type, "Sequence") == 0) {
        json_t *list = json_object_get(p, "pretokenizers");
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v) add_pre(path, ug, v);
        return;
    }
    pre_op op = {0};
    if (strcmp(type, "WhitespaceSplit") == 0) {
        op.type = P_WHITESPACE_SPLIT;
    } else if (strcmp(type, "Metaspace") == 0) {
        op.type = P_METASPACE;
        const char *r = jstr(p, "replacement");
        op.repl = xstrdup(r ? r : "\xe2\x96\x81");
        if (strlen(op.repl) == 0 || tok_utf8_next(op.repl, strlen(op.repl), &(size_t){0}) < 0)
            die("%s: bad Metaspace replacement", path);
        op.prepend = jbool(p, "add_prefix_space", 1) ? PREPEND_ALWAYS : PREPEND_NEVER;
        const char *scheme = jstr(p, "prepend_scheme");
        if (scheme) {
            if (strcmp(scheme, "always") == 0)
                op.prepend = PREPEND_ALWAYS;
            else if (strcmp(scheme, "first") == 0)
                op.prepend = PREPEND_FIRST;
            else if (strcmp(scheme, "never") == 0)
                op.prepend = PREPEND_NEVER;
            else
                die("%s: unknown Metaspace prepend_scheme \"%s\"", path, scheme);
        }
        op.split = jbool(p, "split", 1);
    } else {
        die("%s: unsupported pre_tokenizer type \"%s\"", path, type);
    }
    ug->pre = xrealloc(ug->pre, (ug->n_pre + 1) * sizeof *ug->pre);
    ug->pre[ug->n_pre++] = op;
}

/* ---- post-processor: which specials wrap a sequence ---- */

static int32_t special_by_name(xf_tokenizer *tk, json_t *v)
{
    /* ["</s>", 2] (Roberta/Bert processing) or a token string */
    if (json_is_array(v) && json_array_size(v) == 2)
        return (int32_t)json_integer_value(json_array_get(v, 1));
    if (json_is_string(v))
        return xf_tok_id(tk, json_string_value(v));
    return -1;
}

static void parse_post(xf_tokenizer *tk, json_t *pp)
{
    const char *type = pp && !json_is_null(pp) ? jstr(pp, "type") : NULL;
    if (type && (strcmp(type, "RobertaProcessing") == 0 || strcmp(type, "BertProcessing") == 0)) {
        int32_t cls = special_by_name(tk, json_object_get(pp, "cls"));
        int32_t sep = special_by_name(tk, json_object_get(pp, "sep"));
        if (cls >= 0) tk->sp.cls = cls;
        if (sep >= 0) tk->sp.sep = sep;
        tk->pair_double_sep = strcmp(type, "RobertaProcessing") == 0;
        return;
    }
    if (type && strcmp(type, "TemplateProcessing") == 0) {
        /* single: [cls] A [sep]: the special before A is cls, after it sep */
        json_t *single = json_object_get(pp, "single");
        size_t i;
        json_t *item;
        int seen_a = 0;
        json_array_foreach(single, i, item) {
            json_t *st = json_object_get(item, "SpecialToken");
            if (!st) {
                seen_a = 1;
                continue;
            }
            int32_t id = xf_tok_id(tk, jstr(st, "id") ? jstr(st, "id") : "");
            if (id < 0)
                continue;
            if (!seen_a && tk->sp.cls < 0) tk->sp.cls = id;
            if (seen_a && tk->sp.sep < 0) tk->sp.sep = id;
        }
        /* pair: two specials in a row between A and B means "</s></s>" */
        json_t *pair = json_object_get(pp, "pair");
        int run = 0, after_a = 0;
        json_array_foreach(pair, i, item) {
            if (json_object_get(item, "SpecialToken")) {
                if (after_a && ++run >= 2)
                    tk->pair_double_sep = 1;
            } else {
                if (after_a)
                    break;
                after_a = 1;
                run = 0;
            }
        }
    }
}

/* ---- loading ---- */

static xf_tokenizer *load_wordpiece_json(const char *path, json_t *root, json_t *model)
{
    json_t *vocab = json_object_get(model, "vocab");
    if (!json_is_object(vocab))
        die("%s: WordPiece model without a vocab object", path);
    size_t n = json_object_size(vocab);
    char **pieces = xcalloc(n ? n : 1, sizeof *pieces);
    const char *key;
    json_t *v;
    json_object_foreach(vocab, key, v) {
        json_int_t id = json_integer_value(v);
        if (!json_is_integer(v) || id < 0 || (size_t)id >= n || pieces[id])
            die("%s: WordPiece vocab id of \"%s\" is not a unique id below %zu", path, key, n);
        pieces[id] = xstrdup(key);
    }
    xf_tokenizer *tk = tok_alloc(XF_TOK_WORDPIECE, pieces, n, path);
    json_t *norm = json_object_get(root, "normalizer");
    tk->lowercase = norm && !json_is_null(norm) ? jbool(norm, "lowercase", 0) : 0;
    const char *unk = jstr(model, "unk_token");
    tk->sp.unk = xf_tok_id(tk, unk ? unk : "[UNK]");
    if (tk->sp.unk < 0)
        die("%s: unk_token not in the vocab", path);
    json_t *mc = json_object_get(model, "max_input_chars_per_word");
    if (json_is_integer(mc))
        tk->max_word_chars = (size_t)json_integer_value(mc);
    tk->sp.cls = xf_tok_id(tk, "[CLS]");
    tk->sp.sep = xf_tok_id(tk, "[SEP]");
    tk->sp.pad = xf_tok_id(tk, "[PAD]");
    tk->sp.mask = xf_tok_id(tk, "[MASK]");
    parse_post(tk, json_object_get(root, "post_processor"));
    tok_finish_specials(tk);
    return tk;
}

static void build_prefix_map(tok_unigram *ug, xf_tokenizer *tk)
{
    tok_map_init(&ug->prefix, ug->n_model * 4);
    for (size_t id = 0; id < ug->n_model; id++) {
        const char *p = tk->pieces[id];
        size_t l = strlen(p);
        if (!l)
            continue;
        for (size_t k = 1; k < l; k++)
            if (((uint8_t)p[k] & 0xC0) != 0x80)
                tok_map_put(&ug->prefix, p, k, -1);
        int32_t *slot = tok_map_put(&ug->prefix, p, l, (int32_t)id);
        if (*slot < 0)
            *slot = (int32_t)id;
    }
}

xf_tokenizer *tok_json_load(const char *path)
{
    size_t len;
    char *txt = xf_read_file(path, &len);
    json_error_t err;
    json_t *root = json_loadb(txt, len, 0, &err);
    free(txt);
    if (!root)
        die("%s:%d: %s", path, err.line, err.text);
    json_t *model = json_object_get(root, "model");
    if (!json_is_object(model))
        die("%s: no \"model\" object", path);
    const char *mtype = jstr(model, "type");
    json_t *vocab = json_object_get(model, "vocab");
    if (mtype && strcmp(mtype, "WordPiece") == 0) {
        xf_tokenizer *tk = load_wordpiece_json(path, root, model);
        json_decref(root);
        return tk;
    }
    if ((mtype && strcmp(mtype, "Unigram") != 0) || !json_is_array(vocab))
        die("%s: unsupported model type \"%s\" (Unigram and WordPiece only)", path,
            mtype ? mtype : "?");

    size_t n = json_array_size(vocab);
    if (n == 0)
        die("%s: empty Unigram vocab", path);
    tok_unigram *ug = xcalloc(1, sizeof *ug);
    char **pieces = xmalloc(xmul(n, sizeof *pieces));
    ug->score = xmalloc(xmul(n, sizeof *ug->score));
    double min_score = INFINITY;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(vocab, i);
        json_t *p = json_array_get(e, 0), *s = json_array_get(e, 1);
        if (!json_is_string(p) || !json_is_number(s))
            die("%s: Unigram vocab entry %zu is not [piece, score]", path, i);
        pieces[i] = xstrdup(json_string_value(p));
        ug->score[i] = json_number_value(s);
        if (ug->score[i] < min_score)
            min_score = ug->score[i];
    }
    ug->n_model = n;
    json_t *unk = json_object_get(model, "unk_id");
    ug->unk_id = json_is_integer(unk) ? (int32_t)json_integer_value(unk) : -1;
    if (ug->unk_id < 0 || (size_t)ug->unk_id >= n)
        die("%s: Unigram model needs an unk_id inside the vocab", path);
    ug->unk_score = min_score - 10.0;

    /* added tokens: ids past the model vocab extend the piece table */
    json_t *added = json_object_get(root, "added_tokens");
    size_t n_all = n;
    size_t ai;
    json_t *a;
    json_array_foreach(added, ai, a) {
        json_int_t id = json_integer_value(json_object_get(a, "id"));
        if (id >= 0 && (size_t)id >= n_all)
            n_all = (size_t)id + 1;
    }
    if (n_all > n) {
        pieces = xrealloc(pieces, xmul(n_all, sizeof *pieces));
        for (size_t i = n; i < n_all; i++)
            pieces[i] = xstrdup("");
    }
    json_array_foreach(added, ai, a) {
        json_int_t id = json_integer_value(json_object_get(a, "id"));
        const char *content = jstr(a, "content");
        if (!content || id < 0)
            die("%s: added token %zu without id or content", path, ai);
        if ((size_t)id >= n) {
            free(pieces[id]);
            pieces[id] = xstrdup(content);
        } else if (strcmp(pieces[id], content) != 0) {
            die("%s: added token %lld \"%s\" differs from vocab piece \"%s\"", path,
                (long long)id, content, pieces[id]);
        }
    }
    xf_tokenizer *tk = tok_alloc(XF_TOK_UNIGRAM, pieces, n_all, path);
    tk->ug = ug;
    json_array_foreach(added, ai, a) tok_add_added(tk, (int32_t)json_integer_value(json_object_get(a, "id")));
    /* only the ones flagged special are special */
    json_array_foreach(added, ai, a) {
        int32_t id = (int32_t)json_integer_value(json_object_get(a, "id"));
        tk->special[id] = (uint8_t)jbool(a, "special", 0);
    }
    tk->sp.unk = ug->unk_id;
    tk->sp.pad = xf_tok_id(tk, "<pad>");
    tk->sp.mask = xf_tok_id(tk, "<mask>");
    parse_post(tk, json_object_get(root, "post_processor"));
    if (tk->sp.cls < 0)
        tk->sp.cls = xf_tok_id(tk, "<s>");
    if (tk->sp.sep < 0)
        tk->sp.sep = xf_tok_id(tk, "</s>");
    tok_finish_specials(tk);

    add_norm(path, ug, json_object_get(root, "normalizer"));
    add_pre(path, ug, json_object_get(root, "pre_tokenizer"));
    build_prefix_map(ug, tk);
    json_decref(root);
    return tk;
}

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
    utf8proc_int32_t state = 0, prev = -1;
    size_t g = 0, i = 0;
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
    (void)i;
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
