/* testutil.h — scaffolding shared by the Criterion unit tests: a temp dir
 * per test, paths inside it, small files, $XF_DATA paths, and the exit
 * hook for forked children that die(). Header-only (static inline), so
 * each test binary gets its own copy and links nothing extra. */
#ifndef XF_TESTUTIL_H
#define XF_TESTUTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A forked child that die()s leaves its allocations to the kernel; leaving
 * through _exit keeps LeakSanitizer's exit-time check (registered earlier,
 * so run later) from reporting them. Register with atexit() in the child. */
static inline void child_exit(void)
{
    fflush(NULL);
    _exit(1);
}

/* Runs FN(CTX) in a forked child with stderr sent to ERR_PATH (NULL:
 * /dev/null) and returns its wait status: 1 from a die() in FN (exit hook
 * child_exit), 0 when FN returns, 9 when stderr cannot be redirected. */
static inline int run_in_child(void (*fn)(void *), void *ctx, const char *err_path)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        atexit(child_exit);
        if (!freopen(err_path ? err_path : "/dev/null", "w", stderr)) _exit(9);
        fn(ctx);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    return st;
}

/* Fills DIR (64 bytes) from TEMPLATE ("/tmp/...XXXXXX") and creates it. */
static inline void make_temp_dir(char *dir, const char *template)
{
    strcpy(dir, template);
    cr_assert(mkdtemp(dir));
}

static inline void remove_temp_dir(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {}
}

/* DIR/NAME in one of 8 rotating buffers, so a call can take a few paths. */
static inline char *path_in_dir(const char *dir, const char *name)
{
    static char buf[8][160];
    static int k;
    char *p = buf[k++ & 7];
    snprintf(p, 160, "%s/%s", dir, name);
    return p;
}

static inline void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* A new temp file from TEMPLATE ("/tmp/...XXXXXX") holding CONTENT; the
 * caller frees the returned path. */
static inline char *temp_file_with(const char *template, const char *content)
{
    char *path = strdup(template);
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    size_t n = strlen(content);
    cr_assert_eq(write(fd, content, n), (ssize_t)n);
    close(fd);
    return path;
}

/* $XF_DATA/REL (../shared/data when unset), in a static buffer. */
static inline char *data_path(const char *rel)
{
    const char *d = getenv("XF_DATA");
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", d ? d : "../shared/data", rel);
    return buf;
}

/* Encodes TEXT with tokenizer TK and asserts the ids are exactly the
 * rest of the arguments (needs tokenizer.h). */
#define CHECK_TOKENS(tk, text, ...)                                                 \
    do {                                                                            \
        int32_t want_[] = {__VA_ARGS__};                                            \
        size_t nw_ = sizeof want_ / sizeof *want_;                                  \
        xf_tokens t_ = {0};                                                         \
        xf_tok_encode(tk, text, strlen(text), &t_);                                 \
        cr_assert_eq(t_.n, nw_, "%s: %zu tokens, want %zu", text, t_.n, nw_);       \
        for (size_t i_ = 0; i_ < nw_; i_++)                                         \
            cr_assert_eq(t_.ids[i_], want_[i_], "%s: token %zu is %d, want %d",     \
                         text, i_, t_.ids[i_], want_[i_]);                          \
        xf_tokens_free(&t_);                                                        \
    } while (0)

#endif
