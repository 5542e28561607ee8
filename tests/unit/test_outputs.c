/* Output safety and the shared row rules (issue 11, items 3 and 4): commit
 * sets (all outputs or none), temp folders removed on die(), outputs that
 * name inputs refused, stale temps of dead processes removed, strict
 * decimals, UTF-8 checks, and one eval-row validator for reader and writer. */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "evalrow.h"
#include "testutil.h"
#include "tsv.h"
#include "util.h"
#include "zio.h"

static char dir[64];
static void setup(void) { make_temp_dir(dir, "/tmp/xf-outputs-XXXXXX"); }
static void teardown(void) { remove_temp_dir(dir); }

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Entries of DIR whose name contains ".xf-" (temps). */
static int count_temps(const char *d)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -c '\\.xf-' > '%s/.count' 2>/dev/null", d, d);
    if (system(cmd)) {}
    char *p = path_in_dir(d, ".count");
    FILE *f = fopen(p, "r");
    int n = 0;
    if (f) {
        if (fscanf(f, "%d", &n) != 1) n = -1;
        fclose(f);
    }
    unlink(p);
    return n;
}

static void put_text(const char *p, const char *text)
{
    xf_out *o = xf_out_open(p);
    fputs(text, o->fp);
    xf_out_commit(o);
}

Test(outputs, commit_set_renames_only_at_the_end, .init = setup, .fini = teardown)
{
    char *a = path_in_dir(dir, "a.txt"), *b = path_in_dir(dir, "b");
    xf_commit_set_begin();
    put_text(a, "one\n");
    cr_assert(!exists(a), "a committed before the end of the set");
    char *tmp = xf_tmpdir_create(b);
    put_text(path_in_dir(tmp, "f.json"), "{}\n");
    xf_tmpdir_commit(tmp, b);
    cr_assert(!exists(a) && !exists(b));
    xf_commit_set_end();
    cr_assert(exists(a) && exists(path_in_dir(dir, "b/f.json")));
    cr_assert_eq(count_temps(dir), 0);
}

typedef struct { const char *dir; } ctx_dir;

static void die_inside_set(void *p)
{
    const char *d = ((ctx_dir *)p)->dir;
    xf_commit_set_begin();
    put_text(path_in_dir(d, "a.txt"), "one\n");
    char *tmp = xf_tmpdir_create(path_in_dir(d, "hub"));
    put_text(path_in_dir(tmp, "adapter_config.json"), "{}\n");
    /* a half-written file in the folder, then the failure */
    FILE *f = fopen(path_in_dir(tmp, "adapter.safetensors"), "wb");
    fputs("partial", f);
    fclose(f);
    die("simulated failure of the second output");
}

Test(outputs, die_in_a_commit_set_leaves_nothing, .init = setup, .fini = teardown)
{
    ctx_dir c = {dir};
    int st = run_in_child(die_inside_set, &c, NULL);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    cr_assert(!exists(path_in_dir(dir, "a.txt")), "first output committed although the set failed");
    cr_assert(!exists(path_in_dir(dir, "hub")));
    cr_assert_eq(count_temps(dir), 0, "temps left");
}

static void overwrite_input(void *p)
{
    const char *d = ((ctx_dir *)p)->dir;
    xf_in *in = xf_in_open(path_in_dir(d, "in.txt"));
    char *line;
    while (xf_in_getline(in, &line) >= 0) {}
    xf_in_close(in);
    put_text(path_in_dir(d, "in.txt"), "clobbered\n");
}

Test(outputs, output_naming_an_input_is_refused, .init = setup, .fini = teardown)
{
    FILE *f = fopen(path_in_dir(dir, "in.txt"), "w");
    fputs("precious\n", f);
    fclose(f);
    ctx_dir c = {dir};
    char *err = path_in_dir(dir, "err");
    int st = run_in_child(overwrite_input, &c, err);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    size_t n;
    char *text = xf_read_file(path_in_dir(dir, "in.txt"), &n);
    cr_assert_str_eq(text, "precious\n");
    free(text);
    text = xf_read_file(err, &n);
    cr_assert(strstr(text, "refusing to overwrite an input of this run"), "%s", text);
    free(text);
}

Test(outputs, stale_temps_of_dead_processes_are_removed, .init = setup, .fini = teardown)
{
    /* a process that has exited: its PID is free */
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    char name[48], live[48], other[48], subname[48];
    snprintf(name, sizeof name, ".out.tsv.xf-%d.abcdef", (int)dead);
    snprintf(live, sizeof live, ".out.tsv.xf-%d.abcdef", (int)getppid());
    snprintf(other, sizeof other, ".other.tsv.xf-%d.abcdef", (int)dead);
    FILE *f = fopen(path_in_dir(dir, name), "w");
    fclose(f);
    f = fopen(path_in_dir(dir, live), "w");
    fclose(f);
    f = fopen(path_in_dir(dir, other), "w");
    fclose(f);
    snprintf(subname, sizeof subname, ".out.tsv.xf-%d.zzzzzz", (int)dead);
    char sub[160];
    snprintf(sub, sizeof sub, "%s", path_in_dir(dir, subname));
    cr_assert_eq(mkdir(sub, 0755), 0);
    char subx[200];
    snprintf(subx, sizeof subx, "%s/x", sub);
    f = fopen(subx, "w");
    fclose(f);
    put_text(path_in_dir(dir, "out.tsv"), "x\n");
    cr_assert(!exists(path_in_dir(dir, name)), "stale temp file kept");
    cr_assert(!exists(sub), "stale temp folder kept");
    cr_assert(exists(path_in_dir(dir, live)), "the temp of a running process was removed");
    cr_assert(exists(path_in_dir(dir, other)), "the temp of another output was removed");
}

