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
    /// Where the flags stand in argv (0: absent), for the monitor's re-exec without them.
    user_at: usize = 0,
    mount_at: usize = 0,

    pub fn any(p: Paths) bool {
        return p.user != null or p.mount != null;
    }
};

/// The user namespace, then the mount namespace (joining it needs the rights the user namespace
/// grants); nothing when neither is given. Both are opened first: the CLI's /proc/PID/fd cannot
/// be opened from inside the user namespace. Single-threaded callers only (setns(CLONE_NEWUSER)).
pub fn enter(paths: Paths, d: *Diag) !void {
    // A mount namespace owned by the pause's user namespace cannot be joined from outside it.
    assert(paths.mount == null or paths.user != null);
    const user_path = paths.user orelse return;
    const user = try open(user_path, d);
    defer sys.close(user);
    const mount: ?sys.fd_t = if (paths.mount) |p| try open(p, d) else null;
    defer if (mount) |f| sys.close(f);
    sys.setns(user, linux.CLONE.NEWUSER) catch |err| return d.fail(err, "enter the rootless user namespace {s}", .{user_path});
    // nsenter's default: the host's additional groups (unmapped there) are dropped; a single-id
    // namespace denies setgroups, where they stay, as nsenter --preserve-credentials kept them.
    sys.setgroups(&.{}) catch {};
    if (mount) |f| sys.setns(f, linux.CLONE.NEWNS) catch |err| return d.fail(err, "enter the rootless mount namespace {s}", .{paths.mount.?});
}

fn open(path: [:0]const u8, d: *Diag) !sys.fd_t {
    return sys.open(path, .{ .CLOEXEC = true }, 0) catch |err| d.fail(err, "open the rootless namespace {s}", .{path});
}

/// `--userns`/`--mountns` (at argv[at]) and a value: stored in `paths`; false: not one of them.
pub fn parseFlag(key: []const u8, value: [:0]const u8, at: usize, paths: *Paths) bool {
    if (std.mem.eql(u8, key, "--userns")) {
        paths.user = value;
        paths.user_at = at;
    } else if (std.mem.eql(u8, key, "--mountns")) {
        paths.mount = value;
        paths.mount_at = at;
    } else return false;
    return true;
}

/// The monitor's argv bound (args.parse refused more) and its copy for the re-exec.
const argv_max = @import("args.zig").max_args;
var reexec_argv: [argv_max + 1]?[*:0]const u8 = undefined;

/// The monitor, once in the namespaces, execs itself again (/proc/self/exe: its sealed memfd)
/// with the same argv but the two flags: its memory then belongs to the pause's user namespace,
/// as when nsenter started the CLI in it, so the files of /proc/self (oom_score_adj…) of the
/// non-dumpable monitor and init are the namespace root's, not the host's. Returns only on a
/// failure, with its message in `d`.
pub fn reexec(argv: []const [*:0]const u8, paths: Paths, d: *Diag) void {
    assert(argv.len <= argv_max);
    var n: usize = 0;
    for (argv, 0..) |arg, i| {
        const flag = (paths.user_at != 0 and (i == paths.user_at or i == paths.user_at + 1)) or
            (paths.mount_at != 0 and (i == paths.mount_at or i == paths.mount_at + 1));
        if (flag) continue;
        reexec_argv[n] = arg;
        n += 1;
    }
    reexec_argv[n] = null;
    const envp: [*:null]const ?[*:0]const u8 = @ptrCast(std.os.environ.ptr);
    const err = sys.execve("/proc/self/exe", @ptrCast(&reexec_argv), envp);
    d.set(runtime.diag.status_engine, "re-exec the monitor in the rootless namespaces: {s}", .{@import("linux").errno.describe(err)});
}

test "the flags" {
    var p: Paths = .{};
    try std.testing.expect(!p.any());
    try std.testing.expect(parseFlag("--userns", "/proc/1/fd/5", 3, &p));
    try std.testing.expect(parseFlag("--mountns", "/proc/1/fd/6", 5, &p));
    try std.testing.expect(!parseFlag("--bundle", "/b", 1, &p));
    try std.testing.expectEqual(@as(usize, 5), p.mount_at);
    try std.testing.expectEqualStrings("/proc/1/fd/6", p.mount.?);
    try std.testing.expect(p.any());
}
