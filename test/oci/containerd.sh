#!/usr/bin/env bash
# bash test/oci/containerd.sh RUNTIME: drives `ctr run --runc-binary RUNTIME` through a
# containerd of our own (test/oci/lib.sh) and the runc v2 shim: run with output, exit codes,
# run -d, exec with and without a tty, pause, resume, kill, delete; with a CRIU that works on
# this kernel also checkpoint and restore (`ctr c checkpoint --task --rw`, `ctr c restore
# --live --rw`: the runtime's checkpoint, then restore --detach under the shim). CRIU:
# $TSD_TEST_CRIU (put first on containerd's PATH, so the shim's runtime finds it), else criu
# on PATH; without one that passes `criu check` those steps are skipped, saying why (Debian
# 12's criu 3.17 fails on kernels 6.13+). Prints ok/not ok per step and "N ok, M not ok";
# exits 1 on a failure or when anything is left behind.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
runtime=$(command -v "${1:?usage: containerd.sh RUNTIME}") || { echo "runtime $1 not found" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "containerd.sh: needs root" >&2; exit 2; }
oci_images
criu_bin=""
if [ -n "${TSD_TEST_CRIU:-}" ]; then
  criu_bin=$(mktemp -d /tmp/tsd-criu-bin-XXXXXX); ln -s "$(readlink -f "$TSD_TEST_CRIU")" "$criu_bin/criu"
  export PATH="$criu_bin:$PATH"
fi
criu_why=""
if ! command -v criu >/dev/null; then criu_why="no criu on PATH (and no \$TSD_TEST_CRIU)"
elif ! criu_check=$(criu check 2>&1); then criu_why="criu check fails: $(grep -m1 Error <<<"$criu_check")"
fi
trap 'oci_stop_containerd; [ -z "$criu_bin" ] || rm -rf "$criu_bin"' EXIT
trap 'exit 130' INT TERM
oci_start_containerd "$runtime" || exit 1
NS=$CTRD_CGROUP
C=("${CTR[@]}" -n "$NS")
IMG=localhost/tsd-busybox:latest
RUN=("${C[@]}" run --runtime io.containerd.runc.v2 --runc-binary "$runtime" --runc-root "$CTRD_RUNC_ROOT")
echo "# runtime $runtime, containerd $CTRD_DIR, namespace $NS, $OCI_NS_NOTE"

oci_import "$NS" "$OCI_IMAGES/busybox-oci.tar" localhost/tsd-busybox
"${C[@]}" images ls -q | grep -qx "$IMG"; oci_result $? "import busybox"

# task_status ID: RUNNING, PAUSED, STOPPED … from `ctr task ls`.
task_status() { "${C[@]}" tasks ls | awk -v id="$1" '$1 == id {print $3}'; }
# wait_status ID WANT: up to 5 s.
wait_status() { local i; for i in $(seq 50); do [ "$(task_status "$1")" = "$2" ] && return 0; sleep 0.1; done; return 1; }
# in_tty CMD…: runs CMD with a pseudo-terminal as its stdio (script(1)), output on stdout. The
# terminal may echo a literal "^@" before the output: the checks match inside it.
in_tty() { script -qec "$(printf '%q ' "$@")" /dev/null; }

out=$("${RUN[@]}" --rm "$IMG" c-echo echo hello 2>&1); oci_result $([ "$out" = hello ]; echo $?) "run --rm: output" "$out"
"${RUN[@]}" --rm "$IMG" c-exit sh -c 'exit 3' >/dev/null 2>&1; s=$?; oci_result $([ $s = 3 ]; echo $?) "run: exit code 3" "got $s"
"${RUN[@]}" --rm "$IMG" c-nf /no/such >/dev/null 2>&1; s=$?; oci_result $([ $s != 0 ]; echo $?) "run: missing program fails" "got $s"
out=$(in_tty "${RUN[@]}" --rm -t "$IMG" c-tty tty 2>&1 | tr -d '\r\0'); oci_result $([[ "$out" == */dev/pts/0* ]]; echo $?) "run -t: a tty" "$out"

