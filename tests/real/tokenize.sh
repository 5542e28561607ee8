#!/usr/bin/env bash
# xf-tokenize on the real data with a vocabulary learned from ../shared/data/text:
# every UD test set (dep examples: UPOS, HEAD, DEPREL), the NER dev sets, the
# NLI sets, the TyDiQA files and some raw text.  Invariants checked per file:
# no sentence / pair / question / line lost, every word has >= 1 subword, the
# per-word labels equal the source's, decode(encode(x)) reproduces the
# normalized text (xf-tokenize --normalize; compared without spaces, [UNK]
# matching any text).  TOKENIZER=PATH runs the same checks with another
# WordPiece vocabulary (tokenize_mbert.sh).
set -euo pipefail
: "${XF_DATA:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export W LC_ALL=C

if [ -n "${TOKENIZER:-}" ]; then
  V=$TOKENIZER
else
  # a few languages, 3000 lines each: Latin, Ethiopic, Arabic script
  for l in swa yor amh uig wol; do zstdcat "$XF_DATA/text/$l.txt.zst" | sed -n 1,3000p; done > "$W/learn.txt"
  xf-tokenize -q --learn-vocab 12000 -o "$W/vocab.txt" "$W/learn.txt"
  V=$W/vocab.txt
  [ "$(head -n 5 "$V" | tr '\n' ' ')" = "[PAD] [UNK] [CLS] [SEP] [MASK] " ] || { echo "learned vocab: specials"; exit 1; }
fi
export V

# compare SRC DEC NORM NAME: SRC lines "words<TAB>labels<TAB>nwords" per sentence
# (labels space-separated), DEC the --decode output, NORM the normalized words.
# Pieces ID#2.. of a split sentence are merged; their heads are renumbered, so
# for those only UPOS/REL are compared.  Prints "NAME sentences words unkwords".
compare() {
  awk -F'\t' -v name="$4" '
    function strip(s) { gsub(/ /, "", s); return s }
    function unesc(s,   o, i, c) {   # TSV escapes of the decode output
      o = ""
      for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "\\" && i < length(s)) { c = substr(s, ++i, 1); c = c == "t" ? "\t" : c == "n" ? "\n" : c }
        o = o c
      }
      return o
    }
    # dec with [UNK] as a wildcard must match norm exactly
    function unk_match(dec, norm,   n, parts, i, pos, k, rest) {
      n = split(dec, parts, /\[UNK\]/)
      if (n == 1) return dec == norm
      pos = 1
      for (i = 1; i <= n; i++) {
        if (parts[i] == "") continue
        rest = substr(norm, pos)
        k = index(rest, parts[i])
        if (k == 0 || (i == 1 && k != 1)) return 0
        pos += k - 1 + length(parts[i])
      }
      if (parts[n] != "" && substr(norm, length(norm) - length(parts[n]) + 1) != parts[n]) return 0
      return 1
    }
    function drop_heads(l,   a, n, i, f, o) {
      n = split(l, a, " "); o = ""
      for (i = 1; i <= n; i++) { split(a[i], f, "/"); o = o (i > 1 ? " " : "") f[1] "/" f[3] }
      return o
    }
    FILENAME == ARGV[1] { src_w[NR] = $1; src_l[NR] = $2; src_n[NR] = $3; ns = NR; next }
    FILENAME == ARGV[3] { norm[FNR] = $0; next }
    FNR == 1 { next }   # decode header
    {
      if (nd > 0 && $2 == base "#" (pieces + 1)) {
        pieces++; dw[nd] = dw[nd] " " $6; dl[nd] = dl[nd] " " $7; dp[nd] = pieces; next
      }
      nd++; base = $2; pieces = 1; dw[nd] = $6; dl[nd] = $7; dp[nd] = 1
    }
    END {
      bad = 0
      if (nd != ns) { printf "%s: %d sentences in the source, %d in the stream\n", name, ns, nd; exit 1 }
      for (i = 1; i <= ns; i++) {
        nl = split(dl[i], tmp, " ")
        if (nl != src_n[i]) { printf "%s: sentence %d: %d labels for %d words\n", name, i, nl, src_n[i]; bad++; continue }
        want = src_l[i]; got = dl[i]
        if (dp[i] > 1 && index(want, "/")) { want = drop_heads(want); got = drop_heads(got) }
        if (want != got) { printf "%s: sentence %d: labels differ\n want %s\n got  %s\n", name, i, want, got; bad++ }
        if (!unk_match(strip(unesc(dw[i])), strip(norm[i]))) {
          printf "%s: sentence %d: decode(encode(x)) != normalize(x)\n dec  %s\n norm %s\n", name, i, dw[i], norm[i]; bad++
        }
        words += src_n[i]; unk += gsub(/\[UNK\]/, "", dw[i])
      }
      if (bad) exit 1
      printf "%s %d %d %d\n", name, ns, words, unk
    }' "$1" "$2" "$3"
}
export -f compare

