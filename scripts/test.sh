#!/usr/bin/env bash
# Set up, then lint, type-check and run the whole test suite (on both cores).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check policygen tests bench
.venv/bin/mypy
bash scripts/check-catalogs.sh
exec .venv/bin/python -m pytest -n 2 -q "$@"
