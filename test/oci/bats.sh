#!/usr/bin/env bash
# bash test/oci/bats.sh RUNTIME [--baseline FILE] [FILE.bats …]: runc 1.1.5's own bats
# integration tests (tests/integration, the version of Debian 12's runc) against RUNTIME
# (`RUNC=RUNTIME bats`), the files that are not runc-specific (see FILES below and
# test/oci/README.md §7). CI's OCI lane (ci.sh) runs some files against bats-baseline-tsd.txt.
# Offline: runc's source comes through Go's module client (`go mod download`, cached under
# /var/cache/tsd-oci/runc-bats, or TSD_OCI_TOOLS), recvtty is built from it; the busybox
# rootfs is the test fixture's (test/fixtures/make-images.sh) instead of get-images.sh's.
# Needs: bats, gawk, jq, gcc (dev.bats/seccomp.bats build static test programs), script(1).
# Prints per file `FILE: run R, ok P, not ok F, skipped S (N s)`, the failing tests, then
# `N ok, M not ok` (lib.sh's oci_summary). Exit 1 on a failure (not in the baseline) or a leak.
# TSD_BATS_TAPS=DIR keeps each file's TAP output there.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OCI_REPO=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
runtime=${1:?usage: bats.sh RUNTIME [--baseline FILE] [FILE.bats …]}; shift
# --baseline FILE: the known failures ("FILE: TEST NAME" lines, # comments): one of them counts
# as ok ("as the baseline"), any other failure as not ok; one that passes is only reported.
baseline=
if [ "${1:-}" = --baseline ]; then baseline=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2; fi
runtime=$(command -v "$runtime" || echo "$runtime")
runtime=$(cd "$(dirname "$runtime")" && pwd)/$(basename "$runtime")
RUNC_VERSION=v1.1.5
cache=${TSD_OCI_TOOLS:-/var/cache/tsd-oci}/runc-bats
per_file_timeout=${TSD_BATS_TIMEOUT:-120}
# Not run: checkpoint (terminal containers: tsd refuses them, README section 7), events (`runc events`, runc's stats format), help and version
# (runc's usage text), hooks (needs a Debian glibc image with ldconfig: no offline source),
# seccomp-notify* (needs runc's seccompagent; tsd refuses SCMP_ACT_NOTIFY by design),
# mounts_sshfs (sshfs), cgroup_delegation (cgroup v2 + rootless only).
FILES=(cgroups create cwd debug delete dev exec kill list mask mounts mounts_recursive
  no_pivot pause ps root run seccomp spec start start_detached start_hello state tty umask
  update userns)
