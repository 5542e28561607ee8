/* test_hfmodel.c — config.json, HF folders (single and sharded), name
 * mapping, tied decoders, tensor-stream and HF-folder saving. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hfmodel.h"
#include "safetensors.h"
#include "util.h"
#include "zio.h"
#include "testutil.h"

static char dir[64];

static void setup(void) { make_temp_dir(dir, "/tmp/xf-test-hf.XXXXXX"); }
static void teardown(void) { remove_temp_dir(dir); }
static char *path_in(const char *name) { return path_in_dir(dir, name); }

TestSuite(hfmodel, .init = setup, .fini = teardown);

#define BERT_CONFIG                                                                                     \
    "{\"architectures\":[\"BertForMaskedLM\"],\"model_type\":\"bert\",\"vocab_size\":5,\"hidden_size\":4," \
    "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"intermediate_size\":8,"                         \
    "\"max_position_embeddings\":16,\"type_vocab_size\":2,\"hidden_act\":\"gelu\",\"layer_norm_eps\":1e-12}"

static void add(xf_tensorset *s, const char *name, xf_dtype d, int64_t r, int64_t c, float fill)
{
    xf_tensor t = {.name = xstrdup(name), .dtype = d, .ndim = c ? 2 : 1, .shape = {r, c}};
    size_t n = xf_tensor_numel(&t);
    t.nbytes = n * xf_dtype_size(d);
    t.data = xmalloc_aligned(t.nbytes);
    for (size_t i = 0; i < n; i++) {
        if (d == XF_F32) {
            ((float *)t.data)[i] = fill + (float)i;
        } else {   /* f16: fill must be small integers */
            float v = fill + (float)i;
            uint32_t bits;
            memcpy(&bits, &v, 4);
            /* exact for small integers: rebias exponent, drop low mantissa */
            uint16_t h = (uint16_t)(((bits >> 16) & 0x8000) | ((((bits >> 23) & 0xff) - 112) << 10) | ((bits >> 13) & 0x3ff));
            ((uint16_t *)t.data)[i] = v == 0 ? 0 : h;
        }
    }
    xf_tset_add(s, &t);
}

/* An old-style BertModel checkpoint: bare names, LayerNorm gamma/beta, an
 * f16 tensor, the MLM head without decoder weight (tied). */
static xf_tensorset *old_bert(void)
{
    xf_tensorset *s = xf_tset_new();
    add(s, "embeddings.word_embeddings.weight", XF_F32, 5, 4, 0);
    add(s, "embeddings.position_embeddings.weight", XF_F16, 16, 4, 1);
    add(s, "embeddings.LayerNorm.gamma", XF_F32, 4, 0, 1);
    add(s, "embeddings.LayerNorm.beta", XF_F32, 4, 0, 0);
    add(s, "encoder.layer.0.attention.output.LayerNorm.gamma", XF_F32, 4, 0, 1);
    add(s, "cls.predictions.bias", XF_F32, 5, 0, 0);
    add(s, "cls.predictions.decoder.bias", XF_F32, 5, 0, 0);
    return s;
}

static void make_folder(const char *name, const char *config, xf_tensorset *s)
{
    cr_assert_eq(mkdir(path_in(name), 0755), 0);
    char p[256];
    snprintf(p, sizeof p, "%s/config.json", path_in(name));
    write_text(p, config);
    if (s) {
        snprintf(p, sizeof p, "%s/model.safetensors", path_in(name));
        xf_safetensors_write(p, s, NULL);
    }
}

static void check_old_bert_loaded(xf_tensorset *m, xf_config *cfg)
{
    cr_assert_str_eq(cfg->model_type, "bert");
    cr_assert_eq(cfg->hidden_size, 4);
    cr_assert_eq(cfg->pad_token_id, 0);
    cr_assert_float_eq(cfg->hidden_dropout_prob, 0.1, 1e-12);
    cr_assert_str_eq(xf_model_prefix(cfg), "bert.");
    cr_assert(xf_tset_get(m, "bert.embeddings.word_embeddings.weight"));
    cr_assert(xf_tset_get(m, "bert.embeddings.LayerNorm.weight"));
    cr_assert(xf_tset_get(m, "bert.embeddings.LayerNorm.bias"));
    cr_assert(xf_tset_get(m, "bert.encoder.layer.0.attention.output.LayerNorm.weight"));
    cr_assert(xf_tset_get(m, "cls.predictions.bias"));
    cr_assert_null(xf_tset_get(m, "cls.predictions.decoder.bias"), "tied decoder bias dropped");
    cr_assert_null(xf_tset_get(m, "embeddings.LayerNorm.gamma"));
    cr_assert_eq(m->n, 6);
    xf_tensor *pe = xf_tset_get(m, "bert.embeddings.position_embeddings.weight");
    cr_assert(pe && pe->dtype == XF_F32, "f16 converted to f32");
    cr_assert_eq(((float *)pe->data)[0], 1.0f);
    cr_assert_eq(((float *)pe->data)[63], 64.0f);
    cr_assert(xf_model_decoder_tied(m, cfg));
    cr_assert_str_eq(xf_model_decoder_name(cfg), "cls.predictions.decoder.weight");
}

