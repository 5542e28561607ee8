#!/usr/bin/env bash
# xf-adapt / xf-eval on a small random BERT (xf-mlmstep --init ... --steps 1):
# output is bitwise identical for one seed at 1 and 2 threads; the AdapterHub
# folder and the stream evaluate identically; eval rows are well formed and
# read back by xf-score's reader (header, columns, settings); a bad target
# gives an error naming it, exit 1 and no output; usage errors
# exit 2; nothing is written on failure; language adapters (plain and
# pfeiffer+inv) lower the masked-LM loss.  AdapterHub folders of language
# adapters (pfeiffer+inv, MLM head): adapt_hub.sh.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
ud=${XF_DATA:?}/ud
zstd -dc "$ud/eng_ewt/dev.conllu.zst" | sed -n 's/^# text = //p' > all.txt
head -300 all.txt > text.txt
xf-tokenize -q --learn-vocab 400 -o vocab.txt text.txt
V=$(wc -l < vocab.txt)
cat > config.json <<EOF
{"model_type": "bert", "vocab_size": $V, "hidden_size": 32, "num_hidden_layers": 2,
 "num_attention_heads": 2, "intermediate_size": 64, "max_position_embeddings": 128,
 "type_vocab_size": 2}
EOF
xf-tokenize -q --tokenizer vocab.txt --task mlm --seq 32 --lang eng text.txt > mlm.tsv
xf-mlmstep -q --init config.json --tokenizer vocab.txt --steps 1 --batch 2 -o base.xfts mlm.tsv
xf-tokenize -q --tokenizer vocab.txt --task pos --seq 64 --lang eng "$ud/eng_ewt/dev.conllu.zst" > all.tsv
head -41 all.tsv > eng.tsv
xf-tokenize -q --tokenizer vocab.txt --task pos --seq 64 --lang deu "$ud/deu_gsd/dev.conllu.zst" > all.tsv
head -21 all.tsv > deu.tsv

# reproducible at any thread count
xf-adapt -q -m base.xfts --task pos --epochs 1 --batch 8 --seed 7 --threads 1 -o a1.xfts \
  --hub-out hub1 eng.tsv
xf-adapt -q -m base.xfts --task pos --epochs 1 --batch 8 --seed 7 --threads 2 -o a2.xfts \
  --hub-out hub eng.tsv
# (the streams differ in HEAD argv; the weights must not)
cmp hub1/adapter.safetensors hub/adapter.safetensors
cmp hub1/model_head.safetensors hub/model_head.safetensors
xf-adapt -q -m base.xfts --task pos --epochs 1 --batch 8 --seed 8 -o a3.xfts --hub-out hub3 eng.tsv
! cmp -s hub1/adapter.safetensors hub3/adapter.safetensors || { echo "--seed changed nothing"; exit 1; }
for f in adapter_config.json adapter.safetensors head_config.json model_head.safetensors; do
  [ -s "hub/$f" ] || { echo "hub/$f missing"; exit 1; }
done
grep -q '"reduction_factor": 16' hub/adapter_config.json
grep -q '"head_type": "tagging"' hub/head_config.json

# stream and hub folder evaluate the same; one row per target language
xf-eval -m base.xfts -a a1.xfts --model-name tiny eng.tsv deu.tsv > s.tsv
xf-eval -m base.xfts -a hub --model-name tiny eng.tsv deu.tsv > h.tsv
cmp s.tsv h.tsv
[ "$(head -1 s.tsv)" = "$(printf 'model\ttask\tsetting\ttransfer\tsteps\trun\tadapters\ttarget\tmetric\tvalue\tn')" ]
[ "$(wc -l < s.tsv)" -eq 3 ]
awk -F'\t' 'NR > 1 && !($1 == "tiny" && $2 == "pos" && $3 == "base" && $9 == "upos_acc" &&
  $10 >= 0 && $10 <= 100 && $11 > 0) {exit 1}' s.tsv
cut -f8 s.tsv | tail -n +2 | sort | tr '\n' ' ' | grep -qx 'deu eng '
# a concatenated stream gives the same rows
cat eng.tsv deu.tsv | xf-eval -m base.xfts -a a1.xfts --model-name tiny - | sort > c.tsv
sort s.tsv | cmp - c.tsv
# mlm setting columns
xf-eval -m base.xfts -a a1.xfts --model-name tiny --setting mlm --transfer yor --steps 10 \
  --run 2 deu.tsv | awk -F'\t' 'NR == 2 && !($3 == "mlm" && $4 == "yor" && $5 == 10 && $6 == 2) {exit 1}'
