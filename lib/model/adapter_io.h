/* adapter_io.h — task/language adapters + heads on disk, both as xf tensor
 * streams (kind "adapter") and as AdapterHub folders, so that adapters move
 * between xf and the Python `adapters` library both ways.
 *
 * Tensor names are AdapterHub's (adapters library, ModelWithFlexibleHeads):
 *   {bert.|roberta.}encoder.layer.{i}.output.adapters.{NAME}.adapter_down.0.weight
 *   ... adapter_down.0.bias, adapter_up.weight, adapter_up.bias
 *   {bert.|roberta.}invertible_adapters.{NAME}.F.0.weight ... G.2.bias   (pfeiffer+inv)
 *   heads.{NAME}.1.weight ...   (tagging, QA: 1.*; classification 1.*, 4.*;
 *                                parsing biaffine_arcs.weight, biaffine_rels.weight)
 * A language adapter's trained MLM head is under its HF names in the stream
 * ("cls.predictions.*" / "lm_head.*", taskmodel.h) and, in a folder, the
 * library's masked_lm head: heads.{NAME}.0.* transform dense, .2.* its
 * LayerNorm, .3.bias decoder bias, .3.weight an untied decoder weight (a
 * tied one is the base's word embeddings and is not written).
 *
 * Stream HEAD (besides tstream.h's keys): "config" (the base model's
 * config.json), "adapter": {"name", "task", "reduction", "architecture":
 * "pfeiffer", "model_type"}, "labels": [label names in id order] (the label
 * vocabulary of the head; checked against labels.h on load), plus whatever
 * EXTRA the writer adds (training settings, data, validation score).
 *
 * AdapterHub folder (adapters' save_adapter / load_adapter file names):
 *   adapter_config.json     {"config": {SeqBn "pfeiffer" settings,
 *                            reduction_factor, inv_adapter ("nice" for
 *                            pfeiffer+inv, else null),
 *                            inv_adapter_reduction_factor (2 / null)},
 *                            "hidden_size", "model_class", "model_name",
 *                            "model_type", "name", "version"}
 *   adapter.safetensors     the adapter tensors (names as above)
 *   head_config.json        {"config": {"head_type", "num_labels", "layers",
 *                            "activation_function", "label2id"...}, ...};
 *                            a language adapter: head_type "masked_lm",
 *                            vocab_size, layers 2, layer_norm, bias
 *   model_head.safetensors  the head tensors
 * Reading a folder gives the same tensor set, under the same names, as
 * reading the stream of the same adapter.
 * Import refuses adapter configs xf does not compute (other than Pfeiffer:
 * ReLU, original_ln_before/after, residual_before_ln, output adapter only,
 * no own LayerNorms, no gating, scaling 1; invertible adapters other than
 * NICE with reduction 2; masked_lm heads other than the BERT-style one) and
 * folders whose config and tensors disagree on the invertible adapter.
 */
#ifndef XF_ADAPTER_IO_H
#define XF_ADAPTER_IO_H

#include <jansson.h>

#include "hfmodel.h"
#include "labels.h"
#include "taskmodel.h"

/* An adapter (+ head) read from disk, tensor names re-prefixed for the base
 * it will be used with. */
typedef struct xf_adapter_file {
    xf_tensorset *ts;
    char name[XF_ADAPTER_NAME_MAX];
    xf_task task;          /* XF_TASK_MLM for a language adapter (no head) */
    int reduction;         /* 0: no adapter tensors (head only) */
    int has_head;
    json_t *head;          /* the stream HEAD / a synthesised one for folders (owned) */
} xf_adapter_file;

/* Reads PATH: an AdapterHub folder or an xf tensor stream ("-" = stdin).
 * Names with a "bert." / "roberta." prefix get PREFIX instead. */
xf_adapter_file *xf_adapter_file_load(const char *path, const char *prefix);
void xf_adapter_file_free(xf_adapter_file *f);
/* Gives names with a "bert." / "roberta." prefix PREFIX instead, and makes
 * every tensor f32. */
void xf_adapter_reprefix(xf_tensorset *s, const char *prefix);

/* Builds the task adapter + head of M from F (M's task must match) and fills
 * M's parameter list. */
void xf_tm_load_task(xf_taskmodel *m, const xf_adapter_file *f, const char *src);

/* M's trainable part (task adapter + head) as a tensor set, names as above. */
xf_tensorset *xf_tm_to_tset(const xf_taskmodel *m);
/* Writes M's task adapter + head as a tensor stream (kind "adapter"). */
void xf_tm_save_stream(const char *path, const xf_taskmodel *m, const xf_config *cfg,
                       long long seed, json_t *extra);
/* Writes M's task adapter + head as an AdapterHub folder DIR (atomic: built
 * beside DIR and renamed; DIR must not exist or be empty). */
void xf_tm_save_hub(const char *dir, const xf_taskmodel *m, const xf_config *cfg);

#endif
