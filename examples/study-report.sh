#!/usr/bin/env bash
# The manifest of a study's page (xf-score report, its "kind title file
# figure note" TSV) from what the study folder holds; paths are relative to
# OUT.  Sections whose files are missing stay in: the page says so there.
# Usage: study-report.sh OUT [FUSION-TASK...]
set -euo pipefail
out=$1; shift
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$@"; }
printf 'kind\ttitle\tfile\tfigure\tnote\n'
row text "The study" study.txt - "Configuration and provenance of this run."
row text "Findings" summary.txt - "Computed from the tables below at the largest number of MLM steps; 95% intervals are normal intervals of the mean over (transfer, target) pairs."
row table "Transfer languages ranked (Table 3)" score/rank.tsv score/rank.svg "Aggregated transfer: the mean ts of a transfer language over its targets; pos_pct the share of targets it helps."
row table "Variance categories (Table 5, Figure 7)" score/variance.tsv score/variance.svg "ts over targets per transfer language, sorted by variance; unseen languages in red."
row table "Recipients (Figures 3a and 5)" score/targets.tsv score/targets.svg "Target languages by the share of transfer languages that help them: universal recipients and those never helped."
row table "Seen vs unseen (Figure 8)" score/seen.tsv score/seen.svg "Mean ts by whether the model saw the transfer and the target language in pretraining."
row table "Spearman correlation across tasks (Table 21, Figure 6)" score/corr.tsv score/corr.svg "Do tasks rank the transfer languages alike? The figure shows the top transfer languages of every task."
row table "Progression over MLM steps (Figures 3b, 9-18)" score/progress.tsv score/progress.svg "Aggregated transfer per transfer language as k grows, with the best and worst targets."
if [ "$#" -gt 0 ]; then
  row table "Continuous training vs language adapters (Table 2, Figure 2)" score/compare-summary.tsv score/compare-summary.svg "Share of languages improved over the base by k MLM steps on themselves and by [1A], [2A], [3A] adapter settings."
fi
for t in "$@"; do
  row table "Interference, $t: counts and projection (Table 1, Figure 4)" "fusion/$t/project.tsv" "fusion/$t/project.svg" "Signs of the change of each language's score inside a fusion against its [A] score; the 2-D projection of appendix F."
  row table "Language-adapter settings, $t (Figure 2)" "fusion/$t/summary.tsv" "fusion/$t/summary.svg" "Mean improvement over the base of [1A], [2A], [3A]."
done
row table "Transfer scores with bootstrap intervals" score/ts.tsv - "ts(α→β) = (mean over runs of score_finetuned − score_base) / score_base × 100."
