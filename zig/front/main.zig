//! tsd-runc, the front of tsd's OCI runtime (docs/ARCHITECTURE.md "The OCI-runtime mode",
//! zig/CONTRACT.md "tsd-runc, the front"): a small static program that answers the verbs
//! containerd's shim, CRI-O and conmon call most, on their success paths, without starting
//! Bun (~15 ms a call): `state`, `start` (no poststart hooks), `kill` (one signal to the init;
//! `--all` of a stopped container with an empty cgroup), `delete` of a stopped container (no
//! poststop hooks), `delete --force` of a missing id, `--version`. Everything else (other
//! verbs, --debug, --help, any error or case it cannot answer exactly as the Bun side would)
//! is handed to the tsd binary with the same arguments (`tsd runtime ARGS…`, execve), so
//! error messages and --log lines have one writer: src/runtime/. The front takes the same
//! flock as the Bun side (<root>/<id>/lock) and releases it by that execve (O_CLOEXEC).
//!
//! Which tsd binary: the path `tsd runtime install DIR` writes into `target_slot` (after its
//! marker) when it writes DIR/tsd-runc; an empty slot (scripts/build.sh's dist/tsd-runc) means
//! the file `tsd` next to the front's own executable.
const std = @import("std");
const build_options = @import("build_options");
const state = @import("state.zig");
const posix = std.posix;
const linux = std.os.linux;
const assert = std.debug.assert;

const path_max = std.fs.max_path_bytes;
const args_max = 4096;
const record_max = 256 * 1024;
const config_max = 1024 * 1024;
const out_max = 512 * 1024;
const arena_max = 16 * 1024 * 1024;
/// How long `start` waits for the init to exec the process (awaitExec).
const exec_wait_ms = 2000;
/// Sub-group depth and entries per group `kill --all` looks through (cgroup.ts procsIn: 16).
const cgroup_depth_max = 16;
const cgroup_entries_max = 65536;

/// The marker src/runtime/install.ts finds in this program's bytes; the tsd binary's path
/// (NUL-terminated) follows it. Kept in .data: the marker makes the slot non-zero.
const marker = "tsd-runc-target:";
const target_max = 4096;
export var target_slot: [marker.len + target_max]u8 = (marker ++ [_]u8{0} ** target_max).*;

var record_buf: [record_max]u8 = undefined;
var config_buf: [config_max]u8 = undefined;
var out_buf: [out_max]u8 = undefined;
var arena_buf: [arena_max]u8 = undefined;

pub fn main() u8 {
    const argv = std.os.argv;
    assert(argv.len >= 1);
    if (argv.len > args_max) forward(argv);
    var spans: [args_max][]const u8 = undefined;
    for (argv[1..], 0..) |a, i| spans[i] = std.mem.span(a);
    const code = front(spans[0 .. argv.len - 1]) catch forward(argv);
    return code;
}

/// Answers the call, or an error: the Bun binary answers it then (forward).
fn front(args: []const []const u8) !u8 {
    const g = try state.parseGlobals(args);
    if (g.debug or g.help) return error.Unusual;
    if (g.version) {
        try writeAll(posix.STDOUT_FILENO, "tsd-runc version " ++ build_options.version ++ "\nspec: " ++ state.spec_version ++ "\n");
        return 0;
    }
    if (g.rest == args.len) return error.Unusual;
    var root_buf: [path_max]u8 = undefined;
    const root = g.root orelse try defaultRoot(&root_buf);
    // path.resolve normalizes lexically; the kernel would walk `..` through symlinks.
    if (root[0] != '/' or std.mem.indexOf(u8, root, "/..") != null) return error.Unusual;
    const verb = args[g.rest];
    const rest = args[g.rest + 1 ..];
    if (std.mem.eql(u8, verb, "state")) return stateVerb(root, rest);
    if (std.mem.eql(u8, verb, "start")) return startVerb(root, rest);
    if (std.mem.eql(u8, verb, "kill")) return killVerb(root, rest);
    if (std.mem.eql(u8, verb, "delete")) return deleteVerb(root, rest);
    return error.Unusual;
}

/// globals.ts defaultRoot.
fn defaultRoot(buf: []u8) ![]const u8 {
    const uid = linux.getuid();
    if (uid == 0) return "/run/tsd-runc";
    if (posix.getenv("XDG_RUNTIME_DIR")) |xdg| {
        if (xdg.len > 0) return std.fmt.bufPrint(buf, "{s}/tsd-runc", .{xdg});
    }
    return std.fmt.bufPrint(buf, "/tmp/tsd-runc-{d}", .{uid});
}

