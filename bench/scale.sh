#!/usr/bin/env bash
# Scale (issue 16, goal 5), by hand, never by the tests: N detached `sleep` containers for
# N = 10, 100, 500 (SIZES), with `--network none` and on a bridge of the bench's own, in a
# root of their own on tmpfs. At each N:
#   - the start rate: the containers from the last N to this one started by P parallel CLIs
#     (`run -d`), containers per second;
#   - memory per container: each monitor's VmRSS and PSS (smaps_rollup), and the kernel's own
#     objects (Slab, KernelStack, PageTables, Shmem from /proc/meminfo; and MemAvailable) as the
#     difference from before the first container divided by N;
#   - one hyperfine run of `ps`, `ps -a`, `ps -a -q`, `inspect NAME`, `run --rm true` and
#     `rm NAME` (a `create` in hyperfine's --prepare);
# then removes everything (containers, the bridge, the root). Results: one JSON line per
# (network, N) in bench/results/scale-DATE.jsonl, and a table on stdout.
#
#   sudo bash scripts/build.sh && sudo bash bench/scale.sh
#   SIZES="10 100" P=4 NETS=none RUNS=10 sudo bash bench/scale.sh
#   COMPARE=/tmp/tsd-before sudo bash bench/scale.sh   # also `run --rm true` by another build, same run
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
TSD=${TSD:-$repo/dist/tsd}
SIZES=${SIZES:-10 100 500}
P=${P:-4}
NETS=${NETS:-none bridge}
RUNS=${RUNS:-20}
COMPARE=${COMPARE:-}
[ "$(id -u)" = 0 ] || { echo "scale: needs root" >&2; exit 1; }
images=/tmp/tsd-test-images
bash test/fixtures/make-images.sh "$images" >/dev/null
mkdir -p bench/results
out=${OUT:-bench/results/scale-$(date -u +%Y%m%dT%H%M).jsonl}
: >"$out"
root=""

t() { "$TSD" --root "$root" "$@"; }
teardown() {
  [ -n "$root" ] && [ -d "$root" ] || return 0
  ids=$(t ps -aq --no-trunc 2>/dev/null || true)
  # shellcheck disable=SC2086
  [ -n "$ids" ] && printf '%s\n' $ids | xargs -r -n 50 "$TSD" --root "$root" rm -f >/dev/null 2>&1 || true
  t network prune -f >/dev/null 2>&1 || true
  awk -v w="$root" '$5 ~ "^"w {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf "$root"
  root=""
}
trap teardown EXIT

meminfo() { awk '/^(Slab|KernelStack|PageTables|Shmem|MemAvailable):/ {gsub(":", "", $1); printf "%s=%s ", $1, $2}' /proc/meminfo; }
now_ms() { date +%s%3N; }

# Monitors of this root: mean VmRSS and PSS (kB).
monitor_mem() {
  local rss=0 pss=0 n=0 r p
  for pid in $(pgrep -f "^tsd-monitor --bundle $root/" || true); do
    r=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
    p=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null) || continue
    rss=$((rss + r)) pss=$((pss + p)) n=$((n + 1))
  done
  [ "$n" -gt 0 ] || { echo "0 0 0"; return; }
  echo "$n $((rss / n)) $((pss / n))"
}

