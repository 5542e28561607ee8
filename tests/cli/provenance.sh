#!/usr/bin/env bash
# Self-describing streams (issue 15): the README's pipeline, verbatim, on a
# tiny model named mbert (two seeds, two targets) plus the base evaluation
# labels its rows from the streams' provenance alone, and xf-score ts pairs
# them: the ts rows are checked against values computed here with awk from
# the eval rows.  Language adapters label rows setting=lang, adapters=<their
# language> without flags; so does a fusion of two of them (xf-fuse, then
# xf-eval --fusion --adapter): setting=lang, adapters=yor+wol (the languages,
# though the wol adapter is named wolof).  A saved, piped, chained or checkpointed model
# keeps its base's name (an --hf-out folder too); several example languages give a '+'-joined
# transfer; flags override provenance with a warning; streams without
# provenance evaluate as before (labels from flags or defaults).
set -euo pipefail
readme=$(cd "$(dirname "$0")/../.." && pwd)/README.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
D=${XF_DATA:?}
fail() { echo "FAIL: $*"; exit 1; }
# has_head STREAM STRING: the (decompressed) stream contains STRING
has_head() { zstd -dcq "$1" > hd.raw && grep -aqF "$2" hd.raw; }

# ---- a tiny model folder "mbert" and the README's input files ----
zstd -dc "$D/text/yor.txt.zst" | awk 'NR <= 150' > yor.txt
zstd -dc "$D/ud/wol_wtb/train.conllu.zst" | sed -n 's/^# text = //p' | awk 'NR <= 150' > wol.txt
cat yor.txt wol.txt > text.txt
xf-tokenize -q --learn-vocab 400 -o vocab.txt text.txt
V=$(wc -l < vocab.txt)
cat > config.json <<EOF
{"model_type": "bert", "vocab_size": $V, "hidden_size": 32, "num_hidden_layers": 2,
 "num_attention_heads": 2, "intermediate_size": 64, "max_position_embeddings": 128,
 "type_vocab_size": 2}
EOF
xf-tokenize -q --tokenizer vocab.txt --task mlm --seq 32 --lang eng text.txt > init.mlm.tsv
xf-mlmstep -q --init config.json --tokenizer vocab.txt --steps 1 --batch 2 --hf-out mbert init.mlm.tsv
xf-tokenize -q --tokenizer mbert --task mlm --seq 32 --lang yor -o yor.mlm.tsv.zst yor.txt
xf-tokenize -q --tokenizer mbert --task mlm --seq 32 --lang wol -o wol.mlm.tsv.zst wol.txt
xf-tokenize -q --tokenizer mbert --task pos --seq 64 --lang wol "$D/ud/wol_wtb/train.conllu.zst" > all.tsv
head -61 all.tsv > wol.train.tsv
xf-tokenize -q --tokenizer mbert --task pos --seq 64 --lang wol "$D/ud/wol_wtb/test.conllu.zst" > all.tsv
head -21 all.tsv | zstd -q -o wol.pos.tsv.zst
xf-tokenize -q --tokenizer mbert --task pos --seq 64 --lang bam "$D/ud/bam_crb/test.conllu.zst" > all.tsv
head -21 all.tsv | zstd -q -o bam.pos.tsv.zst
xf-adapt -q -m mbert --task pos --epochs 1 --batch 8 -o pos.adapter wol.train.tsv

# ---- the README's pipeline, verbatim: from "for seed" to "xf-score rank" ----
sed -n '/^    for seed in/,/^    cat results.tsv | xf-score rank/p' "$readme" | sed 's/^    //' > readme.sh
grep -q '^xf-eval --model mbert/ ' readme.sh && grep -q 'xf-score ts results.tsv > ts.tsv' readme.sh ||
  fail "README pipeline not found: $(cat readme.sh)"
bash -euo pipefail readme.sh 2> readme.err || fail "README pipeline: exit $?: $(cat readme.err)"
[ ! -s readme.err ] || fail "README pipeline wrote on stderr: $(cat readme.err)"

