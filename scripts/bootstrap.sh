#!/usr/bin/env bash
# Installs everything tsd needs to build and test, from nothing, on Debian 12, as root.
# Idempotent and quick when all is there: apt only runs for missing packages, bun and zig
# only install when the pinned version (versions.env, the one place they are pinned) is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
. ./versions.env
export DEBIAN_FRONTEND=noninteractive

say() { printf 'bootstrap: %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  say "must run as root (it installs packages; the tests need root too)"
  exit 1
fi

# Test tools from Debian (images and peers we did not write), kernel tooling, and what the
# bootstrap itself needs (python3-pip for zig, npm for bun, git for CI checkouts). binutils'
# objdump and qemu-user check the CPU floor (scripts/cpu-level.ts, test/e2e/portability);
# qemu-system-x86 and kmod (depmod of Debian's kernel) run the pure cgroup v2 VM lane (test/vm).
# gnuplot-nox draws the benchmark page's plot (bench/plot.sh).
# passt (its pasta) is rootless tsd's default network (src/network/pasta.ts).
# uidmap (newuidmap/newgidmap) and fuse-overlayfs: rootless tsd and its tests (issue 13).
# containerd (its runc v2 shim and ctr) drives tsd as an OCI runtime in CI's OCI lane
# (test/oci/ci.sh), as do docker.io (a private dockerd with --add-runtime) and podman with
# conmon (--runtime); criu is what the runtime's checkpoint/restore drive (Debian 12's 3.17
# cannot dump on kernels 6.13+: test/e2e/runtime-criu.test.ts says so and skips). Go builds
# that lane's tools from source: the machine's own Go (/usr/local/go), else Debian's golang-go.
# buildah and docker.io's dockerd (a private one) build the same Dockerfiles as tsd build in
# test/e2e/build-diff.test.ts, which compares the images.
# bats, gawk, jq and gcc run runc's own bats tests in that lane (test/oci/bats.sh: gawk for
# runc's helpers.bash, gcc for its static test programs). strace: the VM lane checks that the
# init is born in its cgroup (clone3 CLONE_INTO_CGROUP, test/vm/cgroups-v2.test.ts).
packages=(
  busybox-static umoci skopeo crun runc hyperfine docker-registry
  zstd gzip tar iproute2 iptables nftables util-linux bsdutils procps
  python3 ca-certificates curl git coreutils findutils binutils qemu-user
  qemu-system-x86 kmod gnuplot-nox containerd docker.io podman conmon passt criu buildah
  uidmap fuse-overlayfs
  bats gawk jq gcc strace
)
[ -x /usr/local/go/bin/go ] || command -v go >/dev/null 2>&1 || packages+=(golang-go)
# npm and pip only when their commands are missing: a host may carry its own node or Python
# (NodeSource's nodejs ships npm and conflicts with Debian's npm package).
command -v npm >/dev/null 2>&1 || packages+=(npm)
python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  say "apt packages missing: ${missing[*]}"
  # Update the package lists only when they cannot satisfy the install (none yet, or stale).
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    say "apt-get update"
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

# Bun from npm, unless the pinned one is already on PATH.
if [ "$(bun --version 2>/dev/null || true)" != "$BUN_VERSION" ]; then
  say "installing bun@$BUN_VERSION from npm"
  npm install -g --no-fund --no-audit "bun@$BUN_VERSION"
  hash -r
  got=$(bun --version 2>/dev/null || true)
  if [ "$got" != "$BUN_VERSION" ]; then
    say "bun on PATH is '$got' after installing $BUN_VERSION: $(command -v bun || echo none); fix PATH (npm prefix: $(npm prefix -g))"
    exit 1
  fi
fi

# Zig from PyPI's ziglang, unless scripts/zig already finds the pinned one.
zig_version() { bash scripts/zig version 2>/dev/null || true; }
if [ "$(zig_version)" != "$ZIG_VERSION" ]; then
  say "installing ziglang==$ZIG_VERSION from PyPI"
  # Debian 12's Python is "externally managed" (PEP 668); the flag exists since pip 23.0.
  if python3 -m pip install --help 2>/dev/null | grep -q -- --break-system-packages; then
    python3 -m pip install -q --root-user-action=ignore --break-system-packages "ziglang==$ZIG_VERSION"
  else
    python3 -m pip install -q "ziglang==$ZIG_VERSION"
  fi
  got=$(zig_version)
  if [ "$got" != "$ZIG_VERSION" ]; then
    say "scripts/zig reports '$got' after installing ziglang==$ZIG_VERSION"
    exit 1
  fi
fi

# The aarch64 glibc qemu-aarch64 runs dist/tsd-linux-arm64 with (test/e2e/arm64.test.ts);
# without it that test skips, so a failure here is a warning.
bash scripts/arm64-sysroot.sh >/dev/null || say "warning: no aarch64 sysroot; test/e2e/arm64.test.ts will skip"

# The JS dependencies, exactly as locked.
bun install --frozen-lockfile >/dev/null
say "ok: bun $(bun --version), zig $(zig_version), $(umoci --version 2>/dev/null | head -1), $(skopeo --version | head -1)"
