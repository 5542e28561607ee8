#!/usr/bin/env bash
# xf-mlmstep on bad input: each a clear error, exit 1 (2 for usage), and no
# output left behind.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/mlmstep-lib.bash"
cd "$tmp"
mk_tiny m
mk_examples ex.tsv 12 100 1
xf-mlmstep --init m/config.json --tokenizer m/vocab.txt --steps 1 --batch 4 -o good.xfts ex.tsv

# expect RC PATTERN CMD...: exit status RC, stderr matching PATTERN, no out.xfts
expect() {
    local rc=$1 pat=$2; shift 2
    set +e; "$@" 2>err >/dev/null; local got=$?; set -e
    if [ "$got" != "$rc" ] || ! grep -q -- "$pat" err || [ -e out.xfts ] || [ -e outhf ]; then
        echo "FAILED: $* -> rc $got (want $rc), stderr:"; cat err; exit 1
    fi
}

# vocabulary and model disagree
mk_tiny small 90
expect 1 "mismatched vocabulary and model" \
    xf-mlmstep --model good.xfts --tokenizer small/vocab.txt --steps 1 -o out.xfts ex.tsv
# example ids outside the model's vocabulary
mk_examples big.tsv 12 150 2
expect 1 "big.tsv:[0-9]*:.*150\|big.tsv:[0-9]*:.*vocab" \
    xf-mlmstep --model good.xfts --steps 1 -o out.xfts big.tsv
# not an mlm stream
sed 's/\tmlm\t/\tnli\t/' ex.tsv >nli.tsv
expect 1 "" xf-mlmstep --model good.xfts --steps 1 -o out.xfts nli.tsv
# divergence: NaN/Inf in the loss or the weights stops with the step, writes nothing
expect 1 "step [0-9]*:.*\(NaN\|infinite\)" \
    xf-mlmstep --model good.xfts --steps 5 --batch 4 --lr 1e30 -o out.xfts --hf-out outhf \
    --log out.log ex.tsv
test ! -e out.log
# truncated model stream, on stdin and as a file
head -c 3000 good.xfts >trunc.xfts
expect 1 "trunc\|truncated\|corrupt" xf-mlmstep --model trunc.xfts --steps 1 -o out.xfts ex.tsv
expect 1 "truncated\|corrupt\|stdin" sh -c 'head -c 3000 good.xfts | xf-mlmstep --model - --tokenizer m/vocab.txt --steps 1 -o out.xfts ex.tsv'
# out of memory at allocation: the size asked is named.  16 PB of weights
# exceed any address space, so the allocation fails whatever the overcommit
# policy (ASan builds: let malloc return NULL instead of aborting).
sed -e 's/"vocab_size": 100/"vocab_size": 2000000000/' \
    -e 's/"hidden_size": 32/"hidden_size": 2000000/' m/config.json >huge.json
expect 1 "out of memory allocating [0-9]* bytes" env ASAN_OPTIONS=allocator_may_return_null=1 \
    xf-mlmstep --init huge.json --tokenizer m/vocab.txt --steps 1 -o out.xfts ex.tsv
# an activation the encoder does not implement
sed 's/"gelu"/"gelu_new"/' m/config.json >act.json
expect 1 "hidden_act 'gelu_new' is not supported" \
    xf-mlmstep --init act.json --tokenizer m/vocab.txt --steps 1 -o out.xfts ex.tsv
# rows longer than --seq
expect 1 "longer than --seq 8" xf-mlmstep --model good.xfts --steps 1 --seq 8 -o out.xfts ex.tsv
# usage errors
expect 2 "steps is required" xf-mlmstep --model good.xfts -o out.xfts ex.tsv
expect 2 "exactly one of" xf-mlmstep --model good.xfts --init m/config.json --steps 1 -o out.xfts ex.tsv
expect 2 "init-positions needs --init" xf-mlmstep --model good.xfts --init-positions sinusoidal --steps 1 -o out.xfts ex.tsv
expect 2 "must be sinusoidal or random" xf-mlmstep --init m/config.json --init-positions cosine --steps 1 -o out.xfts ex.tsv
expect 2 "only one input can be stdin" xf-mlmstep --model - --steps 1 -o out.xfts -
expect 2 "save-prefix" xf-mlmstep --model good.xfts --steps 2 --save-at 1 ex.tsv
echo ok
