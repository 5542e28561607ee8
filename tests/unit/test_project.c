/* Unit tests of lib/score/project.c on hand-computed tables: appendix F's
 * worked example, ties (exact and --tie-eps), missing combinations,
 * trilingual counts and their C-split points, bad input, the summary. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evalrow.h"
#include "project.h"
#include "testutil.h"
#include "util.h"
#include "zio.h"

#define HDR "model\ttask\tsetting\ttransfer\tsteps\trun\tadapters\ttarget\tmetric\tvalue\tn\n"

/* Appends a pos row "m pos SETTING - 0 0 ADAPTERS TARGET upos_acc VALUE 100". */
static void add(char *buf, const char *setting, const char *adapters, const char *target, double v)
{
    char line[256];
    snprintf(line, sizeof line, "m\tpos\t%s\t-\t0\t0\t%s\t%s\tupos_acc\t%.4f\t100\n", setting,
             adapters, target, v);
    strcat(buf, line);
}
static void lang(char *buf, const char *adapters, const char *target, double v)
{
    add(buf, "lang", adapters, target, v);
}

static char dir[64];
static void setup(void) { make_temp_dir(dir, "/tmp/xf-test-project-XXXXXX"); }
static void teardown(void) { remove_temp_dir(dir); }

static xf_evalset load(const char *text)
{
    char *p = path_in_dir(dir, "rows.tsv");
    write_text(p, text);
    xf_evalset s = {0};
    xf_evalset_read(&s, p);
    return s;
}

static const xf_projrow *row_of(const xf_projrow *r, size_t n, const char *l, int setting)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(r[i].lang, l) && r[i].setting == setting) return &r[i];
    cr_assert_fail("no %dA row for %s", setting, l);
    return NULL;
}

#define NEAR(a, b) cr_assert(fabs((a) - (b)) < 1e-12, "%s = %.15g, want %.15g", #a, (double)(a), (double)(b))

Test(project, point_worked_example)
{
    /* Appendix F: |-A,-B| = 1, |-A,+B| = 1, |+A,-B| = 3, |+A,+B| = 2 => (0.43, -0.14). */
    long c[4] = {1, 1, 3, 2};
    double x, y;
    xf_project_point(c, &x, &y);
    NEAR(x, 3.0 / 7);
    NEAR(y, -1.0 / 7);
    char s[32];
    snprintf(s, sizeof s, "%.2f %.2f", x, y);
    cr_assert_str_eq(s, "0.43 -0.14");
    long z[4] = {0, 0, 0, 0};
    xf_project_point(z, &x, &y);
    cr_assert(isnan(x) && isnan(y), "no counts: no point");
    long q[4] = {0, 0, 0, 4};
    xf_project_point(q, &x, &y);
    NEAR(x, 1);
    NEAR(y, 1);
}

/* ara interacts with 7 languages; its signs and theirs give 1, 1, 3, 2. */
static const char *worked(char *b)
{
    strcpy(b, HDR);
    const char *p[7] = {"ben", "deu", "eng", "fra", "hin", "spa", "zho"};
    const double ara[7] = {49, 49, 51, 51, 51, 51, 51}, other[7] = {49, 51, 49, 49, 49, 51, 51};
    lang(b, "ara", "ara", 50);
    for (int i = 0; i < 7; i++) {
        char ad[16];
        lang(b, p[i], p[i], 50);
        snprintf(ad, sizeof ad, i % 2 ? "ara+%s" : "%s+ara", p[i]);   /* any fusion order */
        lang(b, ad, "ara", ara[i]);
        lang(b, ad, p[i], other[i]);
    }
    return b;
}

Test(project, worked_example_table, .init = setup, .fini = teardown)
{
    static char b[8192];
    xf_evalset s = load(worked(b));
    xf_projopts o = {0};
    xf_projrow *r;
    size_t n = xf_project_compute(&s, &o, &r);
    cr_assert_eq(n, 8, "one 2A row per language, no 3A rows");
    const xf_projrow *a = row_of(r, n, "ara", 2);
    cr_assert_eq(a->cnt2[0], 1);
    cr_assert_eq(a->cnt2[1], 1);
    cr_assert_eq(a->cnt2[2], 3);
    cr_assert_eq(a->cnt2[3], 2);
    NEAR(a->x, 3.0 / 7);
    NEAR(a->y, -1.0 / 7);
    cr_assert_eq(a->n, 7);
    cr_assert_eq(a->ties, 0);
    cr_assert_eq(a->missing, 0);
    /* ben: only [ara+ben] exists of its 7 pairs; ben -, ara - */
    const xf_projrow *bn = row_of(r, n, "ben", 2);
    cr_assert_eq(bn->cnt2[0], 1);
    cr_assert_eq(bn->n, 1);
    cr_assert_eq(bn->missing, 6, "pairs never evaluated are missing, not dropped");
    NEAR(bn->x, -1);
    NEAR(bn->y, -1);
    /* deu: deu +, ara - => |+A,-B| */
    const xf_projrow *de = row_of(r, n, "deu", 2);
    cr_assert_eq(de->cnt2[2], 1);
    NEAR(de->x, 1);
    NEAR(de->y, -1);
    cr_assert_str_eq(r[0].lang, "ara", "sorted by language");
    cr_assert_str_eq(r[7].lang, "zho");
    free(r);
    xf_evalset_free(&s);
}

