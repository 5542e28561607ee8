/* fuzz_examples.c — example streams (xf-tsv(5) EXAMPLE STREAMS).
 * Stage 0: xf_ex_read_all_vocab with the vocabulary size of the WordPiece
 * tokenizer; every example read must be writable again (xf_ex_write
 * checks what the reader checks: a die there is a finding), and a qa
 * example's extra JSON is parsed.
 * Stage 1: xf-tokenize --decode (xf_decode_stream) with that tokenizer. */
#include <jansson.h>

#include "readers_common.h"

int fuzz_stages = 2;

void fuzz_setup(void) { rc_setup(); }

void fuzz_one(const uint8_t *data, size_t size, int stage)
{
    rc_rotate();
    const char *p = fuzz_file("in.tsv", data, size);
    if (stage == 1) {
        xf_decode_stream(rc_tok[0], p, rc_out, 1);
        return;
    }
    size_t n = 0;
    xf_example *v = xf_ex_read_all_vocab(p, xf_tok_vocab_size(rc_tok[0]), &n);
    for (size_t i = 0; i < n; i++) {
        rc_sink(NULL, &v[i]);
        if (v[i].task == XF_TASK_QA) {
            json_t *j = xf_ex_extra_json(&v[i], "fuzz");
            json_decref(j);
        }
    }
    xf_ex_free_all(v, n);
}
