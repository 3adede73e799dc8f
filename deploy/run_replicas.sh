#!/usr/bin/env bash
# Start N RegOpt Lab replicas on loopback ports and nginx in front of them (sub-path, websockets, sticky sessions).
#
#   deploy/run_replicas.sh                      # 2 replicas on 8501-8502, nginx on :8080, app at /regopt/
#   deploy/run_replicas.sh -n 3 -l 0.0.0.0:80 -b physics-regopt -p 9501
#
# Options: -n replicas (default 2, one per core is a good start), -p first replica port (8501), -l nginx listen
# address (8080), -b sub-path (regopt), -d run directory for the rendered nginx config, logs and pids
# (default: a new temp dir). Needs nginx on PATH or at /usr/sbin/nginx. Ctrl-C (or SIGTERM) stops everything.
# The replicas read .streamlit/config.toml like `streamlit run` does; every replica computes its own caches.
set -euo pipefail
cd "$(dirname "$0")/.."

N=2; FIRST_PORT=8501; LISTEN=8080; BASE=regopt; RUN_DIR=""
while getopts "n:p:l:b:d:h" opt; do
  case "$opt" in
    n) N=$OPTARG ;; p) FIRST_PORT=$OPTARG ;; l) LISTEN=$OPTARG ;; b) BASE=${OPTARG#/}; BASE=${BASE%/} ;;
    d) RUN_DIR=$OPTARG ;;
    *) sed -n '2,11p' "$0"; exit 2 ;;
  esac
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "run_replicas: nginx not found (apt-get install -y nginx)" >&2; exit 1; }
RUN_DIR=${RUN_DIR:-$(mktemp -d -t regopt-replicas.XXXXXX)}
mkdir -p "$RUN_DIR"
PYTHON=${PYTHON:-python3}

PIDS=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "run_replicas: stopped (logs in $RUN_DIR)"
}
trap cleanup EXIT INT TERM

# The shared result store: built once (skipped when complete for this code version), then opened read-only
# by every replica, so no replica recomputes the lecture's results.
[ "${REGOPT_SKIP_PRECOMPUTE:-0}" = 1 ] || "$PYTHON" -m deploy.precompute || echo "run_replicas: precompute failed (replicas compute live)" >&2

REPLICA_ARGS=()
for ((i = 0; i < N; i++)); do
  port=$((FIRST_PORT + i))
  "$PYTHON" -m streamlit run app.py --server.headless true --server.address 127.0.0.1 --server.port "$port" \
    --server.baseUrlPath "$BASE" --browser.gatherUsageStats false --server.fileWatcherType none \
    >"$RUN_DIR/replica-$port.log" 2>&1 &
  PIDS+=($!)
  REPLICA_ARGS+=(--replica "127.0.0.1:$port")
done

for ((i = 0; i < N; i++)); do
  port=$((FIRST_PORT + i))
  for _ in $(seq 1 240); do
    if "$PYTHON" deploy/healthcheck.py --port "$port" --base "$BASE" 2>/dev/null; then continue 2; fi
    sleep 0.5
  done
  echo "run_replicas: replica on port $port did not become healthy; see $RUN_DIR/replica-$port.log" >&2
  exit 1
done

# The first session of a process runs app.py's warm_defaults() (every page's default view): do it now, on
# every replica in parallel, rather than on the first students' clicks.
WARM=()
for ((i = 0; i < N; i++)); do
  "$PYTHON" deploy/warm.py --port $((FIRST_PORT + i)) --base "$BASE" & WARM+=($!)
done
for pid in "${WARM[@]}"; do wait "$pid" || echo "run_replicas: warm-up failed (the app still works)" >&2; done

"$PYTHON" deploy/render_nginx.py --listen "$LISTEN" --base "$BASE" "${REPLICA_ARGS[@]}" --prefix "$RUN_DIR/nginx" >/dev/null
"$NGINX" -p "$RUN_DIR/nginx" -e "$RUN_DIR/nginx/error.log" -c "$RUN_DIR/nginx/nginx.conf" &
PIDS+=($!)
echo "run_replicas: $N replicas behind nginx at http://$LISTEN/$BASE/ (run dir $RUN_DIR)"
wait -n "${PIDS[@]}"   # if nginx or a replica dies, stop everything
echo "run_replicas: a process exited; stopping" >&2
