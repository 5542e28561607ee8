#!/usr/bin/env bash
# xf-tokenize error paths: usage errors exit 2, data errors exit 1 with a
# "FILE:LINE: ..." message, and no output file (or temp file) left behind.
set -euo pipefail
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
printf '%s\n' '[PAD]' '[UNK]' '[CLS]' '[SEP]' '[MASK]' the cat sat '##s' a dog > vocab.txt
mkdir in
printf '1\tthe\tthe\tDET\t_\t_\t0\troot\t_\t_\n' > in/ok.conllu

# expect_fail STATUS PATTERN ARGS...: xf-tokenize ARGS -o out.tsv
expect_fail() {
  local want=$1 pat=$2; shift 2
  local rc=0
  xf-tokenize "$@" -o out.tsv > /dev/null 2> err || rc=$?
  if [ "$rc" -ne "$want" ]; then echo "FAIL: xf-tokenize $*: exit $rc, want $want"; cat err; exit 1; fi
  if ! grep -qE -- "$pat" err; then echo "FAIL: xf-tokenize $*: message"; echo "want: $pat"; cat err; exit 1; fi
  if [ -n "$(ls -A | grep -v -e '^err$' -e '^in$' -e '^vocab.txt$')" ]; then
    echo "FAIL: xf-tokenize $*: left files:"; ls -A; exit 1
  fi
}

# usage: exit 2
expect_fail 2 'task is required' -t vocab.txt --lang xyz in/ok.conllu
expect_fail 2 'tokenizer is required' --task pos --lang xyz in/ok.conllu
expect_fail 2 "unknown task 'tag'" -t vocab.txt --task tag --lang xyz in/ok.conllu
expect_fail 2 'seq' -t vocab.txt --task pos --lang xyz --seq 2 in/ok.conllu
expect_fail 2 'seq' -t vocab.txt --task pos --lang xyz --seq 12x in/ok.conllu
expect_fail 2 'Try' -t vocab.txt --task pos --frobnicate in/ok.conllu
expect_fail 2 "cannot guess the language of 'in/ok.conllu'" -t vocab.txt --task pos in/ok.conllu
expect_fail 2 'line-by-line goes with --task mlm' -t vocab.txt --task pos --lang xyz --line-by-line in/ok.conllu
expect_fail 2 'exclude each other' -t vocab.txt --decode --normalize in/ok.conllu
expect_fail 2 'learn-vocab' --learn-vocab 3 in/ok.conllu

