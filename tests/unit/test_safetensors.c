/* test_safetensors.c — safetensors write/read round trips, the reference
 * layout, and every validation rule on hand-made broken files. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "safetensors.h"
#include "util.h"
#include "zio.h"
#include "testutil.h"

static char dir[64];

static void setup(void) { make_temp_dir(dir, "/tmp/xf-test-st.XXXXXX"); }
static void teardown(void) { remove_temp_dir(dir); }
static char *path_in(const char *name) { return path_in_dir(dir, name); }

TestSuite(safetensors, .init = setup, .fini = teardown);

static void add(xf_tensorset *s, const char *name, xf_dtype d, int ndim, const int64_t *shape, const void *data)
{
    xf_tensor t = {.name = xstrdup(name), .dtype = d, .ndim = ndim};
    if (ndim) memcpy(t.shape, shape, sizeof(int64_t) * (size_t)ndim);
    t.nbytes = xf_tensor_numel(&t) * xf_dtype_size(d);
    t.data = xmalloc_aligned(t.nbytes);
    if (t.nbytes) memcpy(t.data, data, t.nbytes);
    xf_tset_add(s, &t);
}

static xf_tensorset *sample(void)
{
    xf_tensorset *s = xf_tset_new();
    float f[6] = {1, 2, 3, 4, 5, 6}, sc = 9;
    uint16_t h[2] = {0x3c00, 0x4000};
    int32_t i[3] = {-1, 0, 1};
    int64_t l[1] = {1LL << 40};
    uint8_t u[3] = {7, 8, 9};
    int64_t s23[2] = {2, 3}, s2[1] = {2}, s3[1] = {3}, s1[1] = {1}, s0[2] = {4, 0};
    add(s, "z.weight", XF_F32, 2, s23, f);
    add(s, "a.half", XF_F16, 1, s2, h);
    add(s, "b.brain", XF_BF16, 1, s2, h);
    add(s, "c.int", XF_I32, 1, s3, i);
    add(s, "d.long", XF_I64, 1, s1, l);
    add(s, "e.byte", XF_U8, 1, s3, u);
    add(s, "scalar", XF_F32, 0, NULL, &sc);
    add(s, "empty", XF_F32, 2, s0, NULL);
    return s;
}

Test(safetensors, roundtrip)
{
    xf_tensorset *s = sample();
    json_t *meta = json_pack("{s:s}", "format", "pt");
    xf_safetensors_write(path_in("m.safetensors"), s, meta);
    json_t *got_meta;
    xf_tensorset *r = xf_safetensors_read(path_in("m.safetensors"), &got_meta);
    cr_assert_eq(r->n, s->n);
    for (size_t k = 0; k < s->n; k++) {
        xf_tensor *a = &s->t[k], *b = xf_tset_get(r, a->name);
        cr_assert(b, "%s missing", a->name);
        cr_assert_eq(a->dtype, b->dtype);
        cr_assert_eq(a->ndim, b->ndim);
        for (int d = 0; d < a->ndim; d++) cr_assert_eq(a->shape[d], b->shape[d]);
        cr_assert_eq(a->nbytes, b->nbytes);
        cr_assert(!a->nbytes || !memcmp(a->data, b->data, a->nbytes), "%s data differs", a->name);
    }
    cr_assert_str_eq(json_string_value(json_object_get(got_meta, "format")), "pt");
    json_decref(got_meta);
    json_decref(meta);
    xf_tset_free(r);
    xf_tset_free(s);
}

/* The reference writer's layout: u64 length, header padded with spaces to
 * a multiple of 8, __metadata__ first, then descending dtype alignment
 * (I64 F32 I32 BF16 F16 U8) and names ascending; data in that order. */
