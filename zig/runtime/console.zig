//! process.terminal: the init opens a pty in the container's own devpts instance, binds the
//! slave on /dev/console and passes the master to the monitor (runc's console socket, over the
//! sync channel). The monitor side: raw mode for the user's terminal and window sizes.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("linux").sys;
const Diag = @import("diag.zig").Diag;

pub const Pty = struct { master: sys.fd_t, slave: sys.fd_t };

/// After pivot_root: /dev/pts is the container's devpts (newinstance), /dev/ptmx its ptmx.
pub fn openPty(d: *Diag) !Pty {
    const pty = try openPair(d);
    errdefer closePair(pty);
    var buf: [32]u8 = undefined;
    try bindConsole(slavePath(pty.master, &buf) catch |err| return d.fail(err, "number the pty", .{}), d);
    return pty;
}

fn slavePath(master: sys.fd_t, buf: *[32]u8) sys.Error![:0]const u8 {
    var n: c_uint = 0;
    _ = try sys.ioctl(master, linux.T.IOCGPTN, @intFromPtr(&n));
    return std.fmt.bufPrintZ(buf, "/dev/pts/{d}", .{n}) catch unreachable;
}

/// A pty from the devpts at /dev/pts of the current mount namespace, without /dev/console
/// (exec -t: the container's console stays the init's).
pub fn openPair(d: *Diag) !Pty {
    const master = sys.open("/dev/pts/ptmx", .{ .ACCMODE = .RDWR, .NOCTTY = true, .CLOEXEC = true }, 0) catch |err| {
        return d.fail(err, "open /dev/pts/ptmx for the terminal", .{});
    };
    errdefer sys.close(master);
    var unlock: c_int = 0;
    _ = sys.ioctl(master, linux.T.IOCSPTLCK, @intFromPtr(&unlock)) catch |err| return d.fail(err, "unlock the pty", .{});
    var buf: [32]u8 = undefined;
    const slave_path = slavePath(master, &buf) catch |err| return d.fail(err, "number the pty", .{});
    const slave = sys.open(slave_path, .{ .ACCMODE = .RDWR, .NOCTTY = true, .CLOEXEC = true }, 0) catch |err| {
        return d.fail(err, "open {s}", .{slave_path});
    };
    return .{ .master = master, .slave = slave };
}

pub fn closePair(pty: Pty) void {
    sys.close(pty.master);
    sys.close(pty.slave);
}

fn bindConsole(slave_path: [:0]const u8, d: *Diag) !void {
    const f = sys.open("/dev/console", .{ .ACCMODE = .WRONLY, .CREAT = true, .NOFOLLOW = true, .NOCTTY = true, .CLOEXEC = true }, 0o600) catch |err| switch (err) {
        // An image's own /dev/console node (no tmpfs /dev): open it without writing.
        error.NXIO, error.NODEV, error.IO => null,
        else => return d.fail(err, "create /dev/console", .{}),
    };
    if (f) |x| sys.close(x);
    sys.mount(slave_path, "/dev/console", null, linux.MS.BIND, null) catch |err| {
        return d.fail(err, "bind {s} on /dev/console", .{slave_path});
    };
}

/// The slave becomes 0, 1, 2 and the controlling terminal of a new session.
pub fn becomeStdio(slave: sys.fd_t, d: *Diag) !void {
    for (0..3) |i| {
        sys.dup3(slave, @intCast(i), 0) catch |err| return d.fail(err, "dup the terminal to fd {d}", .{i});
    }
    if (slave > 2) sys.close(slave);
    sys.setsid() catch |err| return d.fail(err, "setsid", .{});
    _ = sys.ioctl(0, linux.T.IOCSCTTY, 0) catch |err| return d.fail(err, "make the pty the controlling terminal", .{});
}

// ---- monitor side ---------------------------------------------------------------------------

pub fn isTerminal(fd: sys.fd_t) bool {
    var t: linux.termios = undefined;
    _ = sys.ioctl(fd, linux.T.CGETS, @intFromPtr(&t)) catch return false;
    return true;
}

/// cfmakeraw(3) on `fd`; returns the settings to restore.
pub fn makeRaw(fd: sys.fd_t) sys.Error!linux.termios {
    var saved: linux.termios = undefined;
    _ = try sys.ioctl(fd, linux.T.CGETS, @intFromPtr(&saved));
    var raw = saved;
    raw.iflag.IGNBRK = false;
    raw.iflag.BRKINT = false;
    raw.iflag.PARMRK = false;
    raw.iflag.ISTRIP = false;
    raw.iflag.INLCR = false;
    raw.iflag.IGNCR = false;
    raw.iflag.ICRNL = false;
    raw.iflag.IXON = false;
    raw.oflag.OPOST = false;
    raw.lflag.ECHO = false;
    raw.lflag.ECHONL = false;
    raw.lflag.ICANON = false;
    raw.lflag.ISIG = false;
    raw.lflag.IEXTEN = false;
    raw.cflag.CSIZE = .CS8;
    raw.cflag.PARENB = false;
    raw.cc[@intFromEnum(linux.V.MIN)] = 1;
    raw.cc[@intFromEnum(linux.V.TIME)] = 0;
    _ = try sys.ioctl(fd, linux.T.CSETSW, @intFromPtr(&raw));
    return saved;
}

pub fn restore(fd: sys.fd_t, saved: *const linux.termios) void {
    // Best effort at exit: the terminal may be gone (a hang-up) and nothing is left to tell.
    _ = sys.ioctl(fd, linux.T.CSETSW, @intFromPtr(saved)) catch {};
}

/// process.consoleSize on the pty master (runc's first size of a console socket's pty).
pub fn setWindowSize(master: sys.fd_t, rows: u16, cols: u16) void {
    if (rows == 0 and cols == 0) return;
    const ws: std.posix.winsize = .{ .row = rows, .col = cols, .xpixel = 0, .ypixel = 0 };
    // A size the pty refuses leaves its own: nothing to undo or report.
    _ = sys.ioctl(master, linux.T.IOCSWINSZ, @intFromPtr(&ws)) catch {};
}

/// Copies the window size of the first terminal among `from` to the pty master.
pub fn copyWindowSize(from: []const sys.fd_t, master: sys.fd_t) void {
    var ws: std.posix.winsize = undefined;
    for (from) |fd| {
        _ = sys.ioctl(fd, linux.T.IOCGWINSZ, @intFromPtr(&ws)) catch continue;
        // A resize the pty refuses leaves the old size: nothing to undo or report.
        _ = sys.ioctl(master, linux.T.IOCSWINSZ, @intFromPtr(&ws)) catch {};
        return;
    }
}
