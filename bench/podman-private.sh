# Sourced by the bench scripts that run rootful podman (pull.sh, load.sh), after $work is made:
# podman's locks and temporary files under $work, not the host's (its default shm locks leave
# /dev/shm/libpod_lock behind, and its tmp_dir is /run/libpod). test/oci/podman.sh does the
# same, with more, for the OCI lane.
mkdir -p "$work/podman-tmp"
cat >"$work/containers.conf" <<CONF
[engine]
lock_type = "file"
tmp_dir = "$work/podman-tmp"
events_logger = "file"
events_logfile_path = "$work/podman-events.log"
CONF
export CONTAINERS_CONF=$work/containers.conf
