#!/usr/bin/env bash
# Runs each Criterion test binary given; prints one summary line.
set -u
pass=0 fail=0
export XF_DATA="${XF_DATA:-$(cd "$(dirname "$0")/.." && pwd)/../shared/data}"
for t in "$@"; do
  [ -x "$t" ] || continue
  if "$t" --jobs 2 >"$t.log" 2>&1; then
    pass=$((pass + 1)); tail -n 1 "$t.log" | sed "s|^|$(basename "$t"): |"
  else
    fail=$((fail + 1)); echo "FAIL $(basename "$t")"; tail -n 40 "$t.log"
  fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
