/* tok_common.c — the helpers below every tokenizer: token lists, the piece
 * map, aligned strings, UTF-8, the tokenizer object and its added tokens,
 * accessors, output buffers.  It calls no tokenizer implementation (those
 * call it; tokenizer.c dispatches to them).  See tok_internal.h.
 */
#define _GNU_SOURCE
#include "tok_internal.h"
#include "util.h"

#include <string.h>
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

/* ---- output buffers (decoding) ---- */

void tok_buf_put(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
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
