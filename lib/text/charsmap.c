/* charsmap.c — SentencePiece precompiled_charsmap (Darts-clone double
 * array + replacement strings).  See charsmap.h. */
#define _GNU_SOURCE
#include "charsmap.h"
#include "util.h"

#include <string.h>
#include <utf8proc.h>

struct xf_charsmap {
    uint32_t *units;
    size_t n_units;
    char *norm;          /* replacement strings, NUL-terminated each */
    size_t norm_len;
};

/* Darts-clone unit fields */
static inline int unit_has_leaf(uint32_t u) { return (u >> 8) & 1; }
static inline uint32_t unit_value(uint32_t u) { return u & 0x7FFFFFFFu; }
static inline uint32_t unit_label(uint32_t u) { return u & (0x80000000u | 0xFFu); }
static inline uint32_t unit_offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

xf_charsmap *xf_charsmap_new(const uint8_t *blob, size_t n, const char *what)
{
    if (n < 4)
        die("%s: precompiled_charsmap too short (%zu bytes)", what, n);
    uint32_t tsize = (uint32_t)blob[0] | (uint32_t)blob[1] << 8 | (uint32_t)blob[2] << 16 |
                     (uint32_t)blob[3] << 24;
    if (tsize % 4 || tsize == 0 || (size_t)tsize > n - 4)
        die("%s: precompiled_charsmap trie size %u does not fit its %zu bytes", what, tsize, n);
    xf_charsmap *cm = xcalloc(1, sizeof *cm);
    cm->n_units = tsize / 4;
    cm->units = xmalloc(tsize);
    for (size_t i = 0; i < cm->n_units; i++) {
        const uint8_t *p = blob + 4 + 4 * i;
        cm->units[i] = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                       (uint32_t)p[3] << 24;
    }
    cm->norm_len = n - 4 - tsize;
    cm->norm = xmalloc(cm->norm_len + 1);
    memcpy(cm->norm, blob + 4 + tsize, cm->norm_len);
    cm->norm[cm->norm_len] = 0;
    return cm;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

xf_charsmap *xf_charsmap_from_base64(const char *b64, const char *what)
{
    size_t n = strlen(b64);
    uint8_t *blob = xmalloc(n / 4 * 3 + 4);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)b64[i];
        if (c == '=' || c == '\n' || c == '\r')
            continue;
        int v = b64val(c);
        if (v < 0)
            die("%s: bad base64 character 0x%02x in precompiled_charsmap", what, c);
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            blob[o++] = (uint8_t)(acc >> bits);
        }
    }
    xf_charsmap *cm = xf_charsmap_new(blob, o, what);
    free(blob);
    return cm;
}

void xf_charsmap_free(xf_charsmap *cm)
{
    if (!cm)
        return;
    free(cm->units);
    free(cm->norm);
    free(cm);
}

/* Walks the double array along S; calls back on every key found (in
 * increasing length).  Stops when CB returns nonzero. */
static void prefix_search(const xf_charsmap *cm, const char *s, size_t n,
                          int (*cb)(void *, size_t, uint32_t), void *ctx)
{
    size_t pos = 0;
    if (cm->n_units == 0)
        return;
    pos ^= unit_offset(cm->units[0]);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == 0)
            return;
        pos ^= c;
        if (pos >= cm->n_units)
            return;
        uint32_t u = cm->units[pos];
        if (unit_label(u) != c)
            return;
        pos ^= unit_offset(u);
        if (pos >= cm->n_units)
            return;
        if (unit_has_leaf(u) && cb(ctx, i + 1, unit_value(cm->units[pos])))
            return;
    }
}

struct hit { size_t len; uint32_t val; int found; };

static int take_first(void *ctx, size_t len, uint32_t val)
{
    struct hit *h = ctx;
    h->len = len, h->val = val, h->found = 1;
    return 1;
}

