//! Health checks (Docker 20.10's HEALTHCHECK, daemon/health.go), run by the container's own
//! monitor (zig/CONTRACT.md "Health checks"). The loop (relay.zig) asks `timeoutMs` how long it
//! may sleep, calls `onTimer` on every wake-up and `onResult` when the runner's pipe is readable.
//!
//! A probe: the monitor forks a runner (a host process, PR_SET_PDEATHSIG) that enters the
//! container as `tsd-monitor --exec` does (cgroups, namespaces, mount last) and forks a reaper
//! (in the container's pid namespace, a child subreaper running our code), which forks the
//! probe: its own process group, the container's process with the probe's argv
//! (runtime/become.zig: user, caps, seccomp, no_new_privs, cwd, env). At the timeout the
//! reaper kills the probe's group with SIGKILL and reaps it and its orphans (an init that never
//! reaps keeps no zombie of ours). The runner keeps the first 4096 bytes of the probe's stdout
//! and stderr, writes one Entry to the result pipe and exits. The monitor reads the Entry straight into the oldest slot of the log, applies
//! Docker's rules (State.apply) and rewrites `<bundle>/health.json` (tmp + rename).
//!
//! Memory: the log (5 entries of 4 KiB) is static and touched only when a probe runs; after
//! init nothing is allocated.
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;
const runtime = @import("runtime");
const spec = runtime.spec;
const diag = runtime.diag;
const Diag = diag.Diag;
const config = @import("config.zig");
const exec_mode = @import("exec.zig");
const log_mod = @import("log.zig");

/// Docker's maxOutputLen: longer output is cut and "..." appended.
pub const output_max = 4096;
/// Docker's maxLogEntries.
pub const log_max = 5;
/// Arguments of the probe command (`--health-cmd N ARG...`).
pub const args_max = 256;
pub const ns_per_ms = std.time.ns_per_ms;

pub const Config = struct {
    /// The probe's argv (CMD-SHELL is already ["/bin/sh", "-c", TEXT]); empty: no checks.
    argv: []const [*:0]const u8 = &.{},
    interval_ns: u64 = 30 * std.time.ns_per_s,
    timeout_ns: u64 = 30 * std.time.ns_per_s,
    start_period_ns: u64 = 0,
    retries: u32 = 3,

    pub fn enabled(c: *const Config) bool {
        return c.argv.len > 0;
    }
};

pub const Status = enum { starting, healthy, unhealthy };

/// One probe's result, as the runner writes it to the result pipe (header + `len` bytes of
/// output) and as the log keeps it.
pub const Entry = extern struct {
    start_ns: i64,
    end_ns: i64,
    exit_code: i32,
    len: u16,
    /// The probe wrote more than output_max bytes: "..." is appended when shown.
    truncated: u8,
    pad: u8 = 0,
    output: [output_max]u8,

    pub const header = @offsetOf(Entry, "output");

    pub fn text(e: *const Entry) []const u8 {
        assert(e.len <= output_max);
        return e.output[0..e.len];
    }

    /// Keeps what fits of `bytes` (Docker's limitedBuffer).
    pub fn append(e: *Entry, bytes: []const u8) void {
        const keep = @min(output_max - e.len, bytes.len);
        @memcpy(e.output[e.len..][0..keep], bytes[0..keep]);
        e.len += @intCast(keep);
        if (keep < bytes.len) e.truncated = 1;
    }
};

/// Docker's Health {Status, FailingStreak, Log}: the pure part, unit-tested.
pub const State = struct {
    status: Status = .starting,
    failing_streak: u32 = 0,
    log: [log_max]Entry = undefined,
    log_len: usize = 0,
    /// The oldest entry's slot once the log is full.
    log_first: usize = 0,

    /// Starting over (a start or restart), without touching the log's pages.
    pub fn reset(s: *State) void {
        s.status = .starting;
        s.failing_streak = 0;
        s.log_len = 0;
        s.log_first = 0;
    }

    /// Where the next result goes: a free slot, else the oldest entry's.
    pub fn nextSlot(s: *State) *Entry {
        assert(s.log_len <= log_max and s.log_first < log_max);
        return &s.log[(s.log_first + s.log_len) % log_max];
    }

    /// The entry in nextSlot() is complete: keep it and apply Docker's rules (handleProbeResult).
    pub fn commit(s: *State, cfg: *const Config, started_at_ns: i64) void {
        const e = s.nextSlot();
        if (s.log_len < log_max) s.log_len += 1 else s.log_first = (s.log_first + 1) % log_max;
        s.apply(cfg, e.exit_code, e.start_ns, started_at_ns);
    }

    pub fn apply(s: *State, cfg: *const Config, exit_code: i32, start_ns: i64, started_at_ns: i64) void {
        assert(cfg.retries > 0);
        if (exit_code == 0) {
            s.failing_streak = 0;
            s.status = .healthy;
            return;
        }
        // A failure while starting, within the start period, does not count.
        const period: i64 = @intCast(@min(cfg.start_period_ns, std.math.maxInt(i64)));
        if (s.status == .starting and start_ns - started_at_ns < period) return;
        s.failing_streak += 1;
        if (s.failing_streak >= cfg.retries) s.status = .unhealthy;
    }

    /// The log oldest first.
    pub fn entry(s: *const State, i: usize) *const Entry {
        assert(i < s.log_len);
        return &s.log[(s.log_first + i) % log_max];
    }
};

