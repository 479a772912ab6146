#!/usr/bin/env bash
# The cost of seccomp: `tsd run --rm busybox true` with Docker's default profile and with
# --security-opt seccomp=unconfined, and the per-syscall cost of the filter on 2 million
# syscalls (dd bs=1), each beside runc running the same rootfs with the same rendered profile
# (compiled by libseccomp) and without one. By hand only, never part of the test suite.
#
#   sudo bash bench/seccomp.sh                 20 runs after 3 warm-ups each
#   RUNS=50 WARMUP=5 sudo bash bench/seccomp.sh
#
# Writes bench/results/seccomp-start-DATE.json (hyperfine's export) and prints the medians
# and ratios; the per-syscall part is timed inside the containers (fastest of 8).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=${RUNS:-20}
warmup=${WARMUP:-3}
tsd=${TSD:-$repo/dist/tsd}
images=${TSD_TEST_IMAGES:-/tmp/tsd-test-images}

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (containers): sudo bash bench/seccomp.sh"
for tool in hyperfine runc python3 bun; do
  command -v "$tool" >/dev/null || die "$tool not found (run scripts/bootstrap.sh)"
done
[ -x "$tsd" ] || die "$tsd not built (bash scripts/build.sh)"

bash "$repo/test/fixtures/make-images.sh" "$images"
work=$(mktemp -d "${BENCH_DIR:-/dev/shm}/tsd-bench-seccomp-XXXXXX")
cleanup() {
  for id in $(runc list -q 2>/dev/null | grep '^tsd-bench-' || true); do runc delete -f "$id" >/dev/null 2>&1 || true; done
  awk -v w="$work" '$5 ~ "^"w {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Docker's default profile exactly as tsd renders it for Docker's default capabilities.
(cd "$repo" && bun -e '
  import { defaultSeccomp } from "./src/container/seccomp";
  import { DEFAULT_CAPS } from "./src/container/caps";
  await Bun.write(process.argv[1], JSON.stringify(defaultSeccomp(DEFAULT_CAPS)));
' "$work/profile.json")

# Two runc bundles on the same rootfs: one without seccomp (runc spec's default), one with it.
mkdir -p "$work/rootfs" "$work/root"
cp -a "$images/busybox-rootfs/." "$work/rootfs/"
for b in plain filtered; do
  mkdir -p "$work/$b"
  (cd "$work/$b" && runc spec)
  python3 - "$work/$b/config.json" "$work/rootfs" "$b" "$work/profile.json" <<'EOF'
import json, sys
path, rootfs, kind, profile = sys.argv[1:]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["true"]
# Docker's capabilities and no_new_privs as tsd runs them, so the filter is the only difference.
c["process"]["noNewPrivileges"] = True
c["root"] = {"path": rootfs, "readonly": False}
if kind == "filtered":
    c["linux"]["seccomp"] = json.load(open(profile))
json.dump(c, open(path, "w"), indent=2)
EOF
done
with_args() { # bundle, args as JSON
  python3 - "$work/$1/config.json" "$2" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = json.loads(sys.argv[2])
json.dump(c, open(sys.argv[1], "w"), indent=2)
EOF
}

"$tsd" --root "$work/root" load -i "$images/busybox-docker.tar" >/dev/null
"$tsd" --root "$work/root" run --rm busybox grep -q 'Seccomp:.2' /proc/self/status || die "tsd: no filter in a default container"
runc run -b "$work/filtered" "tsd-bench-trial-$$" >/dev/null || die "runc cannot run the filtered bundle"

mkdir -p "$here/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
tsd_run="$tsd --root $work/root run --rm"

say "1/2 start-up: run --rm busybox true"
hyperfine --shell=bash --warmup "$warmup" --runs "$runs" --export-json "$here/results/seccomp-start-$stamp.json" \
  -n "tsd default profile" "$tsd_run busybox true" \
  -n "tsd unconfined" "$tsd_run --security-opt seccomp=unconfined busybox true" \
  -n "runc default profile" "runc run -b $work/filtered tsd-bench-f-\$\$" \
  -n "runc no seccomp" "runc run -b $work/plain tsd-bench-p-\$\$" >&2

say "2/2 the filter per syscall: dd bs=1 count=1000000 (2M syscalls), 8 times in one container each, the least CPU time"
# Timed inside the container by busybox time as CPU seconds (user + system) of dd alone: the
# filter runs on dd's own CPU time, and a shared host's run queue stays out of the figure.
loop='for i in 1 2 3 4 5 6 7 8; do time -f "%U %S" dd if=/dev/zero of=/dev/null bs=1 count=1000000 2>&1 | tail -1 | awk "{print \$1 + \$2}"; done'
with_args plain "$(python3 -c 'import json,sys; print(json.dumps(["sh","-c",sys.argv[1]]))' "$loop")"
with_args filtered "$(python3 -c 'import json,sys; print(json.dumps(["sh","-c",sys.argv[1]]))' "$loop")"
fastest() { "$@" | sort -n | head -1; }
tf=$(fastest $tsd_run busybox sh -c "$loop")
tu=$(fastest $tsd_run --security-opt seccomp=unconfined busybox sh -c "$loop")
rf=$(fastest runc run -b "$work/filtered" "tsd-bench-f-$$")
ru=$(fastest runc run -b "$work/plain" "tsd-bench-p-$$")

python3 - "$here/results/seccomp-start-$stamp.json" "$(stat -f -c %T "$work")" "$tf" "$tu" "$rf" "$ru" <<'EOF2'
import json, sys
path, fs = sys.argv[1:3]
tf, tu, rf, ru = (float(x) for x in sys.argv[3:7])
r = {x["command"]: x for x in json.load(open(path))["results"]}
med = {k: v["median"] * 1000 for k, v in r.items()}
print(f"\nrun --rm busybox true (median ms, {fs}):")
for k, v in med.items():
    print(f"  {k:24s} {v:8.1f}")
print(f"  tsd filtered/unconfined  {med['tsd default profile'] / med['tsd unconfined']:.3f}  ({med['tsd default profile'] - med['tsd unconfined']:+.1f} ms)")
print(f"  runc filtered/plain      {med['runc default profile'] / med['runc no seccomp']:.3f}  ({med['runc default profile'] - med['runc no seccomp']:+.1f} ms)")
print(f"  tsd default / runc default {med['tsd default profile'] / med['runc default profile']:.3f}")
print("\ndd bs=1 count=1000000, CPU seconds (user+sys), least of 8:")
print(f"  tsd  default {tf:.2f}  unconfined {tu:.2f}  ratio {tf / tu:.3f}  per syscall {(tf - tu) / 2e6 * 1e9:+.0f} ns")
print(f"  runc default {rf:.2f}  no seccomp {ru:.2f}  ratio {rf / ru:.3f}  per syscall {(rf - ru) / 2e6 * 1e9:+.0f} ns")
EOF2
