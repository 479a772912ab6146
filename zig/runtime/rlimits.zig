//! process.rlimits. Raising a hard limit needs CAP_SYS_RESOURCE, which root lacks on some hosts
//! (DESIGN.md: RLIMIT_NOFILE's hard limit is 20000 there): a refused limit is clamped to the
//! current hard limit instead of failing the start.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("linux").sys;
const Diag = @import("diag.zig").Diag;
const Rlimit = @import("spec.zig").Rlimit;

pub fn byName(name: []const u8) ?linux.rlimit_resource {
    const prefix = "RLIMIT_";
    if (!std.mem.startsWith(u8, name, prefix)) return null;
    return std.meta.stringToEnum(linux.rlimit_resource, name[prefix.len..]);
}

pub fn apply(list: []const Rlimit, d: *Diag) !void {
    for (list) |r| try applyOne(r, d);
}

fn applyOne(r: Rlimit, d: *Diag) !void {
    var want: linux.rlimit = .{ .cur = @min(r.soft, r.hard), .max = r.hard };
    sys.prlimit(r.resource, &want, null) catch |err| switch (err) {
        error.PERM, error.INVAL => {
            var now: linux.rlimit = undefined;
            sys.prlimit(r.resource, null, &now) catch |e| return d.fail(e, "read RLIMIT_{s}", .{@tagName(r.resource)});
            want.max = @min(want.max, now.max);
            want.cur = @min(want.cur, want.max);
            sys.prlimit(r.resource, &want, null) catch |e| {
                return d.fail(e, "set RLIMIT_{s} to {d}:{d}", .{ @tagName(r.resource), want.cur, want.max });
            };
        },
        else => return d.fail(err, "set RLIMIT_{s} to {d}:{d}", .{ @tagName(r.resource), r.soft, r.hard }),
    };
}

test "names" {
    try std.testing.expectEqual(linux.rlimit_resource.NOFILE, byName("RLIMIT_NOFILE").?);
    try std.testing.expectEqual(@as(?linux.rlimit_resource, null), byName("NOFILE"));
}

test "a raise above the hard limit is clamped, not refused" {
    var now: linux.rlimit = undefined;
    try sys.prlimit(.NOFILE, null, &now);
    var d: Diag = .{};
    // Lowering the soft limit to itself always works; asking for the moon must clamp.
    try apply(&.{.{ .resource = .NOFILE, .soft = now.cur, .hard = now.max }}, &d);
}
