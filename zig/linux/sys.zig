//! The syscalls of the core, read top to bottom: `raw` first (the few calls std.os.linux lacks,
//! returning the kernel's usize as std.os.linux does, for callers that switch on the errno:
//! zig/unpack/), then one wrapper per syscall with the same arguments and the errno turned
//! into a Zig error (errno.zig). No allocation, no libc, safe to call between clone() and
//! execve(). Messages take their errno wording from errno.zig's one table.
const std = @import("std");
const linux = std.os.linux;
const errno = @import("errno.zig");
const assert = std.debug.assert;

pub const Error = errno.Error;
pub const fd_t = linux.fd_t;
pub const check = errno.check;

/// The ELF section of the code a running monitor's relay loop executes for every event
/// (zig/monitor/relay.zig: its loop, the log and attach writes, and the syscalls they make):
/// one contiguous range, so the few 64 KiB windows the kernel maps around each text fault
/// (fault-around) are the loop's working set, not every corner of the binary the code was
/// spread over. Elsewhere (libtsd) it is just a section name.
pub const loop_section = "tsd_loop";

/// struct open_how of openat2(2).
pub const OpenHow = extern struct { flags: u64, mode: u64 = 0, resolve: u64 };
pub const RESOLVE = struct {
    pub const NO_XDEV: u64 = 0x01;
    pub const NO_MAGICLINKS: u64 = 0x02;
    pub const NO_SYMLINKS: u64 = 0x04;
    pub const BENEATH: u64 = 0x08;
    pub const IN_ROOT: u64 = 0x10;
};

/// The kernel's dev_t encoding (new_encode_dev), which mknod's 32-bit dev argument takes.
pub fn makedev(major: u32, minor: u32) u32 {
    return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~@as(u32, 0xff)) << 12);
}

/// Raw calls std.os.linux lacks: the kernel's return value (decode with errno.of).
pub const raw = struct {
    pub fn openat2(dir: fd_t, path: [*:0]const u8, how: *const OpenHow) usize {
        return linux.syscall4(.openat2, @bitCast(@as(isize, dir)), @intFromPtr(path), @intFromPtr(how), @sizeOf(OpenHow));
    }

    pub fn fchownat(dir: fd_t, path: [*:0]const u8, uid: u32, gid: u32, flags: u32) usize {
        return linux.syscall5(.fchownat, @bitCast(@as(isize, dir)), @intFromPtr(path), uid, gid, flags);
    }
};

fn fd(rc: usize) Error!fd_t {
    return @intCast(try check(rc));
}

fn void_(rc: usize) Error!void {
    _ = try check(rc);
}

// ---- files ---------------------------------------------------------------------------------

pub fn openat(dir: fd_t, path: [*:0]const u8, flags: linux.O, mode: linux.mode_t) Error!fd_t {
    return fd(linux.openat(dir, path, flags, mode));
}

pub fn open(path: [*:0]const u8, flags: linux.O, mode: linux.mode_t) Error!fd_t {
    return openat(linux.AT.FDCWD, path, flags, mode);
}

pub fn openat2(dir: fd_t, path: [*:0]const u8, flags: linux.O, resolve: u64) Error!fd_t {
    const how: OpenHow = .{ .flags = @as(u32, @bitCast(flags)), .resolve = resolve };
    while (true) {
        const rc = raw.openat2(dir, path, &how);
        // EAGAIN: a concurrent rename raced the lookup (openat2(2)); retrying is the cure.
        return fd(rc) catch |err| switch (err) {
            error.AGAIN => continue,
            else => err,
        };
    }
}

/// For tests that need openat2: Debian 12's qemu-user (7.2), which runs the aarch64 tests
/// (`zig build test-aarch64`), does not emulate it and says ENOSYS; any kernel since 5.6 has
/// it, so on a real one this never skips.
pub fn skipWithoutOpenat2() error{SkipZigTest}!void {
    if (!@import("builtin").is_test) @compileError("tests only");
    // size 0 is invalid: a kernel with openat2 says EINVAL without opening anything.
    const rc = linux.syscall4(.openat2, @bitCast(@as(isize, linux.AT.FDCWD)), @intFromPtr("/"), 0, 0);
    if (linux.E.init(rc) == .NOSYS) {
        std.debug.print("skipped: openat2 is ENOSYS here (qemu-user does not emulate it)\n", .{});
        return error.SkipZigTest;
    }
}

pub fn close(f: fd_t) linksection(loop_section) void {
    assert(f >= 0);
    _ = linux.close(f);
}

