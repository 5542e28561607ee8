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
# config sizes are bounded before anything is allocated from them (16 PB
# of weights used to reach the allocator; 2^28 layers overflowed an int
# table size; hidden_size 715827883 overflowed 3*hidden), and so is the
# parameter count they imply, computed without overflow
sed -e 's/"vocab_size": 100/"vocab_size": 2000000000/' \
    -e 's/"hidden_size": 32/"hidden_size": 2000000/' m/config.json >huge.json
expect 1 "huge.json: key 'vocab_size': 2000000000 is out of range" \
    xf-mlmstep --init huge.json --tokenizer m/vocab.txt --steps 1 -o out.xfts ex.tsv
sed 's/"num_hidden_layers": 2/"num_hidden_layers": 268435456/' m/config.json >layers.json
expect 1 "layers.json: key 'num_hidden_layers': 268435456 is out of range" \
    xf-mlmstep --init layers.json --tokenizer m/vocab.txt --steps 1 -o out.xfts ex.tsv
sed -e 's/"hidden_size": 32/"hidden_size": 715827884/' -e 's/"num_attention_heads": 2/"num_attention_heads": 1/' \
    m/config.json >hidden.json
expect 1 "hidden.json: key 'hidden_size': 715827884 is out of range" \
    xf-mlmstep --init hidden.json --tokenizer m/vocab.txt --steps 1 -o out.xfts ex.tsv
sed -e 's/"vocab_size": 100/"vocab_size": 16000000/' -e 's/"hidden_size": 32/"hidden_size": 65536/' \
    -e 's/"intermediate_size": 64/"intermediate_size": 262144/' -e 's/"num_hidden_layers": 2/"num_hidden_layers": 1000/' \
    m/config.json >params.json
expect 1 "params.json: the sizes describe more than [0-9]* parameters" \
    xf-mlmstep --init params.json --tokenizer m/vocab.txt --steps 1 -o out.xfts ex.tsv
# the issue's case: a small config naming a million layers is refused by
# the bounds at once, in one line (it used to allocate 1.7 GB and run 20 s
# before failing on the first missing tensor); 1e6 is not even an integer
for v in 1000000 1e6; do
    sed "s/\"num_hidden_layers\": 2/\"num_hidden_layers\": $v/" m/config.json >million.json
    t0=$(date +%s%N)
    expect 1 "^xf-mlmstep: million.json: key 'num_hidden_layers': \(1000000 is out of range \[1, 1024\]\|not an integer\)$" \
        xf-mlmstep --init million.json --tokenizer m/vocab.txt --steps 1 -o out.xfts ex.tsv
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    [ "$(wc -l <err)" = 1 ] && [ "$ms" -lt 5000 ] ||
        { echo "FAILED: num_hidden_layers $v: $(wc -l <err) lines, $ms ms:"; cat err; exit 1; }
done
# within the bounds, the tensors are checked before the parameter arena is
# allocated: a folder whose config implies 6 layers at hidden_size 8192
# (an arena of 7 GB) and whose 5.4 MB safetensors file holds only the
# embeddings fails on the first missing tensor, small and fast.  Checked
# after allocating, it fails on "out of memory" here, as the address space
# is limited to 3 GB (ASan: allocations capped at 3 GB); unlimited, it
# first initialises the absent pooler and MLM head (0.5 GB touched, where
# the untouched rest of a calloc'd arena costs no RSS).
mkdir -p wide
sed -e 's/"hidden_size": 32/"hidden_size": 8192/' -e 's/"num_hidden_layers": 2/"num_hidden_layers": 6/' \
    m/config.json >wide/config.json
cp m/vocab.txt wide/
/usr/bin/python3 - wide/model.safetensors <<'PY'
import json, struct, sys
C = 8192
shapes = {"bert.embeddings.word_embeddings.weight": [100, C],
          "bert.embeddings.position_embeddings.weight": [64, C],
          "bert.embeddings.token_type_embeddings.weight": [2, C],
          "bert.embeddings.LayerNorm.weight": [C], "bert.embeddings.LayerNorm.bias": [C]}
h, off = {}, 0
for k, s in shapes.items():
    n = 4 * s[0] * (s[1] if len(s) > 1 else 1)
    h[k] = {"dtype": "F32", "shape": s, "data_offsets": [off, off + n]}
    off += n
hb = json.dumps(h).encode()
hb += b" " * (-len(hb) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(hb)) + hb + b"\0" * off)
PY
libs=$(ldd "$(command -v xf-mlmstep)" 2>/dev/null || true)   # (no pipe into grep -q: SIGPIPE under pipefail)
t0=$(date +%s%N)
set +e
if [[ $libs == *libasan* ]]; then
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1:max_allocation_size_mb=3072" \
        /usr/bin/time -f %M -o rss xf-mlmstep --threads 1 --model wide --steps 1 -o out.xfts ex.tsv 2>err >/dev/null
else
    (ulimit -v 3000000; exec /usr/bin/time -f %M -o rss xf-mlmstep --threads 1 --model wide --steps 1 \
        -o out.xfts ex.tsv) 2>err >/dev/null
