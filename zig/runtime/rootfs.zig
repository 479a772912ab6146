//! The container's root: propagation made private first, the overlay (or a bind of root.path)
//! mounted inside the new mount namespace, pivot_root, and the read-only touches after it.
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;
const Diag = @import("diag.zig").Diag;
const spec = @import("spec.zig");
const mounts = @import("mounts.zig");

/// Must run before any mount: with "/" shared (systemd's default) every mount below would
/// propagate back to the host's namespace.
/// A shared or unbindable "/" is made rslave first (pivot_root refuses a shared parent, the
/// rootfs cannot be bound from an unbindable one, and nothing may propagate to the host while
/// the root is built) and gets its propagation after the pivot (runc's order).
const after_pivot = linux.MS.SHARED | linux.MS.UNBINDABLE;

pub fn makePrivate(s: *const spec.Spec, d: *Diag) !void {
    const flags = if (s.rootfs_propagation & after_pivot != 0) linux.MS.SLAVE | linux.MS.REC else s.rootfs_propagation;
    sys.mount(null, "/", null, flags, null) catch |err| {
        return d.fail(err, "make / {s}", .{propagationName(flags)});
    };
}

/// After pivot_root: rootfsPropagation (r)shared or (r)unbindable applies to the container's "/".
pub fn shareRoot(s: *const spec.Spec, d: *Diag) !void {
    if (s.rootfs_propagation & after_pivot == 0) return;
    sys.mount(null, "/", null, s.rootfs_propagation, null) catch |err| {
        return d.fail(err, "make / {s}", .{propagationName(s.rootfs_propagation)});
    };
}

fn propagationName(flags: u32) []const u8 {
    const rec = flags & linux.MS.REC != 0;
    if (flags & linux.MS.PRIVATE != 0) return if (rec) "rprivate" else "private";
    if (flags & linux.MS.SLAVE != 0) return if (rec) "rslave" else "slave";
    if (flags & linux.MS.SHARED != 0) return if (rec) "rshared" else "shared";
    return if (rec) "runbindable" else "unbindable";
}

/// The idmapped rootfs (a user namespace, idmap.zig): the monitor's overlay `tree` moved
/// onto root.path through its directory `parent`, opened before the init became the
/// namespace's root (which may not traverse the host's path to it); its root returned.
pub const Moved = struct { tree: sys.fd_t, parent: sys.fd_t };

pub fn openParent(s: *const spec.Spec, d: *Diag) !sys.fd_t {
    var buf: [spec.limits.path]u8 = undefined;
    const dir = std.fs.path.dirname(s.root_path) orelse "/";
    const p = std.fmt.bufPrintZ(&buf, "{s}", .{dir}) catch unreachable;
    return sys.open(p, .{ .PATH = true, .DIRECTORY = true, .CLOEXEC = true }, 0) catch |err| d.fail(err, "open \"{s}\"", .{p});
}

fn moveIdmappedRoot(s: *const spec.Spec, m: Moved, d: *Diag) !sys.fd_t {
    defer sys.close(m.parent);
    const name = s.root_path[(if (std.mem.lastIndexOfScalar(u8, s.root_path, '/')) |i| i + 1 else 0)..];
    sys.moveMount(m.tree, m.parent, name) catch |err| return d.fail(err, "mount the idmapped rootfs on \"{s}\"", .{s.root_path});
    // Reopened by name: the lookup crosses into the mount just made.
    const root = sys.openat(m.parent, name, .{ .PATH = true, .DIRECTORY = true, .CLOEXEC = true }, 0) catch |err| {
        return d.fail(err, "open the rootfs \"{s}\"", .{s.root_path});
    };
    errdefer sys.close(root);
    // Moved under an rshared "/" it is shared too: pivot_root refuses that.
    var fp: mounts.FdPath = .{};
    sys.mount(null, fp.of(root), null, linux.MS.PRIVATE, null) catch |err| return d.fail(err, "make the rootfs private", .{});
    return root;
}

