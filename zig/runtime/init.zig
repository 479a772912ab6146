//! The container init: the cloned child, from clone() to execve() (CONTRACT.md "Container
//! init", runc/youki order). It only reads the Spec parsed before clone and fixed-size stack
//! buffers: no allocation. Any failure goes to the monitor as "E<status> <message>" and ends
//! the process with that status.
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;
const diag = @import("diag.zig");
const Diag = diag.Diag;
const spec = @import("spec.zig");
const sync = @import("sync.zig");
const namespaces = @import("namespaces.zig");
const rootfs = @import("rootfs.zig");
const mounts = @import("mounts.zig");
const devices = @import("devices.zig");
const console = @import("console.zig");
const user = @import("user.zig");
const become = @import("become.zig");
const idmap = @import("idmap.zig");
const hooks = @import("hooks.zig");
const keyring = @import("keyring.zig");
const cgroup_mount = @import("cgroup_mount.zig");
const exec = @import("exec.zig");
const errno = @import("linux").errno;

/// The init's copy (after clone) of the trees the monitor passes before the first "go".
var received: idmap.Received = .{};

pub const Context = struct {
    spec: *const spec.Spec,
    /// The init's end of the sync channel, and the monitor's (closed first thing).
    sync: sys.fd_t,
    monitor_sync: sys.fd_t,
    /// stdin, stdout, stderr for the container when there is no terminal.
    stdio: [3]sys.fd_t,
    /// stdio[0] is a placeholder: once the container's /dev exists, fd 0 becomes its own
    /// /dev/null (no host file reaches the container).
    null_stdin: bool = false,
    /// /proc/sys/kernel/cap_last_cap, read by the monitor.
    last_cap: u6,
    /// tsd-monitor --create: the container's stdio are the monitor's fds 0-2 as given (the
    /// caller's pipes); fd 3 (the report pipe) is closed and the `spec.preserve_fds` fds the
    /// monitor holds from fd 4 on move down to 3.
    inherit_stdio: bool = false,
    /// --create: the exec fifo, opened by the monitor (O_RDONLY|O_NONBLOCK, close-on-exec: a
    /// container root mapped to another uid could not open the 0600 fifo itself). After every
    /// step but become the init sends "R" and waits for `start`'s byte (CONTRACT.md
    /// "tsd-monitor --create").
    fifo: ?sys.fd_t = null,
    /// --no-pivot: MS_MOVE the rootfs onto / and chroot instead of pivot_root.
    no_pivot: bool = false,
    /// The prefix of the hooks' state JSON (hooks.zig), for createContainer and startContainer.
    hook_state: ?*const hooks.State = null,
    /// --create without --no-new-keyring: the session keyring to join (`_ses.<id>`, runc's).
    keyring: ?[:0]const u8 = null,
};

pub fn run(ctx: *const Context) noreturn {
    var d: Diag = .{};
    _ = steps(ctx, &d) catch {};
    std.debug.assert(d.len > 0);
    // If the monitor is gone (a created container's start) the caller's stderr is told.
    sync.sendFailure(ctx.sync, d.status, d.message()) catch {
        if (ctx.fifo != null) {
            var buf: [diag.message_max + 8]u8 = undefined;
            sys.writeAll(2, std.fmt.bufPrint(&buf, "tsd: {s}\n", .{d.message()}) catch buf[0..]) catch {};
        }
    };
    linux.exit_group(d.status);
}

/// Returns only with an error: success ends in execve.
fn steps(ctx: *const Context, d: *Diag) !void {
    const s = ctx.spec;
    sys.close(ctx.monitor_sync);
    if (ctx.inherit_stdio) try movePreserved(s.preserve_fds, d) else if (!s.process.terminal) try takeStdio(ctx.stdio, d);
    // Only the init's own hooks need it (their state's pid): no /proc read on a plain run.
    const host_pid: linux.pid_t = if (s.hooksOf(.createContainer).len + s.hooksOf(.startContainer).len > 0) hostPid() else 0;
    try user.setOomScoreAdj(&s.process, d);
    try namespaces.joinAll(s, d);
    try waitForGo(ctx.sync, d, &received);
    // Still the host's root: the path to root.path may not be open to the namespace's.
    const moved: ?rootfs.Moved = if (received.root >= 0) .{ .tree = received.root, .parent = try rootfs.openParent(s, d) } else null;
    const in_user_namespace = s.creates(.user) or s.joinPath(.user) != null;
    if (in_user_namespace) try user.becomeNamespaceRoot(d);
    // As root of the container's user namespace: the keyring is its root's (runc's order).
    if (ctx.keyring) |name| try keyring.join(name, in_user_namespace, d);
    // Device nodes and mount points get exactly the modes the spec asks for.
    _ = sys.umask(0);
    const pty = if (s.sharesHostMounts()) try chrootRoot(ctx, host_pid, d) else try ownRoot(ctx, moved, host_pid, d);
    try namespaces.setHostname(s, d);
    try namespaces.loopbackUp(s, d);
    if (!s.sharesHostMounts()) {
        // Before maskAndProtect: that makes /proc/sys read-only.
        try namespaces.applySysctls(s, d);
        try rootfs.maskAndProtect(s, d);
    }
    if (pty) |p| try console.becomeStdio(p.slave, d) else sys.setsid() catch |err| return d.fail(err, "setsid", .{});
    if (ctx.fifo) |f| {
        try checkProcess(s, d);
        try awaitStart(ctx.sync, f, d);
    }
    return become.become(s, ctx.last_cap, startHooks(ctx, host_pid), d);
}