pub const Health = struct {
    cfg: Config,
    state: State = .{},
    path_buf: [spec.limits.path]u8 = undefined,
    path: [:0]const u8 = "",
    init_pid: linux.pid_t = 0,
    started_at_ns: i64 = 0,
    /// When the next probe starts (monotonic ms); probes run one at a time.
    due_ms: i64 = 0,
    /// A probe's result is awaited from this runner.
    runner: ?linux.pid_t = null,
    /// The last runner, and whether it has not been reaped yet (its pid is still ours to signal).
    runner_pid: linux.pid_t = 0,
    runner_alive: bool = false,
    /// The read end of the runner's result pipe (non-blocking).
    result: ?sys.fd_t = null,
    received: usize = 0,
    /// The result fd was closed since the loop last looked (takeClosed).
    closed: bool = false,

    /// In place: `path` points into the struct's own buffer.
    pub fn init(h: *Health, cfg: Config, bundle: []const u8) error{NAMETOOLONG}!void {
        assert(cfg.enabled() and cfg.argv.len <= args_max);
        // Field by field: the log's 20 KiB stay untouched (and out of the RSS) until used.
        h.cfg = cfg;
        h.state.reset();
        h.init_pid = 0;
        h.started_at_ns = 0;
        h.due_ms = 0;
        h.runner = null;
        h.runner_pid = 0;
        h.runner_alive = false;
        h.result = null;
        h.received = 0;
        h.closed = false;
        h.path = std.fmt.bufPrintZ(&h.path_buf, "{s}/health.json", .{bundle}) catch return error.NAMETOOLONG;
    }

    /// The container runs: "starting", the first probe one interval later (Docker 20.10).
    pub fn begin(h: *Health, init_pid: linux.pid_t, started_at_ns: i64) sys.Error!void {
        h.init_pid = init_pid;
        h.started_at_ns = started_at_ns;
        h.state.reset();
        h.due_ms = sys.clockMonotonicMs() + intervalMs(h.cfg.interval_ns);
        try writeFile(h.path, &h.state);
    }

    /// How long the loop may sleep: until the next probe, or for ever while one runs (its
    /// result pipe wakes the loop).
    pub fn timeoutMs(h: *const Health) linksection(sys.loop_section) i32 {
        if (h.init_pid == 0 or h.runner != null) return -1;
        const left = h.due_ms - sys.clockMonotonicMs();
        return @intCast(std.math.clamp(left, 0, std.math.maxInt(i32)));
    }

    /// Called on every wake-up of the loop: starts a probe when one is due (true: it did, or
    /// recorded its failure to).
    pub fn onTimer(h: *Health) linksection(sys.loop_section) bool {
        if (h.init_pid == 0 or h.runner != null) return false;
        if (sys.clockMonotonicMs() < h.due_ms) return false;
        h.startProbe();
        return true;
    }

    noinline fn startProbe(h: *Health) void {
        h.spawn() catch |err| {
            // The probe could not even start: a failed result, as Docker records an exec error.
            const e = h.state.nextSlot();
            e.* = failure(sys.clockRealtimeNs(), "health check: {s}", .{@import("linux").errno.describe(err)});
            h.finish();
        };
    }

    fn spawn(h: *Health) !void {
        assert(h.runner == null and h.result == null);
        const p = try sys.pipe2(.{ .CLOEXEC = true });
        errdefer sys.close(p[0]);
        errdefer sys.close(p[1]);
        try sys.setNonblocking(p[0]);
        const parent = linux.getpid();
        const pid = try sys.fork();
        if (pid == 0) runner(h, p[1], parent);
        sys.close(p[1]);
        h.runner = pid;
        h.runner_pid = pid;
        h.runner_alive = true;
        h.result = p[0];
        h.received = 0;
    }

    /// The result pipe is readable: the Entry, then EOF.
    pub noinline fn onResult(h: *Health) void {
        const fd = h.result orelse return;
        const slot = std.mem.asBytes(h.state.nextSlot());
        var rounds: usize = 0;
        while (rounds < 64) : (rounds += 1) {
            const n = sys.read(fd, slot[h.received..]) catch |err| switch (err) {
                error.AGAIN => return,
                else => 0,
            };
            if (n == 0) break;
            h.received += n;
            if (h.received == slot.len) break;
        }
        if (rounds == 64) return;
        const e = h.state.nextSlot();
        const whole = h.received >= Entry.header and h.received == Entry.header + @as(usize, e.len) and e.len <= output_max;
        if (!whole) e.* = failure(sys.clockRealtimeNs(), "health check: the probe's runner ended without a result", .{});
        h.finish();
    }

    fn finish(h: *Health) void {
        h.closeResult();
        h.state.commit(&h.cfg, h.started_at_ns);
        h.due_ms = sys.clockMonotonicMs() + intervalMs(h.cfg.interval_ns);
        writeFile(h.path, &h.state) catch {};
    }

    fn closeResult(h: *Health) void {
        if (h.result) |fd| {
            sys.close(fd);
            h.closed = true;
        }
        h.result = null;
        // Reaped by the loop's SIGCHLD handler (waitpid -1), which tells us (reaped).
        h.runner = null;
    }

    /// The loop reaped `pid`: if it was the runner, its pid may be reused from now on.
    pub noinline fn reaped(h: *Health, pid: linux.pid_t) void {
        if (h.runner_pid == pid) h.runner_alive = false;
    }

    /// The container exited: no more probes; a running one dies with its runner (the
    /// container's pid namespace is gone with its init). health.json keeps the last state.
    pub noinline fn stop(h: *Health) void {
        if (h.runner_alive) {
            // Its reaper in the container dies with it (PR_SET_PDEATHSIG).
            sys.kill(h.runner_pid, linux.SIG.KILL) catch {};
            _ = sys.waitpid(h.runner_pid, 0) catch {};
            h.runner_alive = false;
        }
        h.closeResult();
        h.init_pid = 0;
    }

    pub fn resultFd(h: *const Health) linksection(sys.loop_section) ?sys.fd_t {
        return h.result;
    }

    pub fn takeClosed(h: *Health) linksection(sys.loop_section) bool {
        defer h.closed = false;
        return h.closed;
    }
};

