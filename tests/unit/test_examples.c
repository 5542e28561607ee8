/* test_examples.c — example stream rows: write/read round trips, header
 * lines inside the stream (cat a b), and every malformed-row error. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "examples.h"
#include "util.h"
#include "zio.h"
#include "testutil.h"

static const char *HEADER = "lang\tid\ttask\tids\ttypes\twords\tlabels\theads\trels\toffsets\textra\n";

static char *tmpfile_with(const char *content)
{
    return temp_file_with("/tmp/xf-test-ex-XXXXXX", content);
}

/* A path to CONTENT that is already unlinked: /proc/self/fd/N. */
static char *gone_file_with(const char *content)
{
    char *path = tmpfile_with(content);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    unlink(path);
    static char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fileno(f));
    free(path);
    return proc;
}

static char *slurp(const char *path)
{
    size_t len;
    return xf_read_file(path, &len);
}

static void make_dep(xf_example *ex)
{
    xf_ex_reset(ex, "eng", "s\t1", XF_TASK_DEP);   /* a TAB in the id is escaped */
    int32_t ids[] = {2, 5, 6, 10, 3};
    for (int i = 0; i < 5; i++) xf_ex_push_token(ex, ids[i], 0);
    xf_ex_push_word(ex, 1, 2, xf_label_id(XF_TASK_POS, "DET"), 2, xf_label_id(XF_TASK_DEP, "det"));
    xf_ex_push_word(ex, 2, 4, xf_label_id(XF_TASK_POS, "NOUN"), 0, xf_label_id(XF_TASK_DEP, "root"));
}

static void make_qa(xf_example *ex)
{
    xf_ex_reset(ex, "kor", "q7#2", XF_TASK_QA);
    int32_t ids[] = {2, 8, 3, 9, 11, 3};
    int32_t s[] = {-1, -1, -1, 0, 4, -1}, e[] = {-1, -1, -1, 3, 7, -1};
    for (int i = 0; i < 6; i++) xf_ex_push_token_off(ex, ids[i], i >= 3 ? 1 : 0, s[i], e[i]);
    ex->ans_start = 4;
    ex->ans_end = 4;
    xf_ex_set_extra(ex, "{\"qid\":\"q7\",\"context\":\"abc\\tdefg\",\"answers\":[\"defg\"]}");
}

Test(examples, write_format)
{
    char *path = tmpfile_with("");
    xf_zout *z = xf_zout_open(path, XF_Z_OFF);
    xf_example ex;
    xf_ex_init(&ex);
    xf_ex_write_header(z);
    make_dep(&ex);
    xf_ex_write(z, &ex);
    xf_ex_reset(&ex, "fra", "f.tsv:2", XF_TASK_NLI);
    int32_t ids[] = {2, 5, 3, 6, 3}, ty[] = {0, 0, 0, 1, 1};
    for (int i = 0; i < 5; i++) xf_ex_push_token(&ex, ids[i], ty[i]);
    ex.label = xf_label_id(XF_TASK_NLI, "neutral");
    xf_ex_write(z, &ex);
    xf_zout_commit(z);
    char *got = slurp(path);
    char want[1024];
    snprintf(want, sizeof want, "%s%s%s", HEADER,
             "eng\ts\\t1\tdep\t2 5 6 10 3\t-\t1:2 2:4\tDET NOUN\t2 0\tdet root\t-\t-\n",
             "fra\tf.tsv:2\tnli\t2 5 3 6 3\t0 0 0 1 1\t-\tneutral\t-\t-\t-\t-\n");
    cr_assert_str_eq(got, want);
    free(got);
    xf_ex_free(&ex);
    unlink(path);
    free(path);
}

