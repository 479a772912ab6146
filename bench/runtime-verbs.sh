#!/usr/bin/env bash
# Per-verb wall time of an OCI runtime's command line, the verbs containerd's shim calls in a
# `ctr run --rm` (create, start, delete, delete --force of the deleted id) plus state, on a
# busybox bundle running `true`; medians over RUNS lifecycles, one runtime after another.
# Run by hand (never by the tests):
#   RUNTIMES="runc dist/tsd-runc" RUNS=20 bash bench/runtime-verbs.sh
# The runtime's own --version (its start-up floor) is timed too. crun refuses this host's
# v1-hybrid layout ("cgroups in hybrid mode not supported"): it is left out when create fails.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNTIMES=${RUNTIMES:-runc dist/tsd-runc}
RUNS=${RUNS:-20}
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
images=${TSD_TEST_IMAGES:-/tmp/tsd-test-images}
bash test/fixtures/make-images.sh "$images" >/dev/null
work=$(mktemp -d /dev/shm/tsd-bench-verbs-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/b"
cp -a "$images/busybox-rootfs" "$work/b/rootfs"
(cd "$work/b" && runc spec)
python3 - "$work/b/config.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["process"].update(terminal=False, args=["true"])
json.dump(s, open(sys.argv[1], "w"))
PY
now() { date +%s%N; }
for r in $RUNTIMES; do
  rt=$(command -v "$r") || { echo "runtime $r not found" >&2; continue; }
  root="$work/root-$(basename "$(dirname "$rt")")-$(basename "$rt")"
  # Every container's stdio is /dev/null: an init holding our stdout would keep a pipe open.
  if ! "$rt" --root "$root" create --bundle "$work/b" trial </dev/null >/dev/null 2>"$work/err"; then
    echo "$r: cannot create here, left out: $(head -c 200 "$work/err")" >&2
    continue
  fi
  "$rt" --root "$root" delete --force trial </dev/null >/dev/null 2>&1
  for i in $(seq "$RUNS"); do
    id=v$i
    t=$(now); "$rt" --root "$root" create --bundle "$work/b" --pid-file "$work/pid" "$id" </dev/null >/dev/null 2>&1; c=$(( $(now) - t ))
    t=$(now); "$rt" --root "$root" start "$id" </dev/null >/dev/null 2>&1; s=$(( $(now) - t ))
    sleep 0.02
    t=$(now); "$rt" --root "$root" state "$id" </dev/null >/dev/null 2>&1; st=$(( $(now) - t ))
    t=$(now); "$rt" --root "$root" delete "$id" </dev/null >/dev/null 2>&1; d=$(( $(now) - t ))
    t=$(now); "$rt" --root "$root" delete --force "$id" </dev/null >/dev/null 2>&1; f=$(( $(now) - t ))
    t=$(now); "$rt" --version >/dev/null 2>&1; v=$(( $(now) - t ))
    echo "$c $s $st $d $f $v"
  done | python3 -c '
import statistics, sys
rows = [list(map(int, l.split())) for l in sys.stdin if l.strip()]
names = ["create", "start", "state", "delete", "delete-missing", "--version"]
med = lambda xs: statistics.median(xs) / 1e6
cells = "  ".join(f"{n} {med([r[i] for r in rows]):5.1f}" for i, n in enumerate(names))
print(f"{sys.argv[1]:<28} {cells}  (ms, medians of {len(rows)}; shim path create+start+delete+delete-missing {med([r[0]+r[1]+r[3]+r[4] for r in rows]):.1f})")
' "$r"
done
