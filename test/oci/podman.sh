#!/usr/bin/env bash
# bash test/oci/podman.sh RUNTIME: podman 4 (Debian's podman and conmon) with `--runtime RUNTIME`:
# busybox from `podman load` of the test fixture's docker archive, then run with output and exit
# codes, limits (-m, --pids-limit, --cpus) in the container's cgroup files, run -d, exec (with
# -t), pause/unpause, stop, kill, logs, rm -f, -t, and the network modes. Prints ok/not ok per
# step and "N ok, M not ok"; exits 1 on a failure or when anything is left behind.
#
# podman is private: --root, --runroot, --tmpdir and its containers.conf, storage.conf and
# registries.conf in a temp dir (CONTAINERS_CONF …), cgroupfs with the cgroup parent
# /tsd-podman-XXXXXX (conmon goes to its conmon/ child), file events and file locks (no
# /dev/shm/libpod_lock), no network but none and host (no CNI: the temp dir's CNI dirs are
# empty), pulls never. `default_ulimits = []`: podman's own defaults raise RLIMIT_NOFILE to
# 1048576, above these hosts' hard limit (20000), which root cannot do without
# CAP_SYS_RESOURCE (not in the bounding set here): runc and crun fail such a container too.
# podman calls the runtime without --root, so RUNTIME keeps its state in its default root
# (/run/tsd-runc for tsd, /run/runc, /run/crun), one directory per 64-hex container id (no two
# runs collide); the leak check looks there for the ids this run made. Every podman command
# runs in one private mount namespace of ours (lib.sh's, with cgroup.controllers hidden for
# crun), held by a sleep: the overlay mounts die with it.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
runtime=$(oci_runtime_path "${1:?usage: podman.sh RUNTIME}") || exit 2
[ "$(id -u)" = 0 ] || { echo "podman.sh: needs root" >&2; exit 2; }
for f in podman conmon; do command -v "$f" >/dev/null || { echo "podman.sh: $f is missing (apt-get install podman conmon)" >&2; exit 2; }; done
oci_images

