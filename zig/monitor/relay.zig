//! The monitor loop: one epoll over the signalfd, the container's output (two pipes, or the
//! pty master) and, with --stdin, the user's fd 0. Output is copied byte for byte to fd 1 and
//! fd 2 at the user's pace (the container's pace), yet never deaf to signals while a reader
//! lags (writeUser); input goes to the
//! container through a bounded buffer on a non-blocking fd, so a container that does not read
//! its stdin never stalls its output. A foreground run's CLI is let go (release) when the user
//! types the detach keys (detach_keys.zig) or closes the output (EPIPE): the loop then runs on
//! as a detached monitor's does.
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;
const runtime = @import("runtime");
const log_mod = @import("log.zig");
const attach_mod = @import("attach.zig");
const health_mod = @import("health.zig");
const report_mod = @import("report.zig");
const detach_keys = @import("detach_keys.zig");

pub const forwarded_signals = [_]u6{
    linux.SIG.INT, linux.SIG.TERM, linux.SIG.HUP, linux.SIG.QUIT, linux.SIG.USR1, linux.SIG.USR2,
};

/// Every signal the loop handles: blocked, and read from the signalfd instead.
pub fn signalSet() linux.sigset_t {
    var set = linux.sigemptyset();
    for (forwarded_signals) |s| linux.sigaddset(&set, s);
    linux.sigaddset(&set, linux.SIG.CHLD);
    linux.sigaddset(&set, linux.SIG.WINCH);
    linux.sigaddset(&set, linux.SIG.PIPE);
    return set;
}

const chunk = 64 * 1024;
/// The loop's steady-state code (sys.loop_section): every function an event of output, input
/// or a forwarded signal runs. The rest (accepting an attach client, a health probe, a log
/// rotation, the end) runs rarely and sets `trim_due`, after which the image is trimmed again
/// (trimImage), so what such an event mapped does not stay in the monitor's RSS.
const loop = sys.loop_section;
/// After the init exits, output still open this long without a byte read is abandoned (a
/// process outside the container's pid namespace may hold the pipe forever).
pub const drain_idle_ms = 2000;
const max_events = 8;
/// Output that touched more than the first page of a scratch buffer (a burst, a long line)
/// makes the loop wait at most this long before it gives those pages back (dropScratch):
/// never during a flood (it would fault them back in at once), always once it has passed.
const scratch_idle_ms = 100;

/// The loop's read buffers, static rather than on the stack: a 64 KiB frame is probed page by
/// page on entry (all 16 pages resident for the container's life after its first byte of
/// output), while the kernel's read touches only the pages it fills. One loop per process.
var output_buf: [chunk]u8 align(sys.page_size) = undefined;
/// Static too, as the loop's other arrays the kernel fills: a safe build fills an `undefined`
/// local with 0xaa from a constant in .rodata, and that read maps a rodata window back.
var loop_events: [max_events]linux.epoll_event = undefined;
var signal_infos: [8]linux.signalfd_siginfo = undefined;
var input_buf: [chunk - detach_keys.max_keys]u8 = undefined;

/// Below this frame the stack holds only the set-up's dead frames (spec parsing, the clone):
/// given back before the loop that lasts the container's life, so they do not stay resident.
/// `span` bounds the range (the stack touched is far less; the next mapping is over 128 MiB
/// below the stack's top); two pages under this frame are kept for the madvise call's own.
/// Pages the loop needs again fault back in as zeroes.
fn trimStack() void {
    const span = 1024 * 1024;
    const page = sys.page_size;
    var marker: u8 = 0;
    std.mem.doNotOptimizeAway(&marker);
    const keep_from = std.mem.alignBackward(usize, @intFromPtr(&marker), page) - 2 * page;
    assert(keep_from > span);
    // ENOMEM for the unmapped gap under the stack is expected (the mapped part is still
    // trimmed); any other failure only leaves the pages resident.
    _ = linux.madvise(@ptrFromInt(keep_from - span), span, linux.MADV.DONTNEED);
}

