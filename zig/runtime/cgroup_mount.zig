//! runc's "cgroup" mount: a mount of type `cgroup` that names no hierarchy (containerd's and
//! CRI-O's default spec: `{"destination":"/sys/fs/cgroup","type":"cgroup","options":["nosuid",
//! "noexec","nodev","relatime","ro"]}`) is the container's view of its cgroups, laid out as runc
//! lays it out: on a cgroup v2 host a `cgroup2` mount; on v1 a tmpfs with one directory per
//! hierarchy the init is in (`/proc/self/cgroup`), each the hierarchy itself when the container
//! has its own cgroup namespace, else a bind of the container's own group; a comma-joined
//! hierarchy gets a symlink per controller (`cpu -> cpu,cpuacct`); `ro` makes all of it
//! read-only. tsd's own specs name each hierarchy (data = its controllers) and are mounted as
//! written (mounts.zig). Runs in the init, in its cgroups, before pivot_root; no allocation.
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;
const Diag = @import("diag.zig").Diag;
const mounts = @import("mounts.zig");

const path_max = 4096;
/// Lines of /proc/self/cgroup read (one per hierarchy).
const cgroup_file_max = 8192;
const hierarchies_max = 32;
const keep_flags = linux.MS.NOSUID | linux.MS.NODEV | linux.MS.NOEXEC;

pub fn isAuto(m: *const mounts.Mount) bool {
    const t = m.fstype orelse return false;
    return !m.bind and std.mem.eql(u8, t, "cgroup") and m.data == null;
}

pub fn mount(root: sys.fd_t, m: *const mounts.Mount, cgroupns: bool, d: *Diag) !void {
    assert(isAuto(m));
    if (try hostIsV2(d)) return mountAt(root, m.destination, "cgroup", "cgroup2", m.flags, null, d);
    try mountAt(root, m.destination, "tmpfs", "tmpfs", m.flags & keep_flags, "mode=755", d);
    var buf: [cgroup_file_max]u8 = undefined;
    const text = try readSelfCgroup(&buf, d);
    var lines = std.mem.splitScalar(u8, text, '\n');
    var n: usize = 0;
    while (lines.next()) |line| {
        n += 1;
        if (n > hierarchies_max) break;
        const h = parseLine(line) orelse continue;
        try mountHierarchy(root, m, h, cgroupns, d);
    }
    if (m.flags & linux.MS.RDONLY != 0) try remount(root, m.destination, linux.MS.BIND | linux.MS.RDONLY | keep_flags, d);
}

const Hierarchy = struct {
    /// "cpu,cpuacct" or "name=systemd" (what a cgroup mount's data names).
    controllers: []const u8,
    /// The directory under the tmpfs: the controllers without "name=".
    dir: []const u8,
    /// The init's group in that hierarchy (a host path without a cgroup namespace).
    path: []const u8,
};

/// "4:cpu,cpuacct:/tsd/x" → the hierarchy; v2's "0::/…" and empty lines are skipped.
fn parseLine(line: []const u8) ?Hierarchy {
    var it = std.mem.splitScalar(u8, line, ':');
    _ = it.next() orelse return null;
    const controllers = it.next() orelse return null;
    const path = it.rest();
    if (controllers.len == 0 or path.len == 0 or path[0] != '/') return null;
    const dir = if (std.mem.startsWith(u8, controllers, "name=")) controllers["name=".len..] else controllers;
    if (dir.len == 0 or std.mem.indexOfScalar(u8, dir, '/') != null) return null;
    return .{ .controllers = controllers, .dir = dir, .path = path };
}

fn mountHierarchy(root: sys.fd_t, m: *const mounts.Mount, h: Hierarchy, cgroupns: bool, d: *Diag) !void {
    var dest_buf: [path_max]u8 = undefined;
    const dest = std.fmt.bufPrint(&dest_buf, "{s}/{s}", .{ m.destination, h.dir }) catch return d.fail(error.NAMETOOLONG, "mount cgroup {s}", .{h.dir});
    if (cgroupns) {
        var data_buf: [256]u8 = undefined;
        const data = std.fmt.bufPrintZ(&data_buf, "{s}", .{h.controllers}) catch return d.fail(error.NAMETOOLONG, "mount cgroup {s}", .{h.dir});
        try mountAt(root, dest, "cgroup", "cgroup", m.flags & (keep_flags | linux.MS.RDONLY), data, d);
    } else {
        var src_buf: [path_max]u8 = undefined;
        const src = std.fmt.bufPrintZ(&src_buf, "/sys/fs/cgroup/{s}{s}", .{ h.dir, h.path }) catch return d.fail(error.NAMETOOLONG, "mount cgroup {s}", .{h.dir});
        // A hierarchy not mounted where the host usually has it: left out, as runc skips it.
        _ = sys.fstatat(linux.AT.FDCWD, src, 0) catch return;
        try mountAt(root, dest, src, null, linux.MS.BIND | linux.MS.REC, null, d);
        if (m.flags & linux.MS.RDONLY != 0) try remount(root, dest, linux.MS.BIND | linux.MS.RDONLY | keep_flags, d);
    }
    try controllerLinks(root, m.destination, h, d);
}

