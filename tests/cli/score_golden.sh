#!/usr/bin/env bash
# xf-score: every subcommand against hand-computed golden outputs
# (derivations in tests/cli/score/README.md), as a filter on stdin, on
# concatenated files (repeated headers), on .zst input/output, and on
# transfer-score tables as input.
set -euo pipefail
G=$(cd "$(dirname "$0")/score" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"

check() {   # check NAME EXPECTED-FILE ACTUAL-FILE
  if ! cmp -s "$2" "$3"; then
    echo "FAIL: $1"; diff "$2" "$3" || true; exit 1
  fi
}

xf-score "$G/eval.tsv" > ts.tsv;                       check ts "$G/ts.expected" ts.tsv
xf-score ts -o ts2.tsv "$G/eval.tsv";                  check "ts -o" "$G/ts.expected" ts2.tsv
xf-score rank "$G/eval.tsv" > out;                     check rank "$G/rank.expected" out
xf-score variance "$G/eval.tsv" > out;                 check variance "$G/variance.expected" out
xf-score variance --extreme-share 0.5 "$G/eval.tsv" > out
check "variance 0.5" "$G/variance-0.5.expected" out
xf-score targets "$G/eval.tsv" > out;                  check targets "$G/targets.expected" out
xf-score progress "$G/eval.tsv" > out;                 check progress "$G/progress.expected" out
xf-score seen --languages "$G/langs.tsv" "$G/eval.tsv" > out
check seen "$G/seen.expected" out
xf-score corr "$G/corr_ts.tsv" > out;                  check corr "$G/corr.expected" out
xf-score compare "$G/compare.tsv" > out;               check compare "$G/compare.expected" out
xf-score compare --summary "$G/compare.tsv" > out;     check "compare --summary" "$G/compare-summary.expected" out

# Spot values written out, so a regenerated golden file cannot hide a wrong number.
grep -qP '^m\tpos\tupos_acc\txxx\taaa\t10\t4.0000\t2\t52.0000\t1.4142\t51.0000\t53.0000\t50.0000\t2.0000\t6.0000$' ts.tsv
grep -qP '^m\tpos\tupos_acc\t10\t1\txxx\t2.1667\t3\t66.67$' <(xf-score rank "$G/eval.tsv")
grep -qP '^small\t10\tdep\tlas\tpos\tupos_acc\t5\t2\t0.790569\t0.133333$' <(xf-score corr "$G/corr_ts.tsv")
grep -qP '^big\t10\tner\tner_f1\tpos\tupos_acc\t12\t1\t0.141580\t0.660727$' <(xf-score corr "$G/corr_ts.tsv")

# A filter: split the eval rows into three files, cat them (three headers) into stdin.
head -n 8 "$G/eval.tsv" > a.tsv
{ head -n 1 "$G/eval.tsv"; sed -n '9,15p' "$G/eval.tsv"; } > b.tsv
{ head -n 1 "$G/eval.tsv"; sed -n '16,$p' "$G/eval.tsv"; } > c.tsv
cat c.tsv a.tsv b.tsv | xf-score rank > rank.tsv;       check "cat | rank" "$G/rank.expected" rank.tsv
cat b.tsv c.tsv a.tsv | xf-score rank - > rank.tsv;     check "cat | rank -" "$G/rank.expected" rank.tsv
xf-score ts a.tsv c.tsv b.tsv > out;                   check "ts several files" "$G/ts.expected" out

# Transfer-score tables as input give the same analyses.
xf-score rank ts.tsv > out;                            check "rank from ts" "$G/rank.expected" out
xf-score progress < ts.tsv > out;                      check "progress from ts" "$G/progress.expected" out
# ... but ts and compare need eval rows.
if xf-score compare ts.tsv > out 2> err; then echo "compare accepted a ts table"; exit 1; fi
grep -q 'ts.tsv:1: not a header of eval rows' err

# --steps filters, --top cuts.
[ "$(xf-score rank --steps 100 "$G/eval.tsv" | cut -f4 | sort -u | tr '\n' ' ')" = "100 steps " ]
[ "$(xf-score rank --top 1 "$G/eval.tsv" | wc -l)" -eq 3 ]

# zstd in and out.
zstd -q -c "$G/eval.tsv" > eval.tsv.zst
xf-score rank -o rank.tsv.zst eval.tsv.zst
zstd -q -dc rank.tsv.zst > out;                        check ".zst" "$G/rank.expected" out

# --metric chooses another metric of a task: dep rows with uas and las.
sed -e 's/\tpos\t/\tdep\t/' -e 's/upos_acc/las/' "$G/eval.tsv" > dep.tsv
sed -e '1d' -e 's/\tlas\t\([0-9.]*\)/\tuas\t\1/' dep.tsv | awk -F'\t' 'BEGIN{OFS="\t"} {$10 = sprintf("%.4f", $10 / 2); print}' >> dep.tsv
[ "$(xf-score dep.tsv | cut -f3 | sort -u | tr '\n' ' ')" = "las metric " ]
xf-score --metric uas dep.tsv > uas.tsv
[ "$(cut -f3 uas.tsv | sort -u | tr '\n' ' ')" = "metric uas " ]
# Halving every score leaves the relative change, hence ts, unchanged.
diff <(cut -f4-7 ts.tsv) <(cut -f4-7 uas.tsv)
# seen with the shared languages.tsv (default $XF_DATA/languages.tsv) and --seen-by auto:
# mbert_seen eng 1, hin 1, kmr 0, wol 0, yor 1; xlmr_seen eng 1, hin 1, kmr 1, wol 0, yor 0.
{
  printf 'model\ttask\tmetric\ttransfer\ttarget\tsteps\tts\tn\tmean\tstd\tmin\tmax\tbase\tci_lo\tci_hi\n'
  for m in mbert-cased xlmr-base; do
    for r in "eng kmr 2" "eng yor 4" "wol kmr -1" "wol hin 3"; do
      set -- $r
      printf '%s\tpos\tupos_acc\t%s\t%s\t10\t%s\t1\t50\tnan\t50\t50\t50\tnan\tnan\n' "$m" "$1" "$2" "$3"
    done
  done
} > real.tsv
# by hand: mbert: eng->yor 4 | eng->kmr 2 | wol->hin 3 | wol->kmr -1;
#          xlmr:  eng->kmr 2 | eng->yor 4 | wol->kmr, wol->hin mean 1 | none
cat > seen-real.expected <<'EOT'
model	task	metric	steps	seen_by	group	ts	n_pairs	pos_pct
mbert-cased	pos	upos_acc	10	mbert	seen->seen	4.0000	1	100.00
mbert-cased	pos	upos_acc	10	mbert	seen->unseen	2.0000	1	100.00
mbert-cased	pos	upos_acc	10	mbert	unseen->seen	3.0000	1	100.00
mbert-cased	pos	upos_acc	10	mbert	unseen->unseen	-1.0000	1	0.00
xlmr-base	pos	upos_acc	10	xlmr	seen->seen	2.0000	1	100.00
xlmr-base	pos	upos_acc	10	xlmr	seen->unseen	4.0000	1	100.00
xlmr-base	pos	upos_acc	10	xlmr	unseen->seen	1.0000	2	50.00
xlmr-base	pos	upos_acc	10	xlmr	unseen->unseen	nan	0	nan
EOT
# $XF_DATA, else the shared data next to the repository (CI layout).
D=${XF_DATA:-}
[ -f "$D/languages.tsv" ] || D=$(cd "$G/../../.." && pwd)/../shared/data
XF_DATA=$D xf-score seen real.tsv > out;               check "seen (languages.tsv)" seen-real.expected out
# variance reproduces the categories of the paper's Table 5 from its (n_max, n_min)
# counts over T = 114 parsing targets: ibo (10, 10) +and-, bam (11, 15) +and-,
# mos (13, 2) +, pcm (1, 11) -, eng and ara (0, 0) neutral.  Fillers zzz and yyy
# give the best / worst ts of the remaining targets.  Every transfer language has
# ts 0 on a target except its best (+5) and worst (-5).
awk 'BEGIN {
  OFS = "\t"
  print "model", "task", "metric", "transfer", "target", "steps", "ts", "n", "mean", "std", "min", "max", "base", "ci_lo", "ci_hi"
  split("ibo bam mos pcm eng ara zzz yyy", L, " ")
  for (t = 1; t <= 114; t++) {
    best = t <= 10 ? "ibo" : t <= 21 ? "bam" : t <= 34 ? "mos" : t == 35 ? "pcm" : "zzz"
    worst = (t >= 41 && t <= 50) ? "ibo" : (t >= 51 && t <= 65) ? "bam" : (t >= 66 && t <= 67) ? "mos" : (t >= 68 && t <= 78) ? "pcm" : "yyy"
    for (i = 1; i <= 8; i++) {
      ts = L[i] == best ? 5 : L[i] == worst ? -5 : 0
      print "mbert", "dep", "las", L[i], sprintf("g%03d", t), 10, ts, 1, 50, "nan", 50, 50, 50, "nan", "nan"
    }
  }
}' > table5.tsv
xf-score variance table5.tsv | cut -f6,9-11 | sort > out
sort > want <<'EOT'
ara	0	0	neutral
bam	11	15	+and-
eng	0	0	neutral
ibo	10	10	+and-
mos	13	2	+
pcm	1	11	-
transfer	n_max	n_min	category
yyy	0	76	-
zzz	79	0	+
EOT
check "variance: paper Table 5 categories" want out
echo "score_golden: ok"