Test(examples, round_trip_and_repeated_header)
{
    char *path = tmpfile_with("");
    xf_zout *z = xf_zout_open(path, XF_Z_ON);   /* compressed: reading is transparent */
    xf_example a, b;
    xf_ex_init(&a);
    xf_ex_init(&b);
    xf_ex_write_header(z);
    make_dep(&a);
    xf_ex_write(z, &a);
    xf_ex_write_header(z);   /* as after `cat a b` */
    make_qa(&b);
    xf_ex_write(z, &b);
    xf_zout_commit(z);

    size_t n;
    xf_example *v = xf_ex_read_all_vocab(path, 12, &n);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(v[0].id, "s\t1");
    cr_assert_eq(v[0].task, XF_TASK_DEP);
    cr_assert_eq(v[0].n, 5);
    cr_assert_eq(v[0].nwords, 2);
    cr_assert_eq(v[0].wstart[1], 2);
    cr_assert_eq(v[0].wend[1], 4);
    cr_assert_eq(v[0].heads[0], 2);
    cr_assert_eq(v[0].rels[1], xf_label_id(XF_TASK_DEP, "root"));
    cr_assert_eq(v[0].labels[1], xf_label_id(XF_TASK_POS, "NOUN"));
    cr_assert(v[0].has_labels);
    cr_assert(!v[0].has_types);
    cr_assert_eq(v[1].task, XF_TASK_QA);
    cr_assert_str_eq(v[1].lang, "kor");
    cr_assert(v[1].has_types);
    cr_assert_eq(v[1].types[5], 1);
    cr_assert_eq(v[1].ans_start, 4);
    cr_assert_eq(v[1].off_start[3], 0);
    cr_assert_eq(v[1].off_end[4], 7);
    cr_assert_eq(v[1].off_start[0], -1);
    cr_assert_str_eq(v[1].extra, b.extra);
    json_t *j = xf_ex_extra_json(&v[1], path);
    cr_assert_not_null(j);
    cr_assert_str_eq(json_string_value(json_object_get(j, "context")), "abc\tdefg");
    json_decref(j);
    xf_ex_free_all(v, n);
    xf_ex_free(&a);
    xf_ex_free(&b);
    unlink(path);
    free(path);
}

Test(examples, reader_reuses_buffers_and_clears)
{
    char *path = tmpfile_with("lang\tid\ttask\tids\ttypes\twords\tlabels\theads\trels\toffsets\textra\n"
                              "eng\ta\tpos\t2 7 3\t-\t1:2\tNOUN\t-\t-\t-\t-\n"
                              "eng\tb\tmlm\t2 7 7 7 3\t-\t-\t-\t-\t-\t-\t-\n"
                              "eng\tc\tdep\t2 7 3\t-\t1:2\t-\t0\troot\t-\t-\n");
    xf_exreader *r = xf_ex_open(path);
    xf_example ex;
    xf_ex_init(&ex);
    cr_assert(xf_ex_next(r, &ex));
    cr_assert_eq(ex.nwords, 1);
    cr_assert(xf_ex_next(r, &ex));
    cr_assert_eq(ex.task, XF_TASK_MLM);
    cr_assert_eq(ex.n, 5);
    cr_assert_eq(ex.nwords, 0);
    cr_assert(!ex.has_labels);
    cr_assert(xf_ex_next(r, &ex));
    cr_assert_eq(ex.task, XF_TASK_DEP);
    cr_assert(!ex.has_labels);   /* dep without UPOS */
    cr_assert_eq(ex.heads[0], 0);
    cr_assert(!xf_ex_next(r, &ex));
    xf_ex_close(r);
    xf_ex_free(&ex);
    unlink(path);
    free(path);
}

/* Each malformed row must die with exit 1. */
static void read_row(const char *row, size_t vocab)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s%s\n", HEADER, row);
    xf_exreader *r = xf_ex_open(gone_file_with(buf));
    if (vocab) xf_ex_set_vocab_size(r, vocab);
    xf_example ex;
    xf_ex_init(&ex);
    while (xf_ex_next(r, &ex)) {}
}

#define BAD(name, row, vocab) \
    Test(examples_bad, name, .exit_code = 1) { read_row(row, vocab); }

