#!/usr/bin/env bash
# bash test/oci/cri.sh RUNTIME: the CRI path. A containerd of our own (test/oci/lib.sh) whose CRI
# runtime handler `test` has BinaryName RUNTIME; crictl (test/oci/build-tools.sh) runs a pod
# sandbox from a locally built pause image (test/oci/pause-image.sh) on the host network (no
# CNI), a busybox container in it, reads its logs, execs (sync and streamed through the CRI
# streaming server on 127.0.0.1), stops and removes both. Prints ok/not ok per step and
# "N ok, M not ok"; exits 1 on a failure or when anything is left behind.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
runtime=$(command -v "${1:?usage: cri.sh RUNTIME}") || { echo "runtime $1 not found" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "cri.sh: needs root" >&2; exit 2; }
tools=${TSD_OCI_TOOLS:-/var/cache/tsd-oci}
bash "$OCI_HERE/build-tools.sh" "$tools" >/dev/null || exit 1
[ -x "$tools/bin/crictl" ] || { echo "cri.sh: no crictl in $tools/bin (needs Go >= 1.24, see build-tools.sh)" >&2; exit 2; }
bash "$OCI_HERE/pause-image.sh" "$tools/pause-oci.tar" || exit 1
oci_images
trap 'oci_stop_containerd' EXIT
trap 'exit 130' INT TERM
oci_start_containerd "$runtime" || exit 1
echo "# runtime $runtime, containerd $CTRD_DIR, $OCI_NS_NOTE"
: > "$CTRD_DIR/crictl.yaml"
CRI=("$tools/bin/crictl" --config "$CTRD_DIR/crictl.yaml" --runtime-endpoint "unix://$CTRD_SOCK" --image-endpoint "unix://$CTRD_SOCK" --timeout 30s)

oci_import k8s.io "$tools/pause-oci.tar" localhost/tsd-pause
oci_import k8s.io "$OCI_IMAGES/busybox-oci.tar" localhost/tsd-busybox
n=$("${CRI[@]}" images -q 2>/dev/null | wc -l); oci_result $([ "$n" = 2 ]; echo $?) "crictl images: pause and busybox" "$n images"

mkdir -p "$CTRD_DIR/logs"
cat > "$CTRD_DIR/pod.json" <<JSON
{"metadata": {"name": "tsd-pod", "namespace": "tsd-test", "uid": "tsd-pod-${CTRD_CGROUP}", "attempt": 0},
 "log_directory": "$CTRD_DIR/logs",
 "linux": {"cgroup_parent": "/$CTRD_CGROUP", "security_context": {"namespace_options": {"network": 2}}}}
JSON
cat > "$CTRD_DIR/box.json" <<JSON
{"metadata": {"name": "box"}, "image": {"image": "localhost/tsd-busybox:latest"},
 "command": ["sh", "-c", "echo hello-from-cri; echo to-stderr >&2; exec sleep 1000"],
 "log_path": "box.log", "linux": {}}
JSON

# A step's ids on stdout, its errors in a file shown on failure.
err=$CTRD_DIR/step.err
pod=$("${CRI[@]}" runp --runtime test "$CTRD_DIR/pod.json" 2>"$err"); s=$?; oci_result $s "runp: pod sandbox" "$(cat "$err")"
if [ $s != 0 ]; then
  echo "# containerd log:"; grep -iE 'error|fail' "$CTRD_DIR/containerd.log" | tail -5 | sed 's/^/#   /'
  oci_stop_containerd; trap - EXIT; oci_summary; exit 1
fi
state=$("${CRI[@]}" pods -q --state ready 2>/dev/null); oci_result $([ -n "$pod" ] && [ "$state" = "$pod" ]; echo $?) "pods: ready"
cid=$("${CRI[@]}" create "$pod" "$CTRD_DIR/box.json" "$CTRD_DIR/pod.json" 2>"$err"); oci_result $? "create container" "$(cat "$err")"
"${CRI[@]}" start "$cid" >/dev/null 2>&1; oci_result $? "start container"
running=$("${CRI[@]}" ps -q --state running 2>/dev/null); oci_result $([ "$running" = "$cid" ]; echo $?) "ps: running" "$running"
for _ in $(seq 30); do out=$("${CRI[@]}" logs "$cid" 2>&1); [[ "$out" == *to-stderr* ]] && break; sleep 0.1; done
[[ "$out" == *hello-from-cri* && "$out" == *to-stderr* ]]; oci_result $? "logs: stdout and stderr" "$out"
out=$("${CRI[@]}" exec -s "$cid" cat /proc/self/cgroup 2>&1); oci_result $([[ "$out" == *"$CTRD_CGROUP"* ]]; echo $?) "exec --sync: in the pod's cgroup" "$out"
out=$("${CRI[@]}" exec -s "$cid" sh -c 'exit 7' 2>&1); s=$?; oci_result $([ $s != 0 ] && [[ "$out" == *"exited with 7"* ]]; echo $?) "exec --sync: exit code 7 (crictl says so, exits 1)" "got $s: $out"
out=$("${CRI[@]}" exec "$cid" echo streamed 2>&1); oci_result $([ "$out" = streamed ]; echo $?) "exec: streamed (127.0.0.1)" "$out"
out=$("${CRI[@]}" exec "$cid" hostname 2>&1); oci_result $([ "$out" = "$(hostname)" ]; echo $?) "exec: the host's name (host network shares UTS)" "$out"
"${CRI[@]}" stop -t 2 "$cid" >/dev/null 2>&1; oci_result $? "stop container"
st=$("${CRI[@]}" inspect -o go-template --template '{{.status.state}} {{.status.exitCode}}' "$cid" 2>&1); oci_result $([ "$st" = "CONTAINER_EXITED 143" ]; echo $?) "stopped: SIGTERM, exited 143" "$st"
"${CRI[@]}" rm "$cid" >/dev/null 2>&1; oci_result $? "rm container"
"${CRI[@]}" stopp "$pod" >/dev/null 2>&1; oci_result $? "stopp pod"
"${CRI[@]}" rmp "$pod" >/dev/null 2>&1; oci_result $? "rmp pod"
left=$("${CRI[@]}" pods -q 2>/dev/null; "${CRI[@]}" ps -aq 2>/dev/null); oci_result $([ -z "$left" ]; echo $?) "no pod or container left" "$left"

oci_stop_containerd; oci_result $? "containerd stopped, nothing left"
trap - EXIT
oci_summary
