//! process.user in the init (groups, gid, uid, keeping the permitted capabilities across the
//! uid change) and, on the monitor's side, the uid/gid maps of a new user namespace.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("linux").sys;
const Diag = @import("diag.zig").Diag;
const spec = @import("spec.zig");

/// PR_SET_KEEPCAPS keeps the permitted set through setuid away from 0; applySets then picks
/// the effective set out of it.
pub fn switchUser(p: *const spec.Process, d: *Diag) !void {
    _ = sys.prctl(.SET_KEEPCAPS, 1, 0, 0, 0) catch |err| return d.fail(err, "keep capabilities", .{});
    // No groups asked in a user namespace whose setgroups is denied (rootless tsd's single-id
    // mapping, /proc/PID/setgroups "deny"): the process keeps what it has, as crun does.
    sys.setgroups(p.gids[0..p.gids_len]) catch |err| {
        if (!(err == error.PERM and p.gids_len == 0)) return d.fail(err, "set the additional groups", .{});
    };
    sys.setresgid(p.gid) catch |err| return d.fail(err, "set gid {d}", .{p.gid});
    sys.setresuid(p.uid) catch |err| return d.fail(err, "set uid {d}", .{p.uid});
    _ = sys.prctl(.SET_KEEPCAPS, 0, 0, 0, 0) catch |err| return d.fail(err, "reset keep capabilities", .{});
}

/// runc's fixStdioPermissions, for the container's own pty only: it is the process's stdio
/// (0, 1 and 2 are the one slave, console.becomeStdio), owned by the process's user (the group
/// kept: devpts's gid=5), so a non-root user can use its terminal. Not the caller's fds without
/// a terminal (runc chowns those too: a user's own tty handed to the runtime would change
/// owner). EINVAL/EPERM (ids not mapped here) leave it as it is.
pub fn chownTerminal(uid: u32, d: *Diag) !void {
    const st = sys.fstat(0) catch |err| return d.fail(err, "stat the terminal", .{});
    if (st.uid == uid) return;
    sys.fchownat(0, "", uid, st.gid, linux.AT.EMPTY_PATH) catch |err| switch (err) {
        error.INVAL, error.PERM => {},
        else => return d.fail(err, "give the terminal to uid {d}", .{uid}),
    };
}

/// In a new user namespace the init still carries the host's ids, which are unmapped there
/// (files it creates would fail with EOVERFLOW): take the namespace's root ids, as runc does.
pub fn becomeNamespaceRoot(d: *Diag) !void {
    sys.setresgid(0) catch |err| return d.fail(err, "become gid 0 in the user namespace", .{});
    sys.setresuid(0) catch |err| return d.fail(err, "become uid 0 in the user namespace", .{});
}

pub fn setOomScoreAdj(p: *const spec.Process, d: *Diag) !void {
    const adj = p.oom_score_adj orelse return;
    var buf: [16]u8 = undefined;
    const text = std.fmt.bufPrint(&buf, "{d}", .{adj}) catch unreachable;
    const f = sys.open("/proc/self/oom_score_adj", .{ .ACCMODE = .RDWR, .CLOEXEC = true }, 0) catch |err| {
        return d.fail(err, "open /proc/self/oom_score_adj", .{});
    };
    defer sys.close(f);
    // Lowering needs CAP_SYS_RESOURCE even to the same value on some kernels: skip a no-op.
    var cur: [16]u8 = undefined;
    const n = sys.read(f, &cur) catch 0;
    if (std.mem.eql(u8, std.mem.trimRight(u8, cur[0..n], "\n"), text)) return;
    sys.writeAll(f, text) catch |err| return d.fail(err, "set oomScoreAdj {d}", .{adj});
}

/// Monitor side: /proc/PID/uid_map and gid_map, while the init waits on the sync channel.
pub fn writeIdMaps(pid: linux.pid_t, s: *const spec.Spec, d: *Diag) !void {
    if (!s.creates(.user)) return;
    try writeMap(pid, "uid_map", s.uid_mappings[0..s.uid_mappings_len], d);
    try writeMap(pid, "gid_map", s.gid_mappings[0..s.gid_mappings_len], d);
}

