/* xf-score — transfer scores and the analyses of the study (xf-score(1)). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "evalrow.h"
#include "plot.h"
#include "report.h"
#include "score.h"
#include "tsv.h"
#include "util.h"
#include "zio.h"

static const char USAGE[] =
    "Usage: xf-score [COMMAND] [OPTION]... [FILE]...   (COMMAND comes first)\n"
    "Transfer scores and their analyses from eval rows (xf-tsv(5)); FILEs default to '-'.\n"
    "Commands:\n"
    "  ts        transfer score per (model, task, metric, transfer, target, steps) (default)\n"
    "  rank      transfer languages ranked by aggregated transfer (paper Table 3)\n"
    "  variance  variance of ts over targets, max/min counts, category (Table 5)\n"
    "  targets   per target: % of transfer languages positive / negative (Figures 3a, 5)\n"
    "  seen      mean ts for seen/unseen transfer -> target (Figure 8); needs --languages\n"
    "  corr      Spearman rho between tasks of transfer-language rankings (Table 21)\n"
    "  progress  aggregated ts per transfer language over steps (Figures 3b, 9-18)\n"
    "  compare   continuous steps vs language adapters, improvement over base (Table 2)\n"
    "  report    one self-contained HTML page from a manifest of tables and figures\n"
    "            (xf-score report [-o report.html] [--title T] [--max-rows N] MANIFEST)\n"
    "All but ts and compare also read ts tables (the output of 'xf-score ts').\n"
    "Options:\n"
    "  -o, --output FILE      output TSV ('-' = stdout, the default; '.zst' compresses)\n"
    "      --metric M         use metric M for its task (repeatable; default: upos_acc,\n"
    "                         las, ner_f1, acc, qa_f1)\n"
    "      --steps K          keep only transfer scores after K MLM steps\n"
    "      --boot N           bootstrap resamples for the ts CI (default 1000; 0 = none)\n"
    "      --seed N           bootstrap seed (default 1)\n"
    "      --top N            rank: first N per group (default all); progress: N best and\n"
    "                         worst targets listed (default 2)\n"
    "      --extreme-share F  variance: a transfer language is a frequent max (min) when it\n"
    "                         gives the best (worst) ts to >= F of the targets (default 0.05)\n"
    "      --languages FILE   seen: languages.tsv (default $XF_DATA/languages.tsv)\n"
    "      --seen-by WHICH    seen: mbert, xlmr or auto (by model name; default auto)\n"
    "      --by-family        seen --plot: group the heatmap's languages by family\n"
    "      --title T          report: the page title\n"
    "      --max-rows N       report: rows shown per table (default 60)\n"
    "      --summary          compare: one row per setting (Figure 2) instead of per language\n"
    "      --plot FILE        also draw FILE (.svg or .png): rank, variance (Figure 7),\n"
    "                         targets (3a/5), seen (8), corr (6), progress (3b, 9-18),\n"
    "                         compare (2); unseen languages marked from --languages\n"
    "  -q, --quiet            no warnings\n"
    "  -v, --verbose          list every excluded run and pair\n"
    "  -h, --help             this help\n"
    "      --version          version\n";

enum { O_METRIC = 0x100, O_STEPS, O_BOOT, O_SEED, O_TOP, O_EXTREME, O_LANGS, O_SEENBY,
       O_SUMMARY, O_PLOT, O_FAMILY, O_TITLE, O_MAXROWS };

static const char *const commands[] = {"ts", "rank", "variance", "targets", "seen",
                                       "corr", "progress", "compare", "report"};

int main(int argc, char **argv)
{
    xf_init(argc, argv);
    const char *cmd = "ts";
    if (argc > 1)
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (!strcmp(argv[1], commands[i])) {
                cmd = commands[i];
                argv[1] = argv[0];
                argv++;
                argc--;
                break;
            }
    static const struct option longopts[] = {
        XF_COMMON_LONGOPTS,
        {"output", required_argument, 0, 'o'},
        {"metric", required_argument, 0, O_METRIC},
        {"steps", required_argument, 0, O_STEPS},
        {"boot", required_argument, 0, O_BOOT},
        {"seed", required_argument, 0, O_SEED},
        {"top", required_argument, 0, O_TOP},
        {"extreme-share", required_argument, 0, O_EXTREME},
        {"languages", required_argument, 0, O_LANGS},
        {"seen-by", required_argument, 0, O_SEENBY},
        {"summary", no_argument, 0, O_SUMMARY},
        {"plot", required_argument, 0, O_PLOT},
        {"by-family", no_argument, 0, O_FAMILY},
        {"title", required_argument, 0, O_TITLE},
        {"max-rows", required_argument, 0, O_MAXROWS},
        {0, 0, 0, 0}};
    const char *out = "-", *plot = NULL;
    const char **metrics = xcalloc((size_t)argc + 1, sizeof *metrics);
    xf_tsopts to = {.metrics = metrics, .boot = 1000, .seed = 1, .level = 0.95};
    xf_scoreopts so = {.top = 0, .extreme_share = 0.05, .seen_by = "auto"};
    xf_reportopts ro = {0};
    long steps = 0;
    int c;
    while ((c = getopt_long(argc, argv, XF_COMMON_SHORTOPTS "o:", longopts, 0)) != -1) {
        if (xf_cli_common(c, USAGE)) continue;
        switch (c) {
        case 'o': out = optarg; break;
        case O_METRIC:
            if (!xf_metric_task(optarg)) die_usage("--metric: unknown metric '%s'", optarg);
            to.metrics[to.nmetrics++] = optarg;
            break;
        case O_STEPS: steps = xf_parse_long("--steps", optarg, 1, 1000000000); break;
        case O_BOOT: to.boot = (int)xf_parse_long("--boot", optarg, 0, 1000000); break;
        case O_SEED: to.seed = (uint64_t)xf_parse_long("--seed", optarg, 0, 0x7fffffffffffffffL); break;
        case O_TOP: so.top = (int)xf_parse_long("--top", optarg, 0, 1000000); break;
        case O_EXTREME:
            so.extreme_share = xf_parse_double("--extreme-share", optarg);
            if (!(so.extreme_share > 0 && so.extreme_share <= 1))
                die_usage("--extreme-share: %s is not in (0, 1]", optarg);
            break;
        case O_LANGS: so.langfile = optarg; break;
        case O_SEENBY:
            if (strcmp(optarg, "mbert") && strcmp(optarg, "xlmr") && strcmp(optarg, "auto"))
                die_usage("--seen-by: '%s' is not mbert, xlmr or auto", optarg);
            so.seen_by = optarg;
            break;
        case O_SUMMARY: so.summary = 1; break;
        case O_PLOT: plot = optarg; break;
        case O_FAMILY: so.by_family = 1; break;
        case O_TITLE: ro.title = optarg; break;
        case O_MAXROWS: ro.max_rows = (size_t)xf_parse_long("--max-rows", optarg, 1, 1000000); break;
        default: die_usage("unknown option");
        }
    }
    if (!strcmp(cmd, "report")) {
        if (argc - optind != 1) die_usage("report takes one MANIFEST");
        size_t bad = xf_report_write(argv[optind], out, &ro);
        if (bad) warning("%s: %zu section(s) could not be shown (see the page)", argv[optind], bad);
        free(metrics);
        return 0;
    }
    if (ro.title || ro.max_rows) die_usage("--title and --max-rows are options of report");
    if (plot) {
        if (!strcmp(cmd, "ts")) die_usage("--plot works with every analysis, not ts");
        /* Fail before any work: a bad name or a missing gnuplot. */
        xf_plot_abort(xf_plot_open(plot, 100, 100));
    }
    if (so.summary && strcmp(cmd, "compare")) die_usage("--summary is an option of compare");
    if (so.by_family && (strcmp(cmd, "seen") || !plot)) die_usage("--by-family goes with seen --plot");
    char *langbuf = NULL;
    /* seen needs a languages file; the figures use one to mark unseen
     * languages when there is one. */
    if ((!strcmp(cmd, "seen") || plot) && !so.langfile) {
        const char *d = getenv("XF_DATA");
        if (!d && !strcmp(cmd, "seen")) die_usage("seen needs --languages FILE (or XF_DATA set)");
        if (d) {
            langbuf = xmalloc(strlen(d) + sizeof "/languages.tsv");
            strcpy(langbuf, d);
            strcat(langbuf, "/languages.tsv");
            so.langfile = langbuf;
        }
    }
    int ts_in_ok = strcmp(cmd, "ts") && strcmp(cmd, "compare");

    xf_evalset ev = {0};
    xf_tsset ts = {0};
    int nin = argc - optind;
    for (int i = 0; i < (nin ? nin : 1); i++) {
        const char *path = nin ? argv[optind + i] : "-";
        xf_tsv *t = xf_tsv_open(path);
        if (xf_evalrow_header_matches(t)) xf_evalset_read_tsv(&ev, t);
        else if (ts_in_ok && xf_tss_header_matches(t)) xf_tsset_read_tsv(&ts, t);
        else
            die("%s:1: not a header of eval rows%s (see xf-tsv(5)); eval rows have the columns "
                "model task setting transfer steps run adapters target metric value n",
                xf_tsv_name(t), ts_in_ok ? " or transfer scores" : "");
        xf_tsv_close(t);
    }
    xf_evalset_check_duplicates(&ev);

    xf_zout *z = xf_zout_open(out, XF_Z_AUTO);
    if (!strcmp(cmd, "compare")) {
        xf_score_compare(&ev, &to, &so, z, plot);
    } else {
        if (strcmp(cmd, "ts")) to.boot = 0;   /* the analyses use ts only */
        xf_tss_compute(&ev, &to, &ts);
        if (steps) {
            size_t k = 0;
            for (size_t i = 0; i < ts.n; i++)
                if (ts.rows[i].steps == steps) ts.rows[k++] = ts.rows[i];
            ts.n = k;
        }
        xf_tsset_sort_check(&ts);
        if (!ts.n) {   /* an empty table would hide a mislabelled study */
            char *why = xf_tss_diagnose(&ev, &to, steps);
            die("no transfer scores: %s", why);
        }
        if (!strcmp(cmd, "ts")) xf_tss_write(z, &ts);
        else if (!strcmp(cmd, "rank")) xf_score_rank(&ts, &so, z, plot);
        else if (!strcmp(cmd, "variance")) xf_score_variance(&ts, &so, z);
        else if (!strcmp(cmd, "targets")) xf_score_targets(&ts, &so, z, plot);
        else if (!strcmp(cmd, "seen")) xf_score_seen(&ts, &so, z);
        else if (!strcmp(cmd, "corr")) xf_score_corr(&ts, &so, z);
        else xf_score_progress(&ts, &so, z, plot);
        if (plot && !strcmp(cmd, "variance")) xf_fig_variance(&ts, &so, plot);
        if (plot && !strcmp(cmd, "seen")) xf_fig_heatmap(&ts, &so, plot);
        if (plot && !strcmp(cmd, "corr")) xf_fig_common(&ts, &so, plot);
    }
    xf_zout_commit(z);
    xf_evalset_free(&ev);
    xf_tsset_free(&ts);
    free(metrics);
    free(langbuf);
    return 0;
}
