/* fusion_io.c — fusion streams and AdapterHub fusion folders (fusion_io.h). */
#define _GNU_SOURCE
#include "fusion_io.h"
#include "safetensors.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HUB_VERSION "adapters.1.0.0"

static const char *prefix_of(const char *model_type)
{
    return strcmp(model_type, "bert") ? "roberta." : "bert.";
}

/* DynamicAdapterFusionConfig of adapter-transformers 3.1 */
static json_t *dynamic_config(void)
{
    return json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "key", 1, "query", 1,
                     "value", 1, "query_before_ln", 0, "regularization", 1, "residual_before", 0,
                     "temperature", 0, "value_before_softmax", 1, "value_initialized", 1);
}

/* Refuses fusion configs other than "dynamic" (what xf computes). */
static void check_dynamic(json_t *c, const char *src)
{
    if (json_is_string(c) && !strcmp(json_string_value(c), "dynamic")) return;
    if (!json_is_object(c)) die("%s: fusion config is not an object", src);
    json_t *want = dynamic_config();
    const char *k;
    json_t *v;
    json_object_foreach(want, k, v) {
        json_t *g = json_object_get(c, k);
        if (g && json_is_boolean(g) && json_is_true(g) != json_is_true(v))
            die("%s: fusion config %s = %s: only the \"dynamic\" fusion is supported", src, k,
                json_is_true(g) ? "true" : "false");
    }
    json_decref(want);
}

static int adapter_hidden(const xf_tensorset *ts, const char *name, int *L, int *red,
                          const char *src)
{
    char key[256];
    int C = 0;
    for (*L = 0;; (*L)++) {
        snprintf(key, sizeof key, "bert.encoder.layer.%d.output.adapters.%s.adapter_down.0.weight", *L, name);
        xf_tensor *t = xf_tset_get(ts, key);
        if (!t) break;
        if (t->ndim != 2 || t->shape[0] <= 0 || t->shape[1] % t->shape[0])
            die("%s: tensor %s: not a bottleneck", src, key);
        if (!*L) { C = (int)t->shape[1]; *red = (int)(t->shape[1] / t->shape[0]); }
        else if (t->shape[1] != C) die("%s: tensor %s: hidden size differs across layers", src, key);
    }
    if (!*L) die("%s: no adapter tensors of %s", src, name);
    return C;
}

/* The base model as an adapter file tells it. */
static void file_model(const xf_adapter_file *af, char *type, size_t nt, char *mname, size_t nm,
                       json_t **config)
{
    json_t *h = af->head, *cfg = json_object_get(h, "config");
    const char *t = json_string_value(json_object_get(cfg, "model_type"));
    if (!t) t = json_string_value(json_object_get(json_object_get(h, "adapter"), "model_type"));
    if (!t) t = json_string_value(json_object_get(h, "model_type"));
    snprintf(type, nt, "%s", t ? t : "bert");
    const char *n = json_string_value(json_object_get(cfg, "_name_or_path"));
    if (!n) n = json_string_value(json_object_get(h, "model_name"));
    snprintf(mname, nm, "%s", n ? n : "");
    *config = json_is_object(cfg) ? cfg : NULL;
}

static void add_fusion_params(xf_fusion_file *f, uint64_t seed)
{
    const char *prefix = prefix_of(f->model_type);
    for (int l = 0; l < f->L; l++) {
        xf_bottleneck fake[XF_FUSION_MAX], *ad[XF_FUSION_MAX];
        for (int i = 0; i < f->n; i++) {   /* the fusion needs only names and sizes */
            memset(&fake[i], 0, sizeof fake[i]);
            snprintf(fake[i].name, sizeof fake[i].name, "%s", f->lang[i]);
            fake[i].C = f->C;
            fake[i].D = f->C / f->reduction[i];
            ad[i] = &fake[i];
        }
        xf_fusion fu;
        xf_fusion_init(&fu, ad, f->n, l, f->C, 0);
        xf_fusion_init_weights(&fu, seed);
        xf_adapter_tensor at[5];
        int nt = xf_fusion_tensors(&fu, at);
        for (int i = 0; i < nt; i++) {
            xf_tensor t = {0};
            if (asprintf(&t.name, "%s%s", prefix, at[i].name) < 0) die("out of memory");
            t.dtype = XF_F32;
            t.ndim = at[i].ndim;
            t.shape[0] = at[i].shape[0];
            t.shape[1] = at[i].shape[1];
            t.nbytes = xf_tensor_numel(&t) * sizeof(float);
            t.data = xmalloc_aligned(t.nbytes);
            memcpy(t.data, at[i].data, t.nbytes);
            xf_tset_add(f->ts, &t);
        }
        xf_fusion_free(&fu);
    }
}