Test(project, ties_and_missing, .init = setup, .fini = teardown)
{
    static char b[4096];
    strcpy(b, HDR);
    lang(b, "eng", "eng", 50);
    lang(b, "hin", "hin", 50);
    lang(b, "zho", "zho", 50);
    lang(b, "eng+hin", "eng", 50);      /* exact tie for eng */
    lang(b, "eng+hin", "hin", 52);
    lang(b, "eng+zho", "eng", 50.3);
    lang(b, "eng+zho", "zho", 49);
    lang(b, "hin+zho", "hin", 51);      /* [hin+zho] on zho is missing */
    xf_evalset s = load(b);
    xf_projopts o = {0};
    xf_projrow *r;
    size_t n = xf_project_compute(&s, &o, &r);
    cr_assert_eq(n, 3);
    const xf_projrow *e = row_of(r, n, "eng", 2), *h = row_of(r, n, "hin", 2), *z = row_of(r, n, "zho", 2);
    cr_assert_eq(e->n, 1);
    cr_assert_eq(e->ties, 1);
    cr_assert_eq(e->missing, 0);
    cr_assert_eq(e->cnt2[2], 1, "eng +, zho -");
    cr_assert_eq(e->cnt2[0] + e->cnt2[1] + e->cnt2[3], 0, "a tie counts on no side");
    cr_assert_eq(h->n, 0);
    cr_assert_eq(h->ties, 1, "the partner's tie makes the pair a tie for hin too");
    cr_assert_eq(h->missing, 1);
    cr_assert(isnan(h->x) && isnan(h->y));
    cr_assert_eq(z->cnt2[1], 1, "zho -, eng +");
    cr_assert_eq(z->missing, 1);
    NEAR(z->x, -1);
    NEAR(z->y, 1);
    free(r);
    /* |d| = 0.3 <= 0.5 is a tie with --tie-eps 0.5 */
    o.tie_eps = 0.5;
    n = xf_project_compute(&s, &o, &r);
    e = row_of(r, n, "eng", 2);
    cr_assert_eq(e->n, 0);
    cr_assert_eq(e->ties, 2);
    free(r);
    xf_evalset_free(&s);
}

Test(project, trilingual_counts, .init = setup, .fini = teardown)
{
    static char b[4096];
    strcpy(b, HDR);
    const char *L[4] = {"eng", "fra", "hin", "zho"};
    for (int i = 0; i < 4; i++) lang(b, L[i], L[i], 50);
    /* signs: efh: eng + fra + hin -;  efz: eng - fra + zho +;
     *        ehz: eng + hin - zho -;  fhz: fra - hin + zho + */
    lang(b, "hin+eng+fra", "eng", 51); lang(b, "hin+eng+fra", "fra", 52); lang(b, "hin+eng+fra", "hin", 49);
    lang(b, "eng+fra+zho", "eng", 48); lang(b, "eng+fra+zho", "fra", 51); lang(b, "eng+fra+zho", "zho", 53);
    lang(b, "eng+hin+zho", "eng", 51); lang(b, "eng+hin+zho", "hin", 47); lang(b, "eng+hin+zho", "zho", 49);
    lang(b, "fra+hin+zho", "fra", 49); lang(b, "fra+hin+zho", "hin", 51); lang(b, "fra+hin+zho", "zho", 51);
    /* rows that are not part of the analysis: a target outside its
     * combination, a base row */
    lang(b, "eng+fra+hin", "zho", 10);
    add(b, "base", "-", "eng", 40);
    xf_evalset s = load(b);
    xf_projopts o = {0};
    xf_projrow *r;
    size_t n = xf_project_compute(&s, &o, &r);
    cr_assert_eq(n, 4, "3A rows only");
    const xf_projrow *e = row_of(r, n, "eng", 3);
    /* efh: (B=fra+, C=hin-) ppm, (B=hin-, C=fra+) pmp; efz: mpp twice; ehz: pmm twice */
    const long want[8] = {0, 0, 0, 2, 2, 1, 1, 0};
    for (int k = 0; k < 8; k++) cr_assert_eq(e->cnt3[k], want[k], "cnt3[%d] = %ld", k, e->cnt3[k]);
    cr_assert_eq(e->cnt2[0], 0);
    cr_assert_eq(e->cnt2[1], 2);
    cr_assert_eq(e->cnt2[2], 3);
    cr_assert_eq(e->cnt2[3], 1);
    cr_assert_eq(e->n, 3);
    cr_assert_eq(e->ties + e->missing, 0);
    NEAR(e->x, 2.0 / 6);
    NEAR(e->y, 0);
    NEAR(e->xc[0], 1);            /* C -: mmm mpm pmm ppm = 0 0 2 1 */
    NEAR(e->yc[0], -1.0 / 3);
    NEAR(e->xc[1], -1.0 / 3);     /* C +: mmp mpp pmp ppp = 0 2 1 0 */
    NEAR(e->yc[1], 1.0 / 3);
    /* fra: efh (fra +; eng +, hin -), efz (fra +; eng -, zho +), fhz (fra -; hin +, zho +) */
    const xf_projrow *f = row_of(r, n, "fra", 3);
    const long wf[8] = {0, 0, 0, 2, 0, 2, 2, 0};
    for (int k = 0; k < 8; k++) cr_assert_eq(f->cnt3[k], wf[k], "fra cnt3[%d] = %ld", k, f->cnt3[k]);
    free(r);
    xf_evalset_free(&s);
}

