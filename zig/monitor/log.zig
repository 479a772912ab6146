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

pub const line_max = 16 * 1024;
/// Worst case: every byte escaped as \u00XX, plus the fixed part of the record.
const record_max = line_max * 6 + 128;
pub const max_files_limit = 64;

var record_buf: [record_max]u8 = undefined;

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
        for (&l.lines) |*line| line.len = 0;
    }

    pub fn close(l: *Log) void {
        sys.close(l.fd);
        l.fd = -1;
    }

    /// Output of one stream, as read: complete lines become records at once, the rest waits
    /// for its newline (or for the buffer to fill).
    pub fn write(l: *Log, stream: Stream, bytes: []const u8) void {
        var rest = bytes;
        const line = &l.lines[@intFromEnum(stream)];
        var records: usize = 0;
        while (rest.len > 0) : (records += 1) {
            assert(records <= bytes.len);
            const room = line_max - line.len;
            const take_to = if (std.mem.indexOfScalar(u8, rest[0..@min(rest.len, room)], '\n')) |nl| nl + 1 else @min(rest.len, room);
            @memcpy(line.buf[line.len..][0..take_to], rest[0..take_to]);
            line.len += take_to;
            rest = rest[take_to..];
            if (line.buf[line.len - 1] == '\n' or line.len == line_max) l.emit(stream);
        }
    }

    /// The stream closed: its unfinished line becomes a record.
    pub fn flush(l: *Log, stream: Stream) void {
        if (l.lines[@intFromEnum(stream)].len > 0) l.emit(stream);
    }

    fn emit(l: *Log, stream: Stream) void {
        const line = &l.lines[@intFromEnum(stream)];
        defer line.len = 0;
        if (l.broken) return;
        const rec = formatRecord(&record_buf, line.buf[0..line.len], stream, sys.clockRealtimeNs());
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

    fn rotate(l: *Log) sys.Error!void {
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

pub fn formatRecord(buf: []u8, text: []const u8, stream: Stream, now_ns: i64) []const u8 {
    assert(text.len <= line_max);
    assert(buf.len >= text.len * 6 + 128);
    var w: std.Io.Writer = .fixed(buf);
    w.writeAll("{\"log\":\"") catch unreachable;
    for (text) |c| switch (c) {
        '"' => w.writeAll("\\\"") catch unreachable,
        '\\' => w.writeAll("\\\\") catch unreachable,
        '\n' => w.writeAll("\\n") catch unreachable,
        '\r' => w.writeAll("\\r") catch unreachable,
        '\t' => w.writeAll("\\t") catch unreachable,
        0...8, 11, 12, 14...0x1f, 0x7f => w.print("\\u{x:0>4}", .{c}) catch unreachable,
        else => w.writeByte(c) catch unreachable,
    };
    w.print("\",\"stream\":\"{s}\",\"time\":\"", .{@tagName(stream)}) catch unreachable;
    writeTime(&w, now_ns);
    w.writeAll("\"}\n") catch unreachable;
    return w.buffered();
}

/// RFC 3339 in UTC with nanoseconds (Go's RFC3339Nano without the trailing-zero trim).
pub fn writeTime(w: *std.Io.Writer, ns: i64) void {
    assert(ns >= 0);
    const secs: u64 = @intCast(@divFloor(ns, std.time.ns_per_s));
    const frac: u64 = @intCast(@mod(ns, std.time.ns_per_s));
    const es: std.time.epoch.EpochSeconds = .{ .secs = secs };
    const yd = es.getEpochDay().calculateYearDay();
    const md = yd.calculateMonthDay();
    const ds = es.getDaySeconds();
    w.print("{d:0>4}-{d:0>2}-{d:0>2}T{d:0>2}:{d:0>2}:{d:0>2}.{d:0>9}Z", .{
        yd.year, md.month.numeric(), md.day_index + 1, ds.getHoursIntoDay(), ds.getMinutesIntoHour(), ds.getSecondsIntoMinute(), frac,
    }) catch unreachable;
}

test "record" {
    var buf: [record_max]u8 = undefined;
    const rec = formatRecord(&buf, "a \"b\"\t\x01\n", .stderr, 1_700_000_000_123_456_789);
    try std.testing.expectEqualStrings("{\"log\":\"a \\\"b\\\"\\t\\u0001\\n\",\"stream\":\"stderr\",\"time\":\"2023-11-14T22:13:20.123456789Z\"}\n", rec);
}
