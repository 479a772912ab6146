//! The last step: args[0] through the container's PATH, then execve. Failure statuses follow
//! Docker: 127 when there is nothing to run, 126 when it exists but cannot be run.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("linux").sys;
const diag = @import("diag.zig");
const Diag = diag.Diag;
const spec = @import("spec.zig");

pub const default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const path_max = spec.limits.path;

/// The file to execve: args[0] itself when it has a slash, else the first executable regular
/// file named so in a directory of PATH (the container's, or Docker's default).
pub fn resolve(name: []const u8, path_env: ?[]const u8, buf: *[path_max]u8, d: *Diag) ![:0]const u8 {
    if (std.mem.indexOfScalar(u8, name, '/') != null) {
        if (name.len >= buf.len) return tooLong(name, d);
        @memcpy(buf[0..name.len], name);
        buf[name.len] = 0;
        return buf[0..name.len :0];
    }
    var it = std.mem.splitScalar(u8, path_env orelse default_path, ':');
    var dirs: usize = 0;
    while (it.next()) |dir_raw| {
        dirs += 1;
        if (dirs > path_max) break;
        // An empty PATH entry means the working directory.
        const dir = if (dir_raw.len == 0) "." else dir_raw;
        if (dir.len + 1 + name.len >= buf.len) continue;
        const candidate = std.fmt.bufPrintZ(buf, "{s}/{s}", .{ dir, name }) catch continue;
        if (isExecutableFile(candidate)) return candidate;
    }
    d.set(diag.status_not_found, "cannot exec \"{s}\": executable file not found in $PATH", .{name});
    return error.NotFound;
}

fn tooLong(name: []const u8, d: *Diag) error{NAMETOOLONG} {
    d.set(diag.status_not_found, "cannot exec \"{s}\": file name too long", .{name});
    return error.NAMETOOLONG;
}

fn isExecutableFile(p: [:0]const u8) bool {
    const st = sys.fstatat(linux.AT.FDCWD, p, 0) catch return false;
    if (st.mode & linux.S.IFMT != linux.S.IFREG) return false;
    sys.faccessat(linux.AT.FDCWD, p, linux.X_OK) catch return false;
    return true;
}

/// Returns only on failure, with the Docker status set in `d`.
pub fn exec(file: [:0]const u8, p: *const spec.Process, d: *Diag) anyerror {
    std.debug.assert(p.argv.len == p.argc + 1 and p.envp.len == p.envc + 2 and p.envp[p.envc + 1] == null);
    const err = sys.execve(file, @ptrCast(p.argv.ptr), @ptrCast(p.envp.ptr));
    const name = p.arg0();
    switch (err) {
        error.NOENT, error.NOTDIR => d.set(diag.status_not_found, "cannot exec \"{s}\": {s}", .{ name, @import("linux").errno.describe(err) }),
        error.ACCES => {
            const st = sys.fstatat(linux.AT.FDCWD, file, 0) catch null;
            const is_dir = if (st) |x| x.mode & linux.S.IFMT == linux.S.IFDIR else false;
            d.set(diag.status_cannot_invoke, "cannot exec \"{s}\": {s}", .{ name, if (is_dir) "is a directory" else "permission denied" });
        },
        else => d.set(diag.status_cannot_invoke, "cannot exec \"{s}\": {s}", .{ name, @import("linux").errno.describe(err) }),
    }
    return err;
}

test "PATH lookup" {
    var buf: [path_max]u8 = undefined;
    var d: Diag = .{};
    try std.testing.expectEqualStrings("/bin/sh", try resolve("sh", "/nonexistent:/bin", &buf, &d));
    try std.testing.expectEqualStrings("./x/y", try resolve("./x/y", null, &buf, &d));
    try std.testing.expectError(error.NotFound, resolve("tsd-no-such-cmd", "/bin", &buf, &d));
    try std.testing.expectEqual(@as(u8, 127), d.status);
}
