/* mlm_text.c — raw text -> mlm examples.
 *
 * Default: HF run_mlm_no_trainer's group_texts.  Every line is tokenized
 * and wrapped as [CLS] line [SEP]; the lines of one batch (datasets.map's
 * default batch of 1000 lines, e->group_lines) are concatenated and cut
 * into blocks of exactly --seq tokens; the batch's remainder is dropped
 * (counted in tail_tokens).  A block's id is the id of the line its first
 * token comes from, with "+K" when it starts K tokens into that line.
 *
 * --line-by-line: one example per non-blank line, [CLS] line [SEP],
 * truncated to --seq (as tokenizer(truncation=True, max_length=seq)).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers.h"
#include "util.h"

typedef struct mlm_batch {
    int32_t *ids;
    size_t n, cap;
    size_t lines;
    /* per line of the batch: first token position and id */
    size_t *lstart;
    char **lid;
    size_t nl, capl;
} mlm_batch;

static mlm_batch *batch(xf_exwriter *e)
{
    if (!e->mlm) e->mlm = xcalloc(1, sizeof(mlm_batch));
    return e->mlm;
}

static void emit_blocks(xf_exwriter *e)
{
    mlm_batch *b = e->mlm;
    if (!b) return;
    size_t seq = e->seq, nblocks = b->n / seq, line = 0;
    char *id = NULL;
    size_t idcap = 0;
    for (size_t k = 0; k < nblocks; k++) {
        size_t pos = k * seq;
        while (line + 1 < b->nl && b->lstart[line + 1] <= pos) line++;
        size_t need = strlen(b->lid[line]) + 24;
        if (need > idcap) id = xrealloc(id, idcap = need);
        if (pos == b->lstart[line]) strcpy(id, b->lid[line]);
        else sprintf(id, "%s+%zu", b->lid[line], pos - b->lstart[line]);
        xf_ex_reset(&e->ex, e->lang, id, XF_TASK_MLM);
        for (size_t i = 0; i < seq; i++) xf_ex_push_token(&e->ex, b->ids[pos + i], 0);
        e->st.examples++;
        e->sink(e->sink_ctx, &e->ex);
    }
    e->st.tail_tokens += b->n - nblocks * seq;
    free(id);
    for (size_t i = 0; i < b->nl; i++) free(b->lid[i]);
    b->n = b->nl = b->lines = 0;
}

void xf_mlm_flush(xf_exwriter *e)
{
    mlm_batch *b = e->mlm;
    if (!b) return;
    emit_blocks(e);
    free(b->ids);
    free(b->lstart);
    free(b->lid);
    free(b);
    e->mlm = NULL;
}

void xf_mlm_add_line(xf_exwriter *e, const char *text, size_t len, const char *id)
{
    xf_tok_special sp = xf_tok_specials(e->tk);
    size_t k = 0;
    while (k < len && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r')) k++;
    if (k == len) {  /* HF's line-by-line drops blank lines; so do we for grouping */
        e->st.skipped++;
        return;
    }
    e->st.sources++;
    e->st.bytes += len;
    xf_tokens *t = &e->toks;
    xf_tokens_clear(t);
    xf_tok_encode(e->tk, text, len, t);

    if (e->line_by_line) {
        size_t keep = t->n;
        if (keep > e->seq - 2) {
            e->st.truncated++;
            e->st.tokens_cut += keep - (e->seq - 2);
            keep = e->seq - 2;
        }
        xf_ex_reset(&e->ex, e->lang, id, XF_TASK_MLM);
        xf_ex_push_token(&e->ex, sp.cls, 0);
        for (size_t i = 0; i < keep; i++) xf_ex_push_token(&e->ex, t->ids[i], 0);
        xf_ex_push_token(&e->ex, sp.sep, 0);
        e->st.examples++;
        e->sink(e->sink_ctx, &e->ex);
        return;
    }

    mlm_batch *b = batch(e);
    size_t need = b->n + t->n + 2;
    if (need > b->cap) {
        b->cap = b->cap ? b->cap : 4096;
        while (b->cap < need) b->cap = xmul(b->cap, 2);
        b->ids = xrealloc(b->ids, xmul(b->cap, sizeof *b->ids));
    }
    if (b->nl == b->capl) {
        b->capl = b->capl ? xmul(b->capl, 2) : 256;
        b->lstart = xrealloc(b->lstart, xmul(b->capl, sizeof *b->lstart));
        b->lid = xrealloc(b->lid, xmul(b->capl, sizeof *b->lid));
    }
    b->lstart[b->nl] = b->n;
    b->lid[b->nl++] = xstrdup(id);
    b->ids[b->n++] = sp.cls;
    if (t->n) memcpy(b->ids + b->n, t->ids, t->n * sizeof *b->ids);   /* ids may be NULL when empty */
    b->n += t->n;
    b->ids[b->n++] = sp.sep;
    if (++b->lines == e->group_lines) emit_blocks(e);
}

void xf_read_text(xf_exwriter *e, const char *path)
{
    xf_in *in = xf_in_open(path);
    char *line, *id = xmalloc(strlen(xf_in_name(in)) + 24);
    ssize_t len;
    while ((len = xf_in_getline(in, &line)) >= 0) {
        if (len && line[len - 1] == '\r') line[--len] = 0;
        xf_check_utf8(line, (size_t)len, xf_in_name(in), xf_in_lineno(in));
        sprintf(id, "%s:%ld", xf_in_name(in), xf_in_lineno(in));
        xf_mlm_add_line(e, line, (size_t)len, id);
    }
    free(id);
    xf_in_close(in);
}
