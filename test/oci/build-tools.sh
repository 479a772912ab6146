#!/usr/bin/env bash
# Builds the OCI test tools from source with the Go toolchain, fetched through Go's module
# client only (GOPROXY; no other download): runtime-tools' validation suite (runtimetest, the
# validation/*.t programs and its busybox rootfs tarball) and crictl.
#   bash test/oci/build-tools.sh [DIR]        (default /var/cache/tsd-oci; TSD_OCI_TOOLS too)
# Cached: a stamp per tool names the pinned version, so a second run is instant.
# Go: /usr/local/go/bin/go, else `go` on PATH (Debian 12's golang-go 1.19 builds runtime-tools;
# crictl 1.37 needs Go >= 1.24 and is skipped, with a message, by an older Go).
set -euo pipefail
# runtime-tools master of 2025-03-03 (260e151): the last with `go 1.19` (Debian 12's golang-go)
# and runtime-spec v1.1.0. Later commits write ociVersion "1.3.0" into every bundle, which
# Debian 12's crun 1.8.1 refuses outright ("unknown version specified"), and need Go 1.21; the
# validation programs changed only cosmetically since (plus a time-namespace check).
RUNTIME_TOOLS_VERSION=v0.9.1-0.20250303011046-260e151b8552
CRICTL_VERSION=v1.37.0
out=${1:-${TSD_OCI_TOOLS:-/var/cache/tsd-oci}}
say() { printf 'build-tools: %s\n' "$*" >&2; }

GO=/usr/local/go/bin/go
[ -x "$GO" ] || GO=$(command -v go || true)
[ -n "$GO" ] || { say "no Go toolchain: install golang-go (apt) or put go on PATH"; exit 1; }
export GOFLAGS=-buildvcs=false CGO_ENABLED=0
mkdir -p "$out"

go_minor() { "$GO" env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/'; }

build_runtime_tools() {
  local stamp="$out/runtime-tools/.stamp" rt="$out/runtime-tools"
  [ "$(cat "$stamp" 2>/dev/null)" = "$RUNTIME_TOOLS_VERSION $("$GO" env GOVERSION)" ] && return 0
  say "runtime-tools $RUNTIME_TOOLS_VERSION with $("$GO" env GOVERSION)"
  local src
  src=$(cd /tmp && GOFLAGS=-mod=mod "$GO" mod download -json \
    "github.com/opencontainers/runtime-tools@$RUNTIME_TOOLS_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -d "$src" ] || { say "go mod download gave no source dir"; exit 1; }
  rm -rf "$rt" && mkdir -p "$rt/validation"
  # Module zips carry no vendor/: the dependencies come through the module proxy too (go.sum
  # pins them). The source dir in the module cache is read-only; outputs go to $rt.
  (cd "$src" && "$GO" build -mod=mod -tags "netgo osusergo" -ldflags "-extldflags -static" \
     -o "$rt/runtimetest" ./cmd/runtimetest)
  local t
  for t in $(cd "$src/validation" && ls -d */ | tr -d / | grep -v '^util$'); do
    (cd "$src" && "$GO" build -mod=mod -o "$rt/validation/$t.t" "./validation/$t")
  done
  cp "$src/rootfs-amd64.tar.gz" "$rt/"
  echo "$RUNTIME_TOOLS_VERSION $("$GO" env GOVERSION)" > "$stamp"
}

build_crictl() {
  # `go install` sets no version into crictl (it says "unknown"): a stamp names it.
  [ -x "$out/bin/crictl" ] && [ "$(cat "$out/bin/.crictl-stamp" 2>/dev/null)" = "$CRICTL_VERSION" ] && return 0
  if [ "$(go_minor)" -lt 24 ]; then
    say "crictl $CRICTL_VERSION needs Go >= 1.24 (have $("$GO" env GOVERSION)): skipped"
    return 0
  fi
  say "crictl $CRICTL_VERSION"
  (cd /tmp && GOBIN="$out/bin" GOFLAGS=-mod=mod "$GO" install "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION")
  echo "$CRICTL_VERSION" > "$out/bin/.crictl-stamp"
}

build_runtime_tools
build_crictl
echo "$out"