static json_t *fusion_head(const xf_fusion_file *f, char *const *sources)
{
    char name[XF_FUSION_NAME_MAX];
    json_t *langs = json_array(), *reds = json_array(), *src = json_array();
    size_t len = 0;
    name[0] = 0;
    for (int i = 0; i < f->n; i++) {
        len += (size_t)snprintf(name + len, sizeof name - len, "%s%s", i ? "," : "", f->lang[i]);
        json_array_append_new(langs, json_string(f->lang[i]));
        json_array_append_new(reds, json_integer(f->reduction[i]));
        if (sources) json_array_append_new(src, json_string(sources[i]));
    }
    return json_pack("{s:s, s:o, s:s, s:o, s:s, s:i, s:i, s:o, s:o, s:b}", "name", name,
                     "languages", langs, "type", "dynamic", "config", dynamic_config(),
                     "model_type", f->model_type, "hidden_size", f->C, "layers", f->L,
                     "reductions", reds, "sources", src, "trained", 0);
}

xf_fusion_file *xf_fusion_build(char *const *paths, int n, uint64_t seed)
{
    if (n < 1 || n > XF_FUSION_MAX) die("fusion: %d adapters (1 to %d)", n, XF_FUSION_MAX);
    xf_fusion_file *f = xcalloc(1, sizeof *f);
    f->ts = xf_tset_new();
    f->n = n;
    for (int i = 0; i < n; i++) {
        xf_adapter_file *af = xf_adapter_file_load(paths[i], "bert.");
        if (af->task != XF_TASK_MLM || !af->reduction)
            die("%s: not a language adapter (task %s)", paths[i], xf_task_name(af->task));
        char type[32], mname[256];
        json_t *cfg;
        file_model(af, type, sizeof type, mname, sizeof mname, &cfg);
        int L, red = 1, C = adapter_hidden(af->ts, af->name, &L, &red, paths[i]);
        json_t *vocab = json_object_get(cfg, "vocab_size");
        json_t *vocab0 = json_object_get(f->config, "vocab_size");
        if (!i) {
            snprintf(f->model_type, sizeof f->model_type, "%s", type);
            snprintf(f->model_name, sizeof f->model_name, "%s", mname);
            f->C = C;
            f->L = L;
        } else if (strcmp(type, f->model_type)) {
            die("%s: adapter of a %s model, %s is of a %s model", paths[i], type, paths[0], f->model_type);
        } else if (C != f->C || L != f->L) {
            die("%s: adapter for hidden size %d and %d layers, %s for %d and %d", paths[i], C, L,
                paths[0], f->C, f->L);
        } else if (*mname && *f->model_name && strcmp(mname, f->model_name)) {
            die("%s: adapter of model %s, %s of model %s", paths[i], mname, paths[0], f->model_name);
        } else if (json_is_integer(vocab) && json_is_integer(vocab0) &&
                   json_integer_value(vocab) != json_integer_value(vocab0)) {
            die("%s: adapter of a model with vocabulary %lld, %s of one with %lld", paths[i],
                (long long)json_integer_value(vocab), paths[0], (long long)json_integer_value(vocab0));
        }
        if (!*f->model_name && *mname) snprintf(f->model_name, sizeof f->model_name, "%s", mname);
        if (!f->config && cfg) f->config = json_incref(cfg);
        for (int k = 0; k < i; k++)
            if (!strcmp(f->lang[k], af->name))
                die("%s: language adapter %s is already fused (from %s)", paths[i], af->name, paths[k]);
        snprintf(f->lang[i], sizeof f->lang[i], "%s", af->name);
        f->reduction[i] = red;
        xf_adapter_reprefix(af->ts, prefix_of(f->model_type));
        for (size_t k = 0; k < af->ts->n; k++) {
            const char *tn = af->ts->t[k].name;
            if (!strncmp(tn, "cls.", 4) || !strncmp(tn, "lm_head.", 8) || !strncmp(tn, "heads.", 6))
                continue;   /* the MLM head stays behind */
            xf_tset_add(f->ts, &af->ts->t[k]);
        }
        f->src_head[i] = json_incref(af->head);
        xf_adapter_file_free(af);
    }
    add_fusion_params(f, seed);
    f->head = fusion_head(f, paths);
    return f;
}

