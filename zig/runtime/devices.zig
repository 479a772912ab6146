//! /dev inside the rootfs: the spec's device nodes (plus runc's defaults), bound from the host
//! when mknod is refused (a user namespace), and the standard symlinks.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("linux").sys;
const Diag = @import("diag.zig").Diag;
const spec = @import("spec.zig");
const mounts = @import("mounts.zig");

/// Always present, as runc and Docker make them, unless the spec names the path itself.
const defaults = [_]spec.Device{
    .{ .path = "/dev/null", .mode = linux.S.IFCHR | 0o666, .major = 1, .minor = 3, .uid = 0, .gid = 0 },
    .{ .path = "/dev/zero", .mode = linux.S.IFCHR | 0o666, .major = 1, .minor = 5, .uid = 0, .gid = 0 },
    .{ .path = "/dev/full", .mode = linux.S.IFCHR | 0o666, .major = 1, .minor = 7, .uid = 0, .gid = 0 },
    .{ .path = "/dev/random", .mode = linux.S.IFCHR | 0o666, .major = 1, .minor = 8, .uid = 0, .gid = 0 },
    .{ .path = "/dev/urandom", .mode = linux.S.IFCHR | 0o666, .major = 1, .minor = 9, .uid = 0, .gid = 0 },
    .{ .path = "/dev/tty", .mode = linux.S.IFCHR | 0o666, .major = 5, .minor = 0, .uid = 0, .gid = 0 },
};

const symlinks = [_]struct { [:0]const u8, [:0]const u8 }{
    .{ "fd", "/proc/self/fd" },
    .{ "stdin", "/proc/self/fd/0" },
    .{ "stdout", "/proc/self/fd/1" },
    .{ "stderr", "/proc/self/fd/2" },
};

pub fn create(root: sys.fd_t, s: *const spec.Spec, d: *Diag) !void {
    for (s.devices[0..s.devices_len]) |*dev| try createOne(root, dev, d);
    for (&defaults) |*dev| {
        if (named(s, dev.path)) continue;
        try createOne(root, dev, d);
    }
    try createLinks(root, d);
}

fn named(s: *const spec.Spec, p: []const u8) bool {
    for (s.devices[0..s.devices_len]) |dev| if (std.mem.eql(u8, dev.path, p)) return true;
    return false;
}

fn createOne(root: sys.fd_t, dev: *const spec.Device, d: *Diag) !void {
    const slash = std.mem.lastIndexOfScalar(u8, dev.path, '/').?;
    const parent = mounts.openInRoot(root, if (slash == 0) "/" else dev.path[0..slash], .dir) catch |err| {
        return d.fail(err, "create the directory of device \"{s}\"", .{dev.path});
    };
    defer sys.close(parent);
    // O_PATH fds cannot be used with mknodat directly: go through the magic link's directory.
    var fp: mounts.FdPath = .{};
    const dir = sys.open(fp.of(parent), .{ .DIRECTORY = true, .CLOEXEC = true }, 0) catch |err| {
        return d.fail(err, "open the directory of device \"{s}\"", .{dev.path});
    };
    defer sys.close(dir);
    const name = dev.path[slash + 1 ..];
    sys.mknodat(dir, name, dev.mode, sys.makedev(dev.major, dev.minor)) catch |err| switch (err) {
        error.EXIST => return,
        error.PERM => return bindHost(root, dev, d),
        else => return d.fail(err, "create device \"{s}\"", .{dev.path}),
    };
    sys.fchownat(dir, name, dev.uid, dev.gid, linux.AT.SYMLINK_NOFOLLOW) catch |err| {
        return d.fail(err, "chown device \"{s}\"", .{dev.path});
    };
}

/// In a user namespace mknod is refused: bind the host's node instead (runc does the same).
fn bindHost(root: sys.fd_t, dev: *const spec.Device, d: *Diag) !void {
    const target = mounts.openInRoot(root, dev.path, .file) catch |err| {
        return d.fail(err, "create device \"{s}\"", .{dev.path});
    };
    defer sys.close(target);
    var fp: mounts.FdPath = .{};
    sys.mount(dev.path, fp.of(target), null, linux.MS.BIND, null) catch |err| {
        return d.fail(err, "bind device \"{s}\" from the host", .{dev.path});
    };
}

fn createLinks(root: sys.fd_t, d: *Diag) !void {
    const dev_path = mounts.openInRoot(root, "/dev", .dir) catch |err| return d.fail(err, "open /dev", .{});
    defer sys.close(dev_path);
    var fp: mounts.FdPath = .{};
    const dev = sys.open(fp.of(dev_path), .{ .DIRECTORY = true, .CLOEXEC = true }, 0) catch |err| {
        return d.fail(err, "open /dev", .{});
    };
    defer sys.close(dev);
    for (symlinks) |link| {
        sys.symlinkat(link[1], dev, link[0]) catch |err| switch (err) {
            error.EXIST => {},
            else => return d.fail(err, "symlink /dev/{s}", .{link[0]}),
        };
    }
    // /dev/ptmx must be the container's own devpts instance, whatever the image shipped.
    sys.unlinkat(dev, "ptmx", 0) catch |err| switch (err) {
        error.NOENT => {},
        else => return d.fail(err, "remove /dev/ptmx", .{}),
    };
    sys.symlinkat("pts/ptmx", dev, "ptmx") catch |err| return d.fail(err, "symlink /dev/ptmx", .{});
}