Test(hfmodel, folder_with_old_names_and_tied_decoder)
{
    xf_tensorset *s = old_bert();
    make_folder("m", BERT_CONFIG, s);
    xf_tset_free(s);
    xf_config cfg;
    xf_tensorset *m = xf_model_load(path_in("m"), &cfg);
    check_old_bert_loaded(m, &cfg);
    cr_assert_null(m->head);
    xf_tset_free(m);
    xf_config_free(&cfg);
}

/* Child bodies for run_in_child: each is expected to die(). */
static void load_named(void *name)
{
    xf_config c;
    xf_model_load(path_in(name), &c);
}

typedef struct {
    const char *out, *vocab;
    const xf_config *cfg;
    const xf_tensorset *m;
} save_hf_args;

static void save_hf(void *args)
{
    const save_hf_args *a = args;
    xf_model_save_hf(a->out, a->cfg, a->m, a->vocab);
}

static void read_bad_config(void *unused)
{
    xf_config c;
    xf_config_read(&c, path_in("bad.json"));
}

Test(hfmodel, sharded_folder)
{
    cr_assert_eq(mkdir(path_in("sh"), 0755), 0);
    write_text(path_in("sh/config.json"), BERT_CONFIG);
    xf_tensorset *all = old_bert(), *a = xf_tset_new(), *b = xf_tset_new();
    for (size_t i = 0; i < all->n; i++) xf_tset_add(i < 3 ? a : b, &all->t[i]);
    all->n = 0;
    xf_safetensors_write(path_in("sh/model-00001-of-00002.safetensors"), a, NULL);
    xf_safetensors_write(path_in("sh/model-00002-of-00002.safetensors"), b, NULL);
    json_t *map = json_object();
    for (size_t i = 0; i < a->n; i++) json_object_set_new(map, a->t[i].name, json_string("model-00001-of-00002.safetensors"));
    for (size_t i = 0; i < b->n; i++) json_object_set_new(map, b->t[i].name, json_string("model-00002-of-00002.safetensors"));
    json_t *idx = json_pack("{s:{s:i}, s:o}", "metadata", "total_size", 1, "weight_map", map);
    json_dump_file(idx, path_in("sh/model.safetensors.index.json"), 0);
    xf_config cfg;
    xf_tensorset *m = xf_model_load(path_in("sh"), &cfg);
    check_old_bert_loaded(m, &cfg);
    xf_tset_free(m);
    xf_config_free(&cfg);

    /* an index that places a tensor in the wrong shard is an error */
    json_object_set_new(map, "cls.predictions.bias", json_string("model-00001-of-00002.safetensors"));
    json_dump_file(idx, path_in("sh/model.safetensors.index.json"), 0);
    int st = run_in_child(load_named, "sh", NULL);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    json_decref(idx);
    xf_tset_free(all);
    xf_tset_free(a);
    xf_tset_free(b);
}

