/* taskmodel.c — frozen base + language/task adapters + task head (taskmodel.h). */
#include "taskmodel.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int xf_tm_head_labels(xf_task task)
{
    switch (task) {
    case XF_TASK_POS: case XF_TASK_NER: case XF_TASK_NLI: case XF_TASK_DEP:
        return xf_label_count(task);
    case XF_TASK_QA: return 2;
    default: die("task %s has no head", xf_task_name(task));
    }
}

xf_taskmodel *xf_tm_new(xf_encoder *enc, const char *prefix, xf_task task)
{
    xf_taskmodel *m = xcalloc(1, sizeof *m);
    const xf_enc_dims *d = xf_encoder_dims(enc);
    m->enc = enc;
    m->prefix = prefix;
    m->L = d->layers;
    m->C = d->hidden;
    m->p_drop = d->p_hidden;
    m->task = task;
    xf_encoder_freeze(enc);
    xf_adapter_set_init(&m->set, m->L, m->C);
    m->hook = (xf_ffn_hook){ .ctx = &m->set, .forward = xf_adapters_ffn_forward,
                             .backward = xf_adapters_ffn_backward };
    xf_encoder_set_ffn_hook(enc, &m->hook);
    int H = m->C, K = task == XF_TASK_MLM ? 0 : xf_tm_head_labels(task);
    switch (task) {
    case XF_TASK_POS: case XF_TASK_NER: xf_tag_head_init(&m->tag, H, K); break;
    case XF_TASK_NLI: xf_cls_head_init(&m->cls, H, K); break;
    case XF_TASK_QA: xf_qa_head_init(&m->qa, H); break;
    case XF_TASK_DEP: xf_biaffine_head_init(&m->dep, H, K); break;
    default: break;
    }
    return m;
}

static void free_adapters(xf_bottleneck *b, int L)
{
    if (!b) return;
    for (int l = 0; l < L; l++) xf_bottleneck_free(&b[l]);
    free(b);
}

void xf_tm_free(xf_taskmodel *m)
{
    if (!m) return;
    xf_encoder_free(m->enc);   /* first: it points at our hooks */
    xf_adapter_set_free(&m->set);
    for (int k = 0; k < m->nlang; k++) {
        free_adapters(m->lang[k].layer, m->L);
        if (m->lang[k].inv) { xf_invadapter_free(m->lang[k].inv); free(m->lang[k].inv); }
    }
    if (m->fuse) {
        for (int l = 0; l < m->L; l++) xf_fusion_free(&m->fuse[l]);
        free(m->fuse);
    }
    free_adapters(m->task_ad, m->L);
    if (m->task_inv) { xf_invadapter_free(m->task_inv); free(m->task_inv); }
    switch (m->task) {
    case XF_TASK_POS: case XF_TASK_NER: xf_tag_head_free(&m->tag); break;
    case XF_TASK_NLI: xf_cls_head_free(&m->cls); break;
    case XF_TASK_QA: xf_qa_head_free(&m->qa); break;
    case XF_TASK_DEP: xf_biaffine_head_free(&m->dep); break;
    default: break;
    }
    free(m->adam_m); free(m->adam_v);
    free(m->ids); free(m->types); free(m->am); free(m->dhid);
    free(m->logits); free(m->rows); free(m->gold); free(m->aux); free(m->sent);
    free(m);
}

/* The reduction factor of adapter NAME in TS (from layer 0's down projection). */
static int find_reduction(const xf_taskmodel *m, const char *name, const xf_tensorset *ts,
                          const char *src)
{
    char key[256];
    snprintf(key, sizeof key, "%sencoder.layer.0.output.adapters.%s.adapter_down.0.weight",
             m->prefix, name);
    xf_tensor *t = xf_tset_get(ts, key);
    if (!t) die("%s: tensor %s: missing", src, key);
    if (t->ndim != 2 || t->shape[1] != m->C || t->shape[0] <= 0 || m->C % t->shape[0])
        die("%s: tensor %s: shape does not fit hidden size %d", src, key, m->C);
    return (int)(m->C / t->shape[0]);
}

