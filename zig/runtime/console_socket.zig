//! runc's console socket (`--console-socket PATH`, OCI runtime mode): the caller (containerd's
//! shim, conmon) listens on an AF_UNIX stream socket; the runtime connects and sends the pty
//! master with SCM_RIGHTS, the master's name ("/dev/ptmx", as runc's utils.SendFd sends
//! pty.Name(); containerd's console.RecvFd and conmon read it) as the message's bytes. The
//! caller then owns the terminal; the runtime closes its copy. No allocation.
//! `connect` and `sendFd` are apart for a caller that must connect before it leaves the host's
//! mount namespace (tsd-monitor --exec) and opens the pty after.
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;

/// sun_path holds 108 bytes, the terminating NUL included.
pub const path_max = 107;
/// The message's bytes: the name of the master runc opens (containerd/console NewPty).
const payload = "/dev/ptmx";

/// A connected stream socket to `path` (close-on-exec).
pub fn connect(path: [:0]const u8) sys.Error!sys.fd_t {
    if (path.len == 0 or path.len > path_max) return error.NAMETOOLONG;
    var addr: linux.sockaddr.un = .{ .family = linux.AF.UNIX, .path = [_]u8{0} ** 108 };
    @memcpy(addr.path[0..path.len], path);
    const s = try sys.socket(linux.AF.UNIX, linux.SOCK.STREAM | linux.SOCK.CLOEXEC, 0);
    errdefer sys.close(s);
    while (true) {
        _ = sys.check(linux.connect(s, @ptrCast(&addr), @sizeOf(linux.sockaddr.un))) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
        break;
    }
    return s;
}

/// One message on `sock`: the master's name as its bytes, `master` as its one SCM_RIGHTS fd.
pub fn sendFd(sock: sys.fd_t, master: sys.fd_t) sys.Error!void {
    assert(master >= 0);
    const n = try sys.sendWithFd(sock, payload, master);
    // A stream socket takes a short message whole (it is far below any buffer).
    if (n != payload.len) return error.PROTO;
}

/// Connects to `path` and sends `master`: runc's console socket.
pub fn send(path: [:0]const u8, master: sys.fd_t) !void {
    const s = try connect(path);
    defer sys.close(s);
    try sendFd(s, master);
}

test "the fd and the name reach a listener on the socket's path" {
    var tmp = std.testing.tmpDir(.{});
    defer tmp.cleanup();
    var dir_buf: [std.fs.max_path_bytes]u8 = undefined;
    const dir = try tmp.dir.realpath(".", &dir_buf);
    var path_buf: [path_max + 1]u8 = undefined;
    const path = try std.fmt.bufPrintZ(&path_buf, "{s}/c.sock", .{dir});
    var addr: linux.sockaddr.un = .{ .family = linux.AF.UNIX, .path = [_]u8{0} ** 108 };
    @memcpy(addr.path[0..path.len], path);
    const listener = try sys.socket(linux.AF.UNIX, linux.SOCK.STREAM | linux.SOCK.CLOEXEC, 0);
    defer sys.close(listener);
    _ = try sys.check(linux.bind(listener, @ptrCast(&addr), @sizeOf(linux.sockaddr.un)));
    _ = try sys.check(linux.listen(listener, 1));
    const p = try sys.pipe2(.{ .CLOEXEC = true });
    defer sys.close(p[0]);
    defer sys.close(p[1]);
    try send(path, p[1]);
    const peer: sys.fd_t = @intCast(try sys.check(linux.accept4(listener, null, null, linux.SOCK.CLOEXEC)));
    defer sys.close(peer);
    var buf: [32]u8 = undefined;
    const got = try sys.recvWithFd(peer, &buf);
    try std.testing.expectEqualStrings("/dev/ptmx", buf[0..got.len]);
    const fd = got.fd orelse return error.TestExpectedFd;
    defer sys.close(fd);
    // The passed fd is the pipe's write end: a byte through it arrives.
    try sys.writeAll(fd, "x");
    var one: [1]u8 = undefined;
    try std.testing.expectEqual(@as(usize, 1), try sys.read(p[0], &one));
}

test "a path longer than sun_path is refused before any socket is made" {
    const long = "/" ++ "a" ** path_max;
    try std.testing.expectError(error.NAMETOOLONG, connect(long));
}
