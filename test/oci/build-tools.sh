#!/usr/bin/env bash
# Builds the OCI test tools from source with the Go toolchain, fetched through Go's module
# client only (GOPROXY; no other download): runtime-tools' validation suite (runtimetest, the
# validation/*.t programs and its busybox rootfs tarball) and crictl.
#   bash test/oci/build-tools.sh [DIR]        (default /var/cache/tsd-oci; TSD_OCI_TOOLS too)
# Cached: a stamp per tool names the pinned version, so a second run is instant.
# Go: $GO, else /usr/local/go/bin/go, else `go` on PATH. Debian 12's golang-go (1.19) builds
# runtime-tools; crictl v1.37.0 needs Go 1.26.6, so an older Go fetches Go's own toolchain
# module (golang.org/toolchain, what GOTOOLCHAIN would use) through the module proxy for it.
set -euo pipefail
# runtime-tools master of 2025-03-03 (260e151): the last with `go 1.19` (Debian 12's golang-go)
# and runtime-spec v1.1.0. Later commits write ociVersion "1.3.0" into every bundle, which
# Debian 12's crun 1.8.1 refuses outright ("unknown version specified"), and need Go 1.21; the
# validation programs changed only cosmetically since (plus a time-namespace check).
RUNTIME_TOOLS_VERSION=v0.9.1-0.20250303011046-260e151b8552
CRICTL_VERSION=v1.37.0
CRICTL_GO=1.26.6          # crictl v1.37.0's go.mod
TOOLCHAIN_GO=1.26.8       # the toolchain module fetched when the local Go is older
out=${1:-${TSD_OCI_TOOLS:-/var/cache/tsd-oci}}
say() { printf 'build-tools: %s\n' "$*" >&2; }

GO=${GO:-/usr/local/go/bin/go}
[ -x "$GO" ] || GO=$(command -v go || true)
[ -n "$GO" ] || { say "no Go toolchain: install golang-go (apt) or put go on PATH"; exit 1; }
export GOFLAGS=-buildvcs=false CGO_ENABLED=0
mkdir -p "$out"


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

# A Go new enough for crictl: this one, or Go's own toolchain module (golang.org/toolchain, the
# one GOTOOLCHAIN uses) fetched through the module proxy, since Debian 12's 1.19 is too old.
crictl_go() {
  local have
  have=$("$GO" env GOVERSION | sed 's/^go//')
  if [ "$(printf '%s\n%s\n' "$CRICTL_GO" "$have" | sort -V | head -1)" = "$CRICTL_GO" ]; then echo "$GO"; return; fi
  local dir
  dir=$(cd /tmp && GOFLAGS=-mod=mod "$GO" mod download -json "golang.org/toolchain@v0.0.1-go$TOOLCHAIN_GO.linux-amd64" |
    sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -f "$dir/bin/go" ] || { say "could not fetch Go $TOOLCHAIN_GO's toolchain module"; return 1; }
  # Module zips keep no file modes; Go's own toolchain switch marks these executable too.
  chmod +x "$dir/bin/go" "$dir/bin/gofmt" "$dir"/pkg/tool/*/*
  echo "$dir/bin/go"
}

build_crictl() {
  # `go install` sets no version into crictl (it says "unknown"): a stamp names it.
  [ -x "$out/bin/crictl" ] && [ "$(cat "$out/bin/.crictl-stamp" 2>/dev/null)" = "$CRICTL_VERSION" ] && return 0
  local go
  go=$(crictl_go) || return 1
  say "crictl $CRICTL_VERSION with $("$go" env GOVERSION)"
  (cd /tmp && GOTOOLCHAIN=local GOBIN="$out/bin" GOFLAGS=-mod=mod "$go" install "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION")
  echo "$CRICTL_VERSION" > "$out/bin/.crictl-stamp"
}

build_runtime_tools
build_crictl
echo "$out"
