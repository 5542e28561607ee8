/* xf-adapt — train a task adapter + head on a frozen base model. */
#include "adapter_io.h"
#include "cli.h"
#include "encoder_io.h"
#include "examples.h"
#include "hfmodel.h"
#include "provenance.h"
#include "taskmodel.h"
#include "tokenizer.h"
#include "train_adapter.h"
#include "util.h"

#include <math.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "Usage: xf-adapt --model MODEL --task TASK [OPTION]... EXAMPLES...\n"
    "Trains a Pfeiffer task adapter and its head on a frozen base model (backprop\n"
    "through the base, no gradients or optimizer state for its weights) from\n"
    "example streams (xf-tokenize); writes adapter + head + labels as a tensor stream.\n"
    "  -m, --model MODEL      HF folder, tensor stream, or '-' (stream on stdin)\n"
    "  -T, --task TASK        pos | dep | ner | nli | qa, or mlm: a language adapter\n"
    "                         (masked LM on one stream of --lang; 3 epochs, lr 5e-4;\n"
    "                         the MLM head's transform, LayerNorm and decoder bias\n"
    "                         train with it, the tied decoder weight does not)\n"
    "      --lang ISO         mlm: the language (the adapter's name)\n"
    "      --tokenizer PATH   mlm: vocabulary (default: the model folder)\n"
    "      --mlm-probability F  mlm: share of tokens masked (0.15)\n"
    "      --inv              mlm: pfeiffer+inv (also an invertible adapter on the\n"
    "                         embeddings, inverted before the MLM head)\n"
    "      --name NAME        adapter and head name (default: the task)\n"
    "      --lang-adapter A   train on top of the frozen language adapter A (Stack(A, task))\n"
    "      --reduction N      bottleneck reduction factor (16)\n"
    "      --batch N          examples per step (pos/ner 36, dep 12, nli/qa 32, mlm 8)\n"
    "      --lr F             peak learning rate (pos/ner/dep 5e-4, nli 5e-5, qa 3e-5)\n"
    "      --epochs N         epochs (5; mlm 3)\n"
    "      --seq N            longest example accepted (pos/ner/dep 256, nli 128, qa 384)\n"
    "      --max-per-lang N   keep the first N examples of each language (default: all)\n"
    "      --max-steps N      stop after N steps (the schedule is shortened to N)\n"
    "      --clip F           gradient-norm clipping (1.0; 0 = none)\n"
    "      --weight-decay F   AdamW weight decay (0)\n"
    "      --warmup N         linear warmup steps (0)\n"
    "      --dev FILE         validation stream: keep the epoch with the best primary metric\n"
    "      --decode greedy|mst  dep validation decoding (greedy)\n"
    "      --seed N           init, data order, dropout (1); same seed => same bytes\n"
    "      --threads N        threads (default: all cores); results do not depend on it\n"
    "  -o, --output FILE      adapter tensor stream ('-' = stdout, the default unless\n"
    "                         --hub-out is given)\n"
    "      --hub-out DIR      (also) write an AdapterHub folder\n"
    "  -q, --quiet / -v, --verbose / -h, --help / --version\n";

enum { O_NAME = 0x100, O_LANG, O_RED, O_BATCH, O_LR, O_EPOCHS, O_SEQ, O_MAXLANG, O_MAXSTEPS,
       O_CLIP, O_WD, O_WARMUP, O_DEV, O_DECODE, O_SEED, O_THREADS, O_HUB,
       O_ISO, O_TOK, O_MLMP, O_INV };

static xf_example *read_streams(char **paths, int n, size_t vocab, size_t *count)
{
    xf_example *all = NULL;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        size_t k;
        xf_example *v = xf_ex_read_all_vocab(paths[i], vocab, &k);
        all = xrealloc(all, sizeof *all * (total + k + 1));
        memcpy(all + total, v, sizeof *v * k);
        free(v);
        total += k;
    }
    *count = total;
    return all;
}

