/* hfmodel.c — see hfmodel.h. */
#define _GNU_SOURCE
#include "hfmodel.h"
#include "safetensors.h"
#include "util.h"
#include "zio.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- config.json ---- */

static int get_int(json_t *j, const char *key, int required, int def, int min, int max, const char *fname)
{
    json_t *v = json_object_get(j, key);
    if (!v || json_is_null(v)) {
        if (required) die("%s: key '%s': missing", fname, key);
        return def;
    }
    if (!json_is_integer(v)) die("%s: key '%s': not an integer", fname, key);
    json_int_t x = json_integer_value(v);
    if (x < min || x > max)
        die("%s: key '%s': %lld is out of range [%d, %d]", fname, key, (long long)x, min, max);
    return (int)x;
}

static double get_real(json_t *j, const char *key, double def, double lo, double hi, const char *fname)
{
    json_t *v = json_object_get(j, key);
    if (!v || json_is_null(v)) return def;
    if (!json_is_number(v)) die("%s: key '%s': not a number", fname, key);
    double x = json_number_value(v);
    if (!isfinite(x) || x < lo || x > hi) die("%s: key '%s': %g is out of range [%g, %g]", fname, key, x, lo, hi);
    return x;
}

static const char *const activations[] = {"gelu", "gelu_new", "gelu_python", "gelu_pytorch_tanh", "relu"};

int xf_config_from_json(xf_config *cfg, json_t *json, const char *fname)
{
    memset(cfg, 0, sizeof *cfg);
    if (!json_is_object(json)) die("%s: config is not a JSON object", fname);
    json_t *mt = json_object_get(json, "model_type");
    if (!mt) die("%s: key 'model_type': missing", fname);
    const char *m = json_string_value(mt);
    if (!m || (strcmp(m, "bert") && strcmp(m, "xlm-roberta") && strcmp(m, "roberta")))
        die("%s: key 'model_type': %s%s%s is not supported (bert, xlm-roberta, roberta)", fname,
            m ? "'" : "", m ? m : "not a string", m ? "'" : "");
    snprintf(cfg->model_type, sizeof cfg->model_type, "%s", m);
    int roberta = strcmp(m, "bert") != 0;
    cfg->vocab_size = get_int(json, "vocab_size", 1, 0, 1, XF_CFG_MAX_VOCAB, fname);
    cfg->hidden_size = get_int(json, "hidden_size", 1, 0, 1, XF_CFG_MAX_HIDDEN, fname);
    cfg->num_hidden_layers = get_int(json, "num_hidden_layers", 1, 0, 1, XF_CFG_MAX_LAYERS, fname);
    cfg->num_attention_heads = get_int(json, "num_attention_heads", 1, 0, 1, XF_CFG_MAX_HIDDEN, fname);
    cfg->intermediate_size = get_int(json, "intermediate_size", 1, 0, 1, XF_CFG_MAX_INTER, fname);
    cfg->max_position_embeddings = get_int(json, "max_position_embeddings", 1, 0, 1, XF_CFG_MAX_POS, fname);
    cfg->type_vocab_size = get_int(json, "type_vocab_size", 0, roberta ? 1 : 2, 1, XF_CFG_MAX_TYPES, fname);
    cfg->pad_token_id = get_int(json, "pad_token_id", 0, roberta ? 1 : 0, 0, XF_CFG_MAX_VOCAB, fname);
    if (cfg->pad_token_id >= cfg->vocab_size)
        die("%s: key 'pad_token_id': %d is not below vocab_size %d", fname, cfg->pad_token_id, cfg->vocab_size);
    if (cfg->hidden_size % cfg->num_attention_heads)
        die("%s: key 'num_attention_heads': %d does not divide hidden_size %d", fname,
            cfg->num_attention_heads, cfg->hidden_size);
    if (roberta && cfg->max_position_embeddings <= cfg->pad_token_id + 1)
        die("%s: key 'max_position_embeddings': %d leaves no positions after pad_token_id %d", fname,
            cfg->max_position_embeddings, cfg->pad_token_id);
    /* the parameter count, in size_t with overflow checks: each size is
     * bounded above, their products are not */
    size_t V = (size_t)cfg->vocab_size, C = (size_t)cfg->hidden_size, F = (size_t)cfg->intermediate_size;
    size_t per_layer, emb, total;
    if (__builtin_mul_overflow(C, 4 * C + 2 * F + 9, &per_layer) ||
        __builtin_mul_overflow(per_layer, (size_t)cfg->num_hidden_layers, &total) ||
        __builtin_mul_overflow(V + (size_t)cfg->max_position_embeddings + (size_t)cfg->type_vocab_size, 2 * C, &emb) ||
        __builtin_add_overflow(total, emb, &total) || total > XF_CFG_MAX_PARAMS)
        die("%s: the sizes describe more than %llu parameters", fname, (unsigned long long)XF_CFG_MAX_PARAMS);
    cfg->layer_norm_eps = get_real(json, "layer_norm_eps", 1e-12, 0, 1, fname);
    if (!(cfg->layer_norm_eps > 0)) die("%s: key 'layer_norm_eps': must be positive", fname);
    cfg->hidden_dropout_prob = get_real(json, "hidden_dropout_prob", 0.1, 0, 0.999999, fname);
    cfg->attention_probs_dropout_prob = get_real(json, "attention_probs_dropout_prob", 0.1, 0, 0.999999, fname);
    cfg->initializer_range = get_real(json, "initializer_range", 0.02, 0, 10, fname);
    json_t *act = json_object_get(json, "hidden_act");
    const char *a = act ? json_string_value(act) : "gelu";
    if (!a) die("%s: key 'hidden_act': not a string", fname);
    size_t i;
    for (i = 0; i < sizeof activations / sizeof activations[0]; i++)
        if (!strcmp(a, activations[i])) break;
    if (i == sizeof activations / sizeof activations[0])
        die("%s: key 'hidden_act': '%s' is not supported (gelu, gelu_new, gelu_python, gelu_pytorch_tanh, relu)",
            fname, a);
    snprintf(cfg->hidden_act, sizeof cfg->hidden_act, "%s", a);
    cfg->json = json_incref(json);
    return 0;
}

