//! tsd-monitor: one per container, the container's parent (DESIGN.md "Processes", CONTRACT.md
//! "tsd-monitor"). It parses the bundle, clones the init (zig/runtime/init.zig), tells the CLI
//! on fd 3 whether the init reached execve, relays stdio and signals while it runs, then
//! records the exit, runs the cleanup command and exits with the container's status.
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const build_options = @import("build_options");
const sys = @import("linux").sys;
const runtime = @import("runtime");
const spec = runtime.spec;
const diag = runtime.diag;
const Diag = diag.Diag;
const args_mod = @import("args.zig");
const relay = @import("relay.zig");
const finish = @import("finish.zig");
const launch = @import("launch.zig");
const Report = @import("report.zig").Report;
const config = @import("config.zig");
const log_mod = @import("log.zig");
const exec_mode = @import("exec.zig");
const copy_mode = @import("copy.zig");
const attach_mod = @import("attach.zig");
const dns_server = @import("dns_server.zig");
const health_mod = @import("health.zig");
const create_mode = @import("create.zig");
const userns = @import("userns.zig");

/// A safety panic prints one line and aborts. std's default handler dumps a stack trace, and
/// with it std.debug's ELF, DWARF and unwinding code was linked into the monitor (the binary is
/// stripped, so a trace showed only addresses): pages every running monitor mapped.
pub const panic = std.debug.FullPanic(panicLine);
/// The same for faults: no handler that would print a trace (the default action dumps core).
pub const std_options: std.Options = .{ .enable_segfault_handler = false };

fn panicLine(msg: []const u8, first_trace_addr: ?usize) noreturn {
    _ = first_trace_addr;
    finish.printStderr("tsd-monitor: panic: {s}\n", .{msg});
    std.posix.abort();
}

/// Too big for the stack and needed for the whole run: static (the spec: config.zig).
var the_relay: relay.Relay = undefined;
var the_log: log_mod.Log = undefined;
var the_attach: attach_mod.Server = undefined;
var the_health: health_mod.Health = undefined;
/// The hooks' state prefix when the bundle has hooks (tsd's own run: built from --id/--bundle).
var the_hook_state: runtime.hooks.State = .{};
/// Why the monitor could not enter the rootless namespaces (empty: it did, or was not asked to).
var namespace_failure: Diag = .{};

pub fn main() u8 {
    // Exec'd from a memfd (/proc/PID/fd/N), the kernel names the process "N": ps, pgrep and
    // /proc/PID/comm should say what it is.
    _ = sys.prctl(.SET_NAME, @intFromPtr("tsd-monitor"), 0, 0, 0) catch {};
    const argv: []const [*:0]const u8 = @ptrCast(std.os.argv);
    if (argv.len > 1 and std.mem.eql(u8, std.mem.span(argv[1]), "--exec")) return exec_mode.main(argv);
    if (argv.len > 1 and std.mem.eql(u8, std.mem.span(argv[1]), "--dns")) return dns_server.main(argv);
    if (argv.len > 1 and std.mem.eql(u8, std.mem.span(argv[1]), "--create")) return create_mode.main(argv);
    if (argv.len > 1 and (std.mem.eql(u8, std.mem.span(argv[1]), "--copy") or std.mem.eql(u8, std.mem.span(argv[1]), "--pack"))) return copy_mode.main(argv);
    var problem: args_mod.Problem = .{};
    const parsed = args_mod.parse(argv, &problem);
    // Rootless fast path: into the pause process's namespaces, then again as a process of them
    // (userns.zig), before anything is opened or fd 3 is made close-on-exec. A failure is the
    // start's error, reported as any other (supervise).
    if (parsed) |a| {
        if (a.namespaces.any()) {
            userns.enter(a.namespaces, &namespace_failure) catch {};
            if (namespace_failure.len == 0) userns.reexec(argv, a.namespaces, &namespace_failure);
        }
    } else |_| {}
    var report = Report.init(if (parsed) |a| a.exit_report else |_| false);
    const args = parsed catch {
        var d: Diag = .{};
        d.set(diag.status_engine, "tsd-monitor {s}: {s} {s}", .{ build_options.version, problem.text, problem.arg });
        finish.printStderr("{s}\n", .{d.message()});
        report.failed(&d);
        return diag.status_engine;
    };
    var m: Monitor = .{ .args = args, .report = report, .started_at = sys.clockRealtimeNs() };
    return m.run();
}