Test(hfmodel, stream_roundtrip_and_stdin)
{
    xf_tensorset *s = old_bert();
    make_folder("m", BERT_CONFIG, s);
    xf_tset_free(s);
    xf_config cfg;
    xf_tensorset *m = xf_model_load(path_in("m"), &cfg);
    json_t *extra = json_pack("{s:s}", "note", "x");
    xf_model_save_stream(path_in("m.xfts"), &cfg, m, "model", 7, extra);
    json_decref(extra);
    xf_config c2;
    xf_tensorset *r = xf_model_load(path_in("m.xfts"), &c2);
    check_old_bert_loaded(r, &c2);
    cr_assert_str_eq(json_string_value(json_object_get(r->head, "note")), "x");
    cr_assert_eq(c2.num_attention_heads, 2);
    cr_assert_str_eq(json_string_value(json_object_get(c2.json, "architectures") ? json_array_get(json_object_get(c2.json, "architectures"), 0) : NULL), "BertForMaskedLM");
    xf_tset_free(r);
    xf_config_free(&c2);

    /* "-" reads the stream from stdin */
    int saved = dup(0);
    FILE *f = fopen(path_in("m.xfts"), "rb");
    dup2(fileno(f), 0);
    r = xf_model_load("-", &c2);
    dup2(saved, 0);
    fclose(f);
    check_old_bert_loaded(r, &c2);
    xf_tset_free(r);
    xf_config_free(&c2);
    xf_tset_free(m);
    xf_config_free(&cfg);
}

Test(hfmodel, save_hf_and_reload)
{
    xf_tensorset *s = old_bert();
    make_folder("m", BERT_CONFIG, s);
    xf_tset_free(s);
    write_text(path_in("vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
    xf_config cfg;
    xf_tensorset *m = xf_model_load(path_in("m"), &cfg);
    cr_assert_eq(mkdir(path_in("out"), 0755), 0);   /* an empty folder may be replaced */
    xf_model_save_hf(path_in("out"), &cfg, m, path_in("vocab.txt"));
    size_t n;
    char *c = xf_read_file(path_in("out/config.json"), &n);
    cr_assert(strstr(c, "\"layer_norm_eps\": 1e-12,"), "short reals, HF layout: %s", c);
    cr_assert(strstr(c, "\"hidden_dropout_prob\": 0.1,"), "%s", c);
    free(c);
    char *v = xf_read_file(path_in("out/vocab.txt"), &n);
    cr_assert_str_eq(v, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
    free(v);
    json_t *meta;
    xf_tensorset *st = xf_safetensors_read(path_in("out/model.safetensors"), &meta);
    cr_assert_str_eq(json_string_value(json_object_get(meta, "format")), "pt");
    cr_assert(xf_tset_get(st, "bert.embeddings.LayerNorm.weight"));
    json_decref(meta);
    xf_tset_free(st);
    xf_config c2;
    xf_tensorset *r = xf_model_load(path_in("out"), &c2);
    check_old_bert_loaded(r, &c2);
    xf_tset_free(r);
    xf_config_free(&c2);
    /* no temp folder left beside it */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -c tmp", dir);
    FILE *p = popen(cmd, "r");
    int cnt = -1;
    cr_assert_eq(fscanf(p, "%d", &cnt), 1);
    pclose(p);
    cr_assert_eq(cnt, 0);
    xf_tset_free(m);
    xf_config_free(&cfg);
}

Test(hfmodel, save_hf_refuses_nonempty_dir)
{
    xf_tensorset *s = old_bert();
    make_folder("m", BERT_CONFIG, s);
    xf_tset_free(s);
    xf_config cfg;
    xf_tensorset *m = xf_model_load(path_in("m"), &cfg);
    save_hf_args into_m = {.out = path_in("m"), .vocab = NULL, .cfg = &cfg, .m = m};
    int st = run_in_child(save_hf, &into_m, path_in("err"));
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    size_t n;
    char *msg = xf_read_file(path_in("err"), &n);
    cr_assert(strstr(msg, "exists and is not empty"), "%s", msg);
    free(msg);
    /* a failure midway (tokenizer source missing) leaves no folder behind */
    save_hf_args into_new = {.out = path_in("new"), .vocab = path_in("no-such-vocab"), .cfg = &cfg, .m = m};
    st = run_in_child(save_hf, &into_new, NULL);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -c -e new -e tmp", dir);
    FILE *p = popen(cmd, "r");
    int cnt = -1;
    cr_assert_eq(fscanf(p, "%d", &cnt), 1);
    pclose(p);
    cr_assert_eq(cnt, 0, "temp folder left behind");
    xf_tset_free(m);
    xf_config_free(&cfg);
}

Test(hfmodel, roberta_prefix_and_untied_decoder)
{
    xf_tensorset *s = xf_tset_new();
    add(s, "roberta.embeddings.word_embeddings.weight", XF_F32, 5, 4, 0);
    add(s, "lm_head.decoder.weight", XF_F32, 5, 4, 0);
    add(s, "lm_head.decoder.bias", XF_F32, 5, 0, 0);
    add(s, "lm_head.layer_norm.weight", XF_F32, 4, 0, 1);
    make_folder("r",
                "{\"model_type\":\"xlm-roberta\",\"vocab_size\":5,\"hidden_size\":4,\"num_hidden_layers\":1,"
                "\"num_attention_heads\":1,\"intermediate_size\":8,\"max_position_embeddings\":18,"
                "\"tie_word_embeddings\":false}",
                s);
    xf_tset_free(s);
    xf_config cfg;
    xf_tensorset *m = xf_model_load(path_in("r"), &cfg);
    cr_assert_eq(cfg.pad_token_id, 1);
    cr_assert_eq(cfg.type_vocab_size, 1);
    cr_assert_str_eq(xf_model_prefix(&cfg), "roberta.");
    cr_assert_not(xf_model_decoder_tied(m, &cfg));
    cr_assert(xf_tset_get(m, "lm_head.bias"), "decoder bias alone becomes the head bias");
    cr_assert_null(xf_tset_get(m, "lm_head.decoder.bias"));
    xf_tset_free(m);
    xf_config_free(&cfg);
}

Test(hfmodel, config_roundtrip)
{
    xf_config cfg;
    xf_config_read(&cfg, (write_text(path_in("c.json"), BERT_CONFIG), path_in("c.json")));
    cfg.num_hidden_layers = 3;
    json_t *j = xf_config_to_json(&cfg);
    xf_config c2;
    xf_config_from_json(&c2, j, "x");
    cr_assert_eq(c2.num_hidden_layers, 3);
    cr_assert_float_eq(c2.layer_norm_eps, 1e-12, 1e-20);
    cr_assert_str_eq(c2.hidden_act, "gelu");
    json_decref(j);
    xf_config_free(&cfg);
    xf_config_free(&c2);
    /* a struct filled by hand (no json) gets architectures and model_type */
    xf_config h = {.model_type = "xlm-roberta", .vocab_size = 9, .hidden_size = 4, .num_hidden_layers = 1,
                   .num_attention_heads = 1, .intermediate_size = 4, .max_position_embeddings = 9,
                   .type_vocab_size = 1, .pad_token_id = 1, .layer_norm_eps = 1e-5, .hidden_act = "gelu"};
    j = xf_config_to_json(&h);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "architectures"), 0)), "XLMRobertaForMaskedLM");
    xf_config_from_json(&c2, j, "y");
    json_decref(j);
    xf_config_free(&c2);
}

