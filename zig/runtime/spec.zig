//! config.json (OCI runtime-spec 1.x) → a fixed-size `Spec`, parsed in the monitor BEFORE
//! clone: the init only reads this struct, so it never allocates. Strings are NUL-terminated
//! copies in a Pool beside the Spec; argv/envp are ready for execve.
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const Diag = @import("diag.zig").Diag;
const caps = @import("caps.zig");
const rlimits = @import("rlimits.zig");
const mounts = @import("mounts.zig");
const seccomp = @import("seccomp.zig");

/// What one spec may hold. execve(2) takes argv + envp up to a quarter of the stack rlimit
/// (2 MiB at the usual 8 MiB) with no count of its own: the counts and the pool leave room for
/// that and the rest of a spec, so whatever Docker passes to the kernel, tsd does too.
pub const limits = struct {
    pub const args = 32768;
    pub const env = 32768;
    pub const mounts = 128;
    pub const masked_paths = 64;
    pub const readonly_paths = 64;
    pub const devices = 1024;
    pub const rlimits = 16;
    pub const gids = 64;
    pub const namespaces = 8;
    pub const id_mappings = 8;
    pub const cgroup_procs = 24;
    pub const sysctls = 64;
    /// Hooks of one kind (prestart, createRuntime, …), and each hook's args and env.
    pub const hooks = 32;
    pub const hook_args = 256;
    pub const hook_env = 1024;
    /// A hook's timeout, seconds (runtime-spec: an int > 0).
    pub const hook_timeout_s = 24 * 3600;
    pub const path = 4096;
    /// All strings of one spec, NUL-terminated.
    pub const strings = 8 * 1024 * 1024;
    pub const config_bytes = 16 * 1024 * 1024;
    /// std.json's scratch while turning the text into the raw structs below: this many times
    /// the text, and at least parse_scratch_min (seccomp's compiler works in it too).
    pub const parse_scratch_factor = 6;
    pub const parse_scratch_min = 8 * 1024 * 1024;
};

pub const Str = [:0]const u8;

/// The spec's strings and argv/envp's pointer arrays, bump-allocated: only what one spec uses
/// is ever touched (the limits are the kernel's, far above what a spec needs).
pub const Pool = struct {
    buf: [limits.strings]u8 align(@alignOf(usize)) = undefined,
    used: usize = 0,

    pub const Ptr = ?[*:0]const u8;

    /// `n` pointer slots and a null after them, for execve.
    pub fn pointers(p: *Pool, n: usize) error{SpecTooLarge}![]Ptr {
        const start = std.mem.alignForward(usize, p.used, @alignOf(Ptr));
        const bytes = (n + 1) * @sizeOf(Ptr);
        if (start > p.buf.len or bytes > p.buf.len - start) return error.SpecTooLarge;
        p.used = start + bytes;
        const slots: [*]Ptr = @ptrCast(@alignCast(&p.buf[start]));
        @memset(slots[0 .. n + 1], null);
        return slots[0 .. n + 1];
    }

    pub fn dupe(p: *Pool, s: []const u8) error{ SpecTooLarge, NulInString }!Str {
        if (std.mem.indexOfScalar(u8, s, 0) != null) return error.NulInString;
        if (s.len + 1 > p.buf.len - p.used) return error.SpecTooLarge;
        const out = p.buf[p.used .. p.used + s.len + 1];
        @memcpy(out[0..s.len], s);
        out[s.len] = 0;
        p.used += s.len + 1;
        return out[0..s.len :0];
    }

    pub fn concat(p: *Pool, parts: []const []const u8) error{ SpecTooLarge, NulInString }!Str {
        const start = p.used;
        for (parts) |part| {
            if (std.mem.indexOfScalar(u8, part, 0) != null) return error.NulInString;
            if (part.len + 1 > p.buf.len - p.used) return error.SpecTooLarge;
            @memcpy(p.buf[p.used .. p.used + part.len], part);
            p.used += part.len;
        }
        p.buf[p.used] = 0;
        p.used += 1;
        return p.buf[start .. p.used - 1 :0];
    }
};

pub const Caps = struct {
    bounding: u64 = 0,
    effective: u64 = 0,
    permitted: u64 = 0,
    inheritable: u64 = 0,
    ambient: u64 = 0,
};

pub const Rlimit = struct { resource: linux.rlimit_resource, soft: u64, hard: u64 };

/// An rlimit's soft or hard value in config.json: a u64, where RLIM_INFINITY
/// (18446744073709551615) may also be written 18446744073709552000, the nearest double, which
/// is how a JavaScript writer (the CLI's JSON.stringify) prints 2^64 - 1 (CONTRACT.md).
pub const RlimitValue = struct {
    value: u64,

    pub fn jsonParse(allocator: std.mem.Allocator, source: anytype, options: std.json.ParseOptions) !RlimitValue {
        const token = try source.nextAlloc(allocator, options.allocate orelse .alloc_if_needed);
        const text = switch (token) {
            .number, .allocated_number => |t| t,
            else => return error.UnexpectedToken,
        };
        return .{ .value = parseRlimitValue(text) orelse return error.InvalidNumber };
    }
};

pub fn parseRlimitValue(text: []const u8) ?u64 {
    return std.fmt.parseInt(u64, text, 10) catch |err| switch (err) {
        error.Overflow => if (std.mem.eql(u8, text, "18446744073709552000")) std.math.maxInt(u64) else null,
        error.InvalidCharacter => null,
    };
}

