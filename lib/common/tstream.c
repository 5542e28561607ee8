/* tstream.c — xf tensor streams (xf-stream(5)).  See tstream.h.
 *
 * Everything is written and read front to back through zio, so a stream can
 * be a pipe.  The reader trusts nothing: every length is checked against
 * the record it sits in before anything is allocated from it, and the
 * trailer's counts must match what was read.
 */
#define _GNU_SOURCE
#include "tstream.h"
#include "util.h"
#include "zio.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TS_VERSION 1
/* A HEAD larger than this is not provenance, it is a corrupt length. */
#define TS_MAX_HEAD (64u << 20)

/* ---- dtypes and tensors ---- */

static const struct {
    const char *name;
    size_t size;
} dtypes[] = {{"f32", 4}, {"f16", 2}, {"bf16", 2}, {"i32", 4}, {"i64", 8}, {"u8", 1}};
#define N_DTYPES (sizeof dtypes / sizeof dtypes[0])

size_t xf_dtype_size(xf_dtype d) { return (unsigned)d < N_DTYPES ? dtypes[d].size : 0; }
const char *xf_dtype_name(xf_dtype d) { return (unsigned)d < N_DTYPES ? dtypes[d].name : "?"; }

int xf_dtype_parse(const char *s, xf_dtype *d)
{
    for (size_t i = 0; i < N_DTYPES; i++)
        if (!strcmp(s, dtypes[i].name)) {
            *d = (xf_dtype)i;
            return 0;
        }
    return -1;
}

/* Element count of a shape, or -1 on a negative dimension or overflow. */
static int shape_numel(int ndim, const int64_t *shape, size_t *out)
{
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return -1;
        if (__builtin_mul_overflow(n, (uint64_t)shape[i], &n)) return -1;
    }
    *out = n;
    return 0;
}

size_t xf_tensor_numel(const xf_tensor *t)
{
    size_t n;
    if (t->ndim < 0 || t->ndim > XF_MAX_DIMS || shape_numel(t->ndim, t->shape, &n))
        die("tensor %s: bad shape (negative dimension or size overflow)", t->name ? t->name : "?");
    return n;
}

void xf_tensor_free(xf_tensor *t)
{
    if (!t) return;
    free(t->name);
    free(t->data);
    t->name = NULL;
    t->data = NULL;
    t->nbytes = 0;
}

static float f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);   /* inf / nan */
    } else if (exp) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (!man) {
        bits = sign;
    } else {   /* subnormal: normalise */
        int e = -1;
        do {
            e++;
            man <<= 1;
        } while (!(man & 0x400));
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

void xf_tensor_to_f32(xf_tensor *t)
{
    if (t->dtype == XF_F32) return;
    if (t->dtype != XF_F16 && t->dtype != XF_BF16)
        die("tensor %s: cannot convert %s to f32", t->name, xf_dtype_name(t->dtype));
    size_t n = xf_tensor_numel(t);
    float *f = xmalloc_aligned(xmul(n, 4));
    const uint16_t *h = t->data;
    if (t->dtype == XF_F16) {
        for (size_t i = 0; i < n; i++) f[i] = f16_to_f32(h[i]);
    } else {
        for (size_t i = 0; i < n; i++) {
            uint32_t bits = (uint32_t)h[i] << 16;
            memcpy(&f[i], &bits, 4);
        }
    }
    free(t->data);
    t->data = f;
    t->dtype = XF_F32;
    t->nbytes = n * 4;
}

/* ---- little-endian helpers (xf targets little-endian hosts) ---- */

static void put_u16(unsigned char *p, uint16_t v) { p[0] = v & 0xff; p[1] = v >> 8; }
static void put_u32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (v >> 8 * i) & 0xff; }
static void put_u64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (v >> 8 * i) & 0xff; }
static uint16_t get_u16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* ---- writing ---- */

struct xf_tswriter {
    xf_zout *z;
    uint64_t n_tensors, n_data;
    json_t *names;   /* set of names written, to refuse duplicates */
};