void xf_fusion_file_free(xf_fusion_file *f)
{
    if (!f) return;
    xf_tset_free(f->ts);
    json_decref(f->config);
    json_decref(f->head);
    for (int i = 0; i < XF_FUSION_MAX; i++) json_decref(f->src_head[i]);
    free(f);
}

void xf_fusion_file_write(const xf_fusion_file *f, const char *path, long long seed, json_t *extra)
{
    json_t *head = json_object();
    if (extra) json_object_update(head, extra);
    if (f->config) json_object_set(head, "config", f->config);
    json_object_set(head, "fusion", f->head);
    xf_tset_write_stream(f->ts, path, "fusion", seed, head);
    json_decref(head);
}

/* Fills the fields of F from its "fusion" HEAD object and checks the tensors. */
static void from_head(xf_fusion_file *f, const char *src)
{
    json_t *h = f->head;
    if (!json_is_object(h)) die("%s: HEAD has no \"fusion\" object", src);
    check_dynamic(json_object_get(h, "config"), src);
    json_t *langs = json_object_get(h, "languages");
    const char *type = json_string_value(json_object_get(h, "model_type"));
    if (!json_is_array(langs) || !type) die("%s: \"fusion\" lacks languages / model_type", src);
    f->n = (int)json_array_size(langs);
    if (f->n < 1 || f->n > XF_FUSION_MAX) die("%s: %d fused languages (1 to %d)", src, f->n, XF_FUSION_MAX);
    snprintf(f->model_type, sizeof f->model_type, "%s", type);
    for (int i = 0; i < f->n; i++) {
        const char *s = json_string_value(json_array_get(langs, i));
        if (!s || !*s || strlen(s) >= XF_ADAPTER_NAME_MAX || strchr(s, ','))
            die("%s: bad language name in \"fusion\"", src);
        snprintf(f->lang[i], sizeof f->lang[i], "%s", s);
    }
}

static void path_join(char *buf, size_t n, const char *dir, const char *file)
{
    if ((size_t)snprintf(buf, n, "%s/%s", dir, file) >= n) die("%s: path too long", dir);
}

static xf_fusion_file *load_hub_fusion(const char *dir)
{
    xf_fusion_file *f = xcalloc(1, sizeof *f);
    char p[4200];
    json_error_t je;
    path_join(p, sizeof p, dir, "adapter_fusion_config.json");
    json_t *c = json_load_file(p, 0, &je);
    if (!c) die("%s:%d: %s", p, je.line, je.text);
    check_dynamic(json_object_get(c, "config"), p);
    const char *name = json_string_value(json_object_get(c, "name"));
    json_t *names = json_object_get(c, "adapter_names");
    if (!json_is_array(names) && name) {   /* the library's files name only the fusion: "a,b,c" */
        names = json_array();
        char *tmp = xstrdup(name), *save = NULL;
        for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save))
            json_array_append_new(names, json_string(t));
        free(tmp);
    } else {
        json_incref(names);
    }
    if (!json_is_array(names)) die("%s: no fusion name", p);
    const char *type = json_string_value(json_object_get(c, "model_type"));
    f->head = json_pack("{s:O, s:s, s:O}", "languages", names, "model_type", type ? type : "bert",
                        "config", json_object_get(c, "config"));
    json_decref(names);
    json_decref(c);
    from_head(f, dir);
    f->ts = xf_tset_new();
    path_join(p, sizeof p, dir, "model_adapter_fusion.safetensors");
    if (access(p, F_OK) != 0) die("%s: no model_adapter_fusion.safetensors", dir);
    xf_safetensors_read_into(p, f->ts, NULL);
    xf_tset_check_finite(f->ts, 0, p);
    for (int i = 0; i < f->n; i++) {   /* the fused adapters, in sub-folders */
        char sub[4200];
        path_join(sub, sizeof sub, dir, f->lang[i]);
        xf_adapter_file *af = xf_adapter_file_load(sub, "bert.");
        if (af->task != XF_TASK_MLM || !af->reduction) die("%s: not a language adapter", sub);
        for (size_t k = 0; k < af->ts->n; k++)
            if (strncmp(af->ts->t[k].name, "cls.", 4) && strncmp(af->ts->t[k].name, "lm_head.", 8))
                xf_tset_add(f->ts, &af->ts->t[k]);
        xf_adapter_file_free(af);
    }
    return f;
}

