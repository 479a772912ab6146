//! After the init is gone: exit.json (atomically: a reader sees the old file or the whole new
//! one) and the cleanup command, run to completion before the monitor exits.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("linux").sys;
const runtime = @import("runtime");
const assert = std.debug.assert;

pub const ExitStatus = struct {
    pid: linux.pid_t,
    /// The Docker status: the code, 128+signal, or the error status.
    exit_code: u8,
    signal: u8,
    started_at: i64,
    finished_at: i64,
    err: ?[]const u8,
};

/// The Docker status of a wait(2) status word.
pub fn dockerStatus(status: u32) struct { code: u8, signal: u8 } {
    if (linux.W.IFEXITED(status)) return .{ .code = linux.W.EXITSTATUS(status), .signal = 0 };
    if (linux.W.IFSIGNALED(status)) {
        const sig: u8 = @intCast(linux.W.TERMSIG(status) & 0x7f);
        return .{ .code = 128 +| sig, .signal = sig };
    }
    return .{ .code = runtime.diag.status_engine, .signal = 0 };
}

const json_max = 4096;

pub fn format(e: ExitStatus, buf: *[json_max]u8) []const u8 {
    var w: std.Io.Writer = .fixed(buf);
    w.print("{{\"pid\":{d},\"exitCode\":{d},\"signal\":{d},\"startedAt\":{d},\"finishedAt\":{d}", .{
        e.pid, e.exit_code, e.signal, e.started_at, e.finished_at,
    }) catch unreachable;
    if (e.err) |text| {
        std.debug.assert(text.len <= runtime.diag.message_max);
        w.writeAll(",\"error\":") catch unreachable;
        std.json.Stringify.encodeJsonString(text, .{}, &w) catch unreachable;
    }
    w.writeAll("}\n") catch unreachable;
    return w.buffered();
}

/// The space to record an exit, taken when the monitor starts: a disk that fills while the
/// container runs must not turn its exit status into "unknown" (an empty exit.json.tmp).
pub fn reserveExitFile(path: [:0]const u8) sys.Error!void {
    var buf: [runtime.spec.limits.path + 16]u8 = undefined;
    const reserve = std.fmt.bufPrintZ(&buf, "{s}.reserve", .{path}) catch return error.NAMETOOLONG;
    const f = try sys.open(reserve, .{ .ACCMODE = .WRONLY, .CREAT = true, .TRUNC = true, .CLOEXEC = true, .NOFOLLOW = true }, 0o644);
    defer sys.close(f);
    try sys.fallocate(f, 0, json_max);
}

/// Writes `path` atomically: into the space reserved at start ("<path>.reserve", written in
/// place, cut to length, renamed), else through "<path>.tmp" + rename.
pub fn writeExitFile(path: [:0]const u8, e: ExitStatus) sys.Error!void {
    var json_buf: [json_max]u8 = undefined;
    const json = format(e, &json_buf);
    writeReserved(path, json) catch return writeFresh(path, json);
}

fn writeReserved(path: [:0]const u8, json: []const u8) sys.Error!void {
    assert(json.len <= json_max);
    var buf: [runtime.spec.limits.path + 16]u8 = undefined;
    const reserve = std.fmt.bufPrintZ(&buf, "{s}.reserve", .{path}) catch return error.NAMETOOLONG;
    const f = try sys.open(reserve, .{ .ACCMODE = .WRONLY, .CLOEXEC = true, .NOFOLLOW = true }, 0);
    defer sys.close(f);
    try sys.pwriteAll(f, json, 0);
    try sys.ftruncate(f, json.len);
    try sys.fsync(f);
    try sys.renameat(linux.AT.FDCWD, reserve, linux.AT.FDCWD, path);
}

fn writeFresh(path: [:0]const u8, json: []const u8) sys.Error!void {
    var tmp_buf: [runtime.spec.limits.path + 8]u8 = undefined;
    const tmp = std.fmt.bufPrintZ(&tmp_buf, "{s}.tmp", .{path}) catch return error.NAMETOOLONG;
    const f = try sys.open(tmp, .{ .ACCMODE = .WRONLY, .CREAT = true, .TRUNC = true, .CLOEXEC = true, .NOFOLLOW = true }, 0o644);
    defer sys.close(f);
    try sys.writeAll(f, json);
    try sys.fsync(f);
    try sys.renameat(linux.AT.FDCWD, tmp, linux.AT.FDCWD, path);
}

