/* test_tstream.c — tensor streams: round trips (every dtype, 0-d and empty
 * tensors, files and pipes) and every kind of damaged stream. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tstream.h"
#include "util.h"
#include "zio.h"
#include "testutil.h"

static char dir[64];

static void setup(void) { make_temp_dir(dir, "/tmp/xf-test-ts.XXXXXX"); }
static void teardown(void) { remove_temp_dir(dir); }
static char *path_in(const char *name) { return path_in_dir(dir, name); }

TestSuite(tstream, .init = setup, .fini = teardown);

/* One tensor per dtype, a 0-d scalar and two empty tensors. */
static void write_sample(const char *path)
{
    json_t *extra = json_pack("{s:s, s:i}", "note", "sample", "seed", 99);
    xf_tswriter *w = xf_ts_create(path, "model", 42, extra);
    json_decref(extra);
    float f32[6] = {1.5f, -2.0f, 0.0f, 3.25f, 1e-30f, -7.0f};
    uint16_t f16[3] = {0x3c00, 0xc000, 0x0001};   /* 1, -2, smallest subnormal */
    uint16_t bf16[2] = {0x3fc0, 0xc040};          /* 1.5, -3 */
    int32_t i32[4] = {1, -2, 2147483647, -2147483647 - 1};
    int64_t i64[2] = {INT64_MAX, -5};
    uint8_t u8[5] = {0, 1, 127, 128, 255};
    int64_t s23[2] = {2, 3}, s3[1] = {3}, s2[1] = {2}, s4[1] = {4}, s5[1] = {5}, s30[2] = {3, 0}, s0[1] = {0};
    float scalar = 6.5f;
    xf_ts_write(w, "a.f32", XF_F32, 2, s23, f32);
    xf_ts_write(w, "b.f16", XF_F16, 1, s3, f16);
    xf_ts_write(w, "c.bf16", XF_BF16, 1, s2, bf16);
    xf_ts_write(w, "d.i32", XF_I32, 1, s4, i32);
    xf_ts_write(w, "e.i64", XF_I64, 1, s2, i64);
    xf_ts_write(w, "f.u8", XF_U8, 1, s5, u8);
    xf_ts_write(w, "g.scalar", XF_F32, 0, NULL, &scalar);
    xf_ts_write(w, "h.empty", XF_F32, 2, s30, NULL);
    xf_ts_write(w, "i.empty1", XF_I64, 1, s0, NULL);
    xf_ts_commit(w);
}

static void check_sample(xf_tensorset *s)
{
    cr_assert_eq(s->n, 9);
    xf_tensor *t = xf_tset_get(s, "a.f32");
    cr_assert(t && t->dtype == XF_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3);
    cr_assert_eq(((float *)t->data)[3], 3.25f);
    cr_assert_eq(((uintptr_t)t->data) % 64, 0, "data is 64-byte aligned");
    t = xf_tset_get(s, "b.f16");
    cr_assert(t && t->dtype == XF_F16 && t->nbytes == 6);
    xf_tensor_to_f32(t);
    cr_assert_eq(((float *)t->data)[0], 1.0f);
    cr_assert_eq(((float *)t->data)[1], -2.0f);
    cr_assert_float_eq(((float *)t->data)[2], 5.960464477539063e-08f, 1e-15);
    t = xf_tset_get(s, "c.bf16");
    xf_tensor_to_f32(t);
    cr_assert_eq(((float *)t->data)[0], 1.5f);
    cr_assert_eq(((float *)t->data)[1], -3.0f);
    t = xf_tset_get(s, "d.i32");
    cr_assert_eq(((int32_t *)t->data)[3], -2147483647 - 1);
    t = xf_tset_get(s, "e.i64");
    cr_assert_eq(((int64_t *)t->data)[0], INT64_MAX);
    t = xf_tset_get(s, "f.u8");
    cr_assert_eq(((uint8_t *)t->data)[4], 255);
    t = xf_tset_get(s, "g.scalar");
    cr_assert(t && t->ndim == 0 && xf_tensor_numel(t) == 1 && ((float *)t->data)[0] == 6.5f);
    t = xf_tset_get(s, "h.empty");
    cr_assert(t && t->ndim == 2 && t->shape[1] == 0 && t->nbytes == 0 && xf_tensor_numel(t) == 0);
    t = xf_tset_get(s, "i.empty1");
    cr_assert(t && t->dtype == XF_I64 && t->nbytes == 0);
    cr_assert_null(xf_tset_get(s, "nope"));
}

