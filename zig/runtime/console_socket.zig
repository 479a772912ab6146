//! runc's `--console-socket`: connect to the caller's AF_UNIX stream socket and send the pty
//! master with SCM_RIGHTS, the payload being the master's name ("/dev/ptmx", as runc's
//! utils.SendFile sends it; containerd's console.RecvFd and conmon read it). No allocation.
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;

const payload = "/dev/ptmx";

/// struct cmsghdr followed by one int, padded as CMSG_SPACE(sizeof(int)).
const FdControl = extern struct { len: usize, level: i32, kind: i32, fd: i32, pad: i32 = 0 };

pub fn send(path: [:0]const u8, master: sys.fd_t) !void {
    assert(master >= 0);
    var addr: linux.sockaddr.un = .{ .family = linux.AF.UNIX, .path = undefined };
    @memset(&addr.path, 0);
    if (path.len == 0 or path.len >= addr.path.len) return error.NAMETOOLONG;
    @memcpy(addr.path[0..path.len], path);
    const sock = try sys.socket(linux.AF.UNIX, linux.SOCK.STREAM | linux.SOCK.CLOEXEC, 0);
    defer sys.close(sock);
    _ = try sys.check(linux.connect(sock, @ptrCast(&addr), @sizeOf(linux.sockaddr.un)));
    var iov = [1]std.posix.iovec_const{.{ .base = payload, .len = payload.len }};
    var control: FdControl = .{ .len = @sizeOf(usize) + 8 + 4, .level = linux.SOL.SOCKET, .kind = 1, .fd = master };
    const msg: linux.msghdr_const = .{
        .name = null,
        .namelen = 0,
        .iov = &iov,
        .iovlen = 1,
        .control = &control,
        .controllen = @sizeOf(FdControl),
        .flags = 0,
    };
    const n = try sys.sendmsg(sock, &msg);
    if (n != payload.len) return error.IO;
}

test "the master reaches a listener with its name" {
    var tmp = std.testing.tmpDir(.{});
    defer tmp.cleanup();
    var dir_buf: [std.fs.max_path_bytes]u8 = undefined;
    const dir = try tmp.dir.realpath(".", &dir_buf);
    var path_buf: [std.fs.max_path_bytes]u8 = undefined;
    const path = try std.fmt.bufPrintZ(&path_buf, "{s}/c.sock", .{dir});
    if (path.len >= 108) return error.SkipZigTest;
    const listener = try sys.socket(linux.AF.UNIX, linux.SOCK.STREAM | linux.SOCK.CLOEXEC, 0);
    defer sys.close(listener);
    var addr: linux.sockaddr.un = .{ .family = linux.AF.UNIX, .path = undefined };
    @memset(&addr.path, 0);
    @memcpy(addr.path[0..path.len], path);
    _ = try sys.check(linux.bind(listener, @ptrCast(&addr), @sizeOf(linux.sockaddr.un)));
    _ = try sys.check(linux.listen(listener, 1));
    const p = try sys.pipe2(.{ .CLOEXEC = true });
    defer sys.close(p[0]);
    try send(path, p[1]);
    sys.close(p[1]);
    const conn: sys.fd_t = @intCast(try sys.check(linux.accept4(listener, null, null, linux.SOCK.CLOEXEC)));
    defer sys.close(conn);
    var buf: [64]u8 = undefined;
    var iov = [1]std.posix.iovec{.{ .base = &buf, .len = buf.len }};
    var control: FdControl = .{ .len = 0, .level = 0, .kind = 0, .fd = -1 };
    var msg: linux.msghdr = .{ .name = null, .namelen = 0, .iov = &iov, .iovlen = 1, .control = &control, .controllen = @sizeOf(FdControl), .flags = 0 };
    const n = try sys.recvmsg(conn, &msg);
    try std.testing.expectEqualStrings(payload, buf[0..n]);
    try std.testing.expect(control.fd >= 0);
    defer sys.close(control.fd);
    try sys.writeAll(control.fd, "x");
    var one: [1]u8 = undefined;
    try std.testing.expectEqual(@as(usize, 1), try sys.read(p[0], &one));
}
