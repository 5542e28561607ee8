/* test_adapter_io.c — language adapters through AdapterHub folders
 * (adapter_io.h): a pfeiffer+inv language adapter with its trained MLM head
 * written as a folder (adapter_config.json as PfeifferInvConfig,
 * invertible-adapter tensors under the library's names, the MLM head as a
 * masked_lm prediction head) and read back gives every tensor of the tensor
 * stream bitwise, and a base loaded with it (xf_tm_add_lang) is bitwise the
 * base loaded with the stream; BERT (tied decoder) and XLM-R (lm_head names,
 * untied decoder) names; plain Pfeiffer keeps "inv_adapter": null; folders
 * whose config and tensors disagree, or whose masked_lm head is not the
 * BERT-style one, are refused. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter_io.h"
#include "encoder.h"
#include "rng.h"
#include "safetensors.h"
#include "taskmodel.h"
#include "testutil.h"
#include "util.h"

static xf_enc_dims dims(int roberta)
{
    return (xf_enc_dims){ .vocab = 40, .hidden = 16, .layers = 2, .heads = 2, .inter = 32,
                          .max_pos = 36, .type_vocab = 2, .pad_id = 1, .roberta = roberta,
                          .ln_eps = 1e-12f, .p_hidden = 0.1f, .p_attn = 0.1f,
                          .init_range = 0.3f };
}

static xf_encoder *base(int roberta, int tied, uint64_t seed)
{
    xf_enc_dims d = dims(roberta);
    xf_encoder *e = xf_encoder_new(&d, tied);
    xf_encoder_init_random(e, seed);
    return e;
}

static void tiny_config(xf_config *cfg, int roberta)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->model_type, sizeof cfg->model_type, roberta ? "xlm-roberta" : "bert");
    cfg->vocab_size = 40; cfg->hidden_size = 16; cfg->num_hidden_layers = 2;
    cfg->num_attention_heads = 2; cfg->intermediate_size = 32; cfg->max_position_embeddings = 36;
    cfg->type_vocab_size = 2; cfg->pad_token_id = 1; cfg->layer_norm_eps = 1e-12;
    cfg->initializer_range = 0.3;
    snprintf(cfg->hidden_act, sizeof cfg->hidden_act, "gelu");
}

/* A language adapter "yor" (reduction 4, with INV its invertible adapter)
 * whose every trainable tensor, the MLM head's included, holds values of its
 * own (as after training: the head differs from the base's). */
static xf_taskmodel *lang_model(int roberta, int tied, int inv)
{
    xf_taskmodel *m = xf_tm_new(base(roberta, tied, 21), roberta ? "roberta." : "bert.", XF_TASK_MLM);
    xf_tm_add_task_adapter(m, "yor", 4);
    if (inv) xf_tm_add_task_invadapter(m);
    xf_tm_init_weights(m, 4);
    xf_tm_list_params(m);
    for (int i = 0; i < m->npar; i++)
        for (size_t k = 0; k < m->par[i].n; k++)
            m->par[i].data[k] = 0.3f * (2 * xf_hash_uniform(6, (uint64_t)i, k) - 1);
    return m;
}

static json_t *load_json(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    cr_assert(j, "%s: %s", path, je.text);
    return j;
}

static xf_tensorset *read_st(const char *path)
{
    xf_tensorset *s = xf_tset_new();
    xf_safetensors_read_into(path, s, NULL);
    return s;
}

