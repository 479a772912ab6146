//! The device cgroup of cgroup v2: an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to
//! the container's group, as runc's devicefilter and crun's ebpf.c make it. cgroup v2 has no
//! devices.allow file: without this program a container with CAP_MKNOD (Docker's default set)
//! could make and open any device of the host.
//!
//! The rules are v1's, in order (the later one wins, as lines written to devices.allow and
//! devices.deny do): the program tests them from the last to the first and answers with the
//! first that matches; none matching denies.
const std = @import("std");
const assert = std.debug.assert;
const linux = std.os.linux;
const BPF = linux.BPF;
const Insn = BPF.Insn;

pub const max_rules = 128;
/// Prologue, at most 6 instructions a rule, epilogue.
pub const max_insns = 6 + max_rules * 6 + 2;

pub const DevType = enum(u32) { all = 0, block = 1, char = 2 };

/// Access bits as the kernel's bpf_cgroup_dev_ctx carries them (BPF_DEVCG_ACC_*).
pub const acc_mknod: u32 = 1;
pub const acc_read: u32 = 2;
pub const acc_write: u32 = 4;
pub const acc_all: u32 = acc_mknod | acc_read | acc_write;

pub const any: u32 = std.math.maxInt(u32);

pub const Rule = struct {
    allow: bool,
    dev_type: DevType,
    major: u32 = any,
    minor: u32 = any,
    access: u32 = acc_all,
};

/// The rules as the CLI passes them: four u32 each (flags: bit 0 allow, bits 1-2 the type;
/// major; minor; access), `any` for a wildcard number.
pub fn decode(words: []const u32, out: []Rule) error{InvalidRule}![]Rule {
    if (words.len % 4 != 0 or words.len / 4 > out.len) return error.InvalidRule;
    const n = words.len / 4;
    for (0..n) |i| {
        const w = words[i * 4 ..][0..4];
        const t = (w[0] >> 1) & 3;
        if (t == 3 or w[0] >> 3 != 0 or w[3] & ~acc_all != 0 or w[3] == 0) return error.InvalidRule;
        out[i] = .{ .allow = w[0] & 1 != 0, .dev_type = @enumFromInt(t), .major = w[1], .minor = w[2], .access = w[3] };
    }
    return out[0..n];
}

/// Compiles `rules` into `buf`; returns the program.
pub fn compile(rules: []const Rule, buf: *[max_insns]Insn) []const Insn {
    assert(rules.len <= max_rules);
    var n: usize = 0;
    const emit = struct {
        fn f(b: *[max_insns]Insn, len: *usize, insn: Insn) void {
            assert(len.* < max_insns);
            b[len.*] = insn;
            len.* += 1;
        }
    }.f;
    // r2 = type, r3 = requested access, r4 = major, r5 = minor (struct bpf_cgroup_dev_ctx).
    emit(buf, &n, Insn.ldx(.word, .r2, .r1, 0));
    emit(buf, &n, Insn.alu_and(.r2, @as(i32, 0xffff)));
    emit(buf, &n, Insn.ldx(.word, .r3, .r1, 0));
    emit(buf, &n, Insn.rsh(.r3, @as(i32, 16)));
    emit(buf, &n, Insn.ldx(.word, .r4, .r1, 4));
    emit(buf, &n, Insn.ldx(.word, .r5, .r1, 8));
    var i = rules.len;
    while (i > 0) {
        i -= 1;
        const r = rules[i];
        const tests = testCount(r);
        // Each test jumps past the rest of this rule's block (its tests, then r0 and exit).
        var left: i16 = @intCast(tests + 2);
        if (r.dev_type != .all) {
            left -= 1;
            emit(buf, &n, Insn.jne(.r2, @as(i32, @intCast(@intFromEnum(r.dev_type))), left));
        }
        if (r.access & acc_all != acc_all) {
            // The request must be a subset of the rule's access: (request & ~access) == 0.
            left -= 2;
            emit(buf, &n, Insn.mov(.r1, .r3));
            emit(buf, &n, Insn.alu_and(.r1, @as(i32, @bitCast(~r.access))));
            left -= 1;
            emit(buf, &n, Insn.jne(.r1, @as(i32, 0), left));
        }
        if (r.major != any) {
            left -= 1;
            emit(buf, &n, Insn.jne(.r4, @as(i32, @bitCast(r.major)), left));
        }
        if (r.minor != any) {
            left -= 1;
            emit(buf, &n, Insn.jne(.r5, @as(i32, @bitCast(r.minor)), left));
        }
        assert(left == 2);
        emit(buf, &n, Insn.mov(.r0, @as(i32, @intFromBool(r.allow))));
        emit(buf, &n, Insn.exit());
        // A rule that matches everything ends the program: the verifier refuses code that
        // cannot be reached, and nothing after it could be.
        if (tests == 0) return buf[0..n];
    }
    emit(buf, &n, Insn.mov(.r0, @as(i32, 0)));
    emit(buf, &n, Insn.exit());
    return buf[0..n];
}

