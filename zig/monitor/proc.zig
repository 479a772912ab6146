//! Process identity, as the CLI records it (src/container/proc.ts): a pid and its start time
//! (field 22 of /proc/PID/stat). The exec and copy helpers check it after opening a
//! container's namespaces, so a recycled pid is never taken for the container's init.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("linux").sys;

/// Field 22 of a /proc/PID/stat text; null for a zombie or a malformed text.
pub fn startTimeField(stat: []const u8) ?[]const u8 {
    const close = std.mem.lastIndexOfScalar(u8, stat, ')') orelse return null;
    if (close + 2 > stat.len) return null;
    var it = std.mem.splitScalar(u8, stat[close + 2 ..], ' ');
    var field: usize = 3;
    while (it.next()) |f| : (field += 1) {
        if (field == 3 and (f.len == 0 or f[0] == 'Z' or f[0] == 'X')) return null;
        if (field == 22) return f;
    }
    return null;
}

/// Whether `pid` is alive and started at `start` (clock ticks since boot, as text).
pub fn sameProcess(pid: linux.pid_t, start: []const u8) bool {
    var path_buf: [64]u8 = undefined;
    const path = std.fmt.bufPrintZ(&path_buf, "/proc/{d}/stat", .{pid}) catch unreachable;
    var buf: [1024]u8 = undefined;
    const got = readSmall(path, &buf) catch return false;
    return std.mem.eql(u8, startTimeField(got) orelse return false, start);
}

/// The first `buf.len` bytes of a small file (a /proc text).
pub fn readSmall(path: [:0]const u8, buf: []u8) ![]const u8 {
    const f = try sys.open(path, .{ .CLOEXEC = true }, 0);
    defer sys.close(f);
    return sys.readFull(f, buf);
}

test "start time field" {
    try std.testing.expectEqualStrings("12345", startTimeField("7 (a) b) S 1 7 7 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 12345 100 200").?);
    try std.testing.expect(startTimeField("7 (x) Z 1 7 7 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 12345") == null);
    try std.testing.expect(startTimeField("garbage") == null);
}
