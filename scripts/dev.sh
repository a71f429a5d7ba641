#!/usr/bin/env bash
# Set-up for a fresh machine, used by `make run` and `make test` (see README).
# Idempotent: every step checks what is already there before doing anything.
#   run   - venv + deps, PostGIS, local cluster, migrations, municipalities, serve on :8000
#   test  - the same set-up against a fresh test database, then the whole pytest suite
#   start - start the project-local PostgreSQL cluster (and install what it needs)
#   stop  - stop the project-local PostgreSQL cluster
#   bench - benchmarks and reliability suite (adds MapServer and the bench extra); args go to
#           bench/run.py, or `bench reliability [args]` runs bench/reliability.py
#           (`bench scale [args]`: bench/scale.py, worker and API-process scaling)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PG_MAJOR="${PG_MAJOR:-15}"
PG_BIN="/usr/lib/postgresql/${PG_MAJOR}/bin"
LOCAL_DIR="$ROOT/.local"
PGDATA="$LOCAL_DIR/pgdata"
PGSOCK="$LOCAL_DIR/pgsock"
PGLOG="$LOCAL_DIR/postgresql.log"
PGPORT="${AREALSJEKK_PGPORT:-5432}"
DB_ROLE="arealsjekk"
VENV="$ROOT/.venv"
STARTED_CLUSTER=0
HOST="${AREALSJEKK_HOST:-127.0.0.1}"
PORT="${AREALSJEKK_PORT:-8000}"

log() { printf '\033[1m[arealsjekk]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_system_packages() {
  local missing=()
  [ -x "$PG_BIN/initdb" ] || missing+=("postgresql-${PG_MAJOR}")
  [ -f "/usr/share/postgresql/${PG_MAJOR}/extension/postgis.control" ] || missing+=("postgresql-${PG_MAJOR}-postgis-3")
  # WeasyPrint (PDF reports) renders text with Pango.
  # grep reads to the end (no -q): under pipefail, ldconfig killed by SIGPIPE would count
  # as "not installed" and run apt-get on every call.
  ldconfig -p 2>/dev/null | grep "libpangoft2-1.0.so.0" >/dev/null ||
    missing+=("libpango-1.0-0" "libpangoft2-1.0-0")
  local option
  for option in "$@"; do
    # The browser tests drive Debian's Chromium (a test tool's own browser download fails here).
    if [ "$option" = "with-browser" ] && ! command -v chromium >/dev/null 2>&1; then
      missing+=("chromium")
    fi
    # The GIS-client tests drive QGIS 3.22 (PyQGIS under Debian's Python) and GDAL's tools.
    if [ "$option" = "with-gis-clients" ]; then
      /usr/bin/python3 -c "import qgis.core" 2>/dev/null || missing+=("python3-qgis")
      command -v ogrinfo >/dev/null 2>&1 || missing+=("gdal-bin")
    fi
    # The WMS benchmark compares with MapServer (CGI and mapscript under Debian's Python).
    if [ "$option" = "with-mapserver" ]; then
      [ -x /usr/bin/mapserv ] || missing+=("mapserver-bin")
      /usr/bin/python3 -c "import mapscript" 2>/dev/null || missing+=("python3-mapscript")
    fi
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

python_311() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
      echo "$candidate"; return 0
    fi
  done
  log "Python 3.11 is required (python3.11 or python3 must be 3.11)"; exit 1
}

# The lock file for a set of extras: the image installs requirements.lock, `make run`/`make test`
# requirements-test.lock, `make bench` requirements-dev.lock (pins from `scripts/dev.sh lock`).
lock_file() {
  case "$1" in
    "") echo requirements.lock ;;
    test) echo requirements-test.lock ;;
    *) echo requirements-dev.lock ;;
  esac
}

