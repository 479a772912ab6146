#!/usr/bin/env bash
# Builds the pod sandbox ("pause") image for test/oci/cri.sh: test/oci/pause.c compiled
# static with `scripts/zig cc` (musl), alone in one layer, Entrypoint ["/pause"], packed with
# umoci into an OCI image-layout tar. Usage: pause-image.sh OUT.tar (cached on pause.c's hash).
set -euo pipefail
out=${1:?usage: pause-image.sh OUT.tar}
here=$(cd "$(dirname "$0")" && pwd)
stamp="$out.stamp"
sum=$(sha256sum "$here/pause.c" "$0" | sha256sum | cut -d' ' -f1)
[ -f "$out" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash "$here/../../scripts/zig" cc -target x86_64-linux-musl -static -Os -s -o "$work/pause" "$here/pause.c"
umoci init --layout "$work/layout"
umoci new --image "$work/layout:latest"
umoci unpack --rootless --image "$work/layout:latest" "$work/bundle" >/dev/null
install -m 0755 "$work/pause" "$work/bundle/rootfs/pause"
umoci repack --image "$work/layout:latest" "$work/bundle"
umoci config --image "$work/layout:latest" --config.entrypoint /pause --config.user 65535:65535 \
  --created 2026-01-01T00:00:00Z --history.created 2026-01-01T00:00:00Z
umoci gc --layout "$work/layout"
mkdir -p "$(dirname "$out")"
tar -C "$work/layout" -cf "$out.tmp" . && mv "$out.tmp" "$out"
echo "$sum" > "$stamp"
