/* examples.c — example streams (see examples.h and xf-tsv(5)). */
#include "examples.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsv.h"
#include "util.h"

const char *const xf_ex_columns[XF_EX_NCOLS] = {
    "lang", "id", "task", "ids", "types", "words", "labels", "heads", "rels", "offsets", "extra",
};

enum { C_LANG, C_ID, C_TASK, C_IDS, C_TYPES, C_WORDS, C_LABELS, C_HEADS, C_RELS, C_OFFSETS, C_EXTRA };

/* ---- memory ---- */

void xf_ex_init(xf_example *ex)
{
    memset(ex, 0, sizeof *ex);
    ex->task = XF_TASK_INVALID;
    ex->label = -1;
}

void xf_ex_free(xf_example *ex)
{
    free(ex->lang); free(ex->id); free(ex->ids); free(ex->types);
    free(ex->wstart); free(ex->wend); free(ex->labels); free(ex->heads); free(ex->rels);
    free(ex->off_start); free(ex->off_end); free(ex->extra);
    xf_ex_init(ex);
}

void xf_ex_clear(xf_example *ex)
{
    ex->n = ex->nwords = 0;
    ex->has_types = ex->has_labels = 0;
    ex->label = -1;
    ex->ans_start = ex->ans_end = 0;
    ex->task = XF_TASK_INVALID;
    if (ex->lang) ex->lang[0] = 0;
    if (ex->id) ex->id[0] = 0;
    if (ex->extra) { free(ex->extra); ex->extra = NULL; ex->cap_extra = 0; }
}

static void reserve_tokens(xf_example *ex, size_t n)
{
    if (n <= ex->cap_tok) return;
    size_t cap = ex->cap_tok ? ex->cap_tok : 64;
    while (cap < n) cap = xmul(cap, 2);
    size_t b = xmul(cap, sizeof(int32_t));
    ex->ids = xrealloc(ex->ids, b);
    ex->types = xrealloc(ex->types, b);
    ex->off_start = xrealloc(ex->off_start, b);
    ex->off_end = xrealloc(ex->off_end, b);
    ex->cap_tok = cap;
}

static void reserve_words(xf_example *ex, size_t n)
{
    if (n <= ex->cap_word) return;
    size_t cap = ex->cap_word ? ex->cap_word : 32;
    while (cap < n) cap = xmul(cap, 2);
    size_t b = xmul(cap, sizeof(int32_t));
    ex->wstart = xrealloc(ex->wstart, b);
    ex->wend = xrealloc(ex->wend, b);
    ex->labels = xrealloc(ex->labels, b);
    ex->heads = xrealloc(ex->heads, b);
    ex->rels = xrealloc(ex->rels, b);
    ex->cap_word = cap;
}

static void set_str(char **dst, size_t *cap, const char *s)
{
    size_t len = strlen(s) + 1;
    if (len > *cap) {
        *dst = xrealloc(*dst, len);
        *cap = len;
    }
    memcpy(*dst, s, len);
}

void xf_ex_copy(xf_example *dst, const xf_example *src)
{
    xf_ex_free(dst);
    xf_ex_reset(dst, src->lang ? src->lang : "", src->id ? src->id : "", src->task);
    reserve_tokens(dst, src->n);
    reserve_words(dst, src->nwords);
    size_t tb = src->n * sizeof(int32_t), wb = src->nwords * sizeof(int32_t);
    if (tb) {
        memcpy(dst->ids, src->ids, tb);
        memcpy(dst->types, src->types, tb);
        memcpy(dst->off_start, src->off_start, tb);
        memcpy(dst->off_end, src->off_end, tb);
    }
    if (wb) {
        memcpy(dst->wstart, src->wstart, wb);
        memcpy(dst->wend, src->wend, wb);
        memcpy(dst->labels, src->labels, wb);
        memcpy(dst->heads, src->heads, wb);
        memcpy(dst->rels, src->rels, wb);
    }
    dst->n = src->n;
    dst->nwords = src->nwords;
    dst->has_types = src->has_types;
    dst->has_labels = src->has_labels;
    dst->label = src->label;
    dst->ans_start = src->ans_start;
    dst->ans_end = src->ans_end;
    if (src->extra) xf_ex_set_extra(dst, src->extra);
}

