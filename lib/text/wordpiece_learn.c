/* wordpiece_learn.c — deterministic WordPiece vocabulary learning, the way
 * Hugging Face's WordPiece trainer does it: BPE merges over the words of
 * the BERT pre-tokeniser (same normaliser as encoding), every non-initial
 * symbol carrying the "##" continuation prefix.
 *
 * Vocabulary order: [PAD] [UNK] [CLS] [SEP] [MASK]; the single chars
 * (bytewise = code point order); their "##" forms; then one piece per merge
 * in merge order.  A merge joins the most frequent adjacent pair (counted
 * over word frequencies); ties go to the smaller (left, right) symbol ids,
 * so the result depends only on the input.  Words over 100 chars (always
 * [UNK] when encoding) are not learned from.  When the alphabet alone would
 * exceed VOCAB_SIZE, the most frequent symbols are kept and words using
 * the others are left out.
 */
#define _GNU_SOURCE
#include "tok_internal.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char *const SPECIALS[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
#define N_SPECIALS 5

/* ---- growable arrays ---- */
typedef struct { int32_t *v; size_t n, cap; } ivec;

static void ivec_push(ivec *a, int32_t x)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 4;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n++] = x;
}

/* ---- words ---- */
typedef struct word {
    int32_t *sym;
    uint32_t n;
    int64_t freq;
} word;

typedef struct learn {
    /* word counting */
    tok_map wmap;            /* word string -> index */
    char **wstr;
    size_t *wlen;
    int64_t *wfreq;
    size_t nw, capw;
    /* symbols */
    tok_map smap;            /* symbol string -> id */
    char **sym;
    size_t nsym, capsym;
} learn;

static int32_t sym_id(learn *L, const char *s, size_t len)
{
    int32_t v;
    if (tok_map_get(&L->smap, s, len, &v))
        return v;
    if (L->nsym == L->capsym) {
        L->capsym = L->capsym ? 2 * L->capsym : 1024;
        L->sym = xrealloc(L->sym, L->capsym * sizeof *L->sym);
    }
    char *c = xmalloc(len + 1);
    memcpy(c, s, len);
    c[len] = 0;
    L->sym[L->nsym] = c;
    tok_map_put(&L->smap, c, len, (int32_t)L->nsym);
    return (int32_t)L->nsym++;
}

static void count_word(void *ctx, const tok_nstr *ns, size_t a, size_t b, size_t nchars)
{
    learn *L = ctx;
    if (nchars > 100 || b <= a)
        return;
    int32_t v;
    if (tok_map_get(&L->wmap, ns->s + a, b - a, &v)) {
        L->wfreq[v]++;
        return;
    }
    if (L->nw == L->capw) {
        L->capw = L->capw ? 2 * L->capw : 4096;
        L->wstr = xrealloc(L->wstr, L->capw * sizeof *L->wstr);
        L->wlen = xrealloc(L->wlen, L->capw * sizeof *L->wlen);
        L->wfreq = xrealloc(L->wfreq, L->capw * sizeof *L->wfreq);
    }
    char *c = xmalloc(b - a + 1);
    memcpy(c, ns->s + a, b - a);
    c[b - a] = 0;
    L->wstr[L->nw] = c;
    L->wlen[L->nw] = b - a;
    L->wfreq[L->nw] = 1;
    tok_map_put(&L->wmap, c, b - a, (int32_t)L->nw);
    L->nw++;
}

/* ---- pair table: open addressing on (left, right) ---- */
typedef struct pair {
    int32_t a, b;
    int64_t count;
    ivec words;
} pair;

typedef struct ptab {
    pair *p;
    int32_t *slot;        /* index into p, -1 empty */
    size_t n, cap, nslot;
} ptab;

static uint64_t pkey_hash(int32_t a, int32_t b)
{
    uint64_t k = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

static int32_t pair_find(ptab *t, int32_t a, int32_t b, int create)
{
    if (create && 2 * (t->n + 1) > t->nslot) {
        size_t ns = t->nslot ? 2 * t->nslot : 1 << 16;
        int32_t *s = xmalloc(ns * sizeof *s);
        memset(s, 0xff, ns * sizeof *s);
        for (size_t i = 0; i < t->n; i++) {
            size_t h = pkey_hash(t->p[i].a, t->p[i].b) & (ns - 1);
            while (s[h] >= 0)
                h = (h + 1) & (ns - 1);
            s[h] = (int32_t)i;
        }
        free(t->slot);
        t->slot = s;
        t->nslot = ns;
    }
    if (!t->nslot)
        return -1;
    size_t h = pkey_hash(a, b) & (t->nslot - 1);
    while (t->slot[h] >= 0) {
        pair *p = &t->p[t->slot[h]];
        if (p->a == a && p->b == b)
            return t->slot[h];
        h = (h + 1) & (t->nslot - 1);
    }
    if (!create)
        return -1;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 1 << 15;
        t->p = xrealloc(t->p, t->cap * sizeof *t->p);
    }
    t->p[t->n] = (pair){a, b, 0, {0}};
    t->slot[h] = (int32_t)t->n;
    return (int32_t)t->n++;
}

