#!/usr/bin/env bash
# The whole test suite: set up .venv if needed, then run pytest on 2 workers.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/venv.sh"
cd "$ROOT"
export TMPDIR="${TMPDIR:-/tmp}"
exec python -m pytest -n "${PYTEST_WORKERS:-2}" -q "$@"
