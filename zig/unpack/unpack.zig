//! tsd_unpack: one pass over a layer file. Headers come from tar.zig, bytes from
//! decompress.zig (which also hashes them), writes go through extract.zig.
const std = @import("std");
const assert = std.debug.assert;
const linux = std.os.linux;
pub const tar = @import("tar.zig");
const decompress = @import("decompress.zig");
pub const extract = @import("extract.zig");
const sys = @import("linux").sys;
const errnoOf = @import("linux").errno.of;
const strerror = @import("linux").errno.text;

pub const flag_layer: u32 = 1;
/// An image archive (docker save / OCI layout tar), not a filesystem: only regular files,
/// directories and links are created; a fifo or device node is refused (reading one back
/// would hang on a fifo or read forever from a device).
pub const flag_archive: u32 = 2;
/// The stream is plain tar: no gzip or zstd detection (`tsd pull` inflates in the CLI and
/// feeds the unpacker plain tar; a layer compressed twice must fail as a tar, not be inflated
/// a second time, which would make its diffID the digest of the inner stream).
pub const flag_plain: u32 = 4;
/// Owners the user namespace cannot map are left as the extracting user's (rootless tsd's
/// single-id mapping: extract.Options.ignore_chown_errors).
pub const flag_ignore_chown: u32 = 8;
pub const pack = @import("pack.zig");
pub const sha256 = @import("sha256.zig");

pub const Result = struct {
    size: u64,
    digest: [64]u8,
};

/// Where a failure is reported (zig/linux/message.zig).
pub const Message = @import("linux").message.Message;

/// A name from the archive, quoted, with control bytes escaped so the message stays one
/// line, and shortened past 256 bytes.
const Quoted = struct {
    bytes: []const u8,

    pub fn format(q: Quoted, w: *std.Io.Writer) std.Io.Writer.Error!void {
        const shown = q.bytes[0..@min(q.bytes.len, 256)];
        try w.writeByte('"');
        for (shown) |c| {
            if (c < 0x20 or c == 0x7f or c == '"' or c == '\\') {
                try w.print("\\x{x:0>2}", .{c});
            } else {
                try w.writeByte(c);
            }
        }
        if (shown.len < q.bytes.len) try w.writeAll("...");
        try w.writeByte('"');
    }
};

fn quoted(bytes: []const u8) Quoted {
    return .{ .bytes = bytes };
}

/// Buffers for the meta headers that precede an entry, allocated once per unpack.
const MetaBuffers = struct {
    pax: [tar.max_pax_len]u8,
    long_name: [tar.max_path_len + 1]u8,
    long_link: [tar.max_path_len + 1]u8,
};

