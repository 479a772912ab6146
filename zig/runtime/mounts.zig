//! Spec mounts: option parsing (before clone) and mounting (in the init), each destination
//! resolved inside the rootfs with openat2(RESOLVE_IN_ROOT) and mounted onto /proc/self/fd/N,
//! so no symlink in the image can lead a mount out of it (runc's CVE-2021-30465 lesson).
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;
const Diag = @import("diag.zig").Diag;
const path_max = 4096;

pub const Mount = struct {
    /// A cgroup hierarchy shows the mounter's cgroup namespace root: the init must be in its
    /// cgroups and in its cgroup namespace before it mounts one.
    pub fn isCgroupFs(m: *const Mount) bool {
        const t = m.fstype orelse return false;
        return std.mem.eql(u8, t, "cgroup") or std.mem.eql(u8, t, "cgroup2");
    }

    destination: [:0]const u8,
    /// Absolute host path for binds; the fs-specific source ("proc", "tmpfs"…) otherwise.
    source: [:0]const u8,
    fstype: ?[:0]const u8,
    /// MS_* flags for mount(2); for binds only MS_BIND (| MS_REC).
    flags: u32,
    data: ?[:0]const u8,
    bind: bool,
    /// Bind mounts get ro/nosuid/… afterwards with mount_setattr, which changes only what it
    /// names (a remount would also clear flags it does not repeat).
    attr: sys.MountAttr,
    attr_recursive: bool,
    /// MS_PRIVATE, MS_SLAVE, MS_SHARED or MS_UNBINDABLE; 0 for none.
    propagation: u32,
    propagation_recursive: bool,
    /// `idmap` (runc's option): a bind idmapped by the container's user namespace; the
    /// monitor makes it, the init moves it into place (idmap.zig).
    idmap: bool = false,
};

pub const Plan = struct {
    flags: u32 = 0,
    data: []const u8 = "",
    bind: bool = false,
    attr: sys.MountAttr = .{},
    attr_recursive: bool = false,
    propagation: u32 = 0,
    propagation_recursive: bool = false,
    idmap: bool = false,
};

const A = sys.MOUNT_ATTR;
const MS = linux.MS;

/// One fs-independent option: its MS flag (set, or cleared when `clear`) and mount_setattr
/// attribute. `atime` options also clear the atime field first.
const Flag = struct { name: []const u8, ms: u32, clear: bool = false, attr: u64 = 0, atime: bool = false };

const flag_table = [_]Flag{
    .{ .name = "ro", .ms = MS.RDONLY, .attr = A.RDONLY },
    .{ .name = "rw", .ms = MS.RDONLY, .clear = true, .attr = A.RDONLY },
    .{ .name = "nosuid", .ms = MS.NOSUID, .attr = A.NOSUID },
    .{ .name = "suid", .ms = MS.NOSUID, .clear = true, .attr = A.NOSUID },
    .{ .name = "nodev", .ms = MS.NODEV, .attr = A.NODEV },
    .{ .name = "dev", .ms = MS.NODEV, .clear = true, .attr = A.NODEV },
    .{ .name = "noexec", .ms = MS.NOEXEC, .attr = A.NOEXEC },
    .{ .name = "exec", .ms = MS.NOEXEC, .clear = true, .attr = A.NOEXEC },
    .{ .name = "sync", .ms = MS.SYNCHRONOUS },
    .{ .name = "async", .ms = MS.SYNCHRONOUS, .clear = true },
    .{ .name = "dirsync", .ms = MS.DIRSYNC },
    .{ .name = "mand", .ms = MS.MANDLOCK },
    .{ .name = "nomand", .ms = MS.MANDLOCK, .clear = true },
    .{ .name = "noatime", .ms = MS.NOATIME, .attr = A.NOATIME, .atime = true },
    .{ .name = "atime", .ms = MS.NOATIME, .clear = true },
    .{ .name = "nodiratime", .ms = MS.NODIRATIME, .attr = A.NODIRATIME },
    .{ .name = "diratime", .ms = MS.NODIRATIME, .clear = true, .attr = A.NODIRATIME },
    .{ .name = "relatime", .ms = MS.RELATIME, .attr = A.RELATIME, .atime = true },
    .{ .name = "norelatime", .ms = MS.RELATIME, .clear = true },
    .{ .name = "strictatime", .ms = MS.STRICTATIME, .attr = A.STRICTATIME, .atime = true },
    .{ .name = "nostrictatime", .ms = MS.STRICTATIME, .clear = true },
    .{ .name = "nosymfollow", .ms = 0, .attr = A.NOSYMFOLLOW },
    .{ .name = "silent", .ms = MS.SILENT },
    .{ .name = "loud", .ms = MS.SILENT, .clear = true },
    .{ .name = "remount", .ms = MS.REMOUNT },
    .{ .name = "defaults", .ms = 0 },
};

