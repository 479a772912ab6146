#!/usr/bin/env bash
# The benchmark page's plot, bench/scale.png, from the newest results in bench/results/ (or the
# files named): how ps, ps -a, inspect, run --rm and rm grow with the number of containers
# (scale.sh), with and without the bridge, and docker's ps/inspect at its N (docker.sh) beside
# them, and the run --rm of another build when scale.sh ran with COMPARE=. Needs gnuplot (Debian: gnuplot-nox, installed by scripts/bootstrap.sh).
#
#   bash bench/plot.sh [SCALE.jsonl] [DOCKER.json]
set -euo pipefail
cd "$(dirname "$0")"
command -v gnuplot >/dev/null || { echo "plot: gnuplot not found (apt-get install gnuplot-nox)" >&2; exit 1; }
scale=${1:-$(ls -t results/scale-*.jsonl 2>/dev/null | head -1 || true)}
docker=${2:-$(ls -t results/docker-*.json 2>/dev/null | head -1 || true)}
[ -n "$scale" ] || { echo "plot: no results/scale-*.jsonl (run bench/scale.sh)" >&2; exit 1; }
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
python3 - "$scale" "${docker:-}" "$data" <<'EOF'
import json, sys
scale, docker, out = sys.argv[1:4]
cmds = ["ps", "ps -a", "inspect", "run --rm true", "rm"]
rows = [json.loads(l) for l in open(scale) if l.strip()]
for net in ("none", "bridge"):
    with open(f"{out}/{net}.dat", "w") as f:
        for r in sorted((r for r in rows if r["network"] == net), key=lambda r: r["n"]):
            cpu = r.get("cpu_ms", r["median_ms"])
            # scale.sh COMPARE=: another build's run --rm true, same run (else NaN: not drawn).
            cmp = [str(r["median_ms"].get("run --rm true (compare)", "NaN")), str(cpu.get("run --rm true (compare)", "NaN"))]
            f.write(f"{r['n']} " + " ".join(str(r["median_ms"][c]) for c in cmds) + " " + " ".join(str(cpu[c]) for c in cmds) + " " + " ".join(cmp) + "\n")
open(f"{out}/empty.dat", "w").close()
with open(f"{out}/docker.dat", "w") as f:
    if docker:
        d = json.load(open(docker))
        m = d["median_ms"]
        c = d["cpu_ms"]
        f.write(f"{d['n']} {m['docker ps']} {m['docker ps -a']} {m['docker inspect']} {c['docker ps']} {c['docker ps -a']} {c['docker inspect']}\n")
EOF
gnuplot <<EOF
set terminal pngcairo size 1200,900 font ",10"
set output "scale.png"
set multiplot layout 2,2 title "tsd with N detached containers: median wall time (top), mean CPU time, user+system (bottom); docker at its N with --network none; $(basename "$scale")"
set logscale x
set xlabel "containers (N)"
set ylabel "ms"
set yrange [0:*]
set key top left font ",8" samplen 2
set grid
do for [o in "0 5"] {
do for [net in "none bridge"] {
  set title sprintf("--network %s, %s", net, o eq "0" ? "wall" : "CPU")
  k = int(o)
  plot "$data/".net.".dat" using 1:(column(2+k)) with linespoints title "tsd ps", \
       "" using 1:(column(3+k)) with linespoints title "tsd ps -a", \
       "" using 1:(column(4+k)) with linespoints title "tsd inspect", \
       "" using 1:(column(5+k)) with linespoints title "tsd run --rm true", \
       "" using 1:(column(6+k)) with linespoints title "tsd rm", \
       "" using 1:(column(k>0?13:12)) with linespoints dt 2 title "tsd run --rm true, COMPARE build", \
       (net eq "none" ? "$data/docker.dat" : "$data/empty.dat") using 1:(column(3+(k>0?3:0))) with points pt 7 ps 1.5 title "docker ps -a", \
       "" using 1:(column(4+(k>0?3:0))) with points pt 5 ps 1.5 title "docker inspect"
}
}
unset multiplot
EOF
echo "plot: bench/scale.png from $scale${docker:+ and $docker}"
