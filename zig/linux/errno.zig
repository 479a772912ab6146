//! errno, once for the whole core: the raw result of a syscall → a Zig error (`check`: callers
//! get `error.NOENT` and can `switch` on it instead of a usize to decode) or an errno (`of`),
//! and the one strerror(3) table every message takes its wording from (`text`, `describe`).
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
pub fn check(rc: usize) linksection(@import("sys.zig").loop_section) Error!usize {
    const e = E.init(rc);
    if (e == .SUCCESS) return rc;
    return fromErrno(e);
}

pub fn fromErrno(e: E) linksection(@import("sys.zig").loop_section) Error {
    std.debug.assert(e != .SUCCESS);
    inline for (@typeInfo(E).@"enum".fields) |f| {
        if (comptime std.mem.eql(u8, f.name, "SUCCESS")) continue;
        if (@intFromEnum(e) == f.value) return @field(Error, f.name);
    }
    return error.INVAL; // An errno Zig does not name: never produced by Linux today.
}

/// The raw return value of a syscall → its errno (.SUCCESS when it succeeded), for callers
/// that switch on the errno of a raw std.os.linux call (zig/unpack/).
pub fn of(rc: usize) E {
    return E.init(rc);
}

/// The one strerror(3) table of the core (glibc's wording, lower case); errnos not listed
/// print as their name (`NOTCONN`).
const strerror = [_]struct { E, []const u8 }{
    .{ .PERM, "operation not permitted" },
    .{ .NOENT, "no such file or directory" },
    .{ .SRCH, "no such process" },
    .{ .INTR, "interrupted system call" },
    .{ .IO, "input/output error" },
    .{ .NXIO, "no such device or address" },
    .{ .@"2BIG", "argument list too long" },
    .{ .NOEXEC, "exec format error" },
    .{ .BADF, "bad file descriptor" },
    .{ .CHILD, "no child processes" },
    .{ .AGAIN, "resource temporarily unavailable" },
    .{ .NOMEM, "cannot allocate memory" },
    .{ .ACCES, "permission denied" },
    .{ .FAULT, "bad address" },
    .{ .BUSY, "device or resource busy" },
    .{ .EXIST, "file exists" },
    .{ .XDEV, "invalid cross-device link" },
    .{ .NODEV, "no such device" },
    .{ .NOTDIR, "not a directory" },
    .{ .ISDIR, "is a directory" },
    .{ .INVAL, "invalid argument" },
    .{ .NFILE, "too many open files in system" },
    .{ .MFILE, "too many open files" },
    .{ .NOTTY, "inappropriate ioctl for device" },
    .{ .TXTBSY, "text file busy" },
    .{ .FBIG, "file too large" },
    .{ .NOSPC, "no space left on device" },
    .{ .ROFS, "read-only file system" },
    .{ .MLINK, "too many links" },
    .{ .PIPE, "broken pipe" },
    .{ .RANGE, "numerical result out of range" },
    .{ .NAMETOOLONG, "file name too long" },
    .{ .NOSYS, "function not implemented" },
    .{ .NOTEMPTY, "directory not empty" },
    .{ .LOOP, "too many levels of symbolic links" },
    .{ .OPNOTSUPP, "operation not supported" },
    .{ .DQUOT, "disk quota exceeded" },
    .{ .STALE, "stale file handle" },
    .{ .LIBBAD, "accessing a corrupted shared library" },
};

/// strerror(3) of an errno: the table's text, else the errno's name, else "errno".
pub fn text(e: E) []const u8 {
    for (strerror) |entry| {
        if (entry[0] == e) return entry[1];
    }
    return std.enums.tagName(E, e) orelse "errno";
}

/// strerror(3) of an errno as a Zig error (error.NOENT); any other error prints as its name.
pub fn describe(err: anyerror) []const u8 {
    const name = @errorName(err);
    const e = std.meta.stringToEnum(E, name) orelse return name;
    if (e == .SUCCESS) return name;
    return text(e);
}

/// The errno a Zig error of this set stands for (what crosses the FFI as -errno).
pub fn toErrno(err: Error) E {
    return std.meta.stringToEnum(E, @errorName(err)).?;
}

test "errno round trip" {
    const rc: usize = @bitCast(@as(isize, -@as(isize, @intFromEnum(E.NOENT))));
    try std.testing.expectError(error.NOENT, check(rc));
    try std.testing.expectEqual(@as(usize, 7), try check(7));
    try std.testing.expectEqualStrings("no such file or directory", describe(error.NOENT));
    try std.testing.expectEqualStrings("permission denied", describe(error.ACCES));
    try std.testing.expectEqualStrings("OutOfMemory", describe(error.OutOfMemory));
    try std.testing.expectEqual(E.NOENT, of(rc));
    try std.testing.expectEqual(E.SUCCESS, of(7));
    try std.testing.expectEqual(E.NOSPC, toErrno(error.NOSPC));
}

test "one text per errno, and every errno named in the table is a real one" {
    for (strerror, 0..) |a, i| {
        try std.testing.expect(a[0] != .SUCCESS);
        for (strerror[i + 1 ..]) |b| try std.testing.expect(a[0] != b[0]);
    }
    // EXDEV is the kernel's cross-device error everywhere (the unpacker once called it an escape).
    try std.testing.expectEqualStrings("invalid cross-device link", text(.XDEV));
    try std.testing.expectEqualStrings("NOTCONN", text(.NOTCONN));
}
