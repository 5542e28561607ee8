/* provenance.c — stream provenance and eval-row labels.  See provenance.h. */
#include "provenance.h"

#include <stdlib.h>
#include <string.h>

#include "adapter_io.h"
#include "encoder_io.h"
#include "util.h"

void xf_prov_init(xf_prov *p)
{
    memset(p, 0, sizeof *p);
    p->setting = -1;
    p->steps = p->run = -1;
}

void xf_prov_free(xf_prov *p)
{
    free(p->model);
    free(p->transfer);
    free(p->adapters);
    free(p->lang);
    free(p->name);
    if (p->from) json_decref(p->from);
    xf_prov_init(p);
}

/* A field value: non-empty, no white space or control characters; LIST:
 * also no empty '+'-part. */
static int word_ok(const char *s, int list)
{
    if (!*s) return 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c <= ' ' || *c == 0x7f) return 0;
    if (list && (s[0] == '+' || s[strlen(s) - 1] == '+' || strstr(s, "++"))) return 0;
    return 1;
}

static char *get_str(const json_t *o, const char *key, int list, const char *src,
                     const char *where)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return NULL;
    if (!json_is_string(v) || !word_ok(json_string_value(v), list))
        die("%s: %s: key '%s': not a non-empty string without white space%s", src, where,
            key, list ? " ('+'-joined)" : "");
    return xstrdup(json_string_value(v));
}

static long get_int(const json_t *o, const char *key, const char *src, const char *where)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return -1;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (1LL << 62))
        die("%s: %s: key '%s': not an integer in 0..2^62", src, where, key);
    return (long)json_integer_value(v);
}

/* Fills P from the provenance object O (WHERE names it in messages). */
static int read_obj(xf_prov *p, const json_t *o, const char *src, const char *where)
{
    xf_prov_init(p);
    if (!o) return 0;
    if (!json_is_object(o)) die("%s: %s: not a JSON object", src, where);
    p->model = get_str(o, "model", 0, src, where);
    char *s = get_str(o, "setting", 0, src, where);
    if (s) {
        if (!strcmp(s, "base")) p->setting = XF_SET_BASE;
        else if (!strcmp(s, "mlm")) p->setting = XF_SET_MLM;
        else if (!strcmp(s, "lang")) p->setting = XF_SET_LANG;
        else die("%s: %s: key 'setting': '%s' is not base, mlm or lang", src, where, s);
        free(s);
    }
    p->transfer = get_str(o, "transfer", 1, src, where);
    p->steps = get_int(o, "steps", src, where);
    p->run = get_int(o, "run", src, where);
    p->adapters = get_str(o, "adapters", 1, src, where);
    p->lang = get_str(o, "lang", 0, src, where);
    p->name = get_str(o, "name", 0, src, where);
    json_t *from = json_object_get(o, "from");
    if (from && !json_is_null(from)) {
        if (!json_is_object(from)) die("%s: %s: key 'from': not a JSON object", src, where);
        p->from = json_incref(from);
    }
    return 1;
}

int xf_prov_read(xf_prov *p, const json_t *head, const char *src)
{
    return read_obj(p, head ? json_object_get(head, "provenance") : NULL, src, "HEAD provenance");
}

void xf_prov_to_config(xf_config *cfg, const xf_prov *p)
{
    if (!cfg->json) cfg->json = json_object();
    json_object_set_new(cfg->json, XF_PROV_CONFIG_KEY, xf_prov_to_json(p));
}

json_t *xf_prov_to_json(const xf_prov *p)
{
    json_t *o = json_object();
    if (p->model) json_object_set_new(o, "model", json_string(p->model));
    if (p->setting >= 0)
        json_object_set_new(o, "setting", json_string(xf_setting_name((xf_setting)p->setting)));
    if (p->transfer) json_object_set_new(o, "transfer", json_string(p->transfer));
    if (p->steps >= 0) json_object_set_new(o, "steps", json_integer(p->steps));
    if (p->run >= 0) json_object_set_new(o, "run", json_integer(p->run));
    if (p->adapters) json_object_set_new(o, "adapters", json_string(p->adapters));
    if (p->lang) json_object_set_new(o, "lang", json_string(p->lang));
    if (p->name) json_object_set_new(o, "name", json_string(p->name));
    if (p->from) json_object_set(o, "from", p->from);
    return o;
}

void xf_prov_put(json_t *extra, const xf_prov *p)
{
    json_object_set_new(extra, "provenance", xf_prov_to_json(p));
}

/* The last '/'-component of S (trailing '/' ignored), cut at its first '.'
 * (not a leading one), white space as '_'. */
