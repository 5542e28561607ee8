#!/usr/bin/env bash
# seeds.sh OUT — writes the seed corpora of the fuzz harnesses into OUT/NAME/
# (NAME = harness without "fuzz_"): small excerpts of tests/ fixtures and
# of the shared data ($XF_DATA; skipped when absent), and tiny models made
# with the built tools ($XF_BIN).  Nothing here is committed: the committed
# seeds (hand-written ones and regression cases) are in tests/fuzz/seeds/.
set -euo pipefail
out=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
D=${XF_DATA:-$root/../shared/data}
B=${XF_BIN:-$root/build/bin}
rm -rf "$out"
for h in safetensors hfmodel tstream tsv examples conllu iob nli squad text tokjson vocab wordpiece unigram; do
  mkdir -p "$out/$h"
done
have() { [ -e "$D/$1" ]; }
# first N lines of a (zstd) data file
excerpt() { zstd -dcq "$D/$1" 2>/dev/null | head -n "$2" || true; }
# first N lines, cut at a blank line (whole sentences)
sentences() { zstd -dcq "$D/$1" 2>/dev/null | awk -v n="$2" 'NR > n && /^$/ { exit } { print }' || true; }

# ---- models: a tiny BERT (HF folder and tensor stream) ----
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
{ printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n'; for ((i = 5; i < 24; i++)); do echo "w$i"; done; } > "$T/vocab.txt"
cat > "$T/config.json" <<'JSON'
{"model_type": "bert", "vocab_size": 24, "hidden_size": 8, "num_hidden_layers": 1,
 "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 16,
 "type_vocab_size": 2, "pad_token_id": 0, "hidden_act": "gelu"}
JSON
printf 'lang\tid\ttask\tids\ttypes\twords\tlabels\theads\trels\toffsets\textra\nxx\tr1\tmlm\t2 5 6 7 3\t-\t-\t-\t-\t-\t-\t-\nxx\tr2\tmlm\t2 8 9 3\t-\t-\t-\t-\t-\t-\t-\n' > "$T/ex.tsv"
if [ -x "$B/xf-mlmstep" ] &&
   (cd "$T" && OMP_NUM_THREADS=1 "$B/xf-mlmstep" -q --init config.json --tokenizer vocab.txt \
      --steps 1 --batch 2 --seq 16 --hf-out hf -o model.xfts ex.tsv) 2>/dev/null; then
  cp "$T/hf/model.safetensors" "$out/safetensors/tiny.safetensors"
  cp "$T/model.xfts" "$out/tstream/tiny.xfts"
  zstd -dcq "$T/model.xfts" > "$out/tstream/tiny-raw.xfts"
  { cat "$T/hf/config.json"; printf '\n#XFST\n'; cat "$T/hf/model.safetensors"; } > "$out/hfmodel/tiny"
  cp "$T/hf/config.json" "$out/hfmodel/config-only"
  sed 's/"bert"/"xlm-roberta"/' "$T/hf/config.json" > "$out/hfmodel/config-xlmr"
fi
cp "$T/ex.tsv" "$out/examples/mlm.tsv"

# ---- TSV and eval rows ----
for f in "$root"/tests/cli/score/*.tsv; do head -n 40 "$f" > "$out/tsv/$(basename "$f")"; done
have languages.tsv && head -n 20 "$D/languages.tsv" > "$out/tsv/languages.tsv"

# ---- source formats ----
for tb in eng_ewt deu_gsd jpn_gsd ara_pud wol_wtb; do
  for s in test dev train; do
    if have "ud/$tb/$s.conllu.zst"; then sentences "ud/$tb/$s.conllu.zst" 40 > "$out/conllu/$tb.conllu"; break; fi
  done
done
for l in eng deu hin zho; do
  for s in dev test train; do
    if have "ner/$l/$s.iob.zst"; then sentences "ner/$l/$s.iob.zst" 30 > "$out/iob/$l.iob"; break; fi
  done
done
for f in americasnli/quy xnli_dev/eng xnli_dev/zho xnli_dev/ara; do
  have "nli/$f.tsv.zst" && excerpt "nli/$f.tsv.zst" 4 > "$out/nli/${f//\//-}.tsv"
done
for l in eng kor swa; do
  have "qa/tydiqa_goldp_train/$l.json.zst" &&
    zstd -dcq "$D/qa/tydiqa_goldp_train/$l.json.zst" | python3 -c '
import json, sys
d = json.load(sys.stdin)
a = d["data"][0]; p = a["paragraphs"][0]
p["context"] = p["context"][:600]
p["qas"] = p["qas"][:2]
a["paragraphs"] = [p]
print(json.dumps({"version": d.get("version", "1.1"), "data": [a]}, ensure_ascii=False))
' > "$out/squad/$l.json" || true
done
for l in yor amh swa uig kmr; do
  have "text/$l.txt.zst" && excerpt "text/$l.txt.zst" 8 > "$out/text/$l.txt"
done
# one zstd-compressed input per reader, for the transparent decompression
for h in conllu iob nli text; do
  f=$(ls "$out/$h" | head -n 1)
  [ -n "$f" ] && zstd -q -c "$out/$h/$f" > "$out/$h/$f.zst"
done

# ---- example streams: xf-tokenize output on those excerpts (mBERT vocab) ----
V=$D/tokenizers/mbert-cased/vocab.txt
if [ -x "$B/xf-tokenize" ] && [ -f "$V" ]; then
  tok() { OMP_NUM_THREADS=1 "$B/xf-tokenize" -q -t "$V" --lang xyz --task "$1" --seq "$2" -o "$3" "$4" 2>/dev/null || true; }
  for f in "$out"/conllu/*.conllu; do tok pos 64 "$out/examples/pos-$(basename "$f").tsv" "$f"; done
  f=$(ls "$out"/conllu/*.conllu | head -n 1); tok dep 32 "$out/examples/dep.tsv" "$f"
  f=$(ls "$out"/iob/*.iob | head -n 1); tok ner 32 "$out/examples/ner.tsv" "$f"
  f=$(ls "$out"/nli/*.tsv | head -n 1); tok nli 48 "$out/examples/nli.tsv" "$f"
  f=$(ls "$out"/squad/*.json | head -n 1); tok qa 64 "$out/examples/qa.tsv" "$f"
  f=$(ls "$out"/text/*.txt | head -n 1); tok mlm 32 "$out/examples/mlm-text.tsv" "$f"
  for f in "$out"/examples/*.tsv; do head -c 6000 "$f" > "$f.cut" && mv "$f.cut" "$f"; done
fi

# ---- tokenizer files (the real charsmaps are ~300 KB, beyond -max_len:
# the trimmed tokenizer.json files use NFKC instead) ----
if [ -f "$V" ]; then
  head -n 400 "$V" > "$out/vocab/mbert-head.txt"
  { head -n 110 "$V"; sed -n '5000,5300p' "$V"; } > "$out/vocab/mbert-mixed.txt"
fi
printf '%s\n' '[PAD]' '[UNK]' '[CLS]' '[SEP]' '[MASK]' the cat sat on mat '##s' a dog . > "$out/vocab/hand.txt"
for t in t5-small xlnet-base-cased; do
  have "tokenizers/$t/tokenizer.json" && python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
m = j["model"]; m["vocab"] = m["vocab"][:300]
if m.get("unk_id") is not None and m["unk_id"] >= 300: m["unk_id"] = 2
j["added_tokens"] = [a for a in j.get("added_tokens", []) if a["id"] < 300]
small = j
def drop_charsmap(n):
    if isinstance(n, dict):
        if n.get("type") == "Precompiled": return {"type": "NFKC"}
        return {k: drop_charsmap(v) for k, v in n.items()}
    if isinstance(n, list): return [drop_charsmap(v) for v in n]
    return n
json.dump(drop_charsmap(small), open(sys.argv[2], "w"), ensure_ascii=False)
' "$D/tokenizers/$t/tokenizer.json" "$out/tokjson/$t-small.json"
done

# ---- text to encode: a line of every script at hand ----
for f in "$out"/text/*.txt "$out"/nli/*.tsv; do
  [ -f "$f" ] || continue
  head -n 2 "$f" > "$out/wordpiece/$(basename "$f")"
  head -n 2 "$f" > "$out/unigram/$(basename "$f")"
done
printf 'Hello, WORLD! caf\xc3\xa9 na\xc3\xafve \xe4\xb8\xad\xe6\x96\x87 \xef\xbc\xa1 \xe2\x80\x8b\t x\n' > "$out/wordpiece/mixed"
cp "$out/wordpiece/mixed" "$out/unigram/mixed"