fn oneId(rest: []const []const u8) ![]const u8 {
    const a = try state.parseVerb(rest, &.{});
    if (a.count != 1 or !state.validId(a.positional[0])) return error.Unusual;
    return a.positional[0];
}

fn stateVerb(root: []const u8, rest: []const []const u8) !u8 {
    const id = try oneId(rest);
    var fba = std.heap.FixedBufferAllocator.init(&arena_buf);
    const rec = try readRecord(fba.allocator(), root, id);
    var out: state.Out = .{ .buf = &out_buf };
    try state.writeState(&out, &rec, try statusOf(root, &rec));
    // Nothing was written before: a failing write is the only error the front reports itself.
    writeAll(posix.STDOUT_FILENO, out.written()) catch return 1;
    return 0;
}

fn startVerb(root: []const u8, rest: []const []const u8) !u8 {
    const id = try oneId(rest);
    const lock = try lockContainer(root, id);
    defer posix.close(lock);
    var fba = std.heap.FixedBufferAllocator.init(&arena_buf);
    const rec = try readRecord(fba.allocator(), root, id);
    if (try statusOf(root, &rec) != .created) return error.Unusual;
    if (try bundleHooks(fba.allocator(), rec.bundle, "poststart")) return error.Unusual;
    var path_buf: [path_max]u8 = undefined;
    const fifo = try std.fmt.bufPrintZ(&path_buf, "{s}/{s}/exec.fifo", .{ root, rec.id });
    const fd = try posix.openZ(fifo, .{ .ACCMODE = .WRONLY, .NONBLOCK = true, .CLOEXEC = true }, 0);
    defer posix.close(fd);
    const n = try posix.write(fd, "0");
    if (n != 1) return error.Unusual;
    posix.unlinkZ(fifo) catch |err| if (err != error.FileNotFound) return err;
    try awaitExec(fd);
    return 0;
}

/// The init keeps its end of the fifo until its execve (close-on-exec): its going (POLLERR on
/// the write end, or the init's death) means the process runs, so a `kill` right after `start`
/// reaches it, not the init's last steps, where an unhandled signal to a namespace's init
/// is dropped. Bounded: long startContainer hooks end the wait, not the start.
fn awaitExec(fd: posix.fd_t) !void {
    var pfd = [1]posix.pollfd{.{ .fd = fd, .events = 0, .revents = 0 }};
    _ = try posix.poll(&pfd, exec_wait_ms);
}

fn killVerb(root: []const u8, rest: []const []const u8) !u8 {
    const a = try state.parseVerb(rest, &.{.{ .name = "all", .alias = "a" }});
    if (a.count < 1 or a.count > 2 or !state.validId(a.positional[0])) return error.Unusual;
    const id = a.positional[0];
    const sig = try state.parseSignal(if (a.count == 2) a.positional[1] else "TERM");
    const lock = try lockContainer(root, id);
    defer posix.close(lock);
    var fba = std.heap.FixedBufferAllocator.init(&arena_buf);
    const rec = try readRecord(fba.allocator(), root, id);
    const stopped = try statusOf(root, &rec) == .stopped;
    if (a.set[0]) {
        // containerd's `kill --all ID 9` after the init's exit: nothing left, nothing to do.
        if (stopped and try cgroupEmpty(rec.cgroup_paths)) return 0;
        return error.Unusual;
    }
    if (stopped) return error.Unusual;
    assert(rec.pid > 0 and rec.pid <= std.math.maxInt(i32));
    try posix.kill(@intCast(rec.pid), sig);
    return 0;
}

fn deleteVerb(root: []const u8, rest: []const []const u8) !u8 {
    const a = try state.parseVerb(rest, &.{.{ .name = "force", .alias = "f" }});
    if (a.count != 1 or !state.validId(a.positional[0])) return error.Unusual;
    const id = a.positional[0];
    var fba = std.heap.FixedBufferAllocator.init(&arena_buf);
    _ = readRecord(fba.allocator(), root, id) catch |err| switch (err) {
        // containerd's second delete, of the id it deleted: not an error with --force.
        error.FileNotFound, error.NotDir => return if (a.set[0]) 0 else error.Unusual,
        else => return err,
    };
    const lock = try lockContainer(root, id);
    defer posix.close(lock);
    fba.reset();
    const rec = try readRecord(fba.allocator(), root, id);
    // Running, paused or created: an error, or a kill and a wait; the Bun side's.
    if (try statusOf(root, &rec) != .stopped) return error.Unusual;
    if (try bundleHooks(fba.allocator(), rec.bundle, "poststop")) return error.Unusual;
    // delete.ts rmdirEmptyGroup: a group still busy is the driver's (Bun) to empty.
    for (rec.cgroup_paths) |dir| {
        var buf: [path_max]u8 = undefined;
        posix.rmdirZ(try std.fmt.bufPrintZ(&buf, "{s}", .{dir.string})) catch |err| if (err != error.FileNotFound) return err;
    }
    var dir_buf: [path_max]u8 = undefined;
    try std.fs.cwd().deleteTree(try std.fmt.bufPrint(&dir_buf, "{s}/{s}", .{ root, rec.id }));
    return 0;
}

