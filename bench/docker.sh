#!/usr/bin/env bash
# Docker beside tsd (issue 16, goal 6), by hand, never by the tests: a private dockerd (its own
# data root, exec root, pid file, socket and containerd namespace; no bridge, no iptables
# changes), stopped and removed at the end. Measures, with the busybox test image:
#   - `docker run --rm --network none busybox true` (hyperfine);
#   - N (100) detached `sleep` containers started by P (4) parallel CLIs: containers/s;
#   - `docker ps`, `docker ps -a`, `docker inspect c1` with them (hyperfine);
#   - memory per container: each containerd-shim's VmRSS and PSS.
# Writes bench/results/docker-DATE.json.
#
#   sudo bash bench/docker.sh
#   N=100 P=4 RUNS=10 sudo bash bench/docker.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100}
P=${P:-4}
RUNS=${RUNS:-10}
dockerd=/usr/sbin/dockerd cli=/usr/bin/docker
[ "$(id -u)" = 0 ] || { echo "docker: needs root" >&2; exit 1; }
for f in $dockerd $cli hyperfine; do command -v "$f" >/dev/null || { echo "docker: $f missing (apt-get install docker.io hyperfine)" >&2; exit 1; }; done
images=/tmp/tsd-test-images
bash test/fixtures/make-images.sh "$images" >/dev/null
mkdir -p bench/results
out=${OUT:-bench/results/docker-$(date -u +%Y%m%dT%H%M).json}
base=$(mktemp -d /dev/shm/tsd-bench-dockerd-XXXXXX)
sock=$base/sock
d() { "$cli" -H "unix://$sock" "$@"; }
daemon=""
cleanup() {
  if [ -S "$sock" ]; then
    ids=$(d ps -aq 2>/dev/null || true)
    # shellcheck disable=SC2086
    [ -n "$ids" ] && d rm -f $ids >/dev/null 2>&1 || true
  fi
  if [ -n "$daemon" ]; then
    kill -TERM "$daemon" 2>/dev/null || true
    for _ in $(seq 1 200); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$daemon" 2>/dev/null || true
  fi
  awk -v w="$base" '$5 ~ "^"w {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf "$base"
}
trap cleanup EXIT

"$dockerd" --data-root "$base/data" --exec-root "$base/exec" --pidfile "$base/pid" -H "unix://$sock" \
  --bridge=none --iptables=false --ip6tables=false --containerd-namespace tsdbench --containerd-plugins-namespace tsdbench-p \
  >"$base/dockerd.log" 2>&1 &
daemon=$!
for _ in $(seq 1 300); do d version >/dev/null 2>&1 && break; sleep 0.1; done
d version >/dev/null || { echo "docker: dockerd did not answer: $(tail -3 "$base/dockerd.log")" >&2; exit 1; }
d load -i "$images/busybox-docker.tar" >/dev/null

json=$base/h.json
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$json.run" -n "docker run --rm true" "$cli -H unix://$sock run --rm --network none busybox true" >/dev/null
start=$(date +%s%3N)
seq 1 "$N" | xargs -P "$P" -I{} "$cli" -H "unix://$sock" run -d --network none --name "c{}" busybox sleep 1d >/dev/null
took=$(($(date +%s%3N) - start))
sleep 1
rss=0 pss=0 n=0
for pid in $(pgrep -f "containerd-shim.*-namespace tsdbench" || true); do
  r=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status") p=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
  rss=$((rss + r)) pss=$((pss + p)) n=$((n + 1))
done
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$json" \
  -n "docker ps" "$cli -H unix://$sock ps" -n "docker ps -a" "$cli -H unix://$sock ps -a" -n "docker inspect" "$cli -H unix://$sock inspect c1" >/dev/null
python3 - "$json.run" "$json" "$N" "$P" "$took" "$n" "$rss" "$pss" "$(d version -f '{{.Server.Version}}')" >"$out" <<'EOF'
import json, sys
a, b, n, p, took, shims, rss, pss, version = sys.argv[1:10]
res = json.load(open(a))["results"] + json.load(open(b))["results"]
shims = int(shims)
print(json.dumps({
    "docker": version, "n": int(n), "parallel": int(p), "start_per_s": round(int(n) * 1000 / max(int(took), 1), 1),
    "shims": shims, "shim_rss_kb": int(rss) // max(shims, 1), "shim_pss_kb": int(pss) // max(shims, 1),
    "median_ms": {r["command"]: round(r["median"] * 1000, 1) for r in res},
    "cpu_ms": {r["command"]: round((r["user"] + r["system"]) * 1000, 1) for r in res},
}))
EOF
cat "$out"
