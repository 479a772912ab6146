#!/usr/bin/env bash
# Rootless `run --rm busybox true`, `exec C true`, `ps`, `logs C`, `inspect C` and `stop -t 0 C;
# start C` of a detached container: tsd against podman, both rootless as the same user, in one
# hyperfine run (issue 13's benchmark). By hand only, never part of the suite.
#   ONLY=ps,logs sudo bash bench/rootless.sh    only these commands (run exec ps logs inspect stopstart)
#
#   sudo bash bench/rootless.sh                 30 runs after 3 warm-ups each
#   RUNS=10 WARMUP=1 sudo bash bench/rootless.sh
#   INTERLEAVE=1 sudo bash bench/rootless.sh     rounds of one run of each command instead of
#                                                hyperfine's batches (a busy shared host)
#
# Root only sets the stage: a user of its own (useradd, one /etc/subuid and /etc/subgid line),
# a tmpfs work dir; every measured command runs as that user through setpriv. tsd keeps its
# store in $XDG_DATA_HOME/tsd, podman in --root/--runroot under the work dir (overlay driver,
# file events, cgroupfs manager, no systemd); both get the busybox image from the test
# fixture's docker-archive (`load -i`); both run with --network none (rootless podman's default
# is a slirp4netns/pasta stack, not what is measured here). podman runs with runc and with crun;
# crun refuses a v1-hybrid host whose cgroup2 mount lists controllers, so everything runs in a
# private mount namespace where that file reads empty (bench/lib.sh does the same).
# tsd's commands all take the rootless fast path (the CLI on the host, the monitor or exec helper
# joins the pause process's namespaces: src/system/rootless-enter.ts); the -reexec rows are the
# same commands with TSD_ROOTLESS_REEXEC=1 (the CLI re-execs into the namespaces by nsenter), for
# the difference within one run.
# Writes bench/results/rootless-DATE.json and prints medians and the podman/tsd ratios.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=${RUNS:-30}
warmup=${WARMUP:-3}
tsd=${TSD:-$repo/dist/tsd}
images=${TSD_TEST_IMAGES:-/tmp/tsd-test-images}
say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

if [ "${1:-}" != --inside ]; then
  [ "$(id -u)" = 0 ] || die "needs root (a test user of its own): sudo bash bench/rootless.sh"
  for tool in hyperfine podman runc setpriv useradd newuidmap python3; do
    command -v "$tool" >/dev/null || die "$tool not found (scripts/bootstrap.sh; podman: apt-get install podman)"
  done
  [ -x "$tsd" ] || die "$tsd is missing: bash scripts/build.sh"
  bash "$repo/test/fixtures/make-images.sh" "$images" >/dev/null
  unified=/sys/fs/cgroup/unified/cgroup.controllers
  if [ -e "$unified" ]; then
    exec unshare -m --propagation private sh -c "mount --bind /dev/null $unified && exec bash \"\$0\" --inside" "$0"
  fi
  exec bash "$0" --inside
fi

user=tsdbrl$$
range="$((1400000000 + ($$ % 1000) * 65536)):65536"
work=$(mktemp -d /dev/shm/tsd-bench-rootless-XXXXXX)
chmod 755 "$work"
u=$work/u
cleanup() {
  set +e
  if id "$user" >/dev/null 2>&1; then
    uid=$(id -u "$user")
    # The user's processes: the pause processes of tsd and podman, conmon, anything left.
    for pid in $(ps -o pid= -U "$uid"); do kill -KILL "$pid" 2>/dev/null; done
    sleep 0.2
    userdel -r "$user" 2>/dev/null
    # Rootless podman's lock file, which it never removes.
    rm -f "/dev/shm/libpod_rootless_lock_$uid"
  fi
  for f in /etc/subuid /etc/subgid; do sed -i "/^$user:/d" "$f"; done
  rm -rf "$work"
}
trap cleanup EXIT
useradd -m -s /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$user"
echo "$user:$range" >>/etc/subuid
echo "$user:$range" >>/etc/subgid
mkdir -m 700 "$u" "$u/run"
cp "$images/busybox-docker.tar" "$u/busybox.tar"
chown -R "$user:" "$u"

