/* read_squad.c — SQuAD 1.1 JSON (TyDiQA GoldP) -> qa examples, windowed
 * as HF run_qa's prepare_train_features: the question (left-stripped) and
 * the context, truncation "only_second" to --seq with overflowing windows
 * every (room - stride) context tokens, where room = seq - specials -
 * question tokens.  The first answer is the label: the token span that
 * covers its bytes, or 0:0 (CLS) when the window does not contain it.
 * Offsets are byte offsets into the context (HF: character offsets). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readers.h"
#include "util.h"

/* Byte index of code point CHARS in S (len bytes), or -1 if beyond. */
static long char_to_byte(const char *s, size_t len, long chars)
{
    size_t b = 0;
    for (long c = 0; c < chars; c++) {
        if (b >= len) return -1;
        b++;
        while (b < len && ((unsigned char)s[b] & 0xC0) == 0x80) b++;
    }
    return (long)b;
}

static long count_chars(const char *s)
{
    long n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

static const char *get_str(json_t *o, const char *key, const char *path, const char *where)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) die("%s: %s: missing string \"%s\"", path, where, key);
    return json_string_value(v);
}

static void encode_question(xf_exwriter *e, const char *path, const char *qid, const char *exid,
                            const char *question, const char *context, json_t *answers)
{
    xf_tok_special sp = xf_tok_specials(e->tk);
    int roberta = xf_tok_pair_double_sep(e->tk);
    size_t nspecial = roberta ? 4 : 3;
    int32_t tb = roberta ? 0 : 1;
    size_t clen = strlen(context);
    while (*question == ' ' || *question == '\t' || *question == '\n' || *question == '\r')
        question++;   /* run_qa: question.lstrip() */
    xf_check_utf8(question, strlen(question), path, 0);
    xf_check_utf8(context, clen, path, 0);

    /* answer bytes [sb, eb) from the first answer's characters */
    long sb = -1, eb = -1;
    json_t *first = json_array_size(answers) ? json_array_get(answers, 0) : NULL;
    if (first) {
        json_t *as = json_object_get(first, "answer_start");
        const char *text = get_str(first, "text", path, qid);
        if (!json_is_integer(as)) die("%s: question %s: answer_start is not an integer", path, qid);
        long sc = (long)json_integer_value(as);
        sb = sc < 0 ? -1 : char_to_byte(context, clen, sc);
        eb = sb < 0 ? -1 : char_to_byte(context, clen, sc + count_chars(text));
        if (sb < 0 || eb < 0)
            die("%s: question %s: answer_start %ld lies outside the context", path, qid, sc);
    }

    e->st.bytes += strlen(question) + clen;
    xf_tokens *q = &e->toks, *c = &e->toks2;
    xf_tokens_clear(q);
    xf_tokens_clear(c);
    xf_tok_encode(e->tk, question, strlen(question), q);
    xf_tok_encode(e->tk, context, clen, c);
    if (e->seq <= nspecial + e->stride + 1)
        die("--seq %zu is too small for --stride %zu", e->seq, e->stride);
    /* HF raises an error when the question leaves no room past the stride;
     * we cut the question instead, and count it. */
    size_t qmax = e->seq - nspecial - e->stride - 1, nq = q->n;
    if (nq > qmax) {
        e->st.truncated++;
        e->st.tokens_cut += nq - qmax;
        nq = qmax;
    }
    size_t room = e->seq - nspecial - nq, step = room - e->stride, nc = c->n;

    json_t *extra = json_object();
    json_object_set_new(extra, "qid", json_string(qid));
    json_object_set_new(extra, "context", json_string(context));
    json_t *texts = json_array();
    for (size_t i = 0; i < json_array_size(answers); i++)
        json_array_append_new(texts, json_string(get_str(json_array_get(answers, i), "text", path, qid)));
    json_object_set_new(extra, "answers", texts);
    char *extra_s = json_dumps(extra, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(extra);

    char *id = xmalloc(strlen(exid) + 24);
    size_t win = 0;
    for (size_t start = 0;; start += step) {
        size_t stop = start + room < nc ? start + room : nc;
        win++;
        if (win == 1) strcpy(id, exid);
        else sprintf(id, "%s#%zu", exid, win);
        xf_ex_reset(&e->ex, e->lang, id, XF_TASK_QA);
        xf_ex_push_token(&e->ex, sp.cls, 0);
        for (size_t i = 0; i < nq; i++) xf_ex_push_token(&e->ex, q->ids[i], 0);
        xf_ex_push_token(&e->ex, sp.sep, 0);
        if (roberta) xf_ex_push_token(&e->ex, sp.sep, 0);
        size_t c0 = e->ex.n;   /* first context token */
        for (size_t i = start; i < stop; i++)
            xf_ex_push_token_off(&e->ex, c->ids[i], tb, c->start[i], c->end[i]);
        size_t c1 = e->ex.n;   /* one past the last context token */
        xf_ex_push_token(&e->ex, sp.sep, tb);

        int32_t as = 0, ae = 0;
        if (sb >= 0 && c1 > c0 && e->ex.off_start[c0] <= sb && e->ex.off_end[c1 - 1] >= eb) {
            /* HF scans past the context into [SEP]/padding when the answer
             * starts in the last context token; we stop at the context. */
            size_t ts = c0, te = c1 - 1;
            while (ts < c1 && e->ex.off_start[ts] <= sb) ts++;
            as = (int32_t)(ts - 1);
            while (te >= c0 && e->ex.off_end[te] >= eb) te--;
            ae = (int32_t)(te + 1);
        }
        if (as == 0 && ae == 0) e->st.no_answer++;
        e->ex.ans_start = as;
        e->ex.ans_end = ae;
        xf_ex_set_extra(&e->ex, extra_s);
        e->st.examples++;
        e->sink(e->sink_ctx, &e->ex);
        if (stop == nc) break;
    }
    free(id);
    free(extra_s);
}

void xf_read_squad(xf_exwriter *e, const char *path)
{
    if (e->task != XF_TASK_QA) die("SQuAD JSON input gives qa examples, not %s", xf_task_name(e->task));
    size_t len;
    char *buf = xf_read_file(path, &len);
    const char *name = strcmp(path, "-") ? path : "<stdin>";
    json_error_t err;
    json_t *root = json_loadb(buf, len, 0, &err);
    free(buf);
    if (!root) die("%s:%d: bad JSON: %s", name, err.line, err.text);
    json_t *data = json_object_get(root, "data");
    if (!json_is_array(data)) die("%s: not SQuAD JSON (no \"data\" array)", name);
    size_t i, j, k;
    json_t *art, *par, *qa;
    /* Question ids repeat in some files (TyDiQA GoldP): count them first so
     * that a repeated QID gets example ids QID@1, QID@2, ... */
    json_t *seen = json_object(), *used = json_object();
    for (int pass = 0; pass < 2; pass++) {
        json_array_foreach(data, i, art) {
            json_t *pars = json_object_get(art, "paragraphs");
            if (!json_is_array(pars)) die("%s: data[%zu]: no \"paragraphs\" array", name, i);
            json_array_foreach(pars, j, par) {
                char where[64];
                snprintf(where, sizeof where, "data[%zu].paragraphs[%zu]", i, j);
                const char *context = get_str(par, "context", name, where);
                json_t *qas = json_object_get(par, "qas");
                if (!json_is_array(qas)) die("%s: %s: no \"qas\" array", name, where);
                json_array_foreach(qas, k, qa) {
                    const char *qid = get_str(qa, "id", name, where);
                    /* an empty id is no id: the question's place in the
                     * file stands for it (example id, qid in extra) */
                    char *place = NULL;
                    if (!*qid) {
                        place = xmalloc(strlen(name) + sizeof where + 32);
                        sprintf(place, "%s:%s.qas[%zu]", name, where, k);
                        qid = place;
                    }
                    const char *question = get_str(qa, "question", name, qid);
                    json_t *answers = json_object_get(qa, "answers");
                    if (!json_is_array(answers)) die("%s: question %s: no \"answers\" array", name, qid);
                    json_t *cnt = json_object_get(seen, qid);
                    json_int_t c = cnt ? json_integer_value(cnt) : 0;
                    if (pass == 0) {
                        json_object_set_new(seen, qid, json_integer(c + 1));
                        free(place);
                        continue;
                    }
                    char *exid = xmalloc(strlen(qid) + 24);
                    if (c > 1) {
                        json_t *u = json_object_get(used, qid);
                        json_int_t k1 = (u ? json_integer_value(u) : 0) + 1;
                        json_object_set_new(used, qid, json_integer(k1));
                        sprintf(exid, "%s@%lld", qid, (long long)k1);
                    } else
                        strcpy(exid, qid);
                    e->st.sources++;
                    encode_question(e, name, qid, exid, question, context, answers);
                    free(exid);
                    free(place);
                }
            }
        }
    }
    json_decref(seen);
    json_decref(used);
    json_decref(root);
}
