#!/usr/bin/env bash
# A monitor's memory per running container (issue 16, goal 4: <= 400 kB VmRSS), by hand, never
# by the tests. N containers of each kind in a root of their own on tmpfs, `--network none`:
#   idle      `run -d … sleep 3600`
#   output    `run -d … sh -c 'while :; do echo hello; sleep 0.2; done'` (json-file log)
#   flood     `run -d … sh -c 'while :; do echo hello…; done'` (a line as fast as it can)
#   burst     `run -d`: 8 MB of output in lines of 40 KiB (split at 16 KiB), then the 0.2 s loop:
#             the scratch pages the burst touched are given back once it has passed
#   fg        the same 0.2 s loop, `run` in the foreground, its output into a pipe
#   fg-tty    the same 0.2 s loop, `run -t` in the foreground (a pty), its output into a pipe
# After SETTLE seconds of output: each kind's mean VmRSS, PSS and private (anon) kB from
# /proc/PID/status and smaps_rollup, and, for one monitor of each kind, its mappings' Rss.
#
#   sudo bash scripts/build.sh && sudo bash bench/monitor-rss.sh
#   N=5 SETTLE=10 KINDS="idle output" TSD=/tmp/tsd-before sudo bash bench/monitor-rss.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TSD=${TSD:-$PWD/dist/tsd}
N=${N:-3}
SETTLE=${SETTLE:-6}
KINDS=${KINDS:-idle output flood burst fg fg-tty}
[ "$(id -u)" = 0 ] || { echo "monitor-rss: needs root" >&2; exit 1; }
bash test/fixtures/make-images.sh /tmp/tsd-test-images >/dev/null
root=$(mktemp -d /dev/shm/tsd-bench-rss-XXXXXX)
fg_pids=()
t() { "$TSD" --root "$root" "$@"; }
cleanup() {
  ids=$(t ps -aq --no-trunc 2>/dev/null || true)
  # shellcheck disable=SC2086
  [ -n "$ids" ] && t rm -f $ids >/dev/null 2>&1 || true
  for p in "${fg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$root"
}
trap cleanup EXIT
t load -i /tmp/tsd-test-images/busybox-docker.tar >/dev/null

loop='while :; do echo hello; sleep 0.2; done'
flood='while :; do echo hello-hello-hello-hello-hello-hello-hello-hello; done'
burst="i=0; while [ \$i -lt 200 ]; do head -c 40960 /dev/zero | tr '\\0' a; echo; i=\$((i + 1)); done; $loop"
start() { # kind index
  local name="rss-$1-$2"
  case $1 in
    idle) t run -d --network none --name "$name" busybox sleep 3600 >/dev/null ;;
    output) t run -d --network none --name "$name" busybox sh -c "$loop" >/dev/null ;;
    flood) t run -d --network none --name "$name" busybox sh -c "$flood" >/dev/null ;;
    burst) t run -d --network none --name "$name" busybox sh -c "$burst" >/dev/null ;;
    fg) (t run --network none --name "$name" busybox sh -c "$loop" | cat >/dev/null) &
      fg_pids+=($!) ;;
    fg-tty) (t run -t --network none --name "$name" busybox sh -c "$loop" </dev/null | cat >/dev/null) &
      fg_pids+=($!) ;;
  esac
}
for kind in $KINDS; do for i in $(seq 1 "$N"); do start "$kind" "$i"; done; done
sleep "$SETTLE"

# The monitor of container NAME: the tsd-monitor whose --id is its full id.
monitor_of() {
  local id
  id=$(t inspect -f '{{.Id}}' "$1")
  pgrep -f "^([^ ]*/)?tsd-monitor --bundle $root/.* --id $id" | head -1
}
printf '%-8s %3s %8s %8s %8s\n' kind n 'VmRSS' 'PSS' 'anon'
for kind in $KINDS; do
  rss=0 pss=0 anon=0 n=0
  for i in $(seq 1 "$N"); do
    pid=$(monitor_of "rss-$kind-$i") || continue
    [ -n "$pid" ] || continue
    rss=$((rss + $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")))
    pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")))
    anon=$((anon + $(awk '/^Anonymous:/ {print $2}' "/proc/$pid/smaps_rollup")))
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || { echo "$kind: no monitor found" >&2; continue; }
  printf '%-8s %3d %6d kB %6d kB %6d kB\n' "$kind" "$n" $((rss / n)) $((pss / n)) $((anon / n))
done
echo
for kind in $KINDS; do
  pid=$(monitor_of "rss-$kind-1") || continue
  [ -n "$pid" ] || continue
  echo "$kind (pid $pid): Rss kB per mapping"
  awk '/^[0-9a-f]+-[0-9a-f]+ / {m = $2 " " ($6 == "" ? "[anon]" : $6)} /^Rss:/ && $2 > 0 {printf "  %6d  %s\n", $2, m}' "/proc/$pid/smaps"
done
