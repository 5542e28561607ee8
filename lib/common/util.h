/* util.h — process-wide helpers shared by every xf tool and the library.
 *
 * Error policy (as in git): library code that meets bad data calls die()
 * with a message "FILE:LINE: what is wrong" (or "FILE: tensor NAME: ..."),
 * which prints "xf-TOOL: message", removes every uncommitted output file
 * (see xf_out below) and exits 1.  die_usage() exits 2.  Unit tests that
 * exercise error paths use Criterion's .exit_code = 1.
 *
 * Output policy: every output file is written to a temp file in the same
 * directory and renamed on commit; die(), SIGINT and SIGTERM unlink the
 * temp files, so nothing that looks finished is ever left behind.
 */
#ifndef XF_UTIL_H
#define XF_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define XF_VERSION "0.1.0"

extern const char *xf_progname;   /* "xf-tokenize", set by xf_init() */
extern int xf_verbosity;          /* 0 = -q, 1 = default, 2 = -v */

/* Call first in main(): sets progname from argv[0] (basename), installs
 * SIGINT/SIGTERM handlers that remove uncommitted outputs, and records
 * argc/argv for provenance headers. */
void xf_init(int argc, char **argv);
/* The full command line, space-joined, as given to xf_init(). */
const char *xf_cmdline(void);

_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* die() with ": strerror(errno)" appended. */
_Noreturn void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Message on stderr when xf_verbosity >= level (1 normal, 2 verbose). */
void xf_info(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when progress lines should be drawn (stderr is a TTY, not -q). */
int xf_progress_enabled(void);

/* Allocation that dies with the size asked ("out of memory allocating N bytes"). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* a*b, dying on size_t overflow. */
size_t xmul(size_t a, size_t b);
/* 64-byte aligned allocation for float arrays (free with free()). */
void *xmalloc_aligned(size_t n);

/* ---- atomic output files ---- */
typedef struct xf_out {
    char *path;     /* final name, or "-" for stdout */
    char *tmp;      /* temp name in the same directory; NULL for stdout */
    FILE *fp;
} xf_out;

/* Opens PATH for writing ("-" = stdout). Dies on failure. */
xf_out *xf_out_open(const char *path);
/* Flushes, closes and renames into place; dies on write error (ENOSPC...). */
void xf_out_commit(xf_out *o);
/* Closes and removes the temp file. */
void xf_out_abort(xf_out *o);

/* 1 if DIR has no entries besides . and .., 0 if it has, -1 (errno set) if
 * it cannot be opened. */
int xf_dir_is_empty(const char *dir);

/* Monotonic seconds, for timings. */
double xf_now(void);
/* Peak resident set size of this process in bytes (from getrusage). */
size_t xf_peak_rss(void);
/* Number of online CPUs. */
int xf_ncpu(void);

/* Parses a non-negative integer option value; die_usage() on junk. */
long xf_parse_long(const char *opt, const char *val, long min, long max);
double xf_parse_double(const char *opt, const char *val);

#endif
