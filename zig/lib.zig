//! libtsd: the C ABI the CLI calls through bun:ffi (src/native/ffi.ts is the only caller).
//! Every export returns a status (0 ok, negative errno-style failure) and writes a message into
//! a caller-provided buffer; none allocates memory that the caller must free.
const std = @import("std");
const build_options = @import("build_options");

pub const version: [:0]const u8 = std.fmt.comptimePrint("{s}", .{build_options.version});

export fn tsd_version() [*:0]const u8 {
    return version.ptr;
}

test {
    std.testing.refAllDecls(@This());
}
