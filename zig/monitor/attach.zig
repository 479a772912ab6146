//! `tsd attach`: the monitor listens on `<bundle>/attach.sock` (a unix stream socket) and
//! copies the container's output to every client: with a terminal the pty's bytes as they are,
//! otherwise frames as Docker's stdcopy (`[stream, 0, 0, 0, len32 BE] payload`, stream 1 =
//! stdout, 2 = stderr) so the client keeps the two apart. A client's bytes go to the
//! container's stdin when it has one kept for attaching (run -i). Detach keys are the
//! client's business: it just closes.
//!
//! The path is bound through `/proc/self/fd/<dirfd>/attach.sock` so a long root dir never
//! overflows sun_path's 108 bytes. Writes to a client are blocking with a 2 s send timeout: a
//! client that stops reading is dropped rather than stalling the container for good.
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;

pub const max_clients = 4;
pub const socket_name = "attach.sock";

/// The frame's stream byte; `raw`: a terminal's bytes, unframed. (Not an optional Stream:
/// the relay's choice of one was read from constants in .rodata on every output.)
pub const Stream = enum(u8) { raw = 0, stdout = 1, stderr = 2 };

pub const Server = struct {
    listen: sys.fd_t,
    clients: [max_clients]sys.fd_t = .{-1} ** max_clients,
    /// Slots closed since the relay last looked: a closed fd left epoll by itself, and the
    /// next client may get the same number (the relay forgets that slot's registration).
    dropped: u8 = 0,

    /// Binds and listens; an existing socket file (a previous run's) is replaced.
    pub fn open(bundle: [:0]const u8) sys.Error!Server {
        const dir = try sys.open(bundle, .{ .PATH = true, .DIRECTORY = true, .CLOEXEC = true }, 0);
        defer sys.close(dir);
        sys.unlinkat(dir, socket_name, 0) catch |err| if (err != error.NOENT) return err;
        const fd = try sys.socket(linux.AF.UNIX, linux.SOCK.STREAM | linux.SOCK.CLOEXEC | linux.SOCK.NONBLOCK, 0);
        errdefer sys.close(fd);
        var addr: linux.sockaddr.un = .{ .family = linux.AF.UNIX, .path = undefined };
        @memset(&addr.path, 0);
        const path = std.fmt.bufPrint(&addr.path, "/proc/self/fd/{d}/" ++ socket_name, .{dir}) catch unreachable;
        _ = try sys.check(linux.bind(fd, @ptrCast(&addr), @intCast(@offsetOf(linux.sockaddr.un, "path") + path.len + 1)));
        _ = try sys.check(linux.listen(fd, max_clients));
        return .{ .listen = fd };
    }

    pub noinline fn accept(s: *Server) void {
        var accepted: usize = 0;
        while (accepted < max_clients * 2) : (accepted += 1) {
            const rc = linux.accept4(s.listen, null, null, linux.SOCK.CLOEXEC);
            const fd: sys.fd_t = @intCast(sys.check(rc) catch return);
            const slot = for (&s.clients) |*c| {
                if (c.* < 0) break c;
            } else {
                sys.close(fd); // full: a fifth client is turned away
                continue;
            };
            const timeout: linux.timeval = .{ .sec = 2, .usec = 0 };
            _ = linux.setsockopt(fd, linux.SOL.SOCKET, linux.SO.SNDTIMEO, std.mem.asBytes(&timeout), @sizeOf(linux.timeval));
            slot.* = fd;
        }
    }

    pub fn isClient(s: *const Server, fd: sys.fd_t) linksection(sys.loop_section) bool {
        for (s.clients) |c| if (c == fd) return true;
        return false;
    }

    pub fn drop(s: *Server, fd: sys.fd_t) linksection(sys.loop_section) void {
        for (&s.clients, 0..) |*c, i| if (c.* == fd) {
            sys.close(fd);
            c.* = -1;
            s.dropped |= @as(u8, 1) << @intCast(i);
        };
    }

    /// Output to every client, framed by its stream (or `raw`).
    pub fn broadcast(s: *Server, stream: Stream, bytes: []const u8) linksection(sys.loop_section) void {
        assert(bytes.len <= std.math.maxInt(u32));
        var header: [8]u8 = .{ 0, 0, 0, 0, 0, 0, 0, 0 };
        if (stream != .raw) {
            header[0] = @intFromEnum(stream);
            std.mem.writeInt(u32, header[4..8], @intCast(bytes.len), .big);
        }
        for (s.clients) |c| {
            if (c < 0) continue;
            const ok = blk: {
                if (stream != .raw) sys.writeAll(c, &header) catch break :blk false;
                sys.writeAll(c, bytes) catch break :blk false;
                break :blk true;
            };
            if (!ok) s.drop(c);
        }
    }

    pub fn close(s: *Server, bundle: [:0]const u8) void {
        for (&s.clients) |*c| if (c.* >= 0) {
            sys.close(c.*);
            c.* = -1;
        };
        sys.close(s.listen);
        var buf: [4096 + 16]u8 = undefined;
        const path = std.fmt.bufPrintZ(&buf, "{s}/" ++ socket_name, .{bundle}) catch return;
        sys.unlinkat(linux.AT.FDCWD, path, 0) catch {};
    }
};

test "frame header" {
    var h: [8]u8 = .{ 2, 0, 0, 0, 0, 0, 0, 0 };
    std.mem.writeInt(u32, h[4..8], 0x01020304, .big);
    try std.testing.expectEqualSlices(u8, &.{ 2, 0, 0, 0, 1, 2, 3, 4 }, &h);
}
