/* encoder_io.c — encoders ↔ HF-named tensor sets (encoder_io.h). */
#include "encoder_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

xf_enc_dims xf_encoder_dims_from_config(const xf_config *cfg, const char *fname)
{
    xf_enc_dims d;
    memset(&d, 0, sizeof d);
    if (!strcmp(cfg->model_type, "bert"))
        d.roberta = 0;
    else if (!strcmp(cfg->model_type, "xlm-roberta") || !strcmp(cfg->model_type, "roberta"))
        d.roberta = 1;
    else
        die("%s: model_type '%s' is not supported (bert, xlm-roberta, roberta)", fname,
            cfg->model_type);
    /* HF ACT2FN["gelu"] is the exact erf GELU; the tanh approximations would
     * silently change every number, so they are refused */
    if (strcmp(cfg->hidden_act, "gelu"))
        die("%s: hidden_act '%s' is not supported (only \"gelu\", the exact erf GELU)", fname,
            cfg->hidden_act);
    d.vocab = cfg->vocab_size;
    d.hidden = cfg->hidden_size;
    d.layers = cfg->num_hidden_layers;
    d.heads = cfg->num_attention_heads;
    d.inter = cfg->intermediate_size;
    d.max_pos = cfg->max_position_embeddings;
    d.type_vocab = cfg->type_vocab_size;
    d.pad_id = cfg->pad_token_id;
    d.ln_eps = (float)cfg->layer_norm_eps;
    d.p_hidden = (float)cfg->hidden_dropout_prob;
    d.p_attn = (float)cfg->attention_probs_dropout_prob;
    d.init_range = (float)cfg->initializer_range;
    if (!(d.p_hidden >= 0 && d.p_hidden < 1) || !(d.p_attn >= 0 && d.p_attn < 1))
        die("%s: dropout probabilities must lie in [0,1)", fname);
    return d;
}

/* "....attention.self.qkv.weight" → the three HF names */
static void qkv_names(const char *name, char out[3][128])
{
    const char *parts[3] = {"query", "key", "value"};
    const char *q = strstr(name, "qkv.");
    for (int k = 0; k < 3; k++)
        snprintf(out[k], 128, "%.*s%s.%s", (int)(q - name), name, parts[k], q + 4);
}

static int is_pooler(const char *name) { return strstr(name, "pooler.") != NULL; }
static int is_head(const char *name)
{
    return !strncmp(name, "cls.", 4) || !strncmp(name, "lm_head.", 8);
}

static xf_tensor *get_f32(const xf_tensorset *ts, const char *name, const char *src,
                          int64_t r, int64_t c)
{
    xf_tensor *t = xf_tset_get(ts, name);
    if (!t) return NULL;
    if (t->dtype != XF_F32)
        die("%s: tensor %s: dtype %s, expected a float tensor", src, name,
            xf_dtype_name(t->dtype));
    int ok = c ? (t->ndim == 2 && t->shape[0] == r && t->shape[1] == c)
               : (t->ndim == 1 && t->shape[0] == r);
    if (!ok) {
        char got[96] = "", *p = got;
        for (int i = 0; i < t->ndim && p < got + 80; i++)
            p += sprintf(p, "%s%lld", i ? "," : "", (long long)t->shape[i]);
        if (c)
            die("%s: tensor %s: shape [%s], but the config implies [%lld,%lld]", src, name, got,
                (long long)r, (long long)c);
        die("%s: tensor %s: shape [%s], but the config implies [%lld]", src, name, got,
            (long long)r);
    }
    return t;
}

/* dst ← the data of T, which CONSUME then frees (its entry stays, empty). */
static void take(float *dst, xf_tensor *t, size_t n, int consume)
{
    memcpy(dst, t->data, n * sizeof(float));
    if (!consume) return;
    free(t->data);
    t->data = NULL;
    t->nbytes = 0;
}

/* Copies every parameter of E's table from TS (names PREFIX + HF name; the
 * fused QKV from its three parts) into ARENA; the pooler only when E has
 * one, the MLM head unless SKIP_HEAD.  CONSUME: see take(). */