/// At least 1 ms, at most about 35 years: a monotonic deadline never overflows.
fn intervalMs(ns: u64) i64 {
    return @intCast(std.math.clamp(ns / ns_per_ms, 1, std.math.maxInt(u40)));
}

fn failure(now_ns: i64, comptime fmt: []const u8, args: anytype) Entry {
    var e: Entry = .{ .start_ns = now_ns, .end_ns = now_ns, .exit_code = -1, .len = 0, .truncated = 0, .output = undefined };
    const text = std.fmt.bufPrint(&e.output, fmt, args) catch e.output[0..0];
    e.len = @intCast(text.len);
    return e;
}

// ---- the runner (a child of the monitor; never returns) ------------------------------------

fn runner(h: *const Health, result_w: sys.fd_t, parent: linux.pid_t) noreturn {
    _ = sys.prctl(.SET_PDEATHSIG, linux.SIG.KILL, 0, 0, 0) catch linux.exit_group(1);
    if (linux.getppid() != parent) linux.exit_group(1);
    // Only the result pipe (as fd 3) is kept: not the report pipe, the log, attach.sock.
    sys.dup3(result_w, 3, 0) catch linux.exit_group(1);
    sys.closeRange(4, std.math.maxInt(u32), 0) catch linux.exit_group(1);
    const e = &probe_entry;
    e.* = .{ .start_ns = sys.clockRealtimeNs(), .end_ns = 0, .exit_code = -1, .len = 0, .truncated = 0, .output = undefined };
    var d: Diag = .{};
    probe(h, e, &d) catch |err| {
        if (d.len == 0) d.set(diag.status_engine, "{s}", .{@errorName(err)});
        e.len = 0;
        e.truncated = 0;
        e.exit_code = -1;
        e.append(d.message());
    };
    e.end_ns = sys.clockRealtimeNs();
    sys.writeAll(3, std.mem.asBytes(e)[0 .. Entry.header + e.len]) catch linux.exit_group(1);
    linux.exit_group(0);
}

