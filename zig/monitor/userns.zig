//! Rootless tsd's fast path (issue 13): the CLI stays on the host as the user (Bun is
//! multithreaded and cannot setns into a user namespace), and the monitor (`--userns PATH
//! --mountns PATH`) or the exec helper (`--userns PATH`) enters the user's pause process's
//! namespaces itself, first thing, before it opens anything of the container. The user owns
//! that user namespace, so joining it grants every capability there: the process is then root
//! in it as `nsenter --user --mount --target PAUSE` made the CLI before. The paths are the
//! CLI's own descriptors of the namespaces (/proc/CLI/fd/N), opened and checked to be the pause
//! process's while it still had its recorded start time.
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;
const runtime = @import("runtime");
const Diag = runtime.diag.Diag;

pub const Paths = struct {
    user: ?[:0]const u8 = null,
    mount: ?[:0]const u8 = null,

    pub fn any(p: Paths) bool {
        return p.user != null or p.mount != null;
    }
};

/// The user namespace, then the mount namespace (joining it needs the rights the user namespace
/// grants); nothing when neither is given. Single-threaded callers only (setns(CLONE_NEWUSER)).
pub fn enter(paths: Paths, d: *Diag) !void {
    // A mount namespace owned by the pause's user namespace cannot be joined from outside it.
    assert(paths.mount == null or paths.user != null);
    if (paths.user) |p| {
        try join(p, linux.CLONE.NEWUSER, d);
        // nsenter's default: the host's additional groups (unmapped there) are dropped; a
        // single-id namespace denies setgroups, where they stay, as nsenter
        // --preserve-credentials kept them.
        sys.setgroups(&.{}) catch {};
    }
    if (paths.mount) |p| try join(p, linux.CLONE.NEWNS, d);
}

fn join(path: [:0]const u8, flag: u32, d: *Diag) !void {
    const f = sys.open(path, .{ .CLOEXEC = true }, 0) catch |err| return d.fail(err, "open the rootless namespace {s}", .{path});
    defer sys.close(f);
    sys.setns(f, flag) catch |err| return d.fail(err, "enter the rootless namespace {s}", .{path});
}

/// `--userns`/`--mountns` and a value: stored in `paths`; false: not one of them.
pub fn parseFlag(key: []const u8, value: [:0]const u8, paths: *Paths) bool {
    if (std.mem.eql(u8, key, "--userns")) {
        paths.user = value;
    } else if (std.mem.eql(u8, key, "--mountns")) {
        paths.mount = value;
    } else return false;
    return true;
}

test "the flags" {
    var p: Paths = .{};
    try std.testing.expect(!p.any());
    try std.testing.expect(parseFlag("--userns", "/proc/1/fd/5", &p));
    try std.testing.expect(parseFlag("--mountns", "/proc/1/fd/6", &p));
    try std.testing.expect(!parseFlag("--bundle", "/b", &p));
    try std.testing.expectEqualStrings("/proc/1/fd/6", p.mount.?);
    try std.testing.expect(p.any());
}
