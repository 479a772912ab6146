//! tsd-init: the `--init` of `tsd run`, Docker's docker-init (tini). The runtime execs it as
//! the container's process, bound read-only at /sbin/docker-init, with `--` and the command
//! after it. It spawns the command, forwards the signals it gets to it, reaps every child
//! that ends up with it (PID 1 of the pid namespace, or a subreaper without one), and exits
//! with the command's status: its exit code, or 128+N when signal N killed it.
//!
//! A program of its own, not a mode of tsd-monitor: the monitor is never a file on the host
//! (a sealed memfd, CVE-2019-5736; zig/CONTRACT.md), while a bind mount needs one; and this
//! needs nothing of the monitor (a few KiB static against the monitor's ~1 MiB). It only ever
//! runs inside containers, with their privileges.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("linux").sys;
const assert = std.debug.assert;

/// Signals tsd-init does not block: those the kernel raises for a fault of its own, which
/// must kill it rather than wait in a queue (tini's list). Every other signal is received
/// through the signalfd and, but for SIGCHLD, SIGTTIN and SIGTTOU, forwarded.
const synchronous = [_]u6{ linux.SIG.FPE, linux.SIG.ILL, linux.SIG.SEGV, linux.SIG.BUS, linux.SIG.ABRT, linux.SIG.TRAP, linux.SIG.SYS };

/// The status tsd-init exits with for a wait(2) status of the command: the code, or 128+N.
pub fn exitStatus(status: u32) u8 {
    if (linux.W.IFEXITED(status)) return linux.W.EXITSTATUS(status);
    if (linux.W.IFSIGNALED(status)) {
        const sig = linux.W.TERMSIG(status);
        assert(sig > 0 and sig < 128);
        return @intCast(128 + sig);
    }
    unreachable; // Only exits and kills are waited for (no WUNTRACED).
}

/// Whether a received signal goes on to the command.
pub fn forwarded(sig: u32) bool {
    assert(sig > 0 and sig < linux.NSIG);
    return switch (sig) {
        linux.SIG.CHLD, linux.SIG.TTIN, linux.SIG.TTOU => false,
        else => true,
    };
}

/// The command of `tsd-init [--] COMMAND [ARG...]`: argv from the first word after `--`.
pub fn commandStart(argv: []const [*:0]const u8) ?usize {
    if (argv.len < 2) return null;
    const first: usize = if (std.mem.eql(u8, std.mem.span(argv[1]), "--")) 2 else 1;
    return if (first < argv.len) first else null;
}

/// All signals but the synchronous ones.
fn blockedSet() linux.sigset_t {
    var set = linux.sigfillset();
    for (synchronous) |sig| {
        if (linux.sigismember(&set, sig)) linux.sigdelset(&set, sig);
    }
    return set;
}

pub fn main() u8 {
    const argv = std.os.argv;
    const start = commandStart(argv) orelse {
        fatal("usage: tsd-init [--] COMMAND [ARG...]", .{});
        return 1;
    };
    return run(argv[start..]) catch |err| {
        fatal("{s}", .{@errorName(err)});
        return 1;
    };
}

