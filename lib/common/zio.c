/* zio.c — byte streams with transparent zstd.  See zio.h.
 *
 * Input goes through read(2) rather than stdio so that a pipe delivers what
 * has arrived without waiting for a full buffer, and nothing ever seeks.
 * The first bytes are peeked once to decide between plain and zstd.
 */
#define _GNU_SOURCE
#include "zio.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define IN_BUFSZ (1 << 17)

struct xf_in {
    char *name;
    int fd;
    int is_zstd;
    /* decoded bytes waiting to be handed out */
    unsigned char *buf;
    size_t cap, pos, len;
    /* zstd state */
    ZSTD_DStream *ds;
    unsigned char *raw;
    size_t rawcap;
    ZSTD_inBuffer zin;
    int raw_eof;
    int frame_open;   /* a frame has started and not ended */
    /* getline */
    char *line;
    size_t linecap;
    long lineno;
    int eof;
};

/* read(2) until N bytes or end of input. */
static size_t read_full(xf_in *in, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(in->fd, (char *)buf + got, n - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            die_errno("%s: read error", in->name);
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    return got;
}

/* One read(2): whatever is available now (at least 1 byte unless EOF). */
static size_t read_some(xf_in *in, void *buf, size_t n)
{
    for (;;) {
        ssize_t r = read(in->fd, buf, n);
        if (r >= 0) return (size_t)r;
        if (errno != EINTR) die_errno("%s: read error", in->name);
    }
}

static int is_zstd_magic(const unsigned char *p)
{
    /* a zstd frame (28 B5 2F FD) or a skippable frame (5? 2A 4D 18) */
    if (p[0] == 0x28 && p[1] == 0xB5 && p[2] == 0x2F && p[3] == 0xFD) return 1;
    return (p[0] & 0xF0) == 0x50 && p[1] == 0x2A && p[2] == 0x4D && p[3] == 0x18;
}

xf_in *xf_in_open(const char *path)
{
    xf_in *in = xcalloc(1, sizeof *in);
    if (!strcmp(path, "-")) {
        in->name = xstrdup("<stdin>");
        in->fd = 0;
    } else {
        in->name = xstrdup(path);
        in->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (in->fd < 0) die_errno("%s: cannot open", path);
    }
    xf_note_input_fd(in->fd, in->name);
    xf_input_push(in->name);
    in->cap = IN_BUFSZ;
    in->buf = xmalloc(in->cap);
    unsigned char head[4];
    size_t n = read_full(in, head, 4);
    if (n == 4 && is_zstd_magic(head)) {
        in->is_zstd = 1;
        in->ds = ZSTD_createDStream();
        if (!in->ds) die("%s: cannot create zstd decoder", in->name);
        ZSTD_initDStream(in->ds);
        in->rawcap = ZSTD_DStreamInSize();
        if (in->rawcap < 4) in->rawcap = 4;
        in->raw = xmalloc(in->rawcap);
        memcpy(in->raw, head, 4);
        in->zin.src = in->raw;
        in->zin.size = 4;
        in->zin.pos = 0;
    } else {
        memcpy(in->buf, head, n);
        in->len = n;
    }
    return in;
}

/* Refills the decoded buffer; returns the bytes now available (0 = end). */
static size_t fill(xf_in *in)
{
    in->pos = in->len = 0;
    if (in->eof) return 0;
    if (!in->is_zstd) {
        in->len = read_some(in, in->buf, in->cap);
        if (!in->len) in->eof = 1;
        return in->len;
    }
    for (;;) {
        if (in->zin.pos == in->zin.size && !in->raw_eof) {
            size_t n = read_some(in, in->raw, in->rawcap);
            if (!n) in->raw_eof = 1;
            in->zin.src = in->raw;
            in->zin.size = n;
            in->zin.pos = 0;
        }
        size_t before = in->zin.pos;
        ZSTD_outBuffer out = {in->buf, in->cap, 0};
        size_t r = ZSTD_decompressStream(in->ds, &out, &in->zin);
        if (ZSTD_isError(r))
            die("%s: corrupt zstd data (%s)", in->name, ZSTD_getErrorName(r));
        if (r == 0)
            in->frame_open = 0;
        else if (in->zin.pos != before || out.pos)
            in->frame_open = 1;
        if (out.pos) {
            in->len = out.pos;
            return in->len;
        }
        if (in->raw_eof && in->zin.pos == in->zin.size) {
            if (in->frame_open) die("%s: truncated zstd data (frame not finished)", in->name);
            in->eof = 1;
            return 0;
        }
    }
}

size_t xf_in_read(xf_in *in, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        if (in->pos == in->len && !fill(in)) break;
        size_t k = in->len - in->pos;
        if (k > n - got) k = n - got;
        memcpy((char *)buf + got, in->buf + in->pos, k);
        in->pos += k;
        got += k;
    }
    return got;
}

void xf_in_read_exact(xf_in *in, void *buf, size_t n, const char *what)
{
    if (xf_in_read(in, buf, n) != n) die("%s: truncated (%s)", in->name, what);
}

ssize_t xf_in_getline(xf_in *in, char **line)
{
    size_t len = 0;
    int any = 0;
    for (;;) {
        if (in->pos == in->len && !fill(in)) break;
        any = 1;
        unsigned char *start = in->buf + in->pos;
        size_t avail = in->len - in->pos;
        unsigned char *nl = memchr(start, '\n', avail);
        size_t k = nl ? (size_t)(nl - start) : avail;
        if (len + k > XF_MAX_LINE)
            die("%s:%ld: line longer than %zu MiB, the limit of xf (split the text into lines)",
                in->name, in->lineno + 1, XF_MAX_LINE >> 20);
        if (len + k + 1 > in->linecap) {
            size_t want = in->linecap ? in->linecap : 256;
            while (want < len + k + 1) want = xmul(want, 2);
            in->line = xrealloc(in->line, want);
            in->linecap = want;
        }
        memcpy(in->line + len, start, k);
        len += k;
        in->pos += k;
        if (nl) {
            in->pos++;
            break;
        }
    }
    if (!any) return -1;
    if (!in->line) {
        in->line = xmalloc(1);
        in->linecap = 1;
    }
    if (len && in->line[len - 1] == '\r') len--;   /* CRLF line end */
    in->line[len] = 0;
    in->lineno++;
    *line = in->line;
    return (ssize_t)len;
}