# rows: 2 seeds x 2 targets mlm + 2 targets base, every label from provenance
data() { grep -v '^model	task	setting	' "$@"; }
[ "$(data results.tsv | wc -l)" -eq 6 ] || fail "results.tsv: $(cat results.tsv)"
for seed in 1 2; do
  for t in wol bam; do
    [ "$(data results.tsv | cut -f1-9 | grep -cx "mbert	pos	mlm	yor	10	$seed	-	$t	upos_acc")" -eq 1 ] ||
      fail "no mlm row for seed $seed target $t"
  done
done
for t in wol bam; do
  [ "$(data results.tsv | cut -f1-9 | grep -cx "mbert	pos	base	-	0	0	-	$t	upos_acc")" -eq 1 ] ||
    fail "no base row for $t"
done
# ts(yor -> t) = (mean over runs - base) / base * 100, from the eval rows
awk -F'\t' '$1 != "model" && $3 == "mlm" { s[$8] += $10; n[$8]++ }
            $1 != "model" && $3 == "base" { b[$8] = $10 }
            END { for (t in s) printf "mbert\tpos\tupos_acc\tyor\t%s\t10\t%.4f\t%d\t%.4f\t%.4f\n",
                    t, (s[t] / n[t] - b[t]) / b[t] * 100, n[t], s[t] / n[t], b[t] }' results.tsv |
  sort > want.tsv
awk -F'\t' 'NR > 1 { print $1 "\t" $2 "\t" $3 "\t" $4 "\t" $5 "\t" $6 "\t" $7 "\t" $8 "\t" $9 "\t" $13 }' ts.tsv |
  sort > got.tsv
[ "$(wc -l < want.tsv)" -eq 2 ] || fail "want.tsv: $(cat want.tsv)"
diff want.tsv got.tsv || fail "ts rows differ from the values computed from the eval rows"
[ "$(head -1 rank.tsv | cut -f1)" = model ] && [ "$(wc -l < rank.tsv)" -ge 2 ] || fail "rank.tsv"

# ---- language adapters: setting lang, adapters = the adapter's language, no flags ----
xf-adapt -q -m mbert --task mlm --lang yor --tokenizer mbert --seq 32 --epochs 1 --batch 8 \
  -o yor.lang.adapter yor.mlm.tsv.zst
xf-adapt -q -m mbert --task mlm --lang wol --name wolof --tokenizer mbert --seq 32 --epochs 1 \
  --batch 8 -o wol.lang.adapter wol.mlm.tsv.zst
xf-adapt -q -m mbert --task pos --lang-adapter yor.lang.adapter --epochs 1 --batch 8 \
  -o pos-yor.adapter wol.train.tsv
xf-adapt -q -m mbert --task pos --lang-adapter wol.lang.adapter --epochs 1 --batch 8 \
  -o pos-wol.adapter wol.train.tsv
xf-eval --model mbert/ --lang-adapter yor.lang.adapter --adapter pos-yor.adapter \
  wol.pos.tsv.zst bam.pos.tsv.zst > lang.tsv 2> lang.err
xf-eval --model mbert --lang-adapter wol.lang.adapter --adapter pos-wol.adapter \
  wol.pos.tsv.zst >> lang.tsv 2>> lang.err
[ ! -s lang.err ] || fail "lang: stderr: $(cat lang.err)"
[ "$(data lang.tsv | cut -f1-8 | sort | tr '\t\n' ' |')" = \
  "mbert pos lang - 0 0 wol wol|mbert pos lang - 0 0 yor bam|mbert pos lang - 0 0 yor wol|" ] ||
  fail "lang rows: $(data lang.tsv | cut -f1-8 | sort | tr "\t\n" " |")"
# (the wol adapter is named wolof: the column holds its language)
has_head wol.lang.adapter '"provenance":{"model":"mbert","setting":"lang","adapters":"wol","lang":"wol","name":"wolof"}' ||
  fail "language adapter provenance"
cat results.tsv lang.tsv | xf-score compare > /dev/null

