/* readers_common.h — what the reader harnesses (CoNLL-U, IOB2, NLI, SQuAD,
 * raw text) share: two tokenizers and a sink that re-checks every example.
 *
 * Tokenizers: WordPiece from mBERT's cased vocab.txt when the shared data
 * is there (a hand-made vocabulary otherwise), and a small XLM-R-like
 * Unigram tokenizer.json (RobertaProcessing: "<s> A </s></s> B </s>").
 * A reader harness runs each input once per tokenizer (stages).
 *
 * The sink writes each example with xf_ex_write, which checks what an
 * example-stream reader checks: an example a reader produced that its own
 * writer rejects is a finding (fuzz_die_is_bug), not a rejected input.
 * The sink lives across inputs, so everything it allocates is untracked
 * (harness.h): a stage that dies must not free its buffers. */
#ifndef XF_FUZZ_READERS_COMMON_H
#define XF_FUZZ_READERS_COMMON_H

#include <stdio.h>
#include <string.h>

#include "examples.h"
#include "harness.h"
#include "readers.h"
#include "tokenizer.h"
#include "util.h"
#include "zio.h"

static xf_tokenizer *rc_tok[2];
static xf_zout *rc_out;
static size_t rc_rows;

static const char RC_UNIGRAM[] =
    "{\"added_tokens\":[{\"id\":0,\"content\":\"<s>\",\"special\":true},"
    "{\"id\":1,\"content\":\"<pad>\",\"special\":true},{\"id\":2,\"content\":\"</s>\",\"special\":true},"
    "{\"id\":3,\"content\":\"<unk>\",\"special\":true},{\"id\":13,\"content\":\"<mask>\",\"special\":true}],"
    "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\","
    "\"add_prefix_space\":true},\"post_processor\":{\"type\":\"RobertaProcessing\","
    "\"sep\":[\"</s>\",2],\"cls\":[\"<s>\",0]},\"model\":{\"type\":\"Unigram\",\"unk_id\":3,\"vocab\":"
    "[[\"<s>\",0],[\"<pad>\",0],[\"</s>\",0],[\"<unk>\",0],[\"\\u2581\",-2],[\"\\u2581a\",-1],"
    "[\"b\",-3],[\"\\u2581ab\",-2.5],[\"c\",-4],[\"\\u2581the\",-1],[\"e\",-3],[\"\\u00e9\",-3],"
    "[\"\\u2581\\u00e9t\\u00e9\",-2],[\"<mask>\",0]]}}";

__attribute__((unused)) static void rc_setup(void)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/tokenizers/mbert-cased/vocab.txt", fuzz_data_dir());
    FILE *f = fopen(p, "r");
    if (f) {
        fclose(f);
        rc_tok[0] = xf_tok_load(p);
    } else {
        static const char v[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\ncat\nsat\non\nmat\n##s\na\n"
                                "dog\n.\n,\nnew\nyork\n##e\n##a\ne\n\xc3\xa9t\xc3\xa9\n";
        rc_tok[0] = xf_tok_load(fuzz_file("vocab.txt", v, sizeof v - 1));
    }
    rc_tok[1] = xf_tok_load(fuzz_file("tokenizer.json", RC_UNIGRAM, sizeof RC_UNIGRAM - 1));
    rc_out = xf_zout_open(fuzz_path("sink.tsv"), XF_Z_OFF);
}

/* Starts a new sink file now and then, so the temp folder stays small. */
__attribute__((unused)) static void rc_rotate(void)
{
    if (rc_rows < 20000) return;
    fuzz_track(0);
    xf_zout_abort(rc_out);
    rc_out = xf_zout_open(fuzz_path("sink.tsv"), XF_Z_OFF);
    fuzz_track(1);
    rc_rows = 0;
}

__attribute__((unused)) static void rc_sink(void *ctx, const xf_example *ex)
{
    (void)ctx;
    /* untracked: stdio allocates the sink FILE's buffer on the first
     * write, and that buffer outlives the stage */
    fuzz_track(0);
    fuzz_die_is_bug(1);
    xf_ex_write(rc_out, ex);
    fuzz_die_is_bug(0);
    fuzz_track(1);
    rc_rows++;
}

/* Runs READ on the input as file NAME with tokenizer TK (stage & 1),
 * task TASK and sequence length SEQ. */
__attribute__((unused)) static void rc_run(void (*read)(xf_exwriter *, const char *), const char *name,
                   const uint8_t *data, size_t size, int stage, xf_task task, size_t seq)
{
    rc_rotate();
    const char *p = fuzz_file(name, data, size);
    xf_exwriter e;
    xf_exwriter_init(&e, rc_tok[stage & 1], "xyz", task, seq, rc_sink, NULL);
    read(&e, p);
    xf_exwriter_finish(&e);
}

#endif