const Unpacker = struct {
    src: []const u8,
    /// "layer" or "archive": what the messages call the tar stream.
    what: []const u8 = "layer",
    stream: *decompress.Stream,
    x: *extract.Extractor,
    meta_buffers: *MetaBuffers,
    msg: Message,
    /// Name of the entry being read, for messages.
    current: ?[]const u8 = null,

    fn run(u: *Unpacker) i64 {
        var block: [tar.block_len]u8 = undefined;
        var meta: tar.Meta = .{};
        var headers: u64 = 0;
        // One pass per header; the limit stops runaway archives.
        while (headers < tar.max_entries) : (headers += 1) {
            const offset = u.stream.total;
            const got = u.stream.readExact(&block) catch return u.streamFailed();
            if (got == 0) break; // No end-of-archive blocks: tolerated, as GNU tar does.
            if (got < block.len) return u.truncated("inside a header");
            if (tar.isZeroBlock(&block)) break;
            const header = tar.parseHeader(&block) catch |err| return u.badHeader(err, offset);
            const status = u.onHeader(&header, &meta);
            if (status < 0) return status;
        } else {
            u.current = null;
            u.msg.set("{s} {f}: more than {d} entries", .{ u.what, quoted(u.src), tar.max_entries });
            return -@as(i64, @intFromEnum(linux.E.@"2BIG"));
        }
        u.current = null;
        u.x.finish() catch return u.extractFailed();
        u.stream.drain() catch return u.streamFailed();
        return 0;
    }

    /// One header: meta headers fill `meta`, entries consume it.
    fn onHeader(u: *Unpacker, h: *const tar.Header, meta: *tar.Meta) i64 {
        const bufs = u.meta_buffers;
        switch (h.typeflag) {
            .pax_local => {
                if (h.size > tar.max_pax_len) return u.limit("PAX header", h.size, tar.max_pax_len);
                const data = u.readMeta(bufs.pax[0..@intCast(h.size)], h.size) orelse return u.metaFailed();
                meta.pax = tar.parsePax(data) catch |err| return u.badMeta(err, h.name());
            },
            .gnu_long_name, .gnu_long_link => {
                if (h.size > tar.max_path_len + 1) return u.limit("GNU long name", h.size, tar.max_path_len + 1);
                const buf = if (h.typeflag == .gnu_long_name) &bufs.long_name else &bufs.long_link;
                const data = u.readMeta(buf[0..@intCast(h.size)], h.size) orelse return u.metaFailed();
                const value = tar.parseLongName(data) catch |err| return u.badMeta(err, h.name());
                if (h.typeflag == .gnu_long_name) meta.long_name = value else meta.long_link = value;
            },
            .pax_global, .ignored => {
                if (!(u.stream.skip(h.paddedSize()) catch return u.streamFailed())) return u.truncated("inside a header");
                // Meta headers describe the next entry; a global header is not one.
                if (h.typeflag == .ignored) meta.* = .{};
            },
            else => {
                const entry = tar.entryFromHeader(h, meta);
                const status = u.onEntry(&entry);
                meta.* = .{};
                if (status < 0) return status;
            },
        }
        return 0;
    }

    /// Reads a meta header's body and its padding; null on failure (message not yet set).
    fn readMeta(u: *Unpacker, buf: []u8, size: u64) ?[]const u8 {
        assert(buf.len == size);
        const got = u.stream.readExact(buf) catch return null;
        if (got < buf.len) return null;
        const ok = u.stream.skip(tar.padded(size) - size) catch return null;
        return if (ok) buf else null;
    }

    fn metaFailed(u: *Unpacker) i64 {
        if (u.stream.failure != null) return u.streamFailed();
        return u.truncated("inside a header");
    }

    fn onEntry(u: *Unpacker, e: *const tar.Entry) i64 {
        u.current = e.path;
        const begun = u.x.begin(e) catch return u.extractFailed();
        if (begun) |fd| {
            const copied = u.copy(fd, e.size) catch |err| {
                _ = linux.close(fd);
                return switch (err) {
                    error.ReadFailed => u.streamFailed(),
                    error.OutOfMemory => unreachable,
                    error.ExtractFailed => u.extractFailed(),
                };
            };
            if (!copied) {
                _ = linux.close(fd);
                return u.truncated("inside file data");
            }
            u.x.finishFile(fd, e) catch return u.extractFailed();
            const ok = u.stream.skip(tar.padded(e.size) - e.size) catch return u.streamFailed();
            if (!ok) return u.truncated("inside file data");
        } else {
            const ok = u.stream.skip(tar.padded(e.size)) catch return u.streamFailed();
            if (!ok) return u.truncated("inside entry data");
        }
        u.current = null;
        return 0;
    }

    /// Streams `size` bytes into `fd` straight from the decompressor's buffer.
    fn copy(u: *Unpacker, fd: linux.fd_t, size: u64) (decompress.Error || extract.Error)!bool {
        var left = size;
        while (left > 0) {
            const data = try u.stream.peek();
            if (data.len == 0) return false;
            const n: usize = @intCast(@min(data.len, left));
            try u.x.write(fd, data[0..n]);
            u.stream.consume(n);
            left -= n;
        }
        return true;
    }

    fn streamFailed(u: *Unpacker) i64 {
        var buf: [256]u8 = undefined;
        const failure = u.stream.failure orelse return u.outOfMemory();
        const text = decompress.describe(failure, &buf);
        if (u.current) |name| {
            u.msg.set("{s} entry {f}: {s}", .{ u.what, quoted(name), text });
        } else {
            u.msg.set("{s} {f}: {s}", .{ u.what, quoted(u.src), text });
        }
        return switch (failure) {
            .read => -@as(i64, @intFromEnum(linux.E.IO)),
            else => -@as(i64, @intFromEnum(linux.E.BADMSG)),
        };
    }

    fn extractFailed(u: *Unpacker) i64 {
        const f = &u.x.failure;
        const cause = if (f.errno) |e| extract.cause(e) else "";
        const sep1: []const u8 = if (f.detail_len > 0) " " else "";
        const sep2: []const u8 = if (f.errno != null) ": " else "";
        if (u.current) |name| {
            u.msg.set("{s} entry {f}: {s}{s}{s}{s}{s}", .{ u.what, quoted(name), f.op, sep1, f.detail(), sep2, cause });
        } else {
            u.msg.set("{s} {f}: {s}{s}{s}{s}{s}", .{ u.what, quoted(u.src), f.op, sep1, f.detail(), sep2, cause });
        }
        const errno: i64 = if (f.errno) |e| @intFromEnum(e) else @intFromEnum(linux.E.INVAL);
        return -errno;
    }

    fn truncated(u: *Unpacker, where: []const u8) i64 {
        if (u.current) |name| {
            u.msg.set("{s} entry {f}: archive is truncated ({s})", .{ u.what, quoted(name), where });
        } else {
            u.msg.set("{s} {f}: archive is truncated ({s})", .{ u.what, quoted(u.src), where });
        }
        return -@as(i64, @intFromEnum(linux.E.BADMSG));
    }

    fn badHeader(u: *Unpacker, err: tar.Error, offset: u64) i64 {
        const what = switch (err) {
            error.BadChecksum => "bad header checksum (not a tar archive, or corrupt)",
            error.BadNumber => "invalid number in header",
            error.UnsupportedType => "unsupported entry type",
            error.UnsupportedSparse => "GNU sparse files are not supported",
            else => @errorName(err),
        };
        u.msg.set("{s} {f}: {s} at byte {d}", .{ u.what, quoted(u.src), what, offset });
        return -@as(i64, @intFromEnum(linux.E.BADMSG));
    }

    fn badMeta(u: *Unpacker, err: tar.Error, name: []const u8) i64 {
        const what = switch (err) {
            error.BadPax => "malformed PAX header",
            error.BadNumber => "invalid number in PAX header",
            error.NameTooLong => "name longer than 4096 bytes",
            error.UnsupportedSparse => "GNU sparse files are not supported",
            error.XattrTooLarge => "xattr name or value too large",
            else => @errorName(err),
        };
        u.msg.set("{s} entry {f}: {s}", .{ u.what, quoted(name), what });
        return -@as(i64, @intFromEnum(linux.E.BADMSG));
    }

    fn limit(u: *Unpacker, what: []const u8, size: u64, max: u64) i64 {
        u.msg.set("{s} {f}: {s} of {d} bytes exceeds the limit of {d}", .{ u.what, quoted(u.src), what, size, max });
        return -@as(i64, @intFromEnum(linux.E.@"2BIG"));
    }

    fn outOfMemory(u: *Unpacker) i64 {
        u.msg.set("{s} {f}: out of memory", .{ u.what, quoted(u.src) });
        return -@as(i64, @intFromEnum(linux.E.NOMEM));
    }
};

