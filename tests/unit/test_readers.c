/* test_readers.c — source formats -> examples (readers.h) with a tiny
 * hand-made WordPiece vocabulary: CoNLL-U with multiword tokens and empty
 * nodes, sentence splitting, IOB, NLI pairs and truncation, SQuAD windows
 * with answer mapping, MLM grouping, language guessing, UTF-8 errors. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "readers.h"
#include "util.h"
#include "testutil.h"

/*  0 [PAD] 1 [UNK] 2 [CLS] 3 [SEP] 4 [MASK] 5 the 6 cat 7 sat 8 on 9 mat
 * 10 ##s 11 a 12 dog 13 . 14 , 15 new 16 york */
static const char *vocab[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat",
                              "on", "mat", "##s", "a", "dog", ".", ",", "new", "york"};
enum { CLS = 2, SEP = 3, THE = 5, CAT = 6, SAT = 7, ON = 8, MAT = 9, S = 10, A = 11, DOG = 12, DOT = 13 };

typedef struct { xf_example *v; size_t n; } collected;

static void collect(void *ctx, const xf_example *ex)
{
    collected *c = ctx;
    c->v = realloc(c->v, (c->n + 1) * sizeof *c->v);
    xf_ex_init(&c->v[c->n]);
    xf_ex_copy(&c->v[c->n++], ex);
}

static xf_tokenizer *tk;
static collected got;
static xf_exwriter enc;

static void setup(void)
{
    tk = xf_tok_wordpiece_new(vocab, sizeof vocab / sizeof *vocab, 0);
    memset(&got, 0, sizeof got);
}

static void start(xf_task task, size_t seq)
{
    xf_exwriter_init(&enc, tk, "eng", task, seq, collect, &got);
}

static char *tmp_with(const char *content)
{
    return temp_file_with("/tmp/xf-test-rd-XXXXXX", content);
}

/* Runs READ on a temp file holding CONTENT, unlinked before reading (so
 * that tests that die leave nothing) and read as /proc/self/fd/N. */
static void run(void (*read)(xf_exwriter *, const char *), const char *content)
{
    char *path = tmp_with(content), proc[64];
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    unlink(path);
    free(path);
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fileno(f));
    read(&enc, proc);
    fclose(f);
    xf_exwriter_finish(&enc);
}

static void assert_ids(const xf_example *ex, const int32_t *want, size_t n)
{
    cr_assert_eq(ex->n, n, "%zu tokens, want %zu", ex->n, n);
    for (size_t i = 0; i < n; i++) cr_assert_eq(ex->ids[i], want[i], "token %zu", i);
}

#define IDS(ex, ...) do { int32_t w_[] = {__VA_ARGS__}; assert_ids(ex, w_, sizeof w_ / sizeof *w_); } while (0)

static const char *CONLLU =
    "# newdoc id = d1\n"
    "# sent_id = s1\n"
    "# text = the cats sat on the mat.\n"
    "1\tthe\tthe\tDET\t_\t_\t2\tdet\t_\t_\n"
    "2\tcats\tcat\tNOUN\t_\t_\t3\tnsubj:pass\t_\t_\n"
    "3\tsat\tsit\tVERB\t_\t_\t0\troot\t_\t_\n"
    "3.1\tsat\tsit\tVERB\t_\t_\t_\t_\t2:nsubj\t_\n"
    "4-5\tonthe\t_\t_\t_\t_\t_\t_\t_\t_\n"
    "4\ton\ton\tADP\t_\t_\t6\tcase\t_\t_\n"
    "5\tthe\tthe\tDET\t_\t_\t6\tdet\t_\t_\n"
    "6\tmat\tmat\tNOUN\t_\t_\t3\tobl:weird\t_\t_\n"
    "7\t.\t.\tPUNCT\t_\t_\t3\tfoo\t_\t_\n"
    "\n"
    "# text = a dog\n"
    "1\ta\ta\tDET\t_\t_\t2\tdet\t_\t_\n"
    "2\tdog\tdog\tNOUN\t_\t_\t0\troot\t_\t_";   /* no final newline */