/// Mounts the root and returns an O_PATH fd of it, the anchor every later path resolves in.
pub fn mountRoot(s: *const spec.Spec, moved: ?Moved, d: *Diag) !sys.fd_t {
    if (moved) |m| return moveIdmappedRoot(s, m, d);
    if (s.overlay != null and s.creates(.user)) {
        d.set(125, "the monitor passed no idmapped rootfs", .{});
        return error.PROTO;
    }
    if (s.overlay) |data| {
        // Relative lowerdir/upperdir paths keep the mount data under a page (CONTRACT.md).
        const dir = s.rootfs_dir.?;
        sys.chdir(dir) catch |err| return d.fail(err, "chdir to the rootfs dir \"{s}\"", .{dir});
        sys.mount("overlay", s.root_path, "overlay", 0, data) catch |err| {
            return d.fail(err, "mount the overlay rootfs on \"{s}\"", .{s.root_path});
        };
    } else {
        sys.mount(s.root_path, s.root_path, null, linux.MS.BIND | linux.MS.REC, null) catch |err| {
            return d.fail(err, "bind the rootfs \"{s}\"", .{s.root_path});
        };
    }
    // The init's own mount namespace takes every mount along when a later step fails and the
    // init exits; the root is detached at once when this function fails.
    errdefer sys.umount2(s.root_path, linux.MNT.DETACH) catch {};
    // pivot_root refuses a new root whose parent mount is shared; ours may be (rshared spec).
    sys.mount(null, s.root_path, null, linux.MS.PRIVATE, null) catch |err| {
        return d.fail(err, "make the rootfs private", .{});
    };
    return sys.open(s.root_path, .{ .PATH = true, .DIRECTORY = true, .CLOEXEC = true }, 0) catch |err| {
        return d.fail(err, "open the rootfs \"{s}\"", .{s.root_path});
    };
}

/// pivot_root(".", ".") stacks the old root on the new one; detaching "." then drops it
/// (runc's trick: no put_old directory needed in the image).
pub fn pivot(root: sys.fd_t, d: *Diag) !void {
    sys.fchdir(root) catch |err| return d.fail(err, "chdir to the rootfs", .{});
    sys.pivotRoot(".", ".") catch |err| return d.fail(err, "pivot_root", .{});
    // Slave first, so the detach below cannot propagate into the host's mounts.
    sys.mount(null, ".", null, linux.MS.SLAVE | linux.MS.REC, null) catch |err| {
        return d.fail(err, "make the old root rslave", .{});
    };
    sys.umount2(".", linux.MNT.DETACH) catch |err| return d.fail(err, "detach the old root", .{});
    sys.chdir("/") catch |err| return d.fail(err, "chdir to /", .{});
}

/// --no-pivot (runc's msMoveRoot, for a rootfs on a ramfs where pivot_root fails): the rootfs
/// moved onto / and chrooted into.
pub fn moveRoot(root: sys.fd_t, d: *Diag) !void {
    try hideHostProcAndSys(root, d);
    sys.fchdir(root) catch |err| return d.fail(err, "chdir to the rootfs", .{});
    sys.mount(".", "/", null, linux.MS.MOVE, null) catch |err| return d.fail(err, "move the rootfs onto /", .{});
    sys.chroot(".") catch |err| return d.fail(err, "chroot", .{});
    sys.chdir("/") catch |err| return d.fail(err, "chdir to /", .{});
}

/// --no-pivot leaves the host's mounts reachable under the chroot, and the kernel lets a user
/// namespace mount procfs or sysfs wherever a full one is visible: every full proc and sysfs
/// mount outside the rootfs is detached (made a slave first, so the host keeps its own), or
/// covered with an empty tmpfs where it cannot be (runc's msMoveRoot).
fn hideHostProcAndSys(root: sys.fd_t, d: *Diag) !void {
    var path_buf: [spec.limits.path]u8 = undefined;
    var fd_buf: [32]u8 = undefined;
    const fd_path = std.fmt.bufPrintZ(&fd_buf, "/proc/self/fd/{d}", .{root}) catch unreachable;
    const rootfs = sys.readlinkat(linux.AT.FDCWD, fd_path, &path_buf) catch |err| return d.fail(err, "find the rootfs's path", .{});
    const f = sys.open("/proc/self/mountinfo", .{ .ACCMODE = .RDONLY, .CLOEXEC = true }, 0) catch |err| return d.fail(err, "open /proc/self/mountinfo", .{});
    defer sys.close(f);
    const S = struct {
        var text: [mountinfo_max]u8 = undefined;
    };
    const text = sys.readFull(f, &S.text) catch |err| return d.fail(err, "read /proc/self/mountinfo", .{});
    if (text.len == S.text.len) {
        d.set(125, "/proc/self/mountinfo is larger than {d} bytes: too many mounts for --no-pivot", .{mountinfo_max});
        return error.NOMEM;
    }
    var lines = std.mem.splitScalar(u8, text, '\n');
    while (lines.next()) |line| {
        var mp_buf: [spec.limits.path]u8 = undefined;
        const mp = fullProcOrSys(line, rootfs, &mp_buf) orelse continue;
        try hideMount(mp, d);
    }
}

