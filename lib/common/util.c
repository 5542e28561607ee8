/* util.c — die/error, allocation, atomic outputs.  See util.h. */
#define _GNU_SOURCE
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *xf_progname = "xf";
int xf_verbosity = 1;
static char *cmdline;

/* Uncommitted temp files; unlinked on die() and on fatal signals.  A fixed
 * table keeps the signal handler free of malloc. */
#define MAX_OUTS 64
static char *volatile pending[MAX_OUTS];

static void remove_pending(void)
{
    for (int i = 0; i < MAX_OUTS; i++)
        if (pending[i]) unlink(pending[i]);
}

static void on_signal(int sig)
{
    remove_pending();
    signal(sig, SIG_DFL);
    raise(sig);
}

void xf_init(int argc, char **argv)
{
    if (argc > 0 && argv[0]) {
        const char *s = strrchr(argv[0], '/');
        xf_progname = s ? s + 1 : argv[0];
        argv[0] = (char *)xf_progname;   /* getopt's messages use argv[0] */
    }
    /* The recorded command line leaves out the options that cannot change
     * any output (--threads, -q, -v), so provenance headers, and with them
     * output bytes, are the same at any thread count. */
    size_t len = 1;
    for (int i = 0; i < argc; i++) len += strlen(argv[i]) + 1;
    cmdline = xmalloc(len);
    cmdline[0] = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (i > 0 && (!strcmp(a, "-q") || !strcmp(a, "-v") || !strcmp(a, "--quiet") ||
                      !strcmp(a, "--verbose") || !strncmp(a, "--threads=", 10)))
            continue;
        if (i > 0 && !strcmp(a, "--threads")) {
            i++;
            continue;
        }
        if (cmdline[0]) strcat(cmdline, " ");
        strcat(cmdline, a);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_DFL);
}

const char *xf_cmdline(void) { return cmdline ? cmdline : xf_progname; }

static void vreport(const char *prefix, const char *fmt, va_list ap, const char *suffix)
{
    char buf[4096];
    vsnprintf(buf, sizeof buf, fmt, ap);
    fprintf(stderr, "%s: %s%s%s\n", xf_progname, prefix, buf, suffix ? suffix : "");
}

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("", fmt, ap, NULL);
    va_end(ap);
    remove_pending();
    exit(1);
}

void die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("", fmt, ap, NULL);
    va_end(ap);
    fprintf(stderr, "Try '%s --help' for more information.\n", xf_progname);
    remove_pending();
    exit(2);
}

void die_errno(const char *fmt, ...)
{
    char suffix[256];
    snprintf(suffix, sizeof suffix, ": %s", strerror(errno));
    va_list ap;
    va_start(ap, fmt);
    vreport("", fmt, ap, suffix);
    va_end(ap);
    remove_pending();
    exit(1);
}

void error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("error: ", fmt, ap, NULL);
    va_end(ap);
}

void warning(const char *fmt, ...)
{
    if (xf_verbosity < 1) return;
    va_list ap;
    va_start(ap, fmt);
    vreport("warning: ", fmt, ap, NULL);
    va_end(ap);
}

void xf_info(int level, const char *fmt, ...)
{
    if (xf_verbosity < level) return;
    va_list ap;
    va_start(ap, fmt);
    vreport("", fmt, ap, NULL);
    va_end(ap);
}

int xf_progress_enabled(void) { return xf_verbosity >= 1 && isatty(2); }

static _Noreturn void oom(size_t n)
{
    die("out of memory allocating %zu bytes", n);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(xmul(n, size));
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) oom(n);
    return p;
}

char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) oom(strlen(s) + 1);
    return p;
}

size_t xmul(size_t a, size_t b)
{
    size_t r;
    if (__builtin_mul_overflow(a, b, &r)) die("size overflow (%zu x %zu)", a, b);
    return r;
}

void *xmalloc_aligned(size_t n)
{
    void *p = NULL;
    size_t rounded = (n + 63) & ~(size_t)63;
    if (rounded < n || posix_memalign(&p, 64, rounded ? rounded : 64)) oom(n);
    return p;
}

xf_out *xf_out_open(const char *path)
{
    xf_out *o = xcalloc(1, sizeof *o);
    o->path = xstrdup(path);
    if (!strcmp(path, "-")) {
        o->fp = stdout;
        return o;
    }
    char *dup = xstrdup(path), *dup2 = xstrdup(path);
    if (asprintf(&o->tmp, "%s/.%s.XXXXXX", dirname(dup), basename(dup2)) < 0) oom(strlen(path));
    free(dup);
    free(dup2);
    int fd = mkstemp(o->tmp);
    if (fd < 0) die_errno("%s: cannot create", path);
    fchmod(fd, 0644 & ~umask(umask(0)));
    int slot = -1;
    for (int i = 0; i < MAX_OUTS; i++)
        if (!pending[i]) { slot = i; break; }
    if (slot < 0) die("too many open output files");
    pending[slot] = o->tmp;
    o->fp = fdopen(fd, "wb");
    if (!o->fp) die_errno("%s: cannot open", path);
    return o;
}

static void unregister(const char *tmp)
{
    for (int i = 0; i < MAX_OUTS; i++)
        if (pending[i] == tmp) pending[i] = NULL;
}

void xf_out_commit(xf_out *o)
{
    if (!o->tmp) {
        if (fflush(o->fp) || ferror(o->fp)) die_errno("<stdout>: write error");
    } else {
        if (fflush(o->fp) || ferror(o->fp)) die_errno("%s: write error", o->path);
        if (fclose(o->fp)) die_errno("%s: write error", o->path);
        if (rename(o->tmp, o->path)) die_errno("%s: cannot rename into place", o->path);
        unregister(o->tmp);
        free(o->tmp);
    }
    free(o->path);
    free(o);
}

void xf_out_abort(xf_out *o)
{
    if (o->tmp) {
        fclose(o->fp);
        unlink(o->tmp);
        unregister(o->tmp);
        free(o->tmp);
    }
    free(o->path);
    free(o);
}

int xf_dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
    closedir(d);
    return empty;
}

double xf_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

size_t xf_peak_rss(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (size_t)ru.ru_maxrss * 1024;
}

int xf_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

long xf_parse_long(const char *opt, const char *val, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(val, &end, 10);
    if (errno || end == val || *end || v < min || v > max)
        die_usage("option '%s': '%s' is not an integer in [%ld, %ld]", opt, val, min, max);
    return v;
}

double xf_parse_double(const char *opt, const char *val)
{
    char *end;
    errno = 0;
    double v = strtod(val, &end);
    if (errno || end == val || *end) die_usage("option '%s': '%s' is not a number", opt, val);
    return v;
}
