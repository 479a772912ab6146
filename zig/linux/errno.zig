//! errno as a Zig error set: every raw syscall result goes through `check`, so callers get
//! `error.NOENT` (and can `switch` on it) instead of a usize to decode.
const std = @import("std");
const linux = std.os.linux;
const E = linux.E;

/// One error per errno name of std.os.linux.E (SUCCESS excluded): error.NOENT, error.ACCES…
pub const Error = blk: {
    const fields = @typeInfo(E).@"enum".fields;
    var errors: [fields.len - 1]std.builtin.Type.Error = undefined;
    var i: usize = 0;
    for (fields) |f| {
        if (std.mem.eql(u8, f.name, "SUCCESS")) continue;
        errors[i] = .{ .name = f.name };
        i += 1;
    }
    break :blk @Type(.{ .error_set = &errors });
};

/// The raw return value of a syscall → the value, or the errno as an error.
pub fn check(rc: usize) Error!usize {
    const e = E.init(rc);
    if (e == .SUCCESS) return rc;
    return fromErrno(e);
}

pub fn fromErrno(e: E) Error {
    std.debug.assert(e != .SUCCESS);
    inline for (@typeInfo(E).@"enum".fields) |f| {
        if (comptime std.mem.eql(u8, f.name, "SUCCESS")) continue;
        if (@intFromEnum(e) == f.value) return @field(Error, f.name);
    }
    return error.INVAL; // An errno Zig does not name: never produced by Linux today.
}

/// strerror(3) for the errnos a container start meets; others print as their name.
pub fn describe(err: anyerror) []const u8 {
    const table = [_]struct { []const u8, []const u8 }{
        .{ "PERM", "operation not permitted" },
        .{ "NOENT", "no such file or directory" },
        .{ "SRCH", "no such process" },
        .{ "INTR", "interrupted system call" },
        .{ "IO", "input/output error" },
        .{ "NXIO", "no such device or address" },
        .{ "2BIG", "argument list too long" },
        .{ "NOEXEC", "exec format error" },
        .{ "BADF", "bad file descriptor" },
        .{ "CHILD", "no child processes" },
        .{ "AGAIN", "resource temporarily unavailable" },
        .{ "NOMEM", "cannot allocate memory" },
        .{ "ACCES", "permission denied" },
        .{ "FAULT", "bad address" },
        .{ "BUSY", "device or resource busy" },
        .{ "EXIST", "file exists" },
        .{ "XDEV", "invalid cross-device link" },
        .{ "NODEV", "no such device" },
        .{ "NOTDIR", "not a directory" },
        .{ "ISDIR", "is a directory" },
        .{ "INVAL", "invalid argument" },
        .{ "NFILE", "too many open files in system" },
        .{ "MFILE", "too many open files" },
        .{ "NOTTY", "inappropriate ioctl for device" },
        .{ "TXTBSY", "text file busy" },
        .{ "FBIG", "file too large" },
        .{ "NOSPC", "no space left on device" },
        .{ "ROFS", "read-only file system" },
        .{ "MLINK", "too many links" },
        .{ "PIPE", "broken pipe" },
        .{ "RANGE", "numerical result out of range" },
        .{ "NAMETOOLONG", "file name too long" },
        .{ "NOSYS", "function not implemented" },
        .{ "NOTEMPTY", "directory not empty" },
        .{ "LOOP", "too many levels of symbolic links" },
        .{ "OPNOTSUPP", "operation not supported" },
        .{ "NOTSUP", "operation not supported" },
        .{ "STALE", "stale file handle" },
        .{ "LIBBAD", "accessing a corrupted shared library" },
    };
    const name = @errorName(err);
    for (table) |entry| {
        if (std.mem.eql(u8, entry[0], name)) return entry[1];
    }
    return name;
}

test "errno round trip" {
    const rc: usize = @bitCast(@as(isize, -@as(isize, @intFromEnum(E.NOENT))));
    try std.testing.expectError(error.NOENT, check(rc));
    try std.testing.expectEqual(@as(usize, 7), try check(7));
    try std.testing.expectEqualStrings("no such file or directory", describe(error.NOENT));
    try std.testing.expectEqualStrings("permission denied", describe(error.ACCES));
}
