#!/usr/bin/env bash
# xf-fuse / xf-eval --fusion on a small random BERT: a fusion stream of 3
# language adapters evaluates to rows with setting lang and adapters
# eng+deu+hin; Fuse of one adapter evaluates as that language adapter
# (--lang-adapter, the [1A] case); --seed reproduces the bytes and changes Q/K;
# the AdapterHub fusion folder reads back to the same rows; --train changes
# the fusion, is bitwise identical at 1 and 2 threads, records the languages
# in fusion order; --train on mlm text likewise; bad input (missing file, adapters of another hidden size
# or another model, a task adapter as language adapter, an output that is an
# input) is a one-line error naming the file, exit 1, no output; usage exit 2.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
ud=${XF_DATA:?}/ud
zstd -dc "$ud/eng_ewt/dev.conllu.zst" | sed -n 's/^# text = //p' > all.txt
head -300 all.txt > text.txt
xf-tokenize -q --learn-vocab 400 -o vocab.txt text.txt
V=$(wc -l < vocab.txt)
mkconfig() {   # hidden size, vocabulary
  cat <<EOF
{"model_type": "bert", "vocab_size": $2, "hidden_size": $1, "num_hidden_layers": 2,
 "num_attention_heads": 2, "intermediate_size": 64, "max_position_embeddings": 128,
 "type_vocab_size": 2}
EOF
}
mkconfig 32 "$V" > config.json
xf-tokenize -q --tokenizer vocab.txt --task mlm --seq 32 --lang eng text.txt > mlm.tsv
xf-mlmstep -q --init config.json --tokenizer vocab.txt --steps 1 --batch 2 -o base.xfts mlm.tsv
xf-tokenize -q --tokenizer vocab.txt --task pos --seq 64 --lang eng "$ud/eng_ewt/dev.conllu.zst" > all.tsv
head -41 all.tsv > eng.tsv
xf-tokenize -q --tokenizer vocab.txt --task pos --seq 64 --lang deu "$ud/deu_gsd/dev.conllu.zst" > all.tsv
head -21 all.tsv > deu.tsv
for l in eng deu hin; do
  xf-adapt -q -m base.xfts --task mlm --lang $l --tokenizer vocab.txt --seq 32 --epochs 1 \
    --batch 8 --max-steps 3 --seed 3 -o la_$l.xfts mlm.tsv
done
xf-adapt -q -m base.xfts --task pos --epochs 1 --batch 8 -o pos.xfts eng.tsv

# untrained fusion of three: rows lang / eng+deu+hin
xf-fuse --seed 3 -o f3.xfts la_eng.xfts la_deu.xfts la_hin.xfts
xf-eval -m base.xfts --fusion f3.xfts -a pos.xfts --model-name tiny eng.tsv deu.tsv > r3.tsv
[ "$(wc -l < r3.tsv)" -eq 3 ]
awk -F'\t' 'NR > 1 && !($3 == "lang" && $7 == "eng+deu+hin" && $9 == "upos_acc" && $11 > 0) {exit 1}' r3.tsv
# the same rows at 1 and 2 threads
xf-eval -m base.xfts --fusion f3.xfts -a pos.xfts --model-name tiny --threads 1 eng.tsv deu.tsv | cmp - r3.tsv
xf-eval -m base.xfts --fusion f3.xfts -a pos.xfts --model-name tiny --threads 2 eng.tsv deu.tsv | cmp - r3.tsv
# the stream records the languages in fusion order, and carries the adapters
zstd -dcq f3.xfts > f3.raw
grep -aq '"kind": *"fusion"' f3.raw
grep -aq '"languages": *\["eng", *"deu", *"hin"\]' f3.raw
grep -aq 'bert.encoder.layer.1.output.adapter_fusion_layer.eng,deu,hin.value.weight' f3.raw
grep -aq 'bert.encoder.layer.1.output.adapters.hin.adapter_up.bias' f3.raw
if grep -aq 'cls.predictions' f3.raw; then echo "MLM head carried into the fusion"; exit 1; fi
# another order is another fusion (and other rows' label)
xf-fuse --seed 3 la_hin.xfts la_eng.xfts > fo.xfts
xf-eval -m base.xfts --fusion fo.xfts -a pos.xfts eng.tsv | awk -F'\t' 'NR == 2 && $7 != "hin+eng" {exit 1}'

