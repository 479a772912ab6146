#!/usr/bin/env bash
# Runs inside the guest (test/vm/run.sh): proves the guest is what the lane claims, a pure
# cgroup v2 system with the controllers handed down, then runs the v2 end-to-end tests
# (arguments: bun test's, default test/vm) against this repository's dist/tsd.
set -uo pipefail
fail() { echo "vm guest: $*" >&2; exit 1; }

v1=$(awk '$0 ~ / - cgroup / { print $5 }' /proc/self/mountinfo)
[ -z "$v1" ] || fail "cgroup v1 hierarchies are mounted ($v1): not a pure v2 guest"
grep -q ' /sys/fs/cgroup .* - cgroup2 ' /proc/self/mountinfo || fail "cgroup2 is not mounted at /sys/fs/cgroup"
enabled=$(cat /sys/fs/cgroup/cgroup.subtree_control)
for c in cpuset cpu io memory pids; do
  [[ " $enabled " == *" $c "* ]] || fail "the $c controller is not enabled in the root's subtree_control ($enabled)"
done
echo "vm guest: $(uname -r), pure cgroup v2, root subtree_control: $enabled, $(nproc) CPUs, $(awk '/MemTotal/ { print int($2/1024) " MiB" }' /proc/meminfo)"
[ -x dist/tsd ] || fail "dist/tsd is missing: build it on the host first (scripts/build.sh)"

if [ $# -eq 0 ]; then set -- test/vm; fi
exec bun test "$@"