int main(int argc, char **argv)
{
    xf_init(argc, argv);
    static const struct option longopts[] = {
        XF_COMMON_LONGOPTS,
        {"model", required_argument, 0, 'm'}, {"task", required_argument, 0, 'T'},
        {"output", required_argument, 0, 'o'}, {"name", required_argument, 0, O_NAME},
        {"lang-adapter", required_argument, 0, O_LANG}, {"reduction", required_argument, 0, O_RED},
        {"batch", required_argument, 0, O_BATCH}, {"lr", required_argument, 0, O_LR},
        {"epochs", required_argument, 0, O_EPOCHS}, {"seq", required_argument, 0, O_SEQ},
        {"max-per-lang", required_argument, 0, O_MAXLANG},
        {"max-steps", required_argument, 0, O_MAXSTEPS}, {"clip", required_argument, 0, O_CLIP},
        {"weight-decay", required_argument, 0, O_WD}, {"warmup", required_argument, 0, O_WARMUP},
        {"dev", required_argument, 0, O_DEV}, {"decode", required_argument, 0, O_DECODE},
        {"seed", required_argument, 0, O_SEED}, {"threads", required_argument, 0, O_THREADS},
        {"hub-out", required_argument, 0, O_HUB}, {"lang", required_argument, 0, O_ISO},
        {"tokenizer", required_argument, 0, O_TOK}, {"mlm-probability", required_argument, 0, O_MLMP},
        {"inv", no_argument, 0, O_INV}, {0, 0, 0, 0}};
    const char *model = NULL, *task_s = NULL, *out = NULL, *name = NULL, *lang = NULL;
    const char *dev_path = NULL, *threads = NULL, *hub = NULL, *decode = "greedy";
    long reduction = 16, batch = 0, epochs = 0, seq = 0, maxlang = 0, maxsteps = 0, warmup = 0;
    long seed = 1;
    double lr = 0, clip = 1.0, wd = 0, mlm_prob = 0.15;
    const char *iso = NULL, *tok_path = NULL;
    int inv = 0;
    int c;
    while ((c = getopt_long(argc, argv, XF_COMMON_SHORTOPTS "m:T:o:", longopts, 0)) != -1) {
        if (xf_cli_common(c, USAGE)) continue;
        switch (c) {
        case 'm': model = optarg; break;
        case 'T': task_s = optarg; break;
        case 'o': out = optarg; break;
        case O_NAME: name = optarg; break;
        case O_LANG: lang = optarg; break;
        case O_RED: reduction = xf_parse_long("--reduction", optarg, 1, 1 << 20); break;
        case O_BATCH: batch = xf_parse_long("--batch", optarg, 1, 1 << 20); break;
        case O_LR: lr = xf_parse_double("--lr", optarg); break;
        case O_EPOCHS: epochs = xf_parse_long("--epochs", optarg, 1, 1 << 20); break;
        case O_SEQ: seq = xf_parse_long("--seq", optarg, 2, 1 << 20); break;
        case O_MAXLANG: maxlang = xf_parse_long("--max-per-lang", optarg, 1, 1L << 40); break;
        case O_MAXSTEPS: maxsteps = xf_parse_long("--max-steps", optarg, 1, 1L << 40); break;
        case O_CLIP: clip = xf_parse_double("--clip", optarg); break;
        case O_WD: wd = xf_parse_double("--weight-decay", optarg); break;
        case O_WARMUP: warmup = xf_parse_long("--warmup", optarg, 0, 1L << 40); break;
        case O_DEV: dev_path = optarg; break;
        case O_DECODE: decode = optarg; break;
        case O_SEED: seed = xf_parse_long("--seed", optarg, 0, 1L << 62); break;
        case O_THREADS: threads = optarg; break;
        case O_HUB: hub = optarg; break;
        case O_ISO: iso = optarg; break;
        case O_TOK: tok_path = optarg; break;
        case O_MLMP: mlm_prob = xf_parse_double("--mlm-probability", optarg); break;
        case O_INV: inv = 1; break;
        default: die_usage("unknown option (see --help)");
        }
    }
    if (!model) die_usage("--model is required");
    if (!task_s) die_usage("--task is required");
    xf_task task = xf_task_parse(task_s);
    if (task == XF_TASK_INVALID) die_usage("--task %s: expected pos, dep, ner, nli, qa or mlm", task_s);
    if (inv && task != XF_TASK_MLM) die_usage("--inv applies to --task mlm only");
    if (task == XF_TASK_MLM) {
        if (!iso && !name) die_usage("--task mlm needs --lang");
        if (optind != argc - 1) die_usage("--task mlm reads one example stream");
        if (lang || dev_path) die_usage("--lang-adapter and --dev do not apply to --task mlm");
        if (!(mlm_prob > 0 && mlm_prob < 1)) die_usage("--mlm-probability must be in (0, 1)");
    }
    if (optind >= argc) die_usage("no example stream given");
    if (lr < 0 || clip < 0 || wd < 0) die_usage("--lr, --clip and --weight-decay must be >= 0");
    if (strcmp(decode, "greedy") && strcmp(decode, "mst")) die_usage("--decode: greedy or mst");
    if (!strcmp(model, "-")) {
        for (int i = optind; i < argc; i++)
            if (!strcmp(argv[i], "-")) die_usage("stdin cannot carry both the model and examples");
        if (dev_path && !strcmp(dev_path, "-")) die_usage("stdin cannot carry both the model and --dev");
    }
    xf_train_opts o = xf_train_defaults(task);
    if (batch) o.batch = (int)batch;
    if (lr > 0) o.lr = (float)lr;
    if (epochs) o.epochs = (int)epochs;
    if (seq) o.seq = (int)seq;
    o.max_per_lang = maxlang;
    o.max_steps = maxsteps;
    o.clip = (float)clip;
    o.weight_decay = (float)wd;
    o.warmup = warmup;
    o.seed = (uint64_t)seed;
    o.eval.decode = strcmp(decode, "mst") ? XF_DECODE_GREEDY : XF_DECODE_MST;
    xf_cli_threads(threads);

    xf_config cfg;
    xf_prov mprov, aprov;   /* the base's provenance; the adapter's (provenance.h) */
    xf_prov_init(&mprov);
    xf_encoder *enc = xf_prov_encoder_load(model, &cfg, &mprov);
    const char *prefix = xf_model_prefix(&cfg);
    xf_taskmodel *m = xf_tm_new(enc, prefix, task);
    xf_adapter_file *lf = NULL;
    if (lang) {
        lf = xf_adapter_file_load(lang, prefix);
        if (lf->task != XF_TASK_MLM || !lf->reduction)
            die("%s: not a language adapter (task %s)", lang, xf_task_name(lf->task));
        xf_tm_add_lang(m, lf->name, lf->ts, lang);
    }
    if (task == XF_TASK_MLM) {
        struct stat st;
        if (!tok_path && stat(model, &st) == 0 && S_ISDIR(st.st_mode)) tok_path = model;
        if (!tok_path) die_usage("--task mlm needs --tokenizer (the model is not a folder)");
        xf_tokenizer *tk = xf_tok_load(tok_path);
        const xf_enc_dims *dims = xf_encoder_dims(enc);
        if ((long)xf_tok_vocab_size(tk) != dims->vocab)
            die("%s: the tokenizer has %zu pieces, the model's vocab_size is %d", tok_path,
                xf_tok_vocab_size(tk), dims->vocab);
        xf_tok_special sp = xf_tok_specials(tk);
        xf_mlm_data data;
        xf_mlm_data_read(&data, argv[optind], dims->vocab, o.seq);
        int32_t specials[] = {sp.cls, sp.sep, sp.pad, sp.mask, sp.unk};
        xf_mlm_data_set_specials(&data, specials, 5, sp.mask);
        xf_tok_free(tk);
        xf_tm_add_task_adapter(m, name ? name : iso, (int)reduction);
        if (inv) xf_tm_add_task_invadapter(m);
        xf_tm_init_weights(m, (uint64_t)seed);
        xf_train_result r = xf_train_lang_adapter(m, &data, &o, (float)mlm_prob);
        xf_info(1, "%ld steps, loss %.4f -> %.4f, %.0f tokens/s", r.steps, r.first_loss,
                r.last_loss, r.tokens / (r.seconds > 0 ? r.seconds : 1));
        json_t *extra = json_pack("{s:{s:s, s:s, s:b, s:i, s:f, s:i, s:i, s:I, s:f, s:f, s:f}}",
                                  "train", "base", model, "lang", iso ? iso : name, "inv", inv, "batch",
                                  o.batch, "lr", (double)o.lr, "epochs", o.epochs, "seq", o.seq,
                                  "steps", (json_int_t)r.steps, "mlm_probability", mlm_prob,
                                  "first_loss", r.first_loss, "last_loss", r.last_loss);
        xf_commit_set_begin();   /* both outputs appear, or none */
        xf_prov_lang_adapter(&aprov, &mprov, iso ? iso : name, name ? name : iso);
        xf_prov_put(extra, &aprov);
        if (hub) xf_tm_save_hub(hub, m, &cfg);
        if (out || !hub) xf_tm_save_stream(out ? out : "-", m, &cfg, seed, extra);
        xf_commit_set_end();
        json_decref(extra);
        xf_prov_free(&aprov);
        xf_prov_free(&mprov);
        xf_mlm_data_free(&data);
        xf_tm_free(m);
        xf_config_free(&cfg);
        return 0;
    }
    xf_tm_add_task_adapter(m, name ? name : xf_task_name(task), (int)reduction);
    xf_tm_init_weights(m, (uint64_t)seed);

    size_t vocab = (size_t)xf_encoder_dims(enc)->vocab, n = 0, ndev = 0;
    xf_example *ex = read_streams(argv + optind, argc - optind, vocab, &n);
    size_t nread = n;
    n = xf_examples_cap_per_lang(ex, n, maxlang);
    xf_example *dev = dev_path ? xf_ex_read_all_vocab(dev_path, vocab, &ndev) : NULL;
    xf_info(2, "%zu training examples (%zu read), %zu validation", n, nread, ndev);

    xf_train_result r = xf_train_adapter(m, ex, n, dev, ndev, &o);
    xf_info(1, "%ld steps, loss %.4f -> %.4f, %.0f tokens/s%s", r.steps, r.first_loss,
            r.last_loss, r.tokens / (r.seconds > 0 ? r.seconds : 1),
            isnan(r.best_score) ? "" : ", best validation epoch kept");

    json_t *train = json_pack("{s:s, s:i, s:f, s:i, s:i, s:I, s:I, s:f, s:f, s:I, s:I, s:f, s:f}",
                              "base", model, "batch", o.batch, "lr", (double)o.lr, "epochs",
                              o.epochs, "seq", o.seq, "max_per_lang", (json_int_t)maxlang,
                              "steps", (json_int_t)r.steps, "clip", (double)o.clip,
                              "weight_decay", (double)o.weight_decay, "warmup",
                              (json_int_t)o.warmup, "examples", (json_int_t)n, "first_loss",
                              r.first_loss, "last_loss", r.last_loss);
    if (dev_path) {
        json_object_set_new(train, "dev", json_string(dev_path));
        json_object_set_new(train, "best_epoch", json_integer(r.best_epoch));
        json_object_set_new(train, "best_score", json_real(r.best_score));
    }
    if (lf) json_object_set_new(train, "lang_adapter", json_string(lf->name));
    json_t *extra = json_pack("{s:o}", "train", train);
    xf_commit_set_begin();   /* both outputs appear, or none */
    xf_prov_init(&aprov);
    aprov.model = xstrdup(mprov.model);
    xf_prov_put(extra, &aprov);
    if (hub) xf_tm_save_hub(hub, m, &cfg);
    if (out || !hub) xf_tm_save_stream(out ? out : "-", m, &cfg, seed, extra);
    xf_commit_set_end();
    json_decref(extra);
    xf_prov_free(&aprov);
    xf_prov_free(&mprov);
    xf_adapter_file_free(lf);
    for (size_t i = 0; i < n; i++) xf_ex_free(&ex[i]);
    free(ex);
    if (dev) xf_ex_free_all(dev, ndev);
    xf_tm_free(m);
    xf_config_free(&cfg);
    return 0;
}