# Fuse(one) evaluates as the plain language adapter ([1A]; V = I up to 3.1's 1e-6)
xf-fuse -o f1.xfts la_eng.xfts
xf-eval -m base.xfts --fusion f1.xfts -a pos.xfts --model-name tiny eng.tsv deu.tsv > r1.tsv
xf-eval -m base.xfts --lang-adapter la_eng.xfts -a pos.xfts --model-name tiny eng.tsv deu.tsv > l1.tsv
cmp r1.tsv l1.tsv

# --seed: same bytes for the same seed, other Q/K for another
xf-fuse --seed 5 la_eng.xfts la_deu.xfts > s5a.xfts
xf-fuse --seed 5 la_eng.xfts la_deu.xfts > s5b.xfts
xf-fuse --seed 6 la_eng.xfts la_deu.xfts > s6.xfts
cmp s5a.xfts s5b.xfts
! cmp -s s5a.xfts s6.xfts || { echo "--seed changed nothing"; exit 1; }

# AdapterHub fusion folder: same rows as the stream
xf-fuse --seed 3 --hub-out hub3 la_eng.xfts la_deu.xfts la_hin.xfts
for f in adapter_fusion_config.json model_adapter_fusion.safetensors eng/adapter.safetensors \
         eng/adapter_config.json hin/adapter.safetensors; do
  [ -s "hub3/$f" ] || { echo "hub3/$f missing"; exit 1; }
done
grep -q '"name": "eng,deu,hin"' hub3/adapter_fusion_config.json
grep -q '"value_initialized": true' hub3/adapter_fusion_config.json
xf-eval -m base.xfts --fusion hub3 -a pos.xfts --model-name tiny eng.tsv deu.tsv > h3.tsv
cmp r3.tsv h3.tsv
# a fusion built from AdapterHub language-adapter folders
xf-fuse --seed 3 hub3/eng la_deu.xfts hub3/hin > fh.xfts
xf-eval -m base.xfts --fusion fh.xfts -a pos.xfts --model-name tiny eng.tsv deu.tsv | cmp - r3.tsv

# --train: the fusion only; bitwise identical at 1 and 2 threads; changes the fusion
train="--seed 3 --train eng.tsv -m base.xfts -a pos.xfts --epochs 2 --batch 8 --lr 1e-2"
xf-fuse -q $train --threads 1 --hub-out t1 la_eng.xfts la_deu.xfts la_hin.xfts
xf-fuse -q $train --threads 2 --hub-out t2 -o t2.xfts la_eng.xfts la_deu.xfts la_hin.xfts
cmp t1/model_adapter_fusion.safetensors t2/model_adapter_fusion.safetensors
! cmp -s t1/model_adapter_fusion.safetensors hub3/model_adapter_fusion.safetensors ||
  { echo "--train changed nothing"; exit 1; }
cmp t1/eng/adapter.safetensors hub3/eng/adapter.safetensors   # language adapters frozen
zstd -dcq t2.xfts > t2.raw
grep -aq '"trained": *{' t2.raw
xf-eval -m base.xfts --fusion t2.xfts -a pos.xfts eng.tsv > /dev/null

