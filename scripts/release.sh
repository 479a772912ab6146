#!/usr/bin/env bash
# Release binaries for both Linux architectures tsd runs on, with their SHA-256 sums:
#
#   dist/tsd-linux-amd64   x86-64-v2 floor, Bun's linux-x64 baseline runtime (scripts/build.sh)
#   dist/tsd-linux-arm64   aarch64 baseline (ARMv8.0), Bun's linux-arm64 runtime
#   dist/SHA256SUMS        `sha256sum -c SHA256SUMS` checks them
#
# Each embeds its architecture's OCI-runtime front (zig/front/): `tsd runtime install DIR`
# writes it.
#
# Run by hand (about a minute more than scripts/build.sh, most of it the aarch64 Zig build):
# CI builds dist/tsd only. The arm64 binary is checked under qemu-aarch64 by
# test/e2e/arm64.test.ts, which runs when dist/tsd-linux-arm64 exists.
#
# Both come from an x86_64 host: Zig cross-compiles the core, and `bun build --compile` fetches
# the other platform's runtime from the npm registry once into bun's cache.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(uname -m)" != x86_64 ]; then
  echo "release.sh: builds from an x86_64 host only (found $(uname -m)); scripts/build.sh builds for this one" >&2
  exit 1
fi
version=$(bun -e 'console.log(require("./package.json").version)')
hash() { sha256sum "$1" | cut -c1-16; }
ms() { echo $(($(date +%s%N) / 1000000)); }
took() { printf '%d.%d s' $((($(ms) - $1) / 1000)) $(((($(ms) - $1) % 1000) / 100)); }
# ELF e_machine (bytes 18-19): 183 is EM_AARCH64.
machine() { od -An -tu2 -j18 -N2 "$1" | tr -d ' '; }

# ---- amd64: exactly what scripts/build.sh makes (and checks: CPU floor, types) --------------
start=$(ms)
bash scripts/build.sh
cp dist/tsd dist/tsd-linux-amd64.tmp
mv dist/tsd-linux-amd64.tmp dist/tsd-linux-amd64
echo "release.sh: tsd-linux-amd64 in $(took "$start")"

# ---- arm64 ------------------------------------------------------------------------------------
# The Zig core for aarch64, in a prefix of its own so zig-out/ (what dev runs, the tests and
# dist/tsd embed) stays the host's. libtsd.so links no libc, so the musl target suits Bun's
# glibc runtime dlopening it; tsd-monitor is static either way.
start=$(ms)
arm_out=zig-out/release-arm64
scripts/zig build -Dtarget=aarch64-linux-musl -Doptimize=ReleaseSafe -Dversion="$version" --prefix "$arm_out"
for f in "$arm_out/lib/libtsd.so" "$arm_out/bin/tsd-monitor" "$arm_out/bin/tsd-init" "$arm_out/bin/tsd-runc"; do
  [ "$(machine "$f")" = 183 ] || { echo "release.sh: $f is not an aarch64 ELF (e_machine $(machine "$f"))" >&2; exit 1; }
done

# src/native/embedded.ts imports ../../zig-out/…: compile from a staging copy whose zig-out is
# the aarch64 one (src is small; node_modules is linked, not copied).
stage=$(mktemp -d /tmp/tsd-release.XXXXXX)
trap 'rm -rf "$stage"' EXIT
cp -r src package.json tsconfig.json "$stage/"
ln -s "$PWD/node_modules" "$stage/node_modules"
mkdir -p "$stage/zig-out/lib" "$stage/zig-out/bin"
cp "$arm_out/lib/libtsd.so" "$stage/zig-out/lib/"
cp "$arm_out/bin/tsd-monitor" "$arm_out/bin/tsd-init" "$arm_out/bin/tsd-runc" "$stage/zig-out/bin/"
hashes="{\"libtsd.so\":\"$(hash "$arm_out/lib/libtsd.so")\",\"tsd-monitor\":\"$(hash "$arm_out/bin/tsd-monitor")\",\"tsd-init\":\"$(hash "$arm_out/bin/tsd-init")\"}"
scripts/compile.sh bun-linux-arm64 "$stage/src/main.ts" dist/tsd-linux-arm64 "$hashes"
[ "$(machine dist/tsd-linux-arm64)" = 183 ] || { echo "release.sh: dist/tsd-linux-arm64 is not an aarch64 ELF" >&2; exit 1; }
echo "release.sh: tsd-linux-arm64 in $(took "$start")"

# ---- sums ---------------------------------------------------------------------------------------
(cd dist && sha256sum tsd-linux-amd64 tsd-linux-arm64 >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
cat dist/SHA256SUMS
