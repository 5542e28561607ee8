/* mlm.c — the masked-LM training loop (mlm.h). */
#include "mlm.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder_io.h"
#include "examples.h"
#include "provenance.h"
#include "rng.h"
#include "tsv.h"
#include "util.h"
#include "zio.h"

xf_mlm_opts xf_mlm_defaults(void)
{
    xf_mlm_opts o;
    memset(&o, 0, sizeof o);
    o.steps = 10;
    o.batch = 8;
    o.seq = 512;
    o.lr = 5e-5f;
    o.mlm_prob = 0.15f;
    return o;
}

/* ---- data ---- */

void xf_mlm_data_read(xf_mlm_data *d, const char *path, int vocab, int seq)
{
    memset(d, 0, sizeof *d);
    xf_exreader *r = xf_ex_open(path);
    d->path = xstrdup(xf_ex_name(r));
    xf_ex_set_vocab_size(r, (size_t)vocab);
    xf_example ex;
    xf_ex_init(&ex);
    size_t cap = 0, nl = 0;
    char **langs = NULL;     /* distinct, in order of appearance */
    uint64_t h = 0x9E3779B97F4A7C15ull;
    while (xf_ex_next(r, &ex)) {
        if (ex.task != XF_TASK_MLM)
            die("%s:%ld: task '%s', but xf-mlmstep needs an mlm example stream", xf_ex_name(r),
                xf_ex_lineno(r), xf_task_name(ex.task));
        if (ex.n == 0) continue;
        if ((long)ex.n > seq)
            die("%s:%ld: row of %zu tokens is longer than --seq %d", xf_ex_name(r),
                xf_ex_lineno(r), ex.n, seq);
        if (d->n == cap) {
            cap = cap ? 2 * cap : 1024;
            d->ids = xrealloc(d->ids, cap * sizeof *d->ids);
            d->len = xrealloc(d->len, cap * sizeof *d->len);
        }
        d->ids[d->n] = xmalloc(ex.n * sizeof(int32_t));
        memcpy(d->ids[d->n], ex.ids, ex.n * sizeof(int32_t));
        d->len[d->n] = (int)ex.n;
        if ((int)ex.n > d->maxlen) d->maxlen = (int)ex.n;
        if (!nl || strcmp(langs[nl - 1], ex.lang)) {
            size_t k = 0;
            while (k < nl && strcmp(langs[k], ex.lang)) k++;
            if (k == nl) {
                for (const unsigned char *c = (const unsigned char *)ex.lang; *c; c++)
                    if (*c <= ' ' || *c == '+' || *c == 0x7f)
                        die("%s:%ld: column 'lang': '%s' is not a language code (it is recorded "
                            "as the transfer language)", xf_ex_name(r), xf_ex_lineno(r), ex.lang);
                langs = xrealloc(langs, (nl + 1) * sizeof *langs);
                langs[nl++] = xstrdup(ex.lang);
            } else {   /* keep the last seen at the end: runs of one language are cheap */
                char *t = langs[k];
                memmove(langs + k, langs + k + 1, (nl - k - 1) * sizeof *langs);
                langs[nl - 1] = t;
            }
        }
        for (size_t i = 0; i < ex.n; i++) h = xf_hash64(h, 0, (uint64_t)ex.ids[i]);
        h = xf_hash64(h, 1, ex.n);
        d->n++;
    }
    xf_ex_free(&ex);
    if (d->n == 0) die("%s: no examples", xf_ex_name(r));
    xf_ex_close(r);
    d->vocab = vocab;
    d->hash = h;
    d->langs = xf_prov_join_langs((const char *const *)langs, nl);
    for (size_t k = 0; k < nl; k++) free(langs[k]);
    free(langs);
    d->special = xcalloc((size_t)vocab, 1);
    d->mask_id = -1;
}

void xf_mlm_data_set_specials(xf_mlm_data *d, const int32_t *special, int n, int32_t mask_id)
{
    for (int i = 0; i < n; i++)
        if (special[i] >= 0 && special[i] < d->vocab) d->special[special[i]] = 1;
    if (mask_id < 0 || mask_id >= d->vocab)
        die("the tokenizer's mask token id %d lies outside the model's vocabulary [0,%d)",
            (int)mask_id, d->vocab);
    d->mask_id = mask_id;
}