# xf-score's reader accepts the rows (when xf-score is built)
if command -v xf-score >/dev/null; then xf-score --help >/dev/null; fi

# a failed target: error naming it, exit 1, and no output at all (not even the
# good target's rows: a file that exists is finished)
printf 'garbage\n' > bad.tsv
for bad in bad.tsv missing.tsv; do
  set +e
  xf-eval -m base.xfts -a a1.xfts --model-name tiny -o rows.tsv eng.tsv $bad 2> err.txt
  rc=$?
  set -e
  [ "$rc" -eq 1 ] || { echo "failed target $bad: exit $rc"; exit 1; }
  grep -q "$bad" err.txt || { echo "failed target $bad: message"; cat err.txt; exit 1; }
  [ ! -e rows.tsv ] || { echo "failed target $bad: rows.tsv written"; exit 1; }
  [ -z "$(ls -A | grep '^\.rows')" ] || { echo "failed target $bad: temp left"; ls -A; exit 1; }
done

# task mismatch and usage errors
xf-tokenize -q --tokenizer vocab.txt --task dep --seq 64 --lang eng "$ud/eng_ewt/dev.conllu.zst" > all.tsv
head -11 all.tsv > dep.tsv
set +e
xf-eval -m base.xfts -a a1.xfts dep.tsv > /dev/null 2>&1; r1=$?
xf-adapt -m base.xfts eng.tsv -o x.xfts 2>/dev/null; r2=$?
xf-adapt -m base.xfts --task nope eng.tsv -o x.xfts 2>/dev/null; r3=$?
xf-eval -m base.xfts eng.tsv 2>/dev/null; r4=$?
xf-eval -m base.xfts -a a1.xfts --setting mlm eng.tsv 2>/dev/null; r5=$?
xf-adapt -m base.xfts --task ner -o y.xfts eng.tsv 2>/dev/null; r6=$?
set -e
[ "$r1" -eq 1 ] && [ "$r2" -eq 2 ] && [ "$r3" -eq 2 ] && [ "$r4" -eq 2 ] && [ "$r5" -eq 2 ] && [ "$r6" -eq 1 ] ||
  { echo "exit codes $r1 $r2 $r3 $r4 $r5 $r6"; exit 1; }
[ ! -e x.xfts ] && [ ! -e y.xfts ]

# dependency parsing end to end; the no-op --las-at-gold-head is gone (usage error)
xf-adapt -q -m base.xfts --task dep --epochs 1 --batch 4 -o dep.xfts dep.tsv
xf-eval -m base.xfts -a dep.xfts --decode mst dep.tsv > d1.tsv
[ "$(grep -c $'\tuas\t' d1.tsv)" -eq 1 ] && [ "$(grep -c $'\tlas\t' d1.tsv)" -eq 1 ]
set +e; xf-eval -m base.xfts -a dep.xfts --las-at-gold-head dep.tsv > d2.tsv 2>/dev/null; r=$?; set -e
[ "$r" -eq 2 ] || { echo "--las-at-gold-head: exit $r, want 2 (removed)"; exit 1; }
# a language adapter (MLM), a task adapter stacked on it, evaluated with it
xf-adapt -q -m base.xfts --task mlm --lang eng --tokenizer vocab.txt --seq 32 --epochs 1 \
  --batch 8 -o la.xfts --hub-out la_hub mlm.tsv
