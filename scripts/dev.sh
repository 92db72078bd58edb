#!/usr/bin/env bash
# `npm run dev`: dependencies, services, database, migrations, then the API and a worker.
set -euo pipefail
LOG_TAG=dev
source "$(dirname "$0")/lib.sh"
[ -f .env ] && { set -a; source .env; set +a; }
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/sightline}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
export DATA_DIR=${DATA_DIR:-$ROOT/data}
export PORT=${PORT:-3000}
export PUBLIC_URL=${PUBLIC_URL:-http://localhost:$PORT}
export NODE_ENV=${NODE_ENV:-development}

ensure_node_modules
bash scripts/services.sh
ensure_database "$DATABASE_URL"
build
log "running migrations"
typeorm_cli migration:run >/dev/null

# tsc --watch recompiles on change; after each successful compile the API and the worker restart.
# Each process runs under a small supervisor: if it crashes it is started again (with a log line),
# so a development instance does not stay down after one bad moment.
RUN_DIR=$(mktemp -d /tmp/sightline-dev.XXXXXX)
TSC_LOG="$RUN_DIR/tsc-watch.log"
node node_modules/typescript/bin/tsc -p tsconfig.build.json --watch --preserveWatchOutput >"$TSC_LOG" 2>&1 &
WATCH_PID=$!

supervise() {
  local name=$1 entry=$2 code
  while [ ! -e "$RUN_DIR/stopping" ]; do
    node "$entry" &
    echo $! >"$RUN_DIR/$name.pid"
    code=0
    wait $! || code=$?
    [ -e "$RUN_DIR/stopping" ] && break
    if [ -e "$RUN_DIR/$name.restart" ]; then
      rm -f "$RUN_DIR/$name.restart"
      log "$name restarting on changed code"
    else
      log "$name exited with code $code; starting it again in 2 s (Ctrl-C stops everything)"
      sleep 2
    fi
  done
}

# Restart both processes after every successful recompile but the watcher's first (of unchanged code).
restart_on_compile() {
  local seen=0
  tail -n +1 -F "$TSC_LOG" 2>/dev/null | while IFS= read -r line; do
    case "$line" in
      *"Found "*" error"*)
        seen=$((seen + 1))
        [ "$seen" -gt 1 ] || continue
        case "$line" in *"Found 0 errors"*) ;; *) continue ;; esac
        for name in api worker; do
          if [ -f "$RUN_DIR/$name.pid" ]; then
            touch "$RUN_DIR/$name.restart"
            kill "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null || true
          fi
        done
        ;;
    esac
  done
}

supervise worker dist/src/worker.js &
WORKER_SUP=$!
supervise api dist/src/main.js &
API_SUP=$!
restart_on_compile &
RESTART_PID=$!
stop_all() {
  touch "$RUN_DIR/stopping"
  for name in api worker; do [ -f "$RUN_DIR/$name.pid" ] && kill "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null; done
  kill $WATCH_PID $RESTART_PID 2>/dev/null
  wait $API_SUP $WORKER_SUP 2>/dev/null
  rm -rf "$RUN_DIR"
}
trap stop_all INT TERM EXIT

for _ in $(seq 1 60); do
  curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1 && break
  sleep 0.5
done
cat <<MSG

  Sightline is running
    API        $PUBLIC_URL/api
    Swagger UI $PUBLIC_URL/api/docs
    STAC root  $PUBLIC_URL/api/
    Log in     $PUBLIC_URL/api/auth/login?next=/api/docs
    Readiness  $PUBLIC_URL/api/health/ready

  Ctrl-C stops the API, the worker and the compiler.
MSG
wait