TestSuite(readers, .init = setup);

Test(readers, conllu_pos)
{
    start(XF_TASK_POS, 0);
    run(xf_read_conllu, CONLLU);
    cr_assert_eq(got.n, 2);
    xf_example *e = &got.v[0];
    cr_assert_str_eq(e->id, "s1");
    cr_assert_str_eq(e->lang, "eng");
    IDS(e, CLS, THE, CAT, S, SAT, ON, THE, MAT, DOT, SEP);
    cr_assert_eq(e->nwords, 7);   /* range 4-5 and empty node 3.1 skipped */
    int32_t ws[] = {1, 2, 4, 5, 6, 7, 8}, we[] = {2, 4, 5, 6, 7, 8, 9};
    const char *up[] = {"DET", "NOUN", "VERB", "ADP", "DET", "NOUN", "PUNCT"};
    for (int w = 0; w < 7; w++) {
        cr_assert_eq(e->wstart[w], ws[w]);
        cr_assert_eq(e->wend[w], we[w]);
        cr_assert_str_eq(xf_label_name(XF_TASK_POS, e->labels[w]), up[w]);
    }
    cr_assert(!e->has_types);
    /* no sent_id: FILE:LINE of the sentence's first line */
    cr_assert(strstr(got.v[1].id, ":14") != NULL, "%s", got.v[1].id);
    IDS(&got.v[1], CLS, A, DOG, SEP);
    cr_assert_eq(enc.st.sources, 2);
    cr_assert_eq(enc.st.words, 9);
}

Test(readers, conllu_dep)
{
    start(XF_TASK_DEP, 0);
    run(xf_read_conllu, CONLLU);
    xf_example *e = &got.v[0];
    int32_t heads[] = {2, 3, 0, 6, 6, 3, 3};
    const char *rels[] = {"det", "nsubj", "root", "case", "det", "obl", "dep"};
    for (int w = 0; w < 7; w++) {
        cr_assert_eq(e->heads[w], heads[w]);
        cr_assert_str_eq(xf_label_name(XF_TASK_DEP, e->rels[w]), rels[w]);
    }
    cr_assert(e->has_labels);   /* UPOS rides along */
}

Test(readers, conllu_split_at_word_boundaries)
{
    start(XF_TASK_DEP, 5);   /* 3 subwords per piece */
    run(xf_read_conllu, CONLLU);
    cr_assert_eq(got.n, 4);
    cr_assert_str_eq(got.v[0].id, "s1");
    cr_assert_str_eq(got.v[1].id, "s1#2");
    cr_assert_str_eq(got.v[2].id, "s1#3");
    IDS(&got.v[0], CLS, THE, CAT, S, SEP);
    IDS(&got.v[1], CLS, SAT, ON, THE, SEP);
    IDS(&got.v[2], CLS, MAT, DOT, SEP);
    /* heads renumbered inside a piece; -1 when the head is elsewhere */
    cr_assert_eq(got.v[0].heads[0], 2);
    cr_assert_eq(got.v[0].heads[1], -1);
    cr_assert_eq(got.v[1].heads[0], 0);
    cr_assert_eq(got.v[1].heads[1], -1);
    cr_assert_eq(got.v[2].heads[0], -1);
    cr_assert_eq(enc.st.split, 1);
    size_t words = 0;
    for (size_t i = 0; i < got.n; i++) words += got.v[i].nwords;
    cr_assert_eq(words, 9);   /* nothing lost */
}

Test(readers, long_word_keeps_first_subwords)
{
    start(XF_TASK_POS, 3);   /* one subword per piece */
    run(xf_read_conllu, "1\tcats\tcat\tNOUN\t_\t_\t0\troot\t_\t_\n2\ton\ton\tADP\t_\t_\t1\tcase\t_\t_\n");
    cr_assert_eq(got.n, 2);
    IDS(&got.v[0], CLS, CAT, SEP);
    IDS(&got.v[1], CLS, ON, SEP);
    cr_assert_eq(enc.st.truncated, 1);
    cr_assert_eq(enc.st.tokens_cut, 1);
}