fi
rc=$?
set -e
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
rss=$(tail -n 1 rss)
if [ "$rc" != 1 ] || [ -e out.xfts ] || [ "$rss" -gt 200000 ] || [ "$ms" -gt 10000 ] ||
   ! grep -qx "xf-mlmstep: wide: tensor bert.encoder.layer.0.attention.self.query.weight is missing (the config says num_hidden_layers 6)" err; then
    echo "FAILED: wide: rc $rc, max RSS $rss KB, $ms ms, stderr:"; cat err; exit 1
fi
xf-mlmstep --model good.xfts --steps 1 --hf-out hf2 ex.tsv 2>/dev/null
# NaN / infinite weights are refused at load, naming the file and the tensor
/usr/bin/python3 - hf2/model.safetensors nan/model.safetensors <<'PY'
import json, struct, sys, os
src, dst = sys.argv[1], sys.argv[2]
b = bytearray(open(src, "rb").read())
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
off = h["bert.encoder.layer.1.output.dense.weight"]["data_offsets"][0]
b[8 + n + off + 4 * 5:8 + n + off + 4 * 6] = struct.pack("<f", float("nan"))
os.makedirs(os.path.dirname(dst), exist_ok=True)
open(dst, "wb").write(b)
PY
cp hf2/config.json hf2/vocab.txt nan/
expect 1 "nan: tensor bert.encoder.layer.1.output.dense.weight: element 5 is NaN" \
    xf-mlmstep --model nan --steps 1 -o out.xfts ex.tsv
# tensors no parameter takes are named in one warning with their count
cp -r hf2 extra
/usr/bin/python3 - hf2/model.safetensors extra/model.safetensors <<'PY'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n]); data = b[8 + n:]
end = len(data)
for i in range(3):
    h["bert.encoder.layer.%d.extra.weight" % (7 + i)] = {"dtype": "F32", "shape": [1], "data_offsets": [end, end + 4]}
    end += 4
hb = json.dumps(h).encode()
hb += b" " * (-len(hb) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(hb)) + hb + data + b"\0" * 12)
PY
xf-mlmstep --model extra --steps 1 -o ok.xfts ex.tsv 2>err
[ "$(grep -c 'extra: 3 tensors the model does not use are ignored' err)" = 1 ] || { echo "unused tensors:"; cat err; exit 1; }
xf-mlmstep --model hf2 --steps 1 -o ok.xfts ex.tsv 2>err
! grep -q "does not use" err || { echo "spurious unused warning"; cat err; exit 1; }
rm -f ok.xfts
# a resume checkpoint's settings obey the command line's rules
xf-mlmstep --model good.xfts --steps 2 --batch 4 --save-at 1 --save-prefix ck -o ok.xfts ex.tsv
rm -f ok.xfts
# tamper KEY VALUE: ck.step1 with HEAD mlm_state KEY set to VALUE (JSON) → bad.xfts
tamper() {
    zstd -q -d -c ck.step1 >raw
    /usr/bin/python3 - "$1" "$2" <<'PY'
import json, struct, sys
b = open("raw", "rb").read()
n = struct.unpack("<Q", b[12:20])[0]
h = json.loads(b[20:20 + n])
h["mlm_state"][sys.argv[1]] = json.loads(sys.argv[2])
hb = json.dumps(h).encode()
open("raw2", "wb").write(b[:12] + struct.pack("<Q", len(hb)) + hb + b[20 + n:])
PY
    zstd -q -f raw2 -o bad.xfts
}
tamper batch 0
expect 1 "bad.xfts: HEAD mlm_state: key 'batch': 0 is not an integer in \[1, 4096\]" \
    xf-mlmstep --resume bad.xfts -o out.xfts ex.tsv
tamper batch 1099511627776
expect 1 "bad.xfts: HEAD mlm_state: key 'batch'" xf-mlmstep --resume bad.xfts -o out.xfts ex.tsv
tamper steps 4611686018427387904
expect 1 "bad.xfts: HEAD mlm_state: key 'steps'" xf-mlmstep --resume bad.xfts -o out.xfts ex.tsv
tamper mlm_probability 2
expect 1 "bad.xfts: HEAD mlm_state: --mlm-probability must lie in (0,1\]" \
    xf-mlmstep --resume bad.xfts -o out.xfts ex.tsv
tamper seq 0
expect 1 "bad.xfts: HEAD mlm_state: key 'seq'" xf-mlmstep --resume bad.xfts -o out.xfts ex.tsv
tamper clip -1
expect 1 "bad.xfts: HEAD mlm_state: --clip and --weight-decay must be >= 0" \
    xf-mlmstep --resume bad.xfts -o out.xfts ex.tsv
tamper batch 4   # the untampered value: resumes
xf-mlmstep --resume bad.xfts -o ok.xfts ex.tsv 2>err || { echo "resume of an intact checkpoint:"; cat err; exit 1; }
rm -f ok.xfts
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
