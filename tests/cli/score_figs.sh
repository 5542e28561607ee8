#!/usr/bin/env bash
# The paper's figures without a table of their own, drawn from the hand-made
# tables of tests/cli/score (see its README): Figure 7 (variance --plot),
# Figures 3a/5 (targets --plot: the recipient map), Figure 8 (seen --plot,
# the heatmap), Figure 6 (corr --plot, commonality).  Each is a valid SVG and
# PNG with its title, axis labels and series (language) names; unseen
# languages (langs.tsv: bbb and yyy unseen by mBERT) carry the '*' mark;
# the tables are unchanged by --plot.  Figure 8's cells tile the grid (one
# cell per pair, none overlapping); with --by-family the languages are
# grouped by family inside the seen and unseen blocks and the family names
# label the groups on the top and right axes.
set -euo pipefail
G=$(cd "$(dirname "$0")/score" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
L="--languages $G/langs.tsv"

check_svg() {   # FILE TEXT...: valid, complete SVG that draws and names every TEXT
  local f=$1; shift
  [ "$(stat -c %s "$f")" -gt 3000 ] || { echo "FAIL: $f too small"; exit 1; }
  case "$(head -c 200 "$f")" in *'<svg'*|'<?xml'*) ;; *) echo "FAIL: $f is not SVG"; exit 1;; esac
  case "$(tail -c 100 "$f")" in *'</svg>'*) ;; *) echo "FAIL: $f is truncated"; exit 1;; esac
  python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$f" \
    || { echo "FAIL: $f is not well-formed XML"; exit 1; }
  grep -q '<path\|<rect\|<circle' "$f" || { echo "FAIL: $f draws nothing"; exit 1; }
  for t in "$@"; do
    grep -qF -- "$t" "$f" || { echo "FAIL: $f lacks '$t'"; exit 1; }
  done
}
check_png() {
  [ "$(stat -c %s "$1")" -gt 3000 ] || { echo "FAIL: $1 too small"; exit 1; }
  [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || { echo "FAIL: $1 is not PNG"; exit 1; }
}

# Figure 7: box plots per transfer language, sorted by variance (yyy 42.58
# before xxx 16.58 at k=10); yyy is unseen.
xf-score variance $L --steps 10 --plot var.svg "$G/eval.tsv" > var.tsv
cmp var.tsv <(xf-score variance --steps 10 "$G/eval.tsv")
check_svg var.svg 'sorted by variance' 'transfer language (by variance' 'ts (%)' 'yyy*' 'xxx' 'm, pos (upos_acc), 10 steps'
[ "$(grep -o 'yyy\*\|>xxx<' var.svg | head -1)" = 'yyy*' ] || { echo "FAIL: yyy (larger variance) is not first"; exit 1; }
xf-score variance $L --plot var.png "$G/eval.tsv" > /dev/null
check_png var.png

# Figures 3a/5: k=10: aaa 1 of 2 positive -> (40,50]; bbb none -> never;
# ccc both -> universal; bbb is unseen.
xf-score targets $L --steps 10 --plot map.svg "$G/eval.tsv" > map.tsv
cmp map.tsv <(xf-score targets --steps 10 "$G/eval.tsv")
check_svg map.svg 'Recipient transfer map' 'never (0%)' 'universal (100%)' '(40,50]' \
  '% of transfer languages with ts > 0' 'bbb*' 'aaa' 'ccc'
python3 - map.svg <<'PY'
import re, sys
svg = open(sys.argv[1]).read()
# Each target's label sits in the column of its bin: compare x positions.
def x_of(text):
    m = re.search(r'<g transform="translate\(([\d.]+),[\d.]+\)[^>]*>\s*<text[^>]*>(?:<tspan[^>]*>)?' + re.escape(text) + r'<', svg)
    assert m, text
    return float(m.group(1))
assert x_of('bbb*') < x_of('(40,50]') <= x_of('aaa') + 1 and x_of('aaa') < x_of('ccc'), 'bins out of order'
assert abs(x_of('bbb*') - x_of('never (0%)')) < 2 and abs(x_of('ccc') - x_of('universal (100%)')) < 2
PY
xf-score targets --plot map.png "$G/eval.tsv" > /dev/null
check_png map.png

# Figure 8: heatmap, seen before unseen on both axes (target bbb*, transfer yyy*).
xf-score seen $L --steps 10 --plot heat.svg "$G/eval.tsv" > heat.tsv
cmp heat.tsv <(xf-score seen $L --steps 10 "$G/eval.tsv")
check_svg heat.svg 'Transfer x target heatmap' 'target language' 'transfer language' 'ts (%)' 'bbb*' 'yyy*' 'aaa' 'xxx'
xf-score seen $L --by-family --plot heat.png "$G/eval.tsv" > /dev/null
check_png heat.png
# each cell is one unit: 3 targets x 2 transfer languages, equal sizes, on
# 3 distinct columns and 2 distinct rows (boxes of half-width 1 overlapped)
cells() {   # SVG: checks the first panel's cells
  python3 - "$1" <<'PY'
import re, sys
svg = open(sys.argv[1]).read()
body = re.search(r'<g id="gnuplot_plot_1a" >(.*?)(?=<g id="gnuplot_plot_|<g id="gnuplot_canvas|</svg>)', svg, re.S).group(1)
boxes = []
for pts in re.findall(r"points = '([^']*)'", body):
    xy = [tuple(map(float, p.split(','))) for p in pts.split()]
    xs, ys = [x for x, _ in xy], [y for _, y in xy]
    boxes.append((round(min(xs)), round(min(ys)), max(xs) - min(xs), max(ys) - min(ys)))
boxes = boxes[:6]   # the colour box's strips follow
assert len(boxes) == 6, boxes
assert len({b[0] for b in boxes}) == 3 and len({b[1] for b in boxes}) == 2, ("cells overlap", boxes)
w, h = boxes[0][2], boxes[0][3]
assert all(abs(b[2] - w) < 1 and abs(b[3] - h) < 1 for b in boxes), boxes
xs = sorted({b[0] for b in boxes})
assert all(abs((xs[i + 1] - xs[i]) - w) < 1.5 for i in range(2)), ("cells not adjacent", boxes)
PY
}
cells heat.svg
# Figure 8 by family: families (ccc, xxx Alphaic; aaa, yyy Betaic; bbb
# Gammaic) order the seen targets ccc, aaa (by name: aaa, ccc), then bbb*;
# each family is named above its targets' columns and right of its
# transfer languages' rows; a dashed rule parts Alphaic from Betaic among
# the seen targets.
awk -F'\t' 'BEGIN {OFS = "\t"; f["aaa"] = "Betaic"; f["ccc"] = "Alphaic"; f["bbb"] = "Gammaic"
             f["xxx"] = "Alphaic"; f["yyy"] = "Betaic"} NR > 1 {$3 = f[$1]} {print}' "$G/langs.tsv" > fam.tsv