pub fn read(f: fd_t, buf: []u8) linksection(loop_section) Error!usize {
    while (true) {
        return check(linux.read(f, buf.ptr, buf.len)) catch |err| switch (err) {
            error.INTR => continue,
            else => err,
        };
    }
}

/// Reads until end of file or until `buf` is full (a full buffer may mean more is left:
/// the caller decides whether that is an error). Bounded by `buf.len`.
pub fn readFull(f: fd_t, buf: []u8) Error![]u8 {
    var len: usize = 0;
    while (len < buf.len) {
        const n = try read(f, buf[len..]);
        if (n == 0) break;
        len += n;
    }
    assert(len <= buf.len);
    return buf[0..len];
}

pub fn write(f: fd_t, buf: []const u8) linksection(loop_section) Error!usize {
    while (true) {
        return check(linux.write(f, buf.ptr, buf.len)) catch |err| switch (err) {
            error.INTR => continue,
            else => err,
        };
    }
}

/// Writes everything; on a non-blocking fd waits for POLLOUT instead of spinning.
pub fn writeAll(f: fd_t, buf: []const u8) linksection(loop_section) Error!void {
    var done: usize = 0;
    while (done < buf.len) {
        const n = write(f, buf[done..]) catch |err| switch (err) {
            error.AGAIN => {
                try pollOne(f, linux.POLL.OUT, -1);
                continue;
            },
            else => return err,
        };
        assert(n <= buf.len - done);
        done += n;
    }
}

/// poll(2) over `fds`; returns how many have events (0: timed out). EINTR is retried.
pub fn poll(fds: []linux.pollfd, timeout_ms: i32) linksection(loop_section) Error!usize {
    assert(fds.len > 0 and fds.len <= 16);
    while (true) {
        return check(linux.poll(fds.ptr, @intCast(fds.len), timeout_ms)) catch |err| switch (err) {
            error.INTR => continue,
            else => err,
        };
    }
}

pub fn pollOne(f: fd_t, events: i16, timeout_ms: i32) linksection(loop_section) Error!void {
    var pfd = [1]linux.pollfd{.{ .fd = f, .events = events, .revents = 0 }};
    while (true) {
        _ = check(linux.poll(&pfd, 1, timeout_ms)) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
        return;
    }
}

pub fn dup3(old: fd_t, new: fd_t, flags: u32) Error!void {
    _ = try check(linux.dup3(old, new, flags));
}

pub fn pipe2(flags: linux.O) Error![2]fd_t {
    var fds: [2]fd_t = undefined;
    try void_(linux.pipe2(&fds, flags));
    return fds;
}

pub fn fcntl(f: fd_t, cmd: i32, arg: usize) Error!usize {
    return check(linux.fcntl(f, cmd, arg));
}

pub fn setNonblocking(f: fd_t) Error!void {
    const flags = try fcntl(f, linux.F.GETFL, 0);
    _ = try fcntl(f, linux.F.SETFL, flags | linux.SOCK.NONBLOCK);
}

pub fn setCloexec(f: fd_t) Error!void {
    _ = try fcntl(f, linux.F.SETFD, linux.FD_CLOEXEC);
}

pub const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

pub fn closeRange(first: u32, last: u32, flags: u32) Error!void {
    try void_(linux.syscall3(.close_range, first, last, flags));
}

pub fn fstat(f: fd_t) Error!linux.Stat {
    var st: linux.Stat = undefined;
    try void_(linux.fstat(f, &st));
    return st;
}

pub fn fstatat(dir: fd_t, path: [*:0]const u8, flags: u32) Error!linux.Stat {
    var st: linux.Stat = undefined;
    try void_(linux.fstatat(dir, path, &st, flags));
    return st;
}

/// statfs f_type of cgroup2 (linux/magic.h CGROUP2_SUPER_MAGIC).
pub const CGROUP2_SUPER_MAGIC: u64 = 0x63677270;

/// fstatfs(2)'s f_type: the filesystem's magic number (linux/magic.h).
pub fn fstatfsType(f: fd_t) Error!u64 {
    // struct statfs starts with f_type (a long on 64-bit Linux); 120 bytes on both ABIs.
    var buf: [120]u8 align(8) = undefined;
    try void_(linux.syscall2(.fstatfs, @bitCast(@as(isize, f)), @intFromPtr(&buf)));
    return std.mem.readInt(u64, buf[0..8], @import("builtin").cpu.arch.endian());
}

