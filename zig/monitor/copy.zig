//! `tsd-monitor --copy` and `--pack`: the host touches a container's files only here, never
//! by a path the container could redirect and never by running a program of the container.
//!
//!   tsd-monitor --copy out|in CONTAINER HOST ...   (`tsd cp`, CONTRACT.md)
//!   tsd-monitor --copy out|in CONTAINER --stdio ... (`tsd cp CONTAINER:PATH -`, `tsd cp - …`)
//!   tsd-monitor --pack CONTAINER|--dir DIR [--layer] [--xattrs] [--devices] [--one-filesystem]
//!
//! CONTAINER is `--pid PID --pid-start TICKS [--cgroup-procs P:P…]` (running: its mount
//! namespace is joined, so its own mounts and volumes are seen; its cgroups too, so its device
//! rules bind us) or `--overlay-dir DIR --overlay-data DATA --merged PATH [--read-only]`
//! (stopped: the overlay is mounted in a private mount namespace that dies with us).
//!
//! For `--copy` the process forks: the child enters the container and walks (out) or
//! extracts (in); the parent stays on the host and extracts (out) or walks (in); a pipe
//! carries a tar stream between them. Walking is zig/unpack/pack.zig (fd-relative, symlinks
//! packed as symlinks), extracting zig/unpack/extract.zig (openat2 RESOLVE_IN_ROOT under the
//! destination, nothing written outside it).
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;
const Message = @import("linux").message.Message;
const unpack = @import("unpack");
const pack = unpack.pack;
const extract = unpack.extract;
const finish = @import("finish.zig");
const proc = @import("proc.zig");
const cgroups = @import("cgroups.zig");
const errno = @import("linux").errno;
const Status = @import("copy_status.zig").Status;

const fd_t = linux.fd_t;

const Container = struct {
    pid: linux.pid_t = 0,
    pid_start: []const u8 = "",
    cgroup_procs: []const u8 = "",
    overlay_dir: ?[:0]const u8 = null,
    overlay_data: [:0]const u8 = "",
    merged: [:0]const u8 = "",
    read_only: bool = false,
    /// `--dir`: a plain directory of the host (an upper dir for commit).
    dir: ?[:0]const u8 = null,
};

const Args = struct {
    direction: enum { out, in, none } = .none,
    c: Container = .{},
    /// out: the container path's parent and base ("." for a directory's contents).
    container_dir: [:0]const u8 = "/",
    container_name: [:0]const u8 = ".",
    /// in: the container destination path.
    container_path: [:0]const u8 = "",
    /// out: the host directory extracted into; in: the host source's parent.
    host_dir: [:0]const u8 = "",
    /// in: the host source's base name ("." for contents).
    host_name: [:0]const u8 = ".",
    /// The copy's name at its destination ("" keeps the archive's names: contents).
    name: []const u8 = "",
    archive: bool = false,
    /// `--stdio`: out writes the tar on stdout (entries under `name`), in reads it from stdin
    /// into the existing directory `container_path`; no fork, no host directory.
    stdio: bool = false,
    /// `--source-dir`: out: the container source must be a directory (it was named with a
    /// trailing "/"); in: the host source is one, so an existing non-directory destination is
    /// an error (Docker: "cannot copy directory").
    source_dir: bool = false,
    /// `--dest-file` (out): the host destination exists and is not a directory: a directory
    /// source is an error, never a replacement of the file.
    dest_file: bool = false,
    /// `--dest-dir`: out: the host destination is missing and was named with a trailing "/":
    /// only a directory source may become it; in: the container destination must be an
    /// existing directory.
    dest_dir: bool = false,
    /// out: a source that is absent or not a directory copies nothing (a volume's copy-up).
    missing_ok: bool = false,
    uid: u32 = 0,
    gid: u32 = 0,
    pack: pack.Options = .{ .root_entry = false },
};

var msg_buf: [2048]u8 = undefined;

