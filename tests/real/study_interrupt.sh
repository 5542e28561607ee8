#!/usr/bin/env bash
# examples/study.mk resumes after an interrupt: `make -j2` of a tiny study is
# stopped at a random point (after 1-4 of its 8 cells, plus
# up to 0.9 s), once with SIGINT (make's whole process group,
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

# interrupt the run once WANT cell files exist, plus a random delay under a
# second; a fast machine may finish the study within that, so a run that did
# finish is repeated with WANT=1 and no delay (the grid then still has 7 of 8
# cells to make) before the test gives up.
interrupt() {   # SIG OUT WANT DELAY
  local sig=$1 out=$2 want=$3 delay=$4
  rm -rf "$out"
  # a background job of a script starts with SIGINT and SIGQUIT ignored (and
  # make keeps ignoring what it inherits ignored): restore them, as a
  # terminal's job would have them
  setsid perl -e '$SIG{INT} = $SIG{QUIT} = "DEFAULT"; exec @ARGV or die "exec: $!\n"' make --no-print-directory -f "$XF_ROOT/examples/study.mk" \
    CONFIG="$STUDY_CONF" OUT="$out" -j2 all > "$T/log-$sig" 2>&1 &
  pid=$!
  for _ in $(seq 3000); do
    [ "$(compgen -G "$out/rows/mlm/*.tsv" | wc -l)" -ge "$want" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  echo "SIG$sig after $want cell(s) + ${delay}s"
  sleep "$delay"
  kill -s "$sig" -- -"$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  sleep 0.5
  [ ! -f "$out/score/ts.tsv" ]
}

for sig in INT KILL; do
  out=$T/out-$sig
  if ! interrupt "$sig" "$out" $(( 1 + RANDOM % 4 )) 0.$(( RANDOM % 10 )); then
    echo "the run finished before SIG$sig; again, at the first cell"
    interrupt "$sig" "$out" 1 0 || { echo "FAIL: the run finished before SIG$sig"; exit 1; }
  fi
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
