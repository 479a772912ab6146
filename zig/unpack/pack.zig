//! Packing a directory tree as a tar stream, walked entirely fd-relative: the tree may belong
//! to a running (hostile) container that swaps directories for symlinks while we walk.
//!
//! Every entry is reached from its parent's descriptor with a single plain name (never a
//! path), opened with O_NOFOLLOW, and described by fstat on the opened descriptor: a symlink
//! is packed as a symlink, never followed, so no swap can make the walk read outside the tree
//! it started in. A regular file is opened non-blocking and checked to still be the inode the
//! listing saw before a byte is read; anything that changed type in between is skipped.
//! Device nodes are never opened.
const std = @import("std");
const assert = std.debug.assert;
const linux = std.os.linux;
const tar = @import("tar.zig");
const sys = @import("linux").sys;
const errnoOf = @import("linux").errno.of;
const strerror = @import("linux").errno.text;
const Message = @import("linux").message.Message;
const Sha256 = @import("sha256.zig").Sha256;

const fd_t = linux.fd_t;
const E = linux.E;

/// Directory nesting below the start; deeper trees are refused (each level holds a dirfd
/// and a listing buffer).
pub const max_depth = 256;
/// Entries per stream, the unpacker's own limit.
pub const max_entries = tar.max_entries;
/// Entries and name bytes of one directory (it is listed whole, then sorted).
const max_dir_entries = 4 * 1024 * 1024;
const max_dir_names = 256 * 1024 * 1024;
/// Bytes of one directory listing batch per level.
const dents_len = 8 * 1024;
/// A PAX header body (names, link targets, xattrs): what the unpacker accepts.
const pax_len = tar.max_pax_len;
/// Bytes of xattr names one file may list (XATTR_LIST_MAX).
const xattr_list_len = 65536;
/// Bytes of names remembered for hard links.
const max_link_names = 64 * 1024 * 1024;

pub const Options = struct {
    /// Emit the starting point itself (named "."); otherwise only what is below it.
    root_entry: bool = true,
    /// Carry xattrs as PAX `SCHILY.xattr.*` (not overlay's own, nor the host's SELinux label).
    xattrs: bool = false,
    /// Pack character and block devices (as nodes, never their contents); else skip them.
    devices: bool = false,
    /// The tree is an overlay upper dir becoming an OCI layer: whiteout devices become
    /// `.wh.NAME`, an opaque directory gets `.wh..wh..opq`, the runtime's empty mount stubs
    /// (etc/hostname, etc/hosts, etc/resolv.conf) are left out.
    layer: bool = false,
    /// Do not descend into other filesystems (mount points are packed as empty directories).
    one_filesystem: bool = false,
};

pub const Error = error{PackFailed};

/// A buffered tar writer onto a descriptor (a pipe or a file); with `sha`, the stream's sha256
/// is taken as it is written (a layer's diffID with no second read).
pub const Writer = struct {
    fd: fd_t,
    buf: [64 * 1024]u8 = undefined,
    len: usize = 0,
    total: u64 = 0,
    failed: ?E = null,
    sha: ?*Sha256 = null,

    pub fn put(w: *Writer, bytes: []const u8) error{WriteFailed}!void {
        var rest = bytes;
        // Each pass fills the buffer or takes all of rest.
        while (rest.len > 0) {
            if (w.len == w.buf.len) try w.flush();
            const n = @min(rest.len, w.buf.len - w.len);
            @memcpy(w.buf[w.len..][0..n], rest[0..n]);
            w.len += n;
            w.total += n;
            rest = rest[n..];
        }
    }

    pub fn zeros(w: *Writer, count: usize) error{WriteFailed}!void {
        const zero: [tar.block_len]u8 = @splat(0);
        var left = count;
        while (left > 0) {
            const n = @min(left, zero.len);
            try w.put(zero[0..n]);
            left -= n;
        }
    }

    pub fn flush(w: *Writer) error{WriteFailed}!void {
        if (w.sha) |h| h.update(w.buf[0..w.len]);
        var done: usize = 0;
        while (done < w.len) {
            const rc = linux.write(w.fd, w.buf[done..].ptr, w.len - done);
            switch (errnoOf(rc)) {
                .SUCCESS => {},
                .INTR => continue,
                else => |e| {
                    w.failed = e;
                    return error.WriteFailed;
                },
            }
            if (rc == 0) {
                w.failed = .PIPE;
                return error.WriteFailed;
            }
            done += rc;
        }
        w.len = 0;
    }

    /// The two zero blocks that end an archive, then everything flushed.
    pub fn end(w: *Writer) error{WriteFailed}!void {
        try w.zeros(2 * tar.block_len);
        try w.flush();
    }
};

