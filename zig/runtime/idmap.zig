//! Rootful user namespaces (`--userns=auto`, `--uidmap`): the rootfs overlay and the `idmap`
//! bind mounts as idmapped mounts. The idmap takes the init's user namespace, so the monitor
//! makes them once that namespace has its maps, in the host's user namespace (only there may a
//! host filesystem be idmapped), as detached mounts; the init moves them into place (runc 1.2's
//! way). Every layer, the upper dir included, is mapped: files keep container ids on disk, as
//! without a user namespace, so commit, diff and cp read the same layers.
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;
const Diag = @import("diag.zig").Diag;
const spec = @import("spec.zig");
const sync = @import("sync.zig");
const mounts = @import("mounts.zig");

/// Monitor side, after the id maps and before the first "go": one message per mount.
pub fn sendMounts(pid: linux.pid_t, s: *const spec.Spec, sync_fd: sys.fd_t, d: *Diag) !void {
    if (!s.creates(.user)) return;
    var path_buf: [64]u8 = undefined;
    const p = std.fmt.bufPrintZ(&path_buf, "/proc/{d}/ns/user", .{pid}) catch unreachable;
    const userns = sys.open(p, .{ .CLOEXEC = true }, 0) catch |err| return d.fail(err, "open {s}", .{p});
    defer sys.close(userns);
    if (s.overlay) |data| {
        const root = try overlayRoot(userns, s, data, d);
        defer sys.close(root);
        sync.sendMount(sync_fd, sync.root_index, root) catch |err| return d.fail(err, "pass the rootfs to the container init", .{});
    }
    // Every bind source: the namespace's root may not traverse the host's path to it.
    for (s.mounts[0..s.mounts_len], 0..) |*m, i| {
        if (isSysfs(m) and s.joinPath(.network) != null) {
            const tree = try sysfsOf(s.joinPath(.network).?, m, d);
            defer sys.close(tree);
            sync.sendMount(sync_fd, @intCast(i), tree) catch |err| return d.fail(err, "pass mount \"{s}\" to the container init", .{m.destination});
            continue;
        }
        if (!m.bind) continue;
        const tree = try bindTree(if (m.idmap) userns else null, m.source, m.flags & linux.MS.REC != 0, d);
        defer sys.close(tree);
        sync.sendMount(sync_fd, @intCast(i), tree) catch |err| return d.fail(err, "pass mount \"{s}\" to the container init", .{m.destination});
    }
}

fn isSysfs(m: *const mounts.Mount) bool {
    return !m.bind and m.fstype != null and std.mem.eql(u8, m.fstype.?, "sysfs");
}

/// sysfs shows the network namespace of its mounter, who must be privileged over the
/// namespace's owner: a joined network namespace (a bridge network's, the host user
/// namespace's) gets its sysfs from the monitor, in that namespace for the moment.
fn sysfsOf(netns_path: [:0]const u8, m: *const mounts.Mount, d: *Diag) !sys.fd_t {
    const own = sys.open("/proc/self/ns/net", .{ .CLOEXEC = true }, 0) catch |err| return d.fail(err, "open /proc/self/ns/net", .{});
    defer sys.close(own);
    const target = sys.open(netns_path, .{ .CLOEXEC = true }, 0) catch |err| return d.fail(err, "open network namespace \"{s}\"", .{netns_path});
    defer sys.close(target);
    sys.setns(target, linux.CLONE.NEWNET) catch |err| return d.fail(err, "join network namespace \"{s}\"", .{netns_path});
    // Back to our own namespace: always permitted, so a failure is a kernel bug.
    defer sys.setns(own, linux.CLONE.NEWNET) catch unreachable;
    const fs = sys.fsopen("sysfs") catch |err| return d.fail(err, "open a sysfs", .{});
    defer sys.close(fs);
    sys.fsconfig(fs, sys.FSCONFIG_SET_STRING, "source", "sysfs") catch |err| return d.fail(err, "set the sysfs source", .{});
    sys.fsconfig(fs, sys.FSCONFIG_CMD_CREATE, null, null) catch |err| return d.fail(err, "create the sysfs for \"{s}\"", .{m.destination});
    var attrs: u64 = 0;
    const table = [_]struct { u32, u64 }{ .{ linux.MS.RDONLY, sys.MOUNT_ATTR.RDONLY }, .{ linux.MS.NOSUID, sys.MOUNT_ATTR.NOSUID }, .{ linux.MS.NODEV, sys.MOUNT_ATTR.NODEV }, .{ linux.MS.NOEXEC, sys.MOUNT_ATTR.NOEXEC } };
    for (table) |e| if (m.flags & e[0] != 0) {
        attrs |= e[1];
    };
    return sys.fsmount(fs, attrs) catch |err| d.fail(err, "mount the sysfs for \"{s}\"", .{m.destination});
}

