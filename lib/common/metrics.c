/* metrics.c — see metrics.h for the definitions and their sources. */
#include "metrics.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static xf_metric ratio(long num, long den, long n)
{
    xf_metric m = { NAN, n };
    if (n > 0 && den > 0) m.value = 100.0 * (double)num / (double)den;
    return m;
}

/* ---- accuracy ---- */

void xf_acc_add_names(xf_acc *a, const char *const *gold, const char *const *pred, int n)
{
    for (int i = 0; i < n; i++) a->correct += strcmp(gold[i], pred[i]) == 0;
    a->total += n;
}

void xf_acc_add_ids(xf_acc *a, const int32_t *gold, const int32_t *pred, int n)
{
    for (int i = 0; i < n; i++) a->correct += gold[i] == pred[i];
    a->total += n;
}

xf_metric xf_acc_finish(const xf_acc *a) { return ratio(a->correct, a->total, a->total); }

/* ---- dependency parsing ---- */

int xf_deprel_equal(const char *a, const char *b)
{
    size_t la = strcspn(a, ":"), lb = strcspn(b, ":");
    return la == lb && memcmp(a, b, la) == 0;
}

void xf_dep_add(xf_dep_acc *a, const int32_t *gold_heads, const char *const *gold_rels,
                const int32_t *pred_heads, const char *const *pred_rels, int n)
{
    for (int i = 0; i < n; i++) {
        if (gold_heads[i] != pred_heads[i]) continue;
        a->uas_ok++;
        a->las_ok += xf_deprel_equal(gold_rels[i], pred_rels[i]);
    }
    a->words += n;
}

xf_metric xf_dep_uas(const xf_dep_acc *a) { return ratio(a->uas_ok, a->words, a->words); }
xf_metric xf_dep_las(const xf_dep_acc *a) { return ratio(a->las_ok, a->words, a->words); }

/* ---- NER: seqeval get_entities (prefix scheme, not suffix) ---- */

typedef struct { char tag; const char *type; int len; } chunk_tag;

static chunk_tag split_tag(const char *s)
{
    /* seqeval: tag = s[0]; type = s[1:].split('-', 1)[-1] or '_' */
    chunk_tag t = { s[0], "_", 1 };
    if (!s[0]) die("NER tag is an empty string");
    const char *rest = s + 1, *dash = strchr(rest, '-');
    if (dash) rest = dash + 1;
    if (*rest) { t.type = rest; t.len = (int)strlen(rest); }
    return t;
}

static int same_type(chunk_tag a, chunk_tag b)
{
    return a.len == b.len && memcmp(a.type, b.type, (size_t)a.len) == 0;
}

static int end_of_chunk(chunk_tag p, chunk_tag t)
{
    char pt = p.tag, tt = t.tag;
    if (pt == 'E' || pt == 'S') return 1;
    if ((pt == 'B' || pt == 'I') && (tt == 'B' || tt == 'S' || tt == 'O')) return 1;
    return pt != 'O' && pt != '.' && !same_type(p, t);
}

static int start_of_chunk(chunk_tag p, chunk_tag t)
{
    char pt = p.tag, tt = t.tag;
    if (tt == 'B' || tt == 'S') return 1;
    if ((pt == 'E' || pt == 'S' || pt == 'O') && (tt == 'E' || tt == 'I')) return 1;
    return tt != 'O' && tt != '.' && !same_type(p, t);
}

int xf_ner_entities(const char *const *tags, int n, xf_entity *out)
{
    chunk_tag prev = { 'O', "_", 1 }, end = { 'O', "_", 1 };
    int begin = 0, k = 0;
    for (int i = 0; i <= n; i++) {   /* a virtual trailing 'O' closes the last chunk */
        chunk_tag t = i < n ? split_tag(tags[i]) : end;
        if (end_of_chunk(prev, t))
            out[k++] = (xf_entity){ begin, i - 1, prev.type, prev.len };
        if (start_of_chunk(prev, t)) begin = i;
        prev = t;
    }
    return k;
}

static int entity_equal(const xf_entity *a, const xf_entity *b)
{
    return a->start == b->start && a->end == b->end && a->type_len == b->type_len &&
           memcmp(a->type, b->type, (size_t)a->type_len) == 0;
}

/* seqeval scores sets of (type, start, end): duplicates count once. */
static int dedup(xf_entity *e, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < k && !seen; j++) seen = entity_equal(&e[i], &e[j]);
        if (!seen) e[k++] = e[i];
    }
    return k;
}