void xf_mlm_data_free(xf_mlm_data *d)
{
    for (size_t i = 0; i < d->n; i++) free(d->ids[i]);
    free(d->ids);
    free(d->len);
    free(d->special);
    free(d->path);
    free(d->langs);
    memset(d, 0, sizeof *d);
}

/* ---- masking and order ---- */

/* draw k of position t, batch row b, step s */
static uint64_t mask_counter(long s, int b, int t, int k)
{
    return ((((uint64_t)s << 12) + (uint64_t)b) << 20 | (uint64_t)t) << 2 | (uint64_t)k;
}

int xf_mlm_mask_row(int32_t *input, int32_t *labels, const int32_t *ids, int n,
                    const xf_mlm_data *d, float mlm_prob, uint64_t seed, long step, int row)
{
    int m = 0;
    for (int t = 0; t < n; t++) {
        int32_t id = ids[t];
        input[t] = id;
        labels[t] = -100;
        if (d->special[id]) continue;
        if (xf_hash_uniform(seed, XF_STREAM_MASK, mask_counter(step, row, t, 0)) >= mlm_prob)
            continue;
        labels[t] = id;
        m++;
        /* DataCollatorForLanguageModeling: 80 % [MASK]; half the rest random; rest kept */
        if (xf_hash_uniform(seed, XF_STREAM_MASK, mask_counter(step, row, t, 1)) < 0.8f) {
            input[t] = d->mask_id;
        } else if (xf_hash_uniform(seed, XF_STREAM_MASK, mask_counter(step, row, t, 2)) < 0.5f) {
            uint64_t h = xf_hash64(seed, XF_STREAM_MASK, mask_counter(step, row, t, 3));
            input[t] = (int32_t)(((h >> 32) * (uint64_t)d->vocab) >> 32);
        }
    }
    return m;
}

size_t xf_mlm_order(const xf_mlm_data *d, uint64_t seed, uint64_t k)
{
    /* one cached permutation (the current epoch); recomputed when it changes */
    static __thread size_t *perm;
    static __thread size_t perm_n;
    static __thread uint64_t perm_epoch = UINT64_MAX, perm_seed;
    static __thread const xf_mlm_data *perm_d;
    uint64_t epoch = k / d->n;
    if (!perm || perm_d != d || perm_n != d->n || perm_epoch != epoch || perm_seed != seed) {
        free(perm);
        perm = xmalloc(d->n * sizeof *perm);
        for (size_t i = 0; i < d->n; i++) perm[i] = i;
        xf_rng r;
        xf_rng_seed(&r, xf_hash64(seed, XF_STREAM_SHUFFLE, epoch), XF_STREAM_SHUFFLE);
        xf_rng_shuffle(&r, perm, d->n, sizeof *perm);
        perm_n = d->n;
        perm_epoch = epoch;
        perm_seed = seed;
        perm_d = d;
    }
    return perm[k % d->n];
}

/* ---- state ---- */

void xf_mlm_state_init(xf_mlm_state *st, const xf_encoder *e)
{
    size_t n = xf_encoder_nparams(e);
    st->step = 0;
    st->m = xmalloc_aligned(xmul(n, sizeof(float)));
    st->v = xmalloc_aligned(xmul(n, sizeof(float)));
    memset(st->m, 0, n * sizeof(float));
    memset(st->v, 0, n * sizeof(float));
}

void xf_mlm_state_free(xf_mlm_state *st)
{
    free(st->m);
    free(st->v);
    st->m = st->v = NULL;
}

/* ---- checkpoints ---- */

