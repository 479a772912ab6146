//! The container's root: propagation made private first, the overlay (or a bind of root.path)
//! mounted inside the new mount namespace, pivot_root, and the read-only touches after it.
const std = @import("std");
const linux = std.os.linux;
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
    sys.fchdir(root) catch |err| return d.fail(err, "chdir to the rootfs", .{});
    sys.mount(".", "/", null, linux.MS.MOVE, null) catch |err| return d.fail(err, "move the rootfs onto /", .{});
    sys.chroot(".") catch |err| return d.fail(err, "chroot", .{});
    sys.chdir("/") catch |err| return d.fail(err, "chdir to /", .{});
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
