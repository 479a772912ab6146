#!/usr/bin/env bash
# bash test/oci/ci.sh [RUNTIME]: the OCI-runtime lane of CI (issue 12), against dist/tsd-runc
# by default: containerd through the runc v2 shim (containerd.sh), the CRI path kubelet uses
# (cri.sh, crictl), dockerd --add-runtime (docker.sh), podman --runtime (podman.sh), and
# runc's bats integration tests (bats.sh, against bats-baseline-tsd.txt) and runtime-tools'
# validation suite compared with tsd's own baseline
# (baseline-tsd.txt: every known failure there is explained in test/oci/README.md; a program
# with a failure not in it fails the lane, after one more run for runtime-tools' own races).
# The tools are built from source through Go's module client (build-tools.sh, cached).
# Last line: `oci: N ok, M not ok` (containerd, CRI, docker and podman steps, bats tests,
# validation programs), which .ci/run adds to its total; exit 1 on any failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
runtime=${1:-$repo/dist/tsd-runc}
tools=${TSD_OCI_TOOLS:-/var/cache/tsd-oci}
log_dir=${TSD_OCI_LOG_DIR:-$(mktemp -d /tmp/tsd-oci-ci-XXXXXX)}
ok=0 not_ok=0

[ -x "$runtime" ] || { echo "oci: $runtime is not executable (build first: bash scripts/build.sh)" >&2; echo "oci: 0 ok, 1 not ok"; exit 1; }
if ! bash "$here/build-tools.sh" "$tools" >"$log_dir/build-tools.log" 2>&1; then
  cat "$log_dir/build-tools.log" >&2
  echo "oci: the test tools did not build (see above)" >&2
  echo "oci: 0 ok, 1 not ok"
  exit 1
fi
export PATH="$tools/bin:$PATH"

# run_counted NAME CMD…: the command's own "N ok, M not ok" summary is added; a run that
# printed none counts as one failure.
run_counted() {
  local name=$1; shift
  echo "oci: == $name"
  "$@" 2>&1 | tee "$log_dir/$name.log"
  local rc=${PIPESTATUS[0]}
  local line
  line=$(grep -aE '^[0-9]+ ok, [0-9]+ not ok$' "$log_dir/$name.log" | tail -1)
  if [[ $line =~ ^([0-9]+)\ ok,\ ([0-9]+)\ not\ ok$ ]]; then
    ok=$((ok + BASH_REMATCH[1])) not_ok=$((not_ok + BASH_REMATCH[2]))
    [ "$rc" != 0 ] && [ "${BASH_REMATCH[2]}" = 0 ] && { echo "oci: $name exited $rc without a failing step" >&2; not_ok=$((not_ok + 1)); }
  else
    echo "oci: $name printed no summary (exit $rc)" >&2
    not_ok=$((not_ok + 1))
  fi
}

run_counted containerd bash "$here/containerd.sh" "$runtime"
run_counted cri bash "$here/cri.sh" "$runtime"
run_counted docker bash "$here/docker.sh" "$runtime"
run_counted podman bash "$here/podman.sh" "$runtime"
# runc 1.1.5's own bats tests (bats.sh) against the known failures of bats-baseline-tsd.txt
# (README §7): the files below, 62 s at a load of 6 on 2 cores (about 3 min at a load of 30);
# TSD_CI_BATS_FILES=all runs all 27 (112 s at a load of 6, about 6 min at a load of 30).
CI_BATS_FILES=${TSD_CI_BATS_FILES:-"run start_hello tty exec kill mask cwd mounts no_pivot seccomp update userns"}
[ "$CI_BATS_FILES" = all ] && CI_BATS_FILES=
# shellcheck disable=SC2086 # a list of file names
run_counted bats bash "$here/bats.sh" "$runtime" --baseline "$here/bats-baseline-tsd.txt" $CI_BATS_FILES

echo "oci: == validation"
bun "$here/validation.ts" "$runtime" --tools "$tools" --timeout 120 \
  --baseline "$here/baseline-tsd.txt" --retry 2>&1 | tee "$log_dir/validation.log"
v_rc=${PIPESTATUS[0]}
v_line=$(grep -aE '^validation: [0-9]+ of [0-9]+ programs as the baseline, [0-9]+ with new failures$' "$log_dir/validation.log" | tail -1)
if [[ $v_line =~ ^validation:\ ([0-9]+)\ of\ [0-9]+\ programs\ as\ the\ baseline,\ ([0-9]+)\ with ]]; then
  ok=$((ok + BASH_REMATCH[1])) not_ok=$((not_ok + BASH_REMATCH[2]))
  [ "$v_rc" != 0 ] && [ "${BASH_REMATCH[2]}" = 0 ] && { echo "oci: validation exited $v_rc (something was left on the host)" >&2; not_ok=$((not_ok + 1)); }
else
  echo "oci: validation printed no summary (exit $v_rc)" >&2
  not_ok=$((not_ok + 1))
fi

echo "oci: logs in $log_dir"
echo "oci: $ok ok, $not_ok not ok"
[ "$not_ok" = 0 ] && [ "$ok" -gt 0 ]
