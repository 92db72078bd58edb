# Shared by dev.sh, test.sh and migration.sh: install dependencies when missing, build.
# shellcheck shell=bash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

log() { printf '%s: %s\n' "${LOG_TAG:-sightline}" "$*"; }

ensure_node_modules() {
  # Reinstall when node_modules is missing or was installed from another lock file.
  local want have=""
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  [ -f node_modules/.sightline-lock ] && have=$(cat node_modules/.sightline-lock)
  if [ ! -d node_modules ] || [ "$want" != "$have" ]; then
    log "installing dependencies (npm ci)"
    # Some registries lack the platform builds other machines would use of optional packages;
    # npm ci then calls the lock file out of sync, and npm install (same versions) still works.
    if ! npm ci --no-audit --no-fund --loglevel=error; then
      log "npm ci refused the lock file; installing with npm install"
      npm install --no-audit --no-fund --loglevel=error
    fi
    echo "$want" > node_modules/.sightline-lock
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