/// The runner's own copy (it is a forked process: the monitor's pages are not touched).
var probe_entry: Entry = undefined;

fn probe(h: *const Health, e: *Entry, d: *Diag) !void {
    const s = &config.the_spec;
    var ns_fds: [exec_mode.ns_order.len]?sys.fd_t = .{null} ** exec_mode.ns_order.len;
    try exec_mode.openNamespaces(h.init_pid, &ns_fds, d);
    try exec_mode.joinCgroups(s, d);
    for (exec_mode.ns_order, ns_fds) |ns, maybe| if (maybe) |f| {
        sys.setns(f, ns.flag) catch |err| return d.fail(err, "enter the container's {s} namespace", .{ns.name});
        sys.close(f);
    };
    const out = sys.pipe2(.{ .CLOEXEC = true }) catch |err| return d.fail(err, "pipe", .{});
    const status = sys.pipe2(.{ .CLOEXEC = true }) catch |err| return d.fail(err, "pipe", .{});
    const reaper_pid = sys.fork() catch |err| return d.fail(err, "fork into the container", .{});
    if (reaper_pid == 0) reaper(h, out[1], status[1]);
    sys.close(out[1]);
    sys.close(status[1]);
    sys.setNonblocking(out[0]) catch |err| return d.fail(err, "pipe", .{});
    const end = try collect(h, reaper_pid, out[0], status[0], e, d);
    _ = sys.waitpid(reaper_pid, 0) catch {};
    switch (end.kind) {
        .exited => e.exit_code = end.exit_code,
        .failed => e.exit_code = -1,
        .timed_out => timedOut(h, e),
    }
}

/// What the reaper tells the runner once the probe is over.
const End = extern struct {
    exit_code: i32,
    kind: enum(u8) { exited, failed, timed_out },
};

/// Reads the probe's output until the reaper reports the end (then what is already written);
/// the reaper enforces the timeout, this bound only guards against a reaper that hangs.
fn collect(h: *const Health, reaper_pid: linux.pid_t, out: sys.fd_t, status: sys.fd_t, e: *Entry, d: *Diag) !End {
    const deadline = sys.clockMonotonicMs() + intervalMs(h.cfg.timeout_ns) + reaper_grace_ms;
    var end: ?End = null;
    var open = true;
    var rounds: u64 = 0;
    while (end == null or open) : (rounds += 1) {
        assert(rounds < 100_000_000);
        const left = deadline - sys.clockMonotonicMs();
        if (end == null and left <= 0) {
            sys.kill(reaper_pid, linux.SIG.KILL) catch {};
            return .{ .exit_code = -1, .kind = .timed_out };
        }
        var fds = [2]linux.pollfd{
            .{ .fd = if (open) out else -1, .events = linux.POLL.IN, .revents = 0 },
            .{ .fd = if (end == null) status else -1, .events = linux.POLL.IN, .revents = 0 },
        };
        // Once the probe is over only what is already written is read (a background child of
        // it may hold the pipe for ever).
        const wait: i32 = if (end != null) 0 else @intCast(@min(left, std.math.maxInt(i32)));
        const n = sys.poll(&fds, wait) catch |err| return d.fail(err, "poll", .{});
        if (n == 0 and end != null) break;
        if (fds[1].revents != 0) {
            var got: End = .{ .exit_code = -1, .kind = .failed };
            const len = sys.read(status, std.mem.asBytes(&got)) catch 0;
            end = if (len == @sizeOf(End)) got else .{ .exit_code = -1, .kind = .failed };
        }
        if (open and fds[0].revents != 0) open = readSome(out, e);
    }
    return end.?;
}

/// How long past the timeout the runner waits for the reaper's word.
const reaper_grace_ms = 5000;
/// After the timeout's SIGKILL, how long the reaper waits for the killed to be reaped.
const reap_after_kill_ms = 2000;

