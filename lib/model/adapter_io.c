/* adapter_io.c — adapters + heads as tensor streams and AdapterHub folders
 * (adapter_io.h). */
#include "adapter_io.h"
#include "safetensors.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HUB_VERSION "adapters.1.0.0"

static const char *head_type(xf_task t)
{
    switch (t) {
    case XF_TASK_POS: case XF_TASK_NER: return "tagging";
    case XF_TASK_NLI: return "classification";
    case XF_TASK_QA: return "question_answering";
    case XF_TASK_DEP: return "dependency_parsing";
    default: return NULL;
    }
}

static json_t *label_array(xf_task t)
{
    json_t *a = json_array();
    int n = t == XF_TASK_QA || t == XF_TASK_MLM ? 0 : xf_label_count(t);
    for (int i = 0; i < n; i++) json_array_append_new(a, json_string(xf_label_name(t, i)));
    return a;
}

/* Does the JSON array A list TASK's labels in id order? */
static int labels_match(json_t *a, xf_task t)
{
    if (!json_is_array(a) || (int)json_array_size(a) != xf_label_count(t)) return 0;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s || xf_label_id(t, s) != (int)i) return 0;
    }
    return 1;
}

static const char *model_type_of(const char *prefix)
{
    return strcmp(prefix, "roberta.") ? "bert" : "xlm-roberta";
}

/* The MLM head of a language adapter: its HF names (BertForMaskedLM,
 * XLMRobertaForMaskedLM) and the module index in the adapters library's
 * masked_lm head (BertStyleMaskedLMHead: 0 dense, 1 activation, 2 LayerNorm,
 * 3 decoder; its static-head map puts the HF decoder bias on 3.bias). */
static const struct { const char *bert, *roberta, *hub; } MLM_HEAD_NAMES[] = {
    { "cls.predictions.transform.dense.weight", "lm_head.dense.weight", "0.weight" },
    { "cls.predictions.transform.dense.bias", "lm_head.dense.bias", "0.bias" },
    { "cls.predictions.transform.LayerNorm.weight", "lm_head.layer_norm.weight", "2.weight" },
    { "cls.predictions.transform.LayerNorm.bias", "lm_head.layer_norm.bias", "2.bias" },
    { "cls.predictions.bias", "lm_head.bias", "3.bias" },
    { "cls.predictions.decoder.weight", "lm_head.decoder.weight", "3.weight" },
};
#define N_MLM_HEAD_NAMES (sizeof MLM_HEAD_NAMES / sizeof *MLM_HEAD_NAMES)

static int is_mlm_head_name(const char *name)
{
    return !strncmp(name, "cls.", 4) || !strncmp(name, "lm_head.", 8);
}

/* "heads.NAME.0.weight" for the HF name of an MLM head tensor; dies for a
 * name the masked_lm head has no place for. */
static void mlm_head_hub_name(char *buf, size_t n, const char *hf, const char *name)
{
    for (size_t i = 0; i < N_MLM_HEAD_NAMES; i++)
        if (!strcmp(hf, MLM_HEAD_NAMES[i].bert) || !strcmp(hf, MLM_HEAD_NAMES[i].roberta)) {
            if ((size_t)snprintf(buf, n, "heads.%s.%s", name, MLM_HEAD_NAMES[i].hub) >= n)
                die("adapter %s: name too long", name);
            return;
        }
    die("adapter %s: MLM head tensor %s has no AdapterHub masked_lm name", name, hf);
}

/* ---- writing ---- */

static void tset_put_as(xf_tensorset *s, const xf_tm_param *p, const char *name)
{
    xf_tensor t = {0};
    t.name = xstrdup(name);
    t.dtype = XF_F32;
    t.ndim = p->ndim;
    for (int i = 0; i < p->ndim; i++) t.shape[i] = p->shape[i];
    t.nbytes = p->n * sizeof(float);
    t.data = xmalloc_aligned(t.nbytes ? t.nbytes : 4);
    memcpy(t.data, p->data, t.nbytes);
    xf_tset_add(s, &t);
}