/// A mount namespace of the container's own: its rootfs, mounts, /dev, cgroups (with its first
/// cgroup mount, else after the mounts), the runtime and createContainer hooks, pivot_root, the
/// pty (its master to the monitor), the read-only tmpfs mounts made so.
fn ownRoot(ctx: *const Context, moved: ?rootfs.Moved, host_pid: linux.pid_t, d: *Diag) !?console.Pty {
    const s = ctx.spec;
    try rootfs.makePrivate(s, d);
    const root = try rootfs.mountRoot(s, moved, d);
    var in_cgroups = false;
    for (s.mounts[0..s.mounts_len], 0..) |*m, i| {
        if (m.isCgroupFs() and !in_cgroups) in_cgroups = try enterCgroups(ctx, d);
        if (cgroup_mount.isAuto(m)) try cgroup_mount.mount(root, m, s.creates(.cgroup), d) else try mounts.mountOne(root, m, received.mount(i), d);
    }
    if (!in_cgroups) in_cgroups = try enterCgroups(ctx, d);
    assert(in_cgroups);
    try devices.create(root, s, d);
    try rootfs.createCwd(root, s, d);
    try runtimeHooks(ctx, d);
    try containerHooks(ctx, .createContainer, "creating", host_pid, d);
    if (ctx.no_pivot) try rootfs.moveRoot(root, d) else try rootfs.pivot(root, d);
    try rootfs.shareRoot(s, d);
    sys.close(root);
    if (ctx.null_stdin and !s.process.terminal) try containerNullStdin(d);

    const pty: ?console.Pty = if (s.process.terminal) try console.openPty(d) else null;
    if (pty) |p| {
        sync.sendPty(ctx.sync, p.master) catch |err| return d.fail(err, "pass the pty to the monitor", .{});
        sys.close(p.master);
    }
    // After /dev/console (runc's finalizeRootfs): the read-only tmpfs mounts become so.
    try mounts.finishReadonlyAll(s.mounts[0..s.mounts_len], d);
    return pty;
}

/// No mount namespace: every mount would land in the runtime's (the host's) mount table, so
/// none is made (the spec's mounts, /dev, masked and read-only paths need a namespace of the
/// container's own; runc skips its whole rootfs set-up here and leaves the process at the
/// host's "/"): the cgroups, the hooks, then the process chrooted into root.path. No pty (the
/// spec parser refuses a terminal without a mount namespace).
fn chrootRoot(ctx: *const Context, host_pid: linux.pid_t, d: *Diag) !?console.Pty {
    const s = ctx.spec;
    assert(s.sharesHostMounts() and !s.process.terminal);
    _ = try enterCgroups(ctx, d);
    try runtimeHooks(ctx, d);
    try containerHooks(ctx, .createContainer, "creating", host_pid, d);
    sys.chroot(s.root_path) catch |err| return d.fail(err, "chroot to \"{s}\"", .{s.root_path});
    sys.chdir("/") catch |err| return d.fail(err, "chdir to /", .{});
    return null;
}

/// --preserve-fds N: the caller's fds 3..3+N-1 reached the monitor at 4..4+N-1 (fd 3 is the
/// report pipe); in the init they move down to 3.. and stay open across execve.
fn movePreserved(n: u32, d: *Diag) !void {
    var i: u32 = 0;
    while (i < n) : (i += 1) {
        sys.dup3(@intCast(4 + i), @intCast(3 + i), 0) catch |err| return d.fail(err, "preserve fd {d}", .{3 + i});
    }
    sys.close(@intCast(3 + n));
}

/// The init's pid as the host sees it (the hooks' state): /proc is still the host's here.
fn hostPid() linux.pid_t {
    var buf: [32]u8 = undefined;
    const link = sys.readlinkat(linux.AT.FDCWD, "/proc/self", &buf) catch return 0;
    return std.fmt.parseInt(linux.pid_t, link, 10) catch 0;
}

