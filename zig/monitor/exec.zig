//! `tsd-monitor --exec`: a process in a running container (`tsd exec`). Bun is multithreaded
//! and setns into a mount namespace needs a single-threaded caller, so the CLI execs this
//! instead. It checks that the pid is still the container's init (its start time), joins the
//! init's cgroups, enters every namespace of it (mount last), forks (a pid namespace applies
//! to children only) and the child becomes the process of the given config.json: user,
//! capabilities, no_new_privs, rlimits, cwd, PATH lookup, execve. The child never gets one of
//! the CLI's fds (a process in the container could keep them after the exec: read what the user
//! types, write to the user's terminal): its stdout and stderr are pipes the helper relays byte
//! for byte to its own fds 1 and 2, its stdin a pipe fed from fd 0 with --stdin, else the
//! container's /dev/null; with a terminal, a pty from the container's devpts is relayed like the
//! monitor relays a container's. The helper is not dumpable from its first step on (runc's
//! CVE-2019-5736 measure): nothing in the container can ptrace it or open its /proc/PID/exe.
//!
//!   tsd-monitor --exec --pid PID --pid-start TICKS --config FILE [--stdin] [--detach]
//!               [--inherit-stdio] [--console-socket PATH] [--preserve-fds N] [--userns PATH]
//!
//! `--userns PATH` (rootless tsd's fast path, userns.zig): the pause process's user namespace,
//! joined before the container's namespaces are opened (the CLI runs on the host as the user).
//!
//! The OCI-runtime mode (`tsd-runc exec`, src/runtime/exec.ts) is called by a supervisor
//! (containerd's shim, conmon, CRI-O) that owns the process's stdio: `--inherit-stdio` gives the
//! process the helper's fds 0-2 themselves, nothing relayed; `--console-socket PATH` (with
//! process.terminal) sends the pty master to the caller's socket (runc's way, connected before
//! the namespaces are entered) instead of relaying it. In that mode `--detach` exits right after
//! the report: the process is reparented to the caller's subreaper, which reaps it.
//! `--preserve-fds N`: the caller's fds 3..3+N-1 reach the helper at 4..4+N-1 (3 is the
//! report pipe) and the process at 3..3+N-1, open across its execve (runc's flag).
//!
//! fd 3 is the report pipe, one line as the monitor's: `started <pid>` or `error <status> <msg>`.
//! FILE (an OCI config.json whose `process` is the exec'd one) is unlinked once read. The exit
//! status is the process's (128+N for a signal).
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;
const runtime = @import("runtime");
const spec = runtime.spec;
const diag = runtime.diag;
const Diag = diag.Diag;
const relay = @import("relay.zig");
const report_mod = @import("report.zig");
const proc = @import("proc.zig");
const cgroups = @import("cgroups.zig");
const finish = @import("finish.zig");
const config = @import("config.zig");
const userns = @import("userns.zig");

const report_fd = report_mod.report_fd;
/// As tsd-monitor --create's bound.
const max_preserve_fds = 1024;

var the_relay: relay.Relay = undefined;

const Args = struct {
    pid: linux.pid_t = 0,
    pid_start: []const u8 = "",
    config: [:0]const u8 = "",
    stdin: bool = false,
    /// `exec -d`: the process's stdio is the container's /dev/null, nothing is relayed.
    detach: bool = false,
    /// The runtime mode: the process gets the helper's own fds 0-2 (no terminal).
    inherit_stdio: bool = false,
    /// The runtime mode with a terminal: where the pty master goes.
    console_socket: ?[:0]const u8 = null,
    /// The runtime mode: fds the process keeps (at 4.. in the helper, 3.. in the process).
    preserve_fds: u32 = 0,
    /// Rootless fast path: the pause process's user namespace (userns.zig).
    namespaces: userns.Paths = .{},

    /// Whether the caller supervises the process (the runtime mode): then --detach hands it
    /// over at once instead of waiting for it.
    fn handsOver(a: Args) bool {
        return a.inherit_stdio or a.console_socket != null;
    }
};