fn writeMap(pid: linux.pid_t, comptime name: []const u8, maps: []const spec.IdMap, d: *Diag) !void {
    if (maps.len == 0) return;
    var text: [spec.limits.id_mappings * 36]u8 = undefined;
    var len: usize = 0;
    for (maps) |m| {
        const line = std.fmt.bufPrint(text[len..], "{d} {d} {d}\n", .{ m.container_id, m.host_id, m.size }) catch unreachable;
        len += line.len;
    }
    var path_buf: [64]u8 = undefined;
    const p = std.fmt.bufPrintZ(&path_buf, "/proc/{d}/" ++ name, .{pid}) catch unreachable;
    const f = sys.open(p, .{ .ACCMODE = .WRONLY, .CLOEXEC = true }, 0) catch |err| return d.fail(err, "open {s}", .{p});
    defer sys.close(f);
    // The kernel takes the whole map in one write.
    sys.writeAll(f, text[0..len]) catch |err| return d.fail(err, "write {s}", .{p});
}

/// How much of the container's /etc/passwd defaultHome reads (the rest is not looked at).
pub const passwd_max = 64 * 1024;

/// runc's and crun's default, which dockerd and podman rely on: no HOME in process.env → the
/// user's home directory from the container's /etc/passwd, "/" without an entry (or a file).
/// Fills the spare slot parseProcess leaves after the envc entries (envp stays NULL-ended).
/// Runs after pivot_root (or setns for an exec), before the user and seccomp change.
pub fn defaultHome(p: *const spec.Process) void {
    if (p.getenv("HOME") != null) return;
    std.debug.assert(p.envp.len == p.envc + 2 and p.envp[p.envc] == null and p.envp[p.envc + 1] == null);
    const S = struct {
        var passwd: [passwd_max]u8 = undefined;
        var env: [5 + spec.limits.path]u8 = undefined;
    };
    const home = passwdHome(readPasswd(&S.passwd), p.uid) orelse "/";
    const entry = std.fmt.bufPrintZ(&S.env, "HOME={s}", .{home}) catch "HOME=/";
    p.envp[p.envc] = entry.ptr;
}

fn readPasswd(buf: *[passwd_max]u8) []const u8 {
    const f = sys.open("/etc/passwd", .{ .ACCMODE = .RDONLY, .CLOEXEC = true }, 0) catch return "";
    defer sys.close(f);
    return sys.readFull(f, buf) catch "";
}

/// The home field (the 6th) of the first line whose uid field (the 3rd) is `uid`.
pub fn passwdHome(text: []const u8, uid: u32) ?[]const u8 {
    var lines = std.mem.splitScalar(u8, text, '\n');
    while (lines.next()) |line| {
        var fields: [7][]const u8 = undefined;
        var it = std.mem.splitScalar(u8, line, ':');
        var n: usize = 0;
        while (it.next()) |f| : (n += 1) {
            if (n == fields.len) break;
            fields[n] = f;
        }
        if (n < 6) continue;
        const id = std.fmt.parseInt(u32, fields[2], 10) catch continue;
        if (id == uid) return fields[5];
    }
    return null;
}

test "passwdHome" {
    const text = "root:x:0:0:root:/root:/bin/sh\nbad line\nnobody:x:65534:65534::/nonexistent:/bin/false\n" ++
        "user:x:1000:1000:u:/home/user:/bin/sh\ndup:x:1000:1000::/other:/bin/sh";
    try std.testing.expectEqualStrings("/root", passwdHome(text, 0).?);
    try std.testing.expectEqualStrings("/nonexistent", passwdHome(text, 65534).?);
    try std.testing.expectEqualStrings("/home/user", passwdHome(text, 1000).?);
    try std.testing.expectEqual(@as(?[]const u8, null), passwdHome(text, 4242));
    try std.testing.expectEqual(@as(?[]const u8, null), passwdHome("", 0));
}