/// state-dir.ts withRecord's lock: <root>/<id>/lock, the directory never made (a missing one
/// is "does not exist", Bun's to say). Released at exit or by forward's execve.
fn lockContainer(root: []const u8, id: []const u8) !posix.fd_t {
    assert(state.validId(id));
    var buf: [path_max]u8 = undefined;
    const path = try std.fmt.bufPrintZ(&buf, "{s}/{s}/lock", .{ root, id });
    const fd = try posix.openZ(path, .{ .ACCMODE = .WRONLY, .APPEND = true, .CREAT = true, .CLOEXEC = true }, 0o600);
    errdefer posix.close(fd);
    try posix.flock(fd, posix.LOCK.EX);
    return fd;
}

/// state-dir.ts readRecord: FileNotFound/NotDir when there is none (yet).
fn readRecord(arena: std.mem.Allocator, root: []const u8, id: []const u8) !state.Record {
    var buf: [path_max]u8 = undefined;
    const path = try std.fmt.bufPrintZ(&buf, "{s}/{s}/state.json", .{ root, id });
    const text = try readFile(path, &record_buf);
    const rec = try state.parseRecord(arena, text);
    // containerDir(root, rec.id) checks the id the status and delete use.
    if (!state.validId(rec.id)) return error.Unusual;
    return rec;
}

/// The whole file, or error.FileTooBig when it does not fit `buf`.
fn readFile(path: [*:0]const u8, buf: []u8) ![]u8 {
    const fd = try posix.openZ(path, .{ .ACCMODE = .RDONLY, .CLOEXEC = true }, 0);
    defer posix.close(fd);
    var len: usize = 0;
    while (len < buf.len) {
        const n = try posix.read(fd, buf[len..]);
        if (n == 0) return buf[0..len];
        len += n;
    }
    var probe: [1]u8 = undefined;
    if (try posix.read(fd, &probe) != 0) return error.FileTooBig;
    return buf[0..len];
}

/// state-dir.ts statusOf.
fn statusOf(root: []const u8, rec: *const state.Record) !state.Status {
    if (!initAlive(rec)) return .stopped;
    var buf: [path_max]u8 = undefined;
    const fifo = try std.fmt.bufPrintZ(&buf, "{s}/{s}/exec.fifo", .{ root, rec.id });
    if (exists(fifo)) return .created;
    if (try frozen(rec.cgroup_paths)) return .paused;
    return .running;
}

fn exists(path: [*:0]const u8) bool {
    _ = posix.fstatatZ(posix.AT.FDCWD, path, 0) catch return false;
    return true;
}

fn initAlive(rec: *const state.Record) bool {
    if (rec.pid <= 0 or rec.pid > std.math.maxInt(i32)) return false;
    var path_buf: [32]u8 = undefined;
    const path = std.fmt.bufPrintZ(&path_buf, "/proc/{d}/stat", .{rec.pid}) catch unreachable;
    var buf: [4096]u8 = undefined;
    const text = readFile(path, &buf) catch return false;
    return state.alive(rec, state.parseStat(text));
}

/// cgroup/frozen.ts cgroupFrozen: an unreadable file is not frozen.
fn frozen(dirs: []const std.json.Value) !bool {
    for (dirs) |d| {
        var buf: [path_max]u8 = undefined;
        var text_buf: [64]u8 = undefined;
        const freeze = try std.fmt.bufPrintZ(&buf, "{s}/cgroup.freeze", .{d.string});
        if (state.frozenText(.freeze, readFile(freeze, &text_buf) catch "")) return true;
        const v1 = try std.fmt.bufPrintZ(&buf, "{s}/freezer.state", .{d.string});
        if (state.frozenText(.freezer_state, readFile(v1, &text_buf) catch "")) return true;
    }
    return false;
}

