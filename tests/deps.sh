#!/usr/bin/env bash
# Installs the Debian packages xf needs when any is missing (make test).
set -eu
pkgs="build-essential pkg-config libblis-dev libcsv-dev libzstd-dev zstd libjansson-dev
      libutf8proc-dev libcriterion-dev gnuplot-nox mandoc python3-torch python3-numpy python3-scipy python3-sentencepiece
      parallel slurm-wlm munge"
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