/* Copies the 4 tensors of every layer of adapter NAME from TS into B. */
static void load_bottlenecks(xf_taskmodel *m, xf_bottleneck *b, const xf_tensorset *ts,
                             const char *src)
{
    for (int l = 0; l < m->L; l++) {
        xf_adapter_tensor at[4];
        xf_bottleneck_tensors(&b[l], at);
        for (int i = 0; i < 4; i++) {
            char key[256];
            if ((size_t)snprintf(key, sizeof key, "%s%s", m->prefix, at[i].name) >= sizeof key)
                die("%s: tensor name too long", src);
            xf_tensor *t = xf_tset_get(ts, key);
            if (!t) die("%s: tensor %s: missing", src, key);
            if (t->dtype != XF_F32) xf_tensor_to_f32(t);
            int64_t n = at[i].shape[0] * (at[i].ndim == 2 ? at[i].shape[1] : 1);
            int ok = t->ndim == at[i].ndim && t->shape[0] == at[i].shape[0] &&
                     (t->ndim == 1 || t->shape[1] == at[i].shape[1]);
            if (!ok) die("%s: tensor %s: wrong shape", src, key);
            memcpy(at[i].data, t->data, sizeof(float) * (size_t)n);
        }
    }
}

/* Entries of the encoder's parameter table that form the MLM head's own
 * tensors (transform dense + LayerNorm, decoder bias, untied decoder
 * weight): the table's tail from the transform weight on. */
static int mlm_head_first(const xf_taskmodel *m, const xf_enc_param **tab, int *n)
{
    *tab = xf_encoder_param_table(m->enc, n);
    size_t off = (size_t)(xf_encoder_weights(m->enc)->head_w - xf_encoder_params(m->enc));
    for (int k = 0; k < *n; k++)
        if ((*tab)[k].off == off) return k;
    die("task model: the encoder's parameter table has no MLM head");
}

/* A language adapter trained by xf-adapt carries its MLM head (HF names,
 * "cls.predictions.*" / "lm_head.*"); put it into the encoder so that masked
 * LM with the adapter uses the head it was trained with.  Absent tensors
 * (AdapterHub folders, older streams) leave the base's head as is. */
static void load_mlm_head(xf_taskmodel *m, const xf_tensorset *ts, const char *src)
{
    const xf_enc_param *tab;
    int n;
    float *params = xf_encoder_params(m->enc);
    for (int k = mlm_head_first(m, &tab, &n); k < n; k++) {
        xf_tensor *t = xf_tset_get(ts, tab[k].name);
        if (!t) continue;
        if (t->dtype != XF_F32) xf_tensor_to_f32(t);
        if (xf_tensor_numel(t) != tab[k].n || t->ndim != tab[k].ndim || t->shape[0] != tab[k].shape[0])
            die("%s: tensor %s: wrong shape", src, tab[k].name);
        memcpy(params + tab[k].off, t->data, sizeof(float) * tab[k].n);
    }
}