Test(readers, word_without_subwords_becomes_unk)
{
    start(XF_TASK_POS, 0);
    /* U+200B (Cf) is removed by BERT's cleaning: the word has no subword */
    run(xf_read_conllu, "1\tthe\tthe\tDET\t_\t_\t0\troot\t_\t_\n2\t\xe2\x80\x8b\t_\tX\t_\t_\t1\tdep\t_\t_\n");
    IDS(&got.v[0], CLS, THE, 1, SEP);
    cr_assert_eq(got.v[0].nwords, 2);
    cr_assert_eq(enc.st.empty_words, 1);
}

Test(readers, conllu_bad_upos, .exit_code = 1)
{
    start(XF_TASK_POS, 0);
    run(xf_read_conllu, "1\tthe\tthe\tDETX\t_\t_\t0\troot\t_\t_\n");
}

Test(readers, conllu_bad_fields, .exit_code = 1)
{
    start(XF_TASK_POS, 0);
    run(xf_read_conllu, "1\tthe\tthe\tDET\t_\t_\t0\troot\n");
}

Test(readers, conllu_head_beyond_sentence, .exit_code = 1)
{
    start(XF_TASK_DEP, 0);
    run(xf_read_conllu, "1\tthe\tthe\tDET\t_\t_\t5\tdet\t_\t_\n");
}

Test(readers, conllu_invalid_utf8, .exit_code = 1)
{
    start(XF_TASK_POS, 0);
    run(xf_read_conllu, "1\tth\xff\tthe\tDET\t_\t_\t0\troot\t_\t_\n");
}

Test(readers, conllu_text_lines)
{
    start(XF_TASK_MLM, 0);
    enc.line_by_line = 1;
    run(xf_read_conllu_text, CONLLU);
    cr_assert_eq(got.n, 2);
    IDS(&got.v[0], CLS, THE, CAT, S, SAT, ON, THE, MAT, DOT, SEP);
    IDS(&got.v[1], CLS, A, DOG, SEP);
}

Test(readers, iob)
{
    start(XF_TASK_NER, 0);
    run(xf_read_iob, "the\tO\nnew\tB-LOC\nyork\tI-LOC\n\n\ncats\tB-PER\n");
    cr_assert_eq(got.n, 2);
    IDS(&got.v[0], CLS, THE, 15, 16, SEP);
    cr_assert_eq(got.v[0].nwords, 3);
    cr_assert_str_eq(xf_label_name(XF_TASK_NER, got.v[0].labels[1]), "B-LOC");
    cr_assert_str_eq(xf_label_name(XF_TASK_NER, got.v[0].labels[2]), "I-LOC");
    IDS(&got.v[1], CLS, CAT, S, SEP);
    cr_assert_eq(got.v[1].wend[0], 3);
    cr_assert(strstr(got.v[1].id, ":6") != NULL, "%s", got.v[1].id);
}

Test(readers, iob_bad_tag, .exit_code = 1)
{
    start(XF_TASK_NER, 0);
    run(xf_read_iob, "the\tB-MISC\n");
}

Test(readers, iob_no_tab, .exit_code = 1)
{
    start(XF_TASK_NER, 0);
    run(xf_read_iob, "the O\n");
}

Test(readers, nli_pair)
{
    start(XF_TASK_NLI, 0);
    run(xf_read_nli, "premise\thypothesis\tlabel\nthe cat sat\ta dog\tcontradiction\n");
    cr_assert_eq(got.n, 1);
    xf_example *e = &got.v[0];
    IDS(e, CLS, THE, CAT, SAT, SEP, A, DOG, SEP);
    int32_t types[] = {0, 0, 0, 0, 0, 1, 1, 1};
    for (int i = 0; i < 8; i++) cr_assert_eq(e->types[i], types[i]);
    cr_assert_str_eq(xf_label_name(XF_TASK_NLI, e->label), "contradiction");
}

