//! `tsd-monitor --create`: the OCI runtime's create (CONTRACT.md "tsd-monitor --create", issue
//! 12). It parses the bundle, clones the init exactly as the run mode does (zig/runtime/init.zig
//! with the create options of its Context), writes the id maps, joins the cgroups named by
//! --cgroup-procs, runs the prestart and createRuntime hooks while the init waits, sends a
//! terminal's pty master to --console-socket, and once the init is ready and blocked on the exec
//! fifo reports `started <pid>` on fd 3 and EXITS: the init is reparented to the caller's
//! subreaper (containerd-shim, conmon), its stdio the monitor's fds 0-2 as given. With --wait
//! (`tsd runtime run` in the foreground) it stays the init's parent and exits with its status.
//!
//!   tsd-monitor --create --bundle B --id ID --fifo F [--hook-state FILE]
//!               [--console-socket S] [--cgroup-procs PATH]... [--preserve-fds N]
//!               [--no-pivot] [--no-new-keyring] [--wait]
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;
const runtime = @import("runtime");
const spec = runtime.spec;
const diag = runtime.diag;
const Diag = diag.Diag;
const hooks = runtime.hooks;
const Report = @import("report.zig").Report;
const config = @import("config.zig");
const launch = @import("launch.zig");
const finish = @import("finish.zig");
const relay = @import("relay.zig");

pub const max_preserve_fds = 1024;

pub const Args = struct {
    bundle: [:0]const u8 = "",
    id: [:0]const u8 = "",
    fifo: [:0]const u8 = "",
    hook_state: ?[:0]const u8 = null,
    console_socket: ?[:0]const u8 = null,
    cgroup_procs: [spec.limits.cgroup_procs][:0]const u8 = undefined,
    cgroup_procs_len: usize = 0,
    preserve_fds: u32 = 0,
    no_pivot: bool = false,
    /// runc's flag: the init keeps the caller's session keyring instead of joining `_ses.<id>`.
    no_new_keyring: bool = false,
    wait: bool = false,
};

var the_hook_state: hooks.State = .{};
var the_relay: relay.Relay = undefined;
var the_keyring: runtime.keyring.Name = .{};

pub fn main(argv: []const [*:0]const u8) u8 {
    var d: Diag = .{};
    var report = Report.init(false);
    const status = run(argv, &report, &d) catch |err| {
        if (d.len == 0) d.set(diag.status_engine, "tsd-monitor --create: {s}", .{@errorName(err)});
        report.failed(&d);
        return d.status;
    };
    return status;
}

pub fn parseArgs(argv: []const [*:0]const u8, d: *Diag) !Args {
    var a: Args = .{};
    var i: usize = 2;
    while (i < argv.len) : (i += 1) {
        const k = std.mem.span(argv[i]);
        if (std.mem.eql(u8, k, "--no-pivot")) {
            a.no_pivot = true;
        } else if (std.mem.eql(u8, k, "--no-new-keyring")) {
            a.no_new_keyring = true;
        } else if (std.mem.eql(u8, k, "--wait")) {
            a.wait = true;
        } else {
            if (i + 1 == argv.len) return usage(d, "missing value for", k);
            i += 1;
            try value(&a, k, std.mem.span(argv[i]), d);
        }
    }
    if (a.bundle.len == 0 or a.id.len == 0 or a.fifo.len == 0) return usage(d, "needs", "--bundle, --id and --fifo");
    return a;
}