/* ---- max-heap of (count, pair index); stale entries skipped on pop ---- */
typedef struct hent { int64_t count; int32_t pi; } hent;
typedef struct heap { hent *v; size_t n, cap; } heap;

static int hbetter(const ptab *t, hent x, hent y)
{
    if (x.count != y.count)
        return x.count > y.count;
    const pair *p = &t->p[x.pi], *q = &t->p[y.pi];
    if (p->a != q->a)
        return p->a < q->a;
    return p->b < q->b;
}

static void hpush(heap *h, const ptab *t, int64_t count, int32_t pi)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 1 << 15;
        h->v = xrealloc(h->v, h->cap * sizeof *h->v);
    }
    size_t i = h->n++;
    h->v[i] = (hent){count, pi};
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!hbetter(t, h->v[i], h->v[up]))
            break;
        hent x = h->v[i];
        h->v[i] = h->v[up];
        h->v[up] = x;
        i = up;
    }
}

static hent hpop(heap *h, const ptab *t)
{
    hent top = h->v[0];
    h->v[0] = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && hbetter(t, h->v[l], h->v[m])) m = l;
        if (r < h->n && hbetter(t, h->v[r], h->v[m])) m = r;
        if (m == i)
            break;
        hent x = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = x;
        i = m;
    }
    return top;
}

/* Adds DELTA * freq to every adjacent pair of W (registering W with the
 * pairs when REG). */