/// The namespaces in the order they are joined (all opened first): as the host's root every
/// one but the mount namespace, the user namespace last of those (a container's network
/// namespace may be the host user namespace's, which a process inside the container's user
/// namespace could not join), then mount (it needs the rights the user namespace grants).
pub const ns_order = [_]struct { name: []const u8, flag: u32 }{
    .{ .name = "ipc", .flag = linux.CLONE.NEWIPC },
    .{ .name = "uts", .flag = linux.CLONE.NEWUTS },
    .{ .name = "net", .flag = linux.CLONE.NEWNET },
    .{ .name = "pid", .flag = linux.CLONE.NEWPID },
    .{ .name = "cgroup", .flag = linux.CLONE.NEWCGROUP },
    .{ .name = "user", .flag = linux.CLONE.NEWUSER },
    .{ .name = "mnt", .flag = linux.CLONE.NEWNS },
};

pub fn main(argv: []const [*:0]const u8) u8 {
    var d: Diag = .{};
    var reported = false;
    const status = run(argv, &d, &reported) catch |err| {
        if (d.len == 0) d.set(diag.status_engine, "tsd-monitor --exec: {s}", .{@errorName(err)});
        if (!reported) oneLine(.{ .failed = .{ .status = d.status, .message = d.message() } });
        return d.status;
    };
    return status;
}

/// The one report line of an exec (report.zig), then the pipe is closed.
fn oneLine(line: report_mod.Line) void {
    var r = report_mod.Report.init(false);
    switch (line) {
        .started => |pid| r.started(pid),
        .failed => |f| {
            var d: Diag = .{};
            d.set(f.status, "{s}", .{f.message});
            r.failed(&d);
        },
        .exited, .detached, .output_closed => unreachable,
    }
}

fn parseArgs(argv: []const [*:0]const u8, d: *Diag) !Args {
    var a: Args = .{};
    var i: usize = 2;
    while (i < argv.len) : (i += 1) {
        const k = std.mem.span(argv[i]);
        if (std.mem.eql(u8, k, "--stdin")) {
            a.stdin = true;
            continue;
        }
        if (std.mem.eql(u8, k, "--detach")) {
            a.detach = true;
            continue;
        }
        if (std.mem.eql(u8, k, "--inherit-stdio")) {
            a.inherit_stdio = true;
            continue;
        }
        if (i + 1 == argv.len) return usage(d, "missing value for", k);
        i += 1;
        const v = std.mem.span(argv[i]);
        if (std.mem.eql(u8, k, "--pid")) {
            a.pid = std.fmt.parseInt(linux.pid_t, v, 10) catch return usage(d, "--pid needs a number, not", v);
        } else if (std.mem.eql(u8, k, "--pid-start")) {
            a.pid_start = v;
        } else if (std.mem.eql(u8, k, "--config")) {
            a.config = v;
        } else if (std.mem.eql(u8, k, "--userns")) {
            if (v.len == 0 or v[0] != '/') return usage(d, "--userns needs an absolute path, not", v);
            _ = userns.parseFlag(k, v, i - 1, &a.namespaces);
        } else if (std.mem.eql(u8, k, "--console-socket")) {
            if (v.len == 0 or v.len > runtime.console_socket.path_max) return usage(d, "--console-socket needs a path of at most 107 bytes, not", v);
            a.console_socket = v;
        } else if (std.mem.eql(u8, k, "--preserve-fds")) {
            a.preserve_fds = std.fmt.parseInt(u32, v, 10) catch return usage(d, "--preserve-fds needs a count, not", v);
            if (a.preserve_fds > max_preserve_fds) return usage(d, "--preserve-fds is too large:", v);
        } else return usage(d, "unknown argument", k);
    }
    if (a.pid <= 0 or a.pid_start.len == 0 or a.config.len == 0) return usage(d, "needs", "--pid, --pid-start and --config");
    if (a.inherit_stdio and a.stdin) return usage(d, "--inherit-stdio gives the process fd 0 itself:", "drop --stdin");
    return a;
}

fn usage(d: *Diag, text: []const u8, arg: []const u8) error{Usage} {
    d.set(diag.status_engine, "tsd-monitor --exec: {s} {s}", .{ text, arg });
    return error.Usage;
}

