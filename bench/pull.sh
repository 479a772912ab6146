#!/usr/bin/env bash
# Pull + unpack of a sizeable one-layer image from a loopback registry into an empty store:
# tsd against podman pull (when podman is installed: not part of bootstrap.sh; `apt-get install
# podman` for this) and skopeo copy + umoci unpack, then the
# unpack step alone: tsd's unpacker against `tar -xzf`. One hyperfine invocation each, on
# tmpfs. By hand only, never part of the test suite.
#
#   sudo bash bench/pull.sh             3 runs each (RUNS=5 for more)
#
# The image: the busybox test rootfs plus /usr/lib/python3.11 and /usr/share/doc of this host
# (Debian minbase is not available offline; this is a similar mix of many small files and
# some large ones), packed with GNU tar, gzip-compressed by umoci, pushed with skopeo to
# Debian's docker-registry on 127.0.0.1 at a free port.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=${RUNS:-3}
tsd=${TSD:-$repo/dist/tsd}
images=${TSD_TEST_IMAGES:-/tmp/tsd-test-images}

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root: sudo bash bench/pull.sh"
for tool in hyperfine skopeo umoci docker-registry python3 bun; do
  command -v "$tool" >/dev/null || die "$tool not found (run scripts/bootstrap.sh)"
done
[ -x "$tsd" ] || die "$tsd not built (bash scripts/build.sh)"
command -v podman >/dev/null || say "podman not installed: comparing with skopeo + umoci only (apt-get install podman to add it)"

bash "$repo/test/fixtures/make-images.sh" "$images"
work=$(mktemp -d /dev/shm/tsd-bench-pull-XXXXXX)
reg_pid=""
cleanup() {
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null || true
  # podman's overlay driver leaves its storage mounted.
  awk -v w="$work" '$5 ~ "^"w {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# ---- the image --------------------------------------------------------------------------
rootfs=$work/rootfs
mkdir -p "$rootfs/usr/lib" "$rootfs/usr/share"
cp -a "$images/busybox-rootfs/." "$rootfs/"
cp -a /usr/lib/python3.11 "$rootfs/usr/lib/"
cp -a /usr/share/doc "$rootfs/usr/share/"
(cd "$rootfs" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) >"$work/list"
tar -C "$rootfs" -cf "$work/layer.tar" --no-recursion --numeric-owner --format=gnu -T "$work/list"
files=$(wc -l <"$work/list")
size=$(stat -c %s "$work/layer.tar")
umoci init --layout "$work/layout"
umoci new --image "$work/layout:1"
umoci raw add-layer --image "$work/layout:1" "$work/layer.tar"
umoci config --image "$work/layout:1" --config.cmd sh
layer_gz=$(python3 - "$work/layout" <<'PY'
import json, sys
d = sys.argv[1]
idx = json.load(open(f"{d}/index.json"))
m = json.load(open(f"{d}/blobs/sha256/{idx['manifests'][0]['digest'][7:]}"))
print(f"{d}/blobs/sha256/{m['layers'][0]['digest'][7:]}")
PY
)
gz_size=$(stat -c %s "$layer_gz")
rm -rf "$rootfs"

# ---- the registry ---------------------------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: "127.0.0.1:$port", secret: bench}
YML
docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
reg_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.05; done
host=127.0.0.1:$port
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$work/layout:1" "docker://$host/bench:1"
say "image: $files entries, $((size / 1000000)) MB tar, $((gz_size / 1000000)) MB gzip, at $host/bench:1"
say "filesystem of the stores: $(stat -f -c %T "$work")"

mkdir -p "$repo/bench/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
# ---- pull + unpack ----------------------------------------------------------------------------
podman_cmd=()
if command -v podman >/dev/null; then
  # Its own store on the same tmpfs, no systemd: what `podman pull` does into an empty store.
  podman_cmd=(-n podman "podman --root $work/podman/root --runroot $work/podman/run --storage-driver overlay --events-backend file --cgroup-manager cgroupfs pull -q --tls-verify=false $host/bench:1")
fi
hyperfine --runs "$runs" --export-json "$repo/bench/results/pull-$stamp.json" \
  --prepare "umount $work/podman/root/overlay 2>/dev/null; rm -rf $work/tsd $work/oci $work/bundle $work/podman" \
  -n tsd "$tsd --root $work/tsd pull -q $host/bench:1" \
  "${podman_cmd[@]}" \
  -n "skopeo+umoci" "skopeo --insecure-policy copy -q --src-tls-verify=false docker://$host/bench:1 oci:$work/oci:1 && umoci unpack --image $work/oci:1 $work/bundle"

# ---- unpack alone, and the inflate floors (issue 16, goal 3) -------------------------------------
# gzip -dc to /dev/null is the floor pull + unpack is measured against; Bun's zlib and
# libdeflate (in memory, whole member) show what a faster inflate would give.
mkdir -p "$work/libroot"
(cd "$repo" && bun bench/unpack-one.ts "$layer_gz" "$(mktemp -d "$work/warm-XXXX")" "$work/libroot")
hyperfine --runs "$runs" --export-json "$repo/bench/results/unpack-$stamp.json" \
  --prepare "rm -rf $work/u && mkdir $work/u" \
  -n tsd-unpack "cd $repo && bun bench/unpack-one.ts $layer_gz $work/u $work/libroot" \
  -n "tar -xzf" "tar -xzf $layer_gz -C $work/u" \
  -n "gzip -dc" "gzip -dc $layer_gz >/dev/null" \
  -n "bun gunzip (zlib)" "cd $repo && bun bench/gunzip-one.ts $layer_gz zlib" \
  -n "bun gunzip (libdeflate)" "cd $repo && bun bench/gunzip-one.ts $layer_gz libdeflate"

python3 - "$repo/bench/results/pull-$stamp.json" "$repo/bench/results/unpack-$stamp.json" <<'PY'
import json, sys
for f in sys.argv[1:]:
    r = {x["command"]: x for x in json.load(open(f))["results"]}
    a, *others = list(r)
    for b in others:
        print(f"{a}: median {r[a]['median']:.3f}s; {b}: median {r[b]['median']:.3f}s; {a}/{b} = {r[a]['median'] / r[b]['median']:.2f}")
PY
