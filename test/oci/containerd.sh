#!/usr/bin/env bash
# bash test/oci/containerd.sh RUNTIME: drives `ctr run --runc-binary RUNTIME` through a
# containerd of our own (test/oci/lib.sh) and the runc v2 shim: run with output, exit codes,
# run -d, exec with and without a tty, pause, resume, kill, delete. Prints ok/not ok per step
# and "N ok, M not ok"; exits 1 on a failure or when anything is left behind.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
runtime=$(command -v "${1:?usage: containerd.sh RUNTIME}") || { echo "runtime $1 not found" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "containerd.sh: needs root" >&2; exit 2; }
oci_images
trap 'oci_stop_containerd' EXIT
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

oci_stop_containerd; oci_result $? "containerd stopped, nothing left"
trap - EXIT
oci_summary
