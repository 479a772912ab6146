#!/usr/bin/env bash
# The benchmark page in one command (issue 16, goal 6), by hand, never by the tests: start
# against crun and runc (run.sh), scale with N containers (scale.sh), Docker beside it
# (docker.sh), then the plot (plot.sh -> bench/scale.png). Each leaves nothing behind; the
# figures land in bench/results/, and bench/README.md quotes them.
#
#   sudo bash scripts/build.sh && sudo bash bench/all.sh
set -euo pipefail
cd "$(dirname "$0")"
bash run.sh
bash scale.sh
bash docker.sh
bash plot.sh
