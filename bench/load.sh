#!/usr/bin/env bash
# tsd load and tsd import of a big one-layer image (bench/big-layer.sh: ~8k entries, ~180 MB
# tar, ~90 MB gzip) into an empty store, the build before the change (BEFORE: a dist/tsd copied
# aside before rebuilding) against this one (TSD), podman load (its own --root/--runroot, when
# podman is installed: `apt-get install podman`), and the floor `gzip -dc` of the layer, in one
# hyperfine invocation on one tmpfs; then the ratios. Archives: a docker-save archive with the
# gzip layer (built here: skopeo's docker-archive writes layers uncompressed), the OCI layout
# tar (gzip), the same recompressed to zstd by skopeo; import takes the gzip layer as a rootfs
# tarball. By hand only, never part of the test suite.
#
#   cp dist/tsd /tmp/tsd-before && (make the change) && bash scripts/build.sh
#   sudo BEFORE=/tmp/tsd-before bash bench/load.sh      3 runs each (RUNS=5 for more)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=${RUNS:-3}
tsd=${TSD:-$repo/dist/tsd}
before=${BEFORE:-}
images=${TSD_TEST_IMAGES:-/tmp/tsd-test-images}

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root: sudo bash bench/load.sh"
for tool in hyperfine skopeo umoci python3; do
  command -v "$tool" >/dev/null || die "$tool not found (run scripts/bootstrap.sh)"
done
[ -x "$tsd" ] || die "$tsd not built (bash scripts/build.sh)"
[ -z "$before" ] || [ -x "$before" ] || die "BEFORE=$before is not an executable"
[ -n "$before" ] || say "BEFORE not set: timing this build only"
command -v podman >/dev/null || say "podman not installed: no podman load (apt-get install podman to add it)"

bash "$repo/test/fixtures/make-images.sh" "$images"
work=$(mktemp -d /dev/shm/tsd-bench-load-XXXXXX)
. "$here/podman-private.sh"
cleanup() {
  # podman's overlay driver leaves its storage mounted.
  awk -v w="$work" '$5 ~ "^"w {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf "$work"
}
trap cleanup EXIT

. "$here/big-layer.sh"
# The OCI layout as a tar (gzip layer), and recompressed to zstd.
tar -C "$work/layout" -cf "$work/oci-gz.tar" .
skopeo --insecure-policy copy -q -f oci --dest-compress-format zstd "oci:$work/layout:1" "oci:$work/zlayout:1"
tar -C "$work/zlayout" -cf "$work/oci-zstd.tar" .
# A docker-save archive holding the gzip layer as it is (docker load and podman load take that).
python3 - "$work/layout" "$layer_gz" "$work/docker" <<'PY'
import json, os, shutil, sys
d, layer, out = sys.argv[1:]
idx = json.load(open(f"{d}/index.json"))
m = json.load(open(f"{d}/blobs/sha256/{idx['manifests'][0]['digest'][7:]}"))
os.makedirs(out)
shutil.copy(f"{d}/blobs/sha256/{m['config']['digest'][7:]}", f"{out}/config.json")
shutil.copy(layer, f"{out}/layer.tar.gz")
json.dump([{"Config": "config.json", "RepoTags": ["bench:1"], "Layers": ["layer.tar.gz"]}], open(f"{out}/manifest.json", "w"))
PY
tar -C "$work/docker" -cf "$work/docker-gz.tar" .
rm -rf "$work/docker"
say "image: $files entries, $((size / 1000000)) MB tar, $((gz_size / 1000000)) MB gzip"
say "filesystem of the stores: $(stat -f -c %T "$work")"

mkdir -p "$repo/bench/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
cmds=()
for build in ${before:+before} after; do
  bin=$tsd
  [ "$build" = before ] && bin=$before
  cmds+=(-n "tsd load ($build)" "$bin --root $work/tsd load -q -i $work/docker-gz.tar")
  cmds+=(-n "tsd load oci ($build)" "$bin --root $work/tsd load -q -i $work/oci-gz.tar")
  cmds+=(-n "tsd load zstd ($build)" "$bin --root $work/tsd load -q -i $work/oci-zstd.tar")
  cmds+=(-n "tsd import ($build)" "$bin --root $work/tsd import $layer_gz bench:imp")
done
if command -v podman >/dev/null; then
  # Its own store on the same tmpfs, no systemd: what `podman load` does into an empty store.
  cmds+=(-n "podman load" "podman --root $work/podman/root --runroot $work/podman/run --storage-driver overlay --events-backend file --cgroup-manager cgroupfs load -q -i $work/docker-gz.tar")
fi
# gzip -dc to /dev/null is the floor: decompression alone, nothing hashed or written.
hyperfine --runs "$runs" --export-json "$repo/bench/results/load-$stamp.json" \
  --prepare "umount $work/podman/root/overlay 2>/dev/null; rm -rf $work/tsd $work/podman" \
  "${cmds[@]}" \
  -n "gzip -dc" "gzip -dc $layer_gz >/dev/null"

python3 - "$repo/bench/results/load-$stamp.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
cpu = lambda x: x["user"] + x["system"]
for name, x in r.items():
    print(f"  {name:26s} median {x['median']:.3f} s   CPU {cpu(x):.3f} s (user {x['user']:.3f} + system {x['system']:.3f}, means)")
floor = r["gzip -dc"]
for name in (n for n in r if n.endswith("(after)")):
    line = f"  {name}: / gzip -dc {r[name]['median'] / floor['median']:.2f} (CPU {cpu(r[name]) / cpu(floor):.2f})"
    b = r.get(name.replace("(after)", "(before)"))
    if b:
        line += f", / before {r[name]['median'] / b['median']:.2f} (CPU {cpu(r[name]) / cpu(b):.2f})"
    if "podman load" in r and name.startswith("tsd load ("):
        line += f", / podman load {r[name]['median'] / r['podman load']['median']:.2f}"
    print(line)
PY
