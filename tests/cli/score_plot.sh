#!/usr/bin/env bash
# xf-score --plot: rank, targets, progress and compare draw non-trivial SVG
# and PNG files with their titles; the TSV is unchanged by --plot; a failing
# gnuplot leaves no file.  Figure 3b (progress) and Figure 2 (compare
# --summary) also carry their axis labels and series: progress the best
# (green) and worst (red) target of every point, compare one legend entry
# and one bar per setting, [1A], [2A] and [3A] included.
set -euo pipefail
G=$(cd "$(dirname "$0")/score" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"

check_svg() {   # FILE TITLE-TEXT
  [ "$(stat -c %s "$1")" -gt 5000 ] || { echo "FAIL: $1 too small"; exit 1; }
  case "$(head -c 200 "$1")" in *'<svg'*|'<?xml'*) ;; *) echo "FAIL: $1 is not SVG"; exit 1;; esac
  case "$(tail -c 100 "$1")" in *'</svg>'*) ;; *) echo "FAIL: $1 is truncated"; exit 1;; esac
  grep -q "$2" "$1" || { echo "FAIL: $1 lacks title '$2'"; exit 1; }
  grep -q '<path\|<rect\|<circle' "$1" || { echo "FAIL: $1 draws nothing"; exit 1; }
}
check_png() {
  [ "$(stat -c %s "$1")" -gt 5000 ] || { echo "FAIL: $1 too small"; exit 1; }
  [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || { echo "FAIL: $1 is not PNG"; exit 1; }
}

for cmd in rank targets progress; do
  xf-score $cmd --plot $cmd.svg "$G/eval.tsv" > $cmd.tsv
  cmp $cmd.tsv "$G/$cmd.expected"
  xf-score $cmd --plot $cmd.png "$G/eval.tsv" > /dev/null
  check_png $cmd.png
done
check_svg rank.svg 'ranked by aggregated transfer'
check_svg targets.svg 'Recipient transfer map'
check_svg progress.svg 'Aggregated transfer through MLM steps'
grep -q 'xxx: m pos' progress.svg   # one panel per transfer language
grep -q 'yyy: m pos' progress.svg
# Figure 3b: axes, and the best / worst target at each k (progress.expected:
# xxx k=10 ccc/bbb, k=100 bbb/ccc; yyy k=10 ccc/bbb, k=100 aaa/bbb), in
# panel order, best in green (#1e8449), worst in red (#c0392b)
for t in 'MLM steps k' 'aggregated ts (%)' 'labels: best / worst target'; do
  grep -qF "$t" progress.svg || { echo "FAIL: progress.svg lacks '$t'"; exit 1; }
done
python3 - progress.svg <<'PY'
import re, sys
svg = open(sys.argv[1]).read()
lab = {"rgb(30,132,73)": [], "rgb(192,57,43)": []}
for m in re.finditer(r'<g transform="translate\([\d.]+,[\d.]+\)" stroke="none" fill="(rgb\([\d,]+\))"[^>]*>\s*<text>([^<]*)<', svg):
    if m.group(1) in lab: lab[m.group(1)].append(m.group(2))
assert lab["rgb(30,132,73)"] == ["ccc", "bbb", "ccc", "aaa"], ("best", lab["rgb(30,132,73)"])
assert lab["rgb(192,57,43)"] == ["bbb", "ccc", "bbb", "bbb"], ("worst", lab["rgb(192,57,43)"])
PY
xf-score compare --summary --plot compare.svg "$G/compare.tsv" > out
cmp out "$G/compare-summary.expected"
check_svg compare.svg 'Languages improved over the base model'
# Figure 2 with all three adapter settings: compare.tsv plus a [2A] row for
# bbb (bbb+aaa 85: +5, +6.25 %) and a [3A] row for aaa (aaa+bbb+ccc 55: +5,
# +10 %).  2A: aaa no, bbb yes = 50 %, mean diff (-0.5 + 5)/2 = 2.25, rel
# (-1 + 6.25)/2 = 2.625; 3A: 1 of 1 = 100 %; best-A: aaa 3A (+5, +10 %),
# bbb 2A (+5, +6.25 %) = 5, 8.125.
{ cat "$G/compare.tsv"
  printf 'm\tpos\tlang\t-\t0\t0\tbbb+aaa\tbbb\tupos_acc\t85.0000\t100\n'
  printf 'm\tpos\tlang\t-\t0\t0\taaa+bbb+ccc\taaa\tupos_acc\t55.0000\t100\n'; } > c3.tsv
xf-score compare --summary --plot c3.svg c3.tsv | cut -f4- > c3.out
cat > c3.want <<'EOF'
setting	n_langs	n_improved	pct_improved	mean_diff	mean_rel_pct
k=1	2	1	50.00	1.5000	3.0000
k=1000	1	0	0.00	-2.0000	-4.0000
1A	2	2	100.00	1.5000	2.2500
2A	2	1	50.00	2.2500	2.6250
3A	1	1	100.00	5.0000	10.0000
best-A	2	2	100.00	5.0000	8.1250
EOF
diff c3.want c3.out || { echo "FAIL: compare summary with 2A/3A"; exit 1; }
check_svg c3.svg 'Languages improved over the base model'
for t in '% of languages improved over base' '>task<' '>m/pos<' 'continuous MLM steps (k=K) vs language adapters (NA)'; do
  grep -qF -- "$t" c3.svg || { echo "FAIL: c3.svg lacks '$t'"; exit 1; }
done
# one series per setting, each with its legend entry and its bar: heights
# in proportion to pct_improved (k=1 50 %: the unit)
python3 - c3.svg <<'PY'
import re, sys
svg = open(sys.argv[1]).read()
h = {}
for m in re.finditer(r'<g id="gnuplot_plot_\d+" ><title>([^<]*)</title>(.*?)(?=<g id="gnuplot_plot_|<g id="gnuplot_canvas|</svg>)', svg, re.S):
    name, body = m.group(1), m.group(2)
    assert re.search(r'<text>' + re.escape(name) + '</text>', body), ("no legend entry", name)
    bars = []
    for pts in re.findall(r"points = '([^']*)'", body):
        ys = [float(p.split(',')[1]) for p in pts.split()]
        bars.append(max(ys) - min(ys))
    h[name] = max(bars)   # the legend key is the small one
want = {"k=1": 50, "k=1000": 0, "1A": 100, "2A": 50, "3A": 100, "best-A": 100}
assert sorted(h) == sorted(want), h
unit = h["k=1"] / 50
for k, pct in want.items():
    if pct: assert abs(h[k] - pct * unit) < 1.5, (k, h[k], pct * unit)
    else: assert h[k] < 15, (k, h[k])   # only the legend key
PY
xf-score compare --plot compare.png "$G/compare.tsv" > /dev/null
check_png compare.png

# gnuplot failing: an error, no figure and no temp file left.
rc=0
XF_GNUPLOT=/bin/false xf-score rank --plot bad.svg -o bad.tsv "$G/eval.tsv" 2> err || rc=$?
[ "$rc" -eq 1 ]
grep -q 'bad.svg: gnuplot failed' err
[ -z "$(ls -A | grep bad)" ]
echo "score_plot: ok"
