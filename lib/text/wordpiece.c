/* wordpiece.c — WordPiece exactly as Hugging Face's BertTokenizerFast:
 * BertNormalizer (clean text, CJK spacing, optional NFD accent stripping
 * then lowercasing), BertPreTokenizer (split on whitespace, isolate every
 * punctuation char), greedy longest-match-first with "##" continuations.
 *
 * HF details kept on purpose:
 *  - "control" is Rust's unicode_categories is_other(): Cc, Cf, Co (not Cn);
 *    \t \n \r are whitespace, and whitespace is Rust's char::is_whitespace
 *    (White_Space: Zs plus U+2028/2029, ...); Cc such as U+000B, U+0085 are
 *    dropped before the whitespace mapping.
 *  - The CJK ranges are HF's, which start Extension E at U+2B920 (the
 *    Python BERT code says U+2B820): U+2B820..U+2B91F is not spaced.
 *  - Accents are stripped as Mn after NFD, before lowercasing char by char
 *    (no Greek final sigma).
 *  - A word longer than 100 chars, or with a position no piece matches,
 *    becomes one [UNK].
 */
#define _GNU_SOURCE
#include "tok_internal.h"
#include "util.h"
#include "zio.h"

#include <jansson.h>
#include <string.h>
#include <utf8proc.h>

/* ---- loading ---- */

/* do_lower_case from DIR/tokenizer_config.json; -1 when absent.  A value
 * that is not a boolean ("yes") is an error, not silently cased. */
static int config_lowercase(const char *vocab_path)
{
    const char *slash = strrchr(vocab_path, '/');
    size_t dl = slash ? (size_t)(slash - vocab_path + 1) : 0;
    char *p = xmalloc(dl + 32);
    memcpy(p, vocab_path, dl);
    strcpy(p + dl, "tokenizer_config.json");
    FILE *f = fopen(p, "r");
    int lc = -1;
    if (f) {
        fclose(f);
        size_t n;
        char *txt = xf_read_file(p, &n);
        json_error_t err;
        json_t *j = json_loadb(txt, n, 0, &err);
        if (!j)
            die("%s:%d: %s", p, err.line, err.text);
        json_t *v = json_object_get(j, "do_lower_case");
        if (v && !json_is_null(v) && !json_is_boolean(v))
            die("%s: key 'do_lower_case': not a boolean (true or false)", p);
        if (v && json_is_boolean(v))
            lc = json_is_true(v);
        json_decref(j);
        free(txt);
    }
    free(p);
    return lc;
}

xf_tokenizer *tok_wordpiece_load_vocab(const char *path)
{
    size_t len;
    char *txt = xf_read_file(path, &len);
    /* One piece per line, split on '\n' only: the uncased vocab holds
     * U+2028 pieces that splitlines() would cut. */
    size_t n = 0, cap = 1024;
    char **pieces = xmalloc(cap * sizeof *pieces);
    size_t i = 0;
    while (i < len) {
        char *nl = memchr(txt + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - txt) : len;
        size_t l = e - i;
        if (l && txt[i + l - 1] == '\r')
            l--;
        if (memchr(txt + i, 0, l))
            die("%s:%zu: NUL byte in vocabulary", path, n + 1);
        for (size_t k = 0; k < l;) {   /* HF reads vocab.txt as UTF-8 and fails otherwise */
            utf8proc_int32_t cp;
            utf8proc_ssize_t r = utf8proc_iterate((const utf8proc_uint8_t *)txt + i + k,
                                                  (utf8proc_ssize_t)(l - k), &cp);
            if (r <= 0)
                die("%s:%zu: invalid UTF-8 in vocabulary (byte %zu of the line)", path, n + 1, k + 1);
            k += (size_t)r;
        }
        if (n == cap)
            pieces = xrealloc(pieces, xmul(cap *= 2, sizeof *pieces));
        pieces[n] = xmalloc(l + 1);
        memcpy(pieces[n], txt + i, l);
        pieces[n][l] = 0;
        n++;
        i = e + 1;
    }
    free(txt);
    if (n == 0)
        die("%s: empty vocabulary", path);
    xf_tokenizer *tk = tok_alloc(XF_TOK_WORDPIECE, pieces, n, path);
    int lc = config_lowercase(path);
    tk->lowercase = lc > 0;
    tok_wordpiece_specials(tk, path);
    return tk;
}

