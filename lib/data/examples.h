/* examples.h — example streams: tokenized data, one example per TSV row.
 *
 * Written by xf-tokenize, read by xf-adapt, xf-mlmstep and xf-eval.  The
 * stream is xf TSV (xf-tsv(5), section EXAMPLE STREAMS) with ONE fixed
 * header for every task, so `cat a b`, `shuf` and `cut` work on streams:
 * a reader skips every line equal to the header, wherever it appears.
 * Columns, in order:
 *
 *   lang     ISO 639-3 code of the example's language
 *   id       example id: CoNLL-U sent_id, FILE:LINE, NLI FILE:LINE, QA
 *            question id; a sentence split into several examples (longer
 *            than --seq) gives ID, ID#2, ID#3, ...
 *   task     mlm | pos | dep | ner | nli | qa
 *   ids      token ids, space-separated, special tokens included
 *   types    token type ids, space-separated, or "-" when all 0
 *   words    per word "start:end", its subword positions in ids (end
 *            exclusive, each word >= 1 subword), or "-"
 *   labels   pos, ner: per-word label names (labels.h); dep: per-word UPOS
 *            or "-"; nli: the label name; qa: "start:end" answer token
 *            span, end INCLUSIVE as HF start/end_positions, "0:0" = CLS
 *            (no answer in this window); mlm: "-"
 *   heads    dep: per-word head, 1-based word index, 0 = root, -1 = the
 *            head lies in another piece of a split sentence; else "-"
 *   rels     dep: per-word relation names, subtype stripped; else "-"
 *   offsets  qa: per token "s:e" byte offsets into the context, "-1:-1"
 *            for question and special tokens; else "-"
 *   extra    qa: compact JSON {"qid":..,"context":..,"answers":[texts]};
 *            else "-"
 *
 * Readers die "FILE:LINE: what is wrong" on a malformed row: wrong column
 * count, bad integers, counts that disagree (types vs ids, labels vs
 * words), word spans out of range, ids out of [0, vocab) once the vocab
 * size is known (xf_ex_set_vocab_size), labels unknown for the task.
 */
#ifndef XF_EXAMPLES_H
#define XF_EXAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include "labels.h"
#include "zio.h"

#define XF_EX_NCOLS 11
/* "lang" "id" "task" "ids" "types" "words" "labels" "heads" "rels" "offsets" "extra" */
extern const char *const xf_ex_columns[XF_EX_NCOLS];

typedef struct xf_example {
    char *lang;                 /* ISO 639-3 */
    char *id;
    xf_task task;
    size_t n;                   /* tokens */
    int32_t *ids;               /* [n] */
    int32_t *types;             /* [n]; all 0 when has_types is 0 */
    int has_types;              /* some type id is non-zero */
    size_t nwords;              /* 0 when the row's words column is "-" */
    int32_t *wstart, *wend;     /* [nwords]: word w is ids[wstart[w] .. wend[w]) */
    int32_t *labels;            /* [nwords] label ids (pos/ner: own vocab; dep: UPOS) */
    int has_labels;             /* labels[] filled (pos, ner always; dep optional) */
    int32_t *heads;             /* dep [nwords]: 0 root, 1..nwords, -1 elsewhere */
    int32_t *rels;              /* dep [nwords]: relation ids */
    int32_t label;              /* nli: label id; else -1 */
    int32_t ans_start, ans_end; /* qa: inclusive token span; 0,0 = CLS */
    int32_t *off_start, *off_end; /* qa [n]: byte offsets in the context, -1 outside */
    char *extra;                /* qa: the JSON text; else NULL */
    /* allocation sizes, owned by the xf_ex_* functions */
    size_t cap_tok, cap_word, cap_lang, cap_id, cap_extra;
} xf_example;

/* An all-zero xf_example is a valid empty one ({0} or xf_ex_init). */
void xf_ex_init(xf_example *ex);
/* Frees the arrays; EX is empty (reusable) afterwards. */
void xf_ex_free(xf_example *ex);
/* Empties EX for reuse, keeping its buffers. */
void xf_ex_clear(xf_example *ex);
/* Deep copy of SRC into DST (DST's old contents freed). */
void xf_ex_copy(xf_example *dst, const xf_example *src);

/* ---- building (producers) ---- */
/* Clears EX and sets its language, id and task. */
void xf_ex_reset(xf_example *ex, const char *lang, const char *id, xf_task task);
void xf_ex_push_token(xf_example *ex, int32_t id, int32_t type);
/* Appends token with byte offsets (qa); offsets -1 for non-context tokens. */
void xf_ex_push_token_off(xf_example *ex, int32_t id, int32_t type, int32_t s, int32_t e);
/* Appends a word [start, end) with its label (or -1), head and relation
 * (dep; -1 otherwise). */
void xf_ex_push_word(xf_example *ex, int32_t start, int32_t end, int32_t label,
                     int32_t head, int32_t rel);
void xf_ex_set_extra(xf_example *ex, const char *json);

/* ---- writing ---- */
/* NULL if LANG is a language the writer accepts (non-empty valid UTF-8
 * without white space or control characters, not "-"), else why not. */
const char *xf_ex_lang_problem(const char *lang);
void xf_ex_write_header(xf_zout *z);
/* One row; dies if EX is inconsistent (it checks what a reader checks). */
void xf_ex_write(xf_zout *z, const xf_example *ex);

/* ---- reading ---- */
typedef struct xf_exreader xf_exreader;
/* Opens PATH ("-" = stdin; zstd transparent).  Header lines are skipped
 * wherever they are (the first line need not be one, after shuf), but a
 * stream must hold one: an input without a header line (or without any
 * line) is an error.  lang must be a word (valid UTF-8, no white space or
 * control character, not "-"); id and extra valid UTF-8. */
xf_exreader *xf_ex_open(const char *path);
/* From now on, ids outside [0, V) are an error. */
void xf_ex_set_vocab_size(xf_exreader *r, size_t v);
/* Reads the next example into EX (reusing its buffers): 1, or 0 at end. */
int xf_ex_next(xf_exreader *r, xf_example *ex);
const char *xf_ex_name(const xf_exreader *r);
long xf_ex_lineno(const xf_exreader *r);
void xf_ex_close(xf_exreader *r);

/* Whole stream into a malloc'd array of *N examples (each owns its
 * memory); VOCAB_SIZE 0 = unchecked.  Free with xf_ex_free_all. */
xf_example *xf_ex_read_all(const char *path, size_t *n);
xf_example *xf_ex_read_all_vocab(const char *path, size_t vocab_size, size_t *n);
void xf_ex_free_all(xf_example *v, size_t n);

/* Parses EX's extra JSON (qa) with jansson; dies naming WHERE on bad JSON.
 * Returns a new reference (json_decref it), or NULL when EX has none. */
struct json_t *xf_ex_extra_json(const xf_example *ex, const char *where);

#endif