/* ---- building ---- */

void xf_ex_reset(xf_example *ex, const char *lang, const char *id, xf_task task)
{
    xf_ex_clear(ex);
    set_str(&ex->lang, &ex->cap_lang, lang);
    set_str(&ex->id, &ex->cap_id, id);
    ex->task = task;
}

void xf_ex_push_token_off(xf_example *ex, int32_t id, int32_t type, int32_t s, int32_t e)
{
    reserve_tokens(ex, ex->n + 1);
    ex->ids[ex->n] = id;
    ex->types[ex->n] = type;
    ex->off_start[ex->n] = s;
    ex->off_end[ex->n] = e;
    if (type) ex->has_types = 1;
    ex->n++;
}

void xf_ex_push_token(xf_example *ex, int32_t id, int32_t type)
{
    xf_ex_push_token_off(ex, id, type, -1, -1);
}

void xf_ex_push_word(xf_example *ex, int32_t start, int32_t end, int32_t label,
                     int32_t head, int32_t rel)
{
    reserve_words(ex, ex->nwords + 1);
    ex->wstart[ex->nwords] = start;
    ex->wend[ex->nwords] = end;
    ex->labels[ex->nwords] = label;
    ex->heads[ex->nwords] = head;
    ex->rels[ex->nwords] = rel;
    if (label >= 0) ex->has_labels = 1;
    ex->nwords++;
}

void xf_ex_set_extra(xf_example *ex, const char *json)
{
    set_str(&ex->extra, &ex->cap_extra, json);
}

/* ---- consistency (shared by writer and reader) ---- */

const char *xf_ex_lang_problem(const char *lang)
{
    if (!lang || !lang[0]) return "empty";
    /* lang becomes the target column of eval rows: the same word rule */
    if (xf_utf8_invalid_at(lang, strlen(lang)) >= 0) return "invalid UTF-8";
    for (const unsigned char *p = (const unsigned char *)lang; *p; p++)
        if (*p <= ' ' || *p == 0x7f) return "white space or a control character";
    if (!strcmp(lang, "-")) return "'-' is not a language";
    return NULL;
}