# data errors: exit 1, FILE:LINE
printf '1\tthe\tthe\tDET\t_\t_\t0\troot\t_\t_\n\n1\tc\xffat\tcat\tNOUN\t_\t_\t0\troot\t_\t_\n' > in/utf8.conllu
expect_fail 1 '^xf-tokenize: in/utf8.conllu:3: invalid UTF-8$' -t vocab.txt --task pos --lang xyz in/utf8.conllu
printf 'the cat\n\xe2\x82\n' > in/utf8.txt
expect_fail 1 'in/utf8.txt:2: invalid UTF-8' -t vocab.txt --task mlm --lang xyz in/utf8.txt
printf 'the\tO\nc\xc0\xafat\tO\n' > in/utf8.iob
expect_fail 1 'in/utf8.iob:2: invalid UTF-8' -t vocab.txt --task ner --lang xyz in/utf8.iob
printf '1\tthe\tthe\tDETERMINER\t_\t_\t0\troot\t_\t_\n' > in/upos.conllu
expect_fail 1 "in/upos.conllu:1: unknown UPOS 'DETERMINER'" -t vocab.txt --task pos --lang xyz in/upos.conllu
printf '1\tthe\tthe\tDET\t_\t_\t0\n' > in/short.conllu
expect_fail 1 'in/short.conllu:1: expected 10 tab-separated fields' -t vocab.txt --task pos --lang xyz in/short.conllu
printf '1\tthe\tthe\tDET\t_\t_\t_\t_\t_\t_\n' > in/nohead.conllu
expect_fail 1 "in/nohead.conllu:1: HEAD is '_'" -t vocab.txt --task dep --lang xyz in/nohead.conllu
printf 'the\tB-MISC\n' > in/tag.iob
expect_fail 1 "in/tag.iob:1: unknown NER tag 'B-MISC'" -t vocab.txt --task ner --lang xyz in/tag.iob
printf 'sentence1\tsentence2\tgold_label\nthe\tcat\tneutral\n' > in/cols.tsv
expect_fail 1 "in/cols.tsv:1: missing column 'premise'" -t vocab.txt --task nli --lang xyz in/cols.tsv
printf 'premise\thypothesis\tlabel\nthe\tcat\n' > in/nf.tsv
expect_fail 1 'in/nf.tsv:2: expected 3 columns, got 2' -t vocab.txt --task nli --lang xyz in/nf.tsv
printf 'premise\thypothesis\tlabel\nthe\tcat\tentails\n' > in/lab.tsv
expect_fail 1 "in/lab.tsv:2: unknown NLI label 'entails'" -t vocab.txt --task nli --lang xyz in/lab.tsv
printf '{"data": [{"paragraphs": [}' > in/bad.json
expect_fail 1 'in/bad.json:1: bad JSON' -t vocab.txt --task qa --lang xyz in/bad.json
printf '{"version": 1}' > in/nodata.json
expect_fail 1 'in/nodata.json: not SQuAD JSON' -t vocab.txt --task qa --lang xyz in/nodata.json
expect_fail 1 'in/missing.conllu' -t vocab.txt --task pos --lang xyz in/missing.conllu
expect_fail 1 'vocab' -t in/novocab.txt --task pos --lang xyz in/ok.conllu
printf '%s\n' '[PAD]' '[UNK]' the cat > in/nocls.txt
expect_fail 1 'lacks a CLS, SEP or UNK token' -t in/nocls.txt --task pos --lang xyz in/ok.conllu
# a good file first, then a bad one: still nothing left behind
expect_fail 1 'in/upos.conllu:1' -t vocab.txt --task pos --lang xyz in/ok.conllu in/upos.conllu

# --decode of broken streams
xf-tokenize -t vocab.txt --task pos --lang xyz -o in/ex.tsv in/ok.conllu
sed 's/\t2 5 3\t/\t2 99 3\t/' in/ex.tsv > in/oov.tsv
expect_fail 1 'in/oov.tsv:2: token 2: id 99 outside the vocabulary' -t vocab.txt --decode in/oov.tsv
sed 's/\tDET\t/\tDETX\t/' in/ex.tsv > in/lab.ex
expect_fail 1 "in/lab.ex:2: column 'labels': unknown pos label 'DETX'" -t vocab.txt --decode in/lab.ex
expect_fail 1 'in/ok.conllu:1: expected 11 columns' -t vocab.txt --decode in/ok.conllu
head -c 20 <(zstd -c in/ex.tsv) > in/trunc.zst
expect_fail 1 'in/trunc.zst' -t vocab.txt --decode in/trunc.zst

# a zstd bomb (a few KB → one 256 MB line) stops at the documented line
# limit (16 MiB) with a clear error, instead of taking 2.6 GB; the memory
# bound is generous (the limit keeps it near 200 MB)
{ echo 'the cat'; head -c 268435456 /dev/zero | tr '\0' a; echo; } | zstd -q -1 > in/bomb.txt.zst
[ "$(stat -c %s in/bomb.txt.zst)" -lt 100000 ]
expect_fail 1 'in/bomb.txt.zst:2: line longer than 16 MiB' -t vocab.txt --task mlm --lang xyz in/bomb.txt.zst
rc=0
/usr/bin/time -f %M -o in/rss xf-tokenize -t vocab.txt --task mlm --lang xyz -o out.tsv in/bomb.txt.zst 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] && [ "$(tail -n 1 in/rss)" -lt 800000 ] || { echo "FAIL: bomb: exit $rc, max RSS $(tail -n 1 in/rss) KB"; exit 1; }
# the same limit holds for streams (an example stream row)
{ printf 'lang\tid\ttask\tids\ttypes\twords\tlabels\theads\trels\toffsets\textra\n'
  head -c 17000000 /dev/zero | tr '\0' 1; echo; } | zstd -q -1 > in/long.ex.zst
expect_fail 1 'in/long.ex.zst:2: line longer than 16 MiB' -t vocab.txt --decode in/long.ex.zst
echo ok