/// Writes the decimal pid to `path` through "<path>.tmp" + rename.
pub fn writePidFile(path: [:0]const u8, pid: linux.pid_t) sys.Error!void {
    var text_buf: [16]u8 = undefined;
    const text = std.fmt.bufPrint(&text_buf, "{d}", .{pid}) catch unreachable;
    var tmp_buf: [runtime.spec.limits.path + 8]u8 = undefined;
    const tmp = std.fmt.bufPrintZ(&tmp_buf, "{s}.tmp", .{path}) catch return error.NAMETOOLONG;
    const f = try sys.open(tmp, .{ .ACCMODE = .WRONLY, .CREAT = true, .TRUNC = true, .CLOEXEC = true, .NOFOLLOW = true }, 0o644);
    defer sys.close(f);
    try sys.writeAll(f, text);
    try sys.renameat(linux.AT.FDCWD, tmp, linux.AT.FDCWD, path);
}

/// Runs the cleanup argv (fork + execve with the monitor's environment) and waits for it.
/// Returns its wait status.
pub fn runCleanup(argv: []const [*:0]const u8, envp: [*:null]const ?[*:0]const u8) sys.Error!u32 {
    std.debug.assert(argv.len > 0);
    var path_buf: [runtime.spec.limits.path]u8 = undefined;
    var d: runtime.diag.Diag = .{};
    const name = std.mem.span(argv[0]);
    const file = runtime.exec.resolve(name, getenv(envp, "PATH"), &path_buf, &d) catch {
        printStderr("tsd-monitor: cleanup: {s}\n", .{d.message()});
        return error.NOENT;
    };
    const pid = try sys.fork();
    if (pid == 0) {
        // The monitor blocks these for its signalfd; the cleanup command must get them.
        const none = linux.sigemptyset();
        sys.sigprocmask(linux.SIG.SETMASK, &none, null) catch {};
        const err = sys.execve(file, @ptrCast(argv.ptr), envp);
        printStderr("tsd-monitor: cleanup: cannot exec \"{s}\": {s}\n", .{ name, @import("linux").errno.describe(err) });
        linux.exit_group(127);
    }
    const waited = try sys.waitpid(pid, 0);
    return waited.status;
}

fn getenv(envp: [*:null]const ?[*:0]const u8, name: []const u8) ?[]const u8 {
    var i: usize = 0;
    while (envp[i]) |entry| : (i += 1) {
        const e = std.mem.span(entry);
        if (e.len > name.len and e[name.len] == '=' and std.mem.eql(u8, e[0..name.len], name)) return e[name.len + 1 ..];
    }
    return null;
}

/// One line to the user's stderr; a failed write has nowhere else to go.
pub fn printStderr(comptime fmt: []const u8, args: anytype) void {
    var buf: [runtime.diag.message_max + 256]u8 = undefined;
    const text = std.fmt.bufPrint(&buf, fmt, args) catch buf[0..];
    sys.writeAll(2, text) catch {};
}

test "exit.json" {
    var buf: [json_max]u8 = undefined;
    const text = format(.{ .pid = 7, .exit_code = 137, .signal = 9, .started_at = 1, .finished_at = 2, .err = null }, &buf);
    try std.testing.expectEqualStrings("{\"pid\":7,\"exitCode\":137,\"signal\":9,\"startedAt\":1,\"finishedAt\":2}\n", text);
    const err_text = format(.{ .pid = 0, .exit_code = 127, .signal = 0, .started_at = 1, .finished_at = 2, .err = "cannot exec \"x\"" }, &buf);
    try std.testing.expect(std.mem.endsWith(u8, err_text, ",\"error\":\"cannot exec \\\"x\\\"\"}\n"));
    try std.testing.expectEqual(@as(u8, 137), dockerStatus(9).code);
    try std.testing.expectEqual(@as(u8, 3), dockerStatus(3 << 8).code);
}

test "exit.json through the reserved space" {
    var tmp = std.testing.tmpDir(.{});
    defer tmp.cleanup();
    var dir_buf: [std.fs.max_path_bytes]u8 = undefined;
    const dir = try tmp.dir.realpath(".", &dir_buf);
    var path_buf: [runtime.spec.limits.path]u8 = undefined;
    const path = try std.fmt.bufPrintZ(&path_buf, "{s}/exit.json", .{dir});
    try reserveExitFile(path);
    const reserved = try tmp.dir.statFile("exit.json.reserve");
    try std.testing.expectEqual(@as(u64, json_max), reserved.size);
    const e: ExitStatus = .{ .pid = 9, .exit_code = 7, .signal = 0, .started_at = 1, .finished_at = 2, .err = null };
    try writeExitFile(path, e);
    var want_buf: [json_max]u8 = undefined;
    var got_buf: [json_max]u8 = undefined;
    const got = try tmp.dir.readFile("exit.json", &got_buf);
    try std.testing.expectEqualStrings(format(e, &want_buf), got);
    try std.testing.expectError(error.FileNotFound, tmp.dir.statFile("exit.json.reserve"));
    // Without a reservation the fresh-file path writes the same.
    try writeExitFile(path, e);
    try std.testing.expectEqualStrings(format(e, &want_buf), try tmp.dir.readFile("exit.json", &got_buf));
}
