#!/usr/bin/env bash
# Pull + unpack of a sizeable one-layer image from a loopback registry into an empty store:
# tsd (the gzip layer and the same image with a zstd layer) against podman pull (when podman is
# installed: not part of bootstrap.sh; `apt-get install podman` for this), skopeo copy + umoci
# unpack, and the floor `gzip -dc` of the layer (issue 16, goal 3: tsd within 1.15x of it), all
# in one hyperfine invocation on one tmpfs; then the peak RSS of tsd's CLI during a pull
# (/usr/bin/time), and the pieces alone: the unpack child's work on plain tar, Zig's unpack of
# the gzip layer (load's and import's path before they took pull's), tar -xzf, and the
# inflates (Bun's zlib in memory, the pull's streaming decoder). By hand only, never part of
# the test suite.
#
#   sudo bash bench/pull.sh             3 runs each (RUNS=5 for more)
#
# The image: bench/big-layer.sh's (the busybox rootfs plus this host's python3.11 and
# /usr/share/doc, gzip by umoci), pushed with skopeo to Debian's docker-registry on 127.0.0.1 at
# a free port; skopeo recompresses it to zstd for the second tag.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=${RUNS:-3}
tsd=${TSD:-$repo/dist/tsd}
images=${TSD_TEST_IMAGES:-/tmp/tsd-test-images}

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root: sudo bash bench/pull.sh"
for tool in hyperfine skopeo umoci docker-registry python3 bun zstd; do
  command -v "$tool" >/dev/null || die "$tool not found (run scripts/bootstrap.sh)"
done
[ -x "$tsd" ] || die "$tsd not built (bash scripts/build.sh)"
command -v podman >/dev/null || say "podman not installed: comparing with skopeo + umoci only (apt-get install podman to add it)"

bash "$repo/test/fixtures/make-images.sh" "$images"
work=$(mktemp -d /dev/shm/tsd-bench-pull-XXXXXX)
. "$here/podman-private.sh"
reg_pid=""
cleanup() {
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null || true
  # podman's overlay driver leaves its storage mounted.
  awk -v w="$work" '$5 ~ "^"w {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# ---- the image --------------------------------------------------------------------------
. "$here/big-layer.sh"

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
skopeo --insecure-policy copy -q -f oci --dest-compress-format zstd "oci:$work/layout:1" "oci:$work/zlayout:1"
skopeo --insecure-policy copy -q --dest-tls-verify=false -f oci "oci:$work/zlayout:1" "docker://$host/bench:zstd"
layer_zst=$(find "$work/zlayout/blobs/sha256" -type f -size +1M)
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
# gzip -dc to /dev/null is the floor: decompression alone, nothing fetched, hashed or written.
hyperfine --runs "$runs" --export-json "$repo/bench/results/pull-$stamp.json" \
  --prepare "umount $work/podman/root/overlay 2>/dev/null; rm -rf $work/tsd $work/oci $work/bundle $work/podman" \
  -n tsd "$tsd --root $work/tsd pull -q $host/bench:1" \
  -n tsd-zstd "$tsd --root $work/tsd pull -q $host/bench:zstd" \
  "${podman_cmd[@]}" \
  -n "skopeo+umoci" "skopeo --insecure-policy copy -q --src-tls-verify=false docker://$host/bench:1 oci:$work/oci:1 && umoci unpack --image $work/oci:1 $work/bundle" \
  -n "gzip -dc" "gzip -dc $layer_gz >/dev/null" \
  -n "zstd -dc" "zstd -qdc $layer_zst >/dev/null"

# ---- peak memory of the CLI during a pull --------------------------------------------------------
# /usr/bin/time's maximum RSS: the largest of the CLI and its unpack children (the CLI's).
for tag in 1 zstd; do
  rm -rf "$work/tsd"
  /usr/bin/time -f "bench: peak RSS of tsd pull ($tag): %M kB (CPU %U s user + %S s system, %e s wall)" \
    "$tsd" --root "$work/tsd" pull -q "$host/bench:$tag" >/dev/null
done
rm -rf "$work/tsd"

# ---- the pieces alone -----------------------------------------------------------------------------
# tsd-unpack-tar: what the pull's unpack child does now (plain tar: sha256, extract);
# tsd-unpack-gz: the same with Zig's inflate (load's and import's path before); inflate-one: the
# pull's decoder (Bun's zlib/zstd, streaming, with its checks); gunzip-one: Bun's zlib and
# libdeflate in memory, whole member.
layer_tar=$work/layer.tar
mkdir -p "$work/libroot"
(cd "$repo" && bun bench/unpack-one.ts "$layer_gz" "$(mktemp -d "$work/warm-XXXX")" "$work/libroot")
hyperfine --runs "$runs" --export-json "$repo/bench/results/unpack-$stamp.json" \
  --prepare "rm -rf $work/u && mkdir $work/u" \
  -n tsd-unpack-tar "cd $repo && bun bench/unpack-one.ts $layer_tar $work/u $work/libroot" \
  -n tsd-unpack-gz "cd $repo && bun bench/unpack-one.ts $layer_gz $work/u $work/libroot" \
  -n "tar -xzf" "tar -xzf $layer_gz -C $work/u" \
  -n "gzip -dc" "gzip -dc $layer_gz >/dev/null" \
  -n "inflate-one (gzip)" "cd $repo && bun bench/inflate-one.ts $layer_gz" \
  -n "inflate-one (zstd)" "cd $repo && bun bench/inflate-one.ts $layer_zst" \
  -n "bun gunzip (zlib)" "cd $repo && bun bench/gunzip-one.ts $layer_gz zlib" \
  -n "bun gunzip (libdeflate)" "cd $repo && bun bench/gunzip-one.ts $layer_gz libdeflate"

python3 - "$repo/bench/results/pull-$stamp.json" "$repo/bench/results/unpack-$stamp.json" <<'PY'
import json, sys
for f in sys.argv[1:]:
    r = {x["command"]: x for x in json.load(open(f))["results"]}
    print(f"{f}:")
    for name, x in r.items():
        print(f"  {name:26s} median {x['median']:.3f} s   CPU {x['user'] + x['system']:.3f} s (user {x['user']:.3f} + system {x['system']:.3f}, means)")
    if "gzip -dc" in r:
        floor = r["gzip -dc"]
        for name in (n for n in r if n.startswith("tsd")):
            print(f"  {name} / gzip -dc: wall {r[name]['median'] / floor['median']:.2f}, CPU {(r[name]['user'] + r[name]['system']) / (floor['user'] + floor['system']):.2f}")
    if "tsd-zstd" in r:
        print(f"  tsd-zstd / tsd: wall {r['tsd-zstd']['median'] / r['tsd']['median']:.2f}")
PY
