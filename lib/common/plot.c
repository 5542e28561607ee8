/* plot.c — see plot.h. */
#define _GNU_SOURCE
#include "plot.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

struct xf_plot {
    char *path;
    char *buf;      /* the script body */
    size_t len;
    FILE *mem;
    int width, height, svg;
};

const char *xf_plot_gnuplot(void)
{
    static char found[4096];
    const char *env = getenv("XF_GNUPLOT");
    if (env && *env) return access(env, X_OK) == 0 ? env : NULL;
    const char *path = getenv("PATH");
    if (!path) path = "/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n && n + sizeof "/gnuplot" < sizeof found) {
            memcpy(found, path, n);
            strcpy(found + n, "/gnuplot");
            if (access(found, X_OK) == 0) return found;
        }
        path += n;
        if (*path == ':') path++;
    }
    return NULL;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}

xf_plot *xf_plot_open(const char *path, int width, int height)
{
    int svg = ends_with(path, ".svg");
    if (!svg && !ends_with(path, ".png"))
        die_usage("--plot %s: the file name must end in .svg or .png", path);
    if (!xf_plot_gnuplot())
        die("--plot %s: gnuplot not found (install gnuplot-nox, or set XF_GNUPLOT)", path);
    xf_plot *p = xcalloc(1, sizeof *p);
    p->path = xstrdup(path);
    p->svg = svg;
    p->width = width;
    p->height = height;
    p->mem = open_memstream(&p->buf, &p->len);
    if (!p->mem) die("out of memory building a plot script");
    return p;
}

void xf_plot_printf(xf_plot *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->mem, fmt, ap);
    va_end(ap);
}

void xf_plot_quote(xf_plot *p, const char *s)
{
    fputc('"', p->mem);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', p->mem);
        fputc(*s == '\n' ? ' ' : *s, p->mem);
    }
    fputc('"', p->mem);
}

static void plot_free(xf_plot *p)
{
    if (p->mem) fclose(p->mem);
    free(p->buf);
    free(p->path);
    free(p);
}

void xf_plot_abort(xf_plot *p) { plot_free(p); }

void xf_plot_render(xf_plot *p)
{
    fclose(p->mem);
    p->mem = NULL;
    /* The atomic output gives the temp name gnuplot writes to; its own
     * stream stays empty, so committing only renames. */
    xf_out *o = xf_out_open(p->path);
    const char *gp = xf_plot_gnuplot();
    if (!gp) die("%s: gnuplot not found", p->path);
    int fds[2];
    if (pipe(fds)) die_errno("%s: pipe", p->path);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) die_errno("%s: fork", p->path);
    if (pid == 0) {
        dup2(fds[0], 0);
        close(fds[0]);
        close(fds[1]);
        dup2(2, 1);   /* gnuplot chatter never reaches our stdout */
        execl(gp, "gnuplot", (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    FILE *w = fdopen(fds[1], "w");
    if (!w) die_errno("%s: fdopen", p->path);
    if (p->svg)
        fprintf(w, "set terminal svg size %d,%d dynamic font 'Sans,12' background rgb 'white'\n",
                p->width, p->height);
    else
        fprintf(w, "set terminal pngcairo size %d,%d font 'Sans,11' background rgb 'white'\n",
                p->width, p->height);
    fputs("set output ", w);
    fputc('"', w);
    for (const char *s = o->tmp; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', w);
        fputc(*s, w);
    }
    fputs("\"\nset encoding utf8\n", w);
    fwrite(p->buf, 1, p->len, w);
    fputs("\nunset output\n", w);
    /* A dead gnuplot gives EPIPE: ignore SIGPIPE while writing. */
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    int werr = fflush(w) != 0;
    fclose(w);
    signal(SIGPIPE, old);
    int status;
    if (waitpid(pid, &status, 0) < 0) die_errno("%s: waitpid", p->path);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || werr)
        die("%s: gnuplot failed (exit status %d)", p->path,
            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    struct stat st;
    if (stat(o->tmp, &st) || st.st_size == 0) die("%s: gnuplot wrote nothing", p->path);
    xf_out_commit(o);
    plot_free(p);
}