/* Bad configs: each dies naming the file and the key. */
static void expect_config_error(const char *json, const char *want)
{
    write_text(path_in("bad.json"), json);
    int st = run_in_child(read_bad_config, NULL, path_in("err"));
    size_t n;
    char *msg = xf_read_file(path_in("err"), &n);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "expected exit 1 for %s", json);
    char full[256];
    snprintf(full, sizeof full, "%s%s", path_in("bad.json"), want);
    cr_assert(strstr(msg, full), "message '%s' lacks '%s'", msg, full);
    free(msg);
}

Test(hfmodel, bad_configs)
{
    expect_config_error("{\"model_type\":\"gpt2\"}", ": key 'model_type': 'gpt2' is not supported");
    expect_config_error("{\"model_type\":\"bert\",\"vocab_size\":5}", ": key 'hidden_size': missing");
    expect_config_error("{\"model_type\":\"bert\",\"vocab_size\":5.5}", ": key 'vocab_size': not an integer");
    expect_config_error("{\"model_type\":\"bert\",\"vocab_size\":5,\"hidden_size\":5,\"num_hidden_layers\":1,"
                        "\"num_attention_heads\":2,\"intermediate_size\":8,\"max_position_embeddings\":16}",
                        ": key 'num_attention_heads': 2 does not divide hidden_size 5");
    expect_config_error("{\"model_type\":\"bert\",\"vocab_size\":5,\"hidden_size\":4,\"num_hidden_layers\":1,"
                        "\"num_attention_heads\":2,\"intermediate_size\":8,\"max_position_embeddings\":16,"
                        "\"hidden_act\":\"swish\"}",
                        ": key 'hidden_act': 'swish' is not supported");
    expect_config_error("{\"model_type\":\"bert\",", ":1: bad JSON");
}