ensure_venv() {
  # Installs the pinned versions of the lock file, then the project itself without
  # dependencies. The stamp holds the hash of the lock and pyproject.toml, so that `test`
  # after `bench` (whose lock includes test's) installs nothing.
  local extras="${1:-test}" stamp="$VENV/.installed" lock hash have_hash="" have_lock=""
  lock="$(lock_file "$extras")"
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtual environment in .venv"
    "$(python_311)" -m venv "$VENV"
  fi
  [ -f "$stamp" ] && read -r have_hash have_lock < "$stamp" || true
  if [ "$have_lock" = requirements-dev.lock ] && [ "$lock" != requirements.lock ]; then
    lock=requirements-dev.lock  # keep what is installed already
  fi
  hash="$(cat "$lock" pyproject.toml | sha256sum | cut -d' ' -f1)"
  if [ "$have_hash" != "$hash" ] || [ "$have_lock" != "$lock" ]; then
    log "installing Python dependencies from $lock"
    mkdir -p "$LOCAL_DIR"
    if ! { "$VENV/bin/pip" install --upgrade pip &&
           "$VENV/bin/pip" install -r "$lock" &&
           "$VENV/bin/pip" install --no-deps -e . ; } >"$LOCAL_DIR/pip.log" 2>&1; then
      cat "$LOCAL_DIR/pip.log" >&2; log "pip install failed (log above, also in .local/pip.log)"; exit 1
    fi
    echo "$hash $lock" > "$stamp"
  fi
}