pub const Kind = enum { file, hardlink, symlink, char_device, block_device, directory, fifo };

pub const Header = struct {
    name: []const u8,
    kind: Kind,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64 = 0,
    mtime: i64,
    link: []const u8 = "",
    dev_major: u32 = 0,
    dev_minor: u32 = 0,
    /// Complete PAX records to add (already formatted), e.g. xattrs.
    extra_pax: []const u8 = "",
};

/// Formats one PAX record `"<len> key=value\n"` into `out`; returns its length.
pub fn paxRecord(out: []u8, key: []const u8, value: []const u8) error{NoSpaceLeft}!usize {
    const body = 1 + key.len + 1 + value.len + 1; // " key=value\n"
    var digits: usize = 1;
    // The length counts its own digits: at most 20 passes for a u64.
    while (std.math.pow(usize, 10, digits) <= body + digits) digits += 1;
    const len = body + digits;
    if (len > out.len) return error.NoSpaceLeft;
    const written = std.fmt.bufPrint(out, "{d} {s}=", .{ len, key }) catch return error.NoSpaceLeft;
    @memcpy(out[written.len..][0..value.len], value);
    out[written.len + value.len] = '\n';
    assert(written.len + value.len + 1 == len);
    return len;
}

fn typeflag(kind: Kind) u8 {
    return switch (kind) {
        .file => '0',
        .hardlink => '1',
        .symlink => '2',
        .char_device => '3',
        .block_device => '4',
        .directory => '5',
        .fifo => '6',
    };
}

fn octal(field: []u8, value: u64) bool {
    // field.len - 1 digits and a NUL.
    const digits = field.len - 1;
    if (digits < 22 and value >= (@as(u64, 1) << @as(u6, @intCast(3 * digits)))) return false;
    var v = value;
    var i = digits;
    while (i > 0) {
        i -= 1;
        field[i] = '0' + @as(u8, @intCast(v & 7));
        v >>= 3;
    }
    field[digits] = 0;
    return true;
}

/// One ustar header block for `h`, with what ustar cannot hold in `pax` (a buffer of at
/// least pax_len bytes); returns the PAX body length (0: none needed).
pub fn formatHeader(h: *const Header, block: *[tar.block_len]u8, pax: []u8) error{NoSpaceLeft}!usize {
    @memset(block, 0);
    var pax_used: usize = 0;
    const name_fits = h.name.len <= 100;
    if (name_fits) {
        @memcpy(block[0..h.name.len], h.name);
    } else {
        pax_used += try paxRecord(pax[pax_used..], "path", h.name);
        @memcpy(block[0..100], h.name[0..100]);
    }
    if (h.link.len <= 100) {
        @memcpy(block[157..][0..h.link.len], h.link);
    } else {
        pax_used += try paxRecord(pax[pax_used..], "linkpath", h.link);
    }
    var num: [24]u8 = undefined;
    _ = octal(block[100..108], h.mode & 0o7777);
    if (!octal(block[108..116], h.uid)) {
        pax_used += try paxRecord(pax[pax_used..], "uid", std.fmt.bufPrint(&num, "{d}", .{h.uid}) catch unreachable);
        _ = octal(block[108..116], 0);
    }
    if (!octal(block[116..124], h.gid)) {
        pax_used += try paxRecord(pax[pax_used..], "gid", std.fmt.bufPrint(&num, "{d}", .{h.gid}) catch unreachable);
        _ = octal(block[116..124], 0);
    }
    const size = if (h.kind == .file) h.size else 0;
    if (!octal(block[124..136], size)) {
        pax_used += try paxRecord(pax[pax_used..], "size", std.fmt.bufPrint(&num, "{d}", .{size}) catch unreachable);
        _ = octal(block[124..136], 0);
    }
    _ = octal(block[136..148], @intCast(@max(h.mtime, 0)));
    block[156] = typeflag(h.kind);
    @memcpy(block[257..263], "ustar\x00");
    @memcpy(block[263..265], "00");
    _ = octal(block[329..337], h.dev_major);
    _ = octal(block[337..345], h.dev_minor);
    if (h.extra_pax.len > pax.len - pax_used) return error.NoSpaceLeft;
    @memcpy(pax[pax_used..][0..h.extra_pax.len], h.extra_pax);
    pax_used += h.extra_pax.len;
    checksum(block);
    return pax_used;
}

fn checksum(block: *[tar.block_len]u8) void {
    @memset(block[148..156], ' ');
    var sum: u32 = 0;
    for (block) |c| sum += c;
    _ = octal(block[148..155], sum);
}

