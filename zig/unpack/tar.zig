//! Tar header and PAX parsing: pure functions over bytes, no I/O.
//!
//! Our own parser rather than std.tar: Zig 0.15.2's std.tar iterator yields only files,
//! directories and symlinks (no hard links, devices, fifos), drops uid/gid/mtime and ignores
//! PAX `SCHILY.xattr.*`, all of which an image layer needs. Formats read: ustar (with prefix),
//! GNU (`L`/`K` long names, base-256 numbers), PAX (`x` local headers; `g` is skipped, as Docker
//! does), and V7.
const std = @import("std");
const assert = std.debug.assert;

pub const block_len = 512;
/// Longest entry or link name accepted from the archive, before cleaning (PATH_MAX).
pub const max_path_len = 4096;
/// Largest PAX extended header body accepted; bounds the one buffer it is read into.
pub const max_pax_len = 1 << 20;
/// Headers (of any kind) per archive: a runaway archive stops with an error, not a hang.
pub const max_entries = 10_000_000;
/// Linux's XATTR_NAME_MAX and XATTR_SIZE_MAX.
pub const max_xattr_name_len = 255;
pub const max_xattr_value_len = 65536;

pub const Error = error{
    BadChecksum,
    BadNumber,
    BadPax,
    NameTooLong,
    UnsupportedType,
    UnsupportedSparse,
    XattrTooLarge,
};

pub const Time = struct {
    sec: i64,
    nsec: u32,
};

/// What a header introduces. `file` covers '0', '\0' and '7' (contiguous).
pub const Typeflag = enum {
    file,
    hardlink,
    symlink,
    char_device,
    block_device,
    directory,
    fifo,
    /// 'x': PAX attributes for the next entry.
    pax_local,
    /// 'g': PAX attributes for the rest of the archive; skipped (Docker and Go ignore them).
    pax_global,
    /// 'L': the next entry's name is this header's data.
    gnu_long_name,
    /// 'K': the next entry's link name is this header's data.
    gnu_long_link,
    /// 'V' volume label, 'D' GNU dump directory listing: data is skipped, nothing extracted.
    ignored,
};

/// One parsed 512-byte header. Names live in this struct so an Entry can point into it.
pub const Header = struct {
    typeflag: Typeflag,
    name_buf: [256]u8,
    name_len: u16,
    link_buf: [100]u8,
    link_len: u8,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    mtime: i64,
    dev_major: u32,
    dev_minor: u32,

    pub fn name(h: *const Header) []const u8 {
        return h.name_buf[0..h.name_len];
    }

    pub fn link(h: *const Header) []const u8 {
        return h.link_buf[0..h.link_len];
    }

    /// Bytes of data that follow the header, padded to a whole block.
    pub fn paddedSize(h: *const Header) u64 {
        return padded(h.size);
    }
};

pub fn padded(size: u64) u64 {
    assert(size <= std.math.maxInt(u64) - block_len);
    return (size + block_len - 1) / block_len * block_len;
}

/// An all-zero block marks the end of the archive.
pub fn isZeroBlock(block: *const [block_len]u8) bool {
    const zero: [block_len]u8 = @splat(0);
    return std.mem.eql(u8, block, &zero);
}

pub fn parseHeader(block: *const [block_len]u8) Error!Header {
    try verifyChecksum(block);
    const magic = block[257..265];
    const posix = std.mem.eql(u8, magic[0..6], "ustar\x00");
    const typeflag = try parseTypeflag(block[156]);

    var h: Header = .{
        .typeflag = typeflag,
        .name_buf = undefined,
        .name_len = 0,
        .link_buf = undefined,
        .link_len = 0,
        .mode = @intCast(try parseUnsigned(block[100..108], 0o7777_7777) & 0o7777),
        .uid = @intCast(try parseUnsigned(block[108..116], std.math.maxInt(u32) - 1)),
        .gid = @intCast(try parseUnsigned(block[116..124], std.math.maxInt(u32) - 1)),
        .size = try parseUnsigned(block[124..136], std.math.maxInt(i64)),
        .mtime = try parseNumber(block[136..148]),
        .dev_major = 0,
        .dev_minor = 0,
    };
    // GNU tar reuses the prefix area for atime/ctime; only POSIX ustar has a prefix.
    const prefix = if (posix) cString(block[345..500]) else "";
    const base = cString(block[0..100]);
    if (prefix.len > 0) {
        @memcpy(h.name_buf[0..prefix.len], prefix);
        h.name_buf[prefix.len] = '/';
        @memcpy(h.name_buf[prefix.len + 1 ..][0..base.len], base);
        h.name_len = @intCast(prefix.len + 1 + base.len);
    } else {
        @memcpy(h.name_buf[0..base.len], base);
        h.name_len = @intCast(base.len);
    }
    const link_name = cString(block[157..257]);
    @memcpy(h.link_buf[0..link_name.len], link_name);
    h.link_len = @intCast(link_name.len);
    if (typeflag == .char_device or typeflag == .block_device) {
        h.dev_major = @intCast(try parseUnsigned(block[329..337], std.math.maxInt(u32)));
        h.dev_minor = @intCast(try parseUnsigned(block[337..345], std.math.maxInt(u32)));
    }
    // V7 and old GNU archives mark directories only by a trailing slash.
    if (typeflag == .file and h.name_len > 0 and h.name_buf[h.name_len - 1] == '/') {
        h.typeflag = .directory;
    }
    return h;
}

