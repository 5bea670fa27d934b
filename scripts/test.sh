#!/usr/bin/env bash
# Set up, then lint, type-check and run the whole test suite (on both cores).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check policygen tests bench
.venv/bin/mypy
bash scripts/check-catalogs.sh
# Let Python and pytest keep compiled bytecode (__pycache__, ignored by git) even where the
# environment turns it off (PYTHONDONTWRITEBYTECODE, as in many container images): otherwise each
# test worker and each policygen process a test starts compiles the package and rewrites every
# test module again, seconds of CPU per run.
unset PYTHONDONTWRITEBYTECODE
exec .venv/bin/python -m pytest -n 2 -q "$@"
