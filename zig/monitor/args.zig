//! tsd-monitor --bundle DIR --id ID [--stdin] [--exit-report] [--detach-keys HEX] [--exit-file PATH]
//!             [--log PATH [--log-max-size BYTES] [--log-max-files N]]
//!             [--health-cmd N ARG... [--health-interval NS] [--health-timeout NS]
//!              [--health-start-period NS] [--health-retries N]] [--userns PATH [--mountns PATH]]
//!             [-- CLEANUP_ARGV...]
const std = @import("std");
const health = @import("health.zig");
const detach_keys = @import("detach_keys.zig");
const userns = @import("userns.zig");

pub const Args = struct {
    bundle: [:0]const u8,
    id: [:0]const u8,
    stdin: bool = false,
    /// Keep fd 3 open after the first report, send "exited <status>" at the end and leave the
    /// cleanup to a CLI that is still reading (CONTRACT.md "The exit report").
    exit_report: bool = false,
    exit_file: ?[:0]const u8 = null,
    /// With a terminal and --stdin: typing these detaches the user (detach_keys.zig).
    detach_keys: ?detach_keys.Keys = null,
    /// The json-file log (zig/monitor/log.zig); absent: no log.
    log: ?[:0]const u8 = null,
    /// Rotate past this many bytes; 0: never.
    log_max_size: u64 = 0,
    log_max_files: u32 = 1,
    /// Serve `<bundle>/attach.sock` (zig/monitor/attach.zig).
    attach: bool = false,
    /// Keep the container's stdin open for attach clients (run -d -i), without a user stdin.
    stdin_attach: bool = false,
    /// Health checks (health.zig); no --health-cmd: none.
    health: health.Config = .{},
    /// Rootless fast path: the pause process's namespaces, joined first (userns.zig).
    namespaces: userns.Paths = .{},
    /// NULL-terminated for execve: it points into the process's own argv array.
    cleanup: []const [*:0]const u8 = &.{},
};

pub const max_args = 4096;

pub const Error = error{Usage};

pub const Problem = struct { text: []const u8 = "", arg: []const u8 = "" };

pub fn parse(argv: []const [*:0]const u8, problem: *Problem) Error!Args {
    if (argv.len > max_args) return fail(problem, "too many arguments", "");
    var bundle: ?[:0]const u8 = null;
    var id: ?[:0]const u8 = null;
    var args: Args = .{ .bundle = undefined, .id = undefined };
    var i: usize = 1;
    while (i < argv.len) : (i += 1) {
        const a = std.mem.span(argv[i]);
        if (std.mem.eql(u8, a, "--")) {
            args.cleanup = argv[i + 1 ..];
            break;
        } else if (std.mem.eql(u8, a, "--stdin")) {
            args.stdin = true;
        } else if (std.mem.eql(u8, a, "--exit-report")) {
            args.exit_report = true;
        } else if (std.mem.eql(u8, a, "--attach")) {
            args.attach = true;
        } else if (std.mem.eql(u8, a, "--stdin-attach")) {
            args.stdin_attach = true;
        } else if (std.mem.eql(u8, a, "--log") or std.mem.eql(u8, a, "--log-max-size") or std.mem.eql(u8, a, "--log-max-files")) {
            if (i + 1 == argv.len) return fail(problem, "missing value for", a);
            i += 1;
            const v = std.mem.span(argv[i]);
            if (a.len == 5) {
                if (v.len == 0 or v[0] != '/') return fail(problem, "--log must be an absolute path, not", v);
                args.log = v;
            } else if (a[10] == 's') {
                args.log_max_size = std.fmt.parseInt(u64, v, 10) catch return fail(problem, "--log-max-size needs a byte count, not", v);
            } else {
                args.log_max_files = std.fmt.parseInt(u32, v, 10) catch return fail(problem, "--log-max-files needs a count, not", v);
                if (args.log_max_files < 1 or args.log_max_files > 64) return fail(problem, "--log-max-files must be 1..64, not", v);
            }
        } else if (std.mem.eql(u8, a, "--detach-keys")) {
            if (i + 1 == argv.len) return fail(problem, "missing value for", a);
            i += 1;
            const v = std.mem.span(argv[i]);
            args.detach_keys = detach_keys.Keys.parseHex(v) catch return fail(problem, "--detach-keys needs 1..16 bytes in hex, not", v);
        } else if (std.mem.eql(u8, a, "--userns") or std.mem.eql(u8, a, "--mountns")) {
            if (i + 1 == argv.len) return fail(problem, "missing value for", a);
            i += 1;
            const v = std.mem.span(argv[i]);
            if (v.len == 0 or v[0] != '/') return fail(problem, "a namespace must be an absolute path, not", v);
            _ = userns.parseFlag(a, v, i - 1, &args.namespaces);
        } else if (std.mem.startsWith(u8, a, "--health-")) {
            i = try parseHealth(argv, i, &args.health, problem);
        } else if (std.mem.eql(u8, a, "--bundle") or std.mem.eql(u8, a, "--id") or std.mem.eql(u8, a, "--exit-file")) {
            if (i + 1 == argv.len) return fail(problem, "missing value for", a);
            i += 1;
            const v = std.mem.span(argv[i]);
            if (v.len == 0) return fail(problem, "empty value for", a);
            if (a[2] == 'b') bundle = v else if (a[2] == 'i') id = v else args.exit_file = v;
        } else {
            return fail(problem, "unknown argument", a);
        }
    }
    args.bundle = bundle orelse return fail(problem, "missing", "--bundle");
    args.id = id orelse return fail(problem, "missing", "--id");
    if (args.bundle[0] != '/') return fail(problem, "--bundle must be absolute, not", args.bundle);
    if (args.namespaces.mount != null and args.namespaces.user == null) return fail(problem, "--mountns needs", "--userns");
    return args;
}