[ $# -gt 0 ] && FILES=("${@%.bats}")
# Tests skipped inside the files (FILE|TEST NAME|why): a `skip` is inserted into their body.
SKIPS=(
  "spec|spec validator|git-clones runtime-spec from the network"
)
say() { printf 'bats: %s\n' "$*" >&2; }
for t in bats gawk jq gcc script; do
  command -v "$t" >/dev/null || { say "$t not found (apt-get install bats gawk jq gcc bsdutils)"; echo "0 ok, 1 not ok"; exit 1; }
done

fetch_runc_tests() {
  [ "$(cat "$cache/.stamp" 2>/dev/null)" = "$RUNC_VERSION" ] && return 0
  local go=${GO:-/usr/local/go/bin/go} src
  [ -x "$go" ] || go=$(command -v go) || { say "no Go toolchain"; return 1; }
  src=$(cd /tmp && GOFLAGS=-mod=mod "$go" mod download -json "github.com/opencontainers/runc@$RUNC_VERSION" |
    sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -d "$src/tests/integration" ] || { say "go mod download gave no runc source"; return 1; }
  rm -rf "$cache" && mkdir -p "$cache"
  cp -r "$src/." "$cache/" && chmod -R u+w "$cache"
  (cd "$cache" && CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" "$go" build \
     -o contrib/cmd/recvtty/recvtty ./contrib/cmd/recvtty) || return 1
  echo "$RUNC_VERSION" > "$cache/.stamp"
}

# A work copy of tests/integration: get-images.sh names our busybox, the skips are inserted.
prepare() {
  work=$(mktemp -d /tmp/tsd-bats-XXXXXX)
  chmod 755 "$work"
  mkdir -p "$work/runc/tests" "$work/runc/contrib/cmd/recvtty" "$work/tmp"
  cp -r "$cache/tests/integration" "$work/runc/tests/"
  cp "$cache/contrib/cmd/recvtty/recvtty" "$work/runc/contrib/cmd/recvtty/"
  oci_images
  # A busybox image's rootfs: the fixture plus /dev /run /var, no /proc and /sys (as runc's
  # busybox image: mask.bats replaces them with symlinks, userns.bats makes them), and no uid
  # 1000 in /etc/passwd (exec.bats expects `id` to print bare numbers).
  local r=$work/rootfs
  cp -a "$OCI_IMAGES/busybox-rootfs" "$r"
  mkdir -p "$r"/{dev,run,var}
  sed -i '/^user:/d' "$r/etc/passwd" "$r/etc/group"
  tar -C "$r" --numeric-owner -cf "$work/busybox.tar" . && rm -rf "$r"
  printf '#!/bin/sh\necho BUSYBOX_IMAGE=%s\necho DEBIAN_IMAGE=/nonexistent\n' "$work/busybox.tar" \
    > "$work/runc/tests/integration/get-images.sh"
  chmod +x "$work/runc/tests/integration/get-images.sh"
  local s f name why
  for s in "${SKIPS[@]}"; do
    IFS='|' read -r f name why <<<"$s"
    sed -i "/^@test \"$name\" {\$/a\\	skip \"tsd-oci: $why\"" "$work/runc/tests/integration/$f.bats"
  done
}

# run_file NAME: bats under a pty (runc's `run` with a terminal opens /dev/tty, as in runc's CI).
run_file() {
  local f=$1 tap=$work/$1.tap started=$SECONDS
  (cd "$work/runc/tests/integration" && TMPDIR=$work/tmp RUNC=$runtime timeout "$per_file_timeout" \
    script -qec "bats --tap $f.bats > $tap 2>&1" /dev/null > /dev/null)
  local rc=$? run ok fail skip
  ok=$(grep -c '^ok ' "$tap"); fail=$(grep -c '^not ok ' "$tap"); skip=$(grep -c '^ok .* # skip' "$tap")
  run=$((ok - skip + fail))
  echo "$f: run $run, ok $((ok - skip)), not ok $fail, skipped $skip$([ $rc = 124 ] && echo ", timed out after ${per_file_timeout}s") ($((SECONDS - started)) s)"
  [ -n "${TSD_BATS_TAPS:-}" ] && mkdir -p "$TSD_BATS_TAPS" && cp "$tap" "$TSD_BATS_TAPS/"
  OCI_OK=$((OCI_OK + ok - skip))
  local line name
  while read -r line; do
    name="$f: $line"
    if [ -n "$baseline" ] && grep -qxF -- "$name" "$baseline"; then
      OCI_OK=$((OCI_OK + 1)); echo "  not ok (in the baseline): $line"
    else
      OCI_NOT_OK=$((OCI_NOT_OK + 1)); OCI_FAILED+=("$name"); echo "  not ok: $line"
    fi
  done < <(grep '^not ok ' "$tap" | sed 's/^not ok [0-9]* //')
  if [ -n "$baseline" ]; then
    while read -r line; do
      grep -qxF -- "$f: $line" "$baseline" && echo "  now passes (remove it from $(basename "$baseline")): $line"
    done < <(grep '^ok ' "$tap" | grep -v ' # skip' | sed 's/^ok [0-9]* //')
  fi
  if [ $rc = 124 ]; then OCI_NOT_OK=$((OCI_NOT_OK + 1)); OCI_FAILED+=("$f: timed out"); fi
  return 0
}

# checkpoint.bats writes the host's /etc/criu/default.conf (CRIU reads it on every call, from
# any caller: a `log-file=` there puts a log into whatever directory criu runs in) and leaves
# it when a test fails: what was there is put back.
criu_conf=/etc/criu/default.conf
criu_dir_before=$([ -d /etc/criu ] && echo yes || echo no)
criu_conf_before=$([ -f "$criu_conf" ] && base64 -w0 "$criu_conf" || echo absent)
restore_criu_conf() {
  if [ "$criu_conf_before" = absent ]; then
    rm -f "$criu_conf"
    [ "$criu_dir_before" = yes ] || rmdir /etc/criu 2>/dev/null || true
  else
    base64 -d <<<"$criu_conf_before" >"$criu_conf"
  fi
}

# cleanup: what a failed or timed-out test leaves: containers in the state dirs, processes
# that name our work dir, runc's test cgroups (remove_parent misses the v2 half of a hybrid).
cleanup() {
  restore_criu_conf
  [ -n "${work:-}" ] || return 0
  local leak=0 st id pid g
  for st in "$work"/tmp/bats-run-*/runc.*/state; do
    [ -d "$st" ] || continue
    for id in $("$runtime" --root "$st" list -q 2>/dev/null); do
      echo "leak: container $id"; leak=1; "$runtime" --root "$st" delete -f "$id" >/dev/null 2>&1
    done
  done
  for pid in $(pgrep -f -- "$work/" || true); do
    echo "leak: process $pid $(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null)"; kill -9 "$pid" 2>/dev/null; leak=1
  done
  for m in $(awk -v d="$work" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    echo "leak: mount $m"; umount -l "$m"; leak=1
  done
  sleep 0.2
  for g in /sys/fs/cgroup/*/runc-cgroups-integration-test /sys/fs/cgroup/*/test_{busybox,hello,run_keep,update,update_rt,cgroups_permissions,cgroups_group,cgroups_unified,dev,ps,pause,debian,exec,del,busybox_update} \
           /sys/fs/cgroup/memory/*/*/test_busybox; do
    [ -d "$g" ] || continue
    find "$g" -depth -type d -exec rmdir {} + 2>/dev/null
    [ -d "$g" ] && { echo "leak: cgroup $g"; leak=1; }
  done
  rm -rf "$work"
  work=
  return $leak
}
trap cleanup EXIT

fetch_log=$(fetch_runc_tests 2>&1) || { echo "$fetch_log" >&2; echo "0 ok, 1 not ok"; exit 1; }
prepare
say "runc $RUNC_VERSION's tests/integration against $runtime"
for f in "${FILES[@]}"; do run_file "$f"; done
cleanup || { OCI_NOT_OK=$((OCI_NOT_OK + 1)); OCI_FAILED+=("something was left behind"); }
oci_summary
