//! Container network namespaces prepared before the monitor starts: a persistent namespace
//! bound to a file (the spec names it with `path`, the init joins it), a veth pair with one
//! end on a host bridge and the other inside as eth0, its address and default route.
//!
//! The CLI is multithreaded, so everything that changes namespaces runs in a short-lived child
//! forked here: it makes only raw syscalls into stack buffers and exits; its error text comes
//! back over a pipe.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("linux").sys;
const errno = @import("linux").errno;
const rtnl = @import("rtnl.zig");
const assert = std.debug.assert;

/// Where a failure is reported (zig/linux/message.zig).
pub const Message = @import("linux").message.Message;

pub const Attach = struct {
    ns_path: [:0]const u8,
    /// Make a new namespace and bind it at ns_path (else join the one bound there).
    create: bool,
    ifname: []const u8, // inside: eth0, eth1…
    host_ifname: []const u8, // the host end of the pair
    bridge: []const u8,
    ip: [4]u8,
    prefix: u8,
    gateway: ?[4]u8, // the default route, for the first interface only
    mac: ?[6]u8,
    mtu: u32,
};

/// A bridge with `ip`/`prefix` as its address, up. Already there (a parallel run made it): fine.
pub fn ensureBridge(name: []const u8, ip: [4]u8, prefix: u8, mtu: u32, msg: Message) i64 {
    var s = rtnl.Socket.open() catch |err| return fail(msg, err, "open a netlink socket", .{});
    defer s.close();
    s.addBridge(name, mtu) catch |err| switch (err) {
        error.EXIST => {},
        else => return fail(msg, err, "create the bridge {s}", .{name}),
    };
    const index = s.linkIndex(name) catch |err| return fail(msg, err, "find the bridge {s}", .{name});
    s.addAddress4(index, ip, prefix) catch |err| switch (err) {
        error.EXIST => {},
        else => return fail(msg, err, "add {d}.{d}.{d}.{d}/{d} to {s}", .{ ip[0], ip[1], ip[2], ip[3], prefix, name }),
    };
    s.setUp(index, null) catch |err| return fail(msg, err, "bring {s} up", .{name});
    return index;
}

/// Deletes a link of the host's namespace by name; 0 when deleted, 1 when it was not there.
pub fn deleteLink(name: []const u8, msg: Message) i64 {
    var s = rtnl.Socket.open() catch |err| return fail(msg, err, "open a netlink socket", .{});
    defer s.close();
    s.deleteLink(name) catch |err| switch (err) {
        error.NODEV => return 1,
        else => return fail(msg, err, "delete the link {s}", .{name}),
    };
    return 0;
}

/// Takes a host link down; 0 when done, 1 when it was not there.
pub fn linkDown(name: []const u8, msg: Message) i64 {
    var s = rtnl.Socket.open() catch |err| return fail(msg, err, "open a netlink socket", .{});
    defer s.close();
    s.setDown(name) catch |err| switch (err) {
        error.NODEV => return 1,
        else => return fail(msg, err, "take the link {s} down", .{name}),
    };
    return 0;
}

/// Unmounts and removes a namespace file; absent or not mounted is not an error.
pub fn removeNetns(path: [:0]const u8, msg: Message) i64 {
    sys.umount2(path, linux.MNT.DETACH) catch |err| switch (err) {
        error.INVAL, error.NOENT => {},
        else => return fail(msg, err, "unmount the network namespace {s}", .{path}),
    };
    sys.unlinkat(linux.AT.FDCWD, path, 0) catch |err| switch (err) {
        error.NOENT => {},
        else => return fail(msg, err, "remove {s}", .{path}),
    };
    return 0;
}

/// Runs `attachInChild` in a forked child and waits for it. On failure nothing is left: the
/// host end of the veth is deleted and a namespace file made here is unbound and removed.
pub fn attach(a: *const Attach, msg: Message) i64 {
    if (a.create) {
        const f = sys.open(a.ns_path, .{ .CREAT = true, .EXCL = true, .CLOEXEC = true, .ACCMODE = .RDONLY }, 0o444) catch |err| {
            return fail(msg, err, "create the network namespace file {s}", .{a.ns_path});
        };
        sys.close(f);
    }
    const status = runChild(a, msg);
    if (status < 0) {
        var ignored: [8]u8 = undefined;
        _ = deleteLink(a.host_ifname, .{ .buf = &ignored });
        if (a.create) _ = removeNetns(a.ns_path, .{ .buf = &ignored });
    }
    return status;
}

fn runChild(a: *const Attach, msg: Message) i64 {
    const pipe = sys.pipe2(.{ .CLOEXEC = true }) catch |err| return fail(msg, err, "create a pipe", .{});
    const pid = sys.fork() catch |err| {
        sys.close(pipe[0]);
        sys.close(pipe[1]);
        return fail(msg, err, "fork", .{});
    };
    if (pid == 0) {
        sys.close(pipe[0]);
        var text: [512]u8 = undefined;
        const child_msg: Message = .{ .buf = &text };
        const rc = attachInChild(a, child_msg);
        if (rc < 0) {
            const end = std.mem.indexOfScalar(u8, &text, 0) orelse text.len;
            sys.writeAll(pipe[1], text[0..end]) catch {};
        }
        linux.exit_group(if (rc < 0) 1 else 0);
    }
    sys.close(pipe[1]);
    var text: [512]u8 = undefined;
    var got: usize = 0;
    while (got < text.len - 1) {
        const n = sys.read(pipe[0], text[got .. text.len - 1]) catch break;
        if (n == 0) break;
        got += n;
    }
    sys.close(pipe[0]);
    const w = sys.waitpid(pid, 0) catch |err| return fail(msg, err, "wait for the network set-up child", .{});
    if (linux.W.IFEXITED(w.status) and linux.W.EXITSTATUS(w.status) == 0) return 0;
    if (got == 0) {
        msg.set("the network set-up child ended with status {d}", .{w.status});
    } else {
        msg.set("{s}", .{text[0..got]});
    }
    return -@as(i64, @intFromEnum(linux.E.IO));
}

