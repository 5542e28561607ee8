/* xf-tokenize — text, CoNLL-U, IOB, NLI TSV or SQuAD JSON -> example
 * streams (xf-tsv(5)); also --learn-vocab, --decode and --normalize.
 * See xf-tokenize(1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "examples.h"
#include "readers.h"
#include "tokenizer.h"
#include "util.h"
#include "zio.h"

static const char usage[] =
    "usage: xf-tokenize --tokenizer PATH --task TASK [options] [FILE...]\n"
    "       xf-tokenize --learn-vocab N [--lowercase] [-o vocab.txt] [FILE...]\n"
    "       xf-tokenize --decode --tokenizer PATH [FILE...]\n"
    "       xf-tokenize --normalize --tokenizer PATH [FILE...]\n"
    "Turns text (mlm), CoNLL-U (pos, dep), IOB2 (ner), NLI TSV (nli) or SQuAD\n"
    "JSON (qa) into an example stream; FILE '-' or none reads stdin.\n"
    "  -t, --tokenizer PATH    HF model folder, vocab.txt or tokenizer.json\n"
    "  -T, --task TASK         mlm | pos | dep | ner | nli | qa\n"
    "  -l, --lang ISO          language (default: guessed from each FILE's path)\n"
    "  -n, --seq N             tokens per example (mlm 512, pos/dep/ner 256, nli 128, qa 384)\n"
    "      --stride N          qa: overlap of context windows (128)\n"
    "      --line-by-line      mlm: one example per line instead of grouping\n"
    "      --group-lines N     mlm: lines per grouping batch (1000; 0 = all)\n"
    "      --text-from-conllu  mlm: take the '# text =' lines of CoNLL-U input\n"
    "      --lowercase         lowercase + strip accents (WordPiece)\n"
    "      --learn-vocab N     learn a WordPiece vocab of N pieces from text\n"
    "      --decode            example stream -> readable TSV\n"
    "      --normalize         print each input line as the tokenizer normalizes it\n"
    "  -o, --output FILE       output (default stdout); zstd if FILE ends in .zst\n"
    "  -z, --zstd              compress the output with zstd\n"
    "  -q, --quiet / -v, --verbose / -h, --help / --version\n";

enum { O_STRIDE = 0x100, O_LBL, O_GROUP, O_TFC, O_LOWER, O_LEARN, O_DECODE, O_NORM };

static void sink_write(void *ctx, const xf_example *ex) { xf_ex_write(ctx, ex); }

static void learn_vocab(int nf, char **files, long n, int lower, int from_conllu, xf_zout *z)
{
    char **lines = NULL;
    size_t nl = 0, cap = 0, np;
    for (int i = 0; i < nf; i++) xf_collect_lines(files[i], from_conllu, &lines, &nl, &cap);
    if (!nl) die("no text to learn a vocabulary from");
    char **pieces = xf_wordpiece_learn((const char *const *)lines, nl, (size_t)n, lower, &np);
    for (size_t i = 0; i < np; i++) {
        xf_zout_puts(z, pieces[i]);
        xf_zout_puts(z, "\n");
        free(pieces[i]);
    }
    free(pieces);
    for (size_t i = 0; i < nl; i++) free(lines[i]);
    free(lines);
    xf_info(2, "learned %zu pieces from %zu lines", np, nl);
}

static void normalize_lines(const xf_tokenizer *tk, const char *path, xf_zout *z)
{
    xf_in *in = xf_in_open(path);
    char *line;
    ssize_t len;
    while ((len = xf_in_getline(in, &line)) >= 0) {
        xf_check_utf8(line, (size_t)len, xf_in_name(in), xf_in_lineno(in));
        char *s = xf_tok_normalize(tk, line, (size_t)len);
        xf_zout_puts(z, s);
        xf_zout_puts(z, "\n");
        free(s);
    }
    xf_in_close(in);
}

int main(int argc, char **argv)
{
    xf_init(argc, argv);
    static const struct option longopts[] = {
        XF_COMMON_LONGOPTS,
        {"tokenizer", required_argument, 0, 't'}, {"task", required_argument, 0, 'T'},
        {"lang", required_argument, 0, 'l'},      {"seq", required_argument, 0, 'n'},
        {"stride", required_argument, 0, O_STRIDE}, {"line-by-line", no_argument, 0, O_LBL},
        {"group-lines", required_argument, 0, O_GROUP},
        {"text-from-conllu", no_argument, 0, O_TFC}, {"lowercase", no_argument, 0, O_LOWER},
        {"learn-vocab", required_argument, 0, O_LEARN}, {"decode", no_argument, 0, O_DECODE},
        {"normalize", no_argument, 0, O_NORM},    {"output", required_argument, 0, 'o'},
        {"zstd", no_argument, 0, 'z'},            {0, 0, 0, 0}};
    const char *tkpath = NULL, *lang = NULL, *out = "-";
    xf_task task = XF_TASK_INVALID;
    long seq = 0, stride = 128, learn = 0, group = 1000;
    int lbl = 0, tfc = 0, lower = 0, decode = 0, norm = 0, zmode = XF_Z_AUTO, c;
    while ((c = getopt_long(argc, argv, XF_COMMON_SHORTOPTS "t:T:l:n:o:z", longopts, 0)) != -1) {
        if (xf_cli_common(c, usage)) continue;
        switch (c) {
        case 't': tkpath = optarg; break;
        case 'T':
            task = xf_task_parse(optarg);
            if (task == XF_TASK_INVALID) die_usage("--task: unknown task '%s' (mlm, pos, dep, ner, nli, qa)", optarg);
            break;
        case 'l': lang = optarg; break;
        case 'n': seq = xf_parse_long("--seq", optarg, 3, 1 << 20); break;
        case O_STRIDE: stride = xf_parse_long("--stride", optarg, 0, 1 << 20); break;
        case O_LBL: lbl = 1; break;
        case O_GROUP: group = xf_parse_long("--group-lines", optarg, 0, 1L << 40); break;
        case O_TFC: tfc = 1; break;
        case O_LOWER: lower = 1; break;
        case O_LEARN: learn = xf_parse_long("--learn-vocab", optarg, 16, 1 << 24); break;
        case O_DECODE: decode = 1; break;
        case O_NORM: norm = 1; break;
        case 'o': out = optarg; break;
        case 'z': zmode = XF_Z_ON; break;
        default: die_usage("unknown option (see --help)");
        }
    }
    int nf = argc - optind;
    char *stdin_only[] = {"-"};
    char **files = nf ? argv + optind : stdin_only;
    if (!nf) nf = 1;
    if (decode + norm + (learn > 0) > 1) die_usage("--learn-vocab, --decode and --normalize exclude each other");
    if (!learn && !tkpath) die_usage("--tokenizer is required");
    if (!learn && !decode && !norm && task == XF_TASK_INVALID) die_usage("--task is required");
    if (tfc && task != XF_TASK_MLM && !learn) die_usage("--text-from-conllu goes with --task mlm");
    if (lbl && task != XF_TASK_MLM) die_usage("--line-by-line goes with --task mlm");
    if (lang && !*lang) die_usage("--lang: empty language code");
    char guessed[16];
    if (!learn && !decode && !norm && !lang)
        for (int i = 0; i < nf; i++)
            if (!xf_guess_lang(files[i], guessed))
                die_usage("cannot guess the language of '%s' from its path; give --lang", files[i]);

    double t0 = xf_now();
    size_t bytes = 0;
    xf_tokenizer *tk = NULL;
    if (!learn) {
        tk = xf_tok_load(tkpath);
        if (lower) xf_tok_set_lowercase(tk, 1);
    }
    for (int i = 0; i < nf; i++) xf_note_input(files[i]);   /* -o must not name one */
    xf_zout *z = xf_zout_open(out, zmode);
    if (learn)
        learn_vocab(nf, files, learn, lower, tfc, z);
    else if (decode)
        for (int i = 0; i < nf; i++) xf_decode_stream(tk, files[i], z, i == 0);
    else if (norm)
        for (int i = 0; i < nf; i++) normalize_lines(tk, files[i], z);
    else {
        xf_exwriter e;
        xf_exwriter_init(&e, tk, lang, task, (size_t)seq, sink_write, z);
        e.stride = (size_t)stride;
        e.line_by_line = lbl;
        e.group_lines = (size_t)group;
        xf_ex_write_header(z);
        char cur[16] = "";
        for (int i = 0; i < nf; i++) {
            if (!lang) {
                xf_guess_lang(files[i], guessed);
                if (strcmp(guessed, cur)) {
                    xf_mlm_flush(&e);   /* a block never mixes languages */
                    strcpy(cur, guessed);
                    e.lang = cur;
                }
            }
            switch (task) {
            case XF_TASK_MLM: tfc ? xf_read_conllu_text(&e, files[i]) : xf_read_text(&e, files[i]); break;
            case XF_TASK_POS: case XF_TASK_DEP: xf_read_conllu(&e, files[i]); break;
            case XF_TASK_NER: xf_read_iob(&e, files[i]); break;
            case XF_TASK_NLI: xf_read_nli(&e, files[i]); break;
            case XF_TASK_QA: xf_read_squad(&e, files[i]); break;
            default: break;
            }
        }
        xf_exwriter_finish(&e);
        xf_exwriter_report(&e, nf == 1 ? files[0] : "all inputs");
        bytes = e.st.bytes;
    }
    xf_zout_commit(z);
    if (xf_verbosity >= 2) {
        double dt = xf_now() - t0;
        fprintf(stderr, "%s: %.3f s, %zu bytes of text, %.2f MB/s, peak RSS %.1f MB\n", xf_progname,
                dt, bytes, dt > 0 ? bytes / 1e6 / dt : 0.0, xf_peak_rss() / 1e6);
    }
    if (tk) xf_tok_free(tk);
    return 0;
}