/* NULL if EX is consistent, else a static message. */
static const char *check(const xf_example *ex, size_t vocab, char *msg, size_t msgsz)
{
    xf_task t = ex->task;
    if (t < 0 || t >= XF_TASK_COUNT) return "unknown task";
    if (!ex->lang || !ex->lang[0]) return "empty lang";
    if (!ex->id || !ex->id[0]) return "empty id";
    const char *bad = xf_ex_lang_problem(ex->lang);
    if (bad) {
        snprintf(msg, msgsz, "column 'lang': %s", bad);
        return msg;
    }
    if (xf_utf8_invalid_at(ex->id, strlen(ex->id)) >= 0) return "column 'id': invalid UTF-8";
    if (ex->extra && xf_utf8_invalid_at(ex->extra, strlen(ex->extra)) >= 0)
        return "column 'extra': invalid UTF-8";
    if (ex->n == 0) return "no tokens";
    if (ex->n > INT32_MAX) return "too many tokens";
    for (size_t i = 0; i < ex->n; i++) {
        if (ex->ids[i] < 0 || (vocab && (size_t)ex->ids[i] >= vocab)) {
            snprintf(msg, msgsz, "token %zu: id %d outside the vocabulary [0, %zu)", i + 1,
                     (int)ex->ids[i], vocab);
            return msg;
        }
        if (ex->has_types && ex->types[i] < 0) return "negative token type";
    }
    for (size_t w = 0; w < ex->nwords; w++) {
        int32_t s = ex->wstart[w], e = ex->wend[w];
        int32_t prev = w ? ex->wend[w - 1] : 0;
        if (s < prev || e <= s || (size_t)e > ex->n) {
            snprintf(msg, msgsz, "word %zu: span %d:%d out of range (%zu tokens)", w + 1,
                     (int)s, (int)e, ex->n);
            return msg;
        }
    }
    int tagged = t == XF_TASK_POS || t == XF_TASK_NER || t == XF_TASK_DEP;
    if (tagged && ex->nwords == 0) return "no words";
    if ((t == XF_TASK_POS || t == XF_TASK_NER) && !ex->has_labels) return "no labels";
    if (ex->has_labels) {
        if (!tagged) return "per-word labels on a task without them";
        xf_task lt = t == XF_TASK_DEP ? XF_TASK_POS : t;
        for (size_t w = 0; w < ex->nwords; w++)
            if (!xf_label_name(lt, ex->labels[w])) {
                snprintf(msg, msgsz, "word %zu: label id %d unknown for %s", w + 1,
                         (int)ex->labels[w], xf_task_name(t));
                return msg;
            }
    }
    if (t == XF_TASK_DEP)
        for (size_t w = 0; w < ex->nwords; w++) {
            if (ex->heads[w] < -1 || ex->heads[w] > (int32_t)ex->nwords) {
                snprintf(msg, msgsz, "word %zu: head %d out of range (%zu words)", w + 1,
                         (int)ex->heads[w], ex->nwords);
                return msg;
            }
            if (!xf_label_name(XF_TASK_DEP, ex->rels[w])) {
                snprintf(msg, msgsz, "word %zu: relation id %d unknown", w + 1, (int)ex->rels[w]);
                return msg;
            }
        }
    if (t == XF_TASK_NLI && !xf_label_name(XF_TASK_NLI, ex->label)) return "missing or unknown NLI label";
    if (t == XF_TASK_QA) {
        if (ex->ans_start < 0 || ex->ans_end < ex->ans_start || (size_t)ex->ans_end >= ex->n) {
            snprintf(msg, msgsz, "answer span %d:%d out of range (%zu tokens)", (int)ex->ans_start,
                     (int)ex->ans_end, ex->n);
            return msg;
        }
        for (size_t i = 0; i < ex->n; i++) {
            int32_t s = ex->off_start[i], e = ex->off_end[i];
            if ((s == -1) != (e == -1) || s < -1 || e < s) {
                snprintf(msg, msgsz, "token %zu: bad offsets %d:%d", i + 1, (int)s, (int)e);
                return msg;
            }
        }
        if (!ex->extra) return "qa example without extra JSON";
    }
    return NULL;
}

/* ---- writing ---- */

typedef struct { char *p; size_t len, cap; } sbuf;

static void sb_need(sbuf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1) cap = xmul(cap, 2);
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