Test(outputs, strict_decimal)
{
    double v;
    const char *good[] = {"0", "16", "-1.5", "12.3400", ".5", "5.", "1e3", "1E-2", "100.0000"};
    const double want[] = {0, 16, -1.5, 12.34, 0.5, 5, 1000, 0.01, 100};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        cr_assert_eq(xf_parse_decimal(good[i], &v), 0, "%s", good[i]);
        cr_assert_float_eq(v, want[i], 1e-12, "%s", good[i]);
    }
    const char *bad[] = {"0x10", "0X1p4", "inf", "nan", "-inf", " 1", "1 ", "+1", "", "-", ".",
                         "1e", "1e+", "1.2.3", "1e999", "١٢"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_neq(xf_parse_decimal(bad[i], &v), 0, "'%s' accepted", bad[i]);
}

Test(outputs, utf8_check)
{
    cr_assert_eq(xf_utf8_invalid_at("eng", 3), -1);
    cr_assert_eq(xf_utf8_invalid_at("y\xc3\xb2r", 4), -1);
    cr_assert_eq(xf_utf8_invalid_at("ab\xff", 3), 2);
    cr_assert_eq(xf_utf8_invalid_at("a\xc0\xaf", 3), 1);            /* overlong '/' */
    cr_assert_eq(xf_utf8_invalid_at("\xed\xa0\x80", 3), 0);         /* surrogate */
    cr_assert_eq(xf_utf8_invalid_at("x\xe2\x82", 3), 1);            /* truncated */
    cr_assert_eq(xf_utf8_invalid_at("\xf4\x90\x80\x80", 4), 0);     /* > U+10FFFF */
}

/* An eval row as fields, with the target and value replaced. */
static int check_row(const char *target, const char *value, const char *model, char *msg)
{
    const char *f[XF_EVALROW_NCOLS] = {model, "pos", "base", "-", "0", "0", "-",
                                       target, "upos_acc", value, "10"};
    return xf_evalrow_check(f, NULL, msg, 256);
}

Test(outputs, evalrow_rules)
{
    char msg[256];
    cr_assert_eq(check_row("eng", "87.5000", "mbert", msg), 0, "%s", msg);
    cr_assert_eq(check_row("e ng", "87.5", "mbert", msg), -1);
    cr_assert(strstr(msg, "white space"), "%s", msg);
    cr_assert_eq(check_row("-", "87.5", "mbert", msg), -1);
    cr_assert_eq(check_row("en\xff", "87.5", "mbert", msg), -1);
    cr_assert(strstr(msg, "invalid UTF-8"), "%s", msg);
    cr_assert_eq(check_row("eng\r", "87.5", "mbert", msg), -1);
    cr_assert_eq(check_row("eng", "0x10", "mbert", msg), -1);
    cr_assert_eq(check_row("eng", "nan", "mbert", msg), -1);
    cr_assert_eq(check_row("eng", "87.5", "mb\xe2\x82", msg), -1);
}

/* xf-eval's writer: the rows xf-score's reader would reject are not written. */
typedef struct { const char *dir, *target; double value; } wctx;

static void write_row(void *p)
{
    wctx *c = p;
    xf_zout *z = xf_zout_open(path_in_dir(c->dir, "rows.tsv"), XF_Z_AUTO);
    xf_evalrow_write_header(z);
    xf_evalrow r = {.model = "m", .task = "pos", .setting = XF_SET_BASE, .transfer = "-",
                    .adapters = "-", .target = c->target, .metric = "upos_acc",
                    .value = c->value, .n = 3};
    xf_evalrow_write(z, &r);
    xf_zout_commit(z);
}

Test(outputs, evalrow_writer_uses_the_reader_rules, .init = setup, .fini = teardown)
{
    const char *bad[] = {"e ng", "-", "en\xff", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        wctx c = {dir, bad[i], 50};
        char *err = path_in_dir(dir, "err");
        int st = run_in_child(write_row, &c, err);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "target '%s' written", bad[i]);
        cr_assert(!exists(path_in_dir(dir, "rows.tsv")));
        size_t n;
        char *text = xf_read_file(err, &n);
        cr_assert(strstr(text, "would not read back"), "%s", text);
        free(text);
    }
    wctx nanv = {dir, "eng", NAN};
    cr_assert_eq(WEXITSTATUS(run_in_child(write_row, &nanv, NULL)), 1, "NaN value written");
    /* a good row is written and reads back */
    wctx ok = {dir, "yor", 12.5};
    cr_assert_eq(run_in_child(write_row, &ok, NULL), 0);
    xf_evalset set = {0};
    xf_evalset_read(&set, path_in_dir(dir, "rows.tsv"));
    cr_assert_eq(set.n, 1);
    cr_assert_str_eq(set.rows[0].target, "yor");
    cr_assert_float_eq(set.rows[0].value, 12.5, 1e-9);
    xf_evalset_free(&set);
}

/* CRLF line ends read as LF everywhere (xf_in_getline, so TSV headers too). */
Test(outputs, crlf_reads_as_lf, .init = setup, .fini = teardown)
{
    char *p = path_in_dir(dir, "nli.tsv");
    FILE *f = fopen(p, "w");
    fputs("premise\thypothesis\tlabel\r\nA\tB\tentailment\r\n", f);
    fclose(f);
    xf_tsv *t = xf_tsv_open(p);
    cr_assert_eq(xf_tsv_col(t, "label"), 2);
    cr_assert(xf_tsv_next(t));
    cr_assert_str_eq(xf_tsv_field(t, 2), "entailment");
    xf_tsv_close(t);
}