xf-score seen --languages fam.tsv --steps 10 --by-family --plot fam.svg "$G/eval.tsv" > fam.out
cmp fam.out heat.tsv
check_svg fam.svg 'Transfer x target heatmap' '(seen languages first, then unseen*, by family)' \
  'target language' 'transfer language' 'ts (%)' '>Alphaic<' '>Betaic<' '>Gammaic<' 'bbb*' 'yyy*'
grep -q 'stroke-dasharray' fam.svg || { echo "FAIL: fam.svg: no dashed family rule"; exit 1; }
cells fam.svg
python3 - fam.svg <<'PY'
import re, sys
svg = open(sys.argv[1]).read()
lab = {}   # (text, rotation) -> (x, y)
for m in re.finditer(r'<g transform="translate\(([\d.]+),([\d.]+)\)(?: rotate\((-?[\d.]+)\))?"[^>]*>\s*<text>(?:<tspan[^>]*>)?([^<]*)<', svg):
    lab.setdefault((m.group(4), m.group(3)), (float(m.group(1)), float(m.group(2))))
def at(text, rot):
    assert (text, rot) in lab, (text, rot, sorted(lab))
    return lab[(text, rot)]
# x tics (rotate by -60: rotate(60)) in family order
cx, ax, bx = at('ccc', '60')[0], at('aaa', '60')[0], at('bbb*', '60')[0]
assert cx < ax < bx, ('targets not in family order', cx, ax, bx)
# family names above the columns (x2, rotate(-60)), right of the rows (y2)
for fam, x in (('Alphaic', cx), ('Betaic', ax), ('Gammaic', bx)):
    fx, fy = at(fam, '-60')
    assert abs(fx - x) < 10 and fy < 200, (fam, fx, fy, x)
for fam, row in (('Alphaic', 'xxx'), ('Betaic', 'yyy*')):
    fx, fy = at(fam, None)
    rx, ry = at(row, None)
    assert abs(fy - ry) < 1 and fx > cx, (fam, fx, fy, row, rx, ry)
PY
# without --by-family: no family names, targets by name
if grep -q 'Alphaic\|Betaic\|Gammaic' heat.svg; then echo "FAIL: family names without --by-family"; exit 1; fi
xf-score seen --languages fam.tsv --steps 10 --plot nofam.svg "$G/eval.tsv" > /dev/null
if grep -q 'Alphaic\|Betaic\|Gammaic' nofam.svg; then echo "FAIL: nofam.svg names families"; exit 1; fi

# Figure 6: the top 2 of each task in corr_ts.tsv (three tasks).
xf-score corr --top 2 --plot common.svg "$G/corr_ts.tsv" > common.tsv
cmp common.tsv <(xf-score corr "$G/corr_ts.tsv")
check_svg common.svg 'Commonality of the top-2 transfer languages' 'small, 10 steps' '>dep<' '>ner<' '>pos<' 'transfer language'

# Usage: --by-family without seen --plot; ts has no figure.
rc=0; xf-score rank --by-family "$G/eval.tsv" > /dev/null 2>&1 || rc=$?; [ "$rc" -eq 2 ]
rc=0; xf-score ts --plot x.svg "$G/eval.tsv" > /dev/null 2>&1 || rc=$?; [ "$rc" -eq 2 ]
[ ! -e x.svg ]
echo "score_figs: ok"