/// The program's read-only segments (text, rodata): one copy in memory for every monitor (the
/// sealed memfd), but each monitor's set-up maps nearly all of it (the kernel maps up to 64 KiB
/// around each page fault), and a mapped page counts in every monitor's RSS. Unmapped before
/// the loop: it faults back only the windows of the code and data it still runs and reads
/// (the pages stay in the memfd; nothing is copied or written). Whole pages inside each
/// segment only, so a page shared with a writable segment is never touched.
fn trimImage() linksection(loop) void {
    const phnum_max = 16;
    const phdr_addr = linux.getauxval(std.elf.AT_PHDR);
    const phnum = linux.getauxval(std.elf.AT_PHNUM);
    if (phdr_addr == 0 or phnum == 0 or phnum > phnum_max) return;
    // A copy: the headers lie in the first read-only segment, which a read after its trim
    // would map back (a whole fault-around window of rodata).
    var phdrs: [phnum_max]std.elf.Phdr = undefined;
    @memcpy(phdrs[0..phnum], @as([*]const std.elf.Phdr, @ptrFromInt(phdr_addr))[0..phnum]);
    // The load bias: PT_PHDR's own address against where the kernel put the headers.
    var bias: ?usize = null;
    for (phdrs[0..phnum]) |ph| {
        if (ph.p_type == std.elf.PT_PHDR) bias = phdr_addr -% ph.p_vaddr;
    }
    const base = bias orelse return;
    for (phdrs[0..phnum]) |ph| {
        if (ph.p_type != std.elf.PT_LOAD or ph.p_flags & std.elf.PF_W != 0) continue;
        // Clean private pages of a file: dropped, read back from the memfd when touched.
        const segment: [*]u8 = @ptrFromInt(base +% ph.p_vaddr);
        sys.dropPages(segment[0..ph.p_memsz]);
    }
}

