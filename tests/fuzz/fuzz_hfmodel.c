/* fuzz_hfmodel.c — HF model folders: config.json (xf_config_read), a
 * whole folder (xf_model_load: config.json + model.safetensors), and that
 * folder imported into an encoder as the tools load it (xf_encoder_load).
 *
 * Input: the config.json bytes, then the separator line "\n#XFST\n", then
 * the model.safetensors bytes (no separator: config.json only, and the
 * folder has an empty model.safetensors).
 *
 * Every stage takes every input: config sizes are bounded (XF_CFG_MAX_*)
 * and the base tensors are checked present before the parameter arena is
 * allocated, so what a load allocates is bounded by the tensors the input
 * holds. */
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
