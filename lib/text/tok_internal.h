/* tok_internal.h — shared internals of the tokenizers.
 * Not part of the public interface.
 *
 * Files, each calling only downwards:
 *   tokenizer.c        the public interface: loading, added tokens, dispatch
 *   wordpiece.c, unigram.c, tok_json.c (tokenizer.json), wordpiece_learn.c
 *                      the implementations
 *   tok_common.c, charsmap.c
 *                      helpers (maps, aligned strings, UTF-8, the object)
 *
 * Normalisation works on an aligned string (tok_nstr): the normalised bytes
 * plus, for every byte, the [start, end) byte range of the ORIGINAL text it
 * came from, as Hugging Face's NormalizedString keeps them.  A token covering
 * normalised bytes [a, b) has original offsets [os[a], oe[b-1]).
 */
#ifndef XF_TOK_INTERNAL_H
#define XF_TOK_INTERNAL_H

#include "charsmap.h"
#include "tokenizer.h"

#include <stddef.h>
#include <stdint.h>

/* ---- string -> int32 hash map over borrowed keys ---- */
typedef struct tok_slot {
    const char *key;       /* NULL: empty */
    uint32_t hash, klen;
    int32_t val;
} tok_slot;

typedef struct tok_map {
    tok_slot *slot;        /* one cache line per probe */
    size_t cap, n;         /* cap is a power of two */
    /* Bloom filter (2 bits per key, 8 bits per slot) that answers most
     * misses from cache: WordPiece's longest-match search misses a lot. */
    uint64_t *bloom;
} tok_map;

uint32_t tok_hash(const char *s, size_t len);
void tok_map_init(tok_map *m, size_t expected);
void tok_map_free(tok_map *m);
/* Inserts KEY (borrowed; must outlive the map) unless present.  Returns a
 * pointer to the stored value (the old one when present). */
int32_t *tok_map_put(tok_map *m, const char *key, size_t len, int32_t val);
/* 1 and *val when present. */
int tok_map_get(const tok_map *m, const char *key, size_t len, int32_t *val);

/* ---- aligned normalised string ---- */
typedef struct tok_nstr {
    char *s;
    int32_t *os, *oe;
    size_t n, cap;
} tok_nstr;

void nstr_clear(tok_nstr *ns);
void nstr_free(tok_nstr *ns);
void nstr_reserve(tok_nstr *ns, size_t extra);
/* Appends LEN bytes that all map to the original range [os, oe). */
void nstr_push(tok_nstr *ns, const char *b, size_t len, int32_t os, int32_t oe);
void nstr_push_cp(tok_nstr *ns, int32_t cp, int32_t os, int32_t oe);
/* Text [a, b) of the original as an identity-aligned string (offsets + BASE). */
void nstr_from_text(tok_nstr *ns, const char *text, size_t len, int32_t base);

/* ---- UTF-8 ---- */
/* Decodes one code point at S (N > 0 bytes left); *adv = bytes used.
 * Invalid bytes decode as U+FFFD, one byte each. */
int32_t tok_utf8_next(const char *s, size_t n, size_t *adv);
/* Encodes CP into OUT (4 bytes room); returns the length. */
size_t tok_utf8_put(int32_t cp, char *out);
/* Rust's char::is_whitespace (Unicode White_Space). */
int tok_is_white_space(int32_t cp);
/* Rust's char::to_lowercase: full lowercase mapping without context
 * (U+0130 gives two code points).  Returns the count written to OUT[2]. */
int tok_lower_full(int32_t cp, int32_t out[2]);

/* ---- Unigram model and its normalizer / pre-tokenizer chains (built by
 * tok_json.c from tokenizer.json, run by unigram.c) ---- */
enum norm_type { N_PRECOMPILED, N_REPLACE, N_STRIP, N_NF, N_STRIP_ACCENTS, N_LOWERCASE };
enum pre_type { P_WHITESPACE_SPLIT, P_METASPACE };
enum { PREPEND_NEVER, PREPEND_FIRST, PREPEND_ALWAYS };

typedef struct norm_op {
    enum norm_type type;
    xf_charsmap *cm;
    char *pat, *content;     /* Replace: literal pattern, or one repeated char */
    size_t min_rep;          /* Replace regex "C{n,}": n; 0 for a literal */
    int strip_left, strip_right;
    int nf_flags;            /* utf8proc options */
} norm_op;

