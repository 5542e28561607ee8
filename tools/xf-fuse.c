/* xf-fuse — AdapterFusion of language adapters: build (untrained) or train
 * the fusion layer, write it with its language adapters as one stream. */
#include "adapter_io.h"
#include "cli.h"
#include "encoder_io.h"
#include "examples.h"
#include "fusion_io.h"
#include "hfmodel.h"
#include "mlm.h"
#include "provenance.h"
#include "taskmodel.h"
#include "tokenizer.h"
#include "train_adapter.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char USAGE[] =
    "Usage: xf-fuse [OPTION]... ADAPTER...\n"
    "Combines language adapters (xf-adapt --task mlm streams or AdapterHub folders)\n"
    "by AdapterFusion (adapter-transformers 3.1's \"dynamic\" fusion), in the order\n"
    "given, and writes one tensor stream with the fusion layer and the adapters.\n"
    "Untrained by default: Q and K drawn from --seed, V the identity.\n"
    "      --seed N           fusion init, data order, dropout (1); same seed => same bytes\n"
    "      --train EXAMPLES   train the fusion only (everything else frozen, plus\n"
    "                         0.01*|I - V|^2 per layer) on a task example stream\n"
    "                         (repeatable; needs --adapter) or on one mlm stream\n"
    "                         (masked LM with the base's head); needs --model\n"
    "  -m, --model MODEL      base model (HF folder or tensor stream), for --train\n"
    "  -a, --adapter TASK     task adapter + head trained on the fused adapters' base\n"
    "      --tokenizer PATH   mlm: vocabulary (default: the model folder)\n"
    "      --mlm-probability F  mlm: share of tokens masked (0.15)\n"
    "      --batch N / --lr F / --epochs N / --max-steps N / --seq N\n"
    "                         training settings (task defaults of xf-adapt, lr 5e-5)\n"
    "      --threads N        threads (default: all cores); results do not depend on it\n"
    "  -o, --output FILE      fusion stream ('-' = stdout, the default unless --hub-out)\n"
    "      --hub-out DIR      (also) write an AdapterHub fusion folder\n"
    "  -q, --quiet / -v, --verbose / -h, --help / --version\n";

enum { O_SEED = 0x100, O_TRAIN, O_BATCH, O_LR, O_EPOCHS, O_MAXSTEPS, O_SEQ, O_THREADS, O_HUB,
       O_TOK, O_MLMP };

static void not_an_input(const char *out, char **in, int n)
{
    struct stat so, si;
    if (!out || !strcmp(out, "-") || stat(out, &so) != 0) return;
    for (int i = 0; i < n; i++)
        if (strcmp(in[i], "-") && stat(in[i], &si) == 0 && si.st_dev == so.st_dev &&
            si.st_ino == so.st_ino)
            die("%s: the output would overwrite an input", out);
}

