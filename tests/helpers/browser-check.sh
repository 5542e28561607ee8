#!/usr/bin/env bash
# browser-check.sh PAGE.html SHOT.png — opens PAGE in headless Chromium (a
# real browser), prints "images=N loaded=M broken=ALT|..." for the page's
# <img> elements after load, and takes a full-page screenshot to SHOT.
# The page itself is not modified: a copy with a checking script is loaded.
set -euo pipefail
page=$(realpath "$1"); shot=$2
command -v chromium >/dev/null || { echo "browser-check: chromium is not installed (tests/deps.sh)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
copy="$(dirname "$page")/.browser-check.$$.html"
trap 'rm -rf "$tmp" "$copy"' EXIT
python3 - "$page" "$copy" <<'PY'
import sys
html = open(sys.argv[1], encoding="utf-8").read()
probe = ("<script>addEventListener('load',function(){var im=document.images,ok=0,bad=[];"
         "for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0)ok++;else bad.push(im[i].alt)}"
         "document.body.setAttribute('data-check','images='+im.length+' loaded='+ok+' broken='+bad.join('|'))})"
         "</script>")
assert "</body>" in html, "no </body>"
open(sys.argv[2], "w", encoding="utf-8").write(html.replace("</body>", probe + "</body>", 1))
PY
flags=(--headless=new --no-sandbox --disable-gpu --no-first-run --user-data-dir="$tmp/profile"
       --hide-scrollbars --virtual-time-budget=10000)
timeout 120 chromium "${flags[@]}" --dump-dom "file://$copy" 2>"$tmp/err" > "$tmp/dom" || { cat "$tmp/err" >&2; exit 1; }
grep -o 'data-check="[^"]*"' "$tmp/dom" | sed 's/^data-check="//; s/"$//'
# Full page: the window as tall as the document (bounded).
h=$(python3 -c 'import re,sys; d=open(sys.argv[1]).read(); print(min(16000, 900 + 40*len(re.findall("<tr|<img|<h2|<pre", d)) + 500*d.count("<img")))' "$tmp/dom")
timeout 120 chromium "${flags[@]}" --window-size=1280,"$h" --screenshot="$shot" "file://$page" 2>"$tmp/err" >/dev/null \
  || { cat "$tmp/err" >&2; exit 1; }
[ -s "$shot" ] || { echo "browser-check: no screenshot" >&2; exit 1; }