/// In the forked child: raw syscalls only, then exit.
fn attachInChild(a: *const Attach, msg: Message) i64 {
    // Opened before leaving the host's namespace: they stay bound to it.
    var host = rtnl.Socket.open() catch |err| return fail(msg, err, "open a netlink socket", .{});
    const host_ns = sys.open("/proc/self/ns/net", .{ .CLOEXEC = true }, 0) catch |err| return fail(msg, err, "open /proc/self/ns/net", .{});
    if (a.create) {
        sys.unshare(linux.CLONE.NEWNET) catch |err| return fail(msg, err, "create a network namespace", .{});
        sys.mount("/proc/self/ns/net", a.ns_path, null, linux.MS.BIND, null) catch |err| {
            return fail(msg, err, "bind the network namespace at {s}", .{a.ns_path});
        };
    } else {
        const f = sys.open(a.ns_path, .{ .CLOEXEC = true }, 0) catch |err| return fail(msg, err, "open the network namespace {s}", .{a.ns_path});
        sys.setns(f, linux.CLONE.NEWNET) catch |err| return fail(msg, err, "join the network namespace {s}", .{a.ns_path});
    }
    var inner = rtnl.Socket.open() catch |err| return fail(msg, err, "open a netlink socket in the container's namespace", .{});
    if (a.create) {
        const lo = inner.linkIndex("lo") catch |err| return fail(msg, err, "find lo", .{});
        inner.setUp(lo, null) catch |err| return fail(msg, err, "bring lo up", .{});
    }
    const mac: ?*const [6]u8 = if (a.mac) |*m| m else null;
    inner.addVeth(a.ifname, mac, a.host_ifname, host_ns, a.mtu) catch |err| {
        return fail(msg, err, "create the veth pair {s}/{s}", .{ a.host_ifname, a.ifname });
    };
    const bridge = host.linkIndex(a.bridge) catch |err| return fail(msg, err, "find the bridge {s}", .{a.bridge});
    const outside = host.linkIndex(a.host_ifname) catch |err| return fail(msg, err, "find {s}", .{a.host_ifname});
    host.setUp(outside, bridge) catch |err| return fail(msg, err, "attach {s} to {s}", .{ a.host_ifname, a.bridge });
    disableIpv6(a.ifname) catch |err| return fail(msg, err, "disable IPv6 on {s}", .{a.ifname});
    const index = inner.linkIndex(a.ifname) catch |err| return fail(msg, err, "find {s}", .{a.ifname});
    inner.addAddress4(index, a.ip, a.prefix) catch |err| {
        return fail(msg, err, "add {d}.{d}.{d}.{d}/{d} to {s}", .{ a.ip[0], a.ip[1], a.ip[2], a.ip[3], a.prefix, a.ifname });
    };
    inner.setUp(index, null) catch |err| return fail(msg, err, "bring {s} up", .{a.ifname});
    if (a.gateway) |gw| {
        inner.addDefaultRoute4(index, gw) catch |err| {
            return fail(msg, err, "add the default route via {d}.{d}.{d}.{d}", .{ gw[0], gw[1], gw[2], gw[3] });
        };
    }
    return 0;
}

/// The networks are IPv4-only: without this the interface would autoconfigure a link-local
/// address and send router solicitations (Docker disables IPv6 the same way). /proc/sys/net
/// shows the namespace of the process reading it, which is the container's here.
fn disableIpv6(ifname: []const u8) !void {
    var buf: [64]u8 = undefined;
    const path = std.fmt.bufPrintZ(&buf, "/proc/sys/net/ipv6/conf/{s}/disable_ipv6", .{ifname}) catch return error.NAMETOOLONG;
    const f = sys.open(path, .{ .ACCMODE = .WRONLY, .CLOEXEC = true }, 0) catch |err| switch (err) {
        error.NOENT => return, // a kernel without IPv6
        else => return err,
    };
    defer sys.close(f);
    try sys.writeAll(f, "1");
}

fn fail(msg: Message, err: anyerror, comptime what: []const u8, args: anytype) i64 {
    var head: [256]u8 = undefined;
    var w: std.Io.Writer = .fixed(&head);
    w.print(what, args) catch {};
    msg.set("{s}: {s}", .{ w.buffered(), describe(err) });
    return -1;
}

fn describe(err: anyerror) []const u8 {
    return switch (err) {
        error.ShortReply => "short netlink reply",
        error.NameTooLong => "interface name longer than 15 bytes",
        error.RequestTooLarge => "netlink request too large",
        else => errno.describe(err),
    };
}

test "messages say what failed and why" {
    var buf: [64]u8 = undefined;
    const m: Message = .{ .buf = &buf };
    try std.testing.expectEqual(@as(i64, -1), fail(m, error.EXIST, "create {s}", .{"tsd0"}));
    try std.testing.expectEqualStrings("create tsd0: file exists", std.mem.sliceTo(&buf, 0));
    assert(rtnl.ifname_max == 15);
}
