/* tokenizer.c — the public tokenizer interface (tokenizer.h): loading by
 * file kind, added-token splitting, and dispatch to the implementations
 * (wordpiece.c, unigram.c, tok_json.c) on each stretch between added
 * tokens.  It sits above them: they call only the helpers of tok_common.c,
 * never back into this file.
 */
#define _GNU_SOURCE
#include "tok_internal.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- construction ---- */

xf_tokenizer *xf_tok_wordpiece_new(const char *const *pieces, size_t n, int lowercase)
{
    char **own = xmalloc(xmul(n ? n : 1, sizeof *own));
    for (size_t i = 0; i < n; i++)
        own[i] = xstrdup(pieces[i]);
    xf_tokenizer *tk = tok_alloc(XF_TOK_WORDPIECE, own, n, NULL);
    tk->lowercase = lowercase;
    char what[64];
    snprintf(what, sizeof what, "WordPiece vocabulary of %zu pieces", n);
    tok_wordpiece_specials(tk, what);
    return tk;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

xf_tokenizer *xf_tok_load(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        die_errno("%s", path);
    if (S_ISDIR(st.st_mode)) {
        size_t l = strlen(path) + 32;
        char *p = xmalloc(l);
        xf_tokenizer *tk = NULL;
        snprintf(p, l, "%s/tokenizer.json", path);
        if (file_exists(p))
            tk = tok_json_load(p);
        if (!tk) {
            snprintf(p, l, "%s/vocab.txt", path);
            if (!file_exists(p))
                die("%s: no tokenizer.json or vocab.txt in this folder", path);
            tk = tok_wordpiece_load_vocab(p);
        }
        free(p);
        return tk;
    }
    if (has_suffix(path, ".json") || has_suffix(path, ".json.zst"))
        return tok_json_load(path);
    return tok_wordpiece_load_vocab(path);
}

void xf_tok_free(xf_tokenizer *tk)
{
    if (!tk)
        return;
    for (size_t i = 0; i < tk->n; i++)
        free(tk->pieces[i]);
    free(tk->pieces);
    tok_map_free(&tk->map);
    free(tk->source);
    free(tk->added_id);
    free(tk->added_strip);
    tok_map_free(&tk->added_map);
    free(tk->special);
    tok_unigram_free(tk->ug);
    free(tk);
}

/* ---- encoding: added tokens first, then the model on each gap ---- */

/* Length of the longest added token at TEXT[0..len), its id in *id and
 * its strip flags in *strip. */
static size_t match_added(const xf_tokenizer *tk, const char *text, size_t len, int32_t *id,
                          int *strip)
{
    size_t best = 0;
    int32_t k;
    /* every prefix of an added token is in the map: extend while it is */
    for (size_t l = 1; l <= len && tok_map_get(&tk->added_map, text, l, &k); l++)
        if (k >= 0) {
            best = l;
            *id = tk->added_id[k];
            *strip = tk->added_strip[k];
        }
    return best;
}

static int ascii_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

typedef void (*seg_fn)(const xf_tokenizer *tk, const char *text, size_t len, int32_t base,
                       void *ctx);

/* Calls SEG on each stretch between added tokens and ADDED on each match. */
static void split_added(const xf_tokenizer *tk, const char *text, size_t len, seg_fn seg,
                        void (*added)(const xf_tokenizer *, int32_t, int32_t, int32_t, void *),
                        void *ctx)
{
    size_t start = 0, i = 0;
    while (i < len) {
        if (tk->added_first[(uint8_t)text[i]]) {
            int32_t id = -1;
            int strip = 0;
            size_t l = match_added(tk, text + i, len - i, &id, &strip);
            if (l) {
                size_t a = i, b = i + l;
                while ((strip & 1) && a > start && ascii_space(text[a - 1]))
                    a--;
                while ((strip & 2) && b < len && ascii_space(text[b]))
                    b++;
                if (a > start)
                    seg(tk, text + start, a - start, (int32_t)start, ctx);
                added(tk, id, (int32_t)a, (int32_t)b, ctx);
                i = b;
                start = i;
                continue;
            }
        }
        i++;
    }
    if (len > start)
        seg(tk, text + start, len - start, (int32_t)start, ctx);
}

static void enc_seg(const xf_tokenizer *tk, const char *text, size_t len, int32_t base, void *ctx)
{
    if (tk->kind == XF_TOK_WORDPIECE)
        tok_wordpiece_encode_seg(tk, text, len, base, ctx);
    else
        tok_unigram_encode_seg(tk, text, len, base, ctx);
}

static void enc_added(const xf_tokenizer *tk, int32_t id, int32_t s, int32_t e, void *ctx)
{
    xf_tokens_push(ctx, id, s, e);
}

size_t xf_tok_encode(const xf_tokenizer *tk, const char *text, size_t len, xf_tokens *out)
{
    size_t n0 = out->n;
    split_added(tk, text, len, enc_seg, enc_added, out);
    return out->n - n0;
}

size_t xf_tok_encode_word(const xf_tokenizer *tk, const char *word, size_t len, xf_tokens *out)
{
    /* A pre-split word is its own sequence: WordPiece still splits
     * punctuation inside it, Metaspace gives it the "▁" prefix. */
    return xf_tok_encode(tk, word, len, out);
}

static void norm_seg(const xf_tokenizer *tk, const char *text, size_t len, int32_t base, void *ctx)
{
    tok_nstr ns = {0};
    if (tk->kind == XF_TOK_WORDPIECE)
        tok_wordpiece_normalize(tk, text, len, base, &ns);
    else
        tok_unigram_normalize(tk, text, len, base, &ns);
    tok_nstr *acc = ctx;
    nstr_reserve(acc, ns.n);
    memcpy(acc->s + acc->n, ns.s, ns.n);
    acc->n += ns.n;
    acc->s[acc->n] = 0;
    nstr_free(&ns);
}

static void norm_added(const xf_tokenizer *tk, int32_t id, int32_t s, int32_t e, void *ctx)
{
    tok_nstr *acc = ctx;
    const char *p = tk->pieces[id];
    nstr_push(acc, p, strlen(p), s, e);
}

char *xf_tok_normalize(const xf_tokenizer *tk, const char *text, size_t len)
{
    tok_nstr acc = {0};
    nstr_reserve(&acc, len);
    acc.s[0] = 0;
    split_added(tk, text, len, norm_seg, norm_added, &acc);
    char *s = acc.s;
    free(acc.os);
    free(acc.oe);
    return s;
}

/* ---- decoding ---- */

char *xf_tok_decode(const xf_tokenizer *tk, const int32_t *ids, size_t n, int skip_special)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    tok_buf_put(&buf, &len, &cap, "", 0);
    if (tk->kind == XF_TOK_WORDPIECE)
        tok_wordpiece_decode(tk, ids, n, skip_special, &buf, &len, &cap);
    else
        tok_unigram_decode(tk, ids, n, skip_special, &buf, &len, &cap);
    return buf;
}
