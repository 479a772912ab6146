//! The parent's half of starting a container init, one path for the run mode (main.zig) and
//! the OCI create (create.zig): the clone in the namespaces the monitor must hold for it, then
//! the id maps, the idmapped mounts, the first "go", the cgroups and the second "go"
//! (runtime/sync.zig). What each mode does with the init's answers stays in the mode.
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;
const runtime = @import("runtime");
const spec = runtime.spec;
const Diag = runtime.diag.Diag;
const cgroups = @import("cgroups.zig");

/// Clones the init (runtime/init.zig runs `ctx` in the child). A pid namespace given by path
/// applies to children only and a user namespace's init cannot join the host-owned network,
/// ipc and uts namespaces from inside it: the monitor joins those around the clone and returns
/// to its own right after (the child stays in them for good).
pub fn cloneInit(ctx: *const runtime.init.Context, d: *Diag) !linux.pid_t {
    const s = ctx.spec;
    const pid_join = try runtime.namespaces.PidJoin.enter(s, d);
    var monitor_join = runtime.namespaces.MonitorJoin.enter(s, d) catch |err| {
        if (pid_join) |j| j.leave();
        return err;
    };
    const pid = cloneInGroup(s);
    if (pid) |child| {
        if (child == 0) runtime.init.run(ctx);
    } else |_| {}
    monitor_join.leave();
    if (pid_join) |j| j.leave();
    return pid catch |err| d.fail(err, "clone the container init", .{});
}

/// Whether the last cloneInit's child was born in its group (clone3 CLONE_INTO_CGROUP): then
/// startInit writes no cgroup.procs. One init per monitor; set in the parent only.
var born_in_group = false;

/// The clone, on cgroup v2 (one group, `io.tsd.cgroup.procs` naming a cgroup2 directory's
/// cgroup.procs) into that group with clone3(CLONE_INTO_CGROUP): no attach afterwards, the
/// init counts against the group's limits from its first instruction. Where clone3 or the
/// flag is refused (a kernel before 5.7, a seccomp filter around us, a group we may not
/// enter that way) the plain clone, and startInit moves the init as before.
fn cloneInGroup(s: *const spec.Spec) sys.Error!linux.pid_t {
    const flags = runtime.namespaces.cloneFlags(s);
    born_in_group = false;
    const group = openV2Group(s) orelse return sys.cloneFork(flags);
    defer sys.close(group);
    const pid = sys.cloneForkInto(flags, group) catch return sys.cloneFork(flags);
    if (pid > 0) born_in_group = true;
    return pid;
}

/// The directory of the one cgroup.procs path, when it is on cgroup2; else null (v1 and
/// hybrid hosts: a path per hierarchy, written after the clone).
fn openV2Group(s: *const spec.Spec) ?sys.fd_t {
    if (s.cgroup_procs_len != 1) return null;
    const procs = s.cgroup_procs[0];
    const suffix = "/cgroup.procs";
    if (!std.mem.endsWith(u8, procs, suffix) or procs.len == suffix.len) return null;
    var buf: [spec.limits.path]u8 = undefined;
    const dir = std.fmt.bufPrintZ(&buf, "{s}", .{procs[0 .. procs.len - suffix.len]}) catch return null;
    // Not O_PATH: clone3 takes only a file opened for reading.
    const f = sys.open(dir, .{ .ACCMODE = .RDONLY, .DIRECTORY = true, .CLOEXEC = true }, 0) catch return null;
    const kind = sys.fstatfsType(f) catch 0;
    if (kind == sys.CGROUP2_SUPER_MAGIC) return f;
    sys.close(f);
    return null;
}

/// Id maps and idmapped mounts, "go"; the cgroups, "go" again. A cgroup v1 attach waits for
/// an RCU grace period (about 10 ms): the init mounts its rootfs meanwhile and waits for the
/// second go before anything the limits must cover. An init born in its v2 group
/// (cloneInGroup) is not moved.
pub fn startInit(pid: linux.pid_t, s: *const spec.Spec, sync_fd: sys.fd_t, d: *Diag) !void {
    assert(pid > 0);
    try runtime.user.writeIdMaps(pid, s, d);
    try runtime.idmap.sendMounts(pid, s, sync_fd, d);
    runtime.sync.sendGo(sync_fd) catch |err| return d.fail(err, "start the container init", .{});
    if (born_in_group) assert(s.cgroup_procs_len == 1);
    const joins = if (born_in_group) 0 else s.cgroup_procs_len;
    for (s.cgroup_procs[0..joins]) |p| {
        cgroups.joinOne(pid, p) catch |err| return d.fail(err, "join cgroup {s}", .{p});
    }
    // Refused only when the init is gone: its failure message is still queued for the caller.
    runtime.sync.sendGo(sync_fd) catch {};
}
