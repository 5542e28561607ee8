/* util.c — die/error, allocation, atomic outputs.  See util.h. */
#define _GNU_SOURCE
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

const char *xf_progname = "xf";
int xf_verbosity = 1;
static char *cmdline;

/* Uncommitted temp files and folders; removed on die() and on fatal
 * signals.  A fixed table keeps the signal handler free of malloc. */
#define MAX_OUTS 64
static char *volatile pending[MAX_OUTS];
static volatile char pending_dir[MAX_OUTS];

/* Removes the entries of folder PATH (one level: the temp folders are flat)
 * and the folder, with system calls only: safe in a signal handler. */
static void remove_dir_flat(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[4096];
        for (;;) {
            long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
            if (n <= 0) break;
            for (long off = 0; off < n;) {
                /* struct linux_dirent64: ino 8, off 8, reclen 2, type 1, name */
                unsigned short reclen;
                memcpy(&reclen, buf + off + 16, sizeof reclen);
                const char *name = buf + off + 19;
                if (strcmp(name, ".") && strcmp(name, ".."))
                    if (unlinkat(fd, name, 0) != 0) unlinkat(fd, name, AT_REMOVEDIR);
                off += reclen;
            }
        }
        close(fd);
    }
    rmdir(path);
}

static void remove_pending(void)
{
    for (int i = 0; i < MAX_OUTS; i++)
        if (pending[i] && !pending_dir[i]) unlink(pending[i]);
    for (int i = 0; i < MAX_OUTS; i++)
        if (pending[i] && pending_dir[i]) remove_dir_flat(pending[i]);
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

static int nopen_inputs;
static _Noreturn void oom(size_t n)
{
    const char *in = xf_input_current();
    if (in && nopen_inputs) die("out of memory allocating %zu bytes (reading %s)", n, in);
    if (in) die("out of memory allocating %zu bytes (after reading %s)", n, in);
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

/* ---- inputs ---- */

typedef struct { dev_t dev; ino_t ino; char *name; } input_id;
static input_id *inputs;
static size_t ninputs;

static void note_stat(const struct stat *st, const char *name)
{
    if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) return;   /* pipes cannot be overwritten */
    for (size_t i = 0; i < ninputs; i++)
        if (inputs[i].dev == st->st_dev && inputs[i].ino == st->st_ino) return;
    inputs = xrealloc(inputs, (ninputs + 1) * sizeof *inputs);
    inputs[ninputs++] = (input_id){st->st_dev, st->st_ino, xstrdup(name)};
}

void xf_note_input(const char *path)
{
    struct stat st;
    if (strcmp(path, "-") && stat(path, &st) == 0) note_stat(&st, path);
}

void xf_note_input_fd(int fd, const char *name)
{
    struct stat st;
    if (fstat(fd, &st) == 0) note_stat(&st, name);
}

void xf_check_not_input(const char *path)
{
    struct stat st;
    if (!strcmp(path, "-") || stat(path, &st) != 0) return;
    for (size_t i = 0; i < ninputs; i++)
        if (inputs[i].dev == st.st_dev && inputs[i].ino == st.st_ino)
            die("%s: refusing to overwrite an input of this run (%s)", path, inputs[i].name);
}

#define MAX_OPEN_INPUTS 64
static const char *open_inputs[MAX_OPEN_INPUTS];
static char last_input[PATH_MAX];

void xf_input_push(const char *name)
{
    snprintf(last_input, sizeof last_input, "%s", name);
    if (nopen_inputs < MAX_OPEN_INPUTS) open_inputs[nopen_inputs++] = name;
}

void xf_input_pop(const char *name)
{
    for (int i = nopen_inputs - 1; i >= 0; i--)
        if (open_inputs[i] == name) {
            memmove(open_inputs + i, open_inputs + i + 1, (size_t)(nopen_inputs - i - 1) * sizeof *open_inputs);
            nopen_inputs--;
            return;
        }
}

const char *xf_input_current(void)
{
    if (nopen_inputs) return open_inputs[nopen_inputs - 1];
    return last_input[0] ? last_input : NULL;
}

void xf_inputs_reset(void)
{
    for (size_t i = 0; i < ninputs; i++) free(inputs[i].name);
    free(inputs);
    inputs = NULL;
    ninputs = 0;
    nopen_inputs = 0;
    last_input[0] = 0;
}

/* ---- temp names and stale temps ---- */

/* DIR and BASE of PATH, malloc'd. */
static void split_path(const char *path, char **dir, char **base)
{
    char *d = xstrdup(path), *b = xstrdup(path);
    size_t l = strlen(b);
    while (l > 1 && b[l - 1] == '/') b[--l] = 0;   /* "out/" names the folder out */
    *dir = xstrdup(dirname(d));
    *base = xstrdup(basename(b));
    free(d);
    free(b);
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP) rmdir(p);
    else unlink(p);
    return 0;
}