Test(hfmodel, not_a_model, .exit_code = 1)
{
    cr_redirect_stderr();
    write_text(path_in("junk"), "hello");
    xf_config cfg;
    xf_model_load(path_in("junk"), &cfg);
}

Test(hfmodel, stream_without_config, .exit_code = 1)
{
    cr_redirect_stderr();
    xf_tensorset *s = old_bert();
    xf_tset_write_stream(s, path_in("nocfg"), "model", 1, NULL);
    xf_config cfg;
    xf_model_load(path_in("nocfg"), &cfg);
}

Test(hfmodel, embedding_shape_mismatch, .exit_code = 1)
{
    cr_redirect_stderr();
    xf_tensorset *s = xf_tset_new();
    add(s, "bert.embeddings.word_embeddings.weight", XF_F32, 6, 4, 0);
    make_folder("w", BERT_CONFIG, s);
    xf_config cfg;
    xf_model_load(path_in("w"), &cfg);
}

/* HF ties the decoder by the config (tie_word_embeddings, default true)
 * whether or not the checkpoint stores it; a stored copy that differs is
 * overwritten by the tie, and xf says so. */
static void load_stored_decoder(void *ctx)
{
    xf_config cfg;
    xf_tensorset *m = xf_model_load(ctx, &cfg);
    if (!xf_model_decoder_tied(m, &cfg)) exit(3);
    if (xf_tset_get(m, "cls.predictions.decoder.weight")) exit(4);
    if (!xf_tset_get(m, "bert.embeddings.word_embeddings.weight")) exit(5);
    xf_tset_free(m);
    xf_config_free(&cfg);
    fflush(stderr);   /* the child leaves through _exit */
}

static void stored_decoder_case(const char *name, const char *config, float dec_fill, int warns)
{
    xf_tensorset *s = xf_tset_new();
    add(s, "bert.embeddings.word_embeddings.weight", XF_F32, 5, 4, 0);
    add(s, "cls.predictions.decoder.weight", XF_F32, 5, 4, dec_fill);
    make_folder(name, config, s);
    xf_tset_free(s);
    char err[64];
    snprintf(err, sizeof err, "%s.err", name);
    int st = run_in_child(load_stored_decoder, path_in(name), path_in(err));
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: exit %d", name, WEXITSTATUS(st));
    size_t n;
    char *msg = xf_read_file(path_in(err), &n);
    int has = strstr(msg, "cls.predictions.decoder.weight: differs from the word embeddings") != NULL;
    cr_assert_eq(has, warns, "%s: stderr '%s'", name, msg);
    free(msg);
}

Test(hfmodel, stored_decoder_is_tied_by_config)
{
    stored_decoder_case("same", BERT_CONFIG, 0, 0);
    stored_decoder_case("differs", BERT_CONFIG, 7, 1);
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "%.*s,\"tie_word_embeddings\":true}", (int)strlen(BERT_CONFIG) - 1, BERT_CONFIG);
    stored_decoder_case("explicit", cfg, 7, 1);
    /* false unties: the stored decoder stays a parameter of its own */
    snprintf(cfg, sizeof cfg, "%.*s,\"tie_word_embeddings\":false}", (int)strlen(BERT_CONFIG) - 1, BERT_CONFIG);
    xf_tensorset *s = xf_tset_new();
    add(s, "bert.embeddings.word_embeddings.weight", XF_F32, 5, 4, 0);
    add(s, "cls.predictions.decoder.weight", XF_F32, 5, 4, 7);
    make_folder("untied", cfg, s);
    xf_tset_free(s);
    xf_config c;
    xf_tensorset *m = xf_model_load(path_in("untied"), &c);
    cr_assert_not(xf_model_decoder_tied(m, &c));
    cr_assert_eq(((float *)xf_tset_get(m, "cls.predictions.decoder.weight")->data)[0], 7.0f);
    xf_tset_free(m);
    xf_config_free(&c);
    snprintf(cfg, sizeof cfg, "%.*s,\"tie_word_embeddings\":\"yes\"}", (int)strlen(BERT_CONFIG) - 1, BERT_CONFIG);
    s = xf_tset_new();
    add(s, "bert.embeddings.word_embeddings.weight", XF_F32, 5, 4, 0);
    make_folder("badtie", cfg, s);
    xf_tset_free(s);
    int st = run_in_child(load_stored_decoder, path_in("badtie"), NULL);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
}
