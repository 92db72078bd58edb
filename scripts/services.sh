#!/usr/bin/env bash
# Make sure PostgreSQL (with PostGIS), Redis and an MQTT broker (Mosquitto) are available for Sightline.
#
#   DATABASE_URL  default postgres://postgres@127.0.0.1:5432/sightline
#   REDIS_URL     default redis://127.0.0.1:6379
#   MQTT_URL      default mqtt://127.0.0.1:1883
#
# Idempotent: a server that already answers is used as it is. Otherwise a locally installed
# server is started, and as a last resort (root + apt-get) the packages are installed.
# Each action is reported on one line prefixed "services:"; package manager output goes to a
# log file under /tmp. The script does not create the application database itself.
#
# Without root or apt-get, run the containers instead:
#   SECRET_KEY=dev docker compose -f docker/compose.yml up -d postgis redis mosquitto
set -euo pipefail

DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/sightline}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
MQTT_URL=${MQTT_URL:-mqtt://127.0.0.1:1883}

# Per user, so a root run does not leave files another user cannot append to.
APT_LOG=/tmp/sightline-services-apt.$(id -u).log
SERVICE_LOG=/tmp/sightline-services.$(id -u).log
REDIS_LOG=/tmp/sightline-redis.$(id -u).log
MOSQUITTO_LOG=/tmp/sightline-mosquitto.$(id -u).log
MOSQUITTO_CONF=/tmp/sightline-mosquitto.$(id -u).conf
# Compose interpolates the whole file, so SECRET_KEY must be set even to start only these two.
COMPOSE_HINT="SECRET_KEY=dev docker compose -f docker/compose.yml up -d postgis redis, then set DATABASE_URL=postgres://sightline:sightline@127.0.0.1:5432/sightline and REDIS_URL=redis://127.0.0.1:6379"

say() { printf 'services: %s\n' "$*"; }
die() {
  printf 'services: %s\n' "$*" >&2
  exit 1
}

have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [[ $(id -u) -eq 0 ]]; }
can_apt() { is_root && have apt-get; }