/* Removes ".BASE.xf-PID.XXXXXX" entries of DIR whose PID is not running. */
static void remove_stale(const char *dir, const char *base)
{
    DIR *d = opendir(dir);
    if (!d) return;
    size_t bl = strlen(base);
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        if (n[0] != '.' || strncmp(n + 1, base, bl) || strncmp(n + 1 + bl, ".xf-", 4)) continue;
        const char *p = n + 1 + bl + 4;
        char *end;
        errno = 0;
        long pid = strtol(p, &end, 10);
        if (p[0] < '1' || p[0] > '9' || errno || *end != '.' || strlen(end + 1) != 6) continue;
        if (pid == (long)getpid() || pid > INT_MAX || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char *full;
        if (asprintf(&full, "%s/%s", dir, n) < 0) die("out of memory");
        if (nftw(full, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0)
            xf_info(2, "removed %s, left by an earlier run (process %ld) that did not finish", full, pid);
        free(full);
    }
    closedir(d);
}

/* The temp name pattern for PATH (malloc'd), after removing stale temps. */
static char *temp_pattern(const char *path)
{
    char *dir, *base, *tmp;
    split_path(path, &dir, &base);
    remove_stale(dir, base);
    if (asprintf(&tmp, "%s/.%s.xf-%ld.XXXXXX", dir, base, (long)getpid()) < 0) die("out of memory");
    free(dir);
    free(base);
    return tmp;
}

static void register_pending(char *tmp, int is_dir)
{
    for (int i = 0; i < MAX_OUTS; i++)
        if (!pending[i]) {
            pending_dir[i] = (char)is_dir;
            pending[i] = tmp;
            return;
        }
    die("too many open output files");
}

static void unregister(const char *tmp)
{
    for (int i = 0; i < MAX_OUTS; i++)
        if (pending[i] == tmp) pending[i] = NULL;
}

/* ---- commit sets ---- */

typedef struct { char *tmp, *path; int is_dir; } queued;
static queued *queue;
static size_t nqueue;
static int in_set;

void xf_commit_set_begin(void)
{
    if (in_set) die("internal error: nested commit sets");
    in_set = 1;
}

static void do_rename(char *tmp, const char *path, int is_dir)
{
    xf_check_not_input(path);
    if (is_dir) {
        struct stat st;
        if (stat(path, &st) == 0) {
            if (!S_ISDIR(st.st_mode) || xf_dir_is_empty(path) != 1) die("%s: exists and is not an empty folder", path);
            if (rmdir(path)) die_errno("%s: cannot replace the empty folder", path);
        }
    }
    if (rename(tmp, path)) die_errno("%s: cannot rename into place", path);
    unregister(tmp);
    free(tmp);
}

static void commit_rename(char *tmp, const char *path, int is_dir)
{
    if (!in_set) {
        do_rename(tmp, path, is_dir);
        return;
    }
    queue = xrealloc(queue, (nqueue + 1) * sizeof *queue);
    queue[nqueue++] = (queued){tmp, xstrdup(path), is_dir};
}

void xf_commit_set_end(void)
{
    if (!in_set) die("internal error: no commit set");
    /* every check first, so that a refusal leaves nothing renamed */
    for (size_t i = 0; i < nqueue; i++) xf_check_not_input(queue[i].path);
    for (size_t i = 0; i < nqueue; i++) {
        do_rename(queue[i].tmp, queue[i].path, queue[i].is_dir);
        free(queue[i].path);
    }
    free(queue);
    queue = NULL;
    nqueue = 0;
    in_set = 0;
}

/* ---- outputs ---- */

xf_out *xf_out_open(const char *path)
{
    xf_out *o = xcalloc(1, sizeof *o);
    o->path = xstrdup(path);
    if (!strcmp(path, "-")) {
        o->fp = stdout;
        return o;
    }
    xf_check_not_input(path);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) die("%s: is a folder", path);
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        o->fp = fopen(path, "wb");
        if (!o->fp) die_errno("%s: cannot open", path);
        o->direct = 1;
        return o;
    }
    o->tmp = temp_pattern(path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) die_errno("%s: cannot create", path);
    fchmod(fd, 0644 & ~umask(umask(0)));
    register_pending(o->tmp, 0);
    o->fp = fdopen(fd, "wb");
    if (!o->fp) die_errno("%s: cannot open", path);
    return o;
}

