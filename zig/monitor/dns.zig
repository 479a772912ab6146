//! DNS wire format for the user networks' resolver (dns_server.zig): parsing a query's question
//! (hardened: compression pointers only backwards and at most `max_hops`, names and labels
//! within RFC 1035's limits, nothing read past the packet), the name table read from the
//! network's dns-hosts file, and the answers built from it. Pure: no syscalls, no allocation;
//! everything lives in fixed buffers.
const std = @import("std");
const assert = std.debug.assert;

pub const header_len = 12;
/// RFC 1035: a name is at most 255 bytes on the wire (253 as dotted text), a label 63.
pub const max_name_text = 253;
pub const max_label = 63;
/// Compression pointers followed while reading one name (each must point backwards, so a
/// loop is impossible anyway; this bounds the work per packet).
pub const max_hops = 16;
/// Answers fit a classic UDP message; a larger one is sent with TC set and no records.
pub const max_udp_answer = 512;
/// A records per answer (several containers may share an alias).
pub const max_records = 8;
/// Podman's aardvark-dns uses 60 s, Docker 600 s: containers come and go, and a short TTL
/// keeps a cached address from outliving its container by long.
pub const ttl: u32 = 60;

pub const Type = struct {
    pub const A: u16 = 1;
    pub const PTR: u16 = 12;
    pub const AAAA: u16 = 28;
};
pub const class_in: u16 = 1;

pub const Rcode = enum(u4) { no_error = 0, form_err = 1, serv_fail = 2, nx_domain = 3, not_imp = 4, refused = 5 };

pub const ParseError = error{ Short, NotQuery, BadOpcode, QuestionCount, NameTooLong, LabelTooLong, BadPointer, TooManyHops, BadLabelType };

pub const Question = struct {
    /// Dotted text, lowercased, without the final dot ("" for the root).
    name_buf: [max_name_text + 2]u8 = undefined,
    name_len: usize = 0,
    qtype: u16 = 0,
    qclass: u16 = 0,
    /// Offset just past the question in the packet.
    end: usize = 0,

    pub fn name(q: *const Question) []const u8 {
        return q.name_buf[0..q.name_len];
    }
};

fn be16(p: []const u8, at: usize) u16 {
    return std.mem.readInt(u16, p[at..][0..2], .big);
}

pub fn id(pkt: []const u8) u16 {
    assert(pkt.len >= 2);
    return be16(pkt, 0);
}

pub fn setId(pkt: []u8, v: u16) void {
    assert(pkt.len >= 2);
    std.mem.writeInt(u16, pkt[0..2], v, .big);
}

/// The one question of a standard query. A packet too short for a header, a response, or a
/// name over the limits is an error; the caller answers FORMERR/NOTIMP or drops.
pub fn parseQuery(pkt: []const u8) ParseError!Question {
    if (pkt.len < header_len) return error.Short;
    const flags = be16(pkt, 2);
    if (flags & 0x8000 != 0) return error.NotQuery;
    if ((flags >> 11) & 0xf != 0) return error.BadOpcode;
    if (be16(pkt, 4) != 1) return error.QuestionCount;
    var q: Question = .{};
    const after = try readName(pkt, header_len, &q.name_buf, &q.name_len);
    if (after + 4 > pkt.len) return error.Short;
    q.qtype = be16(pkt, after);
    q.qclass = be16(pkt, after + 2);
    q.end = after + 4;
    return q;
}

