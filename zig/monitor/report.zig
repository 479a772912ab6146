//! The report pipe, fd 3 of tsd-monitor and of its exec mode (zig/CONTRACT.md "Report pipe"):
//! the one writer of its lines. The CLI's reader is parseReport in src/container/start.ts; the
//! fixture test/contract/fixtures/report.txt holds one line of each kind, checked from both sides.
const std = @import("std");
const assert = std.debug.assert;
const linux = std.os.linux;
const sys = @import("linux").sys;
const runtime = @import("runtime");
const diag = runtime.diag;
const Diag = diag.Diag;

pub const report_fd: sys.fd_t = 3;
pub const line_max = diag.message_max + 32;

pub const Line = union(enum) {
    /// The init (or the exec'd process) reached execve.
    started: linux.pid_t,
    /// Nothing was exec'd: the Docker status (125, 126, 127) and one line of message.
    failed: struct { status: u8, message: []const u8 },
    /// The container exited with this Docker status (--exit-report only).
    exited: u8,
    /// The user typed the detach keys: the monitor gave the user's fds back and runs on alone
    /// (--exit-report only; the pipe is closed after it).
    detached,
    /// Writing the container's output to the user's fd 1 or 2 failed with EPIPE (`tsd run … |
    /// head`): the monitor gave the user's fds back and runs on alone, as after `detached`.
    output_closed: Stream,
};

pub const Stream = enum { stdout, stderr };

pub fn format(buf: *[line_max]u8, line: Line) []const u8 {
    return switch (line) {
        .started => |pid| std.fmt.bufPrint(buf, "started {d}\n", .{pid}),
        .failed => |f| blk: {
            assert(f.message.len <= diag.message_max and std.mem.indexOfScalar(u8, f.message, '\n') == null);
            break :blk std.fmt.bufPrint(buf, "error {d} {s}\n", .{ f.status, f.message });
        },
        .exited => |code| std.fmt.bufPrint(buf, "exited {d}\n", .{code}),
        .detached => std.fmt.bufPrint(buf, "detached\n", .{}),
        .output_closed => |s| std.fmt.bufPrint(buf, "output-closed {s}\n", .{@tagName(s)}),
    } catch unreachable;
}

/// The report pipe (CONTRACT.md): one line, `started` or `error`, then closed; with
/// --exit-report it stays open for a last line, `exited <status>`.
pub const Report = struct {
    open: bool,
    keep_open: bool,
    /// The first line went out (at most one `started` or `error`).
    sent: bool = false,
    /// The first line was `started`: the CLI is still with us in the foreground.
    running: bool = false,

    pub fn init(keep_open: bool) Report {
        // fd 3 absent (run by hand): report nothing rather than write into whatever gets fd 3.
        _ = sys.fstat(report_fd) catch return .{ .open = false, .keep_open = false };
        sys.setCloexec(report_fd) catch return .{ .open = false, .keep_open = false };
        return .{ .open = true, .keep_open = keep_open };
    }

    pub fn started(r: *Report, pid: linux.pid_t) void {
        var buf: [line_max]u8 = undefined;
        r.send(format(&buf, .{ .started = pid }));
        r.running = r.open;
    }

    /// `detached` or `output-closed`: the CLI leaves (and exits) on it, the monitor goes on
    /// alone and runs the cleanup itself at the end (exited() then finds the pipe closed).
    pub fn release(r: *Report, line: Line) void {
        assert(line == .detached or line == .output_closed);
        if (!r.open or !r.running) return;
        assert(r.keep_open and r.sent);
        var buf: [line_max]u8 = undefined;
        sys.writeAll(report_fd, format(&buf, line)) catch {};
        r.close();
        r.running = false;
    }

    pub fn failed(r: *Report, d: *const Diag) void {
        var buf: [line_max]u8 = undefined;
        r.send(format(&buf, .{ .failed = .{ .status = d.status, .message = d.message() } }));
    }

    /// The first line. Without keep_open the fd is closed after it: fd 3 may then be reused
    /// by anything the monitor opens, so nothing else may be sent.
    fn send(r: *Report, line: []const u8) void {
        if (!r.open or r.sent) return;
        r.sent = true;
        // The CLI may have gone away; the exit status and exit.json still tell.
        sys.writeAll(report_fd, line) catch {
            r.close();
            return;
        };
        if (!r.keep_open) r.close();
    }

    /// The last line, then wait until the reader is gone (it has cleaned up, or died).
    /// Returns whether a reader took the line.
    pub fn exited(r: *Report, code: u8) bool {
        if (!r.open) return false;
        defer r.close();
        var buf: [line_max]u8 = undefined;
        sys.writeAll(report_fd, format(&buf, .{ .exited = code })) catch return false;
        // A pipe's write end polls POLLERR once every reader has closed it.
        sys.pollOne(report_fd, 0, -1) catch return false;
        return true;
    }

    fn close(r: *Report) void {
        assert(r.open);
        sys.close(report_fd);
        r.open = false;
    }
};
