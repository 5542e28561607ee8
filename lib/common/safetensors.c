/* safetensors.c — see safetensors.h. */
#define _GNU_SOURCE
#include "safetensors.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* xf dtype → safetensors name, and its rank in the reference's dtype enum
 * (increasing alignment), which orders tensors on write. */
static const struct {
    const char *name;
    int rank;
} st_dtypes[] = {
    [XF_F32] = {"F32", 14}, [XF_F16] = {"F16", 11}, [XF_BF16] = {"BF16", 12},
    [XF_I32] = {"I32", 13}, [XF_I64] = {"I64", 16}, [XF_U8] = {"U8", 2},
};

/* dtypes of the format that xf does not load */
static const char *const unsupported[] = {"BOOL", "I8", "I16", "U16", "U32", "U64", "F64",
                                          "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3",
                                          "F6_E3M2", "C64"};

const char *xf_safetensors_dtype_name(xf_dtype d)
{
    return (unsigned)d < sizeof st_dtypes / sizeof st_dtypes[0] ? st_dtypes[d].name : "?";
}

static int dtype_from_name(const char *s, xf_dtype *d)
{
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (!strcmp(s, st_dtypes[i].name)) {
            *d = (xf_dtype)i;
            return 0;
        }
    return -1;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* pread(2) until N bytes; dies on error or early end. */
static void pread_full(int fd, void *buf, size_t n, uint64_t off, const char *path, const char *what)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0) {
            if (errno == EINTR) continue;
            die_errno("%s: reading %s", path, what);
        }
        if (r == 0) die("%s: truncated (%s)", path, what);
        got += (size_t)r;
    }
}

typedef struct {
    const char *name;
    xf_dtype dtype;
    int ndim;
    int64_t shape[XF_MAX_DIMS];
    uint64_t begin, end;
} entry;

