//! The container's log in Docker's json-file format: one record per line of output,
//! `{"log":"text\n","stream":"stdout","time":"2026-11-23T18:22:21.123456789Z"}`, so `tsd logs`
//! works for every container (detached or not) and tools that read Docker's format read ours.
//! A line longer than `line_max` is split into several records (Docker's 16 KiB buffer does
//! the same); a last line without a newline is written when its stream closes.
//! Growth is bounded: past `max_size` bytes the file rotates to `<path>.1` … `<path>.<N-1>`
//! (N = max_files; with 1 file it starts over empty). The monitor's memory stays fixed: two
//! line buffers and one record buffer, whatever the container writes.
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;

pub const Stream = enum(u1) { stdout, stderr };

/// A record is formatted and written by the relay loop's own code (sys.loop_section, no
/// std.fmt): it runs for every line, and what it calls stays mapped in the monitor.
const loop = sys.loop_section;

pub const line_max = 16 * 1024;
/// Worst case: every byte escaped as \u00XX, plus the fixed part of the record.
const record_max = line_max * 6 + 128;
pub const max_files_limit = 64;

var record_buf: [record_max]u8 align(sys.page_size) = undefined;

/// All the log's memory: the record buffer and a Log (its two line buffers); fixed.
pub const memory_max = record_max + @sizeOf(Log);

pub const Log = struct {
    fd: sys.fd_t,
    path: [:0]const u8,
    /// 0: unbounded.
    max_size: u64,
    max_files: u32,
    size: u64,
    lines: [2]Line = .{ .{}, .{} },
    /// A write failed (disk full…): logging stops, the container never stalls on it.
    broken: bool = false,
    /// The file rotated since the relay last asked (takeRotated): code outside the loop ran.
    rotated: bool = false,
    /// A line or a record went past its buffer's first page (dropScratch gives them back).
    scratch_dirty: bool = false,

    const Line = struct { buf: [line_max]u8 = undefined, len: usize = 0 };

    /// Opens the log into `l` in place. The line buffers (2 × line_max) are left as they are:
    /// returned by value, the Log was built on the stack and copied, which made both copies'
    /// pages resident (safe builds fill undefined bytes) for a container that may never write.
    pub fn open(l: *Log, path: [:0]const u8, max_size: u64, max_files: u32) sys.Error!void {
        assert(max_files >= 1 and max_files <= max_files_limit);
        const f = try sys.open(path, .{ .ACCMODE = .WRONLY, .CREAT = true, .APPEND = true, .CLOEXEC = true, .NOFOLLOW = true }, 0o640);
        errdefer sys.close(f);
        const st = try sys.fstat(f);
        l.fd = f;
        l.path = path;
        l.max_size = max_size;
        l.max_files = max_files;
        l.size = @intCast(st.size);
        l.broken = false;
        l.rotated = false;
        l.scratch_dirty = false;
        for (&l.lines) |*line| line.len = 0;
    }

    pub fn close(l: *Log) void {
        sys.close(l.fd);
        l.fd = -1;
    }

    /// Output of one stream, as read: complete lines become records at once, the rest waits
    /// for its newline (or for the buffer to fill).
    pub fn write(l: *Log, stream: Stream, bytes: []const u8) linksection(loop) void {
        var rest = bytes;
        const line = &l.lines[@intFromEnum(stream)];
        var records: usize = 0;
        while (rest.len > 0) : (records += 1) {
            assert(records <= bytes.len);
            const room = line_max - line.len;
            const take_to = lineEnd(rest[0..@min(rest.len, room)]);
            @memcpy(line.buf[line.len..][0..take_to], rest[0..take_to]);
            line.len += take_to;
            if (line.len > sys.page_size) l.scratch_dirty = true;
            rest = rest[take_to..];
            if (line.buf[line.len - 1] == '\n' or line.len == line_max) l.emit(stream);
        }
    }

    /// The pages of the record buffer and of the line buffers beyond their first (and beyond
    /// an unfinished line's bytes) go back to the kernel: the relay calls this once output
    /// pauses after a burst.
    pub fn dropScratch(l: *Log) linksection(loop) void {
        l.scratch_dirty = false;
        sys.dropPages(record_buf[sys.page_size..]);
        for (&l.lines) |*line| {
            assert(line.len <= line_max);
            sys.dropPages(line.buf[@max(line.len, sys.page_size)..]);
        }
    }

    pub fn takeRotated(l: *Log) linksection(loop) bool {
        defer l.rotated = false;
        return l.rotated;
    }

    /// The stream closed: its unfinished line becomes a record.
    pub fn flush(l: *Log, stream: Stream) void {
        if (l.lines[@intFromEnum(stream)].len > 0) l.emit(stream);
    }

    fn emit(l: *Log, stream: Stream) linksection(loop) void {
        const line = &l.lines[@intFromEnum(stream)];
        defer line.len = 0;
        if (l.broken) return;
        const rec = formatRecord(&record_buf, line.buf[0..line.len], stream, sys.clockRealtimeNs());
        if (rec.len > sys.page_size) l.scratch_dirty = true;
        if (l.max_size > 0 and l.size > 0 and l.size + rec.len > l.max_size) l.rotate() catch {
            l.broken = true;
            return;
        };
        sys.writeAll(l.fd, rec) catch {
            l.broken = true;
            return;
        };
        l.size += rec.len;
    }

    noinline fn rotate(l: *Log) sys.Error!void {
        l.rotated = true;
        var from_buf: [4096 + 8]u8 = undefined;
        var to_buf: [4096 + 8]u8 = undefined;
        var i: u32 = l.max_files - 1;
        while (i >= 1) : (i -= 1) {
            const to = std.fmt.bufPrintZ(&to_buf, "{s}.{d}", .{ l.path, i }) catch return error.NAMETOOLONG;
            const from = if (i == 1) l.path else std.fmt.bufPrintZ(&from_buf, "{s}.{d}", .{ l.path, i - 1 }) catch return error.NAMETOOLONG;
            sys.renameat(linux.AT.FDCWD, from, linux.AT.FDCWD, to) catch |err| if (err != error.NOENT) return err;
        }
        const f = try sys.open(l.path, .{ .ACCMODE = .WRONLY, .CREAT = true, .APPEND = true, .TRUNC = true, .CLOEXEC = true, .NOFOLLOW = true }, 0o640);
        sys.close(l.fd);
        l.fd = f;
        l.size = 0;
    }
};

