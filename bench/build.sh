#!/usr/bin/env bash
# Cold and warm (cached) builds of one multi-stage Dockerfile: tsd build against `docker build`
# (a private dockerd: Docker's classic builder, and its built-in BuildKit when it builds here) and
# `buildah bud` (when installed; scripts/bootstrap.sh installs it).
# One hyperfine invocation for the cold builds (--no-cache), one for the warm ones (every step
# from the cache, primed by a warm-up). Stores on tmpfs. By hand only, never part of the suite.
#
#   sudo bash bench/build.sh             3 runs each (RUNS=5 for more)
#   COMPARE=/path/to/old/tsd sudo bash bench/build.sh   adds that tsd (its own store) as tsd-before
#   INTERLEAVE=1 sudo bash bench/build.sh   round-robin instead of hyperfine's one-engine-after-
#                                           another: each round times every engine once, so a
#                                           shared host's changing load falls on all of them
#
# The base is the test fixtures' busybox (test/fixtures/make-images.sh), loaded from its
# docker-save archive into each engine's own store. Every engine builds with --network none
# (the private dockerd has no bridge; tsd's and buildah's would add a veth per RUN).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=${RUNS:-3}
tsd=${TSD:-$repo/dist/tsd}
images=${TSD_TEST_IMAGES:-/tmp/tsd-test-images}

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root: sudo bash bench/build.sh"
for tool in hyperfine python3 /usr/sbin/dockerd docker; do
  command -v "$tool" >/dev/null || die "$tool not found (run scripts/bootstrap.sh; apt-get install docker.io)"
done
[ -x "$tsd" ] || die "$tsd not built (bash scripts/build.sh)"
command -v buildah >/dev/null || say "buildah not installed: comparing with docker only (apt-get install buildah to add it)"