static void add_lang(xf_taskmodel *m, const char *name, const xf_tensorset *ts, const char *src,
                     int push)
{
    if (m->task_ad || m->fuse) die("language adapters must be added before the task adapter and the fusion");
    if (m->nlang == XF_TM_MAX_LANG) die("%s: more than %d language adapters", src, XF_TM_MAX_LANG);
    for (int k = 0; k < m->nlang; k++)
        if (!strcmp(m->lang[k].name, name)) die("%s: language adapter %s given twice", src, name);
    int red = find_reduction(m, name, ts, src);
    xf_tm_lang *lg = &m->lang[m->nlang++];
    snprintf(lg->name, sizeof lg->name, "%s", name);
    lg->layer = xcalloc((size_t)m->L, sizeof *lg->layer);
    for (int l = 0; l < m->L; l++) xf_bottleneck_init(&lg->layer[l], name, l, m->C, red, 0);
    load_bottlenecks(m, lg->layer, ts, src);
    if (push)
        for (int l = 0; l < m->L; l++) xf_adapter_layer_push(&m->set.layer[l], &lg->layer[l]);
    if (m->nlang > 1) return;   /* invertible adapter and MLM head: the first adapter's */
    load_mlm_head(m, ts, src);
    char key[256];
    if ((size_t)snprintf(key, sizeof key, "%sinvertible_adapters.%s.F.0.weight", m->prefix, name) >= sizeof key)
        die("%s: adapter name too long", src);
    if (!xf_tset_get(ts, key)) return;
    lg->inv = xcalloc(1, sizeof *lg->inv);
    xf_invadapter_init(lg->inv, name, m->C, 0);
    xf_adapter_tensor at[8];
    int nt = xf_invadapter_tensors(lg->inv, at);
    for (int i = 0; i < nt; i++) {
        if ((size_t)snprintf(key, sizeof key, "%s%s", m->prefix, at[i].name) >= sizeof key)
            die("%s: tensor name too long", src);
        xf_tensor *t = xf_tset_get(ts, key);
        if (!t) die("%s: tensor %s: missing", src, key);
        if (t->dtype != XF_F32) xf_tensor_to_f32(t);
        size_t n = (size_t)at[i].shape[0] * (size_t)(at[i].ndim == 2 ? at[i].shape[1] : 1);
        if (xf_tensor_numel(t) != n || t->ndim != at[i].ndim || t->shape[0] != at[i].shape[0])
            die("%s: tensor %s: wrong shape", src, key);
        memcpy(at[i].data, t->data, sizeof(float) * n);
    }
    lg->emb = (xf_emb_hook){ .ctx = lg->inv, .forward = xf_invadapter_emb_forward,
                             .backward = xf_invadapter_emb_backward };
    xf_encoder_set_emb_hook(m->enc, &lg->emb);
}

void xf_tm_add_lang(xf_taskmodel *m, const char *name, const xf_tensorset *ts, const char *src)
{
    if (m->nlang >= 1) die("%s: a second language adapter needs AdapterFusion (--fusion)", src);
    add_lang(m, name, ts, src, 1);
}

void xf_tm_add_fused_lang(xf_taskmodel *m, const char *name, const xf_tensorset *ts,
                          const char *src)
{
    if (m->nlang && m->set.layer[0].n) die("%s: fused and stacked language adapters mixed", src);
    add_lang(m, name, ts, src, 0);
}

void xf_tm_add_fusion(xf_taskmodel *m, const xf_tensorset *ts, const char *src, uint64_t seed,
                      int trainable)
{
    if (!m->nlang || m->set.layer[0].n) die("%s: a fusion needs language adapters added to fuse", src);
    if (m->fuse || m->task_ad) die("%s: the fusion goes under the task adapter, once", src);
    m->fuse = xcalloc((size_t)m->L, sizeof *m->fuse);
    float p_attn = xf_encoder_dims(m->enc)->p_attn;
    for (int l = 0; l < m->L; l++) {
        xf_bottleneck *ad[XF_FUSION_MAX];
        for (int k = 0; k < m->nlang; k++) ad[k] = &m->lang[k].layer[l];
        xf_fusion *f = &m->fuse[l];
        xf_fusion_init(f, ad, m->nlang, l, m->C, trainable);
        f->p_drop = p_attn;
        if (!ts) {
            xf_fusion_init_weights(f, seed);
        } else {
            xf_adapter_tensor at[5];
            int nt = xf_fusion_tensors(f, at);
            for (int i = 0; i < nt; i++) {
                char key[512];
                if ((size_t)snprintf(key, sizeof key, "%s%s", m->prefix, at[i].name) >= sizeof key)
                    die("%s: tensor name too long", src);
                xf_tensor *t = xf_tset_get(ts, key);
                if (!t) die("%s: tensor %s: missing", src, key);
                if (t->dtype != XF_F32) xf_tensor_to_f32(t);
                size_t n = (size_t)at[i].shape[0] * (size_t)(at[i].ndim == 2 ? at[i].shape[1] : 1);
                if (xf_tensor_numel(t) != n || t->ndim != at[i].ndim || t->shape[0] != at[i].shape[0])
                    die("%s: tensor %s: wrong shape", src, key);
                memcpy(at[i].data, t->data, sizeof(float) * n);
            }
        }
        xf_adapter_layer_push_fusion(&m->set.layer[l], f);
    }
}