/// One line on stderr for the user; the status tells the CLI the failure's class.
fn fail(status: Status, comptime fmt: []const u8, args: anytype) u8 {
    assert(status != .ok);
    finish.printStderr("tsd-monitor: " ++ fmt ++ "\n", args);
    return @intFromEnum(status);
}

fn usage(comptime fmt: []const u8, args: anytype) u8 {
    return fail(.usage, fmt, args);
}

/// A Zig errno error's class (error.NOENT: not found); other errors: failed.
fn statusOf(err: anyerror) Status {
    const e = std.meta.stringToEnum(linux.E, @errorName(err)) orelse return .failed;
    return Status.ofErrno(e);
}

/// The class of a failed unpackStream (it returns -errno).
fn unpackStatus(rc: i64) Status {
    assert(rc < 0);
    return Status.ofErrno(std.enums.fromInt(linux.E, -rc));
}

fn parse(argv: []const [*:0]const u8, a: *Args) ?u8 {
    var i: usize = 1;
    while (i < argv.len) : (i += 1) {
        const k = std.mem.span(argv[i]);
        const flags = .{ "--read-only", "--archive", "--missing-ok", "--layer", "--xattrs", "--devices", "--one-filesystem", "--pack", "--stdio", "--source-dir", "--dest-file", "--dest-dir" };
        var is_flag = false;
        inline for (flags) |f| if (std.mem.eql(u8, k, f)) {
            is_flag = true;
        };
        if (is_flag) {
            if (std.mem.eql(u8, k, "--read-only")) a.c.read_only = true;
            if (std.mem.eql(u8, k, "--archive")) a.archive = true;
            if (std.mem.eql(u8, k, "--stdio")) a.stdio = true;
            if (std.mem.eql(u8, k, "--source-dir")) a.source_dir = true;
            if (std.mem.eql(u8, k, "--dest-file")) a.dest_file = true;
            if (std.mem.eql(u8, k, "--dest-dir")) a.dest_dir = true;
            if (std.mem.eql(u8, k, "--missing-ok")) a.missing_ok = true;
            if (std.mem.eql(u8, k, "--layer")) a.pack.layer = true;
            if (std.mem.eql(u8, k, "--xattrs")) a.pack.xattrs = true;
            if (std.mem.eql(u8, k, "--devices")) a.pack.devices = true;
            if (std.mem.eql(u8, k, "--one-filesystem")) a.pack.one_filesystem = true;
            continue;
        }
        if (i + 1 == argv.len) return usage("missing value for {s}", .{k});
        i += 1;
        const v = std.mem.span(argv[i]);
        if (std.mem.eql(u8, k, "--copy")) {
            a.direction = if (std.mem.eql(u8, v, "out")) .out else if (std.mem.eql(u8, v, "in")) .in else return usage("--copy takes out or in, not {s}", .{v});
        } else if (std.mem.eql(u8, k, "--pid")) {
            a.c.pid = std.fmt.parseInt(linux.pid_t, v, 10) catch return usage("--pid needs a number, not {s}", .{v});
        } else if (std.mem.eql(u8, k, "--pid-start")) {
            a.c.pid_start = v;
        } else if (std.mem.eql(u8, k, "--cgroup-procs")) {
            a.c.cgroup_procs = v;
        } else if (std.mem.eql(u8, k, "--overlay-dir")) {
            a.c.overlay_dir = v;
        } else if (std.mem.eql(u8, k, "--overlay-data")) {
            a.c.overlay_data = v;
        } else if (std.mem.eql(u8, k, "--merged")) {
            a.c.merged = v;
        } else if (std.mem.eql(u8, k, "--dir")) {
            a.c.dir = v;
        } else if (std.mem.eql(u8, k, "--container-dir")) {
            a.container_dir = v;
        } else if (std.mem.eql(u8, k, "--container-name")) {
            a.container_name = v;
        } else if (std.mem.eql(u8, k, "--container-path")) {
            a.container_path = v;
        } else if (std.mem.eql(u8, k, "--host-dir")) {
            a.host_dir = v;
        } else if (std.mem.eql(u8, k, "--host-name")) {
            a.host_name = v;
        } else if (std.mem.eql(u8, k, "--name")) {
            a.name = v;
        } else if (std.mem.eql(u8, k, "--uid")) {
            a.uid = std.fmt.parseInt(u32, v, 10) catch return usage("--uid needs a number, not {s}", .{v});
        } else if (std.mem.eql(u8, k, "--gid")) {
            a.gid = std.fmt.parseInt(u32, v, 10) catch return usage("--gid needs a number, not {s}", .{v});
        } else return usage("unknown argument {s}", .{k});
    }
    return check(a);
}

