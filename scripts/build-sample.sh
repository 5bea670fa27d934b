#!/usr/bin/env bash
# Set up, then build the sample site into output/. The repository root is itself the sample
# policygen project (policygen.yaml, glossary.yaml, sources/, locales/, archive/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/policygen check
.venv/bin/policygen build
echo "Open output/index.html"
