/* xf-eval — evaluate a base model + adapters + head on target example streams. */
#include "adapter_io.h"
#include "cli.h"
#include "encoder_io.h"
#include "evalrow.h"
#include "evaluate.h"
#include "examples.h"
#include "fusion_io.h"
#include "hfmodel.h"
#include "taskmodel.h"
#include "util.h"

#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
    "      --model-name NAME  model column (default: from the config or the path)\n"
    "      --setting S        base | mlm | lang (default: lang with --lang-adapter or\n"
    "                         --fusion, else base)\n"
    "      --transfer ISO     transfer language (setting mlm)\n"
    "      --steps K          MLM steps (setting mlm)\n"
    "      --run R            repetition (setting mlm)\n"
    "      --decode greedy|mst  dependency decoding (greedy, as the reference)\n"
    "      --las-at-gold-head LAS with the relation predicted at the gold head (the\n"
    "                         reference study's quirk); default: at the predicted head\n"
    "      --batch N          examples per forward (32)\n"
    "      --threads N        threads (default: all cores)\n"
    "  -o, --output FILE      eval rows ('-' = stdout, the default; .zst compresses)\n"
    "  -q, --quiet / -v, --verbose (timings) / -h, --help / --version\n";

enum { O_LANG = 0x100, O_NAME, O_SETTING, O_TRANSFER, O_STEPS, O_RUN, O_DECODE, O_GOLDHEAD,
       O_BATCH, O_THREADS, O_FUSION };

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

/* Reads PATH in a child process first, so that a malformed target is an
 * error for that target only (die() exits the child, not us).  The output is
 * not open yet, so the child's exit removes nothing of ours. */
static int target_readable(const char *path, size_t vocab)
{
    if (!strcmp(path, "-")) return 1;   /* a pipe can be read only once */
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) die_errno("fork");
    if (pid == 0) {
        size_t n;
        xf_example *v = xf_ex_read_all_vocab(path, vocab, &n);
        xf_ex_free_all(v, n);
        _exit(0);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0) die_errno("waitpid");
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
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
        {"las-at-gold-head", no_argument, 0, O_GOLDHEAD}, {"batch", required_argument, 0, O_BATCH},
        {"threads", required_argument, 0, O_THREADS},
        {"fusion", required_argument, 0, O_FUSION}, {0, 0, 0, 0}};
    const char *model = NULL, *adapter = NULL, *out = "-", *name = NULL, *setting_s = NULL;
    const char *transfer = "-", *threads = NULL, *decode = "greedy", *fusion = NULL;
    const char *langs[XF_TM_MAX_LANG + 1];
    int nlang = 0, gold_head = 0;
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
        case O_GOLDHEAD: gold_head = 1; break;
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
    xf_setting setting = nlang || fusion ? XF_SET_LANG : XF_SET_BASE;
    if (setting_s) {
        if (!strcmp(setting_s, "base")) setting = XF_SET_BASE;
        else if (!strcmp(setting_s, "mlm")) setting = XF_SET_MLM;
        else if (!strcmp(setting_s, "lang")) setting = XF_SET_LANG;
        else die_usage("--setting: base, mlm or lang");
    }
    if (setting == XF_SET_LANG && !nlang && !fusion) die_usage("--setting lang needs --lang-adapter or --fusion");
    if (setting != XF_SET_LANG && (nlang || fusion)) die_usage("--lang-adapter and --fusion imply --setting lang");
    if (setting == XF_SET_MLM && !strcmp(transfer, "-")) die_usage("--setting mlm needs --transfer");
    if (setting != XF_SET_MLM && (strcmp(transfer, "-") || steps || run))
        die_usage("--transfer, --steps and --run belong to --setting mlm");
    int nstdin = !strcmp(model, "-") + !strcmp(adapter, "-") + (fusion && !strcmp(fusion, "-"));
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
    if (fusion) {   /* Stack(Fuse(l1..lN), task) */
        xf_fusion_file *ff = xf_fusion_file_load(fusion, prefix);
        xf_tm_load_fusion(m, ff, fusion, 0);
        xf_fusion_label(ff, adapters_col, sizeof adapters_col);
        xf_fusion_file_free(ff);
    }
    xf_tm_load_task(m, af, adapter);
    char *mname = name ? xstrdup(name) : default_model_name(model, &cfg);

    xf_eval_opts eo = xf_eval_defaults();
    eo.batch = (int)batch;
    eo.decode = strcmp(decode, "mst") ? XF_DECODE_GREEDY : XF_DECODE_MST;
    eo.las_at_gold = gold_head;
    size_t vocab = (size_t)xf_encoder_dims(enc)->vocab;
    row *rows = NULL;
    size_t nrows = 0;
    int failed = 0;
    double tok = 0, secs = 0;
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        if (!target_readable(path, vocab)) {
            error("%s: target not evaluated (see the message above)", path);
            failed = 1;
            continue;
        }
        size_t n;
        xf_example *ex = xf_ex_read_all_vocab(path, vocab, &n);
        if (!n) { error("%s: no examples", path); failed = 1; free(ex); continue; }
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
            if (m->task != ex[first].task) {
                error("%s: %s examples are of task %s, the adapter's is %s", path, lang,
                      xf_task_name(ex[first].task), xf_task_name(m->task));
                failed = 1;
                free(sub);
                continue;
            }
            xf_eval_result r = xf_evaluate(m, sub, k, &eo);
            tok += r.tokens;
            secs += r.seconds;
            int ok = 1;
            for (int q = 0; q < r.n; q++)
                if (r.value[q].n == 0 || !isfinite(r.value[q].value)) ok = 0;
            if (!ok) {
                error("%s: %s: nothing scored", path, lang);
                failed = 1;
            } else {
                for (int q = 0; q < r.n; q++) {
                    rows = xrealloc(rows, sizeof *rows * (nrows + 1));
                    rows[nrows++] = (row){ xstrdup(lang), r.metric[q], r.value[q].value,
                                           r.value[q].n };
                }
                xf_info(2, "%s %s: %.0f tokens in %.2f s", path, lang, r.tokens, r.seconds);
            }
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
    return failed;
}