test "rlimit values: RLIM_INFINITY exactly or as a double prints it" {
    try std.testing.expectEqual(@as(?u64, 100), parseRlimitValue("100"));
    try std.testing.expectEqual(@as(?u64, std.math.maxInt(u64)), parseRlimitValue("18446744073709551615"));
    try std.testing.expectEqual(@as(?u64, std.math.maxInt(u64)), parseRlimitValue("18446744073709552000"));
    try std.testing.expectEqual(@as(?u64, null), parseRlimitValue("18446744073709551616"));
    try std.testing.expectEqual(@as(?u64, null), parseRlimitValue("-1"));
    try std.testing.expectEqual(@as(?u64, null), parseRlimitValue("1.5"));
}

pub const Process = struct {
    terminal: bool = false,
    /// process.consoleSize: the pty's first size (rows, columns); 0 rows: none given.
    console_rows: u16 = 0,
    console_cols: u16 = 0,
    uid: u32 = 0,
    gid: u32 = 0,
    umask: ?u32 = null,
    gids: [limits.gids]u32 = undefined,
    gids_len: usize = 0,
    /// NULL-terminated for execve.
    /// argc entries and a null (in the Pool).
    argv: []Pool.Ptr = &.{},
    argc: usize = 0,
    /// envc entries, a spare slot (user.defaultHome's HOME, else null) and a null (in the Pool).
    envp: []Pool.Ptr = &.{},
    envc: usize = 0,
    cwd: Str = "/",
    caps: ?Caps = null,
    rlimits: [limits.rlimits]Rlimit = undefined,
    rlimits_len: usize = 0,
    no_new_privileges: bool = false,
    oom_score_adj: ?i32 = null,

    pub fn arg0(p: *const Process) Str {
        assert(p.argc > 0);
        return std.mem.span(p.argv[0].?);
    }

    /// The value of `name` in the container's environment, if set.
    pub fn getenv(p: *const Process, name: []const u8) ?[]const u8 {
        for (p.envp[0..p.envc]) |entry| {
            const e = std.mem.span(entry.?);
            if (e.len > name.len and e[name.len] == '=' and std.mem.eql(u8, e[0..name.len], name)) {
                return e[name.len + 1 ..];
            }
        }
        return null;
    }
};

pub const Namespace = enum(u32) {
    mount = linux.CLONE.NEWNS,
    uts = linux.CLONE.NEWUTS,
    ipc = linux.CLONE.NEWIPC,
    pid = linux.CLONE.NEWPID,
    network = linux.CLONE.NEWNET,
    user = linux.CLONE.NEWUSER,
    cgroup = linux.CLONE.NEWCGROUP,
    time = linux.CLONE.NEWTIME,
};

pub const Join = struct { kind: Namespace, path: Str };

pub const IdMap = struct { container_id: u32, host_id: u32, size: u32 };

pub const Device = struct { path: Str, mode: u32, major: u32, minor: u32, uid: u32, gid: u32 };

pub const Sysctl = struct { path: Str, value: Str };

/// The runtime-spec's hook points, in the order they run (runc's).
pub const HookKind = enum(u3) { prestart, createRuntime, createContainer, startContainer, poststart, poststop };

/// One hook: `argv` (args, or just the path when args is empty) and `envp` are NULL-terminated
/// in the Pool, ready for execve; timeout 0: none.
pub const Hook = struct { path: Str, argv: []Pool.Ptr, envp: []Pool.Ptr, timeout_s: u32 = 0 };

pub const hook_kinds = std.meta.fields(HookKind).len;

pub const Spec = struct {
    /// Outside the struct: resetting a Spec must not write (and so map) the whole pool.
    pool: *Pool,
    bundle: Str = "",
    process: Process = .{},
    root_path: Str = "",
    root_readonly: bool = false,
    hostname: ?Str = null,
    domainname: ?Str = null,
    mounts: [limits.mounts]mounts.Mount = undefined,
    mounts_len: usize = 0,
    /// io.tsd.rootfs.overlay / io.tsd.rootfs.dir (CONTRACT.md).
    overlay: ?Str = null,
    rootfs_dir: ?Str = null,
    cgroup_procs: [limits.cgroup_procs]Str = undefined,
    cgroup_procs_len: usize = 0,
    /// Namespaces to create, as CLONE_NEW* flags (cgroup is unshared later, not cloned).
    new_namespaces: u32 = 0,
    joins: [limits.namespaces]Join = undefined,
    joins_len: usize = 0,
    uid_mappings: [limits.id_mappings]IdMap = undefined,
    uid_mappings_len: usize = 0,
    gid_mappings: [limits.id_mappings]IdMap = undefined,
    gid_mappings_len: usize = 0,
    devices: [limits.devices]Device = undefined,
    devices_len: usize = 0,
    masked_paths: [limits.masked_paths]Str = undefined,
    masked_paths_len: usize = 0,
    readonly_paths: [limits.readonly_paths]Str = undefined,
    readonly_paths_len: usize = 0,
    /// MS_* propagation for "/" before anything is mounted; rprivate unless the spec says.
    rootfs_propagation: u32 = linux.MS.REC | linux.MS.PRIVATE,
    sysctls: [limits.sysctls]Sysctl = undefined,
    sysctls_len: usize = 0,
    /// linux.seccomp, compiled before clone (seccomp.zig); empty without one.
    seccomp: seccomp.Program = .{},
    /// `hooks` by kind; only prestart, createRuntime, createContainer and startContainer run
    /// in Zig (hooks.zig), poststart and poststop in the CLI (src/runtime/hooks.ts).
    hooks: [hook_kinds][limits.hooks]Hook = undefined,
    hooks_len: [hook_kinds]usize = .{0} ** hook_kinds,
    /// Set by the caller after the parse, not by config.json: fds 3 .. 3+preserve_fds-1 stay
    /// open across execve (runc's --preserve-fds).
    preserve_fds: u32 = 0,

    pub fn hooksOf(s: *const Spec, kind: HookKind) []const Hook {
        const k = @intFromEnum(kind);
        return s.hooks[k][0..s.hooks_len[k]];
    }

    pub fn creates(s: *const Spec, ns: Namespace) bool {
        return s.new_namespaces & @intFromEnum(ns) != 0;
    }

    pub fn joinPath(s: *const Spec, ns: Namespace) ?Str {
        for (s.joins[0..s.joins_len]) |j| if (j.kind == ns) return j.path;
        return null;
    }

    /// No mount namespace of its own (neither created nor joined): the process runs in the
    /// runtime's, chrooted into root.path, and no mount is made (init.zig `chrootRoot`).
    pub fn sharesHostMounts(s: *const Spec) bool {
        return !s.creates(.mount) and s.joinPath(.mount) == null;
    }
};

