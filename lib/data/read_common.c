/* read_common.c — helpers below every reader (see readers.h): default
 * sizes, UTF-8 checks, language guessing and the encoding of a word-tagged
 * sentence (pos, dep, ner) with splitting at word boundaries.  It calls no
 * reader (exwriter.c, above the readers, owns the writer's life cycle). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers.h"
#include "util.h"

size_t xf_task_default_seq(xf_task task)
{
    switch (task) {
    case XF_TASK_MLM: return 512;
    case XF_TASK_NLI: return 128;
    case XF_TASK_QA: return 384;
    default: return 256;
    }
}

void xf_check_utf8(const char *s, size_t len, const char *file, long line)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) { p++; continue; }
        size_t n;
        unsigned cp, min;
        if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; min = 0x10000; }
        else goto bad;
        if ((size_t)(end - p) <= n) goto bad;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80) goto bad;
            cp = cp << 6 | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto bad;
        p += n + 1;
    }
    return;
bad:
    die("%s:%ld: invalid UTF-8", file, line);
}

static int iso_like(const char *s, size_t n)
{
    if (n < 2 || n > 3) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z') return 0;
    return 1;
}

int xf_guess_lang(const char *path, char *out)
{
    /* Split into components; look at (dir, next) pairs from the end. */
    const char *comp[64];
    size_t clen[64], nc = 0;
    const char *p = path;
    while (*p && nc < 64) {
        while (*p == '/') p++;
        if (!*p) break;
        const char *s = p;
        while (*p && *p != '/') p++;
        comp[nc] = s;
        clen[nc++] = (size_t)(p - s);
    }
    for (size_t i = nc; i-- > 0;) {
        const char *c = comp[i];
        size_t n = clen[i];
        const char *next = i + 1 < nc ? comp[i + 1] : NULL;
        size_t nn = next ? clen[i + 1] : 0;
        size_t k;
#define IS(name) (n == strlen(name) && !memcmp(c, name, n))
        if (IS("ud") && next) {
            k = 0;
            while (k < nn && next[k] != '_') k++;
            if (k < nn && iso_like(next, k)) goto found;
        } else if (IS("ner") && next) {
            k = nn;
            if (iso_like(next, k) && i + 2 < nc) goto found;
        } else if ((IS("text") || IS("nli") || IS("qa")) && i + 1 < nc) {
            size_t j = IS("text") ? i + 1 : i + 2;
            if (j != nc - 1) continue;
            next = comp[j];
            nn = clen[j];
            k = 0;
            while (k < nn && next[k] != '.') k++;
            if (k < nn && iso_like(next, k)) goto found;
        }
#undef IS
        continue;
    found:
        memcpy(out, next, k);
        out[k] = 0;
        return 1;
    }
    return 0;
}

static void emit(xf_exwriter *e)
{
    e->st.examples++;
    e->sink(e->sink_ctx, &e->ex);
}

void xf_encode_tagged(xf_exwriter *e, const char *id, size_t nw, const char *const *w,
                      const size_t *wlen, const int32_t *labels, const int32_t *heads,
                      const int32_t *rels)
{
    xf_tok_special sp = xf_tok_specials(e->tk);
    size_t budget = e->seq - 2;
    xf_tokens *t = &e->toks;
    xf_tokens_clear(t);
    size_t *wb = xmalloc(xmul(nw + 1, sizeof *wb));
    e->st.sources++;
    e->st.words += nw;
    for (size_t i = 0; i < nw; i++) {
        wb[i] = t->n;
        e->st.bytes += wlen[i];
        if (xf_tok_encode_word(e->tk, w[i], wlen[i], t) == 0) {
            /* HF would drop such a word (zero-width chars, a lone accent
             * under uncased); a word needs a subword to carry its label. */
            xf_tokens_push(t, sp.unk, 0, (int32_t)wlen[i]);
            e->st.empty_words++;
        }
        size_t cnt = t->n - wb[i];
        if (cnt > budget) {
            e->st.truncated++;
            e->st.tokens_cut += cnt - budget;
        }
    }
    wb[nw] = t->n;

    char *pid = xmalloc(strlen(id) + 24);
    size_t i = 0, piece = 0;
    while (i < nw) {
        size_t a = i, used = 0;
        while (i < nw) {
            size_t cnt = wb[i + 1] - wb[i];
            if (cnt > budget) cnt = budget;
            if (used + cnt > budget) break;
            used += cnt;
            i++;
        }
        piece++;
        if (piece == 1) strcpy(pid, id);
        else sprintf(pid, "%s#%zu", id, piece);
        xf_ex_reset(&e->ex, e->lang, pid, e->task);
        xf_ex_push_token(&e->ex, sp.cls, 0);
        for (size_t j = a; j < i; j++) {
            size_t cnt = wb[j + 1] - wb[j];
            if (cnt > budget) cnt = budget;
            int32_t start = (int32_t)e->ex.n;
            for (size_t k = 0; k < cnt; k++) xf_ex_push_token(&e->ex, t->ids[wb[j] + k], 0);
            int32_t head = -1, rel = -1;
            if (heads) {
                int32_t h = heads[j];
                head = h == 0 ? 0 : (h > (int32_t)a && h <= (int32_t)i) ? h - (int32_t)a : -1;
                rel = rels[j];
            }
            xf_ex_push_word(&e->ex, start, (int32_t)e->ex.n, labels ? labels[j] : -1, head, rel);
        }
        xf_ex_push_token(&e->ex, sp.sep, 0);
        emit(e);
    }
    if (piece > 1) e->st.split++;
    free(pid);
    free(wb);
}

void xf_collect_lines(const char *path, int from_conllu, char ***lines, size_t *n, size_t *cap)
{
    xf_in *in = xf_in_open(path);
    char *line;
    ssize_t len;
    while ((len = xf_in_getline(in, &line)) >= 0) {
        if (len && line[len - 1] == '\r') line[--len] = 0;
        xf_check_utf8(line, (size_t)len, xf_in_name(in), xf_in_lineno(in));
        const char *s = line;
        if (from_conllu) {
            if (strncmp(line, "# text =", 8)) continue;
            s = line + 8;
            while (*s == ' ') s++;
        }
        const char *q = s;
        while (*q == ' ' || *q == '\t') q++;
        if (!*q) continue;
        if (*n == *cap) {
            *cap = *cap ? xmul(*cap, 2) : 1024;
            *lines = xrealloc(*lines, xmul(*cap, sizeof **lines));
        }
        (*lines)[(*n)++] = xstrdup(s);
    }
    xf_in_close(in);
}