/// Reads the name at `start` into `out` as lowercase dotted text; returns the offset just
/// past it in the packet (past the first pointer when it is compressed).
pub fn readName(pkt: []const u8, start: usize, out: *[max_name_text + 2]u8, out_len: *usize) ParseError!usize {
    var pos = start;
    var end: ?usize = null;
    var len: usize = 0;
    var hops: usize = 0;
    // Each iteration consumes a label or a pointer: at most 128 labels fit in 255 bytes, plus
    // the hops.
    var steps: usize = 0;
    while (steps < 128 + max_hops + 1) : (steps += 1) {
        if (pos >= pkt.len) return error.Short;
        const b = pkt[pos];
        switch (b & 0xc0) {
            0x00 => {
                if (b == 0) {
                    out_len.* = len;
                    return end orelse pos + 1;
                }
                const l: usize = b;
                assert(l <= max_label);
                if (pos + 1 + l > pkt.len) return error.Short;
                const sep: usize = @intFromBool(len > 0);
                if (len + sep + l > max_name_text) return error.NameTooLong;
                if (sep == 1) out[len] = '.';
                for (pkt[pos + 1 ..][0..l], out[len + sep ..][0..l]) |c, *o| o.* = std.ascii.toLower(c);
                len += sep + l;
                pos += 1 + l;
            },
            0xc0 => {
                if (pos + 2 > pkt.len) return error.Short;
                const target: usize = be16(pkt, pos) & 0x3fff;
                // Only backwards, and never into the header: no loop, no reading the id as a name.
                if (target >= pos or target < header_len) return error.BadPointer;
                hops += 1;
                if (hops > max_hops) return error.TooManyHops;
                if (end == null) end = pos + 2;
                pos = target;
            },
            else => return error.BadLabelType,
        }
    }
    return error.NameTooLong;
}

/// "d.c.b.a.in-addr.arpa" → a.b.c.d as a host-order u32; null for anything else.
pub fn parseReverse(name: []const u8) ?u32 {
    const suffix = ".in-addr.arpa";
    if (!std.mem.endsWith(u8, name, suffix)) return null;
    var it = std.mem.splitScalar(u8, name[0 .. name.len - suffix.len], '.');
    var ip: u32 = 0;
    var n: usize = 0;
    while (it.next()) |part| : (n += 1) {
        if (n == 4) return null;
        if (part.len == 0 or part.len > 3) return null;
        const v = std.fmt.parseInt(u8, part, 10) catch return null;
        ip |= @as(u32, v) << @intCast(8 * n);
    }
    return if (n == 4) ip else null;
}

pub fn parseIp(text: []const u8) ?u32 {
    var it = std.mem.splitScalar(u8, text, '.');
    var ip: u32 = 0;
    var n: usize = 0;
    while (it.next()) |part| : (n += 1) {
        if (n == 4 or part.len == 0 or part.len > 3) return null;
        ip = (ip << 8) | (std.fmt.parseInt(u8, part, 10) catch return null);
    }
    return if (n == 4) ip else null;
}

/// The network's names: `IP NAME [NAME…]` lines (the dns-hosts file the CLI writes,
/// src/network/dns.ts). Names are compared case-insensitively; a line or name over the limits
/// is skipped, never an error (the file is the CLI's, but a bad line must not stop lookups).
pub const Table = struct {
    pub const max_entries = 8192;
    pub const pool_size = 256 * 1024;

    const Entry = struct { ip: u32, off: u32, len: u8 };

    entries: [max_entries]Entry = undefined,
    count: usize = 0,
    pool: [pool_size]u8 = undefined,
    used: usize = 0,

    pub fn load(t: *Table, text: []const u8) void {
        t.count = 0;
        t.used = 0;
        var lines = std.mem.splitScalar(u8, text, '\n');
        while (lines.next()) |line| {
            var fields = std.mem.tokenizeAny(u8, line, " \t\r");
            const ip = parseIp(fields.next() orelse continue) orelse continue;
            while (fields.next()) |n| t.add(ip, n);
        }
        assert(t.count <= max_entries and t.used <= pool_size);
    }

    fn add(t: *Table, ip: u32, name_in: []const u8) void {
        const n = std.mem.trimRight(u8, name_in, ".");
        if (n.len == 0 or n.len > max_name_text or !validName(n)) return;
        if (t.count == max_entries or t.used + n.len > pool_size) return;
        for (n, t.pool[t.used..][0..n.len]) |c, *o| o.* = std.ascii.toLower(c);
        t.entries[t.count] = .{ .ip = ip, .off = @intCast(t.used), .len = @intCast(n.len) };
        t.count += 1;
        t.used += n.len;
    }

    fn nameOf(t: *const Table, e: Entry) []const u8 {
        return t.pool[e.off..][0..e.len];
    }

    /// The addresses of `name` (lowercase), at most `out.len`, each once.
    pub fn lookup(t: *const Table, name: []const u8, out: []u32) usize {
        var n: usize = 0;
        for (t.entries[0..t.count]) |e| {
            if (n == out.len) break;
            if (!std.mem.eql(u8, t.nameOf(e), name)) continue;
            if (std.mem.indexOfScalar(u32, out[0..n], e.ip) != null) continue;
            out[n] = e.ip;
            n += 1;
        }
        return n;
    }

    /// The first name of `ip` (the container's name: the CLI writes it first).
    pub fn reverse(t: *const Table, ip: u32) ?[]const u8 {
        for (t.entries[0..t.count]) |e| if (e.ip == ip) return t.nameOf(e);
        return null;
    }
};

