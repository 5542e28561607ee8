#!/usr/bin/env bash
# run.sh SECONDS BUILD_DIR [NAME...] — runs every libFuzzer harness
# BUILD_DIR/fuzz/fuzz_NAME (or the NAMEs given, e.g. "tsv conllu") for
# SECONDS seconds, one after the other, one process each (no -jobs: that
# would log to fuzz-N.log in the current folder), and
# fails if any finds a crash, a leak, a timeout or runs out of memory.
#
# Corpora: the seeds made now by seeds.sh (BUILD_DIR/fuzz-seeds/NAME) and
# the committed tests/fuzz/seeds/NAME (hand-written seeds and regression
# cases; every file there is run first, so a fixed crash stays fixed);
# what a run discovers is kept in BUILD_DIR/fuzz-corpus/NAME for the next
# run.  Crash inputs go to BUILD_DIR/fuzz-crashes/NAME/ (reproduce with
# `BUILD_DIR/fuzz/fuzz_NAME FILE`).
#
# Prints one line per harness: runs, exec/s, cov: (coverage points) and
# ft: (features) of libFuzzer's last status line, corpus size.
# FUZZ_FLAGS adds libFuzzer options (e.g. FUZZ_FLAGS=-dict=...).
set -u
secs=$1; bdir=$2; shift 2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export XF_DATA=${XF_DATA:-$root/../shared/data}
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
# Options of the harness binaries' sanitizers: every UB report is fatal.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [ $# -eq 0 ]; then
  set -- $(cd "$bdir/fuzz" && ls fuzz_* | sed 's/^fuzz_//')
fi
# The machinery first (selftest.c): a die is caught and cleaned up, a
# descriptor leak, an overflow and a die marked as a bug are findings.
st=$(mktemp -d)
selftest() {   # CASE WANT(0|fail)
  printf '%s' "$1" > "$st/$1"
  ( "$bdir/fuzz/selftest" "$st/$1" > "$st/$1.log" 2>&1; exit $? ) 2>/dev/null
  local rc=$?
  if { [ "$2" = 0 ] && [ $rc -ne 0 ]; } || { [ "$2" = fail ] && [ $rc -eq 0 ]; }; then
    echo "FAIL fuzz selftest '$1': exit $rc"; tail -n 20 "$st/$1.log"; return 1
  fi
}
selftest die 0 && selftest fdleak fail && selftest overflow fail && selftest bugdie fail ||
  { rm -rf "$st"; exit 1; }
rm -rf "$st"
echo "ok   fuzz selftest: die caught and released; leak, overflow, die-as-bug reported"

bash "$here/seeds.sh" "$bdir/fuzz-seeds" || { echo "fuzz: cannot make the seed corpora"; exit 1; }

# Longest input libFuzzer makes, per harness (seeds may be longer: they are
# still run whole).
max_len() {
  case $1 in
    hfmodel|safetensors|tstream|squad|tokjson) echo 16384 ;;
    examples|conllu|iob|nli|text|tsv) echo 8192 ;;
    *) echo 2048 ;;
  esac
}

fail=0
for name in "$@"; do
  bin=$bdir/fuzz/fuzz_$name
  [ -x "$bin" ] || { echo "FAIL fuzz_$name: no such harness ($bin)"; fail=1; continue; }
  corpus=$bdir/fuzz-corpus/$name crashes=$bdir/fuzz-crashes/$name
  mkdir -p "$corpus" "$crashes"
  dirs=("$corpus" "$bdir/fuzz-seeds/$name")
  [ -d "$here/seeds/$name" ] && dirs+=("$here/seeds/$name")
  log=$bdir/fuzz-$name.log
  start=$(date +%s)
  # the outer timeout: a harness that hangs in its own crash report
  timeout -k 10 $((secs + 120)) "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len="$(max_len "$name")" -close_fd_mask=3 -print_final_stats=1 \
    -artifact_prefix="$crashes/" ${FUZZ_FLAGS:-} "${dirs[@]}" >"$log" 2>&1
  rc=$?
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\/[^ ]*\).*/cov \1 ft \2 corpus \3/p' <<<"$last")
  if [ $rc -ne 0 ]; then
    fail=1
    echo "FAIL fuzz_$name ($(( $(date +%s) - start ))s): exit $rc; log $log; inputs in $crashes/"
    grep -E 'ERROR|SUMMARY|Test unit written|fuzz harness' "$log" | head -n 10
    tail -n 30 "$log"
  else
    echo "ok   fuzz_$name (${secs}s): ${runs:-?} runs, ${speed:-?} exec/s, ${cov:-no status line}"
  fi
done
[ $fail -eq 0 ] && echo "fuzz: all harnesses ran clean" || echo "fuzz: FAILED"
exit $fail
