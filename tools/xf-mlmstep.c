/* xf-mlmstep — few-step masked-LM finetuning of a whole BERT / XLM-R model
 * (xf-mlmstep(1)); the loop lives in lib/mlm.c. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "encoder.h"
#include "encoder_io.h"
#include "encoder_posinit.h"
#include "gemm.h"
#include "hfmodel.h"
#include "mlm.h"
#include "ops.h"
#include "provenance.h"
#include "rng.h"
#include "tokenizer.h"
#include "util.h"
#include "zio.h"

static const char USAGE[] =
    "Usage: xf-mlmstep (--model MODEL | --init CONFIG | --resume CKPT) --steps K [OPTION]... EXAMPLES\n"
    "Masked-LM finetuning of a whole BERT / XLM-R model on an mlm example stream\n"
    "(xf-tokenize --task mlm), as HF run_mlm_no_trainer does it; writes the model.\n"
    "Model:\n"
    "  -m, --model MODEL      HF folder, tensor stream, or '-' (stream on stdin)\n"
    "      --init CONFIG      start from random weights (HF init) of this config.json\n"
    "      --init-positions sinusoidal|random  with --init: position embeddings from\n"
    "                         sinusoids (amplitude 0.1; for tiny models) or HF's random init\n"
    "      --resume CKPT      continue a checkpoint written by --save-at\n"
    "      --tokenizer PATH   vocabulary (folder, vocab.txt, tokenizer.json); default: the\n"
    "                         model folder, or the one recorded in the model stream\n"
    "Training (defaults as run_mlm_no_trainer):\n"
    "      --steps K          optimizer steps; the LR decays linearly to 0 over K\n"
    "      --batch N          rows per step (8)\n"
    "      --seq N            longest row accepted (512)\n"
    "      --lr F             peak learning rate (5e-5)\n"
    "      --warmup N         linear warmup steps (0)\n"
    "      --weight-decay F   AdamW weight decay, not on biases/LayerNorm weights (0)\n"
    "      --clip F           clip the gradient L2 norm to F (default: no clipping)\n"
    "      --mlm-probability F  share of tokens masked (0.15)\n"
    "      --seed N           data order, masks and dropout (1)\n"
    "      --threads N        threads (default: all cores); results do not depend on it\n"
    "Output:\n"
    "  -o, --output FILE      the model as a tensor stream ('-' = stdout, the default)\n"
    "      --hf-out DIR       also (or only) as an HF folder: config.json, model.safetensors,\n"
    "                         vocabulary\n"
    "      --save-at LIST     also write checkpoints after these steps (e.g. 1,10,100)\n"
    "      --save-prefix P    checkpoint K goes to P.stepK (default: the -o or --hf-out name)\n"
    "      --log FILE         per-step TSV: step lr loss masked seconds\n"
    "      --eval             no training: mean MLM loss over EXAMPLES in eval mode (no\n"
    "                         dropout, masks from --seed), as TSV on stdout or -o\n"
    "      --perf             print seconds/step, GFLOP/s, the sgemm peak measured\n"
    "                         now, and the peak RSS on stderr at the end\n"
    "  -q, --quiet            no progress\n"
    "  -v, --verbose          loss per step on stderr even when it is not a terminal\n"
    "  -h, --help             this help\n"
    "      --version          version\n";

enum { O_INIT = 0x100, O_RESUME, O_TOK, O_STEPS, O_BATCH, O_SEQ, O_LR, O_WARMUP, O_WD, O_CLIP,
       O_MLMP, O_SEED, O_THREADS, O_HFOUT, O_SAVEAT, O_SAVEPFX, O_LOG, O_EVAL, O_PERF,
       O_INITPOS, O_TEST_MASKS, O_TEST_DUMP };

static long *parse_list(const char *s, int *n)
{
    long *v = NULL;
    int k = 0;
    char *copy = xstrdup(s), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        v = xrealloc(v, (size_t)(k + 1) * sizeof *v);
        v[k++] = xf_parse_long("--save-at", tok, 1, 1L << 40);
    }
    free(copy);
    if (!k) die_usage("--save-at: empty list");
    *n = k;
    return v;
}

static int is_dir(const char *p)
{
    struct stat st;
    return strcmp(p, "-") && !stat(p, &st) && S_ISDIR(st.st_mode);
}

/* --eval: mean loss over all examples, in order, batch by batch. */
static void run_eval(xf_encoder *e, const xf_mlm_data *d, const xf_mlm_opts *o, const char *out,
                     int perf, int nthreads)
{
    int B = o->batch, T = d->maxlen;
    const xf_enc_dims *dims = xf_encoder_dims(e);
    xf_encoder_reserve(e, B, T);
    size_t N = (size_t)B * T;
    int32_t *in = xmalloc(N * sizeof *in), *lb = xmalloc(N * sizeof *lb), *am = xmalloc(N * sizeof *am);
    int32_t *pos = xmalloc(N * sizeof *pos), *tgt = xmalloc(N * sizeof *tgt);
    double total = 0.0, t0 = xf_now(), t_fwd = 0.0, fwd_flops = 0.0;
    long masked = 0, tokens = 0;
    for (size_t i0 = 0, step = 0; i0 < d->n; i0 += B, step++) {
        int nb = d->n - i0 < (size_t)B ? (int)(d->n - i0) : B, Tb = 0, M = 0;
        for (int b = 0; b < nb; b++) Tb = d->len[i0 + b] > Tb ? d->len[i0 + b] : Tb;
        for (int b = 0; b < nb; b++) {
            const int32_t *ids = d->ids[i0 + b];
            int n = d->len[i0 + b];
            int32_t *ib = in + (size_t)b * Tb, *lbb = lb + (size_t)b * Tb;
            xf_mlm_mask_row(ib, lbb, ids, n, d, o->mlm_prob, o->seed, (long)step, b);
            tokens += n;
            for (int t = 0; t < Tb; t++) {
                if (t >= n) { ib[t] = dims->pad_id; lbb[t] = -100; }
                am[(size_t)b * Tb + t] = t < n;
                if (lbb[t] != -100) { pos[M] = b * Tb + t; tgt[M] = lbb[t]; M++; }
            }
        }
        double tf = xf_now();
        xf_encoder_forward(e, in, NULL, am, nb, Tb, 0, 0);
        t_fwd += xf_now() - tf;
        fwd_flops += xf_encoder_forward_flops(e, nb, Tb);
        if (M) total += (double)xf_encoder_mlm_step(e, pos, tgt, M, 0, NULL) * M;
        masked += M;
    }
    double secs = xf_now() - t0;
    if (!masked) die("--eval: no token was masked (too few examples?)");
    xf_zout *z = xf_zout_open(out ? out : "-", XF_Z_AUTO);
    xf_zout_printf(z, "loss\tmasked\ttokens\tseconds\tforward_tokens_per_s\n");
    xf_zout_printf(z, "%.6f\t%ld\t%ld\t%.3f\t%.1f\n", total / masked, masked, tokens, secs,
                   tokens / (t_fwd > 0 ? t_fwd : 1e-9));
    xf_zout_commit(z);
    if (perf) {
        double flops = xf_encoder_forward_flops(e, 1, 1) > 0 ? fwd_flops : 0.0;
        double peak = xf_sgemm_peak_gflops(nthreads);
        fprintf(stderr, "perf: eval forward %ld tokens in %.3f s: %.1f tokens/s, %.1f GFLOP/s; "
                "%s sgemm peak %.1f GFLOP/s on %d threads (%.0f %% of it); peak RSS %.2f GiB\n",
                tokens, t_fwd, tokens / t_fwd, flops / t_fwd * 1e-9, xf_gemm_backend(), peak, nthreads,
                100.0 * flops / t_fwd * 1e-9 / peak, xf_peak_rss() / 1073741824.0);
    }
    free(in); free(lb); free(am); free(pos); free(tgt);
}

