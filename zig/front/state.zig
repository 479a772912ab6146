//! The front's pure parts (zig/front/main.zig): runc's command line as src/runtime/flags.ts and
//! globals.ts parse it, the runtime's record (src/runtime/state-dir.ts) and the OCI state JSON
//! `state` prints, byte for byte as `JSON.stringify(ociState(…), null, "  ")` does. Anything
//! these functions do not answer exactly as the Bun side would is `error.Unusual`: the front
//! then hands the whole call to the Bun binary, which answers it (and writes its errors).
const std = @import("std");
const json = std.json;
const assert = std.debug.assert;

/// src/runtime/cli.ts SPEC_VERSION (the contract test compares the two `--version` outputs).
pub const spec_version = "1.3.0";

/// Not answered here: the Bun binary takes the call.
pub const Unusual = error{Unusual};

pub const Status = enum { created, running, paused, stopped };

/// At most this many positional arguments to a verb the front answers (kill has two).
pub const positional_max = 4;

// ---------------------------------------------------------------------------------------------
// The command line (src/runtime/flags.ts parseFlags, globals.ts parseGlobals).

pub const Globals = struct {
    /// `--root` as given (relative paths resolve against the cwd, as path.resolve does).
    root: ?[]const u8 = null,
    log_json: bool = false,
    debug: bool = false,
    help: bool = false,
    version: bool = false,
    /// Index in `args` of the verb (== args.len without one).
    rest: usize = 0,
};

const global_strings = [_][]const u8{ "root", "log", "log-format", "rootless", "criu" };

/// Go's flag body: one or two leading dashes off (`^--?`).
fn flagBody(a: []const u8) []const u8 {
    assert(a.len >= 1 and a[0] == '-');
    return if (std.mem.startsWith(u8, a, "--")) a[2..] else a[1..];
}

fn isFlag(a: []const u8) bool {
    return a.len > 1 and a[0] == '-';
}

/// flags.ts boolValue.
fn boolValue(v: []const u8) Unusual!bool {
    for ([_][]const u8{ "1", "t", "T", "true", "TRUE", "True" }) |t| if (std.mem.eql(u8, v, t)) return true;
    for ([_][]const u8{ "0", "f", "F", "false", "FALSE", "False" }) |f| if (std.mem.eql(u8, v, f)) return false;
    return error.Unusual;
}

/// runc's global flags up to the verb (non-interleaved: the first positional argument ends them).
pub fn parseGlobals(args: []const []const u8) Unusual!Globals {
    var g: Globals = .{};
    var format: []const u8 = "text";
    var i: usize = 0;
    while (i < args.len) : (i += 1) {
        const a = args[i];
        if (std.mem.eql(u8, a, "--")) {
            i += 1;
            break;
        }
        if (!isFlag(a)) break;
        const body = flagBody(a);
        const eq = std.mem.indexOfScalar(u8, body, '=');
        const key = body[0 .. eq orelse body.len];
        if (isGlobalString(key)) {
            const v = if (eq) |e| body[e + 1 ..] else blk: {
                i += 1;
                if (i >= args.len) return error.Unusual;
                break :blk args[i];
            };
            if (std.mem.eql(u8, key, "root")) g.root = v;
            if (std.mem.eql(u8, key, "log-format")) format = v;
            continue;
        }
        const v = if (eq) |e| try boolValue(body[e + 1 ..]) else true;
        if (std.mem.eql(u8, key, "systemd-cgroup")) {} else if (std.mem.eql(u8, key, "debug")) {
            g.debug = v;
        } else if (std.mem.eql(u8, key, "help") or std.mem.eql(u8, key, "h")) {
            g.help = v;
        } else if (std.mem.eql(u8, key, "version") or std.mem.eql(u8, key, "v")) {
            g.version = v;
        } else return error.Unusual;
    }
    if (std.mem.eql(u8, format, "json")) g.log_json = true else if (!std.mem.eql(u8, format, "text")) return error.Unusual;
    if (g.root) |r| if (r.len == 0) return error.Unusual;
    g.rest = i;
    assert(g.rest <= args.len);
    return g;
}

