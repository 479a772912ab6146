#!/usr/bin/env bash
# Builds the Zig core (libtsd.so, tsd-monitor) and the one executable dist/tsd.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(bun -e 'console.log(require("./package.json").version)')
scripts/zig build -Dversion="$version" -Doptimize=ReleaseSafe
[ -d node_modules/citty ] || bun install --frozen-lockfile
mkdir -p dist
bun build --compile --minify --sourcemap=none src/main.ts --outfile dist/tsd
