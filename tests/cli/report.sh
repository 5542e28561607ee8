#!/usr/bin/env bash
# xf-score report: one self-contained HTML page from a manifest of text,
# tables and figures (hand-made study folder from tests/cli/score).  Checks
# the page's structure, relative links, the in-place notes for a missing
# figure, a missing table and a table without rows, the refusals, and the
# page in a real browser (headless Chromium: every image decodes, and a
# screenshot is taken).
set -euo pipefail
G=$(cd "$(dirname "$0")/score" && pwd)
H=$(cd "$(dirname "$0")/../helpers" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/study/figs" "$T/pages"
cd "$T/study"
L="--languages $G/langs.tsv"
xf-score ts --boot 0 "$G/eval.tsv" > ts.tsv
xf-score rank --plot figs/rank.svg "$G/eval.tsv" > rank.tsv
xf-score variance $L --plot figs/variance.png "$G/eval.tsv" > variance.tsv
printf 'model\ttask\n' > empty.tsv
printf 'MODEL = tiny\nSTEPS = 10 100 <all>\n' > config.txt
{
  printf 'kind\ttitle\tfile\tfigure\tnote\n'
  printf 'text\tConfiguration\tconfig.txt\t-\tThe study as it was run.\n'
  printf 'table\tRanking (Table 3)\trank.tsv\tfigs/rank.svg\t-\n'
  printf 'table\tVariance (Figure 7)\tvariance.tsv\tfigs/variance.png\t-\n'
  printf 'table\tTransfer scores\tts.tsv\t-\t-\n'
  printf 'figure\tProjection (Figure 4)\t-\tfigs/projection.svg\t-\n'
  printf 'table\tSeen vs unseen\tseen.tsv\t-\t-\n'
  printf 'table\tNothing here\tempty.tsv\t-\t-\n'
} > manifest.tsv

# The page lives in another folder: links are relative to it.
xf-score report --title 'Test <study>' --max-rows 3 -o ../pages/report.html manifest.tsv 2> err
grep -q '3 section(s) could not be shown' err
P=../pages/report.html
head -1 $P | grep -qx '<!DOCTYPE html>'
grep -q '<title>Test &lt;study&gt;</title>' $P
[ "$(grep -c '<section id=' $P)" -eq 7 ]
[ "$(grep -c '<img ' $P)" -eq 2 ]                        # the two figures that exist
grep -q 'src="data:image/svg+xml;base64,' $P
grep -q 'src="data:image/png;base64,' $P
grep -q 'STEPS = 10 100 &lt;all&gt;' $P                   # text, escaped
grep -q 'href="../study/rank.tsv"' $P
grep -q 'First 3 of 12 rows; the whole table: <a href="../study/ts.tsv">' $P
grep -q 'Figure not available (missing): <code>.*figs/projection.svg</code>' $P
grep -q 'Not available: the file is missing: <code>../study/seen.tsv</code>' $P
grep -q 'No rows for this table: <code>../study/empty.tsv</code>' $P
! grep -qi '<script\|http://\|https://' $P                # nothing runs, nothing fetched
# Every table is well formed (balanced tags), three of them.
python3 - $P <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.stack = []; s.tables = 0; s.rows = []
    def handle_starttag(s, t, a):
        if t in ("meta", "img", "br"): return
        s.stack.append(t)
        if t == "table": s.tables += 1
    def handle_endtag(s, t):
        assert s.stack and s.stack[-1] == t, f"unbalanced </{t}> in {s.stack[-3:]}"
        s.stack.pop()
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read()); p.close()
assert not p.stack, p.stack
assert p.tables == 3, p.tables      # rank, variance, ts
PY

# A real browser: both images decode; a screenshot of the whole page.
r=$(bash "$H/browser-check.sh" $P shot.png)
[ "$r" = "images=2 loaded=2 broken=" ] || { echo "FAIL: browser: $r"; exit 1; }
[ "$(head -c 8 shot.png | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]
[ "$(stat -c %s shot.png)" -gt 20000 ]

# Nothing reportable: exit 1, no page.
printf 'kind\ttitle\tfile\tfigure\tnote\ntable\tGone\tgone.tsv\t-\t-\nfigure\tGone too\t-\tgone.svg\t-\n' > none.tsv
rc=0; xf-score report -o none.html none.tsv 2> err || rc=$?
[ "$rc" -eq 1 ] && [ ! -e none.html ] && grep -q 'none.tsv: nothing to report' err
# Bad manifests: a kind that does not exist, a table without a file.
printf 'kind\ttitle\tfile\tfigure\tnote\nchart\tX\tts.tsv\t-\t-\n' > bad.tsv
rc=0; xf-score report -o bad.html bad.tsv 2> err || rc=$?
[ "$rc" -eq 1 ] && [ ! -e bad.html ] && grep -q "bad.tsv:2: kind 'chart'" err
printf 'kind\ttitle\tfile\tfigure\tnote\ntable\tX\t-\tfigs/rank.svg\t-\n' > bad.tsv
rc=0; xf-score report -o bad.html bad.tsv 2> err || rc=$?
[ "$rc" -eq 1 ] && grep -q 'bad.tsv:2: a table section needs a file' err
rc=0; xf-score report -o x.html 2> /dev/null || rc=$?; [ "$rc" -eq 2 ]
rc=0; xf-score rank --title x "$G/eval.tsv" > /dev/null 2>&1 || rc=$?; [ "$rc" -eq 2 ]
echo "report: ok"
