/* fuzz_iob.c — WikiANN IOB2 (token TAB tag, blank line between sentences)
 * to ner examples (xf_read_iob), WordPiece and Unigram, short --seq. */
#include "readers_common.h"

int fuzz_stages = 2;

void fuzz_setup(void) { rc_setup(); }

void fuzz_one(const uint8_t *data, size_t size, int stage)
{
    rc_run(xf_read_iob, "in.iob", data, size, stage, XF_TASK_NER, 10);
}
