# Shared by dev.sh, test.sh and migration.sh: install dependencies when missing, build.
# shellcheck shell=bash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

log() { printf '%s: %s\n' "${LOG_TAG:-sightline}" "$*"; }

ensure_node_modules() {
  # Reinstall when node_modules is missing or older than the lock file.
  if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing dependencies (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

build() {
  log "compiling TypeScript"
  npx --no-install tsc -p tsconfig.build.json
}

# psql against the maintenance database of the server DATABASE_URL points to.
admin_url() {
  node -e 'const u=new URL(process.argv[1]); u.pathname="/postgres"; console.log(u.toString())' "$1"
}

db_name() {
  node -e 'console.log(decodeURIComponent(new URL(process.argv[1]).pathname.slice(1)))' "$1"
}

with_db() {
  node -e 'const u=new URL(process.argv[1]); u.pathname="/"+process.argv[2]; console.log(u.toString())' "$1" "$2"
}

ensure_database() {
  local url=$1 name
  name=$(db_name "$url")
  if [ "$(psql "$(admin_url "$url")" -Atc "select 1 from pg_database where datname = '$name'")" != "1" ]; then
    log "creating database $name"
    psql "$(admin_url "$url")" -qc "create database \"$name\"" >/dev/null
  fi
}

typeorm_cli() {
  node node_modules/typeorm/cli.js "$@" -d dist/src/database/data-source.js
}