void xf_config_read(xf_config *cfg, const char *path)
{
    size_t len;
    char *text = xf_read_file(path, &len);
    json_error_t err;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    free(text);
    if (!j) die("%s:%d: bad JSON: %s", path, err.line, err.text);
    xf_config_from_json(cfg, j, path);
    json_decref(j);
}

json_t *xf_config_to_json(const xf_config *cfg)
{
    json_t *j;
    if (cfg->json) {
        j = json_deep_copy(cfg->json);
    } else {
        j = json_object();
        const char *arch = !strcmp(cfg->model_type, "bert")          ? "BertForMaskedLM"
                           : !strcmp(cfg->model_type, "xlm-roberta") ? "XLMRobertaForMaskedLM"
                                                                     : "RobertaForMaskedLM";
        json_object_set_new(j, "architectures", json_pack("[s]", arch));
    }
    json_object_set_new(j, "model_type", json_string(cfg->model_type));
    json_object_set_new(j, "vocab_size", json_integer(cfg->vocab_size));
    json_object_set_new(j, "hidden_size", json_integer(cfg->hidden_size));
    json_object_set_new(j, "num_hidden_layers", json_integer(cfg->num_hidden_layers));
    json_object_set_new(j, "num_attention_heads", json_integer(cfg->num_attention_heads));
    json_object_set_new(j, "intermediate_size", json_integer(cfg->intermediate_size));
    json_object_set_new(j, "max_position_embeddings", json_integer(cfg->max_position_embeddings));
    json_object_set_new(j, "type_vocab_size", json_integer(cfg->type_vocab_size));
    json_object_set_new(j, "pad_token_id", json_integer(cfg->pad_token_id));
    json_object_set_new(j, "layer_norm_eps", json_real(cfg->layer_norm_eps));
    json_object_set_new(j, "hidden_dropout_prob", json_real(cfg->hidden_dropout_prob));
    json_object_set_new(j, "attention_probs_dropout_prob", json_real(cfg->attention_probs_dropout_prob));
    json_object_set_new(j, "initializer_range", json_real(cfg->initializer_range));
    json_object_set_new(j, "hidden_act", json_string(cfg->hidden_act));
    return j;
}

