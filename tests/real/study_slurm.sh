#!/usr/bin/env bash
# The Slurm path of examples/study.mk on a real single-node Slurm started by
# this test (tests/real/lib-slurm.bash: munged, slurmctld and slurmd on
# localhost, stopped at the end): examples/slurm/submit.sh writes jobs.txt,
# submits the job array of study.sbatch (SLURM_ARRAY_TASK_ID picks line N)
# and the merge-and-analyse job with --dependency=afterok; once the queue is
# empty, the rows and analyses must be byte-identical to a plain `make -j2`.
# Where the daemons cannot run (not root, no slurm-wlm), the test says why
# and runs study.sbatch for every array index with SLURM_ARRAY_TASK_ID set,
# then merge.sbatch, instead; with XF_REQUIRE_SLURM=1 that is a failure.
# Either way it prints one "note: slurm: ..." line naming the path taken
# (tests/run-scripts.sh shows it under the ok line).
set -euo pipefail
. "$(dirname "$0")/lib-study.bash"
. "$(dirname "$0")/lib-slurm.bash"
T=$(mktemp -d)
trap 'slurm_stop; rm -rf "$T"' EXIT
STUDY_CONF=$T/tiny.study
study_conf "$STUDY_CONF"
study_ref
out=$T/out
if slurm_start "$T/slurm"; then
  ids=$(bash "$XF_ROOT/examples/slurm/submit.sh" CONFIG="$STUDY_CONF" OUT="$out" 2> "$T/submit.err") \
    || { cat "$T/submit.err"; exit 1; }
  echo "submitted: $ids"
  arr=$(echo "$ids" | sed -n 's/^array \([0-9]*\) (\([0-9]*\) tasks), merge \([0-9]*\)$/\1/p')
  [ -n "$arr" ] || { echo "FAIL: submit.sh printed '$ids'"; exit 1; }
  [[ $ids == *"(4 tasks)"* ]] || { echo "FAIL: want 4 array tasks: $ids"; exit 1; }
  for _ in $(seq 900); do
    [ -z "$(squeue -h 2>/dev/null)" ] && break
    sleep 1
  done
  [ -z "$(squeue -h)" ] || { echo "FAIL: jobs still queued"; squeue; exit 1; }
  merge=${ids##* }
  st=$(sacct -n -X -j "$merge" -o State 2>/dev/null | tr -d ' ' || true)
  echo "merge job $merge: ${st:-no accounting}"
  # the array's output files, one per task, and the merge job's
  [ "$(ls "$out"/xf-study-"$arr"_*.out | wc -l)" -eq 4 ] || { echo "FAIL: want 4 array outputs"; ls "$out"; exit 1; }
  [ -f "$out/xf-study-merge-$merge.out" ] || { echo "FAIL: the merge job did not run"; ls "$out"; exit 1; }
  grep -q 'findings' "$out/xf-study-merge-$merge.out" || { echo "FAIL: merge output"; cat "$out/xf-study-merge-$merge.out"; exit 1; }
  note="note: slurm: real slurmctld+slurmd ($(sinfo -V)), array $arr of 4 jobs + afterok merge $merge${st:+ ($st)}"
  echo "$note"
  mode="real Slurm ($(sinfo -V))"
else
  if [ "${XF_REQUIRE_SLURM:-0}" = 1 ]; then
    echo "FAIL: XF_REQUIRE_SLURM=1 but no real Slurm here: $SLURM_WHY"
    for f in slurmctld.err slurmd.err slurmctld.log slurmd.log munged.err; do
      [ -s "$T/slurm/$f" ] && { echo "== $f"; tail -n 5 "$T/slurm/$f"; }
    done
    exit 1
  fi
  note="note: slurm: FALLBACK ($SLURM_WHY): study.sbatch run by hand per array index, then merge.sbatch"
  echo "$note"
  study_make "$out" jobs > /dev/null
  n=$(wc -l < "$out/jobs.txt")
  for i in $(seq "$n"); do
    SLURM_ARRAY_TASK_ID=$i bash "$XF_ROOT/examples/slurm/study.sbatch" "$out/jobs.txt"
  done
  bash "$XF_ROOT/examples/slurm/merge.sbatch" "$XF_ROOT" CONFIG="$STUDY_CONF" OUT="$out" > "$T/merge.out"
  mode="sbatch bodies run by hand"
fi
study_same "$REF" "$out" || { echo "FAIL: Slurm rows differ from the plain make run"; exit 1; }
echo "Slurm ($mode): rows identical to the plain make run"
