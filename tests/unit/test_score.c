/* Unit tests of lib/evalrow.c and lib/score_ts.c: the eval-row contract
 * (reader checks, writer round trip) and the transfer score (by hand). */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evalrow.h"
#include "score.h"
#include "tsv.h"
#include "util.h"
#include "zio.h"

#define HDR "model\ttask\tsetting\ttransfer\tsteps\trun\tadapters\ttarget\tmetric\tvalue\tn\n"

static char *write_tmp(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/xf-test-score-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* For tests that die: the text comes on stdin, so no file is left behind. */
static void read_stdin(const char *text)
{
    cr_redirect_stdin();
    FILE *f = cr_get_redirected_stdin();
    fputs(text, f);
    fclose(f);
    xf_evalset s = {0};
    xf_evalset_read(&s, "-");
}

static char *slurp(const char *path)
{
    size_t len;
    return xf_read_file(path, &len);
}

Test(evalrow, task_metrics)
{
    cr_assert_str_eq(xf_task_primary_metric("pos"), "upos_acc");
    cr_assert_str_eq(xf_task_primary_metric("dep"), "las");
    cr_assert_str_eq(xf_task_primary_metric("ner"), "ner_f1");
    cr_assert_str_eq(xf_task_primary_metric("nli"), "acc");
    cr_assert_str_eq(xf_task_primary_metric("qa"), "qa_f1");
    cr_assert_null(xf_task_primary_metric("srl"));
    cr_assert(xf_task_has_metric("dep", "uas"));
    cr_assert(!xf_task_has_metric("pos", "las"));
    cr_assert_str_eq(xf_metric_task("em"), "qa");
}

Test(evalrow, read_valid_and_skip_repeated_header)
{
    char *p = write_tmp(HDR
                        "xlmr-base\tdep\tbase\t-\t0\t0\t-\twol\tlas\t69.4600\t1203\n" HDR
                        "xlmr-base\tdep\tmlm\tyor\t10\t3\t-\twol\tuas\t70.0000\t1203\n"
                        "xlmr-base\tdep\tlang\t-\t0\t0\teng+hin\twol\tlas\t71.5000\t1203\n");
    xf_evalset s = {0};
    xf_evalset_read(&s, p);
    cr_assert_eq(s.n, 3);
    cr_assert_eq(s.rows[1].setting, XF_SET_MLM);
    cr_assert_str_eq(s.rows[1].transfer, "yor");
    cr_assert_eq(s.rows[1].steps, 10);
    cr_assert_eq(s.rows[1].run, 3);
    cr_assert_eq(s.rows[1].line, 4, "line numbers count the repeated header");
    cr_assert_str_eq(s.rows[2].adapters, "eng+hin");
    cr_assert_eq(s.rows[0].value, 69.46);
    cr_assert_eq(s.rows[0].n, 1203);
    cr_assert(s.rows[0].model == xf_intern("xlmr-base"), "strings are interned");
    unlink(p);
    xf_evalset_free(&s);
}

Test(evalrow, duplicate_row_dies, .exit_code = 1)
{
    read_stdin(HDR "m\tpos\tbase\t-\t0\t0\t-\twol\tupos_acc\t50\t10\n"
                            "m\tpos\tbase\t-\t0\t0\t-\twol\tupos_acc\t51\t10\n");
}

Test(evalrow, value_over_100_dies, .exit_code = 1)
{
    read_stdin(HDR "m\tpos\tbase\t-\t0\t0\t-\twol\tupos_acc\t100.5\t10\n");
}

Test(evalrow, base_with_steps_dies, .exit_code = 1)
{
    read_stdin(HDR "m\tpos\tbase\t-\t10\t0\t-\twol\tupos_acc\t50\t10\n");
}

Test(evalrow, bad_adapter_list_dies, .exit_code = 1)
{
    read_stdin(HDR "m\tpos\tlang\t-\t0\t0\teng++hin\twol\tupos_acc\t50\t10\n");
}

Test(evalrow, wrong_header_dies, .exit_code = 1)
{
    read_stdin("model\ttask\tsetting\ttransfer\tsteps\trun\tadapters\ttarget\tmetric\tscore\tn\n");
}

Test(evalrow, writer_round_trip)
{
    char dir[] = "/tmp/xf-test-score-dirXXXXXX";
    cr_assert(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/rows.tsv", dir);
    xf_evalrow r = {.model = "tiny", .task = "qa", .setting = XF_SET_MLM, .transfer = "swa",
                    .steps = 100, .run = 7, .adapters = "-", .target = "kor", .metric = "em",
                    .value = 12.345678, .n = 42};
    xf_zout *z = xf_zout_open(path, XF_Z_AUTO);
    xf_evalrow_write_header(z);
    xf_evalrow_write(z, &r);
    xf_zout_commit(z);
    char *text = slurp(path);
    cr_assert_str_eq(text, HDR "tiny\tqa\tmlm\tswa\t100\t7\t-\tkor\tem\t12.3457\t42\n");
    free(text);
    xf_evalset s = {0};
    xf_evalset_read(&s, path);
    cr_assert_eq(s.n, 1);
    cr_assert_str_eq(s.rows[0].target, "kor");
    cr_assert(fabs(s.rows[0].value - 12.3457) < 1e-12);
    xf_evalset_free(&s);
    unlink(path);
    rmdir(dir);
}

static xf_evalrow mk(const char *setting, const char *transfer, long steps, long run,
                     const char *target, double value)
{
    xf_evalrow r = {.model = xf_intern("m"), .task = xf_intern("nli"),
                    .transfer = xf_intern(transfer), .steps = steps, .run = run,
                    .adapters = xf_intern("-"), .target = xf_intern(target),
                    .metric = xf_intern("acc"), .value = value, .n = 10,
                    .file = "mem", .line = 1};
    r.setting = !strcmp(setting, "base") ? XF_SET_BASE : XF_SET_MLM;
    return r;
}

Test(score, transfer_score_by_hand)
{
    /* base 40; runs 38, 40, 45 -> mean 41, ts = (41 - 40)/40*100 = 2.5;
     * sample std of (38, 40, 45) = sqrt((9 + 1 + 16)/2) = sqrt(13). */
    xf_evalrow rows[] = {mk("base", "-", 0, 0, "quy", 40), mk("mlm", "hau", 10, 1, "quy", 38),
                         mk("mlm", "hau", 10, 2, "quy", 40), mk("mlm", "hau", 10, 3, "quy", 45),
                         mk("mlm", "hau", 10, 1, "gn", 50)};   /* no base for gn: left out */
    xf_evalset s = {.rows = rows, .n = 5, .cap = 5};
    xf_tsopts o = {.boot = 0};
    xf_tsset ts = {0};
    cr_assert_eq(xf_tss_compute(&s, &o, &ts), 0);
    cr_assert_eq(ts.n, 1);
    cr_assert_str_eq(ts.rows[0].target, "quy");
    cr_assert(fabs(ts.rows[0].ts - 2.5) < 1e-12);
    cr_assert(fabs(ts.rows[0].std - sqrt(13.0)) < 1e-12);
    cr_assert_eq(ts.rows[0].n, 3);
    cr_assert(isnan(ts.rows[0].ci_lo));
    xf_tsset_free(&ts);
}

Test(score, zero_base_is_an_error_for_that_pair_only)
{
    xf_evalrow rows[] = {mk("base", "-", 0, 0, "quy", 0), mk("base", "-", 0, 0, "aym", 20),
                         mk("mlm", "hau", 10, 1, "quy", 38), mk("mlm", "hau", 10, 1, "aym", 25)};
    xf_evalset s = {.rows = rows, .n = 4, .cap = 4};
    xf_tsopts o = {.boot = 0};
    xf_tsset ts = {0};
    cr_assert_eq(xf_tss_compute(&s, &o, &ts), 1, "one pair with a zero base");
    cr_assert_eq(ts.n, 1);
    cr_assert_str_eq(ts.rows[0].target, "aym");
    cr_assert(fabs(ts.rows[0].ts - 25) < 1e-12);   /* (25 - 20)/20*100 */
    xf_tsset_free(&ts);
}

Test(score, bootstrap_ci_same_seed_same_values)
{
    xf_evalrow rows[] = {mk("base", "-", 0, 0, "quy", 40), mk("mlm", "hau", 10, 1, "quy", 38.1),
                         mk("mlm", "hau", 10, 2, "quy", 40.7), mk("mlm", "hau", 10, 3, "quy", 45.3),
                         mk("mlm", "hau", 10, 4, "quy", 41.9)};
    xf_evalset s = {.rows = rows, .n = 5, .cap = 5};
    xf_tsopts o = {.boot = 500, .seed = 3, .level = 0.95};
    xf_tsset a = {0}, b = {0};
    xf_tss_compute(&s, &o, &a);
    xf_tss_compute(&s, &o, &b);
    cr_assert(a.rows[0].ci_lo == b.rows[0].ci_lo && a.rows[0].ci_hi == b.rows[0].ci_hi);
    cr_assert(a.rows[0].ci_lo < a.rows[0].ts && a.rows[0].ts < a.rows[0].ci_hi);
    xf_tsset_free(&a);
    xf_tsset_free(&b);
}
