/* tok_json.c — loading Hugging Face tokenizer.json files: the model
 * (Unigram, also in the older serialisation without "type"; WordPiece),
 * added tokens, the normalizer and pre-tokenizer chains unigram.c runs, and
 * the post-processor's special tokens and pair template.
 *
 * Supported normalizers: Precompiled, Replace (literal string, or a regex of
 * the form "C{n,}" / "C+"), Strip, NFD, NFKD, NFC, NFKC, StripAccents,
 * Lowercase, Sequence.  Pre-tokenizers: WhitespaceSplit, Metaspace
 * (replacement, add_prefix_space / prepend_scheme always|first|never,
 * split), Sequence.  Anything else is an error naming the file.
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

static int32_t special_by_name(const char *path, xf_tokenizer *tk, json_t *v, const char *what)
{
    /* ["</s>", 2] (Roberta/Bert processing) or a token string; the id goes
     * into every encoded row, so it must be a token of the vocabulary */
    if (json_is_array(v) && json_array_size(v) == 2) {
        json_t *jid = json_array_get(v, 1);
        json_int_t id = json_integer_value(jid);
        if (!json_is_integer(jid) || id < 0 || (size_t)id >= tk->n)
            die("%s: post_processor %s: id %s is not a token id below the vocabulary size %zu", path,
                what, json_is_integer(jid) ? json_dumps(jid, JSON_ENCODE_ANY) : "(not an integer)", tk->n);
        return (int32_t)id;
    }
    if (json_is_string(v))
        return xf_tok_id(tk, json_string_value(v));
    return -1;
}

static void parse_post(const char *path, xf_tokenizer *tk, json_t *pp)
{
    const char *type = pp && !json_is_null(pp) ? jstr(pp, "type") : NULL;
    if (type && (strcmp(type, "RobertaProcessing") == 0 || strcmp(type, "BertProcessing") == 0)) {
        int32_t cls = special_by_name(path, tk, json_object_get(pp, "cls"), "cls");
        int32_t sep = special_by_name(path, tk, json_object_get(pp, "sep"), "sep");
        if (cls >= 0) tk->sp.cls = cls;
        if (sep >= 0) tk->sp.sep = sep;
        tk->pair_double_sep = strcmp(type, "RobertaProcessing") == 0;
        return;
    }
    if (type && strcmp(type, "TemplateProcessing") == 0) {
        /* single: "[cls] A [sep]": the special before A is cls, the first
         * after it sep; XLNet's "A <sep> <cls>" puts cls second after A */
        json_t *single = json_object_get(pp, "single");
        size_t i;
        json_t *item;
        int seen_a = 0, after = 0;
        json_array_foreach(single, i, item) {
            json_t *st = json_object_get(item, "SpecialToken");
            if (!st) {
                seen_a = 1;
                continue;
            }
            int32_t id = xf_tok_id(tk, jstr(st, "id") ? jstr(st, "id") : "");
            if (id < 0)
                continue;
            if (!seen_a && tk->sp.cls < 0)
                tk->sp.cls = id;
            else if (seen_a && after++ == 0 && tk->sp.sep < 0)
                tk->sp.sep = id;
            else if (seen_a && after == 2 && tk->sp.cls < 0)
                tk->sp.cls = id;
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
    parse_post(path, tk, json_object_get(root, "post_processor"));
    tok_finish_specials(tk);
    return tk;
}

static void build_prefix_map(tok_unigram *ug, xf_tokenizer *tk)
{
    tok_map_init(&ug->prefix, ug->n_model * 2);
    for (size_t id = 0; id < ug->n_model; id++) {
        const char *p = tk->pieces[id];
        size_t l = strlen(p);
        if (!l)
            continue;
        for (size_t k = 1; k < l; k++)
            if (((uint8_t)p[k] & 0xC0) != 0x80)
                tok_map_put(&ug->prefix, p, k, -1);
        /* a duplicated piece: the last id wins (HF's token_to_ids) */
        *tok_map_put(&ug->prefix, p, l, (int32_t)id) = (int32_t)id;
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

    /* added tokens: ids past the model vocab extend the piece table, as
     * HF appends them one after the other: an id is below the model vocab
     * size plus the number of added tokens (so the table is bounded by the
     * file, not by an id in it), and no id is added twice */
    json_t *added = json_object_get(root, "added_tokens");
    if (added && !json_is_array(added))
        die("%s: \"added_tokens\" is not an array", path);
    size_t n_all = n, n_added = json_array_size(added);
    size_t ai;
    json_t *a;
    json_t *seen = json_object();
    json_array_foreach(added, ai, a) {
        json_t *jid = json_object_get(a, "id");
        json_int_t id = json_integer_value(jid);
        if (!json_is_integer(jid) || id < 0 || (size_t)id >= n + n_added)
            die("%s: added token %zu: id is not an integer in [0, %zu) (model vocab %zu + %zu "
                "added tokens)", path, ai, n + n_added, n, n_added);
        char key[32];
        snprintf(key, sizeof key, "%lld", (long long)id);
        if (json_object_get(seen, key))
            die("%s: added token %zu: id %lld appears twice", path, ai, (long long)id);
        json_object_set_new(seen, key, json_true());
        if ((size_t)id >= n_all)
            n_all = (size_t)id + 1;
    }
    json_decref(seen);
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
        tok_set_added_strip(tk, id, jbool(a, "lstrip", 0), jbool(a, "rstrip", 0));
    }
    tk->sp.unk = ug->unk_id;
    tk->sp.pad = xf_tok_id(tk, "<pad>");
    tk->sp.mask = xf_tok_id(tk, "<mask>");
    parse_post(path, tk, json_object_get(root, "post_processor"));
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
