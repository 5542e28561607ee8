/* hfmodel.h — BERT / XLM-R models: config.json, HF folders, tensor streams.
 *
 * A model is an xf_config plus an xf_tensorset whose names are the canonical
 * Hugging Face *ForMaskedLM names:
 *   bert.embeddings.word_embeddings.weight, bert.encoder.layer.0. ...   (bert)
 *   roberta.embeddings.word_embeddings.weight, ...          (xlm-roberta, roberta)
 *   cls.predictions.transform.dense.weight, cls.predictions.bias, ...  (BERT MLM head)
 *   lm_head.dense.weight, lm_head.layer_norm.weight, lm_head.bias, ... (RoBERTa MLM head)
 * Loading maps older spellings onto these (see xf-stream(5)): bare
 * base-model names get the "bert." / "roberta." prefix, LayerNorm
 * gamma/beta become weight/bias, a decoder bias duplicating the head bias
 * is dropped.  The MLM decoder weight is tied to the word embeddings, as
 * in HF, whenever the config's tie_word_embeddings is true (the default):
 * a stored decoder weight is then dropped (with a warning if it differs
 * from the embeddings) and never materialised; only tie_word_embeddings
 * false keeps it (and then requires it); see xf_model_decoder_tied().
 * Float tensors are converted to f32; integer tensors are kept as stored.
 */
#ifndef XF_HFMODEL_H
#define XF_HFMODEL_H

#include <jansson.h>
#include "tstream.h"

typedef struct xf_config {
    char model_type[32];          /* "bert" | "xlm-roberta" | "roberta" */
    int vocab_size;
    int hidden_size;
    int num_hidden_layers;
    int num_attention_heads;
    int intermediate_size;
    int max_position_embeddings;
    int type_vocab_size;
    int pad_token_id;
    double layer_norm_eps;
    double hidden_dropout_prob;
    double attention_probs_dropout_prob;
    double initializer_range;
    char hidden_act[32];          /* "gelu", "gelu_new", "gelu_python", "gelu_pytorch_tanh", "relu" */
    json_t *json;                 /* the whole config object (owned reference) */
} xf_config;

/* Bounds on config sizes, far above any BERT / XLM-R (checked before
 * anything is allocated from them), and on the parameter count they imply
 * (computed in size_t with overflow checks). */
#define XF_CFG_MAX_VOCAB (1 << 24)
#define XF_CFG_MAX_HIDDEN (1 << 16)
#define XF_CFG_MAX_LAYERS 1024
#define XF_CFG_MAX_INTER (1 << 18)
#define XF_CFG_MAX_POS (1 << 20)
#define XF_CFG_MAX_TYPES (1 << 16)
#define XF_CFG_MAX_PARAMS (1ull << 36)

/* Fills CFG from a config.json object (keeps a reference to JSON).  Missing
 * size keys (vocab_size, hidden_size, num_hidden_layers, num_attention_heads,
 * intermediate_size, max_position_embeddings) are errors; the others take
 * the HF defaults.  Sizes lie within the XF_CFG_MAX_* bounds.  Dies
 * "FNAME: key 'K': what is wrong"; returns 0. */
int xf_config_from_json(xf_config *cfg, json_t *json, const char *fname);
/* Reads and validates a config.json file. */
void xf_config_read(xf_config *cfg, const char *path);
/* A new config.json object: CFG's json with the struct fields written back
 * (or a fresh object with "architectures" and "model_type" if it has none). */
json_t *xf_config_to_json(const xf_config *cfg);
void xf_config_free(xf_config *cfg);

/* "bert." or "roberta.": the prefix of the base-model tensor names. */
const char *xf_model_prefix(const xf_config *cfg);
/* The MLM decoder weight name: "cls.predictions.decoder.weight" or
 * "lm_head.decoder.weight". */
const char *xf_model_decoder_name(const xf_config *cfg);
/* 1 if the decoder weight is absent from a canonicalised set, i.e. tied to
 * the word embeddings. */
int xf_model_decoder_tied(const xf_tensorset *s, const xf_config *cfg);

/* Loads a model.  PATH is an HF folder (config.json + model.safetensors, or
 * shards listed in model.safetensors.index.json "weight_map"), a tensor-
 * stream file, or "-" (a tensor stream on stdin); a stream's HEAD must carry
 * "config".  CFG is filled (free with xf_config_free).  The returned set's
 * head is the stream's HEAD, or NULL for a folder. */
xf_tensorset *xf_model_load(const char *path, xf_config *cfg);
/* Applies the name mapping and f32 conversion of xf_model_load to a set
 * loaded some other way. */
void xf_model_canonicalize(xf_tensorset *s, const xf_config *cfg, const char *fname);
/* Makes the tensors t[FIRST..] of S f32 (from f16 / bf16) and dies, naming
 * FNAME and the tensor, if one holds a NaN or an infinite value: what every
 * loader of weights (base model, adapters, heads, fusions) checks. */
void xf_tset_check_finite(xf_tensorset *s, size_t first, const char *fname);

/* Writes a model as a tensor stream: HEAD gets "config" (xf_config_to_json)
 * plus EXTRA's keys; KIND is usually "model". */
void xf_model_save_stream(const char *path, const xf_config *cfg, const xf_tensorset *s,
                          const char *kind, long long seed, json_t *extra);
/* Writes an HF folder DIR: config.json, model.safetensors (metadata
 * format=pt) and the tokenizer files copied from TOKENIZER_SOURCE (a folder:
 * vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
 * whichever exist; or one vocab.txt / tokenizer.json file; NULL: none).
 * Atomic: built in a temp dir beside DIR, then renamed; DIR may exist only
 * if empty.  Removed on error and on SIGINT/SIGTERM/SIGHUP. */
void xf_model_save_hf(const char *dir, const xf_config *cfg, const xf_tensorset *s,
                      const char *tokenizer_source);

#endif
