#!/usr/bin/env bash
# PyTorch parity of the adapter layers (Pfeiffer, Stack, invertible) and the
# task heads (tagging, classification, QA, biaffine) in isolation: forward
# values and gradients vs torch autograd in float64, <= 1e-4 relative.
# Builds tests/torch/heads_driver.c against the libxf.a next to $XF_BIN.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
lib="$(dirname "${XF_BIN:?XF_BIN not set}")/libxf.a"
[ -f "$lib" ] || { echo "missing $lib (run make first)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc $(cat "$(dirname "$lib")/cflags") -o "$tmp/heads_driver" \
  "$root/tests/torch/heads_driver.c" "$lib" $(cat "$(dirname "$lib")/ldlibs")
mkdir "$tmp/dump"
"$tmp/heads_driver" "$tmp/dump"
/usr/bin/python3 "$root/tests/torch/heads.py" "$tmp/dump"
