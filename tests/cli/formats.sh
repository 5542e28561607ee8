#!/usr/bin/env bash
# Tensor streams and TSV through real processes: pipes, damaged inputs, and
# atomic outputs (nothing left behind on error or SIGTERM).  Drives
# lib/zio, tsv and tstream through tests/helpers/fmt-tool.c.
set -euo pipefail
tool="${XF_BIN:?}/../tests/helpers/fmt-tool"
[ -x "$tool" ] || { echo "missing $tool (make check-cli builds it)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
in="$tmp/in"; out="$tmp/out"
mkdir "$in" "$out"

fail() { echo "FAIL: $*"; exit 1; }
# expect_error STATUS PATTERN CMD...: exit status and stderr message; out/ stays empty.
expect_error() {
  local want=$1 pat=$2; shift 2
  local st=0
  "$@" 2>"$tmp/err" >/dev/null || st=$?
  [ "$st" -eq "$want" ] || fail "'$*' exited $st, expected $want: $(cat "$tmp/err")"
  grep -q -- "$pat" "$tmp/err" || fail "'$*' said '$(cat "$tmp/err")', expected '$pat'"
  [ -z "$(ls -A "$out")" ] || fail "'$*' left $(ls -A "$out")"
}

# --- round trip through pipes ---
"$tool" make "$in/m.xfts" 12 5000
"$tool" dump "$in/m.xfts" >"$tmp/want"
[ "$(head -c4 "$in/m.xfts" | od -An -tx1 | tr -d ' ')" = 28b52ffd ] || fail "stream is not zstd"
cat "$in/m.xfts" | "$tool" copy - - | "$tool" copy - "$tmp/copy.xfts"
"$tool" dump "$tmp/copy.xfts" | cmp - "$tmp/want" || fail "pipe round trip changed tensors"
zstd -dc "$in/m.xfts" | "$tool" dump - | cmp - "$tmp/want" || fail "uncompressed stream not read"

# --- damaged streams: exit 1, one clear line, no output file ---
size=$(stat -c %s "$in/m.xfts")
for cut in 5 100 $((size / 2)) $((size - 1)); do
  head -c "$cut" "$in/m.xfts" >"$in/cut"
  expect_error 1 "$in/cut: .*truncated\|$in/cut: not an xf tensor stream" "$tool" copy "$in/cut" "$out/m.xfts"
done
# the same, arriving through a pipe
head -c $((size / 2)) "$in/m.xfts" >"$in/cut"
expect_error 1 "<stdin>: .*truncated" bash -c "cat '$in/cut' | '$tool' copy - '$out/m.xfts'"
# a flipped byte inside the zstd data
cp "$in/m.xfts" "$in/flip"
printf '\x55' | dd of="$in/flip" bs=1 seek=$((size / 2)) conv=notrunc status=none
cmp -s "$in/flip" "$in/m.xfts" && fail "flip did not change the file"
# the flip is caught by the zstd decoder, its checksum, or the record checks
expect_error 1 "$in/flip: " "$tool" copy "$in/flip" "$out/m.xfts"
# a stream whose trailer is missing (logically cut, validly compressed)
zstd -dc "$in/m.xfts" | head -c -28 | zstd -q -c >"$in/notail"
expect_error 1 "$in/notail: truncated: no trailer after 12 tensors" "$tool" copy "$in/notail" "$out/m.xfts"
expect_error 1 "cannot open" "$tool" copy "$in/absent" "$out/m.xfts"

# --- SIGTERM while writing: the temp file exists, then is removed ---
"$tool" copy "$in/m.xfts" "$out/m.xfts" 200 &
pid=$!
for _ in $(seq 50); do [ -n "$(ls -A "$out")" ] && break; sleep 0.1; done
[ -n "$(ls -A "$out")" ] || fail "no temp file appeared while copying"
[ ! -e "$out/m.xfts" ] || fail "output visible before commit"
kill -TERM "$pid"
st=0; wait "$pid" || st=$?
[ "$st" -eq 143 ] || fail "SIGTERM: exit status $st, expected 143"
[ -z "$(ls -A "$out")" ] || fail "SIGTERM left $(ls -A "$out")"

# --- TSV: escapes, .zst by magic, column count errors with line numbers ---
printf 'text\tn\nplain\t1\ntab\\there\t2\nnew\\nline \\\\ back\t3\n  spaced  \t4\n"quoted\t5\n' >"$in/t.tsv"
"$tool" tsv "$in/t.tsv" "$tmp/t.tsv.zst"
[ "$(head -c4 "$tmp/t.tsv.zst" | od -An -tx1 | tr -d ' ')" = 28b52ffd ] || fail ".zst output not compressed"
zstd -dc "$tmp/t.tsv.zst" | cmp - "$in/t.tsv" || fail "TSV round trip changed bytes"
cp "$tmp/t.tsv.zst" "$tmp/renamed.tsv"
"$tool" tsv "$tmp/renamed.tsv" - | cmp - "$in/t.tsv" || fail "zstd not detected by magic"
zstd -dc "$tmp/t.tsv.zst" | "$tool" tsv - - | cmp - "$in/t.tsv" || fail "TSV from stdin"
# two tables concatenated (and compressed separately) read as one
cat "$tmp/t.tsv.zst" "$tmp/t.tsv.zst" | "$tool" tsv - - >"$tmp/twice"
{ cat "$in/t.tsv"; tail -n +2 "$in/t.tsv"; } | cmp - "$tmp/twice" || fail "cat of two tables"
printf 'a\tb\n1\t2\n1\t2\t3\n' >"$in/bad.tsv"
expect_error 1 "$in/bad.tsv:3: expected 2 columns, got 3" "$tool" tsv "$in/bad.tsv" "$out/x.tsv"
printf 'a\tb\n1\n' | zstd -q -c >"$in/bad2.tsv.zst"
expect_error 1 "$in/bad2.tsv.zst:2: expected 2 columns, got 1" "$tool" tsv "$in/bad2.tsv.zst" "$out/x.tsv"
# --- models: stream, pipe (not probed), HF folder; names canonical, decoder tied ---
"$tool" tiny "$in/tiny.xfts"
"$tool" model "$in/tiny.xfts" >"$tmp/m1"
head -n 1 "$tmp/m1" | grep -qx "model_type bert tied 1" || fail "tiny model: $(head -n 1 "$tmp/m1")"
grep -q "^bert.embeddings.LayerNorm.weight f32 \[4\] " "$tmp/m1" || fail "names not mapped: $(cat "$tmp/m1")"
"$tool" model <(cat "$in/tiny.xfts") | cmp - "$tmp/m1" || fail "model from a pipe path"
"$tool" hf "$in/tiny.xfts" "$tmp/hf"
ls "$tmp/hf" | tr '\n' ' ' | grep -qx "config.json model.safetensors " || fail "hf folder: $(ls "$tmp/hf")"
cmp <("$tool" model "$tmp/hf" | sort) <(sort "$tmp/m1") || fail "HF folder round trip"
expect_error 1 "$tmp/hf: exists and is not empty" "$tool" hf "$in/tiny.xfts" "$tmp/hf"
expect_error 1 "<stdin>: HEAD: no \"config\"" bash -c "'$tool' model - <'$in/m.xfts'"
echo "formats: ok"