static void word_pairs(ptab *t, const word *w, int32_t wi, int64_t sign, int reg)
{
    for (uint32_t k = 0; k + 1 < w->n; k++) {
        int32_t pi = pair_find(t, w->sym[k], w->sym[k + 1], 1);
        t->p[pi].count += sign * w->freq;
        if (reg)
            ivec_push(&t->p[pi].words, wi);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct symc { int32_t id; int64_t count; } symc;

static int cmp_symc(const void *a, const void *b)
{
    const symc *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

char **xf_wordpiece_learn(const char *const *lines, size_t n, size_t vocab_size,
                          int lowercase, size_t *out_n)
{
    learn L = {0};
    tok_map_init(&L.wmap, 1 << 16);
    tok_map_init(&L.smap, 1 << 12);
    xf_tokenizer norm = {0};
    norm.lowercase = lowercase;
    tok_nstr ns = {0};
    for (size_t i = 0; i < n; i++) {
        tok_wordpiece_normalize(&norm, lines[i], strlen(lines[i]), 0, &ns);
        tok_bert_split(&ns, count_word, &L);
    }
    nstr_free(&ns);

    /* words as symbol sequences: first char plain, the rest "##" */
    word *w = xcalloc(L.nw ? L.nw : 1, sizeof *w);
    char buf[8] = "##";
    for (size_t i = 0; i < L.nw; i++) {
        const char *s = L.wstr[i];
        size_t len = L.wlen[i], k = 0, cnt = 0;
        w[i].sym = xmalloc(len * sizeof *w[i].sym);
        w[i].freq = L.wfreq[i];
        while (k < len) {
            size_t adv;
            tok_utf8_next(s + k, len - k, &adv);
            if (cnt == 0) {
                w[i].sym[cnt++] = sym_id(&L, s + k, adv);
            } else {
                memcpy(buf + 2, s + k, adv);
                w[i].sym[cnt++] = sym_id(&L, buf, adv + 2);
            }
            k += adv;
        }
        w[i].n = (uint32_t)cnt;
    }

    /* the alphabet, trimmed to the most frequent symbols if too big */
    size_t nalpha = L.nsym;
    size_t room = vocab_size > N_SPECIALS ? vocab_size - N_SPECIALS : 0;
    uint8_t *keep = xmalloc(nalpha ? nalpha : 1);
    memset(keep, 1, nalpha);
    if (nalpha > room) {
        symc *sc = xcalloc(nalpha, sizeof *sc);
        for (size_t s = 0; s < nalpha; s++)
            sc[s].id = (int32_t)s;
        for (size_t i = 0; i < L.nw; i++)
            for (uint32_t k = 0; k < w[i].n; k++)
                sc[w[i].sym[k]].count += w[i].freq;
        qsort(sc, nalpha, sizeof *sc, cmp_symc);
        memset(keep, 0, nalpha);
        for (size_t s = 0; s < room; s++)
            keep[sc[s].id] = 1;
        free(sc);
        for (size_t i = 0; i < L.nw; i++)
            for (uint32_t k = 0; k < w[i].n; k++)
                if (!keep[w[i].sym[k]]) {
                    w[i].n = 0;   /* would be [UNK]: not learned from */
                    break;
                }
    }
    size_t cap = N_SPECIALS + nalpha + (vocab_size > nalpha ? vocab_size - nalpha : 0) + 1;
    char **out = xmalloc(cap * sizeof *out);
    size_t nout = 0;
    for (size_t i = 0; i < N_SPECIALS && nout < vocab_size; i++)
        out[nout++] = xstrdup(SPECIALS[i]);
    {
        char **plain = xmalloc((nalpha + 1) * sizeof *plain);
        char **cont = xmalloc((nalpha + 1) * sizeof *cont);
        size_t np = 0, nc = 0;
        for (size_t s = 0; s < nalpha; s++) {
            if (!keep[s])
                continue;
            if (strncmp(L.sym[s], "##", 2) == 0 && L.sym[s][2])
                cont[nc++] = L.sym[s];
            else
                plain[np++] = L.sym[s];
        }
        qsort(plain, np, sizeof *plain, cmp_str);
        qsort(cont, nc, sizeof *cont, cmp_str);
        for (size_t i = 0; i < np && nout < vocab_size; i++)
            out[nout++] = xstrdup(plain[i]);
        for (size_t i = 0; i < nc && nout < vocab_size; i++)
            out[nout++] = xstrdup(cont[i]);
        free(plain);
        free(cont);
    }
    /* "[UNK]" etc. might also be learned words' strings: never twice */
    tok_map seen;
    tok_map_init(&seen, vocab_size + 16);
    for (size_t i = 0; i < nout; i++)
        tok_map_put(&seen, out[i], strlen(out[i]), (int32_t)i);

    /* pair counts, then merges */
    ptab t = {0};
    for (size_t i = 0; i < L.nw; i++)
        word_pairs(&t, &w[i], (int32_t)i, 1, 1);
    heap h = {0};
    for (size_t i = 0; i < t.n; i++)
        if (t.p[i].count > 0)
            hpush(&h, &t, t.p[i].count, (int32_t)i);
    uint32_t *stamp = xcalloc(L.nw ? L.nw : 1, sizeof *stamp);
    uint32_t merge_no = 0;
    while (nout < vocab_size && h.n) {
        hent top = hpop(&h, &t);
        pair *p = &t.p[top.pi];
        if (top.count != p->count) {
            if (p->count > 0)
                hpush(&h, &t, p->count, top.pi);
            continue;
        }
        if (p->count <= 0)
            continue;
        int32_t a = p->a, b = p->b;
        const char *sa = L.sym[a], *sb = L.sym[b];
        size_t la = strlen(sa), lb = strlen(sb);
        if (strncmp(sb, "##", 2) == 0)
            sb += 2, lb -= 2;
        char *m = xmalloc(la + lb + 1);
        memcpy(m, sa, la);
        memcpy(m + la, sb, lb);
        m[la + lb] = 0;
        int32_t c = sym_id(&L, m, la + lb);
        if (!tok_map_get(&seen, m, la + lb, &(int32_t){0})) {
            out[nout] = m;
            tok_map_put(&seen, out[nout], la + lb, (int32_t)nout);
            nout++;
        } else {
            free(m);
        }
        /* rewrite every word holding (a, b) */
        merge_no++;
        size_t nwords = t.p[top.pi].words.n;
        for (size_t k = 0; k < nwords; k++) {
            int32_t wi = t.p[top.pi].words.v[k];
            if (stamp[wi] == merge_no)
                continue;
            stamp[wi] = merge_no;
            word *x = &w[wi];
            int has = 0;
            for (uint32_t j = 0; j + 1 < x->n; j++)
                if (x->sym[j] == a && x->sym[j + 1] == b)
                    has = 1;
            if (!has)
                continue;
            word_pairs(&t, x, wi, -1, 0);
            uint32_t o = 0;
            for (uint32_t j = 0; j < x->n; j++) {
                if (j + 1 < x->n && x->sym[j] == a && x->sym[j + 1] == b) {
                    x->sym[o++] = c;
                    j++;
                } else {
                    x->sym[o++] = x->sym[j];
                }
            }
            x->n = o;
            /* re-add; pairs with the new symbol get this word and a heap entry */
            for (uint32_t j = 0; j + 1 < x->n; j++) {
                int32_t pi = pair_find(&t, x->sym[j], x->sym[j + 1], 1);
                t.p[pi].count += x->freq;
                if (x->sym[j] == c || x->sym[j + 1] == c) {
                    ivec_push(&t.p[pi].words, wi);
                    hpush(&h, &t, t.p[pi].count, pi);
                }
            }
        }
        t.p[top.pi].count = 0;
    }

    for (size_t i = 0; i < t.n; i++)
        free(t.p[i].words.v);
    free(t.p);
    free(t.slot);
    free(h.v);
    free(stamp);
    free(keep);
    tok_map_free(&seen);
    for (size_t i = 0; i < L.nw; i++) {
        free(w[i].sym);
        free(L.wstr[i]);
    }
    free(w);
    free(L.wstr);
    free(L.wlen);
    free(L.wfreq);
    for (size_t s = 0; s < L.nsym; s++)
        free(L.sym[s]);
    free(L.sym);
    tok_map_free(&L.wmap);
    tok_map_free(&L.smap);
    *out_n = nout;
    return out;
}
