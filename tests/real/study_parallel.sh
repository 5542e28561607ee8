#!/usr/bin/env bash
# The GNU Parallel path of examples/study.mk: `make jobs` writes jobs.txt
# (one line per (α, run)); `parallel --joblog --resume` runs it, is killed
# (SIGKILL, its whole process group) after the first jobs finished, and is
# resumed with the same command; `make` then merges and analyses without
# making any cell.  The final rows, every cell file and every analysis are
# byte-identical to a plain `make -j2` run of the same study.
set -euo pipefail
. "$(dirname "$0")/lib-study.bash"
command -v parallel > /dev/null || { echo "GNU parallel not installed (tests/deps.sh)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
STUDY_CONF=$T/tiny.study
study_conf "$STUDY_CONF"
study_ref
out=$T/out
study_make "$out" jobs > "$T/jobs.log" 2>&1 || { cat "$T/jobs.log"; exit 1; }
[ "$(wc -l < "$out/jobs.txt")" -eq 4 ] || { echo "FAIL: jobs.txt has $(wc -l < "$out/jobs.txt") lines, want 4"; exit 1; }
[ ! -e "$out/rows/mlm" ] || [ -z "$(ls "$out/rows/mlm")" ] || { echo "FAIL: make jobs ran cells"; exit 1; }
grep -q 'parallel --joblog' "$T/jobs.log" || { echo "FAIL: make jobs does not say how to run it"; cat "$T/jobs.log"; exit 1; }

# first pass: killed once the first job is logged as done
setsid parallel --will-cite --joblog "$out/study.log" --resume --bar -j2 < "$out/jobs.txt" > "$T/p1" 2>&1 &
pid=$!
for _ in $(seq 600); do
  [ "$( { wc -l < "$out/study.log"; } 2>/dev/null || echo 0)" -ge 2 ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.5
done
kill -KILL -- -"$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
done1=$(($(wc -l < "$out/study.log") - 1))
cells1=$(ls "$out"/rows/mlm/*.tsv | wc -l)
echo "killed after $done1 of 4 jobs ($cells1 of 8 cells)"
[ "$done1" -ge 1 ] && [ "$done1" -lt 4 ] || { echo "FAIL: kill came too late or too early ($done1 jobs done)"; exit 1; }
for f in "$out"/rows/mlm/*.tsv; do
  cmp -s "$f" "$REF/rows/mlm/${f##*/}" || { echo "FAIL: ${f##*/} differs from the plain make run"; exit 1; }
done
ls -l --time-style=+%s.%N "$out"/rows/mlm/*.tsv | awk '{ print $6, $7 }' > "$T/mtimes1"

# resume: the jobs logged as done are skipped; the others run
parallel --will-cite --joblog "$out/study.log" --resume --bar -j2 < "$out/jobs.txt" > "$T/p2" 2>&1 \
  || { cat "$T/p2"; exit 1; }
[ "$(($(wc -l < "$out/study.log") - 1))" -eq 4 ] || { echo "FAIL: joblog has not 4 jobs"; cat "$out/study.log"; exit 1; }
awk -F'\t' 'NR > 1 && $7 != 0 { bad = 1 } END { exit bad }' "$out/study.log" || { echo "FAIL: a job failed"; cat "$out/study.log"; exit 1; }
ls -l --time-style=+%s.%N "$out"/rows/mlm/*.tsv | awk '{ print $6, $7 }' > "$T/mtimes2"
changed=$(awk 'NR == FNR { m[$2] = $1; next } ($2 in m) && m[$2] != $1' "$T/mtimes1" "$T/mtimes2")
[ -z "$changed" ] || { echo "FAIL: finished cells recomputed: $changed"; exit 1; }

# merge and analyses in make: no cell is made again
study_make "$out" all > "$T/merge" 2>&1 || { cat "$T/merge"; exit 1; }
if grep -q 'cells, eta\|study-cell' "$T/merge"; then echo "FAIL: make re-ran cells after parallel"; cat "$T/merge"; exit 1; fi
study_same "$REF" "$out" || { echo "FAIL: parallel rows differ from the plain make run"; exit 1; }
echo "GNU Parallel: killed and resumed; rows identical to the plain make run"