const Level = struct {
    fd: fd_t,
    dents: []u8,
    /// The directory's entry names (NUL-terminated) and where each starts, for sorting.
    names: std.ArrayListUnmanaged(u8) = .empty,
    offsets: std.ArrayListUnmanaged(u32) = .empty,
    /// Length of the directory's name in the walker's name buffer.
    name_len: usize,
};

const LinkKey = struct { dev: u64, ino: u64 };
const LinkName = struct { offset: u32, len: u16 };

/// A whole walk: `parent/base` packed onto `w` (its entries named under `prefix` when given,
/// as packAs) and the archive ended, by a Walker that lives for the call (page-allocated: its
/// buffers are large). error.PackFailed: `msg` says why, `failure.*` is its errno if it had one.
pub fn packTree(
    w: *Writer,
    opts: Options,
    msg: Message,
    parent: fd_t,
    base: [:0]const u8,
    prefix: ?[]const u8,
    failure: *?E,
) (Error || error{OutOfMemory})!void {
    const allocator = std.heap.page_allocator;
    const wk = try allocator.create(Walker);
    defer allocator.destroy(wk);
    try wk.init(w, opts, allocator, msg);
    defer wk.deinit();
    errdefer failure.* = wk.failure;
    if (prefix) |p| try wk.packAs(parent, base, p) else try wk.pack(parent, base);
    try wk.finish();
}

