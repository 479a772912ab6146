#!/usr/bin/env bash
# The aarch64 glibc that qemu-aarch64 needs to run dist/tsd-linux-arm64 here (Bun's arm64
# runtime is glibc-dynamic): Debian's libc6:arm64, pinned by version and SHA-256, unpacked
# into a directory given to `qemu-aarch64 -L`. The host's dpkg configuration is not touched
# (no `dpkg --add-architecture`). Idempotent and offline once done; prints the directory.
#
#   bash scripts/arm64-sysroot.sh          -> /var/cache/tsd/sysroot-arm64-<version>
#   bash scripts/arm64-sysroot.sh --check  the directory when it is there, else nothing
#                                          (never downloads: what tests call)
set -euo pipefail

version=2.36-9+deb12u14
sha256=01f4330719fd4f65580e16ea5a0527f372fca750e8f588d26deaf09f2d3b1cf4
dir="${TSD_ARM64_SYSROOT:-/var/cache/tsd/sysroot-arm64-$version}"

if [ -e "$dir/lib/ld-linux-aarch64.so.1" ]; then
  echo "$dir"
  exit 0
fi
[ "${1:-}" = --check ] && exit 0
work=$(mktemp -d /tmp/tsd-sysroot.XXXXXX)
trap 'rm -rf "$work"' EXIT
# apt with a private state and cache (the host's sources, arm64 lists only): the host's own
# lists, cache and dpkg architectures stay as they are.
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
apt_opts=(-o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "APT::Architectures::=arm64"
  -o "APT::Architecture=arm64" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
# Debian keeps only a suite's current glibc: a newer point release replaces it (update the pin).
if ! apt-get "${apt_opts[@]}" update -qq >"$work/apt.log" 2>&1 ||
  ! (cd "$work" && apt-get "${apt_opts[@]}" download "libc6:arm64=$version" >>"$work/apt.log" 2>&1); then
  echo "arm64-sysroot: apt cannot download libc6:arm64=$version ($(tail -1 "$work/apt.log")): update the pin" >&2
  exit 1
fi
mv "$work/libc6_${version}_arm64.deb" "$work/libc6.deb"
got=$(sha256sum "$work/libc6.deb" | cut -d' ' -f1)
if [ "$got" != "$sha256" ]; then
  echo "arm64-sysroot: $url has SHA-256 $got, expected $sha256" >&2
  exit 1
fi
dpkg-deb -x "$work/libc6.deb" "$work/root"
test -e "$work/root/lib/ld-linux-aarch64.so.1"
mkdir -p "$(dirname "$dir")"
rm -rf "$dir.tmp"
mv "$work/root" "$dir.tmp"
mv "$dir.tmp" "$dir"
echo "$dir"
