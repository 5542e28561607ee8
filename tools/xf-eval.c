/* xf-eval — evaluate a base model + adapters + head on target example streams. */
#include "adapter_io.h"
#include "cli.h"
#include "encoder_io.h"
#include "evalrow.h"
#include "evaluate.h"
#include "examples.h"
#include "fusion_io.h"
#include "hfmodel.h"
#include "provenance.h"
#include "taskmodel.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "Usage: xf-eval --model MODEL --adapter ADAPTER [OPTION]... TARGET...\n"
    "Evaluates a base model (+ language adapter) + task adapter + head on target\n"
    "example streams (xf-tokenize) and writes eval rows (xf-tsv(5)): one per\n"
    "metric per target language.  The model is loaded once.\n"
    "  -m, --model MODEL      HF folder, tensor stream, or '-' (e.g. from xf-mlmstep)\n"
    "  -a, --adapter A        task adapter + head: xf-adapt stream or AdapterHub folder\n"
    "      --lang-adapter A   language adapter under the task adapter (Stack(A, task))\n"
    "      --fusion F         AdapterFusion of language adapters (xf-fuse stream or\n"
    "                         AdapterHub fusion folder) under the task adapter\n"
    "                         (Stack(Fuse(l1..lN), task)); rows: adapters=l1+..+lN\n"
    "The label columns come from the streams' provenance (xf-stream(5)); these\n"
    "flags override it (a contradiction is a warning):\n"
    "      --model-name NAME  model column (default: the config's _name_or_path, the\n"
    "                         name the stream records, or the path)\n"
    "      --setting S        base | mlm | lang (default: lang with --lang-adapter or\n"
    "                         --fusion, else what the model records, else base)\n"
    "      --transfer ISO     transfer language (setting mlm; default: recorded)\n"
    "      --steps K          MLM steps (setting mlm; default: recorded, else 0)\n"
    "      --run R            repetition (setting mlm; default: recorded seed, else 0)\n"
    "      --decode greedy|mst  dependency decoding (greedy, as the reference)\n"
    "      --batch N          examples per forward (32)\n"
    "      --threads N        threads (default: all cores)\n"
    "  -o, --output FILE      eval rows ('-' = stdout, the default; .zst compresses)\n"
    "  -q, --quiet / -v, --verbose (timings) / -h, --help / --version\n";

enum { O_LANG = 0x100, O_NAME, O_SETTING, O_TRANSFER, O_STEPS, O_RUN, O_DECODE, O_BATCH, O_THREADS,
       O_FUSION };

/* A row kept until the end: the output is written only once every target is done. */
typedef struct row { char *target; const char *metric; double value; long n; } row;