/// The combinations the arguments must make (the CLI builds them; a mismatch is its bug).
fn check(a: *const Args) ?u8 {
    const has_container = a.c.pid > 0 or a.c.overlay_dir != null or a.c.dir != null;
    if (!has_container) return usage("needs --pid, --overlay-dir or --dir", .{});
    if (a.c.pid > 0 and a.c.pid_start.len == 0) return usage("--pid needs --pid-start", .{});
    if (a.c.overlay_dir != null and (a.c.overlay_data.len == 0 or a.c.merged.len == 0)) return usage("--overlay-dir needs --overlay-data and --merged", .{});
    if (a.direction != .none and !a.stdio and a.host_dir.len == 0) return usage("--copy needs --host-dir", .{});
    if (a.stdio and a.direction == .out and (a.name.len == 0 or a.name.len > 4096)) return usage("--copy out --stdio needs --name", .{});
    if (a.direction == .in and a.container_path.len == 0) return usage("--copy in needs --container-path", .{});
    if (std.mem.indexOfScalar(u8, a.container_name, '/') != null or std.mem.indexOfScalar(u8, a.host_name, '/') != null)
        return usage("a name holds no \"/\"", .{});
    return null;
}

pub fn main(argv: []const [*:0]const u8) u8 {
    var a: Args = .{};
    if (parse(argv, &a)) |status| return status;
    // Non-dumpable before touching a container, as the monitor and the exec helper: no
    // process of it may open our /proc/PID/exe, mem or fds (CONTRACT.md).
    _ = sys.prctl(.SET_DUMPABLE, 0, 0, 0, 0) catch return fail(.failed, "prctl(PR_SET_DUMPABLE) failed", .{});
    // Dies with the CLI that started it: a `tsd export | slow-reader` killed (SIGTERM, a
    // timeout) must not leave the walk running on, blocked on the pipe, its overlay mounted.
    _ = sys.prctl(.SET_PDEATHSIG, linux.SIG.KILL, 0, 0, 0) catch return fail(.failed, "prctl(PR_SET_PDEATHSIG) failed", .{});
    // A reader that goes away is an error to report, not a signal to die of.
    var ign: linux.Sigaction = .{ .handler = .{ .handler = linux.SIG.IGN }, .mask = std.mem.zeroes(linux.sigset_t), .flags = 0 };
    _ = linux.sigaction(linux.SIG.PIPE, &ign, null);
    if (a.stdio) return switch (a.direction) {
        .none => usage("--stdio goes with --copy", .{}),
        .out => stdoutMain(&a),
        .in => stdinMain(&a),
    };
    return switch (a.direction) {
        .none => packMain(&a),
        .out, .in => copyMain(&a),
    };
}

/// `--pack`: the container's (or directory's) whole tree as a tar on stdout.
fn packMain(a: *const Args) u8 {
    const root = enterContainer(&a.c) catch |err| return fail(container_status, "{s}", .{containerError(err)});
    defer sys.close(root);
    return walk(root, ".", a.pack, 1);
}

fn walk(parent: fd_t, base: [:0]const u8, opts: pack.Options, out: fd_t) u8 {
    return walkAs(parent, base, null, opts, out);
}

