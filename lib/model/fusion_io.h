/* fusion_io.h — an AdapterFusion as one file: a tensor stream of kind
 * "fusion" that holds the fusion parameters AND the language adapters it
 * fuses, and AdapterHub fusion folders.
 *
 * Stream HEAD (besides tstream.h's keys):
 *   "config"   the base model's config.json (from the first adapter stream
 *              that has one; absent when every adapter came from a folder)
 *   "fusion":  {"name": "eng,hin,zho" (the library's fusion name),
 *               "languages": ["eng", "hin", "zho"] (fusion order),
 *               "type": "dynamic", "config": {DynamicAdapterFusionConfig's
 *               fields}, "model_type", "hidden_size", "layers",
 *               "reductions": [per language], "sources": [the paths read],
 *               "trained": false | {training settings}}
 * TENS: every language adapter's tensors under their AdapterHub names with
 * the model prefix ("bert." / "roberta."): bottlenecks and invertible
 * adapters (a language adapter's MLM head is not carried); then per layer L
 *   PREFIXencoder.layer.L.output.adapter_fusion_layer.NAME.query.weight [C,C]
 *   ... query.bias [C], key.weight [C,C], key.bias [C], value.weight [C,C]
 *
 * AdapterHub fusion folder (the adapters library's save_adapter_fusion):
 *   adapter_fusion_config.json  {"config": {dynamic fusion config},
 *                                "adapter_names": [...], "hidden_size",
 *                                "model_class", "model_name", "model_type",
 *                                "name": "eng,hin,zho", "version"}
 *   model_adapter_fusion.safetensors  the fusion tensors (names as above)
 * The library keeps the fused language adapters in their own folders: xf
 * writes them beside, as sub-folders NAME/ (adapter_config.json,
 * adapter.safetensors), so that the folder alone can be read back.  The
 * file names are the current library's (SAFE_ADAPTERFUSION_WEIGHTS_NAME,
 * use_safetensors); adapter-transformers 3.1 writes the fusion weights as
 * pytorch_model_adapter_fusion.bin (a torch pickle), which xf cannot read.
 * A folder whose config has no "adapter_names" takes them from "name".
 */
#ifndef XF_FUSION_IO_H
#define XF_FUSION_IO_H

#include <jansson.h>

#include "adapter_io.h"
#include "fusion.h"
#include "taskmodel.h"

typedef struct xf_fusion_file {
    xf_tensorset *ts;       /* language adapters + fusion parameters, prefixed */
    int n, C, L;
    char lang[XF_FUSION_MAX][XF_ADAPTER_NAME_MAX];
    int reduction[XF_FUSION_MAX];
    char model_type[32];
    char model_name[256];   /* "" if unknown */
    json_t *config;         /* base config.json or NULL (owned) */
    json_t *head;           /* the "fusion" HEAD object (owned) */
    json_t *src_head[XF_FUSION_MAX];  /* xf_fusion_build: each fused adapter's
                                       * HEAD, for its provenance (owned; NULL
                                       * when loaded) */
} xf_fusion_file;

/* A fresh, untrained fusion of the N language adapters PATHS (streams or
 * AdapterHub folders), fused in that order: checks that all are language
 * adapters of one base model (model type, hidden size, layers, vocabulary,
 * model name when both tell it) and dies naming the file that differs;
 * fusion parameters as 3.1 initialises them, Q/K from SEED. */
xf_fusion_file *xf_fusion_build(char *const *paths, int n, uint64_t seed);
/* Reads a fusion stream or an AdapterHub fusion folder (as written by
 * xf_fusion_hub_write); tensor names get PREFIX. */
xf_fusion_file *xf_fusion_file_load(const char *path, const char *prefix);
void xf_fusion_file_free(xf_fusion_file *f);
/* Writes F as a tensor stream (kind "fusion"); EXTRA keys go into HEAD. */
void xf_fusion_file_write(const xf_fusion_file *f, const char *path, long long seed,
                          json_t *extra);
/* Writes F as an AdapterHub fusion folder DIR (atomic: built beside and
 * renamed; DIR must not exist or be empty). */
void xf_fusion_hub_write(const xf_fusion_file *f, const char *dir);
/* Adds F's language adapters and its fusion to M (before the task
 * adapter); TRAINABLE gives the fusion parameters gradients. */
void xf_tm_load_fusion(xf_taskmodel *m, const xf_fusion_file *f, const char *src, int trainable);
/* Copies M's (trained) fusion parameters into F. */
void xf_fusion_file_update(xf_fusion_file *f, const xf_taskmodel *m);
/* "eng+hin+zho": the eval rows' adapters column. */
void xf_fusion_label(const xf_fusion_file *f, char *buf, size_t n);

#endif
