#!/usr/bin/env bash
# xf-tokenize: every input format and option on small hand-made files with
# a hand-made vocabulary; outputs compared with the exact expected rows.
set -euo pipefail
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fail() { echo "FAIL: $*"; exit 1; }
same() { diff -u "$1" "$2" || fail "$3"; }

xf-tokenize --help | grep -q -- '--learn-vocab' || fail "--help"
xf-tokenize --version | grep -q '^xf-tokenize (xf) ' || fail "--version"

# ids: 0 [PAD] 1 [UNK] 2 [CLS] 3 [SEP] 4 [MASK] 5 the 6 cat 7 sat 8 on 9 mat
#      10 ##s 11 a 12 dog 13 . 14 new 15 york 16 ,
printf '%s\n' '[PAD]' '[UNK]' '[CLS]' '[SEP]' '[MASK]' the cat sat on mat '##s' a dog . new york , > vocab.txt
H=$'lang\tid\ttask\tids\ttypes\twords\tlabels\theads\trels\toffsets\textra'

mkdir -p ud/xyz_test
cat > ud/xyz_test/test.conllu <<'C'
# sent_id = s1
# text = the cats sat.
1	the	the	DET	_	_	2	det	_	_
2-3	catssat	_	_	_	_	_	_	_	_
2	cats	cat	NOUN	_	_	3	nsubj:pass	_	_
3	sat	sit	VERB	_	_	0	root	_	_
3.1	sat	sit	VERB	_	_	_	_	2:nsubj	_
4	.	.	PUNCT	_	_	3	punct	_	_

# sent_id = s2
# text = a dog
1	a	a	DET	_	_	2	det	_	_
2	dog	dog	NOUN	_	_	0	root	_	_
C

# pos, language guessed from ud/<iso>_<tb>/
xf-tokenize -t vocab.txt --task pos -o pos.tsv ud/xyz_test/test.conllu
{ echo "$H"
  printf 'xyz\ts1\tpos\t2 5 6 10 7 13 3\t-\t1:2 2:4 4:5 5:6\tDET NOUN VERB PUNCT\t-\t-\t-\t-\n'
  printf 'xyz\ts2\tpos\t2 11 12 3\t-\t1:2 2:3\tDET NOUN\t-\t-\t-\t-\n'; } > want
same want pos.tsv "pos rows"

# dep from stdin with --lang; output to stdout
xf-tokenize -t vocab.txt --task dep --lang abc - < ud/xyz_test/test.conllu > dep.tsv
{ echo "$H"
  printf 'abc\ts1\tdep\t2 5 6 10 7 13 3\t-\t1:2 2:4 4:5 5:6\tDET NOUN VERB PUNCT\t2 3 0 3\tdet nsubj root punct\t-\t-\n'
  printf 'abc\ts2\tdep\t2 11 12 3\t-\t1:2 2:3\tDET NOUN\t2 0\tdet root\t-\t-\n'; } > want
same want dep.tsv "dep rows"

# --seq splits at word boundaries and says so on stderr
xf-tokenize -t vocab.txt --task dep --seq 4 -o split.tsv ud/xyz_test/test.conllu 2> err
cut -f2,4,8 split.tsv | tail -n +2 > got
printf 's1\t2 5 3\t-1\ns1#2\t2 6 10 3\t-1\ns1#3\t2 7 13 3\t0 1\ns2\t2 11 12 3\t2 0\n' > want
same want got "split pieces"
grep -q '1 sentences split at word boundaries' err || { cat err; fail "split count on stderr"; }
xf-tokenize -q -t vocab.txt --task dep --seq 4 -o split.tsv ud/xyz_test/test.conllu 2> err
[ ! -s err ] || fail "-q still prints"

# zstd by name and by -z; the reader does not care
xf-tokenize -t vocab.txt --task pos -o pos.tsv.zst ud/xyz_test/test.conllu
xf-tokenize -t vocab.txt --task pos -z -o pos.z ud/xyz_test/test.conllu
[ "$(head -c4 pos.tsv.zst | od -An -tx1 | tr -d ' ')" = 28b52ffd ] || fail ".zst output not zstd"
cmp <(zstdcat pos.z) pos.tsv || fail "-z output differs"

# decode; a merged, shuffled stream (header inside) decodes too
xf-tokenize -t vocab.txt --decode pos.tsv.zst > dec.tsv
printf 'lang\tid\ttask\ttext\ttokens\twords\tlabels\nxyz\ts1\tpos\tthe cats sat .\t[CLS] the cat ##s sat . [SEP]\tthe cats sat .\tDET NOUN VERB PUNCT\nxyz\ts2\tpos\ta dog\t[CLS] a dog [SEP]\ta dog\tDET NOUN\n' > want
same want dec.tsv "decode"
cat pos.tsv dep.tsv | shuf --random-source=<(yes) | xf-tokenize -t vocab.txt --decode - > dec2.tsv
[ "$(tail -n +2 dec2.tsv | wc -l)" -eq 4 ] || fail "decode of cat | shuf"

