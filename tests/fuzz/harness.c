/* harness.c — the libFuzzer entry points and the die() catcher shared by
 * every harness in tests/fuzz (see harness.h). */
#define _GNU_SOURCE
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sanitizer/allocator_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tsv.h"
#include "util.h"

int fuzz_stages __attribute__((weak)) = 1;

/* ---- memory: live allocations of the current stage ----
 * Open addressing on the pointer; 0 = empty, 1 = freed (tombstone).  The
 * slots written during a stage are listed, so clearing costs what the
 * stage allocated, not the table size. */
#define TBITS 22
#define TCAP (1u << TBITS)
#define LCAP (TCAP / 2)
static uintptr_t *tab;
static uint32_t *used;
static size_t nused;
static int overflowed;
static volatile int tracking;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(uintptr_t p) { return (size_t)(((p >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - TBITS)); }

static void on_malloc(const volatile void *ptr, size_t n)
{
    (void)n;
    if (!tracking || !ptr) return;
    pthread_mutex_lock(&mu);
    if (nused >= LCAP) {
        overflowed = 1;
    } else {
        size_t i = slot_of((uintptr_t)ptr);
        while (tab[i] > 1) i = (i + 1) & (TCAP - 1);
        tab[i] = (uintptr_t)ptr;
        used[nused++] = (uint32_t)i;
    }
    pthread_mutex_unlock(&mu);
}

static void forget(uintptr_t p)
{
    size_t i = slot_of(p);
    for (size_t k = 0; k < TCAP && tab[i]; k++, i = (i + 1) & (TCAP - 1))
        if (tab[i] == p) {
            tab[i] = 1;
            return;
        }
}

static void on_free(const volatile void *ptr)
{
    if (!ptr || !tab) return;
    pthread_mutex_lock(&mu);
    if (nused) forget((uintptr_t)ptr);
    pthread_mutex_unlock(&mu);
}

/* Untracked memory is also hidden from LeakSanitizer (what a dying stage
 * leaves there is leaked on purpose). */
static int lsan_off;
void fuzz_track(int on)
{
    tracking = on;
    if (!on && !lsan_off) __lsan_disable();
    if (on && lsan_off) __lsan_enable();
    lsan_off = !on;
}

/* ---- files and descriptors the library opened (--wrap) ---- */
#define MAXH 256
static FILE *files[MAXH];
static DIR *dirs[MAXH];
static int fds[MAXH];
static int nfiles, ndirs, nfds;

static void add_fd(int fd)
{
    if (fd < 0 || !tracking) return;
    if (nfds == MAXH) {
        fprintf(stderr, "fuzz harness: more than %d open descriptors\n", MAXH);
        abort();
    }
    fds[nfds++] = fd;
}
static void drop_fd(int fd)
{
    for (int i = 0; i < nfds; i++)
        if (fds[i] == fd) {
            fds[i] = fds[--nfds];
            return;
        }
}

int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    int fd = __real_open(path, flags, mode);
    add_fd(fd);
    return fd;
}
int __real_close(int fd);
int __wrap_close(int fd)
{
    drop_fd(fd);
    return __real_close(fd);
}
FILE *__real_fopen(const char *path, const char *mode);
FILE *__wrap_fopen(const char *path, const char *mode)
{
    FILE *f = __real_fopen(path, mode);
    if (f && tracking) {
        if (nfiles == MAXH) abort();
        files[nfiles++] = f;
    }
    return f;
}
FILE *__real_fdopen(int fd, const char *mode);
FILE *__wrap_fdopen(int fd, const char *mode)
{
    FILE *f = __real_fdopen(fd, mode);
    if (f) drop_fd(fd);   /* the FILE owns it now */
    if (f && tracking) {
        if (nfiles == MAXH) abort();
        files[nfiles++] = f;
    }
    return f;
}
int __real_fclose(FILE *f);
int __wrap_fclose(FILE *f)
{
    for (int i = 0; i < nfiles; i++)
        if (files[i] == f) {
            files[i] = files[--nfiles];
            break;
        }
    return __real_fclose(f);
}
DIR *__real_opendir(const char *path);
DIR *__wrap_opendir(const char *path)
{
    DIR *d = __real_opendir(path);
    if (d && tracking) {
        if (ndirs == MAXH) abort();
        dirs[ndirs++] = d;
    }
    return d;
}
int __real_closedir(DIR *d);
int __wrap_closedir(DIR *d)
{
    for (int i = 0; i < ndirs; i++)
        if (dirs[i] == d) {
            dirs[i] = dirs[--ndirs];
            break;
        }
    return __real_closedir(d);
}

