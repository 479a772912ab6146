#!/usr/bin/env bash
# bash test/oci/docker.sh RUNTIME: a private dockerd (Debian's docker.io 20.10: /usr/sbin/dockerd
# and its /usr/bin/docker client) with `--add-runtime tsd=RUNTIME`, driving it through its own
# containerd and the runc v2 shim: busybox from `docker load` of the test fixture, then run with
# output and exit codes, limits (-m, --pids-limit, --cpus) in the container's cgroup files and
# `docker update`, run -d, exec (with -t), top, pause/unpause, stop, kill, rm -f, -t, and the
# network modes. Prints ok/not ok per step and "N ok, M not ok"; exits 1 on a failure or when
# anything is left behind.
#
# The dockerd is private: data root, exec root (the runtime's --root is under it), pid file,
# socket and daemon.json in a temp dir; its own containerd (started by dockerd, state under the
# exec root) with a containerd namespace of its own; no bridge and no iptables rules
# (--bridge=none: the default network is then a namespace with lo only; --network host is
# checked as well); cgroupfs with the cgroup parent /tsd-dockerd-XXXXXX. As lib.sh does for
# containerd, dockerd runs in a private mount namespace (every mount it makes dies with it).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
runtime=$(oci_runtime_path "${1:?usage: docker.sh RUNTIME}") || exit 2
[ "$(id -u)" = 0 ] || { echo "docker.sh: needs root" >&2; exit 2; }
DOCKERD=/usr/sbin/dockerd CLI=/usr/bin/docker
for f in "$DOCKERD" "$CLI"; do [ -x "$f" ] || { echo "docker.sh: $f is missing (apt-get install docker.io)" >&2; exit 2; }; done
oci_images