fn isGlobalString(key: []const u8) bool {
    for (global_strings) |s| if (std.mem.eql(u8, key, s)) return true;
    return false;
}

/// A verb's boolean flag (the verbs the front answers have no other kind).
pub const BoolFlag = struct { name: []const u8, alias: []const u8 };

pub const VerbArgs = struct {
    positional: [positional_max][]const u8 = undefined,
    count: usize = 0,
    /// One per BoolFlag given to parseVerb.
    set: [2]bool = .{ false, false },
};

/// A verb's arguments, interleaved as urfave's reordering allows (`kill ID 9 --all`).
pub fn parseVerb(args: []const []const u8, flags: []const BoolFlag) Unusual!VerbArgs {
    assert(flags.len <= 2);
    var out: VerbArgs = .{};
    var i: usize = 0;
    var dashdash = false;
    while (i < args.len) : (i += 1) {
        const a = args[i];
        if (!dashdash and std.mem.eql(u8, a, "--")) {
            dashdash = true;
            continue;
        }
        if (dashdash or !isFlag(a)) {
            if (out.count == positional_max) return error.Unusual;
            out.positional[out.count] = a;
            out.count += 1;
            continue;
        }
        const body = flagBody(a);
        const eq = std.mem.indexOfScalar(u8, body, '=');
        const key = body[0 .. eq orelse body.len];
        const k = for (flags, 0..) |f, n| {
            if (std.mem.eql(u8, key, f.name) or std.mem.eql(u8, key, f.alias)) break n;
        } else return error.Unusual;
        out.set[k] = if (eq) |e| try boolValue(body[e + 1 ..]) else true;
    }
    return out;
}

/// runc's id rule (state-dir.ts checkId): `^[\w+\-.]+$`, not `.` or `..`.
pub fn validId(id: []const u8) bool {
    if (id.len == 0 or std.mem.eql(u8, id, ".") or std.mem.eql(u8, id, "..")) return false;
    for (id) |c| {
        const ok = std.ascii.isAlphanumeric(c) or c == '_' or c == '+' or c == '-' or c == '.';
        if (!ok) return false;
    }
    return true;
}

const signal_names = [_]struct { []const u8, u8 }{
    .{ "HUP", 1 },    .{ "INT", 2 },     .{ "QUIT", 3 },  .{ "ILL", 4 },    .{ "TRAP", 5 },   .{ "ABRT", 6 },
    .{ "IOT", 6 },    .{ "BUS", 7 },     .{ "FPE", 8 },   .{ "KILL", 9 },   .{ "USR1", 10 },  .{ "SEGV", 11 },
    .{ "USR2", 12 },  .{ "PIPE", 13 },   .{ "ALRM", 14 }, .{ "TERM", 15 },  .{ "STKFLT", 16 }, .{ "CHLD", 17 },
    .{ "CLD", 17 },   .{ "CONT", 18 },   .{ "STOP", 19 }, .{ "TSTP", 20 },  .{ "TTIN", 21 },  .{ "TTOU", 22 },
    .{ "URG", 23 },   .{ "XCPU", 24 },   .{ "XFSZ", 25 }, .{ "VTALRM", 26 }, .{ "PROF", 27 }, .{ "WINCH", 28 },
    .{ "IO", 29 },    .{ "POLL", 29 },   .{ "PWR", 30 },  .{ "SYS", 31 },
};

/// src/runtime/signals.ts parseSignal for numbers and the plain names; realtime names and
/// anything invalid are the Bun side's.
pub fn parseSignal(raw: []const u8) Unusual!u8 {
    if (raw.len > 0 and allDigits(raw)) {
        const n = std.fmt.parseInt(u32, raw, 10) catch return error.Unusual;
        if (n >= 1 and n <= 64) return @intCast(n);
        return error.Unusual;
    }
    var upper: [16]u8 = undefined;
    if (raw.len > upper.len) return error.Unusual;
    for (raw, 0..) |c, i| {
        if (c >= 0x80) return error.Unusual;
        upper[i] = std.ascii.toUpper(c);
    }
    var name: []const u8 = upper[0..raw.len];
    if (std.mem.startsWith(u8, name, "SIG")) name = name[3..];
    for (signal_names) |s| if (std.mem.eql(u8, name, s[0])) return s[1];
    return error.Unusual;
}