/// runc extensions we accept and do not implement (they change nothing visible here).
const ignored = [_][]const u8{ "tmpcopyup", "copy-symlink" };

pub fn propagationByName(name: []const u8) ?u32 {
    const table = [_]struct { []const u8, u32 }{
        .{ "private", MS.PRIVATE },       .{ "rprivate", MS.REC | MS.PRIVATE },
        .{ "shared", MS.SHARED },         .{ "rshared", MS.REC | MS.SHARED },
        .{ "slave", MS.SLAVE },           .{ "rslave", MS.REC | MS.SLAVE },
        .{ "unbindable", MS.UNBINDABLE }, .{ "runbindable", MS.REC | MS.UNBINDABLE },
    };
    for (table) |e| if (std.mem.eql(u8, e[0], name)) return e[1];
    return null;
}

pub fn parseOptions(fstype: []const u8, options: []const []const u8, data_buf: []u8) error{DataTooLong}!Plan {
    var plan: Plan = .{ .bind = std.mem.eql(u8, fstype, "bind") };
    var rec = false;
    var data_len: usize = 0;
    for (options) |opt| {
        if (std.mem.eql(u8, opt, "bind")) {
            plan.bind = true;
        } else if (std.mem.eql(u8, opt, "rbind")) {
            plan.bind = true;
            rec = true;
        } else if (std.mem.eql(u8, opt, "idmap") or std.mem.eql(u8, opt, "ridmap")) {
            plan.idmap = true;
        } else if (propagationByName(opt)) |p| {
            plan.propagation = p & ~@as(u32, MS.REC);
            plan.propagation_recursive = p & MS.REC != 0;
        } else if (flagByName(opt)) |f| {
            applyFlag(&plan, f);
        } else if (opt.len > 1 and opt[0] == 'r' and flagByName(opt[1..]) != null and flagByName(opt[1..]).?.attr != 0) {
            // "rro", "rnosuid"…: the attribute on every mount of an rbind (runc's rro).
            applyFlag(&plan, flagByName(opt[1..]).?);
            plan.attr_recursive = true;
        } else if (isIgnored(opt)) {
            continue;
        } else {
            const sep: usize = @intFromBool(data_len > 0);
            if (data_len + sep + opt.len >= data_buf.len) return error.DataTooLong;
            if (sep == 1) data_buf[data_len] = ',';
            @memcpy(data_buf[data_len + sep ..][0..opt.len], opt);
            data_len += sep + opt.len;
        }
    }
    plan.data = data_buf[0..data_len];
    if (plan.bind) plan.flags = MS.BIND | (if (rec) @as(u32, MS.REC) else 0);
    return plan;
}

fn flagByName(name: []const u8) ?Flag {
    for (flag_table) |f| if (std.mem.eql(u8, f.name, name)) return f;
    return null;
}

fn isIgnored(name: []const u8) bool {
    for (ignored) |i| if (std.mem.eql(u8, i, name)) return true;
    return false;
}

fn applyFlag(plan: *Plan, f: Flag) void {
    if (f.clear) plan.flags &= ~f.ms else plan.flags |= f.ms;
    if (f.clear) {
        plan.attr.attr_set &= ~f.attr;
        plan.attr.attr_clr |= f.attr;
    } else {
        plan.attr.attr_clr &= ~f.attr;
        plan.attr.attr_set |= f.attr;
        if (f.atime) plan.attr.attr_clr |= A._ATIME;
    }
}

// ---- in the init --------------------------------------------------------------------------

pub const Kind = enum { dir, file };

/// A NUL-terminated "/proc/self/fd/N", how mount(2) is pointed at an fd's file.
pub const FdPath = struct {
    buf: [32]u8 = undefined,
    pub fn of(p: *FdPath, fd: sys.fd_t) [:0]const u8 {
        assert(fd >= 0);
        return std.fmt.bufPrintZ(&p.buf, "/proc/self/fd/{d}", .{fd}) catch unreachable;
    }
};

const o_path: linux.O = .{ .PATH = true, .CLOEXEC = true };