Test(safetensors, reference_layout)
{
    xf_tensorset *s = sample();
    json_t *meta = json_pack("{s:s}", "format", "pt");
    xf_safetensors_write(path_in("m.safetensors"), s, meta);
    json_decref(meta);
    size_t n;
    char *b = xf_read_file(path_in("m.safetensors"), &n);
    uint64_t hlen = 0;
    memcpy(&hlen, b, 8);
    cr_assert_eq(hlen % 8, 0);
    const char *want =
        "{\"__metadata__\":{\"format\":\"pt\"},"
        "\"d.long\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
        "\"empty\":{\"dtype\":\"F32\",\"shape\":[4,0],\"data_offsets\":[8,8]},"
        "\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]},"
        "\"z.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[12,36]},"
        "\"c.int\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[36,48]},"
        "\"b.brain\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[48,52]},"
        "\"a.half\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[52,56]},"
        "\"e.byte\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[56,59]}}";
    size_t wl = strlen(want);
    cr_assert(hlen >= wl && hlen < wl + 8);
    cr_assert(!memcmp(b + 8, want, wl), "header: %.*s", (int)hlen, b + 8);
    for (size_t i = wl; i < hlen; i++) cr_assert_eq(b[8 + i], ' ');
    cr_assert_eq(n, 8 + hlen + 59);
    int64_t l;
    memcpy(&l, b + 8 + hlen, 8);
    cr_assert_eq(l, 1LL << 40);
    free(b);
    xf_tset_free(s);
}

/* ---- broken files, made by hand ---- */

/* Writes u64 HLEN (or strlen(header) if HLEN < 0), HEADER, then NDATA bytes. */
static void make_file(const char *name, long long hlen, const char *header, size_t ndata)
{
    FILE *f = fopen(path_in(name), "wb");
    uint64_t h = hlen < 0 ? strlen(header) : (uint64_t)hlen;
    fwrite(&h, 8, 1, f);
    fputs(header, f);
    for (size_t i = 0; i < ndata; i++) fputc((int)(i & 0xff), f);
    fclose(f);
}

static void read_named(void *name)
{
    xf_tensorset *s = xf_safetensors_read(path_in(name), NULL);
    xf_tset_free(s);
}

static void expect_die(const char *name, const char *want)
{
    int st = run_in_child(read_named, (void *)name, path_in("err"));
    size_t n;
    char *msg = xf_read_file(path_in("err"), &n);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: expected exit 1 (stderr: %s)", name, msg);
    char full[256];
    snprintf(full, sizeof full, "%s: %s", path_in(name), want);
    cr_assert(strstr(msg, full), "%s: message '%s' lacks '%s'", name, msg, full);
    cr_assert_eq(strchr(msg, '\n'), msg + n - 1, "one line: %s", msg);
    free(msg);
}

#define E(name, dtype, shape, b, e) "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"

Test(safetensors, valid_handmade_with_padding_and_order)
{
    /* entries out of offset order, header padded: valid */
    make_file("ok", -1, "{" E("b", "F32", "[2]", 8, 16) "," E("a", "U8", "[8]", 0, 8) "}   ", 16);
    xf_tensorset *s = xf_safetensors_read(path_in("ok"), NULL);
    cr_assert_eq(s->n, 2);
    cr_assert_str_eq(s->t[0].name, "a");   /* file order */
    xf_tset_free(s);
}

Test(safetensors, oversized_header)
{
    make_file("big", 100000001, "{}", 0);
    expect_die("big", "header: length 100000001 exceeds the limit");
    make_file("past", 4096, "{}", 0);
    expect_die("past", "header: length 4096 runs past the end of the file");
    FILE *f = fopen(path_in("tiny"), "wb");
    fputs("abc", f);
    fclose(f);
    expect_die("tiny", "header: file of 3 bytes");
}

