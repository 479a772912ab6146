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
    sys.setgroups(p.gids[0..p.gids_len]) catch |err| return d.fail(err, "set the additional groups", .{});
    sys.setresgid(p.gid) catch |err| return d.fail(err, "set gid {d}", .{p.gid});
    sys.setresuid(p.uid) catch |err| return d.fail(err, "set uid {d}", .{p.uid});
    _ = sys.prctl(.SET_KEEPCAPS, 0, 0, 0, 0) catch |err| return d.fail(err, "reset keep capabilities", .{});
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