/// prestart and createRuntime run in the monitor while the init waits here (runc's order:
/// mounts made, before pivot_root).
fn runtimeHooks(ctx: *const Context, d: *Diag) !void {
    const s = ctx.spec;
    if (s.hooksOf(.prestart).len == 0 and s.hooksOf(.createRuntime).len == 0) return;
    sync.sendHooks(ctx.sync) catch |err| return d.fail(err, "ask the monitor to run the hooks", .{});
    try waitForGo(ctx.sync, d, null);
}

/// startContainer hooks run as become's last step: after the user, capabilities and seccomp,
/// as runc runs them (a hook sees the process's own restrictions).
fn startHooks(ctx: *const Context, host_pid: linux.pid_t) hooks.Step {
    return .{ .kind = .startContainer, .status = "created", .state = ctx.hook_state, .pid = host_pid };
}

fn containerHooks(ctx: *const Context, kind: spec.HookKind, status: []const u8, pid: linux.pid_t, d: *Diag) !void {
    const step: hooks.Step = .{ .kind = kind, .status = status, .state = ctx.hook_state, .pid = pid };
    try step.run(ctx.spec, d);
}

/// runc's check before the fifo: a program that is not there fails the create, not the start.
fn checkProcess(s: *const spec.Spec, d: *Diag) !void {
    const p = &s.process;
    sys.chdir(p.cwd) catch |err| return d.fail(err, "chdir to \"{s}\"", .{p.cwd});
    var buf: [spec.limits.path]u8 = undefined;
    const file = try exec.resolve(p.arg0(), p.getenv("PATH"), &buf, d);
    sys.faccessat(linux.AT.FDCWD, file, linux.F_OK) catch |err| {
        const status = if (err == error.NOENT or err == error.NOTDIR) diag.status_not_found else diag.status_cannot_invoke;
        d.set(status, "cannot exec \"{s}\": {s}", .{ file, errno.describe(err) });
        return err;
    };
}

/// Created: tell the monitor (which reports and exits), then block until `start` writes its
/// byte into the fifo. The fifo closed without a byte: the start was abandoned, exit quietly.
/// The fifo stays open (close-on-exec) until the execve: `start` waits for its last reader
/// to go, so a signal sent after `start` returns finds the process, not the init's set-up.
fn awaitStart(sync_fd: sys.fd_t, fifo: sys.fd_t, d: *Diag) !void {
    sync.sendReady(sync_fd) catch |err| return d.fail(err, "tell the monitor the container is created", .{});
    var pfd = [1]linux.pollfd{.{ .fd = fifo, .events = linux.POLL.IN, .revents = 0 }};
    _ = sys.poll(&pfd, -1) catch |err| return d.fail(err, "wait on the exec fifo", .{});
    var one: [1]u8 = undefined;
    const n = sys.read(fifo, &one) catch |err| return d.fail(err, "read the exec fifo", .{});
    if (n == 0) linux.exit_group(0);
    assert(n == 1);
}

/// After pivot_root: "/dev/null" is the container's node (devices.zig made it).
fn containerNullStdin(d: *Diag) !void {
    const f = sys.open("/dev/null", .{ .ACCMODE = .RDONLY, .CLOEXEC = true, .NOFOLLOW = true }, 0) catch |err| return d.fail(err, "open the container's /dev/null", .{});
    defer sys.close(f);
    sys.dup3(f, 0, 0) catch |err| return d.fail(err, "set up fd 0", .{});
}

fn takeStdio(stdio: [3]sys.fd_t, d: *Diag) !void {
    for (stdio, 0..) |fd, i| {
        std.debug.assert(fd > 2);
        sys.dup3(fd, @intCast(i), 0) catch |err| return d.fail(err, "set up fd {d}", .{i});
    }
}

/// The second "go": the monitor has put the init in its cgroups; then the cgroup namespace
/// (after the join, so the container's group is its root).
fn enterCgroups(ctx: *const Context, d: *Diag) !bool {
    try waitForGo(ctx.sync, d, null);
    try namespaces.unshareCgroup(ctx.spec, d);
    return true;
}

/// Before the first go the monitor may pass idmapped trees (`trees`), at most one per mount.
fn waitForGo(fd: sys.fd_t, d: *Diag, trees: ?*idmap.Received) !void {
    var buf: [sync.message_max]u8 = undefined;
    var messages: usize = 0;
    while (messages <= spec.limits.mounts + 1) : (messages += 1) {
        const msg = sync.receive(fd, &buf) catch |err| return d.fail(err, "wait for the monitor", .{});
        switch (msg) {
            .go => return,
            .mount => |t| if (trees) |r| {
                r.take(t.index, t.fd) catch |err| return d.fail(err, "take mount {d} from the monitor", .{t.index});
                continue;
            } else sys.close(t.fd),
            .pty => |p| sys.close(p),
            else => {},
        }
        break;
    }
    d.set(diag.status_engine, "the monitor went away before the container started", .{});
    return error.MonitorGone;
}