static void write_record_header(xf_tswriter *w, const char *tag, uint64_t len)
{
    unsigned char h[12];
    memcpy(h, tag, 4);
    put_u64(h + 4, len);
    xf_zout_write(w->z, h, sizeof h);
}

const char *xf_ts_gemm;

xf_tswriter *xf_ts_create(const char *path, const char *kind, long long seed, json_t *extra)
{
    json_t *head = json_object();
    json_object_set_new(head, "kind", json_string(kind));
    json_object_set_new(head, "tool", json_string(xf_progname));
    json_object_set_new(head, "version", json_string(XF_VERSION));
    json_object_set_new(head, "argv", json_string(xf_cmdline()));
    json_object_set_new(head, "seed", seed < 0 ? json_null() : json_integer(seed));
    if (xf_ts_gemm) json_object_set_new(head, "gemm", json_string(xf_ts_gemm));
    if (extra) {
        const char *key;
        json_t *val;
        json_object_foreach(extra, key, val) {
            if (!strcmp(key, "kind") || !strcmp(key, "tool") || !strcmp(key, "version") ||
                !strcmp(key, "argv") || !strcmp(key, "seed") || !strcmp(key, "gemm"))
                continue;   /* provenance is always the writer's own */
            json_object_set(head, key, val);
        }
    }
    char *text = json_dumps(head, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(head);
    if (!text) die("%s: cannot encode stream header", path);

    xf_tswriter *w = xcalloc(1, sizeof *w);
    w->z = xf_zout_open(path, XF_Z_ON);
    /* float weights hardly compress: the fastest level keeps pipes quick */
    xf_zout_set_level(w->z, 1);
    w->names = json_object();
    unsigned char magic[8];
    memcpy(magic, "XFTS", 4);
    put_u32(magic + 4, TS_VERSION);
    xf_zout_write(w->z, magic, 8);
    size_t len = strlen(text);
    write_record_header(w, "HEAD", len);
    xf_zout_write(w->z, text, len);
    free(text);
    return w;
}

void xf_ts_write(xf_tswriter *w, const char *name, xf_dtype dtype, int ndim,
                 const int64_t *shape, const void *data)
{
    const char *path = xf_zout_name(w->z);
    size_t name_len = strlen(name), numel;
    if (!name_len || name_len > 0xffff) die("%s: tensor name of length %zu", path, name_len);
    if (xf_dtype_size(dtype) == 0) die("%s: tensor %s: unknown dtype %d", path, name, (int)dtype);
    if (ndim < 0 || ndim > XF_MAX_DIMS) die("%s: tensor %s: %d dimensions", path, name, ndim);
    if (shape_numel(ndim, shape, &numel)) die("%s: tensor %s: bad shape", path, name);
    if (json_object_get(w->names, name)) die("%s: tensor %s: written twice", path, name);
    json_object_set_new(w->names, name, json_true());
    size_t nbytes = xmul(numel, xf_dtype_size(dtype));
    write_record_header(w, "TENS", 4 + name_len + 8 * (uint64_t)ndim + nbytes);
    unsigned char h[4 + 8 * XF_MAX_DIMS];
    put_u16(h, (uint16_t)name_len);
    xf_zout_write(w->z, h, 2);
    xf_zout_write(w->z, name, name_len);
    h[0] = (unsigned char)dtype;
    h[1] = (unsigned char)ndim;
    for (int i = 0; i < ndim; i++) put_u64(h + 2 + 8 * i, (uint64_t)shape[i]);
    xf_zout_write(w->z, h, 2 + 8 * (size_t)ndim);
    xf_zout_write(w->z, data, nbytes);
    w->n_tensors++;
    w->n_data += nbytes;
}

void xf_ts_write_tensor(xf_tswriter *w, const xf_tensor *t)
{
    xf_ts_write(w, t->name, t->dtype, t->ndim, t->shape, t->data);
}

static void tswriter_free(xf_tswriter *w)
{
    json_decref(w->names);
    free(w);
}

void xf_ts_commit(xf_tswriter *w)
{
    unsigned char tail[16];
    write_record_header(w, "TAIL", 16);
    put_u64(tail, w->n_tensors);
    put_u64(tail + 8, w->n_data);
    xf_zout_write(w->z, tail, 16);
    xf_zout_commit(w->z);
    tswriter_free(w);
}

void xf_ts_abort(xf_tswriter *w)
{
    xf_zout_abort(w->z);
    tswriter_free(w);
}

/* ---- reading ---- */

struct xf_tsreader {
    xf_in *in;
    json_t *head;
    json_t *names;
    uint64_t n_tensors, n_data;
    int done;
};

static const char *printable_tag(const unsigned char *tag, char *buf)
{
    for (int i = 0; i < 4; i++) buf[i] = tag[i] >= 32 && tag[i] < 127 ? (char)tag[i] : '?';
    buf[4] = 0;
    return buf;
}

xf_tsreader *xf_ts_open(const char *path)
{
    xf_tsreader *r = xcalloc(1, sizeof *r);
    r->in = xf_in_open(path);
    const char *name = xf_in_name(r->in);
    unsigned char magic[8];
    if (xf_in_read(r->in, magic, 8) != 8 || memcmp(magic, "XFTS", 4))
        die("%s: not an xf tensor stream (bad magic)", name);
    if (get_u32(magic + 4) != TS_VERSION)
        die("%s: tensor stream version %u, this xf reads version %d", name, get_u32(magic + 4), TS_VERSION);
    unsigned char h[12];
    char tagbuf[5];
    xf_in_read_exact(r->in, h, 12, "stream header record");
    if (memcmp(h, "HEAD", 4)) die("%s: first record is '%s', expected HEAD", name, printable_tag(h, tagbuf));
    uint64_t len = get_u64(h + 4);
    if (len > TS_MAX_HEAD) die("%s: HEAD record of %llu bytes (corrupt length?)", name, (unsigned long long)len);
    char *text = xmalloc(len + 1);
    xf_in_read_exact(r->in, text, len, "HEAD record");
    json_error_t err;
    r->head = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    free(text);
    if (!r->head) die("%s: HEAD: bad JSON at byte %d: %s", name, err.position, err.text);
    if (!json_is_object(r->head)) die("%s: HEAD: not a JSON object", name);
    if (!json_is_string(json_object_get(r->head, "kind"))) die("%s: HEAD: no \"kind\" string", name);
    r->names = json_object();
    return r;
}

json_t *xf_ts_head(xf_tsreader *r) { return r->head; }
const char *xf_ts_kind(xf_tsreader *r) { return json_string_value(json_object_get(r->head, "kind")); }

static void read_tail(xf_tsreader *r, uint64_t len)
{
    const char *name = xf_in_name(r->in);
    if (len != 16) die("%s: TAIL record of %llu bytes, expected 16", name, (unsigned long long)len);
    unsigned char t[16];
    xf_in_read_exact(r->in, t, 16, "TAIL record");
    uint64_t nt = get_u64(t), nd = get_u64(t + 8);
    if (nt != r->n_tensors)
        die("%s: trailer counts %llu tensors, stream has %llu", name, (unsigned long long)nt,
            (unsigned long long)r->n_tensors);
    if (nd != r->n_data)
        die("%s: trailer counts %llu data bytes, stream has %llu", name, (unsigned long long)nd,
            (unsigned long long)r->n_data);
    char extra;
    if (xf_in_read(r->in, &extra, 1)) die("%s: data after the trailer", name);
    r->done = 1;
}

int xf_ts_next(xf_tsreader *r, xf_tensor *t)
{
    memset(t, 0, sizeof *t);
    if (r->done) return 0;
    const char *name = xf_in_name(r->in);
    unsigned char h[12];
    char tagbuf[5];
    size_t got = xf_in_read(r->in, h, 12);
    if (got == 0) die("%s: truncated: no trailer after %llu tensors", name, (unsigned long long)r->n_tensors);
    if (got != 12) die("%s: truncated (record header)", name);
    uint64_t len = get_u64(h + 4);
    if (!memcmp(h, "TAIL", 4)) {
        read_tail(r, len);
        return 0;
    }
    if (!memcmp(h, "HEAD", 4)) die("%s: second HEAD record", name);
    if (memcmp(h, "TENS", 4)) die("%s: unknown record '%s'", name, printable_tag(h, tagbuf));
    if (len < 4) die("%s: TENS record of %llu bytes", name, (unsigned long long)len);

    unsigned char b[2 + 8 * XF_MAX_DIMS];
    xf_in_read_exact(r->in, b, 2, "tensor name length");
    size_t name_len = get_u16(b);
    if (!name_len) die("%s: tensor with an empty name", name);
    if (4 + (uint64_t)name_len > len) die("%s: TENS record of %llu bytes cannot hold its name", name, (unsigned long long)len);
    t->name = xmalloc(name_len + 1);
    xf_in_read_exact(r->in, t->name, name_len, "tensor name");
    t->name[name_len] = 0;
    if (strlen(t->name) != name_len) die("%s: tensor name contains a NUL byte", name);
    xf_in_read_exact(r->in, b, 2, "tensor dtype");
    if (b[0] >= N_DTYPES) die("%s: tensor %s: unknown dtype code %u", name, t->name, b[0]);
    if (b[1] > XF_MAX_DIMS) die("%s: tensor %s: %u dimensions (at most %d)", name, t->name, b[1], XF_MAX_DIMS);
    t->dtype = (xf_dtype)b[0];
    t->ndim = b[1];
    xf_in_read_exact(r->in, b, 8 * (size_t)t->ndim, "tensor shape");
    for (int i = 0; i < t->ndim; i++) {
        uint64_t d = get_u64(b + 8 * i);
        if (d > INT64_MAX) die("%s: tensor %s: dimension %d is %llu", name, t->name, i, (unsigned long long)d);
        t->shape[i] = (int64_t)d;
    }
    size_t numel;
    uint64_t nbytes;
    if (shape_numel(t->ndim, t->shape, &numel) ||
        __builtin_mul_overflow((uint64_t)numel, (uint64_t)xf_dtype_size(t->dtype), &nbytes))
        die("%s: tensor %s: shape overflows", name, t->name);
    uint64_t meta = 4 + (uint64_t)name_len + 8 * (uint64_t)t->ndim;
    if (len < meta || len - meta != nbytes)
        die("%s: tensor %s: record holds %llu bytes, shape needs %llu", name, t->name,
            (unsigned long long)(len < meta ? 0 : len - meta), (unsigned long long)nbytes);
    if (json_object_get(r->names, t->name)) die("%s: tensor %s: appears twice", name, t->name);
    json_object_set_new(r->names, t->name, json_true());
    /* A corrupt shape that still matches its record length can ask for a
     * huge buffer: that is an "out of memory" or a truncation error. */
    t->nbytes = nbytes;
    t->data = xmalloc_aligned(nbytes);
    char what[64 + 256];
    snprintf(what, sizeof what, "data of tensor %.256s", t->name);
    xf_in_read_exact(r->in, t->data, nbytes, what);
    r->n_tensors++;
    r->n_data += nbytes;
    return 1;
}

void xf_ts_close(xf_tsreader *r)
{
    if (!r) return;
    xf_in_close(r->in);
    json_decref(r->head);
    json_decref(r->names);
    free(r);
}

/* ---- tensor sets ---- */

xf_tensorset *xf_tset_new(void) { return xcalloc(1, sizeof(xf_tensorset)); }

static size_t name_hash(const char *name)
{
    uint64_t h = 14695981039346656037ull;   /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 1099511628211ull;
    return (size_t)h;
}

/* The slot holding NAME, or the empty slot where it would go. */
static size_t tset_slot(const xf_tensorset *s, const char *name)
{
    size_t mask = s->nslots - 1, k = name_hash(name) & mask;
    while (s->idx[k] && strcmp(s->t[s->idx[k] - 1].name, name)) k = (k + 1) & mask;
    return k;
}

/* Rebuilds the index for the first s->n entries with room for CAP of them. */
static void tset_reindex(xf_tensorset *s, size_t cap)
{
    size_t want = 16;
    while (want <= 2 * cap) want *= 2;
    free(s->idx);
    s->idx = xcalloc(want, sizeof *s->idx);
    s->nslots = want;
    for (size_t i = 0; i < s->n; i++) s->idx[tset_slot(s, s->t[i].name)] = i + 1;
}

void xf_tset_add(xf_tensorset *s, xf_tensor *t)
{
    if (!s->nslots || 2 * (s->n + 1) >= s->nslots) tset_reindex(s, 2 * (s->n + 1));
    size_t k = tset_slot(s, t->name);
    if (s->idx[k]) die("tensor %s: duplicate name", t->name);
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->t = xrealloc(s->t, s->cap * sizeof *s->t);
    }
    s->t[s->n++] = *t;
    s->idx[k] = s->n;
    memset(t, 0, sizeof *t);
}

