# Sourced by test/oci/containerd.sh, test/oci/cri.sh and bench/containerd-lifecycle.sh:
# a containerd of our own (config, root, state, sockets, CNI and /opt dirs all under one temp
# dir), with the CRI plugin on and one runtime handler, `test`, whose BinaryName is a given
# OCI runtime, and its cleanup and leak check. Needs root, containerd 1.6+
# (containerd-shim-runc-v2) and the test images (test/fixtures/make-images.sh).
# Nothing here talks to anything but unix sockets in the temp dir (the CRI streaming server
# listens on 127.0.0.1 with an ephemeral port).

OCI_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OCI_REPO=$(cd "$OCI_HERE/../.." && pwd)

# crun 1.8 refuses a v1-hybrid host whose cgroup2 mount lists any controller ("cgroups in
# hybrid mode not supported, drop all controllers from cgroupv2"; these hosts list hugetlb).
# As bench/lib.sh does, containerd (and so its shims and runtimes) then runs in a private mount
# namespace where /sys/fs/cgroup/unified/cgroup.controllers reads empty: the host is untouched,
# every runtime gets the same view (runc ignores that file in hybrid mode), and every mount
# containerd makes dies with that namespace. TSD_OCI_HIDE_CGROUP2=0 turns it off.
oci_ns_wrap() {
  OCI_NS_WRAP=(unshare -m --propagation private)
  local f=/sys/fs/cgroup/unified/cgroup.controllers
  if [ "${TSD_OCI_HIDE_CGROUP2:-1}" != 0 ] && [ -n "$(cat "$f" 2>/dev/null)" ]; then
    OCI_NS_WRAP+=(sh -c "mount --bind /dev/null $f && exec \"\$0\" \"\$@\"")
    OCI_NS_NOTE="private mount namespace, $f hidden (it listed: $(tr '\n' ' ' < "$f"))"
  else
    OCI_NS_NOTE="private mount namespace"
  fi
}

