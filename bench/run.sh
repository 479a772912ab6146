#!/usr/bin/env bash
# `run … true` wall time: tsd against crun and runc, in one hyperfine run, on the same busybox
# rootfs (test/fixtures/make-images.sh). By hand only, never part of the test suite.
#
#   sudo bash bench/run.sh                 50 runs after 5 warm-ups each
#   RUNS=20 WARMUP=2 sudo bash bench/run.sh
#   TSD=/path/to/tsd sudo bash bench/run.sh     another tsd binary (default dist/tsd)
#   COMPARE=/tmp/tsd-before sudo bash bench/run.sh  also that build ("tsd-before", same root)
#   BRIDGE=0 sudo bash bench/run.sh              without the tsd-bridge command
#   NOWARM=1 sudo bash bench/run.sh              also "tsd-nowarm": TSD_NO_ATTACH_WARMUP=1 (cgroup/warm.ts)
#   BENCH_DIR=/mnt/ext4/x sudo bash bench/run.sh  bundle and tsd root elsewhere (default tmpfs)
#
# Writes bench/results/run-true-DATE.json (hyperfine's export) and prints medians and the
# tsd/crun and tsd/runc ratios. See bench/README.md for what each command includes.
set -euo pipefail
bench_name=run.sh
. "$(dirname "$0")/lib.sh"

# A second bundle with what tsd applies by default and `runc spec` does not: Docker's seccomp
# profile exactly as tsd renders it, and no_new_privs. "crun+sec"/"runc+sec" do the same work
# as tsd; "crun"/"runc" are the bare bundles.
bundle_sec=$work/bundle-sec
mkdir -p "$bundle_sec"
(cd "$repo" && bun -e '
  import { defaultSeccomp } from "./src/container/seccomp";
  import { DEFAULT_CAPS } from "./src/container/caps";
  await Bun.write(process.argv[1], JSON.stringify(defaultSeccomp(DEFAULT_CAPS)));
' "$work/profile.json")
python3 - "$bundle/config.json" "$bundle_sec/config.json" "$bundle/rootfs" "$work/profile.json" <<'EOF'
import json, sys
src, dst, rootfs, profile = sys.argv[1:]
c = json.load(open(src))
c["root"]["path"] = rootfs
c["process"]["noNewPrivileges"] = True
c["linux"]["seccomp"] = json.load(open(profile))
json.dump(c, open(dst, "w"), indent=2)
EOF

tsd_trial --rm --network none busybox true
say "bundle and tsd root on $(fs_of "$work"); $(nproc) CPUs; kernel $(uname -r)"

commands=()
[ -n "$crun_cmd" ] && commands+=(-n crun "$crun_cmd run -b $bundle tsd-bench-crun-\$\$")
commands+=(-n runc "runc run -b $bundle tsd-bench-runc-\$\$")
[ -n "$crun_cmd" ] && commands+=(-n crun+sec "$crun_cmd run -b $bundle_sec tsd-bench-crun-\$\$")
commands+=(-n runc+sec "runc run -b $bundle_sec tsd-bench-runc-\$\$")
# --network none is what the crun/runc bundle has (a new network namespace with only lo);
# tsd-bridge adds tsd's default network (veth, address, route on a bridge of its own).
if [ $tsd_ok = 1 ]; then
  printf '{"bridge": "tsdbench0", "subnet": "10.231.0.0/24"}\n' > "$root/network.json"
  commands+=(-n tsd "$tsd --root $root run --rm --network none busybox true")
  [ "${NOWARM:-0}" = 1 ] && commands+=(-n tsd-nowarm "TSD_NO_ATTACH_WARMUP=1 $tsd --root $root run --rm --network none busybox true")
  [ -n "${COMPARE:-}" ] && commands+=(-n tsd-before "$COMPARE --root $root run --rm --network none busybox true")
  [ "${BRIDGE:-1}" = 1 ] && commands+=(-n tsd-bridge "$tsd --root $root run --rm busybox true")
  # The floor of any tsd command: Bun's start and the CLI's entry.
  commands+=(-n tsd-version "$tsd --version")
fi

mkdir -p "$here/results"
json=$here/results/run-true-$(date -u +%Y%m%dT%H%M%SZ).json
# bash, not sh: each run's $$ is a fresh container id; hyperfine subtracts the shell's start-up.
"${ns_wrap[@]}" hyperfine --shell=bash --style basic --warmup "$warmup" --runs "$runs" \
  --export-json "$json" "${commands[@]}"

python3 - "$json" "$(fs_of "$work")" "$crun_note" "$tsd_note" <<'EOF'
import json, sys
path, fs, crun_note, tsd_note = sys.argv[1:5]
res = {r["command"]: r for r in json.load(open(path))["results"]}
ms = lambda s: f"{s * 1000:7.1f} ms"
width = max(len(n) for n in res)
print(f"\nrun … true, {len(next(iter(res.values()))['times'])} runs each; bundle and tsd root on {fs}")
print(f"{'':{width}} {'median':>10} {'mean':>10} {'stddev':>10} {'min':>10} {'max':>10} {'CPU':>10}")
for name, r in res.items():
    print(f"{name:{width}} {ms(r['median']):>10} {ms(r['mean']):>10} {ms(r['stddev'] or 0):>10} {ms(r['min']):>10} {ms(r['max']):>10} {ms(r['user'] + r['system']):>10}")
for mine in ("tsd", "tsd-nowarm", "tsd-before", "tsd-bridge"):
    for peer in ("crun", "runc", "crun+sec", "runc+sec"):
        if mine in res and peer in res:
            print(f"{mine}/{peer} (median): {res[mine]['median'] / res[peer]['median']:.2f}x")
if "tsd" in res and "tsd-nowarm" in res:
    print(f"tsd/tsd-nowarm (median): {res['tsd']['median'] / res['tsd-nowarm']['median']:.2f}x")
if "tsd" in res and "tsd-before" in res:
    print(f"tsd/tsd-before (median): {res['tsd']['median'] / res['tsd-before']['median']:.2f}x")
if "crun" in res and "runc" in res:
    print(f"runc/crun (median): {res['runc']['median'] / res['crun']['median']:.2f}x")
print("(+sec: the bundle with Docker's seccomp profile and no_new_privs, as tsd runs every container)")
print(f"notes: {crun_note}; {tsd_note}")
print(f"raw: {path}")
EOF