/// Instructions of a rule's tests (without its r0 and exit).
fn testCount(r: Rule) usize {
    var c: usize = 0;
    if (r.dev_type != .all) c += 1;
    if (r.access & acc_all != acc_all) c += 3;
    if (r.major != any) c += 1;
    if (r.minor != any) c += 1;
    return c;
}

pub const Error = error{ LoadFailed, AttachFailed, OpenFailed };

/// Loads the program and attaches it to the cgroup v2 directory `group` (BPF_F_ALLOW_MULTI,
/// as runc: a parent's program still applies). The attachment keeps the program alive with
/// the group; our descriptor is closed. `errno_out` gets the failing call's errno.
pub fn attach(group: [*:0]const u8, prog: []const Insn, errno_out: *linux.E) Error!void {
    const dir_rc = linux.open(group, .{ .DIRECTORY = true, .CLOEXEC = true }, 0);
    if (linux.E.init(dir_rc) != .SUCCESS) {
        errno_out.* = linux.E.init(dir_rc);
        return error.OpenFailed;
    }
    const dir: linux.fd_t = @intCast(dir_rc);
    defer _ = linux.close(dir);
    var load = std.mem.zeroes(BPF.ProgLoadAttr);
    load.prog_type = @intFromEnum(BPF.ProgType.cgroup_device);
    load.insns = @intFromPtr(prog.ptr);
    load.insn_cnt = @intCast(prog.len);
    load.license = @intFromPtr("Apache".ptr);
    var attr: BPF.Attr = .{ .prog_load = load };
    const prog_rc = linux.bpf(.prog_load, &attr, @sizeOf(BPF.ProgLoadAttr));
    if (linux.E.init(prog_rc) != .SUCCESS) {
        errno_out.* = linux.E.init(prog_rc);
        return error.LoadFailed;
    }
    const prog_fd: linux.fd_t = @intCast(prog_rc);
    defer _ = linux.close(prog_fd);
    var at = std.mem.zeroes(BPF.ProgAttachAttr);
    at.target_fd = dir;
    at.attach_bpf_fd = prog_fd;
    at.attach_type = @intFromEnum(BPF.AttachType.cgroup_device);
    at.attach_flags = BPF.F_ALLOW_MULTI;
    attr = .{ .prog_attach = at };
    const rc = linux.bpf(.prog_attach, &attr, @sizeOf(BPF.ProgAttachAttr));
    if (linux.E.init(rc) != .SUCCESS) {
        errno_out.* = linux.E.init(rc);
        return error.AttachFailed;
    }
}

const testing = std.testing;

test "the default rules compile: deny all first, checked last; every jump lands in the program" {
    const rules = [_]Rule{
        .{ .allow = false, .dev_type = .all },
        .{ .allow = true, .dev_type = .char, .access = acc_mknod },
        .{ .allow = true, .dev_type = .char, .major = 1, .minor = 3 },
        .{ .allow = true, .dev_type = .char, .major = 136 },
    };
    var buf: [max_insns]Insn = undefined;
    const prog = compile(&rules, &buf);
    // 6 prologue + (2 + 2) + (3 + 2) + (4 + 2) + deny all (0 tests + 2), which ends it.
    try testing.expectEqual(@as(usize, 6 + 4 + 5 + 6 + 2), prog.len);
    for (prog, 0..) |insn, i| {
        const class = insn.code & 0x07;
        if (class == BPF.JMP and insn.code != (BPF.JMP | BPF.EXIT)) {
            const target = @as(i64, @intCast(i)) + 1 + insn.off;
            try testing.expect(target > @as(i64, @intCast(i)) and target < prog.len);
            // Every jump lands on the first instruction of a later rule or the epilogue:
            // never inside the block it leaves.
        }
    }
    // The last two instructions: deny.
    try testing.expectEqual(@as(i32, 0), prog[prog.len - 2].imm);
}

test "decode refuses bad words" {
    var out: [4]Rule = undefined;
    const ok = try decode(&.{ 0b101, 1, 3, acc_all, 0b000, any, any, acc_all }, &out);
    try testing.expectEqual(@as(usize, 2), ok.len);
    try testing.expect(ok[0].allow and ok[0].dev_type == .char and ok[0].major == 1);
    try testing.expectError(error.InvalidRule, decode(&.{ 0b111, 1, 3, acc_all }, &out));
    try testing.expectError(error.InvalidRule, decode(&.{ 0b101, 1, 3, 8 }, &out));
    try testing.expectError(error.InvalidRule, decode(&.{ 0b101, 1, 3 }, &out));
}