fn run(argv: []const [*:0]const u8, d: *Diag, reported: *bool) !u8 {
    const a = try parseArgs(argv, d);
    const s = try setUp(a, d);
    const signal_set = relay.signalSet();
    sys.sigprocmask(linux.SIG.BLOCK, &signal_set, null) catch |err| return d.fail(err, "block signals", .{});
    const signals = sys.signalfd(&signal_set) catch |err| return d.fail(err, "signalfd", .{});
    defer sys.close(signals);
    const epoll = sys.epollCreate() catch |err| return d.fail(err, "epoll_create", .{});
    defer sys.close(epoll);
    // A host path: connected before the mount namespace changes.
    const sock: ?sys.fd_t = if (a.console_socket) |p| runtime.console_socket.connect(p) catch |err| {
        return d.fail(err, "connect to the console socket {s}", .{p});
    } else null;
    defer if (sock) |x| sys.close(x);
    // Before the namespaces: a pump for a stdin epoll refuses stays a host process.
    var io = try Stdio.open(a, s.process.terminal, epoll, d);
    // The helper's ends are the relay's to close once supervise has them.
    var io_owned = true;
    errdefer if (io_owned) io.closeAll();
    try enterContainer(a, s, d);

    const pty: ?runtime.console.Pty = if (s.process.terminal) try runtime.console.openPair(d) else null;
    // process.consoleSize before the process runs (runc's first size of a console socket's pty).
    if (pty) |p| runtime.console.setWindowSize(p.master, s.process.console_rows, s.process.console_cols);
    var pty_owned = pty != null;
    errdefer if (pty_owned) runtime.console.closePair(pty.?);
    const pipe = sys.pipe2(.{ .CLOEXEC = true }) catch |err| return d.fail(err, "pipe", .{});
    const child = sys.fork() catch |err| {
        sys.close(pipe[0]);
        sys.close(pipe[1]);
        return d.fail(err, "fork into the container", .{});
    };
    if (child == 0) {
        sys.close(pipe[0]);
        var cd: Diag = .{};
        becomeProcess(pty, io.child, a.inherit_stdio, &cd) catch |err| if (cd.len == 0) cd.set(diag.status_engine, "exec: {s}", .{@errorName(err)});
        var buf: [diag.message_max + 8]u8 = undefined;
        sys.writeAll(pipe[1], std.fmt.bufPrint(&buf, "{d} {s}", .{ cd.status, cd.message() }) catch buf[0..]) catch {};
        linux.exit_group(cd.status);
    }
    sys.close(pipe[1]);
    io.closeChildEnds();
    if (pty) |p| sys.close(p.slave);
    pty_owned = false;
    const failed = childFailed(pipe[0], d);
    sys.close(pipe[0]);
    if (failed catch true) {
        if (pty) |p| sys.close(p.master);
        _ = sys.waitpid(child, 0) catch {};
        return if (failed) |_| error.ExecFailed else |err| err;
    }
    // As runc: the master goes to the caller before the report.
    const relayed = try handOverPty(sock, pty, child, d);
    oneLine(.{ .started = child });
    reported.* = true;
    io_owned = false;
    // The caller's subreaper takes the process once we are gone.
    if (a.detach and a.handsOver()) return 0;
    return supervise(a, child, relayed, &io, epoll, signals, d);
}

/// The helper's first steps, before anything of the container is opened: not dumpable (inherited
/// by every child up to its execve, which makes the exec'd program dumpable again as usual), no
/// fd but 0-3 and the preserved ones, its own session (the terminal's ^C reaches the CLI, which forwards it once
/// through us), the config read.
fn setUp(a: Args, d: *Diag) !*const spec.Spec {
    _ = sys.prctl(.SET_DUMPABLE, 0, 0, 0, 0) catch |err| return d.fail(err, "prctl(PR_SET_DUMPABLE)", .{});
    sys.closeRange(4 + a.preserve_fds, std.math.maxInt(u32), 0) catch |err| return d.fail(err, "close_range", .{});
    _ = sys.fstat(report_fd) catch {};
    sys.setCloexec(report_fd) catch {};
    sys.setsid() catch {};
    const s = try loadConfig(a.config, d);
    // Not config.json's: become leaves 3..3+N-1 open across execve.
    config.the_spec.preserve_fds = a.preserve_fds;
    if (a.console_socket != null and !s.process.terminal) return usage(d, "--console-socket needs process.terminal:", "set it, or drop --console-socket");
    if (a.inherit_stdio and s.process.terminal) return usage(d, "--inherit-stdio is for a process without a terminal:", "use --console-socket");
    return s;
}

/// With a console socket, the master goes to the caller and the helper keeps no copy (nothing
/// to relay: null); else the pty is the relay's. A failed send kills the process.
fn handOverPty(sock: ?sys.fd_t, pty: ?runtime.console.Pty, child: linux.pid_t, d: *Diag) !?runtime.console.Pty {
    const s = sock orelse return pty;
    const p = pty orelse return null;
    defer sys.close(p.master);
    runtime.console_socket.sendFd(s, p.master) catch |err| {
        sys.kill(child, linux.SIG.KILL) catch {};
        _ = sys.waitpid(child, 0) catch {};
        return d.fail(err, "send the terminal to the console socket", .{});
    };
    return null;
}