xf_tensor *xf_tset_get(const xf_tensorset *s, const char *name)
{
    if (!s->nslots) return NULL;
    size_t k = tset_slot(s, name);
    return s->idx[k] ? &s->t[s->idx[k] - 1] : NULL;
}

void xf_tset_rename(xf_tensorset *s, size_t i, char *name)
{
    if (i >= s->n) die("tensor set: rename of entry %zu of %zu", i, s->n);
    if (!strcmp(s->t[i].name, name)) {
        free(name);
        return;
    }
    if (xf_tset_get(s, name)) die("tensor %s: duplicate name (renaming %s)", name, s->t[i].name);
    /* delete the old slot: empty it and re-place the rest of its cluster */
    size_t mask = s->nslots - 1, k = tset_slot(s, s->t[i].name);
    s->idx[k] = 0;
    for (size_t j = (k + 1) & mask; s->idx[j]; j = (j + 1) & mask) {
        size_t e = s->idx[j];
        s->idx[j] = 0;
        s->idx[tset_slot(s, s->t[e - 1].name)] = e;
    }
    free(s->t[i].name);
    s->t[i].name = name;
    s->idx[tset_slot(s, name)] = i + 1;
}

void xf_tset_remove(xf_tensorset *s, size_t i)
{
    if (i >= s->n) die("tensor set: removal of entry %zu of %zu", i, s->n);
    xf_tensor_free(&s->t[i]);
    memmove(&s->t[i], &s->t[i + 1], (s->n - i - 1) * sizeof *s->t);
    s->n--;
    tset_reindex(s, s->n);
}

