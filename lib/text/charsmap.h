/* charsmap.h — SentencePiece's "precompiled_charsmap" normaliser (the
 * Hugging Face "Precompiled" normalizer).
 *
 * The blob is: u32 (little endian) size of the trie in bytes, the trie (a
 * Darts-clone double array of u32 units over UTF-8 bytes, whose values are
 * offsets into the blob that follows), then the replacement strings, each
 * NUL-terminated.  A key is a (possibly multi-char) UTF-8 string; its
 * replacement may be empty (the key is deleted).
 */
#ifndef XF_CHARSMAP_H
#define XF_CHARSMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct xf_charsmap xf_charsmap;

/* Parses a raw blob; WHAT names it in errors (dies on a malformed blob). */
xf_charsmap *xf_charsmap_new(const uint8_t *blob, size_t n, const char *what);
/* Same from the base64 text stored in tokenizer.json. */
xf_charsmap *xf_charsmap_from_base64(const char *b64, const char *what);
void xf_charsmap_free(xf_charsmap *cm);

/* Hugging Face's lookup: the SHORTEST key that is a prefix of S[0..n).
 * Returns 1 and the replacement (not NUL-terminated) when there is one. */
int xf_charsmap_first(const xf_charsmap *cm, const char *s, size_t n,
                      const char **rep, size_t *rep_len);
/* SentencePiece's lookup: the LONGEST key that is a prefix of S[0..n);
 * returns its length in bytes (0 if none) and the replacement. */
size_t xf_charsmap_longest(const xf_charsmap *cm, const char *s, size_t n,
                           const char **rep, size_t *rep_len);

/* Walks S[0..n) the Hugging Face way (below) and calls EMIT for each
 * stretch of input [off, off+len) with its output REP (pointing into S
 * itself when the stretch is kept as is). */
typedef void (*xf_charsmap_emit)(void *ctx, size_t off, size_t len,
                                 const char *rep, size_t rep_len);
void xf_charsmap_apply(const xf_charsmap *cm, const char *s, size_t n,
                       xf_charsmap_emit emit, void *ctx);

/* Hugging Face's Precompiled.normalize_string on plain text: per extended
 * grapheme cluster shorter than 6 bytes, the replacement of its shortest
 * prefix key replaces the whole cluster; otherwise char by char.  Malloc'd,
 * NUL-terminated; *out_len its length. */
char *xf_charsmap_normalize(const xf_charsmap *cm, const char *s, size_t n, size_t *out_len);

#endif