/// The container's namespaces (opened, then checked to be its init's, then joined) and its
/// cgroups: from here on the helper is inside.
fn enterContainer(a: Args, s: *const spec.Spec, d: *Diag) !void {
    // Rootless fast path: root in the pause's user namespace first, which owns the container's
    // namespaces and grants the right to open the init's (it may run as a subordinate id).
    try userns.enter(a.namespaces, d);
    var ns_fds: [ns_order.len]?sys.fd_t = .{null} ** ns_order.len;
    defer for (ns_fds) |maybe| if (maybe) |f| sys.close(f);
    try openNamespaces(a.pid, &ns_fds, d);
    // After the namespaces are open: if the pid still has its start time, they are its.
    try checkStartTime(a.pid, a.pid_start, d);
    try joinCgroups(s, d);
    for (ns_order, ns_fds) |ns, maybe| if (maybe) |f| {
        sys.setns(f, ns.flag) catch |err| return d.fail(err, "enter the container's {s} namespace", .{ns.name});
    };
}

/// The exec'd process's stdio without a terminal, made before the helper enters the container.
const Stdio = struct {
    /// Dup'd onto the child's 0, 1, 2; -1: the container's /dev/null, opened by the child.
    child: [3]sys.fd_t = .{ -1, -1, -1 },
    /// The helper's ends: output read from the process, input written to it.
    stdout: ?sys.fd_t = null,
    stderr: ?sys.fd_t = null,
    sink: ?sys.fd_t = null,
    /// fd 0 goes through the relay (it can be polled).
    relay_stdin: bool = false,

    fn open(a: Args, terminal: bool, epoll: sys.fd_t, d: *Diag) !Stdio {
        var io: Stdio = .{};
        // --inherit-stdio: the process's 0-2 are the helper's, untouched (becomeProcess).
        if (terminal or a.detach or a.inherit_stdio) return io;
        errdefer io.closeAll();
        if (a.stdin) {
            const p = sys.pipe2(.{ .CLOEXEC = true }) catch |err| return d.fail(err, "pipe", .{});
            io.child[0] = p[0];
            if (relay.pollable(epoll, 0)) {
                io.sink = p[1];
                io.relay_stdin = true;
                sys.setNonblocking(p[1]) catch |err| return d.fail(err, "pipe", .{});
            } else {
                // A regular file or /dev/null: copied by a process of its own with blocking
                // reads; the container still gets a pipe, never the file itself.
                defer sys.close(p[1]); // The pump's copy stays open in the pump.
                try relay.startStdinPump(p[1], d);
            }
        }
        for ([_]usize{ 1, 2 }) |i| {
            const p = sys.pipe2(.{ .CLOEXEC = true }) catch |err| return d.fail(err, "pipe", .{});
            io.child[i] = p[1];
            if (i == 1) io.stdout = p[0] else io.stderr = p[0];
            sys.setNonblocking(p[0]) catch |err| return d.fail(err, "pipe", .{});
        }
        return io;
    }

    fn closeChildEnds(io: *Stdio) void {
        for (&io.child) |*fd| if (fd.* >= 0) {
            sys.close(fd.*);
            fd.* = -1;
        };
    }

    /// An exec that failed before the relay took the helper's ends: every pipe end goes.
    fn closeAll(io: *Stdio) void {
        io.closeChildEnds();
        for ([_]?sys.fd_t{ io.stdout, io.stderr, io.sink }) |end| if (end) |f| sys.close(f);
        io.stdout = null;
        io.stderr = null;
        io.sink = null;
    }
};

/// The exec's process spec, written by the CLI for this one exec: removed once read.
fn loadConfig(path: [:0]const u8, d: *Diag) !*const spec.Spec {
    const s = try config.load(path, std.fs.path.dirname(path) orelse "/", d);
    sys.unlinkat(linux.AT.FDCWD, path, 0) catch {};
    return s;
}

