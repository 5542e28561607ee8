/* xf-eval — evaluate a base model + adapters + head on target example streams. */
#include "adapter_io.h"
#include "cli.h"
#include "encoder_io.h"
#include "evalrow.h"
#include "evaluate.h"
#include "examples.h"
#include "hfmodel.h"
#include "taskmodel.h"
#include "util.h"

#include <libgen.h>
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
    "      --model-name NAME  model column (default: from the config or the path)\n"
    "      --setting S        base | mlm | lang (default: lang with --lang-adapter, else base)\n"
    "      --transfer ISO     transfer language (setting mlm)\n"
    "      --steps K          MLM steps (setting mlm)\n"
    "      --run R            repetition (setting mlm)\n"
    "      --decode greedy|mst  dependency decoding (greedy, as the reference)\n"
    "      --batch N          examples per forward (32)\n"
    "      --threads N        threads (default: all cores)\n"
    "  -o, --output FILE      eval rows ('-' = stdout, the default; .zst compresses)\n"
    "  -q, --quiet / -v, --verbose (timings) / -h, --help / --version\n";

enum { O_LANG = 0x100, O_NAME, O_SETTING, O_TRANSFER, O_STEPS, O_RUN, O_DECODE, O_BATCH, O_THREADS };

/* A row kept until the end: the output is written only once every target is done. */
typedef struct row { char *target; const char *metric; double value; long n; } row;

static char *default_model_name(const char *path, const xf_config *cfg)
{
    json_t *np = cfg->json ? json_object_get(cfg->json, "_name_or_path") : NULL;
    const char *s = json_is_string(np) && *json_string_value(np) ? json_string_value(np) : path;
    if (!strcmp(s, "-")) return xstrdup("model");
    char *tmp = xstrdup(s);
    size_t l = strlen(tmp);
    while (l > 1 && tmp[l - 1] == '/') tmp[--l] = 0;
    char *b = xstrdup(basename(tmp));
    free(tmp);
    char *dot = strchr(b, '.');
    if (dot && dot != b) *dot = 0;
    return b;
}

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
        {"threads", required_argument, 0, O_THREADS}, {0, 0, 0, 0}};
    const char *model = NULL, *adapter = NULL, *out = "-", *name = NULL, *setting_s = NULL;
    const char *transfer = "-", *threads = NULL, *decode = "greedy";
    const char *langs[XF_TM_MAX_LANG + 1];
    int nlang = 0;
    long steps = 0, run = 0, batch = 32;
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
        case O_NAME: name = optarg; break;
        case O_SETTING: setting_s = optarg; break;
        case O_TRANSFER: transfer = optarg; break;
        case O_STEPS: steps = xf_parse_long("--steps", optarg, 0, 1L << 40); break;
        case O_RUN: run = xf_parse_long("--run", optarg, 0, 1L << 40); break;
        case O_DECODE: decode = optarg; break;
        case O_BATCH: batch = xf_parse_long("--batch", optarg, 1, 1 << 20); break;
        case O_THREADS: threads = optarg; break;
        default: die_usage("unknown option (see --help)");
        }
    }
    if (!model) die_usage("--model is required");
    if (!adapter) die_usage("--adapter is required");
    if (optind >= argc) die_usage("no target example stream given");
    if (strcmp(decode, "greedy") && strcmp(decode, "mst")) die_usage("--decode: greedy or mst");
    xf_setting setting = nlang ? XF_SET_LANG : XF_SET_BASE;
    if (setting_s) {
        if (!strcmp(setting_s, "base")) setting = XF_SET_BASE;
        else if (!strcmp(setting_s, "mlm")) setting = XF_SET_MLM;
        else if (!strcmp(setting_s, "lang")) setting = XF_SET_LANG;
        else die_usage("--setting: base, mlm or lang");
    }
    if (setting == XF_SET_LANG && !nlang) die_usage("--setting lang needs --lang-adapter");
    if (setting != XF_SET_LANG && nlang) die_usage("--lang-adapter implies --setting lang");
    if (setting == XF_SET_MLM && !strcmp(transfer, "-")) die_usage("--setting mlm needs --transfer");
    if (setting != XF_SET_MLM && (strcmp(transfer, "-") || steps || run))
        die_usage("--transfer, --steps and --run belong to --setting mlm");
    int nstdin = !strcmp(model, "-") + !strcmp(adapter, "-");
    for (int i = optind; i < argc; i++) nstdin += !strcmp(argv[i], "-");
    if (nstdin > 1) die_usage("stdin ('-') can be used only once");
    xf_cli_threads(threads);

    xf_config cfg;
    xf_encoder *enc = xf_encoder_load(model, &cfg);
    const char *prefix = xf_model_prefix(&cfg);
    xf_adapter_file *af = xf_adapter_file_load(adapter, prefix);
    if (af->task == XF_TASK_MLM) die("%s: a language adapter, not a task adapter", adapter);
    xf_taskmodel *m = xf_tm_new(enc, prefix, af->task);
    char adapters_col[512] = "-";
    for (int k = 0; k < nlang; k++) {
        /* Several language adapters are combined by AdapterFusion (later): the
         * taskmodel refuses a second one until then. */
        xf_adapter_file *lf = xf_adapter_file_load(langs[k], prefix);
        if (lf->task != XF_TASK_MLM || !lf->reduction)
            die("%s: not a language adapter (task %s)", langs[k], xf_task_name(lf->task));
        xf_tm_add_lang(m, lf->name, lf->ts, langs[k]);
        size_t l = strlen(adapters_col);
        snprintf(adapters_col + (k ? l : 0), sizeof adapters_col - (k ? l : 0), "%s%s",
                 k ? "+" : "", lf->name);
        xf_adapter_file_free(lf);
    }
    xf_tm_load_task(m, af, adapter);
    char *mname = name ? xstrdup(name) : default_model_name(model, &cfg);

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
    char steps_s[32];
    snprintf(steps_s, sizeof steps_s, "%ld", steps);
    for (size_t i = 0; i < nrows; i++) {
        xf_evalrow er = { .model = mname, .task = xf_task_name(m->task), .setting = setting,
                          .transfer = transfer, .steps = steps, .run = run,
                          .adapters = adapters_col, .target = rows[i].target,
                          .metric = rows[i].metric, .value = rows[i].value, .n = rows[i].n };
        xf_evalrow_write(z, &er);
        free(rows[i].target);
    }
    xf_zout_commit(z);
    free(rows);
    free(mname);
    xf_adapter_file_free(af);
    xf_tm_free(m);
    xf_config_free(&cfg);
    return 0;
}
