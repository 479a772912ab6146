//! Seccomp: the spec's `linux.seccomp` → a classic BPF program, parsed and compiled in the
//! monitor BEFORE clone (the init only installs the finished program: no allocation, no
//! parsing after clone). Semantics follow runc + libseccomp where the runtime-spec is silent:
//!
//! - syscall names unknown to an architecture are skipped (libseccomp does the same);
//! - a rule naming the same argument twice becomes one rule per comparison, ORed (runc);
//! - a rule whose action equals the default action is dropped (runc: libseccomp refuses it);
//! - when several rules of one syscall match, the most restrictive action wins, in the
//!   kernel's precedence (KILL_PROCESS > KILL_THREAD > TRAP > ERRNO > TRACE > LOG > ALLOW);
//! - an architecture the filter does not cover is killed (libseccomp's bad-arch action).
//!
//! The program is a binary search over the syscall number per architecture, in ranges of
//! neighbouring numbers that decide alike: Docker's default profile is ~285 instructions
//! (1502 with one case per call), and a call pays about log2(ranges) + 4 comparisons.
const std = @import("std");
const builtin = @import("builtin");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;
const diag = @import("diag.zig");
const Diag = diag.Diag;

const SECCOMP = linux.SECCOMP;
const RET = SECCOMP.RET;

pub const limits = struct {
    /// `syscalls[]` entries, after splitting rules that compare one argument twice.
    pub const rules = 1024;
    /// (rule, syscall name) pairs over all rules.
    pub const calls = 4096;
    /// seccomp_data carries six arguments.
    pub const args = 6;
    /// BPF_MAXINSNS: the kernel refuses longer classic programs.
    pub const program = 4096;
    /// A classic conditional jump reaches at most this many instructions ahead.
    const jump = 255;
    /// Ranges of one architecture's number line: its calls and the gaps around them.
    const ranges: usize = 2 * table_len + 1;
};

/// The most calls an architecture's table (native or compat) has.
const table_len: usize = @max(
    @typeInfo(native.Table).@"enum".fields.len,
    if (compat) |c| @typeInfo(c.Table).@"enum".fields.len else 0,
);

comptime {
    // The argument words are read as lo at +0, hi at +4.
    assert(builtin.cpu.arch.endian() == .little);
}

/// struct sock_filter.
pub const Insn = extern struct { code: u16, jt: u8, jf: u8, k: u32 };

/// struct sock_fprog.
const Fprog = extern struct { len: u16, filter: [*]const Insn };

/// The compiled filter, ready to install; `len == 0` means "no seccomp".
pub const Program = struct {
    insns: [limits.program]Insn = undefined,
    len: usize = 0,
    /// SECCOMP_FILTER_FLAG_*.
    flags: u32 = 0,

    pub fn present(p: *const Program) bool {
        return p.len > 0;
    }

    pub fn code(p: *const Program) []const Insn {
        return p.insns[0..p.len];
    }
};

pub const Op = enum { ne, lt, le, eq, ge, gt, masked_eq };

pub const Cmp = struct {
    index: u3,
    op: Op,
    value: u64,
    /// The datum of masked_eq (`value` is the mask there, as in libseccomp and runc).
    value_two: u64 = 0,
};

pub const Rule = struct {
    /// SECCOMP_RET_* with its data (the errno for ERRNO).
    ret: u32,
    args: [limits.args]Cmp = undefined,
    args_len: u8 = 0,

    pub fn conditions(r: *const Rule) []const Cmp {
        return r.args[0..r.args_len];
    }
};

/// One syscall of one rule, as numbers on each architecture the filter covers.
pub const Call = struct { rule: u16, native: ?u32, compat: ?u32 };

/// The profile after parsing: numbers, not names. Large (~220 KiB): built in scratch memory.
pub const Filter = struct {
    default_ret: u32,
    /// The compat ABI (i386 on x86_64, arm on aarch64) is listed in `architectures`.
    compat: bool = false,
    /// x32 (x86_64 numbers with bit 30 set) is listed: its calls get the default action.
    x32: bool = false,
    flags: u32 = 0,
    rules: [limits.rules]Rule = undefined,
    rules_len: usize = 0,
    calls: [limits.calls]Call = undefined,
    calls_len: usize = 0,
    /// The highest syscall number the profile names on each ABI, any rule (runc's -ENOSYS stub).
    last_native: ?u32 = null,
    last_compat: ?u32 = null,
};

// ---- architectures -------------------------------------------------------------------------

const Arch = struct {
    audit: u32,
    /// Syscall names → numbers of this ABI.
    Table: type,
    /// libseccomp's name of it.
    name: []const u8,
};

/// AUDIT_ARCH_* (linux/audit.h): EM_* | 64-bit | little-endian. Spelled out because
/// std.os.linux.AUDIT.ARCH does not compile in Zig 0.15.
const audit = struct {
    const x86_64: u32 = 0xC000003E;
    const x86: u32 = 0x40000003;
    const aarch64: u32 = 0xC00000B7;
    const arm: u32 = 0x40000028;
};

const native: Arch = switch (builtin.cpu.arch) {
    .x86_64 => .{ .audit = audit.x86_64, .Table = linux.syscalls.X64, .name = "SCMP_ARCH_X86_64" },
    .aarch64 => .{ .audit = audit.aarch64, .Table = linux.syscalls.Arm64, .name = "SCMP_ARCH_AARCH64" },
    else => @compileError("seccomp: no AUDIT_ARCH for this architecture yet"),
};

const compat: ?Arch = switch (builtin.cpu.arch) {
    .x86_64 => .{ .audit = audit.x86, .Table = linux.syscalls.X86, .name = "SCMP_ARCH_X86" },
    .aarch64 => .{ .audit = audit.arm, .Table = linux.syscalls.Arm, .name = "SCMP_ARCH_ARM" },
    else => null,
};

/// x32 shares AUDIT_ARCH_X86_64 and marks its calls with this bit (__X32_SYSCALL_BIT).
const x32_bit: u32 = 0x40000000;
const has_x32 = builtin.cpu.arch == .x86_64;

/// What reaches a process on an ABI the filter does not describe.
pub const bad_arch_ret: u32 = RET.KILL_PROCESS;

/// Where Zig's tables spell a call differently from the kernel (and libseccomp, and every
/// profile): { kernel name, Zig's tag }. Zig's spelling alone does not resolve, as libseccomp
/// would not know it (x86_64's "fstatat64" is an i386-only name there). Checked against
/// libseccomp 2.5.4's seccomp_syscall_resolve_num_arch for every number of the four tables:
/// these are all the differences, but for calls newer than that libseccomp.
fn renamed(comptime Table: type) []const [2][]const u8 {
    if (Table == linux.syscalls.X64) return &.{ .{ "newfstatat", "fstatat64" }, .{ "_sysctl", "sysctl" } };
    if (Table == linux.syscalls.X86) return &.{ .{ "_llseek", "llseek" }, .{ "_newselect", "newselect" }, .{ "_sysctl", "sysctl" } };
    // 79 is "newfstatat" to libseccomp, runc and every arm64 profile: one naming only that
    // would have denied glibc's fstatat, and "fstatat64" (a 32-bit name) would have hit it.
    if (Table == linux.syscalls.Arm64) return &.{.{ "newfstatat", "fstatat64" }};
    // Docker's profile allows arm_fadvise64_64 and arm_sync_file_range to 32-bit arm programs.
    if (Table == linux.syscalls.Arm) return &.{
        .{ "_llseek", "llseek" },                .{ "_newselect", "newselect" },                .{ "_sysctl", "sysctl" },
        .{ "arm_fadvise64_64", "fadvise64_64" }, .{ "arm_sync_file_range", "sync_file_range" },
    };
    return &.{};
}

