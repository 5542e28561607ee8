#!/usr/bin/env bash
# Output safety (issue 11, item 4), on a tiny random BERT:
#  - an output that names an input (same file, a hard link, ./x) is refused by
#    xf-tokenize, xf-score, xf-eval, xf-mlmstep and xf-adapt: exit 1, the input
#    unchanged, no temp file left;
#  - xf-mlmstep -o F --hf-out D and xf-adapt -o F --hub-out D write both or
#    neither (D failing leaves no F);
#  - xf-adapt --hub-out and xf-mlmstep --hf-out on a full disk (a 64 KiB tmpfs
#    when one can be mounted; always a file-size limit, EFBIG) leave no temp
#    folder or file;
#  - temp files left by SIGKILL are removed by the next run of the same
#    command; those of a running process are not;
#  - xf-eval reads each target once: a FIFO, <(...) and /dev/stdin work and
#    give the rows of the plain file;
#  - "out of memory" names the input being read; a diverging run (non-finite
#    loss or weights) names the example stream or example.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/mlmstep-lib.bash"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

fail() { echo "FAIL: $*"; exit 1; }
# no_temps DIR: no xf temp (".NAME.xf-PID.XXXXXX") in DIR
no_temps() {
  local left
  left=$(ls -A "$1" | grep -E '^\..*\.xf-[0-9]+\.......$|\.tmp' || true)
  [ -z "$left" ] || fail "temp files left in $1: $left"
}
# refused CMD...: exit 1 with the refusal message
refused() {
  local rc=0
  "$@" > /dev/null 2> err || rc=$?
  [ "$rc" -eq 1 ] || { cat err; fail "$*: exit $rc, want 1"; }
  grep -q 'refusing to overwrite an input of this run' err || { cat err; fail "$*: message"; }
}

mk_tiny m 64
mk_examples mlm.tsv 24 64
xf-mlmstep -q --init m/config.json --tokenizer m/vocab.txt --steps 1 --batch 2 -o base.xfts mlm.tsv
# a POS treebank in the synthetic vocabulary
awk 'BEGIN { OFS = "\t"; for (s = 0; s < 12; s++) { print "# sent_id = s" s
     for (i = 1; i <= 5; i++) print i, "w" (5 + (s * 5 + i) % 50), "_", (i % 2 ? "NOUN" : "VERB"),
       "_", "_", (i == 1 ? 0 : 1), (i == 1 ? "root" : "obj"), "_", "_"; print "" } }' > t.conllu
xf-tokenize -q -t m/vocab.txt --task pos --lang xxx --seq 32 -o pos.tsv t.conllu
xf-adapt -q -m base.xfts --task pos --epochs 1 --batch 4 -o pos.xfts pos.tsv
xf-eval -q -m base.xfts -a pos.xfts --model-name tiny -o rows.tsv pos.tsv
[ "$(wc -l < rows.tsv)" -eq 2 ] || fail "eval rows"

# ---- an output never overwrites an input ----
cp t.conllu t.keep; cp pos.tsv pos.keep; cp rows.tsv rows.keep; cp mlm.tsv mlm.keep
refused xf-tokenize -q -t m/vocab.txt --task pos --lang xxx -o t.conllu t.conllu
refused xf-tokenize -q -t m/vocab.txt --task pos --lang xxx -o ./t.conllu t.conllu
ln t.conllu hard.conllu
refused xf-tokenize -q -t m/vocab.txt --task pos --lang xxx -o hard.conllu t.conllu
refused xf-tokenize -q -t m/vocab.txt --task pos --lang xxx -o t.conllu - < t.conllu
refused xf-score -o rows.tsv rows.tsv
refused xf-eval -q -m base.xfts -a pos.xfts -o pos.tsv pos.tsv
refused xf-eval -q -m base.xfts -a pos.xfts -o pos.xfts pos.tsv
refused xf-mlmstep -q --init m/config.json --tokenizer m/vocab.txt --steps 1 --batch 2 -o mlm.tsv mlm.tsv
refused xf-mlmstep -q -m base.xfts --tokenizer m/vocab.txt --steps 1 --batch 2 -o base.xfts mlm.tsv
refused xf-mlmstep -q -m base.xfts --tokenizer m/vocab.txt --steps 1 --batch 2 -o x.xfts \
  --log mlm.tsv mlm.tsv
refused xf-adapt -q -m base.xfts --task pos --epochs 1 --batch 4 -o pos.tsv pos.tsv
cmp t.conllu t.keep && cmp pos.tsv pos.keep && cmp rows.tsv rows.keep && cmp mlm.tsv mlm.keep ||
  fail "an input changed"