/// One --health-* option at argv[i]; returns the index of its last value.
fn parseHealth(argv: []const [*:0]const u8, i: usize, h: *health.Config, problem: *Problem) Error!usize {
    const a = std.mem.span(argv[i]);
    if (i + 1 == argv.len) return fail(problem, "missing value for", a);
    const v = std.mem.span(argv[i + 1]);
    if (std.mem.eql(u8, a, "--health-cmd")) {
        const n = std.fmt.parseInt(usize, v, 10) catch return fail(problem, "--health-cmd needs an argument count, not", v);
        if (n < 1 or n > health.args_max) return fail(problem, "--health-cmd takes 1..256 arguments, not", v);
        if (i + 1 + n >= argv.len) return fail(problem, "--health-cmd is missing arguments after", v);
        h.argv = argv[i + 2 ..][0..n];
        return i + 1 + n;
    }
    if (std.mem.eql(u8, a, "--health-retries")) {
        h.retries = std.fmt.parseInt(u32, v, 10) catch return fail(problem, "--health-retries needs a count, not", v);
        if (h.retries == 0) return fail(problem, "--health-retries must be at least 1, not", v);
        return i + 1;
    }
    const ns = std.fmt.parseInt(u64, v, 10) catch return fail(problem, "a --health-* duration is in nanoseconds, not", v);
    if (std.mem.eql(u8, a, "--health-interval")) {
        h.interval_ns = ns;
    } else if (std.mem.eql(u8, a, "--health-timeout")) {
        h.timeout_ns = ns;
    } else if (std.mem.eql(u8, a, "--health-start-period")) {
        h.start_period_ns = ns;
        return i + 1;
    } else return fail(problem, "unknown argument", a);
    if (ns < std.time.ns_per_ms) return fail(problem, "a health interval or timeout must be at least 1ms, not", v);
    return i + 1;
}

fn fail(problem: *Problem, text: []const u8, arg: []const u8) Error {
    problem.* = .{ .text = text, .arg = arg };
    return error.Usage;
}

test "argv" {
    const argv = [_:null]?[*:0]const u8{ "tsd-monitor", "--bundle", "/b", "--id", "x", "--stdin", "--exit-report", "--", "/bin/tsd", "cleanup" };
    var problem: Problem = .{};
    const a = try parse(@ptrCast(argv[0..]), &problem);
    try std.testing.expectEqualStrings("/b", a.bundle);
    try std.testing.expectEqualStrings("x", a.id);
    try std.testing.expect(a.stdin);
    try std.testing.expect(a.exit_report);
    try std.testing.expectEqual(@as(usize, 2), a.cleanup.len);
    try std.testing.expectEqualStrings("cleanup", std.mem.span(a.cleanup[1]));
    try std.testing.expect(!a.health.enabled());
    try std.testing.expect(a.detach_keys == null);
    const dk = [_:null]?[*:0]const u8{ "tsd-monitor", "--bundle", "/b", "--id", "x", "--detach-keys", "0178" };
    try std.testing.expectEqualSlices(u8, "\x01x", (try parse(@ptrCast(dk[0..]), &problem)).detach_keys.?.slice());
    const bad_keys = [_:null]?[*:0]const u8{ "tsd-monitor", "--bundle", "/b", "--id", "x", "--detach-keys", "p" };
    try std.testing.expectError(error.Usage, parse(@ptrCast(bad_keys[0..]), &problem));
    const hc = [_:null]?[*:0]const u8{ "tsd-monitor", "--bundle", "/b", "--id", "x", "--health-cmd", "2", "cat", "/ok", "--health-retries", "5", "--health-interval", "200000000", "--", "/bin/tsd" };
    const h = try parse(@ptrCast(hc[0..]), &problem);
    try std.testing.expectEqual(@as(usize, 2), h.health.argv.len);
    try std.testing.expectEqualStrings("/ok", std.mem.span(h.health.argv[1]));
    try std.testing.expectEqual(@as(u32, 5), h.health.retries);
    try std.testing.expectEqual(@as(u64, 200_000_000), h.health.interval_ns);
    try std.testing.expectEqual(@as(usize, 1), h.cleanup.len);
    const short = [_]?[*:0]const u8{ "tsd-monitor", "--bundle", "/b", "--id", "x", "--health-cmd", "3", "cat" };
    try std.testing.expectError(error.Usage, parse(@ptrCast(short[0..]), &problem));
    const ns = [_:null]?[*:0]const u8{ "tsd-monitor", "--bundle", "/b", "--id", "x", "--userns", "/proc/9/fd/5", "--mountns", "/proc/9/fd/6" };
    const n = try parse(@ptrCast(ns[0..]), &problem);
    try std.testing.expectEqualStrings("/proc/9/fd/5", n.namespaces.user.?);
    const mount_only = [_:null]?[*:0]const u8{ "tsd-monitor", "--bundle", "/b", "--id", "x", "--mountns", "/proc/9/fd/6" };
    try std.testing.expectError(error.Usage, parse(@ptrCast(mount_only[0..]), &problem));
    const bad = [_]?[*:0]const u8{ "tsd-monitor", "--id", "x" };
    try std.testing.expectError(error.Usage, parse(@ptrCast(bad[0..]), &problem));
    try std.testing.expectEqualStrings("--bundle", problem.arg);
}
