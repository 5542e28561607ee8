#!/usr/bin/env bash
# xf-score on bad input: a clear "FILE:LINE: ..." message, exit 1 (2 for
# usage), and no output file left behind.
set -euo pipefail
G=$(cd "$(dirname "$0")/score" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"

# expect_fail STATUS PATTERN ARGS...: runs xf-score ARGS -o out.tsv; checks the
# exit status, the message, and that neither out.tsv nor a temp file is left.
expect_fail() {
  local want=$1 pat=$2; shift 2
  local rc=0
  xf-score "$@" -o out.tsv > /dev/null 2> err || rc=$?
  if [ "$rc" -ne "$want" ]; then echo "FAIL: xf-score $*: exit $rc, want $want"; cat err; exit 1; fi
  if ! grep -qE -- "$pat" err; then echo "FAIL: xf-score $*: message"; echo "want: $pat"; cat err; exit 1; fi
  if [ -n "$(ls -A | grep -v -e '^err$' -e '\.tsv$' -e '^out$')" ] || [ -e out.tsv ]; then
    echo "FAIL: xf-score $*: left files:"; ls -A; exit 1
  fi
}
H=$(head -n 1 "$G/eval.tsv")
row() { printf 'm\tpos\tmlm\txxx\t10\t1\t-\taaa\tupos_acc\t%s\t100\n' "$1"; }

# Missing column (no 'n'), wrong column order, wrong field count.
cut -f1-10 "$G/eval.tsv" > nocol.tsv
expect_fail 1 '^xf-score: nocol.tsv:1: not a header of eval rows' nocol.tsv
awk -F'\t' 'BEGIN{OFS="\t"} {t=$1; $1=$2; $2=t; print}' "$G/eval.tsv" > order.tsv
expect_fail 1 'order.tsv:1: not a header of eval rows' rank order.tsv
{ echo "$H"; printf 'm\tpos\tbase\t-\t0\t0\t-\taaa\tupos_acc\t50\n'; } > short.tsv
expect_fail 1 'short.tsv:2: ' short.tsv

# Non-numeric and out-of-range values, non-integer steps.
{ echo "$H"; row 50; row abc; } > nan.tsv
expect_fail 1 "^xf-score: nan.tsv:3: column 'value': 'abc' is not a number" nan.tsv
{ echo "$H"; row ' 50'; } > space.tsv
expect_fail 1 "space.tsv:2: column 'value': ' 50' is not a number" space.tsv
{ echo "$H"; row 101; } > big.tsv
expect_fail 1 "big.tsv:2: column 'value': 101 is outside 0..100" big.tsv
{ echo "$H"; row 50 | sed 's/\t10\t1\t/\tten\t1\t/'; } > steps.tsv
expect_fail 1 "steps.tsv:2: column 'steps': 'ten' is not an integer" steps.tsv

# Mismatched task and metric, unknown task, setting rules.
{ echo "$H"; row 50 | sed 's/upos_acc/las/'; } > mism.tsv
expect_fail 1 "mism.tsv:2: metric 'las' does not belong to task 'pos'" mism.tsv
{ echo "$H"; row 50 | sed 's/\tpos\t/\tsrl\t/'; } > task.tsv
expect_fail 1 "task.tsv:2: column 'task': unknown task 'srl'" task.tsv
{ echo "$H"; row 50 | sed 's/\txxx\t/\t-\t/'; } > notr.tsv
expect_fail 1 "notr.tsv:2: column 'transfer': setting 'mlm' needs a transfer language" notr.tsv
{ echo "$H"; printf 'm\tpos\tlang\t-\t0\t0\t-\taaa\tupos_acc\t50\t10\n'; } > lang.tsv
expect_fail 1 "lang.tsv:2: column 'adapters': setting 'lang' needs language adapters" compare lang.tsv

# Duplicate rows: within one file, and across files (both places named).
{ echo "$H"; row 50; row 51; } > dup.tsv
expect_fail 1 '^xf-score: dup.tsv:3: duplicate row .*first at dup.tsv:2\)' dup.tsv
{ echo "$H"; row 52; } > dup2.tsv
expect_fail 1 'dup2.tsv:2: duplicate row .*first at .*eval.tsv:5\)' rank "$G/eval.tsv" dup2.tsv
# ... also through stdin.
expect_fail 1 '<stdin>:[0-9]+: duplicate row' - < <(cat "$G/eval.tsv" dup2.tsv)
# Duplicate transfer scores (a ts table given twice).
xf-score "$G/eval.tsv" > ts.tsv
cp ts.tsv ts2.tsv
expect_fail 1 'ts2.tsv:2: duplicate transfer score .*also at ts.tsv:2' rank ts.tsv ts2.tsv
sed '3s/\t-2.5000\t/\tbad\t/' ts.tsv > badts.tsv
expect_fail 1 "badts.tsv:3: column 'ts': 'bad' is not a number" rank badts.tsv

# seen: a language missing from the metadata names the row and the file.
head -n 4 "$G/langs.tsv" > langs3.tsv
expect_fail 1 "eval.tsv:[0-9]+: language 'xxx' is not in langs3.tsv" seen --languages langs3.tsv "$G/eval.tsv"

# Nothing pairs: exit 1 with the likely cause, not an empty table (issue 15).
brow() { printf '%s\t%s\tbase\t-\t0\t0\t-\t%s\t%s\t50\t10\n' "$@"; }
mrow() { printf '%s\t%s\tmlm\tyor\t10\t3\t-\t%s\t%s\t51\t10\n' "$@"; }
{ echo "$H"; brow base pos wol upos_acc; mrow model pos wol upos_acc; } > names.tsv
expect_fail 1 "^xf-score: no transfer scores: pos: mlm rows have model 'model' but base rows have model 'base'$" names.tsv
expect_fail 1 "mlm rows have model 'model' but base rows have model 'base'" rank names.tsv
{ echo "$H"; brow m pos wol upos_acc; mrow m dep wol uas; mrow m dep wol las; } > nodep.tsv
expect_fail 1 '^xf-score: no transfer scores: no base rows for task dep$' nodep.tsv
{ echo "$H"; brow m pos wol upos_acc; } > nomlm.tsv
expect_fail 1 'no transfer scores: no mlm rows \(the input has 1 base and 0 lang rows\)' variance nomlm.tsv
{ echo "$H"; brow m pos eng upos_acc; mrow m pos wol upos_acc; mrow m pos yor upos_acc; } > targets.tsv
expect_fail 1 "pos: mlm rows have target 'wol', 'yor' but base rows have target 'eng'$" targets.tsv
expect_fail 1 "no mlm rows with --steps 100 \(the input has steps '10'\)" --steps 100 names.tsv
{ echo "$H"; mrow m pos wol upos_acc; } > nobase.tsv
expect_fail 1 'no transfer scores: no base rows \(evaluate the original model' nobase.tsv
echo "$H" > header.tsv
expect_fail 1 'no transfer scores: the input has no eval rows$' header.tsv
# two tasks, two causes, one line
{ cat names.tsv; mrow base dep wol uas; mrow base dep wol las; } > both.tsv
expect_fail 1 "no base rows for task dep; pos: mlm rows have model 'model'" both.tsv

# Usage errors exit 2.
expect_fail 2 'must end in .svg or .png' rank --plot fig.pdf "$G/eval.tsv"
expect_fail 2 '--plot works with every analysis, not ts' ts --plot fig.svg "$G/eval.tsv"
expect_fail 2 "unknown metric 'f1'" --metric f1 "$G/eval.tsv"
expect_fail 2 'not in \(0, 1\]' variance --extreme-share 2 "$G/eval.tsv"
# A missing gnuplot is an error before any work.
XF_GNUPLOT=/nonexistent/gnuplot expect_fail 1 'gnuplot not found' rank --plot fig.svg "$G/eval.tsv"
[ ! -e fig.svg ]
echo "score_errors: ok"