pub const Relay = struct {
    epoll: sys.fd_t,
    signals: sys.fd_t,
    init_pid: linux.pid_t,
    /// Code outside the loop's section ran (a rare event): trim the image before the next wait.
    trim_due: bool = false,
    /// Scratch pages beyond the first were touched (output_buf, the log's buffers): given back
    /// once the output pauses (scratch_idle_ms).
    scratch_dirty: bool = false,
    /// Set when the init has been reaped: its wait status.
    exit_status: ?u32 = null,
    /// Forward signals only to a process that exists as the container (not a failed init).
    forward: bool,
    /// After the init exits, stop at most this long later even while output still flows (`tsd
    /// exec`, as Docker: a background child may write for ever); null: only the idle limit.
    drain_total_ms: ?i64 = null,
    /// When the init was reaped (monotonic ms), for drain_total_ms.
    exited_at_ms: i64 = 0,

    /// Container → user.
    stdout: ?sys.fd_t = null,
    stderr: ?sys.fd_t = null,
    pty: ?sys.fd_t = null,
    pty_readable: bool = false,
    user_out_broken: bool = false,
    user_err_broken: bool = false,
    /// Every byte of output also goes here (`tsd logs`).
    log: ?*log_mod.Log = null,
    /// `tsd attach` clients: they get the output; with `attach_input` their bytes go to `sink`.
    attach: ?*attach_mod.Server = null,
    attach_input: bool = false,
    /// The sink stays open without a user stdin (run -d -i: input comes from attach clients).
    keep_sink: bool = false,
    /// Health checks (health.zig): their timer bounds the wait, their result pipe is watched.
    health: ?*health_mod.Health = null,

    /// A foreground run's report pipe (--exit-report): told when the user detaches or stops
    /// reading its output, after which the user's fds 0-2 are given back (release()).
    report: ?*report_mod.Report = null,
    /// The user's terminal settings the monitor changed (raw mode), restored on release.
    saved_termios: ?*?linux.termios = null,
    /// The detach keys, looked for in the user's stdin (a terminal run with --detach-keys).
    detach: ?detach_keys.Matcher = null,
    /// The user's fds 0-2 are /dev/null now: the CLI has gone, the container runs on alone.
    released: bool = false,

    /// User → container: fd 0 with --stdin, into `sink` (a pipe, or the pty master).
    stdin: ?sys.fd_t = null,
    sink: ?sys.fd_t = null,
    sink_is_pty: bool = false,
    pending: [chunk]u8 = undefined,
    pending_start: usize = 0,
    pending_end: usize = 0,

    /// epoll interest currently registered, per fd (the loop recomputes and syncs it).
    registered: [watch_max]Registration = [_]Registration{.{}} ** watch_max,

    const watch_max = 7 + attach_mod.max_clients;
    const watch_health = 6 + attach_mod.max_clients;
    const Registration = struct { fd: sys.fd_t = -1, events: u32 = 0 };

    /// The loop until `pid`'s output is drained and `pid` is reaped; its wait status. A loop
    /// that broke (epoll, signalfd) kills and reaps `pid` rather than orphan it; an idle drain
    /// that gave up, or every stream closed, still reaps it. `subject` names it in errors.
    pub fn watch(r: *Relay, pid: linux.pid_t, d: *runtime.diag.Diag, comptime subject: []const u8) !u32 {
        assert(pid > 0);
        r.run() catch |err| {
            sys.kill(pid, linux.SIG.KILL) catch {};
            _ = sys.waitpid(pid, 0) catch {};
            return d.fail(err, "watch " ++ subject, .{});
        };
        if (r.exit_status == null) {
            const w = sys.waitpid(pid, 0) catch |err| return d.fail(err, "wait for " ++ subject, .{});
            r.exit_status = w.status;
        }
        return r.exit_status.?;
    }

    pub fn run(r: *Relay) linksection(loop) !void {
        trimStack();
        trimImage();
        var iterations: u64 = 0;
        while (!r.done()) : (iterations += 1) {
            try r.syncInterest();
            if (r.trim_due) {
                r.trim_due = false;
                trimImage();
            }
            const timeout = r.drainTimeout();
            if (timeout == time_up) return;
            // After the exit the loop is about to end: no scratch wait, the idle limit exact.
            const scratch_wait = r.scratch_dirty and r.exit_status == null and
                (timeout < 0 or timeout > scratch_idle_ms);
            const n = try sys.epollWait(r.epoll, &loop_events, if (scratch_wait) scratch_idle_ms else timeout);
            if (r.exit_status == null) if (r.health) |h| if (h.onTimer()) {
                r.trim_due = true;
            };
            if (n == 0) {
                if (r.scratch_dirty) r.dropScratch();
                if (scratch_wait) continue; // Only the scratch's wait is over.
                if (r.exit_status == null) continue; // A health probe was due.
                return; // Idle after exit (or out of time): give up on output nobody closes.
            }
            for (loop_events[0..n]) |ev| try r.dispatch(ev.data.fd, ev.events);
        }
    }

    fn dropScratch(r: *Relay) linksection(loop) void {
        r.scratch_dirty = false;
        sys.dropPages(output_buf[sys.page_size..]);
        if (r.log) |l| l.dropScratch();
    }

    /// The epoll timeout: none while the init runs; after, the idle limit, cut to what is left
    /// of drain_total_ms; `time_up` when nothing is. (Not an optional: its constant would be
    /// read from .rodata on every wake-up.)
    fn drainTimeout(r: *const Relay) linksection(loop) i32 {
        if (r.exit_status == null) {
            const h = r.health orelse return -1;
            return h.timeoutMs();
        }
        const total = r.drain_total_ms orelse return drain_idle_ms;
        const left = r.exited_at_ms + total - sys.clockMonotonicMs();
        if (left <= 0) return time_up;
        return @intCast(@min(left, drain_idle_ms));
    }

    const time_up: i32 = std.math.minInt(i32);

    fn done(r: *const Relay) linksection(loop) bool {
        return r.exit_status != null and r.stdout == null and r.stderr == null and r.pty == null;
    }

    fn dispatch(r: *Relay, fd: sys.fd_t, events: u32) linksection(loop) !void {
        if (fd == r.signals) return r.onSignals();
        if (r.health) |h| if (h.resultFd() == fd) {
            r.trim_due = true;
            return h.onResult();
        };
        if (r.attach) |a| {
            if (fd == a.listen) {
                r.trim_due = true;
                return a.accept();
            }
            if (a.isClient(fd)) {
                r.trim_due = true;
                return r.onClientInput(a, fd, events);
            }
        }
        if (r.pty != null and fd == r.pty.?) {
            if (events & linux.EPOLL.OUT != 0 or (events & linux.EPOLL.ERR != 0 and r.pendingLen() > 0)) r.flushPending();
            if (r.pty != null and events & (linux.EPOLL.IN | linux.EPOLL.HUP | linux.EPOLL.ERR) != 0) try r.onOutput(.pty);
            return;
        }
        if (r.stdout != null and fd == r.stdout.?) return r.onOutput(.stdout);
        if (r.stderr != null and fd == r.stderr.?) return r.onOutput(.stderr);
        if (r.stdin != null and fd == r.stdin.?) return r.onInput();
        if (r.sink != null and fd == r.sink.?) return r.flushPending();
    }

    // ---- signals -------------------------------------------------------------------------

    fn onSignals(r: *Relay) linksection(loop) !void {
        const infos = &signal_infos;
        const bytes = std.mem.sliceAsBytes(infos);
        while (true) {
            const n = sys.read(r.signals, bytes) catch |err| switch (err) {
                error.AGAIN => return,
                else => return err,
            };
            assert(n % @sizeOf(linux.signalfd_siginfo) == 0);
            for (infos[0 .. n / @sizeOf(linux.signalfd_siginfo)]) |info| try r.onSignal(info.signo);
        }
    }

    fn onSignal(r: *Relay, signo: u32) linksection(loop) !void {
        switch (signo) {
            linux.SIG.CHLD => try r.reap(),
            linux.SIG.WINCH => if (r.pty) |p| {
                r.trim_due = true;
                runtime.console.copyWindowSize(&.{ 0, 1 }, p);
            },
            linux.SIG.PIPE => {},
            else => if (r.forward and r.exit_status == null) {
                // ESRCH: it exited meanwhile; the SIGCHLD is on its way.
                sys.kill(r.init_pid, @intCast(signo)) catch |err| if (err != error.SRCH) return err;
            },
        }
    }

    fn reap(r: *Relay) linksection(loop) !void {
        var reaped: usize = 0;
        while (reaped < 1024) : (reaped += 1) {
            const w = sys.waitpid(-1, linux.W.NOHANG) catch |err| switch (err) {
                error.CHILD => return,
                else => return err,
            };
            if (w.pid == 0) return;
            r.trim_due = true;
            if (r.health) |h| h.reaped(w.pid);
            if (w.pid == r.init_pid) {
                r.exit_status = w.status;
                r.exited_at_ms = sys.clockMonotonicMs();
                r.stopInput();
                if (r.health) |h| h.stop();
            }
        }
    }

    // ---- output --------------------------------------------------------------------------

    const Source = enum { stdout, stderr, pty };

    fn onOutput(r: *Relay, source: Source) linksection(loop) !void {
        const fd = switch (source) {
            .stdout => r.stdout.?,
            .stderr => r.stderr.?,
            .pty => r.pty.?,
        };
        const buf = &output_buf;
        const n = sys.read(fd, buf) catch |err| switch (err) {
            error.AGAIN => return,
            // EIO: every slave fd is closed, the pty's way of saying EOF.
            else => 0,
        };
        if (n == 0) return r.closeOutput(source);
        if (n > sys.page_size) r.scratch_dirty = true;
        const to_err = source == .stderr;
        if (r.log) |l| {
            l.write(if (to_err) .stderr else .stdout, buf[0..n]);
            if (l.takeRotated()) r.trim_due = true;
            if (l.scratch_dirty) r.scratch_dirty = true;
        }
        if (r.attach) |a| a.broadcast(switch (source) {
            .stdout => .stdout,
            .stderr => .stderr,
            .pty => .raw,
        }, buf[0..n]);
        const broken = if (to_err) &r.user_err_broken else &r.user_out_broken;
        if (broken.*) return;
        // EPIPE and friends, or a reader that stopped for good after the exit: keep draining
        // (log, attach clients) so the container never blocks.
        r.writeUser(if (to_err) 2 else 1, buf[0..n]) catch |err| {
            broken.* = true;
            r.trim_due = true;
            // `tsd run … | head`: the CLI leaves as Docker's does, the container runs on.
            if (err == error.PIPE) try r.release(.{ .output_closed = if (to_err) .stderr else .stdout });
        };
    }

    /// At most what a pipe takes whole once it polls writable, so a write never blocks long.
    const user_write_max = 4096;

    /// Writes to the user's fd (a blocking fd shared with the user's shell: it cannot be made
    /// non-blocking) while still reading the signalfd: a user who stopped reading must not keep
    /// the monitor from forwarding a stop signal or reaping the init. Once the init has exited,
    /// a reader idle for drain_idle_ms is given up (error.TIMEDOUT).
    fn writeUser(r: *Relay, fd: sys.fd_t, bytes: []const u8) linksection(loop) !void {
        var written: usize = 0;
        var rounds: u64 = 0;
        while (written < bytes.len) : (rounds += 1) {
            assert(rounds <= bytes.len + 1_000_000); // each round writes or handles a signal
            var fds = [2]linux.pollfd{
                .{ .fd = fd, .events = linux.POLL.OUT, .revents = 0 },
                .{ .fd = r.signals, .events = linux.POLL.IN, .revents = 0 },
            };
            const timeout: i32 = if (r.exit_status != null) drain_idle_ms else -1;
            if (try sys.poll(&fds, timeout) == 0) return error.TIMEDOUT;
            if (fds[1].revents & linux.POLL.IN != 0) try r.onSignals();
            if (fds[0].revents == 0) continue;
            const len = @min(bytes.len - written, user_write_max);
            written += try sys.write(fd, bytes[written..][0..len]);
        }
    }

    noinline fn closeOutput(r: *Relay, source: Source) void {
        r.trim_due = true;
        if (r.log) |l| l.flush(if (source == .stderr) .stderr else .stdout);
        switch (source) {
            .stdout => {
                sys.close(r.stdout.?);
                r.stdout = null;
            },
            .stderr => {
                sys.close(r.stderr.?);
                r.stderr = null;
            },
            .pty => {
                r.stopInput();
                sys.close(r.pty.?);
                r.pty = null;
                if (r.sink_is_pty) r.sink = null;
            },
        }
    }

    // ---- input ---------------------------------------------------------------------------

    fn pendingLen(r: *const Relay) linksection(loop) usize {
        assert(r.pending_start <= r.pending_end);
        return r.pending_end - r.pending_start;
    }

    fn onInput(r: *Relay) linksection(loop) !void {
        assert(r.pendingLen() == 0);
        if (r.detach != null) return r.onInputDetachable();
        const n = sys.read(r.stdin.?, &r.pending) catch |err| switch (err) {
            error.AGAIN => return,
            else => 0,
        };
        r.pending_start = 0;
        r.pending_end = n;
        if (n == 0) {
            // EOF (or a read error, which ends input the same way): the container sees EOF.
            r.stdin = null;
            r.closeSinkIfDrained();
            return;
        }
        r.flushPending();
    }

    /// Input through the detach-key matcher: what it lets through goes on as usual; the
    /// whole sequence releases the user (what follows it in the read is dropped, as Docker's).
    noinline fn onInputDetachable(r: *Relay) !void {
        r.trim_due = true;
        const buf = &input_buf;
        comptime assert(detach_keys.Matcher.outMax(input_buf.len) <= chunk);
        const n = sys.read(r.stdin.?, buf) catch |err| switch (err) {
            error.AGAIN => return,
            else => 0,
        };
        const fed = if (n == 0) detach_keys.Feed{ .forward = 0, .detach = false } else r.detach.?.feed(buf[0..n], &r.pending);
        r.pending_start = 0;
        r.pending_end = fed.forward;
        if (n == 0) {
            // EOF: the container sees EOF (a pty keeps its master: closeSinkIfDrained).
            r.stdin = null;
            r.closeSinkIfDrained();
            return;
        }
        r.flushPending();
        if (fed.detach) try r.release(.detached);
    }

    /// The CLI goes (detached, or its output is closed): the user's terminal restored, fds 0-2
    /// replaced by /dev/null (no longer read or written: the user's shell and terminal are
    /// free), attach clients may type into a terminal; then the report, which ends the CLI.
    /// Without a foreground report pipe (exec, a failed start) only the output stops.
    noinline fn release(r: *Relay, why: report_mod.Line) !void {
        const report = r.report orelse return;
        if (r.released or !report.running) return;
        r.released = true;
        if (r.saved_termios) |saved| if (saved.*) |*t| {
            runtime.console.restore(0, t);
            saved.* = null;
        };
        r.user_out_broken = true;
        r.user_err_broken = true;
        r.stdin = null;
        // fd 0 leaves the epoll set by name before it names /dev/null (the terminal's entry
        // would otherwise stay, and fire, as long as the user's shell holds it open).
        try r.syncInterest();
        if (r.sink_is_pty and r.attach != null) r.attach_input = true;
        r.closeSinkIfDrained();
        try releaseUserFds();
        report.release(why);
    }

    fn flushPending(r: *Relay) linksection(loop) void {
        const sink = r.sink orelse return;
        while (r.pendingLen() > 0) {
            const n = sys.write(sink, r.pending[r.pending_start..r.pending_end]) catch |err| switch (err) {
                error.AGAIN => return,
                else => {
                    // EPIPE: the container closed its stdin; what the user types goes nowhere.
                    r.pending_start = r.pending_end;
                    r.stopInput();
                    return;
                },
            };
            r.pending_start += n;
        }
        r.closeSinkIfDrained();
    }

    /// An attach client's bytes: like the user's stdin, but its EOF only drops the client.
    noinline fn onClientInput(r: *Relay, a: *attach_mod.Server, fd: sys.fd_t, events: u32) void {
        if (events & linux.EPOLL.IN == 0 or r.pendingLen() > 0 or r.sink == null or !r.attach_input) {
            if (events & (linux.EPOLL.RDHUP | linux.EPOLL.HUP | linux.EPOLL.ERR) != 0) a.drop(fd);
            return;
        }
        const n = sys.read(fd, &r.pending) catch 0;
        if (n == 0) return a.drop(fd);
        r.pending_start = 0;
        r.pending_end = n;
        r.flushPending();
    }

    fn closeSinkIfDrained(r: *Relay) linksection(loop) void {
        if (r.stdin != null or r.pendingLen() > 0 or r.keep_sink) return;
        const sink = r.sink orelse return;
        // A pty has no EOF to give without closing the master, which would hang it up.
        if (r.sink_is_pty) return;
        sys.close(sink);
        r.sink = null;
    }

    /// No more input: the init is gone or no longer reads.
    pub fn stopInput(r: *Relay) linksection(loop) void {
        r.stdin = null;
        r.pending_start = 0;
        r.pending_end = 0;
        if (r.sink) |s| if (!r.sink_is_pty) sys.close(s);
        r.sink = null;
    }

    // ---- epoll interest ------------------------------------------------------------------

    fn syncInterest(r: *Relay) linksection(loop) !void {
        const pending = r.pendingLen() > 0;
        var want = [_]Registration{.{}} ** watch_max;
        want[0] = .{ .fd = r.signals, .events = linux.EPOLL.IN };
        want[1] = .{ .fd = r.stdout orelse -1, .events = linux.EPOLL.IN };
        want[2] = .{ .fd = r.stderr orelse -1, .events = linux.EPOLL.IN };
        want[3] = .{ .fd = r.pty orelse -1, .events = linux.EPOLL.IN | if (pending and r.sink_is_pty) @as(u32, linux.EPOLL.OUT) else 0 };
        want[4] = .{ .fd = r.stdin orelse -1, .events = if (!pending and r.sink != null) @as(u32, linux.EPOLL.IN) else 0 };
        if (r.sink) |s| if (!r.sink_is_pty) {
            assert(r.pty == null);
            want[3] = .{ .fd = s, .events = if (pending) @as(u32, linux.EPOLL.OUT) else 0 };
        };
        if (r.attach) |a| {
            for (0..attach_mod.max_clients) |i| if (a.dropped & (@as(u8, 1) << @intCast(i)) != 0) {
                r.registered[6 + i] = .{};
            };
            a.dropped = 0;
            want[5] = .{ .fd = a.listen, .events = linux.EPOLL.IN };
            const input: u32 = if (!pending and r.sink != null and r.attach_input) linux.EPOLL.IN else 0;
            for (a.clients, 0..) |c, i| want[6 + i] = .{ .fd = c, .events = linux.EPOLL.RDHUP | input };
        }
        if (r.health) |h| {
            // A closed fd left the epoll set by itself; its number may come back for the next
            // probe's pipe, which must then be added anew.
            if (h.takeClosed()) r.registered[watch_health] = .{};
            want[watch_health] = .{ .fd = h.resultFd() orelse -1, .events = linux.EPOLL.IN };
        }
        for (&r.registered, want) |*have, w| try update(r.epoll, have, w);
    }

    fn update(epoll: sys.fd_t, have: *Registration, want: Registration) linksection(loop) !void {
        const want_events: u32 = if (want.fd < 0) 0 else want.events;
        if (have.fd == want.fd and have.events == want_events) return;
        // A closed fd left the epoll set by itself; deleting it is an error we expect.
        if (have.fd >= 0 and have.events != 0) sys.epollCtl(epoll, linux.EPOLL.CTL_DEL, have.fd, 0) catch {};
        have.* = .{};
        if (want.fd >= 0 and want_events != 0) {
            try sys.epollCtl(epoll, linux.EPOLL.CTL_ADD, want.fd, want_events);
            have.* = .{ .fd = want.fd, .events = want_events };
        }
    }
};