# every word span non-empty and in order (the reader checks it too)
check_spans() {
  awk -F'\t' -v name="$2" '$6 != "-" && $6 != "words" {
      n = split($6, a, " "); prev = 0
      for (i = 1; i <= n; i++) { split(a[i], se, ":"); if (se[2] <= se[1] || se[1] < prev) { print name ": bad span " a[i] " in " $2; exit 1 } prev = se[2] }
    }' "$1"
}
export -f check_spans

ud_one() {
  local f=$1 name; name=$(basename "$(dirname "$f")"); local d=$W/ud_$name
  mkdir -p "$d"
  xf-tokenize -q -t "$V" --task dep -o "$d/ex.tsv" "$f"
  check_spans "$d/ex.tsv" "$name"
  xf-tokenize -t "$V" --decode -o "$d/dec.tsv" "$d/ex.tsv"
  zstdcat "$f" | awk -F'\t' '
    BEGIN { split("acl advcl advmod amod appos aux case cc ccomp clf compound conj cop csubj dep det discourse dislocated expl fixed flat goeswith iobj list mark nmod nsubj nummod obj obl orphan parataxis punct reparandum root vocative xcomp", u, " "); for (i in u) ud[u[i]] = 1 }
    function out() { if (n) print w "\t" l "\t" n; n = 0; w = l = "" }
    /^$/ { out(); next }
    $1 ~ /^[0-9]+$/ { r = $8; sub(/:.*/, "", r); if (!(r in ud)) r = "dep"
                      w = w (n ? " " : "") $2; l = l (n ? " " : "") $4 "/" $7 "/" r; n++ }
    END { out() }' > "$d/src.tsv"
  cut -f1 "$d/src.tsv" | xf-tokenize -t "$V" --normalize - > "$d/norm.txt"
  compare "$d/src.tsv" "$d/dec.tsv" "$d/norm.txt" "ud/$name"
}
export -f ud_one

ner_one() {
  local f=$1 name; name=$(basename "$(dirname "$f")"); local d=$W/ner_$name
  mkdir -p "$d"
  xf-tokenize -q -t "$V" --task ner -o "$d/ex.tsv" "$f"
  check_spans "$d/ex.tsv" "$name"
  xf-tokenize -t "$V" --decode -o "$d/dec.tsv" "$d/ex.tsv"
  zstdcat "$f" | awk -F'\t' 'function out() { if (n) print w "\t" l "\t" n; n = 0; w = l = "" }
    /^$/ { out(); next } { w = w (n ? " " : "") $1; l = l (n ? " " : "") $2; n++ } END { out() }' > "$d/src.tsv"
  cut -f1 "$d/src.tsv" | xf-tokenize -t "$V" --normalize - > "$d/norm.txt"
  compare "$d/src.tsv" "$d/dec.tsv" "$d/norm.txt" "ner/$name"
}
export -f ner_one

nli_one() {   # --seq 512: no pair is truncated, so the whole text must come back
  local f=$1 name; name=$(echo "$f" | awk -F/ '{print $(NF-1) "/" $NF}'); local d=$W/nli_${name//\//_}
  mkdir -p "$d"
  xf-tokenize -t "$V" --task nli --seq 512 -o "$d/ex.tsv" "$f" 2> "$d/err"
  if grep -q truncated "$d/err"; then echo "$name: truncated at --seq 512"; cat "$d/err"; exit 1; fi
  xf-tokenize -t "$V" --decode -o "$d/dec.tsv" "$d/ex.tsv"
  # source: premise+hypothesis as one "sentence" with one label
  zstdcat "$f" | awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { print $c["premise"] " " $c["hypothesis"] "\t" $c["label"] "\t1" }' > "$d/src.tsv"
  cut -f1 "$d/src.tsv" | xf-tokenize -t "$V" --normalize - > "$d/norm.txt"
  # NLI rows have no words column: use the decoded text (column 4) as the words
  awk -F'\t' 'BEGIN { OFS = "\t" } { $6 = $4; print }' "$d/dec.tsv" > "$d/dec2.tsv"
  compare "$d/src.tsv" "$d/dec2.tsv" "$d/norm.txt" "nli/$name"
}
export -f nli_one

ls "$XF_DATA"/ud/*/test.conllu.zst | xargs -P2 -I{} bash -c 'ud_one {}' > "$W/ud.log" || { grep -v '^ud/[^ ]* [0-9]* [0-9]* [0-9]*$' "$W/ud.log" | sed -n 1,40p; echo "FAIL: ud"; exit 1; }
ls "$XF_DATA"/ner/*/dev.iob.zst | xargs -P2 -I{} bash -c 'ner_one {}' > "$W/ner.log" || { grep -v '^ner/[^ ]* [0-9]* [0-9]* [0-9]*$' "$W/ner.log" | sed -n 1,40p; echo "FAIL: ner"; exit 1; }
ls "$XF_DATA"/nli/*/*.tsv.zst | xargs -P2 -I{} bash -c 'nli_one {}' > "$W/nli.log" || { grep -v '^nli/[^ ]* [0-9]* [0-9]* [0-9]*$' "$W/nli.log" | sed -n 1,40p; echo "FAIL: nli"; exit 1; }
for k in ud ner nli; do
  awk -v k=$k '{ s += $2; w += $3; u += $4; n++ } END { printf "%s: %d files, %d sentences, %d words (nli: pairs), %d [UNK]\n", k, n, s, w, u }' "$W/$k.log"
done
[ "$(wc -l < "$W/ud.log")" -eq "$(ls "$XF_DATA"/ud/*/test.conllu.zst | wc -l)" ] || { echo "UD files missing"; exit 1; }

