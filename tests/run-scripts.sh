#!/usr/bin/env bash
# Runs test scripts (each exits 0 on success); prints one summary line.
# Usage: run-scripts.sh SUITE SCRIPT...   Needs XF_BIN (the built tools).
# A passing test's log is dropped, but the lines it printed that start with
# "note: " (which path it took, what it could not check here) are shown
# under its ok line; a failing test's last 40 lines are shown.
set -u
suite=$1; shift
pass=0 fail=0
export PATH="$XF_BIN:$PATH"
export XF_SHARED="${XF_SHARED:-$(cd "$(dirname "$0")/.." && pwd)/../shared}"
export XF_DATA="$XF_SHARED/data"
for t in "$@"; do
  [ -f "$t" ] || continue
  log=$(mktemp)
  start=$(date +%s)
  if bash "$t" >"$log" 2>&1; then
    pass=$((pass + 1)); echo "ok   $t ($(( $(date +%s) - start ))s)"
    grep -a '^note: ' "$log" | sed 's/^/     /' || true
  else
    fail=$((fail + 1)); echo "FAIL $t"; tail -n 40 "$log"
  fi
  rm -f "$log"
done
echo "$suite: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