static void sb_int(sbuf *b, long v)
{
    sb_need(b, 24);
    char tmp[24];
    int k = 0, neg = v < 0;
    unsigned long u = neg ? 0UL - (unsigned long)v : (unsigned long)v;
    do { tmp[k++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (neg) b->p[b->len++] = '-';
    while (k) b->p[b->len++] = tmp[--k];
    b->p[b->len] = 0;
}

static void sb_ch(sbuf *b, char c)
{
    sb_need(b, 1);
    b->p[b->len++] = c;
    b->p[b->len] = 0;
}

static void sb_str(sbuf *b, const char *s)
{
    size_t n = strlen(s);
    sb_need(b, n);
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static void put_sb(xf_zout *z, sbuf *b)
{
    xf_tsv_putn(z, b->p ? b->p : "", b->len);
    b->len = 0;
    if (b->p) b->p[0] = 0;
}

void xf_ex_write_header(xf_zout *z)
{
    xf_tsv_header(z, xf_ex_columns, XF_EX_NCOLS);
}

void xf_ex_write(xf_zout *z, const xf_example *ex)
{
    static __thread sbuf b;
    char msg[256];
    const char *err = check(ex, 0, msg, sizeof msg);
    if (err) die("%s: example %s: %s", xf_zout_name(z), ex->id ? ex->id : "?", err);
    xf_tsv_put(z, ex->lang);
    xf_tsv_put(z, ex->id);
    xf_tsv_put(z, xf_task_name(ex->task));
    for (size_t i = 0; i < ex->n; i++) {
        if (i) sb_ch(&b, ' ');
        sb_int(&b, ex->ids[i]);
    }
    put_sb(z, &b);
    if (ex->has_types) {
        for (size_t i = 0; i < ex->n; i++) {
            if (i) sb_ch(&b, ' ');
            sb_int(&b, ex->types[i]);
        }
        put_sb(z, &b);
    } else
        xf_tsv_put(z, "-");
    if (ex->nwords) {
        for (size_t w = 0; w < ex->nwords; w++) {
            if (w) sb_ch(&b, ' ');
            sb_int(&b, ex->wstart[w]);
            sb_ch(&b, ':');
            sb_int(&b, ex->wend[w]);
        }
        put_sb(z, &b);
    } else
        xf_tsv_put(z, "-");
    /* labels */
    if (ex->has_labels) {
        xf_task lt = ex->task == XF_TASK_DEP ? XF_TASK_POS : ex->task;
        for (size_t w = 0; w < ex->nwords; w++) {
            if (w) sb_ch(&b, ' ');
            sb_str(&b, xf_label_name(lt, ex->labels[w]));
        }
        put_sb(z, &b);
    } else if (ex->task == XF_TASK_NLI)
        xf_tsv_put(z, xf_label_name(XF_TASK_NLI, ex->label));
    else if (ex->task == XF_TASK_QA) {
        sb_int(&b, ex->ans_start);
        sb_ch(&b, ':');
        sb_int(&b, ex->ans_end);
        put_sb(z, &b);
    } else
        xf_tsv_put(z, "-");
    /* heads, rels */
    if (ex->task == XF_TASK_DEP) {
        for (size_t w = 0; w < ex->nwords; w++) {
            if (w) sb_ch(&b, ' ');
            sb_int(&b, ex->heads[w]);
        }
        put_sb(z, &b);
        for (size_t w = 0; w < ex->nwords; w++) {
            if (w) sb_ch(&b, ' ');
            sb_str(&b, xf_label_name(XF_TASK_DEP, ex->rels[w]));
        }
        put_sb(z, &b);
    } else {
        xf_tsv_put(z, "-");
        xf_tsv_put(z, "-");
    }
    /* offsets, extra */
    if (ex->task == XF_TASK_QA) {
        for (size_t i = 0; i < ex->n; i++) {
            if (i) sb_ch(&b, ' ');
            sb_int(&b, ex->off_start[i]);
            sb_ch(&b, ':');
            sb_int(&b, ex->off_end[i]);
        }
        put_sb(z, &b);
        xf_tsv_put(z, ex->extra);
    } else {
        xf_tsv_put(z, "-");
        xf_tsv_put(z, "-");
    }
    xf_tsv_end_row(z);
}

/* ---- reading ---- */

/* Not xf_tsv: after `shuf` the header may be on any line, also not on
 * the first, and xf_tsv takes line 1 as the header.  Rows are the same
 * dialect: split at TAB, then xf_tsv_unescape each field. */
struct xf_exreader {
    xf_in *in;
    size_t vocab;
    long lineno;
    int header_seen;
    char *field[XF_EX_NCOLS];
};

xf_exreader *xf_ex_open(const char *path)
{
    xf_exreader *r = xcalloc(1, sizeof *r);
    r->in = xf_in_open(path);
    return r;
}

void xf_ex_set_vocab_size(xf_exreader *r, size_t v) { r->vocab = v; }
const char *xf_ex_name(const xf_exreader *r) { return xf_in_name(r->in); }
long xf_ex_lineno(const xf_exreader *r) { return r->lineno; }

void xf_ex_close(xf_exreader *r)
{
    if (!r) return;
    xf_in_close(r->in);
    free(r);
}

_Noreturn __attribute__((format(printf, 2, 3))) static void bad(const xf_exreader *r, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    die("%s:%ld: %s", xf_ex_name(r), xf_ex_lineno(r), buf);
}

static int is_dash(const char *s) { return s[0] == '-' && s[1] == 0; }

/* Parses a decimal int32 at *P (optional '-'), advancing *P. */
static int parse_i32(const char **p, int32_t *out)
{
    const char *s = *p;
    int neg = 0;
    if (*s == '-') { neg = 1; s++; }
    if (*s < '0' || *s > '9') return 0;
    long long v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s++ - '0');
        if (v > (long long)INT32_MAX + 1) return 0;
    }
    if (neg) v = -v;
    if (v > INT32_MAX || v < INT32_MIN) return 0;
    *out = (int32_t)v;
    *p = s;
    return 1;
}

/* Space-separated items of FIELD: calls ITEM for each; returns the count. */
typedef void (*item_fn)(const xf_exreader *r, xf_example *ex, size_t k, const char *s, size_t len,
                        const char *col);

static size_t each_item(const xf_exreader *r, xf_example *ex, const char *field, const char *col,
                        item_fn item)
{
    size_t k = 0;
    const char *s = field;
    if (!*s) bad(r, "column '%s' is empty", col);
    for (;;) {
        const char *e = strchr(s, ' ');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 0) bad(r, "column '%s': empty item (double or edge space)", col);
        item(r, ex, k++, s, len, col);
        if (!e) break;
        s = e + 1;
    }
    return k;
}

