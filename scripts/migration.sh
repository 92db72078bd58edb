#!/usr/bin/env bash
# `npm run migration:generate -- <Name>` | `migration:run` | `migration:revert`
set -euo pipefail
LOG_TAG=migration
source "$(dirname "$0")/lib.sh"
[ -f .env ] && { set -a; source .env; set +a; }
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/sightline}
action=${1:?generate, run or revert}
shift || true
ensure_node_modules
ensure_database "$DATABASE_URL"
build
case "$action" in
  run) typeorm_cli migration:run ;;
  revert) typeorm_cli migration:revert ;;
  generate)
    name=${1:?give the migration a name: npm run migration:generate -- AddThing}
    typeorm_cli migration:run >/dev/null
    node node_modules/typeorm/cli.js migration:generate "migrations/$name" -d dist/src/database/data-source.js --pretty
    log "review the new file in migrations/ by hand before committing it"
    ;;
  *) echo "unknown action $action" >&2; exit 64 ;;
esac
