#!/usr/bin/env bash
# Screenshot every page of the sample site in headless Chromium, for a visual check of Khmer
# shaping and Dutch/English typography. Installs Debian's chromium when run as root.
# Usage: bash scripts/screenshots.sh [OUTDIR]   (default: screenshots/)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-screenshots}"
if ! command -v chromium >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "chromium is not installed; run as root or install it" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
[ -f output/manifest.json ] || bash scripts/build-sample.sh
mkdir -p "$out"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
for page in output/*/*/index.html; do
  rel=${page#output/}
  name=$(echo "${rel%/index.html}" | tr '/' '-')
  # The flags keep Chromium off the network: this machine has none, and the page needs none.
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars --force-device-scale-factor=1 \
    --virtual-time-budget=3000 --window-size=1000,1800 \
    --screenshot="$out/$name.png" "file://$PWD/$page" >/dev/null 2>&1
  echo "$out/$name.png"
done
