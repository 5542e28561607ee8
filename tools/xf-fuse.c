/* xf-fuse — AdapterFusion of language adapters: build (untrained) or train
 * the fusion layer, write it with its language adapters as one stream. */
#include "adapter_io.h"
#include "cli.h"
#include "encoder_io.h"
#include "examples.h"
#include "fusion_io.h"
#include "hfmodel.h"
#include "taskmodel.h"
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
    "                         (repeatable); needs --model and --adapter\n"
    "  -m, --model MODEL      base model (HF folder or tensor stream), for --train\n"
    "  -a, --adapter TASK     task adapter + head trained on the fused adapters' base\n"
    "      --batch N / --lr F / --epochs N / --max-steps N / --seq N\n"
    "                         training settings (task defaults of xf-adapt, lr 5e-5)\n"
    "      --threads N        threads (default: all cores); results do not depend on it\n"
    "  -o, --output FILE      fusion stream ('-' = stdout, the default unless --hub-out)\n"
    "      --hub-out DIR      (also) write an AdapterHub fusion folder\n"
    "  -q, --quiet / -v, --verbose / -h, --help / --version\n";

enum { O_SEED = 0x100, O_TRAIN, O_BATCH, O_LR, O_EPOCHS, O_MAXSTEPS, O_SEQ, O_THREADS, O_HUB };

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
        {0, 0, 0, 0}};
    const char *out = NULL, *hub = NULL, *model = NULL, *adapter = NULL, *threads = NULL;
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
        default: die_usage("unknown option (see --help)");
        }
    }
    int nad = argc - optind;
    if (nad < 1) die_usage("no language adapter given");
    if (nad > XF_FUSION_MAX) die_usage("at most %d adapters", XF_FUSION_MAX);
    if (ntrain && (!model || !adapter)) die_usage("--train needs --model and --adapter");
    if (!ntrain && (model || adapter || batch || epochs || maxsteps || seq || lr > 0))
        die_usage("--model, --adapter and the training settings belong to --train");
    if (lr < 0) die_usage("--lr must be >= 0");
    int nstdin = (model && !strcmp(model, "-")) + (adapter && !strcmp(adapter, "-"));
    for (int i = 0; i < ntrain; i++) nstdin += !strcmp(train[i], "-");
    for (int i = optind; i < argc; i++) nstdin += !strcmp(argv[i], "-");
    if (nstdin > 1) die_usage("stdin ('-') can be used only once");
    not_an_input(out, argv + optind, nad);
    not_an_input(out, train, ntrain);
    xf_cli_threads(threads);

    xf_fusion_file *f = xf_fusion_build(argv + optind, nad, (uint64_t)seed);
    json_t *extra = NULL;
    if (ntrain) {
        xf_config cfg;
        xf_encoder *enc = xf_encoder_load(model, &cfg);
        const char *prefix = xf_model_prefix(&cfg);
        xf_adapter_file *af = xf_adapter_file_load(adapter, prefix);
        if (af->task == XF_TASK_MLM) die("%s: a language adapter, not a task adapter", adapter);
        xf_adapter_reprefix(f->ts, prefix);
        xf_taskmodel *m = xf_tm_new(enc, prefix, af->task);
        xf_tm_load_fusion(m, f, argv[optind], 1);
        xf_tm_load_task(m, af, adapter);
        xf_train_opts o = xf_train_defaults(af->task);
        o.lr = 5e-5f;
        if (batch) o.batch = (int)batch;
        if (lr > 0) o.lr = (float)lr;
        if (epochs) o.epochs = (int)epochs;
        if (seq) o.seq = (int)seq;
        o.max_steps = maxsteps;
        o.seed = (uint64_t)seed;
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
        xf_train_result r = xf_train_adapter(m, ex, n, NULL, 0, &o);
        xf_info(1, "%ld steps, loss %.4f -> %.4f, %.0f tokens/s", r.steps, r.first_loss,
                r.last_loss, r.tokens / (r.seconds > 0 ? r.seconds : 1));
        xf_fusion_file_update(f, m);
        json_t *tr = json_pack("{s:s, s:s, s:s, s:i, s:f, s:i, s:i, s:I, s:I, s:f, s:f}", "base",
                               model, "task_adapter", af->name, "task", xf_task_name(af->task),
                               "batch", o.batch, "lr", (double)o.lr, "epochs", o.epochs, "seq",
                               o.seq, "steps", (json_int_t)r.steps, "examples", (json_int_t)n,
                               "first_loss", r.first_loss, "last_loss", r.last_loss);
        json_t *data = json_array();
        for (int i = 0; i < ntrain; i++) json_array_append_new(data, json_string(train[i]));
        json_object_set_new(tr, "data", data);
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
    xf_fusion_file_free(f);
    free(train);
    return 0;
}
