#!/usr/bin/env bash
# Set up everything policygen needs, on a fresh Debian 12 machine with Python 3.11:
# system packages (when run as root), then a virtual environment in .venv with the pinned
# Python dependencies and policygen itself (editable). Safe to run again; it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libharfbuzz-subset0   # font subsetting for PDF output (WeasyPrint)
  libpango-1.0-0 libpangoft2-1.0-0
  poppler-utils         # pdftotext, used by the PDF text-extraction tests
  strace                # kills a build at an exact system call (tests/test_build_safety.py)
  gettext               # msgfmt -c: CI checks every shipped catalog with GNU gettext itself
  chromium chromium-driver  # the real-browser test (tests/test_browser.py) and scripts/screenshots.sh
)

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
    missing+=(python3-venv)
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
# npm packages, each pinned in its tools/<name>/package-lock.json: pdf.js (Firefox's PDF engine)
# for the PDF text tests and bench/pdf.py, run by the machine's Node.js (20 or newer); axe-core
# (tools/browser), which tests/test_browser.py injects into every page in Chromium.
if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing nodejs npm"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
for tool in pdfjs/pdfjs-dist browser/axe-core; do
  folder=tools/${tool%%/*}
  if [ -f "$folder/package-lock.json" ] && [ ! -d "$folder/node_modules/${tool#*/}" ]; then
    (cd "$folder" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
done
echo "setup: ready ($(.venv/bin/policygen --version))"