const Monitor = struct {
    args: args_mod.Args,
    report: Report,
    started_at: i64,
    d: Diag = .{},
    saved_termios: ?linux.termios = null,
    init_pid: linux.pid_t = 0,
    /// Set when the init failed before execve (or the monitor failed before/while starting it).
    failed: bool = false,
    attach_open: bool = false,

    fn run(m: *Monitor) u8 {
        const status = m.supervise() catch |err| blk: {
            // A monitor-side failure: before the report it is the container's start error.
            if (m.d.len == 0) m.d.set(diag.status_engine, "tsd-monitor: {s}", .{@errorName(err)});
            if (!m.failed) m.report.failed(&m.d);
            m.failed = true;
            break :blk @as(u32, 0);
        };
        if (m.saved_termios) |*t| runtime.console.restore(0, t);
        const result: finish.ExitStatus = if (m.failed) .{
            .pid = m.init_pid,
            .exit_code = m.d.status,
            .signal = 0,
            .started_at = m.started_at,
            .finished_at = sys.clockRealtimeNs(),
            .err = m.d.message(),
        } else blk: {
            const s = finish.dockerStatus(status);
            break :blk .{ .pid = m.init_pid, .exit_code = s.code, .signal = s.signal, .started_at = m.started_at, .finished_at = sys.clockRealtimeNs(), .err = null };
        };
        m.writeExit(result);
        // After exit.json: a client seeing its connection end can read the status at once.
        if (m.attach_open) the_attach.close(m.args.bundle);
        const reader_cleans = m.report.exited(result.exit_code) and m.cleanedUp();
        if (m.args.cleanup.len > 0 and !reader_cleans) {
            _ = finish.runCleanup(m.args.cleanup, @ptrCast(std.os.environ.ptr)) catch |err| {
                finish.printStderr("tsd-monitor: cleanup: {s}\n", .{@import("linux").errno.describe(err)});
            };
        }
        return result.exit_code;
    }

    /// The CLI that read `exited` ran the cleanup itself when the bundle is gone (--rm) or
    /// carries the `cleaned` marker; otherwise (it died first) the monitor runs it.
    fn cleanedUp(m: *Monitor) bool {
        var buf: [spec.limits.path]u8 = undefined;
        const marker = std.fmt.bufPrintZ(&buf, "{s}/cleaned", .{m.args.bundle}) catch return false;
        sys.faccessat(linux.AT.FDCWD, marker, linux.F_OK) catch |err| {
            if (err != error.NOENT) return false;
            sys.faccessat(linux.AT.FDCWD, m.args.bundle, linux.F_OK) catch |e| return e == error.NOENT;
            return false;
        };
        return true;
    }

    /// `<bundle>/init.pid` (runc's pid file): the CLI that started us may die before it records
    /// the pid; any later command reads it here (src/container/state.ts).
    fn writePidFile(m: *Monitor, pid: linux.pid_t) void {
        var buf: [spec.limits.path]u8 = undefined;
        const path = std.fmt.bufPrintZ(&buf, "{s}/init.pid", .{m.args.bundle}) catch return;
        finish.writePidFile(path, pid) catch |err| {
            finish.printStderr("tsd-monitor: write {s}: {s}\n", .{ path, @import("linux").errno.describe(err) });
        };
    }

    fn exitPath(m: *Monitor, buf: *[spec.limits.path]u8) ?[:0]const u8 {
        return m.args.exit_file orelse (std.fmt.bufPrintZ(buf, "{s}/exit.json", .{m.args.bundle}) catch {
            finish.printStderr("tsd-monitor: the bundle path is too long for exit.json\n", .{});
            return null;
        });
    }

    /// Best effort: without the reservation (a disk full already) the exit is written as a
    /// new file, which works whenever there is space by then.
    fn reserveExit(m: *Monitor) void {
        var buf: [spec.limits.path]u8 = undefined;
        const path = m.exitPath(&buf) orelse return;
        finish.reserveExitFile(path) catch {};
    }

    fn writeExit(m: *Monitor, result: finish.ExitStatus) void {
        var buf: [spec.limits.path]u8 = undefined;
        const path = m.exitPath(&buf) orelse return;
        finish.writeExitFile(path, result) catch |err| {
            finish.printStderr("tsd-monitor: write {s}: {s}\n", .{ path, @import("linux").errno.describe(err) });
        };
    }

    /// Returns the init's wait status; errors leave their message in m.d.
    fn supervise(m: *Monitor) !u32 {
        if (namespace_failure.len > 0) {
            m.d = namespace_failure;
            return error.RootlessNamespace;
        }
        try m.detach();
        const signal_set = relay.signalSet();
        sys.sigprocmask(linux.SIG.BLOCK, &signal_set, null) catch |err| return m.d.fail(err, "block signals", .{});
        const signals = sys.signalfd(&signal_set) catch |err| return m.d.fail(err, "signalfd", .{});
        defer sys.close(signals);
        const epoll = sys.epollCreate() catch |err| return m.d.fail(err, "epoll_create", .{});
        defer sys.close(epoll);
        try m.loadSpec();
        m.reserveExit();
        try m.openOutputs();
        defer if (m.args.log != null) the_log.close();
        const s = &config.the_spec;

        var stdio = try Stdio.open(m, epoll, s.process.terminal);
        // The monitor's ends are the relay's to close once it has them.
        var stdio_owned = true;
        errdefer if (stdio_owned) stdio.closeAll();
        const channel = runtime.sync.open() catch |err| return m.d.fail(err, "socketpair", .{});
        var monitor_end: ?sys.fd_t = channel.monitor;
        errdefer if (monitor_end) |f| sys.close(f);
        const pid = m.clone(channel, stdio.child, stdio.container_null_stdin) catch |err| {
            sys.close(channel.init);
            return err;
        };
        m.init_pid = pid;
        sys.close(channel.init);
        stdio.closeChildEnds();
        const r = m.relayFor(pid, epoll, signals, &stdio);
        stdio_owned = false;

        m.handOver(pid, channel.monitor, r) catch |err| {
            // The init must not run on: it would be a container nobody watches.
            sys.kill(pid, linux.SIG.KILL) catch {};
            if (!m.failed) {
                m.failed = true;
                m.report.failed(&m.d);
            }
            r.stopInput();
            r.run() catch {};
            return err;
        };
        sys.close(channel.monitor);
        monitor_end = null;
        return r.watch(pid, &m.d, "the container");
    }

    /// Non-dumpable, only fds 0-3, a session of its own.
    fn detach(m: *Monitor) !void {
        // Before it joins any namespace of a container (--pid container:X) and inherited by the
        // init until its execve: nothing in a container may ptrace a tsd process or open its
        // /proc/PID/exe (CVE-2019-5736; runc's init does the same).
        _ = sys.prctl(.SET_DUMPABLE, 0, 0, 0, 0) catch |err| return m.d.fail(err, "prctl(PR_SET_DUMPABLE)", .{});
        try m.sanitizeFds();
        // A new session: the terminal's ^C and hang-ups go to the CLI, which forwards them.
        // EPERM: already a process group leader (started by a shell): keep its session.
        sys.setsid() catch |err| if (err != error.PERM) return m.d.fail(err, "setsid", .{});
    }

    /// The json-file log and attach.sock, when asked for (closed by run() after exit.json).
    fn openOutputs(m: *Monitor) !void {
        // Holds nothing to release: only the path of health.json is made here.
        if (m.args.health.enabled()) {
            the_health.init(m.args.health, m.args.bundle) catch |err| return m.d.fail(err, "the bundle path is too long for health.json", .{});
        }
        if (m.args.log) |path| {
            the_log.open(path, m.args.log_max_size, m.args.log_max_files) catch |err| return m.d.fail(err, "open the log {s}", .{path});
        }
        errdefer if (m.args.log != null) the_log.close();
        if (m.args.attach) {
            the_attach = attach_mod.Server.open(m.args.bundle) catch |err| return m.d.fail(err, "listen on {s}/attach.sock", .{m.args.bundle});
            m.attach_open = true;
        }
    }

    /// The relay takes the monitor's ends of the container's stdio (it closes them at EOF).
    fn relayFor(m: *Monitor, pid: linux.pid_t, epoll: sys.fd_t, signals: sys.fd_t, stdio: *const Stdio) *relay.Relay {
        const s = &config.the_spec;
        the_relay = .{ .epoll = epoll, .signals = signals, .init_pid = pid, .forward = false };
        const r = &the_relay;
        r.stdout = stdio.stdout;
        r.stderr = stdio.stderr;
        r.stdin = stdio.user_stdin;
        r.sink = stdio.sink;
        if (m.args.log != null) r.log = &the_log;
        if (m.args.health.enabled()) r.health = &the_health;
        // A foreground run: detach keys (a terminal's, as Docker's) and EPIPE release the CLI.
        if (m.args.exit_report) {
            r.report = &m.report;
            r.saved_termios = &m.saved_termios;
            if (m.args.detach_keys) |k| if (s.process.terminal and r.stdin != null) {
                r.detach = .{ .keys = k };
            };
        }
        if (m.attach_open) {
            r.attach = &the_attach;
            r.attach_input = m.args.stdin_attach;
            r.keep_sink = m.args.stdin_attach and !s.process.terminal;
        }
        return r;
    }

    /// 0, 1, 2 open (else a pipe could land there); nothing above 3 inherited from the CLI.
    fn sanitizeFds(m: *Monitor) !void {
        for (0..3) |i| {
            _ = sys.fstat(@intCast(i)) catch {
                const f = sys.open("/dev/null", .{ .ACCMODE = .RDWR }, 0) catch |err| return m.d.fail(err, "open /dev/null", .{});
                assert(f == i);
            };
        }
        sys.closeRange(4, std.math.maxInt(u32), 0) catch |err| return m.d.fail(err, "close_range", .{});
    }

    fn loadSpec(m: *Monitor) !void {
        var buf: [spec.limits.path]u8 = undefined;
        const path = std.fmt.bufPrintZ(&buf, "{s}/config.json", .{m.args.bundle}) catch {
            m.d.set(diag.status_engine, "bundle path too long: {s}", .{m.args.bundle});
            return error.NAMETOOLONG;
        };
        _ = try config.load(path, m.args.bundle, &m.d);
    }

    fn clone(m: *Monitor, channel: runtime.sync.Channel, child_stdio: [3]sys.fd_t, null_stdin: bool) !linux.pid_t {
        const s = &config.the_spec;
        the_hook_state.initDefault(m.args.id, m.args.bundle) catch |err| return m.d.fail(err, "the hook state", .{});
        const ctx: runtime.init.Context = .{
            .spec = s,
            .sync = channel.init,
            .monitor_sync = channel.monitor,
            .stdio = child_stdio,
            .null_stdin = null_stdin,
            .last_cap = runtime.caps.lastCap(),
            .hook_state = &the_hook_state,
        };
        return launch.cloneInit(&ctx, &m.d);
    }

    /// The parent's half of the start: id maps, cgroups, "go"; then the init's answer.
    fn handOver(m: *Monitor, pid: linux.pid_t, sync_fd: sys.fd_t, r: *relay.Relay) !void {
        const s = &config.the_spec;
        try launch.startInit(pid, s, sync_fd, &m.d);
        var buf: [runtime.sync.message_max]u8 = undefined;
        var messages: usize = 0;
        while (messages < 8) : (messages += 1) {
            const msg = runtime.sync.receive(sync_fd, &buf) catch |err| return m.d.fail(err, "read from the container init", .{});
            switch (msg) {
                .go, .ready => return m.protocol(),
                .hooks => {
                    try create_mode.runtimeHooks(s, &the_hook_state, pid, &m.d);
                    runtime.sync.sendGo(sync_fd) catch {};
                },
                .pty => |master| try m.takePty(master, r),
                .mount => |t| {
                    sys.close(t.fd);
                    return m.protocol();
                },
                .failed => |f| {
                    m.d.set(std.math.clamp(f.status, diag.status_engine, diag.status_not_found), "{s}", .{f.text});
                    m.failed = true;
                    m.report.failed(&m.d);
                    // Not an error for the loop: drain what the init wrote and reap it.
                    r.stopInput();
                    return;
                },
                .eof => {
                    m.started_at = sys.clockRealtimeNs();
                    m.writePidFile(pid);
                    // "starting" is on disk before the CLI hears of the start (and a restarted
                    // container's old health is gone by then).
                    if (r.health) |h| h.begin(pid, m.started_at) catch |err| {
                        finish.printStderr("tsd-monitor: write {s}: {s}\n", .{ h.path, @import("linux").errno.describe(err) });
                    };
                    m.report.started(pid);
                    r.forward = true;
                    return;
                },
            }
        }
        return m.protocol();
    }

    fn protocol(m: *Monitor) error{PROTO} {
        m.d.set(diag.status_engine, "the container init broke the sync protocol", .{});
        return error.PROTO;
    }

    fn takePty(m: *Monitor, master: sys.fd_t, r: *relay.Relay) !void {
        if (r.pty != null) {
            sys.close(master);
            return m.protocol();
        }
        sys.setNonblocking(master) catch |err| {
            sys.close(master);
            return m.d.fail(err, "set up the pty", .{});
        };
        r.pty = master; // The relay's from here on.
        runtime.console.copyWindowSize(&.{ 0, 1 }, master);
        if (runtime.console.isTerminal(0)) {
            m.saved_termios = runtime.console.makeRaw(0) catch |err| return m.d.fail(err, "put the terminal in raw mode", .{});
        }
        if (r.stdin != null or r.attach_input) {
            r.sink = master;
            r.sink_is_pty = true;
        }
    }
};

