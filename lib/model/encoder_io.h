/* encoder_io.h — encoders to and from models (hfmodel.h): config.json →
 * shape, HF-named tensor sets ↔ the parameter arena (query/key/value fused
 * into one [3C,C] QKV tensor on import, split again on export), loading from
 * HF folders / tensor streams, saving as tensor streams or HF folders.
 */
#ifndef XF_ENCODER_IO_H
#define XF_ENCODER_IO_H

#include "encoder.h"
#include "hfmodel.h"

/* The encoder shape of CFG; dies on what the encoder does not implement
 * (hidden_act other than "gelu", unknown model_type). */
xf_enc_dims xf_encoder_dims_from_config(const xf_config *cfg, const char *fname);

/* An encoder holding the weights of TS (canonical names, see hfmodel.h).
 * Dies "SRC: tensor NAME: ..." on a missing or misshapen tensor.  A missing
 * pooler or MLM head is initialised as HF would (random, N(0, init_range);
 * LN 1/0) with a warning; a missing pooler is then not exported. */
xf_encoder *xf_encoder_from_tset(const xf_config *cfg, const xf_tensorset *ts, const char *src);
/* The same, freeing each tensor's data once copied (names, shapes and the
 * stream HEAD stay): loading then holds the model about once, not twice. */
xf_encoder *xf_encoder_from_tset_consume(const xf_config *cfg, xf_tensorset *ts, const char *src);
/* xf_model_load + xf_encoder_from_tset_consume. */
xf_encoder *xf_encoder_load(const char *path, xf_config *cfg);

/* Adds the tensors of ARENA (laid out as E's parameters: the weights, their
 * gradients or an AdamW moment) to TS under PREFIX + HF name, QKV split. */
void xf_encoder_export(const xf_encoder *e, const float *arena, xf_tensorset *ts,
                       const char *prefix);
/* The reverse: fills ARENA from TS's tensors named PREFIX + HF name. */
void xf_encoder_import(const xf_encoder *e, float *arena, const xf_tensorset *ts,
                       const char *prefix, const char *src);
/* The model as a tensor set (weights only). */
xf_tensorset *xf_encoder_to_tset(const xf_encoder *e);

#endif
