/* test_labels.c — the fixed label vocabularies (labels.h). */
#include <criterion/criterion.h>
#include <string.h>

#include "labels.h"

Test(labels, counts)
{
    cr_assert_eq(xf_label_count(XF_TASK_POS), 17);
    cr_assert_eq(xf_label_count(XF_TASK_DEP), 37);
    cr_assert_eq(xf_label_count(XF_TASK_NER), 7);
    cr_assert_eq(xf_label_count(XF_TASK_NLI), 3);
    cr_assert_eq(xf_label_count(XF_TASK_MLM), 0);
    cr_assert_eq(xf_label_count(XF_TASK_QA), 0);
}

Test(labels, hf_orders)
{
    static const char *ner[] = {"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"};
    for (int i = 0; i < 7; i++) cr_assert_str_eq(xf_label_name(XF_TASK_NER, i), ner[i]);
    cr_assert_str_eq(xf_label_name(XF_TASK_NLI, 0), "entailment");
    cr_assert_str_eq(xf_label_name(XF_TASK_NLI, 1), "neutral");
    cr_assert_str_eq(xf_label_name(XF_TASK_NLI, 2), "contradiction");
    cr_assert_str_eq(xf_label_name(XF_TASK_POS, 0), "ADJ");
    cr_assert_str_eq(xf_label_name(XF_TASK_POS, 16), "X");
}

Test(labels, round_trip_every_label)
{
    for (xf_task t = XF_TASK_MLM; t < XF_TASK_COUNT; t++)
        for (int i = 0; i < xf_label_count(t); i++) {
            const char *n = xf_label_name(t, i);
            cr_assert_not_null(n);
            cr_assert_eq(xf_label_id(t, n), i, "%s %s", xf_task_name(t), n);
        }
    cr_assert_null(xf_label_name(XF_TASK_POS, 17));
    cr_assert_null(xf_label_name(XF_TASK_POS, -1));
    cr_assert_eq(xf_label_id(XF_TASK_POS, "noun"), -1);   /* case matters */
    cr_assert_eq(xf_label_id(XF_TASK_NER, "B-MISC"), -1);
    cr_assert_eq(xf_label_id(XF_TASK_QA, "O"), -1);
}

Test(labels, deprel_subtype_and_fallback)
{
    cr_assert_eq(xf_deprel_id("nsubj:pass"), xf_label_id(XF_TASK_DEP, "nsubj"));
    cr_assert_eq(xf_deprel_id("acl:relcl"), xf_label_id(XF_TASK_DEP, "acl"));
    cr_assert_eq(xf_deprel_id("obl"), xf_label_id(XF_TASK_DEP, "obl"));
    cr_assert_eq(xf_deprel_id("root"), xf_deprel_root());
    cr_assert_eq(xf_deprel_id("subj"), xf_deprel_fallback());        /* not universal */
    cr_assert_eq(xf_deprel_id("_"), xf_deprel_fallback());
    cr_assert_str_eq(xf_label_name(XF_TASK_DEP, xf_deprel_fallback()), "dep");
    cr_assert_eq(xf_label_id(XF_TASK_DEP, "nsubj:pass"), -1);        /* stream names are stripped */
}

Test(labels, tasks)
{
    static const char *names[] = {"mlm", "pos", "dep", "ner", "nli", "qa"};
    for (int i = 0; i < 6; i++) {
        xf_task t = xf_task_parse(names[i]);
        cr_assert_neq(t, XF_TASK_INVALID);
        cr_assert_str_eq(xf_task_name(t), names[i]);
    }
    cr_assert_eq(xf_task_parse("POS"), XF_TASK_INVALID);
    cr_assert_eq(xf_task_parse(""), XF_TASK_INVALID);
    cr_assert_eq(xf_task_parse(NULL), XF_TASK_INVALID);
    cr_assert_str_eq(xf_task_name(XF_TASK_INVALID), "?");
}