static void round_trip(int roberta, int tied, int inv)
{
    char dir[64];
    make_temp_dir(dir, "/tmp/xf_aio_XXXXXX");
    char sp[128], hp[128];
    snprintf(sp, sizeof sp, "%s/yor.xfts", dir);
    snprintf(hp, sizeof hp, "%s/hub", dir);
    const char *prefix = roberta ? "roberta." : "bert.";
    xf_config cfg;
    tiny_config(&cfg, roberta);
    xf_taskmodel *m = lang_model(roberta, tied, inv);
    int nhead = 5 + !tied;   /* dense w/b, LayerNorm w/b, decoder bias (+ untied decoder weight) */
    cr_assert_eq(m->npar, 2 * 4 + (inv ? 8 : 0) + nhead);
    xf_tm_save_stream(sp, m, &cfg, 1, NULL);
    xf_tm_save_hub(hp, m, &cfg);

    /* the folder, as the adapters library writes a pfeiffer(+inv) language
     * adapter with a masked_lm head */
    json_t *ac = load_json(path_in_dir(hp, "adapter_config.json"));
    json_t *c = json_object_get(ac, "config");
    cr_assert_str_eq(json_string_value(json_object_get(ac, "name")), "yor");
    cr_assert_eq(json_integer_value(json_object_get(c, "reduction_factor")), 4);
    if (inv) {
        cr_assert_str_eq(json_string_value(json_object_get(c, "inv_adapter")), "nice");
        cr_assert_eq(json_integer_value(json_object_get(c, "inv_adapter_reduction_factor")), 2);
    } else {
        cr_assert(json_is_null(json_object_get(c, "inv_adapter")));
        cr_assert(json_is_null(json_object_get(c, "inv_adapter_reduction_factor")));
    }
    json_decref(ac);
    json_t *hc = load_json(path_in_dir(hp, "head_config.json"));
    c = json_object_get(hc, "config");
    cr_assert_str_eq(json_string_value(json_object_get(hc, "name")), "yor");
    cr_assert_str_eq(json_string_value(json_object_get(c, "head_type")), "masked_lm");
    cr_assert_eq(json_integer_value(json_object_get(c, "layers")), 2);
    cr_assert_eq(json_integer_value(json_object_get(c, "vocab_size")), 40);
    cr_assert(json_is_true(json_object_get(c, "layer_norm")) && json_is_true(json_object_get(c, "bias")));
    cr_assert_str_eq(json_string_value(json_object_get(c, "activation_function")), "gelu");
    cr_assert_str_eq(json_string_value(json_object_get(hc, "model_class")),
                     roberta ? "XLMRobertaAdapterModel" : "BertAdapterModel");
    json_decref(hc);
    xf_tensorset *ad = read_st(path_in_dir(hp, "adapter.safetensors"));
    cr_assert_eq(ad->n, (size_t)(8 + (inv ? 8 : 0)));
    char key[128];
    snprintf(key, sizeof key, "%sencoder.layer.1.output.adapters.yor.adapter_up.weight", prefix);
    cr_assert(xf_tset_get(ad, key), "%s missing", key);
    const char *inv_parts[] = { "F.0.weight", "F.0.bias", "F.2.weight", "F.2.bias",
                                "G.0.weight", "G.0.bias", "G.2.weight", "G.2.bias" };
    for (int k = 0; inv && k < 8; k++) {
        snprintf(key, sizeof key, "%sinvertible_adapters.yor.%s", prefix, inv_parts[k]);
        cr_assert(xf_tset_get(ad, key), "%s missing", key);
    }
    xf_tset_free(ad);
    xf_tensorset *hd = read_st(path_in_dir(hp, "model_head.safetensors"));
    cr_assert_eq(hd->n, (size_t)nhead);
    const char *head_parts[] = { "0.weight", "0.bias", "2.weight", "2.bias", "3.bias", "3.weight" };
    for (int k = 0; k < nhead; k++) {
        snprintf(key, sizeof key, "heads.yor.%s", head_parts[k]);
        cr_assert(xf_tset_get(hd, key), "%s missing", key);
    }
    xf_tensor *db = xf_tset_get(hd, "heads.yor.3.bias");
    cr_assert(db->ndim == 1 && db->shape[0] == 40);
    xf_tset_free(hd);

    /* read back: every tensor of the model, by its xf name, bitwise, from
     * both the stream and the folder */
    xf_adapter_file *fs = xf_adapter_file_load(sp, prefix), *fh = xf_adapter_file_load(hp, prefix);
    xf_adapter_file *both[2] = { fs, fh };
    for (int w = 0; w < 2; w++) {
        cr_assert_eq(both[w]->task, XF_TASK_MLM);
        cr_assert_eq(both[w]->reduction, 4);
        cr_assert_eq(both[w]->has_head, 0);
        cr_assert_str_eq(both[w]->name, "yor");
        cr_assert_eq(both[w]->ts->n, (size_t)m->npar, "%s: %zu tensors", w ? "folder" : "stream",
                     both[w]->ts->n);
        for (int i = 0; i < m->npar; i++) {
            xf_tensor *t = xf_tset_get(both[w]->ts, m->par[i].name);
            cr_assert(t, "%s: %s missing", w ? "folder" : "stream", m->par[i].name);
            cr_assert_eq(xf_tensor_numel(t), m->par[i].n);
            cr_assert(!memcmp(t->data, m->par[i].data, m->par[i].n * sizeof(float)),
                      "%s: %s differs", w ? "folder" : "stream", m->par[i].name);
        }
    }
    /* a base loaded with either is bitwise the same model: adapter, its
     * invertible part and the trained MLM head restored */
    xf_taskmodel *ls = xf_tm_new(base(roberta, tied, 21), prefix, XF_TASK_POS);
    xf_taskmodel *lh = xf_tm_new(base(roberta, tied, 21), prefix, XF_TASK_POS);
    xf_tm_add_lang(ls, fs->name, fs->ts, sp);
    xf_tm_add_lang(lh, fh->name, fh->ts, hp);
    size_t np = xf_encoder_nparams(m->enc);
    cr_assert(!memcmp(xf_encoder_params(lh->enc), xf_encoder_params(m->enc), np * sizeof(float)),
              "MLM head not restored from the folder");
    cr_assert(!memcmp(xf_encoder_params(ls->enc), xf_encoder_params(m->enc), np * sizeof(float)));
    cr_assert_eq(!!lh->lang[0].inv, inv);
    cr_assert_eq(!!ls->lang[0].inv, inv);
    if (inv)
        cr_assert(!memcmp(lh->lang[0].inv->params, m->task_inv->params,
                          xf_invadapter_nparams(m->task_inv) * sizeof(float)));
    for (int l = 0; l < m->L; l++)
        cr_assert(!memcmp(lh->lang[0].layer[l].params, m->task_ad[l].params,
                          xf_bottleneck_nparams(&m->task_ad[l]) * sizeof(float)));
    xf_tm_free(ls);
    xf_tm_free(lh);
    xf_adapter_file_free(fs);
    xf_adapter_file_free(fh);
    xf_tm_free(m);
    remove_temp_dir(dir);
}