/// Packs `parent/base` onto `out`; its entries named under `prefix` when given (pack.packAs).
fn walkAs(parent: fd_t, base: [:0]const u8, prefix: ?[]const u8, opts: pack.Options, out: fd_t) u8 {
    const msg: Message = .{ .buf = &msg_buf };
    var w: pack.Writer = .{ .fd = out };
    var failure: ?linux.E = null;
    pack.packTree(&w, opts, msg, parent, base, prefix, &failure) catch |err| return switch (err) {
        error.OutOfMemory => fail(.failed, "out of memory", .{}),
        error.PackFailed => fail(Status.ofErrno(failure), "{s}", .{std.mem.sliceTo(&msg_buf, 0)}),
    };
    return 0;
}

/// `--copy out --stdio`: the source as a tar on stdout, its entries under `--name` (its base
/// name, or "." for a directory's contents, as Docker names them). A reader that goes away
/// ends the walk with EPIPE (SIGPIPE is ignored), reported as "broken pipe".
fn stdoutMain(a: *const Args) u8 {
    const root = enterContainer(&a.c) catch |err| return fail(container_status, "{s}", .{containerError(err)});
    defer sys.close(root);
    const dir = resolveIn(root, a.container_dir, true) catch |err|
        return fail(statusOf(err), "no such directory in the container: \"{s}\" ({s})", .{ a.container_dir, errno.describe(err) });
    defer sys.close(dir);
    var st: linux.Stat = undefined;
    if (linux.E.init(linux.fstatat(dir, a.container_name, &st, linux.AT.SYMLINK_NOFOLLOW)) != .SUCCESS)
        return fail(.not_found, "no such file or directory in the container: \"{s}\"", .{joinedPath(a.container_dir, a.container_name, 0)});
    if (sourceProblem(a, st)) |status| return status;
    return walkAs(dir, a.container_name, a.name, .{ .root_entry = true }, 1);
}

/// `--copy in --stdio`: a tar from stdin extracted into `--container-path`, which must be an
/// existing directory (Docker's rule for `docker cp - CONTAINER:PATH`), with the containment
/// of every copy in: nothing is written outside that directory.
fn stdinMain(a: *const Args) u8 {
    const root = enterContainer(&a.c) catch |err| return fail(container_status, "{s}", .{containerError(err)});
    defer sys.close(root);
    const dest = resolveIn(root, a.container_path, true) catch
        return fail(.not_a_directory, "destination \"{s}\" must be a directory in the container", .{a.container_path});
    defer sys.close(dest);
    // The CLI's runtime may have left stdin non-blocking; the stream is ours to drain.
    unpack.clearNonblocking(0);
    const msg: Message = .{ .buf = &msg_buf };
    const opts: extract.Options = .{
        // Docker's cp: files copied into a container belong to root unless -a.
        .owner = if (a.archive) null else .{ .uid = 0, .gid = 0 },
        .xattrs = false,
        .prefix = "",
    };
    const rc = unpack.unpackStream(0, dest, opts, a.container_path, msg);
    if (rc < 0) return fail(unpackStatus(rc), "{s}", .{std.mem.sliceTo(&msg_buf, 0)});
    return 0;
}

