/* tokenizer.h — subword tokenizers with Hugging Face semantics.
 *
 * Two models, one interface:
 *  - WordPiece exactly as HF BertTokenizerFast (bert-base-multilingual-cased
 *    and -uncased): BertNormalizer (clean text, CJK spacing, optional
 *    lowercase + strip accents), BertPreTokenizer (whitespace + punctuation),
 *    greedy longest-match-first with "##" continuations.
 *  - Unigram exactly as HF's tokenizer.json Unigram models (XLM-R): the
 *    declared normalizer chain (Precompiled charsmap, Replace, Strip, NFKD,
 *    StripAccents, ...), Metaspace pre-tokenizer, Viterbi over piece scores.
 *
 * Offsets are byte offsets into the caller's ORIGINAL text, [start, end),
 * so predictions (QA spans) map back to the source.
 */
#ifndef XF_TOKENIZER_H
#define XF_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

typedef enum { XF_TOK_WORDPIECE = 1, XF_TOK_UNIGRAM = 2 } xf_tok_kind;

typedef struct xf_tokenizer xf_tokenizer;

/* A growable list of tokens with offsets. */
typedef struct xf_tokens {
    int32_t *ids;
    int32_t *start, *end;   /* byte offsets into the encoded text */
    size_t n, cap;
} xf_tokens;

void xf_tokens_clear(xf_tokens *t);
void xf_tokens_free(xf_tokens *t);
void xf_tokens_push(xf_tokens *t, int32_t id, int32_t start, int32_t end);

/* The special tokens: BERT [CLS] [SEP] [PAD] [MASK] [UNK];
 * XLM-R <s> </s> <pad> <mask> <unk>. */
typedef struct xf_tok_special {
    int32_t cls, sep, pad, mask, unk;
} xf_tok_special;

/* Loads from a HF model folder (vocab.txt, or tokenizer.json; reads
 * tokenizer_config.json's do_lower_case when present), or from a vocab.txt
 * or tokenizer.json path directly.  Dies naming the file on bad input. */
xf_tokenizer *xf_tok_load(const char *path);
/* Builds a WordPiece tokenizer from an in-memory piece list (learned vocab). */
xf_tokenizer *xf_tok_wordpiece_new(const char *const *pieces, size_t n, int lowercase);
void xf_tok_free(xf_tokenizer *tk);

xf_tok_kind xf_tok_kind_of(const xf_tokenizer *tk);
size_t xf_tok_vocab_size(const xf_tokenizer *tk);
const char *xf_tok_piece(const xf_tokenizer *tk, int32_t id);
int32_t xf_tok_id(const xf_tokenizer *tk, const char *piece);   /* -1 if absent */
xf_tok_special xf_tok_specials(const xf_tokenizer *tk);
int xf_tok_is_special(const xf_tokenizer *tk, int32_t id);
/* 1 when pairs are built "<s> A </s></s> B </s>" (RoBERTa / XLM-R), 0 for
 * BERT's "[CLS] A [SEP] B [SEP]"; from the file's post-processor. */
int xf_tok_pair_double_sep(const xf_tokenizer *tk);
/* WordPiece lowercasing + accent stripping (uncased models).  Loading sets
 * it from tokenizer_config.json's do_lower_case (default 0 for vocab.txt);
 * callers may force it. */
void xf_tok_set_lowercase(xf_tokenizer *tk, int lowercase);
int xf_tok_lowercase(const xf_tokenizer *tk);
/* Path of the vocabulary file it was loaded from (for copying into HF
 * folders and recording provenance), or NULL. */
const char *xf_tok_source(const xf_tokenizer *tk);

/* Appends the tokens of TEXT[0..len) (valid UTF-8; no special tokens added)
 * to OUT; returns how many were appended. */
size_t xf_tok_encode(const xf_tokenizer *tk, const char *text, size_t len, xf_tokens *out);
/* One pre-split word (HF is_split_into_words=True): WordPiece may still
 * split punctuation inside it; Unigram gives it the "▁" prefix. */
size_t xf_tok_encode_word(const xf_tokenizer *tk, const char *word, size_t len, xf_tokens *out);
/* The text as the model sees it after normalisation (cleaning, CJK
 * spacing, lowercasing, accent stripping, charsmap), malloc'd. */
char *xf_tok_normalize(const xf_tokenizer *tk, const char *text, size_t len);
/* Readable text from ids: WordPiece joins "##" pieces, Unigram turns "▁"
 * into spaces; special tokens dropped when SKIP_SPECIAL. malloc'd. */
char *xf_tok_decode(const xf_tokenizer *tk, const int32_t *ids, size_t n, int skip_special);

/* Learns a WordPiece vocabulary of at most VOCAB_SIZE pieces (special
 * tokens first: [PAD] [UNK] [CLS] [SEP] [MASK], then single characters
 * and their "##" forms, then merges) from N lines of text; deterministic.
 * Returns a malloc'd array of malloc'd strings, *out_n pieces. */
char **xf_wordpiece_learn(const char *const *lines, size_t n, size_t vocab_size,
                          int lowercase, size_t *out_n);

#endif