# ---------------------------------------------------------------------------------------------
# URL parsing: scheme://[user[:password]@]host[:port][/path][?query]. IPv6 hosts in brackets.
# Sets <prefix>_SCHEME, _USER, _PASS, _HOST, _PORT, _PATH, _QUERY and _AUTHORITY.
parse_url() {
  local prefix=$1 url=$2 rest userinfo="" hostport
  local scheme="" user="" pass="" host="" port="" path="" query=""

  scheme=${url%%://*}
  rest=${url#*://}
  if [[ $rest == *\?* ]]; then
    query=${rest#*\?}
    rest=${rest%%\?*}
  fi
  if [[ $rest == */* ]]; then
    path=${rest#*/}
    rest=${rest%%/*}
  fi
  printf -v "${prefix}_AUTHORITY" '%s' "$rest"
  hostport=$rest
  if [[ $rest == *@* ]]; then
    userinfo=${rest%@*}
    hostport=${rest##*@}
    user=${userinfo%%:*}
    [[ $userinfo == *:* ]] && pass=${userinfo#*:}
  fi
  if [[ $hostport == \[* ]]; then
    host=${hostport#\[}
    host=${host%%]*}
    port=${hostport#*]}
    port=${port#:}
  else
    host=${hostport%%:*}
    [[ $hostport == *:* ]] && port=${hostport##*:}
  fi

  printf -v "${prefix}_SCHEME" '%s' "$scheme"
  printf -v "${prefix}_USER" '%s' "$user"
  printf -v "${prefix}_PASS" '%s' "$pass"
  printf -v "${prefix}_HOST" '%s' "$host"
  printf -v "${prefix}_PORT" '%s' "$port"
  printf -v "${prefix}_PATH" '%s' "$path"
  printf -v "${prefix}_QUERY" '%s' "$query"
}

is_local_host() {
  case $1 in
    127.0.0.1 | localhost | ::1 | "") return 0 ;;
    *) return 1 ;;
  esac
}

# Bracket IPv6 literals for "host:port" messages.
hostport() {
  if [[ $1 == *:* ]]; then printf '[%s]:%s' "$1" "$2"; else printf '%s:%s' "$1" "$2"; fi
}

# A TCP connect through bash's /dev/tcp, bounded so a black-holed host cannot hang the script.
tcp_open() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
# apt-get, run at most one "update" per invocation, output into $APT_LOG.
APT_UPDATED=0
apt_install() {
  local pkgs=("$@")
  if [[ $APT_UPDATED -eq 0 ]]; then
    say "apt-get update (log: $APT_LOG)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get update >>"$APT_LOG" 2>&1; then
      die "apt-get update failed; see $APT_LOG"
    fi
    APT_UPDATED=1
  fi
  say "installing ${pkgs[*]} with apt-get (log: $APT_LOG)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" \
    >>"$APT_LOG" 2>&1; then
    die "apt-get install ${pkgs[*]} failed; see $APT_LOG"
  fi
}

# =============================================================================================
# PostgreSQL
parse_url PG "$DATABASE_URL"
case $PG_SCHEME in
  postgres | postgresql) ;;
  *) die "DATABASE_URL must start with postgres:// or postgresql:// (got '$PG_SCHEME://...')" ;;
esac
PG_PORT=${PG_PORT:-5432}
# No host in the URL means libpq's Unix socket, which is the local server.
PG_PROBE_HOST=${PG_HOST:-localhost}
PG_WHERE=$(hostport "$PG_PROBE_HOST" "$PG_PORT")
# Same server and credentials, "postgres" database: the application database may not exist yet.
PG_ADMIN_URL="$PG_SCHEME://$PG_AUTHORITY/postgres${PG_QUERY:+?$PG_QUERY}"

pg_ready() {
  if have pg_isready; then
    local args=(-q -t 2 -p "$PG_PORT")
    [[ -n $PG_HOST ]] && args+=(-h "$PG_HOST")
    [[ -n $PG_USER ]] && args+=(-U "$PG_USER")
    pg_isready "${args[@]}" >/dev/null 2>&1
  else
    tcp_open "$PG_PROBE_HOST" "$PG_PORT"
  fi
}

wait_for() { # wait_for <seconds> <command...>
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.25
  done
}

# Highest PostgreSQL major version installed the Debian way (/usr/lib/postgresql/<ver>/bin).
local_pg_version() {
  local dir ver best=""
  for dir in /usr/lib/postgresql/*/bin/postgres; do
    [[ -x $dir ]] || continue
    ver=${dir#/usr/lib/postgresql/}
    ver=${ver%%/*}
    if [[ -z $best ]] || ((${ver%%.*} > ${best%%.*})); then best=$ver; fi
  done
  printf '%s' "$best"
}

local_pg_installed() {
  [[ -n $(local_pg_version) ]] && have pg_ctlcluster && have pg_lsclusters
}

# Start the Debian cluster listening on $PG_PORT, creating "<ver> main" when there is none.
# --skip-systemctl-redirect: work the same with and without systemd (containers, CI).
start_local_pg() {
  local ver name status line
  line=$(pg_lsclusters -h 2>/dev/null | awk -v port="$PG_PORT" '$3 == port { print; exit }')
  if [[ -z $line ]]; then
    if [[ -n $(pg_lsclusters -h 2>/dev/null) ]]; then
      die "local PostgreSQL clusters exist but none on port $PG_PORT (see pg_lsclusters); fix DATABASE_URL, or use $COMPOSE_HINT"
    fi
    ver=$(local_pg_version)
    is_root || die "no PostgreSQL cluster exists and creating one needs root; or use $COMPOSE_HINT"
    say "creating PostgreSQL cluster $ver/main on port $PG_PORT (log: $SERVICE_LOG)"
    if ! pg_createcluster "$ver" main --port "$PG_PORT" >>"$SERVICE_LOG" 2>&1; then
      die "pg_createcluster $ver main failed; see $SERVICE_LOG"
    fi
    name=main
    status=down
  else
    read -r ver name _ status _ <<<"$line"
  fi
  if [[ $status != online* ]]; then
    say "starting PostgreSQL cluster $ver/$name (log: $SERVICE_LOG)"
    if ! pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start >>"$SERVICE_LOG" 2>&1; then
      die "pg_ctlcluster $ver $name start failed (needs root or the cluster owner); see $SERVICE_LOG"
    fi
  fi
  wait_for 30 pg_ready || die "PostgreSQL $ver/$name did not answer at $PG_WHERE within 30 s; see $SERVICE_LOG and /var/log/postgresql/"
  say "PostgreSQL $ver/$name answers at $PG_WHERE"
}

# Local development only, and only on a server this script installed: password-less TCP on
# loopback, so the default DATABASE_URL (user postgres, no password) works.
trust_loopback() {
  local ver=$1 hba="/etc/postgresql/$1/main/pg_hba.conf"
  [[ -f $hba ]] || die "cannot find $hba to allow local connections"
  sed -i -E \
    -e 's|^(host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+)[a-z0-9-]+|\1trust|' \
    -e 's|^(host[[:space:]]+all[[:space:]]+all[[:space:]]+::1/128[[:space:]]+)[a-z0-9-]+|\1trust|' \
    "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main reload >>"$SERVICE_LOG" 2>&1 ||
    die "reloading PostgreSQL $ver/main failed; see $SERVICE_LOG"
  say "set trust authentication for 127.0.0.1 and ::1 in $hba (local development server)"
}

if pg_ready; then
  say "PostgreSQL answers at $PG_WHERE (using it)"
elif ! is_local_host "$PG_HOST"; then
  die "PostgreSQL does not answer at $PG_WHERE (remote host: nothing to start here); check DATABASE_URL"
elif local_pg_installed; then
  start_local_pg
elif can_apt; then
  apt_install postgresql
  ver=$(local_pg_version)
  [[ -n $ver ]] || die "postgresql installed but no server under /usr/lib/postgresql; see $APT_LOG"
  # Debian's postinst usually creates (and, where allowed, starts) <ver>/main; start it if not.
  start_local_pg
  trust_loopback "$ver"
  PG_INSTALLED_PKG=postgresql-${ver%%.*}-postgis-3
  apt_install "$PG_INSTALLED_PKG"
else
  die "PostgreSQL does not answer at $PG_WHERE and is not installed (installing needs root and apt-get); use $COMPOSE_HINT"
fi

# ---------------------------------------------------------------------------------------------
# psql, needed for the PostGIS check (and by the other scripts).
if ! have psql; then
  if can_apt; then
    apt_install postgresql-client
  else
    die "psql is not installed (installing needs root and apt-get: package postgresql-client)"
  fi
fi

# -w: never prompt for a password; the connect timeout keeps a wrong host from hanging.
pg_query() { # pg_query <url> <sql>
  PGCONNECT_TIMEOUT=5 psql "$1" -X -w -Atq -v ON_ERROR_STOP=1 -c "$2" 2>>"$SERVICE_LOG"
}

# The user may not be allowed into the "postgres" database; the application database is the
# second choice.
PG_QUERY_URL=$PG_ADMIN_URL
if ! pg_query "$PG_QUERY_URL" 'select 1' >/dev/null; then
  PG_QUERY_URL=$DATABASE_URL
  pg_query "$PG_QUERY_URL" 'select 1' >/dev/null ||
    die "PostgreSQL answers at $PG_WHERE but psql cannot connect with DATABASE_URL (user, password, database?); see $SERVICE_LOG"
fi

postgis_available() {
  [[ $(pg_query "$PG_QUERY_URL" "select 1 from pg_available_extensions where name='postgis'") == 1 ]]
}

if postgis_available; then
  say "PostGIS extension available"
elif ! is_local_host "$PG_HOST"; then
  die "PostGIS is not available on the PostgreSQL server at $PG_WHERE; install PostGIS 3 there (or use the postgis/postgis image)"
else
  server_num=$(pg_query "$PG_QUERY_URL" 'show server_version_num')
  major=$((server_num / 10000))
  pkg=postgresql-$major-postgis-3
  can_apt || die "PostGIS is not available on the local PostgreSQL $major and installing $pkg needs root and apt-get; or use $COMPOSE_HINT"
  apt_install "$pkg"
  postgis_available || die "installed $pkg but PostgreSQL at $PG_WHERE still lists no postgis extension (is it PostgreSQL $major from /usr/lib/postgresql?); see $APT_LOG"
  say "PostGIS extension available ($pkg installed)"
fi

# =============================================================================================
# Redis
parse_url RD "$REDIS_URL"
case $RD_SCHEME in
  redis | rediss) ;;
  *) die "REDIS_URL must start with redis:// or rediss:// (got '$RD_SCHEME://...')" ;;
esac
RD_HOST=${RD_HOST:-127.0.0.1}
RD_PORT=${RD_PORT:-6379}
RD_WHERE=$(hostport "$RD_HOST" "$RD_PORT")

redis_ready() {
  if have redis-cli; then
    local args=(-u "$REDIS_URL")
    [[ $RD_SCHEME == rediss ]] && args+=(--tls)
    # redis-cli exits 0 on error replies (NOAUTH...), so compare the answer itself.
    [[ $(timeout 3 redis-cli "${args[@]}" ping 2>/dev/null) == PONG ]]
  else
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 2 bash -c '
      exec 3<>"/dev/tcp/$0/$1" || exit 1
      printf "PING\r\n" >&3
      IFS= read -r line <&3 || exit 1
      [[ $line == +PONG* ]]' "$RD_HOST" "$RD_PORT" 2>/dev/null
  fi
}

start_local_redis() {
  local dir=/tmp args bind=(127.0.0.1 -::1) version
  # The packaged home when we may write to it; nothing is saved there anyway (--save "").
  [[ -d /var/lib/redis && -w /var/lib/redis ]] && dir=/var/lib/redis
  # "-::1" binds IPv6 loopback when the machine has it without failing when it does not;
  # the "-" prefix exists since Redis 7.
  version=$(redis-server --version 2>/dev/null | sed -nE 's/.* v=([0-9]+).*/\1/p')
  [[ -n $version && $version -lt 7 ]] && bind=(127.0.0.1)
  args=(--daemonize yes --bind "${bind[@]}" --port "$RD_PORT" --save "" --appendonly no
    --dir "$dir" --logfile "$REDIS_LOG")
  # Keep the URL working when it carries a password for the default user.
  [[ -n $RD_PASS && ( -z $RD_USER || $RD_USER == default ) ]] && args+=(--requirepass "$RD_PASS")
  say "starting redis-server on $RD_WHERE (dir $dir, log: $REDIS_LOG)"
  redis-server "${args[@]}" >>"$SERVICE_LOG" 2>&1 || die "redis-server failed to start; see $SERVICE_LOG and $REDIS_LOG"
  wait_for 15 redis_ready || die "Redis did not answer at $RD_WHERE within 15 s; see $REDIS_LOG"
  say "Redis answers at $RD_WHERE"
}

if redis_ready; then
  say "Redis answers at $RD_WHERE (using it)"
elif ! is_local_host "$RD_HOST"; then
  die "Redis does not answer at $RD_WHERE (remote host: nothing to start here); check REDIS_URL"
elif have redis-server; then
  start_local_redis
elif can_apt; then
  apt_install redis-server
  start_local_redis
else
  die "Redis does not answer at $RD_WHERE and is not installed (installing needs root and apt-get); use $COMPOSE_HINT"
fi

# =============================================================================================
# MQTT broker (Mosquitto): DJI Pilot 2 and docks publish telemetry there; Sightline's consumers subscribe.
parse_url MQ "$MQTT_URL"
case $MQ_SCHEME in
  mqtt) MQ_DEFAULT_PORT=1883 ;;
  mqtts) MQ_DEFAULT_PORT=8883 ;;
  ws) MQ_DEFAULT_PORT=80 ;;
  wss) MQ_DEFAULT_PORT=443 ;;
  *) die "MQTT_URL must start with mqtt://, mqtts://, ws:// or wss:// (got '$MQ_SCHEME://...')" ;;
esac
MQ_HOST=${MQ_HOST:-127.0.0.1}
MQ_PORT=${MQ_PORT:-$MQ_DEFAULT_PORT}
MQ_WHERE=$(hostport "$MQ_HOST" "$MQ_PORT")

# An MQTT 3.1.1 CONNECT answered by a CONNACK (any return code: a broker that wants credentials
# still answers). TLS and WebSocket listeners are only checked for an open port.
mqtt_ready() {
  if [[ $MQ_SCHEME != mqtt ]]; then
    tcp_open "$MQ_HOST" "$MQ_PORT"
    return
  fi
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "\x10\x14\x00\x04MQTT\x04\x02\x00\x3c\x00\x08sl-probe" >&3
    IFS= read -r -d "" -n 1 first <&3 || exit 1
    [[ $first == " " ]]' "$MQ_HOST" "$MQ_PORT" 2>/dev/null
}

mosquitto_bin() {
  if have mosquitto; then
    command -v mosquitto
  elif [[ -x /usr/sbin/mosquitto ]]; then
    printf '/usr/sbin/mosquitto'
  fi
}

# A development broker: loopback only, anonymous clients allowed, nothing persisted. Production
# brokers require credentials (see the README: MQTT broker and its security).
start_local_mosquitto() {
  local bin
  bin=$(mosquitto_bin)
  cat >"$MOSQUITTO_CONF" <<CONF
listener $MQ_PORT 127.0.0.1
allow_anonymous true
persistence false
log_dest file $MOSQUITTO_LOG
user $(id -un)
CONF
  say "starting mosquitto on $MQ_WHERE (config $MOSQUITTO_CONF, log: $MOSQUITTO_LOG)"
  "$bin" -d -c "$MOSQUITTO_CONF" >>"$SERVICE_LOG" 2>&1 || die "mosquitto failed to start; see $SERVICE_LOG and $MOSQUITTO_LOG"
  wait_for 15 mqtt_ready || die "Mosquitto did not answer at $MQ_WHERE within 15 s; see $MOSQUITTO_LOG"
  say "Mosquitto answers at $MQ_WHERE"
}

if mqtt_ready; then
  say "MQTT broker answers at $MQ_WHERE (using it)"
elif ! is_local_host "$MQ_HOST"; then
  die "the MQTT broker does not answer at $MQ_WHERE (remote host: nothing to start here); check MQTT_URL"
elif [[ $MQ_SCHEME != mqtt ]]; then
  die "the MQTT broker does not answer at $MQ_WHERE; this script starts only plain mqtt:// brokers (use MQTT_URL=mqtt://127.0.0.1:1883 for development)"
elif [[ -n $(mosquitto_bin) ]]; then
  start_local_mosquitto
elif can_apt; then
  apt_install mosquitto
  # Debian's postinst may have started its own broker on 1883 already.
  if mqtt_ready; then
    say "Mosquitto answers at $MQ_WHERE (started by the package)"
  else
    start_local_mosquitto
  fi
else
  die "the MQTT broker does not answer at $MQ_WHERE and Mosquitto is not installed (installing needs root and apt-get: package mosquitto); use SECRET_KEY=dev docker compose -f docker/compose.yml up -d mosquitto"
fi
