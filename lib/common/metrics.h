/* metrics.h — the evaluation metrics of xf-eval, each an accumulator: add the
 * predictions of one sentence / example at a time, then finish → a score in
 * percent (0–100) and n, the number of items scored.
 *
 * Definitions (they follow the reference scripts exactly):
 *  - UPOS accuracy: over all words.
 *  - UAS / LAS: CoNLL 2018 shared task (conll18_ud_eval.py) with gold
 *    tokenization: over all words, punctuation included; relations compared
 *    on their universal part (subtype after ':' stripped).  LAS needs the
 *    head right and the relation right; which relation the parser reports
 *    (at its predicted head, or the reference study's "at the gold head") is
 *    the parser's decoding choice (heads.h), not the metric's.
 *  - NER: entity-level micro F1 as seqeval's default (conlleval-like) mode:
 *    chunks from get_entities() (an I- without a preceding B- of the same type
 *    starts an entity, a type change starts an entity, E-/S- understood);
 *    an entity is correct when type, start and end all match.
 *  - NLI: accuracy.
 *  - QA: SQuAD v1.1 evaluate-v1.1.py: normalise (lowercase, drop ASCII
 *    punctuation, drop the whole words a/an/the, collapse whitespace), exact
 *    match and token F1, each the max over the gold answers.
 *
 * n: words (UPOS, UAS, LAS), gold entities (NER), examples (NLI),
 * questions (QA).  When n == 0 the value is NaN: nothing was scored, and the
 * caller reports an error instead of a score.
 */
#ifndef XF_METRICS_H
#define XF_METRICS_H

#include <stdint.h>

typedef struct xf_metric {
    double value;   /* percent, 0–100; NaN when n == 0 */
    long n;         /* items scored */
} xf_metric;

/* ---- accuracy (UPOS over words, NLI over examples) ---- */
typedef struct xf_acc { long correct, total; } xf_acc;
/* Label names compared as strings (UPOS tags). */
void xf_acc_add_names(xf_acc *a, const char *const *gold, const char *const *pred, int n);
/* Label ids (NLI classes). */
void xf_acc_add_ids(xf_acc *a, const int32_t *gold, const int32_t *pred, int n);
xf_metric xf_acc_finish(const xf_acc *a);

/* ---- dependency parsing ---- */
typedef struct xf_dep_acc { long words, uas_ok, las_ok; } xf_dep_acc;
/* One sentence of n words; heads are 0 (root) or 1-based word indices. */
void xf_dep_add(xf_dep_acc *a, const int32_t *gold_heads, const char *const *gold_rels,
                const int32_t *pred_heads, const char *const *pred_rels, int n);
xf_metric xf_dep_uas(const xf_dep_acc *a);
xf_metric xf_dep_las(const xf_dep_acc *a);
/* True when two relations are equal on their universal part ("nsubj:pass" == "nsubj"). */
int xf_deprel_equal(const char *a, const char *b);

/* ---- NER (seqeval default mode) ---- */
typedef struct xf_entity {
    int start, end;       /* word range, inclusive, as seqeval */
    const char *type;     /* points into the tag string */
    int type_len;
} xf_entity;
/* Chunks of one sentence's tags into out (room for n entries); returns the
 * count.  Tags: "O", "B-X", "I-X", "E-X", "S-X" (anything else: first char is
 * the prefix, the rest after '-' the type, as seqeval). */
int xf_ner_entities(const char *const *tags, int n, xf_entity *out);
typedef struct xf_ner_acc { long gold, pred, correct; } xf_ner_acc;
void xf_ner_add(xf_ner_acc *a, const char *const *gold, const char *const *pred, int n);
xf_metric xf_ner_f1(const xf_ner_acc *a);          /* n = gold entities */
xf_metric xf_ner_precision(const xf_ner_acc *a);   /* n = predicted entities */
xf_metric xf_ner_recall(const xf_ner_acc *a);      /* n = gold entities */

/* ---- SQuAD v1.1 ---- */
typedef struct xf_squad_acc { double em, f1; long n; } xf_squad_acc;
/* One question: the predicted text and its gold answers (ngold ≥ 1). */
void xf_squad_add(xf_squad_acc *a, const char *pred, const char *const *golds, int ngold);
xf_metric xf_squad_em(const xf_squad_acc *a);
xf_metric xf_squad_f1(const xf_squad_acc *a);
/* normalize_answer() of evaluate-v1.1.py; returns a malloc'd string.  Unicode
 * aware like Python 3: str.lower()'s full case mapping (İ → i̇, a word-final
 * Σ → ς), \b and split() on Unicode word / space characters. */
char *xf_squad_normalize(const char *s);
/* Exact match (0/1) and token F1 (0–1) of one prediction against one answer. */
int xf_squad_exact(const char *pred, const char *gold);
double xf_squad_token_f1(const char *pred, const char *gold);

#endif
