#!/usr/bin/env bash
# The main job: set up .venv if needed, then run the whole pipeline end to end on the embedded synthetic cohort.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/venv.sh"
cd "$ROOT"
exec python -m pipelines.run_local "$@"
