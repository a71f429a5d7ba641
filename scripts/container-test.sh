#!/usr/bin/env bash
# Builds the service image (Dockerfile) with podman and tests it against the local PostGIS:
# /readyz, an upload, a check, a WMS GetMap, a PDF report, the health check and the user it
# runs as; then a raster file is removed to see /readyz and a check answer 503. Used by
# `make container-test` and .ci/run. Needs root (podman and debootstrap; installed from
# Debian when missing).
#
# No registry is reachable here, so python:3.11-slim-bookworm is a local stand-in: a
# `debootstrap --variant=minbase bookworm` root file system imported into podman, with
# Debian's Python 3.11 (scripts/container/python-standin.Containerfile). Both are kept
# between runs in a project-local podman storage (.local/containers), keyed by a hash of
# what makes them; the rest (image, container, volume, database) is removed at the end.
# The container uses the host's network, listening on 127.0.0.1:$AREALSJEKK_CONTAINER_PORT
# only, and reaches PostgreSQL through its Unix socket, bind-mounted.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ "$(id -u)" -ne 0 ]; then
  exec sudo --preserve-env=AREALSJEKK_CONTAINER_PORT,AREALSJEKK_CONTAINER_DB bash "$0" "$@"
fi

PORT="${AREALSJEKK_CONTAINER_PORT:-8110}"
TEST_DB="${AREALSJEKK_CONTAINER_DB:-arealsjekk_test_container}"
DEBIAN_MIRROR="http://deb.debian.org/debian"
LOCAL_DIR="$ROOT/.local"
BASE_DIR="$LOCAL_DIR/container-base"
# Project-local podman storage: nothing here touches the machine's own images and containers.
GRAPHROOT="$LOCAL_DIR/containers/storage"
RUNROOT="/run/containers/arealsjekk-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
export CONTAINERS_CONF="$ROOT/scripts/container/containers.conf"
NAME="arealsjekk-container-test-$$"
IMAGE="localhost/arealsjekk:container-test-$$"
VOLUME="$NAME-rasters"
PYTHON_IMAGE="docker.io/library/python:3.11-slim-bookworm"
URL="http://127.0.0.1:$PORT"
PGSOCK="$LOCAL_DIR/pgsock"
STARTED_CLUSTER=0
CREATED_DB=0
WORK="$(mktemp -d)"
SECONDS=0

