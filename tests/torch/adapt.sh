#!/usr/bin/env bash
# PyTorch parity of the full task model (frozen BERT + Pfeiffer task adapter
# + tagging / classification / QA / biaffine heads): logits, loss and every
# trainable gradient vs torch autograd in float64, <= 1e-4 relative
# (adapt_driver.c dumps, adapt_parity.py recomputes).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
lib="$(dirname "${XF_BIN:?XF_BIN not set}")/libxf.a"
[ -f "$lib" ] || { echo "missing $lib (run make first)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc $(cat "$(dirname "$lib")/cflags") \
  -o "$tmp/adapt_driver" "$root/tests/torch/adapt_driver.c" "$lib" \
  $(cat "$(dirname "$lib")/ldlibs")
mkdir "$tmp/dump"
"$tmp/adapt_driver" "$tmp/dump"
/usr/bin/python3 "$root/tests/torch/adapt_parity.py" "$tmp/dump"