as_user="setpriv --reuid $(id -u "$user") --regid $(id -g "$user") --init-groups env -i HOME=/home/$user PATH=/usr/bin:/bin:/usr/sbin:/sbin XDG_RUNTIME_DIR=$u/run XDG_DATA_HOME=$u/data"
podman="podman --root $u/podman/root --runroot $u/podman/run --storage-driver overlay --events-backend file --cgroup-manager cgroupfs"
cd "$u"
$as_user "$tsd" load -q -i "$u/busybox.tar" >/dev/null
$as_user $podman load -q -i "$u/busybox.tar" >/dev/null
$as_user "$tsd" run -d --name bench --network none busybox sleep 3600 >/dev/null
$as_user $podman --runtime runc run -d --name bench --network none busybox sleep 3600 >/dev/null
# logs reads 100 lines; stop -t 0 then start restarts a detached container.
$as_user "$tsd" run -d --name benchlog --network none busybox sh -c 'seq 100; exec sleep 3600' >/dev/null
$as_user $podman --runtime runc run -d --name benchlog --network none busybox sh -c 'seq 100; exec sleep 3600' >/dev/null
$as_user "$tsd" run -d --name benchss --network none busybox sleep 3600 >/dev/null
$as_user $podman --runtime runc run -d --name benchss --network none busybox sleep 3600 >/dev/null
$as_user "$tsd" run --rm --network none busybox true || die "rootless tsd run failed"
$as_user $podman --runtime runc run --rm --network none busybox true || die "rootless podman (runc) run failed"
only=",${ONLY:-run,exec,ps,logs,inspect,stopstart},"
want() { [[ $only == *",$1,"* ]]; }
commands=()
# One command three ways: tsd (the fast path), tsd re-exec'd into the namespaces, podman.
trio() {
  local name=$1 args=$2
  commands+=(-n "tsd-$name" "$as_user $tsd $args" -n "tsd-$name-reexec" "$as_user TSD_ROOTLESS_REEXEC=1 $tsd $args" -n "podman-$name" "$as_user $podman $args")
}
if want run; then
  commands+=(-n tsd-run "$as_user $tsd run --rm --network none busybox true"
    -n tsd-run-reexec "$as_user TSD_ROOTLESS_REEXEC=1 $tsd run --rm --network none busybox true"
    -n podman-runc-run "$as_user $podman --runtime runc run --rm --network none busybox true")
  if $as_user $podman --runtime crun run --rm --network none busybox true 2>/dev/null; then
    commands+=(-n podman-crun-run "$as_user $podman --runtime crun run --rm --network none busybox true")
  else
    say "rootless podman with crun fails here: runc only"
  fi
fi
# exec (and start) run through the runtime that made the container (runc's).
if want exec; then trio exec "exec bench true"; fi
if want ps; then trio ps "ps -a"; fi
if want logs; then trio logs "logs benchlog"; fi
if want inspect; then trio inspect "inspect bench"; fi
if want stopstart; then
  commands+=(-n tsd-stopstart "$as_user $tsd stop -t 0 benchss >/dev/null && $as_user $tsd start benchss"
    -n tsd-stopstart-reexec "$as_user TSD_ROOTLESS_REEXEC=1 $tsd stop -t 0 benchss >/dev/null && $as_user TSD_ROOTLESS_REEXEC=1 $tsd start benchss"
    -n podman-stopstart "$as_user $podman stop -t 0 benchss >/dev/null && $as_user $podman start benchss")
fi
say "user $user ($range), stores on $(stat -f -c %T "$work"), $(nproc) CPUs, kernel $(uname -r), $(podman --version)"

mkdir -p "$here/results"
json=$here/results/rootless-$(date -u +%Y%m%dT%H%M%SZ).json
if [ "${INTERLEAVE:-0}" = 1 ]; then
  # On a shared, busy host: one run of every command per round (in a rotating order), so a load
  # spike hits all of them alike; the same JSON shape as hyperfine's export.
  pairs=()
  for ((k = 0; k < ${#commands[@]}; k += 3)); do pairs+=("${commands[k+1]}=${commands[k+2]}"); done
  python3 "$here/interleave.py" --warmup "$warmup" --export-json "$json" "$runs" 0 "${pairs[@]}" >/dev/null
else
  hyperfine --style basic --warmup "$warmup" --runs "$runs" --export-json "$json" "${commands[@]}"
fi

python3 - "$json" <<'EOF'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
ms = lambda s: f"{s * 1000:7.1f} ms"
print(f"\nrootless, {len(next(iter(res.values()))['times'])} runs each (median, mean ± stddev, user+sys CPU mean)")
for name, r in res.items():
    print(f"{name:16} {ms(r['median'])} {ms(r['mean'])} ± {ms(r['stddev'] or 0)}  cpu {ms(r['user'] + r['system'])}")
tsd = [n for n in res if n.startswith("tsd-") and not n.endswith("-reexec")]
for name in tsd:
    cmd = name[4:]
    for peer in (f"podman-{cmd}", f"podman-runc-{cmd}", f"podman-crun-{cmd}"):
        if peer in res:
            print(f"{peer}/{name} (median): {res[peer]['median'] / res[name]['median']:.2f}x")
    if f"{name}-reexec" in res:
        print(f"{name}-reexec/{name} (median, the fast path's gain): {res[name + '-reexec']['median'] / res[name]['median']:.2f}x")
print(f"raw: {sys.argv[1]}")
EOF