static void tset_put(xf_tensorset *s, const xf_tm_param *p) { tset_put_as(s, p, p->name); }

static int is_head_param(const xf_tm_param *p) { return !strncmp(p->name, "heads.", 6); }

xf_tensorset *xf_tm_to_tset(const xf_taskmodel *m)
{
    xf_tensorset *s = xf_tset_new();
    for (int i = 0; i < m->npar; i++) tset_put(s, &m->par[i]);
    return s;
}

static json_t *adapter_info(const xf_taskmodel *m)
{
    return json_pack("{s:s, s:s, s:i, s:s, s:s}", "name", m->name, "task",
                     xf_task_name(m->task), "reduction", m->reduction, "architecture",
                     "pfeiffer", "model_type", model_type_of(m->prefix));
}

void xf_tm_save_stream(const char *path, const xf_taskmodel *m, const xf_config *cfg,
                       long long seed, json_t *extra)
{
    if (!m->npar) die("%s: nothing to save (no parameters listed)", path);
    json_t *head = json_object();
    if (extra) json_object_update(head, extra);
    json_object_set_new(head, "config", xf_config_to_json(cfg));
    json_object_set_new(head, "adapter", adapter_info(m));
    json_object_set_new(head, "labels", label_array(m->task));
    xf_tensorset *s = xf_tm_to_tset(m);
    xf_tset_write_stream(s, path, "adapter", seed, head);
    xf_tset_free(s);
    json_decref(head);
}

/* The SeqBn ("pfeiffer") config of the adapters library with our reduction;
 * with INV the PfeifferInvConfig ("pfeiffer+inv"): a NICE invertible
 * adapter with its reduction factor 2. */
static json_t *pfeiffer_config(int reduction, int inv)
{
    return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:s, s:i, s:f, s:f,"
                     " s:s, s:o, s:o, s:b, s:[]}",
                     "architecture", "bottleneck", "mh_adapter", 0, "output_adapter", 1,
                     "original_ln_before", 1, "original_ln_after", 1, "residual_before_ln", 1,
                     "adapter_residual_before_ln", 0, "ln_before", 0, "ln_after", 0,
                     "is_parallel", 0, "non_linearity", "relu", "reduction_factor", reduction,
                     "dropout", 0.0, "scaling", 1.0, "init_weights", "bert", "inv_adapter",
                     inv ? json_string("nice") : json_null(), "inv_adapter_reduction_factor",
                     inv ? json_integer(2) : json_null(), "use_gating", 0, "leave_out");
}

static json_t *hub_wrapper(const xf_taskmodel *m, const xf_config *cfg, json_t *config)
{
    const char *name_or_path = "";
    json_t *np = cfg->json ? json_object_get(cfg->json, "_name_or_path") : NULL;
    if (json_is_string(np)) name_or_path = json_string_value(np);
    int roberta = !strcmp(m->prefix, "roberta.");
    return json_pack("{s:o, s:i, s:s, s:s, s:s, s:s, s:s}", "config", config, "hidden_size",
                     m->C, "model_class", roberta ? "XLMRobertaAdapterModel" : "BertAdapterModel",
                     "model_name", name_or_path, "model_type", model_type_of(m->prefix), "name",
                     m->name, "version", HUB_VERSION);
}

static json_t *head_config(const xf_taskmodel *m)
{
    json_t *c = json_pack("{s:s, s:i}", "head_type", head_type(m->task), "num_labels",
                          xf_tm_head_labels(m->task));
    switch (m->task) {
    case XF_TASK_POS: case XF_TASK_NER:
        json_object_set_new(c, "layers", json_integer(1));
        json_object_set_new(c, "activation_function", json_string("tanh"));
        break;
    case XF_TASK_NLI:
        json_object_set_new(c, "layers", json_integer(2));
        json_object_set_new(c, "activation_function", json_string("tanh"));
        json_object_set_new(c, "use_pooler", json_false());
        json_object_set_new(c, "bias", json_true());
        break;
    case XF_TASK_QA:
        json_object_set_new(c, "layers", json_integer(1));
        json_object_set_new(c, "activation_function", json_string("tanh"));
        break;
    default: break;
    }
    if (m->task != XF_TASK_QA) {
        json_t *l2i = json_object();
        for (int i = 0; i < xf_label_count(m->task); i++)
            json_object_set_new(l2i, xf_label_name(m->task, i), json_integer(i));
        json_object_set_new(c, "label2id", l2i);
    }
    return c;
}

