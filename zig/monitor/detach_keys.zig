//! The detach keys of a foreground `tsd run -it` (Docker's --detach-keys, default Ctrl-P
//! Ctrl-Q): found in the user's stdin as the monitor relays it, the way docker's
//! term.EscapeProxy finds them. Bytes that may begin the sequence are held back; when the
//! sequence breaks off they go to the container after all (with the byte that broke it);
//! when it completes, the bytes before it go and everything from it on is dropped.
//!
//! The CLI passes the sequence as hex (`--detach-keys 1011`: two digits a byte), already
//! checked and turned into bytes by src/container/detach-keys.ts.
const std = @import("std");
const assert = std.debug.assert;

pub const max_keys = 16;

pub const Keys = struct {
    bytes: [max_keys]u8 = undefined,
    len: usize = 0,

    pub fn slice(k: *const Keys) []const u8 {
        assert(k.len >= 1 and k.len <= max_keys);
        return k.bytes[0..k.len];
    }

    /// "1011" → {0x10, 0x11}; 1..max_keys bytes.
    pub fn parseHex(text: []const u8) error{Invalid}!Keys {
        if (text.len == 0 or text.len % 2 != 0 or text.len / 2 > max_keys) return error.Invalid;
        var k: Keys = .{ .len = text.len / 2 };
        _ = std.fmt.hexToBytes(k.bytes[0..k.len], text) catch return error.Invalid;
        return k;
    }
};

pub const Feed = struct {
    /// Bytes of `out` to send on to the container.
    forward: usize,
    /// The whole sequence was typed: detach (input after it is dropped).
    detach: bool,
};

pub const Matcher = struct {
    keys: Keys,
    /// How many bytes of the sequence the input ends with so far (held back, not yet sent).
    matched: usize = 0,

    /// Room `out` needs for an input of `n` bytes: held bytes may come out with it.
    pub fn outMax(n: usize) usize {
        return n + max_keys;
    }

    pub fn feed(m: *Matcher, in: []const u8, out: []u8) Feed {
        const keys = m.keys.slice();
        assert(out.len >= outMax(in.len));
        var n: usize = 0;
        for (in) |b| {
            assert(m.matched < keys.len);
            if (b == keys[m.matched]) {
                m.matched += 1;
                if (m.matched == keys.len) {
                    m.matched = 0;
                    return .{ .forward = n, .detach = true };
                }
                continue;
            }
            // A partial match that broke off: its bytes were meant for the container.
            @memcpy(out[n..][0..m.matched], keys[0..m.matched]);
            n += m.matched;
            m.matched = 0;
            if (b == keys[0] and keys.len > 1) {
                m.matched = 1;
            } else if (b == keys[0]) {
                return .{ .forward = n, .detach = true };
            } else {
                out[n] = b;
                n += 1;
            }
        }
        assert(n <= outMax(in.len));
        return .{ .forward = n, .detach = false };
    }
};

const testing = std.testing;

fn expectFeed(m: *Matcher, in: []const u8, want: []const u8, detach: bool) !void {
    var out: [64]u8 = undefined;
    const f = m.feed(in, &out);
    try testing.expectEqualSlices(u8, want, out[0..f.forward]);
    try testing.expectEqual(detach, f.detach);
}

test "ctrl-p ctrl-q detaches; the bytes before it go on" {
    var m: Matcher = .{ .keys = try Keys.parseHex("1011") };
    try expectFeed(&m, "ls\r", "ls\r", false);
    try expectFeed(&m, "ab\x10\x11cd", "ab", true);
}

test "a partial match is held across reads and flushed when it breaks off" {
    var m: Matcher = .{ .keys = try Keys.parseHex("1011") };
    try expectFeed(&m, "x\x10", "x", false);
    try testing.expectEqual(@as(usize, 1), m.matched);
    try expectFeed(&m, "y", "\x10y", false);
    try testing.expectEqual(@as(usize, 0), m.matched);
    // Ctrl-P twice: the first is sent, the second may still begin the sequence.
    try expectFeed(&m, "\x10\x10", "\x10", false);
    try expectFeed(&m, "\x11", "", true);
}

test "a custom sequence: ctrl-a,x" {
    var m: Matcher = .{ .keys = try Keys.parseHex("0178") };
    try expectFeed(&m, "x\x01", "x", false);
    try expectFeed(&m, "\x10\x11", "\x01\x10\x11", false);
    try expectFeed(&m, "\x01", "", false);
    try expectFeed(&m, "x", "", true);
}

test "a sequence of one key and a long one" {
    var one: Matcher = .{ .keys = try Keys.parseHex("1d") };
    try expectFeed(&one, "ab\x1dc", "ab", true);
    var long: Matcher = .{ .keys = try Keys.parseHex("01020304") };
    try expectFeed(&long, "\x01\x02\x03", "", false);
    try expectFeed(&long, "\x05", "\x01\x02\x03\x05", false);
    try expectFeed(&long, "\x01\x02\x03\x04", "", true);
}

test "bad hex is refused" {
    try testing.expectError(error.Invalid, Keys.parseHex(""));
    try testing.expectError(error.Invalid, Keys.parseHex("101"));
    try testing.expectError(error.Invalid, Keys.parseHex("zz"));
    try testing.expectError(error.Invalid, Keys.parseHex("00" ** (max_keys + 1)));
    try testing.expectEqual(@as(usize, max_keys), (try Keys.parseHex("00" ** max_keys)).len);
}