DK_DIR=$(mktemp -d /tmp/tsd-dockerd-XXXXXX)
DK_NAME=${DK_DIR##*/}
DK_SOCKETS_BEFORE=$(ls /run/containerd/s 2>/dev/null || true)
DK=("$CLI" -H "unix://$DK_DIR/docker.sock")
DK_PID=

stop_dockerd() {
  [ -n "$DK_DIR" ] || return 0
  local leak=0 ids pid
  if [ -n "$DK_PID" ] && kill -0 "$DK_PID" 2>/dev/null; then
    ids=$("${DK[@]}" ps -aq 2>/dev/null)
    [ -z "$ids" ] || "${DK[@]}" rm -f $ids >/dev/null 2>&1
    oci_mount_leaks "$DK_DIR/exec/containerd" "$DK_PID" || leak=1
    kill "$DK_PID"
    for _ in $(seq 200); do kill -0 "$DK_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$DK_PID" 2>/dev/null; wait "$DK_PID" 2>/dev/null
  fi
  for pid in $(pgrep -f -- "$DK_DIR"); do
    echo "leak: process $pid $(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null)"; kill -9 "$pid" 2>/dev/null; leak=1
  done
  oci_mount_leaks "$DK_DIR" || leak=1
  oci_cgroup_leaks "$DK_NAME" || leak=1
  if [ "$(ls /run/containerd/s 2>/dev/null || true)" != "$DK_SOCKETS_BEFORE" ]; then
    echo "leak: new shim sockets in /run/containerd/s (or another containerd's)"; leak=1
  fi
  rm -rf "$DK_DIR"
  DK_DIR=
  return $leak
}
trap 'stop_dockerd' EXIT
trap 'exit 130' INT TERM

echo '{}' > "$DK_DIR/daemon.json"
oci_ns_wrap
"${OCI_NS_WRAP[@]}" "$DOCKERD" --config-file "$DK_DIR/daemon.json" --data-root "$DK_DIR/data" \
  --exec-root "$DK_DIR/exec" --pidfile "$DK_DIR/docker.pid" -H "unix://$DK_DIR/docker.sock" \
  --bridge=none --iptables=false --ip6tables=false --ip-masq=false --userland-proxy=false \
  --containerd-namespace "$DK_NAME" --containerd-plugins-namespace "$DK_NAME-plugins" \
  --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$DK_NAME" \
  --add-runtime "tsd=$runtime" > "$DK_DIR/dockerd.log" 2>&1 &
DK_PID=$!
up=1
for _ in $(seq 300); do
  "${DK[@]}" version >/dev/null 2>&1 && { up=0; break; }
  kill -0 "$DK_PID" 2>/dev/null || break
  sleep 0.1
done
oci_result $up "dockerd up" "$(tail -5 "$DK_DIR/dockerd.log")"
[ $up = 0 ] || { stop_dockerd; trap - EXIT; oci_summary; exit 1; }
echo "# runtime $runtime, dockerd $DK_DIR (docker $("${DK[@]}" version -f '{{.Server.Version}}')), $OCI_NS_NOTE"

"${DK[@]}" load -i "$OCI_IMAGES/busybox-docker.tar" >/dev/null 2>&1
"${DK[@]}" image inspect busybox:latest >/dev/null 2>&1; oci_result $? "docker load busybox"
IMG=busybox:latest
RUN=("${DK[@]}" run --runtime tsd)
ENGINE=("${DK[@]}")
oci_engine_run_checks
out=$("${RUN[@]}" --rm "$IMG" ls /sys/class/net 2>&1 | tr '\n' ' '); oci_result $([ "$out" = "lo " ]; echo $?) "run, default network (no bridge here): lo only" "$out"
out=$("${RUN[@]}" --rm --network host "$IMG" hostname 2>&1); oci_result $([ "$out" = "$(hostname)" ]; echo $?) "run --network host: the host's name" "$out"

"${RUN[@]}" -d --name bg -m 32m --pids-limit 64 --cpus 0.5 "$IMG" sleep 1000 >/dev/null 2>&1
wait_state bg running; oci_result $? "run -d: running" "$(inspect bg '{{.State.Status}}')"
id=$(inspect bg '{{.Id}}')
if [ -d /sys/fs/cgroup/memory ]; then host_mem=/sys/fs/cgroup/memory/$DK_NAME/$id/memory.limit_in_bytes; else host_mem=/sys/fs/cgroup/$DK_NAME/$id/memory.max; fi
out=$(cat "$host_mem" 2>&1); oci_result $([ "$out" = 33554432 ]; echo $?) "run -d: memory limit in the host's cgroup /$DK_NAME/ID" "$out"
out=$("${DK[@]}" exec bg echo from-exec 2>&1); oci_result $([ "$out" = from-exec ]; echo $?) "exec: output" "$out"
"${DK[@]}" exec bg sh -c 'exit 5' >/dev/null 2>&1; s=$?; oci_result $([ $s = 5 ]; echo $?) "exec: exit code 5" "got $s"
out=$(in_tty "${DK[@]}" exec -t bg tty 2>&1 | tr -d '\r\0'); oci_result $([[ "$out" == */dev/pts/* ]]; echo $?) "exec -t: a tty" "$out"
out=$("${DK[@]}" exec bg /no/such 2>&1); s=$?; oci_result $([ $s != 0 ]; echo $?) "exec: a missing program fails" "got $s: $out"
out=$("${DK[@]}" exec bg sh -c 'echo $HOME' 2>&1; "${DK[@]}" exec -u 1000 bg sh -c 'echo $HOME' 2>&1)
oci_result $([ "$(echo $out)" = "/root /home/user" ]; echo $?) "exec: HOME from the image's /etc/passwd" "$(echo $out)"
out=$("${DK[@]}" exec bg sh -c "$LIMITS" 2>&1 | tr '\n' ' '); oci_result $([ "$out" = "33554432 64 50000 " ]; echo $?) "exec: the limits seen from inside" "$out"
"${DK[@]}" update -m 48m bg >/dev/null 2>&1; out=$(cat "$host_mem" 2>&1); oci_result $([ "$out" = 50331648 ]; echo $?) "update -m 48m: the new limit" "$out"
out=$("${DK[@]}" top bg 2>&1); oci_result $([[ "$out" == *"sleep 1000"* ]]; echo $?) "top: the container's processes" "$out"
"${DK[@]}" pause bg >/dev/null 2>&1 && wait_state bg paused; oci_result $? "pause: paused" "$(inspect bg '{{.State.Status}}')"
"${DK[@]}" unpause bg >/dev/null 2>&1 && wait_state bg running; oci_result $? "unpause: running" "$(inspect bg '{{.State.Status}}')"
out=$("${DK[@]}" exec bg echo after-unpause 2>&1); oci_result $([ "$out" = after-unpause ]; echo $?) "exec after unpause" "$out"
"${DK[@]}" kill bg >/dev/null 2>&1 && wait_state bg exited; oci_result $? "kill: exited" "$(inspect bg '{{.State.Status}}')"
out=$(inspect bg '{{.State.ExitCode}}'); oci_result $([ "$out" = 137 ]; echo $?) "kill: exit code 137" "$out"
"${DK[@]}" rm bg >/dev/null 2>&1; oci_result $? "rm"
[ -e "$host_mem" ]; oci_result $([ $? = 1 ]; echo $?) "rm: the cgroup is gone"

# stop: SIGTERM to a PID 1 with a handler, which exits 7 (no SIGKILL after the timeout).
"${RUN[@]}" -d --name st "$IMG" sh -c 'trap "echo got-term; exit 7" TERM; echo started; while :; do sleep 0.1; done' >/dev/null 2>&1
wait_state st running; oci_result $? "run -d a TERM handler: running"
for _ in $(seq 50); do [[ "$("${DK[@]}" logs st 2>&1)" == *started* ]] && break; sleep 0.1; done
t0=$(date +%s)
"${DK[@]}" stop -t 20 st >/dev/null 2>&1; s=$?; t=$(( $(date +%s) - t0 ))
oci_result $([ $s = 0 ] && [ $t -lt 10 ]; echo $?) "stop: SIGTERM handled" "exit $s after ${t}s"
out=$(inspect st '{{.State.ExitCode}}'); oci_result $([ "$out" = 7 ]; echo $?) "stop: the handler's exit code 7" "$out"
out=$("${DK[@]}" logs st 2>&1 | tr '\n' ' '); oci_result $([ "$out" = "started got-term " ]; echo $?) "logs" "$out"
# stop -t 1 of a PID 1 without a handler: SIGKILL after the timeout.
"${RUN[@]}" -d --name st2 "$IMG" sleep 1000 >/dev/null 2>&1 && wait_state st2 running
"${DK[@]}" stop -t 1 st2 >/dev/null 2>&1; out=$(inspect st2 '{{.State.ExitCode}}'); oci_result $([ "$out" = 137 ]; echo $?) "stop -t 1 without a handler: SIGKILL, 137" "$out"
"${DK[@]}" start st2 >/dev/null 2>&1 && wait_state st2 running; oci_result $? "start again: running" "$(inspect st2 '{{.State.Status}}')"
"${DK[@]}" rm -f st st2 >/dev/null 2>&1; oci_result $? "rm -f of a running container"
out=$("${DK[@]}" ps -aq 2>&1); oci_result $([ -z "$out" ]; echo $?) "no container left" "$out"
left=$(ls "$DK_DIR/exec/runtime-tsd/$DK_NAME" 2>/dev/null); oci_result $([ -z "$left" ]; echo $?) "no runtime state left" "$left"

stop_dockerd; oci_result $? "dockerd stopped, nothing left"
trap - EXIT
oci_summary