/* ---- exit() from die() ---- */
static jmp_buf jb;
static volatile int armed, die_is_bug;

void fuzz_die_is_bug(int on) { die_is_bug = on; }
static pthread_t main_thread;

_Noreturn void __real_exit(int code);
_Noreturn void __wrap_exit(int code)
{
    if (armed && die_is_bug) {
        fprintf(stderr, "fuzz harness: die() where the harness says it is a bug\n");
        abort();
    }
    if (armed && pthread_equal(pthread_self(), main_thread)) {
        armed = 0;
        longjmp(jb, 1);
    }
    __real_exit(code);
}

/* ---- the temp folder ---- */
static char tmpdir[64];
static char pathbuf[4][512];
static int pathnext;

static void rm_tree(const char *p)
{
    struct stat st;
    if (lstat(p, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = __real_opendir(p);
        if (d) {
            struct dirent *e;
            char sub[1024];
            while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                    snprintf(sub, sizeof sub, "%s/%s", p, e->d_name);
                    rm_tree(sub);
                }
            __real_closedir(d);
        }
        rmdir(p);
    } else {
        unlink(p);
    }
}

static void remove_tmpdir(void)
{
    if (tmpdir[0]) rm_tree(tmpdir);
}

/* Folders of harnesses that were killed (timeouts, crashes end in _Exit). */
static void remove_stale(const char *base)
{
    DIR *d = __real_opendir(base);
    if (!d) return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d))) {
        int pid;
        if (sscanf(e->d_name, "xf-fuzz.%d", &pid) == 1 && pid > 0 && kill(pid, 0) != 0 &&
            errno == ESRCH) {
            snprintf(p, sizeof p, "%s/%s", base, e->d_name);
            rm_tree(p);
        }
    }
    __real_closedir(d);
}

const char *fuzz_dir(void) { return tmpdir; }

const char *fuzz_path(const char *name)
{
    char *p = pathbuf[pathnext++ & 3];
    snprintf(p, sizeof pathbuf[0], "%s/%s", tmpdir, name);
    return p;
}

const char *fuzz_file(const char *name, const void *data, size_t size)
{
    const char *p = fuzz_path(name);
    int fd = __real_open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror(p);
        abort();
    }
    const char *c = data;
    while (size) {
        ssize_t w = write(fd, c, size);
        if (w <= 0) {
            perror(p);
            abort();
        }
        c += w;
        size -= (size_t)w;
    }
    __real_close(fd);
    return p;
}

char *fuzz_slurp(const char *path, size_t *len)
{
    FILE *f = __real_fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    size_t r;
    while ((r = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2) b = realloc(b, cap *= 2);
    }
    __real_fclose(f);
    b[n] = 0;
    if (len) *len = n;
    return b;
}

const char *fuzz_data_dir(void)
{
    const char *d = getenv("XF_DATA");
    return d && *d ? d : "../shared/data";
}

/* ---- running a stage ---- */
static void clear_table(void)
{
    for (size_t k = 0; k < nused; k++) tab[used[k]] = 0;
    nused = 0;
    overflowed = 0;
}

/* Memory the library keeps in statics across calls must survive a stage
 * that dies: xf_tsv_header_line's buffer (moved by realloc on every call,
 * so calling it once more gives its current, untracked address). */