static int by_offset(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* A JSON integer >= 0, or -1. */
static long long json_nonneg(json_t *v)
{
    if (!json_is_integer(v)) return -1;
    long long x = json_integer_value(v);
    return x < 0 ? -1 : x;
}

static void parse_entry(const char *path, const char *name, json_t *v, entry *e)
{
    e->name = name;
    if (!*name) die("%s: header: empty tensor name", path);
    if (!json_is_object(v)) die("%s: tensor %s: header entry is not an object", path, name);
    json_t *dt = json_object_get(v, "dtype"), *shape = json_object_get(v, "shape"),
           *offs = json_object_get(v, "data_offsets");
    if (!json_is_string(dt)) die("%s: tensor %s: no \"dtype\" string", path, name);
    const char *ds = json_string_value(dt);
    if (dtype_from_name(ds, &e->dtype)) {
        for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
            if (!strcmp(ds, unsupported[i]))
                die("%s: tensor %s: dtype %s is not supported (xf reads F32, F16, BF16, I32, I64, U8)",
                    path, name, ds);
        die("%s: tensor %s: unknown dtype '%s'", path, name, ds);
    }
    if (!json_is_array(shape)) die("%s: tensor %s: no \"shape\" array", path, name);
    if (json_array_size(shape) > XF_MAX_DIMS)
        die("%s: tensor %s: %zu dimensions (xf allows %d)", path, name, json_array_size(shape), XF_MAX_DIMS);
    e->ndim = (int)json_array_size(shape);
    uint64_t numel = 1, nbytes;
    for (int i = 0; i < e->ndim; i++) {
        long long d = json_nonneg(json_array_get(shape, (size_t)i));
        if (d < 0) die("%s: tensor %s: shape[%d] is not a non-negative integer", path, name, i);
        e->shape[i] = d;
        if (__builtin_mul_overflow(numel, (uint64_t)d, &numel))
            die("%s: tensor %s: shape product overflows", path, name);
    }
    if (__builtin_mul_overflow(numel, (uint64_t)xf_dtype_size(e->dtype), &nbytes))
        die("%s: tensor %s: byte size overflows", path, name);
    if (!json_is_array(offs) || json_array_size(offs) != 2)
        die("%s: tensor %s: \"data_offsets\" is not a pair", path, name);
    long long b = json_nonneg(json_array_get(offs, 0)), en = json_nonneg(json_array_get(offs, 1));
    if (b < 0 || en < 0) die("%s: tensor %s: data_offsets are not non-negative integers", path, name);
    if (en < b) die("%s: tensor %s: data_offsets [%lld, %lld] end before they begin", path, name, b, en);
    e->begin = (uint64_t)b;
    e->end = (uint64_t)en;
    if (e->end - e->begin != nbytes)
        die("%s: tensor %s: shape and dtype need %llu bytes, data_offsets [%lld, %lld] hold %llu",
            path, name, (unsigned long long)nbytes, b, en, (unsigned long long)(e->end - e->begin));
}

void xf_safetensors_read_into(const char *path, xf_tensorset *s, json_t **metadata)
{
    if (metadata) *metadata = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die_errno("%s: cannot open", path);
    xf_note_input_fd(fd, path);
    xf_input_push(path);
    struct stat st;
    if (fstat(fd, &st)) die_errno("%s: cannot stat", path);
    if (!S_ISREG(st.st_mode)) die("%s: not a regular file", path);
    uint64_t fsize = (uint64_t)st.st_size;
    if (fsize < 8) die("%s: header: file of %llu bytes has no header length", path, (unsigned long long)fsize);
    unsigned char lenbuf[8];
    pread_full(fd, lenbuf, 8, 0, path, "header length");
    uint64_t hlen = get_u64(lenbuf);
    if (hlen > XF_ST_MAX_HEADER)
        die("%s: header: length %llu exceeds the limit of %llu bytes", path, (unsigned long long)hlen,
            XF_ST_MAX_HEADER);
    if (hlen > fsize - 8)
        die("%s: header: length %llu runs past the end of the file (%llu bytes)", path,
            (unsigned long long)hlen, (unsigned long long)fsize);
    char *text = xmalloc(hlen + 1);
    pread_full(fd, text, hlen, 8, path, "header");
    text[hlen] = 0;
    if (hlen == 0 || text[0] != '{') die("%s: header: does not start with '{'", path);
    json_error_t err;
    json_t *h = json_loadb(text, hlen, JSON_REJECT_DUPLICATES, &err);
    free(text);
    if (!h) die("%s: header: bad JSON at byte %d: %s", path, err.position, err.text);
    if (!json_is_object(h)) die("%s: header: not a JSON object", path);

    size_t n = json_object_size(h), ne = 0;
    entry *es = xcalloc(n ? n : 1, sizeof *es);
    const char *key;
    json_t *v;
    json_object_foreach(h, key, v) {
        if (!strcmp(key, "__metadata__")) {
            if (!json_is_object(v)) die("%s: header: __metadata__ is not an object", path);
            const char *mk;
            json_t *mv;
            json_object_foreach(v, mk, mv)
                if (!json_is_string(mv)) die("%s: header: __metadata__ value '%s' is not a string", path, mk);
            if (metadata) *metadata = json_incref(v);
            continue;
        }
        parse_entry(path, key, v, &es[ne++]);
    }
    qsort(es, ne, sizeof *es, by_offset);
    uint64_t pos = 0;
    for (size_t i = 0; i < ne; i++) {
        if (es[i].begin < pos)
            die("%s: tensor %s: data_offsets [%llu, %llu] overlap tensor %s", path, es[i].name,
                (unsigned long long)es[i].begin, (unsigned long long)es[i].end, es[i - 1].name);
        if (es[i].begin > pos)
            die("%s: tensor %s: data_offsets [%llu, %llu] leave a gap after byte %llu", path, es[i].name,
                (unsigned long long)es[i].begin, (unsigned long long)es[i].end, (unsigned long long)pos);
        pos = es[i].end;
    }
    uint64_t data_size = fsize - 8 - hlen;
    if (pos > data_size) {
        const char *last = ne ? es[ne - 1].name : "?";
        die("%s: tensor %s: data_offsets end at %llu, past the data area (%llu bytes)", path, last,
            (unsigned long long)pos, (unsigned long long)data_size);
    }
    if (pos != data_size)
        die("%s: file size mismatch: %llu bytes, header describes %llu", path, (unsigned long long)fsize,
            (unsigned long long)(8 + hlen + pos));

    for (size_t i = 0; i < ne; i++) {
        xf_tensor t = {0};
        t.name = xstrdup(es[i].name);
        t.dtype = es[i].dtype;
        t.ndim = es[i].ndim;
        memcpy(t.shape, es[i].shape, sizeof t.shape);
        t.nbytes = es[i].end - es[i].begin;
        t.data = xmalloc_aligned(t.nbytes);
        pread_full(fd, t.data, t.nbytes, 8 + hlen + es[i].begin, path, t.name);
        if (xf_tset_get(s, t.name)) die("%s: tensor %s: already loaded from another file", path, t.name);
        xf_tset_add(s, &t);
    }
    free(es);
    json_decref(h);
    xf_input_pop(path);
    close(fd);
}

xf_tensorset *xf_safetensors_read(const char *path, json_t **metadata)
{
    xf_tensorset *s = xf_tset_new();
    xf_safetensors_read_into(path, s, metadata);
    return s;
}

/* ---- writing ---- */

static int by_layout(const void *a, const void *b)
{
    const xf_tensor *x = *(const xf_tensor *const *)a, *y = *(const xf_tensor *const *)b;
    int rx = st_dtypes[x->dtype].rank, ry = st_dtypes[y->dtype].rank;
    if (rx != ry) return ry - rx;
    return strcmp(x->name, y->name);
}

/* Appends S to a growing buffer. */
typedef struct {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = b->cap ? b->cap : 4096;
        while (b->cap < b->n + n + 1) b->cap = xmul(b->cap, 2);
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_json_string(sbuf *b, const char *s)
{
    json_t *j = json_string(s);
    if (!j) die("tensor name is not valid UTF-8: %s", s);
    char *e = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    sb_str(b, e);
    free(e);
    json_decref(j);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

void xf_safetensors_write_fp(FILE *fp, const char *name, const xf_tensorset *s, json_t *metadata)
{
    const xf_tensor **order = xmalloc((s->n ? s->n : 1) * sizeof *order);
    for (size_t i = 0; i < s->n; i++) {
        if (xf_dtype_size(s->t[i].dtype) == 0) die("%s: tensor %s: bad dtype", name, s->t[i].name);
        order[i] = &s->t[i];
    }
    qsort(order, s->n, sizeof *order, by_layout);

    sbuf h = {0};
    sb_str(&h, "{");
    int first = 1;
    if (metadata && json_object_size(metadata)) {
        /* The reference writes a hash map here; sorted keys make it stable. */
        size_t nk = json_object_size(metadata), k = 0;
        const char **keys = xmalloc(nk * sizeof *keys);
        const char *key;
        json_t *v;
        json_object_foreach(metadata, key, v) {
            if (!json_is_string(v)) die("%s: __metadata__ value '%s' is not a string", name, key);
            keys[k++] = key;
        }
        qsort(keys, nk, sizeof *keys, cmp_str);
        sb_str(&h, "\"__metadata__\":{");
        for (size_t i = 0; i < nk; i++) {
            if (i) sb_str(&h, ",");
            sb_json_string(&h, keys[i]);
            sb_str(&h, ":");
            sb_json_string(&h, json_string_value(json_object_get(metadata, keys[i])));
        }
        sb_str(&h, "}");
        free(keys);
        first = 0;
    }
    uint64_t off = 0;
    char num[64];
    for (size_t i = 0; i < s->n; i++) {
        const xf_tensor *t = order[i];
        size_t nbytes = xmul(xf_tensor_numel(t), xf_dtype_size(t->dtype));
        if (!first) sb_str(&h, ",");
        first = 0;
        sb_json_string(&h, t->name);
        sb_str(&h, ":{\"dtype\":\"");
        sb_str(&h, st_dtypes[t->dtype].name);
        sb_str(&h, "\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            snprintf(num, sizeof num, "%s%lld", d ? "," : "", (long long)t->shape[d]);
            sb_str(&h, num);
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                 (unsigned long long)(off + nbytes));
        sb_str(&h, num);
        off += nbytes;
    }
    sb_str(&h, "}");
    while (h.n % 8) sb_str(&h, " ");
    if (h.n > XF_ST_MAX_HEADER) die("%s: header of %zu bytes is too large", name, h.n);

    unsigned char lenbuf[8];
    for (int i = 0; i < 8; i++) lenbuf[i] = ((uint64_t)h.n >> 8 * i) & 0xff;
    if (fwrite(lenbuf, 1, 8, fp) != 8 || fwrite(h.p, 1, h.n, fp) != h.n) die_errno("%s: write error", name);
    for (size_t i = 0; i < s->n; i++) {
        const xf_tensor *t = order[i];
        size_t nbytes = xf_tensor_numel(t) * xf_dtype_size(t->dtype);
        if (nbytes && fwrite(t->data, 1, nbytes, fp) != nbytes) die_errno("%s: write error", name);
    }
    free(h.p);
    free(order);
}

void xf_safetensors_write(const char *path, const xf_tensorset *s, json_t *metadata)
{
    xf_out *o = xf_out_open(path);
    xf_safetensors_write_fp(o->fp, path, s, metadata);
    xf_out_commit(o);
}