pub fn allDigits(s: []const u8) bool {
    for (s) |c| if (!std.ascii.isDigit(c)) return false;
    return true;
}

// ---------------------------------------------------------------------------------------------
// The record (state-dir.ts RuntimeRecord) and what is derived from it.

pub const Record = struct {
    oci_version: []const u8,
    id: []const u8,
    pid: i64,
    pid_start: []const u8,
    bundle: []const u8,
    rootfs: []const u8,
    created: []const u8,
    owner: []const u8,
    /// Non-empty, every value a string, no key JavaScript would reorder; else null.
    annotations: ?json.ObjectMap,
    /// `rec.cgroup?.paths ?? []`, each a string.
    cgroup_paths: []const json.Value,
};

fn field(o: json.ObjectMap, name: []const u8) Unusual![]const u8 {
    const v = o.get(name) orelse return error.Unusual;
    if (v != .string) return error.Unusual;
    if (!std.unicode.utf8ValidateSlice(v.string)) return error.Unusual;
    return v.string;
}

/// A key JavaScript's objects put first (an array index): `^(0|[1-9]\d*)$`.
fn indexLike(key: []const u8) bool {
    return key.len > 0 and allDigits(key) and (key[0] != '0' or key.len == 1);
}

/// Parses state.json as written by writeRecord; the arena holds what the record points into.
pub fn parseRecord(arena: std.mem.Allocator, text: []const u8) Unusual!Record {
    const v = json.parseFromSliceLeaky(json.Value, arena, text, .{ .duplicate_field_behavior = .use_last }) catch return error.Unusual;
    if (v != .object) return error.Unusual;
    const o = v.object;
    const pid = o.get("pid") orelse return error.Unusual;
    // Beyond 2^53 JavaScript's number is not the integer written.
    if (pid != .integer or @abs(pid.integer) > (1 << 53)) return error.Unusual;
    const rec: Record = .{
        .oci_version = try field(o, "ociVersion"),
        .id = try field(o, "id"),
        .pid = pid.integer,
        .pid_start = try field(o, "pidStart"),
        .bundle = try field(o, "bundle"),
        .rootfs = try field(o, "rootfs"),
        .created = try field(o, "created"),
        .owner = try field(o, "owner"),
        .annotations = try annotationsOf(o.get("annotations")),
        .cgroup_paths = try cgroupPathsOf(o.get("cgroup")),
    };
    if (std.mem.indexOfScalar(u8, rec.bundle, 0) != null) return error.Unusual;
    return rec;
}

fn annotationsOf(v: ?json.Value) Unusual!?json.ObjectMap {
    const a = v orelse return null;
    if (a == .null) return null;
    if (a != .object) return error.Unusual;
    if (a.object.count() == 0) return null;
    var it = a.object.iterator();
    while (it.next()) |e| {
        if (indexLike(e.key_ptr.*) or !std.unicode.utf8ValidateSlice(e.key_ptr.*)) return error.Unusual;
        if (e.value_ptr.* != .string or !std.unicode.utf8ValidateSlice(e.value_ptr.string)) return error.Unusual;
    }
    return a.object;
}

fn cgroupPathsOf(v: ?json.Value) Unusual![]const json.Value {
    const c = v orelse return &.{};
    if (c != .object) return &.{};
    const p = c.object.get("paths") orelse return &.{};
    if (p == .null) return &.{};
    if (p != .array) return error.Unusual;
    for (p.array.items) |d| {
        if (d != .string or d.string.len == 0 or std.mem.indexOfScalar(u8, d.string, 0) != null) return error.Unusual;
    }
    return p.array.items;
}

pub const ProcStat = struct { state: []const u8, start: []const u8 };