/// In the container's pid namespace: a child subreaper (our code, never exec'd) that forks
/// the probe in a process group of its own, kills that group at the timeout, and reaps the
/// probe and every orphan of it that comes to it, so no zombie is left under an init that
/// does not reap. Background children still running when the probe exits are not waited for.
fn reaper(h: *const Health, out: sys.fd_t, status: sys.fd_t) noreturn {
    _ = sys.prctl(.SET_PDEATHSIG, linux.SIG.KILL, 0, 0, 0) catch linux.exit_group(1);
    _ = sys.prctl(.SET_CHILD_SUBREAPER, 1, 0, 0, 0) catch linux.exit_group(1);
    sys.close(3); // The runner's result pipe: only the runner writes it.
    var set = linux.sigemptyset();
    linux.sigaddset(&set, linux.SIG.CHLD);
    // SIGCHLD is blocked (inherited from the monitor): read from a signalfd of our own.
    const signals = sys.signalfd(&set) catch linux.exit_group(1);
    const fail = sys.pipe2(.{ .CLOEXEC = true }) catch linux.exit_group(1);
    const child = sys.fork() catch linux.exit_group(1);
    if (child == 0) becomeProbe(h, out, fail[1]);
    sys.close(fail[1]);
    var d: Diag = .{};
    const end: End = if (childFailed(fail[0], &d)) blk: {
        sys.writeAll(out, d.message()) catch {};
        _ = sys.waitpid(child, 0) catch {};
        break :blk .{ .exit_code = -1, .kind = .failed };
    } else awaitProbe(h, child, signals);
    sys.close(out);
    sys.writeAll(status, std.mem.asBytes(&end)) catch {};
    linux.exit_group(0);
}

fn awaitProbe(h: *const Health, child: linux.pid_t, signals: sys.fd_t) End {
    const deadline = sys.clockMonotonicMs() + intervalMs(h.cfg.timeout_ns);
    var rounds: u64 = 0;
    while (rounds < 100_000_000) : (rounds += 1) {
        if (reapAll(child)) |st| {
            _ = reapFor(signals, 0);
            return .{ .exit_code = exitCode(st), .kind = .exited };
        }
        const left = deadline - sys.clockMonotonicMs();
        if (left <= 0) break;
        waitSignal(signals, @intCast(@min(left, std.math.maxInt(i32))));
    }
    // The whole group: a shell's children too. Their orphans come to us and are reaped.
    sys.kill(-child, linux.SIG.KILL) catch {};
    sys.kill(child, linux.SIG.KILL) catch {};
    _ = reapFor(signals, reap_after_kill_ms);
    return .{ .exit_code = -1, .kind = .timed_out };
}

/// Reaps every child that has exited; the probe's wait status once it is among them.
fn reapAll(probe_pid: linux.pid_t) ?u32 {
    var found: ?u32 = null;
    for (0..1024) |_| {
        const w = sys.waitpid(-1, linux.W.NOHANG) catch return found;
        if (w.pid == 0) return found;
        if (w.pid == probe_pid) found = w.status;
    }
    return found;
}

/// Reaps until no child is left or `ms` have passed.
fn reapFor(signals: sys.fd_t, ms: i64) bool {
    const deadline = sys.clockMonotonicMs() + ms;
    for (0..100_000) |_| {
        for (0..1024) |_| {
            const w = sys.waitpid(-1, linux.W.NOHANG) catch return true; // ECHILD: none left
            if (w.pid == 0) break;
        }
        const left = deadline - sys.clockMonotonicMs();
        if (left <= 0) return false;
        waitSignal(signals, @intCast(@min(left, std.math.maxInt(i32))));
    }
    return false;
}

fn waitSignal(signals: sys.fd_t, ms: i32) void {
    var fds = [1]linux.pollfd{.{ .fd = signals, .events = linux.POLL.IN, .revents = 0 }};
    const n = sys.poll(&fds, ms) catch return;
    if (n == 0) return;
    var info: linux.signalfd_siginfo = undefined;
    _ = sys.read(signals, std.mem.asBytes(&info)) catch {};
}

/// The probe: the container's process with the probe's argv.
fn becomeProbe(h: *const Health, out: sys.fd_t, fail: sys.fd_t) noreturn {
    // Its own group: a timeout kills what it started too.
    _ = linux.setpgid(0, 0);
    var d: Diag = .{};
    becomeInner(h, out, &d) catch |err| if (d.len == 0) d.set(diag.status_engine, "exec: {s}", .{@errorName(err)});
    var buf: [diag.message_max + 8]u8 = undefined;
    sys.writeAll(fail, std.fmt.bufPrint(&buf, "{d} {s}", .{ d.status, d.message() }) catch buf[0..]) catch {};
    linux.exit_group(d.status);
}

var probe_argv: [args_max + 1]spec.Pool.Ptr = undefined;

