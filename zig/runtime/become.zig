//! The last steps of every process tsd starts in a container, the init's and an exec's alike
//! (youki's "tenant" shares the init's path the same way): rlimits, close-on-exec above fd 2
//! (and the preserved fds), signals unblocked and back to their defaults, seccomp (before the
//! capabilities go when no_new_privs is off, since loading a filter then needs CAP_SYS_ADMIN;
//! as late as possible otherwise, so the fewest of our own calls face the container's profile),
//! HOME from the container's /etc/passwd when the spec sets none (as runc and crun), the
//! bounding set, the user, the capability sets, no_new_privs, umask, the working directory,
//! the PATH lookup, then execve. The caller has
//! set up stdio. Only reads the Spec (but for the HOME slot in envp): no allocation.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("linux").sys;
const Diag = @import("diag.zig").Diag;
const spec = @import("spec.zig");
const rlimits = @import("rlimits.zig");
const user = @import("user.zig");
const caps = @import("caps.zig");
const exec = @import("exec.zig");
const seccomp = @import("seccomp.zig");
const hooks = @import("hooks.zig");

/// Returns only with an error, its Docker status and message in `d`; success is execve.
/// `start_hooks`: the init's startContainer hooks, run last before execve, filtered and as the user.
pub fn become(s: *const spec.Spec, last_cap: u6, start_hooks: ?hooks.Step, d: *Diag) anyerror {
    const p = &s.process;
    try rlimits.apply(p.rlimits[0..p.rlimits_len], d);
    // Before any filter: a profile need not allow close_range or rt_sigaction (runtime-tools'
    // default one does not); every fd opened from here on is close-on-exec anyway.
    try finalFds(s.preserve_fds, d);
    // Still privileged and unfiltered: the container's /etc/passwd (runc's and crun's HOME).
    user.defaultHome(p);
    // runc's order: the working directory first, with the runtime's own rights (a root exec
    // into a cwd only its owner may enter: CAP_DAC_OVERRIDE is gone later), and once more as
    // the user when that was refused (a cwd only the container's user may enter).
    const chdir_again = try chdirFirst(p.cwd, d);
    if (p.terminal) try user.chownTerminal(p.uid, d);
    const seccomp_early = s.seccomp.present() and !p.no_new_privileges;
    if (seccomp_early) try seccomp.install(&s.seccomp, d);
    try becomeUser(p, last_cap, d);
    _ = sys.umask(p.umask orelse 0o022);
    if (chdir_again) sys.chdir(p.cwd) catch |err| return d.fail(err, "chdir to \"{s}\"", .{p.cwd});
    var path_buf: [spec.limits.path]u8 = undefined;
    const file = try exec.resolve(p.arg0(), p.getenv("PATH"), &path_buf, d);
    if (s.seccomp.present() and !seccomp_early) try seccomp.install(&s.seccomp, d);
    if (start_hooks) |h| try h.run(s, d);
    return exec.exec(file, p, d);
}

/// true: permission denied, to be tried again as the user.
fn chdirFirst(cwd: [:0]const u8, d: *Diag) !bool {
    sys.chdir(cwd) catch |err| switch (err) {
        error.ACCES, error.PERM => return true,
        else => return d.fail(err, "chdir to \"{s}\"", .{cwd}),
    };
    return false;
}

fn becomeUser(p: *const spec.Process, last_cap: u6, d: *Diag) !void {
    if (p.caps) |c| try caps.applyBounding(c, last_cap, d);
    try user.switchUser(p, d);
    if (p.caps) |c| try caps.applySets(c, last_cap, d);
    if (p.no_new_privileges) {
        _ = sys.prctl(.SET_NO_NEW_PRIVS, 1, 0, 0, 0) catch |err| return d.fail(err, "set no_new_privs", .{});
    }
}

/// Nothing of ours reaches the program: fds above 2 (and the preserved ones, --preserve-fds)
/// close on exec, no signal stays blocked.
fn finalFds(preserve: u32, d: *Diag) !void {
    sys.closeRange(3 + preserve, std.math.maxInt(u32), sys.CLOSE_RANGE_CLOEXEC) catch |err| return d.fail(err, "close_range", .{});
    const none = linux.sigemptyset();
    sys.sigprocmask(linux.SIG.SETMASK, &none, null) catch |err| return d.fail(err, "unblock signals", .{});
    // An ignored signal stays ignored across execve: the engine's (Bun ignores SIGQUIT, the
    // monitor SIGPIPE in places) must not reach the program.
    const dfl: linux.Sigaction = .{ .handler = .{ .handler = linux.SIG.DFL }, .mask = none, .flags = 0 };
    var sig: u8 = 1;
    while (sig < 64) : (sig += 1) {
        if (sig == linux.SIG.KILL or sig == linux.SIG.STOP) continue;
        _ = linux.sigaction(sig, &dfl, null);
    }
}
