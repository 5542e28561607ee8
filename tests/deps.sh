#!/usr/bin/env bash
# Installs the Debian packages xf needs when any is missing (make test).
# deps.sh [BLAS]: the GEMM backend's packages for BLAS = blis, openblas,
# onednn, or auto (default: all three, which the build's probe compares).
set -eu
case ${1:-auto} in
  blis) blas="libblis-dev" ;;
  openblas) blas="libopenblas-openmp-dev" ;;
  onednn) blas="libdnnl-dev" ;;
  auto) blas="libblis-dev libopenblas-openmp-dev libdnnl-dev" ;;
  *) echo "deps: unknown BLAS '$1' (blis, openblas, onednn or auto)" >&2; exit 2 ;;
esac
pkgs="build-essential pkg-config $blas libcsv-dev libzstd-dev zstd libjansson-dev
      libutf8proc-dev libcriterion-dev gnuplot-nox mandoc time binutils python3-torch python3-numpy python3-scipy python3-sentencepiece"
# the study report is checked in a real browser
pkgs="$pkgs chromium"
# libFuzzer harnesses (tests/fuzz) build with clang
pkgs="$pkgs clang libclang-rt-14-dev libomp-14-dev"
# the study driver's scale-out paths are tested on real GNU Parallel and Slurm
pkgs="$pkgs parallel slurm-wlm munge"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "deps: installing$missing" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