[ -s la_hub/adapter.safetensors ] && [ -s la_hub/model_head.safetensors ]
grep -q '"name": "eng"' la_hub/adapter_config.json
grep -q '"head_type": "masked_lm"' la_hub/head_config.json
# the MLM head trains with the language adapter (adapters library train_adapter):
# its tensors are in the stream under HF names, the tied decoder weight is not;
# the AdapterHub folder has it as the masked_lm head "heads.eng.*" (adapt_hub.sh)
zstd -dcq la.xfts > la.raw
grep -aq 'cls.predictions.transform.dense.weight' la.raw && grep -aq 'cls.predictions.bias' la.raw
if grep -aq 'cls.predictions.decoder.weight' la.raw || grep -aq 'cls.predictions' la_hub/*.safetensors; then
  echo "MLM head: tied decoder weight in the stream, or HF head names in the AdapterHub folder"; exit 1
fi
xf-adapt -q -m base.xfts --task pos --lang-adapter la.xfts --epochs 1 --batch 8 -o st.xfts eng.tsv
xf-eval -m base.xfts --lang-adapter la_hub -a st.xfts --model-name tiny deu.tsv > l.tsv
awk -F'\t' 'NR == 2 && !($3 == "lang" && $7 == "eng" && $8 == "deu") {exit 1} END {exit NR != 2}' l.tsv
set +e
xf-eval -m base.xfts --lang-adapter la.xfts --lang-adapter la.xfts -a st.xfts deu.tsv > /dev/null 2>&1; r7=$?
xf-adapt -m base.xfts --task pos --inv eng.tsv -o z.xfts 2>/dev/null; r8=$?
xf-eval -m base.xfts -a la.xfts deu.tsv > /dev/null 2>&1; r9=$?
set -e
[ "$r7" -eq 1 ] && [ "$r8" -eq 2 ] && [ "$r9" -eq 1 ] || { echo "exit codes $r7 $r8 $r9"; exit 1; }
# language adapters lower the masked-LM loss (epoch-1 mean -> last-epoch mean), plain
# and pfeiffer+inv (invertible adapter on the embeddings, its inverse before the MLM
# head).  A base with initializer_range 0.3: with 0.02 the frozen tied decoder keeps
# every logit within about +-0.6, so no adapter can move the loss off ln V.
sed 's/"type_vocab_size": 2}/"type_vocab_size": 2, "initializer_range": 0.3}/' config.json > c3.json
xf-mlmstep -q --init c3.json --tokenizer vocab.txt --steps 1 --batch 2 --lr 1e-9 -o base3.xfts mlm.tsv
for inv in "" --inv; do
  xf-adapt -m base3.xfts --task mlm --lang eng --tokenizer vocab.txt --seq 32 --epochs 10 \
    --batch 8 --lr 1e-2 --reduction 2 $inv -o "la$inv.xfts" mlm.tsv 2> log.txt
  awk '/steps, loss/ { for (i = 1; i < NF; i++) if ($i == "->") { a = $(i - 1); b = $(i + 1) + 0 } }
       END { if (!(b < a - 0.15)) { print "mlm loss " a " -> " b; exit 1 } }' log.txt ||
    { echo "language adapter ($inv) did not lower the loss"; cat log.txt; exit 1; }
done
zstd -dcq la--inv.xfts > la--inv.raw   # not piped into grep -q: SIGPIPE under pipefail
grep -aq 'invertible_adapters.eng.F.0.weight' la--inv.raw
# the pfeiffer+inv adapter loads as a language adapter (invertible part on the embeddings)
xf-adapt -q -m base3.xfts --task pos --lang-adapter la--inv.xfts --epochs 1 --batch 8 -o st3.xfts eng.tsv
xf-eval -m base3.xfts --lang-adapter la--inv.xfts -a st3.xfts --model-name tiny deu.tsv > l3.tsv
[ "$(wc -l < l3.tsv)" -eq 2 ]
# (pfeiffer+inv as an AdapterHub folder: adapt_hub.sh)
# validation: the best epoch is recorded; a model streamed from xf-mlmstep evaluates
xf-adapt -q -m base.xfts --task pos --epochs 2 --batch 8 --dev deu.tsv -o v.xfts eng.tsv
zstd -dcq v.xfts > v.raw
grep -aq '"best_epoch"' v.raw
xf-mlmstep -q -m base.xfts --tokenizer vocab.txt --steps 1 --batch 2 -o - mlm.tsv |
  xf-eval -m - -a a1.xfts --model-name tiny --setting mlm --transfer eng --steps 1 --run 1 deu.tsv > p.tsv
[ "$(wc -l < p.tsv)" -eq 2 ]

# QA end to end: one em and one qa_f1 row, n = distinct questions
zstd -dc "$XF_DATA/qa/tydiqa_goldp_train/eng.json.zst" > qa.json
xf-tokenize -q --tokenizer vocab.txt --task qa --seq 64 --stride 16 --lang eng qa.json > qa_all.tsv
head -120 qa_all.tsv > qa.tsv
xf-adapt -q -m base.xfts --task qa --seq 64 --epochs 1 --batch 16 -o qa.xfts qa.tsv
xf-eval -m base.xfts -a qa.xfts qa.tsv > q.tsv
nq=$(cut -f11 qa.tsv | grep -o '"qid": *"[^"]*"' | sort -u | wc -l)
awk -F'\t' -v n="$nq" '$9 == "em" && $11 == n {a = 1} $9 == "qa_f1" && $11 == n {b = 1} END {exit !(a && b)}' q.tsv ||
  { cat q.tsv; echo "expected $nq questions"; exit 1; }
echo ok
