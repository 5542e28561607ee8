#!/usr/bin/env bash
# Benchmark (issue 4 §4): an mBERT-base-shaped model (random weights; V=119547,
# L=12, d=768, 12 heads, ff 3072), B=8, T=512, 2 threads: seconds per
# xf-mlmstep training step, achieved GFLOP/s, the BLIS sgemm peak measured in
# the same run, peak RSS; then forward-only (eval mode) throughput at T=128.
# Targets: <= 20 s/step (>= 80 % of the sgemm peak), peak RSS <= 6 GiB,
# >= 600 tokens/s forward.  BENCH_STEPS (default 3) steps; the first is
# reported separately (first-touch page faults).
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
vocab="$XF_DATA/tokenizers/mbert-cased/vocab.txt"
threads=${BENCH_THREADS:-2}
steps=${BENCH_STEPS:-3}
cat >config.json <<JSON
{"model_type": "bert", "vocab_size": 119547, "hidden_size": 768, "num_hidden_layers": 12,
 "num_attention_heads": 12, "intermediate_size": 3072, "max_position_embeddings": 512,
 "type_vocab_size": 2, "pad_token_id": 0, "layer_norm_eps": 1e-12,
 "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
 "initializer_range": 0.02, "hidden_act": "gelu"}
JSON
# rows of [CLS] random ids [SEP] (ids of ordinary pieces, 1000..119546)
rows() {
    awk -v rows="$1" -v len="$2" 'BEGIN {
        srand(7); OFS = "\t"
        print "lang", "id", "task", "ids", "types", "words", "labels", "heads", "rels", "offsets", "extra"
        for (r = 0; r < rows; r++) {
            s = "101"
            for (i = 0; i < len - 2; i++) s = s " " (1000 + int(rand() * 118547))
            print "xx", "r" r, "mlm", s " 102", "-", "-", "-", "-", "-", "-", "-"
        }
    }'
}
rows 64 512 >train.tsv
rows 64 128 >eval.tsv
echo "mBERT-base shape, B=8 T=512, $threads threads, $steps steps:"
xf-mlmstep --init config.json --tokenizer "$vocab" --steps "$steps" --batch 8 --seq 512 \
    --threads "$threads" --perf ${BENCH_LOG:+--log "$BENCH_LOG"} -o model.xfts train.tsv
echo "forward only (eval mode), B=8 T=128, $threads threads:"
xf-mlmstep --eval --init config.json --tokenizer "$vocab" --batch 8 --seq 128 \
    --threads "$threads" --perf eval.tsv >/dev/null
