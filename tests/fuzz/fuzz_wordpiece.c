/* fuzz_wordpiece.c — WordPiece encoding of arbitrary bytes
 * (encode_common.h) with mBERT's cased vocabulary, cased and uncased
 * (lowercase + accent stripping), or a hand-made vocabulary when the shared
 * data is absent. */
#include "encode_common.h"
#include "readers_common.h"

int fuzz_stages = 2;
static xf_tokenizer *lower;

void fuzz_setup(void)
{
    rc_setup();
    char p[1024];
    snprintf(p, sizeof p, "%s/tokenizers/mbert-uncased/vocab.txt", fuzz_data_dir());
    FILE *f = fopen(p, "r");
    if (f) {
        fclose(f);
        lower = xf_tok_load(p);
    } else {
        lower = xf_tok_load(xf_tok_source(rc_tok[0]));
    }
    xf_tok_set_lowercase(lower, 1);
}

void fuzz_one(const uint8_t *data, size_t size, int stage)
{
    encode_check(stage ? lower : rc_tok[0], data, size);
}
