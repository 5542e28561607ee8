/* provenance.h — what a tensor stream says about how its weights came to be,
 * so that xf-eval labels its rows without flags (issue 15).
 *
 * Stream HEAD key "provenance" (xf-stream(5)): a JSON object whose keys are
 * named after the eval-row columns they determine (xf-tsv(5)); every key is
 * optional, unknown keys are ignored:
 *   "model"     string   the base model's name (xf_prov_model_name), carried
 *                        unchanged through every later stream made from it
 *   "setting"   string   "base" | "mlm" | "lang": what the stream is, as the
 *                        eval row's setting
 *   "transfer"  string   mlm: the languages of the training examples (their
 *                        `lang` column), distinct, sorted (strcmp), '+'-joined
 *   "steps"     integer  mlm: optimizer steps done
 *   "run"       integer  mlm: the seed (--seed)
 *   "adapters"  string   lang: the languages the stream stands for in the
 *                        adapters column, '+'-joined in fusion order: a
 *                        language adapter's language, a fusion's adapters
 *   "lang"      string   language adapter: its language
 *   "name"      string   language adapter: its name (the tensor names' NAME)
 *   "from"      object   the "provenance" of the model stream this one was
 *                        made from, when that had one (a finetuned model
 *                        finetuned again keeps its history)
 * Strings are non-empty and hold no white space; the list keys are
 * '+'-joined non-empty parts.  Writers: xf-mlmstep (setting mlm; setting
 * base for --init), xf-adapt (model; language adapters: setting lang,
 * adapters, lang, name), xf-fuse (setting lang, adapters = the fused
 * adapters' languages).  Reader: xf-eval (xf_prov_labels).
 */
#ifndef XF_PROVENANCE_H
#define XF_PROVENANCE_H

#include <jansson.h>

#include "encoder.h"
#include "evalrow.h"
#include "hfmodel.h"

typedef struct xf_prov {
    char *model;          /* NULL: not recorded */
    int model_guessed;    /* 1: MODEL was derived (config, path), not recorded */
    int setting;          /* xf_setting, or -1: not recorded */
    char *transfer;       /* NULL: not recorded */
    long steps, run;      /* -1: not recorded */
    char *adapters, *lang, *name;
    json_t *from;         /* owned, or NULL */
} xf_prov;

void xf_prov_init(xf_prov *p);
void xf_prov_free(xf_prov *p);
/* Fills P from HEAD's "provenance" (HEAD may be NULL).  Returns 1 if it
 * had one, 0 if not (P then all unknown).  Dies "SRC: HEAD provenance: key
 * 'K': ..." on a key of the wrong type or form. */
int xf_prov_read(xf_prov *p, const json_t *head, const char *src);
/* P as the JSON object written under "provenance" (new reference); unknown
 * fields are left out. */
json_t *xf_prov_to_json(const xf_prov *p);
/* Sets EXTRA["provenance"] (EXTRA: the HEAD keys a writer adds). */
void xf_prov_put(json_t *extra, const xf_prov *p);

/* An HF folder has no HEAD: xf writes the same object into its config.json
 * under this key (HF keeps unknown config keys), and reads it from a folder
 * whose stream has none. */
#define XF_PROV_CONFIG_KEY "xf_provenance"
/* Sets CFG's config.json key XF_PROV_CONFIG_KEY to P (before
 * xf_model_save_hf). */
void xf_prov_to_config(xf_config *cfg, const xf_prov *p);

/* The name of the base model loaded from PATH with config CFG and stream
 * provenance REC (may be NULL), in this order of preference:
 *   1. the config's "_name_or_path" or "name_or_path" (non-empty);
 *   2. REC->model, the name recorded when the stream was made (so a
 *      finetuned model saved as ft.xfts, or piped, keeps its base's name);
 *   3. PATH: the folder or file name, without trailing '/' and without
 *      anything from its first '.' on;
 *   4. "model" (a stream on stdin that records nothing).
 * From a name or path only the last '/'-component counts, and white space
 * becomes '_' (eval-row fields hold none).  Caller frees. */