Test(tstream, roundtrip_file)
{
    write_sample(path_in("s.xfts"));
    xf_tensorset *s = xf_tset_read_stream(path_in("s.xfts"));
    check_sample(s);
    json_t *h = s->head;
    cr_assert_str_eq(json_string_value(json_object_get(h, "kind")), "model");
    cr_assert_str_eq(json_string_value(json_object_get(h, "version")), XF_VERSION);
    cr_assert(json_is_string(json_object_get(h, "tool")));
    cr_assert(json_is_string(json_object_get(h, "argv")));
    cr_assert_eq(json_integer_value(json_object_get(h, "seed")), 42, "seed is the writer's, not EXTRA's");
    cr_assert_str_eq(json_string_value(json_object_get(h, "note")), "sample");
    xf_tset_free(s);
    cr_assert(xf_is_tstream(path_in("s.xfts")));
    cr_assert_not(xf_is_tstream(dir));
}

Test(tstream, roundtrip_pipe_and_rewrite_is_identical)
{
    write_sample(path_in("s.xfts"));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cat %s", path_in("s.xfts"));
    FILE *p = popen(cmd, "r");
    int saved = dup(0);
    dup2(fileno(p), 0);
    xf_tsreader *r = xf_ts_open("-");
    cr_assert_str_eq(xf_ts_kind(r), "model");
    xf_tensorset *s = xf_tset_new();
    xf_tensor t;
    while (xf_ts_next(r, &t)) xf_tset_add(s, &t);
    cr_assert_eq(xf_ts_next(r, &t), 0, "stays at end");
    xf_ts_close(r);
    dup2(saved, 0);
    pclose(p);
    check_sample(s);
    /* same set + same writer ⇒ same bytes */
    xf_tset_free(s);
    s = xf_tset_read_stream(path_in("s.xfts"));
    xf_tset_write_stream(s, path_in("a"), "model", 1, NULL);
    xf_tset_write_stream(s, path_in("b"), "model", 1, NULL);
    xf_tset_free(s);
    size_t na, nb;
    char *a = xf_read_file(path_in("a"), &na), *b = xf_read_file(path_in("b"), &nb);
    cr_assert(na == nb && !memcmp(a, b, na));
    free(a);
    free(b);
}

Test(tstream, null_seed_and_abort)
{
    xf_tswriter *w = xf_ts_create(path_in("x"), "adapter", -1, NULL);
    xf_ts_abort(w);
    cr_assert(access(path_in("x"), F_OK) != 0);
    w = xf_ts_create(path_in("x"), "adapter", -1, NULL);
    xf_ts_commit(w);
    xf_tsreader *r = xf_ts_open(path_in("x"));
    cr_assert(json_is_null(json_object_get(xf_ts_head(r), "seed")));
    xf_tensor t;
    cr_assert_eq(xf_ts_next(r, &t), 0);
    xf_ts_close(r);
}

Test(tstream, dtype_names)
{
    xf_dtype d;
    cr_assert_eq(xf_dtype_parse("bf16", &d), 0);
    cr_assert_eq(d, XF_BF16);
    cr_assert_eq(xf_dtype_parse("f64", &d), -1);
    cr_assert_str_eq(xf_dtype_name(XF_U8), "u8");
    cr_assert_eq(xf_dtype_size(XF_I64), 8);
}

/* ---- damaged streams ---- */

static unsigned char *raw;   /* the sample, decompressed */
static size_t raw_len;

static void load_raw(void)
{
    write_sample(path_in("s.xfts"));
    raw = (unsigned char *)xf_read_file(path_in("s.xfts"), &raw_len);
}

/* Writes BYTES (compressed unless PLAIN) to NAME. */
static void write_bytes(const char *name, const void *bytes, size_t n, int plain)
{
    xf_zout *z = xf_zout_open(path_in(name), plain ? XF_Z_OFF : XF_Z_ON);
    xf_zout_write(z, bytes, n);
    xf_zout_commit(z);
}

static void read_named(void *name)
{
    xf_tensorset *s = xf_tset_read_stream(path_in(name));
    xf_tset_free(s);
}

/* Reads NAME as a stream in a child; asserts exit 1 and a message holding WANT. */
static void expect_die(const char *name, const char *want)
{
    int st = run_in_child(read_named, (void *)name, path_in("err"));
    size_t n;
    char *msg = xf_read_file(path_in("err"), &n);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: expected exit 1 (stderr: %s)", name, msg);
    cr_assert(strstr(msg, want), "%s: message '%s' lacks '%s'", name, msg, want);
    cr_assert(strstr(msg, path_in(name)), "%s: message '%s' does not name the file", name, msg);
    free(msg);
}

static size_t find(const char *needle)
{
    for (size_t i = 0; i + strlen(needle) <= raw_len; i++)
        if (!memcmp(raw + i, needle, strlen(needle))) return i;
    cr_assert_fail("'%s' not in stream", needle);
    return 0;
}

