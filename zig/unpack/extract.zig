//! The filesystem side of unpacking: every write lands inside the destination.
//!
//! The destination is opened once as a dirfd. Each entry's parent directory is resolved
//! under it with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): symlinks the archive made
//! earlier (even absolute ones or ".." chains) are resolved as if the destination were "/",
//! so they cannot lead out. The final component is a plain name (path.zig cleans "..") and
//! is created with *at() calls that never follow it (O_EXCL|O_NOFOLLOW, AT_SYMLINK_NOFOLLOW,
//! symlinkat, mknodat, linkat without AT_SYMLINK_FOLLOW). An existing entry is removed first,
//! except a directory that a directory entry updates in place.
const std = @import("std");
const assert = std.debug.assert;
const linux = std.os.linux;
const tar = @import("tar.zig");
const path = @import("path.zig");
const sys = @import("linux").sys;
const errnoOf = @import("linux").errno.of;
const strerror = @import("linux").errno.text;

const fd_t = linux.fd_t;
const E = linux.E;

/// Directories whose mtime is set at the end (creating their children would change it).
pub const max_deferred_dirs = 4 * 1024 * 1024;
/// Bytes of directory paths kept for that pass.
pub const max_deferred_bytes = 256 * 1024 * 1024;
/// Nesting of an existing tree that replacing it may remove (each level is a stack frame).
const max_remove_depth = 512;
/// Entries one replacement may remove in total.
const max_remove_entries = 100_000_000;
/// openat2 reports EAGAIN when a rename raced a ".." walk anywhere on the system.
const max_resolve_retries = 64;

pub const Error = error{ExtractFailed};

/// What went wrong, for the one-line message: "<op> [detail]: <errno text>".
pub const Failure = struct {
    op: []const u8,
    detail_buf: [300]u8 = undefined,
    detail_len: usize = 0,
    errno: ?E = null,

    pub fn detail(f: *const Failure) []const u8 {
        return f.detail_buf[0..f.detail_len];
    }
};

const Deferred = struct {
    offset: u32,
    len: u16,
    mtime: tar.Time,
};

/// How a copy (`tsd cp`) differs from a layer: what the archive may not decide.
pub const Options = struct {
    /// Every entry owned by this uid:gid instead of the archive's (Docker's cp without -a).
    owner: ?struct { uid: u32, gid: u32 } = null,
    /// Clear setuid, setgid (and sticky stays): a copy onto the host never gains privileges.
    strip_setid: bool = false,
    /// Create device nodes; otherwise they are skipped.
    devices: bool = true,
    /// Apply xattrs from the archive.
    xattrs: bool = true,
    /// Every name (and hard-link target) is put under this cleaned relative path: the name a
    /// copy takes at its destination. Empty: names as they are.
    prefix: []const u8 = "",
    /// An owner the user namespace cannot map (EINVAL) or may not give (EPERM) is left as the
    /// extracting user's: rootless tsd's single-id mapping (Podman's ignore_chown_errors).
    ignore_chown_errors: bool = false,
};

/// The errno's wording in an extraction's message (errno.zig's table); ENOSYS here is
/// openat2's, which Linux has since 5.6.
pub fn cause(e: E) []const u8 {
    if (e == .NOSYS) return comptime strerror(.NOSYS) ++ " (openat2 needs Linux 5.6)";
    return strerror(e);
}

