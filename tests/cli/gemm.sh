#!/usr/bin/env bash
# The GEMM backend this build links (make BLAS=...): --version names it and
# its kernel; the provenance of a written stream names it; a model trained
# at a size where every GEMM is cut into tiles is byte-identical at 1, 2 and
# 3 threads; the generic-kernel warning appears exactly when the backend
# runs generic kernels on an AVX2/AVX-512 CPU; without OMP_WAIT_POLICY the
# tools run with the passive wait policy, a user's setting is kept.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/mlmstep-lib.bash"
build=$(dirname "$XF_BIN")
backend=$(cat "$build/blas")
cd "$tmp"

# --version: second line "gemm: BACKEND VERSION, KERNEL"
for t in xf-mlmstep xf-adapt xf-eval; do
    "$t" --version > v.txt
    sed -n 2p v.txt | grep -Eq "^gemm: $backend [0-9][0-9.]*, (sub-configuration|core|isa) [A-Za-z0-9_]+$" ||
        { echo "$t --version: $(cat v.txt)"; exit 1; }
done
kernel=$(xf-mlmstep --version | sed -n 's/^gemm: //p')

# a model big enough for tiled GEMMs (8 x 64 tokens, d=128, ff=512)
mkdir m
cat > m/config.json <<JSON
{"model_type": "bert", "vocab_size": 300, "hidden_size": 128, "num_hidden_layers": 2,
 "num_attention_heads": 2, "intermediate_size": 512, "max_position_embeddings": 64,
 "type_vocab_size": 2, "pad_token_id": 0, "layer_norm_eps": 1e-12,
 "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
 "initializer_range": 0.02, "hidden_act": "gelu"}
JSON
{ printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n'; for ((i = 5; i < 300; i++)); do echo "w$i"; done; } > m/vocab.txt
awk 'BEGIN { srand(5); OFS = "\t"
  print "lang", "id", "task", "ids", "types", "words", "labels", "heads", "rels", "offsets", "extra"
  for (r = 0; r < 32; r++) { s = "2"; for (i = 0; i < 62; i++) s = s " " (5 + int(rand() * 295))
    print "xx", "r" r, "mlm", s " 3", "-", "-", "-", "-", "-", "-", "-" } }' > ex.tsv
for t in 1 2 3; do
    mkdir "t$t"
    (cd "t$t" && xf-mlmstep --init ../m/config.json --tokenizer ../m/vocab.txt --batch 8 --seq 64 \
        --seed 9 --steps 3 --threads $t -o s.xfts ../ex.tsv 2> err.txt)
done
cmp t1/s.xfts t2/s.xfts
cmp t1/s.xfts t3/s.xfts
# provenance names the backend and kernel
zstd -dcq t1/s.xfts > s.raw
head -c 4096 s.raw | grep -aqF "\"gemm\":\"$kernel\""

# the generic-kernel warning, once, exactly when the kernel is generic here
generic=0
if grep -Eqw 'avx2|avx512f' /proc/cpuinfo; then
    case $kernel in
        blis*", sub-configuration generic") generic=1 ;;
        openblas*) case ${kernel##*core } in
                       Haswell|Zen|SkylakeX|Cooperlake|SapphireRapids|Excavator) ;;
                       *) generic=1 ;; esac ;;
        onednn*) case ${kernel##*isa } in avx2*|avx512*) ;; *) generic=1 ;; esac ;;
    esac
fi
n=$(grep -c "warning: GEMM backend .* runs generic kernels" t1/err.txt || true)
[ "$n" = "$generic" ] || { echo "generic=$generic but $n warnings:"; cat t1/err.txt; exit 1; }

# wait policy: PASSIVE unless the user chose.  What libgomp prints under
# OMP_DISPLAY_ENV proves nothing (libgomp 12 shows 'PASSIVE' when the
# variable is unset), so look at the environment a running tool has after
# its start-up re-exec (lib/run/cli.c): xf-tokenize waits on a FIFO, and
# once the FIFO is open for writing the tool is in main(), past the exec.
environ_of() {   # ENV-ARGS... -> environ.txt: a running xf-tokenize's environment
    rm -f fifo environ.txt
    mkfifo fifo
    env "$@" xf-tokenize -q -T mlm -t m/vocab.txt --lang xx -o env-out.tsv fifo 2> /dev/null &
    local pid=$!
    timeout 20 bash -c 'exec 3> fifo; tr "\0" "\n" < "/proc/$1/environ" > environ.txt' _ "$pid" ||
        { kill "$pid" 2> /dev/null || true; echo "wait policy: xf-tokenize never opened its input"; exit 1; }
    wait "$pid" || true
}
policy() { grep '^OMP_WAIT_POLICY=' environ.txt || true; }
environ_of -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT
[ "$(policy)" = OMP_WAIT_POLICY=PASSIVE ] ||
    { echo "wait policy unset: the running tool has '$(policy)', not OMP_WAIT_POLICY=PASSIVE"; exit 1; }
environ_of -u GOMP_SPINCOUNT OMP_WAIT_POLICY=ACTIVE
[ "$(policy)" = OMP_WAIT_POLICY=ACTIVE ] ||
    { echo "OMP_WAIT_POLICY=ACTIVE: the running tool has '$(policy)'"; exit 1; }
environ_of -u OMP_WAIT_POLICY GOMP_SPINCOUNT=1000
[ -z "$(policy)" ] && grep -qx 'GOMP_SPINCOUNT=1000' environ.txt ||
    { echo "GOMP_SPINCOUNT=1000: the running tool has '$(policy)' $(grep GOMP_SPINCOUNT environ.txt)"; exit 1; }
# and libgomp takes the user's value
OMP_WAIT_POLICY=active OMP_DISPLAY_ENV=true xf-eval --version > /dev/null 2> env.txt
[ "$(grep -c "OMP_WAIT_POLICY" env.txt)" = 1 ] && grep "OMP_WAIT_POLICY" env.txt | grep -q "'ACTIVE'"
echo "gemm: ok ($kernel)"