xf_tensorset *xf_tset_read_stream(const char *path)
{
    xf_tsreader *r = xf_ts_open(path);
    xf_tensorset *s = xf_tset_new();
    s->head = json_incref(xf_ts_head(r));
    xf_tensor t;
    while (xf_ts_next(r, &t)) xf_tset_add(s, &t);
    xf_ts_close(r);
    return s;
}

void xf_tset_write_stream(const xf_tensorset *s, const char *path, const char *kind,
                          long long seed, json_t *extra)
{
    xf_tswriter *w = xf_ts_create(path, kind, seed, extra);
    for (size_t i = 0; i < s->n; i++) xf_ts_write_tensor(w, &s->t[i]);
    xf_ts_commit(w);
}

void xf_tset_free(xf_tensorset *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) xf_tensor_free(&s->t[i]);
    free(s->t);
    free(s->idx);
    json_decref(s->head);
    free(s);
}

int xf_is_tstream(const char *path)
{
    struct stat st;
    if (stat(path, &st) || S_ISDIR(st.st_mode)) return 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    close(fd);
    xf_in *in = xf_in_open(path);
    unsigned char magic[4];
    int yes = xf_in_read(in, magic, 4) == 4 && !memcmp(magic, "XFTS", 4);
    xf_in_close(in);
    return yes;
}