fn parseTypeflag(flag: u8) Error!Typeflag {
    return switch (flag) {
        '0', 0, '7' => .file,
        '1' => .hardlink,
        '2' => .symlink,
        '3' => .char_device,
        '4' => .block_device,
        '5' => .directory,
        '6' => .fifo,
        'x' => .pax_local,
        'g' => .pax_global,
        'L' => .gnu_long_name,
        'K' => .gnu_long_link,
        'V', 'D' => .ignored,
        'S' => error.UnsupportedSparse,
        else => error.UnsupportedType,
    };
}

/// The stored checksum is the sum of the header's bytes with the checksum field read as
/// spaces. Historic tars summed signed chars; both are accepted, as GNU tar and Go do.
fn verifyChecksum(block: *const [block_len]u8) Error!void {
    const stored = parseUnsigned(block[148..156], 0o7777777) catch return error.BadChecksum;
    var unsigned_sum: u64 = 0;
    var signed_sum: i64 = 0;
    for (block, 0..) |byte, i| {
        const b: u8 = if (i >= 148 and i < 156) ' ' else byte;
        unsigned_sum += b;
        signed_sum += @as(i8, @bitCast(b));
    }
    if (stored == unsigned_sum) return;
    if (signed_sum >= 0 and stored == @as(u64, @intCast(signed_sum))) return;
    return error.BadChecksum;
}

/// Bytes up to the first NUL.
pub fn cString(field: []const u8) []const u8 {
    const end = std.mem.indexOfScalar(u8, field, 0) orelse field.len;
    return field[0..end];
}

fn parseUnsigned(field: []const u8, max: u64) Error!u64 {
    const value = try parseNumber(field);
    if (value < 0 or @as(u64, @intCast(value)) > max) return error.BadNumber;
    return @intCast(value);
}

/// A numeric field: octal text (padded with spaces or NULs), or GNU base-256 when the first
/// byte has its high bit set (0x80 positive, 0xff negative two's complement).
pub fn parseNumber(field: []const u8) Error!i64 {
    assert(field.len > 0 and field.len <= 12);
    if (field[0] & 0x80 != 0) return parseBase256(field);
    var i: usize = 0;
    while (i < field.len and (field[i] == ' ' or field[i] == 0)) i += 1;
    var value: u64 = 0;
    var digits: usize = 0;
    while (i < field.len and field[i] >= '0' and field[i] <= '7') : (i += 1) {
        value = value * 8 + (field[i] - '0');
        digits += 1;
    }
    // Octal fields are at most 12 bytes: 36 bits, no overflow possible.
    assert(digits <= 12);
    while (i < field.len) : (i += 1) {
        if (field[i] != ' ' and field[i] != 0) return error.BadNumber;
    }
    return @intCast(value);
}

fn parseBase256(field: []const u8) Error!i64 {
    const invert: u8 = if (field[0] & 0x40 != 0) 0xff else 0;
    var value: u64 = 0;
    for (field, 0..) |byte, i| {
        var b = byte ^ invert;
        if (i == 0) b &= 0x7f;
        if (value >> 56 != 0) return error.BadNumber;
        value = value << 8 | b;
    }
    if (value >> 63 != 0) return error.BadNumber;
    const magnitude: i64 = @intCast(value);
    return if (invert == 0xff) ~magnitude else magnitude;
}