pub fn faccessat(dir: fd_t, path: [*:0]const u8, mode: u32) Error!void {
    try void_(linux.faccessat(dir, path, mode, 0));
}

pub fn readlinkat(dir: fd_t, path: [*:0]const u8, buf: []u8) Error![]u8 {
    const n = try check(linux.readlinkat(dir, path, buf.ptr, buf.len));
    if (n == buf.len) return error.NAMETOOLONG;
    return buf[0..n];
}

pub fn mkdirat(dir: fd_t, path: [*:0]const u8, mode: linux.mode_t) Error!void {
    try void_(linux.mkdirat(dir, path, mode));
}

pub fn mknodat(dir: fd_t, path: [*:0]const u8, mode: u32, dev: u32) Error!void {
    try void_(linux.mknodat(dir, path, mode, dev));
}

pub fn symlinkat(target: [*:0]const u8, dir: fd_t, path: [*:0]const u8) Error!void {
    try void_(linux.symlinkat(target, dir, path));
}

pub fn unlinkat(dir: fd_t, path: [*:0]const u8, flags: u32) Error!void {
    try void_(linux.unlinkat(dir, path, flags));
}

pub fn renameat(old_dir: fd_t, old: [*:0]const u8, new_dir: fd_t, new: [*:0]const u8) Error!void {
    try void_(linux.renameat(old_dir, old, new_dir, new));
}

pub fn fchownat(dir: fd_t, path: [*:0]const u8, uid: u32, gid: u32, flags: u32) Error!void {
    try void_(raw.fchownat(dir, path, uid, gid, flags));
}

pub fn fchmod(f: fd_t, mode: linux.mode_t) Error!void {
    try void_(linux.fchmod(f, mode));
}

/// Allocates [offset, offset+len) now, so later writes there cannot fail for want of space.
pub fn fallocate(f: fd_t, offset: u64, len: u64) Error!void {
    assert(len > 0);
    try void_(linux.fallocate(f, 0, @intCast(offset), @intCast(len)));
}

/// Writes everything at `offset` (a regular file: no EAGAIN).
pub fn pwriteAll(f: fd_t, buf: []const u8, offset: u64) Error!void {
    var done: usize = 0;
    while (done < buf.len) {
        const rc = linux.pwrite(f, buf[done..].ptr, buf.len - done, @intCast(offset + done));
        const n = check(rc) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
        assert(n > 0 and n <= buf.len - done);
        done += n;
    }
}

pub fn ftruncate(f: fd_t, len: u64) Error!void {
    try void_(linux.ftruncate(f, @intCast(len)));
}

pub fn fsync(f: fd_t) Error!void {
    try void_(linux.fsync(f));
}

pub fn chdir(path: [*:0]const u8) Error!void {
    try void_(linux.chdir(path));
}

pub fn fchdir(f: fd_t) Error!void {
    try void_(linux.fchdir(f));
}

pub fn umask(mask: u32) u32 {
    return @truncate(linux.syscall1(.umask, mask));
}

pub fn ioctl(f: fd_t, request: u32, arg: usize) Error!usize {
    return check(linux.ioctl(f, request, arg));
}

// ---- mounts --------------------------------------------------------------------------------

pub fn mount(source: ?[*:0]const u8, target: [*:0]const u8, fstype: ?[*:0]const u8, flags: u32, data: ?[*:0]const u8) Error!void {
    try void_(linux.mount(source, target, fstype, flags, @intFromPtr(data)));
}

pub fn umount2(target: [*:0]const u8, flags: u32) Error!void {
    try void_(linux.umount2(target, flags));
}

pub fn pivotRoot(new_root: [*:0]const u8, put_old: [*:0]const u8) Error!void {
    try void_(linux.syscall2(.pivot_root, @intFromPtr(new_root), @intFromPtr(put_old)));
}

/// struct mount_attr of mount_setattr(2).
pub const MountAttr = extern struct { attr_set: u64 = 0, attr_clr: u64 = 0, propagation: u64 = 0, userns_fd: u64 = 0 };
pub const MOUNT_ATTR = struct {
    pub const RDONLY: u64 = 0x1;
    pub const NOSUID: u64 = 0x2;
    pub const NODEV: u64 = 0x4;
    pub const NOEXEC: u64 = 0x8;
    pub const _ATIME: u64 = 0x70;
    pub const RELATIME: u64 = 0x0;
    pub const NOATIME: u64 = 0x10;
    pub const STRICTATIME: u64 = 0x20;
    pub const NODIRATIME: u64 = 0x80;
    pub const NOSYMFOLLOW: u64 = 0x200000;
};
pub const AT_RECURSIVE: u32 = 0x8000;

