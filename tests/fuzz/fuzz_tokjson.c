/* fuzz_tokjson.c — tokenizer.json loading (xf_tok_load: models, normalizers,
 * pre-tokenizers, post-processors, added tokens, the precompiled charsmap),
 * then a short fixed text encoded, normalised and decoded with what was
 * loaded.  Every input is loaded: ids are bounded by the vocabulary (plus
 * the added tokens), so what a load allocates is bounded by the input. */
#include <stdlib.h>

#include "harness.h"
#include "tokenizer.h"

int fuzz_stages = 1;

void fuzz_setup(void) {}

static const char TEXT[] = "Hello, wörld! ab c  x\xe2\x96\x81y <mask> \xe4\xb8\xad\xe6\x96\x87 e\xcc\x81t\xc3\xa9 \t end.";

void fuzz_one(const uint8_t *data, size_t size, int stage)
{
    (void)stage;
    xf_tokenizer *tk = xf_tok_load(fuzz_file("tokenizer.json", data, size));
    xf_tokens t = {0};
    xf_tok_encode(tk, TEXT, sizeof TEXT - 1, &t);
    xf_tok_encode_word(tk, "wörld", 6, &t);
    free(xf_tok_normalize(tk, TEXT, sizeof TEXT - 1));
    free(xf_tok_decode(tk, t.ids, t.n, 0));
    free(xf_tok_decode(tk, t.ids, t.n, 1));
    (void)xf_tok_specials(tk);
    xf_tokens_free(&t);
    xf_tok_free(tk);
}