fn copyMain(a: *const Args) u8 {
    // The host end is opened before anything else: by the caller's path, in the host's view.
    const host = sys.open(a.host_dir, .{ .PATH = true, .DIRECTORY = true, .CLOEXEC = true }, 0) catch |err|
        return fail(statusOf(err), "cannot open \"{s}\": {s}", .{ a.host_dir, errno.describe(err) });
    defer sys.close(host);
    const pipe = sys.pipe2(.{ .CLOEXEC = true }) catch return fail(.failed, "pipe failed", .{});
    // A 1 MiB pipe (F_SETPIPE_SZ) lets the walker run ahead of the extractor; the default
    // 64 KiB makes them take turns. Refused above /proc/sys/fs/pipe-max-size: keep the default.
    _ = linux.fcntl(pipe[1], 1031, 1 << 20);
    const child = sys.fork() catch {
        sys.close(pipe[0]);
        sys.close(pipe[1]);
        return fail(.failed, "fork failed", .{});
    };
    if (child == 0) {
        // The container side goes with the host side (and so with the CLI).
        _ = sys.prctl(.SET_PDEATHSIG, linux.SIG.KILL, 0, 0, 0) catch linux.exit_group(1);
        const status = containerSide(a, pipe);
        linux.exit_group(status);
    }
    var status: u8 = 0;
    if (a.direction == .out) {
        sys.close(pipe[1]);
        status = hostExtract(a, host, pipe[0]);
        sys.close(pipe[0]);
    } else {
        sys.close(pipe[0]);
        status = hostWalk(a, host, pipe[1]);
        sys.close(pipe[1]);
    }
    const waited = sys.waitpid(child, 0) catch return fail(.failed, "wait for the copy's container side failed", .{});
    const exited = linux.W.IFEXITED(waited.status);
    const code = linux.W.EXITSTATUS(waited.status);
    // The child said what went wrong on stderr; the parent's own failure is then its echo,
    // unless the child's is a broken pipe: then the parent failed first (the pipe's read end
    // went with it) and its status is the cause.
    const child_echoes = code == @intFromEnum(Status.broken_pipe) and status != 0;
    if (exited and code != 0 and !child_echoes) return code;
    if (status != 0) return status;
    if (!exited) return fail(.failed, "the copy's container side was killed", .{});
    return 0;
}

fn emptyArchive(out: fd_t) u8 {
    var w: pack.Writer = .{ .fd = out };
    w.end() catch return fail(Status.ofErrno(w.failed), "cannot write the archive", .{});
    return 0;
}

fn hostExtract(a: *const Args, host: fd_t, in: fd_t) u8 {
    const msg: Message = .{ .buf = &msg_buf };
    const opts: extract.Options = .{
        .owner = if (a.archive) null else .{ .uid = a.uid, .gid = a.gid },
        .strip_setid = !a.archive,
        .devices = false,
        .xattrs = false,
        .prefix = a.name,
    };
    const rc = unpack.unpackStream(in, host, opts, a.host_dir, msg);
    if (rc < 0) return fail(unpackStatus(rc), "{s}", .{std.mem.sliceTo(&msg_buf, 0)});
    return 0;
}

fn hostWalk(a: *const Args, host: fd_t, out: fd_t) u8 {
    return walk(host, a.host_name, .{ .root_entry = true }, out);
}

fn containerSide(a: *const Args, pipe: [2]fd_t) u8 {
    const root = enterContainer(&a.c) catch |err| return fail(container_status, "{s}", .{containerError(err)});
    defer sys.close(root);
    if (a.direction == .out) {
        sys.close(pipe[0]);
        const dir = resolveIn(root, a.container_dir, true) catch |err| {
            if (a.missing_ok) return emptyArchive(pipe[1]);
            return fail(statusOf(err), "no such directory in the container: \"{s}\" ({s})", .{ a.container_dir, errno.describe(err) });
        };
        defer sys.close(dir);
        var st: linux.Stat = undefined;
        if (linux.E.init(linux.fstatat(dir, a.container_name, &st, linux.AT.SYMLINK_NOFOLLOW)) != .SUCCESS)
            return fail(.not_found, "no such file or directory in the container: \"{s}\"", .{joinedPath(a.container_dir, a.container_name, 0)});
        if (sourceProblem(a, st)) |status| return status;
        return walk(dir, a.container_name, .{ .root_entry = true }, pipe[1]);
    }
    sys.close(pipe[1]);
    return containerExtract(a, root, pipe[0]);
}

var joined_bufs: [2][4097 * 2]u8 = undefined;

/// "DIR/NAME" for messages ("/x", not "//x"); `slot` picks one of two buffers.
fn joinedPath(dir: []const u8, name: []const u8, slot: u1) []const u8 {
    const sep: []const u8 = if (dir.len > 0 and dir[dir.len - 1] == '/') "" else "/";
    if (name.len == 0 or std.mem.eql(u8, name, ".")) return dir;
    return std.fmt.bufPrint(&joined_bufs[slot], "{s}{s}{s}", .{ dir, sep, name }) catch dir;
}

