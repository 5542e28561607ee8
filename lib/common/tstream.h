/* tstream.h — xf tensor streams (xf-stream(5)).
 *
 * A tensor stream carries models, finetuned weights, adapters, heads and
 * fusion layers between tools.  It is written front to back (no seeking),
 * so it works through pipes: `xf-mlmstep ... | xf-eval --model - ...`.
 *
 * Format (all integers little-endian), the whole byte sequence compressed as
 * zstd frame(s) with the content checksum on:
 *
 *   stream  := magic record* trailer
 *   magic   := "XFTS" u32 version(=1)
 *   record  := tag[4] u64 len payload[len]
 *   "HEAD"  := JSON object, UTF-8, len bytes.  Required keys:
 *                "kind"     "model" | "adapter" | "fusion" | ... (what it is)
 *                "tool"     writer's name, "version" its version,
 *                "argv"     its full command line, "seed" (number or null)
 *              Optional: "config" (the HF config.json object), anything else
 *              the writer documents.  Exactly one HEAD, first.
 *   "TENS"  := u16 name_len, name[name_len] (UTF-8, no NUL),
 *              u8 dtype, u8 ndim (0..8), u64 shape[ndim],
 *              data: prod(shape) * dtype_size bytes, row-major.
 *              len must equal 4 + name_len + 8*ndim + data bytes (u16+u8+u8
 *              count as 4).
 *   trailer := "TAIL" u64 len(=16) u64 n_tensors u64 n_data_bytes
 *              (counts of the TENS records and their data bytes).
 *
 * dtype codes: 0 f32, 1 f16, 2 bf16, 3 i32, 4 i64, 5 u8.
 * A reader that reaches end of input before TAIL, or whose counts differ,
 * dies: a truncated pipe is never a silently short model.  Names are unique.
 */
#ifndef XF_TSTREAM_H
#define XF_TSTREAM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { XF_F32 = 0, XF_F16 = 1, XF_BF16 = 2, XF_I32 = 3, XF_I64 = 4, XF_U8 = 5 } xf_dtype;

#define XF_MAX_DIMS 8

typedef struct xf_tensor {
    char *name;
    xf_dtype dtype;
    int ndim;
    int64_t shape[XF_MAX_DIMS];
    void *data;      /* owned; 64-byte aligned */
    size_t nbytes;
} xf_tensor;

size_t xf_dtype_size(xf_dtype d);
const char *xf_dtype_name(xf_dtype d);           /* "f32", ... */
int xf_dtype_parse(const char *s, xf_dtype *d);  /* 0 ok, -1 unknown */
/* Number of elements; dies on overflow. */
size_t xf_tensor_numel(const xf_tensor *t);
void xf_tensor_free(xf_tensor *t);
/* Converts a f16/bf16/f32 tensor to f32 in place. */
void xf_tensor_to_f32(xf_tensor *t);

/* ---- writing ---- */
typedef struct xf_tswriter xf_tswriter;
/* The GEMM backend and kernel that computed the data ("onednn 2.6.3, isa
 * avx512_core_bf16", see gemm.h), set by xf_cli_threads(); NULL: none. */
extern const char *xf_ts_gemm;
/* Opens PATH ("-" = stdout) atomically and writes magic + HEAD.  HEAD gets
 * "kind", "tool", "version", "argv" (from xf_init), "seed" (SEED < 0 → null),
 * "gemm" (xf_ts_gemm, when set) and every key of EXTRA (may be NULL; not
 * stolen). */
xf_tswriter *xf_ts_create(const char *path, const char *kind, long long seed, json_t *extra);
void xf_ts_write(xf_tswriter *w, const char *name, xf_dtype dtype, int ndim,
                 const int64_t *shape, const void *data);
void xf_ts_write_tensor(xf_tswriter *w, const xf_tensor *t);
/* Writes the trailer and commits (rename). */
void xf_ts_commit(xf_tswriter *w);
void xf_ts_abort(xf_tswriter *w);

/* ---- reading ---- */
typedef struct xf_tsreader xf_tsreader;
/* Opens PATH ("-" = stdin), checks magic, reads HEAD. */
xf_tsreader *xf_ts_open(const char *path);
json_t *xf_ts_head(xf_tsreader *r);      /* borrowed */
const char *xf_ts_kind(xf_tsreader *r);
/* Next tensor into *T (caller frees with xf_tensor_free); returns 1, or 0
 * after a verified trailer.  Dies on truncation, bad record, bad counts. */
int xf_ts_next(xf_tsreader *r, xf_tensor *t);
void xf_ts_close(xf_tsreader *r);

/* ---- a named set of tensors (a model, an adapter) ----
 * Names are found through a hash index (open addressing, FNV-1a), so
 * building a set of N tensors costs O(N), not O(N²).  t[] may be read and
 * its data modified freely; names change only through xf_tset_rename and
 * entries go only through xf_tset_remove, which keep the index right. */
typedef struct xf_tensorset {
    size_t n, cap;
    xf_tensor *t;
    json_t *head;     /* HEAD of the stream it came from, or NULL */
    size_t *idx;      /* hash slots: index + 1 into t[], 0 = empty */
    size_t nslots;    /* a power of two, > 2n; 0 before the first add */
} xf_tensorset;

xf_tensorset *xf_tset_new(void);
/* Adds (takes ownership of T's data); dies on a duplicate name. */
void xf_tset_add(xf_tensorset *s, xf_tensor *t);
xf_tensor *xf_tset_get(const xf_tensorset *s, const char *name);   /* NULL if absent */
/* Gives t[I] the name NAME (malloc'd, taken); dies if another tensor has it. */
void xf_tset_rename(xf_tensorset *s, size_t i, char *name);
/* Frees t[I] and removes it; later entries move down by one. */
void xf_tset_remove(xf_tensorset *s, size_t i);
/* Reads a whole stream. */
xf_tensorset *xf_tset_read_stream(const char *path);
void xf_tset_write_stream(const xf_tensorset *s, const char *path, const char *kind,
                          long long seed, json_t *extra);
void xf_tset_free(xf_tensorset *s);

/* Is the file at PATH a tensor stream (checks magic after zstd)?  For "-"
 * the caller must already know. */
int xf_is_tstream(const char *path);

#endif