Test(readers, nli_truncation_longest_first)
{
    start(XF_TASK_NLI, 7);   /* 4 tokens for the pair */
    run(xf_read_nli, "label\thypothesis\tpremise\nneutral\ta dog\tthe cat sat on the\n");
    IDS(&got.v[0], CLS, THE, CAT, SEP, A, DOG, SEP);
    cr_assert_eq(enc.st.truncated, 1);
    cr_assert_eq(enc.st.tokens_cut, 3);
}

Test(readers, longest_first_rule)
{
    size_t a, b;
    a = 10, b = 10; xf_truncate_longest_first(&a, &b, 5); cr_assert(a == 2 && b == 3);
    a = 10, b = 2;  xf_truncate_longest_first(&a, &b, 8); cr_assert(a == 6 && b == 2);
    a = 1, b = 10;  xf_truncate_longest_first(&a, &b, 4); cr_assert(a == 1 && b == 3);
    a = 3, b = 3;   xf_truncate_longest_first(&a, &b, 10); cr_assert(a == 3 && b == 3);
    a = 9, b = 6;   xf_truncate_longest_first(&a, &b, 7); cr_assert(a == 4 && b == 3);
}

Test(readers, nli_missing_column, .exit_code = 1)
{
    start(XF_TASK_NLI, 0);
    run(xf_read_nli, "premise\thypo\tlabel\na\tb\tneutral\n");
}

Test(readers, nli_bad_label, .exit_code = 1)
{
    start(XF_TASK_NLI, 0);
    run(xf_read_nli, "premise\thypothesis\tlabel\na\tb\tentails\n");
}

static char *squad(const char *context, const char *question, const char *answer, long start)
{
    json_t *root = json_pack("{s:[{s:[{s:s,s:[{s:s,s:s,s:[{s:i,s:s}]}]}]}]}", "data", "paragraphs",
                             "context", context, "qas", "id", "q1", "question", question, "answers",
                             "answer_start", (json_int_t)start, "text", answer);
    cr_assert_not_null(root);
    char *s = json_dumps(root, 0);
    json_decref(root);
    return s;
}

Test(readers, squad_windows_and_answer_mapping)
{
    const char *ctx = "the cat sat on the mat. the dog sat on a mat.";
    char *js = squad(ctx, "  the cat", "dog", (long)(strstr(ctx, "dog") - ctx));
    start(XF_TASK_QA, 10);   /* room 10-3-2 = 5 context tokens, windows every 3 */
    enc.stride = 2;
    run(xf_read_squad, js);
    free(js);
    cr_assert_eq(got.n, 4);
    cr_assert_str_eq(got.v[0].id, "q1");
    cr_assert_str_eq(got.v[2].id, "q1#3");
    IDS(&got.v[0], CLS, THE, CAT, SEP, THE, CAT, SAT, ON, THE, SEP);
    IDS(&got.v[2], CLS, THE, CAT, SEP, DOT, THE, DOG, SAT, ON, SEP);
    IDS(&got.v[3], CLS, THE, CAT, SEP, SAT, ON, A, MAT, DOT, SEP);
    for (int w = 0; w < 4; w++) {
        int has = w == 2;
        cr_assert_eq(got.v[w].ans_start, has ? 6 : 0, "window %d", w);
        cr_assert_eq(got.v[w].ans_end, has ? 6 : 0, "window %d", w);
        cr_assert_eq(got.v[w].types[3], 0);
        cr_assert_eq(got.v[w].types[4], 1);
        cr_assert_eq(got.v[w].off_start[0], -1);
        cr_assert_eq(got.v[w].off_start[9], -1);
    }
    xf_example *e = &got.v[2];
    cr_assert_eq(e->off_start[6], strstr(ctx, "dog") - ctx);
    cr_assert_eq(e->off_end[6], strstr(ctx, "dog") - ctx + 3);
    json_t *x = xf_ex_extra_json(e, "test");
    cr_assert_str_eq(json_string_value(json_object_get(x, "qid")), "q1");
    cr_assert_str_eq(json_string_value(json_object_get(x, "context")), ctx);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(x, "answers"), 0)), "dog");
    json_decref(x);
    cr_assert_eq(enc.st.no_answer, 3);
}

