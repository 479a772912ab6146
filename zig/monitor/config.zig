//! The one OCI config a monitor process runs (the container's, or an exec's process spec):
//! read into static buffers and parsed once. Static because the Spec is too big for the stack
//! and argv/envp point into its pool for the whole run; only touched pages cost memory.
const std = @import("std");
const sys = @import("linux").sys;
const runtime = @import("runtime");
const spec = runtime.spec;
const diag = runtime.diag;

pub var the_spec: spec.Spec = undefined;
var the_pool: spec.Pool = undefined;
var config_text: [spec.limits.config_bytes]u8 = undefined;
var parse_scratch: [spec.limits.parse_scratch]u8 = undefined;

/// Reads `path` (a file we wrote: symlinks refused) and parses it; relative paths in the spec
/// are taken from `base`. Fails with a message in `d` when the file is over the limit.
pub fn load(path: [:0]const u8, base: []const u8, d: *diag.Diag) !*const spec.Spec {
    const f = sys.open(path, .{ .CLOEXEC = true, .NOFOLLOW = true }, 0) catch |err| return d.fail(err, "open {s}", .{path});
    defer sys.close(f);
    var len: usize = 0;
    while (len < config_text.len) {
        const n = sys.read(f, config_text[len..]) catch |err| return d.fail(err, "read {s}", .{path});
        if (n == 0) break;
        len += n;
    }
    if (len == config_text.len) {
        d.set(diag.status_engine, "{s} is larger than {d} bytes", .{ path, config_text.len });
        return error.FBIG;
    }
    try spec.parse(&the_spec, &the_pool, base, config_text[0..len], &parse_scratch, d);
    return &the_spec;
}
