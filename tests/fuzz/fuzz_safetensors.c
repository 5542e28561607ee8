/* fuzz_safetensors.c — safetensors reading (xf_safetensors_read with its
 * __metadata__), then the HF name mapping and f32 conversion a model
 * folder's tensors go through (xf_model_canonicalize under a BERT and an
 * XLM-R config). */
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "hfmodel.h"
#include "safetensors.h"

int fuzz_stages = 1;
static xf_config cfg_bert, cfg_xlmr;

static void tiny_config(xf_config *c, const char *type)
{
    char js[512];
    snprintf(js, sizeof js,
             "{\"model_type\":\"%s\",\"vocab_size\":16,\"hidden_size\":4,\"num_hidden_layers\":1,"
             "\"num_attention_heads\":1,\"intermediate_size\":8,\"max_position_embeddings\":8}",
             type);
    xf_config_read(c, fuzz_file("config.json", js, strlen(js)));
}

void fuzz_setup(void)
{
    tiny_config(&cfg_bert, "bert");
    tiny_config(&cfg_xlmr, "xlm-roberta");
}

void fuzz_one(const uint8_t *data, size_t size, int stage)
{
    (void)stage;
    const char *p = fuzz_file("model.safetensors", data, size);
    json_t *meta = NULL;
    xf_tensorset *s = xf_safetensors_read(p, &meta);
    json_decref(meta);
    xf_model_canonicalize(s, (size & 1) ? &cfg_xlmr : &cfg_bert, p);
    xf_tset_free(s);
}
