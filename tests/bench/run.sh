#!/usr/bin/env bash
# make bench: runs every tests/bench/*.sh (each prints its own report).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export PATH="$XF_BIN:$PATH"
export XF_SHARED="${XF_SHARED:-$(cd "$here/../../.." && pwd)/shared}"
export XF_DATA="$XF_SHARED/data"
rc=0
for b in "$here"/*.sh; do
  [ "$(basename "$b")" = run.sh ] && continue
  echo "== $(basename "$b" .sh)"
  bash "$b" || { echo "bench $(basename "$b") FAILED"; rc=1; }
done
exit $rc
