//! The uncompressed tar stream of a layer file: plain, gzip or zstd (detected by magic
//! bytes), decompressed as it is read with std.compress, hashed (sha256, the OCI diffID,
//! with SHA-NI when the CPU has it: sha256.zig) and counted. Memory is fixed at init: an input buffer and one decompression window.
const std = @import("std");
const assert = std.debug.assert;
const flate = std.compress.flate;
const zstd = std.compress.zstd;
const sha256 = @import("sha256.zig");
const Sha256 = sha256.Sha256;

pub const Format = enum { plain, gzip, zstd };

const input_buffer_len = 256 * 1024;
/// Plain and gzip output buffer. flate needs 64 KiB (two history windows); more lets one
/// peek hand a bigger slice to write(2).
const output_buffer_len = 1024 * 1024;
/// zstd frames declare their window. The spec recommends decoders support 8 MiB; zstd's own
/// CLI accepts up to 128 MiB (`--long`) by default, so do we, sized from the first frame.
pub const zstd_window_min = zstd.default_window_len;
pub const zstd_window_max = 128 * 1024 * 1024;
/// Gzip members (concatenated gzip files, as pigz and `cat a.gz b.gz` make).
const max_gzip_members = 1 << 20;

pub const Error = error{ ReadFailed, OutOfMemory };

/// Why the stream failed: filled in before error.ReadFailed is returned.
pub const Failure = union(enum) {
    read: anyerror,
    gzip: anyerror,
    zstd: anyerror,
    gzip_crc,
    gzip_size,
    gzip_trailing_garbage,
    gzip_too_many_members,
    zstd_window: u64,
};