// ---- the JSON shapes we read (runtime-spec names; unknown fields ignored) ------------------

const Raw = struct {
    ociVersion: ?[]const u8 = null,
    hooks: ?RawHooks = null,
    process: ?RawProcess = null,
    root: ?struct { path: []const u8, readonly: bool = false } = null,
    hostname: ?[]const u8 = null,
    domainname: ?[]const u8 = null,
    mounts: []const RawMount = &.{},
    annotations: ?std.json.ArrayHashMap([]const u8) = null,
    linux: ?RawLinux = null,
};

const RawProcess = struct {
    terminal: bool = false,
    consoleSize: ?struct { height: u16 = 0, width: u16 = 0 } = null,
    user: struct {
        uid: u32 = 0,
        gid: u32 = 0,
        umask: ?u32 = null,
        additionalGids: []const u32 = &.{},
    } = .{},
    args: []const []const u8 = &.{},
    env: []const []const u8 = &.{},
    cwd: []const u8 = "/",
    capabilities: ?struct {
        bounding: []const []const u8 = &.{},
        effective: []const []const u8 = &.{},
        permitted: []const []const u8 = &.{},
        inheritable: []const []const u8 = &.{},
        ambient: []const []const u8 = &.{},
    } = null,
    rlimits: []const struct { type: []const u8, hard: RlimitValue, soft: RlimitValue } = &.{},
    noNewPrivileges: bool = false,
    oomScoreAdj: ?i32 = null,
};

pub const RawMount = struct {
    destination: []const u8,
    type: ?[]const u8 = null,
    source: ?[]const u8 = null,
    options: []const []const u8 = &.{},
};

const RawHook = struct {
    path: []const u8,
    args: []const []const u8 = &.{},
    env: []const []const u8 = &.{},
    timeout: ?i64 = null,
};

const RawHooks = struct {
    prestart: []const RawHook = &.{},
    createRuntime: []const RawHook = &.{},
    createContainer: []const RawHook = &.{},
    startContainer: []const RawHook = &.{},
    poststart: []const RawHook = &.{},
    poststop: []const RawHook = &.{},
};

const RawIdMap = struct { containerID: u32, hostID: u32, size: u32 };

const RawLinux = struct {
    namespaces: []const struct { type: []const u8, path: ?[]const u8 = null } = &.{},
    uidMappings: []const RawIdMap = &.{},
    gidMappings: []const RawIdMap = &.{},
    devices: []const struct {
        path: []const u8,
        type: []const u8,
        major: i64 = 0,
        minor: i64 = 0,
        fileMode: ?u32 = null,
        uid: ?u32 = null,
        gid: ?u32 = null,
    } = &.{},
    maskedPaths: []const []const u8 = &.{},
    readonlyPaths: []const []const u8 = &.{},
    rootfsPropagation: ?[]const u8 = null,
    sysctl: ?std.json.ArrayHashMap([]const u8) = null,
    seccomp: ?seccomp.Raw = null,
};

/// Parses `text` (the bytes of bundle/config.json) into `s`; its strings go into `pool`, which
/// must outlive it (argv/envp point there). `scratch` backs std.json's temporary allocations.
pub fn parse(s: *Spec, pool: *Pool, bundle: []const u8, text: []const u8, scratch: []u8, d: *Diag) !void {
    pool.used = 0;
    s.* = .{ .pool = pool };
    var fba = std.heap.FixedBufferAllocator.init(scratch);
    const raw = std.json.parseFromSliceLeaky(Raw, fba.allocator(), text, .{
        .ignore_unknown_fields = true,
        .allocate = .alloc_if_needed,
    }) catch |err| {
        d.set(125, "{s}/config.json: invalid OCI spec: {s}", .{ bundle, @errorName(err) });
        return err;
    };
    s.bundle = try str(s, bundle, d);
    if (raw.ociVersion) |v| if (!supportedVersion(v)) {
        return invalid(d, "ociVersion \"{s}\" is not supported (tsd runs 1.0.x to 1.3.x)", .{v});
    };
    try parseRoot(s, raw, d);
    const process = raw.process orelse return invalid(d, "process is missing", .{});
    try parseProcess(s, process, d);
    if (raw.hostname) |h| s.hostname = try str(s, h, d);
    if (raw.domainname) |h| s.domainname = try str(s, h, d);
    for (raw.mounts) |m| try parseMount(s, m, d);
    if (raw.annotations) |a| try parseAnnotations(s, a, d);
    if (raw.linux) |l| try parseLinux(s, l, d) else return invalid(d, "linux is missing", .{});
    // The scratch is free to use before clone: the compiled program lands in the Spec.
    if (raw.linux.?.seccomp) |sc| try seccomp.build(&s.seccomp, sc, fba.allocator(), d);
    try checkHostname(s, d);
    try checkSharedMounts(s, d);
    if (raw.hooks) |h| try parseHooks(s, h, d);
}