/// Labels of 1..63 bytes; any bytes but the dot separate them (Docker's names are
/// [a-zA-Z0-9][a-zA-Z0-9_.-]*, aliases anything without spaces).
fn validName(n: []const u8) bool {
    var it = std.mem.splitScalar(u8, n, '.');
    while (it.next()) |l| if (l.len == 0 or l.len > max_label) return false;
    return true;
}

pub const Subnet = struct {
    network: u32,
    prefix: u6,

    pub fn contains(s: Subnet, ip: u32) bool {
        assert(s.prefix <= 32);
        if (s.prefix == 0) return true;
        const mask: u32 = @truncate(@as(u64, 0xffff_ffff) << @intCast(32 - @as(u32, s.prefix)));
        return ip & mask == s.network & mask;
    }

    pub fn parse(text: []const u8) ?Subnet {
        const slash = std.mem.indexOfScalar(u8, text, '/') orelse return null;
        const p = std.fmt.parseInt(u6, text[slash + 1 ..], 10) catch return null;
        if (p > 32) return null;
        return .{ .network = parseIp(text[0..slash]) orelse return null, .prefix = p };
    }
};

pub const Decision = union(enum) {
    /// Send the first n bytes of the answer buffer back.
    answer: usize,
    /// Not ours: relay to an upstream.
    forward,
    /// Not worth an answer (a response, a packet shorter than a header).
    drop,
};

/// What to do with one packet from a container: answer from the table (names and aliases,
/// PTR for the subnet's addresses), forward, or drop.
pub fn decide(t: *const Table, subnet: Subnet, pkt: []const u8, out: *[max_udp_answer]u8) Decision {
    const q = parseQuery(pkt) catch |err| return switch (err) {
        error.Short => if (pkt.len < header_len) .drop else .{ .answer = headerOnly(pkt, .form_err, out) },
        error.NotQuery => .drop,
        error.BadOpcode => .{ .answer = headerOnly(pkt, .not_imp, out) },
        else => .{ .answer = headerOnly(pkt, .form_err, out) },
    };
    if (q.qclass != class_in) return .forward;
    if (parseReverse(q.name())) |ip| {
        if (!subnet.contains(ip)) return .forward;
        if (q.qtype != Type.PTR) return .{ .answer = answer(pkt, &q, .nx_domain, &.{}, null, out) };
        const n = t.reverse(ip) orelse return .{ .answer = answer(pkt, &q, .nx_domain, &.{}, null, out) };
        return .{ .answer = answer(pkt, &q, .no_error, &.{}, n, out) };
    }
    var ips: [max_records]u32 = undefined;
    const n = t.lookup(q.name(), &ips);
    if (n == 0) return .forward;
    // A name of ours: A records; any other type (AAAA …) has no data (NOERROR, no answer).
    const records = if (q.qtype == Type.A) ips[0..n] else ips[0..0];
    return .{ .answer = answer(pkt, &q, .no_error, records, null, out) };
}

/// A response carrying only the query's header (FORMERR, NOTIMP): no question echoed.
pub fn headerOnly(pkt: []const u8, rcode: Rcode, out: *[max_udp_answer]u8) usize {
    assert(pkt.len >= header_len);
    @memcpy(out[0..2], pkt[0..2]);
    writeFlags(out, be16(pkt, 2), rcode, false);
    @memset(out[4..header_len], 0);
    return header_len;
}