/// Docker's checks of a copy out's source against what its destination asked for.
fn sourceProblem(a: *const Args, st: linux.Stat) ?u8 {
    const is_dir = linux.S.ISDIR(st.mode);
    const where = joinedPath(a.container_dir, a.container_name, 0);
    if (a.source_dir and !is_dir) return fail(.not_a_directory, "\"{s}\" in the container is not a directory (drop the trailing \"/\" to copy it)", .{where});
    const dest = joinedPath(a.host_dir, a.name, 1);
    if (a.dest_file and is_dir) return fail(.not_a_directory, "cannot copy the directory \"{s}\" onto \"{s}\", which is not a directory", .{ where, dest });
    if (a.dest_dir and !is_dir) return fail(.not_found, "no such directory \"{s}/\" on the host: create it first, or drop the trailing \"/\"", .{dest});
    return null;
}

/// Docker's rules for the destination: an existing directory (symlinks followed, inside the
/// container's root) receives the source under its own name (or its contents); any other
/// path is the copy's new name in its parent directory.
fn containerExtract(a: *const Args, root: fd_t, in: fd_t) u8 {
    const msg: Message = .{ .buf = &msg_buf };
    var dest_dir: fd_t = -1;
    var name: []const u8 = a.name;
    if (resolveIn(root, a.container_path, true)) |fd| {
        dest_dir = fd;
    } else |_| {
        if (a.dest_dir) return fail(.not_found, "no such directory in the container: \"{s}\" (create it first, or drop the trailing \"/\")", .{a.container_path});
        const split = splitPath(a.container_path);
        const parent = resolveIn(root, split.dir, true) catch
            return fail(.not_found, "the destination directory \"{s}\" does not exist in the container", .{split.dir});
        var st: linux.Stat = undefined;
        if (a.source_dir and linux.E.init(linux.fstatat(parent, split.base, &st, linux.AT.SYMLINK_NOFOLLOW)) == .SUCCESS) {
            sys.close(parent);
            return fail(.not_a_directory, "cannot copy a directory onto \"{s}\" in the container, which is not a directory", .{a.container_path});
        }
        if (a.name.len == 0) {
            // A directory's contents to a new path: the path becomes that directory.
            defer sys.close(parent);
            sys.mkdirat(parent, split.base, 0o755) catch |err|
                return fail(statusOf(err), "cannot create \"{s}\": {s}", .{ a.container_path, errno.describe(err) });
            dest_dir = sys.openat(parent, split.base, .{ .PATH = true, .DIRECTORY = true, .NOFOLLOW = true, .CLOEXEC = true }, 0) catch |err|
                return fail(statusOf(err), "cannot open \"{s}\": {s}", .{ a.container_path, errno.describe(err) });
        } else {
            dest_dir = parent;
            name = split.base;
        }
    }
    defer sys.close(dest_dir);
    const opts: extract.Options = .{
        // Docker's cp: files copied into a container belong to root unless -a.
        .owner = if (a.archive) null else .{ .uid = 0, .gid = 0 },
        .xattrs = false,
        .prefix = name,
    };
    const rc = unpack.unpackStream(in, dest_dir, opts, a.container_path, msg);
    if (rc < 0) return fail(unpackStatus(rc), "{s}", .{std.mem.sliceTo(&msg_buf, 0)});
    return 0;
}

const Split = struct { dir: [:0]const u8, base: [:0]const u8 };
var split_buf: [4097]u8 = undefined;