static void item_int(const xf_exreader *r, const char *s, size_t len, const char *col, int32_t *out)
{
    const char *p = s;
    if (!parse_i32(&p, out) || (size_t)(p - s) != len)
        bad(r, "column '%s': '%.*s' is not an integer", col, (int)(len > 40 ? 40 : len), s);
}

static void item_pair(const xf_exreader *r, const char *s, size_t len, const char *col, int32_t *a,
                      int32_t *b)
{
    const char *p = s;
    if (!parse_i32(&p, a) || *p != ':' || (p++, !parse_i32(&p, b)) || (size_t)(p - s) != len)
        bad(r, "column '%s': '%.*s' is not START:END", col, (int)(len > 40 ? 40 : len), s);
}

static void it_id(const xf_exreader *r, xf_example *ex, size_t k, const char *s, size_t len, const char *col)
{
    reserve_tokens(ex, k + 1);
    item_int(r, s, len, col, &ex->ids[k]);
}
static void it_type(const xf_exreader *r, xf_example *ex, size_t k, const char *s, size_t len, const char *col)
{
    if (k >= ex->n) bad(r, "column 'types' has more items than 'ids' (%zu)", ex->n);
    item_int(r, s, len, col, &ex->types[k]);
}
static void it_word(const xf_exreader *r, xf_example *ex, size_t k, const char *s, size_t len, const char *col)
{
    reserve_words(ex, k + 1);
    item_pair(r, s, len, col, &ex->wstart[k], &ex->wend[k]);
}
static void it_off(const xf_exreader *r, xf_example *ex, size_t k, const char *s, size_t len, const char *col)
{
    if (k >= ex->n) bad(r, "column 'offsets' has more items than 'ids' (%zu)", ex->n);
    item_pair(r, s, len, col, &ex->off_start[k], &ex->off_end[k]);
}
static void it_head(const xf_exreader *r, xf_example *ex, size_t k, const char *s, size_t len, const char *col)
{
    if (k >= ex->nwords) bad(r, "column 'heads' has more items than 'words' (%zu)", ex->nwords);
    item_int(r, s, len, col, &ex->heads[k]);
}
static int32_t item_label(const xf_exreader *r, xf_task t, const char *s, size_t len, const char *col)
{
    char name[64];
    if (len >= sizeof name) bad(r, "column '%s': label '%.40s...' too long", col, s);
    memcpy(name, s, len);
    name[len] = 0;
    int id = xf_label_id(t, name);
    if (id < 0) bad(r, "column '%s': unknown %s label '%s'", col, xf_task_name(t), name);
    return id;
}
static void it_label(const xf_exreader *r, xf_example *ex, size_t k, const char *s, size_t len, const char *col)
{
    if (k >= ex->nwords) bad(r, "column 'labels' has more items than 'words' (%zu)", ex->nwords);
    ex->labels[k] = item_label(r, ex->task == XF_TASK_DEP ? XF_TASK_POS : ex->task, s, len, col);
}
static void it_rel(const xf_exreader *r, xf_example *ex, size_t k, const char *s, size_t len, const char *col)
{
    if (k >= ex->nwords) bad(r, "column 'rels' has more items than 'words' (%zu)", ex->nwords);
    ex->rels[k] = item_label(r, XF_TASK_DEP, s, len, col);
}