pub const Stream = struct {
    format: Format,
    file_reader: std.fs.File.Reader,
    gzip: flate.Decompress,
    zstd: zstd.Decompress,
    /// The decompressed bytes: the file itself, or a decompressor's reader.
    out: *std.Io.Reader,
    input_buffer: []u8,
    output_buffer: []u8,
    allocator: std.mem.Allocator,
    sha: Sha256,
    /// CRC-32 and length of the current gzip member: std.compress.flate reads the gzip
    /// trailer but does not check it.
    crc: Crc32,
    member_len: u32,
    members: u32,
    total: u64,
    failure: ?Failure,

    /// Initialises in place: `out` points into the Stream, so it must not move afterwards.
    /// `detect` false: the stream is plain tar whatever its first bytes (a pull's CLI inflated
    /// it already; a layer compressed twice is then a bad tar, not inflated again here).
    pub fn init(s: *Stream, file: std.fs.File, allocator: std.mem.Allocator, detect_format: bool) Error!void {
        s.* = .{
            .format = .plain,
            .file_reader = undefined,
            .gzip = undefined,
            .zstd = undefined,
            .out = undefined,
            .input_buffer = &.{},
            .output_buffer = &.{},
            .allocator = allocator,
            .sha = .init(),
            .crc = .init(),
            .member_len = 0,
            .members = 0,
            .total = 0,
            .failure = null,
        };
        errdefer s.deinit();
        s.input_buffer = try allocator.alloc(u8, input_buffer_len);
        s.file_reader = file.readerStreaming(s.input_buffer);
        const in = &s.file_reader.interface;
        const head = in.peek(18) catch |err| switch (err) {
            error.EndOfStream => in.buffered(),
            error.ReadFailed => return s.fail(.{ .read = s.file_reader.err.? }),
        };
        s.format = if (detect_format) detect(head) else .plain;
        switch (s.format) {
            .plain => {
                // The file reader's own buffer serves the tar reader directly.
                s.out = in;
            },
            .gzip => {
                s.output_buffer = try allocator.alloc(u8, output_buffer_len);
                s.gzip = .init(in, .gzip, s.output_buffer);
                s.out = &s.gzip.reader;
                s.members = 1;
            },
            .zstd => {
                const window = zstdWindow(head);
                if (window > zstd_window_max) return s.fail(.{ .zstd_window = window });
                const window_len: u32 = @intCast(@max(window, zstd_window_min));
                // Room for a window of output beyond the window the decoder must keep: each
                // rebase then moves a window once per window of output, not once per block.
                s.output_buffer = try allocator.alloc(u8, 2 * @as(usize, window_len) + zstd.block_size_max);
                s.zstd = .init(in, s.output_buffer, .{ .window_len = window_len });
                s.out = &s.zstd.reader;
            },
        }
    }

    pub fn deinit(s: *Stream) void {
        if (s.output_buffer.len > 0) s.allocator.free(s.output_buffer);
        if (s.input_buffer.len > 0) s.allocator.free(s.input_buffer);
        s.output_buffer = &.{};
        s.input_buffer = &.{};
    }

    /// The next uncompressed bytes (at least one), or an empty slice at the end of the
    /// stream. Valid until the next peek; hand back what was used with `consume`.
    pub fn peek(s: *Stream) Error![]const u8 {
        // Each pass either returns or starts the next gzip member, which is bounded.
        for (0..max_gzip_members + 1) |_| {
            if (s.out.peekGreedy(1)) |data| {
                assert(data.len > 0);
                return data;
            } else |err| switch (err) {
                error.EndOfStream => if (!try s.nextMember()) return &.{},
                error.ReadFailed => return s.readFailed(),
            }
        }
        return s.fail(.gzip_too_many_members);
    }

    /// Marks the first `n` bytes of the last peek as read: they enter the digest.
    pub fn consume(s: *Stream, n: usize) void {
        const data = s.out.buffered();
        assert(n <= data.len);
        s.sha.update(data[0..n]);
        if (s.format == .gzip) {
            s.crc.update(data[0..n]);
            s.member_len +%= @truncate(n);
        }
        s.total += n;
        s.out.toss(n);
    }

    /// Fills `dest`; returns how many bytes it got, fewer only at the end of the stream.
    pub fn readExact(s: *Stream, dest: []u8) Error!usize {
        var filled: usize = 0;
        // Each pass copies at least one byte.
        while (filled < dest.len) {
            const data = try s.peek();
            if (data.len == 0) break;
            const n = @min(data.len, dest.len - filled);
            @memcpy(dest[filled..][0..n], data[0..n]);
            s.consume(n);
            filled += n;
        }
        return filled;
    }

    /// Skips `n` bytes (still hashing them); false when the stream ended first.
    pub fn skip(s: *Stream, n: u64) Error!bool {
        var left = n;
        while (left > 0) {
            const data = try s.peek();
            if (data.len == 0) return false;
            const step: usize = @intCast(@min(data.len, left));
            s.consume(step);
            left -= step;
        }
        return true;
    }

    /// Reads to the end (the digest covers bytes after the tar end-of-archive marker too).
    pub fn drain(s: *Stream) Error!void {
        while (true) {
            const data = try s.peek();
            if (data.len == 0) return;
            s.consume(data.len);
        }
    }

    pub fn digestHex(s: *Stream) [sha256.digest_length * 2]u8 {
        var digest: [sha256.digest_length]u8 = undefined;
        s.sha.final(&digest);
        return std.fmt.bytesToHex(digest, .lower);
    }

    /// At the end of a gzip member: check its trailer, then start the next member if the
    /// file holds one. Trailing zero bytes are ignored, as gzip(1) does.
    fn nextMember(s: *Stream) Error!bool {
        if (s.format != .gzip) return false;
        const trailer = s.gzip.container_metadata.gzip;
        if (trailer.crc != s.crc.final()) return s.fail(.gzip_crc);
        if (trailer.count != s.member_len) return s.fail(.gzip_size);
        const in = &s.file_reader.interface;
        const next = in.peekGreedy(1) catch |err| switch (err) {
            error.EndOfStream => return false,
            error.ReadFailed => return s.fail(.{ .read = s.file_reader.err.? }),
        };
        if (next.len >= 2 and next[0] == 0x1f and next[1] == 0x8b or
            next.len == 1 and next[0] == 0x1f)
        {
            if (s.members == max_gzip_members) return s.fail(.gzip_too_many_members);
            s.members += 1;
            s.gzip = .init(in, .gzip, s.output_buffer);
            s.crc = .init();
            s.member_len = 0;
            return true;
        }
        try s.skipZeros();
        return false;
    }

    fn skipZeros(s: *Stream) Error!void {
        const in = &s.file_reader.interface;
        while (true) {
            const data = in.peekGreedy(1) catch |err| switch (err) {
                error.EndOfStream => return,
                error.ReadFailed => return s.fail(.{ .read = s.file_reader.err.? }),
            };
            for (data) |byte| {
                if (byte != 0) return s.fail(.gzip_trailing_garbage);
            }
            in.toss(data.len);
        }
    }

    fn readFailed(s: *Stream) error{ReadFailed} {
        if (s.file_reader.err) |err| return s.fail(.{ .read = err });
        return switch (s.format) {
            .plain => s.fail(.{ .read = error.Unexpected }),
            .gzip => s.fail(.{ .gzip = s.gzip.err orelse error.Unexpected }),
            .zstd => s.fail(.{ .zstd = s.zstd.err orelse error.Unexpected }),
        };
    }

    fn fail(s: *Stream, failure: Failure) error{ReadFailed} {
        s.failure = failure;
        return error.ReadFailed;
    }
};

pub fn detect(head: []const u8) Format {
    if (head.len >= 2 and head[0] == 0x1f and head[1] == 0x8b) return .gzip;
    if (head.len >= 4 and std.mem.readInt(u32, head[0..4], .little) == 0xFD2FB528) return .zstd;
    return .plain;
}