log() { printf '\033[1m[container-test]\033[0m %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

pm() {
  podman --root "$GRAPHROOT" --runroot "$RUNROOT" --tmpdir "$RUNROOT/libpod" \
    --volumepath "$GRAPHROOT/volumes" --storage-driver overlay "$@"
}

cleanup() {
  local status=$?
  set +e
  local container
  for container in "$NAME" "$NAME-worker"; do
    pm container exists "$container" 2>/dev/null || continue
    if [ "$status" -ne 0 ]; then
      log "log of $container (tail):"
      pm logs --tail 40 "$container" >&2
    fi
    pm rm -f -t 5 "$container" >/dev/null
  done
  pm volume rm -f "$VOLUME" >/dev/null 2>&1
  pm rmi -f "$IMAGE" >/dev/null 2>&1
  # The build stage's image and any other untagged layers of this build.
  pm image prune -f >/dev/null 2>&1
  if [ "$CREATED_DB" = 1 ]; then bash scripts/dev.sh drop-db "$TEST_DB"; fi
  if [ "$STARTED_CLUSTER" = 1 ]; then bash scripts/dev.sh stop; fi
  rm -rf "$WORK"
  log "removed the container, image, volume and database ($SECONDS s in all)"
  exit "$status"
}
trap cleanup EXIT

ensure_tools() {
  local missing=()
  command -v podman >/dev/null 2>&1 || missing+=(podman)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

debian_base() {
  # The minimal Debian root file system, imported once per recipe (tarball kept in .local).
  local recipe hash tag tarball rootfs
  recipe="debootstrap --variant=minbase bookworm $DEBIAN_MIRROR"
  hash="$(printf '%s' "$recipe" | sha256sum | cut -c1-16)"
  tag="localhost/arealsjekk-debian-base:$hash"
  tarball="$BASE_DIR/bookworm-minbase-$hash.tar"
  if ! pm image exists "$tag"; then
    if [ ! -s "$tarball" ]; then
      log "building the Debian base with $recipe"
      mkdir -p "$BASE_DIR"
      find "$BASE_DIR" -maxdepth 1 -name 'bookworm-minbase-*.tar' ! -name "${tarball##*/}" -delete
      rootfs="$BASE_DIR/rootfs-$$"
      debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
        { cat "$WORK/debootstrap.log" >&2; rm -rf "$rootfs"; fail "debootstrap"; }
      rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"*
      tar -C "$rootfs" --numeric-owner -cf "$tarball.partial" .
      mv "$tarball.partial" "$tarball"
      rm -rf "$rootfs"
    fi
    log "importing the Debian base ($tag)"
    pm import --quiet "$tarball" "$tag" >/dev/null
  fi
  echo "$tag"
}

python_base() {
  # The stand-in for python:3.11-slim-bookworm, rebuilt when its recipe, the Debian base or
  # the host's CA bundle change.
  local debian="$1" hash tag context
  hash="$(cat scripts/container/python-standin.Containerfile /etc/ssl/certs/ca-certificates.crt |
    { cat; printf '%s' "$debian"; } | sha256sum | cut -c1-16)"
  tag="localhost/arealsjekk-python-standin:$hash"
  if ! pm image exists "$tag"; then
    log "building the python:3.11-slim-bookworm stand-in ($tag)"
    context="$WORK/python-standin"
    mkdir -p "$context"
    cp scripts/container/python-standin.Containerfile "$context/Containerfile"
    cp /etc/ssl/certs/ca-certificates.crt "$context/host-ca-certificates.crt"
    pm build --quiet --layers=false --network host --pull=never --build-arg "BASE=$debian" -t "$tag" "$context" \
      >/dev/null
  fi
  pm tag "$tag" "$PYTHON_IMAGE"
  # Stand-ins of older recipes are not needed any more.
  local old
  for old in $(pm images --format '{{.Repository}}:{{.Tag}}' |
    grep -E '^localhost/arealsjekk-(python-standin|debian-base):'); do
    [ "$old" = "$tag" ] || [ "$old" = "$debian" ] || pm rmi "$old" >/dev/null || true
  done
}

request() {
  # curl that prints the HTTP status and writes the body to $WORK/body.
  curl -sS -o "$WORK/body" -w '%{http_code}' "$@"
}

expect() {
  # expect STATUS DESCRIPTION curl-args...: fail unless the answer has that status.
  local want="$1" what="$2" got
  shift 2
  got="$(request "$@")" || fail "$what: no answer"
  [ "$got" = "$want" ] || { head -c 2000 "$WORK/body" >&2; echo >&2; fail "$what: HTTP $got, expected $want"; }
  log "ok: $what (HTTP $got)"
}

json() {
  # json EXPR: evaluate a Python expression over the last body parsed as `d`.
  python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($1)" "$WORK/body"
}

wait_ready() {
  local deadline=$((SECONDS + 180)) code
  while [ "$SECONDS" -lt "$deadline" ]; do
    pm container exists "$NAME" && [ "$(pm inspect -f '{{.State.Running}}' "$NAME")" = true ] ||
      fail "the container stopped"
    code="$(request "$URL/readyz" 2>/dev/null || true)"
    [ "$code" = 200 ] && return 0
    sleep 1
  done
  fail "/readyz not ready after 180 s"
}

ensure_tools
if [ ! -S "$PGSOCK/.s.PGSQL.${AREALSJEKK_PGPORT:-5432}" ]; then STARTED_CLUSTER=1; fi
# The URL is the last line (installing PostgreSQL on a fresh machine writes to stdout too).
DATABASE_URL="$(bash scripts/dev.sh fresh-db "$TEST_DB" | tail -1)"
CREATED_DB=1
mkdir -p "$GRAPHROOT" "$RUNROOT"

started=$SECONDS
DEBIAN_IMAGE="$(debian_base)"
python_base "$DEBIAN_IMAGE"
log "base images ready ($((SECONDS - started)) s)"

started=$SECONDS
log "building the image from the Dockerfile"
# Docker format keeps the HEALTHCHECK (the OCI image format has no field for it).
pm build --format docker --network host --pull=never -t "$IMAGE" . >"$WORK/build.log" 2>&1 ||
  { tail -60 "$WORK/build.log" >&2; fail "podman build"; }
BUILD_SECONDS=$((SECONDS - started))
SIZE="$(pm image inspect -f '{{.Size}}' "$IMAGE")"
log "built in $BUILD_SECONDS s, image size $((SIZE / 1000000)) MB"

# The image's user, not root; the socket directory at the same path, so the URL is the host's.
# No systemd here to time the HEALTHCHECK (podman's timers need it): its command is run
# once by hand below instead.
pm run -d --name "$NAME" --network host --no-healthcheck \
  -v "$PGSOCK:$PGSOCK" -v "$VOLUME:/var/lib/arealsjekk/rasters" \
  -e AREALSJEKK_DATABASE_URL="$DATABASE_URL" -e AREALSJEKK_HOST=127.0.0.1 \
  -e AREALSJEKK_PORT="$PORT" -e AREALSJEKK_BASEMAP_URL=offline \
  -e AREALSJEKK_SYNC_CHECK_MAX_FEATURES=1 "$IMAGE" >/dev/null
wait_ready
log "ok: /readyz ready after setup"

[ "$(pm exec "$NAME" id -u)" = 10001 ] || fail "the container does not run as uid 10001"
log "ok: runs as uid 10001 in $(pm exec "$NAME" pwd)"

log "loading the demo layers inside the container (rasters into the volume)"
pm exec "$NAME" arealsjekk demo-data >"$WORK/demo.log" 2>&1 ||
  { tail -30 "$WORK/demo.log" >&2; fail "arealsjekk demo-data"; }
KEY="$(pm exec "$NAME" arealsjekk keys create --name "container test" --role admin | tail -1)"
AUTH="Authorization: Bearer $KEY"
expect 200 "/readyz with the demo layers" "$URL/readyz"
# The worker: same image, same database and volume, `arealsjekk worker` (Dockerfile comment).
pm run -d --name "$NAME-worker" --network host --no-healthcheck \
  -v "$PGSOCK:$PGSOCK" -v "$VOLUME:/var/lib/arealsjekk/rasters" \
  -e AREALSJEKK_DATABASE_URL="$DATABASE_URL" "$IMAGE" arealsjekk worker >/dev/null

expect 201 "upload samples/hemsedal-kpa-2026.geojson" -X POST -H "$AUTH" \
  -H 'Content-Type: application/geo+json' --data-binary @samples/hemsedal-kpa-2026.geojson \
  "$URL/api/v1/proposals?filename=hemsedal-kpa-2026.geojson"
VERSION_PATH="$(json 'd["links"][0]["href"]')"
# Queued (the API runs with AREALSJEKK_SYNC_CHECK_MAX_FEATURES=1), so the worker runs it.
expect 202 "check of $VERSION_PATH, queued" -X POST -H "$AUTH" "$URL$VERSION_PATH/checks"
CHECK="$(json 'd["id"]')"
deadline=$((SECONDS + 120))
while request -H "$AUTH" "$URL/api/v1/checks/$CHECK" >/dev/null &&
  [ "$(json 'd["status"]')" != done ]; do
  [ "$(json 'd["status"]')" != failed ] || fail "check $CHECK failed: $(json 'd["error"]')"
  [ "$SECONDS" -lt "$deadline" ] || fail "the worker did not finish check $CHECK in 120 s"
  sleep 1
done
log "ok: the worker container ran check $CHECK"
log "   check $CHECK: $(json 'd["summary"]')"

expect 200 "WMS GetMap of elevation, proposals and findings" "$URL/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=elevation,proposals,findings&STYLES=&CRS=EPSG:25832&BBOX=460000,6700000,520000,6760000&WIDTH=512&HEIGHT=512&FORMAT=image/png"
[ "$(head -c 8 "$WORK/body" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "GetMap is not a PNG"

expect 200 "PDF report of check $CHECK" -H "$AUTH" "$URL/api/v1/checks/$CHECK/report.pdf"
[ "$(head -c 5 "$WORK/body")" = "%PDF-" ] || fail "the report is not a PDF"
log "   report: $(wc -c <"$WORK/body") bytes"
if pm logs "$NAME" 2>&1 | grep -i "fontconfig error"; then fail "fontconfig has no writable cache"; fi

HEALTH="$(pm image inspect -f '{{range $i, $a := .Config.Healthcheck.Test}}{{if $i}}{{$a}}{{end}}{{end}}' "$IMAGE")"
[ -n "$HEALTH" ] || fail "the image has no HEALTHCHECK"
pm exec "$NAME" sh -c "$HEALTH" || fail "the image's HEALTHCHECK fails: $HEALTH"
log "ok: HEALTHCHECK passes"

# A lost raster file: readiness and checks name the layer (503), not a 500.
pm exec "$NAME" sh -c 'rm /var/lib/arealsjekk/rasters/elevation-*.tif'
expect 503 "/readyz without the elevation raster" "$URL/readyz"
grep -q elevation "$WORK/body" || fail "/readyz does not name the elevation layer"
log "   rasters: $(json 'd["checks"]["rasters"]')"
expect 503 "quick check without the elevation raster" -X POST -H "$AUTH" \
  -H 'Content-Type: application/geo+json' --data-binary @samples/hemsedal-kpa-2026.geojson \
  "$URL/api/v1/check"
grep -q 'kartlaget elevation' "$WORK/body" || fail "the check's problem does not name the elevation layer"
log "   $(json 'd["detail"]')"
expect 503 "WMS GetMap of elevation without its raster" "$URL/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=elevation&STYLES=&CRS=EPSG:25832&BBOX=460000,6700000,520000,6760000&WIDTH=64&HEIGHT=64&FORMAT=image/png"
grep -q ServiceUnavailable "$WORK/body" || fail "GetMap did not answer a ServiceException"

log "PASSED: build ${BUILD_SECONDS} s, image $((SIZE / 1000000)) MB, ${SECONDS} s so far"
