#!/usr/bin/env python3
# A/B timing with the runs interleaved (A, B, C, A, B, C, …), so every command sees the same
# load on a shared host, where hyperfine's one-command-after-another blocks can differ by tens of
# ms. By hand only, never part of the test suite.
#
#   python3 bench/interleave.py [--warmup N] [--export-json FILE] RUNS GAP_SECONDS NAME='COMMAND' …
#   python3 bench/interleave.py 60 0.3 tsd='dist/tsd --root R run --rm --network none busybox true' \
#     nowarm='TSD_NO_ATTACH_WARMUP=1 dist/tsd --root R run --rm --network none busybox true'
#
# Each COMMAND runs through bash -c (its start-up is in every figure alike). GAP: a pause after
# each run (0.3 s lets the kernel's cgroup v1 attach go cold between runs, as between a user's
# commands; 0 is hyperfine's back-to-back). Each round starts one command further on, so no
# command always runs first. --warmup: rounds run first and not counted. --export-json: the
# results in the shape of hyperfine's export (seconds; bench/rootless.sh reads it). Prints wall
# medians and means, the mean CPU time (user + system of the command and its children) and each
# median's ratio to the first's. A command that fails stops the run.
import json, os, resource, statistics, subprocess, sys, time

args = sys.argv[1:]
opts = {"--warmup": "0", "--export-json": ""}
while args and args[0] in opts:
    opts[args[0]] = args[1]
    args = args[2:]
warmup = int(opts["--warmup"])
runs, gap = int(args[0]), float(args[1])
cmds = [a.split("=", 1) for a in args[2:]]
wall = {n: [] for n, _ in cmds}
cpu = {n: [] for n, _ in cmds}
for rnd in range(warmup + runs):
    for k in range(len(cmds)):
        name, cmd = cmds[(k + rnd) % len(cmds)]
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        if subprocess.run(["bash", "-c", cmd], stdout=subprocess.DEVNULL).returncode != 0:
            sys.exit(f"interleave: {name} failed")
        elapsed = (time.perf_counter() - t) * 1000
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if rnd >= warmup:
            wall[name].append(elapsed)
            cpu[name].append((r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * 1000)
        time.sleep(gap)
if opts["--export-json"]:
    res = [{"command": n, "times": [w / 1000 for w in wall[n]], "median": statistics.median(wall[n]) / 1000, "mean": statistics.mean(wall[n]) / 1000,
            "stddev": statistics.stdev(wall[n]) / 1000 if runs > 1 else 0, "user": statistics.mean(cpu[n]) / 1000, "system": 0.0} for n, _ in cmds]
    json.dump({"interleaved": True, "results": res}, open(opts["--export-json"], "w"))
first = statistics.median(wall[cmds[0][0]])
for name, _ in cmds:
    m = statistics.median(wall[name])
    print(f"{name:12} median {m:7.1f} ms  mean {statistics.mean(wall[name]):7.1f} ms  CPU {statistics.mean(cpu[name]):6.1f} ms  {m / first:.2f}x")
print(f"{runs} runs each, interleaved, {gap} s apart; load average {os.getloadavg()[0]:.1f}")
