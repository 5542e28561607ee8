#!/usr/bin/env bash
# xf-project bad input: one-line error naming the file (and line), exit 1,
# no output file; usage errors exit 2.
set -euo pipefail
G=$(cd "$(dirname "$0")/project" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
H=$'model\ttask\tsetting\ttransfer\tsteps\trun\tadapters\ttarget\tmetric\tvalue\tn'
fails() {   # RC PATTERN CMD...
  local want=$1 pat=$2 rc=0; shift 2
  "$@" > out.tsv 2> err || rc=$?
  [ "$rc" -eq "$want" ] || { echo "FAIL: $* exited $rc, want $want"; cat err; exit 1; }
  grep -q -- "$pat" err || { echo "FAIL: $*: message lacks '$pat'"; cat err; exit 1; }
  [ "$want" -ne 1 ] || [ "$(wc -l < err)" -eq 1 ] || { echo "FAIL: $*: not one line"; cat err; exit 1; }
}
# a combination whose language has no [A] baseline
{ echo "$H"
  printf 'tiny\tpos\tlang\t-\t0\t0\teng\teng\tupos_acc\t50.0000\t10\n'
  printf 'tiny\tpos\tlang\t-\t0\t0\teng+hin\teng\tupos_acc\t51.0000\t10\n'
  printf 'tiny\tpos\tlang\t-\t0\t0\teng+hin\thin\tupos_acc\t49.0000\t10\n'; } > nobase.tsv
fails 1 '^xf-project: nobase.tsv:3: adapters eng+hin: no \[hin\] baseline' xf-project -o o1.tsv nobase.tsv
[ ! -e o1.tsv ] || { echo "FAIL: output left behind"; exit 1; }
fails 1 'nobase.tsv:3: .*no \[hin\] baseline' xf-project --plot p.svg -o o1.tsv nobase.tsv
[ -z "$(ls -A | grep -v '^\(nobase.tsv\|out.tsv\|err\)$')" ] || { echo "FAIL: files left"; ls; exit 1; }
# the same languages in two fusion orders
{ cat nobase.tsv
  printf 'tiny\tpos\tlang\t-\t0\t0\thin\thin\tupos_acc\t50.0000\t10\n'
  printf 'tiny\tpos\tlang\t-\t0\t0\thin+eng\teng\tupos_acc\t52.0000\t10\n'; } > order.tsv
fails 1 'order.tsv:6: adapters hin+eng on eng: the same languages as eng+hin at order.tsv:3' xf-project order.tsv
fails 1 '^xf-project: missing.tsv: ' xf-project -o o2.tsv missing.tsv
[ ! -e o2.tsv ]
echo "not a header" > junk.tsv
fails 1 'junk.tsv:1: not a header of eval rows' xf-project junk.tsv
fails 1 'junk.tsv:1: ' xf-project summary -o o3.tsv junk.tsv
[ ! -e o3.tsv ]
# usage
fails 2 'tie-eps' xf-project --tie-eps -1 "$G/eval.tsv"
fails 2 'unknown metric' xf-project --metric foo "$G/eval.tsv"
fails 2 'not an option of summary' xf-project summary --tie-eps 1 "$G/eval.tsv"
cp "$G/eval.tsv" in.tsv
fails 2 'is the input' xf-project -o in.tsv in.tsv
cmp in.tsv "$G/eval.tsv"
fails 2 'is the input' xf-project --plot in.tsv in.tsv
fails 2 'must end in .svg or .png' xf-project --plot x.pdf in.tsv
xf-project --help | grep -q -- '--tie-eps'
xf-project --version | grep -q '^xf-project'
echo "project_errors: ok"