/// The window the first zstd frame declares (0 when it cannot be read here: the decoder
/// then reports the problem itself).
fn zstdWindow(head: []const u8) u64 {
    assert(detect(head) == .zstd);
    var r: std.Io.Reader = .fixed(head[4..]);
    const header = zstd.Decompress.Frame.Zstandard.Header.decode(&r) catch return 0;
    return header.windowSize() orelse 0;
}

/// CRC-32 (gzip's, reflected 0xEDB88320) by slicing-by-8: std.hash.Crc32 goes a byte at a
/// time (~0.4 GB/s here), a third of a whole gzip unpack; this is several times faster.
pub const Crc32 = struct {
    const tables = makeTables();

    state: u32,

    pub fn init() Crc32 {
        return .{ .state = 0xffff_ffff };
    }

    pub fn update(c: *Crc32, bytes: []const u8) void {
        var crc = c.state;
        var rest = bytes;
        while (rest.len >= 8) : (rest = rest[8..]) {
            const lo = std.mem.readInt(u32, rest[0..4], .little) ^ crc;
            const hi = std.mem.readInt(u32, rest[4..8], .little);
            crc = tables[7][lo & 0xff] ^ tables[6][(lo >> 8) & 0xff] ^
                tables[5][(lo >> 16) & 0xff] ^ tables[4][lo >> 24] ^
                tables[3][hi & 0xff] ^ tables[2][(hi >> 8) & 0xff] ^
                tables[1][(hi >> 16) & 0xff] ^ tables[0][hi >> 24];
        }
        for (rest) |byte| crc = tables[0][(crc ^ byte) & 0xff] ^ (crc >> 8);
        c.state = crc;
    }

    pub fn final(c: Crc32) u32 {
        return ~c.state;
    }

    fn makeTables() [8][256]u32 {
        @setEvalBranchQuota(100_000);
        var t: [8][256]u32 = undefined;
        for (0..256) |i| {
            var crc: u32 = @intCast(i);
            for (0..8) |_| crc = if (crc & 1 != 0) (crc >> 1) ^ 0xEDB8_8320 else crc >> 1;
            t[0][i] = crc;
        }
        for (0..256) |i| {
            for (1..8) |k| t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
        }
        return t;
    }
};

/// One line describing a stream failure, e.g. "gzip stream is corrupt (InvalidCode)".
pub fn describe(failure: Failure, buf: []u8) []const u8 {
    const text = switch (failure) {
        .read => |err| switch (err) {
            error.EndOfStream => std.fmt.bufPrint(buf, "compressed stream is truncated", .{}),
            else => std.fmt.bufPrint(buf, "read error: {s}", .{@errorName(err)}),
        },
        .gzip => |err| switch (err) {
            error.EndOfStream => std.fmt.bufPrint(buf, "gzip stream is truncated", .{}),
            else => std.fmt.bufPrint(buf, "gzip stream is corrupt ({s})", .{@errorName(err)}),
        },
        .zstd => |err| switch (err) {
            error.EndOfStream => std.fmt.bufPrint(buf, "zstd stream is truncated", .{}),
            else => std.fmt.bufPrint(buf, "zstd stream is corrupt ({s})", .{@errorName(err)}),
        },
        .gzip_crc => std.fmt.bufPrint(buf, "gzip checksum mismatch (corrupt data)", .{}),
        .gzip_size => std.fmt.bufPrint(buf, "gzip length mismatch (corrupt data)", .{}),
        .gzip_trailing_garbage => std.fmt.bufPrint(buf, "trailing garbage after gzip stream", .{}),
        .gzip_too_many_members => std.fmt.bufPrint(buf, "more than {d} gzip members", .{max_gzip_members}),
        .zstd_window => |w| std.fmt.bufPrint(buf, "zstd window of {d} MiB exceeds the {d} MiB limit", .{ w >> 20, zstd_window_max >> 20 }),
    };
    return text catch "stream error";
}

const testing = std.testing;

test "Crc32 matches std.hash.Crc32" {
    var data: [1000]u8 = undefined;
    for (&data, 0..) |*b, i| b.* = @truncate(i *% 7 +% (i >> 3));
    for ([_]usize{ 0, 1, 7, 8, 9, 63, 1000 }) |len| {
        var fast: Crc32 = .init();
        fast.update(data[0 .. len / 2]);
        fast.update(data[len / 2 .. len]);
        try testing.expectEqual(std.hash.Crc32.hash(data[0..len]), fast.final());
    }
}

test "detect formats by magic" {
    try testing.expectEqual(Format.gzip, detect("\x1f\x8b\x08\x00"));
    try testing.expectEqual(Format.zstd, detect("\x28\xb5\x2f\xfd\x00"));
    try testing.expectEqual(Format.plain, detect("etc/"));
    try testing.expectEqual(Format.plain, detect(""));
}
