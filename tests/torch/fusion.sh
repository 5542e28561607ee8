#!/usr/bin/env bash
# PyTorch parity of AdapterFusion under a task adapter and head
# (Stack(Fuse(l1..lN), task), N = 2 and 3, tagging and classification heads):
# logits, loss (with and without the V regulariser) and the gradients of the
# fusion parameters vs adapter-transformers 3.1's BertFusion written out in
# torch float64, <= 1e-4 relative (fusion_driver.c dumps, fusion_parity.py
# recomputes).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
lib="$(dirname "${XF_BIN:?XF_BIN not set}")/libxf.a"
[ -f "$lib" ] || { echo "missing $lib (run make first)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc $(cat "$(dirname "$lib")/cflags") \
  -o "$tmp/fusion_driver" "$root/tests/torch/fusion_driver.c" "$lib" \
  $(cat "$(dirname "$lib")/ldlibs")
mkdir "$tmp/dump"
"$tmp/fusion_driver" "$tmp/dump"
/usr/bin/python3 "$root/tests/torch/fusion_parity.py" "$tmp/dump"