/// Unpacks `src` into `dest`. Returns the uncompressed size (>= 0) with `result` filled, or
/// a negative errno with `msg` set.
/// A standard input some runtime made non-blocking (Bun does it to the pipes it reads)
/// would fail the blocking reads below with EAGAIN; the read end is ours to read to the
/// end, so it is switched back.
pub fn clearNonblocking(fd: linux.fd_t) void {
    const fl = linux.fcntl(fd, linux.F.GETFL, 0);
    if (errnoOf(fl) != .SUCCESS) return;
    const nonblock: usize = @as(u32, @bitCast(linux.O{ .NONBLOCK = true }));
    if (fl & nonblock != 0) _ = linux.fcntl(fd, linux.F.SETFL, fl & ~nonblock);
}

/// F_DUPFD_CLOEXEC (fcntl.h); std.os.linux.F does not name it on x86_64.
const f_dupfd_cloexec = 1030;

pub fn unpack(src: [*:0]const u8, dest: [*:0]const u8, flags: u32, msg: Message, result: *Result) i64 {
    const allocator = std.heap.page_allocator;
    const src_name = std.mem.span(src);
    // "-" is standard input, whatever it is: a pull feeds layers through a socketpair, which
    // /dev/stdin cannot open (ENXIO).
    const from_stdin = std.mem.eql(u8, src_name, "-");
    const rc = if (from_stdin)
        linux.fcntl(0, f_dupfd_cloexec, 0)
    else
        linux.openat(linux.AT.FDCWD, src, .{ .CLOEXEC = true }, 0);
    if (errnoOf(rc) != .SUCCESS) {
        msg.set("layer {f}: cannot open: {s}", .{ quoted(src_name), strerror(errnoOf(rc)) });
        return -@as(i64, @intFromEnum(errnoOf(rc)));
    }
    const file: std.fs.File = .{ .handle = @intCast(rc) };
    defer file.close();

    const oom = -@as(i64, @intFromEnum(linux.E.NOMEM));
    const stream = allocator.create(decompress.Stream) catch return oom;
    defer allocator.destroy(stream);
    const meta_buffers = allocator.create(MetaBuffers) catch return oom;
    defer allocator.destroy(meta_buffers);
    const x = allocator.create(extract.Extractor) catch return oom;
    defer allocator.destroy(x);

    var u: Unpacker = .{ .src = src_name, .stream = stream, .x = x, .meta_buffers = meta_buffers, .msg = msg };
    if (flags & flag_archive != 0) u.what = "archive";
    stream.init(file, allocator, flags & flag_plain == 0) catch |err| return switch (err) {
        error.OutOfMemory => u.outOfMemory(),
        error.ReadFailed => u.streamFailed(),
    };
    defer stream.deinit();
    if (from_stdin) clearNonblocking(file.handle);
    x.init(dest, flags & flag_layer != 0, flags & flag_archive != 0, allocator) catch |err| return switch (err) {
        error.OutOfMemory => u.outOfMemory(),
        error.ExtractFailed => blk: {
            u.src = std.mem.span(dest);
            break :blk u.extractFailed();
        },
    };
    defer x.deinit();
    x.opts.ignore_chown_errors = flags & flag_ignore_chown != 0;

    const status = u.run();
    if (status < 0) return status;
    result.* = .{ .size = stream.total, .digest = stream.digestHex() };
    assert(stream.total <= std.math.maxInt(i64));
    return @intCast(stream.total);
}

