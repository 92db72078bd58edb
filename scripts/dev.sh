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

# tsc --watch recompiles on change; the processes restart when their output changes.
npx --no-install tsc -p tsconfig.build.json --watch --preserveWatchOutput >/tmp/sightline-tsc-watch.log 2>&1 &
WATCH_PID=$!
node --watch-path=dist/src dist/src/worker.js &
WORKER_PID=$!
node --watch-path=dist/src dist/src/main.js &
API_PID=$!
trap 'kill $API_PID $WORKER_PID $WATCH_PID 2>/dev/null; wait' INT TERM EXIT

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