BAD(not_an_int, "eng\ta\tmlm\t2 x 3\t-\t-\t-\t-\t-\t-\t-", 0)
BAD(double_space, "eng\ta\tmlm\t2  3\t-\t-\t-\t-\t-\t-\t-", 0)
BAD(negative_id, "eng\ta\tmlm\t2 -1 3\t-\t-\t-\t-\t-\t-\t-", 0)
BAD(id_beyond_vocab, "eng\ta\tmlm\t2 12 3\t-\t-\t-\t-\t-\t-\t-", 12)
BAD(int_overflow, "eng\ta\tmlm\t2 99999999999 3\t-\t-\t-\t-\t-\t-\t-", 0)
BAD(unknown_task, "eng\ta\tsrl\t2 3\t-\t-\t-\t-\t-\t-\t-", 0)
BAD(empty_lang, "\ta\tmlm\t2 3\t-\t-\t-\t-\t-\t-\t-", 0)
BAD(wrong_column_count, "eng\ta\tmlm\t2 3\t-\t-\t-\t-\t-\t-", 0)
BAD(types_count, "eng\ta\tmlm\t2 3\t0 0 0\t-\t-\t-\t-\t-\t-", 0)
BAD(span_beyond_tokens, "eng\ta\tpos\t2 7 3\t-\t1:4\tNOUN\t-\t-\t-\t-", 0)
BAD(empty_span, "eng\ta\tpos\t2 7 3\t-\t1:1\tNOUN\t-\t-\t-\t-", 0)
BAD(overlapping_spans, "eng\ta\tpos\t2 7 8 3\t-\t1:3 2:3\tNOUN VERB\t-\t-\t-\t-", 0)
BAD(span_syntax, "eng\ta\tpos\t2 7 3\t-\t1-2\tNOUN\t-\t-\t-\t-", 0)
BAD(unknown_upos, "eng\ta\tpos\t2 7 3\t-\t1:2\tNOUNS\t-\t-\t-\t-", 0)
BAD(label_count, "eng\ta\tpos\t2 7 3\t-\t1:2\tNOUN NOUN\t-\t-\t-\t-", 0)
BAD(pos_without_labels, "eng\ta\tpos\t2 7 3\t-\t1:2\t-\t-\t-\t-\t-", 0)
BAD(ner_tag_of_pos, "eng\ta\tner\t2 7 3\t-\t1:2\tNOUN\t-\t-\t-\t-", 0)
BAD(head_beyond, "eng\ta\tdep\t2 7 3\t-\t1:2\t-\t2\troot\t-\t-", 0)
BAD(rel_with_subtype, "eng\ta\tdep\t2 7 3\t-\t1:2\t-\t0\tnsubj:pass\t-\t-", 0)
BAD(heads_on_pos, "eng\ta\tpos\t2 7 3\t-\t1:2\tNOUN\t0\t-\t-\t-", 0)
BAD(nli_label, "eng\ta\tnli\t2 7 3\t-\t-\tmaybe\t-\t-\t-\t-", 0)
BAD(qa_span_beyond, "eng\ta\tqa\t2 7 3\t-\t-\t1:3\t-\t-\t-1:-1 0:1 -1:-1\t{}", 0)
BAD(qa_offsets_count, "eng\ta\tqa\t2 7 3\t-\t-\t1:1\t-\t-\t-1:-1 0:1\t{}", 0)
BAD(qa_without_extra, "eng\ta\tqa\t2 7 3\t-\t-\t1:1\t-\t-\t-1:-1 0:1 -1:-1\t-", 0)
BAD(mlm_with_extra, "eng\ta\tmlm\t2 7 3\t-\t-\t-\t-\t-\t-\t{}", 0)

Test(examples_bad, wrong_header, .exit_code = 1)
{
    xf_exreader *r = xf_ex_open(gone_file_with("lang\tid\ttask\tids\n"));
    xf_example ex;
    xf_ex_init(&ex);
    xf_ex_next(r, &ex);
}

Test(examples_bad, empty_input, .exit_code = 1)
{
    xf_exreader *r = xf_ex_open(gone_file_with(""));
    xf_example ex;
    xf_ex_init(&ex);
    xf_ex_next(r, &ex);
}

Test(examples, shuffled_header_not_first)
{
    xf_exreader *r = xf_ex_open(gone_file_with("eng\ta\tmlm\t2 7 3\t-\t-\t-\t-\t-\t-\t-\n"
                                               "lang\tid\ttask\tids\ttypes\twords\tlabels\theads\trels\toffsets\textra\n"
                                               "eng\tb\tmlm\t2 8 3\t-\t-\t-\t-\t-\t-\t-"));
    xf_example ex;
    xf_ex_init(&ex);
    cr_assert(xf_ex_next(r, &ex));
    cr_assert_str_eq(ex.id, "a");
    cr_assert(xf_ex_next(r, &ex));
    cr_assert_str_eq(ex.id, "b");
    cr_assert_eq(ex.ids[1], 8);
    cr_assert(!xf_ex_next(r, &ex));
    xf_ex_free(&ex);
    xf_ex_close(r);
}

Test(examples_bad, write_inconsistent, .exit_code = 1)
{
    char *path = tmpfile_with("");
    xf_zout *z = xf_zout_open(path, XF_Z_OFF);
    unlink(path);
    xf_example ex;
    xf_ex_init(&ex);
    xf_ex_reset(&ex, "eng", "x", XF_TASK_POS);
    xf_ex_push_token(&ex, 2, 0);
    xf_ex_push_word(&ex, 0, 2, 0, -1, -1);   /* span beyond the one token */
    xf_ex_write(z, &ex);
}