int main(int argc, char **argv)
{
    xf_init(argc, argv);
    static const struct option longopts[] = {
        XF_COMMON_LONGOPTS,
        {"model", required_argument, 0, 'm'},
        {"output", required_argument, 0, 'o'},
        {"init", required_argument, 0, O_INIT},
        {"init-positions", required_argument, 0, O_INITPOS},
        {"resume", required_argument, 0, O_RESUME},
        {"tokenizer", required_argument, 0, O_TOK},
        {"steps", required_argument, 0, O_STEPS},
        {"batch", required_argument, 0, O_BATCH},
        {"seq", required_argument, 0, O_SEQ},
        {"lr", required_argument, 0, O_LR},
        {"warmup", required_argument, 0, O_WARMUP},
        {"weight-decay", required_argument, 0, O_WD},
        {"clip", required_argument, 0, O_CLIP},
        {"mlm-probability", required_argument, 0, O_MLMP},
        {"seed", required_argument, 0, O_SEED},
        {"threads", required_argument, 0, O_THREADS},
        {"hf-out", required_argument, 0, O_HFOUT},
        {"save-at", required_argument, 0, O_SAVEAT},
        {"save-prefix", required_argument, 0, O_SAVEPFX},
        {"log", required_argument, 0, O_LOG},
        {"eval", no_argument, 0, O_EVAL},
        {"perf", no_argument, 0, O_PERF},
        {"test-masks", required_argument, 0, O_TEST_MASKS},
        {"test-dump", required_argument, 0, O_TEST_DUMP},
        {0, 0, 0, 0}};
    xf_mlm_opts o = xf_mlm_defaults();
    o.seed = 1;
    const char *model = NULL, *init = NULL, *resume = NULL, *tok_path = NULL, *out = NULL,
               *hf_out = NULL, *threads = NULL;
    int steps_set = 0, eval = 0, perf = 0, sin_pos = 0;
    long *save_list = NULL;
    int set[O_TEST_DUMP + 1] = {0};
    xf_mlm_opts given = o;
    int c;
    while ((c = getopt_long(argc, argv, XF_COMMON_SHORTOPTS "m:o:", longopts, 0)) != -1) {
        if (xf_cli_common(c, USAGE)) continue;
        if (c >= O_INIT && c <= O_TEST_DUMP) set[c] = 1;
        switch (c) {
        case 'm': model = optarg; break;
        case 'o': out = optarg; break;
        case O_INIT: init = optarg; break;
        case O_INITPOS:
            if (strcmp(optarg, "sinusoidal") && strcmp(optarg, "random"))
                die_usage("--init-positions must be sinusoidal or random");
            sin_pos = !strcmp(optarg, "sinusoidal");
            break;
        case O_RESUME: resume = optarg; break;
        case O_TOK: tok_path = optarg; break;
        case O_STEPS: o.steps = xf_parse_long("--steps", optarg, 1, XF_MLM_MAX_STEPS); steps_set = 1; break;
        case O_BATCH: o.batch = (int)xf_parse_long("--batch", optarg, 1, XF_MLM_MAX_BATCH); break;
        case O_SEQ: o.seq = (int)xf_parse_long("--seq", optarg, XF_MLM_MIN_SEQ, XF_MLM_MAX_SEQ); break;
        case O_LR: o.lr = (float)xf_parse_double("--lr", optarg); break;
        case O_WARMUP: o.warmup = xf_parse_long("--warmup", optarg, 0, XF_MLM_MAX_STEPS); break;
        case O_WD: o.weight_decay = (float)xf_parse_double("--weight-decay", optarg); break;
        case O_CLIP: o.clip = (float)xf_parse_double("--clip", optarg); break;
        case O_MLMP: o.mlm_prob = (float)xf_parse_double("--mlm-probability", optarg); break;
        case O_SEED: o.seed = (uint64_t)xf_parse_long("--seed", optarg, 0, XF_MLM_MAX_SEED); break;
        case O_THREADS: threads = optarg; break;
        case O_HFOUT: hf_out = optarg; break;
        case O_SAVEAT: free(save_list); save_list = parse_list(optarg, &o.n_save_at); o.save_at = save_list; break;
        case O_SAVEPFX: o.save_prefix = optarg; break;
        case O_LOG: o.log_path = optarg; break;
        case O_EVAL: eval = 1; break;
        case O_PERF: perf = 1; break;
        case O_TEST_MASKS: o.test_masks = optarg; break;
        case O_TEST_DUMP: o.test_dump = optarg; break;
        default: die_usage("unknown option");
        }
    }
    given = o;
    if (optind != argc - 1) die_usage("expected one EXAMPLES file (use '-' for stdin)");
    const char *examples = argv[optind];
    if (!!model + !!init + !!resume != 1)
        die_usage("give exactly one of --model, --init, --resume");
    if (set[O_INITPOS] && !init) die_usage("--init-positions needs --init");
    if (!eval && !steps_set && !resume) die_usage("--steps is required");
    const char *bad = xf_mlm_opts_problem(&o);
    if (bad) die_usage("%s", bad);
    if ((model && !strcmp(model, "-")) + (resume && !strcmp(resume, "-")) + !strcmp(examples, "-") > 1)
        die_usage("only one input can be stdin");
    if (o.n_save_at && !o.save_prefix) {
        if (out && strcmp(out, "-")) o.save_prefix = out;
        else if (hf_out) o.save_prefix = hf_out;
        else die_usage("--save-at needs --save-prefix (or -o FILE / --hf-out DIR)");
    }
    if (!eval && !out && !hf_out) out = "-";
    if (!eval && out && !strcmp(out, "-") && isatty(STDOUT_FILENO))
        die_usage("refusing to write a binary model stream to a terminal (use -o FILE)");
    int nthreads = xf_cli_threads(threads);

    /* the model */
    xf_config cfg;
    memset(&cfg, 0, sizeof cfg);
    xf_encoder *e;
    xf_tensorset *ckpt = NULL;
    const char *src = model ? model : resume;
    char *stream_tok = NULL;
    xf_prov inprov;   /* the input model's provenance and name (provenance.h) */
    xf_prov_init(&inprov);
    if (init) {
        xf_config_read(&cfg, init);
        xf_enc_dims d = xf_encoder_dims_from_config(&cfg, init);
        e = xf_encoder_new(&d, 1);
        xf_encoder_init_random(e, o.seed);
        if (sin_pos) xf_encoder_init_sinusoidal_positions(e, XF_SINUSOID_AMPLITUDE);
    } else {
        xf_tensorset *ts = xf_prov_model_load(src, &cfg, &inprov);
        /* a checkpoint's tensors are read again for the optimizer state */
        e = resume ? xf_encoder_from_tset(&cfg, ts, src) : xf_encoder_from_tset_consume(&cfg, ts, src);
        json_t *tk = ts->head ? json_object_get(ts->head, "tokenizer") : NULL;
        if (json_is_string(tk)) stream_tok = xstrdup(json_string_value(tk));
        if (resume) ckpt = ts;
        else xf_tset_free(ts);
    }
    if (!tok_path) {
        if (src && is_dir(src)) tok_path = src;
        else if (stream_tok) tok_path = stream_tok;
        else die_usage("--tokenizer is required (the model carries no vocabulary)");
    }
    xf_tokenizer *tk = xf_tok_load(tok_path);
    const xf_enc_dims *dims = xf_encoder_dims(e);
    if ((long)xf_tok_vocab_size(tk) != dims->vocab)
        die("%s: the tokenizer has %zu pieces but the model's vocab_size is %d (mismatched "
            "vocabulary and model)", tok_path, xf_tok_vocab_size(tk), dims->vocab);
    xf_tok_special sp = xf_tok_specials(tk);
    if (sp.pad != dims->pad_id)
        die("%s: the tokenizer's pad id %d differs from the model's pad_token_id %d", tok_path,
            (int)sp.pad, dims->pad_id);

    xf_mlm_data data;
    xf_mlm_data_read(&data, examples, dims->vocab, o.seq);
    int32_t specials[] = {sp.cls, sp.sep, sp.pad, sp.mask, sp.unk};
    xf_mlm_data_set_specials(&data, specials, 5, sp.mask);
    if (dims->roberta ? data.maxlen + dims->pad_id + 1 > dims->max_pos : data.maxlen > dims->max_pos)
        die("%s: rows of %d tokens do not fit the model's %d positions", examples, data.maxlen,
            dims->max_pos);

    if (eval) {
        run_eval(e, &data, &o, out, perf, nthreads);
        xf_prov_free(&inprov);
        xf_mlm_data_free(&data);
        xf_encoder_free(e);
        xf_tok_free(tk);
        xf_config_free(&cfg);
        free(stream_tok);
        free(save_list);
        return 0;
    }

    xf_mlm_state st;
    xf_mlm_state_init(&st, e);
    if (ckpt) {
        xf_mlm_checkpoint_read(ckpt, resume, e, &data, &o, &st);
        xf_tset_free(ckpt);
        /* explicitly given settings must agree with the checkpoint's */
#define SAME(flag, field, what) \
        if (set[flag] && given.field != o.field) die_usage("--resume: %s differs from the checkpoint's", what)
        SAME(O_STEPS, steps, "--steps");
        SAME(O_BATCH, batch, "--batch");
        SAME(O_SEQ, seq, "--seq");
        SAME(O_LR, lr, "--lr");
        SAME(O_WARMUP, warmup, "--warmup");
        SAME(O_WD, weight_decay, "--weight-decay");
        SAME(O_CLIP, clip, "--clip");
        SAME(O_MLMP, mlm_prob, "--mlm-probability");
        SAME(O_SEED, seed, "--seed");
#undef SAME
    }
    char *abs_tok = realpath(tok_path, NULL);
    o.tokenizer = abs_tok ? abs_tok : tok_path;
    /* what xf-eval labels the rows of this model with */
    xf_prov outprov;
    if (init) xf_prov_new_base(&outprov);
    else xf_prov_mlm(&outprov, &inprov, data.langs, o.steps, (long)o.seed, !!resume);
    o.prov = &outprov;
    double t0 = xf_now();
    long step0 = st.step;
    xf_mlm_train(e, &cfg, &data, &o, &st);
    double secs = xf_now() - t0;

    /* outputs, only now: a failed run leaves nothing; the training buffers
     * go first, so the exported copy does not raise the peak memory */
    xf_encoder_release(e);
    free(st.m);
    free(st.v);
    st.m = st.v = NULL;
    xf_tensorset *ts = xf_encoder_to_tset(e);
    json_t *extra = json_object();
    json_object_set_new(extra, "tokenizer", json_string(o.tokenizer));
    json_object_set_new(extra, "mlm", json_pack("{s:I, s:I, s:i, s:f}", "steps", (json_int_t)o.steps,
                                                "seed", (json_int_t)o.seed, "batch", o.batch,
                                                "lr", (double)o.lr));
    xf_prov_put(extra, &outprov);
    xf_commit_set_begin();   /* every output appears, or none */
    if (hf_out) {   /* a folder has no HEAD: its config.json carries the provenance */
        xf_prov_to_config(&cfg, &outprov);
        xf_model_save_hf(hf_out, &cfg, ts, tok_path);
    }
    if (out) xf_model_save_stream(out, &cfg, ts, "model", (long long)o.seed, extra);
    if (st.log) xf_zout_commit(st.log);
    xf_commit_set_end();
    json_decref(extra);
    xf_tset_free(ts);

    if (perf) {
        /* the steps after the first (which pays for first-touch page faults) */
        long done = st.step - step0;
        double per = st.n_rest ? st.secs_rest / st.n_rest : st.secs_first;
        double masked = done ? (double)st.masked_total / done : 0.0;
        double flops = 3.0 * (xf_encoder_forward_flops(e, o.batch, data.maxlen) +
                              xf_encoder_head_flops(e, (int)masked));
        double peak = xf_sgemm_peak_gflops(nthreads);
        fprintf(stderr, "perf: train B=%d T=%d, %ld steps (%.1f s total), %.3f s/step after the "
                "first (first %.3f s), %.1f GFLOP/step, %.1f GFLOP/s; %s sgemm peak %.1f "
                "GFLOP/s on %d threads (%.0f %% of it); peak RSS %.2f GiB\n",
                o.batch, data.maxlen, done, secs, per, st.secs_first, flops * 1e-9,
                flops / per * 1e-9, xf_gemm_backend(), peak, nthreads,
                100.0 * flops / per * 1e-9 / peak,
                xf_peak_rss() / 1073741824.0);
    }
    xf_mlm_state_free(&st);
    xf_prov_free(&outprov);
    xf_prov_free(&inprov);
    xf_mlm_data_free(&data);
    xf_encoder_free(e);
    xf_tok_free(tk);
    xf_config_free(&cfg);
    free(save_list);
    free(abs_tok);
    free(stream_tok);
    return 0;
}
