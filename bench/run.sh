#!/usr/bin/env bash
# `run … true` wall time: tsd against crun and runc, in one hyperfine run, on the same busybox
# rootfs (test/fixtures/make-images.sh). By hand only, never part of the test suite.
#
#   sudo bash bench/run.sh                 50 runs after 5 warm-ups each
#   RUNS=20 WARMUP=2 sudo bash bench/run.sh
#   TSD=/path/to/tsd sudo bash bench/run.sh     another tsd binary (default dist/tsd)
#   BENCH_DIR=/mnt/ext4/x sudo bash bench/run.sh  bundle and tsd root elsewhere (default tmpfs)
#
# Writes bench/results/run-true-DATE.json (hyperfine's export) and prints medians and the
# tsd/crun and tsd/runc ratios. See bench/README.md for what each command includes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=${RUNS:-50}
warmup=${WARMUP:-5}
tsd=${TSD:-$repo/dist/tsd}
images=${TSD_TEST_IMAGES:-/tmp/tsd-test-images}

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (containers): sudo bash bench/run.sh"
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

# A second bundle with what tsd applies by default and `runc spec` does not: Docker's seccomp
# profile exactly as tsd renders it, and no_new_privs. "crun+sec"/"runc+sec" do the same work
# as tsd; "crun"/"runc" are the bare bundles.
bundle_sec=$work/bundle-sec
mkdir -p "$bundle_sec"
(cd "$repo" && bun -e '
  import { defaultSeccomp } from "./src/container/seccomp";
  import { DEFAULT_CAPS } from "./src/container/caps";
  await Bun.write(process.argv[1], JSON.stringify(defaultSeccomp(DEFAULT_CAPS)));
' "$work/profile.json")
python3 - "$bundle/config.json" "$bundle_sec/config.json" "$bundle/rootfs" "$work/profile.json" <<'EOF'
import json, sys
src, dst, rootfs, profile = sys.argv[1:]
c = json.load(open(src))
c["root"]["path"] = rootfs
c["process"]["noNewPrivileges"] = True
c["linux"]["seccomp"] = json.load(open(profile))
json.dump(c, open(dst, "w"), indent=2)
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

# tsd: load the docker-save image into a fresh root, then one trial run.
tsd_ok=0
if [ ! -x "$tsd" ]; then
  tsd_note="$tsd not built (bash scripts/build.sh): benchmarking crun and runc only"
elif ! trial "$tsd" --root "$root" load -i "$images/busybox-docker.tar"; then
  tsd_note="tsd load failed, tsd not benchmarked: $(tail -1 "$work/trial.log")"
elif ! trial "${ns_wrap[@]}" "$tsd" --root "$root" run --rm --network none busybox true; then
  tsd_note="tsd run failed, tsd not benchmarked: $(tail -1 "$work/trial.log")"
else
  tsd_ok=1
  tsd_note="tsd: $("$tsd" --version 2>/dev/null | head -1)"
fi
say "$tsd_note"

fs_of() { printf '%s (%s)' "$(stat -f -c %T "$1")" "$(df --output=source "$1" | tail -1)"; }
say "bundle and tsd root on $(fs_of "$work"); $(nproc) CPUs; kernel $(uname -r)"

commands=()
[ -n "$crun_cmd" ] && commands+=(-n crun "$crun_cmd run -b $bundle tsd-bench-crun-\$\$")
commands+=(-n runc "runc run -b $bundle tsd-bench-runc-\$\$")
[ -n "$crun_cmd" ] && commands+=(-n crun+sec "$crun_cmd run -b $bundle_sec tsd-bench-crun-\$\$")
commands+=(-n runc+sec "runc run -b $bundle_sec tsd-bench-runc-\$\$")
# --network none is what the crun/runc bundle has (a new network namespace with only lo);
# tsd-bridge adds tsd's default network (veth, address, route on a bridge of its own).
if [ $tsd_ok = 1 ]; then
  printf '{"bridge": "tsdbench0", "subnet": "10.231.0.0/24"}\n' > "$root/network.json"
  commands+=(-n tsd "$tsd --root $root run --rm --network none busybox true")
  commands+=(-n tsd-bridge "$tsd --root $root run --rm busybox true")
fi

mkdir -p "$here/results"
json=$here/results/run-true-$(date -u +%Y%m%dT%H%M%SZ).json
# bash, not sh: each run's $$ is a fresh container id; hyperfine subtracts the shell's start-up.
"${ns_wrap[@]}" hyperfine --shell=bash --style basic --warmup "$warmup" --runs "$runs" \
  --export-json "$json" "${commands[@]}"

python3 - "$json" "$(fs_of "$work")" "$crun_note" "$tsd_note" <<'EOF'
import json, sys
path, fs, crun_note, tsd_note = sys.argv[1:5]
res = {r["command"]: r for r in json.load(open(path))["results"]}
ms = lambda s: f"{s * 1000:7.1f} ms"
width = max(len(n) for n in res)
print(f"\nrun … true, {len(next(iter(res.values()))['times'])} runs each; bundle and tsd root on {fs}")
print(f"{'':{width}} {'median':>10} {'mean':>10} {'stddev':>10} {'min':>10} {'max':>10}")
for name, r in res.items():
    print(f"{name:{width}} {ms(r['median']):>10} {ms(r['mean']):>10} {ms(r['stddev'] or 0):>10} {ms(r['min']):>10} {ms(r['max']):>10}")
for mine in ("tsd", "tsd-bridge"):
    for peer in ("crun", "runc", "crun+sec", "runc+sec"):
        if mine in res and peer in res:
            print(f"{mine}/{peer} (median): {res[mine]['median'] / res[peer]['median']:.2f}x")
if "crun" in res and "runc" in res:
    print(f"runc/crun (median): {res['runc']['median'] / res['crun']['median']:.2f}x")
print("(+sec: the bundle with Docker's seccomp profile and no_new_privs, as tsd runs every container)")
print(f"notes: {crun_note}; {tsd_note}")
print(f"raw: {path}")
EOF
