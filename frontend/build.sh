#!/usr/bin/env bash
# Copy the front-end packages the web pages use into app/static/vendor/ (committed: the
# service and CI never run npm, and the pages load nothing from a CDN).
#   cd frontend && npm ci && npm run build      (or: bash frontend/build.sh)
# axe-core is for the accessibility tests only (tests/test_e2e_accessibility.py injects it);
# no page includes it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
[ -d node_modules/leaflet ] && [ -d node_modules/axe-core ] || npm ci --no-audit --no-fund

version_of() { node -p "require('./node_modules/$1/package.json').version"; }

src=node_modules/leaflet
dest=../app/static/vendor/leaflet
rm -rf "$dest"
mkdir -p "$dest/images"
cp "$src/dist/leaflet.js" "$src/dist/leaflet.js.map" "$src/dist/leaflet.css" "$dest/"
cp "$src"/dist/images/*.png "$dest/images/"
cp "$src/LICENSE" "$dest/LICENSE"
version="$(version_of leaflet)"
echo "leaflet $version (npm), BSD-2-Clause; copied by frontend/build.sh" >"$dest/VERSION"
echo "vendored leaflet $version into app/static/vendor/leaflet"

src=node_modules/axe-core
dest=../app/static/vendor/axe-core
rm -rf "$dest"
mkdir -p "$dest"
cp "$src/axe.min.js" "$src/LICENSE" "$src/LICENSE-3RD-PARTY.txt" "$dest/"
version="$(version_of axe-core)"
echo "axe-core $version (npm), MPL-2.0 (bundled parts MIT etc.: LICENSE-3RD-PARTY.txt); copied by frontend/build.sh; used by the tests only" >"$dest/VERSION"
echo "vendored axe-core $version into app/static/vendor/axe-core"
