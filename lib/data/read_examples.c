/* read_examples.c — example streams back to readable text (--decode). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "readers.h"
#include "tsv.h"
#include "util.h"

typedef struct { char *p; size_t len, cap; } buf;

static void bput(buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > b->cap) b->cap = xmul(b->cap, 2);
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
static void bstr(buf *b, const char *s) { bput(b, s, strlen(s)); }
static void bflush(xf_zout *z, buf *b)
{
    if (!b->len) bstr(b, "-");
    xf_tsv_putn(z, b->p, b->len);
    b->len = 0;
}

void xf_decode_stream(const xf_tokenizer *tk, const char *path, xf_zout *z, int header)
{
    static const char *const cols[] = {"lang", "id", "task", "text", "tokens", "words", "labels"};
    if (header) xf_tsv_header(z, cols, 7);
    xf_exreader *r = xf_ex_open(path);
    xf_ex_set_vocab_size(r, xf_tok_vocab_size(tk));
    xf_example ex;
    xf_ex_init(&ex);
    buf b = {0};
    int32_t *keep = NULL;
    size_t keepcap = 0;
    while (xf_ex_next(r, &ex)) {
        if (ex.n > keepcap) keep = xrealloc(keep, xmul(keepcap = ex.n, sizeof *keep));
        xf_tsv_put(z, ex.lang);
        xf_tsv_put(z, ex.id);
        xf_tsv_put(z, xf_task_name(ex.task));
        /* drop [CLS] [SEP] [PAD] but keep [UNK] visible */
        xf_tok_special sp = xf_tok_specials(tk);
        size_t k = 0;
        for (size_t i = 0; i < ex.n; i++) {
            int32_t id = ex.ids[i];
            if (id != sp.cls && id != sp.sep && id != sp.pad) keep[k++] = id;
        }
        char *text = xf_tok_decode(tk, keep, k, 0);
        xf_tsv_put(z, text);
        free(text);
        for (size_t i = 0; i < ex.n; i++) {
            if (i) bstr(&b, " ");
            bstr(&b, xf_tok_piece(tk, ex.ids[i]));
        }
        bflush(z, &b);
        for (size_t w = 0; w < ex.nwords; w++) {
            char *wt = xf_tok_decode(tk, ex.ids + ex.wstart[w], (size_t)(ex.wend[w] - ex.wstart[w]), 0);
            if (w) bstr(&b, " ");
            bstr(&b, wt);
            free(wt);
        }
        bflush(z, &b);
        if (ex.task == XF_TASK_DEP) {
            char tmp[32];
            for (size_t w = 0; w < ex.nwords; w++) {
                if (w) bstr(&b, " ");
                if (ex.has_labels) {
                    bstr(&b, xf_label_name(XF_TASK_POS, ex.labels[w]));
                    bstr(&b, "/");
                }
                snprintf(tmp, sizeof tmp, "%d/", (int)ex.heads[w]);
                bstr(&b, tmp);
                bstr(&b, xf_label_name(XF_TASK_DEP, ex.rels[w]));
            }
        } else if (ex.has_labels) {
            for (size_t w = 0; w < ex.nwords; w++) {
                if (w) bstr(&b, " ");
                bstr(&b, xf_label_name(ex.task, ex.labels[w]));
            }
        } else if (ex.task == XF_TASK_NLI)
            bstr(&b, xf_label_name(XF_TASK_NLI, ex.label));
        else if (ex.task == XF_TASK_QA && ex.ans_end > 0) {
            json_t *j = xf_ex_extra_json(&ex, xf_ex_name(r));
            const char *ctx = json_string_value(json_object_get(j, "context"));
            int32_t s = ex.off_start[ex.ans_start], e = ex.off_end[ex.ans_end];
            if (!ctx || s < 0 || e < s || (size_t)e > strlen(ctx))
                die("%s:%ld: answer span %d:%d does not map into the context", xf_ex_name(r),
                    xf_ex_lineno(r), (int)ex.ans_start, (int)ex.ans_end);
            bput(&b, ctx + s, (size_t)(e - s));
            json_decref(j);
        }
        bflush(z, &b);
        xf_tsv_end_row(z);
    }
    free(b.p);
    free(keep);
    xf_ex_free(&ex);
    xf_ex_close(r);
}
