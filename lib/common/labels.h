/* labels.h — the tasks and their fixed label vocabularies, in one place.
 *
 * Every tool that writes or reads labels goes through here, so a label id
 * means the same thing in xf-tokenize, xf-adapt, xf-eval and xf-score.
 * Example streams store label NAMES (xf-tsv(5), EXAMPLE STREAMS), so the
 * vocabulary is recorded in the stream itself; ids are the indices below.
 *
 *   pos  UPOS, the 17 Universal POS tags, alphabetical:
 *        ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT
 *        SCONJ SYM VERB X
 *   dep  the 37 universal dependency relations (subtype stripped),
 *        alphabetical; "dep" (unspecified dependency) is the fallback for
 *        a relation outside the list (xf_deprel_id).
 *   ner  IOB2 tags in Hugging Face WikiANN order:
 *        O B-PER I-PER B-ORG I-ORG B-LOC I-LOC
 *   nli  XNLI order: entailment neutral contradiction
 *   mlm, qa  no label vocabulary (count 0).
 */
#ifndef XF_LABELS_H
#define XF_LABELS_H

typedef enum {
    XF_TASK_INVALID = -1,
    XF_TASK_MLM = 0,
    XF_TASK_POS,
    XF_TASK_DEP,
    XF_TASK_NER,
    XF_TASK_NLI,
    XF_TASK_QA,
    XF_TASK_COUNT
} xf_task;

/* "mlm" "pos" "dep" "ner" "nli" "qa" -> task; XF_TASK_INVALID otherwise. */
xf_task xf_task_parse(const char *name);
/* Task name; "?" for an invalid task. */
const char *xf_task_name(xf_task task);

/* The task's label vocabulary.  For dep these are the relations; the
 * per-word tags that dep rows may also carry are UPOS (XF_TASK_POS). */
int xf_label_count(xf_task task);
/* Id of NAME in the task's vocabulary (exact match), -1 if unknown. */
int xf_label_id(xf_task task, const char *name);
/* Name of label ID; NULL when ID is out of range. */
const char *xf_label_name(xf_task task, int id);

/* A CoNLL-U DEPREL ("nsubj:pass", "acl:relcl") -> relation id: subtype
 * after ':' stripped, anything outside the 37 relations -> "dep". */
int xf_deprel_id(const char *deprel);
/* The id of "dep" (the fallback relation) and of "root". */
int xf_deprel_fallback(void);
int xf_deprel_root(void);

#endif
