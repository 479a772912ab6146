#!/usr/bin/env bash
# Lifecycle figures (issue 4), run by hand, never by the tests:
#   1. memory of the per-container monitor (VmRSS and PSS of each tsd-monitor) with N running
#      containers;
#   2. `tsd exec C true` latency beside `nsenter -a -t PID true` (the bare setns floor) in one
#      hyperfine run;
#   3. `tsd ps` / `tsd ps -a -q` with 100 containers.
#
#   sudo bash scripts/build.sh && sudo bash bench/lifecycle.sh
#   N=20 RUNS=30 TSD=/path/to/tsd sudo bash bench/lifecycle.sh
#
# podman/conmon: installed here but cannot start a container on these hosts (root lacks
# CAP_SYS_RESOURCE: podman's runc/crun fail on its RLIMIT_NPROC/NOFILE settings even with
# --ulimit; crun also refuses the v1-hybrid cgroup layout), and dockerd is not running:
# conmon and containerd-shim figures cannot be taken side by side; see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
TSD=${TSD:-$PWD/dist/tsd}
N=${N:-20}
RUNS=${RUNS:-30}
images=$(bash test/fixtures/make-images.sh /tmp/tsd-test-images | tail -1 >/dev/null; echo /tmp/tsd-test-images)
root=$(mktemp -d /dev/shm/tsd-bench-lc-XXXXXX)
t() { "$TSD" --root "$root" "$@"; }
cleanup() {
  ids=$(t ps -aq --no-trunc 2>/dev/null || true)
  [ -n "$ids" ] && t rm -f $ids >/dev/null 2>&1 || true
  rm -rf "$root"
}
trap cleanup EXIT
t load -i "$images/busybox-docker.tar" >/dev/null
echo "root: $root ($(stat -f -c %T "$root"))"

# ---- 1. monitor memory ------------------------------------------------------------------
for i in $(seq 1 "$N"); do t run -d --network none busybox sleep 3600 >/dev/null; done
sleep 0.5
rss=0 pss=0 n=0
for pid in $(pgrep -f "^tsd-monitor --bundle $root/"); do
  r=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  p=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
  rss=$((rss + r)) pss=$((pss + p)) n=$((n + 1))
done
echo "monitors: $n running; mean VmRSS $((rss / n)) kB, mean PSS $((pss / n)) kB (target < 1024 kB)"
# Each monitor runs from its own sealed memfd copy of the binary (src/native/embedded.ts).
echo "tsd-monitor binary: $(stat -L -c %s "/proc/$(pgrep -f "^tsd-monitor --bundle $root/" | head -1)/exe") bytes, static, one memfd copy per monitor"

# ---- 2. exec latency --------------------------------------------------------------------
c=$(t run -d --network none --name bench-exec busybox sleep 3600)
pid=$(t inspect -f '{{.State.Pid}}' bench-exec)
hyperfine -N --warmup 5 --runs "$RUNS" --export-json "/tmp/tsd-bench-exec.json" \
  -n "tsd exec" "$TSD --root $root exec bench-exec true" \
  -n "nsenter -a" "nsenter -a -t $pid true"
bun -e '
const r = (await Bun.file("/tmp/tsd-bench-exec.json").json()).results;
const m = Object.fromEntries(r.map((x) => [x.command, x.median * 1000]));
console.log(`exec median: tsd ${m["tsd exec"].toFixed(1)} ms, nsenter -a ${m["nsenter -a"].toFixed(1)} ms, ratio ${(m["tsd exec"] / m["nsenter -a"]).toFixed(1)}x`);'

# ---- 3. ps with 100 containers ----------------------------------------------------------
have=$(t ps -aq | wc -l)
for i in $(seq $((have + 1)) 100); do t run -d --network none busybox sleep 3600 >/dev/null; done
echo "containers: $(t ps -q | wc -l) running"
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "/tmp/tsd-bench-ps.json" \
  -n "tsd ps" "$TSD --root $root ps" \
  -n "tsd ps -a -q" "$TSD --root $root ps -a -q" \
  -n "tsd --version" "$TSD --version"
bun -e '
const r = (await Bun.file("/tmp/tsd-bench-ps.json").json()).results;
for (const x of r) console.log(`${x.command}: median ${(x.median * 1000).toFixed(1)} ms`);'