/// Extracts the plain (or compressed) tar stream read from `in` into the open directory
/// `dest` with a copy's rules (extract.Options). `label` names the stream in messages.
/// Returns the uncompressed size, or a negative errno with `msg` set.
pub fn unpackStream(in: linux.fd_t, dest: linux.fd_t, opts: extract.Options, label: []const u8, msg: Message) i64 {
    const allocator = std.heap.page_allocator;
    const file: std.fs.File = .{ .handle = in };
    const oom = -@as(i64, @intFromEnum(linux.E.NOMEM));
    const stream = allocator.create(decompress.Stream) catch return oom;
    defer allocator.destroy(stream);
    const meta_buffers = allocator.create(MetaBuffers) catch return oom;
    defer allocator.destroy(meta_buffers);
    const x = allocator.create(extract.Extractor) catch return oom;
    defer allocator.destroy(x);
    var u: Unpacker = .{ .what = "copy", .src = label, .stream = stream, .x = x, .meta_buffers = meta_buffers, .msg = msg };
    stream.init(file, allocator, true) catch |err| return switch (err) {
        error.OutOfMemory => u.outOfMemory(),
        error.ReadFailed => u.streamFailed(),
    };
    defer stream.deinit();
    x.initFd(dest, opts, allocator) catch |err| return switch (err) {
        error.OutOfMemory => u.outOfMemory(),
        error.ExtractFailed => u.extractFailed(),
    };
    defer x.deinit();
    const status = u.run();
    if (status < 0) return status;
    return @intCast(stream.total);
}

test {
    _ = @import("pack.zig");
    _ = tar;
    _ = @import("path.zig");
    _ = decompress;
    _ = @import("sha256.zig");
    _ = extract;
    _ = sys;
}

// ---------------------------------------------------------------------------------------
// End-to-end through the filesystem, runnable unprivileged: entries are owned by the
// caller's own uid/gid. test/e2e/unpack.test.ts covers ownership, devices and xattrs as root.

const testing = std.testing;

