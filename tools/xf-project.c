/* xf-project — language interference counts and their 2-D projection, and
 * the [1A]/[2A]/[3A] summary, from eval rows (xf-project(1)). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "evalrow.h"
#include "plot.h"
#include "project.h"
#include "score.h"
#include "tsv.h"
#include "util.h"
#include "zio.h"

static const char USAGE[] =
    "Usage: xf-project [summary] [OPTION]... [FILE]...\n"
    "Language interference of fused language adapters from eval rows (xf-tsv(5)) of\n"
    "[A], [AB] and [ABC] (setting lang); FILEs default to '-'.\n"
    "  (no command)  per language and setting (2A, 3A): the sign counts |+-A,+-B(,+-C)|,\n"
    "                the projection (x, y) (paper appendix F), n, ties, missing\n"
    "  summary       mean improvement over the base (setting base) of [1A], [2A], [3A]\n"
    "                per task (paper Figure 2)\n"
    "Options:\n"
    "  -o, --output FILE   output TSV ('-' = stdout, the default; '.zst' compresses)\n"
    "      --metric M      use metric M for its task (repeatable; default: upos_acc, las,\n"
    "                      ner_f1, acc, qa_f1)\n"
    "      --tie-eps E     a difference with |d| <= E is a tie (default 0: exact equality)\n"
    "      --plot FILE     also draw FILE (.svg or .png): the projection (Figure 4) or the\n"
    "                      summary bars (Figure 2)\n"
    "  -q, --quiet         no warnings\n"
    "  -v, --verbose       list left-out rows and languages\n"
    "  -h, --help          this help\n"
    "      --version       version\n";

enum { O_METRIC = 0x100, O_TIE, O_PLOT };

/* An output must not replace an input. */
static void check_not_input(const char *out, const char *what, char **in, int nin)
{
    struct stat so, si;
    if (!strcmp(out, "-") || stat(out, &so)) return;
    for (int i = 0; i < nin; i++)
        if (strcmp(in[i], "-") && !stat(in[i], &si) && si.st_dev == so.st_dev && si.st_ino == so.st_ino)
            die_usage("%s %s is the input %s", what, out, in[i]);
}

int main(int argc, char **argv)
{
    xf_init(argc, argv);
    int summary = 0;
    if (argc > 1 && !strcmp(argv[1], "summary")) {
        summary = 1;
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    static const struct option longopts[] = {
        XF_COMMON_LONGOPTS,
        {"output", required_argument, 0, 'o'},
        {"metric", required_argument, 0, O_METRIC},
        {"tie-eps", required_argument, 0, O_TIE},
        {"plot", required_argument, 0, O_PLOT},
        {0, 0, 0, 0}};
    const char *out = "-", *plot = NULL;
    const char **metrics = xcalloc((size_t)argc + 1, sizeof *metrics);
    xf_tsopts to = {.metrics = metrics};
    xf_projopts po = {.to = &to, .tie_eps = 0};
    int c, tie_set = 0;
    while ((c = getopt_long(argc, argv, XF_COMMON_SHORTOPTS "o:", longopts, 0)) != -1) {
        if (xf_cli_common(c, USAGE)) continue;
        switch (c) {
        case 'o': out = optarg; break;
        case O_METRIC:
            if (!xf_metric_task(optarg)) die_usage("--metric: unknown metric '%s'", optarg);
            to.metrics[to.nmetrics++] = optarg;
            break;
        case O_TIE:
            po.tie_eps = xf_parse_double("--tie-eps", optarg);
            if (!(po.tie_eps >= 0 && po.tie_eps <= 100)) die_usage("--tie-eps: %s is not in [0, 100]", optarg);
            tie_set = 1;
            break;
        case O_PLOT: plot = optarg; break;
        default: die_usage("unknown option (see --help)");
        }
    }
    if (summary && tie_set) die_usage("--tie-eps is not an option of summary");
    int nin = argc - optind;
    char *stdin_only[] = {"-"};
    char **in = nin ? argv + optind : stdin_only;
    if (!nin) nin = 1;
    check_not_input(out, "--output", in, nin);
    if (plot) {
        check_not_input(plot, "--plot", in, nin);
        if (!strcmp(plot, out)) die_usage("--plot and --output are the same file");
        xf_plot_abort(xf_plot_open(plot, 100, 100));   /* bad name or no gnuplot: before any work */
    }

    xf_evalset ev = {0};
    for (int i = 0; i < nin; i++) {
        xf_tsv *t = xf_tsv_open(in[i]);
        if (!xf_evalrow_header_matches(t))
            die("%s:1: not a header of eval rows (see xf-tsv(5)); eval rows have the columns "
                "model task setting transfer steps run adapters target metric value n",
                xf_tsv_name(t));
        xf_evalset_read_tsv(&ev, t);
        xf_tsv_close(t);
    }
    xf_evalset_check_duplicates(&ev);

    if (summary) {
        xf_zout *z = xf_zout_open(out, XF_Z_AUTO);
        xf_project_summary(&ev, &to, z, plot);
        xf_zout_commit(z);
    } else {
        xf_projrow *rows;
        size_t n = xf_project_compute(&ev, &po, &rows);
        if (!n) warning("no bilingual or trilingual combinations in the input");
        xf_zout *z = xf_zout_open(out, XF_Z_AUTO);
        xf_project_write(z, rows, n);
        if (plot) xf_project_plot(rows, n, plot);
        xf_zout_commit(z);
        free(rows);
    }
    xf_evalset_free(&ev);
    free(metrics);
    return 0;
}