/// Opens `dest` (a container path) inside `root` (O_PATH), creating what is missing on the
/// way: directories, and the last component as an empty file when `kind` is .file. A dangling
/// symlink on the way is followed inside the root and its target created (runc's
/// MkdirAllInRoot), at most `max_symlinks` times.
pub fn openInRoot(root: sys.fd_t, dest: []const u8, kind: Kind) sys.Error!sys.fd_t {
    var paths: [2][path_max]u8 = undefined;
    if (dest.len >= path_max) return error.NAMETOOLONG;
    var current: []const u8 = dest;
    var hops: usize = 0;
    while (hops <= max_symlinks) : (hops += 1) {
        switch (try walk(root, current, kind)) {
            .opened => |fd| return fd,
            .redirect => |r| {
                // Rebuild the path in the buffer `current` does not live in.
                const out = &paths[hops % 2];
                current = try redirected(out, current, r.prefix_end, r.target);
            },
        }
    }
    return error.LOOP;
}

const max_symlinks = 40;

const Step = union(enum) {
    opened: sys.fd_t,
    /// The component ending at `prefix_end` is a dangling symlink to `target`.
    redirect: struct { prefix_end: usize, target: []const u8 },
};

var link_target_buf: [path_max]u8 = undefined;

fn walk(root: sys.fd_t, dest: []const u8, kind: Kind) sys.Error!Step {
    var buf: [path_max]u8 = undefined;
    if (sys.openat2(root, copyZ(&buf, dest), o_path, sys.RESOLVE.IN_ROOT)) |fd| {
        return .{ .opened = fd };
    } else |err| if (err != error.NOENT) return err;

    var cur = try sys.openat2(root, "/", o_path, sys.RESOLVE.IN_ROOT);
    errdefer sys.close(cur);
    var start: usize = 0;
    var components: usize = 0;
    while (start < dest.len) {
        components += 1;
        assert(components <= path_max / 2);
        while (start < dest.len and dest[start] == '/') start += 1;
        if (start == dest.len) break;
        const end = std.mem.indexOfScalarPos(u8, dest, start, '/') orelse dest.len;
        const prefix = copyZ(&buf, dest[0..end]);
        const name: [*:0]const u8 = prefix[start..].ptr;
        const last = std.mem.indexOfNone(u8, dest[end..], "/") == null;
        const next = sys.openat2(root, prefix, o_path, sys.RESOLVE.IN_ROOT) catch |err| switch (err) {
            error.NOENT => blk: {
                try createAt(cur, name, if (last) kind else .dir);
                break :blk sys.openat2(root, prefix, o_path, sys.RESOLVE.IN_ROOT) catch |e| switch (e) {
                    // It exists yet does not resolve: a dangling symlink.
                    error.NOENT => {
                        const target = try sys.readlinkat(cur, name, &link_target_buf);
                        sys.close(cur);
                        return .{ .redirect = .{ .prefix_end = end, .target = target } };
                    },
                    else => return e,
                };
            },
            else => return err,
        };
        sys.close(cur);
        cur = next;
        start = end;
    }
    return .{ .opened = cur };
}

/// `path` with its first `prefix_end` bytes (ending in a symlink) replaced by the link's
/// `target`: absolute targets are container paths (RESOLVE_IN_ROOT), relative ones are
/// relative to the symlink's directory.
fn redirected(out: *[path_max]u8, path: []const u8, prefix_end: usize, target: []const u8) sys.Error![]const u8 {
    assert(prefix_end <= path.len);
    const dir_end = std.mem.lastIndexOfScalar(u8, path[0..prefix_end], '/') orelse 0;
    const base = if (target.len > 0 and target[0] == '/') "" else path[0..dir_end];
    const rest = path[prefix_end..];
    const len = base.len + 1 + target.len + rest.len;
    if (len >= path_max) return error.NAMETOOLONG;
    var w: std.Io.Writer = .fixed(out);
    w.print("{s}/{s}{s}", .{ base, target, rest }) catch return error.NAMETOOLONG;
    return w.buffered();
}

fn createAt(dir: sys.fd_t, name: [*:0]const u8, kind: Kind) sys.Error!void {
    switch (kind) {
        .dir => sys.mkdirat(dir, name, 0o755) catch |err| if (err != error.EXIST) return err,
        .file => {
            // O_EXCL never follows a symlink: a dangling one fails the reopen, not escapes.
            const f = sys.openat(dir, name, .{ .ACCMODE = .WRONLY, .CREAT = true, .EXCL = true, .NOFOLLOW = true, .CLOEXEC = true }, 0o644) catch |err| switch (err) {
                error.EXIST => return,
                else => return err,
            };
            sys.close(f);
        },
    }
}