# QA: no question lost; a window's label is 0:0 exactly when the window's
# context does not cover the first answer; otherwise the labeled span, cut
# out of the context by the token offsets, contains the answer text.
for f in "$XF_DATA"/qa/*/*.json.zst; do
  d=$W/qa_$(basename "$f" .json.zst); mkdir -p "$d"
  xf-tokenize -q -t "$V" --task qa -o "$d/ex.tsv" "$f"
  xf-tokenize -t "$V" --decode -o "$d/dec.tsv" "$d/ex.tsv"
  zstdcat "$f" > "$d/src.json"
  /usr/bin/python3 - "$d/src.json" "$d/ex.tsv" "$f" <<'PY'
import json, re, sys
src, ex, name = sys.argv[1:]
gold = []   # in source order: (qid, answer start byte, end byte, text)
for art in json.load(open(src, encoding="utf-8"))["data"]:
    for par in art["paragraphs"]:
        ctx = par["context"]
        for qa in par["qas"]:
            a = qa["answers"][0]
            sb = len(ctx[:a["answer_start"]].encode())
            gold.append((qa["id"], sb, sb + len(a["text"].encode()), a["text"].encode()))
def unesc(s):   # TSV field escapes \t \n \\
    return re.sub(r"\\([tn\\])", lambda m: {"t": "\t", "n": "\n"}.get(m.group(1), "\\"), s)
q, win, windows, labeled, bad, ids = -1, 0, 0, 0, 0, set()
for line in open(ex, encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    if f[0] == "lang":
        continue
    if q >= 0 and f[1] == f"{base}#{win + 1}":
        win += 1
    else:
        q, win, base = q + 1, 1, f[1]
        if base in ids:
            bad += 1; print(f"{name}: example id {base} repeated")
        ids.add(base)
    x = json.loads(unesc(f[10]))
    qid, sb, eb, text = gold[q]
    if x["qid"] != qid:
        print(f"{name}: window {f[1]} belongs to {x['qid']}, want question {q + 1} ({qid})"); sys.exit(1)
    windows += 1
    ctx = x["context"].encode()
    offs = [tuple(map(int, o.split(":"))) for o in f[9].split()]
    s, e = map(int, f[6].split(":"))
    cidx = [i for i, o in enumerate(offs) if o[0] >= 0]
    covers = bool(cidx) and offs[cidx[0]][0] <= sb and offs[cidx[-1]][1] >= eb
    if covers != ((s, e) != (0, 0)):
        bad += 1; print(f"{name}: {f[1]}: label {s}:{e} but window covers answer: {covers}")
    if (s, e) != (0, 0):
        labeled += 1
        span = ctx[offs[s][0]:offs[e][1]]
        if text not in span:
            bad += 1; print(f"{name}: {f[1]}: span {span!r} lacks answer {text!r}")
if q + 1 != len(gold):
    print(f"{name}: {len(gold)} questions, {q + 1} in the stream"); bad += 1
print(f"qa {name}: {len(gold)} questions, {windows} windows, {labeled} with the answer")
sys.exit(1 if bad else 0)
PY
done

# raw text: every line comes back (line by line, no truncation at 512)
for l in swa yor amh; do
  d=$W/text_$l; mkdir -p "$d"
  zstdcat "$XF_DATA/text/$l.txt.zst" | sed -n 1,2000p > "$d/in.txt"
  xf-tokenize -t "$V" --task mlm --lang $l --line-by-line -o "$d/ex.tsv" "$d/in.txt" 2> "$d/err"
  if grep -q truncated "$d/err"; then cat "$d/err"; exit 1; fi
  xf-tokenize -t "$V" --decode -o "$d/dec.tsv" "$d/ex.tsv"
  awk '{ print $0 "\t-\t0" }' "$d/in.txt" | grep -v $'^[ \t]*\t-\t0$' > "$d/src.tsv"
  cut -f1 "$d/src.tsv" | xf-tokenize -t "$V" --normalize - > "$d/norm.txt"
  awk -F'\t' 'BEGIN { OFS = "\t" } { $6 = $4; $7 = "-"; print }' "$d/dec.tsv" > "$d/dec2.tsv"
  awk -F'\t' 'BEGIN { OFS = "\t" } { $2 = "-"; $3 = 1; print }' "$d/src.tsv" > "$d/src2.tsv"
  compare "$d/src2.tsv" "$d/dec2.tsv" "$d/norm.txt" "text/$l"
done
echo ok