[ ! -e x.xfts ] || fail "x.xfts written although --log was refused"
no_temps .

# ---- several outputs: all or none ----
mkdir full_d && touch full_d/x
rc=0
xf-mlmstep -q -m base.xfts --tokenizer m/vocab.txt --steps 1 --batch 2 -o F.xfts --hf-out full_d \
  --log log.tsv mlm.tsv 2> err || rc=$?
[ "$rc" -eq 1 ] && grep -q 'full_d: exists and is not empty' err || { cat err; fail "mlmstep --hf-out: exit $rc"; }
[ ! -e F.xfts ] && [ ! -e log.tsv ] || fail "xf-mlmstep committed -o/--log although --hf-out failed"
rc=0
xf-adapt -q -m base.xfts --task pos --epochs 1 --batch 4 -o A.xfts --hub-out full_d pos.tsv 2> err || rc=$?
[ "$rc" -eq 1 ] && [ ! -e A.xfts ] || { cat err; fail "xf-adapt -o with a failing --hub-out"; }
no_temps .
# and both appear when both succeed
xf-mlmstep -q -m base.xfts --tokenizer m/vocab.txt --steps 1 --batch 2 -o F.xfts --hf-out hf \
  --log log.tsv mlm.tsv
[ -s F.xfts ] && [ -s hf/model.safetensors ] && [ -s log.tsv ] || fail "mlmstep outputs"
no_temps .

# ---- a full disk ----
# (a) a file-size limit: every write beyond 1 KiB fails with EFBIG (SIGXFSZ ignored)
mkdir lim
for cmd in "xf-adapt -q -m base.xfts --task pos --epochs 1 --batch 4 --hub-out lim/hub pos.tsv" \
           "xf-mlmstep -q -m base.xfts --tokenizer m/vocab.txt --steps 1 --batch 2 --hf-out lim/hf mlm.tsv"; do
  rc=0
  (trap '' XFSZ; ulimit -f 1; exec $cmd) 2> err || rc=$?
  [ "$rc" -eq 1 ] || { cat err; fail "$cmd under ulimit -f: exit $rc"; }
  grep -qiE 'write error|too large' err || { cat err; fail "$cmd under ulimit -f: message"; }
  [ -z "$(ls -A lim)" ] || { ls -lA lim; fail "$cmd under ulimit -f left files"; }
done
# (b) a real full file system (ENOSPC), when a tmpfs can be mounted (root or a user namespace)
if unshare -rm true 2> /dev/null || { [ "$(id -u)" -eq 0 ] && unshare -m true 2> /dev/null; }; then
  us="unshare -m"; [ "$(id -u)" -eq 0 ] || us="unshare -rm"
  mkdir disk
  rc=0
  for cmd in "xf-adapt -q -m base.xfts --task pos --epochs 1 --batch 4 --hub-out disk/hub pos.tsv" \
             "xf-mlmstep -q -m base.xfts --tokenizer m/vocab.txt --steps 1 --batch 2 --hf-out disk/hf -o disk.xfts mlm.tsv"; do
    rc=0
    $us sh -c "mount -t tmpfs -o size=4k none disk && { $cmd 2> err; r=\$?; ls -A disk > disk.ls; exit \$r; }" || rc=$?
    [ "$rc" -eq 1 ] || { cat err; fail "$cmd on a full tmpfs: exit $rc"; }
    grep -q 'No space left on device' err || { cat err; fail "$cmd on a full tmpfs: message"; }
    [ ! -s disk.ls ] || { cat disk.ls; fail "$cmd on a full tmpfs left files"; }
    [ ! -e disk.xfts ] || fail "$cmd on a full tmpfs: -o committed"
  done
else
  echo "note: no tmpfs can be mounted here; the full disk is simulated by ulimit -f only"
fi

# ---- an output that is not a regular file is written in place ----
mkfifo outfifo
cat outfifo > got.tsv & cpid=$!
xf-tokenize -q -t m/vocab.txt --task pos --lang xxx -o outfifo t.conllu
wait $cpid
[ -p outfifo ] || fail "the FIFO output was replaced by a file"
cmp got.tsv pos.tsv || fail "FIFO output differs"
rm outfifo