fn copyZ(buf: *[path_max]u8, s: []const u8) [:0]const u8 {
    assert(s.len < buf.len);
    @memcpy(buf[0..s.len], s);
    buf[s.len] = 0;
    return buf[0..s.len :0];
}

/// Mounts `m` under `root` (the rootfs, before pivot_root). Binds take their host source as
/// given; its type (file or directory) decides what mount point is created. `tree`: the
/// bind's source as the monitor opened (and for `idmap`, idmapped) it in a user namespace,
/// or the sysfs it mounted in a joined network namespace (idmap.zig), moved there instead.
pub fn mountOne(root: sys.fd_t, m: *const Mount, tree: ?sys.fd_t, d: *Diag) !void {
    var kind: Kind = .dir;
    if (tree) |t| {
        const st = sys.fstat(t) catch |err| return d.fail(err, "mount \"{s}\" on \"{s}\"", .{ m.source, m.destination });
        if (st.mode & linux.S.IFMT != linux.S.IFDIR) kind = .file;
    } else if (m.bind) {
        const st = sys.fstatat(linux.AT.FDCWD, m.source, 0) catch |err| {
            return d.fail(err, "mount \"{s}\" on \"{s}\"", .{ m.source, m.destination });
        };
        if (st.mode & linux.S.IFMT != linux.S.IFDIR) kind = .file;
    }
    if (tree == null and !m.bind) try refuseSymlinkTarget(root, m, d);
    const target = openInRoot(root, m.destination, kind) catch |err| {
        return d.fail(err, "create mount point \"{s}\"", .{m.destination});
    };
    defer sys.close(target);
    var fp: FdPath = .{};
    const where = fp.of(target);
    if (tree) |t| {
        sys.moveMount(t, target, "") catch |err| {
            return d.fail(err, "mount \"{s}\" on \"{s}\"", .{ m.source, m.destination });
        };
    } else if (m.idmap) {
        d.set(125, "mount \"{s}\": idmap needs a user namespace", .{m.destination});
        return error.InvalidSpec;
    } else if (m.bind) {
        sys.mount(m.source, where, null, m.flags, null) catch |err| {
            return d.fail(err, "mount \"{s}\" on \"{s}\"", .{ m.source, m.destination });
        };
    } else {
        const flags = if (delaysReadonly(m)) m.flags & ~@as(u32, MS.RDONLY) else m.flags;
        sys.mount(m.source, where, if (m.fstype) |t| t.ptr else null, flags, if (m.data) |x| x.ptr else null) catch |err| {
            if (err == error.PERM and std.mem.eql(u8, m.fstype.?, "sysfs")) return bindHostSys(root, where, m, d);
            return d.fail(err, "mount {s} on \"{s}\"", .{ m.fstype.?, m.destination });
        };
    }
    try applyAttributes(root, m, d);
}

/// A read-only tmpfs (/dev above all) is mounted writable and made read-only once the init has
/// created what goes in it (device nodes, mount points of later mounts): runc's mountPropagate
/// and finalizeRootfs.
pub fn delaysReadonly(m: *const Mount) bool {
    const t = m.fstype orelse return false;
    return !m.bind and m.flags & MS.RDONLY != 0 and std.mem.eql(u8, t, "tmpfs");
}

/// After pivot_root: the read-only flag delaysReadonly held back, on each such mount only (not
/// the ones under it), its path resolved inside the new root.
pub fn finishReadonlyAll(all: []const Mount, d: *Diag) !void {
    var root: ?sys.fd_t = null;
    defer if (root) |r| sys.close(r);
    for (all) |*m| if (delaysReadonly(m)) {
        if (root == null) root = sys.open("/", o_path, 0) catch |err| return d.fail(err, "open /", .{});
        try finishReadonly(root.?, m, d);
    };
}

fn finishReadonly(root: sys.fd_t, m: *const Mount, d: *Diag) !void {
    assert(delaysReadonly(m));
    var buf: [path_max]u8 = undefined;
    const mounted = sys.openat2(root, copyZ(&buf, m.destination), o_path, sys.RESOLVE.IN_ROOT) catch |err| {
        return d.fail(err, "reopen mount \"{s}\"", .{m.destination});
    };
    defer sys.close(mounted);
    const attr: sys.MountAttr = .{ .attr_set = A.RDONLY };
    sys.mountSetattr(mounted, "", linux.AT.EMPTY_PATH, &attr) catch |err| return d.fail(err, "make \"{s}\" read-only", .{m.destination});
}