Test(safetensors, bad_json)
{
    make_file("json", -1, "{\"a\":{\"dtype\":\"F32\",", 0);
    expect_die("json", "header: bad JSON");
    make_file("arr", -1, "[1,2]", 0);
    expect_die("arr", "header: does not start with '{'");
    make_file("dupkey", -1, "{" E("a", "U8", "[1]", 0, 1) "," E("a", "U8", "[1]", 1, 2) "}", 2);
    expect_die("dupkey", "header: bad JSON");
    make_file("meta", -1, "{\"__metadata__\":{\"x\":1}," E("a", "U8", "[1]", 0, 1) "}", 1);
    expect_die("meta", "header: __metadata__ value 'x' is not a string");
    make_file("entry", -1, "{\"a\":3}", 0);
    expect_die("entry", "tensor a: header entry is not an object");
    make_file("noshape", -1, "{\"a\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1);
    expect_die("noshape", "tensor a: no \"shape\" array");
}

Test(safetensors, dtypes)
{
    make_file("f64", -1, "{" E("w", "F64", "[1]", 0, 8) "}", 8);
    expect_die("f64", "tensor w: dtype F64 is not supported");
    make_file("q", -1, "{" E("w", "Q4", "[1]", 0, 1) "}", 1);
    expect_die("q", "tensor w: unknown dtype 'Q4'");
}

Test(safetensors, offsets)
{
    make_file("overlap", -1, "{" E("a", "F32", "[2]", 0, 8) "," E("b", "F32", "[2]", 4, 12) "}", 12);
    expect_die("overlap", "tensor b: data_offsets [4, 12] overlap tensor a");
    make_file("gap", -1, "{" E("a", "F32", "[1]", 0, 4) "," E("b", "F32", "[1]", 8, 12) "}", 12);
    expect_die("gap", "tensor b: data_offsets [8, 12] leave a gap after byte 4");
    make_file("start", -1, "{" E("a", "F32", "[1]", 4, 8) "}", 8);
    expect_die("start", "tensor a: data_offsets [4, 8] leave a gap after byte 0");
    make_file("oob", -1, "{" E("a", "F32", "[2]", 0, 8) "}", 4);
    expect_die("oob", "tensor a: data_offsets end at 8, past the data area (4 bytes)");
    make_file("back", -1, "{" E("a", "F32", "[1]", 8, 4) "}", 8);
    expect_die("back", "tensor a: data_offsets [8, 4] end before they begin");
    make_file("neg", -1, "{" E("a", "F32", "[1]", -4, 0) "}", 0);
    expect_die("neg", "tensor a: data_offsets are not non-negative integers");
}

Test(safetensors, shapes)
{
    make_file("mismatch", -1, "{" E("a", "F32", "[3]", 0, 8) "}", 8);
    expect_die("mismatch", "tensor a: shape and dtype need 12 bytes, data_offsets [0, 8] hold 8");
    make_file("overflow", -1, "{" E("a", "F32", "[4294967296,4294967296]", 0, 8) "}", 8);
    expect_die("overflow", "tensor a: shape product overflows");
    make_file("overflow2", -1, "{" E("a", "I64", "[4611686018427387904]", 0, 8) "}", 8);
    expect_die("overflow2", "tensor a: byte size overflows");
    make_file("negdim", -1, "{" E("a", "F32", "[-1]", 0, 0) "}", 0);
    expect_die("negdim", "tensor a: shape[0] is not a non-negative integer");
}

Test(safetensors, file_size)
{
    make_file("extra", -1, "{" E("a", "F32", "[1]", 0, 4) "}", 6);
    expect_die("extra", "file size mismatch");
}

Test(safetensors, missing_file, .exit_code = 1)
{
    cr_redirect_stderr();
    xf_safetensors_read(path_in("nope.safetensors"), NULL);
}

/* A safetensors header listing 200k tensors: the set is built with a hash
 * index, not a linear lookup per insert (generous bound). */
Test(safetensors, header_of_200k_tensors_is_fast, .timeout = 120)
{
    const int N = 200000;
    xf_tensorset *s = xf_tset_new();
    char nm[32];
    for (int i = 0; i < N; i++) {
        snprintf(nm, sizeof nm, "t%d", i);
        xf_tensor t = {.name = xstrdup(nm), .dtype = XF_F32, .ndim = 1, .shape = {0}};
        t.data = xmalloc_aligned(64);
        xf_tset_add(s, &t);
    }
    xf_safetensors_write(path_in("many.safetensors"), s, NULL);
    xf_tset_free(s);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    s = xf_safetensors_read(path_in("many.safetensors"), NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double dt = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
    cr_assert_eq(s->n, (size_t)N);
    cr_assert(xf_tset_get(s, "t123456"));
    cr_assert(dt < 30, "reading 200k tensors took %.1f s", dt);
    xf_tset_free(s);
}
