#!/usr/bin/env bash
# Silent wrong output (issue 11, item 3), with hostile files made here:
#  - example streams without a header line are refused by xf-mlmstep,
#    xf-adapt and xf-eval (xf-tsv(5)); so are example rows whose lang is
#    "e ng", "-" or invalid UTF-8, or whose id is invalid UTF-8: exit 1,
#    FILE:LINE, no output;
#  - eval rows: a value of 0x10 (or inf, or " 5") and invalid UTF-8 are
#    refused by xf-score;
#  - CRLF line ends: an NLI TSV, an example stream and eval rows with CRLF
#    read exactly as with LF;
#  - NaN / infinite weights in a task adapter, its head, a language adapter
#    or a fusion (streams and AdapterHub folders) are refused at load by
#    xf-eval and xf-fuse: one line naming the file and the tensor, exit 1,
#    no output (the base model's were already).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/mlmstep-lib.bash"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

fail() { echo "FAIL: $*"; exit 1; }
# expect_fail PATTERN CMD...: exit 1, the message matches, no out.* file
expect_fail() {
  local pat=$1 rc=0; shift
  "$@" > /dev/null 2> err || rc=$?
  [ "$rc" -eq 1 ] || { cat err; fail "$*: exit $rc, want 1"; }
  grep -qE -- "$pat" err || { echo "want: $pat"; cat err; fail "$*: message"; }
  [ -z "$(ls -A | grep -E '^out|^\.out')" ] || { ls -A; fail "$*: output left"; }
}

mk_tiny m 64
mk_examples mlm.tsv 24 64
xf-mlmstep -q --init m/config.json --tokenizer m/vocab.txt --steps 1 --batch 2 -o base.xfts mlm.tsv
awk 'BEGIN { OFS = "\t"; for (s = 0; s < 12; s++) { print "# sent_id = s" s
     for (i = 1; i <= 5; i++) print i, "w" (5 + (s * 5 + i) % 50), "_", (i % 2 ? "NOUN" : "VERB"),
       "_", "_", (i == 1 ? 0 : 1), (i == 1 ? "root" : "obj"), "_", "_"; print "" } }' > t.conllu
xf-tokenize -q -t m/vocab.txt --task pos --lang xxx --seq 32 -o pos.tsv t.conllu
xf-adapt -q -m base.xfts --task pos --epochs 1 --batch 4 -o pos.xfts pos.tsv

# ---- example streams without a header line ----
tail -n +2 mlm.tsv > mlm_nohdr.tsv
tail -n +2 pos.tsv > pos_nohdr.tsv
nohdr='no header line: not an example stream'
expect_fail "mlm_nohdr.tsv: $nohdr" xf-mlmstep -q -m base.xfts --tokenizer m/vocab.txt --steps 1 \
  --batch 2 -o out.xfts mlm_nohdr.tsv
expect_fail "pos_nohdr.tsv: $nohdr" xf-adapt -q -m base.xfts --task pos --epochs 1 -o out.xfts pos_nohdr.tsv
expect_fail "pos_nohdr.tsv: $nohdr" xf-eval -q -m base.xfts -a pos.xfts -o out.tsv pos_nohdr.tsv
expect_fail "<stdin>: $nohdr" sh -c 'xf-eval -q -m base.xfts -a pos.xfts -o out.tsv - < pos_nohdr.tsv'
# the header on a later line (after shuf) is still fine
{ tail -n +2 pos.tsv; head -1 pos.tsv; } > pos_late.tsv
xf-eval -q -m base.xfts -a pos.xfts --model-name tiny pos_late.tsv > late.tsv
xf-eval -q -m base.xfts -a pos.xfts --model-name tiny pos.tsv > rows.tsv
cmp late.tsv rows.tsv || fail "header on the last line"

# ---- example rows that would give eval rows xf-score rejects ----
bad_lang() { awk -F'\t' -v OFS='\t' -v l="$1" 'NR == 3 { $1 = l } { print }' pos.tsv; }
bad_lang 'e ng' > l_space.tsv
bad_lang '-' > l_dash.tsv
bad_lang $'en\xff' > l_utf8.tsv
awk -F'\t' -v OFS='\t' 'NR == 2 { $2 = "s\xc3" } { print }' pos.tsv > id_utf8.tsv
expect_fail "l_space.tsv:3: .*lang.*white space" xf-eval -q -m base.xfts -a pos.xfts -o out.tsv l_space.tsv
expect_fail "l_dash.tsv:3: .*lang.*'-' is not a language" xf-eval -q -m base.xfts -a pos.xfts -o out.tsv l_dash.tsv
expect_fail "l_utf8.tsv:3: .*lang.*invalid UTF-8" xf-eval -q -m base.xfts -a pos.xfts -o out.tsv l_utf8.tsv
expect_fail "id_utf8.tsv:2: .*id.*invalid UTF-8" xf-adapt -q -m base.xfts --task pos -o out.xfts id_utf8.tsv
# and xf-tokenize does not write such rows
expect_fail "white space" xf-tokenize -q -t m/vocab.txt --task pos --lang 'e ng' -o out.tsv t.conllu