/// start.ts bundleHooks / delete.ts poststopHooks: an unreadable config.json has none; one
/// this parser cannot read is left to Bun (error.Unusual).
fn bundleHooks(arena: std.mem.Allocator, bundle: []const u8, kind: []const u8) !bool {
    var buf: [path_max]u8 = undefined;
    const path = try std.fmt.bufPrintZ(&buf, "{s}/config.json", .{bundle});
    const text = readFile(path, &config_buf) catch |err| switch (err) {
        error.FileTooBig => return error.Unusual,
        else => return false,
    };
    return state.hasHooks(arena, text, kind);
}

/// kill.ts cgroupPids(rec).length === 0: no pid in any group or sub-group (an unreadable
/// cgroup.procs is skipped with what is below it, as cgroup.ts procsIn does).
fn cgroupEmpty(dirs: []const std.json.Value) !bool {
    for (dirs) |d| if (!try groupEmpty(d.string, 0)) return false;
    return true;
}

fn groupEmpty(dir: []const u8, depth: usize) !bool {
    assert(depth <= cgroup_depth_max);
    var buf: [path_max]u8 = undefined;
    var procs_buf: [4096]u8 = undefined;
    const procs = try std.fmt.bufPrintZ(&buf, "{s}/cgroup.procs", .{dir});
    const text = readFile(procs, &procs_buf) catch |err| switch (err) {
        error.FileTooBig => return false,
        else => return true,
    };
    var lines = std.mem.splitScalar(u8, text, '\n');
    while (lines.next()) |l| if (l.len > 0 and state.allDigits(l)) return false;
    if (depth >= cgroup_depth_max) return true;
    var d = std.fs.openDirAbsolute(dir, .{ .iterate = true }) catch return true;
    defer d.close();
    var it = d.iterate();
    var n: usize = 0;
    while (it.next() catch return true) |e| : (n += 1) {
        if (n >= cgroup_entries_max) return error.Unusual;
        if (e.kind != .directory) continue;
        const sub = try std.fmt.bufPrint(&buf, "{s}/{s}", .{ dir, e.name });
        if (!try groupEmpty(sub, depth + 1)) return false;
    }
    return true;
}

fn writeAll(fd: posix.fd_t, bytes: []const u8) !void {
    var off: usize = 0;
    while (off < bytes.len) off += try posix.write(fd, bytes[off..]);
}

/// The tsd binary's path: the slot's, else `tsd` next to this executable.
fn target(buf: *[path_max:0]u8) ![:0]const u8 {
    const slot: *volatile [marker.len + target_max]u8 = &target_slot;
    var len: usize = 0;
    while (len < target_max - 1 and slot[marker.len + len] != 0) : (len += 1) buf[len] = slot[marker.len + len];
    if (len > 0) {
        buf[len] = 0;
        return buf[0..len :0];
    }
    var exe_buf: [path_max]u8 = undefined;
    const exe = try posix.readlinkZ("/proc/self/exe", &exe_buf);
    const dir = std.fs.path.dirname(exe) orelse return error.Unusual;
    return std.fmt.bufPrintZ(buf, "{s}/tsd", .{dir});
}

/// `tsd runtime ARGS…` in place of this process (the lock, O_CLOEXEC, goes with it).
fn forward(argv: []const [*:0]const u8) noreturn {
    var path_buf: [path_max:0]u8 = undefined;
    const path = target(&path_buf) catch |err| fatal("cannot find the tsd binary next to /proc/self/exe: {s}", .{@errorName(err)});
    if (argv.len > args_max) fatal("{d} arguments, more than the {d} the front takes", .{ argv.len, args_max });
    var out: [args_max + 2:null]?[*:0]const u8 = undefined;
    out[0] = path.ptr;
    out[1] = "runtime";
    for (argv[1..], 2..) |a, i| out[i] = a;
    out[argv.len + 1] = null;
    const envp: [*:null]const ?[*:0]const u8 = @ptrCast(std.os.environ.ptr);
    const err = posix.execveZ(path.ptr, &out, envp);
    fatal("cannot run the tsd binary {s}: {s} (install the runtime again: tsd runtime install DIR)", .{ path, @errorName(err) });
}

fn fatal(comptime fmt: []const u8, args: anytype) noreturn {
    var buf: [path_max + 256]u8 = undefined;
    const line = std.fmt.bufPrint(&buf, "tsd-runc: " ++ fmt ++ "\n", args) catch "tsd-runc: cannot run the tsd binary\n";
    writeAll(posix.STDERR_FILENO, line) catch {};
    posix.exit(1);
}

test {
    _ = state;
}