fn becomeInner(h: *const Health, out: sys.fd_t, d: *Diag) !void {
    try exec_mode.takeStdio(.{ -1, out, out }, d);
    const s = &config.the_spec;
    const n = h.cfg.argv.len;
    assert(n > 0 and n <= args_max);
    for (h.cfg.argv, 0..) |a, i| probe_argv[i] = a;
    probe_argv[n] = null;
    s.process.argv = probe_argv[0 .. n + 1];
    s.process.argc = n;
    s.process.terminal = false;
    return runtime.become.become(s, runtime.caps.lastCap(), null, d);
}

/// EOF on the CLOEXEC pipe: the probe exec'd. Otherwise "<status> <message>" (exec.zig's way),
/// the message left in `d`.
fn childFailed(fd: sys.fd_t, d: *Diag) bool {
    var buf: [diag.message_max + 8]u8 = undefined;
    var len: usize = 0;
    while (len < buf.len) {
        const n = sys.read(fd, buf[len..]) catch break;
        if (n == 0) break;
        len += n;
    }
    sys.close(fd);
    if (len == 0) return false;
    const text = buf[0..len];
    const sp = std.mem.indexOfScalar(u8, text, ' ') orelse text.len;
    d.set(diag.status_engine, "{s}", .{if (sp < text.len) text[sp + 1 ..] else "exec failed"});
    return true;
}

/// False at EOF (or an error, which ends the output the same way).
fn readSome(fd: sys.fd_t, e: *Entry) bool {
    var buf: [4096]u8 = undefined;
    const n = sys.read(fd, &buf) catch |err| return err == error.AGAIN;
    if (n == 0) return false;
    e.append(buf[0..n]);
    return true;
}

/// Docker's record of a probe killed at its timeout.
fn timedOut(h: *const Health, e: *Entry) void {
    var dur: [32]u8 = undefined;
    var buf: [64]u8 = undefined;
    e.len = 0;
    e.truncated = 0;
    e.exit_code = -1;
    e.append(std.fmt.bufPrint(&buf, "Health check exceeded timeout ({s})", .{goDuration(h.cfg.timeout_ns, &dur)}) catch unreachable);
}

/// The probe's exit code as Docker records it: the code, or 128+N for signal N.
fn exitCode(status: u32) i32 {
    if (linux.W.IFEXITED(status)) return linux.W.EXITSTATUS(status);
    if (linux.W.IFSIGNALED(status)) return 128 + @as(i32, @intCast(linux.W.TERMSIG(status) & 0x7f));
    return -1;
}

// ---- health.json ---------------------------------------------------------------------------

/// `{"Status":…,"FailingStreak":N,"Log":[{"Start":…,"End":…,"ExitCode":N,"Output":…}]}`, times
/// in RFC 3339 with nanoseconds; written to `<path>.tmp` and renamed over `path`.
pub fn writeFile(path: [:0]const u8, s: *const State) sys.Error!void {
    var tmp_buf: [spec.limits.path + 8]u8 = undefined;
    const tmp = std.fmt.bufPrintZ(&tmp_buf, "{s}.tmp", .{path}) catch return error.NAMETOOLONG;
    const f = try sys.open(tmp, .{ .ACCMODE = .WRONLY, .CREAT = true, .TRUNC = true, .CLOEXEC = true, .NOFOLLOW = true }, 0o644);
    {
        defer sys.close(f);
        var o: Out = .{ .fd = f };
        try format(&o, s);
        try o.flush();
    }
    try sys.renameat(linux.AT.FDCWD, tmp, linux.AT.FDCWD, path);
}

pub fn format(o: *Out, s: *const State) sys.Error!void {
    var buf: [96]u8 = undefined;
    try o.put(std.fmt.bufPrint(&buf, "{{\"Status\":\"{s}\",\"FailingStreak\":{d},\"Log\":[", .{ @tagName(s.status), s.failing_streak }) catch unreachable);
    for (0..s.log_len) |i| {
        const e = s.entry(i);
        if (i > 0) try o.put(",");
        try o.put("{\"Start\":\"");
        try o.put(timeText(e.start_ns, &buf));
        try o.put("\",\"End\":\"");
        try o.put(timeText(e.end_ns, &buf));
        try o.put(std.fmt.bufPrint(&buf, "\",\"ExitCode\":{d},\"Output\":\"", .{e.exit_code}) catch unreachable);
        try o.escaped(e.text());
        if (e.truncated != 0) try o.put("...");
        try o.put("\"}");
    }
    try o.put("]}\n");
}