double xf_tm_fusion_reg(xf_taskmodel *m)
{
    double r = 0;
    if (m->fuse)
        for (int l = 0; l < m->L; l++) r += xf_fusion_reg(&m->fuse[l]);
    return r;
}

void xf_tm_add_task_adapter(xf_taskmodel *m, const char *name, int reduction)
{
    snprintf(m->name, sizeof m->name, "%s", name);
    m->reduction = reduction;
    if (reduction <= 0) return;
    m->task_ad = xcalloc((size_t)m->L, sizeof *m->task_ad);
    for (int l = 0; l < m->L; l++) {
        xf_bottleneck_init(&m->task_ad[l], name, l, m->C, reduction, 1);
        xf_adapter_layer_push(&m->set.layer[l], &m->task_ad[l]);
    }
}

void xf_tm_add_task_invadapter(xf_taskmodel *m)
{
    if (m->task != XF_TASK_MLM || !m->task_ad)
        die("an invertible adapter is trained only with a language adapter (task mlm)");
    if (m->nlang) die("an invertible language adapter cannot be trained on top of another language adapter");
    if (m->task_inv) return;
    m->task_inv = xcalloc(1, sizeof *m->task_inv);
    xf_invadapter_init(m->task_inv, m->name, m->C, 1);
    m->inv_emb = (xf_emb_hook){ .ctx = m->task_inv, .forward = xf_invadapter_emb_forward,
                                .backward = xf_invadapter_emb_backward };
    m->inv_head = (xf_head_hook){ .ctx = m->task_inv, .forward = xf_invadapter_head_forward,
                                  .backward = xf_invadapter_head_backward };
    xf_encoder_set_emb_hook(m->enc, &m->inv_emb);
    xf_encoder_set_head_hook(m->enc, &m->inv_head);
}

void xf_tm_init_weights(xf_taskmodel *m, uint64_t seed)
{
    if (m->task_inv) xf_invadapter_init_weights(m->task_inv, seed);
    float std = xf_encoder_dims(m->enc)->init_range;
    if (m->task_ad)
        for (int l = 0; l < m->L; l++) xf_bottleneck_init_weights(&m->task_ad[l], seed);
    switch (m->task) {
    case XF_TASK_POS: case XF_TASK_NER: xf_tag_head_init_weights(&m->tag, std, seed); break;
    case XF_TASK_NLI: xf_cls_head_init_weights(&m->cls, std, seed); break;
    case XF_TASK_QA: xf_qa_head_init_weights(&m->qa, std, seed); break;
    default: break;   /* biaffine: zero init */
    }
}

