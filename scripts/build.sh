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
# The embedded artifacts' hashes name their copies under <root>/bin (src/native/embedded.ts);
# bytecode spares the start-up parse (about 6 ms of every command).
hash() { sha256sum "$1" | cut -c1-16; }
hashes="{\"libtsd.so\":\"$(hash zig-out/lib/libtsd.so)\",\"tsd-monitor\":\"$(hash zig-out/bin/tsd-monitor)\"}"
bun build --compile --minify --bytecode --format=esm --sourcemap=none \
  --define "TSD_EMBED_HASHES=$hashes" src/main.ts --outfile dist/tsd
