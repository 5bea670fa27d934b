#!/usr/bin/env bash
# Set up, then build the sample site (examples/tonle) into examples/tonle/output/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/policygen check --project examples/tonle
.venv/bin/policygen build --project examples/tonle
echo "Open examples/tonle/output/index.html"