# ---- a fusion of the two language adapters: setting lang, adapters yor+wol, no flags ----
xf-fuse -q --seed 2 -o fus.xfts yor.lang.adapter wol.lang.adapter
xf-eval --model mbert --fusion fus.xfts --adapter pos-yor.adapter \
  wol.pos.tsv.zst bam.pos.tsv.zst > fus.tsv 2> fus.err
[ ! -s fus.err ] || fail "fusion: stderr: $(cat fus.err)"
[ "$(head -1 fus.tsv | cut -f1-8 | tr '\t' ' ')" = "model task setting transfer steps run adapters target" ] ||
  fail "fusion: header: $(head -1 fus.tsv)"
[ "$(data fus.tsv | cut -f1-9 | sort | tr '\t\n' ' |')" = \
  "mbert pos lang - 0 0 yor+wol bam upos_acc|mbert pos lang - 0 0 yor+wol wol upos_acc|" ] ||
  fail "fusion rows: $(data fus.tsv | cut -f1-9 | sort | tr "\t\n" " |")"
has_head fus.xfts '"provenance":{"model":"mbert","setting":"lang","adapters":"yor+wol"}' || fail "fusion provenance: $(grep -ao '"provenance":{[^}]*}' hd.raw)"

# ---- a model saved to a file, read from it and piped on: still mbert ----
xf-mlmstep -q --model mbert --steps 3 --seed 7 --save-at 2 -o ft.xfts wol.mlm.tsv.zst
xf-eval --model ft.xfts --adapter pos.adapter wol.pos.tsv.zst | data | cut -f1-8 > r.tsv
[ "$(cat r.tsv)" = "mbert	pos	mlm	wol	3	7	-	wol" ] || fail "saved stream: $(cat r.tsv)"
# an HF folder (no HEAD) carries it in config.json
xf-mlmstep -q --model mbert --steps 2 --seed 6 --hf-out ft_hf wol.mlm.tsv.zst
grep -q '"xf_provenance"' ft_hf/config.json || fail "--hf-out: no xf_provenance in config.json"
xf-eval --model ft_hf --adapter pos.adapter wol.pos.tsv.zst | data | cut -f1-8 > r.tsv
[ "$(cat r.tsv)" = "mbert	pos	mlm	wol	2	6	-	wol" ] || fail "--hf-out folder: $(cat r.tsv)"
# a checkpoint records the steps done
xf-eval --model ft.xfts.step2 --adapter pos.adapter wol.pos.tsv.zst | data | cut -f1-8 > r.tsv
[ "$(cat r.tsv)" = "mbert	pos	mlm	wol	2	7	-	wol" ] || fail "checkpoint: $(cat r.tsv)"
# finetuned again: the base name stays, the history goes under "from"
xf-mlmstep -q --model ft.xfts --steps 2 --seed 5 yor.mlm.tsv.zst > ft2.xfts
xf-eval --model - --adapter pos.adapter bam.pos.tsv.zst < ft2.xfts | data | cut -f1-8 > r.tsv
[ "$(cat r.tsv)" = "mbert	pos	mlm	yor	2	5	-	bam" ] || fail "chained: $(cat r.tsv)"
has_head ft2.xfts '"from":{"model":"mbert","setting":"mlm","transfer":"wol","steps":3,"run":7}' ||
  fail "chained: no history"
# examples of two languages: both are the transfer
zstd -dcq yor.mlm.tsv.zst wol.mlm.tsv.zst | grep -v '^lang	' | sed '1i lang	id	task	ids	types	words	labels	heads	rels	offsets	extra' > two.mlm.tsv
xf-mlmstep -q --model mbert --steps 1 --seed 4 two.mlm.tsv |
  xf-eval --model - --adapter pos.adapter wol.pos.tsv.zst | data | cut -f1-6 > r.tsv
[ "$(cat r.tsv)" = "mbert	pos	mlm	wol+yor	1	4" ] || fail "two languages: $(cat r.tsv)"

# ---- flags override provenance; a contradiction is a warning ----
xf-eval --model ft.xfts --adapter pos.adapter --steps 5 --model-name other wol.pos.tsv.zst 2> w.err |
  data | cut -f1-6 > r.tsv