pub const Walker = struct {
    w: *Writer,
    opts: Options,
    allocator: std.mem.Allocator,
    msg: Message,
    levels: [max_depth]Level = undefined,
    depth: usize = 0,
    name: [tar.max_path_len + 1]u8 = undefined,
    pax: []u8 = &.{},
    xattr_names: []u8 = &.{},
    xattr_value: []u8 = &.{},
    xattr_pax: []u8 = &.{},
    copy_buf: []u8 = &.{},
    link_target: [tar.max_path_len + 1]u8 = undefined,
    links: std.AutoHashMapUnmanaged(LinkKey, LinkName) = .empty,
    link_names: std.ArrayListUnmanaged(u8) = .empty,
    entries: u64 = 0,
    root_dev: u64 = 0,
    /// Entries skipped because they changed type while walked (a live container).
    changed: u64 = 0,
    /// The errno of the failure `msg` describes, when it had one (the copy helper's exit status).
    failure: ?E = null,

    pub fn init(wk: *Walker, w: *Writer, opts: Options, allocator: std.mem.Allocator, msg: Message) error{OutOfMemory}!void {
        wk.* = .{ .w = w, .opts = opts, .allocator = allocator, .msg = msg };
        errdefer wk.deinit();
        wk.pax = try allocator.alloc(u8, pax_len);
        wk.xattr_names = try allocator.alloc(u8, xattr_list_len);
        wk.xattr_value = try allocator.alloc(u8, tar.max_xattr_value_len);
        wk.xattr_pax = try allocator.alloc(u8, pax_len / 2);
        wk.copy_buf = try allocator.alloc(u8, 256 * 1024);
        for (&wk.levels) |*l| l.* = .{ .fd = -1, .dents = &.{}, .name_len = 0 };
    }

    pub fn deinit(wk: *Walker) void {
        for (&wk.levels) |*l| {
            if (l.dents.len > 0) wk.allocator.free(l.dents);
            if (l.fd >= 0) _ = linux.close(l.fd);
            l.names.deinit(wk.allocator);
            l.offsets.deinit(wk.allocator);
        }
        for ([_][]u8{ wk.pax, wk.xattr_names, wk.xattr_value, wk.xattr_pax, wk.copy_buf }) |b| {
            if (b.len > 0) wk.allocator.free(b);
        }
        wk.links.deinit(wk.allocator);
        wk.link_names.deinit(wk.allocator);
    }

    /// Packs `parent/base` (a plain name, or "." for `parent` itself) and, for a directory,
    /// everything below it. Names in the stream are relative to it: "." and then "a", "a/b".
    pub fn pack(wk: *Walker, parent: fd_t, base: [:0]const u8) Error!void {
        assert(std.mem.indexOfScalar(u8, base, '/') == null);
        var st: linux.Stat = undefined;
        const rc = linux.fstatat(parent, base, &st, linux.AT.SYMLINK_NOFOLLOW);
        if (errnoOf(rc) != .SUCCESS) return wk.fail("cannot stat the source", base, errnoOf(rc));
        wk.root_dev = st.dev;
        try wk.entry(parent, base, st, 0, wk.opts.root_entry);
    }

    /// Packs `parent/base` like pack(), its entries named under `prefix` ("etc", "etc/group";
    /// "." and "./group" for a directory's contents), as `docker cp CONTAINER:PATH -` names them.
    pub fn packAs(wk: *Walker, parent: fd_t, base: [:0]const u8, prefix: []const u8) Error!void {
        assert(std.mem.indexOfScalar(u8, base, '/') == null);
        assert(prefix.len > 0 and prefix.len <= tar.max_path_len);
        var st: linux.Stat = undefined;
        const rc = linux.fstatat(parent, base, &st, linux.AT.SYMLINK_NOFOLLOW);
        if (errnoOf(rc) != .SUCCESS) return wk.fail("cannot stat the source", base, errnoOf(rc));
        wk.root_dev = st.dev;
        @memcpy(wk.name[0..prefix.len], prefix);
        try wk.entry(parent, base, st, prefix.len, true);
    }

    pub fn finish(wk: *Walker) Error!void {
        wk.w.end() catch return wk.writeFailed();
    }

    fn statAt(wk: *Walker, dir: fd_t, base: [*:0]const u8) ?linux.Stat {
        _ = wk;
        var st: linux.Stat = undefined;
        const rc = linux.fstatat(dir, base, &st, linux.AT.SYMLINK_NOFOLLOW);
        if (errnoOf(rc) != .SUCCESS) return null;
        return st;
    }

    /// The entry named by the name buffer's first `name_len` bytes.
    fn entryName(wk: *Walker, name_len: usize) []const u8 {
        return if (name_len == 0) "." else wk.name[0..name_len];
    }

    fn entry(wk: *Walker, parent: fd_t, base: [*:0]const u8, listed: linux.Stat, name_len: usize, emit: bool) Error!void {
        wk.entries += 1;
        if (wk.entries > max_entries) return wk.fail("too many entries", "", null);
        const mode = listed.mode;
        if (linux.S.ISDIR(mode)) return wk.directory(parent, base, name_len, emit);
        if (!emit) return wk.fail("the source is not a directory", "", .NOTDIR);
        if (linux.S.ISREG(mode)) return wk.file(parent, base, name_len);
        if (linux.S.ISLNK(mode)) return wk.symlink(parent, base, listed, name_len);
        if (linux.S.ISFIFO(mode)) return wk.header(.{ .name = wk.entryName(name_len), .kind = .fifo, .mode = mode, .uid = listed.uid, .gid = listed.gid, .mtime = listed.mtim.sec });
        if (linux.S.ISCHR(mode) or linux.S.ISBLK(mode)) return wk.device(listed, name_len);
        // Sockets (and anything newer) have no tar form.
    }

    fn device(wk: *Walker, st: linux.Stat, name_len: usize) Error!void {
        const name = wk.entryName(name_len);
        if (wk.opts.layer and linux.S.ISCHR(st.mode) and st.rdev == 0) {
            // An overlay whiteout: `.wh.` before the base name.
            const slash = std.mem.lastIndexOfScalar(u8, name, '/');
            const base_start = if (slash) |s| s + 1 else 0;
            var buf: [tar.max_path_len + 1]u8 = undefined;
            const wh = std.fmt.bufPrint(&buf, "{s}.wh.{s}", .{ name[0..base_start], name[base_start..] }) catch
                return wk.fail("name too long", name, .NAMETOOLONG);
            return wk.header(.{ .name = wh, .kind = .file, .mode = 0o644, .uid = 0, .gid = 0, .mtime = st.mtim.sec });
        }
        if (!wk.opts.devices) return;
        const major: u32 = @intCast(((st.rdev >> 32) & 0xfffff000) | ((st.rdev >> 8) & 0xfff));
        const minor: u32 = @intCast(((st.rdev >> 12) & 0xffffff00) | (st.rdev & 0xff));
        return wk.header(.{
            .name = name,
            .kind = if (linux.S.ISCHR(st.mode)) .char_device else .block_device,
            .mode = st.mode,
            .uid = st.uid,
            .gid = st.gid,
            .mtime = st.mtim.sec,
            .dev_major = major,
            .dev_minor = minor,
        });
    }

    fn symlink(wk: *Walker, parent: fd_t, base: [*:0]const u8, st: linux.Stat, name_len: usize) Error!void {
        const rc = linux.readlinkat(parent, base, &wk.link_target, wk.link_target.len);
        switch (errnoOf(rc)) {
            .SUCCESS => {},
            // No longer a symlink (or gone): it changed under a live container.
            .INVAL, .NOENT => {
                wk.changed += 1;
                return;
            },
            else => |e| return wk.fail("cannot read symlink", wk.entryName(name_len), e),
        }
        if (rc > tar.max_path_len) return wk.fail("symlink target too long", wk.entryName(name_len), .NAMETOOLONG);
        return wk.header(.{ .name = wk.entryName(name_len), .kind = .symlink, .mode = st.mode, .uid = st.uid, .gid = st.gid, .mtime = st.mtim.sec, .link = wk.link_target[0..rc] });
    }

    fn file(wk: *Walker, parent: fd_t, base: [*:0]const u8, name_len: usize) Error!void {
        const name = wk.entryName(name_len);
        const rc = linux.openat(parent, base, .{ .NOFOLLOW = true, .NONBLOCK = true, .NOCTTY = true, .CLOEXEC = true }, 0);
        switch (errnoOf(rc)) {
            .SUCCESS => {},
            // Swapped for a symlink, or removed, since the listing.
            .LOOP, .NOENT, .NXIO, .NODEV => {
                wk.changed += 1;
                return;
            },
            else => |e| return wk.fail("cannot open", name, e),
        }
        const fd: fd_t = @intCast(rc);
        defer _ = linux.close(fd);
        var st: linux.Stat = undefined;
        if (errnoOf(linux.fstat(fd, &st)) != .SUCCESS) return wk.fail("cannot stat", name, errnoOf(linux.fstat(fd, &st)));
        if (!linux.S.ISREG(st.mode)) {
            wk.changed += 1;
            return;
        }
        if (wk.opts.layer and st.size == 0 and isMountStub(name)) return;
        if (st.nlink > 1) {
            const key: LinkKey = .{ .dev = st.dev, .ino = st.ino };
            if (wk.links.get(key)) |first| {
                const target = wk.link_names.items[first.offset..][0..first.len];
                return wk.header(.{ .name = name, .kind = .hardlink, .mode = st.mode, .uid = st.uid, .gid = st.gid, .mtime = st.mtim.sec, .link = target });
            }
            try wk.remember(key, name);
        }
        const extra = try wk.xattrs(fd, name);
        const size: u64 = @intCast(st.size);
        try wk.header(.{ .name = name, .kind = .file, .mode = st.mode, .uid = st.uid, .gid = st.gid, .mtime = st.mtim.sec, .size = size, .extra_pax = extra });
        try wk.copy(fd, size, name);
    }

    fn remember(wk: *Walker, key: LinkKey, name: []const u8) Error!void {
        if (wk.link_names.items.len + name.len > max_link_names) return; // Packed as copies past the limit.
        const offset: u32 = @intCast(wk.link_names.items.len);
        wk.link_names.appendSlice(wk.allocator, name) catch return wk.fail("out of memory", "", .NOMEM);
        wk.links.put(wk.allocator, key, .{ .offset = offset, .len = @intCast(name.len) }) catch
            return wk.fail("out of memory", "", .NOMEM);
    }

    /// Exactly `size` bytes: a file that shrank while read is padded with zeros, one that
    /// grew is cut, so the stream stays a valid archive (GNU tar warns the same way).
    fn copy(wk: *Walker, fd: fd_t, size: u64, name: []const u8) Error!void {
        var left = size;
        while (left > 0) {
            const want: usize = @intCast(@min(left, wk.copy_buf.len));
            const rc = linux.read(fd, wk.copy_buf.ptr, want);
            switch (errnoOf(rc)) {
                .SUCCESS => {},
                .INTR => continue,
                else => |e| return wk.fail("cannot read", name, e),
            }
            if (rc == 0) break;
            wk.w.put(wk.copy_buf[0..rc]) catch return wk.writeFailed();
            left -= rc;
        }
        const pad: usize = @intCast(left + (tar.padded(size) - size));
        wk.w.zeros(pad) catch return wk.writeFailed();
    }

    fn directory(wk: *Walker, parent: fd_t, base: [*:0]const u8, name_len: usize, emit: bool) Error!void {
        const rc = linux.openat(parent, base, .{ .DIRECTORY = true, .NOFOLLOW = true, .CLOEXEC = true }, 0);
        switch (errnoOf(rc)) {
            .SUCCESS => {},
            .LOOP, .NOTDIR, .NOENT => {
                if (name_len == 0) return wk.fail("the source changed while it was opened", "", errnoOf(rc));
                wk.changed += 1;
                return;
            },
            else => |e| return wk.fail("cannot open directory", wk.entryName(name_len), e),
        }
        const fd: fd_t = @intCast(rc);
        var owned = true;
        defer if (owned) {
            _ = linux.close(fd);
        };
        var st: linux.Stat = undefined;
        const st_rc = linux.fstat(fd, &st);
        if (errnoOf(st_rc) != .SUCCESS) return wk.fail("cannot stat", wk.entryName(name_len), errnoOf(st_rc));
        // Another filesystem: not entered with one_filesystem, and never a kernel one (a
        // running container's /proc, /sys, cgroups: reading those as host root is no copy).
        const other_fs = (wk.opts.one_filesystem and st.dev != wk.root_dev) or isKernelFs(fd);
        if (emit) {
            const extra = if (other_fs) "" else try wk.xattrs(fd, wk.entryName(name_len));
            const name = wk.entryName(name_len);
            try wk.header(.{
                .name = name,
                .kind = .directory,
                .mode = if (other_fs) 0o755 else st.mode,
                .uid = if (other_fs) 0 else st.uid,
                .gid = if (other_fs) 0 else st.gid,
                .mtime = st.mtim.sec,
                .extra_pax = extra,
            });
            if (wk.opts.layer and !other_fs and isOpaque(fd)) {
                var buf: [tar.max_path_len + 1]u8 = undefined;
                const opq = std.fmt.bufPrint(&buf, "{s}/.wh..wh..opq", .{name}) catch
                    return wk.fail("name too long", name, .NAMETOOLONG);
                try wk.header(.{ .name = opq, .kind = .file, .mode = 0o644, .uid = 0, .gid = 0, .mtime = st.mtim.sec });
            }
        }
        if (other_fs) return;
        if (wk.depth == max_depth) return wk.fail("directory tree deeper than the limit of 256 levels", wk.entryName(name_len), null);
        const level = &wk.levels[wk.depth];
        if (level.dents.len == 0) {
            level.dents = wk.allocator.alloc(u8, dents_len) catch return wk.fail("out of memory", "", .NOMEM);
        }
        assert(level.fd == -1);
        level.fd = fd;
        owned = false;
        level.name_len = name_len;
        wk.depth += 1;
        defer {
            wk.depth -= 1;
            _ = linux.close(level.fd);
            level.fd = -1;
        }
        try wk.children(level);
    }

    /// Lists the whole directory, then packs its entries in byte order of their names, so the
    /// same tree always makes the same archive (a commit's diffID, a hard link's first name).
    fn children(wk: *Walker, level: *Level) Error!void {
        level.names.clearRetainingCapacity();
        level.offsets.clearRetainingCapacity();
        // Each batch lists at least one entry or ends the directory.
        while (true) {
            const rc = linux.getdents64(level.fd, level.dents.ptr, level.dents.len);
            switch (errnoOf(rc)) {
                .SUCCESS => {},
                // The directory was removed while listed (a live container).
                .NOENT => break,
                else => |e| return wk.fail("cannot list directory", wk.entryName(level.name_len), e),
            }
            if (rc == 0) break;
            var pos: usize = 0;
            while (pos < rc) {
                const dirent: *align(1) const linux.dirent64 = @ptrCast(level.dents[pos..].ptr);
                pos += dirent.reclen;
                const child: [*:0]const u8 = @ptrCast(&dirent.name);
                const child_name = std.mem.span(child);
                if (std.mem.eql(u8, child_name, ".") or std.mem.eql(u8, child_name, "..")) continue;
                if (level.offsets.items.len == max_dir_entries or level.names.items.len + child_name.len + 1 > max_dir_names)
                    return wk.fail("directory has more entries than the limit", wk.entryName(level.name_len), null);
                level.offsets.append(wk.allocator, @intCast(level.names.items.len)) catch return wk.fail("out of memory", "", .NOMEM);
                level.names.appendSlice(wk.allocator, child_name) catch return wk.fail("out of memory", "", .NOMEM);
                level.names.append(wk.allocator, 0) catch return wk.fail("out of memory", "", .NOMEM);
            }
        }
        std.mem.sortUnstable(u32, level.offsets.items, level.names.items, nameLess);
        for (level.offsets.items) |offset| {
            const child: [*:0]const u8 = @ptrCast(level.names.items[offset..].ptr);
            const child_len = try wk.pushName(level.name_len, std.mem.span(child));
            const st = wk.statAt(level.fd, child) orelse {
                wk.changed += 1; // Removed since the listing.
                continue;
            };
            try wk.entry(level.fd, child, st, child_len, true);
        }
    }

    /// Appends "/child" (or "child" at the top) after the first `len` bytes of the name.
    fn pushName(wk: *Walker, len: usize, child: []const u8) Error!usize {
        const sep: usize = if (len > 0) 1 else 0;
        if (len + sep + child.len > tar.max_path_len) return wk.fail("name longer than 4096 bytes", wk.name[0..len], .NAMETOOLONG);
        if (sep == 1) wk.name[len] = '/';
        @memcpy(wk.name[len + sep ..][0..child.len], child);
        return len + sep + child.len;
    }

    /// PAX records for the xattrs of an open file or directory (when asked for).
    fn xattrs(wk: *Walker, fd: fd_t, name: []const u8) Error![]const u8 {
        if (!wk.opts.xattrs) return "";
        const rc = linux.flistxattr(fd, wk.xattr_names.ptr, wk.xattr_names.len);
        switch (errnoOf(rc)) {
            .SUCCESS => {},
            .OPNOTSUPP, .NODATA => return "",
            else => |e| return wk.fail("cannot list xattrs of", name, e),
        }
        var used: usize = 0;
        var it = std.mem.splitScalar(u8, wk.xattr_names[0..rc], 0);
        while (it.next()) |attr| {
            if (attr.len == 0 or attr.len > tar.max_xattr_name_len) continue;
            if (std.mem.startsWith(u8, attr, "trusted.overlay.") or std.mem.startsWith(u8, attr, "user.overlay.") or std.mem.eql(u8, attr, "security.selinux")) continue;
            var name_z: [tar.max_xattr_name_len + 1:0]u8 = @splat(0);
            @memcpy(name_z[0..attr.len], attr);
            const got = linux.fgetxattr(fd, &name_z, wk.xattr_value.ptr, wk.xattr_value.len);
            if (errnoOf(got) != .SUCCESS) continue; // Removed since listed.
            var key: [tar.xattr_prefix.len + tar.max_xattr_name_len]u8 = undefined;
            const full = std.fmt.bufPrint(&key, tar.xattr_prefix ++ "{s}", .{attr}) catch unreachable;
            used += paxRecord(wk.xattr_pax[used..], full, wk.xattr_value[0..got]) catch
                return wk.fail("xattrs too large to pack", name, .@"2BIG");
        }
        return wk.xattr_pax[0..used];
    }

    fn header(wk: *Walker, given: Header) Error!void {
        var h = given;
        var dir_name: [tar.max_path_len + 2]u8 = undefined;
        if (h.kind == .directory and !std.mem.endsWith(u8, h.name, "/")) {
            // Directories end in "/", as GNU tar and Docker write them.
            @memcpy(dir_name[0..h.name.len], h.name);
            dir_name[h.name.len] = '/';
            h.name = dir_name[0 .. h.name.len + 1];
        }
        var block: [tar.block_len]u8 = undefined;
        const pax_used = formatHeader(&h, &block, wk.pax) catch
            return wk.fail("header too large", h.name, .@"2BIG");
        if (pax_used > 0) {
            var pax_block: [tar.block_len]u8 = undefined;
            const pax_header: Header = .{ .name = "PaxHeader", .kind = .file, .mode = 0o644, .uid = 0, .gid = 0, .mtime = h.mtime, .size = pax_used };
            var none: [0]u8 = .{};
            _ = formatHeader(&pax_header, &pax_block, &none) catch unreachable;
            pax_block[156] = 'x';
            checksum(&pax_block);
            wk.w.put(&pax_block) catch return wk.writeFailed();
            wk.w.put(wk.pax[0..pax_used]) catch return wk.writeFailed();
            wk.w.zeros(@intCast(tar.padded(pax_used) - pax_used)) catch return wk.writeFailed();
        }
        wk.w.put(&block) catch return wk.writeFailed();
    }

    fn writeFailed(wk: *Walker) error{PackFailed} {
        const e = wk.w.failed orelse .IO;
        wk.failure = e;
        wk.msg.set("cannot write the archive: {s}", .{strerror(e)});
        return error.PackFailed;
    }

    fn fail(wk: *Walker, op: []const u8, name: []const u8, errno: ?E) error{PackFailed} {
        const shown = name[0..@min(name.len, 256)];
        wk.failure = errno;
        if (errno) |e| {
            wk.msg.set("{s} \"{s}\": {s}", .{ op, shown, strerror(e) });
        } else {
            wk.msg.set("{s} \"{s}\"", .{ op, shown });
        }
        return error.PackFailed;
    }
};