static void import_params(const xf_encoder *e, float *arena, xf_tensorset *ts,
                          const char *prefix, const char *src, int skip_head, int consume)
{
    int np;
    const xf_enc_param *tab = xf_encoder_param_table(e, &np);
    char nm[512];
    for (int k = 0; k < np; k++) {
        const xf_enc_param *p = &tab[k];
        if (is_pooler(p->name) && !xf_encoder_has_pooler(e)) continue;
        if (skip_head && is_head(p->name)) continue;
        float *dst = arena + p->off;
        int qkv = strstr(p->name, ".qkv.") != NULL;
        char part[3][128];
        if (qkv) qkv_names(p->name, part);
        int nparts = qkv ? 3 : 1;
        int64_t r = p->shape[0] / nparts, c = p->ndim == 2 ? p->shape[1] : 0;
        size_t n = p->n / (size_t)nparts;
        for (int j = 0; j < nparts; j++) {
            snprintf(nm, sizeof nm, "%s%s", prefix, qkv ? part[j] : p->name);
            xf_tensor *t = get_f32(ts, nm, src, r, c);
            if (!t) die("%s: tensor %s is missing", src, nm);
            take(dst + (size_t)j * n, t, n, consume);
        }
    }
}

void xf_encoder_import(const xf_encoder *e, float *arena, const xf_tensorset *ts,
                       const char *prefix, const char *src)
{
    import_params(e, arena, (xf_tensorset *)ts, prefix, src, 0, 0);   /* not modified */
}

/* Every base-model tensor the config implies (embeddings, each layer) is
 * present with its shape: checked before the parameter arena, whose size
 * comes from the config, is allocated, so that a small config naming a
 * million layers fails at once on the first missing tensor. */
static void check_base_tensors(const xf_enc_dims *d, const xf_tensorset *ts, const char *src)
{
    const char *pre = d->roberta ? "roberta." : "bert.";
    int64_t C = d->hidden, F = d->inter;
    const struct { const char *name; int64_t r, c; } emb[] = {
        {"embeddings.word_embeddings.weight", d->vocab, C},
        {"embeddings.position_embeddings.weight", d->max_pos, C},
        {"embeddings.token_type_embeddings.weight", d->type_vocab, C},
        {"embeddings.LayerNorm.weight", C, 0}, {"embeddings.LayerNorm.bias", C, 0}};
    const struct { const char *name; int64_t r, c; } layer[] = {
        {"attention.self.query.weight", C, C}, {"attention.self.query.bias", C, 0},
        {"attention.self.key.weight", C, C}, {"attention.self.key.bias", C, 0},
        {"attention.self.value.weight", C, C}, {"attention.self.value.bias", C, 0},
        {"attention.output.dense.weight", C, C}, {"attention.output.dense.bias", C, 0},
        {"attention.output.LayerNorm.weight", C, 0}, {"attention.output.LayerNorm.bias", C, 0},
        {"intermediate.dense.weight", F, C}, {"intermediate.dense.bias", F, 0},
        {"output.dense.weight", C, F}, {"output.dense.bias", C, 0},
        {"output.LayerNorm.weight", C, 0}, {"output.LayerNorm.bias", C, 0}};
    char nm[256];
    for (size_t k = 0; k < sizeof emb / sizeof emb[0]; k++) {
        snprintf(nm, sizeof nm, "%s%s", pre, emb[k].name);
        if (!get_f32(ts, nm, src, emb[k].r, emb[k].c)) die("%s: tensor %s is missing", src, nm);
    }
    for (int l = 0; l < d->layers; l++)
        for (size_t k = 0; k < sizeof layer / sizeof layer[0]; k++) {
            snprintf(nm, sizeof nm, "%sencoder.layer.%d.%s", pre, l, layer[k].name);
            if (!get_f32(ts, nm, src, layer[k].r, layer[k].c))
                die("%s: tensor %s is missing (the config says num_hidden_layers %d)", src, nm,
                    d->layers);
        }
}

/* Tensors of TS that no parameter of E takes (HF drops them too, with a
 * warning): one warning with their count.  xf's own extra tensors ("xf."
 * names: a checkpoint's optimiser moments) and HF's position_ids buffer
 * are not counted. */
static void warn_unused(const xf_encoder *e, const xf_tensorset *ts, const char *src)
{
    int np;
    const xf_enc_param *tab = xf_encoder_param_table(e, &np);
    json_t *known = json_object();
    for (int k = 0; k < np; k++) {
        if (strstr(tab[k].name, ".qkv.")) {
            char part[3][128];
            qkv_names(tab[k].name, part);
            for (int j = 0; j < 3; j++) json_object_set_new(known, part[j], json_true());
        } else {
            json_object_set_new(known, tab[k].name, json_true());
        }
    }
    size_t n = 0;
    const char *first = NULL;
    for (size_t i = 0; i < ts->n; i++) {
        const char *nm = ts->t[i].name;
        size_t l = strlen(nm);
        /* the position_ids buffer HF checkpoints carry is not a weight */
        if (l >= 12 && !strcmp(nm + l - 12, "position_ids")) continue;
        if (!strncmp(nm, "xf.", 3) || json_object_get(known, nm)) continue;
        if (!n++) first = nm;
    }
    if (n)
        warning("%s: %zu tensor%s the model does not use %s ignored (the first: %s)", src, n,
                n == 1 ? "" : "s", n == 1 ? "is" : "are", first);
    json_decref(known);
}