/// Up to and with the first newline of `bytes`, else all of it.
fn lineEnd(bytes: []const u8) linksection(loop) usize {
    for (bytes, 0..) |c, i| if (c == '\n') return i + 1;
    return bytes.len;
}

pub fn formatRecord(buf: []u8, text: []const u8, stream: Stream, now_ns: i64) linksection(loop) []const u8 {
    assert(text.len <= line_max);
    assert(buf.len >= text.len * 6 + 128);
    var n = put(buf, 0, "{\"log\":\"");
    for (text) |c| {
        // Comparisons, not a switch: its jump table would sit in .rodata (see `loop`).
        if (c >= 0x20 and c != '"' and c != '\\' and c != 0x7f) {
            buf[n] = c;
            n += 1;
        } else if (c == '"' or c == '\\' or c == '\n' or c == '\r' or c == '\t') {
            buf[n] = '\\';
            buf[n + 1] = if (c == '\n') 'n' else if (c == '\r') 'r' else if (c == '\t') 't' else c;
            n += 2;
        } else {
            n = put(buf, n, "\\u00");
            buf[n] = hexDigit(c >> 4);
            buf[n + 1] = hexDigit(c & 0xf);
            n += 2;
        }
    }
    n = put(buf, n, switch (stream) {
        .stdout => "\",\"stream\":\"stdout\",\"time\":\"",
        .stderr => "\",\"stream\":\"stderr\",\"time\":\"",
    });
    _ = formatTime(buf[n..][0..time_len], now_ns);
    n += time_len;
    n = put(buf, n, "\"}\n");
    assert(n <= text.len * 6 + 128);
    return buf[0..n];
}

fn hexDigit(v: u8) linksection(loop) u8 {
    assert(v < 16);
    return if (v < 10) '0' + v else 'a' + v - 10;
}

fn put(buf: []u8, at: usize, bytes: []const u8) linksection(loop) usize {
    @memcpy(buf[at..][0..bytes.len], bytes);
    return at + bytes.len;
}

/// `2026-11-23T18:22:21.123456789Z`: years up to 9999 (an i64 of nanoseconds ends in 2262).
pub const time_len = 30;

/// RFC 3339 in UTC with nanoseconds (Go's RFC3339Nano without the trailing-zero trim), written
/// into `buf` and returned (all of it).
pub fn formatTime(buf: *[time_len]u8, ns: i64) linksection(loop) []const u8 {
    assert(ns >= 0);
    const secs: u64 = @intCast(@divFloor(ns, std.time.ns_per_s));
    const frac: u64 = @intCast(@mod(ns, std.time.ns_per_s));
    const date = civilFromDays(secs / std.time.s_per_day);
    const day_secs = secs % std.time.s_per_day;
    assert(date.year <= 9999);
    putDecimal(buf[0..4], date.year);
    buf[4] = '-';
    putDecimal(buf[5..7], date.month);
    buf[7] = '-';
    putDecimal(buf[8..10], date.day);
    buf[10] = 'T';
    putDecimal(buf[11..13], day_secs / 3600);
    buf[13] = ':';
    putDecimal(buf[14..16], day_secs / 60 % 60);
    buf[16] = ':';
    putDecimal(buf[17..19], day_secs % 60);
    buf[19] = '.';
    putDecimal(buf[20..29], frac);
    buf[29] = 'Z';
    return buf;
}

