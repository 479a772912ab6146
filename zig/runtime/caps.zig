//! Capabilities: names ↔ numbers, and applying the five sets in runc's order (bounding while
//! still privileged, then effective/permitted/inheritable with capset, then ambient).
const std = @import("std");
const linux = std.os.linux;
const sys = @import("linux").sys;
const Diag = @import("diag.zig").Diag;
const Caps = @import("spec.zig").Caps;

/// Index = capability number (linux/capability.h).
pub const names = [_][]const u8{
    "CAP_CHOWN",              "CAP_DAC_OVERRIDE",    "CAP_DAC_READ_SEARCH",  "CAP_FOWNER",
    "CAP_FSETID",             "CAP_KILL",            "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETPCAP",            "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",          "CAP_NET_RAW",         "CAP_IPC_LOCK",         "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",         "CAP_SYS_RAWIO",       "CAP_SYS_CHROOT",       "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",          "CAP_SYS_ADMIN",       "CAP_SYS_BOOT",         "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",       "CAP_SYS_TIME",        "CAP_SYS_TTY_CONFIG",   "CAP_MKNOD",
    "CAP_LEASE",              "CAP_AUDIT_WRITE",     "CAP_AUDIT_CONTROL",    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",       "CAP_MAC_ADMIN",       "CAP_SYSLOG",           "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",      "CAP_AUDIT_READ",      "CAP_PERFMON",          "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

pub fn byName(name: []const u8) ?u6 {
    for (names, 0..) |n, i| {
        if (std.ascii.eqlIgnoreCase(n, name)) return @intCast(i);
        // "KILL" as well as "CAP_KILL", as Docker accepts.
        if (std.ascii.eqlIgnoreCase(n[4..], name)) return @intCast(i);
    }
    return null;
}

const version_3: u32 = 0x20080522;

/// Drops from the bounding set every capability not in `bounding`, up to the kernel's last.
/// Needs CAP_SETPCAP in the effective set: call before switching to a non-root uid.
pub fn applyBounding(c: Caps, last_cap: u6, d: *Diag) !void {
    var cap: u32 = 0;
    while (cap <= last_cap) : (cap += 1) {
        if (c.bounding & (@as(u64, 1) << @intCast(cap)) != 0) continue;
        _ = sys.prctl(.CAPBSET_DROP, cap, 0, 0, 0) catch |err| {
            return d.fail(err, "drop {s} from the bounding set", .{capName(cap)});
        };
    }
}

/// Effective, permitted and inheritable with capset, then ambient (which needs them).
/// Capabilities the engine itself lacks (root without CAP_SYS_RESOURCE on some hosts, see
/// DESIGN.md) cannot be granted: they are left out, as rlimits are clamped, rather than
/// failing every --privileged start. So is an ambient capability that is not also permitted
/// and inheritable, which the kernel cannot raise (capabilities(7)): runc's default spec asks
/// for ambient sets without inheritable ones, and runc goes on without them too.
pub fn applySets(wanted: Caps, last_cap: u6, d: *Diag) !void {
    // std's header has `pid: usize` where the kernel has an int at offset 4: the kernel reads
    // the padding as the pid. Zero every byte so it reads 0 (this process).
    var header: linux.cap_user_header_t = undefined;
    @memset(std.mem.asBytes(&header), 0);
    header.version = version_3;
    var now: [2]linux.cap_user_data_t = undefined;
    sys.capget(&header, &now) catch |err| return d.fail(err, "read capabilities", .{});
    const held = @as(u64, now[0].permitted) | @as(u64, now[1].permitted) << 32;
    const inheritable = wanted.inheritable & (held | (@as(u64, now[0].inheritable) | @as(u64, now[1].inheritable) << 32));
    const permitted = wanted.permitted & held;
    const c: Caps = .{
        .bounding = wanted.bounding,
        .effective = wanted.effective & held,
        .permitted = permitted,
        .inheritable = inheritable,
        .ambient = wanted.ambient & permitted & inheritable,
    };
    const data = [2]linux.cap_user_data_t{
        .{ .effective = @truncate(c.effective), .permitted = @truncate(c.permitted), .inheritable = @truncate(c.inheritable) },
        .{ .effective = @truncate(c.effective >> 32), .permitted = @truncate(c.permitted >> 32), .inheritable = @truncate(c.inheritable >> 32) },
    };
    sys.capset(&header, &data) catch |err| return d.fail(err, "set capabilities", .{});
    _ = sys.prctl(.CAP_AMBIENT, linux.PR.CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) catch |err| {
        return d.fail(err, "clear the ambient capabilities", .{});
    };
    var cap: u32 = 0;
    while (cap <= last_cap) : (cap += 1) {
        if (c.ambient & (@as(u64, 1) << @intCast(cap)) == 0) continue;
        _ = sys.prctl(.CAP_AMBIENT, linux.PR.CAP_AMBIENT_RAISE, cap, 0, 0) catch |err| {
            return d.fail(err, "raise ambient {s}", .{capName(cap)});
        };
    }
}

fn capName(cap: u32) []const u8 {
    return if (cap < names.len) names[cap] else "an unnamed capability";
}

/// /proc/sys/kernel/cap_last_cap, read by the monitor before clone.
pub fn lastCap() u6 {
    const fallback: u6 = names.len - 1;
    const f = sys.open("/proc/sys/kernel/cap_last_cap", .{ .CLOEXEC = true }, 0) catch return fallback;
    defer sys.close(f);
    var buf: [8]u8 = undefined;
    const n = sys.read(f, &buf) catch return fallback;
    const text = std.mem.trimRight(u8, buf[0..n], "\n");
    const v = std.fmt.parseInt(u6, text, 10) catch return fallback;
    return v;
}

test "names" {
    try std.testing.expectEqual(@as(?u6, 5), byName("CAP_KILL"));
    try std.testing.expectEqual(@as(?u6, 21), byName("SYS_ADMIN"));
    try std.testing.expectEqual(@as(?u6, 40), byName("CAP_CHECKPOINT_RESTORE"));
    try std.testing.expectEqual(@as(?u6, null), byName("CAP_NOPE"));
    try std.testing.expect(lastCap() >= 36);
}
