//! OCI hooks (runtime-spec "POSIX-platform Hooks"): one hook is a fork + execve of its path with
//! its args and env, the container's state JSON on its stdin, its stdout and stderr kept (the
//! first line goes into the error when it fails), killed at its timeout. A failing hook fails
//! the step that ran it with a message naming the hook. prestart and createRuntime run in the
//! monitor while the init waits (sync "H"), createContainer in the init before pivot_root,
//! startContainer in the init after the exec fifo (CONTRACT.md "tsd-monitor --create");
//! poststart and poststop are the CLI's (src/runtime/hooks.ts).
//!
//! The state: the caller's prefix (the OCI state without its last two fields, ending in a
//! comma: `{"ociVersion":"…","id":"…","bundle":"…","annotations":{…},`), to which
//! `"status":"…","pid":N}` is appended. No allocation: safe in the init.
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;
const errno = @import("linux").errno;
const diag = @import("diag.zig");
const Diag = diag.Diag;
const spec = @import("spec.zig");

/// The prefix file's bound (RUNTIME.md), and room for the fields appended.
pub const prefix_max = 64 * 1024;
pub const state_max = prefix_max + 64;
/// Bytes of a failed hook's output quoted in its error.
const output_quote = 256;

pub const State = struct {
    buf: [prefix_max]u8 = undefined,
    len: usize = 0,

    /// Reads the --hook-state file (bounded): it must be one JSON object's head ending in ','.
    pub fn load(st: *State, path: [*:0]const u8, d: *Diag) !void {
        const f = sys.open(path, .{ .CLOEXEC = true, .NOFOLLOW = true }, 0) catch |err| return d.fail(err, "open the hook state {s}", .{path});
        defer sys.close(f);
        st.len = 0;
        while (st.len < st.buf.len) {
            const n = sys.read(f, st.buf[st.len..]) catch |err| return d.fail(err, "read the hook state {s}", .{path});
            if (n == 0) break;
            st.len += n;
        }
        if (st.len == st.buf.len or st.len < 2 or st.buf[0] != '{' or st.buf[st.len - 1] != ',') {
            d.set(diag.status_engine, "the hook state {s} is not a JSON object's head ending in ',' (at most {d} bytes)", .{ path, prefix_max - 1 });
            return error.InvalidHookState;
        }
    }

    /// tsd's own run mode: no prefix file, the fields the monitor knows.
    pub fn initDefault(st: *State, id: []const u8, bundle: []const u8) !void {
        var w = std.Io.Writer.fixed(&st.buf);
        w.writeAll("{\"ociVersion\":\"1.2.0\",\"id\":") catch return error.NAMETOOLONG;
        std.json.Stringify.encodeJsonString(id, .{}, &w) catch return error.NAMETOOLONG;
        w.writeAll(",\"bundle\":") catch return error.NAMETOOLONG;
        std.json.Stringify.encodeJsonString(bundle, .{}, &w) catch return error.NAMETOOLONG;
        w.writeAll(",\"annotations\":{},") catch return error.NAMETOOLONG;
        st.len = w.end;
    }

    /// The whole state JSON in `out`.
    pub fn render(st: *const State, status: []const u8, pid: linux.pid_t, out: *[state_max]u8) []const u8 {
        assert(st.len > 0 and st.len < prefix_max and st.buf[st.len - 1] == ',');
        @memcpy(out[0..st.len], st.buf[0..st.len]);
        const tail = std.fmt.bufPrint(out[st.len..], "\"status\":\"{s}\",\"pid\":{d}}}", .{ status, pid }) catch unreachable;
        return out[0 .. st.len + tail.len];
    }
};

/// One step's hooks as the init runs them (createContainer, startContainer): their kind and
/// the state they are given, rendered when they run.
pub const Step = struct {
    kind: spec.HookKind,
    status: []const u8,
    state: ?*const State,
    pid: linux.pid_t,

    /// Runs the spec's hooks of this kind, if any; hooks without a state are an error.
    pub fn run(step: Step, s: *const spec.Spec, d: *Diag) !void {
        if (s.hooksOf(step.kind).len == 0) return;
        const st = step.state orelse {
            d.set(diag.status_engine, "{s} hooks without a hook state", .{@tagName(step.kind)});
            return error.InvalidHookState;
        };
        const S = struct {
            var out: [state_max]u8 = undefined;
        };
        try runAll(s, step.kind, st.render(step.status, step.pid, &S.out), d);
    }
};