pub const Extractor = struct {
    root: fd_t,
    layer: bool,
    /// An image archive: fifos and device nodes are refused, not created.
    archive: bool,
    allocator: std.mem.Allocator,
    opts: Options = .{},
    prefixed_buf: [path.buffer_len]u8 = undefined,
    prefixed_link_buf: [path.buffer_len]u8 = undefined,
    /// A one-entry cache of the last parent directory. Any removal may take a component
    /// of the cached path away (a file replacing "a" orphans a cached "a/b"), so removals
    /// mark it stale; the descriptor itself stays open until the next lookup, because
    /// the entry being processed may still be using it.
    cache_path: [path.buffer_len]u8 = undefined,
    cache_len: usize = 0,
    cache_fd: fd_t = -1,
    cache_valid: bool = false,
    /// Scratch buffers for cleaned names: entry path and parent, link target and parent.
    path_buf: [path.buffer_len]u8 = undefined,
    parent_buf: [path.buffer_len]u8 = undefined,
    link_buf: [path.buffer_len]u8 = undefined,
    link_parent_buf: [path.buffer_len]u8 = undefined,
    walk_buf: [path.buffer_len]u8 = undefined,
    proc_buf: [path.buffer_len + 32]u8 = undefined,
    dents: []u8 = &.{},
    removed: u64 = 0,
    deferred: std.ArrayListUnmanaged(Deferred) = .empty,
    deferred_paths: std.ArrayListUnmanaged(u8) = .empty,
    failure: Failure = .{ .op = "" },

    /// Opens `dest`. The Extractor is large (several path buffers): keep it on the heap.
    pub fn init(x: *Extractor, dest: [*:0]const u8, layer: bool, archive: bool, allocator: std.mem.Allocator) (Error || error{OutOfMemory})!void {
        assert(!(layer and archive));
        x.* = .{ .root = -1, .layer = layer, .archive = archive, .allocator = allocator };
        x.dents = try allocator.alloc(u8, 32 * 1024);
        const rc = linux.openat(linux.AT.FDCWD, dest, .{ .DIRECTORY = true, .CLOEXEC = true }, 0);
        x.root = @intCast(try x.check(rc, "cannot open destination directory"));
    }

    /// Extracts into an already open directory (duplicated: the caller keeps its descriptor),
    /// e.g. one resolved inside a container's root.
    pub fn initFd(x: *Extractor, dest: fd_t, opts: Options, allocator: std.mem.Allocator) (Error || error{OutOfMemory})!void {
        x.* = .{ .root = -1, .layer = false, .archive = false, .allocator = allocator, .opts = opts };
        x.dents = try allocator.alloc(u8, 32 * 1024);
        const rc = linux.fcntl(dest, 1030, 0); // F_DUPFD_CLOEXEC
        x.root = @intCast(try x.check(rc, "cannot open destination directory"));
    }

    /// `entry` as this extraction applies it: owner and mode bits the archive may not set.
    fn adjusted(x: *const Extractor, entry: *const tar.Entry) tar.Entry {
        var e = entry.*;
        if (x.opts.owner) |o| {
            e.uid = o.uid;
            e.gid = o.gid;
        }
        if (x.opts.strip_setid) e.mode &= ~@as(u32, 0o6000);
        if (!x.opts.xattrs) e.pax.records = "";
        return e;
    }

    /// `prefix/name` into `buf`, or `name` when there is no prefix.
    fn withPrefix(x: *Extractor, name: []const u8, buf: *[path.buffer_len]u8) Error![]const u8 {
        if (x.opts.prefix.len == 0) return name;
        const joined = std.fmt.bufPrint(buf[0..tar.max_path_len], "{s}/{s}", .{ x.opts.prefix, name }) catch
            return x.fail("invalid name", "(longer than 4096 bytes)", null);
        return joined;
    }

    pub fn deinit(x: *Extractor) void {
        if (x.cache_fd >= 0) _ = linux.close(x.cache_fd);
        if (x.root >= 0) _ = linux.close(x.root);
        if (x.dents.len > 0) x.allocator.free(x.dents);
        x.deferred.deinit(x.allocator);
        x.deferred_paths.deinit(x.allocator);
        x.* = undefined;
    }

    /// Creates everything but a regular file's data. For a regular file, returns the new
    /// file's descriptor: the caller writes `entry.size` bytes with `write`, then calls
    /// `finishFile`. Returns null when nothing more is to be done.
    pub fn begin(x: *Extractor, original: *const tar.Entry) Error!?fd_t {
        var copy = x.adjusted(original);
        copy.path = try x.withPrefix(original.path, &x.prefixed_buf);
        if (original.kind == .hardlink) copy.link = try x.withPrefix(original.link, &x.prefixed_link_buf);
        const entry = &copy;
        if (!x.opts.devices and (entry.kind == .char_device or entry.kind == .block_device)) return null;
        const name = path.clean(entry.path, &x.path_buf, &x.parent_buf) catch |err|
            return x.fail("invalid name", switch (err) {
                error.NameTooLong => "(longer than 4096 bytes)",
                error.InvalidName => "(contains a NUL byte)",
            }, null);
        if (name.isRoot()) return x.beginRoot(entry);
        // AUFS metadata directories at the layer root (.wh..wh.plnk, .wh..wh.aufs): not
        // part of the image's filesystem, skipped whole as Docker does.
        if (x.layer and std.mem.startsWith(u8, name.path, ".wh..wh.") and
            !std.mem.eql(u8, name.path, ".wh..wh..opq"))
        {
            return null;
        }
        if (x.layer and std.mem.startsWith(u8, name.base, ".wh.")) {
            try x.whiteout(entry, name);
            return null;
        }
        const parent = try x.openParent(name.parent);
        switch (entry.kind) {
            .file => return try x.createFile(parent, name.base),
            .directory => try x.directory(parent, name, entry),
            .symlink => try x.symlink(parent, name.base, entry),
            .hardlink => try x.hardlink(parent, name, entry),
            .char_device, .block_device, .fifo => {
                if (x.archive) return x.fail(switch (entry.kind) {
                    .fifo => "is a fifo",
                    .char_device => "is a character device",
                    else => "is a block device",
                }, "(an image archive holds only files, directories and links): refused", null);
                try x.special(parent, name.base, entry);
            },
        }
        return null;
    }

    /// The "./" entry: the destination itself. Only a directory may describe it.
    fn beginRoot(x: *Extractor, entry: *const tar.Entry) Error!?fd_t {
        if (entry.kind != .directory) return x.fail("entry names the destination itself", "", null);
        const rc = linux.openat(x.root, ".", .{ .DIRECTORY = true, .CLOEXEC = true }, 0);
        const fd: fd_t = @intCast(try x.check(rc, "cannot open destination directory"));
        defer _ = linux.close(fd);
        try x.applyFd(fd, entry);
        try x.deferTime("", entry.mtime);
        return null;
    }

    /// Writes all of `bytes` to a file begun with `begin`.
    pub fn write(x: *Extractor, fd: fd_t, bytes: []const u8) Error!void {
        var done: usize = 0;
        // Each pass writes at least one byte or fails.
        while (done < bytes.len) {
            const rc = linux.write(fd, bytes[done..].ptr, bytes.len - done);
            if (errnoOf(rc) == .INTR) continue;
            const n = try x.check(rc, "cannot write file");
            if (n == 0) return x.fail("cannot write file", "", .NOSPC);
            done += n;
        }
    }

    /// Ownership, xattrs, mode (after chown, which clears setuid bits and capabilities)
    /// and mtime of a regular file; closes it.
    pub fn finishFile(x: *Extractor, fd: fd_t, original: *const tar.Entry) Error!void {
        defer _ = linux.close(fd);
        const copy = x.adjusted(original);
        const entry = &copy;
        try x.applyFd(fd, entry);
        const times = timespecs(entry.mtime);
        _ = try x.check(linux.futimens(fd, &times), "cannot set modification time");
    }

    /// Sets directory mtimes, now that nothing more will be created in them.
    pub fn finish(x: *Extractor) Error!void {
        for (x.deferred.items) |item| {
            const name = x.deferred_paths.items[item.offset..][0..item.len];
            assert(name.len < path.buffer_len);
            @memcpy(x.walk_buf[0..name.len], name);
            x.walk_buf[name.len] = 0;
            const target: [*:0]const u8 = if (name.len == 0) "." else x.walk_buf[0..name.len :0];
            const rc = x.resolve(x.root, target, .{ .DIRECTORY = true, .NOFOLLOW = true, .CLOEXEC = true });
            switch (errnoOf(rc)) {
                .SUCCESS => {},
                // A later entry replaced or removed it: its time is not ours to set.
                .NOENT, .NOTDIR, .LOOP => continue,
                else => |e| return x.failNamed("cannot open directory", name, e),
            }
            const fd: fd_t = @intCast(rc);
            defer _ = linux.close(fd);
            const times = timespecs(item.mtime);
            _ = try x.check(linux.futimens(fd, &times), "cannot set directory modification time");
        }
    }

    fn createFile(x: *Extractor, parent: fd_t, base: [:0]const u8) Error!fd_t {
        const flags: linux.O = .{ .ACCMODE = .WRONLY, .CREAT = true, .EXCL = true, .NOFOLLOW = true, .CLOEXEC = true };
        var rc = linux.openat(parent, base, flags, 0o600);
        if (errnoOf(rc) == .EXIST) {
            try x.remove(parent, base, 0);
            rc = linux.openat(parent, base, flags, 0o600);
        }
        return @intCast(try x.check(rc, "cannot create file"));
    }

    fn directory(x: *Extractor, parent: fd_t, name: path.Clean, entry: *const tar.Entry) Error!void {
        var rc = linux.mkdirat(parent, name.base, 0o700);
        if (errnoOf(rc) == .EXIST and !try x.isDirectory(parent, name.base)) {
            try x.remove(parent, name.base, 0);
            rc = linux.mkdirat(parent, name.base, 0o700);
        }
        if (errnoOf(rc) != .EXIST) _ = try x.check(rc, "cannot create directory");
        const open_rc = linux.openat(parent, name.base, .{ .DIRECTORY = true, .NOFOLLOW = true, .CLOEXEC = true }, 0);
        const fd: fd_t = @intCast(try x.check(open_rc, "cannot open directory"));
        defer _ = linux.close(fd);
        try x.applyFd(fd, entry);
        try x.deferTime(name.path, entry.mtime);
    }

    fn symlink(x: *Extractor, parent: fd_t, base: [:0]const u8, entry: *const tar.Entry) Error!void {
        if (entry.link.len == 0) return x.fail("symlink has an empty target", "", null);
        if (std.mem.indexOfScalar(u8, entry.link, 0) != null) return x.fail("symlink target contains a NUL byte", "", null);
        // The target is stored as written: it is only text until something resolves it,
        // and everything here resolves under RESOLVE_IN_ROOT.
        assert(entry.link.len <= tar.max_path_len);
        @memcpy(x.link_buf[0..entry.link.len], entry.link);
        x.link_buf[entry.link.len] = 0;
        const target = x.link_buf[0..entry.link.len :0];
        var rc = linux.symlinkat(target, parent, base);
        if (errnoOf(rc) == .EXIST) {
            try x.remove(parent, base, 0);
            rc = linux.symlinkat(target, parent, base);
        }
        _ = try x.check(rc, "cannot create symlink");
        try x.applyAt(parent, base, entry, false);
    }

    fn special(x: *Extractor, parent: fd_t, base: [:0]const u8, entry: *const tar.Entry) Error!void {
        const file_type: u32 = switch (entry.kind) {
            .char_device => linux.S.IFCHR,
            .block_device => linux.S.IFBLK,
            .fifo => linux.S.IFIFO,
            else => unreachable,
        };
        const dev = sys.makedev(entry.dev_major, entry.dev_minor);
        var rc = linux.mknodat(parent, base, file_type | 0o600, dev);
        if (errnoOf(rc) == .EXIST) {
            try x.remove(parent, base, 0);
            rc = linux.mknodat(parent, base, file_type | 0o600, dev);
        }
        _ = try x.check(rc, "cannot create device node");
        try x.applyAt(parent, base, entry, true);
    }

    /// A hard link's target is another name in the archive, resolved inside the
    /// destination; linkat without AT_SYMLINK_FOLLOW links a symlink itself, never what it
    /// points to.
    fn hardlink(x: *Extractor, parent: fd_t, name: path.Clean, entry: *const tar.Entry) Error!void {
        const target = path.clean(entry.link, &x.link_buf, &x.link_parent_buf) catch
            return x.fail("invalid hard link target", "", null);
        if (target.isRoot()) return x.fail("hard link target is the destination itself", "", null);
        if (std.mem.eql(u8, target.path, name.path)) return;
        const target_rc = x.resolve(x.root, if (target.parent.len == 0) "." else target.parent, .{ .PATH = true, .DIRECTORY = true, .CLOEXEC = true });
        if (errnoOf(target_rc) != .SUCCESS) {
            return x.failNamed("cannot find hard link target", target.path, errnoOf(target_rc));
        }
        const target_parent: fd_t = @intCast(target_rc);
        defer _ = linux.close(target_parent);
        var rc = linux.linkat(target_parent, target.base, parent, name.base, 0);
        if (errnoOf(rc) == .EXIST) {
            try x.remove(parent, name.base, 0);
            rc = linux.linkat(target_parent, target.base, parent, name.base, 0);
        }
        if (errnoOf(rc) != .SUCCESS) {
            return x.failNamed("cannot create hard link to", target.path, errnoOf(rc));
        }
    }

    /// AUFS whiteouts become overlayfs ones: `.wh.name` a 0:0 character device `name`,
    /// `.wh..wh..opq` the opaque xattr on the directory. Other `.wh..wh.*` are AUFS
    /// bookkeeping (hard link storage, ...) and are dropped, as Docker does.
    fn whiteout(x: *Extractor, entry: *const tar.Entry, name: path.Clean) Error!void {
        const opaque_marker = ".wh..wh..opq";
        if (std.mem.eql(u8, name.base, opaque_marker)) {
            const parent = try x.openParent(name.parent);
            const rc = linux.openat(parent, ".", .{ .DIRECTORY = true, .CLOEXEC = true }, 0);
            const fd: fd_t = @intCast(try x.check(rc, "cannot open directory"));
            defer _ = linux.close(fd);
            const set = linux.fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0);
            if (errnoOf(set) == .SUCCESS) return;
            // Rootless (a user namespace) may not set trusted.*: overlayfs mounted there with
            // `userxattr` reads user.overlay.opaque instead.
            if (errnoOf(set) != .PERM) {
                return x.failNamed("cannot set xattr", "trusted.overlay.opaque", errnoOf(set));
            }
            const user = linux.fsetxattr(fd, "user.overlay.opaque", "y", 1, 0);
            if (errnoOf(user) != .SUCCESS) {
                return x.failNamed("cannot set xattr", "user.overlay.opaque", errnoOf(user));
            }
            return;
        }
        if (std.mem.startsWith(u8, name.base, ".wh..wh.")) return;
        const hidden: [:0]const u8 = name.base[".wh.".len..];
        if (hidden.len == 0 or std.mem.eql(u8, hidden, ".") or std.mem.eql(u8, hidden, "..")) {
            return x.fail("invalid whiteout name", "", null);
        }
        const parent = try x.openParent(name.parent);
        try x.remove(parent, hidden, 0);
        _ = try x.check(linux.mknodat(parent, hidden, linux.S.IFCHR, 0), "cannot create whiteout");
        try x.checkChown(sys.raw.fchownat(parent, hidden, entry.uid, entry.gid, linux.AT.SYMLINK_NOFOLLOW));
    }

    /// Metadata through an open descriptor: files and directories.
    fn applyFd(x: *Extractor, fd: fd_t, entry: *const tar.Entry) Error!void {
        try x.checkChown(linux.fchown(fd, entry.uid, entry.gid));
        var it = entry.pax.xattrs();
        while (it.next()) |xattr| {
            const name = nameZ(xattr.name);
            const rc = linux.fsetxattr(fd, &name, xattr.value.ptr, xattr.value.len, 0);
            try x.checkXattr(rc, xattr.name, false);
        }
        _ = try x.check(linux.fchmod(fd, entry.mode), "cannot change mode");
    }

    /// Metadata by name under `parent`, never following the final component: symlinks,
    /// device nodes and fifos (opening a fifo or device to get a descriptor could block or
    /// have side effects).
    fn applyAt(x: *Extractor, parent: fd_t, base: [:0]const u8, entry: *const tar.Entry, chmod: bool) Error!void {
        try x.checkChown(sys.raw.fchownat(parent, base, entry.uid, entry.gid, linux.AT.SYMLINK_NOFOLLOW));
        var it = entry.pax.xattrs();
        if (it.next()) |first| {
            // lsetxattr takes a path: the parent's fd through /proc, then the plain name,
            // which lsetxattr does not follow.
            const proc = std.fmt.bufPrintZ(&x.proc_buf, "/proc/self/fd/{d}/{s}", .{ parent, base }) catch
                return x.fail("name too long for xattrs", "", .NAMETOOLONG);
            var xattr: ?tar.Xattr = first;
            while (xattr) |attr| : (xattr = it.next()) {
                const name = nameZ(attr.name);
                const set = linux.lsetxattr(proc, &name, attr.value.ptr, attr.value.len, 0);
                try x.checkXattr(set, attr.name, !chmod);
            }
        }
        // Symlink modes mean nothing on Linux (and fchmodat would follow the link).
        if (chmod) _ = try x.check(linux.fchmodat(parent, base, entry.mode, 0), "cannot change mode");
        const times = timespecs(entry.mtime);
        _ = try x.check(linux.utimensat(parent, base, &times, linux.AT.SYMLINK_NOFOLLOW), "cannot set modification time");
    }

    /// A filesystem without xattr support (or user.* on a symlink) loses the xattr, as with
    /// Docker; any other failure is an error.
    fn checkXattr(x: *Extractor, rc: usize, name: []const u8, is_symlink: bool) Error!void {
        switch (errnoOf(rc)) {
            .SUCCESS, .OPNOTSUPP => {},
            .PERM => if (!is_symlink) return x.failNamed("cannot set xattr", name, .PERM),
            else => |e| return x.failNamed("cannot set xattr", name, e),
        }
    }

    fn deferTime(x: *Extractor, name: []const u8, mtime: tar.Time) Error!void {
        if (x.deferred.items.len == max_deferred_dirs or
            x.deferred_paths.items.len + name.len > max_deferred_bytes)
        {
            return x.fail("too many directories", "(limit of the deferred mtime list)", null);
        }
        assert(name.len <= tar.max_path_len);
        const offset: u32 = @intCast(x.deferred_paths.items.len);
        x.deferred_paths.appendSlice(x.allocator, name) catch return x.fail("out of memory", "", .NOMEM);
        x.deferred.append(x.allocator, .{ .offset = offset, .len = @intCast(name.len), .mtime = mtime }) catch
            return x.fail("out of memory", "", .NOMEM);
    }

    /// The directory `parent` (relative, cleaned), resolved under the root, created when
    /// missing (0755, as Docker does). Owned by the cache: callers do not close it.
    fn openParent(x: *Extractor, parent: [:0]const u8) Error!fd_t {
        if (parent.len == 0) return x.root;
        if (x.cache_valid and std.mem.eql(u8, x.cache_path[0..x.cache_len], parent)) return x.cache_fd;
        const rc = x.resolve(x.root, parent, .{ .PATH = true, .DIRECTORY = true, .CLOEXEC = true });
        const fd: fd_t = switch (errnoOf(rc)) {
            .SUCCESS => @intCast(rc),
            .NOENT => try x.makeParents(parent),
            else => |e| return x.failNamed("cannot open parent directory", parent, e),
        };
        if (x.cache_fd >= 0) _ = linux.close(x.cache_fd);
        @memcpy(x.cache_path[0..parent.len], parent);
        x.cache_len = parent.len;
        x.cache_fd = fd;
        x.cache_valid = true;
        return fd;
    }

    /// Walks `parent` one component at a time from the root, creating what is missing.
    fn makeParents(x: *Extractor, parent: [:0]const u8) Error!fd_t {
        @memcpy(x.walk_buf[0..parent.len], parent);
        x.walk_buf[parent.len] = 0;
        var dir: fd_t = x.root;
        errdefer if (dir != x.root) {
            _ = linux.close(dir);
        };
        var start: usize = 0;
        // One pass per component: at most parent.len / 2 + 1.
        while (start < parent.len) {
            const end = std.mem.indexOfScalarPos(u8, parent, start, '/') orelse parent.len;
            x.walk_buf[end] = 0;
            const prefix = x.walk_buf[0..end :0];
            const component = parent[start..end];
            assert(component.len > 0 and !std.mem.eql(u8, component, ".."));
            var rc = x.resolve(x.root, prefix, .{ .PATH = true, .DIRECTORY = true, .CLOEXEC = true });
            if (errnoOf(rc) == .NOENT) {
                const leaf = x.walk_buf[start..end :0];
                const made = linux.mkdirat(dir, leaf, 0o755);
                if (errnoOf(made) != .SUCCESS and errnoOf(made) != .EXIST) {
                    return x.failNamed("cannot create directory", prefix, errnoOf(made));
                }
                // mkdirat's mode is subject to the umask.
                if (errnoOf(made) == .SUCCESS) _ = linux.fchmodat(dir, leaf, 0o755, 0);
                rc = x.resolve(x.root, prefix, .{ .PATH = true, .DIRECTORY = true, .CLOEXEC = true });
            }
            if (errnoOf(rc) == .NOENT and x.isSymlink(dir, x.walk_buf[start..end :0])) {
                // Docker would create the directories the link points to; a dangling link
                // in a parent only comes from a crafted archive, so it is refused instead.
                return x.failNamed("parent is a symlink to a missing directory:", prefix, null);
            }
            if (errnoOf(rc) != .SUCCESS) return x.failNamed("cannot open parent directory", prefix, errnoOf(rc));
            if (dir != x.root) _ = linux.close(dir);
            dir = @intCast(rc);
            if (end < parent.len) x.walk_buf[end] = '/';
            start = end + 1;
        }
        assert(dir != x.root);
        return dir;
    }

    /// openat2 under `dir` as the root: symlinks and ".." stay inside; /proc magic links
    /// (which jump anywhere) are refused.
    fn resolve(x: *Extractor, dir: fd_t, name: [*:0]const u8, flags: linux.O) usize {
        _ = x;
        const how: sys.OpenHow = .{
            .flags = @as(u32, @bitCast(flags)),
            .resolve = sys.RESOLVE.IN_ROOT | sys.RESOLVE.NO_MAGICLINKS,
        };
        var rc: usize = 0;
        for (0..max_resolve_retries) |_| {
            rc = sys.raw.openat2(dir, name, &how);
            if (errnoOf(rc) != .AGAIN and errnoOf(rc) != .INTR) break;
        }
        return rc;
    }

    fn isSymlink(x: *Extractor, parent: fd_t, base: [:0]const u8) bool {
        _ = x;
        var st: linux.Stat = undefined;
        if (errnoOf(linux.fstatat(parent, base, &st, linux.AT.SYMLINK_NOFOLLOW)) != .SUCCESS) return false;
        return linux.S.ISLNK(st.mode);
    }

    fn isDirectory(x: *Extractor, parent: fd_t, base: [:0]const u8) Error!bool {
        var st: linux.Stat = undefined;
        _ = try x.check(linux.fstatat(parent, base, &st, linux.AT.SYMLINK_NOFOLLOW), "cannot stat existing entry");
        return linux.S.ISDIR(st.mode);
    }

    /// Removes whatever is at `parent/base` (a whole tree for a directory); absent is fine.
    fn remove(x: *Extractor, parent: fd_t, base: [*:0]const u8, depth: usize) Error!void {
        x.cache_valid = false;
        const rc = linux.unlinkat(parent, base, 0);
        switch (errnoOf(rc)) {
            .SUCCESS, .NOENT => return,
            .ISDIR => {},
            else => |e| return x.failNamed("cannot remove existing", std.mem.span(base), e),
        }
        try x.removeTree(parent, base, depth);
    }

    fn removeTree(x: *Extractor, parent: fd_t, base: [*:0]const u8, depth: usize) Error!void {
        const rmdir = linux.unlinkat(parent, base, linux.AT.REMOVEDIR);
        switch (errnoOf(rmdir)) {
            .SUCCESS, .NOENT => return,
            .NOTEMPTY, .EXIST => {},
            else => |e| return x.failNamed("cannot remove existing directory", std.mem.span(base), e),
        }
        if (depth == max_remove_depth) return x.fail("existing directory tree is too deep to replace", "", null);
        const rc = linux.openat(parent, base, .{ .DIRECTORY = true, .NOFOLLOW = true, .CLOEXEC = true }, 0);
        const fd: fd_t = @intCast(try x.check(rc, "cannot open existing directory"));
        defer _ = linux.close(fd);
        // Each pass removes at least one child or finds the directory empty; a removal
        // that recursed clobbered the shared dents buffer, so the listing restarts.
        while (try x.removeSome(fd, depth)) {}
        _ = try x.check(linux.unlinkat(parent, base, linux.AT.REMOVEDIR), "cannot remove existing directory");
    }

    /// One listing pass over `fd`: unlinks non-directories, recurses into the first
    /// directory. Returns true when the listing must restart.
    fn removeSome(x: *Extractor, fd: fd_t, depth: usize) Error!bool {
        _ = try x.check(linux.lseek(fd, 0, linux.SEEK.SET), "cannot list existing directory");
        var any = false;
        while (true) {
            const rc = linux.getdents64(fd, x.dents.ptr, x.dents.len);
            const n = try x.check(rc, "cannot list existing directory");
            if (n == 0) return any;
            var pos: usize = 0;
            while (pos < n) {
                const dirent: *align(1) const linux.dirent64 = @ptrCast(x.dents[pos..].ptr);
                pos += dirent.reclen;
                const name_ptr: [*:0]const u8 = @ptrCast(&dirent.name);
                const child = std.mem.span(name_ptr);
                if (std.mem.eql(u8, child, ".") or std.mem.eql(u8, child, "..")) continue;
                x.removed += 1;
                if (x.removed > max_remove_entries) return x.fail("too many existing entries to remove", "", null);
                any = true;
                if (dirent.type != linux.DT.DIR) {
                    const unlinked = linux.unlinkat(fd, name_ptr, 0);
                    if (errnoOf(unlinked) != .ISDIR) {
                        _ = try x.check(unlinked, "cannot remove existing entry");
                        continue;
                    }
                }
                var child_name: [256:0]u8 = undefined;
                assert(child.len < child_name.len);
                @memcpy(child_name[0..child.len], child);
                child_name[child.len] = 0;
                try x.removeTree(fd, &child_name, depth + 1);
                return true;
            }
        }
    }

    fn checkChown(x: *Extractor, rc: usize) Error!void {
        const e = errnoOf(rc);
        if (x.opts.ignore_chown_errors and (e == .INVAL or e == .PERM)) return;
        _ = try x.check(rc, "cannot change owner");
    }

    fn check(x: *Extractor, rc: usize, op: []const u8) Error!usize {
        const e = errnoOf(rc);
        if (e == .SUCCESS) return rc;
        return x.fail(op, "", e);
    }

    fn fail(x: *Extractor, op: []const u8, detail: []const u8, errno: ?E) error{ExtractFailed} {
        x.failure = .{ .op = op, .errno = errno };
        const n = @min(detail.len, x.failure.detail_buf.len);
        @memcpy(x.failure.detail_buf[0..n], detail[0..n]);
        x.failure.detail_len = n;
        return error.ExtractFailed;
    }

    /// A failure about another name (a link target, an xattr, a parent): quoted.
    fn failNamed(x: *Extractor, op: []const u8, name: []const u8, errno: ?E) error{ExtractFailed} {
        var buf: [300]u8 = undefined;
        const detail = std.fmt.bufPrint(&buf, "\"{s}\"", .{name[0..@min(name.len, 200)]}) catch unreachable;
        return x.fail(op, detail, errno);
    }
};

fn nameZ(name: []const u8) [tar.max_xattr_name_len + 1:0]u8 {
    assert(name.len <= tar.max_xattr_name_len);
    var buf: [tar.max_xattr_name_len + 1:0]u8 = @splat(0);
    @memcpy(buf[0..name.len], name);
    return buf;
}

fn timespecs(t: tar.Time) [2]linux.timespec {
    const ts: linux.timespec = .{ .sec = @intCast(t.sec), .nsec = @intCast(t.nsec) };
    // atime = mtime: the archive has no atime worth keeping, and a stable one keeps
    // layers reproducible.
    return .{ ts, ts };
}
