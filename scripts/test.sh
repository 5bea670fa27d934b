#!/usr/bin/env bash
# Set up, then run the whole test suite (on both cores).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -n 2 -q "$@"
