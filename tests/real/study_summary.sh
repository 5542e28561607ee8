#!/usr/bin/env bash
# `make ... summary` of examples/study.mk reports what the study's own TSVs
# say: its top donor line carries the first rows of score/rank.tsv at the
# largest k, its seen/unseen means are score/seen.tsv's and its Spearman
# lines score/corr.tsv's; and the same study with another SEED gives other
# numbers (nothing in the summary is fixed text).  study.txt names every
# input file the study read (each task's training and test file per
# language, the text of every pretraining, transfer and language-adapter
# language) with its sha256 prefix and its licence and source from the data
# folder's ATTRIBUTION.tsv, and the whole study's wall time; the report
# page shows them.
set -euo pipefail
. "$(dirname "$0")/lib-study.bash"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
STUDY_CONF=$T/tiny.study
study_conf "$STUDY_CONF"
study_ref
study_make "$REF" summary > "$T/s1"
cat "$T/s1"
s=$REF/score
for task in pos dep; do
  top=$(awk -F'\t' -v t=$task '$2 == t && $4 == 3 && $5 == 1 { print $6 " " $7 " (" $9 "% of " $8 " targets helped)" }' "$s/rank.tsv")
  grep -qF "$task: top donors $top" "$T/s1" || { echo "FAIL: $task top donor is not rank.tsv's: $top"; exit 1; }
  while IFS=$'\t' read -r _ t _ k _ g ts n _; do
    [ "$t" = "$task" ] && [ "$k" = 3 ] || continue
    grep -qE "^$task: $g +mean ts $ts .*\($n pairs" "$T/s1" || { echo "FAIL: $task $g: seen.tsv's mean $ts not in the summary"; exit 1; }
  done < <(tail -n +2 "$s/seen.tsv")
done
# study.txt: data provenance, computed here from the files and ATTRIBUTION.tsv
D=$XF_ROOT/examples/data
dataline() {   # WHAT FILE(relative to D)
  local lic
  lic=$(awk -F'\t' -v f="$2" '$1 == f { print $3 "; " $4 }' "$D/ATTRIBUTION.tsv")
  [ -n "$lic" ] || { echo "FAIL: $2 not in ATTRIBUTION.tsv"; exit 1; }
  echo "data:     $1: $D/$2 sha256 $(sha256sum "$D/$2" | cut -c1-12) ($lic)"
}
{ for t in pos dep; do
    dataline "$t train eng (${t}_TRAIN)" ud/eng.train.conllu.zst
    for l in eng wol; do dataline "$t test $l (${t}_TEST)" ud/$l.test.conllu.zst; done
  done
  dataline "text eng (TEXT; PRETRAIN, LANG_ADAPTERS)" text/eng.txt.zst
  dataline "text fra (TEXT; PRETRAIN, TRANSFER)" text/fra.txt.zst
  dataline "text wol (TEXT; TRANSFER, LANG_ADAPTERS)" text/wol.txt.zst; } > "$T/data.want"
grep '^data: ' "$REF/study.txt" > "$T/data.got" || true
diff "$T/data.want" "$T/data.got" || { echo "FAIL: study.txt data lines"; exit 1; }
grid=$(sed -n 's/^grid wall time: \([0-9]*\) s .*/\1/p' "$REF/study.txt")
wall=$(sed -n 's/^study wall time: \([0-9]*\) s (.*first target made to the report.*/\1/p' "$REF/study.txt")
[ -n "$grid" ] && [ -n "$wall" ] && [ "$wall" -ge "$grid" ] && [ "$wall" -gt 0 ] ||
  { cat "$REF/study.txt"; echo "FAIL: study wall time '$wall' (grid '$grid')"; exit 1; }
[ -s "$REF/.study-start" ] || { echo "FAIL: no .study-start"; exit 1; }
rho=$(awk -F'\t' 'NR > 1 && $2 == 3 { print $9 }' "$s/corr.tsv")
grep -q "at k=3: rho $rho," "$T/s1" || { echo "FAIL: corr.tsv's rho $rho not in the summary"; exit 1; }
# another seed: the finetunes, adapters and base model change, so does the summary
study_make "$T/seed2" SEED=2 -j2 summary > "$T/s2" 2>&1 || { cat "$T/s2"; exit 1; }
a=$(grep -E '^(pos|dep):' "$T/s1" | tr -cd '0-9\n.-' | md5sum)
b=$(grep -E '^(pos|dep):' "$T/s2" | tr -cd '0-9\n.-' | md5sum)
[ "$a" != "$b" ] || { echo "FAIL: SEED=2 gives the same numbers"; exit 1; }
cmp -s "$REF/rows.tsv" "$T/seed2/rows.tsv" && { echo "FAIL: SEED=2 gives the same rows"; exit 1; }
# The study's page (issue 16): every table and figure of the manifest, each
# figure decoded by a real browser (headless Chromium), and a screenshot.
study_make "$REF" report > "$T/r" 2>&1 || { cat "$T/r"; exit 1; }
grep -q "the report is $REF/report.html" "$T/r" || { cat "$T/r"; echo "FAIL: report path not printed"; exit 1; }
nfig=$(awk -F'\t' 'NR > 1 && $4 != "-"' "$REF/report.tsv" | wc -l)
[ "$nfig" -ge 11 ] || { echo "FAIL: only $nfig figures in the manifest"; exit 1; }
for f in $(awk -F'\t' 'NR > 1 && $4 != "-" { print $4 }' "$REF/report.tsv"); do
  [ -s "$REF/$f" ] || { echo "FAIL: figure $f missing"; exit 1; }
done
! grep -q 'class="missing"' "$REF/report.html" || { echo "FAIL: the page misses something"; grep 'class="missing"' "$REF/report.html"; exit 1; }
# the page shows study.txt's provenance lines
for pat in "study wall time: $wall s" "data:     pos train eng (pos_TRAIN): $D/ud/eng.train.conllu.zst sha256 " \
           "data:     text wol (TEXT; TRANSFER, LANG_ADAPTERS): "; do
  grep -qF "$pat" "$REF/report.html" || { echo "FAIL: report.html lacks '$pat'"; exit 1; }
done
r=$(bash "$XF_ROOT/tests/helpers/browser-check.sh" "$REF/report.html" "$T/report.png")
[ "$r" = "images=$nfig loaded=$nfig broken=" ] || { echo "FAIL: browser: $r (want $nfig images)"; exit 1; }
[ "$(stat -c %s "$T/report.png")" -gt 100000 ] || { echo "FAIL: screenshot too small"; exit 1; }
echo "summary: from the study's TSVs; SEED=2 changes it; report: $nfig figures load in Chromium"