fn bindTree(userns: ?sys.fd_t, path: [:0]const u8, recursive: bool, d: *Diag) !sys.fd_t {
    if (userns) |u| return idmappedTree(u, linux.AT.FDCWD, path, recursive, d);
    const rec: u32 = if (recursive) sys.AT_RECURSIVE else 0;
    return sys.openTree(linux.AT.FDCWD, path, sys.OPEN_TREE_CLONE | rec) catch |err| d.fail(err, "clone mount \"{s}\"", .{path});
}

/// A detached copy of `path` (with its submounts when `recursive`), idmapped by `userns`.
fn idmappedTree(userns: sys.fd_t, dir: sys.fd_t, path: [:0]const u8, recursive: bool, d: *Diag) !sys.fd_t {
    const rec: u32 = if (recursive) sys.AT_RECURSIVE else 0;
    const tree = sys.openTree(dir, path, sys.OPEN_TREE_CLONE | rec) catch |err| return d.fail(err, "clone mount \"{s}\"", .{path});
    errdefer sys.close(tree);
    const attr: sys.MountAttr = .{ .attr_set = sys.MOUNT_ATTR_IDMAP, .userns_fd = @intCast(userns) };
    sys.mountSetattr(tree, "", linux.AT.EMPTY_PATH | rec, &attr) catch |err| return d.fail(err, "idmap mount \"{s}\"", .{path});
    return tree;
}

/// The host ids of the container's root (the overlay's creator works in them).
fn rootId(maps: []const spec.IdMap) ?u32 {
    for (maps) |m| if (m.container_id == 0 and m.size > 0) return m.host_id;
    return null;
}

/// io.tsd.rootfs.overlay's data (relative to io.tsd.rootfs.dir) as a detached overlay mount
/// whose layers are idmapped. The overlay writes its work dir and copy-ups with its creator's
/// credentials: those are the container root's host ids here (the idmapped upper cannot store
/// host root), with SECBIT_NO_SETUID_FIXUP keeping the monitor's capabilities meanwhile.
fn overlayRoot(userns: sys.fd_t, s: *const spec.Spec, data: []const u8, d: *Diag) !sys.fd_t {
    const uid = rootId(s.uid_mappings[0..s.uid_mappings_len]) orelse return fail(d, "the user namespace maps no uid 0: an overlay rootfs needs the container's root mapped", .{});
    const gid = rootId(s.gid_mappings[0..s.gid_mappings_len]) orelse return fail(d, "the user namespace maps no gid 0: an overlay rootfs needs the container's root mapped", .{});
    const dir = sys.open(s.rootfs_dir.?, .{ .PATH = true, .DIRECTORY = true, .CLOEXEC = true }, 0) catch |err| return d.fail(err, "open the rootfs dir \"{s}\"", .{s.rootfs_dir.?});
    defer sys.close(dir);
    const bits = sys.prctl(.GET_SECUREBITS, 0, 0, 0, 0) catch |err| return d.fail(err, "read the securebits", .{});
    _ = sys.prctl(.SET_SECUREBITS, bits | secbit_no_setuid_fixup, 0, 0, 0) catch |err| return d.fail(err, "set SECBIT_NO_SETUID_FIXUP", .{});
    const old_uid = sys.setfsuid(uid);
    const old_gid = sys.setfsgid(gid);
    defer {
        _ = sys.setfsgid(old_gid);
        _ = sys.setfsuid(old_uid);
        // Setting back bits we just read succeeds (CAP_SETPCAP is still ours).
        _ = sys.prctl(.SET_SECUREBITS, bits, 0, 0, 0) catch unreachable;
    }
    const fs = sys.fsopen("overlay") catch |err| return d.fail(err, "open an overlay filesystem", .{});
    defer sys.close(fs);
    // A detached tree goes with its last fd: all stay open until the overlay holds its own
    // clones (at create).
    var trees: Trees = .{};
    defer trees.closeAll();
    sys.fsconfig(fs, sys.FSCONFIG_SET_STRING, "source", "overlay") catch |err| return d.fail(err, "set the overlay's source", .{});
    try configure(fs, dir, userns, data, &trees, d);
    sys.fsconfig(fs, sys.FSCONFIG_CMD_CREATE, null, null) catch |err| return d.fail(err, "create the idmapped overlay rootfs (Linux 6.15 or later)", .{});
    return sys.fsmount(fs, 0) catch |err| d.fail(err, "mount the idmapped overlay rootfs", .{});
}

/// The kernel's limit on overlay layers (OVL_MAX_STACK), and the upper's tree.
const max_layers = 500;

const Trees = struct {
    fds: [max_layers + 1]sys.fd_t = undefined,
    len: usize = 0,

    fn add(t: *Trees, fd: sys.fd_t, d: *Diag) !void {
        if (t.len == t.fds.len) {
            sys.close(fd);
            return fail(d, "io.tsd.rootfs.overlay: more than {d} layers", .{max_layers});
        }
        t.fds[t.len] = fd;
        t.len += 1;
    }

    fn closeAll(t: *Trees) void {
        for (t.fds[0..t.len]) |f| sys.close(f);
        t.len = 0;
    }
};