/// Attributes from a PAX extended header; slices point into the header's data.
pub const Pax = struct {
    path: ?[]const u8 = null,
    linkpath: ?[]const u8 = null,
    size: ?u64 = null,
    uid: ?u32 = null,
    gid: ?u32 = null,
    mtime: ?Time = null,
    /// The whole validated record block: `xattrs()` walks it again for `SCHILY.xattr.*`.
    records: []const u8 = "",

    pub fn xattrs(pax: *const Pax) XattrIterator {
        return .{ .records = .{ .data = pax.records } };
    }
};

pub const Record = struct {
    key: []const u8,
    value: []const u8,
};

/// Walks `"<len> <key>=<value>\n"` records. Each record is at least 5 bytes, so the walk
/// takes at most data.len / 5 steps.
pub const RecordIterator = struct {
    data: []const u8,
    pos: usize = 0,

    pub fn next(it: *RecordIterator) Error!?Record {
        if (it.pos == it.data.len) return null;
        assert(it.pos < it.data.len);
        const rest = it.data[it.pos..];
        const space = std.mem.indexOfScalar(u8, rest[0..@min(rest.len, 8)], ' ') orelse
            return error.BadPax;
        if (space == 0) return error.BadPax;
        const len = std.fmt.parseUnsigned(usize, rest[0..space], 10) catch return error.BadPax;
        if (len < space + 4 or len > rest.len) return error.BadPax;
        const record = rest[0..len];
        if (record[len - 1] != '\n') return error.BadPax;
        const body = record[space + 1 .. len - 1];
        const eq = std.mem.indexOfScalar(u8, body, '=') orelse return error.BadPax;
        if (eq == 0) return error.BadPax;
        it.pos += len;
        return .{ .key = body[0..eq], .value = body[eq + 1 ..] };
    }
};

pub const Xattr = struct {
    name: []const u8,
    value: []const u8,
};

pub const xattr_prefix = "SCHILY.xattr.";

/// Iterates the `SCHILY.xattr.*` records of an already validated PAX block.
pub const XattrIterator = struct {
    records: RecordIterator,

    pub fn next(it: *XattrIterator) ?Xattr {
        // parsePax validated every record, so the walk cannot fail here.
        while (it.records.next() catch unreachable) |record| {
            if (std.mem.startsWith(u8, record.key, xattr_prefix)) {
                return .{ .name = record.key[xattr_prefix.len..], .value = record.value };
            }
        }
        return null;
    }
};

pub fn parsePax(data: []const u8) Error!Pax {
    assert(data.len <= max_pax_len);
    var pax: Pax = .{ .records = data };
    var it: RecordIterator = .{ .data = data };
    while (try it.next()) |record| {
        const key = record.key;
        const value = record.value;
        // An empty value deletes the attribute: the ustar field applies again.
        const set = value.len > 0;
        if (std.mem.eql(u8, key, "path")) {
            pax.path = if (set) try checkName(value) else null;
        } else if (std.mem.eql(u8, key, "linkpath")) {
            pax.linkpath = if (set) try checkName(value) else null;
        } else if (std.mem.eql(u8, key, "size")) {
            pax.size = if (set) try parseDecimal(value, std.math.maxInt(i64)) else null;
        } else if (std.mem.eql(u8, key, "uid")) {
            pax.uid = if (set) @intCast(try parseDecimal(value, std.math.maxInt(u32) - 1)) else null;
        } else if (std.mem.eql(u8, key, "gid")) {
            pax.gid = if (set) @intCast(try parseDecimal(value, std.math.maxInt(u32) - 1)) else null;
        } else if (std.mem.eql(u8, key, "mtime")) {
            pax.mtime = if (set) try parsePaxTime(value) else null;
        } else if (std.mem.startsWith(u8, key, xattr_prefix)) {
            const name = key[xattr_prefix.len..];
            if (name.len == 0 or std.mem.indexOfScalar(u8, name, 0) != null) return error.BadPax;
            if (name.len > max_xattr_name_len) return error.XattrTooLarge;
            if (value.len > max_xattr_value_len) return error.XattrTooLarge;
        } else if (std.mem.startsWith(u8, key, "GNU.sparse.")) {
            return error.UnsupportedSparse;
        }
    }
    return pax;
}

fn checkName(value: []const u8) Error![]const u8 {
    if (value.len > max_path_len) return error.NameTooLong;
    return value;
}