/// fds 0-2 become /dev/null: the user's terminal or pipes are no longer held.
fn releaseUserFds() !void {
    const null_fd = try sys.open("/dev/null", .{ .ACCMODE = .RDWR, .CLOEXEC = true }, 0);
    defer sys.close(null_fd);
    assert(null_fd > 2);
    for (0..3) |i| try sys.dup3(null_fd, @intCast(i), 0);
}

/// Whether `fd` can be watched with epoll (regular files and /dev/null cannot).
pub fn pollable(epoll: sys.fd_t, fd: sys.fd_t) bool {
    sys.epollCtl(epoll, linux.EPOLL.CTL_ADD, fd, linux.EPOLL.IN) catch return false;
    sys.epollCtl(epoll, linux.EPOLL.CTL_DEL, fd, 0) catch unreachable;
    return true;
}

/// A child of the monitor (or exec helper), in the host's namespaces, that copies fd 0 to
/// `sink` until EOF or until nobody reads the pipe, and dies with its parent
/// (PR_SET_PDEATHSIG): a user's stdin that epoll cannot watch (a regular file) still reaches
/// the container as a pipe, never as the user's own file (which the container could reopen
/// through /proc/self/fd/0, read-write, or chmod).
pub fn startStdinPump(sink: sys.fd_t, d: *runtime.diag.Diag) !void {
    const parent = linux.getpid();
    const pid = sys.fork() catch |err| return d.fail(err, "fork the stdin copier", .{});
    if (pid != 0) return;
    _ = sys.prctl(.SET_PDEATHSIG, linux.SIG.KILL, 0, 0, 0) catch linux.exit_group(1);
    if (linux.getppid() != parent) linux.exit_group(1);
    // Only fd 0 and the pipe (as fd 1) stay: not the report pipe, not the user's output.
    sys.dup3(sink, 1, 0) catch linux.exit_group(1);
    sys.closeRange(2, std.math.maxInt(u32), 0) catch linux.exit_group(1);
    var buf: [64 * 1024]u8 = undefined;
    while (true) {
        const n = sys.read(0, &buf) catch linux.exit_group(0);
        if (n == 0) linux.exit_group(0);
        sys.writeAll(1, buf[0..n]) catch linux.exit_group(0);
    }
}

test "the loop's memory is bounded: its static buffers, whatever the container writes" {
    // The read buffers (output; input with detach keys) and the input kept for a slow sink.
    try std.testing.expect(@sizeOf(@TypeOf(output_buf)) + @sizeOf(@TypeOf(input_buf)) <= 128 * 1024);
    try std.testing.expect(@sizeOf(Relay) <= chunk + 4096);
    // The log: one record buffer and two line buffers (zig/monitor/log.zig).
    try std.testing.expect(log_mod.memory_max <= 160 * 1024);
    // Only whole pages beyond the first of a scratch buffer are ever given back.
    try std.testing.expect(@intFromPtr(&output_buf) % sys.page_size == 0);
}
