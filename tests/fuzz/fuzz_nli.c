/* fuzz_nli.c — NLI TSV (premise, hypothesis, label in any column order) to
 * nli pair examples (xf_read_nli): BERT and XLM-R pair templates, a short
 * --seq so that longest-first truncation runs. */
#include "readers_common.h"

int fuzz_stages = 2;

void fuzz_setup(void) { rc_setup(); }

void fuzz_one(const uint8_t *data, size_t size, int stage)
{
    rc_run(xf_read_nli, "in.tsv", data, size, stage, XF_TASK_NLI, 9);
}