void xf_mlm_checkpoint_write(const char *path, const xf_encoder *e, const xf_config *cfg,
                             const xf_mlm_data *d, const xf_mlm_opts *o, const xf_mlm_state *st)
{
    xf_tensorset *ts = xf_encoder_to_tset(e);
    xf_encoder_export(e, st->m, ts, "xf.adamw.m.");
    xf_encoder_export(e, st->v, ts, "xf.adamw.v.");
    char hash[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)d->hash);
    json_t *state = json_pack("{s:I, s:I, s:i, s:i, s:f, s:I, s:f, s:f, s:f, s:I, s:I, s:s}",
                              "step", (json_int_t)st->step, "steps", (json_int_t)o->steps,
                              "batch", o->batch, "seq", o->seq, "lr", (double)o->lr,
                              "warmup", (json_int_t)o->warmup, "weight_decay",
                              (double)o->weight_decay, "clip", (double)o->clip,
                              "mlm_probability", (double)o->mlm_prob,
                              "seed", (json_int_t)o->seed, "data_n", (json_int_t)d->n,
                              "data_hash", hash);
    json_t *extra = json_object();
    json_object_set_new(extra, "mlm_state", state);
    if (o->tokenizer) json_object_set_new(extra, "tokenizer", json_string(o->tokenizer));
    if (o->prov) {
        json_t *p = xf_prov_to_json(o->prov);
        if (o->prov->steps >= 0) json_object_set_new(p, "steps", json_integer(st->step));
        json_object_set_new(extra, "provenance", p);
    }
    xf_model_save_stream(path, cfg, ts, "mlm-checkpoint", (long long)o->seed, extra);
    json_decref(extra);
    xf_tset_free(ts);
}

const char *xf_mlm_opts_problem(const xf_mlm_opts *o)
{
    static char msg[96];
    if (o->steps < 1 || o->steps > XF_MLM_MAX_STEPS)
        snprintf(msg, sizeof msg, "--steps must lie in [1, %ld]", XF_MLM_MAX_STEPS);
    else if (o->batch < 1 || o->batch > XF_MLM_MAX_BATCH)
        snprintf(msg, sizeof msg, "--batch must lie in [1, %d]", XF_MLM_MAX_BATCH);
    else if (o->seq < XF_MLM_MIN_SEQ || o->seq > XF_MLM_MAX_SEQ)
        snprintf(msg, sizeof msg, "--seq must lie in [%d, %d]", XF_MLM_MIN_SEQ, XF_MLM_MAX_SEQ);
    else if (o->warmup < 0 || o->warmup > XF_MLM_MAX_STEPS)
        snprintf(msg, sizeof msg, "--warmup must lie in [0, %ld]", XF_MLM_MAX_STEPS);
    else if (!(o->lr >= 0) || !isfinite(o->lr))
        snprintf(msg, sizeof msg, "--lr must be a finite number >= 0");
    else if (!(o->mlm_prob > 0 && o->mlm_prob <= 1))
        snprintf(msg, sizeof msg, "--mlm-probability must lie in (0,1]");
    else if (!(o->clip >= 0) || !(o->weight_decay >= 0) || !isfinite(o->clip) || !isfinite(o->weight_decay))
        snprintf(msg, sizeof msg, "--clip and --weight-decay must be >= 0");
    else if (o->seed > (uint64_t)XF_MLM_MAX_SEED)
        snprintf(msg, sizeof msg, "--seed must lie in [0, %ld]", XF_MLM_MAX_SEED);
    else
        return NULL;
    return msg;
}

static double jnum(json_t *o, const char *k, const char *path)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_number(v)) die("%s: HEAD mlm_state: key '%s' missing or not a number", path, k);
    double x = json_number_value(v);
    if (!isfinite(x)) die("%s: HEAD mlm_state: key '%s' is not finite", path, k);
    return x;
}

/* An integer value of key K within [lo, hi] (checked before any cast). */
static long long jint(json_t *o, const char *k, long long lo, long long hi, const char *path)
{
    double x = jnum(o, k, path);
    if (x != floor(x) || x < (double)lo || x > (double)hi)
        die("%s: HEAD mlm_state: key '%s': %.17g is not an integer in [%lld, %lld]", path, k, x, lo, hi);
    return (long long)x;
}

