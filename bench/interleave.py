#!/usr/bin/env python3
# A/B timing with the runs interleaved (A, B, C, A, B, C, …), so every command sees the same
# load on a shared host, where hyperfine's one-command-after-another blocks can differ by tens of
# ms. By hand only, never part of the test suite.
#
#   python3 bench/interleave.py RUNS GAP_SECONDS NAME='COMMAND' NAME='COMMAND' …
#   python3 bench/interleave.py 60 0.3 tsd='dist/tsd --root R run --rm --network none busybox true' \
#     nowarm='TSD_NO_ATTACH_WARMUP=1 dist/tsd --root R run --rm --network none busybox true'
#
# Each COMMAND runs through bash -c (its start-up is in every figure alike). GAP: a pause after
# each run (0.3 s lets the kernel's cgroup v1 attach go cold between runs, as between a user's
# commands; 0 is hyperfine's back-to-back). Prints wall medians and means, the mean CPU time
# (user + system of the command and its children) and each median's ratio to the first's.
import os, resource, statistics, subprocess, sys, time

runs, gap = int(sys.argv[1]), float(sys.argv[2])
cmds = [a.split("=", 1) for a in sys.argv[3:]]
wall = {n: [] for n, _ in cmds}
cpu = {n: [] for n, _ in cmds}
for _ in range(runs):
    for name, cmd in cmds:
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(["bash", "-c", cmd], check=True, stdout=subprocess.DEVNULL)
        wall[name].append((time.perf_counter() - t) * 1000)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu[name].append((r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * 1000)
        time.sleep(gap)
first = statistics.median(wall[cmds[0][0]])
for name, _ in cmds:
    m = statistics.median(wall[name])
    print(f"{name:12} median {m:7.1f} ms  mean {statistics.mean(wall[name]):7.1f} ms  CPU {statistics.mean(cpu[name]):6.1f} ms  {m / first:.2f}x")
print(f"{runs} runs each, interleaved, {gap} s apart; load average {os.getloadavg()[0]:.1f}")
