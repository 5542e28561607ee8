/* exwriter.c — the example writer's life cycle (readers.h): set-up,
 * finishing (which flushes the MLM grouping of mlm_text.c) and the summary.
 * It sits above the readers and read_common.c, so that read_common.c, which
 * mlm_text.c calls, never calls back into mlm_text.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers.h"
#include "util.h"

void xf_exwriter_init(xf_exwriter *e, const xf_tokenizer *tk, const char *lang, xf_task task,
                     size_t seq, xf_ex_sink sink, void *sink_ctx)
{
    memset(e, 0, sizeof *e);
    e->tk = tk;
    e->lang = lang;
    e->task = task;
    e->seq = seq ? seq : xf_task_default_seq(task);
    e->stride = 128;
    e->group_lines = 1000;
    e->sink = sink;
    e->sink_ctx = sink_ctx;
    xf_ex_init(&e->ex);
    /* [CLS] x [SEP] needs room for one token; a QA window room for a
     * question token and a context token besides the specials. */
    if (e->seq < 3) die("--seq %zu is too small (at least 3)", e->seq);
    /* NULL: the caller sets e->lang per file (guessed from the path) */
    const char *bad = lang ? xf_ex_lang_problem(lang) : NULL;
    if (bad) die("language '%.40s': %s", lang, bad);
    xf_tok_special sp = xf_tok_specials(tk);
    if (sp.cls < 0 || sp.sep < 0 || sp.unk < 0)
        die("%s: the tokenizer lacks a CLS, SEP or UNK token (BERT [CLS] [SEP] [UNK], XLM-R <s> </s> <unk>)",
            xf_tok_source(tk) ? xf_tok_source(tk) : "tokenizer");
}

void xf_exwriter_finish(xf_exwriter *e)
{
    xf_mlm_flush(e);
    xf_ex_free(&e->ex);
    xf_tokens_free(&e->toks);
    xf_tokens_free(&e->toks2);
}

void xf_exwriter_report(const xf_exwriter *e, const char *what)
{
    const xf_enc_stats *s = &e->st;
    int cut = s->split || s->truncated || s->empty_words || s->tail_tokens || s->tokens_cut;
    if (xf_verbosity < 1 || (!cut && xf_verbosity < 2)) return;
    char buf[512];
    int k = snprintf(buf, sizeof buf, "%s: %zu %s -> %zu examples", what, s->sources,
                     e->task == XF_TASK_MLM ? "lines"
                     : e->task == XF_TASK_NLI ? "pairs"
                     : e->task == XF_TASK_QA ? "questions" : "sentences",
                     s->examples);
#define ADD(cond, ...) if (cond && k < (int)sizeof buf) k += snprintf(buf + k, sizeof buf - k, __VA_ARGS__)
    ADD(s->split, "; %zu sentences split at word boundaries", s->split);
    ADD(s->truncated, "; %zu truncated (%zu tokens cut)", s->truncated, s->tokens_cut);
    ADD(s->empty_words, "; %zu words without subwords encoded as unk", s->empty_words);
    ADD(s->tail_tokens, "; %zu tokens of block remainders dropped", s->tail_tokens);
    ADD(s->no_answer, "; %zu windows without the answer", s->no_answer);
    ADD(s->skipped, "; %zu empty skipped", s->skipped);
#undef ADD
    fprintf(stderr, "%s: %s\n", xf_progname, buf);
}
