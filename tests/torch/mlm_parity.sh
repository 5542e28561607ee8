#!/usr/bin/env bash
# PyTorch parity of xf-mlmstep: logits, loss, every gradient, parameters after
# 3 AdamW steps, for a small BERT and a small XLM-R-style model (mlm_parity.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$here/mlm_parity.py" "$tmp"