/* BertStyleMaskedLMHead's config (head_type "masked_lm"): transform dense
 * with the base's activation, LayerNorm, decoder with bias over the vocabulary. */
static json_t *mlm_head_config(const xf_taskmodel *m, const xf_config *cfg)
{
    return json_pack("{s:s, s:i, s:i, s:i, s:s, s:b, s:b, s:b, s:n}", "head_type", "masked_lm",
                     "vocab_size", cfg->vocab_size, "embedding_size", m->C, "layers", 2,
                     "activation_function", cfg->hidden_act[0] ? cfg->hidden_act : "gelu",
                     "layer_norm", 1, "bias", 1, "shift_labels", 0, "label2id");
}

static void write_json(const char *path, json_t *j)
{
    xf_out *o = xf_out_open(path);
    if (json_dumpf(j, o->fp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) die("%s: write error", path);
    fputc('\n', o->fp);
    xf_out_commit(o);
}

static void path_join(char *buf, size_t n, const char *dir, const char *file)
{
    if ((size_t)snprintf(buf, n, "%s/%s", dir, file) >= n) die("%s: path too long", dir);
}

void xf_tm_save_hub(const char *dir, const xf_taskmodel *m, const xf_config *cfg)
{
    /* a hidden temp folder beside DIR, removed on failure (util.h) */
    char *tmp = xf_tmpdir_create(dir), p[4200];
    xf_tensorset *ad = xf_tset_new(), *hd = xf_tset_new();
    int mlm_head = 0;
    for (int i = 0; i < m->npar; i++) {
        /* a language adapter's trained MLM head (HF names "cls."/"lm_head.")
         * becomes the library's masked_lm prediction head of the adapter's
         * name; the tied decoder weight is the base's word embeddings and
         * is not among the parameters */
        if (is_mlm_head_name(m->par[i].name)) {
            char hub_name[256];
            mlm_head_hub_name(hub_name, sizeof hub_name, m->par[i].name, m->name);
            tset_put_as(hd, &m->par[i], hub_name);
            mlm_head = 1;
            continue;
        }
        tset_put(is_head_param(&m->par[i]) ? hd : ad, &m->par[i]);
    }
    json_t *meta = json_pack("{s:s}", "format", "pt");
    if (m->task_ad) {
        path_join(p, sizeof p, tmp, "adapter_config.json");
        json_t *j = hub_wrapper(m, cfg, pfeiffer_config(m->reduction, m->task_inv != NULL));
        write_json(p, j);
        json_decref(j);
        path_join(p, sizeof p, tmp, "adapter.safetensors");
        xf_safetensors_write(p, ad, meta);
    }
    if (head_type(m->task) || mlm_head) {
        path_join(p, sizeof p, tmp, "head_config.json");
        json_t *j = hub_wrapper(m, cfg, mlm_head ? mlm_head_config(m, cfg) : head_config(m));
        write_json(p, j);
        json_decref(j);
        path_join(p, sizeof p, tmp, "model_head.safetensors");
        xf_safetensors_write(p, hd, meta);
    }
    json_decref(meta);
    xf_tset_free(ad);
    xf_tset_free(hd);
    xf_tmpdir_commit(tmp, dir);
}

/* ---- reading ---- */

void xf_adapter_reprefix(xf_tensorset *s, const char *prefix)
{
    for (size_t i = 0; i < s->n; i++) {
        const char *n = s->t[i].name, *rest = NULL;
        if (!strncmp(n, "bert.", 5)) rest = n + 5;
        else if (!strncmp(n, "roberta.", 8)) rest = n + 8;
        if (!rest) continue;
        size_t len = strlen(prefix) + strlen(rest) + 1;
        char *nn = xmalloc(len);
        snprintf(nn, len, "%s%s", prefix, rest);
        xf_tset_rename(s, i, nn);
    }
    for (size_t i = 0; i < s->n; i++)
        if (s->t[i].dtype != XF_F32) xf_tensor_to_f32(&s->t[i]);
}

static int json_flag(json_t *c, const char *k, int dflt)
{
    json_t *v = json_object_get(c, k);
    if (!v || json_is_null(v)) return dflt;
    if (!json_is_boolean(v)) return -1;
    return json_is_true(v);
}

/* Checks that an adapters-library bottleneck config is what xf computes. */
static int check_pfeiffer(json_t *c, const char *src, int *inv_out)
{
    *inv_out = 0;
    if (!json_is_object(c)) die("%s: adapter_config.json: \"config\" is not an object", src);
    struct { const char *k; int want; } flags[] = {
        { "mh_adapter", 0 }, { "output_adapter", 1 }, { "original_ln_before", 1 },
        { "original_ln_after", 1 }, { "residual_before_ln", 1 }, { "ln_before", 0 },
        { "ln_after", 0 }, { "is_parallel", 0 }, { "use_gating", 0 },
        { "adapter_residual_before_ln", 0 } };
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
        if (json_flag(c, flags[i].k, flags[i].want) != flags[i].want)
            die("%s: adapter_config.json: %s must be %s (only Pfeiffer adapters are supported)",
                src, flags[i].k, flags[i].want ? "true" : "false");
    const char *nl = json_string_value(json_object_get(c, "non_linearity"));
    if (nl && strcmp(nl, "relu")) die("%s: adapter_config.json: non_linearity %s (only relu)", src, nl);
    json_t *sc = json_object_get(c, "scaling");
    if (sc && json_is_number(sc) && json_number_value(sc) != 1.0)
        die("%s: adapter_config.json: scaling must be 1.0", src);
    json_t *inv = json_object_get(c, "inv_adapter");
    if (inv && !json_is_null(inv)) {   /* pfeiffer+inv: NICE with reduction 2 */
        const char *iv = json_string_value(inv);
        json_t *ir = json_object_get(c, "inv_adapter_reduction_factor");
        if (!iv || strcmp(iv, "nice") || !json_is_number(ir) || json_number_value(ir) != 2)
            die("%s: adapter_config.json: only the \"nice\" invertible adapter with reduction 2 is supported", src);
        *inv_out = 1;
    }
    json_t *r = json_object_get(c, "reduction_factor");
    if (!json_is_integer(r) && !(json_is_real(r) && json_real_value(r) == (int)json_real_value(r)))
        die("%s: adapter_config.json: reduction_factor must be an integer", src);
    return (int)json_number_value(r);
}

static xf_task task_of_head(json_t *hc, const char *src)
{
    const char *ht = json_string_value(json_object_get(hc, "head_type"));
    if (!ht) die("%s: head_config.json: no head_type", src);
    if (!strcmp(ht, "classification")) return XF_TASK_NLI;
    if (!strcmp(ht, "question_answering")) return XF_TASK_QA;
    if (!strcmp(ht, "dependency_parsing")) return XF_TASK_DEP;
    if (!strcmp(ht, "masked_lm")) return XF_TASK_MLM;
    if (!strcmp(ht, "tagging")) {
        json_t *l2i = json_object_get(hc, "label2id");
        for (xf_task t = XF_TASK_POS; t <= XF_TASK_NER; t += XF_TASK_NER - XF_TASK_POS) {
            if (!json_is_object(l2i) || (int)json_object_size(l2i) != xf_label_count(t)) continue;
            int ok = 1;
            const char *k;
            json_t *v;
            json_object_foreach(l2i, k, v)
                if (xf_label_id(t, k) != json_integer_value(v)) ok = 0;
            if (ok) return t;
        }
        die("%s: head_config.json: tagging head whose label2id is neither UPOS nor the NER tags", src);
    }
    die("%s: head_config.json: head_type %s not supported", src, ht);
}

/* A masked_lm head (a language adapter's MLM head): checks that it is the
 * BERT-style head xf computes, then gives its tensors ("heads.HEAD.0.weight"
 * ...) the HF names of the base's MLM head ("cls.predictions.*" under a
 * "bert." PREFIX, "lm_head.*" otherwise), where xf_tm_add_lang looks. */
static void mlm_head_from_hub(xf_tensorset *ts, size_t first, json_t *hc, const char *head,
                              const char *prefix, const char *src)
{
    json_t *l = json_object_get(hc, "layers");
    if (json_flag(hc, "layer_norm", 1) != 1 || json_flag(hc, "bias", 1) != 1 ||
        json_flag(hc, "shift_labels", 0) != 0 || (l && !(json_is_integer(l) && json_integer_value(l) == 2)))
        die("%s: head_config.json: only the BERT-style masked_lm head (2 layers, layer_norm, bias) is supported", src);
    int roberta = !strcmp(prefix, "roberta.");
    char pre[XF_ADAPTER_NAME_MAX + 16];
    snprintf(pre, sizeof pre, "heads.%s.", head);
    size_t np = strlen(pre);
    for (size_t i = first; i < ts->n; i++) {
        const char *n = ts->t[i].name, *hf = NULL;
        if (!strncmp(n, pre, np))
            for (size_t k = 0; k < N_MLM_HEAD_NAMES; k++)
                if (!strcmp(n + np, MLM_HEAD_NAMES[k].hub))
                    hf = roberta ? MLM_HEAD_NAMES[k].roberta : MLM_HEAD_NAMES[k].bert;
        if (!hf) die("%s: model_head.safetensors: tensor %s is not part of masked_lm head %s", src, n, head);
        xf_tset_rename(ts, i, xstrdup(hf));
    }
}

static xf_adapter_file *load_hub(const char *dir, const char *prefix)
{
    xf_adapter_file *f = xcalloc(1, sizeof *f);
    char p[4200];
    json_error_t je;
    f->ts = xf_tset_new();
    f->task = XF_TASK_MLM;
    const char *name = NULL;
    path_join(p, sizeof p, dir, "adapter_config.json");
    json_t *ac = NULL, *hc = NULL;
    if (access(p, F_OK) == 0) {
        ac = json_load_file(p, 0, &je);
        if (!ac) die("%s:%d: %s", p, je.line, je.text);
        int inv;
        f->reduction = check_pfeiffer(json_object_get(ac, "config"), dir, &inv);
        name = json_string_value(json_object_get(ac, "name"));
        path_join(p, sizeof p, dir, "adapter.safetensors");
        xf_safetensors_read_into(p, f->ts, NULL);
        xf_tset_check_finite(f->ts, 0, p);
        /* the config and the tensors must agree on the invertible adapter */
        char key[XF_ADAPTER_NAME_MAX + 32];
        snprintf(key, sizeof key, "invertible_adapters.%s.", name ? name : "");
        int has_inv = 0;
        for (size_t i = 0; i < f->ts->n; i++)
            if (strstr(f->ts->t[i].name, key)) has_inv = 1;
        if (has_inv != inv)
            die("%s: adapter_config.json: inv_adapter %s, but adapter.safetensors %s invertible-adapter tensors",
                dir, inv ? "\"nice\"" : "null", has_inv ? "has" : "has no");
    }
    path_join(p, sizeof p, dir, "head_config.json");
    if (access(p, F_OK) == 0) {
        hc = json_load_file(p, 0, &je);
        if (!hc) die("%s:%d: %s", p, je.line, je.text);
        json_t *hconf = json_object_get(hc, "config");
        f->task = task_of_head(hconf, dir);
        f->has_head = f->task != XF_TASK_MLM;   /* as a stream: an MLM head is no task head */
        const char *head = json_string_value(json_object_get(hc, "name"));
        if (!name) name = head;
        path_join(p, sizeof p, dir, "model_head.safetensors");
        size_t first = f->ts->n;
        xf_safetensors_read_into(p, f->ts, NULL);
        xf_tset_check_finite(f->ts, first, p);
        if (f->task == XF_TASK_MLM) {
            if (!head || strlen(head) >= XF_ADAPTER_NAME_MAX) die("%s: head_config.json: no usable head name", dir);
            mlm_head_from_hub(f->ts, first, hconf, head, prefix, dir);
        }
    }
    if (!ac && !hc) die("%s: neither adapter_config.json nor head_config.json", dir);
    if (!name || !*name || strlen(name) >= XF_ADAPTER_NAME_MAX) die("%s: no usable adapter name", dir);
    snprintf(f->name, sizeof f->name, "%s", name);
    f->head = json_pack("{s:s, s:s}", "kind", "adapter", "source", dir);
    /* what the folder says about its base model (for checks across adapters) */
    static const char *const keys[] = { "model_type", "hidden_size", "model_name" };
    for (int i = 0; i < 3; i++) {
        json_t *v = json_object_get(ac ? ac : hc, keys[i]);
        if (v) json_object_set(f->head, keys[i], v);
    }
    json_decref(ac);
    json_decref(hc);
    return f;
}

static xf_adapter_file *load_stream(const char *path)
{
    xf_adapter_file *f = xcalloc(1, sizeof *f);
    f->ts = xf_tset_read_stream(path);
    xf_tset_check_finite(f->ts, 0, strcmp(path, "-") ? path : "<stdin>");
    json_t *h = f->ts->head;
    const char *kind = json_string_value(json_object_get(h, "kind"));
    if (!kind || strcmp(kind, "adapter")) die("%s: not an adapter stream (kind %s)", path, kind ? kind : "?");
    json_t *a = json_object_get(h, "adapter");
    const char *name = json_string_value(json_object_get(a, "name"));
    const char *task = json_string_value(json_object_get(a, "task"));
    json_t *red = json_object_get(a, "reduction");
    if (!name || !task || !json_is_integer(red)) die("%s: HEAD \"adapter\" lacks name/task/reduction", path);
    if (strlen(name) >= XF_ADAPTER_NAME_MAX) die("%s: adapter name too long", path);
    snprintf(f->name, sizeof f->name, "%s", name);
    f->task = xf_task_parse(task);
    if (f->task == XF_TASK_INVALID) die("%s: unknown task %s", path, task);
    f->reduction = (int)json_integer_value(red);
    f->has_head = f->task != XF_TASK_MLM;
    if (f->task != XF_TASK_MLM && f->task != XF_TASK_QA &&
        !labels_match(json_object_get(h, "labels"), f->task))
        die("%s: label vocabulary differs from xf's %s labels", path, task);
    f->head = json_incref(h);
    return f;
}

xf_adapter_file *xf_adapter_file_load(const char *path, const char *prefix)
{
    struct stat st;
    int dir = strcmp(path, "-") && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    xf_adapter_file *f = dir ? load_hub(path, prefix) : load_stream(path);
    xf_adapter_reprefix(f->ts, prefix);
    return f;
}

void xf_adapter_file_free(xf_adapter_file *f)
{
    if (!f) return;
    xf_tset_free(f->ts);
    json_decref(f->head);
    free(f);
}

void xf_tm_load_task(xf_taskmodel *m, const xf_adapter_file *f, const char *src)
{
    if (f->task != m->task)
        die("%s: adapter is for task %s, model for %s", src, xf_task_name(f->task),
            xf_task_name(m->task));
    if (!f->has_head) die("%s: adapter has no head", src);
    xf_tm_add_task_adapter(m, f->name, f->reduction);
    xf_tm_list_params(m);
    for (int i = 0; i < m->npar; i++) {
        xf_tm_param *p = &m->par[i];
        xf_tensor *t = xf_tset_get(f->ts, p->name);
        if (!t) die("%s: tensor %s: missing", src, p->name);
        if (xf_tensor_numel(t) != p->n) die("%s: tensor %s: %zu values, expected %zu", src,
                                            p->name, xf_tensor_numel(t), p->n);
        int ndim = t->ndim;
        for (int k = 0; k < ndim && k < p->ndim; k++)
            if (t->shape[k] != p->shape[k] && !(ndim == 2 && p->ndim == 3))
                die("%s: tensor %s: wrong shape", src, p->name);
        memcpy(p->data, t->data, sizeof(float) * p->n);
    }
}