/// runtime-spec 1.0.x to 1.3.x (pre-releases such as "1.0.2-dev" included).
pub fn supportedVersion(v: []const u8) bool {
    if (v.len < 4 or !std.mem.startsWith(u8, v, "1.")) return false;
    if (v[2] < '0' or v[2] > '3' or v[3] != '.') return false;
    return v.len > 4 and std.ascii.isDigit(v[4]);
}

fn parseHooks(s: *Spec, raw: RawHooks, d: *Diag) !void {
    inline for (std.meta.fields(HookKind)) |f| {
        const list: []const RawHook = @field(raw, f.name);
        if (list.len > limits.hooks) return invalid(d, "more than {d} " ++ f.name ++ " hooks", .{limits.hooks});
        for (list, 0..) |h, i| s.hooks[f.value][i] = try parseHook(s, h, f.name, d);
        s.hooks_len[f.value] = list.len;
    }
}

fn parseHook(s: *Spec, raw: RawHook, comptime kind: []const u8, d: *Diag) !Hook {
    if (raw.path.len == 0 or raw.path[0] != '/') return invalid(d, kind ++ " hook path \"{s}\" is not absolute", .{raw.path});
    if (raw.args.len > limits.hook_args) return invalid(d, "a " ++ kind ++ " hook has more than {d} args", .{limits.hook_args});
    if (raw.env.len > limits.hook_env) return invalid(d, "a " ++ kind ++ " hook has more than {d} env entries", .{limits.hook_env});
    var timeout: u32 = 0;
    if (raw.timeout) |t| {
        if (t <= 0 or t > limits.hook_timeout_s) return invalid(d, kind ++ " hook timeout {d} is out of range (1 to {d} seconds)", .{ t, limits.hook_timeout_s });
        timeout = @intCast(t);
    }
    const path_str = try path(s, raw.path, d);
    const argv = try pointers(s, @max(raw.args.len, 1), d);
    if (raw.args.len == 0) argv[0] = path_str.ptr;
    for (raw.args, 0..) |a, i| argv[i] = (try str(s, a, d)).ptr;
    const envp = try pointers(s, raw.env.len, d);
    for (raw.env, 0..) |e, i| envp[i] = (try str(s, e, d)).ptr;
    return .{ .path = path_str, .argv = argv, .envp = envp, .timeout_s = timeout };
}

fn invalid(d: *Diag, comptime fmt: []const u8, args: anytype) error{InvalidSpec} {
    d.set(125, "invalid OCI spec: " ++ fmt, args);
    return error.InvalidSpec;
}

fn str(s: *Spec, text: []const u8, d: *Diag) !Str {
    return s.pool.dupe(text) catch |err| switch (err) {
        error.SpecTooLarge => invalid(d, "more than {d} bytes of strings", .{limits.strings}),
        error.NulInString => invalid(d, "a string contains a NUL byte", .{}),
    };
}

fn pointers(s: *Spec, n: usize, d: *Diag) ![]Pool.Ptr {
    return s.pool.pointers(n) catch invalid(d, "more than {d} bytes of strings", .{limits.strings});
}

fn path(s: *Spec, text: []const u8, d: *Diag) !Str {
    if (text.len == 0) return invalid(d, "an empty path", .{});
    if (text.len >= limits.path) return invalid(d, "a path longer than {d} bytes", .{limits.path});
    return str(s, text, d);
}

/// Absolute paths stay; relative ones are relative to the bundle (runtime-spec).
fn bundlePath(s: *Spec, text: []const u8, d: *Diag) !Str {
    if (text.len > 0 and text[0] == '/') return path(s, text, d);
    const joined = s.pool.concat(&.{ s.bundle, "/", text }) catch return invalid(d, "spec too large", .{});
    if (joined.len >= limits.path) return invalid(d, "a path longer than {d} bytes", .{limits.path});
    return joined;
}

fn parseRoot(s: *Spec, raw: Raw, d: *Diag) !void {
    const root = raw.root orelse return invalid(d, "root.path is missing", .{});
    s.root_path = try bundlePath(s, root.path, d);
    s.root_readonly = root.readonly;
}

