#!/usr/bin/env bash
# examples/study.mk refuses a bad study config before any work: one line on
# standard error naming the variable, make's exit status 2, and no output
# folder created.  A good config passes (check-config) and creates nothing.
set -euo pipefail
R=$(cd "$(dirname "$0")/../.." && pwd)
# run as from a shell, not as a sub-make of make check (no jobserver, no -j)
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
cat > good.study <<'S'
DEMO := $(XF_ROOT)/examples/data
PRETRAIN = eng fra
TEXT = $(DEMO)/text/%.txt.zst
TASKS = pos dep
pos_LANGS = eng
pos_TARGETS = eng wol
pos_TRAIN = $(DEMO)/ud/%.train.conllu.zst
pos_TEST = $(DEMO)/ud/%.test.conllu.zst
dep_LANGS = eng
dep_TARGETS = eng
dep_TRAIN = $(pos_TRAIN)
dep_TEST = $(pos_TEST)
TRANSFER = fra wol
STEPS = 1 10
RUNS = 2
S
mk() { make --no-print-directory -f "$R/examples/study.mk" CONFIG=good.study OUT="$T/out" "$@"; }
out=$(mk check-config)
[ "$out" = "study config ok: 8 cells" ] || { echo "FAIL: good config: $out"; exit 1; }
[ ! -e out ] || { echo "FAIL: check-config created the output folder"; exit 1; }

# bad VAR=VALUE... PATTERN: the make run fails with one line matching PATTERN
bad() {
  local pat=${*: -1} rc=0
  set -- "${@:1:$#-1}"
  mk "$@" all > stdout 2> err || rc=$?
  if [ "$rc" -ne 2 ]; then echo "FAIL: $*: exit $rc, want 2"; cat err; exit 1; fi
  if [ "$(wc -l < err)" -ne 1 ] || ! grep -qE -- "$pat" err; then
    echo "FAIL: $*: want one line matching: $pat"; cat err; exit 1
  fi
  [ ! -s stdout ] && [ ! -e out ] || { echo "FAIL: $*: work started"; cat stdout; ls; exit 1; }
}
bad TASKS='pos foo' "\*\*\* TASKS: unknown task 'foo'"
bad TASKS= '\*\*\* TASKS: empty'
bad pos_TARGETS='eng xyz' "\*\*\* pos_TEST: no file '.*/ud/xyz.test.conllu.zst' for language xyz"
bad pos_TRAIN='/nonexistent/%.conllu' "\*\*\* pos_TRAIN: no file '/nonexistent/eng.conllu' for language eng"
bad dep_LANGS= '\*\*\* dep_LANGS: no training languages'
bad TRANSFER='fra xyz' '\*\*\* TRANSFER: language xyz has no text'
bad LANG_ADAPTERS='xyz' '\*\*\* LANG_ADAPTERS: language xyz has no text'
bad STEPS='1 ten' "\*\*\* STEPS: '1 ten' is not a list of numbers"
bad STEPS='1,10' "\*\*\* STEPS: '1,10' is not a list of numbers"
bad STEPS= '\*\*\* STEPS: empty'
bad RUNS='3 4' "\*\*\* RUNS: '3 4' is not one number"
bad RUNS=x "\*\*\* RUNS: 'x' is not a list of numbers"
bad SEED=-1 "\*\*\* SEED: '-1' is not a list of numbers"
bad PRETRAIN= "\*\*\* MODEL: not set"
bad MODEL=/nonexistent/mbert "\*\*\* MODEL: no such file or folder '/nonexistent/mbert'"
bad CONFIG=missing.study "\*\*\* CONFIG: no such file 'missing.study'"
echo "study_config: ok"