const mountinfo_max = 1 << 20;

/// The mount point of a mountinfo line that is a whole proc or sysfs outside `rootfs`.
fn fullProcOrSys(line: []const u8, rootfs: []const u8, out: *[spec.limits.path]u8) ?[:0]const u8 {
    const dash = std.mem.indexOf(u8, line, " - ") orelse return null;
    var pre = std.mem.tokenizeScalar(u8, line[0..dash], ' ');
    var post = std.mem.tokenizeScalar(u8, line[dash + 3 ..], ' ');
    const fstype = post.next() orelse return null;
    if (!std.mem.eql(u8, fstype, "proc") and !std.mem.eql(u8, fstype, "sysfs")) return null;
    _ = pre.next(); // mount id
    _ = pre.next(); // parent id
    _ = pre.next(); // major:minor
    const fs_root = pre.next() orelse return null;
    const mp = pre.next() orelse return null;
    if (!std.mem.eql(u8, fs_root, "/")) return null;
    // Escaped names (\040…) are no proc or sys of anyone's.
    if (std.mem.indexOfScalar(u8, mp, '\\') != null or mp.len >= out.len) return null;
    const inside = std.mem.startsWith(u8, mp, rootfs) and (mp.len == rootfs.len or mp[rootfs.len] == '/');
    if (inside) return null;
    @memcpy(out[0..mp.len], mp);
    out[mp.len] = 0;
    return out[0..mp.len :0];
}

fn hideMount(mp: [:0]const u8, d: *Diag) !void {
    // Gone with a parent already detached: nothing to hide.
    sys.mount(null, mp, null, linux.MS.SLAVE | linux.MS.REC, null) catch |err| switch (err) {
        error.NOENT => return,
        else => return d.fail(err, "make \"{s}\" a slave", .{mp}),
    };
    sys.umount2(mp, linux.MNT.DETACH) catch |err| switch (err) {
        error.INVAL, error.PERM => sys.mount("tmpfs", mp, "tmpfs", 0, null) catch |e| return d.fail(e, "cover \"{s}\"", .{mp}),
        else => return d.fail(err, "detach \"{s}\"", .{mp}),
    };
}

test "full proc and sysfs mounts outside the rootfs" {
    var buf: [spec.limits.path]u8 = undefined;
    const proc = "22 1 0:21 / /proc rw,nosuid - proc proc rw";
    try std.testing.expectEqualStrings("/proc", fullProcOrSys(proc, "/b/rootfs", &buf).?);
    try std.testing.expectEqual(@as(?[:0]const u8, null), fullProcOrSys("30 22 0:21 /sys /x/proc rw - proc proc rw", "/b/rootfs", &buf));
    try std.testing.expectEqual(@as(?[:0]const u8, null), fullProcOrSys("31 22 0:22 / /b/rootfs/proc rw - proc proc rw", "/b/rootfs", &buf));
    try std.testing.expectEqualStrings("/b/rootfs2/sys", fullProcOrSys("32 22 0:23 / /b/rootfs2/sys rw - sysfs sysfs rw", "/b/rootfs", &buf).?);
    try std.testing.expectEqual(@as(?[:0]const u8, null), fullProcOrSys("33 22 0:24 / /tmp rw - tmpfs tmpfs rw", "/b/rootfs", &buf));
}

pub fn maskAndProtect(s: *const spec.Spec, d: *Diag) !void {
    for (s.masked_paths[0..s.masked_paths_len]) |p| try mounts.maskPath(p, d);
    for (s.readonly_paths[0..s.readonly_paths_len]) |p| try mounts.readonlyPath(p, d);
    if (s.root_readonly) try mounts.setReadonly("/", false, d);
}

/// process.cwd exists before the user switch, as Docker and runc make it.
pub fn createCwd(root: sys.fd_t, s: *const spec.Spec, d: *Diag) !void {
    const f = mounts.openInRoot(root, s.process.cwd, .dir) catch |err| {
        return d.fail(err, "create the working directory \"{s}\"", .{s.process.cwd});
    };
    sys.close(f);
}