/// statfs f_type of the pseudo filesystems a container has mounted (linux/magic.h).
const kernel_fs_magics = [_]u64{
    0x9fa0, // proc
    0x62656572, // sysfs
    0x27e0eb, // cgroup
    0x63677270, // cgroup2
    0x1cd1, // devpts
    0x19800202, // mqueue
    0x73636673, // securityfs
    0x64626720, // debugfs
    0x74726163, // tracefs
    0xcafe4a11, // bpf
    0x6165676c, // pstore
    0xf97cff8c, // selinuxfs
    0x65735543, // fusectl
    0x62656570, // configfs
    0x42494e4d, // binfmt_misc
};

fn isKernelFs(fd: fd_t) bool {
    const f_type = sys.fstatfsType(fd) catch return true; // Unknown: do not enter.
    for (kernel_fs_magics) |m| if (f_type == m) return true;
    return false;
}

fn nameLess(names: []const u8, a: u32, b: u32) bool {
    const x = std.mem.sliceTo(names[a..], 0);
    const y = std.mem.sliceTo(names[b..], 0);
    return std.mem.order(u8, x, y) == .lt;
}

/// trusted.overlay.opaque, or user.overlay.opaque (rootless: overlayfs with `userxattr`).
fn isOpaque(fd: fd_t) bool {
    for ([_][:0]const u8{ "trusted.overlay.opaque", "user.overlay.opaque" }) |attr| {
        var value: [4]u8 = undefined;
        const rc = linux.fgetxattr(fd, attr, &value, value.len);
        if (errnoOf(rc) == .SUCCESS and rc >= 1 and value[0] == 'y') return true;
    }
    return false;
}