/// "/a/b/c" → "/a/b" and "c"; a path ending in "/" names its last component.
fn splitPath(p: [:0]const u8) Split {
    var end = p.len;
    while (end > 1 and p[end - 1] == '/') end -= 1;
    const trimmed = p[0..end];
    const slash = std.mem.lastIndexOfScalar(u8, trimmed, '/');
    const dir_len = if (slash) |s| @max(s, 1) else 0;
    const n = @min(p.len, split_buf.len - 1);
    @memcpy(split_buf[0..n], p[0..n]);
    split_buf[n] = 0;
    split_buf[end] = 0;
    const base_start = if (slash) |s| s + 1 else 0;
    const base = split_buf[base_start..end :0];
    if (dir_len == 0) return .{ .dir = "/", .base = base };
    // The dir is copied into the tail of the buffer so both stay terminated.
    const dir = std.fmt.bufPrintZ(split_buf[end + 1 ..], "{s}", .{p[0..dir_len]}) catch unreachable;
    return .{ .dir = dir, .base = base };
}

/// `path` under `root` as if `root` were "/": ".." and symlinks (absolute ones too) stay in.
fn resolveIn(root: fd_t, path: [:0]const u8, directory: bool) !fd_t {
    const target: [:0]const u8 = if (path.len == 0) "." else path;
    const resolve = sys.RESOLVE.IN_ROOT | sys.RESOLVE.NO_MAGICLINKS;
    return sys.openat2(root, target, .{ .PATH = true, .DIRECTORY = directory, .CLOEXEC = true }, resolve);
}

const ContainerError = error{ NotRunning, Namespace, Cgroup, Mount, Root };
var container_error_buf: [512]u8 = undefined;
var container_error: []const u8 = "";
var container_status: Status = .failed;

fn containerError(err: anyerror) []const u8 {
    if (container_error.len > 0) return container_error;
    return @errorName(err);
}

fn setError(status: Status, comptime fmt: []const u8, args: anytype) void {
    container_status = status;
    container_error = std.fmt.bufPrint(&container_error_buf, fmt, args) catch container_error_buf[0..];
}

/// Enters the container's filesystem view and returns a descriptor of its root.
fn enterContainer(c: *const Container) ContainerError!fd_t {
    if (c.dir) |dir| {
        return sys.open(dir, .{ .PATH = true, .DIRECTORY = true, .CLOEXEC = true }, 0) catch |err| {
            setError(statusOf(err), "cannot open \"{s}\": {s}", .{ dir, errno.describe(err) });
            return error.Root;
        };
    }
    if (c.pid > 0) return joinRunning(c);
    return mountStopped(c);
}

fn joinRunning(c: *const Container) ContainerError!fd_t {
    var buf: [64]u8 = undefined;
    const path = std.fmt.bufPrintZ(&buf, "/proc/{d}/ns/mnt", .{c.pid}) catch unreachable;
    const ns = sys.open(path, .{ .CLOEXEC = true }, 0) catch {
        setError(.not_running, "the container is not running (its init, pid {d}, is gone)", .{c.pid});
        return error.NotRunning;
    };
    defer sys.close(ns);
    // After the open: if the pid still has its start time, the namespace is the init's.
    if (!proc.sameProcess(c.pid, c.pid_start)) {
        setError(.not_running, "the container is not running (its init, pid {d}, is gone)", .{c.pid});
        return error.NotRunning;
    }
    var it = std.mem.tokenizeScalar(u8, c.cgroup_procs, ':');
    var cg_path: [4097]u8 = undefined;
    // At most 16 groups (CONTRACT.md): one per v1 hierarchy.
    var joined: usize = 0;
    while (it.next()) |p| : (joined += 1) {
        if (joined == 16 or p.len >= cg_path.len) break;
        const z = std.fmt.bufPrintZ(&cg_path, "{s}", .{p}) catch unreachable;
        cgroups.joinOne(linux.getpid(), z) catch {
            setError(.failed, "cannot join the container's cgroup {s}", .{p});
            return error.Cgroup;
        };
    }
    const userns = try openUserns(c.pid);
    defer if (userns) |u| sys.close(u);
    if (userns) |u| sys.setns(u, linux.CLONE.NEWUSER) catch |err| {
        setError(statusOf(err), "cannot enter the container's user namespace: {s}", .{errno.describe(err)});
        return error.Namespace;
    };
    sys.setns(ns, linux.CLONE.NEWNS) catch |err| {
        setError(statusOf(err), "cannot enter the container's mount namespace: {s}", .{errno.describe(err)});
        return error.Namespace;
    };
    // In a user namespace: its root, so files are owned and listed in the container's ids (the
    // idmapped rootfs cannot store the host's root: zig/runtime/idmap.zig).
    if (userns != null) {
        sys.setresgid(0) catch |err| {
            setError(statusOf(err), "cannot become gid 0 in the container's user namespace: {s}", .{errno.describe(err)});
            return error.Namespace;
        };
        sys.setresuid(0) catch |err| {
            setError(statusOf(err), "cannot become uid 0 in the container's user namespace: {s}", .{errno.describe(err)});
            return error.Namespace;
        };
    }
    // setns into a mount namespace moves our root to the container's.
    return sys.open("/", .{ .PATH = true, .DIRECTORY = true, .CLOEXEC = true }, 0) catch {
        setError(.failed, "cannot open the container's root", .{});
        return error.Root;
    };
}

