#!/usr/bin/env bash
# The cost of cgroup set-up: `run … true` without and with limits (-m 64m --cpus 0.5
# --pids-limit 100), tsd beside crun and runc given the same limits (linux.resources), in one
# hyperfine run on the same busybox rootfs. By hand only, never part of the test suite.
# Without limits every runtime still makes the container's cgroup (tsd: tsd/<id>). tsd runs with
# --network none, which is what the crun/runc bundle has (a network namespace with only lo).
#
#   sudo bash bench/cgroups.sh             50 runs after 5 warm-ups each
#   RUNS=20 WARMUP=2 sudo bash bench/cgroups.sh
#   TSD=/path/to/tsd sudo bash bench/cgroups.sh     another tsd binary (default dist/tsd)
#   BENCH_DIR=/mnt/ext4/x sudo bash bench/cgroups.sh  bundle and tsd root elsewhere (default tmpfs)
#
# Writes bench/results/cgroups-DATE.json (hyperfine's export) and prints medians and the
# tsd/crun and tsd/runc ratios. See bench/README.md for what each command includes.
set -euo pipefail
bench_name=cgroups.sh
. "$(dirname "$0")/lib.sh"
# The same bundle with the limits tsd writes for -m 64m --cpus 0.5 --pids-limit 100.
limited=$work/limited
mkdir -p "$limited"
python3 - "$bundle/config.json" "$limited/config.json" "$bundle/rootfs" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["root"]["path"] = sys.argv[3]  # one rootfs for both bundles
c["linux"]["resources"] = {
    "memory": {"limit": 64 << 20, "swap": 128 << 20},
    "cpu": {"quota": 50000, "period": 100000},
    "pids": {"limit": 100},
}
json.dump(c, open(sys.argv[2], "w"), indent=2)
EOF

trial runc run -b "$limited" "tsd-bench-trial-$$" || die "runc cannot run the limited bundle: $(cat "$work/trial.log")"

tsd_trial --rm --network none -m 64m --cpus 0.5 --pids-limit 100 busybox true
say "bundle and tsd root on $(fs_of "$work"); $(nproc) CPUs; kernel $(uname -r)"

commands=()
if [ -n "$crun_cmd" ]; then
  commands+=(-n crun "$crun_cmd run -b $bundle tsd-bench-crun-\$\$")
  commands+=(-n crun-limits "$crun_cmd run -b $limited tsd-bench-crun-\$\$")
fi
commands+=(-n runc "runc run -b $bundle tsd-bench-runc-\$\$")
commands+=(-n runc-limits "runc run -b $limited tsd-bench-runc-\$\$")
if [ $tsd_ok = 1 ]; then
  commands+=(-n tsd "$tsd --root $root run --rm --network none busybox true")
  commands+=(-n tsd-limits "$tsd --root $root run --rm --network none -m 64m --cpus 0.5 --pids-limit 100 busybox true")
fi

mkdir -p "$here/results"
json=$here/results/cgroups-$(date -u +%Y%m%dT%H%M%SZ).json
# bash, not sh: each run's $$ is a fresh container id; hyperfine subtracts the shell's start-up.
"${ns_wrap[@]}" hyperfine --shell=bash --style basic --warmup "$warmup" --runs "$runs" \
  --export-json "$json" "${commands[@]}"

python3 - "$json" "$(fs_of "$work")" "$crun_note" "$tsd_note" <<'EOF'
import json, sys
path, fs, crun_note, tsd_note = sys.argv[1:5]
res = {r["command"]: r for r in json.load(open(path))["results"]}
ms = lambda s: f"{s * 1000:7.1f} ms"
print(f"\nrun … true without and with limits (-m 64m --cpus 0.5 --pids-limit 100), {len(next(iter(res.values()))['times'])} runs each; bundle and tsd root on {fs}")
print(f"{'':12} {'median':>10} {'mean':>10} {'stddev':>10} {'min':>10} {'max':>10}")
for name, r in res.items():
    print(f"{name:12} {ms(r['median']):>10} {ms(r['mean']):>10} {ms(r['stddev'] or 0):>10} {ms(r['min']):>10} {ms(r['max']):>10}")
med = lambda n: res[n]["median"]
for rt in ("tsd", "crun", "runc"):
    if rt in res and f"{rt}-limits" in res:
        print(f"{rt}: limits cost {(med(rt + '-limits') - med(rt)) * 1000:+.1f} ms (median), ratio {med(rt + '-limits') / med(rt):.2f}x")
if "tsd-limits" in res:
    for peer in ("crun-limits", "runc-limits"):
        if peer in res:
            print(f"tsd-limits/{peer} (median): {med('tsd-limits') / med(peer):.2f}x")
print(f"notes: {crun_note}; {tsd_note}")
print(f"raw: {path}")
EOF