pub fn mountSetattr(dir: fd_t, path: [*:0]const u8, flags: u32, attr: *const MountAttr) Error!void {
    try void_(linux.syscall5(.mount_setattr, @bitCast(@as(isize, dir)), @intFromPtr(path), flags, @intFromPtr(attr), @sizeOf(MountAttr)));
}

/// The new mount API (idmapped rootfs layers, zig/runtime/idmap.zig).
pub const MOUNT_ATTR_IDMAP: u64 = 0x100000;
pub const OPEN_TREE_CLONE: u32 = 1;
pub const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
pub const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;
pub const FSCONFIG_SET_STRING: u32 = 1;
pub const FSCONFIG_CMD_CREATE: u32 = 6;

pub fn openTree(dir: fd_t, path: [*:0]const u8, flags: u32) Error!fd_t {
    return fd(linux.syscall3(.open_tree, @bitCast(@as(isize, dir)), @intFromPtr(path), flags | 0x80000)); // OPEN_TREE_CLOEXEC = O_CLOEXEC
}

pub fn fsopen(name: [*:0]const u8) Error!fd_t {
    return fd(linux.syscall2(.fsopen, @intFromPtr(name), 1)); // FSOPEN_CLOEXEC
}

pub fn fsconfig(f: fd_t, cmd: u32, key: ?[*:0]const u8, value: ?[*:0]const u8) Error!void {
    try void_(linux.syscall5(.fsconfig, @bitCast(@as(isize, f)), cmd, @intFromPtr(key), @intFromPtr(value), 0));
}

/// `attrs`: MOUNT_ATTR_* of the new mount.
pub fn fsmount(f: fd_t, attrs: u64) Error!fd_t {
    return fd(linux.syscall3(.fsmount, @bitCast(@as(isize, f)), 1, attrs)); // FSMOUNT_CLOEXEC
}

/// Moves the detached tree `from` onto `to_path` in `to_dir` (no symlink followed), or onto
/// `to_dir` itself when `to_path` is "".
pub fn moveMount(from: fd_t, to_dir: fd_t, to_path: [:0]const u8) Error!void {
    const flags = MOVE_MOUNT_F_EMPTY_PATH | if (to_path.len == 0) MOVE_MOUNT_T_EMPTY_PATH else 0;
    try void_(linux.syscall5(.move_mount, @bitCast(@as(isize, from)), @intFromPtr(""), @bitCast(@as(isize, to_dir)), @intFromPtr(to_path.ptr), flags));
}

/// setfsuid/setfsgid return the previous id and never fail.
pub fn setfsuid(id: u32) u32 {
    return @truncate(linux.syscall1(.setfsuid, id));
}

pub fn setfsgid(id: u32) u32 {
    return @truncate(linux.syscall1(.setfsgid, id));
}

// ---- processes and namespaces ---------------------------------------------------------------

/// clone(2) without CLONE_VM and without a new stack: fork semantics plus namespace flags
/// (what crun does), so the child runs on a copy of the parent's memory. Returns 0 in the child.
/// The pointer arguments are all 0, so their order, which differs (x86_64: ptid, ctid, tls;
/// arm64: ptid, tls, ctid), does not matter.
pub fn cloneFork(flags: u64) Error!linux.pid_t {
    const rc = linux.syscall5(.clone, flags | linux.SIG.CHLD, 0, 0, 0, 0);
    return @intCast(try check(rc));
}

/// struct clone_args of clone3(2), up to `cgroup` (CLONE_ARGS_SIZE_VER2, Linux 5.7).
pub const CloneArgs = extern struct {
    flags: u64 = 0,
    pidfd: u64 = 0,
    child_tid: u64 = 0,
    parent_tid: u64 = 0,
    exit_signal: u64 = 0,
    stack: u64 = 0,
    stack_size: u64 = 0,
    tls: u64 = 0,
    set_tid: u64 = 0,
    set_tid_size: u64 = 0,
    cgroup: u64 = 0,
};

/// clone3's flag (Linux 5.7): the child starts in the cgroup v2 directory `CloneArgs.cgroup`.
pub const CLONE_INTO_CGROUP: u64 = 0x200000000;

