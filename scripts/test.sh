#!/usr/bin/env bash
# `npm test`: dependencies, services, a fresh database for this run (dropped at the end),
# type-check + build, lint (ESLint, Prettier) and domain boundaries, migrations, migration drift and
# OpenAPI checks, unit and e2e tests.
# `npm test -- test/foo.e2e.ts src/bar.spec.ts` runs only those files (after the same checks).
set -euo pipefail
LOG_TAG=test
source "$(dirname "$0")/lib.sh"
started=$(date +%s)

ensure_node_modules
bash scripts/services.sh

# Chromium for the browser tests (Debian's package; playwright-core drives it).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  log "installing chromium for the browser tests (log: /tmp/sightline-chromium-apt.log)"
  if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; } >/tmp/sightline-chromium-apt.log 2>&1; then
    log "chromium could not be installed: the browser tests will be skipped"
  fi
fi

# GDAL for the STAC client tests (Debian's gdal-bin: gdalinfo reads the STAC API, gdal_translate writes test files).
if ! command -v gdalinfo >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing gdal-bin for the STAC client tests (log: /tmp/sightline-gdal-apt.log)"
    if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gdal-bin; } >/tmp/sightline-gdal-apt.log 2>&1; then
      log "gdal-bin could not be installed: the tests that need GDAL will be skipped"
    fi
  else
    log "gdalinfo is absent and cannot be installed here (needs root and apt-get): the tests that need GDAL will be skipped"
  fi
fi

# ExifTool for the picture metadata tests (Debian's libimage-exiftool-perl: the oracle for EXIF/XMP).
if ! command -v exiftool >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing libimage-exiftool-perl for the picture metadata tests (log: /tmp/sightline-exiftool-apt.log)"
    if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libimage-exiftool-perl; } >/tmp/sightline-exiftool-apt.log 2>&1; then
      log "libimage-exiftool-perl could not be installed: the tests that need ExifTool will be skipped"
    fi
  else
    log "exiftool is absent and cannot be installed here (needs root and apt-get): the tests that need ExifTool will be skipped"
  fi
fi

BASE_DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/sightline}
RUN_ID="$(date +%s)_$$"
export DATABASE_URL=$(with_db "$BASE_DATABASE_URL" "sightline_test_$RUN_ID")
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
export QUEUE_PREFIX="sltest_$RUN_ID"
export DATA_DIR=$(mktemp -d /tmp/sightline-test-data.XXXXXX)
export NODE_ENV=test
export LOG_LEVEL=${LOG_LEVEL:-warn}
export TEST_ARTIFACTS_DIR=${TEST_ARTIFACTS_DIR:-$ROOT/test-artifacts}
mkdir -p "$TEST_ARTIFACTS_DIR"

cleanup() {
  psql "$(admin_url "$DATABASE_URL")" -qc "drop database if exists \"sightline_test_$RUN_ID\" with (force)" >/dev/null 2>&1 || true
  node -e '
    const { Redis } = require("ioredis");
    const r = new Redis(process.env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    (async () => {
      await r.connect();
      let cursor = "0";
      do {
        const [next, keys] = await r.scan(cursor, "MATCH", process.env.QUEUE_PREFIX + ":*", "COUNT", 1000);
        cursor = next;
        if (keys.length) await r.del(...keys);
      } while (cursor !== "0");
      await r.quit();
    })().catch(() => process.exit(0));
  ' >/dev/null 2>&1 || true
  rm -rf "$DATA_DIR"
}
trap cleanup EXIT

log "database sightline_test_$RUN_ID"
psql "$(admin_url "$DATABASE_URL")" -qc "create database \"sightline_test_$RUN_ID\"" >/dev/null
build
log "linting (ESLint, Prettier)"
if ! npm run --silent lint; then
  log "FAILED: lint; npm run format rewrites the files Prettier lists above, ESLint's findings are fixed by hand"
  exit 1
fi
log "checking domain boundaries"
if ! node scripts/check-boundaries.mjs; then
  log "FAILED: domain boundaries; see scripts/boundaries.json for each domain's public surface"
  exit 1
fi
log "running migrations"
typeorm_cli migration:run >/dev/null
log "checking that entities and migrations agree"
if ! drift=$(node node_modules/typeorm/cli.js migration:generate migrations/Drift -d dist/src/database/data-source.js --check 2>&1); then
  echo "$drift" | grep -v '^npm warn' >&2
  log "FAILED: entities and migrations drift; run npm run migration:generate -- <Name> and review it"
  exit 1
fi
log "checking that openapi.json is current"
node dist/src/openapi.js --check

if [ $# -gt 0 ]; then
  files=()
  for f in "$@"; do f=${f%.ts}; f=${f#./}; files+=("dist/$f.js"); done
else
  mapfile -t files < <(find dist/src dist/test -name '*.spec.js' -o -name '*.medium.js' -o -name '*.e2e.js' | sort)
fi
log "running ${#files[@]} test files"
status=0
node --test --test-concurrency=1 --test-force-exit --test-timeout=300000 --test-reporter=spec "${files[@]}" || status=$?
log "finished in $(( $(date +%s) - started )) s"
exit $status
