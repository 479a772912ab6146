#!/usr/bin/env bash
# One `bun build --compile` for every binary tsd ships (scripts/build.sh, scripts/release.sh,
# bench/cpu-level.sh): compile.sh TARGET ENTRY OUTFILE [HASHES_JSON]
#
# The flags that matter for a root-run tool:
#   --no-compile-autoload-bunfig, --no-compile-autoload-dotenv: a compiled Bun program reads
#     ./bunfig.toml (and runs its `preload` scripts) and ./.env from whatever directory it is
#     started in. tsd is run as root in build contexts and checkouts other people wrote: the
#     working directory must never run code in it or set its environment.
#     (tsconfig.json and package.json autoloading are off by default.)
#   --bytecode: spares the start-up parse (about 6 ms of every command).
#   --splitting: each command's modules are a chunk of their own (src/cli/commands.ts imports
#     them lazily), loaded only when that command runs; one chunk of all 258 modules cost every
#     command ~3 ms more to start (`tsd --version` 11.2 -> 8.2 ms, rootless `run` 34.2 -> 29.8).
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: compile.sh TARGET ENTRY OUTFILE [HASHES_JSON]" >&2; exit 2; }
target=$1 entry=$2 out=$3 hashes=${4:-}
define=()
[ -n "$hashes" ] && define=(--define "TSD_EMBED_HASHES=$hashes")
exec bun build --compile --splitting --target="$target" --minify --bytecode --format=esm --sourcemap=none \
  --no-compile-autoload-bunfig --no-compile-autoload-dotenv \
  "${define[@]}" "$entry" --outfile "$out"