static void add_par(xf_taskmodel *m, const char *name, float *data, float *grad, int ndim,
                    int64_t d0, int64_t d1, int64_t d2)
{
    if (m->npar == XF_TM_MAX_PARAMS) die("task model: more than %d parameter tensors", XF_TM_MAX_PARAMS);
    xf_tm_param *p = &m->par[m->npar++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->data = data;
    p->grad = grad;
    p->ndim = ndim;
    p->shape[0] = d0; p->shape[1] = d1; p->shape[2] = d2;
    p->n = (size_t)d0 * (size_t)(ndim > 1 ? d1 : 1) * (size_t)(ndim > 2 ? d2 : 1);
    p->off = m->ntrain;
    m->ntrain += p->n;
}

static void head_par(xf_taskmodel *m, const char *part, float *data, float *grad, int ndim,
                     int64_t d0, int64_t d1, int64_t d2)
{
    char key[192];
    if ((size_t)snprintf(key, sizeof key, "heads.%s.%s", m->name, part) >= sizeof key)
        die("task model: head name too long: %s", m->name);
    add_par(m, key, data, grad, ndim, d0, d1, d2);
}

void xf_tm_list_params(xf_taskmodel *m)
{
    m->npar = 0;
    m->ntrain = 0;
    if (m->task_ad)
        for (int l = 0; l < m->L; l++) {
            xf_adapter_tensor at[4];
            xf_bottleneck_tensors(&m->task_ad[l], at);
            for (int i = 0; i < 4; i++) {
                char key[192];
                if ((size_t)snprintf(key, sizeof key, "%s%s", m->prefix, at[i].name) >= sizeof key)
                    die("task model: tensor name too long: %s", at[i].name);
                add_par(m, key, at[i].data, at[i].grad, at[i].ndim, at[i].shape[0],
                        at[i].shape[1], 0);
            }
        }
    if (m->task_inv) {
        xf_adapter_tensor at[8];
        int nt = xf_invadapter_tensors(m->task_inv, at);
        for (int i = 0; i < nt; i++) {
            char key[192];
            if ((size_t)snprintf(key, sizeof key, "%s%s", m->prefix, at[i].name) >= sizeof key)
                die("task model: tensor name too long: %s", at[i].name);
            add_par(m, key, at[i].data, at[i].grad, at[i].ndim, at[i].shape[0],
                    at[i].shape[1], 0);
        }
    }
    if (m->task == XF_TASK_MLM && m->task_ad) {
        /* the MLM head trains with the language adapter (adapters library:
         * train_adapter freezes base_model only); HF names, no prefix */
        const xf_enc_param *tab;
        int n;
        int k0 = mlm_head_first(m, &tab, &n);
        float *params = xf_encoder_params(m->enc);
        const xf_enc_views *hg = xf_encoder_head_grad_views(m->enc);
        for (int k = k0; k < n; k++)
            add_par(m, tab[k].name, params + tab[k].off,
                    hg ? hg->head_w + (tab[k].off - tab[k0].off) : NULL, tab[k].ndim,
                    tab[k].shape[0], tab[k].ndim > 1 ? tab[k].shape[1] : 0, 0);
    }
    int H = m->C;
    switch (m->task) {
    case XF_TASK_POS: case XF_TASK_NER: {
        xf_tag_head *h = &m->tag;
        head_par(m, "1.weight", h->w, h->g_w, 2, h->K, H, 0);
        head_par(m, "1.bias", h->b, h->g_b, 1, h->K, 0, 0);
        break;
    }
    case XF_TASK_NLI: {
        xf_cls_head *h = &m->cls;
        head_par(m, "1.weight", h->w1, h->g_w1, 2, H, H, 0);
        head_par(m, "1.bias", h->b1, h->g_b1, 1, H, 0, 0);
        head_par(m, "4.weight", h->w4, h->g_w4, 2, h->K, H, 0);
        head_par(m, "4.bias", h->b4, h->g_b4, 1, h->K, 0, 0);
        break;
    }
    case XF_TASK_QA: {
        xf_qa_head *h = &m->qa;
        head_par(m, "1.weight", h->w, h->g_w, 2, 2, H, 0);
        head_par(m, "1.bias", h->b, h->g_b, 1, 2, 0, 0);
        break;
    }
    case XF_TASK_DEP: {
        xf_biaffine_head *h = &m->dep;
        head_par(m, "biaffine_arcs.weight", h->wa, h->g_wa, 3, 1, H + 1, H);
        head_par(m, "biaffine_rels.weight", h->wr, h->g_wr, 3, h->R, H + 1, H + 1);
        break;
    }
    default: break;
    }
}

void xf_tm_enable_training(xf_taskmodel *m)
{
    m->trainable = 1;
    switch (m->task) {
    case XF_TASK_POS: case XF_TASK_NER: xf_tag_head_enable_grads(&m->tag); break;
    case XF_TASK_NLI: xf_cls_head_enable_grads(&m->cls); break;
    case XF_TASK_QA: xf_qa_head_enable_grads(&m->qa); break;
    case XF_TASK_DEP: xf_biaffine_head_enable_grads(&m->dep); break;
    default: break;
    }
    if (m->task == XF_TASK_MLM && m->task_ad) xf_encoder_freeze_base_only(m->enc);
    xf_tm_list_params(m);
    for (int i = 0; i < m->npar; i++)
        if (!m->par[i].grad) die("task model: %s has no gradient", m->par[i].name);
    free(m->adam_m); free(m->adam_v);
    m->adam_m = xcalloc(m->ntrain ? m->ntrain : 1, sizeof(float));
    m->adam_v = xcalloc(m->ntrain ? m->ntrain : 1, sizeof(float));
}

void xf_tm_zero_grads(xf_taskmodel *m)
{
    for (int i = 0; i < m->npar; i++)
        if (m->par[i].grad) memset(m->par[i].grad, 0, sizeof(float) * m->par[i].n);
}

double xf_tm_grad_sumsq(const xf_taskmodel *m)
{
    double s = 0;
    for (int i = 0; i < m->npar; i++) s += xf_grad_sumsq(m->par[i].grad, m->par[i].n);
    return s;
}

/* HF Trainer decays neither biases nor any nn.LayerNorm weight; RoBERTa's
 * MLM head spells its LayerNorm "lm_head.layer_norm". */
static int decays(const char *name)
{
    return xf_adamw_decays(name) && !strstr(name, "layer_norm.weight");
}

size_t xf_tm_adamw(xf_taskmodel *m, const xf_adamw *opt, float lr, long t, float gscale)
{
    size_t bad = 0;
    for (int i = 0; i < m->npar; i++) {
        xf_tm_param *p = &m->par[i];
        if (gscale != 1.0f)
            for (size_t k = 0; k < p->n; k++) p->grad[k] *= gscale;
        bad += xf_adamw_update(opt, p->data, p->grad, m->adam_m + p->off, m->adam_v + p->off,
                               p->n, lr, t, decays(p->name));
    }
    return bad;
}

/* ---- forward ---- */

static void reserve(xf_taskmodel *m, int B, int T, size_t nrows)
{
    size_t N = (size_t)B * T;
    if (N > (size_t)m->cap) {
        free(m->ids); free(m->types); free(m->am); free(m->dhid);
        m->ids = xmalloc(N * sizeof(int32_t));
        m->types = xmalloc(N * sizeof(int32_t));
        m->am = xmalloc(N * sizeof(int32_t));
        m->dhid = xmalloc_aligned(xmul(N * m->C, sizeof(float)));
        m->cap = (int)N;
    }
    size_t nlog = N * 2 > nrows * 64 ? N * 2 : nrows * 64;
    if (m->task == XF_TASK_POS || m->task == XF_TASK_NER) nlog = nrows * (size_t)m->tag.K;
    if (m->task == XF_TASK_NLI) nlog = (size_t)B * m->cls.K;
    if (nlog > m->logits_cap) {
        free(m->logits);
        m->logits = xmalloc(xmul(nlog, sizeof(float)));
        m->logits_cap = nlog;
    }
    if (nrows > m->rows_cap) {
        free(m->rows); free(m->gold); free(m->aux);
        m->rows = xmalloc(nrows * sizeof(int32_t));
        m->gold = xmalloc(nrows * sizeof(int32_t));
        m->aux = xmalloc(nrows * sizeof(int32_t));
        m->rows_cap = nrows;
    }
    if (B > m->sent_cap) {
        free(m->sent);
        m->sent = xmalloc((size_t)B * sizeof *m->sent);
        m->sent_cap = B;
    }
}

float xf_tm_forward(xf_taskmodel *m, const xf_example *const *ex, int B, int train,
                    uint64_t drop_seed, int backward)
{
    int T = 0;
    size_t words = 0;
    for (int b = 0; b < B; b++) {
        if ((int)ex[b]->n > T) T = (int)ex[b]->n;
        words += ex[b]->nwords;
    }
    if (B <= 0 || T <= 0) die("task model: empty batch");
    size_t nrows = words > (size_t)B ? words : (size_t)B;
    reserve(m, B, T, nrows + 1);
    m->B = B;
    m->T = T;
    int pad = xf_encoder_dims(m->enc)->pad_id;
    for (int b = 0; b < B; b++) {
        const xf_example *e = ex[b];
        for (int t = 0; t < T; t++) {
            size_t k = (size_t)b * T + t;
            int in = t < (int)e->n;
            m->ids[k] = in ? e->ids[t] : pad;
            m->types[k] = in && e->has_types ? e->types[t] : 0;
            m->am[k] = in;
        }
    }
    if (m->fuse)
        for (int l = 0; l < m->L; l++) m->fuse[l].drop_seed = drop_seed;
    xf_encoder_forward(m->enc, m->ids, m->types, m->am, B, T, train, drop_seed);
    const float *hid = xf_encoder_hidden(m->enc);
    float *dhid = NULL;
    if (backward) {
        dhid = m->dhid;
        memset(dhid, 0, sizeof(float) * (size_t)B * T * m->C);
    }
    float p = train ? m->p_drop : 0.0f;
    uint64_t off = XF_HEADS_DROPOUT_OFFSET;
    float loss = 0;
    switch (m->task) {
    case XF_TASK_POS: case XF_TASK_NER: {
        int M = 0, gold = 1;
        for (int b = 0; b < B; b++) {
            const xf_example *e = ex[b];
            if (!e->has_labels) gold = 0;
            for (size_t w = 0; w < e->nwords; w++) {
                m->rows[M] = b * T + e->wstart[w];
                m->gold[M] = e->has_labels ? e->labels[w] : -1;
                M++;
            }
        }
        loss = xf_tag_head_step(&m->tag, m->logits, dhid, hid, m->rows, gold ? m->gold : NULL,
                                M, p, drop_seed, off);
        break;
    }
    case XF_TASK_NLI: {
        int gold = 1;
        for (int b = 0; b < B; b++) {
            m->rows[b] = b * T;
            m->gold[b] = ex[b]->label;
            if (ex[b]->label < 0) gold = 0;
        }
        loss = xf_cls_head_step(&m->cls, m->logits, dhid, hid, m->rows, gold ? m->gold : NULL,
                                B, p, drop_seed, off);
        break;
    }
    case XF_TASK_QA: {
        int32_t *base = m->rows, *len = m->aux, *st = m->gold;
        int32_t *en = xmalloc(sizeof(int32_t) * (size_t)B);
        for (int b = 0; b < B; b++) {
            base[b] = b * T;
            len[b] = (int32_t)ex[b]->n;
            st[b] = ex[b]->ans_start;
            en[b] = ex[b]->ans_end;
        }
        loss = xf_qa_head_step(&m->qa, m->logits, dhid, hid, base, len, st, en, B, p,
                               drop_seed, off);
        free(en);
        break;
    }
    case XF_TASK_DEP: {
        int gold = 1;
        for (int b = 0; b < B; b++) {
            const xf_example *e = ex[b];
            m->sent[b] = (xf_dep_sentence){ .base = b * T, .n = (int)e->nwords,
                                            .start = e->wstart, .end = e->wend,
                                            .heads = e->heads, .rels = e->rels };
            if (!e->heads) gold = 0;
        }
        if (gold || backward)
            loss = xf_biaffine_head_step(&m->dep, dhid, hid, m->sent, B, p, drop_seed, off);
        break;
    }
    default: die("task model: task %s has no head", xf_task_name(m->task));
    }
    if (backward) xf_encoder_backward(m->enc, dhid);
    return loss;
}

void xf_tm_enable_fusion_training(xf_taskmodel *m)
{
    if (!m->fuse || !m->fuse[0].grads) die("task model: no trainable fusion");
    m->trainable = 1;
    m->npar = 0;
    m->ntrain = 0;
    for (int l = 0; l < m->L; l++) {
        xf_adapter_tensor at[5];
        int nt = xf_fusion_tensors(&m->fuse[l], at);
        for (int i = 0; i < nt; i++) {
            char key[192];
            if ((size_t)snprintf(key, sizeof key, "%s%s", m->prefix, at[i].name) >= sizeof key)
                die("task model: tensor name too long: %s", at[i].name);
            add_par(m, key, at[i].data, at[i].grad, at[i].ndim, at[i].shape[0], at[i].shape[1], 0);
        }
    }
    free(m->adam_m); free(m->adam_v);
    m->adam_m = xcalloc(m->ntrain ? m->ntrain : 1, sizeof(float));
    m->adam_v = xcalloc(m->ntrain ? m->ntrain : 1, sizeof(float));
}
