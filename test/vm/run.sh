#!/usr/bin/env bash
# Boots a pure cgroup v2 guest (Debian's kernel under QEMU TCG) that runs the host's own
# binaries, and runs one command in it:
#
#   bash test/vm/run.sh CMD [ARG...]     CMD runs in the guest, in this repository's directory
#
# Exit status: CMD's, or 100 when the guest never reported one (boot failed, timed out).
# Output: the guest's console: CMD's stdout and stderr (kernel messages only when they are
# emergencies, so they cannot split the lines a caller counts).
#
# The kernel is `linux-image-amd64`'s current dependency, fetched with `apt-get download`
# (Debian's registry is the one place this may download from) and cached, extracted and
# depmod'ed, under $TSD_VM_CACHE/<package>_<version>; nothing built here is committed.
# The guest: an initramfs (busybox-static + the modules 9p, virtio and overlay need), then the
# host's / over 9p read-only under a tmpfs overlay (test/vm/init.sh), cgroup2 alone, and a
# writable 9p share for the command and its exit status. No network device: the guest has
# nothing to talk to but itself.
# KVM is not used: these hosts' /dev/kvm (kvm_pvm) cannot boot a stock kernel (QEMU aborts on
# an MSR or hangs in the decompressor); TCG boots Debian's kernel in a few seconds.
#
# Environment: TSD_VM_CACHE (default /var/cache/tsd-vm), TSD_VM_MEM (MiB, 2048), TSD_VM_CPUS
# (2), TSD_VM_TIMEOUT (seconds for the whole guest, 900).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${TSD_VM_CACHE:-/var/cache/tsd-vm}
say() { printf 'tsd-vm: %s\n' "$*" >&2; }
fail() { say "$*"; exit 100; }

[ $# -gt 0 ] || fail "usage: test/vm/run.sh CMD [ARG...]"
[ "$(id -u)" = 0 ] || fail "must run as root (apt-get download into the cache, 9p passthrough of /)"
for tool in qemu-system-x86_64 depmod modprobe dpkg-deb apt-get; do
  command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/bootstrap.sh (qemu-system-x86, kmod)"
done
busybox=/bin/busybox # busybox-static's: the initramfs has no libc
[ -x "$busybox" ] || fail "busybox-static is missing: run scripts/bootstrap.sh"

# ---- the kernel: Debian's current linux-image-amd64 dependency, cached by package version ----
kernel_package() {
  # awk reads to the end: an early exit SIGPIPEs apt-cache, and pipefail + set -e end the script (141).
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ && !done { print $2; done = 1 }'
}
pkg=$(kernel_package)
if [ -z "$pkg" ]; then
  say "apt knows no linux-image-amd64: apt-get update"
  apt-get update -q >/dev/null 2>&1 || true
  pkg=$(kernel_package)
fi
ver=${pkg:+$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | awk '/^Version:/ && !done { print $2; done = 1 }')}
if [ -n "$pkg" ] && [ -n "$ver" ]; then
  kdir=$cache/${pkg}_$ver
else
  # No package lists at all: any kernel cached before still proves the same thing.
  kdir=$(ls -d "$cache"/linux-image-*/ 2>/dev/null | sort -V | tail -1)
  kdir=${kdir%/}
  [ -n "$kdir" ] || fail "cannot find Debian's linux-image-amd64 (apt-get update failed) and nothing is cached in $cache"
fi
if [ ! -e "$kdir/ready" ]; then
  say "fetching $pkg $ver into $kdir"
  rm -rf "$kdir" && mkdir -p "$kdir/deb" "$kdir/root"
  (cd "$kdir/deb" && apt-get download -q "$pkg=$ver" >/dev/null 2>&1) || fail "apt-get download $pkg=$ver failed"
  dpkg-deb -x "$kdir"/deb/*.deb "$kdir/root"
  rm -rf "$kdir/deb"
  kver=$(ls "$kdir/root/lib/modules")
  depmod -b "$kdir/root" "$kver"
  touch "$kdir/ready"
  # Debian moved to a new kernel: the old one (~400 MB extracted) proves nothing more.
  for old in "$cache"/linux-image-*; do
    [ "$old" = "$kdir" ] || rm -rf "$old"
  done
fi
kver=$(ls "$kdir/root/lib/modules")
vmlinuz=$kdir/root/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || fail "no kernel image in $kdir (remove it to fetch again)"

# ---- the initramfs: busybox, the modules 9p and overlay need (in load order), the init ----
work=$(mktemp -d /tmp/tsd-vm.XXXXXX)
qemu_pid=
cleanup() {
  set +e # a qemu already gone must not stop the removal, nor change the exit status
  if [ -n "$qemu_pid" ]; then
    kill -KILL "$qemu_pid" 2>/dev/null
    wait "$qemu_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/initrd/bin" "$work/initrd/modules" "$work/initrd/proc" "$work/initrd/sys" "$work/initrd/dev" "$work/results"
cp "$busybox" "$work/initrd/bin/busybox"
ln -s busybox "$work/initrd/bin/sh"
cp "$here/init.sh" "$work/initrd/init"
chmod 755 "$work/initrd/init"
: >"$work/initrd/modules.order"
# virtio_blk: a small scratch disk (/dev/vda in the guest) for the block I/O limits' tests.
for m in virtio_pci 9pnet_virtio 9p overlay virtio_blk; do
  modprobe -d "$kdir/root" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
  cp "$ko" "$work/initrd/modules/"
  basename "$ko" >>"$work/initrd/modules.order"
done
(cd "$work/initrd" && find . | "$busybox" cpio -o -H newc 2>/dev/null) >"$work/initrd.cpio"
truncate -s 8M "$work/disk.img"

# ---- the command: runs in the guest as written, in the repository, with the host's PATH ----
{
  printf 'export PATH=%q\n' "$PATH"
  printf 'cd %q || exit 100\n' "$repo"
  printf 'exec'
  printf ' %q' "$@"
  printf '\n'
} >"$work/results/cmd"

# ---- boot ----
timeout=${TSD_VM_TIMEOUT:-900}
started=$(date +%s)
cmdline="console=ttyS0 quiet loglevel=1 panic=-1 cgroup_no_v1=all tsd_vm_kver=$kver tsd_vm_modules=$kdir/root/lib/modules/$kver tsd_vm_init=$here/init.sh"
# The serial console says CRLF: strip the CR so the output reads as the host's own.
qemu-system-x86_64 -accel tcg -cpu max -smp "${TSD_VM_CPUS:-2}" -m "${TSD_VM_MEM:-2048}" \
  -display none -monitor none -serial stdio -no-reboot -nic none \
  -kernel "$vmlinuz" -initrd "$work/initrd.cpio" -append "$cmdline" \
  -virtfs local,path=/,mount_tag=host,security_model=passthrough,readonly=on,multidevs=remap \
  -virtfs local,path="$work/results",mount_tag=results,security_model=passthrough,multidevs=remap \
  -drive file="$work/disk.img",if=virtio,format=raw \
  </dev/null > >(tr -d '\r') 2>&1 &
qemu_pid=$!
end=$((started + timeout))
while kill -0 "$qemu_pid" 2>/dev/null; do
  if [ "$(date +%s)" -ge "$end" ]; then
    kill -KILL "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=
    fail "the guest ran out of its ${timeout}s (TSD_VM_TIMEOUT): killed"
  fi
  sleep 1
done
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=
say "guest ran $(( $(date +%s) - started ))s"
[ -s "$work/results/rc" ] || fail "the guest reported no exit status (it did not boot, or the command's stage failed: see the console above)"
exit "$(cat "$work/results/rc")"