/// The proleptic Gregorian date of a day since 1970-01-01 (Howard Hinnant's civil_from_days,
/// for days >= 0): arithmetic only, no tables.
fn civilFromDays(days: u64) linksection(loop) struct { year: u64, month: u64, day: u64 } {
    const z = days + 719_468; // days since 0000-03-01
    const era = z / 146_097;
    const doe = z - era * 146_097; // [0, 146096]
    const yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    const doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], from March 1st
    const mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    const month = if (mp < 10) mp + 3 else mp - 9;
    const year = yoe + era * 400 + @intFromBool(month <= 2);
    return .{ .year = year, .month = month, .day = doy - (153 * mp + 2) / 5 + 1 };
}

/// `value` in decimal, zero-padded to exactly `buf.len` digits (it must fit). noinline: inlined
/// with a constant length, its digits became one vector OR with a constant from .rodata.
noinline fn putDecimal(buf: []u8, value: u64) linksection(loop) void {
    var v = value;
    var i = buf.len;
    while (i > 0) {
        i -= 1;
        buf[i] = '0' + @as(u8, @intCast(v % 10));
        v /= 10;
    }
    assert(v == 0);
}

/// formatTime into a writer (health.json's times).
pub fn writeTime(w: *std.Io.Writer, ns: i64) void {
    var buf: [time_len]u8 = undefined;
    w.writeAll(formatTime(&buf, ns)) catch unreachable;
}

test "record" {
    var buf: [record_max]u8 = undefined;
    const rec = formatRecord(&buf, "a \"b\"\t\x01\n", .stderr, 1_700_000_000_123_456_789);
    try std.testing.expectEqualStrings("{\"log\":\"a \\\"b\\\"\\t\\u0001\\n\",\"stream\":\"stderr\",\"time\":\"2023-11-14T22:13:20.123456789Z\"}\n", rec);
}

test "time: civilFromDays agrees with std.time.epoch" {
    var day: u64 = 0;
    // Every day from 1970 to past 2262 (an i64 of nanoseconds), every 7th to keep it short.
    while (day < 110_000) : (day += 7) {
        const ours = civilFromDays(day);
        const yd = (std.time.epoch.EpochDay{ .day = @intCast(day) }).calculateYearDay();
        const md = yd.calculateMonthDay();
        try std.testing.expectEqual(@as(u64, yd.year), ours.year);
        try std.testing.expectEqual(@as(u64, md.month.numeric()), ours.month);
        try std.testing.expectEqual(@as(u64, md.day_index + 1), ours.day);
    }
}

test "time: format" {
    var buf: [time_len]u8 = undefined;
    try std.testing.expectEqualStrings("1970-01-01T00:00:00.000000000Z", formatTime(&buf, 0));
    try std.testing.expectEqualStrings("2000-02-29T23:59:59.000000001Z", formatTime(&buf, 951_868_799_000_000_001));
    try std.testing.expectEqualStrings("2262-04-11T23:47:16.854775807Z", formatTime(&buf, std.math.maxInt(i64)));
}

test "record: every byte and time as the std.fmt writer it replaced" {
    var buf: [record_max]u8 = undefined;
    var text: [256]u8 = undefined;
    for (&text, 0..) |*c, i| c.* = @intCast(i);
    var want_buf: [record_max]u8 = undefined;
    var prng = std.Random.DefaultPrng.init(16);
    for (0..64) |_| {
        const ns = prng.random().intRangeAtMost(i64, 0, std.math.maxInt(i64));
        var w: std.Io.Writer = .fixed(&want_buf);
        try w.writeAll("{\"log\":\"");
        for (text) |c| switch (c) {
            '"' => try w.writeAll("\\\""),
            '\\' => try w.writeAll("\\\\"),
            '\n' => try w.writeAll("\\n"),
            '\r' => try w.writeAll("\\r"),
            '\t' => try w.writeAll("\\t"),
            0...8, 11, 12, 14...0x1f, 0x7f => try w.print("\\u{x:0>4}", .{c}),
            else => try w.writeByte(c),
        };
        try w.writeAll("\",\"stream\":\"stderr\",\"time\":\"");
        const es: std.time.epoch.EpochSeconds = .{ .secs = @intCast(@divFloor(ns, std.time.ns_per_s)) };
        const yd = es.getEpochDay().calculateYearDay();
        const md = yd.calculateMonthDay();
        const ds = es.getDaySeconds();
        try w.print("{d:0>4}-{d:0>2}-{d:0>2}T{d:0>2}:{d:0>2}:{d:0>2}.{d:0>9}Z\"}}\n", .{
            yd.year, md.month.numeric(), md.day_index + 1, ds.getHoursIntoDay(), ds.getMinutesIntoHour(), ds.getSecondsIntoMinute(), @as(u64, @intCast(@mod(ns, std.time.ns_per_s))),
        });
        try std.testing.expectEqualStrings(w.buffered(), formatRecord(&buf, &text, .stderr, ns));
    }
}