long xf_in_lineno(const xf_in *in) { return in->lineno; }
const char *xf_in_name(const xf_in *in) { return in->name; }

char *xf_in_slurp(xf_in *in, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *s = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            cap = xmul(cap, 2);
            s = xrealloc(s, cap);
        }
        size_t got = xf_in_read(in, s + n, cap - n - 1);
        n += got;
        if (!got) break;
    }
    s[n] = 0;
    if (len) *len = n;
    return s;
}

void xf_in_close(xf_in *in)
{
    if (!in) return;
    if (in->fd > 0) close(in->fd);
    if (in->ds) ZSTD_freeDStream(in->ds);
    xf_input_pop(in->name);
    free(in->raw);
    free(in->buf);
    free(in->line);
    free(in->name);
    free(in);
}

char *xf_read_file(const char *path, size_t *len)
{
    xf_in *in = xf_in_open(path);
    char *s = xf_in_slurp(in, len);
    xf_in_close(in);
    return s;
}

/* ---- output ---- */

#define ZOUT_BUFSZ (1 << 17)

struct xf_zout {
    xf_out *out;
    ZSTD_CCtx *cctx;    /* NULL when writing plain bytes */
    unsigned char *ibuf, *obuf;
    size_t ilen, icap, ocap;
    int level;
    int started;        /* bytes were written (the level is then fixed) */
    int row_started;    /* for xf_tsv_put: a field is already on this row */
};

xf_zout *xf_zout_open(const char *path, int mode)
{
    xf_zout *z = xcalloc(1, sizeof *z);
    if (mode == XF_Z_AUTO) {
        size_t n = strlen(path);
        mode = n > 4 && !strcmp(path + n - 4, ".zst") ? XF_Z_ON : XF_Z_OFF;
    }
    z->out = xf_out_open(path);
    z->level = 3;
    if (mode == XF_Z_ON) {
        z->cctx = ZSTD_createCCtx();
        if (!z->cctx) die("%s: cannot create zstd encoder", path);
        ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1);
        z->icap = ZOUT_BUFSZ;
        z->ocap = ZSTD_CStreamOutSize();
        z->ibuf = xmalloc(z->icap);
        z->obuf = xmalloc(z->ocap);
    }
    return z;
}

void xf_zout_set_level(xf_zout *z, int level)
{
    if (z->started) die("%s: compression level set after writing", xf_zout_name(z));
    z->level = level;
}

int xf_zout_compressed(const xf_zout *z) { return z->cctx != NULL; }

static void put_raw(xf_zout *z, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, z->out->fp) != n)
        die_errno("%s: write error", z->out->path);
}

static void compress(xf_zout *z, const void *src, size_t n, ZSTD_EndDirective end)
{
    if (!z->started) ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, z->level);
    z->started = 1;
    ZSTD_inBuffer in = {src, n, 0};
    for (;;) {
        ZSTD_outBuffer out = {z->obuf, z->ocap, 0};
        size_t r = ZSTD_compressStream2(z->cctx, &out, &in, end);
        if (ZSTD_isError(r)) die("%s: zstd compression failed (%s)", z->out->path, ZSTD_getErrorName(r));
        put_raw(z, z->obuf, out.pos);
        if (end == ZSTD_e_end ? r == 0 : in.pos == in.size) break;
    }
}

void xf_zout_write(xf_zout *z, const void *buf, size_t n)
{
    if (!n) return;
    if (!z->cctx) {
        z->started = 1;
        put_raw(z, buf, n);
        return;
    }
    if (z->ilen + n <= z->icap) {
        memcpy(z->ibuf + z->ilen, buf, n);
        z->ilen += n;
        return;
    }
    if (z->ilen) {
        compress(z, z->ibuf, z->ilen, ZSTD_e_continue);
        z->ilen = 0;
    }
    if (n >= z->icap) {
        compress(z, buf, n, ZSTD_e_continue);
    } else {
        memcpy(z->ibuf, buf, n);
        z->ilen = n;
    }
}

void xf_zout_puts(xf_zout *z, const char *s) { xf_zout_write(z, s, strlen(s)); }

void xf_zout_printf(xf_zout *z, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) die("%s: bad format", z->out->path);
    if ((size_t)n < sizeof small) {
        xf_zout_write(z, small, (size_t)n);
        return;
    }
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    xf_zout_write(z, big, (size_t)n);
    free(big);
}

static void zout_free(xf_zout *z)
{
    if (z->cctx) ZSTD_freeCCtx(z->cctx);
    free(z->ibuf);
    free(z->obuf);
    free(z);
}

void xf_zout_commit(xf_zout *z)
{
    if (z->cctx) {
        compress(z, z->ibuf, z->ilen, ZSTD_e_end);
        z->ilen = 0;
    }
    xf_out_commit(z->out);
    zout_free(z);
}

void xf_zout_abort(xf_zout *z)
{
    xf_out_abort(z->out);
    zout_free(z);
}

const char *xf_zout_name(const xf_zout *z) { return z->out->path; }

int *xf_zout_row_state(xf_zout *z) { return &z->row_started; }
