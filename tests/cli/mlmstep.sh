#!/usr/bin/env bash
# xf-mlmstep: reproducibility at any thread count, checkpoints and bitwise
# resume, stdin/stdout chaining, --log, --eval, HF folder output.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/mlmstep-lib.bash"
cd "$tmp"
mk_tiny m
mk_examples ex.tsv 24 100 5
common=(--init m/config.json --tokenizer m/vocab.txt --batch 4 --seed 3)

# same seed => same weights at 1 and 2 threads (dropout, masks, order all seeded)
xf-mlmstep "${common[@]}" --steps 6 --threads 1 --hf-out t1 ex.tsv
xf-mlmstep "${common[@]}" --steps 6 --threads 2 --hf-out t2 ex.tsv
cmp t1/model.safetensors t2/model.safetensors
# the tensor stream too, byte for byte (provenance leaves --threads out)
mkdir a b
(cd a && xf-mlmstep --init ../m/config.json --tokenizer ../m/vocab.txt --batch 4 --seed 3 \
    --steps 6 --threads 1 -o s.xfts ../ex.tsv)
(cd b && xf-mlmstep --init ../m/config.json --tokenizer ../m/vocab.txt --batch 4 --seed 3 \
    --steps 6 --threads=2 -o s.xfts ../ex.tsv)
cmp a/s.xfts b/s.xfts
# another seed gives other weights
xf-mlmstep "${common[@]}" --steps 6 --seed 4 --hf-out t3 ex.tsv
! cmp -s t1/model.safetensors t3/model.safetensors

# --save-at + --resume continue bitwise-identically
xf-mlmstep "${common[@]}" --steps 6 --save-at 2,4 --save-prefix ck --log log.tsv \
    -o full.xfts --hf-out full ex.tsv
test -s ck.step2 && test -s ck.step4
cmp full/model.safetensors t2/model.safetensors    # checkpointing changes nothing
xf-mlmstep --resume ck.step2 --threads 2 --hf-out res2 ex.tsv
cmp full/model.safetensors res2/model.safetensors
xf-mlmstep --resume ck.step4 --steps 6 --seed 3 --hf-out res4 ex.tsv
cmp full/model.safetensors res4/model.safetensors
# a resume with other settings is refused
set +e; xf-mlmstep --resume ck.step4 --steps 7 -o x.xfts ex.tsv 2>err; rc=$?; set -e
test "$rc" = 2 && grep -q -- "--steps differs" err && test ! -e x.xfts
# ... and on other data
mk_examples other.tsv 24 100 6
set +e; xf-mlmstep --resume ck.step4 -o x.xfts other.tsv 2>err; rc=$?; set -e
test "$rc" = 1 && grep -q "other examples" err && test ! -e x.xfts

# the log: header + one row per step, finite losses, lr decaying linearly to 0
test "$(head -1 log.tsv)" = "$(printf 'step\tlr\tloss\tmasked\tseconds')"
test "$(tail -n +2 log.tsv | wc -l)" = 6
awk -F'\t' 'NR > 1 { if (!($3 > 0 && $3 < 20) || $4 < 1) exit 1 }' log.tsv
awk -F'\t' 'function off(x, y) { return (x - y) ^ 2 > 1e-22 }
    NR == 2 && off($2, 5e-5) { exit 1 } NR == 7 && off($2, 5e-5 / 6) { exit 1 }' log.tsv

# chaining: a model stream on stdin (tokenizer recorded in its HEAD), stream on stdout
xf-mlmstep --model - --steps 2 --batch 4 ex.tsv <full.xfts >chained.xfts
test "$(zstd -dc chained.xfts | head -c 4)" = XFTS
# a checkpoint is also a model
xf-mlmstep --model ck.step4 --steps 1 --batch 4 -o fromck.xfts ex.tsv
test -s fromck.xfts

# --eval: eval-mode loss; deterministic; the trained model beats the random init
xf-mlmstep --eval --model full.xfts --batch 4 ex.tsv >e1.tsv
xf-mlmstep --eval --model full.xfts --batch 4 --threads 1 ex.tsv >e2.tsv
test "$(cut -f1-3 e1.tsv)" = "$(cut -f1-3 e2.tsv)"
head -1 e1.tsv | grep -q '^loss	masked	tokens'
awk -F'\t' 'NR == 2 { exit !($1 > 0 && $1 < 10 && $2 > 0) }' e1.tsv
echo ok