fn timeText(ns: i64, buf: *[96]u8) []const u8 {
    var w: std.Io.Writer = .fixed(buf);
    log_mod.writeTime(&w, @max(ns, 0));
    return w.buffered();
}

/// A small buffered writer to a file (or, with fd -1, to memory for the tests).
pub const Out = struct {
    fd: sys.fd_t,
    buf: [4096]u8 = undefined,
    len: usize = 0,

    pub fn put(o: *Out, bytes: []const u8) sys.Error!void {
        assert(bytes.len <= o.buf.len);
        if (o.len + bytes.len > o.buf.len) {
            if (o.fd < 0) return error.NOSPC; // Memory only: it must fit.
            try o.flush();
        }
        @memcpy(o.buf[o.len..][0..bytes.len], bytes);
        o.len += bytes.len;
    }

    pub fn flush(o: *Out) sys.Error!void {
        if (o.fd < 0) return;
        try sys.writeAll(o.fd, o.buf[0..o.len]);
        o.len = 0;
    }

    /// A JSON string's contents; invalid UTF-8 becomes U+FFFD (as Go's encoder does).
    pub fn escaped(o: *Out, text: []const u8) sys.Error!void {
        var i: usize = 0;
        while (i < text.len) {
            const c = text[i];
            if (c < 0x80) {
                i += 1;
                try o.put(switch (c) {
                    '"' => "\\\"",
                    '\\' => "\\\\",
                    '\n' => "\\n",
                    '\r' => "\\r",
                    '\t' => "\\t",
                    0...8, 11, 12, 14...0x1f, 0x7f => blk: {
                        var b: [6]u8 = undefined;
                        break :blk std.fmt.bufPrint(&b, "\\u{x:0>4}", .{c}) catch unreachable;
                    },
                    else => text[i - 1 .. i],
                });
                continue;
            }
            const n = std.unicode.utf8ByteSequenceLength(c) catch 0;
            const ok = n > 0 and i + n <= text.len and std.unicode.utf8ValidateSlice(text[i .. i + n]);
            try o.put(if (ok) text[i .. i + n] else "\\ufffd");
            i += if (ok) n else 1;
        }
    }
};

/// Go's time.Duration.String() ("200ms", "1.5s", "1m30s"), for Docker's timeout message.
pub fn goDuration(ns: u64, buf: *[32]u8) []const u8 {
    var w: usize = buf.len;
    if (ns == 0) return "0s";
    var u = ns;
    if (u < std.time.ns_per_s) {
        w -= 1;
        buf[w] = 's';
        if (u < std.time.ns_per_us) {
            w -= 1;
            buf[w] = 'n';
        } else if (u < std.time.ns_per_ms) {
            w -= "µ".len;
            @memcpy(buf[w..][0.."µ".len], "µ");
            u = frac(buf, &w, u, 3);
        } else {
            w -= 1;
            buf[w] = 'm';
            u = frac(buf, &w, u, 6);
        }
        return int(buf, w, u);
    }
    w -= 1;
    buf[w] = 's';
    u = frac(buf, &w, u, 9);
    w = intAt(buf, w, u % 60);
    u /= 60;
    if (u > 0) {
        w -= 1;
        buf[w] = 'm';
        w = intAt(buf, w, u % 60);
        u /= 60;
        if (u > 0) {
            w -= 1;
            buf[w] = 'h';
            w = intAt(buf, w, u);
        }
    }
    return buf[w..];
}

fn frac(buf: *[32]u8, w: *usize, v: u64, prec: usize) u64 {
    var u = v;
    var print = false;
    for (0..prec) |_| {
        const digit: u8 = @intCast(u % 10);
        print = print or digit != 0;
        if (print) {
            w.* -= 1;
            buf[w.*] = digit + '0';
        }
        u /= 10;
    }
    if (print) {
        w.* -= 1;
        buf[w.*] = '.';
    }
    return u;
}

fn int(buf: *[32]u8, w: usize, v: u64) []const u8 {
    return buf[intAt(buf, w, v)..];
}

fn intAt(buf: *[32]u8, w0: usize, v: u64) usize {
    var w = w0;
    var u = v;
    if (u == 0) {
        w -= 1;
        buf[w] = '0';
        return w;
    }
    while (u > 0) : (u /= 10) {
        w -= 1;
        buf[w] = @intCast(u % 10 + '0');
    }
    return w;
}

// ---- tests ---------------------------------------------------------------------------------

const testing = std.testing;
const argv_true = [_][*:0]const u8{"true"};