/// The init's user namespace when it is not ours (--userns), else null.
fn openUserns(pid: linux.pid_t) ContainerError!?fd_t {
    var buf: [64]u8 = undefined;
    const path = std.fmt.bufPrintZ(&buf, "/proc/{d}/ns/user", .{pid}) catch unreachable;
    const f = sys.open(path, .{ .CLOEXEC = true }, 0) catch {
        setError(.not_running, "the container is not running (its init, pid {d}, is gone)", .{pid});
        return error.NotRunning;
    };
    const theirs = sys.fstat(f) catch return f;
    const own = sys.fstatat(linux.AT.FDCWD, "/proc/self/ns/user", 0) catch return f;
    if (theirs.ino != own.ino or theirs.dev != own.dev) return f;
    sys.close(f);
    return null;
}

fn mountStopped(c: *const Container) ContainerError!fd_t {
    sys.unshare(linux.CLONE.NEWNS) catch |err| {
        setError(statusOf(err), "cannot make a private mount namespace: {s}", .{errno.describe(err)});
        return error.Mount;
    };
    // Nothing mounted from here on may reach the host's namespace.
    sys.mount(null, "/", null, linux.MS.REC | linux.MS.PRIVATE, null) catch |err| {
        setError(statusOf(err), "cannot make / private: {s}", .{errno.describe(err)});
        return error.Mount;
    };
    // Relative layer paths keep the mount data under a page (CONTRACT.md io.tsd.rootfs.dir).
    sys.chdir(c.overlay_dir.?) catch |err| {
        setError(statusOf(err), "cannot enter \"{s}\": {s}", .{ c.overlay_dir.?, errno.describe(err) });
        return error.Mount;
    };
    var flags: u32 = linux.MS.NODEV | linux.MS.NOSUID;
    if (c.read_only) flags |= linux.MS.RDONLY;
    sys.mount("overlay", c.merged, "overlay", flags, c.overlay_data) catch |err| {
        setError(statusOf(err), "cannot mount the container's filesystem: {s}", .{errno.describe(err)});
        return error.Mount;
    };
    // Our private namespace takes it along when we exit; detached at once on a failure here.
    errdefer sys.umount2(c.merged, linux.MNT.DETACH) catch {};
    return sys.open(c.merged, .{ .PATH = true, .DIRECTORY = true, .NOFOLLOW = true, .CLOEXEC = true }, 0) catch {
        setError(.failed, "cannot open the container's root", .{});
        return error.Root;
    };
}

test {
    _ = @import("copy_status.zig");
}

test "splitPath" {
    const s = splitPath("/a/b/c");
    try std.testing.expectEqualStrings("/a/b", s.dir);
    try std.testing.expectEqualStrings("c", s.base);
    const t = splitPath("/x");
    try std.testing.expectEqualStrings("/", t.dir);
    try std.testing.expectEqualStrings("x", t.base);
    const u = splitPath("rel/y/");
    try std.testing.expectEqualStrings("rel", u.dir);
    try std.testing.expectEqualStrings("y", u.base);
}