/// state-dir.ts procStat on the text of /proc/PID/stat: the fields after the last ')'.
pub fn parseStat(text: []const u8) ProcStat {
    const from: usize = if (std.mem.lastIndexOfScalar(u8, text, ')')) |c| c + 2 else 1;
    const rest = if (from <= text.len) text[from..] else "";
    var it = std.mem.splitScalar(u8, rest, ' ');
    var out: ProcStat = .{ .state = "", .start = "" };
    var n: usize = 0;
    while (it.next()) |f| : (n += 1) {
        if (n == 0) out.state = f;
        if (n == 19) {
            out.start = f;
            break;
        }
    }
    return out;
}

/// state-dir.ts initAlive, given the stat of rec.pid (null: no such process).
pub fn alive(rec: *const Record, stat: ?ProcStat) bool {
    const st = stat orelse return false;
    return std.mem.eql(u8, st.start, rec.pid_start) and !std.mem.eql(u8, st.state, "Z") and !std.mem.eql(u8, st.state, "X");
}

/// cgroup/frozen.ts on one file's text (cgroup.freeze or freezer.state).
pub fn frozenText(name: enum { freeze, freezer_state }, text: []const u8) bool {
    const t = std.mem.trim(u8, text, " \t\n\r\x0b\x0c");
    return switch (name) {
        .freeze => std.mem.eql(u8, t, "1"),
        .freezer_state => std.mem.eql(u8, t, "FROZEN") or std.mem.eql(u8, t, "FREEZING"),
    };
}

/// Whether a config.json's hooks of `kind` are a non-empty list (start.ts bundleHooks, delete.ts
/// poststopHooks: an unreadable config has none). Unusual when this parser cannot tell.
pub fn hasHooks(arena: std.mem.Allocator, text: []const u8, kind: []const u8) Unusual!bool {
    const v = json.parseFromSliceLeaky(json.Value, arena, text, .{ .duplicate_field_behavior = .use_last }) catch return error.Unusual;
    if (v != .object) return false;
    const hooks = v.object.get("hooks") orelse return false;
    if (hooks != .object) return false;
    const list = hooks.object.get(kind) orelse return false;
    return list == .array and list.array.items.len > 0;
}

// ---------------------------------------------------------------------------------------------
// The OCI state JSON (state-dir.ts ociState, printed by state.ts).

