/* fuzz_text.c — raw text (one sentence per line) to mlm examples
 * (xf_read_text): grouped as HF group_texts and line by line, WordPiece
 * and Unigram; and xf_collect_lines, which the vocabulary learner uses. */
#include <stdlib.h>

#include "readers_common.h"

int fuzz_stages = 5;

void fuzz_setup(void) { rc_setup(); }

void fuzz_one(const uint8_t *data, size_t size, int stage)
{
    rc_rotate();
    const char *p = fuzz_file("in.txt", data, size);
    if (stage == 4) {
        char **lines = NULL;
        size_t n = 0, cap = 0;
        xf_collect_lines(p, 0, &lines, &n, &cap);
        for (size_t i = 0; i < n; i++) free(lines[i]);
        free(lines);
        return;
    }
    xf_exwriter e;
    xf_exwriter_init(&e, rc_tok[stage & 1], "xyz", XF_TASK_MLM, 16, rc_sink, NULL);
    e.line_by_line = stage >> 1;
    e.group_lines = 3;
    xf_read_text(&e, p);
    xf_exwriter_finish(&e);
}