static int take_last(void *ctx, size_t len, uint32_t val)
{
    struct hit *h = ctx;
    h->len = len, h->val = val, h->found = 1;
    return 0;
}

static int replacement(const xf_charsmap *cm, uint32_t val, const char **rep, size_t *rep_len)
{
    if (val >= cm->norm_len) {
        /* an offset at the very end is the empty string */
        *rep = cm->norm + cm->norm_len;
        *rep_len = 0;
        return 1;
    }
    *rep = cm->norm + val;
    *rep_len = strlen(cm->norm + val);
    return 1;
}

int xf_charsmap_first(const xf_charsmap *cm, const char *s, size_t n,
                      const char **rep, size_t *rep_len)
{
    struct hit h = {0};
    prefix_search(cm, s, n, take_first, &h);
    return h.found ? replacement(cm, h.val, rep, rep_len) : 0;
}

size_t xf_charsmap_longest(const xf_charsmap *cm, const char *s, size_t n,
                           const char **rep, size_t *rep_len)
{
    struct hit h = {0};
    prefix_search(cm, s, n, take_last, &h);
    if (!h.found)
        return 0;
    replacement(cm, h.val, rep, rep_len);
    return h.len;
}

static size_t char_len(const char *s, size_t n)
{
    utf8proc_int32_t cp;
    uint8_t c = (uint8_t)s[0];
    if (c < 0x80)
        return 1;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s,
                                          n > 4 ? 4 : (utf8proc_ssize_t)n, &cp);
    return k > 0 ? (size_t)k : 1;
}

static int32_t char_at(const char *s, size_t n)
{
    utf8proc_int32_t cp;
    if ((uint8_t)s[0] < 0x80)
        return (uint8_t)s[0];
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s,
                                          n > 4 ? 4 : (utf8proc_ssize_t)n, &cp);
    return k > 0 ? cp : 0xFFFD;
}

void xf_charsmap_apply(const xf_charsmap *cm, const char *s, size_t n,
                       xf_charsmap_emit emit, void *ctx)
{
    size_t g = 0;                /* start of the current grapheme */
    while (g < n) {
        /* find the end of the grapheme starting at g */
        utf8proc_int32_t state = 0;
        int32_t prev = -1;
        size_t e = g;
        while (e < n) {
            int32_t cp = char_at(s + e, n - e);
            if (prev >= 0 && utf8proc_grapheme_break_stateful(prev, cp, &state))
                break;
            prev = cp;
            e += char_len(s + e, n - e);
        }
        const char *rep;
        size_t rl;
        if (e - g < 6 && xf_charsmap_first(cm, s + g, e - g, &rep, &rl)) {
            emit(ctx, g, e - g, rep, rl);
        } else {
            for (size_t i = g; i < e;) {
                size_t cl = char_len(s + i, e - i);
                if (xf_charsmap_first(cm, s + i, cl, &rep, &rl))
                    emit(ctx, i, cl, rep, rl);
                else
                    emit(ctx, i, cl, s + i, cl);
                i += cl;
            }
        }
        g = e;
    }
}

struct plain { char *s; size_t n, cap; };

static void plain_emit(void *ctx, size_t off, size_t len, const char *rep, size_t rl)
{
    (void)off, (void)len;
    struct plain *p = ctx;
    if (p->n + rl + 1 > p->cap) {
        while (p->n + rl + 1 > p->cap)
            p->cap = p->cap ? 2 * p->cap : 64;
        p->s = xrealloc(p->s, p->cap);
    }
    memcpy(p->s + p->n, rep, rl);
    p->n += rl;
}

char *xf_charsmap_normalize(const xf_charsmap *cm, const char *s, size_t n, size_t *out_len)
{
    struct plain p = {xmalloc(n + 1), 0, n + 1};
    xf_charsmap_apply(cm, s, n, plain_emit, &p);
    p.s[p.n] = 0;
    if (out_len)
        *out_len = p.n;
    return p.s;
}