const TestArchive = struct {
    bytes: [64 * tar.block_len]u8 = undefined,
    len: usize = 0,

    fn add(a: *TestArchive, spec: tar.TestHeader, data: []const u8) void {
        var s = spec;
        s.uid = linux.getuid();
        s.gid = linux.getgid();
        s.size = data.len;
        const block = tar.testBlock(s);
        @memcpy(a.bytes[a.len..][0..tar.block_len], &block);
        a.len += tar.block_len;
        @memcpy(a.bytes[a.len..][0..data.len], data);
        const padded_len: usize = @intCast(tar.padded(data.len));
        @memset(a.bytes[a.len + data.len ..][0 .. padded_len - data.len], 0);
        a.len += padded_len;
    }

    fn finish(a: *TestArchive) []const u8 {
        @memset(a.bytes[a.len..][0 .. 2 * tar.block_len], 0);
        a.len += 2 * tar.block_len;
        return a.bytes[0..a.len];
    }
};

const TestRun = struct {
    tmp: std.testing.TmpDir,
    root_buf: [std.fs.max_path_bytes]u8 = undefined,
    src_buf: [std.fs.max_path_bytes]u8 = undefined,
    dest_buf: [std.fs.max_path_bytes]u8 = undefined,
    err_buf: [256]u8 = undefined,

    fn run(t: *TestRun, archive: []const u8, flags: u32, result: *Result) !i64 {
        try t.tmp.dir.writeFile(.{ .sub_path = "layer.tar", .data = archive });
        try t.tmp.dir.makePath("dest");
        const root = try t.tmp.dir.realpath(".", &t.root_buf);
        const src = try std.fmt.bufPrintZ(&t.src_buf, "{s}/layer.tar", .{root});
        const dest = try std.fmt.bufPrintZ(&t.dest_buf, "{s}/dest", .{root});
        @memset(&t.err_buf, 0);
        return unpack(src, dest, flags, .{ .buf = &t.err_buf }, result);
    }

    fn message(t: *const TestRun) []const u8 {
        return std.mem.sliceTo(&t.err_buf, 0);
    }
};

test "unpack: files, symlinks and the diffID" {
    try @import("linux").sys.skipWithoutOpenat2();
    var archive: TestArchive = .{};
    archive.add(.{ .name = "etc/", .typeflag = '5', .mode = 0o750 }, "");
    archive.add(.{ .name = "etc/hostname", .mode = 0o640, .mtime = 1600000000 }, "box\n");
    archive.add(.{ .name = "etc/link", .typeflag = '2', .link = "hostname" }, "");
    const bytes = archive.finish();
    var t: TestRun = .{ .tmp = std.testing.tmpDir(.{}) };
    defer t.tmp.cleanup();
    var result: Result = undefined;
    const size = try t.run(bytes, 0, &result);
    try testing.expectEqualStrings("", t.message());
    try testing.expectEqual(@as(i64, @intCast(bytes.len)), size);
    var digest: [32]u8 = undefined;
    std.crypto.hash.sha2.Sha256.hash(bytes, &digest, .{});
    try testing.expectEqualStrings(&std.fmt.bytesToHex(digest, .lower), &result.digest);
    var buf: [16]u8 = undefined;
    try testing.expectEqualStrings("box\n", try t.tmp.dir.readFile("dest/etc/link", &buf));
    const st = try t.tmp.dir.statFile("dest/etc/hostname");
    try testing.expectEqual(@as(u32, 0o640), @as(u32, @intCast(st.mode & 0o7777)));
    try testing.expectEqual(@as(i128, 1600000000 * std.time.ns_per_s), st.mtime);
}

test "unpack: names and symlinks cannot lead out of the destination" {
    try @import("linux").sys.skipWithoutOpenat2();
    var archive: TestArchive = .{};
    archive.add(.{ .name = "../../escape-dotdot" }, "a");
    archive.add(.{ .name = "up", .typeflag = '2', .link = "../../../.." }, "");
    archive.add(.{ .name = "up/escape-link" }, "b");
    archive.add(.{ .name = "abs", .typeflag = '2', .link = "/" }, "");
    archive.add(.{ .name = "abs/escape-abs" }, "c");
    archive.add(.{ .name = "hard", .typeflag = '1', .link = "../up/../escape-link" }, "");
    const bytes = archive.finish();
    var t: TestRun = .{ .tmp = std.testing.tmpDir(.{ .iterate = true }) };
    defer t.tmp.cleanup();
    var result: Result = undefined;
    _ = try t.run(bytes, 0, &result);
    try testing.expectEqualStrings("", t.message());
    var buf: [4]u8 = undefined;
    try testing.expectEqualStrings("a", try t.tmp.dir.readFile("dest/escape-dotdot", &buf));
    try testing.expectEqualStrings("b", try t.tmp.dir.readFile("dest/escape-link", &buf));
    try testing.expectEqualStrings("c", try t.tmp.dir.readFile("dest/escape-abs", &buf));
    try testing.expectEqualStrings("b", try t.tmp.dir.readFile("dest/hard", &buf));
    // Nothing beside dest: only the archive and dest itself in the test's directory.
    var it = t.tmp.dir.iterate();
    var count: usize = 0;
    while (try it.next()) |_| count += 1;
    try testing.expectEqual(@as(usize, 2), count);
}

