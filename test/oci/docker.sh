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
  oci_shim_socket_leaks "$DK_SOCKETS_BEFORE" || leak=1
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

OCI_EXEC_MISSING=nonzero OCI_ENGINE_UPDATE=1 OCI_RM_F=(rm -f)
oci_engine_detached_checks "$DK_NAME" ""
left=$(ls "$DK_DIR/exec/runtime-tsd/$DK_NAME" 2>/dev/null); oci_result $([ -z "$left" ]; echo $?) "no runtime state left" "$left"

stop_dockerd; oci_result $? "dockerd stopped, nothing left"
trap - EXIT
oci_summary