PM_DIR=$(mktemp -d /tmp/tsd-podman-XXXXXX)
PM_NAME=${PM_DIR##*/}
PM_HOLDER=
PM_CONSOLES_BEFORE=$(ls /tmp | grep '^conmon-term' || true)
# conmon makes its group in every v1 controller the kernel lists in /proc/self/cgroup, with
# `mkdir -p /sys/fs/cgroup/CONTROLLER/…`: where a controller is not mounted (hugetlb is v2's
# here; net_cls, net_prio, perf_event are not mounted at all) that makes plain directories and
# a `tasks` file on the /sys/fs/cgroup tmpfs. They are podman's, not the runtime's: removed
# after the run (those that were not there before it).
PM_CG_BEFORE=$(ls /sys/fs/cgroup)
mkdir -p "$PM_DIR"/{tmp,cni,cni-conf}
cat > "$PM_DIR/containers.conf" <<CONF
[containers]
default_ulimits = []
netns = "none"
log_driver = "k8s-file"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PM_DIR/events.log"
lock_type = "file"
tmp_dir = "$PM_DIR/tmp"
pull_policy = "never"
[network]
network_backend = "cni"
cni_plugin_dirs = ["$PM_DIR/cni"]
network_config_dir = "$PM_DIR/cni-conf"
CONF
cat > "$PM_DIR/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$PM_DIR/root"
runroot = "$PM_DIR/runroot"
CONF
: > "$PM_DIR/registries.conf"
export CONTAINERS_CONF=$PM_DIR/containers.conf CONTAINERS_STORAGE_CONF=$PM_DIR/storage.conf
export CONTAINERS_REGISTRIES_CONF=$PM_DIR/registries.conf

oci_ns_wrap
"${OCI_NS_WRAP[@]}" sleep infinity &
PM_HOLDER=$!
for _ in $(seq 50); do [ "$(readlink /proc/$PM_HOLDER/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] && [ "$(cat /proc/$PM_HOLDER/comm)" = sleep ] && break; sleep 0.05; done
PM=(nsenter -t "$PM_HOLDER" -m -- podman --root "$PM_DIR/root" --runroot "$PM_DIR/runroot" --tmpdir "$PM_DIR/tmp"
  --cgroup-manager cgroupfs --events-backend file --runtime "$runtime")

# The container ids this run made (its events log), for the runtime's default root.
our_ids() { grep -ao '"ID":"[0-9a-f]\{64\}"' "$PM_DIR/events.log" 2>/dev/null | cut -d'"' -f4 | sort -u; }

stop_podman() {
  [ -n "$PM_DIR" ] || return 0
  local leak=0 ids pid id d g
  if [ -n "$PM_HOLDER" ] && kill -0 "$PM_HOLDER" 2>/dev/null; then
    ids=$("${PM[@]}" ps -aq 2>/dev/null)
    [ -z "$ids" ] || "${PM[@]}" rm -f -t 0 $ids >/dev/null 2>&1
    # podman unmounts a container's rootfs when it is removed; the storage's own bind mount of
    # overlay/ stays until podman is told to shut the store down.
    "${PM[@]}" system prune -f >/dev/null 2>&1
    nsenter -t "$PM_HOLDER" -m -- umount "$PM_DIR/root/overlay" 2>/dev/null
    oci_mount_leaks "$PM_DIR" "$PM_HOLDER" || leak=1
    kill "$PM_HOLDER"; wait "$PM_HOLDER" 2>/dev/null
  fi
  for pid in $(pgrep -f -- "$PM_DIR"); do
    echo "leak: process $pid $(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null)"; kill -9 "$pid" 2>/dev/null; leak=1
  done
  oci_mount_leaks "$PM_DIR" || leak=1
  # conmon's own group (PARENT/conmon): podman never removes it; empty, it is not a leak. The
  # conmons of the containers just removed may still be exiting: up to 5 s for each group to
  # empty (a conmon still there after that is a leak, killed and said below).
  local tries
  for g in /sys/fs/cgroup/*/"$PM_NAME"/conmon /sys/fs/cgroup/"$PM_NAME"/conmon; do
    [ -d "$g" ] || continue
    for tries in $(seq 50); do [ -z "$(cat "$g/cgroup.procs" 2>/dev/null)" ] && break; sleep 0.1; done
    [ -z "$(cat "$g/cgroup.procs" 2>/dev/null)" ] && rmdir "$g" 2>/dev/null
  done
  local top
  for g in /sys/fs/cgroup/*/"$PM_NAME"; do
    top=${g%/*}
    mountpoint -q "$top" && continue
    rm -f "$g"/conmon/tasks; rmdir "$g/conmon" "$g" 2>/dev/null
    grep -qx "${top##*/}" <<<"$PM_CG_BEFORE" || rmdir "$top" 2>/dev/null
  done
  oci_cgroup_leaks "$PM_NAME" || leak=1
  for id in $(our_ids); do
    for d in /run/tsd-runc /run/runc /run/crun; do
      [ ! -e "$d/$id" ] || { echo "leak: runtime state $d/$id"; rm -rf "${d:?}/$id"; leak=1; }
    done
  done
  if [ "$(ls /tmp | grep '^conmon-term' || true)" != "$PM_CONSOLES_BEFORE" ]; then
    echo "leak: conmon's console sockets in /tmp"; leak=1
  fi
  rm -rf "$PM_DIR"
  PM_DIR=
  return $leak
}
trap 'stop_podman' EXIT
trap 'exit 130' INT TERM

echo "# runtime $runtime, podman $("${PM[@]}" version -f '{{.Client.Version}}' 2>&1), conmon $(conmon --version | head -1 | awk '{print $3}'), $PM_DIR, $OCI_NS_NOTE"
"${PM[@]}" load -i "$OCI_IMAGES/busybox-docker.tar" >/dev/null 2>&1
"${PM[@]}" image exists busybox:latest; oci_result $? "podman load busybox"
IMG=busybox:latest
RUN=("${PM[@]}" run --cgroup-parent "/$PM_NAME")
ENGINE=("${PM[@]}")
oci_engine_run_checks
out=$("${RUN[@]}" --rm --network host "$IMG" hostname 2>&1); oci_result $([ "$out" = "$(hostname)" ]; echo $?) "run --network host: the host's name" "$out"

# podman's cgroupfs layout: PARENT/libpod-ID.
OCI_EXEC_MISSING=127 OCI_ENGINE_UPDATE=0 OCI_RM_F=(rm -f -t 0)
oci_engine_detached_checks "$PM_NAME" libpod-

stop_podman; oci_result $? "podman's dirs removed, nothing left"
trap - EXIT
oci_summary