Test(tstream, truncated_at_several_points)
{
    load_raw();
    size_t tens = find("TENS"), tail = find("TAIL");
    size_t cuts[] = {3, 10, tens - 5, tens + 7, tens + 20, tail - 3, tail, tail + 6, raw_len - 1};
    const char *want[] = {"not an xf tensor stream", "truncated", "truncated", "truncated", "truncated",
                          "truncated", "no trailer", "truncated", "truncated"};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "cut%zu", i);
        write_bytes(name, raw, cuts[i], 0);
        expect_die(name, want[i]);
    }
    free(raw);
}

Test(tstream, truncated_zstd_file)
{
    load_raw();
    size_t n;
    char *z = xf_read_file(path_in("s.xfts"), &n);   /* decompressed; recompress to cut the frame */
    free(z);
    FILE *f = fopen(path_in("s.xfts"), "rb");
    unsigned char buf[1 << 16];
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t cut = 1; cut <= 9; cut += 4) {
        char name[32];
        snprintf(name, sizeof name, "zcut%zu", cut);
        f = fopen(path_in(name), "wb");
        fwrite(buf, 1, n - cut, f);
        fclose(f);
        expect_die(name, "truncated");
    }
    free(raw);
}

Test(tstream, corrupt_zstd_byte)
{
    load_raw();
    FILE *f = fopen(path_in("s.xfts"), "rb");
    unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    buf[n / 2] ^= 0x10;
    f = fopen(path_in("flip"), "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    expect_die("flip", "zstd");
    free(raw);
}

Test(tstream, trailer_problems)
{
    load_raw();
    size_t tail = find("TAIL");
    write_bytes("notail", raw, tail, 0);
    expect_die("notail", "no trailer after 9 tensors");
    unsigned char *b = malloc(raw_len + 4);
    memcpy(b, raw, raw_len);
    b[tail + 12] = 8;   /* n_tensors 9 → 8 */
    write_bytes("count", b, raw_len, 0);
    expect_die("count", "trailer counts 8 tensors, stream has 9");
    memcpy(b, raw, raw_len);
    b[tail + 20] ^= 1;   /* n_data_bytes */
    write_bytes("bytes", b, raw_len, 0);
    expect_die("bytes", "data bytes");
    memcpy(b, raw, raw_len);
    b[tail + 4] = 17;   /* TAIL len */
    write_bytes("taillen", b, raw_len, 0);
    expect_die("taillen", "TAIL record of 17 bytes");
    memcpy(b, raw, raw_len);
    memcpy(b + raw_len, "junk", 4);
    write_bytes("after", b, raw_len + 4, 0);
    expect_die("after", "data after the trailer");
    free(b);
    free(raw);
}

Test(tstream, bad_records)
{
    load_raw();
    size_t tens = find("TENS");
    unsigned char *b = malloc(raw_len);
    /* bad magic, version */
    memcpy(b, raw, raw_len);
    b[0] = 'Y';
    write_bytes("magic", b, raw_len, 0);
    expect_die("magic", "bad magic");
    memcpy(b, raw, raw_len);
    b[4] = 2;
    write_bytes("version", b, raw_len, 0);
    expect_die("version", "version 2");
    /* first TENS is "a.f32": u16 name_len(5) name dtype ndim shape... */
    size_t rec = tens + 12;
    memcpy(b, raw, raw_len);
    b[rec + 2 + 5] = 9;   /* dtype code */
    write_bytes("dtype", b, raw_len, 0);
    expect_die("dtype", "tensor a.f32: unknown dtype code 9");
    memcpy(b, raw, raw_len);
    b[rec + 2 + 5 + 1] = 9;   /* ndim */
    write_bytes("ndim", b, raw_len, 0);
    expect_die("ndim", "tensor a.f32: 9 dimensions");
    memcpy(b, raw, raw_len);
    b[rec + 2 + 5 + 2] = 3;   /* shape[0] 2 → 3: record too short for it */
    write_bytes("shape", b, raw_len, 0);
    expect_die("shape", "tensor a.f32: record holds 24 bytes, shape needs 36");
    memcpy(b, raw, raw_len);
    b[rec + 2 + 5 + 2 + 7] = 0x40;   /* shape[0] huge: overflow */
    b[rec + 2 + 5 + 2 + 8 + 7] = 0x40;
    write_bytes("overflow", b, raw_len, 0);
    expect_die("overflow", "shape overflows");
    memcpy(b, raw, raw_len);
    memcpy(b + tens, "TENZ", 4);
    write_bytes("tag", b, raw_len, 0);
    expect_die("tag", "unknown record 'TENZ'");
    /* second tensor renamed to the first one's name: "b.f16" → "a.f16" is
     * distinct, so rename "b.f16" to "a.f32" needs the same length: use g */
    memcpy(b, raw, raw_len);
    size_t second = tens + 1;
    while (memcmp(b + second, "TENS", 4)) second++;
    memcpy(b + second + 14, "a.f32", 5);   /* "b.f16" (5 bytes) → "a.f32" */
    write_bytes("dup", b, raw_len, 0);
    expect_die("dup", "tensor a.f32: appears twice");
    /* HEAD that is not JSON */
    memcpy(b, raw, raw_len);
    b[8 + 12] = '[';
    write_bytes("head", b, raw_len, 0);
    expect_die("head", "HEAD");
    /* uncompressed streams are read as well (zstd is detected, not required) */
    write_bytes("plain", raw, raw_len, 1);
    xf_tensorset *s = xf_tset_read_stream(path_in("plain"));
    check_sample(s);
    xf_tset_free(s);
    free(b);
    free(raw);
}

Test(tstream, duplicate_in_set, .exit_code = 1)
{
    cr_redirect_stderr();
    xf_tensorset *s = xf_tset_new();
    float v = 1;
    for (int i = 0; i < 2; i++) {
        xf_tensor t = {.name = xstrdup("x"), .dtype = XF_F32, .ndim = 0, .nbytes = 4};
        t.data = xmalloc_aligned(4);
        memcpy(t.data, &v, 4);
        xf_tset_add(s, &t);
    }
}

Test(tstream, duplicate_write, .exit_code = 1)
{
    cr_redirect_stderr();
    xf_tswriter *w = xf_ts_create(path_in("d"), "model", 0, NULL);
    float v = 1;
    xf_ts_write(w, "x", XF_F32, 0, NULL, &v);
    xf_ts_write(w, "x", XF_F32, 0, NULL, &v);
}

/* ---- the hash index of tensor sets ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void add_empty(xf_tensorset *s, const char *name)
{
    xf_tensor t = {.name = xstrdup(name), .dtype = XF_F32, .ndim = 1, .shape = {0}};
    t.data = xmalloc_aligned(64);
    xf_tset_add(s, &t);
}

Test(tstream, set_rename_remove_keep_lookups_right)
{
    xf_tensorset *s = xf_tset_new();
    char nm[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(nm, sizeof nm, "t%d", i);
        add_empty(s, nm);
    }
    for (int i = 0; i < 1000; i += 2) {   /* t0, t2, ... → r0, r2, ... */
        snprintf(nm, sizeof nm, "r%d", i);
        xf_tset_rename(s, (size_t)i, xstrdup(nm));
    }
    xf_tset_remove(s, 1);      /* t1 */
    xf_tset_remove(s, 997);    /* entry 997 is now t998's old slot: r998 */
    cr_assert_eq(s->n, 998);
    for (int i = 0; i < 1000; i++) {
        char t[32], r[32];
        snprintf(t, sizeof t, "t%d", i);
        snprintf(r, sizeof r, "r%d", i);
        xf_tensor *a = xf_tset_get(s, t), *b = xf_tset_get(s, r);
        int gone = i == 1 || i == 998;
        if (gone) cr_assert(!a && !b, "%d should be gone", i);
        else if (i % 2) cr_assert(a && !b && !strcmp(a->name, t), "%s", t);
        else cr_assert(b && !a && !strcmp(b->name, r), "%s", r);
    }
    add_empty(s, "t1");
    cr_assert_eq(xf_tset_get(s, "t1"), &s->t[s->n - 1]);
    xf_tset_free(s);
}