/* xf_encoder_from_tset; CONSUME frees each tensor of TS once copied, so
 * that loading holds the model about once, not twice (the parameter arena
 * costs memory only as it is filled: alloc_zeroed in encoder.c). */
static xf_encoder *from_tset(const xf_config *cfg, xf_tensorset *ts, const char *src,
                             int consume)
{
    xf_enc_dims d = xf_encoder_dims_from_config(cfg, src);
    check_base_tensors(&d, ts, src);
    int tied = xf_model_decoder_tied(ts, cfg);
    xf_encoder *e = xf_encoder_new(&d, tied);
    int np;
    const xf_enc_param *tab = xf_encoder_param_table(e, &np);
    /* what is absent: the pooler (BertForMaskedLM has none), the MLM head
     * (a bare BertModel) — HF initialises those randomly, so do we */
    int have_pooler = 1, have_head = 1;
    for (int k = 0; k < np; k++) {
        if (strstr(tab[k].name, ".qkv.")) continue;
        int there = xf_tset_get(ts, tab[k].name) != NULL;
        if (is_pooler(tab[k].name) && !there) have_pooler = 0;
        if (is_head(tab[k].name) && !there) have_head = 0;
    }
    xf_encoder_set_has_pooler(e, 1);
    for (int k = 0; k < np; k++) {
        if ((is_pooler(tab[k].name) && !have_pooler) || (is_head(tab[k].name) && !have_head))
            xf_encoder_init_param(e, k, 0);
    }
    if (!have_head)
        warning("%s: no complete MLM head; it is initialised randomly, as HF does", src);
    xf_encoder_set_has_pooler(e, have_pooler);
    /* import everything present */
    import_params(e, xf_encoder_params(e), ts, "", src, !have_head, consume);
    warn_unused(e, ts, src);
    return e;
}

xf_encoder *xf_encoder_from_tset(const xf_config *cfg, const xf_tensorset *ts, const char *src)
{
    return from_tset(cfg, (xf_tensorset *)ts, src, 0);   /* not modified */
}

xf_encoder *xf_encoder_from_tset_consume(const xf_config *cfg, xf_tensorset *ts, const char *src)
{
    return from_tset(cfg, ts, src, 1);
}

xf_encoder *xf_encoder_load(const char *path, xf_config *cfg)
{
    xf_tensorset *ts = xf_model_load(path, cfg);
    xf_encoder *e = from_tset(cfg, ts, path, 1);
    xf_tset_free(ts);
    return e;
}

static void add_copy(xf_tensorset *ts, const char *name, const float *src, int ndim,
                     int64_t r, int64_t c)
{
    xf_tensor t;
    memset(&t, 0, sizeof t);
    t.name = xstrdup(name);
    t.dtype = XF_F32;
    t.ndim = ndim;
    t.shape[0] = r;
    t.shape[1] = c;
    size_t n = (size_t)r * (size_t)(ndim == 2 ? c : 1);
    t.nbytes = n * sizeof(float);
    t.data = xmalloc_aligned(t.nbytes ? t.nbytes : 64);
    memcpy(t.data, src, t.nbytes);
    xf_tset_add(ts, &t);
}

void xf_encoder_export(const xf_encoder *e, const float *arena, xf_tensorset *ts,
                       const char *prefix)
{
    int np;
    const xf_enc_param *tab = xf_encoder_param_table(e, &np);
    char nm[512];
    for (int k = 0; k < np; k++) {
        const xf_enc_param *p = &tab[k];
        if (is_pooler(p->name) && !xf_encoder_has_pooler(e)) continue;
        const float *src = arena + p->off;
        if (strstr(p->name, ".qkv.")) {
            char part[3][128];
            qkv_names(p->name, part);
            size_t n = p->n / 3;
            for (int j = 0; j < 3; j++) {
                snprintf(nm, sizeof nm, "%s%s", prefix, part[j]);
                add_copy(ts, nm, src + j * n, p->ndim, p->shape[0] / 3, p->shape[1]);
            }
            continue;
        }
        snprintf(nm, sizeof nm, "%s%s", prefix, p->name);
        add_copy(ts, nm, src, p->ndim, p->shape[0], p->shape[1]);
    }
}

xf_tensorset *xf_encoder_to_tset(const xf_encoder *e)
{
    xf_tensorset *ts = xf_tset_new();
    xf_encoder_export(e, xf_encoder_params((xf_encoder *)e), ts, "");
    return ts;
}
