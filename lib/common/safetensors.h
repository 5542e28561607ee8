/* safetensors.h — reading and writing Hugging Face .safetensors files.
 *
 * Layout: u64 N (little-endian), N bytes of JSON header, then the data
 * area.  The header maps each tensor name to {"dtype", "shape",
 * "data_offsets": [begin, end]} (offsets relative to the data area), plus
 * an optional "__metadata__" object of strings.
 *
 * Reading validates everything before trusting it: N <= 100,000,000 and
 * inside the file; the header is a well-formed JSON object without
 * duplicate keys; every dtype is one xf knows (F32 F16 BF16 I32 I64 U8;
 * others are reported by name); shapes are non-negative with overflow-
 * checked products equal to the byte range; the byte ranges are
 * contiguous, non-overlapping and cover the whole data area; the file size
 * is exactly 8 + N + data.  Errors: die("FILE: header: ...") or
 * die("FILE: tensor NAME: ...").
 *
 * Writing is atomic and deterministic, in the layout of the reference
 * implementation (huggingface/safetensors): tensors ordered by descending
 * dtype alignment (I64, F32, I32, BF16, F16, U8) then by name, header
 * compact JSON with "__metadata__" first, padded with spaces to a multiple
 * of 8 bytes.
 */
#ifndef XF_SAFETENSORS_H
#define XF_SAFETENSORS_H

#include <jansson.h>
#include "tstream.h"

/* Header size limit of the reference implementation. */
#define XF_ST_MAX_HEADER 100000000ull

/* Reads PATH into a new set (tensors in file order, dtypes as stored).  If
 * METADATA is not NULL it receives the "__metadata__" object (new
 * reference) or NULL. */
xf_tensorset *xf_safetensors_read(const char *path, json_t **metadata);
/* Same, adding the tensors to S (dies on a name already in S). */
void xf_safetensors_read_into(const char *path, xf_tensorset *s, json_t **metadata);
/* Writes S to PATH atomically.  METADATA (object of strings, may be NULL)
 * becomes "__metadata__". */
void xf_safetensors_write(const char *path, const xf_tensorset *s, json_t *metadata);
/* Same, to an open stream; NAME is used in error messages. */
void xf_safetensors_write_fp(FILE *fp, const char *name, const xf_tensorset *s, json_t *metadata);

/* "F32" ... for an xf dtype. */
const char *xf_safetensors_dtype_name(xf_dtype d);

#endif
