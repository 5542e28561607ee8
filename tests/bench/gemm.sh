#!/usr/bin/env bash
# gemm.sh — the linked GEMM backend's sgemm peak and the encoder ops' throughput at mBERT-base
# shapes on 2 threads (GFLOP/s and % of the peak for GEMM-bound ops, GB/s for
# memory-bound ones).  Builds tests/bench/ops_bench.c against the library
# with the Makefile's flags.  Timings on a shared machine are noisy.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
build=${BUILD:-$(dirname "${XF_BIN:-$root/build/bin}")}
lib=$build/libxf.a
[ -f "$build/cflags" ] || make --no-print-directory BUILD="$build" all >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc $(cat "$build/cflags") \
   -o "$tmp/ops_bench" tests/bench/ops_bench.c "$lib" \
   $(cat "$build/ldlibs")
echo "note: the machine is shared; timings are noisy (best of 2-3 runs each)"
/usr/bin/time -f "ops_bench: %e s wall, peak RSS %M KiB" "$tmp/ops_bench" "${XF_BENCH_THREADS:-2}"