void xf_out_commit(xf_out *o)
{
    if (o->direct) {
        if (fflush(o->fp) || ferror(o->fp) || fclose(o->fp)) die_errno("%s: write error", o->path);
    } else if (!o->tmp) {
        if (fflush(o->fp) || ferror(o->fp)) die_errno("<stdout>: write error");
    } else {
        if (fflush(o->fp) || ferror(o->fp)) die_errno("%s: write error", o->path);
        if (fclose(o->fp)) die_errno("%s: write error", o->path);
        commit_rename(o->tmp, o->path, 0);
    }
    free(o->path);
    free(o);
}

void xf_out_abort(xf_out *o)
{
    if (o->direct) fclose(o->fp);
    if (o->tmp) {
        fclose(o->fp);
        unlink(o->tmp);
        unregister(o->tmp);
        free(o->tmp);
    }
    free(o->path);
    free(o);
}

char *xf_tmpdir_create(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) die("%s: exists and is not a folder", dir);
        int empty = xf_dir_is_empty(dir);
        if (empty < 0) die_errno("%s: cannot open", dir);
        if (!empty) die("%s: exists and is not empty", dir);
    }
    char *tmp = temp_pattern(dir);
    if (!mkdtemp(tmp)) die_errno("%s: cannot create a temp folder beside it", dir);
    register_pending(tmp, 1);
    mode_t um = umask(0);
    umask(um);
    if (chmod(tmp, 0777 & ~um)) die_errno("%s: chmod", tmp);
    return tmp;
}

void xf_tmpdir_commit(char *tmp, const char *dir) { commit_rename(tmp, dir, 1); }

long xf_utf8_invalid_at(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) { p++; continue; }
        size_t n;
        unsigned cp, min;
        if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; min = 0x10000; }
        else return (long)(p - (const unsigned char *)s);
        if ((size_t)(end - p) <= n) return (long)(p - (const unsigned char *)s);
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80) return (long)(p - (const unsigned char *)s);
            cp = cp << 6 | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return (long)(p - (const unsigned char *)s);
        p += n + 1;
    }
    return -1;
}

int xf_parse_decimal(const char *s, double *v)
{
    const char *p = s;
    if (*p == '-') p++;
    int digits = 0;
    while (*p >= '0' && *p <= '9') p++, digits++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') p++, digits++;
    }
    if (!digits) return -1;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (*p < '0' || *p > '9') return -1;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p) return -1;
    errno = 0;
    char *end;
    double x = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(x)) return -1;
    *v = x;
    return 0;
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