/// proc and sysfs go on an ordinary directory, never on a symlink the image put there (runc's
/// check, CVE-2019-19921: a /proc that leads elsewhere hides what the runtime writes through
/// it). The symlink itself is examined (O_NOFOLLOW), its parents resolved inside the rootfs.
fn refuseSymlinkTarget(root: sys.fd_t, m: *const Mount, d: *Diag) !void {
    const t = m.fstype orelse return;
    if (!std.mem.eql(u8, t, "proc") and !std.mem.eql(u8, t, "sysfs")) return;
    var buf: [path_max]u8 = undefined;
    if (m.destination.len >= path_max) return;
    const fd = sys.openat2(root, copyZ(&buf, m.destination), .{ .PATH = true, .NOFOLLOW = true, .CLOEXEC = true }, sys.RESOLVE.IN_ROOT) catch |err| switch (err) {
        error.NOENT => return, // Created as a directory by openInRoot.
        else => return d.fail(err, "open mount point \"{s}\"", .{m.destination}),
    };
    defer sys.close(fd);
    const st = sys.fstat(fd) catch |err| return d.fail(err, "stat mount point \"{s}\"", .{m.destination});
    if (st.mode & linux.S.IFMT == linux.S.IFLNK) {
        d.set(125, "filesystem \"{s}\" must be mounted on ordinary directory: \"{s}\" is a symlink in the rootfs", .{ t, m.destination });
        return error.InvalidSpec;
    }
}

/// A user namespace that does not own the network namespace (one joined by path: a bridge
/// network's) may not mount sysfs: bind the host's /sys instead, with the mount's flags on
/// every submount (runc's fallback).
fn bindHostSys(root: sys.fd_t, where: [:0]const u8, m: *const Mount, d: *Diag) !void {
    sys.mount("/sys", where, null, MS.BIND | MS.REC, null) catch |err| return d.fail(err, "bind /sys on \"{s}\"", .{m.destination});
    var buf: [path_max]u8 = undefined;
    const mounted = sys.openat2(root, copyZ(&buf, m.destination), o_path, sys.RESOLVE.IN_ROOT) catch |err| {
        return d.fail(err, "reopen mount \"{s}\"", .{m.destination});
    };
    defer sys.close(mounted);
    var attr: sys.MountAttr = .{};
    const table = [_]struct { u32, u64 }{ .{ MS.RDONLY, A.RDONLY }, .{ MS.NOSUID, A.NOSUID }, .{ MS.NODEV, A.NODEV }, .{ MS.NOEXEC, A.NOEXEC } };
    for (table) |e| if (m.flags & e[0] != 0) {
        attr.attr_set |= e[1];
    };
    sys.mountSetattr(mounted, "", linux.AT.EMPTY_PATH | sys.AT_RECURSIVE, &attr) catch |err| return d.fail(err, "set the options of \"{s}\"", .{m.destination});
}

/// Attributes and propagation on the new mount: reopened by path, because the fd we mounted
/// on still names the mount underneath.
fn applyAttributes(root: sys.fd_t, m: *const Mount, d: *Diag) !void {
    const wants_attr = m.bind and (m.attr.attr_set | m.attr.attr_clr) != 0;
    if (!wants_attr and m.propagation == 0) return;
    var buf: [path_max]u8 = undefined;
    const mounted = sys.openat2(root, copyZ(&buf, m.destination), o_path, sys.RESOLVE.IN_ROOT) catch |err| {
        return d.fail(err, "reopen mount \"{s}\"", .{m.destination});
    };
    defer sys.close(mounted);
    if (wants_attr) {
        const flags = linux.AT.EMPTY_PATH | if (m.attr_recursive) sys.AT_RECURSIVE else 0;
        sys.mountSetattr(mounted, "", flags, &m.attr) catch |err| {
            return d.fail(err, "set the options of mount \"{s}\"", .{m.destination});
        };
    }
    if (m.propagation != 0) {
        const attr: sys.MountAttr = .{ .propagation = m.propagation };
        const flags = linux.AT.EMPTY_PATH | if (m.propagation_recursive) sys.AT_RECURSIVE else 0;
        sys.mountSetattr(mounted, "", flags, &attr) catch |err| {
            return d.fail(err, "set the propagation of mount \"{s}\"", .{m.destination});
        };
    }
}