fn syscallNumber(comptime Table: type, name: []const u8) ?u32 {
    var tag = name;
    for (renamed(Table)) |r| {
        if (std.mem.eql(u8, name, r[1])) return null;
        if (std.mem.eql(u8, name, r[0])) tag = r[1];
    }
    const calls = comptime byName(Table);
    const at = std.sort.binarySearch(NamedCall, calls, tag, orderName) orelse return null;
    return calls[at].nr;
}

const NamedCall = struct { name: []const u8, nr: u32 };

fn orderName(name: []const u8, call: NamedCall) std.math.Order {
    return std.mem.order(u8, name, call.name);
}

fn nameLess(_: void, a: NamedCall, b: NamedCall) bool {
    return std.mem.lessThan(u8, a.name, b.name);
}

/// Zig's table of an architecture as (name, number) sorted by name, built at compile time.
/// std.meta.stringToEnum compares a name with every tag in turn for enums over 100 fields:
/// Docker's ~370 names against two tables of ~450 was 1.1 ms of every container's start.
fn byName(comptime Table: type) []const NamedCall {
    const fields = @typeInfo(Table).@"enum".fields;
    @setEvalBranchQuota(fields.len * 4000);
    var calls: [fields.len]NamedCall = undefined;
    for (fields, 0..) |f, i| calls[i] = .{ .name = f.name, .nr = f.value };
    std.sort.pdq(NamedCall, &calls, {}, nameLess);
    for (calls[1..], calls[0 .. calls.len - 1]) |x, prev| assert(nameLess({}, prev, x));
    const sorted = calls;
    return &sorted;
}

/// The kernel's name of a call of Zig's table (the inverse of the renaming above).
fn kernelName(comptime Table: type, call: Table) []const u8 {
    const tag = @tagName(call);
    for (renamed(Table)) |r| if (std.mem.eql(u8, tag, r[1])) return r[0];
    return tag;
}

// ---- the runtime-spec's JSON shape ---------------------------------------------------------

pub const RawArg = struct { index: u32, value: u64, valueTwo: u64 = 0, op: []const u8 };

pub const RawSyscall = struct {
    names: []const []const u8,
    action: []const u8,
    errnoRet: ?u32 = null,
    args: []const RawArg = &.{},
};

pub const Raw = struct {
    defaultAction: []const u8,
    defaultErrnoRet: ?u32 = null,
    architectures: []const []const u8 = &.{},
    flags: []const []const u8 = &.{},
    listenerPath: ?[]const u8 = null,
    syscalls: []const RawSyscall = &.{},
};

fn invalid(d: *Diag, comptime fmt: []const u8, args: anytype) error{InvalidSpec} {
    d.set(diag.status_engine, "invalid OCI spec: linux.seccomp: " ++ fmt, args);
    return error.InvalidSpec;
}

/// Parses and compiles `raw` into `out`. `scratch` holds the intermediate Filter.
pub fn build(out: *Program, raw: Raw, scratch: std.mem.Allocator, d: *Diag) !void {
    const f = scratch.create(Filter) catch return invalid(d, "out of parse memory", .{});
    defer scratch.destroy(f);
    try parse(f, raw, d);
    compile(f, out) catch |err| switch (err) {
        error.ProgramTooLong => return invalid(d, "the profile compiles to more than {d} BPF instructions (the kernel's limit): merge rules or use fewer argument conditions", .{limits.program}),
    };
}

pub fn parse(f: *Filter, raw: Raw, d: *Diag) !void {
    const default_errno = raw.defaultErrnoRet orelse 1;
    f.* = .{ .default_ret = try actionRet(raw.defaultAction, default_errno, d) };
    if (raw.listenerPath != null) return invalid(d, "listenerPath (SCMP_ACT_NOTIFY) is not supported", .{});
    for (raw.architectures) |a| {
        if (compat) |c| if (std.mem.eql(u8, a, c.name)) {
            f.compat = true;
        };
        if (has_x32 and std.mem.eql(u8, a, "SCMP_ARCH_X32")) f.x32 = true;
        // Others (mips, s390…) cannot run on this kernel: nothing to filter.
    }
    for (raw.flags) |name| f.flags |= try flagBit(name, d);
    for (raw.syscalls) |sc| try parseSyscall(f, sc, d);
}

