/* heads.h — task heads on the encoder's final hidden states, as the
 * AdapterHub adapters library builds them (PredictionHead: a dropout before
 * every linear layer), with forward, loss and backward.
 *
 * Common conventions:
 *  - hid is the encoder output [Ntok, H] (all sequences of a batch, rows
 *    addressed by absolute token index).  The backward runs only when gold
 *    and dhid are both given: dhid (same shape) and the parameter gradients
 *    (when enabled) receive ACCUMULATED gradients (+=).  With dhid NULL a
 *    step only computes logits and loss and touches no gradient (validation).
 *  - Dropout (p = hidden_dropout_prob in training, 0 in eval) uses the
 *    counter-based masks of ops.h keyed by (seed, offset + row*H + col), so a
 *    token's mask depends only on its row, never on the batch layout.  Pass
 *    offset = XF_HEADS_DROPOUT_OFFSET with the encoder's per-step dropout
 *    seed: the encoder keys its sites at k << 40 for small k, so the heads'
 *    masks never repeat an encoder mask.
 *  - Losses are means as in PyTorch's CrossEntropyLoss; each step returns
 *    the loss (0 when no gold is given).
 *  - Parameter gradients (g_*) are NULL until xf_*_head_enable_grads.
 *  - Tensor names (xf_*_head_tensors) are the adapters library's, with the
 *    "heads.NAME." prefix: nn.Sequential indices count the dropouts, so
 *    tagging and QA are "1.weight"/"1.bias", classification "1.*" and
 *    "4.*"; the parser "biaffine_arcs.weight" [1,H+1,H] and
 *    "biaffine_rels.weight" [R,H+1,H+1].
 */
#ifndef XF_HEADS_H
#define XF_HEADS_H

#include <stddef.h>
#include <stdint.h>

#include "adapter.h"   /* xf_adapter_tensor */

#define XF_HEADS_DROPOUT_OFFSET ((uint64_t)0x800 << 40)

/* ---- tagging (POS, NER): dropout → Linear(H, K) on the first subword of each word ---- */
typedef struct xf_tag_head {
    int H, K;
    float *w, *b, *g_w, *g_b;      /* [K,H], [K] */
    float *params, *grads;
} xf_tag_head;

void xf_tag_head_init(xf_tag_head *h, int H, int K);
void xf_tag_head_enable_grads(xf_tag_head *h);
void xf_tag_head_free(xf_tag_head *h);
/* HF init: N(0, std) weight, zero bias. */
void xf_tag_head_init_weights(xf_tag_head *h, float std, uint64_t seed);
/* Its 2 tensors; returns 2. */
int xf_tag_head_tensors(xf_tag_head *h, const char *name, xf_adapter_tensor *out);
/* M words: pos[m] = row of the word's first subword.  Writes logits[M,K];
 * with gold (label ids [M]) returns the mean CE and, with dhid, does the
 * backward (parameter gradients += when enabled). */
float xf_tag_head_step(xf_tag_head *h, float *logits, float *dhid, const float *hid,
                       const int32_t *pos, const int32_t *gold, int M, float p_drop,
                       uint64_t seed, uint64_t offset);

/* ---- sequence classification (NLI) on [CLS] ----
 * dropout → Linear(H,H) → tanh → dropout → Linear(H,K) */
typedef struct xf_cls_head {
    int H, K;
    float *w1, *b1, *w4, *b4;      /* "1." [H,H], [H]; "4." [K,H], [K] */
    float *g_w1, *g_b1, *g_w4, *g_b4;
    float *params, *grads;
} xf_cls_head;

void xf_cls_head_init(xf_cls_head *h, int H, int K);
void xf_cls_head_enable_grads(xf_cls_head *h);
void xf_cls_head_free(xf_cls_head *h);
void xf_cls_head_init_weights(xf_cls_head *h, float std, uint64_t seed);
/* Its 4 tensors; returns 4. */
int xf_cls_head_tensors(xf_cls_head *h, const char *name, xf_adapter_tensor *out);
/* B examples, cls[b] = row of example b's [CLS].  logits[B,K]. */
float xf_cls_head_step(xf_cls_head *h, float *logits, float *dhid, const float *hid,
                       const int32_t *cls, const int32_t *gold, int B, float p_drop,
                       uint64_t seed, uint64_t offset);

/* ---- extractive QA: dropout → Linear(H, 2) per token (start, end) ---- */
typedef struct xf_qa_head {
    int H;
    float *w, *b, *g_w, *g_b;      /* [2,H], [2] */
    float *params, *grads;
} xf_qa_head;