fn value(a: *Args, k: []const u8, v: [:0]const u8, d: *Diag) !void {
    if (std.mem.eql(u8, k, "--bundle")) {
        a.bundle = v;
    } else if (std.mem.eql(u8, k, "--id")) {
        a.id = v;
    } else if (std.mem.eql(u8, k, "--fifo")) {
        a.fifo = v;
    } else if (std.mem.eql(u8, k, "--hook-state")) {
        a.hook_state = v;
    } else if (std.mem.eql(u8, k, "--console-socket")) {
        a.console_socket = v;
    } else if (std.mem.eql(u8, k, "--cgroup-procs")) {
        if (a.cgroup_procs_len == a.cgroup_procs.len) return usage(d, "too many", "--cgroup-procs");
        if (v.len == 0 or v[0] != '/') return usage(d, "--cgroup-procs must be absolute, not", v);
        a.cgroup_procs[a.cgroup_procs_len] = v;
        a.cgroup_procs_len += 1;
    } else if (std.mem.eql(u8, k, "--preserve-fds")) {
        a.preserve_fds = std.fmt.parseInt(u32, v, 10) catch return usage(d, "--preserve-fds needs a count, not", v);
        if (a.preserve_fds > max_preserve_fds) return usage(d, "--preserve-fds is too large:", v);
    } else return usage(d, "unknown argument", k);
}

fn usage(d: *Diag, text: []const u8, arg: []const u8) error{Usage} {
    d.set(diag.status_engine, "tsd-monitor --create: {s} {s}", .{ text, arg });
    return error.Usage;
}

fn run(argv: []const [*:0]const u8, report: *Report, d: *Diag) !u8 {
    const a = try parseArgs(argv, d);
    // Inherited by the init until its execve (CVE-2019-5736, as the run mode).
    _ = sys.prctl(.SET_DUMPABLE, 0, 0, 0, 0) catch |err| return d.fail(err, "prctl(PR_SET_DUMPABLE)", .{});
    // 0-2 the container's stdio, 3 the report, 4.. the preserved fds: nothing else.
    sys.closeRange(4 + a.preserve_fds, std.math.maxInt(u32), 0) catch |err| return d.fail(err, "close_range", .{});
    const s = try loadSpec(a, d);
    if (a.hook_state) |p| try the_hook_state.load(p, d) else the_hook_state.initDefault(a.id, a.bundle) catch |err| return d.fail(err, "the hook state", .{});
    const fifo = sys.open(a.fifo, .{ .ACCMODE = .RDONLY, .NONBLOCK = true, .CLOEXEC = true }, 0) catch |err| return d.fail(err, "open the exec fifo {s}", .{a.fifo});
    const channel = runtime.sync.open() catch |err| {
        sys.close(fifo);
        return d.fail(err, "socketpair", .{});
    };
    var monitor_end: ?sys.fd_t = channel.monitor;
    defer if (monitor_end) |f| sys.close(f);
    const pid = clone(a, s, channel, fifo, d) catch |err| {
        sys.close(fifo);
        sys.close(channel.init);
        return err;
    };
    // The init has its own copy from the clone on, and is then its only reader: `start` sees
    // the fifo's last reader go when the init execs (its copy is close-on-exec).
    sys.close(fifo);
    sys.close(channel.init);
    const master = handOver(a, s, pid, channel.monitor, d) catch |err| {
        // A half-made container must not stay: nobody would ever start or delete it.
        sys.kill(pid, linux.SIG.KILL) catch {};
        _ = sys.waitpid(pid, 0) catch {};
        return err;
    };
    // Only `run` in the foreground keeps the pty (no console socket): it is relayed below.
    assert(master == null or a.wait);
    var master_owned = master != null;
    defer if (master_owned) sys.close(master.?);
    // Before the report: once it is out, the CLI's start may let the init run and exit at
    // once, and a SIGCHLD not blocked by then is discarded (the relay would wait forever).
    const set = relay.signalSet();
    if (master != null) sys.sigprocmask(linux.SIG.BLOCK, &set, null) catch |err| return d.fail(err, "block signals", .{});
    report.started(pid);
    if (!a.wait) return 0;
    // The init reports later failures (a startContainer hook) on its stderr: nobody reads this.
    sys.close(channel.monitor);
    monitor_end = null;
    if (master) |m| {
        master_owned = false;
        return relayTerminal(pid, m, d);
    }
    const w = sys.waitpid(pid, 0) catch |err| return d.fail(err, "wait for the container", .{});
    return finish.dockerStatus(w.status).code;
}