[ "$(cat r.tsv)" = "other	pos	mlm	wol	5	7" ] || fail "flags: $(cat r.tsv)"
grep -q 'warning: --steps 5 contradicts the model.s provenance (steps 3)' w.err || fail "no --steps warning: $(cat w.err)"
grep -q 'warning: --model-name other contradicts' w.err || fail "no --model-name warning"
xf-eval --model ft.xfts --adapter pos.adapter --setting base wol.pos.tsv.zst 2> w.err | data | cut -f1-6 > r.tsv
[ "$(cat r.tsv)" = "mbert	pos	base	-	0	0" ] && grep -q 'warning: --setting base contradicts' w.err ||
  fail "--setting base: $(cat r.tsv) $(cat w.err)"
# the same values as recorded: no warning
xf-eval --model ft.xfts --adapter pos.adapter --steps 3 --run 7 --transfer wol wol.pos.tsv.zst 2> w.err > /dev/null
[ ! -s w.err ] || fail "agreeing flags warned: $(cat w.err)"

# ---- old streams (no provenance in HEAD) evaluate as before ----
python3 - ft.xfts old.xfts <<'PY'
import json, struct, subprocess, sys
raw = subprocess.run(["zstd", "-dcq", sys.argv[1]], check=True, capture_output=True).stdout
assert raw[:4] == b"XFTS" and raw[8:12] == b"HEAD"
n = struct.unpack("<Q", raw[12:20])[0]
head = json.loads(raw[20:20 + n])
del head["provenance"]
h = json.dumps(head).encode()
open(sys.argv[2], "wb").write(raw[:12] + struct.pack("<Q", len(h)) + h + raw[20 + n:])
PY
if zstd -dcq ft.xfts | cmp -s - old.xfts || grep -aq provenance old.xfts; then fail "old.xfts still has provenance"; fi
xf-eval --model old.xfts --adapter pos.adapter wol.pos.tsv.zst 2> o.err | data | cut -f1-8 > r.tsv
[ "$(cat r.tsv)" = "old	pos	base	-	0	0	-	wol" ] && [ ! -s o.err ] || fail "old stream: $(cat r.tsv) $(cat o.err)"
xf-eval --model - --adapter pos.adapter --setting mlm --transfer yor --steps 10 --run 3 \
  --model-name mbert wol.pos.tsv.zst < old.xfts 2> o.err | data | cut -f1-8 > r.tsv
[ "$(cat r.tsv)" = "mbert	pos	mlm	yor	10	3	-	wol" ] && [ ! -s o.err ] || fail "old stream, flags: $(cat r.tsv)"
xf-eval --model - --adapter pos.adapter wol.pos.tsv.zst < old.xfts | data | cut -f1 > r.tsv
[ "$(cat r.tsv)" = model ] || fail "old stream on stdin: $(cat r.tsv)"
# ... and mlm without any transfer language is still a usage error
rc=0; xf-eval --model old.xfts --adapter pos.adapter --setting mlm wol.pos.tsv.zst > /dev/null 2> u.err || rc=$?
[ "$rc" -eq 2 ] && grep -q 'needs --transfer' u.err || fail "mlm without transfer: exit $rc"

# ---- a bad provenance is an error naming the stream ----
python3 - ft.xfts badprov.xfts <<'PY'
import json, struct, subprocess, sys
raw = subprocess.run(["zstd", "-dcq", sys.argv[1]], check=True, capture_output=True).stdout
n = struct.unpack("<Q", raw[12:20])[0]
head = json.loads(raw[20:20 + n])
head["provenance"]["steps"] = "ten"
h = json.dumps(head).encode()
open(sys.argv[2], "wb").write(raw[:12] + struct.pack("<Q", len(h)) + h + raw[20 + n:])
PY
rc=0; xf-eval --model badprov.xfts --adapter pos.adapter -o bad.tsv wol.pos.tsv.zst 2> b.err || rc=$?
[ "$rc" -eq 1 ] && grep -q "^xf-eval: badprov.xfts: HEAD provenance: key 'steps'" b.err && [ ! -e bad.tsv ] ||
  fail "bad provenance: exit $rc: $(cat b.err)"
echo "provenance: ok"