char *xf_prov_model_name(const char *path, const xf_config *cfg, const xf_prov *rec);

/* xf_model_load that also fills P from the stream's HEAD (for a folder:
 * from its config.json's XF_PROV_CONFIG_KEY; all unknown if absent), drops
 * that key from CFG, and sets P->model by xf_prov_model_name
 * (P->model_guessed = 1 if it was not recorded). */
xf_tensorset *xf_prov_model_load(const char *path, xf_config *cfg, xf_prov *p);
/* xf_encoder_load with P filled as above. */
xf_encoder *xf_prov_encoder_load(const char *path, xf_config *cfg, xf_prov *p);

/* Sorted, distinct, '+'-joined LANGS[0..n) (NULL entries skipped); caller frees. */
char *xf_prov_join_langs(const char *const *langs, size_t n);

/* OUT := the provenance of a model finetuned with masked LM from a model of
 * provenance BASE (its model name kept; BASE itself under "from" if it was
 * not a base) on examples of languages LANGS ('+'-joined), STEPS steps,
 * seed SEED.  RESUMED: BASE is a checkpoint of this same run (xf-mlmstep
 * --resume): its "from" and, for a run from --init, its setting base are
 * kept. */
void xf_prov_mlm(xf_prov *out, const xf_prov *base, const char *langs, long steps, long seed,
                 int resumed);
/* OUT := a model made from scratch (xf-mlmstep --init): setting base. */
void xf_prov_new_base(xf_prov *out);
/* OUT := a language adapter for LANG named NAME, trained on BASE. */
void xf_prov_lang_adapter(xf_prov *out, const xf_prov *base, const char *lang, const char *name);
/* OUT := the fusion of N language adapters of provenances AD[0..n) (in
 * fusion order), each standing for its "adapters", else its "lang", else
 * NAMES[k] (NAMES may be NULL), on BASE: setting lang, adapters joined. */
void xf_prov_fusion(xf_prov *out, const xf_prov *base, const xf_prov *const *ad,
                    const char *const *names, int n);

/* For xf-fuse, one call: EXTRA["provenance"] := the fusion (xf_prov_fusion)
 * of the language adapters FILES[0..n) in fusion order (each by its HEAD's
 * provenance, else its name) on a base of provenance BASE (NULL: unknown). */
struct xf_adapter_file;
void xf_prov_put_fusion(json_t *extra, const xf_prov *base,
                        const struct xf_adapter_file *const *files, int n);

/* ---- eval-row labels (xf-eval) ---- */
typedef struct xf_label_flags {
    const char *model;       /* --model-name, or NULL */
    int setting;             /* --setting (xf_setting), or -1 */
    const char *transfer;    /* --transfer, or NULL */
    long steps, run;         /* --steps, --run, or -1 */
} xf_label_flags;

typedef struct xf_labels {
    char *model;
    xf_setting setting;
    char *transfer;          /* "-" unless mlm */
    long steps, run;         /* 0 unless mlm */
    char *adapters;          /* "-" unless lang */
} xf_labels;

/* The label columns of an evaluation of the model of provenance MODEL
 * (from xf_prov_model_load) under N language-side streams AD[0..n) (language
 * adapters, or one fusion), NAMES[k] the adapter names used when AD[k]
 * records no language.  A flag wins over the provenance; a flag that
 * contradicts a recorded value is a warning.  The setting is the flag, else
 * lang with adapters, else the model's recorded setting, else base; mlm
 * takes transfer, steps and run from the flags, else from the model's
 * provenance (steps, run: else 0).  Usage errors (die_usage): lang without
 * adapters, adapters without lang, mlm without any transfer language,
 * --transfer/--steps/--run outside mlm. */
void xf_prov_labels(xf_labels *out, const xf_label_flags *flags, const xf_prov *model,
                    const xf_prov *const *ad, const char *const *names, int n);
void xf_labels_free(xf_labels *l);

#endif
