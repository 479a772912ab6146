//! The one OCI config a monitor process runs (the container's, or an exec's process spec):
//! parsed once, before anything is cloned. The Spec and its string pool are static (too big for
//! the stack; argv/envp point into the pool for the whole run; only touched pages cost memory).
//! The file's text and std.json's scratch are sized from the file and unmapped after the
//! parse: a config of a few KiB costs a few pages, one near the limit costs what it needs.
const std = @import("std");
const assert = std.debug.assert;
const linux = std.os.linux;
const sys = @import("linux").sys;
const runtime = @import("runtime");
const spec = runtime.spec;
const diag = runtime.diag;

pub var the_spec: spec.Spec = undefined;
var the_pool: spec.Pool = undefined;

/// std.json's scratch for a text of `len` bytes: the raw structs and their slices take a small
/// multiple of the text; seccomp's compiler needs its own room whatever the text.
pub fn scratchLen(len: usize) usize {
    assert(len <= spec.limits.config_bytes);
    return @max(spec.limits.parse_scratch_min, len * spec.limits.parse_scratch_factor);
}

/// Reads `path` (a file we wrote: symlinks refused) and parses it; relative paths in the spec
/// are taken from `base`. Fails with a message in `d` when the file is over the limit.
pub fn load(path: [:0]const u8, base: []const u8, d: *diag.Diag) !*const spec.Spec {
    const f = sys.open(path, .{ .CLOEXEC = true, .NOFOLLOW = true }, 0) catch |err| return d.fail(err, "open {s}", .{path});
    defer sys.close(f);
    var st: linux.Stat = undefined;
    _ = sys.check(linux.fstat(f, &st)) catch |err| return d.fail(err, "stat {s}", .{path});
    const size: usize = @intCast(st.size);
    if (size > spec.limits.config_bytes) {
        d.set(diag.status_engine, "{s} is larger than {d} bytes", .{ path, spec.limits.config_bytes });
        return error.FBIG;
    }
    // One byte more than the file: a file that grew after fstat is refused, not cut short.
    const text = mapPages(size + 1) catch |err| return d.fail(err, "read {s}", .{path});
    defer unmapPages(text);
    const len = try readAll(f, text, path, d);
    if (len > size) {
        d.set(diag.status_engine, "{s} changed while it was read", .{path});
        return error.AGAIN;
    }
    const scratch = mapPages(scratchLen(len)) catch |err| return d.fail(err, "parse {s}", .{path});
    defer unmapPages(scratch);
    try spec.parse(&the_spec, &the_pool, base, text[0..len], scratch, d);
    return &the_spec;
}

/// Fresh anonymous pages: nothing is written to them here (an Allocator's safe-mode fill would
/// touch every page of the 8 MiB scratch), so only what the parse uses costs memory.
fn mapPages(len: usize) ![]align(std.heap.page_size_min) u8 {
    assert(len > 0);
    return std.posix.mmap(null, len, std.posix.PROT.READ | std.posix.PROT.WRITE, .{ .TYPE = .PRIVATE, .ANONYMOUS = true }, -1, 0) catch error.NOMEM;
}

fn unmapPages(pages: []align(std.heap.page_size_min) u8) void {
    std.posix.munmap(pages);
}

fn readAll(f: sys.fd_t, buf: []u8, path: [:0]const u8, d: *diag.Diag) !usize {
    const got = sys.readFull(f, buf) catch |err| return d.fail(err, "read {s}", .{path});
    return got.len;
}

test "a spec at the argv and env limits loads within the scratch it is given" {
    var tmp = std.testing.tmpDir(.{});
    defer tmp.cleanup();
    const file = try tmp.dir.createFile("config.json", .{});
    var buf: [64 * 1024]u8 = undefined;
    var w = file.writer(&buf);
    const out = &w.interface;
    // 64-byte arguments and variables: 2 × 32768 × ~70 bytes, about 4.5 MiB of JSON.
    const word = "a" ** 64;
    try out.writeAll("{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"/r\"},\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]},\"process\":{\"cwd\":\"/\",\"args\":[");
    for (0..spec.limits.args) |i| try out.print("{s}\"{s}\"", .{ if (i == 0) "" else ",", word });
    try out.writeAll("],\"env\":[");
    for (0..spec.limits.env) |i| try out.print("{s}\"V{d}={s}\"", .{ if (i == 0) "" else ",", i, word });
    try out.writeAll("]}}");
    try out.flush();
    file.close();
    var dir_buf: [std.fs.max_path_bytes]u8 = undefined;
    const dir = try tmp.dir.realpath(".", &dir_buf);
    var path_buf: [std.fs.max_path_bytes]u8 = undefined;
    const path = try std.fmt.bufPrintZ(&path_buf, "{s}/config.json", .{dir});
    var d: diag.Diag = .{};
    const s = load(path, dir, &d) catch |err| {
        std.debug.print("{s}\n", .{d.message()});
        return err;
    };
    try std.testing.expectEqual(@as(usize, spec.limits.args), s.process.argc);
    try std.testing.expectEqualStrings(word, s.process.getenv("V32767").?);
}