/// The empty files the runtime makes in an upper dir as mount points for its generated /etc
/// files: not the container's changes (Docker leaves them out too).
fn isMountStub(name: []const u8) bool {
    const stubs = [_][]const u8{ "etc/hostname", "etc/hosts", "etc/resolv.conf" };
    for (stubs) |s| if (std.mem.eql(u8, name, s)) return true;
    return false;
}

// ---------------------------------------------------------------------------------------

const testing = std.testing;

test "paxRecord counts its own length" {
    var buf: [64]u8 = undefined;
    const n = try paxRecord(&buf, "path", "a");
    try testing.expectEqualStrings("9 path=a\n", buf[0..n]);
    const m = try paxRecord(&buf, "path", "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq");
    try testing.expectEqual(m, std.fmt.parseInt(usize, buf[0..2], 10) catch 0);
}

test "formatHeader round-trips through the parser" {
    var block: [tar.block_len]u8 = undefined;
    var pax: [1024]u8 = undefined;
    const h: Header = .{ .name = "etc/passwd", .kind = .file, .mode = 0o4755, .uid = 1000, .gid = 50, .size = 1234, .mtime = 1700000000 };
    try testing.expectEqual(@as(usize, 0), try formatHeader(&h, &block, &pax));
    const parsed = try tar.parseHeader(&block);
    try testing.expectEqualStrings("etc/passwd", parsed.name());
    try testing.expectEqual(@as(u64, 1234), parsed.size);
    try testing.expectEqual(@as(u32, 0o4755), parsed.mode);
    const long_name: [300]u8 = @splat('n');
    const l: Header = .{ .name = &long_name, .kind = .symlink, .mode = 0o777, .uid = 1 << 30, .gid = 0, .mtime = 0, .link = &long_name };
    const used = try formatHeader(&l, &block, &pax);
    const parsed_pax = try tar.parsePax(pax[0..used]);
    try testing.expectEqualStrings(&long_name, parsed_pax.path.?);
    try testing.expectEqualStrings(&long_name, parsed_pax.linkpath.?);
    try testing.expectEqual(@as(u32, 1 << 30), parsed_pax.uid.?);
}