fn writeFlags(out: []u8, query_flags: u16, rcode: Rcode, aa: bool) void {
    // QR, the query's opcode and RD, RA; AA for our own names.
    const f: u16 = 0x8000 | (query_flags & 0x7900) | 0x0080 | (@as(u16, @intFromBool(aa)) << 10) | @intFromEnum(rcode);
    std.mem.writeInt(u16, out[2..4], f, .big);
}

/// The query's header and question, then `ips` as A records or `ptr` as one PTR record, each
/// naming the question by a pointer to offset 12. Too big for 512 bytes: TC, no records.
pub fn answer(pkt: []const u8, q: *const Question, rcode: Rcode, ips: []const u32, ptr: ?[]const u8, out: *[max_udp_answer]u8) usize {
    assert(q.end <= pkt.len and q.end >= header_len + 5);
    assert(ips.len <= max_records);
    if (q.end > out.len) return headerOnly(pkt, .serv_fail, out);
    @memcpy(out[0..q.end], pkt[0..q.end]);
    writeFlags(out, be16(pkt, 2), rcode, rcode == .no_error);
    std.mem.writeInt(u16, out[4..6], 1, .big);
    @memset(out[6..header_len], 0);
    var w = Writer{ .buf = out, .pos = q.end };
    var count: u16 = 0;
    for (ips) |ip| {
        w.record(Type.A, 4) catch break;
        w.int(u32, ip) catch break;
        count += 1;
    }
    if (ptr) |n| {
        const rdlen = encodedLen(n);
        if (w.record(Type.PTR, @intCast(rdlen))) {
            w.name(n) catch {};
            if (w.pos <= out.len) count += 1;
        } else |_| {}
    }
    if (count != ips.len + @intFromBool(ptr != null)) {
        // Truncated: say so, with the question only, so the client may retry over TCP.
        std.mem.writeInt(u16, out[2..4], be16(out, 2) | 0x0200, .big);
        std.mem.writeInt(u16, out[6..8], 0, .big);
        return q.end;
    }
    std.mem.writeInt(u16, out[6..8], count, .big);
    return w.pos;
}

fn encodedLen(n: []const u8) usize {
    return n.len + 2; // a length byte per label (one more than the dots) and the root's 0
}

const Writer = struct {
    buf: *[max_udp_answer]u8,
    pos: usize,

    fn int(w: *Writer, comptime T: type, v: T) error{NoSpace}!void {
        const size = @sizeOf(T);
        if (w.pos + size > w.buf.len) return error.NoSpace;
        std.mem.writeInt(T, w.buf[w.pos..][0..size], v, .big);
        w.pos += size;
    }

    fn record(w: *Writer, rtype: u16, rdlen: u16) error{NoSpace}!void {
        if (w.pos + 12 + rdlen > w.buf.len) return error.NoSpace;
        try w.int(u16, 0xc000 | header_len);
        try w.int(u16, rtype);
        try w.int(u16, class_in);
        try w.int(u32, ttl);
        try w.int(u16, rdlen);
    }

    fn name(w: *Writer, n: []const u8) error{NoSpace}!void {
        var it = std.mem.splitScalar(u8, n, '.');
        while (it.next()) |label| {
            assert(label.len > 0 and label.len <= max_label);
            if (w.pos + 1 + label.len > w.buf.len) return error.NoSpace;
            w.buf[w.pos] = @intCast(label.len);
            @memcpy(w.buf[w.pos + 1 ..][0..label.len], label);
            w.pos += 1 + label.len;
        }
        try w.int(u8, 0);
    }
};

// ---- tests ----------------------------------------------------------------------------------

const testing = std.testing;