fn run(command: []const [*:0]const u8) !u8 {
    assert(command.len > 0);
    // Not PID 1 (--pid host, or a shared pid namespace): orphans still come to us.
    if (linux.getpid() != 1) _ = try sys.prctl(.SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    const blocked = blockedSet();
    var original: linux.sigset_t = undefined;
    try sys.sigprocmask(linux.SIG.SETMASK, &blocked, &original);
    // Blocked before the fork: a command that ends at once leaves its SIGCHLD pending here.
    const signals = try sys.check(linux.signalfd(-1, &blocked, linux.SFD.CLOEXEC));
    defer sys.close(@intCast(signals));
    const child = try sys.fork();
    if (child == 0) spawn(command, &original);
    return supervise(@intCast(signals), child);
}

/// The child: its own process group, the terminal's foreground group when stdin is one (so a
/// Ctrl-C reaches the command, as under tini), the original mask, then the command.
fn spawn(command: []const [*:0]const u8, original: *const linux.sigset_t) noreturn {
    _ = linux.setpgid(0, 0);
    // SIGTTOU is still blocked here, so a background group may take the terminal.
    if (std.posix.isatty(0)) {
        const self = linux.getpid();
        _ = linux.tcsetpgrp(0, &self);
    }
    sys.sigprocmask(linux.SIG.SETMASK, original, null) catch {};
    // Both are tails of the kernel's own arrays, which end in a null pointer.
    const argv: [*:null]const ?[*:0]const u8 = @ptrCast(command.ptr);
    const envp: [*:null]const ?[*:0]const u8 = @ptrCast(std.os.environ.ptr);
    const err = std.posix.execvpeZ(command[0], argv, envp);
    fatal("cannot exec \"{s}\": {s}", .{ command[0], switch (err) {
        error.FileNotFound, error.NotDir => "no such file or directory",
        error.AccessDenied => "permission denied",
        else => @errorName(err),
    } });
    linux.exit_group(switch (err) {
        error.FileNotFound, error.NotDir => 127,
        else => 126,
    });
}

/// Forwards signals to `child` and reaps until it has exited; returns its status.
fn supervise(signals: sys.fd_t, child: linux.pid_t) !u8 {
    assert(child > 0);
    while (true) {
        var info: linux.signalfd_siginfo = undefined;
        const n = sys.read(signals, std.mem.asBytes(&info)) catch |err| switch (err) {
            error.INTR => continue,
            else => return err,
        };
        assert(n == @sizeOf(linux.signalfd_siginfo));
        if (info.signo != linux.SIG.CHLD) {
            if (forwarded(info.signo)) sys.kill(child, @intCast(info.signo)) catch {}; // ESRCH: gone
            continue;
        }
        if (try reap(child)) |status| return exitStatus(status);
    }
}

/// Reaps every child that has ended (orphans included); the command's status when it was one.
/// Bounded: one SIGCHLD may stand for many children, so this runs until none is left.
fn reap(child: linux.pid_t) !?u32 {
    var found: ?u32 = null;
    var reaped: usize = 0;
    const max_per_signal = 1 << 20; // a pid namespace holds at most 4 Mi pids; ends far before
    while (reaped < max_per_signal) : (reaped += 1) {
        const r = sys.waitpid(-1, linux.W.NOHANG) catch |err| switch (err) {
            error.CHILD => return found,
            else => return err,
        };
        if (r.pid == 0) return found;
        if (r.pid == child) found = r.status;
    }
    return found;
}

fn fatal(comptime fmt: []const u8, args: anytype) void {
    var buf: [512]u8 = undefined;
    const line = std.fmt.bufPrint(&buf, "tsd-init: " ++ fmt ++ "\n", args) catch "tsd-init: (message too long)\n";
    sys.writeAll(2, line) catch {};
}

test "exit status: the code, or 128+N for signal N" {
    try std.testing.expectEqual(@as(u8, 0), exitStatus(0));
    try std.testing.expectEqual(@as(u8, 3), exitStatus(3 << 8));
    try std.testing.expectEqual(@as(u8, 128 + 15), exitStatus(linux.SIG.TERM));
    try std.testing.expectEqual(@as(u8, 128 + 9), exitStatus(linux.SIG.KILL | 0x80)); // core dumped
}

test "forwarded signals" {
    try std.testing.expect(forwarded(linux.SIG.TERM));
    try std.testing.expect(forwarded(linux.SIG.INT));
    try std.testing.expect(forwarded(linux.SIG.HUP));
    try std.testing.expect(forwarded(linux.SIG.USR1));
    try std.testing.expect(forwarded(linux.SIG.USR2));
    try std.testing.expect(forwarded(linux.SIG.WINCH));
    try std.testing.expect(!forwarded(linux.SIG.CHLD));
    try std.testing.expect(!forwarded(linux.SIG.TTOU));
}

test "the command after --" {
    const a = [_][*:0]const u8{ "/sbin/docker-init", "--", "sh", "-c", "x" };
    try std.testing.expectEqual(@as(?usize, 2), commandStart(&a));
    const b = [_][*:0]const u8{ "/sbin/docker-init", "sh" };
    try std.testing.expectEqual(@as(?usize, 1), commandStart(&b));
    const c = [_][*:0]const u8{ "/sbin/docker-init", "--" };
    try std.testing.expectEqual(@as(?usize, null), commandStart(&c));
    try std.testing.expectEqual(@as(?usize, null), commandStart(a[0..1]));
}

test "the blocked set keeps the synchronous signals deliverable" {
    const set = blockedSet();
    for (synchronous) |sig| try std.testing.expect(!linux.sigismember(&set, sig));
    try std.testing.expect(linux.sigismember(&set, linux.SIG.TERM));
    try std.testing.expect(linux.sigismember(&set, linux.SIG.CHLD));
}
