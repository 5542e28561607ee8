/* read_nli.c — NLI TSV (header with premise, hypothesis, label) -> nli
 * examples, pair-encoded with the tokenizer's template:
 *   BERT       [CLS] A [SEP] B [SEP]     token types 0 .. 0 1 .. 1
 *   XLM-R      <s> A </s></s> B </s>     token types all 0 (xf_tok_pair_double_sep)
 * Too long pairs are truncated "longest_first" as HF tokenizers do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers.h"
#include "tsv.h"
#include "util.h"

/* HF tokenizers' TruncationStrategy::LongestFirst: given lengths *NA, *NB
 * and room MAX, keep the shorter whole if the longer can take the rest,
 * else split MAX in halves (the longer sequence gets the odd token). */
void xf_truncate_longest_first(size_t *na, size_t *nb, size_t max)
{
    size_t n1 = *na, n2 = *nb;
    if (n1 + n2 <= max) return;
    int swap = n1 > n2;
    if (swap) { size_t t = n1; n1 = n2; n2 = t; }
    if (n1 > max) n2 = n1;
    else n2 = n1 > max - n1 ? n1 : max - n1;
    if (n1 + n2 > max) {
        n1 = max / 2;
        n2 = n1 + max % 2;
    }
    if (swap) { size_t t = n1; n1 = n2; n2 = t; }
    if (n1 < *na) *na = n1;
    if (n2 < *nb) *nb = n2;
}

/* Appends [CLS] A [SEP] B [SEP] (or the double-</s> form) to e->ex. */
void xf_encode_pair(xf_exwriter *e, const xf_tokens *a, size_t na, const xf_tokens *b, size_t nb)
{
    xf_tok_special sp = xf_tok_specials(e->tk);
    int roberta = xf_tok_pair_double_sep(e->tk);
    int32_t tb = roberta ? 0 : 1;
    xf_ex_push_token(&e->ex, sp.cls, 0);
    for (size_t i = 0; i < na; i++) xf_ex_push_token(&e->ex, a->ids[i], 0);
    xf_ex_push_token(&e->ex, sp.sep, 0);
    if (roberta) xf_ex_push_token(&e->ex, sp.sep, 0);
    for (size_t i = 0; i < nb; i++) xf_ex_push_token(&e->ex, b->ids[i], tb);
    xf_ex_push_token(&e->ex, sp.sep, tb);
}

void xf_read_nli(xf_exwriter *e, const char *path)
{
    if (e->task != XF_TASK_NLI) die("NLI TSV input gives nli examples, not %s", xf_task_name(e->task));
    xf_tsv *t = xf_tsv_open(path);
    const char *name = xf_tsv_name(t);
    int cp = xf_tsv_need_col(t, "premise"), ch = xf_tsv_need_col(t, "hypothesis");
    int cl = xf_tsv_need_col(t, "label");
    size_t nspecial = xf_tok_pair_double_sep(e->tk) ? 4 : 3;
    if (e->seq <= nspecial) die("--seq %zu leaves no room for an NLI pair", e->seq);
    char *id = xmalloc(strlen(name) + 24);
    while (xf_tsv_next(t)) {
        long ln = xf_tsv_lineno(t);
        const char *p = xf_tsv_field(t, cp), *h = xf_tsv_field(t, ch), *l = xf_tsv_field(t, cl);
        size_t plen = xf_tsv_field_len(t, cp), hlen = xf_tsv_field_len(t, ch);
        char lab[32];   /* the label without a CR of a CRLF file */
        snprintf(lab, sizeof lab, "%s", l);
        lab[strcspn(lab, "\r")] = 0;
        xf_check_utf8(p, plen, name, ln);
        xf_check_utf8(h, hlen, name, ln);
        int label = xf_label_id(XF_TASK_NLI, lab);
        if (label < 0)
            die("%s:%ld: unknown NLI label '%.30s' (entailment, neutral, contradiction)", name, ln, l);
        e->st.sources++;
        e->st.bytes += plen + hlen;
        xf_tokens_clear(&e->toks);
        xf_tokens_clear(&e->toks2);
        xf_tok_encode(e->tk, p, plen, &e->toks);
        xf_tok_encode(e->tk, h, hlen, &e->toks2);
        size_t na = e->toks.n, nb = e->toks2.n;
        xf_truncate_longest_first(&na, &nb, e->seq - nspecial);
        if (na + nb < e->toks.n + e->toks2.n) {
            e->st.truncated++;
            e->st.tokens_cut += e->toks.n + e->toks2.n - na - nb;
        }
        sprintf(id, "%s:%ld", name, ln);
        xf_ex_reset(&e->ex, e->lang, id, XF_TASK_NLI);
        xf_encode_pair(e, &e->toks, na, &e->toks2, nb);
        e->ex.label = label;
        e->st.examples++;
        e->sink(e->sink_ctx, &e->ex);
    }
    free(id);
    xf_tsv_close(t);
}
