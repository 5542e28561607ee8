/* tok_common.c — what WordPiece and Unigram share: token lists, the piece
 * map, loading dispatch, added-token splitting, normalisation and decoding
 * entry points, and the UTF-8 / aligned-string helpers.  See tokenizer.h
 * and tok_internal.h.
 */
#define _GNU_SOURCE
#include "tok_internal.h"
#include "util.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <utf8proc.h>

/* ---- token lists ---- */

void xf_tokens_clear(xf_tokens *t) { t->n = 0; }

void xf_tokens_free(xf_tokens *t)
{
    free(t->ids);
    free(t->start);
    free(t->end);
    memset(t, 0, sizeof *t);
}

void xf_tokens_push(xf_tokens *t, int32_t id, int32_t start, int32_t end)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        t->ids = xrealloc(t->ids, xmul(cap, sizeof *t->ids));
        t->start = xrealloc(t->start, xmul(cap, sizeof *t->start));
        t->end = xrealloc(t->end, xmul(cap, sizeof *t->end));
        t->cap = cap;
    }
    t->ids[t->n] = id;
    t->start[t->n] = start;
    t->end[t->n] = end;
    t->n++;
}

/* ---- hash map ---- */

uint32_t tok_hash(const char *s, size_t len)
{
    /* 8 bytes at a time, multiply-xorshift mixing */
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 31;
    }
    if (i < len) {
        uint64_t w = 0;
        memcpy(&w, s + i, len - i);
        h = (h ^ w) * 0x94D049BB133111EBULL;
        h ^= h >> 29;
    }
    h *= 0xBF58476D1CE4E5B9ULL;
    return (uint32_t)(h >> 32);
}

void tok_map_init(tok_map *m, size_t expected)
{
    size_t cap = 64;
    while (cap * 7 < expected * 10 + 10)   /* load factor <= 0.7 */
        cap *= 2;
    m->cap = cap;
    m->n = 0;
    m->slot = xcalloc(cap, sizeof *m->slot);
    m->bloom = xcalloc(cap / 8, sizeof *m->bloom);   /* 8 bits per slot */
}

/* the two Bloom bit positions of hash H (8 * cap bits) */
static inline size_t bloom_a(const tok_map *m, uint32_t h) { return (h ^ (h >> 15)) & (8 * m->cap - 1); }
static inline size_t bloom_b(const tok_map *m, uint32_t h) { return ((h * 0x9E3779B1u) >> 5) & (8 * m->cap - 1); }

void tok_map_free(tok_map *m)
{
    free(m->slot);
    free(m->bloom);
    memset(m, 0, sizeof *m);
}

static void map_grow(tok_map *m)
{
    tok_map big;
    tok_map_init(&big, 2 * m->n + 1);
    for (size_t i = 0; i < m->cap; i++)
        if (m->slot[i].key)
            tok_map_put(&big, m->slot[i].key, m->slot[i].klen, m->slot[i].val);
    tok_map_free(m);
    *m = big;
}

int32_t *tok_map_put(tok_map *m, const char *key, size_t len, int32_t val)
{
    if ((m->n + 1) * 10 > m->cap * 7)
        map_grow(m);
    uint32_t h = tok_hash(key, len);
    size_t i = h & (m->cap - 1);
    while (m->slot[i].key) {
        tok_slot *e = &m->slot[i];
        if (e->hash == h && e->klen == len && memcmp(e->key, key, len) == 0)
            return &e->val;
        i = (i + 1) & (m->cap - 1);
    }
    m->slot[i] = (tok_slot){key, h, (uint32_t)len, val};
    m->n++;
    size_t a = bloom_a(m, h), b = bloom_b(m, h);
    m->bloom[a >> 6] |= 1ULL << (a & 63);
    m->bloom[b >> 6] |= 1ULL << (b & 63);
    return &m->slot[i].val;
}

int tok_map_get(const tok_map *m, const char *key, size_t len, int32_t *val)
{
    uint32_t h = tok_hash(key, len);
    size_t a = bloom_a(m, h), b = bloom_b(m, h);
    if (!(m->bloom[a >> 6] >> (a & 63) & 1) || !(m->bloom[b >> 6] >> (b & 63) & 1))
        return 0;
    size_t i = h & (m->cap - 1);
    while (m->slot[i].key) {
        const tok_slot *e = &m->slot[i];
        if (e->hash == h && e->klen == len && memcmp(e->key, key, len) == 0) {
            *val = e->val;
            return 1;
        }
        i = (i + 1) & (m->cap - 1);
    }
    return 0;
}

/* ---- aligned strings ---- */

