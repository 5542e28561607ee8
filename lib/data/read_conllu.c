/* read_conllu.c — CoNLL-U -> pos / dep examples, and its `# text =` lines
 * -> mlm.  Comments, multiword-token ranges (1-2) and empty nodes (1.1)
 * are skipped; each syntactic word keeps FORM, UPOS, HEAD and DEPREL
 * (subtype stripped; a relation outside the 37 becomes "dep"). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers.h"
#include "util.h"

typedef struct sentence {
    char **form;
    size_t *flen;
    int32_t *upos, *head, *rel;
    long *wline;       /* each word's line, for messages */
    size_t n, cap;
    char *id;          /* sent_id, or NULL */
    long line;         /* first line of the sentence */
    int head_missing;  /* some HEAD was "_" */
    long head_line;
} sentence;

static void sent_clear(sentence *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->form[i]);
    s->n = 0;
    free(s->id);
    s->id = NULL;
    s->line = 0;
    s->head_missing = 0;
}

static void sent_free(sentence *s)
{
    sent_clear(s);
    free(s->form); free(s->flen); free(s->upos); free(s->head); free(s->rel); free(s->wline);
}

static void sent_push(sentence *s, const char *form, int32_t upos, int32_t head, int32_t rel,
                      long line)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? xmul(s->cap, 2) : 64;
        s->form = xrealloc(s->form, xmul(s->cap, sizeof *s->form));
        s->flen = xrealloc(s->flen, xmul(s->cap, sizeof *s->flen));
        s->upos = xrealloc(s->upos, xmul(s->cap, sizeof *s->upos));
        s->head = xrealloc(s->head, xmul(s->cap, sizeof *s->head));
        s->rel = xrealloc(s->rel, xmul(s->cap, sizeof *s->rel));
        s->wline = xrealloc(s->wline, xmul(s->cap, sizeof *s->wline));
    }
    s->wline[s->n] = line;
    s->form[s->n] = xstrdup(form);
    s->flen[s->n] = strlen(form);
    s->upos[s->n] = upos;
    s->head[s->n] = head;
    s->rel[s->n] = rel;
    s->n++;
}

static void sent_emit(xf_exwriter *e, sentence *s, const char *path)
{
    if (s->n == 0) {
        sent_clear(s);
        return;
    }
    int dep = e->task == XF_TASK_DEP;
    if (dep && s->head_missing) die("%s:%ld: HEAD is '_' (no dependency annotation)", path, s->head_line);
    if (dep)
        for (size_t i = 0; i < s->n; i++)
            if (s->head[i] > (int32_t)s->n)
                die("%s:%ld: word %zu: HEAD %d beyond the sentence's %zu words", path, s->wline[i],
                    i + 1, (int)s->head[i], s->n);
    char *fallback = NULL;
    const char *id = s->id;
    if (!id) {
        fallback = xmalloc(strlen(path) + 24);
        sprintf(fallback, "%s:%ld", path, s->line);
        id = fallback;
    }
    xf_encode_tagged(e, id, s->n, (const char *const *)s->form, s->flen, s->upos,
                     dep ? s->head : NULL, dep ? s->rel : NULL);
    free(fallback);
    sent_clear(s);
}

/* Splits LINE at TABs into at most MAX fields; returns the count. */
static int split_tabs(char *line, char **f, int max)
{
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p; p++)
        if (*p == '\t') {
            *p = 0;
            if (n == max) return max + 1;
            f[n++] = p + 1;
        }
    return n;
}

/* A decimal integer in [0, INT32_MAX] (no sign, no overflow, nothing after). */
static int parse_int(const char *s, long *v)
{
    char *end;
    if (*s < '0' || *s > '9') return 0;
    errno = 0;
    *v = strtol(s, &end, 10);
    return *end == 0 && errno == 0 && *v <= INT32_MAX;
}

void xf_read_conllu(xf_exwriter *e, const char *path)
{
    if (e->task != XF_TASK_POS && e->task != XF_TASK_DEP)
        die("CoNLL-U input gives pos or dep examples, not %s", xf_task_name(e->task));
    xf_in *in = xf_in_open(path);
    const char *name = xf_in_name(in);
    sentence s = {0};
    char *line;
    ssize_t len;
    while ((len = xf_in_getline(in, &line)) >= 0) {
        long ln = xf_in_lineno(in);
        if (len && line[len - 1] == '\r') line[--len] = 0;
        xf_check_utf8(line, (size_t)len, name, ln);
        if (len == 0) {
            sent_emit(e, &s, name);
            continue;
        }
        if (!s.line) s.line = ln;
        if (line[0] == '#') {
            if (!strncmp(line, "# sent_id =", 11)) {
                /* blanks around the value are not part of it; an empty
                 * value is no sent_id (the FILE:LINE id, as without one) */
                char *v = line + 11;
                while (*v == ' ' || *v == '\t') v++;
                size_t n = strlen(v);
                while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
                v[n] = 0;
                free(s.id);
                s.id = n ? xstrdup(v) : NULL;
            }
            continue;
        }
        char *f[10];
        int nf = split_tabs(line, f, 10);
        if (nf != 10) die("%s:%ld: expected 10 tab-separated fields, found %d", name, ln, nf);
        if (strchr(f[0], '-') || strchr(f[0], '.')) continue;   /* multiword range / empty node */
        long wid, head = 0;
        if (!parse_int(f[0], &wid)) die("%s:%ld: bad word ID '%.20s'", name, ln, f[0]);
        if (wid != (long)s.n + 1) die("%s:%ld: word ID %ld, expected %zu", name, ln, wid, s.n + 1);
        int32_t upos = xf_label_id(XF_TASK_POS, f[3]);
        if (upos < 0) die("%s:%ld: unknown UPOS '%.20s'", name, ln, f[3]);
        if (!strcmp(f[6], "_")) {
            if (!s.head_missing) s.head_line = ln;
            s.head_missing = 1;
        } else if (!parse_int(f[6], &head))
            die("%s:%ld: bad HEAD '%.20s' (not an integer in [0, %d])", name, ln, f[6], INT32_MAX);
        if (!f[1][0]) die("%s:%ld: empty FORM", name, ln);
        sent_push(&s, f[1], upos, (int32_t)head, xf_deprel_id(f[7]), ln);
    }
    sent_emit(e, &s, name);
    sent_free(&s);
    xf_in_close(in);
}

void xf_read_conllu_text(xf_exwriter *e, const char *path)
{
    xf_in *in = xf_in_open(path);
    const char *name = xf_in_name(in);
    char *line, *id = xmalloc(strlen(name) + 24);
    ssize_t len;
    while ((len = xf_in_getline(in, &line)) >= 0) {
        if (len && line[len - 1] == '\r') line[--len] = 0;
        if (strncmp(line, "# text =", 8)) continue;
        xf_check_utf8(line, (size_t)len, name, xf_in_lineno(in));
        const char *t = line + 8;
        while (*t == ' ') t++;
        sprintf(id, "%s:%ld", name, xf_in_lineno(in));
        xf_mlm_add_line(e, t, strlen(t), id);
    }
    free(id);
    xf_in_close(in);
}