xf_fusion_file *xf_fusion_file_load(const char *path, const char *prefix)
{
    struct stat st;
    xf_fusion_file *f;
    if (strcmp(path, "-") && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        f = load_hub_fusion(path);
    } else {
        f = xcalloc(1, sizeof *f);
        f->ts = xf_tset_read_stream(path);
        xf_tset_check_finite(f->ts, 0, strcmp(path, "-") ? path : "<stdin>");
        const char *kind = json_string_value(json_object_get(f->ts->head, "kind"));
        if (!kind || strcmp(kind, "fusion")) die("%s: not a fusion stream (kind %s)", path, kind ? kind : "?");
        f->head = json_incref(json_object_get(f->ts->head, "fusion"));
        json_t *cfg = json_object_get(f->ts->head, "config");
        if (json_is_object(cfg)) f->config = json_incref(cfg);
        from_head(f, path);
    }
    xf_adapter_reprefix(f->ts, prefix);
    /* sizes from the tensors */
    for (int i = 0; i < f->n; i++) {
        char key[256];
        snprintf(key, sizeof key, "%sencoder.layer.0.output.adapters.%s.adapter_down.0.weight", prefix, f->lang[i]);
        xf_tensor *t = xf_tset_get(f->ts, key);
        if (!t || t->ndim != 2 || t->shape[0] <= 0 || t->shape[1] % t->shape[0])
            die("%s: language adapter %s: tensor %s missing or malformed", path, f->lang[i], key);
        if (i && t->shape[1] != f->C) die("%s: language adapter %s: hidden size differs", path, f->lang[i]);
        f->C = (int)t->shape[1];
        f->reduction[i] = (int)(t->shape[1] / t->shape[0]);
    }
    return f;
}

void xf_tm_load_fusion(xf_taskmodel *m, const xf_fusion_file *f, const char *src, int trainable)
{
    if (f->C != m->C) die("%s: fusion for hidden size %d, model has %d", src, f->C, m->C);
    if (strcmp(prefix_of(f->model_type), m->prefix))
        die("%s: fusion of %s adapters, the model is not", src, f->model_type);
    for (int i = 0; i < f->n; i++) xf_tm_add_fused_lang(m, f->lang[i], f->ts, src);
    xf_tm_add_fusion(m, f->ts, src, 0, trainable);
}

void xf_fusion_file_update(xf_fusion_file *f, const xf_taskmodel *m)
{
    if (!m->fuse) die("fusion: the model has none");
    for (int l = 0; l < m->L; l++) {
        xf_adapter_tensor at[5];
        int nt = xf_fusion_tensors(&m->fuse[l], at);
        for (int i = 0; i < nt; i++) {
            char key[1200];
            snprintf(key, sizeof key, "%s%s", m->prefix, at[i].name);
            xf_tensor *t = xf_tset_get(f->ts, key);
            if (!t || t->nbytes != sizeof(float) * (size_t)at[i].shape[0] * (size_t)(at[i].ndim == 2 ? at[i].shape[1] : 1))
                die("fusion: tensor %s missing", key);
            memcpy(t->data, at[i].data, t->nbytes);
        }
    }
}

void xf_fusion_label(const xf_fusion_file *f, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < f->n && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? "+" : "", f->lang[i]);
    if (len >= n) die("fusion: language names too long");
}