static char *name_of(const char *s)
{
    size_t l = strlen(s);
    while (l > 1 && s[l - 1] == '/') l--;
    size_t b = l;
    while (b > 0 && s[b - 1] != '/') b--;
    char *r = xmalloc(l - b + 1);
    memcpy(r, s + b, l - b);
    r[l - b] = 0;
    char *dot = strchr(r + (r[0] == '.'), '.');
    if (dot) *dot = 0;
    for (unsigned char *c = (unsigned char *)r; *c; c++)
        if (*c <= ' ' || *c == 0x7f) *c = '_';
    if (!*r || !strcmp(r, "/")) {
        free(r);
        return NULL;
    }
    return r;
}

char *xf_prov_model_name(const char *path, const xf_config *cfg, const xf_prov *rec)
{
    static const char *const keys[] = {"_name_or_path", "name_or_path"};
    for (int k = 0; k < 2 && cfg && cfg->json; k++) {
        json_t *v = json_object_get(cfg->json, keys[k]);
        if (json_is_string(v) && *json_string_value(v)) {
            char *r = name_of(json_string_value(v));
            if (r) return r;
        }
    }
    if (rec && rec->model) return xstrdup(rec->model);
    if (path && strcmp(path, "-")) {
        char *r = name_of(path);
        if (r) return r;
    }
    return xstrdup("model");
}

xf_tensorset *xf_prov_model_load(const char *path, xf_config *cfg, xf_prov *p)
{
    xf_tensorset *ts = xf_model_load(path, cfg);
    const char *src = strcmp(path, "-") ? path : "<stdin>";
    if (!xf_prov_read(p, ts->head, src) && cfg->json) {
        /* an HF folder written by xf (xf-mlmstep --hf-out) */
        read_obj(p, json_object_get(cfg->json, XF_PROV_CONFIG_KEY), src,
                 "config.json " XF_PROV_CONFIG_KEY);
    }
    /* the config travels on into new streams and folders: not its old provenance */
    if (cfg->json) json_object_del(cfg->json, XF_PROV_CONFIG_KEY);
    char *name = xf_prov_model_name(path, cfg, p);
    p->model_guessed = !p->model;
    free(p->model);
    p->model = name;
    return ts;
}