static int is_header_row(const xf_exreader *r)
{
    for (int i = 0; i < XF_EX_NCOLS; i++)
        if (strcmp(r->field[i], xf_ex_columns[i])) return 0;
    return 1;
}

/* Next line split into the 11 unescaped fields; 0 at end of input. */
static int next_row(xf_exreader *r)
{
    char *line;
    ssize_t len = xf_in_getline(r->in, &line);
    if (len < 0) return 0;
    r->lineno = xf_in_lineno(r->in);
    if (strlen(line) != (size_t)len) bad(r, "NUL byte in the line");
    int n = 0;
    char *p = line;
    for (;;) {
        char *tab = strchr(p, '\t');
        if (n < XF_EX_NCOLS) r->field[n] = p;
        n++;
        if (!tab) break;
        *tab = 0;
        p = tab + 1;
    }
    if (n != XF_EX_NCOLS) bad(r, "expected %d columns, got %d (not an example stream?)", XF_EX_NCOLS, n);
    for (int i = 0; i < XF_EX_NCOLS; i++) {
        size_t l = xf_tsv_unescape(r->field[i], strlen(r->field[i]));
        r->field[i][l] = 0;
    }
    return 1;
}

static void need_dash(const xf_exreader *r, const char *f, const char *col, xf_task t)
{
    if (!is_dash(f)) bad(r, "column '%s' must be '-' for task %s", col, xf_task_name(t));
}

#define F(i) ((const char *)r->field[i])

