/* fuzz_conllu.c — CoNLL-U: pos and dep examples (xf_read_conllu) and the
 * `# text =` lines as MLM text (xf_read_conllu_text), with WordPiece and
 * Unigram, short --seq so that sentences get split. */
#include "readers_common.h"

int fuzz_stages = 6;

void fuzz_setup(void) { rc_setup(); }

void fuzz_one(const uint8_t *data, size_t size, int stage)
{
    switch (stage >> 1) {
    case 0: rc_run(xf_read_conllu, "in.conllu", data, size, stage, XF_TASK_POS, 12); break;
    case 1: rc_run(xf_read_conllu, "in.conllu", data, size, stage, XF_TASK_DEP, 0); break;
    default: rc_run(xf_read_conllu_text, "in.conllu", data, size, stage, XF_TASK_MLM, 16); break;
    }
}
