#!/usr/bin/env bash
# Screenshots of the sample for a visual check, in headless Chromium (Debian's chromium and
# chromedriver, driven as tests/test_browser.py drives them, by scripts/screenshots.py;
# scripts/setup.sh installs them as root):
#   km-390.png           the Khmer privacy policy at 390 px (a phone): the top of the page
#   km-390-table.png     the same page at 390 px, from its first table (stacked rows)
#   nl-320-table.png     the Dutch page at 320 px (a 1280-px window at 400 % zoom), from its sharing table
#   archived-copy.png    an archived copy (versions/2.1/, English), not in force since 3.0
#   upcoming-banner.png  the English page as of 2026-02-15: 2.1 in force, the banner announcing 3.0
#   km-redline-pdf.png   the first page of the Khmer redline PDF (2.1 -> 3.0), by pdftoppm
# The sites they show are built into the same folder (HTML only; --today fixes each one's date).
# Usage: bash scripts/screenshots.sh [OUTDIR]   (default: output/screenshots, ignored by git)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-output/screenshots}"
if ! command -v chromium >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 || [ ! -x .venv/bin/policygen ]; then
  bash scripts/setup.sh
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

.venv/bin/policygen build --quiet --format html --today 2026-12-01 --output "$out/site"
.venv/bin/policygen build --quiet --format html --today 2026-02-15 --output "$out/site-2026-02-15"
.venv/bin/policygen diff tonle-privacy@2.1 tonle-privacy@3.0 --policy tonle-privacy --pdf --output "$out/redline" >/dev/null

page="file://$out/site/tonle-privacy"
.venv/bin/python scripts/screenshots.py "$out" \
  "km-390=390=$page/km/index.html" \
  "km-390-table=390=$page/km/index.html#use-table" \
  "nl-320-table=320=$page/nl/index.html#sharing-table" \
  "archived-copy=1280=$page/en/versions/2.1/index.html" \
  "upcoming-banner=1280=file://$out/site-2026-02-15/tonle-privacy/en/index.html"
pdftoppm -png -r 90 -f 1 -l 1 -singlefile "$out/redline/tonle-privacy/redline.km.pdf" "$out/km-redline-pdf"
echo "$out/km-redline-pdf.png"
