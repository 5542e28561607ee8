/* test_metrics.c — every metric of metrics.h against hand-computed cases,
 * including the seqeval chunking edge cases, the SQuAD normalisation, the
 * CoNLL 2018 UAS/LAS conventions and empty inputs. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define NEAR(a, b) cr_assert(fabs((double)(a) - (double)(b)) < 1e-9, "%s = %.12g, expected %.12g", #a, (double)(a), (double)(b))

/* ---- accuracy ---- */

Test(metrics, upos_accuracy_over_all_words)
{
    const char *g1[] = { "DET", "NOUN", "PUNCT" }, *p1[] = { "DET", "VERB", "PUNCT" };
    const char *g2[] = { "PRON" }, *p2[] = { "PRON" };
    xf_acc a = { 0 };
    xf_acc_add_names(&a, g1, p1, 3);
    xf_acc_add_names(&a, g2, p2, 1);
    xf_metric m = xf_acc_finish(&a);
    NEAR(m.value, 75.0);
    cr_assert_eq(m.n, 4);
}

Test(metrics, nli_accuracy_and_empty)
{
    int32_t g[] = { 0, 1, 2, 2, 1 }, p[] = { 0, 2, 2, 2, 0 };
    xf_acc a = { 0 };
    xf_metric e = xf_acc_finish(&a);
    cr_assert(isnan(e.value));
    cr_assert_eq(e.n, 0);
    xf_acc_add_ids(&a, g, p, 5);
    xf_metric m = xf_acc_finish(&a);
    NEAR(m.value, 60.0);
    cr_assert_eq(m.n, 5);
}

/* ---- dependency parsing ---- */

Test(metrics, uas_las_subtypes_stripped)
{
    int32_t gh[] = { 2, 0, 2, 2 }, ph[] = { 2, 0, 1, 2 };
    const char *gr[] = { "nsubj:pass", "root", "obj", "punct" };
    const char *pr[] = { "nsubj", "root", "obj", "obl" };
    xf_dep_acc a = { 0 };
    xf_dep_add(&a, gh, gr, ph, pr, 4);
    /* heads right: words 1, 2, 4 → UAS 3/4; relations right among them: 1 (subtype stripped), 2 → LAS 2/4 */
    NEAR(xf_dep_uas(&a).value, 75.0);
    NEAR(xf_dep_las(&a).value, 50.0);
    cr_assert_eq(xf_dep_las(&a).n, 4);
    cr_assert(xf_deprel_equal("acl:relcl", "acl"));
    cr_assert(xf_deprel_equal("obl:tmod", "obl:npmod"));
    cr_assert(!xf_deprel_equal("obl", "obj"));
    cr_assert(!xf_deprel_equal("nsubj", "nsubjx"));
}

Test(metrics, all_punctuation_sentence_counts_every_word)
{
    /* "! ? ." — punctuation is scored like any word (conll18_ud_eval) */
    int32_t gh[] = { 0, 1, 1 }, ph[] = { 0, 1, 2 };
    const char *gr[] = { "root", "punct", "punct" }, *pr[] = { "root", "punct", "punct" };
    xf_dep_acc a = { 0 };
    xf_dep_add(&a, gh, gr, ph, pr, 3);
    NEAR(xf_dep_uas(&a).value, 200.0 / 3);
    NEAR(xf_dep_las(&a).value, 200.0 / 3);
    cr_assert_eq(xf_dep_uas(&a).n, 3);
}

Test(metrics, las_needs_head_and_relation)
{
    /* right relation at a wrong head does not count for LAS */
    int32_t gh[] = { 0, 1 }, ph[] = { 0, 0 };
    const char *gr[] = { "root", "obj" }, *pr[] = { "root", "obj" };
    xf_dep_acc a = { 0 };
    xf_dep_add(&a, gh, gr, ph, pr, 2);
    NEAR(xf_dep_uas(&a).value, 50.0);
    NEAR(xf_dep_las(&a).value, 50.0);
    xf_dep_acc e = { 0 };
    cr_assert(isnan(xf_dep_uas(&e).value));
    cr_assert_eq(xf_dep_las(&e).n, 0);
}

/* ---- NER chunking (seqeval get_entities) ---- */

static void expect_entities(const char *const *tags, int n, const char *want)
{
    xf_entity e[32];
    int k = xf_ner_entities(tags, n, e);
    char got[512] = "";
    for (int i = 0; i < k; i++) {
        char one[64];
        snprintf(one, sizeof one, "%s%.*s:%d-%d", i ? " " : "", e[i].type_len, e[i].type, e[i].start, e[i].end);
        strcat(got, one);
    }
    cr_assert_str_eq(got, want);
}

