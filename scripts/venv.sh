#!/usr/bin/env bash
# Create or reuse the project-local virtual environment (.venv) from the tested lock.
# Sourced by scripts/main.sh and scripts/test.sh; reinstalls only when the lock or pyproject changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
STAMP="$VENV/.installed-lock"
want="$(cat "$ROOT/requirements/constraints.txt" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"

# Offline by design: no telemetry, no hub downloads at run time.
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 TRANSFORMERS_OFFLINE=1 BENTOML_DO_NOT_TRACK=True \
  DO_NOT_TRACK=1 DVC_NO_ANALYTICS=1 PIP_DISABLE_PIP_VERSION_CHECK=1

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating $VENV" >&2
  "$PY" -m venv "$VENV"
fi
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo "[setup] installing the locked dependencies into .venv (first run takes a few minutes)" >&2
  # torch first, from the local CPU wheel: any other torch pulls GBs of CUDA packages.
  "$VENV/bin/pip" install -q torch==2.13.0 2>&1 | grep -v "is ignored" >&2 || true
  "$VENV/bin/pip" install -q -c "$ROOT/requirements/constraints.txt" -e "$ROOT[dev]" 2>&1 | grep -v "is ignored" >&2 || true
  "$VENV/bin/python" -c "import torch, polars, meds, aces" || { echo "[setup] install failed" >&2; exit 1; }
  "$VENV/bin/pip" check >&2
  echo "$want" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
export PYTHONHASHSEED=0