# ---- temp files of a killed run ----
mkfifo never
# xf-tokenize blocks on the FIFO with its output temp open; SIGKILL leaves the temp
xf-tokenize -q -t m/vocab.txt --task pos --lang xxx -o out.tsv never & pid=$!
exec 3> never   # open the FIFO's write end so the reader starts
for i in $(seq 50); do ls -A | grep -q "^\.out\.tsv\.xf-$pid\." && break; sleep 0.1; done
kill -9 "$pid"; wait "$pid" 2> /dev/null || true
exec 3>&-
ls -A | grep -q "^\.out\.tsv\.xf-$pid\." || fail "no temp of the killed run to clean"
# a temp of a live process (this shell) must stay
touch ".out.tsv.xf-$$.AbCdEf"
xf-tokenize -q -t m/vocab.txt --task pos --lang xxx -o out.tsv t.conllu
ls -A | grep -q "^\.out\.tsv\.xf-$pid\." && fail "stale temp of the killed run not removed"
[ -e ".out.tsv.xf-$$.AbCdEf" ] || fail "temp of a running process removed"
rm ".out.tsv.xf-$$.AbCdEf"
cmp out.tsv pos.tsv || fail "out.tsv differs"
# a killed folder output: its temp folder goes too
sleep 0 & dead=$!; wait $dead
mkdir ".hfk.xf-$dead.QwErTy" && touch ".hfk.xf-$dead.QwErTy/model.safetensors"
xf-mlmstep -q -m base.xfts --tokenizer m/vocab.txt --steps 1 --batch 2 --hf-out hfk mlm.tsv
[ ! -e ".hfk.xf-$dead.QwErTy" ] && [ -s hfk/config.json ] || fail "stale temp folder not removed"
no_temps .

# ---- xf-eval reads each target once ----
rm -f never; mkfifo fifo
cat pos.tsv > fifo &
xf-eval -q -m base.xfts -a pos.xfts --model-name tiny fifo > r1.tsv
xf-eval -q -m base.xfts -a pos.xfts --model-name tiny <(cat pos.tsv) > r2.tsv
xf-eval -q -m base.xfts -a pos.xfts --model-name tiny /dev/stdin < pos.tsv > r3.tsv
cat pos.tsv | xf-eval -q -m base.xfts -a pos.xfts --model-name tiny /dev/stdin > r4.tsv
for r in r1 r2 r3 r4; do cmp rows.tsv $r.tsv || fail "xf-eval on a pipe ($r) differs"; done

# ---- out of memory names the input ----
# one line of 16 MB (under the 16 MiB line limit; zstd: a few KB) with the
# address space limited; an ASan build cannot run under ulimit -v, so there
# the allocator is capped instead (malloc returns NULL above 64 MB).
head -c 16000000 /dev/zero | tr '\0' a | zstd -q -1 > big.txt.zst
rc=0
libs=$(ldd "$(command -v xf-tokenize)" 2>/dev/null || true)   # (no pipe into grep -q: SIGPIPE under pipefail)
if [[ $libs == *libasan* ]]; then
  (export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1:max_allocation_size_mb=64"
   exec xf-tokenize -q -t m/vocab.txt --task mlm --lang xxx -o big.tsv big.txt.zst) 2> err || rc=$?
else
  (ulimit -v 200000; exec xf-tokenize -q -t m/vocab.txt --task mlm --lang xxx -o big.tsv big.txt.zst) 2> err || rc=$?
fi
[ "$rc" -eq 1 ] || { cat err; fail "huge line: exit $rc"; }
grep -q '^xf-tokenize: out of memory allocating [0-9]* bytes (reading big.txt.zst)$' err ||
  { cat err; fail "out of memory: message"; }
[ ! -e big.tsv ] || fail "big.tsv written"
no_temps .
# a diverging run names the stream (mlm) or the batch's first example (task adapters)
rc=0
xf-mlmstep -q -m base.xfts --tokenizer m/vocab.txt --steps 3 --batch 2 --lr 1e38 -o nan.xfts mlm.tsv 2> err || rc=$?
[ "$rc" -eq 1 ] && grep -qE '^xf-mlmstep: mlm.tsv: step [0-9]+: .*(NaN|infinite)' err || { cat err; fail "NaN: mlmstep"; }
rc=0
xf-adapt -q -m base.xfts --task pos --epochs 1 --batch 4 --lr 1e38 -o nan.xfts pos.tsv 2> err || rc=$?
[ "$rc" -eq 1 ] && grep -qE 'step [0-9]+: .*example s[0-9]+ \(lang xxx\)' err || { cat err; fail "NaN: adapt"; }
rc=0
xf-adapt -q -m base.xfts --task mlm --lang xxx --tokenizer m/vocab.txt --epochs 1 --lr 1e38 -o nan.xfts mlm.tsv 2> err || rc=$?
[ "$rc" -eq 1 ] && grep -qE '^xf-adapt: mlm.tsv: step [0-9]+: ' err || { cat err; fail "NaN: language adapter"; }
[ ! -e nan.xfts ] || fail "nan.xfts written"
echo ok