typedef struct pre_op {
    enum pre_type type;
    char *repl;
    int prepend, split;
} pre_op;

typedef struct tok_unigram {
    double *score;
    size_t n_model;          /* pieces the Viterbi may use */
    int32_t unk_id;
    double unk_score;
    tok_map prefix;          /* every piece and every char-prefix of one: id or -1 */
    norm_op *norm;
    size_t n_norm;
    pre_op *pre;
    size_t n_pre;
} tok_unigram;

/* ---- the tokenizer object ---- */

struct xf_tokenizer {
    xf_tok_kind kind;
    char **pieces;          /* id -> piece (owned) */
    size_t n;
    tok_map map;            /* piece -> id */
    xf_tok_special sp;
    int pair_double_sep;
    char *source;
    /* Added tokens matched verbatim in the raw text, never split. */
    size_t n_added;
    int32_t *added_id;
    uint8_t *added_strip;       /* per added token: 1 lstrip, 2 rstrip */
    uint8_t added_first[256];   /* first bytes of added tokens */
    tok_map added_map;          /* added token → its index k in added_id; each
                                   proper byte prefix → -1 (longest match in
                                   O(match length), not a scan of all) */
    uint8_t *special;           /* per id: 1 when special */
    /* WordPiece */
    int lowercase;
    size_t max_piece_bytes;     /* longest vocab entry, for the greedy search */
    size_t max_word_chars;      /* 100 */
    int32_t cont_prefix_len;    /* strlen("##") */
    /* Unigram */
    tok_unigram *ug;
};

/* tok_common.c (helpers) */
xf_tokenizer *tok_alloc(xf_tok_kind kind, char **pieces, size_t n, const char *source);
void tok_add_added(xf_tokenizer *tk, int32_t id);
/* HF's lstrip / rstrip: the match also swallows whitespace on that side. */
void tok_set_added_strip(xf_tokenizer *tk, int32_t id, int lstrip, int rstrip);
void tok_finish_specials(xf_tokenizer *tk);
void tok_push_span(const tok_nstr *ns, size_t a, size_t b, int32_t id, xf_tokens *out);
/* Appends S[0..n) to the growing NUL-terminated *buf (*len used, *cap). */
void tok_buf_put(char **buf, size_t *len, size_t *cap, const char *s, size_t n);

/* wordpiece.c */
/* BERT's special pieces by name ([CLS] [SEP] [PAD] [MASK] [UNK]), then
 * tok_finish_specials; dies "SRC: no [UNK] piece in the vocabulary". */
void tok_wordpiece_specials(xf_tokenizer *tk, const char *src);
xf_tokenizer *tok_wordpiece_load_vocab(const char *path);
void tok_wordpiece_normalize(const xf_tokenizer *tk, const char *text, size_t len,
                             int32_t base, tok_nstr *out);
size_t tok_wordpiece_encode_seg(const xf_tokenizer *tk, const char *text, size_t len,
                                int32_t base, xf_tokens *out);
/* BertPreTokenizer on a normalised string: calls WORD for each pre-token
 * [a, b) of NS (NCHARS chars long). */
typedef void (*tok_word_fn)(void *ctx, const tok_nstr *ns, size_t a, size_t b, size_t nchars);
void tok_bert_split(const tok_nstr *ns, tok_word_fn word, void *ctx);
void tok_wordpiece_decode(const xf_tokenizer *tk, const int32_t *ids, size_t n,
                          int skip_special, char **buf, size_t *blen, size_t *bcap);

/* tok_json.c */
xf_tokenizer *tok_json_load(const char *path);
void tok_unigram_free(tok_unigram *ug);

/* unigram.c */
void tok_unigram_normalize(const xf_tokenizer *tk, const char *text, size_t len,
                           int32_t base, tok_nstr *out);
size_t tok_unigram_encode_seg(const xf_tokenizer *tk, const char *text, size_t len,
                              int32_t base, xf_tokens *out);
/* Metaspace decoding: "▁" → " ", the text's leading space dropped. */
void tok_unigram_decode(const xf_tokenizer *tk, const int32_t *ids, size_t n,
                        int skip_special, char **buf, size_t *blen, size_t *bcap);

#endif
