#!/usr/bin/env bash
# containerd create → start → wait → delete of busybox through the runc v2 shim, one OCI
# runtime at a time as the shim's BinaryName (`ctr run --rm --runc-binary RUNTIME … true`: a
# container and a task created, the task started, waited for, deleted, the container deleted).
# One containerd of our own (test/oci/lib.sh), one hyperfine invocation over every runtime.
#   bash bench/containerd-lifecycle.sh                 # runc, crun and dist/tsd-runc
#   RUNTIMES="runc crun dist/tsd-runc" RUNS=30 WARMUP=3 bash bench/containerd-lifecycle.sh
# dist/tsd-runc is tsd's front (zig/front/: state/start/kill/delete without Bun, the rest
# through dist/tsd); a link named tsd-runc to dist/tsd times the all-Bun runtime.
#   INTERLEAVE=1 RUNS=40 bash bench/containerd-lifecycle.sh   # round-robin, for a loaded host
# Prints hyperfine's table and each runtime's median as a ratio to the first one's. Run by
# hand (never by the tests); results in bench/results/containerd-lifecycle-DATE.json.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/oci/lib.sh
RUNTIMES=${RUNTIMES:-runc crun dist/tsd-runc}
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
command -v hyperfine >/dev/null || { echo "hyperfine not found (apt-get install hyperfine)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
oci_images
trap 'oci_stop_containerd' EXIT
trap 'exit 130' INT TERM
oci_start_containerd "$(command -v runc)"
echo "containerd $(containerd --version | awk '{print $3}'), $OCI_NS_NOTE, state in $CTRD_DIR ($(stat -f -c %T "$CTRD_DIR"))"
NS=$CTRD_CGROUP
oci_import "$NS" "$OCI_IMAGES/busybox-oci.tar" localhost/tsd-busybox

cmds=() names=()
for r in $RUNTIMES; do
  path=$(oci_runtime_path "$r") || exit 1
  name=$(basename "$path")
  # One trial first: a runtime that cannot run here is reported, not timed.
  if ! out=$("${CTR[@]}" -n "$NS" run --rm --runc-binary "$path" --runc-root "$CTRD_RUNC_ROOT" \
      localhost/tsd-busybox:latest "trial-$name" true 2>&1); then
    echo "$name: cannot run here, left out: $out" >&2
    continue
  fi
  names+=("$name")
  cmds+=(-n "$name" "ctr --address $CTRD_SOCK -n $NS run --rm --runc-binary $path --runc-root $CTRD_RUNC_ROOT localhost/tsd-busybox:latest b-$name-\$\$ true")
done
[ ${#names[@]} -gt 0 ] || { echo "no runtime could run" >&2; exit 1; }
# INTERLEAVE=1: round-robin instead of hyperfine's one runtime after another, each `ctr run`
# timed alone; on a host whose load changes over the run, every runtime sees the same load.
if [ "${INTERLEAVE:-0}" = 1 ]; then
  for i in $(seq "$RUNS"); do
    for n in "${!names[@]}"; do
      t=$(date +%s%N)
      bash -c "${cmds[$((n * 3 + 2))]//\$\$/$$-$i}" >/dev/null 2>&1 || echo "${names[$n]}: run $i failed" >&2
      echo "${names[$n]} $(( $(date +%s%N) - t ))"
    done
  done | python3 -c '
import statistics, sys
rows = {}
for l in sys.stdin:
    n, t = l.split(); rows.setdefault(n, []).append(int(t) / 1e6)
base = None
print("medians, interleaved (ratio to the first):")
for n, ts in rows.items():
    m = statistics.median(ts); base = base or m
    print(f"  {n:<8} {m:8.1f} ms  {m / base:.2f}x  ({len(ts)} runs)")
'
  oci_stop_containerd
  trap - EXIT
  exit 0
fi
mkdir -p bench/results
json=bench/results/containerd-lifecycle-$(date -u +%Y%m%dT%H%M%SZ).json
hyperfine --shell=bash --warmup "$WARMUP" --runs "$RUNS" --export-json "$json" "${cmds[@]}"
python3 - "$json" <<'PY'
import json, sys
rs = json.load(open(sys.argv[1]))["results"]
base = rs[0]
print(f"\nmedians (ratio to {base['command']}):")
for r in rs:
    print(f"  {r['command']:<8} {r['median'] * 1000:8.1f} ms  {r['median'] / base['median']:.2f}x")
PY
oci_stop_containerd
trap - EXIT