test "a Writer with sha hashes exactly the bytes it writes, across flushes" {
    var pipe_fds: [2]i32 = undefined;
    try testing.expectEqual(@as(usize, 0), linux.pipe2(&pipe_fds, .{ .CLOEXEC = true, .NONBLOCK = true }));
    defer _ = linux.close(pipe_fds[0]);
    defer _ = linux.close(pipe_fds[1]);
    // A pipe holds 64 KiB by default: write less than that, in pieces spanning a flush.
    var sha = Sha256.init();
    var w: Writer = .{ .fd = pipe_fds[1], .sha = &sha };
    var chunk: [3000]u8 = undefined;
    for (&chunk, 0..) |*b, i| b.* = @truncate(i *% 31);
    for (0..5) |_| try w.put(&chunk);
    try w.flush();
    try w.end();
    var got: [16 * 1024]u8 = undefined;
    const n = linux.read(pipe_fds[0], &got, got.len);
    try testing.expectEqual(@as(usize, 5 * chunk.len + 2 * tar.block_len), n);
    try testing.expectEqual(@as(u64, n), w.total);
    var ours: [32]u8 = undefined;
    sha.final(&ours);
    var want: [32]u8 = undefined;
    std.crypto.hash.sha2.Sha256.hash(got[0..n], &want, .{});
    try testing.expectEqualSlices(u8, &want, &ours);
}
