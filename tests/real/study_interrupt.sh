#!/usr/bin/env bash
# examples/study.mk resumes after an interrupt: `make -j2` of a tiny study is
# stopped at a random point, once with SIGINT (make's whole process group,
# as a terminal's ^C does) and once with SIGKILL (everything, no clean-up),
# then re-run; every file that existed after the interrupt keeps its mtime
# (nothing finished is recomputed), every finished cell is byte-identical to
# the uninterrupted run's, and the final rows and analyses are
# byte-identical to it.  The random delays are printed (RANDOM_SEED=N repeats).
set -euo pipefail
. "$(dirname "$0")/lib-study.bash"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
STUDY_CONF=$T/tiny.study
study_conf "$STUDY_CONF"
study_ref
RANDOM=${RANDOM_SEED:-$$}

# snapshot OUT: path and mtime of every finished file (no temp files)
snapshot() { (cd "$1" && find . -type f ! -name '*.tmp*' ! -path '*/.*' -printf '%p %T@\n' | sort); }

for sig in INT KILL; do
  out=$T/out-$sig
  # wait until the grid has started (first cell file), then a random delay
  setsid bash -c 'exec "$@"' _ make --no-print-directory -f "$XF_ROOT/examples/study.mk" \
    CONFIG="$STUDY_CONF" OUT="$out" -j2 all > "$T/log-$sig" 2>&1 &
  pid=$!
  for _ in $(seq 600); do
    compgen -G "$out/rows/mlm/*.tsv" > /dev/null && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.5
  done
  delay=$(( RANDOM % 4 )).$(( RANDOM % 10 ))
  echo "SIG$sig after the first cell + ${delay}s"
  sleep "$delay"
  kill -s "$sig" -- -"$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  sleep 0.5
  if [ -f "$out/score/ts.tsv" ]; then echo "FAIL: the run finished before SIG$sig"; exit 1; fi
  snapshot "$out" > "$T/before-$sig"
  n=$(ls "$out"/rows/mlm/*.tsv 2>/dev/null | wc -l)
  echo "interrupted with $n of 8 cells finished"
  for f in "$out"/rows/mlm/*.tsv; do
    [ -f "$f" ] || continue
    cmp -s "$f" "$REF/rows/mlm/${f##*/}" || { echo "FAIL: SIG$sig: ${f##*/} differs from the uninterrupted run"; exit 1; }
  done
  study_make "$out" -j2 all > "$T/rerun-$sig" 2>&1 || { cat "$T/rerun-$sig"; exit 1; }
  # every file of the snapshot is unchanged
  snapshot "$out" > "$T/after-$sig"
  missing=$(comm -23 "$T/before-$sig" "$T/after-$sig")
  if [ -n "$missing" ]; then echo "FAIL: SIG$sig: recomputed or removed after the re-run:"; echo "$missing"; exit 1; fi
  reran=$(grep -c 'cells, eta' "$T/rerun-$sig" || true)
  [ "$reran" -eq $(( 8 - n )) ] || { echo "FAIL: SIG$sig: re-run made $reran cells, want $(( 8 - n ))"; exit 1; }
  study_same "$REF" "$out" || { echo "FAIL: SIG$sig: final TSVs differ from the uninterrupted run"; exit 1; }
  # a third run does nothing
  study_make "$out" all > "$T/third-$sig" 2>&1
  if grep -q 'xf-\|cells, eta' "$T/third-$sig"; then echo "FAIL: a finished study re-ran work:"; cat "$T/third-$sig"; exit 1; fi
  echo "SIG$sig: resumed, $(( 8 - n )) cells made by the re-run, final TSVs identical"
done
