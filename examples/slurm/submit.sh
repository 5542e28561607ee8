#!/usr/bin/env bash
# Runs a study on Slurm: writes jobs.txt (make ... jobs, which also builds the
# base model, the task adapters and the example streams every cell needs),
# submits it as a job array of study.sbatch, then the merge-and-analyse job
# with --dependency=afterok on the array.  Prints the two job ids.
#   bash examples/slurm/submit.sh CONFIG=my.study OUT=/shared/fs/study [SBATCH_OPTS...]
# Make arguments are NAME=VALUE words; other words go to both sbatch calls
# (e.g. --partition=cpu --time=02:00:00).  OUT must be on a filesystem that
# every node sees.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
margs=() sargs=() out=study
for a in "$@"; do
  case $a in
    *=*) [[ $a == -* ]] && sargs+=("$a") || margs+=("$a"); [[ $a == OUT=* ]] && out=${a#OUT=} ;;
    *) sargs+=("$a") ;;
  esac
done
make --no-print-directory -f "$root/examples/study.mk" "${margs[@]}" jobs >&2
out=$(cd "$out" && pwd)
n=$(wc -l < "$out/jobs.txt")
arr=$(sbatch --parsable "${sargs[@]}" --chdir="$out" --array=1-"$n" "$root/examples/slurm/study.sbatch" "$out/jobs.txt")
arr=${arr%%;*}
merge=$(sbatch --parsable "${sargs[@]}" --chdir="$out" --dependency=afterok:"$arr" \
  "$root/examples/slurm/merge.sbatch" "$root" "${margs[@]}")
echo "array $arr ($n tasks), merge ${merge%%;*}"