static void write_json(const char *path, json_t *j)
{
    xf_out *o = xf_out_open(path);
    if (json_dumpf(j, o->fp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) die("%s: write error", path);
    fputc('\n', o->fp);
    xf_out_commit(o);
}

void xf_fusion_hub_write(const xf_fusion_file *f, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0 && !(S_ISDIR(st.st_mode) && xf_dir_is_empty(dir) == 1))
        die("%s: exists and is not an empty folder", dir);
    char tmp[4096], p[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", dir) >= sizeof tmp) die("%s: path too long", dir);
    if (!mkdtemp(tmp)) die_errno("%s: cannot create a temporary folder", tmp);
    mode_t um = umask(0);
    umask(um);
    if (chmod(tmp, 0777 & ~um) != 0) die_errno("%s: chmod", tmp);
    int roberta = strcmp(f->model_type, "bert") != 0;
    const char *name = json_string_value(json_object_get(f->head, "name"));
    json_t *names = json_object_get(f->head, "languages");
    json_t *meta = json_pack("{s:s}", "format", "pt");
    /* the fusion */
    xf_tensorset *fs = xf_tset_new();
    for (size_t i = 0; i < f->ts->n; i++)
        if (strstr(f->ts->t[i].name, ".adapter_fusion_layer.")) {
            xf_tensor t = f->ts->t[i];
            t.name = xstrdup(t.name);
            t.data = xmalloc_aligned(t.nbytes);
            memcpy(t.data, f->ts->t[i].data, t.nbytes);
            xf_tset_add(fs, &t);
        }
    json_t *j = json_pack("{s:o, s:O, s:i, s:s, s:s, s:s, s:s, s:s}", "config", dynamic_config(),
                          "adapter_names", names, "hidden_size", f->C, "model_class",
                          roberta ? "XLMRobertaAdapterModel" : "BertAdapterModel", "model_name",
                          f->model_name, "model_type", f->model_type, "name", name ? name : "",
                          "version", HUB_VERSION);
    path_join(p, sizeof p, tmp, "adapter_fusion_config.json");
    write_json(p, j);
    json_decref(j);
    path_join(p, sizeof p, tmp, "model_adapter_fusion.safetensors");
    xf_safetensors_write(p, fs, meta);
    xf_tset_free(fs);
    /* each language adapter in its sub-folder */
    for (int k = 0; k < f->n; k++) {
        char sub[4200], key[XF_ADAPTER_NAME_MAX + 32], inv[XF_ADAPTER_NAME_MAX + 32];
        path_join(sub, sizeof sub, tmp, f->lang[k]);
        if (mkdir(sub, 0777) != 0) die_errno("%s: mkdir", sub);
        snprintf(key, sizeof key, ".adapters.%s.", f->lang[k]);
        snprintf(inv, sizeof inv, "invertible_adapters.%s.", f->lang[k]);
        xf_tensorset *as = xf_tset_new();
        int has_inv = 0;
        for (size_t i = 0; i < f->ts->n; i++) {
            const char *tn = f->ts->t[i].name;
            int is_inv = strstr(tn, inv) != NULL;
            if (!strstr(tn, key) && !is_inv) continue;
            has_inv |= is_inv;
            xf_tensor t = f->ts->t[i];
            t.name = xstrdup(tn);
            t.data = xmalloc_aligned(t.nbytes);
            memcpy(t.data, f->ts->t[i].data, t.nbytes);
            xf_tset_add(as, &t);
        }
        json_t *ac = json_pack(
            "{s:{s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:s, s:i, s:f, s:f, s:s, s:o, s:o, s:b, s:[]},"
            " s:i, s:s, s:s, s:s, s:s, s:s}",
            "config", "architecture", "bottleneck", "mh_adapter", 0, "output_adapter", 1,
            "original_ln_before", 1, "original_ln_after", 1, "residual_before_ln", 1,
            "adapter_residual_before_ln", 0, "ln_before", 0, "ln_after", 0, "is_parallel", 0,
            "non_linearity", "relu", "reduction_factor", f->reduction[k], "dropout", 0.0,
            "scaling", 1.0, "init_weights", "bert", "inv_adapter",
            has_inv ? json_string("nice") : json_null(), "inv_adapter_reduction_factor",
            has_inv ? json_integer(2) : json_null(), "use_gating", 0, "leave_out",
            "hidden_size", f->C, "model_class", roberta ? "XLMRobertaAdapterModel" : "BertAdapterModel",
            "model_name", f->model_name, "model_type", f->model_type, "name", f->lang[k],
            "version", HUB_VERSION);
        path_join(p, sizeof p, sub, "adapter_config.json");
        write_json(p, ac);
        json_decref(ac);
        path_join(p, sizeof p, sub, "adapter.safetensors");
        xf_safetensors_write(p, as, meta);
        xf_tset_free(as);
    }
    json_decref(meta);
    if (stat(dir, &st) == 0 && rmdir(dir) != 0) die_errno("%s: cannot replace", dir);
    if (rename(tmp, dir) != 0) die_errno("%s: cannot rename %s", dir, tmp);
}
