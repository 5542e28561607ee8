/* tsv.h — the TSV dialect of xf (xf-tsv(5)).
 *
 * A header line, then rows; fields separated by TAB, no quoting; inside a
 * field the bytes TAB, LF and backslash are written as the escapes "\t",
 * "\n", "\\".  Reading goes through libcsv configured as plain TSV (quote
 * character off, no whitespace trimming), on an xf_in, so ".zst" input is
 * transparent.  Every malformed line is a die("FILE:LINE: ...").
 */
#ifndef XF_TSV_H
#define XF_TSV_H

#include <stddef.h>
#include "zio.h"

typedef struct xf_tsv xf_tsv;

/* Opens PATH ("-" = stdin) and reads its header line. */
xf_tsv *xf_tsv_open(const char *path);
/* Opens a table whose columns are known: lines equal to the header built
 * from NAMES are skipped wherever they are, also when none is on line 1
 * (after `shuf`); at the end, dies "FILE: no header line" if none was
 * seen.  (xf_tsv_open also skips repeats of its header line, so
 * `cat a.tsv b.tsv` reads as one table.) */
xf_tsv *xf_tsv_open_cols(const char *path, const char *const *names, size_t n);
/* The header line of NAMES as written (escaped, TAB-joined, no '\n');
 * a static buffer, valid until the next call. */
const char *xf_tsv_header_line(const char *const *names, size_t n);
/* Header columns. */
size_t xf_tsv_ncols(const xf_tsv *t);
const char *xf_tsv_colname(const xf_tsv *t, size_t i);
/* Index of column NAME, or -1. */
int xf_tsv_col(const xf_tsv *t, const char *name);
/* Index of column NAME; dies "FILE:1: missing column 'NAME'" if absent. */
int xf_tsv_need_col(const xf_tsv *t, const char *name);
/* Dies unless the header is exactly the N names given, in order. */
void xf_tsv_expect_header(const xf_tsv *t, const char *const *names, size_t n);
/* Reads the next row; 1 if a row was read, 0 at end of input.  Dies if the
 * row's field count differs from the header's.  Fields are unescaped. */
int xf_tsv_next(xf_tsv *t);
const char *xf_tsv_field(const xf_tsv *t, size_t i);
size_t xf_tsv_field_len(const xf_tsv *t, size_t i);
/* Field I parsed as a strict decimal number (xf_parse_decimal: no hex, inf,
 * nan or spaces) / an integer; dies
 * "FILE:LINE: column 'NAME': 'X' is not a number" otherwise. */
double xf_tsv_double(const xf_tsv *t, size_t i);
long long xf_tsv_ll(const xf_tsv *t, size_t i);
long xf_tsv_lineno(const xf_tsv *t);
const char *xf_tsv_name(const xf_tsv *t);
void xf_tsv_close(xf_tsv *t);

/* Writing: fields are escaped; xf_tsv_end_row writes '\n'. */
void xf_tsv_put(xf_zout *z, const char *field);   /* escapes, adds a TAB before unless first */
void xf_tsv_putn(xf_zout *z, const char *field, size_t len);
void xf_tsv_putf(xf_zout *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void xf_tsv_end_row(xf_zout *z);
/* Writes a header row from N names. */
void xf_tsv_header(xf_zout *z, const char *const *names, size_t n);
/* Escapes S into a malloc'd string / unescapes in place (returns new length). */
char *xf_tsv_escape(const char *s);
size_t xf_tsv_unescape(char *s, size_t len);

#endif
