/* test_tsv.c — the TSV dialect: escapes, .zst transparency, column checks. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tsv.h"
#include "util.h"
#include "zio.h"
#include "testutil.h"

static char dir[64];

static void setup(void) { make_temp_dir(dir, "/tmp/xf-test-tsv.XXXXXX"); }
static void teardown(void) { remove_temp_dir(dir); }
static char *path_in(const char *name) { return path_in_dir(dir, name); }

static const char *nasty[] = {"plain", "tab\there", "new\nline", "back\\slash", "\\t literal", "", "end\\"};
#define N_NASTY (sizeof nasty / sizeof nasty[0])

static void roundtrip(const char *name)
{
    const char *p = path_in(name);
    xf_zout *z = xf_zout_open(p, XF_Z_AUTO);
    const char *cols[] = {"a", "b"};
    xf_tsv_header(z, cols, 2);
    for (size_t i = 0; i < N_NASTY; i++) {
        xf_tsv_put(z, nasty[i]);
        xf_tsv_putf(z, "%zu", i);
        xf_tsv_end_row(z);
    }
    xf_zout_commit(z);

    xf_tsv *t = xf_tsv_open(p);
    cr_assert_eq(xf_tsv_ncols(t), 2);
    cr_assert_eq(xf_tsv_need_col(t, "b"), 1);
    cr_assert_eq(xf_tsv_col(t, "zz"), -1);
    xf_tsv_expect_header(t, cols, 2);
    for (size_t i = 0; i < N_NASTY; i++) {
        cr_assert(xf_tsv_next(t), "row %zu missing", i);
        cr_assert_str_eq(xf_tsv_field(t, 0), nasty[i]);
        cr_assert_eq(xf_tsv_field_len(t, 0), strlen(nasty[i]));
        cr_assert_eq(xf_tsv_ll(t, 1), (long long)i);
        cr_assert_eq(xf_tsv_lineno(t), (long)i + 2);
    }
    cr_assert_not(xf_tsv_next(t));
    xf_tsv_close(t);
}

TestSuite(tsv, .init = setup, .fini = teardown);

Test(tsv, roundtrip_plain) { roundtrip("x.tsv"); }

Test(tsv, roundtrip_zst_is_compressed)
{
    roundtrip("x.tsv.zst");
    unsigned char m[4] = {0};
    FILE *f = fopen(path_in("x.tsv.zst"), "rb");
    cr_assert_eq(fread(m, 1, 4, f), 4);
    fclose(f);
    cr_assert(m[0] == 0x28 && m[1] == 0xB5 && m[2] == 0x2F && m[3] == 0xFD);
    /* detection is by magic bytes: the same bytes under a plain name read the same */
    cr_assert_eq(rename(path_in("x.tsv.zst"), path_in("renamed.tsv")), 0);
    xf_tsv *t = xf_tsv_open(path_in("renamed.tsv"));
    cr_assert(xf_tsv_next(t));
    cr_assert_str_eq(xf_tsv_field(t, 0), "plain");
    xf_tsv_close(t);
}

Test(tsv, escape_unescape)
{
    char *e = xf_tsv_escape("a\tb\nc\\d");
    cr_assert_str_eq(e, "a\\tb\\nc\\\\d");
    size_t n = xf_tsv_unescape(e, strlen(e));
    cr_assert_eq(n, 7);
    cr_assert_str_eq(e, "a\tb\nc\\d");
    free(e);
    char keep[] = "a\\xb";
    cr_assert_eq(xf_tsv_unescape(keep, 4), 4);
    cr_assert_str_eq(keep, "a\\xb");
}

Test(tsv, no_quoting_no_trimming)
{
    write_text(path_in("q.tsv"), "a\tb\n\"x\t  y  \n'\"q\"'\t\n");
    xf_tsv *t = xf_tsv_open(path_in("q.tsv"));
    cr_assert(xf_tsv_next(t));
    cr_assert_str_eq(xf_tsv_field(t, 0), "\"x");
    cr_assert_str_eq(xf_tsv_field(t, 1), "  y  ");
    cr_assert(xf_tsv_next(t));
    cr_assert_str_eq(xf_tsv_field(t, 0), "'\"q\"'");
    cr_assert_str_eq(xf_tsv_field(t, 1), "");
    cr_assert_not(xf_tsv_next(t));
    xf_tsv_close(t);
}

Test(tsv, last_line_without_newline_and_empty_single_column)
{
    write_text(path_in("s.tsv"), "only\n\nlast");
    xf_tsv *t = xf_tsv_open(path_in("s.tsv"));
    cr_assert(xf_tsv_next(t));
    cr_assert_str_eq(xf_tsv_field(t, 0), "");
    cr_assert(xf_tsv_next(t));
    cr_assert_str_eq(xf_tsv_field(t, 0), "last");
    cr_assert_not(xf_tsv_next(t));
    xf_tsv_close(t);
}

