//! Joining a container's cgroups (io.tsd.cgroup.procs, zig/CONTRACT.md): the monitor puts the
//! init there before it runs anything, the exec and copy helpers put themselves there, so the
//! container's limits and device rules hold for them too.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("linux").sys;

/// Writes `pid` into the cgroup.procs file at `path`.
pub fn joinOne(pid: linux.pid_t, path: [*:0]const u8) sys.Error!void {
    std.debug.assert(pid > 0);
    var buf: [16]u8 = undefined;
    const text = std.fmt.bufPrint(&buf, "{d}", .{pid}) catch unreachable;
    const f = try sys.open(path, .{ .ACCMODE = .WRONLY, .CLOEXEC = true }, 0);
    defer sys.close(f);
    try sys.writeAll(f, text);
}
