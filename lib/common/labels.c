/* labels.c — see labels.h. */
#include "labels.h"

#include <string.h>

static const char *const task_names[XF_TASK_COUNT] = {"mlm", "pos", "dep", "ner", "nli", "qa"};

static const char *const upos[] = {
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
    "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
};

/* https://universaldependencies.org/u/dep/ — the 37 universal relations. */
static const char *const deprels[] = {
    "acl", "advcl", "advmod", "amod", "appos", "aux", "case", "cc", "ccomp",
    "clf", "compound", "conj", "cop", "csubj", "dep", "det", "discourse",
    "dislocated", "expl", "fixed", "flat", "goeswith", "iobj", "list", "mark",
    "nmod", "nsubj", "nummod", "obj", "obl", "orphan", "parataxis", "punct",
    "reparandum", "root", "vocative", "xcomp",
};

/* Order of the HF "wikiann" dataset's ner_tags feature. */
static const char *const ner[] = {"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"};

/* Order of the HF "xnli" dataset's label feature. */
static const char *const nli[] = {"entailment", "neutral", "contradiction"};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

_Static_assert(sizeof(upos) / sizeof(upos[0]) == 17, "17 UPOS tags");
_Static_assert(sizeof(deprels) / sizeof(deprels[0]) == 37, "37 UD relations");

static const char *const *vocab(xf_task task, int *n)
{
    switch (task) {
    case XF_TASK_POS: *n = N(upos); return upos;
    case XF_TASK_DEP: *n = N(deprels); return deprels;
    case XF_TASK_NER: *n = N(ner); return ner;
    case XF_TASK_NLI: *n = N(nli); return nli;
    default: *n = 0; return NULL;
    }
}

xf_task xf_task_parse(const char *name)
{
    if (!name) return XF_TASK_INVALID;
    for (int i = 0; i < XF_TASK_COUNT; i++)
        if (!strcmp(name, task_names[i])) return (xf_task)i;
    return XF_TASK_INVALID;
}

const char *xf_task_name(xf_task task)
{
    return task >= 0 && task < XF_TASK_COUNT ? task_names[task] : "?";
}

int xf_label_count(xf_task task)
{
    int n;
    vocab(task, &n);
    return n;
}

int xf_label_id(xf_task task, const char *name)
{
    int n;
    const char *const *v = vocab(task, &n);
    if (!name) return -1;
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i], name)) return i;
    return -1;
}

const char *xf_label_name(xf_task task, int id)
{
    int n;
    const char *const *v = vocab(task, &n);
    return id >= 0 && id < n ? v[id] : NULL;
}

int xf_deprel_fallback(void) { return xf_label_id(XF_TASK_DEP, "dep"); }
int xf_deprel_root(void) { return xf_label_id(XF_TASK_DEP, "root"); }

int xf_deprel_id(const char *deprel)
{
    char base[32];
    size_t len = strcspn(deprel, ":");
    if (len >= sizeof base) return xf_deprel_fallback();
    memcpy(base, deprel, len);
    base[len] = 0;
    int id = xf_label_id(XF_TASK_DEP, base);
    return id >= 0 ? id : xf_deprel_fallback();
}