fn parseDecimal(text: []const u8, max: u64) Error!u64 {
    const value = std.fmt.parseUnsigned(u64, text, 10) catch return error.BadNumber;
    if (value > max) return error.BadNumber;
    return value;
}

/// PAX times are decimal seconds with an optional fraction: "1700000000.5", "-1.25".
pub fn parsePaxTime(text: []const u8) Error!Time {
    const negative = text.len > 0 and text[0] == '-';
    const unsigned_text = if (negative) text[1..] else text;
    const dot = std.mem.indexOfScalar(u8, unsigned_text, '.') orelse unsigned_text.len;
    const whole = unsigned_text[0..dot];
    if (whole.len == 0) return error.BadNumber;
    const sec = std.fmt.parseUnsigned(i64, whole, 10) catch return error.BadNumber;
    var nsec: u32 = 0;
    if (dot < unsigned_text.len) {
        const fraction = unsigned_text[dot + 1 ..];
        for (fraction, 0..) |c, i| {
            if (c < '0' or c > '9') return error.BadNumber;
            // Precision beyond nanoseconds is dropped, not rounded.
            if (i < 9) nsec = nsec * 10 + (c - '0');
        }
        var scale = @min(fraction.len, 9);
        while (scale < 9) : (scale += 1) nsec *= 10;
    }
    if (!negative) return .{ .sec = sec, .nsec = nsec };
    if (nsec == 0) return .{ .sec = -sec, .nsec = 0 };
    return .{ .sec = -sec - 1, .nsec = 1_000_000_000 - nsec };
}

pub const EntryKind = enum {
    file,
    hardlink,
    symlink,
    char_device,
    block_device,
    directory,
    fifo,
};

/// An extractable entry: a header merged with the GNU long names and PAX attributes that
/// preceded it. Slices point into the Header and into the callers' meta buffers.
pub const Entry = struct {
    kind: EntryKind,
    path: []const u8,
    link: []const u8,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    mtime: Time,
    dev_major: u32,
    dev_minor: u32,
    pax: Pax,
};

/// What the meta headers ('L', 'K', 'x') before an entry said.
pub const Meta = struct {
    long_name: ?[]const u8 = null,
    long_link: ?[]const u8 = null,
    pax: Pax = .{},
};

/// A GNU 'L'/'K' body: the name up to its NUL terminator.
pub fn parseLongName(data: []const u8) Error![]const u8 {
    const value = cString(data);
    if (value.len > max_path_len) return error.NameTooLong;
    return value;
}

/// Merges a header with its meta headers. PAX wins over GNU long names, which win over
/// the ustar fields (Go's archive/tar order).
pub fn entryFromHeader(h: *const Header, meta: *const Meta) Entry {
    const kind: EntryKind = switch (h.typeflag) {
        .file => .file,
        .hardlink => .hardlink,
        .symlink => .symlink,
        .char_device => .char_device,
        .block_device => .block_device,
        .directory => .directory,
        .fifo => .fifo,
        .pax_local, .pax_global, .gnu_long_name, .gnu_long_link, .ignored => unreachable,
    };
    const path = meta.pax.path orelse meta.long_name orelse h.name();
    const link_name = meta.pax.linkpath orelse meta.long_link orelse h.link();
    return .{
        .kind = kind,
        .path = path,
        .link = link_name,
        .mode = h.mode,
        .uid = meta.pax.uid orelse h.uid,
        .gid = meta.pax.gid orelse h.gid,
        .size = meta.pax.size orelse h.size,
        .mtime = meta.pax.mtime orelse .{ .sec = h.mtime, .nsec = 0 },
        .dev_major = h.dev_major,
        .dev_minor = h.dev_minor,
        .pax = meta.pax,
    };
}

// ---------------------------------------------------------------------------------------
// Tests

const testing = std.testing;

pub const TestHeader = struct {
    name: []const u8 = "file.txt",
    typeflag: u8 = '0',
    size: u64 = 0,
    mode: u32 = 0o644,
    uid: u32 = 0,
    gid: u32 = 0,
    mtime: u64 = 0,
    link: []const u8 = "",
    prefix: []const u8 = "",
    magic: []const u8 = "ustar\x0000",
    dev_major: u32 = 0,
    dev_minor: u32 = 0,
};