# ---- eval rows: strict numbers, valid UTF-8 ----
row() { printf 'model\ttask\tsetting\ttransfer\tsteps\trun\tadapters\ttarget\tmetric\tvalue\tn\n'
        printf '%s\tpos\tbase\t-\t0\t0\t-\t%s\tupos_acc\t%s\t10\n' "$1" "$2" "$3"; }
row m eng 0x10 > hex.tsv
row m eng inf > inf.tsv
row m eng ' 5' > space.tsv
row $'m\xff' eng 5 > model_utf8.tsv
row m $'e\xe2\x82' 5 > target_utf8.tsv
expect_fail "hex.tsv:2: column 'value': '0x10' is not a number" xf-score -o out.tsv hex.tsv
expect_fail "inf.tsv:2: column 'value'" xf-score -o out.tsv inf.tsv
expect_fail "space.tsv:2: column 'value'" xf-score -o out.tsv space.tsv
expect_fail "model_utf8.tsv:2: column 'model': invalid UTF-8" xf-score -o out.tsv model_utf8.tsv
expect_fail "target_utf8.tsv:2: column 'target': invalid UTF-8" xf-score -o out.tsv target_utf8.tsv

# ---- CRLF line ends read as LF ----
mkdir lf crlf
printf 'premise\thypothesis\tlabel\nw5 w6\tw7\tentailment\nw8\tw9 w10\tcontradiction\n' > lf/nli.tsv
sed 's/$/\r/' lf/nli.tsv > crlf/nli.tsv
grep -q $'\r' crlf/nli.tsv || fail "no CR in the CRLF file"
(cd lf && xf-tokenize -q -t ../m/vocab.txt --task nli --lang xxx -o ../nli_lf.tsv nli.tsv)
(cd crlf && xf-tokenize -q -t ../m/vocab.txt --task nli --lang xxx -o ../nli_crlf.tsv nli.tsv)
cmp nli_lf.tsv nli_crlf.tsv || fail "CRLF NLI TSV reads differently"
[ "$(wc -l < nli_lf.tsv)" -eq 3 ] || fail "NLI examples"
# an example stream and eval rows with CRLF
sed 's/$/\r/' pos.tsv > pos_crlf.tsv
xf-eval -q -m base.xfts -a pos.xfts --model-name tiny pos_crlf.tsv > rows_crlf.tsv
cmp rows.tsv rows_crlf.tsv || fail "CRLF example stream"
row m eng 12.5 > ev.tsv
sed 's/$/\r/' ev.tsv > ev_crlf.tsv
printf 'm\tpos\tmlm\tyor\t10\t0\t-\teng\tupos_acc\t14.5\t10\n' >> ev.tsv
printf 'm\tpos\tmlm\tyor\t10\t0\t-\teng\tupos_acc\t14.5\t10\r\n' >> ev_crlf.tsv
xf-score --boot 0 ev.tsv > ts_lf.tsv
xf-score --boot 0 ev_crlf.tsv > ts_crlf.tsv
cmp ts_lf.tsv ts_crlf.tsv || fail "CRLF eval rows"
[ "$(wc -l < ts_lf.tsv)" -eq 2 ] || fail "ts rows"

# ---- NaN / infinite weights in adapters, heads and fusions ----
tool=${XF_BIN:?}/../tests/helpers/fmt-tool
xf-adapt -q -m base.xfts --task pos --epochs 1 --batch 4 -o pos2.xfts --hub-out pos_hub pos.tsv
xf-adapt -q -m base.xfts --task mlm --lang xxx --tokenizer m/vocab.txt --seq 64 --epochs 1 \
  --batch 8 --max-steps 2 -o la.xfts --hub-out la_hub mlm.tsv