/// cloneFork through clone3(2) with the child born in the cgroup v2 directory `cgroup_dir` (an
/// fd), instead of moved there after the fork. ENOSYS (before 5.3, or a seccomp filter), EINVAL
/// or E2BIG (before 5.7) say the kernel cannot; the caller falls back to cloneFork.
pub fn cloneForkInto(flags: u64, cgroup_dir: fd_t) Error!linux.pid_t {
    assert(cgroup_dir >= 0);
    assert(flags & 0xff == 0); // the exit signal is a field of its own here
    var args: CloneArgs = .{ .flags = flags | CLONE_INTO_CGROUP, .exit_signal = linux.SIG.CHLD, .cgroup = @intCast(cgroup_dir) };
    const rc = linux.syscall2(.clone3, @intFromPtr(&args), @sizeOf(CloneArgs));
    return @intCast(try check(rc));
}

pub fn fork() Error!linux.pid_t {
    return @intCast(try check(linux.fork()));
}

pub fn setns(f: fd_t, nstype: u32) Error!void {
    try void_(linux.syscall2(.setns, @bitCast(@as(isize, f)), nstype));
}

pub fn unshare(flags: u32) Error!void {
    try void_(linux.unshare(flags));
}

pub fn setsid() Error!void {
    _ = try check(@bitCast(@as(isize, linux.setsid())));
}

pub fn kill(pid: linux.pid_t, sig: i32) linksection(loop_section) Error!void {
    try void_(linux.kill(pid, sig));
}

pub const WaitResult = struct { pid: linux.pid_t, status: u32 };

/// waitpid; pid 0 in the result means WNOHANG found nothing.
pub fn waitpid(pid: linux.pid_t, flags: u32) linksection(loop_section) Error!WaitResult {
    var status: u32 = 0;
    while (true) {
        const rc = check(linux.waitpid(pid, &status, flags)) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
        return .{ .pid = @intCast(rc), .status = status };
    }
}

pub fn execve(path: [*:0]const u8, argv: [*:null]const ?[*:0]const u8, envp: [*:null]const ?[*:0]const u8) Error {
    const rc = linux.execve(path, argv, envp);
    _ = check(rc) catch |err| return err;
    unreachable; // execve returns only on failure.
}

/// keyctl(2): the operation's result (a key serial, a length) or its error.
pub fn keyctl(op: u32, a2: usize, a3: usize, a4: usize, a5: usize) Error!usize {
    return check(linux.syscall5(.keyctl, op, a2, a3, a4, a5));
}

pub fn prctl(option: linux.PR, a2: usize, a3: usize, a4: usize, a5: usize) Error!usize {
    return check(linux.prctl(@intFromEnum(option), a2, a3, a4, a5));
}

pub fn sethostname(name: []const u8) Error!void {
    try void_(linux.syscall2(.sethostname, @intFromPtr(name.ptr), name.len));
}

pub fn setdomainname(name: []const u8) Error!void {
    try void_(linux.syscall2(.setdomainname, @intFromPtr(name.ptr), name.len));
}

pub fn setgroups(gids: []const u32) Error!void {
    try void_(linux.setgroups(gids.len, gids.ptr));
}

pub fn setresgid(gid: u32) Error!void {
    try void_(linux.setresgid(gid, gid, gid));
}

pub fn setresuid(uid: u32) Error!void {
    try void_(linux.setresuid(uid, uid, uid));
}

pub fn capget(header: *linux.cap_user_header_t, data: *[2]linux.cap_user_data_t) Error!void {
    try void_(linux.capget(header, &data[0]));
}

pub fn capset(header: *linux.cap_user_header_t, data: *const [2]linux.cap_user_data_t) Error!void {
    try void_(linux.capset(header, &data[0]));
}

pub fn prlimit(resource: linux.rlimit_resource, new: ?*const linux.rlimit, old: ?*linux.rlimit) Error!void {
    try void_(linux.prlimit(0, resource, new, old));
}

pub fn sigprocmask(how: u32, set: *const linux.sigset_t, old: ?*linux.sigset_t) Error!void {
    try void_(linux.sigprocmask(how, set, old));
}

pub fn signalfd(mask: *const linux.sigset_t) Error!fd_t {
    return fd(linux.signalfd(-1, mask, linux.SFD.CLOEXEC | linux.SFD.NONBLOCK));
}

pub fn clockMonotonicMs() linksection(loop_section) i64 {
    // Not `undefined`: a safe build fills it from a constant in .rodata (see loop_section).
    var ts: linux.timespec = .{ .sec = 0, .nsec = 0 };
    _ = linux.clock_gettime(.MONOTONIC, &ts);
    return @as(i64, ts.sec) * std.time.ms_per_s + @divTrunc(ts.nsec, std.time.ns_per_ms);
}

