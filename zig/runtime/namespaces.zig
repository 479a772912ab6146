//! Namespaces: the clone flags for new ones, setns for those the spec gives a path, and the
//! one thing a new network namespace needs before the process runs (loopback up).
const std = @import("std");
const linux = std.os.linux;
const sys = @import("linux").sys;
const Diag = @import("diag.zig").Diag;
const spec = @import("spec.zig");

/// Namespaces created by clone itself. The cgroup namespace is unshared by the init after the
/// monitor joined the cgroups, so the container sees its own group as "/".
pub fn cloneFlags(s: *const spec.Spec) u64 {
    return s.new_namespaces & ~@as(u32, linux.CLONE.NEWCGROUP);
}

/// setns of a pid namespace moves only future children: the monitor does it right before
/// clone and undoes it right after (so its cleanup command runs in the host's namespace).
pub const PidJoin = struct {
    own: sys.fd_t,

    pub fn enter(s: *const spec.Spec, d: *Diag) !?PidJoin {
        const p = s.joinPath(.pid) orelse return null;
        const own = sys.open("/proc/self/ns/pid_for_children", .{ .CLOEXEC = true }, 0) catch |err| {
            return d.fail(err, "open /proc/self/ns/pid_for_children", .{});
        };
        errdefer sys.close(own);
        try joinOne(p, .pid, d);
        return .{ .own = own };
    }

    pub fn leave(j: PidJoin) void {
        // Back to our own namespace: always permitted, so a failure is a kernel bug.
        sys.setns(j.own, linux.CLONE.NEWPID) catch unreachable;
        sys.close(j.own);
    }
};

/// With a new user namespace the init could not join a namespace the host's user namespace
/// owns (a bridge network's netns: setns needs CAP_SYS_ADMIN over its owner). The monitor
/// joins network, ipc and uts right before clone, the init inherits them, and the monitor
/// goes back to its own right after (runc joins before it unshares the user namespace).
pub const MonitorJoin = struct {
    const kinds = [_]spec.Namespace{ .network, .ipc, .uts };
    own: [kinds.len]sys.fd_t = .{ -1, -1, -1 },

    pub fn joins(s: *const spec.Spec, kind: spec.Namespace) bool {
        if (!s.creates(.user) or s.joinPath(kind) == null) return false;
        for (kinds) |k| if (k == kind) return true;
        return false;
    }

    pub fn enter(s: *const spec.Spec, d: *Diag) !MonitorJoin {
        var j: MonitorJoin = .{};
        errdefer j.leave();
        for (kinds, &j.own) |kind, *own| {
            if (!joins(s, kind)) continue;
            var buf: [32]u8 = undefined;
            const p = std.fmt.bufPrintZ(&buf, "/proc/self/ns/{s}", .{procName(kind)}) catch unreachable;
            own.* = sys.open(p, .{ .CLOEXEC = true }, 0) catch |err| return d.fail(err, "open {s}", .{p});
            try joinOne(s.joinPath(kind).?, kind, d);
        }
        return j;
    }

    pub fn leave(j: *MonitorJoin) void {
        for (kinds, &j.own) |kind, *own| if (own.* >= 0) {
            // Back to our own namespace: always permitted, so a failure is a kernel bug.
            sys.setns(own.*, @intFromEnum(kind)) catch unreachable;
            sys.close(own.*);
            own.* = -1;
        };
    }

    fn procName(kind: spec.Namespace) []const u8 {
        return if (kind == .network) "net" else @tagName(kind);
    }
};

/// In the init, before anything else: the user namespace first (it owns the others), then
/// every other one; the files are all opened first, since joining a mount namespace changes
/// what the remaining paths mean.
pub fn joinAll(s: *const spec.Spec, d: *Diag) !void {
    var fds: [spec.limits.namespaces]sys.fd_t = undefined;
    var kinds: [spec.limits.namespaces]spec.Namespace = undefined;
    var n: usize = 0;
    defer for (fds[0..n]) |f| sys.close(f);
    const order = [_]spec.Namespace{ .user, .mount, .uts, .ipc, .network, .cgroup, .time };
    for (order) |kind| {
        const p = s.joinPath(kind) orelse continue;
        if (MonitorJoin.joins(s, kind)) continue; // Inherited from the monitor.
        fds[n] = sys.open(p, .{ .CLOEXEC = true }, 0) catch |err| {
            return d.fail(err, "open {s} namespace \"{s}\"", .{ @tagName(kind), p });
        };
        kinds[n] = kind;
        n += 1;
    }
    for (fds[0..n], kinds[0..n]) |f, kind| {
        sys.setns(f, @intFromEnum(kind)) catch |err| return d.fail(err, "join the {s} namespace", .{@tagName(kind)});
    }
}

fn joinOne(p: [:0]const u8, kind: spec.Namespace, d: *Diag) !void {
    const f = sys.open(p, .{ .CLOEXEC = true }, 0) catch |err| {
        return d.fail(err, "open {s} namespace \"{s}\"", .{ @tagName(kind), p });
    };
    defer sys.close(f);
    sys.setns(f, @intFromEnum(kind)) catch |err| return d.fail(err, "join the {s} namespace", .{@tagName(kind)});
}

pub fn unshareCgroup(s: *const spec.Spec, d: *Diag) !void {
    if (!s.creates(.cgroup)) return;
    sys.unshare(linux.CLONE.NEWCGROUP) catch |err| return d.fail(err, "create the cgroup namespace", .{});
}

pub fn setHostname(s: *const spec.Spec, d: *Diag) !void {
    if (s.hostname) |h| if (h.len > 0) {
        sys.sethostname(h) catch |err| return d.fail(err, "set the hostname \"{s}\"", .{h});
    };
    if (s.domainname) |h| if (h.len > 0) {
        sys.setdomainname(h) catch |err| return d.fail(err, "set the domain name \"{s}\"", .{h});
    };
}

/// A new network namespace starts with `lo` down; Docker's containers expect it up.
pub fn loopbackUp(s: *const spec.Spec, d: *Diag) !void {
    if (!s.creates(.network)) return;
    const sock = sys.socket(linux.AF.INET, linux.SOCK.DGRAM | linux.SOCK.CLOEXEC, 0) catch |err| {
        return d.fail(err, "open a socket to bring lo up", .{});
    };
    defer sys.close(sock);
    var req = std.mem.zeroes(linux.ifreq);
    @memcpy(req.ifrn.name[0..2], "lo");
    _ = sys.ioctl(sock, linux.SIOCGIFFLAGS, @intFromPtr(&req)) catch |err| return d.fail(err, "read the flags of lo", .{});
    req.ifru.flags.UP = true;
    _ = sys.ioctl(sock, linux.SIOCSIFFLAGS, @intFromPtr(&req)) catch |err| return d.fail(err, "bring lo up", .{});
}

pub fn applySysctls(s: *const spec.Spec, d: *Diag) !void {
    for (s.sysctls[0..s.sysctls_len]) |ctl| {
        const f = sys.open(ctl.path, .{ .ACCMODE = .WRONLY, .CLOEXEC = true }, 0) catch |err| {
            return d.fail(err, "set sysctl {s}", .{ctl.path["/proc/sys/".len..]});
        };
        defer sys.close(f);
        sys.writeAll(f, ctl.value) catch |err| return d.fail(err, "set sysctl {s}", .{ctl.path["/proc/sys/".len..]});
    }
}