fn writeOctal(field: []u8, value: u64) void {
    _ = std.fmt.bufPrint(field[0 .. field.len - 1], "{o:0>[1]}", .{ value, field.len - 1 }) catch unreachable;
    field[field.len - 1] = 0;
}

pub fn testBlock(spec: TestHeader) [block_len]u8 {
    var b: [block_len]u8 = @splat(0);
    @memcpy(b[0..spec.name.len], spec.name);
    writeOctal(b[100..108], spec.mode);
    writeOctal(b[108..116], spec.uid);
    writeOctal(b[116..124], spec.gid);
    writeOctal(b[124..136], spec.size);
    writeOctal(b[136..148], spec.mtime);
    b[156] = spec.typeflag;
    @memcpy(b[157..][0..spec.link.len], spec.link);
    @memcpy(b[257..][0..spec.magic.len], spec.magic);
    writeOctal(b[329..337], spec.dev_major);
    writeOctal(b[337..345], spec.dev_minor);
    @memcpy(b[345..][0..spec.prefix.len], spec.prefix);
    setChecksum(&b);
    return b;
}

fn setChecksum(b: *[block_len]u8) void {
    @memset(b[148..156], ' ');
    var sum: u64 = 0;
    for (b) |byte| sum += byte;
    _ = std.fmt.bufPrint(b[148..155], "{o:0>6}\x00", .{sum}) catch unreachable;
}

test "parse a ustar regular file" {
    const b = testBlock(.{ .name = "etc/passwd", .size = 1234, .mode = 0o4755, .uid = 1000, .gid = 50, .mtime = 1700000000 });
    const h = try parseHeader(&b);
    try testing.expectEqual(Typeflag.file, h.typeflag);
    try testing.expectEqualStrings("etc/passwd", h.name());
    try testing.expectEqual(@as(u64, 1234), h.size);
    try testing.expectEqual(@as(u64, 1536), h.paddedSize());
    try testing.expectEqual(@as(u32, 0o4755), h.mode);
    try testing.expectEqual(@as(u32, 1000), h.uid);
    try testing.expectEqual(@as(u32, 50), h.gid);
    try testing.expectEqual(@as(i64, 1700000000), h.mtime);
}

test "ustar prefix joins the name; GNU magic ignores the prefix area" {
    const posix = testBlock(.{ .name = "file", .prefix = "a/b" });
    try testing.expectEqualStrings("a/b/file", (try parseHeader(&posix)).name());
    const gnu = testBlock(.{ .name = "file", .prefix = "junk", .magic = "ustar  \x00" });
    try testing.expectEqualStrings("file", (try parseHeader(&gnu)).name());
}

test "bad checksum is rejected" {
    var b = testBlock(.{});
    b[0] = 'X';
    try testing.expectError(error.BadChecksum, parseHeader(&b));
}

test "devices, links, trailing-slash directories" {
    const dev = try parseHeader(&testBlock(.{ .name = "dev/null", .typeflag = '3', .dev_major = 1, .dev_minor = 3 }));
    try testing.expectEqual(Typeflag.char_device, dev.typeflag);
    try testing.expectEqual(@as(u32, 1), dev.dev_major);
    try testing.expectEqual(@as(u32, 3), dev.dev_minor);
    const sym = try parseHeader(&testBlock(.{ .name = "l", .typeflag = '2', .link = "/etc/x" }));
    try testing.expectEqualStrings("/etc/x", sym.link());
    const old_dir = try parseHeader(&testBlock(.{ .name = "dir/", .typeflag = 0 }));
    try testing.expectEqual(Typeflag.directory, old_dir.typeflag);
    try testing.expectError(error.UnsupportedSparse, parseHeader(&testBlock(.{ .typeflag = 'S' })));
    try testing.expectError(error.UnsupportedType, parseHeader(&testBlock(.{ .typeflag = 'Z' })));
}