pub fn clockRealtimeNs() linksection(loop_section) i64 {
    // Not `undefined`: a safe build fills it from a constant in .rodata (see loop_section).
    var ts: linux.timespec = .{ .sec = 0, .nsec = 0 };
    _ = linux.clock_gettime(.REALTIME, &ts);
    return @as(i64, ts.sec) * std.time.ns_per_s + ts.nsec;
}

pub const page_size = 4096;

/// Gives back the whole pages inside `bytes` (MADV_DONTNEED: when next touched, anonymous
/// memory such as .bss reads as zeroes, a private file mapping as the file's bytes): a scratch
/// buffer's pages after a burst, so a monitor's RSS returns to its idle size once a flood of
/// output has passed; a read-only segment's clean pages after the set-up (relay.trimImage).
/// Only for bytes whose contents no longer matter or are the file's own.
pub fn dropPages(bytes: []u8) linksection(loop_section) void {
    const start = std.mem.alignForward(usize, @intFromPtr(bytes.ptr), page_size);
    const end = std.mem.alignBackward(usize, @intFromPtr(bytes.ptr) + bytes.len, page_size);
    if (end <= start) return;
    // It fails only for memory that is not ours to give, which no slice is; then the pages
    // merely stay resident.
    _ = linux.madvise(@ptrFromInt(start), end - start, linux.MADV.DONTNEED);
}

// ---- epoll and sockets -----------------------------------------------------------------------

pub fn epollCreate() Error!fd_t {
    return fd(linux.epoll_create1(linux.EPOLL.CLOEXEC));
}

pub fn epollCtl(epfd: fd_t, op: u32, f: fd_t, events: u32) linksection(loop_section) Error!void {
    var ev: linux.epoll_event = .{ .events = events, .data = .{ .fd = f } };
    try void_(linux.epoll_ctl(epfd, op, f, &ev));
}

pub fn epollWait(epfd: fd_t, events: []linux.epoll_event, timeout_ms: i32) linksection(loop_section) Error!usize {
    while (true) {
        return check(linux.epoll_wait(epfd, events.ptr, @intCast(events.len), timeout_ms)) catch |err| switch (err) {
            error.INTR => continue,
            else => err,
        };
    }
}

pub fn socket(domain: u32, kind: u32, protocol: u32) Error!fd_t {
    return fd(linux.socket(domain, kind, protocol));
}

pub fn socketpair(domain: u32, kind: u32) Error![2]fd_t {
    var fds: [2]fd_t = undefined;
    try void_(linux.socketpair(@intCast(domain), @intCast(kind), 0, &fds));
    return fds;
}

pub fn sendmsg(f: fd_t, msg: *const linux.msghdr_const) Error!usize {
    while (true) {
        return check(linux.sendmsg(f, msg, linux.MSG.NOSIGNAL)) catch |err| switch (err) {
            error.INTR => continue,
            else => err,
        };
    }
}

pub fn recvmsg(f: fd_t, msg: *linux.msghdr) Error!usize {
    while (true) {
        return check(linux.recvmsg(f, msg, linux.MSG.CMSG_CLOEXEC)) catch |err| switch (err) {
            error.INTR => continue,
            else => err,
        };
    }
}

/// struct cmsghdr followed by one int, padded as CMSG_SPACE(sizeof(int)): one SCM_RIGHTS fd.
const FdControl = extern struct {
    len: usize,
    level: i32,
    kind: i32,
    fd: i32,
    pad: i32 = 0,
};
const scm_rights = 1;

/// One message of `bytes` on a unix socket, with `pass` as its one SCM_RIGHTS fd when given
/// (the sync channel, the console socket). Returns the bytes sent.
pub fn sendWithFd(f: fd_t, bytes: []const u8, pass: ?fd_t) Error!usize {
    assert(bytes.len > 0);
    var iov = [1]std.posix.iovec_const{.{ .base = bytes.ptr, .len = bytes.len }};
    var control: FdControl = .{ .len = @sizeOf(usize) + 8 + 4, .level = linux.SOL.SOCKET, .kind = scm_rights, .fd = pass orelse -1 };
    const msg: linux.msghdr_const = .{
        .name = null,
        .namelen = 0,
        .iov = &iov,
        .iovlen = 1,
        .control = if (pass != null) &control else null,
        .controllen = if (pass != null) @sizeOf(FdControl) else 0,
        .flags = 0,
    };
    return sendmsg(f, &msg);
}