/// Every hook of `kind` in order; the first failure stops them.
pub fn runAll(s: *const spec.Spec, kind: spec.HookKind, state: []const u8, d: *Diag) !void {
    for (s.hooksOf(kind)) |*h| try runOne(h, kind, state, d);
}

pub fn runOne(h: *const spec.Hook, kind: spec.HookKind, state: []const u8, d: *Diag) !void {
    const input = try memfdWith("tsd-hook-state", state, kind, d);
    defer sys.close(input);
    const output = try memfdWith("tsd-hook-output", "", kind, d);
    defer sys.close(output);
    const pid = sys.fork() catch |err| return d.fail(err, "{s} hook {s}: fork", .{ @tagName(kind), h.path });
    if (pid == 0) child(h, input, output);
    const status = try waitWithTimeout(pid, h.timeout_s, kind, h.path, d);
    if (status == 0) return;
    var quote_buf: [output_quote]u8 = undefined;
    const quote = firstLine(output, &quote_buf);
    // runc's words: "error running hook …: signal: bad system call".
    if (linux.W.IFEXITED(status)) {
        d.set(diag.status_engine, "{s}: error running hook {s}: exit status {d}{s}{s}", .{ @tagName(kind), h.path, linux.W.EXITSTATUS(status), if (quote.len > 0) ": " else "", quote });
    } else {
        const sig = linux.W.TERMSIG(status);
        d.set(diag.status_engine, "{s}: error running hook {s}: signal {d}: {s}", .{ @tagName(kind), h.path, sig, signalName(sig) });
    }
    return error.HookFailed;
}

/// strsignal's words for the signals a hook is likely to die of.
fn signalName(sig: u32) []const u8 {
    return switch (sig) {
        linux.SIG.HUP => "hangup",
        linux.SIG.INT => "interrupt",
        linux.SIG.ABRT => "aborted",
        linux.SIG.KILL => "killed",
        linux.SIG.SEGV => "segmentation fault",
        linux.SIG.PIPE => "broken pipe",
        linux.SIG.TERM => "terminated",
        linux.SIG.SYS => "bad system call",
        else => "killed by a signal",
    };
}

fn memfdWith(name: [*:0]const u8, bytes: []const u8, kind: spec.HookKind, d: *Diag) !sys.fd_t {
    const f: sys.fd_t = @intCast(sys.check(linux.memfd_create(name, linux.MFD.CLOEXEC)) catch |err| return d.fail(err, "{s} hooks: memfd_create", .{@tagName(kind)}));
    errdefer sys.close(f);
    sys.writeAll(f, bytes) catch |err| return d.fail(err, "{s} hooks: write the state", .{@tagName(kind)});
    _ = sys.check(linux.lseek(f, 0, linux.SEEK.SET)) catch |err| return d.fail(err, "{s} hooks: lseek", .{@tagName(kind)});
    return f;
}

/// The hook's process: state on 0, output on 1 and 2, nothing else of ours, no signal blocked.
fn child(h: *const spec.Hook, input: sys.fd_t, output: sys.fd_t) noreturn {
    _ = sys.prctl(.SET_PDEATHSIG, linux.SIG.KILL, 0, 0, 0) catch {};
    sys.dup3(input, 0, 0) catch linux.exit_group(126);
    sys.dup3(output, 1, 0) catch linux.exit_group(126);
    sys.dup3(output, 2, 0) catch linux.exit_group(126);
    sys.closeRange(3, std.math.maxInt(u32), sys.CLOSE_RANGE_CLOEXEC) catch linux.exit_group(126);
    const none = linux.sigemptyset();
    sys.sigprocmask(linux.SIG.SETMASK, &none, null) catch {};
    const argv: [*:null]const ?[*:0]const u8 = @ptrCast(h.argv.ptr);
    const envp: [*:null]const ?[*:0]const u8 = @ptrCast(h.envp.ptr);
    const err = sys.execve(h.path.ptr, argv, envp);
    var buf: [diag.message_max]u8 = undefined;
    const line = std.fmt.bufPrint(&buf, "cannot exec: {s}\n", .{errno.describe(err)}) catch buf[0..];
    sys.writeAll(2, line) catch {};
    linux.exit_group(if (err == error.NOENT) 127 else 126);
}