for net in $NETS; do
  root=$(mktemp -d /dev/shm/tsd-scale-XXXXXX)
  t load -i "$images/busybox-docker.tar" >/dev/null
  netflag=(--network none)
  if [ "$net" = bridge ]; then
    # A /21 of its own: room for 500 containers on one bridge.
    printf '{"bridge": "tsdscale0", "subnet": "10.232.0.0/21"}\n' >"$root/network.json"
    netflag=()
  fi
  t run --rm "${netflag[@]}" busybox true # the binaries written, the bridge made
  before=$(meminfo)
  have=0
  for n in $SIZES; do
    start=$(now_ms)
    seq $((have + 1)) "$n" | xargs -P "$P" -I{} "$TSD" --root "$root" run -d "${netflag[@]}" --name "c{}" busybox sleep 1d >/dev/null
    took=$(($(now_ms) - start))
    rate=$(awk -v k=$((n - have)) -v ms="$took" 'BEGIN {printf "%.1f", k * 1000 / (ms > 0 ? ms : 1)}')
    have=$n
    running=$(t ps -q | wc -l)
    [ "$running" = "$n" ] || echo "scale: $running running, expected $n" >&2
    sleep 1
    read -r mon rss pss <<<"$(monitor_mem)"
    after=$(meminfo)
    kernel=$(python3 - "$before" "$after" "$n" <<'EOF'
import sys
b = dict(kv.split("=") for kv in sys.argv[1].split())
a = dict(kv.split("=") for kv in sys.argv[2].split())
n = int(sys.argv[3])
out = {k: round((int(a[k]) - int(b[k])) / n, 1) for k in ("Slab", "KernelStack", "PageTables", "Shmem")}
out["MemUsed"] = round((int(b["MemAvailable"]) - int(a["MemAvailable"])) / n, 1)
print(" ".join(f"{k}={v}" for k, v in out.items()))
EOF
)
    json=/tmp/tsd-scale-$$.json
    compare=()
    [ -n "$COMPARE" ] && compare=(-n "run --rm true (compare)" "$COMPARE --root $root run --rm ${netflag[*]} busybox true")
    hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$json" "${compare[@]}" \
      -n ps "$TSD --root $root ps" \
      -n "ps -a" "$TSD --root $root ps -a" \
      -n "ps -a -q" "$TSD --root $root ps -a -q" \
      -n inspect "$TSD --root $root inspect c1" \
      -n "run --rm true" "$TSD --root $root run --rm ${netflag[*]} busybox true" >/dev/null
    hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$json.rm" \
      --prepare "$TSD --root $root create ${netflag[*]} --name scale-rm busybox true" \
      -n rm "$TSD --root $root rm scale-rm" >/dev/null
    python3 - "$json" "$json.rm" "$net" "$n" "$P" "$rate" "$mon" "$rss" "$pss" "$kernel" >>"$out" <<'EOF'
import json, sys
a, b, net, n, p, rate, mon, rss, pss, kernel = sys.argv[1:11]
res = json.load(open(a))["results"] + json.load(open(b))["results"]
print(json.dumps({
    "network": net, "n": int(n), "parallel": int(p), "start_per_s": float(rate),
    "monitors": int(mon), "monitor_rss_kb": int(rss), "monitor_pss_kb": int(pss),
    "kernel_kb_per_container": {k: float(v) for k, v in (kv.split("=") for kv in kernel.split())},
    "median_ms": {r["command"]: round(r["median"] * 1000, 1) for r in res},
    "cpu_ms": {r["command"]: round((r["user"] + r["system"]) * 1000, 1) for r in res},
}))
EOF
    rm -f "$json" "$json.rm"
    tail -1 "$out" >&2
  done
  teardown
done

python3 - "$out" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cmds = ["ps", "ps -a", "ps -a -q", "inspect", "run --rm true", "rm"]
# Median wall time, then (in brackets) the mean CPU time (user + system): on a shared host the
# CPU time is the steadier figure.
print("| network | N | start/s (P CLIs) | monitor RSS / PSS kB | kernel kB/ctr (slab+stack+pt) | " + " | ".join(cmds) + " |")
print("|---|---|---|---|---|" + "---|" * len(cmds))
extra = []
for r in rows:
    k = r["kernel_kb_per_container"]
    kern = k["Slab"] + k["KernelStack"] + k["PageTables"]
    if "run --rm true (compare)" in r["median_ms"]:
        extra.append(f"{r['network']} N={r['n']}: run --rm true {r['median_ms']['run --rm true']} ({r['cpu_ms']['run --rm true']}) ms, "
                     f"COMPARE's {r['median_ms']['run --rm true (compare)']} ({r['cpu_ms']['run --rm true (compare)']}) ms")
    print(f"| {r['network']} | {r['n']} | {r['start_per_s']} ({r['parallel']}) | {r['monitor_rss_kb']} / {r['monitor_pss_kb']} | {kern:.0f} (used {k['MemUsed']:.0f}) | "
          + " | ".join(f"{r['median_ms'][c]} ({r.get('cpu_ms', {}).get(c, '-')}) ms" for c in cmds) + " |")
for e in extra:
    print(e)
EOF
echo "results: $out"