pub const Received = struct { len: usize, fd: ?fd_t };

/// One message into `buf`, and the SCM_RIGHTS fd that came with it (close-on-exec), if any.
pub fn recvWithFd(f: fd_t, buf: []u8) Error!Received {
    assert(buf.len > 0);
    var iov = [1]std.posix.iovec{.{ .base = buf.ptr, .len = buf.len }};
    var control: FdControl = .{ .len = 0, .level = 0, .kind = 0, .fd = -1 };
    var msg: linux.msghdr = .{
        .name = null,
        .namelen = 0,
        .iov = &iov,
        .iovlen = 1,
        .control = &control,
        .controllen = @sizeOf(FdControl),
        .flags = 0,
    };
    const n = try recvmsg(f, &msg);
    const passed = msg.controllen >= @sizeOf(usize) + 12 and control.level == linux.SOL.SOCKET and control.kind == scm_rights;
    return .{ .len = n, .fd = if (passed) control.fd else null };
}

/// An IPv4 datagram socket's address, in network byte order inside.
pub fn bindIn(f: fd_t, addr: *const linux.sockaddr.in) Error!void {
    try void_(linux.bind(f, @ptrCast(addr), @sizeOf(linux.sockaddr.in)));
}

/// One datagram from an IPv4 peer; error.AGAIN when none is queued (a non-blocking socket).
/// A datagram longer than `buf` is cut (MSG_TRUNC reports its real length: the caller drops it).
pub fn recvfromIn(f: fd_t, buf: []u8, from: *linux.sockaddr.in) Error!usize {
    while (true) {
        var len: linux.socklen_t = @sizeOf(linux.sockaddr.in);
        return check(linux.recvfrom(f, buf.ptr, buf.len, linux.MSG.TRUNC, @ptrCast(from), &len)) catch |err| switch (err) {
            error.INTR => continue,
            else => err,
        };
    }
}

pub fn sendtoIn(f: fd_t, buf: []const u8, to: *const linux.sockaddr.in) Error!usize {
    while (true) {
        return check(linux.sendto(f, buf.ptr, buf.len, linux.MSG.NOSIGNAL | linux.MSG.DONTWAIT, @ptrCast(to), @sizeOf(linux.sockaddr.in))) catch |err| switch (err) {
            error.INTR => continue,
            else => err,
        };
    }
}

pub fn getrandom(buf: []u8) Error!void {
    const n = try check(linux.getrandom(buf.ptr, buf.len, 0));
    if (n != buf.len) return error.AGAIN;
}

pub fn chroot(path: [*:0]const u8) Error!void {
    try void_(linux.chroot(path));
}

test "makedev matches the kernel encoding" {
    try std.testing.expectEqual(@as(u32, 0x0103), makedev(1, 3));
    try std.testing.expectEqual(@as(u32, 0x500), makedev(5, 0));
    try std.testing.expectEqual(@as(u32, 0), makedev(0, 0));
    try std.testing.expectEqual(@as(u32, 0x1231_0345), makedev(0x103, 0x12345));
    try std.testing.expectEqual(@as(u32, (136 << 8) | 0x12 | (0x100 << 12)), makedev(136, 0x112));
}

test "open and close a file" {
    const f = try open("/proc/self/status", .{ .CLOEXEC = true }, 0);
    defer close(f);
    var buf: [16]u8 = undefined;
    const n = try read(f, &buf);
    try std.testing.expect(n > 0);
    try std.testing.expectError(error.NOENT, open("/nonexistent-tsd", .{}, 0));
}

