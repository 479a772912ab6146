//! The resolver's seccomp allowlist (dns_server.zig): once it serves, it only reads its two
//! files, polls, receives and sends datagrams, reads the clock and random bytes, and exits.
//! Anything else fails with EPERM (never a kill: a call missed here must cost an error path,
//! not every container's names); another architecture's calls kill it. Classic BPF, made at
//! compile time from the names of this architecture's table that exist (x86_64 has poll and
//! open, arm64 only ppoll and openat).
const std = @import("std");
const builtin = @import("builtin");
const linux = std.os.linux;
const sys = @import("linux").sys;

const Insn = extern struct { code: u16, jt: u8, jf: u8, k: u32 };
const Fprog = extern struct { len: u16, filter: [*]const Insn };

const audit_arch: u32 = switch (builtin.cpu.arch) {
    .x86_64 => 0xC000003E,
    .aarch64 => 0xC00000B7,
    else => @compileError("dns seccomp: no AUDIT_ARCH for this architecture"),
};

const ret_kill_process: u32 = 0x80000000;
const ret_errno: u32 = 0x00050000;
const ret_allow: u32 = 0x7fff0000;
const eperm: u32 = 1;

const names = [_][]const u8{
    "read",        "write",    "close",     "open",      "openat",     "fstatat",   "fstatat64",
    "newfstatat",  "poll",     "ppoll",     "recvfrom",  "sendto",     "getrandom", "clock_gettime",
    "exit_group",  "exit",     "rt_sigreturn", "getpid",
};

fn allowedCount() usize {
    var n: usize = 0;
    for (names) |name| {
        if (@hasField(linux.SYS, name)) n += 1;
    }
    return n;
}

const allowed_len = allowedCount();

pub const program: [allowed_len + 6]Insn = blk: {
    @setEvalBranchQuota(100_000);
    const ld_abs = linux.BPF.LD | linux.BPF.W | linux.BPF.ABS;
    const jeq = linux.BPF.JMP | linux.BPF.JEQ | linux.BPF.K;
    const ret = linux.BPF.RET | linux.BPF.K;
    var p: [allowed_len + 6]Insn = undefined;
    p[0] = .{ .code = ld_abs, .jt = 0, .jf = 0, .k = 4 }; // seccomp_data.arch
    p[1] = .{ .code = jeq, .jt = 1, .jf = 0, .k = audit_arch };
    p[2] = .{ .code = ret, .jt = 0, .jf = 0, .k = ret_kill_process };
    p[3] = .{ .code = ld_abs, .jt = 0, .jf = 0, .k = 0 }; // seccomp_data.nr
    var i: usize = 0;
    for (names) |name| {
        if (!@hasField(linux.SYS, name)) continue;
        // To the ALLOW at the end: past the rest of the list and the ERRNO.
        p[4 + i] = .{ .code = jeq, .jt = @intCast(allowed_len - i), .jf = 0, .k = @intFromEnum(@field(linux.SYS, name)) };
        i += 1;
    }
    p[4 + allowed_len] = .{ .code = ret, .jt = 0, .jf = 0, .k = ret_errno | eperm };
    p[5 + allowed_len] = .{ .code = ret, .jt = 0, .jf = 0, .k = ret_allow };
    break :blk p;
};

/// After no_new_privs (which lets an unprivileged process load a filter).
pub fn install() sys.Error!void {
    const prog: Fprog = .{ .len = program.len, .filter = &program };
    _ = try sys.check(linux.seccomp(linux.SECCOMP.SET_MODE_FILTER, 0, &prog));
}

/// What the program returns for (arch, nr): the three instructions it uses, interpreted.
fn run(arch: u32, nr: usize) u32 {
    var acc: u32 = 0;
    var pc: usize = 0;
    while (pc < program.len) : (pc += 1) {
        const insn = program[pc];
        switch (insn.code) {
            linux.BPF.LD | linux.BPF.W | linux.BPF.ABS => acc = if (insn.k == 4) arch else @intCast(nr),
            linux.BPF.JMP | linux.BPF.JEQ | linux.BPF.K => pc += if (acc == insn.k) insn.jt else insn.jf,
            linux.BPF.RET | linux.BPF.K => return insn.k,
            else => unreachable,
        }
    }
    unreachable;
}

test "the resolver's allowlist" {
    const t = std.testing;
    try t.expectEqual(ret_allow, run(audit_arch, @intFromEnum(linux.SYS.recvfrom)));
    try t.expectEqual(ret_allow, run(audit_arch, @intFromEnum(linux.SYS.sendto)));
    try t.expectEqual(ret_allow, run(audit_arch, @intFromEnum(linux.SYS.ppoll)));
    try t.expectEqual(ret_allow, run(audit_arch, @intFromEnum(linux.SYS.openat)));
    try t.expectEqual(ret_allow, run(audit_arch, @intFromEnum(linux.SYS.exit_group)));
    for ([_]linux.SYS{ .execve, .socket, .connect, .kill, .ptrace, .clone, .mount, .setns, .unshare, .bind }) |nr| {
        try t.expectEqual(ret_errno | eperm, run(audit_arch, @intFromEnum(nr)));
    }
    try t.expectEqual(ret_kill_process, run(0x40000003, @intFromEnum(linux.SYS.read)));
    try t.expect(program.len <= 64);
}