# --train on the fused languages' text (masked LM, the base's head): same at 1
# and 2 threads, changes the fusion
mlm="--seed 3 --train mlm.tsv -m base.xfts --tokenizer vocab.txt --epochs 1 --batch 8 --lr 1e-2 --seq 32"
xf-fuse -q $mlm --threads 1 --hub-out m1 la_eng.xfts la_deu.xfts la_hin.xfts
xf-fuse -q $mlm --threads 2 --hub-out m2 la_eng.xfts la_deu.xfts la_hin.xfts
cmp m1/model_adapter_fusion.safetensors m2/model_adapter_fusion.safetensors
! cmp -s m1/model_adapter_fusion.safetensors hub3/model_adapter_fusion.safetensors ||
  { echo "--train mlm changed nothing"; exit 1; }
! cmp -s m1/model_adapter_fusion.safetensors t1/model_adapter_fusion.safetensors

# bad input: one line naming the file, exit 1, no output
expect_fail() {   # FILE-TO-NAME COMMAND...
  local name=$1; shift
  set +e; "$@" > /dev/null 2> err; local rc=$?; set -e
  [ "$rc" -eq 1 ] || { echo "exit $rc, expected 1: $*"; cat err; exit 1; }
  [ "$(wc -l < err)" -eq 1 ] && grep -q "^xf-fuse: .*$name" err || { echo "bad message: $(cat err)"; exit 1; }
}
expect_fail nope.xfts xf-fuse -o out.xfts la_eng.xfts nope.xfts
[ ! -e out.xfts ]
mkconfig 16 "$V" > c16.json
xf-mlmstep -q --init c16.json --tokenizer vocab.txt --steps 1 --batch 2 -o b16.xfts mlm.tsv
xf-adapt -q -m b16.xfts --task mlm --lang fra --tokenizer vocab.txt --seq 32 --epochs 1 --batch 8 \
  --max-steps 1 -o la16.xfts mlm.tsv
expect_fail la16.xfts xf-fuse -o out.xfts la_eng.xfts la16.xfts
grep -q 'hidden size 16' err
[ ! -e out.xfts ]
head -200 vocab.txt > v2.txt
xf-tokenize -q --tokenizer v2.txt --task mlm --seq 32 --lang eng text.txt > mlm2.tsv
mkconfig 32 200 > c2.json
xf-mlmstep -q --init c2.json --tokenizer v2.txt --steps 1 --batch 2 -o b2.xfts mlm2.tsv
xf-adapt -q -m b2.xfts --task mlm --lang fra --tokenizer v2.txt --seq 32 --epochs 1 --batch 8 \
  --max-steps 1 -o lav.xfts mlm2.tsv
expect_fail lav.xfts xf-fuse -o out.xfts la_eng.xfts lav.xfts
[ ! -e out.xfts ]
expect_fail pos.xfts xf-fuse -o out.xfts la_eng.xfts pos.xfts
expect_fail la_deu.xfts xf-fuse -o out.xfts la_deu.xfts la_deu.xfts
[ ! -e out.xfts ]
cp la_eng.xfts keep.xfts
expect_fail keep.xfts xf-fuse -o keep.xfts keep.xfts la_deu.xfts
cmp keep.xfts la_eng.xfts
# a fusion for another hidden size given to xf-eval
xf-fuse la16.xfts > f16.xfts
set +e
xf-eval -m base.xfts --fusion f16.xfts -a pos.xfts -o out.tsv eng.tsv 2> err; rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q 'f16.xfts' err && [ ! -e out.tsv ]

# usage errors exit 2
for args in "" "--train eng.tsv la_eng.xfts" "-m base.xfts la_eng.xfts" "--bogus la_eng.xfts" \
    "--train eng.tsv -m base.xfts la_eng.xfts" "--train mlm.tsv -m base.xfts -a pos.xfts la_eng.xfts"; do
  set +e; xf-fuse $args > /dev/null 2>&1; rc=$?; set -e
  [ "$rc" -eq 2 ] || { echo "xf-fuse $args: exit $rc, expected 2"; exit 1; }
done
set +e
xf-eval -m base.xfts --fusion f3.xfts --lang-adapter la_eng.xfts -a pos.xfts eng.tsv > /dev/null 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ]
echo ok