/// "cpu,cpuacct" → symlinks cpu and cpuacct beside it (runc, Docker).
fn controllerLinks(root: sys.fd_t, base: []const u8, h: Hierarchy, d: *Diag) !void {
    if (std.mem.indexOfScalar(u8, h.dir, ',') == null) return;
    const dir = mounts.openInRoot(root, base, .dir) catch |err| return d.fail(err, "open {s}", .{base});
    defer sys.close(dir);
    var fp: mounts.FdPath = .{};
    const real = sys.open(fp.of(dir), .{ .DIRECTORY = true, .CLOEXEC = true }, 0) catch |err| return d.fail(err, "open {s}", .{base});
    defer sys.close(real);
    var target_buf: [256]u8 = undefined;
    const target = std.fmt.bufPrintZ(&target_buf, "{s}", .{h.dir}) catch return;
    var names = std.mem.splitScalar(u8, h.dir, ',');
    while (names.next()) |name| {
        var name_buf: [256]u8 = undefined;
        const link = std.fmt.bufPrintZ(&name_buf, "{s}", .{name}) catch continue;
        sys.symlinkat(target, real, link) catch |err| if (err != error.EXIST) return d.fail(err, "link {s}/{s}", .{ base, name });
    }
}

fn hostIsV2(d: *Diag) !bool {
    const f = sys.open("/sys/fs/cgroup", .{ .PATH = true, .DIRECTORY = true, .CLOEXEC = true }, 0) catch |err| return d.fail(err, "open /sys/fs/cgroup", .{});
    defer sys.close(f);
    const kind = sys.fstatfsType(f) catch |err| return d.fail(err, "statfs /sys/fs/cgroup", .{});
    return kind == sys.CGROUP2_SUPER_MAGIC;
}

fn readSelfCgroup(buf: *[cgroup_file_max]u8, d: *Diag) ![]const u8 {
    const f = sys.open("/proc/self/cgroup", .{ .CLOEXEC = true }, 0) catch |err| return d.fail(err, "open /proc/self/cgroup", .{});
    defer sys.close(f);
    var len: usize = 0;
    while (len < buf.len) {
        const n = sys.read(f, buf[len..]) catch |err| return d.fail(err, "read /proc/self/cgroup", .{});
        if (n == 0) break;
        len += n;
    }
    return buf[0..len];
}

/// mount(2) onto `dest` inside the rootfs (created when missing, resolved in the root).
fn mountAt(root: sys.fd_t, dest: []const u8, source: [*:0]const u8, fstype: ?[*:0]const u8, flags: u32, data: ?[*:0]const u8, d: *Diag) !void {
    const target = mounts.openInRoot(root, dest, .dir) catch |err| return d.fail(err, "create mount point \"{s}\"", .{dest});
    defer sys.close(target);
    var fp: mounts.FdPath = .{};
    sys.mount(source, fp.of(target), fstype, flags, data) catch |err| return d.fail(err, "mount cgroup on \"{s}\"", .{dest});
}

/// A remount of what is now mounted at `dest` (reopened: the old fd names the mount below).
fn remount(root: sys.fd_t, dest: []const u8, flags: u32, d: *Diag) !void {
    const target = mounts.openInRoot(root, dest, .dir) catch |err| return d.fail(err, "reopen \"{s}\"", .{dest});
    defer sys.close(target);
    var fp: mounts.FdPath = .{};
    sys.mount(null, fp.of(target), null, linux.MS.REMOUNT | flags, null) catch |err| return d.fail(err, "remount \"{s}\" read-only", .{dest});
}

test "/proc/self/cgroup lines" {
    const h = parseLine("4:cpu,cpuacct:/tsd/x").?;
    try std.testing.expectEqualStrings("cpu,cpuacct", h.dir);
    try std.testing.expectEqualStrings("/tsd/x", h.path);
    const named = parseLine("9:name=systemd:/user.slice").?;
    try std.testing.expectEqualStrings("systemd", named.dir);
    try std.testing.expectEqualStrings("name=systemd", named.controllers);
    try std.testing.expect(parseLine("0::/") == null);
    try std.testing.expect(parseLine("") == null);
    try std.testing.expect(parseLine("3:x/y:/") == null);
}
