#!/usr/bin/env bash
# Builds the Zig core (libtsd.so, tsd-monitor, tsd-init) and the one executable dist/tsd.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(bun -e 'console.log(require("./package.json").version)')
# Portable CPU floor (README "Portability"): build.zig targets x86-64-v2 (aarch64: its
# baseline) unless told otherwise, and the Bun runtime embedded is the linux-x64 "baseline"
# one (SSE4.2, no AVX2; bun fetches it once from the npm registry into its cache). The Zig
# artifacts are checked instruction by instruction: anything beyond the floor fails the build,
# except in the one function reached only after a CPUID check (zig/unpack/sha256.zig), found by
# its symbol or, in the stripped tsd-monitor, by its section (tsd_dispatched).
case "$(uname -m)" in
  x86_64) bun_target=bun-linux-x64-baseline cpu_level=2 ;;
  aarch64) bun_target=bun-linux-arm64 cpu_level= ;;
  *) bun_target=bun cpu_level= ;;
esac
scripts/zig build -Dversion="$version" -Doptimize=ReleaseSafe
if [ -n "$cpu_level" ]; then
  bun scripts/cpu-level.ts "$cpu_level" --dispatched unpack.sha256.compressShaNi --dispatched tsd_dispatched \
    zig-out/bin/tsd-monitor zig-out/bin/tsd-init zig-out/bin/tsd-runc zig-out/lib/libtsd.so
fi
[ -d node_modules/citty ] && [ -d node_modules/typescript ] || bun install --frozen-lockfile
# Types are checked on every build: a type error fails it like a Zig compile error does.
bunx tsc -p .
mkdir -p dist
# The embedded artifacts' hashes name their copies under <root>/bin (src/native/embedded.ts);
hash() { sha256sum "$1" | cut -c1-16; }
hashes="{\"libtsd.so\":\"$(hash zig-out/lib/libtsd.so)\",\"tsd-monitor\":\"$(hash zig-out/bin/tsd-monitor)\",\"tsd-init\":\"$(hash zig-out/bin/tsd-init)\"}"
scripts/compile.sh "$bun_target" src/main.ts dist/tsd "$hashes"
# The OCI-runtime entry: dist/tsd-runc is the front (zig/front/main.zig), which answers the cheap
# verbs itself and hands the rest to the `tsd` next to it (`tsd runtime …`); `tsd runtime
# install DIR` writes a front bound to a tsd binary's path. A link named tsd-runc to dist/tsd
# still speaks runc's command line (src/main.ts), all in Bun.
rm -f dist/tsd-runc
cp zig-out/bin/tsd-runc dist/.tsd-runc.tmp
mv -f dist/.tsd-runc.tmp dist/tsd-runc
