#!/usr/bin/env bash
# The data lines of a study's study.txt (examples/study.mk): one line per
# input file the study read, as make resolved its pattern, with the first
# 12 hex digits of its sha256 and, when a MANIFEST.tsv (path, license,
# source_repo, source_path: ../shared/data) or an ATTRIBUTION.tsv (file,
# license, source: examples/data) sits in its folder or a folder above,
# the file's licence and source from it.
# Usage: study-data.sh 'WHAT|FILE' ...   (WHAT: e.g. "pos train eng")
set -euo pipefail

# manifest_of FILE: prints "MANIFEST-PATH<TAB>PATH-INSIDE" of the nearest
# manifest above FILE (logical path: symlinks are not followed), or nothing.
manifest_of() {
  local f d
  f=$(realpath -s -- "$1")
  d=$(dirname -- "$f")
  while :; do
    for m in MANIFEST.tsv ATTRIBUTION.tsv; do
      [ -f "$d/$m" ] && { printf '%s\t%s\n' "$d/$m" "${f#"$d"/}"; return 0; }
    done
    [ "$d" = / ] && return 0
    d=$(dirname -- "$d")
  done
}

# licence_of MANIFEST PATH: "licence; source" of PATH's row, or nothing.
licence_of() {
  awk -F'\t' -v p="$2" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $(c["path"] ? c["path"] : c["file"]) == p {
      src = c["source_repo"] ? $(c["source_repo"]) (c["source_path"] ? " " $(c["source_path"]) : "") \
                             : (c["source"] ? $(c["source"]) : "")
      printf "%s; %s", c["license"] ? $(c["license"]) : "licence not given", src != "" ? src : "source not given"
      exit }' "$1"
}

declare -A seen   # file -> its line's tail (pos and dep read the same files)
for spec in "$@"; do
  what=${spec%%|*}
  file=${spec#*|}
  if [ ! -f "$file" ]; then
    printf 'data:     %s: %s (missing)\n' "$what" "$file"
    continue
  fi
  path=$(realpath -s -- "$file")
  if [ -z "${seen[$path]+y}" ]; then
    sha=$(sha256sum -- "$file" | cut -c1-12)
    lic=
    mi=$(manifest_of "$file")
    if [ -n "$mi" ]; then
      lic=$(licence_of "${mi%%$'\t'*}" "${mi#*$'\t'}")
      [ -n "$lic" ] || lic="not in $(basename "${mi%%$'\t'*}")"
    fi
    seen[$path]="$path sha256 $sha${lic:+ ($lic)}"
  fi
  printf 'data:     %s: %s\n' "$what" "${seen[$path]}"
done