test "numbers: octal padding, base-256, garbage" {
    try testing.expectEqual(@as(i64, 0o755), try parseNumber("  000755 \x00"));
    try testing.expectEqual(@as(i64, 0), try parseNumber("\x00\x00\x00\x00\x00\x00\x00\x00"));
    try testing.expectError(error.BadNumber, parseNumber("0007x5\x00\x00"));
    const big = [_]u8{ 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34 };
    try testing.expectEqual(@as(i64, 0x1234), try parseNumber(&big));
    const minus_one: [12]u8 = @splat(0xff);
    try testing.expectEqual(@as(i64, -1), try parseNumber(&minus_one));
    const huge = [_]u8{ 0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    try testing.expectError(error.BadNumber, parseNumber(&huge));
}

test "PAX records: path, size, ids, mtime, xattrs" {
    const data = "30 path=a/very/long/name/here\n" ++
        "16 size=9999999\n" ++
        "12 uid=1000\n" ++
        "30 mtime=1700000000.123456789\n" ++
        "41 SCHILY.xattr.security.capability=\x01\x00\x00\x02\n" ++
        "29 SCHILY.xattr.user.foo=b=r\n" ++
        "17 comment=hello\n";
    const pax = try parsePax(data);
    try testing.expectEqualStrings("a/very/long/name/here", pax.path.?);
    try testing.expectEqual(@as(u64, 9999999), pax.size.?);
    try testing.expectEqual(@as(u32, 1000), pax.uid.?);
    try testing.expectEqual(@as(?u32, null), pax.gid);
    try testing.expectEqual(Time{ .sec = 1700000000, .nsec = 123456789 }, pax.mtime.?);
    var it = pax.xattrs();
    const cap = it.next().?;
    try testing.expectEqualStrings("security.capability", cap.name);
    try testing.expectEqualSlices(u8, "\x01\x00\x00\x02", cap.value);
    const foo = it.next().?;
    try testing.expectEqualStrings("user.foo", foo.name);
    try testing.expectEqualStrings("b=r", foo.value);
    try testing.expectEqual(@as(?Xattr, null), it.next());
}

test "PAX records: malformed input is an error, never a crash" {
    try testing.expectError(error.BadPax, parsePax("5 a=b"));
    try testing.expectError(error.BadPax, parsePax("99 path=x\n"));
    try testing.expectError(error.BadPax, parsePax("3 \n"));
    try testing.expectError(error.BadPax, parsePax("10 noequal\n"));
    try testing.expectError(error.BadPax, parsePax("x path=a\n"));
    try testing.expectError(error.BadPax, parsePax("8 =abcd\n"));
    try testing.expectError(error.BadNumber, parsePax("12 uid=-100\n"));
    try testing.expectError(error.UnsupportedSparse, parsePax("22 GNU.sparse.major=1\n"));
    try testing.expectError(error.BadPax, parsePax("19 SCHILY.xattr.=v\n"));
    // A value of exactly what the length says, with an embedded newline, is legal.
    const pax = try parsePax("12 path=a\nb\n");
    try testing.expectEqualStrings("a\nb", pax.path.?);
}

test "PAX times, including negative fractions" {
    try testing.expectEqual(Time{ .sec = 5, .nsec = 0 }, try parsePaxTime("5"));
    try testing.expectEqual(Time{ .sec = 5, .nsec = 500_000_000 }, try parsePaxTime("5.5"));
    try testing.expectEqual(Time{ .sec = -2, .nsec = 750_000_000 }, try parsePaxTime("-1.25"));
    try testing.expectEqual(Time{ .sec = 1, .nsec = 123456789 }, try parsePaxTime("1.1234567891234"));
    try testing.expectError(error.BadNumber, parsePaxTime(".5"));
    try testing.expectError(error.BadNumber, parsePaxTime("1.5x"));
}

test "entries merge PAX over GNU long names over ustar fields" {
    const h = try parseHeader(&testBlock(.{ .name = "short", .typeflag = '2', .link = "l", .uid = 7 }));
    var meta: Meta = .{ .long_name = "gnu/long/name", .long_link = "gnu/link" };
    var e = entryFromHeader(&h, &meta);
    try testing.expectEqual(EntryKind.symlink, e.kind);
    try testing.expectEqualStrings("gnu/long/name", e.path);
    try testing.expectEqualStrings("gnu/link", e.link);
    meta.pax = try parsePax("13 path=paxp\n10 gid=42\n");
    e = entryFromHeader(&h, &meta);
    try testing.expectEqualStrings("paxp", e.path);
    try testing.expectEqual(@as(u32, 7), e.uid);
    try testing.expectEqual(@as(u32, 42), e.gid);
    try testing.expectEqualStrings("gnu/long/name", (try parseLongName("gnu/long/name\x00\x00")));
}

test "zero block" {
    const zero: [block_len]u8 = @splat(0);
    try testing.expect(isZeroBlock(&zero));
    try testing.expect(!isZeroBlock(&testBlock(.{})));
}
