/* test_zio.c — transparent zstd input, pipes, atomic compressed output. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "zio.h"
#include "testutil.h"

static char dir[64];

static void setup(void) { make_temp_dir(dir, "/tmp/xf-test-zio.XXXXXX"); }
static void teardown(void) { remove_temp_dir(dir); }
static char *path_in(const char *name) { return path_in_dir(dir, name); }

static int count_files(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (fscanf(p, "%d", &n) != 1) n = -1;
    pclose(p);
    return n;
}

TestSuite(zio, .init = setup, .fini = teardown);

/* A few MB of lines, through every mode, read back by lines and by bytes. */
static void roundtrip(const char *name, int mode, int expect_zstd)
{
    const char *p = path_in(name);
    xf_zout *z = xf_zout_open(p, mode);
    for (int i = 0; i < 200000; i++) xf_zout_printf(z, "line %d %s\n", i, i % 7 ? "" : "xxxxxxxxxxxxxxxxxxxx");
    xf_zout_puts(z, "no newline at end");
    xf_zout_commit(z);

    unsigned char m[4];
    FILE *f = fopen(p, "rb");
    cr_assert_eq(fread(m, 1, 4, f), 4);
    fclose(f);
    cr_assert_eq(m[0] == 0x28 && m[1] == 0xB5, expect_zstd);

    xf_in *in = xf_in_open(p);
    char *line, want[64];
    for (int i = 0; i < 200000; i++) {
        ssize_t n = xf_in_getline(in, &line);
        snprintf(want, sizeof want, "line %d %s", i, i % 7 ? "" : "xxxxxxxxxxxxxxxxxxxx");
        cr_assert_eq(n, (ssize_t)strlen(want));
        cr_assert_str_eq(line, want);
    }
    cr_assert_eq(xf_in_getline(in, &line), 17);
    cr_assert_str_eq(line, "no newline at end");
    cr_assert_eq(xf_in_lineno(in), 200001);
    cr_assert_eq(xf_in_getline(in, &line), -1);
    xf_in_close(in);
}

Test(zio, plain) { roundtrip("a.txt", XF_Z_AUTO, 0); }
Test(zio, zst_by_name) { roundtrip("a.txt.zst", XF_Z_AUTO, 1); }
Test(zio, forced_on) { roundtrip("a.txt", XF_Z_ON, 1); }
Test(zio, forced_off) { roundtrip("a.zst", XF_Z_OFF, 0); }

Test(zio, multiple_frames_and_stdin_pipe)
{
    /* two independently compressed files concatenated are one stream */
    const char *parts[] = {"p1.zst", "p2.zst"};
    for (int k = 0; k < 2; k++) {
        xf_zout *z = xf_zout_open(path_in(parts[k]), XF_Z_AUTO);
        xf_zout_printf(z, "part %d\n", k);
        xf_zout_commit(z);
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cat %s/p1.zst %s/p2.zst", dir, dir);
    FILE *p = popen(cmd, "r");
    /* read it as "-" via stdin */
    int saved = dup(0);
    dup2(fileno(p), 0);
    xf_in *in = xf_in_open("-");
    cr_assert_str_eq(xf_in_name(in), "<stdin>");
    size_t n;
    char *s = xf_in_slurp(in, &n);
    cr_assert_str_eq(s, "part 0\npart 1\n");
    free(s);
    xf_in_close(in);
    dup2(saved, 0);
    pclose(p);
}

Test(zio, read_exact_and_short_reads)
{
    xf_zout *z = xf_zout_open(path_in("b.zst"), XF_Z_AUTO);
    xf_zout_write(z, "0123456789", 10);
    xf_zout_commit(z);
    xf_in *in = xf_in_open(path_in("b.zst"));
    char buf[16];
    xf_in_read_exact(in, buf, 4, "first");
    cr_assert(!memcmp(buf, "0123", 4));
    cr_assert_eq(xf_in_read(in, buf, 16), 6);
    cr_assert_eq(xf_in_read(in, buf, 16), 0);
    xf_in_close(in);
}

Test(zio, empty_input)
{
    FILE *f = fopen(path_in("empty"), "w");
    fclose(f);
    size_t n = 99;
    char *s = xf_read_file(path_in("empty"), &n);
    cr_assert_eq(n, 0);
    cr_assert_str_eq(s, "");
    free(s);
}

Test(zio, abort_leaves_nothing)
{
    xf_zout *z = xf_zout_open(path_in("out.zst"), XF_Z_AUTO);
    xf_zout_puts(z, "partial");
    cr_assert_eq(count_files(), 1);   /* the temp file */
    xf_zout_abort(z);
    cr_assert_eq(count_files(), 0);
}

static void die_mid_output(void *unused)
{
    xf_zout *z = xf_zout_open(path_in("out.tsv"), XF_Z_AUTO);
    xf_zout_puts(z, "partial");
    die("stop");
}

Test(zio, die_leaves_nothing)
{
    int st = run_in_child(die_mid_output, NULL, NULL);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    cr_assert_eq(count_files(), 0);
}

static void write_corrupt(const char *name, int cut, int flip)
{
    xf_zout *z = xf_zout_open(path_in("good.zst"), XF_Z_AUTO);
    for (int i = 0; i < 20000; i++) xf_zout_printf(z, "%d\n", i * 7919);
    xf_zout_commit(z);
    size_t n;
    FILE *f = fopen(path_in("good.zst"), "rb");
    unsigned char *b = malloc(1 << 20);
    n = fread(b, 1, 1 << 20, f);
    fclose(f);
    if (flip) b[n / 2] ^= 0x40;
    f = fopen(path_in(name), "wb");
    fwrite(b, 1, cut ? n - (size_t)cut : n, f);
    fclose(f);
    free(b);
}

Test(zio, truncated_zstd, .exit_code = 1)
{
    write_corrupt("t.zst", 10, 0);
    cr_redirect_stderr();
    size_t n;
    xf_read_file(path_in("t.zst"), &n);
}

Test(zio, corrupt_zstd_byte, .exit_code = 1)
{
    write_corrupt("c.zst", 0, 1);
    cr_redirect_stderr();
    size_t n;
    xf_read_file(path_in("c.zst"), &n);
}

Test(zio, read_exact_past_end, .exit_code = 1)
{
    FILE *f = fopen(path_in("short"), "w");
    fputs("abc", f);
    fclose(f);
    cr_redirect_stderr();
    xf_in *in = xf_in_open(path_in("short"));
    char buf[8];
    xf_in_read_exact(in, buf, 8, "eight bytes");
}

Test(zio, missing_file, .exit_code = 1)
{
    cr_redirect_stderr();
    xf_in_open(path_in("does-not-exist"));
}