int main(int argc, char **argv)
{
    xf_init(argc, argv);
    static const struct option longopts[] = {
        XF_COMMON_LONGOPTS,
        {"model", required_argument, 0, 'm'}, {"adapter", required_argument, 0, 'a'},
        {"output", required_argument, 0, 'o'}, {"lang-adapter", required_argument, 0, O_LANG},
        {"model-name", required_argument, 0, O_NAME}, {"setting", required_argument, 0, O_SETTING},
        {"transfer", required_argument, 0, O_TRANSFER}, {"steps", required_argument, 0, O_STEPS},
        {"run", required_argument, 0, O_RUN}, {"decode", required_argument, 0, O_DECODE},
        {"batch", required_argument, 0, O_BATCH},
        {"threads", required_argument, 0, O_THREADS},
        {"fusion", required_argument, 0, O_FUSION}, {0, 0, 0, 0}};
    const char *model = NULL, *adapter = NULL, *out = "-", *setting_s = NULL;
    const char *threads = NULL, *decode = "greedy", *fusion = NULL;
    const char *langs[XF_TM_MAX_LANG + 1];
    int nlang = 0;
    long batch = 32;
    xf_label_flags lf_flags = { .model = NULL, .setting = -1, .transfer = NULL, .steps = -1, .run = -1 };
    int c;
    while ((c = getopt_long(argc, argv, XF_COMMON_SHORTOPTS "m:a:o:", longopts, 0)) != -1) {
        if (xf_cli_common(c, USAGE)) continue;
        switch (c) {
        case 'm': model = optarg; break;
        case 'a': adapter = optarg; break;
        case 'o': out = optarg; break;
        case O_LANG:
            if (nlang == XF_TM_MAX_LANG) die_usage("at most %d --lang-adapter", XF_TM_MAX_LANG);
            langs[nlang++] = optarg;
            break;
        case O_NAME: lf_flags.model = optarg; break;
        case O_SETTING: setting_s = optarg; break;
        case O_TRANSFER: lf_flags.transfer = optarg; break;
        case O_STEPS: lf_flags.steps = xf_parse_long("--steps", optarg, 0, 1000000000); break;
        case O_RUN: lf_flags.run = xf_parse_long("--run", optarg, 0, 1000000000); break;
        case O_DECODE: decode = optarg; break;
        case O_BATCH: batch = xf_parse_long("--batch", optarg, 1, 1 << 20); break;
        case O_THREADS: threads = optarg; break;
        case O_FUSION:
            if (fusion) die_usage("--fusion given twice");
            fusion = optarg;
            break;
        default: die_usage("unknown option (see --help)");
        }
    }
    if (!model) die_usage("--model is required");
    if (!adapter) die_usage("--adapter is required");
    if (optind >= argc) die_usage("no target example stream given");
    if (strcmp(decode, "greedy") && strcmp(decode, "mst")) die_usage("--decode: greedy or mst");
    if (fusion && nlang) die_usage("--fusion and --lang-adapter exclude each other (Fuse(A) is the fusion of one)");
    if (setting_s) {
        if (!strcmp(setting_s, "base")) lf_flags.setting = XF_SET_BASE;
        else if (!strcmp(setting_s, "mlm")) lf_flags.setting = XF_SET_MLM;
        else if (!strcmp(setting_s, "lang")) lf_flags.setting = XF_SET_LANG;
        else die_usage("--setting: base, mlm or lang");
    }
    if (lf_flags.setting == XF_SET_LANG && !nlang && !fusion)
        die_usage("--setting lang needs --lang-adapter or --fusion");
    if (lf_flags.setting >= 0 && lf_flags.setting != XF_SET_LANG && (nlang || fusion))
        die_usage("--lang-adapter and --fusion imply --setting lang");
    int nstdin = !strcmp(model, "-") + !strcmp(adapter, "-") + (fusion && !strcmp(fusion, "-"));
    for (int i = optind; i < argc; i++) nstdin += !strcmp(argv[i], "-");
    if (nstdin > 1) die_usage("stdin ('-') can be used only once");
    xf_cli_threads(threads);

    xf_config cfg;
    xf_prov mprov, lprov[XF_TM_MAX_LANG];
    const xf_prov *lp[XF_TM_MAX_LANG];
    char lnames[XF_TM_MAX_LANG][XF_ADAPTER_NAME_MAX];
    const char *ln[XF_TM_MAX_LANG];
    xf_prov_init(&mprov);
    xf_encoder *enc = xf_prov_encoder_load(model, &cfg, &mprov);
    const char *prefix = xf_model_prefix(&cfg);
    xf_adapter_file *af = xf_adapter_file_load(adapter, prefix);
    if (af->task == XF_TASK_MLM) die("%s: a language adapter, not a task adapter", adapter);
    xf_taskmodel *m = xf_tm_new(enc, prefix, af->task);
    for (int k = 0; k < nlang; k++) {
        /* Several language adapters are combined by AdapterFusion (later): the
         * taskmodel refuses a second one until then. */
        xf_adapter_file *lf = xf_adapter_file_load(langs[k], prefix);
        if (lf->task != XF_TASK_MLM || !lf->reduction)
            die("%s: not a language adapter (task %s)", langs[k], xf_task_name(lf->task));
        xf_tm_add_lang(m, lf->name, lf->ts, langs[k]);
        xf_prov_read(&lprov[k], lf->head, langs[k]);
        lp[k] = &lprov[k];
        snprintf(lnames[k], sizeof lnames[k], "%s", lf->name);
        ln[k] = lnames[k];
        xf_adapter_file_free(lf);
    }
    char fnames[XF_FUSION_MAX][XF_ADAPTER_NAME_MAX];
    const char *fn[XF_FUSION_MAX];
    int nfused = 0, fprov_ok = 0;
    xf_prov fprov;
    xf_prov_init(&fprov);
    if (fusion) {   /* Stack(Fuse(l1..lN), task): rows carry adapters=l1+..+lN */
        xf_fusion_file *ff = xf_fusion_file_load(fusion, prefix);
        xf_tm_load_fusion(m, ff, fusion, 0);
        for (nfused = 0; nfused < ff->n; nfused++) {
            snprintf(fnames[nfused], sizeof fnames[nfused], "%s", ff->lang[nfused]);
            fn[nfused] = fnames[nfused];
        }
        /* the stream's provenance names the languages (an adapter's name may
         * differ from its language); a folder or an old stream: the names */
        fprov_ok = xf_prov_read(&fprov, ff->ts->head, fusion) && fprov.adapters;
        xf_fusion_file_free(ff);
    }
    xf_tm_load_task(m, af, adapter);
    xf_labels lab;
    if (fusion && fprov_ok) {
        const xf_prov *fp[] = {&fprov};
        const char *fpn[] = {fusion};
        xf_prov_labels(&lab, &lf_flags, &mprov, fp, fpn, 1);
    } else if (fusion) {
        xf_prov_labels(&lab, &lf_flags, &mprov, NULL, fn, nfused);
    } else {
        xf_prov_labels(&lab, &lf_flags, &mprov, lp, ln, nlang);
    }
    xf_prov_free(&fprov);

    xf_eval_opts eo = xf_eval_defaults();
    eo.batch = (int)batch;
    eo.decode = strcmp(decode, "mst") ? XF_DECODE_GREEDY : XF_DECODE_MST;
    size_t vocab = (size_t)xf_encoder_dims(enc)->vocab;
    row *rows = NULL;
    size_t nrows = 0;
    double tok = 0, secs = 0;
    /* Each target is read once (FIFOs and <(...) work); any failure is a
     * die(): the output is written only when every target was scored. */
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        size_t n;
        xf_example *ex = xf_ex_read_all_vocab(path, vocab, &n);
        if (!n) die("%s: no examples", path);
        /* one target per language of the stream (cat of several works too) */
        size_t done = 0;
        char *seen = xcalloc(n, 1);
        while (done < n) {
            size_t first = 0;
            while (seen[first]) first++;
            const char *lang = ex[first].lang;
            size_t k = 0;
            xf_example *sub = xmalloc(sizeof *sub * n);
            for (size_t j = first; j < n; j++)
                if (!seen[j] && !strcmp(ex[j].lang, lang)) { sub[k++] = ex[j]; seen[j] = 1; }
            done += k;
            if (m->task != ex[first].task)
                die("%s: %s examples are of task %s, the adapter's is %s", path, lang,
                    xf_task_name(ex[first].task), xf_task_name(m->task));
            xf_eval_result r = xf_evaluate(m, sub, k, &eo);
            tok += r.tokens;
            secs += r.seconds;
            int ok = 1;
            for (int q = 0; q < r.n; q++)
                if (r.value[q].n == 0 || !isfinite(r.value[q].value)) ok = 0;
            if (!ok) die("%s: %s: nothing scored", path, lang);
            for (int q = 0; q < r.n; q++) {
                rows = xrealloc(rows, sizeof *rows * (nrows + 1));
                rows[nrows++] = (row){ xstrdup(lang), r.metric[q], r.value[q].value, r.value[q].n };
            }
            xf_info(2, "%s %s: %.0f tokens in %.2f s", path, lang, r.tokens, r.seconds);
            free(sub);
        }
        free(seen);
        xf_ex_free_all(ex, n);
    }
    xf_info(2, "eval: %.0f tokens/s", tok / (secs > 0 ? secs : 1));
    xf_zout *z = xf_zout_open(out, XF_Z_AUTO);
    xf_evalrow_write_header(z);
    for (size_t i = 0; i < nrows; i++) {
        xf_evalrow er = { .model = lab.model, .task = xf_task_name(m->task),
                          .setting = lab.setting, .transfer = lab.transfer, .steps = lab.steps,
                          .run = lab.run, .adapters = lab.adapters, .target = rows[i].target,
                          .metric = rows[i].metric, .value = rows[i].value, .n = rows[i].n };
        xf_evalrow_write(z, &er);
        free(rows[i].target);
    }
    xf_zout_commit(z);
    free(rows);
    xf_labels_free(&lab);
    xf_prov_free(&mprov);
    for (int k = 0; k < nlang; k++) xf_prov_free(&lprov[k]);
    xf_adapter_file_free(af);
    xf_tm_free(m);
    xf_config_free(&cfg);
    return 0;
}