static void rescue_statics(void)
{
    static const char *one[] = {"x"};
    const char *b = xf_tsv_header_line(one, 1);
    pthread_mutex_lock(&mu);
    forget((uintptr_t)b);
    pthread_mutex_unlock(&mu);
}

static uintptr_t *ptrs;   /* live pointers of a stage that died */

static void release_after_die(void)
{
    xf_inputs_reset();   /* the input registry is static: free it while it is valid */
    die_is_bug = 0;
    fuzz_track(1);
    rescue_statics();
    while (nfiles) __wrap_fclose(files[nfiles - 1]);
    while (ndirs) __wrap_closedir(dirs[ndirs - 1]);
    while (nfds) __wrap_close(fds[nfds - 1]);
    tracking = 0;
    /* Collect, clear the table, then free: free's hook must find nothing.
     * A slot can be listed twice (reused after a free): zeroing it when
     * read keeps each pointer once. */
    pthread_mutex_lock(&mu);
    size_t nlive = 0;
    for (size_t k = 0; k < nused; k++) {
        uint32_t s = used[k];
        if (tab[s] > 1) ptrs[nlive++] = tab[s];
        tab[s] = 0;
    }
    nused = 0;
    overflowed = 0;
    pthread_mutex_unlock(&mu);
    for (size_t k = 0; k < nlive; k++) free((void *)ptrs[k]);
}

static void run_stage(const uint8_t *data, size_t size, int stage)
{
    fuzz_track(1);
    if (setjmp(jb) == 0) {
        armed = 1;
        fuzz_one(data, size, stage);
        armed = 0;
        xf_inputs_reset();
        tracking = 0;
        pthread_mutex_lock(&mu);
        clear_table();
        pthread_mutex_unlock(&mu);
        if (nfiles || ndirs || nfds) {
            fprintf(stderr, "fuzz harness: the library returned with %d FILE, %d DIR, %d descriptors open\n",
                    nfiles, ndirs, nfds);
            abort();
        }
    } else {
        release_after_die();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    main_thread = pthread_self();
    static char *fake_argv[] = {"xf-fuzz", NULL};
    xf_init(1, fake_argv);
    xf_verbosity = 0;
    tab = mmap(NULL, TCAP * sizeof *tab, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    used = mmap(NULL, LCAP * sizeof *used, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ptrs = mmap(NULL, LCAP * sizeof *ptrs, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (tab == MAP_FAILED || used == MAP_FAILED || ptrs == MAP_FAILED) abort();
    if (!__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free)) {
        fprintf(stderr, "fuzz harness: cannot install malloc hooks\n");
        abort();
    }
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    remove_stale(base);
    snprintf(tmpdir, sizeof tmpdir, "%s/xf-fuzz.%d", base, (int)getpid());
    rm_tree(tmpdir);
    if (mkdir(tmpdir, 0700) != 0) {
        perror(tmpdir);
        abort();
    }
    atexit(remove_tmpdir);
    __sanitizer_set_death_callback(remove_tmpdir);
    /* Lazily allocated libc state must exist before the first stage, or a
     * stage that dies would free it: strerror's message catalogue. */
    (void)strerror(ENOENT);
    (void)strerror(EISDIR);
    static const char *one[] = {"x"};
    (void)xf_tsv_header_line(one, 1);
    /* and the OpenMP runtime, which allocates its thread team and tables on
     * the first parallel region (the encoder's random init has one) */
    volatile int nthreads = 0;
#pragma omp parallel
    {
#pragma omp atomic
        nthreads++;
    }
    (void)nthreads;
    /* setup may die: then it is a broken harness, not a finding */
    if (setjmp(jb) == 0) {
        armed = 1;
        fuzz_setup();
        armed = 0;
    } else {
        fprintf(stderr, "fuzz harness: setup failed\n");
        __real_exit(1);
    }
    if (nfiles || ndirs || nfds) {
        fprintf(stderr, "fuzz harness: setup left files open\n");
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int s = 0; s < fuzz_stages; s++) run_stage(data, size, s);
    return 0;
}