fn parseProcess(s: *Spec, raw: RawProcess, d: *Diag) !void {
    const p = &s.process;
    p.terminal = raw.terminal;
    if (raw.consoleSize) |c| {
        p.console_rows = c.height;
        p.console_cols = c.width;
    }
    p.uid = raw.user.uid;
    p.gid = raw.user.gid;
    p.umask = raw.user.umask;
    if (raw.user.additionalGids.len > limits.gids) return invalid(d, "more than {d} additionalGids", .{limits.gids});
    @memcpy(p.gids[0..raw.user.additionalGids.len], raw.user.additionalGids);
    p.gids_len = raw.user.additionalGids.len;

    if (raw.args.len == 0) return invalid(d, "process.args is empty", .{});
    if (raw.args.len > limits.args) return invalid(d, "more than {d} process.args", .{limits.args});
    p.argv = try pointers(s, raw.args.len, d);
    for (raw.args, 0..) |a, i| p.argv[i] = (try str(s, a, d)).ptr;
    p.argc = raw.args.len;
    assert(p.argv[p.argc] == null);
    if (raw.args[0].len == 0) return invalid(d, "process.args[0] is empty", .{});

    if (raw.env.len > limits.env) return invalid(d, "more than {d} process.env entries", .{limits.env});
    // One spare slot before the null: HOME when the spec has none (user.defaultHome).
    p.envp = try pointers(s, raw.env.len + 1, d);
    for (raw.env, 0..) |e, i| p.envp[i] = (try str(s, e, d)).ptr;
    p.envc = raw.env.len;
    assert(p.envp[p.envc] == null and p.envp[p.envc + 1] == null);

    if (raw.cwd.len == 0 or raw.cwd[0] != '/') return invalid(d, "process.cwd must be absolute, not \"{s}\"", .{raw.cwd});
    p.cwd = try path(s, raw.cwd, d);
    if (raw.capabilities) |c| {
        p.caps = .{
            .bounding = try capSet(c.bounding, d),
            .effective = try capSet(c.effective, d),
            .permitted = try capSet(c.permitted, d),
            .inheritable = try capSet(c.inheritable, d),
            .ambient = try capSet(c.ambient, d),
        };
    }
    if (raw.rlimits.len > limits.rlimits) return invalid(d, "more than {d} rlimits", .{limits.rlimits});
    for (raw.rlimits, 0..) |r, i| {
        const resource = rlimits.byName(r.type) orelse return invalid(d, "unknown rlimit \"{s}\"", .{r.type});
        p.rlimits[i] = .{ .resource = resource, .soft = r.soft.value, .hard = r.hard.value };
    }
    p.rlimits_len = raw.rlimits.len;
    p.no_new_privileges = raw.noNewPrivileges;
    p.oom_score_adj = raw.oomScoreAdj;
}

fn capSet(names: []const []const u8, d: *Diag) !u64 {
    var set: u64 = 0;
    for (names) |name| {
        const bit = caps.byName(name) orelse return invalid(d, "unknown capability \"{s}\"", .{name});
        set |= @as(u64, 1) << bit;
    }
    return set;
}

fn parseMount(s: *Spec, raw: RawMount, d: *Diag) !void {
    if (s.mounts_len == limits.mounts) return invalid(d, "more than {d} mounts", .{limits.mounts});
    if (raw.destination.len == 0 or raw.destination[0] != '/') {
        return invalid(d, "mount destination \"{s}\" is not absolute", .{raw.destination});
    }
    var data_buf: [limits.path]u8 = undefined;
    var plan = mounts.parseOptions(raw.type orelse "", raw.options, &data_buf) catch |err| switch (err) {
        error.DataTooLong => return invalid(d, "mount options of \"{s}\" are too long", .{raw.destination}),
    };
    const m = &s.mounts[s.mounts_len];
    m.* = .{
        .destination = try path(s, raw.destination, d),
        .source = "",
        .fstype = null,
        .flags = plan.flags,
        .data = if (plan.data.len > 0) try str(s, plan.data, d) else null,
        .bind = plan.bind,
        .attr = plan.attr,
        .attr_recursive = plan.attr_recursive,
        .propagation = plan.propagation,
        .propagation_recursive = plan.propagation_recursive,
        .idmap = plan.idmap,
    };
    if (plan.idmap and !plan.bind) return invalid(d, "idmap on \"{s}\": only bind mounts can be idmapped", .{raw.destination});
    if (plan.bind) {
        const source = raw.source orelse return invalid(d, "bind mount on \"{s}\" has no source", .{raw.destination});
        m.source = try bundlePath(s, source, d);
    } else {
        m.source = try str(s, raw.source orelse raw.type orelse "none", d);
        const fstype = raw.type orelse return invalid(d, "mount on \"{s}\" has no type", .{raw.destination});
        m.fstype = try str(s, fstype, d);
    }
    plan = undefined;
    s.mounts_len += 1;
}

fn parseAnnotations(s: *Spec, a: std.json.ArrayHashMap([]const u8), d: *Diag) !void {
    if (a.map.get("io.tsd.rootfs.overlay")) |v| {
        if (v.len >= std.heap.page_size_min) return invalid(d, "io.tsd.rootfs.overlay is longer than a page", .{});
        s.overlay = try str(s, v, d);
    }
    if (a.map.get("io.tsd.rootfs.dir")) |v| s.rootfs_dir = try path(s, v, d);
    if (s.overlay != null and s.rootfs_dir == null) return invalid(d, "io.tsd.rootfs.overlay without io.tsd.rootfs.dir", .{});
    if (a.map.get("io.tsd.cgroup.procs")) |v| {
        var it = std.mem.tokenizeScalar(u8, v, ':');
        while (it.next()) |p| {
            if (s.cgroup_procs_len == limits.cgroup_procs) return invalid(d, "more than {d} cgroup.procs paths", .{limits.cgroup_procs});
            if (p[0] != '/') return invalid(d, "cgroup.procs path \"{s}\" is not absolute", .{p});
            s.cgroup_procs[s.cgroup_procs_len] = try path(s, p, d);
            s.cgroup_procs_len += 1;
        }
    }
}