Test(readers, squad_answer_start_counts_characters)
{
    /* "é" is 2 bytes but 1 character: answer_start 6 is byte 7 */
    char *js = squad("\xc3\xa9 the dog", "dog", "dog", 6);
    start(XF_TASK_QA, 0);
    run(xf_read_squad, js);
    free(js);
    cr_assert_eq(got.n, 1);
    IDS(&got.v[0], CLS, DOG, SEP, 1, THE, DOG, SEP);
    cr_assert_eq(got.v[0].ans_start, 5);
    cr_assert_eq(got.v[0].ans_end, 5);
    cr_assert_eq(got.v[0].off_start[5], 7);
}

Test(readers, squad_multi_token_answer)
{
    const char *ctx = "a cat sat on the mat";
    char *js = squad(ctx, "dog", "sat on the", (long)(strstr(ctx, "sat") - ctx));
    start(XF_TASK_QA, 0);
    run(xf_read_squad, js);
    free(js);
    cr_assert_eq(got.v[0].ans_start, 5);   /* [CLS] dog [SEP] a cat SAT on THE */
    cr_assert_eq(got.v[0].ans_end, 7);
}

Test(readers, squad_bad_json, .exit_code = 1)
{
    start(XF_TASK_QA, 0);
    run(xf_read_squad, "{\"data\": [");
}

Test(readers, squad_answer_outside_context, .exit_code = 1)
{
    char *js = squad("the dog", "dog", "dog", 40);
    start(XF_TASK_QA, 0);
    run(xf_read_squad, js);
}

Test(readers, mlm_group_texts)
{
    start(XF_TASK_MLM, 4);
    xf_mlm_add_line(&enc, "the cat sat", 11, "L1");   /* 5 tokens with CLS/SEP */
    xf_mlm_add_line(&enc, "the dog", 7, "L2");        /* 4 */
    xf_mlm_add_line(&enc, "   ", 3, "L-blank");       /* skipped */
    xf_mlm_add_line(&enc, "a mat", 5, "L3");          /* 4: 13 in all */
    xf_exwriter_finish(&enc);
    cr_assert_eq(got.n, 3);
    IDS(&got.v[0], CLS, THE, CAT, SAT);
    IDS(&got.v[1], SEP, CLS, THE, DOG);
    IDS(&got.v[2], SEP, CLS, A, MAT);
    cr_assert_str_eq(got.v[0].id, "L1");
    cr_assert_str_eq(got.v[1].id, "L1+4");
    cr_assert_str_eq(got.v[2].id, "L2+3");
    cr_assert_eq(enc.st.tail_tokens, 1);
    cr_assert_eq(enc.st.skipped, 1);
}

Test(readers, mlm_group_batches_drop_each_remainder)
{
    start(XF_TASK_MLM, 4);
    enc.group_lines = 2;   /* as datasets.map batches of 2 */
    xf_mlm_add_line(&enc, "the cat sat", 11, "L1");
    xf_mlm_add_line(&enc, "the dog", 7, "L2");   /* batch: 9 -> 2 blocks, 1 dropped */
    xf_mlm_add_line(&enc, "a mat", 5, "L3");     /* batch: 4 -> 1 block */
    xf_exwriter_finish(&enc);
    cr_assert_eq(got.n, 3);
    IDS(&got.v[2], CLS, A, MAT, SEP);
    cr_assert_str_eq(got.v[2].id, "L3");
    cr_assert_eq(enc.st.tail_tokens, 1);
}

Test(readers, mlm_line_by_line_truncates)
{
    start(XF_TASK_MLM, 4);
    enc.line_by_line = 1;
    run(xf_read_text, "the cat sat\n\nthe dog\n");
    cr_assert_eq(got.n, 2);
    IDS(&got.v[0], CLS, THE, CAT, SEP);
    IDS(&got.v[1], CLS, THE, DOG, SEP);
    cr_assert(strstr(got.v[1].id, ":3") != NULL);
    cr_assert_eq(enc.st.truncated, 1);
    cr_assert_eq(enc.st.tokens_cut, 1);
}