cmd_lock() {
  # Writes the three lock files from pyproject.toml with uv. Versions already locked are kept
  # (uv prefers the pins of its output file); `lock --upgrade` takes the newest allowed.
  ensure_venv test
  "$VENV/bin/pip" install -q "uv>=0.5,<1"
  local extras lock args
  for extras in "" test test,bench; do
    lock="$(lock_file "$extras")"
    args=()
    [ -z "$extras" ] || for extra in ${extras//,/ }; do args+=(--extra "$extra"); done
    log "locking $lock"
    "$VENV/bin/uv" pip compile pyproject.toml "${args[@]}" "$@" --python-version 3.11 \
      --python-platform x86_64-manylinux_2_31 --annotation-style line --quiet -o "$lock" \
      --custom-compile-command "scripts/dev.sh lock"
  done
}

# PostgreSQL refuses to run as root: when we are root the cluster belongs to the
# `postgres` system user (created by the Debian package), otherwise to us.
pg_user() {
  if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

grant_traverse_to_pg_user() {
  # The cluster lives inside the project, so its user must be able to reach it.
  [ "$(id -u)" -eq 0 ] || return 0
  local dir="$LOCAL_DIR"
  while [ "$dir" != "/" ]; do
    dir="$(dirname "$dir")"
    if ! runuser -u postgres -- test -x "$dir"; then
      log "allowing user postgres to traverse $dir (chmod o+x)"
      chmod o+x "$dir"
    fi
  done
}

ensure_cluster() {
  mkdir -p "$LOCAL_DIR"
  grant_traverse_to_pg_user
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    log "creating project-local PostgreSQL cluster in .local/pgdata"
    mkdir -p "$PGDATA" "$PGSOCK"
    if [ "$(id -u)" -eq 0 ]; then chown "$(pg_user)" "$PGDATA" "$PGSOCK"; fi
    as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  mkdir -p "$PGSOCK"
  touch "$PGLOG"
  if [ "$(id -u)" -eq 0 ]; then chown "$(pg_user)" "$PGSOCK" "$PGLOG"; fi
  if ! as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    log "starting PostgreSQL (socket in .local/pgsock, no TCP listener)"
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PGLOG" -w -t 60 \
      -o "-c listen_addresses='' -k $PGSOCK -p $PGPORT" start >/dev/null
    STARTED_CLUSTER=1
  fi
}

psql_admin() {
  PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -h "$PGSOCK" -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"
}

ensure_database() {
  local db="$1"
  if [ "$(psql_admin -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_ROLE'")" != "1" ]; then
    psql_admin -d postgres -c "CREATE ROLE $DB_ROLE LOGIN"
  fi
  if [ "$(psql_admin -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]; then
    log "creating database $db"
    psql_admin -d postgres -c "CREATE DATABASE $db OWNER $DB_ROLE"
  fi
  # PostGIS is not a trusted extension, so the superuser installs it once.
  psql_admin -d "$db" -c "CREATE EXTENSION IF NOT EXISTS postgis"
}

drop_database() {
  psql_admin -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)"
}

database_url() {
  echo "postgresql+psycopg://$DB_ROLE@/$1?host=$PGSOCK&port=$PGPORT"
}

cmd_run() {
  ensure_system_packages
  ensure_venv
  ensure_cluster
  ensure_database arealsjekk
  export AREALSJEKK_DATABASE_URL="${AREALSJEKK_DATABASE_URL:-$(database_url arealsjekk)}"
  export AREALSJEKK_RASTER_DIR="${AREALSJEKK_RASTER_DIR:-$LOCAL_DIR/rasters}"
  # The demo draws its own base map (WMS layer basemap); set a tile URL to use Kartverket's.
  export AREALSJEKK_BASEMAP_URL="${AREALSJEKK_BASEMAP_URL:-offline}"
  "$VENV/bin/arealsjekk" migrate
  "$VENV/bin/arealsjekk" load-municipalities
  "$VENV/bin/arealsjekk" demo-data --skip-if-real
  # The land account of every municipality that has none yet (later ones follow new layer
  # versions: the worker's maintenance job recomputes them).
  "$VENV/bin/arealsjekk" land-account --if-missing
  "$VENV/bin/arealsjekk" keys demo --file "$LOCAL_DIR/demo-keys.txt"
  # One worker runs the queued jobs (checks of large plans, webhook rounds, re-checks); it
  # stops with the service.
  "$VENV/bin/arealsjekk" worker &
  WORKER_PID=$!  # global: the EXIT trap runs after this function has returned
  trap 'kill -TERM "$WORKER_PID" 2>/dev/null; wait "$WORKER_PID" 2>/dev/null' EXIT
  log "serving on http://$HOST:$PORT with one job worker (Ctrl-C stops both; 'make stop' stops PostgreSQL)"
  "$VENV/bin/arealsjekk" serve --host "$HOST" --port "$PORT"
}

cmd_test() {
  ensure_system_packages with-browser with-gis-clients
  ensure_venv
  ensure_cluster
  # Leave PostgreSQL as we found it: a cluster this run started is stopped at the end.
  if [ "$STARTED_CLUSTER" = 1 ]; then trap cmd_stop EXIT; fi
  # AREALSJEKK_TEST_DB lets parallel runs on one machine use separate databases.
  local test_db="${AREALSJEKK_TEST_DB:-arealsjekk_test}"
  drop_database "$test_db"
  ensure_database "$test_db"
  export AREALSJEKK_DATABASE_URL="$(database_url "$test_db")"
  export AREALSJEKK_RASTER_DIR="$LOCAL_DIR/rasters-$test_db"
  rm -rf "$AREALSJEKK_RASTER_DIR"
  export AREALSJEKK_BASEMAP_URL=offline  # tests never fetch Kartverket's tiles
  if [ "${AREALSJEKK_SKIP_LINT:-0}" != 1 ]; then
    log "lint: ruff check and ruff format --check"
    "$VENV/bin/ruff" check --quiet app spatial layers migrations tests bench
    "$VENV/bin/ruff" format --check --quiet app spatial layers migrations tests bench
  fi
  "$VENV/bin/python" -m pytest "$@"
}

cmd_unit() {
  # Pure geometry, parsing and structure tests: no PostgreSQL, no browser.
  ensure_venv test
  "$VENV/bin/python" -m pytest tests/unit "$@"
}

cmd_bench() {
  ensure_system_packages with-mapserver
  ensure_venv test,bench
  ensure_cluster
  if [ "$STARTED_CLUSTER" = 1 ]; then trap cmd_stop EXIT; fi
  if [ "${1:-}" = "reliability" ]; then
    shift
    "$VENV/bin/python" bench/reliability.py "$@"
  elif [ "${1:-}" = "scale" ]; then
    shift
    "$VENV/bin/python" bench/scale.py "$@"
  else
    "$VENV/bin/python" bench/run.py "$@"
  fi
}

cmd_stop() {
  if [ -f "$PGDATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null
    log "PostgreSQL stopped"
  fi
}

case "${1:-}" in
  run) shift; cmd_run "$@" ;;
  test) shift; cmd_test "$@" ;;
  stop) shift; cmd_stop ;;
  unit) shift; cmd_unit "$@" ;;
  bench) shift; cmd_bench "$@" ;;
  start) shift; ensure_system_packages; ensure_cluster ;;
  lock) shift; cmd_lock "$@" ;;
  # For scripts/container-test.sh: a new empty database (its URL on stdout), and its removal.
  fresh-db) shift; ensure_system_packages; ensure_cluster; drop_database "$1"; ensure_database "$1"; database_url "$1" ;;
  drop-db) shift; drop_database "$1" ;;
  *) echo "usage: scripts/dev.sh run|test|unit|start|stop|bench|lock|fresh-db|drop-db [pytest or bench args]" >&2; exit 2 ;;
esac