void xf_mlm_checkpoint_read(const xf_tensorset *ts, const char *path, const xf_encoder *e,
                            const xf_mlm_data *d, xf_mlm_opts *o, xf_mlm_state *st)
{
    json_t *s = ts->head ? json_object_get(ts->head, "mlm_state") : NULL;
    if (!json_is_object(s))
        die("%s: not an xf-mlmstep checkpoint (no \"mlm_state\" in its HEAD)", path);
    /* the same rules as the command line: integers are range-checked
     * before they are cast, then the whole set by xf_mlm_opts_problem */
    o->steps = (long)jint(s, "steps", 1, XF_MLM_MAX_STEPS, path);
    st->step = (long)jint(s, "step", 0, o->steps, path);
    o->batch = (int)jint(s, "batch", 1, XF_MLM_MAX_BATCH, path);
    o->seq = (int)jint(s, "seq", XF_MLM_MIN_SEQ, XF_MLM_MAX_SEQ, path);
    o->lr = (float)jnum(s, "lr", path);
    o->warmup = (long)jint(s, "warmup", 0, XF_MLM_MAX_STEPS, path);
    o->weight_decay = (float)jnum(s, "weight_decay", path);
    o->clip = (float)jnum(s, "clip", path);
    o->mlm_prob = (float)jnum(s, "mlm_probability", path);
    o->seed = (uint64_t)jint(s, "seed", 0, XF_MLM_MAX_SEED, path);
    const char *bad = xf_mlm_opts_problem(o);
    if (bad) die("%s: HEAD mlm_state: %s", path, bad);
    json_t *hv = json_object_get(s, "data_hash");
    char hash[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)d->hash);
    if ((size_t)jint(s, "data_n", 0, LLONG_MAX / 2, path) != d->n || !json_is_string(hv) ||
        strcmp(json_string_value(hv), hash))
        die("%s: the checkpoint was trained on other examples (%zu rows, hash %s; these: %zu "
            "rows, hash %s)", path, (size_t)jint(s, "data_n", 0, LLONG_MAX / 2, path),
            json_is_string(hv) ? json_string_value(hv) : "?", d->n, hash);
    xf_encoder_import(e, st->m, ts, "xf.adamw.m.", path);
    xf_encoder_import(e, st->v, ts, "xf.adamw.v.", path);
}

/* ---- test-only fixed masks ---- */

typedef struct fixed_masks {
    long steps;
    int batch;
    int *len;             /* [steps*batch] */
    int32_t **input, **labels;
} fixed_masks;

static void split_ints(const char *s, int32_t **out, int *n, const char *where)
{
    int cap = 64, k = 0;
    int32_t *v = xmalloc(cap * sizeof *v);
    char *end;
    for (;;) {
        while (*s == ' ') s++;
        if (!*s) break;
        long x = strtol(s, &end, 10);
        if (end == s) die("%s: bad integer list", where);
        if (k == cap) v = xrealloc(v, (cap *= 2) * sizeof *v);
        v[k++] = (int32_t)x;
        s = end;
    }
    *out = v;
    *n = k;
}

static void fixed_masks_read(fixed_masks *f, const char *path, long steps, int batch)
{
    xf_tsv *t = xf_tsv_open(path);
    const char *cols[] = {"step", "row", "input", "labels"};
    xf_tsv_expect_header(t, cols, 4);
    f->steps = steps;
    f->batch = batch;
    size_t n = (size_t)steps * batch;
    f->len = xcalloc(n, sizeof *f->len);
    f->input = xcalloc(n, sizeof *f->input);
    f->labels = xcalloc(n, sizeof *f->labels);
    while (xf_tsv_next(t)) {
        long s = xf_tsv_ll(t, 0), b = xf_tsv_ll(t, 1);
        char where[512];
        snprintf(where, sizeof where, "%s:%ld", path, xf_tsv_lineno(t));
        if (s < 0 || s >= steps || b < 0 || b >= batch) die("%s: step/row out of range", where);
        size_t i = (size_t)s * batch + b;
        int n1, n2;
        split_ints(xf_tsv_field(t, 2), &f->input[i], &n1, where);
        split_ints(xf_tsv_field(t, 3), &f->labels[i], &n2, where);
        if (n1 != n2) die("%s: input and labels differ in length", where);
        f->len[i] = n1;
    }
    xf_tsv_close(t);
    for (size_t i = 0; i < n; i++)
        if (!f->input[i]) die("%s: no row %zu of step %zu", path, i % batch, i / batch);
}

/* ---- training ---- */

static int is_save_step(const xf_mlm_opts *o, long s)
{
    for (int i = 0; i < o->n_save_at; i++)
        if (o->save_at[i] == s) return 1;
    return 0;
}