void nstr_clear(tok_nstr *ns) { ns->n = 0; }

void nstr_free(tok_nstr *ns)
{
    free(ns->s);
    free(ns->os);
    free(ns->oe);
    memset(ns, 0, sizeof *ns);
}

void nstr_reserve(tok_nstr *ns, size_t extra)
{
    if (ns->n + extra + 1 <= ns->cap)
        return;
    size_t cap = ns->cap ? ns->cap : 256;
    while (cap < ns->n + extra + 1)
        cap *= 2;
    ns->s = xrealloc(ns->s, cap);
    ns->os = xrealloc(ns->os, xmul(cap, sizeof *ns->os));
    ns->oe = xrealloc(ns->oe, xmul(cap, sizeof *ns->oe));
    ns->cap = cap;
}

void nstr_push(tok_nstr *ns, const char *b, size_t len, int32_t os, int32_t oe)
{
    nstr_reserve(ns, len);
    for (size_t i = 0; i < len; i++) {
        ns->s[ns->n] = b[i];
        ns->os[ns->n] = os;
        ns->oe[ns->n] = oe;
        ns->n++;
    }
    ns->s[ns->n] = 0;
}

void nstr_push_cp(tok_nstr *ns, int32_t cp, int32_t os, int32_t oe)
{
    char b[4];
    nstr_push(ns, b, tok_utf8_put(cp, b), os, oe);
}

void nstr_from_text(tok_nstr *ns, const char *text, size_t len, int32_t base)
{
    nstr_clear(ns);
    nstr_reserve(ns, len);
    size_t i = 0;
    while (i < len) {
        size_t adv;
        int32_t cp = tok_utf8_next(text + i, len - i, &adv);
        if (cp == 0xFFFD && adv == 1) {
            /* an invalid byte becomes U+FFFD, as a lossy UTF-8 decode */
            nstr_push(ns, "\xef\xbf\xbd", 3, base + (int32_t)i, base + (int32_t)i + 1);
            i++;
            continue;
        }
        nstr_push(ns, text + i, adv, base + (int32_t)i, base + (int32_t)(i + adv));
        i += adv;
    }
    ns->s[ns->n] = 0;
}

void tok_push_span(const tok_nstr *ns, size_t a, size_t b, int32_t id, xf_tokens *out)
{
    int32_t s = ns->os[a], e = ns->oe[b - 1];
    if (e < s)
        e = s;
    xf_tokens_push(out, id, s, e);
}

/* ---- UTF-8 and character classes ---- */

int32_t tok_utf8_next(const char *s, size_t n, size_t *adv)
{
    uint8_t c = (uint8_t)s[0];
    if (c < 0x80) {
        *adv = 1;
        return c;
    }
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s,
                                          n > 4 ? 4 : (utf8proc_ssize_t)n, &cp);
    if (k <= 0) {
        *adv = 1;
        return 0xFFFD;
    }
    *adv = (size_t)k;
    return cp;
}

size_t tok_utf8_put(int32_t cp, char *out)
{
    return (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)out);
}

int tok_is_white_space(int32_t cp)
{
    if (cp < 0x80)
        return cp == ' ' || (cp >= 9 && cp <= 13);
    switch (cp) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
        return 1;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

int tok_lower_full(int32_t cp, int32_t out[2])
{
    if (cp == 0x130) {          /* the one unconditional multi-char lowercase */
        out[0] = 'i';
        out[1] = 0x307;
        return 2;
    }
    out[0] = utf8proc_tolower(cp);
    return 1;
}

/* ---- construction ---- */

xf_tokenizer *tok_alloc(xf_tok_kind kind, char **pieces, size_t n, const char *source)
{
    xf_tokenizer *tk = xcalloc(1, sizeof *tk);
    tk->kind = kind;
    tk->pieces = pieces;
    tk->n = n;
    tk->source = source ? xstrdup(source) : NULL;
    tk->special = xcalloc(n ? n : 1, 1);
    tk->sp = (xf_tok_special){-1, -1, -1, -1, -1};
    tk->max_word_chars = 100;
    tok_map_init(&tk->map, n);
    tok_map_init(&tk->added_map, 16);
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(pieces[i]);
        /* a duplicated piece maps to its last id, as HF's vocab dicts do */
        *tok_map_put(&tk->map, pieces[i], l, (int32_t)i) = (int32_t)i;
        if (l > tk->max_piece_bytes)
            tk->max_piece_bytes = l;
    }
    return tk;
}

