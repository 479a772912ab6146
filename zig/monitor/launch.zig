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
    const pid = sys.cloneFork(runtime.namespaces.cloneFlags(s));
    if (pid) |child| {
        if (child == 0) runtime.init.run(ctx);
    } else |_| {}
    monitor_join.leave();
    if (pid_join) |j| j.leave();
    return pid catch |err| d.fail(err, "clone the container init", .{});
}

/// Id maps and idmapped mounts, "go"; the cgroups, "go" again. A cgroup v1 attach waits for
/// an RCU grace period (about 10 ms): the init mounts its rootfs meanwhile and waits for the
/// second go before anything the limits must cover.
pub fn startInit(pid: linux.pid_t, s: *const spec.Spec, sync_fd: sys.fd_t, d: *Diag) !void {
    assert(pid > 0);
    try runtime.user.writeIdMaps(pid, s, d);
    try runtime.idmap.sendMounts(pid, s, sync_fd, d);
    runtime.sync.sendGo(sync_fd) catch |err| return d.fail(err, "start the container init", .{});
    for (s.cgroup_procs[0..s.cgroup_procs_len]) |p| {
        cgroups.joinOne(pid, p) catch |err| return d.fail(err, "join cgroup {s}", .{p});
    }
    // Refused only when the init is gone: its failure message is still queued for the caller.
    runtime.sync.sendGo(sync_fd) catch {};
}