fn flagBit(name: []const u8, d: *Diag) !u32 {
    const F = SECCOMP.FILTER_FLAG;
    const table = [_]struct { []const u8, u32 }{
        .{ "SECCOMP_FILTER_FLAG_TSYNC", F.TSYNC },
        .{ "SECCOMP_FILTER_FLAG_LOG", F.LOG },
        .{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", F.SPEC_ALLOW },
    };
    for (table) |e| if (std.mem.eql(u8, e[0], name)) return e[1];
    return invalid(d, "unsupported flag \"{s}\"", .{name});
}

fn actionRet(name: []const u8, errno_ret: u32, d: *Diag) !u32 {
    if (errno_ret > 4095) return invalid(d, "errno {d} is out of range (1..4095)", .{errno_ret});
    const table = [_]struct { []const u8, u32 }{
        .{ "SCMP_ACT_ALLOW", RET.ALLOW },
        .{ "SCMP_ACT_ERRNO", RET.ERRNO | errno_ret },
        .{ "SCMP_ACT_KILL", RET.KILL_THREAD },
        .{ "SCMP_ACT_KILL_THREAD", RET.KILL_THREAD },
        .{ "SCMP_ACT_KILL_PROCESS", RET.KILL_PROCESS },
        .{ "SCMP_ACT_TRAP", RET.TRAP },
        .{ "SCMP_ACT_TRACE", RET.TRACE | errno_ret },
        .{ "SCMP_ACT_LOG", RET.LOG },
    };
    for (table) |e| if (std.mem.eql(u8, e[0], name)) return e[1];
    if (std.mem.eql(u8, name, "SCMP_ACT_NOTIFY")) return invalid(d, "SCMP_ACT_NOTIFY is not supported", .{});
    return invalid(d, "unknown action \"{s}\"", .{name});
}

fn opByName(name: []const u8) ?Op {
    const table = [_]struct { []const u8, Op }{
        .{ "SCMP_CMP_NE", .ne },               .{ "SCMP_CMP_LT", .lt }, .{ "SCMP_CMP_LE", .le },
        .{ "SCMP_CMP_EQ", .eq },               .{ "SCMP_CMP_GE", .ge }, .{ "SCMP_CMP_GT", .gt },
        .{ "SCMP_CMP_MASKED_EQ", .masked_eq },
    };
    for (table) |e| if (std.mem.eql(u8, e[0], name)) return e[1];
    return null;
}

fn parseSyscall(f: *Filter, sc: RawSyscall, d: *Diag) !void {
    // runc: an unset errnoRet is EPERM.
    const ret = try actionRet(sc.action, sc.errnoRet orelse 1, d);
    for (sc.names) |name| noteLast(f, name);
    if (ret == f.default_ret) return;
    if (sc.args.len > limits.args) return invalid(d, "a rule has {d} argument conditions (at most {d})", .{ sc.args.len, limits.args });
    var cmps: [limits.args]Cmp = undefined;
    var seen: u8 = 0;
    var repeated = false;
    for (sc.args, 0..) |a, i| {
        if (a.index >= limits.args) return invalid(d, "argument index {d} is out of range (0..5)", .{a.index});
        const op = opByName(a.op) orelse return invalid(d, "unknown operator \"{s}\"", .{a.op});
        const bit = @as(u8, 1) << @intCast(a.index);
        if (seen & bit != 0) repeated = true;
        seen |= bit;
        cmps[i] = .{ .index = @intCast(a.index), .op = op, .value = a.value, .value_two = a.valueTwo };
    }
    if (repeated) {
        for (cmps[0..sc.args.len]) |c| try addRule(f, ret, &.{c}, sc.names, d);
    } else {
        try addRule(f, ret, cmps[0..sc.args.len], sc.names, d);
    }
}

fn noteLast(f: *Filter, name: []const u8) void {
    if (syscallNumber(native.Table, name)) |nr| f.last_native = @max(f.last_native orelse 0, nr);
    if (compat) |c| if (f.compat) if (syscallNumber(c.Table, name)) |nr| {
        f.last_compat = @max(f.last_compat orelse 0, nr);
    };
}

fn addRule(f: *Filter, ret: u32, cmps: []const Cmp, names: []const []const u8, d: *Diag) !void {
    if (f.rules_len == limits.rules) return invalid(d, "more than {d} rules", .{limits.rules});
    const index: u16 = @intCast(f.rules_len);
    const rule = &f.rules[f.rules_len];
    rule.* = .{ .ret = ret, .args_len = @intCast(cmps.len) };
    @memcpy(rule.args[0..cmps.len], cmps);
    f.rules_len += 1;
    for (names) |name| {
        const nr_native = syscallNumber(native.Table, name);
        const nr_compat: ?u32 = if (compat) |c| (if (f.compat) syscallNumber(c.Table, name) else null) else null;
        if (nr_native == null and nr_compat == null) continue;
        if (f.calls_len == limits.calls) return invalid(d, "more than {d} syscall names", .{limits.calls});
        f.calls[f.calls_len] = .{ .rule = index, .native = nr_native, .compat = nr_compat };
        f.calls_len += 1;
    }
}

// ---- the compiler --------------------------------------------------------------------------

const bpf = struct {
    const ld_abs: u16 = linux.BPF.LD | linux.BPF.W | linux.BPF.ABS;
    const and_k: u16 = linux.BPF.ALU | linux.BPF.AND | linux.BPF.K;
    const ja: u16 = linux.BPF.JMP | linux.BPF.JA;
    const jeq: u16 = linux.BPF.JMP | linux.BPF.JEQ | linux.BPF.K;
    const jgt: u16 = linux.BPF.JMP | linux.BPF.JGT | linux.BPF.K;
    const jge: u16 = linux.BPF.JMP | linux.BPF.JGE | linux.BPF.K;
    const ret_k: u16 = linux.BPF.RET | linux.BPF.K;
};

const offset_nr = @offsetOf(SECCOMP.data, "nr");
const offset_arch = @offsetOf(SECCOMP.data, "arch");
const offset_args = @offsetOf(SECCOMP.data, "arg0");

/// A position in the program, counted from its end: the count of instructions emitted when
/// it was. Stable while the program grows backwards.
const Label = usize;

/// Emits the program back to front, so every jump target already exists when the jump is
/// written and its distance is known; a target out of a conditional jump's reach gets a
/// trampoline right before the jump (a copy of a `ret`, or a `ja`). The approach of
/// Chromium's seccomp-bpf CodeGen.
const Builder = struct {
    out: *[limits.program]Insn,
    count: usize = 0,
    /// The nearest `ret` of each value seen, so jumps share them.
    rets: [8]struct { ret: u32, at: Label } = undefined,
    rets_len: usize = 0,

    fn emit(b: *Builder, insn: Insn) error{ProgramTooLong}!Label {
        if (b.count == limits.program) return error.ProgramTooLong;
        b.count += 1;
        b.out[limits.program - b.count] = insn;
        return b.count;
    }

    fn at(b: *const Builder, l: Label) Insn {
        assert(l > 0 and l <= b.count);
        return b.out[limits.program - l];
    }

    /// Distance from the next instruction to be emitted to `l` (the jump offset it needs).
    fn distance(b: *const Builder, l: Label) usize {
        assert(l <= b.count);
        return b.count - l;
    }

    fn ret(b: *Builder, value: u32) !Label {
        for (b.rets[0..b.rets_len]) |r| if (r.ret == value) return r.at;
        return b.newRet(value);
    }

    fn newRet(b: *Builder, value: u32) !Label {
        const l = try b.emit(.{ .code = bpf.ret_k, .jt = 0, .jf = 0, .k = value });
        for (b.rets[0..b.rets_len]) |*r| if (r.ret == value) {
            r.at = l;
            return l;
        };
        if (b.rets_len < b.rets.len) {
            b.rets[b.rets_len] = .{ .ret = value, .at = l };
            b.rets_len += 1;
        }
        return l;
    }

    /// A label within a conditional jump's reach that behaves as `l`.
    fn reach(b: *Builder, l: Label) !Label {
        if (b.distance(l) <= limits.jump) return l;
        const target = b.at(l);
        if (target.code == bpf.ret_k) return b.newRet(target.k);
        const far = b.distance(l);
        return b.emit(.{ .code = bpf.ja, .jt = 0, .jf = 0, .k = @intCast(far) });
    }

    /// A label the instruction emitted next falls through to, behaving as `l`.
    fn fallTo(b: *Builder, l: Label) !Label {
        if (l == b.count) return l;
        const target = b.at(l);
        if (target.code == bpf.ret_k) return b.newRet(target.k);
        return b.emit(.{ .code = bpf.ja, .jt = 0, .jf = 0, .k = @intCast(b.distance(l)) });
    }

    fn jump(b: *Builder, op: u16, k: u32, on_true: Label, on_false: Label) !Label {
        var t = try b.reach(on_true);
        const f = try b.reach(on_false);
        // A trampoline for `f` moved `t` one further away.
        t = try b.reach(t);
        assert(b.distance(t) <= limits.jump and b.distance(f) <= limits.jump);
        return b.emit(.{ .code = op, .jt = @intCast(b.distance(t)), .jf = @intCast(b.distance(f)), .k = k });
    }

    fn load(b: *Builder, offset: u32) !Label {
        return b.emit(.{ .code = bpf.ld_abs, .jt = 0, .jf = 0, .k = offset });
    }

    fn andK(b: *Builder, mask: u32) !Label {
        return b.emit(.{ .code = bpf.and_k, .jt = 0, .jf = 0, .k = mask });
    }
};

fn lo(v: u64) u32 {
    return @truncate(v);
}

fn hi(v: u64) u32 {
    return @truncate(v >> 32);
}

/// One 64-bit comparison as two 32-bit halves: the high words decide unless they are equal.
fn condition(b: *Builder, c: Cmp, on_true: Label, on_false: Label) !Label {
    const arg: u32 = offset_args + 8 * @as(u32, c.index);
    const lo_at = arg;
    const hi_at = arg + 4;
    switch (c.op) {
        .eq, .ne => {
            const t = if (c.op == .eq) on_true else on_false;
            const f = if (c.op == .eq) on_false else on_true;
            _ = try b.jump(bpf.jeq, lo(c.value), t, f);
            const low = try b.load(lo_at);
            _ = try b.jump(bpf.jeq, hi(c.value), low, f);
            return b.load(hi_at);
        },
        .masked_eq => {
            _ = try b.jump(bpf.jeq, lo(c.value_two), on_true, on_false);
            _ = try b.andK(lo(c.value));
            const low = try b.load(lo_at);
            _ = try b.jump(bpf.jeq, hi(c.value_two), low, on_false);
            _ = try b.andK(hi(c.value));
            return b.load(hi_at);
        },
        .gt, .ge => {
            _ = try b.jump(if (c.op == .gt) bpf.jgt else bpf.jge, lo(c.value), on_true, on_false);
            const low = try b.load(lo_at);
            const equal = try b.jump(bpf.jeq, hi(c.value), low, on_false);
            _ = try b.jump(bpf.jgt, hi(c.value), on_true, equal);
            return b.load(hi_at);
        },
        .lt, .le => {
            // lt: !(lo >= v), le: !(lo > v).
            _ = try b.jump(if (c.op == .lt) bpf.jge else bpf.jgt, lo(c.value), on_false, on_true);
            const low = try b.load(lo_at);
            const equal = try b.jump(bpf.jeq, hi(c.value), low, on_true);
            _ = try b.jump(bpf.jgt, hi(c.value), on_false, equal);
            return b.load(hi_at);
        },
    }
}

/// The rules of one syscall in order: the first whose conditions all hold decides.
fn ruleChain(b: *Builder, f: *const Filter, rules: []const u16, default_ret: Label) !Label {
    // Rules after an unconditional one can never decide.
    var n: usize = 0;
    while (n < rules.len) {
        n += 1;
        if (f.rules[rules[n - 1]].args_len == 0) break;
    }
    var next = default_ret;
    var i = n;
    while (i > 0) {
        i -= 1;
        const rule = &f.rules[rules[i]];
        var ok = try b.ret(rule.ret);
        var j = rule.args_len;
        while (j > 0) {
            j -= 1;
            ok = try condition(b, rule.args[j], ok, next);
        }
        next = ok;
    }
    return next;
}

/// Kernel precedence: the lowest (signed) action value is the most restrictive.
fn precedence(ret: u32) i32 {
    return @bitCast(ret & RET.ACTION_FULL);
}

const Entry = struct { nr: u32, rule: u16, rank: i32 };

fn entryLess(_: void, a: Entry, x: Entry) bool {
    if (a.nr != x.nr) return a.nr < x.nr;
    if (a.rank != x.rank) return a.rank < x.rank;
    return a.rule < x.rule;
}

/// The numbers from `start` up to the next range's start, which all decide alike: by the same
/// rules (`rules_len` of them at `rules_at` in the section's list), or by the default (none).
const Range = struct { start: u32, rules_at: u32, rules_len: u32, at: Label = 0 };

/// The ranges' decision tree: a binary search over their starts, the syscall number in A.
/// A run of calls with the same rules (most of an allowlist) is one range, so the tree is
/// about 2 × ranges long, not 2 × calls, and a call pays log2(ranges) comparisons.
fn dispatch(b: *Builder, ranges: []const Range) !Label {
    assert(ranges.len > 0);
    if (ranges.len == 1) return ranges[0].at;
    const mid = ranges.len / 2;
    const upper = try dispatch(b, ranges[mid..]);
    const lower = try dispatch(b, ranges[0..mid]);
    return b.jump(bpf.jge, ranges[mid].start, upper, lower);
}

/// The rules that can decide a call, in order: those after an unconditional one never do.
fn deciding(f: *const Filter, rules: []const u16) []const u16 {
    for (rules, 0..) |r, i| if (f.rules[r].args_len == 0) return rules[0 .. i + 1];
    return rules;
}

/// Whether two calls' rule lists decide every call alike: the same rules, or unconditional
/// ones returning the same.
fn sameRules(f: *const Filter, a: []const u16, x: []const u16) bool {
    if (a.len != x.len) return false;
    for (a, x) |ra, rx| {
        if (ra == rx) continue;
        if (f.rules[ra].args_len != 0 or f.rules[rx].args_len != 0) return false;
        if (f.rules[ra].ret != f.rules[rx].ret) return false;
    }
    return true;
}

/// The ranges a section's number line splits into, from 0: the calls (`entries`, sorted by
/// number) with their deciding rules written to `rules`, and the gaps between them, which get
/// the default. Neighbours always decide differently.
const NumberLine = struct {
    rules: [limits.calls]u16 = undefined,
    rules_len: u32 = 0,
    ranges: [limits.ranges]Range = undefined,
    ranges_len: u32 = 0,

    fn split(s: *NumberLine, f: *const Filter, entries: []const Entry) []Range {
        assert(entries.len <= s.rules.len);
        s.* = .{};
        var next: u32 = 0; // the first number not yet in a range
        var i: usize = 0;
        while (i < entries.len) {
            const nr = entries[i].nr;
            assert(nr >= next);
            const first = s.rules_len;
            while (i < entries.len and entries[i].nr == nr) : (i += 1) {
                if (s.rules_len > first and s.rules[s.rules_len - 1] == entries[i].rule) continue;
                assert(s.rules_len < s.rules.len);
                s.rules[s.rules_len] = entries[i].rule;
                s.rules_len += 1;
            }
            const own = deciding(f, s.rules[first..s.rules_len]);
            s.rules_len = first + @as(u32, @intCast(own.len));
            if (nr > next) s.add(.{ .start = next, .rules_at = 0, .rules_len = 0 });
            if (!s.extends(f, own)) s.add(.{ .start = nr, .rules_at = first, .rules_len = s.rules_len - first }) else s.rules_len = first;
            next = nr + 1;
        }
        s.add(.{ .start = next, .rules_at = 0, .rules_len = 0 });
        assert(s.ranges[0].start == 0);
        return s.ranges[0..s.ranges_len];
    }

    /// Whether the last range (ending at the call about to be added) decides as `own` does.
    fn extends(s: *const NumberLine, f: *const Filter, own: []const u16) bool {
        if (s.ranges_len == 0) return false;
        const last = s.ranges[s.ranges_len - 1];
        return last.rules_len > 0 and sameRules(f, s.rules[last.rules_at..][0..last.rules_len], own);
    }

    /// Appends `r`, or nothing when it is a default range after another.
    fn add(s: *NumberLine, r: Range) void {
        if (r.rules_len == 0 and s.ranges_len > 0 and s.ranges[s.ranges_len - 1].rules_len == 0) return;
        assert(s.ranges_len < limits.ranges);
        assert(s.ranges_len == 0 or s.ranges[s.ranges_len - 1].start < r.start);
        s.ranges[s.ranges_len] = r;
        s.ranges_len += 1;
    }
};

/// The section of one architecture; returns its entry (which loads the syscall number).
fn archSection(b: *Builder, f: *const Filter, which: enum { native, compat }, line: *NumberLine) !Label {
    var entries: [limits.calls]Entry = undefined;
    var n: usize = 0;
    for (f.calls[0..f.calls_len]) |call| {
        const nr = (if (which == .native) call.native else call.compat) orelse continue;
        entries[n] = .{ .nr = nr, .rule = call.rule, .rank = precedence(f.rules[call.rule].ret) };
        n += 1;
    }
    std.sort.pdq(Entry, entries[0..n], {}, entryLess);
    const ranges = line.split(f, entries[0..n]);
    for (ranges) |*r| {
        const default_ret = try b.ret(f.default_ret);
        r.at = if (r.rules_len == 0) default_ret else try ruleChain(b, f, line.rules[r.rules_at..][0..r.rules_len], default_ret);
    }
    var entry = try dispatch(b, ranges);
    // runc's -ENOSYS stub: a call newer than every call the profile names is one the profile
    // could not know, so libc gets ENOSYS and falls back (as for clone3) instead of EPERM.
    if (enosysStub(f)) if (if (which == .native) f.last_native else f.last_compat) |last| {
        entry = try b.jump(bpf.jgt, last, try b.ret(RET.ERRNO | enosys), entry);
    };
    if (which == .native and has_x32) {
        const x32_ret = try b.ret(if (f.x32) f.default_ret else bad_arch_ret);
        entry = try b.jump(bpf.jge, x32_bit, x32_ret, entry);
    }
    _ = try b.fallTo(entry);
    return b.load(offset_nr);
}

const enosys: u32 = @intFromEnum(linux.E.NOSYS);

/// runc skips the stub when unknown calls pass anyway or already get ENOSYS.
fn enosysStub(f: *const Filter) bool {
    const action = f.default_ret & RET.ACTION_FULL;
    if (action == RET.ALLOW or action == RET.LOG or action == RET.TRACE) return false;
    return f.default_ret != RET.ERRNO | enosys;
}

pub fn compile(f: *const Filter, out: *Program) error{ProgramTooLong}!void {
    var b: Builder = .{ .out = &out.insns };
    // Emitted first, so last: a classic program must end with a return.
    const bad_arch = try b.ret(bad_arch_ret);
    _ = try b.ret(f.default_ret);
    var line: NumberLine = .{};
    const compat_at: ?Label = if (compat != null and f.compat) try archSection(&b, f, .compat, &line) else null;
    const native_at = try archSection(&b, f, .native, &line);
    const other = if (compat_at) |c| try b.jump(bpf.jeq, compat.?.audit, c, bad_arch) else bad_arch;
    _ = try b.jump(bpf.jeq, native.audit, native_at, other);
    _ = try b.load(offset_arch);
    // The program was written into the tail of the buffer.
    assert(b.count > 0 and out.insns[limits.program - 1].code == bpf.ret_k);
    out.len = b.count;
    std.mem.copyForwards(Insn, out.insns[0..b.count], out.insns[limits.program - b.count ..]);
    out.flags = f.flags;
}

// ---- installing ----------------------------------------------------------------------------

/// The last step before execve (init.zig says where). seccomp(2), else prctl on kernels
/// older than 3.17 (which know no flags).
pub fn install(p: *const Program, d: *Diag) !void {
    assert(p.len > 0 and p.len <= limits.program);
    const prog: Fprog = .{ .len = @intCast(p.len), .filter = &p.insns };
    load(&prog, p.flags) catch |err| return d.fail(err, "load the seccomp filter", .{});
}

fn load(prog: *const Fprog, flags: u32) sys.Error!void {
    _ = sys.check(linux.seccomp(SECCOMP.SET_MODE_FILTER, flags, prog)) catch |err| {
        if (err != error.NOSYS or flags != 0) return err;
        _ = try sys.prctl(.SET_SECCOMP, SECCOMP.MODE.FILTER, @intFromPtr(prog), 0, 0);
    };
}

// ---- tests: the compiled program run by a small classic-BPF interpreter -------------------

const testing = std.testing;

/// Runs `prog` on one seccomp_data as the kernel would; fails the test on any instruction
/// the kernel's checker would refuse (jumps out of range, unknown opcodes).
fn interpret(prog: []const Insn, data: SECCOMP.data) !u32 {
    const bytes = std.mem.asBytes(&data);
    var a: u32 = 0;
    var pc: usize = 0;
    var steps: usize = 0;
    while (steps < prog.len) : (steps += 1) {
        try testing.expect(pc < prog.len);
        const i = prog[pc];
        pc += 1;
        switch (i.code) {
            bpf.ld_abs => {
                try testing.expect(i.k % 4 == 0 and i.k + 4 <= bytes.len);
                a = std.mem.readInt(u32, bytes[i.k..][0..4], .little);
            },
            bpf.and_k => a &= i.k,
            bpf.ja => pc += i.k,
            bpf.jeq, bpf.jgt, bpf.jge => {
                const taken = switch (i.code) {
                    bpf.jeq => a == i.k,
                    bpf.jgt => a > i.k,
                    else => a >= i.k,
                };
                pc += if (taken) i.jt else i.jf;
            },
            bpf.ret_k => return i.k,
            else => return error.UnknownOpcode,
        }
    }
    // Classic BPF only jumps forward: more steps than instructions is impossible.
    return error.NoReturn;
}

fn callData(arch: u32, nr: u32, args: [6]u64) SECCOMP.data {
    return .{
        .nr = @bitCast(nr),
        .arch = arch,
        .instruction_pointer = 0,
        .arg0 = args[0],
        .arg1 = args[1],
        .arg2 = args[2],
        .arg3 = args[3],
        .arg4 = args[4],
        .arg5 = args[5],
    };
}

const TestProfile = struct {
    raw: std.json.Parsed(Raw),
    filter: *Filter,
    program: *Program,

    fn init(json: []const u8) !TestProfile {
        const raw = try std.json.parseFromSlice(Raw, testing.allocator, json, .{ .ignore_unknown_fields = true });
        errdefer raw.deinit();
        const filter = try testing.allocator.create(Filter);
        errdefer testing.allocator.destroy(filter);
        const program = try testing.allocator.create(Program);
        errdefer testing.allocator.destroy(program);
        var d: Diag = .{};
        parse(filter, raw.value, &d) catch |err| {
            std.debug.print("{s}\n", .{d.message()});
            return err;
        };
        try compile(filter, program);
        return .{ .raw = raw, .filter = filter, .program = program };
    }

    fn deinit(t: *TestProfile) void {
        testing.allocator.destroy(t.program);
        testing.allocator.destroy(t.filter);
        t.raw.deinit();
    }

    fn run(t: *const TestProfile, name: []const u8, args: [6]u64) !u32 {
        const nr = syscallNumber(native.Table, name).?;
        return interpret(t.program.code(), callData(native.audit, nr, args));
    }
};

const eperm = RET.ERRNO | 1;
const no_args = [_]u64{0} ** 6;

test "allowlist: listed calls pass, the rest get the default errno" {
    var t = try TestProfile.init(
        \\{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64"],
        \\ "syscalls":[{"names":["read","write","exit_group","no_such_call"],"action":"SCMP_ACT_ALLOW"},
        \\ {"names":["clone3"],"action":"SCMP_ACT_ERRNO","errnoRet":38},
        \\ {"names":["reboot"],"action":"SCMP_ACT_KILL_PROCESS"},{"names":["uname"],"action":"SCMP_ACT_TRAP"},
        \\ {"names":["getpid"],"action":"SCMP_ACT_LOG"},{"names":["gettid"],"action":"SCMP_ACT_KILL"}]}
    );
    defer t.deinit();
    try testing.expectEqual(RET.ALLOW, try t.run("read", no_args));
    try testing.expectEqual(RET.ALLOW, try t.run("exit_group", no_args));
    try testing.expectEqual(eperm, try t.run("mount", no_args));
    try testing.expectEqual(RET.ERRNO | 38, try t.run("clone3", no_args));
    try testing.expectEqual(RET.KILL_PROCESS, try t.run("reboot", no_args));
    try testing.expectEqual(RET.TRAP, try t.run("uname", no_args));
    try testing.expectEqual(RET.LOG, try t.run("getpid", no_args));
    try testing.expectEqual(RET.KILL_THREAD, try t.run("gettid", no_args));
    // The unknown name was skipped, not an error.
    try testing.expectEqual(@as(usize, 8), t.filter.calls_len);
}

test "calls newer than the profile get ENOSYS, older unlisted ones the default (runc's stub)" {
    var t = try TestProfile.init(
        \\{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","openat"],"action":"SCMP_ACT_ALLOW"},
        \\ {"names":["clone3"],"action":"SCMP_ACT_ERRNO"}]}
    );
    defer t.deinit();
    const last = syscallNumber(native.Table, "clone3").?;
    try testing.expectEqual(t.filter.last_native, last);
    const code = t.program.code();
    try testing.expectEqual(RET.ALLOW, try t.run("openat", no_args));
    // Named only by a rule equal to the default: dropped, but it still counts as known.
    try testing.expectEqual(eperm, try t.run("clone3", no_args));
    try testing.expectEqual(eperm, try interpret(code, callData(native.audit, last - 1, no_args)));
    try testing.expectEqual(RET.ERRNO | enosys, try interpret(code, callData(native.audit, last + 1, no_args)));
    try testing.expectEqual(RET.ERRNO | enosys, try interpret(code, callData(native.audit, 0x3fff_ffff, no_args)));
    // An allowing default needs no stub.
    var allow = try TestProfile.init(
        \\{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO"}]}
    );
    defer allow.deinit();
    try testing.expectEqual(RET.ALLOW, try interpret(allow.program.code(), callData(native.audit, last + 1, no_args)));
}

test "names are the kernel's, where Zig's tables spell them otherwise" {
    // The tables are data: every architecture's are checked on any host.
    try testing.expectEqual(@as(?u32, 262), syscallNumber(linux.syscalls.X64, "newfstatat"));
    try testing.expectEqual(@as(?u32, null), syscallNumber(linux.syscalls.X64, "fstatat64"));
    try testing.expectEqual(@as(?u32, 156), syscallNumber(linux.syscalls.X64, "_sysctl"));
    try testing.expectEqual(@as(?u32, 140), syscallNumber(linux.syscalls.X86, "_llseek"));
    try testing.expectEqual(@as(?u32, 142), syscallNumber(linux.syscalls.X86, "_newselect"));
    try testing.expectEqual(@as(?u32, 300), syscallNumber(linux.syscalls.X86, "fstatat64"));
    try testing.expectEqual(@as(?u32, null), syscallNumber(linux.syscalls.X86, "llseek"));
    try testing.expectEqual(@as(?u32, 79), syscallNumber(linux.syscalls.Arm64, "newfstatat"));
    try testing.expectEqual(@as(?u32, null), syscallNumber(linux.syscalls.Arm64, "fstatat64"));
    try testing.expectEqual(@as(?u32, 80), syscallNumber(linux.syscalls.Arm64, "fstat"));
    try testing.expectEqual(@as(?u32, 140), syscallNumber(linux.syscalls.Arm, "_llseek"));
    try testing.expectEqual(@as(?u32, 270), syscallNumber(linux.syscalls.Arm, "arm_fadvise64_64"));
    try testing.expectEqual(@as(?u32, null), syscallNumber(linux.syscalls.Arm, "fadvise64_64"));
    try testing.expectEqual(@as(?u32, 341), syscallNumber(linux.syscalls.Arm, "arm_sync_file_range"));
    try testing.expectEqual(@as(?u32, null), syscallNumber(linux.syscalls.Arm, "sync_file_range"));
    try testing.expectEqual(@as(?u32, 327), syscallNumber(linux.syscalls.Arm, "fstatat64"));
}

test "every name of every table resolves to its own number (the sorted tables)" {
    inline for (.{ linux.syscalls.X64, linux.syscalls.X86, linux.syscalls.Arm64, linux.syscalls.Arm }) |Table| {
        for (std.enums.values(Table)) |call| {
            const name = kernelName(Table, call);
            try testing.expectEqual(@as(?u32, @intCast(@intFromEnum(call))), syscallNumber(Table, name));
        }
        try testing.expectEqual(@as(?u32, null), syscallNumber(Table, ""));
        try testing.expectEqual(@as(?u32, null), syscallNumber(Table, "zzz_no_such_call"));
        try testing.expectEqual(@as(?u32, null), syscallNumber(Table, "read_"));
    }
}

test "arm64 numbers: the asm-generic table, without the legacy calls x86_64 still has" {
    // A profile written for x86_64 (Docker's) names open, fork, stat…: skipped on arm64.
    const A = linux.syscalls.Arm64;
    for ([_]struct { []const u8, ?u32 }{
        .{ "read", 63 },       .{ "write", 64 },   .{ "openat", 56 },       .{ "close", 57 },
        .{ "clone", 220 },     .{ "execve", 221 }, .{ "mount", 40 },        .{ "pivot_root", 41 },
        .{ "ioctl", 29 },      .{ "unshare", 97 }, .{ "clone3", 435 },      .{ "openat2", 437 },
        .{ "exit_group", 94 }, .{ "open", null },  .{ "fork", null },       .{ "stat", null },
        .{ "lstat", null },    .{ "poll", null },  .{ "epoll_wait", null }, .{ "dup2", null },
    }) |want| try testing.expectEqual(want[1], syscallNumber(A, want[0]));
}

test "architectures: a foreign ABI is killed, x32 gets the default, i386 its own numbers" {
    if (builtin.cpu.arch != .x86_64) return error.SkipZigTest;
    const read_x64 = syscallNumber(linux.syscalls.X64, "read").?;
    const read_i386 = syscallNumber(linux.syscalls.X86, "read").?;
    const audit_i386 = audit.x86;
    {
        var t = try TestProfile.init(
            \\{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}
        );
        defer t.deinit();
        const code = t.program.code();
        try testing.expectEqual(RET.ALLOW, try interpret(code, callData(native.audit, read_x64, no_args)));
        try testing.expectEqual(RET.KILL_PROCESS, try interpret(code, callData(audit_i386, read_i386, no_args)));
        try testing.expectEqual(RET.KILL_PROCESS, try interpret(code, callData(native.audit, read_x64 | x32_bit, no_args)));
        try testing.expectEqual(RET.KILL_PROCESS, try interpret(code, callData(audit.aarch64, read_x64, no_args)));
    }
    {
        var t = try TestProfile.init(
            \\{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
            \\ "syscalls":[{"names":["read","socketcall"],"action":"SCMP_ACT_ALLOW"}]}
        );
        defer t.deinit();
        const code = t.program.code();
        try testing.expectEqual(RET.ALLOW, try interpret(code, callData(audit_i386, read_i386, no_args)));
        try testing.expectEqual(RET.ALLOW, try interpret(code, callData(audit_i386, syscallNumber(linux.syscalls.X86, "socketcall").?, no_args)));
        // i386's read is x86_64's write: numbers are per ABI.
        try testing.expectEqual(eperm, try interpret(code, callData(audit_i386, read_x64, no_args)));
        try testing.expectEqual(eperm, try interpret(code, callData(native.audit, read_x64 | x32_bit, no_args)));
    }
}

test "architectures on arm64: AUDIT_ARCH_AARCH64, arm (compat) its own numbers, no x32, x86_64 killed" {
    if (builtin.cpu.arch != .aarch64) return error.SkipZigTest;
    try testing.expectEqual(@as(u32, 0xC00000B7), native.audit);
    try testing.expectEqual(@as(u32, 0x40000028), compat.?.audit);
    const read_arm64 = syscallNumber(linux.syscalls.Arm64, "read").?;
    const read_arm = syscallNumber(linux.syscalls.Arm, "read").?;
    const stat_arm64 = syscallNumber(linux.syscalls.Arm64, "newfstatat").?;
    {
        // Docker's profile names x86_64-only calls (open, stat): skipped, not an error.
        var t = try TestProfile.init(
            \\{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
            \\ "syscalls":[{"names":["read","open","stat","newfstatat","fstatat64"],"action":"SCMP_ACT_ALLOW"}]}
        );
        defer t.deinit();
        const code = t.program.code();
        try testing.expectEqual(@as(usize, 2), t.filter.calls_len);
        try testing.expect(!t.filter.compat and !t.filter.x32);
        try testing.expectEqual(RET.ALLOW, try interpret(code, callData(native.audit, read_arm64, no_args)));
        try testing.expectEqual(RET.ALLOW, try interpret(code, callData(native.audit, stat_arm64, no_args)));
        try testing.expectEqual(eperm, try t.run("openat", no_args));
        try testing.expectEqual(RET.KILL_PROCESS, try interpret(code, callData(audit.x86_64, read_arm64, no_args)));
        try testing.expectEqual(RET.KILL_PROCESS, try interpret(code, callData(audit.arm, read_arm, no_args)));
        // Bit 30 means nothing on arm64: a number past the profile's last gets runc's ENOSYS.
        try testing.expectEqual(RET.ERRNO | enosys, try interpret(code, callData(native.audit, read_arm64 | x32_bit, no_args)));
    }
    {
        var t = try TestProfile.init(
            \\{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_AARCH64","SCMP_ARCH_ARM"],
            \\ "syscalls":[{"names":["read","open"],"action":"SCMP_ACT_ALLOW"}]}
        );
        defer t.deinit();
        const code = t.program.code();
        try testing.expect(t.filter.compat);
        try testing.expectEqual(RET.ALLOW, try interpret(code, callData(native.audit, read_arm64, no_args)));
        try testing.expectEqual(RET.ALLOW, try interpret(code, callData(audit.arm, read_arm, no_args)));
        // open exists on arm (5), not on arm64: allowed for the compat ABI only.
        try testing.expectEqual(RET.ALLOW, try interpret(code, callData(audit.arm, 5, no_args)));
        // Numbers are per ABI: arm's write (4) is not its read; past its open (5), ENOSYS.
        try testing.expectEqual(eperm, try interpret(code, callData(audit.arm, 4, no_args)));
        try testing.expectEqual(RET.ERRNO | enosys, try interpret(code, callData(audit.arm, read_arm64, no_args)));
        try testing.expectEqual(RET.KILL_PROCESS, try interpret(code, callData(audit.x86_64, read_arm64, no_args)));
    }
}

test "64-bit argument comparisons agree with u64 arithmetic" {
    const ops = [_][]const u8{ "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT" };
    const values = [_]u64{ 0, 1, 5, 0xffff_ffff, 0x1_0000_0000, 0x1_0000_0005, 0x2_0000_0004, 0xffff_ffff_ffff_ffff };
    var json_buf: [512]u8 = undefined;
    for (ops) |op_name| {
        for (values) |v| {
            const json = try std.fmt.bufPrint(&json_buf,
                \\{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{{"names":["ioctl"],"action":"SCMP_ACT_ERRNO","errnoRet":7,
                \\ "args":[{{"index":2,"value":{d},"op":"{s}"}}]}}]}}
            , .{ v, op_name });
            var t = try TestProfile.init(json);
            defer t.deinit();
            for (values) |arg| {
                for ([_]u64{ arg, arg +% 1, arg -% 1 }) |x| {
                    const holds = switch (opByName(op_name).?) {
                        .ne => x != v,
                        .lt => x < v,
                        .le => x <= v,
                        .eq => x == v,
                        .ge => x >= v,
                        .gt => x > v,
                        .masked_eq => unreachable,
                    };
                    const want: u32 = if (holds) RET.ERRNO | 7 else RET.ALLOW;
                    testing.expectEqual(want, try t.run("ioctl", .{ 0, 0, x, 0, 0, 0 })) catch |err| {
                        std.debug.print("{s} {x}: arg {x}\n", .{ op_name, v, x });
                        return err;
                    };
                }
            }
        }
    }
}

