#!/usr/bin/env bash
# blas.sh — the GEMM backend of a build (called by the Makefile).
#
#   tests/blas.sh flags   BACKEND   compile flags for lib/model/gemm.c
#   tests/blas.sh libs    BACKEND   link flags
#   tests/blas.sh ok      BACKEND   exit 0 if its headers and library are here
#   tests/blas.sh select  BLAS BUILD
#       BLAS = blis|openblas|onednn|auto.  Writes BUILD/blas (the backend's
#       name) only when it changes, so that only a change rebuilds.  auto:
#       BLIS if it runs a native sub-configuration on this CPU; else the
#       fastest installed of OpenBLAS and oneDNN by a short probe
#       (tests/bench/gemm_probe.c at the mBERT shapes 4096x768x768 and
#       4096x3072x768 on all cores, best of two rounds); else BLIS anyway.
#       The choice and why go to stderr and to BUILD/blas.auto, which caches
#       it: delete that file (or make clean) to probe again.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

flags() {
  case $1 in
    blis) echo "-DXF_BLAS_BLIS" ;;
    openblas) echo "-DXF_BLAS_OPENBLAS -I/usr/include/x86_64-linux-gnu/openblas-openmp" ;;
    onednn) echo "-DXF_BLAS_ONEDNN" ;;
    *) echo "blas.sh: unknown backend '$1' (blis, openblas, onednn or auto)" >&2; exit 2 ;;
  esac
}
libs() {
  case $1 in
    blis) echo "-lblis" ;;
    openblas) echo "-lopenblas" ;;
    onednn) echo "-ldnnl" ;;
    *) flags "$1" ;;
  esac
}
ok() {   # headers and library present?
  case $1 in
    blis) [ -f /usr/include/x86_64-linux-gnu/blis.h ] || [ -f /usr/include/blis.h ] ;;
    openblas) [ -f /usr/include/x86_64-linux-gnu/openblas-openmp/cblas.h ] ;;
    onednn) [ -f /usr/include/dnnl.h ] ;;
  esac && echo 'int main(void){return 0;}' |
    cc -x c - -o /dev/null $(libs "$1") 2>/dev/null
}
# probe BACKEND DIR THREADS: builds DIR/probe-BACKEND once, prints its line
probe() {
  local exe=$2/probe-$1
  [ -x "$exe" ] || cc -O2 -march=native -fopenmp $(flags "$1") -I"$root/lib/model" \
     -o "$exe" "$root/tests/bench/gemm_probe.c" "$root/lib/model/gemm.c" $(libs "$1") -lm
  "$exe" "$3"
}

case ${1:-} in
  flags|libs) "$1" "$2"; exit 0 ;;
  ok) ok "$2"; exit $? ;;
  probe) probe "$2" "$3" "$4"; exit 0 ;;
  select) ;;
  *) echo "usage: blas.sh flags|libs|ok BACKEND | select BLAS BUILD | probe BACKEND DIR THREADS" >&2; exit 2 ;;
esac

want=$2 build=$3
mkdir -p "$build"
if [ "$want" = auto ]; then
  if [ -s "$build/blas.auto" ]; then
    read -r choice _ < "$build/blas.auto"
  else
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    nt=$(nproc)
    choice="" why=""
    if ok blis; then
      line=$(probe blis "$tmp" 1 2>/dev/null || true)
      IFS=$'\t' read -r _ kern _ _ gen <<< "$line"
      if [ -n "$line" ] && [ "$gen" = 0 ]; then
        choice=blis why="$kern: a native sub-configuration"
      else
        why="${kern:-BLIS (not runnable)} runs generic kernels on this CPU"
      fi
    else
      why="BLIS is not installed"
    fi
    if [ -z "$choice" ]; then
      best=0 rates=""
      declare -A rate=()
      for round in 1 2; do   # interleaved rounds, best of each: the machine may be shared
        for b in openblas onednn; do
          ok "$b" || continue
          IFS=$'\t' read -r _ kern g1 g2 _ <<< "$(probe "$b" "$tmp" "$nt")"
          r=$(awk -v a="$g1" -v b="$g2" 'BEGIN { printf "%.0f", (a < b ? a : b) }')
          [ "${rate[$b]:-0}" -ge "$r" ] || rate[$b]=$r
        done
      done
      for b in openblas onednn; do
        [ -n "${rate[$b]:-}" ] || continue
        rates="$rates, $b ${rate[$b]} GFLOP/s"
        [ "${rate[$b]}" -le "$best" ] || { best=${rate[$b]}; choice=$b; }
      done
      if [ -n "$choice" ]; then
        why="$why; probe ($nt threads, slower of 4096x768x768 and 4096x3072x768)${rates}"
      else
        choice=blis why="$why, and neither OpenBLAS nor oneDNN is installed (make deps)"
      fi
    fi
    printf '%s %s\n' "$choice" "$why" > "$build/blas.auto"
    echo "blas: BLAS=auto chose $choice: $why (cached in $build/blas.auto)" >&2
  fi
else
  flags "$want" > /dev/null
  choice=$want
  ok "$choice" || { echo "blas: $choice is not installed: run make deps BLAS=$choice" >&2; exit 1; }
fi
if [ "$(cat "$build/blas" 2>/dev/null)" != "$choice" ]; then
  echo "$choice" > "$build/blas.tmp" && mv "$build/blas.tmp" "$build/blas"
  [ "$want" != auto ] || echo "blas: building with $choice ($(cut -d' ' -f2- "$build/blas.auto"))" >&2
  [ "$want" = auto ] || echo "blas: building with $choice (BLAS=$want)" >&2
fi