Test(adapter_io, bert_inv_lang_adapter_round_trip) { round_trip(0, 1, 1); }
Test(adapter_io, bert_plain_lang_adapter_round_trip) { round_trip(0, 1, 0); }
Test(adapter_io, xlmr_untied_inv_lang_adapter_round_trip) { round_trip(1, 0, 1); }

/* A folder written for a language adapter, then one file edited by SED. */
static char bad_dir[64];
static void edit_folder(const char *file, const char *sed)
{
    make_temp_dir(bad_dir, "/tmp/xf_aio_XXXXXX");
    xf_config cfg;
    tiny_config(&cfg, 0);
    xf_taskmodel *m = lang_model(0, 1, 1);
    char hp[128];
    snprintf(hp, sizeof hp, "%s/hub", bad_dir);
    xf_tm_save_hub(hp, m, &cfg);
    xf_tm_free(m);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "sed -i '%s' %s/hub/%s", sed, bad_dir, file);
    cr_assert_eq(system(cmd), 0);
}

static void load_bad(void *ctx)
{
    char hp[128];
    snprintf(hp, sizeof hp, "%s/hub", bad_dir);
    xf_adapter_file_load(hp, "bert.");
}

static void expect_refusal(const char *file, const char *sed, const char *msg)
{
    edit_folder(file, sed);
    const char *err = path_in_dir(bad_dir, "err.txt");
    int st = run_in_child(load_bad, NULL, err);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: not refused", sed);
    char buf[512] = {0};
    FILE *f = fopen(err, "r");
    cr_assert(f);
    if (!fread(buf, 1, sizeof buf - 1, f)) {}
    fclose(f);
    cr_assert(strstr(buf, msg), "%s: message %s", sed, buf);
    remove_temp_dir(bad_dir);
}

Test(adapter_io, refuses_inconsistent_or_other_folders)
{
    /* the config drops the invertible adapter the tensors have */
    expect_refusal("adapter_config.json", "s/\"nice\"/null/", "invertible-adapter tensors");
    /* a masked_lm head xf does not compute */
    expect_refusal("head_config.json", "s/\"layers\": 2/\"layers\": 1/", "masked_lm head");
    expect_refusal("head_config.json", "s/\"layer_norm\": true/\"layer_norm\": false/", "masked_lm head");
    /* a head tensor that is not part of the masked_lm head */
    expect_refusal("head_config.json", "s/\"name\": \"yor\"/\"name\": \"wol\"/", "not part of masked_lm head");
}