fn testEntry(s: *State, code: i32, start_ns: i64, out: []const u8) void {
    const e = s.nextSlot();
    e.* = .{ .start_ns = start_ns, .end_ns = start_ns + 1, .exit_code = code, .len = 0, .truncated = 0, .output = undefined };
    e.append(out);
}

test "status: starting, healthy on a pass, unhealthy after retries failures" {
    const cfg: Config = .{ .argv = &argv_true, .retries = 2 };
    var s: State = .{};
    testEntry(&s, 1, 10, "no");
    s.commit(&cfg, 0);
    try testing.expectEqual(Status.starting, s.status);
    try testing.expectEqual(@as(u32, 1), s.failing_streak);
    testEntry(&s, 1, 20, "no");
    s.commit(&cfg, 0);
    try testing.expectEqual(Status.unhealthy, s.status);
    testEntry(&s, 0, 30, "ok");
    s.commit(&cfg, 0);
    try testing.expectEqual(Status.healthy, s.status);
    try testing.expectEqual(@as(u32, 0), s.failing_streak);
    // A healthy container needs `retries` failures in a row again.
    testEntry(&s, -1, 40, "");
    s.commit(&cfg, 0);
    try testing.expectEqual(Status.healthy, s.status);
}

test "start period: failures while starting within it do not count, later ones do" {
    const cfg: Config = .{ .argv = &argv_true, .retries = 1, .start_period_ns = 100 };
    var s: State = .{};
    testEntry(&s, 1, 1050, "early");
    s.commit(&cfg, 1000);
    try testing.expectEqual(Status.starting, s.status);
    try testing.expectEqual(@as(u32, 0), s.failing_streak);
    try testing.expectEqual(@as(usize, 1), s.log_len);
    testEntry(&s, 1, 1100, "late");
    s.commit(&cfg, 1000);
    try testing.expectEqual(Status.unhealthy, s.status);
}

test "the log keeps the last five results, oldest first" {
    const cfg: Config = .{ .argv = &argv_true };
    var s: State = .{};
    for (0..7) |i| {
        testEntry(&s, @intCast(i), @intCast(i), "x");
        s.commit(&cfg, 0);
    }
    try testing.expectEqual(@as(usize, log_max), s.log_len);
    for (0..log_max) |i| try testing.expectEqual(@as(i32, @intCast(i + 2)), s.entry(i).exit_code);
}

test "output: cut at 4096 bytes, shown with ..." {
    var s: State = .{};
    const big = [_]u8{'a'} ** 5000;
    testEntry(&s, 0, 0, big[0..3000]);
    s.nextSlot().append(big[0..3000]);
    try testing.expectEqual(@as(u16, output_max), s.nextSlot().len);
    try testing.expectEqual(@as(u8, 1), s.nextSlot().truncated);
    s.commit(&.{ .argv = &argv_true }, 0);
    try testing.expectEqual(@as(usize, output_max), s.entry(0).text().len);
    // The escaping of a short entry (a long one is written through the 4 KiB buffer: e2e).
    var o: Out = .{ .fd = -1 };
    var t: State = .{};
    testEntry(&t, 1, 1_700_000_000_123_456_789, "a\"b\n\x01\xff\xc3\xa9");
    t.commit(&.{ .argv = &argv_true }, 1_700_000_000_000_000_000);
    try format(&o, &t);
    try testing.expectEqualStrings(
        "{\"Status\":\"starting\",\"FailingStreak\":1,\"Log\":[{\"Start\":\"2023-11-14T22:13:20.123456789Z\",\"End\":\"2023-11-14T22:13:20.123456790Z\",\"ExitCode\":1,\"Output\":\"a\\\"b\\n\\u0001\\ufffdé\"}]}\n",
        o.buf[0..o.len],
    );
}

test "Go durations" {
    var buf: [32]u8 = undefined;
    try testing.expectEqualStrings("200ms", goDuration(200 * ns_per_ms, &buf));
    try testing.expectEqualStrings("30s", goDuration(30 * std.time.ns_per_s, &buf));
    try testing.expectEqualStrings("1.5s", goDuration(1500 * ns_per_ms, &buf));
    try testing.expectEqualStrings("1m30s", goDuration(90 * std.time.ns_per_s, &buf));
    try testing.expectEqualStrings("1h0m0s", goDuration(3600 * std.time.ns_per_s, &buf));
    try testing.expectEqualStrings("1.5ms", goDuration(1_500_000, &buf));
    try testing.expectEqualStrings("0s", goDuration(0, &buf));
}
