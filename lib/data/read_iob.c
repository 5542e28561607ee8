/* read_iob.c — WikiANN IOB2 (`token<TAB>tag`, blank line between
 * sentences) -> ner examples.  The example id is FILE:LINE of the
 * sentence's first token; the tag goes on the word's first subword. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers.h"
#include "util.h"

typedef struct iob_sent {
    char **w;
    size_t *wlen;
    int32_t *tag;
    size_t n, cap;
    long line;
} iob_sent;

static void flush(xf_exwriter *e, iob_sent *s, const char *name, char **id)
{
    if (s->n) {
        *id = xrealloc(*id, strlen(name) + 24);
        sprintf(*id, "%s:%ld", name, s->line);
        xf_encode_tagged(e, *id, s->n, (const char *const *)s->w, s->wlen, s->tag, NULL, NULL);
    }
    for (size_t i = 0; i < s->n; i++) free(s->w[i]);
    s->n = 0;
    s->line = 0;
}

void xf_read_iob(xf_exwriter *e, const char *path)
{
    if (e->task != XF_TASK_NER) die("IOB input gives ner examples, not %s", xf_task_name(e->task));
    xf_in *in = xf_in_open(path);
    const char *name = xf_in_name(in);
    iob_sent s = {0};
    char *line, *id = NULL;
    ssize_t len;
    while ((len = xf_in_getline(in, &line)) >= 0) {
        long ln = xf_in_lineno(in);
        if (len && line[len - 1] == '\r') line[--len] = 0;
        xf_check_utf8(line, (size_t)len, name, ln);
        if (len == 0) {
            flush(e, &s, name, &id);
            continue;
        }
        char *tab = strchr(line, '\t');
        if (!tab || strchr(tab + 1, '\t'))
            die("%s:%ld: expected token<TAB>tag", name, ln);
        *tab = 0;
        if (tab == line) die("%s:%ld: empty token", name, ln);
        int32_t tag = xf_label_id(XF_TASK_NER, tab + 1);
        if (tag < 0) die("%s:%ld: unknown NER tag '%.20s' (IOB2 with PER, ORG, LOC)", name, ln, tab + 1);
        if (s.n == s.cap) {
            s.cap = s.cap ? xmul(s.cap, 2) : 64;
            s.w = xrealloc(s.w, xmul(s.cap, sizeof *s.w));
            s.wlen = xrealloc(s.wlen, xmul(s.cap, sizeof *s.wlen));
            s.tag = xrealloc(s.tag, xmul(s.cap, sizeof *s.tag));
        }
        if (!s.line) s.line = ln;
        s.w[s.n] = xstrdup(line);
        s.wlen[s.n] = (size_t)(tab - line);
        s.tag[s.n++] = tag;
    }
    flush(e, &s, name, &id);
    free(s.w); free(s.wlen); free(s.tag); free(id);
    xf_in_close(in);
}
