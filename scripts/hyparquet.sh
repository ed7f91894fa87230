#!/usr/bin/env bash
# Installs hyparquet (a Parquet reader written in JavaScript, not by us:
# the tests read falcocw's Parquet objects back with it) under .cache/,
# once, from the npm registry, and prints the directory of its node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.cache/hyparquet
version=1.31.5
mkdir -p .cache
exec 9>.cache/hyparquet.lock   # tests of several packages may ask at once
flock 9
if [ ! -f "$dir/node_modules/hyparquet/package.json" ] || ! grep -q "\"version\": \"$version\"" "$dir/node_modules/hyparquet/package.json"; then
  mkdir -p "$dir"
  npm install --silent --no-audit --no-fund --prefix "$dir" "hyparquet@$version" >&2
fi
echo "$(pwd)/$dir/node_modules"
