/* fuzz_squad.c — SQuAD 1.1 JSON to qa examples (xf_read_squad): question +
 * context windows with a stride, answer spans mapped to tokens, then each
 * example's extra JSON parsed back (xf_ex_extra_json). */
#include <jansson.h>

#include "readers_common.h"

int fuzz_stages = 2;

void fuzz_setup(void) { rc_setup(); }

static void qa_sink(void *ctx, const xf_example *ex)
{
    rc_sink(ctx, ex);
    fuzz_die_is_bug(1);
    json_t *j = xf_ex_extra_json(ex, "fuzz");
    fuzz_die_is_bug(0);
    json_decref(j);
}

void fuzz_one(const uint8_t *data, size_t size, int stage)
{
    rc_rotate();
    const char *p = fuzz_file("in.json", data, size);
    xf_exwriter e;
    xf_exwriter_init(&e, rc_tok[stage & 1], "xyz", XF_TASK_QA, 24, qa_sink, NULL);
    e.stride = 6;
    xf_read_squad(&e, p);
    xf_exwriter_finish(&e);
}