fn parseLinux(s: *Spec, l: RawLinux, d: *Diag) !void {
    try parseNamespaces(s, l, d);
    try idMaps(&s.uid_mappings, &s.uid_mappings_len, l.uidMappings, d);
    try idMaps(&s.gid_mappings, &s.gid_mappings_len, l.gidMappings, d);
    if (l.devices.len > limits.devices) return invalid(d, "more than {d} devices", .{limits.devices});
    for (l.devices, 0..) |dev, i| {
        const kind: u32 = if (std.mem.eql(u8, dev.type, "c") or std.mem.eql(u8, dev.type, "u"))
            linux.S.IFCHR
        else if (std.mem.eql(u8, dev.type, "b"))
            linux.S.IFBLK
        else if (std.mem.eql(u8, dev.type, "p"))
            linux.S.IFIFO
        else
            return invalid(d, "device \"{s}\" has unknown type \"{s}\"", .{ dev.path, dev.type });
        if (dev.path.len == 0 or dev.path[0] != '/') return invalid(d, "device path \"{s}\" is not absolute", .{dev.path});
        s.devices[i] = .{
            .path = try path(s, dev.path, d),
            .mode = kind | ((dev.fileMode orelse 0o666) & 0o7777),
            .major = std.math.cast(u32, dev.major) orelse return invalid(d, "device \"{s}\": bad major", .{dev.path}),
            .minor = std.math.cast(u32, dev.minor) orelse return invalid(d, "device \"{s}\": bad minor", .{dev.path}),
            .uid = dev.uid orelse 0,
            .gid = dev.gid orelse 0,
        };
    }
    s.devices_len = l.devices.len;
    try pathList(s, &s.masked_paths, &s.masked_paths_len, l.maskedPaths, "maskedPaths", d);
    try pathList(s, &s.readonly_paths, &s.readonly_paths_len, l.readonlyPaths, "readonlyPaths", d);
    if (l.rootfsPropagation) |p| {
        s.rootfs_propagation = mounts.propagationByName(p) orelse return invalid(d, "unknown rootfsPropagation \"{s}\"", .{p});
    }
    if (l.sysctl) |sysctl| {
        if (sysctl.map.count() > limits.sysctls) return invalid(d, "more than {d} sysctls", .{limits.sysctls});
        var it = sysctl.map.iterator();
        while (it.next()) |e| {
            const key = e.key_ptr.*;
            if (key.len == 0 or std.mem.indexOf(u8, key, "..") != null or key[0] == '/' or key[0] == '.') {
                return invalid(d, "bad sysctl name \"{s}\"", .{key});
            }
            const p = s.pool.concat(&.{ "/proc/sys/", key }) catch return invalid(d, "spec too large", .{});
            // "net.ipv4.ip_forward" → net/ipv4/ip_forward; a name may already use slashes.
            for (@constCast(p)["/proc/sys/".len..]) |*c| if (c.* == '.') {
                c.* = '/';
            };
            s.sysctls[s.sysctls_len] = .{ .path = p, .value = try str(s, e.value_ptr.*, d) };
            s.sysctls_len += 1;
        }
    }
}

fn parseNamespaces(s: *Spec, l: RawLinux, d: *Diag) !void {
    for (l.namespaces) |ns| {
        const kind = std.meta.stringToEnum(Namespace, ns.type) orelse return invalid(d, "unknown namespace \"{s}\"", .{ns.type});
        if (ns.path) |p| {
            if (s.joins_len == limits.namespaces) return invalid(d, "too many namespaces", .{});
            if (s.joinPath(kind) != null) return invalid(d, "namespace \"{s}\" given twice", .{ns.type});
            s.joins[s.joins_len] = .{ .kind = kind, .path = try path(s, p, d) };
            s.joins_len += 1;
        } else {
            s.new_namespaces |= @intFromEnum(kind);
        }
    }
    for (s.joins[0..s.joins_len]) |j| {
        if (s.creates(j.kind)) return invalid(d, "namespace \"{s}\" both created and joined", .{@tagName(j.kind)});
    }
    // clone(2) reads CLONE_NEWTIME's bit as part of the exit signal; only clone3 takes it.
    if (s.creates(.time)) return invalid(d, "a new time namespace is not supported", .{});
}

/// A spec without a mount namespace (runtime-tools' linux_ns_itype; runc and crun run it):
/// what would have to be mounted in the runtime's own namespace is refused, not made there.
fn checkSharedMounts(s: *const Spec, d: *Diag) !void {
    if (!s.sharesHostMounts()) return;
    if (s.process.terminal) return invalid(d, "process.terminal needs a mount namespace (the pty is the container's devpts)", .{});
    if (s.root_readonly) return invalid(d, "root.readonly needs a mount namespace", .{});
    if (s.sysctls_len > 0) return invalid(d, "linux.sysctl needs a mount namespace (its /proc/sys)", .{});
    if (s.overlay != null) return invalid(d, "an overlay rootfs needs a mount namespace", .{});
}

/// After the namespaces: runc's rule, a hostname needs a UTS namespace (else it would rename
/// the host).
fn checkHostname(s: *const Spec, d: *Diag) !void {
    const has_uts = s.creates(.uts) or s.joinPath(.uts) != null;
    if (has_uts) return;
    if (s.hostname) |h| if (h.len > 0) return invalid(d, "hostname \"{s}\" needs a uts namespace", .{h});
    if (s.domainname) |h| if (h.len > 0) return invalid(d, "domainname \"{s}\" needs a uts namespace", .{h});
}

fn idMaps(out: []IdMap, len: *usize, raw: []const RawIdMap, d: *Diag) !void {
    if (raw.len > out.len) return invalid(d, "more than {d} id mappings", .{out.len});
    for (raw, 0..) |m, i| out[i] = .{ .container_id = m.containerID, .host_id = m.hostID, .size = m.size };
    len.* = raw.len;
}