void xf_qa_head_init(xf_qa_head *h, int H);
void xf_qa_head_enable_grads(xf_qa_head *h);
void xf_qa_head_free(xf_qa_head *h);
void xf_qa_head_init_weights(xf_qa_head *h, float std, uint64_t seed);
/* Its 2 tensors; returns 2. */
int xf_qa_head_tensors(xf_qa_head *h, const char *name, xf_adapter_tensor *out);
/* B windows; window b is rows base[b] .. base[b]+len[b]-1.  Writes
 * logits[Ntok,2] (start, end) for those rows.  Loss with gold start[b],
 * end[b] (window-relative; 0 = [CLS] when the answer is not in the window):
 * (CE over the window's start logits + CE over its end logits) / 2, each
 * the mean over windows. */
float xf_qa_head_step(xf_qa_head *h, float *logits, float *dhid, const float *hid,
                      const int32_t *base, const int32_t *len, const int32_t *gold_start,
                      const int32_t *gold_end, int B, float p_drop, uint64_t seed,
                      uint64_t offset);

/* One window of an example for answer extraction: logits [T,2] (start,
 * end) and per-token byte offsets [T,2] into the context, -1 for tokens
 * outside the context (question, specials, padding). */
typedef struct xf_qa_window {
    const float *logits;
    const int32_t *offsets;
    int T;
} xf_qa_window;
/* HF run_qa postprocess_qa_predictions (SQuAD v1): over all windows, the n_best
 * start and end positions by logit; candidate spans inside the context with
 * start ≤ end < start + max_len; best by start + end logit (first found on
 * ties).  Writes the byte range [*bs, *be) and the score; returns 0 when no
 * span is valid (HF then answers the text "empty"). */
int xf_qa_best_span(const xf_qa_window *w, int nw, int n_best, int max_len, int *bs, int *be,
                    float *score);

/* ---- biaffine dependency parser (adapters BiaffineParsingHead) ----
 * After dropout: dep_i = mean of word i's subword vectors, head candidates
 * = [CLS] (root, index 0) and the words 1..n.
 *   arc[i][j]    = [dep_i;1]ᵀ Wa hv_j               Wa [1, H+1, H]
 *   rel[i][j][r] = [dep_i;1]ᵀ Wr[r] [hv_j;1]        Wr [R, H+1, H+1]
 * zero init.  Loss = CE over the n+1 candidate heads + CE over relations at
 * the gold head, each the mean over all words of the batch.
 * Difference from the library: candidates are the sentence's own root +
 * words (the library's padded batch also offers zero vectors of padding
 * positions, with arc score 0). */
typedef struct xf_biaffine_head {
    int H, R;
    float *wa, *wr, *g_wa, *g_wr;  /* [H+1,H], [R,H+1,H+1] */
    float *params, *grads;
    /* The relation scorer's intermediate [words, R(H+1)] is kept for the
     * backward up to this many bytes (256 MiB by default), else recomputed. */
    size_t rel_cache_bytes;
} xf_biaffine_head;

/* One sentence: rows base .. ; n words; word w covers subword rows
 * base+start[w] .. base+end[w]-1 ([CLS] at row base); gold heads (0 root,
 * 1..n) and relation ids, or NULL. */
typedef struct xf_dep_sentence {
    int base, n;
    const int32_t *start, *end;
    const int32_t *heads, *rels;
} xf_dep_sentence;

enum { XF_DECODE_GREEDY = 0, XF_DECODE_MST = 1 };

void xf_biaffine_head_init(xf_biaffine_head *h, int H, int R);
void xf_biaffine_head_enable_grads(xf_biaffine_head *h);
void xf_biaffine_head_free(xf_biaffine_head *h);
/* Its 2 tensors; returns 2. */
int xf_biaffine_head_tensors(xf_biaffine_head *h, const char *name, xf_adapter_tensor *out);
/* Training/eval step over S sentences: returns the loss when gold is present
 * in all sentences (0 otherwise); backward into dhid when non-NULL. */
float xf_biaffine_head_step(xf_biaffine_head *h, float *dhid, const float *hid,
                            const xf_dep_sentence *sent, int S, float p_drop, uint64_t seed,
                            uint64_t offset);
/* Prediction for one sentence (no dropout): heads[n] by DECODE (greedy argmax
 * or MST with one root child) and relation ids rels[n], taken at the
 * predicted head (where LAS counts a word, its head is the gold head, so
 * this is also the relation at the gold head).  arc_out, when not
 * NULL, receives the arc scores [(n+1)*(n+1)] (row i = dependent i, row 0
 * unused). */
void xf_biaffine_head_predict(const xf_biaffine_head *h, const float *hid,
                              const xf_dep_sentence *s, int decode,
                              int32_t *heads, int32_t *rels, float *arc_out);

#endif