int main(int argc, char **argv)
{
    xf_init(argc, argv);
    static const struct option longopts[] = {
        XF_COMMON_LONGOPTS,
        {"seed", required_argument, 0, O_SEED}, {"train", required_argument, 0, O_TRAIN},
        {"model", required_argument, 0, 'm'}, {"adapter", required_argument, 0, 'a'},
        {"batch", required_argument, 0, O_BATCH}, {"lr", required_argument, 0, O_LR},
        {"epochs", required_argument, 0, O_EPOCHS}, {"max-steps", required_argument, 0, O_MAXSTEPS},
        {"seq", required_argument, 0, O_SEQ}, {"threads", required_argument, 0, O_THREADS},
        {"output", required_argument, 0, 'o'}, {"hub-out", required_argument, 0, O_HUB},
        {"tokenizer", required_argument, 0, O_TOK},
        {"mlm-probability", required_argument, 0, O_MLMP}, {0, 0, 0, 0}};
    const char *out = NULL, *hub = NULL, *model = NULL, *adapter = NULL, *threads = NULL;
    const char *tok_path = NULL;
    double mlm_prob = 0.15;
    char **train = xcalloc((size_t)argc, sizeof *train);
    int ntrain = 0;
    long seed = 1, batch = 0, epochs = 0, maxsteps = 0, seq = 0;
    double lr = 0;
    int c;
    while ((c = getopt_long(argc, argv, XF_COMMON_SHORTOPTS "m:a:o:", longopts, 0)) != -1) {
        if (xf_cli_common(c, USAGE)) continue;
        switch (c) {
        case O_SEED: seed = xf_parse_long("--seed", optarg, 0, 1L << 62); break;
        case O_TRAIN: train[ntrain++] = optarg; break;
        case 'm': model = optarg; break;
        case 'a': adapter = optarg; break;
        case O_BATCH: batch = xf_parse_long("--batch", optarg, 1, 1 << 20); break;
        case O_LR: lr = xf_parse_double("--lr", optarg); break;
        case O_EPOCHS: epochs = xf_parse_long("--epochs", optarg, 1, 1 << 20); break;
        case O_MAXSTEPS: maxsteps = xf_parse_long("--max-steps", optarg, 1, 1L << 40); break;
        case O_SEQ: seq = xf_parse_long("--seq", optarg, 2, 1 << 20); break;
        case O_THREADS: threads = optarg; break;
        case 'o': out = optarg; break;
        case O_HUB: hub = optarg; break;
        case O_TOK: tok_path = optarg; break;
        case O_MLMP: mlm_prob = xf_parse_double("--mlm-probability", optarg); break;
        default: die_usage("unknown option (see --help)");
        }
    }
    int nad = argc - optind;
    if (nad < 1) die_usage("no language adapter given");
    if (nad > XF_FUSION_MAX) die_usage("at most %d adapters", XF_FUSION_MAX);
    if (ntrain && !model) die_usage("--train needs --model");
    if (!ntrain && (model || adapter || batch || epochs || maxsteps || seq || lr > 0 || tok_path))
        die_usage("--model, --adapter and the training settings belong to --train");
    if (!(mlm_prob > 0 && mlm_prob < 1)) die_usage("--mlm-probability must be in (0, 1)");
    if (lr < 0) die_usage("--lr must be >= 0");
    int nstdin = (model && !strcmp(model, "-")) + (adapter && !strcmp(adapter, "-"));
    for (int i = 0; i < ntrain; i++) nstdin += !strcmp(train[i], "-");
    for (int i = optind; i < argc; i++) nstdin += !strcmp(argv[i], "-");
    if (nstdin > 1) die_usage("stdin ('-') can be used only once");
    not_an_input(out, argv + optind, nad);
    not_an_input(out, train, ntrain);
    xf_cli_threads(threads);

    xf_fusion_file *f = xf_fusion_build(argv + optind, nad, (uint64_t)seed);
    /* provenance (xf-stream(5)): setting lang, adapters = the fused adapters'
     * languages in fusion order, model = the base the adapters record */
    json_t *extra = json_object();
    {
        xf_adapter_file stub[XF_FUSION_MAX];
        const xf_adapter_file *sp[XF_FUSION_MAX];
        xf_prov base;
        xf_prov_init(&base);
        memset(stub, 0, sizeof stub);
        for (int k = 0; k < f->n; k++) {
            stub[k].head = f->src_head[k];
            snprintf(stub[k].name, sizeof stub[k].name, "%s", f->lang[k]);
            sp[k] = &stub[k];
            xf_prov p;
            xf_prov_read(&p, f->src_head[k], argv[optind + k]);
            if (!base.model && p.model) base.model = xstrdup(p.model);
            xf_prov_free(&p);
        }
        xf_prov_put_fusion(extra, &base, sp, f->n);
        xf_prov_free(&base);
    }
    if (ntrain) {
        xf_config cfg;
        xf_encoder *enc = xf_encoder_load(model, &cfg);
        const char *prefix = xf_model_prefix(&cfg);
        size_t vocab = (size_t)xf_encoder_dims(enc)->vocab, n = 0;
        xf_example *ex = NULL;
        for (int i = 0; i < ntrain; i++) {
            size_t k;
            xf_example *v = xf_ex_read_all_vocab(train[i], vocab, &k);
            ex = xrealloc(ex, sizeof *ex * (n + k + 1));
            memcpy(ex + n, v, sizeof *v * k);
            free(v);
            n += k;
        }
        if (!n) die("%s: no training examples", train[0]);
        int mlm = ex[0].task == XF_TASK_MLM;
        for (size_t i = 0; i < n; i++)
            if ((ex[i].task == XF_TASK_MLM) != mlm)
                die("%s: mlm and task examples mixed in --train", ex[i].id);
        xf_adapter_file *af = NULL;
        if (!mlm) {
            if (!adapter) die_usage("--train on task examples needs --adapter");
            af = xf_adapter_file_load(adapter, prefix);
            if (af->task == XF_TASK_MLM) die("%s: a language adapter, not a task adapter", adapter);
        } else if (adapter || ntrain > 1) {
            die_usage("--train on mlm examples takes one stream and no --adapter");
        }
        xf_adapter_reprefix(f->ts, prefix);
        xf_taskmodel *m = xf_tm_new(enc, prefix, mlm ? XF_TASK_MLM : af->task);
        xf_tm_load_fusion(m, f, argv[optind], 1);
        xf_train_opts o = xf_train_defaults(mlm ? XF_TASK_MLM : af->task);
        o.lr = 5e-5f;
        if (batch) o.batch = (int)batch;
        if (lr > 0) o.lr = (float)lr;
        if (epochs) o.epochs = (int)epochs;
        if (seq) o.seq = (int)seq;
        o.max_steps = maxsteps;
        o.seed = (uint64_t)seed;
        xf_train_result r;
        if (mlm) {
            struct stat st;
            if (!tok_path && stat(model, &st) == 0 && S_ISDIR(st.st_mode)) tok_path = model;
            if (!tok_path) die_usage("--train on mlm examples needs --tokenizer (the model is not a folder)");
            xf_tokenizer *tk = xf_tok_load(tok_path);
            if ((size_t)xf_tok_vocab_size(tk) != vocab)
                die("%s: the tokenizer has %zu pieces, the model's vocab_size is %zu", tok_path,
                    xf_tok_vocab_size(tk), vocab);
            xf_tok_special sp = xf_tok_specials(tk);
            xf_mlm_data data;
            xf_mlm_data_read(&data, train[0], (int)vocab, o.seq);
            int32_t specials[] = {sp.cls, sp.sep, sp.pad, sp.mask, sp.unk};
            xf_mlm_data_set_specials(&data, specials, 5, sp.mask);
            xf_tok_free(tk);
            r = xf_train_lang_adapter(m, &data, &o, (float)mlm_prob);
            xf_mlm_data_free(&data);
        } else {
            xf_tm_load_task(m, af, adapter);
            r = xf_train_adapter(m, ex, n, NULL, 0, &o);
        }
        xf_info(1, "%ld steps, loss %.4f -> %.4f, %.0f tokens/s", r.steps, r.first_loss,
                r.last_loss, r.tokens / (r.seconds > 0 ? r.seconds : 1));
        xf_fusion_file_update(f, m);
        json_t *tr = json_pack("{s:s, s:s, s:s, s:i, s:f, s:i, s:i, s:I, s:I, s:f, s:f}", "base",
                               model, "task_adapter", af ? af->name : "-", "task",
                               mlm ? "mlm" : xf_task_name(af->task), "batch", o.batch, "lr",
                               (double)o.lr, "epochs", o.epochs, "seq", o.seq, "steps",
                               (json_int_t)r.steps, "examples", (json_int_t)n, "first_loss",
                               r.first_loss, "last_loss", r.last_loss);
        json_t *data = json_array();
        for (int i = 0; i < ntrain; i++) json_array_append_new(data, json_string(train[i]));
        json_object_set_new(tr, "data", data);
        if (mlm) json_object_set_new(tr, "mlm_probability", json_real(mlm_prob));
        json_object_set_new(f->head, "trained", tr);
        if (!f->config) f->config = json_incref(cfg.json);
        for (size_t i = 0; i < n; i++) xf_ex_free(&ex[i]);
        free(ex);
        xf_adapter_file_free(af);
        xf_tm_free(m);
        xf_config_free(&cfg);
    }
    if (hub) xf_fusion_hub_write(f, hub);
    if (out || !hub) xf_fusion_file_write(f, out ? out : "-", seed, extra);
    json_decref(extra);
    xf_fusion_file_free(f);
    free(train);
    return 0;
}
