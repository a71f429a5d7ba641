#!/usr/bin/env bash
# Copy the front-end packages the web pages use into app/static/vendor/ (committed: the
# service and CI never run npm, and the pages load nothing from a CDN).
#   cd frontend && npm ci && npm run build      (or: bash frontend/build.sh)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
[ -d node_modules/leaflet ] || npm ci --no-audit --no-fund
src=node_modules/leaflet
dest=../app/static/vendor/leaflet
rm -rf "$dest"
mkdir -p "$dest/images"
cp "$src/dist/leaflet.js" "$src/dist/leaflet.js.map" "$src/dist/leaflet.css" "$dest/"
cp "$src"/dist/images/*.png "$dest/images/"
cp "$src/LICENSE" "$dest/LICENSE"
version="$(node -p "require('./$src/package.json').version")"
echo "leaflet $version (npm), BSD-2-Clause; copied by frontend/build.sh" >"$dest/VERSION"
echo "vendored leaflet $version into app/static/vendor/leaflet"
