#!/usr/bin/env bash
# The headline findings of a study, computed from its analysis TSVs (never
# fixed text): per task at the largest k, the top and bottom transfer
# languages (aggregated ts, % of targets helped; xf-score rank), universal
# and never-helped recipients (xf-score targets), seen vs unseen means
# (xf-score seen) with a normal 95% interval of the mean over the (α, β)
# pairs of each group (mean ± 1.96·sd/√n, from ts.tsv and the same flags),
# and Spearman's rho between tasks (xf-score corr).
# Usage: study-summary.sh SCOREDIR LANGUAGES.tsv
set -euo pipefail
s=$1 langs=$2
for f in rank targets seen corr ts; do
  [ -s "$s/$f.tsv" ] || { echo "study-summary: $s/$f.tsv: missing or empty" >&2; exit 1; }
done
kmax=$(awk -F'\t' 'NR > 1 && $4 + 0 > m { m = $4 + 0 } END { print m + 0 }' "$s/rank.tsv")
echo "== findings at k = $kmax MLM steps (from $s)"
awk -F'\t' -v k="$kmax" 'NR > 1 && $4 == k { n[$2]++; r[$2, n[$2]] = $6 " " $7 " (" $9 "% of " $8 " targets helped)" }
  END { for (t in n) { top = r[t, 1]; if (n[t] > 1) top = top ", " r[t, 2];
          bot = r[t, n[t]]; if (n[t] > 3) bot = r[t, n[t] - 1] ", " bot;
          printf "%s: top donors %s; bottom %s\n", t, top, bot } }' "$s/rank.tsv" | sort
awk -F'\t' -v k="$kmax" 'NR > 1 && $4 == k { if ($10 == "universal") u[$2] = u[$2] " " $5; if ($10 == "never") v[$2] = v[$2] " " $5; seen[$2] = 1 }
  END { for (t in seen) printf "%s: universal recipients:%s; never helped:%s\n", t, (t in u) ? u[t] : " none", (t in v) ? v[t] : " none" }' "$s/targets.tsv" | sort
# seen flags: the column xf-score seen used (its seen_by column)
by=$(awk -F'\t' 'NR == 2 { print $5 }' "$s/seen.tsv")
awk -F'\t' -v k="$kmax" -v col="${by}_seen" -v langs="$langs" '
  BEGIN { while ((getline line < langs) > 0) { split(line, f, "\t");
            if (!h) { for (i in f) if (f[i] == col) c = i; h = 1; continue } fl[f[1]] = f[c] } }
  FNR == 1 { file++ }
  file == 1 && FNR > 1 && $6 == k { g = (fl[$4] ? "seen" : "unseen") "->" (fl[$5] ? "seen" : "unseen");
    key = $2 SUBSEP g; n[key]++; sum[key] += $7; sq[key] += $7 * $7 }
  file == 2 && FNR > 1 && $4 == k { key = $2 SUBSEP $6
    if (n[key] > 1) { m = sum[key] / n[key]; sd = sqrt((sq[key] - n[key] * m * m) / (n[key] - 1)); hw = 1.96 * sd / sqrt(n[key]) }
    printf "%s: %-15s mean ts %s", $2, $6, $7;
    if (n[key] > 1) printf "  95%% CI [%.4f, %.4f]", m - hw, m + hw; printf "  (%d pairs, %s%% positive)\n", $8, $9 }
' "$s/ts.tsv" "$s/seen.tsv"
awk -F'\t' 'NR > 1 { printf "spearman %s vs %s at k=%s: rho %s, p %s over %s transfer languages (%s common targets)\n", $3, $5, $2, $9, $10, $7, $8 }' "$s/corr.tsv"