test "unpack: a truncated archive names the entry" {
    var archive: TestArchive = .{};
    archive.add(.{ .name = "big" }, "x" ** 2000);
    const bytes = archive.finish();
    var t: TestRun = .{ .tmp = std.testing.tmpDir(.{}) };
    defer t.tmp.cleanup();
    var result: Result = undefined;
    const status = try t.run(bytes[0 .. tar.block_len + 1000], 0, &result);
    try testing.expect(status < 0);
    try testing.expectEqualStrings("layer entry \"big\": archive is truncated (inside file data)", t.message());
}

test "unpack: whiteouts need the layer flag" {
    try @import("linux").sys.skipWithoutOpenat2();
    var archive: TestArchive = .{};
    archive.add(.{ .name = "dir/.wh.gone" }, "");
    const bytes = archive.finish();
    var t: TestRun = .{ .tmp = std.testing.tmpDir(.{}) };
    defer t.tmp.cleanup();
    var result: Result = undefined;
    _ = try t.run(bytes, 0, &result);
    try testing.expectEqualStrings("", t.message());
    _ = try t.tmp.dir.statFile("dest/dir/.wh.gone");
}

test "unpack: an image archive refuses fifos and device nodes" {
    const kinds = [_]struct { typeflag: u8, text: []const u8 }{
        .{ .typeflag = '6', .text = "archive entry \"manifest.json\": is a fifo (an image archive holds only files, directories and links): refused" },
        .{ .typeflag = '3', .text = "archive entry \"manifest.json\": is a character device (an image archive holds only files, directories and links): refused" },
        .{ .typeflag = '4', .text = "archive entry \"manifest.json\": is a block device (an image archive holds only files, directories and links): refused" },
    };
    for (kinds) |k| {
        var archive: TestArchive = .{};
        archive.add(.{ .name = "blobs/", .typeflag = '5', .mode = 0o755 }, "");
        archive.add(.{ .name = "repeated.tar", .typeflag = '2', .link = "blobs" }, "");
        archive.add(.{ .name = "manifest.json", .typeflag = k.typeflag, .dev_major = 1, .dev_minor = 5 }, "");
        const bytes = archive.finish();
        var t: TestRun = .{ .tmp = std.testing.tmpDir(.{}) };
        defer t.tmp.cleanup();
        var result: Result = undefined;
        const status = try t.run(bytes, flag_archive, &result);
        try testing.expect(status < 0);
        try testing.expectEqualStrings(k.text, t.message());
        try testing.expectError(error.FileNotFound, t.tmp.dir.statFile("dest/manifest.json"));
        // Files, directories and links before it were made as usual.
        _ = try t.tmp.dir.statFile("dest/blobs");
    }
}

