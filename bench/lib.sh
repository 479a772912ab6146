#!/usr/bin/env bash
# Shared by the bench scripts (sourced): settings, a tmpfs work dir removed at exit, the
# busybox bundle for crun/runc, the crun-on-v1-hybrid workaround, and tsd loaded into a root.
# The sourcing script sets bench_name and, after sourcing, calls tsd_trial with its tsd run
# arguments. By hand only, never part of the test suite.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=${RUNS:-50}
warmup=${WARMUP:-5}
tsd=${TSD:-$repo/dist/tsd}
images=${TSD_TEST_IMAGES:-/tmp/tsd-test-images}

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (containers): sudo bash bench/$bench_name"
for tool in hyperfine runc crun python3 unshare; do
  command -v "$tool" >/dev/null || die "$tool not found (run scripts/bootstrap.sh)"
done

bash "$repo/test/fixtures/make-images.sh" "$images"

# Bundle and tsd root on tmpfs unless told otherwise (DESIGN.md: the root disk is ext4
# without a journal and slow at create-after-delete; say which filesystem in any case).
work=$(mktemp -d "${BENCH_DIR:-/dev/shm}/tsd-bench-XXXXXX")
cleanup() {
  for rt in runc crun; do
    for id in $("$rt" list -q 2>/dev/null | grep '^tsd-bench-' || true); do "$rt" delete -f "$id" >/dev/null 2>&1 || true; done
  done
  # The bench bridge and its NAT entries (tsd-bridge runs), while no container uses them.
  [ -x "$tsd" ] && [ -f "$root/tsd.db" ] && "$tsd" --root "$root" network prune -f >/dev/null 2>&1 || true
  # Anything a failed tsd run left mounted under the root, innermost first.
  awk -v w="$work" '$5 ~ "^"w {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf "$work"
}
trap cleanup EXIT

bundle=$work/bundle root=$work/root
mkdir -p "$bundle/rootfs" "$root"
cp -a "$images/busybox-rootfs/." "$bundle/rootfs/"
(cd "$bundle" && runc spec)
python3 - "$bundle/config.json" <<'EOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = ["true"]
c["process"]["terminal"] = False
c["root"]["readonly"] = False
json.dump(c, open(p, "w"), indent=2)
EOF

# crun 1.8 refuses a v1-hybrid host whose cgroup2 mount lists any controller ("cgroups in
# hybrid mode not supported, drop all controllers from cgroupv2"), whatever the spec or
# --cgroup-manager says. Without touching the host, the benchmark then runs in a private
# mount namespace where /sys/fs/cgroup/unified/cgroup.controllers reads empty: the same v1
# hierarchies for every runtime, only the hybrid check sees nothing.
ns_wrap=()
crun_cmd="crun"
crun_err=""
hide_unified='mount --bind /dev/null /sys/fs/cgroup/unified/cgroup.controllers'
trial() { "$@" >"$work/trial.log" 2>&1; }
if trial crun run -b "$bundle" "tsd-bench-trial-$$"; then
  crun_note="crun ran as is"
elif crun_err=$(head -1 "$work/trial.log") && trial crun --cgroup-manager=disabled run -b "$bundle" "tsd-bench-trial-$$"; then
  crun_cmd="crun --cgroup-manager=disabled"
  crun_note="crun needed --cgroup-manager=disabled"
elif [ -e /sys/fs/cgroup/unified/cgroup.controllers ] &&
  trial unshare -m --propagation private sh -c "$hide_unified && exec crun run -b '$bundle' tsd-bench-trial-$$"; then
  ns_wrap=(unshare -m --propagation private sh -c "$hide_unified && exec \"\$0\" \"\$@\"")
  crun_note="crun refused this host (\"$crun_err\"), so the benchmark ran in a private mount namespace with an empty /sys/fs/cgroup/unified/cgroup.controllers"
else
  crun_note="crun does not run here (\"$crun_err\"): benchmarking without it"
  crun_cmd=""
fi
say "$crun_note"
trial runc run -b "$bundle" "tsd-bench-trial-$$" || die "runc cannot run the bundle: $(cat "$work/trial.log")"

# tsd: load the docker-save image into a fresh root, then one trial run of `tsd run ARGS…`.
tsd_trial() {
tsd_ok=0
if [ ! -x "$tsd" ]; then
  tsd_note="$tsd not built (bash scripts/build.sh): benchmarking crun and runc only"
elif ! trial "$tsd" --root "$root" load -i "$images/busybox-docker.tar"; then
  tsd_note="tsd load failed, tsd not benchmarked: $(tail -1 "$work/trial.log")"
elif ! trial "${ns_wrap[@]}" "$tsd" --root "$root" run "$@"; then
  tsd_note="tsd run failed, tsd not benchmarked: $(tail -1 "$work/trial.log")"
else
  tsd_ok=1
  tsd_note="tsd: $("$tsd" --version 2>/dev/null | head -1)"
fi
say "$tsd_note"
}

fs_of() { printf '%s (%s)' "$(stat -f -c %T "$1")" "$(df --output=source "$1" | tail -1)"; }
say "bundle and tsd root on $(fs_of "$work"); $(nproc) CPUs; kernel $(uname -r)"
