//! The few Linux calls std.os.linux lacks (openat2, fchownat) and errno text.
//! Raw syscalls: libtsd is not linked against libc.
const std = @import("std");
const linux = std.os.linux;

pub const E = linux.E;
pub const fd_t = linux.fd_t;

/// struct open_how (linux/openat2.h).
pub const OpenHow = extern struct {
    flags: u64,
    mode: u64 = 0,
    resolve: u64,
};

pub const RESOLVE_NO_XDEV: u64 = 0x01;
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
pub const RESOLVE_BENEATH: u64 = 0x08;
pub const RESOLVE_IN_ROOT: u64 = 0x10;

pub fn openat2(dirfd: fd_t, path: [*:0]const u8, how: *const OpenHow) usize {
    return linux.syscall4(
        .openat2,
        @bitCast(@as(isize, dirfd)),
        @intFromPtr(path),
        @intFromPtr(how),
        @sizeOf(OpenHow),
    );
}

pub fn fchownat(dirfd: fd_t, path: [*:0]const u8, uid: u32, gid: u32, flags: u32) usize {
    return linux.syscall5(
        .fchownat,
        @bitCast(@as(isize, dirfd)),
        @intFromPtr(path),
        uid,
        gid,
        flags,
    );
}

pub fn makedev(major: u32, minor: u32) u32 {
    // The kernel's new_encode_dev, which mknod's 32-bit dev argument takes.
    return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~@as(u32, 0xff)) << 12);
}

pub fn errnoOf(rc: usize) E {
    return E.init(rc);
}

/// strerror(3) wording for the errors extraction can meet; others print as "errno N".
pub fn describe(e: E, buf: []u8) []const u8 {
    const text: []const u8 = switch (e) {
        .PERM => "operation not permitted",
        .NOENT => "no such file or directory",
        .IO => "input/output error",
        .BADF => "bad file descriptor",
        .AGAIN => "resource temporarily unavailable",
        .NOMEM => "cannot allocate memory",
        .ACCES => "permission denied",
        .EXIST => "file exists",
        .XDEV => "path escapes the destination",
        .NOTDIR => "not a directory",
        .ISDIR => "is a directory",
        .INVAL => "invalid argument",
        .NFILE => "too many open files in system",
        .MFILE => "too many open files",
        .FBIG => "file too large",
        .NOSPC => "no space left on device",
        .PIPE => "broken pipe",
        .ROFS => "read-only file system",
        .MLINK => "too many links",
        .RANGE => "numerical result out of range",
        .NAMETOOLONG => "file name too long",
        .LOOP => "too many levels of symbolic links",
        .NOTEMPTY => "directory not empty",
        .DQUOT => "disk quota exceeded",
        .OPNOTSUPP => "operation not supported",
        .@"2BIG" => "argument list too long",
        .NODEV => "no such device",
        .NOSYS => "function not implemented (openat2 needs Linux 5.6)",
        else => return std.fmt.bufPrint(buf, "errno {d}", .{@intFromEnum(e)}) catch buf[0..0],
    };
    return text;
}

test "makedev matches the kernel encoding" {
    try std.testing.expectEqual(@as(u32, 0x0103), makedev(1, 3));
    try std.testing.expectEqual(@as(u32, 0), makedev(0, 0));
    try std.testing.expectEqual(@as(u32, 0x1231_0345), makedev(0x103, 0x12345));
}
