//! The sync channel between the monitor and the init: one SOCK_SEQPACKET socketpair, CLOEXEC,
//! so the init's end closes on execve and EOF tells the monitor the exec happened.
//!   monitor → init  "G"                  first: id maps written, the init may mount;
//!                   "G"                  second: cgroups joined (the monitor's slow cgroup.procs
//!                                        writes overlap the init's mounts); the init waits for it
//!                                        before its cgroup namespace and its first cgroup mount
//!   monitor → init  "M<index>" + fd      before the first "G", with a user namespace: an idmapped
//!                                        mount for spec mount <index>, or the rootfs overlay
//!                                        (index root_index) (idmap.zig)
//!   init → monitor  "P" + SCM_RIGHTS fd  the pty master (process.terminal)
//!   init → monitor  "H"                  mounts made, before pivot_root: run the prestart and
//!                                        createRuntime hooks, then "G" (only with such hooks)
//!   init → monitor  "R"                  create mode: ready, blocked on the exec fifo
//!   init → monitor  "E<status> <text>"   failure before execve; the init exits <status>
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;
const diag = @import("diag.zig");

pub const Channel = struct { monitor: sys.fd_t, init: sys.fd_t };

pub fn open() sys.Error!Channel {
    const fds = try sys.socketpair(linux.AF.UNIX, linux.SOCK.SEQPACKET | linux.SOCK.CLOEXEC);
    return .{ .monitor = fds[0], .init = fds[1] };
}

pub const Message = union(enum) {
    go,
    mount: struct { index: u16, fd: sys.fd_t },
    hooks,
    ready,
    pty: sys.fd_t,
    failed: struct { status: u8, text: []const u8 },
    eof,
};

pub const message_max = diag.message_max + 8;

pub fn sendGo(fd: sys.fd_t) sys.Error!void {
    try sendBytes(fd, "G", null);
}

/// The index of the rootfs in a mount message (spec mounts are 0..limits.mounts).
pub const root_index: u16 = 0xffff;

pub fn sendMount(fd: sys.fd_t, index: u16, tree: sys.fd_t) sys.Error!void {
    var buf: [8]u8 = undefined;
    const msg = std.fmt.bufPrint(&buf, "M{d}", .{index}) catch unreachable;
    try sendBytes(fd, msg, tree);
}

pub fn sendHooks(fd: sys.fd_t) sys.Error!void {
    try sendBytes(fd, "H", null);
}

pub fn sendReady(fd: sys.fd_t) sys.Error!void {
    try sendBytes(fd, "R", null);
}

pub fn sendPty(fd: sys.fd_t, master: sys.fd_t) sys.Error!void {
    try sendBytes(fd, "P", master);
}

pub fn sendFailure(fd: sys.fd_t, status: u8, text: []const u8) sys.Error!void {
    var buf: [message_max]u8 = undefined;
    const msg = std.fmt.bufPrint(&buf, "E{d} {s}", .{ status, text }) catch buf[0..];
    try sendBytes(fd, msg, null);
}

fn sendBytes(fd: sys.fd_t, bytes: []const u8, pass: ?sys.fd_t) sys.Error!void {
    assert(bytes.len > 0 and bytes.len <= message_max);
    const n = try sys.sendWithFd(fd, bytes, pass);
    assert(n == bytes.len);
}

/// Receives one message into `buf` (which `failed.text` then points into).
pub fn receive(fd: sys.fd_t, buf: *[message_max]u8) sys.Error!Message {
    const got = try sys.recvWithFd(fd, buf);
    const n = got.len;
    const passed = got.fd;
    if (n == 0) {
        if (passed) |p| sys.close(p);
        return .eof;
    }
    switch (buf[0]) {
        'G' => return .go,
        'H' => return .hooks,
        'R' => return .ready,
        'P' => return .{ .pty = passed orelse return error.PROTO },
        'M' => {
            const tree = passed orelse return error.PROTO;
            const index = std.fmt.parseInt(u16, buf[1..n], 10) catch {
                sys.close(tree);
                return error.PROTO;
            };
            return .{ .mount = .{ .index = index, .fd = tree } };
        },
        'E' => {
            if (passed) |p| sys.close(p);
            const text = buf[1..n];
            const space = std.mem.indexOfScalar(u8, text, ' ') orelse return error.PROTO;
            const status = std.fmt.parseInt(u8, text[0..space], 10) catch return error.PROTO;
            return .{ .failed = .{ .status = status, .text = text[space + 1 ..] } };
        },
        else => {
            if (passed) |p| sys.close(p);
            return error.PROTO;
        },
    }
}

test "messages round trip, fds pass" {
    const ch = try open();
    defer sys.close(ch.monitor);
    defer sys.close(ch.init);
    var buf: [message_max]u8 = undefined;
    try sendGo(ch.monitor);
    try std.testing.expect((try receive(ch.init, &buf)) == .go);
    try sendHooks(ch.init);
    try std.testing.expect((try receive(ch.monitor, &buf)) == .hooks);
    try sendReady(ch.init);
    try std.testing.expect((try receive(ch.monitor, &buf)) == .ready);
    try sendFailure(ch.init, 127, "cannot exec \"x\": no such file or directory");
    const m = try receive(ch.monitor, &buf);
    try std.testing.expectEqual(@as(u8, 127), m.failed.status);
    try std.testing.expectEqualStrings("cannot exec \"x\": no such file or directory", m.failed.text);
    const p = try sys.pipe2(.{ .CLOEXEC = true });
    defer sys.close(p[0]);
    defer sys.close(p[1]);
    try sendPty(ch.init, p[1]);
    const got = try receive(ch.monitor, &buf);
    defer sys.close(got.pty);
    try std.testing.expect(got.pty != p[1]);
    try sendMount(ch.monitor, root_index, p[0]);
    const mounted = try receive(ch.init, &buf);
    defer sys.close(mounted.mount.fd);
    try std.testing.expectEqual(root_index, mounted.mount.index);
    try sys.writeAll(got.pty, "x");
    var one: [1]u8 = undefined;
    try std.testing.expectEqual(@as(usize, 1), try sys.read(p[0], &one));
}
