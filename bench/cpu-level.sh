#!/usr/bin/env bash
# What the CPU floor costs: the Zig core built for x86-64 (v1), x86-64-v2 (the release floor,
# README "Portability"), x86-64-v3 (AVX2, BMI2) and this host's own CPU, each timed on
#   1. unpack of one real layer (the pull.sh image: busybox + /usr/lib/python3.11 +
#      /usr/share/doc), as plain tar, gzip and zstd, through libtsd's FFI (bench/unpack-one.ts)
#   2. `tsd run --rm --network none busybox true`: container start, where the monitor parses
#      the config and compiles the seccomp profile to BPF
# By hand only, never part of the test suite.
#
#   bash bench/cpu-level.sh                     RUNS=5 (unpack) START_RUNS=30 (run)
#   LEVELS="x86_64_v2 native" PARTS=run bash bench/cpu-level.sh   (PARTS: unpack, run or both)
#
# Each level gets a tree of its own under the work dir (a copy of src/ and bench/ with its own
# zig-out, built with `scripts/zig build -Dcpu=LEVEL --prefix TREE/zig-out`, and a dist/tsd
# compiled from it); the repository's own zig-out and dist/ are left alone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=${RUNS:-5}
start_runs=${START_RUNS:-30}
levels=(${LEVELS:-baseline x86_64_v2 x86_64_v3 native})
parts=${PARTS:-unpack run}
images=${TSD_TEST_IMAGES:-/tmp/tsd-test-images}

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (unpack sets owners; containers): bash bench/cpu-level.sh"
[ "$(uname -m)" = x86_64 ] || die "x86-64 only (the levels are x86-64's)"
for tool in hyperfine bun python3 gzip zstd objdump; do
  command -v "$tool" >/dev/null || die "$tool not found (run scripts/bootstrap.sh)"
done

bash "$repo/test/fixtures/make-images.sh" "$images" >/dev/null
work=$(mktemp -d "${BENCH_DIR:-/dev/shm}/tsd-bench-cpu-XXXXXX")
cleanup() {
  for lv in "${levels[@]}"; do
    [ -x "$work/tree-$lv/tsd" ] && "$work/tree-$lv/tsd" --root "$work/root" rm -f $("$work/tree-$lv/tsd" --root "$work/root" ps -aq 2>/dev/null) >/dev/null 2>&1 && break
  done
  awk -v w="$work" '$5 ~ "^"w {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf "$work"
}
trap cleanup EXIT
version=$(cd "$repo" && bun -e 'console.log(require("./package.json").version)')

# ---- one tree per level ---------------------------------------------------------------------
for lv in "${levels[@]}"; do
  tree=$work/tree-$lv
  mkdir -p "$tree"
  cp -a "$repo/src" "$repo/bench" "$repo/package.json" "$repo/tsconfig.json" "$repo/bunfig.toml" "$tree/"
  ln -s "$repo/node_modules" "$tree/node_modules"
  say "building the core for -Dcpu=$lv"
  (cd "$repo" && scripts/zig build -Dversion="$version" -Doptimize=ReleaseSafe -Dcpu="$lv" --prefix "$tree/zig-out")
  (cd "$tree" && "$repo/scripts/compile.sh" bun-linux-x64-baseline src/main.ts "$tree/tsd" >/dev/null)
  highest=$(bun "$repo/scripts/cpu-level.ts" 1 --dispatched unpack.sha256.compressShaNi "$tree/zig-out/lib/libtsd.so" "$tree/zig-out/bin/tsd-monitor" 2>&1 |
    grep -oE '\((x86-64-v[234]|an extension[^)]*)\)' | sort -u | tr '\n' ' ' || true)
  say "  $lv: libtsd.so $(stat -c %s "$tree/zig-out/lib/libtsd.so") B, tsd-monitor $(stat -c %s "$tree/zig-out/bin/tsd-monitor") B; beyond v1: ${highest:-nothing}"
done

mkdir -p "$here/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=()

# ---- the layer ---------------------------------------------------------------------------------
if [[ $parts == *unpack* ]]; then
BIG_LAYER_TAR_ONLY=1 . "$here/big-layer.sh"
big_layer_tar
gzip -6 -k "$work/layer.tar"
zstd -q -3 -k "$work/layer.tar"
say "layer: $(wc -l <"$work/list") entries; tar $(($(stat -c %s "$work/layer.tar") / 1000000)) MB, gzip $(($(stat -c %s "$work/layer.tar.gz") / 1000000)) MB, zstd $(($(stat -c %s "$work/layer.tar.zst") / 1000000)) MB; on $(stat -f -c %T "$work")"

for fmt in tar tar.gz tar.zst; do
  cmds=()
  for lv in "${levels[@]}"; do
    mkdir -p "$work/libroot-$lv"
    cmds+=(-n "$lv" "cd $work/tree-$lv && bun bench/unpack-one.ts $work/layer.$fmt $work/u $work/libroot-$lv")
  done
  say "unpack layer.$fmt"
  out=$here/results/cpu-level-unpack-${fmt//./-}-$stamp.json
  hyperfine --warmup 1 --runs "$runs" --export-json "$out" --prepare "rm -rf $work/u && mkdir $work/u" "${cmds[@]}" >&2
  results+=("unpack $fmt=$out")
done
fi

# ---- container start -------------------------------------------------------------------------------
if [[ $parts == *run* ]]; then
first=$work/tree-${levels[0]}/tsd
"$first" --root "$work/root" load -i "$images/busybox-docker.tar" >/dev/null
cmds=()
for lv in "${levels[@]}"; do
  "$work/tree-$lv/tsd" --root "$work/root" run --rm --network none busybox true || die "$lv: tsd run failed"
  cmds+=(-n "$lv" "$work/tree-$lv/tsd --root $work/root run --rm --network none busybox true")
done
say "run --rm --network none busybox true"
out=$here/results/cpu-level-run-$stamp.json
hyperfine --warmup 3 --runs "$start_runs" --export-json "$out" "${cmds[@]}" >&2
results+=("run --rm true=$out")
fi

python3 - "${results[@]}" <<'PY'
import json, sys
print("\nmedian seconds (ratio to x86_64_v2, the release floor; < 1 is faster):")
for arg in sys.argv[1:]:
    name, path = arg.split("=", 1)
    r = {x["command"]: x for x in json.load(open(path))["results"]}
    ref = r.get("x86_64_v2", next(iter(r.values())))["median"]
    cells = "  ".join(f"{k} {v['median']:.3f} ({v['median'] / ref:.3f}, sd {v['stddev']:.3f})" for k, v in r.items())
    print(f"  {name:16s} {cells}")
PY