"${RUN[@]}" -d "$IMG" c-bg sleep 1000 >/dev/null 2>&1
wait_status c-bg RUNNING; oci_result $? "run -d: RUNNING" "$(task_status c-bg)"
out=$("${C[@]}" tasks exec --exec-id e1 c-bg echo from-exec 2>&1); oci_result $([ "$out" = from-exec ]; echo $?) "exec: output" "$out"
"${C[@]}" tasks exec --exec-id e2 c-bg sh -c 'exit 5' >/dev/null 2>&1; s=$?; oci_result $([ $s = 5 ]; echo $?) "exec: exit code 5" "got $s"
out=$(in_tty "${C[@]}" tasks exec -t --exec-id e3 c-bg tty 2>&1 | tr -d '\r'); oci_result $([[ "$out" == */dev/pts/* ]]; echo $?) "exec -t: a tty" "$out"
out=$("${C[@]}" tasks exec --exec-id e4 c-bg /no/such 2>&1); s=$?; oci_result $([ $s != 0 ]; echo $?) "exec: missing program fails" "got $s"
n=$("${C[@]}" tasks ps c-bg 2>/dev/null | tail -n +2 | wc -l); oci_result $([ "$n" -ge 1 ]; echo $?) "task ps" "$n processes"
"${C[@]}" tasks pause c-bg && wait_status c-bg PAUSED; oci_result $? "pause: PAUSED" "$(task_status c-bg)"
"${C[@]}" tasks resume c-bg && wait_status c-bg RUNNING; oci_result $? "resume: RUNNING" "$(task_status c-bg)"
out=$("${C[@]}" tasks exec --exec-id e5 c-bg echo after-resume 2>&1); oci_result $([ "$out" = after-resume ]; echo $?) "exec after resume" "$out"
"${C[@]}" tasks kill -s SIGTERM c-bg; oci_result $? "kill SIGTERM: sent"
# sleep as PID 1 ignores SIGTERM (no handler): still running; SIGKILL ends it.
sleep 0.3; oci_result $([ "$(task_status c-bg)" = RUNNING ]; echo $?) "kill SIGTERM: PID 1 without a handler lives" "$(task_status c-bg)"
"${C[@]}" tasks kill -s SIGKILL c-bg && wait_status c-bg STOPPED; oci_result $? "kill SIGKILL: STOPPED" "$(task_status c-bg)"
out=$("${C[@]}" tasks delete c-bg 2>&1); s=$?; oci_result $s "task delete" "$out"
[[ "$out" == *"exit code 137"* ]]; oci_result $? "killed by SIGKILL: exit code 137" "$out"
"${C[@]}" containers delete c-bg; oci_result $? "container delete"
"${C[@]}" containers ls -q | grep -q .; oci_result $([ $? = 1 ]; echo $?) "no container left"

# checkpoint/restore: a counter in the container's rw layer must go on from its count after
# the restore (a restarted one would count from 1), the restored init the shim's to reap.
COUNT='i=0; while :; do i=$((i+1)); echo $i > /tmp/c; sleep 0.1; done'
count() { "${C[@]}" tasks exec --exec-id "$2" "$1" cat /tmp/c 2>/dev/null; }
if [ -n "$criu_why" ]; then
  echo "# checkpoint/restore skipped: $criu_why"
else
  "${RUN[@]}" -d "$IMG" c-cr sh -c "$COUNT" >/dev/null 2>&1 && wait_status c-cr RUNNING; oci_result $? "checkpoint: a counting container" "$(task_status c-cr)"
  sleep 1
  at=$(count c-cr k0)
  out=$("${C[@]}" containers checkpoint --task --rw c-cr localhost/c-cr:checkpoint 2>&1); oci_result $? "containers checkpoint --task --rw" "$out"
  sleep 0.3; n=$(count c-cr k1); oci_result $([ "${n:-0}" -gt "${at:-0}" ]; echo $?) "checkpoint: the container runs on" "${at:-none} then ${n:-none}"
  "${C[@]}" tasks kill -s SIGKILL c-cr && wait_status c-cr STOPPED && "${C[@]}" tasks delete c-cr >/dev/null && "${C[@]}" containers delete c-cr
  oci_result $? "checkpoint: the original removed"
  out=$("${C[@]}" containers restore --live --rw c-cr localhost/c-cr:checkpoint 2>&1) && wait_status c-cr RUNNING; oci_result $? "containers restore --live --rw: RUNNING" "$out"
  n1=$(count c-cr k2); sleep 0.5; n2=$(count c-cr k3)
  oci_result $([ "${n1:-0}" -ge "${at:-1}" ] && [ "${n2:-0}" -gt "${n1:-0}" ]; echo $?) "restore: counts on from the checkpoint (taken at ${at:-none} or later)" "${n1:-none} then ${n2:-none}"
  "${C[@]}" tasks kill -s SIGKILL c-cr && wait_status c-cr STOPPED; oci_result $? "restore: killed, reaped by the shim" "$(task_status c-cr)"
  out=$("${C[@]}" tasks delete c-cr 2>&1) && "${C[@]}" containers delete c-cr && "${C[@]}" images rm localhost/c-cr:checkpoint >/dev/null
  oci_result $? "restore: deleted" "$out"
fi

oci_stop_containerd; oci_result $? "containerd stopped, nothing left"
trap - EXIT
oci_summary
