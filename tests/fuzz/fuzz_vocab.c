/* fuzz_vocab.c — vocab.txt loading (xf_tok_load of a WordPiece vocabulary,
 * with and without a tokenizer_config.json beside it), then a fixed text
 * encoded and decoded. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "tokenizer.h"

int fuzz_stages = 2;

void fuzz_setup(void)
{
    mkdir(fuzz_path("lc"), 0700);
    static const char cfg[] = "{\"do_lower_case\": true}";
    fuzz_file("lc/tokenizer_config.json", cfg, sizeof cfg - 1);
}

static const char TEXT[] = "Hello, WÖRLD!  the cats sat\xe3\x80\x82 \xe4\xb8\xad\xe6\x96\x87 unaffable [SEP] x##y";

void fuzz_one(const uint8_t *data, size_t size, int stage)
{
    const char *p = fuzz_file(stage ? "lc/vocab.txt" : "vocab.txt", data, size);
    xf_tokenizer *tk = xf_tok_load(p);
    xf_tokens t = {0};
    xf_tok_encode(tk, TEXT, sizeof TEXT - 1, &t);
    xf_tok_encode_word(tk, "cats,", 5, &t);
    free(xf_tok_decode(tk, t.ids, t.n, 0));
    free(xf_tok_decode(tk, t.ids, t.n, 1));
    for (size_t i = 0; i < t.n; i++) (void)xf_tok_id(tk, xf_tok_piece(tk, t.ids[i]));
    xf_tokens_free(&t);
    xf_tok_free(tk);
}