void xf_ner_add(xf_ner_acc *a, const char *const *gold, const char *const *pred, int n)
{
    xf_entity *g = xmalloc(sizeof *g * (size_t)(n + 1)), *p = xmalloc(sizeof *p * (size_t)(n + 1));
    int ng = dedup(g, xf_ner_entities(gold, n, g));
    int np = dedup(p, xf_ner_entities(pred, n, p));
    for (int i = 0; i < np; i++)
        for (int j = 0; j < ng; j++)
            if (entity_equal(&p[i], &g[j])) { a->correct++; break; }
    a->gold += ng;
    a->pred += np;
    free(g);
    free(p);
}

xf_metric xf_ner_precision(const xf_ner_acc *a)
{
    xf_metric m = { NAN, a->pred };
    if (a->pred > 0) m.value = 100.0 * (double)a->correct / (double)a->pred;
    return m;
}

xf_metric xf_ner_recall(const xf_ner_acc *a) { return ratio(a->correct, a->gold, a->gold); }

xf_metric xf_ner_f1(const xf_ner_acc *a)
{
    /* seqeval: p, r = 0 when undefined; f1 = 2pr/(p+r), 0 when p+r == 0 */
    xf_metric m = { NAN, a->gold };
    if (a->gold == 0) return m;
    double p = a->pred ? (double)a->correct / (double)a->pred : 0.0;
    double r = (double)a->correct / (double)a->gold;
    m.value = p + r > 0 ? 100.0 * 2 * p * r / (p + r) : 0.0;
    return m;
}

/* ---- SQuAD v1.1 ---- */

/* Python 3 str.isspace() */
static int py_isspace(int32_t c)
{
    if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f) || c == 0x85) return 1;
    if (c < 0x80) return 0;
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_ZS || k == UTF8PROC_CATEGORY_ZL || k == UTF8PROC_CATEGORY_ZP;
}

/* Python 3 re \w on str patterns: alphanumeric (L*, N*) or '_' */
static int py_isword(int32_t c)
{
    if (c < 0x80)
        return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return 1;
    default:
        return 0;
    }
}

/* Python's string.punctuation */
static int py_ispunct(int32_t c)
{
    return c > 0 && c < 0x80 && strchr("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", (int)c) != NULL;
}

/* Decodes UTF-8; an invalid byte becomes its own code point (never fails). */
static int32_t *decode(const char *s, int *n)
{
    size_t len = strlen(s);
    int32_t *cp = xmalloc(sizeof *cp * (len + 1));
    int k = 0;
    const uint8_t *p = (const uint8_t *)s, *e = p + len;
    while (p < e) {
        utf8proc_int32_t c;
        utf8proc_ssize_t r = utf8proc_iterate(p, e - p, &c);
        if (r <= 0) { c = *p; r = 1; }
        cp[k++] = c;
        p += r;
    }
    *n = k;
    return cp;
}

static int matches_article(const int32_t *cp, int n, int i)
{
    static const char *const articles[] = { "a", "an", "the" };
    if (i > 0 && py_isword(cp[i - 1])) return 0;
    for (int a = 0; a < 3; a++) {
        int l = (int)strlen(articles[a]), j = 0;
        while (j < l && i + j < n && cp[i + j] == articles[a][j]) j++;
        if (j == l && (i + l == n || !py_isword(cp[i + l]))) return l;
    }
    return 0;
}

/* Python's Cased (Lowercase, Uppercase or Lt): a letter category, or a
 * code point with a case mapping (Ⓐ, ª's kin without one are rare). */
static int py_iscased(int32_t c)
{
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT ||
           utf8proc_tolower(c) != c || utf8proc_toupper(c) != c;
}

/* Case_Ignorable: Mn, Me, Cf, Lm, Sk, and Word_Break MidLetter, MidNumLet,
 * Single_Quote. */
static int py_iscaseignorable(int32_t c)
{
    switch (c) {
    case 0x27: case 0x2E: case 0x3A: case 0xB7: case 0x387: case 0x55F: case 0x5F4:
    case 0x2018: case 0x2019: case 0x2024: case 0x2027: case 0xFE13: case 0xFE52:
    case 0xFE55: case 0xFF07: case 0xFF0E: case 0xFF1A:
        return 1;
    }
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_ME || k == UTF8PROC_CATEGORY_CF ||
           k == UTF8PROC_CATEGORY_LM || k == UTF8PROC_CATEGORY_SK;
}

/* Python's str.lower() of CP[0..n) into OUT (room for 2n): the full
 * mapping, i.e. the simple one except U+0130 İ → "i\u0307" (the only
 * unconditional multi-character lowercase) and Final_Sigma: Σ becomes ς
 * when a cased letter precedes it and none follows (case-ignorable code
 * points skipped both ways), as CPython's handle_capital_sigma. */
