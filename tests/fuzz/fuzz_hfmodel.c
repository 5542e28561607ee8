/* fuzz_hfmodel.c — HF model folders: config.json (xf_config_read), a
 * whole folder (xf_model_load: config.json + model.safetensors), and that
 * folder imported into an encoder as the tools load it (xf_encoder_load).
 *
 * Input: the config.json bytes, then the separator line "\n#XFST\n", then
 * the model.safetensors bytes (no separator: config.json only, and the
 * folder has an empty model.safetensors).
 *
 * Known issue, assigned elsewhere (issue 11, item 2): a config whose
 * num_hidden_layers or hidden_size is huge overflows the per-layer tables
 * and allocates gigabytes before the first missing tensor.  Until that is
 * fixed, the folder stages skip configs with num_hidden_layers > 64 or
 * hidden_size, intermediate_size, vocab_size, max_position_embeddings,
 * num_attention_heads, type_vocab_size > 1<<20 (the config stage still
 * parses them). */
#define _GNU_SOURCE
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "encoder_io.h"
#include "harness.h"
#include "hfmodel.h"

int fuzz_stages = 3;
static const char SEP[] = "\n#XFST\n";

void fuzz_setup(void)
{
    mkdir(fuzz_path("m"), 0700);
}

static int too_big(const char *js, size_t n)
{
    json_t *j = json_loadb(js, n, 0, NULL);
    if (!j) return 0;
    static const char *keys[] = {"num_hidden_layers", "hidden_size", "intermediate_size",
                                 "vocab_size", "max_position_embeddings", "num_attention_heads",
                                 "type_vocab_size"};
    int big = 0;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        json_t *v = json_object_get(j, keys[i]);
        double x = json_is_integer(v) ? (double)json_integer_value(v) : json_is_real(v) ? json_real_value(v) : 0;
        if (x > (i == 0 ? 64 : 1 << 20)) big = 1;
    }
    json_decref(j);
    return big;
}

void fuzz_one(const uint8_t *data, size_t size, int stage)
{
    const char *d = (const char *)data;
    const char *sep = memmem(d, size, SEP, sizeof SEP - 1);
    size_t nc = sep ? (size_t)(sep - d) : size;
    const char *st = sep ? sep + sizeof SEP - 1 : d + size;
    size_t ns = (size_t)(d + size - st);
    if (stage == 0) {
        xf_config cfg;
        xf_config_read(&cfg, fuzz_file("config.json", d, nc));
        json_t *back = xf_config_to_json(&cfg);
        json_decref(back);
        xf_config_free(&cfg);
        return;
    }
    if (too_big(d, nc)) return;
    fuzz_file("m/config.json", d, nc);
    fuzz_file("m/model.safetensors", st, ns);
    xf_config cfg;
    if (stage == 2) {
        xf_encoder *e = xf_encoder_load(fuzz_path("m"), &cfg);
        xf_encoder_free(e);
        xf_config_free(&cfg);
        return;
    }
    xf_tensorset *s = xf_model_load(fuzz_path("m"), &cfg);
    (void)xf_model_decoder_tied(s, &cfg);
    xf_tset_free(s);
    xf_config_free(&cfg);
}