/// `run` in the foreground with process.terminal and no console socket (runc's own pty): the
/// master relayed to our fds 0 and 1, fd 0 raw while it is a terminal, the window size
/// followed (SIGWINCH), other signals forwarded to the init; the init's status is ours. The
/// caller blocked the relay's signals before its report: a SIGCHLD since then is pending.
fn relayTerminal(pid: linux.pid_t, master: sys.fd_t, d: *Diag) !u8 {
    the_relay = .{ .epoll = -1, .signals = -1, .init_pid = pid, .forward = true, .drain_total_ms = relay.drain_idle_ms };
    const r = &the_relay;
    r.pty = master;
    defer if (r.pty) |p| sys.close(p);
    const set = relay.signalSet();
    r.signals = sys.signalfd(&set) catch |err| return d.fail(err, "signalfd", .{});
    defer sys.close(r.signals);
    r.epoll = sys.epollCreate() catch |err| return d.fail(err, "epoll_create", .{});
    defer sys.close(r.epoll);
    sys.setNonblocking(master) catch |err| return d.fail(err, "set up the pty", .{});
    runtime.console.copyWindowSize(&.{ 0, 1 }, master);
    var saved: ?linux.termios = null;
    if (runtime.console.isTerminal(0)) saved = runtime.console.makeRaw(0) catch null;
    defer if (saved) |*t| runtime.console.restore(0, t);
    if (relay.pollable(r.epoll, 0)) {
        r.stdin = 0;
        r.sink = master;
        r.sink_is_pty = true;
    }
    return finish.dockerStatus(try r.watch(pid, d, "the container")).code;
}

fn loadSpec(a: Args, d: *Diag) !*const spec.Spec {
    var buf: [spec.limits.path]u8 = undefined;
    const path = std.fmt.bufPrintZ(&buf, "{s}/config.json", .{a.bundle}) catch {
        d.set(diag.status_engine, "bundle path too long: {s}", .{a.bundle});
        return error.NAMETOOLONG;
    };
    _ = try config.load(path, a.bundle, d);
    const s = &config.the_spec;
    // A foreign config.json names no io.tsd.cgroup.procs: the caller made the group.
    for (a.cgroup_procs[0..a.cgroup_procs_len]) |p| {
        if (s.cgroup_procs_len == s.cgroup_procs.len) {
            d.set(diag.status_engine, "more than {d} cgroup.procs paths", .{s.cgroup_procs.len});
            return error.InvalidSpec;
        }
        s.cgroup_procs[s.cgroup_procs_len] = p;
        s.cgroup_procs_len += 1;
    }
    s.preserve_fds = a.preserve_fds;
    if (s.process.terminal and a.console_socket == null and !a.wait) {
        d.set(diag.status_engine, "process.terminal is true: a console socket is needed (--console-socket)", .{});
        return error.InvalidSpec;
    }
    return s;
}

fn clone(a: Args, s: *const spec.Spec, channel: runtime.sync.Channel, fifo: sys.fd_t, d: *Diag) !linux.pid_t {
    if (!a.no_new_keyring) the_keyring = runtime.keyring.Name.of(a.id) orelse {
        d.set(diag.status_engine, "container id too long for a keyring name: {s}", .{a.id});
        return error.NAMETOOLONG;
    };
    const ctx: runtime.init.Context = .{
        .spec = s,
        .sync = channel.init,
        .monitor_sync = channel.monitor,
        .stdio = .{ -1, -1, -1 },
        .last_cap = runtime.caps.lastCap(),
        .inherit_stdio = true,
        .fifo = fifo,
        .no_pivot = a.no_pivot,
        .hook_state = &the_hook_state,
        .keyring = if (a.no_new_keyring) null else the_keyring.slice(),
    };
    return launch.cloneInit(&ctx, d);
}