xf_encoder *xf_prov_encoder_load(const char *path, xf_config *cfg, xf_prov *p)
{
    xf_tensorset *ts = xf_prov_model_load(path, cfg, p);
    xf_encoder *e = xf_encoder_from_tset_consume(cfg, ts, path);
    xf_tset_free(ts);
    return e;
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *xf_prov_join_langs(const char *const *langs, size_t n)
{
    const char **v = xmalloc(xmul(n + 1, sizeof *v));
    size_t k = 0, len = 1;
    for (size_t i = 0; i < n; i++)
        if (langs[i]) v[k++] = langs[i];
    qsort(v, k, sizeof *v, cmp_strp);
    for (size_t i = 0; i < k; i++) len += strlen(v[i]) + 1;
    char *r = xmalloc(len), *w = r;
    *w = 0;
    for (size_t i = 0; i < k; i++) {
        if (i && !strcmp(v[i], v[i - 1])) continue;
        if (w != r) *w++ = '+';
        size_t l = strlen(v[i]);
        memcpy(w, v[i], l + 1);
        w += l;
    }
    free(v);
    return r;
}

void xf_prov_mlm(xf_prov *out, const xf_prov *base, const char *langs, long steps, long seed,
                 int resumed)
{
    xf_prov_init(out);
    out->model = base && base->model ? xstrdup(base->model) : NULL;
    if (resumed && base && base->setting == XF_SET_BASE) {
        out->setting = XF_SET_BASE;
        return;
    }
    out->setting = XF_SET_MLM;
    out->transfer = xstrdup(langs);
    out->steps = steps;
    out->run = seed;
    if (resumed) {
        if (base && base->from) out->from = json_incref(base->from);
    } else if (base && (base->setting == XF_SET_MLM || base->setting == XF_SET_LANG || base->from)) {
        out->from = xf_prov_to_json(base);
    }
}

void xf_prov_new_base(xf_prov *out)
{
    xf_prov_init(out);
    out->setting = XF_SET_BASE;
}

void xf_prov_lang_adapter(xf_prov *out, const xf_prov *base, const char *lang, const char *name)
{
    xf_prov_init(out);
    out->model = base && base->model ? xstrdup(base->model) : NULL;
    out->setting = XF_SET_LANG;
    out->adapters = xstrdup(lang);
    out->lang = xstrdup(lang);
    out->name = xstrdup(name ? name : lang);
}

/* What language-side stream P stands for in the adapters column. */
static const char *stands_for(const xf_prov *p, const char *name)
{
    if (p && p->adapters) return p->adapters;
    if (p && p->lang) return p->lang;
    return name;
}

static char *join_plus(const xf_prov *const *ad, const char *const *names, int n)
{
    size_t len = 1;
    for (int k = 0; k < n; k++) {
        const char *s = stands_for(ad ? ad[k] : NULL, names ? names[k] : NULL);
        if (!s) die("language adapter %d records no language and has no name", k + 1);
        len += strlen(s) + 1;
    }
    char *r = xmalloc(len);
    r[0] = 0;
    for (int k = 0; k < n; k++) {
        if (k) strcat(r, "+");
        strcat(r, stands_for(ad ? ad[k] : NULL, names ? names[k] : NULL));
    }
    return r;
}

void xf_prov_fusion(xf_prov *out, const xf_prov *base, const xf_prov *const *ad,
                    const char *const *names, int n)
{
    xf_prov_init(out);
    out->model = base && base->model ? xstrdup(base->model) : NULL;
    out->setting = XF_SET_LANG;
    out->adapters = join_plus(ad, names, n);
}

void xf_prov_put_fusion(json_t *extra, const xf_prov *base,
                        const struct xf_adapter_file *const *files, int n)
{
    xf_prov *p = xcalloc((size_t)n + 1, sizeof *p);
    const xf_prov **pp = xcalloc((size_t)n + 1, sizeof *pp);
    const char **names = xcalloc((size_t)n + 1, sizeof *names);
    for (int k = 0; k < n; k++) {
        xf_prov_read(&p[k], files[k]->head, files[k]->name);
        pp[k] = &p[k];
        names[k] = files[k]->name;
    }
    xf_prov out;
    xf_prov_fusion(&out, base, pp, names, n);
    xf_prov_put(extra, &out);
    xf_prov_free(&out);
    for (int k = 0; k < n; k++) xf_prov_free(&p[k]);
    free(p);
    free(pp);
    free(names);
}

void xf_prov_labels(xf_labels *out, const xf_label_flags *f, const xf_prov *m,
                    const xf_prov *const *ad, const char *const *names, int n)
{
    memset(out, 0, sizeof *out);
    /* model */
    if (f->model) {
        if (m->model && !m->model_guessed && strcmp(f->model, m->model))
            warning("--model-name %s contradicts the model's provenance (model %s); using %s",
                    f->model, m->model, f->model);
        out->model = xstrdup(f->model);
    } else {
        out->model = xstrdup(m->model ? m->model : "model");
    }
    /* setting */
    xf_setting rec = m->setting >= 0 ? (xf_setting)m->setting : XF_SET_BASE;
    xf_setting s = n ? XF_SET_LANG : rec;
    if (f->setting >= 0) {
        if (m->setting >= 0 && f->setting != m->setting)
            warning("--setting %s contradicts the model's provenance (setting %s); using %s",
                    xf_setting_name((xf_setting)f->setting), xf_setting_name(rec),
                    xf_setting_name((xf_setting)f->setting));
        s = (xf_setting)f->setting;
    } else if (n && rec == XF_SET_MLM) {
        warning("the model is finetuned (setting mlm, transfer %s), but language adapters make "
                "the rows setting lang, which has no transfer columns",
                m->transfer ? m->transfer : "?");
    }
    if (s == XF_SET_LANG && !n) die_usage("--setting lang needs --lang-adapter");
    if (s != XF_SET_LANG && n) die_usage("--lang-adapter implies --setting lang");
    out->setting = s;
    if (s == XF_SET_MLM) {
        const xf_prov *pm = m->setting == XF_SET_MLM ? m : NULL;
        const char *tr = f->transfer ? f->transfer : pm ? pm->transfer : NULL;
        if (!tr) die_usage("--setting mlm needs --transfer (the model records no transfer language)");
        if (f->transfer && pm && pm->transfer && strcmp(f->transfer, pm->transfer))
            warning("--transfer %s contradicts the model's provenance (transfer %s); using %s",
                    f->transfer, pm->transfer, f->transfer);
        if (f->steps >= 0 && pm && pm->steps >= 0 && f->steps != pm->steps)
            warning("--steps %ld contradicts the model's provenance (steps %ld); using %ld",
                    f->steps, pm->steps, f->steps);
        if (f->run >= 0 && pm && pm->run >= 0 && f->run != pm->run)
            warning("--run %ld contradicts the model's provenance (run %ld); using %ld", f->run,
                    pm->run, f->run);
        out->transfer = xstrdup(tr);
        out->steps = f->steps >= 0 ? f->steps : pm && pm->steps >= 0 ? pm->steps : 0;
        out->run = f->run >= 0 ? f->run : pm && pm->run >= 0 ? pm->run : 0;
    } else {
        if (f->transfer || f->steps > 0 || f->run > 0)
            die_usage("--transfer, --steps and --run belong to --setting mlm");
        out->transfer = xstrdup("-");
    }
    out->adapters = s == XF_SET_LANG ? join_plus(ad, names, n) : xstrdup("-");
}

void xf_labels_free(xf_labels *l)
{
    free(l->model);
    free(l->transfer);
    free(l->adapters);
    memset(l, 0, sizeof *l);
}
