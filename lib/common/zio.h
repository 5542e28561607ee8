/* zio.h — byte streams with transparent zstd.
 *
 * Readers detect zstd by its magic bytes (28 B5 2F FD), never by the file
 * name, so `xf-tool x.tsv`, `xf-tool x.tsv.zst` and `zstdcat x | xf-tool -`
 * all work.  Reading never seeks: pipes are first-class.  A corrupt or
 * truncated zstd frame is a die() naming the file.
 *
 * Writers sit on an atomic xf_out (util.h): XF_Z_AUTO compresses when the
 * path ends in ".zst", XF_Z_ON always (frame checksum enabled), XF_Z_OFF
 * never.
 */
#ifndef XF_ZIO_H
#define XF_ZIO_H

#include <stddef.h>
#include <sys/types.h>

typedef struct xf_in xf_in;

/* Opens PATH ("-" = stdin); dies if it cannot be opened. */
xf_in *xf_in_open(const char *path);
/* Reads up to N bytes; returns fewer only at end of input. */
size_t xf_in_read(xf_in *in, void *buf, size_t n);
/* Reads exactly N bytes or dies with "FILE: truncated (WHAT)". */
void xf_in_read_exact(xf_in *in, void *buf, size_t n, const char *what);
/* The longest line xf reads (raw text, TSV streams, CoNLL-U, ...): a line
 * is held in memory whole and downstream buffers grow with it, so a small
 * zstd bomb (8 KB → one 256 MB line) would otherwise cost gigabytes. */
#define XF_MAX_LINE ((size_t)16 << 20)
/* Next line without its '\n' and without the '\r' of a CRLF line end (text
 * from Windows reads as from Unix everywhere); returns its length,
 * or -1 at end of input.  *line is NUL-terminated and owned by the reader
 * (valid until the next call).  A line longer than XF_MAX_LINE bytes dies
 * "FILE:LINE: line longer than 16 MiB ...". */
ssize_t xf_in_getline(xf_in *in, char **line);
/* 1-based number of the line last returned by xf_in_getline. */
long xf_in_lineno(const xf_in *in);
/* The name given to xf_in_open ("<stdin>" for "-"). */
const char *xf_in_name(const xf_in *in);
/* Whole remaining input into a malloc'd NUL-terminated buffer. */
char *xf_in_slurp(xf_in *in, size_t *len);
void xf_in_close(xf_in *in);

/* Convenience: read a whole file (decompressing zstd) into memory. */
char *xf_read_file(const char *path, size_t *len);

enum { XF_Z_AUTO = -1, XF_Z_OFF = 0, XF_Z_ON = 1 };

typedef struct xf_zout xf_zout;
/* Opens PATH ("-" = stdout) for atomic writing; MODE is XF_Z_*. */
xf_zout *xf_zout_open(const char *path, int mode);
void xf_zout_write(xf_zout *z, const void *buf, size_t n);
void xf_zout_puts(xf_zout *z, const char *s);
void xf_zout_printf(xf_zout *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends the zstd frame, flushes, renames into place. */
void xf_zout_commit(xf_zout *z);
/* Drops everything written; removes the temp file. */
void xf_zout_abort(xf_zout *z);
const char *xf_zout_name(const xf_zout *z);
/* zstd level for XF_Z_ON output (default 3); call before the first write. */
void xf_zout_set_level(xf_zout *z, int level);
/* 1 if the output is zstd-compressed. */
int xf_zout_compressed(const xf_zout *z);
/* For tsv.c: the "a field is already on this row" flag of xf_tsv_put. */
int *xf_zout_row_state(xf_zout *z);

#endif
