/* encode_common.h — encoding arbitrary bytes with a fixed tokenizer (the
 * WordPiece and Unigram encode harnesses).  The API takes valid UTF-8, so
 * the input is checked first the way every reader checks its lines
 * (xf_check_utf8, a die on invalid input).  Then: encode as text and as
 * one pre-split word, normalise, decode; offsets must lie inside the text
 * and ids inside the vocabulary. */
#ifndef XF_FUZZ_ENCODE_COMMON_H
#define XF_FUZZ_ENCODE_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "readers.h"
#include "tokenizer.h"

static void encode_check(const xf_tokenizer *tk, const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    xf_check_utf8(s, size, "input", 1);
    xf_tokens t = {0};
    size_t v = xf_tok_vocab_size(tk);
    for (int word = 0; word < 2; word++) {
        xf_tokens_clear(&t);
        size_t n = word ? xf_tok_encode_word(tk, s, size, &t) : xf_tok_encode(tk, s, size, &t);
        if (n != t.n) abort();
        for (size_t i = 0; i < t.n; i++) {
            if (t.ids[i] < 0 || (size_t)t.ids[i] >= v) {
                fprintf(stderr, "token %zu: id %d outside the vocabulary (%zu)\n", i, t.ids[i], v);
                abort();
            }
            if (t.start[i] < 0 || t.start[i] > t.end[i] || (size_t)t.end[i] > size) {
                fprintf(stderr, "token %zu: offsets %d:%d outside the text (%zu bytes)\n", i,
                        t.start[i], t.end[i], size);
                abort();
            }
        }
        free(xf_tok_decode(tk, t.ids, t.n, word));
    }
    free(xf_tok_normalize(tk, s, size));
    xf_tokens_free(&t);
}

#endif
