# The big one-layer image of bench/pull.sh and bench/load.sh (sourced, with $work and $images
# set): the busybox test rootfs plus /usr/lib/python3.11 and /usr/share/doc of this host (Debian
# minbase is not available offline; this is a similar mix of many small files and some large
# ones), packed with GNU tar into $work/layer.tar (big_layer_tar: sets files and size, the tar
# bytes), gzip-compressed by umoci into the OCI layout $work/layout, tag 1 (big_layer_oci: sets
# layer_gz, the gzip blob, and gz_size). Sourced, it runs both; with BIG_LAYER_TAR_ONLY=1 it
# only defines them (bench/cpu-level.sh needs the tar alone).
big_layer_tar() {
  local rootfs=$work/rootfs
  mkdir -p "$rootfs/usr/lib" "$rootfs/usr/share"
  cp -a "$images/busybox-rootfs/." "$rootfs/"
  cp -a /usr/lib/python3.11 "$rootfs/usr/lib/"
  cp -a /usr/share/doc "$rootfs/usr/share/"
  (cd "$rootfs" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) >"$work/list"
  tar -C "$rootfs" -cf "$work/layer.tar" --no-recursion --numeric-owner --format=gnu -T "$work/list"
  files=$(wc -l <"$work/list")
  size=$(stat -c %s "$work/layer.tar")
  rm -rf "$rootfs"
}

big_layer_oci() {
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
}

if [ "${BIG_LAYER_TAR_ONLY:-0}" != 1 ]; then
  big_layer_tar
  big_layer_oci
fi
