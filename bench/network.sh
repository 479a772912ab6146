#!/usr/bin/env bash
# Networking costs, by hand only (never part of the test suite):
#  1. `tsd run --rm busybox true` on the default bridge against --network none and host, in one
#     hyperfine run (the bridge adds the netns + veth + lease + NAT bookkeeping);
#  2. TCP throughput from the host into a container (busybox httpd serving a tmpfs file, curl
#     on the host): the container's address directly, a published port through 127.0.0.1
#     (DNAT + route_localnet + masquerade) and through the host's own address (DNAT).
# podman and docker are compared when they run on this host; otherwise it says so.
#
#   sudo bash bench/network.sh               RUNS=30 WARMUP=3 SIZE_MB=256 TRIES=5
#   TSD=/path/to/tsd sudo bash bench/network.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=${RUNS:-30}
warmup=${WARMUP:-3}
size_mb=${SIZE_MB:-256}
tries=${TRIES:-5}
tsd=${TSD:-$repo/dist/tsd}
images=${TSD_TEST_IMAGES:-/tmp/tsd-test-images}

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (containers): sudo bash bench/network.sh"
for tool in hyperfine curl python3; do command -v "$tool" >/dev/null || die "$tool not found (run scripts/bootstrap.sh)"; done
bash "$repo/test/fixtures/make-images.sh" "$images" >/dev/null

work=$(mktemp -d /dev/shm/tsd-bench-net-XXXXXX)
root=$work/root
mkdir -p "$root" "$here/results"
# Its own bridge and subnet: nothing shared with a tsd0 in use on this host.
echo '{"bridge": "tsdbench0", "subnet": "10.239.0.0/24"}' > "$root/network.json"
T() { "$tsd" --root "$root" "$@"; }
cleanup() {
  T rm -f netbench >/dev/null 2>&1 || true
  T network prune -f >/dev/null 2>&1 || true
  awk -v w="$work" '$5 ~ "^"w {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf "$work"
}
trap cleanup EXIT
T load -i "$images/busybox-docker.tar" >/dev/null

stamp=$(date -u +%Y%m%dT%H%M%SZ)
json=$here/results/network-run-$stamp.json
say "run --rm busybox true: bridge vs none vs host ($runs runs, $warmup warm-ups, root on tmpfs)"
hyperfine -N --runs "$runs" --warmup "$warmup" --export-json "$json" \
  -n bridge "$tsd --root $root run --rm busybox true" \
  -n none "$tsd --root $root run --rm --network none busybox true" \
  -n host "$tsd --root $root run --rm --network host busybox true" >&2
python3 - "$json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
med = lambda n: r[n]["median"] * 1000
print(f"run true median: bridge {med('bridge'):.1f} ms, none {med('none'):.1f} ms, host {med('host'):.1f} ms; "
      f"bridge/none {med('bridge')/med('none'):.2f}x, bridge-none {med('bridge')-med('none'):.1f} ms")
EOF
say "published ports: run --rm with 0, 1 and 10 -p (one nft transaction each way, however many)"
ports10=""
for i in $(seq 1 10); do ports10="$ports10 -p $((18900 + i)):$((80 + i))"; done
json_ports=$here/results/network-ports-$stamp.json
hyperfine -N --runs "$runs" --warmup "$warmup" --export-json "$json_ports" \
  -n p0 "$tsd --root $root run --rm busybox true" \
  -n p1 "$tsd --root $root run --rm -p 18900:80 busybox true" \
  -n p10 "$tsd --root $root run --rm $ports10 busybox true" >&2
python3 - "$json_ports" <<'EOF2'
import json, sys
r = {x["command"]: x["median"] * 1000 for x in json.load(open(sys.argv[1]))["results"]}
print(f"ports median: 0 {r['p0']:.1f} ms, 1 {r['p1']:.1f} ms, 10 {r['p10']:.1f} ms; per extra port {(r['p10']-r['p1'])/9:.2f} ms")
EOF2
# Measured 2026-11-23: podman 4.3.1 is installed but its containers do not start here (runc and
# crun cannot set RLIMIT_NPROC/NOFILE: root lacks CAP_SYS_RESOURCE); docker is not installed.
for peer in podman docker; do
  if command -v "$peer" >/dev/null; then
    say "$peer: installed; on these hosts its containers fail on rlimits (see above), so it is not in the hyperfine run"
  else
    say "$peer: not installed"
  fi
done
say "DESIGN.md's figures for the peers on these hosts: podman 205 ms none / 420 ms bridge, docker 360 / 480 ms"

say "throughput: ${size_mb} MB over TCP, median of $tries"
T run -d --name netbench -p 127.0.0.1:18801:80 -p 18802:80 busybox sh -c \
  "dd if=/dev/zero of=/tmp/big bs=1M count=$size_mb 2>/dev/null; touch /tmp/ready; exec httpd -f -p 80 -h /tmp" >/dev/null
ip=$(T network inspect bridge | python3 -c 'import json,sys; print(next(iter(json.load(sys.stdin)[0]["Containers"].values()))["IPv4Address"].split("/")[0])')
hostip=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect(("192.0.2.254", 9)); print(s.getsockname()[0])' 2>/dev/null || hostname -I | awk '{print $1}')
for i in $(seq 100); do curl -sf -o /dev/null "http://$ip/ready" && break; sleep 0.1; done
speed() { # URL → median MB/s
  for _ in $(seq "$tries"); do curl -s -o /dev/null -w '%{speed_download}\n' "$1"; done |
    sort -n | awk '{a[NR]=$1} END {printf "%.0f", a[int((NR+1)/2)]/1e6}'
}
direct=$(speed "http://$ip/big")
lo=$(speed "http://127.0.0.1:18801/big")
hostaddr=$(speed "http://$hostip:18802/big")
echo "throughput MB/s (median): direct $ip $direct, published via 127.0.0.1 $lo ($(python3 -c "print(f'{$lo/$direct:.2f}')")x), via $hostip $hostaddr ($(python3 -c "print(f'{$hostaddr/$direct:.2f}')")x)"