Test(tsv, numbers)
{
    write_text(path_in("n.tsv"), "v\n1.5\n-3\n");
    xf_tsv *t = xf_tsv_open(path_in("n.tsv"));
    cr_assert(xf_tsv_next(t));
    cr_assert_float_eq(xf_tsv_double(t, 0), 1.5, 1e-12);
    cr_assert(xf_tsv_next(t));
    cr_assert_eq(xf_tsv_ll(t, 0), -3);
    xf_tsv_close(t);
}

Test(tsv, wrong_column_count, .exit_code = 1)
{
    write_text(path_in("bad.tsv"), "a\tb\n1\t2\n1\t2\t3\n");
    cr_redirect_stderr();
    xf_tsv *t = xf_tsv_open(path_in("bad.tsv"));
    xf_tsv_next(t);
    xf_tsv_next(t);
}

static void read_all(void *path)
{
    xf_tsv *t = xf_tsv_open(path);
    while (xf_tsv_next(t)) {}
}

Test(tsv, wrong_column_count_message)
{
    /* the message names file and line: run the die() in a child and read it */
    write_text(path_in("bad.tsv"), "a\tb\n1\t2\n1\t2\t3\n");
    char cmd[256];
    snprintf(cmd, sizeof cmd, "%s/err.txt", dir);
    int st = run_in_child(read_all, path_in("bad.tsv"), cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    size_t n;
    char *msg = xf_read_file(cmd, &n);
    char want[256];
    snprintf(want, sizeof want, "%s/bad.tsv:3: expected 2 columns, got 3", dir);
    cr_assert(strstr(msg, want), "message was: %s", msg);
    free(msg);
}

Test(tsv, not_a_number, .exit_code = 1)
{
    write_text(path_in("n.tsv"), "v\nabc\n");
    cr_redirect_stderr();
    xf_tsv *t = xf_tsv_open(path_in("n.tsv"));
    xf_tsv_next(t);
    xf_tsv_double(t, 0);
}

Test(tsv, missing_column, .exit_code = 1)
{
    write_text(path_in("h.tsv"), "a\tb\n");
    cr_redirect_stderr();
    xf_tsv *t = xf_tsv_open(path_in("h.tsv"));
    xf_tsv_need_col(t, "c");
}

Test(tsv, header_mismatch, .exit_code = 1)
{
    write_text(path_in("h.tsv"), "a\tc\n");
    cr_redirect_stderr();
    xf_tsv *t = xf_tsv_open(path_in("h.tsv"));
    const char *want[] = {"a", "b"};
    xf_tsv_expect_header(t, want, 2);
}

Test(tsv, empty_file, .exit_code = 1)
{
    write_text(path_in("e.tsv"), "");
    cr_redirect_stderr();
    xf_tsv_open(path_in("e.tsv"));
}

Test(tsv, concatenated_tables_read_as_one)
{
    write_text(path_in("cat.tsv"), "a\tb\n1\t2\na\tb\n3\t4\n");
    xf_tsv *t = xf_tsv_open(path_in("cat.tsv"));
    cr_assert(xf_tsv_next(t));
    cr_assert_str_eq(xf_tsv_field(t, 0), "1");
    cr_assert(xf_tsv_next(t));
    cr_assert_str_eq(xf_tsv_field(t, 0), "3");
    cr_assert_eq(xf_tsv_lineno(t), 4);
    cr_assert_not(xf_tsv_next(t));
    xf_tsv_close(t);
}

Test(tsv, known_columns_header_anywhere)
{
    /* after shuf: the header is in the middle; escapes in names count */
    write_text(path_in("shuf.tsv"), "1\tx\\ty\n"
                                    "lang\tw\\tx\n"
                                    "2\tz\n");
    const char *cols[] = {"lang", "w\tx"};
    cr_assert_str_eq(xf_tsv_header_line(cols, 2), "lang\tw\\tx");
    xf_tsv *t = xf_tsv_open_cols(path_in("shuf.tsv"), cols, 2);
    cr_assert_eq(xf_tsv_ncols(t), 2);
    cr_assert_eq(xf_tsv_need_col(t, "w\tx"), 1);
    cr_assert(xf_tsv_next(t));
    cr_assert_str_eq(xf_tsv_field(t, 1), "x\ty");
    cr_assert_eq(xf_tsv_lineno(t), 1);
    cr_assert(xf_tsv_next(t));
    cr_assert_str_eq(xf_tsv_field(t, 0), "2");
    cr_assert_eq(xf_tsv_lineno(t), 3);
    cr_assert_not(xf_tsv_next(t));
    xf_tsv_close(t);
}

Test(tsv, known_columns_without_header, .exit_code = 1)
{
    write_text(path_in("nohead.tsv"), "1\t2\n");
    const char *cols[] = {"a", "b"};
    cr_redirect_stderr();
    xf_tsv *t = xf_tsv_open_cols(path_in("nohead.tsv"), cols, 2);
    cr_assert(xf_tsv_next(t));
    xf_tsv_next(t);
}
