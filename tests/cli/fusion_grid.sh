#!/usr/bin/env bash
# examples/fusion-grid.mk, the grid's make logic, with stand-ins for
# xf-fuse and xf-eval (FG_BIN) that log their calls and write eval rows
# from a hash of (adapters, target): every [A], pair and triple is
# evaluated on its own languages (and base on each language); a second run
# does nothing; a removed or out-of-date file is remade alone; a failing
# evaluation leaves no file and a re-run resumes; -j2 gives the same rows;
# xf-project reads the rows (tests/real/fusion_grid.sh runs it for real).
set -euo pipefail
MK=$(cd "$(dirname "$0")/../../examples" && pwd)/fusion-grid.mk
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
mkdir fake lang ev
cat > fake/xf-fuse <<'EOS'
#!/usr/bin/env bash
# xf-fuse stand-in: -o OUT, adapters as arguments; OUT lists the adapter names.
set -eu
out= names=
while [ $# -gt 0 ]; do
  case $1 in -o) out=$2; shift 2;; --seed) shift 2;; -q) shift;; *) names="$names${names:++}$(cat "$1")"; shift;; esac
done
echo "fuse $names" >> "$FAKE_LOG"
echo "$names" > "$out.tmp" && mv "$out.tmp" "$out"
EOS
cat > fake/xf-eval <<'EOS'
#!/usr/bin/env bash
# xf-eval stand-in: rows "tiny pos SETTING - 0 0 ADAPTERS TARGET upos_acc V 100",
# V from a hash of ADAPTERS and TARGET; fails for FAKE_FAIL (adapters) after
# writing part of its output.
set -eu
out=- ad=- setting=base targets=
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift 2;;
    --lang-adapter) ad=$(cat "$2"); setting=lang; shift 2;;
    --fusion) ad=$(cat "$2"); setting=lang; shift 2;;
    --model|--adapter|--model-name) shift 2;;
    -q) shift;;
    *) targets="$targets $(cat "$1")"; shift;;
  esac
done
echo "eval $ad$targets" >> "$FAKE_LOG"
{
  printf 'model\ttask\tsetting\ttransfer\tsteps\trun\tadapters\ttarget\tmetric\tvalue\tn\n'
  for t in $targets; do
    h=$(printf '%s %s' "$ad" "$t" | cksum | cut -d' ' -f1)
    printf 'tiny\tpos\t%s\t-\t0\t0\t%s\t%s\tupos_acc\t%d.%04d\t100\n' "$setting" "$ad" "$t" $((40 + h % 20)) $((h % 9973))
  done
} > "$out"
if [ "${FAKE_FAIL:-}" = "$ad" ]; then exit 1; fi
EOS
chmod +x fake/*
ln -s "$(command -v xf-project)" fake/xf-project   # the real one
for l in eng hin wol zho; do echo $l > lang/$l.xfts; echo $l > ev/$l.tsv; done
touch model.xfts task.xfts
export FAKE_LOG=$T/log
grid() { make -s -f "$MK" FG_BIN="$T/fake/" FG_MODEL=model.xfts FG_TASK=task.xfts \
  FG_LANGS='eng hin wol zho' FG_ADAPTER_DIR=lang FG_EVAL_DIR=ev FG_OUT=out "$@"; }
count() { grep -c "^$1" "$FAKE_LOG" || true; }

grid -j2 > /dev/null
[ "$(count fuse)" -eq 10 ] || { echo "FAIL: $(count fuse) fusions, want 6 pairs + 4 triples"; exit 1; }
[ "$(count eval)" -eq 18 ] || { echo "FAIL: $(count eval) evaluations, want 4 base + 4 [A] + 10"; exit 1; }
grep -qx 'eval eng+hin+zho eng hin zho' log        # a triple on its three languages
grep -qx 'eval hin hin' log                          # [A]
grep -qx 'eval - wol' log                            # base
grep -qx 'fuse hin+wol' log                          # FG_LANGS order is the fusion order
[ "$(grep -c '^model' out/rows.tsv)" -eq 1 ]
[ "$(tail -n +2 out/rows.tsv | wc -l)" -eq $((4 + 4 + 6 * 2 + 4 * 3)) ]
[ "$(awk -F'\t' '$7 ~ /\+/' out/rows.tsv | wc -l)" -eq 24 ]
cp out/rows.tsv rows.j2

# nothing left to do
: > log
grid
[ ! -s log ] || { echo "FAIL: second run did work:"; cat log; exit 1; }
# a removed result is remade alone
rm out/eval/eng+hin.tsv
grid
[ "$(cat log)" = "eval eng+hin eng hin" ] || { echo "FAIL: resume: $(cat log)"; exit 1; }
cmp out/rows.tsv rows.j2
# a changed language adapter remakes what uses it: [hin], 3 pairs, 3 triples
: > log
sleep 1; touch lang/hin.xfts
grid
[ "$(count fuse)" -eq 6 ] && [ "$(count eval)" -eq 7 ] || { echo "FAIL: after touch:"; cat log; exit 1; }

# a failing evaluation: make fails, its file is not left, rows.tsv not remade
rm out/eval/hin+wol+zho.tsv; : > log
sleep 1; touch ev/eng.tsv    # makes rows.tsv and eng's results out of date
if FAKE_FAIL=hin+wol+zho grid -k 2> err; then echo "FAIL: make succeeded"; exit 1; fi
[ ! -e out/eval/hin+wol+zho.tsv ] || { echo "FAIL: partial output left"; exit 1; }
[ out/rows.tsv -ot ev/eng.tsv ] || { echo "FAIL: rows.tsv remade after a failure"; exit 1; }
: > log
grid
[ "$(cat log)" = "eval hin+wol+zho hin wol zho" ] || { echo "FAIL: resume after failure: $(cat log)"; exit 1; }
cmp out/rows.tsv rows.j2

# -j1 from scratch gives the same rows as -j2
grid fusion-grid-clean
[ ! -e out ]
grid -j1
cmp out/rows.tsv rows.j2

# xf-project reads the rows
grid fusion-grid-analysis FG_PLOT_EXT=svg
[ "$(awk -F'\t' '$5 == "2A"' out/project.tsv | wc -l)" -eq 4 ]
[ "$(awk -F'\t' '$5 == "3A"' out/project.tsv | wc -l)" -eq 4 ]
awk -F'\t' 'NR > 1 && $5 == "2A" && $24 + $25 != 3 { exit 1 } NR > 1 && $26 != 0 { exit 1 }' out/project.tsv
[ "$(awk -F'\t' 'NR > 1 {print $4}' out/summary.tsv | tr '\n' ' ')" = "1A 2A 3A " ]
grep -q 'Language interference projection' out/project.svg
grep -q 'Mean improvement over the base' out/summary.svg

# sizes and settings are variables; missing settings are errors
rm -rf out; : > log
grid FG_SIZES='1 2' FG_BASE=0
[ "$(count fuse)" -eq 6 ] && [ "$(count eval)" -eq 10 ]
! grep -q '^model.*base' out/rows.tsv
if make -s -f "$MK" FG_TASK=t FG_LANGS=eng 2> err; then echo "FAIL: no FG_MODEL accepted"; exit 1; fi
grep -q 'set FG_MODEL' err
if grid FG_SIZES=4 2> err; then echo "FAIL: FG_SIZES=4 accepted"; exit 1; fi
grep -q 'FG_SIZES must be among 1 2 3' err
echo "fusion_grid: ok"
