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

/* ---- atomic output files ----
 *
 * Temp names: an output PATH is written as ".BASE.xf-PID.XXXXXX" in PATH's
 * directory (BASE = basename of PATH, PID = this process), a temp folder
 * for DIR likewise.  die(), SIGINT, SIGTERM and SIGHUP remove them; after a
 * SIGKILL (or a crash) they stay, and the next xf_out_open / xf_tmpdir_create
 * of the same PATH removes every ".BASE.xf-PID.*" whose PID is no longer a
 * running process on this machine.  (Do not share an output folder between
 * machines that run the same command at the same time.)
 */
typedef struct xf_out {
    char *path;     /* final name, or "-" for stdout */
    char *tmp;      /* temp name in the same directory; NULL for stdout */
    FILE *fp;
    int direct;     /* PATH is not a regular file (/dev/null, a FIFO): written in place */
} xf_out;

/* Opens PATH for writing ("-" = stdout). Dies on failure, and when PATH
 * is an input of this run (xf_check_not_input).  An existing PATH that is
 * not a regular file (/dev/null, /dev/stdout, a FIFO) is written in place:
 * renaming a temp over it would replace the device or pipe. */
xf_out *xf_out_open(const char *path);
/* Flushes, closes and renames into place; dies on write error (ENOSPC...).
 * Inside a commit set the rename waits for xf_commit_set_end(). */
void xf_out_commit(xf_out *o);
/* Closes and removes the temp file. */
void xf_out_abort(xf_out *o);

/* Temp folder for the folder output DIR (".BASE.xf-PID.XXXXXX" beside it),
 * registered like a temp file: die() and signals remove it with the files
 * in it.  DIR must not exist or be an empty folder.  Returns the malloc'd
 * temp path. */
char *xf_tmpdir_create(const char *dir);
/* Renames TMP (from xf_tmpdir_create) to DIR, replacing an empty DIR; inside
 * a commit set at xf_commit_set_end().  Frees TMP. */
void xf_tmpdir_commit(char *tmp, const char *dir);

/* Commit set, for tools with several outputs: between begin and end every
 * xf_out_commit / xf_tmpdir_commit completes its output (written, flushed,
 * closed, errors checked) but only queues the rename; xf_commit_set_end()
 * renames them all, in order.  A failure before the end (die) removes every
 * queued temp, so either all outputs appear or none. */
void xf_commit_set_begin(void);
void xf_commit_set_end(void);

/* ---- inputs ----
 * Every input a run reads is recorded by device and inode (xf_in_open,
 * the safetensors reader and the tokenizer files call xf_note_input*);
 * an output that names one is refused, so `xf-tool -o x x` cannot destroy x. */
void xf_note_input(const char *path);
void xf_note_input_fd(int fd, const char *name);
/* Dies "PATH: refusing to overwrite an input of this run (INPUT)" when PATH
 * exists and is (by device and inode) a recorded input. */
void xf_check_not_input(const char *path);
/* Forgets every recorded input (for a process that parses many inputs in
 * turn, such as a fuzzing harness). */
void xf_inputs_reset(void);
/* The input being read, for messages: the most recently opened input that
 * is still open, else the last one opened; NULL before any.  xf_in_open
 * pushes, xf_in_close pops (NAME must stay valid while it is open). */
void xf_input_push(const char *name);
void xf_input_pop(const char *name);
const char *xf_input_current(void);

/* UTF-8 check: -1 if S[0..LEN) is valid UTF-8 (no overlongs, surrogates
 * or code points above U+10FFFF), else the offset of the first bad byte. */
long xf_utf8_invalid_at(const char *s, size_t len);
/* Strict decimal number: [-]digits[.digits][e[+-]digits] (or .digits),
 * nothing else (no hex, inf, nan, spaces or '+').  0 on success. */
int xf_parse_decimal(const char *s, double *v);

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