/// A bounded output buffer.
pub const Out = struct {
    buf: []u8,
    len: usize = 0,

    pub fn put(self: *Out, bytes: []const u8) Unusual!void {
        if (self.buf.len - self.len < bytes.len) return error.Unusual;
        @memcpy(self.buf[self.len..][0..bytes.len], bytes);
        self.len += bytes.len;
    }

    /// A JSON string as JavaScript's JSON.stringify writes valid UTF-8.
    pub fn string(self: *Out, s: []const u8) Unusual!void {
        assert(std.unicode.utf8ValidateSlice(s));
        try self.put("\"");
        for (s) |c| {
            switch (c) {
                '"' => try self.put("\\\""),
                '\\' => try self.put("\\\\"),
                0x08 => try self.put("\\b"),
                0x09 => try self.put("\\t"),
                0x0a => try self.put("\\n"),
                0x0c => try self.put("\\f"),
                0x0d => try self.put("\\r"),
                0x00...0x07, 0x0b, 0x0e...0x1f => {
                    const hex = "0123456789abcdef";
                    try self.put(&[_]u8{ '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf] });
                },
                else => try self.put(&[_]u8{c}),
            }
        }
        try self.put("\"");
    }

    fn member(self: *Out, indent: []const u8, key: []const u8, first: bool) Unusual!void {
        try self.put(if (first) "\n" else ",\n");
        try self.put(indent);
        try self.string(key);
        try self.put(": ");
    }

    pub fn written(self: *const Out) []const u8 {
        return self.buf[0..self.len];
    }
};

/// `JSON.stringify(ociState(root, rec), null, "  ") + "\n"`.
pub fn writeState(out: *Out, rec: *const Record, status: Status) Unusual!void {
    try out.put("{");
    try out.member("  ", "ociVersion", true);
    try out.string(rec.oci_version);
    try out.member("  ", "id", false);
    try out.string(rec.id);
    try out.member("  ", "pid", false);
    var num: [24]u8 = undefined;
    const pid: i64 = if (status == .stopped) 0 else rec.pid;
    try out.put(std.fmt.bufPrint(&num, "{d}", .{pid}) catch unreachable);
    try out.member("  ", "status", false);
    try out.string(@tagName(status));
    try out.member("  ", "bundle", false);
    try out.string(rec.bundle);
    try out.member("  ", "rootfs", false);
    try out.string(rec.rootfs);
    try out.member("  ", "created", false);
    try out.string(rec.created);
    if (rec.annotations) |a| {
        assert(a.count() > 0);
        try out.member("  ", "annotations", false);
        try out.put("{");
        var it = a.iterator();
        var first = true;
        while (it.next()) |e| : (first = false) {
            try out.member("    ", e.key_ptr.*, first);
            try out.string(e.value_ptr.string);
        }
        try out.put("\n  }");
    }
    try out.member("  ", "owner", false);
    try out.string(rec.owner);
    try out.put("\n}\n");
}

// ---------------------------------------------------------------------------------------------

const testing = std.testing;

test "globals: both flag forms, the verb's index, what is left to Bun" {
    const g = try parseGlobals(&.{ "--root", "/r", "--log=/l.json", "--log-format", "json", "--systemd-cgroup", "state", "x" });
    try testing.expectEqualStrings("/r", g.root.?);
    try testing.expect(g.log_json);
    try testing.expectEqual(@as(usize, 6), g.rest);
    const h = try parseGlobals(&.{ "-root=/q", "--debug=false", "--rootless", "true", "--criu=c", "--", "--x" });
    try testing.expectEqualStrings("/q", h.root.?);
    try testing.expect(!h.debug);
    try testing.expectEqual(@as(usize, 6), h.rest);
    try testing.expect((try parseGlobals(&.{"-v"})).version);
    try testing.expectError(error.Unusual, parseGlobals(&.{ "--nope", "state" }));
    try testing.expectError(error.Unusual, parseGlobals(&.{"--root"}));
    try testing.expectError(error.Unusual, parseGlobals(&.{ "--root=", "state" }));
    try testing.expectError(error.Unusual, parseGlobals(&.{ "--log-format", "xml", "state" }));
    try testing.expectError(error.Unusual, parseGlobals(&.{ "--debug=maybe", "state" }));
}

test "verb arguments: interleaved flags, aliases, --" {
    const flags = [_]BoolFlag{.{ .name = "all", .alias = "a" }};
    const k = try parseVerb(&.{ "id", "9", "--all" }, &flags);
    try testing.expectEqual(@as(usize, 2), k.count);
    try testing.expect(k.set[0]);
    const f = try parseVerb(&.{ "-a=false", "--", "-id" }, &flags);
    try testing.expect(!f.set[0]);
    try testing.expectEqualStrings("-id", f.positional[0]);
    try testing.expectError(error.Unusual, parseVerb(&.{ "--help", "id" }, &flags));
    try testing.expectError(error.Unusual, parseVerb(&.{ "a", "b", "c", "d", "e" }, &flags));
}

test "ids and signals as the Bun side takes them" {
    try testing.expect(validId("abc_D-1.2+3"));
    for ([_][]const u8{ "", ".", "..", "a/b", "a b", "é" }) |bad| try testing.expect(!validId(bad));
    try testing.expectEqual(@as(u8, 9), try parseSignal("9"));
    try testing.expectEqual(@as(u8, 15), try parseSignal("sigterm"));
    try testing.expectEqual(@as(u8, 1), try parseSignal("HUP"));
    try testing.expectEqual(@as(u8, 64), try parseSignal("64"));
    for ([_][]const u8{ "0", "65", "RTMIN+1", "NOPE", "" }) |bad| try testing.expectError(error.Unusual, parseSignal(bad));
}

test "proc stat: the fields after the last parenthesis" {
    const text = "42 (a) b) (c) S 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 98765 1000 10 18446744073709551615\n";
    const st = parseStat(text);
    try testing.expectEqualStrings("S", st.state);
    try testing.expectEqualStrings("98765", st.start);
    const none = parseStat("");
    try testing.expectEqualStrings("", none.state);
    try testing.expectEqualStrings("", none.start);
}

test "the state JSON as JSON.stringify indents it" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const text =
        \\{"ociVersion":"1.2.0","id":"c1","pid":77,"pidStart":"5","bundle":"/b \"q\"","rootfs":"/b/rootfs",
        \\"created":"2026-01-01T00:00:00.000000001Z","annotations":{"k":"v\u0001\n","é":"ü"},"owner":"",
        \\"cgroup":{"paths":["/sys/fs/cgroup/x"],"systemd":false},"terminal":false}
    ;
    const rec = try parseRecord(arena_state.allocator(), text);
    try testing.expectEqual(@as(usize, 1), rec.cgroup_paths.len);
    var buf: [1024]u8 = undefined;
    var out: Out = .{ .buf = &buf };
    try writeState(&out, &rec, .stopped);
    try testing.expectEqualStrings(
        \\{
        \\  "ociVersion": "1.2.0",
        \\  "id": "c1",
        \\  "pid": 0,
        \\  "status": "stopped",
        \\  "bundle": "/b \"q\"",
        \\  "rootfs": "/b/rootfs",
        \\  "created": "2026-01-01T00:00:00.000000001Z",
        \\  "annotations": {
        \\    "k": "v\u0001\n",
        \\    "é": "ü"
        \\  },
        \\  "owner": ""
        \\}
        \\
    , out.written());
    var small: [8]u8 = undefined;
    var short: Out = .{ .buf = &small };
    try testing.expectError(error.Unusual, writeState(&short, &rec, .running));
}

test "records the front leaves to Bun" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const a = arena_state.allocator();
    const base = "\"ociVersion\":\"1\",\"id\":\"c\",\"pidStart\":\"1\",\"bundle\":\"/b\",\"rootfs\":\"/r\",\"created\":\"t\",\"owner\":\"\"";
    try testing.expectError(error.Unusual, parseRecord(a, "{" ++ base ++ ",\"pid\":1.5}"));
    try testing.expectError(error.Unusual, parseRecord(a, "{" ++ base ++ ",\"pid\":1,\"annotations\":{\"1\":\"x\"}}"));
    try testing.expectError(error.Unusual, parseRecord(a, "{" ++ base ++ ",\"pid\":1,\"annotations\":{\"a\":1}}"));
    try testing.expectError(error.Unusual, parseRecord(a, "{" ++ base ++ ",\"pid\":1,\"cgroup\":{\"paths\":\"x\"}}"));
    try testing.expectError(error.Unusual, parseRecord(a, "{\"pid\":1}"));
    try testing.expectError(error.Unusual, parseRecord(a, "not json"));
    const ok = try parseRecord(a, "{" ++ base ++ ",\"pid\":1,\"annotations\":{},\"cgroup\":null}");
    try testing.expect(ok.annotations == null and ok.cgroup_paths.len == 0);
}

test "hooks of a kind: a non-empty list only" {
    var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena_state.deinit();
    const a = arena_state.allocator();
    try testing.expect(try hasHooks(a, "{\"hooks\":{\"poststart\":[{\"path\":\"/x\"}]}}", "poststart"));
    try testing.expect(!try hasHooks(a, "{\"hooks\":{\"poststart\":[]}}", "poststart"));
    try testing.expect(!try hasHooks(a, "{\"hooks\":{\"poststop\":[{\"path\":\"/x\"}]}}", "poststart"));
    try testing.expect(!try hasHooks(a, "{\"hooks\":{\"poststart\":[{}]},\"hooks\":{}}", "poststart"));
    try testing.expect(!try hasHooks(a, "[1]", "poststart"));
    try testing.expectError(error.Unusual, hasHooks(a, "{", "poststart"));
}

test "frozen files" {
    try testing.expect(frozenText(.freeze, "1\n"));
    try testing.expect(!frozenText(.freeze, "0\n"));
    try testing.expect(frozenText(.freezer_state, "FREEZING\n"));
    try testing.expect(!frozenText(.freezer_state, "THAWED\n"));
}