bash "$repo/test/fixtures/make-images.sh" "$images"
work=$(mktemp -d /dev/shm/tsd-bench-build-XXXXXX)
dockerd_pid=""
cleanup() {
  if [ -n "$dockerd_pid" ]; then
    kill "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 200); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$dockerd_pid" 2>/dev/null || true
  fi
  # The build containers' parent group dockerd made (--cgroup-parent below), every hierarchy.
  for h in /sys/fs/cgroup/*/tsdbench-build /sys/fs/cgroup/tsdbench-build; do
    [ -d "$h" ] && find "$h" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  # dockerd's and buildah's overlay mounts, innermost first.
  awk -v w="$work" '$5 ~ "^"w {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# ---- the context: three stages, two of them independent -----------------------------------
ctx=$work/ctx
mkdir -p "$ctx/src"
for i in $(seq 1 200); do printf 'source %d\n' "$i" >"$ctx/src/s$i.txt"; done
head -c 4000000 /dev/urandom >"$ctx/blob.bin"
echo "setting=1" >"$ctx/config.txt"
cat >"$ctx/Dockerfile" <<'EOF'
FROM busybox AS gen
WORKDIR /src
COPY src/ ./
RUN mkdir /out && for i in $(seq 1 300); do echo "file $i" > /out/f$i.txt; done && cat *.txt | wc -l > /out/count

FROM busybox AS tools
COPY blob.bin /opt/blob.bin
RUN mkdir -p /opt/tools && cp /bin/busybox /opt/tools/bb && sha256sum /opt/blob.bin > /opt/tools/sum

FROM busybox
ENV APP=/app
LABEL org.example.bench=build
COPY --from=gen /out /app/data
COPY --from=tools /opt/tools /app/tools
COPY config.txt /app/
WORKDIR /app
RUN ls -R /app > /app/manifest
EXPOSE 8080
USER 1000
CMD ["cat", "/app/manifest"]
EOF

# ---- the engines ----------------------------------------------------------------------------
mkdir -p "$work/tsd"
"$tsd" --root "$work/tsd" load -q -i "$images/busybox-docker.tar" >/dev/null
compare=${COMPARE:-}
if [ -n "$compare" ]; then
  [ -x "$compare" ] || die "COMPARE=$compare is not an executable"
  mkdir -p "$work/tsd-before"
  "$compare" --root "$work/tsd-before" load -q -i "$images/busybox-docker.tar" >/dev/null
fi

d=$work/docker
mkdir -p "$d"
/usr/sbin/dockerd --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/pid" -H "unix://$d/sock" \
  --bridge=none --iptables=false --ip6tables=false \
  --containerd-namespace tsdbench --containerd-plugins-namespace tsdbench-p \
  --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent /tsdbench-build >"$d/log" 2>&1 &
dockerd_pid=$!
# Debian's docker CLI (20.10, as the engine): its DOCKER_BUILDKIT=1 needs no buildx plugin; a newer
# CLI earlier on PATH (/usr/local/bin) would.
dockercli=$(command -v /usr/bin/docker || command -v docker)
docker=("$dockercli" -H "unix://$d/sock")
for _ in $(seq 300); do "${docker[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
"${docker[@]}" version >/dev/null 2>&1 || die "the private dockerd did not start: $(tail -3 "$d/log")"
"${docker[@]}" load -q -i "$images/busybox-docker.tar" >/dev/null
say "docker: engine $("${docker[@]}" version -f '{{.Server.Version}}'), CLI $("${docker[@]}" version -f '{{.Client.Version}}')"

dk="$dockercli -H unix://$d/sock"
cold=(-n tsd "$tsd --root $work/tsd build -q --no-cache --network none -t bench $ctx"
  -n docker "DOCKER_BUILDKIT=0 $dk build -q --no-cache --network none -t bench $ctx")
warm=(-n tsd "$tsd --root $work/tsd build -q --network none -t bench $ctx"
  -n docker "DOCKER_BUILDKIT=0 $dk build -q --network none -t bench $ctx")
if [ -n "$compare" ]; then
  cold+=(-n tsd-before "$compare --root $work/tsd-before build -q --no-cache --network none -t bench $ctx")
  warm+=(-n tsd-before "$compare --root $work/tsd-before build -q --network none -t bench $ctx")
fi
# Docker 20.10's engine has BuildKit built in (DOCKER_BUILDKIT=1, no buildx needed); it is
# timed when a trial build works offline here (it resolves FROM from the engine's own images).
if DOCKER_BUILDKIT=1 $dk build -q --network none -t bench-bk-trial "$ctx" >/dev/null 2>"$work/bk-trial.log"; then
  cold+=(-n docker-buildkit "DOCKER_BUILDKIT=1 $dk build -q --no-cache --network none -t bench $ctx")
  warm+=(-n docker-buildkit "DOCKER_BUILDKIT=1 $dk build -q --network none -t bench $ctx")
else
  say "BuildKit did not build here ($(tail -1 "$work/bk-trial.log")): Docker's classic builder only"
fi
if command -v buildah >/dev/null; then
  b="buildah --root $work/buildah/root --runroot $work/buildah/run --storage-driver overlay"
  $b pull -q "docker-archive:$images/busybox-docker.tar" >/dev/null
  $b tag "$($b images -q | head -1)" busybox >/dev/null
  say "buildah: $(buildah --version)"
  cold+=(-n buildah "$b bud -q --runtime runc --layers --no-cache --network none -t bench $ctx")
  warm+=(-n buildah "$b bud -q --runtime runc --layers --network none -t bench $ctx")
fi
for cmd in "${cold[@]}"; do
  case $cmd in *" build"* | *" bud"*) bash -c "$cmd" >/dev/null 2>"$work/trial.log" || die "a trial build failed: $cmd: $(tail -3 "$work/trial.log")" ;; esac
done
say "stores on $(stat -f -c %T "$work"); $(nproc) CPUs; kernel $(uname -r)"

mkdir -p "$repo/bench/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
if [ -n "${INTERLEAVE:-}" ]; then
  # name<TAB>seconds lines per phase; medians and ratios against the first engine (tsd).
  round_robin() { # $1 phase, then -n NAME CMD pairs
    local phase=$1; shift
    local -a names=() cmds=()
    while [ $# -gt 0 ]; do names+=("$2"); cmds+=("$3"); shift 3; done
    if [ "$phase" = warm ]; then for c in "${cmds[@]}"; do bash -c "$c" >/dev/null 2>&1; done; fi
    for _ in $(seq "$runs"); do
      for i in "${!cmds[@]}"; do
        local t0 t1
        t0=$(date +%s%N)
        bash -c "${cmds[$i]}" >/dev/null 2>&1 || die "failed: ${cmds[$i]}"
        t1=$(date +%s%N)
        printf '%s\t%s\t%s\n' "$phase" "${names[$i]}" "$(((t1 - t0) / 1000))"
      done
    done
  }
  out=$repo/bench/results/build-interleaved-$stamp.tsv
  { round_robin cold "${cold[@]}"; round_robin warm "${warm[@]}"; } >"$out"
  python3 - "$out" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
for phase in ["cold", "warm"]:
    names = list(dict.fromkeys(n for p, n, _ in rows if p == phase))
    med = {n: statistics.median(int(us) for p, m, us in rows if p == phase and m == n) / 1e6 for n in names}
    a = names[0]
    for b in names[1:]:
        print(f"{phase} (interleaved, {sum(1 for p, m, _ in rows if p == phase and m == a)} rounds): {a} median {med[a]:.3f}s; {b} median {med[b]:.3f}s; {a}/{b} = {med[a] / med[b]:.2f}")
PY
  exit 0
fi
hyperfine --runs "$runs" --export-json "$repo/bench/results/build-cold-$stamp.json" "${cold[@]}"
hyperfine --runs "$runs" --warmup 1 --export-json "$repo/bench/results/build-warm-$stamp.json" "${warm[@]}"

python3 - "$repo/bench/results/build-cold-$stamp.json" "$repo/bench/results/build-warm-$stamp.json" <<'PY'
import json, sys
for f, what in zip(sys.argv[1:], ["cold", "warm"]):
    r = {x["command"]: x for x in json.load(open(f))["results"]}
    a, *others = list(r)
    for b in others:
        print(f"{what}: {a} median {r[a]['median']:.3f}s; {b} median {r[b]['median']:.3f}s; {a}/{b} = {r[a]['median'] / r[b]['median']:.2f}")
PY
