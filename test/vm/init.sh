#!/bin/sh
# The guest's two stages, one file (busybox sh in the initramfs, then the host's own sh).
#
# Stage 1, /init in the initramfs (no argument): load the few modules 9p and overlay need, mount
# the host's / (9p, read-only) under a tmpfs overlay, bind the kernel's modules tree, and
# switch_root into it running this same file as stage 2.
# Stage 2 (argument "stage2"): a pure cgroup v2 system (cgroup2 alone at /sys/fs/cgroup, the
# controllers handed to the root's children), then the host-written command
# /vm-results/cmd; its exit status goes to /vm-results/rc, and the guest powers off.
# Paths the host passes on the kernel command line: tsd_vm_kver, tsd_vm_modules (the extracted
# modules tree as the host sees it), tsd_vm_init (this file as the host sees it).

arg() { # NAME: the value of NAME= on the kernel command line
  for w in $(cat /proc/cmdline); do
    case $w in "$1"=*) echo "${w#*=}"; return ;; esac
  done
}

die() {
  echo "tsd-vm: $*" >&2
  # The host reads no rc file and reports the failure; poweroff ends qemu (-no-reboot).
  busybox poweroff -f 2>/dev/null || poweroff -f 2>/dev/null || echo o >/proc/sysrq-trigger
  sleep 60
}

stage1() {
  export PATH=/bin
  /bin/busybox --install -s /bin
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mount -t devtmpfs devtmpfs /dev
  for m in $(cat /modules.order); do insmod "/modules/$m" || die "insmod $m failed"; done
  mkdir -p /host /rw /newroot
  # cache=loose: the host's tree does not change under a test run, and reading bun and tsd
  # (100 MB each) through 9p for every page would dominate the run under TCG.
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro host /host || die "cannot mount the host's / over 9p"
  mount -t tmpfs -o mode=755 tmpfs /rw
  mkdir -p /rw/upper /rw/work
  mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || die "cannot mount the overlay root"
  kver=$(arg tsd_vm_kver)
  modules=$(arg tsd_vm_modules)
  mkdir -p "/newroot/lib/modules/$kver"
  mount --bind "/newroot$modules" "/newroot/lib/modules/$kver" || die "cannot bind the modules tree $modules"
  init=$(arg tsd_vm_init)
  umount /proc /sys /dev 2>/dev/null
  exec switch_root /newroot /bin/sh "$init" stage2
}

stage2() {
  export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mount -t devtmpfs devtmpfs /dev
  mkdir -p /dev/pts /dev/shm
  mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
  mount -t tmpfs -o mode=1777 tmpfs /dev/shm
  mount -t tmpfs -o mode=755 tmpfs /run
  # Pure v2: cgroup2 only (the kernel has cgroup_no_v1=all), controllers for the children.
  mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || die "cannot mount cgroup2"
  echo "+cpuset +cpu +io +memory +pids" >/sys/fs/cgroup/cgroup.subtree_control || die "cannot enable the v2 controllers"
  mkdir -p /vm-results
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results /vm-results || die "cannot mount the results share"
  hostname tsd-vm
  ip link set lo up 2>/dev/null
  cd /
  sh /vm-results/cmd </dev/null
  echo $? >/vm-results/rc
  sync
  busybox poweroff -f 2>/dev/null || poweroff -f 2>/dev/null || echo o >/proc/sysrq-trigger
  sleep 60
}

if [ "$1" = stage2 ]; then stage2; else stage1; fi
