#!/usr/bin/env bash
# Language adapters as AdapterHub folders (xf-adapt --task mlm --hub-out): a
# pfeiffer+inv adapter trained for a few steps on a small random BERT writes
# the folder the adapters library writes (adapter_config.json as
# PfeifferInvConfig, invertible-adapter tensors beside the bottlenecks, the
# trained MLM head as a masked_lm prediction head without the tied decoder
# weight); the folder is bitwise the same at 1 and 2 threads; a task adapter
# trained on it and evaluations with it are bitwise those with the tensor
# stream; used as a task adapter it is refused; an existing folder is not
# overwritten.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
py=/usr/bin/python3
ud=${XF_DATA:?}/ud
zstd -dc "$ud/eng_ewt/dev.conllu.zst" | sed -n 's/^# text = //p' > all.txt
head -300 all.txt > text.txt
xf-tokenize -q --learn-vocab 400 -o vocab.txt text.txt
V=$(wc -l < vocab.txt)
cat > config.json <<EOF
{"model_type": "bert", "vocab_size": $V, "hidden_size": 32, "num_hidden_layers": 2,
 "num_attention_heads": 2, "intermediate_size": 64, "max_position_embeddings": 128,
 "type_vocab_size": 2, "initializer_range": 0.3}
EOF
xf-tokenize -q --tokenizer vocab.txt --task mlm --seq 32 --lang eng text.txt > mlm.tsv
xf-mlmstep -q --init config.json --tokenizer vocab.txt --steps 1 --batch 2 --lr 1e-9 -o base.xfts mlm.tsv
xf-tokenize -q --tokenizer vocab.txt --task pos --seq 64 --lang eng "$ud/eng_ewt/dev.conllu.zst" > all.tsv
head -41 all.tsv > eng.tsv
xf-tokenize -q --tokenizer vocab.txt --task pos --seq 64 --lang deu "$ud/deu_gsd/dev.conllu.zst" > all.tsv
head -21 all.tsv > deu.tsv

mlm() { xf-adapt -q -m base.xfts --task mlm --lang eng --inv --tokenizer vocab.txt --seq 32 \
          --epochs 1 --max-steps 4 --batch 8 --lr 1e-2 --reduction 4 --seed 5 "$@" mlm.tsv; }
mlm --threads 1 -o la.xfts --hub-out hub
mlm --threads 2 --hub-out hub2
for f in adapter_config.json adapter.safetensors head_config.json model_head.safetensors; do
  [ -s "hub/$f" ] || { echo "hub/$f missing"; exit 1; }
  cmp "hub/$f" "hub2/$f"
done
[ "$(ls hub | wc -l)" -eq 4 ]

# the JSON keys and tensor names of the adapters library
cat > check.py <<'EOF'
import json, struct, sys
d, V = sys.argv[1], int(sys.argv[2])
def names(f):
    with open(f"{d}/{f}", "rb") as fp:
        n = struct.unpack("<Q", fp.read(8))[0]
        h = json.loads(fp.read(n))
    h.pop("__metadata__", None)
    return h
ac = json.load(open(f"{d}/adapter_config.json"))
c = ac["config"]
want = {"architecture": "bottleneck", "inv_adapter": "nice", "inv_adapter_reduction_factor": 2,
        "reduction_factor": 4, "non_linearity": "relu", "original_ln_before": True,
        "original_ln_after": True, "residual_before_ln": True, "mh_adapter": False,
        "output_adapter": True, "ln_before": False, "ln_after": False}
bad = {k: c.get(k) for k in want if c.get(k) != want[k]}
assert not bad, f"adapter_config.json: {bad}"
assert ac["name"] == "eng" and ac["model_class"] == "BertAdapterModel" and ac["hidden_size"] == 32, ac
hc = json.load(open(f"{d}/head_config.json"))
h = hc["config"]
want = {"head_type": "masked_lm", "layers": 2, "activation_function": "gelu", "layer_norm": True,
        "bias": True, "shift_labels": False, "vocab_size": V, "embedding_size": 32}
bad = {k: h.get(k) for k in want if h.get(k) != want[k]}
assert not bad, f"head_config.json: {bad}"
assert hc["name"] == "eng", hc
a = names("adapter.safetensors")
exp = {f"bert.encoder.layer.{l}.output.adapters.eng.{p}" for l in range(2)
       for p in ("adapter_down.0.weight", "adapter_down.0.bias", "adapter_up.weight", "adapter_up.bias")}
exp |= {f"bert.invertible_adapters.eng.{m}.{i}.{p}" for m in "FG" for i in (0, 2) for p in ("weight", "bias")}
assert set(a) == exp, sorted(set(a) ^ exp)
assert a["bert.invertible_adapters.eng.F.0.weight"]["shape"] == [8, 16], a["bert.invertible_adapters.eng.F.0.weight"]
assert a["bert.encoder.layer.0.output.adapters.eng.adapter_down.0.weight"]["shape"] == [8, 32]
m = names("model_head.safetensors")
exp = {"heads.eng.0.weight": [32, 32], "heads.eng.0.bias": [32], "heads.eng.2.weight": [32],
       "heads.eng.2.bias": [32], "heads.eng.3.bias": [V]}
got = {k: v["shape"] for k, v in m.items()}
assert got == exp, got
assert all(v["dtype"] == "F32" for v in list(a.values()) + list(m.values()))
EOF
"$py" check.py hub "$V"

# a task adapter trained on the folder is bitwise the one trained on the stream
pos() { xf-adapt -q -m base.xfts --task pos --epochs 1 --batch 8 --seed 3 "$@" eng.tsv; }
pos --lang-adapter la.xfts --hub-out ts_s -o st.xfts
pos --lang-adapter hub --hub-out ts_h
cmp ts_s/adapter.safetensors ts_h/adapter.safetensors
cmp ts_s/model_head.safetensors ts_h/model_head.safetensors
# ... and evaluates the same with either
xf-eval -m base.xfts --lang-adapter la.xfts -a st.xfts --model-name tiny eng.tsv deu.tsv > s.tsv
xf-eval -m base.xfts --lang-adapter hub -a ts_h --model-name tiny eng.tsv deu.tsv > h.tsv
cmp s.tsv h.tsv
[ "$(wc -l < s.tsv)" -eq 3 ]
# the invertible adapter matters: without it (plain pfeiffer, same seed) the rows differ
xf-adapt -q -m base.xfts --task mlm --lang eng --tokenizer vocab.txt --seq 32 --epochs 1 \
  --max-steps 4 --batch 8 --lr 1e-2 --reduction 4 --seed 5 --hub-out plain mlm.tsv
grep -q '"inv_adapter": null' plain/adapter_config.json
! grep -aq invertible_adapters plain/adapter.safetensors || exit 1
xf-eval -m base.xfts --lang-adapter plain -a st.xfts --model-name tiny eng.tsv deu.tsv > p.tsv
! cmp -s s.tsv p.tsv || { echo "the invertible adapter changed nothing"; exit 1; }

# a language adapter is no task adapter; an existing folder is not overwritten
set +e
xf-eval -m base.xfts -a hub deu.tsv > /dev/null 2>&1; r1=$?
mlm --hub-out hub 2>/dev/null; r2=$?
set -e
[ "$r1" -eq 1 ] && [ "$r2" -eq 1 ] || { echo "exit codes $r1 $r2"; exit 1; }
cmp hub/adapter.safetensors hub2/adapter.safetensors
[ -z "$(ls -d hub.tmp* 2>/dev/null)" ] || { echo "temporary folder left behind"; exit 1; }
echo ok