const secbit_no_setuid_fixup: usize = 1 << 2;

/// Each lower layer as "lowerdir+" (one idmapped tree each); upper and work as paths in one idmapped tree of their common parent (the bundle).
fn configure(fs: sys.fd_t, dir: sys.fd_t, userns: sys.fd_t, data: []const u8, trees: *Trees, d: *Diag) !void {
    var upper: ?[]const u8 = null;
    var work: ?[]const u8 = null;
    var options = std.mem.tokenizeScalar(u8, data, ',');
    var layers: usize = 0;
    while (options.next()) |opt| {
        if (std.mem.startsWith(u8, opt, "lowerdir=")) {
            var it = std.mem.tokenizeScalar(u8, opt["lowerdir=".len..], ':');
            while (it.next()) |layer| : (layers += 1) {
                assert(layers < spec.limits.path);
                try addLayer(fs, dir, userns, layer, trees, d);
            }
        } else if (std.mem.startsWith(u8, opt, "upperdir=")) {
            upper = opt["upperdir=".len..];
        } else if (std.mem.startsWith(u8, opt, "workdir=")) {
            work = opt["workdir=".len..];
        } else return fail(d, "io.tsd.rootfs.overlay: option \"{s}\" is not supported with a user namespace", .{opt});
    }
    if (upper == null or work == null) return fail(d, "io.tsd.rootfs.overlay needs upperdir and workdir with a user namespace", .{});
    const parent = std.fs.path.dirname(upper.?) orelse ".";
    if (!std.mem.eql(u8, parent, std.fs.path.dirname(work.?) orelse ".")) return fail(d, "io.tsd.rootfs.overlay: upperdir and workdir must share a directory", .{});
    var buf: [spec.limits.path]u8 = undefined;
    const tree = try idmappedTree(userns, dir, try z(&buf, parent, d), false, d);
    try trees.add(tree, d);
    try setPath(fs, "upperdir", tree, std.fs.path.basename(upper.?), d);
    try setPath(fs, "workdir", tree, std.fs.path.basename(work.?), d);
}

fn addLayer(fs: sys.fd_t, dir: sys.fd_t, userns: sys.fd_t, layer: []const u8, trees: *Trees, d: *Diag) !void {
    var buf: [spec.limits.path]u8 = undefined;
    const tree = try idmappedTree(userns, dir, try z(&buf, layer, d), false, d);
    try trees.add(tree, d);
    try setPath(fs, "lowerdir+", tree, "", d);
}

/// `key` = /proc/self/fd/<tree>[/<name>]: the overlay resolves and holds it at once.
fn setPath(fs: sys.fd_t, comptime key: [:0]const u8, tree: sys.fd_t, name: []const u8, d: *Diag) !void {
    var buf: [spec.limits.path]u8 = undefined;
    const p = (if (name.len == 0)
        std.fmt.bufPrintZ(&buf, "/proc/self/fd/{d}", .{tree})
    else
        std.fmt.bufPrintZ(&buf, "/proc/self/fd/{d}/{s}", .{ tree, name })) catch return fail(d, "overlay path too long", .{});
    sys.fsconfig(fs, sys.FSCONFIG_SET_STRING, key, p) catch |err| return d.fail(err, "set the overlay's {s} \"{s}\"", .{ key, name });
}

fn z(buf: *[spec.limits.path]u8, s: []const u8, d: *Diag) ![:0]const u8 {
    return std.fmt.bufPrintZ(buf, "{s}", .{s}) catch fail(d, "overlay path too long", .{});
}

fn fail(d: *Diag, comptime fmt: []const u8, args: anytype) error{InvalidSpec} {
    d.set(125, fmt, args);
    return error.InvalidSpec;
}

// ---- in the init ---------------------------------------------------------------------------

/// The trees the monitor passed (fds in the init), by spec mount index; -1 none.
pub const Received = struct {
    root: sys.fd_t = -1,
    mounts: [spec.limits.mounts]sys.fd_t = [_]sys.fd_t{-1} ** spec.limits.mounts,

    pub fn take(r: *Received, index: u16, fd: sys.fd_t) error{PROTO}!void {
        const slot = if (index == sync.root_index) &r.root else if (index < r.mounts.len) &r.mounts[index] else {
            sys.close(fd);
            return error.PROTO;
        };
        if (slot.* >= 0) sys.close(slot.*);
        slot.* = fd;
    }

    pub fn mount(r: *const Received, index: usize) ?sys.fd_t {
        assert(index < r.mounts.len);
        return if (r.mounts[index] >= 0) r.mounts[index] else null;
    }
};

test "the container root's host id is the map entry for id 0" {
    const maps = [_]spec.IdMap{ .{ .container_id = 1, .host_id = 7, .size = 10 }, .{ .container_id = 0, .host_id = 100000, .size = 1 } };
    try std.testing.expectEqual(@as(?u32, 100000), rootId(&maps));
    try std.testing.expectEqual(@as(?u32, null), rootId(maps[0..1]));
}
