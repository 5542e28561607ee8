#!/usr/bin/env bash
# xf-project: appendix F's worked example (ara: counts 1 1 3 2 => 0.4286
# -0.1429), the golden table and summary of a 5-language, 2-task grid, the
# summary agreeing with xf-score compare --summary, independence of the input
# order, --tie-eps, --metric, .zst output and stdin.
set -euo pipefail
G=$(cd "$(dirname "$0")/project" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"

xf-project "$G/worked.tsv" > worked.out
row=$(awk -F'\t' '$4 == "ara" && $5 == "2A" {print $6, $7, $8, $9, $18, $19, $24, $25, $26}' worked.out)
[ "$row" = "1 1 3 2 0.4286 -0.1429 7 0 0" ] || { echo "FAIL: ara row: $row"; exit 1; }
# ben: only [ara+ben] was evaluated of its 7 pairs: 6 missing, reported
row=$(awk -F'\t' '$4 == "ben" {print $6, $24, $25, $26}' worked.out)
[ "$row" = "1 1 0 6" ] || { echo "FAIL: ben row: $row"; exit 1; }
[ "$(head -1 worked.out)" = "$(printf 'model\ttask\tmetric\tlanguage\tsetting\tn_mm\tn_mp\tn_pm\tn_pp\tn_mmm\tn_mmp\tn_mpm\tn_mpp\tn_pmm\tn_pmp\tn_ppm\tn_ppp\tx\ty\tx_cneg\ty_cneg\tx_cpos\ty_cpos\tn\tties\tmissing')" ]

xf-project "$G/eval.tsv" > table.tsv
cmp table.tsv "$G/project.expected"
# every 3A row: the 8 counts sum to 2n, the 4 (A,B) counts are their sums over C
awk -F'\t' 'NR > 1 && $5 == "3A" {
  s = 0; for (i = 10; i <= 17; i++) s += $i
  if (s != 2 * $24 || $6 != $10 + $11 || $7 != $12 + $13 || $8 != $14 + $15 || $9 != $16 + $17) bad++
} END { exit bad > 0 }' table.tsv
xf-project summary "$G/eval.tsv" > summary.tsv
cmp summary.tsv "$G/summary.expected"
# same definition as xf-score compare --summary for the NA settings
xf-score compare --summary "$G/eval.tsv" | awk -F'\t' '$4 ~ /^[123]A$/ {print $1,$2,$3,$4,$5,$6,$7,$8,$9}' > a
awk -F'\t' 'NR > 1 {print $1,$2,$3,$4,$5,$6,$7,$8,$9}' summary.tsv > b
cmp a b

# input order does not matter (stdin, header kept first)
{ head -1 "$G/eval.tsv"; tail -n +2 "$G/eval.tsv" | sort -r; } | xf-project > shuffled.tsv
cmp shuffled.tsv table.tsv

# --metric uas for dep: other numbers for dep, pos unchanged
xf-project --metric uas "$G/eval.tsv" > uas.tsv
grep -q $'\tdep\tuas\t' uas.tsv
! grep -q $'\tdep\tlas\t' uas.tsv
cmp <(grep $'\tpos\t' uas.tsv) <(grep $'\tpos\t' table.tsv)

# --tie-eps: differences up to 3 points become ties, counted as such
xf-project --tie-eps 3 "$G/eval.tsv" > eps.tsv
awk -F'\t' 'NR > 1 { t += $25; n += $24 } END { exit !(t > 0 && n == 0) }' eps.tsv
awk -F'\t' 'NR > 1 && $5 == "2A" && $24 + $25 + $26 != 4 { exit 1 }' eps.tsv   # 4 pairs per language
xf-project --tie-eps 0.5 "$G/eval.tsv" > eps05.tsv
! cmp -s eps05.tsv table.tsv

# compressed output
xf-project -o table.tsv.zst "$G/eval.tsv"
cmp <(zstdcat table.tsv.zst) table.tsv
xf-project summary -o s.tsv "$G/eval.tsv"
cmp s.tsv summary.tsv
echo "project: ok"
