#!/usr/bin/env bash
# A tiny study on the embedded demo data for the study tests (interrupt,
# GNU Parallel, Slurm): 2 pretraining languages, POS and DEP adapters on
# eng, transfer fra and wol, k = 1 and 3, 2 runs (8 cells), 2 language
# adapters.  Sourced: defines
#   study_conf FILE      writes the study file
#   study_make OUT ARG.. runs make -f examples/study.mk on it
#   study_ref            sets REF to a finished plain `make -j2` run of it,
#                        cached under $XF_BIN/../cache/study-KEY (KEY: the
#                        study files, this file and the tools)
#   study_same A B       the merged rows, every cell file and every analysis
#                        TSV of A and B are byte-identical
XF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
# run as from a shell, not as a sub-make of make check (no jobserver, no -j)
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

study_conf() {
  cat > "$1" <<'S'
DEMO := $(XF_ROOT)/examples/data
PRETRAIN = eng fra
PRETRAIN_VOCAB = 600
PRETRAIN_STEPS = 30
PRETRAIN_SEQ = 32
PRETRAIN_FLAGS = --batch 8 --seq 32 --lr 2e-3 --init-positions sinusoidal
PRETRAIN_CONFIG = "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, \
  "intermediate_size": 64, "max_position_embeddings": 512, "type_vocab_size": 2
TEXT = $(DEMO)/text/%.txt.zst
MODEL_NAME = tiny
TASKS = pos dep
pos_LANGS = eng
pos_TARGETS = eng wol
pos_TRAIN = $(DEMO)/ud/%.train.conllu.zst
pos_TEST = $(DEMO)/ud/%.test.conllu.zst
pos_FLAGS = --max-per-lang 40 --epochs 1 --batch 8
dep_LANGS = eng
dep_TARGETS = eng wol
dep_TRAIN = $(pos_TRAIN)
dep_TEST = $(pos_TEST)
dep_FLAGS = $(pos_FLAGS)
TRANSFER = fra wol
STEPS = 1 3
RUNS = 2
MLM_SEQ = 32
MLM_FLAGS = --batch 4 --seq 32 --lr 1e-3
LANG_ADAPTERS = eng wol
LANG_FLAGS = --max-steps 3 --batch 8 --seq 32
S
}

study_make() {
  local out=$1; shift
  make --no-print-directory -f "$XF_ROOT/examples/study.mk" CONFIG="$STUDY_CONF" OUT="$out" "$@"
}

study_key() {
  cat "$XF_ROOT"/examples/study.mk "$XF_ROOT"/examples/study-cell.sh "$XF_ROOT"/examples/study-data.sh \
    "${BASH_SOURCE[0]}" \
    "${XF_BIN:?}"/xf-* | sha1sum | cut -c1-12
}

study_ref() {
  local cache
  cache="$(cd "${XF_BIN:?XF_BIN not set}/.." && pwd)/cache"
  REF=$cache/study-$(study_key)
  [ -f "$REF/done" ] && return 0
  mkdir -p "$cache"
  local work
  work=$(mktemp -d "$cache/.studyXXXXXX")
  study_make "$work/out" -j2 all > "$work/log" 2>&1 || { cat "$work/log"; return 1; }
  touch "$work/out/done"
  rm -rf "$REF"
  mv "$work/out" "$REF"
  rm -rf "$work"
}

study_same() {
  local a=$1 b=$2 f g bad=0
  for f in rows.tsv score/*.tsv rows/mlm/*.tsv rows/base.*.tsv fusion/*/rows.tsv fusion/*/project.tsv fusion/*/summary.tsv; do
    for g in "$a"/$f; do
      [ -e "$g" ] || { echo "missing in $a: $f"; bad=1; continue; }
      g=${g#"$a"/}
      cmp -s "$a/$g" "$b/$g" || { echo "differs: $g"; bad=1; }
    done
  done
  [ "$(cd "$a" && ls rows/mlm/*.tsv)" = "$(cd "$b" && ls rows/mlm/*.tsv)" ] || { echo "cell files differ"; bad=1; }
  return $bad
}