void xf_mlm_train(xf_encoder *e, const xf_config *cfg, const xf_mlm_data *d,
                  const xf_mlm_opts *o, xf_mlm_state *st)
{
    const xf_enc_dims *dims = xf_encoder_dims(e);
    int B = o->batch;
    fixed_masks fm;
    memset(&fm, 0, sizeof fm);
    if (o->test_masks) fixed_masks_read(&fm, o->test_masks, o->steps, B);
    int T = 0;
    if (o->test_masks) {
        for (size_t i = 0; i < (size_t)o->steps * B; i++) T = fm.len[i] > T ? fm.len[i] : T;
    } else {
        T = d->maxlen;
    }
    xf_encoder_enable_grads(e);
    xf_encoder_reserve(e, B, T);
    size_t N = (size_t)B * T;
    int32_t *input = xmalloc(N * sizeof *input), *labels = xmalloc(N * sizeof *labels);
    int32_t *am = xmalloc(N * sizeof *am);
    int32_t *pos = xmalloc(N * sizeof *pos), *tgt = xmalloc(N * sizeof *tgt);
    int np;
    const xf_enc_param *tab = xf_encoder_param_table(e, &np);
    float *params = xf_encoder_params(e), *grads = xf_encoder_grads(e);
    size_t nparams = xf_encoder_nparams(e);
    xf_adamw opt = xf_adamw_defaults();
    opt.weight_decay = o->weight_decay;

    xf_zout *log = NULL;
    if (o->log_path) {
        log = xf_zout_open(o->log_path, XF_Z_AUTO);
        const char *h[] = {"step", "lr", "loss", "masked", "seconds"};
        xf_tsv_header(log, h, 5);
    }
    xf_tensorset *dump = o->test_dump ? xf_tset_new() : NULL;
    float *losses = xcalloc((size_t)(o->steps > 0 ? o->steps : 1), sizeof(float));
    long first = st->step;
    st->secs_first = st->secs_rest = 0.0;
    st->n_rest = st->masked_total = 0;

    for (long s = st->step; s < o->steps; s++) {
        double t0 = xf_now();
        /* batch: rows padded to the longest in the batch */
        int Tb = 0;
        const int32_t *rows[4096];
        int lens[4096];
        if (B > 4096) die("--batch %d: at most 4096 rows", B);
        for (int b = 0; b < B; b++) {
            if (o->test_masks) {
                size_t i = (size_t)s * B + b;
                rows[b] = fm.input[i];
                lens[b] = fm.len[i];
            } else {
                size_t i = xf_mlm_order(d, o->seed, (uint64_t)s * B + b);
                rows[b] = d->ids[i];
                lens[b] = d->len[i];
            }
            if (lens[b] > Tb) Tb = lens[b];
        }
        int M = 0;
        for (int b = 0; b < B; b++) {
            int32_t *in = input + (size_t)b * Tb, *lb = labels + (size_t)b * Tb;
            if (o->test_masks) {
                size_t i = (size_t)s * B + b;
                memcpy(in, fm.input[i], lens[b] * sizeof *in);
                memcpy(lb, fm.labels[i], lens[b] * sizeof *lb);
                for (int t = 0; t < lens[b]; t++) {
                    if (in[t] < 0 || in[t] >= dims->vocab || lb[t] >= dims->vocab || lb[t] < -100)
                        die("%s: step %ld row %d: id outside the vocabulary", o->test_masks, s, b);
                }
            } else {
                xf_mlm_mask_row(in, lb, rows[b], lens[b], d, o->mlm_prob, o->seed, s, b);
            }
            for (int t = 0; t < Tb; t++) {
                if (t >= lens[b]) {
                    in[t] = dims->pad_id;
                    lb[t] = -100;
                }
                am[(size_t)b * Tb + t] = t < lens[b];
                if (lb[t] != -100) {
                    pos[M] = b * Tb + t;
                    tgt[M] = lb[t];
                    M++;
                }
            }
        }
        uint64_t drop_seed = xf_hash64(o->seed, XF_STREAM_DROPOUT, (uint64_t)s);
        xf_encoder_forward(e, input, NULL, am, B, Tb, 1, drop_seed);
        xf_encoder_zero_grads(e);
        const float *logits = NULL;
        float loss = M ? xf_encoder_mlm_step(e, pos, tgt, M, 1, dump && s == first ? &logits : NULL)
                       : 0.0f;
        if (!isfinite(loss))
            die("%s: step %ld: the loss is %s (check the model's weights and --lr); stopping, no "
                "model written", d->path ? d->path : "examples", s + 1, isnan(loss) ? "NaN" : "infinite");
        losses[s] = loss;
        if (dump && s == first) {
            xf_encoder_export(e, grads, dump, "grad.");
            if (M) {
                xf_tensor lt;
                memset(&lt, 0, sizeof lt);
                lt.name = xstrdup("logits");
                lt.dtype = XF_F32;
                lt.ndim = 2;
                lt.shape[0] = M;
                lt.shape[1] = dims->vocab;
                lt.nbytes = (size_t)M * dims->vocab * sizeof(float);
                lt.data = xmalloc_aligned(lt.nbytes);
                memcpy(lt.data, logits, lt.nbytes);
                xf_tset_add(dump, &lt);
            }
        }
        if (o->clip > 0) {
            double norm = sqrt(xf_grad_sumsq(grads, nparams));
            if (!isfinite(norm))
                die("%s: step %ld: the gradient norm is not finite; stopping, no model written",
                    d->path ? d->path : "examples", s + 1);
            double coef = o->clip / (norm + 1e-6);   /* torch clip_grad_norm_ */
            if (coef < 1.0) {
                float c = (float)coef;
#pragma omp parallel for schedule(static)
                for (size_t i = 0; i < nparams; i++) grads[i] *= c;
            }
        }
        float lr = (float)(o->lr * xf_linear_schedule(s, o->warmup, o->steps));
        size_t bad = 0;
        for (int k = 0; k < np; k++) {
            const xf_enc_param *p = &tab[k];
            bad += xf_adamw_update(&opt, params + p->off, grads + p->off, st->m + p->off,
                                   st->v + p->off, p->n, lr, s + 1, p->decay);
        }
        if (bad)
            die("%s: step %ld: %zu weights became NaN or infinite (check --lr); stopping, no model "
                "written", d->path ? d->path : "examples", s + 1, bad);
        st->step = s + 1;
        double dt = xf_now() - t0;
        if (s == first) {
            st->secs_first = dt;
        } else {
            st->secs_rest += dt;
            st->n_rest++;
        }
        st->masked_total += M;
        if (log) {
            xf_tsv_putf(log, "%ld", s + 1);
            xf_tsv_putf(log, "%.7g", lr);
            xf_tsv_putf(log, "%.6f", loss);
            xf_tsv_putf(log, "%d", M);
            xf_tsv_putf(log, "%.3f", dt);
            xf_tsv_end_row(log);
        }
        if (xf_progress_enabled() || xf_verbosity >= 2)
            fprintf(stderr, "%s: step %ld/%ld  loss %.4f  lr %.3g  masked %d  %.2fs\n",
                    xf_progname, s + 1, o->steps, loss, lr, M, dt);
        if (is_save_step(o, s + 1)) {
            char path[4096];
            snprintf(path, sizeof path, "%s.step%ld", o->save_prefix, s + 1);
            xf_mlm_checkpoint_write(path, e, cfg, d, o, st);
            xf_info(2, "wrote checkpoint %s", path);
        }
    }
    st->log = log;
    if (dump) {
        xf_tensor lt;
        memset(&lt, 0, sizeof lt);
        lt.name = xstrdup("loss");
        lt.dtype = XF_F32;
        lt.ndim = 1;
        lt.shape[0] = o->steps;
        lt.nbytes = (size_t)o->steps * sizeof(float);
        lt.data = xmalloc_aligned(lt.nbytes + 64);
        memcpy(lt.data, losses, lt.nbytes);
        xf_tset_add(dump, &lt);
        xf_tset_write_stream(dump, o->test_dump, "test-dump", (long long)o->seed, NULL);
        xf_tset_free(dump);
    }
    free(losses);
    free(input);
    free(labels);
    free(am);
    free(pos);
    free(tgt);
    if (o->test_masks) {
        for (size_t i = 0; i < (size_t)o->steps * B; i++) {
            free(fm.input[i]);
            free(fm.labels[i]);
        }
        free(fm.input);
        free(fm.labels);
        free(fm.len);
    }
}