void tok_wordpiece_specials(xf_tokenizer *tk, const char *src)
{
    tk->sp.cls = xf_tok_id(tk, "[CLS]");
    tk->sp.sep = xf_tok_id(tk, "[SEP]");
    tk->sp.pad = xf_tok_id(tk, "[PAD]");
    tk->sp.mask = xf_tok_id(tk, "[MASK]");
    tk->sp.unk = xf_tok_id(tk, "[UNK]");
    if (tk->sp.unk < 0) die("%s: no [UNK] piece in the vocabulary", src);
    tok_finish_specials(tk);
}

/* ---- character classes ---- */

static int is_cjk(int32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

static int is_control(int32_t c)
{
    if (c == '\t' || c == '\n' || c == '\r')
        return 0;
    /* Cc, Cf, Co (and Cs, which cannot occur in valid UTF-8), as the fast
     * tokenizer's char::is_other() (unicode_categories crate): unassigned
     * code points (Cn) are not "other" there and stay in the text. */
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF || k == UTF8PROC_CATEGORY_CO ||
           k == UTF8PROC_CATEGORY_CS;
}

static int is_punct(int32_t c)
{
    if (c < 0x80)
        return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
               (c >= 123 && c <= 126);
    utf8proc_category_t k = utf8proc_category(c);
    return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

/* ---- normalisation ---- */

/* Strip accents (NFD, drop Mn) then lowercase one char. */
static void push_uncased(tok_nstr *ns, int32_t cp, int32_t os, int32_t oe)
{
    utf8proc_int32_t d[32];
    int last = 0;
    utf8proc_ssize_t k = utf8proc_decompose_char(cp, d, 32, UTF8PROC_DECOMPOSE, &last);
    if (k < 0 || k > 32) {
        d[0] = cp;
        k = 1;
    }
    for (utf8proc_ssize_t i = 0; i < k; i++) {
        if (utf8proc_category(d[i]) == UTF8PROC_CATEGORY_MN)
            continue;
        int32_t lo[2];
        int m = tok_lower_full(d[i], lo);
        for (int j = 0; j < m; j++)
            nstr_push_cp(ns, lo[j], os, oe);
    }
}

void tok_wordpiece_normalize(const xf_tokenizer *tk, const char *text, size_t len,
                             int32_t base, tok_nstr *ns)
{
    nstr_clear(ns);
    nstr_reserve(ns, len + len / 4 + 16);
    size_t i = 0;
    while (i < len) {
        uint8_t b = (uint8_t)text[i];
        int32_t os = base + (int32_t)i;
        if (b < 0x80) {
            /* ASCII fast path: C0 controls except \t\n\r and DEL dropped */
            if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
                ns->s[ns->n] = ' ';
            } else if (b < 32 || b == 127) {
                i++;
                continue;
            } else {
                ns->s[ns->n] = (char)(tk->lowercase && b >= 'A' && b <= 'Z' ? b + 32 : b);
            }
            ns->os[ns->n] = os;
            ns->oe[ns->n] = os + 1;
            ns->n++;
            i++;
            if (ns->n + 16 >= ns->cap)
                nstr_reserve(ns, 16);
            continue;
        }
        size_t adv;
        int32_t cp = tok_utf8_next(text + i, len - i, &adv);
        int32_t oe = os + (int32_t)adv;
        i += adv;
        if (cp == 0xFFFD || is_control(cp))
            continue;
        if (tok_is_white_space(cp)) {
            nstr_push(ns, " ", 1, os, oe);
            continue;
        }
        int cjk = is_cjk(cp);
        if (cjk)
            nstr_push(ns, " ", 1, os, oe);
        if (tk->lowercase)
            push_uncased(ns, cp, os, oe);
        else
            nstr_push(ns, text + i - adv, adv, os, oe);
        if (cjk)
            nstr_push(ns, " ", 1, os, oe);
    }
    ns->s[ns->n] = 0;
}

/* ---- WordPiece on one pre-token ---- */

static void wordpiece_word(const xf_tokenizer *tk, const tok_nstr *ns, size_t a, size_t b,
                           size_t nchars, char *buf, xf_tokens *out)
{
    size_t n0 = out->n;
    if (nchars > tk->max_word_chars)
        goto unk;
    size_t start = a;
    while (start < b) {
        size_t pre = start > a ? 2 : 0;
        size_t end = b;
        if (end - start + pre > tk->max_piece_bytes) {
            end = start + (tk->max_piece_bytes > pre ? tk->max_piece_bytes - pre : 0);
            while (end > start && ((uint8_t)ns->s[end] & 0xC0) == 0x80)
                end--;
        }
        int32_t id = -1;
        while (end > start) {
            buf[0] = buf[1] = '#';   /* a first piece may have overwritten them */
            memcpy(buf + pre, ns->s + start, end - start);
            if (tok_map_get(&tk->map, buf, pre + end - start, &id))
                break;
            id = -1;
            do
                end--;
            while (end > start && ((uint8_t)ns->s[end] & 0xC0) == 0x80);
        }
        if (id < 0)
            goto unk;
        tok_push_span(ns, start, end, id, out);
        start = end;
    }
    return;
unk:
    out->n = n0;
    tok_push_span(ns, a, b, tk->sp.unk, out);
}

void tok_bert_split(const tok_nstr *ns, tok_word_fn word, void *ctx)
{
    size_t i = 0, w = 0, wchars = 0;
    while (i < ns->n) {
        uint8_t c = (uint8_t)ns->s[i];
        size_t adv = 1;
        int32_t cp = c;
        if (c >= 0x80)
            cp = tok_utf8_next(ns->s + i, ns->n - i, &adv);
        int space = cp == ' ' || tok_is_white_space(cp);
        if (space || is_punct(cp)) {
            if (i > w)
                word(ctx, ns, w, i, wchars);
            if (!space)
                word(ctx, ns, i, i + adv, 1);
            w = i + adv;
            wchars = 0;
        } else {
            wchars++;
        }
        i += adv;
    }
    if (ns->n > w)
        word(ctx, ns, w, ns->n, wchars);
}

struct enc_ctx { const xf_tokenizer *tk; char *buf; xf_tokens *out; };

static void enc_word(void *ctx, const tok_nstr *ns, size_t a, size_t b, size_t nchars)
{
    struct enc_ctx *c = ctx;
    wordpiece_word(c->tk, ns, a, b, nchars, c->buf, c->out);
}

size_t tok_wordpiece_encode_seg(const xf_tokenizer *tk, const char *text, size_t len,
                                int32_t base, xf_tokens *out)
{
    size_t n0 = out->n;
    tok_nstr ns = {0};
    tok_wordpiece_normalize(tk, text, len, base, &ns);
    struct enc_ctx c = {tk, xmalloc(tk->max_piece_bytes + 8), out};
    tok_bert_split(&ns, enc_word, &c);
    free(c.buf);
    nstr_free(&ns);
    return out->n - n0;
}

/* ---- decoding ---- */

void tok_wordpiece_decode(const xf_tokenizer *tk, const int32_t *ids, size_t n,
                          int skip_special, char **buf, size_t *blen, size_t *bcap)
{
    /* HF's WordPiece decoder without clean-up: pieces joined by spaces,
     * "##" continuations glued to the previous piece. */
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        const char *p = xf_tok_piece(tk, ids[i]);
        if (!p)
            die("decode: token id %d out of range (vocabulary of %zu)", ids[i], tk->n);
        if (skip_special && tk->special[ids[i]])
            continue;
        if (!first && strncmp(p, "##", 2) == 0)
            p += 2;
        else if (!first)
            tok_buf_put(buf, blen, bcap, " ", 1);
        tok_buf_put(buf, blen, bcap, p, strlen(p));
        first = 0;
    }
}
