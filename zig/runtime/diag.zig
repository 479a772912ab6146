//! Why a step failed, as one line for the user, plus the Docker status it maps to. Filled by
//! the function that fails, returned up as a plain Zig error, sent once by whoever owns the
//! process (the init over the sync pipe, the monitor on the report pipe).
const std = @import("std");
const errno = @import("linux").errno;

pub const status_engine: u8 = 125;
pub const status_cannot_invoke: u8 = 126;
pub const status_not_found: u8 = 127;

pub const message_max = 1024;

pub const Diag = struct {
    status: u8 = status_engine,
    buf: [message_max]u8 = undefined,
    len: usize = 0,

    pub fn message(d: *const Diag) []const u8 {
        return d.buf[0..d.len];
    }

    /// Records "<what>: <cause>" and hands `err` back so callers write `return d.fail(…)`.
    pub fn fail(d: *Diag, err: anyerror, comptime fmt: []const u8, args: anytype) anyerror {
        d.set(status_engine, fmt ++ ": {s}", args ++ .{errno.describe(err)});
        return err;
    }

    pub fn set(d: *Diag, status: u8, comptime fmt: []const u8, args: anytype) void {
        std.debug.assert(status >= status_engine and status <= status_not_found);
        d.status = status;
        const out = std.fmt.bufPrint(&d.buf, fmt, args) catch blk: {
            // Too long for one line: keep the head, say it was cut.
            const cut = "…";
            @memcpy(d.buf[d.buf.len - cut.len ..], cut);
            break :blk d.buf[0..];
        };
        d.len = out.len;
        // One line: the report protocol is line-based.
        for (d.buf[0..d.len]) |*c| {
            if (c.* == '\n' or c.* == '\r') c.* = ' ';
        }
    }
};

test "fail formats the cause" {
    var d: Diag = .{};
    const err = d.fail(error.NOENT, "mount \"{s}\"", .{"/x"});
    try std.testing.expectEqual(error.NOENT, err);
    try std.testing.expectEqualStrings("mount \"/x\": no such file or directory", d.message());
    try std.testing.expectEqual(@as(u8, 125), d.status);
}