Test(metrics, seqeval_chunks_basic_and_sentence_end)
{
    const char *t[] = { "B-PER", "I-PER", "O", "B-LOC" };
    expect_entities(t, 4, "PER:0-1 LOC:3-3");
    const char *u[] = { "O", "B-ORG", "I-ORG" };   /* entity running to the end */
    expect_entities(u, 3, "ORG:1-2");
    const char *o[] = { "O", "O" };
    expect_entities(o, 2, "");
    expect_entities(o, 0, "");
}

Test(metrics, seqeval_i_without_b_starts_entity)
{
    const char *t[] = { "O", "I-PER", "I-PER", "O", "I-LOC" };
    expect_entities(t, 5, "PER:1-2 LOC:4-4");
    const char *u[] = { "I-MISC" };
    expect_entities(u, 1, "MISC:0-0");
}

Test(metrics, seqeval_type_change_starts_entity)
{
    const char *t[] = { "B-PER", "I-LOC", "I-LOC", "B-LOC" };
    expect_entities(t, 4, "PER:0-0 LOC:1-2 LOC:3-3");
    const char *u[] = { "I-PER", "B-PER" };   /* B after I of the same type: a new entity */
    expect_entities(u, 2, "PER:0-0 PER:1-1");
}

Test(metrics, seqeval_single_tokens_and_iobes)
{
    const char *t[] = { "B-PER", "B-PER", "O", "B-ORG" };
    expect_entities(t, 4, "PER:0-0 PER:1-1 ORG:3-3");
    const char *u[] = { "S-PER", "B-LOC", "E-LOC", "E-LOC" };
    expect_entities(u, 4, "PER:0-0 LOC:1-2 LOC:3-3");
}

Test(metrics, ner_micro_f1_across_sentences)
{
    xf_ner_acc a = { 0 };
    const char *g1[] = { "B-PER", "I-PER", "O", "B-LOC" }, *p1[] = { "B-PER", "I-PER", "O", "B-ORG" };
    const char *g2[] = { "B-LOC", "I-LOC" }, *p2[] = { "B-LOC", "I-LOC" };
    const char *g3[] = { "O", "B-MISC" }, *p3[] = { "I-PER", "I-MISC" };   /* I-MISC after I-PER: MISC:1-1 */
    xf_ner_add(&a, g1, p1, 4);
    xf_ner_add(&a, g2, p2, 2);
    xf_ner_add(&a, g3, p3, 2);
    /* gold 4 entities, pred 5, correct 3 (PER 0-1, LOC 0-1, MISC 1-1) */
    cr_assert_eq(a.gold, 4);
    cr_assert_eq(a.pred, 5);
    cr_assert_eq(a.correct, 3);
    double p = 3.0 / 5, r = 3.0 / 4;
    NEAR(xf_ner_f1(&a).value, 100 * 2 * p * r / (p + r));
    cr_assert_eq(xf_ner_f1(&a).n, 4);
    NEAR(xf_ner_precision(&a).value, 60.0);
    NEAR(xf_ner_recall(&a).value, 75.0);
}

Test(metrics, ner_boundary_mismatch_is_wrong)
{
    xf_ner_acc a = { 0 };
    const char *g[] = { "B-PER", "I-PER", "I-PER" }, *p[] = { "B-PER", "I-PER", "O" };
    xf_ner_add(&a, g, p, 3);
    NEAR(xf_ner_f1(&a).value, 0.0);
}

Test(metrics, ner_empty_predictions)
{
    xf_ner_acc a = { 0 };
    const char *g[] = { "B-PER", "O", "B-LOC" }, *p[] = { "O", "O", "O" };
    xf_ner_add(&a, g, p, 3);
    xf_metric m = xf_ner_f1(&a);
    NEAR(m.value, 0.0);   /* seqeval: precision undefined → 0, f1 0 */
    cr_assert_eq(m.n, 2);
    cr_assert(isnan(xf_ner_precision(&a).value));
    xf_ner_acc e = { 0 };
    cr_assert(isnan(xf_ner_f1(&e).value));
}

/* ---- SQuAD ---- */

static void expect_norm(const char *in, const char *want)
{
    char *got = xf_squad_normalize(in);
    cr_assert_str_eq(got, want, "normalize(\"%s\")", in);
    free(got);
}