xf-fuse -q -o fu.xfts --hub-out fu_hub la.xfts
# the intact files load
xf-eval -q -m base.xfts -a pos2.xfts --lang-adapter la.xfts --model-name tiny pos.tsv > /dev/null
xf-eval -q -m base.xfts -a pos_hub --fusion fu_hub --model-name tiny pos.tsv > /dev/null
# nan_st FILE TENSOR I V: element I of f32 tensor TENSOR of safetensors FILE set to V
nan_st() {
  /usr/bin/python3 - "$@" <<'PY'
import json, struct, sys
f, name, i, v = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
b = bytearray(open(f, "rb").read())
n = struct.unpack("<Q", b[:8])[0]
off = json.loads(b[8:8 + n])[name]["data_offsets"][0]
b[8 + n + off + 4 * i:8 + n + off + 4 * i + 4] = struct.pack("<f", v)
open(f, "wb").write(b)
PY
}
# expect_nan FILE TENSOR I WHAT CMD...: one line, exit 1, no output
expect_nan() {
  local file=$1 tensor=$2 i=$3 what=$4; shift 4
  expect_fail "^[a-z-]+: $file: tensor $tensor: element $i is $what \(weights must be finite\)$" "$@"
  [ "$(wc -l < err)" -eq 1 ] || { cat err; fail "$*: more than one line"; }
}
A=bert.encoder.layer.1.output.adapters.pos.adapter_up.weight
"$tool" poke pos2.xfts nan_a.xfts "$A" 3 nan
"$tool" poke pos2.xfts inf_h.xfts heads.pos.1.weight 5 -inf
"$tool" poke la.xfts nan_la.xfts bert.encoder.layer.0.output.adapters.xxx.adapter_down.0.weight 1 nan
"$tool" poke la.xfts inf_lah.xfts cls.predictions.transform.dense.weight 7 inf
F=bert.encoder.layer.1.output.adapter_fusion_layer.xxx.query.weight
"$tool" poke fu.xfts nan_fu.xfts "$F" 0 nan
expect_nan nan_a.xfts "$A" 3 NaN xf-eval -q -m base.xfts -a nan_a.xfts -o out.tsv pos.tsv
expect_nan inf_h.xfts heads.pos.1.weight 5 infinite xf-eval -q -m base.xfts -a inf_h.xfts -o out.tsv pos.tsv
expect_nan '<stdin>' heads.pos.1.weight 5 infinite sh -c 'xf-eval -q -m base.xfts -a - -o out.tsv pos.tsv < inf_h.xfts'
expect_nan nan_la.xfts bert.encoder.layer.0.output.adapters.xxx.adapter_down.0.weight 1 NaN \
  xf-eval -q -m base.xfts -a pos2.xfts --lang-adapter nan_la.xfts -o out.tsv pos.tsv
expect_nan inf_lah.xfts cls.predictions.transform.dense.weight 7 infinite \
  xf-eval -q -m base.xfts -a pos2.xfts --lang-adapter inf_lah.xfts -o out.tsv pos.tsv
expect_nan nan_la.xfts bert.encoder.layer.0.output.adapters.xxx.adapter_down.0.weight 1 NaN \
  xf-fuse -q -o out.xfts nan_la.xfts
expect_nan nan_fu.xfts "$F" 0 NaN xf-eval -q -m base.xfts -a pos2.xfts --fusion nan_fu.xfts -o out.tsv pos.tsv
# AdapterHub folders: adapter, head, fusion layer and a fused adapter's files
cp -r pos_hub nan_ahub && nan_st nan_ahub/adapter.safetensors "$A" 2 nan
cp -r pos_hub nan_hhub && nan_st nan_hhub/model_head.safetensors heads.pos.1.bias 4 inf
cp -r fu_hub nan_fhub && nan_st nan_fhub/model_adapter_fusion.safetensors "$F" 6 nan
cp -r fu_hub nan_fahub &&
  nan_st nan_fahub/xxx/adapter.safetensors bert.encoder.layer.1.output.adapters.xxx.adapter_up.bias 0 nan
expect_nan nan_ahub/adapter.safetensors "$A" 2 NaN xf-eval -q -m base.xfts -a nan_ahub -o out.tsv pos.tsv
expect_nan nan_hhub/model_head.safetensors heads.pos.1.bias 4 infinite \
  xf-eval -q -m base.xfts -a nan_hhub -o out.tsv pos.tsv
expect_nan nan_fhub/model_adapter_fusion.safetensors "$F" 6 NaN \
  xf-eval -q -m base.xfts -a pos2.xfts --fusion nan_fhub -o out.tsv pos.tsv
expect_nan nan_fahub/xxx/adapter.safetensors bert.encoder.layer.1.output.adapters.xxx.adapter_up.bias 0 NaN \
  xf-eval -q -m base.xfts -a pos2.xfts --fusion nan_fahub -o out.tsv pos.tsv
echo ok