/* The index k in added_id of the added token ID, or -1. */
static ssize_t added_index(const xf_tokenizer *tk, int32_t id)
{
    int32_t k;
    const char *p = tk->pieces[id];
    if (!tok_map_get(&tk->added_map, p, strlen(p), &k) || k < 0 || tk->added_id[k] != id)
        return -1;
    return k;
}

void tok_add_added(xf_tokenizer *tk, int32_t id)
{
    if (id < 0 || (size_t)id >= tk->n || !tk->pieces[id][0])
        return;
    const char *p = tk->pieces[id];
    size_t l = strlen(p);
    int32_t k;
    /* already added (the same text under another id: the first one wins,
     * as the longest-match scan always did) */
    if (tok_map_get(&tk->added_map, p, l, &k) && k >= 0)
        return;
    if (tk->n_added >= INT32_MAX)
        die("%s: too many added tokens", tk->source ? tk->source : "tokenizer");
    size_t n = tk->n_added + 1;
    tk->added_id = xrealloc(tk->added_id, xmul(n, sizeof *tk->added_id));
    tk->added_strip = xrealloc(tk->added_strip, n);
    tk->added_strip[tk->n_added] = 0;
    tk->added_id[tk->n_added] = id;
    for (size_t j = 1; j < l; j++)
        tok_map_put(&tk->added_map, p, j, -1);   /* keeps a full token's index */
    *tok_map_put(&tk->added_map, p, l, (int32_t)tk->n_added) = (int32_t)tk->n_added;
    tk->n_added = n;
    tk->added_first[(uint8_t)p[0]] = 1;
    tk->special[id] = 1;
}

void tok_set_added_strip(xf_tokenizer *tk, int32_t id, int lstrip, int rstrip)
{
    if (id < 0 || (size_t)id >= tk->n)
        return;
    ssize_t k = added_index(tk, id);
    if (k >= 0)
        tk->added_strip[k] = (uint8_t)((lstrip ? 1 : 0) | (rstrip ? 2 : 0));
}

void tok_finish_specials(xf_tokenizer *tk)
{
    int32_t *slots[] = {&tk->sp.cls, &tk->sp.sep, &tk->sp.pad, &tk->sp.mask, &tk->sp.unk};
    for (size_t i = 0; i < sizeof slots / sizeof *slots; i++)
        if (*slots[i] >= 0)
            tok_add_added(tk, *slots[i]);
}

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

/* ---- accessors ---- */

xf_tok_kind xf_tok_kind_of(const xf_tokenizer *tk) { return tk->kind; }
size_t xf_tok_vocab_size(const xf_tokenizer *tk) { return tk->n; }
xf_tok_special xf_tok_specials(const xf_tokenizer *tk) { return tk->sp; }
const char *xf_tok_source(const xf_tokenizer *tk) { return tk->source; }
int xf_tok_pair_double_sep(const xf_tokenizer *tk) { return tk->pair_double_sep; }
void xf_tok_set_lowercase(xf_tokenizer *tk, int lowercase) { tk->lowercase = lowercase != 0; }
int xf_tok_lowercase(const xf_tokenizer *tk) { return tk->lowercase; }

const char *xf_tok_piece(const xf_tokenizer *tk, int32_t id)
{
    return id >= 0 && (size_t)id < tk->n ? tk->pieces[id] : NULL;
}

int32_t xf_tok_id(const xf_tokenizer *tk, const char *piece)
{
    int32_t v;
    return tok_map_get(&tk->map, piece, strlen(piece), &v) ? v : -1;
}

int xf_tok_is_special(const xf_tokenizer *tk, int32_t id)
{
    return id >= 0 && (size_t)id < tk->n && tk->special[id];
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

static void buf_put(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 64;
        while (c < *len + n + 1)
            c *= 2;
        *buf = xrealloc(*buf, c);
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = 0;
}

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
            buf_put(buf, blen, bcap, " ", 1);
        buf_put(buf, blen, bcap, p, strlen(p));
        first = 0;
    }
}

static void unigram_decode(const xf_tokenizer *tk, const int32_t *ids, size_t n,
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
                    buf_put(buf, blen, bcap, " ", 1);
                q += 3;
            } else {
                buf_put(buf, blen, bcap, q, 1);
                q++;
            }
        }
    }
}

char *xf_tok_decode(const xf_tokenizer *tk, const int32_t *ids, size_t n, int skip_special)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    buf_put(&buf, &len, &cap, "", 0);
    if (tk->kind == XF_TOK_WORDPIECE)
        tok_wordpiece_decode(tk, ids, n, skip_special, &buf, &len, &cap);
    else
        unigram_decode(tk, ids, n, skip_special, &buf, &len, &cap);
    return buf;
}