int xf_ex_next(xf_exreader *r, xf_example *ex)
{
    for (;;) {
        if (!next_row(r)) {
            if (r->lineno == 0) die("%s: empty input, not an example stream (no header)", xf_ex_name(r));
            /* xf-tsv(5): the header may be on any line (after shuf), but
             * it must be there: a stream without one is not an example
             * stream (a data file or a cut piece of one) */
            if (!r->header_seen)
                die("%s: no header line: not an example stream (xf-tsv(5)); the header is: %s",
                    xf_ex_name(r), xf_tsv_header_line(xf_ex_columns, XF_EX_NCOLS));
            return 0;
        }
        if (!is_header_row(r)) break;
        r->header_seen = 1;
    }

    const char *task = F(C_TASK);
    xf_task tk = xf_task_parse(task);
    if (tk == XF_TASK_INVALID) bad(r, "column 'task': unknown task '%.40s'", task);
    const char *lang = F(C_LANG), *id = F(C_ID);
    if (!*lang) bad(r, "column 'lang' is empty");
    if (!*id) bad(r, "column 'id' is empty");
    xf_ex_reset(ex, lang, id, tk);

    ex->n = each_item(r, ex, F(C_IDS), "ids", it_id);
    const char *f = F(C_TYPES);
    if (is_dash(f))
        memset(ex->types, 0, ex->n * sizeof(int32_t));
    else {
        size_t k = each_item(r, ex, f, "types", it_type);
        if (k != ex->n) bad(r, "column 'types' has %zu items, 'ids' has %zu", k, ex->n);
        ex->has_types = 0;
        for (size_t i = 0; i < ex->n; i++)
            if (ex->types[i]) ex->has_types = 1;
    }
    for (size_t i = 0; i < ex->n; i++) ex->off_start[i] = ex->off_end[i] = -1;

    f = F(C_WORDS);
    ex->nwords = is_dash(f) ? 0 : each_item(r, ex, f, "words", it_word);

    f = F(C_LABELS);
    switch (tk) {
    case XF_TASK_POS: case XF_TASK_NER: case XF_TASK_DEP:
        if (tk == XF_TASK_DEP && is_dash(f)) break;
        if (!ex->nwords) bad(r, "column 'labels' given but 'words' is '-'");
        {
            size_t k = each_item(r, ex, f, "labels", it_label);
            if (k != ex->nwords) bad(r, "column 'labels' has %zu items, 'words' has %zu", k, ex->nwords);
            ex->has_labels = 1;
        }
        break;
    case XF_TASK_NLI:
        ex->label = item_label(r, XF_TASK_NLI, f, strlen(f), "labels");
        break;
    case XF_TASK_QA:
        item_pair(r, f, strlen(f), "labels", &ex->ans_start, &ex->ans_end);
        break;
    default:
        need_dash(r, f, "labels", tk);
    }

    const char *fh = F(C_HEADS), *fr = F(C_RELS);
    if (tk == XF_TASK_DEP) {
        if (!ex->nwords) bad(r, "dep example without words");
        size_t k = each_item(r, ex, fh, "heads", it_head);
        if (k != ex->nwords) bad(r, "column 'heads' has %zu items, 'words' has %zu", k, ex->nwords);
        k = each_item(r, ex, fr, "rels", it_rel);
        if (k != ex->nwords) bad(r, "column 'rels' has %zu items, 'words' has %zu", k, ex->nwords);
    } else {
        need_dash(r, fh, "heads", tk);
        need_dash(r, fr, "rels", tk);
    }

    const char *fo = F(C_OFFSETS), *fx = F(C_EXTRA);
    if (tk == XF_TASK_QA) {
        size_t k = each_item(r, ex, fo, "offsets", it_off);
        if (k != ex->n) bad(r, "column 'offsets' has %zu items, 'ids' has %zu", k, ex->n);
        if (is_dash(fx) || !*fx) bad(r, "column 'extra' must hold the QA JSON");
        xf_ex_set_extra(ex, fx);
    } else {
        need_dash(r, fo, "offsets", tk);
        need_dash(r, fx, "extra", tk);
    }

    char msg[256];
    const char *err = check(ex, r->vocab, msg, sizeof msg);
    if (err) bad(r, "%s", err);
    return 1;
}

xf_example *xf_ex_read_all_vocab(const char *path, size_t vocab_size, size_t *n)
{
    xf_exreader *r = xf_ex_open(path);
    if (vocab_size) xf_ex_set_vocab_size(r, vocab_size);
    size_t cap = 64, k = 0;
    xf_example *v = xmalloc(cap * sizeof *v), cur;
    xf_ex_init(&cur);
    while (xf_ex_next(r, &cur)) {
        if (k == cap) {
            cap = xmul(cap, 2);
            v = xrealloc(v, xmul(cap, sizeof *v));
        }
        xf_ex_init(&v[k]);
        xf_ex_copy(&v[k], &cur);
        k++;
    }
    xf_ex_free(&cur);
    xf_ex_close(r);
    *n = k;
    return v;
}

xf_example *xf_ex_read_all(const char *path, size_t *n)
{
    return xf_ex_read_all_vocab(path, 0, n);
}

void xf_ex_free_all(xf_example *v, size_t n)
{
    for (size_t i = 0; i < n; i++) xf_ex_free(&v[i]);
    free(v);
}

struct json_t *xf_ex_extra_json(const xf_example *ex, const char *where)
{
    if (!ex->extra) return NULL;
    json_error_t err;
    json_t *j = json_loads(ex->extra, 0, &err);
    if (!j) die("%s: example %s: extra JSON: %s", where, ex->id, err.text);
    return j;
}