void xf_config_free(xf_config *cfg)
{
    if (!cfg) return;
    json_decref(cfg->json);
    cfg->json = NULL;
}

/* ---- names ---- */

static int is_bert(const xf_config *cfg) { return !strcmp(cfg->model_type, "bert"); }

const char *xf_model_prefix(const xf_config *cfg) { return is_bert(cfg) ? "bert." : "roberta."; }

const char *xf_model_decoder_name(const xf_config *cfg)
{
    return is_bert(cfg) ? "cls.predictions.decoder.weight" : "lm_head.decoder.weight";
}

int xf_model_decoder_tied(const xf_tensorset *s, const xf_config *cfg)
{
    return xf_tset_get(s, xf_model_decoder_name(cfg)) == NULL;   /* see xf_model_canonicalize */
}

static int starts_with(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

static int ends_with(const char *s, const char *p)
{
    size_t n = strlen(s), m = strlen(p);
    return n >= m && !strcmp(s + n - m, p);
}

/* The canonical spelling of NAME (malloc'd). */
static char *canonical_name(const char *name, const xf_config *cfg)
{
    char *n;
    /* TF-era LayerNorm parameters (HF renames gamma/beta the same way) */
    if (ends_with(name, ".gamma") || ends_with(name, ".beta")) {
        size_t stem = strlen(name) - (ends_with(name, ".gamma") ? 5 : 4);
        if (asprintf(&n, "%.*s%s", (int)stem, name, ends_with(name, ".gamma") ? "weight" : "bias") < 0)
            die("out of memory");
    } else {
        n = xstrdup(name);
    }
    /* a base model (BertModel / XLMRobertaModel) saved without its prefix */
    if (starts_with(n, "embeddings.") || starts_with(n, "encoder.") || starts_with(n, "pooler.")) {
        char *p;
        if (asprintf(&p, "%s%s", xf_model_prefix(cfg), n) < 0) die("out of memory");
        free(n);
        n = p;
    }
    return n;
}

static ssize_t tset_index(const xf_tensorset *s, const char *name)
{
    xf_tensor *t = xf_tset_get(s, name);
    return t ? t - s->t : -1;
}

/* A NaN or infinite weight would flow silently into every score. */
static void check_finite(const xf_tensor *t, const char *fname)
{
    if (t->dtype != XF_F32 || !t->data) return;
    const float *x = t->data;
    size_t n = t->nbytes / sizeof(float), bad = n;
    for (size_t i = 0; i < n && bad == n; i++)
        if (!isfinite(x[i])) bad = i;
    if (bad < n)
        die("%s: tensor %s: element %zu is %s (weights must be finite)", fname, t->name, bad,
            isnan(x[bad]) ? "NaN" : "infinite");
}

void xf_tset_check_finite(xf_tensorset *s, size_t first, const char *fname)
{
    for (size_t i = first; i < s->n; i++) {
        xf_tensor *t = &s->t[i];
        if (t->dtype == XF_F16 || t->dtype == XF_BF16) xf_tensor_to_f32(t);
        check_finite(t, fname);
    }
}

void xf_model_canonicalize(xf_tensorset *s, const xf_config *cfg, const char *fname)
{
    for (size_t i = 0; i < s->n; i++) {
        xf_tensor *t = &s->t[i];
        char *n = canonical_name(t->name, cfg);
        if (strcmp(n, t->name)) {
            if (tset_index(s, n) >= 0) die("%s: tensor %s: maps to %s, which is also present", fname, t->name, n);
            xf_tset_rename(s, i, n);
        } else {
            free(n);
        }
        if (t->dtype == XF_F16 || t->dtype == XF_BF16) xf_tensor_to_f32(t);
        check_finite(t, fname);
    }
    /* HF ties the decoder bias to the head bias; files carry one or both */
    const char *head_bias = is_bert(cfg) ? "cls.predictions.bias" : "lm_head.bias";
    const char *dec_bias = is_bert(cfg) ? "cls.predictions.decoder.bias" : "lm_head.decoder.bias";
    ssize_t di = tset_index(s, dec_bias);
    if (di >= 0) {
        if (tset_index(s, head_bias) >= 0) {
            xf_tset_remove(s, (size_t)di);
        } else {
            xf_tset_rename(s, (size_t)di, xstrdup(head_bias));
        }
    }

    char want[256];
    snprintf(want, sizeof want, "%sembeddings.word_embeddings.weight", xf_model_prefix(cfg));
    xf_tensor *we = xf_tset_get(s, want);
    if (!we) die("%s: tensor %s: missing", fname, want);
    if (we->dtype != XF_F32 || we->ndim != 2 || we->shape[0] != cfg->vocab_size || we->shape[1] != cfg->hidden_size)
        die("%s: tensor %s: %s of %d dims, config says f32 [%d, %d]", fname, want, xf_dtype_name(we->dtype),
            we->ndim, cfg->vocab_size, cfg->hidden_size);
    xf_tensor *dec = xf_tset_get(s, xf_model_decoder_name(cfg));
    if (dec && (dec->ndim != 2 || dec->shape[0] != we->shape[0] || dec->shape[1] != we->shape[1]))
        die("%s: tensor %s: shape differs from the word embeddings", fname, dec->name);
    /* HF (PreTrainedModel.tie_weights) ties the decoder to the word
     * embeddings whenever config.tie_word_embeddings is true, its default,
     * whether or not the checkpoint stores the decoder: a stored copy is
     * then simply overwritten.  So it is dropped here, and only a config
     * that says false keeps the decoder as a parameter of its own. */
    json_t *tie = cfg->json ? json_object_get(cfg->json, "tie_word_embeddings") : NULL;
    if (tie && !json_is_boolean(tie))
        die("%s: key 'tie_word_embeddings': not a boolean", fname);
    if (!dec && json_is_false(tie))
        die("%s: tensor %s: missing, and the config says tie_word_embeddings=false", fname,
            xf_model_decoder_name(cfg));
    if (dec && !json_is_false(tie)) {
        if (dec->dtype != XF_F32 || memcmp(dec->data, we->data, we->nbytes))
            warning("%s: tensor %s: differs from the word embeddings; tied to them as "
                    "tie_word_embeddings is true (as HF does), so it is ignored",
                    fname, dec->name);
        xf_tset_remove(s, (size_t)tset_index(s, dec->name));
    }
}

/* ---- loading ---- */

static int is_file(const char *path)
{
    struct stat st;
    return !stat(path, &st) && S_ISREG(st.st_mode);
}

static char *join(const char *dir, const char *name)
{
    char *p;
    if (asprintf(&p, "%s/%s", dir, name) < 0) die("out of memory");
    return p;
}

static void load_sharded(const char *dir, const char *index_path, xf_tensorset *s)
{
    size_t len;
    char *text = xf_read_file(index_path, &len);
    json_error_t err;
    json_t *idx = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    free(text);
    if (!idx) die("%s:%d: bad JSON: %s", index_path, err.line, err.text);
    json_t *map = json_object_get(idx, "weight_map");
    if (!json_is_object(map) || !json_object_size(map)) die("%s: key 'weight_map': missing or empty", index_path);
    const char *name;
    json_t *v;
    json_t *done = json_object();   /* shard files already read */
    json_object_foreach(map, name, v) {
        const char *shard = json_string_value(v);
        if (!shard) die("%s: tensor %s: weight_map value is not a string", index_path, name);
        if (!*shard || strchr(shard, '/') || shard[0] == '.')
            die("%s: tensor %s: shard name '%s' is not a plain file name", index_path, name, shard);
        if (json_object_get(done, shard)) continue;
        json_object_set_new(done, shard, json_true());
        char *sp = join(dir, shard);
        xf_tensorset *part = xf_safetensors_read(sp, NULL);
        for (size_t i = 0; i < part->n; i++) {
            const char *where = json_string_value(json_object_get(map, part->t[i].name));
            if (!where) die("%s: tensor %s: not listed in %s", sp, part->t[i].name, index_path);
            if (strcmp(where, shard)) die("%s: tensor %s: %s places it in %s", sp, part->t[i].name, index_path, where);
            xf_tset_add(s, &part->t[i]);
        }
        xf_tset_free(part);
        free(sp);
    }
    json_object_foreach(map, name, v)
        if (!xf_tset_get(s, name))
            die("%s: tensor %s: listed in the index but not in %s", index_path, name, json_string_value(v));
    json_decref(done);
    json_decref(idx);
}

static xf_tensorset *load_folder(const char *dir, xf_config *cfg)
{
    char *cp = join(dir, "config.json");
    if (!is_file(cp)) die("%s: no config.json in this model folder", dir);
    xf_config_read(cfg, cp);
    free(cp);
    xf_tensorset *s = xf_tset_new();
    char *single = join(dir, "model.safetensors"), *index = join(dir, "model.safetensors.index.json");
    if (is_file(single)) {
        xf_safetensors_read_into(single, s, NULL);
    } else if (is_file(index)) {
        load_sharded(dir, index, s);
    } else {
        char *bin = join(dir, "pytorch_model.bin");
        if (is_file(bin))
            die("%s: has only pytorch_model.bin; xf reads safetensors (convert it with "
                "safetensors.torch.save_file)", dir);
        die("%s: no model.safetensors or model.safetensors.index.json", dir);
    }
    free(single);
    free(index);
    return s;
}

xf_tensorset *xf_model_load(const char *path, xf_config *cfg)
{
    struct stat st;
    xf_tensorset *s;
    const char *fname = !strcmp(path, "-") ? "<stdin>" : path;
    int is_dash = !strcmp(path, "-"), have = !is_dash && !stat(path, &st);
    if (have && S_ISDIR(st.st_mode)) {
        s = load_folder(path, cfg);
    } else {
        /* only a regular file can be probed: a pipe (<(...)) would lose
         * the bytes looked at */
        if (have && S_ISREG(st.st_mode) && !xf_is_tstream(path)) {
            if (ends_with(path, ".safetensors"))
                die("%s: a bare safetensors file has no config; give its folder", path);
            die("%s: not a model folder or an xf tensor stream", path);
        }
        s = xf_tset_read_stream(path);
        json_t *c = json_object_get(s->head, "config");
        if (!json_is_object(c)) die("%s: HEAD: no \"config\" object (is this a model stream?)", fname);
        char what[PATH_MAX + 16];
        snprintf(what, sizeof what, "%s: config", fname);
        xf_config_from_json(cfg, c, what);
    }
    xf_model_canonicalize(s, cfg, fname);
    return s;
}

/* ---- saving ---- */

void xf_model_save_stream(const char *path, const xf_config *cfg, const xf_tensorset *s,
                          const char *kind, long long seed, json_t *extra)
{
    json_t *e = extra ? json_deep_copy(extra) : json_object();
    json_object_set_new(e, "config", xf_config_to_json(cfg));
    xf_tset_write_stream(s, path, kind, seed, e);
    json_decref(e);
}

/* The names xf_model_save_hf may write into its folder. */
static const char *const hf_files[] = {"config.json", "model.safetensors", "vocab.txt", "tokenizer.json",
                                       "tokenizer_config.json", "special_tokens_map.json"};
#define N_HF_FILES (sizeof hf_files / sizeof hf_files[0])

/* config.json as HF writes it (sorted keys, indent 2).  jansson prints
 * reals with 17 digits (1e-12 becomes 9.9999999999999998e-13); 15 digits
 * give the short form, used whenever every value still reads back equal. */
static char *dump_config(json_t *cj)
{
    char *text = json_dumps(cj, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
    json_t *back = text ? json_loads(text, 0, NULL) : NULL;
    int same = back && json_equal(back, cj);
    json_decref(back);
    if (!same) {
        free(text);
        text = json_dumps(cj, JSON_INDENT(2) | JSON_SORT_KEYS);
    }
    if (!text) die("cannot encode config.json");
    return text;
}

static void copy_file(const char *src, const char *dst)
{
    size_t len;
    char *data = xf_read_file(src, &len);
    FILE *f = fopen(dst, "wb");
    if (!f) die_errno("%s: cannot create", dst);
    if (fwrite(data, 1, len, f) != len || fclose(f)) die_errno("%s: write error", dst);
    free(data);
}

static void copy_tokenizer(const char *src, const char *tmp)
{
    struct stat st;
    if (stat(src, &st)) die_errno("%s: cannot read tokenizer source", src);
    if (S_ISDIR(st.st_mode)) {
        int vocab = 0;
        for (size_t i = 2; i < N_HF_FILES; i++) {
            char *from = join(src, hf_files[i]);
            if (is_file(from)) {
                char *to = join(tmp, hf_files[i]);
                copy_file(from, to);
                free(to);
                vocab |= i < 4;
            }
            free(from);
        }
        if (!vocab) die("%s: no vocab.txt or tokenizer.json", src);
        return;
    }
    /* one file: vocab.txt or tokenizer.json, by name or else by content */
    const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
    const char *as;
    if (!strcmp(base, "vocab.txt") || !strcmp(base, "tokenizer.json")) {
        as = base;
    } else {
        size_t len;
        char *data = xf_read_file(src, &len);
        size_t i = 0;
        while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t' || data[i] == '\r')) i++;
        as = i < len && data[i] == '{' ? "tokenizer.json" : "vocab.txt";
        free(data);
    }
    char *to = join(tmp, as);
    copy_file(src, to);
    free(to);
}

void xf_model_save_hf(const char *dir, const xf_config *cfg, const xf_tensorset *s,
                      const char *tokenizer_source)
{
    /* a temp folder beside DIR, removed on failure (util.h) */
    char *tmp = xf_tmpdir_create(dir);
    char *cpath = join(tmp, "config.json"), *mpath = join(tmp, "model.safetensors");

    json_t *cj = xf_config_to_json(cfg);
    char *text = dump_config(cj);
    json_decref(cj);
    FILE *f = fopen(cpath, "wb");
    if (!f) die_errno("%s: cannot create", cpath);
    if (fputs(text, f) == EOF || fputc('\n', f) == EOF || fclose(f)) die_errno("%s: write error", cpath);
    free(text);

    f = fopen(mpath, "wb");
    if (!f) die_errno("%s: cannot create", mpath);
    json_t *meta = json_pack("{s:s}", "format", "pt");
    xf_safetensors_write_fp(f, mpath, s, meta);
    json_decref(meta);
    if (fflush(f) || ferror(f) || fclose(f)) die_errno("%s: write error", mpath);

    if (tokenizer_source) copy_tokenizer(tokenizer_source, tmp);
    free(cpath);
    free(mpath);
    xf_tmpdir_commit(tmp, dir);
}
