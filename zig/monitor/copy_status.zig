//! The exit status of `tsd-monitor --copy` and `--pack` (CONTRACT.md "Exit status of the copy
//! helper"): one status per failure class, so the CLI decides by number, never by the text of
//! the stderr line (which stays for the user). test/contract/fixtures/copy-status.txt is this
//! table as `format` writes it; the CLI's reader (src/native/helper-status.ts) is tested on it.
const std = @import("std");
const E = std.os.linux.E;

pub const Status = enum(u8) {
    ok = 0,
    /// Any failure of no class below.
    failed = 1,
    /// Bad arguments: the CLI built a command line the helper does not take.
    usage = 2,
    /// ENOENT: a source, a destination's directory, the host directory.
    not_found = 3,
    /// ENOTDIR: a path's directory part is not a directory.
    not_a_directory = 4,
    /// EACCES, EPERM, EROFS.
    permission = 5,
    /// ENOSPC, EDQUOT: the disk (or quota) written to is full.
    no_space = 6,
    /// EPIPE: the reader of the archive (`--pack`'s stdout) went away.
    broken_pipe = 7,
    /// The running container's init is gone (its pid or start time changed).
    not_running = 8,

    /// The class of a failure with this errno (none: `failed`).
    pub fn ofErrno(e: ?E) Status {
        const errno = e orelse return .failed;
        return switch (errno) {
            .NOENT => .not_found,
            .NOTDIR => .not_a_directory,
            .ACCES, .PERM, .ROFS => .permission,
            .NOSPC, .DQUOT => .no_space,
            .PIPE => .broken_pipe,
            else => .failed,
        };
    }

    /// The class's name in the contract: `not-found`.
    pub fn name(s: Status) []const u8 {
        return switch (s) {
            inline else => |t| comptime blk: {
                var n: [@tagName(t).len]u8 = @tagName(t)[0..].*;
                std.mem.replaceScalar(u8, &n, '_', '-');
                const out = n;
                break :blk &out;
            },
        };
    }
};

/// The whole table, one `<status> <name>\n` line per class in status order.
pub fn format(buf: []u8) []const u8 {
    var w: std.Io.Writer = .fixed(buf);
    inline for (@typeInfo(Status).@"enum".fields) |f| {
        const s: Status = @enumFromInt(f.value);
        w.print("{d} {s}\n", .{ f.value, s.name() }) catch unreachable;
    }
    return w.buffered();
}

test "errno classes" {
    try std.testing.expectEqual(Status.not_found, Status.ofErrno(.NOENT));
    try std.testing.expectEqual(Status.no_space, Status.ofErrno(.DQUOT));
    try std.testing.expectEqual(Status.broken_pipe, Status.ofErrno(.PIPE));
    try std.testing.expectEqual(Status.failed, Status.ofErrno(.IO));
    try std.testing.expectEqual(Status.failed, Status.ofErrno(null));
    try std.testing.expectEqualStrings("not-a-directory", Status.not_a_directory.name());
}
