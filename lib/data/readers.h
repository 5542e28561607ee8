/* readers.h — source formats -> example streams (examples.h).
 *
 * Each reader parses one input file, tokenizes it with an xf_tokenizer and
 * hands every finished example to the encoder's sink (xf-tokenize writes
 * them with xf_ex_write; tests collect them).  The counters in xf_exwriter
 * say what was cut, so nothing is lost silently.
 *
 *   read_conllu.c  CoNLL-U -> pos / dep; `# text =` lines -> mlm
 *   read_iob.c     WikiANN IOB2 (token TAB tag, blank line between sentences) -> ner
 *   read_nli.c     TSV premise/hypothesis/label -> nli (pair encoding)
 *   read_squad.c   SQuAD 1.1 JSON -> qa (HF run_qa windows)
 *   mlm_text.c     raw text -> mlm (HF run_mlm_no_trainer group_texts, or line by line)
 *   exwriter.c     the encoder's life cycle (init, finish: flushes mlm_text.c)
 *   read_common.c  helpers below the readers: UTF-8 checks, language
 *                  guessing, word-tagged sentence encoding
 *   read_examples.c  example stream -> readable TSV (xf-tokenize --decode)
 *
 * Long inputs: a tagged sentence (pos/dep/ner) that does not fit --seq is
 * split at word boundaries into several examples (ids ID, ID#2, ...; dep
 * heads that point into another piece become -1); a word longer than the
 * whole budget keeps only its first subwords.  NLI pairs are truncated
 * longest-first; QA contexts go into overlapping windows; MLM lines are
 * grouped into blocks (tail dropped) or truncated (--line-by-line).
 */
#ifndef XF_READERS_H
#define XF_READERS_H

#include <stddef.h>
#include <stdint.h>

#include "examples.h"
#include "tokenizer.h"

typedef void (*xf_ex_sink)(void *ctx, const xf_example *ex);

/* What happened to the input; printed on stderr by xf_exwriter_report. */
typedef struct xf_enc_stats {
    size_t sources;        /* sentences / lines / pairs / questions read */
    size_t examples;       /* examples emitted */
    size_t words;          /* words read (tagged tasks) */
    size_t split;          /* sentences split into several examples */
    size_t truncated;      /* sources with tokens cut (NLI, line-by-line MLM, long words) */
    size_t tokens_cut;     /* tokens dropped by that truncation */
    size_t empty_words;    /* words with no subword, encoded as the unk token */
    size_t tail_tokens;    /* MLM group_texts remainders dropped */
    size_t no_answer;      /* QA windows whose answer lies outside (label 0:0) */
    size_t skipped;        /* empty lines / empty sentences skipped */
    size_t bytes;          /* bytes of text tokenized */
} xf_enc_stats;

typedef struct xf_exwriter {
    const xf_tokenizer *tk;
    const char *lang;        /* ISO 639-3 written into every example */
    xf_task task;
    size_t seq;              /* max tokens per example, special tokens included */
    size_t stride;           /* qa: overlap between windows (HF doc_stride) */
    int line_by_line;        /* mlm: one example per line instead of grouping */
    size_t group_lines;      /* mlm grouping batch (HF datasets.map: 1000); 0 = whole input */
    xf_ex_sink sink;
    void *sink_ctx;
    xf_enc_stats st;
    /* internal state */
    xf_example ex;
    xf_tokens toks, toks2;
    void *mlm;               /* grouping buffer (mlm_text.c) */
} xf_exwriter;

/* Default --seq / --stride of a task (mlm 512, pos/dep/ner 256, nli 128, qa 384; stride 128). */
size_t xf_task_default_seq(xf_task task);

void xf_exwriter_init(xf_exwriter *e, const xf_tokenizer *tk, const char *lang, xf_task task,
                     size_t seq, xf_ex_sink sink, void *sink_ctx);
/* Flushes pending output (MLM blocks) and frees the state. */
void xf_exwriter_finish(xf_exwriter *e);
/* One summary line on stderr (verbosity >= 1): sources, examples, cuts. */
void xf_exwriter_report(const xf_exwriter *e, const char *what);

/* Dies "FILE:LINE: invalid UTF-8" unless S[0..len) is valid UTF-8. */
void xf_check_utf8(const char *s, size_t len, const char *file, long line);
/* Language guessed from a data path: ud/<iso>_<tb>/..., ner/<iso>/...,
 * text/<iso>.txt[.zst], nli/<set>/<iso>.tsv[.zst], qa/<set>/<iso>.json[.zst].
 * Writes it to OUT (size >= 16) and returns 1, or returns 0. */
int xf_guess_lang(const char *path, char *out);

/* Encodes one word-tagged sentence: NW words (bytes W[i], length WLEN[i]);
 * LABELS (or NULL), HEADS / RELS (dep, or NULL); splits when it does not
 * fit.  ID is the example id. */
void xf_encode_tagged(xf_exwriter *e, const char *id, size_t nw, const char *const *w,
                      const size_t *wlen, const int32_t *labels, const int32_t *heads,
                      const int32_t *rels);

/* CoNLL-U -> pos (UPOS) or dep (UPOS + HEAD + DEPREL), per e->task. */
void xf_read_conllu(xf_exwriter *e, const char *path);
/* The `# text =` lines of CoNLL-U -> the MLM line handler. */
void xf_read_conllu_text(xf_exwriter *e, const char *path);
/* IOB2 token<TAB>tag -> ner. */
void xf_read_iob(xf_exwriter *e, const char *path);
/* HF tokenizers' longest_first truncation of a pair with lengths *NA, *NB
 * to at most MAX tokens in all (special tokens not counted). */
void xf_truncate_longest_first(size_t *na, size_t *nb, size_t max);
/* Appends the pair template with the first NA tokens of A and NB of B to
 * e->ex: [CLS] A [SEP] B [SEP] (types 0/1), or <s> A </s></s> B </s>. */
void xf_encode_pair(xf_exwriter *e, const xf_tokens *a, size_t na, const xf_tokens *b, size_t nb);
/* NLI TSV -> nli. */
void xf_read_nli(xf_exwriter *e, const char *path);
/* SQuAD JSON -> qa. */
void xf_read_squad(xf_exwriter *e, const char *path);

/* Raw text, one sentence per line -> mlm. */
void xf_read_text(xf_exwriter *e, const char *path);
/* Emits the pending MLM blocks (remainder dropped); call before changing
 * e->lang so that a block never mixes languages. */
void xf_mlm_flush(xf_exwriter *e);
/* One line of MLM text (already UTF-8 checked); ID names its source. */
void xf_mlm_add_line(xf_exwriter *e, const char *text, size_t len, const char *id);

/* Every non-empty line of PATH (raw text, or the `# text =` lines of
 * CoNLL-U when FROM_CONLLU), UTF-8 checked, appended to *LINES (*N, *CAP). */
void xf_collect_lines(const char *path, int from_conllu, char ***lines, size_t *n, size_t *cap);

/* --decode: every example of PATH as a readable row of the TSV
 *   lang id task text tokens words labels
 * text: the decoded ids without [CLS] [SEP] [PAD] (unknown tokens shown);
 * tokens: the pieces;
 * words: each word's decoded subwords, space-joined ("-" without words);
 * labels: per-word names (dep: UPOS/HEAD/REL), the NLI label, the QA answer
 * text cut from the context ("-" for 0:0).  Ids are checked against TK. */
void xf_decode_stream(const xf_tokenizer *tk, const char *path, xf_zout *z, int header);

#endif