Test(readers, text_invalid_utf8, .exit_code = 1)
{
    start(XF_TASK_MLM, 0);
    run(xf_read_text, "the cat\nthe \xc3\x28 dog\n");   /* bad continuation byte */
}

Test(readers, utf8_rules)
{
    xf_check_utf8("\xf0\x9f\x98\x80 \xe2\x82\xac \xc3\xa9", 11, "x", 1);   /* valid */
}
Test(readers, utf8_overlong, .exit_code = 1) { xf_check_utf8("\xc0\xaf", 2, "x", 1); }
Test(readers, utf8_surrogate, .exit_code = 1) { xf_check_utf8("\xed\xa0\x80", 3, "x", 1); }
Test(readers, utf8_truncated, .exit_code = 1) { xf_check_utf8("a\xe2\x82", 3, "x", 1); }

Test(readers, guess_lang)
{
    char l[16];
    cr_assert(xf_guess_lang("../shared/data/ud/eng_ewt/test.conllu.zst", l)); cr_assert_str_eq(l, "eng");
    cr_assert(xf_guess_lang("/d/ner/deu/dev.iob.zst", l)); cr_assert_str_eq(l, "deu");
    cr_assert(xf_guess_lang("text/yor.txt.zst", l)); cr_assert_str_eq(l, "yor");
    cr_assert(xf_guess_lang("data/nli/xnli_dev/fra.tsv.zst", l)); cr_assert_str_eq(l, "fra");
    cr_assert(xf_guess_lang("qa/tydiqa_goldp_train/kor.json.zst", l)); cr_assert_str_eq(l, "kor");
    cr_assert(!xf_guess_lang("corpus/bar.txt", l));
    cr_assert(!xf_guess_lang("-", l));
    cr_assert(!xf_guess_lang("ud/English_EWT/test.conllu", l));
}

Test(readers, default_seq)
{
    cr_assert_eq(xf_task_default_seq(XF_TASK_MLM), 512);
    cr_assert_eq(xf_task_default_seq(XF_TASK_POS), 256);
    cr_assert_eq(xf_task_default_seq(XF_TASK_NER), 256);
    cr_assert_eq(xf_task_default_seq(XF_TASK_NLI), 128);
    cr_assert_eq(xf_task_default_seq(XF_TASK_QA), 384);
}

/* ---- CoNLL-U HEAD: range-checked, messages at the word's own line ---- */

static void read_dep(void *ctx)
{
    start(XF_TASK_DEP, 0);
    run(xf_read_conllu, ctx);
}

static void expect_conllu_error(const char *content, const char *want)
{
    char err[] = "/tmp/xf-test-rd-err-XXXXXX";
    int fd = mkstemp(err);
    cr_assert(fd >= 0);
    close(fd);
    int st = run_in_child(read_dep, (void *)content, err);
    FILE *f = fopen(err, "r");
    char msg[1024] = "";
    if (f) {
        size_t n = fread(msg, 1, sizeof msg - 1, f);
        msg[n] = 0;
        fclose(f);
    }
    unlink(err);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit status %d", st);
    cr_assert(strstr(msg, want), "message '%s' lacks '%s'", msg, want);
}

Test(readers, conllu_head_out_of_range)
{
    /* 4294967298 used to become 2 (a cast to int32), a huge value -1 */
    expect_conllu_error("# sent_id = s\n1\tthe\tthe\tDET\t_\t_\t2\tdet\t_\t_\n"
                        "2\tcat\tcat\tNOUN\t_\t_\t4294967298\troot\t_\t_\n",
                        ":3: bad HEAD '4294967298'");
    expect_conllu_error("# sent_id = s\n1\tthe\tthe\tDET\t_\t_\t99999999999999999999\tdet\t_\t_\n",
                        ":2: bad HEAD '99999999999999999999'");
    expect_conllu_error("1\tthe\tthe\tDET\t_\t_\t-1\tdet\t_\t_\n", ":1: bad HEAD '-1'");
    /* beyond the sentence: the line of the word, not of the sentence */
    expect_conllu_error("# sent_id = s\n1\tthe\tthe\tDET\t_\t_\t2\tdet\t_\t_\n"
                        "2\tcat\tcat\tNOUN\t_\t_\t3\troot\t_\t_\n",
                        ":3: word 2: HEAD 3 beyond the sentence's 2 words");
}

