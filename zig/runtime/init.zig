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
};

pub fn run(ctx: *const Context) noreturn {
    var d: Diag = .{};
    _ = steps(ctx, &d) catch {};
    std.debug.assert(d.len > 0);
    // If the monitor is gone there is no one left to tell: the status still says it.
    sync.sendFailure(ctx.sync, d.status, d.message()) catch {};
    linux.exit_group(d.status);
}

/// Returns only with an error: success ends in execve.
fn steps(ctx: *const Context, d: *Diag) !void {
    const s = ctx.spec;
    sys.close(ctx.monitor_sync);
    if (!s.process.terminal) try takeStdio(ctx.stdio, d);
    try user.setOomScoreAdj(&s.process, d);
    try namespaces.joinAll(s, d);
    try waitForGo(ctx.sync, d, &received);
    // Still the host's root: the path to root.path may not be open to the namespace's.
    const moved: ?rootfs.Moved = if (received.root >= 0) .{ .tree = received.root, .parent = try rootfs.openParent(s, d) } else null;
    if (s.creates(.user) or s.joinPath(.user) != null) try user.becomeNamespaceRoot(d);
    // Device nodes and mount points get exactly the modes the spec asks for.
    _ = sys.umask(0);

    try rootfs.makePrivate(s, d);
    const root = try rootfs.mountRoot(s, moved, d);
    var in_cgroups = false;
    for (s.mounts[0..s.mounts_len], 0..) |*m, i| {
        if (m.isCgroupFs() and !in_cgroups) in_cgroups = try enterCgroups(ctx, d);
        try mounts.mountOne(root, m, received.mount(i), d);
    }
    if (!in_cgroups) in_cgroups = try enterCgroups(ctx, d);
    assert(in_cgroups);
    try devices.create(root, s, d);
    try rootfs.createCwd(root, s, d);
    try rootfs.pivot(root, d);
    sys.close(root);
    if (ctx.null_stdin and !s.process.terminal) try containerNullStdin(d);

    const pty: ?console.Pty = if (s.process.terminal) try console.openPty(d) else null;
    if (pty) |p| {
        sync.sendPty(ctx.sync, p.master) catch |err| return d.fail(err, "pass the pty to the monitor", .{});
        sys.close(p.master);
    }
    try namespaces.setHostname(s, d);
    try namespaces.loopbackUp(s, d);
    // Before maskAndProtect: that makes /proc/sys read-only.
    try namespaces.applySysctls(s, d);
    try rootfs.maskAndProtect(s, d);
    if (pty) |p| try console.becomeStdio(p.slave, d) else sys.setsid() catch |err| return d.fail(err, "setsid", .{});

    return become.become(s, ctx.last_cap, d);
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
