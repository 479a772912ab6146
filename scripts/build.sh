#!/usr/bin/env bash
# Builds the Zig core (libtsd.so, tsd-monitor) and the one executable dist/tsd.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(bun -e 'console.log(require("./package.json").version)')
scripts/zig build -Dversion="$version" -Doptimize=ReleaseSafe
[ -d node_modules/citty ] && [ -d node_modules/typescript ] || bun install --frozen-lockfile
# Types are checked on every build: a type error fails it like a Zig compile error does.
bunx tsc -p .
mkdir -p dist
bun build --compile --minify --sourcemap=none src/main.ts --outfile dist/tsd