/* ---- ids from the input that come out empty: the FILE:LINE fallback ---- */

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && !strcmp(s + n - k, tail);
}

/* Every example collected so far is one xf_ex_write accepts (the writer
 * dies, exit 1, on what a reader of example streams would reject). */
static void write_all(void)
{
    /* a path that does not exist yet: a new temp file may get the inode of
     * the (unlinked) input, and outputs that name an input are refused */
    char dir[] = "/tmp/xf-test-rd-out-XXXXXX", path[64];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ex.tsv", dir);
    xf_zout *z = xf_zout_open(path, XF_Z_OFF);
    xf_ex_write_header(z);
    for (size_t i = 0; i < got.n; i++) xf_ex_write(z, &got.v[i]);
    xf_zout_abort(z);
    rmdir(dir);
}

Test(readers, conllu_empty_sent_id_is_absent)
{
    /* the fuzz smoke's case: "# sent_id =" with nothing (or only blanks)
     * after it gave an example with an empty id, which xf_ex_write
     * rejected ("example : empty id") */
    start(XF_TASK_POS, 0);
    run(xf_read_conllu, "# sent_id =\n1\tthe\tthe\tDET\t_\t_\t0\troot\t_\t_\n\n"
                        "# sent_id =   \n1\tcat\tcat\tNOUN\t_\t_\t0\troot\t_\t_\n\n"
                        "# sent_id = \t \n1\tdog\tdog\tNOUN\t_\t_\t0\troot\t_\t_\n\n"
                        "# sent_id = s4 \n1\ta\ta\tDET\t_\t_\t0\troot\t_\t_\n");
    cr_assert_eq(got.n, 4);
    cr_assert(ends_with(got.v[0].id, ":1"), "id '%s'", got.v[0].id);
    cr_assert(ends_with(got.v[1].id, ":4"), "id '%s'", got.v[1].id);
    cr_assert(ends_with(got.v[2].id, ":7"), "id '%s'", got.v[2].id);
    cr_assert_str_eq(got.v[3].id, "s4");   /* trailing blanks are not part of it */
    write_all();
}

Test(readers, squad_empty_qid_is_absent)
{
    /* an empty question id: the question's place in the file instead (as
     * example id and as the qid that groups its windows) */
    start(XF_TASK_QA, 0);
    run(xf_read_squad, "{\"data\":[{\"paragraphs\":[{\"context\":\"the dog\",\"qas\":["
                       "{\"id\":\"\",\"question\":\"dog\",\"answers\":[{\"answer_start\":4,\"text\":\"dog\"}]},"
                       "{\"id\":\"q2\",\"question\":\"cat\",\"answers\":[]}]}]}]}");
    cr_assert_eq(got.n, 2);
    cr_assert(ends_with(got.v[0].id, ":data[0].paragraphs[0].qas[0]"), "id '%s'", got.v[0].id);
    json_t *x = xf_ex_extra_json(&got.v[0], "test");
    cr_assert_str_eq(json_string_value(json_object_get(x, "qid")), got.v[0].id);
    json_decref(x);
    cr_assert_str_eq(got.v[1].id, "q2");
    write_all();
}

Test(readers, bad_lang_refused_before_reading, .exit_code = 1)
{
    /* "e ng" would make every example one that xf_ex_write rejects */
    xf_exwriter_init(&enc, tk, "e ng", XF_TASK_MLM, 0, collect, &got);
}

Test(readers, dash_lang_refused, .exit_code = 1)
{
    xf_exwriter_init(&enc, tk, "-", XF_TASK_MLM, 0, collect, &got);
}