/// The container's stdio before clone. Pipes: the child's ends go to the init (dup'd onto
/// 0, 1, 2 there), the monitor keeps the others. With a terminal all three are the pty, made
/// by the init; the child ends are then unused placeholders.
const Stdio = struct {
    child: [3]sys.fd_t,
    stdout: ?sys.fd_t = null,
    stderr: ?sys.fd_t = null,
    /// The user's fd 0 when --stdin is forwarded through the loop.
    user_stdin: ?sys.fd_t = null,
    /// Where forwarded input goes (the stdin pipe; the pty master is set later).
    sink: ?sys.fd_t = null,
    owned: [3]bool = .{ false, false, false },
    /// The init replaces fd 0 with the container's /dev/null (runtime/init.zig).
    container_null_stdin: bool = false,

    fn open(m: *Monitor, epoll: sys.fd_t, terminal: bool) !Stdio {
        var io: Stdio = .{ .child = .{ -1, -1, -1 } };
        errdefer io.closeAll();
        const stdin_forwarded = m.args.stdin and relay.pollable(epoll, 0);
        if (terminal) {
            if (stdin_forwarded) io.user_stdin = 0;
            io.child = .{ 3, 3, 3 }; // Unused by the init in terminal mode.
            return io;
        }
        if (stdin_forwarded or m.args.stdin_attach) {
            const p = sys.pipe2(.{ .CLOEXEC = true }) catch |err| return m.d.fail(err, "pipe", .{});
            io.child[0] = p[0];
            io.owned[0] = true;
            io.sink = p[1];
            sys.setNonblocking(p[1]) catch |err| return m.d.fail(err, "pipe", .{});
            if (stdin_forwarded) io.user_stdin = 0;
        } else if (m.args.stdin) {
            // A regular file or /dev/null (epoll refuses them): copied into a pipe by a host
            // process of its own; the container never holds the user's file.
            const p = sys.pipe2(.{ .CLOEXEC = true }) catch |err| return m.d.fail(err, "pipe", .{});
            io.child[0] = p[0];
            io.owned[0] = true;
            defer sys.close(p[1]); // The pump's copy stays open in the pump.
            try relay.startStdinPump(p[1], &m.d);
        } else {
            // A placeholder the init swaps for the container's own /dev/null once its /dev
            // exists: a host device node in a container could be chmod'ed through
            // /proc/self/fd/0 (CAP_FOWNER is in Docker's default set).
            io.child[0] = sys.open("/dev/null", .{ .CLOEXEC = true }, 0) catch |err| return m.d.fail(err, "open /dev/null", .{});
            io.owned[0] = true;
            io.container_null_stdin = true;
        }
        for ([_]usize{ 1, 2 }) |i| {
            const p = sys.pipe2(.{ .CLOEXEC = true }) catch |err| return m.d.fail(err, "pipe", .{});
            io.child[i] = p[1];
            io.owned[i] = true;
            if (i == 1) io.stdout = p[0] else io.stderr = p[0];
            sys.setNonblocking(p[0]) catch |err| return m.d.fail(err, "pipe", .{});
        }
        return io;
    }

    fn closeChildEnds(io: *Stdio) void {
        for (io.child, io.owned) |fd, owned| if (owned) sys.close(fd);
        io.owned = .{ false, false, false };
    }

    /// A start that failed before the relay took the monitor's ends: every pipe end goes.
    fn closeAll(io: *Stdio) void {
        io.closeChildEnds();
        for ([_]?sys.fd_t{ io.stdout, io.stderr, io.sink }) |end| if (end) |f| sys.close(f);
        io.stdout = null;
        io.stderr = null;
        io.sink = null;
    }
};

test {
    _ = args_mod;
    _ = log_mod;
    _ = exec_mode;
    _ = attach_mod;
    _ = health_mod;
    _ = relay;
    _ = finish;
    _ = copy_mode;
    _ = config;
    _ = @import("proc.zig");
    _ = launch;
    _ = @import("dns.zig");
    _ = @import("dns_server.zig");
    _ = @import("dns_seccomp.zig");
    _ = @import("report.zig");
    _ = @import("detach_keys.zig");
    _ = @import("userns.zig");
    _ = create_mode;
}

/// F_DUPFD_CLOEXEC (fcntl.h); std.os.linux does not name it.
const f_dupfd_cloexec: i32 = 1030;