/// A query for `name` as a resolver sends it.
fn makeQuery(buf: []u8, qid: u16, name: []const u8, qtype: u16) []u8 {
    std.mem.writeInt(u16, buf[0..2], qid, .big);
    std.mem.writeInt(u16, buf[2..4], 0x0100, .big); // RD
    std.mem.writeInt(u16, buf[4..6], 1, .big);
    @memset(buf[6..12], 0);
    var pos: usize = header_len;
    var it = std.mem.splitScalar(u8, name, '.');
    while (it.next()) |l| {
        buf[pos] = @intCast(l.len);
        @memcpy(buf[pos + 1 ..][0..l.len], l);
        pos += 1 + l.len;
    }
    buf[pos] = 0;
    std.mem.writeInt(u16, buf[pos + 1 ..][0..2], qtype, .big);
    std.mem.writeInt(u16, buf[pos + 3 ..][0..2], class_in, .big);
    return buf[0 .. pos + 5];
}

var test_table: Table = .{};

fn testTable() *Table {
    test_table.load("10.9.0.2 web 0123456789ab www\n10.9.0.3 db database\n10.9.0.4 database\n# comment\nbad line\n300.1.1.1 nope\n");
    return &test_table;
}

const subnet9: Subnet = .{ .network = 0x0a090000, .prefix = 24 };

test "a name, an alias and a short id answer their addresses, case-insensitively" {
    const t = testTable();
    var qb: [512]u8 = undefined;
    var out: [max_udp_answer]u8 = undefined;
    for ([_][]const u8{ "web", "WWW", "0123456789AB" }) |n| {
        const q = makeQuery(&qb, 0x1234, n, Type.A);
        const d = decide(t, subnet9, q, &out);
        const len = d.answer;
        try testing.expectEqual(@as(u16, 0x1234), id(out[0..len]));
        try testing.expectEqual(@as(u16, 1), be16(&out, 6));
        try testing.expectEqual(@as(u16, 0), be16(&out, 2) & 0xf);
        try testing.expectEqual(@as(u32, 0x0a090002), std.mem.readInt(u32, out[len - 4 ..][0..4], .big));
        try testing.expectEqual(q.len + 16, len);
        // The question is echoed as sent (0x20 case randomisation survives).
        try testing.expectEqualSlices(u8, q[header_len..], out[header_len..q.len]);
    }
}

test "an alias on two containers answers both; AAAA of a known name is NODATA; others forward" {
    const t = testTable();
    var qb: [512]u8 = undefined;
    var out: [max_udp_answer]u8 = undefined;
    const len = decide(t, subnet9, makeQuery(&qb, 1, "database", Type.A), &out).answer;
    try testing.expectEqual(@as(u16, 2), be16(&out, 6));
    _ = len;
    const q6 = makeQuery(&qb, 2, "web", Type.AAAA);
    const l6 = decide(t, subnet9, q6, &out).answer;
    try testing.expectEqual(q6.len, l6);
    try testing.expectEqual(@as(u16, 0), be16(&out, 6));
    try testing.expectEqual(@as(u16, 0), be16(&out, 2) & 0xf);
    try testing.expect(decide(t, subnet9, makeQuery(&qb, 3, "example.org", Type.A), &out) == .forward);
    try testing.expect(decide(t, subnet9, makeQuery(&qb, 3, "nope", Type.A), &out) == .forward);
}

test "PTR for the subnet from the table, NXDOMAIN for a free address, others forward" {
    const t = testTable();
    var qb: [512]u8 = undefined;
    var out: [max_udp_answer]u8 = undefined;
    const q = makeQuery(&qb, 7, "2.0.9.10.in-addr.arpa", Type.PTR);
    const len = decide(t, subnet9, q, &out).answer;
    try testing.expectEqual(@as(u16, 1), be16(&out, 6));
    try testing.expectEqualSlices(u8, "\x03web\x00", out[len - 5 .. len]);
    _ = decide(t, subnet9, makeQuery(&qb, 8, "9.0.9.10.in-addr.arpa", Type.PTR), &out).answer;
    try testing.expectEqual(@as(u16, @intFromEnum(Rcode.nx_domain)), be16(&out, 2) & 0xf);
    try testing.expect(decide(t, subnet9, makeQuery(&qb, 9, "1.1.168.192.in-addr.arpa", Type.PTR), &out) == .forward);
    try testing.expectEqual(@as(?u32, null), parseReverse("1.2.3.in-addr.arpa"));
    try testing.expectEqual(@as(?u32, null), parseReverse("1.2.3.4.5.in-addr.arpa"));
    try testing.expectEqual(@as(?u32, null), parseReverse("1.2.3.256.in-addr.arpa"));
}