fn pathList(s: *Spec, out: []Str, len: *usize, raw: []const []const u8, comptime what: []const u8, d: *Diag) !void {
    if (raw.len > out.len) return invalid(d, "more than {d} " ++ what, .{out.len});
    for (raw, 0..) |p, i| {
        if (p.len == 0 or p[0] != '/') return invalid(d, what ++ " entry \"{s}\" is not absolute", .{p});
        out[i] = try path(s, p, d);
    }
    len.* = raw.len;
}

const test_config =
    \\{"ociVersion":"1.2.0","process":{"terminal":false,"user":{"uid":1000,"gid":1000,"additionalGids":[10]},
    \\"args":["sh","-c","true"],"env":["PATH=/bin:/usr/bin","HOME=/"],"cwd":"/",
    \\"capabilities":{"bounding":["CAP_KILL","CAP_CHOWN"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]},
    \\"rlimits":[{"type":"RLIMIT_NOFILE","hard":1048576,"soft":1048576},{"type":"RLIMIT_CORE","hard":18446744073709552000,"soft":0}],"noNewPrivileges":true,"oomScoreAdj":0},
    \\"root":{"path":"rootfs","readonly":true},"hostname":"box",
    \\"mounts":[{"destination":"/proc","type":"proc","source":"proc","options":["nosuid","noexec","nodev"]},
    \\{"destination":"/data","type":"bind","source":"/tmp","options":["rbind","rprivate","ro"]}],
    \\"annotations":{"io.tsd.rootfs.overlay":"lowerdir=a,upperdir=b,workdir=c","io.tsd.rootfs.dir":"/r"},
    \\"linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"network","path":"/proc/1/ns/net"}],
    \\"devices":[{"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":438}],
    \\"maskedPaths":["/proc/kcore"],"readonlyPaths":["/proc/sys"],"sysctl":{"net.ipv4.ip_forward":"1"},"x":1}}
;

/// A Spec, its Pool and a parse scratch on the testing allocator (too big for a test's stack).
const TestSpec = struct {
    s: *Spec,
    pool: *Pool,
    scratch: []u8,

    fn init() !TestSpec {
        const s = try std.testing.allocator.create(Spec);
        errdefer std.testing.allocator.destroy(s);
        const pool = try std.testing.allocator.create(Pool);
        errdefer std.testing.allocator.destroy(pool);
        return .{ .s = s, .pool = pool, .scratch = try std.testing.allocator.alloc(u8, 1 << 20) };
    }

    fn deinit(t: *TestSpec) void {
        std.testing.allocator.free(t.scratch);
        std.testing.allocator.destroy(t.pool);
        std.testing.allocator.destroy(t.s);
    }
};

test "parse a spec" {
    var t = try TestSpec.init();
    defer t.deinit();
    const s = t.s;
    const pool = t.pool;
    const scratch = t.scratch;
    var d: Diag = .{};
    try parse(s, pool, "/b", test_config, scratch, &d);
    try std.testing.expectEqualStrings("/b/rootfs", s.root_path);
    try std.testing.expect(s.root_readonly);
    try std.testing.expectEqual(@as(usize, 3), s.process.argc);
    try std.testing.expect(s.process.argv[3] == null);
    try std.testing.expectEqualStrings("/bin:/usr/bin", s.process.getenv("PATH").?);
    try std.testing.expectEqual(@as(u64, 1 << 5 | 1 << 0), s.process.caps.?.bounding);
    try std.testing.expectEqual(@as(usize, 2), s.mounts_len);
    try std.testing.expect(s.mounts[1].bind);
    try std.testing.expect(s.mounts[1].attr.attr_set & 1 != 0);
    try std.testing.expect(s.creates(.pid) and !s.creates(.network));
    try std.testing.expectEqualStrings("/proc/1/ns/net", s.joinPath(.network).?);
    try std.testing.expectEqualStrings("/proc/sys/net/ipv4/ip_forward", s.sysctls[0].path);
    try std.testing.expectEqual(@as(u32, linux.S.IFCHR | 0o666), s.devices[0].mode);
    try std.testing.expectEqualStrings("box", s.hostname.?);
    try std.testing.expectEqual(@as(usize, 2), s.process.rlimits_len);
    try std.testing.expectEqual(std.math.maxInt(u64), s.process.rlimits[1].hard);
}

test "a user namespace: its maps, idmap binds; idmap on a non-bind is refused" {
    var t = try TestSpec.init();
    defer t.deinit();
    const s = t.s;
    const pool = t.pool;
    const scratch = t.scratch;
    var d: Diag = .{};
    const head = "{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"/r\"},\"mounts\":[";
    const tail = "],\"linux\":{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"mount\"}]," ++
        "\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],\"gidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":65536}]}}";
    try parse(s, pool, "/b", head ++ "{\"destination\":\"/v\",\"type\":\"bind\",\"source\":\"/s\",\"options\":[\"rbind\",\"idmap\"]}" ++ tail, scratch, &d);
    try std.testing.expect(s.creates(.user) and s.mounts[0].idmap);
    try std.testing.expectEqual(@as(u32, 200000), s.gid_mappings[0].host_id);
    try std.testing.expectError(error.InvalidSpec, parse(s, pool, "/b", head ++ "{\"destination\":\"/t\",\"type\":\"tmpfs\",\"options\":[\"idmap\"]}" ++ tail, scratch, &d));
    try std.testing.expectEqualStrings("invalid OCI spec: idmap on \"/t\": only bind mounts can be idmapped", d.message());
}

