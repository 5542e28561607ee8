/* fuzz_unigram.c — Unigram encoding of arbitrary bytes (encode_common.h):
 * xlnet-base-cased's tokenizer.json (Precompiled charsmap, Replace,
 * StripAccents, Metaspace) and t5-small's when the shared data is there,
 * else the small XLM-R-like tokenizer of readers_common.h. */
#include "encode_common.h"
#include "readers_common.h"

int fuzz_stages = 2;
static xf_tokenizer *tk[2];

static xf_tokenizer *load_or(const char *name, xf_tokenizer *fallback)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/tokenizers/%s/tokenizer.json", fuzz_data_dir(), name);
    FILE *f = fopen(p, "r");
    if (!f) return fallback;
    fclose(f);
    return xf_tok_load(p);
}

void fuzz_setup(void)
{
    rc_setup();
    tk[0] = load_or("xlnet-base-cased", rc_tok[1]);
    tk[1] = load_or("t5-small", rc_tok[1]);
}

void fuzz_one(const uint8_t *data, size_t size, int stage)
{
    encode_check(tk[stage], data, size);
}