test "malformed packets: short, pointer loops, forward pointers, long labels, past the end" {
    const t = testTable();
    var out: [max_udp_answer]u8 = undefined;
    const hdr = [_]u8{ 0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
    // Shorter than a header: nothing to answer to.
    try testing.expect(decide(t, subnet9, hdr[0..5], &out) == .drop);
    try testing.expect(decide(t, subnet9, &.{}, &out) == .drop);
    // A header and no question.
    try testing.expectEqual(@as(usize, header_len), decide(t, subnet9, &hdr, &out).answer);
    try testing.expectEqual(@as(u16, 1), be16(&out, 2) & 0xf);
    const cases = [_][]const u8{
        &hdr ++ [_]u8{ 0xc0, 12 }, // points at itself
        &hdr ++ [_]u8{ 0xc0, 14, 0 }, // forwards
        &hdr ++ [_]u8{ 0xc0, 2 }, // into the header
        &hdr ++ [_]u8{ 1, 'a', 0xc0, 12 }, // a loop through a label
        &hdr ++ [_]u8{ 5, 'a' }, // label past the end
        &hdr ++ [_]u8{ 0x40, 0 }, // reserved label type
        &hdr ++ [_]u8{ 0x80, 0 },
        &hdr ++ [_]u8{0xc0}, // half a pointer
        &hdr ++ [_]u8{ 3, 'w', 'e', 'b', 0, 0, 1 }, // type without class
        &hdr ++ [_]u8{ 3, 'w', 'e', 'b' }, // no terminating zero
    };
    for (cases) |c| {
        const d = decide(t, subnet9, c, &out);
        try testing.expectEqual(@as(usize, header_len), d.answer);
        try testing.expectEqual(@as(u16, @intFromEnum(Rcode.form_err)), be16(&out, 2) & 0xf);
        try testing.expectEqual(@as(u16, 0xabcd), id(&out));
    }
    // A response, an opcode other than QUERY, two questions.
    var resp = hdr;
    resp[2] = 0x81;
    try testing.expect(decide(t, subnet9, &resp, &out) == .drop);
    var notify = hdr;
    notify[2] = 0x20;
    _ = decide(t, subnet9, &notify, &out).answer;
    try testing.expectEqual(@as(u16, @intFromEnum(Rcode.not_imp)), be16(&out, 2) & 0xf);
    var two = hdr;
    two[5] = 2;
    _ = decide(t, subnet9, &two, &out).answer;
    try testing.expectEqual(@as(u16, @intFromEnum(Rcode.form_err)), be16(&out, 2) & 0xf);
}

test "names: too long in total, a chain of backward pointers past the hop limit, a valid pointer" {
    var buf: [1024]u8 = undefined;
    @memcpy(buf[0..header_len], &[_]u8{ 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0 });
    // 5 labels of 63: 319 bytes of text, over 253.
    var pos: usize = header_len;
    for (0..5) |_| {
        buf[pos] = 63;
        @memset(buf[pos + 1 ..][0..63], 'a');
        pos += 64;
    }
    buf[pos] = 0;
    var name: [max_name_text + 2]u8 = undefined;
    var len: usize = 0;
    try testing.expectError(error.NameTooLong, readName(buf[0 .. pos + 1], header_len, &name, &len));
    // 64 is not a label length: 0x40 is a reserved type.
    buf[header_len] = 64;
    try testing.expectError(error.BadLabelType, readName(buf[0 .. pos + 1], header_len, &name, &len));
    // "x" at 12, then 20 pointers each to the one before: a chain longer than max_hops.
    @memcpy(buf[header_len..][0..3], &[_]u8{ 1, 'x', 0 });
    pos = header_len + 3;
    var prev: usize = header_len;
    for (0..20) |_| {
        std.mem.writeInt(u16, buf[pos..][0..2], @intCast(0xc000 | prev), .big);
        prev = pos;
        pos += 2;
    }
    try testing.expectError(error.TooManyHops, readName(buf[0..pos], prev, &name, &len));
    // A short chain resolves, and the offset returned is past the first pointer.
    try testing.expectEqual(header_len + 5, try readName(buf[0..pos], header_len + 3, &name, &len));
    try testing.expectEqualStrings("x", name[0..len]);
}

test "every truncation of a valid query is refused or answered, never read past" {
    const t = testTable();
    var qb: [512]u8 = undefined;
    var out: [max_udp_answer]u8 = undefined;
    const q = makeQuery(&qb, 5, "0123456789ab", Type.A);
    for (0..q.len) |n| {
        switch (decide(t, subnet9, q[0..n], &out)) {
            .drop => try testing.expect(n < header_len),
            .answer => |l| try testing.expectEqual(@as(usize, header_len), l),
            .forward => return error.TestUnexpectedResult,
        }
    }
}

test "random bytes never crash the parser" {
    var prng = std.Random.DefaultPrng.init(0x5eed);
    const r = prng.random();
    const t = testTable();
    var pkt: [600]u8 = undefined;
    var out: [max_udp_answer]u8 = undefined;
    for (0..20000) |_| {
        const len = r.uintLessThan(usize, pkt.len);
        r.bytes(pkt[0..len]);
        if (len > 5) {
            // Mostly well-formed headers, so the name parser is what gets the noise.
            pkt[2] &= 0x07;
            pkt[4] = 0;
            pkt[5] = 1;
        }
        switch (decide(t, subnet9, pkt[0..len], &out)) {
            .answer => |l| try testing.expect(l <= out.len and l <= @max(len, header_len) + max_records * 16),
            else => {},
        }
    }
}

test "a PTR answer too big for 512 bytes is truncated, not overflowed" {
    var long_line: [600]u8 = undefined;
    var w: usize = 0;
    const prefix = "10.9.0.5 ";
    @memcpy(long_line[0..prefix.len], prefix);
    w = prefix.len;
    for (0..3) |i| {
        @memset(long_line[w..][0..63], 'a' + @as(u8, @intCast(i)));
        w += 63;
        long_line[w] = '.';
        w += 1;
    }
    @memset(long_line[w..][0..60], 'z');
    w += 60;
    test_table.load(long_line[0..w]);
    var qb: [512]u8 = undefined;
    var out: [max_udp_answer]u8 = undefined;
    // A long question (padding labels) makes question + PTR name exceed 512.
    var qname: [260]u8 = undefined;
    var qw: usize = 0;
    for (0..3) |_| {
        @memset(qname[qw..][0..60], 'p');
        qw += 60;
        qname[qw] = '.';
        qw += 1;
    }
    const tail = "5.0.9.10.in-addr.arpa";
    @memcpy(qname[qw..][0..tail.len], tail);
    qw += tail.len;
    // The padded name is not a reverse name: forward. The plain one answers.
    try testing.expect(decide(&test_table, subnet9, makeQuery(&qb, 1, qname[0..qw], Type.PTR), &out) == .forward);
    const len = decide(&test_table, subnet9, makeQuery(&qb, 1, tail, Type.PTR), &out).answer;
    try testing.expect(len <= max_udp_answer);
    try testing.expectEqual(@as(u16, 1), be16(&out, 6));
}

test "subnets and addresses" {
    const s = Subnet.parse("10.2.3.0/24").?;
    try testing.expect(s.contains(parseIp("10.2.3.200").?));
    try testing.expect(!s.contains(parseIp("10.2.4.1").?));
    try testing.expect(Subnet.parse("10.2.3.0/33") == null);
    try testing.expect(parseIp("1.2.3") == null);
    try testing.expect(parseIp("1.2.3.4.5") == null);
    try testing.expectEqual(@as(?u32, 0x7f000035), parseIp("127.0.0.53"));
}