test "Docker's clone rule: masked_eq on the namespace flags; conditions AND, rules OR" {
    var t = try TestProfile.init(
        \\{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
        \\ {"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]},
        \\ {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":12,"op":"SCMP_CMP_LT"}]},
        \\ {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":16,"op":"SCMP_CMP_EQ"}]},
        \\ {"names":["mmap"],"action":"SCMP_ACT_ALLOW","args":[{"index":2,"value":4,"op":"SCMP_CMP_NE"},{"index":3,"value":1,"op":"SCMP_CMP_EQ"}]},
        \\ {"names":["kill"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":9,"op":"SCMP_CMP_EQ"},{"index":1,"value":15,"op":"SCMP_CMP_EQ"}]}]}
    );
    defer t.deinit();
    const sigchld = 17;
    try testing.expectEqual(RET.ALLOW, try t.run("clone", .{ sigchld | linux.CLONE.VM | linux.CLONE.THREAD, 0, 0, 0, 0, 0 }));
    try testing.expectEqual(eperm, try t.run("clone", .{ sigchld | linux.CLONE.NEWUSER, 0, 0, 0, 0, 0 }));
    try testing.expectEqual(eperm, try t.run("clone", .{ sigchld | linux.CLONE.NEWNS, 0, 0, 0, 0, 0 }));
    try testing.expectEqual(eperm, try t.run("clone", .{ 0x1_0000_0000 | linux.CLONE.NEWNET, 0, 0, 0, 0, 0 }));
    try testing.expectEqual(RET.ALLOW, try t.run("socket", .{ 2, 1, 0, 0, 0, 0 }));
    try testing.expectEqual(RET.ALLOW, try t.run("socket", .{ 16, 3, 0, 0, 0, 0 }));
    try testing.expectEqual(eperm, try t.run("socket", .{ 40, 1, 0, 0, 0, 0 }));
    try testing.expectEqual(eperm, try t.run("socket", .{ 0x1_0000_0002, 1, 0, 0, 0, 0 }));
    try testing.expectEqual(RET.ALLOW, try t.run("mmap", .{ 0, 0, 3, 1, 0, 0 }));
    try testing.expectEqual(eperm, try t.run("mmap", .{ 0, 0, 4, 1, 0, 0 }));
    try testing.expectEqual(eperm, try t.run("mmap", .{ 0, 0, 3, 2, 0, 0 }));
    // One argument twice: runc makes it two rules, either may match.
    try testing.expectEqual(RET.ALLOW, try t.run("kill", .{ 1, 9, 0, 0, 0, 0 }));
    try testing.expectEqual(RET.ALLOW, try t.run("kill", .{ 1, 15, 0, 0, 0, 0 }));
    try testing.expectEqual(eperm, try t.run("kill", .{ 1, 2, 0, 0, 0, 0 }));
}

test "the most restrictive matching rule wins; rules equal to the default are dropped" {
    var t = try TestProfile.init(
        \\{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
        \\ {"names":["personality"],"action":"SCMP_ACT_ALLOW"},
        \\ {"names":["personality"],"action":"SCMP_ACT_ERRNO","errnoRet":22,"args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]},
        \\ {"names":["personality"],"action":"SCMP_ACT_ERRNO"}]}
    );
    defer t.deinit();
    try testing.expectEqual(@as(usize, 2), t.filter.rules_len);
    try testing.expectEqual(RET.ERRNO | 22, try t.run("personality", .{ 8, 0, 0, 0, 0, 0 }));
    try testing.expectEqual(RET.ALLOW, try t.run("personality", .{ 0, 0, 0, 0, 0, 0 }));
}

test "every syscall with conditions: long jumps get trampolines and still land right" {
    // All x86_64 syscalls, each allowed only when arg0 == its own number: ~6 instructions a
    // call, far beyond a conditional jump's reach of 255.
    var gpa = std.heap.ArenaAllocator.init(testing.allocator);
    defer gpa.deinit();
    const arena = gpa.allocator();
    var json: std.ArrayList(u8) = .empty;
    try json.appendSlice(arena, "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":3,\"syscalls\":[");
    const all = std.enums.values(native.Table);
    for (all, 0..) |call, i| {
        if (i > 0) try json.append(arena, ',');
        try json.print(arena, "{{\"names\":[\"{s}\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{{\"index\":0,\"value\":{d},\"op\":\"SCMP_CMP_EQ\"}}]}}", .{ kernelName(native.Table, call), @intFromEnum(call) });
    }
    try json.appendSlice(arena, "]}");
    var t = try TestProfile.init(json.items);
    defer t.deinit();
    try testing.expect(t.program.len > 4 * limits.jump);
    for (all) |call| {
        const nr: u32 = @intCast(@intFromEnum(call));
        const code = t.program.code();
        try testing.expectEqual(RET.ALLOW, try interpret(code, callData(native.audit, nr, .{ nr, 0, 0, 0, 0, 0 })));
        try testing.expectEqual(RET.ERRNO | 3, try interpret(code, callData(native.audit, nr, .{ nr + 1, 0, 0, 0, 0, 0 })));
    }
    // Beyond every named call: runc's ENOSYS.
    try testing.expectEqual(RET.ERRNO | enosys, try interpret(t.program.code(), callData(native.audit, 5000, no_args)));
}

fn conditionHolds(c: Cmp, args: [6]u64) bool {
    const x = args[c.index];
    return switch (c.op) {
        .ne => x != c.value,
        .lt => x < c.value,
        .le => x <= c.value,
        .eq => x == c.value,
        .ge => x >= c.value,
        .gt => x > c.value,
        .masked_eq => x & c.value == c.value_two,
    };
}

/// The filter's decision for one call straight from its rules, without the program: the
/// most restrictive rule whose conditions all hold (the first of equals), else the default.
fn decide(f: *const Filter, which: enum { native, compat }, nr: u32, args: [6]u64) u32 {
    const last = if (which == .native) f.last_native else f.last_compat;
    if (enosysStub(f)) if (last) |l| if (nr > l) return RET.ERRNO | enosys;
    var best: ?u32 = null;
    for (f.calls[0..f.calls_len]) |call| {
        const n = (if (which == .native) call.native else call.compat) orelse continue;
        if (n != nr) continue;
        const rule = &f.rules[call.rule];
        for (rule.conditions()) |c| {
            if (!conditionHolds(c, args)) break;
        } else if (best == null or precedence(rule.ret) < precedence(best.?)) best = rule.ret;
    }
    return best orelse f.default_ret;
}

/// A random profile: runs of neighbouring calls (what ranges merge) and scattered ones,
/// actions of every kind, conditions on some of the short rules.
fn randomProfile(arena: std.mem.Allocator, rand: std.Random, values: []const u64) ![]const u8 {
    const actions = [_][]const u8{ "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_LOG" };
    const ops = [_][]const u8{ "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ" };
    const all = std.enums.values(native.Table);
    var json: std.ArrayList(u8) = .empty;
    try json.print(arena, "{{\"defaultAction\":\"{s}\",\"defaultErrnoRet\":1,", .{actions[rand.uintLessThan(usize, 3)]});
    try json.appendSlice(arena, "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_ARM\"],\"syscalls\":[");
    const rules = 5 + rand.uintLessThan(usize, 40);
    for (0..rules) |r| {
        if (r > 0) try json.append(arena, ',');
        try json.appendSlice(arena, "{\"names\":[");
        const start = rand.uintLessThan(usize, all.len);
        const run = if (rand.boolean()) 1 + rand.uintLessThan(usize, 80) else 1;
        for (start..@min(all.len, start + run), 0..) |k, i| {
            const pick = if (rand.uintLessThan(u8, 4) == 0) rand.uintLessThan(usize, all.len) else k;
            try json.print(arena, "{s}\"{s}\"", .{ if (i > 0) "," else "", kernelName(native.Table, all[pick]) });
        }
        try json.print(arena, "],\"action\":\"{s}\",\"errnoRet\":{d},\"args\":[", .{ actions[rand.uintLessThan(usize, actions.len)], 1 + rand.uintLessThan(u32, 3) });
        // Conditions on a few calls, as real profiles have them (each call's chain is its own).
        const conditions = if (run < 4 and rand.uintLessThan(u8, 2) == 0) 1 + rand.uintLessThan(usize, 2) else 0;
        for (0..conditions) |c| {
            try json.print(arena, "{s}{{\"index\":{d},\"value\":{d},\"valueTwo\":{d},\"op\":\"{s}\"}}", .{
                if (c > 0) "," else "",                       rand.uintLessThan(u32, 3),
                values[rand.uintLessThan(usize, values.len)], values[rand.uintLessThan(usize, values.len)],
                ops[rand.uintLessThan(usize, ops.len)],
            });
        }
        try json.appendSlice(arena, "]}");
    }
    try json.appendSlice(arena, "]}");
    return json.items;
}

test "random profiles: the program decides every number as the rules do, on both ABIs" {
    var prng = std.Random.DefaultPrng.init(0x5ecc0);
    const rand = prng.random();
    const values = [_]u64{ 0, 1, 2, 5, 0x7fff_ffff, 0xffff_ffff, 0x1_0000_0000, 0xffff_ffff_ffff_ffff };
    for (0..60) |_| {
        var arena_state = std.heap.ArenaAllocator.init(testing.allocator);
        defer arena_state.deinit();
        var t = try TestProfile.init(try randomProfile(arena_state.allocator(), rand, &values));
        defer t.deinit();
        const code = t.program.code();
        var nr: u32 = 0;
        while (nr < table_len + 8) : (nr += 1) {
            for (0..4) |_| {
                var args: [6]u64 = undefined;
                for (&args) |*a| a.* = values[rand.uintLessThan(usize, values.len)];
                try testing.expectEqual(decide(t.filter, .native, nr, args), try interpret(code, callData(native.audit, nr, args)));
                if (compat) |c| try testing.expectEqual(decide(t.filter, .compat, nr, args), try interpret(code, callData(c.audit, nr, args)));
            }
        }
    }
}

test "a profile beyond 4096 instructions is refused" {
    var gpa = std.heap.ArenaAllocator.init(testing.allocator);
    defer gpa.deinit();
    const arena = gpa.allocator();
    var json: std.ArrayList(u8) = .empty;
    try json.appendSlice(arena, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[");
    for (0..300) |i| {
        if (i > 0) try json.append(arena, ',');
        // Six conditions of about five instructions each: 300 rules need ~9000.
        try json.print(arena, "{{\"names\":[\"ioctl\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[", .{});
        for (0..limits.args) |a| {
            if (a > 0) try json.append(arena, ',');
            try json.print(arena, "{{\"index\":{d},\"value\":{d},\"op\":\"SCMP_CMP_GT\"}}", .{ a, i });
        }
        try json.appendSlice(arena, "]}");
    }
    try json.appendSlice(arena, "]}");
    const raw = try std.json.parseFromSlice(Raw, testing.allocator, json.items, .{});
    defer raw.deinit();
    const scratch = try testing.allocator.alloc(u8, 1 << 20);
    defer testing.allocator.free(scratch);
    var fba = std.heap.FixedBufferAllocator.init(scratch);
    const program = try testing.allocator.create(Program);
    defer testing.allocator.destroy(program);
    var d: Diag = .{};
    try testing.expectError(error.InvalidSpec, build(program, raw.value, fba.allocator(), &d));
    try testing.expect(std.mem.indexOf(u8, d.message(), "more than 4096 BPF instructions") != null);
}

test "bad profiles are clear errors" {
    const cases = [_]struct { []const u8, []const u8 }{
        .{ "{\"defaultAction\":\"SCMP_ACT_NOPE\"}", "unknown action \"SCMP_ACT_NOPE\"" },
        .{ "{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", "SCMP_ACT_NOTIFY is not supported" },
        .{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}", "argument index 6" },
        .{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_XX\"}]}]}", "unknown operator" },
        .{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_NOPE\"]}", "unsupported flag" },
    };
    for (cases) |c| {
        const raw = try std.json.parseFromSlice(Raw, testing.allocator, c[0], .{});
        defer raw.deinit();
        const f = try testing.allocator.create(Filter);
        defer testing.allocator.destroy(f);
        var d: Diag = .{};
        try testing.expectError(error.InvalidSpec, parse(f, raw.value, &d));
        try testing.expect(std.mem.indexOf(u8, d.message(), c[1]) != null);
    }
}