static void rename_onto_existing(void *ctx)
{
    xf_tensorset *s = xf_tset_new();
    add_empty(s, "a");
    add_empty(s, "b");
    xf_tset_rename(s, 0, xstrdup("b"));
}

Test(tstream, set_rename_onto_existing_dies)
{
    int st = run_in_child(rename_onto_existing, NULL, NULL);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
}

/* A 200k-tensor stream of empty tensors (about 100 KB compressed) used to
 * take minutes to load (a linear lookup per insert).  The bound is
 * generous (a loaded 2-core machine takes about a second). */
Test(tstream, set_of_200k_tensors_is_fast, .timeout = 120)
{
    const int N = 200000;
    xf_tswriter *w = xf_ts_create(path_in("many"), "model", 1, NULL);
    int64_t shape[1] = {0};
    char nm[32];
    for (int i = 0; i < N; i++) {
        snprintf(nm, sizeof nm, "t%d", i);
        xf_ts_write(w, nm, XF_F32, 1, shape, NULL);
    }
    xf_ts_commit(w);
    double t0 = now_s();
    xf_tensorset *s = xf_tset_read_stream(path_in("many"));
    double dt = now_s() - t0;
    cr_assert_eq(s->n, (size_t)N);
    cr_assert(xf_tset_get(s, "t199999") && xf_tset_get(s, "t0") && !xf_tset_get(s, "t200000"));
    cr_assert(dt < 30, "reading 200k tensors took %.1f s", dt);
    xf_tset_free(s);
}