test "kernel ABI layouts and numbers are this architecture's (run for x86_64 and, under qemu, aarch64)" {
    const builtin = @import("builtin");
    const expectEqual = std.testing.expectEqual;
    const arm64 = builtin.cpu.arch == .aarch64;
    comptime assert(arm64 or builtin.cpu.arch == .x86_64);
    // struct epoll_event is packed on x86_64 only (__EPOLL_PACKED).
    try expectEqual(@as(usize, if (arm64) 16 else 12), @sizeOf(linux.epoll_event));
    try expectEqual(@as(usize, if (arm64) 8 else 4), @offsetOf(linux.epoll_event, "data"));
    // struct stat: asm-generic's on arm64, x86_64's own (nlink before mode) elsewhere.
    try expectEqual(@as(usize, if (arm64) 128 else 144), @sizeOf(linux.Stat));
    try expectEqual(@as(usize, if (arm64) 16 else 24), @offsetOf(linux.Stat, "mode"));
    try expectEqual(@as(usize, 48), @offsetOf(linux.Stat, "size"));
    // The O_ bits differ: arm64 took O_DIRECTORY/O_NOFOLLOW from 32-bit arm.
    try expectEqual(@as(u32, if (arm64) 0o40000 else 0o200000), @as(u32, @bitCast(linux.O{ .DIRECTORY = true })));
    try expectEqual(@as(u32, if (arm64) 0o100000 else 0o400000), @as(u32, @bitCast(linux.O{ .NOFOLLOW = true })));
    try expectEqual(@as(u32, 0o2000000), @as(u32, @bitCast(linux.O{ .CLOEXEC = true })));
    // Same on both (asm-generic ioctls): what console.zig and namespaces.zig pass.
    try expectEqual(@as(u32, 0x5401), linux.T.CGETS);
    try expectEqual(@as(u32, 0x5403), linux.T.CSETSW);
    try expectEqual(@as(u32, 0x540E), linux.T.IOCSCTTY);
    try expectEqual(@as(u32, 0x5413), linux.T.IOCGWINSZ);
    try expectEqual(@as(u32, 0x5414), linux.T.IOCSWINSZ);
    try expectEqual(@as(u32, 0x80045430), linux.T.IOCGPTN);
    try expectEqual(@as(u32, 0x40045431), linux.T.IOCSPTLCK);
    try expectEqual(@as(u32, 0x8913), linux.SIOCGIFFLAGS);
    try expectEqual(@as(u32, 0x8914), linux.SIOCSIFFLAGS);
    // TCGETS writes the kernel's struct termios (36 bytes, c_cc[19] at 17); Zig's is glibc's
    // larger one with the same prefix. ifreq is 40 bytes on 64-bit.
    try std.testing.expect(@sizeOf(linux.termios) >= 36);
    try expectEqual(@as(usize, 17), @offsetOf(linux.termios, "cc"));
    try expectEqual(@as(usize, 40), @sizeOf(linux.ifreq));
    try expectEqual(@as(usize, 64), @sizeOf(linux.SECCOMP.data));
    try expectEqual(@as(usize, 56), @sizeOf(linux.msghdr));
    try expectEqual(@as(usize, 24), @sizeOf(OpenHow));
    try expectEqual(@as(usize, 32), @sizeOf(MountAttr));
    try expectEqual(@as(usize, 88), @sizeOf(CloneArgs));
    try expectEqual(@as(u32, 17), linux.SIG.CHLD);
    // Raw syscall numbers this file passes by name.
    const want = if (arm64)
        .{ .clone = 220, .clone3 = 435, .fstatfs = 44, .openat2 = 437, .close_range = 436, .mount_setattr = 442, .pivot_root = 41, .umask = 166 }
    else
        .{ .clone = 56, .clone3 = 435, .fstatfs = 138, .openat2 = 437, .close_range = 436, .mount_setattr = 442, .pivot_root = 155, .umask = 95 };
    inline for (@typeInfo(@TypeOf(want)).@"struct".fields) |f| {
        try expectEqual(@as(usize, @field(want, f.name)), @intFromEnum(@field(linux.SYS, f.name)));
    }
}

test "dropPages gives back the whole pages inside the slice, nothing around them" {
    // Anonymous memory, as the monitor's .bss buffers are: a page given back reads as zeroes.
    const len = 3 * page_size;
    const addr = linux.mmap(null, len, linux.PROT.READ | linux.PROT.WRITE, .{ .TYPE = .PRIVATE, .ANONYMOUS = true }, -1, 0);
    _ = try check(addr);
    defer _ = linux.munmap(@ptrFromInt(addr), len);
    const buf = @as([*]u8, @ptrFromInt(addr))[0..len];
    @memset(buf, 0x5a);
    dropPages(buf[100 .. len - 100]);
    // Only the middle page lies whole inside: zeroes now; the edges keep their bytes.
    for (buf[0..page_size]) |b| try std.testing.expectEqual(@as(u8, 0x5a), b);
    for (buf[page_size .. 2 * page_size]) |b| try std.testing.expectEqual(@as(u8, 0), b);
    for (buf[2 * page_size ..]) |b| try std.testing.expectEqual(@as(u8, 0x5a), b);
    dropPages(buf[1..page_size]); // no whole page: nothing
    try std.testing.expectEqual(@as(u8, 0x5a), buf[1]);
}