static void compute_file(void *path)
{
    xf_evalset s = {0};
    xf_evalset_read(&s, path);
    xf_projopts o = {0};
    xf_projrow *r;
    xf_project_compute(&s, &o, &r);
}

static void expect_death(const char *text, const char *msg)
{
    char *p = path_in_dir(dir, "bad.tsv"), *err = path_in_dir(dir, "err");
    write_text(p, text);
    int st = run_in_child(compute_file, p, err);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit status %d", st);
    size_t len;
    char *e = xf_read_file(err, &len);
    cr_assert(strstr(e, msg), "message '%s' lacks '%s'", e, msg);
    cr_assert(strstr(e, p), "message '%s' does not name the file", e);
    cr_assert_eq(strchr(e, '\n'), e + len - 1, "one line: %s", e);
    free(e);
}

Test(project, bad_input_dies, .init = setup, .fini = teardown)
{
    static char b[4096];
    strcpy(b, HDR);
    lang(b, "eng", "eng", 50);
    lang(b, "eng+hin", "eng", 51);
    lang(b, "eng+hin", "hin", 51);
    expect_death(b, ":3: adapters eng+hin: no [hin] baseline");
    strcpy(b, HDR);
    lang(b, "eng", "eng", 50);
    lang(b, "hin", "hin", 50);
    lang(b, "eng+hin", "eng", 51);
    lang(b, "hin+eng", "eng", 52);
    expect_death(b, "the same languages as");
    strcpy(b, HDR);
    lang(b, "eng+eng", "eng", 50);
    expect_death(b, "eng is listed twice");
}

Test(project, summary_by_hand, .init = setup, .fini = teardown)
{
    static char b[4096];
    strcpy(b, HDR);
    add(b, "base", "-", "eng", 50);
    add(b, "base", "-", "hin", 40);
    lang(b, "eng", "eng", 55);        /* 1A: eng +5 (10 %), hin -2 (-5 %) */
    lang(b, "hin", "hin", 38);
    lang(b, "zho", "zho", 30);        /* no base: left out */
    lang(b, "eng+hin", "eng", 52);    /* 2A: eng mean(52, 50) = 51: +1 (2 %); hin +4 (10 %) */
    lang(b, "eng+hin", "hin", 44);
    lang(b, "eng+zho", "eng", 50);
    lang(b, "eng+hin", "zho", 99);    /* zho is not in eng+hin: not a 2A score of zho */
    strcat(b, "m\tpos\tmlm\teng\t1\t0\t-\teng\tupos_acc\t90.0000\t100\n");   /* not an adapter row */
    xf_evalset s = load(b);
    char *out = path_in_dir(dir, "sum.tsv");
    xf_zout *z = xf_zout_open(out, XF_Z_OFF);
    xf_tsopts to = {0};
    xf_project_summary(&s, &to, z, NULL);
    xf_zout_commit(z);
    size_t len;
    char *got = xf_read_file(out, &len);
    cr_assert_str_eq(got,
                     "model\ttask\tmetric\tsetting\tn_langs\tn_improved\tpct_improved\tmean_diff\tmean_rel_pct\tn_rows\n"
                     "m\tpos\tupos_acc\t1A\t2\t1\t50.00\t1.5000\t2.5000\t2\n"
                     "m\tpos\tupos_acc\t2A\t2\t2\t100.00\t2.5000\t6.0000\t3\n");
    free(got);
    xf_evalset_free(&s);
}
