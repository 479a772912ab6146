#!/usr/bin/env bash
# What exec'ing tsd-monitor from a sealed memfd costs (issue 9, item 5): every `run` and `exec`
# copies the embedded monitor (about 470 KB) into a new memfd instead of exec'ing a file under
# <root>/bin. Two tsd binaries side by side in one hyperfine run each:
#   1. `run --rm --network none busybox true`;
#   2. `exec C true` in a running container;
#   3. the mean VmRSS / PSS of N running monitors and how many binaries back them (a start
#      shares the sealed memfd of a running monitor with the same bytes; without that each
#      monitor's copy is ~470 KB of shmem and its text pages are not shared).
# By hand only, never part of the test suite.
#
#   sudo bash bench/monitor-exe.sh /path/to/tsd-before            (after: dist/tsd)
#   RUNS=30 N=10 AFTER=/path/to/tsd sudo bash bench/monitor-exe.sh /path/to/tsd-before
set -euo pipefail
cd "$(dirname "$0")/.."
before=${1:?usage: bench/monitor-exe.sh TSD_BEFORE}
after=${AFTER:-$PWD/dist/tsd}
runs=${RUNS:-30}
n=${N:-10}
bash test/fixtures/make-images.sh /tmp/tsd-test-images >/dev/null
work=$(mktemp -d /dev/shm/tsd-bench-mexe-XXXXXX)
cleanup() {
  for side in before after; do
    bin=$before; [ $side = after ] && bin=$after
    ids=$("$bin" --root "$work/$side" ps -aq --no-trunc 2>/dev/null || true)
    [ -n "$ids" ] && "$bin" --root "$work/$side" rm -f $ids >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
for side in before after; do
  bin=$before; [ $side = after ] && bin=$after
  mkdir -p "$work/$side"
  "$bin" --root "$work/$side" load -i /tmp/tsd-test-images/busybox-docker.tar >/dev/null
  "$bin" --root "$work/$side" run -d --network none --name bench-exec busybox sleep 3600 >/dev/null
done

hyperfine -N --warmup 5 --runs "$runs" \
  -n "run before" "$before --root $work/before run --rm --network none busybox true" \
  -n "run after" "$after --root $work/after run --rm --network none busybox true"
hyperfine -N --warmup 5 --runs "$runs" \
  -n "exec before" "$before --root $work/before exec bench-exec true" \
  -n "exec after" "$after --root $work/after exec bench-exec true"

for side in before after; do
  bin=$before; [ $side = after ] && bin=$after
  for _ in $(seq 1 "$n"); do "$bin" --root "$work/$side" run -d --network none busybox sleep 3600 >/dev/null; done
  sleep 0.5
  rss=0 pss=0 m=0
  for pid in $(pgrep -f "^([^ ]*/)?tsd-monitor --bundle $work/$side/"); do
    rss=$((rss + $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")))
    pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")))
    m=$((m + 1))
    echo "$(stat -L -c '%d:%i' "/proc/$pid/exe")" >> "$work/exes-$side"
  done
  echo "$side: $m monitors, mean VmRSS $((rss / m)) kB, mean PSS $((pss / m)) kB; $(sort -u "$work/exes-$side" | wc -l) distinct binaries behind them"
done