# ner (IOB2)
mkdir -p ner/xyz
printf 'the\tO\nnew\tB-LOC\nyork\tI-LOC\n\ncats\tB-PER\n' > ner/xyz/dev.iob
xf-tokenize -t vocab.txt --task ner ner/xyz/dev.iob | tail -n +2 | cut -f1,2,4,6,7 > got
printf 'xyz\tner/xyz/dev.iob:1\t2 5 14 15 3\t1:2 2:3 3:4\tO B-LOC I-LOC\nxyz\tner/xyz/dev.iob:5\t2 6 10 3\t1:3\tB-PER\n' > want
same want got "ner rows"

# nli: pair template, token types, any column order
printf 'label\tpremise\thypothesis\nneutral\tthe cat sat\ta dog\n' > nli.tsv
xf-tokenize -t vocab.txt --task nli --lang xyz nli.tsv | tail -n +2 | cut -f3-7 > got
printf 'nli\t2 5 6 7 3 11 12 3\t0 0 0 0 0 1 1 1\t-\tneutral\n' > want
same want got "nli row"

# qa: windows, answer span, offsets, extra JSON
cat > qa.json <<'J'
{"data":[{"paragraphs":[{"context":"the cat sat on the mat. the dog sat on a mat.",
 "qas":[{"id":"q1","question":"the cat","answers":[{"answer_start":28,"text":"dog"}]}]}]}]}
J
xf-tokenize -t vocab.txt --task qa --lang xyz --seq 10 --stride 2 qa.json > qa.tsv
[ "$(tail -n +2 qa.tsv | cut -f2 | tr '\n' ' ')" = "q1 q1#2 q1#3 q1#4 " ] || fail "qa windows"
[ "$(tail -n +2 qa.tsv | cut -f7 | tr '\n' ' ')" = "0:0 0:0 6:6 0:0 " ] || fail "qa labels"
[ "$(sed -n 4p qa.tsv | cut -f10)" = "-1:-1 -1:-1 -1:-1 -1:-1 22:23 24:27 28:31 32:35 36:38 -1:-1" ] || fail "qa offsets"
xf-tokenize -t vocab.txt --decode qa.tsv | sed -n 4p | cut -f7 | grep -qx dog || fail "qa decode answer"

# mlm: grouping (tail dropped), line by line, # text = lines
mkdir -p text
printf 'the cat sat\nthe dog\n\na mat\n' > text/xyz.txt
xf-tokenize -t vocab.txt --task mlm --seq 4 text/xyz.txt 2> err | tail -n +2 | cut -f2,4 > got
printf 'text/xyz.txt:1\t2 5 6 7\ntext/xyz.txt:1+4\t3 2 5 12\ntext/xyz.txt:2+3\t3 2 11 9\n' > want
same want got "mlm group_texts"
grep -q '1 tokens of block remainders dropped' err || { cat err; fail "tail count"; }
xf-tokenize -t vocab.txt --task mlm --seq 4 --line-by-line text/xyz.txt 2>/dev/null | tail -n +2 | cut -f4 > got
printf '2 5 6 3\n2 5 12 3\n2 11 9 3\n' > want
same want got "mlm line by line"
xf-tokenize -t vocab.txt --task mlm --line-by-line --text-from-conllu ud/xyz_test/test.conllu | tail -n +2 | cut -f1,4 > got
printf 'xyz\t2 5 6 10 7 13 3\nxyz\t2 11 12 3\n' > want
same want got "--text-from-conllu"

# --lowercase and --normalize
printf 'The CATS Sát\n' > up.txt
[ "$(xf-tokenize -t vocab.txt --normalize --lowercase up.txt)" = "the cats sat" ] || fail "--normalize --lowercase"
# an unassigned code point (U+0378, Cn) is kept, as HF's BertNormalizer keeps
# it: "ca\u0378t" is one word without a piece (not "cat"), [CLS] [UNK] [SEP]
printf 'ca\xcd\xb8t\n' > cn.txt
xf-tokenize -t vocab.txt --task mlm --lang xyz --line-by-line cn.txt | tail -n +2 | cut -f4 > got
[ "$(cat got)" = "2 1 3" ] || fail "unassigned code point: $(cat got)"
xf-tokenize -t vocab.txt --task mlm --lang xyz --line-by-line --lowercase up.txt | tail -n +2 | cut -f4 > got
echo '2 5 6 10 7 3' > want
same want got "--lowercase encode"

# --learn-vocab: specials first, deterministic, usable
for i in 1 2 3; do echo "the cat sat on the mat with the other cats"; done > learn.txt
xf-tokenize --learn-vocab 60 -o v1.txt learn.txt
xf-tokenize --learn-vocab 60 -o v2.txt - < learn.txt
cmp v1.txt v2.txt || fail "--learn-vocab not deterministic"
[ "$(head -n 5 v1.txt | tr '\n' ' ')" = "[PAD] [UNK] [CLS] [SEP] [MASK] " ] || fail "learned specials"
[ "$(wc -l < v1.txt)" -le 60 ] || fail "learned vocab too big"
xf-tokenize -t v1.txt --task mlm --lang xyz --line-by-line learn.txt | xf-tokenize -t v1.txt --decode - \
  | sed -n 2p | cut -f4 | grep -qx 'the cat sat on the mat with the other cats' || fail "learned vocab round trip"
echo ok