# oci_cap_sys_resource: yes when this process's bounding set holds CAP_SYS_RESOURCE (bit 24).
oci_cap_sys_resource() {
  local bnd
  bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
  if (( (16#$bnd >> 24) & 1 )); then echo yes; else echo no; fi
}

# oci_start_containerd RUNTIME: sets CTRD_DIR, CTRD_SOCK, CTRD_PID, CTR (a ctr command array).
oci_start_containerd() {
  local runtime=$1
  CTRD_DIR=$(mktemp -d /tmp/tsd-ctrd-XXXXXX)
  CTRD_SOCK=$CTRD_DIR/containerd.sock
  CTRD_CGROUP=tsd-ctrd-${CTRD_DIR##*-}
  CTRD_NETNS_BEFORE=$(ls /run/netns 2>/dev/null || true)
  # The shims' sockets: /run/containerd/s/<hash of our address, namespace, id> (fixed in 1.6).
  CTRD_SOCKETS_BEFORE=$(ls /run/containerd/s 2>/dev/null || true)
  mkdir -p "$CTRD_DIR"/{root,state,opt,cni/bin,cni/conf}
  cat > "$CTRD_DIR/config.toml" <<TOML
version = 2
root = "$CTRD_DIR/root"
state = "$CTRD_DIR/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$CTRD_DIR/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/tsd-pause:latest"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # The pod sandbox's spec asks for oomScoreAdj -998. Lowering one's oom_score_adj needs
  # CAP_SYS_RESOURCE, which these hosts' bounding set lacks (CapBnd 000001fffeffffff: bit 24
  # is clear), so runc's nsexec fails ("failed to update /proc/self/oom_score_adj: Permission
  # denied" in its --log; the shim only relays "can't get final child's PID from pipe: EOF").
  # This clamps every container's score to containerd's own, as on rootless/nested hosts.
  restrict_oom_score_adj = $( [ "$(oci_cap_sys_resource)" = yes ] && echo false || echo true )
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CTRD_DIR/cni/bin"
    conf_dir = "$CTRD_DIR/cni/conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "test"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.test]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.test.options]
        BinaryName = "$runtime"
        Root = "$CTRD_DIR/runc"
        SystemdCgroup = false
TOML
  oci_ns_wrap
  "${OCI_NS_WRAP[@]}" containerd --config "$CTRD_DIR/config.toml" --log-level debug > "$CTRD_DIR/containerd.log" 2>&1 &
  CTRD_PID=$!
  CTR=(ctr --address "$CTRD_SOCK")
  # ctr run's runtime state (runc --root): the shim's default is /run/containerd/runc/<ns>.
  CTRD_RUNC_ROOT=$CTRD_DIR/runc
  local i
  for i in $(seq 100); do
    "${CTR[@]}" version >/dev/null 2>&1 && return 0
    kill -0 "$CTRD_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "containerd did not come up; its log:" >&2
  tail -20 "$CTRD_DIR/containerd.log" >&2
  return 1
}

# oci_import NS TAR NAME: imports an OCI image-layout tar as NAME (localhost/x, tag from the tar).
oci_import() {
  "${CTR[@]}" -n "$1" images import --base-name "$3" "$2" >/dev/null
}

# The shims of this containerd (their -address names our socket).
oci_shims() {
  pgrep -f -- "-address $CTRD_SOCK" || true
}

# oci_stop_containerd: removes what is left in containerd (tasks, containers), stops it and
# its shims, unmounts and removes the temp dir, and checks that no process, mount, netns or
# cgroup of ours is left. Prints "leak: …" lines and returns 1 on a leak.
oci_stop_containerd() {
  [ -n "${CTRD_DIR:-}" ] || return 0
  local leak=0 ns id pid m
  if kill -0 "${CTRD_PID:-0}" 2>/dev/null; then
    for ns in $("${CTR[@]}" namespaces ls -q 2>/dev/null); do
      for id in $("${CTR[@]}" -n "$ns" tasks ls -q 2>/dev/null); do
        "${CTR[@]}" -n "$ns" tasks kill -s SIGKILL "$id" >/dev/null 2>&1
        "${CTR[@]}" -n "$ns" tasks delete -f "$id" >/dev/null 2>&1
      done
      for id in $("${CTR[@]}" -n "$ns" containers ls -q 2>/dev/null); do
        "${CTR[@]}" -n "$ns" containers delete "$id" >/dev/null 2>&1
      done
    done
    # Mounts in containerd's own namespace (rootfs overlays, shm …) once every task is gone.
    for m in $(awk -v d="$CTRD_DIR" 'index($5, d) == 1 {print $5}' "/proc/$CTRD_PID/mountinfo" 2>/dev/null); do
      echo "leak: mount $m (in containerd's mount namespace)"; leak=1
    done
    kill "$CTRD_PID"; wait "$CTRD_PID" 2>/dev/null || true
  fi
  for pid in $(oci_shims); do echo "leak: shim $pid $(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null)"; kill -9 "$pid" 2>/dev/null; leak=1; done
  for m in $(awk -v d="$CTRD_DIR" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    echo "leak: mount $m"; umount -l "$m" 2>/dev/null; leak=1
  done
  # Cgroups: ctr's default path is /<namespace>/<id>; the runtime removes the leaf, never the
  # namespace's own dir, which we remove. test/oci/cri.sh gives its pods that parent too.
  oci_cgroup_leaks "$CTRD_CGROUP" || leak=1
  # CRI names its pods' network namespaces cni-<uuid> (other tests on the host make their own).
  local new
  new=$(comm -13 <(echo "$CTRD_NETNS_BEFORE" | grep '^cni-' | sort) <(ls /run/netns 2>/dev/null | grep '^cni-' | sort))
  if [ -n "$new" ]; then echo "leak: netns $new"; leak=1; fi
  oci_shim_socket_leaks "$CTRD_SOCKETS_BEFORE" || leak=1
  rm -rf "$CTRD_DIR"
  CTRD_DIR=
  return $leak
}

# The test images (cached; see test/fixtures/make-images.sh).
oci_images() {
  OCI_IMAGES=${TSD_TEST_IMAGES:-/tmp/tsd-test-images}
  bash "$OCI_REPO/test/fixtures/make-images.sh" "$OCI_IMAGES" >/dev/null
}

# TAP-ish step reporting: step NAME CMD… runs CMD and prints ok/not ok NAME.
OCI_OK=0 OCI_NOT_OK=0 OCI_FAILED=()
oci_result() {
  if [ "$1" = 0 ]; then OCI_OK=$((OCI_OK + 1)); echo "ok - $2"
  else OCI_NOT_OK=$((OCI_NOT_OK + 1)); OCI_FAILED+=("$2"); echo "not ok - $2${3:+: $3}"; fi
}
oci_summary() {
  echo "$OCI_OK ok, $OCI_NOT_OK not ok"
  [ "$OCI_NOT_OK" = 0 ] || printf '  failed: %s\n' "${OCI_FAILED[@]}"
  [ "$OCI_NOT_OK" = 0 ]
}

# oci_cgroup_leaks NAME: kills what is left in the cgroup /NAME (every v1 hierarchy and v2),
# removes it, and prints "leak: …" and returns 1 when a process or a child group was there.
# Used by docker.sh and podman.sh, whose engines put their containers under that parent.
oci_cgroup_leaks() {
  local name=$1 leak=0 g pid
  for g in /sys/fs/cgroup/*/"$name" /sys/fs/cgroup/"$name"; do
    [ -d "$g" ] || continue
    for pid in $(cat $(find "$g" -name cgroup.procs) 2>/dev/null | sort -u); do
      echo "leak: process $pid $(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null)"; kill -9 "$pid" 2>/dev/null; leak=1
    done
    [ $leak = 0 ] || sleep 0.2
    if [ -n "$(find "$g" -mindepth 1 -type d -print -quit)" ]; then echo "leak: cgroup $(find "$g" -mindepth 1 -type d | head -3 | tr '\n' ' ')"; leak=1; fi
    find "$g" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  return $leak
}

# oci_shim_socket_leaks BEFORE: shim sockets in /run/containerd/s (every containerd 1.6 puts
# its shims' there) that were not in BEFORE (an `ls` of it). A shim removes its socket as it
# shuts down, which may still be under way just after its containerd stopped: up to 5 s to go.
# Prints "leak: …" with the listening process, if any, and returns 1 when one stays.
oci_shim_socket_leaks() {
  local before=$1 new="" i s
  for i in $(seq 50); do
    new=$(comm -13 <(echo "$before" | sort) <(ls /run/containerd/s 2>/dev/null | sort))
    [ -z "$new" ] && return 0
    sleep 0.1
  done
  for s in $new; do
    echo "leak: shim socket /run/containerd/s/$s ($(ss -xlpH 2>/dev/null | grep -F "/run/containerd/s/$s" | grep -o 'users:.*' || echo 'no listener'))"
  done
  return 1
}

# oci_mount_leaks DIR [PID]: mounts under DIR in PID's mount namespace (default ours), lazily
# unmounted; prints "leak: …" and returns 1 when there was one.
oci_mount_leaks() {
  local dir=$1 pid=${2:-self} leak=0 m
  for m in $(awk -v d="$dir" 'index($5, d) == 1 {print $5}' "/proc/$pid/mountinfo" 2>/dev/null | sort -r); do
    echo "leak: mount $m${2:+ (in the mount namespace of process $2)}"; [ "$pid" = self ] && umount -l "$m" 2>/dev/null; leak=1
  done
  return $leak
}

# oci_runtime_path RUNTIME: RUNTIME as an absolute path (found in PATH, or made absolute), its
# last component kept: a link named tsd-runc to dist/tsd must stay one, not resolve to dist/tsd.
# Daemons (dockerd, podman) run it from another working directory.
oci_runtime_path() {
  local p
  p=$(command -v "$1") || { echo "runtime $1 not found" >&2; return 1; }
  case "$p" in /*) ;; *) p="$(cd "$(dirname "$p")" && pwd)/$(basename "$p")" ;; esac
  echo "$p"
}

# ---- the checks docker.sh and podman.sh share: ENGINE is the engine's CLI (an array), RUN its
# `run` with the runtime under test, IMG busybox ------------------------------------------------

# in_tty CMD…: CMD with a pseudo-terminal as its stdio (script(1)), output on stdout.
in_tty() { script -qec "$(printf '%q ' "$@")" /dev/null; }
# inspect NAME TEMPLATE
inspect() { "${ENGINE[@]}" inspect -f "$2" "$1" 2>&1; }
# wait_state NAME STATUS: up to 5 s for .State.Status.
wait_state() { local i; for i in $(seq 50); do [ "$(inspect "$1" '{{.State.Status}}')" = "$2" ] && return 0; sleep 0.1; done; return 1; }
# The limits as the container sees them: memory, pids, CFS quota (v1 hierarchy or v2 files).
LIMITS='if [ -d /sys/fs/cgroup/memory ]; then cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us; else cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; cut -d" " -f1 /sys/fs/cgroup/cpu.max; fi'

# oci_engine_run_checks: `run` through the engine: output, exit codes, a tty, limits in the
# container's cgroup files, stdin, user/workdir/env, HOME (dockerd puts none in the spec: the
# runtime takes it from the image's /etc/passwd, "/" for a user without an entry, as runc and
# crun do; podman puts it in the spec itself), a read-only rootfs, --network none.
oci_engine_run_checks() {
  local out s
  out=$("${RUN[@]}" --rm "$IMG" echo hi 2>&1); oci_result $([ "$out" = hi ]; echo $?) "run --rm: output" "$out"
  "${RUN[@]}" --rm "$IMG" sh -c 'exit 3' >/dev/null 2>&1; s=$?; oci_result $([ $s = 3 ]; echo $?) "run: exit code 3" "got $s"
  out=$("${RUN[@]}" --rm "$IMG" /no/such 2>&1); s=$?; oci_result $([ $s = 127 ]; echo $?) "run: a missing program exits 127" "got $s: $out"
  out=$(in_tty "${RUN[@]}" --rm -t "$IMG" tty 2>&1 | tr -d '\r\0'); oci_result $([[ "$out" == */dev/pts/0* ]]; echo $?) "run -t: a tty" "$out"
  out=$("${RUN[@]}" --rm -m 32m --pids-limit 64 --cpus 0.5 "$IMG" sh -c "$LIMITS" 2>&1 | tr '\n' ' ')
  oci_result $([ "$out" = "33554432 64 50000 " ]; echo $?) "run -m 32m --pids-limit 64 --cpus 0.5: the container's cgroup files" "$out"
  out=$(echo from-stdin | "${RUN[@]}" --rm -i "$IMG" cat 2>&1); oci_result $([ "$out" = from-stdin ]; echo $?) "run -i: stdin" "$out"
  out=$("${RUN[@]}" --rm --user 1000:1000 -w /tmp -e GREETING=hey "$IMG" sh -c 'echo $(id -u):$(id -g) $PWD $GREETING' 2>&1); oci_result $([ "$out" = "1000:1000 /tmp hey" ]; echo $?) "run --user -w -e" "$out"
  out=$("${RUN[@]}" --rm "$IMG" sh -c 'echo $HOME' 2>&1; "${RUN[@]}" --rm -u 1000 "$IMG" sh -c 'echo $HOME' 2>&1; "${RUN[@]}" --rm -u 4242 "$IMG" sh -c 'echo $HOME' 2>&1)
  oci_result $([ "$(echo $out)" = "/root /home/user /" ]; echo $?) "run: HOME from the image's /etc/passwd" "$(echo $out)"
  "${RUN[@]}" --rm --read-only "$IMG" touch /x >/dev/null 2>&1; s=$?; oci_result $([ $s = 1 ]; echo $?) "run --read-only: the rootfs is read-only" "got $s"
  out=$("${RUN[@]}" --rm --network none "$IMG" ls /sys/class/net 2>&1 | tr '\n' ' '); oci_result $([ "$out" = "lo " ]; echo $?) "run --network none: lo only" "$out"
}

# oci_engine_detached_checks PARENT GROUP_PREFIX: a detached container `bg` through the engine
# (ENGINE, RUN, IMG as the caller sets them): its limits in the host's group
# /PARENT/GROUP_PREFIX<id>; exec (output, status, a tty, a missing program, HOME, the limits);
# `update -m` when OCI_ENGINE_UPDATE=1 (dockerd; podman 4.3 has no update); top, pause/unpause,
# kill, rm; then `stop` of a PID 1 with a TERM handler and of one without. OCI_EXEC_MISSING:
# a missing program's exec status, 127 (podman) or "nonzero" (dockerd says only that);
# OCI_RM_F: the engine's `rm -f` words.
oci_engine_detached_checks() {
  local parent=$1 prefix=$2 out s id host_mem t0 t
  "${RUN[@]}" -d --name bg -m 32m --pids-limit 64 --cpus 0.5 "$IMG" sleep 1000 >/dev/null 2>&1
  wait_state bg running; oci_result $? "run -d: running" "$(inspect bg '{{.State.Status}}')"
  id=$(inspect bg '{{.Id}}')
  if [ -d /sys/fs/cgroup/memory ]; then host_mem=/sys/fs/cgroup/memory/$parent/$prefix$id/memory.limit_in_bytes; else host_mem=/sys/fs/cgroup/$parent/$prefix$id/memory.max; fi
  out=$(cat "$host_mem" 2>&1); oci_result $([ "$out" = 33554432 ]; echo $?) "run -d: memory limit in the host's cgroup /$parent/${prefix}ID" "$out"
  out=$("${ENGINE[@]}" exec bg echo from-exec 2>&1); oci_result $([ "$out" = from-exec ]; echo $?) "exec: output" "$out"
  "${ENGINE[@]}" exec bg sh -c 'exit 5' >/dev/null 2>&1; s=$?; oci_result $([ $s = 5 ]; echo $?) "exec: exit code 5" "got $s"
  out=$(in_tty "${ENGINE[@]}" exec -t bg tty 2>&1 | tr -d '\r\0'); oci_result $([[ "$out" == */dev/pts/* ]]; echo $?) "exec -t: a tty" "$out"
  out=$("${ENGINE[@]}" exec bg /no/such 2>&1); s=$?
  if [ "$OCI_EXEC_MISSING" = nonzero ]; then
    oci_result $([ $s != 0 ]; echo $?) "exec: a missing program fails" "got $s: $out"
  else
    oci_result $([ $s = "$OCI_EXEC_MISSING" ]; echo $?) "exec: a missing program exits $OCI_EXEC_MISSING" "got $s: $out"
  fi
  out=$("${ENGINE[@]}" exec bg sh -c 'echo $HOME' 2>&1; "${ENGINE[@]}" exec -u 1000 bg sh -c 'echo $HOME' 2>&1)
  oci_result $([ "$(echo $out)" = "/root /home/user" ]; echo $?) "exec: HOME from the image's /etc/passwd" "$(echo $out)"
  out=$("${ENGINE[@]}" exec bg sh -c "$LIMITS" 2>&1 | tr '\n' ' '); oci_result $([ "$out" = "33554432 64 50000 " ]; echo $?) "exec: the limits seen from inside" "$out"
  if [ "${OCI_ENGINE_UPDATE:-0}" = 1 ]; then
    "${ENGINE[@]}" update -m 48m bg >/dev/null 2>&1; out=$(cat "$host_mem" 2>&1); oci_result $([ "$out" = 50331648 ]; echo $?) "update -m 48m: the new limit" "$out"
  fi
  out=$("${ENGINE[@]}" top bg 2>&1); oci_result $([[ "$out" == *"sleep 1000"* ]]; echo $?) "top: the container's processes" "$out"
  "${ENGINE[@]}" pause bg >/dev/null 2>&1 && wait_state bg paused; oci_result $? "pause: paused" "$(inspect bg '{{.State.Status}}')"
  "${ENGINE[@]}" unpause bg >/dev/null 2>&1 && wait_state bg running; oci_result $? "unpause: running" "$(inspect bg '{{.State.Status}}')"
  out=$("${ENGINE[@]}" exec bg echo after-unpause 2>&1); oci_result $([ "$out" = after-unpause ]; echo $?) "exec after unpause" "$out"
  "${ENGINE[@]}" kill bg >/dev/null 2>&1 && wait_state bg exited; oci_result $? "kill: exited" "$(inspect bg '{{.State.Status}}')"
  out=$(inspect bg '{{.State.ExitCode}}'); oci_result $([ "$out" = 137 ]; echo $?) "kill: exit code 137" "$out"
  "${ENGINE[@]}" rm bg >/dev/null 2>&1; oci_result $? "rm"
  [ -e "$host_mem" ]; oci_result $([ $? = 1 ]; echo $?) "rm: the cgroup is gone"

  # stop: SIGTERM to a PID 1 with a handler, which exits 7 (no SIGKILL after the timeout).
  "${RUN[@]}" -d --name st "$IMG" sh -c 'trap "echo got-term; exit 7" TERM; echo started; while :; do sleep 0.1; done' >/dev/null 2>&1
  wait_state st running; oci_result $? "run -d a TERM handler: running"
  for _ in $(seq 50); do [[ "$("${ENGINE[@]}" logs st 2>&1)" == *started* ]] && break; sleep 0.1; done
  t0=$(date +%s)
  "${ENGINE[@]}" stop -t 20 st >/dev/null 2>&1; s=$?; t=$(( $(date +%s) - t0 ))
  oci_result $([ $s = 0 ] && [ $t -lt 10 ]; echo $?) "stop: SIGTERM handled" "exit $s after ${t}s"
  out=$(inspect st '{{.State.ExitCode}}'); oci_result $([ "$out" = 7 ]; echo $?) "stop: the handler's exit code 7" "$out"
  out=$("${ENGINE[@]}" logs st 2>&1 | tr '\n' ' '); oci_result $([ "$out" = "started got-term " ]; echo $?) "logs" "$out"
  # stop -t 1 of a PID 1 without a handler: SIGKILL after the timeout.
  "${RUN[@]}" -d --name st2 "$IMG" sleep 1000 >/dev/null 2>&1 && wait_state st2 running
  "${ENGINE[@]}" stop -t 1 st2 >/dev/null 2>&1; out=$(inspect st2 '{{.State.ExitCode}}'); oci_result $([ "$out" = 137 ]; echo $?) "stop -t 1 without a handler: SIGKILL, 137" "$out"
  "${ENGINE[@]}" start st2 >/dev/null 2>&1 && wait_state st2 running; oci_result $? "start again: running" "$(inspect st2 '{{.State.Status}}')"
  "${ENGINE[@]}" "${OCI_RM_F[@]}" st st2 >/dev/null 2>&1; oci_result $? "rm -f of a running container"
  out=$("${ENGINE[@]}" ps -aq 2>&1); oci_result $([ -z "$out" ]; echo $?) "no container left" "$out"
}
