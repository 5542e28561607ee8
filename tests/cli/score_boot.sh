#!/usr/bin/env bash
# xf-score ts: bootstrap determinism (same seed, same bytes; another seed,
# other CIs; input order irrelevant), and excluded runs / pairs reported on
# stderr with counts, never read as 0.
set -euo pipefail
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"

# 10 runs of xxx->aaa and xxx->bbb at k=10 with spread-out scores; bases 50 / 80.
{
  printf 'model\ttask\tsetting\ttransfer\tsteps\trun\tadapters\ttarget\tmetric\tvalue\tn\n'
  printf 'm\tner\tbase\t-\t0\t0\t-\taaa\tner_f1\t50.0000\t10\n'
  printf 'm\tner\tbase\t-\t0\t0\t-\tbbb\tner_f1\t80.0000\t10\n'
  for r in 1 2 3 4 5 6 7 8 9 10; do
    printf 'm\tner\tmlm\txxx\t10\t%d\t-\taaa\tner_f1\t%d.0000\t10\n' "$r" $((45 + (r * 7) % 11))
    printf 'm\tner\tmlm\txxx\t10\t%d\t-\tbbb\tner_f1\t%d.0000\t10\n' "$r" $((75 + (r * 5) % 13))
  done
} > runs.tsv

xf-score --seed 7 runs.tsv > a.tsv
xf-score --seed 7 runs.tsv > b.tsv
cmp a.tsv b.tsv
xf-score --seed 8 runs.tsv > c.tsv
if cmp -s a.tsv c.tsv; then echo "FAIL: seeds 7 and 8 gave the same CIs"; exit 1; fi
# Only the CI columns may differ between seeds.
diff <(cut -f1-13 a.tsv) <(cut -f1-13 c.tsv)
# Input order does not matter: each group draws from its own stream.
{ head -n 1 runs.tsv; tail -n +2 runs.tsv | sort -r; } > shuffled.tsv
xf-score --seed 7 shuffled.tsv > d.tsv
cmp a.tsv d.tsv
# The CI brackets ts, and is within [min, max] of the runs mapped to ts.
awk -F'\t' 'NR > 1 { lo = ($11 - $13) / $13 * 100; hi = ($12 - $13) / $13 * 100;
  if (!($14 <= $7 && $7 <= $15 && $14 >= lo - 1e-3 && $15 <= hi + 1e-3 && $14 < $15)) { print "bad CI: " $0; exit 1 } }' a.tsv
# Mean over the 10 runs of xxx->aaa: values 45 + (7r mod 11) = 52 48 55 51 47 54 50 46 53 49,
# mean 50.5, ts = 0.5/50*100 = 1.
grep -qP '^m\tner\tner_f1\txxx\taaa\t10\t1.0000\t10\t50.5000\t' a.tsv
# --boot 0: no CI.
[ "$(xf-score --boot 0 runs.tsv | tail -n 1 | cut -f14-15)" = "$(printf 'nan\tnan')" ]

# A missing run (run 4 of xxx->bbb) is excluded and counted, not read as 0.
grep -v -P '\t4\t-\tbbb\t' runs.tsv > miss.tsv
xf-score miss.tsv > m.tsv 2> err
grep -q 'warning: 1 missing run(s) excluded' err
# bbb runs without run 4: 75 + (5r mod 13) for r != 4 = 80 85 77 (82) 87 79 84 76 81 86
# -> sum 735 over 9 runs = 81.6667; ts = 1.6667/80*100 = 2.0833.
grep -qP '^m\tner\tner_f1\txxx\tbbb\t10\t2.0833\t9\t81.6667\t' m.tsv
xf-score -v miss.tsv 2> err > /dev/null
grep -q 'missing run: model m, task ner, transfer xxx, steps 10, target bbb, run 4' err
[ -z "$(xf-score -q miss.tsv 2>&1 >/dev/null)" ]

# No base score for bbb: that pair is excluded and counted.
grep -v -P 'base\t-\t0\t0\t-\tbbb' runs.tsv > nobase.tsv
xf-score nobase.tsv > n.tsv 2> err
grep -q 'warning: 1 (transfer, target, steps) pair(s) without a base score excluded' err
[ "$(tail -n +2 n.tsv | cut -f5)" = "aaa" ]

# A base score of 0 is an error for that pair (named by file and line); the others stay.
sed 's/\tbbb\tner_f1\t80.0000/\tbbb\tner_f1\t0.0000/' runs.tsv > zero.tsv
xf-score zero.tsv > z.tsv 2> err
grep -q "error: zero.tsv:3: base score of model m, task ner, metric ner_f1, target bbb is 0" err
[ "$(tail -n +2 z.tsv | cut -f5)" = "aaa" ]
echo "score_boot: ok"