pub fn openNamespaces(pid: linux.pid_t, fds: *[ns_order.len]?sys.fd_t, d: *Diag) !void {
    for (ns_order, fds) |ns, *slot| {
        var buf: [64]u8 = undefined;
        const theirs = std.fmt.bufPrintZ(&buf, "/proc/{d}/ns/{s}", .{ pid, ns.name }) catch unreachable;
        const f = sys.open(theirs, .{ .CLOEXEC = true }, 0) catch |err| switch (err) {
            error.NOENT => if (std.mem.eql(u8, ns.name, "mnt")) {
                d.set(diag.status_engine, "the container is not running (its init, pid {d}, is gone)", .{pid});
                return error.NotRunning;
            } else continue, // A kernel without this namespace kind.
            else => return d.fail(err, "open {s}", .{theirs}),
        };
        slot.* = f; // The caller's to close, also when this fails below.
        var own_buf: [64]u8 = undefined;
        const own = std.fmt.bufPrintZ(&own_buf, "/proc/self/ns/{s}", .{ns.name}) catch unreachable;
        const a = sys.fstat(f) catch |err| return d.fail(err, "stat {s}", .{theirs});
        const b = sys.fstatat(linux.AT.FDCWD, own, 0) catch |err| return d.fail(err, "stat {s}", .{own});
        // Joining one's own user namespace is EINVAL; the others are no-ops worth skipping.
        if (a.ino == b.ino and a.dev == b.dev) {
            sys.close(f);
            slot.* = null;
        }
    }
}

/// The pid must still have the start time recorded at start: a recycled pid is refused.
fn checkStartTime(pid: linux.pid_t, want: []const u8, d: *Diag) !void {
    if (!proc.sameProcess(pid, want)) {
        d.set(diag.status_engine, "the container is not running (its init, pid {d}, is gone)", .{pid});
        return error.NotRunning;
    }
}

pub fn joinCgroups(s: *const spec.Spec, d: *Diag) !void {
    for (s.cgroup_procs[0..s.cgroup_procs_len]) |p| {
        cgroups.joinOne(linux.getpid(), p) catch |err| return d.fail(err, "join cgroup {s}", .{p});
    }
}

/// In the child, inside the pid namespace: the init's last steps for this process.
fn becomeProcess(pty: ?runtime.console.Pty, stdio: [3]sys.fd_t, inherit: bool, d: *Diag) !void {
    const s = &config.the_spec;
    if (pty) |t| {
        sys.close(t.master);
        try runtime.console.becomeStdio(t.slave, d);
    } else if (!inherit) try takeStdio(stdio, d);
    try movePreserved(s.preserve_fds, d);
    return runtime.become.become(s, runtime.caps.lastCap(), null, d);
}

/// --preserve-fds N: the helper's 4..4+N-1 move down to 3..3+N-1 (over the report pipe's
/// close-on-exec copy); the last source's duplicate goes.
fn movePreserved(n: u32, d: *Diag) !void {
    assert(n <= max_preserve_fds);
    if (n == 0) return;
    var i: u32 = 0;
    while (i < n) : (i += 1) {
        sys.dup3(@intCast(4 + i), @intCast(3 + i), 0) catch |err| return d.fail(err, "preserve fd {d}", .{3 + i});
    }
    sys.close(@intCast(3 + n));
}

/// The pipes onto 0, 1, 2 (the helper's own fds there are the CLI's: all replaced), and the
/// container's /dev/null where there is no pipe.
pub fn takeStdio(stdio: [3]sys.fd_t, d: *Diag) !void {
    for (stdio, 0..) |fd, i| {
        if (fd >= 0) {
            assert(fd > 2);
            sys.dup3(fd, @intCast(i), 0) catch |err| return d.fail(err, "set up fd {d}", .{i});
            continue;
        }
        const null_fd = sys.open("/dev/null", .{ .ACCMODE = .RDWR, .CLOEXEC = true }, 0) catch |err| return d.fail(err, "open the container's /dev/null", .{});
        assert(null_fd > 2);
        defer sys.close(null_fd);
        sys.dup3(null_fd, @intCast(i), 0) catch |err| return d.fail(err, "set up fd {d}", .{i});
    }
}