test "pack then unpackStream: symlinks stay symlinks, setid bits and owners as asked" {
    try @import("linux").sys.skipWithoutOpenat2();
    var tmp = std.testing.tmpDir(.{});
    defer tmp.cleanup();
    try tmp.dir.makePath("src/sub");
    try tmp.dir.writeFile(.{ .sub_path = "src/sub/file", .data = "data" });
    try tmp.dir.symLink("/", "src/up", .{});
    try tmp.dir.symLink("/etc/passwd", "src/sub/pw", .{});
    try tmp.dir.makePath("dest");
    var setid = try tmp.dir.openFile("src/sub/file", .{});
    try setid.chmod(0o4755);
    setid.close();
    var src = try tmp.dir.openDir("src", .{});
    defer src.close();
    var dest = try tmp.dir.openDir("dest", .{});
    defer dest.close();
    const p = try sys_pipe();
    var err_buf: [512]u8 = @splat(0);
    // The pipe holds the small archive whole: pack first, then extract.
    var w: pack.Writer = .{ .fd = p[1] };
    const wk = try testing.allocator.create(pack.Walker);
    defer testing.allocator.destroy(wk);
    try wk.init(&w, .{}, testing.allocator, .{ .buf = &err_buf });
    try wk.pack(src.fd, ".");
    try wk.finish();
    wk.deinit();
    _ = linux.close(p[1]);
    const rc = unpackStream(p[0], dest.fd, .{ .owner = .{ .uid = linux.getuid(), .gid = linux.getgid() }, .strip_setid = true, .prefix = "copy" }, "test", .{ .buf = &err_buf });
    _ = linux.close(p[0]);
    try testing.expectEqualStrings("", std.mem.sliceTo(&err_buf, 0));
    try testing.expect(rc > 0);
    var buf: [64]u8 = undefined;
    try testing.expectEqualStrings("data", try dest.readFile("copy/sub/file", &buf));
    try testing.expectEqualStrings("/", try dest.readLink("copy/up", &buf));
    try testing.expectEqualStrings("/etc/passwd", try dest.readLink("copy/sub/pw", &buf));
    const st = try dest.statFile("copy/sub/file");
    try testing.expectEqual(@as(u32, 0o755), @as(u32, @intCast(st.mode & 0o7777)));
}

fn sys_pipe() ![2]linux.fd_t {
    var fds: [2]i32 = undefined;
    if (errnoOf(linux.pipe2(&fds, .{ .CLOEXEC = true })) != .SUCCESS) return error.PipeFailed;
    // A bigger pipe so the test can write the whole archive before reading it.
    _ = linux.fcntl(fds[1], 1031, 1 << 20); // F_SETPIPE_SZ
    return fds;
}

test "pack: layer mode sorts names, links the first name, leaves out empty mount stubs" {
    var tmp = std.testing.tmpDir(.{});
    defer tmp.cleanup();
    try tmp.dir.makePath("up/etc");
    try tmp.dir.writeFile(.{ .sub_path = "up/etc/hosts", .data = "" });
    try tmp.dir.writeFile(.{ .sub_path = "up/etc/motd", .data = "hi" });
    try tmp.dir.writeFile(.{ .sub_path = "up/b", .data = "x" });
    try std.posix.linkat(tmp.dir.fd, "up/b", tmp.dir.fd, "up/a", 0);
    var up = try tmp.dir.openDir("up", .{});
    defer up.close();
    const p = try sys_pipe();
    var err_buf: [512]u8 = @splat(0);
    var w: pack.Writer = .{ .fd = p[1] };
    const wk = try testing.allocator.create(pack.Walker);
    defer testing.allocator.destroy(wk);
    try wk.init(&w, .{ .root_entry = false, .layer = true }, testing.allocator, .{ .buf = &err_buf });
    try wk.pack(up.fd, ".");
    try wk.finish();
    wk.deinit();
    _ = linux.close(p[1]);
    var bytes: [16 * 1024]u8 = undefined;
    var len: usize = 0;
    while (true) {
        const n = linux.read(p[0], bytes[len..].ptr, bytes.len - len);
        if (n == 0 or errnoOf(n) != .SUCCESS) break;
        len += n;
    }
    _ = linux.close(p[0]);
    var names: [8][]const u8 = undefined;
    var kinds: [8]tar.Typeflag = undefined;
    var headers: [8]tar.Header = undefined;
    var count: usize = 0;
    var pos: usize = 0;
    while (pos + tar.block_len <= len and count < names.len) {
        const block: *const [tar.block_len]u8 = bytes[pos..][0..tar.block_len];
        if (tar.isZeroBlock(block)) break;
        headers[count] = try tar.parseHeader(block);
        names[count] = headers[count].name();
        kinds[count] = headers[count].typeflag;
        pos += tar.block_len + @as(usize, @intCast(headers[count].paddedSize()));
        count += 1;
    }
    try testing.expectEqual(@as(usize, 4), count);
    try testing.expectEqualStrings("a", names[0]);
    try testing.expectEqual(tar.Typeflag.file, kinds[0]);
    try testing.expectEqualStrings("b", names[1]);
    try testing.expectEqual(tar.Typeflag.hardlink, kinds[1]);
    try testing.expectEqualStrings("a", headers[1].link());
    try testing.expectEqualStrings("etc/", names[2]);
    try testing.expectEqualStrings("etc/motd", names[3]);
}
