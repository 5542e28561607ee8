/* fmt-tool — a small driver of lib/zio, tsv and tstream for the CLI tests
 * (tests/cli/formats*.sh); not installed.
 *
 *   fmt-tool make OUT N SIZE        stream of N f32 tensors of SIZE values
 *   fmt-tool copy IN OUT [DELAY_MS] copy a stream, pausing between tensors
 *   fmt-tool poke IN OUT NAME I V   copy a stream, element I of f32 tensor NAME
 *                                   set to V (a strtof number: nan, inf too)
 *   fmt-tool dump IN                kind, then "name dtype shape checksum" lines
 *   fmt-tool tsv IN OUT             copy a TSV table field by field
 *   fmt-tool model PATH             load a model (folder or stream), list names
 *   fmt-tool tiny OUT               a tiny BERT model stream (bare names, tied)
 *   fmt-tool hf PATH DIR            load a model, write it as an HF folder
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hfmodel.h"
#include "tstream.h"
#include "tsv.h"
#include "util.h"
#include "zio.h"

static uint64_t fnv(const void *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ ((const unsigned char *)p)[i]) * 1099511628211ull;
    return h;
}

static void print_tensor(const xf_tensor *t)
{
    printf("%s %s [", t->name, xf_dtype_name(t->dtype));
    for (int d = 0; d < t->ndim; d++) printf("%s%lld", d ? "," : "", (long long)t->shape[d]);
    printf("] %016llx\n", (unsigned long long)fnv(t->data, t->nbytes));
}

int main(int argc, char **argv)
{
    xf_init(argc, argv);
    if (argc < 3) die_usage("usage: fmt-tool make|copy|poke|dump|tsv|model|tiny|hf ARGS");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "make") && argc == 5) {
        long n = xf_parse_long("N", argv[3], 0, 100000), size = xf_parse_long("SIZE", argv[4], 0, 1L << 28);
        xf_tswriter *w = xf_ts_create(argv[2], "model", 1, NULL);
        float *v = xmalloc_aligned((size_t)size * 4 + 4);
        for (long i = 0; i < n; i++) {
            for (long j = 0; j < size; j++) v[j] = (float)(i * 1000 + j) * 0.5f;
            char name[64];
            snprintf(name, sizeof name, "layer.%ld.weight", i);
            int64_t shape[1] = {size};
            xf_ts_write(w, name, XF_F32, 1, shape, v);
        }
        free(v);
        xf_ts_commit(w);
    } else if (!strcmp(cmd, "copy") && (argc == 4 || argc == 5)) {
        long delay = argc == 5 ? xf_parse_long("DELAY_MS", argv[4], 0, 100000) : 0;
        xf_tsreader *r = xf_ts_open(argv[2]);
        xf_tswriter *w = xf_ts_create(argv[3], xf_ts_kind(r), 1, xf_ts_head(r));
        xf_tensor t;
        while (xf_ts_next(r, &t)) {
            xf_ts_write_tensor(w, &t);
            xf_tensor_free(&t);
            if (delay) nanosleep(&(struct timespec){delay / 1000, (delay % 1000) * 1000000}, NULL);
        }
        xf_ts_close(r);
        xf_ts_commit(w);
    } else if (!strcmp(cmd, "poke") && argc == 7) {
        long at = xf_parse_long("I", argv[5], 0, 1L << 40);
        char *end;
        float v = strtof(argv[6], &end);
        if (!*argv[6] || *end) die_usage("poke: V: '%s' is not a number", argv[6]);
        xf_tsreader *r = xf_ts_open(argv[2]);
        xf_tswriter *w = xf_ts_create(argv[3], xf_ts_kind(r), 1, xf_ts_head(r));
        xf_tensor t;
        int found = 0;
        while (xf_ts_next(r, &t)) {
            if (!strcmp(t.name, argv[4])) {
                if (t.dtype != XF_F32 || (size_t)at >= t.nbytes / 4)
                    die("%s: tensor %s: not f32 or fewer than %ld + 1 elements", argv[2], t.name, at);
                ((float *)t.data)[at] = v;
                found = 1;
            }
            xf_ts_write_tensor(w, &t);
            xf_tensor_free(&t);
        }
        if (!found) die("%s: no tensor %s", argv[2], argv[4]);
        xf_ts_close(r);
        xf_ts_commit(w);
    } else if (!strcmp(cmd, "dump") && argc == 3) {
        xf_tsreader *r = xf_ts_open(argv[2]);
        printf("kind %s\n", xf_ts_kind(r));
        xf_tensor t;
        while (xf_ts_next(r, &t)) {
            print_tensor(&t);
            xf_tensor_free(&t);
        }
        xf_ts_close(r);
    } else if (!strcmp(cmd, "tsv") && argc == 4) {
        xf_tsv *in = xf_tsv_open(argv[2]);
        xf_zout *out = xf_zout_open(argv[3], XF_Z_AUTO);
        for (size_t i = 0; i < xf_tsv_ncols(in); i++) xf_tsv_put(out, xf_tsv_colname(in, i));
        xf_tsv_end_row(out);
        while (xf_tsv_next(in)) {
            for (size_t i = 0; i < xf_tsv_ncols(in); i++)
                xf_tsv_putn(out, xf_tsv_field(in, i), xf_tsv_field_len(in, i));
            xf_tsv_end_row(out);
        }
        xf_tsv_close(in);
        xf_zout_commit(out);
    } else if (!strcmp(cmd, "model") && argc == 3) {
        xf_config cfg;
        xf_tensorset *m = xf_model_load(argv[2], &cfg);
        printf("model_type %s tied %d\n", cfg.model_type, xf_model_decoder_tied(m, &cfg));
        for (size_t i = 0; i < m->n; i++) print_tensor(&m->t[i]);
        xf_tset_free(m);
        xf_config_free(&cfg);
    } else if (!strcmp(cmd, "tiny") && argc == 3) {
        json_error_t err;
        json_t *j = json_loads("{\"model_type\":\"bert\",\"vocab_size\":6,\"hidden_size\":4,"
                               "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"intermediate_size\":8,"
                               "\"max_position_embeddings\":8}", 0, &err);
        xf_config cfg;
        xf_config_from_json(&cfg, j, "tiny");
        json_decref(j);
        xf_tensorset *m = xf_tset_new();
        const char *names[] = {"embeddings.word_embeddings.weight", "embeddings.LayerNorm.gamma"};
        for (int k = 0; k < 2; k++) {
            xf_tensor t = {.name = xstrdup(names[k]), .dtype = XF_F32, .ndim = 2 - k,
                           .shape = {k ? 4 : 6, 4}};
            t.nbytes = xf_tensor_numel(&t) * 4;
            t.data = xmalloc_aligned(t.nbytes);
            for (size_t i = 0; i < t.nbytes / 4; i++) ((float *)t.data)[i] = (float)i / 8;
            xf_tset_add(m, &t);
        }
        xf_model_save_stream(argv[2], &cfg, m, "model", -1, NULL);
        xf_tset_free(m);
        xf_config_free(&cfg);
    } else if (!strcmp(cmd, "hf") && argc == 4) {
        xf_config cfg;
        xf_tensorset *m = xf_model_load(argv[2], &cfg);
        xf_model_save_hf(argv[3], &cfg, m, NULL);
        xf_tset_free(m);
        xf_config_free(&cfg);
    } else {
        die_usage("usage: fmt-tool make|copy|poke|dump|tsv|model|tiny|hf ARGS");
    }
    if (fflush(stdout)) die_errno("<stdout>: write error");
    return 0;
}