/// EOF on the CLOEXEC pipe: the exec happened. Otherwise "<status> <message>".
fn childFailed(fd: sys.fd_t, d: *Diag) !bool {
    var buf: [diag.message_max + 8]u8 = undefined;
    var len: usize = 0;
    while (len < buf.len) {
        const n = sys.read(fd, buf[len..]) catch |err| return d.fail(err, "read from the exec'd process", .{});
        if (n == 0) break;
        len += n;
    }
    if (len == 0) return false;
    const text = buf[0..len];
    const sp = std.mem.indexOfScalar(u8, text, ' ') orelse text.len;
    const status = std.fmt.parseInt(u8, text[0..sp], 10) catch diag.status_engine;
    d.set(std.math.clamp(status, diag.status_engine, diag.status_not_found), "{s}", .{if (sp < text.len) text[sp + 1 ..] else "exec failed"});
    return true;
}

fn supervise(a: Args, child: linux.pid_t, pty: ?runtime.console.Pty, io: *const Stdio, epoll: sys.fd_t, signals: sys.fd_t, d: *Diag) !u8 {
    // The process's children outlive it in the container: what they write within 2 s of its
    // exit is relayed, then the pipes are dropped (Docker's exec does the same).
    the_relay = .{ .epoll = epoll, .signals = signals, .init_pid = child, .forward = true, .drain_total_ms = relay.drain_idle_ms };
    const r = &the_relay;
    r.stdout = io.stdout;
    r.stderr = io.stderr;
    r.sink = io.sink;
    if (io.relay_stdin) r.stdin = 0;
    var saved: ?linux.termios = null;
    if (pty) |p| {
        sys.setNonblocking(p.master) catch |err| return d.fail(err, "set up the pty", .{});
        r.pty = p.master;
        runtime.console.copyWindowSize(&.{ 0, 1 }, p.master);
        if (runtime.console.isTerminal(0)) saved = runtime.console.makeRaw(0) catch null;
        if (a.stdin and relay.pollable(epoll, 0)) {
            r.stdin = 0;
            r.sink = p.master;
            r.sink_is_pty = true;
        }
    }
    defer if (saved) |*t| runtime.console.restore(0, t);
    return finish.dockerStatus(try r.watch(child, d, "the exec'd process")).code;
}

test "the runtime mode's flags: --inherit-stdio, --console-socket, --preserve-fds, --detach" {
    var d: Diag = .{};
    const argv = [_][*:0]const u8{ "tsd-monitor", "--exec", "--pid", "42", "--pid-start", "7", "--config", "/c.json", "--inherit-stdio", "--preserve-fds", "2", "--detach" };
    const a = try parseArgs(&argv, &d);
    try std.testing.expect(a.inherit_stdio and a.detach and a.handsOver());
    try std.testing.expectEqual(@as(u32, 2), a.preserve_fds);
    const tty = [_][*:0]const u8{ "tsd-monitor", "--exec", "--pid", "42", "--pid-start", "7", "--config", "/c.json", "--console-socket", "/run/s.sock" };
    const b = try parseArgs(&tty, &d);
    try std.testing.expectEqualStrings("/run/s.sock", b.console_socket.?);
    try std.testing.expect(b.handsOver() and !b.inherit_stdio);
    // tsd exec's own flags hand nothing over: its --detach still waits for the process.
    const own = [_][*:0]const u8{ "tsd-monitor", "--exec", "--pid", "42", "--pid-start", "7", "--config", "/c.json", "--detach" };
    try std.testing.expect(!(try parseArgs(&own, &d)).handsOver());
    const rootless = [_][*:0]const u8{ "tsd-monitor", "--exec", "--pid", "42", "--pid-start", "7", "--config", "/c.json", "--userns", "/proc/9/fd/5" };
    try std.testing.expectEqualStrings("/proc/9/fd/5", (try parseArgs(&rootless, &d)).namespaces.user.?);
}

test "refused: --inherit-stdio with --stdin, too many preserved fds, a socket path past sun_path" {
    var d: Diag = .{};
    const both = [_][*:0]const u8{ "tsd-monitor", "--exec", "--pid", "42", "--pid-start", "7", "--config", "/c.json", "--inherit-stdio", "--stdin" };
    try std.testing.expectError(error.Usage, parseArgs(&both, &d));
    const many = [_][*:0]const u8{ "tsd-monitor", "--exec", "--pid", "42", "--pid-start", "7", "--config", "/c.json", "--preserve-fds", "1025" };
    try std.testing.expectError(error.Usage, parseArgs(&many, &d));
    const long = [_][*:0]const u8{ "tsd-monitor", "--exec", "--pid", "42", "--pid-start", "7", "--config", "/c.json", "--console-socket", "/" ++ "s" ** 107 };
    try std.testing.expectError(error.Usage, parseArgs(&long, &d));
}