// ---- after pivot_root ----------------------------------------------------------------------

/// runc's maskPath: /dev/null over files, a read-only empty tmpfs over directories; paths the
/// image lacks are skipped.
pub fn maskPath(p: [:0]const u8, d: *Diag) !void {
    const st = sys.fstatat(linux.AT.FDCWD, p, 0) catch |err| switch (err) {
        error.NOENT, error.NOTDIR => return,
        else => return d.fail(err, "mask \"{s}\"", .{p}),
    };
    if (st.mode & linux.S.IFMT == linux.S.IFDIR) {
        sys.mount("tmpfs", p, "tmpfs", MS.RDONLY, "size=0") catch |err| return d.fail(err, "mask \"{s}\"", .{p});
    } else {
        sys.mount("/dev/null", p, null, MS.BIND, null) catch |err| return d.fail(err, "mask \"{s}\"", .{p});
    }
}

/// runc's readonlyPath: bind the path onto itself, then make that mount read-only.
pub fn readonlyPath(p: [:0]const u8, d: *Diag) !void {
    sys.mount(p, p, null, MS.BIND | MS.REC, null) catch |err| switch (err) {
        error.NOENT => return,
        else => return d.fail(err, "make \"{s}\" read-only", .{p}),
    };
    try setReadonly(p, false, d);
}

pub fn setReadonly(p: [:0]const u8, recursive: bool, d: *Diag) !void {
    const attr: sys.MountAttr = .{ .attr_set = A.RDONLY };
    sys.mountSetattr(linux.AT.FDCWD, p, if (recursive) sys.AT_RECURSIVE else 0, &attr) catch |err| {
        return d.fail(err, "make \"{s}\" read-only", .{p});
    };
}

test "options: a read-only rbind" {
    var buf: [64]u8 = undefined;
    const plan = try parseOptions("bind", &.{ "rbind", "rprivate", "ro", "nosuid" }, &buf);
    try std.testing.expect(plan.bind);
    try std.testing.expectEqual(@as(u32, MS.BIND | MS.REC), plan.flags);
    try std.testing.expectEqual(A.RDONLY | A.NOSUID, plan.attr.attr_set);
    try std.testing.expectEqual(@as(u32, MS.PRIVATE), plan.propagation);
    try std.testing.expect(plan.propagation_recursive);
    try std.testing.expectEqualStrings("", plan.data);
}

test "options: idmap marks a bind, never reaches the fs data" {
    var buf: [64]u8 = undefined;
    const plan = try parseOptions("bind", &.{ "rbind", "rw", "idmap" }, &buf);
    try std.testing.expect(plan.idmap and plan.bind);
    try std.testing.expectEqualStrings("", plan.data);
    try std.testing.expect(!(try parseOptions("bind", &.{"rbind"}, &buf)).idmap);
}

test "options: fs data is kept in order" {
    var buf: [64]u8 = undefined;
    const plan = try parseOptions("devpts", &.{ "nosuid", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" }, &buf);
    try std.testing.expect(!plan.bind);
    try std.testing.expectEqual(@as(u32, MS.NOSUID), plan.flags);
    try std.testing.expectEqualStrings("newinstance,ptmxmode=0666,mode=0620,gid=5", plan.data);
    try std.testing.expectError(error.DataTooLong, parseOptions("tmpfs", &.{"size=" ++ "9" ** 70}, &buf));
}

test "openInRoot creates inside the root, never outside" {
    try sys.skipWithoutOpenat2();
    var tmp = std.testing.tmpDir(.{});
    defer tmp.cleanup();
    try tmp.dir.makePath("r");
    try tmp.dir.symLink("/", "r/escape", .{});
    const root = try sys.openat(tmp.dir.fd, "r", .{ .PATH = true, .DIRECTORY = true, .CLOEXEC = true }, 0);
    defer sys.close(root);
    sys.close(try openInRoot(root, "/a/b/c", .dir));
    sys.close(try openInRoot(root, "/escape/tsd-test-file", .file));
    try tmp.dir.symLink("/x/y", "r/dangling", .{});
    sys.close(try openInRoot(root, "/dangling/z", .dir));
    try tmp.dir.access("r/x/y/z", .{});
    try tmp.dir.access("r/a/b/c", .{});
    try tmp.dir.access("r/tsd-test-file", .{});
    try std.testing.expectError(error.FileNotFound, std.fs.accessAbsolute("/tsd-test-file", .{}));
}