Test(metrics, squad_normalize_ascii)
{
    expect_norm("The  Cat, sat!", "cat sat");
    expect_norm("An apple a day", "apple day");
    expect_norm("theatre anthem", "theatre anthem");   /* articles only as whole words */
    expect_norm("the_", "");                           /* '_' is punctuation, removed first */
    expect_norm("U.S.A. (1990)", "usa 1990");
    expect_norm("a-the", "athe");                      /* '-' removed before articles */
    expect_norm("  \t\n", "");
    expect_norm("", "");
}

Test(metrics, squad_normalize_unicode)
{
    expect_norm("Élan THE Über", "élan über");
    expect_norm("theé thé", "theé thé");                /* é is a word character: no boundary */
    expect_norm("the\xe2\x80\x94x", "\xe2\x80\x94x");   /* em dash is not \w: "the" is a word */
    expect_norm("x\xc2\xa0\xc2\xa0y", "x y");           /* NBSP is whitespace for split() */
    expect_norm("\xe2\x80\x9cquoted\xe2\x80\x9d", "\xe2\x80\x9cquoted\xe2\x80\x9d"); /* non-ASCII punctuation kept */
    expect_norm("\xce\x91\xce\x98\xce\x97\xce\x9d\xce\x91", "\xce\xb1\xce\xb8\xce\xb7\xce\xbd\xce\xb1"); /* ΑΘΗΝΑ → αθηνα */
}

/* str.lower() is the full mapping (values from CPython 3.11) */
Test(metrics, squad_normalize_python_lower)
{
    expect_norm("\xce\x9f\xce\x94\xce\x9f\xce\xa3", "\xce\xbf\xce\xb4\xce\xbf\xcf\x82");          /* ΟΔΟΣ → οδος (final ς) */
    expect_norm("\xce\x9f\xce\x94\xce\x9f\xce\xa3.", "\xce\xbf\xce\xb4\xce\xbf\xcf\x82");         /* '.' is case-ignorable */
    expect_norm("\xce\xa3\xce\x91", "\xcf\x83\xce\xb1");                                      /* ΣΑ → σα */
    expect_norm("\xce\xa3", "\xcf\x83");                                                      /* Σ alone → σ */
    expect_norm("\xce\x9f\xce\xa3'\xce\x91", "\xce\xbf\xcf\x83\xce\xb1");  /* ΟΣ'Α: a cased letter follows → σ; ' then removed */
    expect_norm("A\xce\xa3\xcc\x81 b", "a\xcf\x82\xcc\x81 b");                               /* combining acute skipped */
    expect_norm("\xc4\xb0stanbul", "i\xcc\x87stanbul");                                     /* İ → i + U+0307 */
    cr_assert_eq(xf_squad_exact("\xce\x9f\xce\x94\xce\x9f\xce\xa3", "\xce\xbf\xce\xb4\xce\xbf\xcf\x82"), 1);
    NEAR(xf_squad_token_f1("\xce\x9f\xce\x94\xce\x9f\xce\xa3 x", "\xce\xbf\xce\xb4\xce\xbf\xcf\x82"), 2.0 / 3);
}

Test(metrics, squad_token_f1_and_em)
{
    cr_assert_eq(xf_squad_exact("The Eiffel  Tower.", "eiffel tower"), 1);
    cr_assert_eq(xf_squad_exact("Eiffel", "eiffel tower"), 0);
    NEAR(xf_squad_token_f1("Tower in Paris", "Eiffel Tower"), 0.4);
    NEAR(xf_squad_token_f1("Tower in Paris", "Paris"), 0.5);
    NEAR(xf_squad_token_f1("x x y", "x y y"), 2.0 / 3);   /* multiset overlap */
    NEAR(xf_squad_token_f1("", "the"), 0.0);               /* both empty: no common token → 0 */
    cr_assert_eq(xf_squad_exact("", "the"), 1);
}

Test(metrics, squad_max_over_golds)
{
    xf_squad_acc a = { 0 };
    const char *g1[] = { "Eiffel Tower", "Paris" };
    xf_squad_add(&a, "Tower in Paris", g1, 2);           /* EM 0, F1 max(0.4, 0.5) */
    const char *g2[] = { "1990", "in 1990" };
    xf_squad_add(&a, "In 1990.", g2, 2);                  /* EM 1 via the second gold, F1 1 */
    xf_metric em = xf_squad_em(&a), f1 = xf_squad_f1(&a);
    NEAR(em.value, 50.0);
    NEAR(f1.value, 75.0);
    cr_assert_eq(em.n, 2);
    xf_squad_acc e = { 0 };
    cr_assert(isnan(xf_squad_em(&e).value));
}

Test(metrics, squad_question_without_gold_dies, .exit_code = 1)
{
    xf_squad_acc a = { 0 };
    xf_squad_add(&a, "x", NULL, 0);
}