static int py_lower(const int32_t *cp, int n, int32_t *out)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        int32_t c = cp[i];
        if (c == 0x130) {
            out[k++] = 'i';
            out[k++] = 0x307;
        } else if (c == 0x3A3) {
            int j = i - 1, before = 0, after = 0;
            while (j >= 0 && py_iscaseignorable(cp[j])) j--;
            before = j >= 0 && py_iscased(cp[j]);
            j = i + 1;
            while (j < n && py_iscaseignorable(cp[j])) j++;
            after = j < n && py_iscased(cp[j]);
            out[k++] = before && !after ? 0x3C2 : 0x3C3;
        } else {
            out[k++] = utf8proc_tolower(c);
        }
    }
    return k;
}

char *xf_squad_normalize(const char *s)
{
    int n;
    int32_t *raw = decode(s, &n);
    /* lower, then remove_punc */
    int32_t *cp = xmalloc(sizeof *cp * (2 * (size_t)n + 1));
    int m = py_lower(raw, n, cp), k = 0;
    free(raw);
    for (int i = 0; i < m; i++)
        if (!py_ispunct(cp[i])) cp[k++] = cp[i];
    n = k;
    /* remove_articles: re.sub(r'\b(a|an|the)\b', ' ', text) */
    int32_t *t = xmalloc(sizeof *t * (size_t)(n + 1));
    k = 0;
    for (int i = 0; i < n;) {
        int l = matches_article(cp, n, i);
        if (l) { t[k++] = ' '; i += l; }
        else t[k++] = cp[i++];
    }
    /* white_space_fix: ' '.join(text.split()) */
    char *out = xmalloc((size_t)k * 4 + 1);
    size_t o = 0;
    int pending = 0;
    for (int i = 0; i < k; i++) {
        if (py_isspace(t[i])) { pending = o > 0; continue; }
        if (pending) { out[o++] = ' '; pending = 0; }
        if (t[i] < 0x80 || !utf8proc_codepoint_valid(t[i])) out[o++] = (char)t[i];
        else o += (size_t)utf8proc_encode_char(t[i], (utf8proc_uint8_t *)out + o);
    }
    out[o] = 0;
    free(cp);
    free(t);
    return out;
}

int xf_squad_exact(const char *pred, const char *gold)
{
    char *a = xf_squad_normalize(pred), *b = xf_squad_normalize(gold);
    int eq = strcmp(a, b) == 0;
    free(a);
    free(b);
    return eq;
}

/* Splits a normalised string (single spaces) in place into sorted tokens. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char **tokens(char *s, int *n)
{
    size_t len = strlen(s);
    char **tok = xmalloc(sizeof *tok * (len / 2 + 2));
    int k = 0;
    for (char *p = s; *p;) {
        tok[k++] = p;
        char *sp = strchr(p, ' ');
        if (!sp) break;
        *sp = 0;
        p = sp + 1;
    }
    qsort(tok, (size_t)k, sizeof *tok, cmp_str);
    *n = k;
    return tok;
}

double xf_squad_token_f1(const char *pred, const char *gold)
{
    char *a = xf_squad_normalize(pred), *b = xf_squad_normalize(gold);
    int na, nb;
    char **ta = tokens(a, &na), **tb = tokens(b, &nb);
    /* multiset intersection of the sorted token lists (Counter & Counter) */
    int same = 0;
    for (int i = 0, j = 0; i < na && j < nb;) {
        int c = strcmp(ta[i], tb[j]);
        if (c == 0) { same++; i++; j++; }
        else if (c < 0) i++;
        else j++;
    }
    double f1 = 0;
    if (same > 0) {
        double p = (double)same / na, r = (double)same / nb;
        f1 = 2 * p * r / (p + r);
    }
    free(ta); free(tb); free(a); free(b);
    return f1;
}

void xf_squad_add(xf_squad_acc *a, const char *pred, const char *const *golds, int ngold)
{
    if (ngold < 1) die("SQuAD question without gold answers");
    double em = 0, f1 = 0;
    for (int g = 0; g < ngold; g++) {
        double e = xf_squad_exact(pred, golds[g]), f = xf_squad_token_f1(pred, golds[g]);
        if (e > em) em = e;
        if (f > f1) f1 = f;
    }
    a->em += em;
    a->f1 += f1;
    a->n++;
}

xf_metric xf_squad_em(const xf_squad_acc *a)
{
    xf_metric m = { NAN, a->n };
    if (a->n) m.value = 100.0 * a->em / (double)a->n;
    return m;
}

xf_metric xf_squad_f1(const xf_squad_acc *a)
{
    xf_metric m = { NAN, a->n };
    if (a->n) m.value = 100.0 * a->f1 / (double)a->n;
    return m;
}