/// Id maps, cgroups, "go" twice (as the run mode), then the init's messages until it is
/// ready: the hooks, the pty, or its failure. Returns the pty master when there is no console
/// socket to send it to (foreground `run`, which relays it).
fn handOver(a: Args, s: *const spec.Spec, pid: linux.pid_t, sync_fd: sys.fd_t, d: *Diag) !?sys.fd_t {
    try launch.startInit(pid, s, sync_fd, d);
    var buf: [runtime.sync.message_max]u8 = undefined;
    var kept: ?sys.fd_t = null;
    errdefer if (kept) |m| sys.close(m);
    var messages: usize = 0;
    while (messages < 8) : (messages += 1) {
        const msg = runtime.sync.receive(sync_fd, &buf) catch |err| return d.fail(err, "read from the container init", .{});
        switch (msg) {
            .ready => return kept,
            .hooks => {
                try runtimeHooks(s, &the_hook_state, pid, d);
                runtime.sync.sendGo(sync_fd) catch |err| return d.fail(err, "resume the container init", .{});
            },
            .pty => |master| {
                const path = a.console_socket orelse {
                    if (kept != null) sys.close(master) else kept = master;
                    continue;
                };
                defer sys.close(master);
                runtime.console.setWindowSize(master, s.process.console_rows, s.process.console_cols);
                runtime.console_socket.send(path, master) catch |err| return d.fail(err, "send the pty to the console socket {s}", .{path});
            },
            .failed => |f| {
                d.set(std.math.clamp(f.status, diag.status_engine, diag.status_not_found), "{s}", .{f.text});
                return error.InitFailed;
            },
            .mount => |t| {
                sys.close(t.fd);
                break;
            },
            .go, .eof => break,
        }
    }
    d.set(diag.status_engine, "the container init broke the sync protocol", .{});
    return error.PROTO;
}

/// prestart then createRuntime (runc's order), in the runtime's namespaces.
pub fn runtimeHooks(s: *const spec.Spec, st: *const hooks.State, pid: linux.pid_t, d: *Diag) !void {
    assert(pid > 0);
    const S = struct {
        var out: [hooks.state_max]u8 = undefined;
    };
    // prestart, the legacy point, sees "created" (crun's and runtime-tools' reading).
    try hooks.runAll(s, .prestart, st.render("created", pid, &S.out), d);
    try hooks.runAll(s, .createRuntime, st.render("creating", pid, &S.out), d);
}

test "create arguments" {
    var d: Diag = .{};
    const argv = [_][*:0]const u8{ "tsd-monitor", "--create", "--bundle", "/b", "--id", "c1", "--fifo", "/r/c1/exec.fifo", "--cgroup-procs", "/sys/fs/cgroup/x/cgroup.procs", "--preserve-fds", "2", "--no-pivot", "--console-socket", "/s.sock" };
    const a = try parseArgs(&argv, &d);
    try std.testing.expectEqualStrings("/b", a.bundle);
    try std.testing.expectEqual(@as(u32, 2), a.preserve_fds);
    try std.testing.expect(a.no_pivot and !a.wait);
    try std.testing.expectEqual(@as(usize, 1), a.cgroup_procs_len);
    try std.testing.expectEqualStrings("/s.sock", a.console_socket.?);
    const bad = [_][*:0]const u8{ "tsd-monitor", "--create", "--bundle", "/b", "--id", "c1" };
    try std.testing.expectError(error.Usage, parseArgs(&bad, &d));
    try std.testing.expectEqualStrings("tsd-monitor --create: needs --bundle, --id and --fifo", d.message());
    const rel = [_][*:0]const u8{ "tsd-monitor", "--create", "--cgroup-procs", "x" };
    try std.testing.expectError(error.Usage, parseArgs(&rel, &d));
}