/// The hook's wait status; at its timeout it is killed (and reaped) and the step fails.
fn waitWithTimeout(pid: linux.pid_t, timeout_s: u32, kind: spec.HookKind, path: []const u8, d: *Diag) !u32 {
    if (timeout_s > 0) {
        const pidfd: sys.fd_t = @intCast(sys.check(linux.pidfd_open(pid, 0)) catch |err| {
            sys.kill(pid, linux.SIG.KILL) catch {};
            _ = sys.waitpid(pid, 0) catch {};
            return d.fail(err, "{s} hook {s}: pidfd_open", .{ @tagName(kind), path });
        });
        defer sys.close(pidfd);
        var pfd = [1]linux.pollfd{.{ .fd = pidfd, .events = linux.POLL.IN, .revents = 0 }};
        const ready = sys.poll(&pfd, @intCast(@as(u64, timeout_s) * 1000)) catch 0;
        if (ready == 0) {
            sys.kill(pid, linux.SIG.KILL) catch {};
            _ = sys.waitpid(pid, 0) catch {};
            d.set(diag.status_engine, "{s} hook {s} timed out after {d} s", .{ @tagName(kind), path, timeout_s });
            return error.HookTimedOut;
        }
    }
    const w = sys.waitpid(pid, 0) catch |err| return d.fail(err, "{s} hook {s}: wait", .{ @tagName(kind), path });
    return w.status;
}

/// The first line of what the hook wrote (bounded), for its error message.
fn firstLine(output: sys.fd_t, buf: *[output_quote]u8) []const u8 {
    _ = sys.check(linux.lseek(output, 0, linux.SEEK.SET)) catch return "";
    const n = sys.read(output, buf) catch return "";
    const text = std.mem.trim(u8, buf[0..n], " \t\r\n");
    const end = std.mem.indexOfAny(u8, text, "\r\n") orelse text.len;
    return text[0..end];
}

test "state: default prefix, render" {
    var st: State = .{};
    try st.initDefault("c\"1", "/b");
    var out: [state_max]u8 = undefined;
    const json = st.render("creating", 42, &out);
    try std.testing.expectEqualStrings("{\"ociVersion\":\"1.2.0\",\"id\":\"c\\\"1\",\"bundle\":\"/b\",\"annotations\":{},\"status\":\"creating\",\"pid\":42}", json);
    const parsed = try std.json.parseFromSlice(std.json.Value, std.testing.allocator, json, .{});
    defer parsed.deinit();
    try std.testing.expectEqual(@as(i64, 42), parsed.value.object.get("pid").?.integer);
}

var test_env = [_]spec.Pool.Ptr{ "K=V", null };

fn testHook(argv: []spec.Pool.Ptr, timeout_s: u32) spec.Hook {
    assert(argv[argv.len - 1] == null);
    return .{ .path = "/bin/sh", .argv = argv, .envp = &test_env, .timeout_s = timeout_s };
}

test "a hook gets the state on stdin and its env; a failure names the hook and quotes it" {
    var tmp = std.testing.tmpDir(.{});
    defer tmp.cleanup();
    var dir_buf: [std.fs.max_path_bytes]u8 = undefined;
    const dir = try tmp.dir.realpath(".", &dir_buf);
    var cmd_buf: [std.fs.max_path_bytes + 64]u8 = undefined;
    const cmd = try std.fmt.bufPrintZ(&cmd_buf, "cat > {s}/state; echo \"$K\" > {s}/env", .{ dir, dir });
    var d: Diag = .{};
    var ok_argv = [_]spec.Pool.Ptr{ "sh", "-c", cmd.ptr, null };
    const ok = testHook(&ok_argv, 0);
    try runOne(&ok, .prestart, "{\"pid\":1}", &d);
    var buf: [64]u8 = undefined;
    try std.testing.expectEqualStrings("{\"pid\":1}", try tmp.dir.readFile("state", &buf));
    try std.testing.expectEqualStrings("V\n", try tmp.dir.readFile("env", &buf));
    var bad_argv = [_]spec.Pool.Ptr{ "sh", "-c", "echo no good >&2; exit 3", null };
    const bad = testHook(&bad_argv, 0);
    try std.testing.expectError(error.HookFailed, runOne(&bad, .createRuntime, "{}", &d));
    try std.testing.expectEqualStrings("createRuntime: error running hook /bin/sh: exit status 3: no good", d.message());
    var slow_argv = [_]spec.Pool.Ptr{ "sh", "-c", "exec sleep 5", null };
    const slow = testHook(&slow_argv, 1);
    try std.testing.expectError(error.HookTimedOut, runOne(&slow, .startContainer, "{}", &d));
    try std.testing.expectEqualStrings("startContainer hook /bin/sh timed out after 1 s", d.message());
}