test "no mount namespace: the runtime's is shared, and what would be mounted there is refused" {
    var t = try TestSpec.init();
    defer t.deinit();
    const s = t.s;
    const pool = t.pool;
    const scratch = t.scratch;
    var d: Diag = .{};
    const ns = "\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]}}";
    try parse(s, pool, "/b", "{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"/r\"}," ++ ns, scratch, &d);
    try std.testing.expect(s.sharesHostMounts() and s.creates(.pid));
    try std.testing.expectError(error.InvalidSpec, parse(s, pool, "/b", "{\"process\":{\"terminal\":true,\"args\":[\"sh\"]},\"root\":{\"path\":\"/r\"}," ++ ns, scratch, &d));
    try std.testing.expectEqualStrings("invalid OCI spec: process.terminal needs a mount namespace (the pty is the container's devpts)", d.message());
    try std.testing.expectError(error.InvalidSpec, parse(s, pool, "/b", "{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"/r\",\"readonly\":true}," ++ ns, scratch, &d));
    try std.testing.expectEqualStrings("invalid OCI spec: root.readonly needs a mount namespace", d.message());
}

test "a missing process is a clear error" {
    const s = try std.testing.allocator.create(Spec);
    defer std.testing.allocator.destroy(s);
    const pool = try std.testing.allocator.create(Pool);
    defer std.testing.allocator.destroy(pool);
    var scratch: [4096]u8 = undefined;
    var d: Diag = .{};
    try std.testing.expectError(error.InvalidSpec, parse(s, pool, "/b", "{\"root\":{\"path\":\"/r\"}}", &scratch, &d));
    try std.testing.expectEqualStrings("invalid OCI spec: process is missing", d.message());
}

test "linux.seccomp is compiled before clone; without it there is no filter" {
    var t = try TestSpec.init();
    defer t.deinit();
    const s = t.s;
    const pool = t.pool;
    const scratch = t.scratch;
    var d: Diag = .{};
    const base = "{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"/r\"},\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]";
    try parse(s, pool, "/b", base ++ "}}", scratch, &d);
    try std.testing.expect(!s.seccomp.present());
    try parse(s, pool, "/b", base ++ ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\"]," ++
        "\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"}]}}}", scratch, &d);
    try std.testing.expect(s.seccomp.present());
    try std.testing.expectError(error.InvalidSpec, parse(s, pool, "/b", base ++ ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}}}", scratch, &d));
    try std.testing.expectEqualStrings("invalid OCI spec: linux.seccomp: SCMP_ACT_NOTIFY is not supported", d.message());
}

test "hooks and ociVersion" {
    var t = try TestSpec.init();
    defer t.deinit();
    const s = t.s;
    const pool = t.pool;
    const scratch = t.scratch;
    var d: Diag = .{};
    const base = "\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"/r\"},\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}";
    try parse(s, pool, "/b", "{\"ociVersion\":\"1.3.0\"," ++ base ++ ",\"hooks\":{\"prestart\":[{\"path\":\"/bin/a\"}]," ++
        "\"createRuntime\":[{\"path\":\"/bin/b\",\"args\":[\"b\",\"x\"],\"env\":[\"K=V\"],\"timeout\":5}],\"poststop\":[{\"path\":\"/c\"},{\"path\":\"/d\"}]}}", scratch, &d);
    try std.testing.expectEqual(@as(usize, 1), s.hooksOf(.prestart).len);
    const pre = s.hooksOf(.prestart)[0];
    try std.testing.expectEqualStrings("/bin/a", std.mem.span(pre.argv[0].?));
    try std.testing.expect(pre.argv[1] == null and pre.envp[0] == null and pre.timeout_s == 0);
    const cr = s.hooksOf(.createRuntime)[0];
    try std.testing.expectEqualStrings("x", std.mem.span(cr.argv[1].?));
    try std.testing.expectEqualStrings("K=V", std.mem.span(cr.envp[0].?));
    try std.testing.expectEqual(@as(u32, 5), cr.timeout_s);
    try std.testing.expectEqual(@as(usize, 2), s.hooksOf(.poststop).len);
    try std.testing.expectEqual(@as(usize, 0), s.hooksOf(.startContainer).len);
    try std.testing.expectError(error.InvalidSpec, parse(s, pool, "/b", "{" ++ base ++ ",\"hooks\":{\"prestart\":[{\"path\":\"rel\"}]}}", scratch, &d));
    try std.testing.expectEqualStrings("invalid OCI spec: prestart hook path \"rel\" is not absolute", d.message());
    try std.testing.expectError(error.InvalidSpec, parse(s, pool, "/b", "{" ++ base ++ ",\"hooks\":{\"poststart\":[{\"path\":\"/x\",\"timeout\":0}]}}", scratch, &d));
    try std.testing.expectError(error.InvalidSpec, parse(s, pool, "/b", "{\"ociVersion\":\"1.4.0\"," ++ base ++ "}", scratch, &d));
    try std.testing.expectEqualStrings("invalid OCI spec: ociVersion \"1.4.0\" is not supported (tsd runs 1.0.x to 1.3.x)", d.message());
    for ([_][]const u8{ "1.0.0", "1.0.2-dev", "1.1.0", "1.2.1", "1.3.0" }) |v| try std.testing.expect(supportedVersion(v));
    for ([_][]const u8{ "", "1", "1.4.0", "2.0.0", "0.9.0", "1.0", "1.x.0" }) |v| try std.testing.expect(!supportedVersion(v));
}
